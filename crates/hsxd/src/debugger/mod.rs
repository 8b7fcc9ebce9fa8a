//! Debugger data for the `§2.4` commands: symbol tables, stack walks, disassembly and
//! memory maps.
//!
//! Everything here is pure: the backend hands in what it read from the executive (register
//! values, a memory-read closure, code bytes, header facts) and gets back typed results plus
//! the JSON objects that go under the reply keys. Nothing here locks, blocks or touches the
//! executive, so the backend decides how long it holds its own lock.
//!
//! * [`symbols`]: [`SymbolStore`], the per-PID `.sym` tables (`symbols`, `sym`);
//! * [`stack`]: the R7 frame-chain walk (`stack`) and frame-local variables (`watch` locals);
//! * [`disasm`]: listings with symbols, lines, branch targets and a per-image cache (`disasm`);
//! * [`regions`]: the `memory` map.

pub mod disasm;
pub mod regions;
pub mod stack;
pub mod symbols;

use hsx_image::sym::{SourceLine, SymTable, Symbol, SymbolKind};
use serde_json::{Map, Value, json};

pub use disasm::{CacheKey, DisasmCache, DisasmInput, InsnInfo, Listing, ListingLine, Start};
pub use regions::{Region, TaskLayout};
pub use stack::{Frame, LocalError, StackBounds, StackRegs, StackTrace, WalkOptions};
pub use symbols::{ListKind, ListQuery, LoadedSymbols, PreparedSymbols, SymbolStore};

/// The wire `type` of a symbol (`symbols` listing, `sym` lookups).
pub fn kind_name(kind: SymbolKind) -> &'static str {
    match kind {
        SymbolKind::Function => "function",
        SymbolKind::Variable => "variable",
        SymbolKind::Label => "label",
    }
}

/// A symbol as replies show it, owned so results outlive the table they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolEntry {
    /// Name.
    pub name: String,
    /// Address.
    pub address: u32,
    /// Size in bytes (0 when unknown).
    pub size: u32,
    /// Kind.
    pub kind: SymbolKind,
    /// Source file of a function.
    pub file: Option<String>,
    /// Definition line of a function.
    pub line: Option<u32>,
}

impl SymbolEntry {
    /// The entry for `sym`, with the source position when it is a function of `table`.
    pub fn from_symbol(table: &SymTable, sym: &Symbol) -> Self {
        // `function_containing` is a binary search; it names this very function when the
        // symbol is one (ranges that overlap are the only case where it names another).
        let func = (sym.kind == SymbolKind::Function)
            .then(|| table.function_containing(sym.address))
            .flatten()
            .filter(|f| f.name == sym.name && f.address == sym.address);
        SymbolEntry {
            name: sym.name.clone(),
            address: sym.address,
            size: sym.size,
            kind: sym.kind,
            file: func.and_then(|f| f.file.clone()),
            line: func.and_then(|f| f.line),
        }
    }

    /// `{name, address, size, type, file, line}`, plus `offset` when given.
    pub fn to_json(&self, offset: Option<u32>) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("address".into(), json!(self.address));
        m.insert("size".into(), json!(self.size));
        m.insert("type".into(), json!(kind_name(self.kind)));
        m.insert("file".into(), json!(self.file));
        m.insert("line".into(), json!(self.line));
        if let Some(off) = offset {
            m.insert("offset".into(), json!(off));
        }
        Value::Object(m)
    }
}

/// A symbol found for an address, with the distance from its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolHit {
    /// The symbol.
    pub entry: SymbolEntry,
    /// `address - entry.address`.
    pub offset: u32,
}

impl SymbolHit {
    /// The nearest symbol at or below `addr` (the reference's `symbol_lookup_addr`).
    pub fn nearest(table: &SymTable, addr: u32) -> Option<Self> {
        let (sym, offset) = table.symbol_at(addr)?;
        Some(SymbolHit {
            entry: SymbolEntry::from_symbol(table, sym),
            offset,
        })
    }

    /// The function containing `addr`, else the nearest symbol at or below it.
    pub fn function_or_nearest(table: &SymTable, addr: u32) -> Option<Self> {
        match table.function_containing(addr) {
            Some(f) => Some(SymbolHit {
                entry: SymbolEntry {
                    name: f.name.clone(),
                    address: f.address,
                    size: f.size,
                    kind: SymbolKind::Function,
                    file: f.file.clone(),
                    line: f.line,
                },
                offset: addr.wrapping_sub(f.address),
            }),
            None => Self::nearest(table, addr),
        }
    }

    /// The symbol entry with `offset` (`symbol` / `target_symbol` objects).
    pub fn to_json(&self) -> Value {
        self.entry.to_json(Some(self.offset))
    }

    /// `name` or `name+0xOFF`.
    pub fn display(&self) -> String {
        if self.offset == 0 {
            self.entry.name.clone()
        } else {
            format!("{}+0x{:X}", self.entry.name, self.offset)
        }
    }
}

/// A source position (`line` objects of `stack`, `disasm` and `sym lookup_line`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePos {
    /// Address of the line-table entry that matched.
    pub address: u32,
    /// Source file.
    pub file: Option<String>,
    /// Source line.
    pub line: u32,
}

impl LinePos {
    /// Owned copy of a table line.
    pub fn from_source(l: &SourceLine<'_>) -> Self {
        LinePos {
            address: l.address,
            file: l.file.map(str::to_string),
            line: l.line,
        }
    }

    /// The line for `pc`: the exact instruction record when it has a line, else the last
    /// line-table entry at or below `pc` (the reference's `symbol_lookup_line`).
    pub fn for_pc(table: &SymTable, pc: u32) -> Option<Self> {
        if let Some(insn) = table.instruction_at(pc)
            && let Some(line) = insn.line
        {
            return Some(LinePos {
                address: insn.pc,
                file: insn.file.clone(),
                line,
            });
        }
        table.line_for_pc(pc).map(|l| Self::from_source(&l))
    }

    /// `{address, file, line}`.
    pub fn to_json(&self) -> Value {
        json!({"address": self.address, "file": self.file, "line": self.line})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hsx_image::sym::{Function, Instruction, SymFile};

    fn table() -> SymTable {
        let mut f = SymFile::default();
        f.symbols.functions = vec![Function {
            name: "f".into(),
            address: 8,
            size: 8,
            file: Some("a.c".into()),
            line: Some(4),
            ..Function::default()
        }];
        f.symbols
            .labels
            .insert(SymFile::label_key(0), vec!["start".into()]);
        f.instructions = vec![
            Instruction {
                pc: 8,
                line: Some(5),
                file: Some("a.c".into()),
                ..Instruction::default()
            },
            Instruction {
                pc: 12,
                ..Instruction::default()
            },
        ];
        SymTable::new(f)
    }

    #[test]
    fn hits_and_lines() {
        let t = table();
        let h = SymbolHit::nearest(&t, 12).unwrap_or_else(|| panic!("no hit"));
        assert_eq!(
            (h.entry.name.as_str(), h.offset, h.display()),
            ("f", 4, "f+0x4".into())
        );
        assert_eq!(h.entry.file.as_deref(), Some("a.c"));
        assert_eq!(h.to_json()["line"], 4);
        // Past the function's end: no containing function, so the nearest symbol.
        let far = SymbolHit::function_or_nearest(&t, 40).map(|h| (h.entry.name, h.offset));
        assert_eq!(far, Some(("f".into(), 32)));
        let start = SymbolHit::function_or_nearest(&t, 4).map(|h| h.display());
        assert_eq!(start.as_deref(), Some("start+0x4"));
        assert_eq!(
            SymbolHit::nearest(&t, 0).map(|h| h.to_json()["type"].clone()),
            Some(json!("label"))
        );
        // The record at 12 has no line: the previous line-table entry answers.
        let l = LinePos::for_pc(&t, 12).map(|l| l.to_json());
        assert_eq!(l, Some(json!({"address": 8, "file": "a.c", "line": 5})));
        assert_eq!(LinePos::for_pc(&t, 4), None);
    }
}
