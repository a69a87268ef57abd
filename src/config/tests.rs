//! Tests of the config loader: precedence, grammar, file, YAML, errors.

use super::file::MAX_FILE_BYTES;
use super::url::strip_credentials;
use super::*;
use std::path::Path;
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
    let disabled = load_ok(&dir, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_SDK_DISABLED", "true")]);
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
    let headers = format!("Authorization=Bearer%20{token},X-Api-Key={token}-x,botanu-api-key={token}-b,x-team=visible");
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

    let mixed = with_key().with_endpoint("https://ingest.botanu.ai").with_metrics_endpoint("https://metrics.example/m");
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

// === hostile files and values (issue 18) ===

/// Runs `load` on another thread; `None` if it has not returned within `limit` (a hang).
fn load_within(
    limit: std::time::Duration,
    load: impl FnOnce() -> Result<(Config, Vec<String>), ConfigError> + Send + 'static,
) -> Option<Result<(Config, Vec<String>), ConfigError>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(load());
    });
    rx.recv_timeout(limit).ok()
}

#[cfg(unix)]
#[test]
fn a_fifo_named_as_the_config_file_is_an_error_not_a_hang() {
    let dir = TempDir::new();
    let fifo = dir.path().join("botanu.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|status| status.success()) {
        eprintln!("mkfifo unavailable; skipped");
        return;
    }
    let explicit = source(&dir, &[]).with_file(&fifo);
    let by_variable = source(&dir, &[("BOTANU_CONFIG_FILE", "botanu.yaml")]);
    // Found by the search too: a FIFO is not a file, so the search skips it (defaults).
    let searched = source(&dir, &[]);
    for (name, source) in [("with_file", explicit), ("BOTANU_CONFIG_FILE", by_variable)] {
        let result = load_within(std::time::Duration::from_secs(10), move || Config::load_from(&source));
        let Some(result) = result else { panic!("{name}: loading a FIFO hung") };
        let err = result.expect_err(name);
        assert!(matches!(&err, ConfigError::Read { .. }), "{name}: {err:?}");
        let text = err.to_string();
        assert!(text.contains(&fifo.display().to_string()) && text.contains("not a regular file"), "{text}");
    }
    let result = load_within(std::time::Duration::from_secs(10), move || Config::load_from(&searched));
    let config = result.expect("the search hung").expect("defaults");
    assert_eq!(config.0, Config::default());
}

#[test]
fn variable_expansion_is_capped_per_value_with_an_error_naming_key_and_variable() {
    let big = "x".repeat(100 * 1024);
    let yaml = format!("service:\n  name: \"{}\"\n", "${A}".repeat(5_000));
    let dir = TempDir::new();
    let path = dir.write("botanu.yaml", &yaml);
    let env = HashMap::from([("A".to_string(), big)]);
    let started = std::time::Instant::now();
    let err = Config::load_from(&ConfigSource::from_env_map(env).with_search_dir(dir.path())).unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
    match &err {
        ConfigError::ExpansionTooLarge { key, variable, location, limit } => {
            assert_eq!((key.as_str(), variable.as_str(), *limit), ("service.name", "A", 64 * 1024));
            assert_eq!(location.path, path);
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("${A}") && text.contains("service.name") && text.contains("65536"), "{text}");
}

#[test]
fn variable_expansion_is_capped_in_total_over_the_file() {
    // 40 headers of 40 KB each: every value under the per-value cap, 1.6 MB together.
    let mut yaml = String::from("otlp:\n  headers:\n");
    for i in 0..40 {
        yaml.push_str(&format!("    x-h{i}: ${{B}}\n"));
    }
    let dir = TempDir::new();
    dir.write("botanu.yaml", &yaml);
    let env = HashMap::from([("B".to_string(), "y".repeat(40 * 1024))]);
    let err = Config::load_from(&ConfigSource::from_env_map(env).with_search_dir(dir.path())).unwrap_err();
    match &err {
        ConfigError::ExpansionTooLarge { key, variable, limit, .. } => {
            assert!(key.starts_with("otlp.headers.x-h"), "{key}");
            assert_eq!((variable.as_str(), *limit), ("B", 1024 * 1024));
        }
        other => panic!("{other:?}"),
    }
    // Under both caps, the same file loads.
    let env = HashMap::from([("B".to_string(), "y".repeat(1024))]);
    let (config, _) = Config::load_from(&ConfigSource::from_env_map(env).with_search_dir(dir.path())).expect("load");
    assert_eq!(config.headers.len(), 40);
}

#[test]
fn a_secret_in_the_endpoint_query_string_is_not_in_debug_output() {
    let token = format!("{}-{}", "tok", "12345");
    let key = format!("{}-{}", "key", "67890");
    let url = format!("http://collector:4318/otlp?token={token}&api_key={key}&bare#frag");
    let coded = Config::default().with_endpoint(url.clone());
    let dir = TempDir::new();
    let loaded = load_ok(&dir, &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.as_str())]);
    for config in [coded, loaded] {
        let debug = format!("{config:?}");
        assert!(!debug.contains(&token) && !debug.contains(&key), "{debug}");
        assert!(debug.contains("/otlp?token=[redacted]&api_key=[redacted]&[redacted]#frag"), "{debug}");
    }
}

#[test]
fn load_warnings_travel_with_the_config() {
    let (config, warnings) = load_yaml_ok("service:\n  name: shop\n  colour: blue\n", &[]);
    assert_eq!(config.warnings(), warnings.as_slice());
    assert!(warnings[0].contains("service.colour"), "{warnings:?}");
    // Warnings are not part of what a configuration is.
    assert_eq!(config.clone().with_service_name("unknown_service"), Config::default());
}
