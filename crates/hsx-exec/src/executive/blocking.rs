//! Parking and waking tasks: sleeps, mailbox waits, the timer heap, and the deferred
//! completion of blocked receives.

use super::{Executive, TaskCode, TimerKind};
use crate::event::StateDetails;
use crate::mailbox::Completion;
use crate::task_state::{StateReason, TaskState};

impl<C: TaskCode> Executive<C> {
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
        while let Some(t) = self.timers.first().copied() {
            if t.deadline > now {
                break;
            }
            self.timers.pop_first();
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
}
