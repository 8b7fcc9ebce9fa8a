//! Registers and memory: `dumpregs`, `peek`/`mem.read`, `poke`/`mem.write`,
//! `reg.get`/`vm_reg_get`, `reg.set`/`vm_reg_set` (protocol.md §2.3).

use serde_json::{Value, json};

use hsx_exec::Reg;

use super::fields::{req_pid, requires};
use crate::args::{self, Obj, field, parse_int};
use crate::context::{Ctx, Outcome};
use crate::error::{OpError, ProtoError};
use crate::event_map::publish;
use crate::hex::{from_hex, to_hex};
use crate::reply::Reply;
use crate::wire::task::Registers;
use crate::wire::to_value;

/// Default `peek` length.
pub const PEEK_DEFAULT_LEN: u32 = 16;
/// Largest `peek` length (one whole task address space).
pub const PEEK_MAX_LEN: u32 = 0x1_0000;

/// `peek` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeekArgs {
    /// Task.
    pub pid: u32,
    /// Start address.
    pub addr: u32,
    /// Bytes to read, at most [`PEEK_MAX_LEN`].
    pub length: u32,
}

/// `poke` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PokeArgs {
    /// Task.
    pub pid: u32,
    /// Start address.
    pub addr: u32,
    /// Bytes to write.
    pub data: Vec<u8>,
}

/// A register name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegId {
    /// `R0`..`R15` (or 0..15).
    Gpr(u8),
    /// Program counter.
    Pc,
    /// Stack pointer.
    Sp,
    /// Processor status word (`psw`, `flags`).
    Psw,
}

impl RegId {
    /// Parses `7`, `"7"`, `"R7"`, `"r7"`, `"pc"`, `"sp"`, `"psw"`, `"flags"`.
    pub fn parse(v: &Value) -> Option<RegId> {
        if let Some(n) = parse_int(v) {
            return u8::try_from(n).ok().filter(|n| *n < 16).map(RegId::Gpr);
        }
        let s = v.as_str()?.trim().to_ascii_lowercase();
        match s.as_str() {
            "pc" => Some(RegId::Pc),
            "sp" => Some(RegId::Sp),
            "psw" | "flags" => Some(RegId::Psw),
            _ => s
                .strip_prefix('r')
                .and_then(|d| d.parse::<u8>().ok())
                .filter(|n| *n < 16)
                .map(RegId::Gpr),
        }
    }

    /// The `reg` field of the reply: the index for R0..R15, else the name.
    pub fn to_json(self) -> Value {
        match self {
            RegId::Gpr(n) => json!(n),
            RegId::Pc => json!("pc"),
            RegId::Sp => json!("sp"),
            RegId::Psw => json!("psw"),
        }
    }
}

/// `reg.get` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegGetArgs {
    /// Task; `None` = the current task.
    pub pid: Option<u32>,
    /// Register.
    pub reg: RegId,
}

/// `reg.set` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegSetArgs {
    /// Task; `None` = the current task.
    pub pid: Option<u32>,
    /// Register.
    pub reg: RegId,
    /// New value (negative inputs are taken as two's complement).
    pub value: u32,
}

/// What `reg.get`/`reg.set` return: the task actually addressed and the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegValue {
    /// Task.
    pub pid: u32,
    /// Register value.
    pub value: u32,
}

fn req_u32(what: &str, obj: &Obj, key: &'static str) -> Result<u32, ProtoError> {
    match field(obj, key) {
        None => Err(requires(what, key)),
        Some(v) => Ok(args::int_as(key, v)?),
    }
}

pub(crate) fn parse_dumpregs(obj: &Obj) -> Result<u32, ProtoError> {
    req_pid("dumpregs", obj)
}

pub(crate) fn parse_peek(name: &str, obj: &Obj) -> Result<PeekArgs, ProtoError> {
    let pid = req_pid(name, obj)?;
    let addr = req_u32(name, obj, "addr").or_else(|e| match field(obj, "address") {
        Some(v) => Ok(args::int_as("address", v)?),
        None => Err(e),
    })?;
    let length = args::opt_i64(obj, "length")?.map_or(PEEK_DEFAULT_LEN, |l| {
        u32::try_from(l.clamp(0, i64::from(PEEK_MAX_LEN))).unwrap_or(PEEK_MAX_LEN)
    });
    Ok(PeekArgs { pid, addr, length })
}

pub(crate) fn parse_poke(name: &str, obj: &Obj) -> Result<PokeArgs, ProtoError> {
    let pid = req_pid(name, obj)?;
    let addr = req_u32(name, obj, "addr").or_else(|e| match field(obj, "address") {
        Some(v) => Ok(args::int_as("address", v)?),
        None => Err(e),
    })?;
    let Some(Value::String(hex)) = field(obj, "data") else {
        return Err(ProtoError::msg(format!(
            "{name} requires 'data' hex string"
        )));
    };
    Ok(PokeArgs {
        pid,
        addr,
        data: from_hex(hex)?,
    })
}

fn reg_of(name: &str, obj: &Obj) -> Result<RegId, ProtoError> {
    let v = field(obj, "reg").ok_or_else(|| requires(name, "reg"))?;
    RegId::parse(v)
        .ok_or_else(|| ProtoError::msg(format!("invalid register '{}'", args::display_value(v))))
}

pub(crate) fn parse_reg_get(name: &str, obj: &Obj) -> Result<RegGetArgs, ProtoError> {
    Ok(RegGetArgs {
        pid: args::opt_u32(obj, "pid")?,
        reg: reg_of(name, obj)?,
    })
}

pub(crate) fn parse_reg_set(name: &str, obj: &Obj) -> Result<RegSetArgs, ProtoError> {
    if field(obj, "reg").is_none() || field(obj, "value").is_none() {
        return Err(ProtoError::msg(format!(
            "{name} requires 'reg' and 'value'"
        )));
    }
    let reg = reg_of(name, obj)?;
    let raw: i64 = args::get_i64(obj, "value")?;
    let value = if (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(&raw) {
        // Two's complement for negative inputs.
        raw as u32
    } else {
        return Err(ProtoError::from(args::ArgError::OutOfRange {
            field: "value",
            value: raw.to_string(),
        }));
    };
    Ok(RegSetArgs {
        pid: args::opt_u32(obj, "pid")?,
        reg,
        value,
    })
}

/// `dumpregs`: the `registers` object (with `regs[16]` and `R0`..`R15` keys).
pub(crate) fn dumpregs(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    let t = ctx.daemon().exec().task(pid)?;
    Ok(Reply::with("registers", to_value(&Registers::of(&t))).into())
}

/// `peek`: the bytes read, hex (short at the 64 KiB edge).
pub(crate) fn peek(ctx: &Ctx<'_>, a: PeekArgs) -> Result<Outcome, ProtoError> {
    let len = usize::try_from(a.length).unwrap_or(usize::MAX);
    let data = ctx.daemon().exec().read_mem(a.pid, a.addr, len)?;
    Ok(Reply::with("data", json!(to_hex(&data))).into())
}

/// `poke`.
pub(crate) fn poke(ctx: &Ctx<'_>, a: PokeArgs) -> Result<Outcome, ProtoError> {
    ctx.check_pid(a.pid)?;
    let d = ctx.daemon();
    let mut exec = d.exec();
    let r = exec.write_mem(a.pid, a.addr, &a.data);
    publish(d, &mut exec);
    r?;
    Ok(Reply::ok().into())
}

fn to_reg(r: RegId) -> Option<Reg> {
    match r {
        RegId::Gpr(n) => Reg::from_index(n),
        RegId::Pc => Some(Reg::Pc),
        RegId::Sp => Some(Reg::Sp),
        RegId::Psw => Some(Reg::Psw),
    }
}

/// `reg.get`: the task addressed (the current one when the request names none) and the
/// value.
pub(crate) fn reg_get(ctx: &Ctx<'_>, a: RegGetArgs) -> Result<Outcome, ProtoError> {
    let exec = ctx.daemon().exec();
    let pid = a
        .pid
        .or_else(|| exec.current_pid())
        .ok_or_else(|| OpError::failed("no current task"))?;
    let r = to_reg(a.reg).ok_or_else(|| OpError::failed("invalid register"))?;
    let value = exec.reg_get(pid, r)?;
    drop(exec);
    Ok(reg_reply(RegValue { pid, value }, a.reg))
}

/// `reg.set`.
pub(crate) fn reg_set(ctx: &Ctx<'_>, a: RegSetArgs) -> Result<Outcome, ProtoError> {
    // Without a pid the write goes to the current task: check that task's lock, and write
    // to exactly the task checked even if the scheduler moves on meanwhile.
    let pid = a.pid.or_else(|| ctx.daemon().exec().current_pid());
    if let Some(pid) = pid {
        ctx.check_pid(pid)?;
    }
    let mut exec = ctx.daemon().exec();
    let pid = pid
        .or_else(|| exec.current_pid())
        .ok_or_else(|| OpError::failed("no current task"))?;
    let r = to_reg(a.reg).ok_or_else(|| OpError::failed("invalid register"))?;
    exec.reg_set(pid, r, a.value)?;
    let value = exec.reg_get(pid, r)?;
    drop(exec);
    Ok(reg_reply(RegValue { pid, value }, a.reg))
}

fn reg_reply(r: RegValue, reg: RegId) -> Outcome {
    Reply::ok()
        .and("pid", json!(r.pid))
        .and("reg", reg.to_json())
        .and("value", json!(r.value))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_names() {
        assert_eq!(RegId::parse(&json!("R15")), Some(RegId::Gpr(15)));
        assert_eq!(RegId::parse(&json!(3)), Some(RegId::Gpr(3)));
        assert_eq!(RegId::parse(&json!("0x3")), Some(RegId::Gpr(3)));
        assert_eq!(RegId::parse(&json!("FLAGS")), Some(RegId::Psw));
        assert_eq!(RegId::parse(&json!("r16")), None);
        assert_eq!(RegId::parse(&json!(16)), None);
        assert_eq!(RegId::parse(&json!(true)), None);
    }
}
