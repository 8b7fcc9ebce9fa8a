//! Human renderings of hsxd replies. Pure functions from reply JSON to text, so the
//! tables can be unit-tested and reused by the shell. Missing or odd fields print as `-`;
//! nothing here trusts the reply's shape.

use std::fmt::Write as _;

use serde_json::Value;

use crate::output::{Align, Cell, Table, paint, state_sgr};

/// `v[key]` as u64 (also accepts integral floats and numeric strings).
pub fn num(v: &Value, key: &str) -> Option<u64> {
    as_u64(v.get(key)?)
}

/// A JSON value as u64 when it is a non-negative integer in any usual form.
pub fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19)
                .map(|f| f as u64)
        }),
        Value::String(s) => crate::cmd::remote::parse_num(s).ok(),
        _ => None,
    }
}

/// `v[key]` as text: strings bare, numbers and bools as JSON, null/missing as `None`.
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn dash(o: Option<String>) -> String {
    o.unwrap_or_else(|| "-".into())
}

/// `0x%04X` for 16-bit addresses, wider when needed.
pub fn hex_addr(a: u64) -> String {
    if a <= 0xFFFF {
        format!("0x{a:04X}")
    } else {
        format!("0x{a:08X}")
    }
}

fn hex_opt(v: &Value, key: &str) -> String {
    num(v, key).map(hex_addr).unwrap_or_else(|| "-".into())
}

/// `0x%02X` of a byte-sized field (flags, mode masks), `-` when absent.
fn hex2_opt(v: &Value, key: &str) -> String {
    num(v, key)
        .map(|b| format!("0x{b:02X}"))
        .unwrap_or_else(|| "-".into())
}

/// The table without colour, or `empty` when it has no rows.
fn plain_or(t: &Table, empty: &str) -> String {
    if t.is_empty() {
        empty.to_string()
    } else {
        t.render(false)
    }
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// PSW flags as letters, e.g. `Z-N-` (vm.md §1.2: Z, C, N, V in bits 0..3).
pub fn psw_flags(psw: u64) -> String {
    ["Z", "C", "N", "V"]
        .iter()
        .enumerate()
        .map(|(i, f)| if psw & (1 << i) != 0 { *f } else { "-" })
        .collect()
}

/// What ends a task's line in `ps`: the exit status, the fault, or `-`.
fn exit_text(t: &Value) -> String {
    if let Some(f) = t.get("fault").filter(|f| !f.is_null()) {
        let name = text(f, "name")
            .or_else(|| text(f, "code"))
            .unwrap_or_else(|| "fault".into());
        return format!("fault {name}");
    }
    dash(text(t, "exit_status"))
}

/// `ps`: `tasks.tasks[]` and `tasks.current_pid` (protocol.md §5.5).
pub fn ps(reply: &Value, color: bool) -> String {
    let block = reply.get("tasks").unwrap_or(&Value::Null);
    let tasks = list(block, "tasks");
    if tasks.is_empty() {
        return "no tasks\n".into();
    }
    let current = num(block, "current_pid");
    let mut t = Table::new(&[
        (" ", Align::Left),
        ("PID", Align::Right),
        ("STATE", Align::Left),
        ("APP", Align::Left),
        ("PC", Align::Right),
        ("STEPS", Align::Right),
        ("PRIO", Align::Right),
        ("Q", Align::Right),
        ("EXIT", Align::Left),
        ("PROGRAM", Align::Left),
    ]);
    for task in tasks {
        let pid = num(task, "pid");
        let state = dash(text(task, "state"));
        let steps = num(task, "accounted_steps").or_else(|| num(task, "steps"));
        t.row(vec![
            if pid.is_some() && pid == current {
                "*".into()
            } else {
                " ".into()
            },
            dash(pid.map(|p| p.to_string())).into(),
            Cell::colored(state.clone(), state_sgr(&state)),
            dash(text(task, "app_name")).into(),
            hex_opt(task, "pc").into(),
            dash(steps.map(|s| s.to_string())).into(),
            dash(text(task, "priority")).into(),
            dash(text(task, "quantum")).into(),
            exit_text(task).into(),
            text(task, "program").unwrap_or_default().into(),
        ]);
    }
    t.render(color)
}

/// The 12-key clock object (protocol.md §5.3), as two lines.
pub fn clock(c: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "clock: {} (mode {}), rate {} Hz, step size {}",
        dash(text(c, "state")),
        dash(text(c, "mode")),
        dash(text(c, "rate_hz")),
        dash(text(c, "step_size")),
    );
    let _ = writeln!(
        out,
        "  auto: {} calls, {} instructions; manual: {} calls, {} instructions{}",
        dash(text(c, "auto_steps")),
        dash(text(c, "auto_total_steps")),
        dash(text(c, "manual_steps")),
        dash(text(c, "manual_total_steps")),
        match text(c, "throttle_reason") {
            Some(r) => format!("; throttled ({r})"),
            None => String::new(),
        }
    );
    out
}

/// Registers block (dumpregs `registers`, info `selected_registers`, a task context).
/// `changed` marks registers to highlight (by index 0..15).
pub fn registers(r: &Value, color: bool, changed: &[usize]) -> String {
    let mut out = String::new();
    let psw = num(r, "flags").or_else(|| num(r, "psw"));
    let pid = r
        .get("context")
        .map(|c| num(c, "pid"))
        .unwrap_or_else(|| num(r, "pid"));
    let _ = writeln!(
        out,
        "{}pc {}  sp {}  psw {} [{}]  steps {}",
        pid.map(|p| format!("pid {p}  ")).unwrap_or_default(),
        hex_opt(r, "pc"),
        hex_opt(r, "sp"),
        psw.map(|p| format!("0x{p:02X}"))
            .unwrap_or_else(|| "-".into()),
        psw.map(psw_flags).unwrap_or_else(|| "----".into()),
        dash(text(r, "steps")),
    );
    let regs = list(r, "regs");
    for row in 0..4 {
        let mut line = String::new();
        for col in 0..4 {
            let i = row * 4 + col;
            let val = regs.get(i).and_then(as_u64);
            let name = format!("R{i:<2}");
            let cell = match val {
                Some(v) => format!("0x{v:08X}"),
                None => "-".repeat(10),
            };
            let cell = if changed.contains(&i) {
                paint(&cell, "1;33", color)
            } else {
                cell
            };
            if col > 0 {
                line.push_str("  ");
            }
            let _ = write!(line, "{name} {cell}");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `info` (protocol.md §5.6).
pub fn info(reply: &Value, color: bool) -> String {
    let i = reply.get("info").unwrap_or(&Value::Null);
    let mut out = String::new();
    let tasks = list(i, "tasks");
    let _ = writeln!(out, "program       : {}", dash(text(i, "program")));
    let _ = writeln!(
        out,
        "loaded        : {}  running: {}  paused: {}  attached: {}",
        dash(text(i, "loaded")),
        dash(text(i, "running")),
        dash(text(i, "paused")),
        dash(text(i, "attached")),
    );
    let _ = writeln!(
        out,
        "current pid   : {}  pc: {}  tasks: {}",
        dash(text(i, "current_pid")),
        hex_opt(i, "pc"),
        tasks.len()
    );
    if let Some(c) = i.get("clock").filter(|c| c.is_object()) {
        out.push_str(&clock(c));
    }
    if let Some(e) = text(i, "selected_error") {
        let _ = writeln!(out, "selected      : {e}");
    }
    if let Some(r) = i.get("selected_registers").filter(|r| r.is_object()) {
        let _ = writeln!(out, "task {}:", dash(text(i, "selected_pid")));
        out.push_str(&registers(r, color, &[]));
    }
    out
}

/// `load`/`exec`: the `image` object (protocol.md §2.1.1).
pub fn image(reply: &Value) -> String {
    let img = reply.get("image").unwrap_or(&Value::Null);
    let mut out = format!(
        "loaded pid {}: {} (v{}, code {} bytes, rodata {}, bss {}, entry {})\n",
        dash(text(img, "pid")),
        dash(text(img, "app_name")),
        dash(text(img, "version")),
        dash(text(img, "code_len")),
        dash(text(img, "ro_len")),
        dash(text(img, "bss")),
        hex_opt(img, "entry"),
    );
    if let Some(sym) = img.get("symbols").filter(|s| s.is_object()) {
        let loaded = sym.get("loaded").and_then(Value::as_bool).unwrap_or(false);
        let _ = writeln!(
            out,
            "symbols: {}{}",
            if loaded { "loaded" } else { "not loaded" },
            text(sym, "path")
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
        );
    }
    for w in list(img, "warnings") {
        let _ = writeln!(
            out,
            "warning: {}",
            w.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| w.to_string())
        );
    }
    out
}

/// `kill`/`pause`/`resume`: `task` record.
pub fn task_line(reply: &Value, color: bool) -> String {
    let t = reply.get("task").unwrap_or(&Value::Null);
    let state = dash(text(t, "state"));
    format!(
        "pid {}: {}{}\n",
        dash(text(t, "pid")),
        paint(&state, state_sgr(&state), color),
        num(t, "pc")
            .map(|pc| format!(" at {}", hex_addr(pc)))
            .unwrap_or_default()
    )
}

/// `step`/`clock step`: `result` (protocol.md §2.2.1).
pub fn step(reply: &Value) -> String {
    let r = reply.get("result").unwrap_or(&Value::Null);
    let mut out = format!(
        "executed {} instruction(s); pid {} pc {}{}\n",
        dash(text(r, "executed")),
        dash(text(r, "current_pid")),
        hex_opt(r, "pc"),
        if r.get("paused").and_then(Value::as_bool) == Some(true) {
            ", paused"
        } else {
            ""
        },
    );
    for ev in list(r, "events") {
        let kind = ev.get("type").and_then(Value::as_str).unwrap_or("");
        let data = ev.get("data").unwrap_or(ev);
        match kind {
            "debug_break" => {
                let _ = writeln!(
                    out,
                    "breakpoint hit: pid {} at {}",
                    dash(text(ev, "pid")),
                    hex_opt(data, "pc")
                );
            }
            "watch_update" => {
                let _ = writeln!(
                    out,
                    "watch {} ({}): {} -> {}",
                    dash(text(data, "watch_id")),
                    dash(text(data, "expr")),
                    dash(text(data, "old")),
                    dash(text(data, "new"))
                );
            }
            "fault" => {
                let _ = writeln!(out, "fault: pid {} {}", dash(text(ev, "pid")), data);
            }
            _ => {}
        }
    }
    out
}

/// `sched` without a pid: counters and the recent trace (protocol.md §5.4).
pub fn sched_stats(reply: &Value) -> String {
    let s = reply.get("scheduler").unwrap_or(&Value::Null);
    let mut t = Table::new(&[
        ("PID", Align::Right),
        ("STEPS", Align::Right),
        ("ROTATIONS", Align::Right),
    ]);
    let mut rows: Vec<(u64, String, String)> = s
        .get("counters")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        crate::cmd::remote::parse_num(k).unwrap_or(u64::MAX),
                        dash(text(v, "step")),
                        dash(text(v, "rotate")),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    rows.sort();
    for (pid, steps, rot) in rows {
        t.row(vec![pid.to_string().into(), steps.into(), rot.into()]);
    }
    let mut out = plain_or(&t, "no scheduler counters\n");
    let trace = list(s, "trace");
    if !trace.is_empty() {
        out.push_str("recent:\n");
        for e in trace {
            let _ = writeln!(
                out,
                "  {:<7} pid {:<4} {}",
                dash(text(e, "event")),
                dash(text(e, "pid")),
                num(e, "pc").map(hex_addr).unwrap_or_default()
            );
        }
    }
    out
}

/// Hex dump, 16 bytes a line, with ASCII.
pub fn hexdump(start: u64, bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let addr = start + (i as u64) * 16;
        let mut hex = String::new();
        for (j, b) in chunk.iter().enumerate() {
            if j == 8 {
                hex.push(' ');
            }
            let _ = write!(hex, "{b:02x} ");
        }
        let ascii: String = chunk
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() || *b == b' ' {
                    *b as char
                } else {
                    '.'
                }
            })
            .collect();
        let _ = writeln!(out, "{}  {:<49} |{}|", hex_addr(addr), hex, ascii);
    }
    if out.is_empty() {
        out.push_str("(no bytes)\n");
    }
    out
}

/// Decodes a hex string (whitespace allowed between byte pairs) with the daemon's own
/// decoder, so the CLI accepts exactly what hsxd does. `None` when it is not hex.
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    hsxd::cmd::regs::from_hex(s).ok()
}

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
                notes.push(format!("{f}:{n}"));
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

/// `memory regions` (protocol.md §2.4.5).
pub fn regions(reply: &Value) -> String {
    let m = reply.get("memory").unwrap_or(&Value::Null);
    let mut t = Table::new(&[
        ("NAME", Align::Left),
        ("START", Align::Right),
        ("END", Align::Right),
        ("LENGTH", Align::Right),
        ("PERM", Align::Left),
        ("SOURCE", Align::Left),
    ]);
    for r in list(m, "regions") {
        t.row(vec![
            dash(text(r, "name")).into(),
            hex_opt(r, "start").into(),
            hex_opt(r, "end").into(),
            dash(text(r, "length")).into(),
            dash(text(r, "permissions")).into(),
            dash(text(r, "source")).into(),
        ]);
    }
    plain_or(&t, "no regions\n")
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

/// Mailbox namespace names (protocol.md §2.6).
pub fn namespace(n: Option<u64>) -> String {
    match n {
        Some(0) => "pid".into(),
        Some(1) => "svc".into(),
        Some(2) => "app".into(),
        Some(3) => "shared".into(),
        Some(x) => x.to_string(),
        None => "-".into(),
    }
}

/// `mailbox_snapshot`: top-level `descriptors` and `stats`.
pub fn mailboxes(reply: &Value) -> String {
    let mut t = Table::new(&[
        ("ID", Align::Right),
        ("NAME", Align::Left),
        ("OWNER", Align::Right),
        ("CAP", Align::Right),
        ("USED", Align::Right),
        ("DEPTH", Align::Right),
        ("MODE", Align::Right),
        ("WAITERS", Align::Right),
        ("TAPS", Align::Right),
    ]);
    for d in list(reply, "descriptors") {
        t.row(vec![
            dash(text(d, "descriptor_id")).into(),
            format!(
                "{}:{}",
                namespace(num(d, "namespace")),
                dash(text(d, "name"))
            )
            .into(),
            dash(text(d, "owner_pid")).into(),
            dash(text(d, "capacity")).into(),
            dash(text(d, "bytes_used")).into(),
            dash(text(d, "queue_depth")).into(),
            hex2_opt(d, "mode_mask").into(),
            list(d, "waiters").len().to_string().into(),
            list(d, "taps").len().to_string().into(),
        ]);
    }
    let mut out = plain_or(&t, "no mailboxes\n");
    if let Some(stats) = reply
        .get("stats")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    {
        let parts: Vec<String> = stats
            .iter()
            .filter(|(_, v)| !v.is_object() && !v.is_array())
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                )
            })
            .collect();
        let _ = writeln!(out, "stats: {}", parts.join(" "));
    }
    out
}

/// `list`: one task's channels.
pub fn channels(reply: &Value) -> String {
    let c = reply.get("channels").unwrap_or(&Value::Null);
    let mut t = Table::new(&[
        ("ID", Align::Right),
        ("TARGET", Align::Left),
        ("MODE", Align::Right),
        ("CAP", Align::Right),
        ("DEPTH", Align::Right),
        ("USED", Align::Right),
        ("SUBS", Align::Right),
    ]);
    for ch in list(c, "channels") {
        t.row(vec![
            dash(text(ch, "descriptor_id")).into(),
            dash(text(ch, "target")).into(),
            hex2_opt(ch, "mode_mask").into(),
            dash(text(ch, "capacity")).into(),
            dash(text(ch, "queue_depth")).into(),
            dash(text(ch, "bytes_used")).into(),
            dash(text(ch, "subscriber_count")).into(),
        ]);
    }
    if t.is_empty() {
        format!("pid {}: no channels\n", dash(text(c, "pid")))
    } else {
        t.render(false)
    }
}

/// `send`: `mbx_status`, `length`, `target` at the top level.
pub fn send(reply: &Value) -> String {
    let status = num(reply, "mbx_status");
    let what = match status {
        Some(0) => "ok".to_string(),
        Some(1) => "would block (mailbox full)".to_string(),
        Some(2) => "invalid handle".to_string(),
        Some(4) => "message too large".to_string(),
        Some(5) => "no such mailbox".to_string(),
        Some(s) => format!("status {s}"),
        None => "-".to_string(),
    };
    format!(
        "sent {} byte(s) to {}: {}\n",
        dash(text(reply, "length")),
        dash(text(reply, "target")),
        what
    )
}

/// The text of `listen` messages, concatenated in order.
pub fn listen_text(reply: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    for m in list(reply, "messages") {
        out.extend(message_bytes(m));
    }
    out
}

/// The payload of one message or output event: its `text`, else its decoded `data_hex`,
/// else nothing.
pub fn message_bytes(m: &Value) -> Vec<u8> {
    if let Some(t) = m.get("text").and_then(Value::as_str) {
        t.as_bytes().to_vec()
    } else {
        m.get("data_hex")
            .and_then(Value::as_str)
            .and_then(decode_hex)
            .unwrap_or_default()
    }
}

/// `dmesg`: `logs[]`.
pub fn dmesg(reply: &Value) -> String {
    let logs = list(reply, "logs");
    if logs.is_empty() {
        return "(log is empty)\n".into();
    }
    let mut out = String::new();
    for l in logs {
        let ts = l
            .get("ts")
            .and_then(Value::as_f64)
            .map(|t| format!("{t:.3}"))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "[{:>5} {}] {:<5} {}",
            dash(text(l, "seq")),
            ts,
            dash(text(l, "level")),
            dash(text(l, "message"))
        );
    }
    out
}

/// Value status codes (protocol.md §2.6).
fn value_status(s: u64) -> &'static str {
    match s {
        0 => "OK",
        1 => "ENOENT",
        2 => "EPERM",
        3 => "ENOSPC",
        4 => "EINVAL",
        5 => "EEXIST",
        6 => "EBUSY",
        _ => "?",
    }
}

/// Command status codes (protocol.md §2.6).
fn command_status(s: u64) -> &'static str {
    match s {
        0 => "OK",
        1 => "ENOENT",
        2 => "EPERM",
        3 => "ENOSPC",
        4 => "EINVAL",
        5 => "EEXIST",
        6 => "ENOASYNC",
        7 => "EFAIL",
        _ => "?",
    }
}

/// The inner status of `val.*`/`cmd.*` replies: 0 is success.
pub fn inner_status(reply: &Value, key: &str) -> Option<u64> {
    reply.get(key).and_then(|v| num(v, "status"))
}

/// `val.get`/`val.set`: `value{status, value?}`.
pub fn value(reply: &Value, oid: u16) -> String {
    let v = reply.get("value").unwrap_or(&Value::Null);
    match num(v, "status") {
        Some(0) | None => format!("0x{oid:04X} = {}\n", dash(text(v, "value"))),
        Some(s) => format!("0x{oid:04X}: {} ({s})\n", value_status(s)),
    }
}

/// `cmd.call`: `command{status, result}`.
pub fn command(reply: &Value, oid: u16) -> String {
    let c = reply.get("command").unwrap_or(&Value::Null);
    match num(c, "status") {
        Some(0) | None => format!("0x{oid:04X} -> {}\n", dash(text(c, "result"))),
        Some(s) => format!("0x{oid:04X}: {} ({s})\n", command_status(s)),
    }
}

fn oid_text(v: &Value) -> String {
    num(v, "oid")
        .map(|o| format!("0x{o:04X}"))
        .unwrap_or_else(|| "-".into())
}

/// `group.name` for a value/command entry, the bare name without a group, else `-`.
fn qualified_name(v: &Value) -> String {
    match (text(v, "group_name"), text(v, "name")) {
        (Some(g), Some(n)) => format!("{g}.{n}"),
        (None, Some(n)) => n,
        _ => "-".into(),
    }
}

/// `val.list`: `values[]`.
pub fn value_list(reply: &Value) -> String {
    let mut t = Table::new(&[
        ("OID", Align::Left),
        ("OWNER", Align::Right),
        ("NAME", Align::Left),
        ("VALUE", Align::Right),
        ("UNIT", Align::Left),
        ("FLAGS", Align::Right),
    ]);
    for v in list(reply, "values") {
        t.row(vec![
            oid_text(v).into(),
            dash(text(v, "owner_pid")).into(),
            qualified_name(v).into(),
            dash(text(v, "last_value")).into(),
            text(v, "unit").unwrap_or_default().into(),
            hex2_opt(v, "flags").into(),
        ]);
    }
    plain_or(&t, "no values\n")
}

/// `cmd.list`: `commands[]`.
pub fn command_list(reply: &Value) -> String {
    let mut t = Table::new(&[
        ("OID", Align::Left),
        ("OWNER", Align::Right),
        ("NAME", Align::Left),
        ("FLAGS", Align::Right),
        ("HELP", Align::Left),
    ]);
    for c in list(reply, "commands") {
        t.row(vec![
            oid_text(c).into(),
            dash(text(c, "owner_pid")).into(),
            qualified_name(c).into(),
            hex2_opt(c, "flags").into(),
            text(c, "help").unwrap_or_default().into(),
        ]);
    }
    plain_or(&t, "no commands\n")
}

/// One event as a line (protocol.md §4.3/§4.5).
pub fn event(ev: &Value, color: bool) -> String {
    let kind = ev.get("type").and_then(Value::as_str).unwrap_or("?");
    let data = ev.get("data").unwrap_or(&Value::Null);
    let seq = dash(text(ev, "seq"));
    let pid = text(ev, "pid")
        .map(|p| format!("pid {p}"))
        .unwrap_or_else(|| "-".into());
    let body = match kind {
        "task_state" => {
            let new = dash(text(data, "new_state"));
            format!(
                "{} -> {}{}",
                dash(text(data, "prev_state")),
                paint(&new, state_sgr(&new), color),
                text(data, "reason")
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )
        }
        "debug_break" => format!(
            "breakpoint at {} ({})",
            hex_opt(data, "pc"),
            dash(text(data, "phase"))
        ),
        "stdout" | "stderr" => {
            let t = text(data, "text").unwrap_or_default();
            format!("{:?}", t)
        }
        "watch_update" => format!(
            "watch {} {}: {} -> {}",
            dash(text(data, "watch_id")),
            dash(text(data, "expr")),
            dash(text(data, "old")),
            dash(text(data, "new"))
        ),
        "trace_step" => format!(
            "pc {} -> {} op 0x{:08X}",
            hex_opt(data, "pc"),
            hex_opt(data, "next_pc"),
            num(data, "opcode").unwrap_or(0)
        ),
        _ => {
            let s = data.to_string();
            if s == "null" || s == "{}" {
                String::new()
            } else {
                s
            }
        }
    };
    format!("{seq:>6}  {kind:<14} {pid:<7} {body}")
        .trim_end()
        .to_string()
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ps_table_marks_current_and_shows_faults() {
        let reply = json!({"status":"ok","tasks":{"current_pid":1,"tasks":[
            {"pid":1,"state":"running","app_name":"main","pc":32,"accounted_steps":8,"priority":10,"quantum":1,"exit_status":null,"program":"/a/main.hxe"},
            {"pid":2,"state":"faulted","app_name":"bad","pc":4,"accounted_steps":1,"priority":10,"quantum":1,"fault":{"code":1,"name":"ILLEGAL_OPCODE","pc":4},"program":"/a/bad.hxe"}
        ]}});
        let out = ps(&reply, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("   PID  STATE"));
        assert!(
            lines[1].starts_with("*    1  running  main  0x0020"),
            "{}",
            lines[1]
        );
        assert!(lines[2].contains("faulted  bad"));
        assert!(lines[2].contains("fault ILLEGAL_OPCODE"));
        assert_eq!(
            ps(&json!({"tasks":{"tasks":[],"current_pid":null}}), false),
            "no tasks\n"
        );
    }

    #[test]
    fn registers_in_four_columns_with_flags() {
        let r = json!({"pc":32,"sp":65520,"flags":5,"steps":8,"regs":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,0xFFFF_FFFFu32]});
        let out = registers(&r, false, &[]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "pc 0x0020  sp 0xFFF0  psw 0x05 [Z-N-]  steps 8");
        assert_eq!(
            lines[1],
            "R0  0x00000000  R1  0x00000001  R2  0x00000002  R3  0x00000003"
        );
        assert!(lines[4].ends_with("R15 0xFFFFFFFF"));
        let hl = registers(&r, true, &[1]);
        assert!(hl.contains("\x1b[1;33m0x00000001\x1b[0m"));
    }

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
    fn hex_helpers() {
        assert_eq!(decode_hex("01 02ff"), Some(vec![1, 2, 255]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
        let dump = hexdump(0x4000, b"Hello, world!\x00\x01\x02xyz");
        assert!(dump.starts_with(
            "0x4000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 01 02  |Hello, world!...|"
        ));
        assert!(dump.contains("0x4010  78 79 7a"));
    }

    #[test]
    fn events_render_on_one_line() {
        let ev = json!({"seq":7,"ts":1.0,"type":"task_state","pid":1,"data":{"prev_state":"running","new_state":"paused","reason":"debug_break"}});
        assert_eq!(
            event(&ev, false),
            "     7  task_state     pid 1   running -> paused (debug_break)\n"
        );
        let bp = json!({"seq":8,"type":"debug_break","pid":1,"data":{"pc":40,"phase":"post"}});
        assert!(event(&bp, false).contains("breakpoint at 0x0028 (post)"));
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        for v in [
            json!(null),
            json!([]),
            json!({"tasks": 5}),
            json!({"stack": {"frames": [1, null]}}),
        ] {
            let _ = ps(&v, true);
            let _ = info(&v, true);
            let _ = stack(&v);
            let _ = disasm(&v, None, &[]);
            let _ = mailboxes(&v);
            let _ = trace(&v);
            let _ = watch(&v);
            let _ = step(&v);
            let _ = event(&v, true);
            let _ = sched_stats(&v);
            let _ = value_list(&v);
        }
        assert_eq!(
            value(&json!({"value":{"status":1}}), 0x101),
            "0x0101: ENOENT (1)\n"
        );
    }

    #[test]
    fn message_bytes_prefers_text_then_hex_and_ignores_bad_hex() {
        assert_eq!(message_bytes(&json!({"text": "hi"})), b"hi");
        assert_eq!(message_bytes(&json!({"data_hex": "6869"})), b"hi");
        assert_eq!(message_bytes(&json!({"data_hex": "6g"})), b"");
        assert_eq!(message_bytes(&json!(null)), b"");
        let reply = json!({"messages": [{"text": "a"}, {"data_hex": "62"}, 7]});
        assert_eq!(listen_text(&reply), b"ab");
    }

    #[test]
    fn value_and_command_lists_qualify_names_and_format_flags() {
        let values = json!({"values":[
            {"oid":0x0101,"owner_pid":1,"group_name":"motor","name":"speed","last_value":1.5,"unit":"rpm","flags":5},
            {"oid":0x0102,"owner_pid":1,"name":"temp","last_value":20}
        ]});
        let out = value_list(&values);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].contains("motor.speed"), "{}", lines[1]);
        assert!(lines[1].trim_end().ends_with("0x05"), "{}", lines[1]);
        assert!(lines[2].contains(" temp "), "{}", lines[2]);
        assert!(lines[2].trim_end().ends_with('-'), "{}", lines[2]);
        assert_eq!(value_list(&json!({"values":[]})), "no values\n");

        let commands = json!({"commands":[
            {"oid":0x0201,"owner_pid":2,"group_name":"motor","name":"stop","flags":1,"help":"halt"},
            {"oid":0x0202,"owner_pid":2}
        ]});
        let out = command_list(&commands);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[1].contains("motor.stop") && lines[1].contains("0x01"));
        assert!(lines[1].trim_end().ends_with("halt"), "{}", lines[1]);
        assert!(lines[2].starts_with("0x0202"), "{}", lines[2]);
        assert_eq!(
            lines[2].split_whitespace().collect::<Vec<_>>(),
            ["0x0202", "2", "-", "-"]
        );
        assert_eq!(command_list(&json!({})), "no commands\n");
    }
}
