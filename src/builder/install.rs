//! Installing botanu: `init()` (a global subscriber with the fmt layer), and the pieces `Builder::build`
//! assembles besides the layer: the pricing engine and the export self-metrics.

use super::*;
use std::sync::Weak;

/// The filter of `init()`'s stderr layer, from `RUST_LOG`: `target=level` and `level` directives
/// (tracing-subscriber's `Targets`), INFO when unset or when no directive can be used; with the directives
/// it skipped, for a warning.
///
/// Not an `EnvFilter`: tracing-subscriber's `env-filter` feature would be enabled for the application's
/// copy of tracing-subscriber too, and it changes the application's own `tracing_subscriber::fmt::init()`
/// (an `EnvFilter` that shows ERROR only when `RUST_LOG` is unset, instead of INFO). Span and field
/// directives (`app[request]=debug`) are what that costs; they are skipped, with a warning.
pub(super) fn stderr_filter(rust_log: Option<&str>) -> (tracing_subscriber::filter::Targets, Vec<String>) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    let mut skipped = Vec::new();
    let mut directives: Vec<String> = Vec::new();
    for directive in rust_log.unwrap_or("").split(',').map(str::trim).filter(|d| !d.is_empty()) {
        // `Targets` would read a span or field directive as a target name that matches nothing.
        let span_or_field = directive.contains(['[', ']', '{', '}']);
        match directive.parse::<Targets>() {
            Ok(_) if !span_or_field => directives.push(directive.to_owned()),
            _ => skipped.push(format!(
                "RUST_LOG: `{directive}` ignored (botanu's stderr log takes `level` and `target=level` directives)"
            )),
        }
    }
    let filter = match directives.join(",").parse::<Targets>() {
        Ok(targets) if !directives.is_empty() => targets,
        _ => Targets::new().with_default(LevelFilter::INFO),
    };
    (filter, skipped)
}

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
    settings
        .tool_prices
        .validate("Config::with_tool_price")
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

#[cfg(test)]
mod stderr_filter_tests {
    use tracing::Level;

    use super::stderr_filter;

    #[test]
    fn rust_log_directives_filter_the_stderr_layer() {
        // (RUST_LOG, target, level, shown, directives skipped)
        let cases: &[(Option<&str>, &str, Level, bool, usize)] = &[
            (None, "app", Level::INFO, true, 0),
            (None, "app", Level::DEBUG, false, 0),
            (Some(""), "app", Level::INFO, true, 0),
            (Some("debug"), "app", Level::DEBUG, true, 0),
            (Some("warn"), "botanu", Level::INFO, false, 0),
            (Some("warn,app=trace"), "app::db", Level::TRACE, true, 0),
            (Some("warn,app=trace"), "other", Level::INFO, false, 0),
            (Some("app=debug"), "other", Level::ERROR, false, 0),
            (Some("app[request]=debug,info"), "app", Level::INFO, true, 1),
            (Some("app=loud"), "app", Level::INFO, true, 1),
            (Some("app[{user}]=trace"), "app", Level::DEBUG, false, 1),
        ];
        for &(rust_log, target, level, shown, skipped) in cases {
            let (filter, warnings) = stderr_filter(rust_log);
            assert_eq!(filter.would_enable(target, &level), shown, "{rust_log:?} {target} {level}");
            assert_eq!(warnings.len(), skipped, "{rust_log:?}: {warnings:?}");
        }
    }
}
