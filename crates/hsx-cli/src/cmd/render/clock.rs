//! Time and scheduling: the clock object, `step` results and the scheduler's counters
//! and trace.

use std::fmt::Write as _;

use serde_json::Value;

use super::fields::{dash, hex_addr, hex_opt, list, num, plain_or, text};
use crate::output::{Align, Table};

/// The 12-key clock object (protocol.md §5.3), as two lines.
pub fn clock(c: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "clock: {} (mode {}), rate {}, step size {}, on break: {}",
        dash(text(c, "state")),
        dash(text(c, "mode")),
        match c.get("rate_hz").and_then(Value::as_f64) {
            Some(hz) if hz > 0.0 => format!("{hz} Hz"),
            Some(_) => "unthrottled".to_string(),
            None => "-".to_string(),
        },
        dash(text(c, "step_size")),
        match text(c, "on_break").as_deref() {
            Some("all") => "stop all tasks",
            Some(_) => "stop that task",
            None => "-",
        },
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
