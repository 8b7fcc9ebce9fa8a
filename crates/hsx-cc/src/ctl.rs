//! Structured control flow: blocks, loops, `if`, branches (with value moves to the target's
//! positions), `br_table` jump tables, `select`, and skipping unreachable code.

use wasmparser::{BlockType, Operator};

use crate::emit::{Cc, FP, Label, R};
use crate::error::CcError;
use crate::frame::{Entry, Loc, T0, T1, T2, move_word, set_word};
use crate::func::{Ctl, Fx, Kind};
use crate::module::Ty;
use crate::prog::Prog;

pub(crate) fn block_sig(p: &Prog<'_, '_>, bt: BlockType) -> Result<(Vec<Ty>, Vec<Ty>), CcError> {
    Ok(match bt {
        BlockType::Empty => (vec![], vec![]),
        BlockType::Type(t) => (vec![], vec![Ty::from_wasm(t, "block")?]),
        BlockType::FuncType(i) => {
            let s = p.m.sig(i)?;
            (s.params.clone(), s.results.clone())
        }
    })
}

impl<'a> Fx<'_, '_, 'a> {
    pub(crate) fn branch_cost_free(&self, depth: u32) -> Result<&Ctl, CcError> {
        let n = self.ctl.len();
        self.ctl
            .get(n.wrapping_sub(1 + depth as usize))
            .ok_or_else(|| CcError::BadWasm("branch depth out of range".into()))
    }

    /// Move branch values for a branch to `depth`; returns the target label.
    pub(crate) fn prepare_branch(&mut self, depth: u32) -> Result<Label, CcError> {
        let (label, n, base) = {
            let c = self.branch_cost_free(depth)?;
            (c.label, c.branch_types().len(), c.base)
        };
        if self.ctl_kind(depth)? == Kind::Func {
            return Ok(label);
        }
        self.place_top(n, base)?;
        Ok(label)
    }

    pub(crate) fn ctl_kind(&self, depth: u32) -> Result<Kind, CcError> {
        Ok(self.branch_cost_free(depth)?.kind)
    }

    /// Whether a branch to `depth` needs value moves.
    pub(crate) fn branch_needs_moves(&mut self, depth: u32) -> Result<bool, CcError> {
        let c = self.branch_cost_free(depth)?;
        if c.kind == Kind::Func {
            return Ok(true);
        }
        let n = c.branch_types().len();
        let base = c.base;
        if n == 0 {
            return Ok(false);
        }
        let first = self.stack.len() - n;
        Ok(self.stack[first].pos != base || self.stack[first..].iter().any(|e| e.konst.is_some()))
    }

    /// Unconditional branch to `depth`.
    pub(crate) fn br(&mut self, depth: u32) -> Result<(), CcError> {
        if self.ctl_kind(depth)? == Kind::Func {
            return self.ret();
        }
        let l = self.prepare_branch(depth)?;
        self.p.code.b(Cc::Al, l);
        Ok(())
    }

    /// Branch to `depth` when the flags satisfy `cc`.
    pub fn br_cc(&mut self, cc: Cc, depth: u32) -> Result<(), CcError> {
        if self.branch_needs_moves(depth)? {
            let skip = self.p.code.label();
            self.p.code.b(crate::emit::invert(cc), skip);
            let saved = self.stack.clone();
            self.br(depth)?;
            self.stack = saved;
            self.p.code.bind(skip);
        } else {
            let l = self.branch_cost_free(depth)?.label;
            self.p.code.b(cc, l);
        }
        Ok(())
    }

    pub(crate) fn ret(&mut self) -> Result<(), CcError> {
        let n = self.results.len();
        if self.stack.len() < n {
            return Err(CcError::Internal("return without its values".into()));
        }
        let first = self.stack.len() - n;
        let mut w = 0u32;
        for i in first..self.stack.len() {
            let e = self.stack[i];
            for k in 0..e.ty.words() {
                match e.const_word(k) {
                    Some(v) => self.p.code.li(w as R, v),
                    None => {
                        let src = self.loc(&e, k);
                        move_word(&mut self.p.code, Loc::Reg(w as R), src)?;
                    }
                }
                w += 1;
            }
        }
        self.epilogue();
        Ok(())
    }

    pub(crate) fn epilogue(&mut self) {
        // The ADJSP amount is patched like the prologue's: emit through a fix-up list.
        let at = self.p.code.here();
        self.p.code.adjsp(0);
        self.epi_fixups.push(at);
        self.p.code.pop_r(FP);
        self.p.code.ret();
    }

    /// Condition for a branch on the value `e` being non-zero: tests it and returns `Ne`.
    pub(crate) fn test_value(&mut self, e: &Entry) -> Result<Cc, CcError> {
        let r = self.reg(e, 0, T1)?;
        self.p.code.test(r);
        Ok(Cc::Ne)
    }

    pub(crate) fn begin_block(&mut self, kind: Kind, bt: BlockType) -> Result<(), CcError> {
        let (params, results) = block_sig(self.p, bt)?;
        self.materialize_all()?;
        let height = self.stack.len() - params.len();
        let base = self.stack.get(height).map_or(self.next_pos(), |e| e.pos);
        let label = self.p.code.label();
        if kind == Kind::Loop {
            self.p.code.bind(label);
        }
        self.ctl.push(Ctl {
            kind,
            label,
            else_label: None,
            height,
            base,
            params,
            results,
        });
        Ok(())
    }

    pub(crate) fn end_block(&mut self) -> Result<(), CcError> {
        let c = self
            .ctl
            .pop()
            .ok_or_else(|| CcError::BadWasm("unbalanced end".into()))?;
        if c.kind == Kind::Func {
            if self.dead.is_none() {
                self.ret()?;
            }
            self.p.code.bind(c.label);
            // Reached only by `br` to the function level, which returns itself.
            return Ok(());
        }
        if self.dead.is_none() {
            self.place_top(c.results.len(), c.base)?;
        }
        if let Some(el) = c.else_label {
            self.p.code.bind(el);
        }
        if c.kind != Kind::Loop {
            self.p.code.bind(c.label);
        }
        self.reset_stack(c.height, c.base, &c.results);
        self.dead = None;
        Ok(())
    }

    pub(crate) fn else_arm(&mut self) -> Result<(), CcError> {
        let (label, el, height, base, results, params) = {
            let c = self
                .ctl
                .last_mut()
                .ok_or_else(|| CcError::BadWasm("else outside if".into()))?;
            (
                c.label,
                c.else_label.take(),
                c.height,
                c.base,
                c.results.clone(),
                c.params.clone(),
            )
        };
        if self.dead.is_none() {
            self.place_top(results.len(), base)?;
            self.p.code.b(Cc::Al, label);
        }
        if let Some(el) = el {
            self.p.code.bind(el);
        }
        self.reset_stack(height, base, &params);
        self.dead = None;
        Ok(())
    }

    /// Skip unreachable code; returns true if `op` was consumed.
    pub(crate) fn skip_dead(&mut self, op: &Operator<'a>) -> Result<bool, CcError> {
        let Some(depth) = self.dead else {
            return Ok(false);
        };
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.dead = Some(depth + 1);
                Ok(true)
            }
            Operator::End if depth > 0 => {
                self.dead = Some(depth - 1);
                Ok(true)
            }
            Operator::Else if depth > 0 => Ok(true),
            Operator::End | Operator::Else => Ok(false),
            _ => Ok(true),
        }
    }

    /// Peek at operator `i`.
    pub fn peek(&self, i: usize) -> Option<&Operator<'a>> {
        self.ops.get(i).map(|(o, _)| o)
    }

    /// Consume a conditional branch (`br_if`/`if`) that follows a comparison: emit it on the
    /// flags for `cc`. Returns the operators consumed (0 if `next` is not one).
    pub fn fuse_branch(&mut self, cc: Cc, next: usize) -> Result<usize, CcError> {
        match self.peek(next).cloned() {
            Some(Operator::BrIf { relative_depth }) => {
                self.br_cc(cc, relative_depth)?;
                Ok(1)
            }
            Some(Operator::If { blockty }) => {
                self.begin_block(Kind::If, blockty)?;
                let el = self.p.code.label();
                self.p.code.b(crate::emit::invert(cc), el);
                if let Some(c) = self.ctl.last_mut() {
                    c.else_label = Some(el);
                }
                Ok(1)
            }
            _ => Ok(0),
        }
    }

    pub(crate) fn select(&mut self) -> Result<(), CcError> {
        let cond = self.pop()?;
        let b = self.pop()?;
        let a = *self
            .stack
            .last()
            .ok_or_else(|| CcError::Internal("select".into()))?;
        let rc = self.reg(&cond, 0, T1)?;
        if a.konst.is_some() || a.local.is_some() {
            let idx = self.stack.len() - 1;
            self.materialize_at(idx)?;
        }
        self.p.code.test(rc);
        let keep = self.p.code.label();
        self.p.code.b(Cc::Ne, keep);
        for w in 0..b.ty.words() {
            let dst = self.frame.loc(a.pos + w);
            match b.const_word(w) {
                Some(v) => set_word(&mut self.p.code, dst, v)?,
                None => {
                    let src = self.loc(&b, w);
                    move_word(&mut self.p.code, dst, src)?;
                }
            }
        }
        self.p.code.bind(keep);
        Ok(())
    }

    pub(crate) fn br_table(&mut self, targets: &[u32], default: u32) -> Result<(), CcError> {
        let idx = self.pop()?;
        self.materialize_all()?;
        let ri = self.reg(&idx, 0, T1)?;
        let n = targets.len() as u32;
        // Out of range → default.
        let dflt = self.p.code.label();
        self.p.code.li(T2, n);
        self.p.code.cmp(ri, T2);
        self.p.code.b(Cc::Geu, dflt);
        let table = self.p.code.label();
        self.p.code.rrr(crate::emit::op::ADD, T0, ri, ri);
        self.p.code.rrr(crate::emit::op::ADD, T0, T0, T0);
        self.p.code.la(T2, table);
        self.p.code.rrr(crate::emit::op::ADD, T0, T0, T2);
        self.p.code.jr(T0);
        // One branch per entry; entries needing value moves go through a trampoline.
        self.p.code.bind(table);
        let mut tramps = Vec::new();
        for &t in targets {
            if self.branch_needs_moves(t)? {
                let l = self.p.code.label();
                self.p.code.b(Cc::Al, l);
                tramps.push((l, t));
            } else {
                let l = self.branch_cost_free(t)?.label;
                self.p.code.b(Cc::Al, l);
            }
        }
        self.p.code.bind(dflt);
        let saved = self.stack.clone();
        self.br(default)?;
        for (l, t) in tramps {
            self.stack = saved.clone();
            self.p.code.bind(l);
            self.br(t)?;
        }
        self.stack = saved;
        Ok(())
    }
}
