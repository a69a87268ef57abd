//! Invalid values, warnings, credentials and URLs.

use super::*;

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
        ("OTEL_RESOURCE_ATTRIBUTES", "a=1,broken", "a=[redacted],[redacted]", "entry 2 has no '='"),
        ("OTEL_RESOURCE_ATTRIBUTES", "=v", "=[redacted]", "entry 1 has an empty key"),
        ("OTEL_RESOURCE_ATTRIBUTES", "k=%FF", "k=[redacted]", "not UTF-8"),
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
        Err("https://metrics.example/[redacted]".to_owned()),
        "every export URL must be trusted (a path other than the signal's is not shown: it may hold a token)"
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
