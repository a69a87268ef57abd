//! Carrying a run across services and queues: W3C trace context plus botanu baggage.
//!
//! A producer calls [`inject`] to write `traceparent` (and `tracestate`) of the current exported span
//! and a `baggage` header with the run's keys into any carrier: HTTP headers, Kafka or NATS headers,
//! SQS message attributes. A consumer calls [`extract`] to read them back into a [`RemoteContext`] and
//! makes it the parent of its next span with
//! [`BotanuSpanExt::set_remote_parent`](crate::BotanuSpanExt::set_remote_parent), either *continuing*
//! the producer's run (same run id, same trace) or starting a *child* run (`botanu.parent_run_id` = the
//! producer's run) — one call either way.
//!
//! Lean mode (default) carries `botanu.run_id` and `botanu.workflow`; full mode adds the event,
//! customer, environment, tenant, parent and root run, attempt, retry, deadline and cancellation.
//!
//! Inbound data is untrusted: parsing follows the W3C limits and skips malformed members (see
//! [`w3c`]), botanu keys are validated (a run id must be a UUID, names are bounded and free of control
//! characters), and inbound `botanu.customer_id` / `botanu.tenant_id` are honored only when the
//! operator trusts inbound identity (`propagation_trust_inbound`), so a client cannot bill its usage
//! to another tenant. Run id and workflow are always honored.
//!
//! ```
//! use std::collections::HashMap;
//! use botanu::prelude::*;
//! use botanu::propagation::{self, RunRelation};
//!
//! // Producer side.
//! let mut headers = HashMap::new();
//! run_span!(workflow = "ingest").in_scope(|| propagation::inject(&mut headers));
//!
//! // Consumer side: continue the same run.
//! let remote = propagation::extract(&headers);
//! let span = step_span!("consume");
//! span.set_remote_parent(&remote, RunRelation::Continue);
//! ```

mod otel;
#[cfg(feature = "tower")]
pub mod tower;
use crate::run::w3c;

use std::collections::{BTreeMap, HashMap};

use opentelemetry::trace::{SpanId, TraceId};
use tracing::Span;

use crate::layer::with_state;
use crate::run::{remote_context, RemoteSpan};
pub use crate::run::{InboundRun, RemoteContext, RunRelation};
use crate::semconv::propagation as p;
pub use otel::BotanuPropagator;

/// Where [`inject`] writes headers: a header map, a message's headers. Named apart from OpenTelemetry's
/// `Injector` so the two never shadow each other in one file; botanu's is implemented for `BTreeMap` and
/// `Vec<(String, String)>` (Kafka, NATS headers) too, which a foreign trait could not be.
pub trait CarrierMut {
    /// Sets `key` (lower-case) to `value`.
    fn set(&mut self, key: &str, value: String);
}

/// Where [`extract`] reads headers from (see [`CarrierMut`] for why it is not OpenTelemetry's
/// `Extractor`).
pub trait Carrier {
    /// The value of `key`, matched case-insensitively where the carrier is a header map.
    fn get(&self, key: &str) -> Option<&str>;
}

impl<S: std::hash::BuildHasher> CarrierMut for HashMap<String, String, S> {
    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_owned(), value);
    }
}

impl<S: std::hash::BuildHasher> Carrier for HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<&str> {
        HashMap::get(self, key)
            .or_else(|| self.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
            .map(String::as_str)
    }
}

impl CarrierMut for BTreeMap<String, String> {
    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_owned(), value);
    }
}

impl Carrier for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        BTreeMap::get(self, key)
            .or_else(|| self.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
            .map(String::as_str)
    }
}

/// Message headers as a list (Kafka, NATS): `set` replaces an existing key.
impl CarrierMut for Vec<(String, String)> {
    fn set(&mut self, key: &str, value: String) {
        match self.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some(entry) => entry.1 = value,
            None => self.push((key.to_owned(), value)),
        }
    }
}

impl Carrier for Vec<(String, String)> {
    fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// Values that are not valid header values (non-visible ASCII) are not written.
#[cfg(feature = "http")]
impl CarrierMut for http::HeaderMap {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) =
            (http::header::HeaderName::from_bytes(key.as_bytes()), http::header::HeaderValue::from_str(&value))
        {
            self.insert(name, value);
        }
    }
}

/// A header whose value is not visible ASCII (non-UTF-8 bytes, say) reads as absent.
#[cfg(feature = "http")]
impl Carrier for http::HeaderMap {
    fn get(&self, key: &str) -> Option<&str> {
        http::HeaderMap::get(self, key).and_then(|v| v.to_str().ok())
    }
}

/// Reads trace context, baggage and the `x-botanu-*` fallback headers from `carrier`. Never fails:
/// whatever is malformed is left out.
pub fn extract(carrier: &dyn Carrier) -> RemoteContext {
    let trace = carrier.get(p::TRACEPARENT).and_then(w3c::parse_traceparent).map(|t| RemoteSpan {
        trace_id: TraceId::from(t.trace_id),
        span_id: SpanId::from(t.span_id),
        sampled: t.flags & 1 == 1,
    });
    let trace_state = trace.and(carrier.get(p::TRACESTATE)).and_then(w3c::sanitize_tracestate);
    let bag = carrier.get(p::BAGGAGE).map(w3c::parse_baggage).unwrap_or_default();
    remote_context(trace, trace_state, bag, &|key| carrier.get(key))
}

/// Writes the current span's trace context and run baggage into `carrier`.
pub fn inject(carrier: &mut dyn CarrierMut) {
    inject_span(&Span::current(), carrier);
}

/// Writes `span`'s trace context (of its nearest exported span) and run baggage into `carrier`.
/// Nothing is written when no botanu layer is installed or the span is in nothing exported.
///
/// This is [`BotanuPropagator`]'s `inject_context` of the span's OTel context: the same code path as
/// OTel-native instrumentation that injects through the global propagator.
pub fn inject_span(span: &Span, carrier: &mut dyn CarrierMut) {
    if let Some(cx) = crate::layer::otel_context_of(span) {
        otel::inject_into(&cx, carrier);
    }
}

/// The response headers a server returns for the current run: `x-botanu-run-id` and
/// `x-botanu-workflow` (empty when the current span is in no run).
pub fn response_headers() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    with_state(&Span::current(), |state, _| {
        if let Some(run) = &state.run {
            out.push((p::HEADER_RUN_ID, run.run_id.to_string()));
            // The workflow is echoed percent-encoded, so it is always a valid header value.
            out.push((p::HEADER_WORKFLOW, w3c::percent_encode(&run.workflow)));
        }
    });
    out
}
