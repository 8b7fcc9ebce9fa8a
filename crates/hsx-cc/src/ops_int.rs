//! Integer operators: i32 inline, i64 on register pairs (ADC/SBC) with runtime routines for
//! multiplication, shifts and bit counts, and compiler-rt for 64-bit division.

use wasmparser::Operator;

use crate::emit::{Cc, fits12, op};
use crate::error::CcError;
use crate::frame::{Entry, T0, T1, T2};
use crate::func::{CallTarget, Fx};
use crate::module::{Sig, Ty};
use crate::runtime::Rt;

/// A 32-bit operation both folded at compile time and emitted.
#[derive(Clone, Copy)]
enum Bin {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Shl,
    ShrS,
    ShrU,
}

impl Bin {
    fn opcode(self) -> u32 {
        match self {
            Bin::Add => op::ADD,
            Bin::Sub => op::SUB,
            Bin::Mul => op::MUL,
            Bin::And => op::AND,
            Bin::Or => op::OR,
            Bin::Xor => op::XOR,
            Bin::Shl => op::LSL,
            Bin::ShrS => op::ASR,
            Bin::ShrU => op::LSR,
        }
    }

    fn fold(self, a: u32, b: u32) -> u32 {
        match self {
            Bin::Add => a.wrapping_add(b),
            Bin::Sub => a.wrapping_sub(b),
            Bin::Mul => a.wrapping_mul(b),
            Bin::And => a & b,
            Bin::Or => a | b,
            Bin::Xor => a ^ b,
            Bin::Shl => a.wrapping_shl(b & 31),
            Bin::ShrS => ((a as i32) >> (b & 31)) as u32,
            Bin::ShrU => a >> (b & 31),
        }
    }
}

fn sig(params: &[Ty], results: &[Ty]) -> Sig {
    Sig {
        params: params.to_vec(),
        results: results.to_vec(),
    }
}

impl Fx<'_, '_, '_> {
    /// Translate a value-producing operator; returns how many operators it consumed.
    pub fn op_value(&mut self, i: usize, o: Operator<'_>) -> Result<usize, CcError> {
        use Operator as O;
        use Ty::*;
        match o {
            O::I32Const { value } => self.push_const(I32, value as u32 as u64),
            O::I64Const { value } => self.push_const(I64, value as u64),
            O::I32Add => return self.bin32(i, Bin::Add),
            O::I32Sub => return self.bin32(i, Bin::Sub),
            O::I32Mul => return self.bin32(i, Bin::Mul),
            O::I32And => return self.bin32(i, Bin::And),
            O::I32Or => return self.bin32(i, Bin::Or),
            O::I32Xor => return self.bin32(i, Bin::Xor),
            O::I32Shl => return self.bin32(i, Bin::Shl),
            O::I32ShrS => return self.bin32(i, Bin::ShrS),
            O::I32ShrU => return self.bin32(i, Bin::ShrU),
            O::I32DivS => self.div32(op::DIV, false)?,
            O::I32DivU => self.div32(op::DIVU, false)?,
            O::I32RemS => self.div32(op::DIV, true)?,
            O::I32RemU => self.div32(op::DIVU, true)?,
            O::I32Rotl => self.rt_call(Rt::Rotl32, &[I32, I32], &[I32])?,
            O::I32Rotr => self.rt_call(Rt::Rotr32, &[I32, I32], &[I32])?,
            O::I32Clz => self.rt_call(Rt::Clz32, &[I32], &[I32])?,
            O::I32Ctz => self.rt_call(Rt::Ctz32, &[I32], &[I32])?,
            O::I32Popcnt => self.rt_call(Rt::Popcnt32, &[I32], &[I32])?,
            O::I32Eqz => return self.eqz32(i),
            O::I32Eq => return self.cmp32(i, Cc::Eq),
            O::I32Ne => return self.cmp32(i, Cc::Ne),
            O::I32LtS => return self.cmp32(i, Cc::Lt),
            O::I32LtU => return self.cmp32(i, Cc::Ltu),
            O::I32GtS => return self.cmp32(i, Cc::Gt),
            O::I32GtU => return self.cmp32(i, Cc::Gtu),
            O::I32LeS => return self.cmp32(i, Cc::Le),
            O::I32LeU => return self.cmp32(i, Cc::Leu),
            O::I32GeS => return self.cmp32(i, Cc::Ge),
            O::I32GeU => return self.cmp32(i, Cc::Geu),
            O::I32Extend8S => self.sext32(24)?,
            O::I32Extend16S => self.sext32(16)?,
            O::I32WrapI64 => {
                let e = self.pop()?;
                match e.konst {
                    Some(v) => self.push_const(I32, v & 0xFFFF_FFFF),
                    // The low word stays where it is (position or lazy local).
                    None => self.stack.push(crate::frame::Entry { ty: I32, ..e }),
                }
            }
            O::I64Add => self.add64(op::ADD, op::ADC)?,
            O::I64Sub => self.add64(op::SUB, op::SBC)?,
            O::I64And => self.logic64(op::AND)?,
            O::I64Or => self.logic64(op::OR)?,
            O::I64Xor => self.logic64(op::XOR)?,
            O::I64Mul => self.rt_call(Rt::Mul64, &[I64, I64], &[I64])?,
            O::I64Shl => self.rt_call(Rt::Shl64, &[I64, I64], &[I64])?,
            O::I64ShrS => self.rt_call(Rt::ShrS64, &[I64, I64], &[I64])?,
            O::I64ShrU => self.rt_call(Rt::ShrU64, &[I64, I64], &[I64])?,
            O::I64Rotl => self.rt_call(Rt::Rotl64, &[I64, I64], &[I64])?,
            O::I64Rotr => self.rt_call(Rt::Rotr64, &[I64, I64], &[I64])?,
            O::I64Clz => self.rt_call(Rt::Clz64, &[I64], &[I64])?,
            O::I64Ctz => self.rt_call(Rt::Ctz64, &[I64], &[I64])?,
            O::I64Popcnt => self.rt_call(Rt::Popcnt64, &[I64], &[I64])?,
            O::I64DivS => self.helper_call("__divdi3")?,
            O::I64DivU => self.helper_call("__udivdi3")?,
            O::I64RemS => self.helper_call("__moddi3")?,
            O::I64RemU => self.helper_call("__umoddi3")?,
            O::I64Eqz => {
                let a = self.pop()?;
                let lo = self.reg(&a, 0, T1)?;
                let hi = self.reg(&a, 1, T2)?;
                self.c().rrr(op::OR, T0, lo, hi);
                return self.flags_result(i, Cc::Eq, a.pos);
            }
            O::I64Eq => return self.eq64(i, Cc::Eq),
            O::I64Ne => return self.eq64(i, Cc::Ne),
            O::I64LtU => return self.cmp64u(i, false, Cc::Ltu),
            O::I64GeU => return self.cmp64u(i, false, Cc::Geu),
            O::I64GtU => return self.cmp64u(i, true, Cc::Ltu),
            O::I64LeU => return self.cmp64u(i, true, Cc::Geu),
            O::I64LtS => return self.cmp64s(i, Cc::Lt, Cc::Ltu),
            O::I64LeS => return self.cmp64s(i, Cc::Lt, Cc::Leu),
            O::I64GtS => return self.cmp64s(i, Cc::Gt, Cc::Gtu),
            O::I64GeS => return self.cmp64s(i, Cc::Gt, Cc::Geu),
            O::I64ExtendI32S => self.extend64(true, 0)?,
            O::I64ExtendI32U => self.extend64(false, 0)?,
            O::I64Extend8S => self.extend64(true, 24)?,
            O::I64Extend16S => self.extend64(true, 16)?,
            O::I64Extend32S => self.extend64(true, 0)?,
            O::I32ReinterpretF32 => self.retype(I32)?,
            O::F32ReinterpretI32 => self.retype(F32)?,
            O::I64ReinterpretF64 => self.retype(I64)?,
            O::F64ReinterpretI64 => self.retype(F64)?,
            other => return self.op_mem_or_float(i, other),
        }
        Ok(1)
    }

    fn retype(&mut self, ty: Ty) -> Result<(), CcError> {
        let e = self.pop()?;
        self.stack.push(crate::frame::Entry { ty, ..e });
        Ok(())
    }

    /// Call a runtime routine with the top entries as arguments.
    pub fn rt_call(&mut self, rt: Rt, params: &[Ty], results: &[Ty]) -> Result<(), CcError> {
        let l = self.p.rt(rt);
        self.call_with(&sig(params, results), CallTarget::Label(l))
    }

    /// Call a function of the module's runtime (compiler-rt or the HSX libc) by name.
    pub fn helper_call(&mut self, name: &str) -> Result<(), CcError> {
        let f = self.p.helper(name, self.fidx)?;
        self.call_func(f)
    }

    /// If operator `i + 1` stores this result into a register-homed i32 local that nothing
    /// on the stack still reads, that register: (local, register, is a tee).
    fn fused_local_target(&self, i: usize) -> Option<(u32, crate::emit::R, bool)> {
        let (j, tee) = match self.peek(i + 1)? {
            Operator::LocalSet { local_index } => (*local_index, false),
            Operator::LocalTee { local_index } => (*local_index, true),
            _ => return None,
        };
        let l = self.locals.get(j as usize)?;
        let crate::frame::Loc::Reg(h) = l.home[0] else {
            return None;
        };
        if l.ty.words() != 1 || self.stack.iter().any(|e| e.local == Some(j)) {
            return None;
        }
        Some((j, h, tee))
    }

    fn bin32(&mut self, i: usize, b: Bin) -> Result<usize, CcError> {
        let y = self.pop()?;
        let x = self.pop()?;
        if let (Some(a), Some(c)) = (x.const_word(0), y.const_word(0)) {
            self.push_const(Ty::I32, u64::from(b.fold(a, c)));
            return Ok(1);
        }
        let fused = self.fused_local_target(i);
        let imm = y.const_word(0).map(|v| v as i32 as i64);
        let imm = match (b, imm) {
            (Bin::Add, Some(v)) if fits12(v) => Some(v),
            (Bin::Sub, Some(v)) if fits12(-v) => Some(-v),
            _ => None,
        };
        let ra = self.reg(&x, 0, T1)?;
        let d = match fused {
            Some((_, h, _)) => h,
            None => self.dst(x.pos),
        };
        match imm {
            Some(0) => self.c().mov(d, ra),
            Some(v) => self.c().addi(d, ra, v as i32),
            None => {
                let rb = self.reg(&y, 0, T2)?;
                self.c().rrr(b.opcode(), d, ra, rb);
            }
        }
        match fused {
            // Computed straight into the local: the local.set/tee is done.
            Some((j, _, tee)) => {
                if tee {
                    let pos = self.next_pos();
                    self.stack.push(crate::frame::Entry {
                        ty: Ty::I32,
                        pos,
                        konst: None,
                        local: Some(j),
                    });
                }
                Ok(2)
            }
            None => {
                self.commit(x.pos, d)?;
                self.push(Ty::I32);
                Ok(1)
            }
        }
    }

    fn div32(&mut self, div: u32, rem: bool) -> Result<(), CcError> {
        let y = self.pop()?;
        let x = self.pop()?;
        let ra = self.reg(&x, 0, T1)?;
        let rb = self.reg(&y, 0, T2)?;
        let d = self.dst(x.pos);
        if rem {
            self.c().rrr(div, T0, ra, rb);
            self.c().rrr(op::MUL, T0, T0, rb);
            self.c().rrr(op::SUB, d, ra, T0);
        } else {
            self.c().rrr(div, d, ra, rb);
        }
        self.commit(x.pos, d)?;
        self.push(Ty::I32);
        Ok(())
    }

    fn sext32(&mut self, shift: u32) -> Result<(), CcError> {
        let x = self.pop()?;
        if let Some(v) = x.const_word(0) {
            let r = ((v << shift) as i32 >> shift) as u32;
            self.push_const(Ty::I32, u64::from(r));
            return Ok(());
        }
        let ra = self.reg(&x, 0, T1)?;
        let d = self.dst(x.pos);
        self.c().li(T2, shift);
        self.c().rrr(op::LSL, d, ra, T2);
        self.c().rrr(op::ASR, d, d, T2);
        self.commit(x.pos, d)?;
        self.push(Ty::I32);
        Ok(())
    }

    /// The flags hold a comparison whose truth is `cc`; fuse with a following branch or
    /// write 0/1 at position `pos`.
    pub(crate) fn flags_result(&mut self, i: usize, cc: Cc, pos: u32) -> Result<usize, CcError> {
        let n = self.fuse_branch(cc, i + 1)?;
        if n > 0 {
            return Ok(1 + n);
        }
        if matches!(self.peek(i + 1), Some(Operator::I32Eqz)) {
            let n = self.fuse_branch(crate::emit::invert(cc), i + 2)?;
            if n > 0 {
                return Ok(2 + n);
            }
        }
        let d = self.dst(pos);
        self.c().set(cc, d);
        self.commit(pos, d)?;
        self.push(Ty::I32);
        Ok(1)
    }

    /// Whether operator `i + 1` (or `i + 2` after an `eqz`) branches on this result.
    pub(crate) fn fusing(&self, i: usize) -> bool {
        let br = |o: Option<&Operator<'_>>| {
            matches!(o, Some(Operator::BrIf { .. }) | Some(Operator::If { .. }))
        };
        br(self.peek(i + 1))
            || (matches!(self.peek(i + 1), Some(Operator::I32Eqz)) && br(self.peek(i + 2)))
    }

    /// Pop the two operands of the comparison at operator `i`. When a branch will consume
    /// its flags, pending constants are written first, so nothing runs between the compare
    /// and the branch.
    fn compare_operands(&mut self, i: usize) -> Result<(Entry, Entry), CcError> {
        let y = self.pop()?;
        let x = self.pop()?;
        if self.fusing(i) {
            self.materialize_all()?;
        }
        Ok((x, y))
    }

    fn cmp32(&mut self, i: usize, cc: Cc) -> Result<usize, CcError> {
        let (x, y) = self.compare_operands(i)?;
        let ra = self.reg(&x, 0, T1)?;
        let rb = self.reg(&y, 0, T2)?;
        self.c().cmp(ra, rb);
        self.flags_result(i, cc, x.pos)
    }

    fn eqz32(&mut self, i: usize) -> Result<usize, CcError> {
        let x = self.pop()?;
        if self.fusing(i) {
            self.materialize_all()?;
        }
        let ra = self.reg(&x, 0, T1)?;
        self.c().test(ra);
        self.flags_result(i, Cc::Eq, x.pos)
    }

    /// Write the top two entries' constants to their positions if loading them later would
    /// disturb the flags a two-instruction sequence carries from one word to the next.
    fn settle_flag_unsafe_operands(&mut self) -> Result<(), CcError> {
        let n = self.stack.len();
        for i in n.saturating_sub(2)..n {
            let e = self.stack[i];
            let unsafe_word = (0..e.ty.words())
                .any(|w| e.const_word(w).is_some_and(crate::emit::li_changes_flags));
            if unsafe_word
                && !matches!(
                    (
                        self.stack[n - 1].konst,
                        self.stack[n.saturating_sub(2)].konst
                    ),
                    (Some(_), Some(_))
                )
            {
                self.materialize_at(i)?;
            }
        }
        Ok(())
    }

    fn add64(&mut self, lo: u32, hi: u32) -> Result<(), CcError> {
        self.settle_flag_unsafe_operands()?;
        let y = self.pop()?;
        let x = self.pop()?;
        if let (Some(a), Some(b)) = (x.konst, y.konst) {
            let r = if lo == op::ADD {
                a.wrapping_add(b)
            } else {
                a.wrapping_sub(b)
            };
            self.push_const(Ty::I64, r);
            return Ok(());
        }
        // Loads, stores, moves and LDI leave the carry alone between the two halves.
        for (w, opc) in [(0, lo), (1, hi)] {
            let ra = self.reg(&x, w, T1)?;
            let rb = self.reg(&y, w, T2)?;
            let d = self.dst(x.pos + w);
            self.c().rrr(opc, d, ra, rb);
            self.commit(x.pos + w, d)?;
        }
        self.push(Ty::I64);
        Ok(())
    }

    fn logic64(&mut self, opc: u32) -> Result<(), CcError> {
        let y = self.pop()?;
        let x = self.pop()?;
        for w in 0..2 {
            let ra = self.reg(&x, w, T1)?;
            let rb = self.reg(&y, w, T2)?;
            let d = self.dst(x.pos + w);
            self.c().rrr(opc, d, ra, rb);
            self.commit(x.pos + w, d)?;
        }
        self.push(Ty::I64);
        Ok(())
    }

    fn eq64(&mut self, i: usize, cc: Cc) -> Result<usize, CcError> {
        let (x, y) = self.compare_operands(i)?;
        let a0 = self.reg(&x, 0, T1)?;
        let b0 = self.reg(&y, 0, T2)?;
        self.c().rrr(op::XOR, T0, a0, b0);
        let a1 = self.reg(&x, 1, T1)?;
        let b1 = self.reg(&y, 1, T2)?;
        self.c().rrr(op::XOR, T1, a1, b1);
        self.c().rrr(op::OR, T0, T0, T1);
        self.flags_result(i, cc, x.pos)
    }

    /// Unsigned 64-bit compare through CMP (low) + SBC (high): C is exact.
    fn cmp64u(&mut self, i: usize, swap: bool, cc: Cc) -> Result<usize, CcError> {
        self.settle_flag_unsafe_operands()?;
        let (x, y) = self.compare_operands(i)?;
        let (a, b) = if swap { (y, x) } else { (x, y) };
        let a0 = self.reg(&a, 0, T1)?;
        let b0 = self.reg(&b, 0, T2)?;
        self.c().cmp(a0, b0);
        let a1 = self.reg(&a, 1, T1)?;
        let b1 = self.reg(&b, 1, T2)?;
        self.c().rrr(op::SBC, T0, a1, b1);
        self.flags_result(i, cc, x.pos)
    }

    /// Signed 64-bit compare: high words signed, then low words unsigned. (SBC's V flag
    /// follows the reference's folding rule, which is not a true 64-bit overflow.)
    fn cmp64s(&mut self, i: usize, strict: Cc, low: Cc) -> Result<usize, CcError> {
        let (x, y) = self.compare_operands(i)?;
        let yes = self.c().label();
        let no = self.c().label();
        let done = self.c().label();
        let a1 = self.reg(&x, 1, T1)?;
        let b1 = self.reg(&y, 1, T2)?;
        self.c().cmp(a1, b1);
        self.c().b(strict, yes);
        self.c().b(Cc::Ne, no);
        let a0 = self.reg(&x, 0, T1)?;
        let b0 = self.reg(&y, 0, T2)?;
        self.c().cmp(a0, b0);
        self.c().b(low, yes);
        self.c().bind(no);
        self.c().li(T0, 0);
        self.c().b(Cc::Al, done);
        self.c().bind(yes);
        self.c().li(T0, 1);
        self.c().bind(done);
        self.c().test(T0);
        self.flags_result(i, Cc::Ne, x.pos)
    }

    fn extend64(&mut self, signed: bool, shift: u32) -> Result<(), CcError> {
        let x = self.pop()?;
        if let Some(v) = x.const_word(0) {
            let lo = if shift > 0 {
                ((v << shift) as i32 >> shift) as u32
            } else {
                v
            };
            let hi = if signed && (lo as i32) < 0 {
                u32::MAX
            } else {
                0
            };
            self.push_const(Ty::I64, (u64::from(hi) << 32) | u64::from(lo));
            return Ok(());
        }
        let ra = self.reg(&x, 0, T1)?;
        let d0 = self.dst(x.pos);
        if shift > 0 {
            self.c().li(T2, shift);
            self.c().rrr(op::LSL, d0, ra, T2);
            self.c().rrr(op::ASR, d0, d0, T2);
        } else {
            self.c().mov(d0, ra);
        }
        self.commit(x.pos, d0)?;
        let d1 = self.dst(x.pos + 1);
        if signed {
            self.c().li(T2, 31);
            self.c().rrr(op::ASR, d1, d0, T2);
        } else {
            self.c().li(d1, 0);
        }
        self.commit(x.pos + 1, d1)?;
        self.push(Ty::I64);
        Ok(())
    }
}
