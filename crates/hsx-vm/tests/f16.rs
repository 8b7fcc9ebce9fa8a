//! f16 arithmetic (`vm.md` §1.6, §9 item 12; `design.md` §4.5).

mod common;

use common::{ins, task};
use hsx_vm::fp16::{self, f16_from_f64, f16_to_f64};
use hsx_vm::isa::Opcode::{self, *};
use hsx_vm::{Reg, StepResult};

/// Execute one f16 instruction with R1 = a, R2 = b and R3 preloaded with `rd_init`.
fn fop(op: Opcode, a: u32, b: u32, rd_init: u32) -> u32 {
    let mut t = task(&[ins(op, 3, 1, 2, 0)]);
    t.reg_set(Reg::R1, a);
    t.reg_set(Reg::R2, b);
    t.reg_set(Reg::R3, rd_init);
    t.reg_set(Reg::Psw, 0xF);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.psw(), 0xF, "f16 ops never touch the PSW");
    t.reg_get(Reg::R3)
}

/// Correctly rounded (nearest, ties to even) binary16 of `x`, found by comparing exact
/// distances to neighbouring candidates — independent of any conversion routine's rounding.
fn oracle(x: f64) -> u16 {
    if x.is_nan() {
        return 0x7E00;
    }
    let sign: u16 = if x.is_sign_negative() { 0x8000 } else { 0 };
    let m = x.abs();
    if m >= 65520.0 {
        return sign | 0x7C00;
    }
    // Initial guess: truncation toward zero of the magnitude, via the exponent/mantissa.
    let guess = (f16_from_f64(m) & 0x7FFF).min(0x7BFF);
    let mut best: Option<(f64, u16)> = None;
    for k in guess.saturating_sub(2)..=(guess + 2).min(0x7BFF) {
        let d = (m - f16_to_f64(k)).abs();
        best = match best {
            None => Some((d, k)),
            Some((bd, bk)) if d < bd || (d == bd && k & 1 == 0 && bk & 1 == 1) => Some((d, k)),
            keep => keep,
        };
    }
    sign | best.map_or(0, |(_, k)| k)
}

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn fadd_basic_and_upper_half_of_rd_preserved() {
    // 1.0 + 2.0 = 3.0
    assert_eq!(fop(Fadd, 0x3C00, 0x4000, 0xABCD_0000), 0xABCD_4200);
    // Operand upper halves are ignored.
    assert_eq!(fop(Fadd, 0xFFFF_3C00, 0x1234_4000, 0), 0x4200);
    assert_eq!(fop(Fsub, 0x4200, 0x3C00, 0x0001_0000), 0x0001_4000);
    assert_eq!(fop(Fmul, 0x4000, 0xC200, 0), 0xC600); // 2 × −3 = −6
    assert_eq!(fop(Fdiv, 0x3C00, 0x4200, 0), 0x3555); // 1/3 RNE
    assert_eq!(fop(I2f, 0xFFFF_FFFD, 0, 0x7777_0000), 0x7777_C200); // −3
}

#[test]
fn ties_round_to_even() {
    // 2048 + 1 = 2049 is a tie between 2048 (0x6800, even) and 2050 (0x6801, odd).
    assert_eq!(fop(Fadd, 0x6800, 0x3C00, 0), 0x6800);
    // 2050 + 1 = 2051 is a tie between 2050 (odd) and 2052 (0x6802, even).
    assert_eq!(fop(Fadd, 0x6801, 0x3C00, 0), 0x6802);
    // 1 + 2^-11 is a tie → 1.0 (even); 1 + 3·2^-11 (a tie) → 1 + 2^-9 (0x3C02).
    assert_eq!(fop(Fadd, 0x3C00, 0x1000, 0), 0x3C00);
    assert_eq!(fop(Fadd, 0x3C00, 0x1600, 0), 0x3C02);
    // Products: (1 + 2^-10)^2 = 1 + 2^-9 + 2^-20 → 0x3C02.
    assert_eq!(fop(Fmul, 0x3C01, 0x3C01, 0), 0x3C02);
    // I2F ties: 2049 → 2048, 2051 → 2052.
    assert_eq!(fop(I2f, 2049, 0, 0), 0x6800);
    assert_eq!(fop(I2f, 2051, 0, 0), 0x6802);
}

#[test]
fn just_above_a_tie_rounds_up_even_when_the_excess_is_tiny() {
    // 1 + 2^-11 + 2^-21: above the tie by 2^-21, which lies in the low 32 bits of the
    // binary64 pattern. IEEE gives 0x3C01.
    let x = 1.0 + 2f64.powi(-11) + 2f64.powi(-21);
    assert_eq!(oracle(x), 0x3C01);
    assert_eq!(f16_from_f64(x), 0x3C01);
    // Reached by FADD of two f16 values: 1.0 + (2^-11 + 2^-21) = 0x3C00 + 0x1001.
    assert_eq!(f16_to_f64(0x1001), 2f64.powi(-11) + 2f64.powi(-21));
    assert_eq!(fop(Fadd, 0x3C00, 0x1001, 0), 0x3C01);
}

#[test]
fn half_crate_f64_conversion_ignores_low_mantissa_word() {
    // Documents why `fp16::f16_from_f64` folds the low word: `half` rounds this to even.
    let x = 1.0 + 2f64.powi(-11) + 2f64.powi(-21);
    let plain = half::f16::from_f64(x).to_bits();
    assert!(plain == 0x3C00 || plain == 0x3C01);
    assert_eq!(f16_from_f64(x), 0x3C01);
}

#[test]
fn specials() {
    // ±0 keep their sign.
    assert_eq!(fop(Fadd, 0x8000, 0x8000, 0), 0x8000);
    assert_eq!(fop(Fadd, 0x8000, 0x0000, 0), 0x0000);
    assert_eq!(fop(Fmul, 0x8000, 0x3C00, 0), 0x8000);
    // ±inf.
    assert_eq!(fop(Fadd, 0x7C00, 0x3C00, 0), 0x7C00);
    assert_eq!(fop(Fmul, 0xFC00, 0x3C00, 0), 0xFC00);
    assert_eq!(fop(Fmul, 0x7BFF, 0x4000, 0), 0x7C00); // overflow
    // NaN results are canonical 0x7E00 whatever the inputs' sign/payload.
    assert_eq!(fop(Fsub, 0x7C00, 0x7C00, 0), 0x7E00);
    assert_eq!(fop(Fmul, 0x7C00, 0x0000, 0), 0x7E00);
    assert_eq!(fop(Fadd, 0xFE01, 0x3C00, 0), 0x7E00);
    assert_eq!(fop(Fadd, 0x7C01, 0x3C00, 0), 0x7E00);
    // Smallest subnormal round-trips and is reachable.
    assert_eq!(fop(Fmul, 0x0001, 0x3C00, 0), 0x0001);
    assert_eq!(fop(Fadd, 0x0001, 0x0001, 0), 0x0002);
    assert_eq!(fop(Fmul, 0x0001, 0x3800, 0), 0x0000); // 2^-25: tie → even (0)
    assert_eq!(fop(Fmul, 0x0003, 0x3800, 0), 0x0002); // 1.5·2^-24: tie → 2 (even)
    assert_eq!(fop(Fmul, 0x8001, 0x3800, 0), 0x8000); // −0 keeps sign
    // Largest finite and the overflow threshold.
    assert_eq!(f16_from_f64(65504.0), 0x7BFF);
    assert_eq!(f16_from_f64(65519.99), 0x7BFF);
    assert_eq!(f16_from_f64(65520.0), 0x7C00);
    assert_eq!(f16_from_f64(-65520.0), 0xFC00);
    assert_eq!(f16_from_f64(f64::NAN), 0x7E00);
    assert_eq!(f16_from_f64(-f64::NAN), 0x7E00);
}

#[test]
fn every_f16_pattern_round_trips() {
    for h in 0..=u16::MAX {
        let x = f16_to_f64(h);
        let back = f16_from_f64(x);
        if x.is_nan() {
            assert_eq!(back, 0x7E00);
        } else {
            assert_eq!(back, h, "{h:#06x}");
        }
    }
}

#[test]
fn fdiv_by_zero_uses_infinite_divisor() {
    assert_eq!(fop(Fdiv, 0x4000, 0x0000, 0), 0x0000); // 2/+0 = +0
    assert_eq!(fop(Fdiv, 0xC000, 0x8000, 0), 0x8000); // −2/−0 = −0 (divisor becomes +inf)
    assert_eq!(fop(Fdiv, 0x0000, 0x0000, 0), 0x0000); // 0/0 = +0
    assert_eq!(fop(Fdiv, 0x7C00, 0x0000, 0), 0x7E00); // inf/0 = NaN
    assert_eq!(fop(Fdiv, 0x3C00, 0x7C00, 0), 0x0000); // 1/inf
}

#[test]
fn i2f_rounding_and_overflow() {
    assert_eq!(fop(I2f, 65519, 0, 0), 0x7BFF);
    assert_eq!(fop(I2f, 65520, 0, 0), 0x7C00);
    assert_eq!(fop(I2f, 70000, 0, 0), 0x7C00);
    assert_eq!(fop(I2f, (-70000i32) as u32, 0, 0), 0xFC00);
    assert_eq!(fop(I2f, i32::MIN as u32, 0, 0), 0xFC00);
    assert_eq!(fop(I2f, 0, 0, 0), 0x0000);
    for v in -70_000i32..=70_000 {
        assert_eq!(fp16::i2f(v), oracle(f64::from(v)), "{v}");
    }
}

#[test]
fn f2i_truncates_and_saturates() {
    assert_eq!(fop(F2i, 0xC200, 0, 0xFFFF_0000), 0xFFFF_FFFD); // −3.0, writes all 32 bits
    assert_eq!(fop(F2i, 0xBB00, 0, 0xFFFF_FFFF), 0); // −0.875 → 0
    assert_eq!(fop(F2i, 0x3E00, 0, 0), 1); // 1.5 → 1
    assert_eq!(fop(F2i, 0x7BFF, 0, 0), 65504);
    // design.md §4.5: inf/NaN saturate instead of crashing.
    assert_eq!(fop(F2i, 0x7C00, 0, 0), i32::MAX as u32);
    assert_eq!(fop(F2i, 0xFC00, 0, 0), i32::MIN as u32);
    assert_eq!(fop(F2i, 0x7E00, 0, 0), 0);
    assert_eq!(fop(F2i, 0xFE00, 0, 0), 0);
    for h in 0..=u16::MAX {
        let x = f16_to_f64(h);
        if x.is_finite() {
            assert_eq!(fp16::f2i(h), x.trunc() as i32, "{h:#06x}");
        }
    }
}

/// `design.md` §4.5: no clamp band — `[2^-14 − 2^-25, 2^-14)` rounds to 0x0400 (the
/// reference clamps to 0x03FF).
#[test]
fn f16_clamp_band_rounds_up_to_smallest_normal() {
    let lo = 2f64.powi(-14) - 2f64.powi(-25);
    assert_eq!(f16_from_f64(lo), 0x0400); // exact tie: 0x03FF is odd → 0x0400
    assert_eq!(f16_from_f64(-lo), 0x8400);
    assert_eq!(f16_from_f64((lo + 2f64.powi(-14)) / 2.0), 0x0400);
    assert_eq!(f16_from_f64(2f64.powi(-14) - 2f64.powi(-40)), 0x0400);
    // Just below the band still rounds down to the largest subnormal.
    assert_eq!(f16_from_f64(lo - 2f64.powi(-40)), 0x03FF);
    // Reached by FMUL: 0x03FF × (1 + 2^-10) = (1023 + 1023/1024)·2^-24.
    assert_eq!(fop(Fmul, 0x03FF, 0x3C01, 0), 0x0400);
    assert_eq!(fop(Fmul, 0x83FF, 0x3C01, 0), 0x8400);
}

#[test]
fn random_pairs_match_correctly_rounded_oracle() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut half_crate_mismatches = 0u32;
    for _ in 0..100_000 {
        let r = rng.next();
        let (a, b) = (r as u16, (r >> 16) as u16);
        let (fa, fb) = (f16_to_f64(a), f16_to_f64(b));
        let fb_div = if fb == 0.0 { f64::INFINITY } else { fb };
        let cases = [
            (fp16::fadd(a, b), fa + fb),
            (fp16::fsub(a, b), fa - fb),
            (fp16::fmul(a, b), fa * fb),
            (fp16::fdiv(a, b), fa / fb_div),
        ];
        for (i, (got, exact)) in cases.into_iter().enumerate() {
            let want = oracle(exact);
            assert_eq!(got, want, "op {i} a={a:#06x} b={b:#06x}");
            let via_half = if exact.is_nan() {
                0x7E00
            } else {
                half::f16::from_f64(exact).to_bits()
            };
            half_crate_mismatches += u32::from(via_half != want);
        }
    }
    // Informational: how often plain `half::f16::from_f64` would have been wrong.
    println!("half::f16::from_f64 mismatches: {half_crate_mismatches} / 400000");
}

#[test]
fn random_products_near_the_subnormal_boundary() {
    // Concentrate on results around 2^-14, where the reference's clamp band lives.
    let mut rng = XorShift(0x1234_5678_9ABC_DEF1);
    for _ in 0..100_000 {
        let r = rng.next();
        let a = 0x0200 + (r as u16 & 0x03FF); // subnormals and the first normals
        let b = 0x3800 + ((r >> 16) as u16 & 0x07FF); // [0.5, 2)
        let exact = f16_to_f64(a) * f16_to_f64(b);
        assert_eq!(fp16::fmul(a, b), oracle(exact), "a={a:#06x} b={b:#06x}");
    }
}

/// The binary32 implementation against the binary64 one (itself checked against the
/// oracle above) for every `a` and every 1021st `b`, both ways round.
#[test]
fn strided_pairs_match_binary64_oracle() {
    for a in 0..=u16::MAX {
        for b in (0..=u16::MAX).step_by(1021) {
            check_pair(a, b);
            check_pair(b, a);
        }
    }
}

/// Every pair (2^32 × 4 operations): `cargo test --release -p hsx-vm --test f16 -- --ignored`.
#[test]
#[ignore = "exhaustive, minutes in release mode"]
fn every_pair_matches_binary64() {
    for a in 0..=u16::MAX {
        for b in 0..=u16::MAX {
            check_pair(a, b);
        }
    }
}

fn check_pair(a: u16, b: u16) {
    let (fa, fb) = (f16_to_f64(a), f16_to_f64(b));
    let fb_div = if fb == 0.0 { f64::INFINITY } else { fb };
    assert_eq!(
        fp16::fadd(a, b),
        f16_from_f64(fa + fb),
        "fadd {a:#06x} {b:#06x}"
    );
    assert_eq!(
        fp16::fsub(a, b),
        f16_from_f64(fa - fb),
        "fsub {a:#06x} {b:#06x}"
    );
    assert_eq!(
        fp16::fmul(a, b),
        f16_from_f64(fa * fb),
        "fmul {a:#06x} {b:#06x}"
    );
    assert_eq!(
        fp16::fdiv(a, b),
        f16_from_f64(fa / fb_div),
        "fdiv {a:#06x} {b:#06x}"
    );
}

#[test]
fn fixed_point_decoding_is_exact() {
    for h in 0..=u16::MAX {
        let x = f16_to_f64(h);
        match fp16::f16_fixed(h) {
            Some(n) => assert_eq!(n as f64, x * 2f64.powi(24), "{h:#06x}"),
            None => assert!(!x.is_finite(), "{h:#06x}"),
        }
    }
}
