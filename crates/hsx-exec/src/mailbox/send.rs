//! SEND: admission against the byte budget, fan-out drop/block policies and backpressure.

use super::abi::{MESSAGE_OVERHEAD, MailboxError, len_u32, mode};
use super::events::{BackpressurePolicy, MailboxEvent, OverrunReason};
use super::fanout::mark_overrun;
use super::manager::MailboxManager;
use super::records::SendReport;
use super::state::{Message, depth_u32, handle_mut};

impl MailboxManager {
    /// SEND `payload` on `pid`'s `handle`. Zero-length payloads succeed without enqueuing
    /// anything. On success taps get their copies and waiting receivers are woken.
    ///
    /// # Errors
    /// [`MailboxError::InvalidHandle`], [`MailboxError::MsgTooLarge`],
    /// [`MailboxError::WouldBlock`].
    pub fn send(
        &mut self,
        pid: u32,
        handle: u32,
        payload: &[u8],
        flags: u16,
        channel: u16,
    ) -> Result<SendReport, MailboxError> {
        let h = handle_mut(&mut self.pids, pid, handle).ok_or(MailboxError::InvalidHandle)?;
        h.is_sender = true;
        let id = h.descriptor;
        if !self.descriptors.contains_key(&id) {
            return Err(MailboxError::InvalidHandle);
        }
        let length = len_u32(payload.len());
        if !payload.is_empty() {
            self.enqueue(id, payload, flags, channel, pid)?;
        }
        self.emit(MailboxEvent::Send {
            pid,
            descriptor: id,
            handle,
            length,
            flags,
            channel,
        });
        if !payload.is_empty() {
            self.deliver_waiters(id);
        }
        Ok(SendReport {
            bytes: length,
            descriptor: id,
        })
    }

    /// Open a temporary handle on `target`, send, close (shell `send`, RPC sends without
    /// a handle).
    ///
    /// # Errors
    /// Any error of [`Self::open`] or [`Self::send`].
    pub fn send_to_target(
        &mut self,
        pid: u32,
        target: &str,
        payload: &[u8],
        flags: u16,
        channel: u16,
    ) -> Result<SendReport, MailboxError> {
        let handle = self.open(pid, target)?;
        let result = self.send(pid, handle, payload, flags, channel);
        let _ = self.close(pid, handle);
        result
    }

    pub(super) fn enqueue(
        &mut self,
        id: u32,
        payload: &[u8],
        flags: u16,
        channel: u16,
        src_pid: u32,
    ) -> Result<(), MailboxError> {
        let Some(d) = self.descriptors.get(&id) else {
            return Err(MailboxError::InvalidHandle);
        };
        let cost = len_u32(payload.len()).saturating_add(MESSAGE_OVERHEAD);
        if cost > d.capacity {
            return Err(MailboxError::MsgTooLarge);
        }
        if d.fanout() {
            self.reclaim(id);
            let Some(d) = self.descriptors.get(&id) else {
                return Err(MailboxError::InvalidHandle);
            };
            if d.mode & mode::FANOUT_BLOCK != 0 {
                if cost > d.free_space() {
                    // Idle handles must not stall the producer: reclaim what every
                    // active reader has consumed, flagging the idle ones.
                    self.reclaim_past_idle(id);
                }
            } else {
                self.drop_for_room(id, cost);
            }
        }
        let Some(d) = self.descriptors.get_mut(&id) else {
            return Err(MailboxError::InvalidHandle);
        };
        if cost > d.free_space() {
            let policy = if !d.fanout() {
                BackpressurePolicy::Single
            } else if d.mode & mode::FANOUT_BLOCK != 0 {
                BackpressurePolicy::FanoutBlock
            } else {
                BackpressurePolicy::FanoutDrop
            };
            let ev = MailboxEvent::Backpressure {
                descriptor: id,
                policy,
                capacity: d.capacity,
                bytes_used: d.bytes_used,
                requested: cost,
                tap: None,
                limit: 0,
            };
            self.emit(ev);
            return Err(MailboxError::WouldBlock);
        }
        let msg = Message {
            payload: payload.to_vec(),
            flags,
            channel,
            src_pid,
            seq: d.next_seq,
        };
        d.next_seq = d.next_seq.saturating_add(1);
        d.bytes_used = d.bytes_used.saturating_add(cost);
        d.sent = d.sent.saturating_add(1);
        // A second copy of the payload only when some tap wants it.
        if d.taps.is_empty() {
            d.queue.push_back(msg);
        } else {
            d.queue.push_back(msg.clone());
            self.deliver_to_taps(id, &msg);
        }
        Ok(())
    }

    pub(super) fn drop_for_room(&mut self, id: u32, cost: u32) {
        loop {
            let Some(d) = self.descriptors.get_mut(&id) else {
                return;
            };
            if cost <= d.free_space() {
                return;
            }
            let Some(dropped) = d.pop_head() else {
                return;
            };
            d.dropped = d.dropped.saturating_add(1);
            let depth = depth_u32(&d.queue);
            mark_overrun(&mut self.pids, d, dropped.seq);
            self.emit(MailboxEvent::Overrun {
                pid: dropped.src_pid,
                descriptor: id,
                dropped_seq: dropped.seq,
                dropped_length: len_u32(dropped.payload.len()),
                dropped_flags: dropped.flags,
                channel: dropped.channel,
                reason: OverrunReason::FanoutDrop,
                queue_depth: depth,
            });
        }
    }
}
