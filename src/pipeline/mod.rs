//! The pipeline: where a closed span goes once the application thread lets go of it.
//!
//! ```text
//! application thread ── hand_off ──► finisher (finisher/) ── stage ──► export queue (queue.rs) ──► exporter
//!                        per-thread      one worker per core: runs     bounded, counted       its own thread
//!                        buffers         the layer's stage per item;   (ExportStats)
//!                                        batches into the queue
//! ```
//!
//! Nothing here knows what a span is: the finisher moves items that implement [`Handoff`] and finishes
//! them with the function it was started with (the layer's `closed::finish`); the export queue is an
//! OpenTelemetry `SpanProcessor` that drains whatever feeds it (an [`Upstream`]) before its own flush
//! and shutdown; a user's own processors are wrapped to do the same (`user.rs`). The layer composes
//! them; the builder assembles them.
//!
//! Together they hold at most `queue_size + 2 × queue_size / 8` spans, whatever the number of
//! application threads: the queue `queue_size` (its batch in flight included), the finisher an eighth
//! of that over all buffers and as much again for runs waiting for children (`finisher::capacity`).
//! Past that a span is dropped at the hand-off, counted, unless the queue has room (then the
//! application thread finishes it itself).

mod finisher;
mod ledger;
mod queue;
mod user;

use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;

pub(crate) use finisher::{given_back, override_workers, Handoff, Pipeline};
pub(crate) use ledger::{CostLedger, LedgerFile};
pub(crate) use queue::ExportStats;
pub(crate) use queue::{reached_before_panic, reaches_queue, report_drops, QueueProcessor};
pub(crate) use user::{FinisherLink, UserProcessor};

/// A stage before the export queue (the finisher) that the queue drains first at its flush and
/// shutdown, so spans it buffers reach the exporter (also through `SdkTracerProvider::force_flush`).
pub(crate) trait Upstream: Send + Sync {
    /// Finishes what was handed off before the call, within `timeout`.
    fn drain(&self, timeout: Duration) -> OTelSdkResult;
    /// Drains (within `timeout`), then stops; what is left is counted dropped. Idempotent.
    fn shut_down(&self, timeout: Duration) -> OTelSdkResult;
}
