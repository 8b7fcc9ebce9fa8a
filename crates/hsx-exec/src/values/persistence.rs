//! Persistence glue: installing the store, restoring persisted values and flushing the
//! debounced write-behind queue.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::abi::flag;
use super::registry::Registry;
use super::store::Key;
use crate::persist::{Persist, WriteBehind, is_usable_key};

impl Registry {
    // -------------------------------------------------------------------- persistence

    /// Install the persistence store; persisted values of existing entries are restored.
    pub fn set_persist(&mut self, store: Box<dyn Persist + Send>) {
        self.persist = Some(store);
        let keys: Vec<Key> = self.values.keys().copied().collect();
        for k in keys {
            self.restore(k);
        }
    }

    /// Remove the store (pending writes are flushed first).
    pub fn take_persist(&mut self) -> Option<Box<dyn Persist + Send>> {
        self.flush_persist_all();
        self.persist.take()
    }

    /// The installed store.
    pub fn persist_mut(&mut self) -> Option<&mut (dyn Persist + Send + 'static)> {
        self.persist.as_deref_mut()
    }

    /// Perform debounced writes that are due at `now_ms`; returns how many.
    pub fn flush_persist_due(&mut self, now_ms: u64) -> usize {
        match self.persist.as_deref_mut() {
            Some(p) => self.writes.flush_due(p, now_ms),
            None => 0,
        }
    }

    /// Perform every pending write (call on shutdown); returns how many.
    pub fn flush_persist_all(&mut self) -> usize {
        match self.persist.as_deref_mut() {
            Some(p) => self.writes.flush_all(p),
            None => 0,
        }
    }

    /// Earliest pending write deadline.
    #[must_use]
    pub fn next_persist_due(&self) -> Option<u64> {
        self.writes.next_due()
    }

    /// The debounce queue (inspection).
    #[must_use]
    pub const fn pending_writes(&self) -> &WriteBehind {
        &self.writes
    }

    pub(super) fn restore(&mut self, k: Key) {
        let Some(store) = self.persist.as_deref_mut() else {
            return;
        };
        let Some(e) = self.values.get_mut(&k) else {
            return;
        };
        if e.flags & flag::PERSIST != 0
            && is_usable_key(e.persist_key)
            && let Some(bits) = store.load(e.persist_key)
        {
            e.bits = bits;
        }
    }
}
