//! Public value types of the executive API.

use alloc::string::String;
use alloc::vec::Vec;

use crate::event::{DebugBreak, FaultInfo};
use crate::mailbox::{MailboxConfig, MailboxError};
use crate::task_state::{InvalidTransition, SchedCounters, TaskState, Transition};
use crate::values::{CmdError, RegistryLimits, ValError};

/// Executive settings. `Default` gives the reference's numbers (4 KiB stacks, quantum 1,
/// priority 10, desktop mailbox and registry profiles) and the build variant's event and trace
/// capacities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecConfig {
    /// Mailbox resource profile.
    pub mailbox: MailboxConfig,
    /// Value/command registry limits.
    pub registry: RegistryLimits,
    /// Stack size of every task in bytes (guard at `0xFFFC − stack_size`).
    pub stack_size: u32,
    /// Quantum of a newly loaded task, in instructions (≥ 1).
    pub default_quantum: u32,
    /// Priority of a newly loaded task.
    pub default_priority: u32,
    /// Run the highest-priority runnable task first (higher number = more urgent),
    /// round-robin among equals. Off: plain round-robin; priority is only reported.
    pub priority_scheduling: bool,
    /// Enable SVC module 0x0E (dev libm sin/cos/exp on f16; needs feature `development`).
    pub dev_libm: bool,
    /// Bound of the event queue (see [`crate::event`]).
    pub event_capacity: usize,
    /// Generate events at all.
    pub events_enabled: bool,
    /// Generate one `trace_step` event per traced instruction.
    pub trace_step_events: bool,
    /// Per-task trace ring size (clamped to [`crate::debug::TRACE_CAPACITY_MAX`]).
    pub trace_capacity: usize,
    /// Trace every newly loaded task.
    pub trace_default: bool,
    /// Consume messages sent to a task's `svc:stdio.out`/`svc:stdio.err` right after turning
    /// them into `stdout`/`stderr` events, so an unread stdout mailbox never fills (what an
    /// embedded runner such as `hsx run` wants; the daemon leaves it off so `listen` works).
    pub stdio_drain: bool,
    /// Refuse loads beyond this many tasks in the table.
    pub max_tasks: usize,
    /// Let long step calls run tasks ahead between their SVCs (the exact fast path, see
    /// `Executive::step`). Off: every time slice is a scheduler decision — identical
    /// results, much slower; for comparison and diagnosis.
    pub run_ahead: bool,
    /// Data memory layout of every task (flat 64 KiB, or only its data and stack segments).
    pub mem_layout: super::MemLayout,
    /// Bounds of streamed loading (`Executive::load_begin`).
    pub load: super::LoadLimits,
    /// The instruction watchdog of every task ([`LoadOptions::watchdog`] overrides its
    /// limit per load). Off by default.
    pub watchdog: super::Watchdog,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self {
            mailbox: MailboxConfig::desktop(),
            registry: RegistryLimits::desktop(),
            stack_size: hsx_vm::DEFAULT_STACK_SIZE,
            default_quantum: 1,
            default_priority: 10,
            priority_scheduling: false,
            dev_libm: false,
            event_capacity: DEFAULT_EVENT_CAPACITY,
            events_enabled: true,
            trace_step_events: false,
            trace_capacity: crate::debug::TRACE_CAPACITY_MAX,
            trace_default: false,
            stdio_drain: false,
            max_tasks: usize::MAX,
            run_ahead: true,
            mem_layout: super::MemLayout::Flat,
            load: super::LoadLimits::desktop(),
            watchdog: super::Watchdog::default(),
        }
    }
}

/// Default event-queue bound of this build variant.
#[cfg(feature = "full")]
pub const DEFAULT_EVENT_CAPACITY: usize = 4096;
/// Default event-queue bound of this build variant.
#[cfg(all(feature = "development", not(feature = "full")))]
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;
/// Default event-queue bound of this build variant.
#[cfg(not(feature = "development"))]
pub const DEFAULT_EVENT_CAPACITY: usize = 64;

/// Executive API failure. `Display` texts are the protocol's error strings where one exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The image failed validation (text = the reference loader's message).
    #[error(transparent)]
    Image(#[from] hsx_image::LoadError),
    /// A record/replay request failed.
    #[cfg(feature = "record")]
    #[error(transparent)]
    Record(#[from] super::record::RecordError),
    /// Single-instance app already loaded (`app_exists:<base>`).
    #[error("app_exists:{0}")]
    AppExists(String),
    /// Two `.value` entries with one `(group, id)`.
    #[error("metadata_value_duplicate:{group}:{id}")]
    MetadataValueDuplicate {
        /// Group id.
        group: u8,
        /// Value id.
        id: u8,
    },
    /// Two `.cmd` entries with one `(group, id)`.
    #[error("metadata_command_duplicate:{group}:{id}")]
    MetadataCommandDuplicate {
        /// Group id.
        group: u8,
        /// Command id.
        id: u8,
    },
    /// A `.value` entry could not be registered.
    #[error("metadata_value_register_failed:{group}:{id}:{error}")]
    MetadataValue {
        /// Group id.
        group: u8,
        /// Value id.
        id: u8,
        /// Registry error.
        error: ValError,
    },
    /// A `.cmd` entry could not be registered.
    #[error("metadata_command_register_failed:{group}:{id}:{error}")]
    MetadataCommand {
        /// Group id.
        group: u8,
        /// Command id.
        id: u8,
        /// Registry error.
        error: CmdError,
    },
    /// A `.mailbox` entry could not be bound.
    #[error("metadata_mailbox_bind_failed:{target}:{error}")]
    MetadataMailbox {
        /// Declared target.
        target: String,
        /// Mailbox error.
        error: MailboxError,
    },
    /// The task's default mailboxes (stdio, `pid:N`) could not be created.
    #[error("mailbox_register_failed:{0}")]
    MailboxRegister(MailboxError),
    /// [`ExecConfig::max_tasks`] reached.
    #[error("too_many_tasks")]
    TooManyTasks,
    /// Memory for the task could not be allocated.
    #[error("out_of_memory")]
    OutOfMemory,
    /// No such task (`unknown pid N`).
    #[error("unknown pid {0}")]
    UnknownPid(u32),
    /// The state change is not allowed from the task's current state.
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// The feature is compiled out of this build variant.
    #[error("unsupported:{0}")]
    Unsupported(&'static str),
    /// No such watch.
    #[error("unknown watch {id} for pid {pid}")]
    UnknownWatch {
        /// Task.
        pid: u32,
        /// Watch id.
        id: u32,
    },
    /// Watch length outside `1..=WATCH_MAX_LEN`.
    #[error("invalid watch length {0}")]
    InvalidWatchLength(u32),
    /// A mailbox operation failed.
    #[error("mailbox:{0}")]
    Mailbox(#[from] MailboxError),
}

/// How an image is loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Where the image came from (file path or label); kept as the task's `filepath` and used
    /// for the app name when the header has none (file stem).
    pub path: Option<String>,
    /// App base name to use when the header has none (takes precedence over the path stem).
    pub name: Option<String>,
    /// Stack bytes; overrides the image hint and [`ExecConfig::stack_size`].
    pub stack_size: Option<u32>,
    /// Zeroed bytes after the rodata (segmented layout); overrides the image hint and the
    /// header's bss size.
    pub heap_size: Option<u32>,
    /// Watchdog limit of this task (instructions between SVCs, 0 = off); overrides
    /// [`ExecConfig::watchdog`]'s.
    pub watchdog: Option<u64>,
}

impl LoadOptions {
    /// Options with a source path.
    #[must_use]
    pub fn path(path: impl Into<String>) -> Self {
        Self {
            path: Some(path.into()),
            ..Self::default()
        }
    }

    /// Options with a base name.
    #[must_use]
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }
}

/// Entry counts of an image's metadata (`ps` field `metadata`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetadataCounts {
    /// Sections in the table (derived: one per non-empty kind plus unknown sections).
    pub sections: usize,
    /// `.value` entries.
    pub values: usize,
    /// `.cmd` entries.
    pub commands: usize,
    /// `.mailbox` entries.
    pub mailboxes: usize,
}

/// Header facts of a loaded image (the `image` reply of `load`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSummary {
    /// Entry offset.
    pub entry: u32,
    /// Code bytes.
    pub code_len: u32,
    /// Rodata bytes.
    pub ro_len: u32,
    /// Declared BSS.
    pub bss: u32,
    /// Header version.
    pub version: u16,
    /// Header flags.
    pub flags: u16,
    /// Required capabilities.
    pub req_caps: u32,
    /// Stored CRC.
    pub crc32: u32,
    /// Multiple instances allowed.
    pub allow_multiple_instances: bool,
    /// Header flag bit 0.
    pub manifest_present: bool,
    /// ISA extension bits the task executes (`Image::isa_ext`).
    pub isa_ext: u32,
    /// Metadata entry counts.
    pub metadata: MetadataCounts,
}

/// A `.mailbox` entry as bound at load (`mailbox_creation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxCreation {
    /// Declared target.
    pub target: String,
    /// Descriptor id.
    pub descriptor: u32,
    /// Capacity after binding.
    pub capacity: u32,
    /// Mode after binding.
    pub mode_mask: u16,
    /// Owner PID of the descriptor.
    pub owner_pid: Option<u32>,
}

/// Result of a successful load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// New PID.
    pub pid: u32,
    /// Instance name (`base`, `base_#0`, …).
    pub app_name: String,
    /// Base name.
    pub app_name_base: String,
    /// Source path.
    pub filepath: Option<String>,
    /// Header facts.
    pub image: ImageSummary,
    /// OIDs registered from `.value`, in entry order.
    pub value_oids: Vec<u16>,
    /// OIDs registered from `.cmd`, in entry order.
    pub command_oids: Vec<u16>,
    /// `.mailbox` entries as bound, in entry order.
    pub mailbox_creation: Vec<MailboxCreation>,
}

/// A pending mailbox receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitInfo {
    /// Descriptor.
    pub descriptor: u32,
    /// Handle.
    pub handle: u32,
    /// Requested timeout (0xFFFF = forever).
    pub timeout: u16,
    /// Deadline in clock ms (`None` = forever).
    pub deadline_ms: Option<u64>,
}

/// A pending sleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SleepInfo {
    /// Requested milliseconds.
    pub ms: u32,
    /// Deadline in clock ms.
    pub deadline_ms: u64,
}

/// Everything `ps`/`info`/`dumpregs` report about a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    /// PID.
    pub pid: u32,
    /// Instance name.
    pub app_name: String,
    /// Base name.
    pub app_name_base: String,
    /// Source path (`program`).
    pub filepath: Option<String>,
    /// State (`state.wire_str()` for the protocol).
    pub state: TaskState,
    /// Holds the time slice now.
    pub current: bool,
    /// Program counter.
    pub pc: u32,
    /// Stack pointer.
    pub sp: u32,
    /// PSW (Z C N V in bits 0..3).
    pub psw: u8,
    /// R0..R15.
    pub regs: [u32; 16],
    /// Retired instructions (`accounted_steps`).
    pub steps: u64,
    /// Shadow call depth.
    pub call_depth: u32,
    /// Exit status once returned.
    pub exit_status: Option<u32>,
    /// Fault once faulted.
    pub fault: Option<FaultInfo>,
    /// Time slice in instructions.
    pub quantum: u32,
    /// Priority.
    pub priority: u32,
    /// Pending mailbox receive (also while paused).
    pub wait: Option<WaitInfo>,
    /// Pending sleep (also while paused).
    pub sleep: Option<SleepInfo>,
    /// `0x1000 + 64 × slot` (reported for compatibility; registers are not in memory).
    pub reg_base: u32,
    /// Lowest stack address (`0xFFFC − stack_size`).
    pub stack_base: u32,
    /// Stack guard (= `stack_base`).
    pub stack_limit: u32,
    /// Stack size.
    pub stack_size: u32,
    /// Bytes of RAM backing the task's data memory (65536 flat; data + stack segmented).
    pub mem_bytes: u32,
    /// Tracing on.
    pub trace: bool,
    /// Breakpoints, sorted.
    pub breakpoints: Vec<u32>,
    /// Header facts and metadata counts.
    pub image: ImageSummary,
    /// Scheduler counters.
    pub counters: SchedCounters,
    /// Last recorded state change.
    pub last_transition: Option<Transition>,
}

/// Why a `step`/`run_until`/`step_pid` call returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The instruction budget was used.
    Budget,
    /// Nothing can run now, but tasks are waiting or sleeping; the earliest deadline in clock
    /// ms (`None`: every wait is forever). Call again once the clock reaches it.
    Blocked {
        /// Earliest wake-up time.
        next_deadline_ms: Option<u64>,
    },
    /// Nothing runnable and nothing waiting: only paused tasks are live.
    Paused,
    /// No live task (all returned, faulted or killed, or none loaded).
    AllDone,
    /// A task stopped at a breakpoint or BRK.
    DebugBreak(DebugBreak),
    /// `step_pid`: the task is not (or no longer) in a state that can execute.
    NotRunnable,
}

/// Result of a step call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepSummary {
    /// Instructions retired.
    pub executed: u64,
    /// Last task that executed (or was examined by `step_pid`).
    pub last_pid: Option<u32>,
    /// Task that will run next.
    pub next_pid: Option<u32>,
    /// Why the call returned.
    pub stop: StopReason,
    /// The first debug stop (breakpoint or BRK) during the call. The call normally ends there
    /// ([`StopReason::DebugBreak`]); it only runs on to the budget when other tasks had already
    /// been run ahead by the fast path and must be brought back in step.
    pub debug_break: Option<DebugBreak>,
}

/// A message read by [`crate::Executive::listen_stdout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenMessage {
    /// Target read (`svc:stdio.out@N`).
    pub target: String,
    /// Task whose stdout it is.
    pub pid: u32,
    /// Payload.
    pub data: Vec<u8>,
    /// Message flags.
    pub flags: u16,
    /// Channel.
    pub channel: u16,
    /// Sender.
    pub src_pid: u32,
}

/// Registers of a task (`dumpregs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterSnapshot {
    /// R0..R15.
    pub regs: [u32; 16],
    /// PC.
    pub pc: u32,
    /// SP.
    pub sp: u32,
    /// PSW.
    pub psw: u8,
    /// Retired instructions.
    pub steps: u64,
    /// Shadow call depth.
    pub call_depth: u32,
}
