//! CONTRACT §1 — every span row: exported name (only botanu's macros choose one), kind, ids, start and
//! later attributes with their OpenTelemetry value types (semconv token keys, finish reasons as arrays,
//! `client_request_id`), vendor normalization, cloud provider, the macro surface, span state that never
//! outlives its span (Registry id reuse), and status and errors: Unset on success, ERROR only on the
//! span's own evidence (its errors, its error events, `otel.status_*`), bounded error type names, the
//! message only on the exception event, and the `status` of the attempt and tool metrics.
mod common;

#[cfg(feature = "testing")]
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use botanu::prelude::*;
use botanu::semconv;
use botanu::semconv as k;
#[cfg(feature = "testing")]
use botanu::semconv::metrics as m;
use common::*;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;

/// A user error type: `set_error` reports its type name.
#[derive(Debug)]
struct RateLimitError;

impl fmt::Display for RateLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("rate limited, retry later")
    }
}

impl std::error::Error for RateLimitError {}

#[track_caller]
fn assert_ok(span: &SpanData) {
    assert_eq!(span.status, Status::Ok, "{}: status", span.name);
}

/// Instrumentation leaves success Unset (only run spans, the application's own unit, are OK).
#[track_caller]
fn assert_unset(span: &SpanData) {
    assert_eq!(span.status, Status::Unset, "{}: status", span.name);
}

/// Exactly one `exception` event with the given type and message, status ERROR, `error.type` set.
#[track_caller]
fn assert_failed_once(span: &SpanData, error_type: &str, message: &str) {
    assert!(is_error(span), "{}: status should be ERROR, is {:?}", span.name, span.status);
    let ev = one_event(span, semconv::EVENT_EXCEPTION);
    assert_eq!(event_str(ev, semconv::EXCEPTION_TYPE), error_type, "{}", span.name);
    assert_eq!(event_str(ev, semconv::EXCEPTION_MESSAGE), message, "{}", span.name);
    assert_eq!(str_attr(span, semconv::ERROR_TYPE), error_type, "{}", span.name);
}

// ---------------------------------------------------------------------------------------------------
// semconv spelling
// ---------------------------------------------------------------------------------------------------

#[test]
fn semconv_constants_are_spelled_as_in_the_contract() {
    // Left: copied literally from CONTRACT.md §1 (and the OTel exception event). Right: the constant.
    let table: &[(&str, &str)] = &[
        // run
        ("botanu.run_id", semconv::RUN_ID),
        ("botanu.workflow", semconv::WORKFLOW),
        ("botanu.event_id", semconv::EVENT_ID),
        ("botanu.customer_id", semconv::CUSTOMER_ID),
        ("botanu.environment", semconv::ENVIRONMENT),
        ("botanu.run.start_time", semconv::RUN_START_TIME),
        ("botanu.root_run_id", semconv::ROOT_RUN_ID),
        ("botanu.attempt", semconv::ATTEMPT),
        ("botanu.tenant_id", semconv::TENANT_ID),
        ("botanu.parent_run_id", semconv::PARENT_RUN_ID),
        ("botanu.retry_of_run_id", semconv::RETRY_OF_RUN_ID),
        ("botanu.run.deadline_ts", semconv::RUN_DEADLINE_TS),
        ("botanu.workflow.version", semconv::WORKFLOW_VERSION),
        ("botanu.use_case", semconv::USE_CASE),
        ("botanu.run.duration_ms", semconv::RUN_DURATION_MS),
        ("botanu.run.started", semconv::EVENT_RUN_STARTED),
        ("botanu.run.completed", semconv::EVENT_RUN_COMPLETED),
        ("run_id", semconv::RUN_EVENT_RUN_ID),
        ("workflow", semconv::RUN_EVENT_WORKFLOW),
        ("status", semconv::RUN_EVENT_STATUS),
        ("duration_ms", semconv::RUN_EVENT_DURATION_MS),
        ("error_class", semconv::RUN_EVENT_ERROR_CLASS),
        ("exception", semconv::EVENT_EXCEPTION),
        ("exception.type", semconv::EXCEPTION_TYPE),
        ("exception.message", semconv::EXCEPTION_MESSAGE),
        ("botanu.run/", semconv::RUN_SPAN_PREFIX),
        // step
        ("botanu.step", semconv::STEP),
        ("botanu.step/", semconv::STEP_SPAN_PREFIX),
        // LLM
        ("gen_ai.operation.name", semconv::GEN_AI_OPERATION_NAME),
        ("gen_ai.provider.name", semconv::GEN_AI_PROVIDER_NAME),
        ("gen_ai.system", semconv::GEN_AI_SYSTEM),
        ("gen_ai.request.model", semconv::GEN_AI_REQUEST_MODEL),
        ("botanu.vendor", semconv::VENDOR),
        ("gen_ai.usage.input_tokens", semconv::GEN_AI_USAGE_INPUT_TOKENS),
        ("gen_ai.usage.output_tokens", semconv::GEN_AI_USAGE_OUTPUT_TOKENS),
        ("botanu.usage.cached_tokens", semconv::USAGE_CACHED_TOKENS),
        ("botanu.usage.cache_read_tokens", semconv::USAGE_CACHE_READ_TOKENS),
        ("botanu.usage.cache_write_tokens", semconv::USAGE_CACHE_WRITE_TOKENS),
        ("gen_ai.response.id", semconv::GEN_AI_RESPONSE_ID),
        ("botanu.vendor.request_id", semconv::VENDOR_REQUEST_ID),
        ("botanu.vendor.client_request_id", semconv::VENDOR_CLIENT_REQUEST_ID),
        ("gen_ai.response.model", semconv::GEN_AI_RESPONSE_MODEL),
        ("gen_ai.response.finish_reasons", semconv::GEN_AI_RESPONSE_FINISH_REASONS),
        ("botanu.request.streaming", semconv::REQUEST_STREAMING),
        ("botanu.request.cache_hit", semconv::REQUEST_CACHE_HIT),
        ("botanu.request.attempt", semconv::REQUEST_ATTEMPT),
        ("gen_ai.request.temperature", semconv::GEN_AI_REQUEST_TEMPERATURE),
        ("gen_ai.request.top_p", semconv::GEN_AI_REQUEST_TOP_P),
        ("gen_ai.request.max_tokens", semconv::GEN_AI_REQUEST_MAX_TOKENS),
        ("gen_ai.request.stop_sequences", semconv::GEN_AI_REQUEST_STOP_SEQUENCES),
        ("gen_ai.request.frequency_penalty", semconv::GEN_AI_REQUEST_FREQUENCY_PENALTY),
        ("gen_ai.request.presence_penalty", semconv::GEN_AI_REQUEST_PRESENCE_PENALTY),
        ("botanu.eval.input_content", semconv::EVAL_INPUT_CONTENT),
        ("botanu.eval.output_content", semconv::EVAL_OUTPUT_CONTENT),
        ("error.type", semconv::ERROR_TYPE),
        ("chat", semconv::OPERATION_CHAT),
        // tool
        ("execute_tool", semconv::OPERATION_EXECUTE_TOOL),
        ("gen_ai.tool.name", semconv::GEN_AI_TOOL_NAME),
        ("gen_ai.tool.call.id", semconv::GEN_AI_TOOL_CALL_ID),
        ("botanu.tool.success", semconv::TOOL_SUCCESS),
        ("botanu.tool.items_returned", semconv::TOOL_ITEMS_RETURNED),
        ("botanu.tool.bytes_processed", semconv::TOOL_BYTES_PROCESSED),
        ("botanu.tool.duration_ms", semconv::TOOL_DURATION_MS),
        ("botanu.tool.", semconv::TOOL_METADATA_PREFIX),
        // database
        ("db.system", semconv::DB_SYSTEM),
        ("db.system.name", semconv::DB_SYSTEM_NAME),
        ("db.operation", semconv::DB_OPERATION),
        ("db.name", semconv::DB_NAME),
        ("botanu.cloud_provider", semconv::CLOUD_PROVIDER),
        ("botanu.data.rows_returned", semconv::DATA_ROWS_RETURNED),
        ("botanu.data.rows_affected", semconv::DATA_ROWS_AFFECTED),
        ("botanu.data.bytes_read", semconv::DATA_BYTES_READ),
        ("botanu.data.bytes_written", semconv::DATA_BYTES_WRITTEN),
        ("db.collection.name", semconv::DB_COLLECTION_NAME),
        ("db.schema", semconv::DB_SCHEMA),
        ("botanu.warehouse.query_id", semconv::WAREHOUSE_QUERY_ID),
        ("botanu.warehouse.bytes_scanned", semconv::WAREHOUSE_BYTES_SCANNED),
        ("botanu.warehouse.partitions_scanned", semconv::WAREHOUSE_PARTITIONS_SCANNED),
        ("botanu.bytes_transferred", semconv::BYTES_TRANSFERRED),
        ("botanu.eval.retrieval_content", semconv::EVAL_RETRIEVAL_CONTENT),
        ("botanu.data.error", semconv::DATA_ERROR),
        ("botanu.data.duration_ms", semconv::DATA_DURATION_MS),
        ("botanu.data.", semconv::DATA_METADATA_PREFIX),
        // object storage
        ("botanu.storage.system", semconv::STORAGE_SYSTEM),
        ("botanu.storage.operation", semconv::STORAGE_OPERATION),
        ("botanu.data.objects_count", semconv::DATA_OBJECTS_COUNT),
        ("botanu.storage.bucket", semconv::STORAGE_BUCKET),
        ("botanu.storage.error", semconv::STORAGE_ERROR),
        ("botanu.storage.duration_ms", semconv::STORAGE_DURATION_MS),
        ("botanu.storage.", semconv::STORAGE_METADATA_PREFIX),
        // messaging
        ("messaging.system", semconv::MESSAGING_SYSTEM),
        ("messaging.operation", semconv::MESSAGING_OPERATION),
        ("messaging.destination.name", semconv::MESSAGING_DESTINATION_NAME),
        ("botanu.messaging.message_count", semconv::MESSAGING_MESSAGE_COUNT),
        ("botanu.messaging.bytes_transferred", semconv::MESSAGING_BYTES_TRANSFERRED),
        ("botanu.messaging.error", semconv::MESSAGING_ERROR),
        ("botanu.messaging.duration_ms", semconv::MESSAGING_DURATION_MS),
        ("botanu.messaging.", semconv::MESSAGING_METADATA_PREFIX),
        // helpers on the current span
        ("botanu.", semconv::METADATA_PREFIX),
        ("botanu.outcome.status", semconv::OUTCOME_STATUS),
        ("botanu.outcome.value_type", semconv::OUTCOME_VALUE_TYPE),
        ("botanu.outcome.value_amount", semconv::OUTCOME_VALUE_AMOUNT),
        ("botanu.outcome.confidence", semconv::OUTCOME_CONFIDENCE),
        ("botanu.outcome.reason", semconv::OUTCOME_REASON),
        ("botanu.outcome.error_type", semconv::OUTCOME_ERROR_TYPE),
        ("botanu.outcome.metadata.", semconv::OUTCOME_METADATA_PREFIX),
        ("botanu.outcome_emitted", semconv::EVENT_OUTCOME_EMITTED),
        ("botanu.team", semconv::TEAM),
        ("botanu.cost_center", semconv::COST_CENTER),
        ("botanu.region", semconv::REGION),
        ("botanu.correlation.", semconv::CORRELATION_PREFIX),
    ];
    let mut wrong = Vec::new();
    for (contract, constant) in table {
        if contract != constant {
            wrong.push(format!("contract {contract:?} != constant {constant:?}"));
        }
    }
    assert!(wrong.is_empty(), "semconv typos:\n{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------------------------------
// run
// ---------------------------------------------------------------------------------------------------

#[test]
fn run_span_name_kind_start_attributes_and_events() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "support", event_id = "ticket-42", customer_id = "acme").in_scope(|| {
            std::thread::sleep(Duration::from_millis(3));
        });
    });
    let spans = h.spans();
    assert_eq!(spans.len(), 1, "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    let run = find(&spans, "botanu.run/support");
    assert_eq!(kind(run), SpanKind::Server);
    assert!(is_root(run));
    assert_ok(run);

    let run_id = str_attr(run, semconv::RUN_ID);
    assert!(is_uuid_v7(run_id), "run_id {run_id:?} is not a lower-case UUIDv7");
    assert_eq!(str_attr(run, semconv::WORKFLOW), "support");
    assert_eq!(str_attr(run, semconv::EVENT_ID), "ticket-42");
    assert_eq!(str_attr(run, semconv::CUSTOMER_ID), "acme");
    assert_eq!(str_attr(run, semconv::ENVIRONMENT), "test");
    assert_eq!(str_attr(run, semconv::ROOT_RUN_ID), run_id, "root run: root_run_id == run_id");
    assert_eq!(int_attr(run, semconv::ATTEMPT), 1);
    assert_absent(run, semconv::PARENT_RUN_ID);
    assert_absent(run, semconv::TENANT_ID);

    // start_time: RFC 3339 UTC, and it is the span's start.
    let start = str_attr(run, semconv::RUN_START_TIME);
    let parsed = parse_rfc3339_utc(start).unwrap_or_else(|| panic!("start_time {start:?} is not RFC 3339 UTC"));
    let span_start = run.start_time.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((parsed - span_start).abs() < 1.0, "start_time {start} vs span start {span_start}");

    // duration at close: a float, at least the 3 ms slept, not more than the span itself lasted.
    let duration = f64_attr(run, semconv::RUN_DURATION_MS);
    let span_ms = run.end_time.duration_since(run.start_time).unwrap().as_secs_f64() * 1000.0;
    assert!(duration >= 3.0, "duration_ms {duration}");
    assert!(duration <= span_ms + 1.0, "duration_ms {duration} > span length {span_ms}");

    // events
    let started = one_event(run, semconv::EVENT_RUN_STARTED);
    assert_eq!(event_str(started, semconv::RUN_EVENT_RUN_ID), run_id);
    assert_eq!(event_str(started, semconv::RUN_EVENT_WORKFLOW), "support");
    let completed = one_event(run, semconv::EVENT_RUN_COMPLETED);
    assert_eq!(event_str(completed, semconv::RUN_EVENT_RUN_ID), run_id);
    assert_eq!(event_str(completed, semconv::RUN_EVENT_WORKFLOW), "support");
    assert_eq!(event_str(completed, semconv::RUN_EVENT_STATUS), "success");
    assert!(event_f64(completed, semconv::RUN_EVENT_DURATION_MS) >= 3.0);
    assert!(event_attr(completed, semconv::RUN_EVENT_ERROR_CLASS).is_none());
    assert!(events_named(run, semconv::EVENT_EXCEPTION).is_empty());
}

#[test]
fn run_ids_are_fresh_per_run_and_event_id_defaults_to_run_id() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "a").in_scope(|| {});
        run_span!(workflow = "b").in_scope(|| {});
    });
    let spans = h.spans();
    let a = find(&spans, "botanu.run/a");
    let b = find(&spans, "botanu.run/b");
    let (ida, idb) = (str_attr(a, semconv::RUN_ID), str_attr(b, semconv::RUN_ID));
    assert!(is_uuid_v7(ida) && is_uuid_v7(idb), "{ida} {idb}");
    assert_ne!(ida, idb);
    assert_ne!(a.span_context.trace_id(), b.span_context.trace_id(), "two root runs, two traces");
    assert_eq!(str_attr(a, semconv::EVENT_ID), ida);
    assert_eq!(str_attr(b, semconv::EVENT_ID), idb);
}

#[test]
fn run_optional_arguments_are_exported_with_their_types() {
    let h = Harness::new();
    h.run(|| {
        run_span!(
            workflow = "billing",
            event_id = "inv-7",
            customer_id = "acme",
            tenant_id = "tenant-9",
            attempt = 3,
            retry_of_run_id = "01900000-0000-7000-8000-000000000001",
            deadline = 1_900_000_000_000i64,
            workflow_version = "v2.1",
            use_case = "invoicing",
        )
        .in_scope(|| {});
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/billing");
    assert_eq!(str_attr(run, semconv::TENANT_ID), "tenant-9");
    assert_eq!(int_attr(run, semconv::ATTEMPT), 3);
    assert_eq!(str_attr(run, semconv::RETRY_OF_RUN_ID), "01900000-0000-7000-8000-000000000001");
    assert_eq!(int_attr(run, semconv::RUN_DEADLINE_TS), 1_900_000_000_000);
    assert_eq!(str_attr(run, semconv::WORKFLOW_VERSION), "v2.1");
    assert_eq!(str_attr(run, semconv::USE_CASE), "invoicing");
    assert_eq!(str_attr(run, semconv::EVENT_ID), "inv-7");
    assert_eq!(str_attr(run, semconv::CUSTOMER_ID), "acme");
}

#[test]
fn run_given_run_id_and_root_run_id_are_continued() {
    let given = "01900000-aaaa-7bbb-8ccc-000000000042";
    let root = "01900000-aaaa-7bbb-8ccc-000000000001";
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "continued", run_id = given).in_scope(|| {
            llm_span!(provider = "openai", model = "gpt-4").in_scope(|| {});
        });
        run_span!(workflow = "continued-root", run_id = given, root_run_id = root).in_scope(|| {});
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/continued");
    assert_eq!(str_attr(run, semconv::RUN_ID), given);
    assert_eq!(str_attr(run, semconv::ROOT_RUN_ID), given);
    assert_eq!(event_str(one_event(run, semconv::EVENT_RUN_STARTED), semconv::RUN_EVENT_RUN_ID), given);
    let llm = find(&spans, "chat gpt-4");
    assert_eq!(str_attr(llm, semconv::RUN_ID), given);
    let run2 = find(&spans, "botanu.run/continued-root");
    assert_eq!(str_attr(run2, semconv::RUN_ID), given);
    assert_eq!(str_attr(run2, semconv::ROOT_RUN_ID), root);
}

#[test]
fn run_kind_can_be_overridden() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "queue-worker", kind = "consumer").in_scope(|| {});
        run_span!(workflow = "internal-job", kind = "INTERNAL").in_scope(|| {});
        run_span!(workflow = "default").in_scope(|| {});
    });
    let spans = h.spans();
    assert_eq!(kind(find(&spans, "botanu.run/queue-worker")), SpanKind::Consumer);
    assert_eq!(kind(find(&spans, "botanu.run/internal-job")), SpanKind::Internal);
    assert_eq!(kind(find(&spans, "botanu.run/default")), SpanKind::Server);
}

#[test]
fn run_set_error_marks_run_failed_with_one_exception() {
    let h = Harness::new();
    h.run(|| {
        let run = run_span!(workflow = "failing");
        run.in_scope(|| {});
        run.set_error(&RateLimitError);
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/failing");
    assert_failed_once(run, "RateLimitError", "rate limited, retry later");
    let completed = one_event(run, semconv::EVENT_RUN_COMPLETED);
    assert_eq!(event_str(completed, semconv::RUN_EVENT_STATUS), "failure");
    assert_eq!(event_str(completed, semconv::RUN_EVENT_ERROR_CLASS), "RateLimitError");
    assert!(f64_attr(run, semconv::RUN_DURATION_MS) >= 0.0);
}

#[test]
fn run_error_event_marks_run_failed_with_one_exception() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "error-event").in_scope(|| {
            tracing::error!("database exploded");
        });
        // An error event AND set_error: still one exception.
        let run = run_span!(workflow = "both");
        run.in_scope(|| tracing::error!("first"));
        run.set_error(&RateLimitError);
        drop(run);
        // A non-error event does not fail the run.
        run_span!(workflow = "info-event").in_scope(|| tracing::info!("all fine"));
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/error-event");
    assert!(is_error(run));
    let ex = one_event(run, semconv::EVENT_EXCEPTION);
    assert_eq!(event_str(ex, semconv::EXCEPTION_MESSAGE), "database exploded");
    let completed = one_event(run, semconv::EVENT_RUN_COMPLETED);
    assert_eq!(event_str(completed, semconv::RUN_EVENT_STATUS), "failure");
    let class = event_str(completed, semconv::RUN_EVENT_ERROR_CLASS);
    assert!(!class.is_empty());
    assert_eq!(str_attr(run, semconv::ERROR_TYPE), class);

    let both = find(&spans, "botanu.run/both");
    assert!(is_error(both));
    assert_eq!(events_named(both, semconv::EVENT_EXCEPTION).len(), 1, "{:?}", event_names(both));

    let fine = find(&spans, "botanu.run/info-event");
    assert_ok(fine);
    assert!(events_named(fine, semconv::EVENT_EXCEPTION).is_empty());
    assert_absent(fine, semconv::ERROR_TYPE);
    assert_eq!(event_str(one_event(fine, semconv::EVENT_RUN_COMPLETED), semconv::RUN_EVENT_STATUS), "success");
}

// ---------------------------------------------------------------------------------------------------
// step
// ---------------------------------------------------------------------------------------------------

#[test]
fn step_span_name_kind_parent_and_errors() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "wf").in_scope(|| {
            step_span!("fetch-context").in_scope(|| {});
            let failing = step_span!("failing-step");
            failing.in_scope(|| {});
            failing.set_error(&RateLimitError);
            drop(failing);
            step_span!("error-event-step").in_scope(|| tracing::error!("step broke"));
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/wf");
    let step = find(&spans, "botanu.step/fetch-context");
    assert_eq!(kind(step), SpanKind::Internal);
    assert!(is_child_of(step, run));
    assert_eq!(str_attr(step, semconv::STEP), "fetch-context");
    assert_unset(step);

    let failing = find(&spans, "botanu.step/failing-step");
    assert_failed_once(failing, "RateLimitError", "rate limited, retry later");
    let ev = find(&spans, "botanu.step/error-event-step");
    assert!(is_error(ev));
    assert_eq!(events_named(ev, semconv::EVENT_EXCEPTION).len(), 1);
    assert_eq!(event_str(one_event(ev, semconv::EVENT_EXCEPTION), semconv::EXCEPTION_MESSAGE), "step broke");
}

// ---------------------------------------------------------------------------------------------------
// LLM
// ---------------------------------------------------------------------------------------------------

#[test]
fn llm_span_name_kind_and_start_attributes() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "wf").in_scope(|| {
            llm_span!(provider = "OpenAI", model = "gpt-4").in_scope(|| {});
            llm_span!(provider = "openai", model = "text-embedding-3-small", operation = "Embeddings").in_scope(|| {});
        });
    });
    let spans = h.spans();
    assert_eq!(spans.len(), 3);
    let run = find(&spans, "botanu.run/wf");
    let llm = find(&spans, "chat gpt-4");
    assert_eq!(kind(llm), SpanKind::Client);
    assert!(is_child_of(llm, run));
    assert_unset(llm);
    assert_eq!(str_attr(llm, semconv::GEN_AI_OPERATION_NAME), "chat");
    assert_eq!(str_attr(llm, semconv::GEN_AI_PROVIDER_NAME), "openai");
    assert_eq!(str_attr(llm, semconv::GEN_AI_REQUEST_MODEL), "gpt-4");
    assert_eq!(str_attr(llm, semconv::VENDOR), "openai");
    // Nothing "set later" appears before a setter is called.
    for key in [
        semconv::GEN_AI_USAGE_INPUT_TOKENS,
        semconv::GEN_AI_USAGE_OUTPUT_TOKENS,
        semconv::GEN_AI_RESPONSE_ID,
        semconv::GEN_AI_RESPONSE_FINISH_REASONS,
        semconv::REQUEST_STREAMING,
        semconv::ERROR_TYPE,
    ] {
        assert_absent(llm, key);
    }

    let emb = find(&spans, "embeddings text-embedding-3-small");
    assert_eq!(str_attr(emb, semconv::GEN_AI_OPERATION_NAME), "embeddings");
    assert_eq!(kind(emb), SpanKind::Client);
    assert!(is_child_of(emb, run));
}

#[test]
fn llm_set_tokens_writes_input_and_output_always_as_ints() {
    let h = Harness::new();
    h.run(|| {
        let a = llm_span!(provider = "openai", model = "m-basic");
        a.set_tokens(Tokens { input: 120, output: 30, ..Default::default() });
        let z = llm_span!(provider = "openai", model = "m-zero");
        z.set_tokens(Tokens { input: 0, output: 0, ..Default::default() });
        let untouched = llm_span!(provider = "openai", model = "m-none");
        drop((a, z, untouched));
    });
    let spans = h.spans();
    let a = find(&spans, "chat m-basic");
    assert_eq!(int_attr(a, semconv::GEN_AI_USAGE_INPUT_TOKENS), 120);
    assert_eq!(int_attr(a, semconv::GEN_AI_USAGE_OUTPUT_TOKENS), 30);
    for key in [semconv::USAGE_CACHED_TOKENS, semconv::USAGE_CACHE_READ_TOKENS, semconv::USAGE_CACHE_WRITE_TOKENS] {
        assert_absent(a, key);
    }
    let z = find(&spans, "chat m-zero");
    assert_eq!(int_attr(z, semconv::GEN_AI_USAGE_INPUT_TOKENS), 0);
    assert_eq!(int_attr(z, semconv::GEN_AI_USAGE_OUTPUT_TOKENS), 0);
    let n = find(&spans, "chat m-none");
    assert_absent(n, semconv::GEN_AI_USAGE_INPUT_TOKENS);
    assert_absent(n, semconv::GEN_AI_USAGE_OUTPUT_TOKENS);
}

#[test]
fn llm_set_tokens_cache_rules() {
    // (cache_read, cache_write, input counting) -> expected (cached_tokens, cache_read_tokens,
    // cache_write_tokens): the botanu.usage.cache_* keys say the input excludes the cache.
    use InputCounting::{ExcludesCache, IncludesCache};
    type Case = ((u64, u64, InputCounting), (Option<i64>, Option<i64>, Option<i64>));
    let cases: &[Case] = &[
        ((0, 0, IncludesCache), (None, None, None)),
        ((5, 0, IncludesCache), (Some(5), None, None)),
        ((5, 9, IncludesCache), (Some(5), None, None)),
        ((0, 0, ExcludesCache), (None, None, None)),
        ((7, 0, ExcludesCache), (Some(7), Some(7), None)),
        ((0, 9, ExcludesCache), (None, None, Some(9))),
        ((6, 8, ExcludesCache), (Some(6), Some(6), Some(8))),
    ];
    let h = Harness::new();
    h.run(|| {
        for (i, ((read, write, input_counting), _)) in cases.iter().enumerate() {
            let s = llm_span!(provider = "anthropic", model = %format!("m{i}"));
            s.set_tokens(Tokens {
                input: 100,
                output: 10,
                cache_read: *read,
                cache_write: *write,
                input_counting: *input_counting,
                ..Default::default()
            });
        }
    });
    let spans = h.spans();
    for (i, (input, (cached, read, write))) in cases.iter().enumerate() {
        let s = find(&spans, &format!("chat m{i}"));
        assert_eq!(int_attr(s, semconv::GEN_AI_USAGE_INPUT_TOKENS), 100, "case {input:?}");
        assert_eq!(int_attr(s, semconv::GEN_AI_USAGE_OUTPUT_TOKENS), 10, "case {input:?}");
        for (key, want) in [
            (semconv::USAGE_CACHED_TOKENS, cached),
            (semconv::USAGE_CACHE_READ_TOKENS, read),
            (semconv::USAGE_CACHE_WRITE_TOKENS, write),
        ] {
            match want {
                Some(v) => assert_eq!(int_attr(s, key), *v, "case {input:?} {key}"),
                None => assert_absent(s, key),
            }
        }
    }
}

#[test]
fn llm_response_and_request_setters_with_types() {
    let h = Harness::new();
    h.run(|| {
        let s = llm_span!(provider = "openai", model = "gpt-4o");
        s.set_request_id("chatcmpl-123", Some("client-req-9"))
            .set_response_model("gpt-4o-2024-08-06")
            .set_finish_reason("stop")
            .set_streaming(true)
            .set_cache_hit(false)
            .set_attempt(2)
            .set_request_params(RequestParams {
                temperature: Some(0.7),
                top_p: Some(0.9),
                max_tokens: Some(512),
                stop_sequences: Some(vec!["\n\n".to_owned(), "END".to_owned()]),
                frequency_penalty: Some(0.5),
                presence_penalty: Some(-0.25),
            });
        let t = llm_span!(provider = "openai", model = "no-client-id");
        t.set_request_id("resp-only", None);
        drop((s, t));
    });
    let spans = h.spans();
    let s = find(&spans, "chat gpt-4o");
    assert_eq!(str_attr(s, semconv::GEN_AI_RESPONSE_ID), "chatcmpl-123");
    assert_eq!(str_attr(s, semconv::VENDOR_REQUEST_ID), "chatcmpl-123");
    assert_eq!(str_attr(s, semconv::VENDOR_CLIENT_REQUEST_ID), "client-req-9");
    assert_eq!(str_attr(s, semconv::GEN_AI_RESPONSE_MODEL), "gpt-4o-2024-08-06");
    assert_eq!(str_array_attr(s, semconv::GEN_AI_RESPONSE_FINISH_REASONS), vec!["stop"]);
    assert!(bool_attr(s, semconv::REQUEST_STREAMING));
    assert!(!bool_attr(s, semconv::REQUEST_CACHE_HIT));
    assert_eq!(int_attr(s, semconv::REQUEST_ATTEMPT), 2);
    assert_eq!(f64_attr(s, semconv::GEN_AI_REQUEST_TEMPERATURE), 0.7);
    assert_eq!(f64_attr(s, semconv::GEN_AI_REQUEST_TOP_P), 0.9);
    assert_eq!(int_attr(s, semconv::GEN_AI_REQUEST_MAX_TOKENS), 512);
    assert_eq!(str_array_attr(s, semconv::GEN_AI_REQUEST_STOP_SEQUENCES), vec!["\n\n", "END"]);
    assert_eq!(f64_attr(s, semconv::GEN_AI_REQUEST_FREQUENCY_PENALTY), 0.5);
    assert_eq!(f64_attr(s, semconv::GEN_AI_REQUEST_PRESENCE_PENALTY), -0.25);
    assert_unset(s);

    let t = find(&spans, "chat no-client-id");
    assert_eq!(str_attr(t, semconv::GEN_AI_RESPONSE_ID), "resp-only");
    assert_eq!(str_attr(t, semconv::VENDOR_REQUEST_ID), "resp-only");
    assert_absent(t, semconv::VENDOR_CLIENT_REQUEST_ID);
}

#[test]
fn llm_request_params_write_only_those_given() {
    let h = Harness::new();
    h.run(|| {
        let s = llm_span!(provider = "openai", model = "partial");
        s.set_request_params(RequestParams { temperature: Some(0.0), max_tokens: Some(16), ..Default::default() });
    });
    let spans = h.spans();
    let s = find(&spans, "chat partial");
    assert_eq!(f64_attr(s, semconv::GEN_AI_REQUEST_TEMPERATURE), 0.0);
    assert_eq!(int_attr(s, semconv::GEN_AI_REQUEST_MAX_TOKENS), 16);
    for key in [
        semconv::GEN_AI_REQUEST_TOP_P,
        semconv::GEN_AI_REQUEST_STOP_SEQUENCES,
        semconv::GEN_AI_REQUEST_FREQUENCY_PENALTY,
        semconv::GEN_AI_REQUEST_PRESENCE_PENALTY,
    ] {
        assert_absent(s, key);
    }
}

#[test]
fn llm_errors_set_status_error_type_and_one_exception() {
    let h = Harness::new();
    h.run(|| {
        let a = llm_span!(provider = "openai", model = "typed");
        a.set_error(&RateLimitError);
        let b = llm_span!(provider = "openai", model = "explicit");
        b.set_error_type("ContextLengthExceeded", "prompt too long");
        let c = llm_span!(provider = "openai", model = "twice");
        c.set_error(&RateLimitError);
        c.set_error_type("Other", "second error");
        let d = llm_span!(provider = "openai", model = "event");
        d.in_scope(|| tracing::error!("upstream 500"));
        drop((a, b, c, d));
    });
    let spans = h.spans();
    assert_failed_once(find(&spans, "chat typed"), "RateLimitError", "rate limited, retry later");
    assert_failed_once(find(&spans, "chat explicit"), "ContextLengthExceeded", "prompt too long");
    // The first failure wins; one exception event.
    assert_failed_once(find(&spans, "chat twice"), "RateLimitError", "rate limited, retry later");
    let d = find(&spans, "chat event");
    assert!(is_error(d));
    assert_eq!(event_str(one_event(d, semconv::EVENT_EXCEPTION), semconv::EXCEPTION_MESSAGE), "upstream 500");
    assert!(matches!(attr(d, semconv::ERROR_TYPE), Some(Value::String(_))));
}

// ---------------------------------------------------------------------------------------------------
// metadata
// ---------------------------------------------------------------------------------------------------

#[test]
fn add_metadata_prefix_per_span_kind_and_value_types() {
    let h = Harness::new();
    h.run(|| {
        let spans = [
            run_span!(workflow = "meta"),
            step_span!("meta-step"),
            llm_span!(provider = "openai", model = "meta"),
            tool_span!(name = "meta"),
            db_span!(system = "postgres", operation = "select"),
            storage_span!(system = "s3", operation = "get"),
            messaging_span!(system = "kafka", operation = "publish", destination = "t"),
        ];
        for s in &spans {
            s.add_metadata("label", "gold")
                .add_metadata("count", 42i64)
                .add_metadata("small", 7u32)
                .add_metadata("ratio", 0.25)
                .add_metadata("flag", true);
        }
    });
    let spans = h.spans();
    for (name, prefix) in [
        ("botanu.run/meta", "botanu."),
        ("botanu.step/meta-step", "botanu."),
        ("chat meta", "botanu."),
        ("execute_tool meta", "botanu.tool."),
        ("db.postgresql.select", "botanu.data."),
        ("storage.s3.get", "botanu.storage."),
        ("messaging.kafka.publish", "botanu.messaging."),
    ] {
        let s = find(&spans, name);
        assert_eq!(str_attr(s, &format!("{prefix}label")), "gold", "{name}");
        assert_eq!(int_attr(s, &format!("{prefix}count")), 42, "{name}");
        assert_eq!(int_attr(s, &format!("{prefix}small")), 7, "{name}");
        assert_eq!(f64_attr(s, &format!("{prefix}ratio")), 0.25, "{name}");
        assert!(bool_attr(s, &format!("{prefix}flag")), "{name}");
        if prefix != "botanu." {
            // Not also written under the generic prefix.
            assert_absent(s, "botanu.label");
        }
    }
}

#[test]
fn add_metadata_redacts_secret_looking_keys() {
    let secret = format!("sk-{}", "abcdefghijklmnopqrstuvwx");
    let h = Harness::new();
    h.run(|| {
        let s = llm_span!(provider = "openai", model = "secrets");
        s.add_metadata("api_key", secret.as_str()).add_metadata("password", secret.as_str());
        s.add_metadata("team", "support");
    });
    let spans = h.spans();
    let s = find(&spans, "chat secrets");
    assert_eq!(str_attr(s, "botanu.api_key"), "[REDACTED]");
    assert_eq!(str_attr(s, "botanu.password"), "[REDACTED]");
    assert_eq!(str_attr(s, "botanu.team"), "support");
}

// ---------------------------------------------------------------------------------------------------
// tool
// ---------------------------------------------------------------------------------------------------

#[test]
fn tool_span_start_and_result_attributes() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "wf").in_scope(|| {
            let t = tool_span!(name = "search", call_id = "call_abc");
            t.in_scope(|| std::thread::sleep(Duration::from_millis(2)));
            t.set_result(ToolResult { success: true, items_returned: 3, bytes_processed: 2048 });
            drop(t);
            let z = tool_span!(name = "zero");
            z.set_result(ToolResult { items_returned: 0, ..Default::default() });
            z.set_tool_call_id("call_late");
            drop(z);
            let p = tool_span!(name = "hosted", provider = "Claude");
            p.set_result(ToolResult { success: false, items_returned: 1, bytes_processed: 0 });
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/wf");
    let t = find(&spans, "execute_tool search");
    assert_eq!(kind(t), SpanKind::Internal);
    assert!(is_child_of(t, run));
    assert_unset(t);
    assert_eq!(str_attr(t, semconv::GEN_AI_OPERATION_NAME), "execute_tool");
    assert_eq!(str_attr(t, semconv::GEN_AI_TOOL_NAME), "search");
    assert_eq!(str_attr(t, semconv::GEN_AI_TOOL_CALL_ID), "call_abc");
    assert!(bool_attr(t, semconv::TOOL_SUCCESS));
    assert_eq!(int_attr(t, semconv::TOOL_ITEMS_RETURNED), 3);
    assert_eq!(int_attr(t, semconv::TOOL_BYTES_PROCESSED), 2048);
    assert!(f64_attr(t, semconv::TOOL_DURATION_MS) >= 2.0);
    assert_absent(t, semconv::GEN_AI_PROVIDER_NAME);
    assert_absent(t, semconv::VENDOR);

    let z = find(&spans, "execute_tool zero");
    assert!(bool_attr(z, semconv::TOOL_SUCCESS));
    assert_eq!(int_attr(z, semconv::TOOL_ITEMS_RETURNED), 0);
    assert_absent(z, semconv::TOOL_BYTES_PROCESSED);
    assert_eq!(str_attr(z, semconv::GEN_AI_TOOL_CALL_ID), "call_late");

    let p = find(&spans, "execute_tool hosted");
    assert_eq!(str_attr(p, semconv::GEN_AI_PROVIDER_NAME), "anthropic");
    assert_eq!(str_attr(p, semconv::VENDOR), "anthropic");
    assert!(!bool_attr(p, semconv::TOOL_SUCCESS));
    assert_absent(p, semconv::TOOL_BYTES_PROCESSED);
}

#[test]
fn tool_error_marks_failure() {
    let h = Harness::new();
    h.run(|| {
        let t = tool_span!(name = "flaky");
        t.set_error(&RateLimitError);
        drop(t);
        let u = tool_span!(name = "flaky-after-success");
        u.set_result(ToolResult::default());
        u.set_error_type("Timeout", "tool timed out");
    });
    let spans = h.spans();
    let t = find(&spans, "execute_tool flaky");
    assert_failed_once(t, "RateLimitError", "rate limited, retry later");
    assert!(!bool_attr(t, semconv::TOOL_SUCCESS));
    let u = find(&spans, "execute_tool flaky-after-success");
    assert_failed_once(u, "Timeout", "tool timed out");
    assert!(!bool_attr(u, semconv::TOOL_SUCCESS), "a failed tool is not successful");
}

// ---------------------------------------------------------------------------------------------------
// database
// ---------------------------------------------------------------------------------------------------

#[test]
fn db_span_start_and_later_attributes() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "wf").in_scope(|| {
            let d = db_span!(system = "postgres", operation = "select", database = "app");
            d.in_scope(|| std::thread::sleep(Duration::from_millis(2)));
            d.set_result(DbResult { rows_returned: 12, rows_affected: 0, bytes_read: 4096, bytes_written: 0 })
                .set_table("users", Some("public"))
                .set_query_id("q-123")
                .set_bytes_scanned(1_000_000)
                .set_partitions_scanned(4);
            drop(d);
            let w = db_span!(system = "mysql", operation = "Insert");
            w.set_result(DbResult { rows_affected: 2, bytes_written: 100, bytes_read: 50, ..Default::default() });
            w.set_table("orders", None);
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/wf");
    let d = find(&spans, "db.postgresql.select");
    assert_eq!(kind(d), SpanKind::Client);
    assert!(is_child_of(d, run));
    assert_unset(d);
    assert_eq!(str_attr(d, semconv::DB_SYSTEM), "postgresql");
    assert_eq!(str_attr(d, semconv::DB_OPERATION), "SELECT");
    assert_eq!(str_attr(d, semconv::VENDOR), "postgresql");
    assert_eq!(str_attr(d, semconv::DB_NAME), "app");
    assert_absent(d, semconv::CLOUD_PROVIDER);
    assert_eq!(int_attr(d, semconv::DATA_ROWS_RETURNED), 12);
    assert_absent(d, semconv::DATA_ROWS_AFFECTED);
    assert_eq!(int_attr(d, semconv::DATA_BYTES_READ), 4096);
    assert_absent(d, semconv::DATA_BYTES_WRITTEN);
    assert_eq!(int_attr(d, semconv::BYTES_TRANSFERRED), 4096);
    assert_eq!(str_attr(d, semconv::DB_COLLECTION_NAME), "users");
    assert_eq!(str_attr(d, semconv::DB_SCHEMA), "public");
    assert_eq!(str_attr(d, semconv::WAREHOUSE_QUERY_ID), "q-123");
    assert_eq!(int_attr(d, semconv::WAREHOUSE_BYTES_SCANNED), 1_000_000);
    assert_eq!(int_attr(d, semconv::WAREHOUSE_PARTITIONS_SCANNED), 4);
    assert!(f64_attr(d, semconv::DATA_DURATION_MS) >= 2.0);
    assert_absent(d, semconv::DATA_ERROR);
    assert_absent(d, semconv::ERROR_TYPE);

    let w = find(&spans, "db.mysql.insert");
    assert_eq!(str_attr(w, semconv::DB_OPERATION), "INSERT");
    assert_absent(w, semconv::DATA_ROWS_RETURNED);
    assert_eq!(int_attr(w, semconv::DATA_ROWS_AFFECTED), 2);
    assert_eq!(int_attr(w, semconv::DATA_BYTES_WRITTEN), 100);
    assert_eq!(int_attr(w, semconv::DATA_BYTES_READ), 50);
    assert_eq!(int_attr(w, semconv::BYTES_TRANSFERRED), 150);
    assert_eq!(str_attr(w, semconv::DB_COLLECTION_NAME), "orders");
    assert_absent(w, semconv::DB_SCHEMA);
    assert_absent(w, semconv::DB_NAME);
}

#[test]
fn db_operations_are_upper_cased_and_names_lower() {
    let ops = ["select", "Insert", "UPDATE", "delete", "upsert", "Merge", "create", "transaction", "batch"];
    let h = Harness::new();
    h.run(|| {
        for (i, op) in ops.iter().enumerate() {
            db_span!(system = "postgres", operation = *op, database = %format!("db{i}")).in_scope(|| {});
        }
    });
    let spans = h.spans();
    for (i, op) in ops.iter().enumerate() {
        let s = find_by_attr(&spans, semconv::DB_NAME, &format!("db{i}"));
        assert_eq!(s.name, format!("db.postgresql.{}", op.to_ascii_lowercase()));
        assert_eq!(str_attr(s, semconv::DB_OPERATION), op.to_ascii_uppercase());
    }
}

#[test]
fn db_error_writes_data_error() {
    let h = Harness::new();
    h.run(|| {
        let d = db_span!(system = "postgresql", operation = "update");
        d.set_error(&RateLimitError);
    });
    let spans = h.spans();
    let d = find(&spans, "db.postgresql.update");
    assert_failed_once(d, "RateLimitError", "rate limited, retry later");
    assert_eq!(str_attr(d, semconv::DATA_ERROR), "RateLimitError");
}

// ---------------------------------------------------------------------------------------------------
// object storage
// ---------------------------------------------------------------------------------------------------

#[test]
fn storage_span_start_and_later_attributes() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "wf").in_scope(|| {
            let s = storage_span!(system = "aws_s3", operation = "put", bucket = "reports");
            s.in_scope(|| std::thread::sleep(Duration::from_millis(2)));
            s.set_result(StorageResult { objects_count: 1, bytes_read: 0, bytes_written: 2048 });
            drop(s);
            let g = storage_span!(system = "gcs", operation = "Get");
            g.set_bucket("late-bucket");
            g.set_result(StorageResult { objects_count: 0, bytes_read: 10, bytes_written: 5 });
            drop(g);
            let e = storage_span!(system = "s3", operation = "DELETE");
            e.set_error_type("AccessDenied", "no permission");
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/wf");
    let s = find(&spans, "storage.s3.put");
    assert_eq!(kind(s), SpanKind::Client);
    assert!(is_child_of(s, run));
    assert_unset(s);
    assert_eq!(str_attr(s, semconv::STORAGE_SYSTEM), "s3");
    assert_eq!(str_attr(s, semconv::STORAGE_OPERATION), "PUT");
    assert_eq!(str_attr(s, semconv::VENDOR), "s3");
    assert_eq!(str_attr(s, semconv::CLOUD_PROVIDER), "aws");
    assert_eq!(str_attr(s, semconv::STORAGE_BUCKET), "reports");
    assert_eq!(int_attr(s, semconv::DATA_OBJECTS_COUNT), 1);
    assert_absent(s, semconv::DATA_BYTES_READ);
    assert_eq!(int_attr(s, semconv::DATA_BYTES_WRITTEN), 2048);
    assert_eq!(int_attr(s, semconv::BYTES_TRANSFERRED), 2048);
    assert!(f64_attr(s, semconv::STORAGE_DURATION_MS) >= 2.0);
    assert_absent(s, semconv::STORAGE_ERROR);

    let g = find(&spans, "storage.gcs.get");
    assert_eq!(str_attr(g, semconv::STORAGE_OPERATION), "GET");
    assert_eq!(str_attr(g, semconv::STORAGE_BUCKET), "late-bucket");
    assert_eq!(str_attr(g, semconv::CLOUD_PROVIDER), "gcp");
    assert_absent(g, semconv::DATA_OBJECTS_COUNT);
    assert_eq!(int_attr(g, semconv::DATA_BYTES_READ), 10);
    assert_eq!(int_attr(g, semconv::DATA_BYTES_WRITTEN), 5);
    assert_eq!(int_attr(g, semconv::BYTES_TRANSFERRED), 15);

    let e = find(&spans, "storage.s3.delete");
    assert_failed_once(e, "AccessDenied", "no permission");
    assert_eq!(str_attr(e, semconv::STORAGE_ERROR), "AccessDenied");
}

// ---------------------------------------------------------------------------------------------------
// messaging
// ---------------------------------------------------------------------------------------------------

#[test]
fn messaging_span_start_and_later_attributes() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "wf").in_scope(|| {
            let m = messaging_span!(system = "aws_sqs", operation = "publish", destination = "orders");
            m.in_scope(|| std::thread::sleep(Duration::from_millis(2)));
            m.set_result(MessagingResult { message_count: 3, bytes_transferred: 512 });
            drop(m);
            let z = messaging_span!(system = "kafka", operation = "consume", destination = "events");
            z.set_result(MessagingResult { message_count: 1, bytes_transferred: 0 });
            drop(z);
            let e = messaging_span!(system = "rabbitmq", operation = "receive", destination = "jobs");
            e.set_error_type("ConnectionReset", "broker went away");
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/wf");
    let m = find(&spans, "messaging.sqs.publish");
    assert_eq!(kind(m), SpanKind::Producer);
    assert!(is_child_of(m, run));
    assert_unset(m);
    assert_eq!(str_attr(m, semconv::MESSAGING_SYSTEM), "sqs");
    assert_eq!(str_attr(m, semconv::MESSAGING_OPERATION), "publish");
    assert_eq!(str_attr(m, semconv::MESSAGING_DESTINATION_NAME), "orders");
    assert_eq!(str_attr(m, semconv::VENDOR), "sqs");
    assert_eq!(str_attr(m, semconv::CLOUD_PROVIDER), "aws");
    assert_eq!(int_attr(m, semconv::MESSAGING_MESSAGE_COUNT), 3);
    assert_eq!(int_attr(m, semconv::MESSAGING_BYTES_TRANSFERRED), 512);
    assert_eq!(int_attr(m, semconv::BYTES_TRANSFERRED), 512);
    assert!(f64_attr(m, semconv::MESSAGING_DURATION_MS) >= 2.0);
    assert_absent(m, semconv::MESSAGING_ERROR);

    let z = find(&spans, "messaging.kafka.consume");
    assert_eq!(kind(z), SpanKind::Consumer);
    assert_eq!(int_attr(z, semconv::MESSAGING_MESSAGE_COUNT), 1);
    assert_absent(z, semconv::MESSAGING_BYTES_TRANSFERRED);
    assert_absent(z, semconv::BYTES_TRANSFERRED);
    assert_absent(z, semconv::CLOUD_PROVIDER);

    let e = find(&spans, "messaging.rabbitmq.receive");
    assert_failed_once(e, "ConnectionReset", "broker went away");
    assert_eq!(str_attr(e, semconv::MESSAGING_ERROR), "ConnectionReset");
}

#[test]
fn messaging_kind_is_producer_for_publish_and_send_in_any_case() {
    let cases = [
        ("publish", SpanKind::Producer),
        ("send", SpanKind::Producer),
        ("PUBLISH", SpanKind::Producer),
        ("Send", SpanKind::Producer),
        ("consume", SpanKind::Consumer),
        ("receive", SpanKind::Consumer),
        ("Receive", SpanKind::Consumer),
        ("subscribe", SpanKind::Consumer),
    ];
    let h = Harness::new();
    h.run(|| {
        for (i, (op, _)) in cases.iter().enumerate() {
            messaging_span!(system = "kafka", operation = *op, destination = %format!("q{i}")).in_scope(|| {});
        }
    });
    let spans = h.spans();
    for (i, (op, want)) in cases.iter().enumerate() {
        let s = find_by_attr(&spans, semconv::MESSAGING_DESTINATION_NAME, &format!("q{i}"));
        assert_eq!(kind(s), want.clone(), "operation {op}");
        assert_eq!(str_attr(s, semconv::MESSAGING_OPERATION), op.to_ascii_lowercase(), "operation {op}");
        assert_eq!(s.name, format!("messaging.kafka.{}", op.to_ascii_lowercase()));
    }
}

// ---------------------------------------------------------------------------------------------------
// vendor normalization and cloud provider
// ---------------------------------------------------------------------------------------------------

#[test]
fn vendors_are_normalized_on_every_span_kind() {
    let llm = [
        ("OpenAI", "openai"),
        ("Claude", "anthropic"),
        ("AZURE-OPENAI", "azure.openai"),
        ("bedrock", "aws.bedrock"),
        ("Gemini", "gcp.vertex_ai"),
        ("hf", "huggingface"),
        ("SomeNewVendor", "somenewvendor"),
    ];
    let db = [
        ("postgres", "postgresql"),
        ("PG", "postgresql"),
        ("Mongo", "mongodb"),
        ("sqlserver", "mssql"),
        ("MySQL", "mysql"),
    ];
    let storage = [("aws_s3", "s3"), ("google_cloud_storage", "gcs"), ("blob", "azure_blob"), ("MinIO", "minio")];
    let messaging =
        [("aws_sqs", "sqs"), ("google_pubsub", "pubsub"), ("azure_servicebus", "servicebus"), ("Kafka", "kafka")];
    let h = Harness::new();
    h.run(|| {
        for (i, (raw, _)) in llm.iter().enumerate() {
            llm_span!(provider = *raw, model = %format!("m{i}")).in_scope(|| {});
        }
        for (i, (raw, _)) in db.iter().enumerate() {
            db_span!(system = *raw, operation = "select", database = %format!("db{i}")).in_scope(|| {});
        }
        for (i, (raw, _)) in storage.iter().enumerate() {
            storage_span!(system = *raw, operation = "get", bucket = %format!("b{i}")).in_scope(|| {});
        }
        for (i, (raw, _)) in messaging.iter().enumerate() {
            messaging_span!(system = *raw, operation = "send", destination = %format!("q{i}")).in_scope(|| {});
        }
    });
    let spans = h.spans();
    for (i, (raw, want)) in llm.iter().enumerate() {
        let s = find_by_attr(&spans, semconv::GEN_AI_REQUEST_MODEL, &format!("m{i}"));
        assert_eq!(str_attr(s, semconv::GEN_AI_PROVIDER_NAME), *want, "{raw}");
        assert_eq!(str_attr(s, semconv::VENDOR), *want, "{raw}");
    }
    for (i, (raw, want)) in db.iter().enumerate() {
        let s = find_by_attr(&spans, semconv::DB_NAME, &format!("db{i}"));
        assert_eq!(str_attr(s, semconv::DB_SYSTEM), *want, "{raw}");
        assert_eq!(str_attr(s, semconv::VENDOR), *want, "{raw}");
        assert_eq!(s.name, format!("db.{want}.select"));
    }
    for (i, (raw, want)) in storage.iter().enumerate() {
        let s = find_by_attr(&spans, semconv::STORAGE_BUCKET, &format!("b{i}"));
        assert_eq!(str_attr(s, semconv::STORAGE_SYSTEM), *want, "{raw}");
        assert_eq!(str_attr(s, semconv::VENDOR), *want, "{raw}");
        assert_eq!(s.name, format!("storage.{want}.get"));
    }
    for (i, (raw, want)) in messaging.iter().enumerate() {
        let s = find_by_attr(&spans, semconv::MESSAGING_DESTINATION_NAME, &format!("q{i}"));
        assert_eq!(str_attr(s, semconv::MESSAGING_SYSTEM), *want, "{raw}");
        assert_eq!(str_attr(s, semconv::VENDOR), *want, "{raw}");
        assert_eq!(s.name, format!("messaging.{want}.send"));
    }
}

#[test]
fn cloud_provider_is_derived_from_the_system() {
    let db = [("dynamodb", Some("aws")), ("BigQuery", Some("gcp")), ("cosmosdb", Some("azure")), ("postgres", None)];
    let storage = [
        ("s3", Some("aws")),
        ("aws_s3", Some("aws")),
        ("gcs", Some("gcp")),
        ("azure_blob", Some("azure")),
        ("minio", None),
    ];
    let messaging = [
        ("sqs", Some("aws")),
        ("aws_sqs", Some("aws")),
        ("pubsub", Some("gcp")),
        ("servicebus", Some("azure")),
        ("kafka", None),
    ];
    let h = Harness::new();
    h.run(|| {
        for (i, (raw, _)) in db.iter().enumerate() {
            db_span!(system = *raw, operation = "select", database = %format!("db{i}")).in_scope(|| {});
        }
        for (i, (raw, _)) in storage.iter().enumerate() {
            storage_span!(system = *raw, operation = "get", bucket = %format!("b{i}")).in_scope(|| {});
        }
        for (i, (raw, _)) in messaging.iter().enumerate() {
            messaging_span!(system = *raw, operation = "consume", destination = %format!("q{i}")).in_scope(|| {});
        }
    });
    let spans = h.spans();
    let check = |s: &SpanData, raw: &str, want: &Option<&str>| match want {
        Some(p) => assert_eq!(str_attr(s, semconv::CLOUD_PROVIDER), *p, "{raw}"),
        None => assert_absent(s, semconv::CLOUD_PROVIDER),
    };
    for (i, (raw, want)) in db.iter().enumerate() {
        check(find_by_attr(&spans, semconv::DB_NAME, &format!("db{i}")), raw, want);
    }
    for (i, (raw, want)) in storage.iter().enumerate() {
        check(find_by_attr(&spans, semconv::STORAGE_BUCKET, &format!("b{i}")), raw, want);
    }
    for (i, (raw, want)) in messaging.iter().enumerate() {
        check(find_by_attr(&spans, semconv::MESSAGING_DESTINATION_NAME, &format!("q{i}")), raw, want);
    }
}

#[test]
fn explicit_cloud_provider_wins_over_derived() {
    let h = Harness::new();
    h.run(|| {
        db_span!(system = "dynamodb", operation = "get", database = "after", cloud_provider = "localstack")
            .in_scope(|| {});
        db_span!(cloud_provider = "localstack", system = "dynamodb", operation = "get", database = "before")
            .in_scope(|| {});
        db_span!(system = "postgres", operation = "select", database = "rds", cloud_provider = "aws").in_scope(|| {});
        storage_span!(system = "s3", operation = "get", bucket = "minio-compat", cloud_provider = "onprem")
            .in_scope(|| {});
        messaging_span!(system = "sqs", operation = "send", destination = "elasticmq", cloud_provider = "onprem")
            .in_scope(|| {});
    });
    let spans = h.spans();
    assert_eq!(str_attr(find_by_attr(&spans, semconv::DB_NAME, "after"), semconv::CLOUD_PROVIDER), "localstack");
    assert_eq!(str_attr(find_by_attr(&spans, semconv::DB_NAME, "before"), semconv::CLOUD_PROVIDER), "localstack");
    assert_eq!(str_attr(find_by_attr(&spans, semconv::DB_NAME, "rds"), semconv::CLOUD_PROVIDER), "aws");
    assert_eq!(
        str_attr(find_by_attr(&spans, semconv::STORAGE_BUCKET, "minio-compat"), semconv::CLOUD_PROVIDER),
        "onprem"
    );
    assert_eq!(
        str_attr(find_by_attr(&spans, semconv::MESSAGING_DESTINATION_NAME, "elasticmq"), semconv::CLOUD_PROVIDER),
        "onprem"
    );
}

// ---------------------------------------------------------------------------------------------------
// u64 clamping
// ---------------------------------------------------------------------------------------------------

#[test]
fn u64_above_i64_max_is_clamped_and_listed_never_wrapped() {
    let h = Harness::new();
    h.run(|| {
        llm_span!(provider = "openai", model = "tokens").set_tokens(Tokens {
            input: u64::MAX,
            output: 1,
            cache_write: u64::MAX,
            input_counting: InputCounting::ExcludesCache,
            ..Default::default()
        });
        llm_span!(provider = "openai", model = "params")
            .set_request_params(RequestParams { max_tokens: Some(u64::MAX), ..Default::default() });
        llm_span!(provider = "openai", model = "field", big = u64::MAX);
        db_span!(system = "bigquery", operation = "select", database = "scan")
            .set_bytes_scanned(u64::MAX)
            // Written twice: still listed once.
            .set_bytes_scanned(u64::MAX)
            .set_partitions_scanned(u64::MAX);
        db_span!(system = "postgres", operation = "insert", database = "result").set_result(DbResult {
            rows_affected: u64::MAX,
            bytes_read: u64::MAX,
            bytes_written: 1,
            rows_returned: 5,
        });
        db_span!(system = "bigquery", operation = "select", database = "exact").set_bytes_scanned(i64::MAX as u64);
        tool_span!(name = "big").set_result(ToolResult {
            success: true,
            items_returned: u64::MAX,
            bytes_processed: u64::MAX,
        });
        storage_span!(system = "s3", operation = "get", bucket = "big").set_result(StorageResult {
            objects_count: u64::MAX,
            bytes_read: u64::MAX,
            bytes_written: 0,
        });
        messaging_span!(system = "kafka", operation = "consume", destination = "big")
            .set_result(MessagingResult { message_count: u64::MAX, bytes_transferred: u64::MAX });
    });
    let spans = h.spans();
    let cases: Vec<(&SpanData, Vec<&str>)> = vec![
        (
            find(&spans, "chat tokens"),
            vec![
                semconv::GEN_AI_USAGE_INPUT_TOKENS,
                semconv::USAGE_CACHE_WRITE_TOKENS,
                semconv::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
            ],
        ),
        (find(&spans, "chat params"), vec![semconv::GEN_AI_REQUEST_MAX_TOKENS]),
        (find(&spans, "chat field"), vec!["big"]),
        (
            find_by_attr(&spans, semconv::DB_NAME, "scan"),
            vec![semconv::WAREHOUSE_BYTES_SCANNED, semconv::WAREHOUSE_PARTITIONS_SCANNED],
        ),
        (
            find_by_attr(&spans, semconv::DB_NAME, "result"),
            vec![semconv::DATA_ROWS_AFFECTED, semconv::DATA_BYTES_READ, semconv::BYTES_TRANSFERRED],
        ),
        (find(&spans, "execute_tool big"), vec![semconv::TOOL_ITEMS_RETURNED, semconv::TOOL_BYTES_PROCESSED]),
        (
            find(&spans, "storage.s3.get"),
            vec![semconv::DATA_OBJECTS_COUNT, semconv::DATA_BYTES_READ, semconv::BYTES_TRANSFERRED],
        ),
        (
            find(&spans, "messaging.kafka.consume"),
            vec![semconv::MESSAGING_MESSAGE_COUNT, semconv::MESSAGING_BYTES_TRANSFERRED, semconv::BYTES_TRANSFERRED],
        ),
    ];
    for (span, keys) in &cases {
        for key in keys {
            assert_eq!(int_attr(span, key), i64::MAX, "{}: {key}", span.name);
        }
        // Not deduplicated here: each clamped key is listed exactly once, however often it was written.
        let mut listed = str_array_attr(span, semconv::CLAMPED_ATTRIBUTES);
        listed.sort();
        let mut want: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        want.sort();
        assert_eq!(listed, want, "{}: clamped list", span.name);
    }
    // Unclamped neighbours stay exact and unlisted.
    let tokens = find(&spans, "chat tokens");
    assert_eq!(int_attr(tokens, semconv::GEN_AI_USAGE_OUTPUT_TOKENS), 1);
    let result = find_by_attr(&spans, semconv::DB_NAME, "result");
    assert_eq!(int_attr(result, semconv::DATA_BYTES_WRITTEN), 1);
    assert_eq!(int_attr(result, semconv::DATA_ROWS_RETURNED), 5);
    // i64::MAX itself is representable: exact, and not marked.
    let exact = find_by_attr(&spans, semconv::DB_NAME, "exact");
    assert_eq!(int_attr(exact, semconv::WAREHOUSE_BYTES_SCANNED), i64::MAX);
    assert_absent(exact, semconv::CLAMPED_ATTRIBUTES);
    // No negative integer anywhere.
    for s in &spans {
        for kv in &s.attributes {
            if let Value::I64(v) = kv.value {
                assert!(v >= 0, "{}: {} wrapped to {v}", s.name, kv.key);
            }
        }
    }
}

#[test]
fn add_metadata_u64_above_i64_max_is_clamped_and_listed() {
    let h = Harness::new();
    h.run(|| {
        llm_span!(provider = "openai", model = "meta-big").add_metadata("big", u64::MAX);
    });
    let spans = h.spans();
    let s = find(&spans, "chat meta-big");
    assert_eq!(int_attr(s, "botanu.big"), i64::MAX);
    assert_eq!(str_array_attr(s, semconv::CLAMPED_ATTRIBUTES), vec!["botanu.big"]);
}

// ---------------------------------------------------------------------------------------------------
// macro features
// ---------------------------------------------------------------------------------------------------

#[test]
fn macro_sigils_on_known_and_extra_keys() {
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Priority {
        level: u8,
    }
    let workflow = String::from("sigil-wf");
    let model = String::from("gpt-sigil");
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = %workflow, event_id = ?42u32, customer_id = %"acme", ticket = %"T-1", prio = ?Priority { level: 2 })
            .in_scope(|| {
                llm_span!(provider = %"OpenAI", model = %model, operation = %"Chat", note = %7).in_scope(|| {});
                db_span!(system = %"Postgres", operation = %"select", table_hint = ?"users").in_scope(|| {});
            });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/sigil-wf");
    assert_eq!(str_attr(run, semconv::WORKFLOW), "sigil-wf");
    assert_eq!(str_attr(run, semconv::EVENT_ID), "42");
    assert_eq!(str_attr(run, semconv::CUSTOMER_ID), "acme");
    assert_eq!(str_attr(run, "ticket"), "T-1");
    assert_eq!(str_attr(run, "prio"), "Priority { level: 2 }");
    let llm = find(&spans, "chat gpt-sigil");
    assert_eq!(str_attr(llm, semconv::GEN_AI_OPERATION_NAME), "chat");
    assert_eq!(str_attr(llm, semconv::GEN_AI_PROVIDER_NAME), "openai");
    assert_eq!(str_attr(llm, semconv::VENDOR), "openai");
    assert_eq!(str_attr(llm, "note"), "7", "% makes a string even of an integer");
    let db = find(&spans, "db.postgresql.select");
    assert_eq!(str_attr(db, semconv::DB_OPERATION), "SELECT");
    assert_eq!(str_attr(db, "table_hint"), "\"users\"");
}

#[test]
fn macro_extra_fields_pass_through_with_their_types() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "extras", retries = 2, score = 0.5, flag = true, app.tier = "gold", "quoted.key" = 9u8)
            .in_scope(|| {
                llm_span!(
                    provider = "openai",
                    model = "gpt-4",
                    gen_ai.request.seed = 1234i64,
                    botanu.feature = "summarize"
                )
                .in_scope(|| {});
                tool_span!(name = "search", k = 10usize).in_scope(|| {});
                storage_span!(system = "s3", operation = "get", part = -3).in_scope(|| {});
                messaging_span!(
                    system = "kafka",
                    operation = "send",
                    destination = "t",
                    partition = 4u16,
                    sync = false
                )
                .in_scope(|| {});
            });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/extras");
    assert_eq!(int_attr(run, "retries"), 2);
    assert_eq!(f64_attr(run, "score"), 0.5);
    assert!(bool_attr(run, "flag"));
    assert_eq!(str_attr(run, "app.tier"), "gold");
    assert_eq!(int_attr(run, "quoted.key"), 9);
    let llm = find(&spans, "chat gpt-4");
    assert_eq!(int_attr(llm, "gen_ai.request.seed"), 1234);
    assert_eq!(str_attr(llm, "botanu.feature"), "summarize");
    assert_eq!(int_attr(find(&spans, "execute_tool search"), "k"), 10);
    assert_eq!(int_attr(find(&spans, "storage.s3.get"), "part"), -3);
    let m = find(&spans, "messaging.kafka.send");
    assert_eq!(int_attr(m, "partition"), 4);
    assert!(!bool_attr(m, "sync"));
}

#[test]
fn macro_level_prefix() {
    let h = Harness::new();
    let levels = h.run(|| {
        let run = run_span!(level: tracing::Level::DEBUG, workflow = "debug-run");
        let run_level = *run.metadata().expect("enabled").level();
        let step_level = run.in_scope(|| {
            let step = step_span!(level: tracing::Level::TRACE, "trace-step", extra = 1);
            let lvl = *step.metadata().expect("enabled").level();
            step.in_scope(|| {
                llm_span!(level: tracing::Level::WARN, provider = "openai", model = "warn-model").in_scope(|| {});
            });
            lvl
        });
        (run_level, step_level)
    });
    assert_eq!(levels, (tracing::Level::DEBUG, tracing::Level::TRACE));
    let spans = h.spans();
    let run = find(&spans, "botanu.run/debug-run");
    let step = find(&spans, "botanu.step/trace-step");
    let llm = find(&spans, "chat warn-model");
    assert!(is_child_of(step, run));
    assert!(is_child_of(llm, step));
    assert_eq!(int_attr(step, "extra"), 1);
    assert_eq!(str_attr(llm, semconv::STEP), "trace-step");
    assert_eq!(str_attr(llm, semconv::RUN_ID), str_attr(run, semconv::RUN_ID));
}

#[test]
fn macro_parent_prefix() {
    let h = Harness::new();
    h.run(|| {
        let run = run_span!(workflow = "parents");
        run.in_scope(|| {
            let a = step_span!("a");
            let b = step_span!("b");
            b.in_scope(|| {
                // Explicit parent `a`, although `b` is current.
                llm_span!(parent: &a, provider = "openai", model = "child-of-a").in_scope(|| {});
                llm_span!(parent: &a, level: tracing::Level::DEBUG, provider = "openai", model = "child-of-a-debug")
                    .in_scope(|| {});
                step_span!(parent: &a, "a-sub").in_scope(|| {});
                step_span!(parent: &a, level: tracing::Level::DEBUG, "a-sub-debug", n = 2).in_scope(|| {});
                // Explicit root: no parent, no run.
                llm_span!(parent: None, provider = "openai", model = "orphan").in_scope(|| {});
                run_span!(parent: None, workflow = "detached").in_scope(|| {});
                // Contextual: child of b.
                llm_span!(provider = "openai", model = "child-of-b").in_scope(|| {});
            });
        });
        // Explicit parent from outside its scope.
        llm_span!(parent: &run, provider = "openai", model = "late-child-of-run").in_scope(|| {});
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/parents");
    let a = find(&spans, "botanu.step/a");
    let b = find(&spans, "botanu.step/b");
    let run_id = str_attr(run, semconv::RUN_ID);
    for name in ["chat child-of-a", "chat child-of-a-debug", "botanu.step/a-sub", "botanu.step/a-sub-debug"] {
        let s = find(&spans, name);
        assert!(is_child_of(s, a), "{name} should be a child of step a");
        assert_eq!(str_attr(s, semconv::RUN_ID), run_id, "{name}");
    }
    assert_eq!(str_attr(find(&spans, "chat child-of-a"), semconv::STEP), "a");
    assert_eq!(int_attr(find(&spans, "botanu.step/a-sub-debug"), "n"), 2);
    let cb = find(&spans, "chat child-of-b");
    assert!(is_child_of(cb, b));
    assert_eq!(str_attr(cb, semconv::STEP), "b");

    let orphan = find(&spans, "chat orphan");
    assert!(is_root(orphan));
    assert_ne!(orphan.span_context.trace_id(), run.span_context.trace_id());
    assert_absent(orphan, semconv::RUN_ID);
    assert_absent(orphan, semconv::STEP);

    let detached = find(&spans, "botanu.run/detached");
    assert!(is_root(detached));
    assert_absent(detached, semconv::PARENT_RUN_ID);
    assert_eq!(str_attr(detached, semconv::ROOT_RUN_ID), str_attr(detached, semconv::RUN_ID));

    let late = find(&spans, "chat late-child-of-run");
    assert!(is_child_of(late, run));
    assert_eq!(str_attr(late, semconv::RUN_ID), run_id);
}

#[test]
fn step_span_with_extra_fields() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "wf").in_scope(|| {
            step_span!("retrieve", extra = 1, source = "kb", weight = 0.5).in_scope(|| {});
            let name = String::from("dynamic");
            step_span!(name.as_str()).in_scope(|| {});
        });
    });
    let spans = h.spans();
    let s = find(&spans, "botanu.step/retrieve");
    assert_eq!(str_attr(s, semconv::STEP), "retrieve");
    assert_eq!(int_attr(s, "extra"), 1);
    assert_eq!(str_attr(s, "source"), "kb");
    assert_eq!(f64_attr(s, "weight"), 0.5);
    assert_eq!(str_attr(find(&spans, "botanu.step/dynamic"), semconv::STEP), "dynamic");
}

// ---------------------------------------------------------------------------------------------------
// setter robustness
// ---------------------------------------------------------------------------------------------------

fn call_every_setter(spans: &[tracing::Span]) {
    for s in spans {
        s.set_tokens(Tokens {
            input: u64::MAX,
            output: 1,
            cache_read: 2,
            cache_write: 3,
            input_counting: InputCounting::ExcludesCache,
            ..Default::default()
        })
        .set_request_id("r", Some("c"))
        .set_response_model("m")
        .set_finish_reason("stop")
        .set_streaming(true)
        .set_cache_hit(true)
        .set_attempt(2)
        .set_request_params(RequestParams {
            temperature: Some(1.0),
            stop_sequences: Some(vec!["x".into()]),
            max_tokens: Some(u64::MAX),
            ..Default::default()
        })
        .set_input_content("in")
        .set_output_content("out");
        s.set_result(ToolResult::default()).set_result(DbResult { rows_returned: 1, ..Default::default() });
        s.set_result(StorageResult { objects_count: 1, ..Default::default() });
        s.set_result(MessagingResult { message_count: 1, bytes_transferred: 1 });
        s.set_error(&RateLimitError).set_error_type("T", "m").add_metadata("k", "v").add_metadata("n", u64::MAX);
        s.set_tool_call_id("id");
        s.set_table("t", Some("s")).set_query_id("q").set_bytes_scanned(u64::MAX).set_partitions_scanned(1);
        s.set_retrieval_content("c");
        s.set_bucket("b");
    }
}

#[test]
fn setters_are_noops_without_a_subscriber_and_never_panic() {
    let h = Harness::new();
    // No subscriber at all: spans are disabled; every setter and free function is a no-op.
    let disabled = vec![
        run_span!(workflow = "nowhere"),
        step_span!("nowhere"),
        llm_span!(provider = "openai", model = "nowhere"),
        tool_span!(name = "nowhere"),
        db_span!(system = "postgres", operation = "select"),
        storage_span!(system = "s3", operation = "get"),
        messaging_span!(system = "sqs", operation = "send", destination = "q"),
        tracing::Span::none(),
    ];
    call_every_setter(&disabled);
    disabled[0].in_scope(|| {
        assert_eq!(botanu::current_run_id(), None);
        assert_eq!(botanu::current_workflow(), None);
        assert!(!botanu::set_baggage("k", "v"));
        assert_eq!(botanu::baggage(semconv::RUN_ID), None);
        assert!(botanu::emit_outcome("success", botanu::Outcome::default()).is_ok());
        botanu::set_business_context(botanu::BusinessContext { customer_id: Some("x".into()), ..Default::default() });
        botanu::set_correlation("k", "v");
    });
    drop(disabled);

    // A subscriber without the BotanuLayer: spans are enabled, setters still no-ops.
    let plain = tracing::Dispatch::new(tracing_subscriber::registry());
    tracing::dispatcher::with_default(&plain, || {
        let spans = vec![
            run_span!(workflow = "plain-sub"),
            llm_span!(provider = "openai", model = "plain-sub"),
            db_span!(system = "postgres", operation = "select"),
        ];
        assert!(spans.iter().all(|s| !s.is_disabled()));
        call_every_setter(&spans);
        spans[0].in_scope(|| {
            assert_eq!(botanu::current_run_id(), None);
            assert!(!botanu::set_baggage("k", "v"));
        });
    });

    // Nothing reached the harness; a run made under it afterwards is the only span exported.
    h.run(|| run_span!(workflow = "after").in_scope(|| {}));
    let spans = h.spans();
    assert_eq!(spans.len(), 1, "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    assert_eq!(spans[0].name, "botanu.run/after");
    assert_absent(&spans[0], "botanu.k");
}

#[test]
fn setters_on_any_botanu_span_never_panic_under_the_layer() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "all-setters").in_scope(|| {
            let spans = vec![
                step_span!("s"),
                llm_span!(provider = "openai", model = "all"),
                tool_span!(name = "all"),
                db_span!(system = "postgres", operation = "select"),
                storage_span!(system = "s3", operation = "get"),
                messaging_span!(system = "sqs", operation = "send", destination = "q"),
                tracing::Span::none(),
            ];
            call_every_setter(&spans);
        });
    });
    let spans = h.spans();
    assert_eq!(spans.len(), 7);
    for s in &spans {
        if s.name == "botanu.run/all-setters" {
            assert_ok(s);
        } else {
            // Each got exactly one exception despite two error setters.
            assert_failed_once(s, "RateLimitError", "rate limited, retry later");
        }
    }
}

#[test]
fn recording_after_exit_but_before_drop_is_exported() {
    let h = Harness::new();
    h.run(|| {
        let run = run_span!(workflow = "late");
        let llm = run.in_scope(|| {
            let llm = llm_span!(provider = "openai", model = "late");
            llm.in_scope(|| {});
            llm
        });
        // Both exited; record afterwards.
        llm.set_tokens(Tokens { input: 5, output: 6, ..Default::default() }).set_finish_reason("length");
        llm.add_metadata("late", true);
        run.record(semconv::TENANT_ID, "late-tenant");
        run.add_metadata("late", 1i64);
        drop(llm);
        drop(run);
    });
    let spans = h.spans();
    let llm = find(&spans, "chat late");
    assert_eq!(int_attr(llm, semconv::GEN_AI_USAGE_INPUT_TOKENS), 5);
    assert_eq!(int_attr(llm, semconv::GEN_AI_USAGE_OUTPUT_TOKENS), 6);
    assert_eq!(str_array_attr(llm, semconv::GEN_AI_RESPONSE_FINISH_REASONS), vec!["length"]);
    assert!(bool_attr(llm, "botanu.late"));
    let run = find(&spans, "botanu.run/late");
    assert_eq!(str_attr(run, semconv::TENANT_ID), "late-tenant");
    assert_eq!(int_attr(run, "botanu.late"), 1);
}

#[test]
fn run_attempt_is_an_int_defaulting_to_one() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "att-str", attempt = "2").in_scope(|| {});
        run_span!(workflow = "att-zero", attempt = 0).in_scope(|| {});
        run_span!(workflow = "att-bad", attempt = "abc").in_scope(|| {});
        run_span!(workflow = "att-u64", attempt = 4u64).in_scope(|| {});
    });
    let spans = h.spans();
    assert_eq!(int_attr(find(&spans, "botanu.run/att-str"), semconv::ATTEMPT), 2);
    assert_eq!(int_attr(find(&spans, "botanu.run/att-zero"), semconv::ATTEMPT), 1);
    assert_eq!(int_attr(find(&spans, "botanu.run/att-bad"), semconv::ATTEMPT), 1);
    assert_eq!(int_attr(find(&spans, "botanu.run/att-u64"), semconv::ATTEMPT), 4);
}

#[test]
fn only_info_and_above_events_become_span_events_by_default() {
    for (level, expect) in
        [(None, vec!["info", "warn"]), (Some(tracing::Level::TRACE), vec!["trace", "debug", "info", "warn"])]
    {
        let h = match level {
            None => Harness::new(),
            Some(l) => Harness::with(move |b| b.with_span_event_level(l)),
        };
        h.run(|| {
            llm_span!(provider = "openai", model = "m").in_scope(|| {
                tracing::trace!("trace");
                tracing::debug!("debug");
                tracing::info!("info");
                tracing::warn!("warn");
            });
        });
        let spans = h.spans();
        assert_eq!(event_names(find(&spans, "chat m")), expect);
    }
}

#[test]
fn a_fmt_layer_with_an_env_filter_does_not_hide_botanu_spans() {
    use tracing_subscriber::prelude::*;
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let (layer, guard) = botanu::Builder::new().with_span_exporter(exporter.clone()).build().expect("pipeline");
    // The filter sits on the fmt layer only (a per-layer filter), as `botanu::init` and the README do.
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::sink)
        .with_filter(tracing_subscriber::EnvFilter::new("warn"));
    let subscriber = tracing_subscriber::registry().with(layer).with(fmt);
    tracing::subscriber::with_default(subscriber, || {
        run_span!(workflow = "filtered").in_scope(|| {
            llm_span!(provider = "openai", model = "m").in_scope(|| tracing::info!("not printed, still recorded"));
        });
    });
    guard.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), 2);
    assert_eq!(event_names(find(&spans, "chat m")), vec!["not printed, still recorded"]);
}

// === names, attributes and span state ===

#[test]
fn only_botanus_macros_choose_names() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "names").in_scope(|| {
            tracing::info_span!("app.warehouse_query", db.system = "bigquery", db.operation = "select").in_scope(|| {});
            tracing::info_span!("renamed", db.system = "bigquery", otel.name = "nightly export").in_scope(|| {});
            tracing::info_span!("llm.call", gen_ai.provider.name = "gemini", gen_ai.request.model = "g")
                .in_scope(|| {});
            db_span!(system = "bigquery", operation = "select").in_scope(|| {});
        });
    });
    let spans = h.spans();
    let own = find(&spans, "app.warehouse_query");
    // Recognized and enriched, not renamed.
    assert_eq!(str_attr(own, k::DB_SYSTEM), "bigquery");
    assert_eq!(str_attr(own, k::DB_OPERATION), "SELECT");
    assert_eq!(str_attr(own, k::WORKFLOW), "names");
    find(&spans, "nightly export");
    assert_eq!(str_attr(find(&spans, "llm.call"), k::GEN_AI_PROVIDER_NAME), "gcp.vertex_ai");
    find(&spans, "db.bigquery.select");
}

#[test]
fn client_request_id_keyword_is_the_vendor_key() {
    let h = Harness::new();
    h.run(|| {
        llm_span!(provider = "openai", model = "gpt-4o", client_request_id = "req-42").in_scope(|| {});
    });
    let spans = h.spans();
    let llm = find(&spans, "chat gpt-4o");
    assert_eq!(str_attr(llm, k::VENDOR_CLIENT_REQUEST_ID), "req-42");
    assert_absent(llm, "client_request_id");
}

#[test]
fn finish_reasons_are_a_string_array_from_any_source() {
    let h = Harness::new();
    h.run(|| {
        tracing::info_span!(
            "json",
            gen_ai.provider.name = "openai",
            gen_ai.response.finish_reasons = r#"["stop","length"]"#
        )
        .in_scope(|| {});
        tracing::info_span!("plain", gen_ai.provider.name = "openai", gen_ai.response.finish_reasons = "stop")
            .in_scope(|| {});
        tracing::info_span!("broken", gen_ai.provider.name = "openai", gen_ai.response.finish_reasons = r#"["stop"#)
            .in_scope(|| {});
        llm_span!(provider = "openai", model = "setter").set_finish_reason("tool_calls");
    });
    let spans = h.spans();
    let reasons = |name: &str| str_array_attr(find(&spans, name), k::GEN_AI_RESPONSE_FINISH_REASONS);
    assert_eq!(reasons("json"), vec!["stop", "length"]);
    assert_eq!(reasons("plain"), vec!["stop"]);
    assert_eq!(reasons("broken"), vec![r#"["stop"#]);
    assert_eq!(reasons("chat setter"), vec!["tool_calls"]);
}

#[test]
fn semconv_token_keys_both_ways() {
    let h = Harness::new();
    h.run(|| {
        llm_span!(provider = "anthropic", model = "ours").set_tokens(Tokens {
            input: 2000,
            output: 300,
            cache_read: 1500,
            cache_write: 200,
            reasoning: 120,
            input_counting: InputCounting::ExcludesCache,
            ..Default::default()
        });
        tracing::info_span!(
            "theirs",
            gen_ai.provider.name = "openai",
            gen_ai.usage.input_tokens = 900,
            gen_ai.usage.output_tokens = 50,
            gen_ai.usage.cache_read.input_tokens = 800,
            gen_ai.usage.cache_creation.input_tokens = 40,
        )
        .in_scope(|| {});
    });
    let spans = h.spans();
    let ours = find(&spans, "chat ours");
    assert_eq!(int_attr(ours, k::USAGE_CACHE_READ_TOKENS), 1500);
    assert_eq!(int_attr(ours, k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS), 1500);
    assert_eq!(int_attr(ours, k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS), 200);
    assert_eq!(int_attr(ours, k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS), 120);
    let theirs = find(&spans, "theirs");
    // Their input includes the cache (semconv): botanu's includes-cache key only, never the excludes-cache
    // ones (`cache_read_tokens`, `cache_write_tokens`), which would make a re-pricer count them twice.
    assert_eq!(int_attr(theirs, k::USAGE_CACHED_TOKENS), 800);
    assert_absent(theirs, k::USAGE_CACHE_READ_TOKENS);
    assert_absent(theirs, k::USAGE_CACHE_WRITE_TOKENS);
    assert_eq!(int_attr(theirs, k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS), 40);
}

#[test]
fn registry_span_id_reuse_never_leaks_state() {
    let h = Harness::new();
    h.run(|| {
        for i in 0..500 {
            if i % 2 == 0 {
                let span = llm_span!(provider = "openai", model = "even", customer_note = "only-even");
                span.add_metadata("secret_sauce", "only-even").set_error_type("E", "only-even");
                drop(span);
                // A remote parent on a plain span must not outlive it either.
                let plain = tracing::info_span!("plain");
                let remote = botanu::propagation::extract(&HashMap::from([(
                    "traceparent".to_owned(),
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
                )]));
                plain.set_remote_parent(&remote, botanu::propagation::RunRelation::Continue);
            } else {
                tracing::info_span!("plain").in_scope(|| {
                    llm_span!(provider = "openai", model = "odd");
                });
            }
        }
    });
    let spans = h.spans();
    let odd = find_all(&spans, "chat odd");
    assert_eq!(odd.len(), 250);
    for span in odd {
        assert_absent(span, "customer_note");
        assert_absent(span, "botanu.secret_sauce");
        assert!(!is_error(span));
        assert!(is_root(span), "the remote parent of a closed span leaked");
        assert_ne!(span.span_context.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }
}

// === status and errors: Unset on success, ERROR only on the span's own evidence ===

#[cfg(feature = "testing")]
#[test]
fn success_is_unset_for_all_but_runs_and_no_evidence_is_unknown() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "statuses").in_scope(|| {
            step_span!("work").in_scope(|| {
                llm_span!(provider = "openai", model = "answered").set_tokens(Tokens {
                    input: 10,
                    output: 2,
                    ..Default::default()
                });
                llm_span!(provider = "openai", model = "silent").in_scope(|| {});
                db_span!(system = "postgres", operation = "select").in_scope(|| {});
                tracing::info_span!("foreign.call", gen_ai.provider.name = "openai", gen_ai.request.model = "f")
                    .in_scope(|| {});
            });
        });
    });
    let spans = h.spans();
    assert_eq!(find(&spans, "botanu.run/statuses").status, Status::Ok, "a run says how it ended");
    for name in ["botanu.step/work", "chat answered", "chat silent", "db.postgresql.select", "foreign.call"] {
        assert_eq!(find(&spans, name).status, Status::Unset, "{name}");
    }
    let attempts = attempts_by_status(&h.metrics());
    assert_eq!(attempts.get(m::STATUS_SUCCESS), Some(&1), "{attempts:?}");
    assert_eq!(attempts.get(m::STATUS_UNKNOWN), Some(&2), "the silent call and the foreign one: {attempts:?}");
    assert_eq!(attempts.get(m::STATUS_ERROR), None, "{attempts:?}");
}

#[cfg(feature = "testing")]
#[test]
fn otel_status_code_and_description_set_the_status_and_are_not_exported() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "otel-status").in_scope(|| {
            let failed = tracing::info_span!(
                "client.failed",
                gen_ai.provider.name = "openai",
                gen_ai.request.model = "m",
                otel.status_code = tracing::field::Empty,
                otel.status_description = tracing::field::Empty,
                error.type = tracing::field::Empty,
                otel.scope.name = "some-lib",
            );
            // Status first, error type after (genai's order): the type still names the failure.
            failed.record("otel.status_code", "error");
            failed.record("otel.status_description", "quota exhausted");
            failed.record("error.type", "429");
            drop(failed);
            tracing::info_span!("client.ok", gen_ai.provider.name = "openai", otel.status_code = "OK").in_scope(|| {});
            tracing::info_span!("client.bare_error", db.system = "postgres", otel.status_code = "error")
                .in_scope(|| {});
        });
    });
    let spans = h.spans();
    let failed = find(&spans, "client.failed");
    assert_eq!(failed.status, Status::error("quota exhausted"));
    assert_eq!(str_attr(failed, k::ERROR_TYPE), "429");
    let ex = one_event(failed, k::EVENT_EXCEPTION);
    assert_eq!(event_str(ex, k::EXCEPTION_TYPE), "429");
    assert_eq!(event_str(ex, k::EXCEPTION_MESSAGE), "quota exhausted");
    assert_eq!(find(&spans, "client.ok").status, Status::Ok, "a span that says OK itself is OK");
    let bare = find(&spans, "client.bare_error");
    assert!(is_error(bare));
    assert_eq!(str_attr(bare, k::ERROR_TYPE), "error");
    assert_eq!(str_attr(bare, k::DATA_ERROR), "error");
    for span in &spans {
        assert!(
            span.attributes.iter().all(|kv| !kv.key.as_str().starts_with("otel.")),
            "{}: {:?}",
            span.name,
            span.attributes
        );
    }
    let attempts = attempts_by_status(&h.metrics());
    assert_eq!(attempts.get(m::STATUS_ERROR), Some(&1), "{attempts:?}");
    assert_eq!(attempts.get(m::STATUS_SUCCESS), Some(&1), "otel.status_code = ok is evidence: {attempts:?}");
}

#[test]
fn an_error_event_fails_the_span_of_its_own_crate_or_its_explicit_parent() {
    let h = Harness::new();
    h.run(|| {
        let run = run_span!(workflow = "events");
        run.in_scope(|| {
            step_span!("own").in_scope(|| tracing::error!("my own failure"));
            step_span!("explicit")
                .in_scope(|| tracing::warn!(parent: &run, error.type = "Late", "reported on the run"));
        });
    });
    let spans = h.spans();
    let own = find(&spans, "botanu.step/own");
    assert!(is_error(own));
    assert_eq!(event_str(one_event(own, k::EVENT_EXCEPTION), k::EXCEPTION_MESSAGE), "my own failure");
    let run = find(&spans, "botanu.run/events");
    assert!(is_error(run), "an explicit parent is the span's own work");
    assert_eq!(str_attr(run, k::ERROR_TYPE), "Late");
    assert_eq!(find(&spans, "botanu.step/explicit").status, Status::Unset);
}

#[test]
fn error_attributes_hold_the_bounded_type_name_and_the_message_only_the_exception() {
    let h = Harness::new();
    let long_type = "E".repeat(300);
    h.run(|| {
        db_span!(system = "postgres", operation = "select").set_error_type("StatementTimeout", "took 30s on t1");
        storage_span!(system = "s3", operation = "get").set_error_type(&long_type, "gone");
        messaging_span!(system = "sqs", operation = "send", destination = "q")
            .set_error(&std::io::Error::other("broker went away"));
    });
    let spans = h.spans();
    let db = find(&spans, "db.postgresql.select");
    assert_eq!(str_attr(db, k::DATA_ERROR), "StatementTimeout");
    assert_eq!(event_str(one_event(db, k::EVENT_EXCEPTION), k::EXCEPTION_MESSAGE), "took 30s on t1");
    assert!(db.attributes.iter().all(|kv| kv.value.as_str() != "took 30s on t1"));
    let storage = find(&spans, "storage.s3.get");
    assert_eq!(str_attr(storage, k::STORAGE_ERROR), "E".repeat(128), "bounded");
    let messaging = find(&spans, "messaging.sqs.send");
    assert_eq!(str_attr(messaging, k::MESSAGING_ERROR), "Error");
}

#[cfg(feature = "testing")]
#[test]
fn a_tool_without_a_result_is_not_claimed_successful() {
    let h = Harness::new();
    h.run(|| {
        tool_span!(name = "silent").in_scope(|| {});
        tool_span!(name = "done").set_result(ToolResult { items_returned: 1, ..Default::default() });
    });
    let spans = h.spans();
    assert_absent(find(&spans, "execute_tool silent"), k::TOOL_SUCCESS);
    assert!(bool_attr(find(&spans, "execute_tool done"), k::TOOL_SUCCESS));
    let rms = h.metrics();
    let mut statuses = BTreeMap::new();
    for point in find_metric(&rms, m::TOOL_EXECUTIONS).map(|series| series.points()).unwrap_or_default() {
        let attrs = point_attrs(&point);
        statuses.insert(attrs[k::GEN_AI_TOOL_NAME].clone(), attrs[m::STATUS].clone());
    }
    assert_eq!(statuses.get("silent").map(String::as_str), Some(m::STATUS_UNKNOWN), "{statuses:?}");
    assert_eq!(statuses.get("done").map(String::as_str), Some(m::STATUS_SUCCESS), "{statuses:?}");
}
