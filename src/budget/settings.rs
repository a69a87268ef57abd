//! The budget settings of the configuration (contract §8): caps, the unpriced policy, the store, its
//! timeout and failure mode, as `BOTANU_BUDGETS`, `BOTANU_BUDGET_*` and the YAML `budgets:` section set them.

use std::fmt;
use std::time::Duration;

use super::cap::Cap;

/// What a reservation whose estimate cannot be priced (unknown model, pricing off) does under a cap;
/// also what a span that closes unpriced without a reservation is charged.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum UnpricedPolicy {
    /// The reservation is denied ([`DenyCause::Unpriced`](super::DenyCause::Unpriced)); an unreserved unpriced span is counted in
    /// `botanu.run.cost.unpriced_count` but charged nothing (there is nothing to deny after the fact).
    #[default]
    Deny,
    /// The call is charged this many USD.
    Charge(f64),
}

impl std::str::FromStr for UnpricedPolicy {
    type Err = String;

    /// `deny`, or a USD amount >= 0.
    ///
    /// ```
    /// use botanu::budget::UnpricedPolicy;
    /// assert_eq!("0.05".parse(), Ok(UnpricedPolicy::Charge(0.05)));
    /// assert_eq!("deny".parse(), Ok(UnpricedPolicy::Deny));
    /// assert!("free".parse::<UnpricedPolicy>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("deny") {
            return Ok(UnpricedPolicy::Deny);
        }
        match text.parse::<f64>() {
            Ok(usd) if usd.is_finite() && usd >= 0.0 => Ok(UnpricedPolicy::Charge(usd)),
            _ => Err(format!("{text:?} is neither `deny` nor a USD amount >= 0")),
        }
    }
}

/// What a cap does when its shared store (Redis) cannot be reached within the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreFailure {
    /// Reservations go ahead, counted in this process only (each replica then holds the cap alone, so
    /// the fleet can spend up to replicas × the cap while the store is down); counted
    /// (`store_unavailable` decisions, [`Budgets::store_failures`](super::Budgets::store_failures)) and warned about once.
    #[default]
    Open,
    /// Reservations under a shared cap are denied ([`DenyCause::StoreUnavailable`](super::DenyCause::StoreUnavailable)).
    Closed,
}

/// How long a shared-store call may block the application by default.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_millis(25);

/// Where caps of customers, tenants and workflows are counted.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum BudgetStoreKind {
    /// In this process (the default): each process holds the caps alone.
    #[default]
    Memory,
    /// In Redis at this URL (`redis://host:port/db`; feature `redis`): shared by every process using it.
    Redis(String),
}

impl fmt::Debug for BudgetStoreKind {
    /// A Redis URL is shown without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BudgetStoreKind::Memory => f.write_str("Memory"),
            BudgetStoreKind::Redis(url) => f.debug_tuple("Redis").field(&without_credentials(url)).finish(),
        }
    }
}

/// `redis://user:secret@host` → `redis://host`.
pub(crate) fn without_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}{}", &url[..scheme + 3], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

impl BudgetStoreKind {
    /// Parses `memory` or a `redis://` / `rediss://` URL.
    ///
    /// ```
    /// use botanu::budget::BudgetStoreKind;
    /// assert_eq!(BudgetStoreKind::parse("memory"), Some(BudgetStoreKind::Memory));
    /// assert_eq!(BudgetStoreKind::parse("redis://127.0.0.1:6379/0"), Some(BudgetStoreKind::Redis("redis://127.0.0.1:6379/0".into())));
    /// assert_eq!(BudgetStoreKind::parse("postgres://db"), None);
    /// assert_eq!(BudgetStoreKind::parse("redis://a b"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("memory") {
            Some(BudgetStoreKind::Memory)
        } else if (text.starts_with("redis://") || text.starts_with("rediss://"))
            && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            Some(BudgetStoreKind::Redis(text.to_owned()))
        } else {
            None
        }
    }
}

/// The budget settings resolved from the environment and the config file (code sets caps through
/// [`Builder::with_budgets`](crate::Builder::with_budgets)).
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetConfig {
    /// The caps (`BOTANU_BUDGETS`, `budgets.caps`).
    pub caps: Vec<Cap>,
    /// The unpriced policy (`BOTANU_BUDGET_UNPRICED`, `budgets.unpriced`); `None`: not set (deny).
    pub unpriced: Option<UnpricedPolicy>,
    /// The store (`BOTANU_BUDGET_STORE`, `budgets.store`).
    pub store: BudgetStoreKind,
    /// The store's per-call timeout (`BOTANU_BUDGET_STORE_TIMEOUT_MILLIS`, `budgets.store_timeout_ms`).
    pub store_timeout: Duration,
    /// What shared caps do when the store is down (`BOTANU_BUDGET_STORE_FAILURE`, `budgets.store_failure`);
    /// `None`: not set (open).
    pub store_failure: Option<StoreFailure>,
}

impl Default for BudgetConfig {
    /// No caps, unpriced denied, in memory, 25 ms, fail open.
    ///
    /// ```
    /// let d = botanu::budget::BudgetConfig::default();
    /// assert!(d.caps.is_empty());
    /// assert_eq!(d.store_timeout, std::time::Duration::from_millis(25));
    /// ```
    fn default() -> Self {
        BudgetConfig {
            caps: Vec::new(),
            unpriced: None,
            store: BudgetStoreKind::Memory,
            store_timeout: DEFAULT_STORE_TIMEOUT,
            store_failure: None,
        }
    }
}

impl BudgetConfig {
    /// Whether anything budget-related is configured (else the layer carries no budgets at all).
    pub(crate) fn is_configured(&self) -> bool {
        !self.caps.is_empty() || self.store != BudgetStoreKind::Memory
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_shown() {
        let store = BudgetStoreKind::Redis(format!("redis://user:{}@cache:6379/2", "hunter2"));
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2") && shown.contains("redis://cache:6379/2"), "{shown}");
    }
}
