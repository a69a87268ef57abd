//! An exporter that never returns, and application threads closing LLM spans as fast as they can: what
//! botanu holds stays within one bound per pipeline (`queue_size` + `queue_size / 4` spans, whatever
//! the number of threads), past it spans are dropped at the hand-off and counted, and closing a span
//! stays cheap.
//!
//! `overload_figures` is the measurement behind the README's Reliability figures (RSS, held spans,
//! span-close latency at 8 and 32 threads); it is `#[ignore]`d, run it with
//! `cargo test --release --all-features --test overload -- --ignored --nocapture`
//! (`BOTANU_OVERLOAD_THREADS=8,32`, `BOTANU_OVERLOAD_SECS=20` to change).
#![cfg(feature = "bundled-prices")]

#[path = "support/process.rs"]
mod process;
use process::*;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use botanu::prelude::*;
use botanu::{BotanuGuard, Builder, QueueSettings};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

/// An exporter whose export never returns: a collector that accepts the connection and never answers,
/// with no timeout on the client.
#[derive(Debug)]
struct Hung;

impl SpanExporter for Hung {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        std::future::pending().await
    }
}

fn hung_pipeline(queue_size: usize) -> (BotanuGuard, Dispatch) {
    let (layer, guard) = Builder::new()
        .with_queue_settings(QueueSettings {
            queue_size,
            batch_size: 512.min(queue_size),
            delay: Duration::from_millis(20),
            export_timeout: Duration::from_secs(1),
        })
        .with_batch_exporter(Hung)
        .with_meter_provider(SdkMeterProvider::builder().build())
        .build()
        .expect("builds");
    (guard, Dispatch::new(tracing_subscriber::registry().with(layer)))
}

/// What the bound promises for `queue_size` (see README "Reliability").
fn bound(queue_size: usize) -> u64 {
    (queue_size + queue_size / 4) as u64
}

/// One span-close latency histogram: 8 buckets per power of two (12.5 % resolution), and the max.
struct Latencies {
    buckets: Vec<u64>,
    max_ns: u64,
}

impl Latencies {
    fn new() -> Self {
        Latencies { buckets: vec![0; 512], max_ns: 0 }
    }

    fn index(ns: u64) -> usize {
        if ns < 8 {
            return ns as usize;
        }
        let log = 63 - u64::from(ns.leading_zeros());
        ((log - 2) * 8 + ((ns >> (log - 3)) & 7)) as usize
    }

    /// The lower end of bucket `i`.
    fn floor(i: usize) -> u64 {
        if i < 8 {
            return i as u64;
        }
        let (log, sub) = ((i / 8 + 2) as u64, (i % 8) as u64);
        (8 + sub) << (log - 3)
    }

    fn record(&mut self, ns: u64) {
        self.buckets[Self::index(ns)] += 1;
        self.max_ns = self.max_ns.max(ns);
    }

    fn merge(&mut self, other: &Latencies) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    fn quantile(&self, q: f64) -> u64 {
        let total: u64 = self.buckets.iter().sum();
        let rank = ((total as f64) * q).ceil() as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank.max(1) {
                return Self::floor(i);
            }
        }
        self.max_ns
    }
}

/// Spans closed per thread, each on its own cache line (the count must not be what the threads share).
#[repr(align(128))]
#[derive(Default)]
struct Created(AtomicU64);

struct Overload {
    created: u64,
    dropped: u64,
    /// The most spans botanu held at once, sampled: closed − exported − failed − dropped.
    peak_held: u64,
    rss_base_kib: u64,
    rss_peak_kib: u64,
    /// RSS over the last quarter of the run: min and max.
    rss_plateau_kib: (u64, u64),
    latencies: Latencies,
    /// The same measurement around nothing, on the same threads: what the scheduler alone adds (a
    /// thread preempted between the two clock reads, on a machine with more threads than cores).
    floor: Latencies,
    /// Context switches of the application threads over the run: voluntary ones are waits (a contended
    /// lock parks the thread), involuntary ones preemption.
    switches: (u64, u64),
}

/// This thread's (voluntary, involuntary) context switches so far.
fn switches() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
    let read =
        |key: &str| status.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    (read("voluntary_ctxt_switches:"), read("nonvoluntary_ctxt_switches:"))
}

/// `threads` threads closing priced LLM spans into a hung pipeline for `run`, sampling what is held.
fn overload(queue_size: usize, threads: usize, run: Duration) -> Overload {
    let (guard, dispatch) = hung_pipeline(queue_size);
    let counter = guard.export_counter();
    let created: Arc<Vec<Created>> = Arc::new((0..threads).map(|_| Created::default()).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let rss_base_kib = rss_kib();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (dispatch, created, stop) = (dispatch.clone(), created.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut latencies, mut floor) = (Latencies::new(), Latencies::new());
                let before = switches();
                tracing::dispatcher::with_default(&dispatch, || {
                    while !stop.load(Ordering::Relaxed) {
                        let span = llm_span!(provider = "openai", model = "gpt-4o");
                        span.set_tokens(Tokens { input: 1_000, output: 100, ..Default::default() });
                        let closing = Instant::now();
                        drop(span);
                        latencies.record(closing.elapsed().as_nanos() as u64);
                        created[t].0.fetch_add(1, Ordering::Relaxed);
                        let nothing = Instant::now();
                        std::hint::black_box(&stop);
                        floor.record(nothing.elapsed().as_nanos() as u64);
                    }
                });
                let after = switches();
                (latencies, floor, (after.0 - before.0, after.1 - before.1))
            })
        })
        .collect();
    let started = Instant::now();
    let (mut peak_held, mut rss_peak_kib, mut plateau) = (0, 0, (u64::MAX, 0));
    while started.elapsed() < run {
        std::thread::sleep(Duration::from_millis(50));
        // Settled spans first, closed ones second: the difference can only overstate what is held (by
        // the spans closed between the two reads); the least of three readings keeps that small.
        let held = (0..3)
            .map(|_| {
                let c = counter.counts();
                let settled = c.exported + c.failed + c.dropped;
                created.iter().map(|c| c.0.load(Ordering::Relaxed)).sum::<u64>().saturating_sub(settled)
            })
            .min()
            .unwrap_or(0);
        peak_held = peak_held.max(held);
        let rss = rss_kib();
        rss_peak_kib = rss_peak_kib.max(rss);
        if started.elapsed() >= run * 3 / 4 {
            plateau = (plateau.0.min(rss), plateau.1.max(rss));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (mut latencies, mut floor, mut switched) = (Latencies::new(), Latencies::new(), (0, 0));
    for worker in workers {
        let (l, f, s) = worker.join().expect("worker");
        latencies.merge(&l);
        floor.merge(&f);
        switched = (switched.0 + s.0, switched.1 + s.1);
    }
    let created = created.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
    drop(dispatch);
    // The exporter never returns: the shutdown gives up after the export timeout, and counts.
    let _ = guard.shutdown();
    let counts = counter.counts();
    assert_eq!(counts.exported + counts.failed + counts.dropped, created, "every span accounted for: {counts:?}");
    Overload {
        created,
        dropped: counts.dropped,
        peak_held,
        rss_base_kib,
        rss_peak_kib,
        rss_plateau_kib: plateau,
        latencies,
        floor,
        switches: switched,
    }
}

#[test]
fn what_botanu_holds_behind_a_hung_exporter_stays_within_one_bound_at_any_thread_count() {
    const QUEUE: usize = 1_024;
    for threads in [8, 32] {
        let o = overload(QUEUE, threads, Duration::from_millis(1_500));
        println!("{threads} threads: {} closed, {} dropped, peak held {}", o.created, o.dropped, o.peak_held);
        assert!(o.dropped > 0, "the exporter is hung: spans past the bound are dropped");
        // Slack for the spans being finished (one per thread and the finisher) and the sampling.
        let slack = threads as u64 + 64;
        assert!(
            o.peak_held <= bound(QUEUE) + slack,
            "{threads} threads: held {} spans, bound {} (+{slack})",
            o.peak_held,
            bound(QUEUE)
        );
    }
}

#[test]
#[ignore = "a measurement (tens of seconds); run with --ignored --nocapture, see the module docs"]
fn overload_figures() {
    let threads: Vec<usize> = std::env::var("BOTANU_OVERLOAD_THREADS")
        .unwrap_or_else(|_| "8,32".into())
        .split(',')
        .filter_map(|t| t.trim().parse().ok())
        .collect();
    let secs: u64 = std::env::var("BOTANU_OVERLOAD_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let queue = QueueSettings::default().queue_size;
    println!("hung exporter, queue_size {queue}, bound {} spans, {secs} s per row", bound(queue));
    println!(
        "| threads | spans closed | dropped | peak held | RSS base → peak (plateau) | close p50 | p99 | p99.9 | p99.99 | max | scheduler floor p99.99 / max | waits / preemptions |"
    );
    println!("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for t in threads {
        let o = overload(queue, t, Duration::from_secs(secs));
        let l = &o.latencies;
        let us = |ns: u64| format!("{:.1} µs", ns as f64 / 1_000.0);
        println!(
            "| {t} | {} | {} | {} | {} → {} MiB ({}–{}) | {} | {} | {} | {} | {} | {} / {} | {} / {} |",
            o.created,
            o.dropped,
            o.peak_held,
            o.rss_base_kib / 1024,
            o.rss_peak_kib / 1024,
            o.rss_plateau_kib.0 / 1024,
            o.rss_plateau_kib.1 / 1024,
            us(l.quantile(0.5)),
            us(l.quantile(0.99)),
            us(l.quantile(0.999)),
            us(l.quantile(0.9999)),
            us(l.max_ns),
            us(o.floor.quantile(0.9999)),
            us(o.floor.max_ns),
            o.switches.0,
            o.switches.1,
        );
    }
}
