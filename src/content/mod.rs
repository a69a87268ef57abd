//! Captured prompt, response and retrieval content: gated, scrubbed, cut.
//!
//! Content reaches the wire only through `ContentPolicy::capture`: first the `ContentGate` decides
//! whether this run's content is captured at all (rate 0.0 by default, so nothing is), then the PII
//! [`Scrubber`] replaces secrets and personal data, then the text is cut to `max_chars` on a character
//! boundary. Scrubbing happens before the cut, on a bounded window, so a huge input costs no more than
//! `max_chars` of work and no fragment of a PII token survives the cut.

mod gate;
pub(crate) mod scrub;
mod secret_keys;

pub use gate::CaptureMode;
pub(crate) use gate::ContentGate;
pub use scrub::{truncate_chars, ScrubError, ScrubOptions, Scrubber};
pub(crate) use secret_keys::SecretKeys;

/// Default cut for captured content, in characters.
pub const DEFAULT_MAX_CHARS: usize = 4096;

/// The full path from a raw value to what may be exported.
#[derive(Debug)]
pub(crate) struct ContentPolicy {
    gate: ContentGate,
    scrubber: Scrubber,
    max_chars: usize,
}

impl Default for ContentPolicy {
    fn default() -> Self {
        ContentPolicy { gate: ContentGate::default(), scrubber: Scrubber::default(), max_chars: DEFAULT_MAX_CHARS }
    }
}

impl ContentPolicy {
    /// A policy from its parts.
    pub fn new(gate: ContentGate, scrubber: Scrubber, max_chars: usize) -> Self {
        ContentPolicy { gate, scrubber, max_chars }
    }

    /// The exported form of `text` captured inside run `run_id`, or `None` when the gate says no.
    pub fn capture(&self, run_id: Option<&str>, text: &str) -> Option<String> {
        if !self.gate.decide(run_id) {
            return None;
        }
        Some(self.scrubber.scrub_bounded(text, self.max_chars))
    }

    /// Whether any content can ever be captured (a rate above 0): when not, callers skip formatting
    /// values that could only be captured.
    pub fn is_enabled(&self) -> bool {
        self.gate.is_enabled()
    }

    /// The scrubber, for redacting values of secret-looking metadata keys.
    pub fn scrubber(&self) -> &Scrubber {
        &self.scrubber
    }
}
