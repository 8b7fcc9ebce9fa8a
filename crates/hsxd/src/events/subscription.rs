//! The public face of a subscription: what its connection holds ([`SubShared`]), why it
//! ended, what `events.subscribe` takes and answers, and the `events.ack` counters.

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};
use tokio::sync::Notify;

use super::filter::EventFilter;

/// Reported as `retention_ms` in the subscribe acknowledgement (as the reference; no
/// time-based eviction happens).
pub const RETENTION_MS: u64 = 5000;

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
    pub(super) closed: Mutex<Option<Closed>>,
}

impl SubShared {
    /// Set once the subscription has ended.
    pub fn closed(&self) -> Option<Closed> {
        *self.closed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn close(&self, c: Closed) {
        *self.closed.lock().unwrap_or_else(PoisonError::into_inner) = Some(c);
        self.notify.notify_one();
    }
}

/// A connection's handle on its subscription.
pub type SubHandle = Arc<SubShared>;

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

/// Outcome of [`EventHub::take`](super::hub::EventHub::take).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Still subscribed.
    Open,
    /// The subscription has ended.
    Closed(Closed),
}
