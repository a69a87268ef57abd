//! Spans per second with 1 and 2 application threads, production pipelines: botanu with its own queue
//! (metrics on) against tracing-opentelemetry with the SDK's `BatchSpanProcessor`. Each thread opens and
//! closes LLM spans as fast as it can for `SECONDS`; then the pipeline is flushed and what its exporter
//! received is compared with what the threads closed: the difference is what the pipeline dropped
//! (botanu counts it, `export_counts().dropped`; the SDK's batch processor drops silently).
//!
//! `cargo bench --bench throughput` (wall-clock: on a loaded machine, run it a few times). A line
//! `THROUGHPUT <pipeline> threads=<n> closed_per_s=<..> delivered_per_s=<..> dropped=<..>` per run, then
//! the 2/1 ratios of both: spans the threads closed, and spans that reached the exporter.

#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Dispatch;

fn seconds() -> f64 {
    std::env::var("SECONDS_PER_RUN").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0)
}

/// Spans closed per second by `threads` threads under `dispatch` for the configured time.
fn drive(dispatch: &Dispatch, threads: usize, workload: fn()) -> (f64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let closed = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (d, stop, closed) = (dispatch.clone(), stop.clone(), closed.clone());
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    let mut n = 0_u64;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..64 {
                            workload();
                        }
                        n += 64;
                    }
                    closed.fetch_add(n, Ordering::Relaxed);
                })
            })
        })
        .collect();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds()));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = closed.load(Ordering::Relaxed);
    (n as f64 / elapsed, n)
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let mut rates = Vec::new();
    for pipeline in ["botanu_queue", "tracing-opentelemetry_batch"] {
        let mut per_threads = Vec::new();
        for threads in [1, 2] {
            let exporter = support::CountingExporter::default();
            let (rate, closed) = if pipeline == "botanu_queue" {
                let (dispatch, guard) = support::botanu_queue(exporter.clone());
                let result = drive(&dispatch, threads, support::llm_botanu);
                let _ = guard.force_flush();
                let counts = guard.export_counts();
                assert_eq!(
                    counts.exported + counts.failed + counts.dropped,
                    result.1,
                    "botanu accounts for every span"
                );
                result
            } else {
                let provider = support::provider_batch(exporter.clone());
                let dispatch = support::tracing_otel(&provider);
                let result = drive(&dispatch, threads, support::llm_tracing_otel);
                let _ = provider.force_flush();
                result
            };
            let exported = exporter.0.load(Ordering::Relaxed);
            let dropped = closed.saturating_sub(exported);
            // Delivered: the spans that reached the exporter, per second of the run.
            let delivered = rate * exported as f64 / closed.max(1) as f64;
            println!(
                "THROUGHPUT {pipeline} threads={threads} closed_per_s={rate:.0} delivered_per_s={delivered:.0} \
                 closed={closed} dropped={dropped} ({:.1}%)",
                dropped as f64 * 100.0 / closed.max(1) as f64
            );
            per_threads.push((rate, delivered));
        }
        rates.push((pipeline, per_threads[1].0 / per_threads[0].0, per_threads[1].1 / per_threads[0].1));
    }
    for (pipeline, closed, delivered) in rates {
        println!("SCALING {pipeline} 2 threads / 1 thread: closed {closed:.2}, delivered {delivered:.2}");
    }
}
