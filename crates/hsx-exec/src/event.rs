//! The executive's internal event queue (`protocol.md` §4.5): typed events that a consumer
//! (the daemon, `hsx run`) drains with [`crate::Executive::drain_events`].
//!
//! # Bounding policy
//!
//! The queue holds at most `capacity` events ([`crate::ExecConfig::event_capacity`]). When it
//! is full the **oldest** event is dropped, so a consumer that stops draining loses history,
//! never recent state, and memory stays bounded. Every event is numbered when it is created
//! (`seq`, strictly increasing from 1), so drops show up as gaps; in addition the next
//! [`EventQueue::drain`] starts with a [`EventKind::Warning`] `event_dropped` carrying how many
//! events were lost and the first lost `seq`.
//!
//! # Cost when nobody listens
//!
//! Generation can be switched off entirely ([`crate::Executive::set_events_enabled`]); then
//! nothing is built or queued. The one high-volume kind, `trace_step` (one per traced
//! instruction), is off unless [`crate::Executive::set_trace_step_events`] turns it on, and
//! rotations between runnable tasks produce no `task_state` events (one `scheduler` event per
//! `step` call summarises them).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use crate::mailbox::events::MailboxEvent;
use crate::task_state::{StateReason, TaskState};
use crate::values::events::ValEvent;

/// A fault that stopped a task (`ps` field `fault {code, name, pc}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaultInfo {
    /// `HSX_ERR_*` word for the VM traps (also left in R0); executive-only codes
    /// [`FaultInfo::ILLEGAL_OPCODE`], [`FaultInfo::PC_OUT_OF_RANGE`],
    /// [`FaultInfo::LDI32_OVERRUN`] for the stops that write no R0 code.
    pub code: u32,
    /// Upper-case name (`DIV_ZERO`, `MEM_FAULT`, `STACK_OVERFLOW`, `STACK_UNDERFLOW`,
    /// `ILLEGAL_OPCODE`, `PC_OUT_OF_RANGE`, `LDI32_OVERRUN`).
    pub name: &'static str,
    /// Address of the faulting instruction.
    pub pc: u32,
}

impl FaultInfo {
    /// Code reported for an illegal opcode (never written to a register).
    pub const ILLEGAL_OPCODE: u32 = 0xFFFF_FF10;
    /// Code reported for a fetch past the end of the code.
    pub const PC_OUT_OF_RANGE: u32 = 0xFFFF_FF11;
    /// Code reported for an `LDI32` whose second word is missing.
    pub const LDI32_OVERRUN: u32 = 0xFFFF_FF12;

    pub(crate) fn from_vm(f: hsx_vm::Fault, pc: u32) -> Self {
        let code = f.hsx_err().unwrap_or(match f {
            hsx_vm::Fault::IllegalOpcode => Self::ILLEGAL_OPCODE,
            hsx_vm::Fault::Ldi32Overrun => Self::LDI32_OVERRUN,
            _ => Self::PC_OUT_OF_RANGE,
        });
        Self {
            code,
            name: f.name(),
            pc,
        }
    }
}

/// Where a debug stop was detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakPhase {
    /// Before executing the instruction at `pc` (breakpoint gate).
    Pre,
    /// After executing (BRK).
    Post,
}

impl BreakPhase {
    /// `pre` / `post`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            BreakPhase::Pre => "pre",
            BreakPhase::Post => "post",
        }
    }
}

/// What caused a debug stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakReason {
    /// A breakpoint set by a debugger.
    Breakpoint,
    /// A `BRK code` instruction.
    Brk {
        /// Low 8 bits of its immediate.
        code: u8,
    },
    /// A memory watch created with its stop flag set saw its value change
    /// ([`crate::Executive::watch_set_stop`]); the task stops after the writing
    /// instruction.
    Watch {
        /// The executive's id of the watch.
        id: u32,
    },
}

impl BreakReason {
    /// `breakpoint` / `brk`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            BreakReason::Breakpoint => "breakpoint",
            BreakReason::Brk { .. } => "brk",
            BreakReason::Watch { .. } => "watch",
        }
    }
}

/// A debug stop (task paused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DebugBreak {
    /// Task.
    pub pid: u32,
    /// Address of the breakpoint, or of the BRK instruction.
    pub pc: u32,
    /// PC the task will resume at.
    pub next_pc: u32,
    /// Detection point.
    pub phase: BreakPhase,
    /// Cause.
    pub reason: BreakReason,
}

/// Why the scheduler switched away from a task (`scheduler` event `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SwitchReason {
    /// Its time slice ran out (`quantum_expired`).
    QuantumExpired,
    /// It went to sleep (`sleep`).
    Sleep,
    /// It blocked on a mailbox (`wait_mbx`).
    WaitMbx,
    /// It was paused (`paused`).
    Paused,
    /// It was killed or is gone (`killed`).
    Killed,
    /// It returned or exited with an exit status (`returned`; the reference says `killed`).
    Returned,
    /// It faulted (`fault`).
    Fault,
    /// Nothing switched: the step call's instruction budget ended and the same task runs
    /// on (`budget`). One such event per step call keeps clients' views fresh.
    Budget,
}

impl SwitchReason {
    /// Protocol string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            SwitchReason::QuantumExpired => "quantum_expired",
            SwitchReason::Sleep => "sleep",
            SwitchReason::WaitMbx => "wait_mbx",
            SwitchReason::Paused => "paused",
            SwitchReason::Killed => "killed",
            SwitchReason::Returned => "returned",
            SwitchReason::Fault => "fault",
            SwitchReason::Budget => "budget",
        }
    }
}

/// A `scheduler` event (`protocol.md` §4.5, `services.md` §4.6): the task that will run next
/// differs from the one that was current when the previous `step` call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerSwitch {
    /// Task current before (always set).
    pub prev_pid: u32,
    /// Task that runs next (`None`: nothing runnable).
    pub next_pid: Option<u32>,
    /// Why `prev_pid` lost the processor.
    pub reason: SwitchReason,
    /// `quantum − (steps mod quantum)` of `prev_pid`, 0 when divisible (reference formula).
    pub quantum_remaining: Option<u32>,
    /// State of `prev_pid` when it was last current.
    pub prev_state: Option<TaskState>,
    /// State of `next_pid` now.
    pub next_state: Option<TaskState>,
    /// State of `prev_pid` now (`None`: gone).
    pub post_state: Option<TaskState>,
    /// Instructions executed by the `step` call.
    pub executed: u64,
}

/// Extra facts attached to a `task_state` event (all optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateDetails {
    /// PC at the change.
    pub pc: Option<u32>,
    /// Debug stop phase.
    pub phase: Option<BreakPhase>,
    /// Mailbox descriptor (wait/wake/timeout).
    pub descriptor: Option<u32>,
    /// Mailbox handle.
    pub handle: Option<u32>,
    /// Receive timeout as requested.
    pub timeout: Option<u16>,
    /// Deadline (clock ms).
    pub deadline_ms: Option<u64>,
    /// Completion status.
    pub status: Option<u16>,
    /// Completion length.
    pub length: Option<u32>,
    /// Message flags.
    pub flags: Option<u16>,
    /// Message channel.
    pub channel: Option<u16>,
    /// Message sender.
    pub src_pid: Option<u32>,
    /// Requested sleep.
    pub sleep_ms: Option<u32>,
    /// Exit status.
    pub exit_status: Option<u32>,
    /// Fault.
    pub fault: Option<FaultInfo>,
}

/// Direction of a traced data access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemOp {
    /// LD/LDB/LDH.
    Read,
    /// ST/STB/STH.
    Write,
}

impl MemOp {
    /// `read` / `write`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            MemOp::Read => "read",
            MemOp::Write => "write",
        }
    }
}

/// A traced data access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemAccessRecord {
    /// Direction.
    pub op: MemOp,
    /// Effective address.
    pub address: u32,
    /// 1, 2 or 4.
    pub width: u8,
    /// Value read or written.
    pub value: u32,
}

/// One executed instruction (`hsx.trace/1` record, `trace_step` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceRecord {
    /// Record number (per executive, from 1).
    pub seq: u64,
    /// Task.
    pub pid: u32,
    /// Address of the instruction.
    pub pc: u32,
    /// PC after it.
    pub next_pc: u32,
    /// Its instruction word (the protocol's integer `opcode`).
    pub opcode: u32,
    /// Second word of an `LDI32`.
    pub extended_word: Option<u32>,
    /// PSW after it.
    pub flags: u8,
    /// Task's retired-instruction count after it.
    pub steps: u64,
    /// R0..R15 after it.
    pub regs: [u32; 16],
    /// Bit `i` set when register `i` changed (0..15 = R0..R15, 16 = PC, 17 = SP, 18 = PSW).
    pub changed: u32,
    /// LD*/ST* access.
    pub mem_access: Option<MemAccessRecord>,
    /// Clock time of the scheduler pass (ms).
    pub ts_ms: u64,
}

impl TraceRecord {
    /// Indices (0..15) of the general registers that changed.
    pub fn changed_regs(&self) -> impl Iterator<Item = u8> + '_ {
        (0u8..16).filter(move |i| self.changed & (1 << i) != 0)
    }
}

/// A watched memory range changed (`watch_update`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchUpdate {
    /// Watch id.
    pub watch_id: u32,
    /// Address.
    pub address: u32,
    /// Length in bytes.
    pub length: u32,
    /// Bytes before.
    pub old: Vec<u8>,
    /// Bytes now.
    pub new: Vec<u8>,
}

/// Why a `warning` event was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// The event queue overflowed: `dropped` events were lost, the first being `first_seq`.
    EventDropped {
        /// Number of events lost since the previous drain.
        dropped: u64,
        /// `seq` of the first lost event.
        first_seq: u64,
    },
    /// A task's debug state could not be honoured (e.g. trace ring disabled in this build).
    Unsupported(&'static str),
    /// A task called an SVC module its image's `req_caps` did not request; the call was
    /// answered `EPERM`. Reported once per task and capability.
    CapabilityDenied {
        /// SVC module.
        module: u8,
        /// Capability name (`mailbox`, `values`, `fram`, `can`, `uart`).
        cap: &'static str,
    },
    /// A task hit one of its budgets: the call failed with its status, or (watchdog) the
    /// task was faulted or throttled. Reported once per task and budget.
    BudgetExceeded {
        /// Which budget.
        budget: crate::budget::Budget,
        /// Its limit.
        limit: u64,
    },
}

impl Warning {
    /// Reason string (`event_dropped`, `unsupported`).
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Warning::EventDropped { .. } => "event_dropped",
            Warning::Unsupported(_) => "unsupported",
            Warning::CapabilityDenied { .. } => "capability_denied",
            Warning::BudgetExceeded { .. } => "budget_exceeded",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A task changed state (`task_state`).
    TaskState {
        /// Previous state (`None` for a new task).
        prev_state: Option<TaskState>,
        /// New state.
        new_state: TaskState,
        /// Why.
        reason: StateReason,
        /// Extra facts.
        details: Box<StateDetails>,
    },
    /// The running task changed between two `step` calls (`scheduler`).
    Scheduler(SchedulerSwitch),
    /// One traced instruction (`trace_step`).
    TraceStep(Box<TraceRecord>),
    /// A task stopped at a breakpoint or BRK (`debug_break`).
    DebugBreak(DebugBreak),
    /// A watched range changed (`watch_update`).
    WatchUpdate(WatchUpdate),
    /// Guest output on stdout: UART_WRITE, fd 1, or a message sent to the task's
    /// `svc:stdio.out` (`stdout`).
    Stdout(Vec<u8>),
    /// Guest output on stderr: fd 2 or a message sent to `svc:stdio.err` (`stderr`).
    Stderr(Vec<u8>),
    /// A task faulted (`fault`).
    Fault(FaultInfo),
    /// A CAN frame was transmitted (`can_tx`).
    CanTx {
        /// 11-bit identifier.
        id: u16,
        /// Payload.
        data: Vec<u8>,
    },
    /// Mailbox activity (`mailbox_*`).
    Mailbox(MailboxEvent),
    /// Value/command registry activity (`value_registered`, `value_changed`,
    /// `cmd_registered`, `cmd_invoked`, `cmd_completed`).
    Value(ValEvent),
    /// Something the consumer should know about (`warning`).
    Warning(Warning),
    /// Streamed loading, staging and rollback (`provisioning.*`).
    Provisioning(ProvEvent),
}

/// A provisioning event (`provisioning.started|progress|complete|error|aborted|persisted|
/// rollback`); the envelope's `pid` is the load session's PID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvEvent {
    /// Session phase after the event (`loading`, `verify`, `ready`, `failed`, `aborting`,
    /// `idle`).
    pub phase: &'static str,
    /// What happened.
    pub kind: ProvKind,
}

/// What a [`ProvEvent`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvKind {
    /// A session started (`provisioning.started`).
    Started {
        /// Announced image length.
        total_bytes: u32,
        /// The label given at `load_begin`.
        label: Option<String>,
    },
    /// Bytes arrived (`provisioning.progress`; at most about 32 per load, and the last one).
    Progress {
        /// Bytes accepted so far.
        bytes_written: u32,
        /// Announced length.
        total_bytes: u32,
    },
    /// The image is complete and verified (`provisioning.complete`).
    Complete {
        /// App name from its header.
        app_name: Option<String>,
    },
    /// A step failed (`provisioning.error`); the session is `failed` and holds nothing.
    Error {
        /// Errno name (`EBADMSG`, `ENOSPC`, ...).
        code: &'static str,
        /// Which step: `begin`, `write`, `end`, `verify`, `activate`.
        at: &'static str,
        /// Why, without image bytes.
        detail: String,
    },
    /// The session ended without a task (`provisioning.aborted`).
    Aborted {
        /// `abort`, `timeout`, ...
        reason: String,
    },
    /// The image was written to the image store (`provisioning.persisted`).
    Persisted {
        /// App name.
        app: String,
        /// Slot written.
        slot: String,
    },
    /// An app went back to its previous image (`provisioning.rollback`).
    Rollback {
        /// App name.
        app: String,
        /// Why.
        reason: String,
    },
}

impl ProvKind {
    /// The protocol `type` string.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Started { .. } => "provisioning.started",
            Self::Progress { .. } => "provisioning.progress",
            Self::Complete { .. } => "provisioning.complete",
            Self::Error { .. } => "provisioning.error",
            Self::Aborted { .. } => "provisioning.aborted",
            Self::Persisted { .. } => "provisioning.persisted",
            Self::Rollback { .. } => "provisioning.rollback",
        }
    }
}

impl EventKind {
    /// The protocol `type` string.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            EventKind::TaskState { .. } => "task_state",
            EventKind::Scheduler(_) => "scheduler",
            EventKind::TraceStep(_) => "trace_step",
            EventKind::DebugBreak(_) => "debug_break",
            EventKind::WatchUpdate(_) => "watch_update",
            EventKind::Stdout(_) => "stdout",
            EventKind::Stderr(_) => "stderr",
            EventKind::Fault(_) => "fault",
            EventKind::CanTx { .. } => "can_tx",
            EventKind::Mailbox(m) => match m {
                MailboxEvent::Send { .. } => "mailbox_send",
                MailboxEvent::Recv { .. } => "mailbox_recv",
                MailboxEvent::Wait { .. } => "mailbox_wait",
                MailboxEvent::Wake { .. } => "mailbox_wake",
                MailboxEvent::Timeout { .. } => "mailbox_timeout",
                MailboxEvent::Overrun { .. } => "mailbox_overrun",
                MailboxEvent::Backpressure { .. } => "mailbox_backpressure",
                MailboxEvent::Exhausted { .. } => "mailbox_exhausted",
                MailboxEvent::Error { .. } => "mailbox_error",
            },
            EventKind::Value(v) => match v {
                ValEvent::ValueRegistered { .. } => "value_registered",
                ValEvent::ValueChanged { .. } => "value_changed",
                ValEvent::CmdRegistered { .. } => "cmd_registered",
                ValEvent::CmdInvoked { .. } => "cmd_invoked",
                ValEvent::CmdCompleted { .. } => "cmd_completed",
            },
            EventKind::Warning(_) => "warning",
            EventKind::Provisioning(p) => p.kind.name(),
        }
    }
}

/// An event with its envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Sequence number (from 1, strictly increasing, never reused).
    pub seq: u64,
    /// Clock time (ms) of the scheduler pass or API call that produced it.
    pub ts_ms: u64,
    /// Task concerned (`None` for executive-wide events).
    pub pid: Option<u32>,
    /// Payload.
    pub kind: EventKind,
}

/// Bounded drop-oldest event queue (see the module docs).
#[derive(Debug, Clone)]
pub struct EventQueue {
    queue: VecDeque<Event>,
    capacity: usize,
    enabled: bool,
    next_seq: u64,
    dropped_total: u64,
    dropped_pending: u64,
    first_dropped: Option<u64>,
}

impl EventQueue {
    /// An enabled queue of `capacity` events (at least 1).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            enabled: true,
            next_seq: 1,
            dropped_total: 0,
            dropped_pending: 0,
            first_dropped: None,
        }
    }

    /// Whether events are generated.
    #[inline]
    #[must_use]
    pub const fn enabled(&self) -> bool {
        cfg!(feature = "events") && self.enabled
    }

    /// Turn generation on or off (off also clears the queue).
    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
        if !on {
            self.queue.clear();
        }
    }

    /// Change the bound (oldest events beyond it are dropped now).
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.queue.len() > self.capacity {
            self.drop_oldest();
        }
    }

    /// The bound.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// Events waiting.
    #[must_use]
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no event is waiting.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Events dropped since creation.
    #[must_use]
    pub const fn dropped_total(&self) -> u64 {
        self.dropped_total
    }

    /// The `seq` the next event will get.
    #[must_use]
    pub const fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Queue an event (no-op while disabled). Returns its `seq`.
    pub fn push(&mut self, ts_ms: u64, pid: Option<u32>, kind: EventKind) -> Option<u64> {
        if !self.enabled() {
            return None;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.queue.len() >= self.capacity {
            self.drop_oldest();
        }
        self.queue.push_back(Event {
            seq,
            ts_ms,
            pid,
            kind,
        });
        Some(seq)
    }

    fn drop_oldest(&mut self) {
        if let Some(ev) = self.queue.pop_front() {
            self.dropped_total += 1;
            self.dropped_pending += 1;
            self.first_dropped.get_or_insert(ev.seq);
        }
    }

    /// Take every queued event, oldest first; preceded by an `event_dropped` warning when
    /// events were lost since the previous drain.
    pub fn drain(&mut self, ts_ms: u64) -> Vec<Event> {
        let mut out = Vec::with_capacity(self.queue.len() + 1);
        if self.dropped_pending > 0 {
            let w = Warning::EventDropped {
                dropped: self.dropped_pending,
                first_seq: self.first_dropped.unwrap_or(0),
            };
            out.push(Event {
                seq: self.next_seq,
                ts_ms,
                pid: None,
                kind: EventKind::Warning(w),
            });
            self.next_seq += 1;
            self.dropped_pending = 0;
            self.first_dropped = None;
        }
        out.extend(self.queue.drain(..));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_drop_oldest_with_warning_on_drain() {
        let mut q = EventQueue::new(2);
        for i in 0..5u8 {
            q.push(0, Some(1), EventKind::Stdout(alloc::vec![i]));
        }
        assert_eq!(q.len(), 2);
        assert_eq!(q.dropped_total(), 3);
        let evs = q.drain(9);
        assert_eq!(evs.len(), 3);
        assert_eq!(
            evs[0].kind,
            EventKind::Warning(Warning::EventDropped {
                dropped: 3,
                first_seq: 1
            })
        );
        assert_eq!(evs[1].seq, 4);
        assert_eq!(evs[2].kind, EventKind::Stdout(alloc::vec![4]));
        assert!(q.drain(9).is_empty());
        q.set_enabled(false);
        assert_eq!(q.push(0, None, EventKind::Stdout(Vec::new())), None);
        assert!(q.is_empty());
    }
}
