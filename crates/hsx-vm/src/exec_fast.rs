//! The interpreter loop over pre-decoded code ([`crate::op`]), used for untraced runs of
//! code that carries a decoded form ([`crate::code::DecodedCode`]).
//!
//! The loop keeps pc as a word index (every target it takes is word-aligned), Z and N as
//! one result word (`zn`: Z = `zn == 0`, N = bit 31 — every instruction that writes flags
//! derives both from its result), C and V as booleans. Whatever it cannot do exactly —
//! an unaligned pc, a PSW with Z and N both set (which no result word represents), a
//! `Slow` op, any fault, `RET` at depth 0, an EXT1 op in a task without EXT1 — is handed,
//! for exactly one instruction, to the plain interpreter (`exec::run` with budget 1), which
//! is the reference semantics. State is written back before, and re-read after.

use crate::code::CodeView;
use crate::exec::{self, Cpu};
use crate::fp16;
use crate::isa::{ISA_EXT1, eval_cond};
use crate::mem::{MEM_SIZE, Memory};
use crate::op::{K, Op};
use crate::reg::{FLAG_C, FLAG_N, FLAG_V, FLAG_Z};
use crate::result::StepResult;
use crate::trace::TraceState;

/// Why the fast loop returned.
enum Leave {
    /// Budget used up.
    Budget,
    /// The instruction at pc needs the plain interpreter.
    Slow,
    /// A retired instruction ended the run (SVC, BRK).
    Stop(StepResult),
}

/// Whether the fast loop can hold this state: pc word-aligned, not both Z and N.
#[inline(always)]
fn representable(cpu: &Cpu) -> bool {
    cpu.pc & 3 == 0 && cpu.psw & (FLAG_Z | FLAG_N) != FLAG_Z | FLAG_N
}

/// Execute up to `budget` instructions of `ops` (the decoded form of `code`). Same contract
/// as `exec::run`.
#[inline(always)]
pub(crate) fn run<V: CodeView, M: Memory>(
    cpu: &mut Cpu,
    ops: &[Op],
    code: V,
    mem: &mut M,
    last: &mut Option<TraceState>,
    budget: u64,
) -> (u64, StepResult) {
    let mut done = 0u64;
    loop {
        if done < budget && representable(cpu) {
            let (n, leave) = fast(cpu, ops, mem, budget - done);
            done += n;
            match leave {
                Leave::Budget => return (done, StepResult::Ok),
                Leave::Stop(r) => return (done, r),
                Leave::Slow => {}
            }
        }
        if done >= budget {
            return (done, StepResult::Ok);
        }
        let (n, r) = slow_step(cpu, code, mem, last);
        done += n;
        if r != StepResult::Ok {
            return (done, r);
        }
    }
}

/// One instruction on the plain interpreter. Out of line, so that the fast loop's register
/// allocation and frame are not shaped by the plain loop's.
#[cold]
#[inline(never)]
fn slow_step<V: CodeView, M: Memory>(
    cpu: &mut Cpu,
    code: V,
    mem: &mut M,
    last: &mut Option<TraceState>,
) -> (u64, StepResult) {
    exec::run::<V, M, false>(cpu, code, mem, last, 1)
}

#[inline(always)]
const fn pack(z: bool, c: bool, n: bool, v: bool) -> u8 {
    (z as u8) | ((c as u8) << 1) | ((n as u8) << 2) | ((v as u8) << 3)
}

/// The fast loop proper; `cpu` must be [`representable`] and `budget > 0`.
#[inline(always)]
fn fast<M: Memory>(cpu: &mut Cpu, ops: &[Op], mem: &mut M, budget: u64) -> (u64, Leave) {
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
    let ext1 = *isa_ext & ISA_EXT1 != 0;
    let mut idx = (*pc_slot >> 2) as usize;
    let mut sp = *sp_slot;
    let p = *psw_slot;
    let mut zn: u32 = if p & FLAG_Z != 0 {
        0
    } else if p & FLAG_N != 0 {
        0x8000_0000
    } else {
        1
    };
    let mut c = p & FLAG_C != 0;
    let mut v = p & FLAG_V != 0;
    let mut left = budget;

    let leave = 'run: loop {
        if left == 0 {
            break Leave::Budget;
        }
        let Some(&op) = ops.get(idx) else {
            break Leave::Slow;
        };
        let d = (op.d & 15) as usize;
        macro_rules! ra {
            () => {
                regs[(op.a & 15) as usize]
            };
        }
        macro_rules! rb {
            () => {
                regs[(op.b & 15) as usize]
            };
        }
        macro_rules! slow {
            () => {
                break 'run Leave::Slow
            };
        }
        macro_rules! ext1 {
            () => {
                if !ext1 {
                    slow!();
                }
            };
        }
        macro_rules! ea {
            () => {
                ra!().wrapping_add(op.imm) & 0xFFFF
            };
        }
        macro_rules! load {
            ($f:ident) => {{
                let Ok(x) = mem.$f(ea!()) else { slow!() };
                regs[d] = u32::from(x);
                idx += 1;
            }};
        }
        macro_rules! store {
            ($f:ident, $ty:ty) => {{
                if mem.$f(ea!(), rb!() as $ty).is_err() {
                    slow!();
                }
                idx += 1;
            }};
        }
        macro_rules! logic {
            ($r:expr) => {{
                let r: u32 = $r;
                regs[d] = r;
                zn = r;
                (c, v) = (false, false);
                idx += 1;
            }};
        }
        macro_rules! half {
            ($f:expr) => {{
                let h: u16 = $f;
                regs[d] = (regs[d] & 0xFFFF_0000) | u32::from(h);
                idx += 1;
            }};
        }
        // Push the return address, depth + 1, R15 = sp, jump to the aligned `target`.
        macro_rules! call {
            ($target:expr) => {{
                let target: u32 = $target;
                if target & 3 != 0 || !(4..=MEM_SIZE as u32).contains(&sp) {
                    slow!();
                }
                let new = sp - 4;
                if new < limit || mem.store32(new, ((idx as u32) << 2) + 4).is_err() {
                    slow!();
                }
                sp = new;
                regs[15] = new;
                *depth = depth.wrapping_add(1);
                idx = (target >> 2) as usize;
            }};
        }
        macro_rules! cmp {
            () => {{
                let (a, b) = (ra!(), rb!());
                let (r, borrow) = a.overflowing_sub(b);
                zn = r;
                c = !borrow;
                v = (a as i32).overflowing_sub(b as i32).1;
            }};
        }

        macro_rules! sub {
            () => {{
                let (a, b) = (ra!(), rb!());
                let (r, borrow) = a.overflowing_sub(b);
                c = !borrow;
                v = (a as i32).overflowing_sub(b as i32).1;
                regs[d] = r;
                zn = r;
            }};
        }
        // The JZ/JNZ after a fused CMP/SUB: taken when `$cond`, else fall through past it.
        macro_rules! fused_branch {
            ($cond:expr) => {{
                if left < 2 {
                    idx += 1;
                } else {
                    left -= 1;
                    if $cond {
                        idx = (op.imm >> 2) as usize;
                    } else {
                        idx += 2;
                    }
                }
            }};
        }

        match op.k {
            K::Slow => slow!(),
            K::Ldi => {
                regs[d] = op.imm;
                idx += 1;
            }
            K::Ld => load!(load32),
            K::St => store!(store32, u32),
            K::Mov => {
                regs[d] = ra!();
                idx += 1;
            }
            K::Ldb => load!(load8),
            K::Ldh => load!(load16),
            K::Stb => store!(store8, u8),
            K::Sth => store!(store16, u16),
            K::Add => {
                let (a, b) = (ra!(), rb!());
                let (r, carry) = a.overflowing_add(b);
                c = carry;
                v = (a as i32).overflowing_add(b as i32).1;
                regs[d] = r;
                zn = r;
                idx += 1;
            }
            K::Sub => {
                sub!();
                idx += 1;
            }
            K::Mul => {
                let p = u64::from(ra!()) * u64::from(rb!());
                let r = p as u32;
                c = p >> 32 != 0;
                v = c;
                regs[d] = r;
                zn = r;
                idx += 1;
            }
            K::Div => {
                let (a, b) = (ra!(), rb!());
                if b == 0 {
                    slow!();
                }
                logic!((a as i32).wrapping_div(b as i32) as u32)
            }
            K::And => logic!(ra!() & rb!()),
            K::Or => logic!(ra!() | rb!()),
            K::Xor => logic!(ra!() ^ rb!()),
            K::Not => logic!(!ra!()),
            K::Cmp => {
                cmp!();
                idx += 1;
            }
            // Fused pairs: the second half runs only when the budget has room for it.
            K::CmpJz => {
                cmp!();
                fused_branch!(zn == 0);
            }
            K::CmpJnz => {
                cmp!();
                fused_branch!(zn != 0);
            }
            K::SubJz => {
                sub!();
                fused_branch!(zn == 0);
            }
            K::SubJnz => {
                sub!();
                fused_branch!(zn != 0);
            }
            K::Jmp => idx = (op.imm >> 2) as usize,
            K::Jz => {
                if zn == 0 {
                    idx = (op.imm >> 2) as usize;
                } else {
                    idx += 1;
                }
            }
            K::Jnz => {
                if zn != 0 {
                    idx = (op.imm >> 2) as usize;
                } else {
                    idx += 1;
                }
            }
            K::Call => call!(op.imm),
            K::CallBase => call!(ra!().wrapping_add(op.imm) & 0xFFFF),
            K::Ret => {
                if *depth == 0 || sp >= MEM_SIZE as u32 {
                    slow!();
                }
                let Ok(ret) = mem.load32(sp) else { slow!() };
                if ret & 3 != 0 {
                    slow!();
                }
                sp += 4;
                regs[15] = sp;
                *depth -= 1;
                idx = (ret >> 2) as usize;
            }
            K::Svc => {
                idx += 1;
                left -= 1;
                break Leave::Stop(StepResult::Svc {
                    module: ((op.imm >> 8) & 0xF) as u8,
                    func: (op.imm & 0xFF) as u8,
                });
            }
            K::Lsl => {
                let (a, s) = (ra!(), rb!() & 31);
                if s != 0 {
                    c = (a >> (32 - s)) & 1 != 0;
                }
                v = false;
                let r = a << s;
                regs[d] = r;
                zn = r;
                idx += 1;
            }
            K::Lsr => {
                let (a, s) = (ra!(), rb!() & 31);
                if s != 0 {
                    c = (a >> (s - 1)) & 1 != 0;
                }
                v = false;
                let r = a >> s;
                regs[d] = r;
                zn = r;
                idx += 1;
            }
            K::Asr => {
                let (a, s) = (ra!(), rb!() & 31);
                if s != 0 {
                    c = (a >> (s - 1)) & 1 != 0;
                }
                v = false;
                let r = ((a as i32) >> s) as u32;
                regs[d] = r;
                zn = r;
                idx += 1;
            }
            K::Adc => {
                let (a, b, cin) = (ra!(), rb!(), u32::from(c));
                let t = u64::from(a) + u64::from(b) + u64::from(cin);
                let r = t as u32;
                c = t >> 32 != 0;
                let st = i64::from(a as i32) + i64::from(b as i32) + i64::from(cin);
                v = st != i64::from(r as i32);
                regs[d] = r;
                zn = r;
                idx += 1;
            }
            K::Sbc => {
                let (a, b, bin) = (ra!(), rb!(), u32::from(!c));
                let t = i64::from(a) - i64::from(b) - i64::from(bin);
                let r = t as u32;
                c = t >= 0;
                let st = i64::from(a as i32) - i64::from(b as i32) - i64::from(bin);
                v = st != i64::from(r as i32);
                regs[d] = r;
                zn = r;
                idx += 1;
            }
            K::Push => {
                if !(4..=MEM_SIZE as u32).contains(&sp) {
                    slow!();
                }
                let new = sp - 4;
                if new < limit || mem.store32(new, ra!()).is_err() {
                    slow!();
                }
                sp = new;
                regs[15] = new;
                idx += 1;
            }
            K::Pop => {
                if sp >= MEM_SIZE as u32 {
                    slow!();
                }
                let Ok(x) = mem.load32(sp) else { slow!() };
                sp += 4;
                regs[15] = sp;
                regs[d] = x;
                idx += 1;
            }
            K::Fadd => half!(fp16::fadd(ra!() as u16, rb!() as u16)),
            K::Fsub => half!(fp16::fsub(ra!() as u16, rb!() as u16)),
            K::Fmul => half!(fp16::fmul(ra!() as u16, rb!() as u16)),
            K::Fdiv => half!(fp16::fdiv(ra!() as u16, rb!() as u16)),
            K::I2f => half!(fp16::i2f(ra!() as i32)),
            K::F2i => {
                regs[d] = fp16::f2i(ra!() as u16) as u32;
                idx += 1;
            }
            K::Ldi32 => {
                regs[d] = op.imm;
                idx += 2;
            }
            K::Brk => {
                idx += 1;
                left -= 1;
                break Leave::Stop(StepResult::Break { code: op.imm as u8 });
            }
            K::Divu => {
                ext1!();
                let Some(r) = ra!().checked_div(rb!()) else {
                    slow!()
                };
                logic!(r)
            }
            K::Addi => {
                ext1!();
                regs[d] = ra!().wrapping_add(op.imm);
                idx += 1;
            }
            K::Bcc => {
                ext1!();
                let (z, n) = (zn == 0, (zn as i32) < 0);
                if eval_cond(u32::from(op.d), z, c, n, v) == Some(true) {
                    idx = (op.imm >> 2) as usize;
                } else {
                    idx += 1;
                }
            }
            K::Jr => {
                ext1!();
                let t = ra!();
                if t & 3 != 0 {
                    slow!();
                }
                idx = (t >> 2) as usize;
            }
            K::Callr => {
                ext1!();
                call!(ra!())
            }
            K::Calll => {
                ext1!();
                call!(op.imm)
            }
            K::Setcc => {
                ext1!();
                let (z, n) = (zn == 0, (zn as i32) < 0);
                regs[d] = u32::from(eval_cond(u32::from(op.b), z, c, n, v) == Some(true));
                idx += 1;
            }
            K::Adjsp => {
                ext1!();
                let words = op.imm as i32;
                let new = i64::from(sp) + i64::from(words) * 4;
                let over = words < 0 && (sp > MEM_SIZE as u32 || new < i64::from(limit));
                let under = words > 0 && new > MEM_SIZE as i64;
                if over || under {
                    slow!();
                }
                sp = new as u32;
                regs[15] = sp;
                idx += 1;
            }
        }
        left -= 1;
    };

    *pc_slot = (idx as u32) << 2;
    *sp_slot = sp;
    *psw_slot = pack(zn == 0, c, (zn as i32) < 0, v);
    (budget - left, leave)
}
