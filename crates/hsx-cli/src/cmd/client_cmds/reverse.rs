//! `back` and `record`: reverse execution on hsxd's recording (`step_back`,
//! `reverse_continue`, `record`).

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use super::super::remote::{Common, parse_u32};
use super::super::render;
use super::{CmdResult, Ctx};
use crate::client::request;

/// `back PID [-n N] [--continue]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct BackArgs {
    /// Task id.
    #[arg(value_parser = parse_u32)]
    pub pid: u32,
    /// Instructions of the task to go back.
    #[arg(
        short = 'n',
        long = "count",
        visible_alias = "steps",
        default_value_t = 1
    )]
    pub steps: u64,
    /// Run backwards to the task's previous breakpoint or watch hit instead.
    #[arg(short = 'c', long = "continue")]
    pub reverse_continue: bool,
    #[command(flatten)]
    pub common: Common,
}

/// What `record` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordAction {
    /// Start (or restart) recording.
    Start,
    /// Stop and free the history.
    Stop,
    /// Show the history's extent.
    Status,
}

/// `record [start|stop|status] [--interval N]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct RecordArgs {
    /// What to do.
    #[arg(value_enum, default_value = "status")]
    pub action: RecordAction,
    /// Instructions between snapshots (a step back re-runs at most about this many).
    #[arg(long, value_name = "N")]
    pub interval: Option<u64>,
    #[command(flatten)]
    pub common: Common,
}

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
