//! Flattening `valuable` values into attributes (`--cfg tracing_unstable` + feature `valuable`).
//!
//! OTLP attributes are flat, so a struct or map recorded as metadata becomes one attribute per leaf:
//! `Meta { team: "a", limits: { tokens: 5 } }` on the metadata field of an LLM span exports
//! `botanu.team = "a"` and `botanu.limits.tokens = 5`. Depth and leaf count are bounded so a hostile or
//! cyclic-looking value cannot blow up a span.

use opentelemetry::{Key, Value as OtelValue};
use valuable::{NamedValues, Slice, Value, Visit};

use super::state::SpanState;

const MAX_DEPTH: usize = 8;
const MAX_LEAVES: usize = 64;

/// Writes `value` under `prefix` (which ends with `.` or is a metadata prefix like `botanu.`).
pub(crate) fn flatten(state: &mut SpanState, prefix: &str, value: Value<'_>) {
    let mut f = Flattener { state, path: prefix.to_owned(), depth: 0, leaves: 0 };
    f.value(value);
}

struct Flattener<'a> {
    state: &'a mut SpanState,
    path: String,
    depth: usize,
    leaves: usize,
}

impl Flattener<'_> {
    fn leaf(&mut self, v: OtelValue) {
        if self.leaves >= MAX_LEAVES {
            return;
        }
        self.leaves += 1;
        let key = self.path.trim_end_matches('.').to_owned();
        self.state.set(Key::new(key), v);
    }

    fn nested(&mut self, name: &str, value: Value<'_>) {
        if self.depth >= MAX_DEPTH {
            self.leaf(OtelValue::from(format!("{value:?}")));
            return;
        }
        let len = self.path.len();
        if !self.path.is_empty() && !self.path.ends_with('.') {
            self.path.push('.');
        }
        self.path.push_str(name);
        self.depth += 1;
        self.value(value);
        self.depth -= 1;
        self.path.truncate(len);
    }

    fn value(&mut self, value: Value<'_>) {
        match value {
            Value::Bool(b) => self.leaf(OtelValue::Bool(b)),
            Value::Char(c) => self.leaf(OtelValue::from(c.to_string())),
            Value::F32(f) => self.leaf(OtelValue::F64(f64::from(f))),
            Value::F64(f) => self.leaf(OtelValue::F64(f)),
            Value::I8(i) => self.leaf(OtelValue::I64(i64::from(i))),
            Value::I16(i) => self.leaf(OtelValue::I64(i64::from(i))),
            Value::I32(i) => self.leaf(OtelValue::I64(i64::from(i))),
            Value::I64(i) => self.leaf(OtelValue::I64(i)),
            Value::Isize(i) => self.leaf(OtelValue::I64(i as i64)),
            Value::U8(i) => self.leaf(OtelValue::I64(i64::from(i))),
            Value::U16(i) => self.leaf(OtelValue::I64(i64::from(i))),
            Value::U32(i) => self.leaf(OtelValue::I64(i64::from(i))),
            Value::U64(i) => self.leaf(OtelValue::I64(i64::try_from(i).unwrap_or(i64::MAX))),
            Value::Usize(i) => self.leaf(OtelValue::I64(i64::try_from(i).unwrap_or(i64::MAX))),
            Value::String(s) => self.leaf(OtelValue::from(s.to_owned())),
            Value::Unit => {}
            Value::Structable(s) => s.visit(self),
            Value::Mappable(m) => m.visit(self),
            // The variant name is the enum's value (`botanu.tier = "Gold"`); its fields, if any, sit
            // beside it (`botanu.plan = "Paid"`, `botanu.plan.seats = 3`). A top-level enum has no name
            // of its own, so its variant goes under `<prefix>variant`.
            Value::Enumerable(e) => {
                let variant = OtelValue::from(e.variant().name().to_owned());
                if self.path.ends_with('.') {
                    let len = self.path.len();
                    self.path.push_str("variant");
                    self.leaf(variant);
                    self.path.truncate(len);
                } else {
                    self.leaf(variant);
                }
                e.visit(self);
            }
            other => self.leaf(OtelValue::from(format!("{other:?}"))),
        }
    }
}

impl Visit for Flattener<'_> {
    fn visit_value(&mut self, value: Value<'_>) {
        self.value(value);
    }

    fn visit_named_fields(&mut self, named_values: &NamedValues<'_>) {
        for (field, value) in named_values {
            self.nested(field.name(), *value);
        }
    }

    fn visit_unnamed_fields(&mut self, values: &[Value<'_>]) {
        for (i, value) in values.iter().enumerate() {
            self.nested(&i.to_string(), *value);
        }
    }

    fn visit_entry(&mut self, key: Value<'_>, value: Value<'_>) {
        let name = match key {
            Value::String(s) => s.to_owned(),
            other => format!("{other:?}"),
        };
        self.nested(&name, value);
    }

    fn visit_primitive_slice(&mut self, slice: Slice<'_>) {
        self.leaf(OtelValue::from(format!("{slice:?}")));
    }
}
