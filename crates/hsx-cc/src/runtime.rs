//! MiniVM routines the translated code calls: 64-bit multiply and shifts, bit counts, bulk
//! memory, and the stdout writer used by WASI `fd_write` and the `hsx_svc` FS_WRITE import.
//! Each follows the translator's calling convention (arguments R1.., result R0/R1, every
//! register but R7 clobbered) and is leaf-like: no frame.

use crate::emit::{Cc, Code, op};

/// A runtime routine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rt {
    /// i64 × i64.
    Mul64,
    /// i64 << n.
    Shl64,
    /// i64 >> n (arithmetic).
    ShrS64,
    /// i64 >> n (logical).
    ShrU64,
    /// i64 rotate left.
    Rotl64,
    /// i64 rotate right.
    Rotr64,
    /// i64 leading zeros.
    Clz64,
    /// i64 trailing zeros.
    Ctz64,
    /// i64 population count.
    Popcnt64,
    /// i32 rotate left.
    Rotl32,
    /// i32 rotate right.
    Rotr32,
    /// i32 leading zeros.
    Clz32,
    /// i32 trailing zeros.
    Ctz32,
    /// i32 population count.
    Popcnt32,
    /// `memory.copy` (overlap-safe).
    MemCopy,
    /// `memory.fill`.
    MemFill,
    /// Write R3 bytes at R2 to fd R1 in mailbox-sized chunks, retrying a full stdout.
    Write,
}

/// Bytes per FS_WRITE: a stdio mailbox holds 64 bytes including an 8-byte header.
pub const WRITE_CHUNK: u32 = 48;
/// Retries (1 ms sleeps) of a stdio write that made no progress before giving up.
pub const WRITE_RETRIES: u32 = 1000;

/// Routines a routine calls itself.
pub fn deps(rt: Rt) -> &'static [Rt] {
    match rt {
        Rt::Ctz32 | Rt::Clz64 => &[Rt::Clz32],
        Rt::Ctz64 => &[Rt::Ctz32],
        Rt::Popcnt64 => &[Rt::Popcnt32],
        Rt::Rotr64 => &[Rt::Rotl64],
        _ => &[],
    }
}

/// Emit routine `rt` at the current address. `labels` gives the entry of every routine.
pub fn emit(c: &mut Code, rt: Rt, label: impl Fn(Rt) -> crate::emit::Label) {
    use op::*;
    match rt {
        Rt::Mul64 => {
            c.rrr(MUL, 5, 1, 4);
            c.rrr(MUL, 6, 2, 3);
            c.rrr(ADD, 5, 5, 6);
            c.rrr(MUL, 0, 1, 3);
            c.li(8, 0xFFFF);
            c.li(9, 16);
            c.rrr(AND, 10, 1, 8);
            c.rrr(LSR, 11, 1, 9);
            c.rrr(AND, 12, 3, 8);
            c.rrr(LSR, 13, 3, 9);
            c.rrr(MUL, 2, 10, 12);
            c.rrr(MUL, 3, 10, 13);
            c.rrr(MUL, 4, 11, 12);
            c.rrr(MUL, 6, 11, 13);
            c.rrr(LSR, 2, 2, 9);
            c.rrr(AND, 10, 3, 8);
            c.rrr(ADD, 2, 2, 10);
            c.rrr(AND, 10, 4, 8);
            c.rrr(ADD, 2, 2, 10);
            c.rrr(LSR, 3, 3, 9);
            c.rrr(ADD, 6, 6, 3);
            c.rrr(LSR, 4, 4, 9);
            c.rrr(ADD, 6, 6, 4);
            c.rrr(LSR, 2, 2, 9);
            c.rrr(ADD, 6, 6, 2);
            c.rrr(ADD, 1, 6, 5);
            c.ret();
        }
        Rt::Shl64 | Rt::ShrU64 | Rt::ShrS64 => {
            let zero = c.label();
            let big = c.label();
            c.li(4, 63);
            c.rrr(AND, 3, 3, 4);
            c.b(Cc::Eq, zero);
            c.li(4, 32);
            c.cmp(3, 4);
            c.b(Cc::Geu, big);
            c.rrr(SUB, 5, 4, 3);
            if rt == Rt::Shl64 {
                c.rrr(LSR, 5, 1, 5);
                c.rrr(LSL, 0, 1, 3);
                c.rrr(LSL, 2, 2, 3);
                c.rrr(OR, 1, 2, 5);
            } else {
                let hi = if rt == Rt::ShrS64 { ASR } else { LSR };
                c.rrr(LSL, 5, 2, 5);
                c.rrr(LSR, 0, 1, 3);
                c.rrr(OR, 0, 0, 5);
                c.rrr(hi, 1, 2, 3);
            }
            c.ret();
            c.bind(big);
            c.rrr(SUB, 3, 3, 4);
            match rt {
                Rt::Shl64 => {
                    c.rrr(LSL, 1, 1, 3);
                    c.li(0, 0);
                }
                Rt::ShrU64 => {
                    c.rrr(LSR, 0, 2, 3);
                    c.li(1, 0);
                }
                _ => {
                    c.rrr(ASR, 0, 2, 3);
                    c.li(6, 31);
                    c.rrr(ASR, 1, 2, 6);
                }
            }
            c.ret();
            c.bind(zero);
            c.mov(0, 1);
            c.mov(1, 2);
            c.ret();
        }
        Rt::Rotl64 => {
            let noswap = c.label();
            let zero = c.label();
            c.li(4, 63);
            c.rrr(AND, 3, 3, 4);
            c.li(4, 32);
            c.cmp(3, 4);
            c.b(Cc::Ltu, noswap);
            c.mov(5, 1);
            c.mov(1, 2);
            c.mov(2, 5);
            c.rrr(SUB, 3, 3, 4);
            c.bind(noswap);
            c.test(3);
            c.b(Cc::Eq, zero);
            c.rrr(SUB, 5, 4, 3);
            c.rrr(LSL, 0, 1, 3);
            c.rrr(LSR, 6, 2, 5);
            c.rrr(OR, 0, 0, 6);
            c.rrr(LSL, 8, 2, 3);
            c.rrr(LSR, 6, 1, 5);
            c.rrr(OR, 1, 8, 6);
            c.ret();
            c.bind(zero);
            c.mov(0, 1);
            c.mov(1, 2);
            c.ret();
        }
        Rt::Rotr64 => {
            c.li(4, 63);
            c.rrr(AND, 3, 3, 4);
            c.li(4, 64);
            c.rrr(SUB, 3, 4, 3);
            c.b(Cc::Al, label(Rt::Rotl64));
        }
        Rt::Rotl32 | Rt::Rotr32 => {
            let (first, second) = if rt == Rt::Rotl32 {
                (LSL, LSR)
            } else {
                (LSR, LSL)
            };
            c.li(4, 31);
            c.rrr(AND, 2, 2, 4);
            c.li(4, 32);
            c.rrr(SUB, 4, 4, 2);
            c.rrr(first, 0, 1, 2);
            c.rrr(second, 5, 1, 4);
            c.rrr(OR, 0, 0, 5);
            c.ret();
        }
        Rt::Clz32 => {
            let is_zero = c.label();
            let done = c.label();
            c.test(1);
            c.b(Cc::Eq, is_zero);
            c.li(0, 0);
            for (probe, step) in [(16, 16), (24, 8), (28, 4), (30, 2)] {
                let next = c.label();
                c.li(4, probe);
                c.rrr(LSR, 5, 1, 4);
                c.test(5);
                c.b(Cc::Ne, next);
                c.addi(0, 0, step);
                c.li(4, step as u32);
                c.rrr(LSL, 1, 1, 4);
                c.bind(next);
            }
            c.li(4, 31);
            c.rrr(LSR, 5, 1, 4);
            c.test(5);
            c.b(Cc::Ne, done);
            c.addi(0, 0, 1);
            c.bind(done);
            c.ret();
            c.bind(is_zero);
            c.li(0, 32);
            c.ret();
        }
        Rt::Ctz32 => {
            let is_zero = c.label();
            c.test(1);
            c.b(Cc::Eq, is_zero);
            c.li(2, 0);
            c.rrr(SUB, 2, 2, 1);
            c.rrr(AND, 1, 1, 2);
            c.call(label(Rt::Clz32));
            c.li(1, 31);
            c.rrr(SUB, 0, 1, 0);
            c.ret();
            c.bind(is_zero);
            c.li(0, 32);
            c.ret();
        }
        Rt::Popcnt32 => {
            c.li(4, 1);
            c.rrr(LSR, 2, 1, 4);
            c.li(3, 0x5555_5555);
            c.rrr(AND, 2, 2, 3);
            c.rrr(SUB, 1, 1, 2);
            c.li(3, 0x3333_3333);
            c.rrr(AND, 2, 1, 3);
            c.li(4, 2);
            c.rrr(LSR, 1, 1, 4);
            c.rrr(AND, 1, 1, 3);
            c.rrr(ADD, 1, 1, 2);
            c.li(4, 4);
            c.rrr(LSR, 2, 1, 4);
            c.rrr(ADD, 1, 1, 2);
            c.li(3, 0x0F0F_0F0F);
            c.rrr(AND, 1, 1, 3);
            c.li(3, 0x0101_0101);
            c.rrr(MUL, 1, 1, 3);
            c.li(4, 24);
            c.rrr(LSR, 0, 1, 4);
            c.ret();
        }
        Rt::Clz64 => {
            let low = c.label();
            c.test(2);
            c.b(Cc::Eq, low);
            c.mov(1, 2);
            c.call(label(Rt::Clz32));
            c.li(1, 0);
            c.ret();
            c.bind(low);
            c.call(label(Rt::Clz32));
            c.addi(0, 0, 32);
            c.li(1, 0);
            c.ret();
        }
        Rt::Ctz64 => {
            let high = c.label();
            c.test(1);
            c.b(Cc::Eq, high);
            c.call(label(Rt::Ctz32));
            c.li(1, 0);
            c.ret();
            c.bind(high);
            c.mov(1, 2);
            c.call(label(Rt::Ctz32));
            c.addi(0, 0, 32);
            c.li(1, 0);
            c.ret();
        }
        Rt::Popcnt64 => {
            c.mov(8, 2);
            c.call(label(Rt::Popcnt32));
            c.mov(9, 0);
            c.mov(1, 8);
            c.call(label(Rt::Popcnt32));
            c.rrr(ADD, 0, 0, 9);
            c.li(1, 0);
            c.ret();
        }
        Rt::MemCopy => {
            let done = c.label();
            let back = c.label();
            let fwd = c.label();
            let bloop = c.label();
            c.test(3);
            c.b(Cc::Eq, done);
            c.cmp(1, 2);
            c.b(Cc::Gtu, back);
            c.bind(fwd);
            c.mem(LDB, 4, 2, 0);
            c.mem(STB, 4, 1, 0);
            c.addi(1, 1, 1);
            c.addi(2, 2, 1);
            c.addi(3, 3, -1);
            c.test(3);
            c.b(Cc::Ne, fwd);
            c.ret();
            c.bind(back);
            c.rrr(ADD, 1, 1, 3);
            c.rrr(ADD, 2, 2, 3);
            c.bind(bloop);
            c.addi(1, 1, -1);
            c.addi(2, 2, -1);
            c.mem(LDB, 4, 2, 0);
            c.mem(STB, 4, 1, 0);
            c.addi(3, 3, -1);
            c.test(3);
            c.b(Cc::Ne, bloop);
            c.bind(done);
            c.ret();
        }
        Rt::MemFill => {
            let done = c.label();
            let lp = c.label();
            c.test(3);
            c.b(Cc::Eq, done);
            c.bind(lp);
            c.mem(STB, 2, 1, 0);
            c.addi(1, 1, 1);
            c.addi(3, 3, -1);
            c.test(3);
            c.b(Cc::Ne, lp);
            c.bind(done);
            c.ret();
        }
        Rt::Write => {
            // R8 fd, R9 cursor, R10 remaining, R11 total asked, R13 retries left.
            let lp = c.label();
            let full = c.label();
            let stall = c.label();
            let done = c.label();
            let give_up = c.label();
            c.mov(8, 1);
            c.mov(9, 2);
            c.mov(10, 3);
            c.mov(11, 3);
            c.li(13, WRITE_RETRIES);
            c.bind(lp);
            c.test(10);
            c.b(Cc::Eq, done);
            c.li(12, WRITE_CHUNK);
            c.cmp(10, 12);
            c.b(Cc::Geu, full);
            c.mov(12, 10);
            c.bind(full);
            c.mov(1, 8);
            c.mov(2, 9);
            c.mov(3, 12);
            c.svc(4, 2);
            c.test(0);
            c.b(Cc::Eq, stall);
            c.rrr(ADD, 9, 9, 0);
            c.rrr(SUB, 10, 10, 0);
            c.b(Cc::Al, lp);
            // No progress: only stdio can be full; wait a millisecond and retry a bounded
            // number of times (a file that takes nothing never will).
            c.bind(stall);
            c.li(12, 3);
            c.cmp(8, 12);
            c.b(Cc::Geu, give_up);
            c.test(13);
            c.b(Cc::Eq, give_up);
            c.addi(13, 13, -1);
            c.li(0, 1);
            c.svc(6, 0);
            c.b(Cc::Al, lp);
            c.bind(give_up);
            c.rrr(SUB, 0, 11, 10);
            c.ret();
            c.bind(done);
            c.mov(0, 11);
            c.ret();
        }
    }
}
