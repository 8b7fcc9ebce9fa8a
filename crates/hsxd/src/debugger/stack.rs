//! Call-stack reconstruction through the R7 frame chain (protocol.md §2.4.2) and frame-local
//! variables for `watch` (§2.4.6).
//!
//! Compiled code builds frames with `PUSH R7; MOV R7, R15`, so inside a function
//! `[R7+0]` holds the caller's R7 and `[R7+4]` the return address (vm.md §2.2). The walk
//! follows that chain from the current R7. Guest memory is untrusted: every pointer is
//! range-checked, the chain must strictly ascend (callers' frames sit higher), the frame
//! count is bounded, and a bad link ends the walk with `truncated:true` and an entry in
//! `errors`, never a panic or a loop.
//!
//! Differences from the reference walker (each makes the output more correct):
//! * the frame `[fp, fp+8)` may reach the end of memory instead of `stack_high`, so the
//!   outermost frame (`main`, whose return slot is the word just above the stack top) ends
//!   cleanly instead of with `fp_frame_overflow`;
//! * a chain that goes down (`prev_fp < fp`) stops with `fp_not_ascending`;
//! * with the code bytes at hand, frame 0 is read correctly while the PC sits on a
//!   prologue (`PUSH R7` / `MOV R7, R15`) or on `RET`, where R7 is not this frame's yet;
//! * caller frames look up function and line at `return_pc - 4` (the CALL), and frames
//!   carry `file` and `depth`.

use std::collections::BTreeSet;

use hsx_image::sym::{Local, SymTable};
use hsx_vm::isa::{Instr, Opcode};
use serde_json::{Map, Value, json};

use super::{LinePos, SymbolHit};
use crate::args::parse_int_str;
use crate::cmd::regs::to_hex;

/// Bytes of a frame record: `[prev_fp, return_pc]`.
pub const FRAME_BYTES: u32 = 8;
/// Frames returned when the caller does not say.
pub const DEFAULT_FRAMES: u32 = 16;
/// Largest frame count honoured.
pub const MAX_FRAMES: u32 = 64;
/// End of the 64 KiB data space.
pub const MEM_END: u64 = 0x1_0000;
/// Longest local-variable read.
pub const MAX_LOCAL_READ: u32 = 0x1000;

const FP_REG: u8 = 7;
const SP_REG: u8 = 15;

/// Registers the walk starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StackRegs {
    /// Program counter.
    pub pc: u32,
    /// Stack pointer (absolute data address).
    pub sp: u32,
    /// R7, the frame pointer.
    pub fp: u32,
}

/// The task's stack area as the executive reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StackBounds {
    /// `stack_base` (lowest address of the stack area).
    pub stack_base: u32,
    /// `stack_limit` (the overflow guard).
    pub stack_limit: u32,
    /// `stack_size` in bytes (0 = unknown).
    pub stack_size: u32,
}

impl StackBounds {
    /// `min(stack_base, stack_limit)`.
    pub fn low(&self) -> u32 {
        self.stack_base.min(self.stack_limit)
    }

    /// `stack_base + stack_size`, or `low + 0x10000` when the size is 0.
    pub fn high(&self) -> u64 {
        if self.stack_size > 0 {
            u64::from(self.stack_base) + u64::from(self.stack_size)
        } else {
            u64::from(self.low()) + MEM_END
        }
    }

    fn contains(&self, ptr: u32) -> bool {
        ptr >= self.low() && u64::from(ptr) < self.high()
    }
}

/// Walk settings.
#[derive(Debug, Clone, Copy)]
pub struct WalkOptions<'a> {
    /// Frames to return (clamped to 1..=[`MAX_FRAMES`]).
    pub max_frames: u32,
    /// Symbols for function names and source lines.
    pub symbols: Option<&'a SymTable>,
    /// The task's code bytes (big-endian words), for the prologue/`RET` check of frame 0.
    pub code: Option<&'a [u8]>,
}

impl Default for WalkOptions<'_> {
    fn default() -> Self {
        WalkOptions {
            max_frames: DEFAULT_FRAMES,
            symbols: None,
            code: None,
        }
    }
}

/// One frame of a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// 0 = innermost.
    pub index: u32,
    /// PC in this frame (a return address for every frame but 0).
    pub pc: u32,
    /// SP in this frame.
    pub sp: u32,
    /// This frame's R7; `None` when it has none (outermost, or frame 0 before its
    /// prologue has run).
    pub fp: Option<u32>,
    /// Where this frame returns to; `None` for the last frame or a failed read.
    pub return_pc: Option<u32>,
    /// The function (or nearest symbol) the frame's PC is in.
    pub function: Option<SymbolHit>,
    /// Source line of the frame's PC.
    pub line: Option<LinePos>,
}

impl Frame {
    /// The reference's frame object plus `depth` and `file`: `{index, depth, pc, sp, fp,
    /// return_pc, symbol?:{name,address,size,type,file,line,offset}, func_name?,
    /// func_addr?, func_offset?, line?:{address,file,line}, line_num?, file?}`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("index".into(), json!(self.index));
        m.insert("depth".into(), json!(self.index));
        m.insert("pc".into(), json!(self.pc));
        m.insert("sp".into(), json!(self.sp));
        m.insert("fp".into(), json!(self.fp));
        m.insert("return_pc".into(), json!(self.return_pc));
        if let Some(f) = &self.function {
            m.insert("symbol".into(), f.to_json());
            m.insert("func_name".into(), json!(f.entry.name));
            m.insert("func_addr".into(), json!(f.entry.address));
            m.insert("func_offset".into(), json!(f.offset));
        }
        if let Some(l) = &self.line {
            m.insert("line".into(), l.to_json());
            m.insert("line_num".into(), json!(l.line));
        }
        let file = self
            .line
            .as_ref()
            .and_then(|l| l.file.clone())
            .or_else(|| self.function.as_ref().and_then(|f| f.entry.file.clone()));
        if let Some(file) = file {
            m.insert("file".into(), json!(file));
        }
        Value::Object(m)
    }
}

/// Result of a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackTrace {
    /// Frames, innermost first (at least one).
    pub frames: Vec<Frame>,
    /// The walk stopped on an error or the frame limit.
    pub truncated: bool,
    /// `fp_cycle:0x…`, `fp_unaligned:0x…`, `fp_out_of_range:0x…`, `fp_not_ascending:0x…`,
    /// `fp_frame_overflow:0x…`, `stack_read_failed:0x…`, `sp_out_of_range:0x…`,
    /// `frame_limit_reached`.
    pub errors: Vec<String>,
    /// The bounds the walk used.
    pub bounds: StackBounds,
    /// Starting SP.
    pub initial_sp: u32,
    /// Starting R7.
    pub initial_fp: u32,
}

impl StackTrace {
    /// The `stack` reply object: `{pid, frames, truncated, errors, stack_base, stack_limit,
    /// stack_low, stack_high, initial_sp, initial_fp}`.
    pub fn to_json(&self, pid: u32) -> Value {
        json!({
            "pid": pid,
            "frames": self.frames.iter().map(Frame::to_json).collect::<Vec<_>>(),
            "truncated": self.truncated,
            "errors": self.errors,
            "stack_base": self.bounds.stack_base,
            "stack_limit": self.bounds.stack_limit,
            "stack_low": self.bounds.low(),
            "stack_high": self.bounds.high(),
            "initial_sp": self.initial_sp,
            "initial_fp": self.initial_fp,
        })
    }
}

fn code_word(code: &[u8], pc: u32) -> Option<Instr> {
    let at = usize::try_from(pc).ok()?;
    let b = code.get(at..at.checked_add(4)?)?;
    let w = u32::from_be_bytes([*b.first()?, *b.get(1)?, *b.get(2)?, *b.get(3)?]);
    Instr::decode(w).ok()
}

fn is_push_fp(i: Option<Instr>) -> bool {
    i.is_some_and(|i| i.op == Opcode::Push && i.rs1 == FP_REG)
}

fn is_mov_fp_sp(i: Option<Instr>) -> bool {
    i.is_some_and(|i| i.op == Opcode::Mov && i.rd == FP_REG && i.rs1 == SP_REG)
}

/// Where frame 0 stands relative to its own frame record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// R7 is this frame's.
    Framed,
    /// No record yet (at the entry `PUSH R7`) or any more (at `RET`): the return address
    /// is at `[sp]` and R7 is the caller's.
    Frameless,
    /// `PUSH R7` done, `MOV R7, R15` not yet: the record is at `sp`.
    RecordAtSp,
}

fn classify(code: Option<&[u8]>, pc: u32) -> Entry {
    let Some(code) = code else {
        return Entry::Framed;
    };
    let here = code_word(code, pc);
    if here.is_some_and(|i| i.op == Opcode::Ret)
        || (is_push_fp(here) && is_mov_fp_sp(code_word(code, pc.wrapping_add(4))))
    {
        Entry::Frameless
    } else if is_mov_fp_sp(here) && pc >= 4 && is_push_fp(code_word(code, pc - 4)) {
        Entry::RecordAtSp
    } else {
        Entry::Framed
    }
}

fn read_words<F: Fn(u32, &mut [u8]) -> usize, const N: usize>(
    read: &F,
    addr: u32,
) -> Option<[u32; N]> {
    if u64::from(addr) + 4 * N as u64 > MEM_END {
        return None;
    }
    let mut buf = [0u8; 32];
    let want = buf.get_mut(..4 * N)?;
    if read(addr, want) < want.len() {
        return None;
    }
    let mut out = [0u32; N];
    for (slot, chunk) in out.iter_mut().zip(want.chunks_exact(4)) {
        *slot = u32::from_le_bytes(chunk.try_into().unwrap_or([0; 4]));
    }
    Some(out)
}

enum Next {
    Stop,
    Truncate(String),
    Frame { pc: u32, sp: u32, fp: Option<u32> },
}

struct Step {
    return_pc: Option<u32>,
    next: Next,
}

impl Step {
    fn stop() -> Self {
        Step {
            return_pc: None,
            next: Next::Stop,
        }
    }

    fn fail(e: String) -> Self {
        Step {
            return_pc: None,
            next: Next::Truncate(e),
        }
    }
}

/// The caller's frame pointer as a link of the chain starting above `below` (`None` when
/// the chain ends cleanly with 0).
fn link(
    prev_fp: u32,
    below: Option<u32>,
    bounds: &StackBounds,
    seen: &BTreeSet<u32>,
) -> Result<Option<u32>, String> {
    if prev_fp == 0 {
        return Ok(None);
    }
    if !bounds.contains(prev_fp) {
        return Err(format!("fp_out_of_range:0x{prev_fp:08X}"));
    }
    if seen.contains(&prev_fp) || below == Some(prev_fp) {
        return Err(format!("fp_cycle:0x{prev_fp:08X}"));
    }
    if below.is_some_and(|b| prev_fp < b) {
        return Err(format!("fp_not_ascending:0x{prev_fp:08X}"));
    }
    Ok(Some(prev_fp))
}

fn step_framed<F: Fn(u32, &mut [u8]) -> usize>(
    fp: Option<u32>,
    bounds: &StackBounds,
    seen: &mut BTreeSet<u32>,
    read: &F,
) -> Step {
    let Some(f) = fp.filter(|&f| f != 0) else {
        return Step::stop();
    };
    if !seen.insert(f) {
        return Step::fail(format!("fp_cycle:0x{f:08X}"));
    }
    if f % 4 != 0 {
        return Step::fail(format!("fp_unaligned:0x{f:08X}"));
    }
    if !bounds.contains(f) {
        return Step::fail(format!("fp_out_of_range:0x{f:08X}"));
    }
    if u64::from(f) + u64::from(FRAME_BYTES) > MEM_END {
        return Step::fail(format!("fp_frame_overflow:0x{f:08X}"));
    }
    let Some([prev_fp, ret]) = read_words::<F, 2>(read, f) else {
        return Step::fail(format!("stack_read_failed:0x{f:08X}"));
    };
    if prev_fp == 0 && ret == 0 {
        return Step {
            return_pc: Some(ret),
            next: Next::Stop,
        };
    }
    let next = match link(prev_fp, Some(f), bounds, seen) {
        Ok(fp) => Next::Frame {
            pc: ret,
            sp: f.wrapping_add(FRAME_BYTES),
            fp,
        },
        Err(e) => Next::Truncate(e),
    };
    Step {
        return_pc: Some(ret),
        next,
    }
}

fn step_frameless<F: Fn(u32, &mut [u8]) -> usize>(
    sp: u32,
    caller_fp: u32,
    bounds: &StackBounds,
    seen: &BTreeSet<u32>,
    read: &F,
) -> Step {
    // Nothing pushed at all: this is the outermost code (a task's entry before any CALL).
    if u64::from(sp) >= bounds.high() {
        return Step::stop();
    }
    let Some([ret]) = read_words::<F, 1>(read, sp) else {
        return Step::fail(format!("stack_read_failed:0x{sp:08X}"));
    };
    if ret == 0 && caller_fp == 0 {
        return Step {
            return_pc: Some(ret),
            next: Next::Stop,
        };
    }
    // The caller's record must sit above the return slot.
    let below = (caller_fp != 0).then_some(sp);
    let next = match link(caller_fp, below, bounds, seen) {
        Ok(fp) => Next::Frame {
            pc: ret,
            sp: sp.wrapping_add(4),
            fp,
        },
        Err(e) => Next::Truncate(e),
    };
    Step {
        return_pc: Some(ret),
        next,
    }
}

fn annotate(frame: &mut Frame, symbols: Option<&SymTable>) {
    let Some(t) = symbols else { return };
    // A return address points after the CALL; the CALL itself names the caller's line.
    let at = if frame.index > 0 {
        frame.pc.wrapping_sub(4)
    } else {
        frame.pc
    };
    frame.function = SymbolHit::function_or_nearest(t, at).map(|mut h| {
        h.offset = frame.pc.wrapping_sub(h.entry.address);
        h
    });
    frame.line = LinePos::for_pc(t, at);
}

/// Walks the frame chain. `read(addr, buf)` fills `buf` from task data memory and returns
/// how many bytes it read (a short count is a failed read).
pub fn walk<F>(regs: StackRegs, bounds: StackBounds, opts: &WalkOptions<'_>, read: F) -> StackTrace
where
    F: Fn(u32, &mut [u8]) -> usize,
{
    let max = opts.max_frames.clamp(1, MAX_FRAMES);
    let mut errors = Vec::new();
    if !(regs.sp >= bounds.low() && u64::from(regs.sp) <= bounds.high()) {
        errors.push(format!("sp_out_of_range:0x{:08X}", regs.sp));
    }
    let entry = classify(opts.code, regs.pc);
    let mut frames = Vec::new();
    let mut seen = BTreeSet::new();
    let (mut pc, mut sp) = (regs.pc, regs.sp);
    let mut fp = match entry {
        Entry::Framed => Some(regs.fp),
        Entry::Frameless => None,
        Entry::RecordAtSp => Some(regs.sp),
    }
    .filter(|&f| f != 0);
    let mut truncated = false;
    let mut finished = false;
    for index in 0..max {
        let mut frame = Frame {
            index,
            pc,
            sp,
            fp,
            return_pc: None,
            function: None,
            line: None,
        };
        annotate(&mut frame, opts.symbols);
        let step = if index == 0 && entry == Entry::Frameless {
            step_frameless(sp, regs.fp, &bounds, &seen, &read)
        } else {
            step_framed(fp, &bounds, &mut seen, &read)
        };
        frame.return_pc = step.return_pc;
        frames.push(frame);
        match step.next {
            Next::Stop => {
                finished = true;
                break;
            }
            Next::Truncate(e) => {
                errors.push(e);
                truncated = true;
                finished = true;
                break;
            }
            Next::Frame {
                pc: npc,
                sp: nsp,
                fp: nfp,
            } => {
                pc = npc;
                sp = nsp;
                fp = nfp;
            }
        }
    }
    if !finished {
        truncated = true;
        errors.push("frame_limit_reached".to_string());
    }
    StackTrace {
        frames,
        truncated,
        errors,
        bounds,
        initial_sp: regs.sp,
        initial_fp: regs.fp,
    }
}

// ---------------------------------------------------------------------------------------
// Frame-local variables
// ---------------------------------------------------------------------------------------

/// Why a local variable could not be resolved or read. The texts are the reference's
/// `watch` error messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    /// No `.sym` for the task.
    #[error("symbols not loaded; use symbols.load before watching locals")]
    NoSymbols,
    /// `local:` with nothing after it.
    #[error("local expression must name a variable")]
    EmptyExpression,
    /// `func::` with no variable.
    #[error("local expression missing variable name")]
    MissingVariable,
    /// The PC is in no known function and none was named.
    #[error("unable to determine current function for local lookup")]
    NoFunction,
    /// The function has no `locals` entries.
    #[error("function '{0}' has no local metadata")]
    NoLocals(String),
    /// No location range of the variable covers the PC.
    #[error("local '{name}' is not live in function '{function}' at current PC")]
    NotLive {
        /// Variable.
        name: String,
        /// Function.
        function: String,
    },
    /// The location descriptor is malformed or of an unknown kind.
    #[error("{0}")]
    BadLocation(String),
    /// A stack location without a frame pointer.
    #[error("frame pointer not available")]
    NoFramePointer,
    /// A register location outside frame 0 (or without registers).
    #[error("register R{0} unavailable")]
    RegisterUnavailable(u8),
}

/// Where a local lives, parsed from a `.sym` location descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// `[fp + offset]`.
    Stack {
        /// Byte offset from R7.
        offset: i64,
    },
    /// A register of frame 0.
    Register {
        /// Register number.
        index: u8,
    },
    /// A data address, given directly or through a symbol.
    Global {
        /// Symbol name.
        symbol: Option<String>,
        /// Base address.
        address: Option<u32>,
        /// Byte offset.
        offset: i64,
    },
    /// A constant value.
    Const {
        /// The value.
        value: u32,
    },
}

fn loose_int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => parse_int_str(s).and_then(|n| i64::try_from(n).ok()),
        _ => None,
    }
}

fn register_index(name: &str) -> Option<u8> {
    let n = name.trim();
    let digits = n.strip_prefix('R').or_else(|| n.strip_prefix('r'))?;
    let i: u8 = digits.parse().ok()?;
    (i < 16).then_some(i)
}

/// Parses a textual location: `fp`, `fp-8`, `fp+0x10`, `[R7-8]`, `R5`, or a data address.
fn parse_location_text(text: &str) -> Result<Storage, LocalError> {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '[' && *c != ']')
        .collect::<String>()
        .to_ascii_lowercase();
    let base_rest = t.strip_prefix("fp").or_else(|| t.strip_prefix("r7"));
    if let Some(rest) = base_rest.filter(|r| r.is_empty() || r.starts_with(['+', '-'])) {
        let offset = if rest.is_empty() {
            0
        } else {
            parse_int_str(rest)
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| LocalError::BadLocation(format!("invalid location '{text}'")))?
        };
        return Ok(Storage::Stack { offset });
    }
    if let Some(index) = register_index(&t) {
        return Ok(Storage::Register { index });
    }
    if let Some(addr) = parse_int_str(&t).and_then(|n| u32::try_from(n).ok()) {
        return Ok(Storage::Global {
            symbol: None,
            address: Some(addr),
            offset: 0,
        });
    }
    Err(LocalError::BadLocation(format!(
        "unsupported local storage kind '{text}'"
    )))
}

/// Parses a `.sym` location descriptor: an object `{kind: stack|register|global|const, …}`
/// (kind defaults to `stack`) or a string such as `"fp-8"` or `"R5"`.
pub fn parse_location(v: &Value) -> Result<Storage, LocalError> {
    let obj = match v {
        Value::String(s) => return parse_location_text(s),
        Value::Object(o) => o,
        Value::Null => return Ok(Storage::Stack { offset: 0 }),
        _ => {
            return Err(LocalError::BadLocation(
                "invalid location descriptor".into(),
            ));
        }
    };
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .unwrap_or("stack")
        .to_ascii_lowercase();
    match kind.as_str() {
        "stack" | "frame" => Ok(Storage::Stack {
            offset: loose_int(obj.get("offset")).unwrap_or(0),
        }),
        "register" | "reg" => {
            let by_index = loose_int(obj.get("index"))
                .and_then(|i| u8::try_from(i).ok())
                .filter(|i| *i < 16);
            let by_name = ["name", "register"]
                .iter()
                .find_map(|k| obj.get(*k).and_then(Value::as_str))
                .and_then(register_index);
            by_index
                .or(by_name)
                .map(|index| Storage::Register { index })
                .ok_or_else(|| LocalError::BadLocation("register location missing index".into()))
        }
        "global" => {
            let symbol = obj
                .get("symbol")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            let address = loose_int(obj.get("address")).map(|a| (a as u64 & 0xFFFF_FFFF) as u32);
            if symbol.is_none() && address.is_none() {
                return Err(LocalError::BadLocation(
                    "global location missing base address".into(),
                ));
            }
            Ok(Storage::Global {
                symbol,
                address,
                offset: loose_int(obj.get("offset")).unwrap_or(0),
            })
        }
        "const" | "constant" => loose_int(obj.get("value"))
            .map(|v| Storage::Const {
                value: (v as u64 & 0xFFFF_FFFF) as u32,
            })
            .ok_or_else(|| LocalError::BadLocation("const location missing value".into())),
        other => Err(LocalError::BadLocation(format!(
            "unsupported local storage kind '{other}'"
        ))),
    }
}

/// Splits a local expression: `local:<var>`, `<func>::<var>`, `<var>@<func>` or `<var>`.
/// Returns `(function, variable)`.
pub fn parse_local_expr(expr: &str) -> Result<(Option<&str>, &str), LocalError> {
    let mut e = expr.trim();
    if e.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("local:")) {
        e = e.get(6..).unwrap_or("").trim();
    }
    if e.is_empty() {
        return Err(LocalError::EmptyExpression);
    }
    let (func, var) = if let Some((f, v)) = e.split_once("::") {
        (Some(f.trim()), v.trim())
    } else if let Some((v, f)) = e.split_once('@') {
        (Some(f.trim()), v.trim())
    } else {
        (None, e)
    };
    if var.is_empty() {
        return Err(LocalError::MissingVariable);
    }
    Ok((func.filter(|f| !f.is_empty()), var))
}

/// A local resolved for one PC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalVar {
    /// Enclosing function.
    pub function: String,
    /// Variable name.
    pub name: String,
    /// Where it lives at this PC.
    pub storage: Storage,
    /// Size from the location descriptor, when given.
    pub size: Option<u32>,
    /// Declaration file.
    pub file: Option<String>,
    /// Declaration line.
    pub line: Option<u32>,
}

/// The first location range of `local` that covers `pc` (`start <= pc < end`; an `end` of
/// 0 means the range is open).
fn live_location(local: &Local, pc: u32) -> Option<&Value> {
    local
        .locations
        .iter()
        .find(|l| pc >= l.start && (l.end == 0 || pc < l.end))
        .map(|l| &l.location)
}

/// The function a PC is in, by the function table, else by the nearest symbol.
pub fn function_at(table: &SymTable, pc: u32) -> Option<String> {
    SymbolHit::function_or_nearest(table, pc).map(|h| h.entry.name)
}

fn local_var(function: &str, local: &Local, loc: &Value) -> Result<LocalVar, LocalError> {
    let size = loc
        .get("size")
        .and_then(|v| loose_int(Some(v)))
        .and_then(|s| u32::try_from(s).ok())
        .filter(|s| *s > 0);
    Ok(LocalVar {
        function: function.to_string(),
        name: local.name.clone().unwrap_or_default(),
        storage: parse_location(loc)?,
        size,
        file: local.file.clone(),
        line: local.line,
    })
}

/// Finds `name` among the locals of `function` (default: the function at `pc`) that are
/// live at `pc`.
pub fn find_local(
    table: &SymTable,
    function: Option<&str>,
    name: &str,
    pc: u32,
) -> Result<LocalVar, LocalError> {
    let func = match function {
        Some(f) => f.to_string(),
        None => function_at(table, pc).ok_or(LocalError::NoFunction)?,
    };
    let mut any = false;
    for local in table.locals_of(&func) {
        any = true;
        if local.name.as_deref() != Some(name) {
            continue;
        }
        if let Some(loc) = live_location(local, pc) {
            return local_var(&func, local, loc);
        }
    }
    if !any {
        return Err(LocalError::NoLocals(func));
    }
    Err(LocalError::NotLive {
        name: name.to_string(),
        function: func,
    })
}

/// The frame a local is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameCtx<'a> {
    /// The frame's PC.
    pub pc: u32,
    /// The frame's R7.
    pub fp: Option<u32>,
    /// Registers, for frame 0 only.
    pub regs: Option<&'a [u32; 16]>,
}

/// Bytes of a local and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalValue {
    /// The bytes (shorter than asked only at the end of memory).
    pub bytes: Vec<u8>,
    /// Data address, for memory-backed locals (16 bits).
    pub address: Option<u32>,
    /// `fp-0x8`, `R5`, `sym+0x4`, `0x4000` or `const`.
    pub location: String,
}

fn stack_location_text(offset: i64) -> String {
    match offset {
        0 => "fp".to_string(),
        o if o > 0 => format!("fp+0x{o:X}"),
        o => format!("fp-0x{:X}", o.unsigned_abs()),
    }
}

fn value_bytes(value: u32, length: u32) -> Vec<u8> {
    let mut v = value.to_le_bytes().to_vec();
    v.resize(length as usize, 0);
    v
}

fn read_mem<F: Fn(u32, &mut [u8]) -> usize>(read: &F, address: u32, length: u32) -> Vec<u8> {
    let room = MEM_END - u64::from(address & 0xFFFF);
    let n = u64::from(length).min(room) as usize;
    let mut buf = vec![0u8; n];
    let got = read(address & 0xFFFF, &mut buf).min(n);
    buf.truncate(got);
    buf
}

fn offset_addr(base: u32, offset: i64) -> u32 {
    ((i64::from(base) + offset) & 0xFFFF) as u32
}

/// Reads `length` bytes (capped at [`MAX_LOCAL_READ`]) of a resolved local in `frame`.
pub fn read_local<F>(
    table: &SymTable,
    var: &LocalVar,
    frame: &FrameCtx<'_>,
    length: u32,
    read: F,
) -> Result<LocalValue, LocalError>
where
    F: Fn(u32, &mut [u8]) -> usize,
{
    let length = length.clamp(1, MAX_LOCAL_READ);
    match &var.storage {
        Storage::Stack { offset } => {
            let fp = frame.fp.ok_or(LocalError::NoFramePointer)?;
            let address = offset_addr(fp, *offset);
            Ok(LocalValue {
                bytes: read_mem(&read, address, length),
                address: Some(address),
                location: stack_location_text(*offset),
            })
        }
        Storage::Register { index } => {
            let value = frame
                .regs
                .and_then(|r| r.get(usize::from(*index)))
                .ok_or(LocalError::RegisterUnavailable(*index))?;
            Ok(LocalValue {
                bytes: value_bytes(*value, length),
                address: None,
                location: format!("R{index}"),
            })
        }
        Storage::Global {
            symbol,
            address,
            offset,
        } => {
            let base = address
                .or_else(|| {
                    symbol
                        .as_deref()
                        .and_then(|s| table.symbol(s))
                        .map(|s| s.address)
                })
                .ok_or_else(|| {
                    LocalError::BadLocation("global location missing base address".into())
                })?;
            let addr = offset_addr(base, *offset);
            let location = match symbol {
                Some(s) if *offset != 0 => format!("{s}+0x{offset:X}"),
                Some(s) => s.clone(),
                None => format!("0x{addr:04X}"),
            };
            Ok(LocalValue {
                bytes: read_mem(&read, addr, length),
                address: Some(addr),
                location,
            })
        }
        Storage::Const { value } => Ok(LocalValue {
            bytes: value_bytes(*value, length),
            address: None,
            location: "const".to_string(),
        }),
    }
}

/// A local watch resolved and read (`watch add` with a local expression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalWatch {
    /// The variable.
    pub var: LocalVar,
    /// Its current bytes.
    pub value: LocalValue,
    /// Bytes watched.
    pub length: u32,
    /// `func::var` (the record's `description`).
    pub description: String,
}

/// Resolves and reads a local watch expression in `frame`. `length` overrides the size
/// from the `.sym` (default 4).
pub fn resolve_local_watch<F>(
    table: Option<&SymTable>,
    expr: &str,
    frame: &FrameCtx<'_>,
    length: Option<u32>,
    read: F,
) -> Result<LocalWatch, LocalError>
where
    F: Fn(u32, &mut [u8]) -> usize,
{
    let (func, name) = parse_local_expr(expr)?;
    let table = table.ok_or(LocalError::NoSymbols)?;
    let var = find_local(table, func, name, frame.pc)?;
    let length = length.or(var.size).unwrap_or(4).clamp(1, MAX_LOCAL_READ);
    let value = read_local(table, &var, frame, length, read)?;
    let description = format!("{}::{}", var.function, var.name);
    Ok(LocalWatch {
        var,
        value,
        length,
        description,
    })
}

/// Every local of the function at `frame.pc` that is live there, read from `frame`:
/// `[{name, function, location, address, size, value, file, line, error?}]` (a local that
/// cannot be read has `error` and a null `value`). For a debugger's "Locals" scope.
pub fn frame_locals<F>(table: &SymTable, frame: &FrameCtx<'_>, read: F) -> Vec<Value>
where
    F: Fn(u32, &mut [u8]) -> usize,
{
    let Some(func) = function_at(table, frame.pc) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for local in table.locals_of(&func) {
        let Some(loc) = live_location(local, frame.pc) else {
            continue;
        };
        let mut m = Map::new();
        m.insert("name".into(), json!(local.name));
        m.insert("function".into(), json!(func));
        m.insert("file".into(), json!(local.file));
        m.insert("line".into(), json!(local.line));
        let result = local_var(&func, local, loc).and_then(|var| {
            let len = var.size.unwrap_or(4);
            read_local(table, &var, frame, len, &read).map(|v| (var, v))
        });
        match result {
            Ok((var, v)) => {
                m.insert("location".into(), json!(v.location));
                m.insert("address".into(), json!(v.address));
                m.insert("size".into(), json!(var.size.unwrap_or(4)));
                m.insert("value".into(), json!(to_hex(&v.bytes)));
            }
            Err(e) => {
                m.insert("value".into(), Value::Null);
                m.insert("error".into(), json!(e.to_string()));
            }
        }
        out.push(Value::Object(m));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hsx_image::sym::{Function, LocalLocation, SymFile};
    use hsx_vm::isa::{Instr, Opcode};
    use hsx_vm::{FlatMem, MEM_SIZE, StepResult, Task, TaskConfig, WordCode};

    const BOUNDS: StackBounds = StackBounds {
        stack_base: 0xEFFC,
        stack_limit: 0xEFFC,
        stack_size: 0x1000,
    };

    struct Mem(Vec<u8>);

    impl Mem {
        fn new() -> Self {
            Mem(vec![0; MEM_SIZE])
        }
        fn put(&mut self, addr: u32, v: u32) {
            let a = addr as usize;
            self.0[a..a + 4].copy_from_slice(&v.to_le_bytes());
        }
        fn reader(&self) -> impl Fn(u32, &mut [u8]) -> usize + '_ {
            |addr, buf| {
                let a = (addr & 0xFFFF) as usize;
                let n = buf.len().min(MEM_SIZE - a);
                buf[..n].copy_from_slice(&self.0[a..a + n]);
                n
            }
        }
    }

    fn func(name: &str, address: u32, size: u32) -> Function {
        Function {
            name: name.into(),
            address,
            size,
            file: Some("prog.c".into()),
            line: Some(address / 4 + 1),
            ..Function::default()
        }
    }

    /// Functions of [`program`]: main 0x00..0x1C, a 0x1C..0x30, b 0x30..0x50.
    fn program_syms() -> SymTable {
        let mut f = SymFile::default();
        f.symbols.functions = vec![
            func("main", 0, 0x1C),
            func("a", 0x1C, 0x14),
            func("b", 0x30, 0x20),
        ];
        f.symbols.locals = vec![
            Local {
                name: Some("x".into()),
                function: "b".into(),
                line: Some(7),
                locations: vec![LocalLocation {
                    start: 0x40,
                    end: 0x48,
                    location: json!({"kind": "stack", "offset": -4}),
                }],
                ..Local::default()
            },
            Local {
                name: Some("y".into()),
                function: "b".into(),
                locations: vec![LocalLocation {
                    start: 0x38,
                    end: 0x50,
                    location: json!("R1"),
                }],
                ..Local::default()
            },
            Local {
                name: Some("k".into()),
                function: "b".into(),
                locations: vec![LocalLocation {
                    start: 0x30,
                    end: 0,
                    location: json!({"kind": "const", "value": 9}),
                }],
                ..Local::default()
            },
        ];
        f.lines = (0..20)
            .map(|i| hsx_image::sym::LineEntry {
                address: i * 4,
                file: Some("prog.c".into()),
                line: Some(100 + i),
            })
            .collect();
        SymTable::new(f)
    }

    fn ins(op: Opcode, rd: u8, rs1: u8, imm: i32) -> u32 {
        Instr::new(op, rd, rs1, 0, imm).encode()
    }

    /// main calls a, a calls b, b stops on BRK with a local pushed (compiled-code frames).
    fn program() -> Vec<u32> {
        use Opcode::*;
        vec![
            ins(Push, 0, 7, 0),  // 0x00 main
            ins(Mov, 7, 15, 0),  // 0x04
            ins(Push, 0, 12, 0), // 0x08
            ins(Call, 0, 0, 4),  // 0x0C -> 0x1C
            ins(Pop, 12, 0, 0),  // 0x10
            ins(Pop, 7, 0, 0),   // 0x14
            ins(Ret, 0, 0, 0),   // 0x18
            ins(Push, 0, 7, 0),  // 0x1C a
            ins(Mov, 7, 15, 0),  // 0x20
            ins(Call, 0, 0, 3),  // 0x24 -> 0x30
            ins(Pop, 7, 0, 0),   // 0x28
            ins(Ret, 0, 0, 0),   // 0x2C
            ins(Push, 0, 7, 0),  // 0x30 b
            ins(Mov, 7, 15, 0),  // 0x34
            ins(Ldi, 1, 0, 5),   // 0x38
            ins(Push, 0, 1, 0),  // 0x3C
            ins(Brk, 0, 0, 0),   // 0x40
            ins(Pop, 12, 0, 0),  // 0x44
            ins(Pop, 7, 0, 0),   // 0x48
            ins(Ret, 0, 0, 0),   // 0x4C
        ]
    }

    fn code_bytes(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    type VmTask = Task<WordCode<Vec<u32>>, FlatMem<Box<[u8; MEM_SIZE]>>>;

    fn vm_task() -> VmTask {
        let mem = FlatMem(Box::new([0u8; MEM_SIZE]));
        Task::new(
            WordCode(program()),
            mem,
            &[],
            TaskConfig::executive(0, 0x1000),
        )
    }

    fn walk_task(t: &VmTask, opts: &WalkOptions<'_>) -> StackTrace {
        let regs = StackRegs {
            pc: t.pc(),
            sp: t.sp(),
            fp: t.regs()[7],
        };
        walk(regs, BOUNDS, opts, |a, b| t.read_mem(a, b))
    }

    fn names(t: &StackTrace) -> Vec<String> {
        t.frames
            .iter()
            .map(|f| {
                f.function
                    .as_ref()
                    .map_or("?".into(), |h| h.entry.name.clone())
            })
            .collect()
    }

    #[test]
    fn three_nested_frames_in_fake_memory() {
        let mut m = Mem::new();
        // main's record at 0xFFF8 (caller R7 0, return slot above the stack top 0).
        let (fp_main, fp_a, fp_b) = (0xFFF8, 0xFFE8, 0xFFD0);
        m.put(fp_a, fp_main);
        m.put(fp_a + 4, 0x10);
        m.put(fp_b, fp_a);
        m.put(fp_b + 4, 0x28);
        let syms = program_syms();
        let opts = WalkOptions {
            symbols: Some(&syms),
            ..WalkOptions::default()
        };
        let regs = StackRegs {
            pc: 0x44,
            sp: 0xFFCC,
            fp: fp_b,
        };
        let t = walk(regs, BOUNDS, &opts, m.reader());
        assert!(!t.truncated, "{:?}", t.errors);
        assert!(t.errors.is_empty());
        assert_eq!(names(&t), ["b", "a", "main"]);
        let f: Vec<_> = t
            .frames
            .iter()
            .map(|f| (f.index, f.pc, f.sp, f.fp, f.return_pc))
            .collect();
        assert_eq!(
            f,
            [
                (0, 0x44, 0xFFCC, Some(fp_b), Some(0x28)),
                (1, 0x28, fp_b + 8, Some(fp_a), Some(0x10)),
                (2, 0x10, fp_a + 8, Some(fp_main), Some(0)),
            ]
        );
        let j = t.to_json(3);
        assert_eq!(j["pid"], 3);
        assert_eq!(j["stack_low"], 0xEFFC);
        assert_eq!(j["stack_high"], 0xFFFC);
        assert_eq!(j["initial_fp"], fp_b);
        let f1 = &j["frames"][1];
        assert_eq!(f1["func_name"], "a");
        assert_eq!(f1["func_addr"], 0x1C);
        assert_eq!(f1["func_offset"], 0x0C);
        assert_eq!(f1["symbol"]["offset"], 0x0C);
        assert_eq!(f1["symbol"]["type"], "function");
        // The caller's line is the CALL's (0x24), not the instruction after it.
        assert_eq!(
            f1["line"],
            json!({"address": 0x24, "file": "prog.c", "line": 109})
        );
        assert_eq!(f1["line_num"], 109);
        assert_eq!(f1["file"], "prog.c");
        assert_eq!(j["frames"][0]["line_num"], 117);
    }

    #[test]
    fn real_vm_frames_at_every_step() {
        let syms = program_syms();
        let code = code_bytes(&program());
        let opts = WalkOptions {
            symbols: Some(&syms),
            code: Some(&code),
            ..WalkOptions::default()
        };
        let mut t = vm_task();
        // Expected chain, innermost first, tracked from executed CALL/RET.
        let fn_of = |pc: u32| function_at(&syms, pc).unwrap_or_default();
        let mut callers: Vec<String> = Vec::new();
        let mut checked = 0;
        for _ in 0..40 {
            let trace = walk_task(&t, &opts);
            let mut want = vec![fn_of(t.pc())];
            want.extend(callers.iter().rev().cloned());
            assert_eq!(names(&trace), want, "pc 0x{:X}", t.pc());
            assert!(!trace.truncated, "pc 0x{:X}: {:?}", t.pc(), trace.errors);
            checked += 1;
            let pc_before = t.pc();
            let op = t
                .fetch(pc_before)
                .and_then(|w| Instr::decode(w).ok())
                .map(|i| i.op);
            match t.step() {
                StepResult::Ok | StepResult::Break { .. } => {}
                StepResult::Exit { .. } => break,
                other => panic!("unexpected {other:?}"),
            }
            match op {
                Some(Opcode::Call) => callers.push(fn_of(pc_before)),
                Some(Opcode::Ret) => {
                    callers.pop();
                }
                _ => {}
            }
        }
        // Every instruction of main → a → b and back, up to the final RET.
        assert_eq!(checked, 20);
    }

    #[test]
    fn without_code_frame_zero_trusts_r7() {
        let syms = program_syms();
        let mut t = vm_task();
        while t.pc() != 0x30 {
            t.step();
        }
        // At b's entry R7 still belongs to a: without code the walk shows b, then main.
        let opts = WalkOptions {
            symbols: Some(&syms),
            ..WalkOptions::default()
        };
        assert_eq!(names(&walk_task(&t, &opts)), ["b", "main"]);
    }

    #[test]
    fn broken_chains_stop_with_errors() {
        let syms = program_syms();
        let opts = WalkOptions {
            symbols: Some(&syms),
            ..WalkOptions::default()
        };
        let regs = |fp| StackRegs {
            pc: 0x44,
            sp: 0xFF00,
            fp,
        };
        let run = |m: &Mem, fp: u32| walk(regs(fp), BOUNDS, &opts, m.reader());

        let mut m = Mem::new();
        m.put(0xFF10, 0xFF10);
        m.put(0xFF14, 0x28);
        let t = run(&m, 0xFF10);
        assert!(t.truncated);
        assert_eq!(t.errors, ["fp_cycle:0x0000FF10"]);

        let mut m = Mem::new();
        m.put(0xFF10, 0xFF20);
        m.put(0xFF14, 0x28);
        m.put(0xFF20, 0xFF10);
        m.put(0xFF24, 0x10);
        let t = run(&m, 0xFF10);
        assert_eq!(t.errors, ["fp_cycle:0x0000FF10"]);
        assert_eq!(t.frames.len(), 2);

        let mut m = Mem::new();
        m.put(0xFF10, 0xFF00);
        m.put(0xFF14, 0x28);
        assert_eq!(run(&m, 0xFF10).errors, ["fp_not_ascending:0x0000FF00"]);

        let m = Mem::new();
        assert_eq!(run(&m, 0xFF12).errors, ["fp_unaligned:0x0000FF12"]);
        assert_eq!(run(&m, 0x2000).errors, ["fp_out_of_range:0x00002000"]);

        let mut m = Mem::new();
        m.put(0xFF10, 0x1234);
        m.put(0xFF14, 0x28);
        let t = run(&m, 0xFF10);
        assert_eq!(t.errors, ["fp_out_of_range:0x00001234"]);
        assert_eq!(t.frames[0].return_pc, Some(0x28));

        let t = walk(regs(0xFF10), BOUNDS, &opts, |_, _| 0);
        assert_eq!(t.errors, ["stack_read_failed:0x0000FF10"]);
        assert_eq!(t.frames[0].return_pc, None);

        // A zero R7 is a clean single frame.
        let t = run(&Mem::new(), 0);
        assert!(!t.truncated && t.errors.is_empty() && t.frames.len() == 1);

        let t = walk(
            StackRegs {
                pc: 0,
                sp: 0x100,
                fp: 0,
            },
            BOUNDS,
            &opts,
            Mem::new().reader(),
        );
        assert_eq!(t.errors, ["sp_out_of_range:0x00000100"]);
        assert!(!t.truncated);
    }

    #[test]
    fn frame_limit() {
        let mut m = Mem::new();
        let mut fp = 0xF000;
        for _ in 0..100 {
            m.put(fp, fp + 16);
            m.put(fp + 4, 0x28);
            fp += 16;
        }
        let opts = WalkOptions {
            max_frames: 5,
            ..WalkOptions::default()
        };
        let t = walk(
            StackRegs {
                pc: 0,
                sp: 0xF000,
                fp: 0xF000,
            },
            BOUNDS,
            &opts,
            m.reader(),
        );
        assert_eq!(t.frames.len(), 5);
        assert!(t.truncated);
        assert_eq!(t.errors, ["frame_limit_reached"]);
        let opts = WalkOptions {
            max_frames: 1000,
            ..WalkOptions::default()
        };
        let t = walk(
            StackRegs {
                pc: 0,
                sp: 0xF000,
                fp: 0xF000,
            },
            BOUNDS,
            &opts,
            m.reader(),
        );
        assert_eq!(t.frames.len(), MAX_FRAMES as usize);
    }

    #[test]
    fn zero_size_bounds_span_64k() {
        let b = StackBounds {
            stack_base: 0,
            stack_limit: 0,
            stack_size: 0,
        };
        assert_eq!(b.high(), 0x10000);
        assert!(b.contains(0xFFF0));
    }

    #[test]
    fn local_expressions() {
        assert_eq!(parse_local_expr("local: x"), Ok((None, "x")));
        assert_eq!(parse_local_expr("b::x"), Ok((Some("b"), "x")));
        assert_eq!(parse_local_expr("x@b"), Ok((Some("b"), "x")));
        assert_eq!(parse_local_expr("LOCAL:"), Err(LocalError::EmptyExpression));
        assert_eq!(parse_local_expr("b::"), Err(LocalError::MissingVariable));
    }

    #[test]
    fn location_descriptors() {
        let p = |v: Value| parse_location(&v);
        assert_eq!(
            p(json!({"kind":"stack","offset":-8})),
            Ok(Storage::Stack { offset: -8 })
        );
        assert_eq!(
            p(json!({"offset":"0x10"})),
            Ok(Storage::Stack { offset: 16 })
        );
        assert_eq!(p(json!("fp-8")), Ok(Storage::Stack { offset: -8 }));
        assert_eq!(p(json!("[R7 + 0x10]")), Ok(Storage::Stack { offset: 16 }));
        assert_eq!(p(json!("fp")), Ok(Storage::Stack { offset: 0 }));
        assert_eq!(p(json!("r5")), Ok(Storage::Register { index: 5 }));
        assert_eq!(
            p(json!({"kind":"register","name":"R12"})),
            Ok(Storage::Register { index: 12 })
        );
        assert_eq!(
            p(json!({"kind":"global","symbol":"g","offset":4})),
            Ok(Storage::Global {
                symbol: Some("g".into()),
                address: None,
                offset: 4
            })
        );
        assert_eq!(
            p(json!({"kind":"const","value":"0x2A"})),
            Ok(Storage::Const { value: 42 })
        );
        assert!(p(json!({"kind":"register"})).is_err());
        assert!(p(json!({"kind":"global"})).is_err());
        assert_eq!(
            p(json!({"kind":"piece"})).map_err(|e| e.to_string()),
            Err("unsupported local storage kind 'piece'".to_string())
        );
        assert!(p(json!("fp-zz")).is_err());
        assert!(p(json!(3)).is_err());
    }

    #[test]
    fn locals_from_a_stopped_vm() {
        let syms = program_syms();
        let mut t = vm_task();
        assert!(matches!(t.run(100).1, StepResult::Break { .. }));
        let regs = *t.regs();
        let frame = FrameCtx {
            pc: t.pc(),
            fp: Some(regs[7]),
            regs: Some(&regs),
        };
        let read = |a: u32, b: &mut [u8]| t.read_mem(a, b);
        let w = resolve_local_watch(Some(&syms), "local:x", &frame, None, read)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.value.bytes, 5u32.to_le_bytes());
        assert_eq!(w.value.location, "fp-0x4");
        assert_eq!(w.value.address, Some(regs[7] - 4));
        assert_eq!(w.description, "b::x");
        let y = resolve_local_watch(Some(&syms), "y@b", &frame, Some(2), read)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (y.value.bytes.as_slice(), y.value.location.as_str()),
            (&[5u8, 0][..], "R1")
        );
        let k = resolve_local_watch(Some(&syms), "k", &frame, None, read)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k.value.bytes, 9u32.to_le_bytes());

        assert_eq!(
            resolve_local_watch(None, "x", &frame, None, read),
            Err(LocalError::NoSymbols)
        );
        assert_eq!(
            resolve_local_watch(Some(&syms), "x@a", &frame, None, read).map_err(|e| e.to_string()),
            Err("function 'a' has no local metadata".to_string())
        );
        let early = FrameCtx { pc: 0x38, ..frame };
        assert_eq!(
            resolve_local_watch(Some(&syms), "x", &early, None, read).map_err(|e| e.to_string()),
            Err("local 'x' is not live in function 'b' at current PC".to_string())
        );
        let caller = FrameCtx {
            regs: None,
            ..frame
        };
        assert_eq!(
            resolve_local_watch(Some(&syms), "y", &caller, None, read),
            Err(LocalError::RegisterUnavailable(1))
        );

        let all = frame_locals(&syms, &frame, read);
        let got: Vec<(&str, &str)> = all
            .iter()
            .map(|v| {
                (
                    v["name"].as_str().unwrap_or(""),
                    v["value"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            got,
            [("x", "05000000"), ("y", "05000000"), ("k", "09000000")]
        );
    }

    /// SplitMix64: a dependency-free generator for the randomised checks.
    pub(crate) struct Rng(pub u64);

    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        pub(crate) fn u32(&mut self) -> u32 {
            self.next() as u32
        }
    }

    use proptest::prelude::*;

    /// Stack-like memory from a seed: mostly plausible frame pointers and return
    /// addresses, so chains are followed for a while before they break.
    fn seeded_memory(seed: u64) -> Vec<u8> {
        let mut rng = Rng(seed);
        let mut mem = vec![0u8; MEM_SIZE];
        for chunk in mem.chunks_exact_mut(4) {
            let v = match rng.next() % 4 {
                0 => rng.u32(),
                1 => 0xF000 + ((rng.u32() % 0x1000) & !3),
                2 => rng.u32() % 0x60,
                _ => 0,
            };
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        mem
    }

    fn reg_strategy(wild: bool) -> BoxedStrategy<u32> {
        if wild {
            any::<u32>().boxed()
        } else {
            (0u32..0x1000).prop_map(|o| 0xF000 + (o & !3)).boxed()
        }
    }

    proptest! {
        /// Random memory, registers, bounds and code never panic, and the walk always
        /// ends within the frame limit with at least one frame.
        #[test]
        fn random_memory_never_panics_or_loops(
            seed in any::<u64>(),
            (sp, fp) in any::<bool>().prop_flat_map(|wild| (reg_strategy(wild), reg_strategy(wild))),
            pc in 0u32..0x120,
            max_frames in 0u32..100,
            code in prop::collection::vec(any::<u8>(), 0..256),
            bounds in prop::option::of(any::<(u32, u32, u32)>()),
            short in any::<bool>(),
        ) {
            let mem = seeded_memory(seed);
            let syms = program_syms();
            let bounds = bounds.map_or(BOUNDS, |(stack_base, stack_limit, stack_size)| {
                StackBounds {
                    stack_base,
                    stack_limit,
                    stack_size,
                }
            });
            let regs = StackRegs { pc, sp, fp };
            let opts = WalkOptions {
                max_frames,
                symbols: Some(&syms),
                code: Some(&code),
            };
            let read = |a: u32, b: &mut [u8], cap: usize| {
                let a = (a & 0xFFFF) as usize;
                let n = b.len().min(MEM_SIZE - a).min(cap);
                b[..n].copy_from_slice(&mem[a..a + n]);
                n
            };
            let cap = if short { 3 } else { usize::MAX };
            let t = walk(regs, bounds, &opts, |a, b| read(a, b, cap));
            prop_assert!(!t.frames.is_empty());
            prop_assert!(t.frames.len() <= opts.max_frames.clamp(1, MAX_FRAMES) as usize);
            prop_assert_eq!(t.truncated, !t.errors.iter().all(|e| e.starts_with("sp_out")));
            let _ = t.to_json(1);
            let frame = FrameCtx {
                pc,
                fp: Some(fp),
                regs: None,
            };
            let _ = frame_locals(&syms, &frame, |a, b| read(a, b, usize::MAX));
        }
    }
}
