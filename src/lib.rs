//! # botanu — cost attribution for AI workflows on `tracing` and OpenTelemetry
//!
//! Teams running LLM workflows need to know what each *business event* cost: every LLM call, tool
//! call, database query, object-storage request and queue message, attributed to a **run** (a ticket
//! resolved, a document processed) with its workflow, customer and tenant.
//!
//! botanu keeps you on `tracing`:
//! - the macros [`run_span!`], [`step_span!`], [`llm_span!`], [`tool_span!`], [`db_span!`],
//!   [`storage_span!`], [`messaging_span!`] create ordinary `tracing` spans with the contract's fields,
//!   and the extension traits ([`LlmSpanExt`], [`BotanuSpanExt`], …) record results on them;
//! - [`BotanuLayer`], a `tracing_subscriber::Layer`, recognizes those spans (and `#[instrument]` or
//!   third-party spans with `gen_ai.*`, `db.*`, `messaging.*` fields), normalizes vendors, records
//!   metrics, and exports OpenTelemetry spans stamped with the run's context;
//! - while a botanu span is entered it is the current OpenTelemetry context, so OTel-native
//!   instrumentation carries the run; [`otel`] has the interop (contexts of spans, OTel parents, sharing
//!   a subscriber with tracing-opentelemetry) and [`propagation::BotanuPropagator`] the propagator.
//!
//! ```
//! use botanu::prelude::*;
//! use opentelemetry_sdk::trace::InMemorySpanExporter;
//! use tracing_subscriber::prelude::*;
//!
//! let exporter = InMemorySpanExporter::default();
//! let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
//! tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
//!     run_span!(workflow = "support", event_id = "ticket-42", customer_id = "acme").in_scope(|| {
//!         let llm = llm_span!(provider = "OpenAI", model = "gpt-4o");
//!         llm.in_scope(|| { /* call the model */ });
//!         llm.set_tokens(Tokens { input: 120, output: 30, ..Default::default() });
//!     });
//! });
//! guard.force_flush()?;
//! let spans = exporter.get_finished_spans().unwrap();
//! assert_eq!(spans[0].name, "chat gpt-4o");
//! assert_eq!(spans[1].name, "botanu.run/support");
//! # Ok::<(), botanu::Error>(())
//! ```
//!
//! `#[tracing::instrument(fields(botanu.workflow = "…"))]` makes a run too (its arguments and `ret` value
//! become the run's gated, scrubbed eval content); `fields(botanu.step = …)` a step, and `fields(
//! gen_ai.provider.name = …, gen_ai.request.model = …)` an LLM call. To test your instrumentation,
//! `botanu::testing` (feature `testing`) captures what a closure or a future exported.
//!
//! Everything botanu puts on the wire is named in [`semconv`].
#![warn(missing_docs)]

#[cfg(feature = "aws")]
pub mod aws;
pub mod budget;
mod builder;
pub mod config;
mod console;
pub mod content;
mod contention;
pub mod cost;
pub(crate) mod dialect;
mod error;
mod fmt_fields;
mod fxhash;
mod layer;
#[doc(hidden)]
pub mod macros;
pub mod normalize;
pub mod operation;
pub mod otel;
mod otlp;
mod pipeline;
pub mod propagation;
mod run;
pub mod semconv;
mod span_ext;
#[cfg(feature = "testing")]
pub mod testing;
mod text;

// The metrics are recorded by the layer at export; the builder names them here to create them.
pub(crate) use layer::metrics;

pub use builder::{init, BotanuGuard, Builder, ExportCounter, ExportCounts};
pub use config::{Config, ConfigError, QueueSettings, DEFAULT_MAX_EVENTS_PER_SPAN};
pub use console::ConsoleExporter;
pub use error::{Cause, Error, ExporterError, TlsError};
pub use layer::BotanuLayer;
pub use otel::OtelSpanExt;
pub use run::{PreviousRun, RunAttempt};
pub use span_ext::{
    baggage, current_run_id, current_workflow, emit_outcome, set_baggage, set_business_context, set_correlation,
    set_data_metrics, set_llm_attributes, set_token_usage, set_warehouse_metrics, structured, BotanuSpanExt,
    BudgetSpanExt, BusinessContext, CostSpanExt, DataMetrics, DbResult, DbSpanExt, InvalidOutcomeStatus, LlmAttributes,
    LlmSpanExt, MessagingResult, MetadataValue, Outcome, OutcomeStatus, RequestParams, RunFuture, RunFutureExt,
    SpanResult, StorageResult, StorageSpanExt, Tokens, ToolResult, ToolSpanExt, WarehouseMetrics,
};

/// The macros, the setter traits and their argument types.
pub mod prelude {
    pub use crate::{
        cost::InputCounting, db_span, llm_span, messaging_span, run_span, step_span, storage_span, tool_span,
        BotanuSpanExt, BudgetSpanExt, CostSpanExt, DbResult, DbSpanExt, LlmSpanExt, MessagingResult, RequestParams,
        RunFutureExt, StorageResult, StorageSpanExt, Tokens, ToolResult, ToolSpanExt,
    };
}

#[doc(hidden)]
pub mod __private {
    pub use tracing;

    /// The W3C header grammar (`traceparent`, `tracestate`, `baggage`), for the fuzz targets and the
    /// property tests only: not part of the API.
    pub use crate::run::w3c;

    /// `builder`'s pipeline finishing spans where they close (what `botanu::testing::finish_inline`
    /// does), for this crate's own test harness, which asserts what each span carries at its close.
    pub fn finish_inline(builder: crate::Builder) -> crate::Builder {
        builder.finish_inline()
    }

    /// `run_span!(…, retry_of = previous)`: the new run span, made a retry of `previous` if there is one.
    pub fn retry_of<P: crate::PreviousRun + ?Sized>(span: tracing::Span, previous: &P) -> tracing::Span {
        crate::BotanuSpanExt::retry_of(&span, previous);
        span
    }

    /// Contended lock acquisitions on the export path so far, per lock (process-wide), for
    /// `benches/throughput.rs` only: not part of the API. See `src/contention.rs`.
    pub fn lock_contention() -> Vec<(&'static str, u64)> {
        crate::contention::snapshot().to_vec()
    }

    /// The finisher workers of pipelines built from now on (0: one per core, the default), for the
    /// benchmarks only: not part of the API.
    pub fn set_finisher_workers(n: usize) {
        crate::pipeline::override_workers(n);
    }

    /// Spans the finisher's hand-off gave back to application threads past its bound so far
    /// (process-wide; finished there, or dropped when the export queue was full), for the benchmarks
    /// only: not part of the API.
    pub fn spans_given_back() -> u64 {
        crate::pipeline::given_back()
    }
}
