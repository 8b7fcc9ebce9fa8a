//! Translating the whole program: the entry stub, then functions, thunks, runtime routines
//! and jump tables until nothing new is reachable.

use std::collections::HashMap;

use crate::emit::{Cc, Label};
use crate::error::CcError;
use crate::func::Fx;
use crate::imports::{ThunkEnv, emit_thunk};
use crate::module::Sig;
use crate::prog::{FuncSpan, Prog};
use crate::runtime::{self, Rt};

impl Prog<'_, '_> {
    /// Translate everything reachable from the entry point.
    pub fn build(&mut self) -> Result<(), CcError> {
        self.current = u32::MAX;
        let start = *self.m.func_exports.get("_start").ok_or_else(|| {
            CcError::Unsupported("the module has no `_start` (is there a main function?)".into())
        })?;
        // Entry stub: run the wasm start function and `_start`, then exit with status 0
        // (`_start` calls `proc_exit` itself for a non-zero status).
        if let Some(s) = self.m.start {
            let l = self.func_label(s)?;
            self.code.call(l);
        }
        let l = self.func_label(start)?;
        self.code.call(l);
        self.code.li(0, 0);
        self.code.svc(1, 0);
        self.code.trap();
        loop {
            if let Some(f) = self.queue.pop() {
                self.emit_function(f)?;
                continue;
            }
            if let Some((&rt, _)) = self.rts.iter().find(|(_, (_, done))| !done) {
                let l = self.rts[&rt].0;
                self.rts.insert(rt, (l, true));
                self.code.bind(l);
                let rts = self.rts.clone();
                runtime::emit(&mut self.code, rt, |r| rts[&r].0);
                continue;
            }
            if let Some((&ty, _)) = self.itables.iter().find(|(_, (_, done))| !done) {
                let l = self.itables[&ty].0;
                self.itables.insert(ty, (l, true));
                self.emit_table(ty, l)?;
                continue;
            }
            break;
        }
        if let Some(t) = self.trap {
            self.code.bind(t);
            self.code.trap();
        }
        if self.code.here() > 0x1_0000 {
            return Err(CcError::TooLarge(format!(
                "{} bytes of MiniVM code (the limit is 65536); try -Os, or move work out of \
                 large library functions",
                self.code.here()
            )));
        }
        Ok(())
    }

    fn emit_function(&mut self, f: u32) -> Result<(), CcError> {
        let l = self.flabels[f as usize].ok_or_else(|| CcError::Internal("no label".into()))?;
        let start = self.code.here();
        self.code.bind(l);
        self.current = f;
        let locals = if f < self.m.num_imports() {
            let imp = self.m.imports[f as usize].clone();
            let sig = self.m.func_sig(f)?.clone();
            let callers = self.callers_of(f);
            let heap_end = self.layout.heap_end;
            let mut labels = HashMap::new();
            for &r in crate::imports::needs(&imp) {
                labels.insert(r, self.rt(r));
            }
            let lookup = |r: Rt| labels.get(&r).copied().unwrap_or(Label(u32::MAX));
            let mut env = ThunkEnv {
                heap_end,
                rt: &lookup,
                callers,
                argv0: self.argv0.clone(),
            };
            emit_thunk(&mut self.code, &imp, &sig, &mut env)?;
            Vec::new()
        } else {
            Fx::translate(self, f)?
        };
        self.spans.push(FuncSpan {
            fidx: f,
            locals,
            name: self.m.name(f),
            start,
            end: self.code.here(),
        });
        Ok(())
    }

    fn emit_table(&mut self, ty: u32, l: Label) -> Result<(), CcError> {
        let want: Sig = self.m.sig(ty)?.clone();
        let trap = self.trap_label();
        self.code.bind(l);
        for slot in 0..self.m.table.len() {
            let target = match self.m.table[slot] {
                Some(f) if self.m.func_sig(f).ok() == Some(&want) => self.func_label(f)?,
                _ => trap,
            };
            self.code.b(Cc::Al, target);
        }
        Ok(())
    }
}
