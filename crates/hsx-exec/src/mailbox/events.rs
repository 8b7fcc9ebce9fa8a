//! The events the mailbox manager records; the executive turns them into protocol events.
//! They live here, not in `crate::event`, so that the manager depends on nothing above it.

use alloc::string::String;

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
    /// `descriptors_per_task` reached by the task.
    DescriptorQuota,
    /// The pool is down to `load_reserve`: a task may not create more.
    DescriptorReserve,
}

impl ExhaustedReason {
    /// Protocol spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DescriptorPoolFull => "descriptor_pool_full",
            Self::HandleLimit => "handle_limit",
            Self::DescriptorQuota => "descriptor_quota",
            Self::DescriptorReserve => "descriptor_reserve",
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
    /// A mailbox SVC failed (pushed by the bridge via
    /// [`MailboxManager::report_error`](crate::mailbox::MailboxManager::report_error)).
    Error {
        /// Calling PID.
        pid: u32,
        /// SVC function number.
        fn_id: u8,
        /// Status returned.
        status: u16,
    },
}
