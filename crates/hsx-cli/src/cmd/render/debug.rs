//! Debugger state of a task: breakpoints, the call stack, watches and the
//! instruction trace.

use std::fmt::Write as _;

use serde_json::Value;

use super::fields::{as_u64, dash, hex_addr, hex_opt, list, num, plain_or, psw_flags, text};
use crate::output::{Align, Table};

/// `bp`: `pid` and `breakpoints` at the top level.
pub fn breakpoints(reply: &Value) -> String {
    let bps = list(reply, "breakpoints");
    if bps.is_empty() {
        return format!("pid {}: no breakpoints\n", dash(text(reply, "pid")));
    }
    let addrs: Vec<String> = bps.iter().filter_map(as_u64).map(hex_addr).collect();
    format!(
        "pid {}: breakpoints {}\n",
        dash(text(reply, "pid")),
        addrs.join(" ")
    )
}

/// `stack` (protocol.md §2.4.2).
pub fn stack(reply: &Value) -> String {
    let s = reply.get("stack").unwrap_or(&Value::Null);
    let mut t = Table::new(&[
        ("#", Align::Right),
        ("PC", Align::Right),
        ("SP", Align::Right),
        ("FP", Align::Right),
        ("RETURN", Align::Right),
        ("FUNCTION", Align::Left),
        ("LINE", Align::Left),
    ]);
    for f in list(s, "frames") {
        let func = match (text(f, "func_name"), num(f, "func_offset")) {
            (Some(n), Some(0)) | (Some(n), None) => n,
            (Some(n), Some(o)) => format!("{n}+0x{o:X}"),
            (None, _) => "?".into(),
        };
        let line = match f.get("line") {
            Some(l) if l.is_object() => match (text(l, "file"), text(l, "line")) {
                (Some(file), Some(n)) => format!("{file}:{n}"),
                (None, Some(n)) => n,
                _ => "-".into(),
            },
            _ => dash(text(f, "line_num")),
        };
        t.row(vec![
            dash(text(f, "index")).into(),
            hex_opt(f, "pc").into(),
            hex_opt(f, "sp").into(),
            hex_opt(f, "fp").into(),
            hex_opt(f, "return_pc").into(),
            func.into(),
            line.into(),
        ]);
    }
    let mut out = plain_or(&t, "no frames\n");
    if s.get("truncated").and_then(Value::as_bool) == Some(true) {
        out.push_str("(truncated)\n");
    }
    for e in list(s, "errors") {
        let _ = writeln!(
            out,
            "note: {}",
            e.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string())
        );
    }
    out
}

fn watch_row(t: &mut Table, w: &Value) {
    t.row(vec![
        dash(text(w, "id")).into(),
        dash(text(w, "expr")).into(),
        dash(text(w, "type")).into(),
        num(w, "address")
            .map(hex_addr)
            .or_else(|| text(w, "location"))
            .unwrap_or_else(|| "-".into())
            .into(),
        dash(text(w, "length")).into(),
        dash(text(w, "value")).into(),
    ]);
}

/// `watch` replies: a list or one record (protocol.md §2.4.6).
pub fn watch(reply: &Value) -> String {
    let w = reply.get("watch").unwrap_or(&Value::Null);
    let mut t = Table::new(&[
        ("ID", Align::Right),
        ("EXPR", Align::Left),
        ("TYPE", Align::Left),
        ("WHERE", Align::Left),
        ("LEN", Align::Right),
        ("VALUE", Align::Left),
    ]);
    let entries = w
        .get("watches")
        .or_else(|| w.get("entries"))
        .and_then(Value::as_array);
    match entries {
        Some(items) => {
            if items.is_empty() {
                return format!("pid {}: no watches\n", dash(text(w, "pid")));
            }
            for item in items {
                watch_row(&mut t, item);
            }
        }
        None => watch_row(&mut t, w),
    }
    t.render(false)
}

/// `trace` replies (protocol.md §2.4.7).
pub fn trace(reply: &Value) -> String {
    let tr = reply.get("trace").unwrap_or(&Value::Null);
    if let Some(records) = tr.get("records").and_then(Value::as_array) {
        let mut out = format!(
            "pid {}: {} of {} record(s), capacity {}\n",
            dash(text(tr, "pid")),
            records.len(),
            dash(text(tr, "count")),
            dash(text(tr, "capacity"))
        );
        let mut t = Table::new(&[
            ("SEQ", Align::Right),
            ("PC", Align::Right),
            ("OPCODE", Align::Right),
            ("NEXT", Align::Right),
            ("FLAGS", Align::Left),
            ("CHANGED", Align::Left),
        ]);
        for r in records {
            let changed: Vec<String> = list(r, "changed_regs")
                .iter()
                .map(|c| {
                    c.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| c.to_string())
                })
                .collect();
            t.row(vec![
                dash(text(r, "seq")).into(),
                hex_opt(r, "pc").into(),
                num(r, "opcode")
                    .map(|o| format!("0x{o:08X}"))
                    .unwrap_or_else(|| "-".into())
                    .into(),
                hex_opt(r, "next_pc").into(),
                num(r, "flags")
                    .map(psw_flags)
                    .unwrap_or_else(|| "-".into())
                    .into(),
                changed.join(",").into(),
            ]);
        }
        if !t.is_empty() {
            out.push_str(&t.render(false));
        }
        return out;
    }
    let mut parts = Vec::new();
    for key in ["pid", "enabled", "buffer_size", "changed_regs"] {
        if let Some(v) = text(tr, key) {
            parts.push(format!("{key} {v}"));
        }
    }
    format!("trace: {}\n", parts.join(", "))
}
