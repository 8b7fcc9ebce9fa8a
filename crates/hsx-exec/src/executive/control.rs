//! Debugger and shell control of a task's life: pause, resume, scheduling parameters and
//! kill, and releasing what an ended task holds.

use super::{ExecError, Executive, TaskCode, TaskInfo};
#[allow(unused_imports)]
use crate::backend::FileSystem as _;
use crate::event::StateDetails;
use crate::task_state::{InvalidTransition, StateReason, TaskState};

impl<C: TaskCode> Executive<C> {
    /// Pause a task (`user_pause`). Waiting and sleeping tasks keep their pending wait or
    /// sleep; if it completes while paused the task resumes as `ready`. Pausing a paused task
    /// is allowed (a `task_state` event with `prev_state == new_state`).
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`]; [`ExecError::InvalidTransition`] for ended tasks.
    pub fn pause(&mut self, pid: u32) -> Result<TaskInfo, ExecError> {
        self.touch();
        let slot = self.slot_of(pid)?;
        self.refresh_clock();
        let details = self.details_pc(slot);
        self.set_state(
            slot,
            TaskState::Paused,
            StateReason::UserPause,
            Some(details),
        )?;
        self.dequeue(slot);
        self.task(pid)
    }

    /// Resume a paused task: it becomes the current task at once (the task that held the
    /// slice goes back to the head of the queue). If its mailbox wait or sleep is still
    /// pending it goes back to waiting/sleeping instead. Resuming from a PC that has a
    /// breakpoint executes that instruction (step-over). Resuming a task that is not paused
    /// but live is a no-op.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`]; [`ExecError::InvalidTransition`] for ended tasks.
    pub fn resume(&mut self, pid: u32) -> Result<TaskInfo, ExecError> {
        self.touch();
        let slot = self.slot_of(pid)?;
        self.refresh_clock();
        let st = self.rec(slot).map_or(TaskState::Terminated, |r| r.state);
        match st {
            TaskState::Paused => {}
            s if s.is_ended() => {
                return Err(ExecError::InvalidTransition(InvalidTransition {
                    pid,
                    from: Some(s),
                    to: TaskState::Running,
                }));
            }
            _ => return self.task(pid),
        }
        self.arm_step_over(slot);
        let (wait, sleep) = self.rec(slot).map_or((None, None), |r| (r.wait, r.sleep));
        if let Some(w) = wait {
            let d = self.details_pc(slot);
            self.set_state(slot, TaskState::Ready, StateReason::Resume, Some(d))?;
            let d = StateDetails {
                descriptor: Some(w.descriptor),
                handle: Some(w.handle),
                timeout: Some(w.timeout),
                deadline_ms: w.deadline_ms,
                ..StateDetails::default()
            };
            self.set_state(slot, TaskState::WaitMbx, StateReason::MailboxWait, Some(d))?;
        } else if let Some(s) = sleep {
            let d = self.details_pc(slot);
            self.set_state(slot, TaskState::Ready, StateReason::Resume, Some(d))?;
            let d = StateDetails {
                sleep_ms: Some(s.ms),
                deadline_ms: Some(s.deadline_ms),
                ..StateDetails::default()
            };
            self.set_state(slot, TaskState::Sleeping, StateReason::Sleep, Some(d))?;
        } else {
            self.make_current(slot, StateReason::Resume, true)?;
        }
        self.task(pid)
    }

    /// Set a task's quantum (clamped to ≥ 1) and/or priority.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn sched(
        &mut self,
        pid: u32,
        quantum: Option<u32>,
        priority: Option<u32>,
    ) -> Result<TaskInfo, ExecError> {
        self.touch();
        let slot = self.slot_of(pid)?;
        if let Some(r) = self.rec_mut(slot) {
            if let Some(q) = quantum {
                r.quantum = q.max(1);
            }
            if let Some(p) = priority {
                r.priority = p;
            }
        }
        self.task(pid)
    }

    /// Kill a task: it leaves the table after releasing its mailboxes (handles, waits, owned
    /// descriptors), values and commands, and file descriptors. Returns its last record (state
    /// `killed`, shown as `terminated`).
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn kill(&mut self, pid: u32) -> Result<TaskInfo, ExecError> {
        self.touch();
        let slot = self.slot_of(pid)?;
        self.refresh_clock();
        let details = self.details_pc(slot);
        self.set_state(slot, TaskState::Killed, StateReason::Killed, Some(details))?;
        self.dequeue(slot);
        self.disarm_timer(slot);
        if let Some(r) = self.rec_mut(slot) {
            r.bank = 0;
            r.pending = None;
        }
        self.release_task_resources(slot);
        self.registry.release_pid(pid);
        self.pump();
        let info = self.info_of(slot).ok_or(ExecError::UnknownPid(pid))?;
        self.pids.remove(&pid);
        if let Some(t) = self.tasks.get_mut(slot) {
            *t = None;
        }
        if let Some(s) = self.vm.store_mut().get_mut(slot) {
            *s = None;
        }
        Ok(info)
    }

    /// Release what an ended task holds in the mailbox manager and the file system.
    pub(crate) fn release_task_resources(&mut self, slot: usize) {
        let pid = self.pid_of(slot);
        let already = self.rec(slot).is_none_or(|r| r.resources_released);
        if !already {
            self.mailboxes.release_pid(pid);
            self.host_fs().release_pid(pid);
            self.stdio_desc.retain(|_, (p, _)| *p != pid);
            if let Some(r) = self.rec_mut(slot) {
                r.resources_released = true;
                r.stdio = None;
                r.wait = None;
            }
        }
        self.process_completions();
    }
}
