//! Budgets as exported (contract §8): reservations checked against caps, settled with the span's priced
//! cost, the run span's budget attributes, the denied/threshold events and the decision counter — read
//! from the in-memory exporters — and the atomicity of the in-memory store under 16 threads.
//!
//! Catalog row used for hand-computed figures (bundled `genai-prices` 0.2.1): openai/gpt-4o, input 2.5
//! and output 10 USD per million tokens.
#![cfg(all(feature = "bundled-prices", feature = "testing"))]

mod common;
#[path = "support/contention.rs"]
mod contention;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use botanu::budget::{BudgetTarget, Budgets, Cap, DenyCause, Estimate, Policy, Scope, UnpricedPolicy, Window};
use botanu::prelude::*;
use botanu::semconv as k;
use botanu::BudgetSpanExt;
use common::*;
use opentelemetry_sdk::trace::SpanData;

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-9
}

#[track_caller]
fn assert_usd(actual: f64, expected: f64) {
    assert!(close(actual, expected), "{actual} != {expected}");
}

/// One agent step: reserve 1,000 input + 500 max output tokens of gpt-4o (1,000 × 2.5 + 500 × 10 per
/// million = 0.0075 USD), and on a grant make the call, which uses 1,000 input and 200 output tokens
/// (1,000 × 2.5 + 200 × 10 per million = 0.0045 USD). Returns whether the call was allowed.
fn agent_call(step: usize) -> bool {
    let span = llm_span!(provider = "openai", model = "gpt-4o", step = step);
    match span.reserve_budget(&Estimate::llm("openai", "gpt-4o", 1_000, 500)) {
        Ok(_) => {
            span.set_tokens(Tokens { input: 1_000, output: 200, ..Default::default() });
            true
        }
        Err(denied) => {
            assert_eq!(denied.cause, DenyCause::Limit);
            false
        }
    }
}

fn llm_spans(spans: &[SpanData]) -> Vec<&SpanData> {
    let mut llm: Vec<&SpanData> = spans.iter().filter(|s| s.name == "chat gpt-4o").collect();
    llm.sort_by_key(|s| s.start_time);
    llm
}

/// Run cap 0.02 USD. Reserve-then-settle: call 1 reserves 0.0075 (0 + 0.0075 ≤ 0.02) and settles 0.0045;
/// call 2: 0.0045 + 0.0075 = 0.012 ≤ 0.02 → spent 0.009; call 3: 0.009 + 0.0075 = 0.0165 → spent 0.0135;
/// call 4: 0.0135 + 0.0075 = 0.021 > 0.02 → denied. Thresholds: call 2 takes the run from 0.0045 to 0.012
/// past 50 % (0.01); call 3 from 0.009 to 0.0165 past 80 % (0.016).
#[test]
fn a_run_is_denied_at_the_call_its_cap_computes_to() {
    let h = Harness::with(|b| b.with_budgets(Budgets::new().with_cap(Cap::run(0.02))));
    let allowed = h.run(|| {
        run_span!(workflow = "agent").in_scope(|| {
            let mut allowed = Vec::new();
            for step in 1..=5 {
                let ok = agent_call(step);
                allowed.push(ok);
                if !ok {
                    break;
                }
            }
            allowed
        })
    });
    assert_eq!(allowed, vec![true, true, true, false]);
    let spans = h.spans();
    let llm = llm_spans(&spans);
    assert_eq!(llm.len(), 4);
    for priced in &llm[..3] {
        assert_usd(f64_attr(priced, k::COST_USD), 0.0045);
        assert!(events_named(priced, k::EVENT_BUDGET_DENIED).is_empty());
    }
    let threshold = one_event(llm[1], k::EVENT_BUDGET_THRESHOLD);
    assert_eq!(event_f64(threshold, "threshold"), 0.5);
    assert_eq!(event_str(threshold, "scope"), "run");
    assert_eq!(event_str(threshold, "window"), "run");
    assert_usd(event_f64(threshold, "limit_usd"), 0.02);
    assert_usd(event_f64(threshold, "spent_usd"), 0.0045);
    assert_eq!(event_f64(one_event(llm[2], k::EVENT_BUDGET_THRESHOLD), "threshold"), 0.8);
    let denied = one_event(llm[3], k::EVENT_BUDGET_DENIED);
    assert_eq!(event_str(denied, "scope"), "run");
    assert_eq!(event_str(denied, "reason"), "limit");
    assert_usd(event_f64(denied, "limit_usd"), 0.02);
    assert_usd(event_f64(denied, "spent_usd"), 0.0135);
    assert_usd(event_f64(denied, "reserved_usd"), 0.0);
    assert_usd(event_f64(denied, "estimate_usd"), 0.0075);
    assert_absent(llm[3], k::COST_USD);

    let run = find(&spans, "botanu.run/agent");
    assert_usd(f64_attr(run, k::BUDGET_RUN_LIMIT_USD), 0.02);
    assert_usd(f64_attr(run, k::BUDGET_RUN_SPENT_USD), 0.0135);
    assert!(bool_attr(run, k::BUDGET_EXCEEDED));
    assert_usd(f64_attr(run, k::RUN_COST_USD), 0.0135);

    let decisions = counter_values(&h.metrics(), k::METRIC_BUDGET_DECISIONS);
    let of = |decision: &str| {
        decisions
            .get(&attr_set(&[(k::BUDGET_SCOPE, "run"), (k::BUDGET_DECISION, decision), (k::WORKFLOW, "agent")]))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!((of("allowed"), of("warned"), of("denied")), (1, 2, 1), "{decisions:?}");
}

/// A run under its cap the whole way: limit and spent, no `exceeded`; a span outside any run is not
/// under a run cap.
#[test]
fn a_run_under_its_cap_carries_limit_and_spent_only() {
    let h = Harness::with(|b| b.with_budgets(Budgets::new().with_cap(Cap::run(1.0))));
    h.run(|| {
        run_span!(workflow = "small").in_scope(|| assert!(agent_call(1)));
        assert_eq!(llm_span!(provider = "openai", model = "gpt-4o").budget_remaining(), None);
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/small");
    assert_usd(f64_attr(run, k::BUDGET_RUN_LIMIT_USD), 1.0);
    assert_usd(f64_attr(run, k::BUDGET_RUN_SPENT_USD), 0.0045);
    assert_absent(run, k::BUDGET_EXCEEDED);
}

/// Unpriced is not free: under the default policy an estimate for a model no catalog knows is denied;
/// with a per-call charge it is held, kept when the call closes unpriced, and an unreserved unpriced
/// call is charged too.
#[test]
fn unpriced_calls_are_denied_or_charged_per_policy() {
    let h = Harness::with(|b| b.with_budgets(Budgets::new().with_cap(Cap::run(1.0))));
    h.run(|| {
        run_span!(workflow = "deny").in_scope(|| {
            let span = llm_span!(provider = "openai", model = "no-such-model");
            let denied = span.reserve_budget(&Estimate::llm("openai", "no-such-model", 10, 10)).unwrap_err();
            assert!(matches!(denied.cause, DenyCause::Unpriced(_)), "{denied}");
        })
    });
    let spans = h.spans();
    let denied = one_event(find(&spans, "chat no-such-model"), k::EVENT_BUDGET_DENIED);
    assert_eq!(event_str(denied, "reason"), "unpriced");
    assert!(event_attr(denied, "estimate_usd").is_none());
    assert!(bool_attr(find(&spans, "botanu.run/deny"), k::BUDGET_EXCEEDED));

    let budgets = Budgets::new().with_cap(Cap::run(1.0)).with_unpriced(UnpricedPolicy::Charge(0.25));
    let h = Harness::with(|b| b.with_budgets(budgets));
    h.run(|| {
        run_span!(workflow = "charge").in_scope(|| {
            let span = llm_span!(provider = "openai", model = "no-such-model");
            let grant = span.reserve_budget(&Estimate::llm("openai", "no-such-model", 10, 10)).unwrap();
            assert!(grant.unpriced);
            assert_eq!(grant.amount_usd, 0.25);
            span.set_tokens(Tokens { input: 10, output: 10, ..Default::default() });
            drop(span);
            // Not reserved, still charged.
            llm_span!(provider = "openai", model = "no-such-model").set_tokens(Tokens {
                input: 10,
                output: 10,
                ..Default::default()
            });
        })
    });
    let spans = h.spans();
    let run = find(&spans, "botanu.run/charge");
    assert_usd(f64_attr(run, k::BUDGET_RUN_SPENT_USD), 0.50);
    assert_eq!(int_attr(run, k::RUN_COST_UNPRICED_COUNT), 2);
}

/// Raising a cap at run time takes effect at the next reservation: a paused agent resumes.
#[test]
fn a_raised_cap_takes_effect_at_once() {
    let budgets = Budgets::new().with_cap(Cap::run(0.01));
    let h = Harness::with(|b| b.with_budgets(budgets.clone()));
    let allowed = h.run(|| {
        run_span!(workflow = "paused").in_scope(|| {
            let first = agent_call(1); // 0.0075 ≤ 0.01, spent 0.0045
            let second = agent_call(2); // 0.0045 + 0.0075 = 0.012 > 0.01
            budgets.set_cap(Cap::run(0.05));
            let third = agent_call(3);
            vec![first, second, third]
        })
    });
    assert_eq!(allowed, vec![true, false, true]);
    let spans = h.spans();
    let run = find(&spans, "botanu.run/paused");
    assert_usd(f64_attr(run, k::BUDGET_RUN_LIMIT_USD), 0.05);
    assert_usd(f64_attr(run, k::BUDGET_RUN_SPENT_USD), 0.009);
}

/// A customer's hourly cap rolls over with the UTC hour (an injected clock, not a sleep); spans priced
/// without a reservation count against it.
#[test]
fn a_window_rolls_over() {
    let now = Arc::new(AtomicU64::new(1_796_680_800)); // 2026-12-07T22:00:00Z
    let clock = now.clone();
    let budgets = Budgets::with_clock(Arc::new(move || UNIX_EPOCH + Duration::from_secs(clock.load(Ordering::SeqCst))))
        .with_cap(Cap::customer("acme", 0.009).per(Window::Hour));
    let h = Harness::with(|b| b.with_budgets(budgets));
    let allowed = h.run(|| {
        let mut allowed = Vec::new();
        for step in 0..3 {
            if step == 2 {
                now.fetch_add(60, Ordering::SeqCst); // 22:59 → 23:00, the next UTC hour
            }
            run_span!(workflow = "support", customer_id = "acme").in_scope(|| {
                // Spent without a reservation: 0.0045 each.
                llm_span!(provider = "openai", model = "gpt-4o").set_tokens(Tokens {
                    input: 1_000,
                    output: 200,
                    ..Default::default()
                });
            });
            let ok = run_span!(workflow = "support", customer_id = "acme").in_scope(|| {
                llm_span!(provider = "openai", model = "gpt-4o").reserve_budget(&Estimate::usd(0.001)).is_ok()
            });
            allowed.push(ok);
            if step == 0 {
                now.fetch_add(59 * 60, Ordering::SeqCst); // 22:59, the same hour
            }
        }
        allowed
    });
    // Hour 22: 0.0045 + 0.001 ≤ 0.009; then 0.0045 + 0.001 + 0.0045 + 0.001 > 0.009. Hour 23: fresh.
    assert_eq!(allowed, vec![true, false, true]);
    let spans = h.spans();
    let denied: Vec<_> = spans.iter().flat_map(|s| events_named(s, k::EVENT_BUDGET_DENIED)).collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(event_str(denied[0], "scope"), "customer");
    assert_eq!(event_str(denied[0], "key"), "acme");
    assert_eq!(event_str(denied[0], "window"), "hour");
    assert_usd(event_f64(denied[0], "spent_usd"), 0.0045 + 0.001 + 0.0045);
}

/// A soft cap grants but says so, so the caller can fall back to a cheaper model; the threshold event
/// says `soft = true`.
#[test]
fn a_soft_cap_signals_the_fallback() {
    let h = Harness::with(|b| b.with_budgets(Budgets::new().with_cap(Cap::run(0.01).with_policy(Policy::Soft))));
    let models = h.run(|| {
        run_span!(workflow = "soft").in_scope(|| {
            (1..=3)
                .map(|_| {
                    let span = llm_span!(provider = "openai", model = "gpt-4o");
                    let grant = span.reserve_budget(&Estimate::llm("openai", "gpt-4o", 1_000, 500)).unwrap();
                    span.set_tokens(Tokens { input: 1_000, output: 200, ..Default::default() });
                    if grant.is_soft_limited() {
                        "mini"
                    } else {
                        "gpt-4o"
                    }
                })
                .collect::<Vec<_>>()
        })
    });
    // 0.0075 ≤ 0.01; 0.0045 + 0.0075 = 0.012 > 0.01 → soft.
    assert_eq!(models, vec!["gpt-4o", "mini", "mini"]);
    let spans = h.spans();
    let llm = llm_spans(&spans);
    let soft: Vec<_> = events_named(llm[1], k::EVENT_BUDGET_THRESHOLD);
    assert!(soft.iter().any(|e| event_f64(e, "threshold") == 1.0 && bool_attr_of(e, "soft")), "{soft:?}");
    let decisions = counter_values(&h.metrics(), k::METRIC_BUDGET_DECISIONS);
    let soft_limited =
        attr_set(&[(k::BUDGET_SCOPE, "run"), (k::BUDGET_DECISION, "soft_limited"), (k::WORKFLOW, "soft")]);
    assert_eq!(decisions.get(&soft_limited), Some(&2), "{decisions:?}");
}

fn bool_attr_of(event: &opentelemetry::trace::Event, key: &str) -> bool {
    matches!(event_attr(event, key), Some(opentelemetry::Value::Bool(true)))
}

/// 16 threads × 1,000 reservations against one customer cap: committed + reserved never passes the cap
/// (watched by a 17th thread), and exactly ⌊cap / amount⌋ reservations are granted.
#[test]
fn sixteen_threads_never_pass_the_cap_in_memory() {
    let budgets = Budgets::new().with_cap(Cap::customer("acme", 1.0));
    let target = BudgetTarget::default().with_customer("acme");
    let (granted, max_seen) = contention::reserve_from_16_threads(&budgets, &target);
    assert_eq!(granted, 1_428);
    assert!(max_seen <= 1_000_000_000, "{}", max_seen);
    let status = &budgets.status_of(&target)[0];
    assert_usd(status.spent_usd, 1_428.0 * 0.0007);
    assert_eq!(status.reserved_usd, 0.0);
    assert_eq!(budgets.reserve(&target, Some(0.0007)).unwrap_err().cap.scope, Scope::Customer);
}

/// Caps from the environment (`BOTANU_BUDGETS`) apply below the ones given in code; a bad entry is a
/// configuration error naming the variable and the entry.
#[test]
fn caps_come_from_the_environment_below_code() {
    use botanu::config::ConfigSource;
    use botanu::Config;
    let env = |pairs: &[(&str, &str)]| {
        ConfigSource::from_env_map(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    };
    let (config, _) = Config::load_from(&env(&[
        ("BOTANU_BUDGETS", "run=0.01;workflow:support=50/hour:warn"),
        ("BOTANU_BUDGET_UNPRICED", "0.02"),
        ("BOTANU_BUDGET_STORE_TIMEOUT_MILLIS", "40"),
        ("BOTANU_BUDGET_STORE_FAILURE", "closed"),
    ]))
    .unwrap();
    let b = config.budgets();
    assert_eq!(
        b.caps,
        vec![Cap::run(0.01), Cap::workflow("support", 50.0).per(Window::Hour).with_policy(Policy::Warn)]
    );
    assert_eq!(b.unpriced, Some(UnpricedPolicy::Charge(0.02)));
    assert_eq!(b.store_timeout, Duration::from_millis(40));
    assert_eq!(b.store_failure, Some(botanu::budget::StoreFailure::Closed));

    // From the environment alone: the run cap denies the second call (0.0045 + 0.0075 > 0.01).
    let h = harness_from(&config, |b| b);
    let allowed = h.run(|| run_span!(workflow = "env").in_scope(|| vec![agent_call(1), agent_call(2)]));
    assert_eq!(allowed, vec![true, false]);
    // Code wins for the same cap.
    let h = harness_from(&config, |b| b.with_budgets(Budgets::new().with_cap(Cap::run(1.0))));
    let allowed = h.run(|| run_span!(workflow = "code").in_scope(|| vec![agent_call(1), agent_call(2)]));
    assert_eq!(allowed, vec![true, true]);

    for (key, value, named) in [
        ("BOTANU_BUDGETS", "run=0.5;customer:acme=lots", "BOTANU_BUDGETS[customer:acme=lots]"),
        ("BOTANU_BUDGET_UNPRICED", "free", "BOTANU_BUDGET_UNPRICED"),
        ("BOTANU_BUDGET_STORE", "postgres://db", "BOTANU_BUDGET_STORE"),
        ("BOTANU_BUDGET_STORE_FAILURE", "maybe", "BOTANU_BUDGET_STORE_FAILURE"),
    ] {
        let error = Config::load_from(&env(&[(key, value)])).unwrap_err().to_string();
        assert!(error.contains(named), "{error}");
    }
    let secret = format!("redis://user:{}@cache:6379/{}", "hunter2", "x y");
    let error = Config::load_from(&env(&[("BOTANU_BUDGET_STORE", &secret)])).map(|_| ()).unwrap_err().to_string();
    assert!(!error.contains("hunter2"), "{error}");
}

/// [`Harness::with`] from a loaded configuration.
fn harness_from(config: &botanu::Config, configure: impl FnOnce(botanu::Builder) -> botanu::Builder) -> Harness {
    use tracing_subscriber::prelude::*;
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let metrics = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
    let builder = botanu::Builder::from_config(config.clone())
        .expect("builder")
        .with_span_exporter(exporter.clone())
        .with_metric_exporter(metrics.clone());
    let (layer, guard) = configure(builder).build().expect("pipeline builds");
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    Harness { exporter, metrics, guard, dispatch }
}

/// The YAML `budgets:` section, below the environment; a bad entry names the YAML path, the entry and
/// the line.
#[test]
fn caps_come_from_the_yaml_file() {
    use botanu::config::ConfigSource;
    use botanu::Config;
    let dir = std::env::temp_dir().join(format!("botanu-budget-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("botanu.yaml");
    std::fs::write(
        &file,
        "budgets:\n  caps:\n    - run=0.50\n    - customer:acme=200/day\n  unpriced: 0.01\n  store: memory\n  store_timeout_ms: 30\n  store_failure: closed\n",
    )
    .unwrap();
    let (config, _) = Config::load_from(&ConfigSource::from_env_map(Default::default()).with_file(&file)).unwrap();
    let b = config.budgets();
    assert_eq!(b.caps, vec![Cap::run(0.5), Cap::customer("acme", 200.0)]);
    assert_eq!(b.unpriced, Some(UnpricedPolicy::Charge(0.01)));
    assert_eq!(b.store_timeout, Duration::from_millis(30));
    // The environment wins over the file.
    let env = [("BOTANU_BUDGETS".to_owned(), "run=1".to_owned())];
    let (config, _) = Config::load_from(&ConfigSource::from_env_map(env.into()).with_file(&file)).unwrap();
    assert_eq!(config.budgets().caps, vec![Cap::run(1.0)]);

    std::fs::write(&file, "budgets:\n  caps:\n    - run=0.50\n    - tenant:t1=3/week\n").unwrap();
    let error =
        Config::load_from(&ConfigSource::from_env_map(Default::default()).with_file(&file)).unwrap_err().to_string();
    assert!(
        error.contains("budgets.caps[1]") && error.contains("tenant:t1=3/week") && error.contains("line 4"),
        "{error}"
    );
    // One cap per scope, key and window, in the file as in the environment: a second is an error, not a
    // silent replacement.
    std::fs::write(&file, "budgets:\n  caps:\n    - customer:acme=80/day:soft\n    - customer:acme=100/day\n").unwrap();
    let error =
        Config::load_from(&ConfigSource::from_env_map(Default::default()).with_file(&file)).unwrap_err().to_string();
    assert!(error.contains("budgets.caps[1]") && error.contains("customer:acme=100/day"), "{error}");
    let env = [("BOTANU_BUDGETS".to_owned(), "run=1;run=0.5".to_owned())];
    let error = Config::load_from(&ConfigSource::from_env_map(env.into())).unwrap_err().to_string();
    assert!(error.contains("BOTANU_BUDGETS[run=0.5]") && error.contains("already given"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Odd figures neither open nor shut a cap by accident: an unpriced call under only a warn cap goes ahead
/// (a warn cap watches, it never stops a call), a settlement with a non-finite or negative actual keeps
/// the reservation as spent (no figure is not $0), and an infinite cap never denies.
#[test]
fn odd_figures_neither_open_nor_shut_a_cap() {
    let target = BudgetTarget::default().with_customer("acme");
    let warn_only = Budgets::new().with_cap(Cap::customer("acme", 1.0).with_policy(Policy::Warn));
    assert!(warn_only.reserve(&target, None).is_ok(), "unpriced under a warn cap is not denied");
    let deny = Budgets::new().with_cap(Cap::customer("acme", 1.0));
    assert!(deny.reserve(&target, None).is_err(), "unpriced under a deny cap is denied");

    for odd in [f64::NAN, f64::INFINITY, -0.25] {
        let budgets = Budgets::new().with_cap(Cap::customer("acme", 1.0));
        budgets.reserve(&target, Some(0.25)).unwrap().settle(Some(odd));
        let status = &budgets.status_of(&target)[0];
        assert_usd(status.spent_usd, 0.25);
        assert_eq!(status.reserved_usd, 0.0, "{odd}");
    }

    let unbounded = Budgets::new().with_cap(Cap::customer("acme", f64::INFINITY));
    assert!(unbounded.reserve(&target, Some(1e6)).is_ok());
}
