//! Guest command handlers: `cmd.call` (from the host, or CMD_CALL from the owner task)
//! of a command whose `.cmd` metadata names a handler in the task's code runs that handler
//! in the owner task's context — its registers saved, the handler run from its entry to its
//! `RET` on the task's own stack, the registers put back — and returns the handler's R0.
//!
//! A handler runs to completion within the call: it may use every SVC that does not wait
//! (UART, values, sends, files, …); one that would wait (sleep, a blocking receive,
//! TASK_EXIT), faults, stops at a BRK, calls another command or runs past
//! [`HANDLER_MAX_INSTRUCTIONS`] fails the call with `EFAIL`, and the task is left exactly as
//! it was before the call (its registers; memory the handler wrote stays written).

use hsx_vm::{Reg, StepResult};

use super::{Executive, TaskCode};
use crate::mailbox::func as mfn;
use crate::task_state::TaskState;
use crate::values::{Caller, CmdError};

/// Most instructions a guest command handler may run.
pub const HANDLER_MAX_INSTRUCTIONS: u64 = 1_000_000;

/// A task's context while one of its handlers runs.
struct Saved {
    regs: [u32; 16],
    pc: u32,
    psw: u32,
    depth: u32,
}

impl<C: TaskCode> Executive<C> {
    /// Before a command call: if the command has a guest handler and the call passes its
    /// checks, run the handler now and hand its outcome to the registry, which then
    /// completes the call with it (events, async completion frame).
    pub(crate) fn prepare_guest_call(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
        token: Option<&[u8]>,
        need_async: bool,
    ) {
        // Nothing left over from an earlier call.
        self.registry.set_guest_outcome(None);
        let Ok(Some((owner_pid, entry))) = self
            .registry
            .guest_handler(oid, owner, caller, token, need_async)
        else {
            return;
        };
        let outcome = self.run_guest_handler(owner_pid, entry);
        self.registry.set_guest_outcome(Some(outcome));
    }

    fn run_guest_handler(&mut self, pid: u32, entry: u32) -> Result<Option<u32>, CmdError> {
        let slot = self.slot_of(pid).map_err(|_| CmdError::NotFound)?;
        let state = self.rec(slot).map_or(TaskState::Terminated, |r| r.state);
        if matches!(state, TaskState::Faulted | TaskState::Terminated) || self.in_handler {
            return Err(CmdError::Failed);
        }
        let saved = {
            let t = self.vm.task_mut(slot).ok_or(CmdError::NotFound)?;
            let s = Saved {
                regs: *t.regs(),
                pc: t.pc(),
                psw: u32::from(t.psw()),
                depth: t.call_depth(),
            };
            t.reg_set(Reg::Pc, entry);
            t.set_call_depth(0);
            s
        };
        self.in_handler = true;
        let result = self.handler_loop(slot);
        self.in_handler = false;
        if let Some(t) = self.vm.task_mut(slot) {
            for (i, v) in (0u8..16).zip(saved.regs) {
                t.reg_set(Reg::gpr(i), v);
            }
            t.reg_set(Reg::Pc, saved.pc);
            t.reg_set(Reg::Psw, saved.psw);
            t.set_call_depth(saved.depth);
        }
        result
    }

    fn handler_loop(&mut self, slot: usize) -> Result<Option<u32>, CmdError> {
        let mut left = HANDLER_MAX_INSTRUCTIONS;
        while left > 0 {
            let Some(t) = self.vm.task_mut(slot) else {
                return Err(CmdError::NotFound);
            };
            let (n, res) = t.run(left);
            left = left.saturating_sub(n);
            if let Some(r) = self.rec_mut(slot) {
                r.counters.step += n;
            }
            match res {
                StepResult::Ok => {}
                StepResult::Exit { status } => return Ok(Some(status)),
                StepResult::Svc { module, func } => {
                    if self.svc_would_wait(slot, module, func) {
                        return Err(CmdError::Failed);
                    }
                    self.svc(slot, module, func);
                }
                StepResult::Break { .. } | StepResult::Fault { .. } => {
                    return Err(CmdError::Failed);
                }
            }
        }
        Err(CmdError::Failed)
    }

    /// SVCs a handler may not make: the ones that park or end the task, and command calls.
    fn svc_would_wait(&self, slot: usize, module: u8, func: u8) -> bool {
        let r = |i: u8| self.vm.task(slot).map_or(0, |t| t.reg_get(Reg::gpr(i)));
        match (module, func) {
            (0x1, 0) => true,
            (0x6, 0) => r(0) > 0,
            (mfn::MODULE, mfn::RECV) => r(4) != 0,
            (m, f) => {
                m == crate::values::cmd_fn::MODULE
                    && (f == crate::values::cmd_fn::CALL || f == crate::values::cmd_fn::CALL_ASYNC)
            }
        }
    }
}
