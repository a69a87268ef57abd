//! What a capture exported, and the look-ups tests assert with.

use std::fmt;

use opentelemetry::trace::{Event, SpanId, SpanKind, Status};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::trace::SpanData;

use crate::semconv as k;

/// The spans and metrics a capture exported, in the order the spans ended (children before parents).
pub struct Captured {
    spans: Vec<CapturedSpan>,
    metrics: Vec<ResourceMetrics>,
}

impl Captured {
    pub(super) fn new(spans: Vec<SpanData>, metrics: Vec<ResourceMetrics>) -> Self {
        Captured { spans: spans.into_iter().map(CapturedSpan).collect(), metrics }
    }

    /// Every exported span, in the order they ended.
    pub fn spans(&self) -> &[CapturedSpan] {
        &self.spans
    }

    /// The exported runs (spans that opened a run: they carry `botanu.run.start_time`), in the order
    /// they ended.
    pub fn runs(&self) -> Vec<&CapturedSpan> {
        self.spans.iter().filter(|s| s.is_run()).collect()
    }

    /// The one run.
    ///
    /// # Panics
    ///
    /// Unless exactly one run was exported; the message lists what was.
    #[track_caller]
    pub fn run(&self) -> &CapturedSpan {
        match self.runs().as_slice() {
            [one] => one,
            runs => panic!("expected exactly one run, found {}\n{self}", runs.len()),
        }
    }

    /// The run of workflow `workflow` (the first to end, if several).
    ///
    /// # Panics
    ///
    /// When there is none; the message lists what was exported.
    #[track_caller]
    pub fn run_of(&self, workflow: &str) -> &CapturedSpan {
        self.find_where(&format!("run of workflow {workflow:?}"), |s| {
            s.is_run() && s.attr_str(k::WORKFLOW) == Some(workflow)
        })
    }

    /// The span named `name` (the first to end, if several).
    ///
    /// # Panics
    ///
    /// When there is none; the message lists what was exported.
    #[track_caller]
    pub fn span(&self, name: &str) -> &CapturedSpan {
        self.find_where(&format!("span named {name:?}"), |s| s.name() == name)
    }

    /// The first span (in the order they ended) for which `pred` holds.
    pub fn find(&self, pred: impl Fn(&CapturedSpan) -> bool) -> Option<&CapturedSpan> {
        self.spans.iter().find(|s| pred(s))
    }

    /// Like [`find`](Self::find), panicking with `what` and a listing of what was exported.
    #[track_caller]
    pub fn find_where(&self, what: &str, pred: impl Fn(&CapturedSpan) -> bool) -> &CapturedSpan {
        match self.find(pred) {
            Some(span) => span,
            None => panic!("found no {what}\n{self}"),
        }
    }

    /// The direct children of `parent`, in the order they ended.
    pub fn children_of(&self, parent: &CapturedSpan) -> Vec<&CapturedSpan> {
        self.spans.iter().filter(|s| s.is_child_of(parent)).collect()
    }

    /// Every span below `ancestor` (children, their children, …), in the order they ended.
    pub fn descendants_of(&self, ancestor: &CapturedSpan) -> Vec<&CapturedSpan> {
        self.spans.iter().filter(|s| self.is_below(s, ancestor)).collect()
    }

    /// Whether `span` belongs to `run`: it carries the run's `botanu.run_id`, which botanu stamps on
    /// every span inside a run (the run span included).
    pub fn is_in_run(&self, span: &CapturedSpan, run: &CapturedSpan) -> bool {
        span.run_id().is_some() && span.run_id() == run.run_id()
    }

    /// The LLM calls: spans with a `gen_ai.provider.name` whose operation is a model call (`chat`,
    /// `embeddings`, …, not `execute_tool` or `invoke_agent`; see
    /// [`is_model_operation`](crate::normalize::is_model_operation)), in the order they ended.
    pub fn llm_calls(&self) -> Vec<&CapturedSpan> {
        self.spans.iter().filter(|s| s.is_llm_call()).collect()
    }

    /// The tool calls (`gen_ai.operation.name = execute_tool`), in the order they ended.
    pub fn tool_calls(&self) -> Vec<&CapturedSpan> {
        self.spans.iter().filter(|s| s.attr_str(k::GEN_AI_OPERATION_NAME) == Some(k::OPERATION_EXECUTE_TOOL)).collect()
    }

    /// The metric batches as exported (one per flush).
    pub fn resource_metrics(&self) -> &[ResourceMetrics] {
        &self.metrics
    }

    /// The names of every exported metric, sorted, without repeats.
    pub fn metric_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.all_metrics().map(|m| m.name().to_owned()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// The metric `name` as last exported, or `None`.
    pub fn find_metric(&self, name: &str) -> Option<MetricSeries<'_>> {
        // Cumulative temporality: the last export holds everything recorded.
        self.all_metrics().filter(|m| m.name() == name).last().map(MetricSeries)
    }

    /// The metric `name` as last exported.
    ///
    /// # Panics
    ///
    /// When no such metric was exported; the message lists the names that were.
    #[track_caller]
    pub fn metric(&self, name: &str) -> MetricSeries<'_> {
        match self.find_metric(name) {
            Some(metric) => metric,
            None => panic!("no metric named {name:?} was exported; have {:?}", self.metric_names()),
        }
    }

    fn all_metrics(&self) -> impl Iterator<Item = &Metric> {
        self.metrics.iter().flat_map(|rm| rm.scope_metrics()).flat_map(|sm| sm.metrics())
    }

    fn parent_of(&self, span: &CapturedSpan) -> Option<&CapturedSpan> {
        self.spans.iter().find(|p| span.is_child_of(p))
    }

    fn is_below(&self, span: &CapturedSpan, ancestor: &CapturedSpan) -> bool {
        let mut current = span;
        // Bounded by the number of spans, in case ids ever form a cycle.
        for _ in 0..self.spans.len() {
            match self.parent_of(current) {
                Some(parent) if parent.span_id() == ancestor.span_id() => return true,
                Some(parent) => current = parent,
                None => return false,
            }
        }
        false
    }
}

/// A listing of every exported span (name, kind, status, parent, attributes, events) and metric name:
/// what the look-ups print when they find nothing.
impl fmt::Display for Captured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "exported {} span(s):", self.spans.len())?;
        for (i, span) in self.spans.iter().enumerate() {
            let parent = match self.spans.iter().position(|p| span.is_child_of(p)) {
                Some(p) => format!("child of #{p}"),
                None if span.parent_span_id() == SpanId::INVALID => "root".to_owned(),
                None => format!("parent {} not exported here", span.parent_span_id()),
            };
            write!(f, "  #{i} {parent}: {span}")?;
        }
        write!(f, "metrics: {:?}", self.metric_names())
    }
}

impl fmt::Debug for Captured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One exported span: the SDK's [`SpanData`] with typed attribute look-ups.
///
/// Its `Display` lists the span (name, kind, status, attributes, events), for assertion messages:
/// `assert_eq!(span.attr_str("k"), Some("v"), "{span}")`.
#[derive(Debug, Clone)]
pub struct CapturedSpan(SpanData);

impl fmt::Display for CapturedSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:?} {:?} {:?}", self.name(), self.kind(), self.status())?;
        for kv in self.attributes() {
            writeln!(f, "      {} = {}", kv.key, kv.value)?;
        }
        for event in self.events() {
            writeln!(f, "      event {:?}", event.name)?;
        }
        Ok(())
    }
}

impl CapturedSpan {
    /// The span as the exporter received it.
    pub fn data(&self) -> &SpanData {
        &self.0
    }

    /// The exported name (`botanu.run/support`, `chat gpt-4o`, …).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The OpenTelemetry span kind.
    pub fn kind(&self) -> SpanKind {
        self.0.span_kind.clone()
    }

    /// The span status (a run is OK or ERROR; other spans are Unset unless they failed).
    pub fn status(&self) -> &Status {
        &self.0.status
    }

    /// Whether the span's status is ERROR.
    pub fn is_error(&self) -> bool {
        matches!(self.0.status, Status::Error { .. })
    }

    /// This span's id.
    pub fn span_id(&self) -> SpanId {
        self.0.span_context.span_id()
    }

    /// The parent's span id (`SpanId::INVALID` for a root).
    pub fn parent_span_id(&self) -> SpanId {
        self.0.parent_span_id
    }

    /// Whether `parent` is this span's parent (same trace, parent span id).
    pub fn is_child_of(&self, parent: &CapturedSpan) -> bool {
        self.0.parent_span_id == parent.span_id() && self.0.span_context.trace_id() == parent.0.span_context.trace_id()
    }

    /// Every attribute, in the order they were set.
    pub fn attributes(&self) -> &[KeyValue] {
        &self.0.attributes
    }

    /// The attribute `key`, whatever its type.
    pub fn attr(&self, key: &str) -> Option<&Value> {
        self.0.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| &kv.value)
    }

    /// Whether the span has the attribute `key`.
    pub fn has_attr(&self, key: &str) -> bool {
        self.attr(key).is_some()
    }

    /// The string attribute `key`; `None` when absent or not a string.
    pub fn attr_str(&self, key: &str) -> Option<&str> {
        match self.attr(key)? {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The integer attribute `key`; `None` when absent or not an integer.
    pub fn attr_i64(&self, key: &str) -> Option<i64> {
        match self.attr(key)? {
            Value::I64(v) => Some(*v),
            _ => None,
        }
    }

    /// The floating-point attribute `key`; `None` when absent or not a double.
    pub fn attr_f64(&self, key: &str) -> Option<f64> {
        match self.attr(key)? {
            Value::F64(v) => Some(*v),
            _ => None,
        }
    }

    /// The boolean attribute `key`; `None` when absent or not a bool.
    pub fn attr_bool(&self, key: &str) -> Option<bool> {
        match self.attr(key)? {
            Value::Bool(v) => Some(*v),
            _ => None,
        }
    }

    /// The string-array attribute `key`; `None` when absent or not a string array.
    pub fn attr_strs(&self, key: &str) -> Option<Vec<&str>> {
        match self.attr(key)? {
            Value::Array(Array::String(items)) => Some(items.iter().map(|s| s.as_str()).collect()),
            _ => None,
        }
    }

    /// The span's events.
    pub fn events(&self) -> &[Event] {
        &self.0.events.events
    }

    /// The first event named `name`.
    pub fn event(&self, name: &str) -> Option<&Event> {
        self.events().iter().find(|e| e.name == name)
    }

    /// The run id this span carries (its own for a run, its run's for a span inside one).
    pub fn run_id(&self) -> Option<&str> {
        self.attr_str(k::RUN_ID)
    }

    /// Whether this span opened a run.
    pub fn is_run(&self) -> bool {
        self.has_attr(k::RUN_START_TIME)
    }

    /// Whether this span is an LLM call (see [`Captured::llm_calls`]).
    pub fn is_llm_call(&self) -> bool {
        self.has_attr(k::GEN_AI_PROVIDER_NAME)
            && self.attr_str(k::GEN_AI_OPERATION_NAME).is_none_or(crate::normalize::is_model_operation)
    }

    /// How a run ended, as its `botanu.run.completed` event says: `success`, `failure`, `partial`,
    /// `timeout` or `canceled`. `None` for a span that is not a run. (Not the business outcome a run
    /// emitted with `emit_outcome`: that is the `botanu.outcome.status` attribute, an
    /// [`OutcomeStatus`](crate::OutcomeStatus).)
    pub fn run_status(&self) -> Option<&str> {
        let completed = self.event(k::EVENT_RUN_COMPLETED)?;
        completed.attributes.iter().find(|kv| kv.key.as_str() == k::RUN_EVENT_STATUS).and_then(|kv| match &kv.value {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// The estimated cost in USD: a run's roll-up (`botanu.run.cost.usd`), or a priced span's own
    /// (`botanu.cost.usd`). `None` when nothing was priced (see `botanu.cost.unpriced_reason`).
    pub fn cost_usd(&self) -> Option<f64> {
        if self.is_run() {
            self.attr_f64(k::RUN_COST_USD)
        } else {
            self.attr_f64(k::COST_USD)
        }
    }
}

/// One exported metric: its data points in a form tests can compare.
#[derive(Debug, Clone, Copy)]
pub struct MetricSeries<'a>(&'a Metric);

/// Reads a metric exported elsewhere than through a capture (your own in-memory exporter or meter
/// provider, e.g. `opentelemetry_sdk::metrics::InMemoryMetricExporter`).
///
/// ```
/// use botanu::prelude::*;
/// use botanu::testing::MetricSeries;
///
/// let cap = botanu::testing::capture(|| {
///     llm_span!(provider = "openai", model = "gpt-4o")
///         .set_tokens(Tokens { input: 100, output: 20, ..Default::default() });
/// });
/// // Metrics as an exporter hands them over: batches of scopes of metrics.
/// let usage = cap.resource_metrics()
///     .iter()
///     .flat_map(|rm| rm.scope_metrics())
///     .flat_map(|scope| scope.metrics())
///     .find(|m| m.name() == "gen_ai.client.token.usage")
///     .map(MetricSeries::from)
///     .expect("exported");
/// assert_eq!(usage.total(), 120.0);
/// ```
impl<'a> From<&'a Metric> for MetricSeries<'a> {
    fn from(metric: &'a Metric) -> Self {
        MetricSeries(metric)
    }
}

impl<'a> MetricSeries<'a> {
    /// The SDK's metric.
    pub fn metric(&self) -> &'a Metric {
        self.0
    }

    /// The unit (`s`, `{token}`, `USD`, …).
    pub fn unit(&self) -> &'a str {
        self.0.unit()
    }

    /// Every data point (one per attribute set).
    pub fn points(&self) -> Vec<MetricPoint> {
        match self.0.data() {
            AggregatedMetrics::F64(data) => points_of(data, |v| v),
            AggregatedMetrics::U64(data) => points_of(data, |v| v as f64),
            AggregatedMetrics::I64(data) => points_of(data, |v| v as f64),
        }
    }

    /// The sum over every data point: a counter's total, or a histogram's sum of recorded values.
    pub fn total(&self) -> f64 {
        self.points().iter().map(|p| p.sum).sum()
    }

    /// The data points whose attribute `key` is the string `value`.
    pub fn points_where(&self, key: &str, value: &str) -> Vec<MetricPoint> {
        self.points().into_iter().filter(|p| p.attr_str(key) == Some(value)).collect()
    }
}

/// One data point of a metric, whatever the instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    /// The point's attributes.
    pub attributes: Vec<KeyValue>,
    /// Measurements recorded into a histogram point; 1 for a counter or gauge point.
    pub count: u64,
    /// A histogram's sum of recorded values, a counter's total, a gauge's value.
    pub sum: f64,
    /// A histogram's bucket boundaries (upper bounds, in order); empty for any other instrument and for
    /// an exponential histogram.
    pub bounds: Vec<f64>,
    /// A histogram's count per bucket (one more than `bounds`: the last is above every bound); empty
    /// where `bounds` is.
    pub bucket_counts: Vec<u64>,
}

impl MetricPoint {
    /// The string attribute `key` of this point.
    pub fn attr_str(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|kv| kv.key.as_str() == key).and_then(|kv| match &kv.value {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

/// The data points of one metric's data, whatever its number type (`as_f64` converts a value).
fn points_of<T: Copy>(data: &MetricData<T>, as_f64: impl Fn(T) -> f64) -> Vec<MetricPoint> {
    fn point<'k>(attrs: impl Iterator<Item = &'k KeyValue>, count: u64, sum: f64) -> MetricPoint {
        MetricPoint { attributes: attrs.cloned().collect(), count, sum, bounds: Vec::new(), bucket_counts: Vec::new() }
    }
    match data {
        MetricData::Histogram(h) => h
            .data_points()
            .map(|p| MetricPoint {
                bounds: p.bounds().collect(),
                bucket_counts: p.bucket_counts().collect(),
                ..point(p.attributes(), p.count(), as_f64(p.sum()))
            })
            .collect(),
        MetricData::Sum(s) => s.data_points().map(|p| point(p.attributes(), 1, as_f64(p.value()))).collect(),
        MetricData::Gauge(g) => g.data_points().map(|p| point(p.attributes(), 1, as_f64(p.value()))).collect(),
        MetricData::ExponentialHistogram(h) => {
            h.data_points().map(|p| point(p.attributes(), p.count() as u64, as_f64(p.sum()))).collect()
        }
    }
}
