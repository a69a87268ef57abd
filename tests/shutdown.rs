//! Flush and shutdown with a collector that never answers (issue 18): one export timeout in total for
//! traces and metrics together, and exact accounting — every span created is exported, failed or
//! dropped when shutdown returns, and the counters do not move afterwards.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use botanu::prelude::*;
use botanu::{ExportCounter, ExportCounts, QueueSettings};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

/// A gate both hung exporters wait on, like a collector that accepted the connection and went quiet.
#[derive(Debug, Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn wait(&self) {
        let mut open = self.0 .0.lock().unwrap();
        while !*open {
            open = self.0 .1.wait(open).unwrap();
        }
    }

    fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }
}

#[derive(Debug, Clone, Default)]
struct HungSpans {
    gate: Gate,
    seen: Arc<AtomicUsize>,
}

impl SpanExporter for HungSpans {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.gate.wait();
        self.seen.fetch_add(batch.len(), Ordering::SeqCst);
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
struct HungMetrics(Gate);

impl PushMetricExporter for HungMetrics {
    async fn export(&self, _: &ResourceMetrics) -> OTelSdkResult {
        self.0.wait();
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

const TIMEOUT: Duration = Duration::from_secs(2);
const CREATED: u64 = 5_000;

fn hung_pipeline(gate: &Gate) -> (Dispatch, botanu::BotanuGuard, HungSpans) {
    let spans = HungSpans { gate: gate.clone(), seen: Arc::default() };
    let (layer, guard) = botanu::Builder::new()
        .with_queue_settings(QueueSettings {
            queue_size: 100_000,
            batch_size: 100,
            delay: Duration::from_millis(5),
            export_timeout: TIMEOUT,
        })
        .with_export_timeout(TIMEOUT)
        .with_batch_exporter(spans.clone())
        .with_metric_exporter(HungMetrics(gate.clone()))
        .build()
        .expect("pipeline");
    (Dispatch::new(tracing_subscriber::registry().with(layer)), guard, spans)
}

/// The totals of `stats`, readable after the guard is gone.
fn counts(stats: &ExportCounter) -> ExportCounts {
    stats.counts()
}

fn create(dispatch: &Dispatch, n: u64) {
    tracing::dispatcher::with_default(dispatch, || {
        for i in 0..n {
            llm_span!(provider = "openai", model = %i).set_tokens(Tokens { input: 1, output: 1, ..Default::default() });
        }
    });
}

#[test]
fn shutdown_with_a_hung_collector_takes_one_timeout_and_accounts_for_every_span() {
    let gate = Gate::default();
    let (dispatch, guard, exporter) = hung_pipeline(&gate);
    create(&dispatch, CREATED);
    // Let the worker take a batch into the hung export.
    std::thread::sleep(Duration::from_millis(100));
    let stats = guard.export_counter();
    let start = Instant::now();
    let result = guard.shutdown();
    let elapsed = start.elapsed();
    assert!(result.is_err(), "a shutdown that hit its deadline says so");
    // Traces and metrics one after the other would take two timeouts (the SDK's metric reader alone
    // waits 5 s for a hung exporter).
    assert!(elapsed < TIMEOUT + Duration::from_millis(1_500), "shutdown took {elapsed:?} with a {TIMEOUT:?} timeout");
    assert!(elapsed >= TIMEOUT - Duration::from_millis(100), "it waited for the collector: {elapsed:?}");

    let counts = counts(&stats);
    assert_eq!(counts.exported + counts.failed + counts.dropped, CREATED, "nothing unaccounted for: {counts:?}");
    assert_eq!(counts.exported, 0);
    assert!(counts.failed > 0 && counts.failed <= 100, "the batch in the hung export failed: {counts:?}");

    // The collector comes back: the worker finishes its export but counts nothing more.
    gate.open();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(self::counts(&stats), counts, "the counters are final once shutdown returned");
    assert!(exporter.seen.load(Ordering::SeqCst) <= 100, "nothing queued was exported after shutdown");

    // Spans created after shutdown never reach the queue (the SDK stops recording once its provider is
    // shut down): creating them is harmless and the counters stay final.
    create(&dispatch, 10);
    assert_eq!(self::counts(&stats), counts);
}

#[test]
fn flush_with_a_hung_collector_takes_one_timeout() {
    let gate = Gate::default();
    let (dispatch, guard, _exporter) = hung_pipeline(&gate);
    create(&dispatch, 50);
    let start = Instant::now();
    let result = guard.force_flush();
    let elapsed = start.elapsed();
    assert!(result.is_err());
    assert!(elapsed < TIMEOUT + Duration::from_millis(1_500), "flush took {elapsed:?} with a {TIMEOUT:?} timeout");
    // The collector recovers: the spans were only delayed, and a clean shutdown exports them.
    gate.open();
    guard.force_flush().expect("flush after recovery");
    let counts = guard.export_counts();
    assert_eq!((counts.exported, counts.failed, counts.dropped), (50, 0, 0));
}

#[test]
fn a_clean_shutdown_exports_everything_within_the_timeout() {
    let gate = Gate::default();
    gate.open();
    let (dispatch, guard, exporter) = hung_pipeline(&gate);
    create(&dispatch, CREATED);
    let stats = guard.export_counter();
    let start = Instant::now();
    guard.shutdown().expect("shutdown");
    assert!(start.elapsed() < TIMEOUT, "{:?}", start.elapsed());
    let counts = counts(&stats);
    assert_eq!((counts.exported, counts.failed, counts.dropped), (CREATED, 0, 0));
    assert_eq!(exporter.seen.load(Ordering::SeqCst) as u64, CREATED);
}
