//! [`BotanuSpanExt`]: the setters every botanu span has.

use super::*;

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
    /// Makes this run span a retry of `previous` (a span in the earlier run, its
    /// [`RunAttempt`](crate::RunAttempt), an inbound run: see [`PreviousRun`](crate::PreviousRun)): the
    /// run keeps its own id and gets the previous run's `botanu.root_run_id`, its event id (unless this
    /// run gave one), its workflow (unless this run named one), `botanu.retry_of_run_id` = the previous
    /// run, and `botanu.attempt` = the previous attempt + 1. `run_span!(…, retry_of = previous)` does the
    /// same in one step. Call it right after creating the span, before opening spans inside it; on a
    /// span that is not a run span it does nothing.
    ///
    /// ```
    /// # use botanu::prelude::*;
    /// # use botanu::semconv as k;
    /// # use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// # use tracing_subscriber::prelude::*;
    /// # let exporter = InMemorySpanExporter::default();
    /// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    /// let first = run_span!(workflow = "support", event_id = "T-42");
    /// let retry = run_span!(workflow = "support");
    /// retry.retry_of(&first);
    /// # drop(retry); drop(first);
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |i: usize, key: &str| spans[i].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// // spans[0] is the retry, spans[1] the first attempt.
    /// assert_eq!(attr(0, k::RETRY_OF_RUN_ID), attr(1, k::RUN_ID));
    /// assert_eq!(attr(0, k::ROOT_RUN_ID), attr(1, k::RUN_ID));
    /// assert_eq!(attr(0, k::ATTEMPT).as_deref(), Some("2"));
    /// assert_eq!(attr(0, k::EVENT_ID).as_deref(), Some("T-42"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn retry_of<P: crate::PreviousRun + ?Sized>(&self, previous: &P) -> &Self;
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
        self.set_error_type(crate::text::short_type_name::<E>(), &crate::text::display_string(error))
    }

    fn set_error_type(&self, error_type: &str, message: &str) -> &Self {
        with_own_state(self, |state, _| state.fail(error_type, message));
        self
    }

    fn set_remote_parent(&self, remote: &RemoteContext, relation: RunRelation) -> &Self {
        crate::layer::set_remote_parent(self, remote, relation);
        self
    }

    fn retry_of<P: crate::PreviousRun + ?Sized>(&self, previous: &P) -> &Self {
        if let Some(previous) = previous.previous_run() {
            crate::layer::run_span::retry_of(self, &previous);
        }
        self
    }

    fn add_metadata(&self, key: &str, value: impl Into<MetadataValue>) -> &Self {
        let value = value.into();
        // Cut before the key is copied and split into words.
        let key = crate::text::cut_str(key, crate::text::MAX_VALUE_BYTES);
        with_own_state(self, |state, shared| {
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
