//! [`BudgetSpanExt`]: reserving budget for a span's call, and asking what is left.

use super::*;
use crate::budget::{BudgetExceeded, BudgetGrant, Estimate};

/// Budget reservations on a span (see [`budget`](crate::budget)): reserve before the model call, and
/// the layer settles the reservation with the span's priced cost when it closes.
pub trait BudgetSpanExt {
    /// Reserves `estimate` under every cap that applies to this span: its run's run cap, the run's
    /// customer, tenant and workflow caps, and the process caps. The estimate is priced by the layer's
    /// pricing engine (the one that prices the span at close). A denial writes a `botanu.budget.denied`
    /// event on the span; thresholds crossed write `botanu.budget.threshold` events. A second
    /// reservation on the same span replaces (and releases) the first. Without caps configured, or
    /// without a botanu layer, every reservation is granted and holds nothing.
    ///
    /// ```
    /// # #[cfg(feature = "bundled-prices")] {
    /// use botanu::budget::{Budgets, Cap, Estimate};
    /// use botanu::prelude::*;
    /// use botanu::BudgetSpanExt;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    /// let (layer, guard) = botanu::Builder::new()
    ///     .with_span_exporter(exporter.clone())
    ///     .with_budgets(Budgets::new().with_cap(Cap::run(0.01)))
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     run_span!(workflow = "agent").in_scope(|| {
    ///         // gpt-4o: 1,000 × 2.5 + 500 × 10 USD per million tokens = 0.0075 USD.
    ///         let call = llm_span!(provider = "openai", model = "gpt-4o");
    ///         let grant = call.reserve_budget(&Estimate::llm("openai", "gpt-4o", 1_000, 500)).unwrap();
    ///         assert!((grant.remaining_usd.unwrap() - 0.0025).abs() < 1e-9);
    ///         let next = llm_span!(provider = "openai", model = "gpt-4o");
    ///         let denied = next.reserve_budget(&Estimate::llm("openai", "gpt-4o", 1_000, 500)).unwrap_err();
    ///         assert_eq!(denied.cap.scope, botanu::budget::Scope::Run);
    ///     });
    /// });
    /// guard.shutdown()?;
    /// # }
    /// # Ok::<(), botanu::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`BudgetExceeded`] naming the cap that refused (and why: the limit, an unpriced estimate under the
    /// deny policy, or a shared store down with the cap failing closed).
    fn reserve_budget(&self, estimate: &Estimate) -> Result<BudgetGrant, BudgetExceeded>;

    /// The least left under any deny cap that applies to this span (reservations in flight counted);
    /// `None` when no deny cap applies or no caps are configured.
    ///
    /// ```
    /// use botanu::budget::{Budgets, Cap};
    /// use botanu::prelude::*;
    /// use botanu::BudgetSpanExt;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let (layer, guard) = botanu::Builder::new()
    ///     .with_span_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
    ///     .with_budgets(Budgets::new().with_cap(Cap::run(0.50)))
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     let run = run_span!(workflow = "agent");
    ///     assert_eq!(run.budget_remaining(), Some(0.50));
    /// });
    /// guard.shutdown()?;
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn budget_remaining(&self) -> Option<f64>;

    /// Releases this span's reservation (nothing spent): for a call that will not be made, e.g. when a
    /// soft limit sends the caller to a cheaper model. Whether there was one. A span that closes still
    /// holding a reservation without having been priced keeps it as spent (the call may have run without
    /// reporting usage: unpriced is not free).
    ///
    /// ```
    /// use botanu::budget::{Budgets, Cap, Estimate};
    /// use botanu::prelude::*;
    /// use botanu::BudgetSpanExt;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let (layer, guard) = botanu::Builder::new()
    ///     .with_span_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
    ///     .with_budgets(Budgets::new().with_cap(Cap::run(0.50)))
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     run_span!(workflow = "agent").in_scope(|| {
    ///         let call = llm_span!(provider = "openai", model = "gpt-4o");
    ///         call.reserve_budget(&Estimate::usd(0.40)).unwrap();
    ///         assert!(call.release_budget());
    ///         assert_eq!(call.budget_remaining(), Some(0.50));
    ///     });
    /// });
    /// guard.shutdown()?;
    /// # Ok::<(), botanu::Error>(())
    /// ```
    fn release_budget(&self) -> bool;
}

impl BudgetSpanExt for Span {
    fn reserve_budget(&self, estimate: &Estimate) -> Result<BudgetGrant, BudgetExceeded> {
        let mut request = None;
        with_own_state(self, |state, shared| request = crate::layer::budget::request(state, shared, estimate));
        let Some(request) = request else { return Ok(BudgetGrant::default()) };
        // Off the span's lock: a shared store is a network round trip (bounded by its timeout).
        let mut answer = Some(request.reserve());
        let mut recorded = None;
        with_own_state(self, |state, shared| {
            if let Some(answer) = answer.take() {
                recorded = Some(crate::layer::budget::record(state, shared, &request, answer));
            }
        });
        match (recorded, answer) {
            (Some(recorded), _) => recorded,
            // The span closed in between: nothing holds the reservation (it is given back here).
            (None, Some(answer)) => answer.map(crate::layer::budget::grant_and_release),
            (None, None) => Ok(BudgetGrant::default()),
        }
    }

    fn release_budget(&self) -> bool {
        let mut held = None;
        with_own_state(self, |state, _| held = state.budget.take());
        // Given back here, off the span's lock.
        held.map(|reservation| reservation.release()).is_some()
    }

    fn budget_remaining(&self) -> Option<f64> {
        let mut remaining = None;
        with_state(self, |state, shared| {
            if let Some(layer) = &shared.budget {
                let target = state.run.as_deref().map(crate::layer::budget::target_of).unwrap_or_default();
                remaining = layer.budgets.remaining(&target);
            }
        });
        remaining
    }
}
