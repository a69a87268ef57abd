//! Spending caps in an agent loop: reserve before each model call, and let the span's priced cost settle
//! the reservation when the call's span closes.
//!
//! `cargo run --example budget` runs two agents (the model calls are simulated: each "response" reports
//! a fixed token usage) and prints what they decided; the spans, with their `botanu.budget.*`
//! attributes and events, go to the console exporter.
//!
//! 1. `research` has a run cap of $0.02 and uses gpt-4o. Each step reserves its worst case (1,000 input
//!    tokens, at most 500 output: 1,000 × 2.5 + 500 × 10 USD per million = $0.0075) and costs $0.0045
//!    (200 output tokens). Step 4 would take the run past $0.02 (0.0135 spent + 0.0075), so it is denied
//!    and the agent stops cleanly with what it has.
//! 2. `support` has a soft run cap of $0.01: past it the agent falls back from gpt-4o to gpt-4o-mini
//!    instead of stopping.

use botanu::budget::{Budgets, Cap, Estimate, Policy};
use botanu::prelude::*;
use botanu::BudgetSpanExt;

/// A model call: reserve, then (if granted) "call" the model and record its usage on the span.
fn call_model(model: &str, prompt: &str) -> Result<String, botanu::budget::BudgetExceeded> {
    let span = llm_span!(provider = "openai", model = model);
    let _entered = span.enter();
    span.reserve_budget(&Estimate::llm("openai", model, 1_000, 500))?;
    // The model's answer would come here; its usage is what the span is priced by at close.
    span.set_tokens(Tokens { input: 1_000, output: 200, ..Default::default() });
    Ok(format!("{model} answered {prompt:?}"))
}

fn research_agent() -> Vec<String> {
    let mut notes = Vec::new();
    run_span!(workflow = "research", customer_id = "acme").in_scope(|| {
        for step in 1.. {
            match call_model("gpt-4o", &format!("step {step}")) {
                Ok(answer) => notes.push(answer),
                Err(denied) => {
                    println!("research: stopping before step {step}: {denied}");
                    break;
                }
            }
        }
    });
    notes
}

fn support_agent() -> Vec<String> {
    run_span!(workflow = "support", customer_id = "acme").in_scope(|| {
        (1..=4)
            .map(|turn| {
                let span = llm_span!(provider = "openai", model = "gpt-4o");
                let grant = span.reserve_budget(&Estimate::llm("openai", "gpt-4o", 1_000, 500));
                let model = match grant {
                    Ok(grant) if !grant.is_soft_limited() => "gpt-4o",
                    // Over the soft limit: release the big reservation (no call is made on this span) and
                    // take the cheaper model.
                    _ => {
                        span.release_budget();
                        drop(span);
                        return call_model("gpt-4o-mini", &format!("turn {turn}")).unwrap_or_else(|e| e.to_string());
                    }
                };
                span.set_tokens(Tokens { input: 1_000, output: 200, ..Default::default() });
                format!("{model} answered \"turn {turn}\"")
            })
            .collect()
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let budgets = Budgets::new().with_cap(Cap::run(0.02));
    let guard = botanu::Builder::new().with_budgets(budgets.clone()).init()?;

    let notes = research_agent();
    println!("research: {} steps done: {notes:?}", notes.len());

    // Run time change: the same handle, a soft $0.01 cap for the next runs.
    budgets.set_cap(Cap::run(0.01).with_policy(Policy::Soft));
    for answer in support_agent() {
        println!("support: {answer}");
    }
    guard.shutdown()?;
    Ok(())
}
