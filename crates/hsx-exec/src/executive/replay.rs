//! Recording live step calls and re-running them: `record_start`, `step_back`,
//! `reverse_continue`, `travel_to`, and the hooks the scheduler calls (see `record.rs`
//! for the model).

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::record::{
    Op, OpKind, Position, Probe, RecordConfig, RecordError, RecordStatus, Recording, TravelReport,
    TravelStop,
};
use super::taped::TapeMode;
use super::{ExecError, Executive, StepSummary, StopReason, TaskCode};
use crate::event::EventQueue;

/// Longest recorded call while timers are pending (a sleeper wakes at most this many
/// instructions late, as with the live clock poll).
const CHUNK_TIMERS: u64 = 4096;
/// Longest recorded call otherwise.
const CHUNK_IDLE: u64 = 65_536;

/// The debugger configuration of one task, carried across a travel.
struct DebugConfig {
    pid: u32,
    bps: Vec<u32>,
    watches: Vec<(u32, u32, u32, bool)>,
    trace: bool,
}

/// What a re-run is after.
#[derive(Clone, Copy)]
pub(super) enum Goal {
    /// Stop at this global instruction count.
    Time(u64),
    /// Stop when task `pid` has retired `count` instructions (or at `limit`).
    Count { pid: u32, count: u64 },
}

impl<C: TaskCode> Executive<C> {
    // ------------------------------------------------------------------ control

    /// Start recording (or restart: the old history is dropped). A snapshot is taken now;
    /// from here on [`Executive::step_back`] and [`Executive::reverse_continue`] can travel
    /// back to any instruction as long as the history's bounds keep it.
    pub fn record_start(&mut self, config: RecordConfig) {
        let mut r = Recording::new(config);
        r.end_time = self.total_executed;
        self.rec = Some(Box::new(r));
        self.take_snapshot();
    }

    /// Stop recording and free the history.
    pub fn record_stop(&mut self) {
        self.rec = None;
    }

    /// The recording's extent, or `None` when not recording.
    #[must_use]
    pub fn record_status(&self) -> Option<RecordStatus> {
        let r = self.rec.as_deref()?;
        Some(RecordStatus {
            config: r.cfg,
            oldest: r.snaps.front().map_or(r.end_time, |s| s.time),
            newest: r.end_time,
            position: self.total_executed,
            snapshots: r.snaps.len(),
            bytes: r.bytes(),
            ops: r.ops.len(),
        })
    }

    /// Whether the executive is at a point in the past of its recording.
    #[must_use]
    pub fn in_past(&self) -> bool {
        self.rec.as_ref().is_some_and(|r| r.past.is_some())
    }

    // -------------------------------------------------------------- live hooks

    /// `step(budget)` while recording: logged in chunks, each with one clock reading.
    pub(super) fn recorded_step(&mut self, budget: u64) -> StepSummary {
        let mut total: Option<StepSummary> = None;
        let mut left = budget;
        loop {
            let chunk = if self.timers.is_empty() {
                CHUNK_IDLE
            } else {
                CHUNK_TIMERS
            };
            let interval = self.rec.as_ref().map_or(chunk, |r| r.cfg.interval.max(1));
            let n = left.min(chunk).min(interval);
            let s = self.recorded_op(OpKind::Step { budget: n });
            left -= s.executed;
            let stop = s.stop;
            total = Some(match total {
                None => s,
                Some(mut t) => {
                    t.executed += s.executed;
                    t.last_pid = s.last_pid.or(t.last_pid);
                    t.next_pid = s.next_pid;
                    t.stop = s.stop;
                    t.debug_break = t.debug_break.or(s.debug_break);
                    t
                }
            });
            if left == 0 || stop != StopReason::Budget || s.executed < n {
                break;
            }
        }
        total.unwrap_or_else(|| self.run_step(0))
    }

    /// Run one logged op live: leave the past, snapshot if due, freeze the clock.
    pub(super) fn recorded_op(&mut self, kind: OpKind) -> StepSummary {
        self.touch_live_op();
        let due = self.rec.as_deref().is_some_and(|r| {
            r.dirty || self.total_executed.wrapping_sub(r.last_snap_time) >= r.cfg.interval
        });
        if due {
            self.take_snapshot();
        }
        let clock = self.clock.now_ms().max(self.now_ms);
        let (time, tape) = (
            self.total_executed,
            self.rec.as_ref().map_or(0, |r| r.tape.end()),
        );
        if let Some(r) = self.rec.as_deref_mut() {
            r.frozen_clock = Some(clock);
        }
        let s = match kind {
            OpKind::Step { budget } => self.run_step(budget),
            OpKind::StepPid { pid, n } => self
                .run_step_pid(pid, n)
                .unwrap_or_else(|_| self.run_step(0)),
        };
        if let Some(r) = self.rec.as_deref_mut() {
            r.frozen_clock = None;
            r.ops.push_back(Op {
                time,
                clock,
                kind,
                executed: s.executed,
                tape,
                halt: None,
            });
            r.end_time = self.total_executed;
            r.enforce_bounds();
        }
        s
    }

    /// A live op from a point in the past discards the recorded future.
    fn touch_live_op(&mut self) {
        if let Some(r) = self.rec.as_deref_mut()
            && let Some(at) = r.past
        {
            r.truncate(at);
        }
    }

    // ------------------------------------------------------------------ travel

    /// Go back `n` instructions of task `pid`: the whole executive returns to the moment
    /// just after that task's instruction number `retired − n` (every task is where it was
    /// then). The breakpoints and watches of now stay set.
    ///
    /// # Errors
    /// [`RecordError`] inside [`ExecError::Record`]; [`ExecError::UnknownPid`].
    pub fn step_back(&mut self, pid: u32, n: u64) -> Result<TravelReport, ExecError> {
        let slot = self.slot_of(pid)?;
        let now = self.rec(slot).map_or(0, |r| r.counters.step);
        let target = now
            .checked_sub(n.max(1))
            .ok_or_else(|| self.start_error())?;
        Ok(self.travel(Goal::Count { pid, count: target }, None)?)
    }

    /// Run backwards until task `pid` is at one of its breakpoints (about to execute it)
    /// or just after an instruction that changed one of its watches, the latest such
    /// point before now.
    ///
    /// # Errors
    /// [`RecordError::NoEarlierStop`] when the history has none; other [`RecordError`]s.
    pub fn reverse_continue(&mut self, pid: u32) -> Result<TravelReport, ExecError> {
        let slot = self.slot_of(pid)?;
        let now_count = self.rec(slot).map_or(0, |r| r.counters.step);
        let mut probe = self.present_probe(slot);
        probe.hit_before = now_count;
        let now = self.total_executed;
        self.leave_present();
        let r = self.rec.as_deref().ok_or(RecordError::NotRecording)?;
        let mut idx: Vec<usize> = (0..r.snaps.len())
            .filter(|&i| r.snaps.get(i).is_some_and(|s| s.time <= now))
            .collect();
        idx.reverse();
        let mut replayed = 0u64;
        let mut upto = now;
        for i in idx {
            let (start, has_pid) = match self.rec.as_deref().and_then(|r| r.snaps.get(i)) {
                Some(s) => (s.time, s.counts.iter().any(|&(p, _)| p == pid)),
                None => continue,
            };
            let mut p = probe.clone();
            let mut rep = TravelReport::default_at(now);
            let found = self.rerun(i, Goal::Time(upto), Some(&mut p), &mut rep);
            replayed += rep.replayed;
            found?;
            if let Some((count, stop)) = p.last_hit {
                let mut report = self.travel(Goal::Count { pid, count }, None)?;
                self.arm_step_over(slot);
                report.replayed += replayed;
                report.stop = Some(stop);
                return Ok(report);
            }
            if !has_pid {
                break;
            }
            upto = start;
        }
        // Nothing found: back where we were.
        self.travel(Goal::Time(now), None)?;
        Err(RecordError::NoEarlierStop.into())
    }

    /// Go to global instruction count `time` (any point of the recorded history).
    ///
    /// # Errors
    /// [`RecordError`]s.
    pub fn travel_to(&mut self, time: u64) -> Result<TravelReport, ExecError> {
        Ok(self.travel(Goal::Time(time), None)?)
    }

    /// While in the past, `step_pid` moves forward through the recorded future; what the
    /// future does not hold runs live after its end.
    pub(super) fn replay_step_pid(&mut self, pid: u32, n: u64) -> Result<StepSummary, ExecError> {
        let slot = self.slot_of(pid)?;
        let before = self.rec(slot).map_or(0, |r| r.counters.step);
        let end = self.rec.as_ref().map_or(0, |r| r.end_time);
        let goal = Goal::Count {
            pid,
            count: before.saturating_add(n),
        };
        match self.travel(goal, None) {
            Ok(_) => {}
            Err(RecordError::HistoryEnd(_)) => {
                self.travel(Goal::Time(end), None)?;
            }
            Err(e) => return Err(e.into()),
        }
        let replayed = self.rec(slot).map_or(0, |r| r.counters.step) - before;
        if replayed < n && !self.in_past() {
            let mut s = self.step_pid(pid, n - replayed)?;
            s.executed += replayed;
            return Ok(s);
        }
        let next_pid = self.next_pid();
        Ok(StepSummary {
            executed: replayed,
            last_pid: Some(pid),
            next_pid,
            stop: StopReason::Budget,
            debug_break: None,
        })
    }

    fn start_error(&self) -> RecordError {
        match self.rec.as_deref() {
            None => RecordError::NotRecording,
            Some(r) => RecordError::HistoryStart(r.snaps.front().map_or(r.end_time, |s| s.time)),
        }
    }

    /// Travel to `goal`: pick the snapshot, re-run, settle the position.
    pub(super) fn travel(
        &mut self,
        goal: Goal,
        probe: Option<&mut Probe>,
    ) -> Result<TravelReport, RecordError> {
        self.leave_present();
        let r = self.rec.as_deref().ok_or(RecordError::NotRecording)?;
        if r.probe.is_some() {
            return Err(RecordError::NotRecording);
        }
        let end = r.end_time;
        let oldest = r.snaps.front().map_or(end, |s| s.time);
        let pick = match goal {
            Goal::Time(t) => {
                if t > end {
                    return Err(RecordError::HistoryEnd(end));
                }
                r.snaps.iter().rposition(|s| s.time <= t)
            }
            Goal::Count { pid, count } => r
                .snaps
                .iter()
                .rposition(|s| s.counts.iter().any(|&(p, c)| p == pid && c <= count)),
        }
        .ok_or(RecordError::HistoryStart(oldest))?;
        let mut probe_local;
        let probe = match (goal, probe) {
            (_, Some(p)) => Some(p),
            (Goal::Count { pid, count }, None) => {
                let slot = self
                    .slot_of(pid)
                    .map_err(|_| RecordError::HistoryStart(oldest))?;
                probe_local = Probe {
                    slot,
                    until_count: Some(count),
                    ..Probe::default()
                };
                Some(&mut probe_local)
            }
            (Goal::Time(_), None) => None,
        };
        let mut report = TravelReport::default_at(self.total_executed);
        let goal = match goal {
            // Counts are bounded by the end of the history.
            Goal::Count { .. } => Goal::Time(end),
            g => g,
        };
        let reached_count = probe.as_ref().and_then(|p| p.until_count);
        let halted = {
            let mut p = probe;
            self.rerun(pick, goal, p.as_deref_mut(), &mut report)?;
            p.is_some_and(|p| p.halted)
        };
        if reached_count.is_some() && !halted {
            return Err(RecordError::HistoryEnd(end));
        }
        Ok(report)
    }

    /// Restore snapshot `idx` and re-run the logged ops up to `goal` (or until the probe
    /// halts). Leaves the executive at the reached point with the present debugger
    /// configuration, its position recorded in `past`.
    fn rerun(
        &mut self,
        idx: usize,
        goal: Goal,
        mut probe: Option<&mut Probe>,
        report: &mut TravelReport,
    ) -> Result<(), RecordError> {
        let config = self.debug_config();
        let run_ahead = self.cfg.run_ahead;
        let keep_events = self.rec.as_ref().is_some_and(|r| r.keep_events);
        let live_events =
            (!keep_events).then(|| core::mem::replace(&mut self.events, EventQueue::new(0)));
        let live_persist = self.registry.swap_persist(Some(Box::new(DropStore)));
        let mut rec = self.rec.take().ok_or(RecordError::NotRecording)?;
        let (result, pos) = {
            let snap = rec.snaps.get(idx).ok_or(RecordError::HistoryStart(0))?;
            self.restore(&snap.state);
            if !keep_events {
                self.events.set_enabled(false);
            }
            let start_op = snap.op;
            let start_tape = snap.tape;
            rec.mode = TapeMode::Replay(start_tape);
            let max = rec.cfg.max_replay;
            if let Some(p) = probe.as_deref_mut() {
                self.probe_init(p);
            }
            let mut pos = Position {
                time: self.total_executed,
                op: start_op,
                offset: 0,
                tape: start_tape,
            };
            let mut result = Ok(());
            let ops: Vec<Op> = rec
                .ops
                .iter()
                .skip(usize::try_from(start_op.saturating_sub(rec.ops_base)).unwrap_or(usize::MAX))
                .copied()
                .collect();
            let goal_time = match goal {
                Goal::Time(t) => t,
                Goal::Count { .. } => rec.end_time,
            };
            // The end of the history is the state after its last call, empty calls at the
            // same instruction count included.
            let to_end = goal_time >= rec.end_time;
            rec.probe = probe.as_deref().cloned();
            self.rec = Some(rec);
            for (k, op) in ops.iter().enumerate() {
                let op_index = start_op + k as u64;
                if (self.total_executed >= goal_time && !to_end)
                    || self
                        .rec
                        .as_ref()
                        .and_then(|r| r.probe.as_ref())
                        .is_some_and(|p| p.halted)
                {
                    break;
                }
                if self.total_executed != op.time {
                    result = Err(RecordError::Diverged(op.time));
                    break;
                }
                if report.replayed > max {
                    result = Err(RecordError::ReplayLimit(max));
                    break;
                }
                let limit = goal_time
                    .saturating_sub(op.time)
                    .min(op.halt.unwrap_or(u64::MAX));
                let whole = limit >= op.executed && op.halt.is_none();
                let probing = self.rec.as_ref().is_some_and(|r| r.probe.is_some());
                self.cfg.run_ahead = run_ahead && whole && !probing;
                if let Some(r) = self.rec.as_deref_mut() {
                    r.frozen_clock = Some(op.clock);
                    r.halt_at = (!whole).then_some(limit);
                    r.mode = TapeMode::Replay(op.tape);
                }
                let s = match op.kind {
                    OpKind::Step { budget } => self.run_step(budget),
                    OpKind::StepPid { pid, n } => match self.run_step_pid(pid, n) {
                        Ok(s) => s,
                        Err(_) => {
                            result = Err(RecordError::Diverged(op.time));
                            break;
                        }
                    },
                };
                report.replayed += s.executed;
                let done_whole = s.executed == op.executed;
                let tape_now = match self.rec.as_ref().map(|r| r.mode) {
                    Some(TapeMode::Replay(t)) => t,
                    _ => op.tape,
                };
                pos = Position {
                    time: self.total_executed,
                    op: if done_whole { op_index + 1 } else { op_index },
                    offset: if done_whole { 0 } else { s.executed },
                    tape: tape_now,
                };
                if !done_whole
                    && !self
                        .rec
                        .as_ref()
                        .and_then(|r| r.probe.as_ref())
                        .is_some_and(|p| p.halted)
                    && s.executed < limit
                {
                    result = Err(RecordError::Diverged(op.time));
                    break;
                }
            }
            (result, pos)
        };
        // Back to live settings.
        self.cfg.run_ahead = run_ahead;
        if let Some(ev) = live_events {
            self.events = ev;
            let _ = self.mailboxes.take_events();
            let _ = self.registry.take_events();
        }
        self.registry.swap_persist(live_persist);
        if let Some(r) = self.rec.as_deref_mut() {
            r.mode = TapeMode::Record;
            r.frozen_clock = None;
            r.halt_at = None;
            if let (Some(p), Some(out)) = (r.probe.take(), probe) {
                *out = p;
            }
            r.past = (pos.time < r.end_time || pos.op < r.ops_end()).then_some(pos);
        }
        self.apply_debug_config(&config);
        report.position = self.total_executed;
        report.at_end = !self.in_past();
        if let Err(e) = &result
            && matches!(e, RecordError::Diverged(_))
        {
            // The history cannot be trusted any more; keep running live from here.
            let cfg = self.rec.as_ref().map(|r| r.cfg).unwrap_or_default();
            self.record_start(cfg);
        }
        result
    }

    // --------------------------------------------------------- step-loop hooks

    /// Whether a re-run asks the step loop to stop now (`executed` = done in this call).
    #[inline]
    pub(super) fn rec_halt(&self, executed: u64) -> bool {
        self.rec.as_deref().is_some_and(|r| {
            r.halt_at.is_some_and(|h| executed >= h) || r.probe.as_ref().is_some_and(|p| p.halted)
        })
    }

    /// Instructions slot `slot` may run in one go during a re-run.
    #[inline]
    pub(super) fn rec_clamp(&self, slot: usize, want: u64, executed: u64) -> u64 {
        let Some(r) = self.rec.as_deref() else {
            return want;
        };
        let mut w = want;
        if let Some(h) = r.halt_at {
            w = w.min(h.saturating_sub(executed));
        }
        if let Some(p) = &r.probe
            && p.slot == slot
        {
            w = w.min(1);
        }
        w
    }

    /// After a slice during a re-run: look at the probed task.
    pub(super) fn rec_after_slice(&mut self, slot: usize) {
        let Some(mut p) = self.rec.as_deref_mut().and_then(|r| r.probe.take()) else {
            return;
        };
        if p.slot == slot {
            self.probe_check(&mut p);
        }
        if let Some(r) = self.rec.as_deref_mut() {
            r.probe = Some(p);
        }
    }

    fn probe_init(&self, p: &mut Probe) {
        let slot = p.slot;
        for w in &mut p.watches {
            w.3 = self.mem_vec(slot, w.1, w.2);
        }
        p.halted = false;
        p.last_hit = None;
        self.probe_check_bp(p);
        if let Some(u) = p.until_count
            && self.rec(slot).is_some_and(|r| r.counters.step >= u)
        {
            p.halted = true;
        }
    }

    fn probe_check(&self, p: &mut Probe) {
        let slot = p.slot;
        let count = self.rec(slot).map_or(0, |r| r.counters.step);
        for w in &mut p.watches {
            let now = self.mem_vec(slot, w.1, w.2);
            if now != w.3 {
                w.3 = now;
                if count < p.hit_before {
                    p.last_hit = Some((count, TravelStop::Watch(w.0)));
                }
            }
        }
        self.probe_check_bp(p);
        if let Some(u) = p.until_count
            && count >= u
        {
            p.halted = true;
        }
    }

    fn probe_check_bp(&self, p: &mut Probe) {
        let slot = p.slot;
        let count = self.rec(slot).map_or(0, |r| r.counters.step);
        if count >= p.hit_before {
            return;
        }
        if let Some(pc) = self.vm_task(slot).map(|t| t.pc())
            && p.bps.contains(&pc)
        {
            p.last_hit = Some((count, TravelStop::Breakpoint(pc)));
        }
    }

    /// The present breakpoints and watches of `slot` as a probe.
    fn present_probe(&self, slot: usize) -> Probe {
        let mut p = Probe {
            slot,
            ..Probe::default()
        };
        if let Some(r) = self.rec(slot) {
            #[cfg(feature = "development")]
            {
                p.bps = r.debug.bps.list();
            }
            #[cfg(feature = "full")]
            {
                p.watches = r
                    .debug
                    .watches
                    .iter()
                    .map(|w| (w.id, w.address, w.length, Vec::new()))
                    .collect();
            }
            let _ = r;
        }
        p
    }

    fn debug_config(&self) -> Vec<DebugConfig> {
        self.pids
            .iter()
            .filter_map(|(&pid, &slot)| {
                let r = self.rec(slot)?;
                #[cfg(feature = "development")]
                let bps = r.debug.bps.list();
                #[cfg(not(feature = "development"))]
                let bps = Vec::new();
                #[cfg(feature = "full")]
                let watches = r
                    .debug
                    .watches
                    .iter()
                    .map(|w| (w.id, w.address, w.length, w.stop))
                    .collect();
                #[cfg(not(feature = "full"))]
                let watches = Vec::new();
                Some(DebugConfig {
                    pid,
                    bps,
                    watches,
                    trace: r.debug.trace,
                })
            })
            .collect()
    }

    fn apply_debug_config(&mut self, config: &[DebugConfig]) {
        let mut max_watch = self.next_watch_id;
        for c in config {
            let Ok(slot) = self.slot_of(c.pid) else {
                continue;
            };
            #[cfg(feature = "full")]
            let values: Vec<Vec<u8>> = c
                .watches
                .iter()
                .map(|w| self.mem_vec(slot, w.1, w.2))
                .collect();
            let Some(r) = self.rec_mut(slot) else {
                continue;
            };
            #[cfg(feature = "development")]
            {
                r.debug.bps.clear();
                for &a in &c.bps {
                    r.debug.bps.add(a);
                }
            }
            #[cfg(feature = "full")]
            {
                r.debug.watches = c
                    .watches
                    .iter()
                    .zip(values)
                    .map(|(w, value)| crate::debug::WatchState {
                        id: w.0,
                        address: w.1,
                        length: w.2,
                        value,
                        stop: w.3,
                    })
                    .collect();
                for w in &c.watches {
                    max_watch = max_watch.max(w.0.saturating_add(1));
                }
            }
            r.debug.trace = c.trace;
            r.debug.skip_bp_at = None;
            r.debug.refresh();
            let trace = c.trace;
            if let Some(t) = self.vm_task_mut(slot) {
                t.set_trace(trace);
            }
        }
        self.next_watch_id = max_watch;
    }
}

impl<C: TaskCode> Executive<C> {
    /// `len` bytes of a task's memory at `addr` (unmapped bytes read as 0).
    pub(super) fn mem_vec(&self, slot: usize, addr: u32, len: u32) -> Vec<u8> {
        let mut b = alloc::vec![0u8; len as usize];
        if let Some(t) = self.vm_task(slot) {
            t.read_mem(addr, &mut b);
        }
        b
    }

    /// Before leaving the present: snapshot it if it holds a host intervention the
    /// history does not, so that the end stays reachable.
    fn leave_present(&mut self) {
        if self
            .rec
            .as_deref()
            .is_some_and(|r| r.past.is_none() && r.dirty)
        {
            self.take_snapshot();
        }
    }
}

impl TravelReport {
    fn default_at(position: u64) -> Self {
        Self {
            position,
            replayed: 0,
            at_end: false,
            stop: None,
        }
    }
}

/// The persistence store of a re-run: the recorded run already wrote what it wrote.
struct DropStore;

impl crate::persist::Persist for DropStore {
    fn load(&mut self, _key: u16) -> Option<u16> {
        None
    }
    fn store(&mut self, _key: u16, _bits: u16) -> Result<(), crate::persist::PersistError> {
        Ok(())
    }
}
