//! Testing your instrumentation: capture what a piece of code exported, the way the backend sees it.
//!
//! A test that asks "does this handler emit one run with outcome `success` and two LLM calls?" needs a
//! botanu pipeline of its own: in-memory exporters, a subscriber scoped to the code under test (so
//! tests running in parallel never see each other's spans), and a flush before reading. [`capture`]
//! and [`capture_async`] are that pipeline in one call; [`Captured`] holds what was exported, with the
//! look-ups tests need ([`Captured::run`], [`Captured::children_of`], [`Captured::llm_calls`],
//! [`CapturedSpan::attr`], [`CapturedSpan::run_status`], [`CapturedSpan::cost_usd`], [`Captured::metric`]),
//! each panicking with a listing of everything exported when what it looks for is not there.
//!
//! Needs the `testing` feature (it brings the OpenTelemetry SDK's in-memory exporters), typically only
//! for tests: `botanu = { version = "…", features = ["testing"] }` under `[dev-dependencies]`.
//!
//! ```
//! use botanu::prelude::*;
//!
//! // The code under test: one business event with two model calls.
//! fn answer_ticket() {
//!     run_span!(workflow = "support", event_id = "ticket-42").in_scope(|| {
//!         for model in ["gpt-4o-mini", "gpt-4o"] {
//!             llm_span!(provider = "openai", model = model)
//!                 .set_tokens(Tokens { input: 1_000, output: 200, ..Default::default() });
//!         }
//!     });
//! }
//!
//! // The test: this handler emits one run with outcome success and two LLM calls.
//! let cap = botanu::testing::capture(answer_ticket);
//! let run = cap.run();
//! assert_eq!(run.attr_str("botanu.workflow"), Some("support"));
//! assert_eq!(run.run_status(), Some("success"));
//! let calls = cap.llm_calls();
//! assert_eq!(calls.len(), 2);
//! assert!(calls.iter().all(|call| cap.is_in_run(call, run)));
//! assert_eq!(calls[1].attr_str("gen_ai.request.model"), Some("gpt-4o"));
//! assert_eq!(calls[1].attr_i64("gen_ai.usage.input_tokens"), Some(1_000));
//! // Both calls are priced (bundled catalog), and the run carries their sum.
//! assert!(run.cost_usd().is_some_and(|usd| usd > 0.0));
//! assert_eq!(cap.metric("gen_ai.client.token.usage").points().len(), 4);
//! ```
//!
//! # Async code and spawned tasks
//!
//! [`capture_async`] runs a future under the capture's subscriber *wherever it is polled* (the
//! subscriber travels with the future, as `tracing`'s `WithSubscriber` does), so it works in
//! `#[tokio::test]` on the multi-thread runtime too. A task spawned inside it (`tokio::spawn`,
//! `std::thread::spawn`) is a separate future or thread and does not inherit the subscriber: wrap it
//! with `.with_current_subscriber()` (`tracing::instrument::WithSubscriber`) when spawning, or start a
//! [`CaptureSession`] and hand its [`dispatch`](CaptureSession::dispatch) to the tasks yourself.
//!
//! Spans are made by the subscriber current where they are *created*: make them inside the captured
//! future (`capture_async(async { work().instrument(run_span!(…)).await })`), not in the expression
//! that builds it (`capture_async(work().instrument(run_span!(…)))` creates the run before the capture
//! exists, so it belongs to no pipeline and is not captured).
//!
//! # Settings
//!
//! The pipeline is a [`Builder`] with service name `botanu-test`, environment `test` and the
//! in-memory exporters, finishing spans where they close ([`finish_inline`]: each span is exported as
//! it ends, on the thread that closed it); everything else is the builder's default (content capture off, pricing on
//! with the bundled catalog). [`Capture::with_builder`] changes it:
//!
//! ```
//! use botanu::prelude::*;
//!
//! let cap = botanu::testing::Capture::new()
//!     .with_builder(|b| b.with_content_capture_rate(1.0))
//!     .run(|| {
//!         run_span!(workflow = "chat").in_scope(|| {
//!             llm_span!(provider = "openai", model = "gpt-4o").set_input_content("mail bob@example.com");
//!         })
//!     })
//!     .1;
//! // Captured content is scrubbed before export.
//! assert_eq!(cap.llm_calls()[0].attr_str("botanu.eval.input_content"), Some("mail [REDACTED]"));
//! ```

mod captured;

use std::future::Future;

use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use tracing::instrument::{WithDispatch, WithSubscriber as _};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt as _;

pub use captured::{Captured, CapturedSpan, MetricPoint, MetricSeries};

use crate::{BotanuGuard, Builder};

/// `service.name` of a capture's pipeline.
pub const TEST_SERVICE_NAME: &str = "botanu-test";
/// `botanu.environment` of a capture's pipeline.
pub const TEST_ENVIRONMENT: &str = "test";

type Configure = Box<dyn FnOnce(Builder) -> Builder + Send>;

/// Runs `f` under a fresh botanu pipeline and returns what it exported (spans and metrics), flushed.
///
/// The pipeline is this thread's default subscriber only while `f` runs, so tests running in parallel
/// do not see each other's spans. Threads `f` spawns do not inherit it (see the module docs).
///
/// ```
/// let cap = botanu::testing::capture(|| {
///     botanu::run_span!(workflow = "nightly-report").in_scope(|| {});
/// });
/// assert_eq!(cap.run().name(), "botanu.run/nightly-report");
/// ```
#[track_caller]
pub fn capture<R>(f: impl FnOnce() -> R) -> Captured {
    Capture::new().run(f).1
}

/// Runs `fut` under a fresh botanu pipeline and returns what it exported (spans and metrics), flushed.
///
/// The pipeline is the default subscriber whenever `fut` is polled, on any thread, so this works on a
/// multi-thread runtime; tasks spawned inside do not inherit it (see the module docs).
///
/// ```
/// use botanu::prelude::*;
/// use tracing::Instrument as _;
///
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let cap = botanu::testing::capture_async(async {
///     async {
///         tokio::task::yield_now().await;
///         llm_span!(provider = "anthropic", model = "claude-sonnet-4-5")
///             .set_tokens(Tokens { input: 10, output: 5, ..Default::default() });
///     }
///     .instrument(run_span!(workflow = "triage"))
///     .await
/// })
/// .await;
/// let run = cap.run();
/// assert_eq!(cap.children_of(run).len(), 1);
/// # });
/// ```
pub async fn capture_async<F: Future>(fut: F) -> Captured {
    Capture::new().run_async(fut).await.1
}

/// `builder`'s pipeline, finishing spans where they close as a capture's does: each span reaches the
/// span processors inside `on_close`, on the thread that closed it, in order, with no finisher thread in
/// between. For a harness of your own that wants this determinism (a benchmark of this path, a test that
/// reads an exporter without flushing); everywhere else botanu finishes spans on its finisher thread.
///
/// ```
/// use opentelemetry_sdk::trace::InMemorySpanExporter;
/// use tracing_subscriber::prelude::*;
///
/// let exporter = InMemorySpanExporter::default();
/// let builder = botanu::Builder::new().with_span_exporter(exporter.clone());
/// let (layer, _guard) = botanu::testing::finish_inline(builder).build()?;
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     botanu::run_span!(workflow = "pay").in_scope(|| {});
///     // Exported as the span ended, no flush needed.
///     assert_eq!(exporter.get_finished_spans().unwrap().len(), 1);
/// });
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn finish_inline(builder: Builder) -> Builder {
    builder.finish_inline()
}

/// A capture with settings: [`Capture::with_builder`], then [`Capture::run`], [`Capture::run_async`] or
/// [`Capture::start`].
#[derive(Default)]
pub struct Capture {
    configure: Vec<Configure>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").field("configure", &self.configure.len()).finish()
    }
}

impl Capture {
    /// A capture with the default test pipeline (see the module docs).
    pub fn new() -> Self {
        Capture::default()
    }

    /// Changes the pipeline's [`Builder`] before it is built (called in order, if given more than once).
    /// The in-memory exporters are already on it.
    ///
    /// ```
    /// let (_, cap) = botanu::testing::Capture::new()
    ///     .with_builder(|b| b.with_environment("staging"))
    ///     .run(|| botanu::run_span!(workflow = "w").in_scope(|| {}));
    /// assert_eq!(cap.run().attr_str("botanu.environment"), Some("staging"));
    /// ```
    pub fn with_builder(mut self, configure: impl FnOnce(Builder) -> Builder + Send + 'static) -> Self {
        self.configure.push(Box::new(configure));
        self
    }

    /// Builds the pipeline and returns it, for code that needs it across several calls or tasks.
    ///
    /// # Panics
    ///
    /// When the builder fails ([`Builder::build`]'s errors: an invalid price override, say), with the
    /// error: this is a test helper, and the test cannot go on without its pipeline.
    #[track_caller]
    pub fn start(self) -> CaptureSession {
        let spans = InMemorySpanExporter::default();
        let metrics = InMemoryMetricExporter::default();
        // Spans finished where they close: each is in the exporter as it ends, no finisher thread
        // involved (the flush before reading covers any botanu queue anyway).
        let mut builder = Builder::new()
            .with_service_name(TEST_SERVICE_NAME)
            .with_environment(TEST_ENVIRONMENT)
            .with_span_exporter(spans.clone())
            .with_metric_exporter(metrics.clone())
            .finish_inline();
        for configure in self.configure {
            builder = configure(builder);
        }
        let (layer, guard) = match builder.build() {
            Ok(built) => built,
            Err(error) => panic!("botanu::testing: the test pipeline does not build: {error}"),
        };
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
        CaptureSession { spans, metrics, guard, dispatch }
    }

    /// Runs `f` under the pipeline; returns what `f` returned and what was exported.
    ///
    /// ```
    /// let (answer, cap) = botanu::testing::Capture::new().run(|| {
    ///     botanu::run_span!(workflow = "w").in_scope(|| 42)
    /// });
    /// assert_eq!(answer, 42);
    /// assert_eq!(cap.runs().len(), 1);
    /// ```
    #[track_caller]
    pub fn run<R>(self, f: impl FnOnce() -> R) -> (R, Captured) {
        let session = self.start();
        let out = session.in_scope(f);
        (out, session.finish())
    }

    /// Runs `fut` under the pipeline; returns its output and what was exported.
    pub async fn run_async<F: Future>(self, fut: F) -> (F::Output, Captured) {
        let session = self.start();
        let out = session.instrument(fut).await;
        (out, session.finish())
    }
}

/// A running test pipeline: run code under it with [`in_scope`](Self::in_scope) or
/// [`instrument`](Self::instrument), then read what was exported with [`finish`](Self::finish).
///
/// ```
/// use tracing::instrument::WithSubscriber as _;
///
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let session = botanu::testing::Capture::new().start();
/// // A spawned task gets the session's subscriber explicitly.
/// let task = tokio::spawn(
///     async { botanu::run_span!(workflow = "background").in_scope(|| {}) }.with_subscriber(session.dispatch().clone()),
/// );
/// task.await.unwrap();
/// session.in_scope(|| botanu::run_span!(workflow = "foreground").in_scope(|| {}));
/// let cap = session.finish();
/// assert_eq!(cap.runs().len(), 2);
/// # });
/// ```
pub struct CaptureSession {
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricExporter,
    guard: BotanuGuard,
    dispatch: Dispatch,
}

impl std::fmt::Debug for CaptureSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureSession").finish_non_exhaustive()
    }
}

impl CaptureSession {
    /// The subscriber of this pipeline, for `with_subscriber` on spawned tasks or
    /// `tracing::dispatcher::with_default` on other threads.
    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }

    /// The pipeline's guard: [`BotanuGuard::cost_summary`], [`BotanuGuard::export_counts`], … while
    /// the session runs.
    pub fn guard(&self) -> &BotanuGuard {
        &self.guard
    }

    /// Runs `f` with this pipeline as the thread's default subscriber.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.dispatch, f)
    }

    /// `fut`, run with this pipeline as the default subscriber whenever it is polled.
    pub fn instrument<F: Future>(&self, fut: F) -> WithDispatch<F> {
        fut.with_subscriber(self.dispatch.clone())
    }

    /// Flushes the pipeline, reads what it exported, and shuts it down.
    ///
    /// # Panics
    ///
    /// When the flush fails or times out: what would be read then is not what was exported.
    #[track_caller]
    pub fn finish(self) -> Captured {
        let CaptureSession { spans, metrics, guard, dispatch } = self;
        // Spans still open (a span handle kept alive past the code under test) are not exported; the
        // dispatch is dropped first so the layer's last references go with it.
        drop(dispatch);
        if let Err(error) = guard.force_flush() {
            panic!("botanu::testing: flushing the test pipeline failed: {error}");
        }
        let spans = spans.get_finished_spans().unwrap_or_default();
        let metrics = metrics.get_finished_metrics().unwrap_or_default();
        // Stops the metric reader's thread now rather than whenever the guard would be dropped.
        let _ = guard.shutdown();
        Captured::new(spans, metrics)
    }
}
