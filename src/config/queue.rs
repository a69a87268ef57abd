//! Sizes and timing of the export queue (`BOTANU_BSP_*` / `OTEL_BSP_*`, `export.queue` in YAML): settings,
//! so they live with the configuration; the queue itself is `pipeline/queue.rs`.

use std::time::Duration;

/// Default bound on flush and shutdown, and on one export call.
const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of spans that may wait for export.
const DEFAULT_QUEUE_SIZE: usize = 65_536;
/// Default number of spans per export call.
const DEFAULT_BATCH_SIZE: usize = 512;
/// Default longest wait of a span before its batch is exported.
const DEFAULT_DELAY: Duration = Duration::from_secs(5);

/// Sizes and timing of the export queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    /// Spans that may wait for export; past it new spans are dropped and counted (default 65536).
    pub queue_size: usize,
    /// Spans per export call (default 512).
    pub batch_size: usize,
    /// Longest time a span waits before its batch is exported (default 5 s).
    pub delay: Duration,
    /// Bound on one flush or shutdown (default 30 s).
    pub export_timeout: Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            queue_size: DEFAULT_QUEUE_SIZE,
            batch_size: DEFAULT_BATCH_SIZE,
            delay: DEFAULT_DELAY,
            export_timeout: DEFAULT_EXPORT_TIMEOUT,
        }
    }
}
