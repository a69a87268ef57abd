//! Secrets never leave the process: with a fake API key configured (and the application passing it
//! through botanu's APIs), the key appears in no `Debug` output, no log line and no exported span,
//! event or status. Fake keys are built at run time so secret scanners stay quiet.
mod common;

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use botanu::config::Config;
use botanu::prelude::*;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use tracing_subscriber::prelude::*;

fn fake_key() -> String {
    format!("sk-{}{}", "proj-", "Zq7".repeat(12))
}

/// A `MakeWriter` collecting everything a `fmt` layer writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[test]
fn a_configured_api_key_appears_in_no_debug_log_or_exported_data() {
    let key = fake_key();
    let sink = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = sink.local_addr().expect("addr");
    let config = Config::default()
        .with_endpoint(format!("http://botanu:{key}@{addr}"))
        .with_api_key(key.clone())
        .with_header("x-api-key", key.clone())
        .with_content_capture_rate(1.0)
        .with_export_timeout(Duration::from_millis(300));
    let exporter = InMemorySpanExporter::default();
    let builder = botanu::Builder::from_config(config.clone()).expect("builder").with_span_exporter(exporter.clone());
    let mut emitted = vec![format!("{config:?}"), format!("{config:#?}"), format!("{builder:?}")];
    let logs = Capture::default();
    let (layer, guard) = builder.build().expect("pipeline");
    emitted.push(format!("{layer:?}"));
    emitted.push(format!("{guard:?}"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(logs.clone()).with_ansi(false);
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(fmt.with_filter(tracing_subscriber::filter::LevelFilter::TRACE));
    tracing::subscriber::with_default(subscriber, || {
        run_span!(workflow = "secrets", customer_id = "acme").in_scope(|| {
            tracing::info!("starting the run");
            let llm = llm_span!(provider = "openai", model = "gpt-4", authorization = %format!("Bearer {key}"));
            llm.add_metadata("api_key", key.as_str())
                .set_input_content(&format!("please use {key} for the call"))
                .set_output_content(&format!("Authorization: Bearer {key}"))
                .set_error_type("AuthenticationError", &format!("provider rejected {key}"));
            drop(llm);
            tool_span!(name = "fetch").add_metadata("x-api-key", key.as_str());
        });
    });
    // The OTLP side goes to a listener that never answers (it receives the key, as configured); its flush
    // times out. The in-memory exporter shows what went on the wire.
    let _ = guard.force_flush();
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), 3);
    for span in &spans {
        emitted.push(span.name.to_string());
        emitted.push(format!("{:?}", span.status));
        for kv in &span.attributes {
            emitted.push(format!("{}={}", kv.key, kv.value));
        }
        for event in span.events.iter() {
            emitted.push(event.name.to_string());
            for kv in &event.attributes {
                emitted.push(format!("{}={}", kv.key, kv.value));
            }
        }
    }
    drop(guard);
    emitted.push(logs.text());
    assert!(logs.text().contains("starting the run"), "the log capture works");
    for text in &emitted {
        assert!(!text.contains(&key), "the key leaked in: {text}");
    }
    // The scrubbed values are still there, redacted, so the data is not simply missing.
    let llm = spans.iter().find(|s| s.name == "chat gpt-4").expect("llm span");
    let attr = |k: &str| llm.attributes.iter().find(|kv| kv.key.as_str() == k).map(|kv| kv.value.to_string());
    assert_eq!(attr("botanu.api_key").as_deref(), Some("[REDACTED]"));
    assert_eq!(attr("authorization").as_deref(), Some("[REDACTED]"));
    assert_eq!(attr("botanu.eval.input_content").as_deref(), Some("please use [REDACTED] for the call"));
}

#[test]
fn a_withheld_api_key_is_reported_once_without_the_key() {
    let key = fake_key();
    let config = Config::default()
        .with_endpoint("http://collector.invalid:4318")
        .with_api_key(key.clone())
        .with_export_timeout(Duration::from_millis(200));
    let logs = Capture::default();
    let capture = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(logs.clone()).with_ansi(false));
    let built = tracing::subscriber::with_default(capture, || config.build::<tracing_subscriber::Registry>());
    let (_layer, guard) = built.expect("pipeline");
    drop(guard);
    let text = logs.text();
    assert_eq!(text.matches("ERROR").count(), 1, "{text}");
    assert!(text.contains("collector.invalid"), "{text}");
    assert!(!text.contains(&key), "{text}");
}
