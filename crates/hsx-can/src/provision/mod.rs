//! Pushing an image over ISO-TP: the master ([`ProvisionLink`]) and the device side
//! ([`ProvisionDevice`], which drives a [`ProvisionTarget`] such as the executive's streaming
//! loader).
//!
//! Every request gets exactly one reply. The master resends a request whose reply does not
//! come (a lost frame breaks a whole ISO-TP message); the device recognises a repeated BEGIN
//! (same token), CHUNK (same sequence number) or END and answers it again without applying it
//! twice, so retries are safe.

#[cfg(feature = "std")]
mod device;
#[cfg(feature = "std")]
mod master;
pub mod serial;
mod session;
pub mod wire;

use alloc::string::String;

#[cfg(feature = "std")]
pub use device::ProvisionDevice;
#[cfg(feature = "std")]
pub use master::{ProvisionError, ProvisionLink, PushOptions, PushReport, SessionStatus};
#[cfg(feature = "std")]
pub use serial::{SerialLine, open_serial};
pub use session::{DeviceEvent, DeviceSession};

/// A message transport for provisioning: whole request and reply messages, each sent and
/// received with a deadline. ISO-TP channels over CAN and serial lines implement it.
#[cfg(feature = "std")]
pub trait MessageLink {
    /// Sends one message.
    ///
    /// # Errors
    /// The transport's failure ([`crate::IsoTpError::Bus`] when the medium is gone).
    fn send_message(
        &mut self,
        payload: &[u8],
        timeout: std::time::Duration,
    ) -> Result<(), crate::IsoTpError>;
    /// Receives one message.
    ///
    /// # Errors
    /// [`crate::IsoTpError::Timeout`] when none came in time, or the transport's failure.
    fn recv_message(
        &mut self,
        timeout: std::time::Duration,
    ) -> Result<alloc::vec::Vec<u8>, crate::IsoTpError>;
    /// Frames (CAN) or lines (serial) sent and received so far.
    fn message_counts(&self) -> (u64, u64);
}

#[cfg(feature = "std")]
impl<B: crate::CanBus> MessageLink for crate::IsoTpChannel<B> {
    fn send_message(
        &mut self,
        payload: &[u8],
        timeout: std::time::Duration,
    ) -> Result<(), crate::IsoTpError> {
        self.send(payload, timeout)
    }
    fn recv_message(
        &mut self,
        timeout: std::time::Duration,
    ) -> Result<alloc::vec::Vec<u8>, crate::IsoTpError> {
        self.recv(timeout)
    }
    fn message_counts(&self) -> (u64, u64) {
        self.frame_counts()
    }
}

/// Identifier the master sends provisioning requests on (11-bit).
pub const MASTER_TX_ID: u16 = 0x6A0;
/// Identifier the device answers on (11-bit).
pub const DEVICE_TX_ID: u16 = 0x6A8;

/// The device end's ISO-TP parameters on the default identifiers (the master uses
/// [`crate::IsoTpParams::reversed`] of these).
#[cfg(feature = "std")]
pub fn device_params() -> crate::IsoTpParams {
    use crate::frame::standard_id;
    // Both constants are valid 11-bit identifiers.
    let id = |raw| {
        standard_id(raw).unwrap_or(embedded_can::Id::Standard(embedded_can::StandardId::ZERO))
    };
    crate::IsoTpParams::new(id(DEVICE_TX_ID), id(MASTER_TX_ID))
}

/// Why a target refused a step; each maps to a reply status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The image is malformed (bad header, section table, CRC): `EBADMSG`.
    #[error("bad image: {0}")]
    BadImage(String),
    /// No room for the image: `ENOSPC`.
    #[error("no space for the image")]
    NoSpace,
    /// The session is unknown to the target: `ESRCH`.
    #[error("no such load session")]
    NoSession,
    /// The target cannot start a session now: `EBUSY`.
    #[error("target busy")]
    Busy,
    /// Anything else.
    #[error("target failed: {0}")]
    Failed(String),
}

impl TargetError {
    /// The reply status for this error.
    pub fn status(&self) -> wire::Status {
        use wire::Status;
        match self {
            Self::BadImage(_) => Status::BadMessage,
            Self::NoSpace => Status::NoSpace,
            Self::NoSession => Status::NoSession,
            Self::Busy => Status::Busy,
            Self::Failed(_) => Status::Target,
        }
    }
}

/// What receives a pushed image on the device: the executive's streaming loader (hsxd's
/// `load_begin/write/end/abort`), or a test's buffer.
///
/// Calls come in order `begin`, `write`* (bytes in image order, each chunk once), then `end`
/// or `abort`. After an error from `write` or `end` the session is over: the device calls
/// `abort` so the target can free what it reserved.
pub trait ProvisionTarget {
    /// Start receiving an image of `total_len` bytes; returns the reserved task id.
    fn begin(&mut self, label: Option<&str>, total_len: u32) -> Result<u32, TargetError>;
    /// The next bytes of the image.
    fn write(&mut self, pid: u32, chunk: &[u8]) -> Result<(), TargetError>;
    /// All bytes are in and the transfer CRC matched: verify and make the image loadable.
    fn end(&mut self, pid: u32) -> Result<(), TargetError>;
    /// Drop the session and everything reserved for it.
    fn abort(&mut self, pid: u32);
}
