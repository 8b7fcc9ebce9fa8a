//! The register names the host sees (R0..R15, PC, SP, PSW) and the PSW flag bits.

use core::fmt;

/// PSW zero flag (bit 0).
pub const FLAG_Z: u8 = 0x01;
/// PSW carry / "no borrow" flag (bit 1).
pub const FLAG_C: u8 = 0x02;
/// PSW negative flag (bit 2).
pub const FLAG_N: u8 = 0x04;
/// PSW signed-overflow flag (bit 3).
pub const FLAG_V: u8 = 0x08;

/// A register visible through [`crate::Task::reg_get`] /
/// [`crate::Task::reg_set`]. `index()` is 0..15 for
/// R0..R15 (the protocol's register ids), 16 = PC, 17 = SP, 18 = PSW; the same numbering is
/// used for the bits of [`crate::TraceState::changed`].
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Reg {
    R0,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    R7,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R14,
    R15,
    Pc,
    Sp,
    Psw,
}

impl Reg {
    /// Every register, in index order.
    pub const ALL: [Reg; 19] = [
        Reg::R0,
        Reg::R1,
        Reg::R2,
        Reg::R3,
        Reg::R4,
        Reg::R5,
        Reg::R6,
        Reg::R7,
        Reg::R8,
        Reg::R9,
        Reg::R10,
        Reg::R11,
        Reg::R12,
        Reg::R13,
        Reg::R14,
        Reg::R15,
        Reg::Pc,
        Reg::Sp,
        Reg::Psw,
    ];

    /// General-purpose register `R(n & 15)`.
    pub const fn gpr(n: u8) -> Reg {
        Reg::ALL[(n & 15) as usize]
    }

    /// Register by index (0..=18), `None` otherwise.
    pub const fn from_index(i: u8) -> Option<Reg> {
        if (i as usize) < Reg::ALL.len() {
            Some(Reg::ALL[i as usize])
        } else {
            None
        }
    }

    /// Index 0..=18 (see the type docs).
    pub const fn index(self) -> u8 {
        self as u8
    }

    /// Name as shown to users: `R0`..`R15`, `PC`, `SP`, `PSW`.
    pub const fn name(self) -> &'static str {
        const NAMES: [&str; 19] = [
            "R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11", "R12", "R13",
            "R14", "R15", "PC", "SP", "PSW",
        ];
        NAMES[self as usize]
    }

    /// Parse a register name case-insensitively (`r3`, `PC`, `sp`, `psw`, also `flags`).
    pub fn from_name(s: &str) -> Option<Reg> {
        if s.eq_ignore_ascii_case("flags") {
            return Some(Reg::Psw);
        }
        Reg::ALL
            .iter()
            .copied()
            .find(|r| r.name().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
