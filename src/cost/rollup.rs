//! The cost roll-up of a run: the sum of what closed inside it, by category, and cost per outcome.
//!
//! The layer keeps one [`RunCost`] per open run, adds each child span as it closes, and writes
//! [`RunCost::attributes`] on the run span at its close. A nested run accumulates its own children and
//! is not added to its parent (nested runs roll up into their own run only). What this cannot see, and
//! why the scope is marked `process` on the span: spans in other services (the run continued across a
//! queue or an HTTP call), and children that close after their run.

use std::sync::Arc;

use super::{AttributeValue, Cost, Tokens};
use crate::semconv;

/// What a priced child is, for the run's cost by category and the `botanu.cost` metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CostCategory {
    /// An LLM call.
    Llm,
    /// A data operation (database, warehouse, object storage, messaging).
    Data,
    /// A tool call.
    Tool,
}

impl CostCategory {
    /// The wire value of `botanu.cost.category`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CostCategory::Llm => semconv::COST_CATEGORY_LLM,
            CostCategory::Data => semconv::COST_CATEGORY_DATA,
            CostCategory::Tool => semconv::COST_CATEGORY_TOOL,
        }
    }
}

/// The roll-up of one run.
///
/// ```
/// use botanu::cost::{Cost, CostCategory, RunCost, Tokens, UnpricedReason};
///
/// let mut run = RunCost::default();
/// run.add_llm_call(&Tokens::openai(1_000, 0, 100), &Cost::unpriced(UnpricedReason::UnknownModel));
/// assert_eq!(run.llm_calls, 1);
/// assert_eq!(run.unpriced_count, 1);
/// assert_eq!(run.cost_per_unit(2.0), Some(0.0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunCost {
    /// Sum of the priced children, USD.
    pub total_usd: f64,
    /// LLM part of the total.
    pub llm_usd: f64,
    /// Data part of the total.
    pub data_usd: f64,
    /// Tool part of the total.
    pub tool_usd: f64,
    /// LLM (model) calls.
    pub llm_calls: u64,
    /// Input tokens, cached ones included.
    pub tokens_input: u64,
    /// Output tokens, reasoning ones included.
    pub tokens_output: u64,
    /// Input tokens read from a prompt cache (a part of `tokens_input`).
    pub tokens_cache_read: u64,
    /// Input tokens written to a prompt cache (a part of `tokens_input`).
    pub tokens_cache_write: u64,
    /// Reasoning tokens (a part of `tokens_output`).
    pub tokens_reasoning: u64,
    /// Children that were priced.
    pub priced_count: u64,
    /// Children that should have been priced and were not.
    pub unpriced_count: u64,
}

impl RunCost {
    /// Adds one child's cost under `category`.
    pub fn add(&mut self, category: CostCategory, cost: &Cost) {
        match cost {
            Cost::Priced(priced) => {
                let usd = priced.total_usd;
                self.total_usd += usd;
                match category {
                    CostCategory::Llm => self.llm_usd += usd,
                    CostCategory::Data => self.data_usd += usd,
                    CostCategory::Tool => self.tool_usd += usd,
                }
                self.priced_count += 1;
            }
            Cost::Unpriced { .. } => self.unpriced_count += 1,
        }
    }

    /// Adds one LLM call: the call, its tokens and its cost.
    pub fn add_llm_call(&mut self, usage: &Tokens, cost: &Cost) {
        self.llm_calls += 1;
        self.add_tokens(usage);
        self.add(CostCategory::Llm, cost);
    }

    /// Adds tokens by type.
    pub fn add_tokens(&mut self, usage: &Tokens) {
        self.tokens_input = self.tokens_input.saturating_add(usage.total_input());
        self.tokens_output = self.tokens_output.saturating_add(usage.total_output());
        self.tokens_cache_read = self.tokens_cache_read.saturating_add(usage.cache_read.min(usage.total_input()));
        self.tokens_cache_write = self.tokens_cache_write.saturating_add(usage.cache_writes().min(usage.total_input()));
        self.tokens_reasoning = self.tokens_reasoning.saturating_add(usage.reasoning);
    }

    /// Adds another roll-up (e.g. a per-thread partial sum) to this one.
    pub fn merge(&mut self, other: &RunCost) {
        self.total_usd += other.total_usd;
        self.llm_usd += other.llm_usd;
        self.data_usd += other.data_usd;
        self.tool_usd += other.tool_usd;
        self.llm_calls = self.llm_calls.saturating_add(other.llm_calls);
        self.tokens_input = self.tokens_input.saturating_add(other.tokens_input);
        self.tokens_output = self.tokens_output.saturating_add(other.tokens_output);
        self.tokens_cache_read = self.tokens_cache_read.saturating_add(other.tokens_cache_read);
        self.tokens_cache_write = self.tokens_cache_write.saturating_add(other.tokens_cache_write);
        self.tokens_reasoning = self.tokens_reasoning.saturating_add(other.tokens_reasoning);
        self.priced_count = self.priced_count.saturating_add(other.priced_count);
        self.unpriced_count = self.unpriced_count.saturating_add(other.unpriced_count);
    }

    /// Cost per unit of outcome: the total divided by the outcome's `value_amount`, when that is a finite
    /// number > 0.
    pub fn cost_per_unit(&self, value_amount: f64) -> Option<f64> {
        (value_amount.is_finite() && value_amount > 0.0).then(|| self.total_usd / value_amount)
    }

    /// The run-span attributes (contract §7) as plain data; `botanu.outcome.cost_per_unit` only when
    /// `value_amount` is given and > 0.
    pub(crate) fn attributes(&self, value_amount: Option<f64>) -> Vec<(&'static str, AttributeValue)> {
        let int = |value: u64| AttributeValue::I64(i64::try_from(value).unwrap_or(i64::MAX));
        let mut attributes = vec![
            (semconv::RUN_COST_USD, AttributeValue::F64(self.total_usd)),
            (semconv::RUN_COST_LLM_USD, AttributeValue::F64(self.llm_usd)),
            (semconv::RUN_COST_DATA_USD, AttributeValue::F64(self.data_usd)),
            (semconv::RUN_COST_TOOL_USD, AttributeValue::F64(self.tool_usd)),
            (semconv::RUN_LLM_CALLS, int(self.llm_calls)),
            (semconv::RUN_TOKENS_INPUT, int(self.tokens_input)),
            (semconv::RUN_TOKENS_OUTPUT, int(self.tokens_output)),
            (semconv::RUN_TOKENS_CACHE_READ, int(self.tokens_cache_read)),
            (semconv::RUN_COST_UNPRICED_COUNT, int(self.unpriced_count)),
            (semconv::RUN_COST_SCOPE, AttributeValue::Str(Arc::from(semconv::RUN_COST_SCOPE_PROCESS))),
        ];
        if let Some(per_unit) = value_amount.and_then(|amount| self.cost_per_unit(amount)) {
            attributes.push((semconv::OUTCOME_COST_PER_UNIT, AttributeValue::F64(per_unit)));
        }
        attributes
    }
}

/// What a run accumulates while it is open: the roll-up of the spans that closed inside it, the sum of
/// the outcome amounts they carried, and how many of its spans are open. Lives on the run's context, so
/// every span of the run reaches it through the `Arc` it already holds.
#[derive(Debug, Default)]
pub(crate) struct RunCostCell {
    tally: std::sync::Mutex<RunTally>,
    open: std::sync::atomic::AtomicU64,
    /// Spans of the run handed to the layer's finisher and not finished yet: the run span itself is
    /// finished after them (see `layer::finisher`).
    pending: std::sync::atomic::AtomicU64,
}

/// The roll-up so far and the outcome amounts seen.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RunTally {
    pub(crate) cost: RunCost,
    /// Sum of `botanu.outcome.value_amount` (finite, > 0) of the run's spans that closed.
    pub(crate) outcome_amount: f64,
}

impl RunCostCell {
    /// Runs `f` on the tally. A poisoned lock is recovered: the tally is plain numbers.
    pub(crate) fn update(&self, f: impl FnOnce(&mut RunTally)) {
        f(&mut crate::contention::lock(crate::contention::Site::RunTally, &self.tally));
    }

    /// The tally so far.
    pub(crate) fn tally(&self) -> RunTally {
        *crate::contention::lock(crate::contention::Site::RunTally, &self.tally)
    }

    /// A span of the run opened.
    pub(crate) fn opened(&self) {
        self.open.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// A span of the run closed. Saturating: a span whose run changed while open (adopted from a remote
    /// parent) may close against a run it did not open in.
    pub(crate) fn closed(&self) {
        let _ = self.open.fetch_update(
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
            |open| open.checked_sub(1),
        );
    }

    /// Spans of the run opened and not closed yet.
    pub(crate) fn open(&self) -> u64 {
        self.open.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A span of the run closed and was handed to the finisher.
    pub(crate) fn handed_off(&self) {
        self.pending.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// A span counted by [`Self::handed_off`] was finished (or dropped). Release: its additions to the
    /// tally happen before the run that reads `pending() == 0` reads the tally.
    pub(crate) fn finished(&self) {
        self.pending.fetch_sub(1, std::sync::atomic::Ordering::Release);
    }

    /// Spans handed off and not finished yet.
    pub(crate) fn pending(&self) -> u64 {
        self.pending.load(std::sync::atomic::Ordering::Acquire)
    }
}
