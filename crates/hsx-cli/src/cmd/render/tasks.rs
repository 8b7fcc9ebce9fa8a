//! Tasks and the executive as a whole: `ps`, `info`, `load`/`exec` and the one-line
//! task record of `kill`/`pause`/`resume`.

use std::fmt::Write as _;

use serde_json::Value;

use super::clock::clock;
use super::fields::{dash, hex_addr, hex_opt, list, num, relative_path, text};
use super::memory::registers;
use crate::output::{Align, Cell, Table, paint, state_sgr};

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
            text(task, "program")
                .map(|p| relative_path(&p))
                .unwrap_or_default()
                .into(),
        ]);
    }
    t.render(color)
}

/// `ps --budgets`: per task, `used/limit` of each budget, `+N` for N refusals.
pub fn budgets(reply: &Value, color: bool) -> String {
    const COLUMNS: [(&str, &str); 7] = [
        ("watchdog", "WATCHDOG"),
        ("descriptors", "MBOX"),
        ("handles", "HANDLES"),
        ("values", "VALUES"),
        ("commands", "CMDS"),
        ("files", "FILES"),
        ("file_bytes", "FILE BYTES"),
    ];
    let block = reply.get("tasks").unwrap_or(&Value::Null);
    let tasks = list(block, "tasks");
    if tasks.is_empty() {
        return "no tasks\n".into();
    }
    let mut head = vec![("PID", Align::Right), ("APP", Align::Left)];
    head.extend(COLUMNS.iter().map(|c| (c.1, Align::Right)));
    let mut t = Table::new(&head);
    for task in tasks {
        let b = task.get("budgets").unwrap_or(&Value::Null);
        let mut row: Vec<Cell> = vec![
            dash(num(task, "pid").map(|p| p.to_string())).into(),
            dash(text(task, "app_name")).into(),
        ];
        for (key, _) in COLUMNS {
            let u = b.get(key).unwrap_or(&Value::Null);
            let cell = match (num(u, "used"), num(u, "limit")) {
                (_, None) if key == "watchdog" => "off".to_string(),
                (Some(used), Some(limit)) => format!("{used}/{limit}"),
                // A backend that keeps no count (the in-memory file system).
                (Some(_), None) => "-".to_string(),
                _ => "-".to_string(),
            };
            let hits = num(u, "hits").unwrap_or(0);
            row.push(if hits > 0 {
                Cell::colored(format!("{cell} +{hits}"), "33")
            } else {
                cell.into()
            });
        }
        t.row(row);
    }
    t.render(color)
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
    if img.get("paused").and_then(Value::as_bool) == Some(true) {
        let _ = writeln!(
            out,
            "paused before its first instruction; `hsx resume {}` runs it",
            dash(text(img, "pid"))
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
    let mut out = format!(
        "pid {}: {}{}\n",
        dash(text(t, "pid")),
        paint(&state, state_sgr(&state), color),
        num(t, "pc")
            .map(|pc| format!(" at {}", hex_addr(pc)))
            .unwrap_or_default()
    );
    // `code:message` notes from hsxd (e.g. `clock_stopped:…` after `resume`).
    for w in list(reply, "warnings").iter().filter_map(Value::as_str) {
        let msg = w.split_once(':').map_or(w, |(_, m)| m);
        let _ = writeln!(out, "note: {msg}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paused_loads_and_resume_notes_are_shown() {
        let img = json!({"image": {"pid": 3, "app_name": "loop", "paused": true}});
        assert!(
            image(&img).contains("`hsx resume 3` runs it"),
            "{}",
            image(&img)
        );
        let r = json!({"task": {"pid": 3, "state": "ready", "pc": 0},
                       "warnings": ["clock_stopped:the auto clock is stopped"]});
        assert_eq!(
            task_line(&r, false),
            "pid 3: ready at 0x0000\nnote: the auto clock is stopped\n"
        );
    }

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
    fn ps_shows_programs_under_the_working_directory_relative_to_it() {
        let cwd = std::env::current_dir().unwrap_or_default();
        let inside = cwd.join("examples").join("loop.hxe");
        let reply = json!({"tasks":{"current_pid":null,"tasks":[
            {"pid":1,"state":"ready","app_name":"a","pc":0,"program":inside.display().to_string()},
            {"pid":2,"state":"ready","app_name":"b","pc":0,"program":"/elsewhere/b.hxe"}
        ]}});
        let out = ps(&reply, false);
        let rel = std::path::Path::new("examples").join("loop.hxe");
        assert!(out.contains(&format!("  {}\n", rel.display())), "{out}");
        assert!(out.contains("/elsewhere/b.hxe"), "{out}");
    }
}
