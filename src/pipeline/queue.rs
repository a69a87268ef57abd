//! The export queue: finished spans wait here for the exporter, which runs on its own thread.
//!
//! The application thread only pushes a finished span into a bounded queue, so it never waits on the
//! network, whatever the collector does. When the queue is full (the collector is down, or slower than
//! the application), new spans are dropped — memory stays bounded by the queue size — and every drop is
//! *counted*: [`ExportStats`] (reachable from the guard) and the self-metric
//! `botanu.export.dropped_spans`, plus one warning the first time (logged by the layer, see
//! `report_drops`). The OpenTelemetry SDK's batch
//! processor drops silently from the application's point of view, which is why botanu has its own.
//!
//! The worker exports a batch when `batch_size` spans are waiting or `delay` has passed, and on flush
//! and shutdown; both are bounded by the export timeout. Its own telemetry (the HTTP client's events)
//! is suppressed, so it never re-enters the layer.
//!
//! The queue holds at most `queue_size` spans, the batch the worker is exporting included (a hung
//! export holds its batch): with the finisher's own bound (`finisher/`) that is what a pipeline holds.
//! The worker thread starts when the pipeline is built ([`ExportStats::start`]), not when the exporter
//! is given to the builder: a builder dropped unbuilt, or whose build fails, leaves no thread.
//!
//! Accounting is exact: every span handed to the queue ends in exactly one of exported, failed and
//! dropped. A shutdown that reaches its deadline *abandons* the queue: what is still queued is counted
//! dropped, what the worker holds (a batch in a hung export) failed, and the worker counts nothing more
//! afterwards, so the counters are final when shutdown returns.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

use super::Upstream;
use crate::config::QueueSettings;

thread_local! {
    /// Set by [`QueueProcessor::on_end`]: whether the span this thread just ended reached a queue.
    static REACHED: Cell<bool> = const { Cell::new(false) };
    /// On a finisher worker ([`stage_here`]): the spans it ended, per queue, until [`publish_staged`].
    static STAGED: RefCell<Option<Vec<Staged>>> = const { RefCell::new(None) };
}

/// Spans ended on this thread for one queue, not in it yet.
struct Staged {
    queue: Arc<Shared>,
    spans: Vec<SpanData>,
}

/// Makes this thread (a finisher worker) stage the spans it ends instead of taking the queue's lock per
/// span: they enter the queue at [`publish_staged`], one lock per batch. Counted from `on_end` on, as
/// any span: staged spans are queued or dropped (full, closed) at the publish, which the worker does
/// before it gives their room in the finisher's bound back, so what it stages still counts there.
pub(crate) fn stage_here() {
    STAGED.with(|staged| *staged.borrow_mut() = Some(Vec::new()));
}

/// Stops staging on this thread (after a last [`publish_staged`]).
pub(crate) fn unstage() {
    let _ = STAGED.try_with(|staged| staged.borrow_mut().take());
}

/// Pushes what this thread staged into its queues: one lock of each queue for the whole batch.
pub(crate) fn publish_staged() {
    let _ = STAGED.try_with(|staged| {
        let Ok(mut staged) = staged.try_borrow_mut() else { return };
        for entry in staged.iter_mut().flatten() {
            if !entry.spans.is_empty() {
                entry.queue.push_all(&mut entry.spans);
            }
        }
    });
}

/// Ends a span with `end` and says whether it reached a botanu export queue (queued or counted
/// dropped there). The SDK silently skips the processors of a provider shut down (also for a span
/// built before): such a span must be counted by whoever ended it.
pub(crate) fn reaches_queue(end: impl FnOnce()) -> bool {
    REACHED.with(|r| r.set(false));
    end();
    REACHED.with(|r| r.replace(false))
}

/// After a panic out of [`reaches_queue`]'s `end` (a user's processor after botanu's queue): whether a
/// queue took the span before it, so the span is counted once, by the queue, not dropped as well.
pub(crate) fn reached_before_panic() -> bool {
    REACHED.with(|r| r.replace(false))
}

/// Logs the first-drop warning of any of `stats`, on the current dispatcher. Suppressed for botanu's
/// own layer, so it is logged, not attached to the current span.
pub(crate) fn report_drops(stats: &[Arc<ExportStats>]) {
    for s in stats {
        if s.take_warning() {
            let _quiet = Context::enter_telemetry_suppressed_scope();
            tracing::warn!(
                target: "botanu",
                "export queue full: dropping spans until the exporter catches up; \
                 dropped spans are counted in botanu.export.dropped_spans"
            );
        }
    }
}

/// What happened to the spans handed to the export queue.
#[derive(Debug, Default)]
pub(crate) struct ExportStats {
    exported: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    /// Set by the first drop; the layer logs the warning on the application's dispatcher (span
    /// processors themselves run under the no-op dispatcher, or on the finisher).
    warning_pending: AtomicBool,
    /// Whether the first drop happened (the warning is logged once).
    warned: AtomicBool,
    /// The queue these counters belong to, so the guard can abandon it at its shutdown deadline.
    queue: OnceLock<Weak<Shared>>,
    /// Spans the queue holds (queued and in flight), mirrored for [`Self::has_room`].
    queued: AtomicUsize,
    /// The queue's size; 0 before a queue owns these counters.
    queue_size: AtomicUsize,
}

impl ExportStats {
    /// Spans the exporter accepted.
    pub(crate) fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }

    /// Spans in batches the exporter failed to send (collector down, timeout).
    pub(crate) fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Spans dropped because the queue was full (or arrived after shutdown).
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Ends the queue now (see `Shared::abandon`): the guard's shutdown deadline passed.
    /// Nothing happens if the queue is gone or already shut down cleanly.
    pub(crate) fn abandon(&self) {
        if let Some(shared) = self.queue.get().and_then(Weak::upgrade) {
            shared.abandon();
        }
    }

    /// Counts `n` spans dropped (the queue was full, or the span arrived after shutdown).
    pub(crate) fn count_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
        // Read first: under overload every thread drops, and a swap would write the line each time.
        if !self.warned.load(Ordering::Relaxed) && !self.warned.swap(true, Ordering::Relaxed) {
            self.warning_pending.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the queue has room for one more span now (a hint: read without its lock).
    #[inline]
    pub(crate) fn has_room(&self) -> bool {
        let size = self.queue_size.load(Ordering::Relaxed);
        size == 0 || self.queued.load(Ordering::Relaxed) < size
    }

    /// Sets the queue's size and fill level, for tests of what feeds a queue.
    #[cfg(test)]
    pub(crate) fn pretend_queue(&self, size: usize, queued: usize) {
        self.queue_size.store(size, Ordering::Relaxed);
        self.queued.store(queued, Ordering::Relaxed);
    }

    /// Starts the queue's worker thread, once the pipeline is built. Idempotent.
    pub(crate) fn start(&self) {
        if let Some(shared) = self.queue.get().and_then(Weak::upgrade) {
            shared.start();
        }
    }

    /// Makes the queue drain the layer's finisher first at flush and shutdown (through the
    /// `FinisherLink`, which also learns that the provider is shutting down), so buffered spans reach it
    /// (also through `SdkTracerProvider::force_flush` and `shutdown`).
    pub(crate) fn feed_from(&self, pipeline: Arc<dyn Upstream>) {
        if let Some(shared) = self.queue.get().and_then(Weak::upgrade) {
            let _ = shared.upstream.set(pipeline);
        }
    }

    /// Whether the first-drop warning is due; true once.
    pub(crate) fn take_warning(&self) -> bool {
        self.warning_pending.load(Ordering::Relaxed) && self.warning_pending.swap(false, Ordering::Relaxed)
    }
}

#[derive(Default)]
struct QueueState {
    spans: VecDeque<SpanData>,
    flush_waiters: Vec<SyncSender<()>>,
    shutdown: Option<SyncSender<()>>,
    closed: bool,
    /// Spans the worker took from `spans` and has not counted yet.
    in_flight: u64,
    /// Set at a shutdown deadline: everything was counted, the worker must count nothing more.
    abandoned: bool,
}

/// Spawns the worker for the exporter it holds (see [`ExportStats::start`]).
type Starter = Box<dyn FnOnce(Arc<Shared>) -> std::io::Result<JoinHandle<()>> + Send>;

struct Shared {
    state: Mutex<QueueState>,
    wake: Condvar,
    /// The exporter, until the worker is started; dropped with the queue if it never is.
    starter: Mutex<Option<Starter>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<ExportStats>,
    settings: QueueSettings,
    /// The finisher feeding this queue, drained before a flush or shutdown.
    upstream: OnceLock<Arc<dyn Upstream>>,
    resource: Mutex<Option<Resource>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        crate::contention::lock(crate::contention::Site::Queue, &self.state)
    }

    /// Queues `spans` (emptied; it keeps its capacity) under one lock: what does not fit, or arrives
    /// after the queue closed, is dropped and counted.
    fn push_all(&self, spans: &mut Vec<SpanData>) {
        let mut state = self.lock();
        let held = state.spans.len() + state.in_flight as usize;
        let room = if state.closed { 0 } else { self.settings.queue_size.saturating_sub(held) };
        let take = room.min(spans.len());
        state.spans.extend(spans.drain(..take));
        self.publish(&state);
        let full_batch = take > 0 && state.spans.len() >= self.settings.batch_size;
        drop(state);
        if !spans.is_empty() {
            self.stats.count_dropped(spans.len() as u64);
            // Freed outside the lock.
            spans.clear();
        }
        if full_batch {
            self.wake.notify_all();
        }
    }

    /// Mirrors what the queue holds into the counters (under the state's lock).
    fn publish(&self, state: &QueueState) {
        self.stats.queued.store(state.spans.len() + state.in_flight as usize, Ordering::Relaxed);
    }

    fn start(self: Arc<Self>) {
        let starter = self.starter.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(starter) = starter {
            // Not started (no thread could be spawned): the queue fills and drops, counted.
            let worker = starter(self.clone()).ok();
            *self.worker.lock().unwrap_or_else(|p| p.into_inner()) = worker;
        }
    }

    /// Whether the worker was never started (the pipeline was not built).
    fn never_started(&self) -> bool {
        self.starter.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Closes the queue and settles every span it holds: queued ones dropped, the worker's failed.
    /// Waiting flushes are released (they see an error). Idempotent.
    fn abandon(&self) {
        let mut state = self.lock();
        if state.abandoned {
            return;
        }
        state.abandoned = true;
        state.closed = true;
        let queued = std::mem::take(&mut state.spans);
        let in_flight = std::mem::take(&mut state.in_flight);
        state.flush_waiters.clear();
        // Counted before the lock is released: a second caller (the guard's deadline racing the
        // processor's own) returns only once the counts are in.
        self.stats.dropped.fetch_add(queued.len() as u64, Ordering::Relaxed);
        self.stats.failed.fetch_add(in_flight, Ordering::Relaxed);
        self.publish(&state);
        drop(state);
        // The spans themselves are freed outside the lock.
        drop(queued);
        self.wake.notify_all();
    }
}

/// A span processor that queues finished spans for an exporter on a worker thread.
pub(crate) struct QueueProcessor {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for QueueProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueProcessor").field("settings", &self.shared.settings).finish_non_exhaustive()
    }
}

impl QueueProcessor {
    /// A queue for `exporter`; its worker thread starts with [`ExportStats::start`].
    pub(crate) fn new<E: SpanExporter + 'static>(exporter: E, settings: QueueSettings) -> Self {
        let settings = QueueSettings {
            queue_size: settings.queue_size.max(1),
            batch_size: settings.batch_size.clamp(1, settings.queue_size.max(1)),
            ..settings
        };
        // Captures the exporter only (the queue is passed in): a queue never started frees both.
        let starter: Starter = Box::new(move |shared| {
            std::thread::Builder::new().name("botanu-export".to_owned()).spawn(move || run_worker(exporter, shared))
        });
        let shared = Arc::new(Shared {
            state: Mutex::new(QueueState::default()),
            wake: Condvar::new(),
            starter: Mutex::new(Some(starter)),
            worker: Mutex::new(None),
            stats: Arc::new(ExportStats::default()),
            settings,
            upstream: OnceLock::new(),
            resource: Mutex::new(None),
        });
        let _ = shared.stats.queue.set(Arc::downgrade(&shared));
        shared.stats.queue_size.store(settings.queue_size, Ordering::Relaxed);
        QueueProcessor { shared }
    }

    /// Another handle on this queue, for the layer to give it spans directly (`on_end` only: the
    /// provider owns the processor, and flushes and shuts it down).
    pub(crate) fn handle(&self) -> QueueProcessor {
        QueueProcessor { shared: self.shared.clone() }
    }

    /// The counters of this queue.
    pub(crate) fn stats(&self) -> Arc<ExportStats> {
        self.shared.stats.clone()
    }

    fn drop_span(&self) {
        self.shared.stats.count_dropped(1);
    }

    /// Sends a request to the worker and waits for its answer, at most `timeout`.
    fn request(&self, timeout: Duration, register: impl FnOnce(&mut QueueState, SyncSender<()>)) -> OTelSdkResult {
        let (tx, rx) = sync_channel(1);
        {
            let mut state = self.shared.lock();
            if state.closed {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            register(&mut state, tx);
        }
        self.shared.wake.notify_all();
        rx.recv_timeout(timeout).map_err(|_| OTelSdkError::Timeout(timeout))
    }
}

impl SpanProcessor for QueueProcessor {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        // From here on the span is counted: exported, failed or dropped.
        REACHED.with(|r| r.set(true));
        // On a finisher worker: staged, queued with the rest of its batch.
        let mut span = Some(span);
        let _ = STAGED.try_with(|staged| {
            let Ok(mut staged) = staged.try_borrow_mut() else { return };
            let Some(staged) = staged.as_mut() else { return };
            let Some(taken) = span.take() else { return };
            match staged.iter_mut().find(|entry| Arc::ptr_eq(&entry.queue, &self.shared)) {
                Some(entry) => entry.spans.push(taken),
                None => staged.push(Staged { queue: self.shared.clone(), spans: vec![taken] }),
            }
        });
        let Some(span) = span else { return };
        let mut state = self.shared.lock();
        // The batch in flight counts: a hung export holds it.
        if state.closed || state.spans.len() + state.in_flight as usize >= self.shared.settings.queue_size {
            drop(state);
            self.drop_span();
            return;
        }
        state.spans.push_back(span);
        self.shared.publish(&state);
        let full_batch = state.spans.len() >= self.shared.settings.batch_size;
        drop(state);
        if full_batch {
            self.shared.wake.notify_all();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Called on a finisher worker (a processor flushing from there): what it staged is queued first.
        publish_staged();
        let timeout = self.shared.settings.export_timeout;
        let deadline = Instant::now() + timeout;
        if let Some(upstream) = self.shared.upstream.get() {
            upstream.drain(timeout)?;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        self.request(left, |state, tx| state.flush_waiters.push(tx))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        publish_staged();
        let deadline = Instant::now() + timeout;
        // The finisher first, so what it still holds reaches the queue before the queue closes; a
        // finisher that does not drain in time still stops, and what it held is counted dropped.
        if let Some(upstream) = self.shared.upstream.get() {
            let _ = upstream.shut_down(timeout);
        }
        if self.shared.never_started() {
            // A provider built and shut down without botanu's build (not done by botanu itself): no
            // worker to ask; what was queued is counted dropped, and the exporter is dropped.
            let _ = self.shared.starter.lock().unwrap_or_else(|p| p.into_inner()).take();
            self.shared.abandon();
            return Ok(());
        }
        let timeout = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        let result = self.request(timeout, |state, tx| {
            state.closed = true;
            state.shutdown = Some(tx);
        });
        match result {
            Ok(()) => {
                if let Some(worker) = self.shared.worker.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    let _ = worker.join();
                }
            }
            // The deadline passed (a hung exporter): settle the counts now, not whenever it returns.
            Err(OTelSdkError::Timeout(_)) => self.shared.abandon(),
            Err(_) => {}
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        *self.shared.resource.lock().unwrap_or_else(|p| p.into_inner()) = Some(resource.clone());
    }
}

/// What the worker takes from the queue in one round.
struct Round {
    /// The queue was abandoned: the worker stops.
    abandoned: bool,
    batch: Vec<SpanData>,
    flushers: Vec<SyncSender<()>>,
    shutdown: Option<SyncSender<()>>,
}

fn next_round(shared: &Shared, last_export: Instant) -> Round {
    let settings = shared.settings;
    let mut state = shared.lock();
    loop {
        let due = last_export.elapsed() >= settings.delay && !state.spans.is_empty();
        let urgent = !state.flush_waiters.is_empty() || state.shutdown.is_some();
        if state.abandoned {
            return Round { batch: Vec::new(), flushers: Vec::new(), shutdown: None, abandoned: true };
        }
        if urgent || due || state.spans.len() >= settings.batch_size {
            // A flush or shutdown takes everything queued now; otherwise one batch.
            let take = if urgent { state.spans.len() } else { state.spans.len().min(settings.batch_size) };
            state.in_flight += take as u64;
            shared.publish(&state);
            return Round {
                abandoned: false,
                batch: state.spans.drain(..take).collect(),
                flushers: std::mem::take(&mut state.flush_waiters),
                shutdown: state.shutdown.take(),
            };
        }
        let wait = settings.delay.saturating_sub(last_export.elapsed()).max(Duration::from_millis(1));
        state = shared.wake.wait_timeout(state, wait).unwrap_or_else(|p| p.into_inner()).0;
    }
}

fn run_worker<E: SpanExporter>(mut exporter: E, shared: Arc<Shared>) {
    // Nothing the exporter does (HTTP client events, spans) may come back into botanu.
    let _quiet = Context::enter_telemetry_suppressed_scope();
    let mut last_export = Instant::now();
    loop {
        if let Some(resource) = shared.resource.lock().unwrap_or_else(|p| p.into_inner()).take() {
            exporter.set_resource(&resource);
        }
        let round = next_round(&shared, last_export);
        if round.abandoned {
            return;
        }
        let batch_size = shared.settings.batch_size;
        let mut batch = round.batch;
        while !batch.is_empty() {
            let rest = if batch.len() > batch_size { batch.split_off(batch_size) } else { Vec::new() };
            let n = batch.len() as u64;
            let result = futures_executor::block_on(exporter.export(batch));
            // Counted under the lock, against an abandonment that already counted these spans.
            let mut state = shared.lock();
            if state.abandoned {
                return;
            }
            state.in_flight -= n;
            shared.publish(&state);
            match result {
                Ok(()) => shared.stats.exported.fetch_add(n, Ordering::Relaxed),
                Err(_) => shared.stats.failed.fetch_add(n, Ordering::Relaxed),
            };
            drop(state);
            batch = rest;
        }
        last_export = Instant::now();
        for flusher in round.flushers {
            let _ = flusher.try_send(());
        }
        if let Some(done) = round.shutdown {
            let _ = exporter.shutdown_with_timeout(shared.settings.export_timeout);
            let _ = done.try_send(());
            return;
        }
    }
}
