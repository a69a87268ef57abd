//! Reliability: collector outages and restarts (real collector), a full export queue, concurrency,
//! an exporter that emits telemetry itself, Registry span-id reuse, bounded memory, and hostile field
//! values. What is never lost, what is bounded, and what is dropped is asserted on exported data and on
//! the export counters.
#[path = "support/collector.rs"]
mod collector;
mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use botanu::config::Config;
use botanu::prelude::*;
use botanu::semconv::{self as k, metrics as m};
use botanu::{BotanuGuard, QueueSettings};
use collector::Collector;
use common::*;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

/// Runs `f` on another thread and fails the test (instead of hanging CI) if it has not finished in
/// `limit`: a deadlock detector.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).unwrap_or_else(|_| panic!("did not finish within {limit:?}: deadlock or hang"))
}

fn pipeline(config: Config) -> (Dispatch, BotanuGuard) {
    let (layer, guard) = config.build().expect("pipeline builds");
    (Dispatch::new(tracing_subscriber::registry().with(layer)), guard)
}

fn emit(dispatch: &Dispatch, prefix: &str, n: usize) {
    tracing::dispatcher::with_default(dispatch, || {
        run_span!(workflow = "outage").in_scope(|| {
            for i in 0..n {
                llm_span!(provider = "openai", model = %format!("{prefix}-{i}"));
            }
        });
    });
}

fn arrived(collector: &Collector, prefix: &str, n: usize) -> bool {
    collector.wait_for(
        |out| (0..n).all(|i| out.contains(&format!("Name           : chat {prefix}-{i}\n"))),
        Duration::from_secs(20),
    )
}

#[test]
fn spans_after_a_collector_outage_and_a_restart_arrive() {
    let Some(mut collector) = Collector::start() else { return };
    collector.stop();
    let config = Config::default()
        .with_service_name("outage")
        .with_endpoint(collector.http_endpoint())
        .with_schedule_delay(Duration::from_millis(50))
        .with_export_timeout(Duration::from_secs(3));
    let (dispatch, guard) = pipeline(config);

    // The app starts with the collector down: exports fail, nothing blocks, every span is accounted for.
    emit(&dispatch, "down", 100);
    let _ = guard.force_flush();
    let counts = guard.export_counts();
    assert_eq!(counts.exported, 0);
    assert_eq!(counts.failed + counts.dropped, 101, "{counts:?}");

    // The collector comes up mid-run: everything created after that arrives.
    collector.restart();
    emit(&dispatch, "up", 50);
    guard.force_flush().expect("flush");
    assert!(arrived(&collector, "up", 50), "spans after the collector came up\n{}", collector.output());

    // Restarted mid-stream: spans after the restart arrive.
    collector.restart();
    emit(&dispatch, "restarted", 50);
    guard.force_flush().expect("flush");
    assert!(arrived(&collector, "restarted", 50), "spans after the restart\n{}", collector.output());
    let counts = guard.export_counts();
    assert_eq!(counts.exported + counts.failed + counts.dropped, 101 + 51 + 51, "{counts:?}");
    drop(guard);
}

/// An exporter that blocks until the gate opens, like a collector that stopped answering.
#[derive(Debug, Clone, Default)]
struct GateExporter {
    gate: Arc<(Mutex<bool>, Condvar)>,
    seen: Arc<AtomicUsize>,
}

impl GateExporter {
    fn open(&self) {
        *self.gate.0.lock().unwrap() = true;
        self.gate.1.notify_all();
    }
}

impl SpanExporter for GateExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut open = self.gate.0.lock().unwrap();
        while !*open {
            open = self.gate.1.wait(open).unwrap();
        }
        self.seen.fetch_add(batch.len(), Ordering::SeqCst);
        Ok(())
    }
}

/// Counts WARN events of target `botanu`.
struct WarnCounter(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for WarnCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "botanu" && *event.metadata().level() == tracing::Level::WARN {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn a_full_queue_drops_counts_and_warns_once_without_blocking_the_app() {
    let exporter = GateExporter::default();
    let metrics = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
    let (layer, guard) = botanu::Builder::new()
        .with_queue_settings(QueueSettings {
            queue_size: 10,
            batch_size: 5,
            delay: Duration::from_millis(10),
            export_timeout: Duration::from_secs(10),
        })
        .with_batch_exporter(exporter.clone())
        .with_metric_exporter(metrics.clone())
        .build()
        .expect("pipeline");
    let warnings = Arc::new(AtomicUsize::new(0));
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer).with(WarnCounter(warnings.clone())));
    // The exporter is stuck; the application thread must still finish (or this would hang).
    let d = dispatch.clone();
    within(Duration::from_secs(30), move || {
        tracing::dispatcher::with_default(&d, || {
            for i in 0..200 {
                llm_span!(provider = "openai", model = %i);
            }
        })
    });
    // Spans are finished (and dropped at the full queue) on botanu's finisher thread: let it get
    // through them before the collector comes back.
    let settle = Instant::now() + Duration::from_secs(10);
    while guard.export_counts().dropped < 200 - 15 && Instant::now() < settle {
        std::thread::sleep(Duration::from_millis(5));
    }
    exporter.open();
    guard.force_flush().expect("flush");
    let counts = guard.export_counts();
    assert!(counts.dropped >= 200 - 15, "at most a batch in flight plus the queue survive: {counts:?}");
    assert_eq!(counts.exported + counts.dropped, 200, "nothing unaccounted for: {counts:?}");
    assert_eq!(exporter.seen.load(Ordering::SeqCst) as u64, counts.exported);
    assert_eq!(warnings.load(Ordering::SeqCst), 1, "one warning, not one per dropped span");
    let rms = metrics.get_finished_metrics().expect("metrics");
    let dropped_metric = rms
        .last()
        .expect("export")
        .scope_metrics()
        .flat_map(|s| s.metrics())
        .find(|metric| metric.name() == m::EXPORT_DROPPED_SPANS)
        .expect("self-metric");
    match dropped_metric.data() {
        opentelemetry_sdk::metrics::data::AggregatedMetrics::U64(
            opentelemetry_sdk::metrics::data::MetricData::Sum(sum),
        ) => {
            let total: u64 = sum.data_points().map(|dp| dp.value()).sum();
            assert_eq!(total, counts.dropped);
        }
        other => panic!("unexpected {other:?}"),
    }
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

/// An exporter that logs and opens spans itself, as instrumented HTTP clients do.
#[derive(Debug, Clone, Default)]
struct NoisyExporter(opentelemetry_sdk::trace::InMemorySpanExporter);

impl SpanExporter for NoisyExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        tracing::error!(n = batch.len(), "exporting");
        tracing::info_span!("exporter.request", gen_ai.system = "openai").in_scope(|| {
            llm_span!(provider = "openai", model = "from-exporter");
        });
        self.0.export(batch).await
    }
}

#[test]
fn an_exporter_that_emits_telemetry_neither_deadlocks_nor_loops() {
    for batch in [false, true] {
        let exporter = NoisyExporter::default();
        let builder = botanu::Builder::new();
        let builder = if batch {
            builder.with_batch_exporter(exporter.clone())
        } else {
            builder.with_span_exporter(exporter.clone())
        };
        let (layer, guard) = builder.build().expect("pipeline");
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
        let spans = within(Duration::from_secs(30), move || {
            tracing::dispatcher::with_default(&dispatch, || {
                run_span!(workflow = "w").in_scope(|| {
                    for _ in 0..50 {
                        llm_span!(provider = "openai", model = "app");
                    }
                });
            });
            guard.force_flush().expect("flush");
            exporter.0.get_finished_spans().expect("spans")
        });
        let names: Vec<_> = spans.iter().map(|s| s.name.to_string()).collect();
        assert_eq!(spans.len(), 51, "only the application spans (batch={batch}): {names:?}");
        assert!(spans.iter().all(|s| s.name != "chat from-exporter" && !is_error(s)));
    }
}

#[test]
fn registry_span_id_reuse_never_leaks_state() {
    let h = Harness::new();
    h.run(|| {
        for i in 0..500 {
            if i % 2 == 0 {
                let span = llm_span!(provider = "openai", model = "even", customer_note = "only-even");
                span.add_metadata("secret_sauce", "only-even").set_error_type("E", "only-even");
                drop(span);
                // A remote parent on a plain span must not outlive it either.
                let plain = tracing::info_span!("plain");
                let remote = botanu::propagation::extract(&HashMap::from([(
                    "traceparent".to_owned(),
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
                )]));
                plain.set_remote_parent(&remote, botanu::propagation::RunRelation::Continue);
            } else {
                tracing::info_span!("plain").in_scope(|| {
                    llm_span!(provider = "openai", model = "odd");
                });
            }
        }
    });
    let spans = h.spans();
    let odd = find_all(&spans, "chat odd");
    assert_eq!(odd.len(), 250);
    for span in odd {
        assert_absent(span, "customer_note");
        assert_absent(span, "botanu.secret_sauce");
        assert!(!is_error(span));
        assert!(is_root(span), "the remote parent of a closed span leaked");
        assert_ne!(span.span_context.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }
}

#[test]
fn a_run_open_for_a_million_events_stays_bounded() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "long").in_scope(|| {
            for i in 0..1_000_000u32 {
                tracing::info!(i, "tick");
            }
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/long");
    assert!(run.events.len() <= botanu::DEFAULT_MAX_EVENTS_PER_SPAN + 2, "{}", run.events.len());
    let kept_ticks = run.events.iter().filter(|e| e.name == "tick").count() as i64;
    assert_eq!(int_attr(run, k::DROPPED_EVENTS) + kept_ticks, 1_000_000);
    assert_eq!(event_names(run).last().map(String::as_str), Some(k::EVENT_RUN_COMPLETED));
}

#[test]
fn attributes_and_values_are_bounded_per_span() {
    let h = Harness::new();
    h.run(|| {
        let span = llm_span!(provider = "openai", model = "m");
        for i in 0..10_000 {
            span.add_metadata(&format!("k{i}"), i);
        }
        span.add_metadata("huge", "é".repeat(5_000_000));
    });
    let spans = h.spans();
    let span = find(&spans, "chat m");
    assert!(span.attributes.len() <= 256, "{}", span.attributes.len());
    assert!(int_attr(span, k::DROPPED_ATTRIBUTES) > 9_000);
    // The contract's keys survive the flood.
    assert_eq!(str_attr(span, k::GEN_AI_PROVIDER_NAME), "openai");
    let h2 = Harness::new();
    h2.run(|| {
        let span = llm_span!(provider = "openai", model = "m2");
        span.add_metadata("huge", "é".repeat(5_000_000));
    });
    let spans = h2.spans();
    let span = find(&spans, "chat m2");
    let huge = str_attr(span, "botanu.huge");
    assert!(huge.len() <= 16 * 1024 && huge.chars().all(|c| c == 'é'), "cut on a char boundary");
    assert_eq!(str_array_attr(span, k::TRUNCATED_ATTRIBUTES), vec!["botanu.huge"]);
}

#[test]
fn hostile_field_values_neither_panic_nor_lose_valid_data() {
    let h = Harness::new();
    let other_thread_span = h.run(|| {
        let span = llm_span!(provider = "openai", model = "hostile", bad = ?Booby, nan = f64::NAN, inf = f64::INFINITY, big = u64::MAX, text = %"x".repeat(10_000_000));
        span.in_scope(|| tracing::info!(boom = ?Booby, "event with a bad field"));
        run_span!(workflow = "").in_scope(|| {});
        run_span!(workflow = "日本語のワークフロー").in_scope(|| {});
        llm_span!(provider = "openai", model = "threads")
    });
    // Recording from another thread.
    let d = h.dispatch.clone();
    let moved = other_thread_span.clone();
    std::thread::spawn(move || {
        tracing::dispatcher::with_default(&d, || {
            moved.set_tokens(Tokens { input: 7, output: 8, ..Default::default() });
        })
    })
    .join()
    .expect("thread");
    // Recording after close, through the raw dispatcher with the closed span's id.
    let (id, meta) = (other_thread_span.id().expect("enabled"), other_thread_span.metadata().expect("meta"));
    drop(other_thread_span);
    let field = meta.fields().field(k::GEN_AI_USAGE_INPUT_TOKENS).expect("declared");
    let value: &dyn tracing::Value = &99i64;
    let values = [(&field, Some(value))];
    let value_set = meta.fields().value_set(&values);
    h.dispatch.record(&id, &tracing::span::Record::new(&value_set));

    let spans = h.spans();
    let hostile = find(&spans, "chat hostile");
    assert_eq!(str_attr(hostile, "bad"), "<Debug panicked>");
    assert!(f64_attr(hostile, "nan").is_nan());
    assert_eq!(f64_attr(hostile, "inf"), f64::INFINITY);
    assert_eq!(int_attr(hostile, "big"), i64::MAX);
    assert_eq!(str_attr(hostile, "text").len(), 16 * 1024);
    assert_eq!(str_attr(hostile, k::GEN_AI_REQUEST_MODEL), "hostile");
    assert_eq!(event_names(hostile), vec!["event with a bad field"]);
    find(&spans, "botanu.run/");
    find(&spans, "botanu.run/日本語のワークフロー");
    let threads = find(&spans, "chat threads");
    assert_eq!(
        (int_attr(threads, k::GEN_AI_USAGE_INPUT_TOKENS), int_attr(threads, k::GEN_AI_USAGE_OUTPUT_TOKENS)),
        (7, 8)
    );
}
