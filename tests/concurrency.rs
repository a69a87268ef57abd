//! Concurrent runs never mix: OS threads sharing one dispatcher, tokio tasks on a multi-threaded
//! runtime with `.await` points between child spans, and one run fanned out to several threads; at
//! load (8 threads × 50,000 spans, 1,000 tasks) every span keeps its parent and its run.
mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use botanu::prelude::*;
use botanu::semconv;
use botanu::semconv as k;
use common::*;
use opentelemetry_sdk::trace::SpanData;
use tracing::instrument::WithSubscriber;
use tracing::Instrument;

/// The run span of `workflow` whose own event id is `event_id` (children carry it too, so match the name).
#[track_caller]
fn run_with_event<'a>(spans: &'a [SpanData], workflow: &str, event_id: &str) -> &'a SpanData {
    let name = format!("botanu.run/{workflow}");
    find_where(spans, &format!("{name} with event {event_id}"), |s| {
        s.name == name && attr(s, semconv::EVENT_ID).map(|v| v.as_str() == event_id).unwrap_or(false)
    })
}

/// Children grouped by the integer attribute `key`.
fn group_by_int<'a>(spans: &'a [SpanData], key: &str) -> HashMap<i64, Vec<&'a SpanData>> {
    let mut out: HashMap<i64, Vec<&SpanData>> = HashMap::new();
    for s in spans {
        if let Some(opentelemetry::Value::I64(v)) = attr(s, key) {
            out.entry(*v).or_default().push(s);
        }
    }
    out
}

#[track_caller]
fn assert_in_run(child: &SpanData, run: &SpanData) {
    for key in [semconv::RUN_ID, semconv::WORKFLOW, semconv::EVENT_ID, semconv::CUSTOMER_ID, semconv::ENVIRONMENT] {
        assert_eq!(str_attr(child, key), str_attr(run, key), "{}: {key}", child.name);
    }
    assert_eq!(child.span_context.trace_id(), run.span_context.trace_id(), "{}: trace id", child.name);
}

#[test]
fn concurrent_runs_on_os_threads_do_not_mix() {
    const THREADS: usize = 8;
    const CHILDREN: usize = 20;
    let h = Harness::new();
    let barrier = Arc::new(Barrier::new(THREADS));
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let dispatch = h.dispatch.clone();
            let barrier = barrier.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    barrier.wait();
                    run_span!(
                        workflow = "threads",
                        event_id = %format!("thread-{t}"),
                        customer_id = %format!("cust-{t}"),
                    )
                    .in_scope(|| {
                        for j in 0..CHILDREN {
                            let llm =
                                llm_span!(provider = "openai", model = "gpt-4", thread = t as i64, idx = j as i64);
                            llm.in_scope(std::thread::yield_now);
                            llm.set_tokens(Tokens { input: (t * 100 + j) as u64, output: 1, ..Default::default() });
                        }
                    });
                });
            });
        }
    });
    let spans = h.spans();
    assert_eq!(spans.len(), THREADS * (CHILDREN + 1));
    let runs = find_all(&spans, "botanu.run/threads");
    assert_eq!(runs.len(), THREADS);
    let run_ids: HashSet<&str> = runs.iter().map(|r| str_attr(r, semconv::RUN_ID)).collect();
    let traces: HashSet<_> = runs.iter().map(|r| r.span_context.trace_id()).collect();
    assert_eq!(run_ids.len(), THREADS, "run ids must be unique");
    assert_eq!(traces.len(), THREADS, "each root run has its own trace");

    let by_thread = group_by_int(&spans, "thread");
    assert_eq!(by_thread.len(), THREADS);
    for t in 0..THREADS {
        let run = run_with_event(&spans, "threads", &format!("thread-{t}"));
        assert!(is_root(run));
        assert_eq!(str_attr(run, semconv::CUSTOMER_ID), format!("cust-{t}"));
        let children = &by_thread[&(t as i64)];
        assert_eq!(children.len(), CHILDREN, "thread {t}");
        let mut idxs: Vec<i64> = children.iter().map(|c| int_attr(c, "idx")).collect();
        idxs.sort();
        assert_eq!(idxs, (0..CHILDREN as i64).collect::<Vec<_>>());
        for c in children {
            assert_eq!(c.name, "chat gpt-4");
            assert!(is_child_of(c, run), "thread {t}: wrong parent");
            assert_in_run(c, run);
            assert_eq!(
                int_attr(c, semconv::GEN_AI_USAGE_INPUT_TOKENS),
                t as i64 * 100 + int_attr(c, "idx"),
                "thread {t}: tokens of another span"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_on_tokio_tasks_do_not_mix() {
    const TASKS: usize = 200;
    let h = Harness::new();
    let mut handles = Vec::with_capacity(TASKS);
    for i in 0..TASKS {
        let task = i as i64;
        let run = tracing::dispatcher::with_default(
            &h.dispatch,
            || run_span!(workflow = "tasks", event_id = %format!("task-{i}"), customer_id = %format!("cust-{i}")),
        );
        let fut = async move {
            tokio::task::yield_now().await;
            let a = llm_span!(provider = "openai", model = "gpt-4", task = task, n = 0i64);
            async { tokio::task::yield_now().await }.instrument(a.clone()).await;
            a.set_tokens(Tokens { input: task as u64, output: 0, ..Default::default() });
            drop(a);
            tokio::time::sleep(Duration::from_millis((i % 3) as u64)).await;
            let step = step_span!("work", task = task);
            async {
                let b = llm_span!(provider = "anthropic", model = "claude", task = task, n = 1i64);
                async { tokio::time::sleep(Duration::from_millis(1)).await }.instrument(b).await;
                tokio::task::yield_now().await;
                let c = llm_span!(provider = "anthropic", model = "claude", task = task, n = 2i64);
                async { tokio::task::yield_now().await }.instrument(c).await;
            }
            .instrument(step)
            .await;
            tokio::task::yield_now().await;
            let d = llm_span!(provider = "openai", model = "gpt-4", task = task, n = 3i64);
            async { tokio::task::yield_now().await }.instrument(d).await;
        }
        .instrument(run)
        .with_subscriber(h.dispatch.clone());
        handles.push(tokio::spawn(fut));
    }
    for handle in handles {
        handle.await.expect("task");
    }

    let spans = h.spans();
    assert_eq!(spans.len(), TASKS * 6, "1 run + 1 step + 4 LLM spans per task");
    let runs = find_all(&spans, "botanu.run/tasks");
    assert_eq!(runs.len(), TASKS);
    let run_ids: HashSet<&str> = runs.iter().map(|r| str_attr(r, semconv::RUN_ID)).collect();
    assert_eq!(run_ids.len(), TASKS);
    let traces: HashSet<_> = runs.iter().map(|r| r.span_context.trace_id()).collect();
    assert_eq!(traces.len(), TASKS);

    let by_task = group_by_int(&spans, "task");
    assert_eq!(by_task.len(), TASKS);
    for i in 0..TASKS {
        let run = run_with_event(&spans, "tasks", &format!("task-{i}"));
        assert!(is_root(run));
        let group = &by_task[&(i as i64)];
        assert_eq!(group.len(), 5, "task {i}: step + 4 LLM spans");
        let step = group.iter().find(|s| s.name == "botanu.step/work").expect("step");
        assert!(is_child_of(step, run), "task {i}: step parent");
        assert_in_run(step, run);
        let mut ns = Vec::new();
        for s in group.iter().filter(|s| s.name != "botanu.step/work") {
            let n = int_attr(s, "n");
            ns.push(n);
            assert_in_run(s, run);
            match n {
                0 | 3 => {
                    assert_eq!(s.name, "chat gpt-4");
                    assert!(is_child_of(s, run), "task {i} n {n}: parent should be the run");
                    assert_absent(s, semconv::STEP);
                }
                1 | 2 => {
                    assert_eq!(s.name, "chat claude");
                    assert!(is_child_of(s, step), "task {i} n {n}: parent should be the step");
                    assert_eq!(str_attr(s, semconv::STEP), "work");
                }
                _ => unreachable!(),
            }
            if n == 0 {
                assert_eq!(int_attr(s, semconv::GEN_AI_USAGE_INPUT_TOKENS), i as i64);
            }
        }
        ns.sort();
        assert_eq!(ns, vec![0, 1, 2, 3], "task {i}");
    }
}

#[test]
fn one_run_fanned_out_to_threads_and_spans_closed_on_other_threads() {
    const WORKERS: usize = 4;
    let h = Harness::new();
    let run = h.run(|| run_span!(workflow = "fan-out", event_id = "fan", customer_id = "acme"));
    // Spans created on one thread (inside the run) and finished on another.
    let handed_over = h.run(|| run.in_scope(|| llm_span!(provider = "openai", model = "handed-over")));
    std::thread::scope(|scope| {
        for w in 0..WORKERS {
            let dispatch = h.dispatch.clone();
            let run = &run;
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    run.in_scope(|| {
                        step_span!("worker", worker = w as i64).in_scope(|| {
                            for _ in 0..5 {
                                llm_span!(provider = "openai", model = "gpt-4", worker = w as i64).in_scope(|| {});
                            }
                        });
                    });
                });
            });
        }
        let dispatch = h.dispatch.clone();
        scope.spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                handed_over.set_tokens(Tokens { input: 3, output: 4, ..Default::default() });
                drop(handed_over);
            });
        });
    });
    drop(run);
    let spans = h.spans();
    assert_eq!(spans.len(), 1 + 1 + WORKERS * 6);
    let run = find(&spans, "botanu.run/fan-out");
    let by_worker = group_by_int(&spans, "worker");
    assert_eq!(by_worker.len(), WORKERS);
    for w in 0..WORKERS as i64 {
        let group = &by_worker[&w];
        assert_eq!(group.len(), 6);
        let step = group.iter().find(|s| s.name == "botanu.step/worker").expect("step");
        assert!(is_child_of(step, run));
        for s in group.iter().filter(|s| s.name == "chat gpt-4") {
            assert!(is_child_of(s, step), "worker {w}");
            assert_in_run(s, run);
            assert_eq!(str_attr(s, semconv::STEP), "worker");
        }
    }
    let handed = find(&spans, "chat handed-over");
    assert!(is_child_of(handed, run));
    assert_in_run(handed, run);
    assert_eq!(int_attr(handed, semconv::GEN_AI_USAGE_INPUT_TOKENS), 3);
    assert_eq!(int_attr(handed, semconv::GEN_AI_USAGE_OUTPUT_TOKENS), 4);
}

#[test]
fn eight_threads_of_fifty_thousand_spans_keep_parents_and_runs() {
    let h = Harness::new();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let d = h.dispatch.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    // 500 runs of 1 run span + 99 LLM spans = 50,000 spans per thread.
                    for r in 0..500 {
                        run_span!(workflow = "load", event_id = %format!("{t}-{r}")).in_scope(|| {
                            for _ in 0..99 {
                                llm_span!(provider = "openai", model = "m");
                            }
                        });
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let spans = h.spans();
    assert_eq!(spans.len(), 8 * 50_000);
    let by_id: HashMap<_, _> = spans.iter().map(|s| (s.span_context.span_id(), s)).collect();
    assert_eq!(by_id.len(), spans.len(), "span ids are unique");
    let mut runs = 0;
    for span in &spans {
        if span.name == "botanu.run/load" {
            runs += 1;
            continue;
        }
        let parent = by_id[&span.parent_span_id];
        assert_eq!(parent.name, "botanu.run/load");
        assert_eq!(str_attr(span, k::RUN_ID), str_attr(parent, k::RUN_ID));
        assert_eq!(str_attr(span, k::EVENT_ID), str_attr(parent, k::EVENT_ID));
        assert_eq!(span.span_context.trace_id(), parent.span_context.trace_id());
    }
    assert_eq!(runs, 8 * 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_tasks_keep_their_runs() {
    use tracing::instrument::{Instrument, WithSubscriber};
    let h = Harness::new();
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let run = h.run(|| run_span!(workflow = "tasks", event_id = %i));
            tokio::spawn(
                async move {
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                        async {
                            tokio::task::yield_now().await;
                        }
                        .instrument(llm_span!(provider = "openai", model = "m"))
                        .await;
                    }
                }
                .instrument(run)
                .with_subscriber(h.dispatch.clone()),
            )
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let spans = h.spans();
    assert_eq!(spans.len(), 4000);
    let runs: HashMap<_, _> =
        spans.iter().filter(|s| s.name == "botanu.run/tasks").map(|s| (s.span_context.span_id(), s)).collect();
    assert_eq!(runs.len(), 1000);
    for span in spans.iter().filter(|s| s.name == "chat m") {
        let run = runs[&span.parent_span_id];
        assert_eq!(str_attr(span, k::RUN_ID), str_attr(run, k::RUN_ID));
        assert_eq!(str_attr(span, k::EVENT_ID), str_attr(run, k::EVENT_ID));
    }
}
