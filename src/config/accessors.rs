//! Read access to a [`Config`]: one accessor per setting. The fields themselves are private to the crate,
//! so the invariants the `with_*` methods and the loader keep (a batch never above the queue, a capture
//! rate within 0..=1, the traces exporter derived from the endpoint unless chosen) cannot be broken by an
//! assignment.

use std::time::Duration;

use super::{Config, Endpoint, OtlpTransport, PiiConfig, PropagationMode, Protocol, TracesExporter};
use crate::cost::PricingConfig;

impl Config {
    /// `service.name` of the resource.
    pub fn service_name(&self) -> &str {
        &self.service_name
    }

    /// `service.version` of the resource.
    pub fn service_version(&self) -> Option<&str> {
        self.service_version.as_deref()
    }

    /// `service.namespace` of the resource.
    pub fn service_namespace(&self) -> Option<&str> {
        self.service_namespace.as_deref()
    }

    /// `deployment.environment` of the resource and `botanu.environment` on run spans.
    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// Where traces are exported; `None` with the default exporter means console output.
    pub fn traces_endpoint(&self) -> Option<&Endpoint> {
        self.traces_endpoint.as_ref()
    }

    /// Where metrics are exported.
    pub fn metrics_endpoint(&self) -> Option<&Endpoint> {
        self.metrics_endpoint.as_ref()
    }

    /// Extra headers sent with every export request, in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The Botanu API key; sent only to trusted hosts, see [`Config::auth_header`].
    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// The OTLP transport.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// How traces are sent: TLS, compression, timeout ([`OtlpTransport`]).
    pub fn traces_otlp(&self) -> &OtlpTransport {
        &self.traces_otlp
    }

    /// How metrics are sent.
    pub fn metrics_otlp(&self) -> &OtlpTransport {
        &self.metrics_otlp
    }

    /// Spans per export request (never above `queue_size` after loading).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Spans buffered before new ones are dropped.
    pub fn queue_size(&self) -> usize {
        self.queue_size
    }

    /// Time between two scheduled exports.
    pub fn schedule_delay(&self) -> Duration {
        self.schedule_delay
    }

    /// Time an export may take before it is abandoned.
    pub fn export_timeout(&self) -> Duration {
        self.export_timeout
    }

    /// Time between two metric exports.
    pub fn metric_export_interval(&self) -> Duration {
        self.metric_export_interval
    }

    /// Share of LLM/tool/retrieval calls whose content is captured, in `0.0..=1.0`.
    pub fn content_capture_rate(&self) -> f64 {
        self.content_capture_rate
    }

    /// Captured content is cut to this many chars (after scrubbing).
    pub fn content_max_chars(&self) -> usize {
        self.content_max_chars
    }

    /// PII scrubbing of captured content.
    pub fn pii(&self) -> &PiiConfig {
        &self.pii
    }

    /// Which run fields travel in baggage.
    pub fn propagation_mode(&self) -> PropagationMode {
        self.propagation_mode
    }

    /// Whether inbound `botanu.customer_id` / `botanu.tenant_id` (baggage or fallback headers) are
    /// honored. Off by default, so a client cannot bill its usage to another tenant; turn it on only
    /// where callers are trusted (service to service behind your own gateway).
    pub fn propagation_trust_inbound(&self) -> bool {
        self.propagation_trust_inbound
    }

    /// Which semantic-convention names are written (`OTEL_SEMCONV_STABILITY_OPT_IN`, contract §9).
    ///
    /// ```
    /// use botanu::Config;
    /// use botanu::config::SemconvOptIn;
    ///
    /// assert_eq!(Config::default().semconv_opt_in(), SemconvOptIn::default());
    /// ```
    pub fn semconv_opt_in(&self) -> super::SemconvOptIn {
        self.semconv_opt_in
    }

    /// Where spans go: OTLP, console, or nowhere.
    pub fn traces_exporter(&self) -> TracesExporter {
        self.traces_exporter
    }

    /// `OTEL_SDK_DISABLED`: when true the pipeline exports nothing (no traces, no metrics).
    pub fn sdk_disabled(&self) -> bool {
        self.sdk_disabled
    }

    /// Export every span, not only botanu's and those inside a run.
    pub fn export_all_spans(&self) -> bool {
        self.export_all_spans
    }

    /// Span events kept per span; past it events are counted in `botanu.dropped_events`, not kept.
    pub fn max_events_per_span(&self) -> usize {
        self.max_events_per_span
    }

    /// Extra resource attributes from `OTEL_RESOURCE_ATTRIBUTES`, in order, without the keys that feed
    /// `service_name`, `service_version`, `service_namespace` and `environment`.
    pub fn resource_attributes(&self) -> &[(String, String)] {
        &self.resource_attributes
    }

    /// Pricing of LLM calls and data operations (see [`crate::cost`]).
    pub fn pricing(&self) -> &PricingConfig {
        &self.pricing
    }

    /// Spending caps and their store, from the environment and the file (see [`crate::budget`]).
    ///
    /// ```
    /// use botanu::config::ConfigSource;
    /// let env = [("BOTANU_BUDGETS".to_owned(), "run=0.50;customer:acme=200/day".to_owned())];
    /// let (config, _warnings) = botanu::Config::load_from(&ConfigSource::from_env_map(env.into()))?;
    /// assert_eq!(config.budgets().caps.len(), 2);
    /// # Ok::<(), botanu::ConfigError>(())
    /// ```
    pub fn budgets(&self) -> &crate::budget::BudgetConfig {
        &self.budgets
    }
}
