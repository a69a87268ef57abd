//! Events inside exported spans: an error event fails its span (when it is the span's own work, see
//! [`owns_event`]), any other becomes a span event; messages are scrubbed like content, fields of
//! secret-looking names redacted, everything bounded. `#[instrument(ret)]` return values are the
//! `instrument` module's.
//!
//! The event's fields are formatted before any span's state is locked: a field's `Debug` is user code,
//! and user code may call back into botanu (a setter, another event) — which must not find the lock
//! held (issue 28).

use std::time::SystemTime;

use opentelemetry::trace::Event;
use opentelemetry::{Key, KeyValue, Value};
use tracing_core::field::{Field, Visit};
use tracing_core::{Event as TracingEvent, Level, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::instrument;
use super::state::SpanState;
use super::Shared;
use crate::content::SecretKeys;
use crate::semconv as k;
use crate::text::{cut_str, MAX_VALUE_BYTES, SCRUB_INPUT_BYTES};

/// `Layer::on_event`.
pub(super) fn on_event<S>(shared: &Shared, event: &TracingEvent<'_>, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    // Before the level filter: `#[instrument(level = "debug", ret)]` returns at DEBUG, and swiftide logs
    // its usage at DEBUG.
    if instrument::is_return_event(event.metadata()) && instrument::record_return(event, ctx, shared) {
        return;
    }
    if event.metadata().fields().field(k::LANGFUSE_USAGE).is_some() && record_langfuse_usage(shared, event, ctx) {
        return;
    }
    // Libraries' DEBUG/TRACE chatter (an HTTP client's connection pool, say) is not cost data.
    // In `tracing`, more verbose levels compare greater.
    if *event.metadata().level() > shared.event_level || opentelemetry::Context::is_current_telemetry_suppressed() {
        return;
    }
    let Some(span) = ctx.event_span(event) else { return };
    // The nearest exported span, found with a read lock that is released before the fields are read.
    let Some(target) = span.scope().find(|s| s.extensions().get::<SpanState>().is_some()) else { return };
    let mut visitor = EventFields::new(&shared.secret_keys, shared.content.scrubber().replacement());
    event.record(&mut visitor);
    if !visitor.content.is_empty() {
        let run_id = target.extensions().get::<SpanState>().and_then(|s| s.run.as_ref().map(|r| r.run_id.clone()));
        visitor.gate_content(event.metadata().name(), shared, run_id.as_deref());
    }
    let meta = event.metadata();
    let is_error = *meta.level() == Level::ERROR || visitor.error_type.is_some();
    let owned = is_error && owns_event(target.metadata(), event);
    // Built (scrubbed) before the lock too: the scrubber is botanu's, but it is the bulk of the work.
    let outcome = if owned {
        let error_type = visitor.error_type.take().unwrap_or_else(|| "error".to_owned());
        Err((error_type, visitor.message.take().unwrap_or_default()))
    } else {
        // A library's error that is not this span's own work (see `owns_event`) is kept as an ordinary
        // event: visible, but it does not fail the span.
        if let Some(error_type) = visitor.error_type.take() {
            visitor.attrs.push(KeyValue::new(k::ERROR_TYPE, error_type));
        }
        let name = match visitor.message.take() {
            // A log message may quote a key or an address: events are scrubbed like content, on a
            // bounded window (the message was formatted to at most the scrubber's input).
            Some(m) => shared.content.scrubber().scrub_capped(&m, MAX_VALUE_BYTES).into_owned(),
            None => meta.name().to_owned(),
        };
        Ok(Event::new(name, SystemTime::now(), visitor.attrs, 0))
    };
    let mut ext = target.extensions_mut();
    let Some(state) = ext.get_mut::<SpanState>() else { return };
    match outcome {
        Err((error_type, message)) => state.fail(&error_type, &message),
        Ok(event) => state.push_event(event, shared.max_events),
    }
}

/// Whether an error event belongs to the work of the exported span it is recorded on, and so fails it.
///
/// `tracing` hands the layer an event with the span that is current (or the explicit parent), but a
/// library often logs an error it handles or returns while none of its own spans is entered (genai logs
/// a failed stream that way), so the event lands on the caller's span — typically the business run. The
/// rule, from what is knowable in `on_event`:
/// - an event with an explicit parent (`error!(parent: &span, …)`) belongs to that span: its author chose it;
/// - otherwise the event belongs to the span when both callsites are in the same crate (the first
///   segment of their module paths): the user's own `tracing::error!` inside their step fails the step,
///   a library's log inside the user's span does not. The library's own spans fail through what it
///   records on them (`error.type`, `otel.status_code`, an error field), and the caller's through
///   `set_error` or an error of their own.
fn owns_event(span: &Metadata<'_>, event: &TracingEvent<'_>) -> bool {
    event.parent().is_some() || crate_of(span) == crate_of(event.metadata())
}

/// The crate of a callsite: the first segment of its module path (its target when it has none). The
/// module path, not the target: `error!(target: "audit", …)` is still the caller's own event.
fn crate_of<'a>(meta: &Metadata<'a>) -> &'a str {
    let path = meta.module_path().unwrap_or_else(|| meta.target());
    path.split("::").next().unwrap_or(path)
}

/// swiftide's usage event (feature `langfuse`: `debug!(langfuse.model, langfuse.input, langfuse.output,
/// langfuse.usage)`, the usage a JSON object). The rule: it is read when the nearest exported span is an
/// LLM span — swiftide's own model-call span declares `langfuse.type` and is one, as is an `llm_span!`
/// the application wraps the call in — because the usage belongs to that one call; on a run or a step it
/// would be an aggregate of unknown calls, beside (and possibly doubling) the calls' own spans. It is
/// then consumed: the counts become `langfuse.usage.*` attributes of the span, read by the dialect table
/// (first value kept), the model its request model unless it has one, the text gated and scrubbed into
/// `botanu.eval.*_content`; the raw event is never exported. Elsewhere `false`: the event takes the
/// ordinary path, where its text fields are gated too.
fn record_langfuse_usage<S>(shared: &Shared, event: &TracingEvent<'_>, ctx: &Context<'_, S>) -> bool
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if opentelemetry::Context::is_current_telemetry_suppressed() {
        return false;
    }
    let Some(span) = ctx.event_span(event) else { return false };
    let Some(target) = span.scope().find(|s| s.extensions().get::<SpanState>().is_some()) else { return false };
    let run_id = match target.extensions().get::<SpanState>() {
        Some(state) if state.kind == super::Kind::Llm => state.run.as_ref().map(|r| r.run_id.clone()),
        _ => return false,
    };
    let mut visitor = EventFields::new(&shared.secret_keys, shared.content.scrubber().replacement());
    event.record(&mut visitor);
    let field =
        |key: &str| visitor.attrs.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.as_str().into_owned());
    let counts =
        field(k::LANGFUSE_USAGE).map(|raw| crate::dialect::json_counts(k::LANGFUSE_USAGE, &raw)).unwrap_or_default();
    let model = field(k::LANGFUSE_MODEL);
    let mut content = Vec::new();
    for (key, text) in &visitor.content {
        let exported = match *key {
            k::LANGFUSE_INPUT => k::EVAL_INPUT_CONTENT,
            k::LANGFUSE_OUTPUT => k::EVAL_OUTPUT_CONTENT,
            _ => continue,
        };
        if let Some(kept) = shared.content.capture(run_id.as_deref(), text) {
            content.push((exported, kept));
        }
    }
    let mut ext = target.extensions_mut();
    let Some(state) = ext.get_mut::<SpanState>() else { return true };
    for (key, count) in counts {
        if let Some((_, spelling)) = crate::dialect::spelling(&key) {
            state.set_default(spelling.key, Value::I64(i64::try_from(count).unwrap_or(i64::MAX)));
        }
    }
    if let Some(model) = model.filter(|m| !m.is_empty()) {
        state.set_default(k::GEN_AI_REQUEST_MODEL, Value::from(cut_str(&model, MAX_VALUE_BYTES).to_owned()));
    }
    for (key, text) in content {
        state.set_default(key, Value::from(text));
    }
    true
}

/// Event fields that carry prompt or response text in some dialect: genai's and rig's semconv keys,
/// swiftide's Langfuse keys, tool-call arguments and results. (`content` is one too on a GenAI content
/// event, see [`EventFields::gate_content`].)
const CONTENT_FIELDS: [&str; 9] = [
    k::GEN_AI_PROMPT,
    k::GEN_AI_COMPLETION,
    k::GEN_AI_INPUT_MESSAGES,
    k::GEN_AI_OUTPUT_MESSAGES,
    k::GEN_AI_SYSTEM_INSTRUCTIONS,
    k::GEN_AI_TOOL_CALL_ARGUMENTS,
    k::GEN_AI_TOOL_CALL_RESULT,
    k::LANGFUSE_INPUT,
    k::LANGFUSE_OUTPUT,
];

/// The field of adk-rust's content events (`info!(event_name = "gen_ai.content.prompt", content = …)`).
const EVENT_CONTENT: &str = "content";
/// The field naming a GenAI event (adk-rust).
const EVENT_NAME: &str = "event_name";

/// Collects an event's message, error and other fields; values of secret-looking fields are redacted.
struct EventFields<'a> {
    secret_keys: &'a SecretKeys,
    replacement: &'a str,
    message: Option<String>,
    error_type: Option<String>,
    attrs: Vec<KeyValue>,
    /// Fields that may be prompt or response text, held back until [`EventFields::gate_content`].
    content: Vec<(&'static str, String)>,
}

impl<'a> EventFields<'a> {
    fn new(secret_keys: &'a SecretKeys, replacement: &'a str) -> Self {
        EventFields {
            secret_keys,
            replacement,
            message: None,
            error_type: None,
            attrs: Vec::new(),
            content: Vec::new(),
        }
    }

    /// Content fields through the content gate and the scrubber, as botanu's own content keys: kept
    /// (scrubbed and cut) only when capture is on and this run is sampled, else dropped — whatever the
    /// library's own capture switch said. `content` is content only on a GenAI event (its `event_name`
    /// or its name starts with `gen_ai.`); elsewhere it is an ordinary field.
    fn gate_content(&mut self, name: &str, shared: &Shared, run_id: Option<&str>) {
        let genai_event = name.starts_with("gen_ai.")
            || self.attrs.iter().any(|kv| kv.key.as_str() == EVENT_NAME && kv.value.as_str().starts_with("gen_ai."));
        for (key, text) in std::mem::take(&mut self.content) {
            if key == EVENT_CONTENT && !genai_event {
                self.attrs.push(KeyValue::new(Key::from_static_str(key), cut_str(&text, MAX_VALUE_BYTES).to_owned()));
            } else if let Some(kept) = shared.content.capture(run_id, &text) {
                self.attrs.push(KeyValue::new(Key::from_static_str(key), kept));
            }
        }
    }

    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            name if name == EVENT_CONTENT || CONTENT_FIELDS.contains(&name) => {
                // Kept whole (to the scrubber's input bound) until gated: the scrub comes before the cut.
                self.content.push((name, cut_str(&value.as_str(), SCRUB_INPUT_BYTES).to_owned()))
            }
            k::MESSAGE => self.message = Some(value.to_string()),
            k::ERROR_TYPE => self.error_type = Some(cut_str(&value.to_string(), MAX_VALUE_BYTES).to_owned()),
            name if self.secret_keys.is_secret(name) => {
                self.attrs.push(KeyValue::new(Key::from_static_str(name), self.replacement.to_owned()))
            }
            name => self.attrs.push(KeyValue::new(Key::from_static_str(name), value)),
        }
    }
}

impl Visit for EventFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        // The message keeps the scrubber's look-ahead (it is scrubbed, then cut); other values the cap.
        let content = field.name() == EVENT_CONTENT || CONTENT_FIELDS.contains(&field.name());
        let max = if field.name() == k::MESSAGE || content { SCRUB_INPUT_BYTES } else { MAX_VALUE_BYTES };
        self.put(field, Value::from(cut_str(value, max).to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::I64(i64::try_from(value).unwrap_or(i64::MAX)));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::F64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.error_type.is_none() {
            self.error_type = Some(crate::text::error_type_name(value));
        }
        if self.message.is_none() {
            self.message = Some(crate::text::display_string(value));
        }
        let _ = field;
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == k::ERROR_FIELD && self.error_type.is_none() {
            self.error_type = Some("error".to_owned());
        }
        let mut s = crate::text::debug_string(value);
        let content = field.name() == EVENT_CONTENT || CONTENT_FIELDS.contains(&field.name());
        if field.name() != k::MESSAGE && !content {
            s.truncate(cut_str(&s, MAX_VALUE_BYTES).len());
        }
        self.put(field, Value::from(s));
    }
}
