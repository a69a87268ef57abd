//! The metrics botanu records when a cost-bearing span closes.
//!
//! Traces say what one run cost; metrics let any backend sum cost drivers without joining traces. The
//! layer records these instruments at span close, from the span's final attributes and real duration,
//! so user code never calls them. Instruments are created once, when the layer is built.
//!
//! | instrument | kind | unit | attributes |
//! |---|---|---|---|
//! | `gen_ai.client.token.usage` | histogram (u64) | `{token}` | operation, provider, model, `gen_ai.token.type`, `error.type` if failed |
//! | `gen_ai.client.operation.duration` | histogram (f64) | `s` | operation, provider, model, `error.type` if failed |
//! | `botanu.gen_ai.attempts` | counter | `{attempt}` | provider, model, operation, `status` |
//! | `botanu.tool.duration` | histogram (f64) | `s` | `gen_ai.tool.name`, `status`, provider if any |
//! | `botanu.tool.executions` | counter | `{execution}` | as above |
//! | `botanu.data.bytes_scanned` | counter | `By` | `db.system`, `botanu.operation`, `botanu.workflow` |
//! | `botanu.data.rows_returned` / `rows_affected` | counter | `{row}` | as above |
//! | `botanu.storage.bytes` | counter | `By` | `botanu.storage.system`, `botanu.operation`, `direction` (read/write), `botanu.workflow` |
//! | `botanu.storage.objects` | counter | `{object}` | system, operation, workflow |
//! | `botanu.messaging.messages` | counter | `{message}` | `messaging.system`, `botanu.operation`, workflow |
//!
//! Attributes are bounded: normalized vendor and operation names, tool names, and the workflow — at most
//! 256 distinct workflows, further ones are counted under `_other` (a workflow can arrive from an
//! untrusted caller). A run id, event id, customer id or tenant id is never a metric attribute.

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::{Key, KeyValue, Value};

use crate::layer::state::SpanState;
use crate::semconv::{self as k, metrics as m};

/// Distinct workflow values the data-operation counters carry before further ones are folded into
/// [`OTHER_WORKFLOW`]: a workflow may come from an untrusted caller (propagation), and a metrics backend
/// must not be flooded with series.
pub(crate) const MAX_WORKFLOWS: usize = 256;
/// The workflow attribute value past [`MAX_WORKFLOWS`].
pub(crate) const OTHER_WORKFLOW: &str = "_other";

/// The instruments, created once per layer.
#[derive(Debug)]
pub(crate) struct Instruments {
    workflows: std::sync::RwLock<std::collections::HashSet<std::sync::Arc<str>>>,
    token_usage: Histogram<u64>,
    operation_duration: Histogram<f64>,
    attempts: Counter<u64>,
    tool_duration: Histogram<f64>,
    tool_executions: Counter<u64>,
    bytes_scanned: Counter<u64>,
    rows_returned: Counter<u64>,
    rows_affected: Counter<u64>,
    storage_bytes: Counter<u64>,
    storage_objects: Counter<u64>,
    messages: Counter<u64>,
}

impl Instruments {
    pub(crate) fn new(meter: &Meter) -> Self {
        let counter = |name: &'static str, unit: &'static str| meter.u64_counter(name).with_unit(unit).build();
        Instruments {
            workflows: std::sync::RwLock::new(std::collections::HashSet::new()),
            token_usage: meter
                .u64_histogram(m::TOKEN_USAGE)
                .with_unit(m::TOKEN_USAGE_UNIT)
                .with_boundaries(m::TOKEN_BUCKETS.to_vec())
                .build(),
            operation_duration: meter
                .f64_histogram(m::OPERATION_DURATION)
                .with_unit(m::SECONDS)
                .with_boundaries(m::DURATION_BUCKETS.to_vec())
                .build(),
            attempts: counter(m::ATTEMPTS, m::ATTEMPTS_UNIT),
            tool_duration: meter
                .f64_histogram(m::TOOL_DURATION)
                .with_unit(m::SECONDS)
                .with_boundaries(m::DURATION_BUCKETS.to_vec())
                .build(),
            tool_executions: counter(m::TOOL_EXECUTIONS, m::TOOL_EXECUTIONS_UNIT),
            bytes_scanned: counter(m::DATA_BYTES_SCANNED, m::BYTES_UNIT),
            rows_returned: counter(m::DATA_ROWS_RETURNED, m::ROWS_UNIT),
            rows_affected: counter(m::DATA_ROWS_AFFECTED, m::ROWS_UNIT),
            storage_bytes: counter(m::STORAGE_BYTES, m::BYTES_UNIT),
            storage_objects: counter(m::STORAGE_OBJECTS, m::OBJECTS_UNIT),
            messages: counter(m::MESSAGING_MESSAGES, m::MESSAGES_UNIT),
        }
    }

    /// Records the metrics of a closed span with its final attributes.
    pub(crate) fn record(&self, state: &SpanState, seconds: f64) {
        use crate::layer::Class as C;
        match state.class {
            C::Llm => self.record_llm(state, seconds),
            C::Tool => self.record_tool(state, seconds),
            C::Db => self.record_db(state),
            C::Storage => self.record_storage(state),
            C::Messaging => self.record_messaging(state),
            _ => {}
        }
    }

    fn record_llm(&self, state: &SpanState, seconds: f64) {
        let mut attrs = Vec::with_capacity(5);
        copy(state, &mut attrs, k::GEN_AI_OPERATION_NAME);
        copy(state, &mut attrs, k::GEN_AI_PROVIDER_NAME);
        copy(state, &mut attrs, k::GEN_AI_REQUEST_MODEL);
        let failed = state.error.is_some();
        if let Some((error_type, _)) = &state.error {
            attrs.push(KeyValue::new(k::ERROR_TYPE, error_type.to_string()));
        }
        self.operation_duration.record(seconds, &attrs);
        for (key, token_type) in
            [(k::GEN_AI_USAGE_INPUT_TOKENS, m::TOKEN_INPUT), (k::GEN_AI_USAGE_OUTPUT_TOKENS, m::TOKEN_OUTPUT)]
        {
            if let Some(count) = positive(state, key) {
                attrs.push(KeyValue::new(k::GEN_AI_TOKEN_TYPE, token_type));
                self.token_usage.record(count, &attrs);
                attrs.pop();
            }
        }
        if failed {
            attrs.pop();
        }
        attrs.push(status(failed));
        self.attempts.add(1, &attrs);
    }

    fn record_tool(&self, state: &SpanState, seconds: f64) {
        let mut attrs = Vec::with_capacity(3);
        copy(state, &mut attrs, k::GEN_AI_TOOL_NAME);
        copy(state, &mut attrs, k::GEN_AI_PROVIDER_NAME);
        attrs.push(status(state.error.is_some()));
        self.tool_duration.record(seconds, &attrs);
        self.tool_executions.add(1, &attrs);
    }

    /// The workflow attribute, bounded to [`MAX_WORKFLOWS`] distinct values.
    fn workflow(&self, workflow: &std::sync::Arc<str>) -> opentelemetry::Value {
        let known = self.workflows.read().unwrap_or_else(|p| p.into_inner()).contains(workflow);
        if known {
            return opentelemetry::Value::from(workflow.to_string());
        }
        let mut set = self.workflows.write().unwrap_or_else(|p| p.into_inner());
        if set.len() < MAX_WORKFLOWS || set.contains(workflow) {
            set.insert(workflow.clone());
            opentelemetry::Value::from(workflow.to_string())
        } else {
            opentelemetry::Value::from(OTHER_WORKFLOW)
        }
    }

    fn data_attrs(&self, state: &SpanState, system_key: &'static str, op_key: &'static str) -> Vec<KeyValue> {
        let mut attrs = Vec::with_capacity(4);
        copy(state, &mut attrs, system_key);
        if let Some(op) = state.get(op_key) {
            attrs.push(KeyValue::new(m::OPERATION, op.clone()));
        }
        if let Some(run) = &state.run {
            attrs.push(KeyValue::new(k::WORKFLOW, self.workflow(&run.workflow)));
        }
        attrs
    }

    fn record_db(&self, state: &SpanState) {
        let attrs = self.data_attrs(state, k::DB_SYSTEM, k::DB_OPERATION);
        for (key, counter) in [
            (k::WAREHOUSE_BYTES_SCANNED, &self.bytes_scanned),
            (k::DATA_ROWS_RETURNED, &self.rows_returned),
            (k::DATA_ROWS_AFFECTED, &self.rows_affected),
        ] {
            if let Some(v) = positive(state, key) {
                counter.add(v, &attrs);
            }
        }
    }

    fn record_storage(&self, state: &SpanState) {
        let mut attrs = self.data_attrs(state, k::STORAGE_SYSTEM, k::STORAGE_OPERATION);
        if let Some(v) = positive(state, k::DATA_OBJECTS_COUNT) {
            self.storage_objects.add(v, &attrs);
        }
        for (key, direction) in [(k::DATA_BYTES_READ, "read"), (k::DATA_BYTES_WRITTEN, "write")] {
            if let Some(v) = positive(state, key) {
                attrs.push(KeyValue::new(m::DIRECTION, direction));
                self.storage_bytes.add(v, &attrs);
                attrs.pop();
            }
        }
    }

    fn record_messaging(&self, state: &SpanState) {
        let attrs = self.data_attrs(state, k::MESSAGING_SYSTEM, k::MESSAGING_OPERATION);
        if let Some(v) = positive(state, k::MESSAGING_MESSAGE_COUNT) {
            self.messages.add(v, &attrs);
        }
    }
}

fn status(failed: bool) -> KeyValue {
    KeyValue::new(m::STATUS, if failed { m::STATUS_ERROR } else { m::STATUS_SUCCESS })
}

fn copy(state: &SpanState, attrs: &mut Vec<KeyValue>, key: &'static str) {
    if let Some(v) = state.get(key) {
        attrs.push(KeyValue::new(Key::from_static_str(key), v.clone()));
    }
}

fn positive(state: &SpanState, key: &str) -> Option<u64> {
    match state.get(key)? {
        Value::I64(v) if *v > 0 => Some(*v as u64),
        Value::F64(v) if *v >= 1.0 => Some(*v as u64),
        Value::String(s) => s.as_str().trim().parse::<u64>().ok().filter(|v| *v > 0),
        _ => None,
    }
}
