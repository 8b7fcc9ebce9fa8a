//! Value and command registry (`services.md` §2, `design.md` §4 item 8).
//!
//! Entries are registered per task instance: the key is `(oid, owner_pid)`, so two
//! instances of one app may declare the same OIDs. Addressing takes an optional owner; with
//! none, a task's own entry wins, else the earliest-registered entry with that OID.
//! Values are stored as IEEE binary16 bits. Time is passed in (`now_ms`); guest memory is
//! read through [`GuestMem`]; mailbox traffic (subscriptions, async command replies) goes
//! through [`MailboxPort`](crate::mailbox::MailboxPort).
//!
//! Deliberate differences from the reference (pinned by tests in `tests/`):
//! per-instance OIDs; a value restored from persistence wins over the declared initial
//! value; one notification frame per change; [`Registry::release_pid`] removes a task's
//! entries and subscriptions; VAL_SUB on a missing value does not leak a handle; pending
//! persistence writes are flushed, not dropped, on shutdown.
//!
//! Command handlers: the reference never dispatches guest handler code (the metadata
//! handler offset is only recorded), so a guest-backed command call completes with OK and
//! no result. Host handlers (built-ins installed by the executive) run synchronously.
//!
//! Layout: `abi` (guest numbers, errors, frames), `params` (callers, handlers, limits,
//! metadata entries), `events`, `report` (listings and statistics), `store` (the tables),
//! `registry` (the struct), then `persistence`, `value`, `notify` and `command` for the
//! services; `chain` parses descriptor chains from guest memory.

mod abi;
mod chain;
mod command;
pub(crate) mod events;
mod notify;
mod params;
mod persistence;
mod registry;
mod report;
#[cfg(feature = "record")]
mod snapshot;
mod store;
#[cfg(test)]
mod tests;
mod value;

pub use abi::{
    CmdError, GROUP_ALL, ValError, auth, cmd_flag, cmd_fn, completion_frame, f16_to_f64,
    f64_to_f16, flag, help_output, notification_frame, oid, persist_mode, val_fn, val_get_word,
};
pub use chain::{
    ChainError, CommandDesc, DESC_NONE, GuestMem, ValueDesc, decode_lossy, decode_unit,
    encode_unit, parse_command_chain, parse_value_chain, tag,
};
pub use events::ValEvent;
pub use params::{
    Caller, CommandHandler, HandlerFailed, HostHandler, MetaCommand, MetaValue, RegistryLimits,
    TokenValidator,
};
pub use registry::Registry;
pub use report::{
    CommandInfo, ListFilter, PoolStats, RegistryStats, ReleaseCounts, SetResult, ValueInfo,
};
