//! Value and command records (protocol.md §2.6): `val.list`/`cmd.list` entries, the
//! `val.get`/`val.set`/`cmd.call` results, the registry `stats`, and the data of
//! `value_*`/`cmd_*` events (§4.5).

use hsx_exec::values::{CommandInfo, PoolStats, ValEvent, ValueInfo, f16_to_f64};
use serde::Serialize;

/// One `val.list` entry.
#[derive(Debug, Clone, Serialize)]
pub struct ValueEntry<'a> {
    /// Object id (group << 8 | id).
    pub oid: u16,
    /// Group.
    pub group_id: u8,
    /// Member id.
    pub value_id: u8,
    /// Flags.
    pub flags: u8,
    /// Authorisation level.
    pub auth_level: u8,
    /// Owner.
    pub owner_pid: u32,
    /// Last value, f16 bits.
    pub last_f16: u16,
    /// Last value.
    pub last_value: f64,
    /// Descriptor chain head.
    pub desc_head: u32,
    /// FRAM key.
    pub persist_key: u16,
    /// Persistence debounce.
    pub persist_debounce_ms: u16,
    /// Name, if declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// Group name, if declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<&'a str>,
    /// Unit text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Unit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_code: Option<u32>,
    /// Change threshold, f16 bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epsilon_f16: Option<u16>,
    /// Change threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<f64>,
    /// Notification rate limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_ms: Option<u16>,
    /// Range low, f16 bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_f16: Option<u16>,
    /// Range high, f16 bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_f16: Option<u16>,
    /// Range low.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Range high.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl<'a> ValueEntry<'a> {
    /// The entry of `v`.
    pub fn of(v: &'a ValueInfo) -> Self {
        Self {
            oid: v.oid,
            group_id: v.group_id,
            value_id: v.value_id,
            flags: v.flags,
            auth_level: v.auth_level,
            owner_pid: v.owner_pid,
            last_f16: v.last_f16,
            last_value: v.last_value(),
            desc_head: v.desc_head,
            persist_key: v.persist_key,
            persist_debounce_ms: v.persist_debounce_ms,
            name: v.name.as_deref(),
            group_name: v.group_name.as_deref(),
            unit: v.unit(),
            unit_code: v.unit_code,
            epsilon_f16: v.epsilon_f16,
            epsilon: v.epsilon_f16.map(f16_to_f64),
            rate_ms: v.rate_ms,
            min_f16: v.range.map(|r| r.0),
            max_f16: v.range.map(|r| r.1),
            min: v.range.map(|r| f16_to_f64(r.0)),
            max: v.range.map(|r| f16_to_f64(r.1)),
        }
    }
}

/// One `cmd.list` entry.
#[derive(Debug, Clone, Serialize)]
pub struct CommandEntry<'a> {
    /// Object id.
    pub oid: u16,
    /// Group.
    pub group_id: u8,
    /// Member id.
    pub cmd_id: u8,
    /// Flags.
    pub flags: u8,
    /// Authorisation level.
    pub auth_level: u8,
    /// Owner.
    pub owner_pid: u32,
    /// Guest handler address, if any.
    pub handler_ref: Option<u32>,
    /// Descriptor chain head.
    pub desc_head: u32,
    /// Name, if declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// Group name, if declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<&'a str>,
    /// Help text, if declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
}

impl<'a> CommandEntry<'a> {
    /// The entry of `c`.
    pub fn of(c: &'a CommandInfo) -> Self {
        Self {
            oid: c.oid,
            group_id: c.group_id,
            cmd_id: c.cmd_id,
            flags: c.flags,
            auth_level: c.auth_level,
            owner_pid: c.owner_pid,
            handler_ref: c.handler_addr,
            desc_head: c.desc_head,
            name: c.name.as_deref(),
            group_name: c.group_name.as_deref(),
            help: c.help.as_deref(),
        }
    }
}

/// The `val.get`/`val.set` result: a status, and the value on success.
#[derive(Debug, Clone, Serialize)]
pub struct ValueResult {
    /// 0 or the registry's status code.
    pub status: u16,
    /// The value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The value, f16 bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f16: Option<u16>,
    /// The task the request named, else the owner the OID resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
}

impl ValueResult {
    /// From the registry's answer.
    pub fn of(r: Result<u16, u16>, pid: Option<u32>) -> Self {
        match r {
            Ok(bits) => Self {
                status: 0,
                value: Some(f16_to_f64(bits)),
                f16: Some(bits),
                pid,
            },
            Err(code) => Self {
                status: code,
                value: None,
                f16: None,
                pid,
            },
        }
    }
}

/// The `cmd.call` result.
#[derive(Debug, Clone, Serialize)]
pub struct CallResult {
    /// 0 or the registry's status code.
    pub status: u16,
    /// The handler's result (none on failure).
    pub result: Option<u32>,
    /// The task the request named, else the owner the OID resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
}

/// A registry pool in `val.stats`/`cmd.stats`.
#[derive(Debug, Clone, Serialize)]
pub struct Pool {
    /// Entries.
    pub count: usize,
    /// Capacity.
    pub capacity: usize,
    /// Percent used.
    pub usage_pct: f64,
    /// Most ever used.
    pub high_water: usize,
    /// High water, percent.
    pub high_water_pct: f64,
    /// Over the warning threshold.
    pub warning: bool,
}

impl From<&PoolStats> for Pool {
    fn from(p: &PoolStats) -> Self {
        Self {
            count: p.count,
            capacity: p.capacity,
            usage_pct: p.usage_pct(),
            high_water: p.high_water,
            high_water_pct: p.high_water_pct(),
            warning: p.warning,
        }
    }
}

/// The string pool in `val.stats`/`cmd.stats`.
#[derive(Debug, Clone, Serialize)]
pub struct Strings {
    /// Bytes used.
    pub used_bytes: usize,
    /// Bytes in all.
    pub total_bytes: usize,
    /// Percent used.
    pub usage_pct: f64,
    /// Most bytes ever used.
    pub high_water_bytes: usize,
    /// High water, percent.
    pub high_water_pct: f64,
    /// Over the warning threshold.
    pub warning: bool,
}

impl From<&PoolStats> for Strings {
    fn from(p: &PoolStats) -> Self {
        Self {
            used_bytes: p.count,
            total_bytes: p.capacity,
            usage_pct: p.usage_pct(),
            high_water_bytes: p.high_water,
            high_water_pct: p.high_water_pct(),
            warning: p.warning,
        }
    }
}

/// `val.stats`.
#[derive(Debug, Clone, Serialize)]
pub struct ValueStats {
    /// The value pool.
    pub values: Pool,
    /// The string pool.
    pub strings: Strings,
}

/// `cmd.stats`.
#[derive(Debug, Clone, Serialize)]
pub struct CommandStats {
    /// The command pool.
    pub commands: Pool,
    /// The string pool.
    pub strings: Strings,
}

/// `value_*`/`cmd_*` event data: the OID also split into group and member id, values as
/// f16 bits and as numbers.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[allow(missing_docs)]
pub enum ValueData {
    /// `value_registered`.
    ValueRegistered {
        pid: u32,
        owner_pid: u32,
        caller_pid: u32,
        oid: u16,
        group_id: u16,
        value_id: u16,
        flags: u8,
        auth_level: u8,
        desc_head: u32,
    },
    /// `value_changed`.
    ValueChanged {
        pid: u32,
        owner_pid: u32,
        caller_pid: u32,
        oid: u16,
        group_id: u16,
        value_id: u16,
        old_f16: u16,
        new_f16: u16,
        old_value: f64,
        new_value: f64,
        flags: u8,
        auth_level: u8,
    },
    /// `cmd_registered`.
    CmdRegistered {
        pid: u32,
        owner_pid: u32,
        caller_pid: u32,
        oid: u16,
        group_id: u16,
        cmd_id: u16,
        flags: u8,
        auth_level: u8,
        desc_head: u32,
    },
    /// `cmd_invoked`.
    CmdInvoked {
        caller_pid: u32,
        owner_pid: u32,
        oid: u16,
        group_id: u16,
        cmd_id: u16,
        #[serde(rename = "async")]
        is_async: bool,
    },
    /// `cmd_completed`.
    CmdCompleted {
        caller_pid: u32,
        owner_pid: u32,
        oid: u16,
        group_id: u16,
        cmd_id: u16,
        status: u16,
        result: Option<u32>,
    },
}

impl ValueData {
    /// The data of `v`.
    pub fn of(v: &ValEvent) -> Self {
        let split = |oid: u16| (oid >> 8, oid & 0xFF);
        match *v {
            ValEvent::ValueRegistered {
                pid,
                caller_pid,
                oid,
                flags,
                auth_level,
                desc_head,
            } => Self::ValueRegistered {
                pid,
                owner_pid: pid,
                caller_pid,
                oid,
                group_id: split(oid).0,
                value_id: split(oid).1,
                flags,
                auth_level,
                desc_head,
            },
            ValEvent::ValueChanged {
                pid,
                caller_pid,
                oid,
                old_f16,
                new_f16,
                flags,
                auth_level,
            } => Self::ValueChanged {
                pid,
                owner_pid: pid,
                caller_pid,
                oid,
                group_id: split(oid).0,
                value_id: split(oid).1,
                old_f16,
                new_f16,
                old_value: f16_to_f64(old_f16),
                new_value: f16_to_f64(new_f16),
                flags,
                auth_level,
            },
            ValEvent::CmdRegistered {
                pid,
                oid,
                flags,
                auth_level,
                desc_head,
            } => Self::CmdRegistered {
                pid,
                owner_pid: pid,
                caller_pid: pid,
                oid,
                group_id: split(oid).0,
                cmd_id: split(oid).1,
                flags,
                auth_level,
                desc_head,
            },
            ValEvent::CmdInvoked {
                caller_pid,
                owner_pid,
                oid,
                is_async,
            } => Self::CmdInvoked {
                caller_pid,
                owner_pid,
                oid,
                group_id: split(oid).0,
                cmd_id: split(oid).1,
                is_async,
            },
            ValEvent::CmdCompleted {
                caller_pid,
                owner_pid,
                oid,
                status,
                result,
            } => Self::CmdCompleted {
                caller_pid,
                owner_pid,
                oid,
                group_id: split(oid).0,
                cmd_id: split(oid).1,
                status,
                result,
            },
        }
    }
}
