//! Cost of pricing one LLM span: a cached (provider, model) lookup plus the catalog arithmetic, for a
//! plain call (one catalog calculation) and for a call with cache reads, cache writes and reasoning
//! tokens (one calculation per part); a flex-tier call with web searches and audio tokens (issue 26); an
//! override-priced call; and a data operation.
//!
//! `cargo bench --bench cost -- --warm-up-time 0.5 --measurement-time 2`

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use botanu::cost::{
    price_data_operation, DataUsage, LlmCall, PriceOverrides, PricingConfig, PricingEngine, ServiceTier, Tokens,
};
use criterion::{criterion_group, criterion_main, Criterion};

fn cost(c: &mut Criterion) {
    let engine = PricingEngine::new(&PricingConfig::default()).expect("default pricing config is valid");
    let overrides = PriceOverrides::parse("openai/gpt-4o=input:2.5,output:10", "bench").expect("valid overrides");
    let overridden =
        PricingEngine::new(&PricingConfig { overrides, ..PricingConfig::default() }).expect("valid pricing config");
    let at = SystemTime::now();
    let plain = Tokens::openai(1_200, 0, 300);
    let cached = Tokens::anthropic(2_000, 10_000, 1_000, 500).with_reasoning(200);
    // Warm the lookup caches: the benchmark measures the per-span cost after the first call.
    let _ = engine.price_llm("openai", "gpt-4o", &plain, at);
    let _ = engine.price_llm("anthropic", "claude-3-5-sonnet", &cached, at);
    let deep = Tokens { audio_input: 300, ..Tokens::openai(10_000, 2_000, 1_000) };
    let flex = LlmCall::new("openai", "o3", deep, at).with_tier(ServiceTier::Flex).with_web_searches(2);
    let _ = engine.price_call(&flex);

    let mut group = c.benchmark_group("cost");
    group.bench_function("llm_plain_gpt-4o", |b| {
        b.iter(|| engine.price_llm(black_box("openai"), black_box("gpt-4o"), black_box(&plain), at))
    });
    group.bench_function("llm_cached_reasoning_claude", |b| {
        b.iter(|| engine.price_llm(black_box("anthropic"), black_box("claude-3-5-sonnet"), black_box(&cached), at))
    });
    group.bench_function("llm_flex_searches_audio_o3", |b| b.iter(|| engine.price_call(black_box(&flex))));
    group.bench_function("llm_unknown_model", |b| {
        b.iter(|| engine.price_llm(black_box("openai"), black_box("no-such-model"), black_box(&plain), at))
    });
    group.bench_function("llm_override", |b| {
        b.iter(|| overridden.price_llm(black_box("openai"), black_box("gpt-4o"), black_box(&plain), at))
    });
    let scan = DataUsage { system: "bigquery", operation: "SELECT", bytes_scanned: 5 << 30, ..Default::default() };
    group.bench_function("data_bigquery_scan", |b| b.iter(|| price_data_operation(black_box(&scan))));
    group.finish();
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = cost
}
criterion_main!(benches);
