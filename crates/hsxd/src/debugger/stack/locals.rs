//! Frame-local variables for `watch` (§2.4.6) and a debugger's "Locals" scope: finding a
//! local live at a PC, and reading its bytes in a frame.

use hsx_image::sym::{Local, SymTable};
use serde_json::{Map, Value, json};

use super::frame::MEM_END;
use super::local_error::LocalError;
use super::location::{Storage, loose_int, parse_location};
use crate::debugger::SymbolHit;
use crate::hex::to_hex;

/// Longest local-variable read.
pub const MAX_LOCAL_READ: u32 = 0x1000;

/// Splits a local expression: `local:<var>`, `<func>::<var>`, `<var>@<func>` or `<var>`.
/// Returns `(function, variable)`.
pub fn parse_local_expr(expr: &str) -> Result<(Option<&str>, &str), LocalError> {
    let mut e = expr.trim();
    if e.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("local:")) {
        e = e.get(6..).unwrap_or("").trim();
    }
    if e.is_empty() {
        return Err(LocalError::EmptyExpression);
    }
    let (func, var) = if let Some((f, v)) = e.split_once("::") {
        (Some(f.trim()), v.trim())
    } else if let Some((v, f)) = e.split_once('@') {
        (Some(f.trim()), v.trim())
    } else {
        (None, e)
    };
    if var.is_empty() {
        return Err(LocalError::MissingVariable);
    }
    Ok((func.filter(|f| !f.is_empty()), var))
}

/// A local resolved for one PC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalVar {
    /// Enclosing function.
    pub function: String,
    /// Variable name.
    pub name: String,
    /// Where it lives at this PC.
    pub storage: Storage,
    /// Size from the location descriptor, when given.
    pub size: Option<u32>,
    /// Declaration file.
    pub file: Option<String>,
    /// Declaration line.
    pub line: Option<u32>,
}

/// The first location range of `local` that covers `pc` (`start <= pc < end`; an `end` of
/// 0 means the range is open).
fn live_location(local: &Local, pc: u32) -> Option<&Value> {
    local
        .locations
        .iter()
        .find(|l| pc >= l.start && (l.end == 0 || pc < l.end))
        .map(|l| &l.location)
}

/// The function a PC is in, by the function table, else by the nearest symbol.
pub fn function_at(table: &SymTable, pc: u32) -> Option<String> {
    SymbolHit::function_or_nearest(table, pc).map(|h| h.entry.name)
}

fn local_var(function: &str, local: &Local, loc: &Value) -> Result<LocalVar, LocalError> {
    let size = loc
        .get("size")
        .and_then(|v| loose_int(Some(v)))
        .and_then(|s| u32::try_from(s).ok())
        .filter(|s| *s > 0);
    Ok(LocalVar {
        function: function.to_string(),
        name: local.name.clone().unwrap_or_default(),
        storage: parse_location(loc)?,
        size,
        file: local.file.clone(),
        line: local.line,
    })
}

/// Finds `name` among the locals of `function` (default: the function at `pc`) that are
/// live at `pc`.
pub fn find_local(
    table: &SymTable,
    function: Option<&str>,
    name: &str,
    pc: u32,
) -> Result<LocalVar, LocalError> {
    let func = match function {
        Some(f) => f.to_string(),
        None => function_at(table, pc).ok_or(LocalError::NoFunction)?,
    };
    let mut any = false;
    for local in table.locals_of(&func) {
        any = true;
        if local.name.as_deref() != Some(name) {
            continue;
        }
        if let Some(loc) = live_location(local, pc) {
            return local_var(&func, local, loc);
        }
    }
    if !any {
        return Err(LocalError::NoLocals(func));
    }
    Err(LocalError::NotLive {
        name: name.to_string(),
        function: func,
    })
}

/// The frame a local is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameCtx<'a> {
    /// The frame's PC.
    pub pc: u32,
    /// The frame's R7.
    pub fp: Option<u32>,
    /// Registers, for frame 0 only.
    pub regs: Option<&'a [u32; 16]>,
}

/// Bytes of a local and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalValue {
    /// The bytes (shorter than asked only at the end of memory).
    pub bytes: Vec<u8>,
    /// Data address, for memory-backed locals (16 bits).
    pub address: Option<u32>,
    /// `fp-0x8`, `R5`, `sym+0x4`, `0x4000` or `const`.
    pub location: String,
}

fn stack_location_text(offset: i64) -> String {
    match offset {
        0 => "fp".to_string(),
        o if o > 0 => format!("fp+0x{o:X}"),
        o => format!("fp-0x{:X}", o.unsigned_abs()),
    }
}

fn value_bytes(value: u32, length: u32) -> Vec<u8> {
    let mut v = value.to_le_bytes().to_vec();
    v.resize(length as usize, 0);
    v
}

fn read_mem<F: Fn(u32, &mut [u8]) -> usize>(read: &F, address: u32, length: u32) -> Vec<u8> {
    let room = MEM_END - u64::from(address & 0xFFFF);
    let n = u64::from(length).min(room) as usize;
    let mut buf = vec![0u8; n];
    let got = read(address & 0xFFFF, &mut buf).min(n);
    buf.truncate(got);
    buf
}

fn offset_addr(base: u32, offset: i64) -> u32 {
    ((i64::from(base) + offset) & 0xFFFF) as u32
}

/// Reads `length` bytes (capped at [`MAX_LOCAL_READ`]) of a resolved local in `frame`.
pub fn read_local<F>(
    table: &SymTable,
    var: &LocalVar,
    frame: &FrameCtx<'_>,
    length: u32,
    read: F,
) -> Result<LocalValue, LocalError>
where
    F: Fn(u32, &mut [u8]) -> usize,
{
    let length = length.clamp(1, MAX_LOCAL_READ);
    match &var.storage {
        Storage::Stack { offset } => {
            let fp = frame.fp.ok_or(LocalError::NoFramePointer)?;
            let address = offset_addr(fp, *offset);
            Ok(LocalValue {
                bytes: read_mem(&read, address, length),
                address: Some(address),
                location: stack_location_text(*offset),
            })
        }
        Storage::Register { index } => {
            let value = frame
                .regs
                .and_then(|r| r.get(usize::from(*index)))
                .ok_or(LocalError::RegisterUnavailable(*index))?;
            Ok(LocalValue {
                bytes: value_bytes(*value, length),
                address: None,
                location: format!("R{index}"),
            })
        }
        Storage::Global {
            symbol,
            address,
            offset,
        } => {
            let base = address
                .or_else(|| {
                    symbol
                        .as_deref()
                        .and_then(|s| table.symbol(s))
                        .map(|s| s.address)
                })
                .ok_or_else(|| {
                    LocalError::BadLocation("global location missing base address".into())
                })?;
            let addr = offset_addr(base, *offset);
            let location = match symbol {
                Some(s) if *offset != 0 => format!("{s}+0x{offset:X}"),
                Some(s) => s.clone(),
                None => format!("0x{addr:04X}"),
            };
            Ok(LocalValue {
                bytes: read_mem(&read, addr, length),
                address: Some(addr),
                location,
            })
        }
        Storage::Const { value } => Ok(LocalValue {
            bytes: value_bytes(*value, length),
            address: None,
            location: "const".to_string(),
        }),
        Storage::Indirect { base, offset } => {
            let inner = LocalVar {
                storage: (**base).clone(),
                ..var.clone()
            };
            // Through `dyn` so the recursion instantiates one more copy, not infinitely many.
            let read_dyn: &dyn Fn(u32, &mut [u8]) -> usize = &read;
            let b = read_local(table, &inner, frame, 4, read_dyn)?;
            let Ok(word) = <[u8; 4]>::try_from(b.bytes.as_slice()) else {
                return Err(LocalError::BadLocation(format!(
                    "cannot read the base address at {}",
                    b.location
                )));
            };
            let address = offset_addr(u32::from_le_bytes(word), *offset);
            let location = match offset {
                0 => format!("[{}]", b.location),
                o if *o > 0 => format!("[{}]+0x{o:X}", b.location),
                o => format!("[{}]-0x{:X}", b.location, o.unsigned_abs()),
            };
            Ok(LocalValue {
                bytes: read_mem(&read, address, length),
                address: Some(address),
                location,
            })
        }
    }
}

/// A local watch resolved and read (`watch add` with a local expression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalWatch {
    /// The variable.
    pub var: LocalVar,
    /// Its current bytes.
    pub value: LocalValue,
    /// Bytes watched.
    pub length: u32,
    /// `func::var` (the record's `description`).
    pub description: String,
}

/// Resolves and reads a local watch expression in `frame`. `length` overrides the size
/// from the `.sym` (default 4).
pub fn resolve_local_watch<F>(
    table: Option<&SymTable>,
    expr: &str,
    frame: &FrameCtx<'_>,
    length: Option<u32>,
    read: F,
) -> Result<LocalWatch, LocalError>
where
    F: Fn(u32, &mut [u8]) -> usize,
{
    let (func, name) = parse_local_expr(expr)?;
    let table = table.ok_or(LocalError::NoSymbols)?;
    let var = find_local(table, func, name, frame.pc)?;
    let length = length.or(var.size).unwrap_or(4).clamp(1, MAX_LOCAL_READ);
    let value = read_local(table, &var, frame, length, read)?;
    let description = format!("{}::{}", var.function, var.name);
    Ok(LocalWatch {
        var,
        value,
        length,
        description,
    })
}

/// Every local of the function at `frame.pc` that is live there, read from `frame`:
/// `[{name, function, location, address, size, value, file, line, error?}]` (a local that
/// cannot be read has `error` and a null `value`). For a debugger's "Locals" scope.
pub fn frame_locals<F>(table: &SymTable, frame: &FrameCtx<'_>, read: F) -> Vec<Value>
where
    F: Fn(u32, &mut [u8]) -> usize,
{
    let Some(func) = function_at(table, frame.pc) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for local in table.locals_of(&func) {
        let Some(loc) = live_location(local, frame.pc) else {
            continue;
        };
        let mut m = Map::new();
        m.insert("name".into(), json!(local.name));
        m.insert("function".into(), json!(func));
        m.insert("file".into(), json!(local.file));
        m.insert("line".into(), json!(local.line));
        let result = local_var(&func, local, loc).and_then(|var| {
            let len = var.size.unwrap_or(4);
            read_local(table, &var, frame, len, &read).map(|v| (var, v))
        });
        match result {
            Ok((var, v)) => {
                m.insert("location".into(), json!(v.location));
                m.insert("address".into(), json!(v.address));
                m.insert("size".into(), json!(var.size.unwrap_or(4)));
                m.insert("value".into(), json!(to_hex(&v.bytes)));
            }
            Err(e) => {
                m.insert("value".into(), Value::Null);
                m.insert("error".into(), json!(e.to_string()));
            }
        }
        out.push(Value::Object(m));
    }
    out
}
