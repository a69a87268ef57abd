//! What a consumer received from a producer: the remote parent and the producer's run, validated.
//!
//! `propagation::extract` fills these from a carrier; `BotanuSpanExt::set_remote_parent` makes them
//! the parent of a span. They are re-exported from [`propagation`](crate::propagation), their public
//! home.

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{SpanId, TraceContextExt, TraceId};
use opentelemetry::Context;

use super::w3c;
use crate::semconv::{self as k, propagation as p};

/// How a consumer's span relates to the producer's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunRelation {
    /// The same run continues here: same run id, workflow, event and root.
    Continue,
    /// A new run (a run span's own id) whose `botanu.parent_run_id` is the producer's run.
    Child,
    /// A new run (a run span's own id) that retries the run the message carries: a message delivered
    /// again after its run failed (a queue's redelivery, or a producer that re-published it with the
    /// failed run's context). The retry keeps that run's workflow, event, parent and root
    /// (`botanu.root_run_id`, the carried run when no root came in), names it in
    /// `botanu.retry_of_run_id`, and is attempt `botanu.attempt` + 1. The chain's root and attempt travel
    /// in full propagation mode; in lean mode the carried run is taken as a first attempt. On a span that
    /// is not a run span, this is [`Continue`](Self::Continue).
    Retry,
}

/// The run a producer sent, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundRun {
    /// Run id (a UUID, lower-cased).
    pub run_id: String,
    /// Workflow.
    pub workflow: String,
    /// Event id (full mode).
    pub event_id: Option<String>,
    /// Customer id (full mode or `x-botanu-customer-id`); honored only from trusted callers.
    pub customer_id: Option<String>,
    /// Tenant id (full mode); honored only from trusted callers.
    pub tenant_id: Option<String>,
    /// Environment of the producer (full mode).
    pub environment: Option<String>,
    /// The producer run's own parent run.
    pub parent_run_id: Option<String>,
    /// The root run (absent when it is the run itself).
    pub root_run_id: Option<String>,
    /// Attempt (1 when absent or malformed).
    pub attempt: i64,
    /// The run the producer's run retries.
    pub retry_of_run_id: Option<String>,
    /// Deadline, epoch ms (absent when malformed).
    pub deadline_ms: Option<i64>,
    /// Whether the producer cancelled the run.
    pub cancelled: bool,
}

/// The remote parent span of a `traceparent` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RemoteSpan {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// The W3C `sampled` flag.
    pub(crate) sampled: bool,
}

/// What [`extract`](crate::propagation::extract) read from a carrier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteContext {
    pub(crate) trace: Option<RemoteSpan>,
    pub(crate) trace_state: Option<String>,
    pub(crate) run: Option<InboundRun>,
    /// Other (non-botanu) baggage entries, passed on downstream.
    pub(crate) entries: Vec<(String, String)>,
}

impl RemoteContext {
    /// The remote trace id and parent span id, if a valid `traceparent` came in.
    pub fn ids(&self) -> Option<(TraceId, SpanId)> {
        self.trace.map(|t| (t.trace_id, t.span_id))
    }

    /// Whether the remote parent was sampled (W3C flag). botanu exports cost data either way.
    pub fn sampled(&self) -> bool {
        self.trace.is_some_and(|t| t.sampled)
    }

    /// The `tracestate` to pass on.
    pub fn trace_state(&self) -> Option<&str> {
        self.trace_state.as_deref()
    }

    /// The inbound run, if both a valid run id and workflow came in.
    pub fn run(&self) -> Option<&InboundRun> {
        self.run.as_ref()
    }

    /// Non-botanu baggage entries that came in.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }

    /// Whether nothing usable came in.
    pub fn is_empty(&self) -> bool {
        self.trace.is_none() && self.run.is_none() && self.entries.is_empty()
    }
}

/// Longest workflow or environment name read from a carrier.
pub(crate) const MAX_NAME: usize = 128;
const MAX_ID: usize = 256;

/// The validation every inbound context goes through, whatever carried it (headers, or an OTel
/// `Context` another propagator extracted): botanu keys checked and bounded, a run only with both a
/// valid run id and workflow (else from the `x-botanu-*` headers `fallback` reads), other members kept.
pub(crate) fn remote_context<'a>(
    trace: Option<RemoteSpan>,
    trace_state: Option<String>,
    bag: Vec<(String, String)>,
    fallback: &dyn Fn(&str) -> Option<&'a str>,
) -> RemoteContext {
    let get = |key: &str| bag.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let text = |key: &str, max| get(key).and_then(|v| w3c::valid_text(v, max));
    let run_id = get(k::RUN_ID).and_then(w3c::valid_run_id);
    let workflow = text(k::WORKFLOW, MAX_NAME);
    let run = match (run_id, workflow) {
        (Some(run_id), Some(workflow)) => Some(InboundRun {
            run_id,
            workflow,
            event_id: text(k::EVENT_ID, MAX_ID),
            customer_id: text(k::CUSTOMER_ID, MAX_ID),
            tenant_id: text(k::TENANT_ID, MAX_ID),
            environment: text(k::ENVIRONMENT, MAX_NAME),
            parent_run_id: get(k::PARENT_RUN_ID).and_then(w3c::valid_run_id),
            root_run_id: get(k::ROOT_RUN_ID).and_then(w3c::valid_run_id),
            attempt: get(k::ATTEMPT)
                .and_then(|a| a.trim().parse::<i64>().ok())
                .filter(|a| (1..=10_000).contains(a))
                .unwrap_or(1),
            retry_of_run_id: get(k::RETRY_OF_RUN_ID).and_then(w3c::valid_run_id),
            deadline_ms: get(p::DEADLINE).and_then(|d| d.trim().parse::<i64>().ok()).filter(|d| *d > 0),
            cancelled: get(p::CANCELLED).is_some_and(|c| c.trim().eq_ignore_ascii_case("true")),
        }),
        _ => {
            // HTTP fallback headers, for clients that cannot set baggage.
            let run_id = fallback(p::HEADER_RUN_ID).and_then(w3c::valid_run_id);
            let workflow = fallback(p::HEADER_WORKFLOW).and_then(|w| w3c::valid_text(w, MAX_NAME));
            match (run_id, workflow) {
                (Some(run_id), Some(workflow)) => Some(InboundRun {
                    run_id,
                    workflow,
                    customer_id: fallback(p::HEADER_CUSTOMER_ID).and_then(|c| w3c::valid_text(c, MAX_ID)),
                    attempt: 1,
                    ..InboundRun::default()
                }),
                _ => None,
            }
        }
    };
    let entries = bag.into_iter().filter(|(key, _)| !key.starts_with(k::METADATA_PREFIX)).collect();
    RemoteContext { trace, trace_state, run, entries }
}

/// What an OTel `Context` carries, read as an inbound context: its span (if valid) and its baggage,
/// through the same validation and W3C limits as a `baggage` header.
pub(crate) fn remote_from_context(cx: &Context) -> RemoteContext {
    let span = cx.span();
    let sc = span.span_context();
    let trace =
        sc.is_valid().then(|| RemoteSpan { trace_id: sc.trace_id(), span_id: sc.span_id(), sampled: sc.is_sampled() });
    let trace_state = trace.and_then(|_| w3c::sanitize_tracestate(&sc.trace_state().header()));
    // The run's keys first, so the member and byte limits never cut them.
    let mut members: Vec<(&str, &str)> =
        cx.baggage().iter().map(|(key, (value, _))| (key.as_str(), value.as_str())).collect();
    members.sort_by_key(|(key, _)| !key.starts_with(k::METADATA_PREFIX));
    let mut bag = Vec::new();
    let mut bytes = 0;
    for (key, value) in members.into_iter().take(w3c::MAX_BAGGAGE_MEMBERS) {
        let size = key.len() + value.len() + 1;
        if !w3c::is_valid_key(key) || size > w3c::MAX_MEMBER_BYTES || bytes + size > w3c::MAX_BAGGAGE_BYTES {
            continue;
        }
        bytes += size;
        bag.push((key.to_owned(), value.to_owned()));
    }
    remote_context(trace, trace_state, bag, &|_| None)
}
