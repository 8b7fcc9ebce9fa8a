//! Floating point. MiniVM only has f16 arithmetic, so f32/f64 values are IEEE bit patterns in
//! one or two words and every operation is a call: compiler-rt's soft-float routines for
//! arithmetic, comparisons and conversions, the HSX libc's `__hsx_*` for the rest. Sign
//! operations (abs, neg, copysign) are bit operations on the high word.

use wasmparser::Operator;

use crate::emit::{Cc, op};
use crate::error::CcError;
use crate::frame::{T0, T1, T2};
use crate::func::Fx;
use crate::module::Ty;

/// The function that implements a float operator, and how to read its result.
fn helper(o: &Operator<'_>) -> Option<(&'static str, Option<Cc>)> {
    use Operator as O;
    Some(match o {
        O::F32Add => ("__addsf3", None),
        O::F32Sub => ("__subsf3", None),
        O::F32Mul => ("__mulsf3", None),
        O::F32Div => ("__divsf3", None),
        O::F64Add => ("__adddf3", None),
        O::F64Sub => ("__subdf3", None),
        O::F64Mul => ("__muldf3", None),
        O::F64Div => ("__divdf3", None),
        O::F32Eq => ("__eqsf2", Some(Cc::Eq)),
        O::F32Ne => ("__nesf2", Some(Cc::Ne)),
        O::F32Lt => ("__ltsf2", Some(Cc::Lt)),
        O::F32Le => ("__lesf2", Some(Cc::Le)),
        O::F32Gt => ("__gtsf2", Some(Cc::Gt)),
        O::F32Ge => ("__gesf2", Some(Cc::Ge)),
        O::F64Eq => ("__eqdf2", Some(Cc::Eq)),
        O::F64Ne => ("__nedf2", Some(Cc::Ne)),
        O::F64Lt => ("__ltdf2", Some(Cc::Lt)),
        O::F64Le => ("__ledf2", Some(Cc::Le)),
        O::F64Gt => ("__gtdf2", Some(Cc::Gt)),
        O::F64Ge => ("__gedf2", Some(Cc::Ge)),
        O::F32Sqrt => ("__hsx_sqrtf", None),
        O::F64Sqrt => ("__hsx_sqrt", None),
        O::F32Floor => ("__hsx_floorf", None),
        O::F64Floor => ("__hsx_floor", None),
        O::F32Ceil => ("__hsx_ceilf", None),
        O::F64Ceil => ("__hsx_ceil", None),
        O::F32Trunc => ("__hsx_truncf", None),
        O::F64Trunc => ("__hsx_trunc", None),
        O::F32Nearest => ("__hsx_nearestf", None),
        O::F64Nearest => ("__hsx_nearest", None),
        O::F32Min => ("__hsx_fminf", None),
        O::F32Max => ("__hsx_fmaxf", None),
        O::F64Min => ("__hsx_fmin", None),
        O::F64Max => ("__hsx_fmax", None),
        O::F32ConvertI32S => ("__floatsisf", None),
        O::F32ConvertI32U => ("__floatunsisf", None),
        O::F32ConvertI64S => ("__floatdisf", None),
        O::F32ConvertI64U => ("__floatundisf", None),
        O::F64ConvertI32S => ("__floatsidf", None),
        O::F64ConvertI32U => ("__floatunsidf", None),
        O::F64ConvertI64S => ("__floatdidf", None),
        O::F64ConvertI64U => ("__floatundidf", None),
        O::I32TruncF32S | O::I32TruncSatF32S => ("__fixsfsi", None),
        O::I32TruncF32U | O::I32TruncSatF32U => ("__fixunssfsi", None),
        O::I32TruncF64S | O::I32TruncSatF64S => ("__fixdfsi", None),
        O::I32TruncF64U | O::I32TruncSatF64U => ("__fixunsdfsi", None),
        O::I64TruncF32S | O::I64TruncSatF32S => ("__fixsfdi", None),
        O::I64TruncF32U | O::I64TruncSatF32U => ("__fixunssfdi", None),
        O::I64TruncF64S | O::I64TruncSatF64S => ("__fixdfdi", None),
        O::I64TruncF64U | O::I64TruncSatF64U => ("__fixunsdfdi", None),
        O::F32DemoteF64 => ("__truncdfsf2", None),
        O::F64PromoteF32 => ("__extendsfdf2", None),
        _ => return None,
    })
}

/// Every helper name the translator may call (the driver keeps them in the link).
pub const HELPERS: &[&str] = &[
    "__addsf3",
    "__subsf3",
    "__mulsf3",
    "__divsf3",
    "__adddf3",
    "__subdf3",
    "__muldf3",
    "__divdf3",
    "__eqsf2",
    "__nesf2",
    "__ltsf2",
    "__lesf2",
    "__gtsf2",
    "__gesf2",
    "__eqdf2",
    "__nedf2",
    "__ltdf2",
    "__ledf2",
    "__gtdf2",
    "__gedf2",
    "__floatsisf",
    "__floatunsisf",
    "__floatdisf",
    "__floatundisf",
    "__floatsidf",
    "__floatunsidf",
    "__floatdidf",
    "__floatundidf",
    "__fixsfsi",
    "__fixunssfsi",
    "__fixdfsi",
    "__fixunsdfsi",
    "__fixsfdi",
    "__fixunssfdi",
    "__fixdfdi",
    "__fixunsdfdi",
    "__truncdfsf2",
    "__extendsfdf2",
    "__divdi3",
    "__udivdi3",
    "__moddi3",
    "__umoddi3",
];

/// Whether `o` becomes a call (so the register allocator counts it as one).
pub fn is_helper_call(o: &Operator<'_>) -> bool {
    use Operator as O;
    helper(o).is_some()
        || matches!(
            o,
            O::I64Mul
                | O::I64DivS
                | O::I64DivU
                | O::I64RemS
                | O::I64RemU
                | O::I64Shl
                | O::I64ShrS
                | O::I64ShrU
                | O::I64Rotl
                | O::I64Rotr
                | O::I32Rotl
                | O::I32Rotr
                | O::I32Clz
                | O::I32Ctz
                | O::I32Popcnt
                | O::I64Clz
                | O::I64Ctz
                | O::I64Popcnt
                | O::MemoryCopy { .. }
                | O::MemoryFill { .. }
        )
}

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
        if self.fusing_after(i) {
            self.materialize_all()?;
        }
        let rr = self.reg(&r, 0, T1)?;
        self.c().test(rr);
        self.flags_result(i, cc, r.pos)
    }

    fn fusing_after(&self, i: usize) -> bool {
        let br = |o: Option<&Operator<'_>>| {
            matches!(o, Some(Operator::BrIf { .. }) | Some(Operator::If { .. }))
        };
        br(self.peek(i + 1))
            || (matches!(self.peek(i + 1), Some(Operator::I32Eqz)) && br(self.peek(i + 2)))
    }

    /// Apply `opc` with `mask` to the sign word (the only word of f32, the high word of f64).
    fn sign_op(&mut self, mask: u32, opc: u32) -> Result<(), CcError> {
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
        let y = self.pop()?;
        let x = self.pop()?;
        if x.konst.is_some() {
            self.stack.push(x);
            let idx = self.stack.len() - 1;
            self.materialize_at(idx)?;
            self.stack.pop();
        }
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
        self.stack.push(crate::frame::Entry { konst: None, ..x });
        Ok(())
    }
}
