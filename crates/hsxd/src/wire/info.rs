//! `info`/`attach`/`detach` (protocol.md §5.6), `ps` (§5.5) and the `sched` view (§5.4).

use std::collections::BTreeMap;

use serde::Serialize;

use super::clock::ClockStatus;
use super::task::{Context, Registers, TaskRecord, VmTask};

/// A task's scheduler counters.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SchedCounters {
    /// Instructions run.
    pub step: u64,
    /// Times rotated out.
    pub rotate: u64,
}

impl SchedCounters {
    /// Each task's counters, keyed by PID as the wire has them.
    pub fn by_pid(tasks: &[hsx_exec::TaskInfo]) -> BTreeMap<String, SchedCounters> {
        tasks
            .iter()
            .map(|t| {
                let c = SchedCounters {
                    step: t.counters.step,
                    rotate: t.counters.rotate,
                };
                (t.pid.to_string(), c)
            })
            .collect()
    }
}

/// A task's mailbox counters, under the reference's names.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MailboxCounters {
    /// SEND/RECV SVCs.
    #[serde(rename = "MAILBOX_STEP")]
    pub step: u64,
    /// Blocked receives completed with data.
    #[serde(rename = "MAILBOX_WAKE")]
    pub wake: u64,
    /// Blocked receives that timed out.
    #[serde(rename = "MAILBOX_TIMEOUT")]
    pub timeout: u64,
}

/// One scheduler switch as the `sched` trace keeps it (`ts` in monotonic seconds).
#[derive(Debug, Clone, Serialize)]
pub struct SchedEntry {
    /// Always `rotate`.
    pub event: &'static str,
    /// When, seconds.
    pub ts: f64,
    /// Task switched to.
    pub pid: Option<u32>,
    /// Task switched from.
    pub prev_pid: u32,
    /// Why.
    pub reason: &'static str,
    /// Instructions the previous task ran.
    pub executed: u64,
}

/// `info.scheduler`.
#[derive(Debug, Clone, Serialize)]
pub struct Scheduler {
    /// The last switches.
    pub trace: Vec<SchedEntry>,
    /// Per-task counters, by PID.
    pub counters: BTreeMap<String, SchedCounters>,
    /// Per-task mailbox counters, by PID.
    pub mailbox_counters: BTreeMap<String, MailboxCounters>,
}

/// The §5.6 `info` object.
#[derive(Debug, Clone, Serialize)]
pub struct Info<'a> {
    /// Any task loaded.
    pub loaded: bool,
    /// Program of the current task.
    pub program: Option<&'a str>,
    /// Something can run.
    pub running: bool,
    /// PC of the current task.
    pub pc: Option<u32>,
    /// Always true: the executive is in-process.
    pub attached: bool,
    /// The current task is paused.
    pub paused: bool,
    /// The current task sleeps.
    pub sleep_pending: bool,
    /// Current task.
    pub current_pid: Option<u32>,
    /// Its saved context.
    pub active_context: Option<Context>,
    /// Every task.
    pub tasks: Vec<VmTask<'a>>,
    /// Scheduler view.
    pub scheduler: Scheduler,
    /// Whether the auto clock runs (`info` only, not `attach`/`detach`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto: Option<bool>,
    /// The clock (`info` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockStatus>,
    /// The task `info` was asked about, when it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_pid: Option<u32>,
    /// Its registers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_registers: Option<Registers>,
    /// Why the task asked about has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_error: Option<String>,
}

/// `ps`.
#[derive(Debug, Clone, Serialize)]
pub struct TaskList<'a> {
    /// Every task, by PID.
    pub tasks: Vec<TaskRecord<'a>>,
    /// Current task.
    pub current_pid: Option<u32>,
}

/// `sched` without a PID.
#[derive(Debug, Clone, Serialize)]
pub struct SchedStats {
    /// Per-task counters.
    pub counters: BTreeMap<String, SchedCounters>,
    /// The last switches.
    pub trace: Vec<SchedEntry>,
}
