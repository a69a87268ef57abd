//! Retries: a retry is a new run that names the run it retries, keeps the chain's root and business
//! event, and counts its attempt — in process (`run_span!(retry_of = …)`, `span.retry_of(…)`) and across
//! a queue (`RunRelation::Retry`). Every assertion reads the exported run spans.
mod common;

use std::collections::BTreeMap;

use botanu::config::PropagationMode;
use botanu::prelude::*;
use botanu::propagation::{self, RunRelation};
use botanu::semconv as k;
use botanu::RunAttempt;
use common::*;
use opentelemetry_sdk::trace::SpanData;

/// The exported run span with run id `run_id`.
#[track_caller]
fn run_with_id<'a>(spans: &'a [SpanData], run_id: &str) -> &'a SpanData {
    find_where(spans, &format!("run {run_id}"), |s| {
        s.name.starts_with(k::RUN_SPAN_PREFIX) && str_attr(s, k::RUN_ID) == run_id
    })
}

/// A run's place in its chain as exported: (root, attempt, retry_of).
fn chain(run: &SpanData) -> (String, i64, Option<String>) {
    (
        str_attr(run, k::ROOT_RUN_ID).to_owned(),
        int_attr(run, k::ATTEMPT),
        attr(run, k::RETRY_OF_RUN_ID).map(|v| v.to_string()),
    )
}

#[test]
fn a_retry_in_process_is_a_new_run_in_the_same_chain() {
    let h = Harness::new();
    let ids: Vec<String> = h.run(|| {
        let mut previous: Option<RunAttempt> = None;
        let mut ids = Vec::new();
        for attempt in 1..=3 {
            let run = run_span!(workflow = "support", event_id = "T-42", retry_of = previous);
            run.in_scope(|| {
                llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens {
                    input: 10,
                    output: 1,
                    ..Default::default()
                });
                if attempt < 3 {
                    run.set_error_type("RateLimitError", "429");
                }
            });
            ids.push(botanu::RunAttempt::of(&run).expect("a run").run_id);
            previous = RunAttempt::of(&run);
        }
        ids
    });

    let spans = h.spans();
    let runs: Vec<&SpanData> = ids.iter().map(|id| run_with_id(&spans, id)).collect();
    assert_eq!(chain(runs[0]), (ids[0].clone(), 1, None));
    assert_eq!(chain(runs[1]), (ids[0].clone(), 2, Some(ids[0].clone())));
    assert_eq!(chain(runs[2]), (ids[0].clone(), 3, Some(ids[1].clone())));
    for run in &runs {
        assert!(is_uuid_v7(str_attr(run, k::RUN_ID)));
        assert_eq!(str_attr(run, k::EVENT_ID), "T-42", "one business event");
        assert_eq!(str_attr(run, k::WORKFLOW), "support");
        assert_eq!(run.name, "botanu.run/support");
        let started = one_event(run, k::EVENT_RUN_STARTED);
        assert_eq!(event_str(started, k::RUN_EVENT_RUN_ID), str_attr(run, k::RUN_ID));
    }
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    // Each attempt's LLM call is attributed to its own attempt.
    let llm_runs: Vec<&str> = find_all(&spans, "chat gpt-4o").iter().map(|s| str_attr(s, k::RUN_ID)).collect();
    assert_eq!(llm_runs.len(), 3);
    for id in &ids {
        assert!(llm_runs.contains(&id.as_str()));
    }
    // Attempts counted per root run: the backend groups run spans by `botanu.root_run_id`.
    let mut per_root: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for run in spans.iter().filter(|s| s.name.starts_with(k::RUN_SPAN_PREFIX)) {
        per_root.entry(str_attr(run, k::ROOT_RUN_ID)).or_default().push(int_attr(run, k::ATTEMPT));
    }
    let attempts: Vec<i64> = per_root
        .remove(ids[0].as_str())
        .map(|mut a| {
            a.sort_unstable();
            a
        })
        .expect("the chain's root");
    assert_eq!(attempts, [1, 2, 3]);
    assert!(per_root.is_empty());
}

#[test]
fn a_retry_takes_the_previous_event_and_workflow_unless_it_gives_its_own() {
    let h = Harness::new();
    let (first, by_span, own_event, no_event) = h.run(|| {
        // No event id: the first run's id stands in, and the retries share it.
        let first = run_span!(workflow = "ingest");
        let by_span = run_span!(event_id = "ignored-later");
        by_span.retry_of(&first);
        let own_event = run_span!(workflow = "ingest-v2", retry_of = &first, event_id = "E-2");
        let no_event = run_span!(retry_of = &first);
        let id = |s: &tracing::Span| RunAttempt::of(s).expect("a run").run_id;
        (id(&first), id(&by_span), id(&own_event), id(&no_event))
    });

    let spans = h.spans();
    let by_span = run_with_id(&spans, &by_span);
    assert_eq!(chain(by_span), (first.clone(), 2, Some(first.clone())));
    assert_eq!(str_attr(by_span, k::WORKFLOW), "ingest", "the previous run's workflow");
    assert_eq!(by_span.name, "botanu.run/ingest");
    assert_eq!(str_attr(by_span, k::EVENT_ID), "ignored-later", "its own event id");

    let own_event = run_with_id(&spans, &own_event);
    assert_eq!(str_attr(own_event, k::WORKFLOW), "ingest-v2");
    assert_eq!(str_attr(own_event, k::EVENT_ID), "E-2");
    assert_eq!(chain(own_event).1, 2);

    let no_event = run_with_id(&spans, &no_event);
    assert_eq!(str_attr(no_event, k::EVENT_ID), first, "the first attempt's stand-in event id");
    assert_eq!(str_attr(no_event, k::WORKFLOW), "ingest");
}

#[test]
fn a_nested_retry_keeps_its_enclosing_run_and_root() {
    let h = Harness::new();
    let (outer, first, retry) = h.run(|| {
        let outer = run_span!(workflow = "order");
        outer.in_scope(|| {
            let first = run_span!(workflow = "charge");
            let retry = run_span!(workflow = "charge", retry_of = &first);
            let id = |s: &tracing::Span| RunAttempt::of(s).expect("a run").run_id;
            (id(&outer), id(&first), id(&retry))
        })
    });
    let spans = h.spans();
    let retry = run_with_id(&spans, &retry);
    assert_eq!(chain(retry), (outer.clone(), 2, Some(first)));
    assert_eq!(str_attr(retry, k::PARENT_RUN_ID), outer);
}

#[test]
fn retry_of_a_span_outside_any_run_or_of_nothing_is_a_first_attempt() {
    let h = Harness::new();
    let (a, b) = h.run(|| {
        let plain = tracing::info_span!("not a run");
        let none: Option<RunAttempt> = None;
        let a = run_span!(workflow = "w", retry_of = &plain);
        let b = run_span!(workflow = "w", retry_of = none);
        (RunAttempt::of(&a).expect("a run").run_id, RunAttempt::of(&b).expect("a run").run_id)
    });
    let spans = h.spans();
    for id in [a, b] {
        let run = run_with_id(&spans, &id);
        assert_eq!(chain(run), (id.clone(), 1, None));
    }
}

/// A consumer of a message: extracts its context and starts its run as `relation` to the carried run.
/// It fails, and (like a dead-letter redrive) re-publishes the message with its own run's context.
fn consume(h: &Harness, message: &[(String, String)], relation: RunRelation) -> (String, Vec<(String, String)>) {
    h.run(|| {
        let remote = propagation::extract(&message.to_vec());
        let run = run_span!(workflow = "process", kind = "consumer");
        run.set_remote_parent(&remote, relation);
        run.in_scope(|| {
            run.set_error_type("Timeout", "downstream timed out");
            let mut republished = Vec::new();
            messaging_span!(system = "sqs", operation = "publish", destination = "jobs")
                .in_scope(|| propagation::inject(&mut republished));
            (RunAttempt::of(&run).expect("a run").run_id, republished)
        })
    })
}

#[test]
fn a_retry_chain_across_a_queue_in_full_mode() {
    let h = Harness::with(|b| b.with_propagation_mode(PropagationMode::Full));
    let (producer, message) = h.run(|| {
        let run = run_span!(workflow = "ingest", event_id = "doc-7", kind = "producer");
        run.in_scope(|| {
            let mut message = Vec::new();
            propagation::inject(&mut message);
            (RunAttempt::of(&run).expect("a run").run_id, message)
        })
    });
    // The first consumer runs a child run of the producer's; it fails and re-publishes.
    let (c1, message) = consume(&h, &message, RunRelation::Child);
    // The message comes back: each later delivery is a retry of the run it carries.
    let (c2, message) = consume(&h, &message, RunRelation::Retry);
    let baggage = message.iter().find(|(key, _)| key == "baggage").map(|(_, v)| v.as_str()).unwrap_or_default();
    assert!(baggage.contains(&format!("botanu.retry_of_run_id={c1}")), "{baggage}");
    assert!(baggage.contains("botanu.attempt=2"), "{baggage}");
    let (c3, _) = consume(&h, &message, RunRelation::Retry);

    let spans = h.spans();
    let (c1, c2, c3) = (run_with_id(&spans, &c1), run_with_id(&spans, &c2), run_with_id(&spans, &c3));
    assert_eq!(chain(c1), (producer.clone(), 1, None));
    assert_eq!(chain(c2), (producer.clone(), 2, Some(str_attr(c1, k::RUN_ID).to_owned())));
    assert_eq!(chain(c3), (producer.clone(), 3, Some(str_attr(c2, k::RUN_ID).to_owned())));
    for run in [c1, c2, c3] {
        // Siblings under the producer's run, of one business event, in the producer's trace.
        assert_eq!(str_attr(run, k::PARENT_RUN_ID), producer);
        assert_eq!(str_attr(run, k::EVENT_ID), "doc-7");
        assert_eq!(run.span_context.trace_id(), c1.span_context.trace_id());
    }
    // A retry keeps the workflow of the run it retries (the consumer's own, here).
    assert_eq!(str_attr(c3, k::WORKFLOW), "process");
}

#[test]
fn a_redelivered_message_in_lean_mode_retries_the_run_it_carries() {
    let h = Harness::new();
    let (producer, message) = h.run(|| {
        let run = run_span!(workflow = "ingest", kind = "producer");
        run.in_scope(|| {
            let mut message = Vec::new();
            propagation::inject(&mut message);
            (RunAttempt::of(&run).expect("a run").run_id, message)
        })
    });
    let (retry, _) = consume(&h, &message, RunRelation::Retry);

    let spans = h.spans();
    let retry = run_with_id(&spans, &retry);
    assert_ne!(str_attr(retry, k::RUN_ID), producer, "a retry is a run of its own");
    assert_eq!(chain(retry), (producer.clone(), 2, Some(producer.clone())));
    assert_eq!(str_attr(retry, k::WORKFLOW), "ingest", "the carried run's workflow");
    // Lean mode sent no event id: none is made up from the retry's own run id.
    assert_absent(retry, k::EVENT_ID);
}

#[cfg(feature = "testing")]
#[test]
fn run_attempts_are_counted_per_workflow_status_and_retry() {
    let h = Harness::new();
    h.run(|| {
        let mut previous: Option<RunAttempt> = None;
        for attempt in 1..=3 {
            let run = run_span!(workflow = "support", retry_of = previous);
            if attempt < 3 {
                run.set_error_type("RateLimitError", "429");
            }
            previous = RunAttempt::of(&run);
        }
        run_span!(workflow = "support").in_scope(|| {});
    });

    let attempts = counter_values(&h.metrics(), botanu::semconv::metrics::RUN_ATTEMPTS);
    let series = |status: &str, retry: &str| {
        attr_set(&[(k::WORKFLOW, "support"), ("status", status), (botanu::semconv::metrics::RUN_RETRY, retry)])
    };
    assert_eq!(attempts.get(&series("failure", "false")), Some(&1), "{attempts:?}");
    assert_eq!(attempts.get(&series("failure", "true")), Some(&1), "{attempts:?}");
    assert_eq!(attempts.get(&series("success", "true")), Some(&1), "{attempts:?}");
    assert_eq!(attempts.get(&series("success", "false")), Some(&1), "{attempts:?}");
    // Two business events (roots), four attempts.
    assert_eq!(attempts.values().sum::<u64>(), 4);
}
