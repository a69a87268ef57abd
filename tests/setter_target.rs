//! Where a setter's data lands (issue 28): on the span it was given to, never on an ancestor. A span
//! botanu does not export (`info_span!` with no botanu fields) that receives botanu data through a setter
//! is exported from then on, as a plain span carrying the data, in its ancestor's trace and run; a second
//! span's value never overwrites the first's.
mod common;

use botanu::prelude::*;
use botanu::semconv as k;
use botanu::DataMetrics;
use common::{attr, find, int_attr, str_attr, Harness};
use tracing::Span;

#[test]
fn data_set_in_plain_spans_stays_on_each_span() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "etl").in_scope(|| {
            tracing::info_span!("op1")
                .in_scope(|| botanu::set_data_metrics(DataMetrics { rows_returned: 100, ..Default::default() }));
            tracing::info_span!("op2")
                .in_scope(|| botanu::set_data_metrics(DataMetrics { rows_returned: 7, ..Default::default() }));
            // A plain span that receives nothing is still not exported.
            tracing::info_span!("quiet").in_scope(|| {});
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/etl");
    let (op1, op2) = (find(&spans, "op1"), find(&spans, "op2"));
    assert_eq!(int_attr(op1, k::DATA_ROWS_RETURNED), 100);
    assert_eq!(int_attr(op2, k::DATA_ROWS_RETURNED), 7);
    assert_eq!(attr(run, k::DATA_ROWS_RETURNED), None, "nothing is redirected to the run");
    for op in [op1, op2] {
        assert_eq!(op.parent_span_id, run.span_context.span_id());
        assert_eq!(op.span_context.trace_id(), run.span_context.trace_id());
        assert_eq!(str_attr(op, k::RUN_ID), str_attr(run, k::RUN_ID));
    }
    assert!(spans.iter().all(|s| s.name != "quiet"), "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
}

#[test]
fn every_setter_writes_on_the_span_it_was_given() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "support").in_scope(|| {
            tracing::info_span!("helper").in_scope(|| {
                Span::current().add_metadata("shard", "eu-1");
                Span::current().set_error_type("Timeout", "the helper timed out");
                botanu::set_correlation("ticket", "T-1");
                botanu::set_token_usage(botanu::Tokens { input: 3, output: 2, ..Default::default() });
                // Spans opened after the promotion are its children.
                db_span!(system = "postgresql", operation = "SELECT").in_scope(|| {});
            });
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/support");
    let helper = find(&spans, "helper");
    assert_eq!(str_attr(helper, "botanu.shard"), "eu-1");
    assert_eq!(str_attr(helper, k::ERROR_TYPE), "Timeout");
    assert_eq!(str_attr(helper, "botanu.correlation.ticket"), "T-1");
    assert_eq!(int_attr(helper, k::GEN_AI_USAGE_INPUT_TOKENS), 3);
    for key in ["botanu.shard", k::ERROR_TYPE, "botanu.correlation.ticket", k::GEN_AI_USAGE_INPUT_TOKENS] {
        assert_eq!(attr(run, key), None, "{key} was redirected to the run");
    }
    let db = find(&spans, "db.postgresql.select");
    assert_eq!(db.parent_span_id, helper.span_context.span_id());
}

#[test]
fn a_plain_span_outside_any_run_keeps_its_data_too() {
    let h = Harness::new();
    h.run(|| {
        tracing::info_span!("standalone")
            .in_scope(|| botanu::set_data_metrics(DataMetrics { rows_affected: 5, ..Default::default() }));
    });
    let spans = h.spans();
    assert_eq!(int_attr(find(&spans, "standalone"), k::DATA_ROWS_AFFECTED), 5);
}

#[test]
fn a_promoted_span_keeps_what_is_recorded_on_it_afterwards() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "etl").in_scope(|| {
            let op = tracing::info_span!("op", table = tracing::field::Empty);
            op.in_scope(|| botanu::set_data_metrics(DataMetrics { rows_returned: 1, ..Default::default() }));
            op.record("table", "orders");
        });
    });
    let spans = h.spans();
    assert_eq!(str_attr(find(&spans, "op"), "table"), "orders");
}
