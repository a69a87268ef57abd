//! [`Budgets`]: the caps in force, the stores their counters live in, and the reserve → settle protocol.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use super::cap::{Cap, Policy, Scope};
use super::decision::{BudgetExceeded, BudgetGrant, CapStatus, Decision, DenyCause, ThresholdCrossed};
use super::settings::{StoreFailure, UnpricedPolicy};
use super::store::{nanos, usd, Line, MemoryStore, Reserved, Store, StoreError, Usage};
use super::target::BudgetTarget;
use crate::cost::UnpricedReason;

/// A held reservation. Settle it with the call's actual cost ([`Reservation::settle`]), or release it if
/// the call was not made ([`Reservation::release`]). Dropped unsettled, it is kept as spent: the call may
/// have been made (a span lost to a full export queue still cost money), and a cap must not reopen for it. Inside a span, [`BudgetSpanExt::reserve_budget`](crate::BudgetSpanExt::reserve_budget)
/// keeps it on the span and settles it when the span closes.
pub struct Reservation {
    budgets: Budgets,
    plan: Plan,
    amount: u64,
    /// The shared lines went to the local fallback (store down, fail open).
    fell_back: bool,
    settled: bool,
    grant: BudgetGrant,
    pub(crate) crossed: Vec<ThresholdCrossed>,
    pub(crate) decisions: Vec<(Scope, Decision)>,
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("grant", &self.grant)
            .field("settled", &self.settled)
            .finish_non_exhaustive()
    }
}

impl Reservation {
    /// What was granted.
    ///
    /// ```
    /// use botanu::budget::{BudgetTarget, Budgets, Cap};
    /// let budgets = Budgets::new().with_cap(Cap::run(1.0));
    /// let r = budgets.reserve(&BudgetTarget::default().with_run("r"), Some(0.25)).unwrap();
    /// assert_eq!(r.grant().remaining_usd, Some(0.75));
    /// ```
    pub fn grant(&self) -> &BudgetGrant {
        &self.grant
    }

    /// Replaces the reservation by what the call cost: `Some(usd)` if it was priced, `None` to keep the
    /// reserved amount as spent (the call went unpriced).
    ///
    /// ```
    /// use botanu::budget::{BudgetTarget, Budgets, Cap};
    /// let budgets = Budgets::new().with_cap(Cap::run(1.0));
    /// let run = BudgetTarget::default().with_run("r");
    /// budgets.reserve(&run, Some(0.50)).unwrap().settle(Some(0.10));
    /// budgets.reserve(&run, Some(0.20)).unwrap().settle(None);
    /// assert!((budgets.remaining(&run).unwrap() - 0.70).abs() < 1e-9);
    /// ```
    pub fn settle(mut self, actual_usd: Option<f64>) {
        self.settle_inner(actual_usd);
    }

    /// Gives the reservation back: the call was not made (nothing spent).
    ///
    /// ```
    /// use botanu::budget::{BudgetTarget, Budgets, Cap};
    /// let budgets = Budgets::new().with_cap(Cap::run(1.0));
    /// let run = BudgetTarget::default().with_run("r");
    /// budgets.reserve(&run, Some(0.50)).unwrap().release();
    /// assert_eq!(budgets.remaining(&run), Some(1.0));
    /// // Dropped without either, a reservation is kept as spent.
    /// drop(budgets.reserve(&run, Some(0.25)).unwrap());
    /// assert_eq!(budgets.remaining(&run), Some(0.75));
    /// ```
    pub fn release(mut self) {
        self.settle_inner(Some(0.0));
    }

    /// [`Reservation::settle`], returning the thresholds the settlement crossed.
    pub(crate) fn settle_inner(&mut self, actual_usd: Option<f64>) -> Vec<ThresholdCrossed> {
        if self.settled {
            return Vec::new();
        }
        self.settled = true;
        // A non-finite or negative actual is no figure: the reservation is kept, as for an unpriced call.
        let actual = actual_usd.filter(|usd| usd.is_finite() && *usd >= 0.0).map_or(self.amount, nanos);
        self.budgets.apply(&self.plan, self.amount, actual, self.fell_back)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.settled {
            self.settled = true;
            self.budgets.apply(&self.plan, self.amount, self.amount, self.fell_back);
        }
    }
}

/// The time source of windows (tests inject one).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Spending caps and their accounting. Cheap to clone (one `Arc`); clones share caps and counters, so
/// the handle kept by the application changes the caps the layer checks ([`Budgets::set_cap`] takes
/// effect at the next reservation).
///
/// ```
/// use botanu::budget::{BudgetTarget, Budgets, Cap, Window};
///
/// let budgets = Budgets::new()
///     .with_cap(Cap::run(0.50))
///     .with_cap(Cap::customer("acme", 200.0).per(Window::Day));
/// let call = BudgetTarget::default().with_run("r-1").with_customer("acme");
/// let held = budgets.reserve(&call, Some(0.30))?;
/// assert!(budgets.reserve(&call, Some(0.30)).is_err()); // 0.30 + 0.30 > 0.50
/// held.settle(Some(0.12));
/// assert!((budgets.remaining(&call).unwrap() - 0.38).abs() < 1e-9);
/// # Ok::<(), botanu::budget::BudgetExceeded>(())
/// ```
#[derive(Clone)]
pub struct Budgets {
    inner: Arc<Inner>,
}

struct Inner {
    settings: RwLock<Arc<Settings>>,
    /// Counters of run and process caps, and of every cap without a shared store.
    local: MemoryStore,
    /// Counters of shared caps while their store is down (fail open).
    fallback: MemoryStore,
    /// Runs with a denied reservation or a cap past 100 % (for `botanu.budget.exceeded`).
    exceeded: Mutex<HashSet<Arc<str>>>,
    clock: Clock,
    store_failures: AtomicU64,
    warned: AtomicBool,
}

#[derive(Clone)]
struct Settings {
    caps: Vec<Cap>,
    unpriced: UnpricedPolicy,
    shared: Option<Arc<dyn Store>>,
    failure: StoreFailure,
    /// The unpriced policy / failure mode was set in code (it wins over the configuration's).
    unpriced_set: bool,
    failure_set: bool,
}

impl fmt::Debug for Budgets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.settings();
        f.debug_struct("Budgets")
            .field("caps", &s.caps)
            .field("unpriced", &s.unpriced)
            .field("store", &s.shared)
            .field("failure", &s.failure)
            .finish()
    }
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets::new()
    }
}

/// The counters one reservation touches and the caps on them.
#[derive(Debug, Clone, Default)]
struct Plan {
    local: Vec<Line>,
    shared: Vec<Line>,
    /// Each cap, the line it counts on (`shared`: in `shared`) and the key it counted.
    caps: Vec<(Cap, bool, usize, Option<Arc<str>>)>,
    run_id: Option<Arc<str>>,
    store: Option<Arc<dyn Store>>,
}

impl Budgets {
    /// No caps, the in-memory store, unpriced calls denied, the system clock.
    ///
    /// ```
    /// assert!(botanu::budget::Budgets::new().caps().is_empty());
    /// ```
    pub fn new() -> Self {
        Budgets::with_clock(Arc::new(SystemTime::now))
    }

    /// [`Budgets::new`] with windows read from `clock` (for tests of window roll-over).
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use botanu::budget::{BudgetTarget, Budgets, Cap, Window};
    ///
    /// let now = Arc::new(AtomicU64::new(3_600 * 1_000));
    /// let clock = now.clone();
    /// let budgets = Budgets::with_clock(Arc::new(move || UNIX_EPOCH + Duration::from_secs(clock.load(Ordering::Relaxed))))
    ///     .with_cap(Cap::process(1.0).per(Window::Hour));
    /// let any = BudgetTarget::default();
    /// budgets.reserve(&any, Some(1.0)).unwrap().settle(Some(1.0));
    /// assert!(budgets.reserve(&any, Some(0.01)).is_err());
    /// now.fetch_add(3_600, Ordering::Relaxed); // the next UTC hour
    /// assert!(budgets.reserve(&any, Some(0.01)).is_ok());
    /// ```
    pub fn with_clock(clock: Clock) -> Self {
        Budgets {
            inner: Arc::new(Inner {
                settings: RwLock::new(Arc::new(Settings {
                    caps: Vec::new(),
                    unpriced: UnpricedPolicy::Deny,
                    shared: None,
                    failure: StoreFailure::Open,
                    unpriced_set: false,
                    failure_set: false,
                })),
                local: MemoryStore::default(),
                fallback: MemoryStore::default(),
                exceeded: Mutex::new(HashSet::new()),
                clock,
                store_failures: AtomicU64::new(0),
                warned: AtomicBool::new(false),
            }),
        }
    }

    /// With `cap` added (or replacing the cap of the same scope, key and window).
    ///
    /// ```
    /// use botanu::budget::{Budgets, Cap};
    /// assert_eq!(Budgets::new().with_cap(Cap::run(1.0)).with_cap(Cap::run(2.0)).caps(), vec![Cap::run(2.0)]);
    /// ```
    #[must_use]
    pub fn with_cap(self, cap: Cap) -> Self {
        self.set_cap(cap);
        self
    }

    /// With `policy` for unpriced calls.
    ///
    /// ```
    /// use botanu::budget::{BudgetTarget, Budgets, Cap, UnpricedPolicy};
    /// let budgets = Budgets::new().with_cap(Cap::run(1.0)).with_unpriced(UnpricedPolicy::Charge(0.25));
    /// let r = budgets.reserve(&BudgetTarget::default().with_run("r"), None).unwrap();
    /// assert_eq!((r.grant().amount_usd, r.grant().unpriced), (0.25, true));
    /// ```
    #[must_use]
    pub fn with_unpriced(self, policy: UnpricedPolicy) -> Self {
        self.update(|s| {
            s.unpriced = policy;
            s.unpriced_set = true;
        });
        self
    }

    /// With what a shared cap does while its store is down.
    ///
    /// ```
    /// use botanu::budget::{Budgets, StoreFailure};
    /// let _ = Budgets::new().with_store_failure(StoreFailure::Closed);
    /// ```
    #[must_use]
    pub fn with_store_failure(self, failure: StoreFailure) -> Self {
        self.update(|s| {
            s.failure = failure;
            s.failure_set = true;
        });
        self
    }

    /// Customer, tenant and workflow caps counted in Redis at `url` (feature `redis`), shared by every
    /// process using it; each Redis call bounded by `timeout` (see [`DEFAULT_STORE_TIMEOUT`](super::DEFAULT_STORE_TIMEOUT)).
    /// Run and process caps stay in this process.
    ///
    /// ```
    /// use std::time::Duration;
    /// use botanu::budget::Budgets;
    /// // Not connected until the first reservation.
    /// let budgets = Budgets::new().with_redis("redis://127.0.0.1:6379/0", Duration::from_millis(25));
    /// assert!(budgets.is_ok());
    /// assert!(Budgets::new().with_redis("not a url", Duration::from_millis(25)).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// A message (without the URL's credentials) when `url` is not a Redis URL.
    #[cfg(feature = "redis")]
    pub fn with_redis(self, url: &str, timeout: std::time::Duration) -> Result<Self, String> {
        let store = super::redis_store::RedisStore::new(url, timeout)?;
        self.update(|s| s.shared = Some(Arc::new(store)));
        Ok(self)
    }

    /// Adds what the environment and the file configure, below what code set: a cap of the same scope,
    /// key and window given in code wins, as do an unpriced policy and a failure mode given in code.
    pub(crate) fn apply_config(&self, config: &super::BudgetConfig) {
        self.update(|s| {
            for cap in &config.caps {
                if !s.caps.iter().any(|c| c.same_slot(cap)) {
                    s.caps.push(cap.clone());
                }
            }
            if let (false, Some(unpriced)) = (s.unpriced_set, config.unpriced) {
                s.unpriced = unpriced;
            }
            if let (false, Some(failure)) = (s.failure_set, config.store_failure) {
                s.failure = failure;
            }
        });
    }

    /// Adds `cap`, or replaces the cap of the same scope, key and window: raising or lowering a limit at
    /// run time takes effect at the next reservation.
    ///
    /// ```
    /// use botanu::budget::{BudgetTarget, Budgets, Cap};
    /// let budgets = Budgets::new().with_cap(Cap::run(0.10));
    /// let run = BudgetTarget::default().with_run("r");
    /// budgets.reserve(&run, Some(0.10)).unwrap().settle(None);
    /// assert!(budgets.reserve(&run, Some(0.05)).is_err());
    /// budgets.set_cap(Cap::run(0.20)); // the paused agent may resume
    /// assert!(budgets.reserve(&run, Some(0.05)).is_ok());
    /// ```
    pub fn set_cap(&self, cap: Cap) {
        self.update(|s| match s.caps.iter_mut().find(|c| c.same_slot(&cap)) {
            Some(slot) => *slot = cap.clone(),
            None => s.caps.push(cap.clone()),
        });
    }

    /// Removes the cap of the same scope, key and window as `cap`; whether there was one.
    ///
    /// ```
    /// use botanu::budget::{Budgets, Cap};
    /// let budgets = Budgets::new().with_cap(Cap::run(1.0));
    /// assert!(budgets.remove_cap(&Cap::run(0.0)));
    /// assert!(budgets.caps().is_empty());
    /// ```
    pub fn remove_cap(&self, cap: &Cap) -> bool {
        let mut removed = false;
        self.update(|s| {
            let before = s.caps.len();
            s.caps.retain(|c| !c.same_slot(cap));
            removed = s.caps.len() != before;
        });
        removed
    }

    /// The caps in force.
    ///
    /// ```
    /// use botanu::budget::{Budgets, Cap};
    /// assert_eq!(Budgets::new().with_cap(Cap::process(5.0)).caps(), vec![Cap::process(5.0)]);
    /// ```
    pub fn caps(&self) -> Vec<Cap> {
        self.settings().caps.clone()
    }

    /// How often a shared store was unavailable (each such reservation or settlement counts once).
    ///
    /// ```
    /// assert_eq!(botanu::budget::Budgets::new().store_failures(), 0);
    /// ```
    pub fn store_failures(&self) -> u64 {
        self.inner.store_failures.load(Ordering::Relaxed)
    }

    /// Whether a shared store (Redis) counts customer, tenant and workflow caps.
    #[cfg(feature = "redis")]
    pub(crate) fn has_shared_store(&self) -> bool {
        self.settings().shared.is_some()
    }

    fn settings(&self) -> Arc<Settings> {
        self.inner.settings.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn update(&self, f: impl FnOnce(&mut Settings)) {
        let mut slot = self.inner.settings.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = Settings::clone(&slot);
        f(&mut next);
        *slot = Arc::new(next);
    }

    fn now_secs(&self) -> u64 {
        (self.inner.clock)().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }

    /// The counters of the caps that apply to `target` now.
    fn plan(&self, settings: &Settings, target: &BudgetTarget) -> Plan {
        let now = (self.inner.clock)();
        let mut plan = Plan { run_id: target.run_id.clone(), store: settings.shared.clone(), ..Plan::default() };
        for cap in &settings.caps {
            let Some(value) = target.value(cap.scope()) else { continue };
            if cap.key().is_some_and(|key| key != value) {
                continue;
            }
            let (slot, ttl_secs) = cap.window().slot(now);
            // One counter per scope value and window: two caps on it (a per-customer cap and acme's own)
            // count the same spending against their own limits.
            let key = match cap.scope() {
                Scope::Run => format!("run/{value}"),
                Scope::Process => format!("process/{}/{slot}", cap.window().as_str()),
                scope => format!("{}/{value}/{}/{slot}", scope.as_str(), cap.window().as_str()),
            };
            let shared = plan.store.is_some() && !cap.scope().is_local();
            let lines = if shared { &mut plan.shared } else { &mut plan.local };
            let index = match lines.iter().position(|l| l.key == key) {
                Some(i) => i,
                None => {
                    lines.push(Line { key, limit: None, ttl_secs });
                    lines.len() - 1
                }
            };
            if cap.policy() == Policy::Deny {
                let limit = nanos(cap.limit_usd());
                let line = &mut lines[index];
                line.limit = Some(line.limit.map_or(limit, |l| l.min(limit)));
            }
            let counted = (cap.scope() != Scope::Process && cap.scope() != Scope::Run).then(|| Arc::from(value));
            plan.caps.push((cap.clone(), shared, index, counted));
        }
        plan
    }

    fn status(cap: &Cap, key: &Option<Arc<str>>, usage: Usage) -> CapStatus {
        CapStatus {
            scope: cap.scope(),
            key: key.clone(),
            window: cap.window(),
            policy: cap.policy(),
            limit_usd: cap.limit_usd(),
            spent_usd: usd(usage.committed),
            reserved_usd: usd(usage.reserved),
        }
    }

    /// Reserves `estimate_usd` (`None`: the estimate could not be priced) under every cap that applies to
    /// `target`, atomically per store: all deny caps stay at or under their limits or nothing is held.
    ///
    /// ```
    /// use botanu::budget::{BudgetTarget, Budgets, Cap};
    /// let budgets = Budgets::new().with_cap(Cap::run(1.0));
    /// assert!(budgets.reserve(&BudgetTarget::default().with_run("r"), Some(1.0)).is_ok());
    /// // No cap applies to a call outside any run.
    /// assert_eq!(budgets.reserve(&BudgetTarget::default(), None).unwrap().grant().remaining_usd, None);
    /// ```
    ///
    /// # Errors
    ///
    /// [`BudgetExceeded`] naming the cap that refused.
    pub fn reserve(&self, target: &BudgetTarget, estimate_usd: Option<f64>) -> Result<Reservation, BudgetExceeded> {
        self.reserve_priced(target, estimate_usd, UnpricedReason::NoPrice)
    }

    /// [`Budgets::reserve`] with the reason an unpriced estimate is unpriced.
    pub(crate) fn reserve_priced(
        &self,
        target: &BudgetTarget,
        estimate_usd: Option<f64>,
        reason: UnpricedReason,
    ) -> Result<Reservation, BudgetExceeded> {
        let settings = self.settings();
        let plan = self.plan(&settings, target);
        let estimate_usd = estimate_usd.filter(|u| u.is_finite() && *u >= 0.0);
        let mut grant = BudgetGrant { unpriced: estimate_usd.is_none(), ..BudgetGrant::default() };
        let amount = match (estimate_usd, settings.unpriced) {
            (Some(usd), _) => nanos(usd),
            (None, UnpricedPolicy::Charge(charge)) => nanos(charge),
            // Denied only where a deny cap applies: a warn or soft cap watches, it never stops a call.
            (None, UnpricedPolicy::Deny) => match plan.caps.iter().find(|(cap, ..)| cap.policy() == Policy::Deny) {
                Some((cap, shared, index, key)) => {
                    let usage = self.peek(&plan, *shared, *index);
                    return Err(self.denied(target, DenyCause::Unpriced(reason), Self::status(cap, key, usage), None));
                }
                None => 0,
            },
        };
        grant.amount_usd = usd(amount);
        let mut reservation = Reservation {
            budgets: self.clone(),
            plan,
            amount,
            fell_back: false,
            settled: true,
            grant,
            crossed: Vec::new(),
            decisions: Vec::new(),
        };
        if reservation.plan.caps.is_empty() {
            return Ok(reservation);
        }
        let now = self.now_secs();
        let plan = &reservation.plan;
        let local = match self.inner.local.reserve_now(&plan.local, amount, now) {
            Reserved::Yes(before) => before,
            Reserved::No { line, usage } => return Err(self.refused(target, plan, false, line, usage, estimate_usd)),
        };
        let mut shared_before = Vec::new();
        if let Some(store) = plan.store.as_ref().filter(|_| !plan.shared.is_empty()) {
            match store.reserve(&plan.shared, amount, now) {
                Ok(Reserved::Yes(before)) => shared_before = before,
                Ok(Reserved::No { line, usage }) => {
                    self.inner.local.settle_now(&plan.local, amount, 0, now);
                    return Err(self.refused(target, plan, true, line, usage, estimate_usd));
                }
                Err(error) => {
                    self.store_failed(&error);
                    // The first shared cap (there is one: the shared lines are not empty).
                    let (cap, _, _, key) = plan.caps.iter().find(|c| c.1).unwrap_or(&plan.caps[0]);
                    reservation.decisions.push((cap.scope(), Decision::StoreUnavailable));
                    match settings.failure {
                        StoreFailure::Closed => {
                            self.inner.local.settle_now(&plan.local, amount, 0, now);
                            let status = Self::status(cap, key, Usage::default());
                            return Err(self.denied(target, DenyCause::StoreUnavailable, status, estimate_usd));
                        }
                        StoreFailure::Open => match self.inner.fallback.reserve_now(&plan.shared, amount, now) {
                            Reserved::Yes(before) => {
                                shared_before = before;
                                reservation.fell_back = true;
                            }
                            Reserved::No { line, usage } => {
                                self.inner.local.settle_now(&plan.local, amount, 0, now);
                                return Err(self.refused(target, plan, true, line, usage, estimate_usd));
                            }
                        },
                    }
                }
            }
        }
        reservation.settled = false;
        let plan = &reservation.plan;
        let mut remaining: Option<f64> = None;
        for (cap, shared, index, key) in &plan.caps {
            let before = if *shared { shared_before[*index] } else { local[*index] };
            let status = Self::status(cap, key, before);
            let after = before.total().saturating_add(amount);
            let crossed = crossings(cap, before.peak.max(before.total()), after);
            let mut decision = if crossed.is_empty() { Decision::Allowed } else { Decision::Warned };
            if cap.policy() == Policy::Soft && after > nanos(cap.limit_usd()) {
                decision = Decision::SoftLimited;
                reservation.grant.soft_limited.push(status.clone());
            }
            if cap.policy() == Policy::Deny {
                let left = usd(nanos(cap.limit_usd()).saturating_sub(after));
                remaining = Some(remaining.map_or(left, |r| r.min(left)));
            }
            reservation.decisions.push((cap.scope(), decision));
            for threshold in crossed {
                reservation.crossed.push(ThresholdCrossed { cap: status.clone(), threshold });
            }
        }
        reservation.grant.remaining_usd = remaining;
        self.mark_crossed(target.run_id.as_ref(), &reservation.crossed);
        Ok(reservation)
    }

    fn peek(&self, plan: &Plan, shared: bool, index: usize) -> Usage {
        let now = self.now_secs();
        let (store, lines): (&dyn Store, _) = match (&plan.store, shared) {
            (Some(store), true) => (store.as_ref(), &plan.shared),
            _ => (&self.inner.local, &plan.local),
        };
        store.usage(&lines[index..=index], now).ok().and_then(|u| u.first().copied()).unwrap_or_default()
    }

    fn refused(
        &self,
        target: &BudgetTarget,
        plan: &Plan,
        shared: bool,
        line: usize,
        usage: Usage,
        estimate_usd: Option<f64>,
    ) -> BudgetExceeded {
        // The deny cap with the lowest limit on the refusing counter is the one that refused.
        let cap = plan
            .caps
            .iter()
            .filter(|(cap, s, i, _)| *s == shared && *i == line && cap.policy() == Policy::Deny)
            .min_by(|a, b| a.0.limit_usd().total_cmp(&b.0.limit_usd()));
        let status = match cap {
            Some((cap, _, _, key)) => Self::status(cap, key, usage),
            None => Self::status(&plan.caps[0].0, &plan.caps[0].3, usage),
        };
        self.denied(target, DenyCause::Limit, status, estimate_usd)
    }

    fn denied(
        &self,
        target: &BudgetTarget,
        cause: DenyCause,
        cap: CapStatus,
        estimate_usd: Option<f64>,
    ) -> BudgetExceeded {
        if let Some(run) = &target.run_id {
            self.inner.exceeded.lock().unwrap_or_else(PoisonError::into_inner).insert(run.clone());
        }
        BudgetExceeded { cause, cap, estimate_usd }
    }

    fn mark_crossed(&self, run: Option<&Arc<str>>, crossed: &[ThresholdCrossed]) {
        if let Some(run) = run {
            if crossed.iter().any(|c| c.threshold >= 1.0) {
                self.inner.exceeded.lock().unwrap_or_else(PoisonError::into_inner).insert(run.clone());
            }
        }
    }

    fn store_failed(&self, error: &StoreError) {
        self.inner.store_failures.fetch_add(1, Ordering::Relaxed);
        if !self.inner.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(target: "botanu", "budget store unavailable ({error}); shared caps follow their failure mode (warned once, counted in botanu.budget.decisions as store_unavailable)");
        }
    }

    /// Moves `reserved` off and `actual` onto the plan's counters; the thresholds crossed.
    fn apply(&self, plan: &Plan, reserved: u64, actual: u64, fell_back: bool) -> Vec<ThresholdCrossed> {
        if plan.caps.is_empty() {
            return Vec::new();
        }
        let now = self.now_secs();
        let local = self.inner.local.settle_now(&plan.local, reserved, actual, now);
        let shared = match (&plan.store, plan.shared.is_empty(), fell_back) {
            (_, true, _) | (None, _, _) => Vec::new(),
            (Some(_), false, true) => self.inner.fallback.settle_now(&plan.shared, reserved, actual, now),
            (Some(store), false, false) => match store.settle(&plan.shared, reserved, actual, now) {
                Ok(after) => after,
                Err(error) => {
                    self.store_failed(&error);
                    Vec::new()
                }
            },
        };
        let mut crossed = Vec::new();
        for (cap, is_shared, index, key) in &plan.caps {
            let Some(before) = (if *is_shared { shared.get(*index) } else { local.get(*index) }).copied() else {
                continue;
            };
            let after = before.settled(reserved, actual);
            for threshold in crossings(cap, before.peak.max(before.total()), after.total()) {
                crossed.push(ThresholdCrossed { cap: Self::status(cap, key, after), threshold });
            }
        }
        self.mark_crossed(plan.run_id.as_ref(), &crossed);
        crossed
    }

    /// Charges a span that closed without a reservation: `Some(usd)` priced, `None` unpriced (charged the
    /// unpriced policy's amount, or nothing under `deny`); the thresholds crossed.
    pub(crate) fn commit(&self, target: &BudgetTarget, actual_usd: Option<f64>) -> Vec<ThresholdCrossed> {
        let settings = self.settings();
        let actual = match (actual_usd, settings.unpriced) {
            (Some(usd), _) => nanos(usd),
            (None, UnpricedPolicy::Charge(charge)) => nanos(charge),
            (None, UnpricedPolicy::Deny) => return Vec::new(),
        };
        let plan = self.plan(&settings, target);
        self.apply(&plan, 0, actual, false)
    }

    /// What `target` has left: the least left under any deny cap that applies (committed and reserved
    /// counted), never below 0; `None` when no deny cap applies.
    ///
    /// ```
    /// use botanu::budget::{BudgetTarget, Budgets, Cap};
    /// let budgets = Budgets::new().with_cap(Cap::run(0.5)).with_cap(Cap::customer("acme", 0.3));
    /// let call = BudgetTarget::default().with_run("r").with_customer("acme");
    /// assert_eq!(budgets.remaining(&call), Some(0.3));
    /// assert_eq!(budgets.remaining(&BudgetTarget::default()), None);
    /// ```
    pub fn remaining(&self, target: &BudgetTarget) -> Option<f64> {
        self.status_of(target)
            .into_iter()
            .filter(|s| s.policy == Policy::Deny)
            .map(|s| s.remaining_usd())
            .min_by(f64::total_cmp)
    }

    /// Every cap that applies to `target`, with its figures now.
    ///
    /// ```
    /// use botanu::budget::{BudgetTarget, Budgets, Cap};
    /// let budgets = Budgets::new().with_cap(Cap::run(0.5));
    /// let run = BudgetTarget::default().with_run("r");
    /// budgets.reserve(&run, Some(0.2)).unwrap().settle(None);
    /// assert_eq!(budgets.status_of(&run)[0].spent_usd, 0.2);
    /// ```
    pub fn status_of(&self, target: &BudgetTarget) -> Vec<CapStatus> {
        let settings = self.settings();
        let plan = self.plan(&settings, target);
        let now = self.now_secs();
        let local = self.inner.local.usage_now(&plan.local, now);
        let shared = match &plan.store {
            Some(store) if !plan.shared.is_empty() => match store.usage(&plan.shared, now) {
                Ok(usage) => usage,
                Err(error) => {
                    self.store_failed(&error);
                    self.inner.fallback.usage_now(&plan.shared, now)
                }
            },
            _ => Vec::new(),
        };
        plan.caps
            .iter()
            .map(|(cap, is_shared, index, key)| {
                let usage = if *is_shared { shared.get(*index) } else { local.get(*index) };
                Self::status(cap, key, usage.copied().unwrap_or_default())
            })
            .collect()
    }

    /// A run closed: its run cap's limit and spending, whether it exceeded a cap, and its counter freed.
    pub(crate) fn close_run(&self, run_id: &Arc<str>) -> RunBudget {
        let settings = self.settings();
        let target = BudgetTarget { run_id: Some(run_id.clone()), ..BudgetTarget::default() };
        let run_cap = settings
            .caps
            .iter()
            .filter(|c| c.scope() == Scope::Run)
            .min_by(|a, b| a.limit_usd().total_cmp(&b.limit_usd()));
        let limit_spent = run_cap.map(|cap| {
            let plan = self.plan(&Settings { caps: vec![cap.clone()], ..Settings::clone(&settings) }, &target);
            let usage = self.inner.local.usage_now(&plan.local, self.now_secs());
            (cap.limit_usd(), usd(usage.first().map_or(0, |u| u.committed)))
        });
        self.inner.local.forget(&format!("run/{run_id}"));
        let exceeded = self.inner.exceeded.lock().unwrap_or_else(PoisonError::into_inner).remove(run_id);
        RunBudget { limit_spent, exceeded }
    }
}

/// A closed run's budget figures (contract §8, the run span).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RunBudget {
    /// The run cap's limit and the run's settled spending, USD, if a run cap is configured.
    pub(crate) limit_spent: Option<(f64, f64)>,
    /// A reservation inside the run was denied or a cap applying to it passed 100 %.
    pub(crate) exceeded: bool,
}

/// The thresholds of `cap` that a counter going from `before` to `after` (nano-USD) crossed.
fn crossings(cap: &Cap, before: u64, after: u64) -> Vec<f64> {
    let limit = nanos(cap.limit_usd());
    cap.thresholds()
        .iter()
        .copied()
        .filter(|t| {
            let mark = nanos(cap.limit_usd() * t).max(u64::from(limit == 0));
            before < mark && mark <= after
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_on_one_counter_keep_their_own_limits() {
        let budgets = Budgets::new().with_cap(Cap::each(Scope::Customer, 1.0)).with_cap(Cap::customer("acme", 0.5));
        let acme = BudgetTarget::default().with_customer("acme");
        let other = BudgetTarget::default().with_customer("other");
        budgets.reserve(&acme, Some(0.5)).unwrap().settle(None);
        assert_eq!(budgets.reserve(&acme, Some(0.01)).unwrap_err().cap.limit_usd, 0.5);
        budgets.reserve(&other, Some(1.0)).unwrap().settle(None);
        assert_eq!(budgets.reserve(&other, Some(0.01)).unwrap_err().cap.key.as_deref(), Some("other"));
    }

    #[test]
    fn thresholds_fire_once_each() {
        let budgets = Budgets::new().with_cap(Cap::run(1.0).with_policy(Policy::Warn));
        let run = BudgetTarget::default().with_run("r");
        let a = budgets.reserve(&run, Some(0.6)).unwrap();
        assert_eq!(a.crossed.iter().map(|c| c.threshold).collect::<Vec<_>>(), vec![0.5]);
        let b = budgets.reserve(&run, Some(0.6)).unwrap();
        assert_eq!(b.crossed.iter().map(|c| c.threshold).collect::<Vec<_>>(), vec![0.8, 1.0]);
        assert_eq!(b.decisions, vec![(Scope::Run, Decision::Warned)]);
        assert!(budgets.close_run(&Arc::from("r")).exceeded);
    }

    #[test]
    fn a_dropped_reservation_is_kept_a_released_one_given_back() {
        let budgets = Budgets::new().with_cap(Cap::run(1.0));
        let run = BudgetTarget::default().with_run("r");
        budgets.reserve(&run, Some(1.0)).unwrap().release();
        assert_eq!(budgets.remaining(&run), Some(1.0));
        drop(budgets.reserve(&run, Some(0.4)).unwrap());
        assert_eq!(budgets.remaining(&run), Some(0.6));
    }

    #[test]
    fn unpriced_is_denied_or_charged_never_free() {
        let budgets = Budgets::new().with_cap(Cap::run(1.0));
        let run = BudgetTarget::default().with_run("r");
        let e = budgets.reserve(&run, None).unwrap_err();
        assert_eq!(e.cause, DenyCause::Unpriced(UnpricedReason::NoPrice));
        let budgets = budgets.with_unpriced(UnpricedPolicy::Charge(0.4));
        budgets.reserve(&run, None).unwrap().settle(None);
        budgets.commit(&run, None);
        assert!((budgets.remaining(&run).unwrap() - 0.2).abs() < 1e-9);
    }
}
