//! Budgets at the layer (contract §8): the reservation a setter makes for a span, its settlement when
//! the span closes (on the finisher, right after the span is priced), the run span's budget attributes,
//! the budget events and the `botanu.budget.decisions` counter.
//!
//! Everything here is behind `Shared::budget`, `None` unless caps were configured: a process without
//! caps pays one `Option` check per finished span, on botanu's finisher thread, and nothing on the
//! application thread.

use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::metrics::{Counter, Meter};
use opentelemetry::trace::Event;
use opentelemetry::{Key, KeyValue, Value};

use super::kinds::Kind;
use super::state::SpanState;
use super::Shared;
use crate::budget::{
    BudgetExceeded, BudgetGrant, BudgetTarget, Budgets, Decision, DenyCause, Estimate, Policy, Reservation, Scope,
    ThresholdCrossed,
};
use crate::cost::{Cost, UnpricedReason};
use crate::run::RunContext;
use crate::semconv as k;

/// The layer's budgets and their decision counter.
pub(crate) struct BudgetLayer {
    pub(crate) budgets: Budgets,
    decisions: Counter<u64>,
}

impl std::fmt::Debug for BudgetLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BudgetLayer").field("budgets", &self.budgets).finish_non_exhaustive()
    }
}

impl BudgetLayer {
    pub(crate) fn new(budgets: Budgets, meter: &Meter) -> Self {
        let decisions =
            meter.u64_counter(k::METRIC_BUDGET_DECISIONS).with_unit(k::METRIC_BUDGET_DECISIONS_UNIT).build();
        BudgetLayer { budgets, decisions }
    }

    /// Counts `decisions` under the run's workflow (bounded like every metric's workflow; never a
    /// customer or tenant id).
    fn count(&self, shared: &Shared, run: Option<&RunContext>, decisions: &[(Scope, Decision)]) {
        for (scope, decision) in decisions {
            let mut attrs = Vec::with_capacity(3);
            attrs.push(KeyValue::new(k::BUDGET_SCOPE, scope.as_str()));
            attrs.push(KeyValue::new(k::BUDGET_DECISION, decision.as_str()));
            if let (Some(run), Some(metrics)) = (run, &shared.metrics) {
                attrs.push(KeyValue::new(k::WORKFLOW, metrics.workflow(&run.workflow)));
            }
            self.decisions.add(1, &attrs);
        }
    }

    /// A span closed (after pricing; `cost` is its cost if it is cost-bearing): settles its reservation
    /// with the priced cost (or keeps it, unpriced), charges a priced span that reserved nothing, and on
    /// a run span writes the run's budget attributes.
    pub(crate) fn finish(&self, state: &mut SpanState, shared: &Shared, cost: Option<&Cost>) {
        let crossed = match (state.budget.take(), cost) {
            (Some(mut held), cost) => held.settle_inner(cost.and_then(Cost::usd)),
            (None, Some(cost)) => match &state.run {
                Some(run) => self.budgets.commit(&target_of(run), cost.usd()),
                None => self.budgets.commit(&BudgetTarget::default(), cost.usd()),
            },
            (None, None) => Vec::new(),
        };
        for crossing in &crossed {
            state.push_event(threshold_event(crossing), shared.max_events);
        }
        if state.kind == Kind::Run {
            if let Some(run) = state.run.clone() {
                let closed = self.budgets.close_run(&run.run_id);
                if let Some((limit, spent)) = closed.limit_spent {
                    state.set(Key::from_static_str(k::BUDGET_RUN_LIMIT_USD), Value::F64(limit));
                    state.set(Key::from_static_str(k::BUDGET_RUN_SPENT_USD), Value::F64(spent));
                }
                if closed.exceeded || state.get(k::BUDGET_EXCEEDED).is_some() {
                    state.set(Key::from_static_str(k::BUDGET_EXCEEDED), Value::Bool(true));
                }
            }
        }
    }
}

/// What caps a span of `run` falls under.
pub(crate) fn target_of(run: &RunContext) -> BudgetTarget {
    let fields = run.fields();
    BudgetTarget {
        run_id: Some(run.run_id.clone()),
        workflow: Some(run.workflow.clone()),
        customer: fields.customer_id.clone(),
        tenant: fields.tenant_id.clone(),
    }
}

/// What a reservation needs from the span, read under its lock: the budgets, the target, the estimate
/// priced by the layer's engine at `now`.
pub(crate) struct Request {
    budgets: Budgets,
    target: BudgetTarget,
    run: Option<Arc<RunContext>>,
    estimate_usd: Option<f64>,
    reason: UnpricedReason,
}

/// Reads what reserving `estimate` for the span of `state` needs; `None` when no caps are configured.
pub(crate) fn request(state: &SpanState, shared: &Shared, estimate: &Estimate) -> Option<Request> {
    let layer = shared.budget.as_ref()?;
    let engine = shared.cost.as_ref().map(super::cost::CostLayer::engine);
    let (estimate_usd, reason) = match estimate.price(engine, SystemTime::now()) {
        Cost::Priced(priced) => (Some(priced.total_usd), UnpricedReason::NoPrice),
        Cost::Unpriced { reason } => (None, reason),
    };
    let target = state.run.as_deref().map(target_of).unwrap_or_default();
    Some(Request { budgets: layer.budgets.clone(), target, run: state.run.clone(), estimate_usd, reason })
}

impl Request {
    /// Reserves, off the span's lock (a shared store is a network round trip).
    pub(crate) fn reserve(&self) -> Result<Reservation, BudgetExceeded> {
        self.budgets.reserve_priced(&self.target, self.estimate_usd, self.reason)
    }
}

/// The grant of a reservation nothing will hold (no call is made under it), given back at once.
pub(crate) fn grant_and_release(reservation: Reservation) -> BudgetGrant {
    let grant = reservation.grant().clone();
    reservation.release();
    grant
}

/// Records the answer on the span (under its lock again): events, the decision counter, and the held
/// reservation (replacing one made before on the same span, which is released).
pub(crate) fn record(
    state: &mut SpanState,
    shared: &Shared,
    request: &Request,
    answer: Result<Reservation, BudgetExceeded>,
) -> Result<BudgetGrant, BudgetExceeded> {
    let Some(layer) = &shared.budget else { return answer.map(grant_and_release) };
    match answer {
        Ok(reservation) => {
            layer.count(shared, request.run.as_deref(), &reservation.decisions);
            for crossing in &reservation.crossed {
                state.push_event(threshold_event(crossing), shared.max_events);
            }
            let grant = reservation.grant().clone();
            if let Some(before) = state.budget.replace(Box::new(reservation)) {
                // Reserved again for the same call: the earlier reservation is given back.
                before.release();
            }
            Ok(grant)
        }
        Err(denied) => {
            let decision = match denied.cause {
                DenyCause::StoreUnavailable => Decision::StoreUnavailable,
                DenyCause::Limit | DenyCause::Unpriced(_) => Decision::Denied,
            };
            layer.count(shared, request.run.as_deref(), &[(denied.cap.scope, decision)]);
            state.push_event(denied_event(&denied), shared.max_events);
            Err(denied)
        }
    }
}

fn cap_attributes(cap: &crate::budget::CapStatus, attrs: &mut Vec<KeyValue>) {
    attrs.push(KeyValue::new(k::BUDGET_EVENT_SCOPE, cap.scope.as_str()));
    if let Some(key) = &cap.key {
        attrs.push(KeyValue::new(k::BUDGET_EVENT_KEY, Value::String(key.clone().into())));
    }
    attrs.push(KeyValue::new(k::BUDGET_EVENT_WINDOW, cap.window.as_str()));
    attrs.push(KeyValue::new(k::BUDGET_EVENT_LIMIT_USD, cap.limit_usd));
    attrs.push(KeyValue::new(k::BUDGET_EVENT_SPENT_USD, cap.spent_usd));
}

fn denied_event(denied: &BudgetExceeded) -> Event {
    let mut attrs = Vec::with_capacity(8);
    cap_attributes(&denied.cap, &mut attrs);
    attrs.push(KeyValue::new(k::BUDGET_EVENT_RESERVED_USD, denied.cap.reserved_usd));
    if let Some(estimate) = denied.estimate_usd {
        attrs.push(KeyValue::new(k::BUDGET_EVENT_ESTIMATE_USD, estimate));
    }
    let reason = match denied.cause {
        DenyCause::Limit => "limit",
        DenyCause::Unpriced(_) => "unpriced",
        DenyCause::StoreUnavailable => "store_unavailable",
    };
    attrs.push(KeyValue::new(k::BUDGET_EVENT_REASON, reason));
    Event::new(k::EVENT_BUDGET_DENIED, SystemTime::now(), attrs, 0)
}

fn threshold_event(crossing: &ThresholdCrossed) -> Event {
    let mut attrs = Vec::with_capacity(8);
    cap_attributes(&crossing.cap, &mut attrs);
    attrs.push(KeyValue::new(k::BUDGET_EVENT_THRESHOLD, crossing.threshold));
    if crossing.cap.policy == Policy::Soft {
        attrs.push(KeyValue::new(k::BUDGET_EVENT_SOFT, true));
    }
    Event::new(k::EVENT_BUDGET_THRESHOLD, SystemTime::now(), attrs, 0)
}
