//! Configuration: one [`Config`] from code, environment, a YAML file and defaults.
//!
//! Whoever deploys an app decides where its telemetry goes: the platform sets environment variables, the
//! repository carries a `botanu.yaml`, and the code passes a few values itself. This module merges those
//! sources with a single rule, checks every value, and turns a mistake into a [`ConfigError`] naming the key,
//! the value, what was expected and — for the file — the path and line, so a typo fails at start-up instead
//! of silently exporting nowhere. It is pure logic: no `tracing` or OpenTelemetry types appear here; the
//! pipeline reads the finished [`Config`] (and calls [`Config::traces_url`], [`Config::metrics_url`],
//! [`Config::auth_header`]).
//!
//! # Precedence
//!
//! One rule for every field: **code > environment > YAML file > defaults**.
//!
//! - *Code* is a `Config::with_*` call made after loading; it always wins.
//! - *Environment*: where several variables feed one field, the one listed first below wins (`BOTANU_*`
//!   before `OTEL_*`; a dedicated `OTEL_*` variable before a key inside `OTEL_RESOURCE_ATTRIBUTES`). A variable
//!   that is empty or only whitespace counts as unset, as the OpenTelemetry specification says.
//! - *YAML*: a key that is absent or `null` (`~`, empty) counts as unset.
//! - A field takes its whole value from the first layer that sets it: `OTEL_EXPORTER_OTLP_HEADERS` replaces
//!   `otlp.headers`, it is not merged with it ([`Config::with_header`] adds to or replaces one header).
//!
//! # Keys
//!
//! | field | environment (first wins) | YAML | default |
//! |---|---|---|---|
//! | `service_name` | `BOTANU_SERVICE_NAME`, `OTEL_SERVICE_NAME`, `service.name` in `OTEL_RESOURCE_ATTRIBUTES` | `service.name` | `unknown_service` |
//! | `service_version` | `OTEL_SERVICE_VERSION`, `service.version` in `OTEL_RESOURCE_ATTRIBUTES` | `service.version` | none |
//! | `service_namespace` | `OTEL_SERVICE_NAMESPACE`, `service.namespace` in `OTEL_RESOURCE_ATTRIBUTES` | `service.namespace` | none |
//! | `environment` | `BOTANU_ENVIRONMENT`, `OTEL_DEPLOYMENT_ENVIRONMENT`, `deployment.environment.name` or `deployment.environment` in `OTEL_RESOURCE_ATTRIBUTES` | `service.environment` | `production` |
//! | `traces_endpoint` | `BOTANU_COLLECTOR_ENDPOINT` (base), `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (signal), `OTEL_EXPORTER_OTLP_ENDPOINT` (base) | `otlp.endpoint` (base) | none |
//! | `metrics_endpoint` | `BOTANU_COLLECTOR_ENDPOINT` (base), `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` (signal), `OTEL_EXPORTER_OTLP_ENDPOINT` (base) | `otlp.endpoint` (base) | none |
//! | `headers` | `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, percent-decoded) | `otlp.headers` (mapping) | none |
//! | `api_key` | `BOTANU_API_KEY` (sent as `Authorization: Bearer`, see [`Config::auth_header`]) | — | none |
//! | `protocol` | `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, `grpc`) | `otlp.protocol` | `http/protobuf` |
//! | `batch_size` | `BOTANU_MAX_EXPORT_BATCH_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | `export.batch_size` | 512 |
//! | `queue_size` | `BOTANU_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_QUEUE_SIZE` | `export.queue_size` | 65536 |
//! | `schedule_delay` | `BOTANU_SCHEDULE_DELAY_MILLIS`, `OTEL_BSP_SCHEDULE_DELAY` (ms) | `export.delay_ms` | 5000 ms |
//! | `export_timeout` | `BOTANU_EXPORT_TIMEOUT_MILLIS`, `OTEL_BSP_EXPORT_TIMEOUT` (ms) | `export.export_timeout_ms` | 30000 ms |
//! | `metric_export_interval` | `OTEL_METRIC_EXPORT_INTERVAL` (ms) | `export.metric_interval_ms` | 60000 ms |
//! | `export_all_spans` | `BOTANU_EXPORT_ALL_SPANS` | `export.all_spans` | false |
//! | `max_events_per_span` | `BOTANU_MAX_EVENTS_PER_SPAN` | `export.max_events_per_span` | 128 |
//! | `content_capture_rate` | `BOTANU_CONTENT_CAPTURE_RATE` (clamped to 0.0..=1.0) | `eval.content_capture_rate` | 0.0 |
//! | `content_max_chars` | `BOTANU_CONTENT_MAX_CHARS` | `eval.max_chars` | 4096 |
//! | `pii.enabled` | `BOTANU_PII_SCRUB_ENABLED` | `eval.pii.enabled` | true |
//! | `pii.disable_patterns` | `BOTANU_PII_SCRUB_DISABLE_PATTERNS` (comma list) | `eval.pii.disable_patterns` (list or comma list) | none |
//! | `pii.custom_patterns` | — | `eval.pii.custom_patterns` (mapping name: regex) | none |
//! | `pii.replacement` | `BOTANU_PII_SCRUB_REPLACEMENT` | `eval.pii.replacement` | `[REDACTED]` |
//! | `propagation_mode` | `BOTANU_PROPAGATION_MODE` (`lean`, `full`) | `propagation.mode` | lean |
//! | `propagation_trust_inbound` | `BOTANU_PROPAGATION_TRUST_INBOUND` | `propagation.trust_inbound` | false |
//! | `traces_exporter` | `OTEL_SDK_DISABLED` (true → none), `OTEL_TRACES_EXPORTER` (`otlp`, `console`, `none`) | — | otlp if a traces endpoint is set, else console |
//! | `sdk_disabled` | `OTEL_SDK_DISABLED` | — | false |
//! | `resource_attributes` | `OTEL_RESOURCE_ATTRIBUTES` (`k=v,...`, percent-decoded; the keys folded into the fields above are removed) | — | none |
//!
//! A *base* endpoint gets `/v1/traces` or `/v1/metrics` appended for http/protobuf; a *signal* endpoint is
//! used as given ([`EndpointKind`]). A YAML key not in this table is ignored and named in one warning.
//!
//! # Values
//!
//! Booleans: `true`/`false`, `1`/`0`, `yes`/`no`, any case. Counts and milliseconds: whole numbers above 0.
//! Names (`lean`, `grpc`, …): any case. The same grammar applies to environment variables and YAML scalars
//! (YAML types are ignored: `batch_size: "512"` and `batch_size: 512` are the same). A value that does not
//! parse is an error, never a silent default. Credentials in an endpoint URL (`http://user:pass@host`) are
//! removed with a warning. [`Config`]'s `Debug` output shows `[redacted]` for `api_key` and for the values of
//! `Authorization`, `Proxy-Authorization`, `Cookie`, `x-api-key`, `api-key` and `botanu-api-key` headers.
//!
//! # File
//!
//! The explicit path ([`ConfigSource::with_file`]), else `$BOTANU_CONFIG_FILE`, else the first file that
//! exists among `botanu.yaml`, `botanu.yml`, `config/botanu.yaml`, `config/botanu.yml` in the search
//! directory (the current directory for [`Config::load`]). A relative path is taken from the search
//! directory. No file is fine (defaults); a named file that does not exist is an error. One YAML document,
//! at most 1 MiB, nesting at most 32 levels.
//!
//! `${VAR}` and `${VAR:-default}` in YAML values are replaced from the same environment (`:-` also applies
//! when `VAR` is empty, as in a shell); `$${` writes a literal `${`. An unset `VAR` without a default is an
//! error naming the variable, the file and the line. Replacement happens in each parsed value rather than in
//! the raw text, so a variable holding `#`, `: ` or a newline cannot change the document's structure, a
//! `${VAR}` inside a comment means nothing, and line numbers stay exact.
//!
//! # YAML parser
//!
//! [`yaml-rust2`](https://docs.rs/yaml-rust2) 0.11, without its `encoding` feature: pure Rust, three small
//! dependencies, no serde, a maintained YAML 1.2 parser whose errors carry a line. Walking its event stream
//! ourselves gives a line for every value (so invalid values point into the file too) and makes unknown-key
//! detection, aliases and depth limits explicit. The serde-based forks (`serde_yaml_ng`, `serde_norway`) wrap
//! the C-translated `unsafe-libyaml` and pull in serde and indexmap for a schema this small. 0.11 is kept
//! over 0.12/0.13 (same API) because those need Rust 1.85 and `botanu`'s MSRV is 1.75.
//!
//! # Example
//!
//! ```
//! use std::collections::HashMap;
//! use botanu::config::{Config, ConfigSource, Protocol};
//!
//! let env = HashMap::from([
//!     ("OTEL_EXPORTER_OTLP_ENDPOINT".to_string(), "http://collector:4318".to_string()),
//!     ("BOTANU_SERVICE_NAME".to_string(), "checkout".to_string()),
//! ]);
//! let source = ConfigSource::from_env_map(env).with_search_dir("/nonexistent");
//! let (config, warnings) = Config::load_from(&source)?;
//! let config = config.with_environment("staging"); // code wins over everything else
//!
//! assert!(warnings.is_empty());
//! assert_eq!(config.service_name, "checkout");
//! assert_eq!(config.protocol, Protocol::HttpProtobuf);
//! assert_eq!(config.traces_url().as_deref(), Some("http://collector:4318/v1/traces"));
//! # Ok::<(), botanu::config::ConfigError>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Environment variable names, YAML paths and resource-attribute keys. Nothing else in the module spells them.
mod keys {
    pub(super) const BOTANU_SERVICE_NAME: &str = "BOTANU_SERVICE_NAME";
    pub(super) const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
    pub(super) const OTEL_SERVICE_VERSION: &str = "OTEL_SERVICE_VERSION";
    pub(super) const OTEL_SERVICE_NAMESPACE: &str = "OTEL_SERVICE_NAMESPACE";
    pub(super) const BOTANU_ENVIRONMENT: &str = "BOTANU_ENVIRONMENT";
    pub(super) const OTEL_DEPLOYMENT_ENVIRONMENT: &str = "OTEL_DEPLOYMENT_ENVIRONMENT";
    pub(super) const BOTANU_COLLECTOR_ENDPOINT: &str = "BOTANU_COLLECTOR_ENDPOINT";
    pub(super) const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    pub(super) const OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
    pub(super) const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
    pub(super) const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
    pub(super) const BOTANU_API_KEY: &str = "BOTANU_API_KEY";
    pub(super) const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
    pub(super) const BOTANU_MAX_EXPORT_BATCH_SIZE: &str = "BOTANU_MAX_EXPORT_BATCH_SIZE";
    pub(super) const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
    pub(super) const BOTANU_MAX_QUEUE_SIZE: &str = "BOTANU_MAX_QUEUE_SIZE";
    pub(super) const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
    pub(super) const BOTANU_SCHEDULE_DELAY_MILLIS: &str = "BOTANU_SCHEDULE_DELAY_MILLIS";
    pub(super) const OTEL_BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
    pub(super) const BOTANU_EXPORT_TIMEOUT_MILLIS: &str = "BOTANU_EXPORT_TIMEOUT_MILLIS";
    pub(super) const OTEL_BSP_EXPORT_TIMEOUT: &str = "OTEL_BSP_EXPORT_TIMEOUT";
    pub(super) const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
    pub(super) const BOTANU_EXPORT_ALL_SPANS: &str = "BOTANU_EXPORT_ALL_SPANS";
    pub(super) const BOTANU_MAX_EVENTS_PER_SPAN: &str = "BOTANU_MAX_EVENTS_PER_SPAN";
    pub(super) const BOTANU_CONTENT_CAPTURE_RATE: &str = "BOTANU_CONTENT_CAPTURE_RATE";
    pub(super) const BOTANU_CONTENT_MAX_CHARS: &str = "BOTANU_CONTENT_MAX_CHARS";
    pub(super) const BOTANU_PII_SCRUB_ENABLED: &str = "BOTANU_PII_SCRUB_ENABLED";
    pub(super) const BOTANU_PII_SCRUB_DISABLE_PATTERNS: &str = "BOTANU_PII_SCRUB_DISABLE_PATTERNS";
    pub(super) const BOTANU_PII_SCRUB_REPLACEMENT: &str = "BOTANU_PII_SCRUB_REPLACEMENT";
    pub(super) const BOTANU_PROPAGATION_MODE: &str = "BOTANU_PROPAGATION_MODE";
    pub(super) const BOTANU_PROPAGATION_TRUST_INBOUND: &str = "BOTANU_PROPAGATION_TRUST_INBOUND";
    pub(super) const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
    pub(super) const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
    pub(super) const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
    pub(super) const BOTANU_CONFIG_FILE: &str = "BOTANU_CONFIG_FILE";

    pub(super) const Y_SERVICE_NAME: &str = "service.name";
    pub(super) const Y_SERVICE_VERSION: &str = "service.version";
    pub(super) const Y_SERVICE_NAMESPACE: &str = "service.namespace";
    pub(super) const Y_SERVICE_ENVIRONMENT: &str = "service.environment";
    pub(super) const Y_OTLP_ENDPOINT: &str = "otlp.endpoint";
    pub(super) const Y_OTLP_HEADERS: &str = "otlp.headers";
    pub(super) const Y_OTLP_PROTOCOL: &str = "otlp.protocol";
    pub(super) const Y_EXPORT_BATCH_SIZE: &str = "export.batch_size";
    pub(super) const Y_EXPORT_QUEUE_SIZE: &str = "export.queue_size";
    pub(super) const Y_EXPORT_DELAY_MS: &str = "export.delay_ms";
    pub(super) const Y_EXPORT_TIMEOUT_MS: &str = "export.export_timeout_ms";
    pub(super) const Y_EXPORT_METRIC_INTERVAL_MS: &str = "export.metric_interval_ms";
    pub(super) const Y_EXPORT_ALL_SPANS: &str = "export.all_spans";
    pub(super) const Y_MAX_EVENTS_PER_SPAN: &str = "export.max_events_per_span";
    pub(super) const Y_EVAL_CAPTURE_RATE: &str = "eval.content_capture_rate";
    pub(super) const Y_EVAL_MAX_CHARS: &str = "eval.max_chars";
    pub(super) const Y_PII_ENABLED: &str = "eval.pii.enabled";
    pub(super) const Y_PII_DISABLE_PATTERNS: &str = "eval.pii.disable_patterns";
    pub(super) const Y_PII_CUSTOM_PATTERNS: &str = "eval.pii.custom_patterns";
    pub(super) const Y_PII_REPLACEMENT: &str = "eval.pii.replacement";
    pub(super) const Y_PROPAGATION_MODE: &str = "propagation.mode";
    pub(super) const Y_PROPAGATION_TRUST_INBOUND: &str = "propagation.trust_inbound";

    pub(super) const RES_SERVICE_NAME: &str = "service.name";
    pub(super) const RES_SERVICE_VERSION: &str = "service.version";
    pub(super) const RES_SERVICE_NAMESPACE: &str = "service.namespace";
    pub(super) const RES_DEPLOYMENT_ENVIRONMENT_NAME: &str = "deployment.environment.name";
    pub(super) const RES_DEPLOYMENT_ENVIRONMENT: &str = "deployment.environment";

    /// Files tried, in order, in the search directory when no file is named.
    pub(super) const SEARCH_FILES: [&str; 4] = ["botanu.yaml", "botanu.yml", "config/botanu.yaml", "config/botanu.yml"];
}

const DEFAULT_SERVICE_NAME: &str = "unknown_service";
const DEFAULT_ENVIRONMENT: &str = "production";
const DEFAULT_BATCH_SIZE: usize = 512;
const DEFAULT_QUEUE_SIZE: usize = 65_536;
const DEFAULT_SCHEDULE_DELAY: Duration = Duration::from_millis(5_000);
const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_millis(30_000);
const DEFAULT_METRIC_EXPORT_INTERVAL: Duration = Duration::from_millis(60_000);
const DEFAULT_CONTENT_MAX_CHARS: usize = 4_096;
const DEFAULT_MAX_EVENTS_PER_SPAN: usize = 128;
const DEFAULT_PII_REPLACEMENT: &str = "[REDACTED]";
/// The OTLP endpoints the OpenTelemetry specification names when an exporter is asked for but none is set.
const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318";
const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
const TRACES_PATH: &str = "v1/traces";
const METRICS_PATH: &str = "v1/metrics";

/// What `Debug` prints instead of a credential.
const REDACTED: &str = "[redacted]";
/// Header names whose values are credentials (compared ignoring ASCII case).
const SENSITIVE_HEADERS: [&str; 6] =
    ["authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "botanu-api-key"];

/// A config file is a few hundred bytes; anything past this is a wrong path, not a config.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Deeper nesting than this is never a botanu config, and the tree is dropped recursively.
const MAX_YAML_DEPTH: usize = 32;
/// Upper bound on nodes after alias expansion, so `&a [*b, *b, ...]` chains cannot exhaust memory.
const MAX_YAML_NODES: usize = 100_000;

// === public types ===

/// The resolved configuration of the `botanu` pipeline.
///
/// Build it with [`Config::load`] / [`Config::load_from`] (environment and file) or [`Config::default`]
/// (defaults only), then apply code overrides with the `with_*` methods, which win over every other
/// source. Prefer the `with_*` methods to assigning fields: they keep derived values consistent (setting an
/// endpoint switches the default exporter from console to OTLP, credentials are stripped from URLs).
///
/// `Debug` never prints `api_key` or credential header values.
///
/// ```
/// use std::time::Duration;
/// use botanu::config::{Config, TracesExporter};
///
/// let config = Config::default()
///     .with_service_name("checkout")
///     .with_endpoint("https://user:secret@collector.example.com:4318")
///     .with_schedule_delay(Duration::from_secs(1));
/// assert_eq!(config.traces_exporter, TracesExporter::Otlp);
/// assert_eq!(config.traces_url().as_deref(), Some("https://collector.example.com:4318/v1/traces"));
/// assert!(!format!("{config:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq)]
pub struct Config {
    /// `service.name` of the resource.
    pub service_name: String,
    /// `service.version` of the resource.
    pub service_version: Option<String>,
    /// `service.namespace` of the resource.
    pub service_namespace: Option<String>,
    /// `deployment.environment` of the resource and `botanu.environment` on run spans.
    pub environment: String,
    /// Where traces are exported; `None` with the default exporter means console output.
    pub traces_endpoint: Option<Endpoint>,
    /// Where metrics are exported.
    pub metrics_endpoint: Option<Endpoint>,
    /// Extra headers sent with every export request, in order.
    pub headers: Vec<(String, String)>,
    /// The Botanu API key; sent only to trusted hosts, see [`Config::auth_header`].
    pub api_key: Option<String>,
    /// The OTLP transport.
    pub protocol: Protocol,
    /// Spans per export request (never above `queue_size` after loading).
    pub batch_size: usize,
    /// Spans buffered before new ones are dropped.
    pub queue_size: usize,
    /// Time between two scheduled exports.
    pub schedule_delay: Duration,
    /// Time an export may take before it is abandoned.
    pub export_timeout: Duration,
    /// Time between two metric exports.
    pub metric_export_interval: Duration,
    /// Share of LLM/tool/retrieval calls whose content is captured, in `0.0..=1.0`.
    pub content_capture_rate: f64,
    /// Captured content is cut to this many chars (after scrubbing).
    pub content_max_chars: usize,
    /// PII scrubbing of captured content.
    pub pii: PiiConfig,
    /// Which run fields travel in baggage.
    pub propagation_mode: PropagationMode,
    /// Whether inbound `botanu.customer_id` / `botanu.tenant_id` (baggage or fallback headers) are
    /// honored. Off by default, so a client cannot bill its usage to another tenant; turn it on only
    /// where callers are trusted (service to service behind your own gateway).
    pub propagation_trust_inbound: bool,
    /// Where spans go: OTLP, console, or nowhere.
    pub traces_exporter: TracesExporter,
    /// `OTEL_SDK_DISABLED`: when true the pipeline exports nothing (no traces, no metrics).
    pub sdk_disabled: bool,
    /// Export every span, not only botanu's and those inside a run.
    pub export_all_spans: bool,
    /// Span events kept per span; past it events are counted in `botanu.dropped_events`, not kept.
    pub max_events_per_span: usize,
    /// Extra resource attributes from `OTEL_RESOURCE_ATTRIBUTES`, in order, without the keys that feed
    /// `service_name`, `service_version`, `service_namespace` and `environment`.
    pub resource_attributes: Vec<(String, String)>,
    /// Whether `traces_exporter` was chosen (env or code) rather than derived from the endpoint.
    traces_exporter_explicit: bool,
}

/// An OTLP endpoint and how to turn it into a request URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL, credentials removed.
    pub url: String,
    /// Whether the signal path still has to be appended.
    pub kind: EndpointKind,
}

/// How an [`Endpoint`] URL is used, following the OTLP exporter specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointKind {
    /// A collector base URL (`BOTANU_COLLECTOR_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `otlp.endpoint`):
    /// with http/protobuf, `v1/traces` or `v1/metrics` is appended to its path.
    Base,
    /// A per-signal URL (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`), used as is.
    Signal,
}

/// The OTLP transport.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf` (the default).
    #[default]
    HttpProtobuf,
    /// `grpc`.
    Grpc,
}

/// Where spans are exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TracesExporter {
    /// OTLP to the traces endpoint.
    Otlp,
    /// Human-readable output on stdout.
    Console,
    /// Spans are not exported.
    None,
}

/// Which run fields are carried in W3C baggage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PropagationMode {
    /// `botanu.run_id` and `botanu.workflow` only (the default).
    #[default]
    Lean,
    /// Every run field (customer, environment, tenant, parent, attempt, deadline, …).
    Full,
}

/// PII scrubbing settings for captured content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PiiConfig {
    /// Whether captured content is scrubbed at all (default true).
    pub enabled: bool,
    /// Built-in detectors to switch off, by name, lower-cased.
    pub disable_patterns: Vec<String>,
    /// Extra `(name, regex)` detectors run after the built-ins, in file order. Not compiled here: the
    /// scrubber compiles them and reports an invalid one by name.
    pub custom_patterns: Vec<(String, String)>,
    /// Text written in place of each match (default `[REDACTED]`).
    pub replacement: String,
}

impl Default for PiiConfig {
    fn default() -> Self {
        PiiConfig {
            enabled: true,
            disable_patterns: Vec::new(),
            custom_patterns: Vec::new(),
            replacement: DEFAULT_PII_REPLACEMENT.to_owned(),
        }
    }
}

impl Protocol {
    /// The name used in `OTEL_EXPORTER_OTLP_PROTOCOL`.
    ///
    /// ```
    /// assert_eq!(botanu::config::Protocol::Grpc.as_str(), "grpc");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::Grpc => "grpc",
        }
    }
}

type EnvLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Where [`Config::load_from`] reads: an environment lookup, an optional explicit file and the directory
/// searched for `botanu.yaml`.
///
/// Tests pass a map instead of touching the process environment:
///
/// ```
/// use std::collections::HashMap;
/// use botanu::config::{Config, ConfigSource};
///
/// let env = HashMap::from([("BOTANU_CONTENT_CAPTURE_RATE".to_string(), "0.25".to_string())]);
/// let (config, _) = Config::load_from(&ConfigSource::from_env_map(env).with_search_dir("/nonexistent"))?;
/// assert_eq!(config.content_capture_rate, 0.25);
/// # Ok::<(), botanu::config::ConfigError>(())
/// ```
pub struct ConfigSource {
    env: Box<EnvLookup>,
    explicit_file: Option<PathBuf>,
    search_dir: PathBuf,
}

impl ConfigSource {
    /// The process environment, searching the current directory.
    pub fn process() -> Self {
        Self::from_env_fn(|name| {
            // A non-UTF-8 value is kept (lossily) rather than dropped, so it fails validation visibly.
            std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
        })
    }

    /// A fixed map of environment variables, searching the current directory.
    pub fn from_env_map(env: HashMap<String, String>) -> Self {
        Self::from_env_fn(move |name| env.get(name).cloned())
    }

    /// Any environment lookup, searching the current directory.
    pub fn from_env_fn(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        ConfigSource {
            env: Box::new(lookup),
            explicit_file: None,
            // Absolute when possible so error messages name a findable path.
            search_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }

    /// Read this file (it must exist); `BOTANU_CONFIG_FILE` and the search are skipped. A relative path is
    /// taken from the search directory.
    #[must_use]
    pub fn with_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.explicit_file = Some(path.into());
        self
    }

    /// Search this directory for `botanu.yaml` and resolve relative file paths from it.
    #[must_use]
    pub fn with_search_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.search_dir = dir.into();
        self
    }

    fn var(&self, name: &str) -> Option<String> {
        (self.env)(name)
    }
}

impl fmt::Debug for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The environment is not printed: it holds credentials.
        f.debug_struct("ConfigSource")
            .field("env", &"<lookup>")
            .field("explicit_file", &self.explicit_file)
            .field("search_dir", &self.search_dir)
            .finish()
    }
}

/// A position in the config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileLocation {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl fmt::Display for FileLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.path.display(), self.line)
    }
}

/// Why the configuration could not be loaded. `Display` says what to fix.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file named explicitly (or by `BOTANU_CONFIG_FILE`) does not exist.
    FileNotFound {
        /// The missing path.
        path: PathBuf,
        /// Who named it: `"ConfigSource::with_file"` or `"BOTANU_CONFIG_FILE"`.
        named_by: &'static str,
    },
    /// The config file exists but cannot be read (permissions, a directory, not UTF-8, …).
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The config file is larger than 1 MiB.
    FileTooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The config file is not valid YAML (or not one document, or too deeply nested).
    Yaml {
        /// Where the parser stopped.
        location: FileLocation,
        /// What the parser found.
        message: String,
    },
    /// `${VAR}` names a variable that is not set and has no `:-default`.
    UnsetVariable {
        /// The variable's name.
        variable: String,
        /// Where the reference is.
        location: FileLocation,
    },
    /// A setting has a value that does not parse or is not allowed.
    InvalidValue {
        /// The environment variable name or the YAML path (`export.batch_size`).
        key: String,
        /// The offending value (`[redacted]` for credentials).
        value: String,
        /// What would have been accepted.
        expected: String,
        /// Where in the file, for a YAML value; `None` for an environment variable.
        location: Option<FileLocation>,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::FileNotFound { path, named_by } => {
                write!(f, "botanu config file {} (named by {named_by}) does not exist", path.display())
            }
            ConfigError::Read { path, source } => {
                write!(f, "cannot read botanu config file {}: {source}", path.display())
            }
            ConfigError::FileTooLarge { path } => write!(
                f,
                "botanu config file {} is larger than {MAX_FILE_BYTES} bytes; is it the right file?",
                path.display()
            ),
            ConfigError::Yaml { location, message } => {
                write!(f, "YAML syntax error in {location}: {message}")
            }
            ConfigError::UnsetVariable { variable, location } => write!(
                f,
                "${{{variable}}} in {location}: environment variable {variable} is not set; \
                 set it or give a default with ${{{variable}:-default}}"
            ),
            ConfigError::InvalidValue { key, value, expected, location } => {
                write!(f, "invalid value {value:?} for {key}")?;
                if let Some(location) = location {
                    write!(f, " in {location}")?;
                }
                write!(f, ": expected {expected}")
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `BOTANU_API_KEY` is set but the export endpoint is not a host it may be sent to.
///
/// The pipeline logs this once and exports without the key (the collector will likely refuse).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyWithheld {
    /// The export URL the key was not sent to (credentials already removed).
    pub url: String,
}

impl fmt::Display for ApiKeyWithheld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BOTANU_API_KEY was not sent to {}: the key is only sent to localhost, loopback addresses \
             and botanu.ai over https; to authenticate elsewhere set \
             OTEL_EXPORTER_OTLP_HEADERS=Authorization=... explicitly",
            self.url
        )
    }
}

impl std::error::Error for ApiKeyWithheld {}

// === impl Config ===

impl Default for Config {
    /// Every field at its default: no endpoint (console exporter), sampling rate 0, PII scrubbing on.
    fn default() -> Self {
        Config {
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
            service_version: None,
            service_namespace: None,
            environment: DEFAULT_ENVIRONMENT.to_owned(),
            traces_endpoint: None,
            metrics_endpoint: None,
            headers: Vec::new(),
            api_key: None,
            protocol: Protocol::HttpProtobuf,
            batch_size: DEFAULT_BATCH_SIZE,
            queue_size: DEFAULT_QUEUE_SIZE,
            schedule_delay: DEFAULT_SCHEDULE_DELAY,
            export_timeout: DEFAULT_EXPORT_TIMEOUT,
            metric_export_interval: DEFAULT_METRIC_EXPORT_INTERVAL,
            content_capture_rate: 0.0,
            content_max_chars: DEFAULT_CONTENT_MAX_CHARS,
            pii: PiiConfig::default(),
            propagation_mode: PropagationMode::Lean,
            propagation_trust_inbound: false,
            traces_exporter: TracesExporter::Console,
            sdk_disabled: false,
            export_all_spans: false,
            max_events_per_span: DEFAULT_MAX_EVENTS_PER_SPAN,
            resource_attributes: Vec::new(),
            traces_exporter_explicit: false,
        }
    }
}

impl Config {
    /// Loads from the process environment and a config file found from the current directory.
    ///
    /// Returns the warnings (unknown YAML keys, stripped credentials, clamped values) for the caller to
    /// log; nothing is printed here.
    ///
    /// # Errors
    ///
    /// See [`Config::load_from`].
    pub fn load() -> Result<(Config, Vec<String>), ConfigError> {
        Self::load_from(&ConfigSource::process())
    }

    /// Loads from `source`: defaults, then the YAML file, then the environment.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use botanu::config::{Config, ConfigError, ConfigSource};
    ///
    /// let env = HashMap::from([("BOTANU_MAX_QUEUE_SIZE".to_string(), "lots".to_string())]);
    /// let err = Config::load_from(&ConfigSource::from_env_map(env).with_search_dir("/nonexistent"))
    ///     .unwrap_err();
    /// assert!(matches!(err, ConfigError::InvalidValue { .. }));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "invalid value \"lots\" for BOTANU_MAX_QUEUE_SIZE: expected a whole number greater than 0"
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// A named file that is missing or unreadable, a YAML syntax error, an unset `${VAR}`, or any value that
    /// does not parse — see [`ConfigError`].
    pub fn load_from(source: &ConfigSource) -> Result<(Config, Vec<String>), ConfigError> {
        let mut warnings = Vec::new();
        let file = match find_config_file(source)? {
            Some(path) => Some(YamlSettings::load(&path, source, &mut warnings)?),
            None => None,
        };
        let layers = Layers::new(source, file)?;
        let config = layers.resolve(&mut warnings)?;
        Ok((config, warnings))
    }

    /// The URL traces are posted to.
    ///
    /// For http/protobuf a base endpoint gets `v1/traces` appended to its path (`http://h:4318` →
    /// `http://h:4318/v1/traces`, `http://h/otel/` → `http://h/otel/v1/traces`); a per-signal endpoint is
    /// used as is, and so is any endpoint with gRPC. With no endpoint, the OpenTelemetry default
    /// (`http://localhost:4318`, gRPC `:4317`) when the OTLP exporter was chosen explicitly, else `None`.
    ///
    /// ```
    /// use botanu::config::Config;
    ///
    /// let config = Config::default().with_endpoint("http://collector/otel/");
    /// assert_eq!(config.traces_url().as_deref(), Some("http://collector/otel/v1/traces"));
    /// assert_eq!(Config::default().traces_url(), None);
    /// ```
    pub fn traces_url(&self) -> Option<String> {
        self.signal_url(self.traces_endpoint.as_ref(), TRACES_PATH)
    }

    /// The URL metrics are posted to; the same rules as [`Config::traces_url`] with `v1/metrics`, and `None`
    /// when `sdk_disabled`.
    ///
    /// ```
    /// use botanu::config::Config;
    ///
    /// let config = Config::default().with_endpoint("http://collector:4318");
    /// assert_eq!(config.metrics_url().as_deref(), Some("http://collector:4318/v1/metrics"));
    /// ```
    pub fn metrics_url(&self) -> Option<String> {
        if self.sdk_disabled {
            return None;
        }
        self.signal_url(self.metrics_endpoint.as_ref(), METRICS_PATH)
    }

    fn signal_url(&self, endpoint: Option<&Endpoint>, signal_path: &str) -> Option<String> {
        match endpoint {
            Some(endpoint) => Some(match (self.protocol, endpoint.kind) {
                (Protocol::HttpProtobuf, EndpointKind::Base) => join_signal_path(&endpoint.url, signal_path),
                _ => endpoint.url.clone(),
            }),
            None if self.traces_exporter == TracesExporter::Otlp => Some(match self.protocol {
                Protocol::HttpProtobuf => join_signal_path(DEFAULT_HTTP_ENDPOINT, signal_path),
                Protocol::Grpc => DEFAULT_GRPC_ENDPOINT.to_owned(),
            }),
            None => None,
        }
    }

    /// The `Authorization: Bearer <api_key>` header to add to export requests, if it may be sent.
    ///
    /// The key is sent only when every export URL ([`Config::traces_url`], [`Config::metrics_url`]) is on
    /// `localhost` or a loopback address (`127.0.0.0/8`, `::1`), or is `https` on `botanu.ai` or a subdomain
    /// of it (`evilbotanu.ai` and `botanu.ai.evil.com` are not). `Ok(None)` when there is no key, nothing is
    /// exported over OTLP, or `headers` already carries an `Authorization` header (an explicit header wins).
    ///
    /// ```
    /// use botanu::config::Config;
    ///
    /// let key = format!("{}-{}", "test", "key");
    /// let local = Config::default().with_endpoint("http://localhost:4318").with_api_key(key.clone());
    /// assert_eq!(
    ///     local.auth_header(),
    ///     Ok(Some(("Authorization".to_string(), format!("Bearer {key}"))))
    /// );
    /// let elsewhere = Config::default().with_endpoint("https://evilbotanu.ai").with_api_key(key);
    /// assert!(elsewhere.auth_header().is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`ApiKeyWithheld`] naming the first URL the key may not go to.
    pub fn auth_header(&self) -> Result<Option<(String, String)>, ApiKeyWithheld> {
        let Some(key) = &self.api_key else {
            return Ok(None);
        };
        if self.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization")) {
            return Ok(None);
        }
        let urls: Vec<String> = [self.traces_url(), self.metrics_url()].into_iter().flatten().collect();
        if urls.is_empty() {
            return Ok(None);
        }
        if let Some(url) = urls.into_iter().find(|url| !api_key_allowed(url)) {
            return Err(ApiKeyWithheld { url });
        }
        Ok(Some(("Authorization".to_owned(), format!("Bearer {key}"))))
    }

    /// Sets `service_name`.
    #[must_use]
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = name.into();
        self
    }

    /// Sets `service_version`.
    #[must_use]
    pub fn with_service_version(mut self, version: impl Into<String>) -> Self {
        self.service_version = Some(version.into());
        self
    }

    /// Sets `service_namespace`.
    #[must_use]
    pub fn with_service_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.service_namespace = Some(namespace.into());
        self
    }

    /// Sets `environment`.
    #[must_use]
    pub fn with_environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = environment.into();
        self
    }

    /// Sets a base endpoint for traces and metrics (credentials in the URL are removed). Unless an exporter
    /// was chosen explicitly, traces now go to OTLP. The URL is not validated here; the exporter reports a
    /// malformed one.
    #[must_use]
    pub fn with_endpoint(mut self, url: impl Into<String>) -> Self {
        let url = strip_credentials(&url.into()).0;
        self.traces_endpoint = Some(Endpoint { url: url.clone(), kind: EndpointKind::Base });
        self.metrics_endpoint = Some(Endpoint { url, kind: EndpointKind::Base });
        self.derive_traces_exporter();
        self
    }

    /// Sets the traces URL, used as is (credentials removed).
    #[must_use]
    pub fn with_traces_endpoint(mut self, url: impl Into<String>) -> Self {
        self.traces_endpoint = Some(Endpoint { url: strip_credentials(&url.into()).0, kind: EndpointKind::Signal });
        self.derive_traces_exporter();
        self
    }

    /// Sets the metrics URL, used as is (credentials removed).
    #[must_use]
    pub fn with_metrics_endpoint(mut self, url: impl Into<String>) -> Self {
        self.metrics_endpoint = Some(Endpoint { url: strip_credentials(&url.into()).0, kind: EndpointKind::Signal });
        self
    }

    /// Adds an export header, replacing any header of the same name (ignoring ASCII case).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
        self
    }

    /// Sets `api_key`.
    #[must_use]
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets `protocol`.
    #[must_use]
    pub fn with_protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Sets `batch_size`.
    #[must_use]
    pub fn with_batch_size(mut self, spans: usize) -> Self {
        self.batch_size = spans;
        self
    }

    /// Sets `queue_size`.
    #[must_use]
    pub fn with_queue_size(mut self, spans: usize) -> Self {
        self.queue_size = spans;
        self
    }

    /// Sets `schedule_delay`.
    #[must_use]
    pub fn with_schedule_delay(mut self, delay: Duration) -> Self {
        self.schedule_delay = delay;
        self
    }

    /// Sets `export_timeout`.
    #[must_use]
    pub fn with_export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
        self
    }

    /// Sets `metric_export_interval`.
    #[must_use]
    pub fn with_metric_export_interval(mut self, interval: Duration) -> Self {
        self.metric_export_interval = interval;
        self
    }

    /// Sets `content_capture_rate`, clamped to `0.0..=1.0`; NaN becomes 0.0 (capture nothing), the safe
    /// reading of a value that means nothing.
    #[must_use]
    pub fn with_content_capture_rate(mut self, rate: f64) -> Self {
        self.content_capture_rate = if rate.is_nan() { 0.0 } else { rate.clamp(0.0, 1.0) };
        self
    }

    /// Sets `content_max_chars`.
    #[must_use]
    pub fn with_content_max_chars(mut self, chars: usize) -> Self {
        self.content_max_chars = chars;
        self
    }

    /// Sets `pii.enabled`.
    #[must_use]
    pub fn with_pii_enabled(mut self, enabled: bool) -> Self {
        self.pii.enabled = enabled;
        self
    }

    /// Replaces `pii.disable_patterns` (names are lower-cased).
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
    #[must_use]
    pub fn with_pii_custom_pattern(mut self, name: impl Into<String>, regex: impl Into<String>) -> Self {
        let name = name.into();
        self.pii.custom_patterns.retain(|(n, _)| *n != name);
        self.pii.custom_patterns.push((name, regex.into()));
        self
    }

    /// Sets `pii.replacement`.
    #[must_use]
    pub fn with_pii_replacement(mut self, replacement: impl Into<String>) -> Self {
        self.pii.replacement = replacement.into();
        self
    }

    /// Sets `propagation_trust_inbound`.
    #[must_use]
    pub fn with_propagation_trust_inbound(mut self, trust: bool) -> Self {
        self.propagation_trust_inbound = trust;
        self
    }

    /// Sets `propagation_mode`.
    #[must_use]
    pub fn with_propagation_mode(mut self, mode: PropagationMode) -> Self {
        self.propagation_mode = mode;
        self
    }

    /// Sets `traces_exporter`; it no longer follows the endpoint.
    #[must_use]
    pub fn with_traces_exporter(mut self, exporter: TracesExporter) -> Self {
        self.traces_exporter = exporter;
        self.traces_exporter_explicit = true;
        self
    }

    /// Sets `sdk_disabled`. `traces_exporter` is left as it is (`OTEL_SDK_DISABLED=true` made it
    /// `None`); choose it with [`Config::with_traces_exporter`].
    #[must_use]
    pub fn with_sdk_disabled(mut self, disabled: bool) -> Self {
        self.sdk_disabled = disabled;
        self
    }

    /// Sets `max_events_per_span`.
    #[must_use]
    pub fn with_max_events_per_span(mut self, events: usize) -> Self {
        self.max_events_per_span = events;
        self
    }

    /// Sets `export_all_spans`.
    #[must_use]
    pub fn with_export_all_spans(mut self, all: bool) -> Self {
        self.export_all_spans = all;
        self
    }

    /// Adds a resource attribute, replacing one with the same key.
    #[must_use]
    pub fn with_resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.resource_attributes.retain(|(k, _)| *k != key);
        self.resource_attributes.push((key, value.into()));
        self
    }

    /// The default exporter follows the traces endpoint until someone chooses one.
    fn derive_traces_exporter(&mut self) {
        if !self.traces_exporter_explicit {
            self.traces_exporter =
                if self.traces_endpoint.is_some() { TracesExporter::Otlp } else { TracesExporter::Console };
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("service_name", &self.service_name)
            .field("service_version", &self.service_version)
            .field("service_namespace", &self.service_namespace)
            .field("environment", &self.environment)
            .field("traces_endpoint", &self.traces_endpoint)
            .field("metrics_endpoint", &self.metrics_endpoint)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("api_key", &self.api_key.as_ref().map(|_| REDACTED))
            .field("protocol", &self.protocol)
            .field("batch_size", &self.batch_size)
            .field("queue_size", &self.queue_size)
            .field("schedule_delay", &self.schedule_delay)
            .field("export_timeout", &self.export_timeout)
            .field("metric_export_interval", &self.metric_export_interval)
            .field("content_capture_rate", &self.content_capture_rate)
            .field("content_max_chars", &self.content_max_chars)
            .field("pii", &self.pii)
            .field("propagation_mode", &self.propagation_mode)
            .field("propagation_trust_inbound", &self.propagation_trust_inbound)
            .field("traces_exporter", &self.traces_exporter)
            .field("sdk_disabled", &self.sdk_disabled)
            .field("export_all_spans", &self.export_all_spans)
            .field("max_events_per_span", &self.max_events_per_span)
            .field("resource_attributes", &self.resource_attributes)
            .finish()
    }
}

/// Headers as `Debug` shows them: credential values replaced.
struct RedactedHeaders<'a>(&'a [(String, String)]);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, value)| {
                let shown = if is_sensitive_header(name) { REDACTED } else { value.as_str() };
                (name.as_str(), shown)
            }))
            .finish()
    }
}

fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name.trim()))
}

// === resolution: code > env > yaml > defaults ===

/// One setting as found, before parsing, carrying what an error needs to point at it.
#[derive(Clone, Debug)]
struct Raw {
    /// Environment variable name or YAML path.
    key: String,
    value: String,
    /// `Some` for a YAML value.
    location: Option<FileLocation>,
}

impl Raw {
    fn env(key: &str, value: String) -> Raw {
        Raw { key: key.to_owned(), value, location: None }
    }

    fn invalid(&self, expected: impl Into<String>) -> ConfigError {
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
    fn origin(&self) -> String {
        match &self.location {
            Some(location) => format!("{} ({location})", self.key),
            None => self.key.clone(),
        }
    }
}

fn is_secret_key(key: &str) -> bool {
    key == keys::OTEL_EXPORTER_OTLP_HEADERS
        || key == keys::BOTANU_API_KEY
        || key.strip_prefix(keys::Y_OTLP_HEADERS).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

fn push_unique(warnings: &mut Vec<String>, warning: String) {
    if !warnings.contains(&warning) {
        warnings.push(warning);
    }
}

/// The environment and file layers of one load, looked up field by field.
struct Layers<'a> {
    source: &'a ConfigSource,
    file: Option<YamlSettings>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, parsed once: some of its keys feed dedicated fields.
    resource: Vec<(String, String)>,
}

impl<'a> Layers<'a> {
    fn new(source: &'a ConfigSource, file: Option<YamlSettings>) -> Result<Self, ConfigError> {
        let mut layers = Layers { source, file, resource: Vec::new() };
        if let Some(raw) = layers.env(keys::OTEL_RESOURCE_ATTRIBUTES) {
            layers.resource = parse_key_value_list(&raw)?;
        }
        Ok(layers)
    }

    /// An environment variable; empty or whitespace-only counts as unset (OpenTelemetry spec).
    fn env(&self, name: &str) -> Option<Raw> {
        let value = self.source.var(name)?;
        if value.trim().is_empty() {
            None
        } else {
            Some(Raw::env(name, value))
        }
    }

    fn resource_attribute(&self, key: &str) -> Option<Raw> {
        // The last occurrence wins, as when the list is applied in order.
        self.resource
            .iter()
            .rev()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(k, v)| Raw::env(&format!("{} ({k})", keys::OTEL_RESOURCE_ATTRIBUTES), v.clone()))
    }

    fn yaml(&self, path: &str) -> Option<Raw> {
        self.file.as_ref()?.scalar(path)
    }

    /// The first environment variable set, else the first resource attribute set, else the YAML value.
    fn pick(&self, env: &[&str], resource: &[&str], yaml: &str) -> Option<Raw> {
        env.iter()
            .find_map(|name| self.env(name))
            .or_else(|| resource.iter().find_map(|key| self.resource_attribute(key)))
            .or_else(|| self.yaml(yaml))
    }

    fn resolve(&self, warnings: &mut Vec<String>) -> Result<Config, ConfigError> {
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
    fn endpoint(&self, signal_variable: &str, warnings: &mut Vec<String>) -> Result<Option<Endpoint>, ConfigError> {
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

// === value grammar ===

fn parse_text(raw: &Raw) -> Result<String, ConfigError> {
    let value = raw.value.trim();
    if value.is_empty() {
        Err(raw.invalid("a non-empty string"))
    } else {
        Ok(value.to_owned())
    }
}

fn parse_bool(raw: &Raw) -> Result<bool, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(raw.invalid("true, false, 1, 0, yes or no")),
    }
}

fn parse_count(raw: &Raw) -> Result<usize, ConfigError> {
    match raw.value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(raw.invalid("a whole number greater than 0")),
    }
}

fn parse_millis(raw: &Raw) -> Result<Duration, ConfigError> {
    match raw.value.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(raw.invalid("a whole number of milliseconds greater than 0")),
    }
}

/// A sampling rate: any number, clamped to `0.0..=1.0` with a warning; NaN is an error because it
/// cannot be clamped to anything meaningful.
fn parse_rate(raw: &Raw, warnings: &mut Vec<String>) -> Result<f64, ConfigError> {
    const EXPECTED: &str = "a number between 0.0 and 1.0";
    let rate: f64 = raw.value.trim().parse().map_err(|_| raw.invalid(EXPECTED))?;
    if rate.is_nan() {
        return Err(raw.invalid(EXPECTED));
    }
    if (0.0..=1.0).contains(&rate) {
        return Ok(rate);
    }
    let clamped = rate.clamp(0.0, 1.0);
    warnings.push(format!("{} = {} is outside 0.0..=1.0; using {clamped:?}", raw.origin(), raw.value.trim()));
    Ok(clamped)
}

fn parse_protocol(raw: &Raw) -> Result<Protocol, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "http/protobuf" => Ok(Protocol::HttpProtobuf),
        "grpc" => Ok(Protocol::Grpc),
        "http/json" => Err(raw.invalid("http/protobuf or grpc; http/json is not supported by botanu")),
        _ => Err(raw.invalid("http/protobuf or grpc")),
    }
}

fn parse_traces_exporter(raw: &Raw) -> Result<TracesExporter, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "otlp" => Ok(TracesExporter::Otlp),
        "console" => Ok(TracesExporter::Console),
        "none" => Ok(TracesExporter::None),
        _ => Err(raw.invalid("one of otlp, console or none")),
    }
}

fn parse_propagation_mode(raw: &Raw) -> Result<PropagationMode, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "lean" => Ok(PropagationMode::Lean),
        "full" => Ok(PropagationMode::Full),
        _ => Err(raw.invalid("lean or full")),
    }
}

/// `a, B ,,c` → `["a", "b", "c"]`.
fn comma_list(value: &str) -> Vec<String> {
    value.split(',').map(|item| item.trim().to_lowercase()).filter(|item| !item.is_empty()).collect()
}

/// `k=v,k2=v2` with percent-encoded keys and values, the format of `OTEL_EXPORTER_OTLP_HEADERS` and
/// `OTEL_RESOURCE_ATTRIBUTES`. Empty entries are skipped; an entry without `=` is an error.
fn parse_key_value_list(raw: &Raw) -> Result<Vec<(String, String)>, ConfigError> {
    let mut pairs = Vec::new();
    for (index, entry) in raw.value.split(',').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let number = index + 1;
        let Some((key, value)) = entry.split_once('=') else {
            return Err(raw.invalid(format!("comma-separated key=value pairs (entry {number} has no '=')")));
        };
        let (Some(key), Some(value)) = (percent_decode(key.trim()), percent_decode(value.trim())) else {
            return Err(raw.invalid(format!(
                "comma-separated key=value pairs (entry {number} is not UTF-8 after percent-decoding)"
            )));
        };
        if key.is_empty() {
            return Err(raw.invalid(format!("comma-separated key=value pairs (entry {number} has an empty key)")));
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// `%XX` → the byte; a `%` not followed by two hex digits is kept as is. `None` if the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    fn hex(byte: u8) -> Option<u8> {
        char::from(byte).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            if let (Some(high), Some(low)) =
                (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex))
            {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(byte);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A header name must be an RFC 9110 token and a value must not hold control characters (a `\r\n` would
/// inject headers).
fn check_header(name: &str, value: &str, raw: &Raw) -> Result<(), ConfigError> {
    let is_token =
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !is_token {
        return Err(raw.invalid(format!("header names made of letters, digits and !#$%&'*+-.^_`|~ (got {name:?})")));
    }
    if value.chars().any(|ch| ch.is_control() && ch != '\t') {
        return Err(raw.invalid(format!("a header value without control characters (header {name})")));
    }
    Ok(())
}

// === URLs ===

/// The parts of an `http(s)://` URL that matter here.
struct UrlParts<'a> {
    scheme: &'a str,
    /// Without brackets for an IPv6 literal.
    host: &'a str,
    ipv6_literal: bool,
}

/// Splits `scheme://[userinfo@]host[:port][/path][?query][#fragment]`; `None` unless the scheme is http or
/// https and there is a host. A `\` ends the authority as `/` does, as WHATWG URL parsers treat it, so
/// `http://evil.com\@botanu.ai` has the host `evil.com`.
fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    let authority = &rest[..authority_end(rest)];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port, ipv6_literal) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']')?;
            let port = if after.is_empty() { "" } else { after.strip_prefix(':')? };
            (host, port, true)
        }
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, port, false),
            None => (host_port, "", false),
        },
    };
    if host.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(UrlParts { scheme, host, ipv6_literal })
}

fn authority_end(after_scheme: &str) -> usize {
    after_scheme.find(['/', '\\', '?', '#']).unwrap_or(after_scheme.len())
}

/// Removes `user:pass@` from a URL's authority; works on malformed URLs too, so an error message
/// never echoes a password. Returns whether anything was removed.
fn strip_credentials(url: &str) -> (String, bool) {
    let rest_start = url.find("://").map_or(0, |i| i + 3);
    let (prefix, rest) = url.split_at(rest_start);
    let end = authority_end(rest);
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((_, host_port)) => (format!("{prefix}{host_port}{tail}"), true),
        None => (url.to_owned(), false),
    }
}

/// Appends `signal_path` to a base URL's path, keeping one `/` between them and any query after them.
fn join_signal_path(base: &str, signal_path: &str) -> String {
    let path_end = base.find(['?', '#']).unwrap_or(base.len());
    let (head, suffix) = base.split_at(path_end);
    format!("{}/{signal_path}{suffix}", head.trim_end_matches('/'))
}

/// May `BOTANU_API_KEY` be sent to `url`? Loopback (any scheme), or `https` to `botanu.ai` and its
/// subdomains. Anything that does not parse cleanly is refused.
fn api_key_allowed(url: &str) -> bool {
    let Some(parts) = split_url(url) else {
        return false;
    };
    let lowered = parts.host.to_ascii_lowercase();
    // `botanu.ai.` (fully qualified) is the same host.
    let host = lowered.strip_suffix('.').unwrap_or(&lowered);
    if parts.ipv6_literal {
        return host
            .parse::<Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()));
    }
    if host == "localhost" || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback()) {
        return true;
    }
    let is_dns_name =
        host.split('.').all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    is_dns_name && parts.scheme.eq_ignore_ascii_case("https") && (host == "botanu.ai" || host.ends_with(".botanu.ai"))
}

// === the file ===

/// Which file to read, if any: explicit > `BOTANU_CONFIG_FILE` > the first of the search list.
fn find_config_file(source: &ConfigSource) -> Result<Option<PathBuf>, ConfigError> {
    let named = source.explicit_file.clone().map(|path| (path, "ConfigSource::with_file")).or_else(|| {
        source
            .var(keys::BOTANU_CONFIG_FILE)
            .filter(|value| !value.trim().is_empty())
            .map(|value| (PathBuf::from(value.trim()), keys::BOTANU_CONFIG_FILE))
    });
    if let Some((path, named_by)) = named {
        // `join` keeps an absolute path as is.
        let path = source.search_dir.join(path);
        return match path.try_exists() {
            Ok(true) => Ok(Some(path)),
            Ok(false) => Err(ConfigError::FileNotFound { path, named_by }),
            Err(source) => Err(ConfigError::Read { path, source }),
        };
    }
    Ok(keys::SEARCH_FILES.iter().map(|name| source.search_dir.join(name)).find(|path| path.is_file()))
}

fn read_text(path: &Path) -> Result<String, ConfigError> {
    let read_error = |source| ConfigError::Read { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigError::FileTooLarge { path: path.to_owned() });
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| read_error(io::Error::new(io::ErrorKind::InvalidData, "the file is not UTF-8 text")))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(without_bom) => without_bom.to_owned(),
        None => text,
    })
}

/// How a known YAML key's value is shaped.
#[derive(Clone, Copy)]
enum Shape {
    Scalar,
    /// A sequence of scalars, or one scalar holding a comma list.
    List,
    /// A mapping of names to scalars.
    Map,
}

/// Every YAML key botanu reads. Parents (`service`, `eval.pii`, …) are implied.
const SCHEMA: [(&str, Shape); 22] = [
    (keys::Y_SERVICE_NAME, Shape::Scalar),
    (keys::Y_SERVICE_VERSION, Shape::Scalar),
    (keys::Y_SERVICE_NAMESPACE, Shape::Scalar),
    (keys::Y_SERVICE_ENVIRONMENT, Shape::Scalar),
    (keys::Y_OTLP_ENDPOINT, Shape::Scalar),
    (keys::Y_OTLP_HEADERS, Shape::Map),
    (keys::Y_OTLP_PROTOCOL, Shape::Scalar),
    (keys::Y_EXPORT_BATCH_SIZE, Shape::Scalar),
    (keys::Y_EXPORT_QUEUE_SIZE, Shape::Scalar),
    (keys::Y_EXPORT_DELAY_MS, Shape::Scalar),
    (keys::Y_EXPORT_TIMEOUT_MS, Shape::Scalar),
    (keys::Y_EXPORT_METRIC_INTERVAL_MS, Shape::Scalar),
    (keys::Y_EXPORT_ALL_SPANS, Shape::Scalar),
    (keys::Y_MAX_EVENTS_PER_SPAN, Shape::Scalar),
    (keys::Y_EVAL_CAPTURE_RATE, Shape::Scalar),
    (keys::Y_EVAL_MAX_CHARS, Shape::Scalar),
    (keys::Y_PII_ENABLED, Shape::Scalar),
    (keys::Y_PII_DISABLE_PATTERNS, Shape::List),
    (keys::Y_PII_CUSTOM_PATTERNS, Shape::Map),
    (keys::Y_PII_REPLACEMENT, Shape::Scalar),
    (keys::Y_PROPAGATION_MODE, Shape::Scalar),
    (keys::Y_PROPAGATION_TRUST_INBOUND, Shape::Scalar),
];

/// A known key's value, interpolated, with its position.
enum YamlValue {
    Scalar(Raw),
    List(Vec<Raw>),
    /// `(name, value)` in file order; each value's key is `path.name`.
    Map(Vec<(String, Raw)>),
}

/// The known keys found in the config file.
struct YamlSettings {
    values: HashMap<&'static str, YamlValue>,
}

impl YamlSettings {
    fn load(path: &Path, source: &ConfigSource, warnings: &mut Vec<String>) -> Result<Self, ConfigError> {
        let text = read_text(path)?;
        let file = FileContext { path, source };
        let mut settings = YamlSettings { values: HashMap::new() };
        let mut unknown = Vec::new();
        match parse_yaml(&text, path)? {
            None => {}
            Some(Node { kind: NodeKind::Null, .. }) => {}
            Some(Node { kind: NodeKind::Map(entries), .. }) => {
                walk(&entries, "", &file, &mut settings.values, &mut unknown)?
            }
            Some(root) => {
                return Err(ConfigError::Yaml {
                    location: file.at(root.line),
                    message: "the file must be a mapping of settings (service:, otlp:, export:, \
                              eval:, propagation:)"
                        .to_owned(),
                })
            }
        }
        if !unknown.is_empty() {
            warnings.push(format!("{}: unknown keys ignored: {}", path.display(), unknown.join(", ")));
        }
        Ok(settings)
    }

    fn scalar(&self, path: &str) -> Option<Raw> {
        match self.values.get(path)? {
            YamlValue::Scalar(raw) => Some(raw.clone()),
            _ => None,
        }
    }

    fn list(&self, path: &str) -> Option<&[Raw]> {
        match self.values.get(path)? {
            YamlValue::List(items) => Some(items),
            _ => None,
        }
    }

    fn map(&self, path: &str) -> Option<&[(String, Raw)]> {
        match self.values.get(path)? {
            YamlValue::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// What reading a value needs besides the value: where it is and how to interpolate.
struct FileContext<'a> {
    path: &'a Path,
    source: &'a ConfigSource,
}

impl FileContext<'_> {
    fn at(&self, line: usize) -> FileLocation {
        FileLocation { path: self.path.to_owned(), line }
    }

    /// A scalar as a [`Raw`], `${VAR}` replaced.
    fn raw(&self, key: String, text: &str, line: usize) -> Result<Raw, ConfigError> {
        let location = self.at(line);
        let raw = Raw { key, value: text.to_owned(), location: Some(location.clone()) };
        let value = interpolate(&raw, &location, self.source)?;
        Ok(Raw { value, ..raw })
    }

    fn invalid(&self, key: &str, node: &Node, expected: &str) -> ConfigError {
        let shown = match &node.kind {
            NodeKind::Null => String::new(),
            NodeKind::Scalar(text) => text.clone(),
            NodeKind::Seq(_) => "<list>".to_owned(),
            NodeKind::Map(_) => "<mapping>".to_owned(),
        };
        Raw { key: key.to_owned(), value: shown, location: Some(self.at(node.line)) }.invalid(expected)
    }
}

/// Collects known keys under `prefix` into `out` and unknown ones into `unknown`.
fn walk(
    entries: &[Entry],
    prefix: &str,
    file: &FileContext<'_>,
    out: &mut HashMap<&'static str, YamlValue>,
    unknown: &mut Vec<String>,
) -> Result<(), ConfigError> {
    for entry in entries {
        let full = if prefix.is_empty() { entry.key.clone() } else { format!("{prefix}.{}", entry.key) };
        // A dotted key (`"service.name": x`) would alias a nested one; it is not part of the format.
        let dotted = entry.key.contains('.');
        if let Some(&(key, shape)) = SCHEMA.iter().find(|(k, _)| !dotted && *k == full) {
            if let Some(value) = read_value(key, shape, &entry.value, file)? {
                out.insert(key, value);
            }
        } else if !dotted && is_section(&full) {
            match &entry.value.kind {
                NodeKind::Map(children) => walk(children, &full, file, out, unknown)?,
                NodeKind::Null => {}
                _ => return Err(file.invalid(&full, &entry.value, "a mapping of settings")),
            }
        } else {
            unknown.push(full);
        }
    }
    Ok(())
}

fn is_section(path: &str) -> bool {
    SCHEMA.iter().any(|(key, _)| key.strip_prefix(path).is_some_and(|rest| rest.starts_with('.')))
}

fn read_value(key: &str, shape: Shape, node: &Node, file: &FileContext<'_>) -> Result<Option<YamlValue>, ConfigError> {
    Ok(Some(match (shape, &node.kind) {
        (_, NodeKind::Null) => return Ok(None),
        (Shape::Scalar, NodeKind::Scalar(text)) => YamlValue::Scalar(file.raw(key.to_owned(), text, node.line)?),
        (Shape::List, NodeKind::Scalar(text)) => YamlValue::List(vec![file.raw(key.to_owned(), text, node.line)?]),
        (Shape::List, NodeKind::Seq(items)) => {
            let mut raws = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let item_key = format!("{key}[{index}]");
                match &item.kind {
                    NodeKind::Null => {}
                    NodeKind::Scalar(text) => raws.push(file.raw(item_key, text, item.line)?),
                    _ => return Err(file.invalid(&item_key, item, "a name")),
                }
            }
            YamlValue::List(raws)
        }
        (Shape::Map, NodeKind::Map(entries)) => {
            let mut pairs = Vec::with_capacity(entries.len());
            for entry in entries {
                let entry_key = format!("{key}.{}", entry.key);
                match &entry.value.kind {
                    NodeKind::Scalar(text) => {
                        pairs.push((entry.key.clone(), file.raw(entry_key, text, entry.value.line)?))
                    }
                    _ => return Err(file.invalid(&entry_key, &entry.value, "a string value")),
                }
            }
            YamlValue::Map(pairs)
        }
        (Shape::Scalar, _) => return Err(file.invalid(key, node, "a single value, not a list or mapping")),
        (Shape::List, _) => return Err(file.invalid(key, node, "a list of names or a comma-separated string")),
        (Shape::Map, _) => return Err(file.invalid(key, node, "a mapping of name: value")),
    }))
}

/// Replaces `${VAR}` / `${VAR:-default}` in a YAML value; `$${` is a literal `${`. Substituted text is
/// not scanned again.
fn interpolate(raw: &Raw, location: &FileLocation, source: &ConfigSource) -> Result<String, ConfigError> {
    const REFERENCE: &str = "${NAME} or ${NAME:-default} with NAME made of letters, digits and _";
    let text = raw.value.as_str();
    if !text.contains('$') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(escaped) = after.strip_prefix("${") {
            out.push_str("${");
            rest = escaped;
            continue;
        }
        let Some(reference) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(close) = reference.find('}') else {
            return Err(raw.invalid(format!("{REFERENCE} (a `${{` is not closed)")));
        };
        let body = &reference[..close];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        if !is_variable_name(name) {
            return Err(raw.invalid(REFERENCE));
        }
        match (source.var(name), default) {
            (Some(value), Some(default)) if value.is_empty() => out.push_str(default),
            (Some(value), _) => out.push_str(&value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => {
                return Err(ConfigError::UnsetVariable { variable: name.to_owned(), location: location.clone() })
            }
        }
        rest = &reference[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

// === YAML tree ===

/// A parsed YAML node with the line it starts on. Scalars stay text: each field parses its own.
#[derive(Clone, Debug)]
struct Node {
    line: usize,
    kind: NodeKind,
}

#[derive(Clone, Debug)]
enum NodeKind {
    /// `~`, `null`, or nothing.
    Null,
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug)]
struct Entry {
    key: String,
    value: Node,
}

impl Node {
    fn size(&self) -> usize {
        1 + match &self.kind {
            NodeKind::Null | NodeKind::Scalar(_) => 0,
            NodeKind::Seq(items) => items.iter().map(Node::size).sum(),
            NodeKind::Map(entries) => entries.iter().map(|e| 1 + e.value.size()).sum(),
        }
    }
}

fn parse_yaml(text: &str, path: &Path) -> Result<Option<Node>, ConfigError> {
    let syntax_error = |line: usize, message: String| ConfigError::Yaml {
        location: FileLocation { path: path.to_owned(), line },
        message,
    };
    // Driving the parser event by event (rather than `Parser::load`, which recurses per nesting level)
    // keeps a deeply nested file from overflowing the stack: `TreeBuilder` stops at MAX_YAML_DEPTH.
    let mut parser = Parser::new_from_str(text);
    let mut tree = TreeBuilder::default();
    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            let mark = e.marker();
            syntax_error(mark.line(), format!("{} (column {})", e.info(), mark.col() + 1))
        })?;
        if event == Event::StreamEnd {
            break;
        }
        tree.push(event, mark).map_err(|(line, message)| syntax_error(line, message))?;
    }
    let mut documents = tree.documents;
    if let Some(second) = documents.get(1) {
        return Err(syntax_error(
            second.line,
            "a second YAML document (`---`); the botanu config file holds exactly one".to_owned(),
        ));
    }
    Ok(documents.pop())
}

/// A container being filled.
enum Frame {
    Seq { anchor: usize, line: usize, items: Vec<Node> },
    Map { anchor: usize, line: usize, entries: Vec<Entry>, pending_key: Option<(String, usize)> },
}

/// Builds [`Node`]s from parser events; errors are `(line, message)`.
#[derive(Default)]
struct TreeBuilder {
    stack: Vec<Frame>,
    documents: Vec<Node>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

impl TreeBuilder {
    fn push(&mut self, event: Event, mark: Marker) -> Result<(), (usize, String)> {
        let line = mark.line();
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let is_null =
                    style == TScalarStyle::Plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL");
                let kind = if is_null { NodeKind::Null } else { NodeKind::Scalar(text) };
                self.complete(anchor, Node { line, kind })
            }
            Event::SequenceStart(anchor, _tag) => self.open(Frame::Seq { anchor, line, items: Vec::new() }, line),
            Event::MappingStart(anchor, _tag) => {
                self.open(Frame::Map { anchor, line, entries: Vec::new(), pending_key: None }, line)
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq { anchor, line, items }) => {
                    self.complete(anchor, Node { line, kind: NodeKind::Seq(items) })
                }
                Some(Frame::Map { anchor, line, entries, .. }) => {
                    self.complete(anchor, Node { line, kind: NodeKind::Map(entries) })
                }
                // The parser balances start and end events.
                None => Ok(()),
            },
            Event::Alias(id) => {
                let node =
                    self.anchors.get(&id).cloned().ok_or_else(|| (line, "an alias to an unknown anchor".to_owned()))?;
                self.count(node.size(), line)?;
                self.attach(node)
            }
            _ => Ok(()),
        }
    }

    fn open(&mut self, frame: Frame, line: usize) -> Result<(), (usize, String)> {
        if self.stack.len() >= MAX_YAML_DEPTH {
            return Err((line, format!("nested deeper than {MAX_YAML_DEPTH} levels")));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn complete(&mut self, anchor: usize, node: Node) -> Result<(), (usize, String)> {
        self.count(1, node.line)?;
        // Anchor ids start at 1; 0 means none.
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.attach(node)
    }

    fn count(&mut self, nodes: usize, line: usize) -> Result<(), (usize, String)> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_YAML_NODES {
            return Err((line, format!("more than {MAX_YAML_NODES} values once aliases are expanded")));
        }
        Ok(())
    }

    fn attach(&mut self, node: Node) -> Result<(), (usize, String)> {
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, pending_key, .. }) => match pending_key.take() {
                None => match node.kind {
                    NodeKind::Scalar(key) => *pending_key = Some((key, node.line)),
                    _ => return Err((node.line, "a mapping key must be a string".to_owned())),
                },
                Some((key, key_line)) => {
                    if entries.iter().any(|e| e.key == key) {
                        return Err((key_line, format!("duplicate key `{key}`")));
                    }
                    entries.push(Entry { key, value: node });
                }
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Environment variables for one case.
    type Env = &'static [(&'static str, &'static str)];

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "botanu-config-test-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }

        fn write(&self, relative: &str, text: &str) -> PathBuf {
            let path = self.0.join(relative);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create parent");
            }
            std::fs::write(&path, text).expect("write file");
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn source(dir: &TempDir, env: &[(&str, &str)]) -> ConfigSource {
        let map = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ConfigSource::from_env_map(map).with_search_dir(dir.path())
    }

    fn load(dir: &TempDir, env: &[(&str, &str)]) -> Result<(Config, Vec<String>), ConfigError> {
        Config::load_from(&source(dir, env))
    }

    fn load_ok(dir: &TempDir, env: &[(&str, &str)]) -> Config {
        match load(dir, env) {
            Ok((config, _)) => config,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    /// Loads with `yaml` as `botanu.yaml`; returns the file's path for error assertions.
    fn load_yaml(yaml: &str, env: &[(&str, &str)]) -> (PathBuf, Result<(Config, Vec<String>), ConfigError>) {
        let dir = TempDir::new();
        let path = dir.write("botanu.yaml", yaml);
        let result = load(&dir, env);
        (path, result)
    }

    fn load_yaml_ok(yaml: &str, env: &[(&str, &str)]) -> (Config, Vec<String>) {
        match load_yaml(yaml, env).1 {
            Ok(loaded) => loaded,
            Err(e) => panic!("unexpected error for {yaml:?}: {e}"),
        }
    }

    // === precedence ===

    /// One field through the four layers: default, YAML, env over YAML, code over env.
    struct Field {
        name: &'static str,
        get: fn(&Config) -> String,
        default: &'static str,
        /// `(file text, expected)`; `None` for a field without a YAML key.
        yaml: Option<(&'static str, &'static str)>,
        /// Empty for a field without an environment variable.
        env: Env,
        env_expected: &'static str,
        code: fn(Config) -> Config,
        code_expected: &'static str,
    }

    #[test]
    fn every_field_follows_code_over_env_over_yaml_over_default() {
        let fields = [
            Field {
                name: "service_name",
                get: |c| c.service_name.clone(),
                default: "unknown_service",
                yaml: Some(("service:\n  name: from-yaml\n", "from-yaml")),
                env: &[("BOTANU_SERVICE_NAME", "from-env")],
                env_expected: "from-env",
                code: |c| c.with_service_name("from-code"),
                code_expected: "from-code",
            },
            Field {
                name: "service_version",
                get: |c| format!("{:?}", c.service_version),
                default: "None",
                yaml: Some(("service:\n  version: 1.0.0\n", r#"Some("1.0.0")"#)),
                env: &[("OTEL_SERVICE_VERSION", "2.0.0")],
                env_expected: r#"Some("2.0.0")"#,
                code: |c| c.with_service_version("3.0.0"),
                code_expected: r#"Some("3.0.0")"#,
            },
            Field {
                name: "service_namespace",
                get: |c| format!("{:?}", c.service_namespace),
                default: "None",
                yaml: Some(("service:\n  namespace: shop\n", r#"Some("shop")"#)),
                env: &[("OTEL_SERVICE_NAMESPACE", "billing")],
                env_expected: r#"Some("billing")"#,
                code: |c| c.with_service_namespace("search"),
                code_expected: r#"Some("search")"#,
            },
            Field {
                name: "environment",
                get: |c| c.environment.clone(),
                default: "production",
                yaml: Some(("service:\n  environment: staging\n", "staging")),
                env: &[("BOTANU_ENVIRONMENT", "dev")],
                env_expected: "dev",
                code: |c| c.with_environment("test"),
                code_expected: "test",
            },
            Field {
                name: "traces endpoint",
                get: |c| format!("{:?}", c.traces_url()),
                default: "None",
                yaml: Some(("otlp:\n  endpoint: http://yaml:4318\n", r#"Some("http://yaml:4318/v1/traces")"#)),
                env: &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318")],
                env_expected: r#"Some("http://env:4318/v1/traces")"#,
                code: |c| c.with_endpoint("http://code:4318"),
                code_expected: r#"Some("http://code:4318/v1/traces")"#,
            },
            Field {
                name: "metrics endpoint",
                get: |c| format!("{:?}", c.metrics_url()),
                default: "None",
                yaml: Some(("otlp:\n  endpoint: http://yaml:4318\n", r#"Some("http://yaml:4318/v1/metrics")"#)),
                env: &[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://env:4318/m")],
                env_expected: r#"Some("http://env:4318/m")"#,
                code: |c| c.with_metrics_endpoint("http://code/m"),
                code_expected: r#"Some("http://code/m")"#,
            },
            Field {
                name: "headers",
                get: |c| format!("{:?}", c.headers),
                default: "[]",
                yaml: Some(("otlp:\n  headers:\n    x-team: yaml\n", r#"[("x-team", "yaml")]"#)),
                env: &[("OTEL_EXPORTER_OTLP_HEADERS", "x-team=env")],
                env_expected: r#"[("x-team", "env")]"#,
                code: |c| c.with_header("X-Team", "code"),
                code_expected: r#"[("X-Team", "code")]"#,
            },
            Field {
                name: "api_key",
                get: |c| format!("{:?}", c.api_key),
                default: "None",
                yaml: None,
                env: &[("BOTANU_API_KEY", "env-key")],
                env_expected: r#"Some("env-key")"#,
                code: |c| c.with_api_key("code-key"),
                code_expected: r#"Some("code-key")"#,
            },
            Field {
                name: "protocol",
                get: |c| format!("{:?}", c.protocol),
                default: "HttpProtobuf",
                yaml: Some(("otlp:\n  protocol: grpc\n", "Grpc")),
                env: &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")],
                env_expected: "HttpProtobuf",
                code: |c| c.with_protocol(Protocol::Grpc),
                code_expected: "Grpc",
            },
            Field {
                name: "batch_size",
                get: |c| c.batch_size.to_string(),
                default: "512",
                yaml: Some(("export:\n  batch_size: 100\n", "100")),
                env: &[("BOTANU_MAX_EXPORT_BATCH_SIZE", "200")],
                env_expected: "200",
                code: |c| c.with_batch_size(300),
                code_expected: "300",
            },
            Field {
                name: "queue_size",
                get: |c| c.queue_size.to_string(),
                default: "65536",
                yaml: Some(("export:\n  queue_size: 1000\n", "1000")),
                env: &[("BOTANU_MAX_QUEUE_SIZE", "2000")],
                env_expected: "2000",
                code: |c| c.with_queue_size(3000),
                code_expected: "3000",
            },
            Field {
                name: "schedule_delay",
                get: |c| format!("{:?}", c.schedule_delay),
                default: "5s",
                yaml: Some(("export:\n  delay_ms: 100\n", "100ms")),
                env: &[("BOTANU_SCHEDULE_DELAY_MILLIS", "200")],
                env_expected: "200ms",
                code: |c| c.with_schedule_delay(Duration::from_millis(300)),
                code_expected: "300ms",
            },
            Field {
                name: "export_timeout",
                get: |c| format!("{:?}", c.export_timeout),
                default: "30s",
                yaml: Some(("export:\n  export_timeout_ms: 1000\n", "1s")),
                env: &[("BOTANU_EXPORT_TIMEOUT_MILLIS", "2000")],
                env_expected: "2s",
                code: |c| c.with_export_timeout(Duration::from_secs(3)),
                code_expected: "3s",
            },
            Field {
                name: "metric_export_interval",
                get: |c| format!("{:?}", c.metric_export_interval),
                default: "60s",
                yaml: Some(("export:\n  metric_interval_ms: 1000\n", "1s")),
                env: &[("OTEL_METRIC_EXPORT_INTERVAL", "2000")],
                env_expected: "2s",
                code: |c| c.with_metric_export_interval(Duration::from_secs(3)),
                code_expected: "3s",
            },
            Field {
                name: "export_all_spans",
                get: |c| c.export_all_spans.to_string(),
                default: "false",
                yaml: Some(("export:\n  all_spans: yes\n", "true")),
                env: &[("BOTANU_EXPORT_ALL_SPANS", "0")],
                env_expected: "false",
                code: |c| c.with_export_all_spans(true),
                code_expected: "true",
            },
            Field {
                name: "content_capture_rate",
                get: |c| format!("{:?}", c.content_capture_rate),
                default: "0.0",
                yaml: Some(("eval:\n  content_capture_rate: 0.5\n", "0.5")),
                env: &[("BOTANU_CONTENT_CAPTURE_RATE", "0.25")],
                env_expected: "0.25",
                code: |c| c.with_content_capture_rate(0.75),
                code_expected: "0.75",
            },
            Field {
                name: "content_max_chars",
                get: |c| c.content_max_chars.to_string(),
                default: "4096",
                yaml: Some(("eval:\n  max_chars: 100\n", "100")),
                env: &[("BOTANU_CONTENT_MAX_CHARS", "200")],
                env_expected: "200",
                code: |c| c.with_content_max_chars(300),
                code_expected: "300",
            },
            Field {
                name: "pii.enabled",
                get: |c| c.pii.enabled.to_string(),
                default: "true",
                yaml: Some(("eval:\n  pii:\n    enabled: false\n", "false")),
                env: &[("BOTANU_PII_SCRUB_ENABLED", "yes")],
                env_expected: "true",
                code: |c| c.with_pii_enabled(false),
                code_expected: "false",
            },
            Field {
                name: "pii.disable_patterns",
                get: |c| format!("{:?}", c.pii.disable_patterns),
                default: "[]",
                yaml: Some(("eval:\n  pii:\n    disable_patterns: [email, Phone]\n", r#"["email", "phone"]"#)),
                env: &[("BOTANU_PII_SCRUB_DISABLE_PATTERNS", "ipv4, ipv6,")],
                env_expected: r#"["ipv4", "ipv6"]"#,
                code: |c| c.with_pii_disable_patterns(["ssn"]),
                code_expected: r#"["ssn"]"#,
            },
            Field {
                name: "pii.custom_patterns",
                get: |c| format!("{:?}", c.pii.custom_patterns),
                default: "[]",
                yaml: Some((
                    "eval:\n  pii:\n    custom_patterns:\n      order_id: 'ORD-\\d+'\n",
                    r#"[("order_id", "ORD-\\d+")]"#,
                )),
                env: &[],
                env_expected: r#"[("order_id", "ORD-\\d+")]"#,
                code: |c| c.with_pii_custom_pattern("order_id", "O-\\d+"),
                code_expected: r#"[("order_id", "O-\\d+")]"#,
            },
            Field {
                name: "pii.replacement",
                get: |c| c.pii.replacement.clone(),
                default: "[REDACTED]",
                yaml: Some(("eval:\n  pii:\n    replacement: '<pii>'\n", "<pii>")),
                env: &[("BOTANU_PII_SCRUB_REPLACEMENT", "***")],
                env_expected: "***",
                code: |c| c.with_pii_replacement("#"),
                code_expected: "#",
            },
            Field {
                name: "propagation_mode",
                get: |c| format!("{:?}", c.propagation_mode),
                default: "Lean",
                yaml: Some(("propagation:\n  mode: FULL\n", "Full")),
                env: &[("BOTANU_PROPAGATION_MODE", "lean")],
                env_expected: "Lean",
                code: |c| c.with_propagation_mode(PropagationMode::Full),
                code_expected: "Full",
            },
            Field {
                name: "max_events_per_span",
                get: |c| c.max_events_per_span.to_string(),
                default: "128",
                yaml: Some(("export:\n  max_events_per_span: 64\n", "64")),
                env: &[("BOTANU_MAX_EVENTS_PER_SPAN", "32")],
                env_expected: "32",
                code: |c| c.with_max_events_per_span(8),
                code_expected: "8",
            },
            Field {
                name: "propagation_trust_inbound",
                get: |c| c.propagation_trust_inbound.to_string(),
                default: "false",
                yaml: Some(("propagation:\n  trust_inbound: yes\n", "true")),
                env: &[("BOTANU_PROPAGATION_TRUST_INBOUND", "0")],
                env_expected: "false",
                code: |c| c.with_propagation_trust_inbound(true),
                code_expected: "true",
            },
            Field {
                name: "traces_exporter",
                get: |c| format!("{:?}", c.traces_exporter),
                default: "Console",
                yaml: None,
                env: &[("OTEL_TRACES_EXPORTER", "none")],
                env_expected: "None",
                code: |c| c.with_traces_exporter(TracesExporter::Otlp),
                code_expected: "Otlp",
            },
            Field {
                name: "sdk_disabled",
                get: |c| c.sdk_disabled.to_string(),
                default: "false",
                yaml: None,
                env: &[("OTEL_SDK_DISABLED", "true")],
                env_expected: "true",
                code: |c| c.with_sdk_disabled(false),
                code_expected: "false",
            },
            Field {
                name: "resource_attributes",
                get: |c| format!("{:?}", c.resource_attributes),
                default: "[]",
                yaml: None,
                env: &[("OTEL_RESOURCE_ATTRIBUTES", "team=env,service.name=x")],
                env_expected: r#"[("team", "env")]"#,
                code: |c| c.with_resource_attribute("team", "code"),
                code_expected: r#"[("team", "code")]"#,
            },
        ];
        for field in &fields {
            let dir = TempDir::new();
            let name = field.name;
            assert_eq!((field.get)(&load_ok(&dir, &[])), field.default, "{name}: default");
            if let Some((yaml, expected)) = field.yaml {
                dir.write("botanu.yaml", yaml);
                assert_eq!((field.get)(&load_ok(&dir, &[])), expected, "{name}: yaml");
            }
            let from_env = load_ok(&dir, field.env);
            assert_eq!((field.get)(&from_env), field.env_expected, "{name}: env over yaml");
            let from_code = (field.code)(from_env);
            assert_eq!((field.get)(&from_code), field.code_expected, "{name}: code over env");
        }
    }

    #[test]
    fn where_two_variables_feed_a_field_the_first_listed_wins() {
        type Get = fn(&Config) -> String;
        let service: Get = |c| c.service_name.clone();
        let environment: Get = |c| c.environment.clone();
        let traces: Get = |c| format!("{:?}", c.traces_url());
        let metrics: Get = |c| format!("{:?}", c.metrics_url());
        let cases: &[(&str, Env, Get, &str)] = &[
            (
                "BOTANU_SERVICE_NAME over OTEL_SERVICE_NAME",
                &[("BOTANU_SERVICE_NAME", "b"), ("OTEL_SERVICE_NAME", "o")],
                service,
                "b",
            ),
            (
                "OTEL_SERVICE_NAME over service.name in OTEL_RESOURCE_ATTRIBUTES",
                &[("OTEL_SERVICE_NAME", "o"), ("OTEL_RESOURCE_ATTRIBUTES", "service.name=r")],
                service,
                "o",
            ),
            (
                "service.name in OTEL_RESOURCE_ATTRIBUTES alone",
                &[("OTEL_RESOURCE_ATTRIBUTES", "service.name=r")],
                service,
                "r",
            ),
            (
                "an empty BOTANU_SERVICE_NAME counts as unset",
                &[("BOTANU_SERVICE_NAME", "  "), ("OTEL_SERVICE_NAME", "o")],
                service,
                "o",
            ),
            (
                "BOTANU_ENVIRONMENT over OTEL_DEPLOYMENT_ENVIRONMENT",
                &[("BOTANU_ENVIRONMENT", "b"), ("OTEL_DEPLOYMENT_ENVIRONMENT", "o")],
                environment,
                "b",
            ),
            (
                "OTEL_DEPLOYMENT_ENVIRONMENT over resource attributes",
                &[("OTEL_DEPLOYMENT_ENVIRONMENT", "o"), ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=r")],
                environment,
                "o",
            ),
            (
                "deployment.environment.name over deployment.environment",
                &[("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=old,deployment.environment.name=new")],
                environment,
                "new",
            ),
            (
                "BOTANU_COLLECTOR_ENDPOINT (base) over OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                &[
                    ("BOTANU_COLLECTOR_ENDPOINT", "http://b:4318"),
                    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:4318/t"),
                ],
                traces,
                r#"Some("http://b:4318/v1/traces")"#,
            ),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (as is) over OTEL_EXPORTER_OTLP_ENDPOINT",
                &[
                    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:4318/t"),
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"),
                ],
                traces,
                r#"Some("http://t:4318/t")"#,
            ),
            (
                "metrics keep the base endpoint when only traces have their own",
                &[
                    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:4318/t"),
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"),
                ],
                metrics,
                r#"Some("http://base:4318/v1/metrics")"#,
            ),
            (
                "BOTANU_MAX_EXPORT_BATCH_SIZE over OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                &[("BOTANU_MAX_EXPORT_BATCH_SIZE", "10"), ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "20")],
                |c| c.batch_size.to_string(),
                "10",
            ),
            ("OTEL_BSP_MAX_QUEUE_SIZE alone", &[("OTEL_BSP_MAX_QUEUE_SIZE", "20")], |c| c.queue_size.to_string(), "20"),
            (
                "BOTANU_SCHEDULE_DELAY_MILLIS over OTEL_BSP_SCHEDULE_DELAY",
                &[("BOTANU_SCHEDULE_DELAY_MILLIS", "10"), ("OTEL_BSP_SCHEDULE_DELAY", "20")],
                |c| format!("{:?}", c.schedule_delay),
                "10ms",
            ),
            (
                "BOTANU_EXPORT_TIMEOUT_MILLIS over OTEL_BSP_EXPORT_TIMEOUT",
                &[("BOTANU_EXPORT_TIMEOUT_MILLIS", "10"), ("OTEL_BSP_EXPORT_TIMEOUT", "20")],
                |c| format!("{:?}", c.export_timeout),
                "10ms",
            ),
            (
                "OTEL_SDK_DISABLED over OTEL_TRACES_EXPORTER",
                &[("OTEL_SDK_DISABLED", "TRUE"), ("OTEL_TRACES_EXPORTER", "otlp")],
                |c| format!("{:?}", c.traces_exporter),
                "None",
            ),
        ];
        for (name, env, get, expected) in cases {
            let dir = TempDir::new();
            assert_eq!(get(&load_ok(&dir, env)), *expected, "{name}");
        }
    }

    #[test]
    fn endpoint_kind_records_where_the_endpoint_came_from() {
        let cases: &[(Env, Option<&str>, EndpointKind)] = &[
            (&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t/x")], None, EndpointKind::Signal),
            (&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://b")], None, EndpointKind::Base),
            (&[("BOTANU_COLLECTOR_ENDPOINT", "http://b")], None, EndpointKind::Base),
            (&[], Some("otlp:\n  endpoint: http://y\n"), EndpointKind::Base),
        ];
        for (env, yaml, kind) in cases {
            let dir = TempDir::new();
            if let Some(yaml) = yaml {
                dir.write("botanu.yaml", yaml);
            }
            let config = load_ok(&dir, env);
            assert_eq!(config.traces_endpoint.map(|e| e.kind), Some(*kind), "{env:?}");
        }
    }

    #[test]
    fn traces_exporter_follows_the_endpoint_until_chosen() {
        let dir = TempDir::new();
        let endpoint = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")];
        assert_eq!(load_ok(&dir, &endpoint).traces_exporter, TracesExporter::Otlp);
        assert_eq!(load_ok(&dir, &[]).traces_exporter, TracesExporter::Console);
        let console = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_TRACES_EXPORTER", "Console")];
        assert_eq!(load_ok(&dir, &console).traces_exporter, TracesExporter::Console);
        // An endpoint set in code switches a derived exporter, not a chosen one.
        assert_eq!(load_ok(&dir, &[]).with_endpoint("http://c").traces_exporter, TracesExporter::Otlp);
        assert_eq!(
            Config::default().with_traces_exporter(TracesExporter::Console).with_endpoint("http://c").traces_exporter,
            TracesExporter::Console
        );
        let disabled =
            load_ok(&dir, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_SDK_DISABLED", "true")]);
        assert_eq!(disabled.traces_exporter, TracesExporter::None);
        assert!(disabled.sdk_disabled);
        assert_eq!(disabled.metrics_url(), None);
    }

    #[test]
    fn resource_attributes_are_percent_decoded_and_dedicated_keys_are_folded() {
        let dir = TempDir::new();
        let config = load_ok(
            &dir,
            &[(
                "OTEL_RESOURCE_ATTRIBUTES",
                " team = a%20b%2Cc ,service.name=svc,,host.name=h1,service.version=9,\
                 deployment.environment=qa,service.namespace=ns,pct=100%",
            )],
        );
        assert_eq!(
            config.resource_attributes,
            vec![
                ("team".to_owned(), "a b,c".to_owned()),
                ("host.name".to_owned(), "h1".to_owned()),
                ("pct".to_owned(), "100%".to_owned()),
            ]
        );
        assert_eq!(config.service_name, "svc");
        assert_eq!(config.service_version.as_deref(), Some("9"));
        assert_eq!(config.service_namespace.as_deref(), Some("ns"));
        assert_eq!(config.environment, "qa");
    }

    #[test]
    fn headers_are_percent_decoded() {
        let dir = TempDir::new();
        let config = load_ok(&dir, &[("OTEL_EXPORTER_OTLP_HEADERS", "x-note=a%20b%2Cc, x-pct = 100% ")]);
        assert_eq!(
            config.headers,
            vec![("x-note".to_owned(), "a b,c".to_owned()), ("x-pct".to_owned(), "100%".to_owned()),]
        );
    }

    #[test]
    fn booleans_accept_true_false_1_0_yes_no_in_any_case() {
        let cases = [
            ("true", true),
            ("TRUE", true),
            ("1", true),
            ("yes", true),
            (" Yes ", true),
            ("false", false),
            ("False", false),
            ("0", false),
            ("no", false),
            ("NO", false),
        ];
        for (value, expected) in cases {
            let dir = TempDir::new();
            let env = [("BOTANU_EXPORT_ALL_SPANS", value)];
            assert_eq!(load_ok(&dir, &env).export_all_spans, expected, "env {value:?}");
            dir.write("botanu.yaml", &format!("export:\n  all_spans: '{value}'\n"));
            assert_eq!(load_ok(&dir, &[]).export_all_spans, expected, "yaml {value:?}");
        }
    }

    #[test]
    fn yaml_scalar_types_do_not_matter() {
        let (config, warnings) =
            load_yaml_ok("service:\n  name: 123\nexport:\n  batch_size: \"64\"\n  all_spans: true\n", &[]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.service_name, "123");
        assert_eq!(config.batch_size, 64);
        assert!(config.export_all_spans);
    }

    #[test]
    fn empty_files_and_null_sections_mean_defaults() {
        for yaml in ["", "# nothing yet\n", "---\n", "service:\n", "service: ~\notlp:\n  endpoint:\n"] {
            let (config, warnings) = load_yaml_ok(yaml, &[]);
            assert_eq!(config, Config::default(), "{yaml:?}");
            assert!(warnings.is_empty(), "{yaml:?}: {warnings:?}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let (config, _) = load_yaml_ok("\u{feff}service:\n  name: bom\n", &[]);
        assert_eq!(config.service_name, "bom");
    }

    // === interpolation ===

    #[test]
    fn variables_in_yaml_values_are_replaced() {
        let cases: &[(&str, Env, &str)] = &[
            ("${SVC}", &[("SVC", "from-var")], "from-var"),
            ("${SVC:-fallback}", &[], "fallback"),
            ("${SVC:-fallback}", &[("SVC", "")], "fallback"),
            ("${SVC:-fallback}", &[("SVC", "set")], "set"),
            ("${SVC:-}x", &[], "x"),
            ("pre-${SVC}-post", &[("SVC", "mid")], "pre-mid-post"),
            ("${A}${B}", &[("A", "a"), ("B", "b")], "ab"),
            ("$${SVC}", &[("SVC", "x")], "${SVC}"),
            ("cost$5", &[], "cost$5"),
            ("ends with $", &[], "ends with $"),
            // Substituted text is not scanned again and cannot change the YAML structure.
            ("${SVC}", &[("SVC", "${OTHER}")], "${OTHER}"),
            ("${SVC}", &[("SVC", "a: b # c\nd: e")], "a: b # c\nd: e"),
        ];
        for (value, env, expected) in cases {
            let yaml = format!("# ${{NOT_SET_BUT_IN_A_COMMENT}}\nservice:\n  name: '{value}'\n");
            let (config, _) = load_yaml_ok(&yaml, env);
            assert_eq!(config.service_name, *expected, "{value:?} with {env:?}");
        }
    }

    #[test]
    fn environment_values_are_not_interpolated() {
        let dir = TempDir::new();
        let config = load_ok(&dir, &[("BOTANU_SERVICE_NAME", "${X}"), ("X", "no")]);
        assert_eq!(config.service_name, "${X}");
    }

    #[test]
    fn an_unset_variable_without_default_names_the_variable_file_and_line() {
        let (path, result) = load_yaml("service:\n  name: x\notlp:\n  endpoint: ${MISSING_VAR}\n", &[]);
        match result {
            Err(err @ ConfigError::UnsetVariable { .. }) => {
                let message = err.to_string();
                assert!(message.contains("MISSING_VAR"), "{message}");
                assert!(message.contains(&path.display().to_string()), "{message}");
                assert!(message.contains("line 4"), "{message}");
                let ConfigError::UnsetVariable { variable, location } = err else { unreachable!() };
                assert_eq!(variable, "MISSING_VAR");
                assert_eq!(location, FileLocation { path, line: 4 });
            }
            other => panic!("expected UnsetVariable, got {other:?}"),
        }
    }

    #[test]
    fn a_malformed_reference_is_an_invalid_value() {
        for value in ["${UNCLOSED", "${1BAD}", "${}", "${A B}"] {
            let (_, result) = load_yaml(&format!("service:\n  name: '{value}'\n"), &[]);
            match result {
                Err(ConfigError::InvalidValue { key, location, .. }) => {
                    assert_eq!(key, "service.name", "{value}");
                    assert_eq!(location.map(|l| l.line), Some(2), "{value}");
                }
                other => panic!("{value}: expected InvalidValue, got {other:?}"),
            }
        }
    }

    // === the file ===

    #[test]
    fn the_first_existing_file_in_search_order_is_read() {
        let all = ["botanu.yaml", "botanu.yml", "config/botanu.yaml", "config/botanu.yml"];
        let cases: &[(&[&str], &str)] = &[
            (&all, "botanu.yaml"),
            (&all[1..], "botanu.yml"),
            (&all[2..], "config/botanu.yaml"),
            (&all[3..], "config/botanu.yml"),
            (&["config/botanu.yml", "botanu.yml"], "botanu.yml"),
            (&["other.yaml", "config.yaml"], "unknown_service"),
            (&[], "unknown_service"),
        ];
        for (files, expected) in cases {
            let dir = TempDir::new();
            for file in *files {
                dir.write(file, &format!("service:\n  name: {file}\n"));
            }
            assert_eq!(load_ok(&dir, &[]).service_name, *expected, "{files:?}");
        }
    }

    #[test]
    fn a_directory_named_like_a_config_file_is_skipped() {
        let dir = TempDir::new();
        std::fs::create_dir_all(dir.path().join("botanu.yaml")).expect("mkdir");
        dir.write("botanu.yml", "service:\n  name: yml\n");
        assert_eq!(load_ok(&dir, &[]).service_name, "yml");
    }

    #[test]
    fn explicit_file_beats_botanu_config_file_beats_search() {
        let dir = TempDir::new();
        dir.write("botanu.yaml", "service:\n  name: searched\n");
        dir.write("from-env.yaml", "service:\n  name: from-env\n");
        let explicit = dir.write("sub/explicit.yaml", "service:\n  name: explicit\n");

        let relative = [("BOTANU_CONFIG_FILE", "from-env.yaml")];
        assert_eq!(load_ok(&dir, &relative).service_name, "from-env");
        let absolute_path = dir.path().join("from-env.yaml").display().to_string();
        let absolute = [("BOTANU_CONFIG_FILE", absolute_path.as_str())];
        assert_eq!(load_ok(&dir, &absolute).service_name, "from-env");

        for file in [explicit.clone(), PathBuf::from("sub/explicit.yaml")] {
            let (config, _) = Config::load_from(&source(&dir, &relative).with_file(file)).expect("explicit file loads");
            assert_eq!(config.service_name, "explicit");
        }
    }

    #[test]
    fn a_named_file_that_does_not_exist_is_an_error() {
        let dir = TempDir::new();
        dir.write("botanu.yaml", "service:\n  name: searched\n");

        let err = Config::load_from(&source(&dir, &[]).with_file("nope.yaml")).unwrap_err();
        let missing = dir.path().join("nope.yaml");
        assert!(
            matches!(&err, ConfigError::FileNotFound { path, named_by: "ConfigSource::with_file" } if *path == missing)
        );
        assert!(err.to_string().contains(&missing.display().to_string()), "{err}");

        let err = load(&dir, &[("BOTANU_CONFIG_FILE", "gone.yaml")]).unwrap_err();
        assert!(matches!(&err, ConfigError::FileNotFound { named_by: "BOTANU_CONFIG_FILE", .. }));
        assert!(err.to_string().contains("gone.yaml"), "{err}");
        assert!(err.to_string().contains("BOTANU_CONFIG_FILE"), "{err}");
    }

    #[test]
    fn an_unreadable_named_file_is_an_error_naming_it() {
        let dir = TempDir::new();
        let not_a_file = dir.path().join("a-directory.yaml");
        std::fs::create_dir_all(&not_a_file).expect("mkdir");
        let not_utf8 = dir.path().join("latin1.yaml");
        std::fs::write(&not_utf8, b"service:\n  name: caf\xe9\n").expect("write");
        for path in [not_a_file, not_utf8] {
            let err = Config::load_from(&source(&dir, &[]).with_file(&path)).unwrap_err();
            assert!(matches!(&err, ConfigError::Read { .. }), "{err:?}");
            assert!(err.to_string().contains(&path.display().to_string()), "{err}");
        }
    }

    #[test]
    fn an_oversized_file_is_refused() {
        let big = format!("# {}\n", "x".repeat(MAX_FILE_BYTES as usize));
        let (_, result) = load_yaml(&big, &[]);
        assert!(matches!(result, Err(ConfigError::FileTooLarge { .. })), "{result:?}");
    }

    #[test]
    fn yaml_errors_name_the_file_and_the_line() {
        let deep = format!("{}{}\n", "[".repeat(40), "]".repeat(40));
        let ten = |item: &str| [item; 10].join(", ");
        let alias_bomb = format!(
            "a: &a [{}]\nb: &b [{}]\nc: &c [{}]\nd: &d [{}]\ne: [{}]\n",
            ten("x"),
            ten("*a"),
            ten("*b"),
            ten("*c"),
            ten("*d")
        );
        let cases: Vec<(&str, String, usize)> = vec![
            ("unclosed flow list", "service:\n  name: a\notlp: [1, 2\nexport: {}\n".into(), 4),
            ("bad indentation", "service:\n  name: a\n   bad: b\n".into(), 3),
            ("mapping in a plain scalar", "service:\n  name: a: b\n".into(), 2),
            ("unterminated quote", "service:\n  name: a\n  version: 'x\n".into(), 3),
            ("duplicate key", "service:\n  name: a\n  name: b\n".into(), 3),
            ("two documents", "service: {}\n---\nservice: {}\n".into(), 3),
            ("not a mapping", "- a\n- b\n".into(), 1),
            ("nested too deep", deep, 1),
            ("alias expansion", alias_bomb, 5),
        ];
        for (name, yaml, line) in cases {
            let (path, result) = load_yaml(&yaml, &[]);
            match result {
                Err(err @ ConfigError::Yaml { .. }) => {
                    let message = err.to_string();
                    assert!(message.contains(&path.display().to_string()), "{name}: {message}");
                    assert!(message.contains(&format!("line {line}")), "{name}: {message}");
                }
                other => panic!("{name}: expected a YAML error, got {other:?}"),
            }
        }
    }

    // === invalid values ===

    #[test]
    fn invalid_environment_values_name_key_value_and_expectation() {
        let cases: &[(&str, &str, &str, &str)] = &[
            ("BOTANU_MAX_EXPORT_BATCH_SIZE", "abc", "abc", "whole number greater than 0"),
            ("BOTANU_MAX_QUEUE_SIZE", "0", "0", "whole number greater than 0"),
            ("BOTANU_CONTENT_MAX_CHARS", "-1", "-1", "whole number greater than 0"),
            ("BOTANU_SCHEDULE_DELAY_MILLIS", "1.5", "1.5", "milliseconds"),
            ("BOTANU_EXPORT_TIMEOUT_MILLIS", "30s", "30s", "milliseconds"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "0", "0", "milliseconds"),
            ("BOTANU_EXPORT_ALL_SPANS", "maybe", "maybe", "true, false, 1, 0, yes or no"),
            ("BOTANU_PII_SCRUB_ENABLED", "on", "on", "true, false, 1, 0, yes or no"),
            ("OTEL_SDK_DISABLED", "disabled", "disabled", "true, false"),
            ("BOTANU_CONTENT_CAPTURE_RATE", "half", "half", "between 0.0 and 1.0"),
            ("BOTANU_CONTENT_CAPTURE_RATE", "NaN", "NaN", "between 0.0 and 1.0"),
            ("BOTANU_CONTENT_CAPTURE_RATE", "nan", "nan", "between 0.0 and 1.0"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "http/json", "http/json is not supported"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift", "thrift", "http/protobuf or grpc"),
            ("OTEL_TRACES_EXPORTER", "jaeger", "jaeger", "otlp, console or none"),
            ("OTEL_TRACES_EXPORTER", "otlp,console", "otlp,console", "otlp, console or none"),
            ("BOTANU_PROPAGATION_MODE", "everything", "everything", "lean or full"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", "localhost:4318", "http:// or https://"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://h", "ftp://h", "http:// or https://"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://", "http://", "http:// or https://"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:port", "http://h:port", "http:// or https://"),
            ("BOTANU_COLLECTOR_ENDPOINT", "http://h 1", "http://h 1", "http:// or https://"),
            ("OTEL_RESOURCE_ATTRIBUTES", "a=1,broken", "a=1,broken", "entry 2 has no '='"),
            ("OTEL_RESOURCE_ATTRIBUTES", "=v", "=v", "entry 1 has an empty key"),
            ("OTEL_RESOURCE_ATTRIBUTES", "k=%FF", "k=%FF", "not UTF-8"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-a=1,x-b", REDACTED, "entry 2 has no '='"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "bad name=x", REDACTED, "header names"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x=a%0D%0Ab", REDACTED, "control characters"),
        ];
        for (variable, value, shown, expected_part) in cases {
            let dir = TempDir::new();
            let err = load(&dir, &[(variable, value)]).unwrap_err();
            let message = err.to_string();
            match err {
                ConfigError::InvalidValue { key, value: got, expected, location: None } => {
                    assert_eq!(key, *variable, "{variable}={value}");
                    assert_eq!(got, *shown, "{variable}={value}");
                    assert!(expected.contains(expected_part), "{variable}={value}: {expected}");
                    assert!(message.contains(variable), "{message}");
                    assert!(message.contains(shown), "{message}");
                }
                other => panic!("{variable}={value}: expected InvalidValue, got {other:?}"),
            }
        }
    }

    #[test]
    fn invalid_yaml_values_name_path_value_file_and_line() {
        let cases: &[(&str, &str, &str, usize, &str)] = &[
            ("export:\n  batch_size: many\n", "export.batch_size", "many", 2, "whole number"),
            ("eval:\n  content_capture_rate: NaN\n", "eval.content_capture_rate", "NaN", 2, "between 0.0 and 1.0"),
            ("otlp:\n  protocol: http/json\n", "otlp.protocol", "http/json", 2, "not supported"),
            ("export:\n  all_spans: sometimes\n", "export.all_spans", "sometimes", 2, "yes or no"),
            ("propagation:\n  mode: [lean]\n", "propagation.mode", "<list>", 2, "a single value"),
            ("service: checkout\n", "service", "checkout", 1, "a mapping of settings"),
            ("service:\n  name: ''\n", "service.name", "", 2, "non-empty"),
            ("otlp:\n  endpoint: 'collector:4318'\n", "otlp.endpoint", "collector:4318", 2, "http://"),
            ("otlp:\n  headers: [a]\n", "otlp.headers", REDACTED, 2, "name: value"),
            ("otlp:\n  headers:\n    x-a: {b: c}\n", "otlp.headers.x-a", REDACTED, 3, "a string value"),
            (
                "otlp:\n  headers:\n    authorization: \"Bearer x\\r\\ny\"\n",
                "otlp.headers.authorization",
                REDACTED,
                3,
                "control characters",
            ),
            (
                "eval:\n  pii:\n    custom_patterns:\n      order: ''\n",
                "eval.pii.custom_patterns.order",
                "",
                4,
                "non-empty regular expression",
            ),
            (
                "eval:\n  pii:\n    disable_patterns:\n      - email\n      - {a: 1}\n",
                "eval.pii.disable_patterns[1]",
                "<mapping>",
                5,
                "a name",
            ),
        ];
        for (yaml, key_expected, value_expected, line, expected_part) in cases {
            let (path, result) = load_yaml(yaml, &[]);
            match result {
                Err(err @ ConfigError::InvalidValue { .. }) => {
                    let message = err.to_string();
                    assert!(message.contains(&path.display().to_string()), "{message}");
                    assert!(message.contains(&format!("line {line}")), "{message}");
                    let ConfigError::InvalidValue { key, value, expected, location } = err else { unreachable!() };
                    assert_eq!(key, *key_expected, "{yaml}");
                    assert_eq!(value, *value_expected, "{yaml}");
                    assert_eq!(location.map(|l| l.line), Some(*line), "{yaml}");
                    assert!(expected.contains(expected_part), "{yaml}: {expected}");
                }
                other => panic!("{yaml}: expected InvalidValue, got {other:?}"),
            }
        }
    }

    // === warnings ===

    #[test]
    fn unknown_keys_are_named_in_one_warning() {
        let yaml = "servce:\n  name: typo\notlp:\n  endpoints: http://x\n  protocol: grpc\n\
                    eval:\n  pii:\n    enable: true\n\"service.name\": dotted\n";
        let (path, result) = load_yaml(yaml, &[]);
        let (config, warnings) = result.expect("unknown keys are not an error");
        assert_eq!(config.protocol, Protocol::Grpc, "known keys still apply");
        assert_eq!(config.service_name, "unknown_service");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let warning = &warnings[0];
        for name in ["servce", "otlp.endpoints", "eval.pii.enable", "service.name"] {
            assert!(warning.contains(name), "{warning}");
        }
        assert!(warning.contains(&path.display().to_string()), "{warning}");
    }

    #[test]
    fn capture_rate_is_clamped_with_a_warning() {
        let cases = [
            ("0", 0.0, false),
            ("1", 1.0, false),
            ("0.5", 0.5, false),
            ("1e-3", 0.001, false),
            ("1.5", 1.0, true),
            ("-0.2", 0.0, true),
            ("inf", 1.0, true),
            ("-infinity", 0.0, true),
        ];
        for (value, expected, warned) in cases {
            let dir = TempDir::new();
            let (config, warnings) = load(&dir, &[("BOTANU_CONTENT_CAPTURE_RATE", value)]).expect("a number loads");
            assert_eq!(config.content_capture_rate, expected, "{value}");
            assert_eq!(!warnings.is_empty(), warned, "{value}: {warnings:?}");
        }
        for (rate, expected) in [(2.0, 1.0), (-1.0, 0.0), (f64::NAN, 0.0), (0.3, 0.3)] {
            let config = Config::default().with_content_capture_rate(rate);
            assert_eq!(config.content_capture_rate, expected, "{rate}");
        }
    }

    #[test]
    fn a_batch_larger_than_the_queue_is_cut_to_the_queue_with_a_warning() {
        let dir = TempDir::new();
        let (config, warnings) =
            load(&dir, &[("BOTANU_MAX_EXPORT_BATCH_SIZE", "1000"), ("BOTANU_MAX_QUEUE_SIZE", "100")]).expect("loads");
        assert_eq!(config.batch_size, 100);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    // === credentials ===

    #[test]
    fn credentials_are_stripped_from_endpoint_urls() {
        let cases = [
            ("http://user:pass@host:4318/path", "http://host:4318/path", true),
            ("https://token@h", "https://h", true),
            ("http://a@b@h/x", "http://h/x", true),
            ("http://u:p@h?q=@y", "http://h?q=@y", true),
            ("user:pass@host:4318", "host:4318", true),
            ("http://h:4318", "http://h:4318", false),
            ("http://h/p@x", "http://h/p@x", false),
            ("http://h#@x", "http://h#@x", false),
        ];
        for (url, expected, stripped) in cases {
            assert_eq!(strip_credentials(url), (expected.to_owned(), stripped), "{url}");
        }

        let password = format!("{}{}", "hunter", "2-not-real");
        let url = format!("http://user:{password}@collector:4318/otel");
        let dir = TempDir::new();
        let (config, warnings) = load(&dir, &[("OTEL_EXPORTER_OTLP_ENDPOINT", url.as_str())]).expect("loads");
        assert_eq!(config.traces_url().as_deref(), Some("http://collector:4318/otel/v1/traces"));
        assert_eq!(warnings.len(), 1, "one warning for both signals: {warnings:?}");
        assert!(warnings[0].contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "{warnings:?}");
        assert!(!warnings[0].contains(&password), "{warnings:?}");

        // A malformed URL's error does not echo the password either.
        let bad = format!("ftp://user:{password}@collector");
        let err = load(&dir, &[("OTEL_EXPORTER_OTLP_ENDPOINT", bad.as_str())]).unwrap_err();
        assert!(!format!("{err} {err:?}").contains(&password), "{err}");

        let from_code = Config::default().with_endpoint(url);
        assert!(!format!("{from_code:?}").contains(&password));
    }

    #[test]
    fn debug_output_never_shows_credentials() {
        let api_key = format!("{}{}", "sk-test-", "0123456789abcdef0123");
        let token = format!("{}{}", "tok-", "9f8e7d6c5b4a");
        let headers =
            format!("Authorization=Bearer%20{token},X-Api-Key={token}-x,botanu-api-key={token}-b,x-team=visible");
        let dir = TempDir::new();
        let config =
            load_ok(&dir, &[("BOTANU_API_KEY", api_key.as_str()), ("OTEL_EXPORTER_OTLP_HEADERS", headers.as_str())])
                .with_header("PROXY-AUTHORIZATION", format!("Basic {token}-p"))
                .with_header("Api-Key", format!("{token}-k"));
        let yaml = format!("otlp:\n  headers:\n    AUTHORIZATION: Bearer {token}\n");
        let (from_yaml, _) = load_yaml_ok(&yaml, &[]);
        let source = source(&dir, &[("BOTANU_API_KEY", api_key.as_str())]);

        for shown in [format!("{config:?}"), format!("{config:#?}"), format!("{from_yaml:?}"), format!("{source:?}")] {
            assert!(!shown.contains(&api_key), "{shown}");
            assert!(!shown.contains(&token), "{shown}");
        }
        let shown = format!("{config:?}");
        assert!(shown.contains("[redacted]"), "{shown}");
        assert!(shown.contains("visible"), "{shown}");
        assert_eq!(config.api_key.as_deref(), Some(api_key.as_str()), "the value itself is kept");
    }

    #[test]
    fn api_key_is_only_sent_to_loopback_and_botanu_ai() {
        let cases = [
            ("http://localhost:4318", true),
            ("http://LOCALHOST:4318/", true),
            ("http://localhost./v1/traces", true),
            ("http://127.0.0.1:4318", true),
            ("http://127.1.2.3", true),
            ("http://[::1]:4317", true),
            ("http://[::ffff:127.0.0.1]:4318", true),
            ("https://botanu.ai", true),
            ("https://ingest.botanu.ai/v1/traces", true),
            ("https://a.b.botanu.ai:443", true),
            ("HTTPS://Ingest.BOTANU.AI.", true),
            ("http://ingest.botanu.ai", false),
            ("https://evilbotanu.ai", false),
            ("https://botanu.ai.evil.com", false),
            ("https://botanu.ai@evil.com", false),
            ("https://evil.com\\@botanu.ai", false),
            ("https://evil.com#.botanu.ai", false),
            ("https://evil.com?.botanu.ai", false),
            ("https://evil.com/.botanu.ai", false),
            ("https://ingest..botanu.ai", false),
            ("https://botanu.ai:abc", false),
            ("http://localhost.evil.com", false),
            ("http://127.0.0.1.nip.io", false),
            ("http://128.0.0.1", false),
            ("http://0.0.0.0:4318", false),
            ("http://[::2]", false),
            ("http://[fe80::1%25lo]", false),
            ("localhost:4318", false),
            ("ftp://localhost", false),
            ("", false),
        ];
        for (url, allowed) in cases {
            assert_eq!(api_key_allowed(url), allowed, "{url}");
        }
    }

    #[test]
    fn auth_header_is_withheld_from_untrusted_hosts() {
        let key = format!("{}{}", "bk-", "test-0000");
        let bearer = Some(("Authorization".to_owned(), format!("Bearer {key}")));
        let with_key = || Config::default().with_api_key(key.clone());

        assert_eq!(Config::default().auth_header(), Ok(None), "no key");
        assert_eq!(with_key().auth_header(), Ok(None), "console: nothing exported");
        assert_eq!(with_key().with_endpoint("http://127.0.0.1:4318").auth_header(), Ok(bearer.clone()));
        assert_eq!(
            with_key().with_traces_exporter(TracesExporter::Otlp).auth_header(),
            Ok(bearer.clone()),
            "the OpenTelemetry default endpoint is localhost"
        );
        assert_eq!(
            with_key().with_endpoint("https://evil.example").with_header("authorization", "Bearer mine").auth_header(),
            Ok(None),
            "an explicit Authorization header wins"
        );

        let err = with_key().with_endpoint("https://evil.example").auth_header().unwrap_err();
        assert_eq!(err.url, "https://evil.example/v1/traces");
        assert!(!err.to_string().contains(&key), "{err}");

        let mixed =
            with_key().with_endpoint("https://ingest.botanu.ai").with_metrics_endpoint("https://metrics.example/m");
        assert_eq!(
            mixed.auth_header().map_err(|e| e.url),
            Err("https://metrics.example/m".to_owned()),
            "every export URL must be trusted"
        );
    }

    // === URLs ===

    #[test]
    fn signal_paths_are_joined_onto_base_endpoints() {
        let cases = [
            ("http://h:4318", "http://h:4318/v1/traces"),
            ("http://h:4318/", "http://h:4318/v1/traces"),
            ("http://h:4318//", "http://h:4318/v1/traces"),
            ("http://h/otel", "http://h/otel/v1/traces"),
            ("http://h/otel/", "http://h/otel/v1/traces"),
            ("https://h/otel?x=1", "https://h/otel/v1/traces?x=1"),
        ];
        for (base, expected) in cases {
            assert_eq!(join_signal_path(base, TRACES_PATH), expected, "{base}");
        }
    }

    #[test]
    fn export_urls_depend_on_protocol_and_endpoint_kind() {
        let http = Config::default();
        let grpc = Config::default().with_protocol(Protocol::Grpc);
        let cases: Vec<(&str, Config, Option<&str>, Option<&str>)> = vec![
            (
                "http base",
                http.clone().with_endpoint("http://h:4318"),
                Some("http://h:4318/v1/traces"),
                Some("http://h:4318/v1/metrics"),
            ),
            (
                "http signal",
                http.clone().with_traces_endpoint("http://h:4318/t").with_metrics_endpoint("http://h:4318/m"),
                Some("http://h:4318/t"),
                Some("http://h:4318/m"),
            ),
            ("grpc base", grpc.clone().with_endpoint("http://h:4317"), Some("http://h:4317"), Some("http://h:4317")),
            (
                "grpc signal",
                grpc.clone().with_traces_endpoint("http://h:4317/x"),
                Some("http://h:4317/x"),
                Some("http://localhost:4317"),
            ),
            (
                "otlp chosen, no endpoint, http",
                http.clone().with_traces_exporter(TracesExporter::Otlp),
                Some("http://localhost:4318/v1/traces"),
                Some("http://localhost:4318/v1/metrics"),
            ),
            (
                "otlp chosen, no endpoint, grpc",
                grpc.clone().with_traces_exporter(TracesExporter::Otlp),
                Some("http://localhost:4317"),
                Some("http://localhost:4317"),
            ),
            ("console, no endpoint", http.clone(), None, None),
            (
                "sdk disabled",
                http.clone().with_endpoint("http://h").with_sdk_disabled(true),
                Some("http://h/v1/traces"),
                None,
            ),
        ];
        for (name, config, traces, metrics) in cases {
            assert_eq!(config.traces_url().as_deref(), traces, "{name}: traces");
            assert_eq!(config.metrics_url().as_deref(), metrics, "{name}: metrics");
        }
    }
}
