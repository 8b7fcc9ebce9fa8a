//! The MiniVM instruction set: opcode table, instruction word layout, encode/decode and the
//! text form used by disassemblers (`vm.md` §1.1-§1.3, §1.8).
//!
//! This table is the single source of truth for every crate that handles instruction words
//! (VM, assembler, disassembler, debugger). It includes the opcodes of ISA extensions
//! ([`Opcode::isa_ext`] says which; [`ext1`] describes EXT1): [`Instr::decode`] accepts them,
//! [`Instr::decode_ext`] only when the image declares the extension, which is what the VM
//! executes.

use core::fmt;

pub mod ext1;
pub use ext1::{
    BCC_MAX_WORDS, BCC_MIN_WORDS, CALLL_MAX_WORDS, CALLL_MIN_WORDS, Cond, ISA_EXT_SUPPORTED,
    ISA_EXT1, bcc_cond, bcc_offset, calll_offset, encode_addi, encode_adjsp, encode_bcc,
    encode_calll, encode_callr, encode_divu, encode_jr, encode_setcc, eval_cond, rel_target,
    sext20, sext24, word_offset,
};

/// How an instruction's operands are written in MVASM, and therefore which fields it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `LDI Rd, imm12` (signed immediate).
    RdImm,
    /// `LD Rd, [Rb+off]` (rd, rs1 = base, signed imm).
    Load,
    /// `ST [Rb+off], Rs` (rs1 = base, rs2 = data, signed imm).
    Store,
    /// `MOV Rd, Rs` (rd, rs1).
    RdRs,
    /// `ADD Rd, Ra, Rb` (rd, rs1, rs2).
    RdRaRb,
    /// `CMP Ra, Rb` (rs1, rs2).
    RaRb,
    /// `JMP target` (absolute byte address in `imm_raw`).
    Jump,
    /// `CALL target` (signed PC-relative word offset in `imm`; optional base in rs1).
    Call,
    /// No operands (`RET`).
    None,
    /// `SVC mod, fn` (`imm_raw` = mod << 8 | fn).
    Svc,
    /// `PUSH Rs` (rs1).
    Push,
    /// `POP Rd` (rd).
    Pop,
    /// `LDI32 Rd, imm32` (second word holds the value).
    RdImm32,
    /// `BRK [code]` (code = low 8 bits of `imm_raw`).
    Brk,
    /// EXT1 `ADDI Rd, Ra, imm12` (rd, rs1, signed imm).
    RdRaImm,
    /// EXT1 `B<cc> target` (cond in bits 23..20, signed 20-bit word offset in bits 19..0).
    Branch,
    /// EXT1 `CALLL target` (signed 24-bit word offset in bits 23..0).
    CallLong,
    /// EXT1 `JR Rs` / `CALLR Rs` (rs1).
    JumpReg,
    /// EXT1 `SET<cc> Rd` (rd, cond in imm bits 3..0).
    SetCond,
    /// EXT1 `ADJSP imm12` (signed word count in imm).
    StackAdj,
}

macro_rules! opcodes {
    ($( $name:ident = $val:literal, $mn:literal, $form:ident; )*) => {
        /// A MiniVM opcode (the top 8 bits of an instruction word).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Opcode {
            $(
                #[doc = concat!("`", $mn, "`")]
                $name = $val,
            )*
        }

        /// Every opcode, in numeric order.
        pub const ALL_OPCODES: &[Opcode] = &[$(Opcode::$name),*];

        impl Opcode {
            /// Decode an opcode byte; `None` for an unassigned (illegal) value.
            #[inline]
            pub const fn from_u8(v: u8) -> Option<Opcode> {
                match v {
                    $($val => Some(Opcode::$name),)*
                    _ => None,
                }
            }

            /// Upper-case mnemonic as written in MVASM. For the conditional EXT1 opcodes
            /// this is the stem (`B`, `SET`); [`Instr::mnemonic`] adds the condition.
            pub const fn mnemonic(self) -> &'static str {
                match self {
                    $(Opcode::$name => $mn,)*
                }
            }

            /// Operand form of this opcode.
            pub const fn form(self) -> Form {
                match self {
                    $(Opcode::$name => Form::$form,)*
                }
            }
        }
    };
}

opcodes! {
    Ldi = 0x01, "LDI", RdImm;
    Ld = 0x02, "LD", Load;
    St = 0x03, "ST", Store;
    Mov = 0x04, "MOV", RdRs;
    Ldb = 0x06, "LDB", Load;
    Ldh = 0x07, "LDH", Load;
    Stb = 0x08, "STB", Store;
    Sth = 0x09, "STH", Store;
    Add = 0x10, "ADD", RdRaRb;
    Sub = 0x11, "SUB", RdRaRb;
    Mul = 0x12, "MUL", RdRaRb;
    Div = 0x13, "DIV", RdRaRb;
    And = 0x14, "AND", RdRaRb;
    Or = 0x15, "OR", RdRaRb;
    Xor = 0x16, "XOR", RdRaRb;
    Not = 0x17, "NOT", RdRs;
    Divu = 0x18, "DIVU", RdRaRb; // EXT1
    Addi = 0x19, "ADDI", RdRaImm; // EXT1
    Cmp = 0x20, "CMP", RaRb;
    Jmp = 0x21, "JMP", Jump;
    Jz = 0x22, "JZ", Jump;
    Jnz = 0x23, "JNZ", Jump;
    Call = 0x24, "CALL", Call;
    Ret = 0x25, "RET", None;
    Bcc = 0x26, "B", Branch; // EXT1
    Jr = 0x27, "JR", JumpReg; // EXT1
    Callr = 0x28, "CALLR", JumpReg; // EXT1
    Calll = 0x29, "CALLL", CallLong; // EXT1
    Setcc = 0x2A, "SET", SetCond; // EXT1
    Adjsp = 0x2B, "ADJSP", StackAdj; // EXT1
    Svc = 0x30, "SVC", Svc;
    Lsl = 0x31, "LSL", RdRaRb;
    Lsr = 0x32, "LSR", RdRaRb;
    Asr = 0x33, "ASR", RdRaRb;
    Adc = 0x34, "ADC", RdRaRb;
    Sbc = 0x35, "SBC", RdRaRb;
    Push = 0x40, "PUSH", Push;
    Pop = 0x41, "POP", Pop;
    Fadd = 0x50, "FADD", RdRaRb;
    Fsub = 0x51, "FSUB", RdRaRb;
    Fmul = 0x52, "FMUL", RdRaRb;
    Fdiv = 0x53, "FDIV", RdRaRb;
    I2f = 0x54, "I2F", RdRs;
    F2i = 0x55, "F2I", RdRs;
    Ldi32 = 0x60, "LDI32", RdImm32;
    Brk = 0x7F, "BRK", Brk;
}

impl Opcode {
    /// Look up a mnemonic, case-insensitively. Conditional EXT1 mnemonics (`B`, `BAL`,
    /// `BEQ`…, `SETEQ`…) map to [`Opcode::Bcc`] / [`Opcode::Setcc`]; see
    /// [`lookup_mnemonic`] for the condition.
    pub fn from_mnemonic(s: &str) -> Option<Opcode> {
        lookup_mnemonic(s).map(|(op, _)| op)
    }

    /// The `isa_ext` bits an image must declare for this opcode to execute (0 = base ISA).
    pub const fn isa_ext(self) -> u32 {
        match self {
            Opcode::Divu
            | Opcode::Addi
            | Opcode::Bcc
            | Opcode::Jr
            | Opcode::Callr
            | Opcode::Calll
            | Opcode::Setcc
            | Opcode::Adjsp => ISA_EXT1,
            _ => 0,
        }
    }

    /// Whether this opcode is a subroutine call (pushes a return address): CALL, CALLR,
    /// CALLL. Debuggers step over these.
    pub const fn is_call(self) -> bool {
        matches!(self, Opcode::Call | Opcode::Callr | Opcode::Calll)
    }

    /// Size in bytes of an instruction with this opcode (8 for `LDI32`, else 4).
    pub const fn size(self) -> u32 {
        match self {
            Opcode::Ldi32 => 8,
            _ => 4,
        }
    }
}

/// The fields of one instruction word (`vm.md` §1.1). Unused fields are kept as decoded so
/// that `encode(decode(w)) == w` for every legal word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instr {
    /// The opcode.
    pub op: Opcode,
    /// Destination register (bits 23..20).
    pub rd: u8,
    /// First source / base register (bits 19..16).
    pub rs1: u8,
    /// Second source / store-data register (bits 15..12).
    pub rs2: u8,
    /// The raw 12-bit immediate (bits 11..0), 0..4095.
    pub imm_raw: u16,
}

/// Look up a mnemonic case-insensitively, with the condition of `B<cc>` / `SET<cc>`
/// (`B` and `BAL` are both [`Cond::Al`]; a bare `SET` is not a mnemonic).
pub fn lookup_mnemonic(s: &str) -> Option<(Opcode, Option<Cond>)> {
    if let Some(op) = ALL_OPCODES
        .iter()
        .copied()
        .find(|op| *op != Opcode::Setcc && op.mnemonic().eq_ignore_ascii_case(s))
    {
        let cond = (op == Opcode::Bcc).then_some(Cond::Al);
        return Some((op, cond));
    }
    let has = |p: &str| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if has("SET") {
        return Cond::from_suffix(s.get(3..)?).map(|c| (Opcode::Setcc, Some(c)));
    }
    if has("B") {
        return Cond::from_suffix(s.get(1..)?).map(|c| (Opcode::Bcc, Some(c)));
    }
    None
}

/// A word whose opcode byte is not assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalOpcode(pub u8);

impl fmt::Display for IllegalOpcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "illegal opcode 0x{:02X}", self.0)
    }
}

/// Sign-extend a 12-bit field.
#[inline]
pub const fn sext12(v: u16) -> i32 {
    ((v as i32) << 20) >> 20
}

impl Instr {
    /// Build an instruction from fields; registers are masked to 4 bits, the immediate to
    /// 12 bits (negative values are stored in two's complement).
    pub const fn new(op: Opcode, rd: u8, rs1: u8, rs2: u8, imm: i32) -> Instr {
        Instr {
            op,
            rd: rd & 0xF,
            rs1: rs1 & 0xF,
            rs2: rs2 & 0xF,
            imm_raw: (imm as u32 & 0xFFF) as u16,
        }
    }

    /// Decode one instruction word, accepting the opcodes of every ISA extension (use
    /// [`Instr::decode_ext`] to decode as a task without them would execute). `B<cc>` and
    /// `SET<cc>` with condition 15 are illegal.
    #[inline]
    pub const fn decode(word: u32) -> Result<Instr, IllegalOpcode> {
        let opb = (word >> 24) as u8;
        match Opcode::from_u8(opb) {
            Some(Opcode::Bcc) if bcc_cond(word) == 15 => Err(IllegalOpcode(opb)),
            Some(Opcode::Setcc) if word & 15 == 15 => Err(IllegalOpcode(opb)),
            Some(op) => Ok(Instr {
                op,
                rd: ((word >> 20) & 0xF) as u8,
                rs1: ((word >> 16) & 0xF) as u8,
                rs2: ((word >> 12) & 0xF) as u8,
                imm_raw: (word & 0xFFF) as u16,
            }),
            None => Err(IllegalOpcode(opb)),
        }
    }

    /// Decode one instruction word as the VM executes it for a task with extension bits
    /// `isa_ext`: opcodes of extensions not in `isa_ext` are illegal.
    #[inline]
    pub const fn decode_ext(word: u32, isa_ext: u32) -> Result<Instr, IllegalOpcode> {
        match Instr::decode(word) {
            Ok(i) if i.op.isa_ext() & !isa_ext != 0 => Err(IllegalOpcode(i.op as u8)),
            r => r,
        }
    }

    /// Encode to the instruction word.
    #[inline]
    pub const fn encode(&self) -> u32 {
        ((self.op as u32) << 24)
            | ((self.rd as u32 & 0xF) << 20)
            | ((self.rs1 as u32 & 0xF) << 16)
            | ((self.rs2 as u32 & 0xF) << 12)
            | (self.imm_raw as u32 & 0xFFF)
    }

    /// The sign-extended immediate (−2048..2047).
    #[inline]
    pub const fn imm(&self) -> i32 {
        sext12(self.imm_raw)
    }

    /// SVC module number (bits 11..8 of the immediate).
    pub const fn svc_module(&self) -> u8 {
        (self.imm_raw >> 8) as u8 & 0xF
    }

    /// SVC function number (bits 7..0 of the immediate).
    pub const fn svc_function(&self) -> u8 {
        (self.imm_raw & 0xFF) as u8
    }

    /// The condition of `B<cc>` (rd field) or `SET<cc>` (imm bits 3..0); `None` for
    /// other opcodes.
    pub const fn cond(&self) -> Option<Cond> {
        match self.op {
            Opcode::Bcc => Cond::from_bits(self.rd),
            Opcode::Setcc => Cond::from_bits((self.imm_raw & 15) as u8),
            _ => None,
        }
    }

    /// Full mnemonic: the table's, with the condition for `B<cc>` / `SET<cc>` (`BEQ`,
    /// `SETLTU`; `B` for an unconditional branch).
    pub const fn mnemonic(&self) -> &'static str {
        match (self.op, self.cond()) {
            (Opcode::Bcc, Some(c)) => c.branch_mnemonic(),
            (Opcode::Setcc, Some(c)) => c.set_mnemonic(),
            (op, _) => op.mnemonic(),
        }
    }

    /// Signed word offset of a PC-relative transfer: the 20-bit field of `B<cc>`, the
    /// 24-bit field of `CALLL`, the 12-bit immediate otherwise.
    pub const fn word_offset(&self) -> i32 {
        match self.op {
            Opcode::Bcc => bcc_offset(self.encode()),
            Opcode::Calll => calll_offset(self.encode()),
            _ => self.imm(),
        }
    }

    /// Statically known control-flow target of this instruction when it sits at `pc`:
    /// the absolute address for `JMP`/`JZ`/`JNZ`, the PC-relative target of a `CALL` with
    /// `rs1 == 0` (masked to 16 bits), of `B<cc>` and `CALLL` (wrapping at 2^32, not
    /// masked). `None` for everything else (`JR`/`CALLR` targets are dynamic).
    pub const fn branch_target(&self, pc: u32) -> Option<u32> {
        match self.op {
            Opcode::Jmp | Opcode::Jz | Opcode::Jnz => Some(self.imm_raw as u32),
            Opcode::Call if self.rs1 == 0 => {
                Some((pc as i64 + self.imm() as i64 * 4) as u32 & 0xFFFF)
            }
            Opcode::Bcc | Opcode::Calll => Some(rel_target(pc, self.word_offset())),
            _ => None,
        }
    }

    /// A value that formats the instruction in MVASM syntax. `imm32` is the second word of
    /// an `LDI32` (ignored for other opcodes); `pc` is the instruction's address, used to
    /// show CALL targets as absolute addresses in a trailing comment-free form.
    pub const fn display(&self, pc: u32, imm32: Option<u32>) -> InstrDisplay {
        InstrDisplay {
            instr: *self,
            pc,
            imm32,
        }
    }
}

/// MVASM text form of an instruction, re-assemblable by `hsx asm` (see [`Instr::display`]).
#[derive(Debug, Clone, Copy)]
pub struct InstrDisplay {
    instr: Instr,
    pc: u32,
    imm32: Option<u32>,
}

impl fmt::Display for InstrDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.instr;
        let mn = i.mnemonic();
        match i.op.form() {
            Form::RdImm => write!(f, "{mn} R{}, {}", i.rd, i.imm()),
            Form::Load => write!(f, "{mn} R{}, [R{}+{}]", i.rd, i.rs1, i.imm()),
            Form::Store => write!(f, "{mn} [R{}+{}], R{}", i.rs1, i.imm(), i.rs2),
            Form::RdRs => write!(f, "{mn} R{}, R{}", i.rd, i.rs1),
            Form::RdRaRb => write!(f, "{mn} R{}, R{}, R{}", i.rd, i.rs1, i.rs2),
            Form::RaRb => write!(f, "{mn} R{}, R{}", i.rs1, i.rs2),
            Form::Jump => write!(f, "{mn} 0x{:03X}", i.imm_raw),
            Form::Call => {
                // Numeric CALL operands are word offsets; show the offset (re-assemblable)
                // followed by the absolute target as a comment.
                match i.branch_target(self.pc) {
                    Some(t) => write!(f, "{mn} {} ; -> 0x{:04X}", i.imm(), t),
                    None => write!(f, "{mn} {} ; base R{}", i.imm(), i.rs1),
                }
            }
            Form::None => f.write_str(mn),
            Form::Svc => write!(f, "{mn} 0x{:X}, 0x{:02X}", i.svc_module(), i.svc_function()),
            Form::Push => write!(f, "{mn} R{}", i.rs1),
            Form::Pop => write!(f, "{mn} R{}", i.rd),
            Form::RdImm32 => match self.imm32 {
                Some(v) => write!(f, "{mn} R{}, 0x{:08X}", i.rd, v),
                None => write!(f, "{mn} R{}, <missing>", i.rd),
            },
            Form::Brk => {
                if i.imm_raw & 0xFF == 0 {
                    f.write_str(mn)
                } else {
                    write!(f, "{mn} {}", i.imm_raw & 0xFF)
                }
            }
            Form::RdRaImm => write!(f, "{mn} R{}, R{}, {}", i.rd, i.rs1, i.imm()),
            // Like CALL: the word offset (re-assemblable), then the target as a comment.
            Form::Branch | Form::CallLong => write!(
                f,
                "{mn} {} ; -> 0x{:04X}",
                i.word_offset(),
                rel_target(self.pc, i.word_offset())
            ),
            Form::JumpReg => write!(f, "{mn} R{}", i.rs1),
            Form::SetCond => write!(f, "{mn} R{}", i.rd),
            Form::StackAdj => write!(f, "{mn} {}", i.imm()),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::{String, ToString};

    #[test]
    fn table_has_38_base_and_8_ext1_opcodes_with_unique_values_and_names() {
        assert_eq!(ALL_OPCODES.len(), 46);
        let ext1 = ALL_OPCODES
            .iter()
            .filter(|o| o.isa_ext() == ISA_EXT1)
            .count();
        assert_eq!(ext1, 8);
        assert!(ALL_OPCODES.windows(2).all(|w| (w[0] as u8) < (w[1] as u8)));
        for (i, a) in ALL_OPCODES.iter().enumerate() {
            for b in &ALL_OPCODES[i + 1..] {
                assert_ne!(a.mnemonic(), b.mnemonic());
            }
            assert_eq!(Opcode::from_u8(*a as u8), Some(*a));
            // `SET` is only a stem: SETcc needs its condition.
            let want = (*a != Opcode::Setcc).then_some(*a);
            assert_eq!(
                Opcode::from_mnemonic(&a.mnemonic().to_ascii_lowercase()),
                want
            );
        }
    }

    #[test]
    fn conditional_mnemonics() {
        assert_eq!(lookup_mnemonic("b"), Some((Opcode::Bcc, Some(Cond::Al))));
        assert_eq!(lookup_mnemonic("BAL"), Some((Opcode::Bcc, Some(Cond::Al))));
        assert_eq!(
            lookup_mnemonic("bLtU"),
            Some((Opcode::Bcc, Some(Cond::Ltu)))
        );
        assert_eq!(
            lookup_mnemonic("SETal"),
            Some((Opcode::Setcc, Some(Cond::Al)))
        );
        assert_eq!(
            lookup_mnemonic("setvc"),
            Some((Opcode::Setcc, Some(Cond::Vc)))
        );
        assert_eq!(lookup_mnemonic("BRK"), Some((Opcode::Brk, None)));
        assert_eq!(lookup_mnemonic("CALLL"), Some((Opcode::Calll, None)));
        for bad in ["SET", "BXX", "SETNV", "BEQQ", "", "B€"] {
            assert_eq!(lookup_mnemonic(bad), None, "{bad}");
        }
        for c in Cond::ALL {
            assert_eq!(
                lookup_mnemonic(c.branch_mnemonic()),
                Some((Opcode::Bcc, Some(c)))
            );
            assert_eq!(
                lookup_mnemonic(c.set_mnemonic()),
                Some((Opcode::Setcc, Some(c)))
            );
        }
    }

    #[test]
    fn unassigned_values_are_illegal() {
        let legal: usize = (0..=255u8)
            .filter(|v| Opcode::from_u8(*v).is_some())
            .count();
        assert_eq!(legal, 46);
        assert_eq!(Instr::decode(0), Err(IllegalOpcode(0)));
        assert_eq!(Instr::decode(0x0500_0000), Err(IllegalOpcode(5)));
        // Without EXT1, its opcodes are as illegal as before.
        for op in ALL_OPCODES {
            let w = Instr::new(*op, 1, 2, 3, 4).encode();
            let base = Instr::decode_ext(w, 0);
            assert_eq!(base.is_err(), op.isa_ext() != 0, "{op:?}");
            assert!(Instr::decode_ext(w, ISA_EXT1).is_ok(), "{op:?}");
        }
        // Condition 15 is illegal for B<cc> and SET<cc>.
        assert_eq!(Instr::decode(0x26F0_0000), Err(IllegalOpcode(0x26)));
        assert_eq!(Instr::decode(0x2A10_000F), Err(IllegalOpcode(0x2A)));
        assert!(Instr::decode(0x2A10_00FE).is_ok());
    }

    #[test]
    fn encoding_table_vm_md_1_8() {
        use Opcode::*;
        let cases = [
            (Instr::new(Ldi, 1, 0, 0, 5), 0x0110_0005),
            (Instr::new(Ldi, 1, 0, 0, -1), 0x0110_0FFF),
            (Instr::new(Ldi32, 9, 0, 0, 0), 0x6090_0000),
            (Instr::new(Ld, 1, 2, 0, -4), 0x0212_0FFC),
            (Instr::new(St, 0, 2, 3, 8), 0x0302_3008),
            (Instr::new(Add, 2, 1, 1, 0), 0x1021_1000),
            (Instr::new(Cmp, 0, 1, 2, 0), 0x2001_2000),
            (Instr::new(Push, 0, 3, 0, 0), 0x4003_0000),
            (Instr::new(Pop, 4, 0, 0, 0), 0x4140_0000),
            (Instr::new(Call, 0, 0, 0, -1), 0x2400_0FFF),
            (Instr::new(Svc, 0, 0, 0, 0x502), 0x3000_0502),
            (Instr::new(Brk, 0, 0, 0, 0), 0x7F00_0000),
            (Instr::new(Brk, 0, 0, 0, 5), 0x7F00_0005),
            (Instr::new(Ret, 0, 0, 0, 0), 0x2500_0000),
        ];
        for (ins, word) in cases {
            assert_eq!(ins.encode(), word, "{ins:?}");
            assert_eq!(Instr::decode(word), Ok(ins));
        }
    }

    #[test]
    fn immediates_signed_and_unsigned_views() {
        let i = Instr::decode(0x2100_0A10).unwrap();
        assert_eq!(i.imm_raw, 0xA10);
        assert_eq!(i.branch_target(0), Some(0xA10));
        let i = Instr::decode(0x0110_0800).unwrap();
        assert_eq!(i.imm(), -2048);
        let call = Instr::decode(0x2400_0FFF).unwrap();
        assert_eq!(call.branch_target(8), Some(4));
    }

    #[test]
    fn svc_fields() {
        let i = Instr::decode(0x3000_0502).unwrap();
        assert_eq!((i.svc_module(), i.svc_function()), (5, 2));
    }
    fn text(word: u32, pc: u32, imm32: Option<u32>) -> String {
        Instr::decode(word).unwrap().display(pc, imm32).to_string()
    }

    #[test]
    fn text_form_of_every_opcode() {
        use Opcode::*;
        let cases: &[(Opcode, u8, u8, u8, i32, &str)] = &[
            (Ldi, 1, 0, 0, -1, "LDI R1, -1"),
            (Ld, 1, 2, 0, -4, "LD R1, [R2+-4]"),
            (St, 0, 2, 3, 8, "ST [R2+8], R3"),
            (Mov, 4, 5, 0, 0, "MOV R4, R5"),
            (Ldb, 6, 7, 0, 2047, "LDB R6, [R7+2047]"),
            (Ldh, 8, 9, 0, -2048, "LDH R8, [R9+-2048]"),
            (Stb, 0, 10, 11, 0, "STB [R10+0], R11"),
            (Sth, 0, 12, 13, 1, "STH [R12+1], R13"),
            (Add, 2, 1, 1, 0, "ADD R2, R1, R1"),
            (Sub, 3, 4, 5, 0, "SUB R3, R4, R5"),
            (Mul, 6, 7, 8, 0, "MUL R6, R7, R8"),
            (Div, 9, 10, 11, 0, "DIV R9, R10, R11"),
            (And, 12, 13, 14, 0, "AND R12, R13, R14"),
            (Or, 15, 0, 1, 0, "OR R15, R0, R1"),
            (Xor, 1, 2, 3, 0, "XOR R1, R2, R3"),
            (Not, 4, 5, 0, 0, "NOT R4, R5"),
            (Cmp, 0, 1, 2, 0, "CMP R1, R2"),
            (Jmp, 0, 0, 0, 0xA10, "JMP 0xA10"),
            (Jz, 0, 0, 0, 0x10, "JZ 0x010"),
            (Jnz, 0, 0, 0, 0xFFF, "JNZ 0xFFF"),
            (Call, 0, 0, 0, -1, "CALL -1 ; -> 0x0004"),
            (Call, 0, 3, 0, 2, "CALL 2 ; base R3"),
            (Ret, 0, 0, 0, 0, "RET"),
            (Svc, 0, 0, 0, 0x502, "SVC 0x5, 0x02"),
            (Lsl, 1, 2, 3, 0, "LSL R1, R2, R3"),
            (Lsr, 4, 5, 6, 0, "LSR R4, R5, R6"),
            (Asr, 7, 8, 9, 0, "ASR R7, R8, R9"),
            (Adc, 10, 11, 12, 0, "ADC R10, R11, R12"),
            (Sbc, 13, 14, 15, 0, "SBC R13, R14, R15"),
            (Push, 0, 3, 0, 0, "PUSH R3"),
            (Pop, 4, 0, 0, 0, "POP R4"),
            (Fadd, 1, 2, 3, 0, "FADD R1, R2, R3"),
            (Fsub, 1, 2, 3, 0, "FSUB R1, R2, R3"),
            (Fmul, 1, 2, 3, 0, "FMUL R1, R2, R3"),
            (Fdiv, 1, 2, 3, 0, "FDIV R1, R2, R3"),
            (I2f, 1, 2, 0, 0, "I2F R1, R2"),
            (F2i, 1, 2, 0, 0, "F2I R1, R2"),
            (Ldi32, 9, 0, 0, 0, "LDI32 R9, 0xDEADBEEF"),
            (Brk, 0, 0, 0, 0, "BRK"),
            (Brk, 0, 0, 0, 5, "BRK 5"),
            (Divu, 1, 2, 3, 0, "DIVU R1, R2, R3"),
            (Addi, 1, 2, 0, -5, "ADDI R1, R2, -5"),
            (Bcc, 1, 0xF, 0xF, -1, "BEQ -1 ; -> 0x0004"),
            (Bcc, 0, 0, 0, 2, "B 2 ; -> 0x0010"),
            (Jr, 0, 3, 0, 0, "JR R3"),
            (Callr, 0, 3, 0, 0, "CALLR R3"),
            (Calll, 0, 0, 0, 3, "CALLL 3 ; -> 0x0014"),
            (Setcc, 4, 0, 0, 7, "SETLTU R4"),
            (Adjsp, 0, 0, 0, -3, "ADJSP -3"),
        ];
        let mut seen = [false; 256];
        for &(op, rd, rs1, rs2, imm, want) in cases {
            let w = Instr::new(op, rd, rs1, rs2, imm).encode();
            assert_eq!(text(w, 8, Some(0xDEAD_BEEF)), want, "{op:?}");
            seen[op as usize] = true;
        }
        for op in ALL_OPCODES {
            assert!(seen[*op as usize], "{op:?} has no text-form case");
        }
        assert_eq!(text(0x6090_0000, 0, None), "LDI32 R9, <missing>");
        // BRK shows only the low 8 bits of the immediate.
        assert_eq!(text(0x7F00_0F05, 0, None), "BRK 5");
        assert_eq!(text(0x7F00_0F00, 0, None), "BRK");
    }

    #[test]
    fn illegal_opcode_display() {
        assert_eq!(IllegalOpcode(5).to_string(), "illegal opcode 0x05");
    }
}
