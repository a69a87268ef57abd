//! What the span benchmarks share: a no-op exporter, the subscriber stacks under comparison, and the
//! workloads they run.
//!
//! Every stack exports through a `SimpleSpanProcessor` into [`NoopExporter`], so each variant pays for
//! building the OTel span and handing it to the SDK, and none pays for I/O. The workloads are written so
//! that the OTel spans botanu, tracing-opentelemetry and the raw SDK export are the *same* spans (name,
//! kind, status, attributes); [`check_parity`] asserts it before any number is taken, so a ratio never
//! compares unequal work.

use std::collections::BTreeMap;
use std::future::{ready, Future};
use std::time::{Duration, Instant};

use botanu::prelude::*;
use botanu::BotanuGuard;
use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _};
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracer, SdkTracerProvider, SpanData, SpanExporter};
use tracing::field::Empty;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::Registry;

// === exporters ===

/// A span exporter that drops every batch.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopExporter;

impl SpanExporter for NoopExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        drop(batch);
        ready(Ok(()))
    }
}

/// A metric exporter that drops every collection; with a one-hour interval it is never called while a
/// benchmark runs, so botanu's metrics cost is the recording into the SDK's aggregators.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopMetricExporter;

impl PushMetricExporter for NoopMetricExporter {
    fn export(&self, _metrics: &ResourceMetrics) -> impl Future<Output = OTelSdkResult> + Send {
        ready(Ok(()))
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

// === stacks ===

/// The floor: `tracing`'s own cost for the same macros, setters and scopes, exporting nothing.
pub fn registry() -> Dispatch {
    Dispatch::new(Registry::default())
}

/// `Registry` + a layer that does nothing (`tracing_subscriber::layer::Identity`): the floor of any
/// layered stack. A `Registry` alone never frees a closed span's slot (only `Layered::try_close` starts
/// the close that clears it), so the bare Registry undercounts what closing a span costs in a real stack.
pub fn registry_with_noop_layer() -> Dispatch {
    Dispatch::new(Registry::default().with(tracing_subscriber::layer::Identity::new()))
}

/// `Registry` + `BotanuLayer` exporting through `with_span_exporter` (a `SimpleSpanProcessor` on botanu's
/// finisher thread), metrics recorded into a meter provider with a periodic reader that does not fire
/// during the run (`metrics = false`: a meter provider without readers, so instruments are no-ops).
pub fn botanu<E: SpanExporter + 'static>(exporter: E, metrics: bool) -> (Dispatch, BotanuGuard) {
    botanu_with(exporter, metrics, true)
}

/// As [`botanu`], with OTel context activation on enter (the default) or off.
pub fn botanu_with<E: SpanExporter + 'static>(exporter: E, metrics: bool, activation: bool) -> (Dispatch, BotanuGuard) {
    botanu_built(botanu::Builder::new().with_span_exporter(exporter).with_context_activation(activation), metrics)
}

/// As [`botanu`], finishing spans where they close (`botanu::testing::finish_inline`, what
/// `botanu::testing` runs): the whole span, exporter included, on the application thread — the
/// counterpart of tracing-opentelemetry with a `SimpleSpanProcessor`.
#[cfg(feature = "testing")]
#[allow(dead_code)] // only `profile.rs` runs it
pub fn botanu_inline<E: SpanExporter + 'static>(exporter: E) -> (Dispatch, BotanuGuard) {
    botanu_built(botanu::testing::finish_inline(botanu::Builder::new().with_span_exporter(exporter)), true)
}

fn botanu_built(builder: botanu::Builder, metrics: bool) -> (Dispatch, BotanuGuard) {
    let builder = if metrics {
        builder.with_metric_exporter(NoopMetricExporter).with_metric_export_interval(Duration::from_secs(3600))
    } else {
        builder.with_meter_provider(SdkMeterProvider::builder().build())
    };
    let (layer, guard) = match builder.build::<Registry>() {
        Ok(built) => built,
        Err(err) => panic!("botanu pipeline: {err}"),
    };
    (Dispatch::new(Registry::default().with(layer)), guard)
}

/// The production pipeline: `Registry` + `BotanuLayer` exporting through botanu's own queue
/// (`with_batch_exporter`), metrics recorded as in [`botanu`], OTel context activation on (the default).
/// Spans are finished on botanu's finisher thread and exported on the queue's worker.
pub fn botanu_queue<E: SpanExporter + 'static>(exporter: E) -> (Dispatch, BotanuGuard) {
    let builder = botanu::Builder::new()
        .with_batch_exporter(exporter)
        .with_metric_exporter(NoopMetricExporter)
        .with_metric_export_interval(Duration::from_secs(3600));
    let (layer, guard) = match builder.build::<Registry>() {
        Ok(built) => built,
        Err(err) => panic!("botanu pipeline: {err}"),
    };
    (Dispatch::new(Registry::default().with(layer)), guard)
}

/// A tracer provider exporting through `exporter` with the SDK's `BatchSpanProcessor` on its own thread
/// (batches of 512, 5 s delay): what tracing-opentelemetry users run in production. Its queue is
/// botanu's default size (65,536) instead of the SDK's 2,048, so that in a measured loop it drops no
/// span (silently) and counts the same work as botanu.
pub fn provider_batch<E: SpanExporter + 'static>(exporter: E) -> SdkTracerProvider {
    use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor};
    let config = BatchConfigBuilder::default().with_max_queue_size(65_536).build();
    let processor = BatchSpanProcessor::builder(exporter).with_batch_config(config).build();
    SdkTracerProvider::builder().with_span_processor(processor).build()
}

/// A span exporter that counts what it is given (to count what a pipeline dropped) and drops it.
#[derive(Debug, Default, Clone)]
pub struct CountingExporter(pub std::sync::Arc<std::sync::atomic::AtomicU64>);

impl SpanExporter for CountingExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0.fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
        drop(batch);
        ready(Ok(()))
    }
}

/// A tracer provider exporting through `exporter` with a `SimpleSpanProcessor`.
pub fn provider<E: SpanExporter + 'static>(exporter: E) -> SdkTracerProvider {
    SdkTracerProvider::builder().with_simple_exporter(exporter).build()
}

/// `Registry` + `tracing-opentelemetry`, configured to export the same attributes botanu does: no code
/// location, thread, target or busy/idle attributes (each of which it adds by default). Context activation
/// on enter stays on, as it is what lets other OTel instrumentation see the span.
pub fn tracing_otel(provider: &SdkTracerProvider) -> Dispatch {
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("bench"))
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_tracked_inactivity(false);
    Dispatch::new(Registry::default().with(layer))
}

/// `Registry` + `tracing-opentelemetry` as `layer().with_tracer(..)` gives it: code location, thread,
/// target and busy/idle attributes on every span (more data than the other variants export).
pub fn tracing_otel_defaults(provider: &SdkTracerProvider) -> Dispatch {
    Dispatch::new(Registry::default().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"))))
}

/// The metrics botanu records for an LLM call, recorded by hand (for the equal-work comparison with
/// tracing-opentelemetry): operation duration, input and output token usage, one attempt.
pub struct HandMetrics {
    _provider: SdkMeterProvider,
    duration: Histogram<f64>,
    tokens: Histogram<u64>,
    attempts: Counter<u64>,
}

impl HandMetrics {
    /// Instruments on a meter provider whose periodic reader does not fire during a benchmark.
    pub fn new() -> Self {
        let reader = PeriodicReader::builder(NoopMetricExporter).with_interval(Duration::from_secs(3600)).build();
        let provider = SdkMeterProvider::builder().with_reader(reader).build();
        let meter = provider.meter("bench");
        HandMetrics {
            duration: meter.f64_histogram("gen_ai.client.operation.duration").with_unit("s").build(),
            tokens: meter.u64_histogram("gen_ai.client.token.usage").with_unit("{token}").build(),
            attempts: meter.u64_counter("botanu.gen_ai.attempts").build(),
            _provider: provider,
        }
    }
}

/// The raw SDK's tracer.
pub fn raw_tracer(provider: &SdkTracerProvider) -> SdkTracer {
    provider.tracer("bench")
}

// === workloads: one LLM call ===

/// An `llm_span!` with 8 fields, entered, tokens and response model recorded (3 `record`s), closed.
pub fn llm_botanu() {
    let span = llm_span!(
        provider = "openai",
        model = "gpt-4",
        operation = "chat",
        gen_ai.request.temperature = 0.2,
        gen_ai.request.max_tokens = 512,
        botanu.request.streaming = false,
        botanu.request.attempt = 1,
        app.feature = "summarize",
    );
    {
        let _entered = span.enter();
        span.set_tokens(Tokens { input: 120, output: 30, ..Tokens::default() });
        span.set_response_model("gpt-4-0613");
    }
    drop(span);
}

/// The same LLM call hand-mapped for tracing-opentelemetry: the name, kind and status through `otel.*`
/// fields, the vendor mirrored into `botanu.vendor` and the operation given, as botanu derives them.
/// Integers are recorded as `i64`: tracing-opentelemetry exports a `u64` recorded on a started span as
/// a string.
pub fn llm_tracing_otel() {
    let span = tracing::info_span!(
        "llm",
        otel.name = "chat gpt-4",
        otel.kind = "client",
        gen_ai.provider.name = "openai",
        botanu.vendor = "openai",
        gen_ai.request.model = "gpt-4",
        gen_ai.operation.name = "chat",
        gen_ai.request.temperature = 0.2,
        gen_ai.request.max_tokens = 512,
        botanu.request.streaming = false,
        botanu.request.attempt = 1,
        app.feature = "summarize",
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.response.model = Empty,
        // The price botanu works out at close (gpt-4: 120 × 30 + 30 × 60 USD per million tokens),
        // given as constants: tracing-opentelemetry only has to export the same data.
        botanu.cost.usd = 0.0054,
        botanu.cost.input_usd = 0.0036,
        botanu.cost.output_usd = 0.0018,
        botanu.cost.estimated = true,
        botanu.cost.model = "gpt-4",
        botanu.cost.provider = "openai",
        botanu.cost.source = "genai-prices 0.2.1",
    );
    {
        let _entered = span.enter();
        span.record("gen_ai.usage.input_tokens", 120_i64);
        span.record("gen_ai.usage.output_tokens", 30_i64);
        span.record("gen_ai.response.model", "gpt-4-0613");
    }
    drop(span);
}

/// [`llm_tracing_otel`] plus the metrics botanu records for the call, written by hand with the same
/// attributes (static strings: cheaper than a real call's model name).
pub fn llm_tracing_otel_metrics(metrics: &HandMetrics) {
    let start = Instant::now();
    llm_tracing_otel();
    let mut attrs = vec![
        KeyValue::new("gen_ai.operation.name", "chat"),
        KeyValue::new("gen_ai.provider.name", "openai"),
        KeyValue::new("gen_ai.request.model", "gpt-4"),
    ];
    metrics.duration.record(start.elapsed().as_secs_f64(), &attrs);
    for (token_type, count) in [("input", 120), ("output", 30)] {
        attrs.push(KeyValue::new("gen_ai.token.type", token_type));
        metrics.tokens.record(count, &attrs);
        attrs.pop();
    }
    attrs.push(KeyValue::new("status", "success"));
    metrics.attempts.add(1, &attrs);
}

/// The same span built directly with the SDK: builder with kind and start attributes, three attributes
/// set, end (status Unset: botanu leaves an instrumentation span's success Unset, as OTel asks).
pub fn llm_raw(tracer: &SdkTracer) {
    let mut span = tracer
        .span_builder("chat gpt-4")
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new("gen_ai.provider.name", "openai"),
            KeyValue::new("botanu.vendor", "openai"),
            KeyValue::new("gen_ai.request.model", "gpt-4"),
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.request.temperature", 0.2),
            KeyValue::new("gen_ai.request.max_tokens", 512_i64),
            KeyValue::new("botanu.request.streaming", false),
            KeyValue::new("botanu.request.attempt", 1_i64),
            KeyValue::new("app.feature", "summarize"),
            KeyValue::new("botanu.cost.usd", 0.0054),
            KeyValue::new("botanu.cost.input_usd", 0.0036),
            KeyValue::new("botanu.cost.output_usd", 0.0018),
            KeyValue::new("botanu.cost.estimated", true),
            KeyValue::new("botanu.cost.model", "gpt-4"),
            KeyValue::new("botanu.cost.provider", "openai"),
            KeyValue::new("botanu.cost.source", "genai-prices 0.2.1"),
        ])
        .start(tracer);
    span.set_attribute(KeyValue::new("gen_ai.usage.input_tokens", 120_i64));
    span.set_attribute(KeyValue::new("gen_ai.usage.output_tokens", 30_i64));
    span.set_attribute(KeyValue::new("gen_ai.response.model", "gpt-4-0613"));
    span.end();
}

// === workloads: a span botanu does not recognize ===

/// A plain `info_span!`, entered and closed.
pub fn unrecognized() {
    let span = tracing::info_span!("x", a = 1, b = "two", c = 3.0);
    drop(span.enter());
    drop(span);
}

// === workloads: a run ===

/// LLM calls and DB queries in one run's step.
pub const RUN_LLM_CALLS: usize = 10;
/// See [`RUN_LLM_CALLS`].
pub const RUN_DB_QUERIES: usize = 5;

/// A run with one step holding 10 LLM spans and 5 DB spans; botanu stamps the run's keys and the step
/// on every descendant.
pub fn run_tree_botanu() {
    let run = run_span!(workflow = "support", event_id = "ticket-42", customer_id = "acme");
    run.in_scope(|| {
        let step = step_span!("answer");
        step.in_scope(|| {
            for _ in 0..RUN_LLM_CALLS {
                let llm = llm_span!(provider = "openai", model = "gpt-4");
                llm.in_scope(|| {
                    llm.set_tokens(Tokens { input: 120, output: 30, ..Tokens::default() });
                });
            }
            for _ in 0..RUN_DB_QUERIES {
                let db = db_span!(system = "postgresql", operation = "SELECT", database = "app");
                db.in_scope(|| {
                    db.set_result(DbResult { rows_returned: 12, ..DbResult::default() });
                });
            }
        });
    });
}

/// The same tree for tracing-opentelemetry, with the stamping written by hand: the run's keys and the
/// step passed down as fields of every span, the run's start and end events as `tracing` events.
pub fn run_tree_tracing_otel(run_no: u64) {
    let run_id = format!("{run_no:032x}");
    let run = tracing::info_span!(
        "run",
        otel.name = "botanu.run/support",
        otel.kind = "server",
        otel.status_code = "ok",
        botanu.run_id = %run_id,
        botanu.workflow = "support",
        botanu.event_id = "ticket-42",
        botanu.customer_id = "acme",
        botanu.environment = "production",
        botanu.root_run_id = %run_id,
        botanu.attempt = 1,
        botanu.run.start_time = "2025-01-01T00:00:00.000Z",
        botanu.run.duration_ms = Empty,
        // The run's cost roll-up botanu writes at its close, recorded by hand at the end.
        botanu.run.cost.usd = Empty,
        botanu.run.cost.llm_usd = Empty,
        botanu.run.cost.data_usd = Empty,
        botanu.run.cost.tool_usd = Empty,
        botanu.run.llm_calls = Empty,
        botanu.run.tokens.input = Empty,
        botanu.run.tokens.output = Empty,
        botanu.run.tokens.cache_read = Empty,
        botanu.run.cost.unpriced_count = Empty,
        botanu.run.cost.scope = "process",
        botanu.run.cost.open_spans = Empty,
    );
    run.in_scope(|| {
        tracing::info!(botanu.run_id = %run_id, botanu.workflow = "support", "botanu.run.started");
        let step = tracing::info_span!(
            "step",
            otel.name = "botanu.step/answer",
            botanu.step = "answer",
            botanu.run_id = %run_id,
            botanu.workflow = "support",
            botanu.event_id = "ticket-42",
            botanu.customer_id = "acme",
            botanu.environment = "production",
        );
        step.in_scope(|| {
            for _ in 0..RUN_LLM_CALLS {
                let llm = tracing::info_span!(
                    "llm",
                    otel.name = "chat gpt-4",
                    otel.kind = "client",
                    gen_ai.provider.name = "openai",
                    botanu.vendor = "openai",
                    gen_ai.request.model = "gpt-4",
                    gen_ai.operation.name = "chat",
                    botanu.step = "answer",
                    botanu.run_id = %run_id,
                    botanu.workflow = "support",
                    botanu.event_id = "ticket-42",
                    botanu.customer_id = "acme",
                    botanu.environment = "production",
                    gen_ai.usage.input_tokens = Empty,
                    gen_ai.usage.output_tokens = Empty,
                    botanu.cost.usd = 0.0054,
                    botanu.cost.input_usd = 0.0036,
                    botanu.cost.output_usd = 0.0018,
                    botanu.cost.estimated = true,
                    botanu.cost.model = "gpt-4",
                    botanu.cost.provider = "openai",
                    botanu.cost.source = "genai-prices 0.2.1",
                );
                llm.in_scope(|| {
                    llm.record("gen_ai.usage.input_tokens", 120_i64);
                    llm.record("gen_ai.usage.output_tokens", 30_i64);
                });
            }
            for _ in 0..RUN_DB_QUERIES {
                let db = tracing::info_span!(
                    "db",
                    otel.name = "db.postgresql.select",
                    otel.kind = "client",
                    db.system = "postgresql",
                    botanu.vendor = "postgresql",
                    db.operation = "SELECT",
                    db.name = "app",
                    botanu.step = "answer",
                    botanu.run_id = %run_id,
                    botanu.workflow = "support",
                    botanu.event_id = "ticket-42",
                    botanu.customer_id = "acme",
                    botanu.environment = "production",
                    botanu.data.rows_returned = Empty,
                    botanu.data.duration_ms = Empty,
                );
                db.in_scope(|| {
                    db.record("botanu.data.rows_returned", 12_i64);
                    db.record("botanu.data.duration_ms", 0.5);
                });
            }
        });
        run.record("botanu.run.duration_ms", 1.0);
        let llm_usd = 0.0054 * RUN_LLM_CALLS as f64;
        run.record("botanu.run.cost.usd", llm_usd);
        run.record("botanu.run.cost.llm_usd", llm_usd);
        run.record("botanu.run.cost.data_usd", 0.0);
        run.record("botanu.run.cost.tool_usd", 0.0);
        run.record("botanu.run.llm_calls", RUN_LLM_CALLS as i64);
        run.record("botanu.run.tokens.input", 120 * RUN_LLM_CALLS as i64);
        run.record("botanu.run.tokens.output", 30 * RUN_LLM_CALLS as i64);
        run.record("botanu.run.tokens.cache_read", 0_i64);
        run.record("botanu.run.cost.unpriced_count", 0_i64);
        run.record("botanu.run.cost.open_spans", 0_i64);
        tracing::info!(
            botanu.run_id = %run_id,
            botanu.workflow = "support",
            botanu.run.status = "success",
            botanu.run.duration_ms = 1.0,
            "botanu.run.completed"
        );
    });
}

// === parity ===

/// A value with its type, whether its string is static or owned.
fn typed(value: &Value) -> String {
    match value {
        Value::Bool(b) => format!("bool {b}"),
        Value::I64(i) => format!("i64 {i}"),
        Value::F64(f) => format!("f64 {f}"),
        Value::String(s) => format!("str {s}"),
        other => format!("{other:?}"),
    }
}

/// What two variants must agree on for one exported span: name, kind, status, attribute keys (with
/// values when `values`), and event names.
fn shape(span: &SpanData, values: bool) -> String {
    let attrs: BTreeMap<&str, String> = span
        .attributes
        .iter()
        .map(|kv| (kv.key.as_str(), if values { typed(&kv.value) } else { String::new() }))
        .collect();
    let events: Vec<&str> = span.events.iter().map(|e| e.name.as_ref()).collect();
    format!("{} {:?} {:?} {attrs:?} events={events:?}", span.name, span.span_kind, span.status)
}

fn shapes(spans: &[SpanData], values: bool) -> Vec<String> {
    let mut shapes: Vec<String> = spans.iter().map(|s| shape(s, values)).collect();
    shapes.sort();
    shapes
}

/// Flushes a botanu pipeline (its finisher runs the exporter).
pub fn flush(guard: &BotanuGuard) {
    if let Err(err) = guard.force_flush() {
        panic!("flush: {err}");
    }
}

fn exported(exporter: &InMemorySpanExporter) -> Vec<SpanData> {
    match exporter.get_finished_spans() {
        Ok(spans) => spans,
        Err(err) => panic!("in-memory exporter: {err}"),
    }
}

fn assert_same(what: &str, left: (&str, Vec<String>), right: (&str, Vec<String>)) {
    assert!(
        left.1 == right.1,
        "{what}: {} and {} export different spans\n{}: {:#?}\n{}: {:#?}",
        left.0,
        right.0,
        left.0,
        left.1,
        right.0,
        right.1
    );
}

/// Runs each workload once per variant into an in-memory exporter and panics if the exported spans
/// differ: the LLM span exactly (values included), the run tree by shape (ids and durations differ).
pub fn check_parity() {
    let exporter = InMemorySpanExporter::default();
    let (dispatch, guard) = botanu(exporter.clone(), true);
    tracing::dispatcher::with_default(&dispatch, llm_botanu);
    flush(&guard);
    let botanu_llm = shapes(&exported(&exporter), true);
    exporter.reset();
    tracing::dispatcher::with_default(&dispatch, run_tree_botanu);
    flush(&guard);
    let botanu_run = shapes(&exported(&exporter), false);
    drop(guard);

    let exporter = InMemorySpanExporter::default();
    let otel = provider(exporter.clone());
    let dispatch = tracing_otel(&otel);
    tracing::dispatcher::with_default(&dispatch, llm_tracing_otel);
    let otel_llm = shapes(&exported(&exporter), true);
    exporter.reset();
    tracing::dispatcher::with_default(&dispatch, || run_tree_tracing_otel(1));
    let otel_run = shapes(&exported(&exporter), false);

    let exporter = InMemorySpanExporter::default();
    let raw = provider(exporter.clone());
    llm_raw(&raw_tracer(&raw));
    let raw_llm = shapes(&exported(&exporter), true);

    assert_eq!(botanu_run.len(), 2 + RUN_LLM_CALLS + RUN_DB_QUERIES, "botanu exports every span of the run");
    assert_same("llm_span", ("botanu", botanu_llm.clone()), ("tracing-opentelemetry", otel_llm));
    assert_same("llm_span", ("botanu", botanu_llm), ("raw sdk", raw_llm));
    assert_same("run_tree", ("botanu", botanu_run), ("tracing-opentelemetry", otel_run));
}
