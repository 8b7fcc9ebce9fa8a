//! Linear-memory operators. A wasm address is the MiniVM data address (the data segments
//! were linked at 0x4000), so a load is one `LD` when the offset fits 12 bits. Effective
//! addresses wrap at 64 KiB as MiniVM's do; there is no bounds trap.

use wasmparser::{MemArg, Operator};

use crate::emit::{R, fits12, op};
use crate::error::CcError;
use crate::frame::{Entry, T0, T1, T2};
use crate::func::Fx;
use crate::module::Ty;
use crate::runtime::Rt;

/// How a load reads memory and widens the value.
#[derive(Clone, Copy)]
struct Load {
    op: u32,
    /// Sign-extension shift for 8/16-bit signed loads (0 = none).
    sext: u32,
    ty: Ty,
    /// For i64 results narrower than 64 bits: sign-extend (true) or zero (false) the high word.
    hi_signed: Option<bool>,
}

impl Fx<'_, '_, '_> {
    /// Base register and offset for an access of `span` bytes at `a + offset`.
    fn address(&mut self, a: &Entry, offset: u64, span: i64) -> Result<(R, i32), CcError> {
        let offset = (offset & 0xFFFF_FFFF) as u32;
        if let Some(c) = a.const_word(0) {
            self.c().li(T1, c.wrapping_add(offset));
            return Ok((T1, 0));
        }
        let ra = self.reg(a, 0, T1)?;
        let off = offset as i32 as i64;
        if fits12(off) && fits12(off + span) {
            return Ok((ra, off as i32));
        }
        self.c().li(T2, offset);
        self.c().rrr(op::ADD, T1, ra, T2);
        Ok((T1, 0))
    }

    fn load(&mut self, m: MemArg, l: Load) -> Result<(), CcError> {
        let a = self.pop()?;
        let pos = a.pos;
        if l.ty.words() == 2 && l.hi_signed.is_none() {
            let (base, off) = self.address(&a, m.offset, 4)?;
            // High word first: the low word's register may be the base.
            let d1 = self.dst(pos + 1);
            self.c().mem(op::LD, d1, base, off + 4);
            self.commit(pos + 1, d1)?;
            let d0 = self.dst(pos);
            self.c().mem(op::LD, d0, base, off);
            self.commit(pos, d0)?;
        } else {
            let (base, off) = self.address(&a, m.offset, 0)?;
            let d0 = self.dst(pos);
            self.c().mem(l.op, d0, base, off);
            if l.sext > 0 {
                self.c().li(T2, l.sext);
                self.c().rrr(op::LSL, d0, d0, T2);
                self.c().rrr(op::ASR, d0, d0, T2);
            }
            self.commit(pos, d0)?;
            if let Some(signed) = l.hi_signed {
                let d1 = self.dst(pos + 1);
                if signed {
                    self.c().li(T2, 31);
                    self.c().rrr(op::ASR, d1, d0, T2);
                } else {
                    self.c().li(d1, 0);
                }
                self.commit(pos + 1, d1)?;
            }
        }
        self.push(l.ty);
        Ok(())
    }

    fn store(&mut self, m: MemArg, opc: u32, words: u32) -> Result<(), CcError> {
        let v = self.pop()?;
        let a = self.pop()?;
        let span = if words == 2 { 4 } else { 0 };
        let (base, off) = self.address(&a, m.offset, span)?;
        for w in 0..words {
            let r = self.reg(&v, w, T0)?;
            self.c().mem(opc, r, base, off + 4 * w as i32);
        }
        Ok(())
    }

    /// Memory, bulk-memory and floating-point operators.
    pub fn op_mem_or_float(&mut self, i: usize, o: Operator<'_>) -> Result<usize, CcError> {
        use Operator as O;
        use Ty::*;
        let ld = |op, sext, ty, hi_signed| Load {
            op,
            sext,
            ty,
            hi_signed,
        };
        match o {
            O::I32Load { memarg } | O::F32Load { memarg } => {
                let ty = if matches!(o, O::F32Load { .. }) {
                    F32
                } else {
                    I32
                };
                self.load(memarg, ld(op::LD, 0, ty, None))?
            }
            O::I64Load { memarg } | O::F64Load { memarg } => {
                let ty = if matches!(o, O::F64Load { .. }) {
                    F64
                } else {
                    I64
                };
                self.load(memarg, ld(op::LD, 0, ty, None))?
            }
            O::I32Load8U { memarg } => self.load(memarg, ld(op::LDB, 0, I32, None))?,
            O::I32Load8S { memarg } => self.load(memarg, ld(op::LDB, 24, I32, None))?,
            O::I32Load16U { memarg } => self.load(memarg, ld(op::LDH, 0, I32, None))?,
            O::I32Load16S { memarg } => self.load(memarg, ld(op::LDH, 16, I32, None))?,
            O::I64Load8U { memarg } => self.load(memarg, ld(op::LDB, 0, I64, Some(false)))?,
            O::I64Load8S { memarg } => self.load(memarg, ld(op::LDB, 24, I64, Some(true)))?,
            O::I64Load16U { memarg } => self.load(memarg, ld(op::LDH, 0, I64, Some(false)))?,
            O::I64Load16S { memarg } => self.load(memarg, ld(op::LDH, 16, I64, Some(true)))?,
            O::I64Load32U { memarg } => self.load(memarg, ld(op::LD, 0, I64, Some(false)))?,
            O::I64Load32S { memarg } => self.load(memarg, ld(op::LD, 0, I64, Some(true)))?,
            O::I32Store { memarg } | O::F32Store { memarg } => self.store(memarg, op::ST, 1)?,
            O::I64Store { memarg } | O::F64Store { memarg } => self.store(memarg, op::ST, 2)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store(memarg, op::STB, 1)?,
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => {
                self.store(memarg, op::STH, 1)?
            }
            O::I64Store32 { memarg } => self.store(memarg, op::ST, 1)?,
            O::MemorySize { .. } => self.push_const(I32, 1),
            O::MemoryGrow { .. } => {
                // The task's memory is its fixed 64 KiB: growing always fails.
                self.pop()?;
                self.push_const(I32, u64::from(u32::MAX));
            }
            O::MemoryCopy { .. } => self.rt_call(Rt::MemCopy, &[I32, I32, I32], &[])?,
            O::MemoryFill { .. } => self.rt_call(Rt::MemFill, &[I32, I32, I32], &[])?,
            other => return self.op_float(i, other),
        }
        Ok(1)
    }
}
