//! The cost summary a program reads from the guard: per workflow, what its runs cost.

use std::fmt;

/// What the runs of one workflow cost in this process so far (see
/// [`BotanuGuard::cost_summary`](crate::BotanuGuard::cost_summary)). Only runs that closed are counted,
/// each with its roll-up (what closed inside it, in this process).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkflowCost {
    /// The workflow (`_other` past 256 distinct workflows).
    pub workflow: String,
    /// Runs that closed.
    pub runs: u64,
    /// LLM (model) calls in those runs.
    pub llm_calls: u64,
    /// Input tokens, cached ones included.
    pub tokens_input: u64,
    /// Output tokens, reasoning ones included.
    pub tokens_output: u64,
    /// Estimated cost of the priced spans, USD.
    pub cost_usd: f64,
    /// Spans that should have been priced and were not (unknown model, no usage, …).
    pub unpriced: u64,
    /// Sum of the outcome `value_amount`s the runs emitted.
    pub outcome_amount: f64,
}

impl WorkflowCost {
    /// Cost per unit of outcome: `cost_usd / outcome_amount`, when an outcome amount > 0 was emitted.
    /// `None` too when nothing was priced and something was left unpriced: that cost is unknown, not zero.
    pub fn cost_per_outcome(&self) -> Option<f64> {
        let unknown = self.cost_usd == 0.0 && self.unpriced > 0;
        (self.outcome_amount > 0.0 && !unknown).then(|| self.cost_usd / self.outcome_amount)
    }
}

/// Per-workflow cost of the runs that closed in this process, sorted by workflow.
///
/// `Display` prints it as a table:
///
/// ```text
/// workflow              runs  llm calls   tokens in  tokens out      cost USD  unpriced  USD per outcome
/// support-ticket           3          6      12,400       1,900      0.051230         0         0.017077
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostSummary {
    /// One row per workflow.
    pub workflows: Vec<WorkflowCost>,
}

impl CostSummary {
    /// The row of `workflow`, if any of its runs closed.
    pub fn workflow(&self, workflow: &str) -> Option<&WorkflowCost> {
        self.workflows.iter().find(|row| row.workflow == workflow)
    }
}

/// `1234567` → `1,234,567`.
fn grouped(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

impl fmt::Display for CostSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>6} {:>10} {:>11} {:>11} {:>13} {:>9} {:>16}",
            "workflow", "runs", "llm calls", "tokens in", "tokens out", "cost USD", "unpriced", "USD per outcome"
        )?;
        for row in &self.workflows {
            let per_outcome = row.cost_per_outcome().map_or_else(|| "-".to_owned(), |usd| format!("{usd:.6}"));
            writeln!(
                f,
                "{:<20} {:>6} {:>10} {:>11} {:>11} {:>13.6} {:>9} {:>16}",
                row.workflow,
                row.runs,
                row.llm_calls,
                grouped(row.tokens_input),
                grouped(row.tokens_output),
                row.cost_usd,
                row.unpriced,
                per_outcome
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_cost_per_outcome() {
        let row = WorkflowCost {
            workflow: "support-ticket".into(),
            runs: 2,
            llm_calls: 4,
            tokens_input: 1_234_567,
            tokens_output: 89,
            cost_usd: 0.5,
            unpriced: 0,
            outcome_amount: 4.0,
        };
        assert_eq!(row.cost_per_outcome(), Some(0.125));
        // Nothing priced and something unpriced: unknown, not zero.
        let unknown = WorkflowCost { cost_usd: 0.0, unpriced: 2, ..row.clone() };
        assert_eq!(unknown.cost_per_outcome(), None);
        let table = CostSummary { workflows: vec![row] }.to_string();
        assert!(table.contains("1,234,567"), "{table}");
        assert!(table.contains("0.125000"), "{table}");
        assert!(table.lines().next().is_some_and(|header| header.contains("USD per outcome")), "{table}");
    }
}
