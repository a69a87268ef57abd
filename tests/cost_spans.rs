//! Cost as exported: priced LLM and data-operation spans, the run roll-up, the `botanu.cost` metric, the
//! configuration precedence of overrides, and the guard's summary — all read from the in-memory exporters.
//!
//! Figures are worked out by hand from the bundled catalog (`genai-prices` 0.2.1) and the list-price table:
//! - openai/gpt-4o: input 2.5, cache read 1.25, output 10 USD per million tokens;
//! - anthropic/claude-3-5-sonnet: input 3, cache read 0.3, cache write 3.75, output 15;
//! - openai/o3: input 2, output 8 (no separate reasoning price: reasoning tokens cost the output price).
//!
//! Price history through a span is not tested here: a span's start time is the time it opened and
//! cannot be set from outside, so history is tested through the engine (`cost_pricing.rs`,
//! `price_history_prices_at_the_calls_start_time`), which the layer calls with the span's start time.
#![cfg(feature = "bundled-prices")]

mod common;

use std::collections::HashMap;

use botanu::config::{Config, ConfigSource};
use botanu::cost::{PriceOverride, TokenPrices};
use botanu::prelude::*;
use botanu::semconv as k;
use botanu::{emit_outcome, Outcome};
use common::*;
#[cfg(feature = "testing")]
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::trace::SpanData;

fn assert_usd(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-12, "{actual} != {expected}");
}

fn gpt_4o_cached() {
    llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens {
        input: 10_000,
        cache_read: 4_000,
        output: 2_000,
        ..Default::default()
    });
}

fn claude_cache_read_and_write() {
    llm_span!(provider = "anthropic", model = "claude-3-5-sonnet").set_tokens(Tokens {
        input: 2_000,
        cache_read: 10_000,
        cache_write: 1_000,
        output: 500,
        input_counting: InputCounting::ExcludesCache,
        ..Default::default()
    });
}

fn llm<'a>(spans: &'a [SpanData], model: &str) -> &'a SpanData {
    find_where(spans, model, |s| attr(s, k::GEN_AI_REQUEST_MODEL).is_some_and(|v| v.as_str() == model))
}

/// OpenAI's `cached` is a part of `input`; Anthropic's `cache_read` / `cache_write` come besides it.
/// gpt-4o: 6,000 × 2.5 + 4,000 × 1.25 + 2,000 × 10 = 15,000 + 5,000 + 20,000 → 0.040 USD.
/// claude-3-5-sonnet: 2,000 × 3 + 10,000 × 0.3 + 1,000 × 3.75 + 500 × 15 = 6,000 + 3,000 + 3,750 + 7,500
/// → 0.02025 USD.
#[test]
fn llm_spans_carry_their_cost_parts_and_provenance() {
    let h = Harness::new();
    h.run(|| {
        gpt_4o_cached();
        claude_cache_read_and_write();
    });
    let spans = h.spans();
    let gpt = llm(&spans, "gpt-4o");
    assert_usd(f64_attr(gpt, k::COST_USD), 0.040);
    assert_usd(f64_attr(gpt, k::COST_INPUT_USD), 0.015);
    assert_usd(f64_attr(gpt, k::COST_CACHE_READ_USD), 0.005);
    assert_usd(f64_attr(gpt, k::COST_OUTPUT_USD), 0.020);
    assert_absent(gpt, k::COST_CACHE_WRITE_USD);
    assert_absent(gpt, k::COST_REASONING_USD);
    assert_eq!(str_attr(gpt, k::COST_SOURCE), "genai-prices 0.2.1");
    assert_eq!(str_attr(gpt, k::COST_PROVIDER), "openai");
    assert_eq!(str_attr(gpt, k::COST_MODEL), "gpt-4o");
    assert!(bool_attr(gpt, k::COST_ESTIMATED));
    assert_absent(gpt, k::COST_UNPRICED);

    let claude = llm(&spans, "claude-3-5-sonnet");
    assert_usd(f64_attr(claude, k::COST_USD), 0.02025);
    assert_usd(f64_attr(claude, k::COST_INPUT_USD), 0.006);
    assert_usd(f64_attr(claude, k::COST_CACHE_READ_USD), 0.003);
    assert_usd(f64_attr(claude, k::COST_CACHE_WRITE_USD), 0.00375);
    assert_usd(f64_attr(claude, k::COST_OUTPUT_USD), 0.0075);
    assert_eq!(str_attr(claude, k::COST_PROVIDER), "anthropic");
}

/// A span from another instrumentation with the OpenTelemetry semconv fields: `gen_ai.usage.input_tokens`
/// includes the cached ones, reasoning is a part of the output.
/// gpt-4o, input 10,000 of which 4,000 cache reads, output 2,000 → 0.040 USD (as above).
/// o3, input 1,000, output 5,000 of which 4,000 reasoning: 1,000 × 2 + 4,000 × 8 + 1,000 × 8 → 0.042 USD.
#[test]
fn third_party_semconv_spans_are_priced() {
    let h = Harness::new();
    h.run(|| {
        let _gpt = tracing::info_span!(
            "chat gpt-4o",
            "gen_ai.operation.name" = "chat",
            "gen_ai.provider.name" = "openai",
            "gen_ai.request.model" = "gpt-4o",
            "gen_ai.usage.input_tokens" = 10_000u64,
            "gen_ai.usage.output_tokens" = 2_000u64,
            "gen_ai.usage.cache_read.input_tokens" = 4_000u64,
        )
        .entered();
    });
    h.run(|| {
        let _o3 = tracing::info_span!(
            "chat o3",
            "gen_ai.operation.name" = "chat",
            "gen_ai.provider.name" = "openai",
            "gen_ai.request.model" = "o3",
            "gen_ai.usage.input_tokens" = 1_000u64,
            "gen_ai.usage.output_tokens" = 5_000u64,
            "gen_ai.usage.reasoning.output_tokens" = 4_000u64,
        )
        .entered();
    });
    let spans = h.spans();
    let gpt = find(&spans, "chat gpt-4o");
    assert_usd(f64_attr(gpt, k::COST_USD), 0.040);
    assert_usd(f64_attr(gpt, k::COST_CACHE_READ_USD), 0.005);
    let o3 = find(&spans, "chat o3");
    assert_usd(f64_attr(o3, k::COST_USD), 0.042);
    assert_usd(f64_attr(o3, k::COST_REASONING_USD), 0.032);
    assert_usd(f64_attr(o3, k::COST_OUTPUT_USD), 0.008);
}

/// Unknown is not zero: no `botanu.cost.usd`, an explicit marker and reason. A non-model operation
/// (an agent invocation) is not an LLM call and carries no cost at all.
#[test]
fn unknown_models_and_calls_without_usage_are_unpriced_with_a_reason() {
    let h = Harness::new();
    h.run(|| {
        llm_span!(provider = "openai", model = "no-such-model").set_tokens(Tokens {
            input: 10,
            output: 1,
            ..Default::default()
        });
        llm_span!(provider = "openai", model = "gpt-4o-mini");
        llm_span!(provider = "no-such-vendor", model = "x").set_tokens(Tokens { input: 10, ..Default::default() });
        llm_span!(provider = "openai", model = "agent-x", operation = "invoke_agent").set_tokens(Tokens {
            input: 10,
            output: 1,
            ..Default::default()
        });
    });
    let spans = h.spans();
    for (model, reason) in [("no-such-model", "unknown_model"), ("gpt-4o-mini", "no_usage"), ("x", "unknown_provider")]
    {
        let span = llm(&spans, model);
        assert_absent(span, k::COST_USD);
        assert!(bool_attr(span, k::COST_UNPRICED), "{model}");
        assert_eq!(str_attr(span, k::COST_UNPRICED_REASON), reason, "{model}");
    }
    let agent = llm(&spans, "agent-x");
    assert_absent(agent, k::COST_USD);
    assert_absent(agent, k::COST_UNPRICED);
}

/// List prices: BigQuery on demand 6.25 USD per TiB scanned; S3 PUT-class 0.005 per 1,000 requests;
/// SQS 0.40 per million requests; DynamoDB on demand 0.125 per million read units. A self-hosted
/// database has no per-operation price: no cost attributes. BigQuery without a scanned-bytes figure is
/// unpriced (`no_usage`).
#[test]
fn data_operations_are_priced_from_their_figures() {
    let h = Harness::new();
    h.run(|| {
        db_span!(system = "bigquery", operation = "SELECT").set_bytes_scanned(1 << 40);
        db_span!(system = "bigquery", operation = "INSERT");
        storage_span!(system = "s3", operation = "PUT", bucket = "reports");
        messaging_span!(system = "sqs", operation = "publish", destination = "orders");
        db_span!(system = "dynamodb", operation = "GET").add_metadata("read_units", 4.0);
        db_span!(system = "postgres", operation = "select");
    });
    let spans = h.spans();
    let scan = find(&spans, "db.bigquery.select");
    assert_usd(f64_attr(scan, k::COST_USD), 6.25);
    assert_usd(f64_attr(scan, k::COST_DATA_USD), 6.25);
    assert_eq!(str_attr(scan, k::COST_MODEL), "bigquery.on_demand_scan");
    assert!(str_attr(scan, k::COST_SOURCE).starts_with("list-price "));
    let insert = find(&spans, "db.bigquery.insert");
    assert_eq!(str_attr(insert, k::COST_UNPRICED_REASON), "no_usage");
    assert_usd(f64_attr(find(&spans, "storage.s3.put"), k::COST_USD), 0.000_005);
    assert_usd(f64_attr(find(&spans, "messaging.sqs.publish"), k::COST_USD), 0.000_000_4);
    assert_usd(f64_attr(find(&spans, "db.dynamodb.get"), k::COST_USD), 0.000_000_5);
    let postgres = find(&spans, "db.postgresql.select");
    assert_absent(postgres, k::COST_USD);
    assert_absent(postgres, k::COST_UNPRICED);
}

/// The run carries the sum of what closed inside it; a nested run carries its own children and is not
/// added to its parent; cost per outcome divides by the outcome's `value_amount`.
#[test]
fn run_roll_up_sums_its_children_and_nested_runs_stay_separate() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "support-ticket").in_scope(|| {
            gpt_4o_cached();
            claude_cache_read_and_write();
            db_span!(system = "bigquery", operation = "SELECT").set_bytes_scanned(1 << 40);
            llm_span!(provider = "openai", model = "no-such-model").set_tokens(Tokens {
                input: 10,
                output: 1,
                ..Default::default()
            });
            run_span!(workflow = "summarize").in_scope(|| {
                gpt_4o_cached();
                emit_outcome("success", Outcome { value_amount: Some(4.0), ..Default::default() }).unwrap();
            });
            emit_outcome("success", Outcome { value_amount: Some(2.0), ..Default::default() }).unwrap();
        });
    });
    let spans = h.spans();
    let outer = find(&spans, "botanu.run/support-ticket");
    let inner = find(&spans, "botanu.run/summarize");

    let llm = 0.040 + 0.02025;
    assert_usd(f64_attr(outer, k::RUN_COST_USD), llm + 6.25);
    assert_usd(f64_attr(outer, k::RUN_COST_LLM_USD), llm);
    assert_usd(f64_attr(outer, k::RUN_COST_DATA_USD), 6.25);
    assert_usd(f64_attr(outer, k::RUN_COST_TOOL_USD), 0.0);
    assert_eq!(int_attr(outer, k::RUN_LLM_CALLS), 3);
    assert_eq!(int_attr(outer, k::RUN_TOKENS_INPUT), 10_000 + 13_000 + 10);
    assert_eq!(int_attr(outer, k::RUN_TOKENS_OUTPUT), 2_000 + 500 + 1);
    assert_eq!(int_attr(outer, k::RUN_TOKENS_CACHE_READ), 4_000 + 10_000);
    assert_eq!(int_attr(outer, k::RUN_COST_UNPRICED_COUNT), 1);
    assert_eq!(str_attr(outer, k::RUN_COST_SCOPE), "process");
    assert_eq!(int_attr(outer, k::RUN_COST_OPEN_SPANS), 0);
    assert_usd(f64_attr(outer, k::OUTCOME_COST_PER_UNIT), (llm + 6.25) / 2.0);

    // The sum of the children's own `botanu.cost.usd` equals the run's total.
    let outer_children: f64 = spans
        .iter()
        .filter(|s| is_child_of(s, outer) && s.name != "botanu.run/summarize")
        .filter_map(|s| attr(s, k::COST_USD).map(|_| f64_attr(s, k::COST_USD)))
        .sum();
    assert_usd(outer_children, f64_attr(outer, k::RUN_COST_USD));

    assert_usd(f64_attr(inner, k::RUN_COST_USD), 0.040);
    assert_eq!(int_attr(inner, k::RUN_LLM_CALLS), 1);
    assert_usd(f64_attr(inner, k::OUTCOME_COST_PER_UNIT), 0.010);

    let summary = h.guard.cost_summary();
    let row = summary.workflow("support-ticket").expect("a row per workflow");
    assert_eq!((row.runs, row.llm_calls, row.unpriced), (1, 3, 1));
    assert_usd(row.cost_usd, llm + 6.25);
    assert_usd(row.cost_per_outcome().expect("outcome emitted"), (llm + 6.25) / 2.0);
    assert_eq!(summary.workflow("summarize").map(|r| r.runs), Some(1));
}

/// A run where everything was unpriced has an unknown cost per outcome, not a zero one.
#[test]
fn cost_per_outcome_is_not_written_when_nothing_was_priced() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "unknown-only").in_scope(|| {
            llm_span!(provider = "openai", model = "no-such-model").set_tokens(Tokens {
                input: 10,
                output: 1,
                ..Default::default()
            });
            emit_outcome("success", Outcome { value_amount: Some(1.0), ..Default::default() }).unwrap();
        });
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/unknown-only");
    assert_eq!(int_attr(run, k::RUN_COST_UNPRICED_COUNT), 1);
    assert_absent(run, k::OUTCOME_COST_PER_UNIT);
    assert_eq!(h.guard.cost_summary().workflow("unknown-only").and_then(|r| r.cost_per_outcome()), None);
}

/// `botanu.cost` (f64 counter, USD) by category, provider or system, catalog model and workflow.
#[cfg(feature = "testing")]
#[test]
fn cost_metric_by_category_provider_model_and_workflow() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "support-ticket").in_scope(|| {
            gpt_4o_cached();
            gpt_4o_cached();
            db_span!(system = "bigquery", operation = "SELECT").set_bytes_scanned(1 << 40);
            llm_span!(provider = "openai", model = "no-such-model").set_tokens(Tokens {
                input: 10,
                output: 1,
                ..Default::default()
            });
        });
    });
    let rms = h.metrics();
    let metric = common::metric(&rms, k::METRIC_COST);
    assert_eq!(metric.unit(), "USD");
    let AggregatedMetrics::F64(MetricData::Sum(sum)) = metric.metric().data() else {
        panic!("botanu.cost is an f64 counter: {:?}", metric.metric().data());
    };
    assert!(sum.is_monotonic());
    let points: HashMap<Vec<(String, String)>, f64> =
        metric.points().iter().map(|point| (sorted_attrs(point), point.sum)).collect();
    let key = |pairs: &[(&str, &str)]| {
        let mut attrs: Vec<(String, String)> = pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        attrs.sort();
        attrs
    };
    let llm = key(&[
        (k::COST_CATEGORY, "llm"),
        (k::GEN_AI_PROVIDER_NAME, "openai"),
        (k::GEN_AI_REQUEST_MODEL, "gpt-4o"),
        (k::WORKFLOW, "support-ticket"),
    ]);
    let data = key(&[(k::COST_CATEGORY, "data"), (k::DB_SYSTEM, "bigquery"), (k::WORKFLOW, "support-ticket")]);
    assert_usd(points[&llm], 0.080);
    assert_usd(points[&data], 6.25);
    // Unpriced calls add nothing (no zero-valued series for an unknown model).
    assert_eq!(points.len(), 2, "{points:?}");
}

fn harness_from(config: Config) -> Harness {
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let metrics = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
    let builder = botanu::Builder::from_config(config.with_traces_exporter(botanu::config::TracesExporter::None))
        .expect("builder")
        .with_span_exporter(exporter.clone())
        .with_metric_exporter(metrics.clone());
    let (layer, guard) = builder.build().expect("pipeline builds");
    let dispatch =
        tracing::Dispatch::new(tracing_subscriber::layer::SubscriberExt::with(tracing_subscriber::registry(), layer));
    Harness { exporter, metrics, guard, dispatch }
}

fn million_in_million_out_gpt_4o(h: &Harness) -> f64 {
    h.run(|| {
        llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens {
            input: 1_000_000,
            output: 1_000_000,
            ..Default::default()
        });
    });
    let spans = h.spans();
    f64_attr(spans.last().expect("a span"), k::COST_USD)
}

/// Overrides follow the one precedence (code > environment > YAML > defaults); the environment's list
/// replaces the file's; a discount applies to catalog prices and marks the source `override`.
/// 1M input + 1M output of gpt-4o: list 2.5 + 10 = 12.5; YAML 1 + 1 = 2; env 2 + 4 = 6; code 3 + 6 = 9.
#[test]
fn overrides_follow_code_env_yaml_precedence() {
    let dir = std::env::temp_dir().join(format!("botanu-cost-precedence-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("botanu.yaml"),
        "pricing:\n  overrides:\n    openai/gpt-4o: input:1,output:1\n    anthropic: discount:0.5\n",
    )
    .expect("yaml written");
    let load = |env: &[(&str, &str)]| {
        let env: HashMap<String, String> = env.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        Config::load_from(&ConfigSource::from_env_map(env).with_search_dir(&dir)).expect("config loads").0
    };

    assert_usd(million_in_million_out_gpt_4o(&harness_from(Config::default())), 12.5);
    let yaml = load(&[]);
    assert_usd(million_in_million_out_gpt_4o(&harness_from(yaml.clone())), 2.0);
    let env = load(&[("BOTANU_PRICE_OVERRIDES", "openai/gpt-4o=input:2,output:4")]);
    assert_usd(million_in_million_out_gpt_4o(&harness_from(env.clone())), 6.0);
    let code = env.with_price_override(PriceOverride {
        provider: "openai".into(),
        model: Some("gpt-4o".into()),
        prices: TokenPrices { input: Some(3.0), output: Some(6.0), ..Default::default() },
        discount: None,
    });
    assert_usd(million_in_million_out_gpt_4o(&harness_from(code)), 9.0);

    // The file's discount: claude at half the catalog price, source `override`.
    let h = harness_from(yaml);
    h.run(claude_cache_read_and_write);
    let spans = h.spans();
    let claude = llm(&spans, "claude-3-5-sonnet");
    assert_usd(f64_attr(claude, k::COST_USD), 0.02025 * 0.5);
    assert_eq!(str_attr(claude, k::COST_SOURCE), "override");
    std::fs::remove_dir_all(&dir).ok();
}

/// Bad price input is a typed configuration error naming the key (and, for YAML, the file and line).
#[test]
fn bad_pricing_input_is_a_config_error_naming_the_key() {
    let env = HashMap::from([("BOTANU_PRICE_OVERRIDES".to_string(), "openai/gpt-4o=input:-1,output:10".to_string())]);
    let error = Config::load_from(&ConfigSource::from_env_map(env).with_search_dir("/nonexistent")).unwrap_err();
    match &error {
        botanu::ConfigError::InvalidValue { key, .. } => assert_eq!(key, "BOTANU_PRICE_OVERRIDES[openai/gpt-4o].input"),
        other => panic!("unexpected {other:?}"),
    }

    let dir = std::env::temp_dir().join(format!("botanu-cost-bad-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("botanu.yaml"), "pricing:\n  overrides:\n    anthropic: discount:2\n").expect("yaml");
    let error = Config::load_from(&ConfigSource::from_env_map(HashMap::new()).with_search_dir(&dir)).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("pricing.overrides[anthropic/*].discount") && text.contains("line 3"), "{text}");

    let env = HashMap::from([("BOTANU_PRICE_CATALOG_FILE".to_string(), "/nonexistent/prices.json".to_string())]);
    let error = Config::load_from(&ConfigSource::from_env_map(env).with_search_dir("/nonexistent")).unwrap_err();
    assert!(error.to_string().contains("BOTANU_PRICE_CATALOG_FILE"), "{error}");

    let env = HashMap::from([("BOTANU_PRICING_ENABLED".to_string(), "perhaps".to_string())]);
    let error = Config::load_from(&ConfigSource::from_env_map(env).with_search_dir("/nonexistent")).unwrap_err();
    assert!(error.to_string().contains("BOTANU_PRICING_ENABLED"), "{error}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The off switch: no cost attributes, no roll-up, an empty summary.
#[test]
fn pricing_off_writes_no_cost() {
    let h = Harness::with(|b| b.with_pricing_enabled(false));
    h.run(|| run_span!(workflow = "off").in_scope(gpt_4o_cached));
    let spans = h.spans();
    assert_absent(llm(&spans, "gpt-4o"), k::COST_USD);
    assert_absent(find(&spans, "botanu.run/off"), k::RUN_COST_USD);
    assert!(h.guard.cost_summary().workflows.is_empty());
}
