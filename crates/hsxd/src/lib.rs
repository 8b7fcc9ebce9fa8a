//! `hsxd`: the HSX executive daemon.
//!
//! A JSON-over-TCP server speaking the HSX executive control/debug protocol
//! (`docs/protocol.md`): newline-delimited JSON requests and replies, sessions with PID
//! locks, and event streaming that may share the RPC socket, over an in-process
//! [`hsx_exec::Executive`].
//!
//! Module map (the request path runs top to bottom):
//! * [`server`]: TCP, connections, shutdown, restart · [`codec`]: framing (line limit,
//!   per-line errors);
//! * [`dispatch`]: envelope, version and session checks, then the command;
//! * [`cmd`]: the [`cmd::Command`] table, and one file per command family that holds the
//!   family's argument parsing *and* what it does against the daemon's state;
//! * [`context`]: what a command sees ([`context::Ctx`]) and answers
//!   ([`context::Outcome`]) · [`reply`]: the reply envelope · [`args`]: field and number
//!   parsing · [`error`]: wire error strings;
//! * [`state`]: the shared state commands run against ([`Daemon`]: executive, clock
//!   status, event bus, sessions, `dmesg`, task output, debugger state);
//! * [`wire`]: every record a reply or event carries, as `Serialize` types;
//! * [`clock`]: the auto clock · [`event_map`]: executive events → protocol events;
//! * [`events`]: event bus, history, filters, back-pressure · [`session`]: sessions and
//!   PID locks;
//! * debugger support: [`debugger`] (stack walk, disassembly, symbols, regions — pure),
//!   [`debug_state`] and [`watches`] (what the daemon keeps per task);
//! * host backends: [`host_fs`] (sandboxed guest files), [`fram`] (file-backed FRAM),
//!   [`hal_log`] (CAN log) · [`program`]: reading `.hxe`/`.mvasm` for `load`;
//! * [`task_output`], [`task_mem`], [`hex`], [`time`], [`ids`], [`dmesg`]: support.

#![warn(missing_docs)]

pub mod args;
pub mod auth;
pub mod can;
pub mod clock;
pub mod cmd;
pub mod codec;
pub mod context;
pub mod debug_state;
pub mod debugger;
pub mod dispatch;
pub mod dmesg;
pub mod error;
pub mod event_map;
pub mod events;
pub mod fram;
pub mod gate;
pub mod hal_log;
pub mod hex;
pub mod host_fs;
pub mod ids;
pub mod manifest;
pub mod policy;
pub mod program;
pub mod provision;
pub mod reply;
pub mod report;
pub mod server;
pub mod session;
pub mod state;
pub mod store;
pub mod task_mem;
pub mod task_output;
pub mod time;
pub mod watches;
pub mod wire;

use std::sync::Arc;

pub use error::{OpError, ProtoError};
pub use events::{Event, EventBus, EventRecord};
pub use server::{DaemonConfig, Server, ServerControl};
pub use state::{Daemon, InstantClock};
pub use time::{SystemTimeSource, TimeSource};

/// Binds a server on `addr` over `daemon`, with its auto clock started.
///
/// # Errors
/// The address cannot be bound.
///
/// # Panics
/// Outside a tokio runtime.
pub async fn bind(addr: &str, daemon: Daemon) -> std::io::Result<Server> {
    let daemon = Arc::new(daemon);
    clock::spawn(&daemon);
    Server::bind(addr, daemon).await
}
