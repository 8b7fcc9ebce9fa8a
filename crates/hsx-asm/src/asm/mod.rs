//! Pass 1: one source file (plus its `.include`s) → an [`Object`] with code words, rodata,
//! labels and relocations, modelled on the reference's `.hxo` (every symbol use is a
//! relocation that the linker resolves, so output bytes match `asm.py` + `hld.py`).
//!
//! This file is the driver: the file and line loop, labels, emitting code words and the
//! end-of-object checks. What a line may contain is split by what it reads: `operand`
//! (tokens, registers, numbers, symbol and memory operands), `instr` (instructions and
//! their encoding), `directive` (sections, symbols, header options, `.include`), `data`
//! (`.data` contents) and `metadata` (`.value` / `.cmd` / `.mailbox` JSON). Each adds an
//! `impl Assembler` block and depends on this file, never the other way round.

mod data;
mod directive;
mod instr;
mod metadata;
mod operand;

use std::collections::HashMap;
use std::path::PathBuf;

use crate::diag::Diagnostic;
use crate::lex::{Lexer, TokKind, Token};
use crate::object::{InstrInfo, Label, Object, SECTION_LIMIT, Section, SymKind};
use crate::source::{Loc, Sources};

const MAX_DIAGS: usize = 50;

type LineResult<T> = Result<T, (Loc, String)>;

/// Assembles files into objects, collecting located diagnostics.
pub(crate) struct Assembler<'s> {
    pub sources: &'s mut Sources,
    pub diags: Vec<Diagnostic>,
    /// See [`crate::AsmOptions::include_root`].
    pub include_root: Option<PathBuf>,
}

struct FileCtx {
    file: u32,
    line: u32,
    dir: PathBuf,
}

struct ObjState {
    obj: Object,
    section: Section,
    export_requests: Vec<(String, Loc)>,
    include_stack: Vec<PathBuf>,
}

impl<'s> Assembler<'s> {
    pub fn new(sources: &'s mut Sources) -> Self {
        Assembler {
            sources,
            diags: Vec::new(),
            include_root: None,
        }
    }

    fn push_diag(&mut self, loc: Loc, msg: String) {
        if self.diags.len() < MAX_DIAGS {
            let d = self.sources.diag(loc, msg);
            self.diags.push(d);
        }
    }

    /// Assemble the already-registered source file `file` into an object.
    pub fn assemble(&mut self, file: u32, dir: PathBuf, canonical: Option<PathBuf>) -> Object {
        let mut st = ObjState {
            obj: Object {
                file,
                ..Object::default()
            },
            section: Section::Text,
            export_requests: Vec::new(),
            include_stack: canonical.into_iter().collect(),
        };
        self.run_file(&mut st, file, dir);
        self.finish(&mut st);
        st.obj
    }

    fn run_file(&mut self, st: &mut ObjState, file: u32, dir: PathBuf) {
        let Some(src) = self.sources.files.get(file as usize).cloned() else {
            return;
        };
        let n = src.line_count();
        let mut ctx = FileCtx { file, line: 0, dir };
        let mut i = 0;
        while i < n {
            ctx.line = (i + 1) as u32;
            let text = src.line(i);
            let mut extra = 0usize;
            if let Err((loc, msg)) = self.line(st, &mut ctx, text, &src, i, &mut extra) {
                self.push_diag(loc, msg);
            }
            i += 1 + extra;
        }
    }

    fn line(
        &mut self,
        st: &mut ObjState,
        ctx: &mut FileCtx,
        text: &str,
        src: &crate::source::SrcFile,
        idx: usize,
        extra: &mut usize,
    ) -> LineResult<()> {
        let mut lx = Lexer::new(text);
        let mut first = Self::next(ctx, &mut lx)?;
        // Labels: `name:` (several may share a line, an instruction may follow).
        while let Some(t) = first.clone() {
            if t.kind != TokKind::Ident {
                break;
            }
            match Self::peek(ctx, &mut lx)? {
                Some(Token {
                    kind: TokKind::Punct(':'),
                    ..
                }) => {
                    Self::next(ctx, &mut lx)?;
                    self.define_label(st, ctx, &text[t.start..t.end], Self::tok_loc(ctx, &t))?;
                    first = Self::next(ctx, &mut lx)?;
                }
                _ => break,
            }
        }
        let Some(first) = first else {
            return Ok(());
        };
        let word = text.get(first.start..first.end).unwrap_or("");
        match first.kind {
            TokKind::Ident if word.starts_with('.') => {
                self.directive(st, ctx, &mut lx, &first, src, idx, extra)
            }
            TokKind::Ident => self.instruction(st, ctx, &mut lx, &first),
            _ => Err((
                Self::tok_loc(ctx, &first),
                format!(
                    "expected a label, directive or instruction, found {}",
                    Self::describe(text, &first)
                ),
            )),
        }
    }

    fn define_label(
        &mut self,
        st: &mut ObjState,
        _ctx: &FileCtx,
        name: &str,
        loc: Loc,
    ) -> LineResult<()> {
        if let Some(prev) = st.obj.label(name) {
            return Err((
                loc,
                format!(
                    "duplicate label `{name}` (first defined at {})",
                    self.sources.pos(prev.loc)
                ),
            ));
        }
        let offset = match st.section {
            Section::Text => st.obj.code.len() as u32 * 4,
            Section::Data => st.obj.rodata.len() as u32,
        };
        st.obj
            .label_index
            .insert(name.to_string(), st.obj.labels.len());
        st.obj.labels.push(Label {
            name: name.to_string(),
            section: st.section,
            offset,
            loc,
        });
        Ok(())
    }

    fn emit(st: &mut ObjState, word: u32, loc: Loc, instr: bool) -> LineResult<()> {
        if st.obj.code.len() as u32 * 4 >= SECTION_LIMIT {
            return Err((loc, "code exceeds the 64 KiB code section limit".into()));
        }
        if instr {
            st.obj.instrs.push(InstrInfo {
                ordinal: st.obj.code.len() as u32,
                loc,
            });
        }
        st.obj.code.push(word);
        Ok(())
    }

    /// End of the object: resolve exports, check the entry symbol and every reference.
    fn finish(&mut self, st: &mut ObjState) {
        let mut errs: Vec<(Loc, String)> = Vec::new();
        let obj = &mut st.obj;
        let mut exported: HashMap<String, ()> = HashMap::new();
        let mut add_export = |obj: &mut Object, name: &str, loc: Loc| {
            if exported.insert(name.to_string(), ()).is_none() {
                obj.exports.push((name.to_string(), loc));
            }
        };
        for (name, loc) in st.export_requests.clone() {
            if obj.label(&name).is_some() {
                add_export(obj, &name, loc);
            } else {
                errs.push((
                    loc,
                    format!("cannot export `{name}`: no such label in this file"),
                ));
            }
        }
        for (name, loc) in obj.externs.clone() {
            if obj.label(&name).is_some() {
                add_export(obj, &name, loc);
            }
        }
        if let Some((name, loc)) = obj.entry_symbol.clone() {
            match obj.label(&name) {
                Some(l) if l.section == Section::Text => add_export(obj, &name, loc),
                Some(_) => errs.push((
                    loc,
                    format!("entry symbol `{name}` is a .data label (expected a .text label)"),
                )),
                None => errs.push((
                    loc,
                    format!("entry symbol `{name}` is not defined in this file"),
                )),
            }
        }
        let declared = |obj: &Object, n: &str| {
            obj.imports
                .iter()
                .chain(obj.externs.iter())
                .any(|(i, _)| i == n)
        };
        for r in &obj.relocs {
            match obj.label(&r.sym.name) {
                Some(l) => {
                    if r.sym.kind == SymKind::Off16 && l.section != Section::Data {
                        errs.push((r.sym.loc, format!("off16() expects a .data symbol, but `{}` is a .text label", r.sym.name)));
                    }
                }
                None if declared(obj, &r.sym.name) => {}
                None => errs.push((
                    r.sym.loc,
                    format!("undefined symbol `{}` (not a label in this file; declare it with .import if another file exports it)", r.sym.name),
                )),
            }
        }
        for (loc, m) in errs {
            self.push_diag(loc, m);
        }
    }
}
