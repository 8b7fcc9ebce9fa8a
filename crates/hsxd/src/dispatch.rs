//! Request handling, independent of sockets: envelope checks, session checks, command
//! parsing and execution. [`handle_line`] turns one request line into one [`Outcome`].
//!
//! Order of checks (as the reference): JSON → object → `version` → lazy session expiry →
//! `session.*` commands (they check sessions themselves) → for anything else, a `session`
//! that names no live session is `session_required` → commands that need a session and
//! have none are `session_required` → `unknown_cmd` / argument errors → PID lock → the
//! command.

use std::sync::Arc;

use serde_json::Value;

use crate::args::{Obj, parse_int};
use crate::cmd::{Command, is_session_command};
use crate::codec::parse_request;
use crate::context::{Ctx, Outcome, Peer};
use crate::error::ProtoError;
use crate::policy::{Cap, Policy};
use crate::reply::Reply;
use crate::state::Daemon;

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

/// Handles one request line from connection `conn`, under the default policy (an
/// anonymous client that may do everything).
pub fn handle_line(d: &Daemon, line: &str, conn: u64) -> Outcome {
    handle_line_as(d, line, &Peer::anonymous(conn, Arc::new(Policy::default())))
}

/// Handles one request line from `peer`.
pub fn handle_line_as(d: &Daemon, line: &str, peer: &Peer) -> Outcome {
    match parse_request(line) {
        Ok(obj) => handle_request_as(d, &obj, peer),
        Err(e) => Outcome::reply(Reply::error(&e)),
    }
}

/// Handles one request object from connection `conn`, under the default policy.
pub fn handle_request(d: &Daemon, obj: &Obj, conn: u64) -> Outcome {
    handle_request_as(d, obj, &Peer::anonymous(conn, Arc::new(Policy::default())))
}

/// Handles one request object from `peer`.
pub fn handle_request_as(d: &Daemon, obj: &Obj, peer: &Peer) -> Outcome {
    match try_handle(d, obj, peer) {
        Ok(out) => out,
        Err(e) => {
            tracing::debug!(error = %crate::report::log_safe(&e.to_string()), "request failed");
            Outcome::reply(Reply::error(&e))
        }
    }
}

fn try_handle(d: &Daemon, obj: &Obj, peer: &Peer) -> Result<Outcome, ProtoError> {
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
    let now = d.now();
    let expired = d.with_sessions(|t| t.prune(now));
    if !expired.is_empty() {
        d.after_expiry(expired);
    }
    let session = match obj.get("session") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim()),
        _ => None,
    };
    // A session id is usable only by the principal (and, if the policy says so, the
    // connection) that opened it; to anyone else it does not exist.
    let owned = session.map(|id| {
        d.with_sessions(|t| t.authorize(id, &peer.grant.name, peer.conn, peer.policy.binding))
    });
    let session_cmd = is_session_command(&name);
    // `session.open` ignores a `session` field; `session.terminate` and `session.list`
    // accept any (the reference does not check the actor) and then act with the
    // principal's own capabilities.
    let any_actor = matches!(
        name.as_str(),
        "session.open" | "session.terminate" | "session.list"
    );
    let caps = match owned {
        Some(Ok(caps)) if name != "session.open" => caps,
        Some(Err(e)) if !any_actor => return Err(e),
        _ => peer.grant.caps,
    };
    if !session_cmd && let Some(id) = session {
        d.with_sessions(|t| t.touch(id, now).map(|_| ()))?;
    }
    if session.is_none() && requires_session(&name) {
        return Err(ProtoError::SessionRequired);
    }
    let command = Command::parse(&name, obj)?;
    let ctx = Ctx::for_peer(d, session, peer, caps);
    let needed = command.required();
    ctx.require(needed)?;
    if needed != Cap::Observe
        && peer.grant.apps.is_some()
        && let Some(pid) = command.target_pid()
    {
        let app = d.exec().task(pid).map(|t| t.app_name_base);
        if let Ok(app) = app
            && !peer.grant.allows_app(&app)
        {
            return Err(ProtoError::msg(format!("permission_denied:app:{app}")));
        }
    }
    command.execute(&ctx)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::events::EventBus;
    use crate::time::ManualTime;

    /// A daemon over an executive with no tasks, on a manual clock.
    fn daemon() -> (Daemon, Arc<ManualTime>) {
        let time = Arc::new(ManualTime::new(1000.0));
        let bus = EventBus::new(time.clone());
        (Daemon::in_memory(bus, time.clone()), time)
    }

    fn req(d: &Daemon, line: &str) -> Value {
        handle_line(d, line, 1).reply.to_value()
    }

    fn err(d: &Daemon, line: &str) -> String {
        let v = req(d, line);
        assert_eq!(v["status"], "error", "{line} -> {v}");
        v["error"].as_str().unwrap_or_default().to_string()
    }

    #[test]
    fn envelope_rules() {
        let (d, _) = daemon();
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
        let (d, time) = daemon();
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
        // The owner passes the lock and reaches the executive (which has no task 3).
        assert_eq!(
            err(
                &d,
                &format!(r#"{{"cmd":"pause","pid":3,"session":"{owner}"}}"#)
            ),
            "unknown pid 3"
        );
        // PID 4 was not locked by the failed open.
        assert_eq!(err(&d, r#"{"cmd":"pause","pid":4}"#), "unknown pid 4");
        // Read-only commands are not lock-checked.
        assert_eq!(err(&d, r#"{"cmd":"bp","pid":3}"#), "unknown pid 3");
        assert_eq!(
            err(&d, r#"{"cmd":"bp.add","pid":3,"address":16}"#),
            "pid_locked:3"
        );
        // Expiry: the owner's 300 s heartbeat lapses; the lock goes with it.
        time.advance(301.0);
        assert_eq!(err(&d, r#"{"cmd":"pause","pid":3}"#), "unknown pid 3");
        assert_eq!(
            err(&d, &format!(r#"{{"cmd":"ping","session":"{owner}"}}"#)),
            "session_required"
        );
        let list = req(&d, r#"{"cmd":"session.list"}"#);
        assert_eq!(list["sessions"].as_array().map(Vec::len), Some(0));
    }

    #[test]
    fn terminate_and_close() {
        let (d, _) = daemon();
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
    fn empty_executive_shapes() {
        let (d, _) = daemon();
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
        assert_eq!(req(&d, r#"{"cmd":"step"}"#)["result"]["executed"], json!(0));
        let r = req(&d, r#"{"cmd":"restart","targets":"vm"}"#);
        assert_eq!(r["restart"]["vm"], json!("requested"));
        assert!(r["restart"].get("exec").is_none());
    }
}
