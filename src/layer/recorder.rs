//! The field visitor: each recorded field, by the role its callsite gave it (decided once per callsite),
//! stored into the span's [`SpanState`] in its exported shape — vendors normalized, operations
//! case-normalized, integers kept as integers, content gated and scrubbed.
//!
//! A field's `Debug`, `Display` or `Error` is user code, and user code may call back into botanu: a
//! setter, `current_run_id()`, a `record` on the same span, an event, a child span. Every one of those
//! takes the span's extensions lock, so on a span that already has its state (`on_record`) the
//! [`Recorder`] first records the plain values (strings, numbers, bools) under the lock and leaves every
//! value that needs formatting alone; only if there was one, it is formatted by
//! [`Preformatted::collect`] with no lock held, and recorded in a second pass under the lock (issue 28;
//! one pass for the common record, issue 27). In `on_new_span` the state is still a local value, so the
//! recorder formats as it goes.

use std::borrow::Cow;
use std::fmt;

use opentelemetry::{Key, Value};
use tracing_core::field::{Field, Visit};

use super::classify::{CallsiteInfo, Role};
use super::instrument;
use super::kinds::Kind;
use super::state::SpanState;
use super::values::{cow_to_string_value, parse_kind, parse_status_code, shared_str, string_list};
use super::Shared;
use crate::normalize;
use crate::semconv as k;
use crate::text::{cut_str, debug_string, display_string, error_type_name, MAX_VALUE_BYTES};

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

/// Records what an AWS SDK operation span's callsite says (see `aws`): its system (and vendor), its
/// operation, and `botanu.cloud_provider = aws`, unless the span set them itself.
pub(crate) fn apply_aws(state: &mut SpanState, op: &super::aws::AwsOperation) {
    let spec = op.kind.spec();
    if spec.system.as_ref().is_some_and(|system| state.get(system.key).is_none()) {
        apply_system(state, op.kind, op.system);
    }
    if let Some(operation) = op.operation {
        if spec.operation.as_ref().is_some_and(|key| state.get(key.key).is_none()) {
            apply_operation(state, op.kind, operation);
        }
    }
    state.set_default(k::CLOUD_PROVIDER, Value::from(k::CLOUD_PROVIDER_AWS));
}

/// Records the operation of a `kind` span, case-normalized with the kind's table.
fn apply_operation(state: &mut SpanState, kind: Kind, raw: &str) {
    let Some(op) = &kind.spec().operation else { return };
    let normalized = normalize::normalize_operation(op.normalize, raw);
    state.set(Key::from_static_str(op.key), Value::String(cow_to_string_value(normalized)));
}

/// A value formatted before the span's state was locked.
enum Formatted {
    /// `record_debug` (and `record_bytes`, which `tracing` routes through it): the `Debug` text.
    Debug(String),
    /// `record_error`: the error's type name and its `Display` text.
    Error { error_type: String, message: String },
}

/// The user-formatted values of one `record`, by field index, formatted with no lock held. Empty (and
/// not allocated) when the record has only strings and numbers, which need no formatting.
#[derive(Default)]
pub(crate) struct Preformatted(Vec<(usize, Formatted)>);

impl Preformatted {
    /// Formats what the recorder will need of `values` formatted: nothing for an ignored field, nor for
    /// an argument while content capture is off (it could never be exported).
    pub(crate) fn collect(values: &tracing_core::span::Record<'_>, info: &CallsiteInfo, shared: &Shared) -> Self {
        let mut collector = Collector { info, shared, out: Preformatted::default() };
        values.record(&mut collector);
        collector.out
    }

    fn get(&self, field: &Field) -> Option<&Formatted> {
        self.0.iter().find(|(index, _)| *index == field.index()).map(|(_, f)| f)
    }
}

/// The first pass of `on_record`: formats the `Debug` and `Error` values, ignores the rest.
struct Collector<'a> {
    info: &'a CallsiteInfo,
    shared: &'a Shared,
    out: Preformatted,
}

impl Collector<'_> {
    fn wanted(&self, field: &Field) -> bool {
        match self.info.role(field.index()) {
            Role::Ignore => false,
            Role::Argument { .. } => self.shared.content.is_enabled(),
            _ => true,
        }
    }
}

impl Visit for Collector<'_> {
    // `Visit`'s defaults route these through `record_debug`; they need no formatting, so they are
    // recorded in the second pass, under the lock, straight from the value.
    fn record_str(&mut self, _: &Field, _: &str) {}
    fn record_i64(&mut self, _: &Field, _: i64) {}
    fn record_u64(&mut self, _: &Field, _: u64) {}
    fn record_i128(&mut self, _: &Field, _: i128) {}
    fn record_u128(&mut self, _: &Field, _: u128) {}
    fn record_f64(&mut self, _: &Field, _: f64) {}
    fn record_bool(&mut self, _: &Field, _: bool) {}

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let formatted = Formatted::Error { error_type: error_type_name(value), message: display_string(value) };
        self.out.0.push((field.index(), formatted));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.wanted(field) {
            self.out.0.push((field.index(), Formatted::Debug(debug_string(value))));
        }
    }

    #[cfg(all(tracing_unstable, feature = "valuable"))]
    fn record_value(&mut self, field: &Field, value: valuable::Value<'_>) {
        // Flattened under the lock by `structured` (valuable's derived visitors); only an argument's
        // `Debug` text is formatted here.
        if matches!(self.info.role(field.index()), Role::Argument { .. }) && self.wanted(field) {
            self.out.0.push((field.index(), Formatted::Debug(debug_string(&value))));
        }
    }
}

/// How the recorder gets the text of a `Debug` or `Error` value.
pub(crate) enum Formatting<'a> {
    /// Formats it itself: the state is not locked (`on_new_span`, where it is still a local value).
    Inline,
    /// Under the span's lock (`on_record`'s first pass): strings, numbers and bools are recorded; a value
    /// that needs user code to format (`Debug`, `Error`) is not touched, only noted here, for a second
    /// pass after it was formatted with no lock held. Most records (a setter's counts, ids, model names)
    /// have none, and take one pass and one lock.
    Deferred(&'a mut bool),
    /// The second pass: only the values formatted with no lock held ([`Preformatted`]); a value not there
    /// is not formatted (it was not wanted), and the plain values were recorded by the first pass.
    Done(&'a Preformatted),
}

pub(crate) struct Recorder<'a> {
    pub(crate) state: &'a mut SpanState,
    pub(crate) info: &'a CallsiteInfo,
    pub(crate) shared: &'a Shared,
    pub(crate) formatting: Formatting<'a>,
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
            Role::StringArray(key) => self.state.set(Key::from_static_str(key), string_list(key, value)),
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

impl Recorder<'_> {
    /// Whether this is the second pass of `on_record`, which records only preformatted values.
    fn second_pass(&self) -> bool {
        matches!(self.formatting, Formatting::Done(_))
    }

    /// First pass under the lock: a value needing user code to format is noted for the second pass
    /// (unless it would not be recorded anyway); `true` if it was.
    fn defer(&mut self, field: &Field) -> bool {
        let Formatting::Deferred(deferred) = &mut self.formatting else { return false };
        let wanted = match self.info.role(field.index()) {
            Role::Ignore => false,
            Role::Argument { .. } => self.shared.content.is_enabled(),
            _ => true,
        };
        **deferred |= wanted;
        true
    }
}

impl Visit for Recorder<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.second_pass() {
            return;
        }
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
        if self.second_pass() {
            return;
        }
        self.typed_value(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.second_pass() {
            return;
        }
        match self.info.role(field.index()) {
            Role::Attr(key) => self.state.set_u64(Key::from_static_str(key), value),
            _ => self.typed_value(field, Value::I64(i64::try_from(value).unwrap_or(i64::MAX))),
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        if self.second_pass() {
            return;
        }
        match i64::try_from(value) {
            Ok(v) => self.record_i64(field, v),
            Err(_) => self.typed_value(field, Value::from(value.to_string())),
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        if self.second_pass() {
            return;
        }
        match u64::try_from(value) {
            Ok(v) => self.record_u64(field, v),
            Err(_) => self.typed_value(field, Value::from(value.to_string())),
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.second_pass() {
            return;
        }
        self.typed_value(field, Value::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.second_pass() {
            return;
        }
        self.typed_value(field, Value::Bool(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.defer(field) {
            return;
        }
        let (error_type, message) = match &self.formatting {
            Formatting::Inline | Formatting::Deferred(_) => (error_type_name(value), display_string(value)),
            Formatting::Done(done) => match done.get(field) {
                Some(Formatted::Error { error_type, message }) => (error_type.clone(), message.clone()),
                _ => return,
            },
        };
        self.state.fail(&error_type, &message);
        self.str_value(field, &message);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // An argument is only ever content: with capture off it is not even formatted.
        if matches!(self.info.role(field.index()), Role::Argument { .. }) && !self.shared.content.is_enabled() {
            return;
        }
        if self.defer(field) {
            return;
        }
        match &self.formatting {
            Formatting::Inline | Formatting::Deferred(_) => {
                let s = debug_string(value);
                self.str_value(field, &s);
            }
            Formatting::Done(done) => {
                if let Some(Formatted::Debug(s)) = done.get(field) {
                    self.str_value(field, s);
                }
            }
        }
    }

    #[cfg(all(tracing_unstable, feature = "valuable"))]
    fn record_value(&mut self, field: &Field, value: valuable::Value<'_>) {
        let prefix = match self.info.role(field.index()) {
            // Flattened in the first pass.
            Role::Metadata if self.second_pass() => return,
            Role::Metadata => self.state.metadata_prefix().to_owned(),
            Role::Ignore => return,
            Role::Argument { .. } => {
                if self.defer(field) {
                    return;
                }
                return match &self.formatting {
                    Formatting::Inline | Formatting::Deferred(_) => self.str_value(field, &debug_string(&value)),
                    Formatting::Done(done) => {
                        if let Some(Formatted::Debug(s)) = done.get(field) {
                            self.str_value(field, s);
                        }
                    }
                };
            }
            // Flattened in the first pass (a derived `Valuable` runs no user code; a hand-written one runs
            // under the lock, as before: see `structured`).
            _ if self.second_pass() => return,
            _ => format!("{}.", field.name()),
        };
        super::structured::flatten(self.state, &prefix, value);
    }
}
