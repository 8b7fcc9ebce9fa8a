//! The walk's inputs and outputs: the registers and stack bounds it starts from, its
//! options, and the frames and trace it returns with their `stack` reply JSON.

use hsx_image::sym::SymTable;
use serde_json::{Map, Value, json};

use crate::debugger::{LinePos, SymbolHit};

/// Bytes of a frame record: `[prev_fp, return_pc]`.
pub const FRAME_BYTES: u32 = 8;
/// Frames returned when the caller does not say.
pub const DEFAULT_FRAMES: u32 = 16;
/// Largest frame count honoured.
pub const MAX_FRAMES: u32 = 64;
/// End of the 64 KiB data space.
pub const MEM_END: u64 = 0x1_0000;

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

    /// Whether `ptr` lies in `[low, high)`.
    pub(super) fn contains(&self, ptr: u32) -> bool {
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
