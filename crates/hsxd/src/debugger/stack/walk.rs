//! Following the R7 chain: how frame 0 stands against its prologue, one step from a frame
//! record (or from the return slot at SP) to its caller, and the walk that strings the
//! steps together under the frame limit.

use std::collections::BTreeSet;

use hsx_image::sym::SymTable;
use hsx_vm::isa::{Instr, Opcode};

use super::frame::{
    FRAME_BYTES, Frame, MAX_FRAMES, MEM_END, StackBounds, StackRegs, StackTrace, WalkOptions,
};
use crate::debugger::{LinePos, SymbolHit};

const FP_REG: u8 = 7;
const SP_REG: u8 = 15;

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
