//! Metrics read from the in-memory metric exporter after a scripted workload: instrument names, units,
//! attributes, bucket boundaries, and counts/sums/values exactly as the workload implies; only model
//! calls (not agent, workflow or tool operations) in the model-call metrics. Read through
//! `botanu::testing::MetricSeries` (`common::metric`), hence the `testing` feature.
#![cfg(feature = "testing")]
mod common;

use std::collections::BTreeMap;

use botanu::prelude::*;
use botanu::semconv::{self as k, metrics as m};
use common::*;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

type Attrs = BTreeMap<String, String>;

/// One data point, whatever the instrument: attributes, and count/sum (histogram) or value (counter).
#[derive(Debug, Clone, PartialEq)]
struct Point {
    attrs: Attrs,
    count: u64,
    sum: f64,
    bounds: Vec<f64>,
    buckets: Vec<u64>,
}

/// The data points of `metric` (a [`MetricSeries`], or an SDK metric), sorted by attributes, with
/// `count` the recordings of a histogram point or the value of a counter point.
fn points<'a>(metric: impl Into<MetricSeries<'a>>) -> Vec<Point> {
    let series = metric.into();
    let histogram = is_histogram(&series);
    let mut out: Vec<Point> = series
        .points()
        .into_iter()
        .map(|p| Point {
            attrs: point_attrs(&p),
            // `botanu.cost` (USD) is a float counter: `count` holds the whole dollars, `sum` the value.
            count: if histogram { p.count } else { p.sum as u64 },
            sum: p.sum,
            bounds: p.bounds,
            buckets: p.bucket_counts,
        })
        .collect();
    out.sort_by(|a, b| a.attrs.cmp(&b.attrs));
    out
}

fn metric<'a>(rm: &'a ResourceMetrics, name: &str) -> MetricSeries<'a> {
    common::metric(std::slice::from_ref(rm), name)
}

fn point(rm: &ResourceMetrics, name: &str, want: &[(&str, &str)]) -> Point {
    let want: Attrs = want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let all = points(metric(rm, name));
    all.iter().find(|p| p.attrs == want).cloned().unwrap_or_else(|| panic!("{name}: no point {want:?} in {all:?}"))
}

/// Three OpenAI calls (one failed), one Anthropic call, two tool calls (one failed), DB, storage and
/// messaging operations, in one run.
fn workload() {
    run_span!(workflow = "billing", customer_id = "cust-123", tenant_id = "tenant-9").in_scope(|| {
        llm_span!(provider = "OpenAI", model = "gpt-4").set_tokens(Tokens {
            input: 100,
            output: 20,
            ..Default::default()
        });
        llm_span!(provider = "openai", model = "gpt-4").set_tokens(Tokens {
            input: 300,
            output: 50,
            ..Default::default()
        });
        llm_span!(provider = "openai", model = "gpt-4").set_error_type("RateLimitError", "429");
        llm_span!(provider = "claude", model = "claude-3", operation = "chat").set_tokens(Tokens {
            input: 5000,
            output: 0,
            ..Default::default()
        });

        tool_span!(name = "search", provider = "openai")
            .set_result(ToolResult { items_returned: 2, ..Default::default() });
        tool_span!(name = "search", provider = "OpenAI").set_error_type("Timeout", "slow");

        db_span!(system = "postgres", operation = "select")
            .set_result(DbResult { rows_returned: 12, ..Default::default() });
        db_span!(system = "postgres", operation = "INSERT")
            .set_result(DbResult { rows_affected: 3, ..Default::default() });
        db_span!(system = "bigquery", operation = "SELECT").set_bytes_scanned(1_000_000);

        storage_span!(system = "s3", operation = "PUT").set_result(StorageResult {
            objects_count: 1,
            bytes_written: 2048,
            ..Default::default()
        });
        storage_span!(system = "aws_s3", operation = "GET").set_result(StorageResult {
            objects_count: 2,
            bytes_read: 4096,
            ..Default::default()
        });

        messaging_span!(system = "sqs", operation = "publish", destination = "q")
            .set_result(MessagingResult { message_count: 5, ..Default::default() });
    });
}

#[test]
fn token_usage_histogram_counts_sums_and_buckets() {
    let h = Harness::new();
    h.run(workload);
    let rms = h.metrics();
    let rm = rms.last().expect("an export");
    let usage = metric(rm, m::TOKEN_USAGE);
    assert_eq!(usage.unit(), "{token}");
    let openai =
        [(k::GEN_AI_OPERATION_NAME, "chat"), (k::GEN_AI_PROVIDER_NAME, "openai"), (k::GEN_AI_REQUEST_MODEL, "gpt-4")];
    let with = |extra: (&'static str, &'static str)| {
        let mut v = openai.to_vec();
        v.push(extra);
        v
    };
    let input = point(rm, m::TOKEN_USAGE, &with((k::GEN_AI_TOKEN_TYPE, "input")));
    assert_eq!((input.count, input.sum), (2, 400.0));
    assert_eq!(input.bounds, m::TOKEN_BUCKETS.to_vec());
    // 100 falls in (64, 256], 300 in (256, 1024].
    assert_eq!(input.buckets[4], 1);
    assert_eq!(input.buckets[5], 1);
    assert_eq!(input.buckets.iter().sum::<u64>(), 2);
    let output = point(rm, m::TOKEN_USAGE, &with((k::GEN_AI_TOKEN_TYPE, "output")));
    assert_eq!((output.count, output.sum), (2, 70.0));
    // Zero output tokens are not recorded; the failed call recorded no tokens at all.
    let claude = [
        (k::GEN_AI_OPERATION_NAME, "chat"),
        (k::GEN_AI_PROVIDER_NAME, "anthropic"),
        (k::GEN_AI_REQUEST_MODEL, "claude-3"),
    ];
    let all = points(usage);
    assert_eq!(all.len(), 3, "{all:?}");
    let mut c = claude.to_vec();
    c.push((k::GEN_AI_TOKEN_TYPE, "input"));
    assert_eq!(point(rm, m::TOKEN_USAGE, &c).sum, 5000.0);
}

#[test]
fn operation_duration_and_attempts_split_failures() {
    let h = Harness::new();
    h.run(workload);
    let rms = h.metrics();
    let rm = rms.last().expect("an export");
    let duration = metric(rm, m::OPERATION_DURATION);
    assert_eq!(duration.unit(), "s");
    let base =
        [(k::GEN_AI_OPERATION_NAME, "chat"), (k::GEN_AI_PROVIDER_NAME, "openai"), (k::GEN_AI_REQUEST_MODEL, "gpt-4")];
    let ok = point(rm, m::OPERATION_DURATION, &base);
    assert_eq!(ok.count, 2);
    assert_eq!(ok.bounds, m::DURATION_BUCKETS.to_vec());
    assert!(ok.sum > 0.0 && ok.sum < 5.0, "{}", ok.sum);
    let mut failed = base.to_vec();
    failed.push((k::ERROR_TYPE, "RateLimitError"));
    assert_eq!(point(rm, m::OPERATION_DURATION, &failed).count, 1);

    assert_eq!(metric(rm, m::ATTEMPTS).unit(), "{attempt}");
    let mut success = base.to_vec();
    success.push((m::STATUS, "success"));
    assert_eq!(point(rm, m::ATTEMPTS, &success).count, 2);
    let mut error = base.to_vec();
    error.push((m::STATUS, "error"));
    assert_eq!(point(rm, m::ATTEMPTS, &error).count, 1);
}

#[test]
fn tool_metrics_use_the_normalized_provider() {
    let h = Harness::new();
    h.run(workload);
    let rms = h.metrics();
    let rm = rms.last().expect("an export");
    let ok = [(k::GEN_AI_TOOL_NAME, "search"), (k::GEN_AI_PROVIDER_NAME, "openai"), (m::STATUS, "success")];
    let err = [(k::GEN_AI_TOOL_NAME, "search"), (k::GEN_AI_PROVIDER_NAME, "openai"), (m::STATUS, "error")];
    assert_eq!(point(rm, m::TOOL_EXECUTIONS, &ok).count, 1);
    assert_eq!(point(rm, m::TOOL_EXECUTIONS, &err).count, 1);
    let d = point(rm, m::TOOL_DURATION, &ok);
    assert_eq!((d.count, d.bounds.clone()), (1, m::DURATION_BUCKETS.to_vec()));
    assert_eq!(metric(rm, m::TOOL_DURATION).unit(), "s");
    assert_eq!(points(metric(rm, m::TOOL_EXECUTIONS)).len(), 2, "one provider spelling, not two");
}

#[test]
fn data_operation_counters_per_vendor_operation_and_workflow() {
    let h = Harness::new();
    h.run(workload);
    let rms = h.metrics();
    let rm = rms.last().expect("an export");
    let wf = (k::WORKFLOW, "billing");
    let pg_select = [(k::DB_SYSTEM, "postgresql"), (m::OPERATION, "SELECT"), wf];
    assert_eq!(point(rm, m::DATA_ROWS_RETURNED, &pg_select).count, 12);
    let pg_insert = [(k::DB_SYSTEM, "postgresql"), (m::OPERATION, "INSERT"), wf];
    assert_eq!(point(rm, m::DATA_ROWS_AFFECTED, &pg_insert).count, 3);
    let bq = [(k::DB_SYSTEM, "bigquery"), (m::OPERATION, "SELECT"), wf];
    assert_eq!(point(rm, m::DATA_BYTES_SCANNED, &bq).count, 1_000_000);
    assert_eq!(metric(rm, m::DATA_BYTES_SCANNED).unit(), "By");

    let put = [(k::STORAGE_SYSTEM, "s3"), (m::OPERATION, "PUT"), wf];
    let get = [(k::STORAGE_SYSTEM, "s3"), (m::OPERATION, "GET"), wf];
    assert_eq!(point(rm, m::STORAGE_OBJECTS, &put).count, 1);
    assert_eq!(point(rm, m::STORAGE_OBJECTS, &get).count, 2);
    let mut put_bytes = put.to_vec();
    put_bytes.push((m::DIRECTION, "write"));
    assert_eq!(point(rm, m::STORAGE_BYTES, &put_bytes).count, 2048);
    let mut get_bytes = get.to_vec();
    get_bytes.push((m::DIRECTION, "read"));
    assert_eq!(point(rm, m::STORAGE_BYTES, &get_bytes).count, 4096);

    let sqs = [(k::MESSAGING_SYSTEM, "sqs"), (m::OPERATION, "publish"), wf];
    assert_eq!(point(rm, m::MESSAGING_MESSAGES, &sqs).count, 5);
}

#[test]
fn no_metric_carries_an_unbounded_value() {
    let h = Harness::new();
    h.run(workload);
    let spans = h.spans();
    let run = find(&spans, "botanu.run/billing");
    let unbounded = [str_attr(run, k::RUN_ID), str_attr(run, k::EVENT_ID), "cust-123", "tenant-9"];
    let forbidden_keys = [k::RUN_ID, k::EVENT_ID, k::CUSTOMER_ID, k::TENANT_ID, k::ROOT_RUN_ID, k::PARENT_RUN_ID];
    let rms = h.metrics();
    let rm = rms.last().expect("an export");
    let mut seen = 0;
    for metric in rm.scope_metrics().flat_map(|s| s.metrics()) {
        for p in points(metric) {
            seen += 1;
            for (key, value) in &p.attrs {
                assert!(!forbidden_keys.contains(&key.as_str()), "{}: attribute {key}", metric.name());
                assert!(!unbounded.contains(&value.as_str()), "{}: {key}={value}", metric.name());
            }
        }
    }
    assert!(seen >= 15, "checked {seen} data points");
}

#[test]
fn a_user_meter_provider_receives_the_metrics() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder().with_reader(PeriodicReader::builder(exporter.clone()).build()).build();
    let h = Harness::with(|b| b.with_meter_provider(provider.clone()));
    h.run(workload);
    provider.force_flush().expect("flush");
    let rms = exporter.get_finished_metrics().expect("metrics");
    let rm = rms.last().expect("an export");
    assert_eq!(points(metric(rm, m::TOKEN_USAGE)).len(), 3);
    // The harness's own exporter is not attached to a user-supplied provider.
    assert!(h.metrics.get_finished_metrics().expect("metrics").is_empty());
}

#[test]
fn bucket_boundaries_are_the_contracts() {
    // Spelled out from CONTRACT §3, independent of the constants the layer uses.
    let tokens = [
        1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
        67108864.0,
    ];
    let seconds = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    let h = Harness::new();
    h.run(workload);
    let rms = h.metrics();
    let rm = rms.last().expect("an export");
    for p in points(metric(rm, m::TOKEN_USAGE)) {
        assert_eq!(p.bounds, tokens);
    }
    for name in [m::OPERATION_DURATION, m::TOOL_DURATION] {
        for p in points(metric(rm, name)) {
            assert_eq!(p.bounds, seconds, "{name}");
        }
    }
    for (name, unit) in [
        ("gen_ai.client.token.usage", "{token}"),
        ("gen_ai.client.operation.duration", "s"),
        ("botanu.gen_ai.attempts", "{attempt}"),
        ("botanu.tool.duration", "s"),
        ("botanu.tool.executions", "{execution}"),
    ] {
        assert_eq!(metric(rm, name).unit(), unit, "{name}");
    }
}

#[test]
fn workflow_cardinality_on_metrics_is_bounded() {
    let h = Harness::new();
    h.run(|| {
        for i in 0..300 {
            run_span!(workflow = %format!("wf-{i}")).in_scope(|| {
                db_span!(system = "postgres", operation = "SELECT")
                    .set_result(DbResult { rows_returned: 1, ..Default::default() });
            });
        }
    });
    let rms = h.metrics();
    let rm = rms.last().expect("an export");
    let rows = points(metric(rm, m::DATA_ROWS_RETURNED));
    assert_eq!(rows.len(), 257, "256 workflows and one overflow series");
    let other = rows.iter().find(|p| p.attrs[k::WORKFLOW] == "_other").expect("overflow series");
    assert_eq!(other.count, 300 - 256);
    assert_eq!(rows.iter().map(|p| p.count).sum::<u64>(), 300, "nothing is lost, only folded");
}

#[test]
fn time_to_first_chunk_is_a_span_attribute_and_a_histogram_of_streamed_calls() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "chat").in_scope(|| {
            // Streamed: the caller measured the first chunk; a second stream measured by the span.
            llm_span!(provider = "openai", model = "gpt-4o")
                .set_streaming(true)
                .set_time_to_first_chunk(std::time::Duration::from_millis(250))
                .set_tokens(Tokens { input: 10, output: 5, ..Default::default() });
            let measured = llm_span!(provider = "openai", model = "gpt-4o", stream = "measured");
            measured.record_first_chunk();
            std::thread::sleep(std::time::Duration::from_millis(50));
            measured.record_first_chunk();
            measured.set_tokens(Tokens { input: 10, output: 5, ..Default::default() });
            // A stream that failed after its first chunk: measured, without `error.type` (as in semconv).
            llm_span!(provider = "openai", model = "gpt-4o")
                .set_time_to_first_chunk(std::time::Duration::from_millis(750))
                .set_error_type("StreamReset", "connection reset");
            // Not streamed: no measurement.
            llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens {
                input: 1,
                output: 1,
                ..Default::default()
            });
            // A foreign GenAI span (genai, rig, …) that recorded the attribute itself.
            let foreign = tracing::info_span!(
                "chat claude",
                gen_ai.provider.name = "anthropic",
                gen_ai.request.model = "claude-3",
                gen_ai.operation.name = "chat",
                gen_ai.response.time_to_first_chunk = tracing::field::Empty,
            );
            foreign.record("gen_ai.response.time_to_first_chunk", 1.5f64);
        });
    });

    let spans = h.spans();
    let llm: Vec<_> = spans.iter().filter(|s| s.name == "chat gpt-4o").collect();
    assert_eq!(llm.len(), 4);
    let with_ttft: Vec<f64> = llm
        .iter()
        .filter_map(|s| attr(s, k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK))
        .map(|v| match v {
            opentelemetry::Value::F64(s) => *s,
            other => panic!("seconds as a double, is {other:?}"),
        })
        .collect();
    assert_eq!(with_ttft.len(), 3, "{with_ttft:?}");
    assert!(with_ttft.contains(&0.25) && with_ttft.contains(&0.75));
    // `record_first_chunk` kept its first measurement, taken right after the span opened, not the
    // second one, 50 ms later.
    let measured = find_by_attr(&spans, "stream", "measured");
    let first = f64_attr(measured, k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK);
    assert!((0.0..0.05).contains(&first), "{first}");

    let rms = h.metrics();
    let rm = rms.last().expect("an export");
    let ttft = metric(rm, m::TIME_TO_FIRST_CHUNK);
    assert_eq!(ttft.unit(), "s");
    let openai =
        [(k::GEN_AI_OPERATION_NAME, "chat"), (k::GEN_AI_PROVIDER_NAME, "openai"), (k::GEN_AI_REQUEST_MODEL, "gpt-4o")];
    let p = point(rm, m::TIME_TO_FIRST_CHUNK, &openai);
    assert_eq!(p.count, 3, "three streams, the unary call not measured");
    assert!((p.sum - (0.25 + 0.75 + first)).abs() < 1e-9, "{}", p.sum);
    assert_eq!(p.bounds, m::DURATION_BUCKETS.to_vec());
    let claude = [
        (k::GEN_AI_OPERATION_NAME, "chat"),
        (k::GEN_AI_PROVIDER_NAME, "anthropic"),
        (k::GEN_AI_REQUEST_MODEL, "claude-3"),
    ];
    assert_eq!(point(rm, m::TIME_TO_FIRST_CHUNK, &claude).sum, 1.5);
    assert_eq!(points(ttft).len(), 2, "no error.type series: {:?}", points(ttft));
}

/// Repeated combinations are found again (botanu keeps the bound instruments by the raw values): each
/// measurement lands on its own series, and workflows past the bound still fold into `_other`.
#[test]
fn repeated_combinations_accumulate_on_their_series() {
    let h = Harness::new();
    h.run(|| {
        for i in 0..300 {
            run_span!(workflow = %format!("wf-{i}")).in_scope(|| {
                for _ in 0..2 {
                    llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens {
                        input: 1_000,
                        output: 100,
                        ..Default::default()
                    });
                }
                let error_type = if i % 2 == 0 { "Timeout" } else { "RateLimit" };
                llm_span!(provider = "openai", model = "gpt-4o").set_error_type(error_type, "failed");
            });
        }
    });
    let rms = h.metrics();
    let rm = rms.last().expect("an export");
    let durations = points(metric(rm, m::OPERATION_DURATION));
    let by_error = |want: Option<&str>| {
        durations
            .iter()
            .filter(|p| p.attrs.get(k::ERROR_TYPE).map(String::as_str) == want)
            .map(|p| p.count)
            .sum::<u64>()
    };
    assert_eq!((by_error(None), by_error(Some("Timeout")), by_error(Some("RateLimit"))), (600, 150, 150));
    assert_eq!(durations.len(), 3, "{durations:?}");
    let attempts = points(metric(rm, m::ATTEMPTS));
    assert_eq!(attempts.iter().map(|p| p.count).sum::<u64>(), 900);
    let cost: Vec<Point> =
        points(metric(rm, k::METRIC_COST)).into_iter().filter(|p| p.attrs.contains_key(k::WORKFLOW)).collect();
    assert_eq!(cost.len(), 257, "256 workflows and one overflow series");
    let one_run = cost.iter().find(|p| p.attrs[k::WORKFLOW] == "wf-0").expect("wf-0").sum;
    assert!(one_run > 0.0);
    let other = cost.iter().find(|p| p.attrs[k::WORKFLOW] == "_other").expect("overflow series").sum;
    assert!((other - 44.0 * one_run).abs() < 1e-9 * other, "{other} vs 44 × {one_run}");
}

#[test]
fn agent_workflow_and_tool_operations_are_not_model_calls() {
    let h = Harness::new();
    h.run(|| {
        llm_span!(provider = "openai", model = "planner", operation = "invoke_agent").in_scope(|| {
            llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens {
                input: 10,
                output: 1,
                ..Default::default()
            });
        });
        tracing::info_span!("wf", gen_ai.provider.name = "openai", gen_ai.operation.name = "invoke_workflow")
            .in_scope(|| {});
        tracing::info_span!("create", gen_ai.provider.name = "openai", gen_ai.operation.name = "create_agent")
            .in_scope(|| {});
    });
    let rms = h.metrics();
    let attempts = attempts_by_status(&rms);
    assert_eq!(attempts.values().sum::<u64>(), 1, "only the chat: {attempts:?}");
    assert!(metric_names(&rms).contains(&m::OPERATION_DURATION.to_owned()));
    let spans = h.spans();
    assert_eq!(str_attr(find(&spans, "invoke_agent planner"), k::GEN_AI_OPERATION_NAME), "invoke_agent");
}

/// Data, tool and run metrics are recorded through instruments bound per attribute combination (found
/// from the span's own strings): repeated combinations add up on one series, and combinations past the
/// bound index (1,024) still count exactly, through the unbound instruments.
#[test]
fn data_tool_and_run_series_add_up_bound_and_past_the_bound() {
    const RUNS: u64 = 1_100;
    let h = Harness::new();
    h.run(|| {
        for i in 0..RUNS {
            run_span!(workflow = "etl").in_scope(|| {
                db_span!(system = %format!("warehouse-{i}"), operation = "SELECT")
                    .set_result(DbResult { rows_returned: 2, ..Default::default() });
                db_span!(system = "postgres", operation = "SELECT")
                    .set_result(DbResult { rows_returned: 1, ..Default::default() });
                tool_span!(name = "search", provider = "openai")
                    .set_result(ToolResult { items_returned: 1, ..Default::default() });
                storage_span!(system = "s3", operation = "GET")
                    .set_result(StorageResult { bytes_read: 10, ..Default::default() });
                messaging_span!(system = "sqs", operation = "publish", destination = "q")
                    .set_result(MessagingResult { message_count: 1, ..Default::default() });
            });
        }
    });
    let rms = h.metrics();
    let rm = rms.last().expect("an export");
    let wf = (k::WORKFLOW, "etl");
    let rows = points(metric(rm, m::DATA_ROWS_RETURNED));
    assert_eq!(rows.iter().map(|p| p.count).sum::<u64>(), RUNS * 3, "every row counted, bound or not");
    assert_eq!(
        point(rm, m::DATA_ROWS_RETURNED, &[(k::DB_SYSTEM, "postgresql"), (m::OPERATION, "SELECT"), wf]).count,
        RUNS
    );
    let other = [(k::DB_SYSTEM, "_other"), (m::OPERATION, "SELECT"), wf];
    // 256 distinct systems over db, storage and messaging (postgresql, s3 and sqs among them): the other
    // 847 warehouses fold into one series.
    assert_eq!(point(rm, m::DATA_ROWS_RETURNED, &other).count, (RUNS - 253) * 2);
    assert_eq!(rows.len(), 255, "253 warehouses, postgresql and the overflow series");
    let search = [(k::GEN_AI_TOOL_NAME, "search"), (k::GEN_AI_PROVIDER_NAME, "openai"), (m::STATUS, "success")];
    assert_eq!(point(rm, m::TOOL_EXECUTIONS, &search).count, RUNS);
    assert_eq!(points(metric(rm, m::TOOL_EXECUTIONS)).len(), 1);
    let get = [(k::STORAGE_SYSTEM, "s3"), (m::OPERATION, "GET"), wf, (m::DIRECTION, "read")];
    assert_eq!(point(rm, m::STORAGE_BYTES, &get).count, RUNS * 10);
    let names: Vec<&str> = rm.scope_metrics().flat_map(|s| s.metrics()).map(|m| m.name()).collect();
    assert!(!names.contains(&m::STORAGE_OBJECTS), "no objects recorded, no series bound: {names:?}");
    assert_eq!(
        point(rm, m::MESSAGING_MESSAGES, &[(k::MESSAGING_SYSTEM, "sqs"), (m::OPERATION, "publish"), wf]).count,
        RUNS
    );
    let runs = points(metric(rm, m::RUN_ATTEMPTS));
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].count, RUNS);
    assert_eq!(runs[0].attrs[k::WORKFLOW], "etl");
}
