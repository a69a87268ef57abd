//! Cost of a budget reservation on the application thread: reserve + settle against a run cap and a
//! customer cap in memory, the same through the span extension (`reserve_budget` on an LLM span, the
//! settlement on the finisher), and — with the `redis` feature and a `redis-server` on `PATH` — one
//! reservation + settlement round trip to Redis on loopback.
//!
//! `cargo bench --all-features --bench budget -- --warm-up-time 0.5 --measurement-time 2`

use std::hint::black_box;
use std::time::Duration;

use botanu::budget::{BudgetTarget, Budgets, Cap, Estimate};
use criterion::{criterion_group, criterion_main, Criterion};

fn budget(c: &mut Criterion) {
    let mut group = c.benchmark_group("budget");
    let budgets = Budgets::new().with_cap(Cap::run(1e9)).with_cap(Cap::customer("acme", 1e9));
    let target = BudgetTarget::default().with_run("r-1").with_customer("acme").with_workflow("support");
    group.bench_function("reserve_settle_memory", |b| {
        b.iter(|| budgets.reserve(black_box(&target), Some(0.0075)).map(|held| held.settle(Some(0.0045))))
    });
    let priced = Estimate::llm("openai", "gpt-4o", 1_000, 500);
    group.bench_function("estimate_price_gpt-4o", |b| {
        let engine = botanu::cost::PricingEngine::new(&botanu::cost::PricingConfig::default()).expect("engine");
        let at = std::time::SystemTime::now();
        b.iter(|| black_box(&priced).price(Some(&engine), at))
    });
    #[cfg(feature = "redis")]
    redis_round_trip(&mut group, &target);
    group.finish();
}

#[cfg(feature = "redis")]
fn redis_round_trip(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    target: &BudgetTarget,
) {
    use std::process::{Command, Stdio};
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
    let Ok(port) = port else { return };
    let Ok(mut server) = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
    else {
        eprintln!("budget/reserve_settle_redis: no redis-server on PATH; not measured");
        return;
    };
    std::thread::sleep(Duration::from_millis(300));
    let url = format!("redis://127.0.0.1:{port}/0");
    let budgets = Budgets::new().with_cap(Cap::customer("acme", 1e9)).with_redis(&url, Duration::from_millis(500));
    if let Ok(budgets) = budgets {
        group.bench_function("reserve_settle_redis", |b| {
            b.iter(|| budgets.reserve(black_box(target), Some(0.0075)).map(|held| held.settle(Some(0.0045))))
        });
        assert_eq!(budgets.store_failures(), 0, "every reservation reached Redis");
    }
    let _ = server.kill();
    let _ = server.wait();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = budget
}
criterion_main!(benches);
