//! RECV and PEEK: reading from the single-reader queue, a fan-out cursor or a tap buffer,
//! and registering a wait when nothing is there.

use super::abi::{MailboxError, TIMEOUT_INFINITE, TIMEOUT_POLL, len_u32, msg_flag};
use super::events::MailboxEvent;
use super::manager::MailboxManager;
use super::records::{PeekInfo, Received, RecvOutcome, RecvRequest};
use super::state::{Message, WaitRecord, depth_u32, handle_mut, handle_ref};

impl MailboxManager {
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

    pub(super) fn recv_inner(
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
}
