//! What a check answers: a cap's standing ([`CapStatus`]), a denial ([`BudgetExceeded`]), the decision
//! counted on the metric ([`Decision`]), a threshold crossed, and a grant ([`BudgetGrant`]).

use std::fmt;
use std::sync::Arc;

use super::cap::{Policy, Scope, Window};
use crate::cost::UnpricedReason;

/// A cap as it stood for one reservation or span: its identity and figures.
#[derive(Debug, Clone, PartialEq)]
pub struct CapStatus {
    /// The scope.
    pub scope: Scope,
    /// The customer, tenant or workflow the cap counted (for a cap on each of them, the one of this call).
    pub key: Option<Arc<str>>,
    /// The window.
    pub window: Window,
    /// The policy.
    pub policy: Policy,
    /// The limit, USD.
    pub limit_usd: f64,
    /// Committed (settled) spending in the window, USD.
    pub spent_usd: f64,
    /// Reserved by calls in flight, USD (this call's reservation not included).
    pub reserved_usd: f64,
}

impl CapStatus {
    /// What is left under the limit, never below 0.
    ///
    /// ```
    /// use botanu::budget::{CapStatus, Policy, Scope, Window};
    /// let s = CapStatus { scope: Scope::Run, key: None, window: Window::Run, policy: Policy::Deny,
    ///     limit_usd: 1.0, spent_usd: 0.25, reserved_usd: 0.5 };
    /// assert_eq!(s.remaining_usd(), 0.25);
    /// ```
    pub fn remaining_usd(&self) -> f64 {
        (self.limit_usd - self.spent_usd - self.reserved_usd).max(0.0)
    }
}

/// Why a reservation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyCause {
    /// The cap's committed + reserved + this estimate would pass its limit.
    Limit,
    /// The estimate could not be priced and the unpriced policy is deny.
    Unpriced(UnpricedReason),
    /// The shared store was unreachable and the cap fails closed.
    StoreUnavailable,
}

/// A reservation refused: which cap, its figures, and this call's estimate.
///
/// ```
/// use botanu::budget::{BudgetTarget, Budgets, Cap, DenyCause, Scope};
///
/// let budgets = Budgets::new().with_cap(Cap::run(0.10));
/// let run = BudgetTarget::default().with_run("r-1");
/// let first = budgets.reserve(&run, Some(0.08)).unwrap();
/// let denied = budgets.reserve(&run, Some(0.05)).unwrap_err();
/// assert_eq!((denied.cause, denied.cap.scope), (DenyCause::Limit, Scope::Run));
/// assert_eq!((denied.cap.limit_usd, denied.cap.reserved_usd, denied.estimate_usd), (0.10, 0.08, Some(0.05)));
/// # first.release();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetExceeded {
    /// Why.
    pub cause: DenyCause,
    /// The cap that refused, as it stood.
    pub cap: CapStatus,
    /// This call's estimate, USD (`None`: unpriced).
    pub estimate_usd: Option<f64>,
}

impl fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.cap;
        write!(f, "budget {} cap", c.scope.as_str())?;
        if let Some(key) = &c.key {
            write!(f, " {key:?}")?;
        }
        write!(f, " ({} USD per {})", c.limit_usd, c.window.as_str())?;
        match self.cause {
            DenyCause::Limit => write!(
                f,
                " exceeded: spent {} + reserved {} + this call's {} USD",
                c.spent_usd,
                c.reserved_usd,
                self.estimate_usd.unwrap_or(0.0)
            ),
            DenyCause::Unpriced(reason) => write!(f, " refuses an unpriced call ({reason})"),
            DenyCause::StoreUnavailable => f.write_str(" fails closed: its store is unavailable"),
        }
    }
}

impl std::error::Error for BudgetExceeded {}

/// How one cap judged a reservation (the `botanu.budget.decision` of the metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Under the limit and no threshold crossed.
    Allowed,
    /// A threshold crossed, or a warn cap passed.
    Warned,
    /// A soft cap passed.
    SoftLimited,
    /// Refused.
    Denied,
    /// The shared store was unavailable (the failure mode decided).
    StoreUnavailable,
}

impl Decision {
    /// The wire value.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Decision::SoftLimited.as_str(), "soft_limited");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Warned => "warned",
            Decision::SoftLimited => "soft_limited",
            Decision::Denied => "denied",
            Decision::StoreUnavailable => "store_unavailable",
        }
    }
}

/// Something to write on the span: a threshold crossed (contract §8 `botanu.budget.threshold`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ThresholdCrossed {
    pub(crate) cap: CapStatus,
    pub(crate) threshold: f64,
}

/// What a granted reservation tells the caller.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BudgetGrant {
    /// The amount held, USD (the priced estimate, or the unpriced charge).
    pub amount_usd: f64,
    /// Whether the estimate could not be priced (the unpriced charge was held instead).
    pub unpriced: bool,
    /// Soft caps this reservation takes past their limit: fall back to a cheaper call.
    pub soft_limited: Vec<CapStatus>,
    /// The least left under any deny cap after this reservation, USD; `None` when no deny cap applies.
    pub remaining_usd: Option<f64>,
}

impl BudgetGrant {
    /// Whether a soft cap was passed.
    ///
    /// ```
    /// use botanu::budget::{BudgetTarget, Budgets, Cap, Policy};
    /// let budgets = Budgets::new().with_cap(Cap::run(0.10).with_policy(Policy::Soft));
    /// let run = BudgetTarget::default().with_run("r");
    /// let first = budgets.reserve(&run, Some(0.10)).unwrap();
    /// assert!(!first.grant().is_soft_limited());
    /// // Held: 0.10 + 0.01 passes the soft limit, and is granted.
    /// assert!(budgets.reserve(&run, Some(0.01)).unwrap().grant().is_soft_limited());
    /// ```
    pub fn is_soft_limited(&self) -> bool {
        !self.soft_limited.is_empty()
    }
}
