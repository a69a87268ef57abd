//! The layer's callsite table follows the layer's life: a process that builds many layers (a test
//! suite, a configuration reload) does not grow with each. Every layer classifies every callsite the
//! process has registered (tracing registers each new dispatcher with all of them), so a table that
//! leaked its entries grew by callsites × layers. Read from the bytes still allocated after 200 layers
//! were built, used and dropped.
//!
//! Its own binary: the counting allocator sees every thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use botanu::prelude::*;
use botanu::Builder;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

/// Bytes allocated and not yet freed.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Opens spans at twelve callsites of every kind.
fn spans() {
    run_span!(workflow = "w").in_scope(|| {
        step_span!("s").in_scope(|| {
            llm_span!(provider = "openai", model = "gpt-4o");
            llm_span!(provider = "anthropic", model = "claude");
            tool_span!(name = "search");
            db_span!(system = "postgresql", operation = "select");
            tracing::info_span!("plain");
            tracing::info_span!("plain-2", gen_ai.system = "openai");
            tracing::debug_span!("debug");
            tracing::warn_span!("warn");
            tracing::error_span!("error");
            tracing::trace_span!("trace");
        });
    });
}

/// One layer built, used on its own dispatcher, and dropped with its guard.
fn one_layer() {
    let (layer, guard) = Builder::new()
        .with_span_exporter(InMemorySpanExporter::default())
        .with_meter_provider(SdkMeterProvider::builder().build())
        .build()
        .expect("builds");
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, spans);
    drop(dispatch);
    guard.shutdown().expect("shutdown");
}

#[test]
fn layers_built_and_dropped_leave_their_callsite_entries_behind_no_more() {
    // Warm up: every callsite registered, lazily made statics made.
    for _ in 0..20 {
        one_layer();
    }
    let before = LIVE.load(Ordering::Relaxed);
    const LAYERS: isize = 200;
    for _ in 0..LAYERS {
        one_layer();
    }
    let grew = LIVE.load(Ordering::Relaxed) - before;
    println!("{LAYERS} layers: {grew} bytes still allocated ({} per layer)", grew / LAYERS);
    // A leaked entry is a few dozen bytes per callsite (this binary has dozens) per layer.
    assert!(grew < 16 * 1024, "{grew} bytes still allocated after {LAYERS} layers came and went");
}
