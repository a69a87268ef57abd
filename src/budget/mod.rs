//! Spending caps: reserve before a model call, settle when its span closes (contract §8).
//!
//! botanu prices every LLM call and data operation at call time and knows the run, workflow, customer
//! and tenant it belongs to, so it can also *stop* spending: an agent loop or a multi-tenant service
//! sets caps ("a run may spend at most $0.50", "customer `acme` at most $200 per UTC day") and, before
//! each model call, reserves an [`Estimate`]. The reservation is checked against every cap that applies,
//! atomically: committed + reserved never passes a deny cap however many threads reserve at once (the
//! check and the increment are one critical section, or one Redis script). When the call's span closes
//! the reservation is replaced by the span's priced cost, or kept if the call went unpriced.
//!
//! - [`Cap`]: scope ([`Scope`]), optional key, limit, [`Window`] (the run, or a fixed UTC minute, hour,
//!   day or month), [`Policy`] (deny, warn, soft) and thresholds (50/80/100 % by default).
//! - [`Budgets`]: the caps in force (changed at run time with [`Budgets::set_cap`]), the unpriced
//!   policy ([`UnpricedPolicy`]: deny by default, or a per-call charge; never $0) and the counters.
//! - [`Estimate`]: a fixed amount, or an LLM call's input tokens (known, or from the prompt text) and
//!   max output tokens, priced by the same [`PricingEngine`](crate::cost::PricingEngine) as spans.
//! - [`BudgetExceeded`]: the typed refusal.
//!
//! The pieces here are pure (no `tracing` types); [`BudgetSpanExt`](crate::BudgetSpanExt) reserves for a
//! span and the layer settles it at close.
//!
//! Limits, stated plainly: run and process caps are per process. Customer, tenant and workflow caps are
//! per process with the in-memory store, and shared by a fleet with the Redis store (feature `redis`).
//! What can overshoot a deny cap: a call that costs more than its estimate (output past
//! `max_output_tokens` cannot happen, but a cheaper-looking estimate from [`Estimate::from_prompt`] or
//! [`Estimate::usd`] can be low), by the difference; spans priced without a reservation are committed
//! without a check (they already ran); and, with a shared store failing open, each replica's local
//! accounting holds the cap alone.

mod cap;
mod decision;
mod estimate;
mod ledger;
#[cfg(feature = "redis")]
mod redis_store;
mod settings;
pub(crate) mod store;
mod target;

pub(crate) use cap::REPEATED as REPEATED_CAP;
pub use cap::{Cap, CapParseError, Policy, Scope, Window, DEFAULT_THRESHOLDS};
pub(crate) use decision::ThresholdCrossed;
pub use decision::{BudgetExceeded, BudgetGrant, CapStatus, Decision, DenyCause};
pub use estimate::{Estimate, CHARS_PER_TOKEN};
pub use ledger::{Budgets, Clock, Reservation};
pub(crate) use settings::without_credentials;
pub use settings::{BudgetConfig, BudgetStoreKind, StoreFailure, UnpricedPolicy, DEFAULT_STORE_TIMEOUT};
pub use target::BudgetTarget;
