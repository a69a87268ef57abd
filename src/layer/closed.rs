//! A closed span on its way to the finisher, and the run roll-up's `pending` protocol, in one place.
//!
//! A run's children may close on other threads than the run, and the finisher's workers drain their
//! buffers one after another, each its own, so a worker can see a run before a child that closed before
//! it (on its own or another worker). So each child handed off
//! counts in its run's `pending` ([`closing`], on the application thread) until it is finished or dropped
//! ([`finish`], [`Handoff::release`]); a run whose `pending` is not zero [`waits`](Handoff::waits) (the
//! finisher parks it; see `pipeline/finisher/worker.rs` for how long). The counter itself is
//! `cost::RunCostCell::pending`.

use std::time::SystemTime;

use tracing_core::Metadata;

use super::kinds::Kind;
use super::state::SpanState;
use super::{export, Shared};
use crate::pipeline::Handoff;

/// A span closed on an application thread, waiting to be finished.
#[derive(Debug)]
pub(crate) struct Closed {
    state: SpanState,
    meta: &'static Metadata<'static>,
    end: SystemTime,
    /// For a run span: spans of the run still open when it closed (counted on the application thread).
    run_open: u64,
    /// Whether this span holds a `pending` count in its run (`state.run`) until it is finished.
    pending: bool,
}

impl Closed {
    /// A span that closed now, to be handed to the finisher: counted closed in its run, and pending in
    /// it until finished.
    pub(crate) fn new(state: SpanState, meta: &'static Metadata<'static>, end: SystemTime, shared: &Shared) -> Closed {
        let (run_open, pending) = closing(&state, shared, true);
        Closed { state, meta, end, run_open, pending }
    }
}

impl Handoff for Closed {
    /// A run span some of whose children are still to be finished.
    fn waits(&self) -> bool {
        self.state.kind == Kind::Run && self.state.run.as_ref().is_some_and(|run| run.cost.pending() > 0)
    }

    /// Releases the run's `pending` count this span held (dropped unfinished).
    fn release(&mut self) {
        if std::mem::take(&mut self.pending) {
            if let Some(run) = &self.state.run {
                run.cost.finished();
            }
        }
    }
}

/// Finishes one closed span (on a finisher worker, or on an application thread the finisher is behind);
/// `false` if it did not reach botanu's export queue, to be counted dropped: lost to a panic while
/// finishing (a bug, or a processor's, which must take neither the finisher nor the application down:
/// every later flush would otherwise wait its whole timeout), or ended after the tracer provider was
/// shut down through the SDK (`tracer_provider().shutdown()` reaches botanu's queue, which drains the
/// finisher, only after the provider stopped delivering spans).
pub(crate) fn finish(span: Closed, shared: &Shared) -> bool {
    // The run outlives the state `export::finish` consumes: its count is released after the span's
    // cost is in the run's tally.
    let pending_in = if span.pending { span.state.run.clone() } else { None };
    let finished = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        export::finish(span.state, shared, span.meta, span.end, span.run_open)
    }));
    if let Some(run) = pending_in {
        run.cost.finished();
    }
    // A panic after botanu's queue took the span (in a user's processor after it): counted by the queue.
    finished.unwrap_or_else(|_| crate::pipeline::reached_before_panic())
}

/// A span closed, on the application thread (whichever thread finishes it): counted closed in its run,
/// and, when `handed_off`, pending in it until finished. Returns, for a run span, how many spans of the
/// run are still open (`botanu.run.cost.open_spans`), counted now rather than when the run is finished.
pub(crate) fn closing(state: &SpanState, shared: &Shared, handed_off: bool) -> (u64, bool) {
    if shared.cost.is_none() {
        return (0, false);
    }
    let Some(run) = &state.run else { return (0, false) };
    if state.kind == Kind::Run {
        return (run.cost.open(), false);
    }
    run.cost.closed();
    if !handed_off {
        return (0, false);
    }
    run.cost.handed_off();
    (0, true)
}
