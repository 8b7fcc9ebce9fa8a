//! Values and commands: `val.list/get/set/stats`, `cmd.list/call/stats` (protocol.md §2.6).
//! Application-level failures are not RPC errors: the backend reports them in the inner
//! `status` of an ok reply.

use serde_json::Value;

use super::{Command, requires};
use crate::args::{self, Obj, field, parse_f64, parse_int};
use crate::dispatch::{Ctx, Outcome};
use crate::error::ProtoError;
use crate::reply::Reply;

/// `val.list` / `cmd.list` filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistryFilter {
    /// Owning task.
    pub pid: Option<u32>,
    /// Group id (a malformed value is ignored, as in the reference).
    pub group: Option<u32>,
    /// Object id.
    pub oid: Option<u16>,
    /// Name.
    pub name: Option<String>,
}

fn oid_value(v: &Value) -> Option<u16> {
    parse_int(v).and_then(|o| u16::try_from(o).ok())
}

pub(crate) fn parse_list(name: &str, obj: &Obj) -> Result<RegistryFilter, ProtoError> {
    let oid = match field(obj, "oid") {
        None => None,
        Some(v) => Some(
            oid_value(v).ok_or_else(|| ProtoError::msg(format!("{name} oid must be numeric")))?,
        ),
    };
    Ok(RegistryFilter {
        pid: args::opt_u32(obj, "pid")?,
        group: field(obj, "group")
            .and_then(parse_int)
            .and_then(|g| u32::try_from(g).ok()),
        oid,
        name: field(obj, "name").map(args::display_value),
    })
}

fn req_oid(name: &str, obj: &Obj) -> Result<u16, ProtoError> {
    let v = field(obj, "oid").ok_or_else(|| requires(name, "oid"))?;
    oid_value(v).ok_or_else(|| ProtoError::msg(format!("{name} oid must be numeric")))
}

pub(crate) fn parse_val_get(obj: &Obj) -> Result<Command, ProtoError> {
    Ok(Command::ValGet {
        oid: req_oid("val.get", obj)?,
        pid: args::opt_u32(obj, "pid")?,
    })
}

pub(crate) fn parse_val_set(obj: &Obj) -> Result<Command, ProtoError> {
    let oid = req_oid("val.set", obj)?;
    if !obj.contains_key("value") {
        return Err(requires("val.set", "value"));
    }
    let value = obj
        .get("value")
        .and_then(parse_f64)
        .ok_or_else(|| ProtoError::msg("val_set requires numeric 'value'"))?;
    Ok(Command::ValSet {
        oid,
        value,
        pid: args::opt_u32(obj, "pid")?,
    })
}

pub(crate) fn parse_cmd_call(obj: &Obj) -> Result<Command, ProtoError> {
    let async_call = match field(obj, "async") {
        Some(Value::String(s)) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        ),
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    };
    Ok(Command::CmdCall {
        oid: req_oid("cmd.call", obj)?,
        pid: args::opt_u32(obj, "pid")?,
        async_call,
    })
}

fn lock_if(ctx: &Ctx<'_>, pid: Option<u32>) -> Result<(), ProtoError> {
    match pid {
        Some(p) => ctx.check_pid(p),
        None => Ok(()),
    }
}

pub(crate) fn val_list(ctx: &Ctx<'_>, f: RegistryFilter) -> Result<Outcome, ProtoError> {
    lock_if(ctx, f.pid)?;
    Ok(Reply::with("values", ctx.backend().val_list(&f)?).into())
}

pub(crate) fn val_get(ctx: &Ctx<'_>, oid: u16, pid: Option<u32>) -> Result<Outcome, ProtoError> {
    lock_if(ctx, pid)?;
    Ok(Reply::with("value", ctx.backend().val_get(oid, pid)?).into())
}

pub(crate) fn val_set(
    ctx: &Ctx<'_>,
    oid: u16,
    value: f64,
    pid: Option<u32>,
) -> Result<Outcome, ProtoError> {
    lock_if(ctx, pid)?;
    Ok(Reply::with("value", ctx.backend().val_set(oid, value, pid)?).into())
}

pub(crate) fn val_stats(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("stats", ctx.backend().val_stats()?).into())
}

pub(crate) fn cmd_list(ctx: &Ctx<'_>, f: RegistryFilter) -> Result<Outcome, ProtoError> {
    lock_if(ctx, f.pid)?;
    Ok(Reply::with("commands", ctx.backend().cmd_list(&f)?).into())
}

pub(crate) fn cmd_call(
    ctx: &Ctx<'_>,
    oid: u16,
    pid: Option<u32>,
    async_call: bool,
) -> Result<Outcome, ProtoError> {
    lock_if(ctx, pid)?;
    Ok(Reply::with("command", ctx.backend().cmd_call(oid, pid, async_call)?).into())
}

pub(crate) fn cmd_stats(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("stats", ctx.backend().cmd_stats()?).into())
}
