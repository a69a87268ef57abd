//! The builder: tracer and meter providers, the layer, and the guard that flushes them.
//!
//! botanu owns its `SdkTracerProvider`: each OTel span is built after its close (on botanu's finisher
//! thread; where it closed under `botanu::testing`) with ids the layer chose when the span opened, which
//! needs the provider's id generator (see `layer::export`). [`Builder::build`] lives in `build.rs`. Users add their own
//! span processors and exporters through [`Builder`]; the provider itself is reachable from the guard.
//! Nothing global is touched unless [`Builder::init`] (or [`init`]) is called.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{MeterProviderBuilder, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{
    Sampler, SdkTracerProvider, SimpleSpanProcessor, SpanExporter, SpanProcessor, TracerProviderBuilder,
};
use tracing_core::Subscriber;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer as _;

use crate::config::QueueSettings;
use crate::config::{Config, ConfigError, PropagationMode, TracesExporter};
use crate::content::{CaptureMode, ScrubOptions, Scrubber};
use crate::cost::{CostSummary, PriceOverride, PricingConfig, PricingEngine};
use crate::error::Error;
use crate::layer::cost::SummaryStore;
use crate::layer::{BotanuLayer, Pipeline, PresetIdGenerator};
use crate::pipeline::{ExportStats, FinisherLink, QueueProcessor, UserProcessor};
use crate::semconv as k;

mod build;
mod guard;
mod install;

pub use guard::{BotanuGuard, ExportCounter, ExportCounts};
pub use install::init;
use install::log_problems;

/// Adds one periodic reader to a meter provider under construction.
type ReaderFn = Box<dyn FnOnce(MeterProviderBuilder, Duration) -> MeterProviderBuilder>;

/// Builds a [`BotanuLayer`] and the providers behind it.
///
/// Every setting that also has an environment variable or a YAML key lives in the [`Config`] the builder
/// wraps (its `with_*` methods forward there, and [`Builder::from_config`] starts from a loaded one); the
/// builder itself holds only what code alone can give: exporters, processors, a meter provider, a
/// scrubber.
///
/// ```
/// use botanu::{Builder, run_span};
/// use tracing_subscriber::prelude::*;
///
/// let (layer, guard) = Builder::new().with_service_name("support-bot").build()?;
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || {
///     run_span!(workflow = "support").in_scope(|| {});
/// });
/// guard.shutdown()?;
/// # Ok::<(), botanu::Error>(())
/// ```
pub struct Builder {
    /// The settings shared with the environment and the config file.
    config: Config,
    provider: TracerProviderBuilder,
    has_span_processor: bool,
    /// A span processor runs the user's code (a simple exporter, any user processor): the layer then
    /// shields it from `tracing` and gives spans to botanu's queues through the SDK (see
    /// `layer::export`).
    user_processors: bool,
    /// Spans are finished where they close, processors included (`botanu::testing`), instead of on
    /// botanu's finisher thread.
    finish_inline: bool,
    /// What the user's processors and botanu's queues drain before a flush or shutdown (the finisher).
    link: Arc<FinisherLink>,
    /// Handles on botanu's export queues, for the layer to feed directly.
    queues: Vec<QueueProcessor>,
    meter_provider: Option<SdkMeterProvider>,
    metric_readers: Vec<ReaderFn>,
    capture_mode: CaptureMode,
    scrubber: Option<Scrubber>,
    secret_keys: Vec<String>,
    event_level: tracing::Level,
    /// Whether an entered botanu span is the current OTel context (see `with_context_activation`).
    context_activation: bool,
    export_stats: Vec<Arc<ExportStats>>,
    /// The OTLP exporters' export outcomes and failure reasons (see `otlp::ExportHealth`).
    otlp_health: Vec<Arc<crate::otlp::ExportHealth>>,
    /// No span processor at all was chosen on purpose (`OTEL_TRACES_EXPORTER=none`, `OTEL_SDK_DISABLED`).
    no_export: bool,
    /// Spending caps given in code (see [`Builder::with_budgets`]).
    budgets: Option<crate::budget::Budgets>,
    /// Problems found while loading and building, handed to the guard (see [`BotanuGuard::warnings`]).
    warnings: Vec<String>,
    /// Like `warnings`, logged at ERROR (a withheld API key).
    errors: Vec<String>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("service_name", &self.config.service_name)
            .field("environment", &self.config.environment)
            .field("export_all_spans", &self.config.export_all_spans)
            .field("content_rate", &self.config.content_capture_rate)
            .finish_non_exhaustive()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// A builder with the contract's defaults ([`Config::default`]): service `unknown_service`,
    /// environment `production`, content capture off, console export unless an exporter or processor
    /// is added.
    ///
    /// ```
    /// let builder = botanu::Builder::new();
    /// assert_eq!(builder.config().service_name(), "unknown_service");
    /// assert_eq!(builder.config().environment(), "production");
    /// ```
    pub fn new() -> Self {
        Builder {
            config: Config::default(),
            provider: SdkTracerProvider::builder()
                .with_id_generator(PresetIdGenerator)
                // Cost data is never sampled away, whatever an inbound trace flag says.
                .with_sampler(Sampler::AlwaysOn),
            has_span_processor: false,
            user_processors: false,
            finish_inline: false,
            link: Arc::new(FinisherLink::default()),
            queues: Vec::new(),
            meter_provider: None,
            metric_readers: Vec::new(),
            capture_mode: CaptureMode::PerRun,
            scrubber: None,
            secret_keys: Vec::new(),
            event_level: tracing::Level::INFO,
            context_activation: true,
            export_stats: Vec::new(),
            otlp_health: Vec::new(),
            budgets: None,
            no_export: false,
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// A builder from a loaded [`Config`]: resource, content capture and PII scrubbing, and the
    /// exporters it names (OTLP over http/protobuf or gRPC with a batch processor, the console, or none).
    /// The config's warnings ([`Config::warnings`]) travel on to the guard.
    ///
    /// ```
    /// use botanu::{Builder, Config};
    /// use botanu::config::TracesExporter;
    ///
    /// let config = Config::default().with_service_name("checkout").with_traces_exporter(TracesExporter::None);
    /// let (_layer, guard) = Builder::from_config(config)?.build::<tracing_subscriber::Registry>()?;
    /// assert_eq!(guard.export_counts(), botanu::ExportCounts::default());
    /// # Ok::<(), botanu::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Scrub`] for an invalid PII option, [`Error::Exporter`] when an exporter cannot be built.
    pub fn from_config(config: Config) -> Result<Self, Error> {
        let scrubber = Scrubber::new(&ScrubOptions {
            enabled: config.pii.enabled,
            disable: config.pii.disable_patterns.clone(),
            custom: config.pii.custom_patterns.clone(),
            replacement: config.pii.replacement.clone(),
            ..ScrubOptions::default()
        })?;
        let mut b = Builder { warnings: config.warnings().to_vec(), ..Builder::new() }.with_scrubber(scrubber);
        b.no_export = config.sdk_disabled || config.traces_exporter == TracesExporter::None;
        if config.sdk_disabled {
            b.config = config;
            return Ok(b);
        }
        let auth = match config.auth_header() {
            Ok(auth) => auth,
            Err(withheld) => {
                b.errors.push(withheld.to_string());
                None
            }
        };
        // A signal's own headers (`OTEL_EXPORTER_OTLP_TRACES_HEADERS`) replace the general ones.
        let headers_of = |own: &Option<Vec<(String, String)>>| {
            let mut headers: std::collections::HashMap<String, String> =
                own.as_ref().unwrap_or(&config.headers).iter().cloned().collect();
            if let Some((name, value)) = auth.clone() {
                if !headers.keys().any(|k| k.eq_ignore_ascii_case(&name)) {
                    headers.insert(name, value);
                }
            }
            headers
        };
        let (traces_headers, metrics_headers) =
            (headers_of(&config.traces_otlp.headers), headers_of(&config.metrics_otlp.headers));
        // The queue settings below come from `config`, so it is in place before the exporters are added.
        let traces_url = config.traces_url().filter(|_| config.traces_exporter == TracesExporter::Otlp);
        let metrics_url = config
            .metrics_url()
            .filter(|_| config.traces_exporter == TracesExporter::Otlp || config.metrics_endpoint.is_some());
        b.config = config;
        if let Some(url) = traces_url {
            let exporter = crate::otlp::span_exporter(&b.config, &url, traces_headers)?;
            b.otlp_health.push(exporter.health());
            b = b.with_batch_exporter(exporter);
        }
        if let Some(url) = metrics_url {
            let exporter = crate::otlp::metric_exporter(&b.config, &url, metrics_headers)?;
            b.otlp_health.push(exporter.health());
            b = b.with_metric_exporter(exporter);
        }
        Ok(b)
    }

    /// The settings this builder will build from.
    ///
    /// ```
    /// let builder = botanu::Builder::new().with_environment("staging");
    /// assert_eq!(builder.config().environment(), "staging");
    /// ```
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `service.name` of the resource.
    ///
    /// ```
    /// let builder = botanu::Builder::new().with_service_name("checkout");
    /// assert_eq!(builder.config().service_name(), "checkout");
    /// ```
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.config = self.config.with_service_name(name);
        self
    }

    /// `botanu.environment` on runs and `deployment.environment` on the resource.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) =
    ///     botanu::Builder::new().with_environment("staging").with_span_exporter(exporter.clone()).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     botanu::run_span!(workflow = "pay").in_scope(|| {});
    /// });
    /// guard.force_flush()?;
    /// let spans = exporter.get_finished_spans().unwrap();
    /// let env = spans[0].attributes.iter().find(|kv| kv.key.as_str() == "botanu.environment");
    /// assert_eq!(env.map(|kv| kv.value.to_string()).as_deref(), Some("staging"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_environment(mut self, environment: impl Into<String>) -> Self {
        self.config = self.config.with_environment(environment);
        self
    }

    /// Adds a resource attribute, replacing one with the same key.
    ///
    /// ```
    /// let builder = botanu::Builder::new().with_resource_attribute("team", "search");
    /// assert_eq!(builder.config().resource_attributes(), [("team".to_string(), "search".to_string())]);
    /// ```
    pub fn with_resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config = self.config.with_resource_attribute(key, value);
        self
    }

    /// Also export spans that are not botanu spans (ordinary `info_span!`s), stamped with run context.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) =
    ///     botanu::Builder::new().with_export_all_spans(true).with_span_exporter(exporter.clone()).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info_span!("parse-input").in_scope(|| {});
    /// });
    /// guard.force_flush()?;
    /// assert_eq!(exporter.get_finished_spans().unwrap()[0].name, "parse-input");
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_export_all_spans(mut self, all: bool) -> Self {
        self.config = self.config.with_export_all_spans(all);
        self
    }

    /// Whether an entered botanu span is the current OpenTelemetry context (default on), as in
    /// tracing-opentelemetry: OTel-native instrumentation inside a botanu span (an HTTP client that
    /// injects `Context::current()` through the global propagator, say) then carries its trace and run.
    /// Off saves the attach and detach on every enter and exit of an exported span (see
    /// BENCHMARKS.md); `OtelSpanExt::otel_context` still gives the context.
    ///
    /// ```
    /// use botanu::prelude::*;
    /// use opentelemetry::trace::TraceContextExt;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let (layer, _guard) = botanu::Builder::new()
    ///     .with_context_activation(false)
    ///     .with_span_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     run_span!(workflow = "quiet").in_scope(|| {
    ///         assert!(!opentelemetry::Context::current().span().span_context().is_valid());
    ///     });
    /// });
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_context_activation(mut self, activate: bool) -> Self {
        self.context_activation = activate;
        self
    }

    /// The most verbose `tracing` event level kept as a span event (default INFO): DEBUG and TRACE
    /// events from libraries are not cost data.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) = botanu::Builder::new()
    ///     .with_span_event_level(tracing::Level::WARN)
    ///     .with_span_exporter(exporter.clone())
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     botanu::run_span!(workflow = "pay").in_scope(|| {
    ///         tracing::info!("not kept");
    ///         tracing::warn!("kept");
    ///     });
    /// });
    /// guard.force_flush()?;
    /// let spans = exporter.get_finished_spans().unwrap();
    /// let names: Vec<_> = spans[0].events.iter().map(|e| e.name.to_string()).collect();
    /// assert!(names.contains(&"kept".to_string()) && !names.contains(&"not kept".to_string()), "{names:?}");
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_span_event_level(mut self, level: tracing::Level) -> Self {
        self.event_level = level;
        self
    }

    /// Cap on span events kept per span (default [`DEFAULT_MAX_EVENTS_PER_SPAN`](crate::DEFAULT_MAX_EVENTS_PER_SPAN));
    /// the number dropped is recorded on the span.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) =
    ///     botanu::Builder::new().with_max_events_per_span(2).with_span_exporter(exporter.clone()).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     botanu::step_span!("retry-loop").in_scope(|| {
    ///         for attempt in 0..5 {
    ///             tracing::info!(attempt, "retrying");
    ///         }
    ///     });
    /// });
    /// guard.force_flush()?;
    /// let spans = exporter.get_finished_spans().unwrap();
    /// let kept = spans[0].events.iter().filter(|e| e.name == "retrying").count();
    /// assert_eq!(kept, 2);
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_max_events_per_span(mut self, max: usize) -> Self {
        self.config = self.config.with_max_events_per_span(max);
        self
    }

    /// Exports spans through `exporter` one at a time (a `SimpleSpanProcessor`), on botanu's finisher
    /// thread, as each span is finished: for tests and development. The application thread only hands
    /// the closed span over; flush ([`BotanuGuard::force_flush`], or the provider's own) before reading
    /// what was exported. For production use [`with_batch_exporter`](Self::with_batch_exporter), which
    /// batches, bounds its memory and counts what it drops; for tests that read spans as they end,
    /// `botanu::testing` (feature `testing`).
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     botanu::run_span!(workflow = "pay").in_scope(|| {});
    /// });
    /// guard.force_flush()?;
    /// assert_eq!(exporter.get_finished_spans().unwrap()[0].name, "botanu.run/pay");
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_span_exporter<E: SpanExporter + 'static>(self, exporter: E) -> Self {
        self.with_span_processor(SimpleSpanProcessor::new(exporter))
    }

    /// Exports spans through `exporter` from botanu's export queue, on a background thread: the
    /// application never waits on the network, and spans dropped because the queue is full are
    /// counted ([`BotanuGuard::export_counts`], metric `botanu.export.dropped_spans`). The thread starts
    /// in [`build`](Self::build): a builder dropped unbuilt, or whose build fails, starts none. With the
    /// queue of `queue_size` spans and the finisher's share (`queue_size / 8`, as much again for runs
    /// waiting for children), botanu holds at most `queue_size + 2 × queue_size / 8` spans, whatever the
    /// number of threads (see README "Reliability").
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
    /// assert_eq!(guard.export_counts().exported, 1);
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_batch_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        let settings = QueueSettings {
            queue_size: self.config.queue_size,
            batch_size: self.config.batch_size,
            delay: self.config.schedule_delay,
            export_timeout: self.config.export_timeout,
        };
        let processor = QueueProcessor::new(exporter, settings);
        self.export_stats.push(processor.stats());
        self.queues.push(processor.handle());
        self.provider = self.provider.with_span_processor(processor);
        self.has_span_processor = true;
        self
    }

    /// Sizes and timing of the export queue used by [`Builder::with_batch_exporter`] (set it before
    /// adding the exporter), every field of it: `export_timeout` is the bound on flush, shutdown and one
    /// export call, as [`Builder::with_export_timeout`] sets it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use botanu::QueueSettings;
    ///
    /// let settings = QueueSettings {
    ///     queue_size: 1_000,
    ///     batch_size: 100,
    ///     export_timeout: Duration::from_secs(2),
    ///     ..QueueSettings::default()
    /// };
    /// let builder = botanu::Builder::new().with_queue_settings(settings);
    /// assert_eq!((builder.config().queue_size(), builder.config().batch_size()), (1_000, 100));
    /// assert_eq!(builder.config().export_timeout(), Duration::from_secs(2));
    /// ```
    pub fn with_queue_settings(mut self, settings: QueueSettings) -> Self {
        let QueueSettings { queue_size, batch_size, delay, export_timeout } = settings;
        self.config = self
            .config
            .with_queue_size(queue_size)
            .with_batch_size(batch_size)
            .with_schedule_delay(delay)
            .with_export_timeout(export_timeout);
        self
    }

    /// Adds a span processor. It runs on botanu's finisher thread, not on the application's: it gets
    /// each span once botanu has finished it (priced, stamped with its run), so flush
    /// ([`BotanuGuard::force_flush`], or `tracer_provider().force_flush()`, which drains the finisher
    /// first) before relying on what it has seen. Its telemetry is not fed back into `tracing`: it runs
    /// under the no-op dispatcher, with OpenTelemetry's telemetry suppression on. A processor slower
    /// than the application (one exporting over the network span by span) holds the finisher up, and
    /// past the finisher's capacity (`queue_size / 8` spans) an application thread runs it itself for
    /// the spans it closes: backpressure, not drops. For a network exporter use
    /// [`with_batch_exporter`](Self::with_batch_exporter).
    ///
    /// ```
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let processor = SimpleSpanProcessor::new(exporter.clone());
    /// let (layer, guard) = botanu::Builder::new().with_span_processor(processor).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     botanu::run_span!(workflow = "pay").in_scope(|| {});
    /// });
    /// guard.tracer_provider().force_flush().unwrap();
    /// assert_eq!(exporter.get_finished_spans().unwrap().len(), 1);
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_span_processor<P: SpanProcessor + 'static>(mut self, processor: P) -> Self {
        self.provider = self.provider.with_span_processor(UserProcessor::new(processor, self.link.clone()));
        self.has_span_processor = true;
        self.user_processors = true;
        self
    }

    /// Finishes spans where they close, span processors included, instead of on botanu's finisher
    /// thread: what `botanu::testing` wants (each span is exported as it ends, in order, no thread
    /// involved).
    pub(crate) fn finish_inline(mut self) -> Self {
        self.finish_inline = true;
        self
    }

    /// Records metrics into the given meter provider instead of one botanu builds. The caller owns
    /// its readers; the guard still flushes it.
    ///
    /// ```
    /// use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use botanu::prelude::*;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let metrics = InMemoryMetricExporter::default();
    /// let provider = SdkMeterProvider::builder().with_reader(PeriodicReader::builder(metrics.clone()).build()).build();
    /// let (layer, guard) = botanu::Builder::new()
    ///     .with_meter_provider(provider)
    ///     .with_span_exporter(InMemorySpanExporter::default())
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens { input: 5, ..Default::default() });
    /// });
    /// guard.force_flush()?;
    /// assert!(!metrics.get_finished_metrics().unwrap().is_empty());
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_meter_provider(mut self, provider: SdkMeterProvider) -> Self {
        self.meter_provider = Some(provider);
        self
    }

    /// Exports metrics through `exporter` (read periodically, and at flush and shutdown) from the meter
    /// provider botanu builds. Without one, the console pipeline prints a summary at shutdown.
    ///
    /// ```
    /// use opentelemetry_sdk::metrics::InMemoryMetricExporter;
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use botanu::prelude::*;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let metrics = InMemoryMetricExporter::default();
    /// let (layer, guard) = botanu::Builder::new()
    ///     .with_metric_exporter(metrics.clone())
    ///     .with_span_exporter(InMemorySpanExporter::default())
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens { input: 5, ..Default::default() });
    /// });
    /// guard.force_flush()?;
    /// assert!(!metrics.get_finished_metrics().unwrap().is_empty());
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_metric_exporter<E: PushMetricExporter>(mut self, exporter: E) -> Self {
        self.metric_readers.push(Box::new(move |b, interval| {
            b.with_reader(PeriodicReader::builder(exporter).with_interval(interval).build())
        }));
        self
    }

    /// Interval of periodic metric export (default 60 s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = botanu::Builder::new().with_metric_export_interval(Duration::from_secs(10));
    /// assert_eq!(builder.config().metric_export_interval(), Duration::from_secs(10));
    /// ```
    pub fn with_metric_export_interval(mut self, interval: Duration) -> Self {
        self.config = self.config.with_metric_export_interval(interval);
        self
    }

    /// Share of runs whose prompt/response content is captured, in [0, 1] (default 0: none).
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use botanu::prelude::*;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) =
    ///     botanu::Builder::new().with_content_capture_rate(1.0).with_span_exporter(exporter.clone()).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     run_span!(workflow = "chat").in_scope(|| {
    ///         llm_span!(provider = "openai", model = "gpt-4o").set_input_content("hello");
    ///     });
    /// });
    /// guard.force_flush()?;
    /// let spans = exporter.get_finished_spans().unwrap();
    /// assert!(spans[0].attributes.iter().any(|kv| kv.value.to_string() == "hello"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_content_capture_rate(mut self, rate: f64) -> Self {
        self.config = self.config.with_content_capture_rate(rate);
        self
    }

    /// One capture decision per run (default) or per captured value.
    ///
    /// ```
    /// use botanu::content::CaptureMode;
    ///
    /// let builder = botanu::Builder::new().with_capture_mode(CaptureMode::PerCall);
    /// # let _ = builder;
    /// ```
    pub fn with_capture_mode(mut self, mode: CaptureMode) -> Self {
        self.capture_mode = mode;
        self
    }

    /// Cut for captured content, in characters (default [`DEFAULT_MAX_CHARS`](crate::content::DEFAULT_MAX_CHARS)).
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use botanu::prelude::*;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) = botanu::Builder::new()
    ///     .with_content_capture_rate(1.0)
    ///     .with_content_max_chars(5)
    ///     .with_span_exporter(exporter.clone())
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     run_span!(workflow = "chat").in_scope(|| {
    ///         llm_span!(provider = "openai", model = "gpt-4o").set_input_content("hello world");
    ///     });
    /// });
    /// guard.force_flush()?;
    /// let spans = exporter.get_finished_spans().unwrap();
    /// assert!(spans[0].attributes.iter().any(|kv| kv.value.to_string() == "hello"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_content_max_chars(mut self, max: usize) -> Self {
        self.config = self.config.with_content_max_chars(max);
        self
    }

    /// The PII scrubber applied to captured content (default: every built-in detector).
    ///
    /// ```
    /// use botanu::content::{ScrubOptions, Scrubber};
    ///
    /// let scrubber = Scrubber::new(&ScrubOptions { replacement: "***".into(), ..ScrubOptions::default() })?;
    /// let builder = botanu::Builder::new().with_scrubber(scrubber);
    /// # let _ = builder;
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_scrubber(mut self, scrubber: Scrubber) -> Self {
        self.scrubber = Some(scrubber);
        self
    }

    /// Extra words that make an attribute key secret-looking (besides `password`, `secret`, `token`,
    /// `api_key`, `authorization`, `cookie`, …): such metadata and field values are exported redacted.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) =
    ///     botanu::Builder::new().with_secret_keys(["pin"]).with_span_exporter(exporter.clone()).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     botanu::run_span!(workflow = "pay", pin = "1234").in_scope(|| {});
    /// });
    /// guard.force_flush()?;
    /// let spans = exporter.get_finished_spans().unwrap();
    /// assert!(!spans[0].attributes.iter().any(|kv| kv.value.to_string() == "1234"));
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_secret_keys<I, S>(mut self, words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.secret_keys.extend(words.into_iter().map(Into::into));
        self
    }

    /// Which run fields `propagation::inject` carries in baggage (default lean).
    ///
    /// ```
    /// use botanu::config::PropagationMode;
    ///
    /// let builder = botanu::Builder::new().with_propagation_mode(PropagationMode::Full);
    /// assert_eq!(builder.config().propagation_mode(), PropagationMode::Full);
    /// ```
    pub fn with_propagation_mode(mut self, mode: PropagationMode) -> Self {
        self.config = self.config.with_propagation_mode(mode);
        self
    }

    /// Which semantic-convention names are written (`OTEL_SEMCONV_STABILITY_OPT_IN`; default: today's).
    ///
    /// ```
    /// use botanu::config::SemconvOptIn;
    ///
    /// let builder = botanu::Builder::new().with_semconv_opt_in(SemconvOptIn::parse("gen_ai_latest_experimental,database"));
    /// assert!(builder.config().semconv_opt_in().gen_ai_latest_experimental);
    /// ```
    pub fn with_semconv_opt_in(mut self, opt_in: crate::config::SemconvOptIn) -> Self {
        self.config = self.config.with_semconv_opt_in(opt_in);
        self
    }

    /// Whether inbound `botanu.customer_id` / `botanu.tenant_id` are honored (default false).
    ///
    /// ```
    /// let builder = botanu::Builder::new().with_propagation_trust_inbound(true);
    /// assert!(builder.config().propagation_trust_inbound());
    /// ```
    pub fn with_propagation_trust_inbound(mut self, trust: bool) -> Self {
        self.config = self.config.with_propagation_trust_inbound(trust);
        self
    }

    /// Bound on flush and shutdown (default 30 s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (_layer, guard) = botanu::Builder::new()
    ///     .with_export_timeout(Duration::from_secs(2))
    ///     .build::<tracing_subscriber::Registry>()?;
    /// guard.shutdown()?;
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_export_timeout(mut self, timeout: Duration) -> Self {
        self.config = self.config.with_export_timeout(timeout);
        self
    }

    /// Turns pricing of LLM calls and data operations on or off (default on; see [`crate::cost`]).
    ///
    /// ```
    /// let builder = botanu::Builder::new().with_pricing_enabled(false);
    /// assert!(!builder.config().pricing().enabled);
    /// ```
    pub fn with_pricing_enabled(mut self, enabled: bool) -> Self {
        self.config = self.config.with_pricing_enabled(enabled);
        self
    }

    /// Adds a price override (a negotiated price or a discount); it wins over the environment's
    /// (`BOTANU_PRICE_OVERRIDES`) and the file's (`pricing.overrides`) for the same target. A bad value
    /// fails [`Builder::build`] with a [`ConfigError`] naming it.
    ///
    /// ```
    /// use botanu::cost::PriceOverride;
    ///
    /// let discount = PriceOverride { provider: "anthropic".into(), discount: Some(0.8), ..Default::default() };
    /// let (_layer, guard) =
    ///     botanu::Builder::new().with_price_override(discount).build::<tracing_subscriber::Registry>()?;
    /// guard.shutdown()?;
    ///
    /// let bad = PriceOverride { provider: "anthropic".into(), discount: Some(1.5), ..Default::default() };
    /// let error = botanu::Builder::new().with_price_override(bad).build::<tracing_subscriber::Registry>().unwrap_err();
    /// assert!(error.to_string().contains("Config::with_price_override[anthropic/*].discount"), "{error}");
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_price_override(mut self, price: PriceOverride) -> Self {
        self.config = self.config.with_price_override(price);
        self
    }

    /// Adds a tool's unit prices (per call, per item returned); they win over the environment's
    /// (`BOTANU_TOOL_PRICES`) and the file's (`pricing.tool_prices`) for the same tool. A bad value
    /// fails [`Builder::build`] with a [`ConfigError`] naming it.
    ///
    /// ```
    /// use botanu::cost::ToolPrice;
    ///
    /// let bad = ToolPrice { tool: "search".into(), per_call: Some(-1.0), per_item: None };
    /// let error = botanu::Builder::new().with_tool_price(bad).build::<tracing_subscriber::Registry>().unwrap_err();
    /// assert!(error.to_string().contains("Config::with_tool_price[search].call"), "{error}");
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_tool_price(mut self, price: crate::cost::ToolPrice) -> Self {
        self.config = self.config.with_tool_price(price);
        self
    }

    /// A price catalog file in `genai-prices`' JSON format, consulted before the bundled catalog; read by
    /// [`Builder::build`], which fails with a [`ConfigError`] if it cannot be loaded.
    ///
    /// ```
    /// let error = botanu::Builder::new()
    ///     .with_price_catalog_file("/nonexistent/prices.json")
    ///     .build::<tracing_subscriber::Registry>()
    ///     .unwrap_err();
    /// assert!(error.to_string().contains("pricing.catalog_file"), "{error}");
    /// ```
    pub fn with_price_catalog_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config = self.config.with_price_catalog_file(path);
        self
    }

    /// Spending caps checked by [`BudgetSpanExt::reserve_budget`](crate::BudgetSpanExt::reserve_budget)
    /// and settled when spans close (see [`budget`](crate::budget)). Keep a clone of `budgets` to change
    /// caps at run time. Caps from the environment (`BOTANU_BUDGETS`) and the config file (`budgets:`)
    /// are added to it, except where a cap of the same scope, key and window was given here (code wins).
    ///
    /// ```
    /// use botanu::budget::{Budgets, Cap};
    ///
    /// let budgets = Budgets::new().with_cap(Cap::run(0.50));
    /// let (_layer, guard) = botanu::Builder::new().with_budgets(budgets.clone()).build::<tracing_subscriber::Registry>()?;
    /// budgets.set_cap(Cap::run(1.00)); // takes effect at the next reservation
    /// guard.shutdown()?;
    /// # Ok::<(), botanu::Error>(())
    /// ```
    pub fn with_budgets(mut self, budgets: crate::budget::Budgets) -> Self {
        self.budgets = Some(budgets);
        self
    }

    /// Installs a global subscriber: `Registry` + the botanu layer + a `fmt` layer on stderr filtered
    /// by `RUST_LOG`'s `level` and `target=level` directives (INFO by default; colours only if the
    /// application enables tracing-subscriber's `ansi` feature). The filter applies to the `fmt` layer only, so botanu spans are
    /// exported whatever `RUST_LOG` says. The warnings ([`BotanuGuard::warnings`]) are logged once the
    /// subscriber is installed, so they are seen.
    ///
    /// ```
    /// use botanu::config::TracesExporter;
    ///
    /// let guard = botanu::Builder::from_config(
    ///     botanu::Config::default().with_traces_exporter(TracesExporter::None),
    /// )?
    /// .init()?;
    /// botanu::run_span!(workflow = "pay").in_scope(|| {});
    /// // A second global install is refused.
    /// assert!(matches!(botanu::Builder::new().init(), Err(botanu::Error::AlreadyInstalled(_))));
    /// guard.shutdown()?;
    /// # Ok::<(), botanu::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyInstalled`] when a global subscriber exists already.
    pub fn init(mut self) -> Result<BotanuGuard, Error> {
        // Not logged by `build`: nobody listens yet.
        let mut warnings = std::mem::take(&mut self.warnings);
        let errors = std::mem::take(&mut self.errors);
        let (layer, mut guard) = self.build()?;
        let (filter, skipped) = install::stderr_filter(std::env::var("RUST_LOG").ok().as_deref());
        warnings.extend(skipped);
        // Fields are printed redacted and panic-safe, like the exported copy (see `fmt_fields`).
        let fmt = tracing_subscriber::fmt::layer()
            .fmt_fields(layer.redacting_fields())
            .with_writer(std::io::stderr)
            .with_filter(filter);
        let subscriber = tracing_subscriber::registry().with(layer).with(fmt);
        tracing::subscriber::set_global_default(subscriber).map_err(|e| Error::AlreadyInstalled(Box::new(e)))?;
        log_problems(&warnings, &errors);
        guard.warnings = warnings;
        guard.warnings.extend(errors);
        Ok(guard)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::ConfigSource;

    /// The warnings of a load, and a withheld API key, reach the guard: `build` runs before the
    /// caller's subscriber exists, so logging them there would lose them.
    #[test]
    fn config_warnings_and_a_withheld_key_are_kept_on_the_guard() {
        let dir = std::env::temp_dir().join(format!("botanu-builder-warnings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("botanu.yaml"), "service:\n  name: shop\n  colour: blue\n").expect("write");
        let env = HashMap::from([
            ("BOTANU_API_KEY".to_owned(), format!("{}-{}", "test", "key")),
            ("OTEL_TRACES_EXPORTER".to_owned(), "none".to_owned()),
        ]);
        let loaded = Config::load_from(&ConfigSource::from_env_map(env).with_search_dir(&dir));
        let _ = std::fs::remove_dir_all(&dir);
        let (config, _) = loaded.expect("load");
        // An OTLP endpoint the key may not go to (metrics), so the key is withheld.
        let config = config.with_metrics_endpoint("http://collector.example.com:4318/v1/metrics");

        let (_layer, guard) = config.build::<tracing_subscriber::Registry>().expect("build");
        let warnings = guard.warnings();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("unknown keys ignored: service.colour"), "{warnings:?}");
        assert!(warnings[1].contains("BOTANU_API_KEY was not sent to http://collector.example.com"), "{warnings:?}");
    }

    #[test]
    fn builder_settings_are_the_config_defaults() {
        let builder = Builder::new();
        assert_eq!(builder.config(), &Config::default());
        let queue = QueueSettings::default();
        let config = builder.config();
        assert_eq!(
            (config.queue_size, config.batch_size, config.schedule_delay, config.export_timeout),
            (queue.queue_size, queue.batch_size, queue.delay, queue.export_timeout)
        );
    }
}
