//! Half-precision arithmetic for FADD/FSUB/FMUL/FDIV/I2F/F2I (`vm.md` §1.6, `design.md` §4.5).
//!
//! Operands are binary16 bit patterns (the low 16 bits of a register). Each operation decodes
//! both operands exactly to binary64, operates in binary64 and rounds the result once to
//! binary16, round-to-nearest-even, with every NaN encoded as the canonical `0x7E00`. Unlike
//! the Python reference there is no clamp band: magnitudes in `[2^-14 - 2^-25, 2^-14)` round
//! up to `0x0400` as IEEE requires.
//!
//! Binary64 is wide enough that this equals the correctly rounded binary16 operation: sums,
//! differences and products of two binary16 values are exact in binary64, and a binary64
//! quotient rounded again to binary16 cannot suffer double rounding (53 ≥ 2·11 + 2).

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

/// `a + b`.
#[inline]
pub fn fadd(a: u16, b: u16) -> u16 {
    f16_from_f64(f16_to_f64(a) + f16_to_f64(b))
}

/// `a - b`.
#[inline]
pub fn fsub(a: u16, b: u16) -> u16 {
    f16_from_f64(f16_to_f64(a) - f16_to_f64(b))
}

/// `a * b`.
#[inline]
pub fn fmul(a: u16, b: u16) -> u16 {
    f16_from_f64(f16_to_f64(a) * f16_to_f64(b))
}

/// `a / b`; a divisor of ±0 is replaced by +inf first (reference behaviour): `x/0 = ±0`,
/// `0/0 = +0`, `inf/0 = NaN`. Never traps.
#[inline]
pub fn fdiv(a: u16, b: u16) -> u16 {
    let mut d = f16_to_f64(b);
    if d == 0.0 {
        d = f64::INFINITY;
    }
    f16_from_f64(f16_to_f64(a) / d)
}

/// Signed 32-bit integer to binary16 (RNE; |v| ≥ 65520 → ±inf).
#[inline]
pub fn i2f(v: i32) -> u16 {
    f16_from_f64(f64::from(v))
}

/// Binary16 to signed 32-bit integer, truncating toward zero. Saturates: +inf → `i32::MAX`,
/// −inf → `i32::MIN`, NaN → 0 (the reference crashes on these).
#[inline]
pub fn f2i(h: u16) -> i32 {
    // `as` from float is a saturating, NaN-to-zero, truncating conversion.
    f16_to_f64(h) as i32
}
