//! Turning a closed span's state into one OpenTelemetry span.
//!
//! The OTel span is built once, at close, from data already in its final shape: name and kind derived
//! from the kind, the run's keys stamped on, the failure turned into one `exception` event and an
//! ERROR status, with its real start and end times. When botanu's export queues are the provider's only
//! span processors, the exported `SpanData` is built here and handed to them; when a user's processor
//! is there too, the span goes through the SDK's tracer, so each processor gets its `on_start` and
//! `on_end` (see `deliver`).
//!
//! Ids: the layer must know a span's id when it *opens* (children and propagation need it), but the SDK
//! mints ids inside `build_with_context` from the provider's `IdGenerator`. botanu's provider therefore
//! uses [`PresetIdGenerator`], which hands out the ids the layer chose, set in a thread-local just
//! before the build on the same thread (the direct path sets them itself).

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::time::SystemTime;

use opentelemetry::trace::Span as _;
use opentelemetry::trace::{
    Event, SpanBuilder, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
};
use opentelemetry::{Context, Key, KeyValue, Value};
use opentelemetry_sdk::trace::{IdGenerator, SpanData, SpanEvents, SpanLinks, SpanProcessor as _};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tracing_core::Metadata;

use super::kinds::{self, Kind, Name};
use super::state::SpanState;
use super::values::{string_array, OtelStatus};
use super::Shared;
use crate::dialect::{canonical_key, TokenKind};
use crate::semconv as k;
use crate::text::{cut_str, MAX_VALUE_BYTES};

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
/// Runs on the finisher (see `finisher`), or on the application thread (`botanu::testing`, or the
/// finisher is behind); `end` is when the span closed, `run_open` what `cost::closing` counted then.
/// Whether the OTel span reached botanu's export queue: not without a botanu queue, nor when the SDK
/// dropped it (a span finished inline after the tracer provider was shut down).
pub(crate) fn finish(
    mut state: SpanState,
    shared: &Shared,
    meta: &'static Metadata<'static>,
    end: SystemTime,
    run_open: u64,
) -> bool {
    let elapsed = end.duration_since(state.start).unwrap_or_default();
    // An `#[instrument]` run's arguments and return value, through the gate and the scrubber.
    super::instrument::finish(&mut state, shared);
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

    settle_status(&mut state);
    // Decided before `finish_kind` writes its close-time defaults (`botanu.tool.success`), which are
    // not evidence of anything.
    let outcome = super::metrics::outcome(&state);
    if state.kind == Kind::Llm {
        // Read before anything is written back (the canonical keys, botanu's cache keys).
        state.usage = Some(super::cost::reading(&state));
    }
    let cost = super::cost::finish(&mut state, shared, run_open);
    if let Some(budget) = &shared.budget {
        budget.finish(&mut state, shared, cost.as_ref());
    }
    finish_kind(&mut state, duration_ms, end, shared.semconv);
    if let Some(metrics) = &shared.metrics {
        metrics.record(&state, elapsed.as_secs_f64(), outcome);
    }
    apply_semconv_names(&mut state, shared.semconv);
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
        // A run is the application's own unit of work, so botanu, acting for the application, says how it
        // ended (the contract: OK or ERROR). Every other span is instrumentation, which the OTel spec asks
        // to leave success Unset: only a span that said so itself (`otel.status_code = ok`) is OK.
        None if state.kind == Kind::Run || state.otel_status == Some(OtelStatus::Ok) => Status::Ok,
        None => Status::Unset,
    };

    let mut name = span_name(&state, meta);
    if name.len() > MAX_VALUE_BYTES {
        name = Cow::Owned(cut_str(&name, MAX_VALUE_BYTES).to_owned());
    }
    if let Some(ledger) = shared.cost.as_ref().and_then(|cost| cost.ledger.as_deref()) {
        super::cost::ledger_line(&state, &name, ledger);
    }
    let kind = state.kind_override.clone().unwrap_or_else(|| default_kind(&state));
    let span = Ending { name, kind, status, end };
    if shared.user_processors {
        // The user's processors run right here: on the finisher, or on the application thread inside
        // `on_close` (`botanu::testing`, or a finisher that is behind). Whatever they do must not come
        // back into `tracing`: a span opened and closed inside another span's `on_close` is never
        // removed by the Registry (its close is not the outermost one) and keeps its parent open
        // forever, re-entering the layer could deadlock on a processor's own lock (a
        // SimpleSpanProcessor exports holding its exporter's), and on the finisher a processor's
        // telemetry would feed spans back into the pipeline that carries it. So the SDK runs under the
        // no-op dispatcher, with OpenTelemetry's own telemetry suppression on for SDK components.
        tracing::dispatcher::with_default(&tracing::Dispatch::none(), || {
            // The finisher runs suppressed already.
            let _quiet = (!Context::is_current_telemetry_suppressed()).then(Context::enter_telemetry_suppressed_scope);
            deliver(&mut state, span, shared)
        })
    } else {
        // Only botanu's export queues: `on_end` just enqueues, and the exporter runs on the queue's thread.
        deliver(&mut state, span, shared)
    }
}

/// What `finish` decided for the OTel span besides the state: name, kind, status and end time.
#[derive(Clone)]
struct Ending {
    name: Cow<'static, str>,
    kind: SpanKind,
    status: Status,
    end: SystemTime,
}

/// Hands the finished span to the provider's processors; whether it reached a botanu export queue.
///
/// With botanu's queues alone, the exported `SpanData` is built here and given to them: the SDK's way
/// (a tracer build with preset ids, the sampler, an SDK span, its end) would make the same data with
/// more work, and nothing but the queues would see the span. The same once the provider is shutting
/// down, when the SDK no longer delivers spans: the finisher's last spans then reach the queues and the
/// user's processors directly (see `pipeline::user`). Otherwise the span goes through the SDK's tracer,
/// so each user processor gets its `on_start` and `on_end`.
fn deliver(state: &mut SpanState, span: Ending, shared: &Shared) -> bool {
    // Only with a running finisher: its last spans are the ones the SDK's shutdown would lose (inline,
    // a span ended after the shutdown is discarded, as the SDK does).
    let shutting_down = shared.pipeline.as_ref().is_some_and(|p| p.is_running()) && shared.link.provider_shut_down();
    if !shared.user_processors || shutting_down {
        let to_users = shared.user_processors;
        if shared.queues.is_empty() && !to_users {
            // No span processor at all (`OTEL_TRACES_EXPORTER=none`): nothing to build.
            return false;
        }
        let data = span_data(state, span, shared);
        return crate::pipeline::reaches_queue(|| {
            let n = shared.queues.len();
            for (i, queue) in shared.queues.iter().enumerate() {
                if i + 1 == n && !to_users {
                    return queue.on_end(data);
                }
                queue.on_end(data.clone());
            }
            if to_users {
                shared.link.deliver(data);
            }
        });
    }
    #[cfg(test)]
    parity::tap(state, &span, shared);
    let Ending { name, kind, status, end } = span;
    let parent_cx = if state.parent_span_id != SpanId::INVALID {
        Context::new().with_remote_span_context(parent_context(state))
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
    PRESET.with(|p| p.set(Some((state.trace_id, state.span_id))));
    let mut sdk_span = shared.tracer.build_with_context(builder, &parent_cx);
    PRESET.with(|p| p.set(None));
    sdk_span.set_status(status);
    crate::pipeline::reaches_queue(|| sdk_span.end_with_timestamp(end))
}

/// The span context of the state's parent, as the SDK's tracer is given it.
fn parent_context(state: &SpanState) -> SpanContext {
    SpanContext::new(
        state.trace_id,
        state.parent_span_id,
        TraceFlags::SAMPLED,
        state.parent_is_remote,
        TraceState::NONE,
    )
}

/// The exported span, exactly as the SDK's tracer makes it from the same parts with botanu's provider
/// (tests/export_parity.rs compares every field): the span context the layer chose, sampled (the
/// provider's sampler is `AlwaysOn`; its trace state is the parent's, which botanu gives none), the
/// parent's id and remote flag, and the provider's span limits applied to attributes, events and
/// links — counting what is cut as the SDK does.
fn span_data(state: &mut SpanState, span: Ending, shared: &Shared) -> SpanData {
    let limits = &shared.span_limits;
    let mut attributes = std::mem::take(&mut state.attrs);
    let dropped_attributes_count = cut(&mut attributes, limits.max_attributes_per_span);
    let mut events = std::mem::take(&mut state.events);
    let dropped_events = cut(&mut events, limits.max_events_per_span);
    for event in &mut events {
        event.dropped_attributes_count = cut(&mut event.attributes, limits.max_attributes_per_event);
    }
    let mut links = std::mem::take(&mut state.links);
    let dropped_links = cut(&mut links, limits.max_links_per_span);
    for link in &mut links {
        link.dropped_attributes_count = cut(&mut link.attributes, limits.max_attributes_per_link);
    }
    let has_parent = state.parent_span_id != SpanId::INVALID;
    // Both are `non_exhaustive`: made from their defaults.
    let mut span_events = SpanEvents::default();
    (span_events.events, span_events.dropped_count) = (events, dropped_events);
    let mut span_links = SpanLinks::default();
    (span_links.links, span_links.dropped_count) = (links, dropped_links);
    SpanData {
        span_context: SpanContext::new(state.trace_id, state.span_id, TraceFlags::SAMPLED, false, TraceState::NONE),
        parent_span_id: state.parent_span_id,
        parent_span_is_remote: has_parent && state.parent_is_remote,
        span_kind: span.kind,
        name: span.name,
        start_time: state.start,
        end_time: span.end,
        attributes,
        dropped_attributes_count,
        events: span_events,
        links: span_links,
        status: span.status,
        instrumentation_scope: shared.scope.clone(),
    }
}

/// Cuts `items` to `limit`; how many were cut.
fn cut<T>(items: &mut Vec<T>, limit: u32) -> u32 {
    let limit = limit as usize;
    let over = items.len().saturating_sub(limit);
    items.truncate(limit);
    u32::try_from(over).unwrap_or(u32::MAX)
}

/// Turns `otel.status_code = error` into the span's failure, now that every field is recorded: the
/// span's `error.type` (recorded before or after the status code) names it, `otel.status_description`
/// describes it. A failure without a message of its own takes the description too.
fn settle_status(state: &mut SpanState) {
    if state.error.is_none() && state.otel_status == Some(OtelStatus::Error) {
        let error_type = state.get_str(k::ERROR_TYPE).map_or(Cow::Borrowed("error"), |t| Cow::Owned(t.into_owned()));
        let message = state.status_description.clone().unwrap_or_default();
        state.fail(&error_type, &message);
    }
    if let (Some((_, message)), Some(description)) = (&mut state.error, &state.status_description) {
        if message.is_empty() {
            message.clone_from(description);
        }
    }
}

/// Longest error type name written to `botanu.data.error` and its siblings, in bytes: a type name is
/// short, and anything longer is not one.
pub(crate) const MAX_ERROR_TYPE_BYTES: usize = 128;

/// LLM token counts in the canonical spellings: a count a crate wrote only under its own name (adk-rust's
/// `gen_ai.usage.cache_read_tokens`, rig's `reasoning_tokens`, …) is written under the semconv key too, and
/// the semconv cache keys a foreign span records become the `botanu.usage.*` figures botanu's own setters
/// produce, so every LLM span reads the same way whoever instrumented it. A crate total that disagrees
/// with the parts is recorded (`botanu.usage.total_tokens_mismatch`). (`set_tokens` writes the keys itself.)
fn mirror_semconv_tokens(state: &mut SpanState, opt_in: crate::config::SemconvOptIn) {
    let Some(reading) = state.usage else { return };
    if !reading.any {
        return;
    }
    let t = reading.tokens;
    let cache_write_key = cache_write_key(opt_in);
    for (kind, count) in [
        (TokenKind::CacheRead, t.cache_read),
        (TokenKind::CacheWrite, t.cache_writes()),
        (TokenKind::Reasoning, t.reasoning),
        (TokenKind::AudioInput, t.audio_input),
        (TokenKind::AudioOutput, t.audio_output),
    ] {
        if let (Some(key), true) = (canonical_key(kind, cache_write_key), count > 0) {
            let other_write_key = kind == TokenKind::CacheWrite
                && [k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, k::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]
                    .iter()
                    .any(|key| state.get(key).is_some());
            if !other_write_key {
                state.set_default(key, Value::I64(i64::try_from(count).unwrap_or(i64::MAX)));
            }
        }
    }
    if let Some(total) = reading.total_mismatch {
        state.set_default(k::USAGE_TOTAL_TOKENS_MISMATCH, Value::I64(i64::try_from(total).unwrap_or(i64::MAX)));
    }
    // Botanu's own setters wrote their figures already (and `cached` may differ from `cache_read`).
    if state.get(k::USAGE_CACHED_TOKENS).is_some() || state.get(k::USAGE_CACHE_READ_TOKENS).is_some() {
        return;
    }
    // The keys say how the input was counted, as `set_tokens` writes them: `cache_read_tokens` /
    // `cache_write_tokens` beside an input that excludes them; `cached_tokens` alone for one that includes
    // them (a reader re-pricing the span would otherwise count the cached tokens twice).
    let as_i64 = |n: u64| Value::I64(i64::try_from(n).unwrap_or(i64::MAX));
    if t.cache_read > 0 {
        state.set_default(k::USAGE_CACHED_TOKENS, as_i64(t.cache_read));
    }
    if t.input_counting == crate::cost::InputCounting::ExcludesCache {
        if t.cache_read > 0 {
            state.set_default(k::USAGE_CACHE_READ_TOKENS, as_i64(t.cache_read));
        }
        if t.cache_writes() > 0 {
            state.set_default(k::USAGE_CACHE_WRITE_TOKENS, as_i64(t.cache_writes()));
        }
    }
}

/// The cache-write token key `OTEL_SEMCONV_STABILITY_OPT_IN` selects.
fn cache_write_key(opt_in: crate::config::SemconvOptIn) -> &'static str {
    if opt_in.gen_ai_latest_experimental {
        k::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS
    } else {
        k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS
    }
}

/// The written names follow `OTEL_SEMCONV_STABILITY_OPT_IN` (both are always read): an LLM span's
/// cache-write count moves to the selected key; a database span's system, operation and name are written
/// under today's keys, the stable ones, or both. Run last, after pricing and metrics read the span.
fn apply_semconv_names(state: &mut SpanState, opt_in: crate::config::SemconvOptIn) {
    use crate::config::DatabaseNames;
    match state.kind {
        Kind::Llm => {
            let (from, to) = if opt_in.gen_ai_latest_experimental {
                (k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, k::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS)
            } else {
                (k::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS)
            };
            rename(state, from, to);
        }
        Kind::Db => {
            for (old, stable) in [
                (k::DB_SYSTEM, k::DB_SYSTEM_NAME),
                (k::DB_OPERATION, k::DB_OPERATION_NAME),
                (k::DB_NAME, k::DB_NAMESPACE),
            ] {
                match opt_in.database {
                    DatabaseNames::Old => rename(state, stable, old),
                    DatabaseNames::Stable => rename(state, old, stable),
                    DatabaseNames::Both => {
                        for (from, to) in [(old, stable), (stable, old)] {
                            if let (Some(value), None) = (state.get(from).cloned(), state.get(to)) {
                                state.set(Key::from_static_str(to), value);
                            }
                        }
                    }
                }
            }
        }
        Kind::Run | Kind::Step | Kind::Tool | Kind::Storage | Kind::Messaging | Kind::Other => {}
    }
}

/// Moves the attribute `from` to `to` (kept where it is if `to` is already set: a span's own value wins).
fn rename(state: &mut SpanState, from: &str, to: &'static str) {
    let Some(i) = state.attrs.iter().position(|kv| kv.key.as_str() == from) else { return };
    if state.get(to).is_some() {
        state.attrs.remove(i);
    } else {
        state.attrs[i].key = Key::from_static_str(to);
    }
}

/// Attributes each kind writes at close: its duration and, for a failed span, its error type name.
fn finish_kind(state: &mut SpanState, duration_ms: f64, end: SystemTime, opt_in: crate::config::SemconvOptIn) {
    let spec = state.kind.spec();
    match state.kind {
        Kind::Run => return finish_run(state, duration_ms, end),
        // A failed tool is not successful whatever its result said. Success is written only by a recorded
        // result (`set_result`): a tool that closed with no evidence is not claimed to have succeeded.
        Kind::Tool if state.error.is_some() => state.set(Key::from_static_str(k::TOOL_SUCCESS), Value::Bool(false)),
        Kind::Tool => {}
        Kind::Llm => mirror_semconv_tokens(state, opt_in),
        Kind::Step | Kind::Db | Kind::Storage | Kind::Messaging | Kind::Other => {}
    }
    if let Some(key) = spec.duration_key {
        state.set_default(key, Value::F64(duration_ms));
    }
    // The type name, as the reference writes it: the message may be long and may quote user data; it goes
    // into the `exception` event only.
    if let (Some(key), Some((error_type, _))) = (spec.error_key, &state.error) {
        let name = cut_str(error_type, MAX_ERROR_TYPE_BYTES).to_owned();
        state.set_default(key, Value::from(name));
    }
}

fn finish_run(state: &mut SpanState, duration_ms: f64, end: SystemTime) {
    let Some(run) = state.run.clone() else { return };
    super::run_span::settle_deadline(state, duration_ms);
    state.set(Key::from_static_str(k::RUN_DURATION_MS), Value::F64(duration_ms));
    if let Some(event_id) = run.event_id() {
        state.set_default(k::EVENT_ID, Value::from(event_id.to_string()));
    }
    if let Some(outcome) = run.fields().outcome_status {
        state.set(Key::from_static_str(k::OUTCOME_STATUS), Value::from(outcome));
    }
    let outcome = run.fields().outcome_status;
    let mut attrs = vec![
        KeyValue::new(k::RUN_EVENT_RUN_ID, run.run_id.to_string()),
        KeyValue::new(k::RUN_EVENT_WORKFLOW, run.workflow.to_string()),
        KeyValue::new(k::RUN_EVENT_STATUS, run_status(state.error.is_some(), outcome)),
        KeyValue::new(k::RUN_EVENT_DURATION_MS, duration_ms),
    ];
    if let Some((error_type, _)) = &state.error {
        attrs.push(KeyValue::new(k::RUN_EVENT_ERROR_CLASS, error_type.to_string()));
    }
    state.events.push(Event::new(k::EVENT_RUN_COMPLETED, end, attrs, 0));
}

/// The reference's run status: `failure` for a failed run; else the outcome the run emitted, in the run
/// status vocabulary (`failed` → `failure`, `partial`, `timeout`, `canceled`); else `success`.
fn run_status(failed: bool, outcome: Option<&str>) -> &'static str {
    match outcome {
        _ if failed => k::RUN_STATUS_FAILURE,
        Some("failed") => k::RUN_STATUS_FAILURE,
        Some("partial") => k::RUN_STATUS_PARTIAL,
        Some("timeout") => k::RUN_STATUS_TIMEOUT,
        Some("canceled") => k::RUN_STATUS_CANCELED,
        _ => k::RUN_STATUS_SUCCESS,
    }
}

fn str_attr<'a>(state: &'a SpanState, key: &str) -> Cow<'a, str> {
    state.get_str(key).unwrap_or(Cow::Borrowed("unknown"))
}

/// The names of the spans botanu's macros make: only those are named by the contract's table.
const MACRO_SPAN_NAMES: [&str; 7] = [
    k::span_names::RUN,
    k::span_names::STEP,
    k::span_names::LLM,
    k::span_names::TOOL,
    k::span_names::DB,
    k::span_names::STORAGE,
    k::span_names::MESSAGING,
];

/// The exported name: `otel.name` if the span has one; the contract's table for a span made by botanu's
/// macros; the span's own name for anyone else's (an `#[instrument]` function, a library's span), which
/// botanu recognizes and enriches but does not rename.
fn span_name(state: &SpanState, meta: &'static Metadata<'static>) -> Cow<'static, str> {
    if let Some(name) = &state.name_override {
        return name.clone();
    }
    if !MACRO_SPAN_NAMES.contains(&meta.name()) {
        return Cow::Borrowed(meta.name());
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

/// The direct path against the SDK's: while a test taps it, each span that goes through the SDK is also
/// built directly from the same parts, and both must come out equal in every field.
#[cfg(test)]
mod parity {
    use std::cell::RefCell;

    use super::*;

    thread_local! {
        static TAPPED: RefCell<Option<Vec<SpanData>>> = const { RefCell::new(None) };
    }

    /// Records what the direct path makes of the span about to go through the SDK, when tapping.
    pub(super) fn tap(state: &SpanState, span: &Ending, shared: &Shared) {
        TAPPED.with(|tapped| {
            if let Some(tapped) = tapped.borrow_mut().as_mut() {
                let mut copy = SpanState::new(state.kind, state.trace_id, state.span_id, state.start);
                copy.parent_span_id = state.parent_span_id;
                copy.parent_is_remote = state.parent_is_remote;
                copy.attrs = state.attrs.clone();
                copy.events = state.events.clone();
                copy.links = state.links.clone();
                tapped.push(span_data(&mut copy, span.clone(), shared));
            }
        });
    }

    /// Runs `f` on this thread with the tap on; what the direct path made of each span, in order.
    pub(super) fn tapped(f: impl FnOnce()) -> Vec<SpanData> {
        TAPPED.with(|tapped| *tapped.borrow_mut() = Some(Vec::new()));
        f();
        TAPPED.with(|tapped| tapped.borrow_mut().take().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::Link;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::SpanProcessor;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;
    use crate::prelude::*;

    /// Keeps every span it is given, on the thread that ends it.
    #[derive(Debug, Clone, Default)]
    struct Keep(Arc<Mutex<Vec<SpanData>>>);

    impl SpanProcessor for Keep {
        fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}
        fn on_end(&self, span: SpanData) {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).push(span);
        }
        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
            Ok(())
        }
    }

    /// The spans botanu's queues get directly are the spans the SDK makes from the same parts, field
    /// for field: ids, parent and its remote flag, kind, name, times, attributes (past the limit too,
    /// with the dropped count), events (past the limit, with the count), links with attributes, status,
    /// instrumentation scope. Every span of an LLM call with events, links and a failure, a run tree
    /// with a step, LLM and database children, and a span under a remote parent.
    #[test]
    fn a_span_built_directly_equals_the_sdks_in_every_field() {
        let keep = Keep::default();
        let (layer, guard) = crate::Builder::new()
            .with_max_events_per_span(4)
            .with_span_processor(keep.clone())
            .finish_inline()
            .build::<tracing_subscriber::Registry>()
            .expect("pipeline");
        let shared = layer.shared.clone();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        let direct = super::parity::tapped(|| {
            tracing::dispatcher::with_default(&dispatch, || {
                let remote = crate::propagation::extract(&std::collections::HashMap::from([(
                    "traceparent".to_owned(),
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
                )]));
                let run = run_span!(workflow = "parity", event_id = "e-1", customer_id = "acme");
                run.set_remote_parent(&remote, crate::propagation::RunRelation::Continue);
                run.in_scope(|| {
                    let earlier = step_span!("earlier");
                    earlier.in_scope(|| {});
                    step_span!("answer").in_scope(|| {
                        let llm = llm_span!(provider = "openai", model = "gpt-4o");
                        llm.follows_from(&earlier);
                        llm.in_scope(|| {
                            for i in 0..30 {
                                tracing::info!(attempt = i, "retrying");
                            }
                            llm.set_tokens(Tokens { input: 120, output: 30, ..Default::default() });
                            // Past the span's attribute limit: cut, and counted, the same way.
                            for i in 0..300 {
                                llm.add_metadata(&format!("k{i}"), "v");
                            }
                            llm.set_error_type("RateLimited", "429 from the provider");
                        });
                        db_span!(system = "postgresql", operation = "SELECT", database = "app")
                            .set_result(DbResult { rows_returned: 3, ..Default::default() });
                    });
                });
            })
        });
        drop(dispatch);
        let via_sdk = keep.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let names = |spans: &[SpanData]| spans.iter().map(|s| s.name.to_string()).collect::<Vec<_>>();
        assert_eq!(via_sdk.len(), 5, "{:?} {:?}", names(&via_sdk), names(&direct));
        assert_eq!(direct.len(), via_sdk.len());
        for (direct, sdk) in direct.iter().zip(&via_sdk) {
            assert_eq!(direct, sdk, "the direct span differs from the SDK's");
        }
        // The workload reached what it is meant to compare.
        let llm = via_sdk.iter().find(|s| s.name == "chat gpt-4o").expect("the LLM span");
        assert!(
            llm.events.len() > 1 && !llm.links.is_empty() && matches!(llm.status, Status::Error { .. }),
            "{:?} {:?} {:?}",
            llm.events,
            llm.links,
            llm.status
        );
        let run = via_sdk.iter().find(|s| s.name == "botanu.run/parity").expect("the run");
        assert!(run.parent_span_is_remote && run.span_kind == SpanKind::Server);
        assert_eq!(run.parent_span_id.to_string(), "00f067aa0ba902b7");

        // The layer keeps spans within the provider's limits itself; past them (the limits are the
        // provider's, the layer's caps its own), both paths cut and count the same way.
        keep.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let many = |n: usize| (0..n).map(|i| KeyValue::new(format!("k{i}"), i as i64)).collect::<Vec<_>>();
        let mut state = SpanState::new(Kind::Other, TraceId::from(7_u128), SpanId::from(9_u64), SystemTime::now());
        state.attrs = many(300);
        state.events = (0..40).map(|i| Event::new(format!("e{i}"), SystemTime::now(), many(200), 0)).collect();
        state.links = (0..200)
            .map(|i| {
                let cx = SpanContext::new(
                    TraceId::from(7_u128),
                    SpanId::from(i + 1),
                    TraceFlags::SAMPLED,
                    false,
                    TraceState::NONE,
                );
                Link::new(cx, many(200), 0)
            })
            .collect();
        let ending = Ending {
            name: Cow::Borrowed("over"),
            kind: SpanKind::Internal,
            status: Status::Unset,
            end: SystemTime::now(),
        };
        let direct = super::parity::tapped(|| {
            let _ = deliver(&mut state, ending, &shared);
        });
        let via_sdk = keep.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!((direct.len(), via_sdk.len()), (1, 1));
        assert_eq!(direct[0], via_sdk[0], "past the limits, the direct span differs from the SDK's");
        let over = &via_sdk[0];
        assert!(over.dropped_attributes_count > 0 && over.events.dropped_count > 0 && over.links.dropped_count > 0);
        assert!(over.events[0].dropped_attributes_count > 0 && over.links[0].dropped_attributes_count > 0);
        guard.shutdown().expect("shutdown");
    }
}
