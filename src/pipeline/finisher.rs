//! The finisher: closed spans are finished on a thread of botanu's, not on the application's.
//!
//! This file knows nothing of spans: it moves items that implement [`Handoff`] from the application's
//! threads to one thread that runs the stage it was started with (`layer/closed.rs` is that stage for
//! the layer: a closed span's state, finished by `export::finish`).
//!
//! Finishing a span (scrubbing its error message, pricing it, the metrics, stamping the run's keys,
//! building the OpenTelemetry span through the tracer and its processors) is most of botanu's work per
//! span, and none of it has to happen where the span closed. With botanu's own export queue (the
//! production pipeline; not with `with_span_exporter`/`with_span_processor`/console, whose processors
//! the user asked to run inline), `on_close` only takes the span's state out of the Registry, notes the
//! end time and pushes a `Closed` onto a buffer of its own thread. The finisher thread drains every
//! buffer and runs `export::finish`, which ends in the export queue (whose lock the finisher then
//! shares only with the exporter's worker).
//!
//! What runs where, per span:
//! - application thread: the fields (open, record), the run's `open` count, the hand-off: one lock of
//!   a mutex only this thread and the finisher touch, no shared cache line written;
//! - finisher thread: everything `export::finish` does;
//! - exporter thread (`queue.rs`): batching and the network.
//!
//! Buffers: one per application thread and pipeline, found through a thread-local (several pipelines may
//! live in one process: each test builds its own), registered once in the pipeline's list, so a buffer
//! of a thread that has exited is still drained. The finisher is woken when a buffer reaches
//! [`WAKE_AT`] spans and otherwise polls every [`poll_interval`]. Past [`high_water`] spans the finisher
//! is behind (the application closes spans faster than one thread finishes them): the application thread
//! then finishes its spans itself, in `on_close`, until the finisher catches up — backpressure, not
//! drops, and finishing spreads over the application's threads. A run waiting for children is not
//! finished there; it waits in the buffer up to the buffer's bound, past which (a stalled finisher) it is
//! finished there too, with the roll-up so far. Spans still buffered when a shutdown gives up are counted
//! dropped; spans closed after shutdown are
//! discarded uncounted, as the SDK does once its provider is shut down (the counters are final when
//! shutdown returns).
//!
//! Run roll-up: a run's children may close on other threads than the run, and buffers are drained one
//! after another, so the finisher can see a run before a child that closed before it. Each child handed
//! off counts in its run's `pending` until finished; a run whose `pending` is not zero waits in a
//! finisher-local list and is retried after every round, and finished anyway after [`PARK_LIMIT`] or at a
//! flush (one round after it was parked: by then every child that closed before it has been taken).
//! Each round is one pass over the buffers, so a flush completes within two rounds and a shutdown
//! (which closes every buffer before the last round) within one, whatever the application keeps closing.
//!
//! Flush and shutdown drain every buffer through the finisher first (bounded by the caller's timeout),
//! then flush the queue; `SdkTracerProvider::force_flush` does the same through the queue processor.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use super::queue::ExportStats;
use super::Upstream;

/// Spans in one thread's buffer that wake the finisher before its next poll.
pub(crate) const WAKE_AT: usize = 256;
/// Spans in one thread's buffer past which the finisher is behind: that thread finishes its spans
/// itself until the finisher catches up. An eighth of the queue size (8,192 by default), at least
/// 4 × [`WAKE_AT`], at most the queue size: a burst is absorbed, a sustained overload pushes back.
pub(crate) fn high_water(queue_size: usize) -> usize {
    (queue_size / 8).max(4 * WAKE_AT).min(queue_size.max(1))
}
/// Longest time a run waits for children that closed before it (see the module documentation).
pub(crate) const PARK_LIMIT: Duration = Duration::from_secs(1);

/// How often the finisher looks at the buffers when nothing woke it: a tenth of the export queue's
/// delay, between 1 ms and 100 ms. Spans wait in the queue up to the delay anyway, so this adds at
/// most a tenth to a span's time to export, and an idle process wakes at most 10 times a second.
pub(crate) fn poll_interval(delay: Duration) -> Duration {
    (delay / 10).clamp(Duration::from_millis(1), Duration::from_millis(100))
}

/// What moves through the finisher: a closed span, for the layer.
pub(crate) trait Handoff: Send + 'static {
    /// Whether this item must wait for items handed off before it on other threads (a run span whose
    /// children are still to be finished): it is parked, retried after every round, and finished anyway
    /// after [`PARK_LIMIT`], at a flush or at the buffer's bound.
    fn waits(&self) -> bool;
    /// Releases what the item holds in others' accounting when it is dropped unfinished (a run's
    /// `pending` count).
    fn release(&mut self);
}

/// One application thread's closed spans. Only that thread and the finisher lock it.
#[derive(Debug)]
struct Buffer<T> {
    slot: Mutex<Slot<T>>,
    /// The dispatcher the thread had when it first handed a span off (weak: the subscriber holds the
    /// layer, which holds this). The finisher logs the first-drop warning there, so it reaches the
    /// application's subscriber even when that is a thread's default, not the global one.
    dispatch: Option<tracing::dispatcher::WeakDispatch>,
}

#[derive(Debug)]
struct Slot<T> {
    spans: Vec<T>,
    /// Set at shutdown: spans pushed afterwards are dropped and counted.
    closed: bool,
}

impl<T> Default for Buffer<T> {
    fn default() -> Self {
        Buffer { slot: Mutex::new(Slot { spans: Vec::new(), closed: false }), dispatch: None }
    }
}

impl<T> Buffer<T> {
    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the pipeline's callers and its finisher agree on: drain requests, their completion, stop.
#[derive(Debug, Default)]
struct Control {
    requested: u64,
    completed: u64,
    stop: bool,
    stopped: bool,
}

/// A buffer as the per-thread table holds it, whatever its pipeline's item type.
trait LocalBuffer: Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn is_closed(&self) -> bool;
}

impl<T: Send + 'static> LocalBuffer for Buffer<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

/// Distinguishes pipelines in the per-thread buffer table.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's buffer of each pipeline it handed spans to, the last one used first (each an
    /// `Arc<Buffer<T>>` of its pipeline's `T`, found by the pipeline's id).
    static LOCAL: RefCell<Vec<(u64, Arc<dyn LocalBuffer>)>> = const { RefCell::new(Vec::new()) };
    /// Set on finisher threads: a flush asked from there must not wait for itself.
    static ON_FINISHER: Cell<bool> = const { Cell::new(false) };
}

/// The buffers, their finisher thread and its control.
pub(crate) struct Pipeline<T> {
    id: u64,
    buffers: Mutex<Vec<Arc<Buffer<T>>>>,
    /// Spans handed off when this thread's buffer table was already torn down (thread exit).
    orphans: Arc<Buffer<T>>,
    control: Mutex<Control>,
    done: Condvar,
    /// Read per span by the finisher only: set when it must stop without finishing more.
    abandon: AtomicBool,
    finisher: OnceLock<std::thread::Thread>,
    handle: Mutex<Option<JoinHandle<()>>>,
    bound: usize,
    high_water: usize,
    poll: Duration,
    stats: Vec<Arc<ExportStats>>,
}

impl<T> std::fmt::Debug for Pipeline<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("id", &self.id).field("bound", &self.bound).finish_non_exhaustive()
    }
}

impl<T: Handoff> Pipeline<T> {
    /// A pipeline whose buffers hold at most `bound` spans each, polled after the queue's `delay`,
    /// counting its drops in `stats` (the export queues it feeds).
    pub(crate) fn new(bound: usize, delay: Duration, stats: &[Arc<ExportStats>]) -> Arc<Self> {
        let orphans = Arc::new(Buffer::default());
        Arc::new(Pipeline {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            buffers: Mutex::new(vec![orphans.clone()]),
            orphans,
            control: Mutex::new(Control::default()),
            done: Condvar::new(),
            abandon: AtomicBool::new(false),
            finisher: OnceLock::new(),
            handle: Mutex::new(None),
            bound: bound.max(1),
            high_water: high_water(bound),
            poll: poll_interval(delay),
            stats: stats.to_vec(),
        })
    }

    /// Starts the finisher thread, which finishes each item with `finish` (`false`: the item was lost,
    /// counted dropped; `finish` must not panic); `false` if the thread could not be started (items are
    /// then finished inline by the caller).
    pub(crate) fn start(self: &Arc<Self>, finish: impl FnMut(T) -> bool + Send + 'static) -> bool {
        let pipeline = self.clone();
        let spawned =
            std::thread::Builder::new().name("botanu-finish".to_owned()).spawn(move || run_finisher(&pipeline, finish));
        match spawned {
            Ok(handle) => {
                let _ = self.finisher.set(handle.thread().clone());
                *self.handle.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
                // The queues drain the finisher first at their flush and shutdown.
                for stats in &self.stats {
                    stats.feed_from(self.clone());
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Whether the finisher runs (else the layer finishes spans inline).
    #[inline]
    pub(crate) fn is_running(&self) -> bool {
        self.finisher.get().is_some()
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake(&self) {
        if let Some(thread) = self.finisher.get() {
            thread.unpark();
        }
    }

    /// Hands a closed span to the finisher, through this thread's buffer. Called on the application
    /// thread, in `on_close`. Returns the span when the finisher is behind (this thread's buffer is past
    /// [`high_water`]): the caller finishes it itself, so an application that outruns the finisher slows
    /// down instead of losing spans, and finishing spreads over its threads.
    pub(crate) fn hand_off(&self, closed: T) -> Option<T> {
        let mut closed = Some(closed);
        let mut back = None;
        let _ = LOCAL.try_with(|local| {
            let Ok(mut local) = local.try_borrow_mut() else { return };
            if local.first().is_none_or(|(id, _)| *id != self.id) {
                self.find_local(&mut local);
            }
            let buffer = local.first().and_then(|(_, buffer)| buffer.as_any().downcast_ref::<Buffer<T>>());
            if let (Some(buffer), Some(span)) = (buffer, closed.take()) {
                back = self.push(buffer, span);
            }
        });
        match closed {
            // The thread's table is gone (thread exit) or busy: the shared fallback buffer.
            Some(span) => self.push(&self.orphans, span),
            None => back,
        }
    }

    /// Puts this pipeline's buffer first in the thread's table, registering a new one if needed.
    #[cold]
    #[inline(never)]
    fn find_local(&self, local: &mut Vec<(u64, Arc<dyn LocalBuffer>)>) {
        if let Some(pos) = local.iter().position(|(id, _)| *id == self.id) {
            local.swap(0, pos);
            return;
        }
        // Buffers of pipelines shut down since are dropped from the table (their own list settled them).
        local.retain(|(_, buffer)| !buffer.is_closed());
        let dispatch = tracing::dispatcher::get_default(|d| d.downgrade());
        let buffer = Arc::new(Buffer { dispatch: Some(dispatch), ..Buffer::default() });
        let mut buffers = self.buffers.lock().unwrap_or_else(|p| p.into_inner());
        // Registered under the list's lock, against a shutdown settling the list right now.
        if self.control().stopped {
            buffer.lock().closed = true;
        }
        buffers.push(buffer.clone());
        drop(buffers);
        local.insert(0, (self.id, buffer as Arc<dyn LocalBuffer>));
    }

    /// Pushes onto `buffer`; the span back if the finisher is behind (see [`Self::hand_off`]). A run
    /// waiting for children is not given back below the bound (finished here, its roll-up could miss
    /// them): it waits in the buffer. Past the bound (the finisher has stalled) it comes back too: a run
    /// finished with a partial roll-up beats a run lost, and the span carries `open_spans`. After shutdown the span is
    /// discarded uncounted, as the SDK does once its provider is shut down: the counters are final when
    /// shutdown returns.
    #[inline]
    fn push(&self, buffer: &Buffer<T>, span: T) -> Option<T> {
        let mut slot = buffer.lock();
        if slot.closed {
            drop(slot);
            let mut span = span;
            span.release();
            return None;
        }
        let len = slot.spans.len();
        if len >= self.high_water && (len >= self.bound || !span.waits()) {
            drop(slot);
            return Some(span);
        }
        slot.spans.push(span);
        let wake = slot.spans.len() == WAKE_AT;
        drop(slot);
        if wake {
            self.wake();
        }
        None
    }

    pub(crate) fn count_dropped(&self, n: u64) {
        for stats in &self.stats {
            stats.count_dropped(n);
        }
    }

    /// Finishes every span handed off before the call, waiting at most `timeout`. Returns at once on
    /// the finisher thread itself (a processor flushing from there) and after shutdown.
    pub(crate) fn drain(&self, timeout: Duration) -> OTelSdkResult {
        if ON_FINISHER.with(Cell::get) || !self.is_running() {
            return Ok(());
        }
        let deadline = Instant::now() + timeout;
        let mut control = self.control();
        if control.stopped || control.stop {
            return Ok(());
        }
        control.requested += 1;
        let target = control.requested;
        self.wake();
        while control.completed < target && !control.stopped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(OTelSdkError::Timeout(timeout));
            }
            control = self.done.wait_timeout(control, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        Ok(())
    }

    /// Drains (at most `timeout`), then stops the finisher. What could not be finished in time, and
    /// whatever is handed off afterwards, is dropped and counted. Idempotent.
    pub(crate) fn shut_down(&self, timeout: Duration) -> OTelSdkResult {
        let deadline = Instant::now() + timeout;
        let result = self.drain(timeout);
        {
            let mut control = self.control();
            if control.stop {
                // Another caller is stopping the finisher: the counters are final only once it has
                // (bounded by this caller's own timeout).
                while !control.stopped && !ON_FINISHER.with(Cell::get) {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(OTelSdkError::Timeout(timeout));
                    }
                    control = self.done.wait_timeout(control, left).unwrap_or_else(|p| p.into_inner()).0;
                }
                return result;
            }
            control.stop = true;
        }
        if result.is_err() {
            self.abandon.store(true, Ordering::Relaxed);
        }
        // Closed before the finisher's last round, so that round takes what is buffered now and nothing
        // more: with traffic still arriving, the join below stays bounded by one round.
        for buffer in self.buffers.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            buffer.lock().closed = true;
        }
        self.wake();
        // The finisher never waits on the network: joining it is bounded by the span it is finishing.
        if !ON_FINISHER.with(Cell::get) {
            if let Some(handle) = self.handle.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = handle.join();
            }
        }
        // Every buffer is closed, and what is still in one (handed off during the stop) is counted.
        let buffers = self.buffers.lock().unwrap_or_else(|p| p.into_inner());
        self.control().stopped = true;
        let mut left = 0;
        for buffer in buffers.iter() {
            let spans = {
                let mut slot = buffer.lock();
                slot.closed = true;
                std::mem::take(&mut slot.spans)
            };
            for mut span in spans {
                span.release();
                left += 1;
            }
        }
        drop(buffers);
        if left > 0 {
            self.count_dropped(left);
        }
        self.done.notify_all();
        result
    }

    /// Moves every buffer's spans into `into` (buffers keep their capacity: they get `spare`'s), and
    /// the dispatcher of the last buffer that had some into `dispatch`.
    fn take_all(
        &self,
        into: &mut Vec<T>,
        spare: &mut Vec<T>,
        dispatch: &mut Option<tracing::dispatcher::WeakDispatch>,
    ) {
        let mut buffers = self.buffers.lock().unwrap_or_else(|p| p.into_inner());
        // A buffer only the list holds belongs to a thread that exited: dropped once empty.
        buffers.retain(|buffer| {
            let mut slot = buffer.lock();
            if !slot.spans.is_empty() {
                std::mem::swap(&mut slot.spans, spare);
                drop(slot);
                into.append(spare);
                if buffer.dispatch.is_some() {
                    dispatch.clone_from(&buffer.dispatch);
                }
                return true;
            }
            drop(slot);
            Arc::strong_count(buffer) > 1
        });
    }
}

impl<T: Handoff> Upstream for Pipeline<T> {
    fn drain(&self, timeout: Duration) -> OTelSdkResult {
        Pipeline::drain(self, timeout)
    }

    fn shut_down(&self, timeout: Duration) -> OTelSdkResult {
        Pipeline::shut_down(self, timeout)
    }
}

/// The finisher thread's loop.
fn run_finisher<T: Handoff>(pipeline: &Pipeline<T>, mut finish: impl FnMut(T) -> bool) {
    ON_FINISHER.with(|f| f.set(true));
    // Nothing the SDK does here (its internal logs, say) may come back into botanu as spans.
    let _quiet = opentelemetry::Context::enter_telemetry_suppressed_scope();
    let mut batch = Vec::new();
    let mut spare = Vec::new();
    // Runs waiting for children: the span, since when, and the round that took it.
    let mut parked: Vec<(T, Instant, u64)> = Vec::new();
    let mut round = 0_u64;
    // The flush being completed: its target and the round that first saw it.
    let mut flush: Option<(u64, u64)> = None;
    let mut dispatch = None;
    loop {
        let (target, stop) = {
            let control = pipeline.control();
            (control.requested, control.stop)
        };
        // One pass over the buffers per round, whatever keeps arriving: a round is bounded, and a flush
        // needs no more (everything handed off before it was requested is in a buffer by now).
        round += 1;
        pipeline.take_all(&mut batch, &mut spare, &mut dispatch);
        let took = !batch.is_empty();
        for span in batch.drain(..) {
            if pipeline.abandon.load(Ordering::Relaxed) {
                let mut span = span;
                span.release();
                pipeline.count_dropped(1);
            } else if span.waits() {
                parked.push((span, Instant::now(), round));
            } else if !finish(span) {
                pipeline.count_dropped(1);
            }
        }
        // A flush (the oldest one not completed, first seen in round `seen`) or a stop finishes the runs
        // parked in an earlier round: their children closed before them, so they were in a buffer when
        // this round's pass began, and are finished now. A run taken in the flush's own round may have a
        // child in a buffer the pass read before the child arrived: the flush completes one round later,
        // when that run is forced too — at most two rounds, however much keeps arriving.
        if flush.is_none() && target > pipeline.control().completed {
            flush = Some((target, round));
        }
        let mut i = 0;
        while i < parked.len() {
            let (span, since, parked_in) = &parked[i];
            let forced = stop || (flush.is_some() && *parked_in < round);
            if forced || !span.waits() || since.elapsed() >= PARK_LIMIT {
                if !finish(parked.swap_remove(i).0) {
                    pipeline.count_dropped(1);
                }
            } else {
                i += 1;
            }
        }
        report_drops(&pipeline.stats, dispatch.as_ref());
        let again = {
            let mut control = pipeline.control();
            if let Some((flush_target, seen)) = flush {
                if parked.iter().all(|(_, _, parked_in)| *parked_in > seen) {
                    control.completed = control.completed.max(flush_target);
                    flush = None;
                }
            }
            took || flush.is_some() || control.requested > control.completed || control.stop
        };
        pipeline.done.notify_all();
        if stop {
            return;
        }
        if !again {
            std::thread::park_timeout(pipeline.poll);
        }
    }
}

/// Logs a due first-drop warning on the dispatcher of the application thread the finisher last served
/// (the global one if that is gone). Still under the finisher's telemetry suppression: botanu's own
/// layer does not attach it to a span, the application's other layers (fmt) see it.
fn report_drops(stats: &[Arc<ExportStats>], dispatch: Option<&tracing::dispatcher::WeakDispatch>) {
    match dispatch.and_then(|d| d.upgrade()) {
        Some(dispatch) => tracing::dispatcher::with_default(&dispatch, || super::report_drops(stats)),
        None => super::report_drops(stats),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for a closed span: whether it waits for others, and a count of its releases.
    struct Item {
        waits: bool,
        released: Arc<AtomicU64>,
    }

    impl Handoff for Item {
        fn waits(&self) -> bool {
            self.waits
        }
        fn release(&mut self) {
            self.released.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn item(released: &Arc<AtomicU64>) -> Item {
        Item { waits: false, released: released.clone() }
    }

    #[test]
    fn a_thread_whose_buffer_is_past_the_high_water_mark_finishes_its_spans_itself() {
        let released = Arc::new(AtomicU64::new(0));
        let stats = Arc::new(ExportStats::default());
        // Not started: nothing drains the buffer, as when the finisher is behind.
        let pipeline = Pipeline::new(10_000, Duration::from_secs(5), std::slice::from_ref(&stats));
        for i in 0..high_water(10_000) {
            assert!(pipeline.hand_off(item(&released)).is_none(), "span {i} is buffered");
        }
        assert!(pipeline.hand_off(item(&released)).is_some(), "past the mark, the span comes back");
        assert_eq!(stats.dropped(), 0, "given back, not dropped");
        // At shutdown what is still buffered is counted dropped (it was handed off before) and released.
        let _ = pipeline.shut_down(Duration::from_millis(10));
        assert_eq!(stats.dropped(), high_water(10_000) as u64);
        assert_eq!(released.load(Ordering::Relaxed), high_water(10_000) as u64);
        // Afterwards spans are discarded uncounted.
        assert!(pipeline.hand_off(item(&released)).is_none());
        assert_eq!(stats.dropped(), high_water(10_000) as u64);
    }

    #[test]
    fn a_run_waiting_for_children_is_given_back_past_the_bound_not_dropped() {
        let released = Arc::new(AtomicU64::new(0));
        let stats = Arc::new(ExportStats::default());
        let pipeline = Pipeline::new(100, Duration::from_secs(5), std::slice::from_ref(&stats));
        for i in 0..100 {
            assert!(pipeline.hand_off(item(&released)).is_none(), "span {i} is buffered");
        }
        // At the bound a waiting run comes back to be finished where it closed, with the roll-up so far.
        let run = Item { waits: true, released: released.clone() };
        assert!(pipeline.hand_off(run).is_some(), "the run comes back");
        assert_eq!(stats.dropped(), 0, "given back, not dropped");
        let _ = pipeline.shut_down(Duration::from_millis(10));
    }

    #[test]
    fn the_high_water_mark_is_an_eighth_of_the_queue_within_bounds() {
        for (queue, mark) in [(65_536, 8_192), (10_000, 1_250), (2_048, 1_024), (100, 100), (1, 1), (0, 1)] {
            assert_eq!(high_water(queue), mark, "queue {queue}");
        }
    }

    #[test]
    fn the_poll_interval_is_a_tenth_of_the_delay_within_bounds() {
        for (delay_ms, poll_ms) in [(0, 1), (5, 1), (10, 1), (200, 20), (5_000, 100), (60_000, 100)] {
            assert_eq!(poll_interval(Duration::from_millis(delay_ms)), Duration::from_millis(poll_ms), "{delay_ms} ms");
        }
    }
}
