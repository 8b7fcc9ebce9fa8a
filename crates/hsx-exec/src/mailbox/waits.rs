//! Blocked receives: waking waiters when data arrives, completing and expiring waits, and
//! the deadlines the executive's timer heap needs.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::abi::len_u32;
use super::events::MailboxEvent;
use super::manager::MailboxManager;
use super::records::{Completion, Received};
use super::state::{WaitRecord, handle_ref};
use crate::status::mbx as st;

impl MailboxManager {
    pub(super) fn deliver_waiters(&mut self, id: u32) {
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

    pub(super) fn finish_wait(
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
    pub(super) fn remove_wait(&mut self, pid: u32) -> Option<WaitRecord> {
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
}
