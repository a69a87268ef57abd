//! The side channel from the setters (and `propagation`) to the layer's per-span state.
//!
//! `Span::record` silently drops fields a span did not declare, so setters whose keys are not declared
//! fields (metadata, correlation, errors, content, baggage) and the remote-parent setter reach the
//! layer by downcasting the dispatcher to [`WithContext`], as `tracing-error` and
//! `tracing-opentelemetry` do. The layer hands out a `WithContext` from `downcast_raw`; it holds plain
//! function pointers monomorphized for the subscriber type, so a caller needs no type parameter.
//!
//! Two ways in, for two kinds of caller:
//! - [`with_own_state`], for setters: botanu data goes on the span it was given to. A span botanu does
//!   not export (an `info_span!` with no botanu fields) is promoted: from then on it is exported, as a
//!   plain span carrying that data (see `promoted_state`). Data is never redirected to an ancestor,
//!   where a second span's value would overwrite the first's (issue 28).
//! - [`with_state`], for readers (the current run, the OTel context, what to inject): the span's state or
//!   its nearest exported ancestor's.
//!
//! Either runs its closure with the span's extensions locked; the closures are botanu's own and call no
//! user code (setters format their arguments before they get here).

use std::sync::Arc;

use tracing::Span;
use tracing_core::span;
use tracing_core::{Dispatch, Subscriber};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::state::SpanState;
use super::{BotanuLayer, Shared};
use crate::run::{RemoteContext, RunRelation};

/// What the layer answers to `downcast_ref::<WithContext>()`.
pub(crate) struct WithContext {
    #[allow(clippy::type_complexity)]
    state: fn(&Dispatch, &span::Id, &mut dyn FnMut(&mut SpanState, &Shared)),
    #[allow(clippy::type_complexity)]
    own_state: fn(&Dispatch, &span::Id, &mut dyn FnMut(&mut SpanState, &Shared)),
    remote: fn(&Dispatch, &span::Id, &RemoteContext, RunRelation),
    #[allow(clippy::type_complexity)]
    aws_operation: fn(&Dispatch, &span::Id, &mut dyn FnMut(&mut SpanState, &Shared)),
}

impl WithContext {
    /// The side channel of a `BotanuLayer<S>`.
    pub(crate) fn new<S>() -> Self
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        WithContext {
            state: state_of::<S>,
            own_state: own_state_of::<S>,
            remote: set_remote::<S>,
            aws_operation: aws_operation_of::<S>,
        }
    }
}

/// Runs `f` on the state of `span` (or its nearest exported ancestor), if a `BotanuLayer` is installed.
/// Without one, or when the span is in nothing exported, `f` is not called.
pub(crate) fn with_state(span: &Span, mut f: impl FnMut(&mut SpanState, &Shared)) {
    span.with_subscriber(|(id, dispatch)| {
        if let Some(wc) = dispatch.downcast_ref::<WithContext>() {
            (wc.state)(dispatch, id, &mut f);
        }
    });
}

/// Runs `f` on the state of `span` itself, if a `BotanuLayer` is installed; a span botanu does not export
/// is promoted to an exported plain span first (see the module docs). Without a layer, or outside any
/// span, `f` is not called.
pub(crate) fn with_own_state(span: &Span, mut f: impl FnMut(&mut SpanState, &Shared)) {
    span.with_subscriber(|(id, dispatch)| {
        if let Some(wc) = dispatch.downcast_ref::<WithContext>() {
            (wc.own_state)(dispatch, id, &mut f);
        }
    });
}

/// Runs `f` on the state of the AWS SDK operation span `span` is in (itself or its nearest such
/// ancestor: an SDK interceptor runs inside the SDK's inner spans, `try_attempt` and the like), if a
/// `BotanuLayer` is installed and exports it. Data of one operation never lands on another span.
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
pub(crate) fn with_aws_operation_state(span: &Span, mut f: impl FnMut(&mut SpanState, &Shared)) {
    span.with_subscriber(|(id, dispatch)| {
        if let Some(wc) = dispatch.downcast_ref::<WithContext>() {
            (wc.aws_operation)(dispatch, id, &mut f);
        }
    });
}

/// Makes `span` itself a child of `remote` (see `BotanuSpanExt::set_remote_parent`).
pub(crate) fn set_remote_parent(span: &Span, remote: &RemoteContext, relation: RunRelation) {
    span.with_subscriber(|(id, dispatch)| {
        if let Some(wc) = dispatch.downcast_ref::<WithContext>() {
            (wc.remote)(dispatch, id, remote, relation);
        }
    });
}

/// A remote parent set on a span botanu does not export: spans opened inside it inherit it.
#[derive(Debug, Clone)]
pub(crate) struct RemoteParent {
    pub(crate) remote: Arc<RemoteContext>,
    pub(crate) relation: RunRelation,
}

/// The span `id` and the botanu layer of the subscriber behind `dispatch`.
fn lookup<'a, S>(dispatch: &'a Dispatch, id: &span::Id) -> Option<(SpanRef<'a, S>, &'a BotanuLayer<S>)>
where
    S: Subscriber + for<'b> LookupSpan<'b>,
{
    let subscriber = dispatch.downcast_ref::<S>()?;
    let layer = dispatch.downcast_ref::<BotanuLayer<S>>()?;
    Some((subscriber.span(id)?, layer))
}

fn state_of<S>(dispatch: &Dispatch, id: &span::Id, f: &mut dyn FnMut(&mut SpanState, &Shared))
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some((span, layer)) = lookup::<S>(dispatch, id) else { return };
    for s in span.scope() {
        let mut ext = s.extensions_mut();
        if let Some(state) = ext.get_mut::<SpanState>() {
            f(state, &layer.shared);
            return;
        }
    }
}

fn aws_operation_of<S>(dispatch: &Dispatch, id: &span::Id, f: &mut dyn FnMut(&mut SpanState, &Shared))
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some((span, layer)) = lookup::<S>(dispatch, id) else { return };
    for s in span.scope() {
        let mut ext = s.extensions_mut();
        if let Some(state) = ext.get_mut::<SpanState>().filter(|state| state.info.is_some_and(|i| i.aws.is_some())) {
            f(state, &layer.shared);
            return;
        }
    }
}

fn own_state_of<S>(dispatch: &Dispatch, id: &span::Id, f: &mut dyn FnMut(&mut SpanState, &Shared))
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some((span, layer)) = lookup::<S>(dispatch, id) else { return };
    if opentelemetry::Context::is_current_telemetry_suppressed() {
        return;
    }
    let mut ext = span.extensions_mut();
    let promoted_now = ext.get_mut::<SpanState>().is_none();
    if promoted_now {
        // Built under this span's lock, which only ever comes before its ancestors' (read) locks, so
        // two threads promoting the same span make one state.
        let own_remote = ext.get_mut::<RemoteParent>().cloned();
        let promoted = super::promoted_state(&span, own_remote, &layer.shared);
        ext.insert(promoted);
    }
    let Some(state) = ext.get_mut::<SpanState>() else { return };
    f(state, &layer.shared);
    // The span was entered before it had a state, so `on_enter` did not make it the current OTel
    // context; if it is this thread's current span, it becomes so now (and stops at its exit), so spans
    // opened inside it from now on are its children.
    let entered = promoted_now
        && layer.shared.activate_context
        && dispatch.current_span().id().is_some_and(|current| current == id);
    let cx = entered.then(|| super::otel_context::context_of(state, &layer.shared));
    drop(ext);
    if let Some(cx) = cx {
        super::otel_context::activate(id, cx);
    }
}

fn set_remote<S>(dispatch: &Dispatch, id: &span::Id, remote: &RemoteContext, relation: RunRelation)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some((span, layer)) = lookup::<S>(dispatch, id) else { return };
    let mut ext = span.extensions_mut();
    match ext.get_mut::<SpanState>() {
        Some(state) => super::run_span::adopt_remote(state, &layer.shared, remote, relation),
        None => {
            ext.replace(RemoteParent { remote: Arc::new(remote.clone()), relation });
        }
    }
}
