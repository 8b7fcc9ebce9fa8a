//! Debugger inspection and control: `bp` (+ `bp.add`/`bp.remove`/`bp.list` with
//! `address`), `stack`, `disasm`, `memory`, `watch` (protocol.md §2.4.1-2.4.3, 2.4.5, 2.4.6).

use serde_json::{Value, json};

use hsx_image::sym::SymTable;

use super::fields::{req_pid, requires};
use crate::args::{self, Obj, display_value, field, first_field, op_of, parse_int};
use crate::context::{Ctx, Outcome};
pub use crate::debugger::disasm::DisasmMode;
use crate::debugger::disasm::{CacheKey, DisasmInput, Start};
use crate::debugger::regions::{TaskLayout, memory_json};
use crate::debugger::stack::{self, StackBounds, StackRegs, WalkOptions};
use crate::error::ProtoError;
use crate::event_map::publish;
use crate::reply::Reply;
use crate::task_mem::reader;

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
        /// `stop`: a change pauses the task (a data breakpoint), not only reported.
        stop: bool,
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

pub(crate) fn parse_bp(op: Option<String>, obj: &Obj) -> Result<(u32, BpOp), ProtoError> {
    let op = op.unwrap_or_else(|| op_of(obj));
    let pid = req_pid("bp", obj)?;
    let op = match op.as_str() {
        "" | "list" | "ls" => BpOp::List,
        "set" | "add" => BpOp::Set(bp_addr("set", obj)?),
        "clear" | "remove" | "rm" | "del" | "delete" => BpOp::Clear(bp_addr("clear", obj)?),
        "clear_all" | "clearall" | "reset" => BpOp::ClearAll,
        other => return Err(ProtoError::msg(format!("unknown bp op '{other}'"))),
    };
    Ok((pid, op))
}

/// The first of `keys` that is "set" in the reference's sense (`a or b or c`: null, 0,
/// "" and false count as unset).
fn first_truthy<'a>(obj: &'a Obj, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .filter_map(|k| obj.get(*k))
        .find(|v| args::truthy(Some(v)))
}

pub(crate) fn parse_stack(op: Option<String>, obj: &Obj) -> Result<(u32, u32), ProtoError> {
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
        "" | "info" | "list" => Ok((pid, max_frames)),
        other => Err(ProtoError::msg(format!("unknown stack op '{other}'"))),
    }
}

pub(crate) fn parse_disasm(obj: &Obj) -> Result<DisasmArgs, ProtoError> {
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
    Ok(DisasmArgs {
        pid,
        addr,
        count,
        mode,
        around_pc,
    })
}

pub(crate) fn parse_memory(op: Option<String>, obj: &Obj) -> Result<u32, ProtoError> {
    let op = op.unwrap_or_else(|| op_of(obj));
    let pid = req_pid("memory", obj)?;
    match op.as_str() {
        "" | "regions" | "region" | "list" => Ok(pid),
        other => Err(ProtoError::msg(format!("unknown memory op '{other}'"))),
    }
}

pub(crate) fn parse_watch(op: Option<String>, obj: &Obj) -> Result<(u32, WatchOp), ProtoError> {
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
                stop: args::truthy(obj.get("stop")),
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
    Ok((pid, op))
}

/// `bp`/`bp.*`: the task's breakpoints after the operation, sorted.
pub(crate) fn bp(ctx: &Ctx<'_>, pid: u32, op: BpOp) -> Result<Outcome, ProtoError> {
    if op.mutates() {
        ctx.check_pid(pid)?;
    }
    let d = ctx.daemon();
    let mut exec = d.exec();
    let r = match op {
        BpOp::List => exec.bp_list(pid),
        BpOp::Set(a) => exec.bp_add(pid, a),
        BpOp::Clear(a) => exec.bp_remove(pid, a),
        BpOp::ClearAll => exec.bp_clear(pid).and_then(|()| exec.bp_list(pid)),
    };
    publish(d, &mut exec);
    let list = r?;
    drop(exec);
    Ok(Reply::ok()
        .and("pid", json!(pid))
        .and("breakpoints", json!(list))
        .into())
}

/// `stack`: the R7 frame chain with function and line per frame (§2.4.2).
pub(crate) fn stack(ctx: &Ctx<'_>, pid: u32, max_frames: u32) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let exec = d.exec();
    let mut dbg = d.dbg();
    let t = exec.task(pid)?;
    let code = dbg.code(&exec, pid)?;
    let syms = dbg.symbols.get(pid).cloned();
    drop(dbg);
    let regs = StackRegs {
        pc: t.pc,
        sp: t.sp,
        fp: t.regs.get(7).copied().unwrap_or(0),
    };
    let bounds = StackBounds {
        stack_base: t.stack_base,
        stack_limit: t.stack_limit,
        stack_size: t.stack_size,
    };
    let opts = WalkOptions {
        max_frames,
        symbols: syms.as_deref().map(|l| &l.table),
        code: Some(&code),
    };
    let walked = stack::walk(regs, bounds, &opts, reader(&exec, pid)).to_json(pid);
    Ok(Reply::with("stack", walked).into())
}

/// `disasm`: a listing from code memory with symbols, lines, breakpoints and the PC
/// (§2.4.3).
pub(crate) fn disasm(ctx: &Ctx<'_>, a: DisasmArgs) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let exec = d.exec();
    let mut dbg = d.dbg();
    let pid = a.pid;
    let t = exec.task(pid)?;
    let code = dbg.code(&exec, pid)?;
    let syms = dbg.symbols.get(pid).cloned();
    let key = CacheKey {
        pid,
        image_crc: t.image.crc32,
        code_len: t.image.code_len,
        sym_generation: dbg.symbols.generation(pid),
        isa_ext: t.image.isa_ext,
    };
    let input = DisasmInput {
        code: &code,
        symbols: syms.as_deref().map(|l| &l.table),
        breakpoints: &t.breakpoints,
        pc: t.pc,
        isa_ext: t.image.isa_ext,
    };
    let start = if a.around_pc {
        Start::around(a.count)
    } else {
        Start::from_addr(a.addr)
    };
    // The cache is always correct (code is immutable), so on-demand requests use it too;
    // only `cached` mode reports it.
    let listing = dbg.disasm.listing(key, &input, start, a.count);
    Ok(Reply::with("disasm", listing.to_json(pid, a.mode)).into())
}

/// `memory regions` (§2.4.5).
pub(crate) fn memory(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let exec = d.exec();
    let t = exec.task(pid)?;
    let md = t.image.metadata;
    let layout = TaskLayout {
        entry: t.image.entry,
        code_len: t.image.code_len,
        ro_len: t.image.ro_len,
        bss: t.image.bss,
        image_crc: Some(t.image.crc32),
        reg_base: t.reg_base,
        stack_base: t.stack_base,
        stack_size: t.stack_size,
        sp: Some(t.sp),
        app_name: Some(t.app_name.clone()),
        app_name_base: Some(t.app_name_base.clone()),
        meta_count: u32::try_from(md.values + md.commands + md.mailboxes).unwrap_or(u32::MAX),
        allow_multiple: t.image.allow_multiple_instances,
        version: t.image.version,
    };
    let dbg = d.dbg();
    let sym = dbg.symbols.table(pid).map(SymTable::file);
    let regions = memory_json(pid, t.filepath.as_deref(), &layout, sym);
    Ok(Reply::with("memory", regions).into())
}

/// `watch`: list → `{pid, count, watches}`; add → the new record; remove → the removed
/// record (§2.4.6).
pub(crate) fn watch(ctx: &Ctx<'_>, pid: u32, op: WatchOp) -> Result<Outcome, ProtoError> {
    if !matches!(op, WatchOp::List) {
        ctx.check_pid(pid)?;
    }
    let d = ctx.daemon();
    let mut exec = d.exec();
    let r = {
        let mut guard = d.dbg();
        let dbg = &mut *guard;
        match &op {
            WatchOp::List => Ok(dbg.watches.list(&exec, &dbg.symbols, pid)),
            WatchOp::Add {
                expr,
                kind,
                length,
                stop,
            } => dbg.watches.add(
                &mut exec,
                &dbg.symbols,
                pid,
                expr,
                kind.as_deref(),
                *length,
                *stop,
            ),
            WatchOp::Remove { id } => dbg.watches.remove(&mut exec, pid, id),
        }
    };
    publish(d, &mut exec);
    Ok(Reply::with("watch", r?).into())
}
