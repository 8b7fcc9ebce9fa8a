//! Trace records: what the last instruction executed while tracing changed and which data
//! access it made.

use crate::reg::Reg;

/// Direction of a traced data access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessKind {
    /// LD, LDB, LDH.
    Read,
    /// ST, STB, STH.
    Write,
}

/// A data access made by an LD*/ST* instruction (stack operations are not recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemAccess {
    /// Read or write.
    pub kind: AccessKind,
    /// Effective address (already wrapped to 16 bits).
    pub addr: u32,
    /// 1, 2 or 4 bytes.
    pub width: u8,
    /// Value read (zero-extended) or written (masked to the width).
    pub value: u32,
}

/// What the last executed instruction did; maintained only while tracing is enabled for
/// the task ([`crate::Task::set_trace`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceState {
    /// Address of the instruction.
    pub pc: u32,
    /// Its instruction word.
    pub word: u32,
    /// The second word of an `LDI32`.
    pub word2: Option<u32>,
    /// Bit `Reg::index()` set for every register (incl. PC, SP, PSW) whose value differs
    /// after the instruction.
    pub changed: u32,
    /// The LD*/ST* data access, if any.
    pub mem: Option<MemAccess>,
}

impl TraceState {
    /// Whether `r` changed.
    #[inline]
    pub const fn reg_changed(&self, r: Reg) -> bool {
        self.changed & (1 << r as u32) != 0
    }
}
