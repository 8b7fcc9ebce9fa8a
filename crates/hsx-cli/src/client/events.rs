//! Event streaming: a session of its own, `events.subscribe`, then events line by line.
//!
//! hsxd keeps reading requests on a subscribed socket (protocol.md §4.1, design.md §4
//! item 10), so acks and keepalives go out on the same connection and their replies are
//! skipped here. The session is opened with a long heartbeat and kept alive while the
//! stream is idle, so a quiet system does not expire it.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::{Client, ClientError, ClientResult, is_event, request};

/// Acknowledge after this many events, so the server's pending count stays low.
const ACK_EVERY: u32 = 32;
/// Heartbeat asked for, seconds (the server clamps to 5..300).
const HEARTBEAT_S: u64 = 60;
/// Keepalive period while idle: well inside the heartbeat.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// Subscription filters (protocol.md §4.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only these PIDs (empty: all).
    pub pids: Vec<u32>,
    /// Only these event types or groups (empty: all).
    pub categories: Vec<String>,
    /// Replay history after this seq first.
    pub since_seq: Option<u64>,
}

impl EventFilter {
    fn to_json(&self) -> Value {
        let mut f = Map::new();
        if !self.pids.is_empty() {
            f.insert("pid".into(), json!(self.pids));
        }
        if !self.categories.is_empty() {
            f.insert("categories".into(), json!(self.categories));
        }
        if let Some(s) = self.since_seq {
            f.insert("since_seq".into(), json!(s));
        }
        Value::Object(f)
    }
}

/// A live event subscription on its own connection.
#[derive(Debug)]
pub struct EventStream {
    client: Client,
    session: String,
    ack: Value,
    last_seq: Option<u64>,
    unacked: u32,
    last_sent: Instant,
}

impl EventStream {
    /// Opens a session named `client_name` and subscribes with `filter`.
    pub fn open(addr: &str, client_name: &str, filter: &EventFilter) -> ClientResult<EventStream> {
        let mut client = Client::connect(addr)?;
        let opened = client.call(&request(
            "session.open",
            json!({
                "client": client_name,
                "capabilities": {"features": ["events"], "max_events": 1024},
                "heartbeat_s": HEARTBEAT_S,
            }),
        ))?;
        let session = opened
            .pointer("/session/id")
            .or_else(|| opened.get("session_id"))
            .and_then(Value::as_str)
            .ok_or_else(|| ClientError::BadReply("session.open reply has no session id".into()))?
            .to_string();
        let ack = match client.call(&request(
            "events.subscribe",
            json!({"session": session, "filters": filter.to_json()}),
        )) {
            Ok(a) => a,
            Err(e) => {
                let _ = client.call(&request("session.close", json!({"session": session})));
                return Err(e);
            }
        };
        let ack = ack.get("events").cloned().unwrap_or(Value::Null);
        Ok(EventStream {
            client,
            session,
            ack,
            last_seq: None,
            unacked: 0,
            last_sent: Instant::now(),
        })
    }

    /// The last seq issued when the subscription started (replayed events are ≤ it).
    pub fn cursor(&self) -> Option<u64> {
        self.ack.get("cursor").and_then(Value::as_u64)
    }

    /// The next event, or `Ok(None)` when `timeout` passes without one. A closed stream
    /// (server restart, session ended) is [`ClientError::Closed`].
    pub fn next_event(&mut self, timeout: Duration) -> ClientResult<Option<Value>> {
        let deadline = Instant::now() + timeout;
        loop {
            self.housekeeping()?;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let Some(obj) = self.client.read_line_timeout(left.min(KEEPALIVE))? else {
                continue;
            };
            if is_event(&obj) {
                if let Some(seq) = obj.get("seq").and_then(Value::as_u64) {
                    self.last_seq = Some(self.last_seq.map_or(seq, |s| s.max(seq)));
                }
                self.unacked += 1;
                return Ok(Some(Value::Object(obj)));
            }
            // A reply to our own ack/keepalive; a lost session means the stream is over.
            if let Some(err) = super::reply_error(&Value::Object(obj))
                && err.starts_with("session_required")
            {
                return Err(ClientError::Closed);
            }
        }
    }

    fn housekeeping(&mut self) -> ClientResult<()> {
        if self.unacked >= ACK_EVERY
            && let Some(seq) = self.last_seq
        {
            self.client.send(&request(
                "events.ack",
                json!({"session": self.session, "seq": seq}),
            ))?;
            self.unacked = 0;
            self.last_sent = Instant::now();
        } else if self.last_sent.elapsed() >= KEEPALIVE {
            self.client.send(&request(
                "session.keepalive",
                json!({"session": self.session}),
            ))?;
            self.last_sent = Instant::now();
        }
        Ok(())
    }

    /// Ends the subscription and the session (best effort).
    pub fn close(mut self) {
        let _ = self
            .client
            .send(&request("session.close", json!({"session": self.session})));
    }
}
