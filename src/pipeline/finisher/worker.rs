//! A finisher worker: its rounds over the buffers it serves, the runs it parks until their children are
//! finished, and how the workers know where each other is (see the module documentation of `finisher`).

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::*;

/// A run waiting for children, in its worker's parked list.
struct Parked<T> {
    span: T,
    since: Instant,
    /// The worker's round that took it.
    taken: u64,
    /// Each worker's rounds begun when it was taken: it may be finished without its children once every
    /// worker completed a later round (see [`Pipeline::passed`]).
    begun: Vec<u64>,
}

impl<T: Handoff> Pipeline<T> {
    /// Moves the spans of every buffer worker `me` serves into `into` (buffers keep their capacity: they
    /// get `spare`'s), and the dispatcher of the last buffer that had some into `dispatch`. One round's
    /// pass: its number is published under the list's lock, before the buffers are read.
    pub(super) fn take_all(
        &self,
        me: usize,
        round: u64,
        into: &mut Vec<T>,
        spare: &mut Vec<T>,
        dispatch: &mut Option<tracing::dispatcher::WeakDispatch>,
    ) {
        let worker = &self.workers[me];
        let mut buffers = worker.list();
        worker.begun.store(round, Ordering::Release);
        // A buffer only the list holds belongs to a thread that exited: dropped once empty.
        buffers.retain(|buffer| {
            let mut slot = buffer.lock();
            note_given_back(&mut slot);
            if !slot.spans.is_empty() {
                std::mem::swap(&mut slot.spans, spare);
                drop(slot);
                into.append(spare);
                if buffer.dispatch.is_some() {
                    dispatch.clone_from(&buffer.dispatch);
                }
                return true;
            }
            // Idle since the last round: its unused credit goes back to the pipeline.
            let credit = std::mem::take(&mut slot.credit);
            drop(slot);
            self.unhold(credit);
            Arc::strong_count(buffer) > 1
        });
    }

    /// Each worker's rounds begun now, read under each worker's list lock: a round begun later reads
    /// every buffer after this call (see the module documentation).
    pub(super) fn rounds_begun(&self) -> Vec<u64> {
        self.workers
            .iter()
            .map(|worker| {
                let _list = worker.list();
                worker.begun.load(Ordering::Acquire)
            })
            .collect()
    }

    /// Whether every started worker completed a round begun after `begun` was read: everything handed off
    /// before then is finished.
    pub(super) fn passed(&self, begun: &[u64]) -> bool {
        self.workers.iter().zip(begun).all(|(worker, begun)| {
            !worker.alive.load(Ordering::Acquire) || worker.done.load(Ordering::Acquire) > *begun
        })
    }

    /// After a stop: this worker finished its last batch; waits until every started worker has, so the
    /// runs parked here are finished after every child that closed before them.
    pub(super) fn last_batch_done(&self) {
        let mut control = self.control();
        control.last_batches += 1;
        self.done.notify_all();
        // A worker that exited (it cannot have, short of a bug: `finish` catches panics) is not waited for.
        while control.last_batches < self.workers.iter().filter(|w| w.alive.load(Ordering::Acquire)).count() {
            control = self.done.wait(control).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// One finisher worker's loop.
pub(super) fn run_worker<T: Handoff>(pipeline: &Pipeline<T>, me: usize, finish: &dyn Fn(T) -> bool) {
    ON_FINISHER.with(|f| f.set(true));
    // Nothing the SDK does here (its internal logs, say) may come back into botanu as spans.
    let _quiet = opentelemetry::Context::enter_telemetry_suppressed_scope();
    // Spans finished here reach the export queue in batches (`publish`), not one lock per span.
    queue::stage_here();
    let _exit = Exit { pipeline, me };
    let worker = &pipeline.workers[me];
    let mut batch = Vec::new();
    let mut spare = Vec::new();
    let mut parked: Vec<Parked<T>> = Vec::new();
    let mut round = 0_u64;
    // The flush being completed: its target and the round that first saw it.
    let mut flush: Option<(u64, u64)> = None;
    let mut dispatch = None;
    // Whether this worker counts in the pipeline's `waiting`.
    let mut waiting = false;
    // Spans no longer held once in the export queue: finished or dropped (parked ones stay held).
    let mut settled = 0;
    // Finished spans go into the queue, then stop counting in the pipeline's bound.
    let publish = |settled: &mut usize| {
        queue::publish_staged();
        pipeline.unhold(std::mem::take(settled));
    };
    loop {
        let (target, stop) = {
            let control = pipeline.control();
            (control.requested, control.stop)
        };
        // One pass over the buffers per round, whatever keeps arriving: a round is bounded, and a flush
        // needs no more (everything handed off before it was requested is in a buffer by now).
        round += 1;
        pipeline.take_all(me, round, &mut batch, &mut spare, &mut dispatch);
        let took = !batch.is_empty();
        for span in batch.drain(..) {
            if pipeline.abandon.load(Ordering::Relaxed) {
                let mut span = span;
                span.release();
                pipeline.count_dropped(1);
                settled += 1;
            } else if span.waits() {
                let begun = pipeline.rounds_begun();
                parked.push(Parked { span, since: Instant::now(), taken: round, begun });
            } else {
                if !finish(span) {
                    pipeline.count_dropped(1);
                }
                settled += 1;
                // Given back as the round goes, not at its end: threads need the room now.
                if settled == WAKE_AT {
                    publish(&mut settled);
                }
            }
        }
        publish(&mut settled);
        worker.done.store(round, Ordering::Release);
        if stop {
            pipeline.last_batch_done();
        }
        // A flush (the oldest one not completed, first seen in round `seen`) or a stop finishes the runs
        // parked before: their children closed before them, so once every worker completed a round begun
        // after the run was taken they are finished. A run taken in the flush's own round is forced in a
        // later one — the flush completes within two rounds of every worker, however much keeps arriving.
        if flush.is_none() && target > pipeline.control().completed[me] {
            flush = Some((target, round));
        }
        let mut i = 0;
        while i < parked.len() {
            let p = &parked[i];
            let forced = stop || (flush.is_some() && pipeline.passed(&p.begun));
            // The limit is for children that close after their run, never for a child that closed
            // before it and is still in another worker's round: that one is waited for.
            let overdue = p.since.elapsed() >= PARK_LIMIT && pipeline.passed(&p.begun);
            if pipeline.abandon.load(Ordering::Relaxed) {
                // A stop that ran out of time: nothing more is finished (a user's exporter may be
                // what is slow), the rest is counted dropped.
                let mut span = parked.swap_remove(i).span;
                span.release();
                pipeline.count_dropped(1);
                settled += 1;
            } else if forced || !p.span.waits() || overdue {
                if !finish(parked.swap_remove(i).span) {
                    pipeline.count_dropped(1);
                }
                settled += 1;
                if settled == WAKE_AT {
                    publish(&mut settled);
                }
            } else {
                i += 1;
            }
        }
        publish(&mut settled);
        // The warning runs the application's other layers on this thread: a panic there must not take
        // the worker (and the buffers it serves) down.
        let _ =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| report_drops(&pipeline.stats, dispatch.as_ref())));
        let again = {
            let mut control = pipeline.control();
            if let Some((flush_target, seen)) = flush {
                if parked.iter().all(|p| p.taken > seen) {
                    control.completed[me] = control.completed[me].max(flush_target);
                    flush = None;
                }
            }
            took || control.requested > control.completed[me] || control.stop
        };
        pipeline.done.notify_all();
        if stop {
            break;
        }
        // A flush still open here waits for rounds of the other workers begun after its parked runs were
        // taken: they are woken after every round of any worker while one waits, and wake it in turn (a
        // round each, not a timed poll).
        // (Read here, not at the start: `start` counts the workers once all were spawned.)
        let waits = flush.is_some() && pipeline.running.load(Ordering::Acquire) > 1;
        if waits != waiting {
            if waits {
                pipeline.waiting.fetch_add(1, Ordering::SeqCst);
            } else {
                pipeline.waiting.fetch_sub(1, Ordering::SeqCst);
            }
            waiting = waits;
        }
        if pipeline.waiting.load(Ordering::SeqCst) > 0 {
            pipeline.wake_others(me);
        }
        if !again || (waiting && !took) {
            std::thread::park_timeout(pipeline.poll);
        }
    }
    if waiting {
        pipeline.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A worker's exit, however it happens: what it staged reaches the queue, and no one waits for it.
struct Exit<'a, T: Handoff> {
    pipeline: &'a Pipeline<T>,
    me: usize,
}

impl<T: Handoff> Drop for Exit<'_, T> {
    fn drop(&mut self) {
        queue::publish_staged();
        queue::unstage();
        let _control = self.pipeline.control();
        self.pipeline.workers[self.me].alive.store(false, Ordering::Release);
        self.pipeline.done.notify_all();
    }
}

/// Logs a due first-drop warning on the dispatcher of the application thread the worker last served
/// (the global one if that is gone). Still under the worker's telemetry suppression: botanu's own
/// layer does not attach it to a span, the application's other layers (fmt) see it.
fn report_drops(stats: &[Arc<ExportStats>], dispatch: Option<&tracing::dispatcher::WeakDispatch>) {
    match dispatch.and_then(|d| d.upgrade()) {
        Some(dispatch) => tracing::dispatcher::with_default(&dispatch, || crate::pipeline::report_drops(stats)),
        None => crate::pipeline::report_drops(stats),
    }
}
