//! Reading operands: tokens with their source locations, registers, numbers, symbol
//! references (`sym`, `lo16(sym)`, …) and memory operands (`[Rb+off]`), with the
//! diagnostics for each.

use crate::lex::{LexError, Lexer, TokKind, Token, is_register_name};
use crate::object::{SymKind, SymRef};
use crate::source::Loc;

use super::{Assembler, FileCtx, LineResult};

/// A number or symbol operand.
pub(super) enum Operand {
    Int(i64, Token),
    Sym(SymRef),
}

impl Assembler<'_> {
    pub(super) fn loc(ctx: &FileCtx, start: usize, end: usize) -> Loc {
        Loc {
            file: ctx.file,
            line: ctx.line,
            start: start as u32,
            end: end.max(start + 1) as u32,
        }
    }

    pub(super) fn tok_loc(ctx: &FileCtx, t: &Token) -> Loc {
        Self::loc(ctx, t.start, t.end)
    }

    pub(super) fn lex_err(ctx: &FileCtx, e: LexError) -> (Loc, String) {
        (Self::loc(ctx, e.start, e.end), e.message)
    }

    pub(super) fn next(ctx: &FileCtx, lx: &mut Lexer) -> LineResult<Option<Token>> {
        lx.next_token().map_err(|e| Self::lex_err(ctx, e))
    }

    pub(super) fn peek(ctx: &FileCtx, lx: &mut Lexer) -> LineResult<Option<Token>> {
        lx.peek().map_err(|e| Self::lex_err(ctx, e))
    }

    pub(super) fn end_loc(ctx: &FileCtx, lx: &Lexer) -> Loc {
        Self::loc(ctx, lx.end(), lx.end() + 1)
    }

    pub(super) fn describe(text: &str, t: &Token) -> String {
        format!("`{}`", text.get(t.start..t.end).unwrap_or("?"))
    }

    /// Require that nothing but a comment follows.
    /// `what` is only formatted on error: this runs once per instruction.
    pub(super) fn expect_end(
        ctx: &FileCtx,
        lx: &mut Lexer,
        what: impl std::fmt::Display,
    ) -> LineResult<()> {
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
    pub(super) fn skip_comma(ctx: &FileCtx, lx: &mut Lexer) -> LineResult<()> {
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

    pub(super) fn expect_reg(
        ctx: &FileCtx,
        lx: &mut Lexer,
        mn: &str,
        what: &str,
    ) -> LineResult<u8> {
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
    pub(super) fn operand(
        ctx: &FileCtx,
        lx: &mut Lexer,
        mn: &str,
        what: &str,
    ) -> LineResult<Operand> {
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

    /// A plain number operand (no symbols).
    pub(super) fn number(
        ctx: &FileCtx,
        lx: &mut Lexer,
        mn: &str,
        what: &str,
    ) -> LineResult<(i64, Token)> {
        match Self::operand(ctx, lx, mn, what)? {
            Operand::Int(v, t) => Ok((v, t)),
            Operand::Sym(s) => Err((
                s.loc,
                format!(
                    "{mn} expects a number as its {what}, found symbol `{}`",
                    s.name
                ),
            )),
        }
    }

    pub(super) fn int_in(
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
    pub(super) fn mem_operand(
        ctx: &FileCtx,
        lx: &mut Lexer,
        mn: &str,
    ) -> LineResult<(u8, Operand)> {
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
}
