//! The side channel from the setters (and `propagation`) to the layer's per-span state.
//!
//! `Span::record` silently drops fields a span did not declare, so setters whose keys are not declared
//! fields (metadata, correlation, errors, content, baggage) and the remote-parent setter reach the
//! layer by downcasting the dispatcher to [`WithContext`], as `tracing-error` and
//! `tracing-opentelemetry` do. The layer hands out a `WithContext` from `downcast_raw`; it holds plain
//! function pointers monomorphized for the subscriber type, so a caller needs no type parameter.

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
    remote: fn(&Dispatch, &span::Id, &RemoteContext, RunRelation),
}

impl WithContext {
    /// The side channel of a `BotanuLayer<S>`.
    pub(crate) fn new<S>() -> Self
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        WithContext { state: state_of::<S>, remote: set_remote::<S> }
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
