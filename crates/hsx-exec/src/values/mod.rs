//! Value and command registry (`services.md` §2, `design.md` §4 item 8).
//!
//! Entries are registered per task instance: the key is `(oid, owner_pid)`, so two
//! instances of one app may declare the same OIDs. Addressing takes an optional owner; with
//! none, a task's own entry wins, else the earliest-registered entry with that OID.
//! Values are stored as IEEE binary16 bits. Time is passed in (`now_ms`); guest memory is
//! read through [`GuestMem`]; mailbox traffic (subscriptions, async command replies) goes
//! through [`MailboxPort`].
//!
//! Deliberate differences from the reference (pinned by tests in `tests.rs`):
//! per-instance OIDs; a value restored from persistence wins over the declared initial
//! value; one notification frame per change; [`Registry::release_pid`] removes a task's
//! entries and subscriptions; VAL_SUB on a missing value does not leak a handle; pending
//! persistence writes are flushed, not dropped, on shutdown.
//!
//! Command handlers: the reference never dispatches guest handler code (the metadata
//! handler offset is only recorded), so a guest-backed command call completes with OK and
//! no result. Host handlers (built-ins installed by the executive) run synchronously.

mod chain;
#[cfg(test)]
mod tests;

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

pub use chain::{
    ChainError, CommandDesc, DESC_NONE, GuestMem, ValueDesc, decode_lossy, decode_unit,
    encode_unit, parse_command_chain, parse_value_chain, tag,
};

use crate::bounded::Bounded;
use crate::mailbox::port::MailboxPort;
use crate::persist::{Persist, WriteBehind, is_usable_key};
use crate::status::{cmd as cst, val as vst};

/// Value flags (`HSX_VAL_FLAG_*`).
pub mod flag {
    /// Read-only.
    pub const RO: u8 = 0x01;
    /// Persisted across restarts.
    pub const PERSIST: u8 = 0x02;
    /// Reserved.
    pub const STICKY: u8 = 0x04;
    /// PIN (not enforced for values).
    pub const PIN: u8 = 0x08;
    /// Boolean by convention (not enforced).
    pub const BOOL: u8 = 0x10;
}

/// Command flags (`HSX_CMD_FLAG_*`).
pub mod cmd_flag {
    /// Requires a PIN token.
    pub const PIN: u8 = 0x01;
    /// May be called asynchronously.
    pub const ASYNC: u8 = 0x02;
}

/// Auth levels.
pub mod auth {
    /// No auth.
    pub const PUBLIC: u8 = 0;
    /// User.
    pub const USER: u8 = 1;
    /// Admin.
    pub const ADMIN: u8 = 2;
    /// Factory.
    pub const FACTORY: u8 = 3;
}

/// VAL_PERSIST modes.
pub mod persist_mode {
    /// Clear PERSIST.
    pub const VOLATILE: u8 = 0;
    /// Set PERSIST.
    pub const LOAD: u8 = 1;
    /// Set PERSIST (same effect as LOAD).
    pub const SAVE: u8 = 2;
}

/// Function numbers of SVC module 0x07.
pub mod val_fn {
    /// Module number.
    pub const MODULE: u8 = 0x07;
    /// VAL_REGISTER.
    pub const REGISTER: u8 = 0x00;
    /// VAL_LOOKUP.
    pub const LOOKUP: u8 = 0x01;
    /// VAL_GET.
    pub const GET: u8 = 0x02;
    /// VAL_SET.
    pub const SET: u8 = 0x03;
    /// VAL_LIST.
    pub const LIST: u8 = 0x04;
    /// VAL_SUB.
    pub const SUB: u8 = 0x05;
    /// VAL_PERSIST.
    pub const PERSIST: u8 = 0x06;
}

/// Function numbers of SVC module 0x08.
pub mod cmd_fn {
    /// Module number.
    pub const MODULE: u8 = 0x08;
    /// CMD_REGISTER.
    pub const REGISTER: u8 = 0x00;
    /// CMD_LOOKUP.
    pub const LOOKUP: u8 = 0x01;
    /// CMD_CALL.
    pub const CALL: u8 = 0x02;
    /// CMD_CALL_ASYNC.
    pub const CALL_ASYNC: u8 = 0x03;
    /// CMD_HELP.
    pub const HELP: u8 = 0x04;
}

/// VAL_LIST group filter meaning "all groups".
pub const GROUP_ALL: u8 = 0xFF;

/// `OID = group << 8 | id`.
#[must_use]
pub const fn oid(group: u8, id: u8) -> u16 {
    ((group as u16) << 8) | id as u16
}

/// f16 bits → f64 (the VM's exact decoding).
pub use hsx_vm::fp16::f16_to_f64;

/// f64 → f16 bits, rounded like the VM's FPU ([`hsx_vm::fp16::f16_from_f64`]: nearest even,
/// overflow to ±inf, NaN canonical), so a value set from the host equals one computed by
/// guest code.
#[must_use]
#[inline]
pub fn f64_to_f16(x: f64) -> u16 {
    hsx_vm::fp16::f16_from_f64(x)
}

/// Value service failure; [`ValError::code`] is the guest status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValError {
    /// ENOENT.
    #[error("value not found")]
    NotFound,
    /// EPERM.
    #[error("permission denied")]
    PermissionDenied,
    /// ENOSPC.
    #[error("value registry full")]
    NoSpace,
    /// EINVAL.
    #[error("invalid parameter")]
    Invalid,
    /// EEXIST.
    #[error("value already registered")]
    Exists,
    /// EBUSY (rate limited).
    #[error("rate limited")]
    Busy,
}

impl ValError {
    /// `HSX_VAL_STATUS_*`.
    #[must_use]
    pub const fn code(self) -> u16 {
        match self {
            Self::NotFound => vst::ENOENT,
            Self::PermissionDenied => vst::EPERM,
            Self::NoSpace => vst::ENOSPC,
            Self::Invalid => vst::EINVAL,
            Self::Exists => vst::EEXIST,
            Self::Busy => vst::EBUSY,
        }
    }
}

impl From<ChainError> for ValError {
    fn from(_: ChainError) -> Self {
        Self::Invalid
    }
}

/// Command service failure; [`CmdError::code`] is the guest status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CmdError {
    /// ENOENT.
    #[error("command not found")]
    NotFound,
    /// EPERM.
    #[error("permission denied")]
    PermissionDenied,
    /// ENOSPC.
    #[error("command registry full")]
    NoSpace,
    /// EINVAL.
    #[error("invalid parameter")]
    Invalid,
    /// EEXIST.
    #[error("command already registered")]
    Exists,
    /// ENOASYNC.
    #[error("command is not asynchronous")]
    NoAsync,
    /// EFAIL.
    #[error("command handler failed")]
    Failed,
}

impl CmdError {
    /// `HSX_CMD_STATUS_*`.
    #[must_use]
    pub const fn code(self) -> u16 {
        match self {
            Self::NotFound => cst::ENOENT,
            Self::PermissionDenied => cst::EPERM,
            Self::NoSpace => cst::ENOSPC,
            Self::Invalid => cst::EINVAL,
            Self::Exists => cst::EEXIST,
            Self::NoAsync => cst::ENOASYNC,
            Self::Failed => cst::EFAIL,
        }
    }
}

impl From<ChainError> for CmdError {
    fn from(_: ChainError) -> Self {
        Self::Invalid
    }
}

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

    fn pid(self) -> Option<u32> {
        match self {
            Self::Task { pid, .. } => Some(pid),
            Self::Host { .. } => None,
        }
    }

    fn auth(self) -> u8 {
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
}

impl RegistryLimits {
    /// Header constants: 256 values, 256 commands, 4096 string bytes.
    #[must_use]
    pub const fn desktop() -> Self {
        Self {
            max_values: 256,
            max_commands: 256,
            string_capacity: 4096,
        }
    }

    /// Embedded budget: 64 values, 16 commands, 2 KiB strings.
    #[must_use]
    pub const fn embedded() -> Self {
        Self {
            max_values: 64,
            max_commands: 16,
            string_capacity: 2048,
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

/// Events for the protocol layer (`value_registered`, `value_changed`, `cmd_registered`,
/// `cmd_invoked`, `cmd_completed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValEvent {
    /// A value was registered.
    ValueRegistered {
        /// Owner.
        pid: u32,
        /// Caller (the owner for SVC and metadata).
        caller_pid: u32,
        /// OID.
        oid: u16,
        /// Flags.
        flags: u8,
        /// Auth level.
        auth_level: u8,
        /// Descriptor chain head offset (0xFFFF = none).
        desc_head: u32,
    },
    /// A value changed.
    ValueChanged {
        /// Owner.
        pid: u32,
        /// Caller PID (the owner when the host acts as owner).
        caller_pid: u32,
        /// OID.
        oid: u16,
        /// Old f16 bits.
        old_f16: u16,
        /// New f16 bits.
        new_f16: u16,
        /// Flags.
        flags: u8,
        /// Auth level.
        auth_level: u8,
    },
    /// A command was registered.
    CmdRegistered {
        /// Owner.
        pid: u32,
        /// OID.
        oid: u16,
        /// Flags.
        flags: u8,
        /// Auth level.
        auth_level: u8,
        /// Descriptor chain head offset.
        desc_head: u32,
    },
    /// A command is about to run.
    CmdInvoked {
        /// Caller PID (the owner when the host calls).
        caller_pid: u32,
        /// Owner.
        owner_pid: u32,
        /// OID.
        oid: u16,
        /// Asynchronous call.
        is_async: bool,
    },
    /// A command finished.
    CmdCompleted {
        /// Caller PID.
        caller_pid: u32,
        /// Owner.
        owner_pid: u32,
        /// OID.
        oid: u16,
        /// Status.
        status: u16,
        /// Numeric result.
        result: Option<u32>,
    },
}

/// A value as listed by `val.list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueInfo {
    /// OID.
    pub oid: u16,
    /// Group id.
    pub group_id: u8,
    /// Value id.
    pub value_id: u8,
    /// Flags.
    pub flags: u8,
    /// Auth level.
    pub auth_level: u8,
    /// Owner.
    pub owner_pid: u32,
    /// Current f16 bits.
    pub last_f16: u16,
    /// Descriptor chain head offset (0xFFFF = none).
    pub desc_head: u32,
    /// Persistence key (0 = none).
    pub persist_key: u16,
    /// Persistence debounce.
    pub persist_debounce_ms: u16,
    /// Group name.
    pub group_name: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Unit code, when a UNIT descriptor exists.
    pub unit_code: Option<u32>,
    /// Epsilon f16 bits, when a UNIT descriptor exists.
    pub epsilon_f16: Option<u16>,
    /// Rate limit, when a UNIT descriptor exists.
    pub rate_ms: Option<u16>,
    /// `(min, max)` f16 bits, when a RANGE descriptor exists.
    pub range: Option<(u16, u16)>,
}

impl ValueInfo {
    /// Current value as f64.
    #[must_use]
    pub fn last_value(&self) -> f64 {
        f16_to_f64(self.last_f16)
    }

    /// Unit text.
    #[must_use]
    pub fn unit(&self) -> Option<String> {
        self.unit_code.map(decode_unit)
    }
}

/// A command as listed by `cmd.list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandInfo {
    /// OID.
    pub oid: u16,
    /// Group id.
    pub group_id: u8,
    /// Command id.
    pub cmd_id: u8,
    /// Flags.
    pub flags: u8,
    /// Auth level.
    pub auth_level: u8,
    /// Owner.
    pub owner_pid: u32,
    /// Guest handler offset, if guest-backed.
    pub handler_addr: Option<u32>,
    /// A host handler is installed.
    pub host_handler: bool,
    /// Descriptor chain head offset.
    pub desc_head: u32,
    /// Group name.
    pub group_name: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Help text.
    pub help: Option<String>,
}

/// Filters for listing (`val.list` / `cmd.list`); `None` matches everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListFilter<'a> {
    /// Owner PID.
    pub owner: Option<u32>,
    /// Group id.
    pub group: Option<u8>,
    /// OID.
    pub oid: Option<u16>,
    /// Exact name.
    pub name: Option<&'a str>,
}

impl ListFilter<'_> {
    fn matches(&self, oid: u16, owner: u32, group: u8, name: Option<&str>) -> bool {
        self.owner.is_none_or(|o| o == owner)
            && self.group.is_none_or(|g| g == group)
            && self.oid.is_none_or(|x| x == oid)
            && self.name.is_none_or(|n| name == Some(n))
    }
}

/// Occupancy of one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Entries (or bytes for strings).
    pub count: usize,
    /// Capacity.
    pub capacity: usize,
    /// Highest count seen.
    pub high_water: usize,
    /// Occupancy warning active (set at ≥ 80 %, cleared at ≤ 70 %).
    pub warning: bool,
}

impl PoolStats {
    /// `count / capacity` in percent.
    #[must_use]
    pub fn usage_pct(&self) -> f64 {
        pct(self.count, self.capacity)
    }

    /// `high_water / capacity` in percent.
    #[must_use]
    pub fn high_water_pct(&self) -> f64 {
        pct(self.high_water, self.capacity)
    }
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 * 100.0 / d as f64
    }
}

/// `val.stats` / `cmd.stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryStats {
    /// Value table.
    pub values: PoolStats,
    /// Command table.
    pub commands: PoolStats,
    /// String pool (bytes).
    pub strings: PoolStats,
}

/// Outcome of an accepted set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetResult {
    /// The value's f16 bits after the call.
    pub bits: u16,
    /// Whether it changed (false when suppressed by epsilon).
    pub changed: bool,
}

/// What [`Registry::release_pid`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReleaseCounts {
    /// Values owned by the PID.
    pub values: usize,
    /// Commands owned by the PID.
    pub commands: usize,
    /// Subscriptions held by the PID on other tasks' values.
    pub subscriptions: usize,
}

/// `R0` for VAL_GET: the f16 bits on success (status 0 in the upper half), else the status.
/// A stored value whose bits equal a status code (1..=6) is indistinguishable from that
/// error; callers should LOOKUP first.
#[must_use]
pub fn val_get_word(result: Result<u16, ValError>) -> u32 {
    match result {
        Ok(bits) => u32::from(bits),
        Err(e) => u32::from(e.code()),
    }
}

/// Build the 6-byte change notification `<oid><old><new>` (LE).
#[must_use]
pub fn notification_frame(oid: u16, old: u16, new: u16) -> [u8; 6] {
    let mut f = [0u8; 6];
    f[..2].copy_from_slice(&oid.to_le_bytes());
    f[2..4].copy_from_slice(&old.to_le_bytes());
    f[4..].copy_from_slice(&new.to_le_bytes());
    f
}

/// Build an async completion frame `<u16 oid><u16 status>[<u32 result>]` (LE).
#[must_use]
pub fn completion_frame(oid: u16, status: u16, result: Option<u32>) -> Vec<u8> {
    let mut f = Vec::with_capacity(8);
    f.extend_from_slice(&oid.to_le_bytes());
    f.extend_from_slice(&status.to_le_bytes());
    if let Some(r) = result {
        f.extend_from_slice(&r.to_le_bytes());
    }
    f
}

/// CMD_HELP output for a buffer of `max_len` bytes: at most `max_len - 1` text bytes plus a
/// NUL, and the count for R1. `max_len == 0` writes nothing.
#[must_use]
pub fn help_output(text: &str, max_len: u32) -> (Vec<u8>, u32) {
    if max_len == 0 {
        return (Vec::new(), 0);
    }
    let n = text.len().min(max_len as usize - 1);
    let mut out = Vec::with_capacity(n + 1);
    out.extend_from_slice(text.as_bytes().get(..n).unwrap_or_default());
    out.push(0);
    (out, u32::try_from(n).unwrap_or(u32::MAX))
}

// ------------------------------------------------------------------------------------------

#[derive(Debug)]
struct ValueEntry {
    group: u8,
    id: u8,
    flags: u8,
    auth: u8,
    owner: u32,
    bits: u16,
    seq: u64,
    desc_head: u32,
    last_change: Option<u64>,
    subscribers: Vec<(u32, u32)>,
    persist_key: u16,
    debounce_ms: u16,
    epsilon: u16,
    rate_ms: u16,
    has_unit: bool,
    unit_code: u32,
    has_persist_desc: bool,
    range: Option<(u16, u16)>,
    group_name: Option<String>,
    name: Option<String>,
}

#[derive(Debug)]
struct CommandEntry {
    group: u8,
    id: u8,
    flags: u8,
    auth: u8,
    owner: u32,
    seq: u64,
    desc_head: u32,
    handler: CommandHandler,
    group_name: Option<String>,
    name: Option<String>,
    help: Option<String>,
    has_name_desc: bool,
}

#[derive(Debug, Default)]
struct StringPool {
    offsets: BTreeMap<String, u32>,
    used: usize,
    capacity: usize,
    high_water: usize,
    warning: bool,
}

impl StringPool {
    fn needed(&self, texts: &[&str]) -> usize {
        let mut seen: Vec<&str> = Vec::new();
        let mut n = 0usize;
        for t in texts {
            if !self.offsets.contains_key(*t) && !seen.contains(t) {
                seen.push(t);
                n = n.saturating_add(t.len() + 1);
            }
        }
        n
    }

    /// Insert every text, or none of them when the pool lacks room for all.
    fn insert_all(&mut self, texts: &[&str]) -> bool {
        if self.used.saturating_add(self.needed(texts)) > self.capacity {
            return false;
        }
        for t in texts {
            self.insert(t);
        }
        true
    }

    fn insert(&mut self, text: &str) {
        if self.offsets.contains_key(text) {
            return;
        }
        let off = u32::try_from(self.used).unwrap_or(u32::MAX);
        self.offsets.insert(String::from(text), off);
        self.used = self.used.saturating_add(text.len() + 1);
        self.high_water = self.high_water.max(self.used);
        self.warning = update_warning(self.warning, self.used, self.capacity);
    }
}

fn update_warning(active: bool, count: usize, capacity: usize) -> bool {
    if capacity == 0 {
        return false;
    }
    // ≥ 80 % sets, ≤ 70 % clears (integer form of the reference thresholds).
    if count * 10 >= capacity * 8 {
        true
    } else if count * 10 <= capacity * 7 {
        false
    } else {
        active
    }
}

type Key = (u16, u32);

/// The value/command registry. See the module documentation.
pub struct Registry {
    limits: RegistryLimits,
    values: BTreeMap<Key, ValueEntry>,
    commands: BTreeMap<Key, CommandEntry>,
    strings: StringPool,
    next_desc_offset: u32,
    next_seq: u64,
    value_high: usize,
    value_warn: bool,
    cmd_high: usize,
    cmd_warn: bool,
    persist: Option<Box<dyn Persist + Send>>,
    writes: WriteBehind,
    validator: Option<TokenValidator>,
    events: Bounded<ValEvent>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("limits", &self.limits)
            .field("values", &self.values.len())
            .field("commands", &self.commands.len())
            .field("strings_used", &self.strings.used)
            .field("persist", &self.persist.is_some())
            .field("pending_writes", &self.writes.pending_count())
            .finish_non_exhaustive()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new(RegistryLimits::default())
    }
}

impl Registry {
    /// An empty registry.
    #[must_use]
    pub fn new(limits: RegistryLimits) -> Self {
        Self {
            limits,
            values: BTreeMap::new(),
            commands: BTreeMap::new(),
            strings: StringPool {
                capacity: limits.string_capacity,
                ..StringPool::default()
            },
            next_desc_offset: 0,
            next_seq: 0,
            value_high: 0,
            value_warn: false,
            cmd_high: 0,
            cmd_warn: false,
            persist: None,
            writes: WriteBehind::new(),
            validator: None,
            events: Bounded::new(crate::mailbox::config::DEFAULT_EVENT_CAPACITY),
        }
    }

    /// Configured limits.
    #[must_use]
    pub const fn limits(&self) -> &RegistryLimits {
        &self.limits
    }

    // ------------------------------------------------------------------------- events

    /// Take every queued event, oldest first.
    pub fn take_events(&mut self) -> VecDeque<ValEvent> {
        self.events.take()
    }

    /// Turn event recording on or off.
    pub fn set_events_enabled(&mut self, enabled: bool) {
        self.events.set_enabled(enabled);
    }

    /// Bound the event queue (oldest dropped).
    pub fn set_event_capacity(&mut self, capacity: usize) {
        self.events.set_capacity(capacity);
    }

    fn emit(&mut self, ev: ValEvent) {
        self.events.push(ev);
    }

    // -------------------------------------------------------------------- persistence

    /// Install the persistence store; persisted values of existing entries are restored.
    pub fn set_persist(&mut self, store: Box<dyn Persist + Send>) {
        self.persist = Some(store);
        let keys: Vec<Key> = self.values.keys().copied().collect();
        for k in keys {
            self.restore(k);
        }
    }

    /// Remove the store (pending writes are flushed first).
    pub fn take_persist(&mut self) -> Option<Box<dyn Persist + Send>> {
        self.flush_persist_all();
        self.persist.take()
    }

    /// The installed store.
    pub fn persist_mut(&mut self) -> Option<&mut (dyn Persist + Send + 'static)> {
        self.persist.as_deref_mut()
    }

    /// Perform debounced writes that are due at `now_ms`; returns how many.
    pub fn flush_persist_due(&mut self, now_ms: u64) -> usize {
        match self.persist.as_deref_mut() {
            Some(p) => self.writes.flush_due(p, now_ms),
            None => 0,
        }
    }

    /// Perform every pending write (call on shutdown); returns how many.
    pub fn flush_persist_all(&mut self) -> usize {
        match self.persist.as_deref_mut() {
            Some(p) => self.writes.flush_all(p),
            None => 0,
        }
    }

    /// Earliest pending write deadline.
    #[must_use]
    pub fn next_persist_due(&self) -> Option<u64> {
        self.writes.next_due()
    }

    /// The debounce queue (inspection).
    #[must_use]
    pub const fn pending_writes(&self) -> &WriteBehind {
        &self.writes
    }

    fn restore(&mut self, k: Key) {
        let Some(store) = self.persist.as_deref_mut() else {
            return;
        };
        let Some(e) = self.values.get_mut(&k) else {
            return;
        };
        if e.flags & flag::PERSIST != 0
            && is_usable_key(e.persist_key)
            && let Some(bits) = store.load(e.persist_key)
        {
            e.bits = bits;
        }
    }

    // ----------------------------------------------------------------------- values

    fn resolve_value(&self, oid: u16, owner: Option<u32>, caller: Caller) -> Option<Key> {
        resolve(&self.values, oid, owner, caller, |e| e.seq)
    }

    fn alloc_desc_offsets(&mut self, sizes: impl DoubleEndedIterator<Item = u32>) -> u32 {
        // The reference allocates the chain back to front; the head is the last allocation.
        let mut head = u32::from(DESC_NONE);
        for size in sizes.rev() {
            head = self.next_desc_offset;
            self.next_desc_offset = self.next_desc_offset.saturating_add(size);
        }
        head
    }

    fn note_value_usage(&mut self) {
        let n = self.values.len();
        self.value_high = self.value_high.max(n);
        self.value_warn = update_warning(self.value_warn, n, self.limits.max_values);
    }

    fn note_command_usage(&mut self) {
        let n = self.commands.len();
        self.cmd_high = self.cmd_high.max(n);
        self.cmd_warn = update_warning(self.cmd_warn, n, self.limits.max_commands);
    }

    /// Register a value owned by `owner` (VAL_REGISTER passes `auth::PUBLIC`). A persisted
    /// value is restored when PERSIST is set and the chain has a usable key.
    ///
    /// # Errors
    /// `Exists` (same owner and OID), `NoSpace` (table or string pool full).
    pub fn register_value(
        &mut self,
        owner: u32,
        group: u8,
        id: u8,
        flags: u8,
        auth_level: u8,
        descs: &[ValueDesc],
    ) -> Result<u16, ValError> {
        let oid = oid(group, id);
        if self.values.contains_key(&(oid, owner)) {
            return Err(ValError::Exists);
        }
        if self.values.len() >= self.limits.max_values {
            return Err(ValError::NoSpace);
        }
        let texts: Vec<&str> = descs
            .iter()
            .filter_map(|d| match d {
                ValueDesc::Group { name, .. } | ValueDesc::Name(name) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        if !self.strings.insert_all(&texts) {
            return Err(ValError::NoSpace);
        }
        let desc_head = self.alloc_desc_offsets(descs.iter().map(ValueDesc::pool_size));
        let mut e = ValueEntry {
            group,
            id,
            flags,
            auth: auth_level,
            owner,
            bits: 0,
            seq: self.next_seq,
            desc_head,
            last_change: None,
            subscribers: Vec::new(),
            persist_key: 0,
            debounce_ms: 0,
            epsilon: 0,
            rate_ms: 0,
            has_unit: false,
            unit_code: 0,
            has_persist_desc: false,
            range: None,
            group_name: None,
            name: None,
        };
        self.next_seq += 1;
        for d in descs {
            match d {
                ValueDesc::Group { name, .. } => e.group_name = Some(name.clone()),
                ValueDesc::Name(n) => e.name = Some(n.clone()),
                ValueDesc::Unit {
                    unit_code,
                    epsilon,
                    rate_ms,
                } => {
                    e.has_unit = true;
                    e.unit_code = *unit_code;
                    e.epsilon = *epsilon;
                    e.rate_ms = *rate_ms;
                }
                ValueDesc::Range { min, max } => e.range = Some((*min, *max)),
                ValueDesc::Persist { key, debounce_ms } => {
                    e.has_persist_desc = true;
                    e.persist_key = *key;
                    e.debounce_ms = *debounce_ms;
                }
            }
        }
        self.values.insert((oid, owner), e);
        self.restore((oid, owner));
        self.note_value_usage();
        self.emit(ValEvent::ValueRegistered {
            pid: owner,
            caller_pid: owner,
            oid,
            flags,
            auth_level,
            desc_head,
        });
        Ok(oid)
    }

    /// VAL_REGISTER from guest memory: parse the chain at `desc_ptr`, register with auth
    /// PUBLIC and owner `pid`.
    ///
    /// # Errors
    /// `Invalid` (bad chain), `Exists`, `NoSpace`.
    pub fn register_value_from_guest<M: GuestMem + ?Sized>(
        &mut self,
        pid: u32,
        group: u8,
        id: u8,
        flags: u8,
        mem: &M,
        desc_ptr: u16,
    ) -> Result<u16, ValError> {
        let descs = parse_value_chain(mem, desc_ptr)?;
        self.register_value(pid, group, id, flags, auth::PUBLIC, &descs)
    }

    /// Register a `.value` metadata entry for a task being loaded (`services.md` §3.3 step
    /// 5): PERSIST forced by a key, descriptors built from the fields, the declared initial
    /// value applied, then a persisted value restored over it (restored wins).
    ///
    /// # Errors
    /// `Exists`, `NoSpace`.
    pub fn register_value_from_meta(
        &mut self,
        pid: u32,
        m: &MetaValue<'_>,
    ) -> Result<u16, ValError> {
        let mut flags = m.flags;
        if m.persist_key != 0 {
            flags |= flag::PERSIST;
        }
        let mut descs = Vec::new();
        if let Some(g) = m.group_name.filter(|s| !s.is_empty()) {
            descs.push(ValueDesc::Group {
                group_id: m.group,
                name: String::from(g),
            });
        }
        if let Some(n) = m.name.filter(|s| !s.is_empty()) {
            descs.push(ValueDesc::Name(String::from(n)));
        }
        let unit = m.unit.filter(|s| !s.is_empty());
        if unit.is_some() || f16_to_f64(m.epsilon) != 0.0 || m.rate_ms != 0 {
            descs.push(ValueDesc::Unit {
                unit_code: encode_unit(unit.unwrap_or("")),
                epsilon: m.epsilon,
                rate_ms: m.rate_ms,
            });
        }
        if m.min != 0 || m.max != 0 {
            descs.push(ValueDesc::Range {
                min: m.min,
                max: m.max,
            });
        }
        if m.persist_key != 0 {
            descs.push(ValueDesc::Persist {
                key: m.persist_key,
                debounce_ms: m.debounce_ms,
            });
        }
        let oid = self.register_value(pid, m.group, m.id, flags, m.auth, &descs)?;
        if let Some(e) = self.values.get_mut(&(oid, pid)) {
            e.bits = m.init;
            e.last_change = None;
        }
        self.restore((oid, pid));
        Ok(oid)
    }

    /// VAL_LOOKUP: the OID if a value `(group, id)` exists (any owner; `owner` restricts).
    ///
    /// # Errors
    /// `NotFound`.
    pub fn lookup_value(&self, group: u8, id: u8, owner: Option<u32>) -> Result<u16, ValError> {
        let oid = oid(group, id);
        self.resolve_value(oid, owner, Caller::HOST)
            .map(|_| oid)
            .ok_or(ValError::NotFound)
    }

    /// Resolve `(oid, owner?)` for `caller` to the owning PID.
    #[must_use]
    pub fn value_owner(&self, oid: u16, owner: Option<u32>, caller: Caller) -> Option<u32> {
        self.resolve_value(oid, owner, caller).map(|k| k.1)
    }

    fn check_access(e: &ValueEntry, caller: Caller) -> Result<(), ValError> {
        match caller {
            Caller::Host { .. } => Ok(()),
            Caller::Task { pid, auth } if pid == e.owner || auth >= e.auth => Ok(()),
            Caller::Task { .. } => Err(ValError::PermissionDenied),
        }
    }

    /// VAL_GET: the value's f16 bits.
    ///
    /// # Errors
    /// `NotFound`, `PermissionDenied` (not owner and auth below the value's level).
    pub fn get_value(&self, oid: u16, owner: Option<u32>, caller: Caller) -> Result<u16, ValError> {
        let k = self
            .resolve_value(oid, owner, caller)
            .ok_or(ValError::NotFound)?;
        let e = self.values.get(&k).ok_or(ValError::NotFound)?;
        Self::check_access(e, caller)?;
        Ok(e.bits)
    }

    /// VAL_SET with f16 bits (the SVC path).
    ///
    /// # Errors
    /// `NotFound`, `PermissionDenied` (access or RO), `Busy` (rate limited).
    pub fn set_value_bits(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
        bits: u16,
        now_ms: u64,
        port: &mut dyn MailboxPort,
    ) -> Result<SetResult, ValError> {
        self.set_inner(oid, owner, caller, f16_to_f64(bits), bits, now_ms, port)
    }

    /// `val.set` with a number (converted to f16; the epsilon test uses the number as
    /// given, as the reference does).
    ///
    /// # Errors
    /// As [`Self::set_value_bits`].
    pub fn set_value_f64(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
        value: f64,
        now_ms: u64,
        port: &mut dyn MailboxPort,
    ) -> Result<SetResult, ValError> {
        self.set_inner(oid, owner, caller, value, f64_to_f16(value), now_ms, port)
    }

    #[allow(clippy::too_many_arguments)]
    fn set_inner(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
        new_value: f64,
        new_bits: u16,
        now_ms: u64,
        port: &mut dyn MailboxPort,
    ) -> Result<SetResult, ValError> {
        let k = self
            .resolve_value(oid, owner, caller)
            .ok_or(ValError::NotFound)?;
        let e = self.values.get_mut(&k).ok_or(ValError::NotFound)?;
        Self::check_access(e, caller)?;
        if e.flags & flag::RO != 0 {
            return Err(ValError::PermissionDenied);
        }
        if e.rate_ms > 0
            && let Some(last) = e.last_change
            && now_ms.saturating_sub(last) < u64::from(e.rate_ms)
        {
            return Err(ValError::Busy);
        }
        let old = e.bits;
        let eps = f16_to_f64(e.epsilon);
        if eps > 0.0 && (new_value - f16_to_f64(old)).abs() < eps {
            return Ok(SetResult {
                bits: old,
                changed: false,
            });
        }
        e.bits = new_bits;
        e.last_change = Some(now_ms);
        let (flags, auth_level, entry_owner) = (e.flags, e.auth, e.owner);
        let persist = (flags & flag::PERSIST != 0 && is_usable_key(e.persist_key))
            .then_some((e.persist_key, e.debounce_ms));
        let subs = e.subscribers.clone();
        self.emit(ValEvent::ValueChanged {
            pid: entry_owner,
            caller_pid: caller.pid().unwrap_or(entry_owner),
            oid,
            old_f16: old,
            new_f16: new_bits,
            flags,
            auth_level,
        });
        if let (Some((key, debounce)), Some(store)) = (persist, self.persist.as_deref_mut()) {
            self.writes.schedule(store, key, new_bits, debounce, now_ms);
        }
        // One frame per change on each subscriber's own handle; a failed post drops the
        // subscription and closes its handle.
        let frame = notification_frame(oid, old, new_bits);
        let mut dead = Vec::new();
        for (pid, handle) in subs {
            if port.post(pid, handle, &frame).is_err() {
                port.close(pid, handle);
                dead.push((pid, handle));
            }
        }
        if !dead.is_empty()
            && let Some(e) = self.values.get_mut(&k)
        {
            e.subscribers.retain(|s| !dead.contains(s));
        }
        Ok(SetResult {
            bits: new_bits,
            changed: true,
        })
    }

    /// VAL_LIST: OIDs in registration order, filtered by group (`GROUP_ALL` = any) and owner.
    #[must_use]
    pub fn list_values(&self, group_filter: u8, owner: Option<u32>) -> Vec<u16> {
        list_in_order(&self.values, group_filter, owner, |e| {
            (e.group, e.owner, e.seq)
        })
    }

    /// Add an existing mailbox handle as a subscriber (exact duplicates ignored; no access
    /// check, as in the reference).
    ///
    /// # Errors
    /// `NotFound`.
    pub fn subscribe_handle(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        sub_pid: u32,
        handle: u32,
    ) -> Result<(), ValError> {
        let k = self
            .resolve_value(oid, owner, Caller::task(sub_pid))
            .ok_or(ValError::NotFound)?;
        let e = self.values.get_mut(&k).ok_or(ValError::NotFound)?;
        if !e.subscribers.contains(&(sub_pid, handle)) {
            e.subscribers.push((sub_pid, handle));
        }
        Ok(())
    }

    /// VAL_SUB: open a handle for `pid` on `target` and subscribe it. Returns the handle.
    ///
    /// # Errors
    /// `Invalid` (empty target or open failure), `NotFound` (checked before opening, so no
    /// handle leaks).
    pub fn subscribe(
        &mut self,
        pid: u32,
        oid: u16,
        owner: Option<u32>,
        target: &str,
        port: &mut dyn MailboxPort,
    ) -> Result<u32, ValError> {
        if target.is_empty() {
            return Err(ValError::Invalid);
        }
        self.resolve_value(oid, owner, Caller::task(pid))
            .ok_or(ValError::NotFound)?;
        let handle = port.open(pid, target).map_err(|_| ValError::Invalid)?;
        self.subscribe_handle(oid, owner, pid, handle)?;
        Ok(handle)
    }

    /// Subscribers of a value as `(pid, handle)`.
    #[must_use]
    pub fn subscribers(&self, oid: u16, owner: Option<u32>) -> Vec<(u32, u32)> {
        self.resolve_value(oid, owner, Caller::HOST)
            .and_then(|k| self.values.get(&k))
            .map(|e| e.subscribers.clone())
            .unwrap_or_default()
    }

    /// VAL_PERSIST: mode 0 clears PERSIST; 1 and 2 set it (adding a key-0 PERSIST
    /// descriptor if the chain has none). Owner-only.
    ///
    /// # Errors
    /// `NotFound`, `PermissionDenied`, `Invalid` (mode not 0/1/2).
    pub fn persist_value(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
        mode: u8,
    ) -> Result<(), ValError> {
        let k = self
            .resolve_value(oid, owner, caller)
            .ok_or(ValError::NotFound)?;
        let add_desc = {
            let e = self.values.get_mut(&k).ok_or(ValError::NotFound)?;
            if caller.pid().is_some_and(|p| p != e.owner) {
                return Err(ValError::PermissionDenied);
            }
            match mode {
                persist_mode::VOLATILE => {
                    e.flags &= !flag::PERSIST;
                    return Ok(());
                }
                persist_mode::LOAD | persist_mode::SAVE => {}
                _ => return Err(ValError::Invalid),
            }
            e.flags |= flag::PERSIST;
            !e.has_persist_desc
        };
        if add_desc {
            let off = self.next_desc_offset;
            self.next_desc_offset = self.next_desc_offset.saturating_add(8);
            if let Some(e) = self.values.get_mut(&k) {
                e.has_persist_desc = true;
                e.desc_head = off;
            }
        }
        Ok(())
    }

    /// `val.list`: matching values sorted by `(oid, owner)`.
    #[must_use]
    pub fn describe_values(&self, f: &ListFilter<'_>) -> Vec<ValueInfo> {
        self.values
            .iter()
            .filter(|((oid, own), e)| f.matches(*oid, *own, e.group, e.name.as_deref()))
            .map(|((oid, _), e)| ValueInfo {
                oid: *oid,
                group_id: e.group,
                value_id: e.id,
                flags: e.flags,
                auth_level: e.auth,
                owner_pid: e.owner,
                last_f16: e.bits,
                desc_head: e.desc_head,
                persist_key: e.persist_key,
                persist_debounce_ms: e.debounce_ms,
                group_name: e.group_name.clone(),
                name: e.name.clone(),
                unit_code: e.has_unit.then_some(e.unit_code),
                epsilon_f16: e.has_unit.then_some(e.epsilon),
                rate_ms: e.has_unit.then_some(e.rate_ms),
                range: e.range,
            })
            .collect()
    }

    // ---------------------------------------------------------------------- commands

    fn resolve_command(&self, oid: u16, owner: Option<u32>, caller: Caller) -> Option<Key> {
        resolve(&self.commands, oid, owner, caller, |e| e.seq)
    }

    /// Register a command owned by `owner` with no handler (install a host built-in with
    /// [`Self::set_command_handler`]).
    ///
    /// # Errors
    /// `Exists`, `NoSpace`.
    pub fn register_command(
        &mut self,
        owner: u32,
        group: u8,
        id: u8,
        flags: u8,
        auth_level: u8,
        descs: &[CommandDesc],
    ) -> Result<u16, CmdError> {
        self.register_command_with(
            owner,
            group,
            id,
            flags,
            auth_level,
            descs,
            CommandHandler::None,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn register_command_with(
        &mut self,
        owner: u32,
        group: u8,
        id: u8,
        flags: u8,
        auth_level: u8,
        descs: &[CommandDesc],
        handler: CommandHandler,
    ) -> Result<u16, CmdError> {
        let oid = oid(group, id);
        if self.commands.contains_key(&(oid, owner)) {
            return Err(CmdError::Exists);
        }
        if self.commands.len() >= self.limits.max_commands {
            return Err(CmdError::NoSpace);
        }
        let mut texts: Vec<&str> = Vec::new();
        for d in descs {
            match d {
                CommandDesc::Group { name } => texts.push(name),
                CommandDesc::Name { name, help } => {
                    texts.push(name);
                    texts.push(help);
                }
            }
        }
        if !self.strings.insert_all(&texts) {
            return Err(CmdError::NoSpace);
        }
        let desc_head = self.alloc_desc_offsets(descs.iter().map(CommandDesc::pool_size));
        let mut e = CommandEntry {
            group,
            id,
            flags,
            auth: auth_level,
            owner,
            seq: self.next_seq,
            desc_head,
            handler,
            group_name: None,
            name: None,
            help: None,
            has_name_desc: false,
        };
        self.next_seq += 1;
        for d in descs {
            match d {
                CommandDesc::Group { name } => e.group_name = Some(name.clone()),
                CommandDesc::Name { name, help } => {
                    e.has_name_desc = true;
                    e.name = Some(name.clone());
                    e.help = Some(help.clone());
                }
            }
        }
        self.commands.insert((oid, owner), e);
        self.note_command_usage();
        self.emit(ValEvent::CmdRegistered {
            pid: owner,
            oid,
            flags,
            auth_level,
            desc_head,
        });
        Ok(oid)
    }

    /// CMD_REGISTER from guest memory (CMD_NAME descriptors only, auth PUBLIC, no handler).
    ///
    /// # Errors
    /// `Invalid`, `Exists`, `NoSpace`.
    pub fn register_command_from_guest<M: GuestMem + ?Sized>(
        &mut self,
        pid: u32,
        group: u8,
        id: u8,
        flags: u8,
        mem: &M,
        desc_ptr: u16,
    ) -> Result<u16, CmdError> {
        let descs = parse_command_chain(mem, desc_ptr)?;
        self.register_command(pid, group, id, flags, auth::PUBLIC, &descs)
    }

    /// Register a `.cmd` metadata entry (`services.md` §3.3 step 6): GROUP and CMD_NAME
    /// descriptors, handler = the guest code offset.
    ///
    /// # Errors
    /// `Exists`, `NoSpace`.
    pub fn register_command_from_meta(
        &mut self,
        pid: u32,
        m: &MetaCommand<'_>,
    ) -> Result<u16, CmdError> {
        let mut descs = Vec::new();
        if let Some(g) = m.group_name.filter(|s| !s.is_empty()) {
            descs.push(CommandDesc::Group {
                name: String::from(g),
            });
        }
        let name = m.name.filter(|s| !s.is_empty());
        let help = m.help.filter(|s| !s.is_empty());
        if name.is_some() || help.is_some() {
            descs.push(CommandDesc::Name {
                name: String::from(name.unwrap_or("")),
                help: String::from(help.unwrap_or("")),
            });
        }
        self.register_command_with(
            pid,
            m.group,
            m.id,
            m.flags,
            m.auth,
            &descs,
            CommandHandler::Guest(m.handler),
        )
    }

    /// Install (or replace) a host handler on an existing command.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn set_command_handler(
        &mut self,
        oid: u16,
        owner: u32,
        handler: CommandHandler,
    ) -> Result<(), CmdError> {
        let e = self
            .commands
            .get_mut(&(oid, owner))
            .ok_or(CmdError::NotFound)?;
        e.handler = handler;
        Ok(())
    }

    /// Install the PIN token validator (without one, PIN commands always fail EPERM).
    pub fn set_token_validator(&mut self, validator: Option<TokenValidator>) {
        self.validator = validator;
    }

    /// CMD_LOOKUP.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn lookup_command(&self, group: u8, id: u8, owner: Option<u32>) -> Result<u16, CmdError> {
        let oid = oid(group, id);
        self.resolve_command(oid, owner, Caller::HOST)
            .map(|_| oid)
            .ok_or(CmdError::NotFound)
    }

    fn check_call(&self, k: Key, caller: Caller, token: Option<&[u8]>) -> Result<(), CmdError> {
        let e = self.commands.get(&k).ok_or(CmdError::NotFound)?;
        if caller.pid().is_some_and(|p| p != e.owner) {
            return Err(CmdError::PermissionDenied);
        }
        if caller.auth() < e.auth {
            return Err(CmdError::PermissionDenied);
        }
        if e.flags & cmd_flag::PIN != 0 {
            let caller_pid = caller.pid().unwrap_or(e.owner);
            let ok = self
                .validator
                .as_ref()
                .is_some_and(|v| v(k.0, e.owner, caller_pid, token));
            if !ok {
                return Err(CmdError::PermissionDenied);
            }
        }
        Ok(())
    }

    fn run(&mut self, k: Key, caller: Caller, is_async: bool) -> Result<Option<u32>, CmdError> {
        let Some(e) = self.commands.get_mut(&k) else {
            return Err(CmdError::NotFound);
        };
        let owner = e.owner;
        let caller_pid = caller.pid().unwrap_or(owner);
        let outcome = match &mut e.handler {
            CommandHandler::None | CommandHandler::Guest(_) => Ok(None),
            CommandHandler::Host(h) => h(caller.pid().unwrap_or(0)).map_err(|_| CmdError::Failed),
        };
        self.emit(ValEvent::CmdInvoked {
            caller_pid,
            owner_pid: owner,
            oid: k.0,
            is_async,
        });
        let (status, result) = completion_parts(&outcome);
        self.emit(ValEvent::CmdCompleted {
            caller_pid,
            owner_pid: owner,
            oid: k.0,
            status,
            result,
        });
        outcome
    }

    /// CMD_CALL: checks (not found, owner-only for tasks, auth level, PIN token), then runs
    /// the handler. Returns the numeric result for R1 (`None`: leave R1 untouched).
    ///
    /// # Errors
    /// `NotFound`, `PermissionDenied`, `Failed`.
    pub fn call_command(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
        token: Option<&[u8]>,
    ) -> Result<Option<u32>, CmdError> {
        let k = self
            .resolve_command(oid, owner, caller)
            .ok_or(CmdError::NotFound)?;
        self.check_call(k, caller, token)?;
        self.run(k, caller, false)
    }

    /// CMD_CALL_ASYNC: open a reply handle on `reply_target` (for the caller; PID 0 for the
    /// host), check, run the handler deterministically now and post the completion frame
    /// `<oid><status>[<result>]` to the reply handle. Returns the handle. The handle is
    /// closed on any error, and when the completion cannot be posted.
    ///
    /// # Errors
    /// `Invalid` (empty target / open failure), `NotFound`, `NoAsync`, `PermissionDenied`.
    pub fn call_command_async(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
        token: Option<&[u8]>,
        reply_target: &str,
        port: &mut dyn MailboxPort,
    ) -> Result<u32, CmdError> {
        if reply_target.is_empty() {
            return Err(CmdError::Invalid);
        }
        let reply_pid = caller.pid().unwrap_or(0);
        let handle = port
            .open(reply_pid, reply_target)
            .map_err(|_| CmdError::Invalid)?;
        let checked = self
            .resolve_command(oid, owner, caller)
            .ok_or(CmdError::NotFound)
            .and_then(|k| {
                let e = self.commands.get(&k).ok_or(CmdError::NotFound)?;
                if e.flags & cmd_flag::ASYNC == 0 {
                    return Err(CmdError::NoAsync);
                }
                self.check_call(k, caller, token)?;
                Ok(k)
            });
        let k = match checked {
            Ok(k) => k,
            Err(err) => {
                port.close(reply_pid, handle);
                return Err(err);
            }
        };
        let (status, result) = completion_parts(&self.run(k, caller, true));
        let frame = completion_frame(oid, status, result);
        if port.post(reply_pid, handle, &frame).is_err() {
            port.close(reply_pid, handle);
        }
        Ok(handle)
    }

    /// CMD_HELP text (empty if the descriptor has none).
    ///
    /// # Errors
    /// `NotFound` (no command, or no CMD_NAME descriptor).
    pub fn command_help(
        &self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
    ) -> Result<&str, CmdError> {
        let k = self
            .resolve_command(oid, owner, caller)
            .ok_or(CmdError::NotFound)?;
        let e = self.commands.get(&k).ok_or(CmdError::NotFound)?;
        if !e.has_name_desc {
            return Err(CmdError::NotFound);
        }
        Ok(e.help.as_deref().unwrap_or(""))
    }

    /// OIDs of commands in registration order, filtered by group and owner.
    #[must_use]
    pub fn list_commands(&self, group_filter: u8, owner: Option<u32>) -> Vec<u16> {
        list_in_order(&self.commands, group_filter, owner, |e| {
            (e.group, e.owner, e.seq)
        })
    }

    /// `cmd.list`: matching commands sorted by `(oid, owner)`.
    #[must_use]
    pub fn describe_commands(&self, f: &ListFilter<'_>) -> Vec<CommandInfo> {
        self.commands
            .iter()
            .filter(|((oid, own), e)| f.matches(*oid, *own, e.group, e.name.as_deref()))
            .map(|((oid, _), e)| CommandInfo {
                oid: *oid,
                group_id: e.group,
                cmd_id: e.id,
                flags: e.flags,
                auth_level: e.auth,
                owner_pid: e.owner,
                handler_addr: match e.handler {
                    CommandHandler::Guest(a) => Some(a),
                    _ => None,
                },
                host_handler: matches!(e.handler, CommandHandler::Host(_)),
                desc_head: e.desc_head,
                group_name: e.group_name.clone(),
                name: e.name.clone(),
                help: e.help.clone(),
            })
            .collect()
    }

    // ----------------------------------------------------------------- housekeeping

    /// Remove every value and command owned by `pid` and every subscription it holds
    /// (task exit and kill). Pending persistence writes are kept.
    pub fn release_pid(&mut self, pid: u32) -> ReleaseCounts {
        let before_v = self.values.len();
        let before_c = self.commands.len();
        self.values.retain(|(_, owner), _| *owner != pid);
        self.commands.retain(|(_, owner), _| *owner != pid);
        let mut subscriptions = 0;
        for e in self.values.values_mut() {
            let n = e.subscribers.len();
            e.subscribers.retain(|(p, _)| *p != pid);
            subscriptions += n - e.subscribers.len();
        }
        self.note_value_usage();
        self.note_command_usage();
        ReleaseCounts {
            values: before_v - self.values.len(),
            commands: before_c - self.commands.len(),
            subscriptions,
        }
    }

    /// Drop one subscription (e.g. its handle was closed elsewhere). Returns whether any
    /// existed.
    pub fn unsubscribe_handle(&mut self, pid: u32, handle: u32) -> bool {
        let mut found = false;
        for e in self.values.values_mut() {
            let n = e.subscribers.len();
            e.subscribers.retain(|s| *s != (pid, handle));
            found |= n != e.subscribers.len();
        }
        found
    }

    /// Occupancy statistics.
    #[must_use]
    pub fn stats(&self) -> RegistryStats {
        RegistryStats {
            values: PoolStats {
                count: self.values.len(),
                capacity: self.limits.max_values,
                high_water: self.value_high,
                warning: self.value_warn,
            },
            commands: PoolStats {
                count: self.commands.len(),
                capacity: self.limits.max_commands,
                high_water: self.cmd_high,
                warning: self.cmd_warn,
            },
            strings: PoolStats {
                count: self.strings.used,
                capacity: self.strings.capacity,
                high_water: self.strings.high_water,
                warning: self.strings.warning,
            },
        }
    }
}

/// A command outcome as the completion reports it: status code and result.
fn completion_parts(outcome: &Result<Option<u32>, CmdError>) -> (u16, Option<u32>) {
    match outcome {
        Ok(r) => (cst::OK, *r),
        Err(err) => (err.code(), None),
    }
}

/// OIDs in registration order, filtered by group (`GROUP_ALL` = any) and owner;
/// `fields` gives an entry's `(group, owner, seq)`.
fn list_in_order<E>(
    map: &BTreeMap<Key, E>,
    group_filter: u8,
    owner: Option<u32>,
    fields: impl Fn(&E) -> (u8, u32, u64),
) -> Vec<u16> {
    let mut v: Vec<(u64, u16)> = map
        .iter()
        .map(|((oid, _), e)| (*oid, fields(e)))
        .filter(|(_, (group, _, _))| group_filter == GROUP_ALL || *group == group_filter)
        .filter(|(_, (_, own, _))| owner.is_none_or(|o| *own == o))
        .map(|(oid, (_, _, seq))| (seq, oid))
        .collect();
    v.sort_unstable();
    v.into_iter().map(|(_, oid)| oid).collect()
}

fn resolve<E>(
    map: &BTreeMap<Key, E>,
    oid: u16,
    owner: Option<u32>,
    caller: Caller,
    seq: impl Fn(&E) -> u64,
) -> Option<Key> {
    if let Some(o) = owner {
        return map.contains_key(&(oid, o)).then_some((oid, o));
    }
    if let Some(p) = caller.pid()
        && map.contains_key(&(oid, p))
    {
        return Some((oid, p));
    }
    map.range((oid, 0)..=(oid, u32::MAX))
        .min_by_key(|(_, e)| seq(e))
        .map(|(k, _)| *k)
}
