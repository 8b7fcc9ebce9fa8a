//! The bounded drop-oldest buffer the mailbox manager and the value registry record their
//! events in. It is its own file so that both depend on it without depending on
//! `crate::event`, which in turn depends on their event types.

use alloc::collections::VecDeque;

/// The mailbox manager's and the registry's own event buffer: FIFO, oldest dropped beyond
/// `capacity` (≥ 1), nothing recorded while disabled. The executive drains both into its
/// [`crate::event::EventQueue`] after every service call, so they rarely fill.
#[derive(Debug, Clone)]
pub(crate) struct Bounded<T> {
    items: VecDeque<T>,
    capacity: usize,
    enabled: bool,
    dropped: u64,
}

impl<T> Bounded<T> {
    pub(crate) const fn new(capacity: usize) -> Self {
        Self {
            items: VecDeque::new(),
            capacity: if capacity == 0 { 1 } else { capacity },
            enabled: true,
            dropped: 0,
        }
    }

    pub(crate) const fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    /// New bound; the oldest items beyond it are dropped now.
    pub(crate) fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.items.len() > self.capacity {
            self.items.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    pub(crate) fn push(&mut self, item: T) {
        // Without the `events` feature nothing is ever recorded (compiled out).
        if !cfg!(feature = "events") || !self.enabled {
            return;
        }
        if self.items.len() >= self.capacity {
            self.items.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.items.push_back(item);
    }

    pub(crate) fn take(&mut self) -> VecDeque<T> {
        core::mem::take(&mut self.items)
    }

    pub(crate) const fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manager_buffers_trim_and_count_drops() {
        let mut b = Bounded::new(0);
        b.push(1);
        b.push(2);
        assert_eq!(b.take(), [2]);
        b.set_capacity(3);
        for i in 0..5 {
            b.push(i);
        }
        b.set_capacity(2);
        assert_eq!(b.dropped(), 4);
        assert_eq!(b.take(), [3, 4]);
        b.set_enabled(false);
        b.push(9);
        assert!(b.take().is_empty());
    }
}
