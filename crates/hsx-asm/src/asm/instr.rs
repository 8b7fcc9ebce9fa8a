//! Instructions: mnemonic lookup, operands by instruction form, range checks and the
//! encoded word(s) plus the relocation a symbol operand needs.

use hsx_vm::isa::{
    BCC_MAX_WORDS, BCC_MIN_WORDS, CALLL_MAX_WORDS, CALLL_MIN_WORDS, Cond, Form, Instr, Opcode,
    encode_bcc, encode_calll, encode_setcc, lookup_mnemonic,
};

use crate::lex::{Lexer, TokKind, Token, is_symbol_name};
use crate::object::{Reloc, RelocType, Section, SymRef};

use super::operand::Operand;
use super::{Assembler, FileCtx, LineResult, ObjState};

impl Assembler<'_> {
    pub(super) fn instruction(
        &mut self,
        st: &mut ObjState,
        ctx: &FileCtx,
        lx: &mut Lexer,
        mtok: &Token,
    ) -> LineResult<()> {
        let mtext = &lx.line[mtok.start..mtok.end];
        let mloc = Self::tok_loc(ctx, mtok);
        let Some((op, cond)) = lookup_mnemonic(mtext) else {
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
        let cond = cond.unwrap_or(Cond::Al);
        let mn = match op {
            Opcode::Bcc => cond.branch_mnemonic(),
            Opcode::Setcc => cond.set_mnemonic(),
            _ => op.mnemonic(),
        };
        let idx = st.obj.code.len() as u32;
        // Set for EXT1 forms whose word is not `Instr::new`'s field layout.
        let mut word: Option<u32> = None;
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
            Form::RdRaImm => {
                let rd = Self::expect_reg(ctx, lx, mn, "destination")?;
                Self::skip_comma(ctx, lx)?;
                let ra = Self::expect_reg(ctx, lx, mn, "source register")?;
                Self::skip_comma(ctx, lx)?;
                let v = Self::number(ctx, lx, mn, "immediate")?;
                let v = Self::int_in(ctx, v.0, &v.1, -2048, 2047, || format!("{mn} immediate"))?;
                Instr::new(op, rd, ra, 0, v as i32)
            }
            Form::Branch | Form::CallLong => {
                let (lo, hi, ty) = if op == Opcode::Bcc {
                    (BCC_MIN_WORDS, BCC_MAX_WORDS, RelocType::Branch)
                } else {
                    (CALLL_MIN_WORDS, CALLL_MAX_WORDS, RelocType::CallLong)
                };
                let off = match Self::operand(ctx, lx, mn, "target")? {
                    Operand::Int(v, t) => Self::int_in(ctx, v, &t, lo.into(), hi.into(), || {
                        format!("{mn} word offset")
                    })? as i32,
                    Operand::Sym(s) => {
                        reloc = Some((ty, s));
                        0
                    }
                };
                word = if op == Opcode::Bcc {
                    encode_bcc(cond, off)
                } else {
                    encode_calll(off)
                };
                Instr::new(op, 0, 0, 0, 0)
            }
            Form::JumpReg => Instr::new(
                op,
                0,
                Self::expect_reg(ctx, lx, mn, "target register")?,
                0,
                0,
            ),
            Form::SetCond => {
                let rd = Self::expect_reg(ctx, lx, mn, "destination")?;
                word = Some(encode_setcc(cond, rd));
                Instr::new(op, rd, 0, 0, 0)
            }
            Form::StackAdj => {
                let v = Self::number(ctx, lx, mn, "word count")?;
                let v = Self::int_in(ctx, v.0, &v.1, -2048, 2047, || format!("{mn} word count"))?;
                Instr::new(op, 0, 0, 0, v as i32)
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
        st.obj.isa_ext |= op.isa_ext();
        Self::emit(st, word.unwrap_or(ins.encode()), mloc, true)?;
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
}
