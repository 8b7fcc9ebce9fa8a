//! Debugger inspection and control: `bp` (+ `bp.add`/`bp.remove`/`bp.list` with
//! `address`), `stack`, `disasm`, `memory`, `watch` (protocol.md §2.4.1-2.4.3, 2.4.5, 2.4.6).

use serde_json::{Value, json};

use super::{Command, req_pid, requires};
use crate::args::{self, Obj, display_value, field, first_field, op_of, parse_int};
use crate::dispatch::{Ctx, Outcome};
use crate::error::ProtoError;
use crate::reply::Reply;

/// Default and largest stack frame count.
pub const STACK_DEFAULT_FRAMES: u32 = 16;
/// Largest stack frame count.
pub const STACK_MAX_FRAMES: u32 = 64;
/// Default disassembly count.
pub const DISASM_DEFAULT_COUNT: u32 = 8;
/// Largest disassembly count.
pub const DISASM_MAX_COUNT: u32 = 64;

/// Breakpoint operations. Addresses are already masked to 16 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BpOp {
    /// `list`/`ls`/none.
    List,
    /// `set`/`add`.
    Set(u32),
    /// `clear`/`remove`/`rm`/`del`/`delete`.
    Clear(u32),
    /// `clear_all`/`clearall`/`reset`.
    ClearAll,
}

impl BpOp {
    /// Whether the op changes the task (and so needs the PID lock).
    pub fn mutates(self) -> bool {
        !matches!(self, BpOp::List)
    }
}

/// `disasm` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DisasmMode {
    /// Decode every time (`on-demand`, the default).
    #[default]
    OnDemand,
    /// Serve from the per-(address, count) cache (`cached`).
    Cached,
}

impl DisasmMode {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DisasmMode::OnDemand => "on-demand",
            DisasmMode::Cached => "cached",
        }
    }
}

/// `disasm` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisasmArgs {
    /// Task.
    pub pid: u32,
    /// Start address; `None` = the task's PC.
    pub addr: Option<u32>,
    /// Instructions, 1..=64.
    pub count: u32,
    /// Mode.
    pub mode: DisasmMode,
    /// The design's `mode: "around_pc"`: about `count/2` instructions before the PC and
    /// the rest from it (`addr` is ignored). `mode: "from_addr"` is the default placement.
    pub around_pc: bool,
}

/// Watch operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchOp {
    /// `list`/`ls`/none.
    List,
    /// `add`/`create`.
    Add {
        /// Expression: address, symbol, `local:<var>`, `<func>::<var>`, `<var>@<func>`.
        expr: String,
        /// `type`/`kind`, lower-cased (`address`/`addr`, `symbol`/`name`, `local`/`locals`).
        kind: Option<String>,
        /// Bytes; `None` = default (4).
        length: Option<u32>,
    },
    /// `remove`/`del`/`delete`.
    Remove {
        /// Watch id.
        id: u64,
    },
}

fn bp_addr(op: &str, obj: &Obj) -> Result<u32, ProtoError> {
    let v = first_field(obj, &["addr", "address"])
        .ok_or_else(|| requires(&format!("bp {op}"), "addr"))?;
    let a = parse_int(v).ok_or_else(|| {
        ProtoError::msg(format!("invalid breakpoint addr '{}'", display_value(v)))
    })?;
    // The reference stores `addr & 0xFFFF`; negative inputs wrap the same way.
    Ok((a & 0xFFFF) as u32)
}

pub(crate) fn parse_bp(op: Option<String>, obj: &Obj) -> Result<Command, ProtoError> {
    let op = op.unwrap_or_else(|| op_of(obj));
    let pid = req_pid("bp", obj)?;
    let op = match op.as_str() {
        "" | "list" | "ls" => BpOp::List,
        "set" | "add" => BpOp::Set(bp_addr("set", obj)?),
        "clear" | "remove" | "rm" | "del" | "delete" => BpOp::Clear(bp_addr("clear", obj)?),
        "clear_all" | "clearall" | "reset" => BpOp::ClearAll,
        other => return Err(ProtoError::msg(format!("unknown bp op '{other}'"))),
    };
    Ok(Command::Bp { pid, op })
}

/// The first of `keys` that is "set" in the reference's sense (`a or b or c`: null, 0,
/// "" and false count as unset).
fn first_truthy<'a>(obj: &'a Obj, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .filter_map(|k| obj.get(*k))
        .find(|v| args::truthy(Some(v)))
}

pub(crate) fn parse_stack(op: Option<String>, obj: &Obj) -> Result<Command, ProtoError> {
    let op = op.unwrap_or_else(|| op_of(obj));
    let pid = req_pid("stack", obj)?;
    let max_frames = match first_truthy(obj, &["max", "limit", "frames"]) {
        None => STACK_DEFAULT_FRAMES,
        Some(v) => {
            let n = parse_int(v).ok_or_else(|| ProtoError::msg("stack max must be integer"))?;
            n.clamp(1, i128::from(STACK_MAX_FRAMES)) as u32
        }
    };
    match op.as_str() {
        "" | "info" | "list" => Ok(Command::Stack { pid, max_frames }),
        other => Err(ProtoError::msg(format!("unknown stack op '{other}'"))),
    }
}

pub(crate) fn parse_disasm(obj: &Obj) -> Result<Command, ProtoError> {
    let pid = req_pid("disasm", obj)?;
    let addr = match first_field(obj, &["addr", "address"]) {
        None => None,
        Some(v) => Some(
            parse_int(v)
                .and_then(|a| u32::try_from(a).ok())
                .ok_or_else(|| {
                    ProtoError::msg(format!("invalid address '{}'", display_value(v)))
                })?,
        ),
    };
    let count = match field(obj, "count") {
        None => DISASM_DEFAULT_COUNT,
        Some(v) => {
            let n = parse_int(v).ok_or_else(|| ProtoError::msg("count must be an integer"))?;
            n.clamp(1, i128::from(DISASM_MAX_COUNT)) as u32
        }
    };
    // The design's placement modes share the `mode` key with the reference's cache modes.
    let (mode, around_pc) = match field(obj, "mode") {
        None => (DisasmMode::OnDemand, false),
        Some(v) => match display_value(v).to_ascii_lowercase().as_str() {
            "on-demand" | "from_addr" | "from-addr" => (DisasmMode::OnDemand, false),
            "cached" => (DisasmMode::Cached, false),
            "around_pc" | "around-pc" => (DisasmMode::OnDemand, true),
            _ => return Err(ProtoError::msg("mode must be 'on-demand' or 'cached'")),
        },
    };
    Ok(Command::Disasm(DisasmArgs {
        pid,
        addr,
        count,
        mode,
        around_pc,
    }))
}

pub(crate) fn parse_memory(op: Option<String>, obj: &Obj) -> Result<Command, ProtoError> {
    let op = op.unwrap_or_else(|| op_of(obj));
    let pid = req_pid("memory", obj)?;
    match op.as_str() {
        "" | "regions" | "region" | "list" => Ok(Command::MemoryRegions { pid }),
        other => Err(ProtoError::msg(format!("unknown memory op '{other}'"))),
    }
}

pub(crate) fn parse_watch(op: Option<String>, obj: &Obj) -> Result<Command, ProtoError> {
    let op = op.unwrap_or_else(|| op_of(obj));
    let pid = req_pid("watch", obj)?;
    let op = match op.as_str() {
        "" | "list" | "ls" => WatchOp::List,
        "add" | "create" => {
            let Some(Value::String(expr)) = first_truthy(obj, &["expr", "expression"]) else {
                return Err(ProtoError::msg("watch add requires 'expr'"));
            };
            let expr = expr.trim();
            if expr.is_empty() {
                return Err(ProtoError::msg("watch expression must be non-empty"));
            }
            let kind =
                first_truthy(obj, &["type", "kind"]).map(|v| display_value(v).to_ascii_lowercase());
            let length = match first_truthy(obj, &["length", "size"]) {
                None => None,
                Some(v) => Some(args::int_as::<u32>("length", v)?),
            };
            WatchOp::Add {
                expr: expr.to_string(),
                kind,
                length,
            }
        }
        "remove" | "del" | "delete" => {
            let v = first_truthy(obj, &["watch", "id"])
                .ok_or_else(|| ProtoError::msg("watch remove requires 'id'"))?;
            WatchOp::Remove {
                id: args::int_as("id", v)?,
            }
        }
        other => return Err(ProtoError::msg(format!("unknown watch op '{other}'"))),
    };
    Ok(Command::Watch { pid, op })
}

pub(crate) fn bp(ctx: &Ctx<'_>, pid: u32, op: BpOp) -> Result<Outcome, ProtoError> {
    if op.mutates() {
        ctx.check_pid(pid)?;
    }
    let list = ctx.backend().breakpoints(pid, op)?;
    Ok(Reply::ok()
        .and("pid", json!(pid))
        .and("breakpoints", json!(list))
        .into())
}

pub(crate) fn stack(ctx: &Ctx<'_>, pid: u32, max_frames: u32) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("stack", ctx.backend().stack(pid, max_frames)?).into())
}

pub(crate) fn disasm(ctx: &Ctx<'_>, a: DisasmArgs) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("disasm", ctx.backend().disasm(&a)?).into())
}

pub(crate) fn memory(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("memory", ctx.backend().memory_regions(pid)?).into())
}

pub(crate) fn watch(ctx: &Ctx<'_>, pid: u32, op: WatchOp) -> Result<Outcome, ProtoError> {
    if !matches!(op, WatchOp::List) {
        ctx.check_pid(pid)?;
    }
    Ok(Reply::with("watch", ctx.backend().watch(pid, &op)?).into())
}
