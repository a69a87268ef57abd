//! The builder: tracer and meter providers, the layer, and the guard that flushes them.
//!
//! botanu owns its `SdkTracerProvider`: the layer builds each OTel span at close with ids it chose when
//! the span opened, which needs the provider's id generator (see `layer::export`). Users add their own
//! span processors and exporters through [`Builder`]; the provider itself is reachable from the guard.
//! Nothing global is touched unless [`Builder::init`] (or [`init`]) is called.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{MeterProviderBuilder, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{
    Sampler, SdkTracerProvider, SimpleSpanProcessor, SpanExporter, SpanProcessor, TracerProviderBuilder,
};
use opentelemetry_sdk::Resource;
use tracing_core::Subscriber;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer as _;

use crate::config::{Config, PropagationMode, TracesExporter};
use crate::console::{ConsoleExporter, ConsoleMetricExporter};
use crate::content::{CaptureMode, ContentGate, ContentPolicy, ScrubOptions, Scrubber, SecretKeys, DEFAULT_MAX_CHARS};
use crate::error::Error;
use crate::export_queue::{ExportStats, QueueProcessor, QueueSettings};
use crate::layer::{BotanuLayer, PresetIdGenerator, Shared, DEFAULT_MAX_EVENTS_PER_SPAN};
use crate::metrics::Instruments;
use crate::semconv as k;

/// Adds one periodic reader to a meter provider under construction.
type ReaderFn = Box<dyn FnOnce(MeterProviderBuilder, Duration) -> MeterProviderBuilder>;

/// Default bound on flush and shutdown.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds a [`BotanuLayer`] and the providers behind it.
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
    provider: TracerProviderBuilder,
    has_span_processor: bool,
    /// A span processor runs user code on the application thread (a simple exporter, any user
    /// processor): the layer then isolates it from `tracing` (see `layer::export`).
    inline_processors: bool,
    meter_provider: Option<SdkMeterProvider>,
    metric_readers: Vec<ReaderFn>,
    service_name: String,
    environment: String,
    resource_attributes: Vec<KeyValue>,
    export_all_spans: bool,
    max_events: usize,
    content_rate: f64,
    capture_mode: CaptureMode,
    content_max_chars: usize,
    scrubber: Option<Scrubber>,
    secret_keys: Vec<String>,
    propagation_mode: PropagationMode,
    trust_inbound: bool,
    event_level: tracing::Level,
    queue: QueueSettings,
    export_stats: Vec<Arc<ExportStats>>,
    export_timeout: Duration,
    metric_interval: Duration,
    /// No span processor at all was chosen on purpose (`OTEL_TRACES_EXPORTER=none`, `OTEL_SDK_DISABLED`).
    no_export: bool,
    /// Problems found while building from a [`Config`], logged once the subscriber exists.
    warnings: Vec<String>,
    /// Like `warnings`, logged at ERROR (a withheld API key).
    errors: Vec<String>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("service_name", &self.service_name)
            .field("environment", &self.environment)
            .field("export_all_spans", &self.export_all_spans)
            .field("content_rate", &self.content_rate)
            .finish_non_exhaustive()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// A builder with the contract's defaults: service `unknown_service`, environment `production`,
    /// content capture off, console export unless an exporter or processor is added.
    pub fn new() -> Self {
        Builder {
            provider: SdkTracerProvider::builder()
                .with_id_generator(PresetIdGenerator)
                // Cost data is never sampled away, whatever an inbound trace flag says.
                .with_sampler(Sampler::AlwaysOn)
                .with_max_attributes_per_span(256),
            has_span_processor: false,
            inline_processors: false,
            meter_provider: None,
            metric_readers: Vec::new(),
            service_name: "unknown_service".to_owned(),
            environment: "production".to_owned(),
            resource_attributes: Vec::new(),
            export_all_spans: false,
            max_events: DEFAULT_MAX_EVENTS_PER_SPAN,
            content_rate: 0.0,
            capture_mode: CaptureMode::PerRun,
            content_max_chars: DEFAULT_MAX_CHARS,
            scrubber: None,
            secret_keys: Vec::new(),
            propagation_mode: PropagationMode::Lean,
            trust_inbound: false,
            event_level: tracing::Level::INFO,
            queue: QueueSettings::default(),
            export_stats: Vec::new(),
            export_timeout: DEFAULT_EXPORT_TIMEOUT,
            metric_interval: Duration::from_secs(60),
            no_export: false,
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// A builder from a loaded [`Config`]: resource, content capture and PII scrubbing, and the
    /// exporters it names (OTLP over http/protobuf or gRPC with a batch processor, the console, or none).
    pub fn from_config(config: Config) -> Result<Self, crate::Error> {
        let mut b = Builder::new()
            .with_service_name(config.service_name.clone())
            .with_environment(config.environment.clone())
            .with_export_all_spans(config.export_all_spans)
            .with_max_events_per_span(config.max_events_per_span)
            .with_propagation_mode(config.propagation_mode)
            .with_propagation_trust_inbound(config.propagation_trust_inbound)
            .with_content_capture_rate(config.content_capture_rate)
            .with_content_max_chars(config.content_max_chars)
            .with_export_timeout(config.export_timeout)
            .with_metric_export_interval(config.metric_export_interval);
        if let Some(v) = &config.service_version {
            b = b.with_resource_attribute(k::RESOURCE_SERVICE_VERSION, v.clone());
        }
        if let Some(ns) = &config.service_namespace {
            b = b.with_resource_attribute(k::RESOURCE_SERVICE_NAMESPACE, ns.clone());
        }
        for (key, value) in &config.resource_attributes {
            b = b.with_resource_attribute(key.clone(), value.clone());
        }
        let scrub = ScrubOptions {
            enabled: config.pii.enabled,
            disable: config.pii.disable_patterns.clone(),
            custom: config.pii.custom_patterns.clone(),
            replacement: config.pii.replacement.clone(),
            ..ScrubOptions::default()
        };
        b = b.with_scrubber(Scrubber::new(&scrub)?);

        if config.sdk_disabled || config.traces_exporter == TracesExporter::None {
            b.no_export = true;
        }
        if config.sdk_disabled {
            return Ok(b);
        }
        let mut headers: std::collections::HashMap<String, String> = config.headers.iter().cloned().collect();
        match config.auth_header() {
            Ok(Some((name, value))) => {
                headers.insert(name, value);
            }
            Ok(None) => {}
            Err(withheld) => b.errors.push(withheld.to_string()),
        }
        if config.traces_exporter == TracesExporter::Otlp {
            if let Some(url) = config.traces_url() {
                let exporter = crate::otlp::span_exporter(&config, &url, headers.clone())?;
                b = b
                    .with_queue_settings(QueueSettings {
                        queue_size: config.queue_size,
                        batch_size: config.batch_size,
                        delay: config.schedule_delay,
                        export_timeout: config.export_timeout,
                    })
                    .with_batch_exporter(exporter);
            }
        }
        if let Some(url) = config.metrics_url() {
            if config.traces_exporter == TracesExporter::Otlp || config.metrics_endpoint.is_some() {
                let exporter = crate::otlp::metric_exporter(&config, &url, headers)?;
                b = b.with_metric_exporter(exporter);
            }
        }
        Ok(b)
    }

    /// `service.name` of the resource.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = name.into();
        self
    }

    /// `botanu.environment` on runs and `deployment.environment` on the resource.
    pub fn with_environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = environment.into();
        self
    }

    /// Adds a resource attribute.
    pub fn with_resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.resource_attributes.push(KeyValue::new(key.into(), value.into()));
        self
    }

    /// Also export spans that are not botanu spans (ordinary `info_span!`s), stamped with run context.
    pub fn with_export_all_spans(mut self, all: bool) -> Self {
        self.export_all_spans = all;
        self
    }

    /// The most verbose `tracing` event level kept as a span event (default INFO): DEBUG and TRACE
    /// events from libraries are not cost data.
    pub fn with_span_event_level(mut self, level: tracing::Level) -> Self {
        self.event_level = level;
        self
    }

    /// Cap on span events kept per span (default 128); the number dropped is recorded on the span.
    pub fn with_max_events_per_span(mut self, max: usize) -> Self {
        self.max_events = max;
        self
    }

    /// Exports spans through `exporter` as each span ends (a `SimpleSpanProcessor`); for tests and
    /// development.
    pub fn with_span_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.provider = self.provider.with_span_processor(SimpleSpanProcessor::new(exporter));
        self.has_span_processor = true;
        self.inline_processors = true;
        self
    }

    /// Exports spans through `exporter` from botanu's export queue, on a background thread: the
    /// application never waits on the network, and spans dropped because the queue is full are
    /// counted ([`BotanuGuard::export_counts`], metric `botanu.export.dropped_spans`).
    pub fn with_batch_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        let settings = QueueSettings { export_timeout: self.export_timeout, ..self.queue };
        let processor = QueueProcessor::new(exporter, settings);
        self.export_stats.push(processor.stats());
        self.provider = self.provider.with_span_processor(processor);
        self.has_span_processor = true;
        self
    }

    /// Sizes and timing of the export queue used by [`Builder::with_batch_exporter`] (set it before
    /// adding the exporter).
    pub fn with_queue_settings(mut self, settings: QueueSettings) -> Self {
        self.queue = settings;
        self
    }

    /// Adds a span processor.
    pub fn with_span_processor<P: SpanProcessor + 'static>(mut self, processor: P) -> Self {
        self.provider = self.provider.with_span_processor(processor);
        self.has_span_processor = true;
        self.inline_processors = true;
        self
    }

    /// Records metrics into the given meter provider instead of one botanu builds. The caller owns
    /// its readers; the guard still flushes it.
    pub fn with_meter_provider(mut self, provider: SdkMeterProvider) -> Self {
        self.meter_provider = Some(provider);
        self
    }

    /// Exports metrics through `exporter` (read periodically, and at flush and shutdown) from the meter
    /// provider botanu builds. Without one, the console pipeline prints a summary at shutdown.
    pub fn with_metric_exporter<E: PushMetricExporter>(mut self, exporter: E) -> Self {
        self.metric_readers.push(Box::new(move |b, interval| {
            b.with_reader(PeriodicReader::builder(exporter).with_interval(interval).build())
        }));
        self
    }

    /// Interval of periodic metric export (default 60 s).
    pub fn with_metric_export_interval(mut self, interval: Duration) -> Self {
        self.metric_interval = interval;
        self
    }

    /// Share of runs whose prompt/response content is captured, in [0, 1] (default 0: none).
    pub fn with_content_capture_rate(mut self, rate: f64) -> Self {
        self.content_rate = rate;
        self
    }

    /// One capture decision per run (default) or per captured value.
    pub fn with_capture_mode(mut self, mode: CaptureMode) -> Self {
        self.capture_mode = mode;
        self
    }

    /// Cut for captured content, in characters (default 4096).
    pub fn with_content_max_chars(mut self, max: usize) -> Self {
        self.content_max_chars = max;
        self
    }

    /// The PII scrubber applied to captured content (default: every built-in detector).
    pub fn with_scrubber(mut self, scrubber: Scrubber) -> Self {
        self.scrubber = Some(scrubber);
        self
    }

    /// Extra words that make an attribute key secret-looking (besides `password`, `secret`, `token`,
    /// `api_key`, `authorization`, `cookie`, …): such metadata and field values are exported redacted.
    pub fn with_secret_keys<I, S>(mut self, words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.secret_keys.extend(words.into_iter().map(Into::into));
        self
    }

    /// Which run fields `propagation::inject` carries in baggage (default lean).
    pub fn with_propagation_mode(mut self, mode: PropagationMode) -> Self {
        self.propagation_mode = mode;
        self
    }

    /// Whether inbound `botanu.customer_id` / `botanu.tenant_id` are honored (default false).
    pub fn with_propagation_trust_inbound(mut self, trust: bool) -> Self {
        self.trust_inbound = trust;
        self
    }

    /// Bound on flush and shutdown (default 30 s).
    pub fn with_export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
        self
    }

    fn resource(&self) -> Resource {
        let mut attrs = vec![
            KeyValue::new(k::RESOURCE_DEPLOYMENT_ENVIRONMENT, self.environment.clone()),
            KeyValue::new(k::RESOURCE_SDK_NAME, k::SDK_NAME),
            KeyValue::new(k::RESOURCE_SDK_VERSION, env!("CARGO_PKG_VERSION")),
        ];
        attrs.extend(self.resource_attributes.iter().cloned());
        Resource::builder_empty().with_service_name(self.service_name.clone()).with_attributes(attrs).build()
    }

    fn log_problems(&mut self) {
        for warning in std::mem::take(&mut self.warnings) {
            tracing::warn!(target: "botanu", "{warning}");
        }
        for error in std::mem::take(&mut self.errors) {
            tracing::error!(target: "botanu", "{error}");
        }
    }

    /// Builds the layer for an existing subscriber stack, and the guard that flushes on drop.
    pub fn build<S>(mut self) -> Result<(BotanuLayer<S>, BotanuGuard), crate::Error>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let resource = self.resource();
        self.log_problems();
        let console = !self.has_span_processor && !self.no_export;
        // botanu caps span events itself (and counts what it drops); the SDK's limit sits above that cap
        // so the run's own events (started, completed, exception) are never cut off.
        let sdk_events = u32::try_from(self.max_events.saturating_add(16)).unwrap_or(u32::MAX);
        let mut provider = self.provider.with_resource(resource.clone()).with_max_events_per_span(sdk_events);
        if console {
            provider = provider.with_span_processor(SimpleSpanProcessor::new(ConsoleExporter::new()));
            self.inline_processors = true;
        }
        let tracer_provider = provider.build();
        let scope = InstrumentationScope::builder(k::SDK_NAME).with_version(env!("CARGO_PKG_VERSION")).build();
        let tracer = tracer_provider.tracer_with_scope(scope.clone());

        let (meter_provider, owned_meter) = match self.meter_provider {
            Some(mp) => (mp, false),
            None => {
                let mut b = SdkMeterProvider::builder().with_resource(resource);
                let has_readers = !self.metric_readers.is_empty();
                for add in self.metric_readers {
                    b = add(b, self.metric_interval);
                }
                if console && !has_readers {
                    let reader = PeriodicReader::builder(ConsoleMetricExporter::new())
                        .with_interval(self.metric_interval)
                        .build();
                    b = b.with_reader(reader);
                }
                (b.build(), true)
            }
        };
        let meter = meter_provider.meter_with_scope(scope);
        let self_metrics = register_export_metrics(&meter, &self.export_stats);

        let mut shared = Shared::new(tracer, Arc::from(self.environment.as_str()));
        shared.export_all = self.export_all_spans;
        shared.max_events = self.max_events;
        shared.secret_keys = SecretKeys::new(&self.secret_keys);
        shared.propagation_mode = self.propagation_mode;
        shared.trust_inbound = self.trust_inbound;
        shared.event_level = self.event_level;
        shared.export_stats = self.export_stats.clone();
        shared.inline_processors = self.inline_processors;
        shared.metrics = Some(Instruments::new(&meter));
        shared.content = ContentPolicy::new(
            ContentGate::new(self.content_rate, self.capture_mode),
            self.scrubber.unwrap_or_default(),
            self.content_max_chars,
        );
        let layer = BotanuLayer::from_shared(shared);
        let guard = BotanuGuard {
            export_stats: self.export_stats,
            _self_metrics: self_metrics,
            tracer_provider,
            meter_provider: Some(meter_provider),
            owned_meter,
            timeout: self.export_timeout,
            done: false,
        };
        Ok((layer, guard))
    }

    /// Installs a global subscriber: `Registry` + the botanu layer + a `fmt` layer on stderr filtered
    /// by `RUST_LOG` (INFO by default). The filter applies to the `fmt` layer only, so botanu spans are
    /// exported whatever `RUST_LOG` says.
    pub fn init(mut self) -> Result<BotanuGuard, crate::Error> {
        use tracing_subscriber::filter::{EnvFilter, LevelFilter};
        let warnings = std::mem::take(&mut self.warnings);
        let errors = std::mem::take(&mut self.errors);
        let (layer, guard) = self.build()?;
        let filter = EnvFilter::builder().with_default_directive(LevelFilter::INFO.into()).from_env_lossy();
        let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter);
        let subscriber = tracing_subscriber::registry().with(layer).with(fmt);
        tracing::subscriber::set_global_default(subscriber).map_err(Error::AlreadyInstalled)?;
        for warning in warnings {
            tracing::warn!(target: "botanu", "{warning}");
        }
        for error in errors {
            tracing::error!(target: "botanu", "{error}");
        }
        Ok(guard)
    }
}

/// Installs botanu globally, configured from the environment and a `botanu.yaml` if there is one
/// ([`Config::load`]); see [`Builder::init`] for the subscriber it installs. Configuration warnings
/// (unknown YAML keys, a withheld API key) are logged once the subscriber is installed.
///
/// ```no_run
/// let _guard = botanu::init()?;
/// # Ok::<(), botanu::Error>(())
/// ```
pub fn init() -> Result<BotanuGuard, crate::Error> {
    Config::load_and_log()?.init()
}

impl Config {
    /// Loads the configuration and keeps its warnings to be logged by the pipeline.
    fn load_and_log() -> Result<Builder, crate::Error> {
        let (config, warnings) = Config::load()?;
        let mut builder = Builder::from_config(config)?;
        builder.warnings.extend(warnings);
        Ok(builder)
    }

    /// Builds the layer and guard for an existing subscriber stack (see [`Builder::build`]).
    pub fn build<S>(self) -> Result<(BotanuLayer<S>, BotanuGuard), crate::Error>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        Builder::from_config(self)?.build()
    }

    /// Installs botanu globally with this configuration (see [`Builder::init`]).
    pub fn init(self) -> Result<BotanuGuard, crate::Error> {
        Builder::from_config(self)?.init()
    }
}

/// Registers the export queue's self-metrics; the returned instruments keep their callbacks alive.
fn register_export_metrics(
    meter: &opentelemetry::metrics::Meter,
    stats: &[Arc<ExportStats>],
) -> Vec<opentelemetry::metrics::ObservableCounter<u64>> {
    if stats.is_empty() {
        return Vec::new();
    }
    let counter = |name: &'static str, read: fn(&ExportStats) -> u64| {
        let stats = stats.to_vec();
        meter
            .u64_observable_counter(name)
            .with_unit(k::metrics::SPANS_UNIT)
            .with_callback(move |observer| observer.observe(stats.iter().map(|s| read(s)).sum(), &[]))
            .build()
    };
    vec![
        counter(k::metrics::EXPORT_DROPPED_SPANS, ExportStats::dropped),
        counter(k::metrics::EXPORT_FAILED_SPANS, ExportStats::failed),
    ]
}

/// Totals over botanu's export queues (see [`BotanuGuard::export_counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportCounts {
    /// Spans the exporters accepted.
    pub exported: u64,
    /// Spans in batches an exporter failed to send.
    pub failed: u64,
    /// Spans dropped because a queue was full.
    pub dropped: u64,
}

/// Keeps the providers alive; flushes and shuts them down when dropped, bounded by the export timeout.
pub struct BotanuGuard {
    export_stats: Vec<Arc<ExportStats>>,
    _self_metrics: Vec<opentelemetry::metrics::ObservableCounter<u64>>,
    tracer_provider: SdkTracerProvider,
    meter_provider: Option<SdkMeterProvider>,
    owned_meter: bool,
    timeout: Duration,
    done: bool,
}

impl fmt::Debug for BotanuGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotanuGuard").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl BotanuGuard {
    /// Exports everything recorded so far (spans, then metrics).
    pub fn force_flush(&self) -> Result<(), crate::Error> {
        self.tracer_provider.force_flush().map_err(Error::Flush)?;
        if let Some(mp) = &self.meter_provider {
            mp.force_flush().map_err(Error::Flush)?;
        }
        Ok(())
    }

    /// What happened to the spans given to botanu's export queues so far: exported, failed to send,
    /// dropped because a queue was full. Spans exported with `with_span_exporter` are not counted.
    pub fn export_counts(&self) -> ExportCounts {
        self.export_stats.iter().fold(ExportCounts::default(), |acc, s| ExportCounts {
            exported: acc.exported + s.exported(),
            failed: acc.failed + s.failed(),
            dropped: acc.dropped + s.dropped(),
        })
    }

    /// The tracer provider botanu exports through.
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        &self.tracer_provider
    }

    /// The meter provider botanu records into.
    pub fn meter_provider(&self) -> Option<&SdkMeterProvider> {
        self.meter_provider.as_ref()
    }

    /// Flushes and shuts down, within the export timeout.
    pub fn shutdown(mut self) -> Result<(), crate::Error> {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> Result<(), crate::Error> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(());
        }
        let traces = self.tracer_provider.shutdown_with_timeout(self.timeout);
        let metrics = match &self.meter_provider {
            Some(mp) if self.owned_meter => mp.shutdown_with_timeout(self.timeout),
            Some(mp) => mp.force_flush(),
            None => Ok(()),
        };
        traces.map_err(Error::Shutdown)?;
        metrics.map_err(Error::Shutdown)
    }
}

impl Drop for BotanuGuard {
    fn drop(&mut self) {
        let _ = self.shutdown_inner();
    }
}
