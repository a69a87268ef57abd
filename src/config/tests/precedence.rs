//! Code > environment > YAML > defaults, field by field.

use super::*;

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
