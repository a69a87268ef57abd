//! What a cap is: its scope, optional key, limit, window, policy and thresholds, and the
//! `SCOPE[:KEY]=USD[/WINDOW][:POLICY]` grammar of `BOTANU_BUDGETS` (contract §8).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Who a cap is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// One run, for its lifetime in this process.
    Run,
    /// A customer (`botanu.customer_id` of the run).
    Customer,
    /// A tenant (`botanu.tenant_id` of the run).
    Tenant,
    /// A workflow (`botanu.workflow` of the run).
    Workflow,
    /// This process: every reservation and every priced span in it.
    Process,
}

impl Scope {
    /// The wire value (`scope` of the budget events, `botanu.budget.scope` of the metric).
    ///
    /// ```
    /// assert_eq!(botanu::budget::Scope::Customer.as_str(), "customer");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Run => "run",
            Scope::Customer => "customer",
            Scope::Tenant => "tenant",
            Scope::Workflow => "workflow",
            Scope::Process => "process",
        }
    }

    /// Whether a cap of this scope is accounted in this process only, whatever the store: a run lives
    /// in one process, and "this process" is by definition local.
    pub(crate) const fn is_local(self) -> bool {
        matches!(self, Scope::Run | Scope::Process)
    }

    fn parse(text: &str) -> Option<Scope> {
        Some(match text {
            "run" => Scope::Run,
            "customer" => Scope::Customer,
            "tenant" => Scope::Tenant,
            "workflow" => Scope::Workflow,
            "process" => Scope::Process,
            _ => return None,
        })
    }
}

/// The period a cap counts over. Minute, hour, day and month are fixed UTC windows (a day runs from
/// 00:00 UTC to 24:00 UTC, whatever the local time zone); `Run` is the lifetime of a run in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    /// The run's lifetime in this process (run caps only).
    Run,
    /// A UTC minute.
    Minute,
    /// A UTC hour.
    Hour,
    /// A UTC day.
    Day,
    /// A UTC calendar month.
    Month,
}

impl Window {
    /// The wire value (`window` of the budget events).
    ///
    /// ```
    /// assert_eq!(botanu::budget::Window::Day.as_str(), "day");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Window::Run => "run",
            Window::Minute => "minute",
            Window::Hour => "hour",
            Window::Day => "day",
            Window::Month => "month",
        }
    }

    fn parse(text: &str) -> Option<Window> {
        Some(match text {
            "run" => Window::Run,
            "minute" => Window::Minute,
            "hour" => Window::Hour,
            "day" => Window::Day,
            "month" => Window::Month,
            _ => return None,
        })
    }

    /// The number of the fixed window `at` falls in and the seconds from `at` to the window's end (the
    /// TTL of its counter). `Run` has one window, number 0, that never expires (`None`).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use botanu::budget::Window;
    ///
    /// // 2026-12-07T23:59:30Z and 30 s later are in consecutive UTC days.
    /// let before = UNIX_EPOCH + Duration::from_secs(1_796_687_970);
    /// let (day, ttl) = Window::Day.slot(before);
    /// assert_eq!(ttl, Some(30));
    /// assert_eq!(Window::Day.slot(before + Duration::from_secs(30)).0, day + 1);
    /// ```
    pub fn slot(self, at: SystemTime) -> (u64, Option<u64>) {
        let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let fixed = |len: u64| (secs / len, Some(len - secs % len));
        match self {
            Window::Run => (0, None),
            Window::Minute => fixed(60),
            Window::Hour => fixed(3_600),
            Window::Day => fixed(86_400),
            Window::Month => {
                let days = secs / 86_400;
                let (year, month) = year_month(days);
                let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
                let end = days_from_civil(next_year, next_month) * 86_400;
                (year * 12 + (month - 1), Some(end.saturating_sub(secs).max(1)))
            }
        }
    }
}

/// Civil year and month of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn year_month(days: u64) -> (u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month)
}

/// Days since 1970-01-01 of the first of `month` in `year` (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: u64, month: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let m = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * m + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

/// What happens when a reservation would take a cap past its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// The reservation fails with [`BudgetExceeded`](super::BudgetExceeded).
    #[default]
    Deny,
    /// The reservation succeeds; `botanu.budget.threshold` events mark the thresholds it crosses.
    Warn,
    /// The reservation succeeds but says it is over the soft limit
    /// ([`BudgetGrant::soft_limited`](super::BudgetGrant::soft_limited)), so the caller can fall back
    /// to a cheaper model.
    Soft,
}

impl Policy {
    /// The configuration value.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Policy::Soft.as_str(), "soft");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Policy::Deny => "deny",
            Policy::Warn => "warn",
            Policy::Soft => "soft",
        }
    }

    fn parse(text: &str) -> Option<Policy> {
        Some(match text {
            "deny" => Policy::Deny,
            "warn" => Policy::Warn,
            "soft" => Policy::Soft,
            _ => return None,
        })
    }
}

/// The default thresholds at which `botanu.budget.threshold` events are written: 50 %, 80 %, 100 %.
pub const DEFAULT_THRESHOLDS: [f64; 3] = [0.5, 0.8, 1.0];

/// One spending cap.
///
/// A cap of a customer, tenant or workflow scope without a key applies to each of them separately
/// (`customer=5/day`: every customer at most $5 a UTC day); with a key, to that one only. Run and
/// process caps take no key.
///
/// ```
/// use botanu::budget::{Cap, Policy, Scope, Window};
///
/// let cap: Cap = "customer:acme=200/day".parse()?;
/// assert_eq!(cap, Cap::customer("acme", 200.0).per(Window::Day));
/// assert_eq!(cap.scope(), Scope::Customer);
/// assert_eq!(cap.key(), Some("acme"));
/// assert_eq!(cap.policy(), Policy::Deny);
/// # Ok::<(), botanu::budget::CapParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Cap {
    scope: Scope,
    key: Option<Arc<str>>,
    limit_usd: f64,
    window: Window,
    policy: Policy,
    thresholds: Arc<[f64]>,
}

impl Cap {
    fn new(scope: Scope, key: Option<Arc<str>>, limit_usd: f64, window: Window) -> Self {
        Cap {
            scope,
            key,
            limit_usd: sane_limit(limit_usd),
            window,
            policy: Policy::Deny,
            thresholds: Arc::new(DEFAULT_THRESHOLDS),
        }
    }

    /// Every run may spend at most `limit_usd` in its lifetime in this process.
    ///
    /// ```
    /// let cap = botanu::budget::Cap::run(0.50);
    /// assert_eq!(cap.limit_usd(), 0.50);
    /// assert_eq!(cap.window(), botanu::budget::Window::Run);
    /// ```
    pub fn run(limit_usd: f64) -> Self {
        Cap::new(Scope::Run, None, limit_usd, Window::Run)
    }

    /// Customer `customer` may spend at most `limit_usd` per UTC day (change the window with [`Cap::per`]).
    ///
    /// ```
    /// let cap = botanu::budget::Cap::customer("acme", 200.0);
    /// assert_eq!(cap.window(), botanu::budget::Window::Day);
    /// ```
    pub fn customer(customer: impl Into<Arc<str>>, limit_usd: f64) -> Self {
        Cap::new(Scope::Customer, Some(customer.into()), limit_usd, Window::Day)
    }

    /// Tenant `tenant` may spend at most `limit_usd` per UTC day.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Cap::tenant("eu-1", 5.0).key(), Some("eu-1"));
    /// ```
    pub fn tenant(tenant: impl Into<Arc<str>>, limit_usd: f64) -> Self {
        Cap::new(Scope::Tenant, Some(tenant.into()), limit_usd, Window::Day)
    }

    /// Workflow `workflow` may spend at most `limit_usd` per UTC day.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Cap::workflow("support", 50.0).scope(), botanu::budget::Scope::Workflow);
    /// ```
    pub fn workflow(workflow: impl Into<Arc<str>>, limit_usd: f64) -> Self {
        Cap::new(Scope::Workflow, Some(workflow.into()), limit_usd, Window::Day)
    }

    /// Each customer (tenant, workflow: `scope`) separately may spend at most `limit_usd` per UTC day;
    /// for [`Scope::Run`] and [`Scope::Process`] the same as [`Cap::run`] and [`Cap::process`].
    ///
    /// ```
    /// use botanu::budget::{Cap, Scope};
    /// assert_eq!(Cap::each(Scope::Customer, 5.0).key(), None);
    /// ```
    pub fn each(scope: Scope, limit_usd: f64) -> Self {
        let window = if scope == Scope::Run { Window::Run } else { Window::Day };
        Cap::new(scope, None, limit_usd, window)
    }

    /// This process may spend at most `limit_usd` per UTC day.
    ///
    /// ```
    /// use botanu::budget::{Cap, Window};
    /// assert_eq!(Cap::process(10.0).per(Window::Hour).window(), Window::Hour);
    /// ```
    pub fn process(limit_usd: f64) -> Self {
        Cap::new(Scope::Process, None, limit_usd, Window::Day)
    }

    /// The same cap over `window`. A run cap always counts over the run ([`Window::Run`]); a cap of any
    /// other scope given `Window::Run` keeps its window.
    ///
    /// ```
    /// use botanu::budget::{Cap, Window};
    /// assert_eq!(Cap::workflow("support", 50.0).per(Window::Hour).window(), Window::Hour);
    /// assert_eq!(Cap::run(1.0).per(Window::Hour).window(), Window::Run);
    /// ```
    #[must_use]
    pub fn per(mut self, window: Window) -> Self {
        if (self.scope == Scope::Run) == (window == Window::Run) {
            self.window = window;
        }
        self
    }

    /// The same cap with `policy`.
    ///
    /// ```
    /// use botanu::budget::{Cap, Policy};
    /// assert_eq!(Cap::run(1.0).with_policy(Policy::Warn).policy(), Policy::Warn);
    /// ```
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The same cap with other thresholds (fractions of the limit, e.g. `[0.9]`); values outside
    /// (0, 10] or not finite are dropped.
    ///
    /// ```
    /// let cap = botanu::budget::Cap::run(1.0).with_thresholds([0.9, f64::NAN]);
    /// assert_eq!(cap.thresholds(), &[0.9]);
    /// ```
    #[must_use]
    pub fn with_thresholds(mut self, thresholds: impl IntoIterator<Item = f64>) -> Self {
        let mut kept: Vec<f64> = thresholds.into_iter().filter(|t| t.is_finite() && *t > 0.0 && *t <= 10.0).collect();
        kept.sort_by(f64::total_cmp);
        kept.dedup();
        self.thresholds = kept.into();
        self
    }

    /// The same cap with another limit.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Cap::run(1.0).with_limit(2.0).limit_usd(), 2.0);
    /// ```
    #[must_use]
    pub fn with_limit(mut self, limit_usd: f64) -> Self {
        self.limit_usd = sane_limit(limit_usd);
        self
    }

    /// The scope.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Cap::run(1.0).scope(), botanu::budget::Scope::Run);
    /// ```
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The customer, tenant or workflow the cap is for; `None` for each of them (and run, process caps).
    ///
    /// ```
    /// assert_eq!(botanu::budget::Cap::run(1.0).key(), None);
    /// ```
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The limit in USD.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Cap::process(3.0).limit_usd(), 3.0);
    /// ```
    pub fn limit_usd(&self) -> f64 {
        self.limit_usd
    }

    /// The window.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Cap::process(3.0).window(), botanu::budget::Window::Day);
    /// ```
    pub fn window(&self) -> Window {
        self.window
    }

    /// The policy.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Cap::process(3.0).policy(), botanu::budget::Policy::Deny);
    /// ```
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The thresholds, ascending.
    ///
    /// ```
    /// assert_eq!(botanu::budget::Cap::run(1.0).thresholds(), &[0.5, 0.8, 1.0]);
    /// ```
    pub fn thresholds(&self) -> &[f64] {
        &self.thresholds
    }

    /// Whether `other` is the same cap up to its limit, policy and thresholds (the one that
    /// [`Budgets::set_cap`](super::Budgets::set_cap) replaces).
    pub(crate) fn same_slot(&self, other: &Cap) -> bool {
        self.scope == other.scope && self.key == other.key && self.window == other.window
    }

    /// Parses a `;`-separated list of caps (`BOTANU_BUDGETS`); empty entries are skipped.
    ///
    /// ```
    /// use botanu::budget::{Cap, Policy, Window};
    ///
    /// let caps = Cap::parse_list("run=0.50;customer:acme=200/day;workflow:support=50/hour:warn")?;
    /// assert_eq!(caps, vec![
    ///     Cap::run(0.50),
    ///     Cap::customer("acme", 200.0).per(Window::Day),
    ///     Cap::workflow("support", 50.0).per(Window::Hour).with_policy(Policy::Warn),
    /// ]);
    /// assert!(Cap::parse_list("run=0.50;customer:acme=lots").is_err());
    /// // One cap per scope, key and window: a second one would silently replace the first.
    /// let twice = Cap::parse_list("customer:acme=80/day:soft;customer:acme=100/day").unwrap_err();
    /// assert_eq!(twice.entry, "customer:acme=100/day");
    /// # Ok::<(), botanu::budget::CapParseError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CapParseError`] naming the first entry that is not `SCOPE[:KEY]=USD[/WINDOW][:POLICY]`, or the
    /// second of two entries for the same scope, key and window.
    pub fn parse_list(list: &str) -> Result<Vec<Cap>, CapParseError> {
        let caps = list
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Cap>, _>>()?;
        match Cap::first_repeated(&caps) {
            Some(cap) => Err(CapParseError { entry: cap.to_string(), problem: REPEATED }),
            None => Ok(caps),
        }
    }

    /// The first cap of `caps` whose scope, key and window an earlier one already has.
    pub(crate) fn first_repeated(caps: &[Cap]) -> Option<&Cap> {
        caps.iter().enumerate().find(|(i, cap)| caps[..*i].iter().any(|c| c.same_slot(cap))).map(|(_, cap)| cap)
    }
}

/// The problem of a second cap for one scope, key and window.
pub(crate) const REPEATED: &str = "a cap for this scope, key and window is already given (one per slot)";

/// A limit that is a number of dollars: negative or NaN becomes 0 (deny everything), never "no limit".
fn sane_limit(limit: f64) -> f64 {
    if limit.is_nan() || limit < 0.0 {
        0.0
    } else {
        limit
    }
}

impl fmt::Display for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scope.as_str())?;
        if let Some(key) = &self.key {
            write!(f, ":{key}")?;
        }
        write!(f, "={}", self.limit_usd)?;
        if self.window != Window::Run {
            write!(f, "/{}", self.window.as_str())?;
        }
        if self.policy != Policy::Deny {
            write!(f, ":{}", self.policy.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Cap {
    type Err = CapParseError;

    /// `SCOPE[:KEY]=USD[/WINDOW][:POLICY]`. Without a window, a run cap counts over the run and the
    /// others over a UTC day.
    fn from_str(entry: &str) -> Result<Self, Self::Err> {
        let err = |problem: &'static str| CapParseError { entry: entry.to_owned(), problem };
        let (lhs, rhs) = entry.split_once('=').ok_or_else(|| err("no '=' between the scope and the amount"))?;
        let (scope, key) = match lhs.trim().split_once(':') {
            Some((scope, key)) => (scope.trim(), Some(key.trim())),
            None => (lhs.trim(), None),
        };
        let scope =
            Scope::parse(scope).ok_or_else(|| err("the scope is not run, customer, tenant, workflow or process"))?;
        let key = match (scope, key) {
            (_, Some("")) => return Err(err("the key after ':' is empty")),
            (Scope::Run | Scope::Process, Some(_)) => return Err(err("run and process caps take no key")),
            (_, key) => key.map(Arc::from),
        };
        let (amount_window, policy) = match rhs.split_once(':') {
            Some((a, p)) => (a, Some(p.trim())),
            None => (rhs, None),
        };
        let (amount, window) = match amount_window.split_once('/') {
            Some((a, w)) => (a.trim(), Some(w.trim())),
            None => (amount_window.trim(), None),
        };
        let limit: f64 = amount.parse().map_err(|_| err("the amount is not a number of USD"))?;
        if !limit.is_finite() || limit < 0.0 {
            return Err(err("the amount must be a finite number >= 0"));
        }
        let window = match window {
            None => {
                if scope == Scope::Run {
                    Window::Run
                } else {
                    Window::Day
                }
            }
            Some(w) => Window::parse(w).ok_or_else(|| err("the window is not run, minute, hour, day or month"))?,
        };
        if (scope == Scope::Run) != (window == Window::Run) {
            return Err(err("a run cap counts over the run, and only a run cap does"));
        }
        let policy = match policy {
            None => Policy::Deny,
            Some(p) => Policy::parse(p).ok_or_else(|| err("the policy is not deny, warn or soft"))?,
        };
        Ok(Cap::new(scope, key, limit, window).with_policy(policy))
    }
}

/// A cap entry that does not follow `SCOPE[:KEY]=USD[/WINDOW][:POLICY]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapParseError {
    /// The entry as written.
    pub entry: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl fmt::Display for CapParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "budget cap {:?}: {} (expected SCOPE[:KEY]=USD[/WINDOW][:POLICY])", self.entry, self.problem)
    }
}

impl std::error::Error for CapParseError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn grammar_table() {
        let ok: &[(&str, Cap)] = &[
            ("run=0.50", Cap::run(0.5)),
            ("run=1/run:soft", Cap::run(1.0).with_policy(Policy::Soft)),
            ("process=10/hour", Cap::process(10.0).per(Window::Hour)),
            ("customer=5", Cap::each(Scope::Customer, 5.0)),
            ("tenant:t1=3/month:warn", Cap::tenant("t1", 3.0).per(Window::Month).with_policy(Policy::Warn)),
            (" workflow : support = 50 / minute : deny ", Cap::workflow("support", 50.0).per(Window::Minute)),
        ];
        for (text, cap) in ok {
            assert_eq!(&text.parse::<Cap>().unwrap(), cap, "{text}");
            assert_eq!(&cap.to_string().parse::<Cap>().unwrap(), cap, "round trip of {text}");
        }
        let bad: &[(&str, &str)] = &[
            ("run", "no '='"),
            ("team=1", "scope"),
            ("run:x=1", "no key"),
            ("customer:=1", "empty"),
            ("run=abc", "number"),
            ("run=-1", ">= 0"),
            ("run=inf", ">= 0"),
            ("customer:a=1/week", "window"),
            ("run=1/day", "counts over the run"),
            ("customer:a=1/run", "counts over the run"),
            ("run=1:stop", "policy"),
        ];
        for (text, problem) in bad {
            let e = text.parse::<Cap>().unwrap_err();
            assert!(e.problem.contains(problem), "{text}: {e}");
            assert!(e.to_string().contains(text), "{e}");
        }
    }

    #[test]
    fn fixed_utc_windows() {
        // 2024-02-29T23:59:59Z: a leap day, the last second of February.
        let t = UNIX_EPOCH + Duration::from_secs(1_709_251_199);
        assert_eq!(Window::Minute.slot(t).1, Some(1));
        assert_eq!(Window::Hour.slot(t).1, Some(1));
        assert_eq!(Window::Day.slot(t).1, Some(1));
        let (feb, ttl) = Window::Month.slot(t);
        assert_eq!(ttl, Some(1));
        assert_eq!(feb, 2024 * 12 + 1);
        let (march, ttl) = Window::Month.slot(t + Duration::from_secs(1));
        assert_eq!(march, feb + 1);
        assert_eq!(ttl, Some(31 * 86_400));
        // December rolls into January of the next year.
        let dec31 = UNIX_EPOCH + Duration::from_secs(1_798_761_599); // 2026-12-31T23:59:59Z
        assert_eq!(Window::Month.slot(dec31), (2026 * 12 + 11, Some(1)));
        assert_eq!(Window::Month.slot(dec31 + Duration::from_secs(1)).0, 2027 * 12);
        assert_eq!(Window::Run.slot(t), (0, None));
    }
}
