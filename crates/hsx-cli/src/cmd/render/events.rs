//! What the daemon reports as it happens: event lines for the stream and the `dmesg`
//! log.

use std::fmt::Write as _;

use serde_json::Value;

use super::fields::{dash, hex_opt, list, num, text};
use crate::output::{paint, state_sgr};

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
            .map_or_else(|| "-".into(), wall_clock);
        // The few fields that say what and who, when the line has them.
        let detail: Vec<String> = ["pid", "budget", "limit", "feature", "error"]
            .iter()
            .filter_map(|k| text(l, k).map(|v| format!("{k}={v}")))
            .collect();
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", detail.join(" "))
        };
        let _ = writeln!(
            out,
            "[{:>5} {}] {:<5} {}{detail}",
            dash(text(l, "seq")),
            ts,
            dash(text(l, "level")),
            dash(text(l, "message"))
        );
    }
    out
}

/// Epoch seconds as UTC wall-clock time to the millisecond (`2026-12-03T14:40:31.449Z`);
/// a value that is no time at all is shown as the number it is.
fn wall_clock(epoch_s: f64) -> String {
    std::time::Duration::try_from_secs_f64(epoch_s)
        .ok()
        .and_then(|d| std::time::UNIX_EPOCH.checked_add(d))
        .filter(|t| *t < std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_799))
        .map_or_else(
            || format!("{epoch_s:.3}"),
            |t| humantime::format_rfc3339_millis(t).to_string(),
        )
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
    fn dmesg_shows_wall_clock_times() {
        let r = json!({"logs": [{"seq": 3, "ts": 1_796_300_431.449_5, "level": "info",
                                 "message": "task loaded"}]});
        assert_eq!(
            dmesg(&r),
            "[    3 2026-12-03T12:20:31.449Z] info  task loaded\n"
        );
        assert_eq!(wall_clock(-1.0), "-1.000");
        assert_eq!(wall_clock(f64::NAN), "NaN");
        assert_eq!(wall_clock(1e300), format!("{:.3}", 1e300));
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
}
