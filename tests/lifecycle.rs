//! How a run ends: failed, or the outcome it emitted (with the reference SDK's event keys), and under
//! deadlines and cancellation — its future dropped, timed out, or completed past its deadline. Read from
//! the exported run span (`botanu.outcome.status`, the `botanu.run.completed` status,
//! `botanu.outcome.reason`, the `botanu.outcome_emitted` event).
mod common;

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use botanu::prelude::*;
use botanu::semconv as k;
use botanu::RunFutureExt;
use common::*;
use opentelemetry_sdk::trace::SpanData;
use tracing::instrument::WithSubscriber;

fn epoch_ms(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as i64
}

/// The one run span of `workflow`.
#[track_caller]
fn run_of<'a>(spans: &'a [SpanData], workflow: &str) -> &'a SpanData {
    let runs: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.name.starts_with(k::RUN_SPAN_PREFIX) && str_attr(s, k::WORKFLOW) == workflow)
        .collect();
    assert_eq!(runs.len(), 1, "runs of {workflow} in {:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    runs[0]
}

/// The run's outcome as the backend sees it: `botanu.outcome.status` and the `botanu.run.completed`
/// status, which must agree.
#[track_caller]
fn ended(run: &SpanData) -> (String, String) {
    let outcome = attr(run, k::OUTCOME_STATUS).map(|v| v.to_string()).unwrap_or_default();
    let completed = event_str(one_event(run, k::EVENT_RUN_COMPLETED), k::RUN_EVENT_STATUS).to_owned();
    (outcome, completed)
}

#[tokio::test]
async fn a_run_dropped_by_a_timeout_past_its_deadline_ends_timeout() {
    let h = Harness::new();
    let deadline = epoch_ms(SystemTime::now() + Duration::from_millis(20));
    let run = async { tokio::time::sleep(Duration::from_secs(30)).await }
        .run_in(h.run(|| run_span!(workflow = "slow", deadline = deadline)));
    let timed_out = tokio::time::timeout(Duration::from_millis(60), run.with_subscriber(h.dispatch.clone())).await;
    assert!(timed_out.is_err(), "the timeout fired");

    let spans = h.spans();
    let run = run_of(&spans, "slow");
    assert_eq!(ended(run), ("timeout".to_owned(), k::RUN_STATUS_TIMEOUT.to_owned()));
    assert_eq!(str_attr(run, k::OUTCOME_REASON), "deadline exceeded");
    assert_eq!(int_attr(run, k::RUN_DEADLINE_TS), deadline);
    let emitted = one_event(run, k::EVENT_OUTCOME_EMITTED);
    assert_eq!(event_str(emitted, k::OUTCOME_EVENT_STATUS), "timeout");
    // A timeout is an outcome, not an error of the run's own work: the status stays OK, no exception.
    assert!(!is_error(run));
    assert!(events_named(run, k::EVENT_EXCEPTION).is_empty());
}

#[tokio::test]
async fn a_run_dropped_within_its_deadline_ends_canceled() {
    let h = Harness::new();
    let deadline = epoch_ms(SystemTime::now() + Duration::from_secs(600));
    for (workflow, span) in [
        ("with-deadline", h.run(|| run_span!(workflow = "with-deadline", deadline = deadline))),
        ("without-deadline", h.run(|| run_span!(workflow = "without-deadline"))),
    ] {
        let run = async { std::future::pending::<()>().await }.run_in(span);
        // Polled once (the work started), then dropped: a `tokio::time::timeout` shorter than the deadline.
        let timed_out = tokio::time::timeout(Duration::from_millis(5), run.with_subscriber(h.dispatch.clone())).await;
        assert!(timed_out.is_err(), "{workflow}");
    }

    let spans = h.spans();
    for workflow in ["with-deadline", "without-deadline"] {
        let run = run_of(&spans, workflow);
        assert_eq!(ended(run), ("canceled".to_owned(), k::RUN_STATUS_CANCELED.to_owned()), "{workflow}");
        assert_eq!(str_attr(run, k::OUTCOME_REASON), "dropped before completion");
        assert!(!is_error(run), "{workflow}");
    }
}

#[tokio::test]
async fn a_run_dropped_before_its_first_poll_ends_canceled() {
    let h = Harness::new();
    let run = async {}.run_in(h.run(|| run_span!(workflow = "never-polled")));
    drop(run);
    let spans = h.spans();
    assert_eq!(ended(run_of(&spans, "never-polled")).0, "canceled");
}

#[tokio::test]
async fn an_outcome_emitted_before_the_drop_wins() {
    let h = Harness::new();
    let deadline = epoch_ms(SystemTime::now() + Duration::from_millis(10));
    let work = async {
        botanu::emit_outcome("partial", botanu::Outcome { reason: Some("half done".into()), ..Default::default() })
            .expect("valid status");
        tokio::time::sleep(Duration::from_secs(30)).await;
    };
    let run = work.run_in(h.run(|| run_span!(workflow = "emitted", deadline = deadline)));
    let timed_out = tokio::time::timeout(Duration::from_millis(50), run.with_subscriber(h.dispatch.clone())).await;
    assert!(timed_out.is_err());

    let spans = h.spans();
    let run = run_of(&spans, "emitted");
    assert_eq!(ended(run), ("partial".to_owned(), k::RUN_STATUS_PARTIAL.to_owned()));
    assert_eq!(str_attr(run, k::OUTCOME_REASON), "half done");
    assert_eq!(events_named(run, k::EVENT_OUTCOME_EMITTED).len(), 1, "only the user's outcome");
}

#[tokio::test]
async fn a_completed_run_ends_success_and_past_its_deadline_timeout() {
    let h = Harness::new();
    let far = epoch_ms(SystemTime::now() + Duration::from_secs(600));
    let output = async { 7 }
        .run_in(h.run(|| run_span!(workflow = "in-time", deadline = far)))
        .with_subscriber(h.dispatch.clone())
        .await;
    assert_eq!(output, 7, "the wrapper passes the output through");
    // A run that completes (or a synchronous run that closes) after its deadline, with no outcome.
    let past = epoch_ms(SystemTime::now()) - 1;
    async {}.run_in(h.run(|| run_span!(workflow = "late", deadline = past))).with_subscriber(h.dispatch.clone()).await;
    h.run(|| run_span!(workflow = "late-sync", deadline = past).in_scope(|| {}));

    let spans = h.spans();
    let in_time = run_of(&spans, "in-time");
    assert_eq!(ended(in_time), (String::new(), k::RUN_STATUS_SUCCESS.to_owned()));
    assert!(events_named(in_time, k::EVENT_OUTCOME_EMITTED).is_empty());
    for workflow in ["late", "late-sync"] {
        let run = run_of(&spans, workflow);
        assert_eq!(ended(run), ("timeout".to_owned(), k::RUN_STATUS_TIMEOUT.to_owned()), "{workflow}");
    }
}

#[test]
fn a_dropped_step_does_not_settle_its_run() {
    let h = Harness::new();
    // Polled and dropped under the harness's dispatcher: the Registry releases a closed child's hold on
    // its parent through the current dispatcher, so the run closes only if its children close there.
    h.run(|| {
        let outer = run_span!(workflow = "outer");
        // A step's future, and a plain span's, dropped half-way: the run goes on and ends as it ends.
        for span in [outer.in_scope(|| step_span!("fetch")), outer.in_scope(|| tracing::info_span!("plain"))] {
            let mut future = Box::pin(std::future::pending::<()>().run_in(span));
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(future.as_mut().poll(&mut cx).is_pending());
        }
    });

    let spans = h.spans();
    let run = run_of(&spans, "outer");
    assert_eq!(ended(run), (String::new(), k::RUN_STATUS_SUCCESS.to_owned()));
    assert!(events_named(run, k::EVENT_OUTCOME_EMITTED).is_empty());
}

#[tokio::test]
async fn a_caller_deadline_from_baggage_times_out_a_continued_run() {
    use std::collections::HashMap;
    let h = Harness::with(|b| b.with_propagation_mode(botanu::config::PropagationMode::Full));
    let past = epoch_ms(SystemTime::now()) - 1;
    let mut headers: HashMap<String, String> = HashMap::new();
    h.run(|| {
        run_span!(workflow = "caller", kind = "client", deadline = past)
            .in_scope(|| botanu::propagation::inject(&mut headers))
    });
    assert!(headers["baggage"].contains("botanu.deadline="), "{}", headers["baggage"]);

    let remote = botanu::propagation::extract(&headers);
    let span = h.run(|| run_span!(workflow = "callee"));
    span.set_remote_parent(&remote, botanu::propagation::RunRelation::Continue);
    drop(async {}.run_in(span));

    let spans = h.spans();
    let continued = spans
        .iter()
        .find(|s| s.name.starts_with(k::RUN_SPAN_PREFIX) && kind(s) == opentelemetry::trace::SpanKind::Server)
        .expect("the continued run");
    assert_eq!(ended(continued).0, "timeout");
}

#[cfg(feature = "testing")]
#[test]
fn the_run_attempts_metric_agrees_with_the_completed_event() {
    let h = Harness::new();
    h.run(|| {
        drop(async {}.run_in(run_span!(workflow = "dropped")));
        let past = epoch_ms(SystemTime::now()) - 1;
        run_span!(workflow = "late", deadline = past).in_scope(|| {});
    });
    let attempts = counter_values(&h.metrics(), k::metrics::RUN_ATTEMPTS);
    let series = |workflow: &str, status: &str| {
        attr_set(&[(k::WORKFLOW, workflow), ("status", status), (k::metrics::RUN_RETRY, "false")])
    };
    assert_eq!(attempts.get(&series("dropped", k::RUN_STATUS_CANCELED)), Some(&1), "{attempts:?}");
    assert_eq!(attempts.get(&series("late", k::RUN_STATUS_TIMEOUT)), Some(&1), "{attempts:?}");
}

#[tokio::test]
async fn a_run_whose_future_panics_fails() {
    let h = Harness::new();
    let run = async {
        tokio::task::yield_now().await;
        panic!("the handler panicked");
    }
    .run_in(h.run(|| run_span!(workflow = "panics")));
    let joined = tokio::spawn(run.with_subscriber(h.dispatch.clone())).await;
    assert!(joined.is_err_and(|e| e.is_panic()));

    let spans = h.spans();
    let run = run_of(&spans, "panics");
    assert!(is_error(run));
    assert_eq!(str_attr(run, k::ERROR_TYPE), "panic");
    assert_eq!(ended(run), (String::new(), k::RUN_STATUS_FAILURE.to_owned()));
}

#[test]
fn run_status_is_failure_or_the_outcome() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "failing").in_scope(|| tracing::error!("boom"));
        run_span!(workflow = "partial").in_scope(|| {
            botanu::emit_outcome("partial", botanu::Outcome::default()).expect("a known status");
        });
        run_span!(workflow = "timed-out").in_scope(|| {
            botanu::emit_outcome("timeout", botanu::Outcome::default()).expect("a known status");
        });
    });
    let spans = h.spans();
    let status =
        |name: &str| event_str(one_event(find(&spans, name), k::EVENT_RUN_COMPLETED), k::RUN_EVENT_STATUS).to_owned();
    assert_eq!(status("botanu.run/failing"), "failure");
    assert_eq!(status("botanu.run/partial"), "partial");
    assert_eq!(status("botanu.run/timed-out"), "timeout");
}

#[test]
fn outcome_event_uses_the_reference_keys() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "outcome-keys").in_scope(|| {
            botanu::emit_outcome(
                "failed",
                botanu::Outcome {
                    value_type: Some("tickets".into()),
                    value_amount: Some(2.0),
                    confidence: Some(0.5),
                    reason: Some("escalated".into()),
                    error_type: Some("Escalation".into()),
                    ..Default::default()
                },
            )
            .expect("a known status");
            botanu::emit_outcome("success", botanu::Outcome::default()).expect("a known status");
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/outcome-keys");
    let events = events_named(run, k::EVENT_OUTCOME_EMITTED);
    assert_eq!(events.len(), 2);
    let full = events[0];
    assert_eq!(event_str(full, "value_type"), "tickets");
    assert_eq!(event_f64(full, "value_amount"), 2.0);
    assert_eq!(event_f64(full, "confidence"), 0.5);
    assert_eq!(event_str(full, "reason"), "escalated");
    assert_eq!(event_str(full, "error_type"), "Escalation");
    assert_eq!(event_str(full, "status"), "failed");
    assert!(full.attributes.iter().all(|kv| !kv.key.as_str().starts_with("botanu.")), "{:?}", full.attributes);
    // Only what was given.
    let bare = events[1];
    let keys: Vec<_> = bare.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, vec!["status"]);
    // The span attributes keep the long keys.
    assert_eq!(str_attr(run, k::OUTCOME_VALUE_TYPE), "tickets");
}
