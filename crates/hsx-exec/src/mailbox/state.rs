//! The manager's internal state: queued messages, descriptors, per-PID handle tables
//! (with their tap buffers and fan-out cursors) and wait records.

use crate::vecmap::VecMap;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::abi::{MESSAGE_OVERHEAD, len_u32, mode};
use super::records::{PidCounters, RecvRequest};
use super::stdio::StdioHandles;
use super::target::TargetKey;

#[derive(Debug, Clone)]
pub(super) struct Message {
    pub(super) payload: Vec<u8>,
    pub(super) flags: u16,
    pub(super) channel: u16,
    pub(super) src_pid: u32,
    pub(super) seq: u64,
}

impl Message {
    pub(super) fn cost(&self) -> u32 {
        len_u32(self.payload.len()).saturating_add(MESSAGE_OVERHEAD)
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct TapState {
    pub(super) queue: VecDeque<Message>,
    pub(super) bytes: u32,
    pub(super) pending_overrun: bool,
    pub(super) window_start: Option<u64>,
    pub(super) window_count: u32,
}

#[derive(Debug, Clone)]
pub(super) struct HandleState {
    pub(super) descriptor: u32,
    /// Fan-out cursor: the handle sees messages with `seq >= cursor`.
    pub(super) cursor: u64,
    pub(super) pending_overrun: bool,
    pub(super) is_sender: bool,
    /// Has received (or tried to) at least once.
    pub(super) has_read: bool,
    /// Opened by the executive on the task's behalf (stdio fd table).
    pub(super) implicit: bool,
    pub(super) tap: Option<TapState>,
}

impl HandleState {
    /// Whether this handle holds fan-out messages back from reclamation.
    pub(super) fn is_reader(&self) -> bool {
        self.tap.is_none() && !self.is_sender && (self.has_read || !self.implicit)
    }
}

#[derive(Debug, Clone)]
pub(super) struct Descriptor {
    pub(super) id: u32,
    pub(super) key: TargetKey,
    pub(super) capacity: u32,
    pub(super) mode: u16,
    pub(super) queue: VecDeque<Message>,
    pub(super) bytes_used: u32,
    pub(super) next_seq: u64,
    pub(super) waiters: VecDeque<u32>,
    pub(super) taps: Vec<(u32, u32)>,
    pub(super) members: Vec<(u32, u32)>,
    pub(super) owner_exited: bool,
    /// The task whose BIND/OPEN created a `shared:` descriptor:
    /// it goes when that task has ended and no handle holds it, so one task cannot keep
    /// the pool exhausted after it is gone.
    pub(super) creator: Option<u32>,
    /// The task whose BIND/OPEN SVC created it, of any namespace (0: the host or the
    /// executive): what counts against that task's descriptor budget.
    pub(super) made_by: u32,
    pub(super) sent: u64,
    pub(super) received: u64,
    pub(super) dropped: u64,
}

impl Descriptor {
    pub(super) fn fanout(&self) -> bool {
        self.mode & mode::FANOUT != 0
    }

    pub(super) fn free_space(&self) -> u32 {
        self.capacity.saturating_sub(self.bytes_used)
    }

    pub(super) fn head_seq(&self) -> u64 {
        self.queue.front().map_or(self.next_seq, |m| m.seq)
    }

    pub(super) fn pop_head(&mut self) -> Option<Message> {
        let m = self.queue.pop_front()?;
        self.bytes_used = self.bytes_used.saturating_sub(m.cost());
        Some(m)
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct PidTable {
    pub(super) next_handle: u32,
    pub(super) handles: VecMap<u32, HandleState>,
    pub(super) stdio: Option<StdioHandles>,
    pub(super) counters: PidCounters,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct WaitRecord {
    pub(super) descriptor: u32,
    pub(super) req: RecvRequest,
    pub(super) deadline: Option<u64>,
}

pub(super) type Handles = VecMap<u32, PidTable>;

pub(super) fn handle_mut(pids: &mut Handles, pid: u32, handle: u32) -> Option<&mut HandleState> {
    pids.get_mut(&pid)?.handles.get_mut(&handle)
}

pub(super) fn handle_ref(pids: &Handles, pid: u32, handle: u32) -> Option<&HandleState> {
    pids.get(&pid)?.handles.get(&handle)
}

pub(super) fn depth_u32(q: &VecDeque<Message>) -> u32 {
    len_u32(q.len())
}

pub(super) fn alloc_handle(table: &mut PidTable) -> Option<u32> {
    // Handles travel through 16-bit guest registers: stay in 1..=0xFFFF, skip live ones.
    for _ in 0..0xFFFF_u32 {
        let h = if (1..=0xFFFF).contains(&table.next_handle) {
            table.next_handle
        } else {
            1
        };
        table.next_handle = if h >= 0xFFFF { 1 } else { h + 1 };
        if !table.handles.contains_key(&h) {
            return Some(h);
        }
    }
    None
}
