//! What a consumer received from a producer: the remote parent and the producer's run, validated.
//!
//! `propagation::extract` fills these from a carrier; `BotanuSpanExt::set_remote_parent` makes them
//! the parent of a span. They are re-exported from [`propagation`](crate::propagation), their public
//! home.

use opentelemetry::trace::{SpanId, TraceId};

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
