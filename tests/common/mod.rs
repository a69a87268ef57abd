//! Test harness: a botanu pipeline with in-memory span and metric exporters, scoped to the test.
#![allow(dead_code)]

#[cfg(feature = "testing")]
pub use botanu::testing::{MetricPoint, MetricSeries};
use botanu::{BotanuGuard, Builder};
use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Array, Value};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

pub struct Harness {
    pub exporter: InMemorySpanExporter,
    pub metrics: InMemoryMetricExporter,
    pub guard: BotanuGuard,
    pub dispatch: Dispatch,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(|b| b)
    }

    pub fn with(configure: impl FnOnce(Builder) -> Builder) -> Self {
        let exporter = InMemorySpanExporter::default();
        let metrics = InMemoryMetricExporter::default();
        // Spans finished where they close, as `botanu::testing` does: what a span carries is what was
        // true when it closed (later changes to its run, a user's meter provider read without a flush of
        // botanu's). `tests/finisher.rs` and `tests/user_processors.rs` cover the finisher.
        let builder = Builder::new()
            .with_service_name("botanu-tests")
            .with_environment("test")
            .with_span_exporter(exporter.clone())
            .with_metric_exporter(metrics.clone());
        let builder = botanu::__private::finish_inline(builder);
        let (layer, guard) = configure(builder).build().expect("pipeline builds");
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
        Harness { exporter, metrics, guard, dispatch }
    }

    /// Runs `f` with this harness's subscriber as the thread's default.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.dispatch, f)
    }

    pub fn spans(&self) -> Vec<SpanData> {
        self.guard.force_flush().expect("flush");
        self.exporter.get_finished_spans().expect("finished spans")
    }

    pub fn metrics(&self) -> Vec<ResourceMetrics> {
        self.guard.force_flush().expect("flush");
        self.metrics.get_finished_metrics().expect("finished metrics")
    }
}

pub fn find<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!("no span named {name:?}; have {:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>())
    })
}

pub fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| &kv.value)
}

#[track_caller]
pub fn str_attr<'a>(span: &'a SpanData, key: &str) -> &'a str {
    match attr(span, key) {
        Some(Value::String(s)) => s.as_str(),
        other => panic!("{}: {key} should be a string, is {other:?}", span.name),
    }
}

#[track_caller]
pub fn int_attr(span: &SpanData, key: &str) -> i64 {
    match attr(span, key) {
        Some(Value::I64(v)) => *v,
        other => panic!("{}: {key} should be an int, is {other:?}", span.name),
    }
}

#[track_caller]
pub fn f64_attr(span: &SpanData, key: &str) -> f64 {
    match attr(span, key) {
        Some(Value::F64(v)) => *v,
        other => panic!("{}: {key} should be a double, is {other:?}", span.name),
    }
}

#[track_caller]
pub fn bool_attr(span: &SpanData, key: &str) -> bool {
    match attr(span, key) {
        Some(Value::Bool(v)) => *v,
        other => panic!("{}: {key} should be a bool, is {other:?}", span.name),
    }
}

#[track_caller]
pub fn str_array_attr(span: &SpanData, key: &str) -> Vec<String> {
    match attr(span, key) {
        Some(Value::Array(Array::String(v))) => v.iter().map(|s| s.as_str().to_owned()).collect(),
        other => panic!("{}: {key} should be a string array, is {other:?}", span.name),
    }
}

#[track_caller]
pub fn assert_absent(span: &SpanData, key: &str) {
    assert!(attr(span, key).is_none(), "{}: {key} should be absent, is {:?}", span.name, attr(span, key));
}

pub fn is_child_of(child: &SpanData, parent: &SpanData) -> bool {
    child.parent_span_id == parent.span_context.span_id()
        && child.span_context.trace_id() == parent.span_context.trace_id()
}

pub fn is_root(span: &SpanData) -> bool {
    span.parent_span_id == SpanId::INVALID
}

pub fn kind(span: &SpanData) -> SpanKind {
    span.span_kind.clone()
}

pub fn is_error(span: &SpanData) -> bool {
    matches!(span.status, Status::Error { .. })
}

pub fn event_names(span: &SpanData) -> Vec<String> {
    span.events.iter().map(|e| e.name.to_string()).collect()
}

// ---- additions for spans / run_context / concurrency tests ----

/// The first span matching `pred`, with a readable panic listing every span name otherwise.
#[track_caller]
pub fn find_where<'a>(spans: &'a [SpanData], what: &str, pred: impl Fn(&SpanData) -> bool) -> &'a SpanData {
    spans.iter().find(|s| pred(s)).unwrap_or_else(|| {
        panic!("no span matching {what}; have {:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>())
    })
}

/// Every span named `name`.
pub fn find_all<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

/// The span whose string attribute `key` equals `value`.
#[track_caller]
pub fn find_by_attr<'a>(spans: &'a [SpanData], key: &str, value: &str) -> &'a SpanData {
    find_where(
        spans,
        &format!("{key}={value:?}"),
        |s| matches!(attr(s, key), Some(Value::String(v)) if v.as_str() == value),
    )
}

/// Events of `span` named `name`.
pub fn events_named<'a>(span: &'a SpanData, name: &str) -> Vec<&'a opentelemetry::trace::Event> {
    span.events.iter().filter(|e| e.name == name).collect()
}

/// The one event of `span` named `name` (panics if there are zero or several).
#[track_caller]
pub fn one_event<'a>(span: &'a SpanData, name: &str) -> &'a opentelemetry::trace::Event {
    let evs = events_named(span, name);
    assert_eq!(evs.len(), 1, "{}: expected exactly one {name:?} event, have {:?}", span.name, event_names(span));
    evs[0]
}

pub fn event_attr<'a>(event: &'a opentelemetry::trace::Event, key: &str) -> Option<&'a Value> {
    event.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| &kv.value)
}

#[track_caller]
pub fn event_str<'a>(event: &'a opentelemetry::trace::Event, key: &str) -> &'a str {
    match event_attr(event, key) {
        Some(Value::String(s)) => s.as_str(),
        other => panic!("event {}: {key} should be a string, is {other:?}", event.name),
    }
}

#[track_caller]
pub fn event_f64(event: &opentelemetry::trace::Event, key: &str) -> f64 {
    match event_attr(event, key) {
        Some(Value::F64(v)) => *v,
        other => panic!("event {}: {key} should be a double, is {other:?}", event.name),
    }
}

/// Whether `s` is a lower-case UUIDv7 in the canonical 8-4-4-4-12 form (version 7, RFC 9562 variant).
pub fn is_uuid_v7(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
        && b[14] == b'7'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac]Z` (RFC 3339, UTC) into seconds since the Unix epoch.
pub fn parse_rfc3339_utc(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 20 || *b.last()? != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let frac = match &s[19..s.len() - 1] {
        "" => 0.0,
        f if f.starts_with('.') && f.len() > 1 && f[1..].bytes().all(|c| c.is_ascii_digit()) => {
            format!("0{f}").parse::<f64>().ok()?
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + se) as f64 + frac)
}

// === reading metrics: every test reads them through `botanu::testing::MetricSeries` ===

/// The metric `name` in the last export (cumulative temporality: the last export holds everything
/// recorded), or `None`.
#[cfg(feature = "testing")]
pub fn find_metric<'a>(rms: &'a [ResourceMetrics], name: &str) -> Option<MetricSeries<'a>> {
    let rm = rms.last()?;
    rm.scope_metrics().flat_map(|s| s.metrics()).find(|m| m.name() == name).map(MetricSeries::from)
}

/// The metric `name` in the last export; panics listing the exported names when it is not there.
#[cfg(feature = "testing")]
#[track_caller]
pub fn metric<'a>(rms: &'a [ResourceMetrics], name: &str) -> MetricSeries<'a> {
    find_metric(rms, name).unwrap_or_else(|| panic!("no metric {name}; have {:?}", metric_names(rms)))
}

/// The names of the metrics in the last export.
pub fn metric_names(rms: &[ResourceMetrics]) -> Vec<String> {
    rms.last()
        .map(|rm| rm.scope_metrics().flat_map(|s| s.metrics()).map(|x| x.name().to_owned()).collect())
        .unwrap_or_default()
}

/// Whether `series` is a histogram: its points count recordings (`count`) and sum them (`sum`); a
/// counter's point has its value in `sum`.
#[cfg(feature = "testing")]
pub fn is_histogram(series: &MetricSeries<'_>) -> bool {
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics as A, MetricData as D};
    matches!(
        series.metric().data(),
        A::F64(D::Histogram(_) | D::ExponentialHistogram(_))
            | A::U64(D::Histogram(_) | D::ExponentialHistogram(_))
            | A::I64(D::Histogram(_) | D::ExponentialHistogram(_))
    )
}

/// A point's attributes as `key → value` strings.
#[cfg(feature = "testing")]
pub fn point_attrs(point: &MetricPoint) -> std::collections::BTreeMap<String, String> {
    point.attributes.iter().map(|kv| (kv.key.to_string(), kv.value.to_string())).collect()
}

/// A point's attributes as sorted `(key, value)` strings, comparable with [`attr_set`].
#[cfg(feature = "testing")]
pub fn sorted_attrs(point: &MetricPoint) -> Vec<(String, String)> {
    point_attrs(point).into_iter().collect()
}

/// The values of a u64 counter by attribute set (`key=value` pairs, sorted), from the last export.
#[cfg(feature = "testing")]
pub fn counter_values(rms: &[ResourceMetrics], name: &str) -> std::collections::BTreeMap<Vec<(String, String)>, u64> {
    let points = find_metric(rms, name).map(|series| series.points()).unwrap_or_default();
    points.iter().map(|p| (sorted_attrs(p), p.sum as u64)).collect()
}

/// A sorted attribute set for [`counter_values`].
pub fn attr_set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    out.sort();
    out
}

/// A value whose `Debug` panics.
pub struct Booby;

impl std::fmt::Debug for Booby {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("Debug exploded")
    }
}

/// An error whose `Display` panics.
#[derive(Debug)]
pub struct Treacherous;

impl std::fmt::Display for Treacherous {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("Display exploded")
    }
}

impl std::error::Error for Treacherous {}

/// `botanu.gen_ai.attempts` by its `status` attribute.
#[cfg(feature = "testing")]
pub fn attempts_by_status(rms: &[ResourceMetrics]) -> std::collections::BTreeMap<String, u64> {
    use botanu::semconv::metrics as m;
    let mut out = std::collections::BTreeMap::new();
    for p in find_metric(rms, m::ATTEMPTS).map(|series| series.points()).unwrap_or_default() {
        let status = point_attrs(&p).remove(m::STATUS);
        *out.entry(status.unwrap_or_default()).or_insert(0) += p.sum as u64;
    }
    out
}
