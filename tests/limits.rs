//! Hostile input and bounded memory (issue 18): huge strings, event floods (a run open for a million
//! events), attribute floods, panicking `Debug`/`Display`, NaN and out-of-range numbers, recording from
//! other threads and after close, unbounded metric values and invisible characters in inbound names.
//! Everything is asserted on the exported spans and metrics.
#[cfg(feature = "grpc")]
#[path = "support/collector.rs"]
mod collector;
mod common;

#[cfg(feature = "testing")]
use std::collections::BTreeSet;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use botanu::prelude::*;
use botanu::propagation;
#[cfg(feature = "testing")]
use botanu::semconv::metrics as m;
use botanu::semconv::{self as k, propagation as p};
use common::*;
use opentelemetry::trace::Status;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;

/// The cut every exported string gets (README "Reliability").
const CAP: usize = 16 * 1024;
/// The per-span budget of span event bytes (README "Reliability").
const EVENT_BUDGET: usize = 256 * 1024;

fn value_len(v: &Value) -> usize {
    match v {
        Value::String(s) => s.as_str().len(),
        Value::Array(opentelemetry::Array::String(items)) => items.iter().map(|s| s.as_str().len()).sum(),
        _ => 8,
    }
}

/// Every string a span carries to the wire: name, attribute values, event names and attribute values,
/// status description.
fn strings(span: &SpanData) -> Vec<(String, usize)> {
    let mut out = vec![("<name>".to_owned(), span.name.len())];
    for kv in &span.attributes {
        let key: String = kv.key.as_str().chars().take(40).collect();
        out.push((format!("<key {key}>"), kv.key.as_str().len()));
        out.push((key, value_len(&kv.value)));
    }
    for e in span.events.iter() {
        out.push((format!("<event {}>", &e.name[..e.name.len().min(20)]), e.name.len()));
        out.extend(e.attributes.iter().map(|kv| (format!("event.{}", kv.key), value_len(&kv.value))));
    }
    if let Status::Error { description } = &span.status {
        out.push(("<status>".to_owned(), description.len()));
    }
    out
}

/// What a span weighs on the wire, roughly: its strings (keys included) plus 16 bytes per value.
fn weight(span: &SpanData) -> usize {
    let attrs: usize = span.attributes.iter().map(|kv| kv.key.as_str().len() + value_len(&kv.value) + 16).sum();
    let events: usize = span
        .events
        .iter()
        .map(|e| {
            e.name.len()
                + e.attributes.iter().map(|kv| kv.key.as_str().len() + value_len(&kv.value) + 16).sum::<usize>()
        })
        .sum();
    span.name.len() + attrs + events
}

fn assert_capped(span: &SpanData) {
    for (what, len) in strings(span) {
        assert!(len <= CAP, "{what} of {:?} is {len} bytes", &span.name[..span.name.len().min(40)]);
    }
}

#[test]
fn every_exported_string_is_cut_to_16_kib() {
    // Words, so the scrubber finds places to cut (a single 10 MiB token would be hidden whole).
    let huge = "x ".repeat(5 << 20);
    let h = Harness::with(|b| b.with_export_all_spans(true));
    h.run(|| {
        let llm = llm_span!(provider = "openai", model = "gpt-4o");
        llm.in_scope(|| {
            tracing::info!("{huge}");
            tracing::info!(blob = %huge, text = huge.as_str(), "fields");
        });
        llm.set_error_type(&format!("Type{huge}"), &format!("message {huge}"));
        llm.add_metadata(&huge, "a huge key");
        drop(llm);
        // An error event on a data span: the exception message and `botanu.data.error`.
        db_span!(system = "postgresql", operation = "SELECT").in_scope(|| tracing::error!("failed: {huge}"));
        // `otel.name` on a span botanu exports.
        tracing::info_span!("renamed", otel.name = huge.as_str()).in_scope(|| {});
        tool_span!(name = "search").set_error(&std::io::Error::other(huge.clone()));
    });
    let spans = h.spans();
    assert_eq!(spans.len(), 4, "{:?}", spans.iter().map(|s| s.name.len()).collect::<Vec<_>>());
    for span in &spans {
        assert_capped(span);
    }
    let llm = find(&spans, "chat gpt-4o");
    assert_eq!(str_attr(llm, k::ERROR_TYPE).len(), CAP);
    let exception = one_event(llm, k::EVENT_EXCEPTION);
    assert!(event_str(exception, k::EXCEPTION_MESSAGE).starts_with("message x x"));
    assert!(llm.events.iter().any(|e| e.name.len() == CAP), "the message event is kept, cut");
    let fields = llm.events.iter().find(|e| e.name == "fields").expect("fields event");
    assert_eq!(event_str(fields, "blob").len(), CAP);
    assert_eq!(event_str(fields, "text").len(), CAP);
    let db = find(&spans, "db.postgresql.select");
    assert!(is_error(db));
    assert!(event_str(one_event(db, k::EVENT_EXCEPTION), k::EXCEPTION_MESSAGE).starts_with("failed: x x"));
    assert!(attr(db, k::DATA_ERROR).is_some());
    let renamed = spans.iter().find(|s| s.name.starts_with("x x")).expect("the otel.name span");
    assert_eq!(renamed.name.len(), CAP);
    let tool = find(&spans, "execute_tool search");
    assert!(is_error(tool));
}

#[test]
fn a_huge_adversarial_message_costs_the_cap_not_its_size() {
    // Dense scrubber triggers; 32 MiB of them would take seconds to scrub whole in a debug build.
    let hostile = "1-".repeat(16 << 20);
    let h = Harness::new();
    let elapsed = h.run(|| {
        llm_span!(provider = "openai", model = "m").in_scope(|| {
            let start = Instant::now();
            tracing::info!("{hostile}");
            tracing::warn!(error.type = "Hostile", "{hostile}");
            start.elapsed()
        })
    });
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?} on the application thread");
    let spans = h.spans();
    assert_capped(find(&spans, "chat m"));
}

#[test]
fn a_token_run_across_the_cap_is_hidden_whole_not_cut_in_two() {
    // A long JWT-looking run starts just before the cap and ends past the scrubber's look-ahead: the
    // message must not be taken to end inside it (which would show its start in clear).
    let before = "a ".repeat(8_100);
    let token = format!("eyJ{}.eyJ{}.{}", "A".repeat(3_000), "B".repeat(100), "sig");
    let message = format!("{before}{token}{}", " tail".repeat(1_000_000));
    let h = Harness::new();
    h.run(|| {
        llm_span!(provider = "openai", model = "m").in_scope(|| {
            tracing::info!("{message}");
            tracing::error!("{message}");
        })
    });
    let spans = h.spans();
    let span = find(&spans, "chat m");
    let exception = event_str(one_event(span, k::EVENT_EXCEPTION), k::EXCEPTION_MESSAGE);
    let event = span.events.iter().find(|e| e.name.starts_with("a a")).expect("the message event");
    for text in [exception, &*event.name] {
        assert!(!text.contains("eyJ"), "a fragment of the token is visible");
        assert!(text.starts_with("a a a") && text.len() <= CAP, "{}", text.len());
    }
}

#[test]
fn span_events_have_a_byte_budget_and_what_is_dropped_is_counted() {
    let mib = "e".repeat(1 << 20);
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "noisy").in_scope(|| {
            for i in 0..128 {
                tracing::info!(i, payload = %mib, "tick");
            }
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/noisy");
    let ticks = run.events.iter().filter(|e| e.name == "tick").count();
    let tick_bytes: usize = run
        .events
        .iter()
        .filter(|e| e.name == "tick")
        .map(|e| {
            e.name.len() + e.attributes.iter().map(|kv| kv.key.as_str().len() + value_len(&kv.value)).sum::<usize>()
        })
        .sum();
    assert!(tick_bytes <= EVENT_BUDGET, "{tick_bytes} bytes of events");
    assert!(ticks >= 10, "the budget holds more than a handful of capped events: {ticks}");
    assert_eq!(int_attr(run, k::DROPPED_EVENTS) + ticks as i64, 128);
    assert_eq!(event_names(run).last().map(String::as_str), Some(k::EVENT_RUN_COMPLETED));
}

#[test]
fn one_huge_span_stays_small_beside_its_neighbours() {
    let huge = "h".repeat(10 << 20);
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "batch").in_scope(|| {
            for i in 0..199 {
                llm_span!(provider = "openai", model = %format!("m{i}"));
            }
            let span = llm_span!(provider = "openai", model = "huge");
            span.add_metadata("blob", huge.as_str());
            span.in_scope(|| {
                for _ in 0..128 {
                    tracing::info!(payload = %huge, "big");
                }
            });
        });
    });
    let spans = h.spans();
    assert_eq!(spans.len(), 201, "every neighbour is exported");
    let big = find(&spans, "chat huge");
    assert!(weight(big) < 300 * 1024, "the huge span weighs {} bytes", weight(big));
    let total: usize = spans.iter().map(weight).sum();
    // One batch of all of them fits in a collector's default gRPC message limit (4 MiB).
    assert!(total < 1 << 20, "the batch weighs {total} bytes");
}

#[test]
fn set_error_with_a_panicking_display_neither_panics_nor_loses_the_span() {
    let h = Harness::new();
    h.run(|| {
        let span = db_span!(system = "postgresql", operation = "SELECT");
        span.set_error(&Treacherous);
        tracing::info_span!("carrier").in_scope(|| {});
        let err: &(dyn std::error::Error + 'static) = &Treacherous;
        tool_span!(name = "t").in_scope(|| tracing::error!(error = err, "tool failed"));
    });
    let spans = h.spans();
    let db = find(&spans, "db.postgresql.select");
    assert!(is_error(db));
    assert_eq!(str_attr(db, k::ERROR_TYPE), "Treacherous");
    assert_eq!(event_str(one_event(db, k::EVENT_EXCEPTION), k::EXCEPTION_MESSAGE), "<Display panicked>");
    assert!(is_error(find(&spans, "execute_tool t")));
}

#[cfg(feature = "testing")]
fn metric_values(h: &Harness, name: &str, key: &str) -> (BTreeSet<String>, u64) {
    let rms = h.metrics();
    let metric = common::metric(&rms, name);
    // A histogram counts its recordings, a counter its value.
    let histogram = is_histogram(&metric);
    let mut values = BTreeSet::new();
    let mut count = 0;
    for p in metric.points() {
        count += if histogram { p.count } else { p.sum as u64 };
        values.extend(p.attributes.iter().filter(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string()));
    }
    (values, count)
}

#[cfg(feature = "testing")]
#[test]
fn model_tool_and_vendor_metric_values_are_capped_like_the_workflow() {
    let h = Harness::new();
    h.run(|| {
        for i in 0..300 {
            llm_span!(provider = %format!("vendor-{i}"), model = %format!("model-{i}"));
            tool_span!(name = %format!("tool-{i}"));
            db_span!(system = %format!("store-{i}"), operation = "SELECT")
                .set_result(DbResult { rows_returned: 1, ..Default::default() });
        }
    });
    for (metric, key) in [
        (m::OPERATION_DURATION, k::GEN_AI_REQUEST_MODEL),
        (m::OPERATION_DURATION, k::GEN_AI_PROVIDER_NAME),
        (m::TOOL_EXECUTIONS, k::GEN_AI_TOOL_NAME),
        (m::DATA_ROWS_RETURNED, k::DB_SYSTEM),
    ] {
        let (values, count) = metric_values(&h, metric, key);
        assert_eq!(count, 300, "{metric}: every measurement is kept");
        assert_eq!(values.len(), 257, "{metric}/{key}: 256 values and _other");
        assert!(values.contains("_other"), "{metric}/{key}");
    }
}

#[test]
fn inbound_names_with_bidi_or_zero_width_characters_are_rejected() {
    let run_id = "01901234-5678-7fff-bfff-ffffffffffff";
    for hidden in ["%E2%80%AE", "%E2%80%8B", "%E2%81%A6", "%EF%BB%BF"] {
        let baggage = format!("botanu.run_id={run_id},botanu.workflow=pay{hidden}ments");
        let remote = propagation::extract(&HashMap::from([(p::BAGGAGE.to_owned(), baggage)]));
        assert!(remote.run().is_none(), "{hidden}: a forged-looking workflow is no run context");
    }
    for hidden in ['\u{202E}', '\u{200D}', '\u{2069}'] {
        let headers = HashMap::from([
            (p::HEADER_RUN_ID.to_owned(), run_id.to_owned()),
            (p::HEADER_WORKFLOW.to_owned(), format!("check{hidden}out")),
        ]);
        assert!(propagation::extract(&headers).run().is_none(), "{hidden:?}");
    }
    // What a run continued from such headers exports: its own workflow, never the forged one.
    let headers = HashMap::from([
        (p::HEADER_RUN_ID.to_owned(), run_id.to_owned()),
        (p::HEADER_WORKFLOW.to_owned(), "check\u{202E}out".to_owned()),
    ]);
    let h = Harness::new();
    h.run(|| {
        let run = run_span!(workflow = "api");
        run.set_remote_parent(&propagation::extract(&headers), propagation::RunRelation::Continue);
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/api");
    assert_eq!(str_attr(run, k::WORKFLOW), "api");
    assert_ne!(str_attr(run, k::RUN_ID), run_id);
}

/// Over gRPC a collector refuses a message above 4 MiB, which used to fail the whole batch of a span
/// with a 10 MiB event. After the cuts every neighbour arrives. Against the real collector.
#[cfg(feature = "grpc")]
#[test]
fn one_huge_span_does_not_fail_its_batch_over_grpc() {
    use botanu::config::{Config, Protocol};
    use tracing_subscriber::prelude::*;

    let Some(collector) = collector::Collector::start() else { return };
    let config = Config::default()
        .with_service_name("botanu-limits")
        .with_protocol(Protocol::Grpc)
        .with_endpoint(collector.grpc_endpoint())
        .with_schedule_delay(Duration::from_millis(100))
        .with_export_timeout(Duration::from_secs(10));
    let (layer, guard) = config.build().expect("pipeline builds");
    let huge = "g".repeat(10 << 20);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        run_span!(workflow = "grpc-batch").in_scope(|| {
            for i in 0..199 {
                llm_span!(provider = "openai", model = %format!("grpc-{i}"));
            }
            llm_span!(provider = "openai", model = "grpc-huge", blob = huge.as_str())
                .in_scope(|| tracing::info!(payload = %huge, "big"));
        });
    });
    let stats = guard.export_counter();
    guard.shutdown().expect("shutdown");
    assert_eq!(stats.counts().failed, 0, "no batch failed");
    let arrived = collector.wait_for(
        |out| {
            out.contains("Name           : chat grpc-huge")
                && (0..199).all(|i| out.contains(&format!("Name           : chat grpc-{i}\n")))
        },
        Duration::from_secs(20),
    );
    assert!(arrived, "not every span arrived");
}

#[test]
fn a_run_open_for_a_million_events_stays_bounded() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "long").in_scope(|| {
            for i in 0..1_000_000u32 {
                tracing::info!(i, "tick");
            }
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/long");
    assert!(run.events.len() <= botanu::DEFAULT_MAX_EVENTS_PER_SPAN + 2, "{}", run.events.len());
    let kept_ticks = run.events.iter().filter(|e| e.name == "tick").count() as i64;
    assert_eq!(int_attr(run, k::DROPPED_EVENTS) + kept_ticks, 1_000_000);
    assert_eq!(event_names(run).last().map(String::as_str), Some(k::EVENT_RUN_COMPLETED));
}

#[test]
fn attributes_and_values_are_bounded_per_span() {
    let h = Harness::new();
    h.run(|| {
        let span = llm_span!(provider = "openai", model = "m");
        for i in 0..10_000 {
            span.add_metadata(&format!("k{i}"), i);
        }
        span.add_metadata("huge", "é".repeat(5_000_000));
    });
    let spans = h.spans();
    let span = find(&spans, "chat m");
    assert!(span.attributes.len() <= 256, "{}", span.attributes.len());
    assert!(int_attr(span, k::DROPPED_ATTRIBUTES) > 9_000);
    // The contract's keys survive the flood.
    assert_eq!(str_attr(span, k::GEN_AI_PROVIDER_NAME), "openai");
    let h2 = Harness::new();
    h2.run(|| {
        let span = llm_span!(provider = "openai", model = "m2");
        span.add_metadata("huge", "é".repeat(5_000_000));
    });
    let spans = h2.spans();
    let span = find(&spans, "chat m2");
    let huge = str_attr(span, "botanu.huge");
    assert!(huge.len() <= 16 * 1024 && huge.chars().all(|c| c == 'é'), "cut on a char boundary");
    assert_eq!(str_array_attr(span, k::TRUNCATED_ATTRIBUTES), vec!["botanu.huge"]);
}

#[test]
fn hostile_field_values_neither_panic_nor_lose_valid_data() {
    let h = Harness::new();
    let other_thread_span = h.run(|| {
        let span = llm_span!(provider = "openai", model = "hostile", bad = ?Booby, nan = f64::NAN, inf = f64::INFINITY, big = u64::MAX, text = %"x".repeat(10_000_000));
        span.in_scope(|| tracing::info!(boom = ?Booby, "event with a bad field"));
        run_span!(workflow = "").in_scope(|| {});
        run_span!(workflow = "日本語のワークフロー").in_scope(|| {});
        llm_span!(provider = "openai", model = "threads")
    });
    // Recording from another thread.
    let d = h.dispatch.clone();
    let moved = other_thread_span.clone();
    std::thread::spawn(move || {
        tracing::dispatcher::with_default(&d, || {
            moved.set_tokens(Tokens { input: 7, output: 8, ..Default::default() });
        })
    })
    .join()
    .expect("thread");
    // Recording after close, through the raw dispatcher with the closed span's id.
    let (id, meta) = (other_thread_span.id().expect("enabled"), other_thread_span.metadata().expect("meta"));
    drop(other_thread_span);
    let field = meta.fields().field(k::GEN_AI_USAGE_INPUT_TOKENS).expect("declared");
    let value: &dyn tracing::Value = &99i64;
    let values = [(&field, Some(value))];
    let value_set = meta.fields().value_set(&values);
    h.dispatch.record(&id, &tracing::span::Record::new(&value_set));

    let spans = h.spans();
    let hostile = find(&spans, "chat hostile");
    assert_eq!(str_attr(hostile, "bad"), "<Debug panicked>");
    assert!(f64_attr(hostile, "nan").is_nan());
    assert_eq!(f64_attr(hostile, "inf"), f64::INFINITY);
    assert_eq!(int_attr(hostile, "big"), i64::MAX);
    assert_eq!(str_attr(hostile, "text").len(), 16 * 1024);
    assert_eq!(str_attr(hostile, k::GEN_AI_REQUEST_MODEL), "hostile");
    assert_eq!(event_names(hostile), vec!["event with a bad field"]);
    find(&spans, "botanu.run/");
    find(&spans, "botanu.run/日本語のワークフロー");
    let threads = find(&spans, "chat threads");
    assert_eq!(
        (int_attr(threads, k::GEN_AI_USAGE_INPUT_TOKENS), int_attr(threads, k::GEN_AI_USAGE_OUTPUT_TOKENS)),
        (7, 8)
    );
}
