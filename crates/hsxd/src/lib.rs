//! `hsxd`: the HSX executive daemon's protocol layer.
//!
//! A JSON-over-TCP server speaking the HSX executive control/debug protocol
//! (`protocol.md`): newline-delimited JSON requests and replies, sessions with PID locks,
//! and event streaming that may share the RPC socket. Task commands go to an executive
//! through the [`exec_bridge::Backend`] trait.
//!
//! Module map:
//! * [`codec`]: framing (line limit, per-line errors) · [`reply`]: reply envelope ·
//!   [`args`]: field and number parsing · [`error`]: wire error strings;
//! * [`cmd`]: the [`cmd::Command`] table, one file per command group;
//! * [`dispatch`]: envelope/session/lock checks and execution, socket-free;
//! * [`session`]: sessions and PID locks · [`events`]: event bus, history, back-pressure;
//! * [`exec_bridge`]: the executive seam · [`server`]: TCP, shutdown, restart;
//! * [`time`], [`ids`], [`dmesg`]: support.

#![warn(missing_docs)]

pub mod args;
pub mod cmd;
pub mod codec;
pub mod debugger;
pub mod dispatch;
pub mod dmesg;
pub mod error;
pub mod events;
pub mod exec_backend;
pub mod exec_bridge;
mod exec_debug;
pub mod fram;
pub mod hal_log;
pub mod host_fs;
pub mod ids;
pub mod reply;
pub mod server;
pub mod session;
pub mod task_output;
pub mod time;

use std::sync::Arc;

pub use dispatch::Dispatcher;
pub use error::{BackendError, ProtoError};
pub use events::{Event, EventBus, EventRecord};
pub use exec_backend::ExecBackend;
pub use exec_bridge::{Backend, Detached};
pub use server::{DaemonConfig, Server, ServerControl};
pub use time::{SystemTimeSource, TimeSource};

/// Binds a server on `addr` with `backend`, sharing `bus` (the bus the backend publishes
/// to) and the system clock.
pub async fn bind(addr: &str, backend: Arc<dyn Backend>, bus: EventBus) -> std::io::Result<Server> {
    let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
    let dispatcher = Arc::new(Dispatcher::new(backend, bus, time));
    Server::bind(addr, dispatcher).await
}
