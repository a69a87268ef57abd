//! The retry chain read from a `tracing` span: [`RunAttempt::of`] and a span as a [`PreviousRun`]. The
//! chain itself (what a retry inherits) is pure and lives in `run/retry.rs`.

use tracing::Span;

use crate::run::{PreviousRun, RunAttempt};

impl RunAttempt {
    /// The run `span` is in (the span itself if it is a run span); `None` outside any run or without a
    /// botanu layer.
    pub fn of(span: &Span) -> Option<RunAttempt> {
        let mut out = None;
        crate::layer::with_state(span, |state, _| out = state.run.as_deref().map(RunAttempt::from));
        out
    }

    /// The run the current span is in.
    pub fn current() -> Option<RunAttempt> {
        RunAttempt::of(&Span::current())
    }
}

impl PreviousRun for Span {
    fn previous_run(&self) -> Option<RunAttempt> {
        RunAttempt::of(self)
    }
}
