//! Event streaming (protocol.md §4): envelopes, the history ring, subscriptions with
//! per-subscriber back-pressure.
//!
//! # Model
//!
//! * Every event gets a `seq` from one process-wide counter (starting at 1, strictly
//!   rising, never reused). Per-subscription `warning` events take numbers too, so a
//!   filtered stream has gaps.
//! * The last [`HISTORY_CAPACITY`] events (warnings excluded) are kept for `since_seq`
//!   replay. Asking for a range that has partly left the ring is `seq_evicted`.
//! * Each subscription owns a bounded ring of the events delivered to it and not yet
//!   acknowledged ("pending", counted per subscriber, not in global seq numbers). Part of
//!   the ring may still wait to be written to the socket. The ring holds at most
//!   `max_events` entries: when a new event arrives at a full ring the oldest entries are
//!   dropped (whether already written or not) and the subscriber gets a `warning` with
//!   reason `backpressure`. Publishing therefore never blocks and never grows memory,
//!   however slow or silent a client is.
//! * To keep warnings from doubling a flood, one is sent when an overflow episode starts
//!   and then once per `max_events` further drops; an ack that brings the ring below its
//!   capacity ends the episode.
//! * `events.ack{seq}` removes every entry with `seq <= ack`, written or not.
//!
//! [`EventHub`] is the pure, lock-free logic (time passed in); [`EventBus`] wraps it in a
//! mutex and is the handle the executive bridge publishes through.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::error::ProtoError;
use crate::time::TimeSource;

/// Events kept for `since_seq` replay.
pub const HISTORY_CAPACITY: usize = 4096;
/// Reported as `retention_ms` in the subscribe acknowledgement (as the reference; no
/// time-based eviction happens).
pub const RETENTION_MS: u64 = 5000;
/// Warnings waiting to be written to one subscriber; older ones are dropped first.
pub const WARNING_QUEUE_CAP: usize = 64;

/// Event types that exist (protocol.md §4.5, plus `fault`, `stdout`, `stderr` from
/// design.md §4 and `can_tx` for CAN frames sent through the HAL). A filter naming anything
/// else is `unsupported_category`.
pub const KNOWN_CATEGORIES: &[&str] = &[
    "task_state",
    "scheduler",
    "trace_step",
    "debug_break",
    "watch_update",
    "warning",
    "fault",
    "stdout",
    "stderr",
    "can_tx",
    "debug_stop",
    "vm_error",
    "sleep_request",
    "sleep_complete",
    "mailbox_send",
    "mailbox_recv",
    "mailbox_wait",
    "mailbox_wake",
    "mailbox_timeout",
    "mailbox_error",
    "mailbox_exhausted",
    "mailbox_backpressure",
    "mailbox_overrun",
    "value_registered",
    "value_changed",
    "cmd_registered",
    "cmd_invoked",
    "cmd_completed",
];

/// Filter names that stand for several event types.
pub const CATEGORY_GROUPS: &[(&str, &[&str])] = &[
    (
        "mailbox",
        &[
            "mailbox_send",
            "mailbox_recv",
            "mailbox_wait",
            "mailbox_wake",
            "mailbox_timeout",
            "mailbox_error",
            "mailbox_exhausted",
            "mailbox_backpressure",
            "mailbox_overrun",
        ],
    ),
    ("stdio", &["stdout", "stderr"]),
    ("values", &["value_registered", "value_changed"]),
    (
        "commands",
        &["cmd_registered", "cmd_invoked", "cmd_completed"],
    ),
];

/// An event as the executive bridge produces it; the bus adds `seq` (and `ts` when unset).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The wire `type`, e.g. `task_state`.
    pub kind: Cow<'static, str>,
    /// The task concerned, or `None` for global events.
    pub pid: Option<u32>,
    /// The `data` object.
    pub data: Value,
    /// Epoch seconds; `None` means "now".
    pub ts: Option<f64>,
}

impl Event {
    /// An event of type `kind` about `pid` with `data`, stamped when published.
    pub fn new(kind: impl Into<Cow<'static, str>>, pid: Option<u32>, data: Value) -> Self {
        Self {
            kind: kind.into(),
            pid,
            data,
            ts: None,
        }
    }

    /// Sets an explicit timestamp.
    pub fn at(mut self, ts: f64) -> Self {
        self.ts = Some(ts);
        self
    }
}

/// A published event: the `{seq,ts,type,pid,data}` envelope, shared by the history ring
/// and every subscriber, serialised at most once.
#[derive(Debug)]
pub struct EventRecord {
    /// Sequence number.
    pub seq: u64,
    /// Epoch seconds.
    pub ts: f64,
    /// Event type.
    pub kind: Cow<'static, str>,
    /// Task, if any.
    pub pid: Option<u32>,
    /// Payload.
    pub data: Value,
    line: OnceLock<Box<str>>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    seq: u64,
    ts: f64,
    #[serde(rename = "type")]
    kind: &'a str,
    pid: Option<u32>,
    data: &'a Value,
}

impl EventRecord {
    fn new(seq: u64, ts: f64, kind: Cow<'static, str>, pid: Option<u32>, data: Value) -> Self {
        Self {
            seq,
            ts,
            kind,
            pid,
            data,
            line: OnceLock::new(),
        }
    }

    fn envelope(&self) -> Envelope<'_> {
        Envelope {
            seq: self.seq,
            ts: self.ts,
            kind: &self.kind,
            pid: self.pid,
            data: &self.data,
        }
    }

    /// The compact JSON line, without the newline.
    pub fn line(&self) -> &str {
        self.line.get_or_init(|| {
            serde_json::to_string(&self.envelope())
                .unwrap_or_default()
                .into_boxed_str()
        })
    }

    /// The envelope as a JSON value (for `step` results that embed events).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self.envelope()).unwrap_or(Value::Null)
    }
}

/// Which events a subscription wants. Warnings addressed to it always pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pids: Option<Vec<u32>>,
    categories: Option<Vec<String>>,
}

impl EventFilter {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// Builds a filter. `pids`: events whose `pid` is in the set (so `pid:null` events are
    /// filtered out, as in the reference). `categories`: exact types or group names from
    /// [`CATEGORY_GROUPS`]; an unknown name is `unsupported_category:<name>`.
    pub fn new(
        pids: Option<Vec<u32>>,
        categories: Option<Vec<String>>,
    ) -> Result<Self, ProtoError> {
        let pids = pids.map(|mut p| {
            p.sort_unstable();
            p.dedup();
            p
        });
        let categories = match categories {
            None => None,
            Some(names) => {
                let mut out: Vec<String> = Vec::new();
                for name in names {
                    if let Some((_, members)) = CATEGORY_GROUPS.iter().find(|(g, _)| *g == name) {
                        out.extend(members.iter().map(|m| (*m).to_string()));
                    } else if KNOWN_CATEGORIES.contains(&name.as_str()) {
                        out.push(name);
                    } else {
                        return Err(ProtoError::UnsupportedCategory(name));
                    }
                }
                out.sort();
                out.dedup();
                Some(out)
            }
        };
        Ok(Self { pids, categories })
    }

    /// Whether `rec` passes.
    pub fn matches(&self, rec: &EventRecord) -> bool {
        if let Some(pids) = &self.pids {
            match rec.pid {
                Some(pid) if pids.binary_search(&pid).is_ok() => {}
                _ => return false,
            }
        }
        if let Some(cats) = &self.categories
            && !cats.iter().any(|c| c.as_str() == rec.kind)
        {
            return false;
        }
        true
    }
}

/// Why a subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The session subscribed again (or the connection subscribed for another session).
    Replaced,
    /// `events.unsubscribe`.
    Unsubscribed,
    /// The session was closed, terminated or expired.
    SessionClosed,
    /// The server reset its protocol state (`restart exec`).
    Reset,
}

/// How a subscription ended, and which connection's request ended it (a connection keeps
/// itself open when it ended its own subscription, and closes when someone else did, as
/// the reference closes the stream socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed {
    /// Why.
    pub reason: CloseReason,
    /// The connection whose request caused it, if any.
    pub by_conn: Option<u64>,
}

/// The part of a subscription its connection holds.
#[derive(Debug)]
pub struct SubShared {
    /// Hub-internal id.
    pub id: u64,
    /// The `events.token`.
    pub token: String,
    /// Signalled when there is something to write or the subscription closed.
    pub notify: Notify,
    closed: Mutex<Option<Closed>>,
}

impl SubShared {
    /// Set once the subscription has ended.
    pub fn closed(&self) -> Option<Closed> {
        *self.closed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn close(&self, c: Closed) {
        *self.closed.lock().unwrap_or_else(PoisonError::into_inner) = Some(c);
        self.notify.notify_one();
    }
}

/// A connection's handle on its subscription.
pub type SubHandle = Arc<SubShared>;

#[derive(Debug)]
struct Subscriber {
    shared: SubHandle,
    session: String,
    conn: u64,
    filter: EventFilter,
    cap: usize,
    /// Delivered and not acknowledged, oldest first; the first `written` are on the wire.
    unacked: VecDeque<Arc<EventRecord>>,
    written: usize,
    warnings: VecDeque<Arc<EventRecord>>,
    last_ack: u64,
    drops: u64,
    lost: u64,
    high_water: usize,
    in_overflow: bool,
    drops_since_warning: u64,
}

impl Subscriber {
    fn deliver(&mut self, rec: Arc<EventRecord>, next_seq: &mut u64, now: f64) {
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

    fn ack(&mut self, seq: u64) {
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

    fn take(&mut self, out: &mut Vec<Arc<EventRecord>>) {
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

    fn metrics(&self) -> AckMetrics {
        AckMetrics {
            pending: self.unacked.len(),
            high_water: self.high_water,
            drops: self.drops,
            last_ack: self.last_ack,
        }
    }
}

/// What `events.subscribe` needs.
#[derive(Debug, Clone)]
pub struct SubscribeParams {
    /// Owning session.
    pub session: String,
    /// Connection that will carry the stream.
    pub conn: u64,
    /// Filter.
    pub filter: EventFilter,
    /// Replay history after this seq.
    pub since_seq: Option<u64>,
    /// Ring capacity (the session's `max_events`).
    pub max_events: usize,
}

/// Result of a subscribe: the connection's handle and the acknowledgement fields.
#[derive(Debug, Clone)]
pub struct SubscribeAck {
    /// Handle for the connection.
    pub handle: SubHandle,
    /// `max`.
    pub max: usize,
    /// Last seq issued.
    pub cursor: u64,
    /// Events queued by the replay.
    pub pending: usize,
    /// High-water mark.
    pub high_water: usize,
    /// Echo of the request's `since_seq`.
    pub since_seq: Option<u64>,
}

impl SubscribeAck {
    /// The `events` object of the acknowledgement line (protocol.md §4.2).
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "token": self.handle.token,
            "max": self.max,
            "cursor": self.cursor,
            "retention_ms": RETENTION_MS,
            "pending": self.pending,
            "high_water": self.high_water,
            "drops": 0,
        });
        if let (Some(s), Value::Object(m)) = (self.since_seq, &mut v) {
            m.insert("since_seq".into(), json!(s));
        }
        v
    }
}

/// Per-subscriber counters reported by `events.ack`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckMetrics {
    /// Delivered to this subscriber and not acknowledged.
    pub pending: usize,
    /// Largest `pending` seen.
    pub high_water: usize,
    /// Events dropped from this subscriber's ring.
    pub drops: u64,
    /// Highest seq acknowledged.
    pub last_ack: u64,
}

impl AckMetrics {
    /// The `events` object of the `events.ack` reply.
    pub fn to_json(&self) -> Value {
        json!({
            "pending": self.pending,
            "high_water": self.high_water,
            "drops": self.drops,
            "last_ack": self.last_ack,
        })
    }
}

/// Outcome of [`EventHub::take`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Still subscribed.
    Open,
    /// The subscription has ended.
    Closed(Closed),
}

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

struct BusInner {
    hub: Mutex<EventHub>,
    time: Arc<dyn TimeSource>,
    subscribers: AtomicUsize,
}

/// Thread-safe, cloneable handle on the [`EventHub`]; what the executive bridge publishes
/// through.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<BusInner>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("subscribers", &self.subscriber_count())
            .finish()
    }
}

impl EventBus {
    /// A bus with the standard history size.
    pub fn new(time: Arc<dyn TimeSource>) -> Self {
        Self::with_history(time, HISTORY_CAPACITY)
    }

    /// A bus keeping `history_cap` events for replay.
    pub fn with_history(time: Arc<dyn TimeSource>, history_cap: usize) -> Self {
        Self {
            inner: Arc::new(BusInner {
                hub: Mutex::new(EventHub::new(history_cap)),
                time,
                subscribers: AtomicUsize::new(0),
            }),
        }
    }

    /// Publishes one event and returns its envelope.
    pub fn publish(&self, ev: Event) -> Arc<EventRecord> {
        self.with_hub(|hub, now| hub.publish(ev, now))
    }

    /// Publishes several events under one lock, in order.
    pub fn publish_all(&self, evs: impl IntoIterator<Item = Event>) -> Vec<Arc<EventRecord>> {
        self.with_hub(|hub, now| evs.into_iter().map(|e| hub.publish(e, now)).collect())
    }

    /// Whether anyone is subscribed (lock-free; lets the bridge skip building events that
    /// only matter to live subscribers).
    pub fn has_subscribers(&self) -> bool {
        self.subscriber_count() > 0
    }

    /// Number of live subscriptions (lock-free).
    pub fn subscriber_count(&self) -> usize {
        self.inner.subscribers.load(Ordering::Relaxed)
    }

    /// The last seq issued.
    pub fn cursor(&self) -> u64 {
        self.with_hub(|hub, _| hub.cursor())
    }

    /// Runs `f` on the hub under its lock, with the current time.
    pub fn with_hub<R>(&self, f: impl FnOnce(&mut EventHub, f64) -> R) -> R {
        let now = self.inner.time.now();
        let mut hub = self
            .inner
            .hub
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let r = f(&mut hub, now);
        self.inner
            .subscribers
            .store(hub.subscriber_count(), Ordering::Relaxed);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &'static str, pid: Option<u32>) -> Event {
        Event::new(kind, pid, json!({}))
    }

    fn params(session: &str, conn: u64, cap: usize, since: Option<u64>) -> SubscribeParams {
        SubscribeParams {
            session: session.into(),
            conn,
            filter: EventFilter::all(),
            since_seq: since,
            max_events: cap,
        }
    }

    fn drain(hub: &mut EventHub, h: &SubShared) -> Vec<Arc<EventRecord>> {
        let mut out = Vec::new();
        assert_eq!(hub.take(h, &mut out), Take::Open);
        out
    }

    #[test]
    fn envelope_shape() {
        let mut hub = EventHub::new(8);
        let r = hub.publish(
            Event::new("task_state", Some(3), json!({"new_state": "running"})),
            12.5,
        );
        assert_eq!(
            r.to_value(),
            json!({"seq":1,"ts":12.5,"type":"task_state","pid":3,"data":{"new_state":"running"}})
        );
        let parsed: Value = serde_json::from_str(r.line()).unwrap_or(Value::Null);
        assert_eq!(parsed, r.to_value());
        let g = hub.publish(ev("scheduler", None).at(1.0), 99.0);
        assert_eq!(g.seq, 2);
        assert_eq!(g.ts, 1.0);
        assert_eq!(g.to_value()["pid"], Value::Null);
    }

    #[test]
    fn filters() {
        let f = EventFilter::new(
            Some(vec![2, 1, 2]),
            Some(vec!["debug_break".into(), "stdio".into()]),
        )
        .unwrap_or_default();
        let mut hub = EventHub::new(8);
        assert!(f.matches(&hub.publish(ev("debug_break", Some(1)), 0.0)));
        assert!(f.matches(&hub.publish(ev("stdout", Some(2)), 0.0)));
        assert!(!f.matches(&hub.publish(ev("stdout", Some(3)), 0.0)));
        assert!(!f.matches(&hub.publish(ev("debug_break", None), 0.0)));
        assert!(!f.matches(&hub.publish(ev("trace_step", Some(1)), 0.0)));
        assert_eq!(
            EventFilter::new(None, Some(vec!["bogus".into()])),
            Err(ProtoError::UnsupportedCategory("bogus".into()))
        );
    }

    #[test]
    fn replay_and_eviction() {
        let mut hub = EventHub::new(4);
        for _ in 0..6 {
            hub.publish(ev("task_state", Some(1)), 0.0);
        }
        // History holds 3..=6; 1 and 2 are gone.
        assert_eq!(
            hub.subscribe(params("s", 1, 16, Some(1)), "s:t".into(), 0.0)
                .err(),
            Some(ProtoError::SeqEvicted)
        );
        let ack = hub.subscribe(params("s", 1, 16, Some(2)), "s:t".into(), 0.0);
        let ack = ack.unwrap_or_else(|_| unreachable!());
        assert_eq!(ack.cursor, 6);
        assert_eq!(ack.pending, 4);
        let seqs: Vec<u64> = drain(&mut hub, &ack.handle).iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [3, 4, 5, 6]);
        assert_eq!(ack.to_json()["since_seq"], json!(2));
        assert_eq!(ack.to_json()["retention_ms"], json!(5000));
    }

    #[test]
    fn live_delivery_ack_and_pending_per_subscriber() {
        let mut hub = EventHub::new(64);
        let narrow = EventFilter::new(None, Some(vec!["debug_break".into()])).unwrap_or_default();
        let mut p = params("a", 1, 8, None);
        p.filter = narrow;
        let a = hub
            .subscribe(p, "a:1".into(), 0.0)
            .unwrap_or_else(|_| unreachable!());
        // 1000 unrelated events do not count against a narrow subscriber.
        for _ in 0..1000 {
            hub.publish(ev("trace_step", Some(1)), 0.0);
        }
        let b = hub.publish(ev("debug_break", Some(1)), 0.0);
        assert_eq!(hub.metrics("a").map(|m| m.pending), Some(1));
        assert_eq!(drain(&mut hub, &a.handle).len(), 1);
        let m = hub.ack("a", b.seq).unwrap_or_else(|| unreachable!());
        assert_eq!((m.pending, m.drops, m.last_ack), (0, 0, b.seq));
        // A lower ack is ignored.
        let m = hub.ack("a", 1).unwrap_or_else(|| unreachable!());
        assert_eq!(m.last_ack, b.seq);
        assert!(hub.ack("nobody", 1).is_none());
    }

    #[test]
    fn overflow_drops_oldest_and_warns_rate_limited() {
        let mut hub = EventHub::new(16);
        let a = hub
            .subscribe(params("a", 1, 4, None), "a:1".into(), 0.0)
            .unwrap_or_else(|_| unreachable!());
        for _ in 0..4 {
            hub.publish(ev("trace_step", Some(1)), 0.0);
        }
        assert_eq!(drain(&mut hub, &a.handle).len(), 4);
        // Ring full of written, unacked events; 12 more arrive without any ack.
        for _ in 0..12 {
            hub.publish(ev("trace_step", Some(1)), 0.0);
        }
        let out = drain(&mut hub, &a.handle);
        let warnings: Vec<&Arc<EventRecord>> = out.iter().filter(|r| r.kind == "warning").collect();
        let normal = out.len() - warnings.len();
        // Only the last 4 fit in the ring; the 8 before were dropped unwritten.
        assert_eq!(normal, 4);
        // One warning at the start of the episode (drop 1), then one per 4 further
        // drops (drops 5 and 9).
        assert_eq!(warnings.len(), 3);
        assert!(
            warnings
                .iter()
                .all(|w| w.data["reason"] == "backpressure" && w.pid.is_none())
        );
        assert_eq!(warnings[0].data["subscription"], json!("a:1"));
        // Lines come out in seq order.
        assert!(out.windows(2).all(|w| w[0].seq < w[1].seq));
        let m = hub.metrics("a").unwrap_or_else(|| unreachable!());
        assert_eq!(m.pending, 4);
        assert_eq!(m.drops, 12);
        // Warnings are not in history.
        assert_eq!(hub.history_len(), 16);
        // Acking everything ends the episode; the next overflow warns at once again.
        hub.ack("a", hub.cursor());
        for _ in 0..5 {
            hub.publish(ev("trace_step", Some(1)), 0.0);
        }
        let out = drain(&mut hub, &a.handle);
        assert_eq!(out.iter().filter(|r| r.kind == "warning").count(), 1);
    }

    #[test]
    fn warning_queue_is_bounded() {
        let mut hub = EventHub::new(0);
        let a = hub
            .subscribe(params("a", 1, 1, None), "a:1".into(), 0.0)
            .unwrap_or_else(|_| unreachable!());
        for _ in 0..10_000 {
            hub.publish(ev("trace_step", Some(1)), 0.0);
        }
        let out = drain(&mut hub, &a.handle);
        assert!(out.len() <= WARNING_QUEUE_CAP + 1);
        assert_eq!(hub.history_len(), 0);
    }

    #[test]
    fn ack_discards_unwritten() {
        let mut hub = EventHub::new(16);
        let a = hub
            .subscribe(params("a", 1, 8, None), "a:1".into(), 0.0)
            .unwrap_or_else(|_| unreachable!());
        for _ in 0..5 {
            hub.publish(ev("trace_step", Some(1)), 0.0);
        }
        hub.ack("a", 3);
        let seqs: Vec<u64> = drain(&mut hub, &a.handle).iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [4, 5]);
    }

    #[test]
    fn replace_unsubscribe_and_close_reasons() {
        let mut hub = EventHub::new(16);
        let first = hub
            .subscribe(params("a", 1, 8, None), "a:1".into(), 0.0)
            .unwrap_or_else(|_| unreachable!());
        let second = hub
            .subscribe(params("a", 2, 8, None), "a:2".into(), 0.0)
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(
            hub.take(&first.handle, &mut Vec::new()),
            Take::Closed(Closed {
                reason: CloseReason::Replaced,
                by_conn: Some(2)
            })
        );
        assert_eq!(hub.subscriber_count(), 1);
        assert!(hub.unsubscribe_session("a", CloseReason::SessionClosed, None));
        assert!(!hub.unsubscribe_session("a", CloseReason::Unsubscribed, None));
        assert_eq!(
            second.handle.closed().map(|c| c.reason),
            Some(CloseReason::SessionClosed)
        );
        let third = hub
            .subscribe(params("b", 3, 8, None), "b:1".into(), 0.0)
            .unwrap_or_else(|_| unreachable!());
        hub.connection_closed(3);
        assert!(third.handle.closed().is_some());
        assert_eq!(hub.subscriber_count(), 0);
    }

    #[test]
    fn bus_counts_subscribers() {
        let bus = EventBus::new(Arc::new(crate::time::ManualTime::new(5.0)));
        assert!(!bus.has_subscribers());
        let ack =
            bus.with_hub(|hub, now| hub.subscribe(params("a", 1, 4, None), "a:x".into(), now));
        assert!(ack.is_ok());
        assert!(bus.has_subscribers());
        let recs = bus.publish_all([ev("stdout", Some(1)), ev("stderr", Some(1))]);
        assert_eq!(recs.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(recs[0].ts, 5.0);
        assert_eq!(bus.cursor(), 2);
    }
}
