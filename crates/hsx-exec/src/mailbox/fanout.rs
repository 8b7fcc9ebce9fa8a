//! Fan-out bookkeeping: reclaiming messages every reader has consumed, marking overruns,
//! capacity changes and mode changes (which reset the cursors).

use super::manager::MailboxManager;
use super::state::{Descriptor, HandleState, Handles, handle_mut, handle_ref};

impl MailboxManager {
    pub(super) fn reclaim(&mut self, id: u32) {
        let Some(d) = self.descriptors.get_mut(&id) else {
            return;
        };
        if !d.fanout() {
            return;
        }
        while let Some(head) = d.queue.front() {
            if !all_read_past(&self.pids, &d.members, head.seq, HandleState::is_reader) {
                break;
            }
            d.pop_head();
        }
    }

    /// FANOUT_BLOCK under pressure: handles that have never received (idle) stop holding
    /// messages back once every active reader has consumed them; idle handles that had not
    /// reached a reclaimed message get OVERRUN on their next receive.
    pub(super) fn reclaim_past_idle(&mut self, id: u32) {
        let Some(d) = self.descriptors.get_mut(&id) else {
            return;
        };
        let active = |h: &HandleState| h.is_reader() && h.has_read;
        while let Some(head) = d.queue.front() {
            if !all_read_past(&self.pids, &d.members, head.seq, active) {
                break;
            }
            if let Some(m) = d.pop_head() {
                mark_overrun(&mut self.pids, d, m.seq);
            }
        }
    }

    pub(super) fn enforce_capacity(&mut self, id: u32) {
        let Some(d) = self.descriptors.get_mut(&id) else {
            return;
        };
        while d.bytes_used > d.capacity {
            let Some(m) = d.pop_head() else {
                break;
            };
            d.dropped = d.dropped.saturating_add(1);
            mark_overrun(&mut self.pids, d, m.seq);
        }
    }

    pub(super) fn apply_mode(&mut self, id: u32, mode_mask: u16) {
        let Some(d) = self.descriptors.get_mut(&id) else {
            return;
        };
        d.mode = mode_mask;
        let fan = d.fanout();
        let next = d.next_seq;
        for &(p, hd) in &d.members {
            if let Some(h) = handle_mut(&mut self.pids, p, hd) {
                h.cursor = if fan { next } else { 0 };
                h.pending_overrun = false;
                h.is_sender = false;
            }
        }
        self.reclaim(id);
        self.enforce_capacity(id);
    }
}

/// Whether at least one member handle selected by `counts` exists and every such handle has
/// read past message `seq`.
pub(super) fn all_read_past(
    pids: &Handles,
    members: &[(u32, u32)],
    seq: u64,
    counts: impl Fn(&HandleState) -> bool,
) -> bool {
    let mut any = false;
    for &(p, hd) in members {
        if let Some(h) = handle_ref(pids, p, hd)
            && counts(h)
        {
            if h.cursor <= seq {
                return false;
            }
            any = true;
        }
    }
    any
}

pub(super) fn mark_overrun(pids: &mut Handles, d: &Descriptor, seq: u64) {
    for &(p, hd) in &d.members {
        if let Some(h) = handle_mut(pids, p, hd)
            && h.tap.is_none()
            && !h.is_sender
            && h.cursor <= seq
        {
            h.pending_overrun = true;
        }
    }
}
