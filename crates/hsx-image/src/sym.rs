//! `.sym` symbol files (`vm.md` §5.2): the model, a tolerant reader, a writer that matches
//! `hld.py --emit-sym` byte for byte, and [`SymTable`] lookups for the daemon and debugger.
//!
//! Reading ignores unknown keys and also accepts the older shapes the reference executive
//! understands: a list-shaped `symbols` block (entries with `name`, `address`/`addr`/`abs_addr`,
//! `size`, `type`, `file`, `line`) and a `lines` / `line_table` / `line_map` block (a list of
//! `{address, file, line}` or a map from decimal address to `{file, line}`).

use std::collections::{BTreeMap, HashMap};
use std::string::{String, ToString};
use std::vec::Vec;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::pyjson::to_python_json;

/// Why a `.sym` file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SymError {
    /// Not JSON, or a known key has the wrong shape.
    #[error("invalid .sym JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The document is not a JSON object.
    #[error(".sym root must be a JSON object")]
    NotObject,
}

fn default_version() -> u32 {
    1
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A whole `.sym` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymFile {
    /// Format version (1).
    #[serde(default = "default_version")]
    pub version: u32,
    /// Output path of the image as given to the linker.
    #[serde(default, deserialize_with = "null_as_default")]
    pub hxe_path: String,
    /// The CRC stored in the image header.
    #[serde(default, deserialize_with = "null_as_default")]
    pub hxe_crc: u32,
    /// Functions, variables, locals and labels.
    #[serde(default, deserialize_with = "null_as_default")]
    pub symbols: Symbols,
    /// One record per emitted instruction that has debug information.
    #[serde(default, deserialize_with = "null_as_default")]
    pub instructions: Vec<Instruction>,
    /// Code and rodata extents.
    #[serde(default, deserialize_with = "null_as_default")]
    pub memory_regions: Vec<MemoryRegion>,
    /// Line table from a `lines`/`line_table`/`line_map` block (not written by the linker;
    /// written back as `lines` only when non-empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineEntry>,
    /// C type table written by `hsx cc -g`: entry `i` is type id `i`, referred to by the
    /// `type_id` of variables and locals (format in docs/c-toolchain.md; opaque here).
    /// Written back only when non-empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<Value>,
}

impl Default for SymFile {
    fn default() -> Self {
        SymFile {
            version: 1,
            hxe_path: String::new(),
            hxe_crc: 0,
            symbols: Symbols::default(),
            instructions: Vec::new(),
            memory_regions: Vec::new(),
            lines: Vec::new(),
            types: Vec::new(),
        }
    }
}

/// The `symbols` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Symbols {
    /// Functions, sorted by address.
    #[serde(default, deserialize_with = "null_as_default")]
    pub functions: Vec<Function>,
    /// Exported data symbols, sorted by address.
    #[serde(default, deserialize_with = "null_as_default")]
    pub variables: Vec<Variable>,
    /// Local variables with their location ranges.
    #[serde(default, deserialize_with = "null_as_default")]
    pub locals: Vec<Local>,
    /// `"0x%08X"` address → sorted names of all exported symbols there.
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, Vec<String>>,
}

/// A function.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Function {
    /// Source-level name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Linkage (mangled) name, if known.
    #[serde(default)]
    pub linkage_name: Option<String>,
    /// Code byte address.
    #[serde(default, deserialize_with = "null_as_default")]
    pub address: u32,
    /// Size in bytes (instruction words × 4).
    #[serde(default, deserialize_with = "null_as_default")]
    pub size: u32,
    /// Source file.
    #[serde(default)]
    pub file: Option<String>,
    /// Source line of the definition.
    #[serde(default)]
    pub line: Option<u32>,
}

/// An exported data symbol.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    /// Name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Data address (0x4000-based).
    #[serde(default, deserialize_with = "null_as_default")]
    pub address: u32,
    /// Size in bytes (0 when unknown).
    #[serde(default, deserialize_with = "null_as_default")]
    pub size: u32,
    /// Scope (`"global"`).
    #[serde(default)]
    pub scope: Option<String>,
    /// Type description, if any (opaque).
    #[serde(default, rename = "type")]
    pub ty: Option<Value>,
    /// Index into [`SymFile::types`], when the `.sym` has a type table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<u32>,
}

/// A local variable of a function.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Local {
    /// Variable name.
    #[serde(default)]
    pub name: Option<String>,
    /// Name of the enclosing function.
    #[serde(default, deserialize_with = "null_as_default")]
    pub function: String,
    /// Source file.
    #[serde(default)]
    pub file: Option<String>,
    /// Source directory.
    #[serde(default)]
    pub directory: Option<String>,
    /// Declaration line.
    #[serde(default)]
    pub line: Option<u32>,
    /// Scope reference (opaque, e.g. an LLVM metadata id).
    #[serde(default)]
    pub scope: Option<Value>,
    /// Where the variable lives over which code range.
    #[serde(default, deserialize_with = "null_as_default")]
    pub locations: Vec<LocalLocation>,
    /// A short C spelling of its type (`int`, `struct pt`), when known.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<Value>,
    /// Index into [`SymFile::types`], when the `.sym` has a type table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<u32>,
}

/// One location range of a local: valid for `start <= pc < end`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LocalLocation {
    /// First code address.
    #[serde(default, deserialize_with = "null_as_default")]
    pub start: u32,
    /// End code address.
    #[serde(default, deserialize_with = "null_as_default")]
    pub end: u32,
    /// Location descriptor (`{kind: "stack"|"register"|…, …}`; opaque here).
    #[serde(default)]
    pub location: Value,
}

/// One instruction record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Instruction {
    /// Code byte address.
    #[serde(default, deserialize_with = "null_as_default")]
    pub pc: u32,
    /// The instruction word.
    #[serde(default, deserialize_with = "null_as_default")]
    pub word: u32,
    /// Line in the generated MVASM.
    #[serde(default)]
    pub mvasm_line: Option<u32>,
    /// Instruction index within its object.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ordinal: u32,
    /// Enclosing function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Source file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Source directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
    /// Source file id (opaque; an LLVM metadata id string in practice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<Value>,
    /// Source line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Source column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// `"source"` or `"compiler"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_kind: Option<String>,
}

/// A memory region (`end` inclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryRegion {
    /// `"code"` or `"rodata"`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// `"text"` or `"data"`.
    #[serde(default, rename = "type", deserialize_with = "null_as_default")]
    pub kind: String,
    /// First address.
    #[serde(default, deserialize_with = "null_as_default")]
    pub start: u32,
    /// Last address (inclusive).
    #[serde(default, deserialize_with = "null_as_default")]
    pub end: u32,
}

/// One entry of a line table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineEntry {
    /// Code byte address.
    pub address: u32,
    /// Source file.
    #[serde(default)]
    pub file: Option<String>,
    /// Source line (`None`: code from no source line starts here).
    #[serde(default)]
    pub line: Option<u32>,
    /// Source column, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

/// An integer from a JSON number or a decimal / `0x` string.
fn loose_u32(v: Option<&Value>) -> Option<u32> {
    match v? {
        Value::Number(n) => n.as_u64().map(|u| (u & 0xFFFF_FFFF) as u32),
        Value::String(s) => {
            let s = s.trim();
            match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            }
        }
        _ => None,
    }
}

fn loose_str(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn line_from(obj: &Map<String, Value>, address: u32) -> LineEntry {
    LineEntry {
        address,
        file: loose_str(obj.get("file")).or_else(|| loose_str(obj.get("source"))),
        line: loose_u32(obj.get("line")),
        column: loose_u32(obj.get("column")),
    }
}

fn take_lines(root: &mut Map<String, Value>) -> Vec<LineEntry> {
    let mut block = None;
    for key in ["lines", "line_table", "line_map"] {
        if let Some(v) = root.remove(key) {
            block.get_or_insert(v);
        }
    }
    let mut out = Vec::new();
    match block {
        Some(Value::Array(items)) => {
            for item in &items {
                if let Value::Object(obj) = item {
                    let addr = obj.get("address").or_else(|| obj.get("pc"));
                    if let Some(address) = loose_u32(addr) {
                        out.push(line_from(obj, address));
                    }
                }
            }
        }
        Some(Value::Object(map)) => {
            for (key, item) in &map {
                if let (Ok(address), Value::Object(obj)) = (key.trim().parse::<u32>(), item) {
                    out.push(line_from(obj, address));
                }
            }
        }
        _ => {}
    }
    out
}

/// Turns a list-shaped `symbols` block into the canonical `{functions, variables}` form.
fn normalise_symbol_list(items: &[Value]) -> Value {
    let mut functions = Vec::new();
    let mut variables = Vec::new();
    for item in items {
        let Value::Object(obj) = item else { continue };
        let Some(name) = loose_str(obj.get("name")).or_else(|| loose_str(obj.get("symbol"))) else {
            continue;
        };
        let address = ["address", "addr", "abs_addr", "absolute", "offset"]
            .iter()
            .find_map(|k| loose_u32(obj.get(*k)))
            .unwrap_or(0);
        let size = loose_u32(obj.get("size")).unwrap_or(0);
        let ty = obj
            .get("type")
            .or_else(|| obj.get("kind"))
            .cloned()
            .unwrap_or(Value::Null);
        let file = loose_str(obj.get("file")).or_else(|| loose_str(obj.get("source")));
        let line = loose_u32(obj.get("line"));
        if ty
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("function"))
        {
            functions.push(serde_json::json!({
                "name": name, "address": address, "size": size, "file": file, "line": line,
            }));
        } else {
            variables.push(serde_json::json!({
                "name": name, "address": address, "size": size, "type": ty,
            }));
        }
    }
    serde_json::json!({ "functions": functions, "variables": variables })
}

impl SymFile {
    /// Reads a `.sym` document (see the module docs for the accepted shapes).
    pub fn from_json_str(text: &str) -> Result<SymFile, SymError> {
        let value: Value = serde_json::from_str(text)?;
        Self::from_value(value)
    }

    /// Like [`SymFile::from_json_str`], from an already parsed JSON value.
    pub fn from_value(value: Value) -> Result<SymFile, SymError> {
        let Value::Object(mut root) = value else {
            return Err(SymError::NotObject);
        };
        let lines = take_lines(&mut root);
        if let Some(Value::Array(items)) = root.get("symbols") {
            let canonical = normalise_symbol_list(items);
            root.insert("symbols".into(), canonical);
        }
        let mut file: SymFile = serde_json::from_value(Value::Object(root))?;
        file.lines = lines;
        Ok(file)
    }

    /// The document as `hld.py` writes it: `json.dumps(indent=2, sort_keys=True)`, no
    /// trailing newline.
    pub fn to_json_string(&self) -> String {
        // Serialising these plain structs into a `Value` cannot fail (all map keys are strings).
        let value = serde_json::to_value(self).unwrap_or_default();
        to_python_json(&value, Some(2))
    }

    /// Sorts as the linker does: functions and variables by address, instructions by pc,
    /// label names per address.
    pub fn sort_canonical(&mut self) {
        self.symbols.functions.sort_by_key(|f| f.address);
        self.symbols.variables.sort_by_key(|v| v.address);
        for names in self.symbols.labels.values_mut() {
            names.sort();
        }
        self.instructions.sort_by_key(|i| i.pc);
    }

    /// The `labels` key for an address (`"0x%08X"`).
    pub fn label_key(address: u32) -> String {
        std::format!("0x{address:08X}")
    }
}

/// What kind of thing a [`Symbol`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    /// A function (code address).
    Function,
    /// A data symbol.
    Variable,
    /// A label from the `labels` map only.
    Label,
}

/// A named address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Name.
    pub name: String,
    /// Address.
    pub address: u32,
    /// Size in bytes (0 if unknown).
    pub size: u32,
    /// Kind.
    pub kind: SymbolKind,
}

/// The source position of a code address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceLine<'a> {
    /// Address of the line-table entry that was matched (≤ the queried pc).
    pub address: u32,
    /// Source file.
    pub file: Option<&'a str>,
    /// Source directory, when the entry came from an instruction record.
    pub directory: Option<&'a str>,
    /// Source line.
    pub line: u32,
    /// Source column, when known.
    pub column: Option<u32>,
    /// Enclosing function, when known.
    pub function: Option<&'a str>,
}

/// Indexed lookups over a [`SymFile`].
#[derive(Debug, Clone)]
pub struct SymTable {
    file: SymFile,
    by_name: HashMap<String, Symbol>,
    /// All symbols sorted by address (functions before variables before labels at equal
    /// addresses).
    by_address: Vec<Symbol>,
    /// Indices into `file.symbols.functions`, sorted by address.
    functions: Vec<usize>,
    /// Line-table entries (instruction records or `lines` entries) sorted by address.
    lines: Vec<LineRef>,
    insn_by_pc: HashMap<u32, usize>,
}

#[derive(Debug, Clone, Copy)]
enum LineRef {
    Insn(usize),
    Line(usize),
}

fn parse_label_key(key: &str) -> Option<u32> {
    let hex = key.strip_prefix("0x").or_else(|| key.strip_prefix("0X"))?;
    u32::from_str_radix(hex, 16).ok()
}

fn same_file(recorded: &str, wanted: &str) -> bool {
    if recorded == wanted {
        return true;
    }
    let suffix_of = |long: &str, short: &str| {
        long.len() > short.len()
            && long.ends_with(short)
            && long.as_bytes().get(long.len() - short.len() - 1) == Some(&b'/')
    };
    suffix_of(recorded, wanted) || suffix_of(wanted, recorded)
}

impl SymTable {
    /// Builds the indices.
    pub fn new(file: SymFile) -> Self {
        let mut by_address = Vec::new();
        for f in &file.symbols.functions {
            by_address.push(Symbol {
                name: f.name.clone(),
                address: f.address,
                size: f.size,
                kind: SymbolKind::Function,
            });
        }
        for v in &file.symbols.variables {
            by_address.push(Symbol {
                name: v.name.clone(),
                address: v.address,
                size: v.size,
                kind: SymbolKind::Variable,
            });
        }
        let mut by_name: HashMap<String, Symbol> = HashMap::new();
        for s in &by_address {
            by_name.entry(s.name.clone()).or_insert_with(|| s.clone());
        }
        for (key, names) in &file.symbols.labels {
            let Some(address) = parse_label_key(key) else {
                continue;
            };
            for name in names {
                if !by_name.contains_key(name) {
                    let sym = Symbol {
                        name: name.clone(),
                        address,
                        size: 0,
                        kind: SymbolKind::Label,
                    };
                    by_name.insert(name.clone(), sym.clone());
                    by_address.push(sym);
                }
            }
        }
        by_address.sort_by_key(|s| s.address);

        let mut functions: Vec<usize> = (0..file.symbols.functions.len()).collect();
        functions.sort_by_key(|&i| file.symbols.functions.get(i).map_or(0, |f| f.address));

        let mut lines: Vec<(u32, LineRef)> = if file.lines.is_empty() {
            file.instructions
                .iter()
                .enumerate()
                .filter(|(_, insn)| insn.line.is_some())
                .map(|(i, insn)| (insn.pc, LineRef::Insn(i)))
                .collect()
        } else {
            // Entries without a line stay: they end the previous line's range.
            file.lines
                .iter()
                .enumerate()
                .map(|(i, l)| (l.address, LineRef::Line(i)))
                .collect()
        };
        lines.sort_by_key(|(addr, _)| *addr);
        let insn_by_pc = file
            .instructions
            .iter()
            .enumerate()
            .map(|(i, insn)| (insn.pc, i))
            .collect();
        SymTable {
            file,
            by_name,
            by_address,
            functions,
            lines: lines.into_iter().map(|(_, r)| r).collect(),
            insn_by_pc,
        }
    }

    /// Parses and indexes a `.sym` document.
    pub fn from_json_str(text: &str) -> Result<Self, SymError> {
        Ok(Self::new(SymFile::from_json_str(text)?))
    }

    /// The underlying file.
    pub fn file(&self) -> &SymFile {
        &self.file
    }

    /// Symbol by name (a function wins over a variable, which wins over a bare label).
    pub fn symbol(&self, name: &str) -> Option<&Symbol> {
        self.by_name.get(name)
    }

    /// All symbols sorted by address.
    pub fn symbols(&self) -> &[Symbol] {
        &self.by_address
    }

    /// The function whose `[address, address + size)` contains `addr` (a size of 0 counts
    /// as one instruction). If ranges overlap, the one starting last wins.
    pub fn function_containing(&self, addr: u32) -> Option<&Function> {
        let funcs = &self.file.symbols.functions;
        let upto = self
            .functions
            .partition_point(|&i| funcs.get(i).is_some_and(|f| f.address <= addr));
        self.functions[..upto].iter().rev().find_map(|&i| {
            let f = funcs.get(i)?;
            let end = u64::from(f.address) + u64::from(f.size.max(4));
            (u64::from(addr) < end).then_some(f)
        })
    }

    /// The nearest symbol at or below `addr` and the offset from it (the reference
    /// executive's `symbol_lookup_addr`).
    pub fn symbol_at(&self, addr: u32) -> Option<(&Symbol, u32)> {
        let upto = self.by_address.partition_point(|s| s.address <= addr);
        let sym = self.by_address.get(upto.checked_sub(1)?)?;
        // Prefer a function among several symbols at the same address.
        let first = self.by_address.partition_point(|s| s.address < sym.address);
        let best = self
            .by_address
            .get(first..upto)
            .and_then(|same| same.iter().find(|s| s.kind == SymbolKind::Function))
            .unwrap_or(sym);
        Some((best, addr - best.address))
    }

    /// Names in the `labels` map at exactly `addr`.
    pub fn labels_at(&self, addr: u32) -> &[String] {
        self.file
            .symbols
            .labels
            .get(&SymFile::label_key(addr))
            .map_or(&[], Vec::as_slice)
    }

    /// The instruction record at exactly `pc`.
    pub fn instruction_at(&self, pc: u32) -> Option<&Instruction> {
        self.file.instructions.get(*self.insn_by_pc.get(&pc)?)
    }

    fn line_ref(&self, r: LineRef) -> Option<SourceLine<'_>> {
        match r {
            LineRef::Insn(i) => {
                let insn = self.file.instructions.get(i)?;
                Some(SourceLine {
                    address: insn.pc,
                    file: insn.file.as_deref(),
                    directory: insn.directory.as_deref(),
                    line: insn.line?,
                    column: insn.column,
                    function: insn.function.as_deref(),
                })
            }
            LineRef::Line(i) => {
                let l = self.file.lines.get(i)?;
                Some(SourceLine {
                    address: l.address,
                    file: l.file.as_deref(),
                    directory: None,
                    line: l.line?,
                    column: l.column,
                    function: None,
                })
            }
        }
    }

    fn line_address(&self, r: LineRef) -> u32 {
        match r {
            LineRef::Insn(i) => self.file.instructions.get(i).map_or(0, |x| x.pc),
            LineRef::Line(i) => self.file.lines.get(i).map_or(0, |x| x.address),
        }
    }

    /// Source line for `pc`: the last line-table entry at or below `pc` (the reference
    /// executive's `symbol_lookup_line`). The table is the `lines` block if the file has
    /// one, else the instruction records that carry a line.
    pub fn line_for_pc(&self, pc: u32) -> Option<SourceLine<'_>> {
        let upto = self.lines.partition_point(|&r| self.line_address(r) <= pc);
        self.line_ref(*self.lines.get(upto.checked_sub(1)?)?)
    }

    /// Whether the table maps any code address to a source line.
    pub fn has_lines(&self) -> bool {
        self.lines.iter().any(|&r| self.line_ref(r).is_some())
    }

    /// Code addresses mapped to `file:line`, ascending; `file` matches exactly or as a
    /// `/`-separated path suffix in either direction.
    pub fn addresses_for_line(&self, file: &str, line: u32) -> Vec<u32> {
        let mut out: Vec<u32> = self
            .lines
            .iter()
            .filter_map(|&r| self.line_ref(r))
            .filter(|l| l.line == line && l.file.is_some_and(|f| same_file(f, file)))
            .map(|l| l.address)
            .collect();
        out.dedup();
        out
    }

    /// Local variables of `function`.
    pub fn locals_of<'a>(&'a self, function: &'a str) -> impl Iterator<Item = &'a Local> + 'a {
        self.file
            .symbols
            .locals
            .iter()
            .filter(move |l| l.function == function)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_suffix_matching() {
        assert!(same_file("src/main.c", "main.c"));
        assert!(same_file("main.c", "/abs/src/main.c"));
        assert!(!same_file("xmain.c", "main.c"));
        assert!(same_file("main.c", "main.c"));
    }

    #[test]
    fn line_gaps_and_columns() {
        let text = r#"{"lines": [
            {"address": 0, "file": "/w/m.c", "line": 3, "column": 5},
            {"address": 8, "file": null, "line": null},
            {"address": 16, "file": "/w/m.c", "line": 4}]}"#;
        let t = SymTable::from_json_str(text).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.has_lines());
        assert_eq!(
            t.line_for_pc(4).map(|l| (l.line, l.column)),
            Some((3, Some(5)))
        );
        // Code from no source line: no line, not the previous one.
        assert_eq!(t.line_for_pc(12), None);
        assert_eq!(t.line_for_pc(20).map(|l| l.line), Some(4));
        assert_eq!(t.addresses_for_line("m.c", 4), std::vec![16]);
        let back = t.file().to_json_string();
        assert!(back.contains("\"column\": 5") && !back.contains("\"column\": null"));
        assert!(!SymTable::new(SymFile::default()).has_lines());
    }

    #[test]
    fn label_keys() {
        assert_eq!(SymFile::label_key(0x10), "0x00000010");
        assert_eq!(parse_label_key("0x0000ABCD"), Some(0xABCD));
        assert_eq!(parse_label_key("12"), None);
    }
}
