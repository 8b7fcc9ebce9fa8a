//! Values and commands: `val.list/get/set/stats`, `cmd.list/call/stats` (protocol.md §2.6).
//! Application-level failures are not RPC errors: the backend reports them in the inner
//! `status` of an ok reply.

use serde_json::Value;

use hsx_exec::values::ListFilter;

use super::fields::requires;
use crate::args::{self, Obj, field, parse_f64, parse_int};
use crate::context::{Ctx, Outcome};
use crate::error::ProtoError;
use crate::event_map::publish;
use crate::reply::Reply;
use crate::wire::to_value;
use crate::wire::values::{
    CallResult, CommandEntry, CommandStats, Pool, Strings, ValueEntry, ValueResult, ValueStats,
};

/// `val.get`/`val.set` arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ValArgs {
    /// Object id.
    pub oid: u16,
    /// New value (`val.set` only).
    pub value: Option<f64>,
    /// Owning task, if the request names one.
    pub pid: Option<u32>,
}

/// `cmd.call` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallArgs {
    /// Object id.
    pub oid: u16,
    /// Owning task, if the request names one.
    pub pid: Option<u32>,
    /// Asynchronous call.
    pub async_call: bool,
}

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

pub(crate) fn parse_val_get(obj: &Obj) -> Result<ValArgs, ProtoError> {
    Ok(ValArgs {
        oid: req_oid("val.get", obj)?,
        value: None,
        pid: args::opt_u32(obj, "pid")?,
    })
}

pub(crate) fn parse_val_set(obj: &Obj) -> Result<ValArgs, ProtoError> {
    let oid = req_oid("val.set", obj)?;
    if !obj.contains_key("value") {
        return Err(requires("val.set", "value"));
    }
    let value = obj
        .get("value")
        .and_then(parse_f64)
        .ok_or_else(|| ProtoError::msg("val_set requires numeric 'value'"))?;
    Ok(ValArgs {
        oid,
        value: Some(value),
        pid: args::opt_u32(obj, "pid")?,
    })
}

pub(crate) fn parse_cmd_call(obj: &Obj) -> Result<CallArgs, ProtoError> {
    let async_call = match field(obj, "async") {
        Some(Value::String(s)) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        ),
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    };
    Ok(CallArgs {
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

fn list_filter(f: &RegistryFilter) -> ListFilter<'_> {
    ListFilter {
        owner: f.pid,
        group: f.group.and_then(|g| u8::try_from(g).ok()),
        oid: f.oid,
        name: f.name.as_deref(),
    }
}

/// `val.list`: the `values` list.
pub(crate) fn val_list(ctx: &Ctx<'_>, f: RegistryFilter) -> Result<Outcome, ProtoError> {
    lock_if(ctx, f.pid)?;
    let list = ctx.daemon().exec().val_list(&list_filter(&f));
    let entries: Vec<ValueEntry<'_>> = list.iter().map(ValueEntry::of).collect();
    Ok(Reply::with("values", to_value(&entries)).into())
}

/// `val.get`: `{status, value?, f16?, pid?}`.
pub(crate) fn val_get(ctx: &Ctx<'_>, a: ValArgs) -> Result<Outcome, ProtoError> {
    lock_if(ctx, a.pid)?;
    let exec = ctx.daemon().exec();
    let r = exec.val_get(a.oid, a.pid);
    let pid = a.pid.or_else(|| value_owner(&exec, a.oid));
    drop(exec);
    let v = ValueResult::of(r.map_err(|e| e.code()), pid);
    Ok(Reply::with("value", to_value(&v)).into())
}

/// `val.set`: `{status, value?, f16?, pid?}`.
pub(crate) fn val_set(ctx: &Ctx<'_>, a: ValArgs) -> Result<Outcome, ProtoError> {
    lock_if(ctx, a.pid)?;
    let d = ctx.daemon();
    let mut exec = d.exec();
    let r = exec.val_set(a.oid, a.pid, a.value.unwrap_or(0.0));
    publish(d, &mut exec);
    let pid = a.pid.or_else(|| value_owner(&exec, a.oid));
    drop(exec);
    let v = ValueResult::of(r.map(|res| res.bits).map_err(|e| e.code()), pid);
    Ok(Reply::with("value", to_value(&v)).into())
}

/// `val.stats`: the `stats` object.
pub(crate) fn val_stats(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    let st = ctx.daemon().exec().registry_stats();
    let stats = ValueStats {
        values: Pool::from(&st.values),
        strings: Strings::from(&st.strings),
    };
    Ok(Reply::with("stats", to_value(&stats)).into())
}

/// `cmd.list`: the `commands` list.
pub(crate) fn cmd_list(ctx: &Ctx<'_>, f: RegistryFilter) -> Result<Outcome, ProtoError> {
    lock_if(ctx, f.pid)?;
    let list = ctx.daemon().exec().cmd_list(&list_filter(&f));
    let entries: Vec<CommandEntry<'_>> = list.iter().map(CommandEntry::of).collect();
    Ok(Reply::with("commands", to_value(&entries)).into())
}

/// `cmd.call`: `{status, result, pid?}`.
pub(crate) fn cmd_call(ctx: &Ctx<'_>, a: CallArgs) -> Result<Outcome, ProtoError> {
    lock_if(ctx, a.pid)?;
    let d = ctx.daemon();
    let mut exec = d.exec();
    let r = exec.cmd_call(a.oid, a.pid, a.async_call);
    publish(d, &mut exec);
    // Like the reference, the reply names the owner the OID resolved to.
    let pid = a.pid.or_else(|| {
        let f = ListFilter {
            oid: Some(a.oid),
            ..ListFilter::default()
        };
        exec.cmd_list(&f).first().map(|c| c.owner_pid)
    });
    drop(exec);
    let v = match r {
        Ok(result) => CallResult {
            status: 0,
            result,
            pid,
        },
        Err(e) => CallResult {
            status: e.code(),
            result: None,
            pid,
        },
    };
    Ok(Reply::with("command", to_value(&v)).into())
}

/// `cmd.stats`: the `stats` object.
pub(crate) fn cmd_stats(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    let st = ctx.daemon().exec().registry_stats();
    let stats = CommandStats {
        commands: Pool::from(&st.commands),
        strings: Strings::from(&st.strings),
    };
    Ok(Reply::with("stats", to_value(&stats)).into())
}

/// The task owning value `oid` when no PID was given (the reply names it, as the
/// reference's does).
fn value_owner(exec: &hsx_exec::Executive, oid: u16) -> Option<u32> {
    let f = ListFilter {
        oid: Some(oid),
        ..ListFilter::default()
    };
    exec.val_list(&f).first().map(|v| v.owner_pid)
}
