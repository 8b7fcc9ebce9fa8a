//! Introspection: per-descriptor snapshot rows and manager-wide statistics
//! (`mailbox_snapshot`).

use alloc::string::String;
use alloc::vec::Vec;

use super::abi::len_u32;
use super::manager::MailboxManager;
use super::state::{Descriptor, HandleState, depth_u32, handle_ref};
use super::target::Namespace;

/// Per-descriptor snapshot row for `mailbox_snapshot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorInfo {
    /// Descriptor id (monotonic, never reused).
    pub descriptor_id: u32,
    /// Namespace.
    pub namespace: Namespace,
    /// Name inside the namespace.
    pub name: String,
    /// Owner PID.
    pub owner_pid: Option<u32>,
    /// Canonical target text.
    pub target: String,
    /// Capacity in bytes.
    pub capacity: u32,
    /// Bytes used (payload + 8 per message).
    pub bytes_used: u32,
    /// Queued messages.
    pub queue_depth: u32,
    /// Seq of the oldest queued message (or `next_seq`).
    pub head_seq: u64,
    /// Seq the next message will get.
    pub next_seq: u64,
    /// Mode mask.
    pub mode_mask: u16,
    /// Waiting PIDs in FIFO order.
    pub waiters: Vec<u32>,
    /// Taps with their buffer depth.
    pub taps: Vec<TapInfo>,
    /// Open handles on this descriptor.
    pub handles: u32,
    /// Handles that currently hold fan-out messages back (readers).
    pub readers: u32,
    /// Messages accepted.
    pub sent: u64,
    /// Messages received (main queue, not taps).
    pub received: u64,
    /// Messages dropped (fan-out drop, resize).
    pub dropped: u64,
    /// The owner has exited; the descriptor goes away with its last handle.
    pub owner_exited: bool,
}

/// A tap registration in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapInfo {
    /// Tapping PID.
    pub pid: u32,
    /// Tap handle.
    pub handle: u32,
    /// Copies waiting in its buffer.
    pub depth: u32,
}

/// Manager-wide resource statistics (`mailbox_snapshot.stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxStats {
    /// Configured pool size.
    pub max_descriptors: u32,
    /// Live descriptors.
    pub active_descriptors: u32,
    /// Free descriptor slots.
    pub free_descriptors: u32,
    /// Sum of capacities.
    pub total_capacity: u64,
    /// Sum of bytes used.
    pub bytes_used: u64,
    /// `total_capacity - bytes_used`.
    pub bytes_available: u64,
    /// Sum of queue depths.
    pub queue_depth: u64,
    /// Open handles.
    pub handles_total: u32,
    /// Open handles per PID.
    pub handles_per_pid: Vec<(u32, u32)>,
    /// Configured quota.
    pub handle_limit_per_pid: Option<u32>,
    /// Configured tap rate limit.
    pub tap_rate_limit: u32,
    /// Pool currently full.
    pub descriptor_pool_exhausted: bool,
    /// Active taps.
    pub tap_count: u32,
    /// Copies in tap buffers.
    pub tap_queue_depth: u64,
    /// Waiting receivers.
    pub waiter_count: u32,
    /// Descriptors in fan-out mode.
    pub fanout_descriptors: u32,
}

impl MailboxManager {
    /// Every descriptor, sorted by id (`mailbox_snapshot.descriptors`).
    #[must_use]
    pub fn snapshot(&self) -> Vec<DescriptorInfo> {
        self.descriptors
            .values()
            .map(|d| self.describe(d))
            .collect()
    }

    /// One descriptor.
    #[must_use]
    pub fn descriptor_info(&self, id: u32) -> Option<DescriptorInfo> {
        self.descriptors.get(&id).map(|d| self.describe(d))
    }

    /// Descriptors owned by `pid` (execd `list`).
    #[must_use]
    pub fn owned_by(&self, pid: u32) -> Vec<DescriptorInfo> {
        self.descriptors
            .values()
            .filter(|d| d.key.owner == Some(pid))
            .map(|d| self.describe(d))
            .collect()
    }

    fn describe(&self, d: &Descriptor) -> DescriptorInfo {
        let taps = d
            .taps
            .iter()
            .map(|&(pid, handle)| TapInfo {
                pid,
                handle,
                depth: handle_ref(&self.pids, pid, handle)
                    .and_then(|h| h.tap.as_ref())
                    .map_or(0, |t| depth_u32(&t.queue)),
            })
            .collect();
        let readers = if d.fanout() {
            len_u32(
                d.members
                    .iter()
                    .filter(|&&(p, h)| {
                        handle_ref(&self.pids, p, h).is_some_and(HandleState::is_reader)
                    })
                    .count(),
            )
        } else {
            0
        };
        DescriptorInfo {
            descriptor_id: d.id,
            namespace: d.key.namespace,
            name: d.key.name.clone(),
            owner_pid: d.key.owner,
            target: d.key.to_target(),
            capacity: d.capacity,
            bytes_used: d.bytes_used,
            queue_depth: depth_u32(&d.queue),
            head_seq: d.head_seq(),
            next_seq: d.next_seq,
            mode_mask: d.mode,
            waiters: d.waiters.iter().copied().collect(),
            taps,
            handles: len_u32(d.members.len()),
            readers,
            sent: d.sent,
            received: d.received,
            dropped: d.dropped,
            owner_exited: d.owner_exited,
        }
    }

    /// Manager-wide statistics (`mailbox_snapshot.stats`).
    #[must_use]
    pub fn stats(&self) -> MailboxStats {
        let active = len_u32(self.descriptors.len());
        let total_capacity: u64 = self
            .descriptors
            .values()
            .map(|d| u64::from(d.capacity))
            .sum();
        let bytes_used: u64 = self
            .descriptors
            .values()
            .map(|d| u64::from(d.bytes_used))
            .sum();
        let handles_per_pid: Vec<(u32, u32)> = self
            .pids
            .iter()
            .filter(|(_, t)| !t.handles.is_empty())
            .map(|(p, t)| (*p, len_u32(t.handles.len())))
            .collect();
        let tap_queue_depth = self
            .pids
            .values()
            .flat_map(|t| t.handles.values())
            .filter_map(|h| h.tap.as_ref())
            .map(|t| t.queue.len() as u64)
            .sum();
        MailboxStats {
            max_descriptors: self.config.max_descriptors,
            active_descriptors: active,
            free_descriptors: self.config.max_descriptors.saturating_sub(active),
            total_capacity,
            bytes_used,
            bytes_available: total_capacity.saturating_sub(bytes_used),
            queue_depth: self
                .descriptors
                .values()
                .map(|d| d.queue.len() as u64)
                .sum(),
            handles_total: handles_per_pid.iter().map(|(_, n)| *n).sum(),
            handles_per_pid,
            handle_limit_per_pid: self.config.handle_limit_per_pid,
            tap_rate_limit: self.config.tap_rate_limit,
            descriptor_pool_exhausted: self.pool_exhausted,
            tap_count: len_u32(self.descriptors.values().map(|d| d.taps.len()).sum()),
            tap_queue_depth,
            waiter_count: len_u32(self.descriptors.values().map(|d| d.waiters.len()).sum()),
            fanout_descriptors: len_u32(self.descriptors.values().filter(|d| d.fanout()).count()),
        }
    }
}
