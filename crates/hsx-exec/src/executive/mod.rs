//! The executive: task table, scheduler state machine, timer heap, SVC bridge, debug
//! support and the event queue, behind one API ([`Executive`]) that the CLI and the daemon
//! use. The VM stays behind it: consumers see PIDs, [`TaskInfo`] records, registers by
//! [`crate::Reg`] and memory by address, never `hsx-vm` types.
//!
//! # Scheduling model
//!
//! * Runnable tasks wait in a FIFO run queue; the task at its head gets a time slice of its
//!   own `quantum` instructions (default 1) and, when the slice is used up, goes to the tail.
//!   A task that becomes runnable again (load, mailbox wake, sleep wake, resume of a waiting
//!   task) enters at the tail. With [`ExecConfig::priority_scheduling`] the highest priority
//!   runs first, round-robin among equals.
//! * The current task is `running`, queued ones `ready`. Blocking SVCs (mailbox receive with a
//!   timeout, sleep) park the task (`waiting_mbx`, `sleeping`); deadlines live in a timer heap
//!   (lazy deletion by generation) driven by the [`crate::clock::Clock`]. When nothing can run
//!   a step call returns [`StopReason::Blocked`] with the next deadline instead of spinning.
//! * `RET` at call depth 0 and TASK_EXIT end the task as `returned` with `exit_status`; a VM
//!   fault ends it as `faulted` (`fault {code, name, pc}`), never re-executed; both release the
//!   task's mailbox resources, while registers and memory stay inspectable until `kill`.
//!   `kill` releases mailboxes, values/commands, file descriptors and the task itself.
//! * Every state change goes through one transition table
//!   ([`TaskState::can_transition`]); an illegal request is an [`ExecError::InvalidTransition`].
//! * Long step calls take an exact fast path: between two SVCs a task's execution depends
//!   only on its own private state, so each task runs its share of many rounds in one VM
//!   call, and SVCs, exits and faults are serviced at exactly the point strict round-robin
//!   reaches them (a `step(n)` equals `n` calls of `step(1)`). While a runnable task is
//!   traced, watched, has breakpoints or contains a BRK word, and with the priority overlay,
//!   every slice is scheduled individually instead.
//!
//! # Layout
//!
//! This file holds the task table and the event plumbing; `types` the public records,
//! `load` image loading, `sched` the scheduler with its fast path in `window`, parking and
//! waking in `blocking` and debugger hooks in `debug_hooks`, `svc` the SVC bridge,
//! `control` pause/resume/kill, `memory` register and memory access, and `api` the
//! passthroughs to mailboxes, values and the debugger.

mod api;
mod blocking;
mod budget;
mod control;
mod debug_hooks;
mod handler;
mod load;
mod memory;
#[cfg(feature = "record")]
pub mod record;
#[cfg(feature = "record")]
mod record_log;
#[cfg(feature = "record")]
mod replay;
mod sched;
mod stream_load;
mod svc;
#[cfg(feature = "record")]
mod taped;
mod taskmem;
mod types;
mod window;

pub use budget::{Budget, BudgetUse, WATCHDOG_FAULT, Watchdog, WatchdogAction};
pub use stream_load::{LoadLimits, LoadPhase, LoadStatus, StagedSummary};
pub use taskmem::{CodeBytes, DesktopCode, FlashCode, MemLayout, TaskCode, TaskMem};
pub use types::*;

use crate::vecmap::{VecMap, VecSet};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use hsx_image::Metadata;
use hsx_vm::{Task, Vm};

use crate::backend::{Backends, FileSystem, Hal};
use crate::clock::Clock;
use crate::debug::TaskDebug;
use crate::event::{Event, EventKind, EventQueue, FaultInfo, StateDetails};
use crate::mailbox::{MailboxManager, StdioHandles, StdioStream};
use crate::task_state::{InvalidTransition, SchedCounters, StateReason, TaskState, Transition};
use crate::values::Registry;

/// The VM task type the executive uses: code of type `C` and a flat or segmented memory.
pub(crate) type VmTask<C> = Task<C, TaskMem>;
type Store<C> = Vec<Option<Box<VmTask<C>>>>;

/// Base of the (reported) register banks.
const REG_BASE: u32 = 0x1000;
/// Bytes per (reported) register bank.
const REG_BANK: u32 = 64;

/// Executive-side record of a task.
#[derive(Debug, Clone)]
pub(crate) struct TaskRec {
    pub pid: u32,
    pub state: TaskState,
    pub app_name: String,
    pub app_name_base: String,
    pub filepath: Option<String>,
    pub image: ImageSummary,
    #[cfg(feature = "task-metadata")]
    pub metadata: Metadata,
    #[cfg(feature = "task-metadata")]
    pub mailbox_creation: Vec<MailboxCreation>,
    pub quantum: u32,
    pub priority: u32,
    pub exit_status: Option<u32>,
    pub fault: Option<FaultInfo>,
    pub wait: Option<WaitInfo>,
    pub sleep: Option<SleepInfo>,
    /// Bumped whenever the task's armed timer becomes stale.
    pub timer_gen: u64,
    pub counters: SchedCounters,
    pub last_transition: Option<Transition>,
    pub stdio: Option<StdioHandles>,
    pub debug: TaskDebug,
    /// Mailbox/file resources already released (task ended).
    pub resources_released: bool,
    /// `req_caps` bits whose denial was already reported (one warning per capability).
    pub caps_reported: u8,
    /// Budgets whose excess was already reported (one warning per budget, bit = `Budget`).
    pub budgets_reported: u8,
    /// Times each budget refused this task ([`Budget::ALL`] order).
    pub budget_hits: [u16; 7],
    /// Instructions the VM has already executed for this task ahead of the schedule (fast
    /// path); the scheduler hands them out turn by turn before running the VM again.
    pub bank: u64,
    /// The result that ended the banked run, serviced when the bank is used up.
    pub pending: Option<hsx_vm::StepResult>,
    /// The code holds a BRK word: never run ahead (a debug stop must end the step call).
    pub may_brk: bool,
}

impl TaskRec {
    /// Instructions per slice (the quantum, never 0).
    #[inline]
    pub(crate) fn slice_len(&self) -> u64 {
        u64::from(self.quantum.max(1))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimerKind {
    Sleep,
    MailboxWait,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timer {
    pub deadline: u64,
    pub seq: u64,
    pub pid: u32,
    pub slot: usize,
    pub generation: u64,
    pub kind: TimerKind,
}

/// The executive core. See the module documentation. `C` is how task code is held
/// ([`TaskCode`]): pre-decoded words on the desktop (the default), image bytes in place
/// ([`FlashCode`]) on a microcontroller.
pub struct Executive<C: TaskCode = DesktopCode> {
    cfg: ExecConfig,
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
    events: EventQueue,
    clock: Box<dyn Clock>,
    fs: Box<dyn FileSystem>,
    hal: Box<dyn Hal>,
    /// Descriptor id → (owner pid, stream) for every task's stdio descriptors.
    stdio_desc: VecMap<u32, (u32, StdioStream)>,
    /// Current task (and its state) as of the end of the previous step call.
    reported: Option<(u32, TaskState)>,
    trace_step_events: bool,
    trace_capacity: usize,
    #[cfg_attr(not(feature = "development"), allow(dead_code))]
    trace_seq: u64,
    /// Scratch ring for the fast path.
    ring: Vec<usize>,
    /// Slices to run on the slow path before trying the fast path again.
    window_cooldown: u32,
    #[cfg_attr(not(feature = "full"), allow(dead_code))]
    next_watch_id: u32,
    total_executed: u64,
    /// A guest command handler is running (handlers do not nest).
    in_handler: bool,
    /// Streamed loads in progress or staged, by reserved PID.
    loads: VecMap<u32, stream_load::LoadSession>,
    /// The record/replay history, while recording.
    #[cfg(feature = "record")]
    rec: Option<Box<record::Recording<C>>>,
}

impl<C: TaskCode> core::fmt::Debug for Executive<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Executive")
            .field("tasks", &self.pids.len())
            .field("current", &self.current_pid())
            .field("now_ms", &self.now_ms)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl Executive {
    /// A new desktop executive (pre-decoded code) with no tasks.
    #[must_use]
    pub fn new(config: ExecConfig, backends: Backends) -> Self {
        Self::with_code(config, backends)
    }
}

impl<C: TaskCode> Executive<C> {
    /// A new executive with no tasks, holding task code as `C` (e.g.
    /// `Executive::<FlashCode>::with_code` on a microcontroller).
    #[must_use]
    pub fn with_code(config: ExecConfig, backends: Backends) -> Self {
        let Backends {
            clock,
            fs,
            hal,
            persist,
        } = backends;
        let mut mailboxes = MailboxManager::new(config.mailbox);
        let mut registry = Registry::new(config.registry);
        registry.set_persist(persist);
        let mut events = EventQueue::new(config.event_capacity);
        events.set_enabled(config.events_enabled);
        mailboxes.set_events_enabled(config.events_enabled);
        registry.set_events_enabled(config.events_enabled);
        let now_ms = clock.now_ms();
        mailboxes.set_now(now_ms);
        let trace_capacity = crate::debug::clamp_trace_capacity(config.trace_capacity);
        let pool = crate::vecmap::prealloc(config.max_tasks);
        Self {
            cfg: config,
            vm: Vm::new(Vec::with_capacity(pool)),
            tasks: Vec::with_capacity(pool),
            pids: VecMap::with_capacity(pool),
            next_pid: 1,
            runq: VecDeque::new(),
            current: None,
            slice_left: 0,
            timers: VecSet::new(),
            timer_seq: 0,
            now_ms,
            mailboxes,
            registry,
            events,
            clock,
            fs,
            hal,
            stdio_desc: VecMap::new(),
            reported: None,
            trace_step_events: config.trace_step_events,
            trace_capacity,
            trace_seq: 0,
            ring: Vec::new(),
            window_cooldown: 0,
            next_watch_id: 1,
            total_executed: 0,
            in_handler: false,
            loads: VecMap::new(),
            #[cfg(feature = "record")]
            rec: None,
        }
    }

    /// The configuration given at construction.
    #[must_use]
    pub const fn config(&self) -> &ExecConfig {
        &self.cfg
    }

    /// Clock time (ms) as of the last scheduler pass or API call.
    #[must_use]
    pub const fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Read the clock now (and make it the executive's notion of "now").
    pub fn refresh_clock(&mut self) -> u64 {
        #[cfg(feature = "record")]
        let read = self.frozen_clock().unwrap_or_else(|| self.clock.now_ms());
        #[cfg(not(feature = "record"))]
        let read = self.clock.now_ms();
        let t = read.max(self.now_ms);
        self.now_ms = t;
        self.mailboxes.set_now(t);
        t
    }

    /// Instructions retired by all tasks since construction.
    #[must_use]
    pub const fn total_executed(&self) -> u64 {
        self.total_executed
    }

    // ------------------------------------------------------------------ events

    /// Take every queued event, oldest first (see [`crate::event`] for the bounding policy).
    pub fn drain_events(&mut self) -> Vec<Event> {
        self.pump();
        self.events.drain(self.now_ms)
    }

    /// Number of events waiting.
    #[must_use]
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Turn event generation on or off (off: nothing is built or queued; the queue is
    /// cleared).
    pub fn set_events_enabled(&mut self, on: bool) {
        self.events.set_enabled(on);
        self.mailboxes.set_events_enabled(on);
        self.registry.set_events_enabled(on);
    }

    /// Whether events are generated.
    #[must_use]
    pub const fn events_enabled(&self) -> bool {
        self.events.enabled()
    }

    /// Change the event queue bound.
    pub fn set_event_capacity(&mut self, capacity: usize) {
        self.events.set_capacity(capacity);
    }

    /// Events dropped because nobody drained the queue in time.
    #[must_use]
    pub const fn events_dropped(&self) -> u64 {
        self.events.dropped_total()
    }

    /// Generate a `trace_step` event for every traced instruction (high volume).
    pub fn set_trace_step_events(&mut self, on: bool) {
        self.trace_step_events = on;
    }

    /// Move events of the mailbox manager and the value registry into the queue.
    pub(crate) fn pump(&mut self) {
        if !self.events.enabled() {
            return;
        }
        let ts = self.now_ms;
        for ev in self.mailboxes.take_events() {
            let pid = mailbox_event_pid(&ev);
            self.events.push(ts, pid, EventKind::Mailbox(ev));
        }
        for ev in self.registry.take_events() {
            let pid = value_event_pid(&ev);
            self.events.push(ts, Some(pid), EventKind::Value(ev));
        }
    }

    /// Queue an event (after anything the managers produced first).
    pub(crate) fn emit(&mut self, pid: Option<u32>, kind: EventKind) {
        if self.events.enabled() {
            self.pump();
            self.events.push(self.now_ms, pid, kind);
        }
    }

    // ------------------------------------------------------------- task table

    pub(crate) fn slot_of(&self, pid: u32) -> Result<usize, ExecError> {
        self.pids
            .get(&pid)
            .copied()
            .ok_or(ExecError::UnknownPid(pid))
    }

    pub(crate) fn rec(&self, slot: usize) -> Option<&TaskRec> {
        self.tasks.get(slot).and_then(Option::as_ref)
    }

    pub(crate) fn rec_mut(&mut self, slot: usize) -> Option<&mut TaskRec> {
        self.tasks.get_mut(slot).and_then(Option::as_mut)
    }

    pub(crate) fn vm_task(&self, slot: usize) -> Option<&VmTask<C>> {
        self.vm.task(slot)
    }

    pub(crate) fn vm_task_mut(&mut self, slot: usize) -> Option<&mut VmTask<C>> {
        self.vm.task_mut(slot)
    }

    pub(crate) fn pid_of(&self, slot: usize) -> u32 {
        self.rec(slot).map_or(0, |r| r.pid)
    }

    /// Validate and record a state change; emit a `task_state` event when `details` is given.
    pub(crate) fn set_state(
        &mut self,
        slot: usize,
        to: TaskState,
        reason: StateReason,
        details: Option<StateDetails>,
    ) -> Result<TaskState, ExecError> {
        let ts = self.now_ms;
        let Some(rec) = self.rec_mut(slot) else {
            return Err(ExecError::UnknownPid(0));
        };
        let from = rec.state;
        if !TaskState::can_transition(Some(from), to) {
            return Err(ExecError::InvalidTransition(InvalidTransition {
                pid: rec.pid,
                from: Some(from),
                to,
            }));
        }
        rec.state = to;
        rec.last_transition = Some(Transition {
            from: Some(from),
            to,
            reason,
            ts_ms: ts,
        });
        let pid = rec.pid;
        if let Some(d) = details {
            self.emit(
                Some(pid),
                EventKind::TaskState {
                    prev_state: Some(from),
                    new_state: to,
                    reason,
                    details: Box::new(d),
                },
            );
        }
        Ok(from)
    }

    /// Put a READY task at the tail of the run queue.
    pub(crate) fn enqueue(&mut self, slot: usize) {
        if !self.runq.contains(&slot) && self.current != Some(slot) {
            self.runq.push_back(slot);
        }
    }

    /// Take a task out of the run queue / current slot.
    pub(crate) fn dequeue(&mut self, slot: usize) {
        if self.current == Some(slot) {
            self.current = None;
            self.slice_left = 0;
        }
        self.runq.retain(|s| *s != slot);
    }

    /// Make `slot` the current task right away: the task holding the slice (if another)
    /// goes back to the head of the run queue as `ready`.
    pub(crate) fn make_current(
        &mut self,
        slot: usize,
        reason: StateReason,
        emit: bool,
    ) -> Result<(), ExecError> {
        if self.current == Some(slot) {
            return Ok(());
        }
        let st = self.rec(slot).map(|r| r.state);
        if let Some(s) = st
            && !TaskState::can_transition(Some(s), TaskState::Running)
        {
            return Err(ExecError::InvalidTransition(InvalidTransition {
                pid: self.pid_of(slot),
                from: Some(s),
                to: TaskState::Running,
            }));
        }
        if let Some(cur) = self.current.take() {
            self.set_state(cur, TaskState::Ready, StateReason::QuantumExpired, None)?;
            self.runq.push_front(cur);
        }
        self.runq.retain(|s| *s != slot);
        let details = emit.then(|| self.details_pc(slot));
        self.set_state(slot, TaskState::Running, reason, details)?;
        let q = self.rec(slot).map_or(1, TaskRec::slice_len);
        if let Some(r) = self.rec_mut(slot) {
            r.counters.rotate += 1;
        }
        self.current = Some(slot);
        self.slice_left = q;
        let _ = self.vm.set_context(slot);
        Ok(())
    }

    pub(crate) fn details_pc(&self, slot: usize) -> StateDetails {
        StateDetails {
            pc: self.vm_task(slot).map(Task::pc),
            ..StateDetails::default()
        }
    }

    /// PID of the task holding the time slice.
    #[must_use]
    pub fn current_pid(&self) -> Option<u32> {
        self.current.map(|s| self.pid_of(s))
    }

    /// PID of the task that will execute next.
    #[must_use]
    pub fn next_pid(&self) -> Option<u32> {
        if let Some(c) = self.current
            && (self.slice_left > 0 || self.runq.is_empty())
        {
            return Some(self.pid_of(c));
        }
        if self.cfg.priority_scheduling {
            let cur = self
                .current
                .map(|c| (self.rec(c).map_or(0, |r| r.priority), c));
            return match (self.best_in_queue(), cur) {
                (Some((_, s)), Some((cp, c))) => {
                    let bp = self.rec(s).map_or(0, |r| r.priority);
                    Some(self.pid_of(if bp < cp { c } else { s }))
                }
                (Some((_, s)), None) => Some(self.pid_of(s)),
                (None, c) => c.map(|(_, c)| self.pid_of(c)),
            };
        }
        self.runq
            .front()
            .map(|s| self.pid_of(*s))
            .or(self.current_pid())
    }

    /// PIDs of every task in the table, ascending.
    #[must_use]
    pub fn pids(&self) -> Vec<u32> {
        self.pids.keys().copied().collect()
    }

    /// Whether a PID is in the table.
    #[must_use]
    pub fn has_task(&self, pid: u32) -> bool {
        self.pids.contains_key(&pid)
    }

    /// State of a task.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn state(&self, pid: u32) -> Result<TaskState, ExecError> {
        let slot = self.slot_of(pid)?;
        self.rec(slot)
            .map(|r| r.state)
            .ok_or(ExecError::UnknownPid(pid))
    }

    /// `ps`-like records of every task, sorted by PID.
    #[must_use]
    pub fn tasks(&self) -> Vec<TaskInfo> {
        self.pids
            .values()
            .filter_map(|&slot| self.info_of(slot))
            .collect()
    }

    /// One task's record.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn task(&self, pid: u32) -> Result<TaskInfo, ExecError> {
        let slot = self.slot_of(pid)?;
        self.info_of(slot).ok_or(ExecError::UnknownPid(pid))
    }

    /// The full decoded metadata of a task's image (the `image.metadata` reply); empty
    /// without the `task-metadata` feature.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn task_metadata(&self, pid: u32) -> Result<&Metadata, ExecError> {
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "task-metadata")]
        return self
            .rec(slot)
            .map(|r| &r.metadata)
            .ok_or(ExecError::UnknownPid(pid));
        #[cfg(not(feature = "task-metadata"))]
        {
            static NONE: Metadata = Metadata {
                values: Vec::new(),
                commands: Vec::new(),
                mailboxes: Vec::new(),
                other: Vec::new(),
            };
            self.rec(slot)
                .map(|_| &NONE)
                .ok_or(ExecError::UnknownPid(pid))
        }
    }

    /// The `.mailbox` entries as bound when the task was loaded (empty without the
    /// `task-metadata` feature; [`LoadReport::mailbox_creation`] has them either way).
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn task_mailbox_creation(&self, pid: u32) -> Result<&[MailboxCreation], ExecError> {
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "task-metadata")]
        return self
            .rec(slot)
            .map(|r| r.mailbox_creation.as_slice())
            .ok_or(ExecError::UnknownPid(pid));
        #[cfg(not(feature = "task-metadata"))]
        self.rec(slot)
            .map(|_| &[][..])
            .ok_or(ExecError::UnknownPid(pid))
    }

    fn info_of(&self, slot: usize) -> Option<TaskInfo> {
        let r = self.rec(slot)?;
        let t = self.vm_task(slot)?;
        let stack_base = t.stack_limit();
        let stack_size = hsx_vm::STACK_TOP.saturating_sub(stack_base);
        let mem_bytes = u32::try_from(t.mem().layout().arena_len()).unwrap_or(u32::MAX);
        #[cfg(feature = "development")]
        let breakpoints = r.debug.bps.list();
        #[cfg(not(feature = "development"))]
        let breakpoints = Vec::new();
        Some(TaskInfo {
            pid: r.pid,
            app_name: r.app_name.clone(),
            app_name_base: r.app_name_base.clone(),
            filepath: r.filepath.clone(),
            state: r.state,
            current: self.current == Some(slot),
            pc: t.pc(),
            sp: t.sp(),
            psw: t.psw(),
            regs: *t.regs(),
            steps: t.steps(),
            call_depth: t.call_depth(),
            exit_status: r.exit_status,
            fault: r.fault,
            quantum: r.quantum,
            priority: r.priority,
            wait: r.wait,
            sleep: r.sleep,
            reg_base: reg_base(slot),
            stack_base,
            stack_limit: t.stack_limit(),
            stack_size,
            mem_bytes,
            trace: r.debug.trace,
            breakpoints,
            image: r.image,
            counters: r.counters,
            last_transition: r.last_transition,
        })
    }

    /// Whether every task has ended (returned, faulted) or none is loaded. Paused, waiting
    /// and sleeping tasks are live.
    #[must_use]
    pub fn all_done(&self) -> bool {
        self.tasks.iter().flatten().all(|r| r.state.is_ended())
    }

    /// Whether some task can execute now.
    #[must_use]
    pub fn has_runnable(&self) -> bool {
        self.current.is_some() || !self.runq.is_empty()
    }

    /// Earliest pending deadline (sleep, mailbox timeout, persistence write) in clock ms.
    #[must_use]
    pub fn next_deadline(&self) -> Option<u64> {
        let timer = self
            .timers
            .iter()
            .filter(|t| self.timer_live(t))
            .map(|t| t.deadline)
            .next();
        match (timer, self.registry.next_persist_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(crate) fn timer_live(&self, t: &Timer) -> bool {
        self.rec(t.slot)
            .is_some_and(|r| r.pid == t.pid && r.timer_gen == t.generation)
    }

    pub(crate) fn arm_timer(&mut self, slot: usize, deadline: u64, kind: TimerKind) {
        let Some(r) = self.rec_mut(slot) else {
            return;
        };
        r.timer_gen += 1;
        let (pid, generation) = (r.pid, r.timer_gen);
        // Stale entries are skipped lazily; each task has at most one live timer, so rebuild
        // the heap when stale ones pile up (e.g. many receives completed before their
        // timeout).
        if self.timers.len() > 64 + 4 * self.pids.len() {
            let heap = core::mem::take(&mut self.timers);
            self.timers = heap.into_iter().filter(|t| self.timer_live(t)).collect();
        }
        self.timer_seq += 1;
        self.timers.insert(Timer {
            deadline,
            seq: self.timer_seq,
            pid,
            slot,
            generation,
            kind,
        });
    }

    pub(crate) fn disarm_timer(&mut self, slot: usize) {
        if let Some(r) = self.rec_mut(slot) {
            r.timer_gen += 1;
        }
    }
}

pub(crate) const fn reg_base(slot: usize) -> u32 {
    REG_BASE.wrapping_add(REG_BANK.wrapping_mul(slot as u32))
}

fn mailbox_event_pid(ev: &crate::mailbox::MailboxEvent) -> Option<u32> {
    use crate::mailbox::MailboxEvent as M;
    match ev {
        M::Send { pid, .. }
        | M::Recv { pid, .. }
        | M::Wait { pid, .. }
        | M::Wake { pid, .. }
        | M::Timeout { pid, .. }
        | M::Overrun { pid, .. }
        | M::Error { pid, .. } => Some(*pid),
        M::Exhausted { pid, .. } => *pid,
        M::Backpressure { tap, .. } => tap.map(|(p, _)| p),
    }
}

fn value_event_pid(ev: &crate::values::ValEvent) -> u32 {
    use crate::values::ValEvent as V;
    match ev {
        V::ValueRegistered { pid, .. }
        | V::ValueChanged { pid, .. }
        | V::CmdRegistered { pid, .. } => *pid,
        V::CmdInvoked { owner_pid, .. } | V::CmdCompleted { owner_pid, .. } => *owner_pid,
    }
}

impl<C: TaskCode> Executive<C> {
    /// The file system as SVCs reach it (taped while recording or replaying).
    #[cfg(feature = "record")]
    pub(crate) fn host_fs(&mut self) -> taped::TapedFs<'_> {
        taped::TapedFs {
            fs: &mut *self.fs,
            tape: self.rec.as_deref_mut().map(|r| (&mut r.tape, &mut r.mode)),
        }
    }
    /// The file system as SVCs reach it.
    #[cfg(not(feature = "record"))]
    #[inline(always)]
    pub(crate) fn host_fs(&mut self) -> &mut dyn FileSystem {
        &mut *self.fs
    }
    /// The HAL as SVCs reach it (silent while replaying, CAN status taped).
    #[cfg(feature = "record")]
    pub(crate) fn host_hal(&mut self) -> taped::TapedHal<'_> {
        taped::TapedHal {
            hal: &mut *self.hal,
            tape: self.rec.as_deref_mut().map(|r| (&mut r.tape, &mut r.mode)),
        }
    }
    /// The HAL as SVCs reach it.
    #[cfg(not(feature = "record"))]
    #[inline(always)]
    pub(crate) fn host_hal(&mut self) -> &mut dyn Hal {
        &mut *self.hal
    }

    /// Without the `record` feature there is no history to keep consistent.
    #[cfg(not(feature = "record"))]
    #[inline(always)]
    pub(crate) fn touch(&mut self) {}
    /// Without the `record` feature there is no history to keep consistent.
    #[cfg(not(feature = "record"))]
    #[inline(always)]
    pub(crate) fn touch_debug(&mut self) {}
}
