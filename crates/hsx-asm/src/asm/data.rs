//! `.data` contents: numbers and symbol addresses (`.byte` / `.half` / `.word`, the last
//! also raw words in `.text`), and the rodata helpers every data directive uses (section
//! check, the 64 KiB section limit).

use crate::lex::{Lexer, TokKind};
use crate::object::{Reloc, RelocType, SECTION_LIMIT, Section};
use crate::source::Loc;

use super::operand::Operand;
use super::{Assembler, FileCtx, LineResult, ObjState};

impl Assembler<'_> {
    pub(super) fn require_data(st: &ObjState, name: &str, loc: Loc) -> LineResult<()> {
        if st.section != Section::Data {
            return Err((
                loc,
                format!("{name} is only valid in the .data section (switch with .data first)"),
            ));
        }
        Ok(())
    }

    pub(super) fn push_data(st: &mut ObjState, bytes: &[u8], loc: Loc) -> LineResult<()> {
        if st.obj.rodata.len() + bytes.len() > SECTION_LIMIT as usize {
            return Err((loc, "data exceeds the 64 KiB rodata section limit".into()));
        }
        st.obj.rodata.extend_from_slice(bytes);
        Ok(())
    }

    pub(super) fn data_values(
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
}
