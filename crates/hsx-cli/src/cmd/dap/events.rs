//! hsxd events → DAP events: stops (`debug_break`, `fault`), task output, task ends
//! (`thread` exited; `exited` + `terminated` when the debuggee is done) and new tasks.

use serde_json::{Value, json};

use super::session::{Mode, Session};

impl Session {
    /// Handles one event from hsxd.
    pub(super) fn on_hsx_event(&mut self, ev: &Value) {
        let Some(kind) = ev.get("type").and_then(Value::as_str) else {
            return;
        };
        let pid = ev
            .get("pid")
            .and_then(Value::as_u64)
            .and_then(|p| u32::try_from(p).ok());
        let data = ev.get("data").cloned().unwrap_or(Value::Null);
        let Some(pid) = pid else { return };
        if kind == "task_state" && data.get("prev_state").is_some_and(Value::is_null) {
            // A new task: in attach mode it is part of the debuggee.
            if self.mode == Mode::Attach && self.ours(pid) {
                let _ = self.refresh_threads();
                self.rebind_all();
            }
            return;
        }
        if !self.ours(pid) {
            return;
        }
        match kind {
            "stdout" | "stderr" => {
                let text = data.get("text").and_then(Value::as_str).unwrap_or("");
                let many = self.threads.values().filter(|t| t.alive).count() > 1;
                let output = match (many, self.threads.get(&pid)) {
                    (true, Some(t)) => prefix_lines(&format!("[{}] ", t.name), text),
                    _ => text.to_string(),
                };
                self.later("output", json!({"category": kind, "output": output}));
            }
            "watch_update" => {
                if let Some(w) = data.get("watch_id").and_then(Value::as_u64) {
                    self.last_watch.insert(pid, w);
                }
            }
            "debug_break" => {
                if ev
                    .get("seq")
                    .and_then(Value::as_u64)
                    .is_some_and(|s| self.seen_breaks.remove(&s))
                {
                    return;
                }
                let pc = data.get("pc").and_then(Value::as_u64).unwrap_or(0) as u32;
                let reason = data
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("breakpoint")
                    .to_string();
                if !self.pending_step_break(pid, pc, &reason) {
                    self.report_break(pid, pc, &reason);
                }
            }
            "fault" => {
                self.faults.insert(pid, data.clone());
                let name = data.get("name").and_then(Value::as_str).unwrap_or("fault");
                let at = data.get("pc").and_then(Value::as_u64).unwrap_or(0);
                self.steps.remove(&pid);
                self.report_stop(
                    pid,
                    "exception",
                    Some(format!("{name} at 0x{at:04x}")),
                    Vec::new(),
                );
            }
            "task_state" => {
                let state = data.get("new_state").and_then(Value::as_str).unwrap_or("");
                if matches!(state, "returned" | "terminated" | "killed") {
                    let code = data.pointer("/details/exit_status").and_then(Value::as_i64);
                    self.task_gone(pid, code);
                }
            }
            _ => {}
        }
    }

    /// A task ended: `thread exited`, and when it was the last one, `exited` and
    /// `terminated` (launch, or attach to one pid).
    pub(super) fn task_gone(&mut self, pid: u32, code: Option<i64>) {
        let Some(t) = self.threads.get_mut(&pid) else {
            return;
        };
        if !t.alive {
            return;
        }
        t.alive = false;
        if let Some(c) = code {
            self.exit_codes.insert(pid, c);
        }
        self.steps.remove(&pid);
        self.bps.forget(pid);
        self.refs.invalidate(pid);
        self.later("thread", json!({"reason": "exited", "threadId": pid}));
        if self.focus == Some(pid) {
            self.focus = self.threads.iter().find(|(_, t)| t.alive).map(|(p, _)| *p);
        }
        let done = match self.mode {
            Mode::Launch => self
                .launched
                .iter()
                .all(|p| self.threads.get(p).is_none_or(|t| !t.alive)),
            Mode::Attach => self.pid_filter.is_some() || self.threads.values().all(|t| !t.alive),
            Mode::Idle => false,
        };
        if done {
            let main = self
                .launched
                .first()
                .copied()
                .or(self.pid_filter)
                .unwrap_or(pid);
            let code =
                self.exit_codes
                    .get(&main)
                    .copied()
                    .unwrap_or(if self.faults.contains_key(&main) {
                        1
                    } else {
                        0
                    });
            self.later("exited", json!({"exitCode": code}));
            self.terminate_session();
        }
    }

    /// `exceptionInfo {threadId}`: the fault of a task that stopped with "exception".
    pub(super) fn exception_info(&mut self, args: &Value) -> super::session::DapResult<Value> {
        let pid = self.thread_arg(args)?;
        let f = self
            .faults
            .get(&pid)
            .ok_or("this thread has no exception")?;
        let name = f.get("name").and_then(Value::as_str).unwrap_or("FAULT");
        let code = f.get("code").and_then(Value::as_u64).unwrap_or(0);
        let pc = f.get("pc").and_then(Value::as_u64).unwrap_or(0);
        Ok(json!({
            "exceptionId": name,
            "description": format!("task {pid} faulted: {name} (code {code}) at 0x{pc:04x}; a faulted task does not run again"),
            "breakMode": "always",
            "details": {"message": name, "typeName": "MiniVM fault"},
        }))
    }
}

fn prefix_lines(prefix: &str, text: &str) -> String {
    text.split_inclusive('\n')
        .map(|l| format!("{prefix}{l}"))
        .collect()
}
