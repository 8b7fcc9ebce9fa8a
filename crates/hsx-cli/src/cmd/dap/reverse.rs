//! Reverse execution: `stepBack` and `reverseContinue` on hsxd's recording (`step_back`,
//! `reverse_continue`, `travel`). Travelling moves every task, so hsxd stops its clock
//! first; the stop is reported for the stepped thread.

use serde_json::{Value, json};

use super::session::{DapResult, Session};

/// Instructions a source-level `stepBack` may go back looking for the previous line.
const STEP_BACK_LINE_MAX: u32 = 256;

impl Session {
    /// `stepBack {threadId, granularity?}`: back to the previous source line (or one
    /// instruction).
    pub(super) fn step_back(&mut self, args: &Value) -> DapResult<Value> {
        let pid = self.thread_arg(args)?;
        let source = !Self::granularity_instruction(args);
        self.refs.invalidate(pid);
        let start = self.pc_now(pid)?;
        let start_line = self.line_at(pid, start);
        for _ in 0..STEP_BACK_LINE_MAX {
            let r = self.call("step_back", json!({"pid": pid, "steps": 1}))?;
            let pc = r
                .pointer("/task/pc")
                .and_then(Value::as_u64)
                .and_then(|p| u32::try_from(p).ok())
                .unwrap_or(start);
            if !source {
                break;
            }
            let line = self.line_at(pid, pc);
            if line.is_some() && line != start_line && !self.on_declaration_line(pid, pc) {
                break;
            }
        }
        self.report_stop(pid, "step", None, Vec::new());
        Ok(json!({}))
    }

    /// `reverseContinue {threadId}`: back to the latest earlier breakpoint or watch hit,
    /// or to the start of the recording when there is none.
    pub(super) fn reverse_continue(&mut self, args: &Value) -> DapResult<Value> {
        let pid = self.thread_arg(args)?;
        self.refs.invalidate(pid);
        match self.call("reverse_continue", json!({"pid": pid})) {
            Ok(r) => {
                let reason = match r.pointer("/travel/stop/reason").and_then(Value::as_str) {
                    Some("watch") => "data breakpoint",
                    _ => "breakpoint",
                };
                self.report_stop(pid, reason, None, Vec::new());
            }
            Err(e) if e.0.contains("no_earlier_stop") => {
                let st = self.call("record", json!({"op": "status"}))?;
                let oldest = st
                    .pointer("/record/oldest")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                self.call("travel", json!({"to": oldest}))?;
                self.report_stop(
                    pid,
                    "entry",
                    Some("start of the recording".into()),
                    Vec::new(),
                );
            }
            Err(e) => return Err(e),
        }
        Ok(json!({}))
    }

    fn pc_now(&mut self, pid: u32) -> DapResult<u32> {
        Ok(self.registers(pid)?.1)
    }
}
