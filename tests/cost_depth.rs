//! Cost depth as exported (contract §7, "Added in round 3"): service tiers, 5-minute vs 1-hour cache
//! writes, audio tokens, web searches, provider-reported cost, tool unit prices — read from the in-memory
//! exporters, with figures worked out by hand from the bundled catalog (`genai-prices` 0.2.1, USD per
//! million tokens, in force at the spans' start time, i.e. now: every row below started by 2026-10-14):
//!
//! - openai/o3: input 2, cache read 0.5, output 8, web searches 10 per thousand; flex variant
//!   (`service_tier=flex`, from 2026-10-12): input 1, cache read 0.25, output 4;
//! - openai/gpt-4o: input 2.5, cache read 1.25, output 10, web searches 10 per thousand; variants
//!   priority and batch only — **no flex variant**;
//! - anthropic/claude-sonnet-4-5 (≤ 200k prompt tokens): input 3, cache write (5 min) 3.75, cache write
//!   1 h 6, cache read 0.3, output 15; batch variant (`processing=batch`, from 2026-10-14): input 1.5,
//!   cache write 1.875, cache write 1 h 3, cache read 0.15, output 7.5;
//! - openai/gpt-audio: input 2.5, output 10, audio input 32, audio output 64.
#![cfg(feature = "bundled-prices")]

mod common;

use std::collections::HashMap;

use botanu::config::{Config, ConfigSource};
use botanu::cost::{ServiceTier, ToolPrice};
use botanu::prelude::*;
use botanu::semconv as k;
use common::*;
use opentelemetry_sdk::trace::SpanData;

fn assert_usd(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-12, "{actual} != {expected}");
}

fn by_model<'a>(spans: &'a [SpanData], model: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| attr(s, k::GEN_AI_REQUEST_MODEL).is_some_and(|v| v.as_str() == model)).collect()
}

/// A flex call, a batch call, a flex call of a model without a flex rate, and a tier name the crate does
/// not know.
///
/// - o3 flex, 10,000 prompt tokens of which 2,000 cached, 1,000 output:
///   8,000 × 1 + 2,000 × 0.25 + 1,000 × 4 = 12,500 → 0.0125 (the standard rate would give 0.025).
/// - claude-sonnet-4-5 batch, 1,000 input + 1,000 output: 1,000 × 1.5 + 1,000 × 7.5 → 0.009 (standard 0.018).
/// - gpt-4o flex: no flex row → unpriced `no_tier_price`, not the standard 0.0035.
/// - o3 at `scale` (an OpenAI tier without a catalog row): unpriced `no_tier_price`, tier written as given.
#[test]
fn service_tiers_are_priced_at_their_rates_or_not_at_all() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "tiers").in_scope(|| {
            // The OpenAI semconv key, as an instrumentation crate writes it.
            let flex = tracing::info_span!(
                "chat o3",
                gen_ai.operation.name = "chat",
                gen_ai.provider.name = "openai",
                gen_ai.request.model = "o3",
                openai.response.service_tier = "flex",
            );
            flex.set_tokens(Tokens::openai(10_000, 2_000, 1_000));
            llm_span!(provider = "anthropic", model = "claude-sonnet-4-5")
                .set_tokens(Tokens::anthropic(1_000, 0, 0, 1_000))
                .set_service_tier(ServiceTier::Batch);
            llm_span!(provider = "openai", model = "gpt-4o")
                .set_tokens(Tokens::openai(1_000, 0, 100))
                .set_service_tier(ServiceTier::Flex);
            tracing::info_span!(
                "chat o3",
                gen_ai.operation.name = "chat",
                gen_ai.provider.name = "openai",
                gen_ai.request.model = "o3",
                openai.request.service_tier = "Scale",
            )
            .set_tokens(Tokens::openai(1_000, 0, 100));
        });
    });
    let spans = h.spans();
    let o3 = by_model(&spans, "o3");
    let flex = o3.iter().find(|s| attr(s, k::COST_USD).is_some()).expect("the flex call is priced");
    assert_usd(f64_attr(flex, k::COST_USD), 0.0125);
    assert_usd(f64_attr(flex, k::COST_INPUT_USD), 0.008);
    assert_usd(f64_attr(flex, k::COST_CACHE_READ_USD), 0.0005);
    assert_usd(f64_attr(flex, k::COST_OUTPUT_USD), 0.004);
    assert_eq!(str_attr(flex, k::COST_SERVICE_TIER), "flex");

    let batch = by_model(&spans, "claude-sonnet-4-5")[0];
    assert_usd(f64_attr(batch, k::COST_USD), 0.009);
    assert_eq!(str_attr(batch, k::COST_SERVICE_TIER), "batch");
    assert!(bool_attr(batch, k::COST_ESTIMATED));

    let no_flex = by_model(&spans, "gpt-4o")[0];
    assert_absent(no_flex, k::COST_USD);
    assert!(bool_attr(no_flex, k::COST_UNPRICED));
    assert_eq!(str_attr(no_flex, k::COST_UNPRICED_REASON), "no_tier_price");
    assert_eq!(str_attr(no_flex, k::COST_SERVICE_TIER), "flex");

    let scale = o3.iter().find(|s| attr(s, k::COST_USD).is_none()).expect("the scale call");
    assert_eq!(str_attr(scale, k::COST_UNPRICED_REASON), "no_tier_price");
    assert_eq!(str_attr(scale, k::COST_SERVICE_TIER), "scale");

    let run = find(&spans, "botanu.run/tiers");
    assert_usd(f64_attr(run, k::RUN_COST_USD), 0.0125 + 0.009);
    assert_eq!(int_attr(run, k::RUN_COST_UNPRICED_COUNT), 2);
}

/// A standard call that does not name its tier carries no `botanu.cost.service_tier`; one that names
/// `default` says `standard`.
#[test]
fn the_standard_tier_is_written_only_when_the_span_named_it() {
    let h = Harness::new();
    h.run(|| {
        llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens::openai(1_000, 0, 100));
        tracing::info_span!(
            "chat o3",
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = "openai",
            gen_ai.request.model = "o3",
            openai.response.service_tier = "default",
        )
        .set_tokens(Tokens::openai(1_000, 0, 100));
    });
    let spans = h.spans();
    let plain = by_model(&spans, "gpt-4o")[0];
    assert_absent(plain, k::COST_SERVICE_TIER);
    // 1,000 × 2.5 + 100 × 10 = 3,500 → 0.0035
    assert_usd(f64_attr(plain, k::COST_USD), 0.0035);
    let named = by_model(&spans, "o3")[0];
    assert_eq!(str_attr(named, k::COST_SERVICE_TIER), "standard");
    // 1,000 × 2 + 100 × 8 = 2,800 → 0.0028
    assert_usd(f64_attr(named, k::COST_USD), 0.0028);
}

/// claude-sonnet-4-5, 1,000 uncached input, 10,000 cache-write tokens, 100 output:
/// - all 5-minute: 1,000 × 3 + 10,000 × 3.75 + 100 × 15 = 3,000 + 37,500 + 1,500 → 0.042;
/// - 4,000 of them 1-hour: 3,000 + 6,000 × 3.75 + 4,000 × 6 + 1,500 = 3,000 + 22,500 + 24,000 + 1,500
///   → 0.051, of which cache writes 0.0465.
#[test]
fn one_hour_cache_writes_are_priced_at_their_rate() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "cache").in_scope(|| {
            llm_span!(provider = "anthropic", model = "claude-sonnet-4-5", operation = "five")
                .set_tokens(Tokens::anthropic(1_000, 0, 10_000, 100));
            let hour = Tokens { cache_write_1h: 4_000, ..Tokens::anthropic(1_000, 0, 10_000, 100) };
            llm_span!(provider = "anthropic", model = "claude-sonnet-4-5", operation = "hour").set_tokens(hour);
        });
    });
    let spans = h.spans();
    let calls = by_model(&spans, "claude-sonnet-4-5");
    let five = calls.iter().find(|s| attr(s, k::USAGE_CACHE_WRITE_1H_TOKENS).is_none()).expect("5-minute call");
    let hour = calls.iter().find(|s| attr(s, k::USAGE_CACHE_WRITE_1H_TOKENS).is_some()).expect("1-hour call");
    assert_usd(f64_attr(five, k::COST_USD), 0.042);
    assert_usd(f64_attr(five, k::COST_CACHE_WRITE_USD), 0.0375);
    assert_eq!(int_attr(hour, k::USAGE_CACHE_WRITE_1H_TOKENS), 4_000);
    assert_usd(f64_attr(hour, k::COST_USD), 0.051);
    assert_usd(f64_attr(hour, k::COST_CACHE_WRITE_USD), 0.0465);
    assert_usd(f64_attr(hour, k::COST_INPUT_USD), 0.003);
}

/// gpt-audio, 1,000 prompt tokens of which 800 audio, 100 output:
/// 200 × 2.5 + 800 × 32 + 100 × 10 = 500 + 25,600 + 1,000 = 27,100 → 0.0271, audio part 0.0256.
#[test]
fn audio_input_tokens_are_priced_at_the_audio_rate() {
    let h = Harness::new();
    h.run(|| {
        let usage = Tokens { input: 1_000, audio_input: 800, output: 100, ..Default::default() };
        llm_span!(provider = "openai", model = "gpt-audio").set_tokens(usage);
    });
    let spans = h.spans();
    let call = by_model(&spans, "gpt-audio")[0];
    assert_eq!(int_attr(call, k::GEN_AI_USAGE_AUDIO_INPUT_TOKENS), 800);
    assert_usd(f64_attr(call, k::COST_USD), 0.0271);
    assert_usd(f64_attr(call, k::COST_AUDIO_USD), 0.0256);
    assert_usd(f64_attr(call, k::COST_INPUT_USD), 0.0005);
    assert_usd(f64_attr(call, k::COST_OUTPUT_USD), 0.001);
    assert_absent(call, k::COST_IMAGE_USD);
}

/// gpt-4o, 1,000 input + 100 output and 3 web searches: tokens 1,000 × 2.5 + 100 × 10 = 3,500 → 0.0035;
/// searches 3 × 10 / 1,000 → 0.03; total 0.0335.
#[test]
fn web_searches_are_priced_per_thousand() {
    let h = Harness::new();
    h.run(|| {
        llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens::openai(1_000, 0, 100)).set_web_searches(3);
    });
    let spans = h.spans();
    let call = by_model(&spans, "gpt-4o")[0];
    assert_eq!(int_attr(call, k::USAGE_WEB_SEARCH_REQUESTS), 3);
    assert_usd(f64_attr(call, k::COST_WEB_SEARCH_USD), 0.03);
    assert_usd(f64_attr(call, k::COST_USD), 0.0335);
    assert_absent(call, k::COST_UNPRICED_PARTS);
}

/// Searches with no per-search rate are never a silent $0: gpt-4o at a negotiated price override (input 2,
/// output 8; an override has no search rate), 1,000 input + 100 output and 3 searches: the total is the
/// tokens' 1,000 × 2 + 100 × 8 = 2,800 → 0.0028, marked `botanu.cost.unpriced_parts = web_search`.
#[test]
fn web_searches_without_a_rate_mark_the_total_partial() {
    use botanu::cost::{PriceOverride, TokenPrices};
    let h = Harness::with(|b| {
        b.with_price_override(PriceOverride {
            provider: "openai".into(),
            model: Some("gpt-4o".into()),
            prices: TokenPrices { input: Some(2.0), output: Some(8.0), ..Default::default() },
            ..Default::default()
        })
    });
    h.run(|| {
        llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens::openai(1_000, 0, 100)).set_web_searches(3);
        llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens::openai(1_000, 0, 100));
    });
    let spans = h.spans();
    let calls = by_model(&spans, "gpt-4o");
    assert_eq!(calls.len(), 2);
    for call in &calls {
        assert_usd(f64_attr(call, k::COST_USD), 0.0028);
        assert_absent(call, k::COST_WEB_SEARCH_USD);
    }
    let searched = calls.iter().find(|s| attr(s, k::USAGE_WEB_SEARCH_REQUESTS).is_some()).expect("searched");
    assert_eq!(str_attr(searched, k::COST_UNPRICED_PARTS), k::UNPRICED_PART_WEB_SEARCH);
    let plain = calls.iter().find(|s| attr(s, k::USAGE_WEB_SEARCH_REQUESTS).is_none()).expect("plain");
    assert_absent(plain, k::COST_UNPRICED_PARTS);
}

/// An OpenRouter-style response with `usage.cost` (the dialect key `gen_ai.usage.cost`, as recorded by a
/// crate) and one through `set_provider_cost`: the provider's figure is the cost, the local estimate
/// beside it; a figure more than 1 % off the estimate counts in `botanu.cost.estimate_drift`.
/// The estimate of both: gpt-4o 10,000 prompt (4,000 cached) + 2,000 output = 0.040.
#[cfg(feature = "testing")]
#[test]
fn provider_reported_cost_is_the_cost_and_the_estimate_is_the_check() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "reported").in_scope(|| {
            let openrouter = tracing::info_span!(
                "chat gpt-4o",
                gen_ai.operation.name = "chat",
                gen_ai.provider.name = "openai",
                gen_ai.request.model = "gpt-4o",
                gen_ai.usage.cost = 0.0462,
            );
            openrouter.set_tokens(Tokens::openai(10_000, 4_000, 2_000));
            // Within 1 % of the estimate: no drift.
            llm_span!(provider = "openai", model = "gpt-4o")
                .set_tokens(Tokens::openai(10_000, 4_000, 2_000))
                .set_provider_cost(0.0401);
            // A model no catalog knows: the provider's figure still prices it, without an estimate.
            llm_span!(provider = "openrouter", model = "acme/unknown-model")
                .set_tokens(Tokens::openai(100, 0, 10))
                .set_provider_cost(0.0007);
        });
    });
    let spans = h.spans();
    let calls = by_model(&spans, "gpt-4o");
    let drifting = calls.iter().find(|s| (f64_attr(s, k::COST_USD) - 0.0462).abs() < 1e-12).expect("0.0462 call");
    assert_eq!(str_attr(drifting, k::COST_SOURCE), "provider");
    assert!(!bool_attr(drifting, k::COST_ESTIMATED));
    assert_usd(f64_attr(drifting, k::COST_ESTIMATE_USD), 0.040);
    // The estimate's parts are not written beside a total they do not add up to.
    assert_absent(drifting, k::COST_INPUT_USD);
    let close = calls.iter().find(|s| (f64_attr(s, k::COST_USD) - 0.0401).abs() < 1e-12).expect("0.0401 call");
    assert_usd(f64_attr(close, k::COST_ESTIMATE_USD), 0.040);
    let unknown = by_model(&spans, "acme/unknown-model")[0];
    assert_usd(f64_attr(unknown, k::COST_USD), 0.0007);
    assert_eq!(str_attr(unknown, k::COST_SOURCE), "provider");
    assert_absent(unknown, k::COST_ESTIMATE_USD);
    assert_absent(unknown, k::COST_UNPRICED);

    let run = find(&spans, "botanu.run/reported");
    assert_usd(f64_attr(run, k::RUN_COST_LLM_USD), 0.0462 + 0.0401 + 0.0007);

    let drift = counter_values(&h.metrics(), k::METRIC_COST_ESTIMATE_DRIFT);
    let expected: std::collections::BTreeMap<_, _> =
        [(vec![(k::GEN_AI_PROVIDER_NAME.to_owned(), "openai".to_owned())], 1)].into_iter().collect();
    assert_eq!(drift, expected);
}

/// A tool with a unit price of 0.01 per call and 0.001 per item, returning 5 items: 0.01 + 5 × 0.001 =
/// 0.015, source `unit-price`, rolled into `botanu.run.cost.tool_usd`. A tool without a unit price stays
/// without a cost; a per-item tool whose items were not recorded is unpriced `no_usage`.
#[test]
fn tool_spans_are_priced_from_unit_prices() {
    let h = Harness::with(|b| {
        b.with_tool_price(ToolPrice { tool: "web_search".into(), per_call: Some(0.01), per_item: Some(0.001) })
            .with_tool_price(ToolPrice { tool: "enrich".into(), per_call: None, per_item: Some(0.002) })
    });
    h.run(|| {
        run_span!(workflow = "tools").in_scope(|| {
            tool_span!(name = "web_search").set_result(ToolResult {
                success: true,
                items_returned: 5,
                ..Default::default()
            });
            tool_span!(name = "free_tool").set_result(ToolResult {
                success: true,
                items_returned: 5,
                ..Default::default()
            });
            let _unrecorded = tool_span!(name = "enrich");
        });
    });
    let spans = h.spans();
    let search = find(&spans, "execute_tool web_search");
    assert_usd(f64_attr(search, k::COST_USD), 0.015);
    assert_eq!(str_attr(search, k::COST_SOURCE), "unit-price");
    assert!(bool_attr(search, k::COST_ESTIMATED));
    let free = find(&spans, "execute_tool free_tool");
    assert_absent(free, k::COST_USD);
    assert_absent(free, k::COST_UNPRICED);
    let enrich = find(&spans, "execute_tool enrich");
    assert_eq!(str_attr(enrich, k::COST_UNPRICED_REASON), "no_usage");
    let run = find(&spans, "botanu.run/tools");
    assert_usd(f64_attr(run, k::RUN_COST_TOOL_USD), 0.015);
    assert_usd(f64_attr(run, k::RUN_COST_USD), 0.015);
    assert_eq!(int_attr(run, k::RUN_COST_UNPRICED_COUNT), 1);
}

/// Tool unit prices follow code > environment > YAML: the file prices `search` at 0.5 per call, the
/// environment at 0.25, code at 0.125.
#[test]
fn tool_prices_follow_the_configuration_precedence() {
    let dir = std::env::temp_dir().join(format!("botanu-tool-prices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("botanu.yaml"), "pricing:\n  tool_prices:\n    search: call:0.5\n").expect("yaml written");
    let load = |env: &[(&str, &str)]| {
        let env: HashMap<String, String> = env.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        Config::load_from(&ConfigSource::from_env_map(env).with_search_dir(&dir)).expect("config loads").0
    };
    let priced = |config: Config| {
        let h = harness_from(config);
        h.run(|| {
            tool_span!(name = "search");
        });
        f64_attr(find(&h.spans(), "execute_tool search"), k::COST_USD)
    };
    let yaml = load(&[]);
    assert_usd(priced(yaml), 0.5);
    let env = load(&[("BOTANU_TOOL_PRICES", "search=call:0.25")]);
    assert_usd(priced(env.clone()), 0.25);
    let code = env.with_tool_price(ToolPrice { tool: "search".into(), per_call: Some(0.125), per_item: None });
    assert_usd(priced(code), 0.125);
    let bad = Config::load_from(&ConfigSource::from_env_map(
        [("BOTANU_TOOL_PRICES".to_owned(), "search=call:x".to_owned())].into_iter().collect(),
    ))
    .unwrap_err();
    assert!(bad.to_string().contains("BOTANU_TOOL_PRICES[search].call"), "{bad}");
    std::fs::remove_dir_all(&dir).ok();
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

/// `botanu.cost` by customer, capped: `acme` is allow-listed, one more id gets its own series (the limit),
/// the rest count under `_other`. Each run makes one gpt-4o call of 1,000 input + 100 output = 0.0035.
/// Without the setting, the metric has no customer attribute (see `cost_spans.rs`).
#[cfg(feature = "testing")]
#[test]
fn the_cost_metric_by_customer_is_capped_with_an_other_bucket() {
    let config = Config::default().with_cost_metric_customers(["acme"]).with_cost_metric_customer_limit(1);
    let h = harness_from(config);
    h.run(|| {
        for customer in ["acme", "globex", "initech", "umbrella", "acme"] {
            run_span!(workflow = "support", customer_id = customer, tenant_id = "eu").in_scope(|| {
                llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens::openai(1_000, 0, 100));
            });
        }
    });
    let rms = h.metrics();
    let points = common::metric(&rms, k::METRIC_COST).points();
    let mut by_customer: HashMap<String, f64> = HashMap::new();
    for point in &points {
        let attrs: HashMap<String, String> = sorted_attrs(point).into_iter().collect();
        assert_eq!(attrs.get(k::TENANT_ID).map(String::as_str), Some("eu"), "{attrs:?}");
        *by_customer.entry(attrs[k::CUSTOMER_ID].clone()).or_default() += point.sum;
    }
    assert_eq!(by_customer.len(), 3, "{by_customer:?}");
    assert_usd(by_customer["acme"], 0.007);
    assert_usd(by_customer["_other"], 0.007);
    let admitted: Vec<_> = by_customer.keys().filter(|id| !["acme", "_other"].contains(&id.as_str())).collect();
    assert_eq!(admitted.len(), 1, "{by_customer:?}");
    assert_usd(by_customer[admitted[0]], 0.0035);
}

/// The cost ledger, parsed back: one line per priced span (LLM calls at a tier and with a provider
/// figure, a tool at its unit price, a data operation), each figure equal to the exported span's
/// attribute; unpriced spans and run spans write no line; no content reaches it.
#[test]
fn the_cost_ledger_has_one_line_per_priced_span_with_the_span_figures() {
    let dir = std::env::temp_dir().join(format!("botanu-ledger-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("cost.jsonl");
    let config = Config::default().with_cost_ledger(&path).with_content_capture_rate(1.0).with_tool_price(ToolPrice {
        tool: "web_search".into(),
        per_call: Some(0.01),
        per_item: None,
    });
    let h = harness_from(config);
    h.run(|| {
        run_span!(workflow = "ledger", customer_id = "acme", tenant_id = "eu").in_scope(|| {
            llm_span!(provider = "openai", model = "o3")
                .set_tokens(Tokens::openai(10_000, 2_000, 1_000))
                .set_service_tier(ServiceTier::Flex)
                .set_request_id("resp-flex", None)
                .set_input_content("a secret prompt");
            llm_span!(provider = "openai", model = "gpt-4o")
                .set_tokens(Tokens::openai(10_000, 4_000, 2_000))
                .set_provider_cost(0.0462)
                .set_request_id("resp-reported", None);
            llm_span!(provider = "openai", model = "no-such-model").set_tokens(Tokens::openai(10, 0, 1));
            tool_span!(name = "web_search");
            db_span!(system = "bigquery", operation = "SELECT").set_bytes_scanned(1 << 40);
        });
    });
    let spans = h.spans();
    let priced: Vec<&SpanData> = spans.iter().filter(|s| attr(s, k::COST_USD).is_some()).collect();
    assert_eq!(priced.len(), 4, "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    let text = std::fs::read_to_string(&path).expect("the ledger was written");
    assert!(!text.contains("secret"), "{text}");
    let lines: Vec<serde_json::Value> =
        text.lines().map(|line| serde_json::from_str(line).expect("each line is one JSON object")).collect();
    assert_eq!(lines.len(), priced.len(), "{text}");
    let run_id = str_attr(find(&spans, "botanu.run/ledger"), k::RUN_ID);
    for span in priced {
        let line = lines
            .iter()
            .find(|line| line["span_name"] == span.name.as_ref())
            .unwrap_or_else(|| panic!("no line for {}: {text}", span.name));
        assert_eq!(line["cost_usd"].as_f64(), Some(f64_attr(span, k::COST_USD)), "{line}");
        assert_eq!(line["source"], str_attr(span, k::COST_SOURCE), "{line}");
        assert_eq!(line["provider"], str_attr(span, k::COST_PROVIDER), "{line}");
        assert_eq!(line["run_id"], run_id, "{line}");
        assert_eq!(line["workflow"], "ledger", "{line}");
        assert_eq!(line["customer_id"], "acme", "{line}");
        assert_eq!(line["tenant_id"], "eu", "{line}");
        assert!(line["time"].as_str().is_some_and(|t| t.ends_with('Z') && t.contains('T')), "{line}");
        match attr(span, k::COST_ESTIMATE_USD) {
            Some(_) => assert_eq!(line["estimate_usd"].as_f64(), Some(f64_attr(span, k::COST_ESTIMATE_USD))),
            None => assert!(line.get("estimate_usd").is_none(), "{line}"),
        }
        if attr(span, k::GEN_AI_USAGE_INPUT_TOKENS).is_some() {
            assert_eq!(line["tokens"]["input"].as_i64(), Some(int_attr(span, k::GEN_AI_USAGE_INPUT_TOKENS)));
            assert_eq!(line["tokens"]["output"].as_i64(), Some(int_attr(span, k::GEN_AI_USAGE_OUTPUT_TOKENS)));
            assert_eq!(line["request_id"], str_attr(span, k::GEN_AI_RESPONSE_ID), "{line}");
        }
    }
    let flex = lines.iter().find(|line| line["request_id"] == "resp-flex").expect("flex line");
    assert_eq!(flex["service_tier"], "flex");
    assert_eq!(flex["tokens"]["cache_read"].as_i64(), Some(2_000));
    assert_eq!(flex["cost_usd"].as_f64(), Some(0.0125));
    let reported = lines.iter().find(|line| line["request_id"] == "resp-reported").expect("reported line");
    assert_eq!(reported["source"], "provider");
    assert_eq!(reported["estimate_usd"].as_f64(), Some(0.04));
    assert_eq!(h.guard.cost_ledger_dropped(), 0);
    drop(h);
    std::fs::remove_dir_all(&dir).ok();
}

/// The ledger's rotation, configured: past `max_bytes` the file moves to `.1`; with one rotated file kept,
/// nothing beyond `.1` exists and no file is over the bound (lines are never split).
#[test]
fn the_cost_ledger_rotates_within_its_bounds() {
    let dir = std::env::temp_dir().join(format!("botanu-ledger-rotation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("cost.jsonl");
    let h = harness_from(Config::default().with_cost_ledger(&path).with_cost_ledger_rotation(2_000, 1));
    h.run(|| {
        for _ in 0..30 {
            llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens::openai(1_000, 0, 100));
        }
    });
    assert_eq!(h.spans().len(), 30);
    let rotated = dir.join("cost.jsonl.1");
    for file in [&path, &rotated] {
        let text = std::fs::read_to_string(file).expect("both files exist");
        assert!(text.len() <= 2_000, "{} is {} bytes", file.display(), text.len());
        for line in text.lines() {
            let line: serde_json::Value = serde_json::from_str(line).expect("whole JSON lines");
            assert_eq!(line["cost_usd"].as_f64(), Some(0.0035));
        }
    }
    assert!(!dir.join("cost.jsonl.2").exists());
    drop(h);
    std::fs::remove_dir_all(&dir).ok();
}

/// 1-hour writes counted apart and above `cache_write` (Anthropic reports 5-minute and 1-hour writes as two
/// fields): claude-sonnet-4-5, 1,000 uncached input, 10,000 1-hour writes, `cache_write` left 0, 100 output:
/// 1,000 × 3 + 10,000 × 6 + 100 × 15 = 3,000 + 60,000 + 1,500 → 0.0645 — none dropped, and the run
/// counts the 11,000 input tokens.
#[test]
fn one_hour_writes_counted_apart_are_neither_dropped_nor_unpriced() {
    let h = Harness::new();
    h.run(|| {
        run_span!(workflow = "cache-apart").in_scope(|| {
            let usage = Tokens { cache_write_1h: 10_000, ..Tokens::anthropic(1_000, 0, 0, 100) };
            llm_span!(provider = "anthropic", model = "claude-sonnet-4-5").set_tokens(usage);
        });
    });
    let spans = h.spans();
    let call = by_model(&spans, "claude-sonnet-4-5")[0];
    assert_usd(f64_attr(call, k::COST_USD), 0.0645);
    assert_usd(f64_attr(call, k::COST_CACHE_WRITE_USD), 0.06);
    let run = find(&spans, "botanu.run/cache-apart");
    assert_eq!(int_attr(run, k::RUN_TOKENS_INPUT), 11_000);
}

/// An absent tier recorded as a value (`""`, `none`, `null`: an `Option` a crate formatted) is no tier: the
/// next spelling is read. o3 with an empty response tier and a requested `flex`: 10,000 prompt (2,000
/// cached) + 1,000 output at the flex rates: 8,000 × 1 + 2,000 × 0.25 + 1,000 × 4 = 12,500 → 0.0125.
#[test]
fn an_empty_tier_is_no_tier() {
    let h = Harness::new();
    h.run(|| {
        for empty in ["", "None", "null"] {
            tracing::info_span!(
                "chat o3",
                gen_ai.operation.name = "chat",
                gen_ai.provider.name = "openai",
                gen_ai.request.model = "o3",
                openai.response.service_tier = empty,
                openai.request.service_tier = "flex",
            )
            .set_tokens(Tokens::openai(10_000, 2_000, 1_000));
        }
    });
    let spans = h.spans();
    let calls = by_model(&spans, "o3");
    assert_eq!(calls.len(), 3);
    for call in calls {
        assert_usd(f64_attr(call, k::COST_USD), 0.0125);
        assert_eq!(str_attr(call, k::COST_SERVICE_TIER), "flex");
    }
}
