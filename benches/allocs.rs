//! Heap allocations per span lifecycle, counted by a global allocator on the benchmark's thread.
//!
//! `cargo bench --bench allocs`
//!
//! Each workload runs once per variant to warm up (callsite registration, thread-locals, metric
//! attribute sets seen for the first time), then `ITERATIONS` times under the counter. Allocations on
//! other threads (the SDK's periodic metric reader) are not counted; with a one-hour interval it does
//! not run anyway.

// Only the llm_span and run workloads of the shared module are used here.
#[allow(dead_code)]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tracing::Dispatch;

use support::NoopExporter;

const WARM_UP: u64 = 1_000;
const ITERATIONS: u64 = 10_000;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static REALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

fn bump(counter: &'static std::thread::LocalKey<Cell<u64>>, by: u64) {
    // `try_with`: the allocator may be called while this thread's locals are being torn down.
    let _ = counter.try_with(|c| c.set(c.get() + by));
}

// SAFETY: every method forwards to `System` unchanged; the counters are plain thread-local cells.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS, 1);
        bump(&BYTES, layout.size() as u64);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS, 1);
        bump(&BYTES, layout.size() as u64);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump(&REALLOCS, 1);
        bump(&BYTES, new_size.saturating_sub(layout.size()) as u64);
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations, reallocations and bytes per call of `workload`, after a warm-up.
fn per_call(mut workload: impl FnMut()) -> (f64, f64, f64) {
    for _ in 0..WARM_UP {
        workload();
    }
    let read = || (ALLOCS.with(Cell::get), REALLOCS.with(Cell::get), BYTES.with(Cell::get));
    let (a0, r0, b0) = read();
    for _ in 0..ITERATIONS {
        workload();
    }
    let (a1, r1, b1) = read();
    let n = ITERATIONS as f64;
    ((a1 - a0) as f64 / n, (r1 - r0) as f64 / n, (b1 - b0) as f64 / n)
}

fn under(dispatch: &Dispatch, workload: fn()) -> (f64, f64, f64) {
    tracing::dispatcher::with_default(dispatch, || per_call(workload))
}

fn report(what: &str, rows: &[(&str, (f64, f64, f64))]) {
    for (name, (allocs, reallocs, bytes)) in rows {
        println!("{what:<18} {name:<32} allocs={allocs:<6.2} reallocs={reallocs:<6.2} bytes={bytes:.0}");
    }
}

fn main() {
    support::check_parity();

    let registry = support::registry();
    let otel_provider = support::provider(NoopExporter);
    let otel = support::tracing_otel(&otel_provider);
    let otel_defaults = support::tracing_otel_defaults(&otel_provider);
    let (botanu, _guard) = support::botanu(NoopExporter, true);
    let (botanu_no_metrics, _guard_no_metrics) = support::botanu(NoopExporter, false);
    let raw_provider = support::provider(NoopExporter);
    let tracer = support::raw_tracer(&raw_provider);
    let hand_metrics = support::HandMetrics::new();
    // The production pipeline: the application thread only records and hands the span off; the
    // finisher's allocations (the SDK span, metrics) happen on its thread and are not counted here.
    let (botanu_queue, _guard_queue) = support::botanu_queue(NoopExporter);

    let llm = [
        ("registry", under(&registry, support::llm_botanu)),
        ("tracing-opentelemetry", under(&otel, support::llm_tracing_otel)),
        ("botanu", under(&botanu, support::llm_botanu)),
        ("botanu_queue", under(&botanu_queue, support::llm_botanu)),
        ("raw_sdk", per_call(|| support::llm_raw(&tracer))),
        ("botanu_no_metrics", under(&botanu_no_metrics, support::llm_botanu)),
        ("tracing-opentelemetry_defaults", under(&otel_defaults, support::llm_tracing_otel)),
        (
            "tracing-opentelemetry_metrics",
            tracing::dispatcher::with_default(&otel, || per_call(|| support::llm_tracing_otel_metrics(&hand_metrics))),
        ),
    ];
    report("llm_span", &llm);
    report(
        "unrecognized_span",
        &[("registry", under(&registry, support::unrecognized)), ("botanu", under(&botanu, support::unrecognized))],
    );
    let mut run_no = 0_u64;
    let otel_tree = tracing::dispatcher::with_default(&otel, || {
        per_call(|| {
            run_no += 1;
            support::run_tree_tracing_otel(run_no);
        })
    });
    report(
        "run_tree",
        &[
            ("tracing-opentelemetry", otel_tree),
            ("botanu", under(&botanu, support::run_tree_botanu)),
            ("botanu_queue", under(&botanu_queue, support::run_tree_botanu)),
        ],
    );

    let allocs = |name: &str| llm.iter().find(|(n, _)| *n == name).map_or(f64::NAN, |(_, (a, _, _))| *a);
    println!(
        "SUMMARY allocs botanu={:.1} tracing-opentelemetry={:.1} registry={:.1} botanu_queue={:.1}",
        allocs("botanu"),
        allocs("tracing-opentelemetry"),
        allocs("registry"),
        allocs("botanu_queue")
    );
}
