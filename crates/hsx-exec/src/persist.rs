//! Persistence backend for values (`services.md` §5.3-§5.4).
//!
//! Records are raw f16 bits keyed by a 16-bit key. Key `0` means "not persisted" and
//! `0xFFFF` is reserved for control records, so neither is ever loaded or stored.
//! Writes go through [`WriteBehind`], which debounces bursts per key into one trailing
//! write of the last value; the executive drives it with its clock (`flush_due`) and must
//! call `flush_all` on shutdown so no pending write is lost.

use crate::vecmap::VecMap;

/// Key meaning "not persisted".
pub const KEY_NONE: u16 = 0x0000;
/// Key reserved for control records.
pub const KEY_RESERVED: u16 = 0xFFFF;

/// Whether `key` may hold a value record.
#[must_use]
pub const fn is_usable_key(key: u16) -> bool {
    key != KEY_NONE && key != KEY_RESERVED
}

/// A store write failed; the in-memory value stays as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("persistence store write failed for key {key}")]
pub struct PersistError {
    /// The key whose write failed.
    pub key: u16,
}

/// Key/value store for persisted values (FRAM on a device, a file on a host).
pub trait Persist {
    /// The stored f16 bits for `key`, if any.
    fn load(&mut self, key: u16) -> Option<u16>;
    /// Store `bits` under `key`.
    ///
    /// # Errors
    /// [`PersistError`] when the backing medium refuses the write.
    fn store(&mut self, key: u16, bits: u16) -> Result<(), PersistError>;
}

/// In-memory store, for tests and for hosts without a backing file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemPersist {
    records: VecMap<u16, u16>,
    writes: u32,
}

impl MemPersist {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A store pre-filled with `(key, bits)` records.
    #[must_use]
    pub fn with_records(records: &[(u16, u16)]) -> Self {
        Self {
            records: records.iter().copied().collect(),
            writes: 0,
        }
    }

    /// The record for `key` without going through the trait.
    #[must_use]
    pub fn get(&self, key: u16) -> Option<u16> {
        self.records.get(&key).copied()
    }

    /// Number of successful `store` calls so far.
    #[must_use]
    pub fn write_count(&self) -> u32 {
        self.writes
    }

    /// All records, ordered by key.
    pub fn records(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        self.records.iter().map(|(k, v)| (*k, *v))
    }
}

impl Persist for MemPersist {
    fn load(&mut self, key: u16) -> Option<u16> {
        self.records.get(&key).copied()
    }

    fn store(&mut self, key: u16, bits: u16) -> Result<(), PersistError> {
        self.records.insert(key, bits);
        self.writes = self.writes.saturating_add(1);
        Ok(())
    }
}

/// Debounced write queue in front of a [`Persist`] store.
///
/// `schedule` with debounce 0 writes through immediately; otherwise the key's timer is
/// (re)started at `now + debounce`, so a burst of changes costs one write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBehind {
    pending: VecMap<u16, Pending>,
    failures: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    bits: u16,
    due_ms: u64,
}

impl WriteBehind {
    /// An empty queue.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Queue (or immediately perform) a write of `bits` under `key`.
    /// Unusable keys are ignored. Returns `true` when a store happened now.
    pub fn schedule(
        &mut self,
        store: &mut dyn Persist,
        key: u16,
        bits: u16,
        debounce_ms: u16,
        now_ms: u64,
    ) -> bool {
        if !is_usable_key(key) {
            return false;
        }
        if debounce_ms == 0 {
            self.pending.remove(&key);
            self.commit(store, key, bits);
            return true;
        }
        let due_ms = now_ms.saturating_add(u64::from(debounce_ms));
        self.pending.insert(key, Pending { bits, due_ms });
        false
    }

    /// Perform every write whose debounce has elapsed at `now_ms`. Returns how many.
    pub fn flush_due(&mut self, store: &mut dyn Persist, now_ms: u64) -> usize {
        let due: alloc::vec::Vec<(u16, u16)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.due_ms <= now_ms)
            .map(|(k, p)| (*k, p.bits))
            .collect();
        for (key, bits) in &due {
            self.pending.remove(key);
            self.commit(store, *key, *bits);
        }
        due.len()
    }

    /// Perform every pending write now (shutdown). Returns how many.
    pub fn flush_all(&mut self, store: &mut dyn Persist) -> usize {
        let all = core::mem::take(&mut self.pending);
        let n = all.len();
        for (key, p) in all {
            self.commit(store, key, p.bits);
        }
        n
    }

    /// Earliest pending deadline, so an idle executive knows when to wake.
    #[must_use]
    pub fn next_due(&self) -> Option<u64> {
        self.pending.values().map(|p| p.due_ms).min()
    }

    /// Pending write for `key`: `(bits, due_ms)`.
    #[must_use]
    pub fn pending(&self, key: u16) -> Option<(u16, u64)> {
        self.pending.get(&key).map(|p| (p.bits, p.due_ms))
    }

    /// Number of writes waiting for their debounce.
    #[must_use]
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Number of store writes that failed so far.
    #[must_use]
    pub fn failures(&self) -> u32 {
        self.failures
    }

    fn commit(&mut self, store: &mut dyn Persist, key: u16, bits: u16) {
        if store.store(key, bits).is_err() {
            self.failures = self.failures.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing;
    impl Persist for Failing {
        fn load(&mut self, _key: u16) -> Option<u16> {
            None
        }
        fn store(&mut self, key: u16, _bits: u16) -> Result<(), PersistError> {
            Err(PersistError { key })
        }
    }

    #[test]
    fn zero_debounce_writes_through() {
        let mut store = MemPersist::new();
        let mut wb = WriteBehind::new();
        assert!(wb.schedule(&mut store, 17, 0x4CA0, 0, 5));
        assert_eq!(store.get(17), Some(0x4CA0));
        assert_eq!(wb.pending_count(), 0);
    }

    #[test]
    fn debounce_coalesces_burst_into_one_trailing_write() {
        let mut store = MemPersist::new();
        let mut wb = WriteBehind::new();
        assert!(!wb.schedule(&mut store, 99, 0x3C00, 75, 1000));
        assert!(!wb.schedule(&mut store, 99, 0x4000, 75, 1050));
        assert_eq!(wb.pending(99), Some((0x4000, 1125)));
        assert_eq!(wb.next_due(), Some(1125));
        assert_eq!(wb.flush_due(&mut store, 1124), 0);
        assert_eq!(store.get(99), None);
        assert_eq!(wb.flush_due(&mut store, 1125), 1);
        assert_eq!(store.get(99), Some(0x4000));
        assert_eq!(store.write_count(), 1);
        assert_eq!(wb.next_due(), None);
    }

    #[test]
    fn flush_all_writes_pending_instead_of_dropping_them() {
        let mut store = MemPersist::new();
        let mut wb = WriteBehind::new();
        wb.schedule(&mut store, 1, 0x1111, 500, 0);
        wb.schedule(&mut store, 2, 0x2222, 900, 0);
        assert_eq!(wb.flush_all(&mut store), 2);
        assert_eq!(store.get(1), Some(0x1111));
        assert_eq!(store.get(2), Some(0x2222));
        assert_eq!(wb.pending_count(), 0);
    }

    #[test]
    fn unusable_keys_are_ignored() {
        let mut store = MemPersist::new();
        let mut wb = WriteBehind::new();
        assert!(!wb.schedule(&mut store, KEY_NONE, 1, 0, 0));
        assert!(!wb.schedule(&mut store, KEY_RESERVED, 1, 0, 0));
        assert_eq!(store.write_count(), 0);
        assert_eq!(wb.pending_count(), 0);
    }

    #[test]
    fn write_failure_is_counted_not_fatal() {
        let mut wb = WriteBehind::new();
        wb.schedule(&mut Failing, 5, 1, 0, 0);
        assert_eq!(wb.failures(), 1);
    }

    #[test]
    fn mem_persist_loads_prefilled_records() {
        let mut store = MemPersist::with_records(&[(99, 0x4300)]);
        assert_eq!(store.load(99), Some(0x4300));
        assert_eq!(store.load(98), None);
        assert_eq!(store.records().count(), 1);
    }
}
