//! Bound metric instruments by attribute set: binding an instrument to its attributes once skips the SDK's
//! per-measurement attribute hashing (opentelemetry's `experimental_metrics_bound_instruments`). The one
//! bounded map of them, used by the LLM metrics and the `botanu.cost` counter: at most [`MAX_BOUND`]
//! sets; past it a new set is not bound and the caller records through the unbound instrument, so a
//! high-cardinality attribute costs speed, never memory. `bound_index.rs` sits in front of it.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use opentelemetry::KeyValue;

use crate::fxhash::FxBuild;

/// Bound attribute sets kept at most (per cache); past it measurements take the unbound path.
pub(crate) const MAX_BOUND: usize = 1024;

/// Bound instruments (`V`) by attribute set, bounded at [`MAX_BOUND`].
pub(crate) struct BoundCache<V> {
    map: RwLock<HashMap<Vec<KeyValue>, V, FxBuild>>,
}

impl<V> Default for BoundCache<V> {
    fn default() -> Self {
        BoundCache { map: RwLock::new(HashMap::default()) }
    }
}

impl<V: Clone> BoundCache<V> {
    /// The bound instrument of `attrs`, if it was bound (a read lock: the common case).
    #[inline]
    pub(crate) fn get(&self, attrs: &[KeyValue]) -> Option<V> {
        crate::contention::read(crate::contention::Site::MetricIndex, &self.map).get(attrs).cloned()
    }

    /// The bound instrument of `attrs`, bound with `bind` on first use; `Err(attrs)` when the cache is
    /// full and `attrs` is not in it (record through the unbound instrument).
    pub(crate) fn get_or_bind(
        &self,
        attrs: Vec<KeyValue>,
        bind: impl FnOnce(&[KeyValue]) -> V,
    ) -> Result<V, Vec<KeyValue>> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_BOUND && !map.contains_key(attrs.as_slice()) {
            return Err(attrs);
        }
        Ok(map.entry(attrs).or_insert_with_key(|attrs| bind(attrs)).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_once_per_set_and_refuses_new_sets_past_the_bound() {
        let cache = BoundCache::<usize>::default();
        let mut binds = 0;
        for i in 0..MAX_BOUND {
            let attrs = vec![KeyValue::new("i", i as i64)];
            assert_eq!(
                cache.get_or_bind(attrs.clone(), |_| {
                    binds += 1;
                    i
                }),
                Ok(i)
            );
            assert_eq!(cache.get_or_bind(attrs, |_| unreachable!("bound once")), Ok(i));
        }
        assert_eq!(binds, MAX_BOUND);
        let new = vec![KeyValue::new("i", -1)];
        assert_eq!(cache.get_or_bind(new.clone(), |_| 0), Err(new), "full: not bound");
        assert_eq!(cache.get(&[KeyValue::new("i", 3)]), Some(3), "bound sets stay");
    }
}
