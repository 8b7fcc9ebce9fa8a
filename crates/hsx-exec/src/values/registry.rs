//! The [`Registry`] itself: its state, construction, event buffer, occupancy bookkeeping,
//! releasing a task and statistics. Its services are spread over the sibling files.

use crate::vecmap::VecMap;
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use core::fmt;

use super::chain::DESC_NONE;
use super::events::ValEvent;
use super::params::{RegistryLimits, TokenValidator};
use super::report::{PoolStats, RegistryStats, ReleaseCounts};
use super::store::{CommandEntry, Key, StringPool, ValueEntry, update_warning};
use crate::bounded::Bounded;
use crate::persist::{Persist, WriteBehind};

/// The value/command registry. See the module documentation.
pub struct Registry {
    pub(super) limits: RegistryLimits,
    pub(super) values: VecMap<Key, ValueEntry>,
    pub(super) commands: VecMap<Key, CommandEntry>,
    pub(super) strings: StringPool,
    pub(super) next_desc_offset: u32,
    pub(super) next_seq: u64,
    pub(super) value_high: usize,
    pub(super) value_warn: bool,
    pub(super) cmd_high: usize,
    pub(super) cmd_warn: bool,
    pub(super) persist: Option<Box<dyn Persist + Send>>,
    pub(super) writes: WriteBehind,
    pub(super) validator: Option<TokenValidator>,
    pub(super) events: Bounded<ValEvent>,
    /// The outcome of a guest handler the executive ran for the call in progress.
    pub(super) guest_outcome: Option<Result<Option<u32>, super::CmdError>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("limits", &self.limits)
            .field("values", &self.values.len())
            .field("commands", &self.commands.len())
            .field("strings_used", &self.strings.used)
            .field("persist", &self.persist.is_some())
            .field("pending_writes", &self.writes.pending_count())
            .finish_non_exhaustive()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new(RegistryLimits::default())
    }
}

impl Registry {
    /// An empty registry.
    #[must_use]
    pub fn new(limits: RegistryLimits) -> Self {
        Self {
            limits,
            values: VecMap::new(),
            commands: VecMap::new(),
            strings: StringPool {
                capacity: limits.string_capacity,
                ..StringPool::default()
            },
            next_desc_offset: 0,
            next_seq: 0,
            value_high: 0,
            value_warn: false,
            cmd_high: 0,
            cmd_warn: false,
            persist: None,
            writes: WriteBehind::new(),
            validator: None,
            events: Bounded::new(crate::mailbox::config::DEFAULT_EVENT_CAPACITY),
            guest_outcome: None,
        }
    }

    /// Values and commands `owner` has registered (its registration budgets' use).
    #[must_use]
    pub fn owned_by(&self, owner: u32) -> (usize, usize) {
        (
            self.values.values().filter(|e| e.owner == owner).count(),
            self.commands.values().filter(|e| e.owner == owner).count(),
        )
    }

    /// The table and per-task limits.
    #[must_use]
    pub const fn limits(&self) -> &RegistryLimits {
        &self.limits
    }

    // ------------------------------------------------------------------------- events

    /// Take every queued event, oldest first.
    pub fn take_events(&mut self) -> VecDeque<ValEvent> {
        self.events.take()
    }

    /// Turn event recording on or off.
    pub fn set_events_enabled(&mut self, enabled: bool) {
        self.events.set_enabled(enabled);
    }

    /// Bound the event queue (oldest dropped).
    pub fn set_event_capacity(&mut self, capacity: usize) {
        self.events.set_capacity(capacity);
    }

    pub(super) fn emit(&mut self, ev: ValEvent) {
        self.events.push(ev);
    }

    pub(super) fn alloc_desc_offsets(
        &mut self,
        sizes: impl DoubleEndedIterator<Item = u32>,
    ) -> u32 {
        // The reference allocates the chain back to front; the head is the last allocation.
        let mut head = u32::from(DESC_NONE);
        for size in sizes.rev() {
            head = self.next_desc_offset;
            self.next_desc_offset = self.next_desc_offset.saturating_add(size);
        }
        head
    }

    pub(super) fn note_value_usage(&mut self) {
        let n = self.values.len();
        self.value_high = self.value_high.max(n);
        self.value_warn = update_warning(self.value_warn, n, self.limits.max_values);
    }

    pub(super) fn note_command_usage(&mut self) {
        let n = self.commands.len();
        self.cmd_high = self.cmd_high.max(n);
        self.cmd_warn = update_warning(self.cmd_warn, n, self.limits.max_commands);
    }

    // ----------------------------------------------------------------- housekeeping

    /// Remove every value and command owned by `pid` and every subscription it holds
    /// (task exit and kill). Pending persistence writes are kept.
    pub fn release_pid(&mut self, pid: u32) -> ReleaseCounts {
        let before_v = self.values.len();
        let before_c = self.commands.len();
        self.values.retain(|(_, owner), _| *owner != pid);
        self.commands.retain(|(_, owner), _| *owner != pid);
        let mut subscriptions = 0;
        for e in self.values.values_mut() {
            let n = e.subscribers.len();
            e.subscribers.retain(|(p, _)| *p != pid);
            subscriptions += n - e.subscribers.len();
        }
        self.note_value_usage();
        self.note_command_usage();
        ReleaseCounts {
            values: before_v - self.values.len(),
            commands: before_c - self.commands.len(),
            subscriptions,
        }
    }

    /// Occupancy statistics.
    #[must_use]
    pub fn stats(&self) -> RegistryStats {
        RegistryStats {
            values: PoolStats {
                count: self.values.len(),
                capacity: self.limits.max_values,
                high_water: self.value_high,
                warning: self.value_warn,
            },
            commands: PoolStats {
                count: self.commands.len(),
                capacity: self.limits.max_commands,
                high_water: self.cmd_high,
                warning: self.cmd_warn,
            },
            strings: PoolStats {
                count: self.strings.used,
                capacity: self.strings.capacity,
                high_water: self.strings.high_water,
                warning: self.strings.warning,
            },
        }
    }
}
