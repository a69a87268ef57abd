//! Where spending is counted: the counters of the caps' windows, in nano-USD (integers, so sums are
//! exact and a Redis script adds them the same way), each checked and reserved in one critical section.
//!
//! A counter holds what was *committed* (settled spans) and what is *reserved* (calls in flight). A
//! reservation touches every counter of the caps that apply to it at once: either all are below their
//! limits with the new amount and all are raised, or none is. That is what keeps committed + reserved
//! at or under a deny cap with any number of threads reserving at once (no check-then-increment race).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// Nano-USD per USD.
pub(crate) const NANOS_PER_USD: f64 = 1e9;

/// USD as nano-USD, rounded to the nearest (amounts above ~18 billion USD saturate).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // finite, >= 0 and saturating
pub(crate) fn nanos(usd: f64) -> u64 {
    if usd > 0.0 {
        // Saturating: a huge or infinite amount (an unbounded cap) is `u64::MAX`, never 0.
        (usd * NANOS_PER_USD).round() as u64
    } else {
        0
    }
}

/// Nano-USD as USD.
#[allow(clippy::cast_precision_loss)] // exact below 2^53 nano-USD (9 million USD)
pub(crate) fn usd(nanos: u64) -> f64 {
    nanos as f64 / NANOS_PER_USD
}

/// One counter a reservation touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// The counter's name: scope, value, window and window number.
    pub(crate) key: String,
    /// The deny limit it must stay at or under; `None` when only warn/soft caps count on it.
    pub(crate) limit: Option<u64>,
    /// Seconds until the window ends (the counter's TTL); `None` for a run's counter.
    pub(crate) ttl_secs: Option<u64>,
}

/// A counter's figures, nano-USD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) committed: u64,
    pub(crate) reserved: u64,
    /// The highest committed + reserved the counter has reached: a threshold fires when this passes it,
    /// once per window (a settlement below the estimate must not re-arm it).
    pub(crate) peak: u64,
}

impl Usage {
    pub(crate) fn total(self) -> u64 {
        self.committed.saturating_add(self.reserved)
    }

    /// The figures after `reserved` is released and `actual` committed.
    pub(crate) fn settled(self, reserved: u64, actual: u64) -> Usage {
        let committed = self.committed.saturating_add(actual);
        let reserved = self.reserved.saturating_sub(reserved);
        Usage { committed, reserved, peak: self.peak.max(committed.saturating_add(reserved)) }
    }
}

/// The answer to a reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reserved {
    /// Every counter was raised; their figures before.
    Yes(Vec<Usage>),
    /// Nothing was raised: line `line` would have passed its limit; its figures.
    No { line: usize, usage: Usage },
}

/// The store could not answer (Redis unreachable, timed out, or answered nonsense).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoreError(pub(crate) String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A place counters live: in this process ([`MemoryStore`]) or shared by a fleet (Redis).
pub(crate) trait Store: Send + Sync + fmt::Debug {
    /// Checks every line against its limit with `amount` added to its reserved figure and, if all
    /// pass, adds it to all: one atomic step.
    fn reserve(&self, lines: &[Line], amount: u64, now_secs: u64) -> Result<Reserved, StoreError>;
    /// Takes `reserved` off the reserved figure of every line and adds `actual` to the committed one
    /// (no check: the money is spent); the figures before.
    fn settle(&self, lines: &[Line], reserved: u64, actual: u64, now_secs: u64) -> Result<Vec<Usage>, StoreError>;
    /// The figures of the lines.
    fn usage(&self, lines: &[Line], now_secs: u64) -> Result<Vec<Usage>, StoreError>;
}

/// The in-process store: one map under one mutex. A reservation holds the mutex for a few map lookups
/// (tens of nanoseconds), never while anything else runs.
#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    counters: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    map: HashMap<String, Counter>,
    /// When expired windows are next swept out (seconds since the epoch).
    next_sweep: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counter {
    usage: Usage,
    /// Seconds since the epoch after which the counter's window is over; `u64::MAX` for none.
    expires: u64,
}

impl Counters {
    fn sweep(&mut self, now: u64) {
        if now >= self.next_sweep {
            self.map.retain(|_, c| c.expires > now);
            self.next_sweep = now.saturating_add(60);
        }
    }

    fn get(&self, line: &Line, now: u64) -> Usage {
        self.map.get(&line.key).filter(|c| c.expires > now).map(|c| c.usage).unwrap_or_default()
    }

    fn entry(&mut self, line: &Line, now: u64) -> &mut Counter {
        let expires = line.ttl_secs.map_or(u64::MAX, |ttl| now.saturating_add(ttl));
        let counter = self.map.entry(line.key.clone()).or_insert(Counter { usage: Usage::default(), expires });
        if counter.expires <= now {
            *counter = Counter { usage: Usage::default(), expires };
        }
        counter
    }
}

impl MemoryStore {
    /// Forgets a counter (a closed run's).
    pub(crate) fn forget(&self, key: &str) {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner).map.remove(key);
    }
}

impl MemoryStore {
    /// [`Store::reserve`], which cannot fail in memory.
    pub(crate) fn reserve_now(&self, lines: &[Line], amount: u64, now: u64) -> Reserved {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        counters.sweep(now);
        let mut before = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            let usage = counters.get(line, now);
            if line.limit.is_some_and(|limit| usage.total().saturating_add(amount) > limit) {
                return Reserved::No { line: i, usage };
            }
            before.push(usage);
        }
        for line in lines {
            let counter = counters.entry(line, now);
            counter.usage.reserved = counter.usage.reserved.saturating_add(amount);
            counter.usage.peak = counter.usage.peak.max(counter.usage.total());
        }
        Reserved::Yes(before)
    }

    /// [`Store::settle`], which cannot fail in memory.
    pub(crate) fn settle_now(&self, lines: &[Line], reserved: u64, actual: u64, now: u64) -> Vec<Usage> {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        lines
            .iter()
            .map(|line| {
                let counter = counters.entry(line, now);
                let before = counter.usage;
                counter.usage = before.settled(reserved, actual);
                before
            })
            .collect()
    }

    /// [`Store::usage`], which cannot fail in memory.
    pub(crate) fn usage_now(&self, lines: &[Line], now: u64) -> Vec<Usage> {
        let counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().map(|line| counters.get(line, now)).collect()
    }
}

impl Store for MemoryStore {
    fn reserve(&self, lines: &[Line], amount: u64, now: u64) -> Result<Reserved, StoreError> {
        Ok(self.reserve_now(lines, amount, now))
    }

    fn settle(&self, lines: &[Line], reserved: u64, actual: u64, now: u64) -> Result<Vec<Usage>, StoreError> {
        Ok(self.settle_now(lines, reserved, actual, now))
    }

    fn usage(&self, lines: &[Line], now: u64) -> Result<Vec<Usage>, StoreError> {
        Ok(self.usage_now(lines, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str, limit: Option<u64>, ttl: Option<u64>) -> Line {
        Line { key: key.to_owned(), limit, ttl_secs: ttl }
    }

    #[test]
    fn all_or_nothing() {
        let store = MemoryStore::default();
        let lines = [line("a", Some(10), None), line("b", Some(5), None)];
        assert_eq!(store.reserve(&lines, 4, 0).unwrap(), Reserved::Yes(vec![Usage::default(); 2]));
        // b would pass 5: nothing is raised, a included.
        let held = Usage { committed: 0, reserved: 4, peak: 4 };
        assert_eq!(store.reserve(&lines, 2, 0).unwrap(), Reserved::No { line: 1, usage: held });
        assert_eq!(store.usage(&lines, 0).unwrap()[0], held);
        assert_eq!(store.settle(&lines, 4, 3, 0).unwrap()[1], held);
        assert_eq!(store.usage(&lines, 0).unwrap()[1], Usage { committed: 3, reserved: 0, peak: 4 });
        assert!(matches!(store.reserve(&lines, 2, 0).unwrap(), Reserved::Yes(_)));
    }

    #[test]
    fn windows_expire() {
        let store = MemoryStore::default();
        let lines = [line("w", Some(10), Some(60))];
        store.reserve(&lines, 10, 1_000).unwrap();
        assert!(matches!(store.reserve(&lines, 1, 1_059).unwrap(), Reserved::No { .. }));
        assert!(matches!(store.reserve(&lines, 1, 1_060).unwrap(), Reserved::Yes(_)));
    }

    #[test]
    fn amounts_round_to_nanos() {
        assert_eq!(nanos(0.000_002_5), 2_500);
        assert_eq!(nanos(-1.0), 0);
        assert_eq!(nanos(f64::NAN), 0);
        assert_eq!(usd(500_000_000), 0.5);
    }
}
