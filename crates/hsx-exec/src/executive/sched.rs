//! The scheduler: picking the next task, running time slices, the timer heap, completing
//! blocked mailbox receives, task exit and faults.

#[cfg(feature = "development")]
use alloc::boxed::Box;
use core::cmp::Reverse;

use hsx_vm::{StepResult, Task};

use super::{ExecError, Executive, StepSummary, StopReason, TaskRec, TimerKind};
use crate::event::{
    BreakPhase, BreakReason, DebugBreak, EventKind, FaultInfo, SchedulerSwitch, StateDetails,
    SwitchReason,
};
use crate::mailbox::Completion;
use crate::task_state::{StateReason, TaskState};

/// Instructions between clock reads while timers are pending (a long `step` call still
/// wakes sleepers and expires receives roughly on time with a real clock).
const CLOCK_POLL_INSTRUCTIONS: u64 = 4096;

/// Largest fast-path window in instructions (bounds timer latency with a real clock).
const WINDOW_MAX: u64 = 1 << 20;

/// Fewest full rounds that make a fast-path window worth setting up.
const WINDOW_MIN_ROUNDS: u64 = 4;

/// Whether a stop result retired its instruction (pc advanced, step counted).
const fn retired(r: StepResult) -> bool {
    matches!(
        r,
        StepResult::Svc { .. }
            | StepResult::Break { .. }
            | StepResult::Fault {
                code: hsx_vm::Fault::IllegalOpcode,
                ..
            }
    )
}

/// Instructions of a task (slice `q` at offset `off` in rounds of length `w`) that fall
/// strictly before window time `g`.
const fn count_before(g: u64, w: u64, off: u64, q: u64) -> u64 {
    let rem = g % w;
    let part = if rem <= off {
        0
    } else if rem - off >= q {
        q
    } else {
        rem - off
    };
    (g / w) * q + part
}

/// Window time of a task's `e`-th instruction (1-based).
const fn time_of(e: u64, w: u64, off: u64, q: u64) -> u64 {
    let i = e.saturating_sub(1);
    (i / q) * w + off + i % q
}

/// Outcome of running one slice of one task.
enum SliceEnd {
    /// Keep scheduling.
    Continue,
    /// Stop the step call: debug break.
    Break(DebugBreak),
}

impl Executive {
    /// Run up to `budget` instructions across tasks (round-robin, per-task quantum, optional
    /// priority overlay). Returns early at a debug break, or when nothing can run
    /// ([`StopReason`]).
    ///
    /// The result is exactly that of `budget` calls of `step(1)`: task states, registers,
    /// memory, counters and the order of every event except `scheduler` (one per call).
    /// Long calls are fast because tasks run ahead between their SVCs (see `try_window`);
    /// [`super::ExecConfig::run_ahead`] turns that off.
    pub fn step(&mut self, budget: u64) -> StepSummary {
        self.begin_pass();
        let mut executed = 0u64;
        let mut last_pid = None;
        let mut stop = StopReason::Budget;
        let mut next_poll = CLOCK_POLL_INSTRUCTIONS;
        let mut debug_break = None;
        while executed < budget {
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
            let want = self.slice_left.min(budget - executed);
            let (done, end) = self.exec_slice(slot, want);
            executed += done;
            self.slice_left = self.slice_left.saturating_sub(done);
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

    fn banks_outstanding(&self) -> bool {
        self.tasks
            .iter()
            .flatten()
            .any(|r| r.bank > 0 || r.pending.is_some())
    }

    /// Fast path for long runs, exact with respect to strict round-robin.
    ///
    /// Between two SVCs a task's execution depends only on its private state (services never
    /// touch a task that is running), so with the ring `[current, queue…]` fixed, each task
    /// can run its share of `R` rounds in one VM call. A task that stops early (SVC, exit,
    /// fault) keeps what it executed as a *bank* plus the *pending* result; the earliest such
    /// event bounds the shares of tasks processed after it. The rounds that lie wholly before
    /// the first event are committed in bulk; the rest is replayed slice by slice by the slow
    /// path, which hands out banked instructions without running the VM and services each
    /// pending result exactly when the schedule reaches it.
    ///
    /// `R = budget / W_max`, with `W_max` the round length including every task that could
    /// join the ring during the call (waiting and sleeping ones), guarantees that whatever
    /// wakes up, each task's true share by the end of the budget is at least what it ran
    /// ahead — so no bank is left when the call ends.
    ///
    /// `Ok(n)`: `n` instructions committed (possibly 0 with banks set up). `Err(k)`: not
    /// applicable; run `k` slow slices before trying again.
    fn try_window(&mut self, remaining: u64) -> Result<u64, u32> {
        if self.cfg.priority_scheduling || !self.cfg.run_ahead {
            return Err(u32::MAX);
        }
        let Some(cur) = self.current else {
            return Err(1);
        };
        let q0 = self.rec(cur).map_or(1, TaskRec::slice_len);
        if self.slice_left != q0 {
            return Err(1);
        }
        let mut ring = core::mem::take(&mut self.ring);
        ring.clear();
        ring.push(cur);
        ring.extend(self.runq.iter().copied());
        let cooldown = u32::try_from(ring.len()).unwrap_or(u32::MAX);
        let mut w = 0u64;
        for &s in &ring {
            match self.rec(s) {
                Some(r) if !r.debug.slow && !r.may_brk => w += r.slice_len(),
                _ => {
                    self.ring = ring;
                    return Err(64);
                }
            }
        }
        let w_max = w + self
            .tasks
            .iter()
            .flatten()
            .filter(|r| matches!(r.state, TaskState::WaitMbx | TaskState::Sleeping))
            .map(TaskRec::slice_len)
            .sum::<u64>();
        let rounds = remaining.min(WINDOW_MAX) / w_max;
        if rounds < WINDOW_MIN_ROUNDS {
            self.ring = ring;
            return Err(cooldown);
        }
        // Phase 1: run every task ahead, bounded by the earliest event found so far.
        let mut g_min = rounds * w;
        let mut off = 0u64;
        for &slot in &ring {
            let Some(r) = self.tasks.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            let q = r.slice_len();
            let cap = count_before(g_min, w, off, q);
            if r.pending.is_none()
                && r.bank < cap
                && let Some(t) = self.vm.task_mut(slot)
            {
                let (done, res) = t.run(cap - r.bank);
                r.bank += done;
                if !res.is_ok() {
                    r.pending = Some(res);
                }
            }
            if let Some(p) = r.pending {
                let e = if retired(p) { r.bank } else { r.bank + 1 };
                if e <= cap {
                    g_min = g_min.min(time_of(e, w, off, q));
                }
            }
            off += q;
        }
        // Commit the rounds that end before the first event.
        let full = g_min / w;
        let ts = self.now_ms;
        let rotate = ring.len() > 1;
        for &slot in &ring {
            let Some(r) = self.tasks.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            let n = full * r.slice_len();
            r.bank -= n.min(r.bank);
            r.counters.step += n;
            if rotate && full > 0 {
                r.counters.rotate += full;
                let (from, to, reason) = if slot == cur {
                    (TaskState::Ready, TaskState::Running, StateReason::Scheduled)
                } else {
                    (
                        TaskState::Running,
                        TaskState::Ready,
                        StateReason::QuantumExpired,
                    )
                };
                r.last_transition = Some(crate::task_state::Transition {
                    from: Some(from),
                    to,
                    reason,
                    ts_ms: ts,
                });
            }
        }
        self.ring = ring;
        if full == 0 {
            // The first event lies in the first round: replay it on the slow path.
            self.window_cooldown = cooldown;
        }
        Ok(full * w)
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
        let mut executed = 0u64;
        let mut stop = StopReason::Budget;
        while executed < n {
            if self.current != Some(slot) {
                stop = StopReason::NotRunnable;
                break;
            }
            let (done, end) = self.exec_slice(slot, n - executed);
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

    /// One `scheduler` event per pass when the task that runs next differs from the one that
    /// was current at the end of the previous pass (the reference's refresh semantics).
    fn report_switch(&mut self, next_pid: Option<u32>, executed: u64) {
        let next_state = next_pid.and_then(|p| self.state(p).ok());
        let prev = self.reported;
        self.reported = next_pid.zip(next_state);
        let Some((prev_pid, prev_state)) = prev else {
            return;
        };
        if Some(prev_pid) == next_pid || !self.events.enabled() {
            return;
        }
        let post = self.pids.get(&prev_pid).and_then(|&s| self.rec(s));
        let post_state = post.map(|r| r.state);
        let reason = match post_state {
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
            let (n, res) = t.run(1);
            done += n;
            if let Some(r) = self.rec_mut(slot) {
                r.counters.step += n;
                r.debug.skip_bp_at = None;
            }
            if n > 0 {
                self.after_traced_step(slot);
            }
            if !res.is_ok() {
                return (done, self.handle_result(slot, res));
            }
            if self.current != Some(slot) {
                break;
            }
        }
        (done, SliceEnd::Continue)
    }

    /// Hand out instructions the fast path already executed; service the pending result
    /// when the schedule reaches it.
    fn exec_banked(&mut self, slot: usize, want: u64) -> (u64, SliceEnd) {
        let Some(r) = self.rec_mut(slot) else {
            return (0, SliceEnd::Continue);
        };
        let k = r.bank.min(want);
        r.bank -= k;
        r.counters.step += k;
        if r.bank == 0
            && let Some(p) = r.pending
        {
            // A retired stop (SVC, BRK, illegal opcode) is the last banked instruction; an
            // unretired one (exit, fault) happens when the next instruction would run.
            let now = if retired(p) { k > 0 } else { k < want };
            if now {
                r.pending = None;
                return (k, self.handle_result(slot, p));
            }
        }
        (k, SliceEnd::Continue)
    }

    /// Breakpoint gate before an instruction: stop (task paused, `debug_break` phase `pre`)
    /// unless the step-over address lets this PC run once.
    fn breakpoint_gate(&mut self, slot: usize) -> Option<DebugBreak> {
        #[cfg(feature = "development")]
        {
            let pc = self.vm.task(slot).map_or(0, Task::pc);
            let r = self.rec(slot)?;
            if !r.debug.bps.contains(pc) || r.debug.skip_bp_at == Some(pc) {
                return None;
            }
            let pid = r.pid;
            let b = DebugBreak {
                pid,
                pc,
                next_pc: pc,
                phase: BreakPhase::Pre,
                reason: BreakReason::Breakpoint,
            };
            self.debug_stop(slot, b);
            Some(b)
        }
        #[cfg(not(feature = "development"))]
        {
            let _ = slot;
            None
        }
    }

    /// Pause a task for a debug stop and emit `task_state` + `debug_break`.
    fn debug_stop(&mut self, slot: usize, b: DebugBreak) {
        let details = StateDetails {
            pc: Some(b.pc),
            phase: Some(b.phase),
            ..StateDetails::default()
        };
        if self
            .set_state(
                slot,
                TaskState::Paused,
                StateReason::DebugBreak,
                Some(details),
            )
            .is_ok()
        {
            self.dequeue(slot);
        }
        self.emit(Some(b.pid), EventKind::DebugBreak(b));
    }

    /// Act on a non-`Ok` step result.
    fn handle_result(&mut self, slot: usize, res: StepResult) -> SliceEnd {
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
    fn fault_task(&mut self, slot: usize, fault: FaultInfo) {
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

    /// Park the current task in SLEEPING until `now + ms`.
    pub(crate) fn start_sleep(&mut self, slot: usize, ms: u32) {
        let deadline = self.now_ms.saturating_add(u64::from(ms));
        let details = StateDetails {
            sleep_ms: Some(ms),
            deadline_ms: Some(deadline),
            ..self.details_pc(slot)
        };
        if self
            .set_state(slot, TaskState::Sleeping, StateReason::Sleep, Some(details))
            .is_ok()
        {
            self.dequeue(slot);
            if let Some(r) = self.rec_mut(slot) {
                r.sleep = Some(super::SleepInfo {
                    ms,
                    deadline_ms: deadline,
                });
                r.counters.block += 1;
            }
            self.arm_timer(slot, deadline, TimerKind::Sleep);
        }
    }

    /// Park the current task in WAIT_MBX.
    pub(crate) fn start_wait(&mut self, slot: usize, wait: super::WaitInfo) {
        let details = StateDetails {
            descriptor: Some(wait.descriptor),
            handle: Some(wait.handle),
            timeout: Some(wait.timeout),
            deadline_ms: wait.deadline_ms,
            ..self.details_pc(slot)
        };
        if self
            .set_state(
                slot,
                TaskState::WaitMbx,
                StateReason::MailboxWait,
                Some(details),
            )
            .is_ok()
        {
            self.dequeue(slot);
            if let Some(r) = self.rec_mut(slot) {
                r.wait = Some(wait);
                r.counters.block += 1;
            }
            match wait.deadline_ms {
                Some(d) => self.arm_timer(slot, d, TimerKind::MailboxWait),
                None => self.disarm_timer(slot),
            }
        }
    }

    /// Fire every timer due at the executive's current time, earliest first.
    pub(crate) fn fire_timers(&mut self) {
        let now = self.now_ms;
        while let Some(Reverse(t)) = self.timers.peek().copied() {
            if t.deadline > now {
                break;
            }
            self.timers.pop();
            if !self.timer_live(&t) {
                continue;
            }
            match t.kind {
                TimerKind::Sleep => self.wake_sleeper(t.slot),
                TimerKind::MailboxWait => {
                    if let Some(c) = self.mailboxes.expire(t.pid) {
                        self.apply_completion(c);
                    }
                }
            }
        }
        self.process_completions();
    }

    fn wake_sleeper(&mut self, slot: usize) {
        self.disarm_timer(slot);
        let Some(r) = self.rec_mut(slot) else {
            return;
        };
        let had = r.sleep.take();
        if r.state != TaskState::Sleeping {
            // Paused while sleeping: the sleep is over; `resume` makes it ready.
            return;
        }
        let details = StateDetails {
            sleep_ms: had.map(|s| s.ms),
            deadline_ms: had.map(|s| s.deadline_ms),
            ..self.details_pc(slot)
        };
        if self
            .set_state(
                slot,
                TaskState::Ready,
                StateReason::SleepWake,
                Some(details),
            )
            .is_ok()
        {
            if let Some(r) = self.rec_mut(slot) {
                r.counters.wake += 1;
            }
            self.enqueue(slot);
        }
    }

    /// Apply every completed mailbox wait the manager has queued.
    pub(crate) fn process_completions(&mut self) {
        while self.mailboxes.has_completions() {
            for c in self.mailboxes.take_completions() {
                self.apply_completion(c);
            }
        }
    }

    /// Deferred completion of a blocked RECV: payload, R0..R4 and the info record go into the
    /// task's context; the task becomes ready (tail of the queue) unless it is paused.
    fn apply_completion(&mut self, c: Completion) {
        let Some(&slot) = self.pids.get(&c.pid) else {
            return;
        };
        if let Some(t) = self.vm.task_mut(slot) {
            let info = c.info_record();
            super::svc::deliver_recv(t, c.buf_ptr, c.payload(), c.regs(), c.info_ptr, &info);
        }
        self.disarm_timer(slot);
        let timed_out = c.timed_out();
        let Some(r) = self.rec_mut(slot) else {
            return;
        };
        r.wait = None;
        if timed_out {
            r.counters.timeout += 1;
        } else {
            r.counters.wake += 1;
        }
        if r.state != TaskState::WaitMbx {
            return;
        }
        let (length, flags, channel, src_pid) = c.message.as_ref().map_or((0, 0, 0, 0), |m| {
            (m.data.len() as u32, m.flags, m.channel, m.src_pid)
        });
        let details = StateDetails {
            descriptor: Some(c.descriptor),
            handle: Some(c.handle),
            status: Some(c.status),
            length: Some(length),
            flags: Some(flags),
            channel: Some(channel),
            src_pid: Some(src_pid),
            ..StateDetails::default()
        };
        let reason = if timed_out {
            StateReason::Timeout
        } else {
            StateReason::MailboxWake
        };
        if self
            .set_state(slot, TaskState::Ready, reason, Some(details))
            .is_ok()
        {
            self.enqueue(slot);
        }
    }

    /// Record a traced instruction: trace ring, `trace_step` event, watches.
    fn after_traced_step(&mut self, slot: usize) {
        #[cfg(feature = "development")]
        self.record_trace(slot);
        #[cfg(feature = "full")]
        self.check_watches(slot);
        #[cfg(not(feature = "development"))]
        let _ = slot;
    }

    #[cfg(feature = "development")]
    fn record_trace(&mut self, slot: usize) {
        use crate::event::{MemAccessRecord, MemOp, TraceRecord};
        let traced = self.rec(slot).is_some_and(|r| r.debug.trace);
        if !traced {
            return;
        }
        let Some(t) = self.vm.task(slot) else {
            return;
        };
        let Some(last) = t.last_trace().copied() else {
            return;
        };
        // Imported records may carry any `seq` (even u64::MAX); never overflow past them.
        self.trace_seq = self.trace_seq.saturating_add(1);
        let rec = TraceRecord {
            seq: self.trace_seq,
            pid: self.pid_of(slot),
            pc: last.pc,
            next_pc: t.pc(),
            opcode: last.word,
            extended_word: last.word2,
            flags: t.psw(),
            steps: t.steps(),
            regs: *t.regs(),
            changed: last.changed,
            mem_access: last.mem.map(|m| MemAccessRecord {
                op: match m.kind {
                    hsx_vm::AccessKind::Read => MemOp::Read,
                    hsx_vm::AccessKind::Write => MemOp::Write,
                },
                address: m.addr,
                width: m.width,
                value: m.value,
            }),
            ts_ms: self.now_ms,
        };
        let cap = self.trace_capacity;
        if cap > 0
            && let Some(r) = self.rec_mut(slot)
        {
            while r.debug.ring.len() >= cap {
                r.debug.ring.pop_front();
            }
            r.debug.ring.push_back(rec);
        }
        if self.trace_step_events {
            let pid = rec.pid;
            self.emit(Some(pid), EventKind::TraceStep(Box::new(rec)));
        }
    }

    #[cfg(feature = "full")]
    fn check_watches(&mut self, slot: usize) {
        use crate::event::WatchUpdate;
        let Some(r) = self.tasks.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if r.debug.watches.is_empty() {
            return;
        }
        let Some(t) = self.vm.task(slot) else {
            return;
        };
        let pid = r.pid;
        let mut updates = alloc::vec::Vec::new();
        let mut buf = [0u8; crate::debug::WATCH_MAX_LEN as usize];
        for w in &mut r.debug.watches {
            let len = (w.length as usize).min(buf.len());
            let Some(cur) = buf.get_mut(..len) else {
                continue;
            };
            let n = t.read_mem(w.address, cur);
            let now = cur.get(..n).unwrap_or_default();
            if now != w.value.as_slice() {
                let old = core::mem::replace(&mut w.value, now.to_vec());
                updates.push(WatchUpdate {
                    watch_id: w.id,
                    address: w.address,
                    length: w.length,
                    old,
                    new: w.value.clone(),
                });
            }
        }
        for u in updates {
            self.emit(Some(pid), EventKind::WatchUpdate(u));
        }
    }
}
