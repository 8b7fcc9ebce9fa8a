//! Binding descriptors and opening/closing handles on them (BIND, OPEN, CLOSE), plus the
//! lookups by handle and target.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::abi::{MailboxError, len_u32};
use super::events::{ExhaustedReason, MailboxEvent};
use super::manager::MailboxManager;
use super::state::{Descriptor, HandleState, alloc_handle, handle_ref};
use super::target::TargetKey;
use crate::status::mbx as st;

impl MailboxManager {
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
        self.bind_as(pid, target, capacity, mode_mask, true)
    }

    /// BIND on behalf of `pid`; `task_call`: the task's own SVC, held to its descriptor
    /// budget and the load reserve (the executive's binds for a loading task are not).
    pub(super) fn bind_as(
        &mut self,
        pid: u32,
        target: &str,
        capacity: u32,
        mode_mask: u16,
        task_call: bool,
    ) -> Result<u32, MailboxError> {
        let key = TargetKey::parse(pid, target)?;
        let existed = self.lookup.contains_key(&key);
        if !existed && task_call {
            self.admit_new(pid, &key)?;
        }
        let id = self.bind_key(key, capacity, mode_mask)?;
        if !existed {
            self.note_creator(id, pid);
            if task_call {
                self.note_maker(id, pid);
            }
        }
        Ok(id)
    }

    /// A task's BIND/OPEN about to create a descriptor: refused beyond the task's budget
    /// or into the reserve kept for loads (the host, pid 0, is not limited).
    fn admit_new(&mut self, pid: u32, key: &TargetKey) -> Result<(), MailboxError> {
        if pid == 0 {
            return Ok(());
        }
        let used = len_u32(self.descriptors.len());
        if used >= self.config.max_descriptors {
            // Full: `bind_key` reports the pool, as for everyone.
            return Ok(());
        }
        let made = len_u32(
            self.descriptors
                .values()
                .filter(|d| d.made_by == pid)
                .count(),
        );
        let (reason, limit) = match self.config.descriptors_per_task {
            Some(q) if made >= q => (ExhaustedReason::DescriptorQuota, q),
            _ => {
                if self.config.max_descriptors.saturating_sub(used) > self.config.load_reserve {
                    return Ok(());
                }
                (
                    ExhaustedReason::DescriptorReserve,
                    self.config
                        .max_descriptors
                        .saturating_sub(self.config.load_reserve),
                )
            }
        };
        self.emit(MailboxEvent::Exhausted {
            reason,
            pid: Some(pid),
            limit,
            target: Some(key.to_target()),
        });
        Err(MailboxError::DescriptorQuota)
    }

    /// Records task `pid` as the creator of `shared:` descriptor `id` (the host, pid 0,
    /// never exits: what it creates stays). Global `app:` channels are left alone: their
    /// queued messages are meant for tasks loaded later.
    fn note_creator(&mut self, id: u32, pid: u32) {
        if pid != 0
            && let Some(d) = self.descriptors.get_mut(&id)
            && d.key.owner.is_none()
            && d.key.namespace == crate::mailbox::Namespace::Shared
        {
            d.creator = Some(pid);
        }
    }

    fn note_maker(&mut self, id: u32, pid: u32) {
        if let Some(d) = self.descriptors.get_mut(&id) {
            d.made_by = pid;
        }
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
        // A lazily created stdio descriptor gets the template mode whoever creates it first
        // (the task's first write, or an OPEN of its own stream).
        let mode_mask = match self.lazy_stdio_stream(&key) {
            Some(s) if mode_mask == 0 => self.stdio_modes[s.index()],
            _ => mode_mask,
        };
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
            creator: None,
            made_by: 0,
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

    pub(super) fn open_inner(
        &mut self,
        pid: u32,
        target: &str,
        implicit: bool,
    ) -> Result<u32, MailboxError> {
        let key = TargetKey::parse(pid, target)?;
        let existed = self.lookup.contains_key(&key);
        if !existed && !implicit {
            self.admit_new(pid, &key)?;
        }
        let id = self.bind_key(key, 0, 0)?;
        if !existed {
            self.note_creator(id, pid);
            if !implicit {
                self.note_maker(id, pid);
            }
        }
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

    pub(super) fn remove_handle(&mut self, pid: u32, handle: u32) -> Result<u32, MailboxError> {
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

    pub(super) fn maybe_free(&mut self, id: u32) -> bool {
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
}
