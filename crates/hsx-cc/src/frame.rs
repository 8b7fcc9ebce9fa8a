//! Where a function's values live: the operand-stack model, local homes and frame slots.
//!
//! Operand-stack word position `p` lives in register `R1 + p` for `p < 6` and in a frame slot
//! otherwise, so every control-flow merge finds a value where the other path left it without
//! any bookkeeping. Locals live in registers `R8..R12` or in frame slots. `R0`, `R13` and
//! `R14` are scratch, `R7` is the frame pointer, `R15` mirrors SP.

use crate::emit::{Code, FP, R, fits12, op};
use crate::error::CcError;
use crate::module::Ty;

/// Operand-stack positions held in registers.
pub const POS_REGS: u32 = 6;
/// Registers that can hold locals.
pub const LOCAL_REGS: [R; 5] = [8, 9, 10, 11, 12];
/// Scratch registers.
pub const T0: R = 0;
/// Scratch register (first operand).
pub const T1: R = 13;
/// Scratch register (second operand).
pub const T2: R = 14;

/// Where one word lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// In a register.
    Reg(R),
    /// In memory at `[FP + off]`.
    Mem(i32),
}

/// An operand-stack entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// Its type.
    pub ty: Ty,
    /// Word position of its first word.
    pub pos: u32,
    /// A constant not yet written to its position.
    pub konst: Option<u64>,
    /// A register-homed local read lazily: the value is still in the local's registers.
    pub local: Option<u32>,
}

impl Entry {
    /// Word `w` of the constant.
    pub fn const_word(&self, w: u32) -> Option<u32> {
        self.konst.map(|v| (v >> (32 * w)) as u32)
    }
}

/// A local variable's homes (one per word).
#[derive(Debug, Clone)]
pub struct Local {
    /// Its type.
    pub ty: Ty,
    /// Home of each word.
    pub home: [Loc; 2],
}

/// Frame bookkeeping of the function being translated.
#[derive(Default)]
pub struct Frame {
    /// Slots allocated so far (slot `k` is at `[FP − 4(k+1)]`).
    pub slots: u32,
    /// Slot of each operand-stack position, allocated on first use.
    pos_slots: Vec<Option<u32>>,
    /// Most outgoing stack-argument words of any call.
    pub max_out: u32,
}

impl Frame {
    /// A new slot.
    pub fn alloc(&mut self) -> u32 {
        self.slots += 1;
        self.slots - 1
    }

    /// The FP offset of slot `k`.
    pub fn slot_off(k: u32) -> i32 {
        -4 * (k as i32 + 1)
    }

    /// The slot of position `p` (positions in registers get one too, used around calls).
    pub fn pos_slot(&mut self, p: u32) -> u32 {
        let p = p as usize;
        if self.pos_slots.len() <= p {
            self.pos_slots.resize(p + 1, None);
        }
        if let Some(s) = self.pos_slots[p] {
            return s;
        }
        let s = self.alloc();
        self.pos_slots[p] = Some(s);
        s
    }

    /// Where position `p` lives.
    pub fn loc(&mut self, p: u32) -> Loc {
        if p < POS_REGS {
            Loc::Reg(1 + p as R)
        } else {
            Loc::Mem(Self::slot_off(self.pos_slot(p)))
        }
    }

    /// Frame size in words (slots plus outgoing arguments).
    pub fn words(&self) -> u32 {
        self.slots + self.max_out
    }
}

/// Load the word at `[FP + off]` into `r`.
pub fn load_fp(c: &mut Code, r: R, off: i32) -> Result<(), CcError> {
    if !fits12(off as i64) {
        return Err(CcError::TooLarge("function frame larger than 2 KiB".into()));
    }
    c.mem(op::LD, r, FP, off);
    Ok(())
}

/// Store `r` to `[FP + off]`.
pub fn store_fp(c: &mut Code, r: R, off: i32) -> Result<(), CcError> {
    if !fits12(off as i64) {
        return Err(CcError::TooLarge("function frame larger than 2 KiB".into()));
    }
    c.mem(op::ST, r, FP, off);
    Ok(())
}

/// Copy one word between locations, through `T0` when both are in memory.
pub fn move_word(c: &mut Code, dst: Loc, src: Loc) -> Result<(), CcError> {
    match (dst, src) {
        (Loc::Reg(d), Loc::Reg(s)) => c.mov(d, s),
        (Loc::Reg(d), Loc::Mem(o)) => load_fp(c, d, o)?,
        (Loc::Mem(o), Loc::Reg(s)) => store_fp(c, s, o)?,
        (Loc::Mem(d), Loc::Mem(s)) => {
            if d != s {
                load_fp(c, T0, s)?;
                store_fp(c, T0, d)?;
            }
        }
    }
    Ok(())
}

/// Write constant `v` to a location.
pub fn set_word(c: &mut Code, dst: Loc, v: u32) -> Result<(), CcError> {
    match dst {
        Loc::Reg(d) => c.li(d, v),
        Loc::Mem(o) => {
            c.li(T0, v);
            store_fp(c, T0, o)?;
        }
    }
    Ok(())
}
