//! `botanu::testing`: captures are isolated per test (threads, concurrent futures, multi-thread runtime),
//! flushed before reading, and their look-ups fail with a listing of what was exported.
#![cfg(feature = "testing")]

use std::time::Duration;

use botanu::prelude::*;
use botanu::semconv as k;
use botanu::testing::{capture, capture_async, Capture};
use tracing::Instrument as _;

fn handler(workflow: &str, calls: usize) {
    run_span!(workflow = workflow).in_scope(|| {
        step_span!("retrieve").in_scope(|| {
            for _ in 0..calls {
                llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens {
                    input: 100,
                    output: 10,
                    ..Default::default()
                });
            }
        });
    });
}

#[test]
fn parallel_captures_see_only_their_own_spans() {
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let workflow = format!("w{i}");
                let cap = capture(|| handler(&workflow, i + 1));
                assert_eq!(cap.run().attr_str(k::WORKFLOW), Some(workflow.as_str()), "{cap}");
                assert_eq!(cap.llm_calls().len(), i + 1, "{cap}");
                assert_eq!(cap.spans().len(), i + 3, "{cap}");
            })
        })
        .collect();
    for t in threads {
        t.join().expect("capture thread");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_async_captures_on_a_multi_thread_runtime_are_isolated() {
    let one = |workflow: &'static str, calls: usize| {
        // The run span is made inside the captured future: made outside, it would be made before the
        // capture's subscriber is in place, and belong to no pipeline.
        capture_async(async move {
            async move {
                for _ in 0..calls {
                    // Hops between worker threads: the capture's subscriber travels with the future.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    llm_span!(provider = "anthropic", model = "claude-sonnet-4-5").set_tokens(Tokens {
                        input: 5,
                        output: 5,
                        ..Default::default()
                    });
                }
            }
            .instrument(run_span!(workflow = workflow))
            .await
        })
    };
    let (a, b) = tokio::join!(one("first", 2), one("second", 3));
    assert_eq!(a.run().attr_str(k::WORKFLOW), Some("first"));
    assert_eq!(a.llm_calls().len(), 2, "{a}");
    assert_eq!(b.run().attr_str(k::WORKFLOW), Some("second"));
    assert_eq!(b.llm_calls().len(), 3, "{b}");
    // Each capture is whole when it returns: its run ended and is flushed.
    assert_eq!(b.children_of(b.run()).len(), 3);
    assert!(b.llm_calls().iter().all(|c| b.is_in_run(c, b.run())));
}

#[test]
fn structure_outcome_cost_and_metrics_are_read_from_the_export() {
    let cap = capture(|| handler("support", 2));
    let run = cap.run();
    assert_eq!(run.run_status(), Some("success"));
    assert!(!run.is_error());
    let step = cap.span("botanu.step/retrieve");
    assert_eq!(cap.children_of(run).len(), 1);
    assert_eq!(cap.children_of(step).len(), 2);
    assert_eq!(cap.descendants_of(run).len(), 3);
    let call = cap.llm_calls()[0];
    assert_eq!(call.attr_i64(k::GEN_AI_USAGE_INPUT_TOKENS), Some(100));
    assert_eq!(call.attr_str(k::STEP), Some("retrieve"));
    let per_call = call.cost_usd().expect("gpt-4o is in the bundled catalog");
    let rolled_up = run.cost_usd().expect("the run rolls its calls up");
    assert!((rolled_up - 2.0 * per_call).abs() < 1e-12, "{rolled_up} vs 2 × {per_call}");
    assert_eq!(run.attr_i64(k::RUN_LLM_CALLS), Some(2));

    let tokens = cap.metric("gen_ai.client.token.usage");
    assert_eq!(tokens.unit(), "{token}");
    let input = tokens.points_where("gen_ai.token.type", "input");
    assert_eq!((input.len(), input[0].count, input[0].sum), (1, 2, 200.0));
    assert!(cap.metric_names().contains(&"gen_ai.client.operation.duration".to_owned()));
    assert!(cap.find_metric("no.such.metric").is_none());
}

#[test]
fn a_failed_run_and_an_emitted_outcome_are_outcomes() {
    let cap = capture(|| {
        run_span!(workflow = "failing").in_scope(|| tracing::error!(error.type = "Timeout", "upstream timed out"));
    });
    assert_eq!(cap.run().run_status(), Some("failure"));
    assert!(cap.run().is_error());

    let cap = capture(|| {
        run_span!(workflow = "partial").in_scope(|| {
            botanu::emit_outcome("partial", botanu::Outcome::default()).expect("a valid status");
        });
    });
    assert_eq!(cap.run().run_status(), Some("partial"));
    // Not a run: no outcome.
    assert_eq!(cap.spans().iter().filter(|s| s.run_status().is_some()).count(), 1);
}

#[test]
fn builder_options_reach_the_pipeline() {
    let (value, cap) = Capture::new()
        .with_builder(|b| b.with_content_capture_rate(1.0))
        .with_builder(|b| b.with_pricing_enabled(false))
        .run(|| {
            run_span!(workflow = "chat").in_scope(|| {
                let llm = llm_span!(provider = "openai", model = "gpt-4o");
                llm.set_input_content(&format!("reach me at {}@{}", "carol", "example.com"));
                llm.set_tokens(Tokens { input: 1, output: 1, ..Default::default() });
                7
            })
        });
    assert_eq!(value, 7);
    let call = cap.llm_calls()[0];
    assert_eq!(call.attr_str(k::EVAL_INPUT_CONTENT), Some("reach me at [REDACTED]"));
    assert_eq!(call.cost_usd(), None, "pricing is off");
    assert_eq!(cap.run().attr_str(k::ENVIRONMENT), Some(botanu::testing::TEST_ENVIRONMENT));
}

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("should panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn failed_look_ups_list_what_was_exported() {
    let cap = capture(|| {
        handler("one", 1);
        handler("two", 0);
    });
    let message = panic_message(|| {
        cap.run();
    });
    assert!(message.contains("expected exactly one run, found 2"), "{message}");
    assert!(message.contains("\"botanu.run/one\""), "{message}");
    assert!(message.contains("\"chat gpt-4o\""), "{message}");
    assert!(message.contains("botanu.workflow = two"), "{message}");

    let message = panic_message(|| {
        cap.span("botanu.step/missing");
    });
    assert!(message.contains("found no span named \"botanu.step/missing\""), "{message}");
    let message = panic_message(|| {
        cap.metric("no.such.metric");
    });
    assert!(message.contains("gen_ai.client.token.usage"), "{message}");
    assert_eq!(cap.run_of("two").attr_str(k::WORKFLOW), Some("two"));
}

#[test]
fn a_session_spans_several_calls_and_shows_its_guard() {
    let session = Capture::new().start();
    session.in_scope(|| handler("support", 1));
    session.in_scope(|| handler("support", 2));
    let row = session.guard().cost_summary().workflow("support").cloned().expect("two runs closed");
    assert_eq!((row.runs, row.llm_calls), (2, 3));
    let cap = session.finish();
    assert_eq!(cap.runs().len(), 2);
    let first = cap.runs()[0];
    // A span's Display lists it, for assertion messages.
    let listing = first.to_string();
    assert!(listing.contains("botanu.run/support") && listing.contains("botanu.workflow = support"), "{listing}");
}

/// A capture can itself be spawned (`tokio::spawn` needs a `Send` future).
#[tokio::test]
async fn a_capture_future_is_send() {
    fn send<T: Send>(value: T) -> T {
        value
    }
    let cap = tokio::spawn(send(capture_async(async { handler("spawned", 1) }))).await.expect("task");
    assert_eq!(cap.llm_calls().len(), 1);
    let with_settings = Capture::new().with_builder(|b| b.with_pricing_enabled(false)).run_async(async {});
    let ((), cap) = tokio::spawn(send(with_settings)).await.expect("task");
    assert!(cap.spans().is_empty());
}
