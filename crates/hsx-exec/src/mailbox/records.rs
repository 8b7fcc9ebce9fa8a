//! Plain values exchanged with the SVC bridge and the executive: receive requests and
//! outcomes, received messages, deferred completions, send/peek reports, per-PID counters
//! and what releasing a task freed.

use alloc::vec::Vec;

use super::abi::{RECV_INFO_SIZE, len_u32};
use crate::status::mbx as st;

/// A received message, already truncated to the receiver's `max_len`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Copied payload (`min(max_len, length)` bytes; the rest of the message is discarded).
    pub data: Vec<u8>,
    /// Length of the message before truncation.
    pub original_len: u32,
    /// Message flags, with OVERRUN added when messages were lost before it.
    pub flags: u16,
    /// Channel.
    pub channel: u16,
    /// Sender PID.
    pub src_pid: u32,
    /// Descriptor it came from.
    pub descriptor: u32,
    /// Sequence number within the descriptor.
    pub seq: u64,
}

impl Received {
    /// `R0..R4` for a successful receive: OK, length, flags, channel, src_pid.
    #[must_use]
    pub fn regs(&self) -> [u32; 5] {
        [
            u32::from(st::OK),
            len_u32(self.data.len()) & 0xFFFF,
            u32::from(self.flags),
            u32::from(self.channel),
            self.src_pid & 0xFFFF,
        ]
    }

    /// The 20-byte receive-info record for this message.
    #[must_use]
    pub fn info_record(&self) -> [u8; RECV_INFO_SIZE] {
        recv_info(
            st::OK,
            len_u32(self.data.len()),
            self.flags,
            self.channel,
            self.src_pid,
        )
    }
}

/// Build the receive-info record `{i32 status, i32 length, u32 flags, u32 channel,
/// u32 src_pid}` (little-endian).
#[must_use]
pub fn recv_info(
    status: u16,
    length: u32,
    flags: u16,
    channel: u16,
    src_pid: u32,
) -> [u8; RECV_INFO_SIZE] {
    let mut out = [0u8; RECV_INFO_SIZE];
    let words = [
        u32::from(status),
        length,
        u32::from(flags),
        u32::from(channel),
        src_pid,
    ];
    for (chunk, w) in out.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// Parameters of a guest RECV (the pointers are stored opaquely for the completion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvRequest {
    /// Handle to receive on.
    pub handle: u32,
    /// Receive buffer size; longer messages are truncated.
    pub max_len: u32,
    /// `TIMEOUT_POLL`, 1..=0xFFFE ms, or `TIMEOUT_INFINITE`.
    pub timeout: u16,
    /// Guest buffer address (returned in the completion).
    pub buf_ptr: u32,
    /// Guest receive-info address, 0 = none (returned in the completion).
    pub info_ptr: u32,
}

/// Result of [`MailboxManager::recv_or_wait`](crate::mailbox::MailboxManager::recv_or_wait).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecvOutcome {
    /// A message was available.
    Message(Received),
    /// Poll on an empty queue: status NO_DATA, no wait recorded.
    NoData,
    /// The task must block; `deadline_ms` is `None` for an infinite wait.
    Blocked {
        /// Absolute deadline in the manager's clock, for the caller's timer heap.
        deadline_ms: Option<u64>,
    },
}

/// A finished blocking receive (woken by data, timed out, or its handle closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Waiting task.
    pub pid: u32,
    /// Handle it waited on.
    pub handle: u32,
    /// Descriptor it waited on.
    pub descriptor: u32,
    /// Guest buffer address from the request.
    pub buf_ptr: u32,
    /// Guest info-record address from the request (0 = none).
    pub info_ptr: u32,
    /// OK, TIMEOUT or INVALID_HANDLE.
    pub status: u16,
    /// The message for an OK completion.
    pub message: Option<Received>,
}

impl Completion {
    /// `R0..R4` to write into the task's saved context (all zero beyond R0 unless OK).
    #[must_use]
    pub fn regs(&self) -> [u32; 5] {
        match &self.message {
            Some(m) => m.regs(),
            None => [u32::from(self.status), 0, 0, 0, 0],
        }
    }

    /// Receive-info record to write at `info_ptr` (when non-zero).
    #[must_use]
    pub fn info_record(&self) -> [u8; RECV_INFO_SIZE] {
        match &self.message {
            Some(m) => m.info_record(),
            None => recv_info(self.status, 0, 0, 0, 0),
        }
    }

    /// Payload to copy to `buf_ptr` (empty unless OK).
    #[must_use]
    pub fn payload(&self) -> &[u8] {
        self.message.as_ref().map_or(&[], |m| m.data.as_slice())
    }

    /// Whether this completion is a timeout.
    #[must_use]
    pub const fn timed_out(&self) -> bool {
        self.status == st::TIMEOUT
    }
}

/// Successful send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendReport {
    /// Bytes accepted (the payload length).
    pub bytes: u32,
    /// Descriptor the message went to.
    pub descriptor: u32,
}

/// Result of PEEK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeekInfo {
    /// Messages queued on the descriptor (whole descriptor).
    pub depth: u32,
    /// Bytes used on the descriptor.
    pub bytes_used: u32,
    /// Capacity of the descriptor.
    pub capacity: u32,
    /// Length of the next message this handle would receive, 0 if none.
    pub next_len: u32,
    /// Seq of the oldest queued message (or `next_seq` when empty).
    pub head_seq: u64,
    /// Seq of the next message this handle would receive (or `next_seq`).
    pub next_seq: u64,
    /// Mode mask.
    pub mode_mask: u16,
}

impl PeekInfo {
    /// `R0..R3` for PEEK: OK, depth, bytes used, next length.
    #[must_use]
    pub const fn regs(&self) -> [u32; 4] {
        [st::OK as u32, self.depth, self.bytes_used, self.next_len]
    }
}

/// Per-PID counters (`MAILBOX_STEP`, `MAILBOX_WAKE`, `MAILBOX_TIMEOUT`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PidCounters {
    /// SEND/RECV SVCs (counted by the bridge through
    /// [`MailboxManager::count_step`](crate::mailbox::MailboxManager::count_step)).
    pub step: u64,
    /// Blocked receives completed with data.
    pub wake: u64,
    /// Blocked receives that timed out.
    pub timeout: u64,
}

/// What [`MailboxManager::release_pid`](crate::mailbox::MailboxManager::release_pid) released.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseReport {
    /// Handles closed.
    pub handles_closed: u32,
    /// Whether a pending wait was cancelled.
    pub wait_cancelled: bool,
    /// Descriptors freed.
    pub descriptors_freed: Vec<u32>,
}
