//! Resolution: code > environment > YAML > defaults, field by field.

use super::error::{ConfigError, FileLocation};
use super::grammar::*;
use super::keys;
use super::url::{split_url, strip_credentials};
use super::yaml::YamlSettings;
use super::{Config, ConfigSource, Endpoint, EndpointKind, TracesExporter, REDACTED};

/// One setting as found, before parsing, carrying what an error needs to point at it.
#[derive(Clone, Debug)]
pub(super) struct Raw {
    /// Environment variable name or YAML path.
    pub(super) key: String,
    pub(super) value: String,
    /// `Some` for a YAML value.
    pub(super) location: Option<FileLocation>,
}

impl Raw {
    pub(super) fn env(key: &str, value: String) -> Raw {
        Raw { key: key.to_owned(), value, location: None }
    }

    pub(super) fn invalid(&self, expected: impl Into<String>) -> ConfigError {
        // Header values and keys are credentials; the error (and its Debug) must not carry them.
        let value = if is_secret_key(&self.key) { REDACTED.to_owned() } else { self.value.clone() };
        ConfigError::InvalidValue {
            key: self.key.clone(),
            value,
            expected: expected.into(),
            location: self.location.clone(),
        }
    }

    /// `KEY` or `yaml.path (file line N)`, for warnings.
    pub(super) fn origin(&self) -> String {
        match &self.location {
            Some(location) => format!("{} ({location})", self.key),
            None => self.key.clone(),
        }
    }
}

pub(super) fn is_secret_key(key: &str) -> bool {
    key == keys::OTEL_EXPORTER_OTLP_HEADERS
        || key == keys::BOTANU_API_KEY
        || key.strip_prefix(keys::Y_OTLP_HEADERS).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

pub(super) fn push_unique(warnings: &mut Vec<String>, warning: String) {
    if !warnings.contains(&warning) {
        warnings.push(warning);
    }
}

/// The environment and file layers of one load, looked up field by field.
pub(super) struct Layers<'a> {
    pub(super) source: &'a ConfigSource,
    pub(super) file: Option<YamlSettings>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, parsed once: some of its keys feed dedicated fields.
    pub(super) resource: Vec<(String, String)>,
}

impl<'a> Layers<'a> {
    pub(super) fn new(source: &'a ConfigSource, file: Option<YamlSettings>) -> Result<Self, ConfigError> {
        let mut layers = Layers { source, file, resource: Vec::new() };
        if let Some(raw) = layers.env(keys::OTEL_RESOURCE_ATTRIBUTES) {
            layers.resource = parse_key_value_list(&raw)?;
        }
        Ok(layers)
    }

    /// An environment variable; empty or whitespace-only counts as unset (OpenTelemetry spec).
    pub(super) fn env(&self, name: &str) -> Option<Raw> {
        let value = self.source.var(name)?;
        if value.trim().is_empty() {
            None
        } else {
            Some(Raw::env(name, value))
        }
    }

    pub(super) fn resource_attribute(&self, key: &str) -> Option<Raw> {
        // The last occurrence wins, as when the list is applied in order.
        self.resource
            .iter()
            .rev()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(k, v)| Raw::env(&format!("{} ({k})", keys::OTEL_RESOURCE_ATTRIBUTES), v.clone()))
    }

    pub(super) fn yaml(&self, path: &str) -> Option<Raw> {
        self.file.as_ref()?.scalar(path)
    }

    /// The first environment variable set, else the first resource attribute set, else the YAML value.
    pub(super) fn pick(&self, env: &[&str], resource: &[&str], yaml: &str) -> Option<Raw> {
        env.iter()
            .find_map(|name| self.env(name))
            .or_else(|| resource.iter().find_map(|key| self.resource_attribute(key)))
            .or_else(|| self.yaml(yaml))
    }

    pub(super) fn resolve(&self, warnings: &mut Vec<String>) -> Result<Config, ConfigError> {
        use keys::*;
        let mut c = Config::default();

        if let Some(raw) = self.pick(&[BOTANU_SERVICE_NAME, OTEL_SERVICE_NAME], &[RES_SERVICE_NAME], Y_SERVICE_NAME) {
            c.service_name = parse_text(&raw)?;
        }
        if let Some(raw) = self.pick(&[OTEL_SERVICE_VERSION], &[RES_SERVICE_VERSION], Y_SERVICE_VERSION) {
            c.service_version = Some(parse_text(&raw)?);
        }
        if let Some(raw) = self.pick(&[OTEL_SERVICE_NAMESPACE], &[RES_SERVICE_NAMESPACE], Y_SERVICE_NAMESPACE) {
            c.service_namespace = Some(parse_text(&raw)?);
        }
        if let Some(raw) = self.pick(
            &[BOTANU_ENVIRONMENT, OTEL_DEPLOYMENT_ENVIRONMENT],
            &[RES_DEPLOYMENT_ENVIRONMENT_NAME, RES_DEPLOYMENT_ENVIRONMENT],
            Y_SERVICE_ENVIRONMENT,
        ) {
            c.environment = parse_text(&raw)?;
        }

        c.traces_endpoint = self.endpoint(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, warnings)?;
        c.metrics_endpoint = self.endpoint(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, warnings)?;

        if let Some(raw) = self.env(OTEL_EXPORTER_OTLP_HEADERS) {
            for (name, value) in parse_key_value_list(&raw)? {
                check_header(&name, &value, &raw)?;
                c.headers.push((name, value));
            }
        } else if let Some(entries) = self.file.as_ref().and_then(|f| f.map(Y_OTLP_HEADERS)) {
            for (name, raw) in entries {
                check_header(name, &raw.value, raw)?;
                c.headers.push((name.clone(), raw.value.clone()));
            }
        }
        c.api_key = self.env(BOTANU_API_KEY).map(|raw| raw.value.trim().to_owned());
        if let Some(raw) = self.pick(&[OTEL_EXPORTER_OTLP_PROTOCOL], &[], Y_OTLP_PROTOCOL) {
            c.protocol = parse_protocol(&raw)?;
        }

        if let Some(raw) =
            self.pick(&[BOTANU_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE], &[], Y_EXPORT_BATCH_SIZE)
        {
            c.batch_size = parse_count(&raw)?;
        }
        if let Some(raw) = self.pick(&[BOTANU_MAX_QUEUE_SIZE, OTEL_BSP_MAX_QUEUE_SIZE], &[], Y_EXPORT_QUEUE_SIZE) {
            c.queue_size = parse_count(&raw)?;
        }
        if c.batch_size > c.queue_size {
            // The batch processor cannot send more than it holds; say so rather than fail.
            warnings.push(format!(
                "export batch size {} is larger than the queue size {}; using {}",
                c.batch_size, c.queue_size, c.queue_size
            ));
            c.batch_size = c.queue_size;
        }
        if let Some(raw) = self.pick(&[BOTANU_SCHEDULE_DELAY_MILLIS, OTEL_BSP_SCHEDULE_DELAY], &[], Y_EXPORT_DELAY_MS) {
            c.schedule_delay = parse_millis(&raw)?;
        }
        if let Some(raw) = self.pick(&[BOTANU_EXPORT_TIMEOUT_MILLIS, OTEL_BSP_EXPORT_TIMEOUT], &[], Y_EXPORT_TIMEOUT_MS)
        {
            c.export_timeout = parse_millis(&raw)?;
        }
        if let Some(raw) = self.pick(&[OTEL_METRIC_EXPORT_INTERVAL], &[], Y_EXPORT_METRIC_INTERVAL_MS) {
            c.metric_export_interval = parse_millis(&raw)?;
        }
        if let Some(raw) = self.pick(&[BOTANU_EXPORT_ALL_SPANS], &[], Y_EXPORT_ALL_SPANS) {
            c.export_all_spans = parse_bool(&raw)?;
        }
        if let Some(raw) = self.pick(&[BOTANU_MAX_EVENTS_PER_SPAN], &[], Y_MAX_EVENTS_PER_SPAN) {
            c.max_events_per_span = parse_count(&raw)?;
        }

        if let Some(raw) = self.pick(&[BOTANU_CONTENT_CAPTURE_RATE], &[], Y_EVAL_CAPTURE_RATE) {
            c.content_capture_rate = parse_rate(&raw, warnings)?;
        }
        if let Some(raw) = self.pick(&[BOTANU_CONTENT_MAX_CHARS], &[], Y_EVAL_MAX_CHARS) {
            c.content_max_chars = parse_count(&raw)?;
        }
        if let Some(raw) = self.pick(&[BOTANU_PII_SCRUB_ENABLED], &[], Y_PII_ENABLED) {
            c.pii.enabled = parse_bool(&raw)?;
        }
        if let Some(raw) = self.env(BOTANU_PII_SCRUB_DISABLE_PATTERNS) {
            c.pii.disable_patterns = comma_list(&raw.value);
        } else if let Some(items) = self.file.as_ref().and_then(|f| f.list(Y_PII_DISABLE_PATTERNS)) {
            c.pii.disable_patterns = items.iter().flat_map(|raw| comma_list(&raw.value)).collect();
        }
        if let Some(entries) = self.file.as_ref().and_then(|f| f.map(Y_PII_CUSTOM_PATTERNS)) {
            for (name, raw) in entries {
                if raw.value.is_empty() {
                    return Err(raw.invalid("a non-empty regular expression"));
                }
                c.pii.custom_patterns.push((name.clone(), raw.value.clone()));
            }
        }
        // Not trimmed: a replacement may be meant to contain spaces. A YAML `""` (quoted) is a valid,
        // empty replacement; an empty variable is unset.
        if let Some(raw) = self.pick(&[BOTANU_PII_SCRUB_REPLACEMENT], &[], Y_PII_REPLACEMENT) {
            c.pii.replacement = raw.value;
        }
        if let Some(raw) = self.pick(&[BOTANU_PROPAGATION_MODE], &[], Y_PROPAGATION_MODE) {
            c.propagation_mode = parse_propagation_mode(&raw)?;
        }
        if let Some(raw) = self.pick(&[BOTANU_PROPAGATION_TRUST_INBOUND], &[], Y_PROPAGATION_TRUST_INBOUND) {
            c.propagation_trust_inbound = parse_bool(&raw)?;
        }

        if let Some(raw) = self.env(OTEL_SDK_DISABLED) {
            c.sdk_disabled = parse_bool(&raw)?;
        }
        if c.sdk_disabled {
            c.traces_exporter = TracesExporter::None;
            c.traces_exporter_explicit = true;
        } else if let Some(raw) = self.env(OTEL_TRACES_EXPORTER) {
            c.traces_exporter = parse_traces_exporter(&raw)?;
            c.traces_exporter_explicit = true;
        } else {
            c.derive_traces_exporter();
        }

        let folded = [
            RES_SERVICE_NAME,
            RES_SERVICE_VERSION,
            RES_SERVICE_NAMESPACE,
            RES_DEPLOYMENT_ENVIRONMENT_NAME,
            RES_DEPLOYMENT_ENVIRONMENT,
        ];
        c.resource_attributes = self.resource.iter().filter(|(k, _)| !folded.contains(&k.as_str())).cloned().collect();
        Ok(c)
    }

    /// The endpoint of one signal: `BOTANU_COLLECTOR_ENDPOINT` (base) > the per-signal variable (used as
    /// is) > `OTEL_EXPORTER_OTLP_ENDPOINT` (base) > `otlp.endpoint` (base).
    pub(super) fn endpoint(
        &self,
        signal_variable: &str,
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
        let shown = Raw { value: url.clone(), ..raw.clone() };
        if url.chars().any(|ch| ch.is_whitespace() || ch.is_control()) || split_url(&url).is_none() {
            return Err(shown.invalid("an http:// or https:// URL such as http://localhost:4318"));
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
