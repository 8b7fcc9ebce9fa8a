//! Half-precision arithmetic for FADD/FSUB/FMUL/FDIV/I2F/F2I (`vm.md` §1.6, `design.md` §4.5).
//!
//! Operands are binary16 bit patterns (the low 16 bits of a register). Each operation decodes
//! both operands exactly to binary32, operates in binary32 and rounds the result once to
//! binary16, round-to-nearest-even, with every NaN encoded as the canonical `0x7E00`. Unlike
//! the Python reference there is no clamp band: magnitudes in `[2^-14 - 2^-25, 2^-14)` round
//! up to `0x0400` as IEEE requires.
//!
//! Binary32 is wide enough that this equals the correctly rounded binary16 operation: for
//! `+ − × ÷` a binary32 result rounded again to binary16 cannot suffer double rounding
//! (24 ≥ 2·11 + 2, Figueroa 1995), products are even exact, and the exponent range covers
//! every binary16 operand and result. Binary32 rather than binary64 keeps the VM free of
//! soft-float on microcontrollers with a single-precision FPU (Cortex-M4F); the results are
//! the same bits (`tests/f16.rs` checks them against binary64, for all 2^32 operand pairs
//! with `--ignored`).
//! [`f16_to_f64`]/[`f16_from_f64`] remain for hosts that hold values as binary64.

use half::f16;

/// The canonical NaN every NaN result is encoded as.
pub const CANONICAL_NAN: u16 = 0x7E00;

/// Decode a binary16 bit pattern exactly (subnormals, ±0, ±inf; NaN stays NaN).
#[inline]
pub fn f16_to_f64(bits: u16) -> f64 {
    f16::from_bits(bits).to_f64()
}

/// Encode a binary64 value as binary16: round-to-nearest-even, ±0 keep their sign,
/// magnitudes ≥ 65520 become ±inf, any NaN becomes [`CANONICAL_NAN`].
#[inline]
pub fn f16_from_f64(x: f64) -> u16 {
    if x.is_nan() {
        return CANONICAL_NAN;
    }
    // `half`'s binary64 conversion rounds using only the upper 32 bits of the binary64
    // pattern (and on x86 with F16C it goes through binary32), so a value just above a tie
    // whose extra bits all lie in the low word would round to even instead of up
    // (e.g. 1 + 2^-11 + 2^-21 must give 0x3C01). Folding the low word into bit 32 keeps it
    // as a sticky bit: bit 32 is always below the rounding position of any binary16 result,
    // and the folded value has at most 20 fraction bits so the binary32 route is exact too.
    let bits = x.to_bits();
    let sticky = u64::from(bits & 0xFFFF_FFFF != 0) << 32;
    let folded = f64::from_bits((bits & !0xFFFF_FFFF) | sticky);
    f16::from_f64(folded).to_bits()
}

/// Decode a binary16 bit pattern exactly to binary32.
#[inline]
pub fn f16_to_f32(bits: u16) -> f32 {
    f16::from_bits(bits).to_f32()
}

/// Encode a binary32 value as binary16: round-to-nearest-even, ±0 keep their sign,
/// magnitudes ≥ 65520 become ±inf, any NaN becomes [`CANONICAL_NAN`].
#[inline]
pub fn f16_from_f32(x: f32) -> u16 {
    if x.is_nan() {
        return CANONICAL_NAN;
    }
    f16::from_f32(x).to_bits()
}

/// `a + b`.
#[inline]
pub fn fadd(a: u16, b: u16) -> u16 {
    f16_from_f32(f16_to_f32(a) + f16_to_f32(b))
}

/// `a - b`.
#[inline]
pub fn fsub(a: u16, b: u16) -> u16 {
    f16_from_f32(f16_to_f32(a) - f16_to_f32(b))
}

/// `a * b`.
#[inline]
pub fn fmul(a: u16, b: u16) -> u16 {
    f16_from_f32(f16_to_f32(a) * f16_to_f32(b))
}

/// `a / b`; a divisor of ±0 is replaced by +inf first (reference behaviour): `x/0 = ±0`,
/// `0/0 = +0`, `inf/0 = NaN`. Never traps.
#[inline]
pub fn fdiv(a: u16, b: u16) -> u16 {
    let mut d = f16_to_f32(b);
    if d == 0.0 {
        d = f32::INFINITY;
    }
    f16_from_f32(f16_to_f32(a) / d)
}

/// Signed 32-bit integer to binary16 (RNE; |v| ≥ 65520 → ±inf). Every `|v| < 2^24` is
/// exact in binary32; larger magnitudes round in binary32 but stay ≥ 65520, so ±inf.
#[inline]
pub fn i2f(v: i32) -> u16 {
    #[allow(clippy::cast_precision_loss)]
    f16_from_f32(v as f32)
}

/// Binary16 to signed 32-bit integer, truncating toward zero. Saturates: +inf → `i32::MAX`,
/// −inf → `i32::MIN`, NaN → 0 (the reference crashes on these).
#[inline]
pub fn f2i(h: u16) -> i32 {
    // `as` from float is a saturating, NaN-to-zero, truncating conversion.
    #[allow(clippy::cast_possible_truncation)]
    let v = f16_to_f32(h) as i32;
    v
}

/// A finite binary16 value as an exact integer count of 2^-24 (the smallest subnormal):
/// every finite binary16 is such a multiple below 2^40 in magnitude. `None` for ±inf/NaN.
/// Lets hosts without an FPU compare binary16 values exactly in integer arithmetic.
#[inline]
#[must_use]
pub const fn f16_fixed(bits: u16) -> Option<i64> {
    let exp = (bits >> 10) & 0x1F;
    let mant = (bits & 0x3FF) as i64;
    if exp == 0x1F {
        return None;
    }
    let mag = if exp == 0 {
        mant
    } else {
        (mant | 0x400) << (exp - 1)
    };
    Some(if bits & 0x8000 != 0 { -mag } else { mag })
}
