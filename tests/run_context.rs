//! CONTRACT §1 — run context: stamping of every span inside a run, transparency of non-botanu spans,
//! nested runs, and the helpers on the current span (business context, correlation, outcome,
//! current run, baggage).
mod common;

use botanu::prelude::*;
use botanu::{semconv, BusinessContext, Outcome};
use common::*;
use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::SpanData;

/// The run keys every span inside a run carries (parent_run_id only in nested runs; checked there).
const RUN_KEYS: [&str; 6] = [
    semconv::RUN_ID,
    semconv::WORKFLOW,
    semconv::EVENT_ID,
    semconv::CUSTOMER_ID,
    semconv::ENVIRONMENT,
    semconv::TENANT_ID,
];

/// `span` carries `run`'s keys as strings, the given enclosing step (or none), and is in its trace.
#[track_caller]
fn assert_stamped(span: &SpanData, run: &SpanData, step: Option<&str>) {
    for key in RUN_KEYS {
        match attr(run, key) {
            Some(_) => assert_eq!(str_attr(span, key), str_attr(run, key), "{}: {key}", span.name),
            None => assert_absent(span, key),
        }
    }
    for key in [semconv::RUN_ID, semconv::WORKFLOW, semconv::EVENT_ID, semconv::ENVIRONMENT] {
        assert!(attr(span, key).is_some(), "{}: {key} missing", span.name);
    }
    match step {
        Some(step) => assert_eq!(str_attr(span, semconv::STEP), step, "{}: botanu.step", span.name),
        None => assert_absent(span, semconv::STEP),
    }
    assert_eq!(span.span_context.trace_id(), run.span_context.trace_id(), "{}: trace", span.name);
}

#[track_caller]
fn assert_no_run_keys(span: &SpanData) {
    for key in RUN_KEYS.iter().chain(&[semconv::PARENT_RUN_ID, semconv::ROOT_RUN_ID]) {
        assert_absent(span, key);
    }
}

#[tracing::instrument(fields(gen_ai.provider.name = "anthropic", gen_ai.request.model = "claude-3"))]
fn call_claude() {
    tracing::info!("calling claude");
}

fn third_party_openai() {
    tracing::info_span!("openai.chat", gen_ai.system = "OpenAI", gen_ai.request.model = "gpt-4").in_scope(|| {});
}

// ---------------------------------------------------------------------------------------------------
// stamping
// ---------------------------------------------------------------------------------------------------

#[test]
fn every_span_inside_a_run_is_stamped_with_run_keys_and_enclosing_step() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "stamp", event_id = "evt-1", customer_id = "acme", tenant_id = "tenant-1").in_scope(
            || {
                llm_span!(provider = "openai", model = "direct").in_scope(|| {});
                step_span!("s1").in_scope(|| {
                    llm_span!(provider = "openai", model = "in-step").in_scope(|| {});
                    tool_span!(name = "search").in_scope(|| {
                        db_span!(system = "postgres", operation = "select").in_scope(|| {
                            storage_span!(system = "s3", operation = "get").in_scope(|| {});
                        });
                        llm_span!(provider = "openai", model = "grandchild").in_scope(|| {});
                    });
                    messaging_span!(system = "sqs", operation = "send", destination = "q").in_scope(|| {});
                    third_party_openai();
                    call_claude();
                    step_span!("s2").in_scope(|| {
                        llm_span!(provider = "openai", model = "in-s2").in_scope(|| {});
                    });
                });
            },
        );
    });
    let spans = h.spans();
    assert_eq!(spans.len(), 13, "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    let run = find(&spans, "botanu.run/stamp");
    // The run's own values, as given.
    assert_eq!(str_attr(run, semconv::EVENT_ID), "evt-1");
    assert_eq!(str_attr(run, semconv::CUSTOMER_ID), "acme");
    assert_eq!(str_attr(run, semconv::TENANT_ID), "tenant-1");
    assert_eq!(str_attr(run, semconv::ENVIRONMENT), "test");
    assert_eq!(str_attr(run, semconv::WORKFLOW), "stamp");

    let s1 = find(&spans, "botanu.step/s1");
    let s2 = find(&spans, "botanu.step/s2");
    let tool = find(&spans, "execute_tool search");
    let db = find(&spans, "db.postgresql.select");
    let storage = find(&spans, "storage.s3.get");
    let third = find_by_attr(&spans, semconv::GEN_AI_REQUEST_MODEL, "gpt-4");
    let claude = find_by_attr(&spans, semconv::GEN_AI_REQUEST_MODEL, "claude-3");

    assert_stamped(find(&spans, "chat direct"), run, None);
    assert_stamped(s1, run, Some("s1"));
    assert_stamped(find(&spans, "chat in-step"), run, Some("s1"));
    assert_stamped(tool, run, Some("s1"));
    assert_stamped(db, run, Some("s1"));
    assert_stamped(storage, run, Some("s1"));
    assert_stamped(find(&spans, "chat grandchild"), run, Some("s1"));
    assert_stamped(find(&spans, "messaging.sqs.send"), run, Some("s1"));
    assert_stamped(third, run, Some("s1"));
    assert_stamped(claude, run, Some("s1"));
    assert_stamped(s2, run, Some("s2"));
    assert_stamped(find(&spans, "chat in-s2"), run, Some("s2"));
    for s in &spans {
        assert_absent(s, semconv::PARENT_RUN_ID);
    }

    // Parentage.
    assert!(is_child_of(find(&spans, "chat direct"), run));
    assert!(is_child_of(s1, run));
    assert!(is_child_of(tool, s1));
    assert!(is_child_of(db, tool));
    assert!(is_child_of(storage, db));
    assert!(is_child_of(find(&spans, "chat grandchild"), tool));
    assert!(is_child_of(third, s1));
    assert!(is_child_of(claude, s1));
    assert!(is_child_of(s2, s1));

    // Third-party spans are recognized as LLM calls and normalized.
    assert_eq!(str_attr(third, semconv::GEN_AI_PROVIDER_NAME), "openai");
    assert_eq!(str_attr(third, semconv::VENDOR), "openai");
    assert_eq!(kind(third), SpanKind::Client);
    assert_eq!(str_attr(claude, semconv::GEN_AI_PROVIDER_NAME), "anthropic");
    assert_eq!(str_attr(claude, semconv::VENDOR), "anthropic");
    assert_eq!(kind(claude), SpanKind::Client);
}

#[test]
fn stamping_never_overwrites_a_value_the_span_set_itself() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "own", event_id = "run-event", customer_id = "acme", tenant_id = "run-tenant").in_scope(
            || {
                llm_span!(provider = "openai", model = "own-customer", { semconv::CUSTOMER_ID } = "globex")
                    .in_scope(|| {});
                step_span!("outer").in_scope(|| {
                    llm_span!(
                        provider = "openai",
                        model = "own-many",
                        botanu.tenant_id = "my-tenant",
                        botanu.event_id = "my-event",
                        botanu.environment = "my-env",
                    )
                    .in_scope(|| {});
                    tracing::info_span!(
                        "third",
                        gen_ai.system = "openai",
                        gen_ai.request.model = "tp-own",
                        botanu.customer_id = "tp-customer"
                    )
                    .in_scope(|| {});
                });
            },
        );
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/own");
    let a = find(&spans, "chat own-customer");
    assert_eq!(str_attr(a, semconv::CUSTOMER_ID), "globex");
    assert_eq!(str_attr(a, semconv::RUN_ID), str_attr(run, semconv::RUN_ID));
    assert_eq!(str_attr(a, semconv::TENANT_ID), "run-tenant");

    let b = find(&spans, "chat own-many");
    assert_eq!(str_attr(b, semconv::STEP), "outer");
    assert_eq!(str_attr(b, semconv::TENANT_ID), "my-tenant");
    assert_eq!(str_attr(b, semconv::EVENT_ID), "my-event");
    assert_eq!(str_attr(b, semconv::ENVIRONMENT), "my-env");
    assert_eq!(str_attr(b, semconv::CUSTOMER_ID), "acme");
    assert_eq!(str_attr(b, semconv::RUN_ID), str_attr(run, semconv::RUN_ID));

    let c = find_by_attr(&spans, semconv::GEN_AI_REQUEST_MODEL, "tp-own");
    assert_eq!(str_attr(c, semconv::CUSTOMER_ID), "tp-customer");
    assert_eq!(str_attr(c, semconv::STEP), "outer");
}

#[test]
fn a_span_with_its_own_step_keeps_it_and_its_class() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "own-step").in_scope(|| {
            step_span!("outer").in_scope(|| {
                llm_span!(provider = "openai", model = "own-step-llm", botanu.step = "my-step").in_scope(|| {});
                tracing::info_span!(
                    "third",
                    gen_ai.system = "openai",
                    gen_ai.request.model = "own-step-tp",
                    botanu.step = "tp-step"
                )
                .in_scope(|| {});
                db_span!(system = "postgres", operation = "select", botanu.step = "db-step").in_scope(|| {});
            });
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/own-step");
    let llm = find(&spans, "chat own-step-llm");
    assert_eq!(kind(llm), SpanKind::Client);
    assert_stamped(llm, run, Some("my-step"));
    let tp = find(&spans, "third");
    assert_eq!(kind(tp), SpanKind::Client);
    assert_stamped(tp, run, Some("tp-step"));
    let db = find(&spans, "db.postgresql.select");
    assert_eq!(kind(db), SpanKind::Client);
    assert_stamped(db, run, Some("db-step"));
}

#[test]
fn spans_in_no_run_carry_no_run_keys() {
    let h = Harness::new();
    h.run(|| {
        llm_span!(provider = "openai", model = "before").in_scope(|| {});
        run_span!(workflow = "between", customer_id = "acme", tenant_id = "t").in_scope(|| {});
        tool_span!(name = "after").in_scope(|| {});
        db_span!(system = "postgres", operation = "select").in_scope(|| {});
        storage_span!(system = "s3", operation = "get").in_scope(|| {});
        messaging_span!(system = "kafka", operation = "send", destination = "t").in_scope(|| {});
        third_party_openai();
        call_claude();
        step_span!("no-run").in_scope(|| {});
    });
    let spans = h.spans();
    assert_eq!(spans.len(), 9, "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    for s in &spans {
        if s.name == "botanu.run/between" {
            continue;
        }
        assert_no_run_keys(s);
        assert!(is_root(s), "{} should be a root span", s.name);
    }
    assert_eq!(str_attr(find(&spans, "botanu.step/no-run"), semconv::STEP), "no-run");
}

// ---------------------------------------------------------------------------------------------------
// non-botanu spans
// ---------------------------------------------------------------------------------------------------

#[test]
fn plain_spans_are_not_exported_but_are_transparent() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "transparent", customer_id = "acme").in_scope(|| {
            tracing::info_span!("plain", user = "u1").in_scope(|| {
                llm_span!(provider = "openai", model = "under-plain").in_scope(|| {});
            });
            step_span!("s").in_scope(|| {
                tracing::info_span!("plain-in-step").in_scope(|| {
                    tracing::debug_span!("plain-deeper").in_scope(|| {
                        llm_span!(provider = "openai", model = "under-two-plains").in_scope(|| {});
                    });
                });
            });
        });
    });
    let spans = h.spans();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    assert_eq!(spans.len(), 4, "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("plain")), "{names:?}");
    let run = find(&spans, "botanu.run/transparent");
    let step = find(&spans, "botanu.step/s");
    let a = find(&spans, "chat under-plain");
    let b = find(&spans, "chat under-two-plains");
    assert!(is_child_of(a, run));
    assert!(is_child_of(b, step));
    assert_stamped(a, run, None);
    assert_stamped(b, run, Some("s"));
    assert_absent(a, "user");
}

#[test]
fn error_event_in_a_plain_span_fails_the_nearest_exported_span() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "plain-error").in_scope(|| {
            tracing::info_span!("plain").in_scope(|| tracing::error!("deep failure"));
        });
    });
    let spans = h.spans();
    assert_eq!(spans.len(), 1);
    let run = find(&spans, "botanu.run/plain-error");
    assert!(is_error(run));
    let ex = one_event(run, semconv::EVENT_EXCEPTION);
    assert_eq!(event_str(ex, semconv::EXCEPTION_MESSAGE), "deep failure");
    assert_eq!(event_str(one_event(run, semconv::EVENT_RUN_COMPLETED), semconv::RUN_EVENT_STATUS), "failure");
}

#[test]
fn export_all_spans_exports_plain_spans_stamped() {
    let h = Harness::with(|b| b.with_export_all_spans(true));
    h.run(|| {
        tracing::info_span!("plain-outside").in_scope(|| {});
        run_span!(workflow = "all", event_id = "e-all", customer_id = "acme", tenant_id = "t-all").in_scope(|| {
            tracing::info_span!("plain", user = "u1", n = 3).in_scope(|| {
                llm_span!(provider = "openai", model = "under-plain").in_scope(|| {});
            });
            step_span!("s").in_scope(|| {
                tracing::info_span!("plain-in-step").in_scope(|| {
                    llm_span!(provider = "openai", model = "under-plain-in-step").in_scope(|| {});
                });
            });
        });
    });
    let spans = h.spans();
    assert_eq!(spans.len(), 7, "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    let run = find(&spans, "botanu.run/all");
    let step = find(&spans, "botanu.step/s");
    let plain = find(&spans, "plain");
    let plain_in_step = find(&spans, "plain-in-step");
    assert_eq!(kind(plain), SpanKind::Internal);
    assert!(is_child_of(plain, run));
    assert!(is_child_of(plain_in_step, step));
    assert_stamped(plain, run, None);
    assert_stamped(plain_in_step, run, Some("s"));
    assert_eq!(str_attr(plain, "user"), "u1");
    assert_eq!(int_attr(plain, "n"), 3);
    let a = find(&spans, "chat under-plain");
    assert!(is_child_of(a, plain));
    assert_stamped(a, run, None);
    let b = find(&spans, "chat under-plain-in-step");
    assert!(is_child_of(b, plain_in_step));
    assert_stamped(b, run, Some("s"));

    let outside = find(&spans, "plain-outside");
    assert!(is_root(outside));
    assert_no_run_keys(outside);
}

// ---------------------------------------------------------------------------------------------------
// nested runs
// ---------------------------------------------------------------------------------------------------

#[test]
fn nested_runs_link_parent_and_root_and_stamp_their_own_children() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "outer", customer_id = "acme").in_scope(|| {
            llm_span!(provider = "openai", model = "outer-llm").in_scope(|| {});
            run_span!(workflow = "inner", event_id = "inner-event").in_scope(|| {
                llm_span!(provider = "openai", model = "inner-llm").in_scope(|| {});
                run_span!(workflow = "innermost").in_scope(|| {
                    llm_span!(provider = "openai", model = "innermost-llm").in_scope(|| {});
                });
            });
            llm_span!(provider = "openai", model = "outer-llm-after").in_scope(|| {});
        });
    });
    let spans = h.spans();
    assert_eq!(spans.len(), 7);
    let outer = find(&spans, "botanu.run/outer");
    let inner = find(&spans, "botanu.run/inner");
    let innermost = find(&spans, "botanu.run/innermost");
    let (outer_id, inner_id, innermost_id) =
        (str_attr(outer, semconv::RUN_ID), str_attr(inner, semconv::RUN_ID), str_attr(innermost, semconv::RUN_ID));
    assert!(is_uuid_v7(inner_id) && is_uuid_v7(innermost_id));
    assert_ne!(outer_id, inner_id);
    assert_ne!(inner_id, innermost_id);

    assert!(is_root(outer));
    assert_absent(outer, semconv::PARENT_RUN_ID);
    assert_eq!(str_attr(outer, semconv::ROOT_RUN_ID), outer_id);

    assert!(is_child_of(inner, outer));
    assert_eq!(str_attr(inner, semconv::PARENT_RUN_ID), outer_id);
    assert_eq!(str_attr(inner, semconv::ROOT_RUN_ID), outer_id);
    assert_eq!(str_attr(inner, semconv::WORKFLOW), "inner");
    assert_eq!(str_attr(inner, semconv::EVENT_ID), "inner-event");

    assert!(is_child_of(innermost, inner));
    assert_eq!(str_attr(innermost, semconv::PARENT_RUN_ID), inner_id);
    assert_eq!(str_attr(innermost, semconv::ROOT_RUN_ID), outer_id);

    for (model, run, parent_run) in [
        ("outer-llm", outer, None),
        ("outer-llm-after", outer, None),
        ("inner-llm", inner, Some(outer_id)),
        ("innermost-llm", innermost, Some(inner_id)),
    ] {
        let s = find(&spans, &format!("chat {model}"));
        assert!(is_child_of(s, run), "{model}");
        assert_eq!(str_attr(s, semconv::RUN_ID), str_attr(run, semconv::RUN_ID), "{model}");
        assert_eq!(str_attr(s, semconv::WORKFLOW), str_attr(run, semconv::WORKFLOW), "{model}");
        assert_eq!(str_attr(s, semconv::EVENT_ID), str_attr(run, semconv::EVENT_ID), "{model}");
        assert_eq!(str_attr(s, semconv::ENVIRONMENT), "test", "{model}");
        match parent_run {
            Some(p) => assert_eq!(str_attr(s, semconv::PARENT_RUN_ID), p, "{model}"),
            None => assert_absent(s, semconv::PARENT_RUN_ID),
        }
    }
    assert_eq!(str_attr(find(&spans, "chat outer-llm"), semconv::CUSTOMER_ID), "acme");
}

#[test]
fn nested_run_under_a_continued_root_keeps_the_given_root() {
    let root = "01900000-0000-7000-8000-00000000aaaa";
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "continued", root_run_id = root).in_scope(|| {
            run_span!(workflow = "child").in_scope(|| {});
        });
    });
    let spans = h.spans();
    let outer = find(&spans, "botanu.run/continued");
    let child = find(&spans, "botanu.run/child");
    assert_eq!(str_attr(outer, semconv::ROOT_RUN_ID), root);
    assert_eq!(str_attr(child, semconv::ROOT_RUN_ID), root);
    assert_eq!(str_attr(child, semconv::PARENT_RUN_ID), str_attr(outer, semconv::RUN_ID));
}

// ---------------------------------------------------------------------------------------------------
// business context, correlation
// ---------------------------------------------------------------------------------------------------

#[test]
fn set_business_context_writes_current_span_and_updates_later_spans_of_the_run() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "biz", customer_id = "acme").in_scope(|| {
            llm_span!(provider = "openai", model = "before").in_scope(|| {});
            let open_across = llm_span!(provider = "openai", model = "open-across");
            llm_span!(provider = "openai", model = "setter").in_scope(|| {
                botanu::set_business_context(BusinessContext {
                    customer_id: Some("globex".into()),
                    team: Some("support".into()),
                    cost_center: Some("cc-42".into()),
                    region: Some("eu-west".into()),
                });
            });
            llm_span!(provider = "openai", model = "after").in_scope(|| {});
            drop(open_across);
        });
        run_span!(workflow = "biz-direct", customer_id = "acme").in_scope(|| {
            botanu::set_business_context(BusinessContext { customer_id: Some("initech".into()), ..Default::default() });
            llm_span!(provider = "openai", model = "direct-after").in_scope(|| {});
        });
        run_span!(workflow = "biz-partial", customer_id = "acme").in_scope(|| {
            botanu::set_business_context(BusinessContext { team: Some("ml".into()), ..Default::default() });
            llm_span!(provider = "openai", model = "partial-after").in_scope(|| {});
        });
    });
    let spans = h.spans();
    assert_eq!(str_attr(find(&spans, "chat before"), semconv::CUSTOMER_ID), "acme");
    let setter = find(&spans, "chat setter");
    assert_eq!(str_attr(setter, semconv::CUSTOMER_ID), "globex");
    assert_eq!(str_attr(setter, semconv::TEAM), "support");
    assert_eq!(str_attr(setter, semconv::COST_CENTER), "cc-42");
    assert_eq!(str_attr(setter, semconv::REGION), "eu-west");
    let after = find(&spans, "chat after");
    assert_eq!(str_attr(after, semconv::CUSTOMER_ID), "globex");
    assert_absent(after, semconv::TEAM);
    assert_eq!(str_attr(find(&spans, "chat open-across"), semconv::CUSTOMER_ID), "globex");

    let direct = find(&spans, "botanu.run/biz-direct");
    assert_eq!(str_attr(direct, semconv::CUSTOMER_ID), "initech");
    assert_eq!(str_attr(find(&spans, "chat direct-after"), semconv::CUSTOMER_ID), "initech");

    let partial = find(&spans, "botanu.run/biz-partial");
    assert_eq!(str_attr(partial, semconv::TEAM), "ml");
    assert_eq!(str_attr(partial, semconv::CUSTOMER_ID), "acme");
    assert_absent(partial, semconv::COST_CENTER);
    assert_absent(partial, semconv::REGION);
    assert_eq!(str_attr(find(&spans, "chat partial-after"), semconv::CUSTOMER_ID), "acme");
}

#[test]
fn business_context_customer_survives_a_later_record_on_the_run_span() {
    let h = Harness::new();
    h.run(|| {
        let run = run_span!(workflow = "biz-record", customer_id = "acme");
        run.in_scope(|| {
            llm_span!(provider = "openai", model = "setter").in_scope(|| {
                botanu::set_business_context(BusinessContext {
                    customer_id: Some("globex".into()),
                    ..Default::default()
                });
            });
            run.record(semconv::TENANT_ID, "tenant-late");
            llm_span!(provider = "openai", model = "after-record").in_scope(|| {});
        });
    });
    let spans = h.spans();
    let after = find(&spans, "chat after-record");
    assert_eq!(str_attr(after, semconv::TENANT_ID), "tenant-late");
    assert_eq!(str_attr(after, semconv::CUSTOMER_ID), "globex");
}

#[test]
fn set_correlation_writes_prefixed_string_on_current_span() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "corr").in_scope(|| {
            botanu::set_correlation("trace", "abc-123");
            llm_span!(provider = "openai", model = "corr").in_scope(|| {
                botanu::set_correlation("ticket", "T-1");
                botanu::set_correlation("zendesk_id", "987");
            });
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/corr");
    assert_eq!(str_attr(run, "botanu.correlation.trace"), "abc-123");
    assert_absent(run, "botanu.correlation.ticket");
    let llm = find(&spans, "chat corr");
    assert_eq!(str_attr(llm, "botanu.correlation.ticket"), "T-1");
    assert_eq!(str_attr(llm, "botanu.correlation.zendesk_id"), "987");
    assert_absent(llm, "botanu.correlation.trace");
}

// ---------------------------------------------------------------------------------------------------
// outcome
// ---------------------------------------------------------------------------------------------------

#[test]
fn emit_outcome_writes_current_span_event_and_run_status() {
    let h = Harness::new();
    let result = h.run(|| {
        run_span!(workflow = "outcome").in_scope(|| {
            llm_span!(provider = "openai", model = "judge").in_scope(|| {
                botanu::emit_outcome(
                    "success",
                    Outcome {
                        value_type: Some("tickets_resolved".into()),
                        value_amount: Some(1.0),
                        confidence: Some(0.9),
                        reason: Some("customer confirmed".into()),
                        error_type: None,
                        metadata: vec![("channel".into(), "email".into())],
                    },
                )
            })
        })
    });
    assert_eq!(result, Ok(()));
    let spans = h.spans();
    let run = find(&spans, "botanu.run/outcome");
    let llm = find(&spans, "chat judge");
    assert_eq!(str_attr(llm, semconv::OUTCOME_VALUE_TYPE), "tickets_resolved");
    assert_eq!(f64_attr(llm, semconv::OUTCOME_VALUE_AMOUNT), 1.0);
    assert_eq!(f64_attr(llm, semconv::OUTCOME_CONFIDENCE), 0.9);
    assert_eq!(str_attr(llm, semconv::OUTCOME_REASON), "customer confirmed");
    assert_eq!(str_attr(llm, "botanu.outcome.metadata.channel"), "email");
    assert_absent(llm, semconv::OUTCOME_ERROR_TYPE);
    let ev = one_event(llm, semconv::EVENT_OUTCOME_EMITTED);
    assert_eq!(event_str(ev, semconv::OUTCOME_EVENT_VALUE_TYPE), "tickets_resolved");
    // Status on the run span only; the details on the current span only.
    assert_eq!(str_attr(run, semconv::OUTCOME_STATUS), "success");
    assert_absent(run, semconv::OUTCOME_VALUE_TYPE);
    assert!(events_named(run, semconv::EVENT_OUTCOME_EMITTED).is_empty());
    assert_ok(run);
}

#[track_caller]
fn assert_ok(span: &SpanData) {
    assert_eq!(span.status, opentelemetry::trace::Status::Ok, "{}", span.name);
}

#[test]
fn emit_outcome_writes_only_given_fields_and_each_status() {
    let statuses = ["success", "partial", "failed", "timeout", "canceled", "abandoned"];
    let h = Harness::new();
    h.run(|| {
        for st in statuses {
            run_span!(workflow = %format!("st-{st}")).in_scope(|| {
                botanu::emit_outcome(st, Outcome::default()).expect("valid status");
            });
        }
        run_span!(workflow = "failed-detail").in_scope(|| {
            botanu::emit_outcome(
                "failed",
                Outcome { error_type: Some("HallucinationDetected".into()), ..Default::default() },
            )
            .unwrap();
        });
    });
    let spans = h.spans();
    for st in statuses {
        let run = find(&spans, &format!("botanu.run/st-{st}"));
        assert_eq!(str_attr(run, semconv::OUTCOME_STATUS), st);
        assert_eq!(events_named(run, semconv::EVENT_OUTCOME_EMITTED).len(), 1);
        for key in [
            semconv::OUTCOME_VALUE_TYPE,
            semconv::OUTCOME_VALUE_AMOUNT,
            semconv::OUTCOME_CONFIDENCE,
            semconv::OUTCOME_REASON,
            semconv::OUTCOME_ERROR_TYPE,
        ] {
            assert_absent(run, key);
        }
        assert!(!run.attributes.iter().any(|kv| kv.key.as_str().starts_with(semconv::OUTCOME_METADATA_PREFIX)), "{st}");
    }
    let failed = find(&spans, "botanu.run/failed-detail");
    assert_eq!(str_attr(failed, semconv::OUTCOME_ERROR_TYPE), "HallucinationDetected");
    assert_eq!(str_attr(failed, semconv::OUTCOME_STATUS), "failed");
    assert_absent(failed, semconv::OUTCOME_VALUE_AMOUNT);
}

#[test]
fn emit_outcome_with_invalid_status_errs_and_writes_nothing() {
    let h = Harness::new();
    let results = h.run(|| {
        run_span!(workflow = "bad-outcome").in_scope(|| {
            let r1 = llm_span!(provider = "openai", model = "bad").in_scope(|| {
                botanu::emit_outcome(
                    "great",
                    Outcome {
                        value_type: Some("x".into()),
                        value_amount: Some(1.0),
                        reason: Some("r".into()),
                        metadata: vec![("k".into(), "v".into())],
                        ..Default::default()
                    },
                )
            });
            let r2 = botanu::emit_outcome("", Outcome::default());
            (r1, r2)
        })
    });
    let (r1, r2) = results;
    let err = r1.expect_err("\"great\" is not a valid status");
    assert!(err.to_string().contains("great"), "{err}");
    assert!(r2.is_err());
    let spans = h.spans();
    let run = find(&spans, "botanu.run/bad-outcome");
    let llm = find(&spans, "chat bad");
    for s in [run, llm] {
        assert_absent(s, semconv::OUTCOME_STATUS);
        assert_absent(s, semconv::OUTCOME_VALUE_TYPE);
        assert_absent(s, semconv::OUTCOME_VALUE_AMOUNT);
        assert_absent(s, semconv::OUTCOME_REASON);
        assert_absent(s, "botanu.outcome.metadata.k");
        assert!(events_named(s, semconv::EVENT_OUTCOME_EMITTED).is_empty(), "{}", s.name);
    }
}

// ---------------------------------------------------------------------------------------------------
// current run, baggage
// ---------------------------------------------------------------------------------------------------

#[test]
fn current_run_id_and_workflow_inside_and_outside_runs() {
    #[derive(Debug, Default)]
    struct Seen {
        outside: (Option<String>, Option<String>),
        in_run: (Option<String>, Option<String>),
        in_llm: (Option<String>, Option<String>),
        in_plain: (Option<String>, Option<String>),
        in_nested: (Option<String>, Option<String>),
        back_in_outer: (Option<String>, Option<String>),
        after: (Option<String>, Option<String>),
        in_plain_outside: (Option<String>, Option<String>),
    }
    let now = || (botanu::current_run_id(), botanu::current_workflow());
    let h = Harness::new();
    let seen = h.run(|| {
        let mut seen = Seen { outside: now(), ..Default::default() };
        run_span!(workflow = "cur").in_scope(|| {
            seen.in_run = now();
            llm_span!(provider = "openai", model = "cur").in_scope(|| seen.in_llm = now());
            tracing::info_span!("plain").in_scope(|| seen.in_plain = now());
            run_span!(workflow = "cur-nested").in_scope(|| seen.in_nested = now());
            seen.back_in_outer = now();
        });
        seen.after = now();
        tracing::info_span!("plain-outside").in_scope(|| seen.in_plain_outside = now());
        seen
    });
    let spans = h.spans();
    let outer = str_attr(find(&spans, "botanu.run/cur"), semconv::RUN_ID).to_owned();
    let nested = str_attr(find(&spans, "botanu.run/cur-nested"), semconv::RUN_ID).to_owned();
    let some = |id: &str, wf: &str| (Some(id.to_owned()), Some(wf.to_owned()));
    assert_eq!(seen.outside, (None, None));
    assert_eq!(seen.in_run, some(&outer, "cur"));
    assert_eq!(seen.in_llm, some(&outer, "cur"));
    assert_eq!(seen.in_plain, some(&outer, "cur"));
    assert_eq!(seen.in_nested, some(&nested, "cur-nested"));
    assert_eq!(seen.back_in_outer, some(&outer, "cur"));
    assert_eq!(seen.after, (None, None));
    assert_eq!(seen.in_plain_outside, (None, None));
}

#[test]
fn baggage_reads_run_keys_and_set_baggage_is_scoped_to_the_run() {
    #[derive(Debug, Default)]
    struct Seen {
        run_keys: Vec<Option<String>>,
        set_in_run: bool,
        from_child: Option<String>,
        overwritten: Option<String>,
        customer_after_ctx: Option<String>,
        other_run: Option<String>,
        outside_set: bool,
        outside_get: Option<String>,
    }
    let h = Harness::new();
    let seen = h.run(|| {
        let mut seen = Seen::default();
        run_span!(workflow = "bag", event_id = "evt-b", customer_id = "acme", tenant_id = "t-b").in_scope(|| {
            seen.run_keys = [
                semconv::RUN_ID,
                semconv::WORKFLOW,
                semconv::EVENT_ID,
                semconv::CUSTOMER_ID,
                semconv::TENANT_ID,
                semconv::ENVIRONMENT,
            ]
            .iter()
            .map(|k| botanu::baggage(k))
            .collect();
            seen.set_in_run = botanu::set_baggage("feature", "summaries");
            step_span!("s").in_scope(|| {
                llm_span!(provider = "openai", model = "bag").in_scope(|| {
                    seen.from_child = botanu::baggage("feature");
                    botanu::set_baggage("feature", "v2");
                });
            });
            seen.overwritten = botanu::baggage("feature");
            botanu::set_business_context(BusinessContext { customer_id: Some("globex".into()), ..Default::default() });
            seen.customer_after_ctx = botanu::baggage(semconv::CUSTOMER_ID);
        });
        run_span!(workflow = "bag-other").in_scope(|| seen.other_run = botanu::baggage("feature"));
        seen.outside_set = botanu::set_baggage("feature", "x");
        seen.outside_get = botanu::baggage("feature");
        seen
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/bag");
    let want: Vec<Option<String>> = [str_attr(run, semconv::RUN_ID), "bag", "evt-b", "acme", "t-b", "test"]
        .iter()
        .map(|s| Some(s.to_string()))
        .collect();
    assert_eq!(seen.run_keys, want);
    assert!(seen.set_in_run);
    assert_eq!(seen.from_child.as_deref(), Some("summaries"));
    assert_eq!(seen.overwritten.as_deref(), Some("v2"));
    assert_eq!(seen.customer_after_ctx.as_deref(), Some("globex"));
    assert_eq!(seen.other_run, None, "baggage leaked into another run");
    assert!(!seen.outside_set);
    assert_eq!(seen.outside_get, None);
}

#[test]
fn run_keys_recorded_later_on_the_run_span_reach_spans_exported_afterwards() {
    let h = Harness::new();
    h.run(|| {
        let run = run_span!(workflow = "late-keys");
        run.in_scope(|| {
            llm_span!(provider = "openai", model = "early").in_scope(|| {});
            let open_across = llm_span!(provider = "openai", model = "open-across");
            run.record(semconv::CUSTOMER_ID, "late-customer");
            run.record(semconv::TENANT_ID, "late-tenant");
            run.record(semconv::EVENT_ID, "late-event");
            llm_span!(provider = "openai", model = "after").in_scope(|| {});
            drop(open_across);
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/late-keys");
    assert_eq!(str_attr(run, semconv::CUSTOMER_ID), "late-customer");
    assert_eq!(str_attr(run, semconv::TENANT_ID), "late-tenant");
    assert_eq!(str_attr(run, semconv::EVENT_ID), "late-event");
    let early = find(&spans, "chat early");
    assert_absent(early, semconv::CUSTOMER_ID);
    assert_absent(early, semconv::TENANT_ID);
    assert_eq!(str_attr(early, semconv::EVENT_ID), str_attr(run, semconv::RUN_ID), "event id defaulted to run id");
    for name in ["chat after", "chat open-across"] {
        let s = find(&spans, name);
        assert_eq!(str_attr(s, semconv::CUSTOMER_ID), "late-customer", "{name}");
        assert_eq!(str_attr(s, semconv::TENANT_ID), "late-tenant", "{name}");
        assert_eq!(str_attr(s, semconv::EVENT_ID), "late-event", "{name}");
    }
}

#[test]
fn third_party_data_spans_are_recognized_normalized_and_stamped() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "tp-data", customer_id = "acme").in_scope(|| {
            tracing::info_span!("sqlx.query", db.system.name = "Postgres", db.operation = "select").in_scope(|| {});
            tracing::info_span!("dynamo.get", db.system = "dynamodb", db.operation = "get").in_scope(|| {});
            tracing::info_span!(
                "sqs.send",
                messaging.system = "AWS_SQS",
                messaging.operation = "Send",
                messaging.destination.name = "jobs"
            )
            .in_scope(|| {});
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/tp-data");
    let pg = find(&spans, "sqlx.query");
    assert_eq!(str_attr(pg, semconv::DB_SYSTEM), "postgresql");
    assert_eq!(str_attr(pg, semconv::VENDOR), "postgresql");
    assert_eq!(str_attr(pg, semconv::DB_OPERATION), "SELECT");
    assert_eq!(kind(pg), SpanKind::Client);
    assert_stamped(pg, run, None);
    let dyn_ = find(&spans, "dynamo.get");
    assert_eq!(str_attr(dyn_, semconv::CLOUD_PROVIDER), "aws");
    assert_stamped(dyn_, run, None);
    let sqs = find(&spans, "sqs.send");
    assert_eq!(str_attr(sqs, semconv::MESSAGING_SYSTEM), "sqs");
    assert_eq!(str_attr(sqs, semconv::MESSAGING_OPERATION), "send");
    assert_eq!(str_attr(sqs, semconv::CLOUD_PROVIDER), "aws");
    assert_eq!(kind(sqs), SpanKind::Producer);
    assert_stamped(sqs, run, None);
}
