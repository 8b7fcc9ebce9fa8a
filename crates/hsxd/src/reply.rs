//! Reply envelope.
//!
//! Every reply is `{"version":1,"status":"ok",...payload}` or
//! `{"version":1,"status":"error","error":"<text>"}`, compact, on one line. A reply never
//! carries a top-level `type` (clients tell events from replies by "has `type` and no
//! `status`") nor a top-level `seq` (hsxdbg would take it for a request id), so those keys
//! are dropped from payloads.

use serde_json::{Map, Value};

use crate::args::Obj;
use crate::error::ProtoError;

/// Keys a payload may never set at the top level of a reply.
pub const RESERVED_KEYS: [&str; 5] = ["version", "status", "error", "type", "seq"];

const PONG: &[u8] = br#"{"version":1,"status":"ok","reply":"pong"}"#;

/// One reply line.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The `ping` answer, pre-serialised because it is the latency benchmark.
    Pong,
    /// Success with top-level payload fields.
    Ok(Obj),
    /// Failure with the error text.
    Error(String),
}

impl Reply {
    /// `{"version":1,"status":"ok"}`.
    pub fn ok() -> Self {
        Reply::Ok(Map::new())
    }

    /// Success with the whole payload under one key (`info`, `tasks`, `clock`, ...).
    pub fn with(key: &str, value: Value) -> Self {
        Reply::ok().and(key, value)
    }

    /// Adds one top-level field (ignored for reserved keys and for error replies).
    pub fn and(mut self, key: &str, value: Value) -> Self {
        if let Reply::Ok(map) = &mut self
            && !RESERVED_KEYS.contains(&key)
        {
            map.insert(key.to_string(), value);
        }
        self
    }

    /// Success with `fields` spread over the top level (`mailbox_snapshot`, `send`, `listen`).
    pub fn spread(fields: Obj) -> Self {
        let mut map = fields;
        for k in RESERVED_KEYS {
            map.remove(k);
        }
        Reply::Ok(map)
    }

    /// The error reply for `err`.
    pub fn error(err: &ProtoError) -> Self {
        Reply::Error(err.to_string())
    }

    /// Whether this is a success reply.
    pub fn is_ok(&self) -> bool {
        !matches!(self, Reply::Error(_))
    }

    /// Appends the compact JSON line, `\n` included, to `out`.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Pong => out.extend_from_slice(PONG),
            Reply::Ok(map) => {
                out.extend_from_slice(br#"{"version":1,"status":"ok""#);
                for (k, v) in map {
                    if RESERVED_KEYS.contains(&k.as_str()) {
                        continue;
                    }
                    out.push(b',');
                    push_json(out, &Value::String(k.clone()));
                    out.push(b':');
                    push_json(out, v);
                }
                out.push(b'}');
            }
            Reply::Error(text) => {
                out.extend_from_slice(br#"{"version":1,"status":"error","error":"#);
                push_json(out, &Value::String(text.clone()));
                out.push(b'}');
            }
        }
        out.push(b'\n');
    }

    /// The reply as a JSON value (for in-process callers and tests).
    pub fn to_value(&self) -> Value {
        let mut line = Vec::new();
        self.write_line(&mut line);
        serde_json::from_slice(&line).unwrap_or(Value::Null)
    }
}

fn push_json(out: &mut Vec<u8>, v: &Value) {
    // Writing a `Value` into a Vec cannot fail: keys are strings and there is no I/O.
    if serde_json::to_writer(&mut *out, v).is_err() {
        out.extend_from_slice(b"null");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(r: &Reply) -> String {
        let mut v = Vec::new();
        r.write_line(&mut v);
        String::from_utf8(v).unwrap_or_default()
    }

    #[test]
    fn shapes() {
        assert_eq!(
            line(&Reply::Pong),
            "{\"version\":1,\"status\":\"ok\",\"reply\":\"pong\"}\n"
        );
        assert_eq!(line(&Reply::ok()), "{\"version\":1,\"status\":\"ok\"}\n");
        assert_eq!(
            line(&Reply::error(&ProtoError::InvalidJson)),
            "{\"version\":1,\"status\":\"error\",\"error\":\"invalid_json\"}\n"
        );
        let r = Reply::with("tasks", json!({"tasks": [], "current_pid": null}));
        assert_eq!(
            r.to_value(),
            json!({"version":1,"status":"ok","tasks":{"tasks":[],"current_pid":null}})
        );
    }

    #[test]
    fn reserved_keys_never_leak() {
        let mut m = Obj::new();
        m.insert("type".into(), json!("x"));
        m.insert("seq".into(), json!(3));
        m.insert("status".into(), json!("weird"));
        m.insert("descriptors".into(), json!([]));
        let v = Reply::spread(m).and("type", json!(1)).to_value();
        assert_eq!(v, json!({"version":1,"status":"ok","descriptors":[]}));
    }

    #[test]
    fn error_text_is_escaped() {
        let r = Reply::Error("bad \"x\"\n".into());
        let v = r.to_value();
        assert_eq!(v["error"], json!("bad \"x\"\n"));
        assert!(!line(&r).trim_end().contains('\n'));
    }
}
