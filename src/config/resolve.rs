//! Resolution: code > environment > YAML > defaults, field by field.

use super::error::ConfigError;
use super::grammar::*;
use super::keys;
use super::layers::Layers;
use super::raw::{push_unique, Raw};
use super::tls::Signal;
use super::url::{redact_after_authority, split_url, strip_credentials};
use super::{Config, Endpoint, EndpointKind, PiiConfig, Protocol, TracesExporter};
use crate::budget::{BudgetConfig, BudgetStoreKind, Cap, CapParseError, StoreFailure, UnpricedPolicy};
use crate::cost::{PriceConfigError, PriceOverrides, PricingConfig, ToolPrices};

impl Layers<'_> {
    /// Every field, in the order errors and warnings are reported, then one exhaustive `Config` literal:
    /// a field added to `Config` and not resolved here fails to compile.
    pub(super) fn resolve(&self, warnings: &mut Vec<String>) -> Result<Config, ConfigError> {
        use keys::*;
        let d = Config::default();

        let service_name = self
            .value(&[BOTANU_SERVICE_NAME, OTEL_SERVICE_NAME], &[RES_SERVICE_NAME], Y_SERVICE_NAME, parse_text)?
            .unwrap_or(d.service_name);
        let service_version =
            self.value(&[OTEL_SERVICE_VERSION], &[RES_SERVICE_VERSION], Y_SERVICE_VERSION, parse_text)?;
        let service_namespace =
            self.value(&[OTEL_SERVICE_NAMESPACE], &[RES_SERVICE_NAMESPACE], Y_SERVICE_NAMESPACE, parse_text)?;
        let environment = self
            .value(
                &[BOTANU_ENVIRONMENT, OTEL_DEPLOYMENT_ENVIRONMENT],
                &[RES_DEPLOYMENT_ENVIRONMENT_NAME, RES_DEPLOYMENT_ENVIRONMENT],
                Y_SERVICE_ENVIRONMENT,
                parse_text,
            )?
            .unwrap_or(d.environment);

        // Before the endpoints: whether a scheme-less endpoint is allowed depends on it.
        let protocol =
            self.value(&[OTEL_EXPORTER_OTLP_PROTOCOL], &[], Y_OTLP_PROTOCOL, parse_protocol)?.unwrap_or(d.protocol);
        let traces_endpoint = self.endpoint(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, protocol, warnings)?;
        let metrics_endpoint = self.endpoint(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, protocol, warnings)?;
        let traces_otlp = self.otlp_transport(Signal::Traces)?;
        let metrics_otlp = self.otlp_transport(Signal::Metrics)?;

        let mut headers = d.headers;
        if let Some(raw) = self.env(OTEL_EXPORTER_OTLP_HEADERS) {
            for (name, value) in parse_key_value_list(&raw)? {
                check_header(&name, &value, &raw)?;
                headers.push((name, value));
            }
        } else if let Some(entries) = self.file.as_ref().and_then(|f| f.map(Y_OTLP_HEADERS)) {
            for (name, raw) in entries {
                check_header(name, &raw.value, raw)?;
                headers.push((name.clone(), raw.value.clone()));
            }
        }
        let api_key = self.env(BOTANU_API_KEY).map(|raw| raw.value.trim().to_owned());

        let mut batch_size = self
            .value(
                &[BOTANU_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE],
                &[],
                Y_EXPORT_BATCH_SIZE,
                parse_count,
            )?
            .unwrap_or(d.batch_size);
        let queue_size = self
            .value(&[BOTANU_MAX_QUEUE_SIZE, OTEL_BSP_MAX_QUEUE_SIZE], &[], Y_EXPORT_QUEUE_SIZE, parse_count)?
            .unwrap_or(d.queue_size);
        if batch_size > queue_size {
            // The batch processor cannot send more than it holds; say so rather than fail.
            warnings.push(format!(
                "export batch size {batch_size} is larger than the queue size {queue_size}; using {queue_size}"
            ));
            batch_size = queue_size;
        }
        let schedule_delay = self
            .value(&[BOTANU_SCHEDULE_DELAY_MILLIS, OTEL_BSP_SCHEDULE_DELAY], &[], Y_EXPORT_DELAY_MS, parse_millis)?
            .unwrap_or(d.schedule_delay);
        let export_timeout = self
            .value(&[BOTANU_EXPORT_TIMEOUT_MILLIS, OTEL_BSP_EXPORT_TIMEOUT], &[], Y_EXPORT_TIMEOUT_MS, parse_millis)?
            .unwrap_or(d.export_timeout);
        let metric_export_interval = self
            .value(&[OTEL_METRIC_EXPORT_INTERVAL], &[], Y_EXPORT_METRIC_INTERVAL_MS, parse_millis)?
            .unwrap_or(d.metric_export_interval);
        let export_all_spans =
            self.value(&[BOTANU_EXPORT_ALL_SPANS], &[], Y_EXPORT_ALL_SPANS, parse_bool)?.unwrap_or(d.export_all_spans);
        let max_events_per_span = self
            .value(&[BOTANU_MAX_EVENTS_PER_SPAN], &[], Y_MAX_EVENTS_PER_SPAN, parse_count)?
            .unwrap_or(d.max_events_per_span);

        let content_capture_rate = self
            .value(&[BOTANU_CONTENT_CAPTURE_RATE], &[], Y_EVAL_CAPTURE_RATE, |raw| parse_rate(raw, warnings))?
            .unwrap_or(d.content_capture_rate);
        let content_max_chars =
            self.value(&[BOTANU_CONTENT_MAX_CHARS], &[], Y_EVAL_MAX_CHARS, parse_count)?.unwrap_or(d.content_max_chars);
        let pii = self.pii(d.pii)?;
        let propagation_mode = self
            .value(&[BOTANU_PROPAGATION_MODE], &[], Y_PROPAGATION_MODE, parse_propagation_mode)?
            .unwrap_or(d.propagation_mode);
        let propagation_trust_inbound = self
            .value(&[BOTANU_PROPAGATION_TRUST_INBOUND], &[], Y_PROPAGATION_TRUST_INBOUND, parse_bool)?
            .unwrap_or(d.propagation_trust_inbound);

        let semconv_opt_in = self
            .value(&[OTEL_SEMCONV_STABILITY_OPT_IN], &[], Y_SEMCONV_STABILITY_OPT_IN, |raw| {
                Ok(super::SemconvOptIn::parse(&raw.value))
            })?
            .unwrap_or(d.semconv_opt_in);

        let pricing = self.pricing(d.pricing)?;
        let budgets = self.budgets(d.budgets)?;

        let sdk_disabled =
            self.env(OTEL_SDK_DISABLED).map(|raw| parse_bool(&raw)).transpose()?.unwrap_or(d.sdk_disabled);
        let chosen_exporter = if sdk_disabled {
            Some(TracesExporter::None)
        } else {
            self.env(OTEL_TRACES_EXPORTER).map(|raw| parse_traces_exporter(&raw)).transpose()?
        };

        let folded = [
            RES_SERVICE_NAME,
            RES_SERVICE_VERSION,
            RES_SERVICE_NAMESPACE,
            RES_DEPLOYMENT_ENVIRONMENT_NAME,
            RES_DEPLOYMENT_ENVIRONMENT,
        ];
        let resource_attributes =
            self.resource.iter().filter(|(k, _)| !folded.contains(&k.as_str())).cloned().collect();

        let mut c = Config {
            service_name,
            service_version,
            service_namespace,
            environment,
            traces_endpoint,
            metrics_endpoint,
            headers,
            api_key,
            protocol,
            traces_otlp,
            metrics_otlp,
            batch_size,
            queue_size,
            schedule_delay,
            export_timeout,
            metric_export_interval,
            content_capture_rate,
            content_max_chars,
            pii,
            propagation_mode,
            propagation_trust_inbound,
            semconv_opt_in,
            traces_exporter: chosen_exporter.unwrap_or(d.traces_exporter),
            sdk_disabled,
            export_all_spans,
            max_events_per_span,
            resource_attributes,
            pricing,
            budgets,
            traces_exporter_explicit: chosen_exporter.is_some(),
            warnings: d.warnings,
        };
        c.derive_traces_exporter();
        Ok(c)
    }

    /// The PII settings, each from its first layer, else `defaults`.
    fn pii(&self, defaults: PiiConfig) -> Result<PiiConfig, ConfigError> {
        use keys::*;
        let enabled =
            self.value(&[BOTANU_PII_SCRUB_ENABLED], &[], Y_PII_ENABLED, parse_bool)?.unwrap_or(defaults.enabled);
        let disable_patterns = if let Some(raw) = self.env(BOTANU_PII_SCRUB_DISABLE_PATTERNS) {
            comma_list(&raw.value)
        } else if let Some(items) = self.file.as_ref().and_then(|f| f.list(Y_PII_DISABLE_PATTERNS)) {
            items.iter().flat_map(|raw| comma_list(&raw.value)).collect()
        } else {
            defaults.disable_patterns
        };
        let mut custom_patterns = defaults.custom_patterns;
        if let Some(entries) = self.file.as_ref().and_then(|f| f.map(Y_PII_CUSTOM_PATTERNS)) {
            for (name, raw) in entries {
                if raw.value.is_empty() {
                    return Err(raw.invalid("a non-empty regular expression"));
                }
                custom_patterns.push((name.clone(), raw.value.clone()));
            }
        }
        // Not trimmed: a replacement may be meant to contain spaces. A YAML `""` (quoted) is a valid,
        // empty replacement; an empty variable is unset.
        let replacement = self
            .value(&[BOTANU_PII_SCRUB_REPLACEMENT], &[], Y_PII_REPLACEMENT, |raw| Ok(raw.value.clone()))?
            .unwrap_or(defaults.replacement);
        Ok(PiiConfig { enabled, disable_patterns, custom_patterns, replacement })
    }

    /// The pricing settings, each from its first layer, else `defaults`. Overrides are checked here, so a
    /// bad price fails the load naming the entry and field (`BOTANU_PRICE_OVERRIDES[openai/gpt-4o].input`,
    /// `pricing.overrides[openai/gpt-4o].input` with the file and line); a catalog file must be a
    /// regular file (its contents are read when the pipeline is built).
    fn pricing(&self, defaults: PricingConfig) -> Result<PricingConfig, ConfigError> {
        use keys::*;
        let enabled =
            self.value(&[BOTANU_PRICING_ENABLED], &[], Y_PRICING_ENABLED, parse_bool)?.unwrap_or(defaults.enabled);
        let overrides = if let Some(raw) = self.env(BOTANU_PRICE_OVERRIDES) {
            PriceOverrides::parse(&raw.value, &raw.key).map_err(|error| price_error(&raw, error))?
        } else if let Some(entries) = self.file.as_ref().and_then(|f| f.map(Y_PRICING_OVERRIDES)) {
            let mut overrides = PriceOverrides::default();
            for (target, raw) in entries {
                let entry = PriceOverrides::parse(&format!("{target}={}", raw.value), Y_PRICING_OVERRIDES)
                    .map_err(|error| price_error(raw, error))?;
                overrides = overrides.merge(entry);
            }
            overrides
        } else {
            defaults.overrides
        };
        let catalog_file = self
            .value(&[BOTANU_PRICE_CATALOG_FILE], &[], Y_PRICING_CATALOG_FILE, |raw| {
                let path = std::path::PathBuf::from(raw.value.trim());
                if std::fs::metadata(&path).is_ok_and(|meta| meta.is_file()) {
                    Ok(path)
                } else {
                    Err(raw.invalid("an existing price catalog file in genai-prices' JSON format"))
                }
            })?
            .or(defaults.catalog_file);
        // Tool unit prices: the environment's replace the file's; code's (`with_tool_price`) are appended
        // to `defaults` after loading and win for their tool.
        let tool_prices = if let Some(raw) = self.env(BOTANU_TOOL_PRICES) {
            ToolPrices::parse(&raw.value, &raw.key).map_err(|error| price_error(&raw, error))?
        } else if let Some(entries) = self.file.as_ref().and_then(|f| f.map(Y_PRICING_TOOL_PRICES)) {
            let mut prices = ToolPrices::default();
            for (tool, raw) in entries {
                let entry = ToolPrices::parse(&format!("{tool}={}", raw.value), Y_PRICING_TOOL_PRICES)
                    .map_err(|error| price_error(raw, error))?;
                prices = prices.merge(entry);
            }
            prices
        } else {
            defaults.tool_prices.clone()
        };
        let metric_customers = if let Some(raw) = self.env(BOTANU_COST_METRIC_CUSTOMERS) {
            comma_list(&raw.value)
        } else if let Some(items) = self.file.as_ref().and_then(|f| f.list(Y_PRICING_METRIC_CUSTOMERS)) {
            items.iter().flat_map(|raw| comma_list(&raw.value)).collect()
        } else {
            defaults.metric_customers.clone()
        };
        let metric_customer_limit = self
            .value(&[BOTANU_COST_METRIC_CUSTOMER_LIMIT], &[], Y_PRICING_METRIC_CUSTOMER_LIMIT, parse_count)?
            .unwrap_or(defaults.metric_customer_limit);
        let ledger_file = self
            .value(&[BOTANU_COST_LEDGER_FILE], &[], Y_PRICING_LEDGER_FILE, |raw| {
                let path = raw.value.trim();
                if path.is_empty() {
                    Err(raw.invalid("a file path for the cost ledger"))
                } else {
                    Ok(std::path::PathBuf::from(path))
                }
            })?
            .or(defaults.ledger_file.clone());
        let ledger_max_bytes = self
            .value(&[BOTANU_COST_LEDGER_MAX_BYTES], &[], Y_PRICING_LEDGER_MAX_BYTES, parse_count)?
            .map_or(defaults.ledger_max_bytes, |n| n as u64);
        let ledger_max_files = self
            .value(&[BOTANU_COST_LEDGER_MAX_FILES], &[], Y_PRICING_LEDGER_MAX_FILES, parse_count)?
            .unwrap_or(defaults.ledger_max_files);
        Ok(PricingConfig {
            enabled,
            overrides,
            catalog_file,
            tool_prices,
            metric_customers,
            metric_customer_limit,
            ledger_file,
            ledger_max_bytes,
            ledger_max_files,
            ..defaults
        })
    }

    /// The budget settings, each from its first layer. A cap entry that does not parse fails the load
    /// naming the variable and the entry (`BOTANU_BUDGETS[customer:acme=lots]`), or the YAML item and line.
    fn budgets(&self, defaults: BudgetConfig) -> Result<BudgetConfig, ConfigError> {
        use keys::*;
        let entry_error = |raw: &Raw, error: CapParseError| ConfigError::InvalidValue {
            // A YAML list item's key is indexed already (`budgets.caps[1]`); an environment list names the entry.
            key: if raw.location.is_some() { raw.key.clone() } else { format!("{}[{}]", raw.key, error.entry) },
            value: error.entry.clone(),
            expected: format!("SCOPE[:KEY]=USD[/WINDOW][:POLICY]: {}", error.problem),
            location: raw.location.clone(),
        };
        let caps = if let Some(raw) = self.env(BOTANU_BUDGETS) {
            Cap::parse_list(&raw.value).map_err(|e| entry_error(&raw, e))?
        } else if let Some(items) = self.file.as_ref().and_then(|f| f.list(Y_BUDGETS_CAPS)) {
            let mut caps = Vec::new();
            for raw in items {
                caps.extend(Cap::parse_list(&raw.value).map_err(|e| entry_error(raw, e))?);
                if let Some(cap) = Cap::first_repeated(&caps) {
                    let entry = cap.to_string();
                    return Err(entry_error(raw, CapParseError { entry, problem: crate::budget::REPEATED_CAP }));
                }
            }
            caps
        } else {
            defaults.caps
        };
        let unpriced = self
            .value(&[BOTANU_BUDGET_UNPRICED], &[], Y_BUDGETS_UNPRICED, |raw| {
                raw.value
                    .parse::<UnpricedPolicy>()
                    .map_err(|_| raw.invalid("`deny` or a USD amount >= 0 charged per unpriced call"))
            })?
            .or(defaults.unpriced);
        let store = self
            .value(&[BOTANU_BUDGET_STORE], &[], Y_BUDGETS_STORE, |raw| {
                let shown = Raw { value: crate::budget::without_credentials(&raw.value), ..raw.clone() };
                match BudgetStoreKind::parse(&raw.value) {
                    Some(BudgetStoreKind::Redis(_)) if !cfg!(feature = "redis") => {
                        Err(shown.invalid("`memory` (this build has no `redis` feature)"))
                    }
                    Some(store) => Ok(store),
                    None => Err(shown.invalid("`memory` or a redis://host:port/db URL")),
                }
            })?
            .unwrap_or(defaults.store);
        let store_timeout = self
            .value(&[BOTANU_BUDGET_STORE_TIMEOUT_MILLIS], &[], Y_BUDGETS_STORE_TIMEOUT_MS, parse_millis)?
            .unwrap_or(defaults.store_timeout);
        let store_failure = self
            .value(&[BOTANU_BUDGET_STORE_FAILURE], &[], Y_BUDGETS_STORE_FAILURE, |raw| {
                match raw.value.trim().to_ascii_lowercase().as_str() {
                    "open" => Ok(StoreFailure::Open),
                    "closed" => Ok(StoreFailure::Closed),
                    _ => Err(raw.invalid("`open` or `closed`")),
                }
            })?
            .or(defaults.store_failure);
        Ok(BudgetConfig { caps, unpriced, store, store_timeout, store_failure })
    }

    /// The endpoint of one signal: `BOTANU_COLLECTOR_ENDPOINT` (base) > the per-signal variable (used as
    /// is) > `OTEL_EXPORTER_OTLP_ENDPOINT` (base) > `otlp.endpoint` (base). With gRPC, `host:port` without
    /// a scheme is accepted too (its scheme then follows `insecure`).
    pub(super) fn endpoint(
        &self,
        signal_variable: &str,
        protocol: Protocol,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Endpoint>, ConfigError> {
        let found = [
            (keys::BOTANU_COLLECTOR_ENDPOINT, EndpointKind::Base),
            (signal_variable, EndpointKind::Signal),
            (keys::OTEL_EXPORTER_OTLP_ENDPOINT, EndpointKind::Base),
        ]
        .into_iter()
        .find_map(|(name, kind)| self.env(name).map(|raw| (raw, kind)))
        .or_else(|| self.yaml(keys::Y_OTLP_ENDPOINT).map(|raw| (raw, EndpointKind::Base)));
        let Some((raw, kind)) = found else {
            return Ok(None);
        };
        let (url, had_credentials) = strip_credentials(raw.value.trim());
        // An error shows the scheme and authority only: a path or query may hold a token.
        let shown = Raw { value: redact_after_authority(&url, super::REDACTED), ..raw.clone() };
        let scheme_less_grpc = protocol == Protocol::Grpc && !url.contains("://");
        let parses =
            if scheme_less_grpc { split_url(&format!("http://{url}")).is_some() } else { split_url(&url).is_some() };
        if url.chars().any(|ch| ch.is_whitespace() || ch.is_control()) || !parses {
            let expected = match protocol {
                Protocol::HttpProtobuf => {
                    "an http:// or https:// URL such as http://localhost:4318, without spaces or control \
                     characters (its path is not shown: it may hold a secret)"
                }
                Protocol::Grpc => {
                    "an http:// or https:// URL, or host:port, such as https://collector:4317, without \
                     spaces or control characters (its path is not shown: it may hold a secret)"
                }
            };
            return Err(shown.invalid(expected));
        }
        if had_credentials {
            push_unique(
                warnings,
                format!(
                    "{}: credentials in the endpoint URL were removed; send them as a header \
                     (OTEL_EXPORTER_OTLP_HEADERS) or use BOTANU_API_KEY",
                    raw.origin()
                ),
            );
        }
        Ok(Some(Endpoint { url, kind }))
    }
}

/// A price setting that does not parse, as the configuration error naming its key (entry and field).
fn price_error(raw: &Raw, error: PriceConfigError) -> ConfigError {
    ConfigError::InvalidValue {
        key: error.key.clone(),
        value: raw.value.clone(),
        expected: error.kind.expected(),
        location: raw.location.clone(),
    }
}
