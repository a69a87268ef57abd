//! Every GenAI span dialect a Rust stack writes, read from what botanu exports (issue 24): recognized,
//! stamped, provider normalized, tokens by kind, `botanu.cost.usd` equal to the figure computed by hand
//! from the bundled genai-prices row, and no prompt or response text while capture is off.
//!
//! - adk-rust: the real `adk-telemetry` 2.3.0 from the registry (its span helpers, usage recorder and
//!   content-event emitter), driven as adk-model drives it: the application asks the loopback mock
//!   provider, reads the usage as adk's adapter for that provider does, and records it.
//! - tirea 0.5.0, goose, swiftide: fixtures copied from their source (file and commit at each fixture);
//!   why not the real crates is in the README ("GenAI dialects").
//!
//! Catalog rows (genai-prices 0.2.1, per million tokens): openai `gpt-4o-mini` input 0.15, cache read
//! 0.075, output 0.60; aws `regional.anthropic.claude-3-5-haiku-20241022-v1:0` input 0.8, cache write
//! 1.0, cache read 0.08, output 4.0; google `gemini-2.5-flash` input 0.30, cache read 0.03, output 2.50.

mod common;

use std::future::Future;

use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use axum::routing::post;
use botanu::prelude::*;
use botanu::semconv as k;
use common::*;
use opentelemetry_sdk::trace::SpanData;
use tracing::Instrument;

// === the mock provider ===

/// OpenAI chat usage: 120 prompt tokens of which 100 cached, 30 completion tokens of which 10 reasoning.
const OPENAI_ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hi alice@example.com"},"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":100},"completion_tokens_details":{"reasoning_tokens":10}}}"#;
/// Bedrock Converse usage: 20 uncached input tokens besides 100 read from and 10 written to the cache.
const BEDROCK_ANSWER: &str = r#"{"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":20,"outputTokens":30,"totalTokens":160,"cacheReadInputTokens":100,"cacheWriteInputTokens":10}}"#;
/// Gemini usage: 50 prompt tokens, 30 candidate tokens besides 10 thinking tokens.
const GEMINI_ANSWER: &str = r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":30,"thoughtsTokenCount":10,"totalTokenCount":90}}"#;

fn json(body: &'static str) -> Response {
    Response::builder().header(header::CONTENT_TYPE, "application/json").body(Body::from(body)).unwrap_or_default()
}

/// Serves the mock on 127.0.0.1:0 and returns its base URL.
async fn serve_mock() -> String {
    let app = axum::Router::new()
        .route("/openai/chat/completions", post(|| async { json(OPENAI_ANSWER) }))
        .route("/bedrock/converse", post(|| async { json(BEDROCK_ANSWER) }))
        .route("/gemini/generateContent", post(|| async { json(GEMINI_ANSWER) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// POSTs `body` to the mock and returns the parsed answer, as a provider adapter does.
async fn ask(url: String, body: &str) -> serde_json::Value {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<axum::body::Bytes>>();
    let request = axum::http::Request::post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(http_body_util::Full::new(axum::body::Bytes::from(body.to_owned())))
        .expect("request");
    let response = client.request(request).await.expect("mock answers");
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&bytes).expect("json answer")
}

fn n(value: &serde_json::Value, path: &[&str]) -> Option<i32> {
    let mut v = value;
    for p in path {
        v = v.get(p)?;
    }
    v.as_i64().and_then(|n| i32::try_from(n).ok())
}

/// Runs `work` under the harness's subscriber on a current-thread runtime.
fn run_async<F: Future<Output = ()>>(h: &Harness, work: impl FnOnce(String) -> F) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let _default = tracing::dispatcher::set_default(&h.dispatch);
    rt.block_on(async {
        let base = serve_mock().await;
        work(base).await;
    });
}

fn assert_usd(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-9, "cost {got} != hand figure {want}");
}

/// No exported span carries `needle` in any attribute or event.
fn assert_nowhere(spans: &[SpanData], needle: &str) {
    for span in spans {
        for kv in &span.attributes {
            assert!(!kv.value.as_str().contains(needle), "{}: {} = {}", span.name, kv.key, kv.value.as_str());
        }
        for event in span.events.iter() {
            assert!(!event.name.contains(needle), "{}: event {}", span.name, event.name);
            for kv in &event.attributes {
                assert!(!kv.value.as_str().contains(needle), "{}: event {} {}", span.name, event.name, kv.key);
            }
        }
    }
}

// === adk-rust (adk-telemetry 2.3.0, real) ===

/// adk-model's OpenAI adapter: `prompt_tokens` (cached included) → input, `cached_tokens` → cache read,
/// `reasoning_tokens` → thinking (adk-model `openai/convert.rs`, `usage_tracking.rs::record_usage`).
fn adk_usage_openai(answer: &serde_json::Value) -> adk_telemetry::LlmUsage {
    adk_telemetry::LlmUsage {
        input_tokens: n(answer, &["usage", "prompt_tokens"]).unwrap_or(0),
        output_tokens: n(answer, &["usage", "completion_tokens"]).unwrap_or(0),
        total_tokens: n(answer, &["usage", "total_tokens"]).unwrap_or(0),
        cache_read_tokens: n(answer, &["usage", "prompt_tokens_details", "cached_tokens"]),
        thinking_tokens: n(answer, &["usage", "completion_tokens_details", "reasoning_tokens"]),
        ..Default::default()
    }
}

/// adk-model's Bedrock adapter (`bedrock/convert.rs::bedrock_response_to_adk`): Converse's numbers as they are.
fn adk_usage_bedrock(answer: &serde_json::Value) -> adk_telemetry::LlmUsage {
    adk_telemetry::LlmUsage {
        input_tokens: n(answer, &["usage", "inputTokens"]).unwrap_or(0),
        output_tokens: n(answer, &["usage", "outputTokens"]).unwrap_or(0),
        total_tokens: n(answer, &["usage", "totalTokens"]).unwrap_or(0),
        cache_read_tokens: n(answer, &["usage", "cacheReadInputTokens"]),
        cache_creation_tokens: n(answer, &["usage", "cacheWriteInputTokens"]),
        ..Default::default()
    }
}

/// adk-model's Gemini adapter: `candidatesTokenCount` (thinking excluded) → output, `thoughtsTokenCount` → thinking.
fn adk_usage_gemini(answer: &serde_json::Value) -> adk_telemetry::LlmUsage {
    adk_telemetry::LlmUsage {
        input_tokens: n(answer, &["usageMetadata", "promptTokenCount"]).unwrap_or(0),
        output_tokens: n(answer, &["usageMetadata", "candidatesTokenCount"]).unwrap_or(0),
        total_tokens: n(answer, &["usageMetadata", "totalTokenCount"]).unwrap_or(0),
        thinking_tokens: n(answer, &["usageMetadata", "thoughtsTokenCount"]),
        ..Default::default()
    }
}

/// One adk model call: `gen_ai.generate` span, the request, the usage recorded inside the span, and —
/// adk's own capture switch on — its prompt and completion content events.
async fn adk_call(system: &str, model: &str, url: String, read: fn(&serde_json::Value) -> adk_telemetry::LlmUsage) {
    let span = adk_telemetry::llm_generate_span(system, model, false);
    async {
        let capture = adk_telemetry::config::SemconvConfig { capture_content: true };
        adk_telemetry::events::ContentEventEmitter::emit_prompt(&capture, "my email is alice@example.com");
        let answer = ask(url, r#"{"messages":[{"role":"user","content":"hello"}]}"#).await;
        adk_telemetry::record_llm_usage(&read(&answer));
        adk_telemetry::events::ContentEventEmitter::emit_completion(&capture, "Hi alice@example.com");
    }
    .instrument(span)
    .await;
}

#[test]
fn adk_rust_calls_are_read_by_provider_and_priced_exactly() {
    let h = Harness::new();
    run_async(&h, |base| async move {
        let run = run_span!(workflow = "adk", customer_id = "acme");
        async {
            adk_call("openai", "gpt-4o-mini", format!("{base}/openai/chat/completions"), adk_usage_openai).await;
            adk_call(
                "bedrock",
                "anthropic.claude-3-5-haiku-20241022-v1:0",
                format!("{base}/bedrock/converse"),
                adk_usage_bedrock,
            )
            .await;
            adk_call("gemini", "gemini-2.5-flash", format!("{base}/gemini/generateContent"), adk_usage_gemini).await;
            let tool = adk_telemetry::semconv::tool_call_semconv_span("search", Some("call_7"));
            tool.in_scope(|| {});
        }
        .instrument(run)
        .await;
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/adk");
    let calls: Vec<&SpanData> = spans.iter().filter(|s| s.name == "gen_ai.generate").collect();
    assert_eq!(calls.len(), 3);
    // (provider, input, output, cache read, cache write, reasoning, hand figure in USD)
    let want = [
        // 20 × 0.15 + 100 × 0.075 + 30 × 0.60 (reasoning inside output) = 28.5 per million.
        ("openai", 120, 30, 100, 0, 10, 28.5e-6),
        // 20 × 0.8 + 100 × 0.08 + 10 × 1.0 + 30 × 4.0 = 154 per million: input excludes the cache.
        ("aws.bedrock", 20, 30, 100, 10, 0, 154.0e-6),
        // 50 × 0.30 + (30 + 10) × 2.50 = 115 per million: Gemini's output excludes thinking.
        ("gcp.vertex_ai", 50, 30, 0, 0, 10, 115.0e-6),
    ];
    let mut sum = 0.0;
    for (call, (provider, input, output, read, write, reasoning, usd)) in calls.iter().zip(want) {
        assert!(is_child_of(call, run), "{provider}: parented to the run");
        assert_eq!(str_attr(call, k::RUN_ID), str_attr(run, k::RUN_ID), "{provider}: stamped");
        assert_eq!(str_attr(call, k::GEN_AI_PROVIDER_NAME), provider);
        assert_eq!(str_attr(call, k::VENDOR), provider);
        // Only `gen_ai.system`: an LLM call whose operation defaults to chat.
        assert_eq!(str_attr(call, k::GEN_AI_OPERATION_NAME), "chat");
        assert_eq!(int_attr(call, k::GEN_AI_USAGE_INPUT_TOKENS), input, "{provider}");
        assert_eq!(int_attr(call, k::GEN_AI_USAGE_OUTPUT_TOKENS), output, "{provider}");
        // adk's spellings are exported under the semconv keys too.
        for (key, count) in [
            (k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, read),
            (k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, write),
            (k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, reasoning),
        ] {
            if count > 0 {
                assert_eq!(int_attr(call, key), count, "{provider} {key}");
            } else {
                assert_absent(call, key);
            }
        }
        assert_absent(call, k::USAGE_TOTAL_TOKENS_MISMATCH);
        assert_usd(f64_attr(call, k::COST_USD), usd);
        sum += usd;
    }
    assert_usd(f64_attr(run, k::RUN_COST_USD), sum);
    assert_eq!(int_attr(run, k::RUN_LLM_CALLS), 3);
    let tool = find(&spans, "execute_tool");
    assert_eq!(str_attr(tool, k::GEN_AI_TOOL_CALL_ID), "call_7");
    assert_absent(tool, k::ADK_TOOL_CALL_ID);
    // adk's capture switch was on, botanu's is off (the default): no text, in attributes or events.
    assert_nowhere(&spans, "alice@example.com");
    assert_nowhere(&spans, "my email is");
}

#[test]
fn adk_content_events_are_gated_and_scrubbed_when_capture_is_on() {
    let h = Harness::with(|b| b.with_content_capture_rate(1.0));
    run_async(&h, |base| async move {
        let run = run_span!(workflow = "adk-capture");
        adk_call("openai", "gpt-4o-mini", format!("{base}/openai/chat/completions"), adk_usage_openai)
            .instrument(run)
            .await;
    });
    let spans = h.spans();
    assert_nowhere(&spans, "alice@example.com");
    let call = find(&spans, "gen_ai.generate");
    let contents: Vec<String> = call
        .events
        .iter()
        .flat_map(|e| e.attributes.iter())
        .filter(|kv| kv.key.as_str() == "content")
        .map(|kv| kv.value.as_str().into_owned())
        .collect();
    assert_eq!(contents, ["my email is [REDACTED]", "Hi [REDACTED]"]);
}

// === tirea 0.5.0 (fixture) ===

/// The spans of tirea's `LLMMetryPlugin`, copied from `tirea-extension-observability` 0.5.0
/// `src/plugin.rs` (`before_inference` / `after_inference`, `before_tool_execute`; crate published from
/// tirea-ai/tirea commit ab3cc9b5abcaebc5847f31ccf2514927670e5f65): every span named `gen_ai`, told apart
/// by `otel.name`; arrays recorded as `format!("{:?}", …)`; usage from genai's `Usage` (input includes
/// the cache, output includes thinking).
mod tirea_fixture {
    pub fn inference(model: &str, error: Option<&str>) {
        let span_name = format!("chat {model}");
        let span = tracing::info_span!("gen_ai",
            "otel.name" = %span_name,
            "otel.kind" = "client",
            "otel.status_code" = tracing::field::Empty,
            "otel.status_description" = tracing::field::Empty,
            "gen_ai.provider.name" = "openai",
            "gen_ai.operation.name" = "chat",
            "gen_ai.request.model" = %model,
            "gen_ai.request.temperature" = tracing::field::Empty,
            "gen_ai.request.top_p" = tracing::field::Empty,
            "gen_ai.request.max_tokens" = tracing::field::Empty,
            "gen_ai.request.stop_sequences" = tracing::field::Empty,
            "gen_ai.response.model" = tracing::field::Empty,
            "gen_ai.response.id" = tracing::field::Empty,
            "gen_ai.usage.thinking_tokens" = tracing::field::Empty,
            "gen_ai.usage.input_tokens" = tracing::field::Empty,
            "gen_ai.usage.output_tokens" = tracing::field::Empty,
            "gen_ai.response.finish_reasons" = tracing::field::Empty,
            "gen_ai.usage.cache_read.input_tokens" = tracing::field::Empty,
            "gen_ai.usage.cache_creation.input_tokens" = tracing::field::Empty,
            "error.type" = tracing::field::Empty,
            "error.message" = tracing::field::Empty,
            "gen_ai.error.class" = tracing::field::Empty,
        );
        let seqs = vec!["END".to_owned(), "STOP".to_owned()];
        span.record("gen_ai.request.stop_sequences", format!("{:?}", seqs).as_str());
        match error {
            None => {
                span.record("gen_ai.usage.thinking_tokens", 10i32);
                span.record("gen_ai.usage.input_tokens", 120i32);
                span.record("gen_ai.usage.output_tokens", 30i32);
                span.record("gen_ai.usage.cache_read.input_tokens", 100i32);
                let reasons = vec!["stop".to_owned()];
                span.record("gen_ai.response.finish_reasons", format!("{:?}", reasons).as_str());
            }
            Some(message) => {
                span.record("error.type", "rate_limit");
                span.record("error.message", message);
                span.record("otel.status_code", "ERROR");
                span.record("otel.status_description", message);
            }
        }
    }

    pub fn tool(tool_name: &str, call_id: &str) {
        let span_name = format!("execute_tool {}", tool_name);
        let span = tracing::info_span!("gen_ai",
            "otel.name" = %span_name,
            "otel.kind" = "internal",
            "otel.status_code" = tracing::field::Empty,
            "otel.status_description" = tracing::field::Empty,
            "gen_ai.provider.name" = "openai",
            "gen_ai.operation.name" = "execute_tool",
            "gen_ai.tool.name" = %tool_name,
            "gen_ai.tool.call.id" = %call_id,
            "gen_ai.tool.type" = "function",
            "error.type" = tracing::field::Empty,
            "error.message" = tracing::field::Empty,
        );
        drop(span);
    }
}

#[test]
fn tirea_spans_named_alike_are_told_apart_and_priced() {
    let h = Harness::new();
    h.run(|| {
        let run = run_span!(workflow = "tirea");
        run.in_scope(|| {
            tirea_fixture::inference("gpt-4o-mini", None);
            tirea_fixture::tool("search", "call_1");
            tirea_fixture::inference("gpt-4o-mini", Some("Rate limit reached"));
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/tirea");
    let chats = find_all(&spans, "chat gpt-4o-mini");
    assert_eq!(chats.len(), 2);
    let (ok, failed) = (chats[0], chats[1]);
    assert!(is_child_of(ok, run));
    assert_eq!(str_attr(ok, k::RUN_ID), str_attr(run, k::RUN_ID));
    assert_eq!(kind(ok), opentelemetry::trace::SpanKind::Client);
    assert_eq!(int_attr(ok, k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS), 10, "thinking tokens read");
    assert_eq!(str_array_attr(ok, k::GEN_AI_REQUEST_STOP_SEQUENCES), ["END", "STOP"]);
    assert_eq!(str_array_attr(ok, k::GEN_AI_RESPONSE_FINISH_REASONS), ["stop"]);
    // 20 × 0.15 + 100 × 0.075 + 30 × 0.60 = 28.5 per million (openai gpt-4o-mini).
    assert_usd(f64_attr(ok, k::COST_USD), 28.5e-6);
    assert!(is_error(failed));
    assert_eq!(str_attr(failed, k::ERROR_TYPE), "rate_limit");
    let tool = find(&spans, "execute_tool search");
    assert_eq!(kind(tool), opentelemetry::trace::SpanKind::Internal);
    assert_eq!(str_attr(tool, k::GEN_AI_TOOL_CALL_ID), "call_1");
    assert_absent(tool, k::COST_USD);
    assert_usd(f64_attr(run, k::RUN_COST_USD), 28.5e-6);
}

// === rig-core 0.44 (fixture) ===

/// rig-core 0.44's completion span: the field list of `chat` (target `rig::completions`) as rig's own
/// equivalence test pins it (`src/telemetry/equivalence_tests.rs`, `EXPECTED`, crate published from
/// 0xPlaygrounds/rig commit 2d1071e0e0c602f994e9d6cfd8cf5faea6f53650), recorded as its
/// `record_usage_on_span` does (every usage key, zeros included), with the messages as JSON content.
fn rig_chat() {
    let span = tracing::info_span!(
        target: "rig::completions",
        "chat",
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = "openai",
        gen_ai.request.model = "gpt-4o-mini",
        gen_ai.system_instructions = tracing::field::Empty,
        gen_ai.request.stream = false,
        gen_ai.response.id = tracing::field::Empty,
        gen_ai.response.model = tracing::field::Empty,
        rig.provider_request_id = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        gen_ai.usage.cache_read.input_tokens = tracing::field::Empty,
        gen_ai.usage.cache_creation.input_tokens = tracing::field::Empty,
        gen_ai.usage.tool_use_prompt_tokens = tracing::field::Empty,
        gen_ai.usage.reasoning_tokens = tracing::field::Empty,
        gen_ai.input.messages = tracing::field::Empty,
        gen_ai.output.messages = tracing::field::Empty,
    );
    span.record(
        "gen_ai.input.messages",
        r#"[{"role":"user","parts":[{"type":"text","content":"my email is alice@example.com"}]}]"#,
    );
    span.record("gen_ai.usage.input_tokens", 120u64);
    span.record("gen_ai.usage.output_tokens", 30u64);
    span.record("gen_ai.usage.cache_read.input_tokens", 100u64);
    span.record("gen_ai.usage.cache_creation.input_tokens", 0u64);
    span.record("gen_ai.usage.tool_use_prompt_tokens", 0u64);
    span.record("gen_ai.usage.reasoning_tokens", 10u64);
    span.record(
        "gen_ai.output.messages",
        r#"[{"role":"assistant","parts":[{"type":"text","content":"Hi alice@example.com"}]}]"#,
    );
}

#[test]
fn rig_reasoning_tokens_are_read_and_its_messages_gated() {
    let h = Harness::new();
    h.run(|| run_span!(workflow = "rig").in_scope(rig_chat));
    let spans = h.spans();
    let chat = find(&spans, "chat");
    assert_eq!(str_attr(chat, k::WORKFLOW), "rig");
    assert_eq!(int_attr(chat, k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS), 10);
    // 20 × 0.15 + 100 × 0.075 + 30 × 0.60 = 28.5 per million (openai gpt-4o-mini).
    assert_usd(f64_attr(chat, k::COST_USD), 28.5e-6);
    assert_nowhere(&spans, "alice@example.com");
}

// === goose (fixture) ===

/// goose's chat span and usage recording, copied from block/goose `crates/goose/src/agents/state_machine/ops_llm.rs`
/// (`chat_span`, stored version at commit 4e53f4a61795ea284bb4fb84933ad3d36144d4e8) and
/// `crates/goose/src/agents/gen_ai_telemetry.rs` (`record_provider_usage`, commit
/// 5a291ae20733634ffe143513d57b5f829acb20f3). The span declares no cache fields, so goose's
/// `record_usage` of `gen_ai.usage.cache_read.input_tokens` is dropped by `tracing` itself: no layer
/// ever sees goose's cached tokens.
fn goose_chat(provider: &str, model: &str, session_id: &str) {
    let span = tracing::info_span!(
        target: "goose::state_machine",
        "chat",
        "gen_ai.operation.name" = "chat",
        "gen_ai.provider.name" = %provider,
        "gen_ai.request.model" = %model,
        "gen_ai.request.temperature" = tracing::field::Empty,
        "gen_ai.request.max_tokens" = tracing::field::Empty,
        "gen_ai.response.model" = tracing::field::Empty,
        "gen_ai.response.finish_reasons" = tracing::field::Empty,
        "gen_ai.response.id" = tracing::field::Empty,
        "gen_ai.usage.input_tokens" = tracing::field::Empty,
        "gen_ai.usage.output_tokens" = tracing::field::Empty,
        "goose.chat.purpose" = "reply",
        "error.type" = tracing::field::Empty,
        session.id = %session_id,
    );
    span.record("gen_ai.request.temperature", 0.5f64);
    span.record("gen_ai.response.model", "gpt-4o-mini-2024-07-18");
    span.record("gen_ai.usage.input_tokens", 120i32);
    span.record("gen_ai.usage.output_tokens", 30i32);
    span.record("gen_ai.usage.cache_read.input_tokens", 100i32);
    let reasons_json = serde_json::to_string(&vec!["stop"]).unwrap_or_default();
    span.record("gen_ai.response.finish_reasons", reasons_json.as_str());
    span.record("gen_ai.response.id", "chatcmpl-1");
}

#[test]
fn goose_chat_spans_are_priced_from_what_they_carry() {
    let h = Harness::new();
    h.run(|| run_span!(workflow = "goose").in_scope(|| goose_chat("openai", "gpt-4o-mini", "s-1")));
    let spans = h.spans();
    let chat = find(&spans, "chat");
    assert_eq!(str_attr(chat, k::WORKFLOW), "goose");
    assert_eq!(str_attr(chat, k::VENDOR), "openai");
    assert_eq!(str_attr(chat, "session.id"), "s-1");
    assert_eq!(str_array_attr(chat, k::GEN_AI_RESPONSE_FINISH_REASONS), ["stop"]);
    assert_absent(chat, k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS);
    // 120 × 0.15 + 30 × 0.60 = 36 per million: the cached tokens never reached the span.
    assert_usd(f64_attr(chat, k::COST_USD), 36.0e-6);
}

// === swiftide (fixture) ===

/// swiftide 0.32's OpenAI integration with feature `langfuse`, copied from bosun-ai/swiftide
/// `swiftide-integrations/src/openai/chat_completion.rs` at commit a76ff4e57e21ca0fda48b6778e21bf0c021450d4
/// (`complete`: `#[instrument(skip_all, err, fields(langfuse.type = "GENERATION"))]`; `track_completion`:
/// `debug!(langfuse.model, langfuse.input, langfuse.output, langfuse.usage)`, the last three
/// `serde_json::to_string_pretty` of the request, the response and swiftide-core's `Usage`). The module
/// path is swiftide's, so the span's provider is known as it is for the real crate.
mod swiftide_integrations {
    pub mod openai {
        #[tracing::instrument(skip_all, err, fields(langfuse.type = "GENERATION"))]
        pub async fn complete(request: &str) -> Result<String, std::io::Error> {
            let response = r#"{"choices":[{"message":{"content":"Hi alice@example.com"}}]}"#;
            let usage = "{\n  \"prompt_tokens\": 120,\n  \"completion_tokens\": 30,\n  \"total_tokens\": 150,\n  \"details\": {\n    \"prompt_tokens_details\": {\n      \"cached_tokens\": 100\n    },\n    \"completion_tokens_details\": {\n      \"reasoning_tokens\": 10\n    }\n  }\n}";
            tracing::debug!(
                langfuse.model = "gpt-4o-mini",
                langfuse.input = request,
                langfuse.output = response,
                langfuse.usage = usage,
            );
            Ok("Hi".to_owned())
        }
    }
}

#[test]
fn swiftide_usage_on_an_event_is_read_onto_its_generation_span() {
    let h = Harness::new();
    run_async(&h, |_| async move {
        let run = run_span!(workflow = "swiftide");
        let answer = swiftide_integrations::openai::complete(r#"{"messages":["my email is alice@example.com"]}"#)
            .instrument(run)
            .await;
        assert!(answer.is_ok());
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/swiftide");
    let call = find(&spans, "complete");
    assert!(is_child_of(call, run));
    assert_eq!(str_attr(call, k::GEN_AI_PROVIDER_NAME), "openai");
    assert_eq!(str_attr(call, k::GEN_AI_REQUEST_MODEL), "gpt-4o-mini");
    assert_eq!(int_attr(call, k::LANGFUSE_USAGE_PROMPT_TOKENS), 120);
    assert_eq!(int_attr(call, k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS), 100);
    assert_eq!(int_attr(call, k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS), 10);
    // 20 × 0.15 + 100 × 0.075 + 30 × 0.60 = 28.5 per million.
    assert_usd(f64_attr(call, k::COST_USD), 28.5e-6);
    assert_usd(f64_attr(run, k::RUN_COST_USD), 28.5e-6);
    assert!(call.events.iter().all(|e| !e.attributes.iter().any(|kv| kv.key.as_str() == k::LANGFUSE_USAGE)));
    assert_nowhere(&spans, "alice@example.com");
    // The usage is evidence of a response: the attempt is a success, its tokens in the token metric.
    #[cfg(feature = "testing")]
    {
        let rms = h.metrics();
        let attempts = find_metric(&rms, botanu::semconv::metrics::ATTEMPTS).expect("attempts").points();
        assert!(attempts.iter().any(|p| point_attrs(p).get("status").map(String::as_str) == Some("success")));
        let tokens = find_metric(&rms, botanu::semconv::metrics::TOKEN_USAGE).expect("tokens").points();
        let total: u64 = tokens.iter().map(|p| p.sum as u64).sum();
        assert_eq!(total, 150, "120 input + 30 output");
    }
}

/// The same usage event on a run span (no model-call span around it) is not read: it belongs to no
/// one call, and its text fields are still gated.
#[test]
fn langfuse_usage_outside_a_model_call_is_not_counted() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "loose").in_scope(|| {
            tracing::info!(
                langfuse.model = "gpt-4o-mini",
                langfuse.input = "my email is alice@example.com",
                langfuse.usage = r#"{"prompt_tokens": 120, "completion_tokens": 30}"#,
            );
        })
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/loose");
    assert_absent(run, k::LANGFUSE_USAGE_PROMPT_TOKENS);
    assert_eq!(int_attr(run, k::RUN_LLM_CALLS), 0);
    assert_nowhere(&spans, "alice@example.com");
}

// === agents: usage never counted twice ===

#[test]
fn usage_on_spans_wrapping_model_calls_is_not_added() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "agents").in_scope(|| {
            // rig's shape: an `invoke_agent` span repeating the aggregated usage of the calls inside it.
            let agent = tracing::info_span!(
                "invoke_agent",
                gen_ai.operation.name = "invoke_agent",
                gen_ai.provider.name = "openai",
                gen_ai.request.model = "gpt-4o-mini",
                gen_ai.usage.input_tokens = 240,
                gen_ai.usage.output_tokens = 60,
            );
            agent.in_scope(|| {
                for _ in 0..2 {
                    tracing::info_span!(
                        "chat",
                        gen_ai.operation.name = "chat",
                        gen_ai.provider.name = "openai",
                        gen_ai.request.model = "gpt-4o-mini",
                        gen_ai.usage.input_tokens = 120,
                        gen_ai.usage.output_tokens = 30,
                    )
                    .in_scope(|| {});
                }
            });
            // A span with no operation that contains a model call is its agent too, whatever it says.
            let wrapper = tracing::info_span!(
                "my_agent",
                gen_ai.provider.name = "openai",
                gen_ai.request.model = "gpt-4o-mini",
                gen_ai.usage.input_tokens = 120,
                gen_ai.usage.output_tokens = 30,
            );
            wrapper.in_scope(|| {
                // An agent inside the agent: the outer one wraps a model call too.
                let inner = tracing::info_span!(
                    "inner_agent",
                    gen_ai.provider.name = "openai",
                    gen_ai.request.model = "gpt-4o-mini",
                    gen_ai.usage.input_tokens = 120,
                    gen_ai.usage.output_tokens = 30,
                );
                inner.in_scope(|| {
                    tracing::info_span!(
                        "chat",
                        gen_ai.provider.name = "openai",
                        gen_ai.request.model = "gpt-4o-mini",
                        gen_ai.usage.input_tokens = 120,
                        gen_ai.usage.output_tokens = 30,
                    )
                    .in_scope(|| {});
                });
            });
        })
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/agents");
    assert_eq!(int_attr(run, k::RUN_LLM_CALLS), 3);
    assert_eq!(int_attr(run, k::RUN_TOKENS_INPUT), 360);
    // 3 × (120 × 0.15 + 30 × 0.60) = 108 per million.
    assert_usd(f64_attr(run, k::RUN_COST_USD), 108.0e-6);
    assert_absent(find(&spans, "invoke_agent"), k::COST_USD);
    assert_absent(find(&spans, "my_agent"), k::COST_USD);
    assert_absent(find(&spans, "inner_agent"), k::COST_USD);
}

// === invisible to any tracing Layer ===

/// A crate that writes its GenAI attributes through `OpenTelemetrySpanExt::set_attribute`
/// (tracing-opentelemetry) hands them to tracing-opentelemetry's own span data, not to `tracing`: no
/// other `Layer` — botanu's included — is called. The span is not recognized, nothing is priced.
#[test]
fn attributes_set_through_the_otel_extension_are_invisible_to_layers() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::prelude::*;

    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build().expect("pipeline builds");
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("other"));
    let subscriber = tracing_subscriber::registry().with(layer).with(otel);
    tracing::subscriber::with_default(subscriber, || {
        run_span!(workflow = "invisible").in_scope(|| {
            let span = tracing::info_span!("chat gpt-4o-mini");
            span.set_attribute("gen_ai.provider.name", "openai");
            span.set_attribute("gen_ai.request.model", "gpt-4o-mini");
            span.set_attribute("gen_ai.usage.input_tokens", 120);
            span.in_scope(|| {});
        });
    });
    guard.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    let run = find(&spans, "botanu.run/invisible");
    assert!(spans.iter().all(|s| s.name != "chat gpt-4o-mini"), "not recognized: not exported");
    assert_eq!(int_attr(run, k::RUN_LLM_CALLS), 0);
}
