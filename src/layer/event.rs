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
    // Before the level filter: `#[instrument(level = "debug", ret)]` returns at DEBUG.
    if instrument::is_return_event(event.metadata()) && instrument::record_return(event, ctx, shared) {
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

/// Collects an event's message, error and other fields; values of secret-looking fields are redacted.
struct EventFields<'a> {
    secret_keys: &'a SecretKeys,
    replacement: &'a str,
    message: Option<String>,
    error_type: Option<String>,
    attrs: Vec<KeyValue>,
}

impl<'a> EventFields<'a> {
    fn new(secret_keys: &'a SecretKeys, replacement: &'a str) -> Self {
        EventFields { secret_keys, replacement, message: None, error_type: None, attrs: Vec::new() }
    }

    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
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
        let max = if field.name() == k::MESSAGE { SCRUB_INPUT_BYTES } else { MAX_VALUE_BYTES };
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
        if field.name() != k::MESSAGE {
            s.truncate(cut_str(&s, MAX_VALUE_BYTES).len());
        }
        self.put(field, Value::from(s));
    }
}
