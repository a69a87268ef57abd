//! Turning a closed span's state into one OpenTelemetry span.
//!
//! The OTel span is built once, at close, from data already in its final shape: name and kind derived
//! from the kind, the run's keys stamped on, the failure turned into one `exception` event and an
//! ERROR status. It goes through the SDK's tracer (so every span processor and exporter of the provider
//! sees it) with its real start and end times.
//!
//! Ids: the layer must know a span's id when it *opens* (children and propagation need it), but the SDK
//! mints ids inside `build_with_context` from the provider's `IdGenerator`. botanu's provider therefore
//! uses [`PresetIdGenerator`], which hands out the ids the layer chose, set in a thread-local just
//! before the build on the same thread.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::time::SystemTime;

use opentelemetry::trace::Span as _;
use opentelemetry::trace::{
    Event, SpanBuilder, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
};
use opentelemetry::{Context, Key, KeyValue, Value};
use opentelemetry_sdk::trace::IdGenerator;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tracing_core::Metadata;

use super::kinds::{self, Kind, Name};
use super::state::{cut_str, string_array, SpanState, MAX_VALUE_BYTES};
use super::Shared;
use crate::semconv as k;

thread_local! {
    static PRESET: Cell<Option<(TraceId, SpanId)>> = const { Cell::new(None) };
    static RNG: RefCell<SmallRng> = RefCell::new(SmallRng::from_rng(&mut rand::rng()));
}

/// The provider's id generator: the ids the layer preset for the span being built, else random ones.
#[derive(Debug, Default)]
pub(crate) struct PresetIdGenerator;

impl IdGenerator for PresetIdGenerator {
    fn new_trace_id(&self) -> TraceId {
        PRESET.with(|p| p.get()).map(|(t, _)| t).unwrap_or_else(random_trace_id)
    }

    fn new_span_id(&self) -> SpanId {
        PRESET.with(|p| p.get()).map(|(_, s)| s).unwrap_or_else(random_span_id)
    }
}

fn random_trace_id() -> TraceId {
    RNG.with(|r| loop {
        let v: u128 = r.borrow_mut().random();
        if v != 0 {
            return TraceId::from(v);
        }
    })
}

fn random_span_id() -> SpanId {
    RNG.with(|r| loop {
        let v: u64 = r.borrow_mut().random();
        if v != 0 {
            return SpanId::from(v);
        }
    })
}

/// Ids for a new span: the parent's trace (or a new one) and a fresh span id.
pub(crate) fn new_ids(parent_trace: Option<TraceId>) -> (TraceId, SpanId) {
    (parent_trace.unwrap_or_else(random_trace_id), random_span_id())
}

/// Finishes a closed span: derived attributes, stamping, metrics, and the OTel span itself.
pub(crate) fn finish(mut state: SpanState, shared: &Shared, meta: &'static Metadata<'static>) {
    let end = SystemTime::now();
    let elapsed = end.duration_since(state.start).unwrap_or_default();
    // Error messages come from arbitrary errors and may quote a key or an address: scrub them like content.
    if let Some((_, message)) = &mut state.error {
        // Bounded: the message was kept to the scrubber's input size when recorded, and is cut here.
        match shared.content.scrubber().scrub_capped(message, MAX_VALUE_BYTES) {
            Cow::Owned(clean) => *message = clean,
            Cow::Borrowed(clean) => {
                let len = clean.len();
                message.truncate(len);
            }
        }
    }
    let duration_ms = elapsed.as_secs_f64() * 1000.0;

    finish_kind(&mut state, duration_ms);
    if let Some(metrics) = &shared.metrics {
        metrics.record(&state, elapsed.as_secs_f64());
    }
    super::run_span::stamp_run(&mut state);
    if state.dropped_events > 0 {
        state.set(Key::from_static_str(k::DROPPED_EVENTS), Value::I64(i64::from(state.dropped_events)));
    }
    if state.dropped_attributes > 0 {
        let n = Value::I64(i64::from(state.dropped_attributes));
        state.set_default(k::DROPPED_ATTRIBUTES, n);
    }
    if !state.truncated.is_empty() {
        let names: Vec<String> = state.truncated.iter().map(|c| c.to_string()).collect();
        state.set_default(k::TRUNCATED_ATTRIBUTES, string_array(names));
    }
    if !state.clamped.is_empty() {
        let names: Vec<String> = state.clamped.iter().map(|c| c.to_string()).collect();
        state.set(Key::from_static_str(k::CLAMPED_ATTRIBUTES), string_array(names));
    }

    let status = match &state.error {
        Some((error_type, message)) => {
            state.events.push(Event::new(
                k::EVENT_EXCEPTION,
                end,
                vec![
                    KeyValue::new(k::EXCEPTION_TYPE, error_type.to_string()),
                    KeyValue::new(k::EXCEPTION_MESSAGE, message.clone()),
                ],
                0,
            ));
            let description = if message.is_empty() { error_type.to_string() } else { message.clone() };
            Status::error(description)
        }
        None if state.kind != Kind::Other => Status::Ok,
        None => Status::Unset,
    };

    let mut name = span_name(&state, meta);
    if name.len() > MAX_VALUE_BYTES {
        name = Cow::Owned(cut_str(&name, MAX_VALUE_BYTES).to_owned());
    }
    let kind = state.kind_override.clone().unwrap_or_else(|| default_kind(&state));
    let parent_cx = if state.parent_span_id != SpanId::INVALID {
        Context::new().with_remote_span_context(SpanContext::new(
            state.trace_id,
            state.parent_span_id,
            TraceFlags::SAMPLED,
            state.parent_is_remote,
            TraceState::NONE,
        ))
    } else {
        Context::new()
    };
    let mut builder = SpanBuilder::from_name(name)
        .with_kind(kind)
        .with_start_time(state.start)
        .with_attributes(std::mem::take(&mut state.attrs));
    if !state.events.is_empty() {
        builder = builder.with_events(std::mem::take(&mut state.events));
    }
    if !state.links.is_empty() {
        builder = builder.with_links(std::mem::take(&mut state.links));
    }
    let export = || {
        PRESET.with(|p| p.set(Some((state.trace_id, state.span_id))));
        let mut span = shared.tracer.build_with_context(builder, &parent_cx);
        PRESET.with(|p| p.set(None));
        span.set_status(status);
        span.end_with_timestamp(end);
    };
    if shared.inline_processors {
        // Span processors run right here, inside `on_close` (a SimpleSpanProcessor exports on this
        // thread, holding its exporter's lock). Whatever they do must not come back into `tracing`: a
        // span opened and closed inside another span's `on_close` is never removed by the Registry (its
        // close is not the outermost one) and keeps its parent open forever, and re-entering the layer
        // could deadlock on that exporter lock. So the SDK runs under the no-op dispatcher, with
        // OpenTelemetry's own telemetry suppression on for SDK components.
        tracing::dispatcher::with_default(&tracing::Dispatch::none(), || {
            let _quiet = Context::enter_telemetry_suppressed_scope();
            export();
        });
    } else {
        // Only botanu's export queue: `on_end` just enqueues, and the exporter runs on the queue's
        // thread, where its logs reach the application's subscriber as usual.
        export();
    }
    crate::export_queue::report_drops(&shared.export_stats);
}

/// Attributes each kind writes at close: its duration and, for a failed span, its error message.
fn finish_kind(state: &mut SpanState, duration_ms: f64) {
    let spec = state.kind.spec();
    match state.kind {
        Kind::Run => return finish_run(state, duration_ms),
        Kind::Tool => {
            let failed = state.error.is_some();
            if failed {
                state.set(Key::from_static_str(k::TOOL_SUCCESS), Value::Bool(false));
            } else {
                state.set_default(k::TOOL_SUCCESS, Value::Bool(true));
            }
        }
        Kind::Step | Kind::Llm | Kind::Db | Kind::Storage | Kind::Messaging | Kind::Other => {}
    }
    if let Some(key) = spec.duration_key {
        state.set_default(key, Value::F64(duration_ms));
    }
    if let (Some(key), Some((error_type, message))) = (spec.error_key, &state.error) {
        let message = if message.is_empty() { error_type.to_string() } else { message.clone() };
        state.set_default(key, Value::from(message));
    }
}

fn finish_run(state: &mut SpanState, duration_ms: f64) {
    let Some(run) = state.run.clone() else { return };
    state.set(Key::from_static_str(k::RUN_DURATION_MS), Value::F64(duration_ms));
    if let Some(event_id) = run.event_id() {
        state.set_default(k::EVENT_ID, Value::from(event_id.to_string()));
    }
    if let Some(outcome) = run.fields().outcome_status {
        state.set(Key::from_static_str(k::OUTCOME_STATUS), Value::from(outcome));
    }
    let mut attrs = vec![
        KeyValue::new(k::RUN_EVENT_RUN_ID, run.run_id.to_string()),
        KeyValue::new(k::RUN_EVENT_WORKFLOW, run.workflow.to_string()),
        KeyValue::new(k::RUN_EVENT_STATUS, if state.error.is_some() { "error" } else { "success" }),
        KeyValue::new(k::RUN_EVENT_DURATION_MS, duration_ms),
    ];
    if let Some((error_type, _)) = &state.error {
        attrs.push(KeyValue::new(k::RUN_EVENT_ERROR_CLASS, error_type.to_string()));
    }
    state.events.push(Event::new(k::EVENT_RUN_COMPLETED, SystemTime::now(), attrs, 0));
}

fn str_attr<'a>(state: &'a SpanState, key: &str) -> Cow<'a, str> {
    state.get_str(key).unwrap_or(Cow::Borrowed("unknown"))
}

/// The exported name, per the contract's span table.
fn span_name(state: &SpanState, meta: &'static Metadata<'static>) -> Cow<'static, str> {
    if let Some(name) = &state.name_override {
        return name.clone();
    }
    let spec = state.kind.spec();
    let name = match &spec.name {
        Name::Prefixed(prefix, separator, key) => concat(&[prefix, separator, &str_attr(state, key)]),
        Name::OperationModel => match state.get_str(k::GEN_AI_REQUEST_MODEL) {
            Some(model) => concat(&[&str_attr(state, k::GEN_AI_OPERATION_NAME), " ", &model]),
            None => str_attr(state, k::GEN_AI_OPERATION_NAME).into_owned(),
        },
        Name::SystemOperation(prefix) => {
            let system = spec.system.as_ref().map_or(Cow::Borrowed("unknown"), |s| str_attr(state, s.key));
            let op = spec.operation.as_ref().map_or(Cow::Borrowed("unknown"), |op| str_attr(state, op.key));
            concat(&[prefix, &system, ".", &op.to_ascii_lowercase()])
        }
        Name::Callsite => return Cow::Borrowed(meta.name()),
    };
    Cow::Owned(name)
}

/// `parts` joined into one exactly-sized `String` (no `fmt` machinery, no regrowth).
fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

fn default_kind(state: &SpanState) -> SpanKind {
    let spec = state.kind.spec();
    spec.otel_kind.clone().unwrap_or_else(|| {
        let op = spec.operation.as_ref().and_then(|op| state.get_str(op.key));
        kinds::messaging_kind(op.as_deref())
    })
}
