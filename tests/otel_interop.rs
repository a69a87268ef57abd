//! OpenTelemetry interop, read on exported spans: botanu spans are the current OTel context, the global
//! OTel propagator carries the run over a real HTTP hop, the SDK's own propagators and botanu's read
//! each other, tracing-opentelemetry shares the subscriber, and activation follows `.instrument()`ed
//! futures across worker threads.
//!
//! The global propagator is process-global, so these tests live in their own binary: every test here
//! installs the same `BotanuPropagator`, and no other test binary sees it.
#![cfg(feature = "tower")]
mod common;

use std::collections::HashMap;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Request;
use axum::middleware::Next;
use axum::routing::get;
use axum::Router;
use botanu::otel::{NotBotanuSpans, OtelSpanExt};
use botanu::prelude::*;
use botanu::propagation::tower::BotanuHttpLayer;
use botanu::propagation::{self, BotanuPropagator, RunRelation};
use botanu::semconv::{self as k, propagation as p};
use common::*;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer, TracerProvider,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tokio::sync::oneshot;
use tracing::instrument::WithSubscriber;
use tracing::Instrument;
use tracing_subscriber::prelude::*;

/// Generous bound for anything that waits on the network, so a bug hangs no CI job.
const DEADLINE: Duration = Duration::from_secs(60);

fn install_global_propagator() {
    opentelemetry::global::set_text_map_propagator(BotanuPropagator::new());
}

/// The SDK's own W3C propagators, as an OTel-only service would install them.
fn sdk_propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![Box::new(TraceContextPropagator::new()), Box::new(BaggagePropagator::new())])
}

fn current_span_id() -> SpanId {
    Context::current().span().span_context().span_id()
}

// === (1) the global propagator over a real HTTP hop ===

/// An OTel-native HTTP client: it injects `Context::current()` through the *global* propagator and
/// knows nothing of botanu.
struct HeaderInjector<'a>(&'a mut HeaderMap);

impl opentelemetry::propagation::Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(key.as_bytes()), HeaderValue::from_str(&value)) {
            self.0.insert(name, value);
        }
    }
}

async fn otel_native_get(addr: SocketAddr, path: &str) -> (StatusCode, String) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut request =
        http::Request::get(format!("http://{addr}{path}")).body(Full::new(Bytes::new())).expect("valid request");
    // A feature flag the caller adds to its OTel baggage (`with_baggage` replaces the baggage, so the
    // current members are copied): it must ride along with the run.
    let current = Context::current();
    let mut members: Vec<KeyValue> =
        current.baggage().iter().map(|(key, (value, _))| KeyValue::new(key.clone(), value.clone())).collect();
    members.push(KeyValue::new("feature_flag", "beta"));
    let cx = current.with_baggage(members);
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&cx, &mut HeaderInjector(request.headers_mut()))
    });
    let response = tokio::time::timeout(DEADLINE, client.request(request)).await.expect("in time").expect("response");
    let status = response.status();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The server's handler: one LLM call; answers with the run id and the foreign member it sees.
async fn chat() -> String {
    let llm = llm_span!(provider = "openai", model = "gpt-4o");
    async { tokio::task::yield_now().await }.instrument(llm).await;
    format!("{}|{}", botanu::current_run_id().unwrap_or_default(), botanu::baggage("feature_flag").unwrap_or_default())
}

struct Server {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// axum with `BotanuHttpLayer`, every request future under the harness's dispatcher (see
/// `tests/http_server.rs` for why the outermost middleware re-attaches it).
async fn start(h: &Harness) -> Server {
    let dispatch = h.dispatch.clone();
    let app = Router::new().route("/chat", get(chat)).layer(BotanuHttpLayer::new("api")).layer(
        axum::middleware::from_fn(move |req: Request, next: Next| next.run(req).with_subscriber(dispatch.clone())),
    );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (shutdown, signal) = oneshot::channel::<()>();
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = signal.await;
    });
    let task = tokio::spawn(serve.into_future().with_subscriber(h.dispatch.clone()));
    Server { addr, shutdown, task }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_otel_propagator_carries_the_run_over_http() {
    install_global_propagator();
    let h = Harness::new();
    let server = start(&h).await;
    let run = h.run(|| run_span!(workflow = "frontend", kind = "client", event_id = "order-7"));
    let (status, body) = async {
        tokio::task::yield_now().await;
        otel_native_get(server.addr, "/chat").await
    }
    .instrument(run.clone())
    .with_subscriber(h.dispatch.clone())
    .await;
    drop(run);
    let _ = server.shutdown.send(());
    tokio::time::timeout(DEADLINE, server.task).await.expect("server stops").expect("task").expect("serve");

    assert_eq!(status, StatusCode::OK, "{body}");
    let spans = h.spans();
    let run_span = |want: SpanKind| move |s: &SpanData| s.name.starts_with(k::RUN_SPAN_PREFIX) && kind(s) == want;
    let client = find_where(&spans, "client run", run_span(SpanKind::Client));
    let server_run = find_where(&spans, "server run", run_span(SpanKind::Server));
    let llm = find(&spans, "chat gpt-4o");
    // Same trace, the client's run span is the server run's remote parent, and the run continues.
    assert_eq!(server_run.span_context.trace_id(), client.span_context.trace_id());
    assert_eq!(server_run.parent_span_id, client.span_context.span_id());
    assert!(server_run.parent_span_is_remote);
    let run_id = str_attr(client, k::RUN_ID);
    assert_eq!(str_attr(server_run, k::RUN_ID), run_id);
    assert_eq!(str_attr(server_run, k::WORKFLOW), "frontend");
    assert!(is_child_of(llm, server_run));
    assert_eq!(str_attr(llm, k::RUN_ID), run_id);
    // The handler saw the run and the caller's foreign baggage member.
    assert_eq!(body, format!("{run_id}|beta"));
}

// === (2) the SDK's propagators and botanu's, both directions ===

#[test]
fn sdk_propagators_and_botanus_read_each_other() {
    install_global_propagator();
    let h = Harness::new();
    let sdk = sdk_propagator();

    // botanu → SDK: what botanu's propagator writes inside a run, the SDK's reads.
    let (run_ids, botanu_headers) = h.run(|| {
        run_span!(workflow = "ingest").in_scope(|| {
            let mut headers = HashMap::new();
            BotanuPropagator::new().inject_context(&Context::current(), &mut headers);
            // botanu's own inject is the same code path: the same headers.
            let mut own = HashMap::new();
            propagation::inject(&mut own);
            assert_eq!(own, headers);
            (botanu::otel::current_trace_ids().expect("in a span"), headers)
        })
    });
    let cx = sdk.extract(&botanu_headers);
    let sc = cx.span().span_context().clone();
    assert_eq!((sc.trace_id(), sc.span_id()), run_ids);
    let run = find(&h.spans(), "botanu.run/ingest").clone();
    assert_eq!(sc.span_id(), run.span_context.span_id());
    assert_eq!(cx.baggage().get(k::RUN_ID).map(|v| v.to_string()), Some(str_attr(&run, k::RUN_ID).to_owned()));
    assert_eq!(cx.baggage().get(k::WORKFLOW).map(|v| v.as_str()), Some("ingest"));
    // An OTel-only service continues the trace from it: its span's parent is botanu's run span.
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    drop(provider.tracer("otel-only").start_with_context("handle", &cx));
    let otel_span = exporter.get_finished_spans().expect("spans").pop().expect("one span");
    assert_eq!(otel_span.span_context.trace_id(), run.span_context.trace_id());
    assert_eq!(otel_span.parent_span_id, run.span_context.span_id());

    // SDK → botanu: an OTel-only producer with a run in its baggage and a foreign member.
    let producer = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("hex"),
        SpanId::from_hex("00f067aa0ba902b7").expect("hex"),
        TraceFlags::SAMPLED,
        false,
        TraceState::from_key_value([("vendor", "x")]).expect("tracestate"),
    );
    let inbound_run = "0190a234-5678-7fff-bfff-ffffffffffff";
    let producer_cx = Context::new().with_remote_span_context(producer.clone()).with_baggage(vec![
        KeyValue::new(k::RUN_ID, inbound_run),
        KeyValue::new(k::WORKFLOW, "ingest"),
        KeyValue::new("feature_flag", "beta"),
    ]);
    let mut sdk_headers = HashMap::new();
    sdk.inject_context(&producer_cx, &mut sdk_headers);

    let h = Harness::new();
    let downstream = h.run(|| {
        // Two consumers: botanu's `extract` + `set_remote_parent`, and botanu's propagator +
        // `set_parent`. Both continue the producer's run.
        let by_headers = step_span!("by-headers");
        by_headers.set_remote_parent(&propagation::extract(&sdk_headers), RunRelation::Continue);
        let by_context = step_span!("by-context");
        by_context.set_parent(BotanuPropagator::new().extract(&sdk_headers), RunRelation::Continue);
        // Round trip: the foreign member and the tracestate go on downstream.
        let mut out = HashMap::new();
        by_context.in_scope(|| propagation::inject(&mut out));
        by_headers.in_scope(|| {
            let mut again = HashMap::new();
            propagation::inject(&mut again);
            assert_eq!(again[p::BAGGAGE], out[p::BAGGAGE]);
        });
        out
    });
    let spans = h.spans();
    for name in ["botanu.step/by-headers", "botanu.step/by-context"] {
        let span = find(&spans, name);
        assert_eq!(span.span_context.trace_id(), producer.trace_id(), "{name}");
        assert_eq!(span.parent_span_id, producer.span_id(), "{name}");
        assert_eq!(str_attr(span, k::RUN_ID), inbound_run, "{name}");
    }
    assert_eq!(downstream[p::TRACESTATE], "vendor=x");
    // What botanu sends on, the SDK reads back: the run and the foreign member survived.
    let back = sdk.extract(&downstream);
    assert_eq!(back.baggage().get(k::RUN_ID).map(|v| v.as_str()), Some(inbound_run));
    assert_eq!(back.baggage().get("feature_flag").map(|v| v.as_str()), Some("beta"));
    assert_eq!(back.span().span_context().trace_id(), producer.trace_id());
}

/// The `botanu.*` members of an SDK-extracted context's baggage, sorted.
fn botanu_members(cx: &Context) -> Vec<(String, String)> {
    let mut members: Vec<(String, String)> = cx
        .baggage()
        .iter()
        .filter(|(key, _)| key.as_str().starts_with("botanu."))
        .map(|(key, (value, _))| (key.to_string(), value.to_string()))
        .collect();
    members.sort();
    members
}

#[test]
fn a_retry_chain_survives_lean_propagation_through_the_sdk() {
    let h = Harness::new();
    let sdk = sdk_propagator();
    // Two attempts of one run, lean mode (the default), each injecting through botanu's propagator.
    let (first, second, first_headers, second_headers) = h.run(|| {
        let inject = || {
            let mut headers = HashMap::new();
            BotanuPropagator::new().inject_context(&Context::current(), &mut headers);
            headers
        };
        let first = run_span!(workflow = "ingest");
        let first_headers = first.in_scope(inject);
        let previous = botanu::RunAttempt::of(&first);
        let second = run_span!(workflow = "ingest", retry_of = previous);
        let second_headers = second.in_scope(inject);
        let ids = |run: &tracing::Span| botanu::RunAttempt::of(run).expect("a run").run_id;
        (ids(&first), ids(&second), first_headers, second_headers)
    });
    // A first attempt stays two members.
    let first_cx = sdk.extract(&first_headers);
    assert_eq!(
        botanu_members(&first_cx),
        vec![(k::RUN_ID.to_owned(), first.clone()), (k::WORKFLOW.to_owned(), "ingest".to_owned())]
    );
    // A retry carries its chain; the SDK reads it and, as an OTel-only hop, sends it on unchanged.
    let second_cx = sdk.extract(&second_headers);
    let mut expected = vec![
        (k::ATTEMPT.to_owned(), "2".to_owned()),
        (k::RETRY_OF_RUN_ID.to_owned(), first.clone()),
        (k::ROOT_RUN_ID.to_owned(), first.clone()),
        (k::RUN_ID.to_owned(), second.clone()),
        (k::WORKFLOW.to_owned(), "ingest".to_owned()),
    ];
    expected.sort();
    assert_eq!(botanu_members(&second_cx), expected);
    let mut forwarded = HashMap::new();
    sdk.inject_context(&second_cx, &mut forwarded);

    // A botanu consumer past the OTel-only hop continues the retry, chain included.
    let consumer = Harness::new();
    consumer.run(|| {
        let run = run_span!(workflow = "ingest");
        run.set_remote_parent(&propagation::extract(&forwarded), RunRelation::Continue);
        run.in_scope(|| {});
    });
    let spans = consumer.spans();
    let run = find(&spans, "botanu.run/ingest");
    assert_eq!(str_attr(run, k::RUN_ID), second);
    assert_eq!(str_attr(run, k::ROOT_RUN_ID), first);
    assert_eq!(int_attr(run, k::ATTEMPT), 2);
    assert_eq!(str_attr(run, k::RETRY_OF_RUN_ID), first);
}

// === (3) tracing-opentelemetry in the same subscriber ===

#[test]
fn tracing_opentelemetry_and_botanu_share_one_trace_without_duplicates() {
    install_global_propagator();
    let botanu_spans = InMemorySpanExporter::default();
    let (botanu, guard) = botanu::Builder::new().with_span_exporter(botanu_spans.clone()).build().expect("builds");
    let otel_spans = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(otel_spans.clone()).build();
    let subscriber = tracing_subscriber::registry()
        .with(botanu)
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("app")).with_filter(NotBotanuSpans));
    tracing::subscriber::with_default(subscriber, || {
        run_span!(workflow = "support").in_scope(|| {
            tracing::info_span!("http.request", url = "/x").in_scope(|| {
                llm_span!(provider = "openai", model = "gpt-4o").in_scope(|| {
                    tracing::info_span!("parse").in_scope(|| {});
                });
            });
        });
    });
    guard.force_flush().expect("flush");
    let ours = botanu_spans.get_finished_spans().expect("spans");
    let theirs = otel_spans.get_finished_spans().expect("spans");
    let names = |spans: &[SpanData]| {
        let mut names: Vec<String> = spans.iter().map(|s| s.name.to_string()).collect();
        names.sort();
        names
    };
    // Each span exported once, by the layer that owns it.
    assert_eq!(names(&ours), ["botanu.run/support", "chat gpt-4o"]);
    assert_eq!(names(&theirs), ["http.request", "parse"]);
    let run = find(&ours, "botanu.run/support");
    let llm = find(&ours, "chat gpt-4o");
    let request = find(&theirs, "http.request");
    let parse = find(&theirs, "parse");
    // Parents across the layers, in both directions, in one trace.
    assert!(is_root(run));
    assert!(is_child_of(request, run), "tracing-opentelemetry span under a botanu span");
    assert!(is_child_of(llm, request), "botanu span under a tracing-opentelemetry span");
    assert!(is_child_of(parse, llm), "and back");
    // The botanu span keeps its run although its tracing parent is not botanu's.
    assert_eq!(str_attr(llm, k::RUN_ID), str_attr(run, k::RUN_ID));
}

// === (4) activation across threads ===

#[test]
fn entered_spans_are_the_current_otel_context_and_are_restored_on_exit() {
    let h = Harness::new();
    let (run_id, step_id) = h.run(|| {
        assert!(!Context::current().span().span_context().is_valid());
        let run = run_span!(workflow = "support");
        let step = step_span!("fetch");
        let ids = run.in_scope(|| {
            let run_id = current_span_id();
            // Re-entering the same span nests and unwinds.
            run.in_scope(|| assert_eq!(current_span_id(), run_id));
            let step_id = step.in_scope(|| {
                // A span botanu does not export is transparent: the step stays current.
                tracing::info_span!("plain").in_scope(current_span_id)
            });
            assert_eq!(current_span_id(), run_id, "restored after the step exits");
            (run_id, step_id)
        });
        assert!(!Context::current().span().span_context().is_valid(), "restored after the run exits");
        ids
    });
    let spans = h.spans();
    assert_eq!(find(&spans, "botanu.run/support").span_context.span_id(), run_id);
    assert_eq!(find(&spans, "botanu.step/fetch").span_context.span_id(), step_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_follows_instrumented_futures_across_worker_threads() {
    let h = Harness::new();
    // What each task saw at every poll: (thread, current OTel span id, the span's own id).
    let seen: Arc<Mutex<Vec<(std::thread::ThreadId, SpanId, String)>>> = Arc::default();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let run = h.run(|| run_span!(workflow = "worker", event_id = i.to_string()));
        let seen = seen.clone();
        let task = async move {
            for _ in 0..20 {
                let run_id = botanu::current_run_id().unwrap_or_default();
                seen.lock().expect("lock").push((std::thread::current().id(), current_span_id(), run_id));
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        };
        tasks.push(tokio::spawn(task.instrument(run).with_subscriber(h.dispatch.clone())));
    }
    for task in tasks {
        tokio::time::timeout(DEADLINE, task).await.expect("in time").expect("task");
    }
    // Between polls, no task's context is left on a worker thread.
    let idle = tokio::spawn(async { Context::current().span().span_context().is_valid() });
    assert!(!idle.await.expect("task"), "a worker thread kept a context after a poll");

    let spans = h.spans();
    let runs: HashMap<String, SpanId> =
        spans.iter().map(|s| (str_attr(s, k::RUN_ID).to_owned(), s.span_context.span_id())).collect();
    assert_eq!(runs.len(), 8);
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 8 * 20);
    for (_, span_id, run_id) in seen.iter() {
        assert_eq!(Some(span_id), runs.get(run_id), "the current OTel span is the polled task's run");
    }
    let threads: std::collections::HashSet<_> = seen.iter().map(|(t, _, _)| *t).collect();
    eprintln!("polled on {} worker thread(s)", threads.len());
}

// === an attached OTel context as the parent of a root botanu span ===

#[test]
fn a_botanu_span_opened_under_an_attached_otel_context_is_its_child() {
    let h = Harness::new();
    let inbound_run = "0190a234-5678-7fff-bfff-ffffffffffff";
    // What OTel-native server instrumentation attaches for a request: the caller's span and baggage.
    let caller = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("hex"),
        SpanId::from_hex("00f067aa0ba902b7").expect("hex"),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    let cx = Context::new().with_remote_span_context(caller.clone()).with_baggage(vec![
        KeyValue::new(k::RUN_ID, inbound_run),
        KeyValue::new(k::WORKFLOW, "checkout"),
        KeyValue::new(k::CUSTOMER_ID, "someone-else"),
        KeyValue::new("feature_flag", "beta"),
    ]);
    let flag = h.run(|| {
        let _attached = cx.attach();
        run_span!(workflow = "server", customer_id = "acme").in_scope(|| botanu::baggage("feature_flag"))
    });
    let spans = h.spans();
    let run = find_where(&spans, "the run", |s| s.name.starts_with(k::RUN_SPAN_PREFIX));
    assert_eq!(run.span_context.trace_id(), caller.trace_id());
    assert_eq!(run.parent_span_id, caller.span_id());
    assert!(run.parent_span_is_remote);
    // The inbound run continues; the inbound customer is not trusted (the span's own one stays).
    assert_eq!(str_attr(run, k::RUN_ID), inbound_run);
    assert_eq!(str_attr(run, k::CUSTOMER_ID), "acme");
    assert_eq!(flag.as_deref(), Some("beta"));
}
