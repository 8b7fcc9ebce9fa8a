//! Translation of one wasm function body into MiniVM code: the operand stack, control flow,
//! locals and calls. Arithmetic lives in `ops_int.rs`, memory in `ops_mem.rs`, floating point
//! in `ops_float.rs`.
//!
//! Calling convention (translated code only): argument words in R1..R6, further words on the
//! stack at `[SP + 4k]` when the call is made (the callee sees them at `[FP + 8 + 4k]`);
//! results in R0 (and R1 for the high word); every register but R7 is clobbered by a call.
//! Frame: `PUSH R7; MOV R7, R15; ADJSP -n`, so the HSX debugger's frame-pointer walk works.

use wasmparser::Operator;

use crate::emit::{Cc, Code, FP, Label, R, SP};
use crate::error::CcError;
use crate::frame::{
    Entry, Frame, LOCAL_REGS, Loc, Local, POS_REGS, T0, T1, T2, move_word, set_word, store_fp,
};
use crate::module::{Sig, Ty};
use crate::prog::Prog;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Block,
    Loop,
    If,
    Func,
}

/// A control frame.
pub(crate) struct Ctl {
    pub(crate) kind: Kind,
    /// Branch target (end for block/if/function, start for loop).
    pub(crate) label: Label,
    /// Where the false arm starts (`if` only), until `else` binds it.
    pub(crate) else_label: Option<Label>,
    /// Entries below the frame.
    pub(crate) height: usize,
    /// Word position of the first parameter/result.
    pub(crate) base: u32,
    pub(crate) params: Vec<Ty>,
    pub(crate) results: Vec<Ty>,
}

impl Ctl {
    pub(crate) fn branch_types(&self) -> &[Ty] {
        if self.kind == Kind::Loop {
            &self.params
        } else {
            &self.results
        }
    }
}

/// Translator state for one function.
pub struct Fx<'p, 'm, 'a> {
    /// The program being built.
    pub p: &'p mut Prog<'m, 'a>,
    /// Function index.
    pub fidx: u32,
    /// Its operators (with module byte offsets).
    pub(crate) ops: Vec<(Operator<'a>, usize)>,
    /// Locals (parameters first).
    pub locals: Vec<Local>,
    /// Operand stack.
    pub stack: Vec<Entry>,
    pub(crate) ctl: Vec<Ctl>,
    /// Frame slots.
    pub frame: Frame,
    /// Address of the `ADJSP` to patch with the frame size.
    adjsp_at: u32,
    /// Register-homed locals with their save slots (spilled around calls).
    saved_regs: Vec<(R, u32)>,
    /// Addresses of epilogue `ADJSP`s to patch with the frame size.
    pub(crate) epi_fixups: Vec<u32>,
    /// Nesting depth of blocks being skipped after an unconditional branch.
    pub(crate) dead: Option<u32>,
    pub(crate) results: Vec<Ty>,
}

impl<'p, 'm, 'a> Fx<'p, 'm, 'a> {
    /// Translate defined function `fidx` at the current code address.
    pub fn translate(p: &'p mut Prog<'m, 'a>, fidx: u32) -> Result<Vec<Local>, CcError> {
        let def = (fidx - p.m.num_imports()) as usize;
        let body = p.m.bodies[def].clone();
        let sig = p.m.func_sig(fidx)?.clone();
        let mut reader = body.get_operators_reader()?;
        let mut ops = Vec::new();
        while !reader.eof() {
            let (op, off) = reader.read_with_offset()?;
            ops.push((op, off as usize));
        }
        let mut declared = Vec::new();
        for l in body.get_locals_reader()? {
            let (n, t) = l?;
            let t = Ty::from_wasm(t, "local")?;
            declared.push((n, t));
        }
        let mut fx = Fx {
            p,
            fidx,
            ops,
            locals: Vec::new(),
            stack: Vec::new(),
            ctl: Vec::new(),
            frame: Frame::default(),
            adjsp_at: 0,
            saved_regs: Vec::new(),
            epi_fixups: Vec::new(),
            dead: None,
            results: sig.results.clone(),
        };
        if sig.result_words() > 2 {
            return Err(fx.unsupported("returns more than 64 bits"));
        }
        fx.prologue(&sig, &declared)?;
        let end = fx.p.code.label();
        fx.ctl.push(Ctl {
            kind: Kind::Func,
            label: end,
            else_label: None,
            height: 0,
            base: 0,
            params: vec![],
            results: sig.results.clone(),
        });
        let mut i = 0;
        while i < fx.ops.len() {
            let (op, off) = fx.ops[i].clone();
            fx.p.mark_source(off);
            i += fx.op(i, op)?;
        }
        let words = fx.frame.words();
        if words > 2047 {
            return Err(CcError::TooLarge(format!(
                "{}: stack frame of {} bytes (limit 8 KiB)",
                fx.name(),
                words * 4
            )));
        }
        let at = fx.adjsp_at;
        fx.p.code.patch(at, Code::adjsp_word(-(words as i32)));
        for at in std::mem::take(&mut fx.epi_fixups) {
            fx.p.code.patch(at, Code::adjsp_word(words as i32));
        }
        Ok(fx.locals)
    }

    /// The function's printable name.
    pub fn name(&self) -> String {
        self.p.m.name(self.fidx)
    }

    /// An "unsupported" error naming this function.
    pub fn unsupported(&self, what: &str) -> CcError {
        CcError::Unsupported(format!("function {}: {what}", self.name()))
    }

    /// The code buffer.
    pub fn c(&mut self) -> &mut Code {
        &mut self.p.code
    }

    fn prologue(&mut self, sig: &Sig, declared: &[(u32, Ty)]) -> Result<(), CcError> {
        // Count uses to choose which locals get registers.
        let nparams = sig.params.len();
        let mut types: Vec<Ty> = sig.params.clone();
        for &(n, t) in declared {
            if types.len() + n as usize > 50_000 {
                return Err(self.unsupported("more than 50000 locals"));
            }
            types.extend(std::iter::repeat_n(t, n as usize));
        }
        let mut uses = vec![0u32; types.len()];
        let mut calls = 0u32;
        for (op, _) in &self.ops {
            match op {
                Operator::LocalGet { local_index }
                | Operator::LocalSet { local_index }
                | Operator::LocalTee { local_index } => {
                    if let Some(u) = uses.get_mut(*local_index as usize) {
                        *u += 1;
                    }
                }
                Operator::Call { .. } | Operator::CallIndirect { .. } => calls += 1,
                // Float and 64-bit helpers are calls too.
                o if crate::helpers::is_helper_call(o) => calls += 1,
                _ => {}
            }
        }
        let mut order: Vec<usize> = (0..types.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(uses[i]));
        let mut free: Vec<R> = LOCAL_REGS.iter().rev().copied().collect();
        let mut homes: Vec<Option<[Loc; 2]>> = vec![None; types.len()];
        for &i in &order {
            let w = types[i].words() as usize;
            // A register costs a save and a restore per call; worth it only with enough uses.
            if uses[i] == 0 || free.len() < w || (calls > 0 && uses[i] < 2 * calls + 2) {
                continue;
            }
            let r0 = free.pop().unwrap_or(T0);
            let r1 = if w == 2 { free.pop().unwrap_or(T0) } else { r0 };
            homes[i] = Some([Loc::Reg(r0), Loc::Reg(r1)]);
        }
        // Incoming stack arguments stay where the caller put them.
        let mut word = 0u32;
        for (i, t) in types.iter().enumerate() {
            let home = match homes[i] {
                Some(h) => h,
                None if i < nparams && word >= POS_REGS => {
                    let off = 8 + 4 * (word - POS_REGS) as i32;
                    [Loc::Mem(off), Loc::Mem(off + 4)]
                }
                None => {
                    // Slots grow downwards: the high word's slot first keeps the value in
                    // little-endian order in memory (a debugger reads it as one 8-byte item).
                    let s1 = self.frame.alloc();
                    let s0 = if t.words() == 2 {
                        self.frame.alloc()
                    } else {
                        s1
                    };
                    [Loc::Mem(Frame::slot_off(s0)), Loc::Mem(Frame::slot_off(s1))]
                }
            };
            if i < nparams {
                word += t.words();
            }
            self.locals.push(Local { ty: *t, home });
        }
        for l in &self.locals {
            for w in 0..l.ty.words() as usize {
                if let Loc::Reg(r) = l.home[w] {
                    let s = self.frame.alloc();
                    self.saved_regs.push((r, s));
                }
            }
        }
        self.p.code.push_r(FP);
        self.p.code.mov(FP, SP);
        self.adjsp_at = self.p.code.here();
        self.p.code.adjsp(0);
        // Parameters arrive in R1..R6; locals start at zero.
        let mut word = 0u32;
        for (i, &used) in uses.iter().enumerate() {
            let l = self.locals[i].clone();
            for w in 0..l.ty.words() {
                if i < nparams {
                    if word < POS_REGS {
                        move_word(
                            &mut self.p.code,
                            l.home[w as usize],
                            Loc::Reg(1 + word as R),
                        )?;
                    } else {
                        // A no-op when the home is the incoming slot itself.
                        let off = 8 + 4 * (word - POS_REGS) as i32;
                        move_word(&mut self.p.code, l.home[w as usize], Loc::Mem(off))?;
                    }
                    word += 1;
                } else if used > 0 {
                    set_word(&mut self.p.code, l.home[w as usize], 0)?;
                }
            }
        }
        Ok(())
    }

    // ---- operand stack -------------------------------------------------------------------

    /// Word position the next pushed entry gets.
    pub fn next_pos(&self) -> u32 {
        self.stack.last().map_or(0, |e| e.pos + e.ty.words())
    }

    /// Push a value that has been written to its position.
    pub fn push(&mut self, ty: Ty) -> Entry {
        let e = Entry {
            ty,
            pos: self.next_pos(),
            konst: None,
            local: None,
        };
        self.stack.push(e);
        e
    }

    /// Push a constant (written lazily).
    pub fn push_const(&mut self, ty: Ty, v: u64) {
        let pos = self.next_pos();
        self.stack.push(Entry {
            ty,
            pos,
            konst: Some(v),
            local: None,
        });
    }

    /// Pop an entry.
    pub fn pop(&mut self) -> Result<Entry, CcError> {
        self.stack
            .pop()
            .ok_or_else(|| CcError::Internal(format!("{}: operand stack underflow", self.name())))
    }

    /// Where word `w` of entry `e` lives.
    pub fn loc(&mut self, e: &Entry, w: u32) -> Loc {
        match e.local.and_then(|i| self.locals.get(i as usize)) {
            Some(l) => l.home[w as usize],
            None => self.frame.loc(e.pos + w),
        }
    }

    /// Word `w` of `e` in a register (`scratch` if it has to be loaded or materialised).
    pub fn reg(&mut self, e: &Entry, w: u32, scratch: R) -> Result<R, CcError> {
        if let Some(v) = e.const_word(w) {
            self.p.code.li(scratch, v);
            return Ok(scratch);
        }
        match self.loc(e, w) {
            Loc::Reg(r) => Ok(r),
            Loc::Mem(o) => {
                crate::frame::load_fp(&mut self.p.code, scratch, o)?;
                Ok(scratch)
            }
        }
    }

    /// The register to compute word `w` at position `pos` into (`T0` if it is in memory).
    pub fn dst(&mut self, pos: u32) -> R {
        match self.frame.loc(pos) {
            Loc::Reg(r) => r,
            Loc::Mem(_) => T0,
        }
    }

    /// Finish writing position `pos` from register `r`.
    pub fn commit(&mut self, pos: u32, r: R) -> Result<(), CcError> {
        let l = self.frame.loc(pos);
        move_word(&mut self.p.code, l, Loc::Reg(r))
    }

    /// Write entry `i`'s constant to its position.
    pub(crate) fn materialize_at(&mut self, i: usize) -> Result<(), CcError> {
        let e = self.stack[i];
        if let Some(v) = e.konst {
            for w in 0..e.ty.words() {
                let l = self.frame.loc(e.pos + w);
                set_word(&mut self.p.code, l, (v >> (32 * w)) as u32)?;
            }
            self.stack[i].konst = None;
        }
        if e.local.is_some() {
            for w in 0..e.ty.words() {
                let dst = self.frame.loc(e.pos + w);
                let src = self.loc(&e, w);
                move_word(&mut self.p.code, dst, src)?;
            }
            self.stack[i].local = None;
        }
        Ok(())
    }

    /// Write every pending constant (before control flow and calls).
    pub fn materialize_all(&mut self) -> Result<(), CcError> {
        for i in 0..self.stack.len() {
            self.materialize_at(i)?;
        }
        Ok(())
    }

    /// Copy the top `n` entries so they start at word position `base`.
    pub(crate) fn place_top(&mut self, n: usize, base: u32) -> Result<(), CcError> {
        let first = self.stack.len() - n;
        let mut pos = base;
        for i in first..self.stack.len() {
            let e = self.stack[i];
            for w in 0..e.ty.words() {
                let dst = self.frame.loc(pos + w);
                match e.const_word(w) {
                    Some(v) => set_word(&mut self.p.code, dst, v)?,
                    None => {
                        let src = self.loc(&e, w);
                        move_word(&mut self.p.code, dst, src)?;
                    }
                }
            }
            pos += e.ty.words();
        }
        Ok(())
    }

    /// Replace everything above `height` by `types`, written at `base`.
    pub(crate) fn reset_stack(&mut self, height: usize, base: u32, types: &[Ty]) {
        self.stack.truncate(height);
        let mut pos = base;
        for &ty in types {
            self.stack.push(Entry {
                ty,
                pos,
                konst: None,
                local: None,
            });
            pos += ty.words();
        }
    }

    // ---- locals and globals --------------------------------------------------------------

    fn local(&self, i: u32) -> Result<Local, CcError> {
        self.locals
            .get(i as usize)
            .cloned()
            .ok_or_else(|| CcError::BadWasm(format!("local {i} out of range")))
    }

    fn local_get(&mut self, i: u32) -> Result<(), CcError> {
        let l = self.local(i)?;
        if (0..l.ty.words()).all(|w| matches!(l.home[w as usize], Loc::Reg(_))) {
            // Read where it lives; copied only if the local changes first.
            let pos = self.next_pos();
            self.stack.push(Entry {
                ty: l.ty,
                pos,
                konst: None,
                local: Some(i),
            });
            return Ok(());
        }
        let e = self.push(l.ty);
        for w in 0..l.ty.words() {
            let dst = self.frame.loc(e.pos + w);
            move_word(&mut self.p.code, dst, l.home[w as usize])?;
        }
        Ok(())
    }

    fn local_set(&mut self, i: u32, keep: bool) -> Result<(), CcError> {
        let l = self.local(i)?;
        let e = *self
            .stack
            .last()
            .ok_or_else(|| CcError::Internal("empty stack".into()))?;
        // Lazy reads of this local below the value keep the old value.
        for k in 0..self.stack.len() - 1 {
            if self.stack[k].local == Some(i) {
                self.materialize_at(k)?;
            }
        }
        for w in 0..l.ty.words() {
            if e.local == Some(i) {
                break;
            }
            match e.const_word(w) {
                Some(v) => set_word(&mut self.p.code, l.home[w as usize], v)?,
                None => {
                    let src = self.loc(&e, w);
                    move_word(&mut self.p.code, l.home[w as usize], src)?;
                }
            }
        }
        if !keep {
            self.stack.pop();
        }
        Ok(())
    }

    fn global_get(&mut self, g: u32) -> Result<(), CcError> {
        let gl = *self
            .p
            .m
            .globals
            .get(g as usize)
            .ok_or_else(|| CcError::BadWasm(format!("global {g} out of range")))?;
        if !gl.mutable {
            self.push_const(gl.ty, gl.init);
            return Ok(());
        }
        let addr = self.p.global_addr(g)?;
        let e = self.push(gl.ty);
        self.p.code.li(T1, addr);
        for w in 0..gl.ty.words() {
            let d = self.dst(e.pos + w);
            self.p.code.mem(crate::emit::op::LD, d, T1, 4 * w as i32);
            self.commit(e.pos + w, d)?;
        }
        Ok(())
    }

    fn global_set(&mut self, g: u32) -> Result<(), CcError> {
        let e = self.pop()?;
        let addr = self.p.global_addr(g)?;
        for w in 0..e.ty.words() {
            let r = self.reg(&e, w, T2)?;
            self.p.code.li(T1, addr);
            self.p.code.mem(crate::emit::op::ST, r, T1, 4 * w as i32);
        }
        Ok(())
    }

    // ---- calls ---------------------------------------------------------------------------

    /// Call `target` (a label, or a register holding the address) with the top entries as
    /// arguments of `sig`, and push its results.
    pub fn call_with(&mut self, sig: &Sig, target: CallTarget) -> Result<(), CcError> {
        self.materialize_all()?;
        let nargs = sig.params.len();
        if self.stack.len() < nargs {
            return Err(CcError::Internal("call without its arguments".into()));
        }
        let first = self.stack.len() - nargs;
        let base = self.stack.get(first).map_or(self.next_pos(), |e| e.pos);
        // Live values below the arguments survive the call in their slots.
        let below: Vec<u32> = (0..base.min(POS_REGS)).collect();
        for &p in &below {
            let s = Frame::slot_off(self.frame.pos_slot(p));
            store_fp(&mut self.p.code, 1 + p as R, s)?;
        }
        for &(r, s) in &self.saved_regs.clone() {
            store_fp(&mut self.p.code, r, Frame::slot_off(s))?;
        }
        // Argument word k goes to R(1+k) or to the outgoing area.
        let nwords = sig.param_words();
        for k in 0..nwords {
            let src = self.frame.loc(base + k);
            if k < POS_REGS {
                move_word(&mut self.p.code, Loc::Reg(1 + k as R), src)?;
            } else {
                let r = match src {
                    Loc::Reg(r) => r,
                    Loc::Mem(o) => {
                        crate::frame::load_fp(&mut self.p.code, T1, o)?;
                        T1
                    }
                };
                let off = 4 * (k - POS_REGS) as i32;
                if !crate::emit::fits12(off as i64) {
                    return Err(self.unsupported("call with more than 2 KiB of arguments"));
                }
                self.p.code.mem(crate::emit::op::ST, r, SP, off);
            }
        }
        self.frame.max_out = self.frame.max_out.max(nwords.saturating_sub(POS_REGS));
        match target {
            CallTarget::Label(l) => self.p.code.call(l),
            CallTarget::Reg(r) => self.p.code.callr(r),
        }
        self.stack.truncate(first);
        // Results: high word first so R1 is read before it is overwritten.
        let rw = sig.result_words();
        for w in (0..rw).rev() {
            let dst = self.frame.loc(base + w);
            move_word(&mut self.p.code, dst, Loc::Reg(w as R))?;
        }
        for &(r, s) in &self.saved_regs.clone() {
            crate::frame::load_fp(&mut self.p.code, r, Frame::slot_off(s))?;
        }
        for &p in &below {
            let s = Frame::slot_off(self.frame.pos_slot(p));
            crate::frame::load_fp(&mut self.p.code, 1 + p as R, s)?;
        }
        for &t in &sig.results {
            self.push(t);
        }
        Ok(())
    }

    /// Call function index `f`.
    pub fn call_func(&mut self, f: u32) -> Result<(), CcError> {
        let sig = self.p.m.func_sig(f)?.clone();
        let l = self.p.func_label(f)?;
        self.call_with(&sig, CallTarget::Label(l))
    }

    fn call_indirect(&mut self, ty: u32) -> Result<(), CcError> {
        let sig = self.p.m.sig(ty)?.clone();
        let idx = self.pop()?;
        // Constants first: writing them may use R0, which carries the target below.
        self.materialize_all()?;
        let ri = self.reg(&idx, 0, T1)?;
        let len = self.p.m.table.len() as u32;
        let table = self.p.indirect_table(ty)?;
        let trap = self.p.trap_label();
        self.p.code.li(T2, len);
        self.p.code.cmp(ri, T2);
        self.p.code.b(Cc::Geu, trap);
        // Entry address = table + 4·index, kept in R0 across the argument moves.
        self.p.code.rrr(crate::emit::op::ADD, T0, ri, ri);
        self.p.code.rrr(crate::emit::op::ADD, T0, T0, T0);
        self.p.code.la(T2, table);
        self.p.code.rrr(crate::emit::op::ADD, T0, T0, T2);
        self.call_with(&sig, CallTarget::Reg(T0))
    }

    // ---- control flow --------------------------------------------------------------------

    /// Translate operator `i`; returns how many operators it consumed.
    fn op(&mut self, i: usize, op: Operator<'a>) -> Result<usize, CcError> {
        if self.skip_dead(&op)? {
            return Ok(1);
        }
        match op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.p.code.trap();
                self.dead = Some(0);
            }
            Operator::Block { blockty } => self.begin_block(Kind::Block, blockty)?,
            Operator::Loop { blockty } => self.begin_block(Kind::Loop, blockty)?,
            Operator::If { blockty } => {
                let cond = self.pop()?;
                let cc = self.test_value(&cond)?;
                self.begin_block(Kind::If, blockty)?;
                let el = self.p.code.label();
                self.p.code.b(crate::emit::invert(cc), el);
                if let Some(c) = self.ctl.last_mut() {
                    c.else_label = Some(el);
                }
            }
            Operator::Else => self.else_arm()?,
            Operator::End => self.end_block()?,
            Operator::Br { relative_depth } => {
                self.materialize_all()?;
                self.br(relative_depth)?;
                self.dead = Some(0);
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop()?;
                // Constants first: nothing may run between the test and the branch.
                self.materialize_all()?;
                let cc = self.test_value(&cond)?;
                self.br_cc(cc, relative_depth)?;
            }
            Operator::BrTable { targets } => {
                let mut ts = Vec::new();
                for t in targets.targets() {
                    ts.push(t?);
                }
                self.br_table(&ts, targets.default())?;
                self.dead = Some(0);
            }
            Operator::Return => {
                self.ret()?;
                self.dead = Some(0);
            }
            Operator::Call { function_index } => self.call_func(function_index)?,
            Operator::CallIndirect { type_index, .. } => self.call_indirect(type_index)?,
            Operator::Drop => {
                self.pop()?;
            }
            Operator::Select | Operator::TypedSelect { .. } => self.select()?,
            Operator::LocalGet { local_index } => self.local_get(local_index)?,
            Operator::LocalSet { local_index } => self.local_set(local_index, false)?,
            Operator::LocalTee { local_index } => self.local_set(local_index, true)?,
            Operator::GlobalGet { global_index } => self.global_get(global_index)?,
            Operator::GlobalSet { global_index } => self.global_set(global_index)?,
            other => return self.op_value(i, other),
        }
        Ok(1)
    }
}

/// What a call jumps to.
#[derive(Debug, Clone, Copy)]
pub enum CallTarget {
    /// A known function or routine.
    Label(Label),
    /// An address computed into a register (it must survive argument set-up: use R0).
    Reg(R),
}
