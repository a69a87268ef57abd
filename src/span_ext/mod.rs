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
//!
//! A setter writes on the span it is given (the current span, for the free functions), never on an
//! ancestor. A span botanu would not export — an `info_span!` with no botanu fields — that receives
//! botanu data through a setter is exported from then on, as a plain span carrying the data, a child of
//! its nearest exported ancestor and in that ancestor's run (it starts at the first such call). So two
//! sibling `info_span!`s each keep their own `set_data_metrics` figures instead of overwriting one
//! value on the run. Readers (`current_run_id`, `baggage`) and run-level writes (`set_baggage`, the
//! run's outcome status) still go to the enclosing run.

use std::fmt;

use opentelemetry::trace::Event;
use opentelemetry::{Key, KeyValue, Value};
use tracing::Span;

pub use crate::cost::Tokens;
use crate::layer::values::string_array;
use crate::layer::{with_own_state, with_state};
pub use crate::run::{InvalidOutcomeStatus, OutcomeStatus};
use crate::run::{RemoteContext, RunContext, RunRelation};
use crate::semconv as k;

mod botanu;
mod budget;
mod cost;
mod current;
mod data;
mod future;
mod llm;
mod retry;
#[cfg(any(feature = "async-openai", feature = "genai"))]
mod usage;

pub use botanu::BotanuSpanExt;
pub use budget::BudgetSpanExt;
pub use cost::CostSpanExt;
pub use current::*;
pub use data::{DbSpanExt, StorageSpanExt, ToolSpanExt};
pub use future::{RunFuture, RunFutureExt};
pub use llm::LlmSpanExt;

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
        with_own_state(span, |state, _| state.set(Key::from_static_str(key), value.clone()));
    }
}

/// A string setter: a declared field gets the `&str` itself (no copy on the caller's side).
fn put_str(span: &Span, key: &'static str, value: &str) {
    if let Some(field) = span.field(key) {
        span.record(&field, value);
    } else {
        with_own_state(span, |state, _| state.set(Key::from_static_str(key), crate::layer::values::shared_str(value)));
    }
}

fn put_u64(span: &Span, key: &'static str, value: u64) {
    if let Some(field) = span.field(key) {
        span.record(&field, value);
    } else {
        with_own_state(span, |state, _| state.set_u64(Key::from_static_str(key), value));
    }
}

fn put_positive(span: &Span, key: &'static str, value: u64) {
    if value > 0 {
        put_u64(span, key, value);
    }
}

fn put_side(span: &Span, key: &'static str, value: Value) {
    with_own_state(span, |state, _| state.set(Key::from_static_str(key), value.clone()));
}

fn capture(span: &Span, key: &'static str, text: &str) {
    with_own_state(span, |state, shared| {
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
