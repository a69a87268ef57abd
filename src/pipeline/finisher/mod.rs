//! The finisher: closed spans are finished on botanu's threads, not on the application's.
//!
//! This file knows nothing of spans: it moves items that implement [`Handoff`] from the application's
//! threads to botanu's finisher workers, which run the stage they were started with (`layer/closed.rs` is
//! that stage for the layer: a closed span's state, finished by `export::finish`).
//!
//! Finishing a span (scrubbing its error message, pricing it, the metrics, stamping the run's keys,
//! building the OpenTelemetry span through the tracer and its processors) is most of botanu's work per
//! span, and none of it has to happen where the span closed. With every pipeline a user can configure
//! (botanu's own export queue, `with_span_exporter`, `with_span_processor`, the console; only
//! `botanu::testing` finishes spans where they close, for determinism), `on_close` only takes the span's
//! state out of the Registry, notes the end time and pushes a `Closed` onto a buffer of its own thread.
//! A finisher worker drains the buffers it serves and runs `export::finish`, which ends in the export
//! queue or in the user's processors.
//!
//! What runs where, per span:
//! - application thread: the fields (open, record), the run's `open` count, the hand-off: one lock of
//!   a mutex only this thread and its worker touch, no shared cache line written;
//! - finisher worker: everything `export::finish` does, the user's span processors included; the
//!   finished spans reach the export queue in batches (`queue.rs`: one lock of the queue per batch of up
//!   to [`WAKE_AT`] spans, not per span);
//! - exporter thread (`queue.rs`): batching and the network.
//!
//! Workers: [`workers`] of them, one per core up to [`MAX_WORKERS`], so the finisher is not one core's
//! worth of work on a machine with more. Each application thread's buffer is served by one worker
//! (assigned in turn when the thread first hands a span off), so a buffer's lock is shared by two threads
//! only, and workers share no lock per span: each has its own list of buffers, and what they do share
//! (the pipeline's `held` count, the control below) is written once per batch or round. Past the
//! high-water mark application threads finish spans themselves, in parallel (see below). How often
//! threads meet on a lock is counted (`crate::contention`, printed by `benches/throughput.rs`).
//!
//! Buffers: one per application thread and pipeline, found through a thread-local (several pipelines may
//! live in one process: each test builds its own), registered once in its worker's list, so a buffer
//! of a thread that has exited is still drained. A worker is woken when a buffer of its reaches
//! [`WAKE_AT`] spans (all of them when the pipeline is half full) and otherwise polls every
//! [`poll_interval`].
//!
//! Memory: ONE bound per pipeline, whatever the number of threads and workers. The finisher holds at most
//! [`capacity`] closed spans (an eighth of the queue size) — every buffer, the runs parked waiting for
//! children and the spans being finished or on their way into the queue, counted in one pipeline-wide
//! `held` — plus as many again for runs waiting for children (so a run is not cut off from its roll-up by
//! its own children's burst); the export queue holds at most `queue_size` more, the batch in a hung export
//! included. So botanu holds at most `queue_size + 2 × capacity` spans (1.25 × `queue_size`) per pipeline.
//! Threads do not write `held` per span: a buffer reserves [`CREDIT`] spans of it at a time (under its own
//! lock), and its worker takes back what an idle buffer did not use; a worker gives back what it finished
//! only once those spans are in the export queue.
//!
//! Past the bound, at the hand-off, the finisher is behind. When the export queue has room (the
//! application closes spans faster than the workers finish them), the application thread finishes the
//! span itself, in `on_close` — backpressure, not drops, and finishing spreads over the application's
//! threads. When the queue is full too (the exporter is stuck or far behind), the span is dropped there
//! and counted (`ExportStats`, the first drop warns once): finishing it would only reach the full queue,
//! and the application thread must neither do that work nor wait on the queue's lock because the
//! exporter is stuck. Dropping costs the thread the span's state freed and one counter. A run waiting for
//! children that comes back past its own (doubled) bound is finished with the roll-up so far, or dropped
//! the same way. Spans still buffered when a shutdown gives up are counted dropped; spans closed after
//! shutdown are discarded uncounted, as the SDK does once its provider is shut down (the counters are
//! final when shutdown returns).
//!
//! Run roll-up: a run's children may close on other threads than the run, and so reach another worker,
//! or the same worker's later buffer: a worker can see a run before a child that closed before it. Each
//! child handed off counts in its run's `pending` until finished, whichever worker finishes it; a run
//! whose `pending` is not zero waits in its worker's parked list and is retried after every round, and
//! finished anyway after [`PARK_LIMIT`], at a flush or at a stop — once every worker has completed a
//! round begun after the run was taken (by then every child that closed before it has been taken and
//! finished: a round is one pass over the worker's buffers, under its list's lock, which the parking
//! worker takes to read where each worker is). A stop finishes parked runs only after every worker has
//! finished its last batch. So a flush completes within two rounds of every worker and a shutdown (which
//! closes every buffer before the last round) within one, whatever the application keeps closing.
//!
//! Flush and shutdown drain every buffer through the workers first (bounded by the caller's timeout),
//! then flush the queue; `SdkTracerProvider::force_flush` and `shutdown` do the same through each span
//! processor (botanu's queue, and the user's wrapped in `user::UserProcessor`). Shutdown joins every
//! worker.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use super::queue::{self, ExportStats};
use super::Upstream;
use crate::contention::{self, Site};

mod stop;
mod worker;

use worker::run_worker;

/// Spans in one thread's buffer that wake its worker before its next poll; also the most finished spans
/// a worker keeps before pushing them into the export queue (one lock of the queue per batch).
pub(crate) const WAKE_AT: usize = 256;
/// Spans of the pipeline's capacity a buffer reserves at a time, so threads do not all write the
/// pipeline's count per span.
pub(crate) const CREDIT: usize = 32;
/// Finisher workers at most, whatever the number of cores: past this the application threads finish
/// their spans themselves in parallel (backpressure) rather than wait for more workers.
pub(crate) const MAX_WORKERS: usize = 8;
/// Closed spans the finisher holds at most (buffers, parked runs, spans being finished), apart from runs
/// waiting for children, which may take as many again: an eighth of the queue size (8,192 by default),
/// at least 1. A burst is absorbed; past it the application finishes its spans itself while the export
/// queue has room, and drops them (counted) when it has none. See the module documentation.
pub(crate) fn capacity(queue_size: usize) -> usize {
    (queue_size / 8).max(1)
}
/// Finisher workers per pipeline: one per core the process may use, at most [`MAX_WORKERS`], at least 1.
pub(crate) fn workers() -> usize {
    match WORKERS_OVERRIDE.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).clamp(1, MAX_WORKERS),
        n => n.min(MAX_WORKERS),
    }
}
/// Set by the benchmarks only (`__private::set_finisher_workers`): the workers of pipelines built from
/// now on, whatever the cores (0: one per core).
static WORKERS_OVERRIDE: AtomicUsize = AtomicUsize::new(0);

/// Sets the number of finisher workers of pipelines built from now on (0: one per core), for the
/// benchmarks, which show on a 2-core machine how the work splits over more workers.
pub(crate) fn override_workers(n: usize) {
    WORKERS_OVERRIDE.store(n, Ordering::Relaxed);
}
/// Spans the hand-off gave back to the application thread past the bound, process-wide: finished there
/// (or dropped, counted, when the export queue was full). Summed from the buffers by their workers once
/// per round, so no application thread writes it; for the benchmarks (`__private::spans_given_back`).
static GIVEN_BACK: AtomicU64 = AtomicU64::new(0);

fn note_given_back<T>(slot: &mut Slot<T>) {
    if slot.given_back > 0 {
        GIVEN_BACK.fetch_add(std::mem::take(&mut slot.given_back), Ordering::Relaxed);
    }
}

/// Spans given back to application threads past the bound so far (up to each worker's last round).
pub(crate) fn given_back() -> u64 {
    GIVEN_BACK.load(Ordering::Relaxed)
}

/// Longest time a run waits for children that closed before it (see the module documentation).
pub(crate) const PARK_LIMIT: Duration = Duration::from_secs(1);

/// How often a worker looks at its buffers when nothing woke it: a tenth of the export queue's
/// delay, between 1 ms and 100 ms. Spans wait in the queue up to the delay anyway, so this adds at
/// most a tenth to a span's time to export, and an idle process wakes at most 10 times a second per worker.
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

/// One application thread's closed spans. Only that thread and its worker lock it.
#[derive(Debug)]
struct Buffer<T> {
    slot: Mutex<Slot<T>>,
    /// The dispatcher the thread had when it first handed a span off (weak: the subscriber holds the
    /// layer, which holds this). The worker logs the first-drop warning there, so it reaches the
    /// application's subscriber even when that is a thread's default, not the global one.
    dispatch: Option<tracing::dispatcher::WeakDispatch>,
    /// The worker that drains it.
    worker: usize,
}

#[derive(Debug)]
struct Slot<T> {
    spans: Vec<T>,
    /// Of the pipeline's `held`, what this buffer reserved and has not used yet.
    credit: usize,
    /// Set at shutdown: spans pushed afterwards are discarded.
    closed: bool,
    /// Spans given back to this thread past the bound since its worker last looked (see [`given_back`]).
    given_back: u64,
}

impl<T> Buffer<T> {
    fn new(worker: usize, dispatch: Option<tracing::dispatcher::WeakDispatch>) -> Self {
        Buffer {
            slot: Mutex::new(Slot { spans: Vec::new(), credit: 0, closed: false, given_back: 0 }),
            dispatch,
            worker,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        contention::lock(Site::Buffer, &self.slot)
    }
}

/// One finisher worker: the buffers it drains and where it is.
#[derive(Debug)]
struct Worker<T> {
    /// Its buffers. A round holds this lock for its whole pass (see [`Pipeline::rounds_begun`]).
    buffers: Mutex<Vec<Arc<Buffer<T>>>>,
    thread: OnceLock<std::thread::Thread>,
    /// Whether the worker's thread was started (a spawn that failed leaves it out of every wait).
    alive: AtomicBool,
    /// Rounds begun, written under `buffers`' lock at the start of the round's pass.
    begun: AtomicU64,
    /// Rounds whose batch is finished and in the export queue.
    done: AtomicU64,
}

impl<T> Worker<T> {
    fn new() -> Self {
        Worker {
            buffers: Mutex::new(Vec::new()),
            thread: OnceLock::new(),
            alive: AtomicBool::new(false),
            begun: AtomicU64::new(0),
            done: AtomicU64::new(0),
        }
    }

    fn list(&self) -> MutexGuard<'_, Vec<Arc<Buffer<T>>>> {
        contention::lock(Site::BufferList, &self.buffers)
    }

    fn wake(&self) {
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }
}

/// What the pipeline's callers and its workers agree on: drain requests, their completion, stop.
#[derive(Debug, Default)]
struct Control {
    requested: u64,
    /// The last drain request each worker completed.
    completed: Vec<u64>,
    stop: bool,
    /// Workers that finished their last batch after a stop (parked runs are finished after all did).
    last_batches: usize,
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
    /// Set on finisher workers: a flush asked from there must not wait for itself.
    static ON_FINISHER: Cell<bool> = const { Cell::new(false) };
}

/// The buffers, their finisher workers and their control.
pub(crate) struct Pipeline<T> {
    id: u64,
    workers: Box<[Worker<T>]>,
    /// The worker the next new buffer goes to (in turn).
    next_worker: AtomicUsize,
    /// Spans handed off when this thread's buffer table was already torn down (thread exit).
    orphans: Arc<Buffer<T>>,
    control: Mutex<Control>,
    done: Condvar,
    /// Read per span by the workers only: set when they must stop without finishing more.
    abandon: AtomicBool,
    /// Workers started; 0 until [`Self::start`] succeeds.
    running: AtomicUsize,
    /// Workers whose flush waits for the other workers' next rounds (a run parked there, its children
    /// perhaps elsewhere): while it is not zero, every worker wakes the others after each round.
    waiting: AtomicUsize,
    handles: Mutex<Vec<JoinHandle<()>>>,
    /// Spans the finisher holds or buffers have reserved (see the module documentation): written by a
    /// thread once per [`CREDIT`] spans, and by a worker once per batch.
    held: AtomicUsize,
    /// The most `held` may reach with a span that does not wait (see [`capacity`]); twice this with a run
    /// waiting for children.
    capacity: usize,
    poll: Duration,
    stats: Vec<Arc<ExportStats>>,
}

impl<T> std::fmt::Debug for Pipeline<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("id", &self.id)
            .field("capacity", &self.capacity)
            .field("workers", &self.workers.len())
            .finish_non_exhaustive()
    }
}

impl<T: Handoff> Pipeline<T> {
    /// A pipeline in front of export queues of `queue_size` spans (it holds at most [`capacity`] of
    /// that, twice that with runs waiting), polled after the queue's `delay`, counting its drops in
    /// `stats` (the export queues it feeds), with [`workers`] finisher workers.
    pub(crate) fn new(queue_size: usize, delay: Duration, stats: &[Arc<ExportStats>]) -> Arc<Self> {
        Self::with_workers(queue_size, delay, stats, workers())
    }

    /// [`Self::new`] with `workers` finisher workers (at least 1).
    pub(crate) fn with_workers(
        queue_size: usize,
        delay: Duration,
        stats: &[Arc<ExportStats>],
        workers: usize,
    ) -> Arc<Self> {
        let workers: Box<[Worker<T>]> = (0..workers.max(1)).map(|_| Worker::new()).collect();
        let orphans = Arc::new(Buffer::new(0, None));
        workers[0].buffers.lock().unwrap_or_else(|p| p.into_inner()).push(orphans.clone());
        let control = Control { completed: vec![0; workers.len()], ..Control::default() };
        Arc::new(Pipeline {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            workers,
            next_worker: AtomicUsize::new(0),
            orphans,
            control: Mutex::new(control),
            done: Condvar::new(),
            abandon: AtomicBool::new(false),
            running: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            handles: Mutex::new(Vec::new()),
            held: AtomicUsize::new(0),
            capacity: capacity(queue_size),
            poll: poll_interval(delay),
            stats: stats.to_vec(),
        })
    }

    /// Starts the finisher workers, which finish each item with `finish` (`false`: the item was lost,
    /// counted dropped; `finish` must not panic); `false` if no worker could be started (items are
    /// then finished inline by the caller). A worker that could not be started gets no buffers. The builder
    /// then makes the span processors drain the workers first at their flush and shutdown (`FinisherLink`).
    pub(crate) fn start(self: &Arc<Self>, finish: impl Fn(T) -> bool + Send + Sync + 'static) -> bool {
        let finish = Arc::new(finish);
        let mut handles = Vec::with_capacity(self.workers.len());
        for (me, worker) in self.workers.iter().enumerate() {
            worker.alive.store(true, Ordering::Release);
            let (pipeline, finish) = (self.clone(), finish.clone());
            let spawned = std::thread::Builder::new()
                .name("botanu-finish".to_owned())
                .spawn(move || run_worker(&pipeline, me, &*finish));
            match spawned {
                Ok(handle) => {
                    let _ = worker.thread.set(handle.thread().clone());
                    handles.push(handle);
                }
                Err(_) => {
                    worker.alive.store(false, Ordering::Release);
                    // Worker 0 serves the orphans' buffer: without it nothing runs, spans finish inline.
                    if me == 0 {
                        return false;
                    }
                }
            }
        }
        self.running.store(handles.len(), Ordering::Release);
        *self.handles.lock().unwrap_or_else(|p| p.into_inner()) = handles;
        true
    }

    /// Whether the finisher runs (else the layer finishes spans inline).
    #[inline]
    pub(crate) fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed) > 0
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        contention::lock(Site::Control, &self.control)
    }

    fn wake_all(&self) {
        for worker in self.workers.iter() {
            worker.wake();
        }
    }

    fn wake_others(&self, me: usize) {
        for (i, worker) in self.workers.iter().enumerate() {
            if i != me {
                worker.wake();
            }
        }
    }

    /// Hands a closed span to the finisher, through this thread's buffer. Called on the application
    /// thread, in `on_close`. Past the pipeline's bound (the finisher is behind) the span comes back
    /// when the export queue has room — the caller finishes it itself, so an application that outruns
    /// the finisher slows down instead of losing spans — and is dropped and counted when it has none
    /// (see the module documentation).
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
        let back = match closed {
            // The thread's table is gone (thread exit) or busy: the shared fallback buffer.
            Some(span) => self.push(&self.orphans, span),
            None => back,
        };
        match back {
            Some(span) if !self.queue_has_room() => {
                self.drop_at_hand_off(span);
                None
            }
            back => back,
        }
    }

    /// Whether any export queue this pipeline feeds has room for a span (a pipeline feeding none, a
    /// provider with only the user's processors, always has).
    fn queue_has_room(&self) -> bool {
        self.stats.is_empty() || self.stats.iter().any(|stats| stats.has_room())
    }

    /// Past the bound with every queue full: the span is dropped where it closed, and counted.
    #[cold]
    #[inline(never)]
    fn drop_at_hand_off(&self, mut span: T) {
        span.release();
        self.count_dropped(1);
        // The first drop warns here, on the application's own subscriber.
        super::report_drops(&self.stats);
    }

    /// Reserves up to `want` spans of the pipeline's count, without passing `limit`; how many it got.
    fn reserve(&self, want: usize, limit: usize) -> usize {
        let mut held = self.held.load(Ordering::Relaxed);
        loop {
            let got = want.min(limit.saturating_sub(held));
            if got == 0 {
                return 0;
            }
            match self.held.compare_exchange_weak(held, held + got, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    // Half full: the workers may be asleep while many threads each stay below WAKE_AT.
                    if held < self.capacity / 2 && held + got >= self.capacity / 2 {
                        self.wake_all();
                    }
                    return got;
                }
                Err(now) => held = now,
            }
        }
    }

    /// Gives back `n` spans of the pipeline's count (finished, dropped, or unused credit).
    fn unhold(&self, n: usize) {
        if n > 0 {
            self.held.fetch_sub(n, Ordering::Relaxed);
        }
    }

    /// Puts this pipeline's buffer first in the thread's table, registering a new one if needed (with
    /// the next worker in turn among those started).
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
        let n = self.workers.len();
        let first = self.next_worker.fetch_add(1, Ordering::Relaxed) % n;
        // A worker that could not be started is skipped (worker 0 always runs when any does).
        let worker =
            (first..first + n).map(|w| w % n).find(|w| self.workers[*w].alive.load(Ordering::Acquire)).unwrap_or(0);
        let buffer = Arc::new(Buffer::new(worker, Some(dispatch)));
        let mut buffers = self.workers[worker].list();
        // Registered under the list's lock, against a shutdown settling the list right now.
        if self.control().stopped {
            buffer.lock().closed = true;
        }
        buffers.push(buffer.clone());
        drop(buffers);
        local.insert(0, (self.id, buffer as Arc<dyn LocalBuffer>));
    }

    /// Pushes onto `buffer`; the span back if the pipeline is at its bound (see [`Self::hand_off`]). A
    /// run waiting for children may use twice the capacity (finished where it closed, its roll-up could
    /// miss them): past that (the finisher has stalled) it comes back too, and a run finished with a
    /// partial roll-up beats a run lost (the span carries `open_spans`). After shutdown the span is
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
        if slot.credit == 0 {
            slot.credit =
                if span.waits() { self.reserve(1, 2 * self.capacity) } else { self.reserve(CREDIT, self.capacity) };
            if slot.credit == 0 {
                slot.given_back += 1;
                drop(slot);
                return Some(span);
            }
        }
        slot.credit -= 1;
        slot.spans.push(span);
        let wake = slot.spans.len() == WAKE_AT;
        drop(slot);
        if wake {
            self.workers[buffer.worker].wake();
        }
        None
    }

    pub(crate) fn count_dropped(&self, n: u64) {
        for stats in &self.stats {
            stats.count_dropped(n);
        }
    }
}

#[cfg(test)]
mod tests;
