//! The pure pricing core (`botanu::cost`): catalog prices, token semantics, price history and tiers,
//! unpriced reasons, overrides and their precedence, data-operation list prices, the run roll-up, and the
//! wire keys. Expected figures are worked out by hand from the catalog rows quoted beside each test
//! (`genai-prices` 0.2.1, `data/prices.json`).
// Without the bundled catalog, the catalog tests are compiled out and their helpers go unused.
#![cfg_attr(not(feature = "bundled-prices"), allow(unused_imports, dead_code))]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use botanu::cost::{
    price_data_operation, Catalog, Cost, CostCategory, DataUsage, PriceConfigErrorKind, PriceOverrides, Priced,
    PricingConfig, PricingEngine, RunCost, Tokens, UnpricedReason, DATA_PRICES, DATA_PRICES_SOURCE,
    LOOKUP_CACHE_CAPACITY,
};
use botanu::semconv;

/// Equal to within floating-point noise (the catalog computes in f64).
fn assert_usd(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-12, "{actual} != {expected}");
}

fn at_day(unix_seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds)
}

/// 2025-01-01T00:00:00Z and 2025-07-01T00:00:00Z.
const JAN_2025: u64 = 1_735_689_600;
const JUL_2025: u64 = 1_751_328_000;

#[cfg(feature = "bundled-prices")]
fn engine() -> PricingEngine {
    PricingEngine::new(&PricingConfig::default()).expect("default config is valid")
}

fn priced(cost: Cost) -> Priced {
    match cost {
        Cost::Priced(priced) => priced,
        Cost::Unpriced { reason } => panic!("expected a price, got unpriced: {reason}"),
    }
}

fn reason(cost: Cost) -> UnpricedReason {
    match cost {
        Cost::Priced(priced) => panic!("expected unpriced, got {priced:?}"),
        Cost::Unpriced { reason } => reason,
    }
}

// === catalog: worked examples ===

/// openai/gpt-4o: input_mtok 2.5, cache_read_mtok 1.25, output_mtok 10.
/// 10,000 input of which 4,000 cached, 2,000 output:
/// 6,000 × 2.5/1e6 = 0.015; 4,000 × 1.25/1e6 = 0.005; 2,000 × 10/1e6 = 0.020; total 0.040.
#[test]
#[cfg(feature = "bundled-prices")]
fn gpt_4o_openai_style_cached_tokens_priced_once() {
    let priced =
        priced(engine().price_llm("openai", "gpt-4o", &Tokens::openai(10_000, 4_000, 2_000), SystemTime::now()));
    assert_usd(priced.total_usd, 0.040);
    assert_usd(priced.parts.input_usd, 0.015);
    assert_usd(priced.parts.cache_read_usd, 0.005);
    assert_usd(priced.parts.output_usd, 0.020);
    assert_usd(priced.parts.sum(), priced.total_usd);
    assert_eq!(&*priced.provenance.source, "genai-prices 0.2.1");
    assert_eq!(&*priced.provenance.provider, "openai");
    assert_eq!(priced.provenance.model.as_deref(), Some("gpt-4o"));
    assert!(priced.provenance.estimated);
}

/// anthropic/claude-3-5-sonnet: input_mtok 3, cache_read_mtok 0.3, cache_write_mtok 3.75, output_mtok 15.
/// 2,000 input (cache excluded), 10,000 cache read, 1,000 cache write, 500 output:
/// 2,000 × 3 = 0.006; 10,000 × 0.3 = 0.003; 1,000 × 3.75 = 0.00375; 500 × 15 = 0.0075 (all /1e6);
/// total 0.02025.
#[test]
#[cfg(feature = "bundled-prices")]
fn claude_anthropic_style_cache_reads_and_writes() {
    let usage = Tokens::anthropic(2_000, 10_000, 1_000, 500);
    let priced = priced(engine().price_llm("anthropic", "claude-3-5-sonnet", &usage, SystemTime::now()));
    assert_usd(priced.total_usd, 0.02025);
    assert_usd(priced.parts.input_usd, 0.006);
    assert_usd(priced.parts.cache_read_usd, 0.003);
    assert_usd(priced.parts.cache_write_usd, 0.00375);
    assert_usd(priced.parts.output_usd, 0.0075);
    assert_usd(priced.parts.sum(), priced.total_usd);
    assert_eq!(&*priced.provenance.provider, "anthropic");
    assert_eq!(priced.provenance.model.as_deref(), Some("claude-3-5-sonnet"));

    // The same call reported the OpenAI / semconv way (input includes the cache) costs the same.
    let semconv = Tokens::semconv(13_000, 500, 10_000, 1_000, 0);
    let same = priced_usd(engine().price_llm("anthropic", "claude-3-5-sonnet", &semconv, SystemTime::now()));
    assert_usd(same, 0.02025);
}

#[cfg(feature = "bundled-prices")]
fn priced_usd(cost: Cost) -> f64 {
    priced(cost).total_usd
}

/// openai/o3 has a price history: until 2025-06-10 input_mtok 10, output_mtok 40; from then 2 and 8.
/// 1,000,000 input + 1,000,000 output: 10 + 40 = 50 USD in January 2025, 2 + 8 = 10 USD in July 2025.
#[test]
#[cfg(feature = "bundled-prices")]
fn price_history_prices_at_the_calls_start_time() {
    let usage = Tokens::openai(1_000_000, 0, 1_000_000);
    let engine = engine();
    assert_usd(priced_usd(engine.price_llm("openai", "o3", &usage, at_day(JAN_2025))), 50.0);
    assert_usd(priced_usd(engine.price_llm("openai", "o3", &usage, at_day(JUL_2025))), 10.0);
}

/// o3 (from 2025-06-10): input_mtok 2, output_mtok 8, no separate reasoning price, so reasoning tokens
/// (a part of output) cost the output price. 1,000 input, 5,000 output of which 4,000 reasoning:
/// input 1,000 × 2/1e6 = 0.002; reasoning 4,000 × 8/1e6 = 0.032; other output 1,000 × 8/1e6 = 0.008;
/// total 0.042.
#[test]
#[cfg(feature = "bundled-prices")]
fn reasoning_tokens_are_a_part_of_output() {
    let usage = Tokens::openai(1_000, 0, 5_000).with_reasoning(4_000);
    let priced = priced(engine().price_llm("openai", "o3", &usage, at_day(JUL_2025)));
    assert_usd(priced.total_usd, 0.042);
    assert_usd(priced.parts.input_usd, 0.002);
    assert_usd(priced.parts.reasoning_usd, 0.032);
    assert_usd(priced.parts.output_usd, 0.008);
}

/// google/gemini-2.5-pro is tiered on prompt size (> 200,000 input tokens):
/// input_mtok 1.25 → 2.5, cache_read_mtok 0.125 → 0.25, output_mtok 10 → 15.
/// Above: 250,000 input incl. 50,000 cached, 1,000 output:
///   200,000 × 2.5 = 0.5; 50,000 × 0.25 = 0.0125; 1,000 × 15 = 0.015 (all /1e6); total 0.5275.
/// Below: 100,000 input incl. 20,000 cached, 1,000 output:
///   80,000 × 1.25 = 0.1; 20,000 × 0.125 = 0.0025; 1,000 × 10 = 0.01; total 0.1125.
#[test]
#[cfg(feature = "bundled-prices")]
fn tiered_prices_follow_the_prompt_size() {
    let engine = engine();
    let above = priced(engine.price_llm(
        "gcp.vertex_ai",
        "gemini-2.5-pro",
        &Tokens::openai(250_000, 50_000, 1_000),
        SystemTime::now(),
    ));
    assert_usd(above.total_usd, 0.5275);
    assert_usd(above.parts.input_usd, 0.5);
    assert_usd(above.parts.cache_read_usd, 0.0125);
    assert_usd(above.parts.output_usd, 0.015);
    assert_eq!(&*above.provenance.provider, "google");
    let below = priced(engine.price_llm(
        "gcp.vertex_ai",
        "gemini-2.5-pro",
        &Tokens::openai(100_000, 20_000, 1_000),
        SystemTime::now(),
    ));
    assert_usd(below.total_usd, 0.1125);
    assert_usd(below.parts.cache_read_usd, 0.0025);
}

// === unknown is not zero ===

#[test]
#[cfg(feature = "bundled-prices")]
fn unknown_and_unusable_are_unpriced_with_a_reason() {
    let engine = engine();
    let usage = Tokens::openai(1_000, 0, 100);
    let now = SystemTime::now();
    let table = [
        ("openai", "no-such-model-xyz", usage, UnpricedReason::UnknownModel),
        ("acme-llm", "gpt-4o", usage, UnpricedReason::UnknownProvider),
        ("openai", "gpt-4o", Tokens::default(), UnpricedReason::NoUsage),
        // github-copilot lists gpt-4o with no prices ("included in the subscription").
        ("github-copilot", "gpt-4o", usage, UnpricedReason::NoPrice),
    ];
    for (provider, model, usage, expected) in table {
        let cost = engine.price_llm(provider, model, &usage, now);
        assert_eq!(cost.usd(), None, "{provider}/{model}");
        assert_eq!(reason(cost), expected, "{provider}/{model}");
    }
}

#[test]
#[cfg(feature = "bundled-prices")]
fn lookup_cache_is_bounded_against_endless_model_names() {
    let catalog = Catalog::bundled();
    let usage = Tokens::openai(10, 0, 1);
    let now = SystemTime::now();
    for index in 0..LOOKUP_CACHE_CAPACITY + 200 {
        let cost = catalog.price("openai", &format!("hostile-model-{index}"), &usage, now);
        assert_eq!(reason(cost), UnpricedReason::UnknownModel);
    }
    assert_eq!(catalog.cached_lookups(), LOOKUP_CACHE_CAPACITY);
    // Past the bound, known models still price (looked up every time).
    assert_usd(priced(catalog.price("openai", "gpt-4o", &Tokens::openai(1_000_000, 0, 0), now)).total_usd, 2.5);
}

// === overrides ===

/// Override openai/gpt-4o input 2, output 8 (cache reads default to the input price):
/// 6,000 × 2 + 4,000 × 2 + 2,000 × 8 = 12,000 + 8,000 + 16,000 → /1e6 = 0.036.
#[test]
fn model_override_prices_without_any_catalog() {
    let overrides = PriceOverrides::parse("openai/gpt-4o=input:2,output:8", "test").unwrap();
    let engine = PricingEngine::with_catalogs(overrides, None, None).unwrap();
    let priced = priced(engine.price_llm("openai", "GPT-4o", &Tokens::openai(10_000, 4_000, 2_000), SystemTime::now()));
    assert_usd(priced.total_usd, 0.036);
    assert_usd(priced.parts.cache_read_usd, 0.008);
    assert_eq!(&*priced.provenance.source, "override");
    // No catalog and no override for another model: unpriced, not zero.
    assert_eq!(
        reason(engine.price_llm("openai", "gpt-4.1", &Tokens::openai(1, 0, 1), SystemTime::now())),
        UnpricedReason::UnknownProvider
    );
}

/// Precedence: model price override > provider price override > catalog; model discount > provider discount.
/// claude-3-5-sonnet list 0.02025 (see above): provider discount 0.5 → 0.010125, model discount 0.8 → 0.0162.
#[test]
#[cfg(feature = "bundled-prices")]
fn overrides_and_discounts_win_in_the_documented_order() {
    let usage = Tokens::anthropic(2_000, 10_000, 1_000, 500);
    let now = SystemTime::now();
    let with = |text: &str| {
        let overrides = PriceOverrides::parse(text, "test").unwrap();
        PricingEngine::new(&PricingConfig { overrides, ..PricingConfig::default() }).unwrap()
    };

    let discounted = priced(with("anthropic/*=discount:0.5").price_llm("anthropic", "claude-3-5-sonnet", &usage, now));
    assert_usd(discounted.total_usd, 0.010125);
    assert_usd(discounted.parts.cache_write_usd, 0.001875);
    assert_eq!(&*discounted.provenance.source, "override");
    assert_eq!(discounted.provenance.model.as_deref(), Some("claude-3-5-sonnet"));

    let model_discount = with("anthropic=discount:0.5;anthropic/claude-3-5-sonnet=discount:0.8");
    assert_usd(priced(model_discount.price_llm("anthropic", "claude-3-5-sonnet", &usage, now)).total_usd, 0.0162);

    // A provider-wide price: input 1, output 1, cache read 0.1, cache write 1 (USD/M):
    // 2,000 × 1 + 10,000 × 0.1 + 1,000 × 1 + 500 × 1 = 4,500 → 0.0045. The model entry then beats it.
    let provider_price = with("anthropic/*=input:1,output:1,cache_read:0.1,cache_write:1");
    assert_usd(priced(provider_price.price_llm("anthropic", "claude-3-5-sonnet", &usage, now)).total_usd, 0.0045);
    let model_price = with("anthropic/*=input:1,output:1;anthropic/claude-3-5-sonnet=input:0,output:10");
    // 500 × 10/1e6 = 0.005; input, cache read and cache write at the model's input price 0.
    assert_usd(priced(model_price.price_llm("anthropic", "claude-3-5-sonnet", &usage, now)).total_usd, 0.005);

    // A price override is the negotiated price: the discount does not stack on it.
    let both = with("openai/gpt-4o=input:2,output:8,discount:0.5");
    assert_usd(priced(both.price_llm("openai", "gpt-4o", &Tokens::openai(10_000, 4_000, 2_000), now)).total_usd, 0.036);

    // Later sources win: merge appends the higher-precedence one.
    let merged = PriceOverrides::parse("openai/gpt-4o=input:1,output:1", "yaml")
        .unwrap()
        .merge(PriceOverrides::parse("openai/gpt-4o=input:2,output:8", "env").unwrap());
    let engine = PricingEngine::with_catalogs(merged, None, None).unwrap();
    assert_usd(
        priced(engine.price_llm("openai", "gpt-4o", &Tokens::openai(10_000, 4_000, 2_000), now)).total_usd,
        0.036,
    );
}

/// A catalog file wins over the bundled catalog for what it lists, and the rest falls through:
/// file gpt-4o input_mtok 5, output_mtok 20: 1,000 × 5 + 100 × 20 = 7,000 → 0.007.
#[test]
fn catalog_file_prices_and_names_itself() {
    let dir = std::env::temp_dir().join(format!("botanu-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("negotiated.json");
    std::fs::write(
        &path,
        r#"[{"id": "openai", "name": "OpenAI", "api_pattern": "https://api\\.openai\\.com",
             "models": [{"id": "gpt-4o", "match": {"equals": "gpt-4o"},
                         "prices": {"input_mtok": 5, "output_mtok": 20}}]}]"#,
    )
    .unwrap();
    let config = PricingConfig { catalog_file: Some(path.clone()), ..PricingConfig::default() };
    let engine = PricingEngine::new(&config).unwrap();
    let now = SystemTime::now();
    let priced = priced(engine.price_llm("openai", "gpt-4o", &Tokens::openai(1_000, 0, 100), now));
    assert_usd(priced.total_usd, 0.007);
    assert_eq!(&*priced.provenance.source, "catalog-file negotiated.json");
    #[cfg(feature = "bundled-prices")]
    {
        // Not in the file: the bundled catalog prices it (claude, see above).
        let usage = Tokens::anthropic(2_000, 10_000, 1_000, 500);
        let fallback = self::priced(engine.price_llm("anthropic", "claude-3-5-sonnet", &usage, now));
        assert_usd(fallback.total_usd, 0.02025);
        assert_eq!(&*fallback.provenance.source, "genai-prices 0.2.1");
    }

    // Bad files are typed errors naming the file.
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{ not json").unwrap();
    let error = PricingEngine::new(&PricingConfig { catalog_file: Some(broken.clone()), ..PricingConfig::default() })
        .unwrap_err();
    assert_eq!(error.key, broken.display().to_string());
    assert!(matches!(error.kind, PriceConfigErrorKind::CatalogFile(_)));
    let missing = PathBuf::from("/nonexistent/botanu/prices.json");
    let error = Catalog::from_file(&missing).unwrap_err();
    assert_eq!(error.key, missing.display().to_string());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_override_input_is_a_typed_error_naming_the_key() {
    let env = "BOTANU_PRICE_OVERRIDES";
    type IsKind = fn(&PriceConfigErrorKind) -> bool;
    let table: [(&str, &str, IsKind); 9] = [
        (
            "openai/gpt-4o=input:-1,output:10",
            "BOTANU_PRICE_OVERRIDES[openai/gpt-4o].input",
            |k| matches!(k, PriceConfigErrorKind::NegativePrice(v) if *v == -1.0),
        ),
        ("openai/gpt-4o=input:NaN,output:10", "BOTANU_PRICE_OVERRIDES[openai/gpt-4o].input", |k| {
            matches!(k, PriceConfigErrorKind::NegativePrice(_))
        }),
        ("anthropic/*=discount:0", "BOTANU_PRICE_OVERRIDES[anthropic/*].discount", |k| {
            matches!(k, PriceConfigErrorKind::DiscountOutOfRange(_))
        }),
        ("anthropic=discount:1.5", "BOTANU_PRICE_OVERRIDES[anthropic/*].discount", |k| {
            matches!(k, PriceConfigErrorKind::DiscountOutOfRange(_))
        }),
        ("openai/gpt-4o=input:cheap", "BOTANU_PRICE_OVERRIDES[openai/gpt-4o].input", |k| {
            matches!(k, PriceConfigErrorKind::NotANumber(_))
        }),
        ("openai/gpt-4o=inptu:1", "BOTANU_PRICE_OVERRIDES[openai/gpt-4o].inptu", |k| {
            matches!(k, PriceConfigErrorKind::UnknownField(_))
        }),
        ("openai/gpt-4o", "BOTANU_PRICE_OVERRIDES[openai/gpt-4o]", |k| matches!(k, PriceConfigErrorKind::Malformed(_))),
        ("openai/gpt-4o=input:1", "BOTANU_PRICE_OVERRIDES[openai/gpt-4o].output", |k| {
            matches!(k, PriceConfigErrorKind::MissingPrice)
        }),
        ("openai/gpt-4o=", "BOTANU_PRICE_OVERRIDES[openai/gpt-4o]", |k| {
            matches!(k, PriceConfigErrorKind::NothingToOverride)
        }),
    ];
    for (text, key, kind) in table {
        let error = PriceOverrides::parse(text, env).unwrap_err();
        assert_eq!(error.key, key, "{text}");
        assert!(kind(&error.kind), "{text}: {:?}", error.kind);
        assert!(error.to_string().starts_with(key), "{error}");
    }
    // Whitespace and empty entries are fine; an empty string is no overrides.
    let parsed = PriceOverrides::parse(" openai / gpt-4o = input : 2.5 , output: 10 ; ; ", env).unwrap();
    assert_eq!(parsed.entries.len(), 1);
    assert_eq!(parsed.entries[0].model.as_deref(), Some("gpt-4o"));
    assert_eq!(parsed.entries[0].prices.output, Some(10.0));
    assert!(PriceOverrides::parse("", env).unwrap().entries.is_empty());
    // Overrides built in code are validated by the engine, naming them too.
    let mut code = PriceOverrides::default();
    code.entries.push(botanu::cost::PriceOverride {
        provider: "openai".into(),
        discount: Some(2.0),
        ..Default::default()
    });
    let error = PricingEngine::with_catalogs(code, None, None).unwrap_err();
    assert_eq!(error.key, "overrides[openai/*].discount");
}

// === data operations ===

#[test]
fn data_operations_priced_from_the_list_price_table() {
    let tib = 1u64 << 40;
    let data = |system, operation| DataUsage { system, operation, ..Default::default() };
    // (usage, expected USD, class) — arithmetic beside each row.
    let table = [
        // $6.25/TiB × 2 TiB
        (DataUsage { bytes_scanned: 2 * tib, ..data("bigquery", "SELECT") }, 12.5, "bigquery.on_demand_scan"),
        // 1 KB scanned bills the 10 MB minimum: 6.25 × 1e7 / 2^40
        (
            DataUsage { bytes_scanned: 1_000, ..data("bigquery", "SELECT") },
            6.25 * 1e7 / tib as f64,
            "bigquery.on_demand_scan",
        ),
        // $5/TB × 3 TB (decimal TB)
        (DataUsage { bytes_scanned: 3_000_000_000_000, ..data("athena", "SELECT") }, 15.0, "athena.scan"),
        // $0.005 per 1,000 PUT-class requests × 1,000
        (DataUsage { requests: 1_000, ..data("s3", "PUT") }, 0.005, "s3.put_class"),
        (DataUsage { requests: 1_000, ..data("S3", "list") }, 0.005, "s3.put_class"),
        // $0.0004 per 1,000 GET-class × 2,500 = 0.001
        (DataUsage { requests: 2_500, ..data("s3", "GET") }, 0.001, "s3.get_class"),
        // DELETE is a documented free operation: priced at 0 with its source, not unpriced.
        (DataUsage { requests: 1, ..data("s3", "DELETE") }, 0.0, "s3.delete"),
        (DataUsage { requests: 10_000, ..data("gcs", "PUT") }, 0.05, "gcs.class_a"),
        (DataUsage { requests: 10_000, ..data("gcs", "GET") }, 0.004, "gcs.class_b"),
        (DataUsage { requests: 10_000, ..data("azure_blob", "PUT") }, 0.05, "azure_blob.hot_write"),
        // $0.40 per million × 1
        (DataUsage { requests: 1, ..data("sqs", "publish") }, 0.4e-6, "sqs.standard_requests"),
        (DataUsage { requests: 2_000_000, ..data("sns", "publish") }, 1.0, "sns.standard_publish"),
        // One 200-byte publish bills the 1,000-byte minimum: 40 × 1000 / 2^40
        (
            DataUsage { requests: 1, bytes_transferred: 200, ..data("pubsub", "publish") },
            40.0 * 1000.0 / tib as f64,
            "pubsub.throughput",
        ),
        (DataUsage { requests: 1, bytes_transferred: tib, ..data("pubsub", "publish") }, 40.0, "pubsub.throughput"),
        // 2M RRU × $0.125/M + 1M WRU × $0.625/M = 0.25 + 0.625
        (
            DataUsage { read_units: 2e6, write_units: 1e6, ..data("dynamodb", "BATCH") },
            0.875,
            "dynamodb.on_demand_read",
        ),
    ];
    for (usage, expected, class) in table {
        let priced = priced(price_data_operation(&usage));
        assert_usd(priced.total_usd, expected);
        assert_usd(priced.parts.data_usd, expected);
        assert_eq!(priced.provenance.model.as_deref(), Some(class), "{usage:?}");
        assert_eq!(&*priced.provenance.source, DATA_PRICES_SOURCE);
        assert_eq!(&*priced.provenance.provider, usage.system.to_ascii_lowercase());
    }
    let unpriced = [
        (data("snowflake", "SELECT"), UnpricedReason::UnknownProvider),
        (DataUsage { requests: 1, ..data("s3", "RESTORE") }, UnpricedReason::UnknownModel),
        (data("bigquery", "SELECT"), UnpricedReason::NoUsage),
        (data("sqs", "receive"), UnpricedReason::NoUsage),
        (DataUsage { read_units: f64::NAN, ..data("dynamodb", "SELECT") }, UnpricedReason::NoUsage),
    ];
    for (usage, expected) in unpriced {
        assert_eq!(reason(price_data_operation(&usage)), expected, "{usage:?}");
    }
}

#[test]
fn every_list_price_row_says_where_it_comes_from() {
    for row in DATA_PRICES {
        assert!(row.source_url.starts_with("https://"), "{row:?}");
        assert_eq!(row.as_of.len(), 10, "{row:?}");
        assert!(row.usd >= 0.0, "{row:?}");
        assert!(row.class.starts_with(row.system), "{row:?}");
        // An unconfirmed figure says so in its note.
        assert_eq!(!row.confirmed, row.note.starts_with("FROM MEMORY"), "{row:?}");
    }
}

// === run roll-up ===

#[test]
#[cfg(feature = "bundled-prices")]
fn run_roll_up_equals_the_sum_of_its_children() {
    let engine = engine();
    let now = SystemTime::now();
    let gpt = Tokens::openai(10_000, 4_000, 2_000);
    let claude = Tokens::anthropic(2_000, 10_000, 1_000, 500);
    let scan = DataUsage { system: "bigquery", operation: "SELECT", bytes_scanned: 1 << 40, ..Default::default() };
    let mut run = RunCost::default();
    run.add_llm_call(&gpt, &engine.price_llm("openai", "gpt-4o", &gpt, now));
    run.add_llm_call(&claude, &engine.price_llm("anthropic", "claude-3-5-sonnet", &claude, now));
    run.add_llm_call(&gpt, &engine.price_llm("openai", "no-such-model", &gpt, now));
    run.add(CostCategory::Data, &engine.price_data(&scan));

    // 0.040 + 0.02025 (LLM) + 6.25 (data); the unknown model counts as unpriced, not as 0.
    assert_usd(run.llm_usd, 0.06025);
    assert_usd(run.data_usd, 6.25);
    assert_usd(run.total_usd, 6.31025);
    assert_eq!((run.llm_calls, run.priced_count, run.unpriced_count), (3, 3, 1));
    // Tokens: input 10,000 + 13,000 + 10,000; output 2,000 + 500 + 2,000; cache read 4,000 + 10,000 + 4,000.
    assert_eq!((run.tokens_input, run.tokens_output, run.tokens_cache_read), (33_000, 4_500, 18_000));

    // Cost per outcome: 6.31025 / 5 resolved tickets.
    assert_usd(run.cost_per_unit(5.0).unwrap(), 1.26205);
    assert_eq!(run.cost_per_unit(0.0), None);
    assert_eq!(run.cost_per_unit(f64::NAN), None);
}

#[test]
fn merged_roll_ups_add_up_and_nested_runs_stay_separate() {
    let usage = Tokens::openai(100, 10, 20);
    let priced = |usd: f64| {
        let overrides = PriceOverrides::parse(&format!("x/m=input:{usd},output:0"), "t").unwrap();
        PricingEngine::with_catalogs(overrides, None, None).unwrap().price_llm(
            "x",
            "m",
            &Tokens::openai(1_000_000, 0, 0),
            SystemTime::now(),
        )
    };
    // A parent run with one LLM call and one tool cost; a nested run with its own call.
    let mut parent = RunCost::default();
    parent.add_llm_call(&usage, &priced(1.0));
    parent.add(CostCategory::Tool, &priced(0.25));
    let mut nested = RunCost::default();
    nested.add_llm_call(&usage, &priced(2.0));
    // The nested run's children are in the nested run only; the parent does not add them.
    assert_usd(parent.total_usd, 1.25);
    assert_usd(parent.tool_usd, 0.25);
    assert_usd(nested.total_usd, 2.0);

    // Merging partial sums (e.g. per thread) is plain addition.
    let mut merged = parent;
    merged.merge(&nested);
    assert_usd(merged.total_usd, 3.25);
    assert_usd(merged.llm_usd, 3.0);
    assert_eq!((merged.llm_calls, merged.tokens_input, merged.tokens_cache_read), (2, 200, 20));
}

// === wire keys ===

#[test]
fn cost_keys_are_spelled_as_in_the_contract() {
    let table = [
        ("botanu.cost.usd", semconv::COST_USD),
        ("botanu.cost.input_usd", semconv::COST_INPUT_USD),
        ("botanu.cost.output_usd", semconv::COST_OUTPUT_USD),
        ("botanu.cost.cache_read_usd", semconv::COST_CACHE_READ_USD),
        ("botanu.cost.cache_write_usd", semconv::COST_CACHE_WRITE_USD),
        ("botanu.cost.reasoning_usd", semconv::COST_REASONING_USD),
        ("botanu.cost.request_usd", semconv::COST_REQUEST_USD),
        ("botanu.cost.data_usd", semconv::COST_DATA_USD),
        ("botanu.cost.source", semconv::COST_SOURCE),
        ("botanu.cost.provider", semconv::COST_PROVIDER),
        ("botanu.cost.model", semconv::COST_MODEL),
        ("botanu.cost.estimated", semconv::COST_ESTIMATED),
        ("botanu.cost.unpriced", semconv::COST_UNPRICED),
        ("botanu.cost.unpriced_reason", semconv::COST_UNPRICED_REASON),
        ("botanu.run.cost.usd", semconv::RUN_COST_USD),
        ("botanu.run.cost.llm_usd", semconv::RUN_COST_LLM_USD),
        ("botanu.run.cost.data_usd", semconv::RUN_COST_DATA_USD),
        ("botanu.run.cost.tool_usd", semconv::RUN_COST_TOOL_USD),
        ("botanu.run.llm_calls", semconv::RUN_LLM_CALLS),
        ("botanu.run.tokens.input", semconv::RUN_TOKENS_INPUT),
        ("botanu.run.tokens.output", semconv::RUN_TOKENS_OUTPUT),
        ("botanu.run.tokens.cache_read", semconv::RUN_TOKENS_CACHE_READ),
        ("botanu.run.cost.unpriced_count", semconv::RUN_COST_UNPRICED_COUNT),
        ("botanu.run.cost.scope", semconv::RUN_COST_SCOPE),
        ("process", semconv::RUN_COST_SCOPE_PROCESS),
        ("botanu.outcome.cost_per_unit", semconv::OUTCOME_COST_PER_UNIT),
        ("botanu.cost", semconv::METRIC_COST),
        ("USD", semconv::METRIC_COST_UNIT),
        ("botanu.cost.category", semconv::COST_CATEGORY),
        ("llm", semconv::COST_CATEGORY_LLM),
        ("data", semconv::COST_CATEGORY_DATA),
        ("tool", semconv::COST_CATEGORY_TOOL),
        ("unknown_model", UnpricedReason::UnknownModel.as_str()),
        ("unknown_provider", UnpricedReason::UnknownProvider.as_str()),
        ("no_usage", UnpricedReason::NoUsage.as_str()),
        ("no_price", UnpricedReason::NoPrice.as_str()),
        ("llm", CostCategory::Llm.as_str()),
    ];
    let wrong: Vec<String> = table
        .iter()
        .filter(|(contract, constant)| contract != constant)
        .map(|(contract, constant)| format!("contract {contract:?} != constant {constant:?}"))
        .collect();
    assert!(wrong.is_empty(), "cost key typos:\n{}", wrong.join("\n"));
}
