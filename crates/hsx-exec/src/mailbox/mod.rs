//! Mailbox manager (`services.md` §1, `design.md` §4 item 7).
//!
//! A pure state machine: descriptors (named queues with a byte budget), per-PID handle
//! tables, taps, fan-out cursors and the receive wait queue. The SVC bridge reads guest
//! memory and registers itself and hands this module plain values; this module never
//! touches the VM or a clock (time arrives through [`MailboxManager::set_now`]).
//!
//! Blocking receives: the bridge calls [`MailboxManager::recv_or_wait`]; when that returns
//! [`RecvOutcome::Blocked`] the task is parked. Every enqueue (SVC send, RPC send, stdio
//! write, value notification, command completion) runs wake delivery; completed waits are
//! queued and collected with [`MailboxManager::take_completions`]. Deadlines are the
//! caller's business: it calls [`MailboxManager::expire`] when a task's deadline passes.
//!
//! Deliberate differences from the reference (each pinned by a test in `tests/`):
//! - taps and idle handles never stall fan-out reclamation (`fix_*` tests);
//! - a descriptor is freed when its owner has exited and its last handle closes;
//! - every enqueue wakes waiting readers, including stdio writes;
//! - [`MailboxManager::release_pid`] releases a task's handles, taps, waits and owned
//!   descriptors (exit and kill);
//! - handle numbers stay within the 16 bits a guest can pass back.
//!
//! Layout: `abi` (guest numbers and errors), `config` (profiles), `stdio`, `records`
//! (values exchanged with the bridge), `events`, `port` (the registry's view), `state`
//! (internal tables), `manager` (the struct), then one file per group of operations:
//! `handles` (bind/open/close), `send`, `taps`, `fanout`, `recv`, `waits`, `tasks`,
//! `snapshot`.

mod abi;
pub(crate) mod config;
pub(crate) mod events;
mod fanout;
mod handles;
mod manager;
pub(crate) mod port;
mod records;
mod recv;
mod send;
mod snapshot;
mod state;
mod stdio;
mod taps;
mod target;
mod tasks;
#[cfg(test)]
mod tests;
mod waits;

pub use abi::{
    MESSAGE_OVERHEAD, MailboxError, RECV_INFO_SIZE, TIMEOUT_INFINITE, TIMEOUT_POLL, func, mode,
    msg_flag,
};
pub use config::{DEFAULT_CAPACITY, DEFAULT_EVENT_CAPACITY, MailboxConfig, TAP_RATE_WINDOW_MS};
pub use events::{BackpressurePolicy, ExhaustedReason, MailboxEvent, OverrunReason};
pub use manager::MailboxManager;
pub use port::MailboxPort;
pub use records::{
    Completion, PeekInfo, PidCounters, Received, RecvOutcome, RecvRequest, ReleaseReport,
    SendReport, recv_info,
};
pub use snapshot::{DescriptorInfo, MailboxStats, TapInfo};
pub use stdio::{STDIO_ERR, STDIO_IN, STDIO_OUT, StdioHandles, StdioStream};
pub use target::{
    MAX_NAME_BYTES, Namespace, PREFIX_APP, PREFIX_PID, PREFIX_SHARED, PREFIX_SVC, TargetKey,
};
