//! Lock-contention counts: how often a lock botanu takes per span or per batch was already held.
//!
//! The finisher's scaling claim (issue 27: several finisher workers, application threads finishing in
//! parallel past the high-water mark) cannot be shown by wall-clock on a 2-core machine. What can be
//! counted anywhere is whether threads meet on a lock: every lock on the export path is taken with a
//! `try_lock` first, and only when that fails is the site's counter incremented before the blocking
//! `lock`. An uncontended acquisition writes nothing shared beyond the lock itself, so the count costs
//! nothing where there is no contention, and it is exactly what grows when there is.
//!
//! Limits: the counts are process-wide (several pipelines in one process add up); a read lock
//! (`RwLock::read`) is counted only when a writer holds or waits for it, not for the cache line its
//! readers share; locks inside the OpenTelemetry SDK (a histogram's buckets) are not botanu's to count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, TryLockError};

/// A lock on the export path, by what it guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    /// An application thread's finisher buffer (that thread's hand-off against the worker's drain).
    Buffer,
    /// A finisher worker's list of buffers (a worker's round against a thread registering its buffer).
    BufferList,
    /// The pipeline's flush/stop control (once per round per worker, and per flush).
    Control,
    /// The export queue's state (a finisher's push, an inline finish, the exporter's worker).
    Queue,
    /// A run's cost tally (a child's cost added, the run's roll-up read).
    RunTally,
    /// The cost ledger's channel sender.
    Ledger,
    /// The guard's per-workflow cost summary.
    Summary,
    /// A bounded metric index, cache or attribute bound (a read lock blocked by a writer, or the
    /// customer-series mutex), or a read lock of the price catalog blocked by a writer.
    MetricIndex,
}

/// Every site, in the order [`snapshot`] reports them.
pub(crate) const SITES: [Site; 8] = [
    Site::Buffer,
    Site::BufferList,
    Site::Control,
    Site::Queue,
    Site::RunTally,
    Site::Ledger,
    Site::Summary,
    Site::MetricIndex,
];

impl Site {
    /// The name printed by the benchmarks.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Site::Buffer => "buffer",
            Site::BufferList => "buffer_list",
            Site::Control => "control",
            Site::Queue => "queue",
            Site::RunTally => "run_tally",
            Site::Ledger => "ledger",
            Site::Summary => "summary",
            Site::MetricIndex => "metric_index",
        }
    }
}

/// One counter per site, each on its own cache line: contended sites must not slow each other.
#[repr(align(64))]
struct Counter(AtomicU64);

static COUNTS: [Counter; SITES.len()] = [const { Counter(AtomicU64::new(0)) }; SITES.len()];

#[cold]
#[inline(never)]
fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Locks `mutex`, counting the acquisition at `site` if it had to wait. A poisoned lock is recovered
/// (everything botanu guards stays consistent across a panic: counters, lists, queues).
#[inline]
pub(crate) fn lock<T: ?Sized>(site: Site, mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    lock_counting(&COUNTS[site as usize].0, mutex)
}

#[inline]
fn lock_counting<'a, T: ?Sized>(counter: &AtomicU64, mutex: &'a Mutex<T>) -> MutexGuard<'a, T> {
    match mutex.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => {
            count(counter);
            mutex.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }
}

/// Read-locks `lock`, counting the acquisition at `site` if it had to wait (a writer held it).
#[inline]
pub(crate) fn read<T: ?Sized>(site: Site, lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    match lock.try_read() {
        Ok(guard) => guard,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => {
            count(&COUNTS[site as usize].0);
            lock.read().unwrap_or_else(PoisonError::into_inner)
        }
    }
}

/// The contended acquisitions counted so far, per site (process-wide, since the process started).
pub(crate) fn snapshot() -> [(&'static str, u64); SITES.len()] {
    SITES.map(|site| (site.name(), COUNTS[site as usize].0.load(Ordering::Relaxed)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    #[test]
    fn a_lock_held_elsewhere_is_counted_once_per_wait_and_a_free_one_not_at_all() {
        let counter = Arc::new(AtomicU64::new(0));
        let mutex = Arc::new(Mutex::new(0_u32));
        for _ in 0..10 {
            *lock_counting(&counter, &mutex) += 1;
        }
        assert_eq!(counter.load(Ordering::Relaxed), 0, "free: nothing counted");
        let held = mutex.lock().expect("lock");
        let (m, c, started) = (mutex.clone(), counter.clone(), Arc::new(Barrier::new(2)));
        let s = started.clone();
        let waiter = std::thread::spawn(move || {
            s.wait();
            *lock_counting(&c, &m) += 1;
        });
        started.wait();
        // The waiter's `try_lock` fails while this thread holds the lock: it is counted, then waits.
        while counter.load(Ordering::Relaxed) == 0 {
            std::thread::yield_now();
        }
        drop(held);
        waiter.join().expect("waiter");
        assert_eq!(counter.load(Ordering::Relaxed), 1);
        assert_eq!(*mutex.lock().expect("lock"), 11);
    }

    #[test]
    fn the_snapshot_names_every_site_once() {
        let names: Vec<_> = snapshot().iter().map(|(name, _)| *name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), SITES.len(), "{names:?}");
        assert!(SITES.iter().enumerate().all(|(i, site)| *site as usize == i), "SITES is in declaration order");
    }
}
