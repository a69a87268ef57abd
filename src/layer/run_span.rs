//! Applying the run (see [`crate::run`]) to span state: a run span's start, the adoption of a remote
//! parent, and the run's entries stamped on every exported span.

use std::sync::Arc;

use opentelemetry::trace::Event;
use opentelemetry::{Key, KeyValue, Value};

use super::kinds::Kind;
use super::state::SpanState;
use super::Shared;
use crate::run::{self, OutcomeStatus, RemoteContext, RunContext, RunRelation, Stamp};
use crate::semconv as k;

/// Creates the run context of a new run span from its recorded fields and its enclosing run.
pub(crate) fn start_run(state: &mut SpanState, shared: &Shared) {
    let enclosing = state.run.take();
    let ctx = RunContext::start(&|key| state.get(key), enclosing.as_deref(), shared.environment.clone());
    // The entries the span records itself are already its attributes; the others are derived.
    ctx.for_each_entry(
        |entry| entry.stamp != Stamp::Never && !entry.is_input(),
        |entry, value| state.set(Key::from_static_str(entry.key), value),
    );
    state.set(Key::from_static_str(k::RUN_START_TIME), Value::from(run::rfc3339(state.start)));
    state.events.push(run_started(&ctx, state.start));
    state.run = Some(Arc::new(ctx));
}

fn run_started(ctx: &RunContext, at: std::time::SystemTime) -> Event {
    Event::new(
        k::EVENT_RUN_STARTED,
        at,
        vec![
            KeyValue::new(k::RUN_EVENT_RUN_ID, ctx.run_id.to_string()),
            KeyValue::new(k::RUN_EVENT_WORKFLOW, ctx.workflow.to_string()),
        ],
        0,
    )
}

/// After a record on a run span: copies the run entries this record carries into the run context.
/// Only those: a customer set later by `set_business_context` must survive an unrelated record.
pub(crate) fn sync_recorded(state: &SpanState, recorded: impl Fn(&'static str) -> bool) {
    let Some(run) = &state.run else { return };
    if run::RUN_ENTRIES.iter().any(|e| e.is_input() && recorded(e.key)) {
        run.sync_inputs(&|key| state.get(key), recorded);
    }
}

/// Makes `state` a child of a remote parent (see `BotanuSpanExt::set_remote_parent`): the remote trace
/// and parent span, its `tracestate`, and the inbound run, continued or as the parent of this run.
pub(crate) fn adopt_remote(state: &mut SpanState, shared: &Shared, remote: &RemoteContext, relation: RunRelation) {
    if let Some((trace_id, span_id)) = remote.ids() {
        state.trace_id = trace_id;
        state.parent_span_id = span_id;
        state.parent_is_remote = true;
    }
    state.trace_state = remote.trace_state().map(Arc::from);
    let Some(inbound) = remote.run() else { return };
    let is_run_span = state.kind == Kind::Run;
    let own = state.run.take();
    let ctx = RunContext::adopt(
        inbound,
        remote.entries(),
        own.as_deref(),
        is_run_span,
        relation,
        shared.trust_inbound,
        shared.environment.clone(),
    );
    if is_run_span {
        rewrite_run_attributes(state, &ctx);
    }
    state.run = Some(Arc::new(ctx));
}

/// Rewrites a run span's run attributes and `botanu.run.started` event after its run context changed.
fn rewrite_run_attributes(state: &mut SpanState, ctx: &RunContext) {
    // The adopted run may have no parent where the span's own run had one.
    state.attrs.retain(|kv| kv.key.as_str() != k::PARENT_RUN_ID);
    ctx.for_each_entry(
        |entry| entry.stamp != Stamp::Never,
        |entry, value| state.set(Key::from_static_str(entry.key), value),
    );
    if let Some(started) = state.events.iter_mut().find(|e| e.name == k::EVENT_RUN_STARTED) {
        *started = run_started(ctx, started.timestamp);
    }
}

/// Stamps the run's entries and the enclosing step on the span, never overwriting its own values.
pub(crate) fn stamp_run(state: &mut SpanState) {
    if let Some(step) = state.step.clone() {
        state.set_default(k::STEP, Value::from(step));
    }
    let Some(run) = state.run.clone() else { return };
    run.for_each_entry(|entry| entry.stamp == Stamp::Every, |entry, value| state.set_default(entry.key, value));
}

/// `botanu.outcome.reason` of a run that ended past its deadline without an outcome.
const REASON_DEADLINE: &str = "deadline exceeded";
/// `botanu.outcome.reason` of a run whose future was dropped before it completed, within its deadline.
const REASON_DROPPED: &str = "dropped before completion";

/// At a run span's close (`closed_after_ms` after its start): a run that emitted no outcome and whose
/// deadline has passed ends with outcome `timeout`.
pub(crate) fn settle_deadline(state: &mut SpanState, closed_after_ms: f64) {
    let closed_at = state.start + std::time::Duration::from_secs_f64(closed_after_ms.max(0.0) / 1000.0);
    if state.run.as_ref().is_some_and(|run| run.deadline_passed(closed_at)) {
        end_without_outcome(state, OutcomeStatus::Timeout, REASON_DEADLINE, usize::MAX);
    }
}

/// `error.type` of a run whose future panicked.
const PANIC_ERROR_TYPE: &str = "panic";

/// A run span whose future was dropped before it completed (see [`RunFuture`](crate::RunFuture)): it
/// ends with outcome `timeout` when its deadline has passed, else `canceled` — unless the run already
/// has an outcome. A future dropped while its thread unwinds from a panic in it (tokio drops a panicked
/// task's future during the unwind) failed instead. Only a run span's own state is touched: a dropped
/// future of a step leaves its run be.
pub(crate) fn settle_dropped(span: &tracing::Span) {
    // `with_state` falls back to the nearest exported ancestor; only the run span itself is settled.
    if !span.metadata().is_some_and(|meta| super::classify::kind_of(meta) == Kind::Run) {
        return;
    }
    super::with_state(span, |state, shared| {
        if state.kind != Kind::Run {
            return;
        }
        if std::thread::panicking() {
            if state.error.is_none() {
                state.fail(PANIC_ERROR_TYPE, "the run's future panicked");
            }
            return;
        }
        let timed_out = state.run.as_ref().is_some_and(|run| run.deadline_passed(std::time::SystemTime::now()));
        let (status, reason) = if timed_out {
            (OutcomeStatus::Timeout, REASON_DEADLINE)
        } else {
            (OutcomeStatus::Canceled, REASON_DROPPED)
        };
        end_without_outcome(state, status, reason, shared.max_events);
    });
}

/// Gives the run of `state` (a run span) the outcome `status`, as `emit_outcome` would have, unless it
/// has one: the run's outcome status (written as `botanu.outcome.status` and the `botanu.run.completed`
/// status at close, which the metrics read too), `botanu.outcome.reason` and a `botanu.outcome_emitted`
/// event.
fn end_without_outcome(state: &mut SpanState, status: OutcomeStatus, reason: &'static str, max_events: usize) {
    let Some(run) = state.run.clone() else { return };
    {
        let mut fields = run.fields_mut();
        if fields.outcome_status.is_some() {
            return;
        }
        fields.outcome_status = Some(status.as_str());
    }
    state.set_default(k::OUTCOME_REASON, Value::from(reason));
    let attrs =
        vec![KeyValue::new(k::OUTCOME_EVENT_STATUS, status.as_str()), KeyValue::new(k::OUTCOME_EVENT_REASON, reason)];
    state.push_event(Event::new(k::EVENT_OUTCOME_EMITTED, std::time::SystemTime::now(), attrs, 0), max_events);
}

/// Makes the run of `span` (a run span, just created) a retry of `previous` (see
/// `BotanuSpanExt::retry_of`): its run context is rebuilt with the previous run's root, event and
/// attempt + 1, and its run attributes and `botanu.run.started` event rewritten. Any other span is left
/// alone.
pub(crate) fn retry_of(span: &tracing::Span, previous: &run::RunAttempt) {
    if !span.metadata().is_some_and(|meta| super::classify::kind_of(meta) == Kind::Run) {
        return;
    }
    super::with_state(span, |state, shared| {
        let Some(own) = state.run.clone().filter(|_| state.kind == Kind::Run) else { return };
        let ctx = RunContext::retry(&own, previous, shared.environment.clone());
        rewrite_run_attributes(state, &ctx);
        state.run = Some(Arc::new(ctx));
    });
}
