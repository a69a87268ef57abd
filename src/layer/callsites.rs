//! The layer's classified callsites, read on every span without a lock.
//!
//! Every span the application opens asks "what kind is this callsite?" (twice: at open and at close),
//! most of them on callsites botanu does not export. A `RwLock<HashMap>` answered it before, and a
//! read lock *writes* its reader count: one cache line written by every thread on every span, which is
//! what made two application threads no faster than one. Here the answer is read from an append-only
//! open-addressing table of atomic pointers: a lookup is a multiply, one or two loads and a compare,
//! and writes nothing. Entries are only ever added while the table lives (a callsite is `'static` and
//! finite), under a mutex taken once per callsite; past the table's load limit, further callsites go to
//! a locked map (a program with thousands of span callsites pays the lock on those only).
//!
//! Memory follows the layer: every layer classifies every callsite the process has registered (tracing
//! registers each new dispatcher with all of them), so a process that builds many layers (a test suite,
//! a configuration reload) would grow by callsites × layers if a table leaked its entries. A table frees
//! its entries (and its slots) when its layer is dropped. The classifications themselves are interned
//! process-wide ([`intern`]): spans hold a `&'static CallsiteInfo` without reference counting on the
//! hot path, and the interned set is bounded by the program's callsites — one classification per
//! callsite and distinct set of secret keys that changes it — however many layers come and go.

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

/// One classified callsite, owned by its table (freed with it); the `CallsiteInfo` is interned.
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

/// Every classification made in the process, per callsite: equal ones are shared, so the set is
/// bounded by the program's callsites, not by the layers built.
static INTERNED: Mutex<Option<HashMap<Identifier, Vec<&'static CallsiteInfo>, crate::fxhash::FxBuild>>> =
    Mutex::new(None);

/// The interned classification equal to `info` for `id` (leaked the first time it is seen).
fn intern(id: &Identifier, info: CallsiteInfo) -> &'static CallsiteInfo {
    let mut interned = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
    let known = interned.get_or_insert_with(HashMap::default).entry(id.clone()).or_default();
    let same = |other: &CallsiteInfo| {
        other.kind == info.kind
            && other.takes_arguments == info.takes_arguments
            && other.roles == info.roles
            && other.aws == info.aws
    };
    if let Some(info) = known.iter().copied().find(|other| same(other)) {
        return info;
    }
    let info: &'static CallsiteInfo = Box::leak(Box::new(info));
    known.push(info);
    info
}

/// How many classifications of these callsites are interned.
#[cfg(test)]
fn interned(ids: &[Identifier]) -> usize {
    let interned = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
    ids.iter().map(|id| interned.as_ref().and_then(|m| m.get(id)).map_or(0, Vec::len)).sum()
}

impl Drop for CallsiteTable {
    fn drop(&mut self) {
        for slot in self.slots.iter() {
            let entry = slot.swap(std::ptr::null_mut(), Ordering::Relaxed);
            if !entry.is_null() {
                // SAFETY: made by `Box::into_raw` in `insert_with`, freed only here, once (the slot is
                // cleared); `&mut self`: no reader is left (`get` hands out the interned info, never
                // the entry).
                drop(unsafe { Box::from_raw(entry) });
            }
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
            // SAFETY: non-null slots point to `Entry`s never changed after publication and freed only
            // when the table is dropped, which `&self` rules out.
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

    /// The classification of `id`, made by `classify` (and interned) if it has none yet.
    #[inline(never)]
    pub(crate) fn insert_with(&self, id: Identifier, classify: impl FnOnce() -> CallsiteInfo) -> &'static CallsiteInfo {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        // Another thread may have classified it between the caller's miss and this lock.
        if let Some(info) = self.find_locked(&writer, &id) {
            return info;
        }
        let info = intern(&id, classify());
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

    /// A callsite of `kind` with no fields of note.
    fn plain(kind: Kind) -> CallsiteInfo {
        CallsiteInfo {
            kind,
            takes_arguments: false,
            roles: Box::new([]),
            dialect: Default::default(),
            provider_hint: None,
            aws: None,
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
            let info = table.insert_with(id, || plain(kind));
            assert_eq!(info.kind, kind);
        }
        for (i, site) in sites.iter().enumerate() {
            let info = table.get(&Identifier(*site)).expect("inserted");
            assert_eq!(info.kind, if i % 2 == 0 { Kind::Llm } else { Kind::Other }, "site {}", site.0);
        }
    }

    #[test]
    fn tables_that_come_and_go_share_one_classification_per_callsite() {
        let sites: Vec<&'static Site> = (0..50).map(|i| &*Box::leak(Box::new(Site(i)))).collect();
        let classify = |kind| move || plain(kind);
        let fill = |kind| {
            let table = CallsiteTable::default();
            for site in &sites {
                table.insert_with(Identifier(*site), classify(kind));
            }
        };
        let ids: Vec<Identifier> = sites.iter().map(|site| Identifier(*site)).collect();
        for _ in 0..100 {
            fill(Kind::Llm);
        }
        assert_eq!(interned(&ids), sites.len(), "an equal classification is shared, not made again");
        // A different classification of the same callsites (other secret keys) is one more each.
        fill(Kind::Tool);
        fill(Kind::Tool);
        assert_eq!(interned(&ids), 2 * sites.len());
    }
}
