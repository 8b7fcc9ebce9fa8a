//! The scheduler: picking the next task, running time slices, `scheduler` events, and
//! acting on what a slice stopped at (SVC, BRK, exit, fault). The fast path lives in
//! `window.rs`, parking and waking in `blocking.rs`, debugger hooks in `debug_hooks.rs`.

use hsx_vm::{StepResult, Task};

use super::{ExecError, Executive, StepSummary, StopReason, TaskCode, TaskRec};
use crate::event::{
    BreakPhase, BreakReason, DebugBreak, EventKind, FaultInfo, SchedulerSwitch, StateDetails,
    SwitchReason,
};
use crate::task_state::{StateReason, TaskState};

/// Instructions between clock reads while timers are pending (a long `step` call still
/// wakes sleepers and expires receives roughly on time with a real clock).
const CLOCK_POLL_INSTRUCTIONS: u64 = 4096;

/// Outcome of running one slice of one task.
pub(super) enum SliceEnd {
    /// Keep scheduling.
    Continue,
    /// Stop the step call: debug break.
    Break(DebugBreak),
}

impl<C: TaskCode> Executive<C> {
    /// Run up to `budget` instructions across tasks (round-robin, per-task quantum, optional
    /// priority overlay). Returns early at a debug break, or when nothing can run
    /// ([`StopReason`]).
    ///
    /// The result is exactly that of `budget` calls of `step(1)`: task states, registers,
    /// memory, counters and the order of every event except `scheduler` (one per call).
    /// Long calls are fast because tasks run ahead between their SVCs (see `try_window`);
    /// [`super::ExecConfig::run_ahead`] turns that off.
    pub fn step(&mut self, budget: u64) -> StepSummary {
        if !self.loads.is_empty() {
            self.refresh_clock();
            self.expire_loads();
        }
        #[cfg(feature = "record")]
        if self.rec.is_some() {
            return self.recorded_step(budget);
        }
        self.run_step(budget)
    }

    /// [`Executive::step`] without recording.
    pub(super) fn run_step(&mut self, budget: u64) -> StepSummary {
        #[cfg(feature = "record")]
        let rec_on = self.rec.is_some();
        #[cfg(not(feature = "record"))]
        let rec_on = false;
        self.begin_pass();
        let mut executed = 0u64;
        let mut last_pid = None;
        let mut stop = StopReason::Budget;
        // While recording, time stands still within a call (the recorder makes short calls).
        let mut next_poll = if rec_on {
            u64::MAX
        } else {
            CLOCK_POLL_INSTRUCTIONS
        };
        let mut debug_break = None;
        while executed < budget {
            #[cfg(feature = "record")]
            if rec_on && self.rec_halt(executed) {
                break;
            }
            let Some(slot) = self.pick() else {
                stop = self.idle_reason();
                break;
            };
            if self.window_cooldown == 0 {
                match self.try_window(budget - executed) {
                    Ok(n) => {
                        executed += n;
                        last_pid = self.ring.last().map(|&s| self.pid_of(s));
                        if executed >= next_poll {
                            next_poll = executed.saturating_add(CLOCK_POLL_INSTRUCTIONS);
                            self.poll_timers();
                        }
                        continue;
                    }
                    Err(cooldown) => self.window_cooldown = cooldown,
                }
            } else {
                self.window_cooldown -= 1;
            }
            #[allow(unused_mut)]
            let mut want = self.slice_left.min(budget - executed);
            #[cfg(feature = "record")]
            if rec_on {
                want = self.rec_clamp(slot, want, executed);
            }
            let (done, end) = self.exec_slice(slot, want);
            executed += done;
            self.slice_left = self.slice_left.saturating_sub(done);
            #[cfg(feature = "record")]
            if rec_on {
                self.rec_after_slice(slot);
            }
            last_pid = Some(self.pid_of(slot));
            if let SliceEnd::Break(b) = end {
                debug_break.get_or_insert(b);
                // With instructions run ahead of the schedule the call must reach its end
                // so that every task is back in step; otherwise stop at the break.
                if !self.banks_outstanding() {
                    stop = StopReason::DebugBreak(b);
                    break;
                }
            }
            if self.slice_left == 0 {
                // Rotate as soon as the slice is used up, so that between calls the task
                // about to run is the `running` one.
                self.pick();
            }
            if executed >= next_poll {
                next_poll = executed.saturating_add(CLOCK_POLL_INSTRUCTIONS);
                self.poll_timers();
            }
        }
        self.total_executed = self.total_executed.wrapping_add(executed);
        let mut s = self.end_pass(executed, last_pid, stop);
        s.debug_break = debug_break;
        s
    }

    fn poll_timers(&mut self) {
        if !self.timers.is_empty() {
            self.refresh_clock();
            self.fire_timers();
        }
    }

    /// Run until `max_instructions` have retired, every task has ended, nothing can run
    /// (all blocked — see [`StopReason::Blocked`] for when to call again) or a debug break.
    /// The same as [`Executive::step`]; named for bulk runners such as `hsx run`.
    pub fn run_until(&mut self, max_instructions: u64) -> StepSummary {
        self.step(max_instructions)
    }

    /// Run up to `n` instructions of one task only, ignoring its quantum. A `ready`/`running`
    /// task becomes the current task; a `paused` task is single-stepped by the debugger and
    /// stays paused afterwards (unless it blocks, exits or faults). The first instruction
    /// executes even if its PC has a breakpoint (step-over); later ones stop at breakpoints.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn step_pid(&mut self, pid: u32, n: u64) -> Result<StepSummary, ExecError> {
        #[cfg(feature = "record")]
        if self.rec.is_some() {
            self.slot_of(pid)?;
            if self.in_past() {
                return self.replay_step_pid(pid, n);
            }
            return Ok(self.recorded_op(super::record::OpKind::StepPid { pid, n }));
        }
        self.run_step_pid(pid, n)
    }

    /// [`Executive::step_pid`] without recording.
    pub(super) fn run_step_pid(&mut self, pid: u32, n: u64) -> Result<StepSummary, ExecError> {
        #[cfg(feature = "record")]
        let rec_on = self.rec.is_some();
        let slot = self.slot_of(pid)?;
        self.begin_pass();
        let state = self.rec(slot).map_or(TaskState::Terminated, |r| r.state);
        let paused = state == TaskState::Paused;
        if !(state.is_runnable() || paused) || n == 0 {
            let stop = if n == 0 {
                StopReason::Budget
            } else {
                StopReason::NotRunnable
            };
            return Ok(self.end_pass(0, Some(pid), stop));
        }
        self.make_current(slot, StateReason::DebugStep, false)?;
        self.arm_step_over(slot);
        // A debugger step of an untraced task still reports its last instruction as a
        // `trace_step` (register caches follow those); only that instruction is traced.
        #[cfg(feature = "development")]
        let snapshot = self.trace_step_events && self.rec(slot).is_some_and(|r| !r.debug.trace);
        #[cfg(not(feature = "development"))]
        let snapshot = false;
        let mut executed = 0u64;
        let mut stop = StopReason::Budget;
        while executed < n {
            if self.current != Some(slot) {
                stop = StopReason::NotRunnable;
                break;
            }
            #[cfg(feature = "record")]
            if rec_on && self.rec_halt(executed) {
                break;
            }
            let left = n - executed;
            let last_one = snapshot && left == 1;
            #[allow(unused_mut)]
            let mut want = if snapshot && left > 1 { left - 1 } else { left };
            #[cfg(feature = "record")]
            if rec_on {
                want = self.rec_clamp(slot, want, executed);
            }
            if last_one && let Some(t) = self.vm.task_mut(slot) {
                t.set_trace(true);
            }
            let (done, end) = self.exec_slice(slot, want);
            #[cfg(feature = "record")]
            if rec_on {
                self.rec_after_slice(slot);
            }
            if last_one {
                if let Some(t) = self.vm.task_mut(slot) {
                    t.set_trace(false);
                }
                #[cfg(feature = "development")]
                if done == 1 {
                    self.emit_step_snapshot(slot);
                }
            }
            executed += done;
            if let SliceEnd::Break(b) = end {
                stop = StopReason::DebugBreak(b);
                break;
            }
            if done == 0 && self.current == Some(slot) {
                break;
            }
        }
        if self.current == Some(slot) {
            // The next scheduler pass starts a fresh rotation.
            self.slice_left = 0;
            if paused {
                self.set_state(slot, TaskState::Paused, StateReason::DebugStep, None)?;
                self.dequeue(slot);
            }
        }
        self.total_executed = self.total_executed.wrapping_add(executed);
        Ok(self.end_pass(executed, Some(pid), stop))
    }

    /// Start of a scheduler pass: read the clock, fire due timers, flush due persistence.
    fn begin_pass(&mut self) {
        let now = self.refresh_clock();
        self.fire_timers();
        self.registry.flush_persist_due(now);
    }

    fn end_pass(&mut self, executed: u64, last_pid: Option<u32>, stop: StopReason) -> StepSummary {
        let next_pid = self.next_pid();
        self.report_switch(next_pid, executed);
        self.pump();
        StepSummary {
            executed,
            last_pid,
            next_pid,
            stop,
            debug_break: match stop {
                StopReason::DebugBreak(b) => Some(b),
                _ => None,
            },
        }
    }

    /// One `scheduler` event per pass that ran something or changed the next task: what
    /// was current at the end of the previous pass against what runs next (the reference
    /// reports only changes, so a single busy task never produced one).
    fn report_switch(&mut self, next_pid: Option<u32>, executed: u64) {
        let next_state = next_pid.and_then(|p| self.state(p).ok());
        let prev = self.reported;
        self.reported = next_pid.zip(next_state);
        let Some((prev_pid, prev_state)) = prev else {
            return;
        };
        let same = Some(prev_pid) == next_pid;
        if (same && executed == 0) || !self.events.enabled() {
            return;
        }
        let post = self.pids.get(&prev_pid).and_then(|&s| self.rec(s));
        let post_state = post.map(|r| r.state);
        let reason = match post_state {
            _ if same => SwitchReason::Budget,
            None | Some(TaskState::Terminated | TaskState::Killed) => SwitchReason::Killed,
            Some(TaskState::Returned) => SwitchReason::Returned,
            Some(TaskState::Faulted) => SwitchReason::Fault,
            Some(TaskState::Sleeping) => SwitchReason::Sleep,
            Some(TaskState::WaitMbx) => SwitchReason::WaitMbx,
            Some(TaskState::Paused) => SwitchReason::Paused,
            Some(_) => SwitchReason::QuantumExpired,
        };
        let quantum_remaining = post.and_then(|r| {
            let q = r.slice_len();
            let steps = self
                .pids
                .get(&prev_pid)
                .and_then(|&s| self.vm_task(s))?
                .steps();
            let rem = q - steps % q;
            u32::try_from(if rem == q { 0 } else { rem }).ok()
        });
        self.emit(
            next_pid,
            EventKind::Scheduler(SchedulerSwitch {
                prev_pid,
                next_pid,
                reason,
                quantum_remaining,
                prev_state: Some(prev_state),
                next_state,
                post_state,
                executed,
            }),
        );
    }

    fn idle_reason(&self) -> StopReason {
        let mut waiting = false;
        let mut paused = false;
        for r in self.tasks.iter().flatten() {
            match r.state {
                TaskState::WaitMbx | TaskState::Sleeping => waiting = true,
                TaskState::Paused => paused = true,
                _ => {}
            }
        }
        if waiting {
            StopReason::Blocked {
                next_deadline_ms: self.next_deadline(),
            }
        } else if paused {
            StopReason::Paused
        } else {
            StopReason::AllDone
        }
    }

    pub(crate) fn best_in_queue(&self) -> Option<(usize, usize)> {
        let mut best: Option<(u32, usize, usize)> = None;
        for (i, &s) in self.runq.iter().enumerate() {
            let p = self.rec(s).map_or(0, |r| r.priority);
            if best.is_none_or(|(bp, _, _)| p > bp) {
                best = Some((p, i, s));
            }
        }
        best.map(|(_, i, s)| (i, s))
    }

    /// The task to run next, rotating the current one out when its slice is used up.
    #[inline]
    fn pick(&mut self) -> Option<usize> {
        if let Some(cur) = self.current {
            if self.slice_left > 0 {
                return Some(cur);
            }
            let keep = if self.cfg.priority_scheduling {
                let mine = self.rec(cur).map_or(0, |r| r.priority);
                self.best_in_queue()
                    .is_none_or(|(_, s)| self.rec(s).map_or(0, |r| r.priority) < mine)
            } else {
                self.runq.is_empty()
            };
            if keep {
                self.slice_left = self.rec(cur).map_or(1, TaskRec::slice_len);
                return Some(cur);
            }
            self.current = None;
            if self
                .quick_state(cur, TaskState::Ready, StateReason::QuantumExpired)
                .is_some()
            {
                self.runq.push_back(cur);
            }
        }
        let slot = if self.cfg.priority_scheduling {
            let (i, s) = self.best_in_queue()?;
            self.runq.remove(i);
            s
        } else {
            self.runq.pop_front()?
        };
        let Some(r) = self.quick_state(slot, TaskState::Running, StateReason::Scheduled) else {
            // A queued task must be READY; anything else is dropped from the queue.
            return self.pick();
        };
        r.counters.rotate += 1;
        let q = r.slice_len();
        self.current = Some(slot);
        self.slice_left = q;
        let _ = self.vm.set_context(slot);
        Some(slot)
    }

    /// The scheduler's own READY⇄RUNNING changes: validated against the same table and
    /// recorded like every transition, but without an event (see [`crate::event`]).
    #[inline]
    fn quick_state(
        &mut self,
        slot: usize,
        to: TaskState,
        reason: StateReason,
    ) -> Option<&mut TaskRec> {
        let ts_ms = self.now_ms;
        let r = self.tasks.get_mut(slot)?.as_mut()?;
        if !TaskState::can_transition(Some(r.state), to) {
            return None;
        }
        r.last_transition = Some(crate::task_state::Transition {
            from: Some(r.state),
            to,
            reason,
            ts_ms,
        });
        r.state = to;
        Some(r)
    }

    /// Execute up to `want` instructions of `slot` (the current task).
    fn exec_slice(&mut self, slot: usize, want: u64) -> (u64, SliceEnd) {
        let (slow, banked) = self.rec(slot).map_or((true, false), |r| {
            (r.debug.slow, r.bank > 0 || r.pending.is_some())
        });
        if banked {
            return self.exec_banked(slot, want);
        }
        if !slow {
            let (Some(t), Some(r)) = (
                self.vm.task_mut(slot),
                self.tasks.get_mut(slot).and_then(Option::as_mut),
            ) else {
                return (0, SliceEnd::Continue);
            };
            let (done, res) = t.run(want);
            r.counters.step += done;
            if res.is_ok() {
                return (done, SliceEnd::Continue);
            }
            return (done, self.handle_result(slot, res));
        }
        let mut done = 0u64;
        while done < want {
            if let Some(b) = self.breakpoint_gate(slot) {
                return (done, SliceEnd::Break(b));
            }
            let Some(t) = self.vm.task_mut(slot) else {
                return (done, SliceEnd::Continue);
            };
            let pc_before = t.pc();
            let (n, res) = t.run(1);
            done += n;
            if let Some(r) = self.rec_mut(slot) {
                r.counters.step += n;
                r.debug.skip_bp_at = None;
            }
            let watch_break = if n > 0 {
                self.after_traced_step(slot, pc_before)
            } else {
                None
            };
            if !res.is_ok() {
                let end = self.handle_result(slot, res);
                if matches!(end, SliceEnd::Continue)
                    && let Some(b) = watch_break.and_then(|b| self.watch_stop(slot, b))
                {
                    return (done, SliceEnd::Break(b));
                }
                return (done, end);
            }
            if let Some(b) = watch_break.and_then(|b| self.watch_stop(slot, b)) {
                return (done, SliceEnd::Break(b));
            }
            if self.current != Some(slot) {
                break;
            }
        }
        (done, SliceEnd::Continue)
    }

    /// Act on a non-`Ok` step result.
    pub(super) fn handle_result(&mut self, slot: usize, res: StepResult) -> SliceEnd {
        match res {
            StepResult::Ok => SliceEnd::Continue,
            StepResult::Svc { module, func } => {
                self.svc(slot, module, func);
                SliceEnd::Continue
            }
            StepResult::Break { code } => {
                let next_pc = self.vm.task(slot).map_or(0, Task::pc);
                let b = DebugBreak {
                    pid: self.pid_of(slot),
                    pc: next_pc.wrapping_sub(4),
                    next_pc,
                    phase: BreakPhase::Post,
                    reason: BreakReason::Brk { code },
                };
                self.debug_stop(slot, b);
                SliceEnd::Break(b)
            }
            StepResult::Exit { status } => {
                self.end_task(slot, status);
                SliceEnd::Continue
            }
            StepResult::Fault {
                code: hsx_vm::Fault::Watchdog,
                pc,
            } => {
                self.watchdog_tripped(slot, pc);
                SliceEnd::Continue
            }
            StepResult::Fault { code, pc } => {
                self.fault_task(slot, FaultInfo::from_vm(code, pc));
                SliceEnd::Continue
            }
        }
    }

    /// `RET` at depth 0 or TASK_EXIT: `returned` with `exit_status`, resources released.
    pub(crate) fn end_task(&mut self, slot: usize, status: u32) {
        if let Some(r) = self.rec_mut(slot) {
            r.exit_status = Some(status);
        }
        let details = StateDetails {
            exit_status: Some(status),
            ..self.details_pc(slot)
        };
        if self
            .set_state(
                slot,
                TaskState::Returned,
                StateReason::Returned,
                Some(details),
            )
            .is_ok()
        {
            self.dequeue(slot);
            self.disarm_timer(slot);
            self.release_task_resources(slot);
        }
    }

    /// A VM fault: `faulted` with the fault recorded, never executed again; others go on.
    pub(super) fn fault_task(&mut self, slot: usize, fault: FaultInfo) {
        if let Some(r) = self.rec_mut(slot) {
            r.fault = Some(fault);
        }
        let details = StateDetails {
            pc: Some(fault.pc),
            fault: Some(fault),
            ..StateDetails::default()
        };
        if self
            .set_state(slot, TaskState::Faulted, StateReason::Fault, Some(details))
            .is_ok()
        {
            self.dequeue(slot);
            self.disarm_timer(slot);
            let pid = self.pid_of(slot);
            self.emit(Some(pid), EventKind::Fault(fault));
            self.release_task_resources(slot);
        }
    }
}
