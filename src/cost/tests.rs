//! Unit tests of the cost attributes a result produces (plain data the layer exports), moved here from
//! `tests/cost_pricing.rs` when `Cost::attributes` became crate-private: what reaches the wire is checked
//! there through exported spans.

use std::sync::Arc;
#[cfg(feature = "bundled-prices")]
use std::time::SystemTime;

use super::*;
use crate::semconv;

#[cfg(feature = "bundled-prices")]
fn engine() -> PricingEngine {
    PricingEngine::new(&PricingConfig::default()).expect("default config is valid")
}

#[test]
fn unpriced_attributes_mark_it_and_never_carry_a_cost() {
    let attributes = Cost::unpriced(UnpricedReason::UnknownModel).attributes();
    assert_eq!(
        attributes,
        vec![
            (semconv::COST_UNPRICED, AttributeValue::Bool(true)),
            (semconv::COST_UNPRICED_REASON, AttributeValue::Str(Arc::from("unknown_model"))),
        ]
    );
    assert!(!attributes.iter().any(|(key, _)| *key == semconv::COST_USD));
}

#[test]
#[cfg(feature = "bundled-prices")]
fn priced_attributes_carry_total_nonzero_parts_and_provenance() {
    let cost = engine().price_llm("openai", "gpt-4o", &Tokens::openai(10_000, 4_000, 2_000), SystemTime::now());
    let attributes = cost.attributes();
    let keys: Vec<&str> = attributes.iter().map(|(key, _)| *key).collect();
    assert_eq!(
        keys,
        [
            semconv::COST_USD,
            semconv::COST_INPUT_USD,
            semconv::COST_OUTPUT_USD,
            semconv::COST_CACHE_READ_USD,
            semconv::COST_SOURCE,
            semconv::COST_PROVIDER,
            semconv::COST_MODEL,
            semconv::COST_ESTIMATED,
        ]
    );
    assert_eq!(attributes[4].1, AttributeValue::Str(Arc::from("genai-prices 0.2.1")));
    assert_eq!(attributes[7].1, AttributeValue::Bool(true));
}

#[test]
fn run_roll_up_attributes_carry_the_totals_and_cost_per_outcome() {
    // The roll-up of tests/cost_pricing.rs::run_roll_up_equals_the_sum_of_its_children, whose figures are
    // checked there: here only the attributes it becomes.
    let run = RunCost {
        total_usd: 6.31025,
        llm_usd: 0.06025,
        data_usd: 6.25,
        llm_calls: 3,
        tokens_cache_read: 18_000,
        priced_count: 3,
        unpriced_count: 1,
        ..RunCost::default()
    };
    let attributes = run.attributes(Some(5.0));
    let get = |key: &str| attributes.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
    assert_eq!(get(semconv::RUN_COST_USD), Some(AttributeValue::F64(run.total_usd)));
    assert_eq!(get(semconv::RUN_LLM_CALLS), Some(AttributeValue::I64(3)));
    assert_eq!(get(semconv::RUN_TOKENS_CACHE_READ), Some(AttributeValue::I64(18_000)));
    assert_eq!(get(semconv::RUN_COST_UNPRICED_COUNT), Some(AttributeValue::I64(1)));
    assert_eq!(get(semconv::RUN_COST_SCOPE), Some(AttributeValue::Str(Arc::from("process"))));
    assert_eq!(get(semconv::OUTCOME_COST_PER_UNIT), Some(AttributeValue::F64(run.total_usd / 5.0)));
    assert_eq!(run.attributes(None).iter().filter(|(k, _)| *k == semconv::OUTCOME_COST_PER_UNIT).count(), 0);
}
