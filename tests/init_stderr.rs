//! The stack `Builder::init` installs (issue 18): its stderr `fmt` layer prints secret-looking fields
//! redacted, as the exported copy is, and a panicking `Debug` in a span or event field reaches neither
//! the application nor stops the span from being exported. `init` sets the process-wide subscriber and
//! the test reads stderr, so the test runs itself again as a child process.
mod common;

use std::process::Command;

use botanu::prelude::*;
use common::{Booby, Treacherous};
use opentelemetry_sdk::trace::InMemorySpanExporter;

const CHILD: &str = "BOTANU_INIT_STDERR_CHILD";
const TEST: &str = "init_stderr_redacts_secrets_and_survives_panicking_fields";

/// A fake provider key, built at run time so secret scanners do not flag the source.
fn fake_key() -> String {
    format!("{}{}", "sk-", "Zq9x".repeat(10))
}

fn child() {
    let exporter = InMemorySpanExporter::default();
    let guard = botanu::Builder::new().with_span_exporter(exporter.clone()).init().expect("init");
    let key = fake_key();
    tracing::info!(authorization = %format!("Bearer {key}"), api_key = key.as_str(), token = ?key, "calling the provider");
    // The application's own message quoting a key: scrubbed like the exported copy of the message.
    tracing::info!("calling with Bearer {key}");
    tracing::warn!("the key {key} was refused");
    tracing::info_span!("call", access_token = key.as_str()).in_scope(|| tracing::info!("inside the call"));
    let span = llm_span!(provider = "openai", model = "survivor", bad = ?Booby);
    span.in_scope(|| tracing::info!(boom = ?Booby, "event with a bad field"));
    let error: &(dyn std::error::Error + 'static) = &Treacherous;
    tracing::warn!(error, "an error that cannot be displayed");
    drop(span);
    guard.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    let survivor =
        spans.iter().find(|s| s.name == "chat survivor").expect("the span with a panicking field is exported");
    let bad = survivor.attributes.iter().find(|kv| kv.key.as_str() == "bad").map(|kv| kv.value.to_string());
    assert_eq!(bad.as_deref(), Some("<Debug panicked>"));
    assert!(survivor.events.iter().any(|e| e.name == "event with a bad field"));
    println!("child done");
}

/// `text` without ANSI SGR sequences (`ESC [ … m`): the `fmt` layer styles field names.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn init_stderr_redacts_secrets_and_survives_panicking_fields() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("RUST_LOG", "info")
        .env_remove("BOTANU_CONFIG_FILE")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("BOTANU_COLLECTOR_ENDPOINT")
        .output()
        .expect("child runs");
    let stderr = strip_ansi(&String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("child done"), "child failed:\n{stdout}\n{stderr}");
    assert!(!stderr.contains(&fake_key()), "a secret reached stderr:\n{stderr}");
    for field in ["authorization", "api_key", "token", "access_token"] {
        assert!(stderr.contains(&format!("{field}=\"[REDACTED]\"")), "{field} is not redacted:\n{stderr}");
    }
    assert!(stderr.contains("calling the provider"), "{stderr}");
    assert!(
        stderr.contains("calling with [REDACTED]") || stderr.contains("calling with Bearer [REDACTED]"),
        "{stderr}"
    );
    assert!(stderr.contains("the key [REDACTED] was refused"), "{stderr}");
    assert!(stderr.contains("boom=<Debug panicked>"), "{stderr}");
    assert!(stderr.contains("bad=<Debug panicked>"), "the span's fields are printed too:\n{stderr}");
    assert!(stderr.contains("error=<Display panicked>"), "{stderr}");
}
