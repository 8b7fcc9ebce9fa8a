//! Change notifications: subscriptions (VAL_SUB or an existing handle) and posting the
//! `<oid><old><new>` frame to every subscriber.

use alloc::vec::Vec;

use super::abi::ValError;
use super::params::Caller;
use super::registry::Registry;
use super::store::Key;
use crate::mailbox::port::MailboxPort;

impl Registry {
    /// Add an existing mailbox handle as a subscriber (exact duplicates ignored; no access
    /// check, as in the reference).
    ///
    /// # Errors
    /// `NotFound`.
    pub fn subscribe_handle(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        sub_pid: u32,
        handle: u32,
    ) -> Result<(), ValError> {
        let k = self
            .resolve_value(oid, owner, Caller::task(sub_pid))
            .ok_or(ValError::NotFound)?;
        let e = self.values.get_mut(&k).ok_or(ValError::NotFound)?;
        if !e.subscribers.contains(&(sub_pid, handle)) {
            e.subscribers.push((sub_pid, handle));
        }
        Ok(())
    }

    /// VAL_SUB: open a handle for `pid` on `target` and subscribe it. Returns the handle.
    ///
    /// # Errors
    /// `Invalid` (empty target or open failure), `NotFound` (checked before opening, so no
    /// handle leaks).
    pub fn subscribe(
        &mut self,
        pid: u32,
        oid: u16,
        owner: Option<u32>,
        target: &str,
        port: &mut dyn MailboxPort,
    ) -> Result<u32, ValError> {
        if target.is_empty() {
            return Err(ValError::Invalid);
        }
        self.resolve_value(oid, owner, Caller::task(pid))
            .ok_or(ValError::NotFound)?;
        let handle = port.open(pid, target).map_err(|_| ValError::Invalid)?;
        self.subscribe_handle(oid, owner, pid, handle)?;
        Ok(handle)
    }

    /// Subscribers of a value as `(pid, handle)`.
    #[must_use]
    pub fn subscribers(&self, oid: u16, owner: Option<u32>) -> Vec<(u32, u32)> {
        self.resolve_value(oid, owner, Caller::HOST)
            .and_then(|k| self.values.get(&k))
            .map(|e| e.subscribers.clone())
            .unwrap_or_default()
    }

    /// Drop one subscription (e.g. its handle was closed elsewhere). Returns whether any
    /// existed.
    pub fn unsubscribe_handle(&mut self, pid: u32, handle: u32) -> bool {
        let mut found = false;
        for e in self.values.values_mut() {
            let n = e.subscribers.len();
            e.subscribers.retain(|s| *s != (pid, handle));
            found |= n != e.subscribers.len();
        }
        found
    }

    /// Post a change notification to every subscriber of `k`: one frame per change on each
    /// subscriber's own handle; a failed post drops the subscription and closes its handle.
    pub(super) fn notify(
        &mut self,
        k: Key,
        frame: &[u8],
        subs: Vec<(u32, u32)>,
        port: &mut dyn MailboxPort,
    ) {
        let mut dead = Vec::new();
        for (pid, handle) in subs {
            if port.post(pid, handle, frame).is_err() {
                port.close(pid, handle);
                dead.push((pid, handle));
            }
        }
        if !dead.is_empty()
            && let Some(e) = self.values.get_mut(&k)
        {
            e.subscribers.retain(|s| !dead.contains(s));
        }
    }
}
