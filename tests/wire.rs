//! The wire where it differs from what botanu exported before issue 12: status Unset on success and
//! ERROR only on the span's own evidence, `otel.status_*`, the reference SDK's values (run status,
//! outcome event keys, error type names, `client_request_id`), foreign span names, finish reasons as
//! arrays, semconv token keys, and model calls only in the model-call metrics. Read from exported data.

mod common;

use std::collections::BTreeMap;

use botanu::prelude::*;
use botanu::semconv::{self as k, metrics as m};
use common::*;
use opentelemetry::trace::Status;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};

/// `botanu.gen_ai.attempts` by its `status` attribute.
fn attempts_by_status(rms: &[ResourceMetrics]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    if let Some(rm) = rms.last() {
        for metric in rm.scope_metrics().flat_map(|s| s.metrics()).filter(|x| x.name() == m::ATTEMPTS) {
            if let AggregatedMetrics::U64(MetricData::Sum(sum)) = metric.data() {
                for dp in sum.data_points() {
                    let status = dp.attributes().find(|kv| kv.key.as_str() == m::STATUS).map(|kv| kv.value.to_string());
                    *out.entry(status.unwrap_or_default()).or_insert(0) += dp.value();
                }
            }
        }
    }
    out
}

/// Names of the metrics that have at least one data point.
fn metric_names(rms: &[ResourceMetrics]) -> Vec<String> {
    rms.last()
        .map(|rm| rm.scope_metrics().flat_map(|s| s.metrics()).map(|x| x.name().to_owned()).collect())
        .unwrap_or_default()
}

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
fn run_status_is_failure_or_the_outcome() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "failing").in_scope(|| tracing::error!("boom"));
        run_span!(workflow = "partial").in_scope(|| {
            botanu::emit_outcome("partial", botanu::Outcome::default()).expect("a known status");
        });
        run_span!(workflow = "timed-out").in_scope(|| {
            botanu::emit_outcome("timeout", botanu::Outcome::default()).expect("a known status");
        });
    });
    let spans = h.spans();
    let status =
        |name: &str| event_str(one_event(find(&spans, name), k::EVENT_RUN_COMPLETED), k::RUN_EVENT_STATUS).to_owned();
    assert_eq!(status("botanu.run/failing"), "failure");
    assert_eq!(status("botanu.run/partial"), "partial");
    assert_eq!(status("botanu.run/timed-out"), "timeout");
}

#[test]
fn outcome_event_uses_the_reference_keys() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "outcome-keys").in_scope(|| {
            botanu::emit_outcome(
                "failed",
                botanu::Outcome {
                    value_type: Some("tickets".into()),
                    value_amount: Some(2.0),
                    confidence: Some(0.5),
                    reason: Some("escalated".into()),
                    error_type: Some("Escalation".into()),
                    ..Default::default()
                },
            )
            .expect("a known status");
            botanu::emit_outcome("success", botanu::Outcome::default()).expect("a known status");
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/outcome-keys");
    let events = events_named(run, k::EVENT_OUTCOME_EMITTED);
    assert_eq!(events.len(), 2);
    let full = events[0];
    assert_eq!(event_str(full, "value_type"), "tickets");
    assert_eq!(event_f64(full, "value_amount"), 2.0);
    assert_eq!(event_f64(full, "confidence"), 0.5);
    assert_eq!(event_str(full, "reason"), "escalated");
    assert_eq!(event_str(full, "error_type"), "Escalation");
    assert_eq!(event_str(full, "status"), "failed");
    assert!(full.attributes.iter().all(|kv| !kv.key.as_str().starts_with("botanu.")), "{:?}", full.attributes);
    // Only what was given.
    let bare = events[1];
    let keys: Vec<_> = bare.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, vec!["status"]);
    // The span attributes keep the long keys.
    assert_eq!(str_attr(run, k::OUTCOME_VALUE_TYPE), "tickets");
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
    assert_eq!(int_attr(theirs, k::USAGE_CACHED_TOKENS), 800);
    assert_eq!(int_attr(theirs, k::USAGE_CACHE_READ_TOKENS), 800);
    assert_eq!(int_attr(theirs, k::USAGE_CACHE_WRITE_TOKENS), 40);
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
    if let Some(rm) = rms.last() {
        for metric in rm.scope_metrics().flat_map(|s| s.metrics()).filter(|x| x.name() == m::TOOL_EXECUTIONS) {
            if let AggregatedMetrics::U64(MetricData::Sum(sum)) = metric.data() {
                for dp in sum.data_points() {
                    let attrs: BTreeMap<String, String> =
                        dp.attributes().map(|kv| (kv.key.to_string(), kv.value.to_string())).collect();
                    statuses.insert(attrs[k::GEN_AI_TOOL_NAME].clone(), attrs[m::STATUS].clone());
                }
            }
        }
    }
    assert_eq!(statuses.get("silent").map(String::as_str), Some(m::STATUS_UNKNOWN), "{statuses:?}");
    assert_eq!(statuses.get("done").map(String::as_str), Some(m::STATUS_SUCCESS), "{statuses:?}");
}
