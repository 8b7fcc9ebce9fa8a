//! Copies of the registry for record/replay snapshots. The host parts of a registry (the
//! persistence store, the PIN validator, host command handlers) are not state of the
//! recorded run and cannot be copied: a copy has none, and restoring it hands it the live
//! ones back.

use super::params::CommandHandler;
use super::registry::Registry;
use crate::vecmap::VecMap;

impl Registry {
    /// Everything the guests can observe, without the host parts.
    pub(crate) fn snapshot_copy(&self) -> Registry {
        let mut commands = VecMap::with_capacity(self.commands.len());
        for (k, e) in self.commands.iter() {
            commands.insert(*k, e.snapshot_copy());
        }
        Registry {
            limits: self.limits,
            values: self.values.clone(),
            commands,
            strings: self.strings.clone(),
            next_desc_offset: self.next_desc_offset,
            next_seq: self.next_seq,
            value_high: self.value_high,
            value_warn: self.value_warn,
            cmd_high: self.cmd_high,
            cmd_warn: self.cmd_warn,
            persist: None,
            writes: self.writes.clone(),
            validator: None,
            events: self.events.clone(),
            guest_outcome: None,
        }
    }

    /// Take over `live`'s host parts (store, validator, host handlers of the commands
    /// both registries hold).
    pub(crate) fn adopt_host_parts(&mut self, live: &mut Registry) {
        self.persist = live.persist.take();
        self.validator = live.validator.take();
        for (k, e) in live.commands.iter_mut() {
            if matches!(e.handler, CommandHandler::Host(_))
                && let Some(mine) = self.commands.get_mut(k)
            {
                mine.handler = core::mem::replace(&mut e.handler, CommandHandler::None);
            }
        }
    }

    /// Swap the persistence store (replay runs against a store that keeps nothing).
    pub(crate) fn swap_persist(
        &mut self,
        store: Option<alloc::boxed::Box<dyn crate::persist::Persist + Send>>,
    ) -> Option<alloc::boxed::Box<dyn crate::persist::Persist + Send>> {
        core::mem::replace(&mut self.persist, store)
    }
}
