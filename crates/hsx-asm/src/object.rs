//! The object model pass 1 produces and the linker consumes: sections, labels, symbol
//! references, relocations and the per-file [`Object`] (the reference's `.hxo`).

use std::collections::HashMap;

use crate::meta::{CmdSpec, MailboxSpec, ValueSpec};
use crate::source::Loc;

/// Largest code or rodata section the loader accepts (the two limits are equal).
pub(crate) const SECTION_LIMIT: u32 = hsx_image::MAX_CODE_LEN;
const _: () = assert!(hsx_image::MAX_CODE_LEN == hsx_image::MAX_RODATA_LEN);
pub(crate) use hsx_image::RODATA_BASE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Text,
    Data,
}

#[derive(Debug, Clone)]
pub(crate) struct Label {
    pub name: String,
    pub section: Section,
    pub offset: u32,
    pub loc: Loc,
}

/// Which part of a symbol's address a reference uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SymKind {
    Symbol,
    Lo16,
    Hi16,
    Off16,
}

impl SymKind {
    pub fn wrap(self, name: &str) -> String {
        match self {
            SymKind::Symbol => name.to_string(),
            SymKind::Lo16 => format!("lo16({name})"),
            SymKind::Hi16 => format!("hi16({name})"),
            SymKind::Off16 => format!("off16({name})"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SymRef {
    pub kind: SymKind,
    pub name: String,
    pub loc: Loc,
}

/// Relocation types (`vm.md` §5.1) plus the distinctions our range checks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelocType {
    /// `LDI Rd, sym` (signed 12-bit).
    Ldi,
    /// `LD/ST [Rb+sym]` (signed 12-bit).
    Mem,
    /// `JMP/JZ/JNZ sym` (unsigned absolute 12-bit).
    Jump,
    /// `CALL sym` (signed PC-relative word offset).
    Call,
    /// EXT1 `B<cc> sym` (signed 20-bit PC-relative word offset).
    Branch,
    /// EXT1 `CALLL sym` (signed 24-bit PC-relative word offset).
    CallLong,
    /// `LDI32 Rd, sym` (second word).
    Imm32,
    DataWord,
    DataHalf,
    DataByte,
}

#[derive(Debug, Clone)]
pub(crate) struct Reloc {
    pub ty: RelocType,
    /// Code word index, or rodata byte offset for the `Data*` types.
    pub at: u32,
    pub sym: SymRef,
}

/// One emitted instruction, for `.sym` line records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InstrInfo {
    pub ordinal: u32,
    pub loc: Loc,
}

/// An assembled source file, ready for linking.
#[derive(Debug, Default)]
pub(crate) struct Object {
    pub file: u32,
    pub code: Vec<u32>,
    pub rodata: Vec<u8>,
    pub entry: u32,
    pub entry_loc: Option<Loc>,
    pub entry_symbol: Option<(String, Loc)>,
    pub labels: Vec<Label>,
    pub label_index: HashMap<String, usize>,
    /// Exported names (each a local label), in first-export order.
    pub exports: Vec<(String, Loc)>,
    pub imports: Vec<(String, Loc)>,
    pub externs: Vec<(String, Loc)>,
    pub relocs: Vec<Reloc>,
    pub values: Vec<(ValueSpec, Loc)>,
    pub commands: Vec<(CmdSpec, Loc)>,
    pub mailboxes: Vec<(MailboxSpec, Loc)>,
    pub instrs: Vec<InstrInfo>,
    pub app_name: Option<(String, Loc)>,
    pub single_instance: bool,
    pub req_caps: Option<(u16, Loc)>,
    /// ISA extension bits the code uses (`.hxo` `isa_ext`; the linker ORs them).
    pub isa_ext: u32,
}

impl Object {
    pub fn label(&self, name: &str) -> Option<&Label> {
        self.label_index.get(name).and_then(|&i| self.labels.get(i))
    }
}
