//! Threads and memory follow the pipeline's life: a builder holding OTLP exporters starts nothing, so
//! one dropped unbuilt or whose `build()` fails leaves no thread behind, and a pipeline built and shut
//! down leaves none either. Read from `/proc/self/task` and `VmRSS`, over 200 of each.
//!
//! One test in its own binary: another test's threads would disturb the count.
#![cfg(target_os = "linux")]

#[path = "support/process.rs"]
mod process;
use process::*;

use std::time::{Duration, Instant};

use botanu::config::TracesExporter;
use botanu::cost::{PriceOverride, TokenPrices};
use botanu::{Builder, Config};
use tracing_subscriber::Registry;

const ROUNDS: usize = 200;

/// OTLP traces and metrics over http/protobuf to a port nothing listens on: both exporters (and their
/// HTTP clients) are made when the builder is.
fn otlp() -> Config {
    Config::default()
        .with_service_name("lifetime")
        .with_traces_exporter(TracesExporter::Otlp)
        .with_endpoint("http://127.0.0.1:9")
        // Bounds the shutdown's last metric export to the closed port (each cycle waits for it).
        .with_export_timeout(Duration::from_millis(200))
}

/// Waits (at most 5 s) for threads that are ending to be gone, and returns how many are left.
fn settled_threads(at_most: usize) -> usize {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let n = threads();
        if n <= at_most || Instant::now() >= until {
            return n;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `round` [`ROUNDS`] times; the threads and RSS growth it left behind.
fn leftover(what: &str, baseline: usize, mut round: impl FnMut()) -> usize {
    let (rss, started) = (rss_kib(), Instant::now());
    for _ in 0..ROUNDS {
        round();
    }
    let took = started.elapsed();
    let left = settled_threads(baseline).saturating_sub(baseline);
    let grew = rss_kib().saturating_sub(rss);
    println!("{what}: {ROUNDS} rounds in {took:.1?}, +{left} threads, RSS +{grew} KiB");
    left
}

#[test]
fn builders_dropped_unbuilt_failed_or_shut_down_leave_no_thread() {
    // Warm up (the allocator, lazily made statics) before the baseline.
    let (_layer, guard) = Builder::from_config(otlp()).expect("builder").build::<Registry>().expect("builds");
    guard.shutdown().ok();
    let baseline = settled_threads(0);

    let unbuilt = leftover("unbuilt builders", baseline, || drop(Builder::from_config(otlp()).expect("builder")));
    let failed = leftover("failed builds", baseline, || {
        let bad = otlp().with_price_override(PriceOverride {
            provider: "openai".into(),
            model: Some("gpt-4o".into()),
            prices: TokenPrices { input: Some(-1.0), ..Default::default() },
            discount: None,
        });
        let built = Builder::from_config(bad).expect("builder").build::<Registry>();
        assert!(built.is_err(), "a negative price fails the build");
    });
    let cycles = leftover("build/shutdown cycles", baseline, || {
        let (_layer, guard) = Builder::from_config(otlp()).expect("builder").build::<Registry>().expect("builds");
        guard.shutdown().ok();
    });
    assert_eq!((unbuilt, failed, cycles), (0, 0, 0), "threads left behind (unbuilt, failed, built and shut down)");
}
