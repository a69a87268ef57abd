//! `Builder::build`: the providers, the layer and the guard, from the resolved settings.

use std::sync::Arc;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SimpleSpanProcessor, SpanLimits};
use opentelemetry_sdk::Resource;
use tracing_core::Subscriber;
use tracing_subscriber::registry::LookupSpan;

use super::install::{log_problems, pricing_engine, register_export_metrics, register_metric_export_failures};
use super::{BotanuGuard, Builder};
use crate::config::Config;
use crate::console::{ConsoleExporter, ConsoleMetricExporter};
use crate::content::{ContentGate, ContentPolicy, SecretKeys};
use crate::error::Error;
use crate::layer::cost::{CostLayer, SummaryStore};
use crate::layer::{BotanuLayer, Pipeline, Shared, SharedParts};
use crate::metrics::Instruments;
use crate::pipeline::UserProcessor;
use crate::semconv as k;

/// Attributes an exported span keeps at most (the SDK's default is 128; a run span carries more).
const MAX_ATTRIBUTES_PER_SPAN: u32 = 256;

impl Builder {
    fn resource(config: &Config) -> Resource {
        let mut attrs = vec![
            KeyValue::new(k::RESOURCE_DEPLOYMENT_ENVIRONMENT, config.environment.clone()),
            KeyValue::new(k::RESOURCE_SDK_NAME, k::SDK_NAME),
            KeyValue::new(k::RESOURCE_SDK_VERSION, env!("CARGO_PKG_VERSION")),
        ];
        if let Some(v) = &config.service_version {
            attrs.push(KeyValue::new(k::RESOURCE_SERVICE_VERSION, v.clone()));
        }
        if let Some(ns) = &config.service_namespace {
            attrs.push(KeyValue::new(k::RESOURCE_SERVICE_NAMESPACE, ns.clone()));
        }
        attrs.extend(config.resource_attributes.iter().map(|(key, value)| KeyValue::new(key.clone(), value.clone())));
        Resource::builder_empty().with_service_name(config.service_name.clone()).with_attributes(attrs).build()
    }

    /// Builds the layer for an existing subscriber stack, and the guard that flushes on drop.
    ///
    /// Problems found on the way (a withheld API key, the config's warnings) are kept on the guard
    /// ([`BotanuGuard::warnings`]) for the program to log once its subscriber is installed; they are
    /// logged here only if a global subscriber already exists to see them.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build()?;
    /// let subscriber = tracing_subscriber::registry().with(layer);
    /// tracing::subscriber::with_default(subscriber, || botanu::run_span!(workflow = "pay").in_scope(|| {}));
    /// guard.force_flush()?;
    /// assert_eq!(exporter.get_finished_spans().unwrap().len(), 1);
    /// guard.shutdown()?;
    /// # Ok::<(), botanu::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when a price override given in code is invalid or the price catalog file cannot
    /// be loaded.
    pub fn build<S>(self) -> Result<(BotanuLayer<S>, BotanuGuard), Error>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if tracing::dispatcher::has_been_set() {
            log_problems(&self.warnings, &self.errors);
        }
        let Builder {
            config,
            provider,
            has_span_processor,
            mut user_processors,
            finish_inline,
            link,
            queues,
            meter_provider,
            metric_readers,
            capture_mode,
            scrubber,
            secret_keys,
            event_level,
            context_activation,
            export_stats,
            otlp_health,
            no_export,
            mut warnings,
            errors,
            budgets,
        } = self;
        warnings.extend(errors);
        // First: a bad price setting fails the build before any provider starts.
        let engine = if config.pricing.enabled { Some(pricing_engine(&config.pricing)?) } else { None };
        let resource = Builder::resource(&config);
        let console = !has_span_processor && !no_export;
        // botanu caps span events itself (and counts what it drops); the SDK's limit sits above that cap
        // so the run's own events (started, completed, exception) are never cut off.
        let span_limits = SpanLimits {
            max_events_per_span: u32::try_from(config.max_events_per_span.saturating_add(16)).unwrap_or(u32::MAX),
            max_attributes_per_span: MAX_ATTRIBUTES_PER_SPAN,
            // The rest as the SDK reads them (`OTEL_SPAN_LINK_COUNT_LIMIT`, the per-event and per-link
            // attribute limits), for the direct path and the SDK's alike.
            ..opentelemetry_sdk::trace::Config::default().span_limits
        };
        let mut provider = provider.with_resource(resource.clone()).with_span_limits(span_limits);
        if console {
            let console = SimpleSpanProcessor::new(ConsoleExporter::new());
            provider = provider.with_span_processor(UserProcessor::new(console, link.clone()));
            user_processors = true;
        }
        let tracer_provider = provider.build();
        // Nothing fails past this point: the export queues' workers start now, not when the exporters
        // were added, so a builder dropped unbuilt or failing above leaves no thread behind.
        for stats in &export_stats {
            stats.start();
        }
        let scope = InstrumentationScope::builder(k::SDK_NAME).with_version(env!("CARGO_PKG_VERSION")).build();
        let tracer = tracer_provider.tracer_with_scope(scope.clone());

        let (meter_provider, owned_meter) = match meter_provider {
            Some(mp) => (mp, false),
            None => {
                let mut b = SdkMeterProvider::builder().with_resource(resource);
                let has_readers = !metric_readers.is_empty();
                for add in metric_readers {
                    b = add(b, config.metric_export_interval);
                }
                if console && !has_readers {
                    let reader = PeriodicReader::builder(ConsoleMetricExporter::new())
                        .with_interval(config.metric_export_interval)
                        .build();
                    b = b.with_reader(reader);
                }
                (b.build(), true)
            }
        };
        let meter = meter_provider.meter_with_scope(scope.clone());
        // Spans are finished on botanu's finisher thread, whatever the processors (not under `botanu::testing`).
        let pipeline = (!finish_inline).then(|| Pipeline::new(config.queue_size, config.schedule_delay, &export_stats));
        let mut self_metrics = register_export_metrics(&meter, &export_stats, pipeline.as_ref(), config.export_timeout);
        self_metrics.extend(register_metric_export_failures(&meter, &otlp_health));
        let cost_summary = Arc::new(SummaryStore::default());
        // The cost ledger's writer thread, when one is configured (a thread that cannot start: no ledger).
        let ledger = match (&engine, &config.pricing.ledger_file) {
            (Some(_), Some(path)) => crate::pipeline::CostLedger::start(crate::pipeline::LedgerFile {
                path: path.clone(),
                max_bytes: config.pricing.ledger_max_bytes.max(1),
                max_files: config.pricing.ledger_max_files,
            })
            .map(Arc::new),
            _ => None,
        };
        let cost = engine.map(|engine| CostLayer::new(engine, &meter, cost_summary.clone(), ledger.clone()));
        let budgets = match budgets {
            Some(budgets) => Some(budgets),
            None => config.budgets.is_configured().then(crate::budget::Budgets::new),
        };
        let budget = budgets.map(|budgets| {
            budgets.apply_config(&config.budgets);
            crate::layer::budget::BudgetLayer::new(budgets, &meter)
        });
        #[cfg(feature = "redis")]
        if let (Some(layer), crate::budget::BudgetStoreKind::Redis(url)) = (&budget, &config.budgets.store) {
            // A store given in code wins. The URL was checked when the configuration was loaded; a client
            // that still cannot be made leaves the caps in memory, with a warning.
            if !layer.budgets.has_shared_store() {
                if let Err(error) = layer.budgets.clone().with_redis(url, config.budgets.store_timeout) {
                    warnings.push(format!("budget store {error}; budget caps are counted in this process only"));
                }
            }
        }

        let parts = SharedParts {
            tracer,
            content: ContentPolicy::new(
                ContentGate::new(config.content_capture_rate, capture_mode),
                scrubber.unwrap_or_default(),
                config.content_max_chars,
            ),
            secret_keys: SecretKeys::new(&secret_keys),
            metrics: Some(Instruments::new(&meter, config.semconv_opt_in())),
            event_level,
            user_processors,
            queues,
            link: link.clone(),
            span_limits,
            scope: scope.clone(),
            export_stats: export_stats.clone(),
            cost,
            budget,
            activate_context: context_activation,
            pipeline: pipeline.clone(),
        };
        let layer = BotanuLayer::from_shared(Shared::new(&config, parts));
        // Every span processor drains the finisher first at its flush and shutdown, however it is asked
        // (the guard, or the provider's own `force_flush` / `shutdown`): the queues and the user's
        // processors through the link (see `pipeline::user`).
        if let Some(pipeline) = pipeline.as_ref().filter(|p| p.is_running()) {
            link.feed_from(pipeline.clone(), config.export_timeout);
            for stats in &export_stats {
                stats.feed_from(link.clone());
            }
        }
        let guard = BotanuGuard {
            export_stats,
            otlp_health,
            _self_metrics: self_metrics,
            tracer_provider,
            meter_provider: Some(meter_provider),
            owned_meter,
            timeout: config.export_timeout,
            warnings,
            cost_summary,
            pipeline,
            ledger,
            done: false,
        };
        Ok((layer, guard))
    }
}
