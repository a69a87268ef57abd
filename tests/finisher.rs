//! The production pipeline (botanu's export queue): spans are finished on botanu's finisher thread, not
//! where they closed. What must hold whatever the threads do: the run roll-up is exact when children
//! close on other threads than their run, every flush path sees buffered spans, several pipelines share
//! threads without mixing, and every span handed off is counted exported, failed or dropped. A full
//! queue behind a stuck exporter drops, counts and warns once without blocking the application, and an
//! exporter that emits telemetry itself neither deadlocks nor feeds its own spans back into the queue.
#![cfg(feature = "bundled-prices")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
#[cfg(feature = "testing")]
use std::time::Instant;

use botanu::prelude::*;
use botanu::semconv as k;
#[cfg(feature = "testing")]
use botanu::semconv::metrics as m;
use botanu::{BotanuGuard, Builder, QueueSettings};
use common::*;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData, SpanExporter};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

struct Pipeline {
    exporter: InMemorySpanExporter,
    guard: BotanuGuard,
    dispatch: Dispatch,
}

fn pipeline(settings: QueueSettings) -> Pipeline {
    let exporter = InMemorySpanExporter::default();
    let (layer, guard) = Builder::new()
        .with_environment("test")
        .with_queue_settings(settings)
        .with_batch_exporter(exporter.clone())
        .with_meter_provider(opentelemetry_sdk::metrics::SdkMeterProvider::builder().build())
        .build()
        .expect("pipeline builds");
    Pipeline { exporter, guard, dispatch: Dispatch::new(tracing_subscriber::registry().with(layer)) }
}

fn flushed(p: &Pipeline) -> Vec<SpanData> {
    p.guard.force_flush().expect("flush");
    p.exporter.get_finished_spans().expect("spans")
}

/// One gpt-4o call of 1,000 input and 100 output tokens: 1,000 × 2.5 + 100 × 10 per million → 0.0035 USD.
fn gpt_4o_call() {
    llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens {
        input: 1_000,
        output: 100,
        ..Default::default()
    });
}
const CALL_USD: f64 = 0.0035;

#[test]
fn children_finished_on_other_threads_roll_up_exactly_into_their_run() {
    let p = pipeline(QueueSettings::default());
    const RUNS: usize = 20;
    const THREADS: usize = 4;
    const CALLS: usize = 5;
    for r in 0..RUNS {
        let run = tracing::dispatcher::with_default(&p.dispatch, || run_span!(workflow = "fan-out", event_id = %r));
        // Each child closes on its own thread (its buffer), the run on this one, right after: the
        // finisher may drain the run's buffer first.
        std::thread::scope(|scope| {
            for _ in 0..THREADS {
                let (d, run) = (p.dispatch.clone(), run.clone());
                scope.spawn(move || {
                    tracing::dispatcher::with_default(&d, || {
                        for _ in 0..CALLS {
                            let llm = llm_span!(parent: &run, provider = "openai", model = "gpt-4o");
                            llm.set_tokens(Tokens { input: 1_000, output: 100, ..Default::default() });
                        }
                    })
                });
            }
        });
        tracing::dispatcher::with_default(&p.dispatch, || drop(run));
    }
    let spans = flushed(&p);
    let runs = find_all(&spans, "botanu.run/fan-out");
    assert_eq!(runs.len(), RUNS);
    for run in runs {
        let calls = (THREADS * CALLS) as f64;
        assert_eq!(int_attr(run, k::RUN_LLM_CALLS), (THREADS * CALLS) as i64, "every child counted");
        assert!(
            (f64_attr(run, k::RUN_COST_USD) - calls * CALL_USD).abs() < 1e-12,
            "{}",
            f64_attr(run, k::RUN_COST_USD)
        );
        assert_eq!(int_attr(run, k::RUN_TOKENS_INPUT), (THREADS * CALLS * 1_000) as i64);
        assert_eq!(int_attr(run, k::RUN_COST_OPEN_SPANS), 0);
    }
    let summary = p.guard.cost_summary();
    let row = summary.workflows.iter().find(|w| w.workflow == "fan-out").expect("summary row");
    assert_eq!(row.runs, RUNS as u64);
    assert_eq!(row.llm_calls, (RUNS * THREADS * CALLS) as u64);
    assert!((row.cost_usd - (RUNS * THREADS * CALLS) as f64 * CALL_USD).abs() < 1e-9);
}

#[test]
fn the_providers_own_flush_sees_buffered_spans() {
    // A long delay: without a flush nothing would be exported during the test.
    let p = pipeline(QueueSettings { delay: Duration::from_secs(60), ..QueueSettings::default() });
    tracing::dispatcher::with_default(&p.dispatch, || run_span!(workflow = "pay").in_scope(gpt_4o_call));
    p.guard.tracer_provider().force_flush().expect("flush");
    let spans = p.exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let run = find(&spans, "botanu.run/pay");
    assert!((f64_attr(run, k::RUN_COST_USD) - CALL_USD).abs() < 1e-12);
}

#[test]
fn the_summary_counts_runs_still_waiting_for_the_finisher() {
    let p = pipeline(QueueSettings { delay: Duration::from_secs(60), ..QueueSettings::default() });
    tracing::dispatcher::with_default(&p.dispatch, || run_span!(workflow = "sum").in_scope(gpt_4o_call));
    let summary = p.guard.cost_summary();
    assert_eq!(summary.workflows.len(), 1);
    assert!((summary.workflows[0].cost_usd - CALL_USD).abs() < 1e-12);
}

#[test]
fn pipelines_sharing_threads_keep_their_spans_apart() {
    let pipelines: Vec<Pipeline> = (0..3).map(|_| pipeline(QueueSettings::default())).collect();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let dispatches: Vec<Dispatch> = pipelines.iter().map(|p| p.dispatch.clone()).collect();
            std::thread::spawn(move || {
                // Interleaved: each span goes to the buffer of its own pipeline on this thread.
                for round in 0..50 {
                    for (i, d) in dispatches.iter().enumerate() {
                        tracing::dispatcher::with_default(d, || {
                            run_span!(workflow = %format!("p{i}"), event_id = %round).in_scope(|| {});
                        });
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    for (i, p) in pipelines.iter().enumerate() {
        let spans = flushed(p);
        assert_eq!(spans.len(), 100);
        let name = format!("botanu.run/p{i}");
        assert!(spans.iter().all(|s| s.name == name), "pipeline {i} got another's span");
        assert_eq!(p.guard.export_counts().exported, 100);
    }
}

#[test]
fn counts_are_final_at_shutdown_and_later_spans_are_discarded() {
    let p = pipeline(QueueSettings { delay: Duration::from_secs(60), ..QueueSettings::default() });
    let stats = p.guard.export_counter();
    tracing::dispatcher::with_default(&p.dispatch, || {
        for _ in 0..10 {
            run_span!(workflow = "before").in_scope(|| {});
        }
    });
    // Still on the finisher's buffer: shutdown finishes and exports them.
    p.guard.shutdown().expect("shutdown");
    let read = || {
        let c = stats.counts();
        (c.exported, c.failed, c.dropped)
    };
    assert_eq!(read(), (10, 0, 0));
    // This thread's buffer is closed, and a new thread's is born closed: nothing reaches the queue,
    // as with the SDK once its provider is shut down, and the counters stay final.
    tracing::dispatcher::with_default(&p.dispatch, || run_span!(workflow = "after").in_scope(|| {}));
    let d = p.dispatch.clone();
    std::thread::spawn(move || tracing::dispatcher::with_default(&d, || run_span!(workflow = "after").in_scope(|| {})))
        .join()
        .expect("thread");
    assert_eq!(read(), (10, 0, 0));
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

/// An exporter stuck until opened, like a collector that stopped answering; counts the spans it took.
#[derive(Debug, Clone, Default)]
struct GateExporter {
    gate: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    seen: Arc<AtomicUsize>,
}

impl GateExporter {
    fn open(&self) {
        *self.gate.0.lock().unwrap() = true;
        self.gate.1.notify_all();
    }
}

impl opentelemetry_sdk::trace::SpanExporter for GateExporter {
    async fn export(&self, batch: Vec<SpanData>) -> opentelemetry_sdk::error::OTelSdkResult {
        let mut open = self.gate.0.lock().unwrap();
        while !*open {
            open = self.gate.1.wait(open).unwrap();
        }
        self.seen.fetch_add(batch.len(), Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn a_full_queue_drops_on_the_finisher_and_warns_on_the_threads_own_subscriber() {
    // A queue of 1 behind a stuck exporter: the finisher drops all but the span in flight and the
    // one queued, and the warning reaches this thread's (not the global) subscriber, once.
    let exporter = GateExporter::default();
    let (layer, guard) = Builder::new()
        .with_queue_settings(QueueSettings {
            queue_size: 1,
            batch_size: 1,
            delay: Duration::from_secs(60),
            export_timeout: Duration::from_secs(10),
        })
        .with_batch_exporter(exporter.clone())
        .with_meter_provider(opentelemetry_sdk::metrics::SdkMeterProvider::builder().build())
        .build()
        .expect("pipeline");
    let warnings = Arc::new(AtomicUsize::new(0));
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer).with(WarnCounter(warnings.clone())));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..100 {
            llm_span!(provider = "openai", model = %i);
        }
    });
    let _ = guard.cost_summary(); // drains the finisher
    let counts = guard.export_counts();
    exporter.open();
    guard.force_flush().expect("flush");
    let counts_after = guard.export_counts();
    assert!(counts.dropped >= 98, "{counts:?}");
    assert_eq!(counts_after.exported + counts_after.dropped, 100, "{counts_after:?}");
    assert_eq!(warnings.load(Ordering::SeqCst), 1);
}

/// Application threads that never stop closing spans must not starve a flush or a shutdown: the
/// finisher takes one pass over the buffers per round, so a flush completes within two rounds and a
/// shutdown (which closes the buffers first) within one, and the run closed before the flush is in it.
#[test]
fn flush_and_shutdown_complete_while_threads_keep_closing_spans() {
    let p = pipeline(QueueSettings { export_timeout: Duration::from_secs(10), ..QueueSettings::default() });
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let closed = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (d, stop, closed) = (p.dispatch.clone(), stop.clone(), closed.clone());
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    while !stop.load(Ordering::Relaxed) {
                        let _run = run_span!(workflow = "background").entered();
                        gpt_4o_call();
                        closed.fetch_add(2, Ordering::Relaxed);
                    }
                })
            })
        })
        .collect();
    // Let the load build up, then close a run of this thread's and flush under that load.
    while closed.load(Ordering::Relaxed) < 2_000 {
        std::thread::yield_now();
    }
    tracing::dispatcher::with_default(&p.dispatch, || {
        let _run = run_span!(workflow = "foreground").entered();
        gpt_4o_call();
    });
    let started = std::time::Instant::now();
    p.guard.force_flush().expect("a flush completes under sustained load");
    let flush_took = started.elapsed();
    let spans = p.exporter.get_finished_spans().expect("spans");
    let run = find(&spans, "botanu.run/foreground");
    let usd = f64_attr(run, k::RUN_COST_USD);
    assert!((usd - CALL_USD).abs() < 1e-12, "the run closed before the flush is exported, rolled up: {usd}");
    assert!(flush_took < Duration::from_secs(5), "flush took {flush_took:?} under load");

    let started = std::time::Instant::now();
    let result = p.guard.shutdown();
    let shutdown_took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    result.expect("shutdown completes under sustained load");
    assert!(shutdown_took < Duration::from_secs(10), "shutdown took {shutdown_took:?} under load");
}

/// Runs `f` on another thread and fails the test (instead of hanging CI) if it has not finished in
/// `limit`: a deadlock detector.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).unwrap_or_else(|_| panic!("did not finish within {limit:?}: deadlock or hang"))
}

#[cfg(feature = "testing")]
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
    let dropped_metric = common::metric(&rms, m::EXPORT_DROPPED_SPANS);
    match dropped_metric.metric().data() {
        opentelemetry_sdk::metrics::data::AggregatedMetrics::U64(
            opentelemetry_sdk::metrics::data::MetricData::Sum(_),
        ) => {
            let total = dropped_metric.total() as u64;
            assert_eq!(total, counts.dropped);
        }
        other => panic!("unexpected {other:?}"),
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

/// The SDK's own shutdown (`tracer_provider().shutdown()`, not the guard's) reaches the queue after the
/// provider stopped building spans: what the finisher still held then is built directly for the queue,
/// which drains the finisher before it closes, so it is exported (the queue has room for all of it).
/// Every span closed before the call is accounted for when it returns, and the counts do not move
/// afterwards.
#[test]
fn the_providers_own_shutdown_accounts_for_every_span_the_finisher_held() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 12_500;
    let p = pipeline(QueueSettings::default());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            let d = p.dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    for _ in 0..PER_THREAD {
                        gpt_4o_call();
                    }
                })
            });
        }
    });
    let counter = p.guard.export_counter();
    p.guard.tracer_provider().shutdown().expect("the provider shuts down");
    let counts = counter.counts();
    assert_eq!(
        counts.exported + counts.failed + counts.dropped,
        (THREADS * PER_THREAD) as u64,
        "every span closed before the shutdown is accounted for when it returns: {counts:?}"
    );
    assert_eq!(counts.exported, (THREADS * PER_THREAD) as u64, "none was lost to the SDK's shutdown: {counts:?}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(counter.counts(), counts, "the counts are final");
}

/// The meter provider's own shutdown (not the guard's) exports the metrics of every span closed
/// before it, also those the finisher still held: its collection drains the finisher first.
#[cfg(feature = "testing")]
#[test]
fn the_meter_providers_own_shutdown_includes_the_spans_the_finisher_held() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 2_000;
    let metrics = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
    let (layer, guard) = Builder::new()
        .with_queue_settings(QueueSettings { delay: Duration::from_secs(60), ..QueueSettings::default() })
        .with_batch_exporter(InMemorySpanExporter::default())
        .with_metric_exporter(metrics.clone())
        .build()
        .expect("pipeline builds");
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            let d = dispatch.clone();
            scope.spawn(move || tracing::dispatcher::with_default(&d, || (0..PER_THREAD).for_each(|_| gpt_4o_call())));
        }
    });
    guard.meter_provider().expect("botanu's meter provider").shutdown().expect("the meter provider shuts down");
    let rms = metrics.get_finished_metrics().expect("metrics");
    let calls: u64 = common::metric(&rms, m::OPERATION_DURATION).points().iter().map(|p| p.count).sum();
    assert_eq!(calls, (THREADS * PER_THREAD) as u64, "every LLM call closed before the shutdown is in its metrics");
}
