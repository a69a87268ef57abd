//! `OTEL_SEMCONV_STABILITY_OPT_IN` (contract §9), read from what is exported: each setting's span keys
//! and metrics, both spellings always read, and a failed call's zero under the new counters.
#![cfg(feature = "testing")]

mod common;

use std::collections::{BTreeMap, HashMap};

use botanu::config::{Config, ConfigSource, DatabaseNames, SemconvOptIn};
use botanu::prelude::*;
use botanu::semconv::{self as k, metrics as m};
use common::*;

/// The setting as the environment gives it, through the configuration's precedence.
fn opt_in(list: &str) -> SemconvOptIn {
    let env = HashMap::from([("OTEL_SEMCONV_STABILITY_OPT_IN".to_string(), list.to_string())]);
    let (config, _) =
        Config::load_from(&ConfigSource::from_env_map(env).with_search_dir("/nonexistent")).expect("config loads");
    config.semconv_opt_in()
}

/// One OK call with cached, written and reasoning tokens (one written under the new spelling, read
/// anyway), one failed call, one Postgres query with a stable-name operation (read anyway).
fn workload(h: &Harness) {
    h.run(|| {
        run_span!(workflow = "semconv").in_scope(|| {
            tracing::info_span!(
                "chat",
                gen_ai.operation.name = "chat",
                gen_ai.provider.name = "anthropic",
                gen_ai.request.model = "claude-haiku-4-5",
                gen_ai.usage.input_tokens = 20,
                gen_ai.usage.output_tokens = 30,
                botanu.usage.cache_read_tokens = 100,
                gen_ai.usage.cache_write.input_tokens = 10,
                gen_ai.usage.reasoning.output_tokens = 5,
            )
            .in_scope(|| {});
            tracing::info_span!(
                "chat",
                gen_ai.operation.name = "chat",
                gen_ai.provider.name = "anthropic",
                gen_ai.request.model = "claude-haiku-4-5",
                error.type = "rate_limit",
            )
            .in_scope(|| {});
            tracing::info_span!("query", db.system = "postgres", db.operation.name = "select", db.name = "shop")
                .in_scope(|| {});
        })
    });
}

/// Sums of a counter by attribute set.
fn sums(h: &Harness, name: &str) -> BTreeMap<BTreeMap<String, String>, u64> {
    let rms = h.metrics();
    let points = find_metric(&rms, name).map(|series| series.points()).unwrap_or_default();
    points
        .iter()
        .map(|p| (p.attributes.iter().map(|kv| (kv.key.to_string(), kv.value.to_string())).collect(), p.sum as u64))
        .collect()
}

fn has_metric(h: &Harness, name: &str) -> bool {
    find_metric(&h.metrics(), name).is_some()
}

#[test]
fn the_setting_is_a_comma_list_read_through_the_config() {
    assert_eq!(opt_in(""), SemconvOptIn::default());
    let latest = opt_in("http/dup, gen_ai_latest_experimental");
    assert!(latest.gen_ai_latest_experimental);
    assert_eq!(latest.database, DatabaseNames::Old);
    assert_eq!(opt_in("database").database, DatabaseNames::Stable);
    assert_eq!(opt_in("database/dup").database, DatabaseNames::Both);
    let combined = opt_in("gen_ai_latest_experimental,database/dup");
    assert!(combined.gen_ai_latest_experimental);
    assert_eq!(combined.database, DatabaseNames::Both);
}

#[cfg(feature = "testing")]
#[test]
fn default_writes_todays_names() {
    let h = Harness::with(|b| b.with_semconv_opt_in(opt_in("")));
    workload(&h);
    let spans = h.spans();
    let chat = find_where(&spans, "ok chat", |s| s.name == "chat" && attr(s, k::ERROR_TYPE).is_none());
    assert_eq!(int_attr(chat, k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS), 10);
    assert_absent(chat, k::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS);
    assert_absent(chat, k::GEN_AI_USAGE_COST_AMOUNT);
    // 20 × 1 + 100 × 0.1 + 10 × 1.25 + 30 × 5 = 192.5 per million (anthropic claude-haiku-4-5).
    assert!((f64_attr(chat, k::COST_USD) - 192.5e-6).abs() < 1e-9, "{}", f64_attr(chat, k::COST_USD));
    let query = find(&spans, "query");
    assert_eq!(str_attr(query, k::DB_SYSTEM), "postgresql");
    assert_eq!(str_attr(query, k::DB_OPERATION), "SELECT");
    assert_eq!(str_attr(query, k::DB_NAME), "shop");
    for stable in [k::DB_SYSTEM_NAME, k::DB_OPERATION_NAME, k::DB_NAMESPACE] {
        assert_absent(query, stable);
    }
    assert!(has_metric(&h, m::TOKEN_USAGE) && has_metric(&h, m::OPERATION_DURATION));
    assert!(!has_metric(&h, m::INFERENCE_INPUT_TOKENS) && !has_metric(&h, m::INFERENCE_DURATION));
    // The token metric counts every input token, the cache included: 20 + 100 + 10.
    let tokens = sums(&h, m::TOKEN_USAGE);
    let input: u64 = tokens
        .iter()
        .filter(|(a, _)| a.get(k::GEN_AI_TOKEN_TYPE).map(String::as_str) == Some("input"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(input, 130);
}

#[cfg(feature = "testing")]
#[test]
fn gen_ai_latest_experimental_writes_the_new_names_and_counters() {
    let h = Harness::with(|b| b.with_semconv_opt_in(opt_in("gen_ai_latest_experimental")));
    workload(&h);
    let spans = h.spans();
    let chat = find_where(&spans, "ok chat", |s| s.name == "chat" && attr(s, k::ERROR_TYPE).is_none());
    assert_eq!(int_attr(chat, k::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS), 10);
    assert_absent(chat, k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS);
    assert!((f64_attr(chat, k::GEN_AI_USAGE_COST_AMOUNT) - f64_attr(chat, k::COST_USD)).abs() < 1e-15);
    assert_eq!(str_attr(chat, k::GEN_AI_USAGE_COST_CURRENCY), "USD");
    assert_eq!(str_attr(chat, k::GEN_AI_USAGE_COST_SOURCE), "local");
    // Database names untouched by this setting.
    assert_eq!(str_attr(find(&spans, "query"), k::DB_SYSTEM), "postgresql");

    assert!(!has_metric(&h, m::TOKEN_USAGE) && !has_metric(&h, m::OPERATION_DURATION));
    assert!(has_metric(&h, m::INFERENCE_DURATION));
    let modality = |sums: &BTreeMap<BTreeMap<String, String>, u64>, failed: bool| -> BTreeMap<String, u64> {
        sums.iter()
            .filter(|(a, _)| a.contains_key(k::ERROR_TYPE) == failed)
            .map(|(a, n)| (a.get(k::GEN_AI_TOKEN_MODALITY).cloned().unwrap_or_default(), *n))
            .collect()
    };
    let want = |pairs: &[(&str, u64)]| pairs.iter().map(|(a, n)| (a.to_string(), *n)).collect::<BTreeMap<_, _>>();
    for (name, ok) in [
        (m::INFERENCE_INPUT_TOKENS, 130),
        (m::INFERENCE_OUTPUT_TOKENS, 30),
        (m::INFERENCE_CACHE_READ_TOKENS, 100),
        (m::INFERENCE_CACHE_WRITE_TOKENS, 10),
        (m::INFERENCE_REASONING_TOKENS, 5),
    ] {
        let sums = sums(&h, name);
        assert_eq!(modality(&sums, false), want(&[("text", ok)]), "{name}");
        // The failed call: recorded, zero, modality unknown, with its error type.
        assert_eq!(modality(&sums, true), want(&[("unknown", 0)]), "{name}");
        let failed = sums.keys().find(|a| a.contains_key(k::ERROR_TYPE)).expect("failed series");
        assert_eq!(failed.get(k::ERROR_TYPE).map(String::as_str), Some("rate_limit"));
    }
}

#[cfg(feature = "testing")]
#[test]
fn database_and_database_dup_write_the_stable_names() {
    let stable = Harness::with(|b| b.with_semconv_opt_in(opt_in("database")));
    workload(&stable);
    let spans = stable.spans();
    let query = find(&spans, "query");
    assert_eq!(str_attr(query, k::DB_SYSTEM_NAME), "postgresql");
    assert_eq!(str_attr(query, k::DB_OPERATION_NAME), "SELECT");
    assert_eq!(str_attr(query, k::DB_NAMESPACE), "shop");
    for old in [k::DB_SYSTEM, k::DB_OPERATION, k::DB_NAME] {
        assert_absent(query, old);
    }
    // GenAI names untouched by this setting.
    let chat = find_where(&spans, "ok chat", |s| s.name == "chat" && attr(s, k::ERROR_TYPE).is_none());
    assert_eq!(int_attr(chat, k::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS), 10);

    let dup = Harness::with(|b| b.with_semconv_opt_in(opt_in("gen_ai_latest_experimental, database/dup")));
    workload(&dup);
    let spans = dup.spans();
    let query = find(&spans, "query");
    for (old, stable, value) in [
        (k::DB_SYSTEM, k::DB_SYSTEM_NAME, "postgresql"),
        (k::DB_OPERATION, k::DB_OPERATION_NAME, "SELECT"),
        (k::DB_NAME, k::DB_NAMESPACE, "shop"),
    ] {
        assert_eq!(str_attr(query, old), value);
        assert_eq!(str_attr(query, stable), value);
    }
    // Combined: the GenAI side follows gen_ai_latest_experimental.
    let chat = find_where(&spans, "ok chat", |s| s.name == "chat" && attr(s, k::ERROR_TYPE).is_none());
    assert_eq!(int_attr(chat, k::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS), 10);
    assert!(has_metric(&dup, m::INFERENCE_INPUT_TOKENS));
}
