//! ISA extension EXT1 (header `isa_ext` bit 0): condition codes and the encoders/decoders of
//! the EXT1 words whose operands do not fit the base field layout (20-bit branch offsets,
//! 24-bit call offsets, condition codes).
//!
//! | Op | Form | Semantics |
//! |---|---|---|
//! | 0x18 | `DIVU Rd, Ra, Rb` | unsigned divide; B = 0 → DIV_ZERO; Z N, C = V = 0 |
//! | 0x19 | `ADDI Rd, Ra, imm12` | `Rd = Ra + sext12(imm)`; flags untouched |
//! | 0x26 | `B<cc> label` | cond = bits 23..20, `sext20(bits 19..0)` words from this instruction |
//! | 0x27 | `JR Rs` | `pc = Rs` |
//! | 0x28 | `CALLR Rs` | push `pc + 4` like CALL, `pc = Rs` |
//! | 0x29 | `CALLL label` | like CALL, target `pc + sext24(bits 23..0) × 4`, not masked |
//! | 0x2A | `SET<cc> Rd` | `Rd = cond ? 1 : 0`, cond = imm bits 3..0 |
//! | 0x2B | `ADJSP imm12` | `sp += sext12(imm) × 4` with PUSH/POP stack checks |
//!
//! Condition 15 is not assigned: `B`/`SET` with it are illegal instructions.

use super::Opcode;

/// `isa_ext` bit of EXT1 (`Image::isa_ext`, [`crate::TaskConfig::isa_ext`]).
pub const ISA_EXT1: u32 = 1;
/// Every `isa_ext` bit this VM implements. An executive refuses images that need others.
pub const ISA_EXT_SUPPORTED: u32 = ISA_EXT1;

/// Smallest `B<cc>` word offset (−2^19).
pub const BCC_MIN_WORDS: i32 = -(1 << 19);
/// Largest `B<cc>` word offset (2^19 − 1).
pub const BCC_MAX_WORDS: i32 = (1 << 19) - 1;
/// Smallest `CALLL` word offset (−2^23).
pub const CALLL_MIN_WORDS: i32 = -(1 << 23);
/// Largest `CALLL` word offset (2^23 − 1).
pub const CALLL_MAX_WORDS: i32 = (1 << 23) - 1;

macro_rules! conds {
    ($( $name:ident = $val:literal, $suffix:literal, $b:literal, $set:literal, $doc:literal; )*) => {
        /// An EXT1 condition code, evaluated on the PSW as left by `CMP a, b` (`a − b`;
        /// C = "no borrow" = `a ≥ b` unsigned).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Cond {
            $(
                #[doc = $doc]
                $name = $val,
            )*
        }

        impl Cond {
            /// Every condition, in numeric order (0..=14).
            pub const ALL: [Cond; 15] = [$(Cond::$name),*];

            /// The condition with this 4-bit code; `None` for 15 (illegal) and above.
            #[inline]
            pub const fn from_bits(v: u8) -> Option<Cond> {
                match v {
                    $($val => Some(Cond::$name),)*
                    _ => None,
                }
            }

            /// Upper-case suffix (`AL`, `EQ`, … `VC`).
            pub const fn suffix(self) -> &'static str {
                match self {
                    $(Cond::$name => $suffix,)*
                }
            }

            /// The branch mnemonic (`B` for AL, `BEQ`, … `BVC`).
            pub const fn branch_mnemonic(self) -> &'static str {
                match self {
                    $(Cond::$name => $b,)*
                }
            }

            /// The set mnemonic (`SETAL`, `SETEQ`, … `SETVC`).
            pub const fn set_mnemonic(self) -> &'static str {
                match self {
                    $(Cond::$name => $set,)*
                }
            }
        }
    };
}

conds! {
    Al = 0, "AL", "B", "SETAL", "Always.";
    Eq = 1, "EQ", "BEQ", "SETEQ", "Equal: Z.";
    Ne = 2, "NE", "BNE", "SETNE", "Not equal: !Z.";
    Lt = 3, "LT", "BLT", "SETLT", "Signed less: N ≠ V.";
    Ge = 4, "GE", "BGE", "SETGE", "Signed greater or equal: N = V.";
    Gt = 5, "GT", "BGT", "SETGT", "Signed greater: !Z ∧ N = V.";
    Le = 6, "LE", "BLE", "SETLE", "Signed less or equal: Z ∨ N ≠ V.";
    Ltu = 7, "LTU", "BLTU", "SETLTU", "Unsigned less: !C.";
    Geu = 8, "GEU", "BGEU", "SETGEU", "Unsigned greater or equal: C.";
    Gtu = 9, "GTU", "BGTU", "SETGTU", "Unsigned greater: C ∧ !Z.";
    Leu = 10, "LEU", "BLEU", "SETLEU", "Unsigned less or equal: !C ∨ Z.";
    Mi = 11, "MI", "BMI", "SETMI", "Minus: N.";
    Pl = 12, "PL", "BPL", "SETPL", "Plus: !N.";
    Vs = 13, "VS", "BVS", "SETVS", "Overflow: V.";
    Vc = 14, "VC", "BVC", "SETVC", "No overflow: !V.";
}

/// Evaluate condition code `cond` (0..=15) on the four flags; `None` for 15 (illegal).
/// The interpreter keeps the flags in separate booleans, hence this form.
#[inline(always)]
pub const fn eval_cond(cond: u32, z: bool, c: bool, n: bool, v: bool) -> Option<bool> {
    Some(match cond & 15 {
        0 => true,
        1 => z,
        2 => !z,
        3 => n != v,
        4 => n == v,
        5 => !z && n == v,
        6 => z || n != v,
        7 => !c,
        8 => c,
        9 => c && !z,
        10 => !c || z,
        11 => n,
        12 => !n,
        13 => v,
        14 => !v,
        _ => return None,
    })
}

impl Cond {
    /// Whether the condition holds for a PSW byte (Z = bit 0, C = 1, N = 2, V = 3).
    pub const fn holds(self, psw: u8) -> bool {
        matches!(
            eval_cond(
                self as u32,
                psw & 1 != 0,
                psw & 2 != 0,
                psw & 4 != 0,
                psw & 8 != 0
            ),
            Some(true)
        )
    }

    /// Look up a suffix case-insensitively (`"eq"` → `Eq`).
    pub fn from_suffix(s: &str) -> Option<Cond> {
        Cond::ALL
            .iter()
            .copied()
            .find(|c| c.suffix().eq_ignore_ascii_case(s))
    }
}

/// Sign-extend a 20-bit field.
#[inline]
pub const fn sext20(v: u32) -> i32 {
    ((v << 12) as i32) >> 12
}

/// Sign-extend a 24-bit field.
#[inline]
pub const fn sext24(v: u32) -> i32 {
    ((v << 8) as i32) >> 8
}

/// `B<cc>` word with `word_offset` words from the branch itself; `None` when the offset is
/// outside [`BCC_MIN_WORDS`]..=[`BCC_MAX_WORDS`].
pub const fn encode_bcc(cond: Cond, word_offset: i32) -> Option<u32> {
    if word_offset < BCC_MIN_WORDS || word_offset > BCC_MAX_WORDS {
        return None;
    }
    Some(((Opcode::Bcc as u32) << 24) | ((cond as u32) << 20) | (word_offset as u32 & 0xF_FFFF))
}

/// Condition field (bits 23..20) of a `B<cc>` word (15 = illegal).
#[inline]
pub const fn bcc_cond(word: u32) -> u8 {
    ((word >> 20) & 15) as u8
}

/// Signed word offset (bits 19..0) of a `B<cc>` word.
#[inline]
pub const fn bcc_offset(word: u32) -> i32 {
    sext20(word & 0xF_FFFF)
}

/// `CALLL` word with `word_offset` words from the call itself; `None` when the offset is
/// outside [`CALLL_MIN_WORDS`]..=[`CALLL_MAX_WORDS`].
pub const fn encode_calll(word_offset: i32) -> Option<u32> {
    if word_offset < CALLL_MIN_WORDS || word_offset > CALLL_MAX_WORDS {
        return None;
    }
    Some(((Opcode::Calll as u32) << 24) | (word_offset as u32 & 0xFF_FFFF))
}

/// Signed word offset (bits 23..0) of a `CALLL` word.
#[inline]
pub const fn calll_offset(word: u32) -> i32 {
    sext24(word & 0xFF_FFFF)
}

/// Target of a PC-relative EXT1 transfer at `pc`: `pc + word_offset × 4`, wrapping at 2^32
/// (no 16-bit mask, unlike CALL).
#[inline]
pub const fn rel_target(pc: u32, word_offset: i32) -> u32 {
    pc.wrapping_add((word_offset as u32).wrapping_mul(4))
}

/// Word offset from an instruction at `from` to `to` for `B<cc>`/`CALLL`; `None` when the
/// distance is not a whole number of words.
pub const fn word_offset(from: u32, to: u32) -> Option<i64> {
    let d = to as i64 - from as i64;
    if d % 4 != 0 { None } else { Some(d / 4) }
}

/// `JR Rs`.
pub const fn encode_jr(rs: u8) -> u32 {
    ((Opcode::Jr as u32) << 24) | ((rs as u32 & 15) << 16)
}

/// `CALLR Rs`.
pub const fn encode_callr(rs: u8) -> u32 {
    ((Opcode::Callr as u32) << 24) | ((rs as u32 & 15) << 16)
}

/// `SET<cc> Rd` (condition in imm bits 3..0).
pub const fn encode_setcc(cond: Cond, rd: u8) -> u32 {
    ((Opcode::Setcc as u32) << 24) | ((rd as u32 & 15) << 20) | cond as u32
}

/// `ADDI Rd, Ra, imm`; `None` unless −2048 ≤ imm ≤ 2047.
pub const fn encode_addi(rd: u8, ra: u8, imm: i32) -> Option<u32> {
    if imm < -2048 || imm > 2047 {
        return None;
    }
    Some(
        ((Opcode::Addi as u32) << 24)
            | ((rd as u32 & 15) << 20)
            | ((ra as u32 & 15) << 16)
            | (imm as u32 & 0xFFF),
    )
}

/// `ADJSP words` (sp += words × 4); `None` unless −2048 ≤ words ≤ 2047.
pub const fn encode_adjsp(words: i32) -> Option<u32> {
    if words < -2048 || words > 2047 {
        return None;
    }
    Some(((Opcode::Adjsp as u32) << 24) | (words as u32 & 0xFFF))
}

/// `DIVU Rd, Ra, Rb`.
pub const fn encode_divu(rd: u8, ra: u8, rb: u8) -> u32 {
    ((Opcode::Divu as u32) << 24)
        | ((rd as u32 & 15) << 20)
        | ((ra as u32 & 15) << 16)
        | ((rb as u32 & 15) << 12)
}
