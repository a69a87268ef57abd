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
//! | `gen_ai.client.operation.time_to_first_chunk` | histogram (f64) | `s` | operation, provider, model (streamed calls: a span with `gen_ai.response.time_to_first_chunk`) |
//! | `botanu.gen_ai.attempts` | counter | `{attempt}` | provider, model, operation, `status` (`success` / `error` / `unknown`) |
//! | `botanu.run.attempts` | counter | `{attempt}` | `botanu.workflow`, `status` (the run's `botanu.run.completed` status), `botanu.run.retry` (attempt > 1) |
//! | `botanu.tool.duration` | histogram (f64) | `s` | `gen_ai.tool.name`, `status`, provider if any |
//! | `botanu.tool.executions` | counter | `{execution}` | as above |
//! | `botanu.data.bytes_scanned` | counter | `By` | `db.system`, `botanu.operation`, `botanu.workflow` |
//! | `botanu.data.rows_returned` / `rows_affected` | counter | `{row}` | as above |
//! | `botanu.storage.bytes` | counter | `By` | `botanu.storage.system`, `botanu.operation`, `direction` (read/write), `botanu.workflow` |
//! | `botanu.storage.objects` | counter | `{object}` | system, operation, workflow |
//! | `botanu.messaging.messages` | counter | `{message}` | `messaging.system`, `botanu.operation`, workflow |
//!
//! Under `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` the duration and first-chunk
//! histograms are named `gen_ai.client.inference.*`, and the token histogram is replaced by the counters
//! `gen_ai.client.inference.usage.*` with `gen_ai.token.modality` (a failed call records 0, modality
//! `unknown`). Token counts are the dialect table's reading (`crate::dialect`): every input and output
//! token, cached input and reasoning included, whichever way the crate counted them.
//!
//! Only model calls count as LLM calls: a span whose `gen_ai.operation.name` is not a model operation
//! (`invoke_agent`, `create_agent`, `invoke_workflow`, `execute_tool`; see
//! [`is_model_operation`](crate::normalize::is_model_operation)) records no attempt, duration or tokens,
//! so an agent span around a chat is not a second model call.
//!
//! `status` says what is known about the call's outcome (see [`outcome`]): `error` on evidence of a
//! failure, `success` on evidence of a response, and `unknown` when the span closed with neither — a
//! client that records nothing when a call fails (rig on an HTTP 429, say) is not counted as a success.
//!
//! Attributes are bounded: operation names are normalized, and every free-form value — the workflow,
//! the model, the tool name, the vendor (provider or system) and the error type — has at most 256
//! distinct values per attribute; further ones are counted under `_other` (a workflow can arrive from an
//! untrusted caller, a model name from a request). A run id, event id, customer id or tenant id is never
//! a metric attribute.

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::{Key, KeyValue, Value};

use super::bound_cache::BoundCache;
use super::bound_index::{BoundIndex, Parts};
use super::state::SpanState;
use crate::semconv::{self as k, metrics as m};

/// Distinct values a free-form metric attribute (workflow, model, tool name, vendor, error type) carries
/// before further ones are folded into [`OTHER_WORKFLOW`]: such values may come from an untrusted caller
/// (propagation, a request body), and a metrics backend must not be flooded with series.
pub(crate) const MAX_WORKFLOWS: usize = 256;
/// The attribute value past [`MAX_WORKFLOWS`] distinct values.
pub(crate) const OTHER_WORKFLOW: &str = "_other";

/// The distinct values seen of one metric attribute, bounded to [`MAX_WORKFLOWS`].
#[derive(Default)]
struct Distinct(std::sync::RwLock<std::collections::HashSet<std::sync::Arc<str>>>);

impl Distinct {
    /// `value` if it is one of the first [`MAX_WORKFLOWS`] distinct values seen, else [`OTHER_WORKFLOW`].
    fn admit(&self, value: &str) -> Value {
        // The common case, a known value: shared, not copied.
        if let Some(known) = crate::contention::read(crate::contention::Site::MetricIndex, &self.0).get(value) {
            return Value::String(known.clone().into());
        }
        let mut set = self.0.write().unwrap_or_else(|p| p.into_inner());
        if let Some(known) = set.get(value) {
            return Value::String(known.clone().into());
        }
        if set.len() < MAX_WORKFLOWS {
            let shared: std::sync::Arc<str> = std::sync::Arc::from(value);
            set.insert(shared.clone());
            Value::String(shared.into())
        } else {
            Value::from(OTHER_WORKFLOW)
        }
    }

    /// An attribute's value under this bound: strings are admitted, other values pass.
    fn admit_value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => self.admit(s.as_str()),
            other => other.clone(),
        }
    }
}

/// The LLM instruments bound to one attribute set (operation, provider, model, error type).
struct LlmBound {
    duration: opentelemetry::metrics::BoundHistogram<f64>,
    // Bound on first use: a bound series is exported even if nothing was recorded on it.
    input: std::sync::OnceLock<opentelemetry::metrics::BoundHistogram<u64>>,
    output: std::sync::OnceLock<opentelemetry::metrics::BoundHistogram<u64>>,
    /// Time to first chunk, bound on first use to [`attempt_attrs`](Self::attempt_attrs): the semconv
    /// metric has no `error.type`, and most calls are not streamed.
    time_to_first_chunk: std::sync::OnceLock<opentelemetry::metrics::BoundHistogram<f64>>,
    input_attrs: Vec<KeyValue>,
    output_attrs: Vec<KeyValue>,
    /// The attempts counter per [`Outcome`], bound on first use: one attribute set (operation, provider,
    /// model) has attempts of every outcome, and failed ones also carry `error.type`.
    attempts: [std::sync::OnceLock<opentelemetry::metrics::BoundCounter<u64>>; 3],
    /// Operation, provider and model: the attempts counter's attributes before `status`.
    attempt_attrs: Vec<KeyValue>,
}

/// What is known about how an operation ended: the `status` of the attempt and tool metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Error,
    /// Closed with no evidence either way.
    Unknown,
}

impl Outcome {
    fn index(self) -> usize {
        self as usize
    }

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => m::STATUS_SUCCESS,
            Outcome::Error => m::STATUS_ERROR,
            Outcome::Unknown => m::STATUS_UNKNOWN,
        }
    }

    fn attr(self) -> KeyValue {
        KeyValue::new(m::STATUS, self.as_str())
    }
}

/// The data counters (db, storage or messaging) bound to one attribute set (system, operation,
/// workflow), each bound on first use (a bound series is exported even if nothing was recorded on it).
struct DataBound {
    attrs: Vec<KeyValue>,
    /// Per kind: db bytes scanned, rows returned, rows affected; storage objects, bytes read, bytes
    /// written; messaging messages.
    counters: [std::sync::OnceLock<opentelemetry::metrics::BoundCounter<u64>>; 3],
}

/// Where a data span's counts go: its bound counters, or the unbound instruments with its attributes
/// (a combination past the index's bound).
enum DataSink<'a> {
    Bound(&'a DataBound),
    Unbound(&'a [KeyValue]),
}

impl DataSink<'_> {
    /// Adds `value` to `counter` (the sink's `slot`-th), with `direction` appended to the attributes.
    fn add(&self, slot: usize, counter: &Counter<u64>, direction: Option<&'static str>, value: u64) {
        let with_direction = |attrs: &[KeyValue]| {
            let mut attrs = attrs.to_vec();
            attrs.extend(direction.map(|d| KeyValue::new(m::DIRECTION, d)));
            attrs
        };
        match self {
            DataSink::Bound(bound) => {
                bound.counters[slot].get_or_init(|| counter.bind(&with_direction(&bound.attrs))).add(value);
            }
            DataSink::Unbound(attrs) if direction.is_none() => counter.add(value, attrs),
            DataSink::Unbound(attrs) => counter.add(value, &with_direction(attrs)),
        }
    }
}

/// The tool instruments bound to one attribute set (tool name, provider, status).
struct ToolBound {
    duration: opentelemetry::metrics::BoundHistogram<f64>,
    executions: opentelemetry::metrics::BoundCounter<u64>,
}

/// A string attribute of the span as a key part: `Some(None)` when absent, `None` when it is not a
/// string (the caller takes the unbound path).
fn string_part<'a>(state: &'a SpanState, key: &str) -> Option<Option<&'a str>> {
    match state.get(key) {
        None => Some(None),
        Some(Value::String(s)) => Some(Some(s.as_str())),
        Some(_) => None,
    }
}

/// A span's outcome from its own evidence: a failure (`error.type`, `set_error`, an error of its own,
/// `otel.status_code = error`) is `Error`; `otel.status_code = ok`, a response on an LLM span (tokens, a
/// response id, finish reasons or a response model) or a recorded result on a tool span is `Success`;
/// anything else is `Unknown`. Read before the close-time defaults are written.
pub(crate) fn outcome(state: &SpanState) -> Outcome {
    if state.error.is_some() {
        return Outcome::Error;
    }
    if state.otel_status == Some(super::values::OtelStatus::Ok) {
        return Outcome::Success;
    }
    match state.kind {
        // One pass over the attributes, not one lookup per key: this runs on every LLM span.
        super::Kind::Llm
            if state.attrs.iter().any(|kv| {
                matches!(
                    kv.key.as_str(),
                    k::GEN_AI_USAGE_INPUT_TOKENS
                        | k::GEN_AI_USAGE_OUTPUT_TOKENS
                        // swiftide's usage event, read onto its span (see `event`).
                        | k::LANGFUSE_USAGE_PROMPT_TOKENS
                        | k::LANGFUSE_USAGE_COMPLETION_TOKENS
                        | k::GEN_AI_RESPONSE_ID
                        | k::GEN_AI_RESPONSE_FINISH_REASONS
                        | k::GEN_AI_RESPONSE_MODEL
                )
            }) =>
        {
            Outcome::Success
        }
        super::Kind::Tool => match state.get(k::TOOL_SUCCESS) {
            Some(Value::Bool(true)) => Outcome::Success,
            Some(Value::Bool(false)) => Outcome::Error,
            _ => Outcome::Unknown,
        },
        _ => Outcome::Unknown,
    }
}

/// Operation, provider, model and error type of an LLM span as the span holds them (before admission):
/// the key of [`Instruments::llm_index`]. `None` when one of them is not a string (a foreign span's).
fn llm_parts(state: &SpanState) -> Option<Parts<'_, 4>> {
    let string = |key: &str| string_part(state, key);
    let error_type = state.error.as_ref().map(|(error_type, _)| error_type.as_ref());
    Some([
        string(k::GEN_AI_OPERATION_NAME)?,
        string(k::GEN_AI_PROVIDER_NAME)?,
        string(k::GEN_AI_REQUEST_MODEL)?,
        error_type,
    ])
}

/// The instruments, created once per layer.
pub(crate) struct Instruments {
    llm_bound: BoundCache<std::sync::Arc<LlmBound>>,
    /// The entries of `llm_bound` by the raw values they were built from ([`llm_parts`]), so that a
    /// repeated combination is found without building its attribute vector.
    llm_index: BoundIndex<std::sync::Arc<LlmBound>, 4>,
    /// The data counters by system, operation and workflow as the span holds them, per kind (db,
    /// storage, messaging): a repeated combination builds no attribute vector.
    data_index: [BoundIndex<DataBound, 3>; 3],
    /// The tool instruments by tool name, provider and status.
    tool_index: BoundIndex<ToolBound, 3>,
    /// The run attempts counter by workflow, status and whether the run is a retry.
    run_index: BoundIndex<opentelemetry::metrics::BoundCounter<u64>, 3>,
    workflows: Distinct,
    models: Distinct,
    tools: Distinct,
    providers: Distinct,
    systems: Distinct,
    error_types: Distinct,
    token_usage: Histogram<u64>,
    operation_duration: Histogram<f64>,
    time_to_first_chunk: Histogram<f64>,
    attempts: Counter<u64>,
    run_attempts: Counter<u64>,
    tool_duration: Histogram<f64>,
    tool_executions: Counter<u64>,
    bytes_scanned: Counter<u64>,
    rows_returned: Counter<u64>,
    rows_affected: Counter<u64>,
    storage_bytes: Counter<u64>,
    storage_objects: Counter<u64>,
    messages: Counter<u64>,
    /// `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`: the inference token counters, which
    /// replace `gen_ai.client.token.usage`.
    inference: Option<InferenceCounters>,
}

/// The `gen_ai.client.inference.usage.*` counters (contract §9).
struct InferenceCounters {
    input: Counter<u64>,
    output: Counter<u64>,
    cache_read: Counter<u64>,
    cache_write: Counter<u64>,
    reasoning: Counter<u64>,
}

impl std::fmt::Debug for Instruments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instruments").finish_non_exhaustive()
    }
}

impl Instruments {
    pub(crate) fn new(meter: &Meter, opt_in: crate::config::SemconvOptIn) -> Self {
        let counter = |name: &'static str, unit: &'static str| meter.u64_counter(name).with_unit(unit).build();
        let latest = opt_in.gen_ai_latest_experimental;
        let (duration_name, first_chunk_name) = if latest {
            (m::INFERENCE_DURATION, m::INFERENCE_TIME_TO_FIRST_CHUNK)
        } else {
            (m::OPERATION_DURATION, m::TIME_TO_FIRST_CHUNK)
        };
        let inference = latest.then(|| InferenceCounters {
            input: counter(m::INFERENCE_INPUT_TOKENS, m::TOKEN_USAGE_UNIT),
            output: counter(m::INFERENCE_OUTPUT_TOKENS, m::TOKEN_USAGE_UNIT),
            cache_read: counter(m::INFERENCE_CACHE_READ_TOKENS, m::TOKEN_USAGE_UNIT),
            cache_write: counter(m::INFERENCE_CACHE_WRITE_TOKENS, m::TOKEN_USAGE_UNIT),
            reasoning: counter(m::INFERENCE_REASONING_TOKENS, m::TOKEN_USAGE_UNIT),
        });
        Instruments {
            llm_bound: BoundCache::default(),
            llm_index: BoundIndex::default(),
            data_index: Default::default(),
            tool_index: BoundIndex::default(),
            run_index: BoundIndex::default(),
            workflows: Distinct::default(),
            models: Distinct::default(),
            tools: Distinct::default(),
            providers: Distinct::default(),
            systems: Distinct::default(),
            error_types: Distinct::default(),
            token_usage: meter
                .u64_histogram(m::TOKEN_USAGE)
                .with_unit(m::TOKEN_USAGE_UNIT)
                .with_boundaries(m::TOKEN_BUCKETS.to_vec())
                .build(),
            operation_duration: meter
                .f64_histogram(duration_name)
                .with_unit(m::SECONDS)
                .with_boundaries(m::DURATION_BUCKETS.to_vec())
                .build(),
            time_to_first_chunk: meter
                .f64_histogram(first_chunk_name)
                .with_unit(m::SECONDS)
                .with_boundaries(m::DURATION_BUCKETS.to_vec())
                .build(),
            attempts: counter(m::ATTEMPTS, m::ATTEMPTS_UNIT),
            run_attempts: counter(m::RUN_ATTEMPTS, m::ATTEMPTS_UNIT),
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
            inference,
        }
    }

    /// Records the metrics of a closed span with its final attributes and its [`outcome`].
    pub(crate) fn record(&self, state: &SpanState, seconds: f64, outcome: Outcome) {
        use super::Kind as C;
        match state.kind {
            C::Llm if state.is_model_call() => self.record_llm(state, seconds, outcome),
            C::Llm => {}
            C::Tool => self.record_tool(state, seconds, outcome),
            C::Db => self.record_db(state),
            C::Storage => self.record_storage(state),
            C::Messaging => self.record_messaging(state),
            C::Run => self.record_run(state),
            C::Step | C::Other => {}
        }
    }

    fn record_llm(&self, state: &SpanState, seconds: f64, outcome: Outcome) {
        // Every input and output token as the dialect table read them (cached input and reasoning
        // included, whichever way the crate counted them), or the raw keys for a span read before close.
        let (input, output) = match state.usage.filter(|r| r.any) {
            Some(r) => (Some(r.tokens.total_input()), Some(r.tokens.total_output())),
            None => (positive(state, k::GEN_AI_USAGE_INPUT_TOKENS), positive(state, k::GEN_AI_USAGE_OUTPUT_TOKENS)),
        };
        let (input, output) = (input.filter(|n| *n > 0), output.filter(|n| *n > 0));
        if let Some(counters) = &self.inference {
            self.record_inference(counters, state);
        }
        // Under `gen_ai_latest_experimental` the counters replace the token histogram.
        let (input, output) = if self.inference.is_some() { (None, None) } else { (input, output) };
        let first_chunk = seconds_of(state, k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK);
        let record = |b: &LlmBound| {
            b.duration.record(seconds);
            if let Some(s) = first_chunk {
                b.time_to_first_chunk.get_or_init(|| self.time_to_first_chunk.bind(&b.attempt_attrs)).record(s);
            }
            if let Some(n) = input {
                b.input.get_or_init(|| self.token_usage.bind(&b.input_attrs)).record(n);
            }
            if let Some(n) = output {
                b.output.get_or_init(|| self.token_usage.bind(&b.output_attrs)).record(n);
            }
            b.attempts[outcome.index()]
                .get_or_init(|| {
                    let mut a = b.attempt_attrs.clone();
                    a.push(outcome.attr());
                    self.attempts.bind(&a)
                })
                .add(1);
        };
        // The common case: this combination was bound before; no attribute vector is built.
        let parts = llm_parts(state);
        if let Some(parts) = &parts {
            if self.llm_index.with(parts, |b| record(b)) {
                return;
            }
        }
        let remember = |b: &std::sync::Arc<LlmBound>| {
            if let Some(parts) = &parts {
                self.llm_index.insert(parts, b.clone());
            }
        };
        let mut attrs = Vec::with_capacity(5);
        copy(state, &mut attrs, k::GEN_AI_OPERATION_NAME);
        copy(state, &mut attrs, k::GEN_AI_PROVIDER_NAME);
        copy(state, &mut attrs, k::GEN_AI_REQUEST_MODEL);
        let failed = state.error.is_some();
        if let Some((error_type, _)) = &state.error {
            attrs.push(KeyValue::new(k::ERROR_TYPE, error_type.to_string()));
        }
        // The bound map holds only sets whose free-form values were admitted, so a set found there
        // needs no admission: the common case costs one lookup.
        if let Some(b) = self.llm_bound.get(&attrs) {
            remember(&b);
            record(&b);
            return;
        }
        self.admit_llm(&mut attrs);
        let bound = self.llm_bound.get(&attrs).map_or_else(
            || {
                self.llm_bound.get_or_bind(attrs, |attrs| {
                    let bind_with = |extra: KeyValue| {
                        let mut a = attrs.to_vec();
                        a.push(extra);
                        a
                    };
                    let mut attempt_attrs = attrs.to_vec();
                    if failed {
                        attempt_attrs.pop();
                    }
                    std::sync::Arc::new(LlmBound {
                        duration: self.operation_duration.bind(attrs),
                        input: std::sync::OnceLock::new(),
                        output: std::sync::OnceLock::new(),
                        time_to_first_chunk: std::sync::OnceLock::new(),
                        input_attrs: bind_with(KeyValue::new(k::GEN_AI_TOKEN_TYPE, m::TOKEN_INPUT)),
                        output_attrs: bind_with(KeyValue::new(k::GEN_AI_TOKEN_TYPE, m::TOKEN_OUTPUT)),
                        attempts: Default::default(),
                        attempt_attrs,
                    })
                })
            },
            Ok,
        );
        match bound {
            Ok(bound) => {
                remember(&bound);
                record(&bound);
            }
            Err(attrs) => {
                if let Some(s) = first_chunk {
                    // Without the trailing `error.type` of a failed call, as in the bound path.
                    self.time_to_first_chunk.record(s, &attrs[..attrs.len() - usize::from(failed)]);
                }
                self.record_llm_unbound(attrs, failed, outcome, input, output, seconds);
            }
        }
    }

    /// The `gen_ai.client.inference.usage.*` counters of one model call: input and output by modality
    /// (`text` unless a part's modality is known), cache reads and writes and reasoning; a failed call
    /// records 0 on each, modality `unknown`, so failures show in the same series. Unbound (recorded
    /// only under the opt-in).
    #[inline(never)]
    fn record_inference(&self, counters: &InferenceCounters, state: &SpanState) {
        let mut attrs = Vec::with_capacity(5);
        copy(state, &mut attrs, k::GEN_AI_OPERATION_NAME);
        copy_bounded(state, &mut attrs, k::GEN_AI_PROVIDER_NAME, &self.providers);
        copy_bounded(state, &mut attrs, k::GEN_AI_REQUEST_MODEL, &self.models);
        if let Some((error_type, _)) = &state.error {
            attrs.push(KeyValue::new(k::ERROR_TYPE, self.error_types.admit(error_type)));
        }
        let all = [&counters.input, &counters.output, &counters.cache_read, &counters.cache_write, &counters.reasoning];
        let mut add = |counter: &Counter<u64>, count: u64, modality: &'static str| {
            attrs.push(KeyValue::new(k::GEN_AI_TOKEN_MODALITY, modality));
            counter.add(count, &attrs);
            attrs.pop();
        };
        if state.error.is_some() {
            for counter in all {
                add(counter, 0, m::MODALITY_UNKNOWN);
            }
            return;
        }
        let Some(t) = state.usage.filter(|r| r.any).map(|r| r.tokens) else { return };
        let input = t.total_input();
        let output = t.total_output();
        let text_in = input.saturating_sub(t.audio_input).saturating_sub(t.image_input);
        let text_out = output.saturating_sub(t.audio_output).saturating_sub(t.image_output);
        add(&counters.input, text_in, m::MODALITY_TEXT);
        add(&counters.output, text_out, m::MODALITY_TEXT);
        for (counter, count, modality) in [
            (&counters.input, t.audio_input, m::MODALITY_AUDIO),
            (&counters.input, t.image_input, m::MODALITY_IMAGE),
            (&counters.output, t.audio_output, m::MODALITY_AUDIO),
            (&counters.output, t.image_output, m::MODALITY_IMAGE),
            (&counters.cache_read, t.cache_read, m::MODALITY_TEXT),
            (&counters.cache_write, t.cache_writes(), m::MODALITY_TEXT),
            (&counters.reasoning, t.reasoning, m::MODALITY_TEXT),
        ] {
            if count > 0 {
                add(counter, count, modality);
            }
        }
    }

    /// Provider, model and error type of an LLM attribute set, each bounded to [`MAX_WORKFLOWS`] values.
    #[inline(never)]
    fn admit_llm(&self, attrs: &mut [KeyValue]) {
        for kv in attrs {
            let distinct = match kv.key.as_str() {
                k::GEN_AI_PROVIDER_NAME => &self.providers,
                k::GEN_AI_REQUEST_MODEL => &self.models,
                k::ERROR_TYPE => &self.error_types,
                _ => continue,
            };
            kv.value = distinct.admit_value(&kv.value);
        }
    }

    fn record_llm_unbound(
        &self,
        mut attrs: Vec<KeyValue>,
        failed: bool,
        outcome: Outcome,
        input: Option<u64>,
        output: Option<u64>,
        seconds: f64,
    ) {
        self.operation_duration.record(seconds, &attrs);
        for (count, token_type) in [(input, m::TOKEN_INPUT), (output, m::TOKEN_OUTPUT)] {
            if let Some(count) = count {
                attrs.push(KeyValue::new(k::GEN_AI_TOKEN_TYPE, token_type));
                self.token_usage.record(count, &attrs);
                attrs.pop();
            }
        }
        if failed {
            attrs.pop();
        }
        attrs.push(outcome.attr());
        self.attempts.add(1, &attrs);
    }

    /// One attempt of the run's business event, with the status its `botanu.run.completed` event says
    /// (read from the event, so the metric and the trace never disagree). Attempts per root run: the sum
    /// over a workflow's series, divided by its `botanu.run.retry = false` series; per root exactly,
    /// from the run spans' `botanu.root_run_id` and `botanu.attempt`.
    fn record_run(&self, state: &SpanState) {
        let Some(run) = &state.run else { return };
        let status = state
            .events
            .iter()
            .rev()
            .find(|e| e.name == k::EVENT_RUN_COMPLETED)
            .and_then(|e| e.attributes.iter().find(|kv| kv.key.as_str() == k::RUN_EVENT_STATUS));
        let Some(status) = status else { return };
        let retry = run.attempt > 1;
        let parts = match &status.value {
            Value::String(s) => Some([Some(&*run.workflow), Some(s.as_str()), Some(if retry { "1" } else { "0" })]),
            _ => None,
        };
        if let Some(parts) = &parts {
            if self.run_index.with(parts, |bound| bound.add(1)) {
                return;
            }
        }
        let attrs = [
            KeyValue::new(k::WORKFLOW, self.workflow(&run.workflow)),
            KeyValue::new(m::STATUS, status.value.clone()),
            KeyValue::new(m::RUN_RETRY, retry),
        ];
        match parts.filter(|_| !self.run_index.is_full()) {
            Some(parts) => {
                let bound = self.run_attempts.bind(&attrs);
                bound.add(1);
                self.run_index.insert(&parts, bound);
            }
            None => self.run_attempts.add(1, &attrs),
        }
    }

    fn record_tool(&self, state: &SpanState, seconds: f64, outcome: Outcome) {
        let parts = (|| {
            Some([
                string_part(state, k::GEN_AI_TOOL_NAME)?,
                string_part(state, k::GEN_AI_PROVIDER_NAME)?,
                Some(outcome.as_str()),
            ])
        })();
        let record = |bound: &ToolBound| {
            bound.duration.record(seconds);
            bound.executions.add(1);
        };
        if let Some(parts) = &parts {
            if self.tool_index.with(parts, record) {
                return;
            }
        }
        let mut attrs = Vec::with_capacity(3);
        copy_bounded(state, &mut attrs, k::GEN_AI_TOOL_NAME, &self.tools);
        copy_bounded(state, &mut attrs, k::GEN_AI_PROVIDER_NAME, &self.providers);
        attrs.push(outcome.attr());
        match parts.filter(|_| !self.tool_index.is_full()) {
            Some(parts) => {
                let bound = ToolBound {
                    duration: self.tool_duration.bind(&attrs),
                    executions: self.tool_executions.bind(&attrs),
                };
                record(&bound);
                self.tool_index.insert(&parts, bound);
            }
            None => {
                self.tool_duration.record(seconds, &attrs);
                self.tool_executions.add(1, &attrs);
            }
        }
    }

    /// The workflow attribute, bounded to [`MAX_WORKFLOWS`] distinct values.
    pub(crate) fn workflow(&self, workflow: &std::sync::Arc<str>) -> opentelemetry::Value {
        self.workflows.admit(workflow)
    }

    /// System, operation (from the span kind's row) and workflow: the attributes of the data metrics.
    fn data_attrs(&self, state: &SpanState) -> Vec<KeyValue> {
        let mut attrs = Vec::with_capacity(4);
        let spec = state.kind.spec();
        if let Some(system) = &spec.system {
            copy_bounded(state, &mut attrs, system.key, &self.systems);
        }
        if let Some(op) = spec.operation.as_ref().and_then(|op| state.get(op.key)) {
            attrs.push(KeyValue::new(m::OPERATION, op.clone()));
        }
        if let Some(run) = &state.run {
            attrs.push(KeyValue::new(k::WORKFLOW, self.workflow(&run.workflow)));
        }
        attrs
    }

    /// System, operation and workflow of a data span as it holds them (before admission): the key of
    /// [`Self::data_index`]. `None` when the system or operation is not a string.
    fn data_parts(state: &SpanState) -> Option<Parts<'_, 3>> {
        let spec = state.kind.spec();
        let system = match &spec.system {
            Some(system) => string_part(state, system.key)?,
            None => None,
        };
        let operation = match &spec.operation {
            Some(op) => string_part(state, op.key)?,
            None => None,
        };
        Some([system, operation, state.run.as_ref().map(|run| &*run.workflow)])
    }

    /// Runs `record` on the data counters of `state`'s attribute set (`which`: the kind's index): bound,
    /// found without building the attributes when the combination was seen before.
    fn record_data(&self, which: usize, state: &SpanState, record: impl Fn(&DataSink<'_>)) {
        let index = &self.data_index[which];
        let parts = Self::data_parts(state);
        if let Some(parts) = &parts {
            if index.with(parts, |bound| record(&DataSink::Bound(bound))) {
                return;
            }
        }
        let attrs = self.data_attrs(state);
        match parts.filter(|_| !index.is_full()) {
            Some(parts) => {
                let bound = DataBound { attrs, counters: Default::default() };
                record(&DataSink::Bound(&bound));
                index.insert(&parts, bound);
            }
            None => record(&DataSink::Unbound(&attrs)),
        }
    }

    fn record_db(&self, state: &SpanState) {
        let counts = [
            (positive(state, k::WAREHOUSE_BYTES_SCANNED), &self.bytes_scanned),
            (positive(state, k::DATA_ROWS_RETURNED), &self.rows_returned),
            (positive(state, k::DATA_ROWS_AFFECTED), &self.rows_affected),
        ];
        if counts.iter().all(|(count, _)| count.is_none()) {
            return;
        }
        self.record_data(0, state, |sink| {
            for (slot, (count, counter)) in counts.iter().enumerate() {
                if let Some(v) = count {
                    sink.add(slot, counter, None, *v);
                }
            }
        });
    }

    fn record_storage(&self, state: &SpanState) {
        let counts = [
            (positive(state, k::DATA_OBJECTS_COUNT), &self.storage_objects, None),
            (positive(state, k::DATA_BYTES_READ), &self.storage_bytes, Some("read")),
            (positive(state, k::DATA_BYTES_WRITTEN), &self.storage_bytes, Some("write")),
        ];
        if counts.iter().all(|(count, _, _)| count.is_none()) {
            return;
        }
        self.record_data(1, state, |sink| {
            for (slot, (count, counter, direction)) in counts.iter().enumerate() {
                if let Some(v) = count {
                    sink.add(slot, counter, *direction, *v);
                }
            }
        });
    }

    fn record_messaging(&self, state: &SpanState) {
        if let Some(v) = positive(state, k::MESSAGING_MESSAGE_COUNT) {
            self.record_data(2, state, |sink| sink.add(0, &self.messages, None, v));
        }
    }
}

fn copy(state: &SpanState, attrs: &mut Vec<KeyValue>, key: &'static str) {
    if let Some(v) = state.get(key) {
        attrs.push(KeyValue::new(Key::from_static_str(key), v.clone()));
    }
}

/// [`copy`] with the value admitted by `distinct` (a free-form value: model, tool, vendor).
fn copy_bounded(state: &SpanState, attrs: &mut Vec<KeyValue>, key: &'static str, distinct: &Distinct) {
    if let Some(v) = state.get(key) {
        attrs.push(KeyValue::new(Key::from_static_str(key), distinct.admit_value(v)));
    }
}

/// A duration in seconds: a finite, non-negative number (a foreign span may record an integer).
fn seconds_of(state: &SpanState, key: &str) -> Option<f64> {
    let seconds = match state.get(key)? {
        Value::F64(v) => *v,
        Value::I64(v) => *v as f64,
        _ => return None,
    };
    (seconds.is_finite() && seconds >= 0.0).then_some(seconds)
}

fn positive(state: &SpanState, key: &str) -> Option<u64> {
    match state.get(key)? {
        Value::I64(v) if *v > 0 => Some(*v as u64),
        Value::F64(v) if *v >= 1.0 => Some(*v as u64),
        Value::String(s) => s.as_str().trim().parse::<u64>().ok().filter(|v| *v > 0),
        _ => None,
    }
}
