//! An axum server whose every request is a botanu run, and a client that calls it from inside its own run.
//!
//! `cargo run --example axum_server --features tower` serves on 127.0.0.1 (port `$PORT`, else an
//! ephemeral one, printed), calls itself once as a client would, and serves until Ctrl-C; `-- --once`
//! stops after that call. The console exporter prints the spans: the client's run and the server's
//! run share one run id and one trace, and the server's LLM call is attributed to that run.
//!
//! Try it with curl too (a request without headers starts a fresh run):
//! `curl -i -X POST http://127.0.0.1:$PORT/v1/chat -d 'hello'` answers with `x-botanu-run-id`.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::MatchedPath;
use axum::routing::post;
use axum::Router;
use botanu::prelude::*;
use botanu::propagation::{self, tower::BotanuHttpLayer};
use botanu::semconv::propagation::{HEADER_RUN_ID, HEADER_WORKFLOW};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tracing::Instrument;

/// The handler: one LLM call, attributed to the request's run by the middleware.
async fn chat(question: String) -> String {
    let llm = llm_span!(provider = "openai", model = "gpt-4o-mini");
    let answer = async {
        // Call the model here.
        format!("You asked: {question}")
    }
    .instrument(llm.clone())
    .await;
    llm.set_tokens(Tokens { input: 12, output: 7, ..Default::default() });
    answer
}

/// The client side: a run that sends its context along with the request.
async fn call_as_a_client(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let run = run_span!(workflow = "support-ticket", kind = "client", event_id = "T-4711");
    async {
        let mut request =
            http::Request::post(format!("http://{addr}/v1/chat")).body(Full::new(Bytes::from("Where is my order?")))?;
        propagation::inject(request.headers_mut()); // traceparent + baggage
        let response = Client::builder(TokioExecutor::new()).build_http().request(request).await?;
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
        println!("client run {:?}", botanu::current_run_id());
        println!("server answered {}: {HEADER_RUN_ID}={}", response.status(), header(HEADER_RUN_ID));
        println!("                  {HEADER_WORKFLOW}={}", header(HEADER_WORKFLOW));
        Ok(())
    }
    .instrument(run)
    .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let guard = botanu::init()?;

    let app = Router::new().route("/v1/chat", post(chat)).layer(
        BotanuHttpLayer::new("api")
            .with_route_workflow("/v1/chat", "chat")
            .with_route(|req| req.extensions.get::<MatchedPath>().map(|p| p.as_str().to_owned())),
    );
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(0);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    let once = std::env::args().any(|a| a == "--once");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async {
        let _ = stopped.await;
    };
    let server = tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(shutdown).await });

    call_as_a_client(addr).await?;
    if !once {
        println!("serving until Ctrl-C; try: curl -i -X POST http://{addr}/v1/chat -d 'hello'");
        tokio::signal::ctrl_c().await?;
    }
    let _ = stop.send(());
    server.await??;
    // Shutting down flushes the spans to the console (or the collector).
    guard.shutdown()?;
    Ok(())
}
