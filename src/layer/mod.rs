//! [`BotanuLayer`]: the `tracing_subscriber::Layer` that turns botanu spans into OpenTelemetry spans.
//!
//! The layer is thin on purpose; it composes small parts:
//! - recognizing: [`classify`] (per-callsite decision of a span's kind and each field's role, over the
//!   one table of kinds in [`kinds`]), [`callsites`] (the lock-free per-callsite cache);
//! - recording: [`state`] (the per-span state in the Registry's extensions), [`recorder`] (the field
//!   visitor), [`values`] (field value parsers), [`side_channel`] (setters with dynamic keys),
//!   [`instrument`] (`#[instrument]` arguments and return values), [`run_span`] (the run's rules),
//!   [`otel_context`] (the OTel context while a span is entered);
//! - finishing: [`closed`] (the hand-off to the finisher in `crate::pipeline` and the run roll-up's
//!   pending protocol), [`export`] (a closed span's state into one OpenTelemetry span), [`cost`] (pricing
//!   and the roll-up), [`metrics`] with its caches [`bound_index`] and [`recent_strings`].
//!
//! A span the layer does not export (an ordinary `info_span!` with no botanu fields) gets no state at
//! all, so it costs one callsite lookup; its children link to the nearest exported ancestor.

pub(crate) mod aws;
mod bound_cache;
mod bound_index;
pub(crate) mod budget;
mod callsites;
mod classify;
mod closed;
pub(crate) mod cost;
mod event;
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{Link, SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry::{InstrumentationScope, Key, Value};
use opentelemetry_sdk::trace::{SdkTracer, SpanLimits};
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
pub(crate) use kinds::Kind;
use metrics::Instruments;
use otel_context::Attached;
use recorder::{Formatting, Preformatted, Recorder};
use run_span::{adopt_remote, start_run};
#[cfg(feature = "aws")]
pub(crate) use side_channel::with_aws_operation_state;
pub(crate) use side_channel::{set_remote_parent, with_own_state, with_state};
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
    /// `OTEL_SEMCONV_STABILITY_OPT_IN`: which names are written (contract §9).
    pub(crate) semconv: crate::config::SemconvOptIn,
    /// Events more verbose than this are not kept as span events (errors always count).
    pub(crate) event_level: Level,
    /// Whether a span processor of the provider runs the user's code (`with_span_processor`,
    /// `with_span_exporter`, the console): it then runs shielded from `tracing`, on whichever thread
    /// finishes the span, and botanu's queues cannot be fed directly (see `export::finish`).
    pub(crate) user_processors: bool,
    /// Handles on botanu's export queues, fed directly when no user processor needs an SDK span.
    pub(crate) queues: Vec<crate::pipeline::QueueProcessor>,
    /// The user's processors and whether the provider is shutting down (see `pipeline::user`).
    pub(crate) link: Arc<crate::pipeline::FinisherLink>,
    /// The provider's span limits, applied to a span built directly as the SDK applies them.
    pub(crate) span_limits: SpanLimits,
    /// The tracer's instrumentation scope (botanu and its version).
    pub(crate) scope: InstrumentationScope,
    /// Whether an entered exported span is the current OTel context (see `otel_context`).
    pub(crate) activate_context: bool,
    /// Counters of botanu's export queues, checked after each export for a pending warning.
    pub(crate) export_stats: Vec<Arc<crate::pipeline::ExportStats>>,
    /// Pricing of LLM calls and data operations; `None` when pricing is off.
    pub(crate) cost: Option<cost::CostLayer>,
    /// Spending caps; `None` unless caps were configured (then nothing budget-related runs per span).
    pub(crate) budget: Option<budget::BudgetLayer>,
    /// Where closed spans are handed off to be finished on botanu's thread (see `finisher`); `None`
    /// when spans are finished where they close (`botanu::testing`).
    pub(crate) pipeline: Option<Arc<Pipeline>>,
    /// Classified callsites, read without a lock; freed with the layer, their classifications interned
    /// process-wide so spans keep a `&'static` to one (see `callsites`).
    callsites: callsites::CallsiteTable,
    /// Set once a setter has given botanu data to a span botanu did not export (see `side_channel`):
    /// from then on a plain span may have a state, and the paths that skip plain spans look.
    promoted: AtomicBool,
}

/// What [`Shared`] is built from besides the resolved [`Config`]: parts the builder makes (the tracer,
/// the content policy, the instruments, …).
pub(crate) struct SharedParts {
    pub(crate) tracer: SdkTracer,
    pub(crate) content: ContentPolicy,
    pub(crate) secret_keys: SecretKeys,
    pub(crate) metrics: Option<Instruments>,
    pub(crate) event_level: Level,
    pub(crate) user_processors: bool,
    pub(crate) queues: Vec<crate::pipeline::QueueProcessor>,
    pub(crate) link: Arc<crate::pipeline::FinisherLink>,
    pub(crate) span_limits: SpanLimits,
    pub(crate) scope: InstrumentationScope,
    pub(crate) export_stats: Vec<Arc<crate::pipeline::ExportStats>>,
    pub(crate) cost: Option<cost::CostLayer>,
    pub(crate) budget: Option<budget::BudgetLayer>,
    pub(crate) activate_context: bool,
    pub(crate) pipeline: Option<Arc<Pipeline>>,
}

impl crate::fmt_fields::Redaction for Shared {
    fn is_secret(&self, name: &str) -> bool {
        self.secret_keys.is_secret(name)
    }

    fn scrubber(&self) -> &crate::content::Scrubber {
        self.content.scrubber()
    }
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
            user_processors,
            queues,
            link,
            span_limits,
            scope,
            export_stats,
            activate_context,
            cost,
            budget,
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
            semconv: config.semconv_opt_in,
            event_level,
            user_processors,
            queues,
            link,
            span_limits,
            scope,
            activate_context,
            export_stats,
            cost,
            budget,
            pipeline,
            callsites: callsites::CallsiteTable::default(),
            promoted: AtomicBool::new(false),
        }
    }

    /// Whether a span of `info`'s callsite may have a [`SpanState`]: botanu exports its kind, every span
    /// is exported, or a setter has given a plain span botanu data (see `side_channel`).
    #[inline]
    pub(crate) fn may_have_state(&self, info: &CallsiteInfo) -> bool {
        // Relaxed: a promotion happens before the span's later record, enter or close through the
        // span's own synchronization (its extensions' lock, its reference count), and coherence makes
        // a flag written before that visible after it.
        self.export_all || info.kind != Kind::Other || self.promoted.load(Ordering::Relaxed)
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
    /// replacement, event messages through the same scrubber).
    pub(crate) fn redacting_fields(&self) -> crate::fmt_fields::RedactingFields {
        crate::fmt_fields::RedactingFields::new(self.shared.clone())
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

impl Inherited {
    /// A new span's state: fresh ids in the inherited trace (a new one without), the inherited parent,
    /// run and step.
    fn new_state(info: &'static CallsiteInfo, inherited: Option<Inherited>) -> SpanState {
        let parent_trace = inherited.as_ref().map(|i| i.trace_id).filter(|t| *t != TraceId::INVALID);
        let (trace_id, span_id) = export::new_ids(parent_trace);
        let mut state = SpanState::new(info.kind, trace_id, span_id, SystemTime::now());
        state.info = Some(info);
        if let Some(inh) = inherited {
            inh.apply(&mut state);
        }
        state
    }

    fn apply(self, state: &mut SpanState) {
        state.parent_span_id = self.parent_span_id;
        state.parent_is_remote = self.parent_is_remote && self.parent_span_id != SpanId::INVALID;
        state.run = self.run;
        state.step = self.step;
        state.trace_state = self.trace_state;
    }
}

/// The state of `span`, a span botanu does not export, when a setter gives it botanu data: it is
/// exported from now on as a plain span carrying that data, a child of its nearest exported ancestor
/// (or of the remote parent set on it or above it), in that ancestor's run. It starts now: `tracing`
/// does not say when a span opened, and botanu keeps nothing for spans it does not export. Children
/// opened before the promotion keep the ancestor as their parent.
fn promoted_state<S>(span: &SpanRef<'_, S>, own_remote: Option<RemoteParent>, shared: &Shared) -> SpanState
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let info = shared.callsite(span.metadata());
    shared.promoted.store(true, Ordering::Relaxed);
    let mut inherited = inherit(span.parent());
    let remote = own_remote.or_else(|| inherited.as_mut().and_then(|i| i.remote.take()));
    let mut state = Inherited::new_state(info, inherited);
    if let Some(rp) = remote {
        adopt_remote(&mut state, shared, &rp.remote, rp.relation);
    }
    cost::opened(&state, shared);
    state
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

/// A model call closed: the nearest exported ancestor, if it is an LLM span, wraps model calls, so it is
/// their agent or workflow (whatever its operation says) and its usage — the aggregate of theirs — is not
/// priced or counted again. Still open (a parent closes after its children), so its state is here.
fn mark_enclosing_agent<S>(span: &tracing_subscriber::registry::SpanRef<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(parent) = span.parent() else { return };
    for ancestor in parent.scope() {
        let mut ext = ancestor.extensions_mut();
        if let Some(state) = ext.get_mut::<SpanState>() {
            if state.kind == Kind::Llm {
                state.contains_model_calls = true;
            }
            return;
        }
    }
}

/// Whether the nearest exported ancestor is the application's own span for the AWS operation `op`:
/// the same kind, and the same system (an `llm_span!` of `aws.bedrock`, a `storage_span!` of `s3`).
fn is_wrapped<S>(parent: Option<&SpanRef<'_, S>>, op: &aws::AwsOperation) -> bool
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(parent) = parent else { return false };
    for ancestor in parent.scope() {
        let ext = ancestor.extensions();
        if let Some(st) = ext.get::<SpanState>() {
            let system = st.kind.spec().system.as_ref().and_then(|system| st.get_str(system.key));
            // A model call is wrapped by the application's own LLM span whatever provider it names
            // (`llm_span!(provider = "anthropic")` around a Bedrock `converse`): it is the same call.
            return st.kind == op.kind && (op.kind == Kind::Llm || system.is_some_and(|system| system == op.system));
        }
    }
    false
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
        // An SDK operation inside the application's own span for it (an `llm_span!` around a Bedrock
        // call, a `storage_span!` around `put_object`) is that span's detail, not a second operation.
        let wrapped = info.aws.as_ref().is_some_and(|op| is_wrapped(parent.as_ref(), op));
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
        let mut state = Inherited::new_state(info, inherited);
        // No lock is held: the state is not in the extensions yet, so a field's `Debug` may call back
        // into botanu (the setter then finds the parent, the current span).
        attrs.record(&mut Recorder { state: &mut state, info, shared: &self.shared, formatting: Formatting::Inline });
        if wrapped {
            state.kind = Kind::Other;
        } else if let Some(op) = &info.aws {
            recorder::apply_aws(&mut state, op);
        }
        match state.kind {
            Kind::Run => start_run(&mut state, &self.shared),
            Kind::Step => state.step = state.get_str(k::STEP).map(|s| Arc::from(s.as_ref())),
            Kind::Llm => {
                state.set_default(k::GEN_AI_OPERATION_NAME, Value::from(k::OPERATION_CHAT));
                if let (Some(provider), None) = (info.provider_hint, state.get(k::GEN_AI_PROVIDER_NAME)) {
                    recorder::apply_system(&mut state, Kind::Llm, provider);
                }
            }
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
        let info = self.shared.callsite(span.metadata());
        // A span of a kind botanu does not export has no state: nothing to format, no lock to take.
        if !self.shared.may_have_state(info) {
            return;
        }
        // A plain span may have a state only once promoted: a short read lock spares formatting for one
        // that has none.
        if info.kind == Kind::Other && !self.shared.export_all && span.extensions().get::<SpanState>().is_none() {
            return;
        }
        // The plain values first, under the lock; a value needing user code to format (a `Debug`,
        // `Display` or `Error`, which may call a setter, record on this span, log or open a span, all of
        // which lock this span's extensions) only noted.
        let mut deferred = false;
        let mut ext = span.extensions_mut();
        let Some(state) = ext.get_mut::<SpanState>() else { return };
        let info = state.info.unwrap_or(info);
        let formatting = Formatting::Deferred(&mut deferred);
        values.record(&mut Recorder { state, info, shared: &self.shared, formatting });
        if deferred {
            // Formatted with no lock held, then recorded in a second pass.
            drop(ext);
            let done = Preformatted::collect(values, info, &self.shared);
            ext = span.extensions_mut();
            let Some(state) = ext.get_mut::<SpanState>() else { return };
            values.record(&mut Recorder { state, info, shared: &self.shared, formatting: Formatting::Done(&done) });
        }
        let Some(state) = ext.get_mut::<SpanState>() else { return };
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
        if !self.shared.may_have_state(self.shared.callsite(span.metadata())) {
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
        event::on_event(&self.shared, event, &ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        // A span of a kind botanu does not export has no state: skip the extensions' lock.
        if !self.shared.may_have_state(self.shared.callsite(span.metadata())) {
            return;
        }
        // Take the state out so no Registry lock is held while the SDK and exporters run.
        let Some(state) = span.extensions_mut().remove::<SpanState>() else { return };
        // A model call, or an agent wrapping some (so an agent around agents is one too).
        if state.kind == Kind::Llm && (state.contains_model_calls || state.is_model_call()) {
            mark_enclosing_agent(&span);
        }
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
                let _ = export::finish(state, shared, span.metadata(), end, run_open);
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
