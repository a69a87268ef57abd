//! HTTP servers: a real axum server with `BotanuHttpLayer` on 127.0.0.1, hit by a real HTTP client
//! (hyper-util's legacy client) whose headers come from `botanu::propagation::inject` inside a producer
//! run. Every assertion reads the exported spans and the HTTP response.
#![cfg(feature = "tower")]
mod common;

use std::collections::HashSet;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::middleware::Next;
use axum::routing::get;
use axum::Router;
use botanu::prelude::*;
use botanu::propagation::tower::BotanuHttpLayer;
use botanu::propagation::{self, RunRelation};
use botanu::semconv::{self, propagation as p};
use common::*;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::{SpanId, SpanKind, TraceId};
use opentelemetry_sdk::trace::SpanData;
use tokio::sync::{oneshot, Barrier};
use tracing::instrument::WithSubscriber;
use tracing::Instrument;

/// Generous bound for anything that waits on the network, so a bug hangs no CI job.
const DEADLINE: Duration = Duration::from_secs(60);

// === server ===

#[derive(Clone, Default)]
struct AppState {
    /// When set, every `/chat` handler waits here inside its LLM span: all requests are then in
    /// flight at the same time, so their spans are open together.
    barrier: Option<Arc<Barrier>>,
    /// Notified when a `/slow` handler starts; the handler then waits far longer than any test.
    slow_started: Option<Arc<tokio::sync::Notify>>,
}

/// One LLM call, tagged with the request's path id; answers with the run id the handler sees.
async fn chat(State(state): State<AppState>, Path(id): Path<String>) -> String {
    let llm = llm_span!(provider = "openai", model = "gpt-4o", request = id.as_str());
    async {
        tokio::task::yield_now().await;
        if let Some(barrier) = &state.barrier {
            barrier.wait().await;
        }
        tokio::task::yield_now().await;
    }
    .instrument(llm.clone())
    .await;
    llm.set_tokens(Tokens { input: 10, output: 2, ..Default::default() });
    botanu::current_run_id().unwrap_or_default()
}

/// A handler that never answers in time: it signals that it started, then waits.
async fn slow(State(state): State<AppState>) -> &'static str {
    if let Some(started) = &state.slow_started {
        started.notify_one();
    }
    tokio::time::sleep(DEADLINE).await;
    "too late"
}

fn matched_path(req: &http::request::Parts) -> Option<String> {
    req.extensions.get::<MatchedPath>().map(|p| p.as_str().to_owned())
}

/// The layer under test, reporting axum's route template as `http.route`.
fn layer() -> BotanuHttpLayer {
    BotanuHttpLayer::new("api").with_route(matched_path)
}

struct Server {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Stops accepting, lets every connection finish, and waits for that: afterwards every request's
    /// spans are closed, so `h.spans()` sees all of them without sleeping.
    async fn stop(self) {
        let _ = self.shutdown.send(());
        tokio::time::timeout(DEADLINE, self.task).await.expect("server stops").expect("server task").expect("serve");
    }
}

async fn start(h: &Harness, layer: BotanuHttpLayer, state: AppState) -> Server {
    // Attaching the harness's dispatcher: `with_subscriber` on the `axum::serve` future covers only
    // the accept loop, because axum serves each connection in its own `tokio::spawn`ed task and a
    // spawned task does not inherit the spawner's default dispatcher (a thread-local set only while
    // a `WithDispatch` future is polled). So the outermost middleware re-attaches it to every request
    // future. axum calls the inner services (here `BotanuHttpService::call`, which opens the run
    // span) from inside `Next::run`'s future, i.e. while that `WithDispatch` is being polled, so the
    // run span, the handler's spans and the response all see the harness. This is per request and
    // independent of which worker thread polls it; no global default is set.
    let dispatch = h.dispatch.clone();
    let app = Router::new()
        .route("/chat/{id}", get(chat))
        .route("/plain", get(|| async { "plain" }))
        .route("/slow", get(slow))
        .route("/fail", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "down") }))
        .route("/teapot", get(|| async { StatusCode::IM_A_TEAPOT }))
        .with_state(state)
        .layer(layer)
        .layer(axum::middleware::from_fn(move |req: Request, next: Next| {
            next.run(req).with_subscriber(dispatch.clone())
        }));
    // `TcpListener::bind` listens with a backlog of 128 (std's value): 200 simultaneous connects
    // overflow it and the dropped SYNs are retried after a second. A real server would size it too.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind 127.0.0.1:0");
    let listener = socket.listen(1024).expect("listen");
    let addr = listener.local_addr().expect("local addr");
    let (shutdown, signal) = oneshot::channel::<()>();
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = signal.await;
    });
    let task = tokio::spawn(serve.into_future().with_subscriber(h.dispatch.clone()));
    Server { addr, shutdown, task }
}

// === client ===

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    #[track_caller]
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("response has no {name}"))
    }
}

async fn send(client: &HttpClient, addr: SocketAddr, path: &str, headers: HeaderMap) -> Answer {
    let mut request =
        http::Request::get(format!("http://{addr}{path}")).body(Full::new(Bytes::new())).expect("valid request");
    *request.headers_mut() = headers;
    let response = tokio::time::timeout(DEADLINE, client.request(request)).await.expect("in time").expect("response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Answer { status: parts.status, headers: parts.headers, body: String::from_utf8_lossy(&body).into_owned() }
}

/// What a producer run sent: its headers, run id and the injecting span.
struct Produced {
    headers: HeaderMap,
    run_id: String,
    trace_id: TraceId,
    span_id: SpanId,
}

/// A client-side run (kind CLIENT, to tell it from the server's run of the same id) that injects
/// its context into HTTP headers.
fn produce(h: &Harness, event: &str) -> Produced {
    let (headers, run_id) = h.run(|| {
        run_span!(workflow = "frontend", kind = "client", event_id = event).in_scope(|| {
            let mut headers = HeaderMap::new();
            propagation::inject(&mut headers);
            (headers, botanu::current_run_id().expect("in a run"))
        })
    });
    let traceparent = headers.get(p::TRACEPARENT).and_then(|v| v.to_str().ok()).expect("traceparent injected");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    let trace_id = TraceId::from_hex(parts[1]).expect("trace id");
    let span_id = SpanId::from_hex(parts[2]).expect("span id");
    Produced { headers, run_id, trace_id, span_id }
}

fn header_map(pairs: &[(&str, &[u8])]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let value = HeaderValue::from_bytes(value).expect("header value http accepts");
        headers.append(HeaderName::from_bytes(name.as_bytes()).expect("header name"), value);
    }
    headers
}

// === spans ===

fn is_server_run(span: &SpanData) -> bool {
    span.name.starts_with(semconv::RUN_SPAN_PREFIX) && kind(span) == SpanKind::Server
}

fn server_runs(spans: &[SpanData]) -> Vec<&SpanData> {
    spans.iter().filter(|s| is_server_run(s)).collect()
}

fn llm_spans(spans: &[SpanData]) -> Vec<&SpanData> {
    spans.iter().filter(|s| s.name == "chat gpt-4o").collect()
}

#[track_caller]
fn the_server_run_with_id<'a>(spans: &'a [SpanData], run_id: &str) -> &'a SpanData {
    let found: Vec<&SpanData> =
        server_runs(spans).into_iter().filter(|s| str_attr(s, semconv::RUN_ID) == run_id).collect();
    assert_eq!(found.len(), 1, "server runs with run id {run_id}");
    found[0]
}

/// The server run span a response answered for, checked against its `x-botanu-*` headers.
#[track_caller]
fn run_of<'a>(spans: &'a [SpanData], answer: &Answer) -> &'a SpanData {
    assert_eq!(answer.status, StatusCode::OK, "body {:?}", answer.body);
    let run = the_server_run_with_id(spans, answer.header(p::HEADER_RUN_ID));
    assert_eq!(answer.header(p::HEADER_WORKFLOW), str_attr(run, semconv::WORKFLOW));
    run
}

// === tests ===

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continues_the_callers_run_across_a_real_http_hop() {
    let h = Harness::new();
    let server = start(&h, layer(), AppState::default()).await;
    let producer = produce(&h, "order-1");
    let client = client();
    let answer = send(&client, server.addr, "/chat/one", producer.headers.clone()).await;
    drop(client);
    server.stop().await;

    let spans = h.spans();
    assert_eq!(spans.len(), 3, "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    let client_run = find_where(&spans, "the producer run", |s| kind(s) == SpanKind::Client);
    assert_eq!(client_run.span_context.span_id(), producer.span_id, "traceparent names the injecting span");

    let runs = server_runs(&spans);
    assert_eq!(runs.len(), 1);
    let run = runs[0];
    assert_eq!(run.name, "botanu.run/frontend", "a continued run keeps the caller's workflow");
    assert_eq!(run.span_context.trace_id(), producer.trace_id, "joins the client's trace");
    assert_eq!(run.parent_span_id, producer.span_id, "parent is the client's injecting span");
    assert_eq!(str_attr(run, semconv::RUN_ID), producer.run_id, "continues the client's run");
    assert_eq!(str_attr(run, semconv::WORKFLOW), "frontend");
    assert_eq!(str_attr(run, semconv::HTTP_REQUEST_METHOD), "GET");
    assert_eq!(str_attr(run, semconv::HTTP_ROUTE), "/chat/{id}");
    assert!(!is_error(run));

    let llm = find(&spans, "chat gpt-4o");
    assert!(is_child_of(llm, run), "the handler's LLM span is a child of the server's run span");
    assert_eq!(str_attr(llm, semconv::RUN_ID), producer.run_id);
    assert_eq!(str_attr(llm, "request"), "one");
    assert_eq!(int_attr(llm, semconv::GEN_AI_USAGE_INPUT_TOKENS), 10);

    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(p::HEADER_RUN_ID), producer.run_id);
    assert_eq!(answer.header(p::HEADER_WORKFLOW), "frontend");
    assert_eq!(answer.body, producer.run_id, "the handler sees the continued run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_keep_their_runs_apart() {
    const REQUESTS: usize = 200;
    let h = Harness::new();
    let state = AppState { barrier: Some(Arc::new(Barrier::new(REQUESTS))), ..AppState::default() };
    let server = start(&h, layer(), state).await;
    let producers: Vec<Produced> = (0..REQUESTS).map(|i| produce(&h, &format!("order-{i}"))).collect();
    let client = client();

    let started = Instant::now();
    let mut requests = tokio::task::JoinSet::new();
    for (i, producer) in producers.iter().enumerate() {
        let (client, addr, headers) = (client.clone(), server.addr, producer.headers.clone());
        requests.spawn(async move { (i, send(&client, addr, &format!("/chat/{i}"), headers).await) });
    }
    let mut answers: Vec<Option<Answer>> = (0..REQUESTS).map(|_| None).collect();
    while let Some(done) = tokio::time::timeout(DEADLINE, requests.join_next()).await.expect("all requests answer") {
        let (i, answer) = done.expect("request task");
        answers[i] = Some(answer);
    }
    eprintln!("{REQUESTS} concurrent requests answered in {:?}", started.elapsed());
    drop(client);
    server.stop().await;

    let spans = h.spans();
    assert_eq!(spans.len(), 3 * REQUESTS, "a producer run, a server run and an LLM span per request");
    assert_eq!(server_runs(&spans).len(), REQUESTS);
    assert_eq!(llm_spans(&spans).len(), REQUESTS);
    let run_ids: HashSet<&str> = server_runs(&spans).iter().map(|s| str_attr(s, semconv::RUN_ID)).collect();
    assert_eq!(run_ids.len(), REQUESTS, "every server run has its own run id");

    for (i, (producer, answer)) in producers.iter().zip(&answers).enumerate() {
        let answer = answer.as_ref().expect("answered");
        let run = the_server_run_with_id(&spans, &producer.run_id);
        assert_eq!(run.parent_span_id, producer.span_id, "request {i}: parent");
        assert_eq!(run.span_context.trace_id(), producer.trace_id, "request {i}: trace");
        assert_eq!(str_attr(run, semconv::HTTP_ROUTE), "/chat/{id}");
        let llms: Vec<&SpanData> =
            llm_spans(&spans).into_iter().filter(|s| str_attr(s, "request") == i.to_string()).collect();
        assert_eq!(llms.len(), 1, "request {i}: one LLM span");
        assert_eq!(str_attr(llms[0], semconv::RUN_ID), producer.run_id, "request {i}: LLM span's run id");
        assert!(is_child_of(llms[0], run), "request {i}: LLM span's parent");
        assert_eq!(answer.header(p::HEADER_RUN_ID), producer.run_id, "request {i}: response header");
        assert_eq!(answer.body, producer.run_id, "request {i}: run id the handler saw");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_propagation_headers_starts_a_fresh_run() {
    let h = Harness::new();
    let server = start(&h, layer(), AppState::default()).await;
    let client = client();
    let answer = send(&client, server.addr, "/plain", HeaderMap::new()).await;
    drop(client);
    server.stop().await;

    let spans = h.spans();
    assert_eq!(spans.len(), 1);
    let run = run_of(&spans, &answer);
    assert_eq!(run.name, "botanu.run/api", "the default workflow");
    assert!(is_root(run));
    let run_id = str_attr(run, semconv::RUN_ID);
    assert!(is_uuid_v7(run_id), "{run_id}");
    assert_eq!(str_attr(run, semconv::ROOT_RUN_ID), run_id);
    assert_eq!(str_attr(run, semconv::HTTP_ROUTE), "/plain");
    assert_eq!(answer.header(p::HEADER_RUN_ID), run_id);
    assert_eq!(answer.header(p::HEADER_WORKFLOW), "api");
    assert_eq!(answer.body, "plain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_workflows_name_the_runs_a_server_starts() {
    let h = Harness::new();
    let by_route = layer().with_route_workflow("/chat/{id}", "chat");
    let server = start(&h, by_route.clone(), AppState::default()).await;
    let child_server = start(&h, by_route.with_relation(RunRelation::Child), AppState::default()).await;
    let by_fn = layer().with_workflow(|req| req.uri.query().and_then(|q| q.strip_prefix("wf=")).map(str::to_owned));
    let fn_server = start(&h, by_fn, AppState::default()).await;
    let client = client();

    let fresh = send(&client, server.addr, "/chat/a", HeaderMap::new()).await;
    let continued_producer = produce(&h, "continued");
    let continued = send(&client, server.addr, "/chat/b", continued_producer.headers.clone()).await;
    let child_producer = produce(&h, "child");
    let child = send(&client, child_server.addr, "/chat/c", child_producer.headers.clone()).await;
    let named = send(&client, fn_server.addr, "/plain?wf=summarize", HeaderMap::new()).await;
    let header_only = send(&client, fn_server.addr, "/plain", header_map(&[(p::HEADER_WORKFLOW, b"batch")])).await;
    drop(client);
    for s in [server, child_server, fn_server] {
        s.stop().await;
    }

    let spans = h.spans();
    assert_eq!(server_runs(&spans).len(), 5);
    assert_eq!(run_of(&spans, &fresh).name, "botanu.run/chat", "route table");
    assert_eq!(run_of(&spans, &continued).name, "botanu.run/frontend", "a continued run is the caller's");
    assert_eq!(run_of(&spans, &named).name, "botanu.run/summarize", "workflow function");
    assert_eq!(run_of(&spans, &header_only).name, "botanu.run/batch", "x-botanu-workflow without a run");

    let child_run = run_of(&spans, &child);
    assert_eq!(child_run.name, "botanu.run/chat", "a child run is of the route's workflow");
    let child_run_id = str_attr(child_run, semconv::RUN_ID);
    assert_ne!(child_run_id, child_producer.run_id);
    assert!(is_uuid_v7(child_run_id));
    assert_eq!(str_attr(child_run, semconv::PARENT_RUN_ID), child_producer.run_id);
    assert_eq!(child_run.parent_span_id, child_producer.span_id);
    assert_eq!(child.body, child_run_id, "the handler is in the child run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_headers_neither_panic_nor_lose_the_request() {
    let h = Harness::new();
    let server = start(&h, layer(), AppState::default()).await;
    let client = client();
    let known = "0190a0e0-1b2c-7d3e-8f40-123456789abc";
    let junk: Vec<String> = (0..1000).map(|i| format!("k{i}=v{i}")).collect();
    let junk = junk.join(",");
    let run_first = format!("botanu.run_id={known},botanu.workflow=early,{junk}");
    let run_last = format!("{junk},botanu.run_id={known},botanu.workflow=late");
    let long_workflow = format!("botanu.run_id={known},botanu.workflow={}", "w".repeat(500));
    let cases: Vec<(&str, HeaderMap, Option<&str>, &str)> = vec![
        // (what, headers, the run id to expect (None: a fresh one), the workflow)
        ("non-UTF-8 baggage", header_map(&[(p::BAGGAGE, b"botanu.run_id=\xff\xfe,botanu.workflow=x")]), None, "api"),
        ("non-UTF-8 traceparent", header_map(&[(p::TRACEPARENT, b"00-\xff\xff-\x80-01")]), None, "api"),
        ("garbage traceparent", header_map(&[(p::TRACEPARENT, b"00-zz-zz-zz"), (p::TRACESTATE, b"a=b")]), None, "api"),
        ("1000 members, run first", header_map(&[(p::BAGGAGE, run_first.as_bytes())]), Some(known), "early"),
        ("1000 members, run past the limit", header_map(&[(p::BAGGAGE, run_last.as_bytes())]), None, "api"),
        ("over-long workflow", header_map(&[(p::BAGGAGE, long_workflow.as_bytes())]), None, "api"),
        ("two baggage headers", header_map(&[(p::BAGGAGE, b"a=1"), (p::BAGGAGE, b"b=\xff")]), None, "api"),
        ("run id not a UUID", header_map(&[(p::HEADER_RUN_ID, b"../../etc"), (p::HEADER_WORKFLOW, b"x")]), None, "x"),
        ("non-UTF-8 workflow header", header_map(&[(p::HEADER_WORKFLOW, b"caf\xe9")]), None, "api"),
        (
            "workflow with spaces",
            header_map(&[(p::HEADER_RUN_ID, known.as_bytes()), (p::HEADER_WORKFLOW, b"my flow")]),
            Some(known),
            "my flow",
        ),
    ];
    let mut answers = Vec::new();
    for (what, headers, _, _) in &cases {
        let answer = send(&client, server.addr, "/plain", headers.clone()).await;
        assert_eq!(answer.status, StatusCode::OK, "{what}");
        answers.push(answer);
    }
    drop(client);
    server.stop().await;

    let spans = h.spans();
    assert_eq!(spans.len(), cases.len(), "one run per request, none lost");
    for ((what, _, run_id, workflow), answer) in cases.iter().zip(&answers) {
        let got = answer.header(p::HEADER_RUN_ID);
        let run = find_where(&spans, what, |s| {
            is_server_run(s) && str_attr(s, semconv::RUN_ID) == got && str_attr(s, semconv::WORKFLOW) == *workflow
        });
        match run_id {
            Some(id) => assert_eq!(got, *id, "{what}"),
            None => assert!(is_uuid_v7(got) && is_root(run), "{what}: a fresh run, got {got}"),
        }
        // The workflow is echoed percent-encoded, so it is always a valid header value.
        assert_eq!(answer.header(p::HEADER_WORKFLOW), workflow.replace(' ', "%20"), "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_tenant_is_honored_only_when_inbound_identity_is_trusted() {
    let forged = "botanu.run_id=0190a0e0-1b2c-7d3e-8f40-123456789abc,botanu.workflow=frontend,\
                  botanu.tenant_id=evil-corp,botanu.customer_id=victim";
    for trusted in [false, true] {
        let h = Harness::with(|b| b.with_propagation_trust_inbound(trusted));
        let server = start(&h, layer(), AppState::default()).await;
        let client = client();
        let answer = send(&client, server.addr, "/chat/t", header_map(&[(p::BAGGAGE, forged.as_bytes())])).await;
        drop(client);
        server.stop().await;

        let spans = h.spans();
        assert_eq!(spans.len(), 2);
        let run = run_of(&spans, &answer);
        assert_eq!(str_attr(run, semconv::RUN_ID), "0190a0e0-1b2c-7d3e-8f40-123456789abc");
        let llm = find(&spans, "chat gpt-4o");
        for span in [run, llm] {
            if trusted {
                assert_eq!(str_attr(span, semconv::TENANT_ID), "evil-corp", "{}", span.name);
                assert_eq!(str_attr(span, semconv::CUSTOMER_ID), "victim", "{}", span.name);
            } else {
                assert_absent(span, semconv::TENANT_ID);
                assert_absent(span, semconv::CUSTOMER_ID);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_fail_the_run_and_client_errors_do_not() {
    let h = Harness::new();
    let server = start(&h, layer(), AppState::default()).await;
    let client = client();
    let failed = send(&client, server.addr, "/fail", HeaderMap::new()).await;
    let teapot = send(&client, server.addr, "/teapot", HeaderMap::new()).await;
    drop(client);
    server.stop().await;

    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(teapot.status, StatusCode::IM_A_TEAPOT);
    let spans = h.spans();
    assert_eq!(spans.len(), 2);
    let run = the_server_run_with_id(&spans, failed.header(p::HEADER_RUN_ID));
    assert!(is_error(run));
    assert_eq!(str_attr(run, semconv::ERROR_TYPE), "500");
    assert_eq!(one_event(run, semconv::EVENT_EXCEPTION).name, semconv::EVENT_EXCEPTION);
    let run = the_server_run_with_id(&spans, teapot.header(p::HEADER_RUN_ID));
    assert!(!is_error(run), "a 4xx is the client's error, not the server's");
    assert_absent(run, semconv::ERROR_TYPE);
}

/// A service that fails (axum's services cannot: their error type is `Infallible`).
#[derive(Clone)]
struct Unavailable;

impl tower_service::Service<http::Request<()>> for Unavailable {
    type Response = http::Response<()>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<http::Response<()>, std::io::Error>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<()>) -> Self::Future {
        std::future::ready(Err(std::io::Error::other("backend down")))
    }
}

#[tokio::test]
async fn an_inner_service_error_fails_the_run() {
    use tower_layer::Layer;
    use tower_service::Service;
    let h = Harness::new();
    let mut service = BotanuHttpLayer::new("api").layer(Unavailable);
    let request = http::Request::post("/ingest").body(()).expect("request");
    // `call` opens the run span, so it runs under the harness too, not only the future.
    let future = h.run(|| service.call(request));
    let error = future.with_subscriber(h.dispatch.clone()).await.expect_err("the inner error comes back");
    assert_eq!(error.to_string(), "backend down");

    let spans = h.spans();
    assert_eq!(spans.len(), 1);
    let run = &spans[0];
    assert_eq!(run.name, "botanu.run/api");
    assert_eq!(str_attr(run, semconv::HTTP_REQUEST_METHOD), "POST");
    assert_eq!(str_attr(run, semconv::HTTP_ROUTE), "/ingest");
    assert!(is_error(run));
    assert_eq!(str_attr(run, semconv::ERROR_TYPE), "Error");
    let exception = one_event(run, semconv::EVENT_EXCEPTION);
    assert_eq!(event_str(exception, semconv::EXCEPTION_MESSAGE), "backend down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_cancels_the_run() {
    use tokio::io::AsyncWriteExt;

    let h = Harness::new();
    let started = Arc::new(tokio::sync::Notify::new());
    let state = AppState { slow_started: Some(started.clone()), ..AppState::default() };
    let server = start(&h, layer(), state).await;

    // A raw connection, so the test decides when it goes away: send the request, wait until the
    // handler runs, then close the socket without reading a response.
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let request = format!("GET /slow HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    stream.write_all(request.as_bytes()).await.expect("request sent");
    tokio::time::timeout(DEADLINE, started.notified()).await.expect("the handler started");
    drop(stream);

    // hyper notices the closed connection and drops the request's future; the run closes then.
    let begun = Instant::now();
    let spans = loop {
        let spans = h.spans();
        if !server_runs(&spans).is_empty() {
            break spans;
        }
        assert!(begun.elapsed() < DEADLINE, "the run of the abandoned request never closed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let runs = server_runs(&spans);
    assert_eq!(runs.len(), 1);
    let run = runs[0];
    assert_eq!(str_attr(run, semconv::HTTP_ROUTE), "/slow");
    assert_eq!(str_attr(run, semconv::OUTCOME_STATUS), "canceled");
    let completed = one_event(run, semconv::EVENT_RUN_COMPLETED);
    assert_eq!(event_str(completed, semconv::RUN_EVENT_STATUS), semconv::RUN_STATUS_CANCELED);
    assert!(!is_error(run), "a client that went away is no failure of the server's");
    // Well before the handler's own wait would have ended.
    assert!(begun.elapsed() < DEADLINE / 2);
    server.stop().await;
}
