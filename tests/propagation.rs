//! Propagation across services and queues: inject/extract round trips in both modes and carriers,
//! continuing a run and starting a child run, the trust policy, hostile inbound headers, and a queue
//! between two threads. Everything is asserted on exported spans.
mod common;

use std::collections::{BTreeMap, HashMap};

use botanu::config::PropagationMode;
use botanu::prelude::*;
use botanu::propagation::{self, RunRelation};
use botanu::semconv::{self as k, propagation as p};
use common::*;
use opentelemetry_sdk::trace::SpanData;

/// Runs a producer run in `h` and returns (its headers, injected inside `llm`'s scope).
fn produce(h: &Harness, carrier: &mut dyn propagation::CarrierMut) {
    h.run(|| {
        run_span!(workflow = "ingest", event_id = "E-1", customer_id = "acme", tenant_id = "t-1").in_scope(|| {
            let call = messaging_span!(system = "sqs", operation = "publish", destination = "q");
            call.in_scope(|| propagation::inject(carrier));
        });
    });
}

fn producer_publish(spans: &[SpanData]) -> &SpanData {
    find(spans, "messaging.sqs.publish")
}

#[test]
fn lean_headers_carry_trace_context_and_run_id_and_workflow_only() {
    let h = Harness::new();
    let mut headers = HashMap::new();
    produce(&h, &mut headers);
    let spans = h.spans();
    let publish = producer_publish(&spans);
    let run = find(&spans, "botanu.run/ingest");
    let tp = &headers[p::TRACEPARENT];
    assert_eq!(tp, &format!("00-{}-{}-01", publish.span_context.trace_id(), publish.span_context.span_id()));
    let baggage = &headers[p::BAGGAGE];
    assert_eq!(baggage, &format!("botanu.run_id={},botanu.workflow=ingest", str_attr(run, k::RUN_ID)));
    assert!(baggage.len() <= 120, "lean baggage is {} bytes", baggage.len());
}

#[test]
fn full_mode_carries_every_run_field() {
    let h = Harness::with(|b| b.with_propagation_mode(PropagationMode::Full));
    let mut headers = BTreeMap::new();
    h.run(|| {
        run_span!(workflow = "outer").in_scope(|| {
            run_span!(
                workflow = "ingest",
                event_id = "E-1",
                customer_id = "acme",
                tenant_id = "t-1",
                attempt = 2,
                retry_of_run_id = "01901234-5678-7fff-bfff-ffffffffffff",
                deadline = 1_900_000_000_000i64
            )
            .in_scope(|| propagation::inject(&mut headers));
        });
    });
    let spans = h.spans();
    let inner = find(&spans, "botanu.run/ingest");
    let outer = find(&spans, "botanu.run/outer");
    let remote = propagation::extract(&headers);
    let run = remote.run().expect("run");
    assert_eq!(run.run_id, str_attr(inner, k::RUN_ID));
    assert_eq!(run.workflow, "ingest");
    assert_eq!(run.event_id.as_deref(), Some("E-1"));
    assert_eq!(run.customer_id.as_deref(), Some("acme"));
    assert_eq!(run.tenant_id.as_deref(), Some("t-1"));
    assert_eq!(run.environment.as_deref(), Some("test"));
    assert_eq!(run.parent_run_id.as_deref(), Some(str_attr(outer, k::RUN_ID)));
    assert_eq!(run.root_run_id.as_deref(), Some(str_attr(outer, k::RUN_ID)));
    assert_eq!(run.attempt, 2);
    assert_eq!(run.retry_of_run_id.as_deref(), Some("01901234-5678-7fff-bfff-ffffffffffff"));
    assert_eq!(run.deadline_ms, Some(1_900_000_000_000));
    assert!(!run.cancelled);
}

#[test]
fn a_consumer_continues_the_producers_run_in_its_trace() {
    let h = Harness::new();
    let mut headers = Vec::new();
    produce(&h, &mut headers);
    h.run(|| {
        let remote = propagation::extract(&headers);
        let consume = messaging_span!(system = "sqs", operation = "receive", destination = "q");
        consume.set_remote_parent(&remote, RunRelation::Continue);
        consume.in_scope(|| {
            llm_span!(provider = "openai", model = "gpt-4").set_tokens(Tokens {
                input: 1,
                output: 1,
                ..Default::default()
            });
        });
    });
    let spans = h.spans();
    let publish = producer_publish(&spans);
    let run = find(&spans, "botanu.run/ingest");
    let receive = find(&spans, "messaging.sqs.receive");
    let llm = find(&spans, "chat gpt-4");
    assert!(is_child_of(receive, publish), "consumer span is a child of the producer's span");
    assert!(receive.parent_span_is_remote);
    assert!(is_child_of(llm, receive));
    for span in [receive, llm] {
        assert_eq!(str_attr(span, k::RUN_ID), str_attr(run, k::RUN_ID), "{}", span.name);
        assert_eq!(str_attr(span, k::WORKFLOW), "ingest");
        // Lean mode: neither the event id nor the customer travelled, and none is made up.
        assert_absent(span, k::EVENT_ID);
        assert_absent(span, k::CUSTOMER_ID);
    }
}

#[test]
fn a_consumer_run_can_be_a_child_run_of_the_producer() {
    let h = Harness::new();
    let mut headers = HashMap::new();
    produce(&h, &mut headers);
    h.run(|| {
        let remote = propagation::extract(&headers);
        let run = run_span!(workflow = "enrich", kind = "consumer");
        run.set_remote_parent(&remote, RunRelation::Child);
        run.in_scope(|| {
            llm_span!(provider = "openai", model = "gpt-4");
        });
    });
    let spans = h.spans();
    let producer = find(&spans, "botanu.run/ingest");
    let publish = producer_publish(&spans);
    let child = find(&spans, "botanu.run/enrich");
    let llm = find(&spans, "chat gpt-4");
    assert!(is_child_of(child, publish));
    assert_eq!(kind(child), opentelemetry::trace::SpanKind::Consumer);
    assert_ne!(str_attr(child, k::RUN_ID), str_attr(producer, k::RUN_ID));
    assert!(is_uuid_v7(str_attr(child, k::RUN_ID)));
    assert_eq!(str_attr(child, k::PARENT_RUN_ID), str_attr(producer, k::RUN_ID));
    assert_eq!(str_attr(child, k::ROOT_RUN_ID), str_attr(producer, k::ROOT_RUN_ID));
    assert_eq!(str_attr(llm, k::RUN_ID), str_attr(child, k::RUN_ID));
    assert_eq!(str_attr(llm, k::PARENT_RUN_ID), str_attr(producer, k::RUN_ID));
    let started = child.events.iter().find(|e| e.name == k::EVENT_RUN_STARTED).expect("started");
    assert!(started.attributes.iter().any(|kv| kv.value.as_str() == str_attr(child, k::RUN_ID)));
}

#[test]
fn a_remote_parent_on_a_plain_span_reaches_the_botanu_spans_inside_it() {
    let h = Harness::new();
    let mut headers = HashMap::new();
    produce(&h, &mut headers);
    h.run(|| {
        let handler = tracing::info_span!("handle_message");
        handler.set_remote_parent(&propagation::extract(&headers), RunRelation::Continue);
        handler.in_scope(|| {
            db_span!(system = "postgres", operation = "SELECT");
        });
    });
    let spans = h.spans();
    let db = find(&spans, "db.postgresql.select");
    assert!(is_child_of(db, producer_publish(&spans)));
    assert_eq!(str_attr(db, k::RUN_ID), str_attr(find(&spans, "botanu.run/ingest"), k::RUN_ID));
}

fn forged_full_headers() -> HashMap<String, String> {
    let baggage = "botanu.run_id=01901234-5678-7fff-bfff-ffffffffffff,botanu.workflow=w,botanu.tenant_id=victim,botanu.customer_id=victim-co";
    HashMap::from([(p::BAGGAGE.to_owned(), baggage.to_owned())])
}

#[test]
fn inbound_tenant_and_customer_are_ignored_unless_trusted() {
    for (trust, expect) in [(false, None), (true, Some(("victim", "victim-co")))] {
        let h = Harness::with(|b| b.with_propagation_trust_inbound(trust));
        h.run(|| {
            let run = run_span!(workflow = "api");
            run.set_remote_parent(&propagation::extract(&forged_full_headers()), RunRelation::Continue);
            run.in_scope(|| {
                llm_span!(provider = "openai", model = "m");
            });
        });
        let spans = h.spans();
        for span in &spans {
            // The run id is always honored.
            assert_eq!(str_attr(span, k::RUN_ID), "01901234-5678-7fff-bfff-ffffffffffff");
            match expect {
                None => {
                    assert_absent(span, k::TENANT_ID);
                    assert_absent(span, k::CUSTOMER_ID);
                }
                Some((tenant, customer)) => {
                    assert_eq!(str_attr(span, k::TENANT_ID), tenant);
                    assert_eq!(str_attr(span, k::CUSTOMER_ID), customer);
                }
            }
        }
    }
}

#[test]
fn hostile_inbound_headers_are_bounded_and_skipped() {
    let run_id = "01901234-5678-7fff-bfff-ffffffffffff";
    let cases: Vec<(&str, HashMap<String, String>, Option<&str>)> = vec![
        (
            "oversize",
            HashMap::from([(
                p::BAGGAGE.into(),
                format!("botanu.run_id={run_id},botanu.workflow=w,pad={}", "x".repeat(100_000)),
            )]),
            Some(run_id),
        ),
        (
            "1000 members",
            HashMap::from([(p::BAGGAGE.into(), {
                let mut v: Vec<String> = (0..1000).map(|i| format!("k{i}=v")).collect();
                v.insert(0, format!("botanu.run_id={run_id},botanu.workflow=w"));
                v.join(",")
            })]),
            Some(run_id),
        ),
        (
            "members past the limit are ignored",
            HashMap::from([(p::BAGGAGE.into(), {
                let mut v: Vec<String> = (0..1000).map(|i| format!("k{i}=v")).collect();
                v.push(format!("botanu.run_id={run_id},botanu.workflow=w"));
                v.join(",")
            })]),
            None,
        ),
        (
            "bad percent-encoding in one member",
            HashMap::from([(p::BAGGAGE.into(), format!("x=%ZZ,botanu.run_id={run_id},botanu.workflow=w"))]),
            Some(run_id),
        ),
        (
            "invalid run id",
            HashMap::from([(p::BAGGAGE.into(), "botanu.run_id=not-a-uuid,botanu.workflow=w".into())]),
            None,
        ),
        (
            "control characters in workflow",
            HashMap::from([(p::BAGGAGE.into(), format!("botanu.run_id={run_id},botanu.workflow=a%0D%0Ab"))]),
            None,
        ),
        ("run id without workflow", HashMap::from([(p::BAGGAGE.into(), format!("botanu.run_id={run_id}"))]), None),
        ("garbage traceparent", HashMap::from([(p::TRACEPARENT.into(), "00-zz-zz-01\r\n".into())]), None),
    ];
    for (name, headers, want) in cases {
        let remote = propagation::extract(&headers);
        assert_eq!(remote.run().map(|r| r.run_id.as_str()), want, "{name}");
    }
    let lenient = HashMap::from([(
        p::BAGGAGE.to_owned(),
        format!("botanu.run_id={run_id},botanu.workflow=w,botanu.attempt=lots,botanu.deadline=soon"),
    )]);
    let run = propagation::extract(&lenient).run().cloned().expect("run");
    assert_eq!((run.attempt, run.deadline_ms), (1, None));
}

#[test]
fn injected_values_cannot_inject_headers() {
    let h = Harness::with(|b| b.with_propagation_mode(PropagationMode::Full));
    let mut headers = HashMap::new();
    h.run(|| {
        run_span!(workflow = "evil\r\nX-Injected: 1", customer_id = "a,b;c=d")
            .in_scope(|| propagation::inject(&mut headers));
    });
    for value in headers.values() {
        assert!(!value.contains(['\r', '\n']), "{value:?}");
    }
    let run = propagation::extract(&headers).run().cloned();
    // A workflow with control characters is refused on the way in, whatever the sender did.
    assert!(run.is_none());
}

#[test]
fn http_fallback_headers_and_response_headers() {
    let h = Harness::new();
    let headers = HashMap::from([
        (p::HEADER_RUN_ID.to_owned(), "01901234-5678-7FFF-BFFF-FFFFFFFFFFFF".to_owned()),
        (p::HEADER_WORKFLOW.to_owned(), "checkout".to_owned()),
        (p::HEADER_CUSTOMER_ID.to_owned(), "acme".to_owned()),
    ]);
    let remote = propagation::extract(&headers);
    let inbound = remote.run().expect("fallback run");
    assert_eq!(inbound.run_id, "01901234-5678-7fff-bfff-ffffffffffff");
    assert_eq!(inbound.customer_id.as_deref(), Some("acme"));
    let response = h.run(|| {
        let run = run_span!(workflow = "api");
        run.set_remote_parent(&remote, RunRelation::Continue);
        run.in_scope(propagation::response_headers)
    });
    assert_eq!(
        response,
        vec![
            (p::HEADER_RUN_ID, "01901234-5678-7fff-bfff-ffffffffffff".to_owned()),
            (p::HEADER_WORKFLOW, "checkout".to_owned())
        ]
    );
    assert!(h.run(propagation::response_headers).is_empty(), "no run, no headers");
}

#[test]
fn tracestate_is_passed_on_and_inbound_baggage_entries_are_kept() {
    let h = Harness::new();
    let inbound = HashMap::from([
        (p::TRACEPARENT.to_owned(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00".to_owned()),
        (p::TRACESTATE.to_owned(), "vendor=abc".to_owned()),
        (
            p::BAGGAGE.to_owned(),
            "botanu.run_id=01901234-5678-7fff-bfff-ffffffffffff,botanu.workflow=w,region=eu".to_owned(),
        ),
    ]);
    let mut outbound = HashMap::new();
    let region = h.run(|| {
        let span = step_span!("hop");
        span.set_remote_parent(&propagation::extract(&inbound), RunRelation::Continue);
        span.in_scope(|| {
            propagation::inject(&mut outbound);
            botanu::baggage("region")
        })
    });
    let spans = h.spans();
    let hop = find(&spans, "botanu.step/hop");
    // An unsampled inbound parent still exports: cost data is never sampled away.
    assert_eq!(hop.span_context.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(outbound[p::TRACESTATE], "vendor=abc");
    assert!(outbound[p::BAGGAGE].ends_with(",region=eu"), "{}", outbound[p::BAGGAGE]);
    assert_eq!(region.as_deref(), Some("eu"));
}

#[test]
fn a_queue_between_two_threads_keeps_the_run_and_the_trace() {
    let h = Harness::new();
    let (tx, rx) = std::sync::mpsc::channel::<(Vec<(String, String)>, String)>();
    let producer = {
        let dispatch = h.dispatch.clone();
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                for i in 0..3 {
                    run_span!(workflow = "orders", event_id = %i).in_scope(|| {
                        let publish = messaging_span!(system = "kafka", operation = "publish", destination = "orders");
                        let mut headers = Vec::new();
                        publish.in_scope(|| propagation::inject(&mut headers));
                        publish.set_result(MessagingResult { message_count: 1, ..Default::default() });
                        tx.send((headers, format!("order {i}"))).expect("send");
                    });
                }
            })
        })
    };
    let consumer = {
        let dispatch = h.dispatch.clone();
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                for (headers, _payload) in rx {
                    let consume = messaging_span!(system = "kafka", operation = "consume", destination = "orders");
                    consume.set_remote_parent(&propagation::extract(&headers), RunRelation::Continue);
                    consume.in_scope(|| {
                        llm_span!(provider = "openai", model = "gpt-4");
                    });
                }
            })
        })
    };
    producer.join().expect("producer");
    consumer.join().expect("consumer");
    let spans = h.spans();
    let publishes = find_all(&spans, "messaging.kafka.publish");
    let consumes = find_all(&spans, "messaging.kafka.consume");
    let llms = find_all(&spans, "chat gpt-4");
    assert_eq!((publishes.len(), consumes.len(), llms.len()), (3, 3, 3));
    for consume in &consumes {
        let publish = publishes.iter().find(|p| is_child_of(consume, p)).expect("consume is a child of a publish");
        assert_eq!(str_attr(consume, k::RUN_ID), str_attr(publish, k::RUN_ID));
        let llm = llms.iter().find(|l| is_child_of(l, consume)).expect("llm inside consume");
        assert_eq!(str_attr(llm, k::RUN_ID), str_attr(publish, k::RUN_ID));
        assert_absent(llm, k::EVENT_ID);
    }
}

#[cfg(feature = "http")]
#[test]
fn header_map_carrier_round_trip_and_non_utf8_values() {
    use http::{HeaderMap, HeaderValue};
    let h = Harness::new();
    let mut headers = HeaderMap::new();
    produce(&h, &mut headers);
    let remote = propagation::extract(&headers);
    assert_eq!(remote.run().map(|r| r.workflow.as_str()), Some("ingest"));
    assert!(remote.ids().is_some());
    let mut hostile = HeaderMap::new();
    hostile.insert(
        p::BAGGAGE,
        HeaderValue::from_bytes(b"botanu.run_id=\xff\xfe,botanu.workflow=w").expect("opaque bytes"),
    );
    hostile.insert(p::TRACEPARENT, HeaderValue::from_bytes(b"00-\xff").expect("opaque bytes"));
    let remote = propagation::extract(&hostile);
    assert!(remote.is_empty(), "{remote:?}");
}
