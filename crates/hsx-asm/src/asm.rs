//! Pass 1: one source file (plus its `.include`s) → an [`Object`] with code words, rodata,
//! labels and relocations, modelled on the reference's `.hxo` (every symbol use is a
//! relocation that the linker resolves, so output bytes match `asm.py` + `hld.py`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hsx_vm::isa::{Form, Instr, Opcode};
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::lex::{
    LexError, Lexer, TokKind, Token, decode_quoted, is_register_name, is_symbol_name,
};
use crate::meta::{self, CmdSpec, MailboxSpec, ValueSpec};
use crate::source::{Loc, Sources};

/// Largest code or rodata section the loader accepts (the two limits are equal).
pub(crate) const SECTION_LIMIT: u32 = hsx_image::MAX_CODE_LEN;
const _: () = assert!(hsx_image::MAX_CODE_LEN == hsx_image::MAX_RODATA_LEN);
pub(crate) use hsx_image::RODATA_BASE;
const MAX_DIAGS: usize = 50;
/// How many lines a metadata JSON payload may continue over.
const MAX_JSON_LINES: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Text,
    Data,
}

#[derive(Debug, Clone)]
pub(crate) struct Label {
    pub name: String,
    pub section: Section,
    pub offset: u32,
    pub loc: Loc,
}

/// Which part of a symbol's address a reference uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SymKind {
    Symbol,
    Lo16,
    Hi16,
    Off16,
}

impl SymKind {
    pub fn wrap(self, name: &str) -> String {
        match self {
            SymKind::Symbol => name.to_string(),
            SymKind::Lo16 => format!("lo16({name})"),
            SymKind::Hi16 => format!("hi16({name})"),
            SymKind::Off16 => format!("off16({name})"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SymRef {
    pub kind: SymKind,
    pub name: String,
    pub loc: Loc,
}

/// Relocation types (`vm.md` §5.1) plus the distinctions our range checks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelocType {
    /// `LDI Rd, sym` (signed 12-bit).
    Ldi,
    /// `LD/ST [Rb+sym]` (signed 12-bit).
    Mem,
    /// `JMP/JZ/JNZ sym` (unsigned absolute 12-bit).
    Jump,
    /// `CALL sym` (signed PC-relative word offset).
    Call,
    /// `LDI32 Rd, sym` (second word).
    Imm32,
    DataWord,
    DataHalf,
    DataByte,
}

#[derive(Debug, Clone)]
pub(crate) struct Reloc {
    pub ty: RelocType,
    /// Code word index, or rodata byte offset for the `Data*` types.
    pub at: u32,
    pub sym: SymRef,
}

/// One emitted instruction, for `.sym` line records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InstrInfo {
    pub ordinal: u32,
    pub loc: Loc,
}

/// An assembled source file, ready for linking.
#[derive(Debug, Default)]
pub(crate) struct Object {
    pub file: u32,
    pub code: Vec<u32>,
    pub rodata: Vec<u8>,
    pub entry: u32,
    pub entry_loc: Option<Loc>,
    pub entry_symbol: Option<(String, Loc)>,
    pub labels: Vec<Label>,
    pub label_index: HashMap<String, usize>,
    /// Exported names (each a local label), in first-export order.
    pub exports: Vec<(String, Loc)>,
    pub imports: Vec<(String, Loc)>,
    pub externs: Vec<(String, Loc)>,
    pub relocs: Vec<Reloc>,
    pub values: Vec<(ValueSpec, Loc)>,
    pub commands: Vec<(CmdSpec, Loc)>,
    pub mailboxes: Vec<(MailboxSpec, Loc)>,
    pub instrs: Vec<InstrInfo>,
    pub app_name: Option<(String, Loc)>,
    pub single_instance: bool,
    pub req_caps: Option<(u16, Loc)>,
}

impl Object {
    pub fn label(&self, name: &str) -> Option<&Label> {
        self.label_index.get(name).and_then(|&i| self.labels.get(i))
    }
}

/// A number or symbol operand.
enum Operand {
    Int(i64, Token),
    Sym(SymRef),
}

type LineResult<T> = Result<T, (Loc, String)>;

/// Assembles files into objects, collecting located diagnostics.
pub(crate) struct Assembler<'s> {
    pub sources: &'s mut Sources,
    pub diags: Vec<Diagnostic>,
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

    fn loc(ctx: &FileCtx, start: usize, end: usize) -> Loc {
        Loc {
            file: ctx.file,
            line: ctx.line,
            start: start as u32,
            end: end.max(start + 1) as u32,
        }
    }

    fn tok_loc(ctx: &FileCtx, t: &Token) -> Loc {
        Self::loc(ctx, t.start, t.end)
    }

    fn lex_err(ctx: &FileCtx, e: LexError) -> (Loc, String) {
        (Self::loc(ctx, e.start, e.end), e.message)
    }

    fn next(ctx: &FileCtx, lx: &mut Lexer) -> LineResult<Option<Token>> {
        lx.next_token().map_err(|e| Self::lex_err(ctx, e))
    }

    fn peek(ctx: &FileCtx, lx: &mut Lexer) -> LineResult<Option<Token>> {
        lx.peek().map_err(|e| Self::lex_err(ctx, e))
    }

    fn end_loc(ctx: &FileCtx, lx: &Lexer) -> Loc {
        Self::loc(ctx, lx.end(), lx.end() + 1)
    }

    fn describe(text: &str, t: &Token) -> String {
        format!("`{}`", text.get(t.start..t.end).unwrap_or("?"))
    }

    /// Require that nothing but a comment follows.
    /// `what` is only formatted on error: this runs once per instruction.
    fn expect_end(ctx: &FileCtx, lx: &mut Lexer, what: impl std::fmt::Display) -> LineResult<()> {
        let mut t = Self::next(ctx, lx)?;
        // `MOV R1, R2, R3`: point at the extra operand rather than at the comma.
        if let Some(c) = &t
            && c.kind == TokKind::Punct(',')
            && let Some(after) = Self::next(ctx, lx)?
        {
            t = Some(after);
        }
        match t {
            None => Ok(()),
            Some(t) => Err((
                Self::tok_loc(ctx, &t),
                format!(
                    "unexpected {} after {what} (expected end of line)",
                    Self::describe(lx.line, &t)
                ),
            )),
        }
    }

    /// Skip one optional comma between operands.
    fn skip_comma(ctx: &FileCtx, lx: &mut Lexer) -> LineResult<()> {
        if let Some(t) = Self::peek(ctx, lx)?
            && t.kind == TokKind::Punct(',')
        {
            lx.next_token().map_err(|e| Self::lex_err(ctx, e))?;
        }
        Ok(())
    }

    fn reg_of(text: &str, t: &Token) -> Option<Result<u8, String>> {
        if t.kind != TokKind::Ident {
            return None;
        }
        let s = text.get(t.start..t.end)?;
        if !is_register_name(s) {
            return None;
        }
        match s[1..].parse::<u32>() {
            // `R01` is rejected: only the plain spelling names a register.
            Ok(n) if n <= 15 && !(s.len() > 2 && s.as_bytes()[1] == b'0') => Some(Ok(n as u8)),
            _ => Some(Err(format!(
                "register `{s}` does not exist (expected R0..R15)"
            ))),
        }
    }

    fn expect_reg(ctx: &FileCtx, lx: &mut Lexer, mn: &str, what: &str) -> LineResult<u8> {
        match Self::next(ctx, lx)? {
            None => Err((
                Self::end_loc(ctx, lx),
                format!("{mn} is missing its {what} (expected a register R0..R15)"),
            )),
            Some(t) => match Self::reg_of(lx.line, &t) {
                Some(Ok(r)) => Ok(r),
                Some(Err(m)) => Err((Self::tok_loc(ctx, &t), m)),
                None => Err((
                    Self::tok_loc(ctx, &t),
                    format!(
                        "{mn} expects a register R0..R15 as its {what}, found {}",
                        Self::describe(lx.line, &t)
                    ),
                )),
            },
        }
    }

    /// A number, or a symbol reference `sym` / `lo16(sym)` / `hi16(sym)` / `off16(sym)`.
    fn operand(ctx: &FileCtx, lx: &mut Lexer, mn: &str, what: &str) -> LineResult<Operand> {
        let Some(t) = Self::next(ctx, lx)? else {
            return Err((
                Self::end_loc(ctx, lx),
                format!("{mn} is missing its {what} (expected a number or a label)"),
            ));
        };
        match &t.kind {
            TokKind::Int(v) => Ok(Operand::Int(*v, t)),
            TokKind::Ident => {
                let text = lx.line.get(t.start..t.end).unwrap_or("");
                if let Some(Ok(_)) = Self::reg_of(lx.line, &t) {
                    return Err((
                        Self::tok_loc(ctx, &t),
                        format!(
                            "{mn} expects a number or a label as its {what}, found register `{text}`"
                        ),
                    ));
                }
                let kind = [
                    ("lo16", SymKind::Lo16),
                    ("hi16", SymKind::Hi16),
                    ("off16", SymKind::Off16),
                ]
                .into_iter()
                .find(|(k, _)| text.eq_ignore_ascii_case(k))
                .map(|(_, kind)| kind);
                if let Some(kind) = kind
                    && matches!(
                        Self::peek(ctx, lx)?,
                        Some(Token {
                            kind: TokKind::Punct('('),
                            ..
                        })
                    )
                {
                    Self::next(ctx, lx)?;
                    let inner = Self::next(ctx, lx)?;
                    let Some(inner) = inner.filter(|i| i.kind == TokKind::Ident) else {
                        return Err((
                            Self::tok_loc(ctx, &t),
                            format!("`{text}(` must be followed by a symbol name and `)`"),
                        ));
                    };
                    let close = Self::next(ctx, lx)?;
                    let Some(close) = close.filter(|c| c.kind == TokKind::Punct(')')) else {
                        return Err((
                            Self::loc(ctx, t.start, inner.end),
                            format!("missing `)` after `{text}(`"),
                        ));
                    };
                    return Ok(Operand::Sym(SymRef {
                        kind,
                        name: lx.line[inner.start..inner.end].to_string(),
                        loc: Self::loc(ctx, t.start, close.end),
                    }));
                }
                Ok(Operand::Sym(SymRef {
                    kind: SymKind::Symbol,
                    name: text.to_string(),
                    loc: Self::tok_loc(ctx, &t),
                }))
            }
            _ => Err((
                Self::tok_loc(ctx, &t),
                format!(
                    "{mn} expects a number or a label as its {what}, found {}",
                    Self::describe(lx.line, &t)
                ),
            )),
        }
    }

    fn int_in(
        ctx: &FileCtx,
        v: i64,
        t: &Token,
        lo: i64,
        hi: i64,
        what: impl FnOnce() -> String,
    ) -> LineResult<i64> {
        if v < lo || v > hi {
            Err((
                Self::tok_loc(ctx, t),
                format!("{} {v} is out of range (expected {lo}..{hi})", what()),
            ))
        } else {
            Ok(v)
        }
    }

    /// `[Rb+off]`, `[Rb-off]`, `[Rb]` (spaces allowed).
    fn mem_operand(ctx: &FileCtx, lx: &mut Lexer, mn: &str) -> LineResult<(u8, Operand)> {
        let expected = format!("{mn} expects a memory operand like [R2+4]");
        let open = Self::next(ctx, lx)?;
        match open {
            Some(Token {
                kind: TokKind::Punct('['),
                ..
            }) => {}
            Some(t) => {
                return Err((
                    Self::tok_loc(ctx, &t),
                    format!("{expected}, found {}", Self::describe(lx.line, &t)),
                ));
            }
            None => {
                return Err((
                    Self::end_loc(ctx, lx),
                    format!("{expected}, found end of line"),
                ));
            }
        }
        let base = Self::expect_reg(ctx, lx, mn, "base register")?;
        let Some(t) = Self::next(ctx, lx)? else {
            return Err((
                Self::end_loc(ctx, lx),
                format!("missing `]` in {mn} memory operand"),
            ));
        };
        let (off, close) = match &t.kind {
            TokKind::Punct(']') => (Operand::Int(0, t.clone()), t),
            TokKind::Punct(sign @ ('+' | '-')) => {
                let neg = *sign == '-';
                let op = Self::operand(ctx, lx, mn, "offset")?;
                let op = match op {
                    // `v` can be i64::MIN (`[R2 - -9223372036854775808]`); saturating keeps
                    // it out of range so `int_in` reports it instead of overflowing here.
                    Operand::Int(v, tok) if neg => Operand::Int(v.saturating_neg(), tok),
                    Operand::Sym(s) if neg => {
                        return Err((
                            s.loc,
                            format!(
                                "cannot subtract a symbol in {mn} (only [Rb+sym] is supported)"
                            ),
                        ));
                    }
                    other => other,
                };
                let Some(close) = Self::next(ctx, lx)? else {
                    return Err((
                        Self::end_loc(ctx, lx),
                        format!("missing `]` in {mn} memory operand"),
                    ));
                };
                (op, close)
            }
            // `[R2-4]` lexes as a signed literal when written without blanks.
            TokKind::Int(v) if *v < 0 => {
                let op = Operand::Int(*v, t.clone());
                let Some(close) = Self::next(ctx, lx)? else {
                    return Err((
                        Self::end_loc(ctx, lx),
                        format!("missing `]` in {mn} memory operand"),
                    ));
                };
                (op, close)
            }
            _ => {
                return Err((
                    Self::tok_loc(ctx, &t),
                    format!(
                        "{expected}: expected `+`, `-` or `]` after the base register, found {}",
                        Self::describe(lx.line, &t)
                    ),
                ));
            }
        };
        if close.kind != TokKind::Punct(']') {
            return Err((
                Self::tok_loc(ctx, &close),
                format!(
                    "expected `]` to close the {mn} memory operand, found {}",
                    Self::describe(lx.line, &close)
                ),
            ));
        }
        Ok((base, off))
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

    fn instruction(
        &mut self,
        st: &mut ObjState,
        ctx: &FileCtx,
        lx: &mut Lexer,
        mtok: &Token,
    ) -> LineResult<()> {
        let mtext = &lx.line[mtok.start..mtok.end];
        let mloc = Self::tok_loc(ctx, mtok);
        let Some(op) = Opcode::from_mnemonic(mtext) else {
            let hint = if Self::peek(ctx, lx)?.is_none() && is_symbol_name(mtext) {
                " (a label needs a trailing `:`)"
            } else {
                ""
            };
            return Err((mloc, format!("unknown mnemonic `{mtext}`{hint}")));
        };
        if st.section == Section::Data {
            return Err((
                mloc,
                format!(
                    "instruction `{}` in the .data section (switch with .text first)",
                    op.mnemonic()
                ),
            ));
        }
        let mn = op.mnemonic();
        let idx = st.obj.code.len() as u32;
        let mut reloc: Option<(RelocType, SymRef)> = None;
        let mut second: Option<u32> = None;
        let ins = match op.form() {
            Form::RdImm => {
                let rd = Self::expect_reg(ctx, lx, mn, "destination")?;
                Self::skip_comma(ctx, lx)?;
                match Self::operand(ctx, lx, mn, "immediate")? {
                    Operand::Int(v, t) => {
                        if !(-2048..=2047).contains(&v) {
                            return Err((
                                Self::tok_loc(ctx, &t),
                                format!(
                                    "immediate {v} does not fit LDI's signed 12 bits (expected -2048..2047; use LDI32 for larger values)"
                                ),
                            ));
                        }
                        Instr::new(op, rd, 0, 0, v as i32)
                    }
                    Operand::Sym(s) => {
                        reloc = Some((RelocType::Ldi, s));
                        Instr::new(op, rd, 0, 0, 0)
                    }
                }
            }
            Form::Load => {
                let rd = Self::expect_reg(ctx, lx, mn, "destination")?;
                Self::skip_comma(ctx, lx)?;
                let (base, off) = Self::mem_operand(ctx, lx, mn)?;
                Self::mem_instr(ctx, op, rd, base, 0, off, &mut reloc)?
            }
            Form::Store => {
                let (base, off) = Self::mem_operand(ctx, lx, mn)?;
                Self::skip_comma(ctx, lx)?;
                let rs = Self::expect_reg(ctx, lx, mn, "source register")?;
                Self::mem_instr(ctx, op, 0, base, rs, off, &mut reloc)?
            }
            Form::RdRs => {
                let rd = Self::expect_reg(ctx, lx, mn, "destination")?;
                Self::skip_comma(ctx, lx)?;
                let rs = Self::expect_reg(ctx, lx, mn, "source register")?;
                Instr::new(op, rd, rs, 0, 0)
            }
            Form::RdRaRb => {
                let rd = Self::expect_reg(ctx, lx, mn, "destination")?;
                Self::skip_comma(ctx, lx)?;
                let ra = Self::expect_reg(ctx, lx, mn, "first source register")?;
                Self::skip_comma(ctx, lx)?;
                let rb = Self::expect_reg(ctx, lx, mn, "second source register")?;
                Instr::new(op, rd, ra, rb, 0)
            }
            Form::RaRb => {
                let ra = Self::expect_reg(ctx, lx, mn, "first register")?;
                Self::skip_comma(ctx, lx)?;
                let rb = Self::expect_reg(ctx, lx, mn, "second register")?;
                Instr::new(op, 0, ra, rb, 0)
            }
            Form::Jump => match Self::operand(ctx, lx, mn, "target")? {
                Operand::Int(v, t) => {
                    let v =
                        Self::int_in(ctx, v, &t, -2048, 4095, || format!("{mn} target address"))?;
                    Instr::new(op, 0, 0, 0, v as i32)
                }
                Operand::Sym(s) => {
                    reloc = Some((RelocType::Jump, s));
                    Instr::new(op, 0, 0, 0, 0)
                }
            },
            Form::Call => match Self::operand(ctx, lx, mn, "target")? {
                Operand::Int(v, t) => {
                    let v =
                        Self::int_in(ctx, v, &t, -2048, 2047, || "CALL word offset".to_string())?;
                    Instr::new(op, 0, 0, 0, v as i32)
                }
                Operand::Sym(s) => {
                    reloc = Some((RelocType::Call, s));
                    Instr::new(op, 0, 0, 0, 0)
                }
            },
            Form::None => Instr::new(op, 0, 0, 0, 0),
            Form::Svc => Instr::new(op, 0, 0, 0, Self::svc_operands(ctx, lx)? as i32),
            Form::Push => Instr::new(op, 0, Self::expect_reg(ctx, lx, mn, "register")?, 0, 0),
            Form::Pop => Instr::new(op, Self::expect_reg(ctx, lx, mn, "register")?, 0, 0, 0),
            Form::RdImm32 => {
                let rd = Self::expect_reg(ctx, lx, mn, "destination")?;
                Self::skip_comma(ctx, lx)?;
                match Self::operand(ctx, lx, mn, "value")? {
                    Operand::Int(v, t) => {
                        let v = Self::int_in(ctx, v, &t, -(1 << 31), 0xFFFF_FFFF, || {
                            "LDI32 value".to_string()
                        })?;
                        second = Some(v as u32);
                    }
                    Operand::Sym(s) => {
                        reloc = Some((RelocType::Imm32, s));
                        second = Some(0);
                    }
                }
                Instr::new(op, rd, 0, 0, 0)
            }
            Form::Brk => match Self::next(ctx, lx)? {
                None => Instr::new(op, 0, 0, 0, 0),
                Some(t) => match t.kind {
                    TokKind::Int(v) => {
                        let v = Self::int_in(ctx, v, &t, 0, 255, || "BRK code".to_string())?;
                        Instr::new(op, 0, 0, 0, v as i32)
                    }
                    _ => {
                        return Err((
                            Self::tok_loc(ctx, &t),
                            format!(
                                "BRK takes an optional code 0..255, found {}",
                                Self::describe(lx.line, &t)
                            ),
                        ));
                    }
                },
            },
        };
        Self::expect_end(ctx, lx, format_args!("the operands of {mn}"))?;
        Self::emit(st, ins.encode(), mloc, true)?;
        if let Some(w) = second {
            Self::emit(st, w, mloc, false)?;
        }
        if let Some((ty, sym)) = reloc {
            let at = if ty == RelocType::Imm32 { idx + 1 } else { idx };
            st.obj.relocs.push(Reloc { ty, at, sym });
        }
        Ok(())
    }

    fn mem_instr(
        ctx: &FileCtx,
        op: Opcode,
        rd: u8,
        base: u8,
        rs: u8,
        off: Operand,
        reloc: &mut Option<(RelocType, SymRef)>,
    ) -> LineResult<Instr> {
        match off {
            Operand::Int(v, t) => {
                let v = Self::int_in(ctx, v, &t, -2048, 2047, || {
                    format!("{} offset", op.mnemonic())
                })?;
                Ok(Instr::new(op, rd, base, rs, v as i32))
            }
            Operand::Sym(s) => {
                *reloc = Some((RelocType::Mem, s));
                Ok(Instr::new(op, rd, base, rs, 0))
            }
        }
    }

    /// `SVC n`, `SVC mod, fn` or `SVC MOD=m FN=f` → the 12-bit immediate.
    fn svc_operands(ctx: &FileCtx, lx: &mut Lexer) -> LineResult<u32> {
        let mut ints: Vec<(i64, Token)> = Vec::new();
        let mut keys: Vec<(String, i64, Token)> = Vec::new();
        while let Some(t) = Self::next(ctx, lx)? {
            match &t.kind {
                TokKind::Punct(',') => continue,
                TokKind::Int(v) => ints.push((*v, t)),
                TokKind::Ident => {
                    let key = lx.line[t.start..t.end].to_ascii_uppercase();
                    if key != "MOD" && key != "FN" {
                        return Err((
                            Self::tok_loc(ctx, &t),
                            format!(
                                "SVC expects `n`, `mod, fn` or `MOD=m FN=f`, found {}",
                                Self::describe(lx.line, &t)
                            ),
                        ));
                    }
                    match Self::next(ctx, lx)? {
                        Some(Token {
                            kind: TokKind::Punct('='),
                            ..
                        }) => {}
                        _ => {
                            return Err((
                                Self::tok_loc(ctx, &t),
                                format!("expected `=` after `{key}` in SVC"),
                            ));
                        }
                    }
                    match Self::next(ctx, lx)? {
                        Some(Token {
                            kind: TokKind::Int(n),
                            start,
                            end,
                        }) => {
                            let v = Token {
                                kind: TokKind::Int(n),
                                start,
                                end,
                            };
                            if keys.iter().any(|(k, _, _)| *k == key) {
                                return Err((
                                    Self::tok_loc(ctx, &t),
                                    format!("`{key}=` given twice in SVC"),
                                ));
                            }
                            keys.push((key, n, v));
                        }
                        _ => {
                            return Err((
                                Self::tok_loc(ctx, &t),
                                format!("expected a number after `{key}=` in SVC"),
                            ));
                        }
                    }
                }
                _ => {
                    return Err((
                        Self::tok_loc(ctx, &t),
                        format!(
                            "SVC expects `n`, `mod, fn` or `MOD=m FN=f`, found {}",
                            Self::describe(lx.line, &t)
                        ),
                    ));
                }
            }
        }
        let modfn = |m: i64, mt: &Token, f: i64, ft: &Token| -> LineResult<u32> {
            let m = Self::int_in(ctx, m, mt, 0, 15, || "SVC module".to_string())?;
            let f = Self::int_in(ctx, f, ft, 0, 255, || "SVC function".to_string())?;
            Ok(((m as u32) << 8) | f as u32)
        };
        match (ints.as_slice(), keys.as_slice()) {
            ([], []) => Err((
                Self::end_loc(ctx, lx),
                "SVC is missing its operand (expected `n`, `mod, fn` or `MOD=m FN=f`)".into(),
            )),
            ([(v, t)], []) => {
                Ok(Self::int_in(ctx, *v, t, 0, 0xFFF, || "SVC immediate".to_string())? as u32)
            }
            ([(m, mt), (f, ft)], []) => modfn(*m, mt, *f, ft),
            ([], ks) => {
                let get = |k: &str| ks.iter().find(|(n, _, _)| n == k);
                let zero = Token {
                    kind: TokKind::Int(0),
                    start: 0,
                    end: 1,
                };
                let (m, mt) = get("MOD").map(|(_, v, t)| (*v, t)).unwrap_or((0, &zero));
                let (f, ft) = get("FN").map(|(_, v, t)| (*v, t)).unwrap_or((0, &zero));
                modfn(m, mt, f, ft)
            }
            (is, _) => {
                let t = &is.last().map(|(_, t)| t.clone()).unwrap_or(Token {
                    kind: TokKind::Int(0),
                    start: 0,
                    end: 1,
                });
                Err((
                    Self::tok_loc(ctx, t),
                    "SVC expects `n`, `mod, fn` or `MOD=m FN=f` (not a mix, at most two numbers)"
                        .into(),
                ))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn directive(
        &mut self,
        st: &mut ObjState,
        ctx: &mut FileCtx,
        lx: &mut Lexer,
        dtok: &Token,
        src: &crate::source::SrcFile,
        idx: usize,
        extra: &mut usize,
    ) -> LineResult<()> {
        let name = lx.line[dtok.start..dtok.end].to_ascii_lowercase();
        let dloc = Self::tok_loc(ctx, dtok);
        match name.as_str() {
            ".text" => {
                Self::expect_end(ctx, lx, ".text")?;
                st.section = Section::Text;
            }
            ".data" => {
                Self::expect_end(ctx, lx, ".data")?;
                st.section = Section::Data;
            }
            ".entry" => {
                if st.section != Section::Text {
                    return Err((dloc, ".entry is only valid in the .text section".into()));
                }
                match Self::next(ctx, lx)? {
                    None => {
                        st.obj.entry = st.obj.code.len() as u32 * 4;
                        st.obj.entry_symbol = None;
                    }
                    Some(t) => match t.kind {
                        TokKind::Int(v) => {
                            let v = Self::int_in(ctx, v, &t, 0, 0xFFFF, || {
                                ".entry offset".to_string()
                            })?;
                            st.obj.entry = v as u32;
                            st.obj.entry_symbol = None;
                        }
                        TokKind::Ident => {
                            st.obj.entry_symbol =
                                Some((lx.line[t.start..t.end].to_string(), Self::tok_loc(ctx, &t)));
                        }
                        _ => {
                            return Err((
                                Self::tok_loc(ctx, &t),
                                format!(
                                    ".entry expects a label or a code offset, found {}",
                                    Self::describe(lx.line, &t)
                                ),
                            ));
                        }
                    },
                }
                st.obj.entry_loc = Some(dloc);
                Self::expect_end(ctx, lx, ".entry")?;
            }
            ".export" | ".global" | ".globl" | ".import" | ".extern" => {
                let names = Self::name_list(ctx, lx, &name)?;
                for n in names {
                    match name.as_str() {
                        ".import" => st.obj.imports.push(n),
                        ".extern" => st.obj.externs.push(n),
                        _ => st.export_requests.push(n),
                    }
                }
            }
            ".include" => self.include(st, ctx, lx, dloc)?,
            ".org" => {
                if st.section != Section::Text {
                    return Err((dloc, ".org is only supported in the .text section".into()));
                }
                let t = Self::next(ctx, lx)?;
                let Some((v, t)) = t.and_then(|t| match t.kind {
                    TokKind::Int(v) => Some((v, t)),
                    _ => None,
                }) else {
                    return Err((dloc, ".org expects a code byte offset".into()));
                };
                let v = Self::int_in(ctx, v, &t, 0, i64::from(SECTION_LIMIT), || {
                    ".org offset".to_string()
                })?;
                let pc = i64::from(st.obj.code.len() as u32 * 4);
                if v % 4 != 0 {
                    return Err((
                        Self::tok_loc(ctx, &t),
                        format!(".org offset {v:#X} is not a multiple of 4"),
                    ));
                }
                if v < pc {
                    return Err((
                        Self::tok_loc(ctx, &t),
                        format!(".org offset {v:#X} is behind the current offset {pc:#X}"),
                    ));
                }
                Self::expect_end(ctx, lx, ".org")?;
                while (st.obj.code.len() as i64) * 4 < v {
                    Self::emit(st, 0, dloc, false)?;
                }
            }
            ".byte" | ".half" | ".hword" | ".word" => self.data_values(st, ctx, lx, &name, dloc)?,
            ".asciz" | ".string" | ".ascii" => {
                Self::require_data(st, &name, dloc)?;
                let mut any = false;
                while let Some(t) = Self::next(ctx, lx)? {
                    match t.kind {
                        TokKind::Punct(',') if any => continue,
                        TokKind::Str(bytes) => {
                            Self::push_data(st, &bytes, dloc)?;
                            if name != ".ascii" {
                                Self::push_data(st, &[0], dloc)?;
                            }
                            any = true;
                        }
                        TokKind::Int(v)
                            if t.end - t.start >= 3 && lx.line.as_bytes()[t.start] == b'\'' =>
                        {
                            // a one-character string written with single quotes
                            Self::push_data(st, &[v as u8], dloc)?;
                            if name != ".ascii" {
                                Self::push_data(st, &[0], dloc)?;
                            }
                            any = true;
                        }
                        _ => {
                            return Err((
                                Self::tok_loc(ctx, &t),
                                format!(
                                    "{name} expects a string literal, found {}",
                                    Self::describe(lx.line, &t)
                                ),
                            ));
                        }
                    }
                }
                if !any {
                    return Err((dloc, format!("{name} expects a string literal")));
                }
            }
            ".zero" | ".align" => {
                Self::require_data(st, &name, dloc)?;
                let t = Self::next(ctx, lx)?;
                let Some((v, t)) = t.and_then(|t| match t.kind {
                    TokKind::Int(v) => Some((v, t)),
                    _ => None,
                }) else {
                    return Err((dloc, format!("{name} expects a byte count")));
                };
                Self::expect_end(ctx, lx, &name)?;
                if name == ".zero" {
                    let n = Self::int_in(ctx, v, &t, 0, i64::from(SECTION_LIMIT), || {
                        ".zero size".to_string()
                    })?;
                    Self::push_data(st, &vec![0; n as usize], dloc)?;
                } else {
                    let n = Self::int_in(ctx, v, &t, 1, i64::from(SECTION_LIMIT), || {
                        ".align boundary".to_string()
                    })? as usize;
                    let pad = (n - st.obj.rodata.len() % n) % n;
                    Self::push_data(st, &vec![0; pad], dloc)?;
                }
            }
            ".value" | ".cmd" | ".mailbox" => {
                self.metadata(st, ctx, lx, &name, dloc, src, idx, extra)?
            }
            ".name" => {
                let t = Self::next(ctx, lx)?;
                let Some((bytes, t)) = t.and_then(|t| match &t.kind {
                    TokKind::Str(b) => Some((b.clone(), t)),
                    _ => None,
                }) else {
                    return Err((
                        dloc,
                        ".name expects a string literal, e.g. .name \"myapp\"".into(),
                    ));
                };
                Self::expect_end(ctx, lx, ".name")?;
                // An empty name means "no app name" (what an unnamed v2 image holds).
                let ok = bytes.iter().all(|b| (0x20..0x7F).contains(b));
                let s = String::from_utf8_lossy(&bytes);
                let s = s.trim();
                if !ok || s.len() > hsx_image::APP_NAME_MAX_LEN {
                    return Err((
                        Self::tok_loc(ctx, &t),
                        "app name must be at most 31 printable ASCII characters".into(),
                    ));
                }
                st.obj.app_name = Some((s.to_string(), dloc));
            }
            ".single_instance" => {
                Self::expect_end(ctx, lx, ".single_instance")?;
                st.obj.single_instance = true;
            }
            ".req_caps" => {
                let t = Self::next(ctx, lx)?;
                let Some((v, t)) = t.and_then(|t| match t.kind {
                    TokKind::Int(v) => Some((v, t)),
                    _ => None,
                }) else {
                    return Err((dloc, ".req_caps expects a capability mask".into()));
                };
                let v = Self::int_in(ctx, v, &t, 0, 0xFFFF, || ".req_caps mask".to_string())?;
                Self::expect_end(ctx, lx, ".req_caps")?;
                st.obj.req_caps = Some((v as u16, dloc));
            }
            _ => {
                return Err((
                    dloc,
                    format!(
                        "unknown directive `{}` (expected .text, .data, .entry, .export, .import, .extern, .include, .org, .align, .byte, .half, .word, .ascii, .asciz, .string, .zero, .value, .cmd, .mailbox, .name, .single_instance or .req_caps)",
                        &lx.line[dtok.start..dtok.end]
                    ),
                ));
            }
        }
        Ok(())
    }

    fn require_data(st: &ObjState, name: &str, loc: Loc) -> LineResult<()> {
        if st.section != Section::Data {
            return Err((
                loc,
                format!("{name} is only valid in the .data section (switch with .data first)"),
            ));
        }
        Ok(())
    }

    fn push_data(st: &mut ObjState, bytes: &[u8], loc: Loc) -> LineResult<()> {
        if st.obj.rodata.len() + bytes.len() > SECTION_LIMIT as usize {
            return Err((loc, "data exceeds the 64 KiB rodata section limit".into()));
        }
        st.obj.rodata.extend_from_slice(bytes);
        Ok(())
    }

    fn name_list(ctx: &FileCtx, lx: &mut Lexer, dir: &str) -> LineResult<Vec<(String, Loc)>> {
        let mut out = Vec::new();
        while let Some(t) = Self::next(ctx, lx)? {
            match t.kind {
                TokKind::Punct(',') if !out.is_empty() => {}
                TokKind::Ident => {
                    out.push((lx.line[t.start..t.end].to_string(), Self::tok_loc(ctx, &t)))
                }
                _ => {
                    return Err((
                        Self::tok_loc(ctx, &t),
                        format!(
                            "{dir} expects symbol names, found {}",
                            Self::describe(lx.line, &t)
                        ),
                    ));
                }
            }
        }
        if out.is_empty() {
            return Err((
                Self::end_loc(ctx, lx),
                format!("{dir} expects a symbol name"),
            ));
        }
        Ok(out)
    }

    fn data_values(
        &mut self,
        st: &mut ObjState,
        ctx: &FileCtx,
        lx: &mut Lexer,
        name: &str,
        dloc: Loc,
    ) -> LineResult<()> {
        let (width, lo, hi, ty) = match name {
            ".byte" => (1usize, -128i64, 0xFFi64, RelocType::DataByte),
            ".word" => (4, -(1i64 << 31), 0xFFFF_FFFF, RelocType::DataWord),
            _ => (2, -32768, 0xFFFF, RelocType::DataHalf),
        };
        let in_text = st.section == Section::Text;
        if in_text && name != ".word" {
            return Err((
                dloc,
                format!(
                    "{name} is only valid in the .data section (in .text only .word is allowed)"
                ),
            ));
        }
        let mut count = 0;
        while let Some(t) = Self::peek(ctx, lx)? {
            if t.kind == TokKind::Punct(',') && count > 0 {
                Self::next(ctx, lx)?;
                continue;
            }
            if let TokKind::Str(bytes) = &t.kind {
                Self::next(ctx, lx)?;
                if width != 1 || in_text {
                    return Err((
                        Self::tok_loc(ctx, &t),
                        format!("{name} does not take string literals (use .byte or .ascii)"),
                    ));
                }
                Self::push_data(st, bytes, dloc)?;
                count += 1;
                continue;
            }
            match Self::operand(ctx, lx, name, "value")? {
                Operand::Int(v, t) => {
                    let v = Self::int_in(ctx, v, &t, lo, hi, || format!("{name} value"))?;
                    if in_text {
                        Self::emit(st, v as u32, Self::tok_loc(ctx, &t), false)?;
                    } else {
                        let b = (v as u32).to_le_bytes();
                        Self::push_data(st, &b[..width], dloc)?;
                    }
                }
                Operand::Sym(s) => {
                    if in_text {
                        return Err((
                            s.loc,
                            ".word in .text takes numbers only (raw instruction words)".into(),
                        ));
                    }
                    let at = st.obj.rodata.len() as u32;
                    Self::push_data(st, &vec![0; width], dloc)?;
                    st.obj.relocs.push(Reloc { ty, at, sym: s });
                }
            }
            count += 1;
        }
        if count == 0 {
            return Err((
                Self::end_loc(ctx, lx),
                format!("{name} expects at least one value"),
            ));
        }
        Ok(())
    }

    fn include(
        &mut self,
        st: &mut ObjState,
        ctx: &FileCtx,
        lx: &mut Lexer,
        dloc: Loc,
    ) -> LineResult<()> {
        let (start, rest) = lx.rest();
        let rest = rest.trim_end();
        let (name, end) = if rest.starts_with('"') || rest.starts_with('\'') {
            let q = rest.as_bytes()[0];
            let (bytes, end) =
                decode_quoted(lx.line, start, lx.end(), q).map_err(|e| Self::lex_err(ctx, e))?;
            (String::from_utf8_lossy(&bytes).into_owned(), end)
        } else {
            let word = rest.split_whitespace().next().unwrap_or("");
            (word.to_string(), start + word.len())
        };
        lx.pos = end;
        Self::expect_end(ctx, lx, ".include")?;
        if name.is_empty() {
            return Err((
                dloc,
                ".include expects a file name, e.g. .include \"lib.mvasm\"".into(),
            ));
        }
        let nloc = Self::loc(ctx, start, end);
        let path = ctx.dir.join(&name);
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if st.include_stack.contains(&canonical) {
            return Err((nloc, format!("recursive .include of `{name}`")));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            (
                nloc,
                format!("cannot read included file `{}`: {e}", path.display()),
            )
        })?;
        let file = self.sources.add(path.display().to_string(), text);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        st.include_stack.push(canonical);
        self.run_file(st, file, dir);
        st.include_stack.pop();
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn metadata(
        &mut self,
        st: &mut ObjState,
        ctx: &FileCtx,
        lx: &mut Lexer,
        name: &str,
        dloc: Loc,
        src: &crate::source::SrcFile,
        idx: usize,
        extra: &mut usize,
    ) -> LineResult<()> {
        let (start, first) = lx.rest();
        if first.trim().is_empty() {
            return Err((
                dloc,
                format!("{name} expects a JSON object, e.g. {name} {{\"group\":1,\"id\":2}}"),
            ));
        }
        // The payload may continue on following lines until the JSON is complete.
        let mut text = first.to_string();
        let mut used = 0usize;
        let payload: Value = loop {
            match serde_json::from_str::<Value>(&text) {
                Ok(v) => break v,
                Err(e)
                    if e.is_eof() && used < MAX_JSON_LINES && idx + used + 1 < src.line_count() =>
                {
                    used += 1;
                    let next = src.line(idx + used);
                    let cut = crate::lex::code_end(next);
                    text.push('\n');
                    text.push_str(&next[..cut]);
                }
                Err(e) if e.is_eof() => {
                    return Err((
                        Self::loc(ctx, start, start + 1),
                        format!(
                            "invalid JSON in {name}: the payload starting here is never closed ({e})"
                        ),
                    ));
                }
                Err(e) => {
                    let loc = if e.line() <= 1 {
                        let c = start + e.column().saturating_sub(1);
                        Self::loc(ctx, c.min(lx.end()), (c + 1).min(lx.end() + 1))
                    } else {
                        let l = ctx.line + (e.line() as u32 - 1);
                        let c = e.column().saturating_sub(1);
                        Loc {
                            file: ctx.file,
                            line: l,
                            start: c as u32,
                            end: c as u32 + 1,
                        }
                    };
                    return Err((loc, format!("invalid JSON in {name}: {e}")));
                }
            }
        };
        *extra = used;
        lx.consume_rest();
        let ploc = Self::loc(ctx, start, lx.end());
        let entries = meta::entries(name, payload).map_err(|m| (ploc, m))?;
        for e in entries {
            match name {
                ".value" => st
                    .obj
                    .values
                    .push((meta::value_spec(e).map_err(|m| (ploc, m))?, ploc)),
                ".cmd" => st
                    .obj
                    .commands
                    .push((meta::cmd_spec(e).map_err(|m| (ploc, m))?, ploc)),
                _ => {
                    let m = meta::mailbox_spec(e).map_err(|m| (ploc, m))?;
                    crate::output::check_mailbox(&m).map_err(|msg| (ploc, msg))?;
                    st.obj.mailboxes.push((m, ploc));
                }
            }
        }
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
