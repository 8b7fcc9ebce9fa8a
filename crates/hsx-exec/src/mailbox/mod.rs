//! Mailbox manager (`services.md` §1, `design.md` §4 item 7).
//!
//! A pure state machine: descriptors (named queues with a byte budget), per-PID handle
//! tables, taps, fan-out cursors and the receive wait queue. The SVC bridge reads guest
//! memory and registers itself and hands this module plain values; this module never
//! touches the VM or a clock (time arrives through [`MailboxManager::set_now`]).
//!
//! Blocking receives: the bridge calls [`MailboxManager::recv_or_wait`]; when that returns
//! [`RecvOutcome::Blocked`] the task is parked. Every enqueue (SVC send, RPC send, stdio
//! write, value notification, command completion) runs wake delivery; completed waits are
//! queued and collected with [`MailboxManager::take_completions`]. Deadlines are the
//! caller's business: it calls [`MailboxManager::expire`] when a task's deadline passes.
//!
//! Deliberate differences from the reference (each pinned by a test in `tests.rs`):
//! - taps and idle handles never stall fan-out reclamation (`fix_*` tests);
//! - a descriptor is freed when its owner has exited and its last handle closes;
//! - every enqueue wakes waiting readers, including stdio writes;
//! - [`MailboxManager::release_pid`] releases a task's handles, taps, waits and owned
//!   descriptors (exit and kill);
//! - handle numbers stay within the 16 bits a guest can pass back.

mod target;
#[cfg(test)]
mod tests;

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

pub use target::{
    MAX_NAME_BYTES, Namespace, PREFIX_APP, PREFIX_PID, PREFIX_SHARED, PREFIX_SVC, TargetKey,
};

use crate::event::Bounded;
use crate::status::mbx as st;

/// Default descriptor capacity in bytes (`HSX_MBX_DEFAULT_RING_CAPACITY`).
pub const DEFAULT_CAPACITY: u32 = 64;
/// Per-message storage overhead: the C header `{u16 len, u16 flags, u16 src_pid, u16 channel}`.
pub const MESSAGE_OVERHEAD: u32 = 8;
/// Receive timeout: poll.
pub const TIMEOUT_POLL: u16 = 0x0000;
/// Receive timeout: wait forever.
pub const TIMEOUT_INFINITE: u16 = 0xFFFF;
/// Size of the receive-info record written at `info_ptr`.
pub const RECV_INFO_SIZE: usize = 20;
/// Per-task stdin target.
pub const STDIO_IN: &str = "svc:stdio.in";
/// Per-task stdout target.
pub const STDIO_OUT: &str = "svc:stdio.out";
/// Per-task stderr target.
pub const STDIO_ERR: &str = "svc:stdio.err";
/// Window of the per-tap rate limit, in milliseconds.
pub const TAP_RATE_WINDOW_MS: u64 = 1000;
/// Default bound of the internal event queue.
pub const DEFAULT_EVENT_CAPACITY: usize = 256;

/// Mode-mask bits (`HSX_MBX_MODE_*`).
pub mod mode {
    /// Recorded only.
    pub const RDONLY: u16 = 0x01;
    /// Recorded only.
    pub const WRONLY: u16 = 0x02;
    /// Recorded only; default for stdio and metadata mailboxes.
    pub const RDWR: u16 = 0x03;
    /// Recorded only (tapping is per handle).
    pub const TAP: u16 = 0x04;
    /// Fan-out delivery.
    pub const FANOUT: u16 = 0x08;
    /// Fan-out: drop oldest when full (default policy).
    pub const FANOUT_DROP: u16 = 0x10;
    /// Fan-out: refuse new messages when full.
    pub const FANOUT_BLOCK: u16 = 0x20;
}

/// Message flag bits (`HSX_MBX_FLAG_*`).
pub mod msg_flag {
    /// Standard output text.
    pub const STDOUT: u16 = 0x0001;
    /// Standard error text.
    pub const STDERR: u16 = 0x0002;
    /// Out-of-band.
    pub const OOB: u16 = 0x0004;
    /// Messages were lost before this one.
    pub const OVERRUN: u16 = 0x0008;
}

/// Function numbers of SVC module 0x05.
pub mod func {
    /// Module number.
    pub const MODULE: u8 = 0x05;
    /// OPEN.
    pub const OPEN: u8 = 0x00;
    /// BIND.
    pub const BIND: u8 = 0x01;
    /// SEND.
    pub const SEND: u8 = 0x02;
    /// RECV.
    pub const RECV: u8 = 0x03;
    /// PEEK.
    pub const PEEK: u8 = 0x04;
    /// TAP.
    pub const TAP: u8 = 0x05;
    /// CLOSE.
    pub const CLOSE: u8 = 0x06;
}

/// Mailbox operation failure; [`MailboxError::status`] gives the guest status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MailboxError {
    /// Unknown or closed handle.
    #[error("invalid handle")]
    InvalidHandle,
    /// `len + 8` exceeds the descriptor capacity.
    #[error("message too large for mailbox capacity")]
    MsgTooLarge,
    /// No room for the message.
    #[error("mailbox full")]
    WouldBlock,
    /// Nothing to receive (poll).
    #[error("no data")]
    NoData,
    /// Descriptor pool exhausted.
    #[error("descriptor pool exhausted")]
    NoDescriptor,
    /// Per-PID handle quota exceeded (errno ENOSPC inside the reference).
    #[error("handle quota exceeded")]
    HandleLimit,
    /// Empty or malformed target string.
    #[error("bad mailbox target")]
    BadTarget,
}

impl MailboxError {
    /// Guest status code (`HSX_MBX_STATUS_*`).
    #[must_use]
    pub const fn status(self) -> u16 {
        match self {
            Self::InvalidHandle => st::INVALID_HANDLE,
            Self::MsgTooLarge => st::MSG_TOO_LARGE,
            Self::WouldBlock => st::WOULDBLOCK,
            Self::NoData => st::NO_DATA,
            Self::NoDescriptor | Self::HandleLimit => st::NO_DESCRIPTOR,
            Self::BadTarget => st::INTERNAL_ERROR,
        }
    }
}

/// Resource profile (`services.md` §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxConfig {
    /// Maximum number of live descriptors.
    pub max_descriptors: u32,
    /// Maximum handles one PID may hold; `None` = unlimited.
    pub handle_limit_per_pid: Option<u32>,
    /// Capacity used when a bind/open gives none.
    pub default_capacity: u32,
    /// Tap copies per 1 s window per tap handle; 0 = unlimited.
    pub tap_rate_limit: u32,
}

impl MailboxConfig {
    /// Host default: 256 descriptors, 64 handles per PID, 64 B, no tap limit.
    #[must_use]
    pub const fn desktop() -> Self {
        Self {
            max_descriptors: 256,
            handle_limit_per_pid: Some(64),
            default_capacity: DEFAULT_CAPACITY,
            tap_rate_limit: 0,
        }
    }

    /// Small MCU: 16 descriptors, 8 handles per PID, 64 B, 20 tap copies/s.
    #[must_use]
    pub const fn embedded() -> Self {
        Self {
            max_descriptors: 16,
            handle_limit_per_pid: Some(8),
            default_capacity: DEFAULT_CAPACITY,
            tap_rate_limit: 20,
        }
    }

    /// Profile by name (`desktop`, `embedded`); unknown names give `None`.
    #[must_use]
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "desktop" => Some(Self::desktop()),
            "embedded" => Some(Self::embedded()),
            _ => None,
        }
    }
}

impl Default for MailboxConfig {
    fn default() -> Self {
        Self::desktop()
    }
}

/// One of the three per-task stdio streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StdioStream {
    /// `svc:stdio.in`, fd 0.
    In,
    /// `svc:stdio.out`, fd 1.
    Out,
    /// `svc:stdio.err`, fd 2.
    Err,
}

impl StdioStream {
    /// All streams in fd order.
    pub const ALL: [Self; 3] = [Self::In, Self::Out, Self::Err];

    /// Target string of the caller's own stream.
    #[must_use]
    pub const fn target(self) -> &'static str {
        match self {
            Self::In => STDIO_IN,
            Self::Out => STDIO_OUT,
            Self::Err => STDIO_ERR,
        }
    }

    /// Descriptor name inside the svc namespace.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::In => "stdio.in",
            Self::Out => "stdio.out",
            Self::Err => "stdio.err",
        }
    }

    /// Stream for `in`/`stdin`, `out`/`stdout`, `err`/`stderr` (case-insensitive).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.trim();
        if n.eq_ignore_ascii_case("in") || n.eq_ignore_ascii_case("stdin") {
            Some(Self::In)
        } else if n.eq_ignore_ascii_case("out") || n.eq_ignore_ascii_case("stdout") {
            Some(Self::Out)
        } else if n.eq_ignore_ascii_case("err") || n.eq_ignore_ascii_case("stderr") {
            Some(Self::Err)
        } else {
            None
        }
    }

    /// Stream for a stdio fd (0, 1, 2).
    #[must_use]
    pub const fn from_fd(fd: u32) -> Option<Self> {
        match fd {
            0 => Some(Self::In),
            1 => Some(Self::Out),
            2 => Some(Self::Err),
            _ => None,
        }
    }

    /// Message flags a write to this stream carries.
    #[must_use]
    pub const fn write_flags(self) -> u16 {
        match self {
            Self::In => 0,
            Self::Out => msg_flag::STDOUT,
            Self::Err => msg_flag::STDERR,
        }
    }

    const fn index(self) -> usize {
        match self {
            Self::In => 0,
            Self::Out => 1,
            Self::Err => 2,
        }
    }
}

/// The three handles opened for a task at load (its fd table 0/1/2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdioHandles {
    /// Handle on `svc:stdio.in@pid` (fd 0).
    pub stdin: u32,
    /// Handle on `svc:stdio.out@pid` (fd 1).
    pub stdout: u32,
    /// Handle on `svc:stdio.err@pid` (fd 2).
    pub stderr: u32,
}

impl StdioHandles {
    /// Handle for a stream.
    #[must_use]
    pub const fn get(&self, stream: StdioStream) -> u32 {
        match stream {
            StdioStream::In => self.stdin,
            StdioStream::Out => self.stdout,
            StdioStream::Err => self.stderr,
        }
    }
}

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

/// Result of [`MailboxManager::recv_or_wait`].
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

/// Why a fan-out message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrunReason {
    /// FANOUT_DROP made room for a new message.
    FanoutDrop,
}

impl OverrunReason {
    /// Protocol spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FanoutDrop => "fanout_drop",
        }
    }
}

/// Which policy refused or dropped a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackpressurePolicy {
    /// Single-reader queue full.
    Single,
    /// Fan-out with FANOUT_BLOCK full.
    FanoutBlock,
    /// Fan-out with drop policy still without room.
    FanoutDrop,
    /// A tap copy exceeded the per-tap rate limit.
    TapRateLimit,
}

impl BackpressurePolicy {
    /// Protocol spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Single => "single",
            Self::FanoutBlock => "fanout_block",
            Self::FanoutDrop => "fanout_drop",
            Self::TapRateLimit => "tap_rate_limit",
        }
    }
}

/// Which pool ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExhaustedReason {
    /// `max_descriptors` reached.
    DescriptorPoolFull,
    /// `handle_limit_per_pid` reached.
    HandleLimit,
}

impl ExhaustedReason {
    /// Protocol spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DescriptorPoolFull => "descriptor_pool_full",
            Self::HandleLimit => "handle_limit",
        }
    }
}

/// Events the manager produces; the executive turns them into protocol events
/// (`mailbox_send`, `mailbox_recv`, `mailbox_wait`, `mailbox_wake`, `mailbox_timeout`,
/// `mailbox_overrun`, `mailbox_backpressure`, `mailbox_exhausted`, `mailbox_error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxEvent {
    /// A message was accepted (also zero-length sends, which enqueue nothing).
    Send {
        /// Sending PID.
        pid: u32,
        /// Descriptor.
        descriptor: u32,
        /// Sender's handle.
        handle: u32,
        /// Payload length.
        length: u32,
        /// Message flags.
        flags: u16,
        /// Channel.
        channel: u16,
    },
    /// An immediate receive succeeded (not emitted for wakes).
    Recv {
        /// Receiving PID.
        pid: u32,
        /// Descriptor.
        descriptor: u32,
        /// Receiver's handle.
        handle: u32,
        /// Copied length.
        length: u32,
        /// Flags delivered.
        flags: u16,
        /// Channel.
        channel: u16,
        /// Sender PID.
        src_pid: u32,
    },
    /// A task blocked in RECV.
    Wait {
        /// Waiting PID.
        pid: u32,
        /// Descriptor.
        descriptor: u32,
        /// Handle.
        handle: u32,
        /// Requested timeout.
        timeout: u16,
        /// Absolute deadline, `None` = infinite.
        deadline_ms: Option<u64>,
    },
    /// A blocked receive completed with data (or with INVALID_HANDLE on close).
    Wake {
        /// Woken PID.
        pid: u32,
        /// Descriptor.
        descriptor: u32,
        /// Handle.
        handle: u32,
        /// Completion status.
        status: u16,
        /// Copied length.
        length: u32,
        /// Flags delivered.
        flags: u16,
        /// Channel.
        channel: u16,
        /// Sender PID.
        src_pid: u32,
    },
    /// A blocked receive expired.
    Timeout {
        /// PID.
        pid: u32,
        /// Descriptor.
        descriptor: u32,
        /// Handle.
        handle: u32,
    },
    /// A queued fan-out message was dropped.
    Overrun {
        /// Sender of the dropped message.
        pid: u32,
        /// Descriptor.
        descriptor: u32,
        /// Its seq.
        dropped_seq: u64,
        /// Its length.
        dropped_length: u32,
        /// Its flags.
        dropped_flags: u16,
        /// Its channel.
        channel: u16,
        /// Why.
        reason: OverrunReason,
        /// Queue depth after the drop.
        queue_depth: u32,
    },
    /// A send was refused or a tap copy dropped.
    Backpressure {
        /// Descriptor.
        descriptor: u32,
        /// Policy.
        policy: BackpressurePolicy,
        /// Capacity.
        capacity: u32,
        /// Bytes used at the time.
        bytes_used: u32,
        /// Cost of the refused message (0 for tap rate limiting).
        requested: u32,
        /// `(pid, handle)` of the tap for `TapRateLimit`.
        tap: Option<(u32, u32)>,
        /// The tap rate limit for `TapRateLimit`.
        limit: u32,
    },
    /// A pool ran out.
    Exhausted {
        /// Which pool.
        reason: ExhaustedReason,
        /// PID that hit the handle quota.
        pid: Option<u32>,
        /// Pool limit.
        limit: u32,
        /// Target of a failed bind (descriptor pool).
        target: Option<String>,
    },
    /// A mailbox SVC failed (pushed by the bridge via [`MailboxManager::report_error`]).
    Error {
        /// Calling PID.
        pid: u32,
        /// SVC function number.
        fn_id: u8,
        /// Status returned.
        status: u16,
    },
}

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

/// Per-PID counters (`MAILBOX_STEP`, `MAILBOX_WAKE`, `MAILBOX_TIMEOUT`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PidCounters {
    /// SEND/RECV SVCs (counted by the bridge through [`MailboxManager::count_step`]).
    pub step: u64,
    /// Blocked receives completed with data.
    pub wake: u64,
    /// Blocked receives that timed out.
    pub timeout: u64,
}

/// What [`MailboxManager::release_pid`] released.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseReport {
    /// Handles closed.
    pub handles_closed: u32,
    /// Whether a pending wait was cancelled.
    pub wait_cancelled: bool,
    /// Descriptors freed.
    pub descriptors_freed: Vec<u32>,
}

/// The narrow mailbox interface the value/command registry needs (subscriptions and
/// command replies).
pub trait MailboxPort {
    /// Open a handle for `pid` on `target`.
    ///
    /// # Errors
    /// Any [`MailboxError`] from the open.
    fn open(&mut self, pid: u32, target: &str) -> Result<u32, MailboxError>;
    /// Send `data` (flags 0, channel 0) on `pid`'s `handle`.
    ///
    /// # Errors
    /// Any [`MailboxError`] from the send.
    fn post(&mut self, pid: u32, handle: u32, data: &[u8]) -> Result<(), MailboxError>;
    /// Close `pid`'s `handle`, ignoring unknown handles.
    fn close(&mut self, pid: u32, handle: u32);
}

// ------------------------------------------------------------------------------------------
// Internal state

#[derive(Debug, Clone)]
struct Message {
    payload: Vec<u8>,
    flags: u16,
    channel: u16,
    src_pid: u32,
    seq: u64,
}

impl Message {
    fn cost(&self) -> u32 {
        len_u32(self.payload.len()).saturating_add(MESSAGE_OVERHEAD)
    }
}

#[derive(Debug, Clone, Default)]
struct TapState {
    queue: VecDeque<Message>,
    bytes: u32,
    pending_overrun: bool,
    window_start: Option<u64>,
    window_count: u32,
}

#[derive(Debug, Clone)]
struct HandleState {
    descriptor: u32,
    /// Fan-out cursor: the handle sees messages with `seq >= cursor`.
    cursor: u64,
    pending_overrun: bool,
    is_sender: bool,
    /// Has received (or tried to) at least once.
    has_read: bool,
    /// Opened by the executive on the task's behalf (stdio fd table).
    implicit: bool,
    tap: Option<TapState>,
}

impl HandleState {
    /// Whether this handle holds fan-out messages back from reclamation.
    fn is_reader(&self) -> bool {
        self.tap.is_none() && !self.is_sender && (self.has_read || !self.implicit)
    }
}

#[derive(Debug, Clone)]
struct Descriptor {
    id: u32,
    key: TargetKey,
    capacity: u32,
    mode: u16,
    queue: VecDeque<Message>,
    bytes_used: u32,
    next_seq: u64,
    waiters: VecDeque<u32>,
    taps: Vec<(u32, u32)>,
    members: Vec<(u32, u32)>,
    owner_exited: bool,
    sent: u64,
    received: u64,
    dropped: u64,
}

impl Descriptor {
    fn fanout(&self) -> bool {
        self.mode & mode::FANOUT != 0
    }

    fn free_space(&self) -> u32 {
        self.capacity.saturating_sub(self.bytes_used)
    }

    fn head_seq(&self) -> u64 {
        self.queue.front().map_or(self.next_seq, |m| m.seq)
    }

    fn pop_head(&mut self) -> Option<Message> {
        let m = self.queue.pop_front()?;
        self.bytes_used = self.bytes_used.saturating_sub(m.cost());
        Some(m)
    }
}

#[derive(Debug, Clone, Default)]
struct PidTable {
    next_handle: u32,
    handles: BTreeMap<u32, HandleState>,
    stdio: Option<StdioHandles>,
    counters: PidCounters,
}

#[derive(Debug, Clone, Copy)]
struct WaitRecord {
    descriptor: u32,
    req: RecvRequest,
    deadline: Option<u64>,
}

type Handles = BTreeMap<u32, PidTable>;

fn handle_mut(pids: &mut Handles, pid: u32, handle: u32) -> Option<&mut HandleState> {
    pids.get_mut(&pid)?.handles.get_mut(&handle)
}

fn handle_ref(pids: &Handles, pid: u32, handle: u32) -> Option<&HandleState> {
    pids.get(&pid)?.handles.get(&handle)
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn depth_u32(q: &VecDeque<Message>) -> u32 {
    len_u32(q.len())
}

/// The mailbox manager. See the module documentation.
#[derive(Debug, Clone)]
pub struct MailboxManager {
    config: MailboxConfig,
    descriptors: BTreeMap<u32, Descriptor>,
    lookup: BTreeMap<TargetKey, u32>,
    pids: Handles,
    waits: BTreeMap<u32, WaitRecord>,
    next_descriptor_id: u32,
    stdio_modes: [u16; 3],
    exited: BTreeSet<u32>,
    now_ms: u64,
    events: Bounded<MailboxEvent>,
    completions: VecDeque<Completion>,
    pool_exhausted: bool,
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
        };
        Self {
            config,
            descriptors: BTreeMap::new(),
            lookup: BTreeMap::new(),
            pids: BTreeMap::new(),
            waits: BTreeMap::new(),
            next_descriptor_id: 1,
            stdio_modes: [mode::RDWR; 3],
            exited: BTreeSet::new(),
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

    fn emit(&mut self, ev: MailboxEvent) {
        self.events.push(ev);
    }

    // ------------------------------------------------------------------ bind / open / close

    /// Parse `target` for `pid`.
    ///
    /// # Errors
    /// [`MailboxError::BadTarget`].
    pub fn parse_target(&self, pid: u32, target: &str) -> Result<TargetKey, MailboxError> {
        TargetKey::parse(pid, target)
    }

    /// BIND: create the descriptor if absent, else resize (non-zero capacity) and/or change
    /// mode (non-zero mode; re-initialises every handle's cursor). Returns the descriptor id.
    ///
    /// # Errors
    /// [`MailboxError::BadTarget`], [`MailboxError::NoDescriptor`].
    pub fn bind(
        &mut self,
        pid: u32,
        target: &str,
        capacity: u32,
        mode_mask: u16,
    ) -> Result<u32, MailboxError> {
        let key = TargetKey::parse(pid, target)?;
        self.bind_key(key, capacity, mode_mask)
    }

    /// BIND by an already parsed key.
    ///
    /// # Errors
    /// [`MailboxError::NoDescriptor`].
    pub fn bind_key(
        &mut self,
        key: TargetKey,
        capacity: u32,
        mode_mask: u16,
    ) -> Result<u32, MailboxError> {
        if let Some(&id) = self.lookup.get(&key) {
            let mut resized = false;
            if let Some(d) = self.descriptors.get_mut(&id)
                && capacity > 0
                && capacity != d.capacity
            {
                d.capacity = capacity;
                resized = true;
            }
            if resized {
                self.enforce_capacity(id);
            }
            if mode_mask != 0 {
                self.apply_mode(id, mode_mask);
            }
            return Ok(id);
        }
        if len_u32(self.descriptors.len()) >= self.config.max_descriptors {
            self.pool_exhausted = true;
            let limit = self.config.max_descriptors;
            let target = Some(key.to_target());
            self.emit(MailboxEvent::Exhausted {
                reason: ExhaustedReason::DescriptorPoolFull,
                pid: None,
                limit,
                target,
            });
            return Err(MailboxError::NoDescriptor);
        }
        let id = self.next_descriptor_id;
        self.next_descriptor_id = self.next_descriptor_id.saturating_add(1);
        let owner_exited = key.owner.is_some_and(|o| self.exited.contains(&o));
        let desc = Descriptor {
            id,
            key: key.clone(),
            capacity: if capacity > 0 {
                capacity
            } else {
                self.config.default_capacity
            },
            mode: mode_mask,
            queue: VecDeque::new(),
            bytes_used: 0,
            next_seq: 0,
            waiters: VecDeque::new(),
            taps: Vec::new(),
            members: Vec::new(),
            owner_exited,
            sent: 0,
            received: 0,
            dropped: 0,
        };
        self.descriptors.insert(id, desc);
        self.lookup.insert(key, id);
        self.pool_exhausted = len_u32(self.descriptors.len()) >= self.config.max_descriptors;
        Ok(id)
    }

    /// OPEN: bind with defaults if missing (mode 0), then allocate a handle for `pid`.
    ///
    /// # Errors
    /// [`MailboxError::BadTarget`], [`MailboxError::NoDescriptor`],
    /// [`MailboxError::HandleLimit`] (status NO_DESCRIPTOR).
    pub fn open(&mut self, pid: u32, target: &str) -> Result<u32, MailboxError> {
        self.open_inner(pid, target, false)
    }

    fn open_inner(&mut self, pid: u32, target: &str, implicit: bool) -> Result<u32, MailboxError> {
        let key = TargetKey::parse(pid, target)?;
        let id = self.bind_key(key, 0, 0)?;
        let table = self.pids.entry(pid).or_default();
        if let Some(limit) = self.config.handle_limit_per_pid
            && len_u32(table.handles.len()) >= limit
        {
            self.emit(MailboxEvent::Exhausted {
                reason: ExhaustedReason::HandleLimit,
                pid: Some(pid),
                limit,
                target: None,
            });
            return Err(MailboxError::HandleLimit);
        }
        let handle = alloc_handle(table).ok_or(MailboxError::HandleLimit)?;
        let Some(desc) = self.descriptors.get_mut(&id) else {
            return Err(MailboxError::NoDescriptor);
        };
        let state = HandleState {
            descriptor: id,
            cursor: if desc.fanout() { desc.next_seq } else { 0 },
            pending_overrun: false,
            is_sender: false,
            has_read: false,
            implicit,
            tap: None,
        };
        desc.members.push((pid, handle));
        table.handles.insert(handle, state);
        Ok(handle)
    }

    /// CLOSE. A task blocked on this handle is completed with INVALID_HANDLE. The
    /// descriptor is freed if its owner has exited and this was its last handle.
    ///
    /// # Errors
    /// [`MailboxError::InvalidHandle`].
    pub fn close(&mut self, pid: u32, handle: u32) -> Result<(), MailboxError> {
        let id = self.remove_handle(pid, handle)?;
        if self
            .waits
            .get(&pid)
            .is_some_and(|w| w.req.handle == handle && w.descriptor == id)
            && let Some(c) = self.finish_wait(pid, st::INVALID_HANDLE, None)
        {
            self.completions.push_back(c);
        }
        self.reclaim(id);
        self.maybe_free(id);
        Ok(())
    }

    fn remove_handle(&mut self, pid: u32, handle: u32) -> Result<u32, MailboxError> {
        let table = self.pids.get_mut(&pid).ok_or(MailboxError::InvalidHandle)?;
        let state = table
            .handles
            .remove(&handle)
            .ok_or(MailboxError::InvalidHandle)?;
        if let Some(s) = table.stdio
            && (s.stdin == handle || s.stdout == handle || s.stderr == handle)
        {
            table.stdio = None;
        }
        let id = state.descriptor;
        if let Some(d) = self.descriptors.get_mut(&id) {
            d.members.retain(|m| *m != (pid, handle));
            d.taps.retain(|m| *m != (pid, handle));
        }
        Ok(id)
    }

    fn maybe_free(&mut self, id: u32) -> bool {
        let free = self
            .descriptors
            .get(&id)
            .is_some_and(|d| d.owner_exited && d.members.is_empty());
        if free {
            if let Some(d) = self.descriptors.remove(&id) {
                self.lookup.remove(&d.key);
            }
            self.pool_exhausted = len_u32(self.descriptors.len()) >= self.config.max_descriptors;
        }
        free
    }

    /// Descriptor id behind `pid`'s `handle`.
    ///
    /// # Errors
    /// [`MailboxError::InvalidHandle`].
    pub fn descriptor_of(&self, pid: u32, handle: u32) -> Result<u32, MailboxError> {
        handle_ref(&self.pids, pid, handle)
            .map(|h| h.descriptor)
            .ok_or(MailboxError::InvalidHandle)
    }

    /// Descriptor id for a target as seen by `pid`, if it exists.
    #[must_use]
    pub fn find(&self, pid: u32, target: &str) -> Option<u32> {
        let key = TargetKey::parse(pid, target).ok()?;
        self.lookup.get(&key).copied()
    }

    /// Whether `pid` holds `handle`.
    #[must_use]
    pub fn has_handle(&self, pid: u32, handle: u32) -> bool {
        handle_ref(&self.pids, pid, handle).is_some()
    }

    // ---------------------------------------------------------------------------- send

    /// SEND `payload` on `pid`'s `handle`. Zero-length payloads succeed without enqueuing
    /// anything. On success taps get their copies and waiting receivers are woken.
    ///
    /// # Errors
    /// [`MailboxError::InvalidHandle`], [`MailboxError::MsgTooLarge`],
    /// [`MailboxError::WouldBlock`].
    pub fn send(
        &mut self,
        pid: u32,
        handle: u32,
        payload: &[u8],
        flags: u16,
        channel: u16,
    ) -> Result<SendReport, MailboxError> {
        let h = handle_mut(&mut self.pids, pid, handle).ok_or(MailboxError::InvalidHandle)?;
        h.is_sender = true;
        let id = h.descriptor;
        if !self.descriptors.contains_key(&id) {
            return Err(MailboxError::InvalidHandle);
        }
        let length = len_u32(payload.len());
        if !payload.is_empty() {
            self.enqueue(id, payload, flags, channel, pid)?;
        }
        self.emit(MailboxEvent::Send {
            pid,
            descriptor: id,
            handle,
            length,
            flags,
            channel,
        });
        if !payload.is_empty() {
            self.deliver_waiters(id);
        }
        Ok(SendReport {
            bytes: length,
            descriptor: id,
        })
    }

    /// Open a temporary handle on `target`, send, close (shell `send`, RPC sends without
    /// a handle).
    ///
    /// # Errors
    /// Any error of [`Self::open`] or [`Self::send`].
    pub fn send_to_target(
        &mut self,
        pid: u32,
        target: &str,
        payload: &[u8],
        flags: u16,
        channel: u16,
    ) -> Result<SendReport, MailboxError> {
        let handle = self.open(pid, target)?;
        let result = self.send(pid, handle, payload, flags, channel);
        let _ = self.close(pid, handle);
        result
    }

    fn enqueue(
        &mut self,
        id: u32,
        payload: &[u8],
        flags: u16,
        channel: u16,
        src_pid: u32,
    ) -> Result<(), MailboxError> {
        let Some(d) = self.descriptors.get(&id) else {
            return Err(MailboxError::InvalidHandle);
        };
        let cost = len_u32(payload.len()).saturating_add(MESSAGE_OVERHEAD);
        if cost > d.capacity {
            return Err(MailboxError::MsgTooLarge);
        }
        if d.fanout() {
            self.reclaim(id);
            let Some(d) = self.descriptors.get(&id) else {
                return Err(MailboxError::InvalidHandle);
            };
            if d.mode & mode::FANOUT_BLOCK != 0 {
                if cost > d.free_space() {
                    // Idle handles must not stall the producer: reclaim what every
                    // active reader has consumed, flagging the idle ones.
                    self.reclaim_past_idle(id);
                }
            } else {
                self.drop_for_room(id, cost);
            }
        }
        let Some(d) = self.descriptors.get_mut(&id) else {
            return Err(MailboxError::InvalidHandle);
        };
        if cost > d.free_space() {
            let policy = if !d.fanout() {
                BackpressurePolicy::Single
            } else if d.mode & mode::FANOUT_BLOCK != 0 {
                BackpressurePolicy::FanoutBlock
            } else {
                BackpressurePolicy::FanoutDrop
            };
            let ev = MailboxEvent::Backpressure {
                descriptor: id,
                policy,
                capacity: d.capacity,
                bytes_used: d.bytes_used,
                requested: cost,
                tap: None,
                limit: 0,
            };
            self.emit(ev);
            return Err(MailboxError::WouldBlock);
        }
        let msg = Message {
            payload: payload.to_vec(),
            flags,
            channel,
            src_pid,
            seq: d.next_seq,
        };
        d.next_seq = d.next_seq.saturating_add(1);
        d.bytes_used = d.bytes_used.saturating_add(cost);
        d.sent = d.sent.saturating_add(1);
        // A second copy of the payload only when some tap wants it.
        if d.taps.is_empty() {
            d.queue.push_back(msg);
        } else {
            d.queue.push_back(msg.clone());
            self.deliver_to_taps(id, &msg);
        }
        Ok(())
    }

    fn drop_for_room(&mut self, id: u32, cost: u32) {
        loop {
            let Some(d) = self.descriptors.get_mut(&id) else {
                return;
            };
            if cost <= d.free_space() {
                return;
            }
            let Some(dropped) = d.pop_head() else {
                return;
            };
            d.dropped = d.dropped.saturating_add(1);
            let depth = depth_u32(&d.queue);
            mark_overrun(&mut self.pids, d, dropped.seq);
            self.emit(MailboxEvent::Overrun {
                pid: dropped.src_pid,
                descriptor: id,
                dropped_seq: dropped.seq,
                dropped_length: len_u32(dropped.payload.len()),
                dropped_flags: dropped.flags,
                channel: dropped.channel,
                reason: OverrunReason::FanoutDrop,
                queue_depth: depth,
            });
        }
    }

    fn deliver_to_taps(&mut self, id: u32, msg: &Message) {
        let Some(d) = self.descriptors.get(&id) else {
            return;
        };
        if d.taps.is_empty() {
            return;
        }
        let taps = d.taps.clone();
        let capacity = d.capacity;
        let bytes_used = d.bytes_used;
        let limit = self.config.tap_rate_limit;
        let now = self.now_ms;
        let cost = msg.cost();
        for (tpid, th) in taps {
            let Some(tap) = handle_mut(&mut self.pids, tpid, th).and_then(|h| h.tap.as_mut())
            else {
                continue;
            };
            if limit > 0 {
                let fresh = tap
                    .window_start
                    .is_none_or(|s| now.saturating_sub(s) >= TAP_RATE_WINDOW_MS);
                if fresh {
                    tap.window_start = Some(now);
                    tap.window_count = 0;
                }
                if tap.window_count >= limit {
                    tap.pending_overrun = true;
                    self.emit(MailboxEvent::Backpressure {
                        descriptor: id,
                        policy: BackpressurePolicy::TapRateLimit,
                        capacity,
                        bytes_used,
                        requested: 0,
                        tap: Some((tpid, th)),
                        limit,
                    });
                    continue;
                }
                tap.window_count += 1;
            }
            while tap.bytes.saturating_add(cost) > capacity {
                let Some(old) = tap.queue.pop_front() else {
                    break;
                };
                tap.bytes = tap.bytes.saturating_sub(old.cost());
                tap.pending_overrun = true;
            }
            if tap.bytes.saturating_add(cost) > capacity {
                tap.pending_overrun = true;
                continue;
            }
            tap.bytes = tap.bytes.saturating_add(cost);
            tap.queue.push_back(msg.clone());
        }
    }

    // ---------------------------------------------------------------------------- recv

    /// Poll RECV: the next message for `pid`'s `handle`, truncated to `max_len`, or `None`.
    /// Emits `Recv` on success; never records a waiter.
    ///
    /// # Errors
    /// [`MailboxError::InvalidHandle`].
    pub fn recv(
        &mut self,
        pid: u32,
        handle: u32,
        max_len: u32,
    ) -> Result<Option<Received>, MailboxError> {
        let got = self.recv_inner(pid, handle, max_len)?;
        if let Some(m) = &got {
            self.emit(MailboxEvent::Recv {
                pid,
                descriptor: m.descriptor,
                handle,
                length: len_u32(m.data.len()),
                flags: m.flags,
                channel: m.channel,
                src_pid: m.src_pid,
            });
        }
        Ok(got)
    }

    /// Guest RECV: receive now, or report NO_DATA for a poll, or register a wait and report
    /// `Blocked` (the caller parks the task and arms a timer for the deadline).
    ///
    /// # Errors
    /// [`MailboxError::InvalidHandle`].
    pub fn recv_or_wait(
        &mut self,
        pid: u32,
        req: RecvRequest,
    ) -> Result<RecvOutcome, MailboxError> {
        if let Some(m) = self.recv(pid, req.handle, req.max_len)? {
            return Ok(RecvOutcome::Message(m));
        }
        if req.timeout == TIMEOUT_POLL {
            return Ok(RecvOutcome::NoData);
        }
        let id = self.descriptor_of(pid, req.handle)?;
        let deadline = (req.timeout != TIMEOUT_INFINITE)
            .then(|| self.now_ms.saturating_add(u64::from(req.timeout.max(1))));
        self.remove_wait(pid);
        self.waits.insert(
            pid,
            WaitRecord {
                descriptor: id,
                req,
                deadline,
            },
        );
        if let Some(d) = self.descriptors.get_mut(&id)
            && !d.waiters.contains(&pid)
        {
            d.waiters.push_back(pid);
        }
        self.emit(MailboxEvent::Wait {
            pid,
            descriptor: id,
            handle: req.handle,
            timeout: req.timeout,
            deadline_ms: deadline,
        });
        Ok(RecvOutcome::Blocked {
            deadline_ms: deadline,
        })
    }

    fn recv_inner(
        &mut self,
        pid: u32,
        handle: u32,
        max_len: u32,
    ) -> Result<Option<Received>, MailboxError> {
        let h = handle_mut(&mut self.pids, pid, handle).ok_or(MailboxError::InvalidHandle)?;
        let id = h.descriptor;
        let Some(d) = self.descriptors.get_mut(&id) else {
            return Err(MailboxError::InvalidHandle);
        };
        h.has_read = true;
        let take = |m: &Message, flags: u16| {
            let n = m.payload.len().min(max_len as usize);
            Received {
                data: m.payload.get(..n).unwrap_or_default().to_vec(),
                original_len: len_u32(m.payload.len()),
                flags,
                channel: m.channel,
                src_pid: m.src_pid,
                descriptor: id,
                seq: m.seq,
            }
        };
        if let Some(tap) = h.tap.as_mut() {
            let Some(m) = tap.queue.pop_front() else {
                return Ok(None);
            };
            tap.bytes = tap.bytes.saturating_sub(m.cost());
            let mut flags = m.flags;
            if core::mem::take(&mut tap.pending_overrun) {
                flags |= msg_flag::OVERRUN;
            }
            return Ok(Some(take(&m, flags)));
        }
        if !d.fanout() {
            let Some(m) = d.pop_head() else {
                return Ok(None);
            };
            d.received = d.received.saturating_add(1);
            return Ok(Some(take(&m, m.flags)));
        }
        let cursor = h.cursor;
        let Some(m) = d.queue.iter().find(|m| m.seq >= cursor) else {
            self.reclaim(id);
            return Ok(None);
        };
        let mut flags = m.flags;
        h.is_sender = false;
        h.cursor = m.seq.saturating_add(1);
        if core::mem::take(&mut h.pending_overrun) {
            flags |= msg_flag::OVERRUN;
        }
        let out = take(m, flags);
        d.received = d.received.saturating_add(1);
        self.reclaim(id);
        Ok(Some(out))
    }

    /// PEEK: queue depth, bytes used and the next message length for this handle.
    ///
    /// # Errors
    /// [`MailboxError::InvalidHandle`].
    pub fn peek(&self, pid: u32, handle: u32) -> Result<PeekInfo, MailboxError> {
        let h = handle_ref(&self.pids, pid, handle).ok_or(MailboxError::InvalidHandle)?;
        let d = self
            .descriptors
            .get(&h.descriptor)
            .ok_or(MailboxError::InvalidHandle)?;
        let next = if let Some(tap) = &h.tap {
            tap.queue.front()
        } else if d.fanout() {
            d.queue.iter().find(|m| m.seq >= h.cursor)
        } else {
            d.queue.front()
        };
        Ok(PeekInfo {
            depth: depth_u32(&d.queue),
            bytes_used: d.bytes_used,
            capacity: d.capacity,
            next_len: next.map_or(0, |m| len_u32(m.payload.len())),
            head_seq: d.head_seq(),
            next_seq: next.map_or(d.next_seq, |m| m.seq),
            mode_mask: d.mode,
        })
    }

    /// TAP: enable (bit 0 set) or disable tapping on `pid`'s `handle`. A tap handle reads
    /// only its own copy buffer; disabling discards the buffer.
    ///
    /// # Errors
    /// [`MailboxError::InvalidHandle`].
    pub fn tap(&mut self, pid: u32, handle: u32, enable: bool) -> Result<(), MailboxError> {
        let h = handle_mut(&mut self.pids, pid, handle).ok_or(MailboxError::InvalidHandle)?;
        let id = h.descriptor;
        if enable {
            match h.tap.as_mut() {
                Some(t) => {
                    t.window_start = None;
                    t.window_count = 0;
                }
                None => h.tap = Some(TapState::default()),
            }
            if let Some(d) = self.descriptors.get_mut(&id)
                && !d.taps.contains(&(pid, handle))
            {
                d.taps.push((pid, handle));
            }
        } else {
            h.tap = None;
            if let Some(d) = self.descriptors.get_mut(&id) {
                d.taps.retain(|m| *m != (pid, handle));
            }
        }
        // A tap no longer holds fan-out messages back (and a former tap now might).
        self.reclaim(id);
        Ok(())
    }

    // ---------------------------------------------------------------- fan-out bookkeeping

    fn reclaim(&mut self, id: u32) {
        let Some(d) = self.descriptors.get_mut(&id) else {
            return;
        };
        if !d.fanout() {
            return;
        }
        while let Some(head) = d.queue.front() {
            if !all_read_past(&self.pids, &d.members, head.seq, HandleState::is_reader) {
                break;
            }
            d.pop_head();
        }
    }

    /// FANOUT_BLOCK under pressure: handles that have never received (idle) stop holding
    /// messages back once every active reader has consumed them; idle handles that had not
    /// reached a reclaimed message get OVERRUN on their next receive.
    fn reclaim_past_idle(&mut self, id: u32) {
        let Some(d) = self.descriptors.get_mut(&id) else {
            return;
        };
        let active = |h: &HandleState| h.is_reader() && h.has_read;
        while let Some(head) = d.queue.front() {
            if !all_read_past(&self.pids, &d.members, head.seq, active) {
                break;
            }
            if let Some(m) = d.pop_head() {
                mark_overrun(&mut self.pids, d, m.seq);
            }
        }
    }

    fn enforce_capacity(&mut self, id: u32) {
        let Some(d) = self.descriptors.get_mut(&id) else {
            return;
        };
        while d.bytes_used > d.capacity {
            let Some(m) = d.pop_head() else {
                break;
            };
            d.dropped = d.dropped.saturating_add(1);
            mark_overrun(&mut self.pids, d, m.seq);
        }
    }

    fn apply_mode(&mut self, id: u32, mode_mask: u16) {
        let Some(d) = self.descriptors.get_mut(&id) else {
            return;
        };
        d.mode = mode_mask;
        let fan = d.fanout();
        let next = d.next_seq;
        for &(p, hd) in &d.members {
            if let Some(h) = handle_mut(&mut self.pids, p, hd) {
                h.cursor = if fan { next } else { 0 };
                h.pending_overrun = false;
                h.is_sender = false;
            }
        }
        self.reclaim(id);
        self.enforce_capacity(id);
    }

    // --------------------------------------------------------------------------- waits

    fn deliver_waiters(&mut self, id: u32) {
        let Some(d) = self.descriptors.get(&id) else {
            return;
        };
        if d.waiters.is_empty() {
            return;
        }
        let fan = d.fanout();
        let mut idx = 0usize;
        while let Some(&pid) = self.descriptors.get(&id).and_then(|d| d.waiters.get(idx)) {
            let rec = self.waits.get(&pid).copied();
            let valid = rec.filter(|r| {
                r.descriptor == id
                    && handle_ref(&self.pids, pid, r.req.handle).is_some_and(|h| h.descriptor == id)
            });
            let Some(rec) = valid else {
                // Stale entry (wait gone or handle closed): drop it.
                if let Some(d) = self.descriptors.get_mut(&id) {
                    d.waiters.remove(idx);
                }
                continue;
            };
            let is_tap =
                handle_ref(&self.pids, pid, rec.req.handle).is_some_and(|h| h.tap.is_some());
            match self.recv_inner(pid, rec.req.handle, rec.req.max_len) {
                Ok(Some(m)) => {
                    if let Some(c) = self.finish_wait(pid, st::OK, Some(m)) {
                        self.completions.push_back(c);
                    }
                    // finish_wait removed `pid` at `idx`; stay on this index.
                }
                Ok(None) => {
                    // Taps never block the single-reader FIFO; a regular reader that got
                    // nothing means the queue is drained.
                    if !fan && !is_tap {
                        break;
                    }
                    idx += 1;
                }
                Err(_) => {
                    self.waits.remove(&pid);
                    if let Some(d) = self.descriptors.get_mut(&id) {
                        d.waiters.remove(idx);
                    }
                }
            }
        }
    }

    fn finish_wait(
        &mut self,
        pid: u32,
        status: u16,
        message: Option<Received>,
    ) -> Option<Completion> {
        let rec = self.remove_wait(pid)?;
        let counters = &mut self.pids.entry(pid).or_default().counters;
        if status == st::TIMEOUT {
            counters.timeout = counters.timeout.saturating_add(1);
            self.emit(MailboxEvent::Timeout {
                pid,
                descriptor: rec.descriptor,
                handle: rec.req.handle,
            });
        } else {
            if status == st::OK {
                counters.wake = counters.wake.saturating_add(1);
            }
            let (length, flags, channel, src_pid) = message.as_ref().map_or((0, 0, 0, 0), |m| {
                (len_u32(m.data.len()), m.flags, m.channel, m.src_pid)
            });
            self.emit(MailboxEvent::Wake {
                pid,
                descriptor: rec.descriptor,
                handle: rec.req.handle,
                status,
                length,
                flags,
                channel,
                src_pid,
            });
        }
        Some(Completion {
            pid,
            handle: rec.req.handle,
            descriptor: rec.descriptor,
            buf_ptr: rec.req.buf_ptr,
            info_ptr: rec.req.info_ptr,
            status,
            message,
        })
    }

    /// Take the completed waits produced since the last call (FIFO).
    pub fn take_completions(&mut self) -> VecDeque<Completion> {
        core::mem::take(&mut self.completions)
    }

    /// Whether completions are waiting to be taken.
    #[must_use]
    pub fn has_completions(&self) -> bool {
        !self.completions.is_empty()
    }

    /// Time out `pid`'s wait now (the caller's timer fired). Returns the TIMEOUT completion,
    /// or `None` if the task is not waiting (e.g. it was woken first).
    pub fn expire(&mut self, pid: u32) -> Option<Completion> {
        self.finish_wait(pid, st::TIMEOUT, None)
    }

    /// Time out every wait whose deadline is `<= now_ms`, earliest first.
    pub fn expire_due(&mut self, now_ms: u64) -> Vec<Completion> {
        let mut due: Vec<(u64, u32)> = self
            .waits
            .iter()
            .filter_map(|(pid, w)| w.deadline.filter(|d| *d <= now_ms).map(|d| (d, *pid)))
            .collect();
        due.sort_unstable();
        due.into_iter()
            .filter_map(|(_, pid)| self.expire(pid))
            .collect()
    }

    /// Earliest wait deadline.
    #[must_use]
    pub fn next_deadline(&self) -> Option<u64> {
        self.waits.values().filter_map(|w| w.deadline).min()
    }

    /// Drop `pid`'s wait without completing it. Returns whether one existed.
    pub fn cancel_wait(&mut self, pid: u32) -> bool {
        self.remove_wait(pid).is_some()
    }

    /// Forget `pid`'s wait record and its place in the descriptor's waiter queue.
    fn remove_wait(&mut self, pid: u32) -> Option<WaitRecord> {
        let rec = self.waits.remove(&pid)?;
        if let Some(d) = self.descriptors.get_mut(&rec.descriptor) {
            d.waiters.retain(|p| *p != pid);
        }
        Some(rec)
    }

    /// Whether `pid` is blocked in RECV, and on which `(descriptor, handle, deadline)`.
    #[must_use]
    pub fn waiting(&self, pid: u32) -> Option<(u32, u32, Option<u64>)> {
        self.waits
            .get(&pid)
            .map(|w| (w.descriptor, w.req.handle, w.deadline))
    }

    // --------------------------------------------------------------------- tasks & stdio

    /// Create a task's default mailboxes (`svc:stdio.in/out/err` with the stdio template
    /// modes, `pid:<pid>` RDWR) and open its three stdio handles (normally 1, 2, 3).
    /// Idempotent: existing stdio handles are kept.
    ///
    /// # Errors
    /// [`MailboxError::NoDescriptor`] / [`MailboxError::HandleLimit`] when the profile has no
    /// room; the caller should then [`Self::release_pid`].
    pub fn register_task(&mut self, pid: u32) -> Result<StdioHandles, MailboxError> {
        self.exited.remove(&pid);
        for s in StdioStream::ALL {
            let m = self.stdio_modes[s.index()];
            self.bind(pid, s.target(), 0, m)?;
        }
        self.bind_key(
            TargetKey {
                namespace: Namespace::Pid,
                name: alloc::format!("pid:{pid}"),
                owner: Some(pid),
            },
            0,
            mode::RDWR,
        )?;
        if let Some(s) = self.pids.get(&pid).and_then(|t| t.stdio) {
            return Ok(s);
        }
        let stdin = self.open_inner(pid, STDIO_IN, true)?;
        let stdout = self.open_inner(pid, STDIO_OUT, true)?;
        let stderr = self.open_inner(pid, STDIO_ERR, true)?;
        let handles = StdioHandles {
            stdin,
            stdout,
            stderr,
        };
        if let Some(t) = self.pids.get_mut(&pid) {
            t.stdio = Some(handles);
        }
        Ok(handles)
    }

    /// The task's stdio handles, if registered and still open.
    #[must_use]
    pub fn stdio_handles(&self, pid: u32) -> Option<StdioHandles> {
        self.pids.get(&pid).and_then(|t| t.stdio)
    }

    /// FS_WRITE routing for fds 0/1/2: `None` when the fd is not a stdio fd of this task or
    /// `data` is empty (the caller falls through to the file system); otherwise the length
    /// written, or 0 if the mailbox refused the message.
    pub fn write_stdio(&mut self, pid: u32, fd: u32, data: &[u8]) -> Option<u32> {
        let stream = StdioStream::from_fd(fd)?;
        let handles = self.stdio_handles(pid)?;
        if data.is_empty() {
            return None;
        }
        let handle = handles.get(stream);
        Some(
            self.send(pid, handle, data, stream.write_flags(), 0)
                .map_or(0, |r| r.bytes),
        )
    }

    /// Stdio template mode used for newly registered tasks.
    #[must_use]
    pub const fn default_stdio_mode(&self, stream: StdioStream) -> u16 {
        self.stdio_modes[stream.index()]
    }

    /// Set the template mode; with `update_existing` also rebind every existing descriptor of
    /// that stream (which resets fan-out cursors). Returns the descriptors updated.
    pub fn set_default_stdio_mode(
        &mut self,
        stream: StdioStream,
        mode_mask: u16,
        update_existing: bool,
    ) -> Vec<u32> {
        self.stdio_modes[stream.index()] = mode_mask;
        if !update_existing {
            return Vec::new();
        }
        let ids: Vec<u32> = self
            .descriptors
            .values()
            .filter(|d| d.key.namespace == Namespace::Svc && d.key.name == stream.name())
            .map(|d| d.id)
            .collect();
        for &id in &ids {
            self.apply_mode(id, mode_mask);
        }
        ids
    }

    /// Current mode of `pid`'s stream (template value if its descriptor does not exist).
    #[must_use]
    pub fn stdio_mode(&self, pid: u32, stream: StdioStream) -> u16 {
        let key = TargetKey {
            namespace: Namespace::Svc,
            name: String::from(stream.name()),
            owner: Some(pid),
        };
        self.lookup
            .get(&key)
            .and_then(|id| self.descriptors.get(id))
            .map_or(self.stdio_modes[stream.index()], |d| d.mode)
    }

    /// Release everything `pid` holds (exit and kill): its wait, handles and taps; its
    /// owned descriptors are freed now if no handle remains, else with their last handle.
    pub fn release_pid(&mut self, pid: u32) -> ReleaseReport {
        let mut report = ReleaseReport {
            wait_cancelled: self.cancel_wait(pid),
            ..ReleaseReport::default()
        };
        let handles: Vec<u32> = self
            .pids
            .get(&pid)
            .map(|t| t.handles.keys().copied().collect())
            .unwrap_or_default();
        let mut touched = BTreeSet::new();
        for h in handles {
            if let Ok(id) = self.remove_handle(pid, h) {
                report.handles_closed += 1;
                touched.insert(id);
            }
        }
        for d in self.descriptors.values_mut() {
            d.waiters.retain(|p| *p != pid);
            if d.key.owner == Some(pid) {
                d.owner_exited = true;
                touched.insert(d.id);
            }
        }
        for id in touched {
            self.reclaim(id);
            if self.maybe_free(id) {
                report.descriptors_freed.push(id);
            }
        }
        self.pids.remove(&pid);
        self.exited.insert(pid);
        report
    }

    /// Count one SEND/RECV SVC for `pid` (`MAILBOX_STEP`).
    pub fn count_step(&mut self, pid: u32) {
        let c = &mut self.pids.entry(pid).or_default().counters;
        c.step = c.step.saturating_add(1);
    }

    /// Per-PID counters.
    #[must_use]
    pub fn counters(&self, pid: u32) -> PidCounters {
        self.pids.get(&pid).map(|t| t.counters).unwrap_or_default()
    }

    // -------------------------------------------------------------------- introspection

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

fn alloc_handle(table: &mut PidTable) -> Option<u32> {
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

/// Whether at least one member handle selected by `counts` exists and every such handle has
/// read past message `seq`.
fn all_read_past(
    pids: &Handles,
    members: &[(u32, u32)],
    seq: u64,
    counts: impl Fn(&HandleState) -> bool,
) -> bool {
    let mut any = false;
    for &(p, hd) in members {
        if let Some(h) = handle_ref(pids, p, hd)
            && counts(h)
        {
            if h.cursor <= seq {
                return false;
            }
            any = true;
        }
    }
    any
}

fn mark_overrun(pids: &mut Handles, d: &Descriptor, seq: u64) {
    for &(p, hd) in &d.members {
        if let Some(h) = handle_mut(pids, p, hd)
            && h.tap.is_none()
            && !h.is_sender
            && h.cursor <= seq
        {
            h.pending_overrun = true;
        }
    }
}

impl MailboxPort for MailboxManager {
    fn open(&mut self, pid: u32, target: &str) -> Result<u32, MailboxError> {
        Self::open(self, pid, target)
    }

    fn post(&mut self, pid: u32, handle: u32, data: &[u8]) -> Result<(), MailboxError> {
        self.send(pid, handle, data, 0, 0).map(|_| ())
    }

    fn close(&mut self, pid: u32, handle: u32) {
        let _ = Self::close(self, pid, handle);
    }
}
