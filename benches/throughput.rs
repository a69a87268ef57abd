//! Spans per second with 1, 2, 4 and 8 application threads, production pipelines: botanu with its own
//! queue (metrics on) against tracing-opentelemetry with the SDK's `BatchSpanProcessor`. Each thread
//! opens and closes LLM spans as fast as it can for `SECONDS_PER_RUN` (2 s); then the pipeline is flushed
//! and what its exporter received is compared with what the threads closed: the difference is what the
//! pipeline dropped (botanu counts it, `export_counts().dropped`; the SDK's batch processor drops
//! silently).
//!
//! `cargo bench --bench throughput` (wall-clock: on a loaded machine, run it a few times). A line
//! `THROUGHPUT <pipeline> threads=<n> closed_per_s=<..> delivered_per_s=<..> dropped=<..>` per run, then
//! the 2/1 ratios of both: spans the threads closed, and spans that reached the exporter. For botanu, a
//! line `CONTENTION botanu_queue threads=<n> workers=<w> finished_by_application=<%> per_1k_spans=<..>
//! <lock>=<..> …`: the share of spans the hand-off gave back to the application threads past the
//! finisher's bound (they finish them themselves), and how many acquisitions of each lock on the export
//! path found it held (`src/contention.rs`), over the run and its flush — this, not the wall clock, is
//! what shows on a 2-core machine whether threads would meet on a lock with more cores. `THREADS=1,2` picks the thread counts; `WORKERS=<w>` sets botanu's finisher
//! workers (default: one per core).

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

/// The application thread counts to run (`THREADS`, default 1,2,4,8).
fn thread_counts() -> Vec<usize> {
    std::env::var("THREADS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect::<Vec<usize>>())
        .filter(|counts| !counts.is_empty())
        .unwrap_or_else(|| vec![1, 2, 4, 8])
}

/// The contended acquisitions per lock between two snapshots, and their sum.
fn contention_since(before: &[(&'static str, u64)]) -> (Vec<(&'static str, u64)>, u64) {
    let now = botanu::__private::lock_contention();
    let delta: Vec<_> =
        now.iter().zip(before).map(|((name, after), (_, before))| (*name, after.saturating_sub(*before))).collect();
    let total = delta.iter().map(|(_, n)| n).sum();
    (delta, total)
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let workers: usize = std::env::var("WORKERS").ok().and_then(|w| w.parse().ok()).unwrap_or(0);
    botanu::__private::set_finisher_workers(workers);
    let counts = thread_counts();
    let mut rates = Vec::new();
    for pipeline in ["botanu_queue", "tracing-opentelemetry_batch"] {
        let mut per_threads = Vec::new();
        for &threads in &counts {
            let exporter = support::CountingExporter::default();
            let (rate, closed) = if pipeline == "botanu_queue" {
                let (dispatch, guard) = support::botanu_queue(exporter.clone());
                let before = botanu::__private::lock_contention();
                let given_back = botanu::__private::spans_given_back();
                let result = drive(&dispatch, threads, support::llm_botanu);
                let _ = guard.force_flush();
                let counts = guard.export_counts();
                assert_eq!(
                    counts.exported + counts.failed + counts.dropped,
                    result.1,
                    "botanu accounts for every span"
                );
                let (delta, total) = contention_since(&before);
                let sites: Vec<String> = delta.iter().map(|(name, n)| format!("{name}={n}")).collect();
                let inline = botanu::__private::spans_given_back() - given_back;
                println!(
                    "CONTENTION botanu_queue threads={threads} workers={} spans={} finished_by_application={:.1}% \
                     per_1k_spans={:.3} {}",
                    if workers == 0 { "per_core".to_owned() } else { workers.to_string() },
                    result.1,
                    inline as f64 * 100.0 / result.1.max(1) as f64,
                    total as f64 * 1000.0 / result.1.max(1) as f64,
                    sites.join(" ")
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
        rates.push((pipeline, per_threads));
    }
    for (pipeline, per_threads) in rates {
        for (i, &threads) in counts.iter().enumerate().skip(1) {
            let (closed, delivered) = (per_threads[i].0 / per_threads[0].0, per_threads[i].1 / per_threads[0].1);
            let (plural, first) = (if threads == 1 { "" } else { "s" }, counts[0]);
            let first_plural = if first == 1 { "" } else { "s" };
            println!(
                "SCALING {pipeline} {threads} thread{plural} / {first} thread{first_plural}: closed {closed:.2}, \
                 delivered {delivered:.2}"
            );
        }
    }
}
