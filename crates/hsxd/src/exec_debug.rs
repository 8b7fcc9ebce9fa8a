//! The debugger commands over a real executive (protocol.md §2.4): the glue between
//! [`ExecBackend`](crate::ExecBackend) and the pure [`crate::debugger`] modules.
//!
//! [`DebugState`] is what the daemon keeps beside the executive: symbol tables per PID, the
//! disassembly cache, code bytes per PID, watch records and the trace settings the
//! executive does not know about. It sits behind its own mutex, which is only ever taken
//! *after* the executive's (or alone), so the two can never deadlock.
//!
//! Watch ids are the daemon's (one counter from 1, as the protocol asks). A memory watch
//! (address or symbol) is an executive watch underneath, checked after every instruction;
//! its `watch_update` is rewritten here with the daemon's id, expression and symbol. A
//! frame-local watch (`local:x`, `f::x`, `x@f`) cannot be: its storage moves with the
//! frame, so it is resolved again from the `.sym` locals after every step call and when
//! listed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use hsx_exec::event::{MemAccessRecord, MemOp, TraceRecord, WatchUpdate};
use hsx_exec::{ExecError, Executive};
use hsx_image::sym::SymTable;
use serde_json::{Map, Value, json};

use crate::args::{parse_int, parse_int_str};
use crate::cmd::regs::to_hex;
use crate::cmd::{DisasmArgs, SymOp, SymbolsArgs, TraceOp, WatchOp};
use crate::debugger::disasm::{CacheKey, DisasmCache, DisasmInput, Start};
use crate::debugger::regions::{TaskLayout, memory_json};
use crate::debugger::stack::{
    self, FrameCtx, LocalError, LocalWatch, StackBounds, StackRegs, WalkOptions,
};
use crate::debugger::symbols::{PreparedSymbols, SymbolStore};
use crate::error::BackendError;
use crate::exec_bridge::BackendResult;

/// The `format` of trace records.
pub const TRACE_FORMAT: &str = "hsx.trace/1";

/// Register names by change bit (R0..R15, PC, SP, PSW), as trace records spell them.
const REG_NAMES: [&str; 19] = [
    "R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11", "R12", "R13", "R14",
    "R15", "PC", "SP", "PSW",
];
/// Change bit of the PC, which trace records leave out of `changed_regs` (it always moves).
const PC_BIT: usize = 16;

fn exec_err(e: ExecError) -> BackendError {
    match e {
        ExecError::UnknownPid(pid) => BackendError::UnknownPid(pid),
        other => BackendError::failed(other.to_string()),
    }
}

/// A reader of task data memory for the walkers: fills `buf` and returns the bytes read.
fn reader(exec: &Executive, pid: u32) -> impl Fn(u32, &mut [u8]) -> usize + '_ {
    move |addr, buf| {
        let Ok(v) = exec.read_mem(pid, addr, buf.len()) else {
            return 0;
        };
        let n = v.len().min(buf.len());
        match (buf.get_mut(..n), v.get(..n)) {
            (Some(dst), Some(src)) => {
                dst.copy_from_slice(src);
                n
            }
            _ => 0,
        }
    }
}

/// `changed_regs` of a trace record or `trace_step` event: upper-case names of the registers
/// whose change bit is set, PC excluded.
pub fn changed_reg_names(changed: u32) -> Vec<&'static str> {
    REG_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != PC_BIT && changed & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

fn reg_bit(name: &str) -> Option<u32> {
    let upper = name.trim().to_ascii_uppercase();
    REG_NAMES
        .iter()
        .position(|n| *n == upper)
        .map(|i| 1u32 << i)
}

pub(crate) fn mem_access_json(a: &MemAccessRecord) -> Value {
    json!({"op": a.op.as_str(), "address": a.address, "width": a.width, "value": a.value})
}

/// An `hsx.trace/1` record. `ts` is the executive clock in seconds.
fn trace_record_json(
    r: &TraceRecord,
    changed_regs: bool,
    extra: Option<&Map<String, Value>>,
) -> Value {
    let mut m = Map::new();
    m.insert("seq".into(), json!(r.seq));
    m.insert("pid".into(), json!(r.pid));
    m.insert("pc".into(), json!(r.pc));
    m.insert("opcode".into(), json!(r.opcode));
    m.insert("next_pc".into(), json!(r.next_pc));
    m.insert("steps".into(), json!(r.steps));
    m.insert("flags".into(), json!(r.flags));
    // Milliseconds to seconds: exact for any realistic uptime.
    m.insert("ts".into(), json!(r.ts_ms as f64 / 1000.0));
    m.insert("regs".into(), json!(r.regs));
    let names = changed_reg_names(r.changed);
    if changed_regs && !names.is_empty() {
        m.insert("changed_regs".into(), json!(names));
    }
    if let Some(a) = &r.mem_access {
        m.insert("mem_access".into(), mem_access_json(a));
    }
    if let Some(x) = r.extended_word {
        m.insert("extended_word".into(), json!(x));
    }
    for (k, v) in extra.into_iter().flatten() {
        m.insert(k.clone(), v.clone());
    }
    Value::Object(m)
}

fn int_field(rec: &Map<String, Value>, field: &str) -> Result<Option<i128>, String> {
    match rec.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(_)) => Err(format!("{field} must be an integer, got boolean")),
        Some(v) => parse_int(v)
            .map(Some)
            .ok_or_else(|| format!("{field} must be integer-compatible (got {v})")),
    }
}

fn required(rec: &Map<String, Value>, field: &str) -> Result<i128, String> {
    int_field(rec, field)?.ok_or_else(|| format!("trace record missing required field '{field}'"))
}

/// Values wrap into the field's width, as the reference masks them.
fn u32_of(v: i128) -> u32 {
    (v & 0xFFFF_FFFF) as u32
}

fn u64_of(v: i128) -> u64 {
    u64::try_from(v.max(0)).unwrap_or(u64::MAX)
}

/// Keys a typed record holds; anything else is kept beside it as is.
const RECORD_KEYS: &[&str] = &[
    "seq",
    "pid",
    "pc",
    "opcode",
    "next_pc",
    "steps",
    "flags",
    "ts",
    "regs",
    "changed_regs",
    "mem_access",
    "extended_word",
];

fn parse_mem_access(v: &Value) -> Result<(MemAccessRecord, bool), String> {
    let Value::Object(a) = v else {
        return Err("mem_access must be an object".into());
    };
    let op = match a
        .get("op")
        .map(|o| crate::args::display_value(o).to_ascii_lowercase())
    {
        None => return Err("mem_access.op missing".into()),
        Some(o) if o == "read" => MemOp::Read,
        Some(o) if o == "write" => MemOp::Write,
        Some(_) => return Err("mem_access.op must be one of ['read', 'write']".into()),
    };
    let address = int_field(a, "address")?
        .ok_or_else(|| "mem_access.address must be integer-compatible (got None)".to_string())?;
    let width = int_field(a, "width")?.map_or(0, |w| u8::try_from(w.clamp(0, 255)).unwrap_or(0));
    let value = int_field(a, "value")?.map_or(0, u32_of);
    // A mask has no typed slot; the caller keeps the original object for such a record.
    let untyped = a
        .keys()
        .any(|k| !matches!(k.as_str(), "op" | "address" | "width" | "value"));
    Ok((
        MemAccessRecord {
            op,
            address: u32_of(address),
            width,
            value,
        },
        untyped,
    ))
}

/// One imported record: the typed part and the keys it cannot hold.
fn parse_trace_record(v: &Value, pid: u32) -> Result<(TraceRecord, Map<String, Value>), String> {
    let Value::Object(rec) = v else {
        return Err("trace records must be objects".into());
    };
    let seq = u64_of(required(rec, "seq")?);
    let _record_pid = int_field(rec, "pid")?;
    let pc = u32_of(required(rec, "pc")?);
    let opcode = u32_of(required(rec, "opcode")?);
    let next_pc = int_field(rec, "next_pc")?.map_or(pc.wrapping_add(4), u32_of);
    let steps = int_field(rec, "steps")?.map_or(0, u64_of);
    let flags = int_field(rec, "flags")?.map_or(0, |f| (f & 0xFF) as u8);
    let extended_word = int_field(rec, "extended_word")?.map(u32_of);
    let ts_ms = match rec.get("ts") {
        None | Some(Value::Null) => 0,
        Some(t) => {
            let secs = t
                .as_f64()
                .or_else(|| t.as_str().and_then(|s| s.trim().parse::<f64>().ok()))
                .ok_or_else(|| format!("ts must be numeric-compatible (got {t})"))?;
            if secs.is_finite() && secs > 0.0 {
                (secs * 1000.0).min(u64::MAX as f64) as u64
            } else {
                0
            }
        }
    };
    let mut regs = [0u32; 16];
    match rec.get("regs") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (i, (slot, r)) in regs.iter_mut().zip(list).enumerate() {
                *slot = match r {
                    Value::Bool(_) => None,
                    other => parse_int(other),
                }
                .map(u32_of)
                .ok_or_else(|| format!("regs[{i}] must be integer-compatible (got {r})"))?;
            }
        }
        Some(_) => return Err("regs must be a sequence".into()),
    }
    let mut changed = 0u32;
    match rec.get("changed_regs") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for n in list {
                let bit = match n {
                    Value::String(s) => reg_bit(s),
                    Value::Number(_) => parse_int(n)
                        .and_then(|i| u32::try_from(i).ok())
                        .filter(|i| *i < 16)
                        .map(|i| 1 << i),
                    _ => None,
                };
                changed |= bit.unwrap_or(0);
            }
        }
        Some(_) => return Err("changed_regs must be a sequence".into()),
    }
    let mut extra: Map<String, Value> = rec
        .iter()
        .filter(|(k, _)| !RECORD_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mem_access = match rec.get("mem_access") {
        None | Some(Value::Null) => None,
        Some(a) => {
            let (typed, untyped) = parse_mem_access(a)?;
            if untyped {
                extra.insert("mem_access".into(), a.clone());
            }
            Some(typed)
        }
    };
    Ok((
        TraceRecord {
            seq,
            pid,
            pc,
            next_pc,
            opcode,
            extended_word,
            flags,
            steps,
            regs,
            changed,
            mem_access,
            ts_ms,
        },
        extra,
    ))
}

/// Where a watch reads from.
#[derive(Debug, Clone)]
enum Target {
    /// An executive watch (address fixed at `add`).
    Memory {
        /// The executive's id of it.
        exec_id: u32,
    },
    /// A frame-local, resolved again at every check.
    Local {
        /// Bytes at the last check.
        last: Vec<u8>,
        /// Data address at the last check (memory-backed locals).
        address: Option<u32>,
        /// `fp-0x8`, `R5`, … at the last check.
        location: String,
    },
}

#[derive(Debug, Clone)]
struct WatchRec {
    pid: u32,
    expr: String,
    kind: &'static str,
    length: u32,
    symbol: Option<String>,
    description: Option<String>,
    target: Target,
}

impl WatchRec {
    /// The §2.4.6 record.
    fn to_json(&self, id: u64, value: &[u8], address: Option<u32>) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(id));
        m.insert("pid".into(), json!(self.pid));
        m.insert("expr".into(), json!(self.expr));
        m.insert("type".into(), json!(self.kind));
        m.insert("length".into(), json!(self.length));
        m.insert("value".into(), json!(to_hex(value)));
        if let Some(a) = address {
            m.insert("address".into(), json!(a & 0xFFFF));
        }
        if let Some(s) = &self.symbol {
            m.insert("symbol".into(), json!(s));
        }
        if let Some(d) = &self.description {
            m.insert("description".into(), json!(d));
        }
        let mode = match &self.target {
            Target::Memory { .. } => "memory",
            Target::Local { location, .. } => {
                m.insert("location".into(), json!(location));
                "local"
            }
        };
        m.insert("mode".into(), json!(mode));
        Value::Object(m)
    }
}

/// How `watch add` reads its expression (`type`/`kind`, or a `local:` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WatchKind {
    Address,
    Symbol,
    Local,
    /// A number if it parses as one, else a symbol name.
    Auto,
}

fn watch_kind(expr: &str, kind: Option<&str>) -> WatchKind {
    if expr
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("local:"))
    {
        return WatchKind::Local;
    }
    match kind.map(str::trim) {
        Some("address" | "addr") => WatchKind::Address,
        Some("symbol" | "name") => WatchKind::Symbol,
        Some("local" | "locals") => WatchKind::Local,
        _ => WatchKind::Auto,
    }
}

/// Resolves a local watch expression against the task's current frame 0.
fn eval_local(
    exec: &Executive,
    table: Option<&SymTable>,
    pid: u32,
    expr: &str,
    length: Option<u32>,
) -> Result<LocalWatch, BackendError> {
    let regs = exec.registers(pid).map_err(exec_err)?;
    let fp = regs.regs.get(7).copied();
    let frame = FrameCtx {
        pc: regs.pc,
        fp,
        regs: Some(&regs.regs),
    };
    stack::resolve_local_watch(table, expr, &frame, length, reader(exec, pid)).map_err(|e| {
        match e {
            // Failures of reading the storage, as opposed to finding the variable, are
            // reported as read failures, as the reference does.
            LocalError::BadLocation(_)
            | LocalError::NoFramePointer
            | LocalError::RegisterUnavailable(_) => {
                BackendError::failed(format!("watch read failed: {e}"))
            }
            other => BackendError::failed(other.to_string()),
        }
    })
}

/// The daemon's debugger state beside the executive.
#[derive(Debug, Default)]
pub(crate) struct DebugState {
    /// Symbol tables per PID.
    pub(crate) symbols: SymbolStore,
    disasm: DisasmCache,
    /// Code bytes per PID (code never changes after load, and PIDs are never reused).
    code: HashMap<u32, Arc<[u8]>>,
    watches: BTreeMap<u64, WatchRec>,
    last_watch_id: u64,
    /// `trace config changed_regs` (on by default, as in the reference).
    changed_regs_off: bool,
    /// Keys of imported trace records that a typed record cannot hold, by PID and seq.
    trace_extras: HashMap<u32, HashMap<u64, Map<String, Value>>>,
}

impl DebugState {
    /// Forgets everything about a task that has gone (`kill`).
    pub(crate) fn forget_pid(&mut self, pid: u32) {
        self.symbols.remove(pid);
        self.disasm.forget_pid(pid);
        self.code.remove(&pid);
        self.watches.retain(|_, w| w.pid != pid);
        self.trace_extras.remove(&pid);
    }

    /// Whether `trace_step` events and records carry `changed_regs`.
    pub(crate) fn changed_regs(&self) -> bool {
        !self.changed_regs_off
    }

    /// Installs a symbol table read with [`SymbolStore::prepare`] and answers the status.
    pub(crate) fn install_symbols(
        &mut self,
        pid: u32,
        prepared: PreparedSymbols,
        image_crc: Option<u32>,
    ) -> Value {
        self.symbols.install(pid, prepared, image_crc)
    }

    fn code(&mut self, exec: &Executive, pid: u32) -> Result<Arc<[u8]>, BackendError> {
        if let Some(c) = self.code.get(&pid) {
            return Ok(Arc::clone(c));
        }
        let len = exec.code_len(pid).map_err(exec_err)?;
        let bytes: Arc<[u8]> = exec
            .read_code(pid, 0, usize::try_from(len).unwrap_or(usize::MAX))
            .map_err(exec_err)?
            .into();
        self.code.insert(pid, Arc::clone(&bytes));
        Ok(bytes)
    }

    /// `stack`: the R7 frame chain with function and line per frame.
    pub(crate) fn stack(&mut self, exec: &Executive, pid: u32, max_frames: u32) -> BackendResult {
        let t = exec.task(pid).map_err(exec_err)?;
        let code = self.code(exec, pid)?;
        let syms = self.symbols.get(pid).cloned();
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
        Ok(stack::walk(regs, bounds, &opts, reader(exec, pid)).to_json(pid))
    }

    /// `disasm`: a listing from code memory with symbols, lines, breakpoints and the PC.
    pub(crate) fn disasm(&mut self, exec: &Executive, args: &DisasmArgs) -> BackendResult {
        let pid = args.pid;
        let t = exec.task(pid).map_err(exec_err)?;
        let code = self.code(exec, pid)?;
        let syms = self.symbols.get(pid).cloned();
        let key = CacheKey {
            pid,
            image_crc: t.image.crc32,
            code_len: t.image.code_len,
            sym_generation: self.symbols.generation(pid),
        };
        let input = DisasmInput {
            code: &code,
            symbols: syms.as_deref().map(|l| &l.table),
            breakpoints: &t.breakpoints,
            pc: t.pc,
        };
        let start = if args.around_pc {
            Start::around(args.count)
        } else {
            Start::from_addr(args.addr)
        };
        // The cache is always correct (code is immutable), so on-demand requests use it too;
        // only `cached` mode reports it.
        let listing = self.disasm.listing(key, &input, start, args.count);
        Ok(listing.to_json(pid, args.mode))
    }

    /// `memory regions`.
    pub(crate) fn memory(&self, exec: &Executive, pid: u32) -> BackendResult {
        let t = exec.task(pid).map_err(exec_err)?;
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
        let sym = self.symbols.table(pid).map(SymTable::file);
        Ok(memory_json(pid, t.filepath.as_deref(), &layout, sym))
    }

    /// `symbols` (listing).
    pub(crate) fn symbols_list(&self, exec: &Executive, args: &SymbolsArgs) -> BackendResult {
        if !exec.has_task(args.pid) {
            return Err(BackendError::UnknownPid(args.pid));
        }
        Ok(self.symbols.handle_symbols(args))
    }

    /// `sym` info and lookups (`load` goes through [`SymbolStore::prepare`] and
    /// [`DebugState::install_symbols`] so the file is read outside the locks).
    pub(crate) fn sym(&mut self, pid: u32, op: &SymOp) -> Value {
        self.symbols.handle_sym(pid, op, None, None)
    }

    fn next_watch_id(&mut self) -> u64 {
        self.last_watch_id = self.last_watch_id.saturating_add(1);
        self.last_watch_id
    }

    /// `watch` list/add/remove.
    pub(crate) fn watch(&mut self, exec: &mut Executive, pid: u32, op: &WatchOp) -> BackendResult {
        match op {
            WatchOp::List => Ok(self.watch_list(exec, pid)),
            WatchOp::Add { expr, kind, length } => {
                self.watch_add(exec, pid, expr, kind.as_deref(), *length)
            }
            WatchOp::Remove { id } => {
                let owned = self.watches.get(id).is_some_and(|w| w.pid == pid);
                let rec = self
                    .watches
                    .get(id)
                    .filter(|_| owned)
                    .cloned()
                    .ok_or_else(|| {
                        BackendError::failed(format!("unknown watch {id} for pid {pid}"))
                    })?;
                let out = match &rec.target {
                    Target::Memory { exec_id } => {
                        let w = exec.watch_remove(pid, *exec_id).map_err(exec_err)?;
                        rec.to_json(*id, &w.value, Some(w.address))
                    }
                    Target::Local { last, address, .. } => rec.to_json(*id, last, *address),
                };
                self.watches.remove(id);
                Ok(out)
            }
        }
    }

    fn watch_list(&mut self, exec: &Executive, pid: u32) -> Value {
        let mem: HashMap<u32, hsx_exec::debug::WatchInfo> = exec
            .watch_list(pid)
            .unwrap_or_default()
            .into_iter()
            .map(|w| (w.id, w))
            .collect();
        let table = self.symbols.table(pid);
        let mut out = Vec::new();
        for (id, w) in self.watches.iter_mut().filter(|(_, w)| w.pid == pid) {
            match &mut w.target {
                Target::Memory { exec_id } => {
                    if let Some(info) = mem.get(exec_id) {
                        out.push(w.to_json(*id, &info.value, Some(info.address)));
                    }
                }
                Target::Local {
                    last,
                    address,
                    location,
                } => {
                    // Shown as it is now; `last` stays for change detection, so the next
                    // step still reports a change made since.
                    let (value, addr) = match eval_local(exec, table, pid, &w.expr, Some(w.length))
                    {
                        Ok(now) => {
                            location.clone_from(&now.value.location);
                            (now.value.bytes, now.value.address)
                        }
                        Err(_) => (last.clone(), *address),
                    };
                    out.push(w.to_json(*id, &value, addr));
                }
            }
        }
        json!({"pid": pid, "count": out.len(), "watches": out})
    }

    fn watch_add(
        &mut self,
        exec: &mut Executive,
        pid: u32,
        expr: &str,
        kind: Option<&str>,
        length: Option<u32>,
    ) -> BackendResult {
        if !exec.has_task(pid) {
            return Err(BackendError::UnknownPid(pid));
        }
        let expr = expr.trim();
        if expr.is_empty() {
            return Err(BackendError::failed("watch expression must be non-empty"));
        }
        let length = length.map(|l| l.max(1));
        let kind = watch_kind(expr, kind);
        if kind == WatchKind::Local {
            let w = eval_local(exec, self.symbols.table(pid), pid, expr, length)?;
            let id = self.next_watch_id();
            let rec = WatchRec {
                pid,
                expr: expr.to_string(),
                kind: "local",
                length: w.length,
                symbol: None,
                description: Some(w.description),
                target: Target::Local {
                    last: w.value.bytes,
                    address: w.value.address,
                    location: w.value.location,
                },
            };
            let out = match &rec.target {
                Target::Local { last, address, .. } => rec.to_json(id, last, *address),
                Target::Memory { .. } => Value::Null,
            };
            self.watches.insert(id, rec);
            return Ok(out);
        }
        let invalid = || BackendError::failed(format!("invalid address '{expr}'"));
        let by_symbol = |store: &SymbolStore| {
            store
                .table(pid)
                .and_then(|t| t.symbol(expr))
                .map(|s| (s.address, s.name.clone()))
                .ok_or_else(|| {
                    BackendError::failed(format!("symbol '{expr}' not found for pid {pid}"))
                })
        };
        let (address, symbol, kind_name) = match kind {
            WatchKind::Address => {
                let a = parse_int_str(expr).ok_or_else(invalid)?;
                (u32_of(a), None, "address")
            }
            WatchKind::Symbol => {
                let (a, s) = by_symbol(&self.symbols)?;
                (a, Some(s), "symbol")
            }
            _ => match parse_int_str(expr) {
                Some(a) => (u32_of(a), None, "address"),
                None => {
                    let (a, s) = by_symbol(&self.symbols)?;
                    (a, Some(s), "symbol")
                }
            },
        };
        let length = length.unwrap_or(4);
        let info = exec
            .watch_add(pid, address & 0xFFFF, length)
            .map_err(exec_err)?;
        let id = self.next_watch_id();
        let rec = WatchRec {
            pid,
            expr: expr.to_string(),
            kind: kind_name,
            length,
            description: symbol.clone(),
            symbol,
            target: Target::Memory { exec_id: info.id },
        };
        let out = rec.to_json(id, &info.value, Some(info.address));
        self.watches.insert(id, rec);
        Ok(out)
    }

    /// `data` of a `watch_update` for an executive watch, in the daemon's terms; `None`
    /// for a watch the daemon did not make.
    pub(crate) fn watch_update_data(&self, u: &WatchUpdate) -> Option<Value> {
        let (id, w) = self.watches.iter().find(
            |(_, w)| matches!(w.target, Target::Memory { exec_id } if exec_id == u.watch_id),
        )?;
        let mut m = Map::new();
        m.insert("watch_id".into(), json!(id));
        m.insert("address".into(), json!(u.address));
        m.insert("expr".into(), json!(w.expr));
        m.insert("type".into(), json!(w.kind));
        m.insert("length".into(), json!(u.length));
        m.insert("old".into(), json!(to_hex(&u.old)));
        m.insert("new".into(), json!(to_hex(&u.new)));
        if let Some(s) = &w.symbol {
            m.insert("symbol".into(), json!(s));
        }
        Some(Value::Object(m))
    }

    /// Re-reads every frame-local watch; answers `(pid, watch_update data)` for those that
    /// changed. A local that is not live at the current PC is skipped, as in the reference.
    pub(crate) fn check_local_watches(&mut self, exec: &Executive) -> Vec<(u32, Value)> {
        let mut out = Vec::new();
        let Self {
            symbols, watches, ..
        } = self;
        for (id, w) in watches.iter_mut() {
            let Target::Local {
                last,
                address,
                location,
            } = &mut w.target
            else {
                continue;
            };
            let Ok(now) = eval_local(exec, symbols.table(w.pid), w.pid, &w.expr, Some(w.length))
            else {
                continue;
            };
            *address = now.value.address;
            location.clone_from(&now.value.location);
            if now.value.bytes == *last {
                continue;
            }
            let old = std::mem::replace(last, now.value.bytes);
            out.push((
                w.pid,
                json!({
                    "watch_id": id,
                    "address": address,
                    "expr": w.expr,
                    "type": w.kind,
                    "length": w.length,
                    "old": to_hex(&old),
                    "new": to_hex(last),
                    "location": location,
                }),
            ));
        }
        out
    }

    /// Whether any frame-local watch exists (they are checked after every step call).
    pub(crate) fn has_local_watches(&self) -> bool {
        self.watches
            .values()
            .any(|w| matches!(w.target, Target::Local { .. }))
    }

    /// `trace` in every form.
    pub(crate) fn trace(&mut self, exec: &mut Executive, op: &TraceOp) -> BackendResult {
        match op {
            TraceOp::Toggle { pid, enable } => {
                let on = exec.set_trace(*pid, *enable).map_err(exec_err)?;
                Ok(json!({"pid": pid, "enabled": on, "buffer_size": exec.trace_capacity()}))
            }
            TraceOp::ChangedRegs(on) => {
                self.changed_regs_off = !on;
                Ok(json!({"changed_regs": on}))
            }
            TraceOp::BufferSize(n) => {
                let cap = exec.set_trace_capacity(usize::try_from(*n).unwrap_or(usize::MAX));
                if cap == 0 {
                    self.trace_extras.clear();
                }
                Ok(json!({"buffer_size": cap}))
            }
            TraceOp::Records { pid, limit } => Ok(self.trace_records(exec, *pid, *limit, true)),
            TraceOp::Export { pid, limit } => Ok(self.trace_records(exec, *pid, *limit, false)),
            TraceOp::Import {
                pid,
                records,
                replace,
            } => self.trace_import(exec, *pid, records, *replace),
        }
    }

    fn trace_records(
        &self,
        exec: &Executive,
        pid: u32,
        limit: Option<i64>,
        with_enabled: bool,
    ) -> Value {
        // A task that has gone has no records (and `enabled: null`), not an error.
        let enabled = exec.task(pid).ok().map(|t| t.trace);
        let all = exec.trace_records(pid, None).unwrap_or_default();
        let count = all.len();
        let take = match limit {
            Some(n) if n <= 0 => 0,
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX).min(count),
            None => count,
        };
        let extras = self.trace_extras.get(&pid);
        let changed = self.changed_regs();
        let records: Vec<Value> = all
            .iter()
            .skip(count - take)
            .map(|r| trace_record_json(r, changed, extras.and_then(|e| e.get(&r.seq))))
            .collect();
        let mut m = Map::new();
        m.insert("pid".into(), json!(pid));
        m.insert("capacity".into(), json!(exec.trace_capacity()));
        m.insert("count".into(), json!(count));
        m.insert("returned".into(), json!(records.len()));
        if with_enabled {
            m.insert("enabled".into(), json!(enabled));
        }
        m.insert("format".into(), json!(TRACE_FORMAT));
        m.insert("records".into(), Value::Array(records));
        Value::Object(m)
    }

    fn trace_import(
        &mut self,
        exec: &mut Executive,
        pid: u32,
        records: &[Value],
        replace: bool,
    ) -> BackendResult {
        let cap = exec.trace_capacity();
        if cap == 0 {
            return Err(BackendError::failed("trace buffer disabled"));
        }
        if !exec.has_task(pid) {
            return Err(BackendError::UnknownPid(pid));
        }
        let mut parsed = Vec::with_capacity(records.len().min(cap));
        // Only the newest `cap` records can be kept, so older ones are not even parsed.
        for v in records.iter().skip(records.len().saturating_sub(cap)) {
            parsed.push(parse_trace_record(v, pid).map_err(BackendError::failed)?);
        }
        let typed: Vec<TraceRecord> = parsed.iter().map(|(r, _)| *r).collect();
        exec.trace_import(pid, &typed, replace).map_err(exec_err)?;
        let extras = self.trace_extras.entry(pid).or_default();
        if replace {
            extras.clear();
        }
        for (r, extra) in parsed {
            if extra.is_empty() {
                extras.remove(&r.seq);
            } else {
                extras.insert(r.seq, extra);
            }
        }
        // Keep extras only for records still in the ring.
        let live: HashSet<u64> = exec
            .trace_records(pid, None)
            .unwrap_or_default()
            .iter()
            .map(|r| r.seq)
            .collect();
        extras.retain(|seq, _| live.contains(seq));
        Ok(self.trace_records(exec, pid, None, true))
    }
}

/// Reads the `.sym` a `load` should install for a new task: the `symbols` override
/// (relative to the program's directory), the assembler's own table for a `.mvasm`, or
/// `APP.sym` next to `APP.hxe`. Does file I/O, so call it without locks held.
pub(crate) fn prepare_load_symbols(
    program: &std::path::Path,
    override_path: Option<&str>,
    assembled: Option<hsx_image::sym::SymFile>,
) -> PreparedSymbols {
    match (override_path, assembled) {
        (Some(p), _) => SymbolStore::prepare(&SymbolStore::resolve_path(Some(program), p)),
        (None, Some(file)) => {
            PreparedSymbols::Ready(program.to_path_buf(), Box::new(SymTable::new(file)))
        }
        (None, None) => SymbolStore::prepare(&SymbolStore::sym_path_for(program)),
    }
}

/// The load reply's `warnings` for a symbol status (§2.1.1); empty when symbols loaded.
pub(crate) fn symbol_warnings(status: &Value) -> Vec<String> {
    if status["loaded"] == json!(true) {
        return Vec::new();
    }
    if let Some(e) = status.get("error").and_then(Value::as_str) {
        vec![format!("symbols_failed:{e}")]
    } else if let Some(p) = status.get("path").and_then(Value::as_str) {
        vec![format!("symbols_missing:{p}")]
    } else {
        vec!["symbols_unavailable".to_string()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_register_names() {
        assert_eq!(
            changed_reg_names((1 << 0) | (1 << 15) | (1 << 16) | (1 << 17) | (1 << 18)),
            ["R0", "R15", "SP", "PSW"]
        );
        assert_eq!(reg_bit("r3"), Some(1 << 3));
        assert_eq!(reg_bit("psw"), Some(1 << 18));
        assert_eq!(reg_bit("X"), None);
    }

    #[test]
    fn trace_records_round_trip_with_extra_keys() {
        let v = json!({"seq": "0x10", "pc": 8, "opcode": 1234, "next_pc": 12, "steps": 3,
                       "flags": 1, "ts": 1.5, "regs": [1, "0x2"], "changed_regs": ["r1", "PSW"],
                       "mem_access": {"op": "WRITE", "address": "0x4000", "width": 4, "value": 7},
                       "source": "capture"});
        let (r, extra) = parse_trace_record(&v, 3).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.seq, r.pid, r.pc, r.ts_ms), (16, 3, 8, 1500));
        assert_eq!(r.regs[1], 2);
        assert_eq!(extra.get("source"), Some(&json!("capture")));
        let out = trace_record_json(&r, true, Some(&extra));
        assert_eq!(out["changed_regs"], json!(["R1", "PSW"]));
        assert_eq!(out["mem_access"]["op"], "write");
        assert_eq!(out["mem_access"]["address"], 0x4000);
        assert_eq!(out["source"], "capture");
        assert_eq!(out["ts"], 1.5);
        assert!(
            trace_record_json(&r, false, None)
                .get("changed_regs")
                .is_none()
        );

        let missing = parse_trace_record(&json!({"seq": 1, "opcode": 0}), 1);
        assert_eq!(
            missing.map(|_| ()),
            Err("trace record missing required field 'pc'".to_string())
        );
        assert!(parse_trace_record(&json!({"seq": true, "pc": 0, "opcode": 0}), 1).is_err());
        assert!(parse_trace_record(&json!([1]), 1).is_err());
        assert!(
            parse_trace_record(
                &json!({"seq": 1, "pc": 0, "opcode": 0, "mem_access": {"op": "poke"}}),
                1
            )
            .is_err()
        );
        let (_, extra) = parse_trace_record(
            &json!({"seq": 1, "pc": 0, "opcode": 0,
                    "mem_access": {"op": "read", "address": 2, "mask": 255}}),
            1,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(extra["mem_access"]["mask"], 255);
    }

    #[test]
    fn watch_kinds_and_warnings() {
        assert_eq!(watch_kind("LOCAL:x", Some("address")), WatchKind::Local);
        assert_eq!(watch_kind("x", Some("locals")), WatchKind::Local);
        assert_eq!(watch_kind("0x10", Some("addr")), WatchKind::Address);
        assert_eq!(watch_kind("g", Some("name")), WatchKind::Symbol);
        assert_eq!(watch_kind("g", None), WatchKind::Auto);
        assert_eq!(
            symbol_warnings(&json!({"loaded": false, "path": "/a.sym"})),
            ["symbols_missing:/a.sym"]
        );
        assert_eq!(
            symbol_warnings(&json!({"loaded": false, "path": "/a.sym", "error": "bad"})),
            ["symbols_failed:bad"]
        );
        assert_eq!(
            symbol_warnings(&json!({"loaded": false})),
            ["symbols_unavailable"]
        );
        assert!(symbol_warnings(&json!({"loaded": true})).is_empty());
    }
}
