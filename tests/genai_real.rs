//! A real third-party GenAI crate under the layer: unmodified `genai` (feature `otel`) talking to a mock
//! OpenAI-compatible provider on loopback, inside a `run_span!`, with botanu's in-memory exporters.
//!
//! genai instruments itself with plain `tracing` spans in the tracing-opentelemetry style (`otel.name`,
//! `otel.kind`, `otel.status_code`, `gen_ai.*` fields, finish reasons as a JSON string), and logs a
//! failed stream with `tracing::error!` while its own span is not entered. These tests check what a
//! backend receives from that: stamping, parents, tokens (cached ones included), the status of a
//! success, a failure (HTTP 429) and an abandoned stream, the run's status after a handled library
//! error, normalized vendors, and that an agent span is not counted as a model call.

mod common;

#[cfg(feature = "testing")]
use std::collections::BTreeMap;
use std::future::Future;

use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::routing::post;
use botanu::prelude::*;
use botanu::semconv as k;
#[cfg(feature = "testing")]
use botanu::semconv::metrics as m;
use common::*;
use genai::adapter::AdapterKind;
use genai::chat::{ChatMessage, ChatOptions, ChatRequest, ChatStreamEvent};
use genai::resolver::{AuthData, Endpoint, ServiceTargetResolver};
use genai::{Client, ModelIden, ServiceTarget};
use opentelemetry::trace::Status;
#[cfg(feature = "testing")]
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, ResourceMetrics};
use opentelemetry_sdk::trace::SpanData;
use tracing::Instrument;

/// The next event of a genai chat stream (`StreamExt::next` without the `futures` crate).
async fn next(stream: &mut genai::chat::ChatStream) -> Option<genai::Result<ChatStreamEvent>> {
    std::future::poll_fn(|cx| futures_core::Stream::poll_next(std::pin::Pin::new(&mut *stream), cx)).await
}

// === the mock provider ===

/// Usage of every successful answer: 120 prompt tokens of which 100 cached, 30 completion tokens of
/// which 10 reasoning.
const USAGE: &str = r#"{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":100},"completion_tokens_details":{"reasoning_tokens":10}}"#;
/// The model the mock answers with HTTP 429.
const RATE_LIMITED: &str = "rate-limited-model";

async fn chat_completions(body: Bytes) -> Response {
    let body = String::from_utf8_lossy(&body);
    let streaming = body.contains(r#""stream":true"#);
    if body.contains(RATE_LIMITED) {
        return Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"error":{"message":"Rate limit reached","type":"rate_limit_exceeded"}}"#))
            .unwrap_or_default();
    }
    if streaming {
        let chunk = |delta: &str, finish: &str| {
            format!(
                r#"data: {{"id":"chatcmpl-stream","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
            )
        };
        let events = [
            chunk(r#"{"role":"assistant","content":"Hel"}"#, "null"),
            chunk(r#"{"content":"lo"}"#, r#""stop""#),
            format!(
                r#"data: {{"id":"chatcmpl-stream","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{USAGE}}}"#
            ),
            "data: [DONE]".to_owned(),
        ];
        let sse: String = events.iter().map(|e| format!("{e}\n\n")).collect();
        return Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream")
            .body(Body::from(sse))
            .unwrap_or_default();
    }
    let answer = format!(
        r#"{{"id":"chatcmpl-unary","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{{"index":0,"message":{{"role":"assistant","content":"Hello"}},"finish_reason":"stop"}}],"usage":{USAGE}}}"#
    );
    Response::builder().header(header::CONTENT_TYPE, "application/json").body(Body::from(answer)).unwrap_or_default()
}

/// Serves the mock on 127.0.0.1:0 and returns its `/v1/` base URL.
async fn serve_mock() -> String {
    let app = axum::Router::new().route("/v1/chat/completions", post(chat_completions));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/v1/")
}

/// A genai client whose every model goes to the mock, as `adapter` (an OpenAI-compatible one), with a
/// fake key made at run time.
fn client(base_url: String, adapter: AdapterKind) -> Client {
    // genai's reqwest has no TLS feature here (its default features are off) and no process-wide rustls
    // provider is installed: botanu enables no feature of reqwest (issue 23; tests/canary checks the same
    // from an application's own build).
    let key = format!("sk-{}", "test-not-a-real-key-0000000000");
    let resolver = ServiceTargetResolver::from_resolver_fn(
        move |target: ServiceTarget| -> Result<ServiceTarget, genai::resolver::Error> {
            Ok(ServiceTarget {
                endpoint: Endpoint::from_owned(base_url.clone()),
                auth: AuthData::from_single(key.clone()),
                model: ModelIden::new(adapter, target.model.model_name),
            })
        },
    );
    Client::builder().with_service_target_resolver(resolver).build().expect("genai client builds")
}

fn request() -> ChatRequest {
    ChatRequest::new(vec![ChatMessage::user("Why is the sky blue?")])
}

fn options() -> ChatOptions {
    ChatOptions::default().with_capture_usage(true)
}

/// Runs `work` under the harness's subscriber on a current-thread runtime (so the subscriber, set for
/// this thread, sees every poll).
fn run_async<F: Future<Output = ()>>(h: &Harness, work: impl FnOnce(String) -> F) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let _default = tracing::dispatcher::set_default(&h.dispatch);
    rt.block_on(async {
        let base = serve_mock().await;
        work(base).await;
    });
}

// === reading metrics ===

/// Counter values by their attribute set (as strings), for one metric.
#[cfg(feature = "testing")]
fn counter(rms: &[ResourceMetrics], name: &str) -> BTreeMap<BTreeMap<String, String>, u64> {
    let points = find_metric(rms, name).map(|series| series.points()).unwrap_or_default();
    points.iter().map(|p| (point_attrs(p), p.sum as u64)).collect()
}

/// Data points of a histogram: the recordings per attribute set, or for a u64 histogram (tokens) the
/// sum of what was recorded.
#[cfg(feature = "testing")]
fn histogram_counts(rms: &[ResourceMetrics], name: &str) -> BTreeMap<BTreeMap<String, String>, u64> {
    let Some(series) = find_metric(rms, name).filter(is_histogram) else { return BTreeMap::new() };
    let tokens = matches!(series.metric().data(), AggregatedMetrics::U64(_));
    series.points().iter().map(|p| (point_attrs(p), if tokens { p.sum as u64 } else { p.count })).collect()
}

#[cfg(feature = "testing")]
fn with(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

fn chat_spans(spans: &[SpanData]) -> Vec<&SpanData> {
    spans.iter().filter(|s| attr(s, k::GEN_AI_OPERATION_NAME).is_some_and(|v| v.as_str() == "chat")).collect()
}

// === the tests ===

#[cfg(feature = "testing")]
#[test]
fn unary_stream_and_429_are_stamped_parented_and_statused() {
    let h = Harness::new();
    run_async(&h, |base| async move {
        let client = client(base, AdapterKind::OpenAI);
        let run = run_span!(workflow = "genai-real", customer_id = "acme");
        async {
            let answer = client.exec_chat("gpt-4o-mini", request(), Some(&options())).await;
            assert!(answer.is_ok(), "unary chat: {answer:?}");

            let mut stream =
                client.exec_chat_stream("gpt-4o-mini", request(), Some(&options())).await.expect("stream opens").stream;
            let mut text = String::new();
            while let Some(event) = next(&mut stream).await {
                if let ChatStreamEvent::Chunk(chunk) = event.expect("stream event") {
                    text.push_str(&chunk.content);
                }
            }
            assert_eq!(text, "Hello");
            drop(stream);

            // The caller handles the failure: the run goes on.
            let limited = client.exec_chat(RATE_LIMITED, request(), Some(&options())).await;
            assert!(limited.is_err());
        }
        .instrument(run)
        .await;
    });

    let spans = h.spans();
    let run = find(&spans, "botanu.run/genai-real");
    let chats = chat_spans(&spans);
    assert_eq!(chats.len(), 3, "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    for chat in &chats {
        // genai names its spans (`otel.name`): botanu keeps the name.
        assert!(chat.name.starts_with("chat "), "{}", chat.name);
        assert!(is_child_of(chat, run), "{}: parented to the run", chat.name);
        assert_eq!(str_attr(chat, k::RUN_ID), str_attr(run, k::RUN_ID));
        assert_eq!(str_attr(chat, k::WORKFLOW), "genai-real");
        assert_eq!(str_attr(chat, k::CUSTOMER_ID), "acme");
        assert_eq!(str_attr(chat, k::GEN_AI_PROVIDER_NAME), "openai");
        assert_eq!(str_attr(chat, k::VENDOR), "openai");
        assert_eq!(kind(chat), opentelemetry::trace::SpanKind::Client);
        // The control fields steer the export; they are not data.
        for key in [k::OTEL_NAME, k::OTEL_KIND, k::OTEL_STATUS_CODE, k::OTEL_STATUS_DESCRIPTION] {
            assert_absent(chat, key);
        }
    }

    let answered: Vec<_> = chats.iter().filter(|s| attr(s, k::GEN_AI_USAGE_INPUT_TOKENS).is_some()).collect();
    assert_eq!(answered.len(), 2, "unary and stream answered");
    for chat in answered {
        assert_eq!(chat.status, Status::Unset, "{}: success stays Unset", chat.name);
        assert_eq!(int_attr(chat, k::GEN_AI_USAGE_INPUT_TOKENS), 120);
        assert_eq!(int_attr(chat, k::GEN_AI_USAGE_OUTPUT_TOKENS), 30);
        // Cached tokens, from the semconv key genai writes, in botanu's key for a cache the input includes
        // (`cached_tokens`); never `cache_read_tokens`, which says the input excludes them (a reader
        // re-pricing the span would count them twice).
        assert_eq!(int_attr(chat, k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS), 100);
        assert_eq!(int_attr(chat, k::USAGE_CACHED_TOKENS), 100);
        assert_absent(chat, k::USAGE_CACHE_READ_TOKENS);
        assert_eq!(int_attr(chat, k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS), 10);
        // A JSON string from genai, a string array on the wire.
        assert_eq!(str_array_attr(chat, k::GEN_AI_RESPONSE_FINISH_REASONS), vec!["stop".to_owned()]);
        assert_absent(chat, k::ERROR_TYPE);
    }

    // genai's spans are priced like botanu's own (issue 13): gpt-4o-mini at list price, OpenAI semantics
    // (the 120 input tokens include the 100 cached ones; the 30 output tokens include the 10 reasoning
    // ones): 20 × $0.15/M + 100 × $0.075/M (cached) + 30 × $0.60/M = $0.0000285 — cached tokens priced as
    // cached, reasoning not counted twice.
    #[cfg(feature = "bundled-prices")]
    {
        let priced: Vec<_> = chats.iter().filter(|s| attr(s, k::GEN_AI_USAGE_INPUT_TOKENS).is_some()).collect();
        let mut sum = 0.0;
        for chat in &priced {
            let usd = f64_attr(chat, k::COST_USD);
            assert!((usd - 0.000_028_5).abs() < 1e-12, "{}: {usd}", chat.name);
            assert!(str_attr(chat, k::COST_SOURCE).starts_with("genai-prices"), "{}", chat.name);
            sum += usd;
        }
        let limited = chats.iter().find(|s| attr(s, k::ERROR_TYPE).is_some()).expect("the 429 call");
        assert_absent(limited, k::COST_USD);
        assert_eq!(str_attr(limited, k::COST_UNPRICED_REASON), "no_usage");
        // The run carries the roll-up of what closed inside it.
        assert!((f64_attr(run, k::RUN_COST_USD) - sum).abs() < 1e-12, "{}", f64_attr(run, k::RUN_COST_USD));
    }

    let failed = chats.iter().find(|s| attr(s, k::ERROR_TYPE).is_some()).expect("the 429 call");
    assert!(is_error(failed), "{:?}", failed.status);
    assert_eq!(str_attr(failed, k::ERROR_TYPE), "429");
    assert_eq!(events_named(failed, k::EVENT_EXCEPTION).len(), 1);

    // The run handled the failure: it succeeded.
    assert_eq!(run.status, Status::Ok);
    assert_eq!(event_str(one_event(run, k::EVENT_RUN_COMPLETED), k::RUN_EVENT_STATUS), "success");

    let rms = h.metrics();
    let attempts = counter(&rms, m::ATTEMPTS);
    let base = [(k::GEN_AI_OPERATION_NAME, "chat"), (k::GEN_AI_PROVIDER_NAME, "openai")];
    let mut ok = base.to_vec();
    ok.extend([(k::GEN_AI_REQUEST_MODEL, "gpt-4o-mini"), (m::STATUS, "success")]);
    let mut err = base.to_vec();
    err.extend([(k::GEN_AI_REQUEST_MODEL, RATE_LIMITED), (m::STATUS, "error")]);
    assert_eq!(attempts.get(&with(&ok)), Some(&2), "{attempts:?}");
    assert_eq!(attempts.get(&with(&err)), Some(&1), "{attempts:?}");
    assert_eq!(attempts.values().sum::<u64>(), 3, "{attempts:?}");
    let tokens = histogram_counts(&rms, m::TOKEN_USAGE);
    let mut input = base.to_vec();
    input.extend([(k::GEN_AI_REQUEST_MODEL, "gpt-4o-mini"), (k::GEN_AI_TOKEN_TYPE, "input")]);
    assert_eq!(tokens.get(&with(&input)), Some(&240), "{tokens:?}");
}

#[test]
fn a_failed_stream_logged_by_genai_does_not_fail_the_run() {
    let h = Harness::new();
    run_async(&h, |base| async move {
        let client = client(base, AdapterKind::OpenAI);
        async {
            // The stream opens (setup is local); the 429 arrives on the first poll, where genai logs
            // `tracing::error!` with its own span not entered: the event lands on the run span.
            let mut stream =
                client.exec_chat_stream(RATE_LIMITED, request(), Some(&options())).await.expect("stream opens").stream;
            let mut failed = false;
            while let Some(event) = next(&mut stream).await {
                if event.is_err() {
                    failed = true;
                    break;
                }
            }
            assert!(failed, "the stream reports the 429");
        }
        .instrument(run_span!(workflow = "handled-stream-error"))
        .await;
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/handled-stream-error");
    assert_eq!(run.status, Status::Ok, "a library's handled error does not fail the run");
    assert!(events_named(run, k::EVENT_EXCEPTION).is_empty());
    assert_absent(run, k::ERROR_TYPE);
    assert_eq!(event_str(one_event(run, k::EVENT_RUN_COMPLETED), k::RUN_EVENT_STATUS), "success");
    // The log is still there, as an ordinary event.
    assert!(run.events.iter().any(|e| e.name.contains("Error")), "{:?}", event_names(run));
    // genai's own span carries the failure.
    let chat = chat_spans(&spans).into_iter().next().expect("the chat span");
    assert!(is_error(chat));
    assert!(is_child_of(chat, run));
}

#[test]
fn the_users_own_error_inside_a_step_fails_the_step_and_the_run_stays_apart() {
    let h = Harness::new();
    run_async(&h, |base| async move {
        let client = client(base, AdapterKind::OpenAI);
        async {
            async {
                let limited = client.exec_chat(RATE_LIMITED, request(), Some(&options())).await;
                if let Err(e) = limited {
                    // The application's own error log, in its own step.
                    tracing::error!(error = %e, "answer generation failed");
                }
            }
            .instrument(step_span!("generate"))
            .await;
        }
        .instrument(run_span!(workflow = "own-error"))
        .await;
    });
    let spans = h.spans();
    let step = find(&spans, "botanu.step/generate");
    assert!(is_error(step), "the user's own error fails the step it is in");
    assert_eq!(events_named(step, k::EVENT_EXCEPTION).len(), 1);
    assert_eq!(event_str(one_event(step, k::EVENT_EXCEPTION), k::EXCEPTION_MESSAGE), "answer generation failed");
    let chat = chat_spans(&spans).into_iter().next().expect("the chat span");
    assert!(is_child_of(chat, step));
    assert_eq!(str_attr(chat, k::STEP), "generate");
}

#[cfg(feature = "testing")]
#[test]
fn an_abandoned_stream_is_unknown_not_success() {
    let h = Harness::new();
    run_async(&h, |base| async move {
        let client = client(base, AdapterKind::OpenAI);
        async {
            let mut stream =
                client.exec_chat_stream("gpt-4o-mini", request(), Some(&options())).await.expect("stream opens").stream;
            // Read the first chunk, then give up: no response was recorded, and no failure either.
            while let Some(event) = next(&mut stream).await {
                if let ChatStreamEvent::Chunk(_) = event.expect("stream event") {
                    break;
                }
            }
            drop(stream);
        }
        .instrument(run_span!(workflow = "abandoned"))
        .await;
    });
    let spans = h.spans();
    let chat = chat_spans(&spans).into_iter().next().expect("the chat span");
    assert_eq!(chat.status, Status::Unset);
    assert_absent(chat, k::GEN_AI_USAGE_INPUT_TOKENS);
    let attempts = counter(&h.metrics(), m::ATTEMPTS);
    let unknown = with(&[
        (k::GEN_AI_OPERATION_NAME, "chat"),
        (k::GEN_AI_PROVIDER_NAME, "openai"),
        (k::GEN_AI_REQUEST_MODEL, "gpt-4o-mini"),
        (m::STATUS, m::STATUS_UNKNOWN),
    ]);
    assert_eq!(attempts.get(&unknown), Some(&1), "{attempts:?}");
    assert_eq!(attempts.values().sum::<u64>(), 1, "{attempts:?}");
}

#[cfg(feature = "testing")]
#[test]
fn genai_vendor_spellings_are_normalized_and_agent_spans_are_not_model_calls() {
    let h = Harness::new();
    run_async(&h, |base| async move {
        // genai writes `x_ai` (an OTel well-known value) for xAI; `mistral_ai` for Mistral.
        let xai = client(base.clone(), AdapterKind::Xai);
        let mistral = client(base, AdapterKind::Mistral);
        async {
            let agent = genai::otel::agent::AgentSpan::invoke_agent()
                .with_name("support-agent")
                .with_provider("x_ai")
                .with_model("grok-3")
                .start();
            async {
                xai.exec_chat("grok-3", request(), Some(&options())).await.expect("xai answers");
                mistral.exec_chat("mistral-large", request(), Some(&options())).await.expect("mistral answers");
            }
            .instrument(agent)
            .await;
        }
        .instrument(run_span!(workflow = "vendors"))
        .await;
    });
    let spans = h.spans();
    let agent = find(&spans, "invoke_agent support-agent");
    assert_eq!(str_attr(agent, k::GEN_AI_PROVIDER_NAME), "xai");
    let grok = find(&spans, "chat grok-3");
    assert_eq!(str_attr(grok, k::GEN_AI_PROVIDER_NAME), "xai");
    assert_eq!(str_attr(grok, k::VENDOR), "xai");
    assert!(is_child_of(grok, agent));
    let large = find(&spans, "chat mistral-large");
    assert_eq!(str_attr(large, k::GEN_AI_PROVIDER_NAME), "mistral");

    let rms = h.metrics();
    let attempts = counter(&rms, m::ATTEMPTS);
    assert_eq!(attempts.values().sum::<u64>(), 2, "two model calls, the agent is not one: {attempts:?}");
    assert!(attempts.keys().all(|a| a.get(k::GEN_AI_OPERATION_NAME).map(String::as_str) == Some("chat")));
    let providers: Vec<_> = attempts.keys().filter_map(|a| a.get(k::GEN_AI_PROVIDER_NAME).cloned()).collect();
    assert_eq!(providers, vec!["mistral".to_owned(), "xai".to_owned()]);
    let durations = histogram_counts(&rms, m::OPERATION_DURATION);
    assert_eq!(durations.values().sum::<u64>(), 2, "{durations:?}");
}

#[cfg(feature = "testing")]
#[test]
fn a_streamed_call_through_genai_has_its_time_to_first_chunk() {
    let h = Harness::new();
    run_async(&h, |base| async move {
        let client = client(base, AdapterKind::OpenAI);
        async {
            let mut stream =
                client.exec_chat_stream("gpt-4o-mini", request(), Some(&options())).await.expect("stream opens").stream;
            while let Some(event) = next(&mut stream).await {
                event.expect("stream event");
            }
            drop(stream);
            // A unary call: no first chunk, no measurement.
            client.exec_chat("gpt-4o-mini", request(), Some(&options())).await.expect("unary chat");
        }
        .instrument(run_span!(workflow = "genai-stream"))
        .await;
    });

    let spans = h.spans();
    let chats = chat_spans(&spans);
    assert_eq!(chats.len(), 2);
    // genai writes the attribute on its streaming span (seconds since the request was issued).
    let streamed: Vec<_> = chats.iter().filter(|s| attr(s, k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK).is_some()).collect();
    assert_eq!(streamed.len(), 1, "only the streamed call");
    let seconds = f64_attr(streamed[0], k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK);
    assert!((0.0..30.0).contains(&seconds), "{seconds}");

    let rms = h.metrics();
    let ttft = histogram_counts(&rms, m::TIME_TO_FIRST_CHUNK);
    let series = with(&[
        (k::GEN_AI_OPERATION_NAME, "chat"),
        (k::GEN_AI_PROVIDER_NAME, "openai"),
        (k::GEN_AI_REQUEST_MODEL, "gpt-4o-mini"),
    ]);
    assert_eq!(ttft.get(&series), Some(&1), "{ttft:?}");
    assert_eq!(ttft.values().sum::<u64>(), 1, "{ttft:?}");
}
