//! Short string attribute values that repeat (model names, feature names, response models) shared
//! instead of copied: a small per-thread cache hands back a clone of the `Arc<str>` it built the last
//! time, a reference-count increment where each span used to allocate (issue 16: allocations on the
//! application thread).
//!
//! Bounded: [`SLOTS`] entries per thread, values of at most [`MAX_BYTES`]. A value enters the cache
//! only the second time its hash is seen in its slot, so values that never repeat (request ids, user
//! text) do not push out the ones that do; they cost one hash and the allocation they always cost.
//! The exported value is the same string either way.

use std::cell::RefCell;
use std::sync::Arc;

use crate::fxhash;

/// Entries per thread (a power of two: the slot is the hash's low bits).
const SLOTS: usize = 64;
/// Longest value cached, in bytes: vocabulary (model, provider, feature names) is short; longer values
/// are copied as before.
pub(crate) const MAX_BYTES: usize = 64;

#[derive(Default)]
struct Slot {
    /// The hash of the last value that missed in this slot: a second miss with it caches the value.
    seen: u64,
    value: Option<Arc<str>>,
}

thread_local! {
    static CACHE: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

/// `s` as a shared string: the cached one when this thread built it recently, else a new one.
#[inline]
pub(crate) fn shared(s: &str) -> Arc<str> {
    if s.len() > MAX_BYTES {
        return Arc::from(s);
    }
    // `try_with`: a span may be recorded while this thread's locals are torn down.
    CACHE.try_with(|cache| lookup(&mut cache.borrow_mut(), s)).unwrap_or_else(|_| Arc::from(s))
}

fn lookup(cache: &mut Vec<Slot>, s: &str) -> Arc<str> {
    if cache.is_empty() {
        cache.resize_with(SLOTS, Slot::default);
    }
    let hash = hash(s.as_bytes());
    let slot = &mut cache[(hash as usize) & (SLOTS - 1)];
    if let Some(value) = &slot.value {
        if **value == *s {
            return value.clone();
        }
    }
    let value = Arc::<str>::from(s);
    if slot.seen == hash {
        slot.value = Some(value.clone());
    } else {
        slot.seen = hash;
    }
    value
}

/// FxHash over 8-byte words: a few instructions per word, plenty to spread short strings over 64 slots
/// (a collision only costs a copy, never a wrong value: the cached string is compared whole).
fn hash(bytes: &[u8]) -> u64 {
    fxhash::mix_bytes(bytes.len() as u64, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_seen_twice_is_shared_from_then_on() {
        let first = shared("gpt-4o-mini");
        let second = shared("gpt-4o-mini");
        let third = shared("gpt-4o-mini");
        assert_eq!(&*first, "gpt-4o-mini");
        // The first sighting only marks the slot; the second is cached and the third shares it.
        assert!(!Arc::ptr_eq(&first, &second));
        assert!(Arc::ptr_eq(&second, &third));
    }

    #[test]
    fn long_values_and_colliding_values_come_back_whole() {
        let long = "m".repeat(MAX_BYTES + 1);
        assert_eq!(&*shared(&long), long.as_str());
        assert_eq!(Arc::strong_count(&shared(&long)), 1);
        // Far more distinct values than slots: each one comes back as itself.
        for i in 0..(SLOTS * 4) {
            let v = format!("value-{i}");
            assert_eq!(&*shared(&v), v.as_str());
            assert_eq!(&*shared(&v), v.as_str());
        }
        assert_eq!(&*shared(""), "");
    }
}
