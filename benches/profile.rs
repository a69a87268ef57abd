//! One variant's workload in a loop, for a profiler: `valgrind --tool=callgrind` counts the instructions
//! of `measured` only (the loop after warm-up), which makes per-span instruction counts comparable across
//! variants on a loaded machine, where wall-clock medians are not.
//!
//! ```text
//! cargo bench --bench profile --no-run
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured*' \
//!     target/release/deps/profile-<hash> botanu 5000
//! ```
//!
//! Variants: `botanu_queue`, `tracing-opentelemetry_batch`, `run_tree_botanu_queue`,
//! `run_tree_tracing-opentelemetry_batch`, `unrecognized_botanu_queue` (production pipelines: own queue
//! vs the SDK's BatchSpanProcessor, flushed at the end); `registry`, `tracing-opentelemetry`, `tracing-opentelemetry_metrics`, `botanu`, `botanu_no_metrics`, `raw_sdk`,
//! `unrecognized_registry`, `unrecognized_registry_layer` (Registry + a no-op layer: the floor of a layered
//! stack), `unrecognized_tracing-opentelemetry`, `unrecognized_botanu`, `run_tree_botanu`, `run_tree_tracing-opentelemetry`,
//! `price_plain`, `price_cached`;
//! `botanu_no_activation`, `run_tree_botanu_no_activation`, `unrecognized_botanu_no_activation` (OTel
//! context activation off); `botanu_queue_threads`, `run_tree_botanu_queue_threads` (botanu's queue with
//! `THREADS` application threads, 4 by default, sharing the iterations; `WORKERS` finisher workers, one
//! per core by default: for `benches/threads.sh`, instructions per thread).
//! Without a variant (as under `cargo bench`), it does nothing.

// The parity check and the criterion-only helpers of the shared module are not used here.
#[allow(dead_code)]
mod support;

use std::hint::black_box;

use support::NoopExporter;

const WARM_UP: u64 = 1_000;

/// The profiled loop; `#[inline(never)]` so callgrind can toggle collection on it by name.
#[inline(never)]
fn measured(iterations: u64, workload: &mut dyn FnMut()) {
    for _ in 0..iterations {
        workload();
    }
}

fn run(iterations: u64, mut workload: impl FnMut()) {
    for _ in 0..WARM_UP {
        workload();
    }
    measured(black_box(iterations), &mut workload);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let Some(variant) = args.first() else { return };
    let iterations = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(5_000);
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<usize>().ok());
    botanu::__private::set_finisher_workers(env("WORKERS").unwrap_or(0));

    let otel_provider = support::provider(NoopExporter);
    let (botanu, _guard) = support::botanu(NoopExporter, true);
    let (botanu_no_metrics, _guard_no_metrics) = support::botanu(NoopExporter, false);
    let (botanu_no_activation, _guard_no_activation) = support::botanu_with(NoopExporter, true, false);
    let registry = support::registry();
    let otel = support::tracing_otel(&otel_provider);
    let tracer = support::raw_tracer(&otel_provider);
    let hand_metrics = support::HandMetrics::new();
    let under = |dispatch: &tracing::Dispatch, workload: fn()| {
        tracing::dispatcher::with_default(dispatch, || run(iterations, workload));
    };
    match variant.as_str() {
        "registry" => under(&registry, support::llm_botanu),
        "tracing-opentelemetry" => under(&otel, support::llm_tracing_otel),
        "tracing-opentelemetry_metrics" => tracing::dispatcher::with_default(&otel, || {
            run(iterations, || support::llm_tracing_otel_metrics(&hand_metrics));
        }),
        "botanu" => under(&botanu, support::llm_botanu),
        "botanu_no_metrics" => under(&botanu_no_metrics, support::llm_botanu),
        "raw_sdk" => run(iterations, || support::llm_raw(&tracer)),
        "unrecognized_registry" => under(&registry, support::unrecognized),
        "unrecognized_registry_layer" => under(&support::registry_with_noop_layer(), support::unrecognized),
        "unrecognized_tracing-opentelemetry" => under(&otel, support::unrecognized),
        "unrecognized_botanu" => under(&botanu, support::unrecognized),
        "run_tree_botanu" => under(&botanu, support::run_tree_botanu),
        "botanu_no_activation" => under(&botanu_no_activation, support::llm_botanu),
        "run_tree_botanu_no_activation" => under(&botanu_no_activation, support::run_tree_botanu),
        "unrecognized_botanu_no_activation" => under(&botanu_no_activation, support::unrecognized),
        "run_tree_tracing-opentelemetry" => {
            let mut run_no = 0;
            tracing::dispatcher::with_default(&otel, || {
                run(iterations, || {
                    run_no += 1;
                    support::run_tree_tracing_otel(run_no);
                })
            });
        }
        // Pricing alone (no span): a plain gpt-4o call, and a claude call with cache reads, cache writes
        // and reasoning tokens, through the engine with the bundled catalog, lookup cache warm.
        "price_plain" | "price_cached" | "price_flex" => {
            use botanu::cost::{PricingConfig, PricingEngine, Tokens};
            let engine = PricingEngine::new(&PricingConfig::default()).expect("default pricing config");
            let at = std::time::SystemTime::now();
            if variant == "price_flex" {
                // Issue 26: a flex-tier call with web searches and audio tokens (`price_call`).
                use botanu::cost::{LlmCall, ServiceTier};
                let usage = Tokens { audio_input: 300, ..Tokens::openai(10_000, 2_000, 1_000) };
                let call = LlmCall::new("openai", "o3", usage, at).with_tier(ServiceTier::Flex).with_web_searches(2);
                run(iterations, || {
                    black_box(engine.price_call(black_box(&call)));
                });
                return;
            }
            let (provider, model, usage) = if variant == "price_plain" {
                ("openai", "gpt-4o", Tokens::openai(1_200, 0, 300))
            } else {
                ("anthropic", "claude-3-5-sonnet", Tokens::anthropic(2_000, 10_000, 1_000, 500).with_reasoning(200))
            };
            run(iterations, || {
                black_box(engine.price_llm(black_box(provider), black_box(model), black_box(&usage), at));
            });
        }
        // The production pipelines: botanu's queue (spans finished on its finisher thread) against
        // tracing-opentelemetry with the SDK's BatchSpanProcessor. Both are flushed at the end, so a
        // whole-process count (`--collect-atstart=yes`, see `benches/compare.sh`) includes the
        // background threads' work; `exported` on stderr shows whether a pipeline dropped any span.
        "botanu_queue" | "run_tree_botanu_queue" | "unrecognized_botanu_queue" => {
            let exporter = support::CountingExporter::default();
            let (dispatch, guard) = support::botanu_queue(exporter.clone());
            let workload = match variant.as_str() {
                "botanu_queue" => support::llm_botanu,
                "run_tree_botanu_queue" => support::run_tree_botanu,
                _ => support::unrecognized,
            };
            under(&dispatch, workload);
            guard.force_flush().expect("flush");
            eprintln!("exported {}", exporter.0.load(std::sync::atomic::Ordering::Relaxed));
        }
        // Several application threads, each running its share of the iterations (and its own warm-up).
        "botanu_queue_threads" | "run_tree_botanu_queue_threads" => {
            let threads = env("THREADS").unwrap_or(4).max(1);
            let exporter = support::CountingExporter::default();
            let (dispatch, guard) = support::botanu_queue(exporter.clone());
            let workload =
                if variant == "botanu_queue_threads" { support::llm_botanu } else { support::run_tree_botanu };
            let share = iterations / threads as u64;
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let dispatch = dispatch.clone();
                    std::thread::spawn(move || tracing::dispatcher::with_default(&dispatch, || run(share, workload)))
                })
                .collect();
            for handle in handles {
                handle.join().expect("application thread");
            }
            guard.force_flush().expect("flush");
            eprintln!("exported {}", exporter.0.load(std::sync::atomic::Ordering::Relaxed));
        }
        "tracing-opentelemetry_batch" | "run_tree_tracing-opentelemetry_batch" => {
            let exporter = support::CountingExporter::default();
            let provider = support::provider_batch(exporter.clone());
            let dispatch = support::tracing_otel(&provider);
            if variant == "tracing-opentelemetry_batch" {
                under(&dispatch, support::llm_tracing_otel);
            } else {
                let mut run_no = 0;
                tracing::dispatcher::with_default(&dispatch, || {
                    run(iterations, || {
                        run_no += 1;
                        support::run_tree_tracing_otel(run_no);
                    })
                });
            }
            provider.force_flush().expect("flush");
            eprintln!("exported {}", exporter.0.load(std::sync::atomic::Ordering::Relaxed));
        }
        // What `botanu::testing` runs: spans finished where they close, the exporter inside `on_close`.
        #[cfg(feature = "testing")]
        "botanu_inline" | "run_tree_botanu_inline" => {
            let (dispatch, guard) = support::botanu_inline(NoopExporter);
            let workload = if variant == "botanu_inline" { support::llm_botanu } else { support::run_tree_botanu };
            under(&dispatch, workload);
            support::flush(&guard);
        }
        other => panic!("unknown variant {other:?}"),
    }
    // The `with_span_exporter` pipelines export on botanu's finisher: flushed, so a whole-process count
    // includes that work.
    for guard in [&_guard, &_guard_no_metrics, &_guard_no_activation] {
        support::flush(guard);
    }
}
