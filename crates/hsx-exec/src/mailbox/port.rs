//! The narrow interface the value/command registry uses to reach mailboxes, kept apart so
//! that `crate::values` depends on this trait rather than on the whole manager.

use super::abi::MailboxError;
use super::manager::MailboxManager;

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
