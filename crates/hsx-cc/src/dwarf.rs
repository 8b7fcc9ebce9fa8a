//! DWARF → `.sym`: C source lines, function positions, globals and locals of a `-g` build.
//!
//! clang's wasm DWARF gives code addresses as offsets into the Code section's payload; the
//! translator records, for each wasm operator that produced MiniVM code, where that code
//! starts (`pcmap`), so each MiniVM range gets the line of the operator it came from.
//! Locations use the MiniVM homes of the wasm locals (`FuncSpan::locals`):
//! `DW_OP_WASM_location 0 N` is local N's register or frame slot, and `DW_OP_fbreg K` with a
//! frame base of local N (or of the C stack-pointer global) is memory at that value + K, an
//! `indirect` location the debugger reads in two steps.

use std::collections::HashMap;

use gimli::{
    AttributeValue, DwAt, EndianSlice, Expression, LittleEndian, Operation, SectionId, UnitOffset,
    UnitRef,
};
use hsx_image::sym::{LineEntry, Local, LocalLocation, SymFile, Variable};
use serde_json::{Value, json};

use crate::dwarf_read::{Die, R, Unit, attr_str};
use crate::dwarf_types::TypeTable;
use crate::frame::Loc;
use crate::module::Module;
use crate::prog::FuncSpan;

/// What the DWARF is matched against.
pub struct DebugInput<'x, 'a> {
    /// The module (custom sections, function bodies, Code section start).
    pub m: &'x Module<'a>,
    /// (code address, wasm module offset) of each operator that produced code.
    pub pcmap: &'x [(u32, usize)],
    /// Every translated function in code order.
    pub spans: &'x [FuncSpan],
    /// Data address of each mutable wasm global.
    pub global_addrs: &'x HashMap<u32, u32>,
}

/// One translated function with DWARF-relative offsets.
struct Func {
    span: usize,
    /// Code-relative body range.
    body: (u64, u64),
    /// (pc, code-relative offset) in pc order, starting at the function's first address.
    points: Vec<(u32, u64)>,
    /// First address after the prologue (the first wasm operator's code): parameters are
    /// in their homes from here on.
    body_pc: u32,
}

/// A line-table row: `[start, end)` (code-relative) is `file:line:column`.
#[derive(Clone, Copy)]
struct Row {
    start: u64,
    end: u64,
    file: usize,
    line: u32,
    column: u32,
}

struct Ctx<'x, 'a> {
    input: &'x DebugInput<'x, 'a>,
    funcs: Vec<Func>,
    rows: Vec<Row>,
    files: Vec<String>,
    file_ids: HashMap<String, usize>,
    /// C names of functions renamed from their wasm names.
    names: HashMap<usize, String>,
    /// The `.sym` type table (`types`).
    types: TypeTable,
}

/// Adds lines, function positions, globals and locals from the module's DWARF to `sym`.
/// Returns without change when there is no `.debug_info`; an error means malformed DWARF.
pub fn add_debug_info(sym: &mut SymFile, input: &DebugInput<'_, '_>) -> Result<(), String> {
    if !input.m.custom.contains_key(".debug_info") {
        return Ok(());
    }
    let load = |id: SectionId| -> Result<R<'_>, gimli::Error> {
        let data = input.m.custom.get(id.name()).copied().unwrap_or(&[]);
        Ok(EndianSlice::new(data, LittleEndian))
    };
    let dwarf = gimli::Dwarf::load(load).map_err(|e| e.to_string())?;
    let mut cx = Ctx {
        input,
        funcs: functions(input),
        rows: Vec::new(),
        files: Vec::new(),
        file_ids: HashMap::new(),
        names: HashMap::new(),
        types: TypeTable::default(),
    };
    let mut units = dwarf.units();
    let mut parsed = Vec::new();
    while let Some(header) = units.next().map_err(|e| e.to_string())? {
        parsed.push(dwarf.unit(header).map_err(|e| e.to_string())?);
    }
    for unit in &parsed {
        cx.line_rows(UnitRef::new(&dwarf, unit))
            .map_err(|e| e.to_string())?;
    }
    cx.rows.sort_by_key(|r| r.start);
    sym.lines = cx.lines();
    for unit in &parsed {
        cx.entries(UnitRef::new(&dwarf, unit), sym)
            .map_err(|e| e.to_string())?;
    }
    sym.types = std::mem::take(&mut cx.types.types);
    Ok(())
}

/// The defined functions with their code points, in code order.
fn functions(input: &DebugInput<'_, '_>) -> Vec<Func> {
    let m = input.m;
    let base = m.code_start as u64;
    let rel = |off: usize| (off as u64).saturating_sub(base);
    let mut out = Vec::new();
    for (k, s) in input.spans.iter().enumerate() {
        let Some(def) = s.fidx.checked_sub(m.num_imports()) else {
            continue;
        };
        let Some(body) = m.bodies.get(def as usize) else {
            continue;
        };
        let r = body.range();
        let from = input.pcmap.partition_point(|p| p.0 < s.start);
        let to = input.pcmap.partition_point(|p| p.0 < s.end);
        let mut points: Vec<(u32, u64)> = Vec::new();
        let body_pc = input
            .pcmap
            .get(from)
            .filter(|p| p.0 < s.end)
            .map_or(s.start, |p| p.0);
        // The prologue comes from the function's start (its DWARF `low_pc`).
        if input.pcmap.get(from).is_none_or(|p| p.0 > s.start) {
            points.push((s.start, rel(r.start as usize)));
        }
        points.extend(
            input.pcmap[from..to]
                .iter()
                .map(|&(pc, off)| (pc, rel(off))),
        );
        out.push(Func {
            span: k,
            body: (rel(r.start as usize), rel(r.end as usize)),
            points,
            body_pc,
        });
    }
    out
}

fn join_path(dir: &str, path: &str) -> String {
    if path.starts_with('/') || dir.is_empty() {
        return path.to_string();
    }
    format!("{}/{path}", dir.trim_end_matches('/'))
}

/// `a/./b` → `a/b`, `./a` → `a`.
fn tidy_path(p: &str) -> String {
    let mut s = p.replace("/./", "/");
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.to_string();
    }
    s
}

impl<'a> Ctx<'_, 'a> {
    fn file_id(&mut self, path: String) -> usize {
        if let Some(&id) = self.file_ids.get(&path) {
            return id;
        }
        self.files.push(path.clone());
        self.file_ids.insert(path, self.files.len() - 1);
        self.files.len() - 1
    }

    /// The absolute (where the unit's `comp_dir` allows) path of line-program file `index`.
    fn file_path(&self, unit: Unit<'_, 'a>, index: u64) -> Option<String> {
        let program = unit.line_program.as_ref()?;
        let header = program.header();
        let entry = header.file(index)?;
        let name = attr_str(unit, entry.path_name())?;
        let dir = entry
            .directory(header)
            .and_then(|d| attr_str(unit, d))
            .unwrap_or_default();
        let mut path = join_path(&dir, &name);
        if !path.starts_with('/')
            && let Some(comp) = unit.comp_dir.map(|c| c.to_string_lossy().into_owned())
        {
            path = join_path(&comp, &path);
        }
        Some(tidy_path(&path))
    }

    fn line_rows(&mut self, unit: Unit<'_, 'a>) -> gimli::Result<()> {
        let Some(program) = unit.line_program.clone() else {
            return Ok(());
        };
        let mut rows = program.rows();
        let mut prev: Option<Row> = None;
        let mut paths: HashMap<u64, usize> = HashMap::new();
        while let Some((_, row)) = rows.next_row()? {
            let addr = row.address();
            if let Some(mut p) = prev.take()
                && addr > p.start
            {
                p.end = addr;
                self.rows.push(p);
            }
            if row.end_sequence() {
                continue;
            }
            let Some(line) = row.line() else {
                // Line 0: code that belongs to no source line.
                prev = None;
                continue;
            };
            let file = match paths.get(&row.file_index()) {
                Some(&f) => f,
                None => {
                    let p = self
                        .file_path(unit, row.file_index())
                        .unwrap_or_else(|| "?".into());
                    let f = self.file_id(p);
                    paths.insert(row.file_index(), f);
                    f
                }
            };
            let column = match row.column() {
                gimli::ColumnType::LeftEdge => 0,
                gimli::ColumnType::Column(c) => c.get().min(u64::from(u32::MAX)) as u32,
            };
            prev = Some(Row {
                start: addr,
                end: addr,
                file,
                line: line.get().min(u64::from(u32::MAX)) as u32,
                column,
            });
        }
        Ok(())
    }

    fn row_at(&self, addr: u64) -> Option<&Row> {
        let i = self.rows.partition_point(|r| r.start <= addr);
        let r = self.rows.get(i.checked_sub(1)?)?;
        (addr < r.end).then_some(r)
    }

    /// The `.sym` line table: an entry where the source line changes, and an entry without
    /// a line where code from no source line starts (so such code is not shown as C).
    fn lines(&self) -> Vec<LineEntry> {
        let mut out: Vec<LineEntry> = Vec::new();
        let mut push = |e: LineEntry| {
            if let Some(last) = out.last_mut() {
                if last.address == e.address {
                    *last = e;
                    return;
                }
                if last.file == e.file && last.line == e.line {
                    return;
                }
            } else if e.line.is_none() {
                return;
            }
            out.push(e);
        };
        for f in &self.funcs {
            for &(pc, off) in &f.points {
                let row = self.row_at(off);
                push(LineEntry {
                    address: pc,
                    file: row.map(|r| self.files[r.file].clone()),
                    line: row.map(|r| r.line),
                    column: row.map(|r| r.column).filter(|c| *c > 0),
                });
            }
            let end = self.input.spans[f.span].end;
            push(LineEntry {
                address: end,
                file: None,
                line: None,
                column: None,
            });
        }
        out
    }

    /// The function whose body holds code-relative address `addr`.
    fn func_at(&self, addr: u64) -> Option<usize> {
        self.funcs
            .iter()
            .position(|f| f.body.0 <= addr && addr < f.body.1)
    }

    /// MiniVM code range of code-relative wasm range `[a, b)` in function `f`.
    fn pc_range(&self, f: usize, a: u64, b: u64) -> Option<(u32, u32)> {
        let func = &self.funcs[f];
        let span = &self.input.spans[func.span];
        let pts = &func.points;
        let i = pts.partition_point(|p| p.1 < a);
        let start = if a <= func.body.0 {
            func.body_pc
        } else {
            pts.get(i)?.0
        };
        let j = pts.partition_point(|p| p.1 < b);
        let end = pts.get(j).map_or(span.end, |p| p.0);
        (start < end).then_some((start, end))
    }

    /// Walks the DIE tree of one unit.
    fn entries(&mut self, unit: Unit<'_, 'a>, sym: &mut SymFile) -> gimli::Result<()> {
        let mut cursor = unit.entries();
        let mut depth = 0isize;
        // (depth of the scope DIE, scope)
        let mut scopes: Vec<(isize, Scope)> = Vec::new();
        while let Some((delta, die)) = cursor.next_dfs()? {
            depth += delta;
            while scopes.last().is_some_and(|(d, _)| *d >= depth) {
                scopes.pop();
            }
            let current = scopes.last().map(|(_, s)| s.clone());
            match die.tag() {
                gimli::DW_TAG_subprogram => {
                    let scope = self.subprogram(unit, die, sym)?;
                    scopes.push((depth, scope));
                }
                gimli::DW_TAG_lexical_block => {
                    let scope = match current {
                        Some(Scope::Func {
                            func, frame_base, ..
                        }) => {
                            let ranges = self.die_pc_ranges(unit, die, func)?;
                            Scope::Func {
                                func,
                                frame_base,
                                ranges,
                            }
                        }
                        _ => Scope::Skip,
                    };
                    scopes.push((depth, scope));
                }
                gimli::DW_TAG_inlined_subroutine => scopes.push((depth, Scope::Skip)),
                gimli::DW_TAG_variable | gimli::DW_TAG_formal_parameter => match current {
                    None => self.global(unit, die, sym)?,
                    Some(Scope::Func {
                        func,
                        frame_base,
                        ranges,
                    }) => self.local(unit, die, func, frame_base.as_ref(), &ranges, sym)?,
                    Some(Scope::Skip) => {}
                },
                _ if die.has_children() && depth > 1 => scopes.push((depth, Scope::Skip)),
                _ => {}
            }
        }
        Ok(())
    }

    fn die_pc_ranges(
        &self,
        unit: Unit<'_, 'a>,
        die: &Die<'_, '_, 'a>,
        func: usize,
    ) -> gimli::Result<Vec<(u32, u32)>> {
        let mut out = Vec::new();
        let mut ranges = unit.die_ranges(die)?;
        while let Some(r) = ranges.next()? {
            out.extend(self.pc_range(func, r.begin, r.end));
        }
        Ok(out)
    }

    fn subprogram(
        &mut self,
        unit: Unit<'_, 'a>,
        die: &Die<'_, '_, 'a>,
        sym: &mut SymFile,
    ) -> gimli::Result<Scope> {
        let Some(AttributeValue::Addr(low)) = die.attr_value(gimli::DW_AT_low_pc)? else {
            return Ok(Scope::Skip);
        };
        let Some(func) = self.func_at(low) else {
            // Not translated (unreachable from `_start`).
            return Ok(Scope::Skip);
        };
        let span = &self.input.spans[self.funcs[func].span];
        let (file, line) = self.decl(unit, die)?;
        let c_name = die
            .attr_value(gimli::DW_AT_name)?
            .and_then(|v| attr_str(unit, v));
        // The C name when the wasm one differs (`main` is `__original_main` in wasm) and no
        // other function has it; the wasm name stays as the linkage name.
        let rename = c_name
            .filter(|n| *n != span.name && !sym.symbols.functions.iter().any(|f| f.name == *n));
        if let Some(f) = sym
            .symbols
            .functions
            .iter_mut()
            .find(|f| f.address == span.start && f.name == span.name)
        {
            f.file = file;
            f.line = line;
            if let Some(n) = rename {
                f.linkage_name = Some(std::mem::replace(&mut f.name, n.clone()));
                self.names.insert(func, n);
            }
        }
        let frame_base = match die.attr_value(gimli::DW_AT_frame_base)? {
            Some(AttributeValue::Exprloc(e)) => self.frame_base(unit, e, func),
            _ => None,
        };
        Ok(Scope::Func {
            func,
            frame_base,
            ranges: vec![(self.funcs[func].body_pc, span.end)],
        })
    }

    fn decl(
        &self,
        unit: Unit<'_, 'a>,
        die: &Die<'_, '_, 'a>,
    ) -> gimli::Result<(Option<String>, Option<u32>)> {
        let file = match die.attr_value(gimli::DW_AT_decl_file)? {
            Some(AttributeValue::FileIndex(i)) => self.file_path(unit, i),
            Some(v) => v.udata_value().and_then(|i| self.file_path(unit, i)),
            None => None,
        };
        let line = die
            .attr_value(gimli::DW_AT_decl_line)?
            .and_then(|v| v.udata_value())
            .and_then(|l| u32::try_from(l).ok());
        Ok((file, line))
    }

    /// A frame base as a location holding an address: local N or the C stack-pointer global.
    fn frame_base(&self, unit: Unit<'_, 'a>, e: Expression<R<'a>>, func: usize) -> Option<Value> {
        match ops(unit, e)?.as_slice() {
            [Operation::WasmLocal { index }]
            | [Operation::WasmLocal { index }, Operation::StackValue] => {
                self.local_home(func, *index, 4)
            }
            [Operation::WasmGlobal { index }]
            | [Operation::WasmGlobal { index }, Operation::StackValue] => {
                let a = self.input.global_addrs.get(index)?;
                Some(json!({"kind": "global", "address": a, "size": 4}))
            }
            _ => None,
        }
    }

    /// Where wasm local `index` of function `func` lives, as a `.sym` location.
    fn local_home(&self, func: usize, index: u32, size: u32) -> Option<Value> {
        let span = &self.input.spans[self.funcs[func].span];
        let l = span.locals.get(index as usize)?;
        let words = l.ty.words();
        match (l.home[0], l.home[1]) {
            (Loc::Reg(r), _) if words == 1 => {
                Some(json!({"kind": "register", "index": r, "size": size.min(4)}))
            }
            (Loc::Mem(o), _) if words == 1 => {
                Some(json!({"kind": "stack", "offset": o, "size": size.min(4)}))
            }
            (Loc::Mem(o0), Loc::Mem(o1)) if o1 == o0 + 4 => {
                Some(json!({"kind": "stack", "offset": o0, "size": size.min(8)}))
            }
            // A 64-bit value in a register pair has no `.sym` location.
            _ => None,
        }
    }

    /// A DWARF location expression as a `.sym` location.
    fn location(
        &self,
        unit: Unit<'_, 'a>,
        e: Expression<R<'a>>,
        func: usize,
        frame_base: Option<&Value>,
        size: u32,
    ) -> Option<Value> {
        match ops(unit, e)?.as_slice() {
            [Operation::WasmLocal { index }]
            | [Operation::WasmLocal { index }, Operation::StackValue] => {
                self.local_home(func, *index, size)
            }
            [Operation::WasmGlobal { index }]
            | [Operation::WasmGlobal { index }, Operation::StackValue] => {
                let a = self.input.global_addrs.get(index)?;
                Some(json!({"kind": "global", "address": a, "size": size}))
            }
            [Operation::FrameOffset { offset }] => Some(json!({
                "kind": "indirect", "base": frame_base?, "offset": offset, "size": size
            })),
            [Operation::Address { address }] => {
                Some(json!({"kind": "global", "address": address, "size": size}))
            }
            [Operation::UnsignedConstant { value }, Operation::StackValue] => {
                Some(json!({"kind": "const", "value": *value as u32, "size": size}))
            }
            [Operation::SignedConstant { value }, Operation::StackValue] => {
                Some(json!({"kind": "const", "value": *value as u32, "size": size}))
            }
            _ => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn local(
        &mut self,
        unit: Unit<'_, 'a>,
        die: &Die<'_, '_, 'a>,
        func: usize,
        frame_base: Option<&Value>,
        scope: &[(u32, u32)],
        sym: &mut SymFile,
    ) -> gimli::Result<()> {
        let Some(name) = die
            .attr_value(gimli::DW_AT_name)?
            .and_then(|v| attr_str(unit, v))
        else {
            return Ok(());
        };
        let size = type_size(unit, die, 0).unwrap_or(4);
        let mut locations = Vec::new();
        match die.attr_value(gimli::DW_AT_location)? {
            Some(AttributeValue::Exprloc(e)) => {
                if let Some(loc) = self.location(unit, e, func, frame_base, size) {
                    for &(start, end) in scope {
                        locations.push(LocalLocation {
                            start,
                            end,
                            location: loc.clone(),
                        });
                    }
                }
            }
            Some(v) => {
                if let Some(mut list) = unit.attr_locations(v)? {
                    while let Some(entry) = list.next()? {
                        let Some((start, end)) =
                            self.pc_range(func, entry.range.begin, entry.range.end)
                        else {
                            continue;
                        };
                        if let Some(loc) = self.location(unit, entry.data, func, frame_base, size) {
                            locations.push(LocalLocation {
                                start,
                                end,
                                location: loc,
                            });
                        }
                    }
                }
            }
            None => {}
        }
        let (file, line) = self.decl(unit, die)?;
        let span = &self.input.spans[self.funcs[func].span];
        let function = self.names.get(&func).unwrap_or(&span.name).clone();
        let type_id = self.types.type_of(unit, die);
        sym.symbols.locals.push(Local {
            name: Some(name),
            function,
            file,
            directory: None,
            line,
            scope: None,
            locations,
            ty: type_name(unit, die, 0).map(Value::String),
            type_id,
        });
        Ok(())
    }

    /// A unit-level variable at a fixed data address.
    fn global(
        &mut self,
        unit: Unit<'_, 'a>,
        die: &Die<'_, '_, 'a>,
        sym: &mut SymFile,
    ) -> gimli::Result<()> {
        let Some(name) = die
            .attr_value(gimli::DW_AT_name)?
            .and_then(|v| attr_str(unit, v))
        else {
            return Ok(());
        };
        let Some(AttributeValue::Exprloc(e)) = die.attr_value(gimli::DW_AT_location)? else {
            return Ok(());
        };
        let Some(&[Operation::Address { address }]) = ops(unit, e).as_deref() else {
            return Ok(());
        };
        // wasm-ld leaves dead data at a tombstone address; live data is in the 64 KiB space.
        let Some(address) = u32::try_from(address).ok().filter(|a| *a < 0x1_0000) else {
            return Ok(());
        };
        if sym.symbols.variables.iter().any(|v| v.name == name) {
            return Ok(());
        }
        sym.symbols.variables.push(Variable {
            name,
            address,
            size: type_size(unit, die, 0).unwrap_or(0),
            scope: Some("global".into()),
            ty: type_name(unit, die, 0).map(Value::String),
            type_id: self.types.type_of(unit, die),
        });
        Ok(())
    }
}

/// The scope a DIE's variables belong to.
#[derive(Clone)]
enum Scope {
    /// A translated function (or a block in one) with its code ranges.
    Func {
        func: usize,
        frame_base: Option<Value>,
        ranges: Vec<(u32, u32)>,
    },
    /// Something whose variables are not described (not translated, inlined).
    Skip,
}

fn ops<'a>(unit: Unit<'_, 'a>, e: Expression<R<'a>>) -> Option<Vec<Operation<R<'a>>>> {
    let mut it = e.operations(unit.encoding());
    let mut out = Vec::new();
    while let Some(op) = it.next().ok()? {
        out.push(op);
        if out.len() > 16 {
            return None;
        }
    }
    Some(out)
}

fn type_die<'u, 'a>(
    unit: Unit<'u, 'a>,
    die: &Die<'_, '_, 'a>,
) -> Option<gimli::EntriesCursor<'u, 'u, R<'a>>> {
    let Ok(Some(AttributeValue::UnitRef(off))) = die.attr_value(gimli::DW_AT_type) else {
        return None;
    };
    let mut cursor = unit.unit.entries_at_offset(UnitOffset(off.0)).ok()?;
    cursor.next_entry().ok()?;
    Some(cursor)
}

fn udata(die: &Die<'_, '_, '_>, at: DwAt) -> Option<u64> {
    die.attr_value(at).ok()??.udata_value()
}

/// Byte size of `die`'s type (`DW_AT_type` chased through typedefs and qualifiers).
fn type_size<'a>(unit: Unit<'_, 'a>, die: &Die<'_, '_, 'a>, depth: u32) -> Option<u32> {
    if depth > 16 {
        return None;
    }
    let cursor = type_die(unit, die)?;
    let t = cursor.current()?;
    if let Some(s) = udata(t, gimli::DW_AT_byte_size) {
        return u32::try_from(s).ok();
    }
    match t.tag() {
        gimli::DW_TAG_pointer_type => Some(4),
        gimli::DW_TAG_array_type => {
            let elem = type_size(unit, t, depth + 1)?;
            let mut n = 1u64;
            let mut sub = unit.unit.entries_at_offset(t.offset()).ok()?;
            sub.next_dfs().ok()?;
            let mut level = 0isize;
            while let Ok(Some((d, child))) = sub.next_dfs() {
                level += d;
                if level <= 0 {
                    break;
                }
                if level == 1 && child.tag() == gimli::DW_TAG_subrange_type {
                    let count = udata(child, gimli::DW_AT_count)
                        .or_else(|| udata(child, gimli::DW_AT_upper_bound).map(|u| u + 1))?;
                    n = n.saturating_mul(count);
                }
            }
            u32::try_from(n.saturating_mul(u64::from(elem))).ok()
        }
        _ => type_size(unit, t, depth + 1),
    }
}

/// A short C spelling of `die`'s type (`int`, `char*`, `int[4]`), when it has one.
fn type_name<'a>(unit: Unit<'_, 'a>, die: &Die<'_, '_, 'a>, depth: u32) -> Option<String> {
    if depth > 16 {
        return None;
    }
    let cursor = type_die(unit, die)?;
    let t = cursor.current()?;
    if let Some(n) = t
        .attr_value(gimli::DW_AT_name)
        .ok()
        .flatten()
        .and_then(|v| attr_str(unit, v))
    {
        return Some(n);
    }
    let inner = || type_name(unit, t, depth + 1);
    match t.tag() {
        gimli::DW_TAG_pointer_type => Some(format!("{}*", inner().unwrap_or("void".into()))),
        gimli::DW_TAG_array_type => Some(format!("{}[]", inner()?)),
        gimli::DW_TAG_const_type => Some(format!("const {}", inner()?)),
        _ => inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(join_path("/tmp/w", "prog.c"), "/tmp/w/prog.c");
        assert_eq!(join_path("/tmp/w/", "/abs/x.c"), "/abs/x.c");
        assert_eq!(join_path("", "x.c"), "x.c");
        assert_eq!(
            tidy_path("./build/./libc/crt1.c"),
            "build/libc/crt1.c".to_string()
        );
    }
}
