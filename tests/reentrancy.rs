//! User code that calls back into botanu while botanu formats one of its values (issue 28): a value's
//! `Debug` that calls a setter, reads the current run, records on the span, logs or opens a span must
//! return — botanu holds no lock of the span while user code runs — and what it did must be exported.
//!
//! Each case runs on its own thread under a watchdog: a case that does not return fails the test
//! (naming the case) instead of hanging it.
mod common;

use std::fmt;
use std::sync::mpsc;
use std::time::Duration;

use botanu::prelude::*;
use botanu::semconv as k;
use botanu::{Outcome, Tokens};
use common::{attr, find, int_attr, str_attr, Harness};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use tracing::field::{debug, Empty};
use tracing::Span;

/// How long one case may take; a deadlock never returns, a working case takes milliseconds.
const WATCHDOG: Duration = Duration::from_secs(20);

/// A value whose `Debug` runs `call` first: user code that calls back into botanu.
struct CallsBack(fn());

impl fmt::Debug for CallsBack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0)();
        f.write_str("called back")
    }
}

/// A re-entrant call, and what it must have left on the exported spans.
struct Case {
    name: &'static str,
    call: fn(),
    check: fn(&[SpanData]),
}

const LLM: &str = "chat reentrant";

fn llm(spans: &[SpanData]) -> &SpanData {
    find(spans, LLM)
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "set_error_type",
            call: || {
                Span::current().set_error_type("Reentered", "from a Debug impl");
            },
            check: |spans| assert_eq!(str_attr(llm(spans), k::ERROR_TYPE), "Reentered"),
        },
        Case {
            name: "add_metadata",
            call: || {
                Span::current().add_metadata("from_debug", "yes");
            },
            check: |spans| assert_eq!(str_attr(llm(spans), "botanu.from_debug"), "yes"),
        },
        Case {
            name: "emit_outcome",
            call: || {
                botanu::emit_outcome("success", Outcome::default()).expect("a valid status");
            },
            check: |spans| {
                assert!(llm(spans).events.iter().any(|e| e.name == k::EVENT_OUTCOME_EMITTED));
                assert_eq!(str_attr(find(spans, "botanu.run/reentry"), k::OUTCOME_STATUS), "success");
            },
        },
        Case {
            name: "set_tokens",
            call: || {
                Span::current().set_tokens(Tokens { input: 11, output: 7, ..Default::default() });
            },
            check: |spans| {
                assert_eq!(int_attr(llm(spans), k::GEN_AI_USAGE_INPUT_TOKENS), 11);
                assert_eq!(int_attr(llm(spans), k::GEN_AI_USAGE_OUTPUT_TOKENS), 7);
            },
        },
        Case {
            name: "set_baggage",
            call: || {
                // Read back and recorded, so the check can see it (baggage is the run's, not an attribute).
                botanu::set_baggage("plan", "pro");
                if let Some(plan) = botanu::baggage("plan") {
                    Span::current().record("other", plan.as_str());
                }
            },
            check: |spans| assert_eq!(str_attr(llm(spans), "other"), "pro"),
        },
        Case {
            name: "current_run_id",
            call: || {
                if let Some(run_id) = botanu::current_run_id() {
                    Span::current().record("other", run_id.as_str());
                }
            },
            check: |spans| assert_eq!(str_attr(llm(spans), "other"), str_attr(llm(spans), k::RUN_ID)),
        },
        Case {
            name: "record on the same span",
            call: || {
                Span::current().record("other", "recorded from a Debug impl");
            },
            check: |spans| assert_eq!(str_attr(llm(spans), "other"), "recorded from a Debug impl"),
        },
        Case {
            name: "an event",
            call: || tracing::info!("logged from a Debug impl"),
            check: |spans| assert!(llm(spans).events.iter().any(|e| e.name == "logged from a Debug impl")),
        },
        Case {
            name: "a child span",
            call: || {
                tool_span!(name = "lookup").in_scope(|| {});
            },
            check: |spans| {
                let child = spans.iter().find(|s| s.name.contains("lookup")).expect("the child span is exported");
                assert_eq!(child.parent_span_id, llm(spans).span_context.span_id());
            },
        },
    ]
}

/// Runs `case` on a fresh pipeline on its own thread; the exported spans, or `None` if it hung.
fn run_case(case: &Case, record: fn(&Span, &CallsBack)) -> Option<Vec<SpanData>> {
    let call = case.call;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let harness = Harness::new();
        harness.run(|| {
            run_span!(workflow = "reentry").in_scope(|| {
                let span = llm_span!(provider = "openai", model = "reentrant", extra = Empty, other = Empty);
                span.in_scope(|| record(&span, &CallsBack(call)));
            });
        });
        let _ = tx.send(harness.spans());
    });
    rx.recv_timeout(WATCHDOG).ok()
}

#[test]
fn a_value_recorded_on_a_span_may_call_back_into_botanu() {
    let mut hung = Vec::new();
    for case in cases() {
        match run_case(&case, |span, value| {
            span.record("extra", debug(value));
        }) {
            None => hung.push(case.name),
            Some(spans) => {
                assert_eq!(str_attr(llm(&spans), "extra"), "called back", "{}", case.name);
                (case.check)(&spans);
            }
        }
    }
    assert!(hung.is_empty(), "never returned (deadlock) in `Span::record` for: {hung:?}");
}

#[test]
fn an_error_recorded_on_a_span_may_call_back_into_botanu() {
    #[derive(Debug)]
    struct Failing;
    impl fmt::Display for Failing {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            Span::current().add_metadata("from_display", "yes");
            tracing::info!("logged from Display");
            f.write_str("it failed")
        }
    }
    impl std::error::Error for Failing {}
    let case = Case { name: "record_error", call: || {}, check: |_| {} };
    let spans = run_case(&case, |span, _| {
        let error: &(dyn std::error::Error + 'static) = &Failing;
        span.record("extra", error);
    })
    .expect("`Span::record` of an error whose Display calls back into botanu returned");
    let llm = llm(&spans);
    assert_eq!(str_attr(llm, "botanu.from_display"), "yes");
    assert!(llm.events.iter().any(|e| e.name == "logged from Display"));
    assert_eq!(attr(llm, "extra"), Some(&Value::from("it failed")));
}

/// Events were already formatted before any lock (`layer/event.rs`); kept as a regression test.
#[test]
fn an_event_field_may_call_back_into_botanu() {
    let mut hung = Vec::new();
    for case in cases() {
        match run_case(&case, |_, value| tracing::info!(value = ?value, "with a field that calls back")) {
            None => hung.push(case.name),
            Some(spans) => {
                let event = llm(&spans).events.iter().find(|e| e.name == "with a field that calls back");
                let value = event.and_then(|e| e.attributes.iter().find(|kv| kv.key.as_str() == "value"));
                assert_eq!(value.map(|kv| kv.value.to_string()).as_deref(), Some("called back"), "{}", case.name);
                // No check of what the call did: while an event is dispatched, `tracing` itself hands
                // nested calls no subscriber (`Span::current()` is disabled there), so they are no-ops.
                // What matters here is that they return.
            }
        }
    }
    assert!(hung.is_empty(), "never returned (deadlock) in an event for: {hung:?}");
}

/// One `record` mixing plain values with values that need formatting: the plain ones are recorded under
/// the lock in a first pass, the others formatted with no lock held and recorded in a second; every one
/// of them is exported, and the `Debug` value's callback still runs unlocked.
#[test]
fn a_record_mixing_plain_and_formatted_values_exports_all_of_them() {
    #[derive(Debug)]
    struct Boom;
    impl fmt::Display for Boom {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("it broke")
        }
    }
    impl std::error::Error for Boom {}

    let h = Harness::new();
    h.run(|| {
        let span =
            llm_span!(provider = "openai", model = "gpt-4o", app.note = Empty, error.type = Empty, app.count = Empty);
        let err: &(dyn std::error::Error + 'static) = &Boom;
        tracing::record_all!(
            span,
            app.count = 7_u64,
            app.note = debug(CallsBack(|| {
                Span::current().set_request_id("req-from-debug", None);
            })),
            error.type = err
        );
        span.record(k::GEN_AI_RESPONSE_MODEL, "gpt-4o-2024-08-06");
    });
    let spans = h.spans();
    let llm = find(&spans, "chat gpt-4o");
    assert_eq!(int_attr(llm, "app.count"), 7);
    assert_eq!(str_attr(llm, "app.note"), "called back");
    assert_eq!(str_attr(llm, k::GEN_AI_RESPONSE_MODEL), "gpt-4o-2024-08-06");
    assert!(common::is_error(llm), "the recorded error fails the span");
    assert_eq!(attr(llm, k::ERROR_TYPE).map(Value::as_str).as_deref(), Some("Boom"));
}
