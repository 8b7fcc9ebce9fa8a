//! Instruction encoding and a code buffer with labels and fix-ups. Words are kept as `u32`
//! and written big-endian at the end (`vm.md` §1.1).

use crate::error::CcError;

/// A MiniVM register number (0..15).
pub type R = u8;

/// The frame pointer (the debugger's unwinder expects `[R7] = caller R7, [R7+4] = return pc`).
pub const FP: R = 7;
/// Mirror of SP after every stack operation; translated code never writes it.
pub const SP: R = 15;

/// EXT1 condition codes (flags as CMP a, b leaves them): the VM's own table.
pub use hsx_vm::isa::Cond as Cc;

/// The condition that holds exactly when `cc` does not (`Al` has no opposite and stays).
pub fn invert(cc: Cc) -> Cc {
    match cc {
        Cc::Al => Cc::Al,
        Cc::Eq => Cc::Ne,
        Cc::Ne => Cc::Eq,
        Cc::Lt => Cc::Ge,
        Cc::Ge => Cc::Lt,
        Cc::Gt => Cc::Le,
        Cc::Le => Cc::Gt,
        Cc::Ltu => Cc::Geu,
        Cc::Geu => Cc::Ltu,
        Cc::Gtu => Cc::Leu,
        Cc::Leu => Cc::Gtu,
        Cc::Mi => Cc::Pl,
        Cc::Pl => Cc::Mi,
        Cc::Vs => Cc::Vc,
        Cc::Vc => Cc::Vs,
    }
}

/// A code label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Label(pub u32);

#[derive(Debug, Clone, Copy)]
enum Fix {
    /// `B<cc>`: 20-bit word offset from the branch itself.
    Branch,
    /// `CALLL`: 24-bit word offset from the call itself.
    Call,
    /// The second word of an `LDI32`: the label's absolute byte address.
    Abs,
}

/// Opcodes used by the translator, from the VM's opcode table.
#[allow(missing_docs)]
pub mod op {
    use hsx_vm::isa::Opcode;

    pub const LDI: u32 = Opcode::Ldi as u32;
    pub const LD: u32 = Opcode::Ld as u32;
    pub const ST: u32 = Opcode::St as u32;
    pub const MOV: u32 = Opcode::Mov as u32;
    pub const LDB: u32 = Opcode::Ldb as u32;
    pub const LDH: u32 = Opcode::Ldh as u32;
    pub const STB: u32 = Opcode::Stb as u32;
    pub const STH: u32 = Opcode::Sth as u32;
    pub const ADD: u32 = Opcode::Add as u32;
    pub const SUB: u32 = Opcode::Sub as u32;
    pub const MUL: u32 = Opcode::Mul as u32;
    pub const DIV: u32 = Opcode::Div as u32;
    pub const AND: u32 = Opcode::And as u32;
    pub const OR: u32 = Opcode::Or as u32;
    pub const XOR: u32 = Opcode::Xor as u32;
    pub const NOT: u32 = Opcode::Not as u32;
    pub const DIVU: u32 = Opcode::Divu as u32;
    pub const ADDI: u32 = Opcode::Addi as u32;
    pub const CMP: u32 = Opcode::Cmp as u32;
    pub const RET: u32 = Opcode::Ret as u32;
    pub const B: u32 = Opcode::Bcc as u32;
    pub const JR: u32 = Opcode::Jr as u32;
    pub const CALLR: u32 = Opcode::Callr as u32;
    pub const CALLL: u32 = Opcode::Calll as u32;
    pub const SET: u32 = Opcode::Setcc as u32;
    pub const ADJSP: u32 = Opcode::Adjsp as u32;
    pub const SVC: u32 = Opcode::Svc as u32;
    pub const LSL: u32 = Opcode::Lsl as u32;
    pub const LSR: u32 = Opcode::Lsr as u32;
    pub const ASR: u32 = Opcode::Asr as u32;
    pub const ADC: u32 = Opcode::Adc as u32;
    pub const SBC: u32 = Opcode::Sbc as u32;
    pub const PUSH: u32 = Opcode::Push as u32;
    pub const POP: u32 = Opcode::Pop as u32;
    pub const LDI32: u32 = Opcode::Ldi32 as u32;
}

/// Whether [`Code::li`] needs a flag-setting instruction for `v`.
pub fn li_changes_flags(v: u32) -> bool {
    !fits12(v as i32 as i64) && v >> 24 == 0x7F
}

/// Whether `v` fits a signed 12-bit immediate.
pub fn fits12(v: i64) -> bool {
    (-2048..=2047).contains(&v)
}

const fn word(op: u32, rd: R, rs1: R, rs2: R, imm: u32) -> u32 {
    (op << 24) | ((rd as u32) << 20) | ((rs1 as u32) << 16) | ((rs2 as u32) << 12) | (imm & 0xFFF)
}

/// The code of a whole program, with labels resolved at [`Code::finish`].
#[derive(Default)]
pub struct Code {
    words: Vec<u32>,
    labels: Vec<Option<u32>>,
    fixups: Vec<(usize, Label, Fix)>,
}

impl Code {
    /// A fresh label.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() as u32 - 1)
    }

    /// Bind `l` to the current address.
    pub fn bind(&mut self, l: Label) {
        self.labels[l.0 as usize] = Some(self.here());
    }

    /// Byte address of the next word.
    pub fn here(&self) -> u32 {
        (self.words.len() * 4) as u32
    }

    /// Address a bound label got (after binding).
    pub fn addr(&self, l: Label) -> Option<u32> {
        self.labels[l.0 as usize]
    }

    fn push(&mut self, w: u32) {
        self.words.push(w);
    }

    /// Overwrite the word at byte address `at`.
    pub fn patch(&mut self, at: u32, w: u32) {
        self.words[(at / 4) as usize] = w;
    }

    /// Emit a three-register instruction.
    pub fn rrr(&mut self, op: u32, rd: R, ra: R, rb: R) {
        self.push(word(op, rd, ra, rb, 0));
    }

    /// `MOV rd, rs` unless they are the same register.
    pub fn mov(&mut self, rd: R, rs: R) {
        if rd != rs {
            self.push(word(op::MOV, rd, rs, 0, 0));
        }
    }

    /// Load a 32-bit constant with the shortest form. Leaves the flags alone, except for
    /// values whose top byte is 0x7F (see [`li_changes_flags`]).
    pub fn li(&mut self, rd: R, v: u32) {
        if fits12(v as i32 as i64) {
            self.push(word(op::LDI, rd, 0, 0, v));
        } else if li_changes_flags(v) {
            // A literal word starting 0x7F reads as BRK to the executive's code scan, which
            // then keeps the task off its run-ahead fast path: load the complement instead.
            self.push(word(op::LDI32, rd, 0, 0, 0));
            self.push(!v);
            self.push(word(op::NOT, rd, rd, 0, 0));
        } else {
            self.push(word(op::LDI32, rd, 0, 0, 0));
            self.push(v);
        }
    }

    /// `LDI32 rd, <address of l>`.
    pub fn la(&mut self, rd: R, l: Label) {
        self.push(word(op::LDI32, rd, 0, 0, 0));
        self.fixups.push((self.words.len(), l, Fix::Abs));
        self.push(0);
    }

    /// Memory access `op rd, [rb + off]` (`off` must fit 12 bits; see [`fits12`]).
    pub fn mem(&mut self, op: u32, r: R, base: R, off: i32) {
        debug_assert!(fits12(off as i64));
        if op == self::op::ST || op == self::op::STB || op == self::op::STH {
            self.push(word(op, 0, base, r, off as u32));
        } else {
            self.push(word(op, r, base, 0, off as u32));
        }
    }

    /// `ADDI rd, ra, imm` (imm must fit 12 bits).
    pub fn addi(&mut self, rd: R, ra: R, imm: i32) {
        debug_assert!(fits12(imm as i64));
        self.push(word(op::ADDI, rd, ra, 0, imm as u32));
    }

    /// `CMP ra, rb`.
    pub fn cmp(&mut self, ra: R, rb: R) {
        self.push(word(op::CMP, 0, ra, rb, 0));
    }

    /// Set Z/N from `r` without changing it.
    pub fn test(&mut self, r: R) {
        self.push(word(op::OR, r, r, r, 0));
    }

    /// `SET<cc> rd`.
    pub fn set(&mut self, cc: Cc, rd: R) {
        self.push(word(op::SET, rd, 0, 0, cc as u32));
    }

    /// `B<cc> l`.
    pub fn b(&mut self, cc: Cc, l: Label) {
        self.fixups.push((self.words.len(), l, Fix::Branch));
        self.push(word(op::B, cc as u8, 0, 0, 0));
    }

    /// `CALLL l`.
    pub fn call(&mut self, l: Label) {
        self.fixups.push((self.words.len(), l, Fix::Call));
        self.push(op::CALLL << 24);
    }

    /// `CALLR r`.
    pub fn callr(&mut self, r: R) {
        self.push(word(op::CALLR, 0, r, 0, 0));
    }

    /// `JR r`.
    pub fn jr(&mut self, r: R) {
        self.push(word(op::JR, 0, r, 0, 0));
    }

    /// `SVC mod, fn`.
    pub fn svc(&mut self, module: u8, func: u8) {
        self.push(word(
            op::SVC,
            0,
            0,
            0,
            (u32::from(module) << 8) | u32::from(func),
        ));
    }

    /// `PUSH r`.
    pub fn push_r(&mut self, r: R) {
        self.push(word(op::PUSH, 0, r, 0, 0));
    }

    /// `POP r`.
    pub fn pop_r(&mut self, r: R) {
        self.push(word(op::POP, r, 0, 0, 0));
    }

    /// `RET`.
    pub fn ret(&mut self) {
        self.push(op::RET << 24);
    }

    /// `ADJSP words` (placeholder value allowed; patch with [`Code::adjsp_word`]).
    pub fn adjsp(&mut self, words: i32) {
        self.push(Self::adjsp_word(words));
    }

    /// The encoding of `ADJSP words`.
    pub fn adjsp_word(words: i32) -> u32 {
        word(op::ADJSP, 0, 0, 0, words as u32)
    }

    /// A word no MiniVM executes: the task stops with an illegal-instruction fault here.
    pub fn trap(&mut self) {
        self.push(0xFF00_0000);
    }

    /// Resolve every fix-up and return the code bytes (big-endian words).
    pub fn finish(mut self) -> Result<Vec<u8>, CcError> {
        for &(at, l, fix) in &self.fixups {
            let target = self.labels[l.0 as usize]
                .ok_or_else(|| CcError::Internal(format!("label {} never bound", l.0)))?;
            let from = (at * 4) as i64;
            let w = &mut self.words[at];
            match fix {
                Fix::Abs => *w = target,
                Fix::Branch => {
                    let off = (i64::from(target) - from) / 4;
                    if !(-(1 << 19)..(1 << 19)).contains(&off) {
                        return Err(CcError::TooLarge("branch out of range".into()));
                    }
                    *w |= (off as u32) & 0xF_FFFF;
                }
                Fix::Call => {
                    let off = (i64::from(target) - from) / 4;
                    *w |= (off as u32) & 0xFF_FFFF;
                }
            }
        }
        Ok(self.words.iter().flat_map(|w| w.to_be_bytes()).collect())
    }

    /// Number of words so far.
    pub fn len_words(&self) -> usize {
        self.words.len()
    }
}
