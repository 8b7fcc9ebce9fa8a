//! Request handling, independent of sockets: envelope checks, session checks, command
//! parsing and execution. [`Dispatcher::handle_line`] turns one request line into one
//! [`Outcome`].
//!
//! Order of checks (as the reference): JSON → object → `version` → lazy session expiry →
//! `session.*` commands (they check sessions themselves) → for anything else, a `session`
//! that names no live session is `session_required` → commands that need a session and
//! have none are `session_required` → `unknown_cmd` / argument errors → PID lock → backend.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};

use crate::args::{Obj, parse_int};
use crate::cmd::{Command, is_session_command};
use crate::codec::parse_request;
use crate::dmesg::Dmesg;
use crate::error::ProtoError;
use crate::events::{CloseReason, EventBus, SubHandle};
use crate::exec_bridge::Backend;
use crate::reply::Reply;
use crate::session::{SessionConfig, SessionTable};
use crate::time::TimeSource;

/// Something the connection must do after writing the reply.
#[derive(Debug)]
pub enum PostAction {
    /// Start streaming this subscription's events on the connection.
    Subscribed(SubHandle),
    /// Stop the server.
    Shutdown,
    /// Reset sessions, subscriptions and connections shortly (`restart exec`).
    RestartExec,
}

/// A reply and an optional follow-up.
#[derive(Debug)]
pub struct Outcome {
    /// The reply line.
    pub reply: Reply,
    /// What to do after sending it.
    pub action: Option<PostAction>,
}

impl Outcome {
    /// Just a reply.
    pub fn reply(reply: Reply) -> Self {
        Self {
            reply,
            action: None,
        }
    }

    /// Adds a follow-up.
    pub fn then(mut self, action: PostAction) -> Self {
        self.action = Some(action);
        self
    }
}

impl From<Reply> for Outcome {
    fn from(reply: Reply) -> Self {
        Outcome::reply(reply)
    }
}

/// Commands that need a `session` field at all.
fn requires_session(name: &str) -> bool {
    matches!(
        name,
        "session.keepalive"
            | "session.close"
            | "session.current"
            | "session.terminate"
            | "events.subscribe"
            | "events.ack"
            | "events.unsubscribe"
    )
}

/// The shared protocol state: backend, event bus, sessions, log ring, time.
pub struct Dispatcher {
    backend: Arc<dyn Backend>,
    bus: EventBus,
    sessions: Mutex<SessionTable>,
    dmesg: Dmesg,
    time: Arc<dyn TimeSource>,
    next_conn: AtomicU64,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("bus", &self.bus)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher with default session limits.
    pub fn new(backend: Arc<dyn Backend>, bus: EventBus, time: Arc<dyn TimeSource>) -> Self {
        Self::with_config(backend, bus, time, SessionConfig::default(), Dmesg::new())
    }

    /// A dispatcher with explicit session limits and log ring.
    pub fn with_config(
        backend: Arc<dyn Backend>,
        bus: EventBus,
        time: Arc<dyn TimeSource>,
        sessions: SessionConfig,
        dmesg: Dmesg,
    ) -> Self {
        backend.attach_log(dmesg.clone());
        Self {
            backend,
            bus,
            sessions: Mutex::new(SessionTable::new(sessions)),
            dmesg,
            time,
            next_conn: AtomicU64::new(1),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The event bus.
    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// The log ring.
    pub fn dmesg(&self) -> &Dmesg {
        &self.dmesg
    }

    /// The time source.
    pub fn now(&self) -> f64 {
        self.time.now()
    }

    /// A fresh connection id.
    pub fn new_connection_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs `f` on the session table under its lock.
    pub fn with_sessions<R>(&self, f: impl FnOnce(&mut SessionTable) -> R) -> R {
        let mut t = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut t)
    }

    /// Closes a session: releases its locks, ends its subscription, logs it. `false` when
    /// there was no such session.
    pub fn close_session(
        &self,
        id: &str,
        why: &str,
        reason: CloseReason,
        by_conn: Option<u64>,
    ) -> bool {
        let Some(s) = self.with_sessions(|t| t.close(id)) else {
            return false;
        };
        self.bus
            .with_hub(|hub, _| hub.unsubscribe_session(id, reason, by_conn));
        self.dmesg.log(
            self.now(),
            "info",
            "session closed",
            json!({"session_id": id, "reason": why, "pid_locks": s.pid_locks}),
        );
        true
    }

    fn after_expiry(&self, expired: Vec<crate::session::Session>) {
        for s in expired {
            self.bus.with_hub(|hub, _| {
                hub.unsubscribe_session(&s.id, CloseReason::SessionClosed, None)
            });
            self.dmesg.log(
                self.now(),
                "info",
                "session closed",
                json!({"session_id": s.id, "reason": "timeout", "pid_locks": s.pid_locks}),
            );
        }
    }

    /// Expires idle sessions now (the server calls this periodically, so an idle server
    /// still releases locks on time).
    pub fn sweep_sessions(&self) {
        let now = self.now();
        let expired = self.with_sessions(|t| t.expire(now));
        self.after_expiry(expired);
    }

    /// Drops every session and subscription (`restart exec`) and tells the backend.
    pub fn reset(&self) {
        let gone = self.with_sessions(SessionTable::clear);
        self.bus.with_hub(|hub, _| hub.reset());
        self.dmesg.log(
            self.now(),
            "info",
            "protocol state reset",
            json!({"sessions": gone.len()}),
        );
        self.backend.restart_exec();
    }

    /// A connection has gone: its subscription ends (its session does not).
    pub fn connection_closed(&self, conn: u64) {
        self.bus.with_hub(|hub, _| hub.connection_closed(conn));
    }

    /// Handles one request line from connection `conn`.
    pub fn handle_line(&self, line: &str, conn: u64) -> Outcome {
        match parse_request(line) {
            Ok(obj) => self.handle_request(&obj, conn),
            Err(e) => Outcome::reply(Reply::error(&e)),
        }
    }

    /// Handles one request object from connection `conn`.
    pub fn handle_request(&self, obj: &Obj, conn: u64) -> Outcome {
        match self.try_handle(obj, conn) {
            Ok(out) => out,
            Err(e) => {
                tracing::debug!(error = %e, "request failed");
                Outcome::reply(Reply::error(&e))
            }
        }
    }

    fn try_handle(&self, obj: &Obj, conn: u64) -> Result<Outcome, ProtoError> {
        let name = match obj.get("cmd") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.trim().to_lowercase(),
            Some(other) => other.to_string().to_lowercase(),
        };
        match obj.get("version") {
            None | Some(Value::Null) => {}
            Some(v) => match parse_int(v) {
                Some(1) => {}
                Some(n) => return Err(ProtoError::UnsupportedVersion(n)),
                None => return Err(ProtoError::InvalidRequest("version")),
            },
        }
        let now = self.now();
        let expired = self.with_sessions(|t| t.prune(now));
        if !expired.is_empty() {
            self.after_expiry(expired);
        }
        let session = match obj.get("session") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim()),
            _ => None,
        };
        if !is_session_command(&name)
            && let Some(id) = session
        {
            self.with_sessions(|t| t.touch(id, now).map(|_| ()))?;
        }
        if session.is_none() && requires_session(&name) {
            return Err(ProtoError::SessionRequired);
        }
        let command = Command::parse(&name, obj)?;
        let ctx = Ctx {
            d: self,
            session,
            conn,
        };
        command.execute(&ctx)
    }
}

/// What a command sees while it runs.
pub struct Ctx<'a> {
    d: &'a Dispatcher,
    /// The request's session id (trimmed, non-empty), already validated for
    /// non-`session.*` commands.
    pub session: Option<&'a str>,
    /// The connection the request came in on.
    pub conn: u64,
}

impl<'a> Ctx<'a> {
    /// The backend.
    pub fn backend(&self) -> &'a dyn Backend {
        self.d.backend.as_ref()
    }

    /// The dispatcher.
    pub fn dispatcher(&self) -> &'a Dispatcher {
        self.d
    }

    /// The log ring.
    pub fn dmesg(&self) -> &'a Dmesg {
        &self.d.dmesg
    }

    /// Current time.
    pub fn now(&self) -> f64 {
        self.d.now()
    }

    /// The PID-lock check for this request's session.
    pub fn check_pid(&self, pid: u32) -> Result<(), ProtoError> {
        self.d.with_sessions(|t| t.check_pid(pid, self.session))
    }

    /// Runs a possibly long backend call without stalling other connections: on a
    /// multi-thread runtime the worker hands its other tasks off first.
    pub fn heavy<R>(&self, f: impl FnOnce() -> R) -> R {
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(f)
            }
            _ => f(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec_bridge::Detached;
    use crate::time::ManualTime;

    fn dispatcher() -> (Dispatcher, Arc<ManualTime>) {
        let time = Arc::new(ManualTime::new(1000.0));
        let bus = EventBus::new(time.clone());
        (Dispatcher::new(Arc::new(Detached), bus, time.clone()), time)
    }

    fn req(d: &Dispatcher, line: &str) -> Value {
        d.handle_line(line, 1).reply.to_value()
    }

    fn err(d: &Dispatcher, line: &str) -> String {
        let v = req(d, line);
        assert_eq!(v["status"], "error", "{line} -> {v}");
        v["error"].as_str().unwrap_or_default().to_string()
    }

    #[test]
    fn envelope_rules() {
        let (d, _) = dispatcher();
        assert_eq!(
            req(&d, r#"{"cmd":"ping"}"#),
            json!({"version":1,"status":"ok","reply":"pong"})
        );
        assert_eq!(req(&d, r#"{"cmd":"PING","version":"1"}"#)["status"], "ok");
        assert_eq!(req(&d, r#"{"cmd":"ping","version":1.0}"#)["status"], "ok");
        assert_eq!(
            err(&d, r#"{"cmd":"ping","version":2}"#),
            "unsupported_version:2"
        );
        assert_eq!(
            err(&d, r#"{"cmd":"ping","version":"x"}"#),
            "invalid_request:version"
        );
        assert_eq!(err(&d, "not json"), "invalid_json");
        assert_eq!(err(&d, "[1,2]"), "invalid_request:not_an_object");
        assert_eq!(err(&d, r#"{"cmd":"frobnicate"}"#), "unknown_cmd:frobnicate");
        assert_eq!(err(&d, r#"{}"#), "unknown_cmd:");
        assert_eq!(
            err(&d, r#"{"cmd":"ps","session":"no-such-id"}"#),
            "session_required"
        );
        assert_eq!(
            err(&d, r#"{"cmd":"ping","session":"nope"}"#),
            "session_required"
        );
        // A blank session counts as absent.
        assert_eq!(req(&d, r#"{"cmd":"ping","session":"  "}"#)["status"], "ok");
        assert_eq!(
            err(&d, r#"{"cmd":"events.ack","seq":"x"}"#),
            "session_required"
        );
    }

    #[test]
    fn sessions_and_locks() {
        let (d, time) = dispatcher();
        let o = req(
            &d,
            r#"{"cmd":"session.open","client":"conf","capabilities":{"features":["events","stack","bogus"],"max_events":4096},"pid_lock":3,"heartbeat_s":400}"#,
        );
        assert_eq!(o["session"]["features"], json!(["events", "stack"]));
        assert_eq!(o["session"]["max_events"], json!(2048));
        assert_eq!(o["session"]["heartbeat_s"], json!(300));
        assert_eq!(o["session"]["pid_lock"], json!(3));
        let owner = o["session"]["id"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            err(&d, r#"{"cmd":"session.open","pid_lock":[3,4]}"#),
            "pid_locked:3"
        );
        let obs = req(&d, r#"{"cmd":"session.open","client":"obs"}"#);
        let obs = obs["session"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            err(
                &d,
                &format!(r#"{{"cmd":"pause","pid":3,"session":"{obs}"}}"#)
            ),
            "pid_locked:3"
        );
        assert_eq!(err(&d, r#"{"cmd":"pause","pid":"3"}"#), "pid_locked:3");
        // The owner passes the lock and reaches the (detached) backend.
        assert!(
            err(
                &d,
                &format!(r#"{{"cmd":"pause","pid":3,"session":"{owner}"}}"#)
            )
            .starts_with("unsupported:pause")
        );
        // PID 4 was not locked by the failed open.
        assert!(err(&d, r#"{"cmd":"pause","pid":4}"#).starts_with("unsupported:"));
        // Read-only commands are not lock-checked.
        assert!(err(&d, r#"{"cmd":"bp","pid":3}"#).starts_with("unsupported:bp"));
        assert_eq!(
            err(&d, r#"{"cmd":"bp.add","pid":3,"address":16}"#),
            "pid_locked:3"
        );
        // Expiry: the owner's 300 s heartbeat lapses; the lock goes with it.
        time.advance(301.0);
        assert!(err(&d, r#"{"cmd":"pause","pid":3}"#).starts_with("unsupported:"));
        assert_eq!(
            err(&d, &format!(r#"{{"cmd":"ping","session":"{owner}"}}"#)),
            "session_required"
        );
        let list = req(&d, r#"{"cmd":"session.list"}"#);
        assert_eq!(list["sessions"].as_array().map(Vec::len), Some(0));
    }

    #[test]
    fn terminate_and_close() {
        let (d, _) = dispatcher();
        let a = req(&d, r#"{"cmd":"session.open","pid_lock":[1]}"#);
        let a = a["session"]["id"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            err(&d, r#"{"cmd":"session.terminate","target":"x"}"#),
            "session_required"
        );
        assert_eq!(
            err(&d, r#"{"cmd":"session.terminate","session":"whoever"}"#),
            "session.terminate requires 'target'"
        );
        assert_eq!(
            err(
                &d,
                r#"{"cmd":"session.terminate","session":"whoever","target":"nope"}"#
            ),
            "session_not_found"
        );
        let t = req(
            &d,
            &format!(r#"{{"cmd":"session.terminate","session":"whoever","target":"{a}"}}"#),
        );
        assert_eq!(t["closed"], json!({"id": a, "reason": "admin_close"}));
        assert_eq!(
            err(&d, &format!(r#"{{"cmd":"session.close","session":"{a}"}}"#)),
            "session_required"
        );
        let logs = req(&d, r#"{"cmd":"dmesg"}"#);
        let msgs: Vec<&str> = logs["logs"]
            .as_array()
            .map(|l| l.iter().filter_map(|e| e["message"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(msgs, ["session opened", "session closed"]);
    }

    #[test]
    fn detached_backend_shapes() {
        let (d, _) = dispatcher();
        assert_eq!(
            req(&d, r#"{"cmd":"ps"}"#),
            json!({"version":1,"status":"ok","tasks":{"tasks":[],"current_pid":null}})
        );
        let info = req(&d, r#"{"cmd":"info","pid":"2"}"#);
        assert_eq!(info["info"]["selected_error"], json!("unknown pid 2"));
        assert_eq!(info["info"]["auto"], json!(false));
        let clock = req(&d, r#"{"cmd":"clock"}"#);
        assert_eq!(clock["clock"]["mode"], json!("stopped"));
        assert_eq!(clock["clock"]["rate_hz"], json!(0.0));
        assert!(err(&d, r#"{"cmd":"step"}"#).contains("unsupported"));
        let r = req(&d, r#"{"cmd":"restart","targets":"vm"}"#);
        assert!(
            r["restart"]["vm"]
                .as_str()
                .unwrap_or_default()
                .starts_with("error:unsupported")
        );
        assert!(r["restart"].get("exec").is_none());
    }
}
