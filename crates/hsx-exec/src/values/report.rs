//! What the registry reports back: listings (`val.list`, `cmd.list`) and their filter,
//! occupancy statistics, and the outcomes of a set and of releasing a task.

use alloc::string::String;

use super::chain::decode_unit;
use hsx_vm::fp16::f16_to_f64;

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
    pub(super) fn matches(&self, oid: u16, owner: u32, group: u8, name: Option<&str>) -> bool {
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

/// What [`Registry::release_pid`](crate::values::Registry::release_pid) removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReleaseCounts {
    /// Values owned by the PID.
    pub values: usize,
    /// Commands owned by the PID.
    pub commands: usize,
    /// Subscriptions held by the PID on other tasks' values.
    pub subscriptions: usize,
}
