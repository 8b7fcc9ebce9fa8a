//! Whole recordings across processes ([`RecordLog`], the content of `.hxr` files) and the
//! state hash that tells whether a replay reproduced its run.

use alloc::boxed::Box;

use super::record::{RecordConfig, RecordError, RecordLog, Recording, TravelReport};
use super::replay::Goal;
use super::{ExecError, Executive, TaskCode};

impl<C: TaskCode> Executive<C> {
    /// The whole recording since `record_start`, if it still reaches back there with
    /// nothing but step calls in it (no snapshot dropped, no host intervention after the
    /// first call); `None` otherwise.
    #[must_use]
    pub fn record_log(&self) -> Option<RecordLog> {
        let r = self.rec.as_deref()?;
        let first = r.snaps.front()?;
        if !r.complete || first.op != r.ops_base || r.past.is_some() {
            return None;
        }
        Some(RecordLog {
            start: first.time,
            end: r.end_time,
            ops: r.ops.iter().copied().collect(),
            tape: r.tape.entries.iter().cloned().collect(),
        })
    }

    /// Replay `log` on this executive, which must be in the state the recording started
    /// from (the same images loaded the same way, nothing run), up to instruction count
    /// `to` (default: its end). The replay emits the run's events again (its output); the
    /// host is not asked anything (file-system answers come from the log). Afterwards the
    /// executive holds the recording, so it can travel within it.
    ///
    /// # Errors
    /// [`RecordError::Diverged`] when the executive was not in the starting state;
    /// [`RecordError::HistoryEnd`] for `to` past the end.
    pub fn replay_log(
        &mut self,
        log: RecordLog,
        to: Option<u64>,
    ) -> Result<TravelReport, ExecError> {
        if self.total_executed != log.start {
            return Err(RecordError::Diverged(log.start).into());
        }
        let mut r = Recording::new(RecordConfig {
            interval: u64::MAX,
            max_snapshots: 1,
            max_bytes: usize::MAX,
            max_replay: u64::MAX,
        });
        r.end_time = log.end;
        r.keep_events = true;
        self.rec = Some(Box::new(r));
        self.take_snapshot();
        if let Some(r) = self.rec.as_deref_mut() {
            r.ops = log.ops.into_iter().collect();
            for e in log.tape {
                r.tape.push(e);
            }
        }
        let report = self.travel(Goal::Time(to.unwrap_or(log.end)), None);
        if let Some(r) = self.rec.as_deref_mut() {
            r.keep_events = false;
        }
        Ok(report?)
    }

    /// A hash of everything the guests can observe (registers, memory, task states and
    /// counters, mailboxes, values): equal hashes after a replay mean it reproduced the run.
    #[must_use]
    pub fn state_hash(&self) -> u64 {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        use core::fmt::Write as _;
        let _ = write!(h, "{}", self.total_executed);
        for (&pid, &slot) in self.pids.iter() {
            if let (Some(r), Some(t)) = (self.rec(slot), self.vm_task(slot)) {
                let _ = write!(
                    h,
                    "|{pid} {:?} {:?} {:?} {:?} {}",
                    r.state, r.exit_status, r.fault, r.wait, r.counters.step
                );
                let _ = write!(h, "{:?} {} {}", t.regs(), t.pc(), t.psw());
                h.bytes(&self.mem_vec(slot, 0, 0x1_0000));
            }
        }
        let _ = write!(h, "{:?}", self.runq);
        let _ = write!(h, "{:?}", self.mailboxes.snapshot());
        let _ = write!(
            h,
            "{:?}",
            self.val_list(&crate::values::ListFilter::default())
        );
        h.0
    }
}

/// FNV-1a over everything written.
struct Fnv(u64);

impl Fnv {
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl core::fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}
