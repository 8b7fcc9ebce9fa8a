//! `back` and `record`: reverse execution on hsxd's recording (`step_back`,
//! `reverse_continue`, `record`).

use serde_json::{Value, json};

use super::super::remote::{BackArgs, RecordAction, RecordArgs};
use super::super::render;
use super::{CmdResult, Ctx};
use crate::client::request;

impl Ctx {
    pub(super) fn back(&mut self, a: &BackArgs) -> CmdResult {
        let reply = if a.reverse_continue {
            self.call(&request("reverse_continue", json!({"pid": a.pid})))?
        } else {
            self.call(&request(
                "step_back",
                json!({"pid": a.pid, "steps": a.steps}),
            ))?
        };
        let t = &reply["travel"];
        let stop = match t.pointer("/stop/reason").and_then(Value::as_str) {
            Some("breakpoint") => format!(
                " at breakpoint 0x{:04X}",
                t.pointer("/stop/pc").and_then(Value::as_u64).unwrap_or(0)
            ),
            Some("watch") => format!(
                " after watch {} changed",
                t.pointer("/stop/watch_id")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
            ),
            _ => String::new(),
        };
        let text = format!(
            "back at instruction {}{stop} ({} instructions re-run)\n{}",
            t["position"],
            t["replayed"],
            render::task_line(&reply, self.color)
        );
        self.print(&text)
    }

    pub(super) fn record(&mut self, a: &RecordArgs) -> CmdResult {
        let op = match a.action {
            RecordAction::Start => "start",
            RecordAction::Stop => "stop",
            RecordAction::Status => "status",
        };
        let reply = self.call(&request(
            "record",
            json!({"op": op, "interval": a.interval}),
        ))?;
        let r = &reply["record"];
        let text = if r["active"].as_bool() == Some(true) {
            format!(
                "recording: instructions {}..{} (at {}{}), {} snapshots, {} KiB, interval {}\n",
                r["oldest"],
                r["newest"],
                r["position"],
                if r["in_past"].as_bool() == Some(true) {
                    ", in the past"
                } else {
                    ""
                },
                r["snapshots"],
                r["bytes"].as_u64().unwrap_or(0) / 1024,
                r["interval"],
            )
        } else {
            "not recording\n".to_string()
        };
        self.print(&text)
    }
}
