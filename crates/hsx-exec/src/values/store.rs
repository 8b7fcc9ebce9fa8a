//! The registry's tables: value and command entries keyed by `(oid, owner_pid)`, the
//! shared string pool, the occupancy-warning hysteresis, and OID resolution and ordering.

use crate::vecmap::VecMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::abi::GROUP_ALL;
use super::params::{Caller, CommandHandler};

#[derive(Debug, Clone)]
pub(super) struct ValueEntry {
    pub(super) group: u8,
    pub(super) id: u8,
    pub(super) flags: u8,
    pub(super) auth: u8,
    pub(super) owner: u32,
    pub(super) bits: u16,
    pub(super) seq: u64,
    pub(super) desc_head: u32,
    pub(super) last_change: Option<u64>,
    pub(super) subscribers: Vec<(u32, u32)>,
    pub(super) persist_key: u16,
    pub(super) debounce_ms: u16,
    pub(super) epsilon: u16,
    pub(super) rate_ms: u16,
    pub(super) has_unit: bool,
    pub(super) unit_code: u32,
    pub(super) has_persist_desc: bool,
    pub(super) range: Option<(u16, u16)>,
    pub(super) group_name: Option<String>,
    pub(super) name: Option<String>,
}

#[derive(Debug)]
pub(super) struct CommandEntry {
    pub(super) group: u8,
    pub(super) id: u8,
    pub(super) flags: u8,
    pub(super) auth: u8,
    pub(super) owner: u32,
    pub(super) seq: u64,
    pub(super) desc_head: u32,
    pub(super) handler: CommandHandler,
    pub(super) group_name: Option<String>,
    pub(super) name: Option<String>,
    pub(super) help: Option<String>,
    pub(super) has_name_desc: bool,
}

impl CommandEntry {
    /// A copy for a snapshot: a host handler cannot be copied, so the copy has none and
    /// gets the live one back when the snapshot is restored (`Registry::adopt_host_parts`).
    #[cfg(feature = "record")]
    pub(super) fn snapshot_copy(&self) -> Self {
        Self {
            group: self.group,
            id: self.id,
            flags: self.flags,
            auth: self.auth,
            owner: self.owner,
            seq: self.seq,
            desc_head: self.desc_head,
            handler: match &self.handler {
                CommandHandler::None | CommandHandler::Host(_) => CommandHandler::None,
                CommandHandler::Guest(a) => CommandHandler::Guest(*a),
            },
            group_name: self.group_name.clone(),
            name: self.name.clone(),
            help: self.help.clone(),
            has_name_desc: self.has_name_desc,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct StringPool {
    pub(super) offsets: VecMap<String, u32>,
    pub(super) used: usize,
    pub(super) capacity: usize,
    pub(super) high_water: usize,
    pub(super) warning: bool,
}

impl StringPool {
    pub(super) fn needed(&self, texts: &[&str]) -> usize {
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
    pub(super) fn insert_all(&mut self, texts: &[&str]) -> bool {
        if self.used.saturating_add(self.needed(texts)) > self.capacity {
            return false;
        }
        for t in texts {
            self.insert(t);
        }
        true
    }

    pub(super) fn insert(&mut self, text: &str) {
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

pub(super) fn update_warning(active: bool, count: usize, capacity: usize) -> bool {
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

pub(super) type Key = (u16, u32);

/// OIDs in registration order, filtered by group (`GROUP_ALL` = any) and owner;
/// `fields` gives an entry's `(group, owner, seq)`.
pub(super) fn list_in_order<E>(
    map: &VecMap<Key, E>,
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
    insertion_sort(&mut v);
    v.into_iter().map(|(_, oid)| oid).collect()
}

/// Sort a short list in place (the registry's tables are small): a few dozen bytes of code
/// where `sort_unstable` costs 2.5 KiB of flash on a microcontroller. Same order as any
/// sort for these distinct keys.
fn insertion_sort<T: Ord + Copy>(v: &mut [T]) {
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > x {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

pub(super) fn resolve<E>(
    map: &VecMap<Key, E>,
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
