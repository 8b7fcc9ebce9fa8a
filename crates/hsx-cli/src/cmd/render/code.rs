//! Code views: the disassembly listing (shared with the TUI through [`DisLine`]) and
//! symbols.

use std::fmt::Write as _;

use serde_json::Value;

use super::fields::{dash, hex_addr, hex_opt, list, num, text};
use crate::output::{Align, Table};

/// One disassembled instruction, as both the CLI and the TUI show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisLine {
    /// Address.
    pub pc: u64,
    /// Instruction word as hex.
    pub word: String,
    /// `MNEMONIC operands`.
    pub text: String,
    /// Label that starts here (symbol at offset 0).
    pub label: Option<String>,
    /// Trailing note: branch target symbol, source line.
    pub note: Option<String>,
}

/// The instructions of a `disasm` reply (protocol.md §2.4.3).
pub fn dis_lines(reply: &Value) -> Vec<DisLine> {
    let d = reply.get("disasm").unwrap_or(reply);
    list(d, "instructions")
        .iter()
        .filter_map(|ins| {
            let pc = num(ins, "pc")?;
            let mnemonic = dash(text(ins, "mnemonic"));
            let operands = text(ins, "operands").unwrap_or_default();
            // A PC-relative offset (the last operand of CALL, B<cc>, CALLL) is shown as the
            // absolute target, like JMP's.
            let operands = match (num(ins, "target"), operands.rsplit_once(", ")) {
                (Some(t), Some((head, last))) if last.parse::<i64>().is_ok() => {
                    format!("{head}, 0x{t:04X}")
                }
                (Some(t), None) if operands.parse::<i64>().is_ok() => format!("0x{t:04X}"),
                _ => operands,
            };
            let text_ = if operands.is_empty() {
                mnemonic
            } else {
                format!("{mnemonic} {operands}")
            };
            let word = num(ins, "word")
                .map(|w| format!("{w:08X}"))
                .or_else(|| text(ins, "bytes"))
                .unwrap_or_default();
            let mut notes = Vec::new();
            // The reference sends `{name, offset, ...}`; older shapes send a plain name.
            let target = ins.get("target_symbol").and_then(|t| match t {
                Value::Object(_) => text(t, "name").map(|n| match num(t, "offset") {
                    Some(off) if off != 0 => format!("{n}+0x{off:X}"),
                    _ => n,
                }),
                _ => text(ins, "target_symbol"),
            });
            if let Some(ts) = target {
                notes.push(format!("-> {ts}"));
            }
            if let Some(l) = ins.get("line").filter(|l| l.is_object())
                && let (Some(f), Some(n)) = (text(l, "file"), text(l, "line"))
            {
                notes.push(format!("{}:{n}", super::fields::relative_path(&f)));
            }
            Some(DisLine {
                pc,
                word,
                text: text_,
                label: text(ins, "label"),
                note: (!notes.is_empty()).then(|| notes.join("  ")),
            })
        })
        .collect()
}

/// `dis`: a listing with labels, the PC arrow and breakpoint dots.
pub fn disasm(reply: &Value, pc: Option<u64>, bps: &[u64]) -> String {
    let lines = dis_lines(reply);
    if lines.is_empty() {
        return "no instructions\n".into();
    }
    let mut out = String::new();
    for l in lines {
        if let Some(label) = &l.label {
            let _ = writeln!(out, "{label}:");
        }
        let arrow = if Some(l.pc) == pc { "=>" } else { "  " };
        let bp = if bps.contains(&l.pc) { "*" } else { " " };
        let _ = write!(
            out,
            "{arrow}{bp} {}  {:<8}  {:<24}",
            hex_addr(l.pc),
            l.word,
            l.text
        );
        if let Some(n) = &l.note {
            let _ = write!(out, "  ; {n}");
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
    }
    out
}

/// `symbols` list (protocol.md §2.4.4).
pub fn symbols(reply: &Value) -> String {
    let s = reply.get("symbols").unwrap_or(&Value::Null);
    let syms = list(s, "symbols");
    if syms.is_empty() {
        return format!("pid {}: no symbols\n", dash(text(s, "pid")));
    }
    let mut t = Table::new(&[
        ("ADDRESS", Align::Right),
        ("SIZE", Align::Right),
        ("TYPE", Align::Left),
        ("NAME", Align::Left),
        ("SOURCE", Align::Left),
    ]);
    for sym in syms {
        let src = match (text(sym, "file"), text(sym, "line")) {
            (Some(f), Some(l)) => format!("{f}:{l}"),
            (Some(f), None) => f,
            _ => String::new(),
        };
        t.row(vec![
            hex_opt(sym, "address").into(),
            dash(text(sym, "size")).into(),
            dash(text(sym, "type")).into(),
            dash(text(sym, "name")).into(),
            src.into(),
        ]);
    }
    t.render(false)
}

/// `sym lookup_*` replies: `symbol` (or `line`) with `offset`.
pub fn sym_lookup(reply: &Value) -> String {
    if let Some(sym) = reply.get("symbol").filter(|s| s.is_object()) {
        let off = num(sym, "offset")
            .filter(|o| *o != 0)
            .map(|o| format!("+0x{o:X}"))
            .unwrap_or_default();
        return format!(
            "{}{} at {} (size {}, {})\n",
            dash(text(sym, "name")),
            off,
            hex_opt(sym, "address"),
            dash(text(sym, "size")),
            dash(text(sym, "type")),
        );
    }
    if let Some(s) = reply.get("symbols").filter(|s| s.is_object()) {
        return format!(
            "pid {}: symbols {}{}{}\n",
            dash(text(s, "pid")),
            if s.get("loaded").and_then(Value::as_bool) == Some(true) {
                "loaded"
            } else {
                "not loaded"
            },
            text(s, "path")
                .map(|p| format!(" from {p}"))
                .unwrap_or_default(),
            text(s, "error")
                .map(|e| format!(" ({e})"))
                .unwrap_or_default(),
        );
    }
    "not found\n".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn disassembly_shows_labels_pc_and_breakpoints() {
        let reply = json!({"disasm":{"instructions":[
            {"pc":0,"word":0x1010_0005u32,"mnemonic":"LDI","operands":"R1, 5","label":"main"},
            {"pc":4,"word":0x2100_0000u32,"mnemonic":"JMP","operands":"0x0000","target_symbol":"main"}
        ]}});
        let out = disasm(&reply, Some(4), &[0]);
        assert_eq!(
            out,
            "main:\n  * 0x0000  10100005  LDI R1, 5\n=>  0x0004  21000000  JMP 0x0000                ; -> main\n"
        );
    }

    #[test]
    fn relative_call_and_branch_offsets_show_absolute_targets() {
        let cwd = std::env::current_dir().unwrap().join("app.mvasm");
        let reply = json!({"disasm":{"instructions":[
            {"pc":0x38,"word":0x2400_0007u32,"mnemonic":"CALL","operands":"7","target":0x54,
             "target_symbol":{"name":"print_str","offset":0},
             "line":{"file":cwd.display().to_string(),"line":28}},
            {"pc":0x40,"word":0,"mnemonic":"BEQ","operands":"R1, R2, -2","target":0x38},
            {"pc":0x44,"word":0,"mnemonic":"CALLR","operands":"R3"}
        ]}});
        let lines = dis_lines(&reply);
        assert_eq!(lines[0].text, "CALL 0x0054");
        assert_eq!(lines[0].note.as_deref(), Some("-> print_str  app.mvasm:28"));
        assert_eq!(lines[1].text, "BEQ R1, R2, 0x0038");
        assert_eq!(lines[2].text, "CALLR R3");
    }
}
