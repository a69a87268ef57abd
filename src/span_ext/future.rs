//! [`RunFuture`]: an async run that knows whether it finished.
//!
//! `tracing`'s `.instrument(span)` closes the span when the future is dropped, finished or not, so a
//! run whose future was dropped half-way — a client that disconnected (hyper drops the handler's
//! future), a `tokio::time::timeout` that fired, a `select!` branch that lost — would close as if it had
//! succeeded. Only the code that owns the future can tell the two apart: a `RunFuture` remembers
//! whether its future completed, and when it is dropped before that, the run ends with outcome
//! `timeout` if its deadline has passed and `canceled` otherwise, unless the code already emitted an
//! outcome ([`emit_outcome`](crate::emit_outcome)). [`BotanuHttpLayer`] drives every request this way.
//!
//! [`BotanuHttpLayer`]: crate::propagation::tower::BotanuHttpLayer

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tracing::instrument::Instrumented;
use tracing::{Instrument, Span};

pin_project_lite::pin_project! {
    /// A future driven inside its run span, which records how the run ended if it is dropped before it
    /// completes; made by [`RunFutureExt::run_in`].
    ///
    /// - completed: the run ends as usual (`success` unless it failed or emitted another outcome; a run
    ///   that completes past its deadline without an outcome ends `timeout`);
    /// - dropped before completion: outcome `timeout` if the run's deadline (`run_span!(deadline = …)`,
    ///   or `botanu.deadline` from the caller's baggage) has passed, else `canceled` — written as
    ///   [`emit_outcome`](crate::emit_outcome) writes it (`botanu.outcome.status`, the
    ///   `botanu.run.completed` status, `botanu.outcome.reason`, a `botanu.outcome_emitted` event);
    /// - an outcome the code emitted before the drop is kept;
    /// - dropped while unwinding from a panic in it: the run failed (`error.type = panic`).
    ///
    /// Only a run span is settled this way: a `RunFuture` of any other span is a plain
    /// `.instrument(span)`.
    #[must_use = "futures do nothing unless polled"]
    pub struct RunFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        completed: bool,
    }

    impl<F> PinnedDrop for RunFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.completed {
                crate::layer::run_span::settle_dropped(this.inner.span());
            }
        }
    }
}

impl<F> RunFuture<F> {
    /// Drives `future` inside `span`, a run span (see [`RunFutureExt::run_in`]).
    pub(crate) fn new(future: F, span: Span) -> Self {
        RunFuture { inner: future.instrument(span), completed: false }
    }

    /// The run span.
    pub fn span(&self) -> &Span {
        self.inner.span()
    }
}

impl<F: std::fmt::Debug> std::fmt::Debug for RunFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunFuture")
            .field("span", self.inner.span())
            .field("inner", self.inner.inner())
            .field("completed", &self.completed)
            .finish()
    }
}

impl<F: Future> Future for RunFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        *this.completed = true;
        Poll::Ready(output)
    }
}

/// Runs a future as a run: `future.run_in(run_span!(…))` instead of `.instrument(run_span!(…))`, so a
/// dropped future ends its run `canceled` (or `timeout` past its deadline) rather than `success`.
///
/// ```
/// # use botanu::prelude::*;
/// # use botanu::semconv as k;
/// # use opentelemetry_sdk::trace::InMemorySpanExporter;
/// # use tracing_subscriber::prelude::*;
/// use botanu::RunFutureExt;
/// # let exporter = InMemorySpanExporter::default();
/// # let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
/// # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
/// let run = async { std::future::pending::<()>().await }.run_in(run_span!(workflow = "support"));
/// drop(run); // a client went away, a timeout fired, a `select!` branch lost
/// # });
/// # guard.force_flush()?;
/// # let spans = exporter.get_finished_spans().unwrap();
/// # let attr = |key: &str| spans[0].attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string());
/// assert_eq!(attr(k::OUTCOME_STATUS).as_deref(), Some("canceled"));
/// # Ok::<(), botanu::Error>(())
/// ```
pub trait RunFutureExt: Future + Sized {
    /// Drives this future inside `span` (a run span); see [`RunFuture`].
    fn run_in(self, span: Span) -> RunFuture<Self> {
        RunFuture::new(self, span)
    }
}

impl<F: Future> RunFutureExt for F {}
