//! The field visitor: each recorded field, by the role its callsite gave it (decided once per callsite),
//! stored into the span's [`SpanState`] in its exported shape — vendors normalized, operations
//! case-normalized, integers kept as integers, content gated and scrubbed.

use std::borrow::Cow;
use std::fmt;

use opentelemetry::{Key, Value};
use tracing_core::field::{Field, Visit};

use super::classify::{CallsiteInfo, Role};
use super::instrument;
use super::kinds::Kind;
use super::state::SpanState;
use super::values::{cow_to_string_value, finish_reasons, parse_kind, parse_status_code, shared_str};
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
