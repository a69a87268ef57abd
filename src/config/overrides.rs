//! Code overrides: the `with_*` methods of [`Config`], the layer of precedence that wins over every other.

use std::time::Duration;

use super::url::strip_credentials;
use super::{Config, Endpoint, EndpointKind, PropagationMode, Protocol, TracesExporter};

impl Config {
    /// Sets `service_name`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_service_name("checkout");
    /// assert_eq!(config.service_name(), "checkout");
    /// ```
    #[must_use]
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = name.into();
        self
    }

    /// Sets `service_version`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_service_version("1.4.2");
    /// assert_eq!(config.service_version().as_deref(), Some("1.4.2"));
    /// ```
    #[must_use]
    pub fn with_service_version(mut self, version: impl Into<String>) -> Self {
        self.service_version = Some(version.into());
        self
    }

    /// Sets `service_namespace`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_service_namespace("payments");
    /// assert_eq!(config.service_namespace().as_deref(), Some("payments"));
    /// ```
    #[must_use]
    pub fn with_service_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.service_namespace = Some(namespace.into());
        self
    }

    /// Sets `environment`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_environment("staging");
    /// assert_eq!(config.environment(), "staging");
    /// ```
    #[must_use]
    pub fn with_environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = environment.into();
        self
    }

    /// Sets a base endpoint for traces and metrics (credentials in the URL are removed). Unless an exporter
    /// was chosen explicitly, traces now go to OTLP. The URL is not validated here; the exporter reports a
    /// malformed one.
    ///
    /// ```
    /// use botanu::Config;
    /// use botanu::config::TracesExporter;
    ///
    /// let config = Config::default().with_endpoint("http://collector:4318");
    /// assert_eq!(config.traces_exporter(), TracesExporter::Otlp);
    /// assert_eq!(config.traces_url().as_deref(), Some("http://collector:4318/v1/traces"));
    /// assert_eq!(config.metrics_url().as_deref(), Some("http://collector:4318/v1/metrics"));
    /// ```
    #[must_use]
    pub fn with_endpoint(mut self, url: impl Into<String>) -> Self {
        let url = strip_credentials(&url.into()).0;
        self.traces_endpoint = Some(Endpoint { url: url.clone(), kind: EndpointKind::Base });
        self.metrics_endpoint = Some(Endpoint { url, kind: EndpointKind::Base });
        self.derive_traces_exporter();
        self
    }

    /// Sets the traces URL, used as is (credentials removed).
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_traces_endpoint("http://collector:4318/custom/traces");
    /// assert_eq!(config.traces_url().as_deref(), Some("http://collector:4318/custom/traces"));
    /// ```
    #[must_use]
    pub fn with_traces_endpoint(mut self, url: impl Into<String>) -> Self {
        self.traces_endpoint = Some(Endpoint { url: strip_credentials(&url.into()).0, kind: EndpointKind::Signal });
        self.derive_traces_exporter();
        self
    }

    /// Sets the metrics URL, used as is (credentials removed).
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_metrics_endpoint("http://collector:4318/custom/metrics");
    /// assert_eq!(config.metrics_url().as_deref(), Some("http://collector:4318/custom/metrics"));
    /// ```
    #[must_use]
    pub fn with_metrics_endpoint(mut self, url: impl Into<String>) -> Self {
        self.metrics_endpoint = Some(Endpoint { url: strip_credentials(&url.into()).0, kind: EndpointKind::Signal });
        self
    }

    /// Adds an export header, replacing any header of the same name (ignoring ASCII case), for both signals
    /// (also in a signal's own header list, [`OtlpTransport::headers`](super::OtlpTransport::headers)).
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_header("x-team", "search").with_header("X-Team", "ads");
    /// assert_eq!(config.headers(), [("X-Team".to_string(), "ads".to_string())]);
    /// ```
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        let lists = [Some(&mut self.headers), self.traces_otlp.headers.as_mut(), self.metrics_otlp.headers.as_mut()];
        for list in lists.into_iter().flatten() {
            list.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
            list.push((name.clone(), value.clone()));
        }
        self
    }

    /// Sets `api_key`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let key = format!("{}-{}", "test", "key");
    /// let config = Config::default().with_endpoint("http://localhost:4318").with_api_key(key.clone());
    /// assert!(!format!("{config:?}").contains(&key));
    /// assert_eq!(config.auth_header().unwrap().map(|(_, value)| value), Some(format!("Bearer {key}")));
    /// ```
    #[must_use]
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets `protocol`.
    ///
    /// ```
    /// use botanu::Config;
    /// use botanu::config::Protocol;
    ///
    /// let config = Config::default().with_endpoint("http://collector:4317").with_protocol(Protocol::Grpc);
    /// assert_eq!(config.traces_url().as_deref(), Some("http://collector:4317"));
    /// ```
    #[must_use]
    pub fn with_protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Sets `batch_size`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_batch_size(128);
    /// assert_eq!(config.batch_size(), 128);
    /// ```
    #[must_use]
    pub fn with_batch_size(mut self, spans: usize) -> Self {
        self.batch_size = spans;
        self
    }

    /// Sets `queue_size`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_queue_size(4_096);
    /// assert_eq!(config.queue_size(), 4_096);
    /// ```
    #[must_use]
    pub fn with_queue_size(mut self, spans: usize) -> Self {
        self.queue_size = spans;
        self
    }

    /// Sets `schedule_delay`.
    ///
    /// ```
    /// use botanu::Config;
    /// use std::time::Duration;
    ///
    /// let config = Config::default().with_schedule_delay(Duration::from_millis(500));
    /// assert_eq!(config.schedule_delay(), Duration::from_millis(500));
    /// ```
    #[must_use]
    pub fn with_schedule_delay(mut self, delay: Duration) -> Self {
        self.schedule_delay = delay;
        self
    }

    /// Sets `export_timeout`.
    ///
    /// ```
    /// use botanu::Config;
    /// use std::time::Duration;
    ///
    /// let config = Config::default().with_export_timeout(Duration::from_secs(5));
    /// assert_eq!(config.export_timeout(), Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn with_export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
        self
    }

    /// Sets `metric_export_interval`.
    ///
    /// ```
    /// use botanu::Config;
    /// use std::time::Duration;
    ///
    /// let config = Config::default().with_metric_export_interval(Duration::from_secs(15));
    /// assert_eq!(config.metric_export_interval(), Duration::from_secs(15));
    /// ```
    #[must_use]
    pub fn with_metric_export_interval(mut self, interval: Duration) -> Self {
        self.metric_export_interval = interval;
        self
    }

    /// Sets `content_capture_rate`, clamped to `0.0..=1.0`; NaN becomes 0.0 (capture nothing), the safe
    /// reading of a value that means nothing.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_content_capture_rate(0.1);
    /// assert_eq!(config.content_capture_rate(), 0.1);
    /// ```
    #[must_use]
    pub fn with_content_capture_rate(mut self, rate: f64) -> Self {
        self.content_capture_rate = if rate.is_nan() { 0.0 } else { rate.clamp(0.0, 1.0) };
        self
    }

    /// Sets `content_max_chars`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_content_max_chars(1_000);
    /// assert_eq!(config.content_max_chars(), 1_000);
    /// ```
    #[must_use]
    pub fn with_content_max_chars(mut self, chars: usize) -> Self {
        self.content_max_chars = chars;
        self
    }

    /// Sets `pii.enabled`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_pii_enabled(false);
    /// assert!(!config.pii().enabled);
    /// ```
    #[must_use]
    pub fn with_pii_enabled(mut self, enabled: bool) -> Self {
        self.pii.enabled = enabled;
        self
    }

    /// Replaces `pii.disable_patterns` (names are lower-cased).
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_pii_disable_patterns(["IP_Address", "email"]);
    /// assert_eq!(config.pii().disable_patterns, ["ip_address", "email"]);
    /// ```
    #[must_use]
    pub fn with_pii_disable_patterns<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.pii.disable_patterns = names.into_iter().map(|n| n.as_ref().trim().to_lowercase()).collect();
        self
    }

    /// Adds a custom PII pattern, replacing one of the same name.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_pii_custom_pattern("order_id", r"ORD-\d{6}");
    /// assert_eq!(config.pii().custom_patterns, [("order_id".to_string(), r"ORD-\d{6}".to_string())]);
    /// ```
    #[must_use]
    pub fn with_pii_custom_pattern(mut self, name: impl Into<String>, regex: impl Into<String>) -> Self {
        let name = name.into();
        self.pii.custom_patterns.retain(|(n, _)| *n != name);
        self.pii.custom_patterns.push((name, regex.into()));
        self
    }

    /// Sets `pii.replacement`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_pii_replacement("***");
    /// assert_eq!(config.pii().replacement, "***");
    /// ```
    #[must_use]
    pub fn with_pii_replacement(mut self, replacement: impl Into<String>) -> Self {
        self.pii.replacement = replacement.into();
        self
    }

    /// Sets `semconv_opt_in` (what `OTEL_SEMCONV_STABILITY_OPT_IN` would).
    ///
    /// ```
    /// use botanu::Config;
    /// use botanu::config::SemconvOptIn;
    ///
    /// let config = Config::default().with_semconv_opt_in(SemconvOptIn::parse("gen_ai_latest_experimental"));
    /// assert!(config.semconv_opt_in().gen_ai_latest_experimental);
    /// ```
    #[must_use]
    pub fn with_semconv_opt_in(mut self, opt_in: super::SemconvOptIn) -> Self {
        self.semconv_opt_in = opt_in;
        self
    }

    /// Sets `propagation_trust_inbound`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_propagation_trust_inbound(true);
    /// assert!(config.propagation_trust_inbound());
    /// ```
    #[must_use]
    pub fn with_propagation_trust_inbound(mut self, trust: bool) -> Self {
        self.propagation_trust_inbound = trust;
        self
    }

    /// Sets `propagation_mode`.
    ///
    /// ```
    /// use botanu::Config;
    /// use botanu::config::PropagationMode;
    ///
    /// let config = Config::default().with_propagation_mode(PropagationMode::Full);
    /// assert_eq!(config.propagation_mode(), PropagationMode::Full);
    /// ```
    #[must_use]
    pub fn with_propagation_mode(mut self, mode: PropagationMode) -> Self {
        self.propagation_mode = mode;
        self
    }

    /// Sets `traces_exporter`; it no longer follows the endpoint.
    ///
    /// ```
    /// use botanu::Config;
    /// use botanu::config::TracesExporter;
    ///
    /// // Chosen explicitly, the exporter no longer follows the endpoint.
    /// let config = Config::default().with_traces_exporter(TracesExporter::None).with_endpoint("http://collector:4318");
    /// assert_eq!(config.traces_exporter(), TracesExporter::None);
    /// ```
    #[must_use]
    pub fn with_traces_exporter(mut self, exporter: TracesExporter) -> Self {
        self.traces_exporter = exporter;
        self.traces_exporter_explicit = true;
        self
    }

    /// Sets `sdk_disabled`. `traces_exporter` is left as it is (`OTEL_SDK_DISABLED=true` made it
    /// `None`); choose it with [`Config::with_traces_exporter`].
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_endpoint("http://collector:4318").with_sdk_disabled(true);
    /// assert!(config.sdk_disabled());
    /// assert_eq!(config.metrics_url(), None);
    /// ```
    #[must_use]
    pub fn with_sdk_disabled(mut self, disabled: bool) -> Self {
        self.sdk_disabled = disabled;
        self
    }

    /// Sets `max_events_per_span`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_max_events_per_span(16);
    /// assert_eq!(config.max_events_per_span(), 16);
    /// ```
    #[must_use]
    pub fn with_max_events_per_span(mut self, events: usize) -> Self {
        self.max_events_per_span = events;
        self
    }

    /// Sets `export_all_spans`.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_export_all_spans(true);
    /// assert!(config.export_all_spans());
    /// ```
    #[must_use]
    pub fn with_export_all_spans(mut self, all: bool) -> Self {
        self.export_all_spans = all;
        self
    }

    /// Adds a resource attribute, replacing one with the same key.
    ///
    /// ```
    /// use botanu::Config;
    ///
    /// let config = Config::default().with_resource_attribute("team", "a").with_resource_attribute("team", "b");
    /// assert_eq!(config.resource_attributes(), [("team".to_string(), "b".to_string())]);
    /// ```
    #[must_use]
    pub fn with_resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.resource_attributes.retain(|(k, _)| *k != key);
        self.resource_attributes.push((key, value.into()));
        self
    }

    /// Turns pricing on or off (`pricing.enabled`).
    ///
    /// ```
    /// let config = botanu::Config::default().with_pricing_enabled(false);
    /// assert!(!config.pricing().enabled);
    /// ```
    #[must_use]
    pub fn with_pricing_enabled(mut self, enabled: bool) -> Self {
        self.pricing.enabled = enabled;
        self
    }

    /// Adds a price override (a negotiated price or a discount) that wins over the environment's and the
    /// file's for the same target. Checked when the pipeline is built: a bad value is a
    /// [`ConfigError`](super::ConfigError) naming `Config::with_price_override[provider/model].field`.
    ///
    /// ```
    /// use botanu::cost::{PriceOverride, TokenPrices};
    ///
    /// let config = botanu::Config::default().with_price_override(PriceOverride {
    ///     provider: "openai".into(),
    ///     model: Some("gpt-4o".into()),
    ///     prices: TokenPrices { input: Some(2.0), output: Some(8.0), ..Default::default() },
    ///     discount: None,
    /// });
    /// assert_eq!(config.pricing().overrides.entries.len(), 1);
    /// ```
    #[must_use]
    pub fn with_price_override(mut self, price: crate::cost::PriceOverride) -> Self {
        self.pricing.overrides.entries.push(price);
        self
    }

    /// Breaks the `botanu.cost` metric down by these customer (or tenant) ids
    /// (`botanu.customer_id`, `botanu.tenant_id`); every other id counts under `_other`. Replaces the
    /// environment's and the file's list.
    ///
    /// ```
    /// let config = botanu::Config::default().with_cost_metric_customers(["acme", "globex"]);
    /// assert_eq!(config.pricing().metric_customers, ["acme", "globex"]);
    /// ```
    #[must_use]
    pub fn with_cost_metric_customers<I, S>(mut self, customers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.pricing.metric_customers = customers.into_iter().map(Into::into).collect();
        self
    }

    /// Besides the allow-list, gives the first `limit` further customer (and tenant) ids their own
    /// `botanu.cost` series (at most [`MAX_METRIC_CUSTOMERS`](crate::cost::MAX_METRIC_CUSTOMERS)); later
    /// ones count under `_other`.
    ///
    /// ```
    /// let config = botanu::Config::default().with_cost_metric_customer_limit(20);
    /// assert_eq!(config.pricing().metric_customer_limit, 20);
    /// ```
    #[must_use]
    pub fn with_cost_metric_customer_limit(mut self, limit: usize) -> Self {
        self.pricing.metric_customer_limit = limit;
        self
    }

    /// Writes the cost ledger to `path`: one JSON line per priced span (time, run, workflow, customer,
    /// provider, model, request id, tokens by kind, tier, cost, source; never content), on its own
    /// thread, rotated by size (see [`Config::with_cost_ledger_rotation`]).
    ///
    /// ```
    /// let config = botanu::Config::default().with_cost_ledger("/var/log/app/botanu-cost.jsonl");
    /// assert!(config.pricing().ledger_file.is_some());
    /// ```
    #[must_use]
    pub fn with_cost_ledger(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.pricing.ledger_file = Some(path.into());
        self
    }

    /// The ledger's rotation: past `max_bytes` the file becomes `<file>.1` (and `.1` becomes `.2`, …),
    /// keeping `max_files` rotated files.
    ///
    /// ```
    /// let config = botanu::Config::default().with_cost_ledger_rotation(1 << 20, 2);
    /// assert_eq!(config.pricing().ledger_max_bytes, 1 << 20);
    /// assert_eq!(config.pricing().ledger_max_files, 2);
    /// ```
    #[must_use]
    pub fn with_cost_ledger_rotation(mut self, max_bytes: u64, max_files: usize) -> Self {
        self.pricing.ledger_max_bytes = max_bytes;
        self.pricing.ledger_max_files = max_files;
        self
    }

    /// Adds a tool's unit prices (per call and/or per item returned) that win over the environment's
    /// (`BOTANU_TOOL_PRICES`) and the file's (`pricing.tool_prices`) for the same tool: its spans get
    /// `botanu.cost.usd` with `botanu.cost.source = "unit-price"` and roll into
    /// `botanu.run.cost.tool_usd`. Checked when the pipeline is built.
    ///
    /// ```
    /// use botanu::cost::ToolPrice;
    ///
    /// let config = botanu::Config::default()
    ///     .with_tool_price(ToolPrice { tool: "web_search".into(), per_call: Some(0.01), per_item: None });
    /// assert_eq!(config.pricing().tool_prices.entries.len(), 1);
    /// ```
    #[must_use]
    pub fn with_tool_price(mut self, price: crate::cost::ToolPrice) -> Self {
        self.pricing.tool_prices.entries.push(price);
        self
    }

    /// Sets the operator's price catalog file (`genai-prices`' JSON format), consulted before the bundled
    /// catalog. Read when the pipeline is built.
    ///
    /// ```
    /// let config = botanu::Config::default().with_price_catalog_file("/etc/botanu/prices.json");
    /// assert!(config.pricing().catalog_file.is_some());
    /// ```
    #[must_use]
    pub fn with_price_catalog_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.pricing.catalog_file = Some(path.into());
        self
    }
}
