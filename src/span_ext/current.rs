//! Free functions on the current span: outcomes, business context, correlation, the seed helpers,
//! and readers of the current run.

use super::*;

/// Details of an outcome (`emit_outcome`); only those given are written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// What the value counts (`tickets_resolved`, `revenue_usd`, …).
    pub value_type: Option<String>,
    /// The value.
    pub value_amount: Option<f64>,
    /// Confidence in [0, 1].
    pub confidence: Option<f64>,
    /// Why.
    pub reason: Option<String>,
    /// Error type, for failed outcomes.
    pub error_type: Option<String>,
    /// Extra `botanu.outcome.metadata.<key>` attributes.
    pub metadata: Vec<(String, String)>,
}

/// Records the business outcome on the current span (attributes and a `botanu.outcome_emitted`
/// event) and its status on the enclosing run span (`botanu.outcome.status`).
///
/// ```
/// use botanu::{emit_outcome, Outcome};
/// emit_outcome("success", Outcome { value_type: Some("tickets_resolved".into()), value_amount: Some(1.0), ..Default::default() })?;
/// assert!(emit_outcome("great", Outcome::default()).is_err());
/// # Ok::<(), botanu::InvalidOutcomeStatus>(())
/// ```
pub fn emit_outcome(status: &str, outcome: Outcome) -> Result<(), InvalidOutcomeStatus> {
    let status: OutcomeStatus = status.parse()?;
    let mut attrs: Vec<KeyValue> = Vec::new();
    if let Some(v) = &outcome.value_type {
        attrs.push(KeyValue::new(k::OUTCOME_VALUE_TYPE, v.clone()));
    }
    if let Some(v) = outcome.value_amount {
        attrs.push(KeyValue::new(k::OUTCOME_VALUE_AMOUNT, v));
    }
    if let Some(v) = outcome.confidence {
        attrs.push(KeyValue::new(k::OUTCOME_CONFIDENCE, v));
    }
    if let Some(v) = &outcome.reason {
        attrs.push(KeyValue::new(k::OUTCOME_REASON, v.clone()));
    }
    if let Some(v) = &outcome.error_type {
        attrs.push(KeyValue::new(k::OUTCOME_ERROR_TYPE, v.clone()));
    }
    for (key, v) in &outcome.metadata {
        attrs.push(KeyValue::new(format!("{}{}", k::OUTCOME_METADATA_PREFIX, key), v.clone()));
    }
    // The event uses the reference's short keys; the span attributes keep the `botanu.outcome.*` ones.
    let mut event_attrs = vec![KeyValue::new(k::OUTCOME_EVENT_STATUS, status.as_str())];
    if let Some(v) = &outcome.value_type {
        event_attrs.push(KeyValue::new(k::OUTCOME_EVENT_VALUE_TYPE, v.clone()));
    }
    if let Some(v) = outcome.value_amount {
        event_attrs.push(KeyValue::new(k::OUTCOME_EVENT_VALUE_AMOUNT, v));
    }
    if let Some(v) = &outcome.error_type {
        event_attrs.push(KeyValue::new(k::OUTCOME_EVENT_ERROR_TYPE, v.clone()));
    }
    if let Some(v) = &outcome.reason {
        event_attrs.push(KeyValue::new(k::OUTCOME_EVENT_REASON, v.clone()));
    }
    if let Some(v) = outcome.confidence {
        event_attrs.push(KeyValue::new(k::OUTCOME_EVENT_CONFIDENCE, v));
    }
    with_own_state(&Span::current(), |state, shared| {
        for kv in &attrs {
            state.set(kv.key.clone(), kv.value.clone());
        }
        let event_attrs = event_attrs.clone();
        state.push_event(
            Event::new(k::EVENT_OUTCOME_EMITTED, std::time::SystemTime::now(), event_attrs, 0),
            shared.max_events,
        );
        if let Some(run) = &state.run {
            run.fields_mut().outcome_status = Some(status.as_str());
        }
    });
    Ok(())
}

/// Business context for `set_business_context`; only those given are written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessContext {
    /// Customer billed (also updates the enclosing run's customer).
    pub customer_id: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// Cost center.
    pub cost_center: Option<String>,
    /// Region.
    pub region: Option<String>,
}

/// Writes business context on the current span; a customer id also becomes the run's customer, so
/// spans exported later in the run carry it.
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// run_span!(workflow = "support").in_scope(|| {
///     botanu::set_business_context(botanu::BusinessContext { customer_id: Some("acme".into()), team: Some("billing".into()), ..Default::default() });
///     llm_span!(provider = "openai", model = "gpt-4o").in_scope(|| {});
/// });
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
/// // The LLM span, exported after the customer was set, carries it too.
/// assert_eq!(attr(k::CUSTOMER_ID).as_deref(), Some("acme"));
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn set_business_context(ctx: BusinessContext) {
    with_own_state(&Span::current(), |state, _| {
        for (key, v) in [
            (k::CUSTOMER_ID, &ctx.customer_id),
            (k::TEAM, &ctx.team),
            (k::COST_CENTER, &ctx.cost_center),
            (k::REGION, &ctx.region),
        ] {
            if let Some(v) = v {
                state.set(Key::from_static_str(key), Value::from(v.clone()));
            }
        }
        if let (Some(customer), Some(run)) = (&ctx.customer_id, &state.run) {
            run.fields_mut().customer_id = Some(customer.as_str().into());
        }
    });
}

/// Writes `botanu.correlation.<key>` on the current span (a ticket number, a trace id of another
/// system, …).
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// llm_span!(provider = "openai", model = "gpt-4o").in_scope(|| botanu::set_correlation("ticket", "T-42"));
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
/// assert_eq!(attr("botanu.correlation.ticket").as_deref(), Some("T-42"));
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn set_correlation(key: &str, value: &str) {
    let key = format!("{}{}", k::CORRELATION_PREFIX, key);
    with_own_state(&Span::current(), |state, _| state.set(Key::new(key.clone()), Value::from(value.to_owned())));
}

// === seed helpers on the current span ===

/// The LLM call of [`set_llm_attributes`]; only what is given is written (tokens when > 0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LlmAttributes {
    /// The provider, normalized like `llm_span!(provider = …)` (`"Claude"` → `anthropic`).
    pub provider: String,
    /// The requested model.
    pub model: String,
    /// The operation; `chat` when `None`.
    pub operation: Option<String>,
    /// Input (prompt) tokens.
    pub input_tokens: u64,
    /// Output (completion) tokens.
    pub output_tokens: u64,
    /// Cached input tokens.
    pub cached_tokens: u64,
    /// Whether the response was streamed (written only when true).
    pub streaming: bool,
    /// The provider's request / response id.
    pub vendor_request_id: Option<String>,
}

/// Writes an LLM call's attributes on the current span (the reference's `set_llm_attributes`): for code
/// that has a span of its own (an `#[instrument]` function, say) rather than an [`llm_span!`](crate::llm_span).
/// The span is the current one, or its nearest ancestor that botanu exports.
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// llm_span!(provider = "openai", model = "gpt-4o").in_scope(|| {
///     botanu::set_llm_attributes(botanu::LlmAttributes {
///         provider: "Claude".into(),
///         model: "claude-sonnet-4".into(),
///         input_tokens: 1200,
///         output_tokens: 80,
///         cached_tokens: 1000,
///         streaming: true,
///         vendor_request_id: Some("msg_01".into()),
///         ..Default::default()
///     });
/// });
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
/// assert_eq!(attr(k::GEN_AI_PROVIDER_NAME).as_deref(), Some("anthropic"));
/// assert_eq!(attr(k::VENDOR).as_deref(), Some("anthropic"));
/// assert_eq!(attr(k::GEN_AI_REQUEST_MODEL).as_deref(), Some("claude-sonnet-4"));
/// assert_eq!(attr(k::GEN_AI_USAGE_INPUT_TOKENS).as_deref(), Some("1200"));
/// assert_eq!(attr(k::USAGE_CACHED_TOKENS).as_deref(), Some("1000"));
/// assert_eq!(attr(k::REQUEST_STREAMING).as_deref(), Some("true"));
/// assert_eq!(attr(k::VENDOR_REQUEST_ID).as_deref(), Some("msg_01"));
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn set_llm_attributes(call: LlmAttributes) {
    let span = Span::current();
    if span.field(k::GEN_AI_PROVIDER_NAME).is_some() {
        // Declared: the layer's recorder normalizes it and mirrors `botanu.vendor`, as for the macro.
        span.record(k::GEN_AI_PROVIDER_NAME, call.provider.as_str());
    } else {
        with_own_state(&span, |state, _| {
            crate::layer::recorder::apply_system(state, crate::layer::Kind::Llm, &call.provider)
        });
    }
    put_str(&span, k::GEN_AI_REQUEST_MODEL, &call.model);
    let operation = call.operation.as_deref().unwrap_or(k::OPERATION_CHAT);
    let operation = crate::normalize::normalize_operation(crate::normalize::OperationKind::GenAi, operation);
    put_str(&span, k::GEN_AI_OPERATION_NAME, &operation);
    put_positive(&span, k::GEN_AI_USAGE_INPUT_TOKENS, call.input_tokens);
    put_positive(&span, k::GEN_AI_USAGE_OUTPUT_TOKENS, call.output_tokens);
    put_positive(&span, k::USAGE_CACHED_TOKENS, call.cached_tokens);
    put_positive(&span, k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, call.cached_tokens);
    if call.streaming {
        put(&span, k::REQUEST_STREAMING, Value::Bool(true));
    }
    if let Some(id) = &call.vendor_request_id {
        put_str(&span, k::GEN_AI_RESPONSE_ID, id);
        put_str(&span, k::VENDOR_REQUEST_ID, id);
    }
}

/// Writes token usage on the current span (the reference's `set_token_usage`): what
/// [`LlmSpanExt::set_tokens`] writes, for code that does not hold the span.
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// llm_span!(provider = "openai", model = "gpt-4o").in_scope(|| {
///     botanu::set_token_usage(Tokens { input: 500, output: 40, cache_read: 300, ..Default::default() });
/// });
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
/// assert_eq!(attr(k::GEN_AI_USAGE_INPUT_TOKENS).as_deref(), Some("500"));
/// assert_eq!(attr(k::GEN_AI_USAGE_OUTPUT_TOKENS).as_deref(), Some("40"));
/// assert_eq!(attr(k::USAGE_CACHED_TOKENS).as_deref(), Some("300"));
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn set_token_usage(tokens: Tokens) {
    Span::current().set_tokens(tokens);
}

/// Data-operation figures of [`set_data_metrics`]; zero counts are not written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataMetrics {
    /// Rows returned.
    pub rows_returned: u64,
    /// Rows affected.
    pub rows_affected: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Objects touched.
    pub objects_count: u64,
}

/// Writes data-operation figures (`botanu.data.*`) on the current span (the reference's
/// `set_data_metrics`). They never land on an enclosing span: a plain `info_span!` that receives them is
/// exported with them, as a plain span in its ancestor's run.
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// db_span!(system = "postgresql", operation = "SELECT").in_scope(|| {
///     botanu::set_data_metrics(botanu::DataMetrics { rows_returned: 42, bytes_read: 8192, ..Default::default() });
/// });
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
/// assert_eq!(attr(k::DATA_ROWS_RETURNED).as_deref(), Some("42"));
/// assert_eq!(attr(k::DATA_BYTES_READ).as_deref(), Some("8192"));
/// assert_eq!(attr(k::DATA_ROWS_AFFECTED), None);
/// # Ok::<(), botanu::Error>(())
/// ```
///
/// In plain spans inside a run, each span keeps its own figures:
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// run_span!(workflow = "etl").in_scope(|| {
///     tracing::info_span!("op1").in_scope(|| botanu::set_data_metrics(botanu::DataMetrics { rows_returned: 100, ..Default::default() }));
///     tracing::info_span!("op2").in_scope(|| botanu::set_data_metrics(botanu::DataMetrics { rows_returned: 7, ..Default::default() }));
/// });
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// let rows = |name: &str| {
///     let span = spans.iter().find(|s| s.name == name).expect("exported");
///     span.attributes.iter().find(|kv| kv.key.as_str() == k::DATA_ROWS_RETURNED).map(|kv| kv.value.to_string())
/// };
/// assert_eq!((rows("op1").as_deref(), rows("op2").as_deref()), (Some("100"), Some("7")));
/// assert_eq!(rows("botanu.run/etl"), None);
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn set_data_metrics(metrics: DataMetrics) {
    let span = Span::current();
    put_positive(&span, k::DATA_ROWS_RETURNED, metrics.rows_returned);
    put_positive(&span, k::DATA_ROWS_AFFECTED, metrics.rows_affected);
    put_positive(&span, k::DATA_BYTES_READ, metrics.bytes_read);
    put_positive(&span, k::DATA_BYTES_WRITTEN, metrics.bytes_written);
    put_positive(&span, k::DATA_OBJECTS_COUNT, metrics.objects_count);
}

/// A warehouse query's figures for [`set_warehouse_metrics`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarehouseMetrics {
    /// The warehouse's query (job) id; written when not empty.
    pub query_id: String,
    /// Bytes scanned, the cost driver of BigQuery, Athena, Snowflake…; always written.
    pub bytes_scanned: u64,
    /// Rows returned (written if > 0).
    pub rows_returned: u64,
    /// Partitions scanned (written if > 0).
    pub partitions_scanned: u64,
}

/// Writes a warehouse query's figures on the current span (the reference's `set_warehouse_metrics`).
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// db_span!(system = "bigquery", operation = "SELECT").in_scope(|| {
///     botanu::set_warehouse_metrics(botanu::WarehouseMetrics {
///         query_id: "job_123".into(),
///         bytes_scanned: 10_485_760,
///         partitions_scanned: 4,
///         ..Default::default()
///     });
/// });
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
/// assert_eq!(attr(k::WAREHOUSE_QUERY_ID).as_deref(), Some("job_123"));
/// assert_eq!(attr(k::WAREHOUSE_BYTES_SCANNED).as_deref(), Some("10485760"));
/// assert_eq!(attr(k::WAREHOUSE_PARTITIONS_SCANNED).as_deref(), Some("4"));
/// assert_eq!(attr(k::DATA_ROWS_RETURNED), None);
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn set_warehouse_metrics(metrics: WarehouseMetrics) {
    let span = Span::current();
    if !metrics.query_id.is_empty() {
        put_str(&span, k::WAREHOUSE_QUERY_ID, &metrics.query_id);
    }
    put_u64(&span, k::WAREHOUSE_BYTES_SCANNED, metrics.bytes_scanned);
    put_positive(&span, k::DATA_ROWS_RETURNED, metrics.rows_returned);
    put_positive(&span, k::WAREHOUSE_PARTITIONS_SCANNED, metrics.partitions_scanned);
}

/// Reads the current span's run, if it is in one.
fn read_run<T>(f: impl Fn(&RunContext) -> Option<T>) -> Option<T> {
    let mut out = None;
    with_state(&Span::current(), |state, _| out = state.run.as_deref().and_then(&f));
    out
}

/// The id of the run the current span is in.
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// run_span!(workflow = "support").in_scope(|| {
///     let id = botanu::current_run_id().expect("in a run");
///     assert_eq!(id.len(), 36, "a UUIDv7");
/// });
/// assert_eq!(botanu::current_run_id(), None);
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
/// assert!(attr(k::RUN_ID).is_some_and(|id| id.len() == 36));
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn current_run_id() -> Option<String> {
    read_run(|run| Some(run.run_id.to_string()))
}

/// The workflow of the run the current span is in.
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// let workflow = run_span!(workflow = "support").in_scope(botanu::current_workflow);
/// assert_eq!(workflow.as_deref(), Some("support"));
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
/// assert_eq!(spans.len(), 1);
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn current_workflow() -> Option<String> {
    read_run(|run| Some(run.workflow.to_string()))
}

/// A baggage value of the current run: the run's own keys (`botanu.run_id`, `botanu.workflow`,
/// `botanu.event_id`, `botanu.customer_id`, `botanu.tenant_id`, …) or one set with [`set_baggage`].
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// run_span!(workflow = "support", customer_id = "acme").in_scope(|| {
///     assert_eq!(botanu::baggage(k::CUSTOMER_ID).as_deref(), Some("acme"));
///     assert_eq!(botanu::baggage("plan"), None);
/// });
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
/// assert_eq!(attr(k::CUSTOMER_ID).as_deref(), Some("acme"));
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn baggage(key: &str) -> Option<String> {
    read_run(|run| run.read(key))
}

/// Sets a baggage entry on the current run, readable with [`baggage`] anywhere in the run.
/// Returns false when the current span is in no run.
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// assert!(!botanu::set_baggage("plan", "pro"), "not in a run");
/// run_span!(workflow = "support").in_scope(|| {
///     assert!(botanu::set_baggage("plan", "pro"));
///     assert_eq!(botanu::baggage("plan").as_deref(), Some("pro"));
/// });
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
/// assert_eq!(spans.len(), 1);
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn set_baggage(key: &str, value: &str) -> bool {
    let mut done = false;
    with_state(&Span::current(), |state, _| {
        if let Some(run) = &state.run {
            let mut fields = run.fields_mut();
            match fields.baggage.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value.to_owned(),
                None => fields.baggage.push((key.to_owned(), value.to_owned())),
            }
            done = true;
        }
    });
    done
}

/// The value passed to a structured-metadata field: with `--cfg tracing_unstable` and the `valuable`
/// feature it is recorded as a `valuable::Value` and flattened into `botanu.<key>.<sub>` attributes;
/// otherwise it falls back to its `Debug` form. The same code compiles either way.
///
/// ```
/// use botanu::{llm_span, semconv};
/// #[derive(Debug)]
/// # #[cfg_attr(all(tracing_unstable, feature = "valuable"), derive(valuable::Valuable))]
/// struct Meta { team: &'static str, priority: u8 }
/// let span = llm_span!(provider = "openai", model = "gpt-4");
/// span.record(semconv::METADATA, botanu::structured(&Meta { team: "support", priority: 2 }));
/// ```
#[cfg(all(tracing_unstable, feature = "valuable"))]
pub fn structured<T: valuable::Valuable + fmt::Debug>(value: &T) -> valuable::Value<'_> {
    tracing::field::valuable(value)
}

/// The value passed to a structured-metadata field (Debug fallback: build with
/// `--cfg tracing_unstable` and the `valuable` feature to flatten it into attributes).
///
/// ```
/// use botanu::{llm_span, semconv};
/// #[derive(Debug)]
/// struct Meta { team: &'static str, priority: u8 }
/// let span = llm_span!(provider = "openai", model = "gpt-4");
/// span.record(semconv::METADATA, botanu::structured(&Meta { team: "support", priority: 2 }));
/// ```
#[cfg(not(all(tracing_unstable, feature = "valuable")))]
pub fn structured<T: fmt::Debug>(value: &T) -> tracing::field::DebugValue<&T> {
    tracing::field::debug(value)
}

#[cfg(test)]
mod tests {
    use opentelemetry_sdk::trace::InMemorySpanExporter;
    use tracing_subscriber::prelude::*;

    use super::*;
    use crate::layer::with_state;

    /// The run's revision, read from the current span's state.
    fn revision() -> u64 {
        let mut out = 0;
        with_state(&Span::current(), |state, _| out = state.run.as_ref().map_or(0, |run| run.revision()));
        out
    }

    #[test]
    fn emit_outcome_marks_the_run_changed() {
        let exporter = InMemorySpanExporter::default();
        let (layer, _guard) = crate::Builder::new().with_span_exporter(exporter).build().expect("a pipeline");
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            crate::run_span!(workflow = "w").in_scope(|| {
                let before = revision();
                emit_outcome("success", Outcome::default()).expect("a known status");
                // The baggage cache rebuilds only when the revision moved.
                assert!(revision() > before, "emit_outcome changed the run without bumping its revision");
            });
        });
    }
}
