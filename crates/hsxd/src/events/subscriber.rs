//! One subscriber inside the hub: its bounded ring of unacknowledged events, its warning
//! queue, and the back-pressure rules (drop oldest, rate-limited `warning`s) that keep
//! publishing from blocking or growing memory.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{Value, json};

use super::filter::EventFilter;
use super::record::EventRecord;
use super::subscription::{AckMetrics, SubHandle};

/// Warnings waiting to be written to one subscriber; older ones are dropped first.
pub const WARNING_QUEUE_CAP: usize = 64;

/// A subscription as the hub keeps it; the hub builds it and fans events into it, so the
/// fields are open to the `events` module.
#[derive(Debug)]
pub(super) struct Subscriber {
    pub(super) shared: SubHandle,
    pub(super) session: String,
    pub(super) conn: u64,
    pub(super) filter: EventFilter,
    pub(super) cap: usize,
    /// Delivered and not acknowledged, oldest first; the first `written` are on the wire.
    pub(super) unacked: VecDeque<Arc<EventRecord>>,
    pub(super) written: usize,
    pub(super) warnings: VecDeque<Arc<EventRecord>>,
    pub(super) last_ack: u64,
    pub(super) drops: u64,
    pub(super) lost: u64,
    pub(super) high_water: usize,
    pub(super) in_overflow: bool,
    pub(super) drops_since_warning: u64,
}

impl Subscriber {
    pub(super) fn deliver(&mut self, rec: Arc<EventRecord>, next_seq: &mut u64, now: f64) {
        let mut dropped = 0u64;
        let mut undelivered = 0u64;
        let mut last_dropped = 0u64;
        while self.unacked.len() >= self.cap {
            let Some(old) = self.unacked.pop_front() else {
                break;
            };
            if self.written > 0 {
                self.written -= 1;
            } else {
                undelivered += 1;
            }
            dropped += 1;
            last_dropped = old.seq;
        }
        self.unacked.push_back(rec);
        self.high_water = self.high_water.max(self.unacked.len());
        if dropped == 0 {
            return;
        }
        self.drops += dropped;
        self.lost += undelivered;
        self.drops_since_warning += dropped;
        if !self.in_overflow || self.drops_since_warning >= self.cap as u64 {
            self.in_overflow = true;
            self.drops_since_warning = 0;
            let data = json!({
                "reason": "backpressure",
                "subscription": self.shared.token,
                "dropped_seq": last_dropped,
                "drops": self.drops,
                "undelivered": self.lost,
                "pending": self.unacked.len(),
                "high_water": self.high_water,
            });
            self.warn(data, next_seq, now);
        }
    }

    fn warn(&mut self, data: Value, next_seq: &mut u64, now: f64) {
        let seq = *next_seq;
        *next_seq += 1;
        if self.warnings.len() >= WARNING_QUEUE_CAP {
            self.warnings.pop_front();
        }
        self.warnings.push_back(Arc::new(EventRecord::new(
            seq,
            now,
            Cow::Borrowed("warning"),
            None,
            data,
        )));
    }

    pub(super) fn ack(&mut self, seq: u64) {
        self.last_ack = self.last_ack.max(seq);
        while self.unacked.front().is_some_and(|e| e.seq <= seq) {
            self.unacked.pop_front();
            self.written = self.written.saturating_sub(1);
        }
        if self.unacked.len() < self.cap {
            self.in_overflow = false;
            self.drops_since_warning = 0;
        }
    }

    pub(super) fn take(&mut self, out: &mut Vec<Arc<EventRecord>>) {
        let fresh = self.unacked.range(self.written.min(self.unacked.len())..);
        let mut warnings = self.warnings.drain(..).peekable();
        for rec in fresh {
            while let Some(w) = warnings.next_if(|w| w.seq < rec.seq) {
                out.push(w);
            }
            out.push(rec.clone());
        }
        out.extend(warnings);
        self.written = self.unacked.len();
    }

    pub(super) fn metrics(&self) -> AckMetrics {
        AckMetrics {
            pending: self.unacked.len(),
            high_water: self.high_water,
            drops: self.drops,
            last_ack: self.last_ack,
        }
    }
}
