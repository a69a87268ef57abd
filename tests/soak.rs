//! Soak: the quickstart workload in a loop against a real collector for `BOTANU_SOAK_SECS` seconds
//! (default 60), at a steady rate. Reports throughput, RSS growth and span loss; fails on any loss or on
//! unbounded memory growth. Ignored by default: `cargo test --test soak -- --ignored --nocapture`.

#[path = "support/collector.rs"]
mod collector;
#[path = "../examples/common/ticket.rs"]
mod ticket;

use std::time::{Duration, Instant};

use botanu::config::Config;
use collector::Collector;
use tracing_subscriber::prelude::*;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
#[ignore = "soak: run explicitly (CI runs it with a short BOTANU_SOAK_SECS)"]
fn soak_against_the_collector() {
    let Some(collector) = Collector::start() else { return };
    let secs: u64 = std::env::var("BOTANU_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let config = Config::default()
        .with_service_name("botanu-soak")
        .with_endpoint(collector.http_endpoint())
        .with_schedule_delay(Duration::from_millis(200))
        .with_export_timeout(Duration::from_secs(10));
    let (layer, guard) = config.build().expect("pipeline");
    let subscriber = tracing_subscriber::registry().with(layer);
    let per_second = 100u64;
    let (tickets, rss_start, rss_end, elapsed) = tracing::subscriber::with_default(subscriber, || {
        // Warm up so allocator and runtime pools are in place before the baseline.
        for i in 0..200 {
            ticket::handle_ticket(i, "warmup").expect("workload");
        }
        guard.force_flush().expect("flush");
        let rss_start = rss_kib();
        let started = Instant::now();
        let mut tickets = 0u64;
        while started.elapsed() < Duration::from_secs(secs) {
            let tick = Instant::now();
            for _ in 0..per_second / 10 {
                ticket::handle_ticket(tickets, "acme").expect("workload");
                tickets += 1;
            }
            std::thread::sleep(Duration::from_millis(100).saturating_sub(tick.elapsed()));
        }
        guard.force_flush().expect("flush");
        (tickets, rss_start, rss_kib(), started.elapsed())
    });
    let want = 200 + tickets as usize;
    let marker = "Name           : botanu.run/support-ticket";
    collector.wait_for(|out| out.matches(marker).count() >= want, Duration::from_secs(60));
    let arrived = collector.output().matches(marker).count();
    let counts = guard.export_counts();
    let growth = rss_end.saturating_sub(rss_start);
    eprintln!(
        "soak: {tickets} tickets ({} spans) in {elapsed:.1?}; runs arrived {arrived}/{want}; exported {} failed {} \
         dropped {}; RSS {rss_start} KiB -> {rss_end} KiB (+{growth} KiB)",
        tickets * 8,
        counts.exported,
        counts.failed,
        counts.dropped
    );
    assert_eq!(arrived, want, "span loss");
    assert_eq!((counts.failed, counts.dropped), (0, 0));
    assert!(growth < 64 * 1024, "RSS grew by {growth} KiB");
}
