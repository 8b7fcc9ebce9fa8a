//! Floating point. MiniVM only has f16 arithmetic, so f32/f64 values are IEEE bit patterns in
//! one or two words and every operation is a call: compiler-rt's soft-float routines for
//! arithmetic, comparisons and conversions, the HSX libc's `__hsx_*` for the rest. Sign
//! operations (abs, neg, copysign) are bit operations on the high word.

use wasmparser::Operator;

use crate::emit::op;
use crate::error::CcError;
use crate::frame::{T0, T1, T2};
use crate::func::Fx;
use crate::helpers::helper;
use crate::module::Ty;

impl Fx<'_, '_, '_> {
    /// Floating-point operators; anything left is unsupported.
    pub fn op_float(&mut self, i: usize, o: Operator<'_>) -> Result<usize, CcError> {
        use Operator as O;
        match o {
            O::F32Const { value } => {
                self.push_const(Ty::F32, u64::from(value.bits()));
                return Ok(1);
            }
            O::F64Const { value } => {
                self.push_const(Ty::F64, value.bits());
                return Ok(1);
            }
            O::F32Abs | O::F64Abs => return self.sign_op(0x7FFF_FFFF, op::AND).map(|()| 1),
            O::F32Neg | O::F64Neg => return self.sign_op(0x8000_0000, op::XOR).map(|()| 1),
            O::F32Copysign | O::F64Copysign => return self.copysign().map(|()| 1),
            _ => {}
        }
        let Some((name, cmp)) = helper(&o) else {
            return Err(self.unsupported(&format!("wasm operator {o:?}")));
        };
        self.helper_call(name)?;
        let Some(cc) = cmp else {
            return Ok(1);
        };
        // The comparison routines return an int whose sign/zero encodes the answer.
        let r = self.pop()?;
        if self.fusing(i) {
            self.materialize_all()?;
        }
        let rr = self.reg(&r, 0, T1)?;
        self.c().test(rr);
        self.flags_result(i, cc, r.pos)
    }

    /// Apply `opc` with `mask` to the sign word (the only word of f32, the high word of f64).
    fn sign_op(&mut self, mask: u32, opc: u32) -> Result<(), CcError> {
        // Only the sign word changes: the other must be at the position already.
        let top = self.stack.len().saturating_sub(1);
        if self.stack.get(top).is_some_and(|e| e.local.is_some()) {
            self.materialize_at(top)?;
        }
        let x = self.pop()?;
        let w = x.ty.words() - 1;
        if let Some(v) = x.konst {
            let word = (v >> (32 * w)) as u32;
            let r = if opc == op::AND {
                word & mask
            } else {
                word ^ mask
            };
            let v = (v & !(0xFFFF_FFFFu64 << (32 * w))) | (u64::from(r) << (32 * w));
            self.push_const(x.ty, v);
            return Ok(());
        }
        let ra = self.reg(&x, w, T1)?;
        let d = self.dst(x.pos + w);
        self.c().li(T2, mask);
        self.c().rrr(opc, d, ra, T2);
        self.commit(x.pos + w, d)?;
        self.stack.push(x);
        Ok(())
    }

    fn copysign(&mut self) -> Result<(), CcError> {
        let n = self.stack.len();
        if n >= 2 {
            self.materialize_at(n - 2)?;
        }
        let y = self.pop()?;
        let x = self.pop()?;
        let w = x.ty.words() - 1;
        let rb = self.reg(&y, w, T2)?;
        self.c().li(T1, 0x8000_0000);
        self.c().rrr(op::AND, T0, rb, T1);
        let ra = self.reg(&x, w, T2)?;
        self.c().li(T1, 0x7FFF_FFFF);
        self.c().rrr(op::AND, T1, ra, T1);
        let d = self.dst(x.pos + w);
        self.c().rrr(op::OR, d, T1, T0);
        self.commit(x.pos + w, d)?;
        self.stack.push(crate::frame::Entry {
            konst: None,
            local: None,
            ..x
        });
        Ok(())
    }
}
