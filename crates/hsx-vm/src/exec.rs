//! The interpreter loop. Kept as a free function over split borrows (registers, code, memory,
//! trace slot) so the optimiser knows stores to guest memory or registers cannot change the
//! code pointer, and pc/psw/sp/the step budget live in machine registers.

use crate::code::CodeView;
use crate::fp16;
use crate::isa::{ISA_EXT1, eval_cond};
use crate::mem::{MEM_SIZE, Memory};
use crate::reg::{FLAG_C, FLAG_N, FLAG_V, FLAG_Z, Reg};
use crate::result::{Fault, StepResult};
use crate::trace::{AccessKind, MemAccess, TraceState};

/// The architectural state of a task other than code and memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cpu {
    pub regs: [u32; 16],
    pub pc: u32,
    pub sp: u32,
    pub stack_limit: u32,
    /// ISA extension bits; read once per `run`.
    pub isa_ext: u32,
    pub depth: u32,
    pub psw: u8,
}

#[inline(always)]
const fn pack(z: bool, c: bool, n: bool, v: bool) -> u8 {
    (z as u8) | ((c as u8) << 1) | ((n as u8) << 2) | ((v as u8) << 3)
}

/// New sp for a push, or `None` on stack overflow (`new < 0`, `new < stack_limit` or
/// `new + 4 > 0x10000`).
#[inline(always)]
fn push_sp(sp: u32, limit: u32) -> Option<u32> {
    if !(4..=MEM_SIZE as u32).contains(&sp) {
        return None;
    }
    let new = sp - 4;
    if new < limit { None } else { Some(new) }
}

/// What ended one instruction: `None` = retired, continue.
type Stop = Option<(StepResult, bool)>;

/// Execute up to `budget` instructions. Returns (retired count, result).
#[inline(always)]
pub(crate) fn run<V: CodeView, M: Memory, const TRACE: bool>(
    cpu: &mut Cpu,
    code: V,
    mem: &mut M,
    last: &mut Option<TraceState>,
    budget: u64,
) -> (u64, StepResult) {
    let Cpu {
        regs,
        pc: pc_slot,
        sp: sp_slot,
        stack_limit,
        isa_ext,
        depth,
        psw: psw_slot,
    } = cpu;
    let limit = *stack_limit;
    // Tested only inside the EXT1 arms, so base opcodes pay nothing for the extension.
    let ext1 = *isa_ext & ISA_EXT1 != 0;
    let mut pc = *pc_slot;
    let mut sp = *sp_slot;
    // The flags live in four locals inside the loop (cheap to set from host flags, cheap
    // to test) and are packed into the PSW byte on exit.
    let p = *psw_slot;
    let (mut z, mut c, mut n, mut v) = (
        p & FLAG_Z != 0,
        p & FLAG_C != 0,
        p & FLAG_N != 0,
        p & FLAG_V != 0,
    );
    let mut left = budget;

    let result = loop {
        if left == 0 {
            break StepResult::Ok;
        }
        let Some(w) = code.fetch(pc) else {
            break StepResult::Fault {
                code: Fault::PcOutOfRange,
                pc,
            };
        };
        let snapshot = if TRACE {
            *last = Some(TraceState {
                pc,
                word: w,
                word2: None,
                changed: 0,
                mem: None,
            });
            Some((*regs, pc, sp, pack(z, c, n, v)))
        } else {
            None
        };

        let rd = ((w >> 20) & 15) as usize;
        macro_rules! a {
            () => {
                regs[((w >> 16) & 15) as usize]
            };
        }
        macro_rules! b {
            () => {
                regs[((w >> 12) & 15) as usize]
            };
        }
        macro_rules! imm {
            () => {
                (((w << 20) as i32) >> 20) as u32
            };
        }
        macro_rules! ea {
            () => {
                a!().wrapping_add(imm!()) & 0xFFFF
            };
        }
        macro_rules! fault {
            ($f:expr) => {{
                let f: Fault = $f;
                if let Some(c) = f.hsx_err() {
                    regs[0] = c;
                }
                Some((StepResult::Fault { code: f, pc }, false))
            }};
        }
        macro_rules! record {
            ($kind:expr, $addr:expr, $width:expr, $value:expr) => {
                if TRACE && let Some(t) = last.as_mut() {
                    t.mem = Some(MemAccess {
                        kind: $kind,
                        addr: $addr,
                        width: $width,
                        value: $value,
                    });
                }
            };
        }
        macro_rules! load {
            ($f:ident, $width:expr) => {{
                let ea = ea!();
                match mem.$f(ea) {
                    Ok(v) => {
                        regs[rd] = u32::from(v);
                        record!(AccessKind::Read, ea, $width, u32::from(v));
                        pc = pc.wrapping_add(4);
                        None
                    }
                    Err(_) => fault!(Fault::MemFault),
                }
            }};
        }
        macro_rules! store {
            ($f:ident, $ty:ty, $width:expr) => {{
                let ea = ea!();
                let v = b!() as $ty;
                match mem.$f(ea, v) {
                    Ok(()) => {
                        record!(AccessKind::Write, ea, $width, u32::from(v));
                        pc = pc.wrapping_add(4);
                        None
                    }
                    Err(_) => fault!(Fault::MemFault),
                }
            }};
        }
        macro_rules! alu {
            (|$a:ident, $b:ident| $body:expr) => {{
                let $a = a!();
                let $b = b!();
                let r: u32 = $body;
                regs[rd] = r;
                z = r == 0;
                n = (r as i32) < 0;
                pc = pc.wrapping_add(4);
                None
            }};
        }
        macro_rules! illegal {
            () => {{
                let at = pc;
                pc = pc.wrapping_add(4);
                Some((
                    StepResult::Fault {
                        code: Fault::IllegalOpcode,
                        pc: at,
                    },
                    true,
                ))
            }};
        }
        // CALL, CALLR, CALLL: push the return address, depth + 1, R15 = sp, jump.
        macro_rules! call {
            ($target:expr) => {{
                let target: u32 = $target;
                match push_sp(sp, limit) {
                    None => fault!(Fault::StackOverflow),
                    Some(new) => match mem.store32(new, pc.wrapping_add(4)) {
                        Err(_) => fault!(Fault::MemFault),
                        Ok(()) => {
                            sp = new;
                            regs[15] = new;
                            *depth = depth.wrapping_add(1);
                            pc = target;
                            None
                        }
                    },
                }
            }};
        }
        macro_rules! half {
            ($f:expr) => {{
                let h: u16 = $f;
                regs[rd] = (regs[rd] & 0xFFFF_0000) | u32::from(h);
                pc = pc.wrapping_add(4);
                None
            }};
        }

        let stop: Stop = match (w >> 24) as u8 {
            0x01 => {
                regs[rd] = imm!();
                pc = pc.wrapping_add(4);
                None
            }
            0x02 => load!(load32, 4),
            0x03 => store!(store32, u32, 4),
            0x04 => {
                regs[rd] = a!();
                pc = pc.wrapping_add(4);
                None
            }
            0x06 => load!(load8, 1),
            0x07 => load!(load16, 2),
            0x08 => store!(store8, u8, 1),
            0x09 => store!(store16, u16, 2),
            0x10 => alu!(|a, b| {
                // overflowing_* so the host's own carry/overflow flags are used.
                let (r, carry) = a.overflowing_add(b);
                c = carry;
                v = (a as i32).overflowing_add(b as i32).1;
                r
            }),
            0x11 => alu!(|a, b| {
                let (r, borrow) = a.overflowing_sub(b);
                c = !borrow;
                v = (a as i32).overflowing_sub(b as i32).1;
                r
            }),
            0x12 => alu!(|a, b| {
                let p = u64::from(a) * u64::from(b);
                c = p >> 32 != 0;
                v = c;
                p as u32
            }),
            0x13 => {
                let (a, b) = (a!(), b!());
                if b == 0 {
                    fault!(Fault::DivZero)
                } else {
                    // wrapping_div: 0x80000000 / -1 = 0x80000000, no trap.
                    let r = (a as i32).wrapping_div(b as i32) as u32;
                    regs[rd] = r;
                    (z, c, n, v) = (r == 0, false, (r as i32) < 0, false);
                    pc = pc.wrapping_add(4);
                    None
                }
            }
            0x14 => alu!(|a, b| {
                (c, v) = (false, false);
                a & b
            }),
            0x15 => alu!(|a, b| {
                (c, v) = (false, false);
                a | b
            }),
            0x16 => alu!(|a, b| {
                (c, v) = (false, false);
                a ^ b
            }),
            0x17 => {
                let r = !a!();
                regs[rd] = r;
                (z, c, n, v) = (r == 0, false, (r as i32) < 0, false);
                pc = pc.wrapping_add(4);
                None
            }
            0x20 => {
                let (a, b) = (a!(), b!());
                let (r, borrow) = a.overflowing_sub(b);
                (z, c, n) = (r == 0, !borrow, (r as i32) < 0);
                v = (a as i32).overflowing_sub(b as i32).1;
                pc = pc.wrapping_add(4);
                None
            }
            0x21 => {
                pc = w & 0xFFF;
                None
            }
            0x22 => {
                pc = if z { w & 0xFFF } else { pc.wrapping_add(4) };
                None
            }
            0x23 => {
                pc = if !z { w & 0xFFF } else { pc.wrapping_add(4) };
                None
            }
            0x24 => {
                let rs1 = (w >> 16) & 15;
                let base = if rs1 != 0 { a!() } else { pc };
                call!(base.wrapping_add(imm!() << 2) & 0xFFFF)
            }
            0x25 => {
                if *depth == 0 {
                    Some((StepResult::Exit { status: regs[0] }, false))
                } else if sp >= MEM_SIZE as u32 {
                    fault!(Fault::StackUnderflow)
                } else {
                    match mem.load32(sp) {
                        Err(_) => fault!(Fault::MemFault),
                        Ok(ret) => {
                            sp += 4;
                            regs[15] = sp;
                            *depth -= 1;
                            pc = ret;
                            None
                        }
                    }
                }
            }
            0x30 => {
                pc = pc.wrapping_add(4);
                Some((
                    StepResult::Svc {
                        module: ((w >> 8) & 0xF) as u8,
                        func: (w & 0xFF) as u8,
                    },
                    true,
                ))
            }
            // Shifts: C = last bit shifted out, only for a non-zero count; V cleared.
            0x31 => alu!(|a, b| {
                let s = b & 31;
                if s != 0 {
                    c = (a >> (32 - s)) & 1 != 0;
                }
                v = false;
                a << s
            }),
            0x32 => alu!(|a, b| {
                let s = b & 31;
                if s != 0 {
                    c = (a >> (s - 1)) & 1 != 0;
                }
                v = false;
                a >> s
            }),
            0x33 => alu!(|a, b| {
                let s = b & 31;
                if s != 0 {
                    c = (a >> (s - 1)) & 1 != 0;
                }
                v = false;
                ((a as i32) >> s) as u32
            }),
            0x34 => alu!(|a, b| {
                let cin = u32::from(c);
                let t = u64::from(a) + u64::from(b) + u64::from(cin);
                let r = t as u32;
                c = t >> 32 != 0;
                // True signed overflow (design.md §4.5), not the reference's folded B+cin.
                let st = i64::from(a as i32) + i64::from(b as i32) + i64::from(cin);
                v = st != i64::from(r as i32);
                r
            }),
            0x35 => alu!(|a, b| {
                let bin = u32::from(!c);
                let t = i64::from(a) - i64::from(b) - i64::from(bin);
                let r = t as u32;
                c = t >= 0;
                let st = i64::from(a as i32) - i64::from(b as i32) - i64::from(bin);
                v = st != i64::from(r as i32);
                r
            }),
            0x40 => match push_sp(sp, limit) {
                None => fault!(Fault::StackOverflow),
                Some(new) => match mem.store32(new, a!()) {
                    Err(_) => fault!(Fault::MemFault),
                    Ok(()) => {
                        sp = new;
                        regs[15] = new;
                        pc = pc.wrapping_add(4);
                        None
                    }
                },
            },
            0x41 => {
                if sp >= MEM_SIZE as u32 {
                    fault!(Fault::StackUnderflow)
                } else {
                    match mem.load32(sp) {
                        Err(_) => fault!(Fault::MemFault),
                        Ok(v) => {
                            sp += 4;
                            regs[15] = sp;
                            regs[rd] = v;
                            pc = pc.wrapping_add(4);
                            None
                        }
                    }
                }
            }
            0x50 => half!(fp16::fadd(a!() as u16, b!() as u16)),
            0x51 => half!(fp16::fsub(a!() as u16, b!() as u16)),
            0x52 => half!(fp16::fmul(a!() as u16, b!() as u16)),
            0x53 => half!(fp16::fdiv(a!() as u16, b!() as u16)),
            0x54 => half!(fp16::i2f(a!() as i32)),
            0x55 => {
                regs[rd] = fp16::f2i(a!() as u16) as u32;
                pc = pc.wrapping_add(4);
                None
            }
            0x60 => match code.fetch(pc.wrapping_add(4)) {
                None => Some((
                    StepResult::Fault {
                        code: Fault::Ldi32Overrun,
                        pc,
                    },
                    false,
                )),
                Some(v) => {
                    if TRACE && let Some(t) = last.as_mut() {
                        t.word2 = Some(v);
                    }
                    regs[rd] = v;
                    pc = pc.wrapping_add(8);
                    None
                }
            },
            0x7F => {
                pc = pc.wrapping_add(4);
                Some((
                    StepResult::Break {
                        code: (w & 0xFF) as u8,
                    },
                    true,
                ))
            }
            // ---- EXT1 (isa::ext1); illegal unless the task declares it. ----
            0x18 if ext1 => match a!().checked_div(b!()) {
                None => fault!(Fault::DivZero),
                Some(r) => {
                    regs[rd] = r;
                    (z, c, n, v) = (r == 0, false, (r as i32) < 0, false);
                    pc = pc.wrapping_add(4);
                    None
                }
            },
            0x19 if ext1 => {
                regs[rd] = a!().wrapping_add(imm!());
                pc = pc.wrapping_add(4);
                None
            }
            0x26 if ext1 => match eval_cond(w >> 20, z, c, n, v) {
                None => illegal!(),
                Some(true) => {
                    // sext20(offset) × 4, as one shift pair: bits 19..0 → 31..12 → ×4.
                    pc = pc.wrapping_add((((w << 12) as i32) >> 10) as u32);
                    None
                }
                Some(false) => {
                    pc = pc.wrapping_add(4);
                    None
                }
            },
            0x27 if ext1 => {
                pc = a!();
                None
            }
            // The target is read before the push updates R15 (`CALLR R15`).
            0x28 if ext1 => call!(a!()),
            0x29 if ext1 => call!(pc.wrapping_add((((w << 8) as i32) >> 6) as u32)),
            0x2A if ext1 => match eval_cond(w, z, c, n, v) {
                None => illegal!(),
                Some(t) => {
                    regs[rd] = u32::from(t);
                    pc = pc.wrapping_add(4);
                    None
                }
            },
            0x2B if ext1 => {
                let words = ((w << 20) as i32) >> 20;
                let new = i64::from(sp) + i64::from(words) * 4;
                // Negative: the rule of that many PUSHes; positive: of POPs.
                if words < 0 && (sp > MEM_SIZE as u32 || new < i64::from(limit)) {
                    fault!(Fault::StackOverflow)
                } else if words > 0 && new > MEM_SIZE as i64 {
                    fault!(Fault::StackUnderflow)
                } else {
                    sp = new as u32;
                    regs[15] = sp;
                    pc = pc.wrapping_add(4);
                    None
                }
            }
            0x18 | 0x19 | 0x26..=0x2B => illegal!(),
            0x00
            | 0x05
            | 0x0A..=0x0F
            | 0x1A..=0x1F
            | 0x2C..=0x2F
            | 0x36..=0x3F
            | 0x42..=0x4F
            | 0x56..=0x5F
            | 0x61..=0x7E
            | 0x80..=0xFF => {
                // Every unassigned value is listed (no `_`): giving one of them a meaning
                // makes this arm overlap the new one, which the compiler reports.
                illegal!()
            }
        };

        if let (Some((before, opc, osp, opsw)), Some(t)) = (snapshot, last.as_mut()) {
            let mut changed = 0u32;
            for (i, (x, y)) in before.iter().zip(regs.iter()).enumerate() {
                changed |= u32::from(x != y) << i;
            }
            changed |= u32::from(opc != pc) << Reg::Pc as u32;
            changed |= u32::from(osp != sp) << Reg::Sp as u32;
            changed |= u32::from(opsw != pack(z, c, n, v)) << Reg::Psw as u32;
            t.changed = changed;
        }

        if let Some((r, retired)) = stop {
            if retired {
                left -= 1;
            }
            break r;
        }
        left -= 1;
    };

    *pc_slot = pc;
    *sp_slot = sp;
    *psw_slot = pack(z, c, n, v);
    (budget - left, result)
}
