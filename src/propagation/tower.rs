//! HTTP servers: a [`tower`](https://docs.rs/tower) middleware that makes every request a run.
//!
//! A service that receives requests from other botanu services should attribute its cost to the
//! caller's run, and one that receives requests from the outside world should start a run per
//! request. [`BotanuHttpLayer`] does both for any tower-based server (axum, hyper, tonic, …): for
//! each request it
//!
//! 1. [`extract`](super::extract)s trace context and run baggage from the request headers;
//! 2. opens a run span (`run_span!`, kind SERVER) with `http.request.method` and `http.route`;
//! 3. makes the caller its remote parent
//!    ([`set_remote_parent`](crate::BotanuSpanExt::set_remote_parent)): by default the run *continues*
//!    the caller's run (same run id) when one came in, and otherwise only joins the caller's trace;
//! 4. drives the inner service inside that span, so the handler's spans belong to this request's run
//!    and to no other, however many requests run concurrently;
//! 5. answers with `x-botanu-run-id` and `x-botanu-workflow`, and marks the run failed on a 5xx
//!    response or an error of the inner service;
//! 6. ends the run with outcome `canceled` when the request's future is dropped before the response
//!    (a client that disconnects makes the server drop it), or `timeout` if the run's deadline (the
//!    caller's `botanu.deadline`) has passed by then; see [`RunFuture`].
//!
//! The workflow of a run the server starts is, in order: the one the configured workflow function
//! returns, the route table's entry for the request's route, the workflow the caller sent (baggage or
//! `x-botanu-workflow`), and the default given to [`BotanuHttpLayer::new`]. A *continued* run is the
//! caller's run and keeps the caller's workflow; use [`RunRelation::Child`] to start a run of the
//! route's workflow whose `botanu.parent_run_id` is the caller's run.
//!
//! ```
//! use axum::{extract::MatchedPath, routing::post, Router};
//! use botanu::propagation::tower::BotanuHttpLayer;
//!
//! let app: Router = Router::new()
//!     .route("/v1/chat", post(|| async { "hi" }))
//!     .route("/v1/tickets/{id}", post(|| async { "ok" }))
//!     .layer(
//!         BotanuHttpLayer::new("api")
//!             .with_route_workflow("/v1/chat", "chat")
//!             // axum's route template keeps `http.route` low-cardinality: `/v1/tickets/{id}`.
//!             .with_route(|req| req.extensions.get::<MatchedPath>().map(|p| p.as_str().to_owned())),
//!     );
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::request::Parts;
use http::{Request, Response};
use tracing::Span;

use super::{Carrier, CarrierMut, RemoteContext, RunRelation};
use crate::semconv::{self as k, propagation as p};
use crate::BotanuSpanExt;
use crate::RunFuture;

/// Picks a value (workflow, route) from a request's method, URI, headers and extensions.
type RequestFn = Arc<dyn Fn(&Parts) -> Option<String> + Send + Sync>;

/// What the layer needs per request; shared by every service it wraps.
#[derive(Clone)]
struct HttpRunConfig {
    default_workflow: String,
    workflow: Option<RequestFn>,
    route_workflows: HashMap<String, String>,
    route: Option<RequestFn>,
    relation: Option<RunRelation>,
}

// === impl BotanuHttpLayer ===

/// A `tower::Layer` that opens a botanu run for every HTTP request; see the [module docs](self).
///
/// Cheap to clone. Configure it with the `with_*` methods, then apply it like any tower layer
/// (`Router::layer` in axum, `ServiceBuilder::layer` in tower).
#[derive(Clone)]
pub struct BotanuHttpLayer {
    config: Arc<HttpRunConfig>,
}

impl BotanuHttpLayer {
    /// A layer whose runs are of `default_workflow` unless a workflow function, the route table or
    /// the caller names another.
    ///
    /// ```
    /// let layer = botanu::propagation::tower::BotanuHttpLayer::new("api");
    /// ```
    pub fn new(default_workflow: impl Into<String>) -> Self {
        BotanuHttpLayer {
            config: Arc::new(HttpRunConfig {
                default_workflow: default_workflow.into(),
                workflow: None,
                route_workflows: HashMap::new(),
                route: None,
                relation: None,
            }),
        }
    }

    /// Names the workflow of a request from its parts (method, URI, headers, extensions); `None` falls
    /// through to the route table, the caller's workflow and the default.
    ///
    /// ```
    /// use botanu::propagation::tower::BotanuHttpLayer;
    /// let layer = BotanuHttpLayer::new("api")
    ///     .with_workflow(|req| req.uri.path().starts_with("/admin").then(|| "admin".to_owned()));
    /// ```
    pub fn with_workflow<F>(mut self, workflow: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.config).workflow = Some(Arc::new(workflow));
        self
    }

    /// Runs of requests whose route (see [`with_route`](Self::with_route)) is exactly `route` are of
    /// `workflow`.
    ///
    /// ```
    /// use botanu::propagation::tower::BotanuHttpLayer;
    /// let layer = BotanuHttpLayer::new("api")
    ///     .with_route_workflow("/v1/chat", "chat")
    ///     .with_route_workflow("/v1/summarize", "summarize");
    /// ```
    pub fn with_route_workflow(mut self, route: impl Into<String>, workflow: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.config).route_workflows.insert(route.into(), workflow.into());
        self
    }

    /// How `http.route` is computed; the request path when unset or when the function returns `None`.
    /// Give the framework's route template when it has one (axum's `MatchedPath`, see the
    /// [module docs](self)): a path with ids in it makes `http.route` an unbounded value.
    pub fn with_route<F>(mut self, route: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.config).route = Some(Arc::new(route));
        self
    }

    /// How every request's run relates to the caller's run. By default a request that carries a run
    /// continues it ([`RunRelation::Continue`]); [`RunRelation::Child`] starts a run of this server's
    /// workflow with `botanu.parent_run_id` = the caller's run. Either way the run joins the caller's
    /// trace.
    pub fn with_relation(mut self, relation: RunRelation) -> Self {
        Arc::make_mut(&mut self.config).relation = Some(relation);
        self
    }
}

impl fmt::Debug for BotanuHttpLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

impl fmt::Debug for HttpRunConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotanuHttpLayer")
            .field("default_workflow", &self.default_workflow)
            .field("workflow", &self.workflow.as_ref().map(|_| "Fn"))
            .field("route_workflows", &self.route_workflows)
            .field("route", &self.route.as_ref().map(|_| "Fn"))
            .field("relation", &self.relation)
            .finish()
    }
}

impl<S> tower_layer::Layer<S> for BotanuHttpLayer {
    type Service = BotanuHttpService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BotanuHttpService { inner, config: self.config.clone() }
    }
}

// === impl BotanuHttpService ===

/// The service [`BotanuHttpLayer`] wraps around an inner HTTP service.
#[derive(Clone)]
pub struct BotanuHttpService<S> {
    inner: S,
    config: Arc<HttpRunConfig>,
}

impl<S: fmt::Debug> fmt::Debug for BotanuHttpService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotanuHttpService").field("inner", &self.inner).field("config", &self.config).finish()
    }
}

/// The inner service's error must be `Display`, so a failed request can say why in the run's
/// `exception` event (axum's `Infallible`, tower's `BoxError` and hyper's errors all are).
impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for BotanuHttpService<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (parts, body) = request.into_parts();
        let remote = super::extract(&parts.headers);
        let config = &*self.config;
        let route = config.route.as_ref().and_then(|f| f(&parts)).unwrap_or_else(|| parts.uri.path().to_owned());
        let workflow = config
            .workflow
            .as_ref()
            .and_then(|f| f(&parts))
            .or_else(|| config.route_workflows.get(&route).cloned())
            .or_else(|| inbound_workflow(&parts.headers, &remote))
            .unwrap_or_else(|| config.default_workflow.clone());
        let span = crate::run_span!(
            workflow = workflow.as_str(),
            kind = "server",
            { k::HTTP_REQUEST_METHOD } = parts.method.as_str(),
            { k::HTTP_ROUTE } = route.as_str(),
        );
        if !remote.is_empty() {
            // Without an inbound run `Continue` only joins the caller's trace.
            span.set_remote_parent(&remote, config.relation.unwrap_or(RunRelation::Continue));
        }
        // Read once here: the run id and workflow are settled once the remote parent is adopted.
        let headers = span.in_scope(super::response_headers);
        let request = Request::from_parts(parts, body);
        let future = span.in_scope(|| self.inner.call(request));
        ResponseFuture { inner: RunFuture::new(future, span), headers }
    }
}

/// The workflow the caller sent: its run's, else one named without a whole run (a run needs a run id too).
fn inbound_workflow(headers: &http::HeaderMap, remote: &RemoteContext) -> Option<String> {
    if let Some(run) = remote.run() {
        return Some(run.workflow.clone());
    }
    let from_baggage = || {
        let baggage = super::w3c::parse_baggage(Carrier::get(headers, p::BAGGAGE)?);
        let (_, workflow) = baggage.into_iter().find(|(key, _)| key == k::WORKFLOW)?;
        super::w3c::valid_text(&workflow, crate::run::MAX_NAME)
    };
    from_baggage().or_else(|| {
        Carrier::get(headers, p::HEADER_WORKFLOW).and_then(|w| super::w3c::valid_text(w, crate::run::MAX_NAME))
    })
}

// === impl ResponseFuture ===

pin_project_lite::pin_project! {
    /// The response future of [`BotanuHttpService`]: the inner future, driven inside the request's
    /// run span as a [`RunFuture`]; the span closes when this future completes or is dropped, and a
    /// request dropped before its response (the client disconnected) ends its run `canceled`.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: RunFuture<F>,
        headers: Vec<(&'static str, String)>,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").field("headers", &self.headers).finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    E: fmt::Display,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let mut result = ready!(this.inner.as_mut().poll(cx));
        let span: &Span = this.inner.span();
        match &mut result {
            Ok(response) => {
                let status = response.status();
                if status.is_server_error() {
                    // OpenTelemetry's HTTP conventions: a server's 5xx is an error, typed by its code.
                    span.set_error_type(status.as_str(), status.canonical_reason().unwrap_or_default());
                }
                // `CarrierMut for HeaderMap` skips what is not a valid header value instead of panicking.
                for (key, value) in std::mem::take(this.headers) {
                    CarrierMut::set(response.headers_mut(), key, value);
                }
            }
            Err(error) => {
                span.set_error_type(crate::text::short_type_name::<E>(), &error.to_string());
            }
        }
        Poll::Ready(result)
    }
}
