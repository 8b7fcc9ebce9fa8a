//! Mailbox records (protocol.md §2.6): `mailbox_snapshot` descriptors and stats, `list`
//! channels, `listen` messages and the `send` reply.

use std::collections::BTreeMap;

use hsx_exec::mailbox::{DescriptorInfo, MailboxStats, TapInfo};
use serde::Serialize;

/// A tap on a descriptor.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Tap {
    /// Tapping task.
    pub pid: u32,
    /// Its handle.
    pub handle: u32,
    /// Messages queued for it.
    pub depth: u32,
}

impl From<&TapInfo> for Tap {
    fn from(t: &TapInfo) -> Self {
        Self {
            pid: t.pid,
            handle: t.handle,
            depth: t.depth,
        }
    }
}

/// One descriptor of `mailbox_snapshot`.
#[derive(Debug, Clone, Serialize)]
pub struct Descriptor<'a> {
    /// Descriptor id.
    pub descriptor_id: u32,
    /// Namespace code.
    pub namespace: u8,
    /// Name within the namespace.
    pub name: &'a str,
    /// Owner.
    pub owner_pid: Option<u32>,
    /// Target string.
    pub target: &'a str,
    /// Capacity in bytes.
    pub capacity: u32,
    /// Bytes queued.
    pub bytes_used: u32,
    /// Messages queued.
    pub queue_depth: u32,
    /// Oldest queued sequence number.
    pub head_seq: u64,
    /// Next sequence number.
    pub next_seq: u64,
    /// Mode mask.
    pub mode_mask: u16,
    /// Tasks waiting.
    pub waiters: &'a [u32],
    /// Taps.
    pub taps: Vec<Tap>,
}

impl<'a> Descriptor<'a> {
    /// The record of `d`.
    pub fn of(d: &'a DescriptorInfo) -> Self {
        Self {
            descriptor_id: d.descriptor_id,
            namespace: d.namespace.code(),
            name: &d.name,
            owner_pid: d.owner_pid,
            target: &d.target,
            capacity: d.capacity,
            bytes_used: d.bytes_used,
            queue_depth: d.queue_depth,
            head_seq: d.head_seq,
            next_seq: d.next_seq,
            mode_mask: d.mode_mask,
            waiters: &d.waiters,
            taps: d.taps.iter().map(Tap::from).collect(),
        }
    }
}

/// The `stats` of `mailbox_snapshot`.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Descriptor pool size.
    pub max_descriptors: u32,
    /// Descriptors in use.
    pub active_descriptors: u32,
    /// Descriptors free.
    pub free_descriptors: u32,
    /// Sum of capacities.
    pub total_capacity: u64,
    /// Bytes queued.
    pub bytes_used: u64,
    /// Bytes free.
    pub bytes_available: u64,
    /// Messages queued.
    pub queue_depth: u64,
    /// Open handles.
    pub handles_total: u32,
    /// Open handles by PID.
    pub handles_per_pid: BTreeMap<String, u32>,
    /// Handle limit per task.
    pub handle_limit_per_pid: Option<u32>,
    /// Tap rate limit.
    pub tap_rate_limit: u32,
    /// The pool has run out at least once.
    pub descriptor_pool_exhausted: bool,
    /// Taps.
    pub tap_count: u32,
}

impl From<&MailboxStats> for Stats {
    fn from(st: &MailboxStats) -> Self {
        Self {
            max_descriptors: st.max_descriptors,
            active_descriptors: st.active_descriptors,
            free_descriptors: st.free_descriptors,
            total_capacity: st.total_capacity,
            bytes_used: st.bytes_used,
            bytes_available: st.bytes_available,
            queue_depth: st.queue_depth,
            handles_total: st.handles_total,
            handles_per_pid: st
                .handles_per_pid
                .iter()
                .map(|(p, n)| (p.to_string(), *n))
                .collect(),
            handle_limit_per_pid: st.handle_limit_per_pid,
            tap_rate_limit: st.tap_rate_limit,
            descriptor_pool_exhausted: st.descriptor_pool_exhausted,
            tap_count: st.tap_count,
        }
    }
}

/// `mailbox_snapshot`, spread over the reply.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot<'a> {
    /// Every descriptor.
    pub descriptors: Vec<Descriptor<'a>>,
    /// Pool statistics.
    pub stats: Stats,
}

/// One channel of `list`.
#[derive(Debug, Clone, Serialize)]
pub struct Channel<'a> {
    /// Descriptor id.
    pub descriptor_id: u32,
    /// Target string.
    pub target: &'a str,
    /// Name.
    pub name: &'a str,
    /// Namespace code.
    pub namespace: u8,
    /// Mode mask.
    pub mode_mask: u16,
    /// Capacity.
    pub capacity: u32,
    /// Bytes queued.
    pub bytes_used: u32,
    /// Messages queued.
    pub queue_depth: u32,
    /// Readers.
    pub subscriber_count: u32,
}

impl<'a> Channel<'a> {
    /// The channel record of `d`.
    pub fn of(d: &'a DescriptorInfo) -> Self {
        Self {
            descriptor_id: d.descriptor_id,
            target: &d.target,
            name: &d.name,
            namespace: d.namespace.code(),
            mode_mask: d.mode_mask,
            capacity: d.capacity,
            bytes_used: d.bytes_used,
            queue_depth: d.queue_depth,
            subscriber_count: d.readers,
        }
    }
}

/// `list`: a task's channels.
#[derive(Debug, Clone, Serialize)]
pub struct Channels<'a> {
    /// Task.
    pub pid: u32,
    /// Its descriptors.
    pub channels: Vec<Channel<'a>>,
}

/// One `listen` message: one write of a task's output.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// `svc:stdio.out@N` or `svc:stdio.err@N`.
    pub target: String,
    /// Writer.
    pub pid: u32,
    /// `out` or `err`.
    pub stream: &'static str,
    /// The bytes as text (lossy UTF-8).
    pub text: String,
    /// The bytes as hex.
    pub data_hex: String,
    /// Always 0: the bytes come from events.
    pub flags: u32,
    /// Always 0.
    pub channel: u32,
    /// Byte count.
    pub length: usize,
    /// Writer again.
    pub src_pid: u32,
}

/// The `send` reply, spread over the top level.
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    /// Always 0 (a failure is an error reply).
    pub mbx_status: u32,
    /// Bytes sent.
    pub length: u32,
    /// Descriptor sent to.
    pub descriptor: u32,
    /// Target string.
    pub target: String,
}
