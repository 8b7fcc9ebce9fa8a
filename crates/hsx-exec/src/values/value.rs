//! Values: registration (SVC, guest memory, image metadata), lookup, access checks, get and
//! set (epsilon, rate limit, read-only), VAL_PERSIST and listing.

use alloc::string::String;
use alloc::vec::Vec;

use super::abi::{
    ValError, auth, f64_to_f16, flag, notification_frame, oid, persist_mode, within_epsilon,
};
use super::chain::{GuestMem, ValueDesc, encode_unit, parse_value_chain};
use super::events::ValEvent;
use super::params::{Caller, MetaValue};
use super::registry::Registry;
use super::report::{ListFilter, SetResult, ValueInfo};
use super::store::{Key, ValueEntry, list_in_order, resolve};
use crate::mailbox::port::MailboxPort;
use crate::persist::is_usable_key;
use hsx_vm::fp16::f16_to_f64;

impl Registry {
    // ----------------------------------------------------------------------- values

    pub(super) fn resolve_value(
        &self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
    ) -> Option<Key> {
        resolve(&self.values, oid, owner, caller, |e| e.seq)
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
        if owner != 0
            && self.values.values().filter(|e| e.owner == owner).count()
                >= self.limits.values_per_task
        {
            return Err(ValError::Quota);
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
        if unit.is_some() || m.epsilon & 0x7FFF != 0 || m.rate_ms != 0 {
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

    pub(super) fn check_access(e: &ValueEntry, caller: Caller) -> Result<(), ValError> {
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
        self.set_inner(oid, owner, caller, bits, now_ms, port, |old, eps| {
            within_epsilon(bits, old, eps)
        })
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
        self.set_inner(
            oid,
            owner,
            caller,
            f64_to_f16(value),
            now_ms,
            port,
            |old, eps| {
                let eps = f16_to_f64(eps);
                eps > 0.0 && (value - f16_to_f64(old)).abs() < eps
            },
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn set_inner(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
        new_bits: u16,
        now_ms: u64,
        port: &mut dyn MailboxPort,
        below_epsilon: impl FnOnce(u16, u16) -> bool,
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
        if below_epsilon(old, e.epsilon) {
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
        self.notify(k, &notification_frame(oid, old, new_bits), subs, port);
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
}
