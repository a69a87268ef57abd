//! OpenTelemetry interop: a botanu span's OTel `Context`, OTel parents, log correlation, and sharing a
//! subscriber with tracing-opentelemetry.
//!
//! - While an exported botanu span is entered, `opentelemetry::Context::current()` is its context
//!   (span context plus a `Baggage` with the run's keys), so OTel-native instrumentation that injects
//!   the current context through the global propagator carries the trace and the run. Install
//!   [`BotanuPropagator`](crate::propagation::BotanuPropagator) with `opentelemetry::global::set_text_map_propagator`.
//! - [`OtelSpanExt::otel_context`] gives a span's context, [`current_context`] the current one, and
//!   [`current_trace_ids`] the ids to put in log lines.
//! - [`OtelSpanExt::set_parent`] makes a span the child of any OTel `Context` (what another propagator
//!   extracted); a botanu span opened with no exported ancestor while an OTel context is attached
//!   becomes that context's child on its own.
//! - [`NotBotanuSpans`] is the per-layer filter that keeps tracing-opentelemetry off botanu's spans when
//!   both layers share a subscriber (README, "Migrating from tracing-opentelemetry").

use opentelemetry::trace::{SpanId, TraceContextExt, TraceId};
use opentelemetry::Context;
use tracing::Span;
use tracing_core::{Interest, Metadata};

use crate::propagation::RunRelation;

/// OpenTelemetry views of a botanu span.
pub trait OtelSpanExt {
    /// The OTel context of the span (of its nearest exported span, for a span botanu does not export):
    /// its span context and, inside a run, a `Baggage` with the run's keys (lean or full mode, as
    /// configured) and the run's other members. An empty context without a botanu layer or outside
    /// anything exported.
    ///
    /// ```
    /// use botanu::otel::OtelSpanExt;
    /// use botanu::prelude::*;
    /// use opentelemetry::baggage::BaggageExt;
    /// use opentelemetry::trace::TraceContextExt;
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// let cx = tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     run_span!(workflow = "support").otel_context()
    /// });
    /// guard.force_flush()?;
    /// let run = &exporter.get_finished_spans().unwrap()[0];
    /// assert_eq!(cx.span().span_context().span_id(), run.span_context.span_id());
    /// assert_eq!(cx.baggage().get("botanu.workflow").map(|v| v.as_str()), Some("support"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn otel_context(&self) -> Context;

    /// Makes the span a child of `cx`'s span (what another propagator extracted, or an OTel span of
    /// another library), exactly as [`set_remote_parent`](crate::BotanuSpanExt::set_remote_parent)
    /// does with headers: same trace, `cx`'s span as parent, a botanu run in `cx`'s baggage continued
    /// or made the parent run (`relation`), read through the trust policy. Call it before the span is
    /// entered.
    ///
    /// ```
    /// use botanu::otel::OtelSpanExt;
    /// use botanu::prelude::*;
    /// use botanu::propagation::RunRelation;
    /// use opentelemetry::propagation::TextMapPropagator;
    /// use opentelemetry_sdk::propagation::TraceContextPropagator;
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use std::collections::HashMap;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let mut headers = HashMap::new();
    /// headers.insert("traceparent".to_owned(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned());
    /// let cx = TraceContextPropagator::new().extract(&headers);
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     let run = run_span!(workflow = "consume");
    ///     run.set_parent(cx, RunRelation::Continue);
    ///     run.in_scope(|| {});
    /// });
    /// guard.force_flush()?;
    /// let run = &exporter.get_finished_spans().unwrap()[0];
    /// assert_eq!(run.span_context.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// assert_eq!(run.parent_span_id.to_string(), "00f067aa0ba902b7");
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_parent(&self, cx: Context, relation: RunRelation) -> &Self;
}

impl OtelSpanExt for Span {
    fn otel_context(&self) -> Context {
        crate::layer::otel_context_of(self).unwrap_or_default()
    }

    fn set_parent(&self, cx: Context, relation: RunRelation) -> &Self {
        let remote = crate::run::remote_from_context(&cx);
        crate::layer::set_remote_parent(self, &remote, relation);
        self
    }
}

/// The OTel context of the current span (see [`OtelSpanExt::otel_context`]).
///
/// ```
/// # use botanu::prelude::*;
/// # use opentelemetry::baggage::BaggageExt;
/// # use tracing_subscriber::prelude::*;
/// # let (layer, _guard) = botanu::Builder::new()
/// #     .with_span_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
/// #     .build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// run_span!(workflow = "support").in_scope(|| {
///     let cx = botanu::otel::current_context();
///     assert_eq!(cx.baggage().get("botanu.workflow").map(|v| v.as_str()), Some("support"));
/// });
/// # });
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn current_context() -> Context {
    Span::current().otel_context()
}

/// The trace id and span id of the current exported span, for log correlation; `None` outside
/// anything exported.
///
/// ```
/// # use botanu::prelude::*;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// let ids = tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     assert_eq!(botanu::otel::current_trace_ids(), None);
///     run_span!(workflow = "support").in_scope(botanu::otel::current_trace_ids)
/// });
/// # guard.force_flush()?;
/// let run = &exporter.get_finished_spans().unwrap()[0];
/// assert_eq!(ids, Some((run.span_context.trace_id(), run.span_context.span_id())));
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn current_trace_ids() -> Option<(TraceId, SpanId)> {
    let cx = crate::layer::otel_context_of(&Span::current())?;
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| (sc.trace_id(), sc.span_id()))
}

/// Whether botanu exports spans of this callsite (by their fields: `run_span!`, `llm_span!`, … and
/// third-party spans with `gen_ai.*`, `db.*`, `messaging.*` fields), `export_all_spans` aside.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// tracing::subscriber::with_default(tracing_subscriber::registry(), || {
///     let run = botanu::run_span!(workflow = "w");
///     assert!(botanu::otel::is_botanu_span(run.metadata().unwrap()));
///     let other = tracing::info_span!("parse", bytes = 3);
///     assert!(!botanu::otel::is_botanu_span(other.metadata().unwrap()));
/// });
/// ```
pub fn is_botanu_span(meta: &Metadata<'_>) -> bool {
    meta.is_span() && crate::layer::is_botanu_callsite(meta)
}

/// A per-layer filter for tracing-opentelemetry in a subscriber shared with botanu: it sees every
/// span botanu does not export (and every event), so no span is exported twice.
///
/// Parents are right in both directions while spans are entered (both layers activate their OTel
/// context on enter); see README, "Migrating from tracing-opentelemetry", for the layer setup and
/// for explicit `parent:` spans across the two layers.
///
/// ```
/// use botanu::otel::NotBotanuSpans;
/// use tracing_subscriber::prelude::*;
///
/// let (botanu, _guard) = botanu::Builder::new()
///     .with_span_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
///     .build()?;
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "app");
/// let subscriber = tracing_subscriber::registry()
///     .with(botanu)
///     .with(tracing_opentelemetry::layer().with_tracer(tracer).with_filter(NotBotanuSpans));
/// # drop(subscriber);
/// # Ok::<(), botanu::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NotBotanuSpans;

impl<S> tracing_subscriber::layer::Filter<S> for NotBotanuSpans {
    fn enabled(&self, meta: &Metadata<'_>, _: &tracing_subscriber::layer::Context<'_, S>) -> bool {
        !is_botanu_span(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_botanu_span(meta) {
            Interest::never()
        } else {
            Interest::always()
        }
    }
}
