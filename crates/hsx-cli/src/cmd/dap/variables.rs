//! `scopes`, `variables` and `setVariable`: Locals (the `.sym` locals live at the frame's
//! PC, read where they live), Globals (the `.sym` variables) and Registers, with C types
//! from the `.sym` type table; structs, unions, arrays and pointers expand.

use std::cell::RefCell;

use hsx_image::sym::SymTable;
use hsxd::debugger::stack::{FrameCtx, LocalVar, function_at, parse_location, read_local};
use serde_json::{Value, json};

use super::ctypes::{Shape, Types, le_u64, scalar_text, shape_from_name, sign_extend};
use super::refs::{Child, FrameRec, TypeRef, VarRef, frame_of};
use super::session::{DapError, DapResult, Session};
use crate::client::{Client, request};

/// Most children listed for one container (arrays page beyond it with `start`/`count`).
const MAX_CHILDREN: usize = 1000;
/// Most bytes read for one value.
pub(super) const MAX_VALUE_BYTES: u32 = 4096;
/// Most globals listed.
const MAX_GLOBALS: usize = 2000;

/// A member to read: (name, evaluate name, address, type, bit-field bits).
type Spec = (String, String, u32, TypeRef, Option<(u32, u32)>);

/// Reads task memory through `peek` (at most [`MAX_VALUE_BYTES`]).
pub(super) fn peek(client: &mut Client, pid: u32, addr: u32, len: u32) -> Vec<u8> {
    let len = len.min(MAX_VALUE_BYTES).min(0x1_0000 - (addr & 0xFFFF));
    if len == 0 {
        return Vec::new();
    }
    let Ok(r) = client.call(&request(
        "peek",
        json!({"pid": pid, "addr": addr & 0xFFFF, "length": len}),
    )) else {
        return Vec::new();
    };
    r.get("data")
        .and_then(Value::as_str)
        .map(hex_decode)
        .unwrap_or_default()
}

/// Lower-case hex → bytes (what `peek` answers); stops at the first bad pair.
pub(super) fn hex_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks_exact(2) {
        let Ok(t) = std::str::from_utf8(pair) else {
            break;
        };
        let Ok(v) = u8::from_str_radix(t, 16) else {
            break;
        };
        out.push(v);
    }
    out
}

/// Bytes → hex for `poke`.
pub(super) fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The type table of `table` (empty without one).
pub(super) fn types_of(table: &SymTable) -> Types<'_> {
    Types::new(&table.file().types)
}

/// The shape of `ty` in `table`.
pub(super) fn shape_of(table: Option<&SymTable>, ty: &TypeRef) -> Shape {
    match (table, ty.id) {
        (Some(t), Some(id)) => types_of(t).shape(id),
        _ => shape_from_name(ty.name.as_deref(), ty.size),
    }
}

/// The display name of `ty`.
pub(super) fn type_name(table: Option<&SymTable>, ty: &TypeRef) -> String {
    match (table, ty.id) {
        (Some(t), Some(id)) => types_of(t).name(id),
        _ => ty
            .name
            .clone()
            .unwrap_or_else(|| format!("{} bytes", ty.size)),
    }
}

impl Session {
    /// Frame `index` of `pid` from the last `stackTrace` (walked again when missing).
    pub(super) fn frame(&mut self, pid: u32, index: u32) -> DapResult<FrameRec> {
        if !self.refs.frames.contains_key(&pid) {
            self.walk_stack(pid)?;
        }
        self.refs
            .frames
            .get(&pid)
            .and_then(|f| f.get(index as usize))
            .copied()
            .ok_or_else(|| DapError(format!("no frame {index} in task {pid}")))
    }

    /// Registers of `pid` (`dumpregs`): R0..R15, pc, sp, psw.
    pub(super) fn registers(&mut self, pid: u32) -> DapResult<([u32; 16], u32, u32, u32)> {
        let r = self.call("dumpregs", json!({"pid": pid}))?;
        let regs = r.get("registers").unwrap_or(&r);
        let mut out = [0u32; 16];
        if let Some(a) = regs.get("regs").and_then(Value::as_array) {
            for (o, v) in out.iter_mut().zip(a) {
                *o = v.as_u64().unwrap_or(0) as u32;
            }
        }
        let g = |k: &str| regs.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
        Ok((out, g("pc"), g("sp"), g("psw")))
    }

    /// The locals live in frame `index` of `pid`.
    pub(super) fn frame_locals(&mut self, pid: u32, index: u32) -> DapResult<Vec<Child>> {
        let Some(table) = self.syms.table(pid) else {
            return Ok(Vec::new());
        };
        let f = self.frame(pid, index)?;
        let regs = if index == 0 {
            Some(self.registers(pid)?.0)
        } else {
            None
        };
        let Some(func) = function_at(&table, f.pc) else {
            return Ok(Vec::new());
        };
        let client = RefCell::new(self.client()?);
        let ctx = FrameCtx {
            pc: f.pc,
            fp: f.fp,
            regs: regs.as_ref(),
        };
        let mut out: Vec<Child> = Vec::new();
        for local in table.locals_of(&func).take(MAX_CHILDREN) {
            let Some(loc) = local
                .locations
                .iter()
                .find(|l| f.pc >= l.start && (l.end == 0 || f.pc < l.end))
            else {
                continue;
            };
            let name = local.name.clone().unwrap_or_default();
            if out.iter().any(|c| c.name == name) {
                continue; // an inner block's variable shadows the outer one
            }
            let loc_size = loc
                .location
                .get("size")
                .and_then(Value::as_u64)
                .map(|s| s as u32);
            let tref = TypeRef {
                id: local.type_id,
                name: local
                    .ty
                    .as_ref()
                    .and_then(Value::as_str)
                    .map(str::to_string),
                size: local
                    .type_id
                    .map(|id| types_of(&table).size(id))
                    .filter(|s| *s > 0)
                    .or(loc_size)
                    .unwrap_or(4),
            };
            let mut child = Child {
                name: name.clone(),
                evaluate_name: name.clone(),
                pid,
                addr: None,
                reg: None,
                bytes: Vec::new(),
                ty: tref.clone(),
                error: None,
            };
            match parse_location(&loc.location) {
                Ok(storage) => {
                    if let hsxd::debugger::stack::Storage::Register { index: r } = &storage {
                        child.reg = Some(*r);
                    }
                    let var = LocalVar {
                        function: func.clone(),
                        name,
                        storage,
                        size: Some(tref.size),
                        file: local.file.clone(),
                        line: local.line,
                    };
                    let read = |addr: u32, buf: &mut [u8]| -> usize {
                        let got = peek(&mut client.borrow_mut(), pid, addr, buf.len() as u32);
                        let n = got.len().min(buf.len());
                        buf[..n].copy_from_slice(&got[..n]);
                        n
                    };
                    match read_local(&table, &var, &ctx, tref.size.min(MAX_VALUE_BYTES), read) {
                        Ok(v) => {
                            child.addr = v.address;
                            child.bytes = v.bytes;
                        }
                        Err(e) => child.error = Some(e.to_string()),
                    }
                }
                Err(e) => child.error = Some(e.to_string()),
            }
            out.push(child);
        }
        Ok(out)
    }

    /// The `.sym` variables of `pid`.
    pub(super) fn globals(&mut self, pid: u32) -> DapResult<Vec<Child>> {
        let Some(table) = self.syms.table(pid) else {
            return Ok(Vec::new());
        };
        let client = self.client()?;
        let mut out = Vec::new();
        for v in table.file().symbols.variables.iter().take(MAX_GLOBALS) {
            let size = v
                .type_id
                .map(|id| types_of(&table).size(id))
                .filter(|s| *s > 0)
                .unwrap_or(if v.size == 0 { 4 } else { v.size });
            let ty = TypeRef {
                id: v.type_id,
                name: v.ty.as_ref().and_then(Value::as_str).map(str::to_string),
                size,
            };
            out.push(Child {
                name: v.name.clone(),
                evaluate_name: v.name.clone(),
                pid,
                addr: Some(v.address),
                reg: None,
                bytes: peek(client, pid, v.address, size.min(MAX_VALUE_BYTES)),
                ty,
                error: None,
            });
        }
        Ok(out)
    }

    /// Members, elements or the pointee of a value at `addr`.
    pub(super) fn members(
        &mut self,
        pid: u32,
        addr: u32,
        ty: &TypeRef,
        parent: &str,
        start: usize,
        count: usize,
    ) -> DapResult<Vec<Child>> {
        let table = self.syms.table(pid);
        let shape = shape_of(table.as_deref(), ty);
        let types = table.as_deref().map(types_of);
        let elem_ty = |id: Option<u32>| TypeRef {
            id,
            name: None,
            size: match (types, id) {
                (Some(t), Some(i)) => t.size(i),
                _ => 4,
            },
        };
        let mut specs: Vec<Spec> = Vec::new();
        match shape {
            Shape::Record { members, .. } => {
                for m in members
                    .into_iter()
                    .skip(start)
                    .take(count.min(MAX_CHILDREN))
                {
                    let t = elem_ty(m.ty);
                    specs.push((
                        m.name.clone(),
                        format!("{parent}.{}", m.name),
                        addr.wrapping_add(m.offset),
                        t,
                        m.bits,
                    ));
                }
            }
            Shape::Array {
                element, count: n, ..
            } => {
                let t = elem_ty(element);
                let stride = t.size.max(1);
                let end = (n as usize).min(start.saturating_add(count.min(MAX_CHILDREN)));
                for i in start..end {
                    specs.push((
                        format!("[{i}]"),
                        format!("{parent}[{i}]"),
                        addr.wrapping_add(stride.saturating_mul(i as u32)),
                        t.clone(),
                        None,
                    ));
                }
            }
            Shape::Pointer {
                target: Some(target),
            } => {
                let client = self.client()?;
                let p = le_u64(&peek(client, pid, addr, 4)) as u32;
                specs.push((
                    format!("*{parent}"),
                    format!("*{parent}"),
                    p,
                    elem_ty(Some(target)),
                    None,
                ));
            }
            _ => {}
        }
        let client = self.client()?;
        let mut out = Vec::new();
        for (name, evaluate_name, a, t, bits) in specs {
            let mut bytes = peek(client, pid, a, t.size.min(MAX_VALUE_BYTES));
            if let Some((bit_size, bit_offset)) = bits {
                // A bit-field: the bits of the storage unit, shifted down (little-endian).
                let unit = le_u64(&peek(client, pid, a, 8));
                let mask = if bit_size >= 64 {
                    u64::MAX
                } else {
                    (1u64 << bit_size) - 1
                };
                bytes = ((unit >> bit_offset) & mask).to_le_bytes()[..t.size.clamp(1, 8) as usize]
                    .to_vec();
            }
            out.push(Child {
                name,
                evaluate_name,
                pid,
                addr: Some(a),
                reg: None,
                bytes,
                ty: t,
                error: None,
            });
        }
        Ok(out)
    }

    /// The DAP `Variable` for `c` (registering a reference when it expands).
    pub(super) fn render(&mut self, c: &Child, hex: bool) -> Value {
        let table = self.syms.table(c.pid);
        let shape = shape_of(table.as_deref(), &c.ty);
        let tname = type_name(table.as_deref(), &c.ty);
        let mut reference = 0;
        let mut indexed = None;
        let mut named = None;
        let value = if let Some(e) = &c.error {
            format!("<{e}>")
        } else if let Some(t) = scalar_text(&shape, &c.bytes, hex) {
            if let (
                Shape::Pointer {
                    target: Some(target),
                },
                Some(addr),
            ) = (&shape, c.addr)
            {
                let void = table
                    .as_deref()
                    .is_some_and(|t| types_of(t).size(*target) == 0);
                if !void && le_u64(&c.bytes) != 0 {
                    reference = self.refs.add(VarRef::Children {
                        pid: c.pid,
                        addr,
                        ty: c.ty.clone(),
                        name: c.evaluate_name.clone(),
                    });
                    named = Some(1);
                }
            }
            t
        } else {
            if let Some(addr) = c.addr {
                reference = self.refs.add(VarRef::Children {
                    pid: c.pid,
                    addr,
                    ty: c.ty.clone(),
                    name: c.evaluate_name.clone(),
                });
            }
            match &shape {
                Shape::Array { count, .. } => {
                    indexed = Some(*count);
                    tname.to_string()
                }
                Shape::Record { members, .. } => {
                    named = Some(members.len() as u32);
                    format!("{tname} {{…}}")
                }
                _ => tname.clone(),
            }
        };
        let mut v = json!({
            "name": c.name,
            "value": value,
            "type": tname,
            "evaluateName": c.evaluate_name,
            "variablesReference": reference,
        });
        if let Some(a) = c.addr {
            v["memoryReference"] = json!(format!("0x{a:04x}"));
        }
        if let Some(n) = indexed {
            v["indexedVariables"] = json!(n);
        }
        if let Some(n) = named {
            v["namedVariables"] = json!(n);
        }
        v
    }

    fn register_children(&mut self, pid: u32, frame: u32) -> DapResult<Vec<(String, u32)>> {
        if frame == 0 {
            let (regs, pc, sp, psw) = self.registers(pid)?;
            let mut out: Vec<(String, u32)> = regs
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("R{i}"), *v))
                .collect();
            out.push(("PC".into(), pc));
            out.push(("SP".into(), sp));
            out.push(("PSW".into(), psw));
            return Ok(out);
        }
        // Only frame 0 has registers; a caller frame has what the walk recovered.
        let f = self.frame(pid, frame)?;
        let mut out = vec![("PC".to_string(), f.pc), ("SP".to_string(), f.sp)];
        if let Some(fp) = f.fp {
            out.push(("R7".into(), fp));
        }
        Ok(out)
    }

    /// The children of reference `r`.
    fn children_of(&mut self, r: &VarRef, start: usize, count: usize) -> DapResult<Vec<Child>> {
        match r {
            VarRef::Locals { pid, frame } => self.frame_locals(*pid, *frame),
            VarRef::Globals { pid } => self.globals(*pid),
            VarRef::Children {
                pid,
                addr,
                ty,
                name,
            } => self.members(*pid, *addr, ty, name, start, count),
            VarRef::Registers { pid, frame } => Ok(self
                .register_children(*pid, *frame)?
                .into_iter()
                .map(|(name, v)| Child {
                    evaluate_name: name.clone(),
                    reg: register_index(&name),
                    name,
                    pid: *pid,
                    addr: None,
                    bytes: v.to_le_bytes().to_vec(),
                    ty: TypeRef {
                        id: None,
                        name: Some("unsigned int".into()),
                        size: 4,
                    },
                    error: None,
                })
                .collect()),
        }
    }

    /// `scopes {frameId}`.
    pub(super) fn scopes(&mut self, args: &Value) -> DapResult<Value> {
        let id = args
            .get("frameId")
            .and_then(Value::as_i64)
            .ok_or("scopes requires frameId")?;
        let (pid, frame) = frame_of(id).ok_or("bad frameId")?;
        let locals = self.refs.add(VarRef::Locals { pid, frame });
        let globals = self.refs.add(VarRef::Globals { pid });
        let regs = self.refs.add(VarRef::Registers { pid, frame });
        Ok(json!({"scopes": [
            {"name": "Locals", "presentationHint": "locals", "variablesReference": locals, "expensive": false},
            {"name": "Globals", "variablesReference": globals, "expensive": false},
            {"name": "Registers", "presentationHint": "registers", "variablesReference": regs, "expensive": false},
        ]}))
    }

    /// `variables {variablesReference, start?, count?, format?}`.
    pub(super) fn variables(&mut self, args: &Value) -> DapResult<Value> {
        let id = args
            .get("variablesReference")
            .and_then(Value::as_i64)
            .ok_or("variables requires variablesReference")?;
        let r = self
            .refs
            .get(id)
            .ok_or("unknown or stale variablesReference")?;
        let hex = args
            .pointer("/format/hex")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let start = args.get("start").and_then(Value::as_u64).unwrap_or(0) as usize;
        let count = args
            .get("count")
            .and_then(Value::as_u64)
            .filter(|c| *c > 0)
            .unwrap_or(MAX_CHILDREN as u64) as usize;
        let kids = self.children_of(&r, start, count)?;
        let hex = hex || matches!(r, VarRef::Registers { .. });
        let vars: Vec<Value> = kids.iter().map(|c| self.render(c, hex)).collect();
        Ok(json!({"variables": vars}))
    }

    /// The (pid, address, length) of child `name` of reference `r`, for a data breakpoint.
    pub(super) fn child_location(&mut self, r: i64, name: &str) -> Option<(u32, u32, u32)> {
        let vr = self.refs.get(r)?;
        let kids = self.children_of(&vr, 0, MAX_CHILDREN).ok()?;
        let c = kids.into_iter().find(|c| c.name == name)?;
        Some((c.pid, c.addr?, c.ty.size.clamp(1, 256)))
    }

    /// Writes `value` (an expression) into `c`: memory by `poke`, a register by `reg.set`.
    pub(super) fn assign(
        &mut self,
        c: &Child,
        value: &str,
        frame: Option<(u32, u32)>,
    ) -> DapResult<Child> {
        let table = self.syms.table(c.pid);
        let shape = shape_of(table.as_deref(), &c.ty);
        let size = c.ty.size.clamp(1, 8) as usize;
        let bytes: Vec<u8> = match shape {
            Shape::Float { size: fs } => {
                let f = self.eval_number(value, frame)?.as_f64();
                if fs == 8 {
                    f.to_le_bytes().to_vec()
                } else {
                    (f as f32).to_le_bytes().to_vec()
                }
            }
            Shape::Int { .. }
            | Shape::Pointer { .. }
            | Shape::Enum { .. }
            | Shape::Bytes { size: 1..=8 } => {
                let n = match (&shape, value.trim()) {
                    (Shape::Enum { values, .. }, v) if values.iter().any(|(n, _)| n == v) => {
                        values.iter().find(|(n, _)| n == v).map_or(0, |(_, x)| *x)
                    }
                    _ => self.eval_number(value, frame)?.as_i64(),
                };
                n.to_le_bytes()[..size].to_vec()
            }
            _ => return Err("only scalar values can be set".into()),
        };
        if let Some(r) = c.reg {
            let v = sign_extend(le_u64(&bytes), (size * 8) as u32);
            let v = if v < 0 { i64::from(v as i32 as u32) } else { v };
            let reg = if c.name.starts_with('R') || matches!(c.name.as_str(), "PC" | "SP" | "PSW") {
                c.name.clone()
            } else {
                format!("R{r}")
            };
            self.call("reg.set", json!({"pid": c.pid, "reg": reg, "value": v}))?;
        } else if let Some(a) = c.addr {
            self.call(
                "poke",
                json!({"pid": c.pid, "addr": a, "data": hex_encode(&bytes)}),
            )?;
        } else if matches!(c.name.as_str(), "PC" | "SP" | "PSW") {
            self.call(
                "reg.set",
                json!({"pid": c.pid, "reg": c.name, "value": le_u64(&bytes)}),
            )?;
        } else {
            return Err(DapError(format!(
                "'{}' cannot be written (not in memory or a register)",
                c.name
            )));
        }
        if c.addr.is_none() {
            // A register write may move the frame (R7, SP, PC): walk the stack again.
            self.refs.frames.remove(&c.pid);
        }
        let mut out = c.clone();
        out.bytes = match c.addr {
            Some(a) if c.reg.is_none() => {
                peek(self.client()?, c.pid, a, c.ty.size.min(MAX_VALUE_BYTES))
            }
            _ => bytes,
        };
        Ok(out)
    }

    /// `setVariable {variablesReference, name, value, format?}`.
    pub(super) fn set_variable(&mut self, args: &Value) -> DapResult<Value> {
        let id = args
            .get("variablesReference")
            .and_then(Value::as_i64)
            .ok_or("setVariable requires variablesReference")?;
        let name = args
            .get("name")
            .and_then(Value::as_str)
            .ok_or("setVariable requires name")?;
        let value = args
            .get("value")
            .and_then(Value::as_str)
            .ok_or("setVariable requires value")?;
        let hex = args
            .pointer("/format/hex")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let r = self
            .refs
            .get(id)
            .ok_or("unknown or stale variablesReference")?;
        let frame = match &r {
            VarRef::Locals { pid, frame } | VarRef::Registers { pid, frame } => {
                Some((*pid, *frame))
            }
            VarRef::Globals { pid } | VarRef::Children { pid, .. } => Some((*pid, 0)),
        };
        let kids = self.children_of(&r, 0, MAX_CHILDREN)?;
        let c = kids
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| DapError(format!("no variable '{name}'")))?;
        if let (VarRef::Registers { frame: f, .. }, true) = (&r, frame.is_some_and(|(_, f)| f != 0))
        {
            let _ = f;
            return Err("registers of caller frames cannot be set".into());
        }
        let written = self.assign(&c, value, frame)?;
        let v = self.render(&written, hex || matches!(r, VarRef::Registers { .. }));
        Ok(
            json!({"value": v["value"], "type": v["type"], "variablesReference": v["variablesReference"]}),
        )
    }
}

/// `R0`..`R15` → index.
pub(super) fn register_index(name: &str) -> Option<u8> {
    let n = name.strip_prefix('R').or_else(|| name.strip_prefix('r'))?;
    n.parse::<u8>().ok().filter(|i| *i < 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_helpers_and_register_names() {
        assert_eq!(hex_decode("00ff10"), vec![0, 255, 16]);
        assert_eq!(hex_decode("0g"), Vec::<u8>::new());
        assert_eq!(hex_encode(&[1, 171]), "01ab");
        assert_eq!(register_index("R15"), Some(15));
        assert_eq!(register_index("R16"), None);
        assert_eq!(register_index("PC"), None);
    }
}
