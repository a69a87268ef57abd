//! The official AWS SDK for Rust under the layer: unmodified `aws-sdk-s3`, `aws-sdk-sqs` and
//! `aws-sdk-dynamodb` (no default features: no TLS stack), talking plain HTTP to a mock of the three
//! services on 127.0.0.1, with static test credentials made at run time, inside a `run_span!`.
//!
//! The SDK opens one DEBUG span per operation (`S3.PutObject`, with `rpc.system = "aws-api"`,
//! `rpc.service`, `rpc.method`) and a dozen inner ones (`try_op`, `try_attempt`, `serialization`, …).
//! These tests check what a backend receives: the operation spans, with their own names, kinds,
//! botanu's system / operation / vendor / cloud provider keys and the run's stamp, priced from the
//! list-price table; the inner spans not exported; the run's data cost equal to the sum; and a 503
//! answered by a retry priced once, as S3 bills it.

mod common;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use botanu::cost::{DataUnit, DATA_PRICES, DATA_PRICES_SOURCE};
use botanu::prelude::*;
use botanu::semconv as k;
use common::*;
use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::SpanData;
use tracing::Instrument;

// === the mock ===

/// What the mock received: requests per (method, path) and per `x-amz-target`.
#[derive(Default)]
struct Seen {
    requests: HashMap<String, u32>,
}

type Shared = Arc<Mutex<Seen>>;

/// The S3 key whose first PUT is answered `503 SlowDown`.
const RETRIED_KEY: &str = "retried.txt";

fn respond(status: StatusCode, headers: &[(&str, &str)], body: impl Into<Body>) -> Response {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    response.body(body.into()).unwrap_or_default()
}

/// One handler for the three services: SQS and DynamoDB speak JSON over `POST /` with an
/// `x-amz-target`; S3 is REST (path-style: `/bucket/key`).
async fn mock(State(seen): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let key = if target.is_empty() { format!("{method} {}", uri.path()) } else { target.clone() };
    let count = {
        let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        let n = seen.requests.entry(key).or_default();
        *n += 1;
        *n
    };
    let body = String::from_utf8_lossy(&body);
    let json = |id: &str, answer: String| {
        respond(StatusCode::OK, &[("content-type", "application/x-amz-json-1.0"), ("x-amzn-requestid", id)], answer)
    };
    // DynamoDB reports consumed capacity only when asked (`ReturnConsumedCapacity`).
    let capacity = |units: f64| {
        if body.contains("\"ReturnConsumedCapacity\":\"TOTAL\"") {
            format!(r#""ConsumedCapacity":{{"TableName":"orders","CapacityUnits":{units}}}"#)
        } else {
            r#""_":null"#.to_owned()
        }
    };
    match target.as_str() {
        "AmazonSQS.SendMessage" => {
            json("req-sqs-send", r#"{"MessageId":"m-1","MD5OfMessageBody":"5d41402abc4b2a76b9719d911017c592"}"#.into())
        }
        "AmazonSQS.ReceiveMessage" => json(
            "req-sqs-receive",
            r#"{"Messages":[{"MessageId":"m-1","ReceiptHandle":"rh-1","Body":"hello","MD5OfBody":"5d41402abc4b2a76b9719d911017c592"}]}"#.into(),
        ),
        "AmazonSQS.DeleteMessage" => json("req-sqs-delete", "{}".into()),
        "DynamoDB_20120810.PutItem" => json("req-ddb-put", format!("{{{}}}", capacity(1.0))),
        "DynamoDB_20120810.GetItem" => {
            json("req-ddb-get", format!(r#"{{"Item":{{"pk":{{"S":"o-1"}}}},{}}}"#, capacity(0.5)))
        }
        "" => s3(&method, &uri, count),
        other => respond(StatusCode::BAD_REQUEST, &[], format!("mock: unexpected target {other}")),
    }
}

fn s3(method: &Method, uri: &Uri, count: u32) -> Response {
    let id = [("x-amz-request-id", "req-s3")];
    match *method {
        Method::PUT if uri.path().ends_with(RETRIED_KEY) && count == 1 => respond(
            StatusCode::SERVICE_UNAVAILABLE,
            &[("content-type", "application/xml"), ("x-amz-request-id", "req-s3-503")],
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
        ),
        Method::PUT => respond(StatusCode::OK, &[("etag", "\"e-1\""), id[0]], ""),
        Method::GET if uri.query().is_some_and(|q| q.contains("list-type=2")) => respond(
            StatusCode::OK,
            &[("content-type", "application/xml"), id[0]],
            r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>reports</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"#,
        ),
        Method::GET => {
            respond(StatusCode::OK, &[("content-type", "text/plain"), ("content-length", "5"), id[0]], "hello")
        }
        Method::DELETE => respond(StatusCode::NO_CONTENT, &id, ""),
        _ => respond(StatusCode::BAD_REQUEST, &[], "mock: unexpected S3 request"),
    }
}

/// Serves the mock on 127.0.0.1:0; its base URL and what it saw.
async fn serve_mock() -> (String, Shared) {
    let seen = Shared::default();
    let app = axum::Router::new().fallback(mock).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), seen)
}

// === the SDK clients, as a user configures them (plus the mock's endpoint) ===

/// Static credentials made at run time (no secret-looking literal in the source).
fn credentials() -> aws_sdk_s3::config::Credentials {
    let access_key = format!("{}{}", "AKIA", "0000BOTANUTEST00");
    let secret = format!("{}-{}", "botanu", "test-secret-not-real");
    aws_sdk_s3::config::Credentials::new(access_key, secret, None, None, "botanu-tests")
}

/// The SDK's own hyper client without TLS (the mock is plain HTTP).
fn http_client() -> aws_sdk_s3::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_http()
}

/// Retries as the SDK's default (standard, 3 attempts), with a short backoff so the test is fast.
fn retry() -> aws_sdk_s3::config::retry::RetryConfig {
    aws_sdk_s3::config::retry::RetryConfig::standard().with_initial_backoff(Duration::from_millis(5))
}

struct Clients {
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    dynamodb: aws_sdk_dynamodb::Client,
}

/// The three clients; `interceptor` adds botanu's to each config (the one line of the README).
fn clients(base: &str, interceptor: bool) -> Clients {
    let region = aws_sdk_s3::config::Region::new("us-east-1");
    let version = aws_sdk_s3::config::BehaviorVersion::latest();
    let mut s3 = aws_sdk_s3::Config::builder()
        .behavior_version(version)
        .region(region.clone())
        .credentials_provider(credentials())
        .http_client(http_client())
        .retry_config(retry())
        .endpoint_url(base)
        .force_path_style(true);
    let mut sqs = aws_sdk_sqs::Config::builder()
        .behavior_version(version)
        .region(region.clone())
        .credentials_provider(credentials())
        .http_client(http_client())
        .retry_config(retry())
        .endpoint_url(base);
    let mut dynamodb = aws_sdk_dynamodb::Config::builder()
        .behavior_version(version)
        .region(region)
        .credentials_provider(credentials())
        .http_client(http_client())
        .retry_config(retry())
        .endpoint_url(base);
    if interceptor {
        add_interceptor(&mut s3, &mut sqs, &mut dynamodb);
    }
    Clients {
        s3: aws_sdk_s3::Client::from_conf(s3.build()),
        sqs: aws_sdk_sqs::Client::from_conf(sqs.build()),
        dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
    }
}

#[cfg(feature = "aws")]
fn add_interceptor(
    s3: &mut aws_sdk_s3::config::Builder,
    sqs: &mut aws_sdk_sqs::config::Builder,
    dynamodb: &mut aws_sdk_dynamodb::config::Builder,
) {
    s3.push_interceptor(aws_sdk_s3::config::SharedInterceptor::new(botanu::aws::BotanuInterceptor::new()));
    sqs.push_interceptor(aws_sdk_sqs::config::SharedInterceptor::new(botanu::aws::BotanuInterceptor::new()));
    dynamodb.push_interceptor(aws_sdk_dynamodb::config::SharedInterceptor::new(botanu::aws::BotanuInterceptor::new()));
}

#[cfg(not(feature = "aws"))]
fn add_interceptor(
    _: &mut aws_sdk_s3::config::Builder,
    _: &mut aws_sdk_sqs::config::Builder,
    _: &mut aws_sdk_dynamodb::config::Builder,
) {
    unreachable!("the interceptor tests need feature `aws`")
}

/// Runs `work` under the harness's subscriber on a current-thread runtime (so the subscriber, set for
/// this thread, sees every poll), against a fresh mock.
fn run_async<F: Future<Output = ()>>(h: &Harness, work: impl FnOnce(String, Shared) -> F) {
    run_under(&h.dispatch, work);
}

fn run_under<F: Future<Output = ()>>(dispatch: &tracing::Dispatch, work: impl FnOnce(String, Shared) -> F) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let _default = tracing::dispatcher::set_default(dispatch);
    rt.block_on(async {
        let (base, seen) = serve_mock().await;
        work(base, seen).await;
    });
}

// === expectations, read from the price table ===

/// The USD of one request of price class `class`.
fn per_request(class: &str) -> f64 {
    let row = DATA_PRICES.iter().find(|row| row.class == class).unwrap_or_else(|| panic!("no row {class}"));
    match row.unit {
        // One request, or one chunk of a payload under 64 KiB.
        DataUnit::Requests { per } | DataUnit::RequestChunks { per, .. } => row.usd / per,
        other => panic!("{class} is not priced per request: {other:?}"),
    }
}

/// The USD of `units` request units of price class `class`.
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
fn per_units(class: &str, units: f64) -> f64 {
    let row = DATA_PRICES.iter().find(|row| row.class == class).unwrap_or_else(|| panic!("no row {class}"));
    match row.unit {
        DataUnit::ReadUnits { per } | DataUnit::WriteUnits { per } => row.usd * units / per,
        other => panic!("{class} is not priced per unit: {other:?}"),
    }
}

fn assert_priced(span: &SpanData, class: &str, usd: f64) {
    assert_eq!(str_attr(span, k::COST_MODEL), class, "{}", span.name);
    assert_eq!(str_attr(span, k::COST_SOURCE), DATA_PRICES_SOURCE, "{}", span.name);
    let got = f64_attr(span, k::COST_USD);
    assert!((got - usd).abs() < 1e-15, "{}: {got} != {usd}", span.name);
}

const INNER_SPANS: [&str; 6] =
    ["try_op", "try_attempt", "serialization", "orchestrate_endpoint", "deserialization", "read_body"];

// === the tests ===

#[test]
fn s3_sqs_and_dynamodb_operations_are_recognized_stamped_and_priced() {
    let h = Harness::new();
    run_async(&h, |base, _| async move {
        let c = clients(&base, false);
        let run = run_span!(workflow = "aws-sdk", customer_id = "acme");
        async {
            let body = aws_sdk_s3::primitives::ByteStream::from_static(b"hello");
            c.s3.put_object().bucket("reports").key("a.txt").body(body).send().await.expect("PutObject");
            let got = c.s3.get_object().bucket("reports").key("a.txt").send().await.expect("GetObject");
            assert_eq!(got.body.collect().await.expect("body").into_bytes().as_ref(), b"hello");
            c.s3.list_objects_v2().bucket("reports").send().await.expect("ListObjectsV2");
            c.s3.delete_object().bucket("reports").key("a.txt").send().await.expect("DeleteObject");

            let queue = format!("{base}/123456789012/orders");
            c.sqs.send_message().queue_url(&queue).message_body("hello").send().await.expect("SendMessage");
            let received = c.sqs.receive_message().queue_url(&queue).send().await.expect("ReceiveMessage");
            assert_eq!(received.messages().len(), 1);
            c.sqs.delete_message().queue_url(&queue).receipt_handle("rh-1").send().await.expect("DeleteMessage");

            let pk = aws_sdk_dynamodb::types::AttributeValue::S("o-1".into());
            c.dynamodb.put_item().table_name("orders").item("pk", pk.clone()).send().await.expect("PutItem");
            c.dynamodb.get_item().table_name("orders").key("pk", pk).send().await.expect("GetItem");
        }
        .instrument(run)
        .await;
    });

    let spans = h.spans();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    for inner in INNER_SPANS {
        assert!(!names.contains(&inner), "inner SDK span {inner} exported: {names:?}");
    }
    let run = find(&spans, "botanu.run/aws-sdk");
    let run_id = str_attr(run, k::RUN_ID);

    // (span, kind, system key, system, operation key, operation)
    let storage = [
        ("S3.PutObject", "PUT", "s3.put_class"),
        ("S3.GetObject", "GET", "s3.get_class"),
        ("S3.ListObjectsV2", "LIST", "s3.put_class"),
        ("S3.DeleteObject", "DELETE", "s3.delete"),
    ];
    let mut sum = 0.0;
    for (name, operation, class) in storage {
        let span = find(&spans, name);
        assert_eq!(kind(span), SpanKind::Client, "{name}");
        assert_eq!(str_attr(span, k::STORAGE_SYSTEM), "s3", "{name}");
        assert_eq!(str_attr(span, k::STORAGE_OPERATION), operation, "{name}");
        let usd = per_request(class);
        assert_priced(span, class, usd);
        sum += usd;
    }
    let messaging = [
        ("SQS.SendMessage", "publish", SpanKind::Producer),
        ("SQS.ReceiveMessage", "receive", SpanKind::Consumer),
        ("SQS.DeleteMessage", "settle", SpanKind::Consumer),
    ];
    for (name, operation, span_kind) in messaging {
        let span = find(&spans, name);
        assert_eq!(kind(span), span_kind, "{name}");
        assert_eq!(str_attr(span, k::MESSAGING_SYSTEM), "sqs", "{name}");
        assert_eq!(str_attr(span, k::MESSAGING_OPERATION), operation, "{name}");
        // Every SQS action is a billed request; these payloads are under one 64 KiB chunk.
        let usd = per_request("sqs.standard_requests");
        assert_priced(span, "sqs.standard_requests", usd);
        sum += usd;
    }
    for (name, operation) in [("DynamoDB.PutItem", "UPSERT"), ("DynamoDB.GetItem", "SELECT")] {
        let span = find(&spans, name);
        assert_eq!(kind(span), SpanKind::Client, "{name}");
        assert_eq!(str_attr(span, k::DB_SYSTEM), "dynamodb", "{name}");
        assert_eq!(str_attr(span, k::DB_OPERATION), operation, "{name}");
        // No consumed capacity without the interceptor: unknown, not zero.
        assert_absent(span, k::COST_USD);
        assert!(bool_attr(span, k::COST_UNPRICED), "{name}");
        assert_eq!(str_attr(span, k::COST_UNPRICED_REASON), "no_usage", "{name}");
    }
    let operations: Vec<&SpanData> =
        spans.iter().filter(|s| attr(s, k::RPC_SYSTEM).is_some_and(|v| v.as_str() == k::RPC_SYSTEM_AWS_API)).collect();
    assert_eq!(operations.len(), 9, "{names:?}");
    for span in &operations {
        let (service, method) = span.name.split_once('.').expect("Service.Method");
        assert_eq!(str_attr(span, k::RPC_SERVICE), service);
        assert_eq!(str_attr(span, k::RPC_METHOD), method);
        assert_eq!(str_attr(span, k::CLOUD_PROVIDER), "aws", "{}", span.name);
        assert!(!str_attr(span, k::VENDOR).is_empty(), "{}", span.name);
        assert_eq!(str_attr(span, k::RUN_ID), run_id, "{}: stamped with the run", span.name);
        assert_eq!(str_attr(span, k::CUSTOMER_ID), "acme", "{}", span.name);
        assert!(is_child_of(span, run), "{}: a child of the caller's span", span.name);
    }

    let data_usd = f64_attr(run, k::RUN_COST_DATA_USD);
    assert!((data_usd - sum).abs() < 1e-15, "run data cost {data_usd} != sum {sum}");
    assert_eq!(int_attr(run, k::RUN_COST_UNPRICED_COUNT), 2, "the two DynamoDB calls");
}

/// S3 answers the first PUT `503 SlowDown`; the SDK retries and gets 200. S3 does not bill 5xx
/// responses ("Billing for Amazon S3 error responses", S3 user guide): the operation is one billed
/// PUT, priced once.
#[test]
fn a_503_then_200_retry_is_priced_once() {
    let h = Harness::new();
    let mut seen_puts = 0;
    run_async(&h, |base, seen| {
        let seen_puts = &mut seen_puts;
        async move {
            let c = clients(&base, false);
            let body = aws_sdk_s3::primitives::ByteStream::from_static(b"hello");
            let put = c.s3.put_object().bucket("reports").key(RETRIED_KEY).body(body).send();
            put.instrument(run_span!(workflow = "aws-retry")).await.expect("PutObject after a retry");
            let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            *seen_puts = seen.requests.get(&format!("PUT /reports/{RETRIED_KEY}")).copied().unwrap_or(0);
        }
    });
    assert_eq!(seen_puts, 2, "the SDK retried the 503");

    let spans = h.spans();
    let put = find(&spans, "S3.PutObject");
    assert_eq!(find_all(&spans, "S3.PutObject").len(), 1, "one operation span for two attempts");
    let usd = per_request("s3.put_class");
    assert_priced(put, "s3.put_class", usd);
    let run = find(&spans, "botanu.run/aws-retry");
    assert!((f64_attr(run, k::RUN_COST_DATA_USD) - usd).abs() < 1e-15);
}

/// With botanu's interceptor in the SDK configs: DynamoDB priced from the consumed capacity its
/// responses report (asked for with `ReturnConsumedCapacity`), the bucket, table, queue, payload bytes
/// and request ids recorded on the operation spans, and the 503-then-200 PUT counted as one billed
/// attempt.
#[cfg(feature = "aws")]
#[test]
fn the_interceptor_records_capacity_bucket_queue_and_billed_attempts() {
    use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

    let h = Harness::new();
    run_async(&h, |base, _| async move {
        let c = clients(&base, true);
        let run = run_span!(workflow = "aws-interceptor");
        async {
            let body = aws_sdk_s3::primitives::ByteStream::from_static(b"hello");
            c.s3.put_object().bucket("reports").key(RETRIED_KEY).body(body).send().await.expect("PutObject");
            let queue = format!("{base}/123456789012/orders");
            c.sqs.send_message().queue_url(&queue).message_body("hello").send().await.expect("SendMessage");
            let pk = AttributeValue::S("o-1".into());
            let total = ReturnConsumedCapacity::Total;
            let put = c.dynamodb.put_item().table_name("orders").item("pk", pk.clone());
            put.return_consumed_capacity(total.clone()).send().await.expect("PutItem");
            let get = c.dynamodb.get_item().table_name("orders").key("pk", pk);
            get.return_consumed_capacity(total).send().await.expect("GetItem");
        }
        .instrument(run)
        .await;
    });

    let spans = h.spans();
    let put_item = find(&spans, "DynamoDB.PutItem");
    let write = per_units("dynamodb.on_demand_write", 1.0);
    assert_priced(put_item, "dynamodb.on_demand_write", write);
    assert_eq!(f64_attr(put_item, k::DATA_WRITE_UNITS), 1.0);
    assert_eq!(str_attr(put_item, k::DB_COLLECTION_NAME), "orders");
    assert_eq!(str_array_attr(put_item, k::AWS_DYNAMODB_TABLE_NAMES), vec!["orders".to_owned()]);
    assert_eq!(str_attr(put_item, k::AWS_REQUEST_ID), "req-ddb-put");
    let get_item = find(&spans, "DynamoDB.GetItem");
    let read = per_units("dynamodb.on_demand_read", 0.5);
    assert_priced(get_item, "dynamodb.on_demand_read", read);
    assert_eq!(f64_attr(get_item, k::DATA_READ_UNITS), 0.5);

    let put_object = find(&spans, "S3.PutObject");
    assert_eq!(str_attr(put_object, k::AWS_S3_BUCKET), "reports");
    assert_eq!(str_attr(put_object, k::STORAGE_BUCKET), "reports");
    assert_eq!(int_attr(put_object, k::DATA_BILLED_REQUESTS), 1, "the 503 is not billed");
    assert_eq!(str_attr(put_object, k::AWS_REQUEST_ID), "req-s3");
    let put = per_request("s3.put_class");
    assert_priced(put_object, "s3.put_class", put);

    let send = find(&spans, "SQS.SendMessage");
    assert_eq!(str_attr(send, k::MESSAGING_DESTINATION_NAME), "orders");
    assert_eq!(int_attr(send, k::MESSAGING_BYTES_TRANSFERRED), 5);
    assert_eq!(int_attr(send, k::MESSAGING_MESSAGE_COUNT), 1);
    assert_eq!(int_attr(send, k::DATA_BILLED_REQUESTS), 1);
    let sqs = per_request("sqs.standard_requests");
    assert_priced(send, "sqs.standard_requests", sqs);

    let run = find(&spans, "botanu.run/aws-interceptor");
    let sum = write + read + put + sqs;
    let data_usd = f64_attr(run, k::RUN_COST_DATA_USD);
    assert!((data_usd - sum).abs() < 1e-15, "run data cost {data_usd} != sum {sum}");
    assert_eq!(int_attr(run, k::RUN_COST_UNPRICED_COUNT), 0);
}

/// The README's level note: the SDK's spans are DEBUG, so a global INFO filter on the subscriber hides
/// them from botanu too, while a per-layer INFO filter on the console layer (what `init()` installs)
/// leaves them to botanu.
#[test]
fn a_global_info_filter_hides_the_sdk_spans_a_per_layer_one_does_not() {
    use tracing_subscriber::filter::{EnvFilter, LevelFilter};
    use tracing_subscriber::prelude::*;

    for global in [true, false] {
        let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
        let builder = botanu::Builder::new().with_span_exporter(exporter.clone());
        let (dispatch, guard) = if global {
            let (layer, guard) = builder.build().expect("pipeline builds");
            let subscriber = tracing_subscriber::registry()
                .with(EnvFilter::new("info"))
                .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
                .with(layer);
            (tracing::Dispatch::new(subscriber), guard)
        } else {
            let (layer, guard) = builder.build().expect("pipeline builds");
            let subscriber = tracing_subscriber::registry()
                .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink).with_filter(LevelFilter::INFO))
                .with(layer);
            (tracing::Dispatch::new(subscriber), guard)
        };
        run_under(&dispatch, |base, _| async move {
            let c = clients(&base, false);
            let body = aws_sdk_s3::primitives::ByteStream::from_static(b"hello");
            let put = c.s3.put_object().bucket("reports").key("a.txt").body(body).send();
            put.instrument(run_span!(workflow = "aws-levels")).await.expect("PutObject");
        });
        guard.force_flush().expect("flush");
        let spans = exporter.get_finished_spans().expect("finished spans");
        let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
        assert!(names.contains(&"botanu.run/aws-levels"), "{names:?}");
        assert_eq!(names.contains(&"S3.PutObject"), !global, "global filter: {global}; {names:?}");
    }
}

/// Bedrock Runtime, without its crate: a span of the shape smithy-rs generates for it
/// (`aws-sdk-bedrockruntime` 1.153's `src/operation/converse.rs` opens `debug_span!("Bedrock
/// Runtime.Converse", "rpc.service" = "Bedrock Runtime", "rpc.method" = "Converse", "sdk_invocation_id" =
/// …, "rpc.system" = "aws-api")`, the service name with a space) is an LLM call of `aws.bedrock`: unpriced
/// `unknown_model` while nothing names the model, priced from the catalog once the model and tokens are
/// on it (what the interceptor records from the request path and `Converse`'s `usage`).
#[test]
fn a_bedrock_runtime_operation_is_an_llm_call_of_aws_bedrock() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "aws-bedrock").in_scope(|| {
            let converse = || {
                tracing::debug_span!(
                    "Bedrock Runtime.Converse",
                    "rpc.service" = "Bedrock Runtime",
                    "rpc.method" = "Converse",
                    "sdk_invocation_id" = 4_242_424u32,
                    "rpc.system" = "aws-api"
                )
            };
            converse().in_scope(|| {});
            let priced = converse();
            priced.set_response_model("anthropic.claude-3-haiku-20240307-v1:0");
            priced.set_tokens(botanu::Tokens { input: 1_000_000, output: 1_000_000, ..botanu::Tokens::ZERO });
            priced.in_scope(|| {});
        });
    });
    let spans = h.spans();
    let calls = find_all(&spans, "Bedrock Runtime.Converse");
    assert_eq!(calls.len(), 2);
    for call in &calls {
        assert_eq!(kind(call), SpanKind::Client);
        assert_eq!(str_attr(call, k::GEN_AI_PROVIDER_NAME), "aws.bedrock");
        assert_eq!(str_attr(call, k::GEN_AI_OPERATION_NAME), "chat");
        assert_eq!(str_attr(call, k::CLOUD_PROVIDER), "aws");
    }
    let unpriced = calls.iter().find(|s| attr(s, k::COST_USD).is_none()).expect("one unpriced");
    assert_eq!(str_attr(unpriced, k::COST_UNPRICED_REASON), "unknown_model");
    let priced = calls.iter().find(|s| attr(s, k::COST_USD).is_some()).expect("one priced");
    // Claude 3 Haiku: $0.25 / $1.25 per million input / output tokens.
    assert!((f64_attr(priced, k::COST_USD) - 1.5).abs() < 1e-9, "{}", f64_attr(priced, k::COST_USD));
    let run = find(&spans, "botanu.run/aws-bedrock");
    assert_eq!(int_attr(run, k::RUN_LLM_CALLS), 2);
}

/// An application that already wraps its calls (`storage_span!` around `put_object`, an `llm_span!`
/// around a Bedrock call, as the Botanu docs asked before) pays each operation once: the SDK's span
/// inside its own span of the same kind and system is exported as a plain span, unpriced, not counted.
#[test]
fn an_sdk_operation_inside_the_applications_own_span_for_it_is_not_priced_twice() {
    let h = Harness::new();
    run_async(&h, |base, _| async move {
        let c = clients(&base, false);
        let run = run_span!(workflow = "aws-wrapped");
        async {
            let body = aws_sdk_s3::primitives::ByteStream::from_static(b"hello");
            let put = c.s3.put_object().bucket("reports").key("a.txt").body(body).send();
            put.instrument(storage_span!(system = "s3", operation = "PUT", bucket = "reports"))
                .await
                .expect("PutObject");
            // A different system around it is not a wrapper: the SDK's span stays an operation.
            let get = c.s3.get_object().bucket("reports").key("a.txt").send();
            get.instrument(db_span!(system = "postgresql", operation = "SELECT")).await.expect("GetObject");
            let bedrock = tracing::debug_span!(
                parent: &llm_span!(provider = "bedrock", model = "anthropic.claude-3-haiku-20240307-v1:0"),
                "Bedrock Runtime.Converse",
                "rpc.service" = "Bedrock Runtime",
                "rpc.method" = "Converse",
                "sdk_invocation_id" = 1_234_567u32,
                "rpc.system" = "aws-api"
            );
            bedrock.in_scope(|| {});
            // The application's span names another provider (the model's vendor): still the same call.
            let own = llm_span!(provider = "anthropic", model = "claude-3-haiku-20240307");
            let bedrock = tracing::debug_span!(
                parent: &own,
                "Bedrock Runtime.Converse",
                "rpc.service" = "Bedrock Runtime",
                "rpc.method" = "Converse",
                "sdk_invocation_id" = 1_234_568u32,
                "rpc.system" = "aws-api"
            );
            bedrock.in_scope(|| {});
            own.set_tokens(Tokens { input: 1_000, output: 100, ..Default::default() });
        }
        .instrument(run)
        .await;
    });
    let spans = h.spans();
    let sdk_put = find(&spans, "S3.PutObject");
    assert_eq!(kind(sdk_put), SpanKind::Internal);
    assert_absent(sdk_put, k::COST_USD);
    assert_absent(sdk_put, k::COST_UNPRICED);
    assert_absent(sdk_put, k::STORAGE_SYSTEM);
    let own_put = find(&spans, "storage.s3.put");
    assert!(is_child_of(sdk_put, own_put));
    let put = per_request("s3.put_class");
    assert_priced(own_put, "s3.put_class", put);
    let sdk_get = find(&spans, "S3.GetObject");
    let get = per_request("s3.get_class");
    assert_priced(sdk_get, "s3.get_class", get);
    let conversations: Vec<_> = spans.iter().filter(|s| s.name == "Bedrock Runtime.Converse").collect();
    assert_eq!(conversations.len(), 2);
    for converse in conversations {
        assert_eq!(kind(converse), SpanKind::Internal);
        assert_absent(converse, k::GEN_AI_PROVIDER_NAME);
        assert_absent(converse, k::COST_UNPRICED);
    }
    let own_anthropic = find(&spans, "chat claude-3-haiku-20240307");
    assert!(attr(own_anthropic, k::COST_USD).is_some(), "the application's own span is the priced call");

    let run = find(&spans, "botanu.run/aws-wrapped");
    assert!((f64_attr(run, k::RUN_COST_DATA_USD) - (put + get)).abs() < 1e-15);
    assert_eq!(int_attr(run, k::RUN_LLM_CALLS), 2, "the application's llm_span!s only");
}
