//! The [`CanBus`] trait that every backend implements.

use alloc::boxed::Box;
use alloc::string::String;
use core::time::Duration;

use crate::CanFrame;

/// Why a bus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The other end went away (loopback peer dropped, serial port closed).
    #[error("CAN bus closed")]
    Closed,
    /// The adapter answered a command with an error (SLCAN bell) or sent a line it cannot parse.
    #[error("CAN adapter error: {0}")]
    Adapter(String),
    /// An operating-system I/O error from the serial port or socket.
    #[cfg(feature = "std")]
    #[error("CAN I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// A classic CAN bus endpoint: frames out, frames in.
///
/// `recv` waits at most `timeout` (zero means "only what is already there") and returns
/// `Ok(None)` when nothing arrived, so callers can always bound their waiting.
pub trait CanBus: Send {
    /// Queue one frame for transmission.
    fn send(&mut self, frame: &CanFrame) -> Result<(), BusError>;

    /// The next received frame, or `None` after `timeout`.
    fn recv(&mut self, timeout: Duration) -> Result<Option<CanFrame>, BusError>;
}

impl<B: CanBus + ?Sized> CanBus for Box<B> {
    fn send(&mut self, frame: &CanFrame) -> Result<(), BusError> {
        (**self).send(frame)
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<CanFrame>, BusError> {
        (**self).recv(timeout)
    }
}
