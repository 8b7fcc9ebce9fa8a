//! Task states and the one transition table every state change is checked against
//! (`services.md` §4.1 plus `faulted`, `design.md` §4 item 1).

use core::fmt;

/// Scheduler state of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TaskState {
    /// Runnable, waiting for its turn.
    Ready = 0,
    /// Runnable and holding the current time slice.
    Running = 1,
    /// Blocked in a mailbox receive.
    WaitMbx = 2,
    /// Blocked until a sleep deadline.
    Sleeping = 3,
    /// Stopped by a user, a breakpoint or BRK.
    Paused = 4,
    /// Ended by `RET` at call depth 0 or TASK_EXIT, with an exit status.
    Returned = 5,
    /// Gone.
    Terminated = 6,
    /// Killed (internal; shown as `terminated` on the wire).
    Killed = 7,
    /// Stopped by a fault; never executed again.
    Faulted = 8,
}

const fn bit(s: TaskState) -> u16 {
    1 << s as u16
}

/// States a task may enter when it first appears.
const FROM_NEW: u16 = bit(TaskState::Ready)
    | bit(TaskState::Running)
    | bit(TaskState::Returned)
    | bit(TaskState::Terminated)
    | bit(TaskState::Paused)
    | bit(TaskState::Sleeping)
    | bit(TaskState::WaitMbx);

/// `ALLOWED[from]` = bit set of the states reachable from `from` (self-transitions are
/// always allowed and not listed).
const ALLOWED: [u16; 9] = [
    // Ready
    bit(TaskState::Running)
        | bit(TaskState::WaitMbx)
        | bit(TaskState::Sleeping)
        | bit(TaskState::Paused)
        | bit(TaskState::Terminated)
        | bit(TaskState::Killed),
    // Running
    bit(TaskState::Ready)
        | bit(TaskState::WaitMbx)
        | bit(TaskState::Sleeping)
        | bit(TaskState::Paused)
        | bit(TaskState::Returned)
        | bit(TaskState::Terminated)
        | bit(TaskState::Killed)
        | bit(TaskState::Faulted),
    // WaitMbx
    bit(TaskState::Ready)
        | bit(TaskState::Running)
        | bit(TaskState::Paused)
        | bit(TaskState::Terminated)
        | bit(TaskState::Killed),
    // Sleeping
    bit(TaskState::Ready)
        | bit(TaskState::Running)
        | bit(TaskState::Paused)
        | bit(TaskState::Terminated)
        | bit(TaskState::Killed),
    // Paused
    bit(TaskState::Ready)
        | bit(TaskState::Running)
        | bit(TaskState::Terminated)
        | bit(TaskState::Killed),
    // Returned
    bit(TaskState::Terminated) | bit(TaskState::Killed),
    // Terminated
    0,
    // Killed
    0,
    // Faulted
    bit(TaskState::Terminated) | bit(TaskState::Killed),
];

impl TaskState {
    /// Every state.
    pub const ALL: [TaskState; 9] = [
        TaskState::Ready,
        TaskState::Running,
        TaskState::WaitMbx,
        TaskState::Sleeping,
        TaskState::Paused,
        TaskState::Returned,
        TaskState::Terminated,
        TaskState::Killed,
        TaskState::Faulted,
    ];

    /// Canonical name: `ready`, `running`, `waiting_mbx`, `sleeping`, `paused`,
    /// `returned`, `terminated`, `killed`, `faulted`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            TaskState::Ready => "ready",
            TaskState::Running => "running",
            TaskState::WaitMbx => "waiting_mbx",
            TaskState::Sleeping => "sleeping",
            TaskState::Paused => "paused",
            TaskState::Returned => "returned",
            TaskState::Terminated => "terminated",
            TaskState::Killed => "killed",
            TaskState::Faulted => "faulted",
        }
    }

    /// The string the protocol shows (`protocol.md` §5.1): like [`Self::as_str`] except
    /// that `killed` is shown as `terminated`.
    #[must_use]
    pub const fn wire_str(self) -> &'static str {
        match self {
            TaskState::Killed => "terminated",
            s => s.as_str(),
        }
    }

    /// Parse a state name or one of the reference's aliases (`wait_mbx`, `waiting`,
    /// `sleep`, `returning`, `exited`, `exit`, `stopped`, `dead`, `fault`).
    #[must_use]
    pub fn parse(s: &str) -> Option<TaskState> {
        let s = s.trim();
        let lower = |t: &str| s.eq_ignore_ascii_case(t);
        if let Some(st) = TaskState::ALL.iter().copied().find(|st| lower(st.as_str())) {
            return Some(st);
        }
        Some(match () {
            () if lower("wait_mbx") || lower("waiting") => TaskState::WaitMbx,
            () if lower("sleep") => TaskState::Sleeping,
            () if lower("returning") || lower("exited") || lower("exit") => TaskState::Returned,
            () if lower("stopped") => TaskState::Paused,
            () if lower("dead") => TaskState::Terminated,
            () if lower("fault") => TaskState::Faulted,
            () => return None,
        })
    }

    /// Whether the scheduler may run the task (`ready` or `running`).
    #[must_use]
    pub const fn is_runnable(self) -> bool {
        matches!(self, TaskState::Ready | TaskState::Running)
    }

    /// Whether the task has ended (`returned`, `faulted`, `terminated`, `killed`).
    #[must_use]
    pub const fn is_ended(self) -> bool {
        matches!(
            self,
            TaskState::Returned | TaskState::Faulted | TaskState::Terminated | TaskState::Killed
        )
    }

    /// Whether `from → to` is allowed (`from = None`: the task is new). Self-transitions
    /// are always allowed.
    #[must_use]
    pub const fn can_transition(from: Option<TaskState>, to: TaskState) -> bool {
        match from {
            None => FROM_NEW & bit(to) != 0,
            Some(f) => f as u8 == to as u8 || ALLOWED[f as usize] & bit(to) != 0,
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a task changed state (the `reason` of `task_state` events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateReason {
    /// Image loaded (`loaded`).
    Loaded,
    /// Given the time slice (`scheduled`; no event is emitted for rotations).
    Scheduled,
    /// Time slice used up (`quantum_expired`; no event is emitted for rotations).
    QuantumExpired,
    /// Blocked in a mailbox receive (`mailbox_wait`).
    MailboxWait,
    /// Mailbox receive completed (`mailbox_wake`).
    MailboxWake,
    /// Mailbox receive timed out (`timeout`).
    Timeout,
    /// EXEC_SLEEP_MS (`sleep`).
    Sleep,
    /// Sleep deadline reached (`sleep_wake`).
    SleepWake,
    /// RET at depth 0 or TASK_EXIT (`returned`).
    Returned,
    /// VM fault (`fault`).
    Fault,
    /// Killed (`killed`).
    Killed,
    /// Paused by a user (`user_pause`).
    UserPause,
    /// Resumed (`resume`).
    Resume,
    /// Breakpoint or BRK (`debug_break`).
    DebugBreak,
    /// Debugger single step of a paused task (`debug_step`).
    DebugStep,
}

impl StateReason {
    /// Protocol string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            StateReason::Loaded => "loaded",
            StateReason::Scheduled => "scheduled",
            StateReason::QuantumExpired => "quantum_expired",
            StateReason::MailboxWait => "mailbox_wait",
            StateReason::MailboxWake => "mailbox_wake",
            StateReason::Timeout => "timeout",
            StateReason::Sleep => "sleep",
            StateReason::SleepWake => "sleep_wake",
            StateReason::Returned => "returned",
            StateReason::Fault => "fault",
            StateReason::Killed => "killed",
            StateReason::UserPause => "user_pause",
            StateReason::Resume => "resume",
            StateReason::DebugBreak => "debug_break",
            StateReason::DebugStep => "debug_step",
        }
    }
}

impl fmt::Display for StateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// Previous state (`None` for a new task).
    pub from: Option<TaskState>,
    /// New state.
    pub to: TaskState,
    /// Why.
    pub reason: StateReason,
    /// Clock time (ms) of the scheduler pass that made the change.
    pub ts_ms: u64,
}

/// A state change the table does not allow. Reported as an error value, never a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid_state_transition:{}->{}:pid={pid}", from.map_or("new", TaskState::as_str), to.as_str())]
pub struct InvalidTransition {
    /// Task.
    pub pid: u32,
    /// Current state.
    pub from: Option<TaskState>,
    /// Requested state.
    pub to: TaskState,
}

/// Per-task scheduler counters (`info.scheduler.counters`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedCounters {
    /// Instructions retired under the scheduler.
    pub step: u64,
    /// Times the task was given the time slice after another task (or after a wait).
    pub rotate: u64,
    /// Times it blocked (mailbox wait or sleep).
    pub block: u64,
    /// Times it was woken (mailbox data or sleep deadline).
    pub wake: u64,
    /// Mailbox receive timeouts.
    pub timeout: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskState::*;

    #[test]
    fn table_matches_services_4_1_plus_faulted() {
        let allowed = |f: TaskState, t: TaskState| TaskState::can_transition(Some(f), t);
        assert!(allowed(Running, Faulted));
        assert!(!allowed(Ready, Faulted));
        assert!(!allowed(Ready, Returned));
        assert!(allowed(Ready, Killed));
        assert!(!allowed(Terminated, Running));
        assert!(allowed(Terminated, Terminated));
        assert!(!allowed(Killed, Ready));
        assert!(!allowed(Paused, WaitMbx));
        assert!(allowed(Paused, Running));
        assert!(!allowed(Returned, Ready));
        assert!(allowed(Faulted, Killed));
        assert!(!allowed(Faulted, Running));
        assert!(!TaskState::can_transition(None, Killed));
        assert!(TaskState::can_transition(None, Ready));
    }

    #[test]
    fn names_and_aliases() {
        for s in TaskState::ALL {
            assert_eq!(TaskState::parse(s.as_str()), Some(s));
        }
        assert_eq!(TaskState::parse("stopped"), Some(Paused));
        assert_eq!(TaskState::parse("Wait_Mbx"), Some(WaitMbx));
        assert_eq!(TaskState::parse("exit"), Some(Returned));
        assert_eq!(TaskState::parse("bogus"), None);
        assert_eq!(Killed.wire_str(), "terminated");
        let e = InvalidTransition {
            pid: 2,
            from: Some(Terminated),
            to: Running,
        };
        assert_eq!(
            alloc::format!("{e}"),
            "invalid_state_transition:terminated->running:pid=2"
        );
    }
}
