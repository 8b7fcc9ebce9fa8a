//! Sessions: `session.open/keepalive/close/current/list/terminate` (protocol.md §3).

use serde_json::{Value, json};

use super::fields::requires;
use crate::args::{self, Obj, display_value, field};
use crate::context::{Ctx, Outcome};
use crate::error::ProtoError;
use crate::events::CloseReason;
use crate::policy::{Cap, Limits};
use crate::reply::Reply;
use crate::session::{OpenParams, Opener};

fn pid_lock_value(v: &Value) -> Result<Option<u32>, ProtoError> {
    if v.is_null() {
        return Ok(None);
    }
    let n = args::parse_int(v)
        .ok_or_else(|| ProtoError::msg("pid_lock must be an integer or sequence of integers"))?;
    if n < 0 {
        return Err(ProtoError::msg("pid_lock values must be non-negative"));
    }
    u32::try_from(n)
        .map(Some)
        .map_err(|_| ProtoError::msg("pid_lock must be an integer or sequence of integers"))
}

pub(crate) fn parse_open(obj: &Obj) -> Result<OpenParams, ProtoError> {
    let mut pid_lock = Vec::new();
    match field(obj, "pid_lock") {
        None => {}
        Some(Value::Array(items)) => {
            for v in items {
                pid_lock.extend(pid_lock_value(v)?);
            }
        }
        Some(v) => pid_lock.extend(pid_lock_value(v)?),
    }
    let empty = Obj::new();
    let caps = match field(obj, "capabilities") {
        None => &empty,
        Some(Value::Object(m)) => m,
        Some(v) if !args::truthy(Some(v)) => &empty,
        Some(_) => {
            return Err(ProtoError::msg(
                "capabilities must be an object when provided",
            ));
        }
    };
    let features = match caps.get("features") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(display_value).collect(),
        Some(v) if !args::truthy(Some(v)) => Vec::new(),
        Some(_) => {
            return Err(ProtoError::msg(
                "capabilities.features must be a list when provided",
            ));
        }
    };
    let max_events = match field(caps, "max_events") {
        None => None,
        Some(v) => Some(args::int_as::<i64>("max_events", v).map_err(|_| {
            ProtoError::msg("capabilities.max_events must be an integer when provided")
        })?),
    };
    let heartbeat_s = match field(obj, "heartbeat_s") {
        None => None,
        Some(v) => Some(
            args::int_as::<i64>("heartbeat_s", v)
                .map_err(|_| ProtoError::msg("heartbeat_s must be an integer when provided"))?,
        ),
    };
    let client = match field(obj, "client") {
        Some(v) if args::truthy(Some(v)) => display_value(v),
        _ => String::new(),
    };
    let caps = match field(obj, "caps").or_else(|| field(caps, "caps")) {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(items.iter().map(display_value).collect()),
        Some(Value::String(s)) => Some(
            s.split([',', ' '])
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        Some(_) => return Err(ProtoError::msg("caps must be a list of capability names")),
    };
    Ok(OpenParams {
        caps,
        client,
        features,
        max_events,
        heartbeat_s,
        pid_lock,
    })
}

pub(crate) fn parse_terminate(obj: &Obj) -> Result<String, ProtoError> {
    match field(obj, "target") {
        Some(v) if args::truthy(Some(v)) => Ok(display_value(v)),
        _ => Err(requires("session.terminate", "target")),
    }
}

fn session_id<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ProtoError> {
    ctx.session.ok_or(ProtoError::SessionRequired)
}

pub(crate) fn open(ctx: &Ctx<'_>, p: OpenParams) -> Result<Outcome, ProtoError> {
    let id = crate::ids::uuid4();
    let now = ctx.now();
    // Reserving PIDs that no task has yet would lock whatever is loaded next.
    if !ctx.caps.has(Cap::Admin) {
        let exec = ctx.daemon().exec();
        if let Some(pid) = p.pid_lock.iter().find(|pid| !exec.has_task(**pid)) {
            return Err(ProtoError::Op(crate::error::OpError::UnknownPid(*pid)));
        }
    }
    let who = match ctx.peer {
        Some(peer) => Opener {
            principal: peer.grant.name.clone(),
            conn: peer.conn,
            grant: ctx.caps,
            limits: peer.policy.limits,
        },
        None => Opener {
            conn: ctx.conn,
            limits: Limits::default(),
            ..Opener::anonymous()
        },
    };
    let payload = ctx.daemon().with_sessions(|t| {
        t.open_as(p, id.clone(), now, &who)
            .map(|s| (s.payload(), s.pid_locks.clone()))
    })?;
    ctx.dmesg().log(
        now,
        "info",
        "session opened",
        json!({"session_id": id, "client": payload.0["client"], "pid_locks": payload.1}),
    );
    Ok(Reply::with("session", payload.0).into())
}

pub(crate) fn keepalive(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    let id = session_id(ctx)?;
    let now = ctx.now();
    ctx.daemon()
        .with_sessions(|t| t.touch(id, now).map(|_| ()))?;
    Ok(Reply::ok().into())
}

pub(crate) fn close(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    let id = session_id(ctx)?;
    if !ctx.daemon().close_session(
        id,
        "client_close",
        CloseReason::SessionClosed,
        Some(ctx.conn),
    ) {
        return Err(ProtoError::SessionRequired);
    }
    Ok(Reply::ok().into())
}

pub(crate) fn current(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    let id = session_id(ctx)?;
    let details = ctx
        .daemon()
        .with_sessions(|t| t.get(id).map(|s| s.details()))
        .ok_or(ProtoError::SessionRequired)?;
    Ok(Reply::with("session", details).into())
}

pub(crate) fn list(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    let now = ctx.now();
    let viewer = (!ctx.caps.has(Cap::Admin)).then_some(ctx.session);
    let all = ctx.daemon().with_sessions(|t| t.list_for(now, viewer));
    Ok(Reply::with("sessions", Value::Array(all)).into())
}

pub(crate) fn terminate(ctx: &Ctx<'_>, target: String) -> Result<Outcome, ProtoError> {
    // The reference does not check the actor; here only the session itself or `admin`
    // may end it (the default policy grants `admin`, so old clients see no change).
    let actor = session_id(ctx)?;
    // The same answer whether the target exists or not: no probing for ids.
    if actor != target && !ctx.caps.has(Cap::Admin) {
        return Err(ProtoError::msg("permission_denied:admin"));
    }
    if !ctx.daemon().close_session(
        &target,
        "admin_close",
        CloseReason::SessionClosed,
        Some(ctx.conn),
    ) {
        return Err(ProtoError::SessionNotFound);
    }
    Ok(Reply::with("closed", json!({"id": target, "reason": "admin_close"})).into())
}
