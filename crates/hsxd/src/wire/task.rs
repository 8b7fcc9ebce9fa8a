//! Task records (protocol.md §5.5), saved contexts and the `dumpregs` registers object
//! (§2.3), and the `load` image object (§2.1.1).

use std::collections::BTreeMap;

use hsx_exec::{FaultInfo, TaskInfo, TaskState};
use serde::Serialize;
use serde_json::Value;

/// The metadata counts of a task record.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MetaCounts {
    /// Metadata sections.
    pub sections: usize,
    /// Value declarations.
    pub values: usize,
    /// Command declarations.
    pub commands: usize,
    /// Mailbox declarations.
    pub mailboxes: usize,
}

/// A fault as task records and events show it (design.md §4 item 1).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Fault {
    /// VM fault code.
    pub code: u32,
    /// Its name.
    pub name: &'static str,
    /// Where it happened.
    pub pc: u32,
}

impl From<FaultInfo> for Fault {
    fn from(f: FaultInfo) -> Self {
        Self {
            code: f.code,
            name: f.name,
            pc: f.pc,
        }
    }
}

/// The VM's task summary: the first 20 fields of §5.5 (`info.tasks`, `sched`).
#[derive(Debug, Clone, Serialize)]
pub struct VmTask<'a> {
    /// Task id.
    pub pid: u32,
    /// Host path of its image.
    pub program: Option<&'a str>,
    /// Wire state name.
    pub state: &'static str,
    /// Instance name.
    pub app_name: &'a str,
    /// Name before the instance suffix.
    pub app_name_base: &'a str,
    /// Program counter.
    pub pc: u32,
    /// Scheduling priority.
    pub priority: u32,
    /// Instructions per turn.
    pub quantum: u32,
    /// Instructions retired.
    pub accounted_steps: u64,
    /// Same as `accounted_steps` (one cycle per instruction).
    pub accounted_cycles: u64,
    /// Sleeping.
    pub sleep_pending: bool,
    /// Requested sleep.
    pub sleep_pending_ms: Option<u32>,
    /// Wake-up time (executive ms).
    pub sleep_deadline: Option<u64>,
    /// Exit status once returned.
    pub exit_status: Option<u32>,
    /// Tracing on.
    pub trace: bool,
    /// Metadata counts.
    pub metadata: MetaCounts,
    /// Reported register-bank address (0x1000 + 64 × slot).
    pub reg_base: u32,
    /// Top of the stack.
    pub stack_base: u32,
    /// Lowest stack address.
    pub stack_limit: u32,
    /// Stack size in bytes.
    pub stack_size: u32,
}

impl<'a> VmTask<'a> {
    /// The summary of `t`.
    pub fn of(t: &'a TaskInfo) -> Self {
        let md = t.image.metadata;
        Self {
            pid: t.pid,
            program: t.filepath.as_deref(),
            state: t.state.wire_str(),
            app_name: &t.app_name,
            app_name_base: &t.app_name_base,
            pc: t.pc,
            priority: t.priority,
            quantum: t.quantum,
            accounted_steps: t.steps,
            accounted_cycles: t.steps,
            sleep_pending: t.sleep.is_some(),
            sleep_pending_ms: t.sleep.map(|s| s.ms),
            sleep_deadline: t.sleep.map(|s| s.deadline_ms),
            exit_status: t.exit_status,
            trace: t.trace,
            metadata: MetaCounts {
                sections: md.sections,
                values: md.values,
                commands: md.commands,
                mailboxes: md.mailboxes,
            },
            reg_base: t.reg_base,
            stack_base: t.stack_base,
            stack_limit: t.stack_limit,
            stack_size: t.stack_size,
        }
    }
}

/// The mailbox wait of a task record (present only while the task waits on one).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TaskWait {
    /// Descriptor waited on.
    pub wait_mailbox: u32,
    /// Handle waited with.
    pub wait_handle: u32,
    /// Timeout as the guest gave it.
    pub wait_timeout: u16,
    /// Deadline (executive ms), none for an infinite wait.
    pub wait_deadline: Option<u64>,
}

/// `ps`'s `symbols` of a task: present only while a table is loaded.
#[derive(Debug, Clone, Serialize)]
pub struct SymbolsLoaded {
    /// The `.sym` file.
    pub path: String,
    /// Symbols in it.
    pub count: usize,
}

/// The §5.5 task record: the VM summary plus the executive's additions.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRecord<'a> {
    /// The VM summary.
    #[serde(flatten)]
    pub vm: VmTask<'a>,
    /// The mailbox wait, while in `wait_mbx`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub wait: Option<TaskWait>,
    /// Breakpoints, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakpoints: Option<&'a [u32]>,
    /// What stopped a faulted task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// The loaded symbol table (`ps` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbols: Option<SymbolsLoaded>,
    /// Use of each per-task budget, by name (`ps` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budgets: Option<std::collections::BTreeMap<&'static str, BudgetUseWire>>,
}

/// One budget in `ps`: what the task uses, its limit, and how often it was refused.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BudgetUseWire {
    /// In use (watchdog: instructions since the task's last SVC).
    pub used: u64,
    /// Limit (absent: unlimited, or not kept by the file-system backend).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Refusals (watchdog: times it tripped), saturating at 65535.
    pub hits: u16,
}

impl BudgetUseWire {
    /// The `ps` map of a task's budgets.
    #[must_use]
    pub fn map(
        uses: &[hsx_exec::BudgetUse],
    ) -> std::collections::BTreeMap<&'static str, BudgetUseWire> {
        uses.iter()
            .map(|u| {
                (
                    u.budget.as_str(),
                    BudgetUseWire {
                        used: u.used,
                        limit: u.limit,
                        hits: u.hits,
                    },
                )
            })
            .collect()
    }
}

impl<'a> TaskRecord<'a> {
    /// The record of `t` (without `symbols`).
    pub fn of(t: &'a TaskInfo) -> Self {
        let wait = t
            .wait
            .filter(|_| t.state == TaskState::WaitMbx)
            .map(|w| TaskWait {
                wait_mailbox: w.descriptor,
                wait_handle: w.handle,
                wait_timeout: w.timeout,
                wait_deadline: w.deadline_ms,
            });
        Self {
            vm: VmTask::of(t),
            wait,
            breakpoints: (!t.breakpoints.is_empty()).then_some(t.breakpoints.as_slice()),
            fault: t.fault.map(Fault::from),
            symbols: None,
            budgets: None,
        }
    }
}

/// The saved context of a task (`info.active_context`, `dumpregs.context`).
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    /// Task id.
    pub pid: u32,
    /// Wire state name.
    pub state: &'static str,
    /// Program counter.
    pub pc: u32,
    /// Stack pointer.
    pub sp: u32,
    /// Flags.
    pub psw: u8,
    /// R0..R15.
    pub regs: [u32; 16],
    /// Reported register-bank address.
    pub reg_base: u32,
    /// Top of the stack.
    pub stack_base: u32,
    /// Lowest stack address.
    pub stack_limit: u32,
    /// Stack size.
    pub stack_size: u32,
    /// Priority.
    pub priority: u32,
    /// Quantum.
    pub time_slice_steps: u32,
    /// Instructions retired.
    pub accounted_steps: u64,
    /// Quantum, in cycles.
    pub time_slice_cycles: u32,
    /// Cycles retired.
    pub accounted_cycles: u64,
    /// `mailbox`, `sleep` or none.
    pub wait_kind: Option<&'static str>,
    /// Descriptor waited on.
    pub wait_mailbox: Option<u32>,
    /// Wait deadline.
    pub wait_deadline: Option<u64>,
    /// Handle waited with.
    pub wait_handle: Option<u32>,
    /// Exit status.
    pub exit_status: Option<u32>,
    /// Tracing on.
    pub trace: bool,
}

impl Context {
    /// The context of `t`.
    pub fn of(t: &TaskInfo) -> Self {
        let w = t.wait;
        let wait_kind = if w.is_some() {
            Some("mailbox")
        } else if t.sleep.is_some() {
            Some("sleep")
        } else {
            None
        };
        Self {
            pid: t.pid,
            state: t.state.wire_str(),
            pc: t.pc,
            sp: t.sp,
            psw: t.psw,
            regs: t.regs,
            reg_base: t.reg_base,
            stack_base: t.stack_base,
            stack_limit: t.stack_limit,
            stack_size: t.stack_size,
            priority: t.priority,
            time_slice_steps: t.quantum,
            accounted_steps: t.steps,
            time_slice_cycles: t.quantum,
            accounted_cycles: t.steps,
            wait_kind,
            wait_mailbox: w.map(|w| w.descriptor),
            wait_deadline: w.and_then(|w| w.deadline_ms),
            wait_handle: w.map(|w| w.handle),
            exit_status: t.exit_status,
            trace: t.trace,
        }
    }
}

/// The `registers` object of `dumpregs` (and `info.selected_registers`).
#[derive(Debug, Clone, Serialize)]
pub struct Registers {
    /// Program counter.
    pub pc: u32,
    /// R0..R15.
    pub regs: [u32; 16],
    /// Stack pointer.
    pub sp: u32,
    /// Flags.
    pub flags: u8,
    /// Flags again: hsxdbg's register cache reads `psw` (and `R0`..`R15`).
    pub psw: u8,
    /// Running or ready.
    pub running: bool,
    /// Instructions retired.
    pub steps: u64,
    /// Cycles retired.
    pub cycles: u64,
    /// The saved context.
    pub context: Context,
    /// Reported register-bank address.
    pub reg_base: u32,
    /// Top of the stack.
    pub stack_base: u32,
    /// Lowest stack address.
    pub stack_limit: u32,
    /// Stack size.
    pub stack_size: u32,
    /// The reference adds `stack_base` to an SP that is already absolute; the SP is the
    /// effective stack address here.
    pub sp_effective: u32,
    /// `R0`..`R15` as keys of their own.
    #[serde(flatten)]
    pub named: BTreeMap<String, u32>,
}

impl Registers {
    /// The registers of `t`.
    pub fn of(t: &TaskInfo) -> Self {
        Self {
            pc: t.pc,
            regs: t.regs,
            sp: t.sp,
            flags: t.psw,
            psw: t.psw,
            running: matches!(t.state, TaskState::Running | TaskState::Ready),
            steps: t.steps,
            cycles: t.steps,
            context: Context::of(t),
            reg_base: t.reg_base,
            stack_base: t.stack_base,
            stack_limit: t.stack_limit,
            stack_size: t.stack_size,
            sp_effective: t.sp,
            named: t
                .regs
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("R{i}"), *r))
                .collect(),
        }
    }
}

/// One mailbox an image's metadata created (`load`'s `mailbox_creation`).
#[derive(Debug, Clone, Serialize)]
pub struct MailboxCreated {
    /// Its target string.
    pub target: String,
    /// Descriptor id.
    pub descriptor: u32,
    /// Capacity in bytes.
    pub capacity: u32,
    /// Mode mask.
    pub mode_mask: u16,
    /// Owner.
    pub owner_pid: Option<u32>,
}

/// The `metadata` of a `load` image object.
#[derive(Debug, Clone, Serialize)]
pub struct LoadedMetadata {
    /// Always empty (as the reference).
    pub sections: [u32; 0],
    /// OIDs of the values registered.
    pub values: Vec<u16>,
    /// OIDs of the commands registered.
    pub commands: Vec<u16>,
    /// Mailboxes created.
    pub mailboxes: Vec<MailboxCreated>,
}

/// The `image` object of `load`/`exec` (§2.1.1).
#[derive(Debug, Clone, Serialize)]
pub struct LoadedImage {
    /// New task id.
    pub pid: u32,
    /// Entry point.
    pub entry: u32,
    /// Code bytes.
    pub code_len: u32,
    /// Read-only data bytes.
    pub ro_len: u32,
    /// BSS bytes.
    pub bss: u32,
    /// Image format version.
    pub version: u16,
    /// Header flags.
    pub flags: u16,
    /// Required capabilities.
    pub req_caps: u32,
    /// Instance name.
    pub app_name: String,
    /// Name before the instance suffix.
    pub app_name_base: String,
    /// Whether more instances may run.
    pub allow_multiple_instances: bool,
    /// What the metadata registered.
    pub metadata: LoadedMetadata,
    /// Values + commands + mailboxes declared.
    pub meta_count: usize,
    /// A manifest section was present.
    pub manifest_present: bool,
    /// Mailboxes created (again, as the reference).
    pub mailbox_creation: Vec<MailboxCreated>,
    /// The symbols status (see [`crate::debugger::SymbolStore`]).
    pub symbols: Value,
    /// Symbol-loading warnings, when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Loaded paused (`load` with `paused`): it runs after `resume`.
    pub paused: bool,
}
