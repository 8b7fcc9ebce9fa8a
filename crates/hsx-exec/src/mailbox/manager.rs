//! The [`MailboxManager`] itself: its state, construction, clock and event buffer. Its
//! operations are spread over the sibling files by concept.

use crate::vecmap::{VecMap, VecSet};
use alloc::collections::VecDeque;

use super::abi::mode;
use super::config::{DEFAULT_EVENT_CAPACITY, MailboxConfig};
use super::events::MailboxEvent;
use super::records::Completion;
use super::state::{Descriptor, Handles, WaitRecord};
use super::target::TargetKey;
use crate::bounded::Bounded;

/// The mailbox manager. See the module documentation.
#[derive(Debug, Clone)]
pub struct MailboxManager {
    pub(super) config: MailboxConfig,
    pub(super) descriptors: VecMap<u32, Descriptor>,
    pub(super) lookup: VecMap<TargetKey, u32>,
    pub(super) pids: Handles,
    pub(super) waits: VecMap<u32, WaitRecord>,
    pub(super) next_descriptor_id: u32,
    pub(super) stdio_modes: [u16; 3],
    pub(super) exited: VecSet<u32>,
    pub(super) now_ms: u64,
    pub(super) events: Bounded<MailboxEvent>,
    pub(super) completions: VecDeque<Completion>,
    pub(super) pool_exhausted: bool,
}

impl Default for MailboxManager {
    fn default() -> Self {
        Self::new(MailboxConfig::default())
    }
}

impl MailboxManager {
    /// A manager with the given profile.
    #[must_use]
    pub fn new(config: MailboxConfig) -> Self {
        let config = MailboxConfig {
            max_descriptors: config.max_descriptors.max(1),
            handle_limit_per_pid: config.handle_limit_per_pid.map(|l| l.max(1)),
            default_capacity: config.default_capacity.max(1),
            tap_rate_limit: config.tap_rate_limit,
            lazy_stdio: config.lazy_stdio,
            descriptors_per_task: config.descriptors_per_task.map(|l| l.max(1)),
            load_reserve: config.load_reserve,
        };
        let pool = crate::vecmap::prealloc(config.max_descriptors as usize);
        Self {
            config,
            descriptors: VecMap::with_capacity(pool),
            lookup: VecMap::with_capacity(pool),
            pids: VecMap::new(),
            waits: VecMap::new(),
            next_descriptor_id: 1,
            stdio_modes: [mode::RDWR; 3],
            exited: VecSet::new(),
            now_ms: 0,
            events: Bounded::new(DEFAULT_EVENT_CAPACITY),
            completions: VecDeque::new(),
            pool_exhausted: false,
        }
    }

    /// The active profile.
    #[must_use]
    pub const fn config(&self) -> &MailboxConfig {
        &self.config
    }

    /// Change the tap rate limit (resets every tap's window).
    pub fn set_tap_rate_limit(&mut self, limit: u32) {
        if limit != self.config.tap_rate_limit {
            self.config.tap_rate_limit = limit;
            for t in self.pids.values_mut() {
                for h in t.handles.values_mut() {
                    if let Some(tap) = h.tap.as_mut() {
                        tap.window_start = None;
                        tap.window_count = 0;
                    }
                }
            }
        }
    }

    /// Current time in ms (used for wait deadlines and tap rate windows).
    pub fn set_now(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
    }

    /// The time last given to [`Self::set_now`].
    #[must_use]
    pub const fn now(&self) -> u64 {
        self.now_ms
    }

    /// Number of live descriptors.
    #[must_use]
    pub fn descriptor_count(&self) -> usize {
        self.descriptors.len()
    }

    /// Descriptors task `pid` created with its own BIND/OPEN (its descriptor budget's use).
    #[must_use]
    pub fn descriptors_made_by(&self, pid: u32) -> u32 {
        super::abi::len_u32(
            self.descriptors
                .values()
                .filter(|d| d.made_by == pid)
                .count(),
        )
    }

    /// Handles task `pid` holds.
    #[must_use]
    pub fn handle_count(&self, pid: u32) -> u32 {
        self.pids
            .get(&pid)
            .map_or(0, |t| super::abi::len_u32(t.handles.len()))
    }

    // -------------------------------------------------------------------------- events

    /// Turn event recording on or off (off: nothing is queued).
    pub fn set_events_enabled(&mut self, enabled: bool) {
        self.events.set_enabled(enabled);
    }

    /// Bound the event queue; the oldest events are dropped beyond it.
    pub fn set_event_capacity(&mut self, capacity: usize) {
        self.events.set_capacity(capacity);
    }

    /// Take every queued event, oldest first.
    pub fn take_events(&mut self) -> VecDeque<MailboxEvent> {
        self.events.take()
    }

    /// Events dropped because the queue was full.
    #[must_use]
    pub const fn events_dropped(&self) -> u64 {
        self.events.dropped()
    }

    /// Record a failed mailbox SVC (`mailbox_error`).
    pub fn report_error(&mut self, pid: u32, fn_id: u8, status: u16) {
        self.emit(MailboxEvent::Error { pid, fn_id, status });
    }

    pub(super) fn emit(&mut self, ev: MailboxEvent) {
        self.events.push(ev);
    }
}
