//! What is published: the [`Event`] the bridge hands in and the numbered [`EventRecord`]
//! every reader shares, with its `{seq,ts,type,pid,data}` envelope.

use std::borrow::Cow;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

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
    pub(super) fn new(
        seq: u64,
        ts: f64,
        kind: Cow<'static, str>,
        pid: Option<u32>,
        data: Value,
    ) -> Self {
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
