//! A user's span processors behind botanu's finisher.
//!
//! A processor given to `Builder::with_span_processor` (or the `SimpleSpanProcessor` of
//! `with_span_exporter`, the console's) runs on the finisher thread, as botanu's own export queue does: a
//! span reaches it only once the finisher took it. So a flush or a shutdown of that processor must drain
//! the finisher first, whoever asks — the guard, or the application through
//! `guard.tracer_provider().force_flush()` / `.shutdown()`, which call the provider's processors one
//! after the other. Each such processor is wrapped in a [`UserProcessor`] that does this (the drain is
//! cheap when nothing is buffered, so several wrapped processors cost nothing more), rather than a
//! separate botanu processor registered first: the SDK copies a span's data once per processor, and a
//! processor of botanu's own would double that copy for every span.
//!
//! The SDK's shutdown stops its provider from delivering spans *before* it shuts the processors down,
//! so the spans the finisher still holds at that moment cannot go through the SDK any more. The link
//! knows the user's processors (each registers when the provider is built) and that the provider is
//! shutting down, and the layer then hands those spans to the processors directly (`on_end` only: the
//! SDK cannot make a span to give `on_start` once its provider is shut down).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use super::Upstream;

/// What the user's processors share with the layer: the finisher they drain, and the processors
/// themselves for delivery past the SDK's shutdown (see the module documentation).
#[derive(Default)]
pub(crate) struct FinisherLink {
    /// The layer's finisher and the bound of a drain asked by the SDK's `force_flush` (which gives
    /// processors no timeout); unset when spans are finished inline (`botanu::testing`).
    upstream: OnceLock<(Arc<dyn Upstream>, Duration)>,
    processors: Mutex<Vec<Arc<dyn SpanProcessor>>>,
    /// Set when the provider started shutting its processors down.
    provider_shut_down: AtomicBool,
}

impl std::fmt::Debug for FinisherLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FinisherLink")
            .field("provider_shut_down", &self.provider_shut_down.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl FinisherLink {
    /// Makes the user's processors (and botanu's queues, through this link) drain `upstream` first at
    /// their flush and shutdown, a flush waiting at most `timeout` (the export timeout).
    pub(crate) fn feed_from(&self, upstream: Arc<dyn Upstream>, timeout: Duration) {
        let _ = self.upstream.set((upstream, timeout));
    }

    /// Whether the provider is shutting down (its processors no longer get spans through the SDK).
    #[inline]
    pub(crate) fn provider_shut_down(&self) -> bool {
        self.provider_shut_down.load(Ordering::Relaxed)
    }

    /// Gives a span the SDK will not deliver (its provider is shutting down) to each user processor.
    pub(crate) fn deliver(&self, span: SpanData) {
        let processors = self.processors.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some((last, others)) = processors.split_last() {
            for processor in others {
                processor.on_end(span.clone());
            }
            last.on_end(span);
        }
    }
}

/// The link is what botanu's export queues drain too: a processor's shutdown comes only from the
/// provider's (or from its last reference dropped), so it marks the provider as shutting down.
impl Upstream for FinisherLink {
    fn drain(&self, timeout: Duration) -> OTelSdkResult {
        self.upstream.get().map_or(Ok(()), |(upstream, _)| upstream.drain(timeout))
    }

    fn shut_down(&self, timeout: Duration) -> OTelSdkResult {
        self.provider_shut_down.store(true, Ordering::Relaxed);
        self.upstream.get().map_or(Ok(()), |(upstream, _)| upstream.shut_down(timeout))
    }
}

/// A user's span processor, flushed and shut down after the finisher drained (see the module docs).
pub(crate) struct UserProcessor {
    inner: Arc<dyn SpanProcessor>,
    link: Arc<FinisherLink>,
    registered: bool,
}

impl std::fmt::Debug for UserProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserProcessor").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl UserProcessor {
    pub(crate) fn new<P: SpanProcessor + 'static>(processor: P, link: Arc<FinisherLink>) -> Self {
        UserProcessor { inner: Arc::new(processor), link, registered: false }
    }
}

impl SpanProcessor for UserProcessor {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        if let Some((_, timeout)) = self.link.upstream.get() {
            self.link.drain(*timeout)?;
        }
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let deadline = Instant::now() + timeout;
        let _ = self.link.shut_down(timeout);
        self.inner
            .shutdown_with_timeout(deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)))
    }

    fn set_resource(&mut self, resource: &Resource) {
        // The SDK sets the resource once, as it builds the provider, before any span: the processor is
        // still this wrapper's alone then, and is shared with the link only afterwards.
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.set_resource(resource);
        }
        if !std::mem::replace(&mut self.registered, true) {
            self.link.processors.lock().unwrap_or_else(|p| p.into_inner()).push(self.inner.clone());
        }
    }
}
