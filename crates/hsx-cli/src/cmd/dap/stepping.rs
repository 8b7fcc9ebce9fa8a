//! Run control: `continue`, `pause`, `next`, `stepIn`, `stepOut`, every one answered by a
//! `stopped` event with its reason and thread, and the place reverse execution plugs in
//! (`stepBack`, `reverseContinue` → hsxd `step_back` / `reverse_continue`).
//!
//! Source-line steps use hsxd's `step` with `source_only`, which steps into calls. `next`
//! watches the stack depth: when a step lands deeper it runs to the caller's return
//! address (a temporary breakpoint, checked against the depth so recursion does not
//! stop it early) and then finishes the line. `stepOut` is that run alone. Both complete
//! asynchronously, when the task reaches the temporary breakpoint, so other requests
//! and other tasks go on meanwhile.

use serde_json::{Value, json};

use super::session::{DapError, DapResult, Session};
use super::step_state::PendingStep;

/// Most source steps one `next` takes before it reports where it is.
const MAX_LINE_STEPS: u32 = 64;

/// What one hsxd `step` did.
struct StepOutcome {
    stop: String,
    pc: u32,
    break_reason: Option<String>,
}

impl Session {
    pub(super) fn granularity_instruction(args: &Value) -> bool {
        args.get("granularity").and_then(Value::as_str) == Some("instruction")
    }

    /// Reports a stop of `pid` after the current response.
    pub(super) fn report_stop(
        &mut self,
        pid: u32,
        reason: &str,
        description: Option<String>,
        hits: Vec<i64>,
    ) {
        self.focus = Some(pid);
        self.stopped.insert(pid);
        self.refs.invalidate(pid);
        let mut body = json!({"reason": reason, "threadId": pid, "allThreadsStopped": false,
                              "preserveFocusHint": false});
        if let Some(d) = description {
            body["description"] = json!(d);
        }
        if !hits.is_empty() {
            body["hitBreakpointIds"] = json!(hits);
        }
        // hsxd is non-stop (`clock` `on_break: task`): the clock keeps running the other
        // tasks by itself. Under `on_break: all` it stops, as that client asked.
        self.later("stopped", body);
    }

    pub(super) fn line_at(&self, pid: u32, pc: u32) -> Option<(String, u32)> {
        let t = self.syms.table(pid)?;
        let l = t.line_for_pc(pc)?;
        Some((l.file?.to_string(), l.line))
    }

    fn depth(&mut self, pid: u32) -> DapResult<usize> {
        Ok(self.walk_stack(pid)?.len())
    }

    fn pc_of(&mut self, pid: u32) -> DapResult<u32> {
        Ok(self.registers(pid)?.1)
    }

    /// One hsxd `step` of `pid` (source line or instruction).
    fn hsx_step(&mut self, pid: u32, source: bool) -> DapResult<StepOutcome> {
        self.refs.invalidate(pid);
        let r = self.call(
            "step",
            json!({"pid": pid, "steps": 1, "source_only": source}),
        )?;
        let result = r.get("result").cloned().unwrap_or(Value::Null);
        // The event stream delivers the same break; it was reported from here.
        if let Some(evs) = result.get("events").and_then(Value::as_array) {
            for e in evs {
                if let Some(seq) = e.get("seq").and_then(Value::as_u64) {
                    self.seen_breaks.insert(seq);
                }
                if e.get("type").and_then(Value::as_str) == Some("watch_update")
                    && let Some(w) = e.pointer("/data/watch_id").and_then(Value::as_u64)
                {
                    self.last_watch.insert(pid, w);
                }
            }
        }
        let break_reason = result
            .pointer("/debug_event/reason")
            .and_then(Value::as_str)
            .map(str::to_string);
        let stop = match result.pointer("/source/stop").and_then(Value::as_str) {
            Some(s) => s.to_string(),
            None if break_reason.is_some() => "debug_break".into(),
            None if result.get("executed").and_then(Value::as_u64) == Some(0) => {
                "not_running".into()
            }
            None => "line".into(),
        };
        let pc = result.get("pc").and_then(Value::as_u64).unwrap_or(0) as u32;
        Ok(StepOutcome {
            stop,
            pc,
            break_reason,
        })
    }

    /// Reports the outcome of a step that ended early (breakpoint, BRK, data breakpoint,
    /// task no longer runnable). Returns false when the step simply completed.
    fn report_early(&mut self, pid: u32, o: &StepOutcome) -> bool {
        match o.stop.as_str() {
            "breakpoint" | "debug_break" => {
                self.report_break(pid, o.pc, o.break_reason.as_deref().unwrap_or("breakpoint"));
                true
            }
            "not_running" => {
                // Blocked (sleeping, waiting on a mailbox): hold it there so the step
                // still ends in a stop. A task that ended gets its exit events instead.
                if self.call("pause", json!({"pid": pid})).is_ok() {
                    self.report_stop(pid, "step", Some("task is blocked".into()), Vec::new());
                }
                true
            }
            _ => false,
        }
    }

    /// Reports a `debug_break` of `pid` at `pc` with hsxd's `reason`.
    pub(super) fn report_break(&mut self, pid: u32, pc: u32, reason: &str) {
        match reason {
            "watch" => {
                let hit = self
                    .last_watch
                    .get(&pid)
                    .and_then(|w| self.bps.data_hit(pid, *w));
                self.report_stop(
                    pid,
                    "data breakpoint",
                    Some("data breakpoint: value changed".into()),
                    hit.into_iter().collect(),
                );
            }
            "brk" => self.report_stop(
                pid,
                "breakpoint",
                Some("BRK instruction".into()),
                Vec::new(),
            ),
            _ => {
                let (ids, why) = self.bps.hits(pid, pc);
                self.report_stop(pid, why, None, ids);
            }
        }
    }

    /// Steps over source lines from `start` at `depth0`.
    fn next_from(
        &mut self,
        pid: u32,
        start: Option<(String, u32)>,
        depth0: usize,
    ) -> DapResult<()> {
        for _ in 0..MAX_LINE_STEPS {
            let o = self.hsx_step(pid, true)?;
            if self.report_early(pid, &o) {
                return Ok(());
            }
            let depth = self.depth(pid)?;
            if depth > depth0 {
                return self.begin_step_out(pid, depth0, Some(start));
            }
            let line = self.line_at(pid, o.pc);
            if depth < depth0 || line.is_none() || line != start {
                break;
            }
        }
        self.report_stop(pid, "step", None, Vec::new());
        Ok(())
    }

    /// Runs `pid` until it is back at depth `target_depth` (the return address of the
    /// frame above it).
    fn begin_step_out(
        &mut self,
        pid: u32,
        target_depth: usize,
        then_next: Option<Option<(String, u32)>>,
    ) -> DapResult<()> {
        let frames = self.walk_stack(pid)?;
        let cur = frames.len();
        let caller = cur
            .checked_sub(target_depth)
            .filter(|i| *i > 0)
            .and_then(|idx| frames.get(idx))
            .and_then(|f| f.get("pc"))
            .and_then(Value::as_u64)
            .and_then(|p| u32::try_from(p).ok());
        let (ret, target_depth) = match caller {
            Some(r) => (r, target_depth),
            // Hand-written code without a frame pointer: the walk sees one frame. At the
            // function's first instruction the return address is still on top of the
            // stack; no depth check then (the walk cannot count such frames).
            None => (
                self.entry_return_address(pid)
                    .ok_or("no caller frame to return to")?,
                usize::MAX,
            ),
        };
        self.bps.temp.entry(pid).or_default().insert(ret);
        if let Some(c) = self.hsx.as_mut() {
            self.bps.sync(c);
        }
        self.steps.insert(
            pid,
            PendingStep {
                temp_addr: ret,
                target_depth,
                then_next,
            },
        );
        self.call("resume", json!({"pid": pid}))?;
        self.ensure_clock();
        Ok(())
    }

    /// The return address when `pid` is at the first instruction of a function.
    fn entry_return_address(&mut self, pid: u32) -> Option<u32> {
        let (_, pc, sp, _) = self.registers(pid).ok()?;
        let table = self.syms.table(pid)?;
        let f = table.function_containing(pc)?;
        if f.address != pc {
            return None;
        }
        let word = super::variables::peek(self.hsx.as_mut()?, pid, sp, 4);
        Some(super::ctypes::le_u64(&word) as u32)
    }

    /// Whether `pc` is on the line that declares its function (the prologue's line).
    pub(super) fn on_declaration_line(&self, pid: u32, pc: u32) -> bool {
        let Some(t) = self.syms.table(pid) else {
            return false;
        };
        let (Some(f), Some(l)) = (t.function_containing(pc), t.line_for_pc(pc)) else {
            return false;
        };
        f.line == Some(l.line)
    }

    fn clear_temp(&mut self, pid: u32) {
        self.steps.remove(&pid);
        if self.bps.temp.remove(&pid).is_some()
            && let Some(c) = self.hsx.as_mut()
        {
            self.bps.sync(c);
        }
    }

    /// A `debug_break` of `pid` while a step-out is pending. Returns whether it was the
    /// step's own (handled here).
    pub(super) fn pending_step_break(&mut self, pid: u32, pc: u32, reason: &str) -> bool {
        let Some(p) = self.steps.get(&pid).cloned() else {
            return false;
        };
        if reason != "breakpoint" || pc != p.temp_addr {
            // Something else stopped it first: the step is over.
            self.clear_temp(pid);
            return false;
        }
        let deeper = self.depth(pid).is_ok_and(|d| d > p.target_depth);
        if deeper && !self.bps.is_user_bp(pid, pc) {
            // A recursive call returned to the same address; keep going.
            let _ = self.call("resume", json!({"pid": pid}));
            self.ensure_clock();
            return true;
        }
        self.clear_temp(pid);
        match p.then_next {
            Some(start) => {
                if let Err(DapError(e)) = self.next_from(pid, start, p.target_depth) {
                    self.report_stop(pid, "step", Some(e), Vec::new());
                }
            }
            None => self.report_stop(pid, "step", None, Vec::new()),
        }
        true
    }

    /// `continue {threadId}`.
    pub(super) fn continue_(&mut self, args: &Value) -> DapResult<Value> {
        let pid = self.thread_arg(args)?;
        self.clear_temp(pid);
        self.refs.invalidate(pid);
        if self.faults.contains_key(&pid) {
            // A faulted task never runs again: it is over.
            self.task_gone(pid, None);
            return Ok(json!({"allThreadsContinued": false}));
        }
        self.call("resume", json!({"pid": pid}))?;
        self.stopped.remove(&pid);
        self.ensure_clock();
        Ok(json!({"allThreadsContinued": false}))
    }

    /// `pause {threadId}`.
    pub(super) fn pause(&mut self, args: &Value) -> DapResult<Value> {
        let pid = self.thread_arg(args)?;
        self.clear_temp(pid);
        self.call("pause", json!({"pid": pid}))?;
        self.report_stop(pid, "pause", None, Vec::new());
        Ok(json!({}))
    }

    /// `next {threadId, granularity?}`: over calls, to the next source line.
    pub(super) fn next(&mut self, args: &Value) -> DapResult<Value> {
        let pid = self.thread_arg(args)?;
        self.clear_temp(pid);
        if Self::granularity_instruction(args) {
            let o = self.hsx_step(pid, false)?;
            if !self.report_early(pid, &o) {
                self.report_stop(pid, "step", None, Vec::new());
            }
            return Ok(json!({}));
        }
        let pc = self.pc_of(pid)?;
        let start = self.line_at(pid, pc);
        let depth0 = self.depth(pid)?;
        self.next_from(pid, start, depth0)?;
        Ok(json!({}))
    }

    /// `stepIn {threadId, granularity?}`: to the next source line, into calls.
    pub(super) fn step_in(&mut self, args: &Value) -> DapResult<Value> {
        let pid = self.thread_arg(args)?;
        self.clear_temp(pid);
        let source = !Self::granularity_instruction(args);
        let depth0 = if source { self.depth(pid)? } else { 0 };
        let o = self.hsx_step(pid, source)?;
        if self.report_early(pid, &o) {
            return Ok(json!({}));
        }
        // Into a call: the first line is the function's own (its prologue); go on to the
        // first line of its body, as debuggers do.
        if source && self.depth(pid)? > depth0 && self.on_declaration_line(pid, o.pc) {
            let o = self.hsx_step(pid, true)?;
            if self.report_early(pid, &o) {
                return Ok(json!({}));
            }
        }
        self.report_stop(pid, "step", None, Vec::new());
        Ok(json!({}))
    }

    /// `stepOut {threadId}`: until the current function returns.
    pub(super) fn step_out(&mut self, args: &Value) -> DapResult<Value> {
        let pid = self.thread_arg(args)?;
        self.clear_temp(pid);
        let depth = self.depth(pid)?;
        self.begin_step_out(pid, depth.saturating_sub(1), None)?;
        Ok(json!({}))
    }
}
