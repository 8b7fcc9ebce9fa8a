//! Per-task debug state: breakpoints with the pre-step gate and step-over
//! (`design.md` §4 item 4), memory watches and the trace ring.
//!
//! What each build variant has:
//!
//! | | `minimal` | `development` | `full` |
//! |---|---|---|---|
//! | breakpoints, step-over | — | yes | yes |
//! | trace ring (per task) | — | [`TRACE_CAPACITY_MAX`] = 128 | [`TRACE_CAPACITY_MAX`] = 4096 |
//! | `trace_step` events | — | yes | yes |
//! | watches | — | — | yes |
//!
//! BRK pauses its task in every variant (it is VM behaviour, not a debugger feature). The
//! executive's API keeps the same methods in every variant; those whose feature is compiled
//! out answer [`crate::ExecError::Unsupported`].

#[cfg(feature = "development")]
use crate::vecmap::VecSet;
#[cfg(feature = "development")]
use alloc::collections::VecDeque;
use alloc::vec::Vec;

#[cfg(feature = "development")]
use crate::event::TraceRecord;

/// Largest trace ring a task can have in this build (0: no trace ring).
#[cfg(feature = "full")]
pub const TRACE_CAPACITY_MAX: usize = 4096;
/// Largest trace ring a task can have in this build (0: no trace ring).
#[cfg(all(feature = "development", not(feature = "full")))]
pub const TRACE_CAPACITY_MAX: usize = 128;
/// Largest trace ring a task can have in this build (0: no trace ring).
#[cfg(not(feature = "development"))]
pub const TRACE_CAPACITY_MAX: usize = 0;

/// Whether this build has a trace ring.
pub(crate) const TRACE_SUPPORTED: bool = cfg!(feature = "development");

/// Clamp a requested trace ring size to what this build supports.
pub(crate) fn clamp_trace_capacity(n: usize) -> usize {
    #[cfg(feature = "development")]
    {
        n.min(TRACE_CAPACITY_MAX)
    }
    #[cfg(not(feature = "development"))]
    {
        let _ = n;
        0
    }
}

/// Longest memory range one watch may cover.
pub const WATCH_MAX_LEN: u32 = 256;

/// A memory watch as reported to consumers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchInfo {
    /// Watch id (one counter for the whole executive, from 1).
    pub id: u32,
    /// Task.
    pub pid: u32,
    /// Address (16 bits).
    pub address: u32,
    /// Length in bytes.
    pub length: u32,
    /// Bytes as last read.
    pub value: Vec<u8>,
}

/// Breakpoint set of one task: an ordered set for listing plus a 64 Ki-bit map so the gate
/// is one bit test per instruction.
#[cfg(feature = "development")]
#[derive(Debug, Clone, Default)]
pub(crate) struct Breakpoints {
    set: VecSet<u32>,
    bits: Vec<u64>,
}

#[cfg(feature = "development")]
impl Breakpoints {
    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    #[inline]
    pub(crate) fn contains(&self, pc: u32) -> bool {
        let a = (pc & 0xFFFF) as usize;
        self.bits
            .get(a >> 6)
            .is_some_and(|w| w & (1u64 << (a & 63)) != 0)
    }

    pub(crate) fn add(&mut self, addr: u32) -> bool {
        let a = addr & 0xFFFF;
        if self.bits.is_empty() {
            self.bits = alloc::vec![0u64; 0x10000 / 64];
        }
        if let Some(w) = self.bits.get_mut((a >> 6) as usize) {
            *w |= 1u64 << (a & 63);
        }
        self.set.insert(a)
    }

    pub(crate) fn remove(&mut self, addr: u32) -> bool {
        let a = addr & 0xFFFF;
        if let Some(w) = self.bits.get_mut((a >> 6) as usize) {
            *w &= !(1u64 << (a & 63));
        }
        let removed = self.set.remove(&a);
        if self.set.is_empty() {
            self.bits = Vec::new();
        }
        removed
    }

    pub(crate) fn clear(&mut self) {
        self.set.clear();
        self.bits = Vec::new();
    }

    pub(crate) fn list(&self) -> Vec<u32> {
        self.set.iter().copied().collect()
    }
}

#[cfg(feature = "full")]
#[derive(Debug, Clone)]
pub(crate) struct WatchState {
    pub id: u32,
    pub address: u32,
    pub length: u32,
    pub value: Vec<u8>,
    /// Stop the task when the value changes (a debugger's data breakpoint), not only
    /// report it.
    pub stop: bool,
}

/// Everything debug-related about one task.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskDebug {
    #[cfg(feature = "development")]
    pub bps: Breakpoints,
    /// Step-over: the gate lets the instruction at this PC run once.
    pub skip_bp_at: Option<u32>,
    #[cfg(feature = "full")]
    pub watches: Vec<WatchState>,
    #[cfg(feature = "development")]
    pub ring: VecDeque<TraceRecord>,
    /// Tracing requested for this task (trace ring and `trace_step` events).
    pub trace: bool,
    /// Cached "needs the single-step path" (breakpoints, watches or tracing).
    pub slow: bool,
}

impl TaskDebug {
    /// Recompute [`TaskDebug::slow`].
    pub(crate) fn refresh(&mut self) {
        #[allow(unused_mut)]
        let mut slow = self.trace;
        #[cfg(feature = "development")]
        {
            slow |= !self.bps.is_empty();
        }
        #[cfg(feature = "full")]
        {
            slow |= !self.watches.is_empty();
        }
        self.slow = slow;
    }
}

#[cfg(all(test, feature = "development"))]
mod tests {
    use super::*;

    #[test]
    fn breakpoint_bitmap_matches_set() {
        let mut b = Breakpoints::default();
        assert!(!b.contains(0x40));
        assert!(b.add(0x40));
        assert!(!b.add(0x1_0040));
        assert!(b.contains(0x40));
        assert!(b.contains(0x2_0040));
        assert!(!b.contains(0x44));
        b.add(0xFFFF);
        assert_eq!(b.list(), alloc::vec![0x40, 0xFFFF]);
        assert!(b.remove(0x40));
        assert!(!b.contains(0x40));
        assert!(b.contains(0xFFFF));
        b.clear();
        assert!(b.is_empty());
        assert!(!b.contains(0xFFFF));
    }
}
