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
//!   The same holds for price overrides: `BOTANU_PRICE_OVERRIDES` replaces `pricing.overrides`, and
//!   [`Config::with_price_override`] adds one override that wins over both for its target.
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
//! | `*_otlp.tls.roots` | `BOTANU_TLS_ROOTS` (`system`, `webpki`, `none`) | `otlp.tls.roots` | `system` |
//! | `*_otlp.tls.ca_file` | `OTEL_EXPORTER_OTLP_{TRACES_,METRICS_}CERTIFICATE`, `OTEL_EXPORTER_OTLP_CERTIFICATE` | `otlp.tls.ca_file` | none |
//! | `*_otlp.tls.client_cert` | `OTEL_EXPORTER_OTLP_{TRACES_,METRICS_}CLIENT_CERTIFICATE`, `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` | `otlp.tls.client_cert` | none |
//! | `*_otlp.tls.client_key` | `OTEL_EXPORTER_OTLP_{TRACES_,METRICS_}CLIENT_KEY`, `OTEL_EXPORTER_OTLP_CLIENT_KEY` | `otlp.tls.client_key` | none |
//! | `*_otlp.compression` | `OTEL_EXPORTER_OTLP_{TRACES_,METRICS_}COMPRESSION`, `OTEL_EXPORTER_OTLP_COMPRESSION` (`gzip`, `none`) | `otlp.compression` | none |
//! | `*_otlp.timeout` | `OTEL_EXPORTER_OTLP_{TRACES_,METRICS_}TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT` (ms) | `otlp.timeout_ms` | `export_timeout` |
//! | `*_otlp.insecure` | `OTEL_EXPORTER_OTLP_{TRACES_,METRICS_}INSECURE`, `OTEL_EXPORTER_OTLP_INSECURE` | `otlp.insecure` | false |
//! | `*_otlp.headers` | `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, `OTEL_EXPORTER_OTLP_METRICS_HEADERS` (replace `headers` for their signal) | — | none |
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
//! | `semconv_opt_in` | `OTEL_SEMCONV_STABILITY_OPT_IN` (comma list: `gen_ai_latest_experimental`, `database`, `database/dup`; others ignored) | `semconv.stability_opt_in` | none: today's names |
//! | `pricing.enabled` | `BOTANU_PRICING_ENABLED` | `pricing.enabled` | true |
//! | `pricing.overrides` | `BOTANU_PRICE_OVERRIDES` (`provider/model=input:2.5,output:10;anthropic=discount:0.8`, see [`crate::cost::PriceOverrides::parse`]) | `pricing.overrides` (mapping `provider/model: input:2.5,output:10`) | none |
//! | `pricing.catalog_file` | `BOTANU_PRICE_CATALOG_FILE` | `pricing.catalog_file` | none |
//! | `budgets.caps` | `BOTANU_BUDGETS` (`run=0.50;customer:acme=200/day;workflow:support=50/hour:warn`, see [`crate::budget::Cap::parse_list`]) | `budgets.caps` (list of the same entries) | none |
//! | `budgets.unpriced` | `BOTANU_BUDGET_UNPRICED` (`deny` or a USD charge per call) | `budgets.unpriced` | `deny` |
//! | `budgets.store` | `BOTANU_BUDGET_STORE` (`memory` or `redis://host:port/db`) | `budgets.store` | `memory` |
//! | `budgets.store_timeout` | `BOTANU_BUDGET_STORE_TIMEOUT_MILLIS` | `budgets.store_timeout_ms` | 25 ms |
//! | `budgets.store_failure` | `BOTANU_BUDGET_STORE_FAILURE` (`open`, `closed`) | `budgets.store_failure` | `open` |
//! | `pricing.metric_customers` | `BOTANU_COST_METRIC_CUSTOMERS` (comma list) | `pricing.metric_customers` (list) | none |
//! | `pricing.metric_customer_limit` | `BOTANU_COST_METRIC_CUSTOMER_LIMIT` | `pricing.metric_customer_limit` | 0 |
//! | `pricing.ledger.file` | `BOTANU_COST_LEDGER_FILE` | `pricing.ledger.file` | none (no ledger) |
//! | `pricing.ledger.max_bytes` / `.max_files` | `BOTANU_COST_LEDGER_MAX_BYTES`, `BOTANU_COST_LEDGER_MAX_FILES` | `pricing.ledger.max_bytes`, `.max_files` | 64 MiB, 4 |
//! | `pricing.tool_prices` | `BOTANU_TOOL_PRICES` (`web_search=call:0.01;enrich=call:0.002,item:0.0005`, see [`crate::cost::ToolPrices::parse`]) | `pricing.tool_prices` (mapping `tool: call:0.01,item:0.0005`) | none |
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
//! `Authorization`, `Proxy-Authorization`, `Cookie`, `x-api-key`, `api-key` and `botanu-api-key` headers,
//! and for every query value of an endpoint URL (`?token=[redacted]`).
//!
//! # File
//!
//! The explicit path ([`ConfigSource::with_file`]), else `$BOTANU_CONFIG_FILE`, else the first file that
//! exists among `botanu.yaml`, `botanu.yml`, `config/botanu.yaml`, `config/botanu.yml` in the search
//! directory (the current directory for [`Config::load`]). A relative path is taken from the search
//! directory. No file is fine (defaults); a named file that does not exist is an error, and so is one that
//! is not a regular file (a directory, a FIFO: refused before it is opened, so never a hang). One YAML
//! document, at most 1 MiB, nesting at most 32 levels.
//!
//! `${VAR}` and `${VAR:-default}` in YAML values are replaced from the same environment (`:-` also applies
//! when `VAR` is empty, as in a shell); `$${` writes a literal `${`. An unset `VAR` without a default is an
//! error naming the variable, the file and the line. Replacement happens in each parsed value rather than in
//! the raw text, so a variable holding `#`, `: ` or a newline cannot change the document's structure, a
//! `${VAR}` inside a comment means nothing, and line numbers stay exact. An expanded value is at most
//! 64 KiB and all of a file's values together at most 1 MiB ([`ConfigError::ExpansionTooLarge`] names the
//! key and the variable), so a large variable referenced many times fails fast instead of filling memory.
//!
//! # YAML parser
//!
//! [`yaml-rust2`](https://docs.rs/yaml-rust2) 0.13, without its `encoding` feature: pure Rust, three small
//! dependencies, no serde, a maintained YAML 1.2 parser whose errors carry a line. Walking its event stream
//! ourselves gives a line for every value (so invalid values point into the file too) and makes unknown-key
//! detection, aliases and depth limits explicit. The serde-based forks (`serde_yaml_ng`, `serde_norway`) wrap
//! the C-translated `unsafe-libyaml` and pull in serde and indexmap for a schema this small. 0.13 needs
//! Rust 1.85, within `botanu`'s MSRV of 1.88, and shares its `hashbrown` with the rest of the tree (0.11
//! brought a second one).
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
//! assert_eq!(config.service_name(), "checkout");
//! assert_eq!(config.protocol(), Protocol::HttpProtobuf);
//! assert_eq!(config.traces_url().as_deref(), Some("http://collector:4318/v1/traces"));
//! # Ok::<(), botanu::config::ConfigError>(())
//! ```

mod accessors;
mod error;
mod file;
mod grammar;
mod keys;
mod layers;
mod overrides;
mod queue;
mod raw;
mod resolve;
mod tls;
mod url;
mod yaml;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::content::{ScrubOptions, DEFAULT_MAX_CHARS};
use crate::cost::PricingConfig;

pub use error::{ApiKeyWithheld, ConfigError, FileLocation};
use file::find_config_file;
use layers::Layers;
pub use queue::QueueSettings;
pub use tls::{Compression, OtlpTransport, TlsRoots, TlsSettings};
use url::{api_key_allowed, join_signal_path, redact_query};
use yaml::YamlSettings;

// Defaults of settings owned by a component live with it (the export queue, the content policy, the
// scrubber); the ones below belong to no component but the configuration (the resource, the metric reader,
// the per-span event cap, which the layer and the builder read from `Config`, so they cannot own them
// without an import cycle).
const DEFAULT_SERVICE_NAME: &str = "unknown_service";
const DEFAULT_ENVIRONMENT: &str = "production";
const DEFAULT_METRIC_EXPORT_INTERVAL: Duration = Duration::from_secs(60);
/// Default cap on span events kept per span; events past it are counted, not kept.
pub const DEFAULT_MAX_EVENTS_PER_SPAN: usize = 128;
/// The OTLP endpoints the OpenTelemetry specification names when an exporter is asked for but none is set.
const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318";
const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
const TRACES_PATH: &str = "v1/traces";
const METRICS_PATH: &str = "v1/metrics";

/// What `Debug` prints instead of a credential.
const REDACTED: &str = "[redacted]";

/// A config file is a few hundred bytes; anything past this is a wrong path, not a config (here, not in
/// `file.rs`, because the error's text names it too).
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Header names whose values are credentials (compared ignoring ASCII case).
const SENSITIVE_HEADERS: [&str; 6] =
    ["authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "botanu-api-key"];

// === public types ===

/// The resolved configuration of the `botanu` pipeline.
///
/// Build it with [`Config::load`] / [`Config::load_from`] (environment and file) or [`Config::default`]
/// (defaults only), then apply code overrides with the `with_*` methods, which win over every other
/// source. Each setting is read through its accessor (`config.queue_size()`); it is changed only through
/// the `with_*` methods, which keep derived values consistent (setting an endpoint switches the default
/// exporter from console to OTLP, credentials are stripped from URLs, a batch never exceeds the queue).
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
/// assert_eq!(config.traces_exporter(), TracesExporter::Otlp);
/// assert_eq!(config.traces_url().as_deref(), Some("https://collector.example.com:4318/v1/traces"));
/// assert!(!format!("{config:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq)]
pub struct Config {
    /// `service.name` of the resource.
    pub(crate) service_name: String,
    /// `service.version` of the resource.
    pub(crate) service_version: Option<String>,
    /// `service.namespace` of the resource.
    pub(crate) service_namespace: Option<String>,
    /// `deployment.environment` of the resource and `botanu.environment` on run spans.
    pub(crate) environment: String,
    /// Where traces are exported; `None` with the default exporter means console output.
    pub(crate) traces_endpoint: Option<Endpoint>,
    /// Where metrics are exported.
    pub(crate) metrics_endpoint: Option<Endpoint>,
    /// Extra headers sent with every export request, in order.
    pub(crate) headers: Vec<(String, String)>,
    /// The Botanu API key; sent only to trusted hosts, see [`Config::auth_header`].
    pub(crate) api_key: Option<String>,
    /// The OTLP transport.
    pub(crate) protocol: Protocol,
    /// How traces are sent: TLS, compression, timeout ([`OtlpTransport`]).
    pub(crate) traces_otlp: OtlpTransport,
    /// How metrics are sent.
    pub(crate) metrics_otlp: OtlpTransport,
    /// Spans per export request (never above `queue_size` after loading).
    pub(crate) batch_size: usize,
    /// Spans buffered before new ones are dropped.
    pub(crate) queue_size: usize,
    /// Time between two scheduled exports.
    pub(crate) schedule_delay: Duration,
    /// Time an export may take before it is abandoned.
    pub(crate) export_timeout: Duration,
    /// Time between two metric exports.
    pub(crate) metric_export_interval: Duration,
    /// Share of LLM/tool/retrieval calls whose content is captured, in `0.0..=1.0`.
    pub(crate) content_capture_rate: f64,
    /// Captured content is cut to this many chars (after scrubbing).
    pub(crate) content_max_chars: usize,
    /// PII scrubbing of captured content.
    pub(crate) pii: PiiConfig,
    /// Which run fields travel in baggage.
    pub(crate) propagation_mode: PropagationMode,
    /// Whether inbound `botanu.customer_id` / `botanu.tenant_id` (baggage or fallback headers) are
    /// honored. Off by default, so a client cannot bill its usage to another tenant; turn it on only
    /// where callers are trusted (service to service behind your own gateway).
    pub(crate) propagation_trust_inbound: bool,
    /// `OTEL_SEMCONV_STABILITY_OPT_IN`: which semantic-convention names are written.
    pub(crate) semconv_opt_in: SemconvOptIn,
    /// Where spans go: OTLP, console, or nowhere.
    pub(crate) traces_exporter: TracesExporter,
    /// `OTEL_SDK_DISABLED`: when true the pipeline exports nothing (no traces, no metrics).
    pub(crate) sdk_disabled: bool,
    /// Export every span, not only botanu's and those inside a run.
    pub(crate) export_all_spans: bool,
    /// Span events kept per span; past it events are counted in `botanu.dropped_events`, not kept.
    pub(crate) max_events_per_span: usize,
    /// Extra resource attributes from `OTEL_RESOURCE_ATTRIBUTES`, in order, without the keys that feed
    /// `service_name`, `service_version`, `service_namespace` and `environment`.
    pub(crate) resource_attributes: Vec<(String, String)>,
    /// Pricing of LLM calls and data operations (see [`crate::cost`]).
    pub(crate) pricing: PricingConfig,
    /// Spending caps and their store (see [`crate::budget`]).
    pub(crate) budgets: crate::budget::BudgetConfig,
    /// Whether `traces_exporter` was chosen (env or code) rather than derived from the endpoint.
    traces_exporter_explicit: bool,
    /// What loading found worth saying (see [`Config::warnings`]).
    warnings: Warnings,
}

/// The warnings of one load. Not part of what a configuration *is*: two configs with the same settings
/// are equal whatever their loads said, so `==` ignores them.
#[derive(Clone, Default)]
struct Warnings(Vec<String>);

impl PartialEq for Warnings {
    fn eq(&self, _: &Self) -> bool {
        true
    }
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

/// Which semantic-convention names botanu writes: `OTEL_SEMCONV_STABILITY_OPT_IN`, a comma list read as
/// the OpenTelemetry SDKs read it (contract §9). Both spellings of every key are always *read*; this
/// chooses what is *written*. Unknown entries are ignored (the variable is shared with other
/// instrumentations: `http`, `messaging`, …).
///
/// ```
/// use botanu::config::{DatabaseNames, SemconvOptIn};
///
/// let opt_in = SemconvOptIn::parse("http, gen_ai_latest_experimental ,database/dup");
/// assert!(opt_in.gen_ai_latest_experimental);
/// assert_eq!(opt_in.database, DatabaseNames::Both);
/// assert_eq!(SemconvOptIn::parse(""), SemconvOptIn::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SemconvOptIn {
    /// `gen_ai_latest_experimental`: the newer GenAI names — `gen_ai.usage.cache_write.input_tokens`, the
    /// `gen_ai.client.inference.*` metrics, `gen_ai.usage.cost.*` — instead of today's.
    pub gen_ai_latest_experimental: bool,
    /// `database` / `database/dup`: which database key names are written.
    pub database: DatabaseNames,
}

/// The database key names written (`OTEL_SEMCONV_STABILITY_OPT_IN` `database` / `database/dup`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DatabaseNames {
    /// Today's names: `db.system`, `db.operation`, `db.name` (the default).
    #[default]
    Old,
    /// The stable names only (`database`): `db.system.name`, `db.operation.name`, `db.namespace`.
    Stable,
    /// Both (`database/dup`).
    Both,
}

impl SemconvOptIn {
    /// Parses a comma list; entries are trimmed and compared case-insensitively, `database/dup` wins
    /// over `database`, anything else is ignored.
    ///
    /// ```
    /// use botanu::config::{DatabaseNames, SemconvOptIn};
    ///
    /// assert_eq!(SemconvOptIn::parse("database,database/dup").database, DatabaseNames::Both);
    /// assert_eq!(SemconvOptIn::parse("DATABASE").database, DatabaseNames::Stable);
    /// ```
    pub fn parse(list: &str) -> Self {
        let mut opt_in = SemconvOptIn::default();
        for entry in list.split(',').map(str::trim) {
            if entry.eq_ignore_ascii_case("gen_ai_latest_experimental") {
                opt_in.gen_ai_latest_experimental = true;
            } else if entry.eq_ignore_ascii_case("database/dup") {
                opt_in.database = DatabaseNames::Both;
            } else if entry.eq_ignore_ascii_case("database") && opt_in.database != DatabaseNames::Both {
                opt_in.database = DatabaseNames::Stable;
            }
        }
        opt_in
    }
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
            enabled: ScrubOptions::default().enabled,
            disable_patterns: Vec::new(),
            custom_patterns: Vec::new(),
            replacement: ScrubOptions::default().replacement,
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
/// assert_eq!(config.content_capture_rate(), 0.25);
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

// === impl Config ===

impl Default for Config {
    /// Every field at its default: no endpoint (console exporter), sampling rate 0, PII scrubbing on.
    fn default() -> Self {
        let queue = QueueSettings::default();
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
            traces_otlp: OtlpTransport::default(),
            metrics_otlp: OtlpTransport::default(),
            batch_size: queue.batch_size,
            queue_size: queue.queue_size,
            schedule_delay: queue.delay,
            export_timeout: queue.export_timeout,
            metric_export_interval: DEFAULT_METRIC_EXPORT_INTERVAL,
            content_capture_rate: 0.0,
            content_max_chars: DEFAULT_MAX_CHARS,
            pii: PiiConfig::default(),
            propagation_mode: PropagationMode::Lean,
            propagation_trust_inbound: false,
            semconv_opt_in: SemconvOptIn::default(),
            traces_exporter: TracesExporter::Console,
            sdk_disabled: false,
            export_all_spans: false,
            max_events_per_span: DEFAULT_MAX_EVENTS_PER_SPAN,
            resource_attributes: Vec::new(),
            pricing: PricingConfig::default(),
            budgets: crate::budget::BudgetConfig::default(),
            traces_exporter_explicit: false,
            warnings: Warnings::default(),
        }
    }
}

impl Config {
    /// Loads from the process environment and a config file found from the current directory.
    ///
    /// Returns the warnings (unknown YAML keys, stripped credentials, clamped values) for the caller to
    /// log; nothing is printed here. They also travel with the config ([`Config::warnings`]).
    ///
    /// ```
    /// let (config, warnings) = botanu::Config::load()?;
    /// assert_eq!(config.warnings(), warnings.as_slice());
    /// # Ok::<(), botanu::ConfigError>(())
    /// ```
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
        let mut config = layers.resolve(&mut warnings)?;
        config.warnings = Warnings(warnings.clone());
        Ok((config, warnings))
    }

    /// What loading found worth saying: unknown YAML keys, credentials removed from an endpoint, clamped
    /// values. The same list [`Config::load`] returns; it travels with the config to the guard
    /// ([`BotanuGuard::warnings`](crate::BotanuGuard::warnings)), and [`init`](crate::init) logs it once
    /// its subscriber is installed. Empty for a config built in code.
    ///
    /// ```
    /// use botanu::config::{Config, ConfigSource};
    ///
    /// let dir = std::env::temp_dir().join(format!("botanu-doc-warnings-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("botanu.yaml"), "service:\n  name: shop\n  colour: blue\n").unwrap();
    /// let (config, _) = Config::load_from(&ConfigSource::from_env_map(Default::default()).with_search_dir(&dir))?;
    /// assert!(config.warnings()[0].contains("unknown keys ignored: service.colour"), "{:?}", config.warnings());
    /// assert!(Config::default().warnings().is_empty());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), botanu::config::ConfigError>(())
    /// ```
    pub fn warnings(&self) -> &[String] {
        &self.warnings.0
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
        self.signal_url(self.traces_endpoint.as_ref(), TRACES_PATH, &self.traces_otlp)
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
        self.signal_url(self.metrics_endpoint.as_ref(), METRICS_PATH, &self.metrics_otlp)
    }

    fn signal_url(&self, endpoint: Option<&Endpoint>, signal_path: &str, transport: &OtlpTransport) -> Option<String> {
        match endpoint {
            // A scheme-less gRPC endpoint (`collector:4317`): TLS unless `insecure`, as the OTLP exporter
            // specification says.
            Some(endpoint) if self.protocol == Protocol::Grpc && !endpoint.url.contains("://") => {
                let scheme = if transport.insecure { "http" } else { "https" };
                Some(format!("{scheme}://{}", endpoint.url))
            }
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
            // The path and query may hold a token: the error names the host only.
            return Err(ApiKeyWithheld { url: url::redact_after_authority(&url, REDACTED) });
        }
        Ok(Some(("Authorization".to_owned(), format!("Bearer {key}"))))
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
        // Destructured, so a new field must be placed here (and judged: is it a credential?).
        let Config {
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
            traces_exporter,
            sdk_disabled,
            export_all_spans,
            max_events_per_span,
            resource_attributes,
            pricing,
            budgets,
            traces_exporter_explicit: _,
            warnings: _,
        } = self;
        f.debug_struct("Config")
            .field("service_name", service_name)
            .field("service_version", service_version)
            .field("service_namespace", service_namespace)
            .field("environment", environment)
            .field("traces_endpoint", &traces_endpoint.as_ref().map(RedactedEndpoint))
            .field("metrics_endpoint", &metrics_endpoint.as_ref().map(RedactedEndpoint))
            .field("headers", &RedactedHeaders(headers))
            .field("api_key", &api_key.as_ref().map(|_| REDACTED))
            .field("protocol", protocol)
            .field("traces_otlp", traces_otlp)
            .field("metrics_otlp", metrics_otlp)
            .field("batch_size", batch_size)
            .field("queue_size", queue_size)
            .field("schedule_delay", schedule_delay)
            .field("export_timeout", export_timeout)
            .field("metric_export_interval", metric_export_interval)
            .field("content_capture_rate", content_capture_rate)
            .field("content_max_chars", content_max_chars)
            .field("pii", pii)
            .field("propagation_mode", propagation_mode)
            .field("propagation_trust_inbound", propagation_trust_inbound)
            .field("semconv_opt_in", semconv_opt_in)
            .field("traces_exporter", traces_exporter)
            .field("sdk_disabled", sdk_disabled)
            .field("export_all_spans", export_all_spans)
            .field("max_events_per_span", max_events_per_span)
            .field("resource_attributes", resource_attributes)
            .field("pricing", pricing)
            .field("budgets", budgets)
            .finish()
    }
}

/// An endpoint as `Debug` shows it: every query value replaced, since tokens travel there
/// (`?token=…`, `?api_key=…`) and no query parameter of an OTLP endpoint is worth printing.
struct RedactedEndpoint<'a>(&'a Endpoint);

impl fmt::Debug for RedactedEndpoint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &redact_query(&self.0.url, REDACTED))
            .field("kind", &self.0.kind)
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

#[cfg(test)]
mod tests;
