//! What a guest sees of the mailbox service: SVC function numbers, mode and flag bits,
//! receive timeouts, the receive-info size and [`MailboxError`] with its status codes.

use crate::status::mbx as st;

/// Per-message storage overhead: the C header `{u16 len, u16 flags, u16 src_pid, u16 channel}`.
pub const MESSAGE_OVERHEAD: u32 = 8;
/// Receive timeout: poll.
pub const TIMEOUT_POLL: u16 = 0x0000;
/// Receive timeout: wait forever.
pub const TIMEOUT_INFINITE: u16 = 0xFFFF;
/// Size of the receive-info record written at `info_ptr`.
pub const RECV_INFO_SIZE: usize = 20;

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
    /// The task's descriptor budget is used up, or the pool is down to the reserve kept
    /// for loads (status NO_DESCRIPTOR).
    #[error("descriptor budget of the task exceeded")]
    DescriptorQuota,
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
            Self::NoDescriptor | Self::HandleLimit | Self::DescriptorQuota => st::NO_DESCRIPTOR,
            Self::BadTarget => st::INTERNAL_ERROR,
        }
    }
}

/// A host length as the `u32` a guest register carries (saturating).
pub(super) fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
