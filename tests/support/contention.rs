//! 16 threads × 1,000 reservations of 0.0007 USD against one customer cap of 1 USD, watched by a 17th
//! thread: shared by the in-memory (`tests/budget.rs`) and Redis (`tests/budget_redis.rs`) stores.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use botanu::budget::{BudgetTarget, Budgets};

/// What one reservation asks for: 1 / 0.0007 = 1428.57…, so 1,428 fit under a 1 USD cap.
pub const AMOUNT_USD: f64 = 0.0007;

/// Reserves and settles `AMOUNT_USD` 16 × 1,000 times from 16 threads at once; returns how many were
/// granted and the most committed + reserved the watcher ever saw, in nano-USD.
pub fn reserve_from_16_threads(budgets: &Budgets, target: &BudgetTarget) -> (usize, u64) {
    let granted = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let max_seen = AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let status = &budgets.status_of(target)[0];
                let total = ((status.spent_usd + status.reserved_usd) * 1e9).round() as u64;
                max_seen.fetch_max(total, Ordering::Relaxed);
            }
        });
        let workers: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..1_000 {
                        if let Ok(held) = budgets.reserve(target, Some(AMOUNT_USD)) {
                            granted.fetch_add(1, Ordering::Relaxed);
                            held.settle(Some(AMOUNT_USD));
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
    });
    (granted.load(Ordering::Relaxed), max_seen.load(Ordering::Relaxed))
}
