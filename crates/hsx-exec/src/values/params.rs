//! What callers hand the registry: who is calling, command handlers and the PIN validator,
//! capacity limits, and the `.value` / `.cmd` metadata entries of an image.

use alloc::boxed::Box;
use core::fmt;

use super::abi::auth;

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A task (SVC callers always have auth PUBLIC).
    Task {
        /// Calling PID.
        pid: u32,
        /// Auth level.
        auth: u8,
    },
    /// The executive/shell acting as the owner: PID checks are bypassed; RO, rate limit,
    /// epsilon, command auth level and PIN still apply.
    Host {
        /// Auth level used for command auth checks.
        auth: u8,
    },
}

impl Caller {
    /// A task with PUBLIC auth (every SVC caller).
    #[must_use]
    pub const fn task(pid: u32) -> Self {
        Self::Task {
            pid,
            auth: auth::PUBLIC,
        }
    }

    /// The host acting as owner with PUBLIC auth.
    pub const HOST: Self = Self::Host { auth: auth::PUBLIC };

    pub(super) fn pid(self) -> Option<u32> {
        match self {
            Self::Task { pid, .. } => Some(pid),
            Self::Host { .. } => None,
        }
    }

    pub(super) fn auth(self) -> u8 {
        match self {
            Self::Task { auth, .. } | Self::Host { auth } => auth,
        }
    }
}

/// A host command handler failed (status EFAIL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("command handler failed")]
pub struct HandlerFailed;

/// Host handler: gets the caller PID (0 for the host) and returns an optional numeric
/// result.
pub type HostHandler = Box<dyn FnMut(u32) -> Result<Option<u32>, HandlerFailed> + Send>;

/// PIN token validator: `(oid, owner_pid, caller_pid, token)`; `token` is `None` when the
/// guest passed a null pointer.
pub type TokenValidator = Box<dyn Fn(u16, u32, u32, Option<&[u8]>) -> bool + Send>;

/// What runs when a command is called.
pub enum CommandHandler {
    /// Nothing: the call completes with OK and no result.
    None,
    /// Guest code at this code offset (from metadata). Not dispatched, as in the reference:
    /// the call completes with OK and no result.
    Guest(u32),
    /// A host built-in.
    Host(HostHandler),
}

impl fmt::Debug for CommandHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Guest(a) => write!(f, "Guest({a:#x})"),
            Self::Host(_) => f.write_str("Host(..)"),
        }
    }
}

/// Capacity limits (`services.md` §2.1, §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryLimits {
    /// Maximum values (all tasks together).
    pub max_values: usize,
    /// Maximum commands (all tasks together).
    pub max_commands: usize,
    /// String pool bytes (shared, NUL-terminated, deduplicated).
    pub string_capacity: usize,
    /// Values one task may own (the host's are not counted).
    pub values_per_task: usize,
    /// Commands one task may own.
    pub commands_per_task: usize,
}

impl RegistryLimits {
    /// Header constants: 256 values, 256 commands, 4096 string bytes; a task may own half
    /// of each table.
    #[must_use]
    pub const fn desktop() -> Self {
        Self {
            max_values: 256,
            max_commands: 256,
            string_capacity: 4096,
            values_per_task: 128,
            commands_per_task: 128,
        }
    }

    /// Embedded budget: 64 values, 16 commands, 2 KiB strings; a task may own three
    /// quarters of each table (48 values, 12 commands).
    #[must_use]
    pub const fn embedded() -> Self {
        Self {
            max_values: 64,
            max_commands: 16,
            string_capacity: 2048,
            values_per_task: 48,
            commands_per_task: 12,
        }
    }
}

impl Default for RegistryLimits {
    fn default() -> Self {
        Self::desktop()
    }
}

/// A value entry from an HXE v2 `.value` metadata section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaValue<'a> {
    /// Group id.
    pub group: u8,
    /// Value id.
    pub id: u8,
    /// Flags (PERSIST is forced when `persist_key != 0`).
    pub flags: u8,
    /// Auth level.
    pub auth: u8,
    /// Declared initial value (f16 bits).
    pub init: u16,
    /// Name.
    pub name: Option<&'a str>,
    /// Unit text (packed to 4 ASCII characters).
    pub unit: Option<&'a str>,
    /// Epsilon (f16 bits).
    pub epsilon: u16,
    /// Range minimum (f16 bits).
    pub min: u16,
    /// Range maximum (f16 bits).
    pub max: u16,
    /// Persistence key (0 = none).
    pub persist_key: u16,
    /// Group name.
    pub group_name: Option<&'a str>,
    /// Rate limit in ms (the binary format has none: 0).
    pub rate_ms: u16,
    /// Persistence debounce in ms (the binary format has none: 0).
    pub debounce_ms: u16,
}

/// A command entry from an HXE v2 `.cmd` metadata section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaCommand<'a> {
    /// Group id.
    pub group: u8,
    /// Command id.
    pub id: u8,
    /// Flags.
    pub flags: u8,
    /// Auth level.
    pub auth: u8,
    /// Guest handler code offset.
    pub handler: u32,
    /// Name.
    pub name: Option<&'a str>,
    /// Help text.
    pub help: Option<&'a str>,
    /// Group name.
    pub group_name: Option<&'a str>,
}
