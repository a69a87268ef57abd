//! `#[tracing::instrument]` as botanu's decorators: a run (`fields(botanu.workflow = …)`), a step
//! (`fields(botanu.step = …)`) and an LLM call (`fields(gen_ai.operation.name = …, gen_ai.provider.name
//! = …, gen_ai.request.model = …)`), read from the exported spans; a run's arguments and `ret` value as
//! its gated, scrubbed eval content; `err` failing the run.
#![cfg(feature = "testing")]

use std::fmt;

use botanu::prelude::*;
use botanu::semconv as k;
use botanu::testing::{capture, capture_async, Capture, Captured};
use opentelemetry::trace::SpanKind;
use tracing::instrument;

/// Content capture on for every run (it is off by default).
fn capture_content<R>(f: impl FnOnce() -> R) -> Captured {
    Capture::new().with_builder(|b| b.with_content_capture_rate(1.0)).run(f).1
}

#[instrument(skip_all, fields(botanu.step = "retrieve"))]
fn retrieve(query: &str) -> Vec<String> {
    vec![format!("doc about {query}")]
}

#[instrument(
    skip_all,
    fields(gen_ai.operation.name = "chat", gen_ai.provider.name = "openai", gen_ai.request.model = model)
)]
fn complete(model: &str, prompt: &str) -> String {
    tracing::Span::current().set_tokens(Tokens { input: 1_200, output: 80, ..Default::default() });
    format!("answer to {prompt}")
}

#[instrument(fields(botanu.workflow = "support", botanu.customer_id = "acme"))]
fn handle(question: &str, user_id: u64) -> String {
    let docs = retrieve(question);
    complete("gpt-4o", &format!("{question} {docs:?}"))
}

#[test]
fn instrument_as_run_step_and_llm_call() {
    let cap = capture(|| handle("how do I reset my password?", 42));
    let run = cap.run();
    // A span botanu's macros did not make keeps its own name: the function's (or `name = …`, `otel.name`).
    assert_eq!(run.name(), "handle");
    assert_eq!(run.attr_str(k::WORKFLOW), Some("support"));
    assert_eq!(run.kind(), SpanKind::Server);
    assert_eq!(run.attr_str(k::CUSTOMER_ID), Some("acme"));
    assert_eq!(run.run_status(), Some("success"));

    let step = cap.span("retrieve");
    assert_eq!(step.attr_str(k::STEP), Some("retrieve"));
    assert_eq!(step.kind(), SpanKind::Internal);
    assert!(step.is_child_of(run) && cap.is_in_run(step, run));

    let calls = cap.llm_calls();
    assert_eq!(calls.len(), 1, "{cap}");
    let call = calls[0];
    assert_eq!(call.name(), "complete");
    assert_eq!(call.attr_str(k::GEN_AI_REQUEST_MODEL), Some("gpt-4o"));
    assert_eq!(call.attr_str(k::GEN_AI_OPERATION_NAME), Some("chat"));
    assert_eq!(call.kind(), SpanKind::Client);
    assert!(call.is_child_of(run));
    assert_eq!(call.attr_str(k::GEN_AI_PROVIDER_NAME), Some("openai"));
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_INPUT_TOKENS), Some(1_200));
    assert!(call.cost_usd().is_some_and(|usd| usd > 0.0));
    assert_eq!(run.attr_i64(k::RUN_LLM_CALLS), Some(1));
}

#[test]
fn arguments_are_not_exported_when_content_capture_is_off() {
    let cap = capture(|| handle("mail me at bob@example.com", 42));
    let run = cap.run();
    for key in ["question", "user_id", k::EVAL_INPUT_CONTENT, k::EVAL_OUTPUT_CONTENT] {
        assert!(!run.has_attr(key), "{key} exported with capture off\n{cap}");
    }
    // Nowhere on the run, whatever the key.
    assert!(run.attributes().iter().all(|kv| !kv.value.to_string().contains("bob@")), "{cap}");
}

#[test]
fn arguments_are_the_run_input_content_gated_and_scrubbed() {
    let cap = capture_content(|| handle("mail me at bob@example.com", 42));
    let run = cap.run();
    assert_eq!(run.attr_str(k::EVAL_INPUT_CONTENT), Some(r#"question="mail me at [REDACTED]", user_id=42"#));
    // Arguments are content, not attributes.
    assert!(!run.has_attr("question") && !run.has_attr("user_id"), "{cap}");
}

#[derive(Debug)]
#[allow(dead_code)] // Read through `Debug`, by the argument capture.
struct Ticket {
    id: u32,
    body: String,
}

#[instrument(fields(botanu.workflow = "triage"))]
fn triage(ticket: &Ticket, api_key: &str, priority: bool) {}

#[test]
fn debug_arguments_and_secret_named_arguments() {
    let key = format!("sk-{}", "x".repeat(24));
    let ticket = Ticket { id: 7, body: "call +14155550123".to_owned() };
    let cap = capture_content(|| triage(&ticket, &key, true));
    assert_eq!(
        cap.run().attr_str(k::EVAL_INPUT_CONTENT),
        Some(r#"ticket=Ticket { id: 7, body: "call [REDACTED]" }, api_key=[REDACTED], priority=true"#),
        "{cap}"
    );
}

#[test]
fn secret_named_arguments_are_not_exported_with_capture_off() {
    let key = format!("sk-{}", "y".repeat(24));
    let ticket = Ticket { id: 1, body: String::new() };
    let cap = capture(|| triage(&ticket, &key, false));
    let run = cap.run();
    assert!(!run.has_attr("api_key") && !run.has_attr(k::EVAL_INPUT_CONTENT), "{cap}");
}

#[test]
fn a_huge_argument_is_cut_to_the_content_limit() {
    #[instrument(fields(botanu.workflow = "bulk"))]
    fn bulk(document: &str, pages: u32) {}
    let document = "é".repeat(200_000);
    let cap = capture_content(|| bulk(&document, 3));
    let input = cap.run().attr_str(k::EVAL_INPUT_CONTENT).expect("captured");
    assert!(input.starts_with("document=\"éé"), "{}", &input[..20]);
    assert_eq!(input.chars().count(), botanu::content::DEFAULT_MAX_CHARS);
}

#[test]
fn a_plain_info_span_run_follows_the_same_rule() {
    let cap = capture_content(|| {
        tracing::info_span!("nightly", botanu.workflow = "report", region = "eu", http.route = "/r").in_scope(|| {})
    });
    let run = cap.run();
    assert_eq!(run.attr_str(k::EVAL_INPUT_CONTENT), Some(r#"region="eu""#));
    assert_eq!(run.attr_str("http.route"), Some("/r"));
    assert!(!run.has_attr("region"));
}

#[instrument(ret, fields(botanu.workflow = "summarize"))]
fn summarize(text: &str) -> String {
    format!("summary: {} (contact alice@example.com)", text.len())
}

#[test]
fn ret_is_the_run_output_content_and_not_a_span_event() {
    let cap = capture_content(|| summarize("abc"));
    let run = cap.run();
    assert_eq!(run.attr_str(k::EVAL_OUTPUT_CONTENT), Some(r#""summary: 3 (contact [REDACTED])""#));
    assert_eq!(run.attr_str(k::EVAL_INPUT_CONTENT), Some(r#"text="abc""#));

    // Capture off: the return value is exported nowhere, neither as content nor as a span event.
    let cap = capture(|| summarize("abc"));
    let run = cap.run();
    assert!(!run.has_attr(k::EVAL_OUTPUT_CONTENT));
    let everything = format!("{cap}");
    assert!(!everything.contains("summary:") && !everything.contains("return"), "{everything}");
}

#[derive(Debug)]
struct QuotaExceeded;

impl fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("quota exceeded")
    }
}

impl std::error::Error for QuotaExceeded {}

#[instrument(err, ret, fields(botanu.workflow = "billing"))]
fn charge(fail: bool) -> Result<u32, QuotaExceeded> {
    if fail {
        Err(QuotaExceeded)
    } else {
        Ok(12)
    }
}

#[test]
fn err_fails_the_run_and_ret_records_the_ok_value() {
    let cap = capture_content(|| charge(true));
    let run = cap.run();
    assert_eq!(run.run_status(), Some("failure"), "{cap}");
    assert!(run.is_error());
    assert!(run.event(k::EVENT_EXCEPTION).is_some(), "{cap}");
    assert!(!run.has_attr(k::EVAL_OUTPUT_CONTENT), "no return value on the error path");

    let cap = capture_content(|| charge(false));
    let run = cap.run();
    assert_eq!(run.run_status(), Some("success"));
    assert_eq!(run.attr_str(k::EVAL_OUTPUT_CONTENT), Some("12"));
}

#[instrument(ret)]
fn helper() -> u32 {
    99
}

#[instrument(level = "debug", ret, fields(botanu.workflow = "quiet"))]
fn quiet_run() -> &'static str {
    helper();
    "done"
}

#[test]
fn only_the_run_function_own_return_is_its_output_whatever_the_level() {
    let cap = capture_content(quiet_run);
    let run = cap.run();
    // A DEBUG return event still counts (span events below INFO are not kept, content is).
    assert_eq!(run.attr_str(k::EVAL_OUTPUT_CONTENT), Some(r#""done""#), "{cap}");
    assert_eq!(run.attr_str(k::EVAL_INPUT_CONTENT), None, "no arguments, no input content");
}

#[test]
fn content_set_by_the_code_wins_over_arguments() {
    #[instrument(fields(botanu.workflow = "explicit"))]
    fn explicit(raw: &str) {
        tracing::Span::current().set_input_content("what the code chose");
    }
    let cap = capture_content(|| explicit("raw argument"));
    assert_eq!(cap.run().attr_str(k::EVAL_INPUT_CONTENT), Some("what the code chose"));
}

#[test]
fn run_span_macro_fields_stay_attributes() {
    let cap = capture(|| run_span!(workflow = "macro", tier = "gold").in_scope(|| {}));
    assert_eq!(cap.run().attr_str("tier"), Some("gold"));
    assert!(!cap.run().has_attr(k::EVAL_INPUT_CONTENT));
}

#[instrument(fields(botanu.workflow = "async-support"))]
async fn handle_async(question: String) -> usize {
    tokio::task::yield_now().await;
    complete("gpt-4o-mini", &question).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_fn_instrumented_as_a_run() {
    let cap = Capture::new()
        .with_builder(|b| b.with_content_capture_rate(1.0))
        .run_async(async { handle_async("hello".to_owned()).await })
        .await
        .1;
    let run = cap.run();
    assert_eq!(run.attr_str(k::WORKFLOW), Some("async-support"));
    assert_eq!(run.attr_str(k::EVAL_INPUT_CONTENT), Some(r#"question="hello""#));
    assert_eq!(cap.children_of(run).len(), 1);

    let cap = capture_async(async { handle_async("hello".to_owned()).await }).await;
    assert!(!cap.run().has_attr(k::EVAL_INPUT_CONTENT) && !cap.run().has_attr("question"));
}
