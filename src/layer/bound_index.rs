//! Bound metric instruments found from the string values a closed span already holds, without building
//! an attribute vector: a repeated combination (operation, provider, model, error type; or category,
//! provider, model, workflow) costs one hash of those strings and one lookup, where building,
//! hashing, comparing and dropping a `Vec<KeyValue>` cost about 1,000 instructions per measurement set
//! (issue 16, measured on the finisher).
//!
//! An index sits in front of the instrument's own bound map and is filled from it: what it returns is
//! exactly what the slow path bound for the same raw values (admission of free-form values into the
//! bounded sets happened on that path, and an admitted value stays admitted). Bounded to
//! [`MAX_ENTRIES`] combinations; past it, lookups miss and the slow path decides as before.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{PoisonError, RwLock};

use crate::fxhash;

/// Combinations kept at most (the instruments' own bound maps keep 1,024 attribute sets).
const MAX_ENTRIES: usize = 1024;

/// The key parts of one combination: `None` for an attribute the span does not have.
pub(crate) type Parts<'a, const N: usize> = [Option<&'a str>; N];

type Stored<const N: usize> = [Option<Box<str>>; N];

/// The parts' hash is the map key: hashing a `u64` again would be wasted work.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed with it; any other input still hashes, just not as fast.
        for b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
}

type Buckets<T, const N: usize> = HashMap<u64, Vec<(Stored<N>, T)>, BuildHasherDefault<Identity>>;

/// Values of type `T` (a bound instrument) by `N` optional strings.
pub(crate) struct BoundIndex<T, const N: usize> {
    map: RwLock<Buckets<T, N>>,
    /// Entries kept (written under the write lock): once full, a miss returns without taking it.
    len: std::sync::atomic::AtomicUsize,
}

impl<T, const N: usize> Default for BoundIndex<T, N> {
    fn default() -> Self {
        BoundIndex { map: RwLock::new(HashMap::default()), len: std::sync::atomic::AtomicUsize::new(0) }
    }
}

impl<T, const N: usize> BoundIndex<T, N> {
    /// Runs `f` on the value of `parts`, if there is one; whether there was.
    #[inline]
    pub(crate) fn with(&self, parts: &Parts<'_, N>, f: impl FnOnce(&T)) -> bool {
        let hash = hash(parts);
        let map = crate::contention::read(crate::contention::Site::MetricIndex, &self.map);
        let found = map.get(&hash).and_then(|bucket| bucket.iter().find(|(stored, _)| same(stored, parts)));
        match found {
            Some((_, value)) => {
                f(value);
                true
            }
            None => false,
        }
    }

    /// Whether the index keeps no more combinations (a miss then takes the unbound path).
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.len.load(std::sync::atomic::Ordering::Relaxed) >= MAX_ENTRIES
    }

    /// Keeps `value` for `parts` (unless the index is full or already has them).
    pub(crate) fn insert(&self, parts: &Parts<'_, N>, value: T) {
        use std::sync::atomic::Ordering::Relaxed;
        // High-cardinality values past the cap (say, untrusted workflows folded into `_other`) miss on
        // every span: they must not take the write lock each time.
        if self.len.load(Relaxed) >= MAX_ENTRIES {
            return;
        }
        let hash = hash(parts);
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if self.len.load(Relaxed) >= MAX_ENTRIES {
            return;
        }
        let bucket = map.entry(hash).or_default();
        if !bucket.iter().any(|(stored, _)| same(stored, parts)) {
            bucket.push((parts.map(|p| p.map(Box::from)), value));
            self.len.fetch_add(1, Relaxed);
        }
    }
}

fn same<const N: usize>(stored: &Stored<N>, parts: &Parts<'_, N>) -> bool {
    stored.iter().zip(parts).all(|(s, p)| s.as_deref() == *p)
}

/// FxHash of the parts, each with its length (so `None`, `""` and adjacent parts stay distinct).
fn hash<const N: usize>(parts: &Parts<'_, N>) -> u64 {
    parts.iter().fold(0, |h, part| match part {
        None => fxhash::mix(h, u64::MAX),
        Some(s) => fxhash::mix_bytes(fxhash::mix(h, s.len() as u64), s.as_bytes()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exactly_the_parts_it_was_given() {
        let index: BoundIndex<u32, 3> = BoundIndex::default();
        index.insert(&[Some("chat"), Some("openai"), None], 1);
        index.insert(&[Some("chat"), Some("openai"), Some("")], 2);
        index.insert(&[Some("chatopenai"), None, None], 3);
        let get = |parts: &Parts<'_, 3>| {
            let mut got = None;
            index.with(parts, |v| got = Some(*v));
            got
        };
        assert_eq!(get(&[Some("chat"), Some("openai"), None]), Some(1));
        assert_eq!(get(&[Some("chat"), Some("openai"), Some("")]), Some(2));
        assert_eq!(get(&[Some("chatopenai"), None, None]), Some(3));
        assert_eq!(get(&[Some("chat"), Some("openai"), Some("gpt-4")]), None);
        // A second insert of the same parts keeps the first value.
        index.insert(&[Some("chat"), Some("openai"), None], 9);
        assert_eq!(get(&[Some("chat"), Some("openai"), None]), Some(1));
    }

    #[test]
    fn stays_bounded() {
        let index: BoundIndex<usize, 1> = BoundIndex::default();
        let values: Vec<String> = (0..MAX_ENTRIES + 10).map(|i| format!("model-{i}")).collect();
        for (i, v) in values.iter().enumerate() {
            index.insert(&[Some(v.as_str())], i);
        }
        let found = values.iter().filter(|v| index.with(&[Some(v.as_str())], |_| {})).count();
        assert_eq!(found, MAX_ENTRIES);
    }
}
