//! [`ToolSpanExt`], [`DbSpanExt`], [`StorageSpanExt`]: the setters of tool calls and data operations.

use super::*;

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
