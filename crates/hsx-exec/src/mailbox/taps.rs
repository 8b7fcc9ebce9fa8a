//! Taps: per-handle copy buffers that see every message without consuming it, with the
//! per-tap rate limit.

use super::abi::MailboxError;
use super::config::TAP_RATE_WINDOW_MS;
use super::events::{BackpressurePolicy, MailboxEvent};
use super::manager::MailboxManager;
use super::state::{Message, TapState, handle_mut};

impl MailboxManager {
    pub(super) fn deliver_to_taps(&mut self, id: u32, msg: &Message) {
        let Some(d) = self.descriptors.get(&id) else {
            return;
        };
        if d.taps.is_empty() {
            return;
        }
        let taps = d.taps.clone();
        let capacity = d.capacity;
        let bytes_used = d.bytes_used;
        let limit = self.config.tap_rate_limit;
        let now = self.now_ms;
        let cost = msg.cost();
        for (tpid, th) in taps {
            let Some(tap) = handle_mut(&mut self.pids, tpid, th).and_then(|h| h.tap.as_mut())
            else {
                continue;
            };
            if limit > 0 {
                let fresh = tap
                    .window_start
                    .is_none_or(|s| now.saturating_sub(s) >= TAP_RATE_WINDOW_MS);
                if fresh {
                    tap.window_start = Some(now);
                    tap.window_count = 0;
                }
                if tap.window_count >= limit {
                    tap.pending_overrun = true;
                    self.emit(MailboxEvent::Backpressure {
                        descriptor: id,
                        policy: BackpressurePolicy::TapRateLimit,
                        capacity,
                        bytes_used,
                        requested: 0,
                        tap: Some((tpid, th)),
                        limit,
                    });
                    continue;
                }
                tap.window_count += 1;
            }
            while tap.bytes.saturating_add(cost) > capacity {
                let Some(old) = tap.queue.pop_front() else {
                    break;
                };
                tap.bytes = tap.bytes.saturating_sub(old.cost());
                tap.pending_overrun = true;
            }
            if tap.bytes.saturating_add(cost) > capacity {
                tap.pending_overrun = true;
                continue;
            }
            tap.bytes = tap.bytes.saturating_add(cost);
            tap.queue.push_back(msg.clone());
        }
    }

    /// TAP: enable (bit 0 set) or disable tapping on `pid`'s `handle`. A tap handle reads
    /// only its own copy buffer; disabling discards the buffer.
    ///
    /// # Errors
    /// [`MailboxError::InvalidHandle`].
    pub fn tap(&mut self, pid: u32, handle: u32, enable: bool) -> Result<(), MailboxError> {
        let h = handle_mut(&mut self.pids, pid, handle).ok_or(MailboxError::InvalidHandle)?;
        let id = h.descriptor;
        if enable {
            match h.tap.as_mut() {
                Some(t) => {
                    t.window_start = None;
                    t.window_count = 0;
                }
                None => h.tap = Some(TapState::default()),
            }
            if let Some(d) = self.descriptors.get_mut(&id)
                && !d.taps.contains(&(pid, handle))
            {
                d.taps.push((pid, handle));
            }
        } else {
            h.tap = None;
            if let Some(d) = self.descriptors.get_mut(&id) {
                d.taps.retain(|m| *m != (pid, handle));
            }
        }
        // A tap no longer holds fan-out messages back (and a former tap now might).
        self.reclaim(id);
        Ok(())
    }
}
