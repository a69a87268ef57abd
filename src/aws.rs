//! AWS SDK for Rust: the interceptor that tells botanu what the SDK's operation spans do not carry
//! (feature `aws`).
//!
//! botanu recognizes the SDK's operation spans (`S3.PutObject`, `DynamoDB.GetItem`, `SQS.SendMessage`,
//! …) with no code: they are exported with their own names as storage, database, messaging or model
//! operations and priced by request from the list-price table (see the README, "AWS SDK for Rust").
//! What a span cannot say — the bucket, the tables, the queue, the payload size, DynamoDB's consumed
//! capacity (on no span field; the SDK logs it only in TRACE events), the request id, how many attempts
//! S3 billed — is visible to an SDK interceptor, which is what [`BotanuInterceptor`] is. It writes on
//! the operation span it runs in (never on another span):
//!
//! | service | recorded |
//! |---|---|
//! | every service | `aws.request_id` (the last response's) |
//! | S3 | `aws.s3.bucket` and `botanu.storage.bucket` (from the request's host or path), `botanu.data.billed_requests` |
//! | DynamoDB | `aws.dynamodb.table_names`, `db.collection.name` (one table), `botanu.data.read_units` / `botanu.data.write_units` from `ConsumedCapacity` — priced on-demand; the response carries it only when the request asked (`ReturnConsumedCapacity`) |
//! | SQS | `messaging.destination.name` (the queue), `botanu.messaging.bytes_transferred` and `botanu.messaging.message_count` (message bodies sent or received: SQS bills each 64 KiB chunk as a request), `botanu.data.billed_requests` |
//! | SNS, Kinesis | `botanu.data.billed_requests` |
//! | Bedrock Runtime | `gen_ai.request.model` (the model id of the request path), and for `Converse` the response's `usage` as `gen_ai.usage.*` tokens |
//!
//! Billed attempts: S3 bills requests answered 2xx or 4xx and no 5xx response ("Billing for Amazon S3
//! error responses", S3 user guide), so an attempt counts when it got a response below 500; SQS, SNS
//! and Kinesis publish no such rule, and are counted the same way. DynamoDB is priced from the request units
//! its successful response reports (a failed attempt reports none, and no public page says what it
//! bills), so its retries need no count.
//!
//! The interceptor only reads: it never fails, delays or changes a request.
//!
//! ```
//! // One line in the SDK client's config (here DynamoDB; the same for every service).
//! let config = aws_sdk_dynamodb::Config::builder()
//!     .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
//!     .interceptor(botanu::aws::BotanuInterceptor::new())
//!     .build();
//! assert_eq!(config.interceptors().count(), 1);
//! let client = aws_sdk_dynamodb::Client::from_conf(config);
//! # drop(client);
//! ```

use std::borrow::Cow;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::Document;
use opentelemetry::{Array, Key, StringValue, Value};

use crate::layer::aws::{Access, AwsOperation};
use crate::layer::state::SpanState;
use crate::semconv as k;

/// An AWS SDK for Rust interceptor that records an operation's bucket, tables, queue, payload size,
/// consumed capacity, request id and billed attempts on the SDK's operation span. Add it to a client's
/// config: `.interceptor(BotanuInterceptor::new())`. See the [module docs](self).
#[derive(Debug, Clone, Copy, Default)]
pub struct BotanuInterceptor {
    _private: (),
}

impl BotanuInterceptor {
    /// The interceptor.
    ///
    /// ```
    /// use aws_smithy_runtime_api::client::interceptors::Intercept;
    /// assert_eq!(botanu::aws::BotanuInterceptor::new().name(), "botanu");
    /// ```
    pub fn new() -> Self {
        BotanuInterceptor { _private: () }
    }
}

/// The operation the config bag names (the SDK puts its service and operation there), with its
/// method name, if botanu maps it.
fn operation_of(cfg: &ConfigBag) -> Option<(AwsOperation, &str)> {
    let meta = cfg.load::<Metadata>()?;
    let op = crate::layer::aws::operation(meta.service(), meta.name())?;
    Some((op, meta.name()))
}

/// Runs `f` on the operation span the SDK is in now.
fn on_operation(f: impl FnMut(&mut SpanState, &crate::layer::Shared)) {
    crate::layer::with_aws_operation_state(&tracing::Span::current(), f);
}

impl Intercept for BotanuInterceptor {
    fn name(&self) -> &'static str {
        "botanu"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some((op, _)) = operation_of(cfg) else { return Ok(()) };
        let request = context.request();
        let facts = request_facts(&op, request.uri(), request.body().bytes());
        on_operation(|state, _| facts.write(state));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some((op, method)) = operation_of(cfg) else { return Ok(()) };
        let response = context.response();
        let headers = response.headers();
        let request_id = headers.get("x-amzn-requestid").or_else(|| headers.get("x-amz-request-id"));
        let facts = response_facts(&op, method, request_id, response.body().bytes());
        on_operation(|state, _| facts.write(state));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some((op, _)) = operation_of(cfg) else { return Ok(()) };
        if !matches!(op.system, "s3" | "sqs" | "sns" | "kinesis") {
            return Ok(());
        }
        let billed = context.response().is_some_and(|r| r.status().as_u16() < 500);
        on_operation(|state, _| {
            let before = match state.get(k::DATA_BILLED_REQUESTS) {
                Some(Value::I64(n)) => *n,
                _ => 0,
            };
            state.set(Key::from_static_str(k::DATA_BILLED_REQUESTS), Value::I64(before + i64::from(billed)));
        });
        Ok(())
    }
}

// === what a request and a response say (pure) ===

/// Attributes read from one request or response, written on the operation span.
#[derive(Debug, Default, PartialEq)]
struct Facts {
    attrs: Vec<(&'static str, Value)>,
}

impl Facts {
    fn text(&mut self, key: &'static str, value: impl Into<String>) {
        self.attrs.push((key, Value::from(value.into())));
    }

    fn write(&self, state: &mut SpanState) {
        for (key, value) in &self.attrs {
            state.set(Key::from_static_str(key), value.clone());
        }
    }
}

impl Facts {
    /// Message count and payload bytes of the message bodies `bodies` (their lengths), when > 0.
    fn messages(&mut self, bodies: &[usize]) {
        let bytes: usize = bodies.iter().sum();
        if bytes > 0 {
            self.attrs.push((k::MESSAGING_BYTES_TRANSFERRED, int(bytes)));
        }
        if !bodies.is_empty() {
            self.attrs.push((k::MESSAGING_MESSAGE_COUNT, int(bodies.len())));
        }
    }
}

#[allow(clippy::cast_possible_wrap)] // byte and message counts far below i64::MAX
fn int(n: usize) -> Value {
    Value::I64(n as i64)
}

fn parse_json(body: Option<&[u8]>) -> Option<Document> {
    let body = body.filter(|b| !b.is_empty())?;
    let mut tokens = aws_smithy_json::deserialize::json_token_iter(body).peekable();
    aws_smithy_json::deserialize::token::expect_document(&mut tokens).ok()
}

fn get<'a>(doc: &'a Document, key: &str) -> Option<&'a Document> {
    match doc {
        Document::Object(map) => map.get(key),
        _ => None,
    }
}

fn string<'a>(doc: &'a Document, key: &str) -> Option<&'a str> {
    match get(doc, key)? {
        Document::String(s) => Some(s),
        _ => None,
    }
}

fn number(doc: &Document, key: &str) -> Option<f64> {
    match get(doc, key)? {
        Document::Number(n) => Some(n.to_f64_lossy()),
        _ => None,
    }
}

fn array<'a>(doc: &'a Document, key: &str) -> &'a [Document] {
    match get(doc, key) {
        Some(Document::Array(items)) => items,
        _ => &[],
    }
}

/// The path of a URI (`/bucket/key`), without scheme, authority and query.
fn path_of(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or_default()
}

fn host_of(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or_default()
}

/// `%XX` escapes decoded (model ids and bucket names in paths); invalid escapes kept as they are.
fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                #[allow(clippy::cast_possible_truncation)] // two hex digits: < 256
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// An S3 request's bucket: the host's labels before `.s3.` / `.s3-` (virtual-hosted style), else the
/// path's first segment (path style, and custom endpoints).
fn s3_bucket(uri: &str) -> Option<String> {
    let host = host_of(uri);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    for marker in [".s3.", ".s3-"] {
        if let Some(i) = host.find(marker) {
            return (i > 0).then(|| host[..i].to_owned());
        }
    }
    let first = path_of(uri).trim_start_matches('/').split('/').next().unwrap_or_default();
    (!first.is_empty()).then(|| percent_decode(first).into_owned())
}

/// The DynamoDB tables a request names: `TableName`, `RequestItems`' keys, `TransactItems`' tables.
fn dynamodb_tables(doc: &Document) -> Vec<String> {
    let mut tables: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !tables.iter().any(|t| t == name) {
            tables.push(name.to_owned());
        }
    };
    if let Some(name) = string(doc, "TableName") {
        add(name);
    }
    if let Some(Document::Object(items)) = get(doc, "RequestItems") {
        let mut names: Vec<&String> = items.keys().collect();
        names.sort();
        for name in names {
            add(name);
        }
    }
    for item in array(doc, "TransactItems") {
        if let Document::Object(actions) = item {
            for action in actions.values() {
                if let Some(name) = string(action, "TableName") {
                    add(name);
                }
            }
        }
    }
    tables
}

fn request_facts(op: &AwsOperation, uri: &str, body: Option<&[u8]>) -> Facts {
    let mut facts = Facts::default();
    match op.system {
        "s3" => {
            if let Some(bucket) = s3_bucket(uri) {
                facts.text(k::AWS_S3_BUCKET, bucket.clone());
                facts.text(k::STORAGE_BUCKET, bucket);
            }
        }
        "dynamodb" => {
            let tables = parse_json(body).map(|doc| dynamodb_tables(&doc)).unwrap_or_default();
            if let [one] = tables.as_slice() {
                facts.text(k::DB_COLLECTION_NAME, one.clone());
            }
            if !tables.is_empty() {
                let tables: Vec<StringValue> = tables.into_iter().map(StringValue::from).collect();
                facts.attrs.push((k::AWS_DYNAMODB_TABLE_NAMES, Value::Array(Array::String(tables))));
            }
        }
        "sqs" => {
            let Some(doc) = parse_json(body) else { return facts };
            if let Some(queue) = string(&doc, "QueueUrl").and_then(|url| url.rsplit('/').find(|s| !s.is_empty())) {
                facts.text(k::MESSAGING_DESTINATION_NAME, queue);
            }
            if op.operation == Some("publish") {
                let bodies: Vec<usize> = match string(&doc, "MessageBody") {
                    Some(body) => vec![body.len()],
                    None => {
                        array(&doc, "Entries").iter().filter_map(|e| string(e, "MessageBody")).map(str::len).collect()
                    }
                };
                facts.messages(&bodies);
            }
        }
        "aws.bedrock" => {
            // `/model/{modelId}/converse`, `/model/{modelId}/invoke`, …
            let path = path_of(uri);
            if let Some(model) = path.strip_prefix("/model/").and_then(|rest| rest.split('/').next()) {
                facts.text(k::GEN_AI_REQUEST_MODEL, percent_decode(model).into_owned());
            }
        }
        _ => {}
    }
    facts
}

/// DynamoDB's `ConsumedCapacity` (one object, or one per table for batch and transaction calls) as
/// (read units, write units): the explicit `ReadCapacityUnits` / `WriteCapacityUnits` when the response
/// has them, else `CapacityUnits` counted as the operation's access.
fn consumed_units(doc: &Document, access: Access) -> Option<(f64, f64)> {
    let entries: Vec<&Document> = match get(doc, "ConsumedCapacity")? {
        Document::Array(items) => items.iter().collect(),
        one @ Document::Object(_) => vec![one],
        _ => return None,
    };
    let (mut read, mut write, mut seen) = (0.0, 0.0, false);
    for entry in entries {
        match (number(entry, "ReadCapacityUnits"), number(entry, "WriteCapacityUnits")) {
            (None, None) => match (number(entry, "CapacityUnits"), access) {
                (Some(units), Access::Read) => read += units,
                (Some(units), Access::Write) => write += units,
                _ => continue,
            },
            (r, w) => {
                read += r.unwrap_or(0.0);
                write += w.unwrap_or(0.0);
            }
        }
        seen = true;
    }
    seen.then_some((read, write))
}

fn response_facts(op: &AwsOperation, method: &str, request_id: Option<&str>, body: Option<&[u8]>) -> Facts {
    let mut facts = Facts::default();
    if let Some(id) = request_id.filter(|id| !id.is_empty()) {
        facts.text(k::AWS_REQUEST_ID, id);
    }
    match op.system {
        "dynamodb" => {
            if let Some((read, write)) = parse_json(body).and_then(|doc| consumed_units(&doc, op.access)) {
                facts.attrs.push((k::DATA_READ_UNITS, Value::F64(read)));
                facts.attrs.push((k::DATA_WRITE_UNITS, Value::F64(write)));
            }
        }
        "sqs" if method == "ReceiveMessage" => {
            if let Some(doc) = parse_json(body) {
                let bodies: Vec<usize> =
                    array(&doc, "Messages").iter().filter_map(|m| string(m, "Body")).map(str::len).collect();
                facts.messages(&bodies);
            }
        }
        "aws.bedrock" if method == "Converse" => {
            if let Some(usage) = parse_json(body).as_ref().and_then(|doc| get(doc, "usage")) {
                let tokens = |field| number(usage, field).filter(|n| n.is_finite() && *n >= 0.0);
                let (read, write) = (tokens("cacheReadInputTokens"), tokens("cacheWriteInputTokens"));
                // Bedrock reports cache reads and writes beside `inputTokens`; the semconv input count
                // includes them.
                let input = tokens("inputTokens").map(|n| n + read.unwrap_or(0.0) + write.unwrap_or(0.0));
                for (value, key) in [
                    (input, k::GEN_AI_USAGE_INPUT_TOKENS),
                    (tokens("outputTokens"), k::GEN_AI_USAGE_OUTPUT_TOKENS),
                    (read, k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
                    (write, k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
                ] {
                    if let Some(n) = value {
                        #[allow(clippy::cast_possible_truncation)] // whole token counts
                        facts.attrs.push((key, Value::I64(n as i64)));
                    }
                }
            }
        }
        _ => {}
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(service: &str, method: &str) -> AwsOperation {
        crate::layer::aws::operation(service, method).expect("mapped")
    }

    fn attr<'a>(facts: &'a Facts, key: &str) -> Option<&'a Value> {
        facts.attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    #[test]
    fn s3_buckets_from_virtual_hosted_and_path_style_requests() {
        for (uri, bucket) in [
            ("https://reports.s3.us-east-1.amazonaws.com/a.txt?x-id=PutObject", Some("reports")),
            ("https://my.dotted.bucket.s3-eu-west-1.amazonaws.com/k", Some("my.dotted.bucket")),
            ("http://127.0.0.1:9000/reports/a.txt?x-id=GetObject", Some("reports")),
            ("https://s3.us-east-1.amazonaws.com/", None),
            ("https://s3.amazonaws.com/b%2Dx/k", Some("b-x")),
        ] {
            assert_eq!(s3_bucket(uri).as_deref(), bucket, "{uri}");
        }
    }

    #[test]
    fn dynamodb_tables_and_consumed_capacity() {
        let put = op("DynamoDB", "PutItem");
        let body = br#"{"TableName":"orders","Item":{"pk":{"S":"a"}},"ReturnConsumedCapacity":"TOTAL"}"#;
        let facts = request_facts(&put, "http://x/", Some(body));
        assert_eq!(attr(&facts, k::DB_COLLECTION_NAME), Some(&Value::from("orders")));
        let batch = br#"{"RequestItems":{"b":{"Keys":[]},"a":{"Keys":[]}}}"#;
        let facts = request_facts(&op("DynamoDB", "BatchGetItem"), "http://x/", Some(batch));
        assert_eq!(attr(&facts, k::DB_COLLECTION_NAME), None, "two tables");
        assert_eq!(
            attr(&facts, k::AWS_DYNAMODB_TABLE_NAMES),
            Some(&Value::Array(Array::String(vec!["a".into(), "b".into()])))
        );

        let answer = br#"{"ConsumedCapacity":{"TableName":"orders","CapacityUnits":2.0}}"#;
        let facts = response_facts(&put, "PutItem", Some("r-1"), Some(answer));
        assert_eq!(attr(&facts, k::DATA_WRITE_UNITS), Some(&Value::F64(2.0)));
        assert_eq!(attr(&facts, k::DATA_READ_UNITS), Some(&Value::F64(0.0)));
        assert_eq!(attr(&facts, k::AWS_REQUEST_ID), Some(&Value::from("r-1")));
        // Per-table entries with explicit read / write units are summed.
        let transact = br#"{"ConsumedCapacity":[{"TableName":"a","CapacityUnits":3,"ReadCapacityUnits":1,"WriteCapacityUnits":2},{"TableName":"b","CapacityUnits":0.5,"ReadCapacityUnits":0.5}]}"#;
        let facts = response_facts(&op("DynamoDB", "TransactWriteItems"), "TransactWriteItems", None, Some(transact));
        assert_eq!(attr(&facts, k::DATA_READ_UNITS), Some(&Value::F64(1.5)));
        assert_eq!(attr(&facts, k::DATA_WRITE_UNITS), Some(&Value::F64(2.0)));
        // No capacity in the response: nothing recorded (unknown, not zero).
        let facts = response_facts(&put, "PutItem", None, Some(b"{}"));
        assert_eq!(attr(&facts, k::DATA_WRITE_UNITS), None);
    }

    #[test]
    fn sqs_queue_and_payload_bytes() {
        let send = op("SQS", "SendMessageBatch");
        let body = br#"{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/1234/orders","Entries":[{"Id":"1","MessageBody":"abc"},{"Id":"2","MessageBody":"de"}]}"#;
        let facts = request_facts(&send, "https://sqs.us-east-1.amazonaws.com/", Some(body));
        assert_eq!(attr(&facts, k::MESSAGING_DESTINATION_NAME), Some(&Value::from("orders")));
        assert_eq!(attr(&facts, k::MESSAGING_BYTES_TRANSFERRED), Some(&Value::I64(5)));
        assert_eq!(attr(&facts, k::MESSAGING_MESSAGE_COUNT), Some(&Value::I64(2)));
        let received = br#"{"Messages":[{"Body":"hello"}]}"#;
        let facts = response_facts(&op("SQS", "ReceiveMessage"), "ReceiveMessage", None, Some(received));
        assert_eq!(attr(&facts, k::MESSAGING_BYTES_TRANSFERRED), Some(&Value::I64(5)));
        // An empty receive (a long poll that found nothing) records nothing: counts are written when > 0.
        let facts = response_facts(&op("SQS", "ReceiveMessage"), "ReceiveMessage", None, Some(b"{}"));
        assert_eq!(attr(&facts, k::MESSAGING_BYTES_TRANSFERRED), None);
        assert_eq!(attr(&facts, k::MESSAGING_MESSAGE_COUNT), None);
    }

    #[test]
    fn bedrock_model_and_converse_usage() {
        let converse = op("Bedrock Runtime", "Converse");
        let uri =
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
        let facts = request_facts(&converse, uri, None);
        assert_eq!(attr(&facts, k::GEN_AI_REQUEST_MODEL), Some(&Value::from("anthropic.claude-3-haiku-20240307-v1:0")));
        let answer =
            br#"{"output":{},"stopReason":"end_turn","usage":{"inputTokens":12,"outputTokens":3,"totalTokens":15}}"#;
        let facts = response_facts(&converse, "Converse", None, Some(answer));
        assert_eq!(attr(&facts, k::GEN_AI_USAGE_INPUT_TOKENS), Some(&Value::I64(12)));
        assert_eq!(attr(&facts, k::GEN_AI_USAGE_OUTPUT_TOKENS), Some(&Value::I64(3)));
        assert_eq!(attr(&facts, k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS), None);
        // Cache reads and writes come beside `inputTokens`; the semconv input count includes them.
        let cached = br#"{"usage":{"inputTokens":12,"outputTokens":3,"totalTokens":1115,"cacheReadInputTokens":1000,"cacheWriteInputTokens":100}}"#;
        let facts = response_facts(&converse, "Converse", None, Some(cached));
        assert_eq!(attr(&facts, k::GEN_AI_USAGE_INPUT_TOKENS), Some(&Value::I64(1_112)));
        assert_eq!(attr(&facts, k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS), Some(&Value::I64(1_000)));
        assert_eq!(attr(&facts, k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS), Some(&Value::I64(100)));
    }
}
