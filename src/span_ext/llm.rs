//! [`LlmSpanExt`]: the setters of an LLM call.

use super::*;

/// Setters of LLM call spans.
pub trait LlmSpanExt {
    /// Token usage: input and output always (both), cache and reasoning counts when > 0 — under the
    /// `botanu.usage.*` keys and the OTel semconv ones (`gen_ai.usage.cache_read.input_tokens` = cached,
    /// `gen_ai.usage.cache_creation.input_tokens` = cache write, `gen_ai.usage.reasoning.output_tokens`),
    /// so OTel-native backends see them too; and the kinds priced at their own rates when > 0: 1-hour
    /// cache writes (`botanu.usage.cache_write_1h_tokens`), audio and image tokens
    /// (`gen_ai.usage.{audio,image}.{input,output}_tokens`).
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
    /// span.set_tokens(Tokens { input: 120, output: 30, cache_read: 100, input_counting: InputCounting::ExcludesCache, ..Default::default() });
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
    /// Time to the first chunk of a streamed response, as measured by the caller from when it sent the
    /// request: `gen_ai.response.time_to_first_chunk` (seconds, the attribute genai writes too), and a
    /// measurement of the `gen_ai.client.operation.time_to_first_chunk` histogram when the span closes.
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
    /// span.set_streaming(true).set_time_to_first_chunk(std::time::Duration::from_millis(350));
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
    /// assert_eq!(attr(k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK).as_deref(), Some("0.35"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn set_time_to_first_chunk(&self, elapsed: std::time::Duration) -> &Self;
    /// Records the time to the first chunk as the time since this LLM span opened (so open it when the
    /// request is sent), like [`set_time_to_first_chunk`](Self::set_time_to_first_chunk). Only the first
    /// call counts: call it on every chunk of the stream.
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
    /// for _chunk in ["Hel", "lo"] {
    ///     span.record_first_chunk();
    /// }
    /// # });
    /// # guard.force_flush()?;
    /// # let spans = exporter.get_finished_spans().unwrap();
    /// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.clone());
    /// assert!(matches!(attr(k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK), Some(opentelemetry::Value::F64(s)) if s >= 0.0));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn record_first_chunk(&self) -> &Self;
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
        // Which keys carry the cache counts says how `input` was counted: `botanu.usage.cache_read_tokens`
        // / `cache_write_tokens` for an input that excludes them (what the layer reads back to price it).
        put_positive(self, k::USAGE_CACHED_TOKENS, tokens.cache_read);
        if tokens.input_counting == crate::cost::InputCounting::ExcludesCache {
            put_positive(self, k::USAGE_CACHE_READ_TOKENS, tokens.cache_read);
            put_positive(self, k::USAGE_CACHE_WRITE_TOKENS, tokens.cache_writes());
        }
        put_positive(self, k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, tokens.cache_read);
        put_positive(self, k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, tokens.cache_writes());
        put_positive(self, k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, tokens.reasoning);
        // The kinds with their own rates (contract §7, round 3), parts of the totals above.
        put_positive(self, k::USAGE_CACHE_WRITE_1H_TOKENS, tokens.cache_write_1h);
        put_positive(self, k::GEN_AI_USAGE_AUDIO_INPUT_TOKENS, tokens.audio_input);
        put_positive(self, k::GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS, tokens.audio_output);
        put_positive(self, k::GEN_AI_USAGE_IMAGE_INPUT_TOKENS, tokens.image_input);
        put_positive(self, k::GEN_AI_USAGE_IMAGE_OUTPUT_TOKENS, tokens.image_output);
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

    fn set_time_to_first_chunk(&self, elapsed: std::time::Duration) -> &Self {
        put(self, k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, Value::F64(elapsed.as_secs_f64()));
        self
    }

    fn record_first_chunk(&self) -> &Self {
        let mut elapsed = None;
        with_state(self, |state, _| {
            // The LLM span's own start (not an enclosing run's), and only for the first chunk.
            if state.kind == crate::layer::Kind::Llm && state.get(k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK).is_none() {
                elapsed = Some(std::time::SystemTime::now().duration_since(state.start).unwrap_or_default());
            }
        });
        match elapsed {
            Some(elapsed) => self.set_time_to_first_chunk(elapsed),
            None => self,
        }
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
