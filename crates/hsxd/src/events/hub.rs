//! [`EventHub`]: the seq counter, the history ring for `since_seq` replay, and the set of
//! subscriptions events fan out to. Pure logic: no lock, time passed in.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::record::{Event, EventRecord};
use super::subscriber::Subscriber;
use super::subscription::{
    AckMetrics, CloseReason, Closed, SubShared, SubscribeAck, SubscribeParams, Take,
};
use crate::error::ProtoError;

/// Events kept for `since_seq` replay.
pub const HISTORY_CAPACITY: usize = 4096;

/// The event hub: seq counter, history ring and subscriptions. Pure logic.
#[derive(Debug)]
pub struct EventHub {
    next_seq: u64,
    history: VecDeque<Arc<EventRecord>>,
    history_cap: usize,
    evicted_upto: u64,
    subs: Vec<Subscriber>,
    next_sub_id: u64,
}

impl EventHub {
    /// A hub keeping `history_cap` events for replay.
    pub fn new(history_cap: usize) -> Self {
        Self {
            next_seq: 1,
            history: VecDeque::with_capacity(history_cap.min(HISTORY_CAPACITY)),
            history_cap,
            evicted_upto: 0,
            subs: Vec::new(),
            next_sub_id: 1,
        }
    }

    /// The last seq issued (0 before the first event).
    pub fn cursor(&self) -> u64 {
        self.next_seq - 1
    }

    /// Number of live subscriptions.
    pub fn subscriber_count(&self) -> usize {
        self.subs.len()
    }

    /// Subscriptions that a new one of `session` on `conn` would not replace.
    pub fn others(&self, session: &str, conn: u64) -> usize {
        self.subs
            .iter()
            .filter(|s| s.session != session && s.conn != conn)
            .count()
    }

    /// Events in the history ring.
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// Numbers, records and fans out one event.
    pub fn publish(&mut self, ev: Event, now: f64) -> Arc<EventRecord> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let rec = Arc::new(EventRecord::new(
            seq,
            ev.ts.unwrap_or(now),
            ev.kind,
            ev.pid,
            ev.data,
        ));
        if self.history_cap > 0 {
            if self.history.len() >= self.history_cap
                && let Some(old) = self.history.pop_front()
            {
                self.evicted_upto = old.seq;
            }
            self.history.push_back(rec.clone());
        } else {
            self.evicted_upto = seq;
        }
        let next_seq = &mut self.next_seq;
        for sub in &mut self.subs {
            if sub.filter.matches(&rec) {
                sub.deliver(rec.clone(), next_seq, now);
                sub.shared.notify.notify_one();
            }
        }
        rec
    }

    /// Starts a subscription, replacing any other of the same session or connection.
    pub fn subscribe(
        &mut self,
        p: SubscribeParams,
        token: String,
        now: f64,
    ) -> Result<SubscribeAck, ProtoError> {
        if let Some(since) = p.since_seq
            && since < self.evicted_upto
        {
            return Err(ProtoError::SeqEvicted);
        }
        let by = Some(p.conn);
        self.remove_where(
            |s| s.session == p.session || s.conn == p.conn,
            Closed {
                reason: CloseReason::Replaced,
                by_conn: by,
            },
        );
        let cursor = self.cursor();
        let id = self.next_sub_id;
        self.next_sub_id += 1;
        let shared = Arc::new(SubShared {
            id,
            token,
            notify: Notify::new(),
            closed: Mutex::new(None),
        });
        let mut sub = Subscriber {
            shared: shared.clone(),
            session: p.session,
            conn: p.conn,
            filter: p.filter,
            cap: p.max_events.max(1),
            unacked: VecDeque::new(),
            written: 0,
            warnings: VecDeque::new(),
            last_ack: p.since_seq.unwrap_or(cursor),
            drops: 0,
            lost: 0,
            high_water: 0,
            in_overflow: false,
            drops_since_warning: 0,
        };
        if let Some(since) = p.since_seq {
            // Replay ignores the ring bound, as the reference does; the next live event
            // trims the ring back to capacity.
            for rec in self.history.iter().filter(|r| r.seq > since) {
                if sub.filter.matches(rec) {
                    sub.unacked.push_back(rec.clone());
                }
            }
            sub.high_water = sub.unacked.len();
        }
        let _ = now;
        let ack = SubscribeAck {
            handle: shared.clone(),
            max: sub.cap,
            cursor,
            pending: sub.unacked.len(),
            high_water: sub.high_water,
            since_seq: p.since_seq,
        };
        if !sub.unacked.is_empty() {
            shared.notify.notify_one();
        }
        self.subs.push(sub);
        Ok(ack)
    }

    /// Ends the session's subscription; `false` when it had none.
    pub fn unsubscribe_session(
        &mut self,
        session: &str,
        reason: CloseReason,
        by_conn: Option<u64>,
    ) -> bool {
        self.remove_where(|s| s.session == session, Closed { reason, by_conn }) > 0
    }

    /// Drops the subscriptions carried by a connection that has gone.
    pub fn connection_closed(&mut self, conn: u64) {
        self.remove_where(
            |s| s.conn == conn,
            Closed {
                reason: CloseReason::Unsubscribed,
                by_conn: Some(conn),
            },
        );
    }

    /// Ends every subscription (server reset).
    pub fn reset(&mut self) {
        self.remove_where(
            |_| true,
            Closed {
                reason: CloseReason::Reset,
                by_conn: None,
            },
        );
    }

    fn remove_where(&mut self, pred: impl Fn(&Subscriber) -> bool, how: Closed) -> usize {
        let before = self.subs.len();
        self.subs.retain(|s| {
            if pred(s) {
                s.shared.close(how);
                false
            } else {
                true
            }
        });
        before - self.subs.len()
    }

    /// Acknowledges up to `seq` for the session's subscription; `None` if it has none.
    pub fn ack(&mut self, session: &str, seq: u64) -> Option<AckMetrics> {
        let sub = self.subs.iter_mut().find(|s| s.session == session)?;
        sub.ack(seq);
        Some(sub.metrics())
    }

    /// Counters of the session's subscription.
    pub fn metrics(&self, session: &str) -> Option<AckMetrics> {
        self.subs
            .iter()
            .find(|s| s.session == session)
            .map(Subscriber::metrics)
    }

    /// Moves the lines waiting for `handle`'s connection into `out`, in seq order.
    pub fn take(&mut self, handle: &SubShared, out: &mut Vec<Arc<EventRecord>>) -> Take {
        match self.subs.iter_mut().find(|s| s.shared.id == handle.id) {
            Some(sub) => {
                sub.take(out);
                Take::Open
            }
            None => Take::Closed(handle.closed().unwrap_or(Closed {
                reason: CloseReason::Reset,
                by_conn: None,
            })),
        }
    }
}
