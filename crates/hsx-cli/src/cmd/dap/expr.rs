//! `evaluate`: C-ish expressions over a stopped task. Names are locals of the frame, then
//! globals, then registers (`R0`..`R15`, `PC`, `SP`, `PSW`, `FP`), then code symbols
//! (their address). Postfix `.m`, `->m`, `[i]`; prefix `*`, `&`, `-`, `~`, `!`; casts
//! `(T*)` to a base type pointer (`*(int*)0x4000`); binary `* / % + - << >> & ^ |` and
//! comparisons on integers. Input is bounded in length and nesting.

use serde_json::{Value, json};

use super::ctypes::{Shape, le_u64, sign_extend};
use super::expr_lex::{Num, Tok, apply, base_type, lex_all, op_static};
use super::refs::{Child, TypeRef, frame_of};
use super::session::{DapError, DapResult, Session};
use super::variables::{MAX_VALUE_BYTES, peek, register_index, shape_of, types_of};

/// Longest expression accepted.
const MAX_EXPR: usize = 512;
/// Deepest nesting (parentheses, unary chains).
const MAX_DEPTH: u32 = 32;

/// What an expression denotes.
#[derive(Debug, Clone)]
enum Val {
    /// Something with a place and a type.
    Place(Child),
    /// A plain number.
    Num(Num),
}

struct Parser<'s> {
    toks: Vec<Tok>,
    pos: usize,
    s: &'s mut Session,
    pid: u32,
    frame: u32,
    depth: u32,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, op: &str) -> bool {
        if self.peek() == Some(&Tok::Op(op_static(op))) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> DapResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        Ok(())
    }

    fn binary(&mut self, level: usize) -> DapResult<Val> {
        const LEVELS: [&[&str]; 9] = [
            &["||"],
            &["&&"],
            &["|"],
            &["^"],
            &["&"],
            &["==", "!="],
            &["<", ">", "<=", ">="],
            &["<<", ">>", "+", "-"],
            &["*", "/", "%"],
        ];
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        self.enter()?;
        let mut lhs = self.binary(level + 1)?;
        while let Some(Tok::Op(op)) = self.peek().cloned() {
            if !ops.contains(&op) {
                break;
            }
            self.pos += 1;
            let rhs = self.binary(level + 1)?;
            let (a, b) = (self.num(&lhs)?, self.num(&rhs)?);
            lhs = Val::Num(apply(op, a, b)?);
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn unary(&mut self) -> DapResult<Val> {
        self.enter()?;
        let v = if self.eat("-") {
            let v = self.unary()?;
            Val::Num(match self.num(&v)? {
                Num::Int(i) => Num::Int(i.wrapping_neg()),
                Num::Float(f) => Num::Float(-f),
            })
        } else if self.eat("~") {
            let v = self.unary()?;
            Val::Num(Num::Int(!self.num(&v)?.as_i64()))
        } else if self.eat("!") {
            let v = self.unary()?;
            Val::Num(Num::Int(i64::from(self.num(&v)?.as_f64() == 0.0)))
        } else if self.eat("&") {
            match self.unary()? {
                Val::Place(c) => Val::Num(Num::Int(i64::from(
                    c.addr.ok_or("cannot take the address of a register")?,
                ))),
                Val::Num(_) => return Err("cannot take the address of a number".into()),
            }
        } else if self.eat("*") {
            let v = self.unary()?;
            self.deref(v, None)?
        } else if let Some(cast) = self.try_cast()? {
            let v = self.unary()?;
            // `(T*)x` marks x as a pointer to T; a following `*` reads it.
            let addr = self.num(&v)?.as_i64();
            Val::Place(self.place_at(addr as u32, cast, true))
        } else {
            self.postfix()?
        };
        self.depth -= 1;
        Ok(v)
    }

    /// `(type *)` at the cursor: the pointee type.
    fn try_cast(&mut self) -> DapResult<Option<TypeRef>> {
        if self.peek() != Some(&Tok::Op("(")) {
            return Ok(None);
        }
        let mut words = Vec::new();
        let mut j = self.pos + 1;
        while let Some(Tok::Ident(w)) = self.toks.get(j) {
            words.push(w.clone());
            j += 1;
        }
        let Some((name, size, _)) = base_type(&words) else {
            return Ok(None);
        };
        if self.toks.get(j) != Some(&Tok::Op("*")) || self.toks.get(j + 1) != Some(&Tok::Op(")")) {
            return Err("casts must be to a pointer to a base type, like (int*)".into());
        }
        self.pos = j + 2;
        Ok(Some(TypeRef {
            id: None,
            name: Some(name.into()),
            size,
        }))
    }

    fn place_at(&self, addr: u32, ty: TypeRef, pointer_marker: bool) -> Child {
        // A cast yields a pointer value whose pointee type rides along in `ty`; the
        // bytes hold the address so `*` can follow it.
        Child {
            name: String::new(),
            evaluate_name: String::new(),
            pid: self.pid,
            addr: if pointer_marker { None } else { Some(addr) },
            reg: None,
            bytes: addr.to_le_bytes().to_vec(),
            ty: if pointer_marker {
                TypeRef {
                    id: None,
                    name: Some(format!("{}*", ty.name.unwrap_or_default())),
                    size: 4,
                }
            } else {
                ty
            },
            error: None,
        }
    }

    fn deref(&mut self, v: Val, _hint: Option<TypeRef>) -> DapResult<Val> {
        match v {
            Val::Num(n) => {
                // `*addr`: a 32-bit word at a data address.
                let addr = n.as_i64() as u32;
                let ty = TypeRef {
                    id: None,
                    name: Some("unsigned int".into()),
                    size: 4,
                };
                let mut c = self.place_at(addr, ty, false);
                c.bytes = peek(self.s.client()?, self.pid, addr, 4);
                Ok(Val::Place(c))
            }
            Val::Place(c) => {
                let table = self.s.syms.table(self.pid);
                let shape = shape_of(table.as_deref(), &c.ty);
                let addr = le_u64(&c.bytes) as u32;
                let ty = match shape {
                    Shape::Pointer { target: Some(t) } => {
                        let size = table.as_deref().map_or(4, |tb| types_of(tb).size(t));
                        TypeRef {
                            id: Some(t),
                            name: None,
                            size,
                        }
                    }
                    Shape::Pointer { target: None } => {
                        let inner =
                            c.ty.name
                                .as_deref()
                                .and_then(|n| n.strip_suffix('*'))
                                .map(str::trim)
                                .unwrap_or("unsigned int");
                        let words: Vec<String> =
                            inner.split_whitespace().map(str::to_string).collect();
                        let (name, size, _) =
                            base_type(&words).unwrap_or(("unsigned int", 4, false));
                        TypeRef {
                            id: None,
                            name: Some(name.into()),
                            size,
                        }
                    }
                    Shape::Array { element, .. } => {
                        // `*arr` is arr[0].
                        let size = table
                            .as_deref()
                            .zip(element)
                            .map_or(4, |(tb, e)| types_of(tb).size(e));
                        let mut k = c.clone();
                        k.ty = TypeRef {
                            id: element,
                            name: None,
                            size,
                        };
                        k.bytes = peek(
                            self.s.client()?,
                            self.pid,
                            c.addr.unwrap_or(0),
                            size.min(MAX_VALUE_BYTES),
                        );
                        return Ok(Val::Place(k));
                    }
                    _ => return Err(DapError(format!("'{}' is not a pointer", c.evaluate_name))),
                };
                let bytes = peek(
                    self.s.client()?,
                    self.pid,
                    addr,
                    ty.size.min(MAX_VALUE_BYTES),
                );
                Ok(Val::Place(Child {
                    name: format!("*{}", c.evaluate_name),
                    evaluate_name: format!("*{}", c.evaluate_name),
                    pid: self.pid,
                    addr: Some(addr),
                    reg: None,
                    bytes,
                    ty,
                    error: None,
                }))
            }
        }
    }

    fn postfix(&mut self) -> DapResult<Val> {
        let mut v = self.primary()?;
        loop {
            if self.eat(".") || {
                let arrow = self.eat("->");
                if arrow {
                    v = self.deref(v.clone(), None)?;
                }
                arrow
            } {
                let Some(Tok::Ident(m)) = self.peek().cloned() else {
                    return Err("expected a member name".into());
                };
                self.pos += 1;
                v = self.member(v, &m)?;
            } else if self.eat("[") {
                let idx = self.binary(0)?;
                if !self.eat("]") {
                    return Err("expected ']'".into());
                }
                let i = self.num(&idx)?.as_i64();
                v = self.index(v, i)?;
            } else {
                return Ok(v);
            }
        }
    }

    fn member(&mut self, v: Val, m: &str) -> DapResult<Val> {
        let Val::Place(c) = v else {
            return Err("a number has no members".into());
        };
        let addr = c.addr.ok_or("not in memory")?;
        let kids = self
            .s
            .members(self.pid, addr, &c.ty, &c.evaluate_name, 0, 4096)?;
        kids.into_iter()
            .find(|k| k.name == m)
            .map(Val::Place)
            .ok_or_else(|| DapError(format!("no member '{m}' in '{}'", c.evaluate_name)))
    }

    fn index(&mut self, v: Val, i: i64) -> DapResult<Val> {
        let Val::Place(c) = v else {
            return Err("a number cannot be indexed".into());
        };
        let table = self.s.syms.table(self.pid);
        let shape = shape_of(table.as_deref(), &c.ty);
        let (base, elem) = match shape {
            Shape::Array { element, .. } => (c.addr.ok_or("not in memory")?, element),
            Shape::Pointer { target } => (le_u64(&c.bytes) as u32, target),
            _ => {
                return Err(DapError(format!(
                    "'{}' is not an array or pointer",
                    c.evaluate_name
                )));
            }
        };
        let size = table
            .as_deref()
            .zip(elem)
            .map_or(4, |(t, e)| types_of(t).size(e))
            .max(1);
        let addr = (i64::from(base) + i * i64::from(size)) as u32 & 0xFFFF;
        let ty = TypeRef {
            id: elem,
            name: None,
            size,
        };
        let bytes = peek(self.s.client()?, self.pid, addr, size.min(MAX_VALUE_BYTES));
        let name = format!("{}[{i}]", c.evaluate_name);
        Ok(Val::Place(Child {
            name: name.clone(),
            evaluate_name: name,
            pid: self.pid,
            addr: Some(addr),
            reg: None,
            bytes,
            ty,
            error: None,
        }))
    }

    fn primary(&mut self) -> DapResult<Val> {
        match self.peek().cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(Val::Num(n))
            }
            Some(Tok::Op("(")) => {
                self.pos += 1;
                let v = self.binary(0)?;
                if !self.eat(")") {
                    return Err("expected ')'".into());
                }
                Ok(v)
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                self.name(&name)
            }
            Some(Tok::Op(o)) => Err(DapError(format!("unexpected '{o}'"))),
            None => Err("incomplete expression".into()),
        }
    }

    fn name(&mut self, name: &str) -> DapResult<Val> {
        if let Some(c) = self
            .s
            .frame_locals(self.pid, self.frame)?
            .into_iter()
            .find(|c| c.name == name)
        {
            return Ok(Val::Place(c));
        }
        if let Some(c) = self
            .s
            .globals(self.pid)?
            .into_iter()
            .find(|c| c.name == name)
        {
            return Ok(Val::Place(c));
        }
        let upper = name.to_ascii_uppercase();
        if register_index(&upper).is_some() || matches!(upper.as_str(), "PC" | "SP" | "PSW" | "FP")
        {
            let (regs, pc, sp, psw) = self.s.registers(self.pid)?;
            let (v, reg, label) = match upper.as_str() {
                "PC" => (pc, None, "PC".to_string()),
                "SP" => (sp, None, "SP".to_string()),
                "PSW" => (psw, None, "PSW".to_string()),
                "FP" => (regs[7], Some(7), "R7".to_string()),
                r => {
                    let i = register_index(r).unwrap_or(0);
                    (regs[usize::from(i)], Some(i), r.to_string())
                }
            };
            if self.frame != 0 {
                return Err("registers are only known for the innermost frame".into());
            }
            return Ok(Val::Place(Child {
                name: label.clone(),
                evaluate_name: label,
                pid: self.pid,
                addr: None,
                reg,
                bytes: v.to_le_bytes().to_vec(),
                ty: TypeRef {
                    id: None,
                    name: Some("unsigned int".into()),
                    size: 4,
                },
                error: None,
            }));
        }
        if let Some(sym) = self
            .s
            .syms
            .table(self.pid)
            .and_then(|t| t.symbol(name).map(|s| s.address))
        {
            return Ok(Val::Num(Num::Int(i64::from(sym))));
        }
        Err(DapError(format!(
            "no variable, register or symbol named '{name}'"
        )))
    }

    fn num(&self, v: &Val) -> DapResult<Num> {
        match v {
            Val::Num(n) => Ok(*n),
            Val::Place(c) => {
                let table = self.s.syms.table(self.pid);
                match shape_of(table.as_deref(), &c.ty) {
                    Shape::Float { size } => Ok(Num::Float(if size == 8 {
                        f64::from_bits(le_u64(&c.bytes))
                    } else {
                        f64::from(f32::from_bits(le_u64(&c.bytes) as u32))
                    })),
                    Shape::Int { size, signed, .. } => {
                        let raw = le_u64(&c.bytes);
                        Ok(Num::Int(if signed {
                            sign_extend(raw, size * 8)
                        } else {
                            raw as i64
                        }))
                    }
                    Shape::Enum { size, .. } => {
                        Ok(Num::Int(sign_extend(le_u64(&c.bytes), size * 8)))
                    }
                    Shape::Pointer { .. } | Shape::Bytes { size: 1..=8 } => {
                        Ok(Num::Int(le_u64(&c.bytes) as i64))
                    }
                    Shape::Array { .. } => Ok(Num::Int(i64::from(c.addr.unwrap_or(0)))),
                    _ => Err(DapError(format!("'{}' is not a number", c.evaluate_name))),
                }
            }
        }
    }
}

impl Session {
    fn parse_eval(&mut self, expr: &str, pid: u32, frame: u32) -> DapResult<Val> {
        if expr.len() > MAX_EXPR {
            return Err(DapError(format!(
                "expression longer than {MAX_EXPR} characters"
            )));
        }
        let toks = lex_all(expr)?;
        if toks.is_empty() {
            return Err("empty expression".into());
        }
        let mut p = Parser {
            toks,
            pos: 0,
            s: self,
            pid,
            frame,
            depth: 0,
        };
        let v = p.binary(0)?;
        if p.pos != p.toks.len() {
            return Err("unexpected text after the expression".into());
        }
        // Make a place's number available to callers that need it.
        if let Val::Place(c) = &v
            && c.addr.is_none()
            && c.reg.is_none()
            && c.name.is_empty()
        {
            return Ok(Val::Num(p.num(&v)?));
        }
        Ok(v)
    }

    fn eval_context(&self, frame_id: Option<i64>) -> DapResult<(u32, u32)> {
        match frame_id.and_then(frame_of) {
            Some(pf) => Ok(pf),
            None => Ok((self.focus.ok_or("no thread is stopped")?, 0)),
        }
    }

    /// A number from an expression (for `setVariable`).
    pub(super) fn eval_number(&mut self, expr: &str, frame: Option<(u32, u32)>) -> DapResult<Num> {
        let (pid, f) = match frame {
            Some(pf) => pf,
            None => self.eval_context(None)?,
        };
        match self.parse_eval(expr, pid, f)? {
            Val::Num(n) => Ok(n),
            v @ Val::Place(_) => {
                let p = Parser {
                    toks: Vec::new(),
                    pos: 0,
                    s: self,
                    pid,
                    frame: f,
                    depth: 0,
                };
                p.num(&v)
            }
        }
    }

    /// Where an expression lives in memory (for `dataBreakpointInfo` without a reference).
    pub(super) fn expression_location(
        &mut self,
        expr: &str,
        frame_id: Option<i64>,
    ) -> Option<(u32, u32, u32)> {
        let (pid, f) = self.eval_context(frame_id).ok()?;
        match self.parse_eval(expr, pid, f).ok()? {
            Val::Place(c) => Some((pid, c.addr?, c.ty.size.clamp(1, 256))),
            Val::Num(_) => None,
        }
    }

    /// `evaluate {expression, frameId?, context?, format?}`.
    pub(super) fn evaluate(&mut self, args: &Value) -> DapResult<Value> {
        let expr = args
            .get("expression")
            .and_then(Value::as_str)
            .ok_or("evaluate requires expression")?;
        let hex = args
            .pointer("/format/hex")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let (pid, f) = self.eval_context(args.get("frameId").and_then(Value::as_i64))?;
        match self.parse_eval(expr.trim(), pid, f)? {
            Val::Num(n) => Ok(json!({"result": match n {
                Num::Int(i) if hex => format!("0x{i:x}"),
                Num::Int(i) => i.to_string(),
                Num::Float(x) => x.to_string(),
            }, "variablesReference": 0})),
            Val::Place(mut c) => {
                c.name = expr.trim().to_string();
                if c.evaluate_name.is_empty() {
                    c.evaluate_name = c.name.clone();
                }
                let v = self.render(&c, hex);
                let mut out = json!({"result": v["value"], "type": v["type"], "variablesReference": v["variablesReference"]});
                for k in ["memoryReference", "indexedVariables", "namedVariables"] {
                    if let Some(x) = v.get(k) {
                        out[k] = x.clone();
                    }
                }
                Ok(out)
            }
        }
    }
}
