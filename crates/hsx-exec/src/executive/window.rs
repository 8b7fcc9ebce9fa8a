//! The exact fast path for long step calls: running every task of the ring ahead between
//! its SVCs in one VM call (`try_window`), then handing out the banked instructions slice
//! by slice (`exec_banked`) so that the result equals strict round-robin.

use hsx_vm::StepResult;

use super::sched::SliceEnd;
use super::{Executive, TaskCode, TaskRec};
use crate::task_state::{StateReason, TaskState};

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

/// Whether `SVC module, func` is answered from the calling task's own state alone (module 0:
/// CORE_GET_STEPS, and ENOSYS for its other functions), touches nothing else and never
/// blocks — so the fast path may service it the moment the task reaches it, wherever the
/// schedule stands. Must agree with `Executive::svc` for module 0.
const fn task_local_svc(module: u8, _func: u8) -> bool {
    module == 0
}

/// What `Executive::svc` does for a [`task_local_svc`]: R0 = steps before the SVC (func 0)
/// or ENOSYS.
fn answer_task_local_svc<C: hsx_vm::Code, M: hsx_vm::Memory>(t: &mut hsx_vm::Task<C, M>, func: u8) {
    let r0 = if func == 0 {
        t.steps().saturating_sub(1) as u32
    } else {
        hsx_vm::HSX_ERR_ENOSYS
    };
    t.reg_set(hsx_vm::Reg::R0, r0);
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

impl<C: TaskCode> Executive<C> {
    pub(super) fn banks_outstanding(&self) -> bool {
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
    pub(super) fn try_window(&mut self, remaining: u64) -> Result<u64, u32> {
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
                loop {
                    let (done, res) = t.run(cap - r.bank);
                    r.bank += done;
                    match res {
                        StepResult::Ok => {}
                        // Serviced on the spot: the answer depends only on the task itself,
                        // so the window goes on instead of ending at the SVC.
                        StepResult::Svc { module, func } if task_local_svc(module, func) => {
                            answer_task_local_svc(t, func);
                            if r.bank < cap {
                                continue;
                            }
                        }
                        _ => r.pending = Some(res),
                    }
                    break;
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

    /// Hand out instructions the fast path already executed; service the pending result
    /// when the schedule reaches it.
    pub(super) fn exec_banked(&mut self, slot: usize, want: u64) -> (u64, SliceEnd) {
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
}
