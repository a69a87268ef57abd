//! The layer's classified callsites, read on every span without a lock.
//!
//! Every span the application opens asks "what kind is this callsite?" (twice: at open and at close),
//! most of them on callsites botanu does not export. A `RwLock<HashMap>` answered it before, and a
//! read lock *writes* its reader count: one cache line written by every thread on every span, which is
//! what made two application threads no faster than one. Here the answer is read from an append-only
//! open-addressing table of atomic pointers: a lookup is a multiply, one or two loads and a compare,
//! and writes nothing. Entries are only ever added (a callsite is `'static` and finite), under a mutex
//! taken once per callsite; past the table's load limit, further callsites go to a locked map (a
//! program with thousands of span callsites pays the lock on those only).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

use tracing_core::callsite::Identifier;

use super::classify::CallsiteInfo;

/// Slots of the table (a power of two); 32 KiB of pointers per layer.
const SLOTS_BITS: u32 = 12;
const SLOTS: usize = 1 << SLOTS_BITS;
/// Callsites the table takes before new ones go to the locked map: at most 3/4 full, so probe
/// sequences stay short.
const MAX_ENTRIES: usize = SLOTS / 4 * 3;

/// One classified callsite. Leaked, like the `CallsiteInfo` it points to: readers hold `&'static`s.
struct Entry {
    id: Identifier,
    info: &'static CallsiteInfo,
}

/// The table. See the module documentation.
pub(crate) struct CallsiteTable {
    slots: Box<[AtomicPtr<Entry>]>,
    /// Serializes insertions; holds the count of table entries and the callsites past the limit.
    writer: Mutex<Overflow>,
}

#[derive(Default)]
struct Overflow {
    entries: usize,
    map: HashMap<Identifier, &'static CallsiteInfo, crate::fxhash::FxBuild>,
}

impl std::fmt::Debug for CallsiteTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallsiteTable").finish_non_exhaustive()
    }
}

impl Default for CallsiteTable {
    fn default() -> Self {
        CallsiteTable {
            slots: (0..SLOTS).map(|_| AtomicPtr::new(std::ptr::null_mut())).collect(),
            writer: Mutex::new(Overflow::default()),
        }
    }
}

/// The first slot to probe for `id`: the high bits of a multiplicative hash of its address.
#[inline]
fn home(id: &Identifier) -> usize {
    let mut h = crate::fxhash::FxHasher::default();
    id.hash(&mut h);
    (h.finish() >> (64 - SLOTS_BITS)) as usize
}

impl CallsiteTable {
    /// The classification of `id`, if it has one. Lock-free unless the table is full.
    #[inline]
    pub(crate) fn get(&self, id: &Identifier) -> Option<&'static CallsiteInfo> {
        let mut i = home(id);
        for _ in 0..SLOTS {
            // Acquire: pairs with the release store that published the entry, so its fields are seen.
            let entry = self.slots[i].load(Ordering::Acquire);
            if entry.is_null() {
                return self.get_overflow(id);
            }
            // SAFETY: non-null slots point to leaked `Entry`s, never freed or changed after publication.
            let entry = unsafe { &*entry };
            if entry.id == *id {
                return Some(entry.info);
            }
            i = (i + 1) & (SLOTS - 1);
        }
        self.get_overflow(id)
    }

    /// The slow path of [`Self::get`]: callsites past the table's limit.
    #[cold]
    #[inline(never)]
    fn get_overflow(&self, id: &Identifier) -> Option<&'static CallsiteInfo> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if writer.entries < MAX_ENTRIES {
            return None;
        }
        writer.map.get(id).copied()
    }

    /// The classification of `id`, made by `classify` (and leaked) if it has none yet.
    #[inline(never)]
    pub(crate) fn insert_with(&self, id: Identifier, classify: impl FnOnce() -> CallsiteInfo) -> &'static CallsiteInfo {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        // Another thread may have classified it between the caller's miss and this lock.
        if let Some(info) = self.find_locked(&writer, &id) {
            return info;
        }
        let info: &'static CallsiteInfo = Box::leak(Box::new(classify()));
        if writer.entries >= MAX_ENTRIES {
            writer.map.insert(id, info);
            return info;
        }
        let mut i = home(&id);
        while !self.slots[i].load(Ordering::Relaxed).is_null() {
            i = (i + 1) & (SLOTS - 1);
        }
        let entry = Box::into_raw(Box::new(Entry { id, info }));
        self.slots[i].store(entry, Ordering::Release);
        writer.entries += 1;
        info
    }

    fn find_locked(&self, writer: &Overflow, id: &Identifier) -> Option<&'static CallsiteInfo> {
        let mut i = home(id);
        loop {
            let entry = self.slots[i].load(Ordering::Relaxed);
            if entry.is_null() {
                return writer.map.get(id).copied();
            }
            // SAFETY: as in `get`.
            let entry = unsafe { &*entry };
            if entry.id == *id {
                return Some(entry.info);
            }
            i = (i + 1) & (SLOTS - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::kinds::Kind;

    struct Site(usize);
    impl tracing_core::Callsite for Site {
        fn set_interest(&self, _: tracing_core::Interest) {}
        fn metadata(&self) -> &tracing_core::Metadata<'_> {
            unreachable!("not called by the table")
        }
    }

    #[test]
    fn entries_are_found_past_the_table_limit() {
        let table = CallsiteTable::default();
        let sites: Vec<&'static Site> = (0..SLOTS + 10).map(|i| &*Box::leak(Box::new(Site(i)))).collect();
        for (i, site) in sites.iter().enumerate() {
            let id = Identifier(*site);
            assert!(table.get(&id).is_none());
            let kind = if i % 2 == 0 { Kind::Llm } else { Kind::Other };
            let info = table.insert_with(id, || CallsiteInfo { kind, takes_arguments: false, roles: Box::new([]) });
            assert_eq!(info.kind, kind);
        }
        for (i, site) in sites.iter().enumerate() {
            let info = table.get(&Identifier(*site)).expect("inserted");
            assert_eq!(info.kind, if i % 2 == 0 { Kind::Llm } else { Kind::Other }, "site {}", site.0);
        }
    }
}
