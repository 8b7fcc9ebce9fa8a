//! Metadata directives (`.value`, `.cmd`, `.mailbox`): a JSON payload that may continue
//! over following lines, turned into specs by `meta`.

use serde_json::Value;

use crate::lex::Lexer;
use crate::meta;
use crate::source::Loc;

use super::{Assembler, FileCtx, LineResult, ObjState};

/// How many lines a metadata JSON payload may continue over.
const MAX_JSON_LINES: usize = 256;

impl Assembler<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn metadata(
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
}
