//! Registers and memory: `dumpregs`, `peek`/`mem.read`, `poke`/`mem.write`,
//! `reg.get`/`vm_reg_get`, `reg.set`/`vm_reg_set` (protocol.md §2.3).

use serde_json::{Value, json};

use super::{Command, req_pid, requires};
use crate::args::{self, Obj, field, parse_int};
use crate::dispatch::{Ctx, Outcome};
use crate::error::ProtoError;
use crate::reply::Reply;

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

pub(crate) fn parse_dumpregs(obj: &Obj) -> Result<Command, ProtoError> {
    Ok(Command::DumpRegs {
        pid: req_pid("dumpregs", obj)?,
    })
}

pub(crate) fn parse_peek(name: &str, obj: &Obj) -> Result<Command, ProtoError> {
    let pid = req_pid(name, obj)?;
    let addr = req_u32(name, obj, "addr").or_else(|e| match field(obj, "address") {
        Some(v) => Ok(args::int_as("address", v)?),
        None => Err(e),
    })?;
    let length = args::opt_i64(obj, "length")?.map_or(PEEK_DEFAULT_LEN, |l| {
        u32::try_from(l.clamp(0, i64::from(PEEK_MAX_LEN))).unwrap_or(PEEK_MAX_LEN)
    });
    Ok(Command::Peek(PeekArgs { pid, addr, length }))
}

pub(crate) fn parse_poke(name: &str, obj: &Obj) -> Result<Command, ProtoError> {
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
    Ok(Command::Poke(PokeArgs {
        pid,
        addr,
        data: from_hex(hex)?,
    }))
}

fn reg_of(name: &str, obj: &Obj) -> Result<RegId, ProtoError> {
    let v = field(obj, "reg").ok_or_else(|| requires(name, "reg"))?;
    RegId::parse(v)
        .ok_or_else(|| ProtoError::msg(format!("invalid register '{}'", args::display_value(v))))
}

pub(crate) fn parse_reg_get(name: &str, obj: &Obj) -> Result<Command, ProtoError> {
    Ok(Command::RegGet(RegGetArgs {
        pid: args::opt_u32(obj, "pid")?,
        reg: reg_of(name, obj)?,
    }))
}

pub(crate) fn parse_reg_set(name: &str, obj: &Obj) -> Result<Command, ProtoError> {
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
    Ok(Command::RegSet(RegSetArgs {
        pid: args::opt_u32(obj, "pid")?,
        reg,
        value,
    }))
}

/// Decodes hex as Python's `bytes.fromhex`: pairs of hex digits, whitespace allowed
/// between pairs.
pub fn from_hex(s: &str) -> Result<Vec<u8>, ProtoError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 2);
    let mut i = 0;
    let bad = |pos: usize| {
        ProtoError::msg(format!(
            "non-hexadecimal number found in fromhex() arg at position {pos}"
        ))
    };
    while i < bytes.len() {
        let Some(&c) = bytes.get(i) else { break };
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let hi = (c as char).to_digit(16).ok_or_else(|| bad(i))?;
        let lo = bytes
            .get(i + 1)
            .and_then(|c| (*c as char).to_digit(16))
            .ok_or_else(|| bad(i + 1))?;
        out.push((hi * 16 + lo) as u8);
        i += 2;
    }
    Ok(out)
}

/// Lower-case hex of `data`.
pub fn to_hex(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

pub(crate) fn dumpregs(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("registers", ctx.backend().dumpregs(pid)?).into())
}

pub(crate) fn peek(ctx: &Ctx<'_>, a: PeekArgs) -> Result<Outcome, ProtoError> {
    let data = ctx.backend().peek(a.pid, a.addr, a.length)?;
    Ok(Reply::with("data", json!(to_hex(&data))).into())
}

pub(crate) fn poke(ctx: &Ctx<'_>, a: PokeArgs) -> Result<Outcome, ProtoError> {
    ctx.check_pid(a.pid)?;
    ctx.backend().poke(a.pid, a.addr, &a.data)?;
    Ok(Reply::ok().into())
}

pub(crate) fn reg_get(ctx: &Ctx<'_>, a: RegGetArgs) -> Result<Outcome, ProtoError> {
    let r = ctx.backend().reg_get(a.pid, a.reg)?;
    Ok(reg_reply(r, a.reg))
}

pub(crate) fn reg_set(ctx: &Ctx<'_>, a: RegSetArgs) -> Result<Outcome, ProtoError> {
    // Without a pid the write goes to the current task: check that task's lock, and write
    // to exactly the task checked even if the scheduler moves on meanwhile.
    let pid = a.pid.or_else(|| ctx.backend().current_pid());
    if let Some(pid) = pid {
        ctx.check_pid(pid)?;
    }
    let r = ctx.backend().reg_set(pid, a.reg, a.value)?;
    Ok(reg_reply(r, a.reg))
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
    fn hex_round_trip_and_errors() {
        assert_eq!(from_hex("00 ff\t1A"), Ok(vec![0, 0xff, 0x1a]));
        assert_eq!(to_hex(&[0, 0xff, 0x1a]), "00ff1a");
        assert_eq!(
            from_hex("0g").map_err(|e| e.to_string()),
            Err("non-hexadecimal number found in fromhex() arg at position 1".into())
        );
        assert!(from_hex("abc").is_err());
        assert!(from_hex("é").is_err());
        assert_eq!(from_hex(""), Ok(vec![]));
    }

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
