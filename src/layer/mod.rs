//! [`BotanuLayer`]: the `tracing_subscriber::Layer` that turns botanu spans into OpenTelemetry spans.
//!
//! The layer is thin on purpose; it composes small parts:
//! - [`classify`]: per-callsite decision of a span's kind and each field's role;
//! - [`state`]: the per-span state in the Registry's extensions and the field visitor;
//! - [`export`]: turning a closed span's state into one OpenTelemetry span.
//!
//! A span the layer does not export (an ordinary `info_span!` with no botanu fields) gets no state at
//! all, so it costs one callsite lookup; its children link to the nearest exported ancestor.

mod bound_index;
mod callsites;
mod classify;
mod closed;
pub(crate) mod cost;
mod export;
mod instrument;
mod kinds;
pub(crate) mod metrics;
mod otel_context;
mod recent_strings;
pub(crate) mod recorder;
pub(crate) mod run_span;
mod side_channel;
pub(crate) mod state;
#[cfg(all(tracing_unstable, feature = "valuable"))]
mod structured;
pub(crate) mod values;

use std::any::TypeId;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_sdk::trace::SdkTracer;
use tracing_core::field::{Field, Visit};
use tracing_core::span::{self, Attributes, Record};
use tracing_core::{Event as TracingEvent, Interest, Level, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Layer;

use crate::config::{Config, PropagationMode};
use crate::content::{ContentPolicy, SecretKeys};
use crate::run::{RunContext, RunRelation};
use crate::semconv as k;
use classify::CallsiteInfo;
pub(crate) use export::PresetIdGenerator;
/// The finisher of the layer's closed spans.
pub(crate) type Pipeline = crate::pipeline::Pipeline<closed::Closed>;
use crate::text::{cut_str, MAX_VALUE_BYTES, SCRUB_INPUT_BYTES};
pub(crate) use kinds::Kind;
use metrics::Instruments;
use otel_context::Attached;
use recorder::Recorder;
use run_span::{adopt_remote, start_run};
pub(crate) use side_channel::{set_remote_parent, with_state};
use side_channel::{RemoteParent, WithContext};
use state::SpanState;

/// What the layer shares with the setters' side channel and the export path.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) tracer: SdkTracer,
    pub(crate) environment: Arc<str>,
    pub(crate) export_all: bool,
    pub(crate) max_events: usize,
    pub(crate) content: ContentPolicy,
    pub(crate) secret_keys: SecretKeys,
    pub(crate) metrics: Option<Instruments>,
    pub(crate) propagation_mode: PropagationMode,
    pub(crate) trust_inbound: bool,
    /// Events more verbose than this are not kept as span events (errors always count).
    pub(crate) event_level: Level,
    /// Whether a span processor runs user code inline (see `export::finish`).
    pub(crate) inline_processors: bool,
    /// Whether an entered exported span is the current OTel context (see `otel_context`).
    pub(crate) activate_context: bool,
    /// Counters of botanu's export queues, checked after each export for a pending warning.
    pub(crate) export_stats: Vec<Arc<crate::pipeline::ExportStats>>,
    /// Pricing of LLM calls and data operations; `None` when pricing is off.
    pub(crate) cost: Option<cost::CostLayer>,
    /// Where closed spans are handed off to be finished on botanu's thread (see `finisher`); `None`
    /// when span processors run inline.
    pub(crate) pipeline: Option<Arc<Pipeline>>,
    /// Classified callsites. Entries are leaked on purpose: a callsite is `'static` and finite, so the
    /// table holds at most one small `CallsiteInfo` per callsite per layer built, and spans can keep a
    /// `&'static` to it without reference counting on the hot path. Read without a lock.
    callsites: callsites::CallsiteTable,
}

/// What [`Shared`] is built from besides the resolved [`Config`]: parts the builder makes (the tracer,
/// the content policy, the instruments, …).
pub(crate) struct SharedParts {
    pub(crate) tracer: SdkTracer,
    pub(crate) content: ContentPolicy,
    pub(crate) secret_keys: SecretKeys,
    pub(crate) metrics: Option<Instruments>,
    pub(crate) event_level: Level,
    pub(crate) inline_processors: bool,
    pub(crate) export_stats: Vec<Arc<crate::pipeline::ExportStats>>,
    pub(crate) cost: Option<cost::CostLayer>,
    pub(crate) activate_context: bool,
    pub(crate) pipeline: Option<Arc<Pipeline>>,
}

impl Shared {
    /// One expression from the resolved settings: a field added to `Shared` and not set here fails to
    /// compile, and a setting the layer reads comes straight from `config`.
    pub(crate) fn new(config: &Config, parts: SharedParts) -> Self {
        let SharedParts {
            tracer,
            content,
            secret_keys,
            metrics,
            event_level,
            inline_processors,
            export_stats,
            activate_context,
            cost,
            pipeline,
        } = parts;
        Shared {
            tracer,
            environment: Arc::from(config.environment.as_str()),
            export_all: config.export_all_spans,
            max_events: config.max_events_per_span,
            content,
            secret_keys,
            metrics,
            propagation_mode: config.propagation_mode,
            trust_inbound: config.propagation_trust_inbound,
            event_level,
            inline_processors,
            activate_context,
            export_stats,
            cost,
            pipeline,
            callsites: callsites::CallsiteTable::default(),
        }
    }

    /// The callsite's classification, computed on first sight (normally at registration).
    #[inline]
    fn callsite(&self, meta: &'static Metadata<'static>) -> &'static CallsiteInfo {
        match self.callsites.get(&meta.callsite()) {
            Some(info) => info,
            None => self.register(meta),
        }
    }

    fn register(&self, meta: &'static Metadata<'static>) -> &'static CallsiteInfo {
        self.callsites
            .insert_with(meta.callsite(), || classify::classify(meta, &|name| self.secret_keys.is_secret(name)))
    }
}

/// A `tracing_subscriber::Layer` that exports botanu spans as OpenTelemetry spans with run context.
///
/// Build one with [`Builder::build`](crate::Builder::build) (for an existing subscriber stack) or let
/// [`init`](crate::init) install one.
pub struct BotanuLayer<S> {
    shared: Arc<Shared>,
    with_context: WithContext,
    _subscriber: PhantomData<fn(S)>,
}

impl<S> std::fmt::Debug for BotanuLayer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotanuLayer")
            .field("environment", &self.shared.environment)
            .field("export_all", &self.shared.export_all)
            .finish_non_exhaustive()
    }
}

impl<S> BotanuLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    /// The layer over `shared`; starts the finisher thread of its pipeline, if it has one.
    pub(crate) fn from_shared(shared: Shared) -> Self {
        let shared = Arc::new(shared);
        if let Some(pipeline) = &shared.pipeline {
            // Not started (no thread could be spawned): `is_running` stays false, spans finish inline.
            let stage = shared.clone();
            let _ = pipeline.start(move |span| closed::finish(span, &stage));
        }
        BotanuLayer { shared, with_context: WithContext::new::<S>(), _subscriber: PhantomData }
    }

    /// A field formatter for a `fmt` layer that redacts like this layer does (same secret keys, same
    /// replacement).
    pub(crate) fn redacting_fields(&self) -> crate::fmt_fields::RedactingFields {
        crate::fmt_fields::RedactingFields::new(
            self.shared.secret_keys.clone(),
            self.shared.content.scrubber().replacement(),
        )
    }
}

/// Whether botanu exports spans of this callsite by their fields alone (`export_all_spans` aside).
pub(crate) fn is_botanu_callsite(meta: &Metadata<'_>) -> bool {
    classify::kind_of(meta) != Kind::Other
}

/// The OTel context of `span`'s nearest exported span; `None` without a botanu layer or outside
/// anything exported.
pub(crate) fn otel_context_of(span: &tracing::Span) -> Option<opentelemetry::Context> {
    let mut cx = None;
    with_state(span, |state, shared| cx = Some(otel_context::context_of(state, shared)));
    cx
}

/// What a new span inherits from its nearest exported ancestor.
struct Inherited {
    trace_id: opentelemetry::trace::TraceId,
    parent_span_id: opentelemetry::trace::SpanId,
    parent_is_remote: bool,
    run: Option<Arc<RunContext>>,
    step: Option<Arc<str>>,
    trace_state: Option<Arc<str>>,
    /// Set when the nearest ancestor with context is a non-exported span carrying a remote parent.
    remote: Option<RemoteParent>,
}

fn inherit<S>(parent: Option<SpanRef<'_, S>>) -> Option<Inherited>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    for ancestor in parent?.scope() {
        let ext = ancestor.extensions();
        if let Some(st) = ext.get::<SpanState>() {
            return Some(Inherited {
                trace_id: st.trace_id,
                parent_span_id: st.span_id,
                parent_is_remote: false,
                run: st.run.clone(),
                // A run starts its own step scope: its children are in no step until one opens.
                step: if st.kind == Kind::Run { None } else { st.step.clone() },
                trace_state: st.trace_state.clone(),
                remote: None,
            });
        }
        if let Some(rp) = ext.get::<RemoteParent>() {
            let (trace_id, parent_span_id) = rp.remote.ids().unwrap_or((TraceId::INVALID, SpanId::INVALID));
            return Some(Inherited {
                trace_id,
                parent_span_id,
                parent_is_remote: true,
                run: None,
                step: None,
                trace_state: None,
                remote: Some(rp.clone()),
            });
        }
    }
    None
}

impl<S> Layer<S> for BotanuLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.is_span() {
            self.shared.register(meta);
        }
        Interest::always()
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        // The callsite first: most spans are not botanu's, and this read is cheaper than the
        // suppression check's thread-local.
        let info = self.shared.callsite(attrs.metadata());
        if (info.kind == Kind::Other && !self.shared.export_all)
            || opentelemetry::Context::is_current_telemetry_suppressed()
        {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let parent = if let Some(p) = attrs.parent() {
            ctx.span(p)
        } else if attrs.is_contextual() {
            ctx.lookup_current()
        } else {
            None
        };
        let mut inherited = inherit(parent);
        // A contextual span also looks at the current OTel context: another layer's span entered in
        // between, or a context attached by OTel-native code when there is no exported ancestor.
        let attached = if attrs.parent().is_none() && attrs.is_contextual() {
            // A remote parent set on a non-exported ancestor is explicit: it is not second-guessed.
            match &inherited {
                Some(i) if i.parent_is_remote => Attached::Nothing,
                _ => otel_context::attached(inherited.as_ref().map(|i| (i.trace_id, i.parent_span_id))),
            }
        } else {
            Attached::Nothing
        };
        if let (Attached::ParentSpan(sc), Some(inh)) = (&attached, inherited.as_mut()) {
            inh.parent_span_id = sc.span_id();
            inh.parent_is_remote = sc.is_remote();
        }
        let remote = inherited.as_mut().and_then(|i| i.remote.take());
        let parent_trace = inherited.as_ref().map(|i| i.trace_id).filter(|t| *t != TraceId::INVALID);
        let (trace_id, span_id) = export::new_ids(parent_trace);
        let mut state = SpanState::new(info.kind, trace_id, span_id, SystemTime::now());
        state.info = Some(info);
        if let Some(inh) = inherited {
            state.parent_span_id = inh.parent_span_id;
            state.parent_is_remote = inh.parent_is_remote;
            state.run = inh.run;
            state.step = inh.step;
            state.trace_state = inh.trace_state;
            if inh.parent_span_id == SpanId::INVALID {
                state.parent_is_remote = false;
            }
        }
        attrs.record(&mut Recorder { state: &mut state, info, shared: &self.shared });
        match info.kind {
            Kind::Run => start_run(&mut state, &self.shared),
            Kind::Step => state.step = state.get_str(k::STEP).map(|s| Arc::from(s.as_ref())),
            Kind::Llm => state.set_default(k::GEN_AI_OPERATION_NAME, Value::from(k::OPERATION_CHAT)),
            Kind::Tool => {
                state.set(Key::from_static_str(k::GEN_AI_OPERATION_NAME), Value::from(k::OPERATION_EXECUTE_TOOL))
            }
            Kind::Db | Kind::Storage | Kind::Messaging | Kind::Other => {}
        }
        if let Some(rp) = remote {
            adopt_remote(&mut state, &self.shared, &rp.remote, rp.relation);
        }
        if let Attached::Adopt(remote, is_remote) = attached {
            // As a server's remote parent (`BotanuHttpLayer`'s default): an inbound run continues.
            adopt_remote(&mut state, &self.shared, &remote, RunRelation::Continue);
            state.parent_is_remote = is_remote && state.parent_span_id != SpanId::INVALID;
        }
        cost::opened(&state, &self.shared);
        span.extensions_mut().insert(state);
    }

    fn on_record(&self, id: &span::Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        let Some(state) = ext.get_mut::<SpanState>() else { return };
        let info = match state.info {
            Some(info) => info,
            None => self.shared.callsite(span.metadata()),
        };
        values.record(&mut Recorder { state, info, shared: &self.shared });
        if state.kind == Kind::Run {
            let fields = span.metadata().fields();
            run_span::sync_recorded(state, |key| fields.field(key).is_some_and(|f| values.contains(&f)));
        }
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        if !self.shared.activate_context {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        // A span of a kind botanu does not export has no state: skip the extensions' lock.
        if !self.shared.export_all && self.shared.callsite(span.metadata()).kind == Kind::Other {
            return;
        }
        // One read lock answers both "is it exported?" (a span botanu does not export has no state) and
        // "what is its context?"; it is released before attaching, so no other code runs under it.
        let cx = otel_context::entered_context(&span.extensions(), &self.shared);
        if let Some(cx) = cx {
            otel_context::activate(id, cx);
        }
    }

    fn on_exit(&self, id: &span::Id, _ctx: Context<'_, S>) {
        if self.shared.activate_context {
            otel_context::deactivate(id);
        }
    }

    fn on_follows_from(&self, id: &span::Id, follows: &span::Id, ctx: Context<'_, S>) {
        let Some(target) = inherit(ctx.span(follows)) else { return };
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(state) = ext.get_mut::<SpanState>() {
            state.links.push(Link::with_context(SpanContext::new(
                target.trace_id,
                target.parent_span_id,
                TraceFlags::SAMPLED,
                target.parent_is_remote,
                TraceState::NONE,
            )));
        }
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        // Before the level filter: `#[instrument(level = "debug", ret)]` returns at DEBUG.
        if instrument::is_return_event(event.metadata()) && instrument::record_return(event, &ctx, &self.shared) {
            return;
        }
        // Libraries' DEBUG/TRACE chatter (an HTTP client's connection pool, say) is not cost data.
        // In `tracing`, more verbose levels compare greater.
        if *event.metadata().level() > self.shared.event_level
            || opentelemetry::Context::is_current_telemetry_suppressed()
        {
            return;
        }
        let Some(span) = ctx.event_span(event) else { return };
        for s in span.scope() {
            let mut ext = s.extensions_mut();
            let Some(state) = ext.get_mut::<SpanState>() else { continue };
            let mut visitor = EventFields::new(&self.shared.secret_keys, self.shared.content.scrubber().replacement());
            event.record(&mut visitor);
            let meta = event.metadata();
            let is_error = *meta.level() == Level::ERROR || visitor.error_type.is_some();
            if is_error && owns_event(s.metadata(), event) {
                let error_type = visitor.error_type.take().unwrap_or_else(|| "error".to_owned());
                let message = visitor.message.take().unwrap_or_default();
                state.fail(&error_type, &message);
            } else {
                // A library's error that is not this span's own work (see `owns_event`) is kept as an
                // ordinary event: visible, but it does not fail the span.
                if let Some(error_type) = visitor.error_type.take() {
                    visitor.attrs.push(KeyValue::new(k::ERROR_TYPE, error_type));
                }
                let name = match visitor.message.take() {
                    // A log message may quote a key or an address: events are scrubbed like content,
                    // on a bounded window (the message was formatted to at most the scrubber's input).
                    Some(m) => self.shared.content.scrubber().scrub_capped(&m, MAX_VALUE_BYTES).into_owned(),
                    None => meta.name().to_owned(),
                };
                let event = Event::new(name, SystemTime::now(), visitor.attrs, 0);
                state.push_event(event, self.shared.max_events);
            }
            return;
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        // A span of a kind botanu does not export has no state: skip the extensions' lock.
        if !self.shared.export_all && self.shared.callsite(span.metadata()).kind == Kind::Other {
            return;
        }
        // Take the state out so no Registry lock is held while the SDK and exporters run.
        let Some(state) = span.extensions_mut().remove::<SpanState>() else { return };
        let end = SystemTime::now();
        let shared = &self.shared;
        match shared.pipeline.as_deref().filter(|p| p.is_running()) {
            // The finisher logs the first-drop warning itself, on this thread's dispatcher.
            Some(pipeline) => {
                let closed = closed::Closed::new(state, span.metadata(), end, shared);
                if let Some(closed) = pipeline.hand_off(closed) {
                    // The finisher is behind: this thread finishes the span itself.
                    if !closed::finish(closed, shared) {
                        pipeline.count_dropped(1);
                    }
                    crate::pipeline::report_drops(&shared.export_stats);
                }
            }
            None => {
                let (run_open, _) = closed::closing(&state, shared, false);
                export::finish(state, shared, span.metadata(), end, run_open);
                crate::pipeline::report_drops(&shared.export_stats);
            }
        }
    }

    // SAFETY: `tracing` casts the returned pointer back to the type whose `TypeId` it asked for, so
    // each arm must return a pointer to a value of exactly that type: `self` for `Self`, the
    // `WithContext` field for `WithContext`. Both live as long as the layer, which outlives the
    // borrow of the dispatcher the caller holds.
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else if id == TypeId::of::<WithContext>() {
            Some(&self.with_context as *const WithContext as *const ())
        } else {
            None
        }
    }
}

/// Whether an error event belongs to the work of the exported span it is recorded on, and so fails it.
///
/// `tracing` hands the layer an event with the span that is current (or the explicit parent), but a
/// library often logs an error it handles or returns while none of its own spans is entered (genai logs
/// a failed stream that way), so the event lands on the caller's span — typically the business run. The
/// rule, from what is knowable in `on_event`:
/// - an event with an explicit parent (`error!(parent: &span, …)`) belongs to that span: its author chose it;
/// - otherwise the event belongs to the span when both callsites are in the same crate (the first
///   segment of their module paths): the user's own `tracing::error!` inside their step fails the step,
///   a library's log inside the user's span does not. The library's own spans fail through what it
///   records on them (`error.type`, `otel.status_code`, an error field), and the caller's through
///   `set_error` or an error of their own.
fn owns_event(span: &Metadata<'_>, event: &TracingEvent<'_>) -> bool {
    event.parent().is_some() || crate_of(span) == crate_of(event.metadata())
}

/// The crate of a callsite: the first segment of its module path (its target when it has none). The
/// module path, not the target: `error!(target: "audit", …)` is still the caller's own event.
fn crate_of<'a>(meta: &Metadata<'a>) -> &'a str {
    let path = meta.module_path().unwrap_or_else(|| meta.target());
    path.split("::").next().unwrap_or(path)
}

/// Collects an event's message, error and other fields; values of secret-looking fields are redacted.
struct EventFields<'a> {
    secret_keys: &'a SecretKeys,
    replacement: &'a str,
    message: Option<String>,
    error_type: Option<String>,
    attrs: Vec<KeyValue>,
}

impl<'a> EventFields<'a> {
    fn new(secret_keys: &'a SecretKeys, replacement: &'a str) -> Self {
        EventFields { secret_keys, replacement, message: None, error_type: None, attrs: Vec::new() }
    }

    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            k::MESSAGE => self.message = Some(value.to_string()),
            k::ERROR_TYPE => self.error_type = Some(cut_str(&value.to_string(), MAX_VALUE_BYTES).to_owned()),
            name if self.secret_keys.is_secret(name) => {
                self.attrs.push(KeyValue::new(Key::from_static_str(name), self.replacement.to_owned()))
            }
            name => self.attrs.push(KeyValue::new(Key::from_static_str(name), value)),
        }
    }
}

impl Visit for EventFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        // The message keeps the scrubber's look-ahead (it is scrubbed, then cut); other values the cap.
        let max = if field.name() == k::MESSAGE { SCRUB_INPUT_BYTES } else { MAX_VALUE_BYTES };
        self.put(field, Value::from(cut_str(value, max).to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::I64(i64::try_from(value).unwrap_or(i64::MAX)));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::F64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.error_type.is_none() {
            self.error_type = Some(crate::text::error_type_name(value));
        }
        if self.message.is_none() {
            self.message = Some(crate::text::display_string(value));
        }
        let _ = field;
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == k::ERROR_FIELD && self.error_type.is_none() {
            self.error_type = Some("error".to_owned());
        }
        let mut s = crate::text::debug_string(value);
        if field.name() != k::MESSAGE {
            s.truncate(cut_str(&s, MAX_VALUE_BYTES).len());
        }
        self.put(field, Value::from(s));
    }
}
