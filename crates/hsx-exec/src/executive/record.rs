//! Deterministic record/replay (feature `record`): the history that reverse execution
//! travels in.
//!
//! Between two host interventions the executive is a pure function of its state, the step
//! calls it is given and the clock readings and host answers it gets. A recording keeps:
//!
//! * **snapshots**: copies of the whole executive state (every task's registers, memory,
//!   scheduler and debugger state, mailboxes, values) taken every
//!   [`RecordConfig::interval`] instructions and after every host intervention (`load`,
//!   `poke`, `send`, `val.set`, `kill`, …), in a ring bounded by count and bytes;
//! * **the op log**: every step call since the oldest snapshot — its budget and the one
//!   clock reading it ran with (while recording, time stands still within a call);
//! * **the tape**: every answer the host gave a guest since then (file-system results and
//!   data, CAN status), replayed instead of asking the host again.
//!
//! Any point since the oldest snapshot is reached by restoring the snapshot before it and
//! re-running the logged calls up to it; the breakpoints and watches in effect *now* are put
//! back afterwards (debugger configuration is not part of the past). Going back leaves the
//! future recorded: moving forward through it replays it; anything that changes the run (a
//! step of the whole system, a `poke`, a `load`, …) discards it and continues live.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::taped::{Tape, TapeMode};
use super::{Executive, Store, TaskCode, TaskRec, Timer};
use crate::mailbox::{MailboxManager, StdioStream};
use crate::values::Registry;
use crate::vecmap::{VecMap, VecSet};
use hsx_vm::{CodeView, Vm};

/// How much history a recording keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordConfig {
    /// Instructions between periodic snapshots: a step back re-runs at most about this
    /// many instructions.
    pub interval: u64,
    /// Snapshots kept; the oldest is dropped first (and the history before it).
    pub max_snapshots: usize,
    /// Bytes the snapshots and the tape may hold together.
    pub max_bytes: usize,
    /// Instructions one reverse request may re-run before it gives up
    /// ([`RecordError::ReplayLimit`]).
    pub max_replay: u64,
}

impl Default for RecordConfig {
    fn default() -> Self {
        Self {
            interval: 1 << 20,
            max_snapshots: 64,
            max_bytes: 64 << 20,
            max_replay: 2_000_000_000,
        }
    }
}

/// What a recording holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordStatus {
    /// The settings.
    pub config: RecordConfig,
    /// Earliest instruction count that can be travelled to.
    pub oldest: u64,
    /// Latest recorded instruction count (the live end of the history).
    pub newest: u64,
    /// Where the executive is now (`< newest` after going back).
    pub position: u64,
    /// Snapshots held.
    pub snapshots: usize,
    /// Bytes held by snapshots and tape.
    pub bytes: usize,
    /// Step calls logged.
    pub ops: usize,
}

/// Why a reverse request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// No recording is running (`record start` first).
    #[error("not_recording: no recording is running (start one with `record start`)")]
    NotRecording,
    /// The point asked for is before the oldest snapshot (or before the task existed).
    #[error("history_start: the recording reaches back only to instruction {0}")]
    HistoryStart(u64),
    /// The point asked for is after the end of the history.
    #[error("history_end: the recording ends at instruction {0}")]
    HistoryEnd(u64),
    /// No breakpoint or watch hit in the recorded history before now.
    #[error("no_earlier_stop: no breakpoint or watch of the task was hit earlier in the recording")]
    NoEarlierStop,
    /// The re-run would exceed [`RecordConfig::max_replay`].
    #[error("replay_limit: getting there would re-run more than {0} instructions")]
    ReplayLimit(u64),
    /// A re-run did not reproduce the recording (a bug; the history is dropped).
    #[error(
        "replay_diverged: the re-run differed from the recording at instruction {0}; the history was dropped"
    )]
    Diverged(u64),
}

/// Where a travel ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TravelReport {
    /// Instruction count (all tasks) the executive is at now.
    pub position: u64,
    /// Instructions re-run to get there.
    pub replayed: u64,
    /// Whether this is the live end of the history.
    pub at_end: bool,
    /// For a reverse continue: the breakpoint address or watch id that stopped it.
    pub stop: Option<TravelStop>,
}

/// What a reverse continue stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TravelStop {
    /// About to execute the instruction at this breakpoint address.
    Breakpoint(u32),
    /// Just after the instruction that changed this watch.
    Watch(u32),
}

pub use super::taped::TapeEntry;

/// A logged executive call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// `step(budget)`.
    Step {
        /// Instructions asked for.
        budget: u64,
    },
    /// `step_pid(pid, n)`.
    StepPid {
        /// Task.
        pid: u32,
        /// Instructions asked for.
        n: u64,
    },
}

/// One logged call: when it started, with which clock reading, what it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    /// Instruction count (all tasks) when it started.
    pub time: u64,
    /// The clock reading it ran with.
    pub clock: u64,
    /// What it ran.
    pub kind: OpKind,
    /// Instructions it executed (its end is `time + executed`).
    pub executed: u64,
    /// Global tape index when it started.
    pub tape: u64,
    /// The run went live again after this many instructions of the call (the rest of it
    /// was discarded with the future it led to).
    pub halt: Option<u64>,
}

/// A whole recording from its start, to be replayed in another process (`.hxr` files):
/// the executive it is replayed on must be in the state the recording started from (the
/// same images loaded the same way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLog {
    /// Instruction count when recording started.
    pub start: u64,
    /// Instruction count at its end.
    pub end: u64,
    /// Every step call, in order.
    pub ops: Vec<Op>,
    /// Every host answer, in order.
    pub tape: Vec<TapeEntry>,
}

/// A point in the history: inside op `op` (global index) after `offset` of its
/// instructions (`offset` 0: at its start), at global tape index `tape`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub time: u64,
    pub op: u64,
    pub offset: u64,
    pub tape: u64,
}

/// The executive's state without its host parts (clock, file system, HAL, persistence
/// store, host handlers), the event queue (output, not state) and scratch space.
pub(crate) struct State<C: TaskCode> {
    cfg: super::ExecConfig,
    vm: Vm<Store<C>>,
    tasks: Vec<Option<TaskRec>>,
    pids: VecMap<u32, usize>,
    next_pid: u32,
    runq: VecDeque<usize>,
    current: Option<usize>,
    slice_left: u64,
    timers: VecSet<Timer>,
    timer_seq: u64,
    now_ms: u64,
    mailboxes: MailboxManager,
    registry: Registry,
    stdio_desc: VecMap<u32, (u32, StdioStream)>,
    reported: Option<(u32, super::TaskState)>,
    trace_step_events: bool,
    trace_capacity: usize,
    trace_seq: u64,
    next_watch_id: u32,
    total_executed: u64,
}

/// A snapshot: the state at the start of op number `op` (global op index).
pub(crate) struct Snapshot<C: TaskCode> {
    pub time: u64,
    pub op: u64,
    pub tape: u64,
    pub bytes: usize,
    /// Instructions retired per pid at `time` (to pick the snapshot for a step back).
    pub counts: Vec<(u32, u64)>,
    pub state: Box<State<C>>,
}

/// A per-instruction check while re-running (step-back targets, reverse-continue hits).
#[derive(Debug, Clone, Default)]
pub(crate) struct Probe {
    pub slot: usize,
    /// Halt when the task has retired this many instructions.
    pub until_count: Option<u64>,
    /// Breakpoint addresses of the present (hits: about to execute one).
    pub bps: Vec<u32>,
    /// Watches of the present: (id, address, length, value before the instruction).
    pub watches: Vec<(u32, u32, u32, Vec<u8>)>,
    /// Last hit seen: (task count, stop).
    pub last_hit: Option<(u64, super::record::TravelStop)>,
    /// Only hits at counts strictly below this count.
    pub hit_before: u64,
    /// Set when the probe asks the step loop to stop.
    pub halted: bool,
}

/// The history (see the module documentation).
pub(crate) struct Recording<C: TaskCode> {
    pub cfg: RecordConfig,
    pub snaps: VecDeque<Snapshot<C>>,
    pub ops: VecDeque<Op>,
    /// Global index of `ops[0]`.
    pub ops_base: u64,
    pub tape: Tape,
    pub mode: TapeMode,
    /// A host intervention since the last snapshot.
    pub dirty: bool,
    /// Clock reading of the op in progress (time stands still within an op).
    pub frozen_clock: Option<u64>,
    /// Where the executive is after going back in time (the recorded future follows).
    pub past: Option<Position>,
    /// Live end of the history: instruction count after the last op.
    pub end_time: u64,
    /// Global instruction limit for the step call being re-run (halt when reached).
    pub halt_at: Option<u64>,
    pub probe: Option<Probe>,
    pub snap_bytes: usize,
    /// The last snapshot's time (for the periodic interval).
    pub last_snap_time: u64,
    /// The history still reaches back to the start of the recording with nothing but
    /// logged calls in it (it can be exported as a [`RecordLog`]).
    pub complete: bool,
    /// Re-runs emit their events (`hsx replay` shows the output again).
    pub keep_events: bool,
}

impl<C: TaskCode> Recording<C> {
    pub(crate) fn new(cfg: RecordConfig) -> Self {
        Self {
            cfg,
            snaps: VecDeque::new(),
            ops: VecDeque::new(),
            ops_base: 0,
            tape: Tape::default(),
            mode: TapeMode::Record,
            dirty: true,
            frozen_clock: None,
            past: None,
            end_time: 0,
            halt_at: None,
            probe: None,
            snap_bytes: 0,
            last_snap_time: 0,
            complete: true,
            keep_events: false,
        }
    }

    pub(crate) fn ops_end(&self) -> u64 {
        self.ops_base + self.ops.len() as u64
    }

    pub(crate) fn bytes(&self) -> usize {
        self.snap_bytes + self.tape.bytes + self.ops.len() * core::mem::size_of::<Op>()
    }

    /// Drop the oldest snapshots (and the ops and tape before the new oldest) until the
    /// bounds hold; the newest snapshot always stays.
    pub(crate) fn enforce_bounds(&mut self) {
        while self.snaps.len() > 1
            && (self.snaps.len() > self.cfg.max_snapshots.max(1)
                || self.bytes() > self.cfg.max_bytes)
        {
            if let Some(old) = self.snaps.pop_front() {
                self.snap_bytes -= old.bytes;
            }
            self.complete = false;
            if let Some(first) = self.snaps.front() {
                while self.ops_base < first.op && self.ops.pop_front().is_some() {
                    self.ops_base += 1;
                }
                let keep = first.tape;
                self.tape.drop_before(keep);
            }
        }
    }

    /// Forget everything after `at`: the run continues differently from there.
    pub(crate) fn truncate(&mut self, at: Position) {
        while self
            .snaps
            .back()
            .is_some_and(|s| s.op > at.op || s.time > at.time)
        {
            if let Some(s) = self.snaps.pop_back() {
                self.snap_bytes -= s.bytes;
            }
        }
        let keep = if at.offset > 0 { at.op + 1 } else { at.op };
        while self.ops_end() > keep.max(self.ops_base) {
            self.ops.pop_back();
        }
        if at.offset > 0
            && let Some(op) = at
                .op
                .checked_sub(self.ops_base)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.ops.get_mut(i))
        {
            op.halt = Some(at.offset);
            op.executed = at.offset;
        }
        self.tape.truncate(at.tape);
        self.past = None;
        self.end_time = at.time;
        self.last_snap_time = self.snaps.back().map_or(0, |s| s.time);
    }
}

impl<C: TaskCode> Executive<C> {
    /// A copy of the whole state (see [`State`]). Exhaustive destructuring: a new field
    /// of [`Executive`] is a compile error here until it is decided whether it is state.
    pub(crate) fn capture(&self) -> State<C> {
        let Executive {
            cfg,
            vm,
            tasks,
            pids,
            next_pid,
            runq,
            current,
            slice_left,
            timers,
            timer_seq,
            now_ms,
            mailboxes,
            registry,
            events: _,
            clock: _,
            fs: _,
            hal: _,
            stdio_desc,
            reported,
            trace_step_events,
            trace_capacity,
            trace_seq,
            ring: _,
            window_cooldown: _,
            next_watch_id,
            total_executed,
            in_handler: _,
            // Load sessions belong to the transport feeding them, like a half-read file.
            loads: _,
            rec: _,
        } = self;
        State {
            cfg: *cfg,
            vm: vm.clone(),
            tasks: tasks.clone(),
            pids: pids.clone(),
            next_pid: *next_pid,
            runq: runq.clone(),
            current: *current,
            slice_left: *slice_left,
            timers: timers.clone(),
            timer_seq: *timer_seq,
            now_ms: *now_ms,
            mailboxes: mailboxes.clone(),
            registry: registry.snapshot_copy(),
            stdio_desc: stdio_desc.clone(),
            reported: *reported,
            trace_step_events: *trace_step_events,
            trace_capacity: *trace_capacity,
            trace_seq: *trace_seq,
            next_watch_id: *next_watch_id,
            total_executed: *total_executed,
        }
    }

    /// Put a captured state back, keeping the host parts and the event queue.
    pub(crate) fn restore(&mut self, s: &State<C>) {
        let mut registry = s.registry.snapshot_copy();
        registry.adopt_host_parts(&mut self.registry);
        self.cfg = s.cfg;
        self.vm = s.vm.clone();
        self.tasks = s.tasks.clone();
        self.pids = s.pids.clone();
        // Never hand out a PID an open load session has reserved.
        let reserved = self.loads.keys().max().map_or(0, |p| p.saturating_add(1));
        self.next_pid = s.next_pid.max(reserved);
        self.runq = s.runq.clone();
        self.current = s.current;
        self.slice_left = s.slice_left;
        self.timers = s.timers.clone();
        self.timer_seq = s.timer_seq;
        self.now_ms = s.now_ms;
        self.mailboxes = s.mailboxes.clone();
        self.registry = registry;
        self.stdio_desc = s.stdio_desc.clone();
        self.reported = s.reported;
        self.trace_step_events = s.trace_step_events;
        self.trace_capacity = s.trace_capacity;
        self.trace_seq = s.trace_seq;
        self.next_watch_id = s.next_watch_id;
        self.total_executed = s.total_executed;
        self.window_cooldown = 0;
    }

    /// Bytes a snapshot of the current state holds (memories dominate).
    fn state_bytes(&self) -> usize {
        let tasks = self.pids.len();
        let mem: usize = (0..self.tasks.len())
            .filter_map(|s| self.vm.task(s))
            .map(|t| {
                let l = t.mem().layout();
                (l.data_len + l.stack_len + t.code().view().len_bytes()) as usize
            })
            .sum();
        mem + tasks * 1024 + 4096
    }

    /// Take a snapshot of the current state (op boundary) and bound the ring.
    pub(crate) fn take_snapshot(&mut self) {
        let Some(op) = self.rec.as_ref().map(|r| r.ops_end()) else {
            return;
        };
        let counts = self.task_counts();
        let bytes = self.state_bytes();
        let state = Box::new(self.capture());
        let time = self.total_executed;
        let Some(r) = self.rec.as_deref_mut() else {
            return;
        };
        if r.snaps.back().is_some_and(|s| s.time == time && s.op == op) {
            // Nothing ran since: the newer state replaces the older one.
            if let Some(s) = r.snaps.pop_back() {
                r.snap_bytes -= s.bytes;
            }
        }
        r.snaps.push_back(Snapshot {
            time,
            op,
            tape: r.tape.end(),
            bytes,
            counts,
            state,
        });
        r.snap_bytes += bytes;
        r.dirty = false;
        r.last_snap_time = time;
        r.enforce_bounds();
    }

    /// Instructions retired per live pid.
    pub(crate) fn task_counts(&self) -> Vec<(u32, u64)> {
        self.pids
            .iter()
            .filter_map(|(&pid, &slot)| self.rec(slot).map(|r| (pid, r.counters.step)))
            .collect()
    }

    /// A host intervention changes the run: history after "now" is void, and the next op
    /// starts from a snapshot.
    #[inline]
    pub(crate) fn touch(&mut self) {
        if let Some(r) = self.rec.as_deref_mut()
            && r.probe.is_none()
            && r.frozen_clock.is_none()
        {
            if let Some(at) = r.past {
                r.truncate(at);
            }
            r.complete &= r.ops.is_empty() && r.ops_base == 0;
            r.dirty = true;
        }
    }

    /// A debugger-configuration change (breakpoints, watches, tracing): while live it
    /// needs a snapshot (recorded stops depend on it); in the past it changes nothing
    /// recorded.
    #[inline]
    pub(crate) fn touch_debug(&mut self) {
        if let Some(r) = self.rec.as_deref_mut()
            && r.past.is_none()
            && r.frozen_clock.is_none()
        {
            r.complete &= r.ops.is_empty() && r.ops_base == 0;
            r.dirty = true;
        }
    }

    /// The clock reading of the op in progress, if time stands still.
    #[inline]
    pub(crate) fn frozen_clock(&self) -> Option<u64> {
        self.rec.as_ref().and_then(|r| r.frozen_clock)
    }
}
