//! Per-span cost of botanu against the bare `Registry`, `tracing-opentelemetry` and the raw OTel SDK, on
//! the same workloads, in one run.
//!
//! `cargo bench --bench spans -- --warm-up-time 0.5 --measurement-time 2` (or `benches/compare.sh`,
//! which prints the ratios). Before measuring, the variants' exported spans are checked to be identical
//! (see `support::check_parity`).

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

use support::NoopExporter;

fn llm_span(c: &mut Criterion) {
    support::check_parity();
    let mut group = c.benchmark_group("llm_span");

    let registry = support::registry();
    group.bench_function("registry", |b| tracing::dispatcher::with_default(&registry, || b.iter(support::llm_botanu)));

    let otel_provider = support::provider(NoopExporter);
    let otel = support::tracing_otel(&otel_provider);
    group.bench_function("tracing-opentelemetry", |b| {
        tracing::dispatcher::with_default(&otel, || b.iter(support::llm_tracing_otel))
    });

    let (botanu, guard) = support::botanu(NoopExporter, true);
    group.bench_function("botanu", |b| tracing::dispatcher::with_default(&botanu, || b.iter(support::llm_botanu)));

    let raw_provider = support::provider(NoopExporter);
    let tracer = support::raw_tracer(&raw_provider);
    group.bench_function("raw_sdk", |b| b.iter(|| support::llm_raw(black_box(&tracer))));

    // For reference, not part of the targets.
    let (botanu_no_metrics, guard_no_metrics) = support::botanu(NoopExporter, false);
    group.bench_function("botanu_no_metrics", |b| {
        tracing::dispatcher::with_default(&botanu_no_metrics, || b.iter(support::llm_botanu))
    });
    let (botanu_no_activation, guard_no_activation) = support::botanu_with(NoopExporter, true, false);
    group.bench_function("botanu_no_activation", |b| {
        tracing::dispatcher::with_default(&botanu_no_activation, || b.iter(support::llm_botanu))
    });
    drop(guard_no_activation);
    let otel_defaults = support::tracing_otel_defaults(&otel_provider);
    group.bench_function("tracing-opentelemetry_defaults", |b| {
        tracing::dispatcher::with_default(&otel_defaults, || b.iter(support::llm_tracing_otel))
    });
    let hand_metrics = support::HandMetrics::new();
    group.bench_function("tracing-opentelemetry_metrics", |b| {
        tracing::dispatcher::with_default(&otel, || b.iter(|| support::llm_tracing_otel_metrics(&hand_metrics)))
    });
    group.finish();
    drop((guard, guard_no_metrics));
}

fn unrecognized_span(c: &mut Criterion) {
    let mut group = c.benchmark_group("unrecognized_span");
    let registry = support::registry();
    group
        .bench_function("registry", |b| tracing::dispatcher::with_default(&registry, || b.iter(support::unrecognized)));
    // The floor of any layered stack: the bare Registry never frees a closed span (tracing#900).
    let layered = support::registry_with_noop_layer();
    group.bench_function("registry_layer", |b| {
        tracing::dispatcher::with_default(&layered, || b.iter(support::unrecognized))
    });
    let (botanu, guard) = support::botanu(NoopExporter, true);
    group.bench_function("botanu", |b| tracing::dispatcher::with_default(&botanu, || b.iter(support::unrecognized)));
    group.finish();
    drop(guard);
}

fn run_tree(c: &mut Criterion) {
    let mut group = c.benchmark_group("run_tree");
    let otel_provider = support::provider(NoopExporter);
    let otel = support::tracing_otel(&otel_provider);
    let mut run_no = 0_u64;
    group.bench_function("tracing-opentelemetry", |b| {
        tracing::dispatcher::with_default(&otel, || {
            b.iter(|| {
                run_no += 1;
                support::run_tree_tracing_otel(black_box(run_no));
            })
        })
    });
    let (botanu, guard) = support::botanu(NoopExporter, true);
    group.bench_function("botanu", |b| tracing::dispatcher::with_default(&botanu, || b.iter(support::run_tree_botanu)));
    let (botanu_no_activation, guard_no_activation) = support::botanu_with(NoopExporter, true, false);
    group.bench_function("botanu_no_activation", |b| {
        tracing::dispatcher::with_default(&botanu_no_activation, || b.iter(support::run_tree_botanu))
    });
    drop(guard_no_activation);
    group.finish();
    drop(guard);
}

/// The production pipelines, application thread's wall-clock: botanu's own queue (spans finished on its
/// finisher thread) against tracing-opentelemetry with the SDK's `BatchSpanProcessor`. Both drop spans
/// when the application outruns their background threads for long (botanu counts them); the time
/// measured is what the application thread pays.
fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    let (botanu, guard) = support::botanu_queue(support::CountingExporter::default());
    group.bench_function("llm_span_botanu_queue", |b| {
        tracing::dispatcher::with_default(&botanu, || b.iter(support::llm_botanu))
    });
    group.bench_function("run_tree_botanu_queue", |b| {
        tracing::dispatcher::with_default(&botanu, || b.iter(support::run_tree_botanu))
    });
    let otel_provider = support::provider_batch(support::CountingExporter::default());
    let otel = support::tracing_otel(&otel_provider);
    group.bench_function("llm_span_tracing-opentelemetry_batch", |b| {
        tracing::dispatcher::with_default(&otel, || b.iter(support::llm_tracing_otel))
    });
    let mut run_no = 0_u64;
    group.bench_function("run_tree_tracing-opentelemetry_batch", |b| {
        tracing::dispatcher::with_default(&otel, || {
            b.iter(|| {
                run_no += 1;
                support::run_tree_tracing_otel(black_box(run_no));
            })
        })
    });
    group.finish();
    drop(guard);
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = llm_span, unrecognized_span, run_tree, pipeline
}
criterion_main!(benches);
