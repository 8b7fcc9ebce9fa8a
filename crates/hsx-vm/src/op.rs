//! The pre-decoded instruction form: one [`Op`] per code word, built once when the code is
//! loaded ([`decode_ops`]), so the desktop interpreter loop does no field extraction, no
//! sign extension and no per-fetch alignment check.
//!
//! Everything the fast loop does not handle itself — illegal opcodes, a `JMP` to an
//! unaligned address, an `LDI32` whose value word is missing, any fault — is left to the
//! plain decoder for that one instruction, so the semantics are exactly the plain
//! interpreter's by construction (see `exec_fast`).

use crate::isa::{bcc_cond, bcc_offset, calll_offset, rel_target, sext12};

/// What an [`Op`] does. `#[repr(u8)]` and dense, so the dispatch `match` is one jump table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(crate) enum K {
    /// Executed by the plain decoder (illegal, rare or unrepresentable forms).
    Slow,
    Ldi,
    Ld,
    St,
    Mov,
    Ldb,
    Ldh,
    Stb,
    Sth,
    Add,
    Sub,
    Mul,
    Div,
    And,
    Or,
    Xor,
    Not,
    Cmp,
    /// `CMP` followed by `JZ` (counts as two instructions).
    CmpJz,
    /// `CMP` followed by `JNZ`.
    CmpJnz,
    /// `SUB` followed by `JZ` (the base ISA's counted loop).
    SubJz,
    /// `SUB` followed by `JNZ`.
    SubJnz,
    Jmp,
    Jz,
    Jnz,
    /// `CALL` with `rs1 == 0`: the target is static.
    Call,
    /// `CALL` with a base register: target = (base + imm) & 0xFFFF.
    CallBase,
    Ret,
    Svc,
    Lsl,
    Lsr,
    Asr,
    Adc,
    Sbc,
    Push,
    Pop,
    Fadd,
    Fsub,
    Fmul,
    Fdiv,
    I2f,
    F2i,
    Ldi32,
    Brk,
    Divu,
    Addi,
    Bcc,
    Jr,
    Callr,
    Calll,
    Setcc,
    Adjsp,
}

/// One pre-decoded instruction word: the operation, register numbers (always < 16) and an
/// immediate already in its final form (sign-extended value, byte offset, or absolute,
/// word-aligned target address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Op {
    pub(crate) k: K,
    pub(crate) d: u8,
    pub(crate) a: u8,
    pub(crate) b: u8,
    pub(crate) imm: u32,
}

impl Default for Op {
    /// An op the plain decoder executes.
    fn default() -> Op {
        Op::SLOW
    }
}

impl Op {
    const SLOW: Op = Op::new(K::Slow, 0, 0, 0, 0);

    const fn new(k: K, d: u8, a: u8, b: u8, imm: u32) -> Op {
        Op { k, d, a, b, imm }
    }
}

/// An absolute jump target the fast loop can take: word-aligned.
const fn aligned(target: u32) -> bool {
    target & 3 == 0
}

/// Decode the word at index `i` of `words` (at code address `4 × i`).
pub(crate) fn decode_op(words: &[u32], i: usize) -> Op {
    let Some(&w) = words.get(i) else {
        return Op::SLOW;
    };
    let pc = (i as u32).wrapping_mul(4);
    let d = ((w >> 20) & 15) as u8;
    let a = ((w >> 16) & 15) as u8;
    let b = ((w >> 12) & 15) as u8;
    let imm = sext12((w & 0xFFF) as u16) as u32;
    let op = |k: K| Op::new(k, d, a, b, imm);
    let jump = |k: K| {
        let t = w & 0xFFF;
        if aligned(t) {
            Op::new(k, d, a, b, t)
        } else {
            Op::SLOW
        }
    };
    // Fuse with a following JZ/JNZ whose target the fast loop can take (imm = the target).
    let fuse = |alone: K, jz: K, jnz: K| {
        let next = words.get(i + 1).copied().unwrap_or(0);
        let t = next & 0xFFF;
        match (next >> 24) as u8 {
            0x22 if aligned(t) => Op::new(jz, d, a, b, t),
            0x23 if aligned(t) => Op::new(jnz, d, a, b, t),
            _ => op(alone),
        }
    };
    match (w >> 24) as u8 {
        0x01 => op(K::Ldi),
        0x02 => op(K::Ld),
        0x03 => op(K::St),
        0x04 => op(K::Mov),
        0x06 => op(K::Ldb),
        0x07 => op(K::Ldh),
        0x08 => op(K::Stb),
        0x09 => op(K::Sth),
        0x10 => op(K::Add),
        0x11 => fuse(K::Sub, K::SubJz, K::SubJnz),
        0x12 => op(K::Mul),
        0x13 => op(K::Div),
        0x14 => op(K::And),
        0x15 => op(K::Or),
        0x16 => op(K::Xor),
        0x17 => op(K::Not),
        0x20 => fuse(K::Cmp, K::CmpJz, K::CmpJnz),
        0x21 => jump(K::Jmp),
        0x22 => jump(K::Jz),
        0x23 => jump(K::Jnz),
        0x24 if a == 0 => Op::new(K::Call, d, a, b, pc.wrapping_add(imm << 2) & 0xFFFF),
        0x24 => Op::new(K::CallBase, d, a, b, imm << 2),
        0x25 => op(K::Ret),
        0x30 => Op::new(K::Svc, d, a, b, w & 0xFFF),
        0x31 => op(K::Lsl),
        0x32 => op(K::Lsr),
        0x33 => op(K::Asr),
        0x34 => op(K::Adc),
        0x35 => op(K::Sbc),
        0x40 => op(K::Push),
        0x41 => op(K::Pop),
        0x50 => op(K::Fadd),
        0x51 => op(K::Fsub),
        0x52 => op(K::Fmul),
        0x53 => op(K::Fdiv),
        0x54 => op(K::I2f),
        0x55 => op(K::F2i),
        0x60 => match words.get(i + 1) {
            Some(&v) => Op::new(K::Ldi32, d, a, b, v),
            None => Op::SLOW,
        },
        0x7F => Op::new(K::Brk, d, a, b, w & 0xFF),
        // EXT1: the fast loop checks the task's extension bits before executing these.
        0x18 => op(K::Divu),
        0x19 => op(K::Addi),
        0x26 if bcc_cond(w) != 15 => Op::new(K::Bcc, d, a, b, rel_target(pc, bcc_offset(w))),
        0x27 => op(K::Jr),
        0x28 => op(K::Callr),
        0x29 => Op::new(K::Calll, d, a, b, rel_target(pc, calll_offset(w))),
        0x2A if w & 15 != 15 => Op::new(K::Setcc, d, a, (w & 15) as u8, imm),
        0x2B => op(K::Adjsp),
        _ => Op::SLOW,
    }
}

/// Decode every word of `words` into `out` (at most `out.len()` of them; give it one slot
/// per word). Any [`crate::code::Code`] whose `decoded()` returns such a slice runs on the
/// pre-decoded loop.
pub fn decode_ops(words: &[u32], out: &mut [Op]) {
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = decode_op(words, i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{Instr, Opcode};

    #[test]
    fn targets_and_fusion() {
        let w = [
            Instr::new(Opcode::Cmp, 0, 1, 2, 0).encode(),
            Instr::new(Opcode::Jnz, 0, 0, 0, 0x10).encode(),
            Instr::new(Opcode::Jz, 0, 0, 0, 0x11).encode(),
            Instr::new(Opcode::Call, 0, 0, 0, -1).encode(),
            Instr::new(Opcode::Ldi32, 3, 0, 0, 0).encode(),
        ];
        assert_eq!(decode_op(&w, 0), Op::new(K::CmpJnz, 0, 1, 2, 0x10));
        assert_eq!(decode_op(&w, 1).k, K::Jnz);
        assert_eq!(decode_op(&w, 2), Op::SLOW, "unaligned JZ target");
        assert_eq!(decode_op(&w, 3).imm, 8);
        assert_eq!(decode_op(&w, 4), Op::SLOW, "LDI32 without its value word");
        assert_eq!(decode_op(&w, 5), Op::SLOW);
    }
}
