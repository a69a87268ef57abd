//! Per-span state and the field visitor that fills it.
//!
//! A [`SpanState`] lives in the span's Registry extensions from `on_new_span` to `on_close`. Fields
//! arrive through [`Recorder`], which looks up each field's [`Role`] by index (decided once per
//! callsite) and stores attributes already in their exported shape: vendors normalized, operations
//! case-normalized, integers kept as integers, content gated and scrubbed. At close the state is taken
//! out of the extensions and turned into one OpenTelemetry span (see `export`).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanId, SpanKind, TraceId};
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};

use super::classify::CallsiteInfo;
use super::kinds::Kind;
use super::values::{cow_to_string_value, OtelStatus};
use crate::run::RunContext;
use crate::semconv as k;
use crate::text::{cut_str, MAX_VALUE_BYTES, SCRUB_INPUT_BYTES};

/// Attributes a span may set itself (fields, metadata, correlation); past it new keys are dropped and
/// counted. The run keys stamped at export come on top, within the SDK's limit of 256.
pub(crate) const MAX_SPAN_ATTRIBUTES: usize = 192;
/// Bytes of span events (names, keys, string values) one span keeps; events past it are dropped and
/// counted in `botanu.dropped_events`, like events past the count cap. With [`MAX_VALUE_BYTES`] per
/// string it keeps one span's events far below a collector's message limit (4 MiB by default over gRPC),
/// so one noisy span cannot fail its neighbours' batch.
pub(crate) const MAX_EVENT_BYTES_PER_SPAN: usize = 256 * 1024;

/// A run's arguments and return value, kept until the run closes (boxed on the span state: most spans
/// have none).
#[derive(Debug, Default)]
pub(crate) struct RunIo {
    /// `(name, rendered value)` in the order first recorded; a later record of a name replaces it.
    pub(super) arguments: Vec<(&'static str, String)>,
    /// Bytes in `arguments`, against the content path's input bound (`instrument.rs`).
    pub(super) argument_bytes: usize,
    pub(super) output: Option<String>,
}

/// Everything the layer knows about one exported span while it is open.
#[derive(Debug)]
pub(crate) struct SpanState {
    pub(crate) info: Option<&'static CallsiteInfo>,
    pub(crate) kind: Kind,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// `SpanId::INVALID` for a root span.
    pub(crate) parent_span_id: SpanId,
    pub(crate) parent_is_remote: bool,
    pub(crate) start: SystemTime,
    /// The run this span belongs to (its own run for a run span).
    pub(crate) run: Option<Arc<RunContext>>,
    /// The enclosing step (its own name for a step span), stamped on descendants.
    pub(crate) step: Option<Arc<str>>,
    /// W3C `tracestate` received with a remote parent, passed on by `inject`.
    pub(crate) trace_state: Option<Arc<str>>,
    pub(crate) attrs: Vec<KeyValue>,
    pub(crate) name_override: Option<Cow<'static, str>>,
    pub(crate) kind_override: Option<SpanKind>,
    pub(crate) events: Vec<Event>,
    /// Bytes of `events`, against [`MAX_EVENT_BYTES_PER_SPAN`].
    pub(crate) event_bytes: usize,
    pub(crate) dropped_events: u32,
    pub(crate) links: Vec<Link>,
    /// `(error.type, message)` of the first failure; one `exception` event is exported for it.
    pub(crate) error: Option<(Cow<'static, str>, String)>,
    /// What `otel.status_code` said, if anything. `Error` becomes a failure at close (with the span's
    /// `error.type`, which may be recorded after the status code).
    pub(crate) otel_status: Option<OtelStatus>,
    /// `otel.status_description`: the message of a failure that has none of its own.
    pub(crate) status_description: Option<String>,
    /// Names of u64 fields clamped to `i64::MAX`.
    pub(crate) clamped: Vec<Cow<'static, str>>,
    /// Names of string attributes cut to [`MAX_VALUE_BYTES`].
    pub(crate) truncated: Vec<Cow<'static, str>>,
    /// Attributes dropped because of [`MAX_SPAN_ATTRIBUTES`].
    pub(crate) dropped_attributes: u32,
    /// The arguments and return value of a function instrumented as a run (see `instrument`).
    pub(crate) io: Option<Box<RunIo>>,
    /// An LLM span's token counts, read through the dialect table once at close (before anything is
    /// written back), for pricing and the metrics alike.
    pub(crate) usage: Option<crate::dialect::Reading>,
    /// Whether a model call (or an agent wrapping some) closed inside this (LLM) span: it is then an agent
    /// or workflow step, and its usage (the aggregate of the calls inside it) is not added again.
    pub(crate) contains_model_calls: bool,
    /// A budget reservation made for this span (`BudgetSpanExt::reserve_budget`), settled at close.
    pub(crate) budget: Option<Box<crate::budget::Reservation>>,
}

/// The attribute vector's first capacity: a cost-bearing span gets its cost attributes (and a run its
/// roll-up) at close, on the finisher, and would grow its vector there — a copy of every attribute —
/// if it started with room for its fields only.
fn attribute_capacity(kind: Kind) -> usize {
    match kind {
        Kind::Llm | Kind::Db | Kind::Storage | Kind::Messaging | Kind::Run => 32,
        Kind::Tool | Kind::Step | Kind::Other => 16,
    }
}

impl SpanState {
    pub(crate) fn new(kind: Kind, trace_id: TraceId, span_id: SpanId, start: SystemTime) -> Self {
        SpanState {
            info: None,
            kind,
            trace_id,
            span_id,
            parent_span_id: SpanId::INVALID,
            parent_is_remote: false,
            start,
            run: None,
            step: None,
            trace_state: None,
            attrs: Vec::with_capacity(attribute_capacity(kind)),
            name_override: None,
            kind_override: None,
            events: Vec::new(),
            event_bytes: 0,
            dropped_events: 0,
            links: Vec::new(),
            error: None,
            otel_status: None,
            status_description: None,
            clamped: Vec::new(),
            truncated: Vec::new(),
            dropped_attributes: 0,
            io: None,
            usage: None,
            contains_model_calls: false,
            budget: None,
        }
    }

    /// `value`, with a string longer than [`MAX_VALUE_BYTES`] cut at a character boundary and `key`
    /// named in `botanu.truncated_attributes`.
    #[inline]
    fn capped(&mut self, key: &str, value: Value) -> Value {
        match value {
            Value::String(s) if s.as_str().len() > MAX_VALUE_BYTES => self.cut(key, s),
            other => other,
        }
    }

    /// The slow path of [`Self::capped`], kept out of line so every attribute write stays small.
    #[cold]
    #[inline(never)]
    fn cut(&mut self, key: &str, s: StringValue) -> Value {
        self.note_truncated(key);
        Value::from(cut_str(s.as_str(), MAX_VALUE_BYTES).to_owned())
    }

    /// Names `key` in `botanu.truncated_attributes` (once).
    #[cold]
    pub(crate) fn note_truncated(&mut self, key: &str) {
        if !self.truncated.iter().any(|k| k == key) {
            self.truncated.push(Cow::Owned(key.to_owned()));
        }
    }

    /// Sets an attribute, replacing an earlier value of the same key. Bounded: a new key past
    /// [`MAX_SPAN_ATTRIBUTES`] is dropped and counted; a string past [`MAX_VALUE_BYTES`] is cut.
    pub(crate) fn set(&mut self, key: Key, value: Value) {
        // Keys built from user input (metadata, correlation) get the same cut as values.
        let key = if key.as_str().len() > MAX_VALUE_BYTES { cut_key(&key) } else { key };
        let value = self.capped(key.as_str(), value);
        let len = self.attrs.len();
        match self.attrs.iter_mut().find(|kv| kv.key == key) {
            Some(kv) => kv.value = value,
            None if len < MAX_SPAN_ATTRIBUTES => self.attrs.push(KeyValue::new(key, value)),
            None => self.dropped_attributes = self.dropped_attributes.saturating_add(1),
        }
    }

    /// Sets an attribute unless the span already has one under that key.
    pub(crate) fn set_default(&mut self, key: &'static str, value: Value) {
        if self.get(key).is_none() {
            // Error messages come through here too (`data.error`, …): they get the same cap as `set`.
            let value = self.capped(key, value);
            self.attrs.push(KeyValue::new(Key::from_static_str(key), value));
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.attrs.iter().find(|kv| kv.key.as_str() == key).map(|kv| &kv.value)
    }

    pub(crate) fn get_str(&self, key: &str) -> Option<Cow<'_, str>> {
        match self.get(key)? {
            Value::String(s) => Some(Cow::Borrowed(s.as_str())),
            other => Some(Cow::Owned(other.to_string())),
        }
    }

    /// Records a failure: the first one wins, so a span has one `exception` event however many
    /// times an error is reported (an error event *and* `set_error`, say). Both strings are cut before
    /// they are copied: the type to [`MAX_VALUE_BYTES`], the message to [`SCRUB_INPUT_BYTES`] (it is
    /// scrubbed and cut to the cap at close).
    pub(crate) fn fail(&mut self, error_type: &str, message: &str) {
        if self.error.is_none() {
            let error_type: Cow<'static, str> = Cow::Owned(cut_str(error_type, MAX_VALUE_BYTES).to_owned());
            self.set(Key::from_static_str(k::ERROR_TYPE), Value::String(cow_to_string_value(error_type.clone())));
            self.error = Some((error_type, cut_str(message, SCRUB_INPUT_BYTES).to_owned()));
        }
    }

    /// Adds a span event, within the per-span caps: `max_events` events and
    /// [`MAX_EVENT_BYTES_PER_SPAN`] bytes. An event past either is dropped and counted.
    pub(crate) fn push_event(&mut self, mut event: Event, max_events: usize) {
        cut_event(&mut event);
        let bytes = event_bytes(&event);
        if self.events.len() < max_events && self.event_bytes.saturating_add(bytes) <= MAX_EVENT_BYTES_PER_SPAN {
            self.event_bytes += bytes;
            self.events.push(event);
        } else {
            self.dropped_events = self.dropped_events.saturating_add(1);
        }
    }

    /// Whether this (LLM) span is a model call — priced, counted in the token metrics — rather than an
    /// agent or workflow step: its `gen_ai.operation.name` is a model operation, or absent, and no model
    /// call closed inside it (a span wrapping model calls is their agent, whatever it is named). The one
    /// definition, for cost and metrics alike (a non-string operation is read as its text).
    pub(crate) fn is_model_call(&self) -> bool {
        !self.contains_model_calls
            && self.get(k::GEN_AI_OPERATION_NAME).is_none_or(|op| crate::normalize::is_model_operation(&op.as_str()))
    }

    /// Prefix of free-form metadata keys for this kind of span.
    pub(crate) fn metadata_prefix(&self) -> &'static str {
        self.kind.spec().metadata_prefix
    }

    /// Sets an unsigned count: past `i64::MAX` (OTel integers are signed) it is clamped there and the key
    /// listed once in `botanu.clamped_attributes`; a later value that fits takes it off the list.
    pub(crate) fn set_u64(&mut self, key: Key, value: u64) {
        let listed = self.clamped.iter().position(|k| k == key.as_str());
        let v = match (i64::try_from(value), listed) {
            (Ok(v), None) => v,
            (Ok(v), Some(i)) => {
                self.clamped.swap_remove(i);
                v
            }
            (Err(_), Some(_)) => i64::MAX,
            (Err(_), None) => {
                self.clamped.push(Cow::Owned(key.as_str().to_owned()));
                i64::MAX
            }
        };
        self.set(key, Value::I64(v));
    }
}

/// `key` cut to [`MAX_VALUE_BYTES`].
#[cold]
#[inline(never)]
fn cut_key(key: &Key) -> Key {
    Key::new(cut_str(key.as_str(), MAX_VALUE_BYTES).to_owned())
}

/// Cuts an event's name, attribute keys and string attribute values to [`MAX_VALUE_BYTES`] (the layer's own event
/// paths cut while formatting; this covers events built from values the caller owns).
fn cut_event(event: &mut Event) {
    if event.name.len() > MAX_VALUE_BYTES {
        event.name = Cow::Owned(cut_str(&event.name, MAX_VALUE_BYTES).to_owned());
    }
    for kv in &mut event.attributes {
        if kv.key.as_str().len() > MAX_VALUE_BYTES {
            kv.key = cut_key(&kv.key);
        }
        if let Value::String(s) = &kv.value {
            if s.as_str().len() > MAX_VALUE_BYTES {
                kv.value = Value::from(cut_str(s.as_str(), MAX_VALUE_BYTES).to_owned());
            }
        }
    }
}

/// What an event weighs against [`MAX_EVENT_BYTES_PER_SPAN`]: its name, keys and string values, and
/// 8 bytes for any other value.
fn event_bytes(event: &Event) -> usize {
    let value_bytes = |v: &Value| match v {
        Value::String(s) => s.as_str().len(),
        Value::Array(Array::String(items)) => items.iter().map(|s| s.as_str().len()).sum(),
        _ => 8,
    };
    event.name.len() + event.attributes.iter().map(|kv| kv.key.as_str().len() + value_bytes(&kv.value)).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_past_the_byte_budget_are_dropped_and_counted() {
        let mut state = SpanState::new(Kind::Run, TraceId::from(1u128), SpanId::from(1u64), SystemTime::now());
        let big = "b".repeat(MAX_VALUE_BYTES * 4);
        for _ in 0..100 {
            let event = Event::new("e", SystemTime::now(), vec![KeyValue::new("payload", big.clone())], 0);
            state.push_event(event, 1_000);
        }
        assert!(state.event_bytes <= MAX_EVENT_BYTES_PER_SPAN);
        // Each kept event was cut to the cap first, so the budget holds several of them.
        let per_event = 1 + "payload".len() + MAX_VALUE_BYTES;
        assert_eq!(state.events.len(), MAX_EVENT_BYTES_PER_SPAN / per_event);
        assert_eq!(state.events.len() + state.dropped_events as usize, 100);
    }

    #[test]
    fn set_default_applies_the_value_cap() {
        let mut state = SpanState::new(Kind::Db, TraceId::from(1u128), SpanId::from(1u64), SystemTime::now());
        // Multi-byte characters across the cut: it must land on a char boundary.
        let long = "é".repeat(MAX_VALUE_BYTES);
        state.set_default(k::DATA_ERROR, Value::from(long));
        let kept = state.get_str(k::DATA_ERROR).expect("written");
        assert!(kept.len() <= MAX_VALUE_BYTES && kept.len() > MAX_VALUE_BYTES - 4, "{}", kept.len());
        assert_eq!(state.truncated, vec![Cow::<str>::Owned(k::DATA_ERROR.to_owned())]);
        // A short value is kept whole and not named.
        state.set_default(k::STORAGE_ERROR, Value::from("short"));
        assert_eq!(state.get_str(k::STORAGE_ERROR).as_deref(), Some("short"));
        assert_eq!(state.truncated.len(), 1);
    }
}
