//! The OpenTelemetry `Context` of an exported span, and its activation while the span is entered.
//!
//! OTel-native instrumentation (an HTTP client middleware, a gRPC interceptor, a Kafka producer) reads
//! `opentelemetry::Context::current()` and injects it through the global propagator. So that it carries
//! the run, the layer attaches the span's context when an exported span is entered and detaches it on
//! exit, as tracing-opentelemetry (0.32+) does: the guards live in a per-thread stack keyed by span id,
//! because a span is entered and exited on one thread (an `.instrument()`ed future is entered on
//! whichever thread polls it, and exited on that thread before the poll returns), and spans may exit
//! out of order (`opentelemetry`'s context stack accepts guards dropped out of order).
//!
//! The run's part of the context (its `Baggage`) is built once per run and rebuilt only when the run's
//! mutable fields change; entering a span adds its span context to it (one allocation).

use std::cell::{Cell, RefCell};

use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, ContextGuard};
use tracing_core::span;
use tracing_subscriber::registry::Extensions;

use super::state::SpanState;
use super::Shared;
use crate::config::PropagationMode;
use crate::run::{RemoteContext, RunContext};
use crate::semconv as k;

/// The context of `state`: its span context (always sampled: botanu exports every span it keeps) and,
/// inside a run, a `Baggage` with the run's keys (lean or full mode) and the run's other baggage
/// members (`set_baggage`, foreign members that came in with the run).
pub(crate) fn context_of(state: &SpanState, shared: &Shared) -> Context {
    let trace_state =
        state.trace_state.as_deref().and_then(|ts| ts.parse::<TraceState>().ok()).unwrap_or(TraceState::NONE);
    let sc = SpanContext::new(state.trace_id, state.span_id, TraceFlags::SAMPLED, false, trace_state);
    match &state.run {
        Some(run) => run
            .baggage_context(|run| Context::new().with_baggage(run_baggage(run, shared.propagation_mode)))
            .with_remote_span_context(sc),
        None => Context::new().with_remote_span_context(sc),
    }
}

/// The run's baggage: botanu's keys first, so OTel's 64-member cap of a `Baggage` never drops them.
fn run_baggage(run: &RunContext, mode: PropagationMode) -> Baggage {
    let mut baggage = Baggage::new();
    for (key, value) in run.baggage_entries(mode == PropagationMode::Full) {
        let _ = baggage.insert(key, value);
    }
    let fields = run.fields();
    // `botanu.*` members other than the run's own keys are the run's metadata: they do not travel.
    for (key, value) in fields.baggage.iter().filter(|(key, _)| !key.starts_with(k::METADATA_PREFIX)) {
        let _ = baggage.insert(key.clone(), value.clone());
    }
    baggage
}

/// The context to activate for the span whose extensions are `ext`; `None` if botanu does not export it.
pub(crate) fn entered_context(ext: &Extensions<'_>, shared: &Shared) -> Option<Context> {
    ext.get::<SpanState>().map(|state| context_of(state, shared))
}

thread_local! {
    /// The guards of the contexts this thread's entered spans attached, innermost last.
    static ACTIVE: RefCell<Vec<(span::Id, ContextGuard)>> = const { RefCell::new(Vec::new()) };
    /// How many guards `ACTIVE` holds: every span's exit reads it, and for the spans botanu did not
    /// activate (most of them, outside an exported span) a `Cell` read is all `deactivate` costs.
    static ACTIVE_LEN: Cell<usize> = const { Cell::new(0) };
}

/// Attaches `cx` as the current OTel context until the span `id` exits on this thread.
pub(crate) fn activate(id: &span::Id, cx: Context) {
    let guard = cx.attach();
    // At thread teardown the stack may be gone: then the guard is dropped here, detaching at once.
    let _ = ACTIVE.try_with(|stack| {
        let mut stack = stack.borrow_mut();
        stack.push((id.clone(), guard));
        let _ = ACTIVE_LEN.try_with(|len| len.set(stack.len()));
    });
}

/// Restores the context that was current before the span `id` was (last) entered on this thread.
pub(crate) fn deactivate(id: &span::Id) {
    if ACTIVE_LEN.try_with(Cell::get).unwrap_or(1) == 0 {
        return;
    }
    let guard = ACTIVE
        .try_with(|stack| {
            let mut stack = stack.borrow_mut();
            let pos = stack.iter().rposition(|(entered, _)| entered == id)?;
            let guard = stack.remove(pos).1;
            let _ = ACTIVE_LEN.try_with(|len| len.set(stack.len()));
            Some(guard)
        })
        .ok()
        .flatten();
    // Dropped outside the borrow: dropping a context drops its values, which may run user code.
    drop(guard);
}

/// What the current OTel context says about the parent of a new contextual span.
pub(crate) enum Attached {
    /// Nothing beyond the tracing ancestry.
    Nothing,
    /// Another layer's span (tracing-opentelemetry's, say) was entered inside the inherited exported
    /// ancestor, in the same trace: that span is the parent.
    ParentSpan(SpanContext),
    /// No exported ancestor, but a context is attached (`Context::attach`, as OTel-native server
    /// instrumentation does): the span becomes its child, its baggage read as inbound (the flag says
    /// whether the attached span is itself remote).
    Adopt(Box<RemoteContext>, bool),
}

/// Compares the current OTel context with the parent the tracing ancestry gave (`inherited`: its trace
/// and span id). A context attached inside a botanu span for another trace does not re-parent: botanu
/// follows its tracing ancestry, and the run comes from there.
pub(crate) fn attached(inherited: Option<(TraceId, SpanId)>) -> Attached {
    Context::map_current(|cx| {
        let span = cx.span();
        let sc = span.span_context();
        match inherited {
            Some((trace_id, parent)) if sc.is_valid() && sc.trace_id() == trace_id && sc.span_id() != parent => {
                Attached::ParentSpan(sc.clone())
            }
            Some(_) => Attached::Nothing,
            None if sc.is_valid() || !cx.baggage().is_empty() => {
                Attached::Adopt(Box::new(crate::run::remote_from_context(cx)), sc.is_remote())
            }
            None => Attached::Nothing,
        }
    })
}
