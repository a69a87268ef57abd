//! Deciding whether a run's prompt and response content is captured at all.
//!
//! Content is the most sensitive thing botanu could export, so it is off by default (rate 0.0) and,
//! when on, sampled. The decision is made once per *run* and is a pure function of the run id, so every
//! span of a run — and every service that sees the same run id — decides the same way, with no
//! coordination: a run's evaluation data is either whole or absent.

use rand::Rng;

/// How often the gate decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaptureMode {
    /// One decision per run, derived from the run id (default).
    #[default]
    PerRun,
    /// An independent decision for every captured value.
    PerCall,
}

/// The capture decision: a rate in [0, 1] and a mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContentGate {
    /// Threshold on a 64-bit hash: capture when `hash < threshold`; `u64::MAX` with `always` means 1.0.
    threshold: u64,
    always: bool,
    mode: CaptureMode,
}

impl Default for ContentGate {
    fn default() -> Self {
        ContentGate::new(0.0, CaptureMode::PerRun)
    }
}

impl ContentGate {
    /// A gate capturing the given share of runs (or calls). The rate is clamped to [0, 1]; NaN is 0.
    pub fn new(rate: f64, mode: CaptureMode) -> Self {
        let rate = if rate.is_nan() { 0.0 } else { rate.clamp(0.0, 1.0) };
        ContentGate { threshold: (rate * u64::MAX as f64) as u64, always: rate >= 1.0, mode }
    }

    /// Whether anything can ever be captured.
    pub fn is_enabled(&self) -> bool {
        self.always || self.threshold > 0
    }

    /// The decision for a value captured inside the run `run_id` (or outside any run).
    pub fn decide(&self, run_id: Option<&str>) -> bool {
        if self.always {
            return true;
        }
        if self.threshold == 0 {
            return false;
        }
        let h = match (self.mode, run_id) {
            (CaptureMode::PerRun, Some(id)) => stable_hash(id.as_bytes()),
            _ => rand::rng().random::<u64>(),
        };
        h < self.threshold
    }
}

/// FNV-1a followed by the splitmix64 finalizer: stable across processes, languages and versions
/// (unlike `std`'s randomly keyed hasher), and well mixed even though UUIDv7 ids share their leading
/// timestamp bits.
fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::new_run_id;

    #[test]
    fn rate_zero_never_and_one_always() {
        let ids: Vec<String> = (0..1000).map(|_| new_run_id()).collect();
        let never = ContentGate::new(0.0, CaptureMode::PerRun);
        let always = ContentGate::new(1.0, CaptureMode::PerRun);
        assert!(ids.iter().all(|id| !never.decide(Some(id))));
        assert!(ids.iter().all(|id| always.decide(Some(id))));
        assert!(!ContentGate::new(f64::NAN, CaptureMode::PerCall).is_enabled());
        assert!(ContentGate::new(7.0, CaptureMode::PerCall).decide(None));
    }

    #[test]
    fn per_run_decision_is_stable_and_near_the_rate() {
        let gate = ContentGate::new(0.3, CaptureMode::PerRun);
        let ids: Vec<String> = (0..20_000).map(|_| new_run_id()).collect();
        let first: Vec<bool> = ids.iter().map(|id| gate.decide(Some(id))).collect();
        let again: Vec<bool> = ids.iter().map(|id| gate.decide(Some(id))).collect();
        assert_eq!(first, again, "same run id, same decision");
        let share = first.iter().filter(|b| **b).count() as f64 / ids.len() as f64;
        assert!((share - 0.3).abs() < 0.02, "captured share {share}");
    }

    #[test]
    fn stable_hash_is_pinned() {
        // Other services (other languages) must compute the same decision: pin the function.
        assert_eq!(stable_hash(b""), 0xf52a_15e9_a9b5_e89b);
    }
}
