#![no_std]
#![warn(missing_docs)]
//! HSX executive core: tasks, scheduler, SVC bridge, mailboxes, values/commands
//! (`no_std` + alloc).

extern crate alloc;

mod bounded;
pub mod budget;
pub mod mailbox;
mod names;
pub mod persist;
pub mod status;
pub mod values;
pub mod vecmap;

pub mod backend;
pub mod clock;
pub mod debug;
pub mod event;
pub mod executive;
pub mod flash_slots;
pub mod store;
pub mod stream;
pub mod task_state;

pub use backend::{Backends, FileSystem, FsError, Hal, MemFs, NullFs, NullHal};
pub use clock::{Clock, FixedClock, VirtualClock};
pub use debug::WatchInfo;
pub use event::{DebugBreak, FaultInfo};
pub use event::{Event, EventKind, ProvEvent, ProvKind};
pub use executive::{
    Budget, BudgetUse, CodeBytes, DesktopCode, ExecConfig, ExecError, Executive, FlashCode,
    ImageSummary, ListenMessage, LoadLimits, LoadOptions, LoadPhase, LoadReport, LoadStatus,
    MailboxCreation, MemLayout, MetadataCounts, RegisterSnapshot, SleepInfo, StagedSummary,
    StepSummary, StopReason, TaskCode, TaskInfo, TaskMem, WATCHDOG_FAULT, WaitInfo, Watchdog,
    WatchdogAction,
};
pub use hsx_vm::Reg;
pub use task_state::{StateReason, TaskState};
