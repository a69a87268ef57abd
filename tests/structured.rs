//! Structured metadata: flattened into attributes with `--cfg tracing_unstable` and the `valuable`
//! feature, a Debug string otherwise. The same user code compiles in both builds.
mod common;

use botanu::{llm_span, semconv};
use common::*;

#[derive(Debug)]
#[cfg_attr(all(tracing_unstable, feature = "valuable"), derive(valuable::Valuable))]
#[allow(dead_code)] // read through Debug or Valuable
struct Limits {
    tokens: u32,
}

#[derive(Debug)]
#[cfg_attr(all(tracing_unstable, feature = "valuable"), derive(valuable::Valuable))]
#[allow(dead_code)] // read through Debug or Valuable
struct Meta {
    team: &'static str,
    priority: u8,
    limits: Limits,
}

fn export_meta() -> opentelemetry_sdk::trace::SpanData {
    let h = Harness::new();
    h.run(|| {
        let span = llm_span!(provider = "openai", model = "gpt-4");
        let meta = Meta { team: "support", priority: 2, limits: Limits { tokens: 500 } };
        span.record(semconv::METADATA, botanu::structured(&meta));
    });
    h.spans().into_iter().next().expect("one span")
}

#[cfg(all(tracing_unstable, feature = "valuable"))]
#[test]
fn valuable_metadata_is_flattened_with_types() {
    let span = export_meta();
    assert_eq!(str_attr(&span, "botanu.team"), "support");
    assert_eq!(int_attr(&span, "botanu.priority"), 2);
    assert_eq!(int_attr(&span, "botanu.limits.tokens"), 500);
    assert_absent(&span, "botanu.metadata");
}

#[cfg(not(all(tracing_unstable, feature = "valuable")))]
#[test]
fn without_the_cfg_metadata_falls_back_to_debug() {
    let span = export_meta();
    assert_eq!(
        str_attr(&span, "botanu.metadata"),
        r#"Meta { team: "support", priority: 2, limits: Limits { tokens: 500 } }"#
    );
    assert_absent(&span, "botanu.team");
}

#[cfg(all(tracing_unstable, feature = "valuable"))]
#[derive(Debug, valuable::Valuable)]
#[allow(dead_code)] // read through Valuable
enum Plan {
    Free,
    Paid { seats: u32 },
}

#[cfg(all(tracing_unstable, feature = "valuable"))]
#[derive(Debug, valuable::Valuable)]
#[allow(dead_code)] // read through Valuable
struct Account {
    plan: Plan,
    tier: Plan,
}

#[cfg(all(tracing_unstable, feature = "valuable"))]
#[test]
fn valuable_enums_keep_their_variant_name() {
    let h = Harness::new();
    h.run(|| {
        let span = llm_span!(provider = "openai", model = "gpt-4");
        let account = Account { plan: Plan::Paid { seats: 3 }, tier: Plan::Free };
        span.record(semconv::METADATA, botanu::structured(&account));
        drop(span);
        let top = llm_span!(provider = "openai", model = "gpt-4");
        top.record(semconv::METADATA, botanu::structured(&Plan::Free));
    });
    let spans = h.spans();
    assert_eq!(str_attr(&spans[0], "botanu.plan"), "Paid");
    assert_eq!(int_attr(&spans[0], "botanu.plan.seats"), 3);
    assert_eq!(str_attr(&spans[0], "botanu.tier"), "Free");
    assert_eq!(str_attr(&spans[1], "botanu.variant"), "Free");
}
