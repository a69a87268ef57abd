//! A user's own span processor or exporter (`with_span_processor`, `with_span_exporter`) runs on botanu's
//! finisher thread, not on the application's, exactly as botanu's export queue does: every span reaches
//! it once flushed, whoever flushes (the guard, or the provider's own `force_flush` / `shutdown`); what
//! it does with `tracing` never comes back into botanu; and `botanu::testing` still hands spans to its
//! processors where they close.

use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use botanu::prelude::*;
use botanu::{BotanuGuard, Builder, QueueSettings};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

/// What a processor saw: each span's name and the thread its `on_end` ran on, and whether it was shut
/// down (spans after that are recorded too, so a test can see them).
#[derive(Debug, Default)]
struct Seen {
    ended: Vec<(String, ThreadId)>,
    shut_down_after: Option<usize>,
}

/// A processor that records where and what it is given; `noisy` makes its `on_end` use `tracing`.
#[derive(Debug, Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Seen>>,
    noisy: bool,
}

impl Recorder {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn names(&self) -> Vec<String> {
        self.seen().ended.iter().map(|(name, _)| name.clone()).collect()
    }
}

impl SpanProcessor for Recorder {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        if self.noisy {
            // A processor that logs and traces what it does: none of it may reach botanu again.
            tracing::info!(span = %span.name, "exporting");
            llm_span!(provider = "openai", model = "from-processor").in_scope(|| {
                tracing::warn!("inside the processor's own span");
            });
        }
        self.seen().ended.push((span.name.to_string(), std::thread::current().id()));
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        let mut seen = self.seen();
        seen.shut_down_after = Some(seen.ended.len());
        Ok(())
    }
}

/// A pipeline whose only span processor is `recorder`; a long export delay, so the finisher polls
/// rarely (every 100 ms) and only a flush that drains it delivers the spans of a short test.
fn pipeline(recorder: &Recorder) -> (Dispatch, BotanuGuard) {
    let (layer, guard) = Builder::new()
        .with_queue_settings(QueueSettings { delay: Duration::from_secs(60), ..QueueSettings::default() })
        .with_span_processor(recorder.clone())
        .with_meter_provider(opentelemetry_sdk::metrics::SdkMeterProvider::builder().build())
        .build()
        .expect("pipeline builds");
    (Dispatch::new(tracing_subscriber::registry().with(layer)), guard)
}

const CALLS: usize = 200;

/// One run with [`CALLS`] LLM calls.
fn workload() {
    run_span!(workflow = "users-own").in_scope(|| {
        for _ in 0..CALLS {
            llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens::openai(100, 0, 10));
        }
    });
}

/// Runs `f` on a thread, failing the test if it has not returned within `limit` (a deadlock).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).expect("finished in time (no deadlock)")
}

#[test]
fn a_users_processor_runs_on_the_finisher_not_on_the_application_thread() {
    let recorder = Recorder::default();
    let (dispatch, guard) = pipeline(&recorder);
    tracing::dispatcher::with_default(&dispatch, workload);
    guard.force_flush().expect("flush");
    let app = std::thread::current().id();
    let seen = recorder.seen();
    assert_eq!(seen.ended.len(), CALLS + 1, "every span delivered after the guard's flush");
    let on_app: Vec<_> = seen.ended.iter().filter(|(_, thread)| *thread == app).collect();
    assert!(on_app.is_empty(), "{} of {} spans ended on the application thread", on_app.len(), CALLS + 1);
}

#[test]
fn the_providers_own_flush_delivers_every_span_to_a_users_processor() {
    let recorder = Recorder::default();
    let (dispatch, guard) = pipeline(&recorder);
    tracing::dispatcher::with_default(&dispatch, workload);
    guard.tracer_provider().force_flush().expect("the provider flushes");
    let names = recorder.names();
    assert_eq!(names.len(), CALLS + 1, "every span closed before the provider's flush reached the processor");
    // The run last: its children were finished first, so its roll-up counts them all.
    assert_eq!(names.last().map(String::as_str), Some("botanu.run/users-own"));
}

/// The SDK stops delivering spans before it shuts its processors down: what the finisher still held
/// then reaches the user's processor anyway, before that processor's own shutdown.
#[test]
fn the_providers_own_shutdown_delivers_every_span_to_a_users_processor_before_shutting_it_down() {
    let recorder = Recorder::default();
    let (dispatch, guard) = pipeline(&recorder);
    tracing::dispatcher::with_default(&dispatch, workload);
    guard.tracer_provider().shutdown().expect("the provider shuts down");
    let seen = recorder.seen();
    assert_eq!(seen.ended.len(), CALLS + 1, "every span closed before the provider's shutdown reached the processor");
    assert_eq!(seen.shut_down_after, Some(CALLS + 1), "delivered before the processor was shut down");
}

/// A processor whose `on_end` emits `tracing` events and spans, with botanu's pipeline as the global
/// default subscriber (the finisher thread has no default of its own, so it would use that one): nothing
/// it emits is exported or fed back, and nothing deadlocks.
#[test]
fn a_processor_that_uses_tracing_on_the_finisher_neither_deadlocks_nor_feeds_back() {
    let recorder = Recorder { noisy: true, ..Recorder::default() };
    let names = within(Duration::from_secs(30), {
        let recorder = recorder.clone();
        move || {
            let (dispatch, guard) = pipeline(&recorder);
            // The only test of this file that sets it (the others use thread defaults).
            tracing::dispatcher::set_global_default(dispatch.clone()).expect("no global subscriber yet");
            tracing::dispatcher::with_default(&dispatch, workload);
            guard.force_flush().expect("flush");
            recorder.names()
        }
    });
    assert_eq!(names.len(), CALLS + 1, "only the application's spans: {names:?}");
    assert!(names.iter().all(|name| name != "chat from-processor"));
}

/// The same processor under `botanu::testing`, where it runs inside `on_close` on the application
/// thread: it neither deadlocks nor leaves a span open (a span closed inside another's `on_close`
/// would never be removed by the Registry).
#[cfg(feature = "testing")]
#[test]
fn a_processor_that_uses_tracing_inline_neither_deadlocks_nor_feeds_back() {
    let recorder = Recorder { noisy: true, ..Recorder::default() };
    let names = within(Duration::from_secs(30), {
        let recorder = recorder.clone();
        move || {
            let cap = botanu::testing::Capture::new()
                .with_builder(move |b| b.with_span_processor(recorder.clone()))
                .run(workload)
                .1;
            cap.spans().iter().map(|s| s.name().to_owned()).collect::<Vec<_>>()
        }
    });
    assert_eq!(names.len(), CALLS + 1, "only the application's spans: {names:?}");
    assert_eq!(recorder.names().len(), CALLS + 1, "the processor saw each span once");
    assert!(recorder.names().iter().all(|name| name != "chat from-processor"));
}

/// `botanu::testing` finishes spans where they close: its processors have each span as soon as it
/// ends, on the application thread, before any flush.
#[cfg(feature = "testing")]
#[test]
fn botanu_testing_still_hands_spans_over_as_they_end() {
    let recorder = Recorder::default();
    let session = botanu::testing::Capture::new().with_builder({
        let recorder = recorder.clone();
        move |b| b.with_span_processor(recorder.clone())
    });
    let session = session.start();
    session.in_scope(|| llm_span!(provider = "openai", model = "gpt-4o").in_scope(|| {}));
    {
        let seen = recorder.seen();
        assert_eq!(seen.ended.len(), 1, "the span reached the processor as it ended, before any flush");
        assert_eq!(seen.ended[0].1, std::thread::current().id(), "on the thread that closed it");
    }
    let cap = session.finish();
    assert_eq!(cap.llm_calls().len(), 1);
}

/// A processor whose every `on_end` takes `delay` (an exporter waiting on an unreachable network).
#[derive(Debug, Clone)]
struct Slow {
    delay: Duration,
    ended: Arc<std::sync::atomic::AtomicUsize>,
}

impl SpanProcessor for Slow {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, _span: SpanData) {
        std::thread::sleep(self.delay);
        self.ended.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// A user's processor that blocks (an exporter whose collector is down) no longer runs inside `on_close`,
/// so it must not hold the guard's shutdown past its timeout either: the finisher stops finishing once
/// the timeout is spent, and shutdown returns instead of waiting for every span to pass through the
/// slow processor (here 20 spans × 8 s), or even for the one span the processor is stuck on.
#[test]
fn shutdown_is_bounded_by_its_timeout_with_a_slow_users_processor() {
    let slow = Slow { delay: Duration::from_secs(8), ended: Arc::default() };
    let (layer, guard) = Builder::new()
        .with_export_timeout(Duration::from_millis(300))
        .with_span_processor(slow.clone())
        .build()
        .expect("builds");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..20 {
            llm_span!(provider = "openai", model = "gpt-4o").in_scope(|| {});
        }
    });
    let started = std::time::Instant::now();
    let _ = guard.shutdown();
    let took = started.elapsed();
    // Not even the one span already inside the processor is waited for (8 s), let alone all of them.
    assert!(took < Duration::from_secs(4), "shutdown took {took:?} with a 300 ms timeout");
    assert!(slow.ended.load(std::sync::atomic::Ordering::Relaxed) < 20);
}
