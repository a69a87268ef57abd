//! Setters on `tracing::Span`, and free functions on the current span.
//!
//! These are the setters users know from the Botanu docs (`set_tokens`, `set_request_id`,
//! `set_result`, `emit_outcome`, …). Python's keyword arguments become small structs with `Default`.
//!
//! A value whose field the span declares is written with `Span::record`, so every layer (a `fmt` layer,
//! say) sees it. A value the span does not declare — metadata with arbitrary keys, or any setter used on
//! an `#[instrument]` span that lacks the field — goes to the [`BotanuLayer`](crate::BotanuLayer) through
//! its side channel. Captured content always takes the side channel: raw prompts must not reach other
//! layers before the gate and the scrubber have seen them.
//!
//! Every setter is a no-op when no `BotanuLayer` is installed, and never panics.

use std::fmt;

use opentelemetry::trace::Event;
use opentelemetry::{Key, KeyValue, Value};
use tracing::Span;

use crate::layer::state::string_array;
use crate::layer::with_state;
use crate::run::{RemoteContext, RunContext, RunRelation};
use crate::semconv as k;

// === writing: declared field, else the layer's side channel ===

fn put(span: &Span, key: &'static str, value: Value) {
    if let Some(field) = span.field(key) {
        match value {
            Value::I64(v) => span.record(&field, v),
            Value::F64(v) => span.record(&field, v),
            Value::Bool(v) => span.record(&field, v),
            Value::String(ref v) => span.record(&field, v.as_str()),
            _ => span.record(&field, tracing::field::display(&value)),
        };
    } else {
        with_state(span, |state, _| state.set(Key::from_static_str(key), value.clone()));
    }
}

/// A string setter: a declared field gets the `&str` itself (no copy on the caller's side).
fn put_str(span: &Span, key: &'static str, value: &str) {
    if let Some(field) = span.field(key) {
        span.record(&field, value);
    } else {
        with_state(span, |state, _| state.set(Key::from_static_str(key), Value::from(value.to_owned())));
    }
}

fn put_u64(span: &Span, key: &'static str, value: u64) {
    if let Some(field) = span.field(key) {
        span.record(&field, value);
    } else {
        with_state(span, |state, _| state.set_u64(Key::from_static_str(key), value));
    }
}

fn put_positive(span: &Span, key: &'static str, value: u64) {
    if value > 0 {
        put_u64(span, key, value);
    }
}

fn put_side(span: &Span, key: &'static str, value: Value) {
    with_state(span, |state, _| state.set(Key::from_static_str(key), value.clone()));
}

fn capture(span: &Span, key: &'static str, text: &str) {
    with_state(span, |state, shared| {
        let run_id = state.run.as_ref().map(|r| r.run_id.clone());
        if let Some(text) = shared.content.capture(run_id.as_deref(), text) {
            state.set(Key::from_static_str(key), Value::from(text));
        }
    });
}

// === values ===

/// A metadata value: string, integer, float or bool.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataValue {
    /// A string.
    Str(String),
    /// An integer.
    I64(i64),
    /// An unsigned integer; above `i64::MAX` it is exported as `i64::MAX` and named in
    /// `botanu.clamped_attributes`.
    U64(u64),
    /// A float.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

impl From<MetadataValue> for Value {
    fn from(v: MetadataValue) -> Value {
        match v {
            MetadataValue::Str(s) => Value::from(s),
            MetadataValue::I64(i) => Value::I64(i),
            MetadataValue::U64(u) => Value::I64(i64::try_from(u).unwrap_or(i64::MAX)),
            MetadataValue::F64(f) => Value::F64(f),
            MetadataValue::Bool(b) => Value::Bool(b),
        }
    }
}

macro_rules! metadata_from {
    ($($t:ty => $variant:ident via $conv:expr),* $(,)?) => {
        $(impl From<$t> for MetadataValue {
            fn from(v: $t) -> Self { MetadataValue::$variant($conv(v)) }
        })*
    };
}
metadata_from! {
    &str => Str via str::to_owned,
    String => Str via std::convert::identity,
    i64 => I64 via std::convert::identity,
    i32 => I64 via i64::from,
    u32 => I64 via i64::from,
    u64 => U64 via std::convert::identity,
    usize => U64 via |v: usize| v as u64,
    f64 => F64 via std::convert::identity,
    bool => Bool via std::convert::identity,
}

/// Token counts of an LLM call (`set_tokens`), passed as the provider's response reports them.
///
/// Providers count cached input tokens differently, and the field you fill says which way, so the call
/// is priced right (cached tokens at the cache price, never twice):
///
/// | provider convention | `input` | cache fields | priced as |
/// |---|---|---|---|
/// | OpenAI (and most others): `prompt_tokens`, `prompt_tokens_details.cached_tokens` | **includes** the cached tokens | `cached` (a part of `input`) | `input − cached` at the input price, `cached` at the cache-read price |
/// | Anthropic: `input_tokens`, `cache_read_input_tokens`, `cache_creation_input_tokens` | **excludes** cache reads and writes | `cache_read`, `cache_write` (besides `input`) | `input` at the input price, `cache_read` and `cache_write` at their prices |
///
/// So: fill `cached` for an OpenAI-style response and `cache_read` / `cache_write` for an
/// Anthropic-style one; do not mix them on one call (with `cache_read` or `cache_write` set, `input` is
/// read as excluding the cache). `output` includes reasoning tokens for every provider. Spans from other
/// instrumentations are read by the OpenTelemetry semconv fields, where `gen_ai.usage.input_tokens`
/// includes `gen_ai.usage.cache_read.input_tokens` and `gen_ai.usage.cache_creation.input_tokens`, and
/// `gen_ai.usage.reasoning.output_tokens` is a part of `gen_ai.usage.output_tokens`.
///
/// ```
/// use botanu::Tokens;
///
/// // OpenAI: 10,000 prompt tokens of which 4,000 cached.
/// let openai = Tokens { input: 10_000, cached: 4_000, output: 2_000, ..Default::default() };
/// // Anthropic: 2,000 uncached input tokens, besides 10,000 read from and 1,000 written to the cache.
/// let anthropic = Tokens { input: 2_000, cache_read: 10_000, cache_write: 1_000, output: 500, ..Default::default() };
/// # let _ = (openai, anthropic);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Input (prompt) tokens: with `cached` (OpenAI), every input token, cached ones included; with
    /// `cache_read` / `cache_write` (Anthropic), only the uncached ones.
    pub input: u64,
    /// Output (completion) tokens, reasoning tokens included.
    pub output: u64,
    /// OpenAI's `cached_tokens`: input tokens read from the prompt cache, a part of `input`.
    pub cached: u64,
    /// Anthropic's `cache_read_input_tokens`: input tokens read from the prompt cache, besides `input`.
    pub cache_read: u64,
    /// Anthropic's `cache_creation_input_tokens`: input tokens written to the prompt cache, besides
    /// `input`.
    pub cache_write: u64,
    /// Reasoning (thinking) tokens, a part of `output` (written as `gen_ai.usage.reasoning.output_tokens`
    /// if > 0).
    pub reasoning: u64,
}

/// Request parameters of an LLM call (`set_request_params`); only those given are written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestParams {
    /// Temperature.
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// Max tokens.
    pub max_tokens: Option<u64>,
    /// Stop sequences.
    pub stop_sequences: Option<Vec<String>>,
    /// Frequency penalty.
    pub frequency_penalty: Option<f64>,
    /// Presence penalty.
    pub presence_penalty: Option<f64>,
}

/// Result of a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolResult {
    /// Whether the call succeeded (default true).
    pub success: bool,
    /// Items returned.
    pub items_returned: u64,
    /// Bytes processed (written only if > 0).
    pub bytes_processed: u64,
}

impl Default for ToolResult {
    fn default() -> Self {
        ToolResult { success: true, items_returned: 0, bytes_processed: 0 }
    }
}

/// Result of a database operation; zero counts are not written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DbResult {
    /// Rows returned.
    pub rows_returned: u64,
    /// Rows affected.
    pub rows_affected: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Bytes written.
    pub bytes_written: u64,
}

/// Result of an object storage operation; zero counts are not written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageResult {
    /// Objects touched.
    pub objects_count: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Bytes written.
    pub bytes_written: u64,
}

/// Result of a messaging operation; zero counts are not written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessagingResult {
    /// Messages handled.
    pub message_count: u64,
    /// Bytes transferred.
    pub bytes_transferred: u64,
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::ToolResult {}
    impl Sealed for super::DbResult {}
    impl Sealed for super::StorageResult {}
    impl Sealed for super::MessagingResult {}
}

/// A result `set_result` accepts: [`ToolResult`], [`DbResult`], [`StorageResult`], [`MessagingResult`].
pub trait SpanResult: sealed::Sealed {
    #[doc(hidden)]
    fn write(&self, span: &Span);
}

impl SpanResult for ToolResult {
    fn write(&self, span: &Span) {
        put(span, k::TOOL_SUCCESS, Value::Bool(self.success));
        put_u64(span, k::TOOL_ITEMS_RETURNED, self.items_returned);
        put_positive(span, k::TOOL_BYTES_PROCESSED, self.bytes_processed);
    }
}

impl SpanResult for DbResult {
    fn write(&self, span: &Span) {
        put_positive(span, k::DATA_ROWS_RETURNED, self.rows_returned);
        put_positive(span, k::DATA_ROWS_AFFECTED, self.rows_affected);
        put_positive(span, k::DATA_BYTES_READ, self.bytes_read);
        put_positive(span, k::DATA_BYTES_WRITTEN, self.bytes_written);
        put_positive(span, k::BYTES_TRANSFERRED, self.bytes_read.saturating_add(self.bytes_written));
    }
}

impl SpanResult for StorageResult {
    fn write(&self, span: &Span) {
        put_positive(span, k::DATA_OBJECTS_COUNT, self.objects_count);
        put_positive(span, k::DATA_BYTES_READ, self.bytes_read);
        put_positive(span, k::DATA_BYTES_WRITTEN, self.bytes_written);
        put_positive(span, k::BYTES_TRANSFERRED, self.bytes_read.saturating_add(self.bytes_written));
    }
}

impl SpanResult for MessagingResult {
    fn write(&self, span: &Span) {
        put_u64(span, k::MESSAGING_MESSAGE_COUNT, self.message_count);
        put_positive(span, k::MESSAGING_BYTES_TRANSFERRED, self.bytes_transferred);
        put_positive(span, k::BYTES_TRANSFERRED, self.bytes_transferred);
    }
}

/// `std::any::type_name` without the module path and generics: the closest Rust has to a class name.
fn short_type_name<E: ?Sized>() -> String {
    let full = std::any::type_name::<E>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).trim_start_matches("dyn ").to_owned()
}

// === traits ===

/// Setters every botanu span has.
pub trait BotanuSpanExt {
    /// Records the result of a tool, database, storage or messaging operation.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = tool_span!(name = "search");
    /// span.set_result(ToolResult { items_returned: 3, ..Default::default() });
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::TOOL_ITEMS_RETURNED).as_deref(), Some("3"));
    /// assert_eq!(attr(k::TOOL_SUCCESS).as_deref(), Some("true"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_result<R: SpanResult>(&self, result: R) -> &Self;
    /// Marks the operation failed: `error.type` (the error's type name), status ERROR, one `exception`
    /// event with the error's message.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = db_span!(system = "postgresql", operation = "SELECT");
    /// let error = std::io::Error::new(std::io::ErrorKind::TimedOut, "statement timeout");
    /// span.set_error(&error);
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::ERROR_TYPE).as_deref(), Some("Error"));
    /// // The type name, as the reference writes it; the message is in the `exception` event.
    /// assert_eq!(attr(k::DATA_ERROR).as_deref(), Some("Error"));
    /// assert_eq!(spans[0].events[0].attributes[1].value.to_string(), "statement timeout");
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_error<E: std::error::Error + ?Sized>(&self, error: &E) -> &Self;
    /// Marks the operation failed with an explicit error type (`"RateLimitError"`) and message.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_error_type("RateLimitError", "429 Too Many Requests");
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::ERROR_TYPE).as_deref(), Some("RateLimitError"));
    /// assert_eq!(spans[0].status, opentelemetry::trace::Status::error("429 Too Many Requests"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_error_type(&self, error_type: &str, message: &str) -> &Self;
    /// Makes this span a child of a remote parent read by [`propagation::extract`](crate::propagation::extract):
    /// it joins the remote trace, and with [`RunRelation::Continue`](crate::propagation::RunRelation)
    /// continues the producer's run (same run id) or, on a run span with `RunRelation::Child`, becomes a
    /// child run of it (`botanu.parent_run_id`). Call it right after creating the span, before opening
    /// spans inside it. On a span botanu does not export (a plain `info_span!`), the botanu spans opened
    /// inside it inherit the remote parent.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// # let mut headers = std::collections::HashMap::new();
    /// # run_span!(workflow = "ingest").in_scope(|| botanu::propagation::inject(&mut headers));
    /// // `headers` came with a message from the producer.
    /// let remote = botanu::propagation::extract(&headers);
    /// let span = step_span!("consume");
    /// span.set_remote_parent(&remote, botanu::propagation::RunRelation::Continue);
    /// # drop(span);
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::WORKFLOW).as_deref(), Some("ingest"));
    /// assert_eq!(spans[1].span_context.trace_id(), spans[0].span_context.trace_id());
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_remote_parent(&self, remote: &RemoteContext, relation: RunRelation) -> &Self;
    /// Adds free-form metadata: `botanu.<key>` (`botanu.tool.<key>`, `botanu.data.<key>`, … by span
    /// kind). Values of secret-looking keys (`api_key`, `password`, `authorization`, …) are redacted.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = tool_span!(name = "search");
    /// span.add_metadata("index", "tickets").add_metadata("api_key", "sk-not-a-real-key");
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr("botanu.tool.index").as_deref(), Some("tickets"));
    /// assert_eq!(attr("botanu.tool.api_key").as_deref(), Some("[REDACTED]"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn add_metadata(&self, key: &str, value: impl Into<MetadataValue>) -> &Self;
}

impl BotanuSpanExt for Span {
    fn set_result<R: SpanResult>(&self, result: R) -> &Self {
        result.write(self);
        self
    }

    fn set_error<E: std::error::Error + ?Sized>(&self, error: &E) -> &Self {
        // Bounded and panic-safe: an error's `Display` is user code.
        self.set_error_type(&short_type_name::<E>(), &crate::layer::state::display_string(error))
    }

    fn set_error_type(&self, error_type: &str, message: &str) -> &Self {
        with_state(self, |state, _| state.fail(error_type, message));
        self
    }

    fn set_remote_parent(&self, remote: &RemoteContext, relation: RunRelation) -> &Self {
        crate::layer::set_remote_parent(self, remote, relation);
        self
    }

    fn add_metadata(&self, key: &str, value: impl Into<MetadataValue>) -> &Self {
        let value = value.into();
        // Cut before the key is copied and split into words.
        let key = crate::layer::state::cut_str(key, crate::layer::state::MAX_VALUE_BYTES);
        with_state(self, |state, shared| {
            let full = Key::new(format!("{}{}", state.metadata_prefix(), key));
            match &value {
                _ if shared.secret_keys.is_secret(key) => {
                    state.set(full, Value::from(shared.content.scrubber().replacement().to_owned()))
                }
                MetadataValue::U64(u) => state.set_u64(full, *u),
                other => state.set(full, Value::from(other.clone())),
            }
        });
        self
    }
}

/// Setters of LLM call spans.
pub trait LlmSpanExt {
    /// Token usage: input and output always (both), cache and reasoning counts when > 0 — under the
    /// `botanu.usage.*` keys and the OTel semconv ones (`gen_ai.usage.cache_read.input_tokens` = cached,
    /// `gen_ai.usage.cache_creation.input_tokens` = cache write, `gen_ai.usage.reasoning.output_tokens`),
    /// so OTel-native backends see them too.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_tokens(Tokens { input: 120, output: 30, cache_read: 100, ..Default::default() });
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::GEN_AI_USAGE_INPUT_TOKENS).as_deref(), Some("120"));
    /// assert_eq!(attr(k::USAGE_CACHE_READ_TOKENS).as_deref(), Some("100"));
    /// assert_eq!(attr(k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS).as_deref(), Some("100"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_tokens(&self, tokens: Tokens) -> &Self;
    /// The provider's response/request id (`gen_ai.response.id`, `botanu.vendor.request_id`) and the
    /// client-side request id, if any.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_request_id("chatcmpl-123", Some("req-7"));
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::GEN_AI_RESPONSE_ID).as_deref(), Some("chatcmpl-123"));
    /// assert_eq!(attr(k::VENDOR_CLIENT_REQUEST_ID).as_deref(), Some("req-7"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_request_id(&self, provider_request_id: &str, client_request_id: Option<&str>) -> &Self;
    /// The model that answered.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_response_model("gpt-4o-2024-08-06");
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::GEN_AI_RESPONSE_MODEL).as_deref(), Some("gpt-4o-2024-08-06"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_response_model(&self, model: &str) -> &Self;
    /// The finish reason (`gen_ai.response.finish_reasons`, a one-element array).
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_finish_reason("stop");
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert!(attr(k::GEN_AI_RESPONSE_FINISH_REASONS).is_some_and(|v| v.contains("stop")));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_finish_reason(&self, reason: &str) -> &Self;
    /// Whether the response was streamed.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_streaming(true);
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::REQUEST_STREAMING).as_deref(), Some("true"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_streaming(&self, streaming: bool) -> &Self;
    /// Whether the response came from a cache.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_cache_hit(false);
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::REQUEST_CACHE_HIT).as_deref(), Some("false"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_cache_hit(&self, cache_hit: bool) -> &Self;
    /// The attempt number of this call (1 for the first try).
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_attempt(2);
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::REQUEST_ATTEMPT).as_deref(), Some("2"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_attempt(&self, attempt: u32) -> &Self;
    /// Request parameters; only those given are written.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_request_params(RequestParams { temperature: Some(0.2), max_tokens: Some(512), ..Default::default() });
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::GEN_AI_REQUEST_TEMPERATURE).as_deref(), Some("0.2"));
    /// assert_eq!(attr(k::GEN_AI_REQUEST_MAX_TOKENS).as_deref(), Some("512"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_request_params(&self, params: RequestParams) -> &Self;
    /// The prompt, exported only if the content gate passes, scrubbed and cut.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).with_content_capture_rate(1.0).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// // Content is captured for the share of runs `with_content_capture_rate` sets (here: all).
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_input_content("Summarize ticket 42");
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::EVAL_INPUT_CONTENT).as_deref(), Some("Summarize ticket 42"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_input_content(&self, content: &str) -> &Self;
    /// The completion, exported only if the content gate passes, scrubbed and cut.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = llm_span!(provider = "openai", model = "gpt-4o");
    /// span.set_output_content("The customer asks for a refund.");
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// // Capture is off by default: nothing is exported.
    /// assert_eq!(attr(k::EVAL_OUTPUT_CONTENT), None);
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_output_content(&self, content: &str) -> &Self;
}

impl LlmSpanExt for Span {
    fn set_tokens(&self, tokens: Tokens) -> &Self {
        // Both counts in one `record`: one trip through the subscriber instead of two.
        match (self.field(k::GEN_AI_USAGE_INPUT_TOKENS), self.field(k::GEN_AI_USAGE_OUTPUT_TOKENS)) {
            (Some(_), Some(_)) => {
                tracing::record_all!(
                    self,
                    { k::GEN_AI_USAGE_INPUT_TOKENS } = tokens.input,
                    { k::GEN_AI_USAGE_OUTPUT_TOKENS } = tokens.output
                );
            }
            _ => {
                put_u64(self, k::GEN_AI_USAGE_INPUT_TOKENS, tokens.input);
                put_u64(self, k::GEN_AI_USAGE_OUTPUT_TOKENS, tokens.output);
            }
        }
        let cached = if tokens.cached > 0 { tokens.cached } else { tokens.cache_read };
        put_positive(self, k::USAGE_CACHED_TOKENS, cached);
        put_positive(self, k::USAGE_CACHE_READ_TOKENS, tokens.cache_read);
        put_positive(self, k::USAGE_CACHE_WRITE_TOKENS, tokens.cache_write);
        put_positive(self, k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cached);
        put_positive(self, k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, tokens.cache_write);
        put_positive(self, k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, tokens.reasoning);
        self
    }

    fn set_request_id(&self, provider_request_id: &str, client_request_id: Option<&str>) -> &Self {
        put(self, k::GEN_AI_RESPONSE_ID, Value::from(provider_request_id.to_owned()));
        put(self, k::VENDOR_REQUEST_ID, Value::from(provider_request_id.to_owned()));
        if let Some(client) = client_request_id {
            put(self, k::VENDOR_CLIENT_REQUEST_ID, Value::from(client.to_owned()));
        }
        self
    }

    fn set_response_model(&self, model: &str) -> &Self {
        put_str(self, k::GEN_AI_RESPONSE_MODEL, model);
        self
    }

    fn set_finish_reason(&self, reason: &str) -> &Self {
        put_side(self, k::GEN_AI_RESPONSE_FINISH_REASONS, string_array([reason]));
        self
    }

    fn set_streaming(&self, streaming: bool) -> &Self {
        put(self, k::REQUEST_STREAMING, Value::Bool(streaming));
        self
    }

    fn set_cache_hit(&self, cache_hit: bool) -> &Self {
        put(self, k::REQUEST_CACHE_HIT, Value::Bool(cache_hit));
        self
    }

    fn set_attempt(&self, attempt: u32) -> &Self {
        put(self, k::REQUEST_ATTEMPT, Value::I64(i64::from(attempt)));
        self
    }

    fn set_request_params(&self, p: RequestParams) -> &Self {
        for (key, v) in [
            (k::GEN_AI_REQUEST_TEMPERATURE, p.temperature),
            (k::GEN_AI_REQUEST_TOP_P, p.top_p),
            (k::GEN_AI_REQUEST_FREQUENCY_PENALTY, p.frequency_penalty),
            (k::GEN_AI_REQUEST_PRESENCE_PENALTY, p.presence_penalty),
        ] {
            if let Some(v) = v {
                put(self, key, Value::F64(v));
            }
        }
        if let Some(max) = p.max_tokens {
            put_u64(self, k::GEN_AI_REQUEST_MAX_TOKENS, max);
        }
        if let Some(stops) = p.stop_sequences {
            put_side(self, k::GEN_AI_REQUEST_STOP_SEQUENCES, string_array(stops));
        }
        self
    }

    fn set_input_content(&self, content: &str) -> &Self {
        capture(self, k::EVAL_INPUT_CONTENT, content);
        self
    }

    fn set_output_content(&self, content: &str) -> &Self {
        capture(self, k::EVAL_OUTPUT_CONTENT, content);
        self
    }
}

/// Setters of tool call spans (plus `set_result` / `set_error` of [`BotanuSpanExt`]).
pub trait ToolSpanExt {
    /// The tool call id.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = tool_span!(name = "search");
    /// span.set_tool_call_id("call_abc");
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::GEN_AI_TOOL_CALL_ID).as_deref(), Some("call_abc"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_tool_call_id(&self, id: &str) -> &Self;
}

impl ToolSpanExt for Span {
    fn set_tool_call_id(&self, id: &str) -> &Self {
        put(self, k::GEN_AI_TOOL_CALL_ID, Value::from(id.to_owned()));
        self
    }
}

/// Setters of database spans (plus `set_result` / `set_error` of [`BotanuSpanExt`]).
pub trait DbSpanExt {
    /// Table/collection and optional schema.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = db_span!(system = "postgresql", operation = "SELECT");
    /// span.set_table("tickets", Some("public"));
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::DB_COLLECTION_NAME).as_deref(), Some("tickets"));
    /// assert_eq!(attr(k::DB_SCHEMA).as_deref(), Some("public"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_table(&self, table: &str, schema: Option<&str>) -> &Self;
    /// The warehouse's query id.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = db_span!(system = "bigquery", operation = "SELECT");
    /// span.set_query_id("job_123");
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::WAREHOUSE_QUERY_ID).as_deref(), Some("job_123"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_query_id(&self, query_id: &str) -> &Self;
    /// Bytes scanned by a warehouse query (the cost driver of BigQuery, Athena, Snowflake, …).
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = db_span!(system = "bigquery", operation = "SELECT");
    /// span.set_bytes_scanned(10_485_760);
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::WAREHOUSE_BYTES_SCANNED).as_deref(), Some("10485760"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_bytes_scanned(&self, bytes: u64) -> &Self;
    /// Partitions scanned by a warehouse query.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = db_span!(system = "snowflake", operation = "SELECT");
    /// span.set_partitions_scanned(12);
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::WAREHOUSE_PARTITIONS_SCANNED).as_deref(), Some("12"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_partitions_scanned(&self, partitions: u64) -> &Self;
    /// Retrieved content (RAG context), exported only if the content gate passes, scrubbed and cut.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).with_content_capture_rate(1.0).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = db_span!(system = "pgvector", operation = "SELECT");
    /// span.set_retrieval_content("Refunds are processed within 5 days.");
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::EVAL_RETRIEVAL_CONTENT).as_deref(), Some("Refunds are processed within 5 days."));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_retrieval_content(&self, content: &str) -> &Self;
}

impl DbSpanExt for Span {
    fn set_table(&self, table: &str, schema: Option<&str>) -> &Self {
        put(self, k::DB_COLLECTION_NAME, Value::from(table.to_owned()));
        if let Some(schema) = schema {
            put(self, k::DB_SCHEMA, Value::from(schema.to_owned()));
        }
        self
    }

    fn set_query_id(&self, query_id: &str) -> &Self {
        put(self, k::WAREHOUSE_QUERY_ID, Value::from(query_id.to_owned()));
        self
    }

    fn set_bytes_scanned(&self, bytes: u64) -> &Self {
        put_u64(self, k::WAREHOUSE_BYTES_SCANNED, bytes);
        self
    }

    fn set_partitions_scanned(&self, partitions: u64) -> &Self {
        put_u64(self, k::WAREHOUSE_PARTITIONS_SCANNED, partitions);
        self
    }

    fn set_retrieval_content(&self, content: &str) -> &Self {
        capture(self, k::EVAL_RETRIEVAL_CONTENT, content);
        self
    }
}

/// Setters of object storage spans (plus `set_result` / `set_error` of [`BotanuSpanExt`]).
pub trait StorageSpanExt {
    /// The bucket.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let span = storage_span!(system = "s3", operation = "PUT");
    /// span.set_bucket("invoices");
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::STORAGE_BUCKET).as_deref(), Some("invoices"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_bucket(&self, bucket: &str) -> &Self;
}

impl StorageSpanExt for Span {
    fn set_bucket(&self, bucket: &str) -> &Self {
        put(self, k::STORAGE_BUCKET, Value::from(bucket.to_owned()));
        self
    }
}

// === free functions on the current span ===

/// Outcome status of a run (`emit_outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeStatus {
    /// The business event succeeded.
    Success,
    /// Partly succeeded.
    Partial,
    /// Failed.
    Failed,
    /// Timed out.
    Timeout,
    /// Canceled.
    Canceled,
    /// Abandoned.
    Abandoned,
}

impl OutcomeStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Success => "success",
            OutcomeStatus::Partial => "partial",
            OutcomeStatus::Failed => "failed",
            OutcomeStatus::Timeout => "timeout",
            OutcomeStatus::Canceled => "canceled",
            OutcomeStatus::Abandoned => "abandoned",
        }
    }
}

/// An outcome status that is not one of the six the contract knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidOutcomeStatus(pub String);

impl fmt::Display for InvalidOutcomeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid outcome status {:?}: expected one of success, partial, failed, timeout, canceled, abandoned",
            self.0
        )
    }
}

impl std::error::Error for InvalidOutcomeStatus {}

impl std::str::FromStr for OutcomeStatus {
    type Err = InvalidOutcomeStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let all = [
            OutcomeStatus::Success,
            OutcomeStatus::Partial,
            OutcomeStatus::Failed,
            OutcomeStatus::Timeout,
            OutcomeStatus::Canceled,
            OutcomeStatus::Abandoned,
        ];
        all.into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| InvalidOutcomeStatus(s.to_owned()))
    }
}

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
    with_state(&Span::current(), |state, shared| {
        for kv in &attrs {
            state.set(kv.key.clone(), kv.value.clone());
        }
        let event_attrs = event_attrs.clone();
        state.push_event(
            Event::new(k::EVENT_OUTCOME_EMITTED, std::time::SystemTime::now(), event_attrs, 0),
            shared.max_events,
        );
        if let Some(run) = &state.run {
            run.fields().outcome_status = Some(status.as_str());
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
    with_state(&Span::current(), |state, _| {
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
    with_state(&Span::current(), |state, _| state.set(Key::new(key.clone()), Value::from(value.to_owned())));
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
        with_state(&span, |state, _| crate::layer::state::apply_system(state, crate::layer::Kind::Llm, &call.provider));
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
///     botanu::set_token_usage(Tokens { input: 500, output: 40, cached: 300, ..Default::default() });
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
/// `set_data_metrics`).
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
