//! Cost of one vendor lookup: a known alias (`"Claude"`), a canonical name (`"openai"`) and an unknown
//! vendor (the only case that allocates: it passes through lower-cased).
//!
//! `cargo bench --bench normalize -- --warm-up-time 0.5 --measurement-time 2`

use std::hint::black_box;
use std::time::Duration;

use botanu::normalize::normalize_llm_vendor;
use criterion::{criterion_group, criterion_main, Criterion};

fn normalize(c: &mut Criterion) {
    let mut group = c.benchmark_group("normalize");
    for (name, raw) in [("known_alias", "Claude"), ("canonical", "openai"), ("unknown", "Acme-LLM")] {
        group.bench_function(name, |b| b.iter(|| normalize_llm_vendor(black_box(raw))));
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = normalize
}
criterion_main!(benches);
