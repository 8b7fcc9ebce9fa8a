//! Mailbox records (protocol.md §2.6): `mailbox_snapshot` descriptors and stats, `list`
//! channels, `listen` messages, the `send` reply, and the data of `mailbox_*` events (§4.5).

use std::collections::BTreeMap;

use hsx_exec::mailbox::{
    DescriptorInfo, ExhaustedReason, MailboxEvent, MailboxStats, TapInfo, TargetKey, func,
};
use hsx_exec::status::mbx;
use serde::Serialize;

/// The host's PID (the reference opens host-side mailbox handles as PID 0).
pub const HOST_PID: u32 = 0;

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

/// `mailbox_*` event data, one shape per kind.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[allow(missing_docs)]
pub enum MailboxData {
    /// `mailbox_send`, `mailbox_recv`.
    Transfer {
        descriptor: u32,
        handle: u32,
        length: u32,
        flags: u16,
        channel: u16,
        src_pid: u32,
    },
    /// `mailbox_wait`.
    Wait {
        descriptor: u32,
        handle: u32,
        timeout: u16,
        deadline: Option<u64>,
    },
    /// `mailbox_wake`.
    Wake {
        descriptor: u32,
        handle: u32,
        status: u16,
        length: u32,
        flags: u16,
        channel: u16,
        src_pid: u32,
    },
    /// `mailbox_timeout`.
    Timeout {
        descriptor: u32,
        handle: u32,
        status: u16,
        length: u32,
    },
    /// `mailbox_overrun`.
    Overrun {
        pid: u32,
        descriptor: u32,
        dropped_seq: u64,
        dropped_length: u32,
        dropped_flags: u16,
        channel: u16,
        reason: &'static str,
        queue_depth: u32,
    },
    /// `mailbox_backpressure`.
    Backpressure {
        descriptor: u32,
        policy: &'static str,
        capacity: u32,
        bytes_used: u32,
        requested: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        tap_pid: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tap_handle: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// `mailbox_exhausted`, descriptor pool full: the refused descriptor by its parts.
    PoolFull {
        reason: &'static str,
        pid: Option<u32>,
        max_descriptors: u32,
        target: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        owner: Option<Option<u32>>,
    },
    /// `mailbox_exhausted`, handle limit: raised when the task already holds `limit`.
    HandleLimit {
        reason: &'static str,
        pid: Option<u32>,
        handle_limit: u32,
        handles: u32,
    },
    /// `mailbox_error`.
    Error {
        pid: u32,
        #[serde(rename = "fn")]
        fn_id: u8,
        fn_name: &'static str,
        status: u16,
        error: &'static str,
    },
}

impl MailboxData {
    /// The data of `m`.
    pub fn of(m: &MailboxEvent) -> Self {
        match m {
            MailboxEvent::Send {
                pid: src_pid,
                descriptor,
                handle,
                length,
                flags,
                channel,
            }
            | MailboxEvent::Recv {
                descriptor,
                handle,
                length,
                flags,
                channel,
                src_pid,
                ..
            } => Self::Transfer {
                descriptor: *descriptor,
                handle: *handle,
                length: *length,
                flags: *flags,
                channel: *channel,
                src_pid: *src_pid,
            },
            MailboxEvent::Wait {
                descriptor,
                handle,
                timeout,
                deadline_ms,
                ..
            } => Self::Wait {
                descriptor: *descriptor,
                handle: *handle,
                timeout: *timeout,
                deadline: *deadline_ms,
            },
            MailboxEvent::Wake {
                descriptor,
                handle,
                status,
                length,
                flags,
                channel,
                src_pid,
                ..
            } => Self::Wake {
                descriptor: *descriptor,
                handle: *handle,
                status: *status,
                length: *length,
                flags: *flags,
                channel: *channel,
                src_pid: *src_pid,
            },
            MailboxEvent::Timeout {
                descriptor, handle, ..
            } => Self::Timeout {
                descriptor: *descriptor,
                handle: *handle,
                status: mbx::TIMEOUT,
                length: 0,
            },
            MailboxEvent::Overrun {
                pid,
                descriptor,
                dropped_seq,
                dropped_length,
                dropped_flags,
                channel,
                reason,
                queue_depth,
            } => Self::Overrun {
                pid: *pid,
                descriptor: *descriptor,
                dropped_seq: *dropped_seq,
                dropped_length: *dropped_length,
                dropped_flags: *dropped_flags,
                channel: *channel,
                reason: reason.as_str(),
                queue_depth: *queue_depth,
            },
            MailboxEvent::Backpressure {
                descriptor,
                policy,
                capacity,
                bytes_used,
                requested,
                tap,
                limit,
            } => Self::Backpressure {
                descriptor: *descriptor,
                policy: policy.as_str(),
                capacity: *capacity,
                bytes_used: *bytes_used,
                requested: *requested,
                tap_pid: tap.map(|t| t.0),
                tap_handle: tap.map(|t| t.1),
                limit: tap.map(|_| *limit),
            },
            MailboxEvent::Exhausted {
                reason,
                pid,
                limit,
                target,
            } => match reason {
                ExhaustedReason::DescriptorPoolFull
                | ExhaustedReason::DescriptorQuota
                | ExhaustedReason::DescriptorReserve => {
                    let key = target
                        .as_deref()
                        .and_then(|t| TargetKey::parse(pid.unwrap_or(HOST_PID), t).ok());
                    Self::PoolFull {
                        reason: reason.as_str(),
                        pid: *pid,
                        max_descriptors: *limit,
                        target: target.clone(),
                        namespace: key.as_ref().map(|k| k.namespace.code()),
                        name: key.as_ref().map(|k| k.name.to_string()),
                        owner: key.as_ref().map(|k| k.owner),
                    }
                }
                ExhaustedReason::HandleLimit => Self::HandleLimit {
                    reason: reason.as_str(),
                    pid: *pid,
                    handle_limit: *limit,
                    handles: *limit,
                },
            },
            MailboxEvent::Error { pid, fn_id, status } => Self::Error {
                pid: *pid,
                fn_id: *fn_id,
                fn_name: mailbox_fn_name(*fn_id),
                status: *status,
                error: mailbox_status_name(*status),
            },
        }
    }
}

/// The SVC function name of a mailbox function number (module 5).
fn mailbox_fn_name(fn_id: u8) -> &'static str {
    match fn_id {
        func::OPEN => "open",
        func::BIND => "bind",
        func::SEND => "send",
        func::RECV => "recv",
        func::PEEK => "peek",
        func::TAP => "tap",
        func::CLOSE => "close",
        _ => "unknown",
    }
}

/// The `HSX_MBX_STATUS_*` name of a mailbox status code, lower case.
fn mailbox_status_name(status: u16) -> &'static str {
    match status {
        mbx::OK => "ok",
        mbx::WOULDBLOCK => "would_block",
        mbx::INVALID_HANDLE => "invalid_handle",
        mbx::NO_DATA => "no_data",
        mbx::MSG_TOO_LARGE => "msg_too_large",
        mbx::NO_DESCRIPTOR => "no_descriptor",
        mbx::TIMEOUT => "timeout",
        mbx::INTERNAL_ERROR => "internal_error",
        _ => "unknown_status",
    }
}
