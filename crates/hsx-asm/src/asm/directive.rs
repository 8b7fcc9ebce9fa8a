//! Directives: the dispatcher, and those that choose the section, name symbols, set the
//! entry point, pad code (`.org`) or data (`.zero`, `.align`), emit strings, set header
//! options and include files. Numeric data and metadata payloads have files of their own
//! (`data`, `metadata`).

use std::path::Path;

use crate::lex::{Lexer, TokKind, Token, decode_quoted};
use crate::object::{SECTION_LIMIT, Section};
use crate::source::Loc;

use super::{Assembler, FileCtx, LineResult, ObjState};

impl Assembler<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn directive(
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
            ".isa_ext" => {
                // Declares extension bits without using an instruction (the disassembler
                // writes it so an image's header survives a round trip).
                let t = Self::next(ctx, lx)?;
                let Some((v, t)) = t.and_then(|t| match t.kind {
                    TokKind::Int(v) => Some((v, t)),
                    _ => None,
                }) else {
                    return Err((dloc, ".isa_ext expects an extension bit mask".into()));
                };
                let known = i64::from(hsx_image::ISA_EXT_KNOWN);
                if v < 0 || v & !known != 0 {
                    return Err((
                        Self::tok_loc(ctx, &t),
                        format!(
                            ".isa_ext {v:#X} names unknown extension bits (known: {known:#X} = EXT1)"
                        ),
                    ));
                }
                Self::expect_end(ctx, lx, ".isa_ext")?;
                st.obj.isa_ext |= v as u32;
            }
            _ => {
                return Err((
                    dloc,
                    format!(
                        "unknown directive `{}` (expected .text, .data, .entry, .export, .import, .extern, .include, .org, .align, .byte, .half, .word, .ascii, .asciz, .string, .zero, .value, .cmd, .mailbox, .name, .single_instance, .req_caps or .isa_ext)",
                        &lx.line[dtok.start..dtok.end]
                    ),
                ));
            }
        }
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
        let text = match &self.include_root {
            None => std::fs::read_to_string(&path).map_err(|e| {
                (
                    nloc,
                    format!("cannot read included file `{}`: {e}", path.display()),
                )
            })?,
            Some(root) => read_confined(root, &canonical).map_err(|why| (nloc, why))?,
        };
        let file = self.sources.add(path.display().to_string(), text);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        st.include_stack.push(canonical);
        self.run_file(st, file, dir);
        st.include_stack.pop();
        Ok(())
    }
}

/// An include target under [`crate::AsmOptions::include_root`]: inside the root once
/// symlinks are resolved, a regular file (a FIFO or device would block or never end), and
/// small. The reasons name neither the target nor what it holds.
fn read_confined(root: &Path, canonical: &Path) -> Result<String, String> {
    use std::io::Read;
    let root = std::fs::canonicalize(root)
        .map_err(|_| "cannot resolve the source's directory for .include".to_string())?;
    // `canonical` falls back to the joined path when it does not resolve; such a path
    // cannot be opened either, and a relative or `..` one fails the prefix test.
    if !canonical.is_absolute() || !canonical.starts_with(&root) {
        return Err(".include target is outside the source's directory tree".into());
    }
    // Before opening: opening a FIFO for reading blocks until someone writes to it.
    if !std::fs::metadata(canonical).is_ok_and(|m| m.is_file()) {
        return Err(".include target is not a regular file".into());
    }
    let file =
        std::fs::File::open(canonical).map_err(|_| ".include target cannot be read".to_string())?;
    let meta = file
        .metadata()
        .map_err(|_| ".include target cannot be read".to_string())?;
    if !meta.is_file() {
        return Err(".include target is not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(crate::MAX_INCLUDE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| ".include target cannot be read".to_string())?;
    if bytes.len() as u64 > crate::MAX_INCLUDE_BYTES {
        return Err(format!(
            ".include target is larger than {} bytes",
            crate::MAX_INCLUDE_BYTES
        ));
    }
    String::from_utf8(bytes).map_err(|_| ".include target is not UTF-8 text".to_string())
}
