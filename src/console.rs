//! A span exporter that prints spans readably, for development and for the quickstart.
//!
//! Used when no collector endpoint is configured, so botanu shows what it would send on a bare
//! machine. One block per span: name, kind, duration, status, ids, then attributes and events.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Prints exported spans to stdout.
#[derive(Debug, Default)]
pub struct ConsoleExporter {
    shut_down: AtomicBool,
}

impl ConsoleExporter {
    /// A console exporter.
    pub fn new() -> Self {
        Self::default()
    }
}

fn kind_name(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{:?}", s.as_str()),
        other => other.to_string(),
    }
}

/// Formats one span as the console shows it.
pub(crate) fn format_span(span: &SpanData) -> String {
    let mut out = String::new();
    let ms = span.end_time.duration_since(span.start_time).unwrap_or_default().as_secs_f64() * 1000.0;
    let status = match &span.status {
        Status::Ok => "OK".to_owned(),
        Status::Unset => "unset".to_owned(),
        Status::Error { description } => format!("ERROR {description}"),
    };
    let _ = writeln!(out, "span {} [{}] {ms:.2} ms {status}", span.name, kind_name(&span.span_kind));
    let parent = if span.parent_span_id == opentelemetry::trace::SpanId::INVALID {
        "-".to_owned()
    } else {
        span.parent_span_id.to_string()
    };
    let _ =
        writeln!(out, "  trace {} span {} parent {parent}", span.span_context.trace_id(), span.span_context.span_id());
    for kv in &span.attributes {
        let _ = writeln!(out, "  {} = {}", kv.key, value_text(&kv.value));
    }
    for event in span.events.iter() {
        let attrs: Vec<String> =
            event.attributes.iter().map(|kv| format!("{}={}", kv.key, value_text(&kv.value))).collect();
        let _ = writeln!(out, "  event {} {{{}}}", event.name, attrs.join(", "));
    }
    out
}

impl SpanExporter for ConsoleExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let result = if self.shut_down.load(Ordering::Relaxed) {
            Err(OTelSdkError::AlreadyShutdown)
        } else {
            let text: String = batch.iter().map(format_span).collect();
            let mut stdout = std::io::stdout().lock();
            // A closed stdout must not fail the pipeline: console output is best effort.
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            Ok(())
        };
        std::future::ready(result)
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.shut_down.store(true, Ordering::Relaxed);
        Ok(())
    }
}

/// Prints a short summary of the metrics on each collection (at shutdown for the console pipeline):
/// per instrument and attribute set, a counter's total or a histogram's count and sum.
#[derive(Debug, Default)]
pub(crate) struct ConsoleMetricExporter {
    shut_down: AtomicBool,
}

impl ConsoleMetricExporter {
    /// A console metric exporter.
    pub fn new() -> Self {
        Self::default()
    }
}

fn attrs_text<'a>(attrs: impl Iterator<Item = &'a opentelemetry::KeyValue>) -> String {
    let parts: Vec<String> = attrs.map(|kv| format!("{}={}", kv.key, kv.value)).collect();
    parts.join(" ")
}

/// Formats the metrics summary the console shows.
pub(crate) fn format_metrics(metrics: &opentelemetry_sdk::metrics::data::ResourceMetrics) -> String {
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    let mut out = String::new();
    for scope in metrics.scope_metrics() {
        for metric in scope.metrics() {
            let _ = writeln!(out, "metric {} ({})", metric.name(), metric.unit());
            match metric.data() {
                AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                    for dp in sum.data_points() {
                        let _ = writeln!(out, "  {} {}", dp.value(), attrs_text(dp.attributes()));
                    }
                }
                // Cost in USD: enough digits for one queue message (a fraction of a micro-dollar).
                AggregatedMetrics::F64(MetricData::Sum(sum)) => {
                    for dp in sum.data_points() {
                        let _ = writeln!(out, "  {:.9} {}", dp.value(), attrs_text(dp.attributes()));
                    }
                }
                AggregatedMetrics::U64(MetricData::Histogram(h)) => {
                    for dp in h.data_points() {
                        let _ =
                            writeln!(out, "  count={} sum={} {}", dp.count(), dp.sum(), attrs_text(dp.attributes()));
                    }
                }
                AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                    for dp in h.data_points() {
                        let _ =
                            writeln!(out, "  count={} sum={:.4} {}", dp.count(), dp.sum(), attrs_text(dp.attributes()));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

impl opentelemetry_sdk::metrics::exporter::PushMetricExporter for ConsoleMetricExporter {
    fn export(
        &self,
        metrics: &opentelemetry_sdk::metrics::data::ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let result = if self.shut_down.load(Ordering::Relaxed) {
            Err(OTelSdkError::AlreadyShutdown)
        } else {
            let text = format_metrics(metrics);
            if !text.is_empty() {
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(text.as_bytes());
                let _ = stdout.flush();
            }
            Ok(())
        };
        std::future::ready(result)
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.shut_down.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn temporality(&self) -> opentelemetry_sdk::metrics::Temporality {
        opentelemetry_sdk::metrics::Temporality::Cumulative
    }
}
