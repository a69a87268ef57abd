//! [`BotanuGuard`]: keeps the providers alive, reports export counts and cost, flushes and shuts down
//! within one export timeout.

use super::*;

/// Totals over botanu's export queues (see [`BotanuGuard::export_counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportCounts {
    /// Spans the exporters accepted.
    pub exported: u64,
    /// Spans in batches an exporter failed to send.
    pub failed: u64,
    /// Spans dropped because a queue was full.
    pub dropped: u64,
    /// Metric export requests the OTLP metric exporter sent successfully.
    pub metric_exports: u64,
    /// Metric export requests that failed (collector down, TLS refused, timeout).
    pub metric_exports_failed: u64,
}

/// A live reader of botanu's export counters ([`BotanuGuard::export_counter`]): it outlives the guard,
/// so the counts can be read after [`BotanuGuard::shutdown`].
#[derive(Debug, Clone)]
pub struct ExportCounter {
    spans: Vec<Arc<ExportStats>>,
    otlp: Vec<Arc<crate::otlp::ExportHealth>>,
}

impl ExportCounter {
    /// The totals now.
    pub fn counts(&self) -> ExportCounts {
        let spans = self.spans.iter().fold(ExportCounts::default(), |acc, s| ExportCounts {
            exported: acc.exported + s.exported(),
            failed: acc.failed + s.failed(),
            dropped: acc.dropped + s.dropped(),
            ..acc
        });
        self.otlp.iter().filter(|h| h.is_metrics()).fold(spans, |acc, h| ExportCounts {
            metric_exports: acc.metric_exports + h.exports(),
            metric_exports_failed: acc.metric_exports_failed + h.failures(),
            ..acc
        })
    }
}

/// Keeps the providers alive; flushes and shuts them down when dropped, bounded by the export timeout.
pub struct BotanuGuard {
    pub(super) export_stats: Vec<Arc<ExportStats>>,
    pub(super) otlp_health: Vec<Arc<crate::otlp::ExportHealth>>,
    pub(super) _self_metrics: Vec<opentelemetry::metrics::ObservableCounter<u64>>,
    pub(super) tracer_provider: SdkTracerProvider,
    pub(super) meter_provider: Option<SdkMeterProvider>,
    pub(super) owned_meter: bool,
    pub(super) timeout: Duration,
    /// Configuration problems, for the program to read or log (see [`BotanuGuard::warnings`]).
    pub(super) warnings: Vec<String>,
    /// Per-workflow cost of the runs that closed (see [`BotanuGuard::cost_summary`]).
    pub(super) cost_summary: Arc<SummaryStore>,
    /// The layer's finisher, drained before the providers flush (see `layer::finisher`).
    pub(super) pipeline: Option<Arc<Pipeline>>,
    /// The cost ledger's writer, flushed after the finisher drains.
    pub(super) ledger: Option<Arc<crate::pipeline::CostLedger>>,
    pub(super) done: bool,
}

impl fmt::Debug for BotanuGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotanuGuard")
            .field("timeout", &self.timeout)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl BotanuGuard {
    /// Exports everything recorded so far (spans, then metrics).
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) = botanu::Builder::new().with_batch_exporter(exporter.clone()).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     botanu::run_span!(workflow = "pay").in_scope(|| {});
    /// });
    /// guard.force_flush()?;
    /// assert_eq!(exporter.get_finished_spans().unwrap().len(), 1);
    /// # Ok::<(), botanu::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Flush`] when an exporter fails or the flush times out.
    pub fn force_flush(&self) -> Result<(), crate::Error> {
        let deadline = std::time::Instant::now() + self.timeout;
        // Spans still on the finisher's buffers are finished first: their metrics and cost too.
        if let Some(pipeline) = &self.pipeline {
            pipeline.drain(self.timeout).map_err(|e| Error::Flush(Box::new(e)))?;
        }
        if let Some(ledger) = &self.ledger {
            ledger.flush(deadline.saturating_duration_since(std::time::Instant::now()));
        }
        let traces = self.tracer_provider.clone();
        let metrics = self.meter_provider.clone();
        let [traces, metrics] = within_one_timeout(
            deadline.saturating_duration_since(std::time::Instant::now()),
            [Box::new(move || traces.force_flush()), Box::new(move || metrics.map_or(Ok(()), |mp| mp.force_flush()))],
        );
        crate::pipeline::report_drops(&self.export_stats);
        traces.map_err(|e| Error::Flush(Box::new(e)))?;
        metrics.map_err(|e| Error::Flush(Box::new(e)))
    }

    /// What happened to the spans given to botanu's export queues so far: exported, failed to send,
    /// dropped because a queue was full. Spans exported with `with_span_exporter` are not counted.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let (layer, guard) = botanu::Builder::new().with_batch_exporter(InMemorySpanExporter::default()).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     botanu::run_span!(workflow = "a").in_scope(|| {});
    ///     botanu::run_span!(workflow = "b").in_scope(|| {});
    /// });
    /// guard.force_flush()?;
    /// let counts = guard.export_counts();
    /// assert_eq!((counts.exported, counts.failed, counts.dropped), (2, 0, 0));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn export_counts(&self) -> ExportCounts {
        self.export_counter().counts()
    }

    /// Why the last failed OTLP export failed, if one did: `OTLP {traces|metrics} export to {url} failed:
    /// {reason}`, with the transport's reason (a refused certificate, a refused connection) where the
    /// exporter library reports only "network error". The first failure of each exporter is also logged
    /// once, at WARN, on the exporting thread.
    ///
    /// ```
    /// let (_layer, guard) = botanu::Builder::new().build::<tracing_subscriber::Registry>()?;
    /// assert_eq!(guard.last_export_error(), None);
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn last_export_error(&self) -> Option<String> {
        self.otlp_health.iter().filter_map(|h| h.last_failure()).next_back()
    }

    /// A handle on the export counters, to read past [`shutdown`](Self::shutdown) (which consumes the
    /// guard): [`ExportCounter::counts`] is final once shutdown returns.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let (layer, guard) = botanu::Builder::new().with_batch_exporter(InMemorySpanExporter::default()).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     botanu::run_span!(workflow = "a").in_scope(|| {});
    /// });
    /// let counter = guard.export_counter();
    /// guard.shutdown()?;
    /// assert_eq!(counter.counts().exported, 1);
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn export_counter(&self) -> ExportCounter {
        ExportCounter { spans: self.export_stats.clone(), otlp: self.otlp_health.clone() }
    }

    /// The tracer provider botanu exports through.
    ///
    /// ```
    /// use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (_layer, guard) =
    ///     botanu::Builder::new().with_span_exporter(exporter.clone()).build::<tracing_subscriber::Registry>()?;
    /// guard.tracer_provider().tracer("my-lib").in_span("native-otel", |_cx| {});
    /// assert_eq!(exporter.get_finished_spans().unwrap()[0].name, "native-otel");
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        &self.tracer_provider
    }

    /// The meter provider botanu records into.
    ///
    /// ```
    /// use opentelemetry::metrics::MeterProvider as _;
    /// use opentelemetry_sdk::metrics::InMemoryMetricExporter;
    ///
    /// let metrics = InMemoryMetricExporter::default();
    /// let (_layer, guard) =
    ///     botanu::Builder::new().with_metric_exporter(metrics.clone()).build::<tracing_subscriber::Registry>()?;
    /// if let Some(provider) = guard.meter_provider() {
    ///     provider.meter("my-lib").u64_counter("jobs").build().add(1, &[]);
    /// }
    /// guard.force_flush()?;
    /// assert!(!metrics.get_finished_metrics().unwrap().is_empty());
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn meter_provider(&self) -> Option<&SdkMeterProvider> {
        self.meter_provider.as_ref()
    }

    /// Problems found while loading the configuration and building (unknown YAML keys, stripped
    /// credentials, clamped values, a withheld API key). [`init`] and [`Builder::init`] log them once
    /// their subscriber is installed; with [`Builder::build`], log them once yours is.
    ///
    /// ```
    /// use botanu::config::TracesExporter;
    ///
    /// let config = botanu::Config::default()
    ///     .with_traces_exporter(TracesExporter::Otlp)
    ///     .with_endpoint("http://collector.example.com:4318")
    ///     .with_api_key(format!("{}-{}", "test", "key"));
    /// let (_layer, guard) = config.build::<tracing_subscriber::Registry>()?;
    /// assert!(guard.warnings()[0].contains("BOTANU_API_KEY was not sent"), "{:?}", guard.warnings());
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Cost-ledger lines dropped so far (the ledger's queue was full, or its file could not be opened or
    /// written); 0 without a ledger.
    ///
    /// ```
    /// let (_layer, guard) = botanu::Builder::new().build::<tracing_subscriber::Registry>()?;
    /// assert_eq!(guard.cost_ledger_dropped(), 0);
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn cost_ledger_dropped(&self) -> u64 {
        self.ledger.as_ref().map_or(0, |ledger| ledger.dropped())
    }

    /// What the runs cost so far, per workflow: runs, LLM calls, tokens, estimated cost, unpriced spans
    /// and cost per unit of outcome, from the roll-up of each run that closed in this process. Empty
    /// when pricing is off. `Display` prints it as a table.
    ///
    /// Runs closed but not yet finished (with botanu's export queue they are finished on its own
    /// thread) are counted first: this call waits for the finisher to take what was closed before it,
    /// which is quick, but **may block up to the export timeout** when the finisher is stuck (a span
    /// processor that does not return). Do not call it on a latency-critical path.
    ///
    /// ```
    /// use botanu::{emit_outcome, llm_span, run_span, LlmSpanExt, Outcome, Tokens};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let (layer, guard) = botanu::Builder::new()
    ///     .with_span_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     run_span!(workflow = "support-ticket").in_scope(|| {
    ///         llm_span!(provider = "openai", model = "gpt-4o").in_scope(|| {
    ///             tracing::Span::current().set_tokens(Tokens { input: 10_000, cache_read: 4_000, output: 2_000, ..Default::default() });
    ///         });
    ///         emit_outcome("success", Outcome { value_amount: Some(2.0), ..Default::default() }).unwrap();
    ///     });
    /// });
    /// let summary = guard.cost_summary();
    /// let row = summary.workflow("support-ticket").unwrap();
    /// assert_eq!((row.runs, row.llm_calls, row.tokens_input), (1, 1, 10_000));
    /// # #[cfg(feature = "bundled-prices")]
    /// assert!((row.cost_usd - 0.040).abs() < 1e-12);
    /// # #[cfg(feature = "bundled-prices")]
    /// assert!((row.cost_per_outcome().unwrap() - 0.020).abs() < 1e-12);
    /// println!("{summary}");
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn cost_summary(&self) -> CostSummary {
        // Runs still waiting on the finisher are counted first.
        if let Some(pipeline) = &self.pipeline {
            let _ = pipeline.drain(self.timeout);
        }
        self.cost_summary.summary()
    }

    /// Flushes and shuts down, within the export timeout: traces and metrics together, in parallel, so
    /// the whole call takes at most one timeout. Spans still queued at the deadline are counted dropped
    /// (a batch stuck in a hung export, failed), so the [`export_counts`](Self::export_counts) are final
    /// when this returns.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use tracing_subscriber::prelude::*;
    ///
    /// /// Counts what it is given; unlike the in-memory exporter it keeps its count after shutdown.
    /// #[derive(Debug)]
    /// struct Counting(Arc<AtomicUsize>);
    ///
    /// impl opentelemetry_sdk::trace::SpanExporter for Counting {
    ///     async fn export(&self, batch: Vec<opentelemetry_sdk::trace::SpanData>) -> opentelemetry_sdk::error::OTelSdkResult {
    ///         self.0.fetch_add(batch.len(), Ordering::SeqCst);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let exported = Arc::new(AtomicUsize::new(0));
    /// let (layer, guard) = botanu::Builder::new().with_batch_exporter(Counting(exported.clone())).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     botanu::run_span!(workflow = "pay").in_scope(|| {});
    /// });
    /// guard.shutdown()?; // the queued span is exported before the exporter shuts down
    /// assert_eq!(exported.load(Ordering::SeqCst), 1);
    /// # Ok::<(), botanu::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Shutdown`] when an exporter fails or the shutdown times out.
    pub fn shutdown(mut self) -> Result<(), crate::Error> {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> Result<(), crate::Error> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(());
        }
        let (timeout, owned_meter) = (self.timeout, self.owned_meter);
        let deadline = std::time::Instant::now() + timeout;
        // The finisher first (its spans' metrics must reach the meter provider before it shuts down);
        // then the providers, in what is left of the one timeout.
        if let Some(pipeline) = &self.pipeline {
            let _ = pipeline.shut_down(timeout);
        }
        if let Some(ledger) = &self.ledger {
            ledger.flush(deadline.saturating_duration_since(std::time::Instant::now()));
        }
        let timeout = deadline.saturating_duration_since(std::time::Instant::now()).max(Duration::from_millis(1));
        let traces = self.tracer_provider.clone();
        let metrics = self.meter_provider.clone();
        let [traces, metrics] = within_one_timeout(
            timeout,
            [
                Box::new(move || traces.shutdown_with_timeout(timeout)),
                Box::new(move || match metrics {
                    Some(mp) if owned_meter => mp.shutdown_with_timeout(timeout),
                    Some(mp) => mp.force_flush(),
                    None => Ok(()),
                }),
            ],
        );
        // Whatever a queue still holds at the deadline is counted now; after a clean shutdown this
        // finds nothing to count.
        for stats in &self.export_stats {
            stats.abandon();
        }
        crate::pipeline::report_drops(&self.export_stats);
        traces.map_err(|e| Error::Shutdown(Box::new(e)))?;
        metrics.map_err(|e| Error::Shutdown(Box::new(e)))
    }
}

/// One flush or shutdown step, run on its own thread.
type Step = Box<dyn FnOnce() -> opentelemetry_sdk::error::OTelSdkResult + Send>;

/// Runs the steps in parallel and waits for them until one `timeout` has passed in total; a step still
/// running then reports a timeout (and is left to finish on its thread). The SDK runs its processors and
/// readers one after the other and the meter provider ignores the timeout it is given, so this is what
/// bounds the guard's calls.
fn within_one_timeout<const N: usize>(
    timeout: Duration,
    steps: [Step; N],
) -> [opentelemetry_sdk::error::OTelSdkResult; N] {
    use opentelemetry_sdk::error::OTelSdkError;
    let deadline = std::time::Instant::now() + timeout;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut results: [Option<opentelemetry_sdk::error::OTelSdkResult>; N] = std::array::from_fn(|_| None);
    let mut pending = 0;
    for (i, step) in steps.into_iter().enumerate() {
        let tx = tx.clone();
        // The step is moved into a slot the thread takes from, so it can still run here if no
        // thread can be started.
        let slot = Arc::new(std::sync::Mutex::new(Some(step)));
        let thread_slot = slot.clone();
        let spawned = std::thread::Builder::new().name("botanu-shutdown".to_owned()).spawn(move || {
            if let Some(step) = thread_slot.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = tx.send((i, step()));
            }
        });
        match spawned {
            Ok(_) => pending += 1,
            Err(_) => {
                if let Some(step) = slot.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    results[i] = Some(step());
                }
            }
        }
    }
    drop(tx);
    while pending > 0 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, result)) => {
                results[i] = Some(result);
                pending -= 1;
            }
            Err(_) => break,
        }
    }
    results.map(|r| r.unwrap_or(Err(OTelSdkError::Timeout(timeout))))
}

impl Drop for BotanuGuard {
    fn drop(&mut self) {
        let _ = self.shutdown_inner();
    }
}
