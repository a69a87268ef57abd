//! Flush and shutdown: finishing every span handed off before the call, then stopping the workers, within
//! the caller's timeout (see the module documentation of `finisher`).

use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use super::*;

impl<T: Handoff> Pipeline<T> {
    /// Finishes every span handed off before the call, waiting at most `timeout`. Returns at once on
    /// a finisher worker itself (a processor flushing from there) and after shutdown.
    pub(crate) fn drain(&self, timeout: Duration) -> OTelSdkResult {
        if ON_FINISHER.with(Cell::get) || !self.is_running() {
            return Ok(());
        }
        let deadline = Instant::now() + timeout;
        let mut control = self.control();
        if control.stopped || control.stop {
            return Ok(());
        }
        control.requested += 1;
        let target = control.requested;
        self.wake_all();
        while self.min_completed(&control) < target && !control.stopped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(OTelSdkError::Timeout(timeout));
            }
            control = self.done.wait_timeout(control, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        Ok(())
    }

    /// The last drain request every started worker completed.
    fn min_completed(&self, control: &Control) -> u64 {
        self.workers
            .iter()
            .zip(&control.completed)
            .filter(|(worker, _)| worker.alive.load(Ordering::Acquire))
            .map(|(_, completed)| *completed)
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Drains (at most `timeout`), then stops the workers. What could not be finished in time, and
    /// whatever is handed off afterwards, is dropped and counted. Idempotent.
    pub(crate) fn shut_down(&self, timeout: Duration) -> OTelSdkResult {
        let deadline = Instant::now() + timeout;
        let result = self.drain(timeout);
        {
            let mut control = self.control();
            if control.stop {
                // Another caller is stopping the workers: the counters are final only once it has
                // (bounded by this caller's own timeout).
                while !control.stopped && !ON_FINISHER.with(Cell::get) {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(OTelSdkError::Timeout(timeout));
                    }
                    control = self.done.wait_timeout(control, left).unwrap_or_else(|p| p.into_inner()).0;
                }
                return result;
            }
            control.stop = true;
        }
        if result.is_err() {
            self.abandon.store(true, Ordering::Relaxed);
        }
        // Closed before the workers' last round, so that round takes what is buffered now and nothing
        // more: with traffic still arriving, the join below stays bounded by one round.
        for worker in self.workers.iter() {
            for buffer in worker.list().iter() {
                buffer.lock().closed = true;
            }
        }
        self.wake_all();
        // A worker may be inside a user's span processor (an exporter waiting on the network): the join is
        // bounded by what is left of the caller's timeout. Past it, the workers stop finishing (what they
        // still hold is counted dropped as they let go of it) and are left to exit on their own.
        let mut result = result;
        if !ON_FINISHER.with(Cell::get) {
            let handles = std::mem::take(&mut *self.handles.lock().unwrap_or_else(|p| p.into_inner()));
            for handle in handles {
                while !handle.is_finished() {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        self.abandon.store(true, Ordering::Relaxed);
                        result = Err(OTelSdkError::Timeout(timeout));
                        break;
                    }
                    let control = self.control();
                    if handle.is_finished() {
                        break;
                    }
                    // Woken when a worker exits (`Exit`) or completes a round; re-checked every 10 ms.
                    drop(self.done.wait_timeout(control, left.min(Duration::from_millis(10))));
                }
                if handle.is_finished() {
                    let _ = handle.join();
                }
            }
        }
        // Every buffer is closed, and what is still in one (handed off during the stop) is counted.
        let lists: Vec<_> = self.workers.iter().map(Worker::list).collect();
        self.control().stopped = true;
        let mut left = 0;
        for buffer in lists.iter().flat_map(|list| list.iter()) {
            let (spans, credit) = {
                let mut slot = buffer.lock();
                note_given_back(&mut slot);
                slot.closed = true;
                (std::mem::take(&mut slot.spans), std::mem::take(&mut slot.credit))
            };
            self.unhold(spans.len() + credit);
            for mut span in spans {
                span.release();
                left += 1;
            }
        }
        drop(lists);
        if left > 0 {
            self.count_dropped(left);
        }
        self.done.notify_all();
        result
    }
}

impl<T: Handoff> Upstream for Pipeline<T> {
    fn drain(&self, timeout: Duration) -> OTelSdkResult {
        Pipeline::drain(self, timeout)
    }

    fn shut_down(&self, timeout: Duration) -> OTelSdkResult {
        Pipeline::shut_down(self, timeout)
    }
}
