//! [`BotanuPropagator`]: botanu's propagation as an OpenTelemetry `TextMapPropagator`, and the
//! conversions between an OTel `Context` and a [`RemoteContext`].
//!
//! OTel-native instrumentation injects `Context::current()` through the global propagator; with this
//! one installed (`opentelemetry::global::set_text_map_propagator(BotanuPropagator::new())`), it writes
//! what [`inject`](super::inject) writes: `traceparent`, `tracestate` and a `baggage` header with the
//! run's keys and any other members. Extraction is [`extract`](super::extract) (W3C limits, botanu keys
//! validated) turned into an OTel `Context`. botanu's own `inject_span` is this propagator's
//! `inject_context`, so both paths write the same headers.

use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor as OtelExtractor, Injector as OtelInjector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
use opentelemetry::Context;

use super::w3c::{self, TraceParent};
use super::{Carrier, CarrierMut, InboundRun, RemoteContext};
use crate::run::RUN_ENTRIES;
use crate::semconv::{self as k, propagation as p};

/// The headers this propagator reads and writes (`FieldIter` borrows a slice of `String`s).
static FIELDS: std::sync::OnceLock<[String; 3]> = std::sync::OnceLock::new();

/// W3C Trace Context plus botanu baggage, as an OpenTelemetry [`TextMapPropagator`].
///
/// - `inject_context` writes the context's span as `traceparent` / `tracestate` and its baggage (the
///   run's keys first, then the other members by name) as `baggage`, within the W3C limits.
/// - `extract_with_context` reads them as [`extract`](super::extract) does (hostile input bounded,
///   botanu keys validated, the `x-botanu-*` fallback headers) and returns the context with the remote
///   span and a `Baggage` of the validated run keys and the other members. Inbound
///   `botanu.customer_id` / `botanu.tenant_id` are kept only when the propagator trusts inbound
///   identity ([`with_trust_inbound`](Self::with_trust_inbound)); a botanu span that adopts the context
///   applies its layer's `propagation_trust_inbound` as well.
///
/// ```
/// use std::collections::HashMap;
/// use botanu::propagation::BotanuPropagator;
/// use opentelemetry::baggage::BaggageExt;
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
///
/// let mut headers = HashMap::new();
/// headers.insert("traceparent".to_owned(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned());
/// headers.insert(
///     "baggage".to_owned(),
///     "botanu.run_id=0190a234-5678-7fff-bfff-ffffffffffff,botanu.workflow=ingest,flag=on".to_owned(),
/// );
/// let cx = BotanuPropagator::new().extract(&headers);
/// assert_eq!(cx.span().span_context().span_id().to_string(), "00f067aa0ba902b7");
/// assert_eq!(cx.baggage().get("botanu.workflow").map(|v| v.as_str()), Some("ingest"));
/// assert_eq!(cx.baggage().get("flag").map(|v| v.as_str()), Some("on"));
///
/// // And back out: the same headers (trace context, the run's keys, the foreign member).
/// let mut out = HashMap::new();
/// BotanuPropagator::new().inject_context(&cx, &mut out);
/// assert_eq!(out["traceparent"], headers["traceparent"]);
/// assert_eq!(out["baggage"], headers["baggage"]);
/// ```
///
/// Install it for every OTel-instrumented library with
/// `opentelemetry::global::set_text_map_propagator(BotanuPropagator::new())`.
#[derive(Debug, Clone, Default)]
pub struct BotanuPropagator {
    trust_inbound: bool,
}

impl BotanuPropagator {
    /// A propagator that drops inbound customer and tenant ids (the default of
    /// `propagation_trust_inbound`).
    pub fn new() -> Self {
        BotanuPropagator::default()
    }

    /// Whether inbound `botanu.customer_id` / `botanu.tenant_id` are kept in the extracted context.
    /// Trust them only from callers you control: they decide whom the usage is billed to.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use botanu::propagation::BotanuPropagator;
    /// use opentelemetry::baggage::BaggageExt;
    /// use opentelemetry::propagation::TextMapPropagator;
    ///
    /// let mut headers = HashMap::new();
    /// headers.insert(
    ///     "baggage".to_owned(),
    ///     "botanu.run_id=0190a234-5678-7fff-bfff-ffffffffffff,botanu.workflow=w,botanu.customer_id=acme".to_owned(),
    /// );
    /// assert_eq!(BotanuPropagator::new().extract(&headers).baggage().get("botanu.customer_id"), None);
    /// let trusting = BotanuPropagator::new().with_trust_inbound(true);
    /// assert_eq!(trusting.extract(&headers).baggage().get("botanu.customer_id").map(|v| v.as_str()), Some("acme"));
    /// ```
    pub fn with_trust_inbound(mut self, trust: bool) -> Self {
        self.trust_inbound = trust;
        self
    }
}

impl TextMapPropagator for BotanuPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn OtelInjector) {
        inject_into(cx, &mut ToBotanu(injector));
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn OtelExtractor) -> Context {
        let remote = super::extract(&FromOtel(extractor));
        context_from_remote(cx, &remote, self.trust_inbound)
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(
            FIELDS.get_or_init(|| [p::TRACEPARENT.to_owned(), p::TRACESTATE.to_owned(), p::BAGGAGE.to_owned()]),
        )
    }
}

/// Writes `cx`'s span context and baggage into `carrier` (nothing for an empty context).
pub(crate) fn inject_into(cx: &Context, carrier: &mut dyn CarrierMut) {
    let span = cx.span();
    let sc = span.span_context();
    if sc.is_valid() {
        let tp = TraceParent {
            trace_id: u128::from_be_bytes(sc.trace_id().to_bytes()),
            span_id: u64::from_be_bytes(sc.span_id().to_bytes()),
            flags: sc.trace_flags().to_u8(),
        };
        carrier.set(p::TRACEPARENT, w3c::format_traceparent(&tp));
        if let Some(ts) = w3c::sanitize_tracestate(&sc.trace_state().header()) {
            carrier.set(p::TRACESTATE, ts);
        }
    }
    let baggage = cx.baggage();
    if baggage.is_empty() {
        return;
    }
    // A deterministic order: the run's keys in wire order, then the other members by name.
    let run_keys = RUN_ENTRIES.iter().filter_map(|e| baggage.get(e.baggage_key).map(|v| (e.baggage_key, v.as_str())));
    let mut others: Vec<(&str, &str)> = baggage
        .iter()
        .filter(|(key, _)| !RUN_ENTRIES.iter().any(|e| e.baggage_key == key.as_str()))
        .map(|(key, (value, _))| (key.as_str(), value.as_str()))
        .collect();
    others.sort_unstable();
    let header = w3c::format_baggage(run_keys.chain(others));
    if !header.is_empty() {
        carrier.set(p::BAGGAGE, header);
    }
}

/// `cx` with `remote`'s span as its (remote) span and, if any baggage came in, a `Baggage` of the
/// validated run keys (customer and tenant only if `trust_inbound`) and the other members.
pub(crate) fn context_from_remote(cx: &Context, remote: &RemoteContext, trust_inbound: bool) -> Context {
    let mut out = match remote.trace {
        Some(t) => {
            let trace_state =
                remote.trace_state().and_then(|ts| ts.parse::<TraceState>().ok()).unwrap_or(TraceState::NONE);
            let flags = if t.sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
            cx.with_remote_span_context(SpanContext::new(t.trace_id, t.span_id, flags, true, trace_state))
        }
        None => cx.clone(),
    };
    if remote.run.is_some() || !remote.entries.is_empty() {
        let mut baggage = Baggage::new();
        if let Some(run) = &remote.run {
            for (key, value) in run_members(run, trust_inbound) {
                let _ = baggage.insert(key, value);
            }
        }
        for (key, value) in &remote.entries {
            let _ = baggage.insert(key.clone(), value.clone());
        }
        out = out.with_baggage(baggage);
    }
    out
}

/// The baggage members of a validated inbound run.
fn run_members(run: &InboundRun, trust_inbound: bool) -> Vec<(&'static str, String)> {
    let mut out = vec![(k::RUN_ID, run.run_id.clone()), (k::WORKFLOW, run.workflow.clone())];
    let mut opt = |key, value: &Option<String>| {
        if let Some(v) = value {
            out.push((key, v.clone()));
        }
    };
    opt(k::EVENT_ID, &run.event_id);
    if trust_inbound {
        opt(k::CUSTOMER_ID, &run.customer_id);
        opt(k::TENANT_ID, &run.tenant_id);
    }
    opt(k::ENVIRONMENT, &run.environment);
    opt(k::PARENT_RUN_ID, &run.parent_run_id);
    opt(k::ROOT_RUN_ID, &run.root_run_id);
    opt(k::RETRY_OF_RUN_ID, &run.retry_of_run_id);
    if run.attempt > 1 {
        out.push((k::ATTEMPT, run.attempt.to_string()));
    }
    if let Some(d) = run.deadline_ms {
        out.push((p::DEADLINE, d.to_string()));
    }
    if run.cancelled {
        out.push((p::CANCELLED, "true".to_owned()));
    }
    out
}

/// An OTel injector seen as botanu's.
struct ToBotanu<'a>(&'a mut dyn OtelInjector);

impl CarrierMut for ToBotanu<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.set(key, value);
    }
}

/// An OTel extractor seen as botanu's.
struct FromOtel<'a>(&'a dyn OtelExtractor);

impl Carrier for FromOtel<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key)
    }
}
