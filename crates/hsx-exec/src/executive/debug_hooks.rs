//! What the scheduler's slow path does for the debugger: the breakpoint gate, pausing at a
//! debug stop, and recording trace records and watch updates after each traced
//! instruction.

// Breakpoints and the trace ring exist only with the `development` feature.
#[cfg(feature = "development")]
use alloc::boxed::Box;

#[cfg(feature = "development")]
use hsx_vm::Task;

use super::{Executive, TaskCode};
#[cfg(feature = "development")]
use crate::event::{BreakPhase, BreakReason};
use crate::event::{DebugBreak, EventKind, StateDetails};
use crate::task_state::{StateReason, TaskState};

impl<C: TaskCode> Executive<C> {
    /// Breakpoint gate before an instruction: stop (task paused, `debug_break` phase `pre`)
    /// unless the step-over address lets this PC run once.
    pub(super) fn breakpoint_gate(&mut self, slot: usize) -> Option<DebugBreak> {
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
    pub(super) fn debug_stop(&mut self, slot: usize, b: DebugBreak) {
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

    /// Record a traced instruction: trace ring, `trace_step` event, watches. Returns the
    /// stop a changed stopping watch asks for; the caller applies it with
    /// [`Executive::watch_stop`] once the instruction's own effects (an SVC) are done.
    /// `pc` is where the instruction just executed started.
    pub(super) fn after_traced_step(&mut self, slot: usize, pc: u32) -> Option<DebugBreak> {
        #[cfg(feature = "development")]
        self.record_trace(slot);
        #[cfg(feature = "full")]
        return self.check_watches(slot, pc);
        #[cfg(not(feature = "full"))]
        {
            let _ = (slot, pc);
            None
        }
    }

    /// Stops the task for a watch break from [`Executive::after_traced_step`], unless
    /// the instruction already took it out of the run (it blocked, ended or faulted).
    pub(super) fn watch_stop(&mut self, slot: usize, b: DebugBreak) -> Option<DebugBreak> {
        if self.current != Some(slot) {
            return None;
        }
        let runnable = self.rec(slot).is_some_and(|r| r.state.is_runnable());
        if !runnable {
            return None;
        }
        self.debug_stop(slot, b);
        Some(b)
    }

    #[cfg(feature = "development")]
    fn record_trace(&mut self, slot: usize) {
        let traced = self.rec(slot).is_some_and(|r| r.debug.trace);
        if !traced {
            return;
        }
        let Some(rec) = self.trace_record(slot) else {
            return;
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

    /// The `trace_step` of a debugger step of an untraced task: its last instruction, for
    /// clients that keep a register cache from `trace_step` events. It is not kept in the
    /// trace ring (tracing is off).
    #[cfg(feature = "development")]
    pub(super) fn emit_step_snapshot(&mut self, slot: usize) {
        if let Some(rec) = self.trace_record(slot) {
            let pid = rec.pid;
            self.emit(Some(pid), EventKind::TraceStep(Box::new(rec)));
        }
    }

    /// A trace record of the task's last traced instruction.
    #[cfg(feature = "development")]
    fn trace_record(&mut self, slot: usize) -> Option<crate::event::TraceRecord> {
        use crate::event::{MemAccessRecord, MemOp, TraceRecord};
        let t = self.vm.task(slot)?;
        let last = t.last_trace().copied()?;
        // Imported records may carry any `seq` (even u64::MAX); never overflow past them.
        let seq = self.trace_seq.saturating_add(1);
        let rec = TraceRecord {
            seq,
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
        self.trace_seq = seq;
        Some(rec)
    }

    #[cfg(feature = "full")]
    fn check_watches(&mut self, slot: usize, insn_pc: u32) -> Option<DebugBreak> {
        use crate::event::WatchUpdate;
        let r = self.tasks.get_mut(slot).and_then(Option::as_mut)?;
        if r.debug.watches.is_empty() {
            return None;
        }
        let t = self.vm.task(slot)?;
        let pid = r.pid;
        let mut stop = None;
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
                if w.stop && stop.is_none() {
                    stop = Some(DebugBreak {
                        pid,
                        pc: insn_pc,
                        next_pc: t.pc(),
                        phase: BreakPhase::Post,
                        reason: BreakReason::Watch { id: w.id },
                    });
                }
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
        stop
    }
}
