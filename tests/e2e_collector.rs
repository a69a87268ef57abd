//! End-to-end: the quickstart workload exported to a real OpenTelemetry collector (`rotel`), read back
//! from what the collector prints, and delivery across a collector outage and restarts (what arrives,
//! and every span counted exported, failed or dropped). The test support installs the collector when it is missing, and a
//! test fails when it cannot; `BOTANU_E2E=skip` skips them with a `SKIPPED` line (`support/collector.rs`).

#[path = "support/collector.rs"]
mod collector;
#[path = "../examples/common/ticket.rs"]
mod ticket;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use botanu::config::{Config, Protocol};
use botanu::prelude::*;
use botanu::BotanuGuard;
use collector::Collector;
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

/// Runs the quickstart workload through a pipeline built from `config`, then shuts it down.
fn export_ticket(config: Config) {
    let (layer, guard) = config.build().expect("pipeline builds");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        ticket::handle_ticket(4711, "acme-corp").expect("workload runs");
    });
    guard.shutdown().expect("shutdown");
}

fn e2e_config(endpoint: String, protocol: Protocol) -> Config {
    Config::default()
        .with_service_name("botanu-e2e")
        .with_service_version("1.2.3")
        .with_service_namespace("billing")
        .with_resource_attribute("team", "platform")
        .with_environment("e2e")
        .with_protocol(protocol)
        .with_endpoint(endpoint)
        .with_schedule_delay(Duration::from_millis(100))
        .with_export_timeout(Duration::from_secs(5))
}

/// What the collector must have printed for the quickstart workload, with OTLP value types.
const EXPECTED: &[&str] = &[
    // resource
    "-> service.name: Str(botanu-e2e)",
    "-> deployment.environment: Str(e2e)",
    "-> telemetry.sdk.name: Str(botanu)",
    "-> telemetry.sdk.version: Str(",
    "-> service.version: Str(1.2.3)",
    "-> service.namespace: Str(billing)",
    "-> team: Str(platform)",
    // span names and kinds
    "Name           : botanu.run/support-ticket",
    "Name           : botanu.step/draft-reply",
    "Name           : chat gpt-4o",
    "Name           : chat claude-3-5-sonnet",
    "Name           : execute_tool search_kb",
    "Name           : db.postgresql.select",
    "Name           : storage.s3.put",
    "Name           : messaging.sqs.publish",
    "Kind           : SPAN_KIND_SERVER",
    "Kind           : SPAN_KIND_CLIENT",
    "Kind           : SPAN_KIND_PRODUCER",
    "Status code    : STATUS_CODE_ERROR",
    // typed attributes
    "-> botanu.workflow: Str(support-ticket)",
    "-> botanu.event_id: Str(4711)",
    "-> botanu.customer_id: Str(acme-corp)",
    "-> botanu.environment: Str(e2e)",
    "-> botanu.step: Str(draft-reply)",
    "-> botanu.attempt: Int(1)",
    "-> gen_ai.provider.name: Str(anthropic)",
    "-> gen_ai.usage.input_tokens: Int(1250)",
    "-> gen_ai.usage.output_tokens: Int(310)",
    "-> botanu.usage.cache_read_tokens: Int(800)",
    "-> gen_ai.response.finish_reasons: Slice(Str(end_turn))",
    "-> error.type: Str(RateLimited)",
    "-> botanu.tool.success: Bool(true)",
    "-> botanu.run.duration_ms: Double(",
    "-> db.system: Str(postgresql)",
    "-> db.operation: Str(SELECT)",
    "-> botanu.data.rows_returned: Int(12)",
    "-> botanu.cloud_provider: Str(aws)",
    "-> botanu.data.bytes_written: Int(18432)",
    "-> messaging.system: Str(sqs)",
    "-> botanu.outcome.status: Str(success)",
    // events
    "-> Name: botanu.run.started",
    "-> Name: botanu.run.completed",
    "-> Name: exception",
    // metrics, with the contract's buckets
    "-> Name: gen_ai.client.token.usage",
    "-> Unit: {token}",
    "-> Name: gen_ai.client.operation.duration",
    "-> Name: botanu.gen_ai.attempts",
    "-> Name: botanu.tool.executions",
    "-> Name: botanu.storage.bytes",
    "ExplicitBounds #13: 67108864",
    "ExplicitBounds #13: 81.92",
];

fn assert_exported(collector: &Collector) {
    let all_there = |out: &str| EXPECTED.iter().all(|line| out.contains(line));
    if !collector.wait_for(all_there, WAIT) {
        let out = collector.output();
        let missing: Vec<&&str> = EXPECTED.iter().filter(|l| !out.contains(**l)).collect();
        panic!("collector output misses {missing:?}\n--- output ---\n{out}");
    }
}

#[test]
fn quickstart_workload_arrives_over_http_protobuf() {
    let Some(collector) = Collector::start() else { return };
    export_ticket(e2e_config(collector.http_endpoint(), Protocol::HttpProtobuf));
    assert_exported(&collector);
    // The HTTP client's own telemetry never re-enters the layer: every exported span is ours.
    let out = collector.output();
    let span_count = out.matches("Name           : ").count();
    assert_eq!(span_count, 8, "exactly the workload's 8 spans\n{out}");
}

#[cfg(feature = "grpc")]
#[test]
fn quickstart_workload_arrives_over_grpc() {
    let Some(collector) = Collector::start() else { return };
    export_ticket(e2e_config(collector.grpc_endpoint(), Protocol::Grpc));
    assert_exported(&collector);
}

#[test]
fn shutdown_is_bounded_when_the_collector_hangs() {
    // A listener that accepts connections but never answers: the worst case for an exporter.
    let hang = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", hang.local_addr().expect("addr"));
    let timeout = Duration::from_millis(800);
    let config = Config::default()
        .with_endpoint(endpoint)
        .with_schedule_delay(Duration::from_millis(50))
        .with_export_timeout(timeout);
    let (layer, guard) = config.build().expect("pipeline builds");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..5 {
            ticket::handle_ticket(i, "acme-corp").expect("workload runs");
        }
    });
    let started = Instant::now();
    let _ = guard.shutdown();
    let took = started.elapsed();
    assert!(
        took <= timeout + Duration::from_secs(1),
        "shutdown took {took:?}, bound {:?}",
        timeout + Duration::from_secs(1)
    );
    drop(hang);
}

// === delivery across a collector outage and restarts ===

fn pipeline(config: Config) -> (Dispatch, BotanuGuard) {
    let (layer, guard) = config.build().expect("pipeline builds");
    (Dispatch::new(tracing_subscriber::registry().with(layer)), guard)
}

fn emit(dispatch: &Dispatch, prefix: &str, n: usize) {
    tracing::dispatcher::with_default(dispatch, || {
        run_span!(workflow = "outage").in_scope(|| {
            for i in 0..n {
                llm_span!(provider = "openai", model = %format!("{prefix}-{i}"));
            }
        });
    });
}

fn arrived(collector: &Collector, prefix: &str, n: usize) -> bool {
    collector.wait_for(
        |out| (0..n).all(|i| out.contains(&format!("Name           : chat {prefix}-{i}\n"))),
        Duration::from_secs(20),
    )
}

#[test]
fn spans_after_a_collector_outage_and_a_restart_arrive() {
    let Some(mut collector) = Collector::start() else { return };
    collector.stop();
    let config = Config::default()
        .with_service_name("outage")
        .with_endpoint(collector.http_endpoint())
        .with_schedule_delay(Duration::from_millis(50))
        .with_export_timeout(Duration::from_secs(3));
    let (dispatch, guard) = pipeline(config);

    // The app starts with the collector down: exports fail, nothing blocks, every span is accounted for.
    emit(&dispatch, "down", 100);
    let _ = guard.force_flush();
    let counts = guard.export_counts();
    assert_eq!(counts.exported, 0);
    assert_eq!(counts.failed + counts.dropped, 101, "{counts:?}");

    // The collector comes up mid-run: everything created after that arrives.
    collector.restart();
    emit(&dispatch, "up", 50);
    guard.force_flush().expect("flush");
    assert!(arrived(&collector, "up", 50), "spans after the collector came up\n{}", collector.output());

    // Restarted mid-stream: spans after the restart arrive.
    collector.restart();
    emit(&dispatch, "restarted", 50);
    guard.force_flush().expect("flush");
    assert!(arrived(&collector, "restarted", 50), "spans after the restart\n{}", collector.output());
    let counts = guard.export_counts();
    assert_eq!(counts.exported + counts.failed + counts.dropped, 101 + 51 + 51, "{counts:?}");
    drop(guard);
}
