//! Per-span state and the field visitor that fills it.
//!
//! A [`SpanState`] lives in the span's Registry extensions from `on_new_span` to `on_close`. Fields
//! arrive through [`Recorder`], which looks up each field's [`Role`] by index (decided once per
//! callsite) and stores attributes already in their exported shape: vendors normalized, operations
//! case-normalized, integers kept as integers, content gated and scrubbed. At close the state is taken
//! out of the extensions and turned into one OpenTelemetry span (see `export`).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanId, SpanKind, TraceId};
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};
use tracing_core::field::{Field, Visit};

use super::classify::{CallsiteInfo, Role};
use super::instrument::{self, RunIo};
use super::kinds::Kind;
use super::Shared;
use crate::normalize;
use crate::run::RunContext;
use crate::semconv as k;

/// Attributes a span may set itself (fields, metadata, correlation); past it new keys are dropped and
/// counted. The run keys stamped at export come on top, within the SDK's limit of 256.
pub(crate) const MAX_SPAN_ATTRIBUTES: usize = 192;
/// Longest string that leaves the process, in bytes: attribute values, event names and attributes,
/// exception types and messages, span names. Longer strings are cut on a char boundary by [`cut_str`]
/// (attributes are named in `botanu.truncated_attributes`). Captured content has its own, smaller cut.
pub(crate) const MAX_VALUE_BYTES: usize = 16 * 1024;
/// What is kept of text that is scrubbed before its final cut (event and error messages): the cap plus
/// the scrubber's look-ahead plus one char, so [`Scrubber::scrub_capped`](crate::content::Scrubber::scrub_capped)
/// sees a secret straddling the cap whole and knows the text goes on past its window (a token run
/// across the cap is then hidden whole, not taken for the end of the text and partly shown).
pub(crate) const SCRUB_INPUT_BYTES: usize = MAX_VALUE_BYTES + crate::content::scrub::CAPPED_MARGIN_BYTES + 4;
/// Bytes of span events (names, keys, string values) one span keeps; events past it are dropped and
/// counted in `botanu.dropped_events`, like events past the count cap. With [`MAX_VALUE_BYTES`] per
/// string it keeps one span's events far below a collector's message limit (4 MiB by default over gRPC),
/// so one noisy span cannot fail its neighbours' batch.
pub(crate) const MAX_EVENT_BYTES_PER_SPAN: usize = 256 * 1024;

/// The one cut: `s` cut to at most `max` bytes, on a char boundary. Every string that leaves the
/// process goes through it (with [`MAX_VALUE_BYTES`]) before any copy, normalization or scrubbing.
#[inline]
pub(crate) fn cut_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
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

    /// Prefix of free-form metadata keys for this kind of span.
    pub(crate) fn metadata_prefix(&self) -> &'static str {
        self.kind.spec().metadata_prefix
    }

    pub(crate) fn set_u64(&mut self, key: Key, value: u64) {
        let v = match i64::try_from(value) {
            Ok(v) => v,
            Err(_) => {
                self.clamped.push(Cow::Owned(key.as_str().to_owned()));
                i64::MAX
            }
        };
        self.set(key, Value::I64(v));
    }
}

/// A status a span set itself through `otel.status_code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OtelStatus {
    Ok,
    Error,
}

/// Parses an `otel.status_code` value (`ok`, `error`, `unset`, any case); anything else is ignored.
pub(crate) fn parse_status_code(s: &str) -> Option<OtelStatus> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("error") {
        Some(OtelStatus::Error)
    } else if s.eq_ignore_ascii_case("ok") {
        Some(OtelStatus::Ok)
    } else {
        None
    }
}

/// Most finish reasons kept from one value: a response has one per choice, and a foreign span could
/// send anything.
pub(crate) const MAX_FINISH_REASONS: usize = 16;
/// Longest finish reason kept, in bytes (a raw, unparsable value included).
pub(crate) const MAX_FINISH_REASON_BYTES: usize = 256;

/// `gen_ai.response.finish_reasons` as a string array whatever it arrived as: a JSON array of strings
/// (what genai and other `tracing` instrumentations record, since `tracing` has no array values) is
/// parsed; any other value, a malformed array included, becomes a one-element array of the raw string.
/// Bounded: at most [`MAX_FINISH_REASONS`] elements of at most [`MAX_FINISH_REASON_BYTES`] each.
pub(crate) fn finish_reasons(raw: &str) -> Value {
    let bounded = |s: &str| cut_str(s, MAX_FINISH_REASON_BYTES).to_owned();
    match parse_json_string_array(raw) {
        Some(items) => string_array(items.iter().take(MAX_FINISH_REASONS).map(|s| bounded(s))),
        None => string_array([bounded(raw.trim())]),
    }
}

/// A JSON array of strings (`["stop", "length"]`), or `None` if `raw` is anything else. Just enough JSON
/// for this one attribute: botanu has no JSON dependency, and a full parser would be overkill here.
fn parse_json_string_array(raw: &str) -> Option<Vec<String>> {
    let inner = raw.trim().strip_prefix('[')?.strip_suffix(']')?;
    let mut items = Vec::new();
    let mut chars = inner.trim().chars().peekable();
    if chars.peek().is_none() {
        return Some(items);
    }
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next()? != '"' {
            return None;
        }
        let mut item = String::new();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => match chars.next()? {
                    '"' => item.push('"'),
                    '\\' => item.push('\\'),
                    '/' => item.push('/'),
                    'n' => item.push('\n'),
                    't' => item.push('\t'),
                    'r' => item.push('\r'),
                    'b' => item.push('\u{8}'),
                    'f' => item.push('\u{c}'),
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                        let code = u32::from_str_radix(&hex, 16).ok()?;
                        item.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                    _ => return None,
                },
                c => item.push(c),
            }
        }
        items.push(item);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Some(items),
            Some(',') => {}
            Some(_) => return None,
        }
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

pub(crate) fn cow_to_string_value(s: Cow<'static, str>) -> StringValue {
    match s {
        Cow::Borrowed(b) => StringValue::from(b),
        Cow::Owned(o) => StringValue::from(o),
    }
}

/// Parses an `otel.kind` value.
pub(crate) fn parse_kind(s: &str) -> Option<SpanKind> {
    let s = s.trim();
    Some(if s.eq_ignore_ascii_case("server") {
        SpanKind::Server
    } else if s.eq_ignore_ascii_case("client") {
        SpanKind::Client
    } else if s.eq_ignore_ascii_case("producer") {
        SpanKind::Producer
    } else if s.eq_ignore_ascii_case("consumer") {
        SpanKind::Consumer
    } else if s.eq_ignore_ascii_case("internal") {
        SpanKind::Internal
    } else {
        return None;
    })
}

/// A string attribute value, reference-counted so the copies made for metrics and stamping are cheap;
/// a short value this thread saw recently shares that one's allocation (see `recent_strings`).
pub(crate) fn shared_str(s: &str) -> Value {
    Value::String(StringValue::from(super::recent_strings::shared(s)))
}

/// Records the system (vendor) of a `kind` span: normalized with the kind's table, mirrored into
/// `botanu.vendor`, and the cloud provider it names, if any.
pub(crate) fn apply_system(state: &mut SpanState, kind: Kind, raw: &str) {
    let Some(system) = &kind.spec().system else { return };
    let normalized = (system.normalize)(raw);
    if system.cloud {
        if let Some(cloud) = normalize::cloud_provider(&normalized) {
            state.set_default(k::CLOUD_PROVIDER, Value::from(cloud));
        }
    }
    let value = Value::String(cow_to_string_value(normalized));
    state.set(Key::from_static_str(k::VENDOR), value.clone());
    state.set(Key::from_static_str(system.key), value);
}

/// Records the operation of a `kind` span, case-normalized with the kind's table.
fn apply_operation(state: &mut SpanState, kind: Kind, raw: &str) {
    let Some(op) = &kind.spec().operation else { return };
    let normalized = normalize::normalize_operation(op.normalize, raw);
    state.set(Key::from_static_str(op.key), Value::String(cow_to_string_value(normalized)));
}

pub(crate) struct Recorder<'a> {
    pub(crate) state: &'a mut SpanState,
    pub(crate) info: &'a CallsiteInfo,
    pub(crate) shared: &'a Shared,
}

impl Recorder<'_> {
    fn str_value(&mut self, field: &Field, value: &str) {
        let role = self.info.role(field.index());
        // The cut comes first, so a huge value is never copied, normalized or turned into a span name.
        // Content has its own bounded scrub and cut; secrets and ignored fields are not exported.
        let value = if value.len() > MAX_VALUE_BYTES
            && !matches!(role, Role::Content(_) | Role::Secret(_) | Role::Argument { .. } | Role::Ignore)
        {
            self.cut_field(role, field, value)
        } else {
            value
        };
        match role {
            Role::Attr(key) => self.state.set(Key::from_static_str(key), shared_str(value)),
            Role::System(kind) => apply_system(self.state, kind, value),
            Role::Operation(kind) => apply_operation(self.state, kind, value),
            Role::Content(key) => {
                let run_id = self.state.run.as_ref().map(|r| r.run_id.clone());
                if let Some(text) = self.shared.content.capture(run_id.as_deref(), value) {
                    self.state.set(Key::from_static_str(key), Value::from(text));
                }
            }
            Role::Metadata => {
                let key = format!("{}{}", self.state.metadata_prefix(), "metadata");
                self.state.set(Key::new(key), Value::from(value.to_owned()));
            }
            // Redacted with the scrubber's replacement, like secret-looking metadata keys.
            Role::Secret(key) => {
                let redacted = Value::from(self.shared.content.scrubber().replacement().to_owned());
                self.state.set(Key::from_static_str(key), redacted)
            }
            Role::OtelName => self.state.name_override = Some(Cow::Owned(value.to_owned())),
            Role::OtelKind => self.state.kind_override = parse_kind(value),
            Role::OtelStatusCode => self.state.otel_status = parse_status_code(value),
            Role::OtelStatusDescription => {
                self.state.status_description = Some(cut_str(value, MAX_VALUE_BYTES).to_owned())
            }
            Role::FinishReasons => {
                self.state.set(Key::from_static_str(k::GEN_AI_RESPONSE_FINISH_REASONS), finish_reasons(value))
            }
            Role::ErrorType => self.state.fail(value, ""),
            Role::Argument { .. } if !self.shared.content.is_enabled() => {}
            Role::Argument { name, secret: false } => instrument::record_argument(self.state, name, value),
            // Never kept: the name says what it is, the value is replaced like a secret attribute's.
            Role::Argument { name, secret: true } => {
                instrument::record_argument(self.state, name, self.shared.content.scrubber().replacement())
            }
            Role::Ignore => {}
        }
    }

    /// The slow path of [`Self::str_value`]: `value` cut to [`MAX_VALUE_BYTES`], and the attribute it
    /// becomes named in `botanu.truncated_attributes`.
    #[cold]
    #[inline(never)]
    fn cut_field<'v>(&mut self, role: Role, field: &Field, value: &'v str) -> &'v str {
        match role {
            Role::Attr(key) => self.state.note_truncated(key),
            Role::Metadata => {
                let key = format!("{}{}", self.state.metadata_prefix(), "metadata");
                self.state.note_truncated(&key);
            }
            _ => self.state.note_truncated(field.name()),
        }
        cut_str(value, MAX_VALUE_BYTES)
    }

    /// Non-string values on string-only roles are formatted; elsewhere they keep their type.
    fn typed_value(&mut self, field: &Field, value: Value) {
        match self.info.role(field.index()) {
            Role::Attr(key) => self.state.set(Key::from_static_str(key), value),
            Role::Ignore => {}
            _ => {
                let s = value.to_string();
                self.str_value(field, &s);
            }
        }
    }
}

impl Visit for Recorder<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Role::Argument { .. } = self.info.role(field.index()) {
            if !self.shared.content.is_enabled() {
                return;
            }
            // Quoted, so a string argument reads like the `Debug`-printed ones beside it.
            return self.str_value(field, &instrument::render_str(value));
        }
        self.str_value(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.typed_value(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match self.info.role(field.index()) {
            Role::Attr(key) => self.state.set_u64(Key::from_static_str(key), value),
            _ => self.typed_value(field, Value::I64(i64::try_from(value).unwrap_or(i64::MAX))),
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        match i64::try_from(value) {
            Ok(v) => self.record_i64(field, v),
            Err(_) => self.typed_value(field, Value::from(value.to_string())),
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        match u64::try_from(value) {
            Ok(v) => self.record_u64(field, v),
            Err(_) => self.typed_value(field, Value::from(value.to_string())),
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.typed_value(field, Value::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.typed_value(field, Value::Bool(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let message = display_string(value);
        self.state.fail(&error_type_name(value), &message);
        self.str_value(field, &message);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // An argument is only ever content: with capture off it is not even formatted.
        if matches!(self.info.role(field.index()), Role::Argument { .. }) && !self.shared.content.is_enabled() {
            return;
        }
        let s = debug_string(value);
        self.str_value(field, &s);
    }

    #[cfg(all(tracing_unstable, feature = "valuable"))]
    fn record_value(&mut self, field: &Field, value: valuable::Value<'_>) {
        let prefix = match self.info.role(field.index()) {
            Role::Metadata => self.state.metadata_prefix().to_owned(),
            Role::Ignore => return,
            Role::Argument { .. } => return self.str_value(field, &debug_string(&value)),
            _ => format!("{}.", field.name()),
        };
        super::structured::flatten(self.state, &prefix, value);
    }
}

/// Formats a user value with `Debug`, keeping at most [`SCRUB_INPUT_BYTES`]: formatting stops there, so
/// a huge value costs no more than the cap. A `Debug` (or `Display`, through `%`) impl that panics must
/// not take the application down from inside the layer: the panic is caught and the value exported as a
/// marker.
pub(crate) fn debug_string<T: fmt::Debug + ?Sized>(value: &T) -> String {
    format_capped(|w| fmt::write(w, format_args!("{value:?}"))).unwrap_or_else(|| DEBUG_PANICKED.to_owned())
}

/// `Display` of a user value, bounded and with a panicking impl caught like in [`debug_string`].
pub(crate) fn display_string<T: fmt::Display + ?Sized>(value: &T) -> String {
    format_capped(|w| fmt::write(w, format_args!("{value}"))).unwrap_or_else(|| DISPLAY_PANICKED.to_owned())
}

/// What a field whose `Debug` impl panicked is exported as.
pub(crate) const DEBUG_PANICKED: &str = "<Debug panicked>";
/// What an error whose `Display` impl panicked is exported as.
pub(crate) const DISPLAY_PANICKED: &str = "<Display panicked>";

/// Runs `format` into a buffer that takes at most [`SCRUB_INPUT_BYTES`]; `None` if it panicked.
fn format_capped(format: impl FnOnce(&mut CappedWriter) -> fmt::Result) -> Option<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut w = CappedWriter(String::new());
        // An error here is the writer refusing more bytes (or the impl's own): what was written stays.
        let _ = format(&mut w);
        w.0
    }))
    .ok()
}

/// A `fmt::Write` that keeps the first [`SCRUB_INPUT_BYTES`] and then refuses, which ends the
/// formatting early (a derived `Debug` stops at the first refused write).
struct CappedWriter(String);

impl fmt::Write for CappedWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = SCRUB_INPUT_BYTES - self.0.len();
        if s.len() <= room {
            self.0.push_str(s);
            Ok(())
        } else {
            self.0.push_str(cut_str(s, room));
            Err(fmt::Error)
        }
    }
}

/// A best-effort type name for a `dyn Error`: Rust has no runtime kind names, so the `Debug` form's
/// leading identifier (`Io`, `ParseIntError`, …) stands in, as it usually names the variant or type.
pub(crate) fn error_type_name(err: &(dyn std::error::Error + 'static)) -> String {
    let debug = debug_string(&err);
    let end = debug.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(debug.len());
    let name = &debug[..end];
    if name.is_empty() {
        "Error".to_owned()
    } else {
        name.rsplit("::").next().unwrap_or(name).to_owned()
    }
}

/// Converts a list of strings to an OTel string array value.
pub(crate) fn string_array<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Value::Array(Array::String(items.into_iter().map(|s| StringValue::from(s.into())).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons_are_always_a_string_array() {
        let array = |v: Value| match v {
            Value::Array(Array::String(items)) => items.iter().map(|s| s.as_str().to_owned()).collect::<Vec<_>>(),
            other => panic!("not a string array: {other:?}"),
        };
        let long = "x".repeat(MAX_FINISH_REASON_BYTES + 10);
        let many = format!("[{}]", vec!["\"stop\""; MAX_FINISH_REASONS + 4].join(","));
        // (raw, exported)
        let table: Vec<(&str, Vec<String>)> = vec![
            (r#"["stop"]"#, vec!["stop".into()]),
            (r#" [ "stop" , "length" ] "#, vec!["stop".into(), "length".into()]),
            (r#"["a\"b\\c\u00e9"]"#, vec!["a\"b\\cé".into()]),
            ("[]", vec![]),
            ("stop", vec!["stop".into()]),
            (r#"["stop""#, vec![r#"["stop""#.into()]),
            (r#"["stop",]"#, vec![r#"["stop",]"#.into()]),
            (r#"[1, 2]"#, vec!["[1, 2]".into()]),
            (&long, vec!["x".repeat(MAX_FINISH_REASON_BYTES)]),
        ];
        for (raw, want) in table {
            assert_eq!(array(finish_reasons(raw)), want, "{raw}");
        }
        assert_eq!(array(finish_reasons(&many)).len(), MAX_FINISH_REASONS);
    }

    #[test]
    fn status_codes() {
        for (raw, want) in [
            ("error", Some(OtelStatus::Error)),
            (" ERROR ", Some(OtelStatus::Error)),
            ("ok", Some(OtelStatus::Ok)),
            ("Ok", Some(OtelStatus::Ok)),
            ("unset", None),
            ("nonsense", None),
        ] {
            assert_eq!(parse_status_code(raw), want, "{raw}");
        }
    }

    #[test]
    fn cut_str_cuts_on_a_char_boundary_at_or_below_the_cap() {
        // (input, max, expected)
        let table: &[(&str, usize, &str)] = &[
            ("", 4, ""),
            ("abcd", 4, "abcd"),
            ("abcde", 4, "abcd"),
            ("aé", 2, "a"), // 'é' is 2 bytes: cutting inside it backs off
            ("aé", 3, "aé"),
            ("日本", 4, "日"),
            ("日本", 2, ""),
        ];
        for (input, max, want) in table {
            assert_eq!(cut_str(input, *max), *want, "{input:?} to {max}");
        }
    }

    /// A value that writes far more than the cap, one small piece at a time.
    struct Chatty;

    impl fmt::Debug for Chatty {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for _ in 0..10_000_000 {
                f.write_str("chatty ")?;
            }
            Ok(())
        }
    }

    struct Exploding;

    impl fmt::Display for Exploding {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("boom")
        }
    }

    #[test]
    fn user_formatting_stops_at_the_scrub_input_size_and_panics_become_markers() {
        let start = std::time::Instant::now();
        let s = debug_string(&Chatty);
        assert!(s.len() <= SCRUB_INPUT_BYTES && s.len() > SCRUB_INPUT_BYTES - 8, "{}", s.len());
        // 70 MB of writes would take seconds in a debug build; the refused write ends it at once.
        assert!(start.elapsed() < std::time::Duration::from_secs(1), "{:?}", start.elapsed());
        assert_eq!(display_string(&Exploding), DISPLAY_PANICKED);
        assert_eq!(debug_string("short"), "\"short\"");
    }

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
