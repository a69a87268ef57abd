//! Installing botanu: `init()` (a global subscriber with the fmt layer), and the pieces `Builder::build`
//! assembles besides the layer: the pricing engine and the export self-metrics.

use super::*;
use std::sync::Weak;

/// Logs configuration problems on the current dispatcher.
pub(super) fn log_problems(warnings: &[String], errors: &[String]) {
    for warning in warnings {
        tracing::warn!(target: "botanu", "{warning}");
    }
    for error in errors {
        tracing::error!(target: "botanu", "{error}");
    }
}

/// Installs botanu globally, configured from the environment and a `botanu.yaml` if there is one
/// ([`Config::load`]); see [`Builder::init`] for the subscriber it installs. Configuration warnings
/// (unknown YAML keys, a withheld API key) are logged once the subscriber is installed, and kept on the
/// guard ([`BotanuGuard::warnings`]).
///
/// ```
/// let guard = botanu::init()?;
/// botanu::run_span!(workflow = "support").in_scope(|| {});
/// guard.shutdown()?;
/// # Ok::<(), botanu::Error>(())
/// ```
///
/// # Errors
///
/// A configuration error ([`Error::Config`]), an exporter that cannot be built, or a global subscriber
/// already installed.
pub fn init() -> Result<BotanuGuard, Error> {
    Config::load()?.0.init()
}

impl Config {
    /// Builds the layer and guard for an existing subscriber stack (see [`Builder::build`]).
    ///
    /// ```
    /// use botanu::config::TracesExporter;
    ///
    /// let config = botanu::Config::default().with_traces_exporter(TracesExporter::None);
    /// let (_layer, guard) = config.build::<tracing_subscriber::Registry>()?;
    /// guard.shutdown()?;
    /// # Ok::<(), botanu::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// See [`Builder::from_config`].
    pub fn build<S>(self) -> Result<(BotanuLayer<S>, BotanuGuard), Error>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        Builder::from_config(self)?.build()
    }

    /// Installs botanu globally with this configuration (see [`Builder::init`]).
    ///
    /// ```
    /// use botanu::config::TracesExporter;
    ///
    /// let guard = botanu::Config::default().with_traces_exporter(TracesExporter::None).init()?;
    /// botanu::run_span!(workflow = "pay").in_scope(|| {});
    /// guard.shutdown()?;
    /// # Ok::<(), botanu::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// See [`Builder::from_config`] and [`Builder::init`].
    pub fn init(self) -> Result<BotanuGuard, Error> {
        Builder::from_config(self)?.init()
    }
}

/// The pricing engine of `settings`. Overrides from the environment and the file were checked when the
/// configuration loaded, so an invalid one here came from code.
pub(super) fn pricing_engine(settings: &PricingConfig) -> Result<PricingEngine, Error> {
    let invalid = |key: String, value: String, expected: String| {
        Error::Config(ConfigError::InvalidValue { key, value, expected, location: None })
    };
    settings
        .overrides
        .validate("Config::with_price_override")
        .map_err(|error| invalid(error.key, String::new(), error.kind.expected()))?;
    PricingEngine::new(settings).map_err(|error| {
        let path = settings.catalog_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        invalid("pricing.catalog_file".to_owned(), path, error.kind.expected())
    })
}

/// Registers the export queue's self-metrics; the returned instruments keep their callbacks alive.
///
/// The first callback also drains `pipeline` (within `timeout`, the export timeout: the finisher never
/// waits on the network, so this is bounded by its work): callbacks run at the start of every
/// collection, so a flush or shutdown of the meter provider itself (`guard.meter_provider()`) includes
/// the metrics of spans the finisher still held.
pub(super) fn register_export_metrics(
    meter: &opentelemetry::metrics::Meter,
    stats: &[Arc<ExportStats>],
    pipeline: Option<&Arc<Pipeline>>,
    timeout: Duration,
) -> Vec<opentelemetry::metrics::ObservableCounter<u64>> {
    if stats.is_empty() {
        return Vec::new();
    }
    let counter = |name: &'static str, read: fn(&ExportStats) -> u64, drain: Option<Weak<Pipeline>>| {
        let stats = stats.to_vec();
        meter
            .u64_observable_counter(name)
            .with_unit(k::metrics::SPANS_UNIT)
            .with_callback(move |observer| {
                if let Some(pipeline) = drain.as_ref().and_then(Weak::upgrade) {
                    let _ = pipeline.drain(timeout);
                }
                observer.observe(stats.iter().map(|s| read(s)).sum(), &[]);
            })
            .build()
    };
    vec![
        counter(k::metrics::EXPORT_DROPPED_SPANS, ExportStats::dropped, pipeline.map(Arc::downgrade)),
        counter(k::metrics::EXPORT_FAILED_SPANS, ExportStats::failed, None),
    ]
}

/// Registers `botanu.export.failed_metric_exports` over the OTLP metric exporters, if any.
pub(super) fn register_metric_export_failures(
    meter: &opentelemetry::metrics::Meter,
    health: &[Arc<crate::otlp::ExportHealth>],
) -> Option<opentelemetry::metrics::ObservableCounter<u64>> {
    let metrics: Vec<_> = health.iter().filter(|h| h.is_metrics()).cloned().collect();
    if metrics.is_empty() {
        return None;
    }
    Some(
        meter
            .u64_observable_counter(k::metrics::EXPORT_FAILED_METRIC_EXPORTS)
            .with_unit(k::metrics::EXPORTS_UNIT)
            .with_callback(move |observer| observer.observe(metrics.iter().map(|h| h.failures()).sum(), &[]))
            .build(),
    )
}
