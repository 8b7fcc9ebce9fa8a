//! Consumer-facing passthroughs: mailboxes, values/commands, persistence, and the debugger
//! (breakpoints, watches, trace).

use alloc::format;
use alloc::vec::Vec;

use super::{ExecError, Executive, ListenMessage, TaskCode};
#[allow(unused_imports)]
use crate::debug::{TRACE_CAPACITY_MAX, WATCH_MAX_LEN, WatchInfo};
use crate::event::TraceRecord;
use crate::mailbox::{
    DescriptorInfo, MailboxError, MailboxManager, MailboxStats, PidCounters, SendReport,
    StdioStream,
};
use crate::values::{
    Caller, CmdError, CommandInfo, ListFilter, Registry, RegistryStats, SetResult, ValError,
    ValueInfo, cmd_flag,
};

/// PID the host (shell, daemon) uses for mailbox operations.
pub const HOST_PID: u32 = 0;

impl<C: TaskCode> Executive<C> {
    // -------------------------------------------------------------- mailboxes

    /// The mailbox manager, read-only (snapshots, stats, lookups).
    #[must_use]
    pub const fn mailboxes(&self) -> &MailboxManager {
        &self.mailboxes
    }

    /// Run `f` on the mailbox manager (open/bind/close/recv/peek/tap/stdio modes as the host
    /// or on a task's behalf), then complete any receives it unblocked and collect its
    /// events. Completions and events are never lost this way.
    pub fn mailbox_op<R>(&mut self, f: impl FnOnce(&mut MailboxManager) -> R) -> R {
        self.touch();
        self.refresh_clock();
        let r = f(&mut self.mailboxes);
        self.process_completions();
        self.pump();
        r
    }

    /// Every descriptor, sorted by id (`mailbox_snapshot.descriptors`).
    #[must_use]
    pub fn mailbox_snapshot(&self) -> Vec<DescriptorInfo> {
        self.mailboxes.snapshot()
    }

    /// Manager-wide statistics (`mailbox_snapshot.stats`).
    #[must_use]
    pub fn mailbox_stats(&self) -> MailboxStats {
        self.mailboxes.stats()
    }

    /// `MAILBOX_STEP`/`MAILBOX_WAKE`/`MAILBOX_TIMEOUT` of a PID.
    #[must_use]
    pub fn mailbox_counters(&self, pid: u32) -> PidCounters {
        self.mailboxes.counters(pid)
    }

    /// Send `data` to `target` as task `sender` (0 = host) through a temporary handle; wakes
    /// waiting receivers and turns stdout/stderr traffic into events.
    ///
    /// # Errors
    /// Any [`MailboxError`] of open or send.
    pub fn mailbox_send(
        &mut self,
        sender: u32,
        target: &str,
        data: &[u8],
        flags: u16,
        channel: u16,
    ) -> Result<SendReport, MailboxError> {
        self.touch();
        self.refresh_clock();
        let r = self
            .mailboxes
            .send_to_target(sender, target, data, flags, channel);
        if let Ok(rep) = &r {
            self.after_send(rep.descriptor, data);
        }
        self.process_completions();
        self.pump();
        r
    }

    /// Shell `send`: `data` to `svc:stdio.in@<pid>` as the host.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::Mailbox`].
    pub fn send_stdin(&mut self, pid: u32, data: &[u8]) -> Result<SendReport, ExecError> {
        self.touch();
        self.slot_of(pid)?;
        let target = format!("svc:stdio.in@{pid}");
        Ok(self.mailbox_send(HOST_PID, &target, data, 0, 0)?)
    }

    /// Shell `listen`: poll up to `limit` messages (each cut to `max_len`) from
    /// `svc:stdio.out@<pid>` — or from every task's stdout when `pid` is `None` — through a
    /// temporary host handle. Destructive for single-reader mailboxes, like the reference.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`] for an unknown `pid`.
    pub fn listen_stdout(
        &mut self,
        pid: Option<u32>,
        limit: usize,
        max_len: u32,
    ) -> Result<Vec<ListenMessage>, ExecError> {
        self.touch();
        let pids: Vec<u32> = match pid {
            Some(p) => {
                self.slot_of(p)?;
                alloc::vec![p]
            }
            None => self
                .stdio_desc
                .values()
                .filter(|(_, s)| *s == StdioStream::Out)
                .map(|(p, _)| *p)
                .collect(),
        };
        let mut out = Vec::new();
        for p in pids {
            let target = format!("svc:stdio.out@{p}");
            let Ok(h) = self.mailboxes.open(HOST_PID, &target) else {
                continue;
            };
            for _ in 0..limit {
                match self.mailboxes.recv(HOST_PID, h, max_len) {
                    Ok(Some(m)) => out.push(ListenMessage {
                        target: target.clone(),
                        pid: p,
                        data: m.data,
                        flags: m.flags,
                        channel: m.channel,
                        src_pid: m.src_pid,
                    }),
                    _ => break,
                }
            }
            let _ = self.mailboxes.close(HOST_PID, h);
        }
        self.process_completions();
        self.pump();
        Ok(out)
    }

    // ------------------------------------------------------- values / commands

    /// The value/command registry, read-only.
    #[must_use]
    pub const fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Run `f` on the registry with the mailbox manager as its port (install host command
    /// handlers, a token validator, …), then complete unblocked receives and collect events.
    pub fn registry_op<R>(
        &mut self,
        f: impl FnOnce(&mut Registry, &mut MailboxManager, u64) -> R,
    ) -> R {
        self.touch();
        let now = self.refresh_clock();
        let r = f(&mut self.registry, &mut self.mailboxes, now);
        self.process_completions();
        self.pump();
        r
    }

    /// `val.list`.
    #[must_use]
    pub fn val_list(&self, filter: &ListFilter<'_>) -> Vec<ValueInfo> {
        self.registry.describe_values(filter)
    }

    /// `val.get` as the host (acting as owner); `pid` picks the owner of a per-instance OID.
    ///
    /// # Errors
    /// [`ValError`] (its `code()` is the protocol's inner `status`).
    pub fn val_get(&self, oid: u16, pid: Option<u32>) -> Result<u16, ValError> {
        self.registry.get_value(oid, pid, Caller::HOST)
    }

    /// `val.set` as the host (RO, rate limit and epsilon still apply); notifies subscribers.
    ///
    /// # Errors
    /// [`ValError`].
    pub fn val_set(
        &mut self,
        oid: u16,
        pid: Option<u32>,
        value: f64,
    ) -> Result<SetResult, ValError> {
        self.touch();
        let now = self.refresh_clock();
        let r =
            self.registry
                .set_value_f64(oid, pid, Caller::HOST, value, now, &mut self.mailboxes);
        self.process_completions();
        self.pump();
        r
    }

    /// `val.stats` / `cmd.stats`.
    #[must_use]
    pub fn registry_stats(&self) -> RegistryStats {
        self.registry.stats()
    }

    /// `cmd.list`.
    #[must_use]
    pub fn cmd_list(&self, filter: &ListFilter<'_>) -> Vec<CommandInfo> {
        self.registry.describe_commands(filter)
    }

    /// `cmd.call` as the host; `async_call` requires the ASYNC flag (the completion is
    /// discarded, as for shell-initiated async calls in the reference). Returns the numeric
    /// result, if any.
    ///
    /// # Errors
    /// [`CmdError`].
    pub fn cmd_call(
        &mut self,
        oid: u16,
        pid: Option<u32>,
        async_call: bool,
    ) -> Result<Option<u32>, CmdError> {
        self.touch();
        self.refresh_clock();
        if async_call {
            let f = ListFilter {
                owner: pid,
                oid: Some(oid),
                ..ListFilter::default()
            };
            let info = self.registry.describe_commands(&f);
            let first = info.first().ok_or(CmdError::NotFound)?;
            if first.flags & cmd_flag::ASYNC == 0 {
                return Err(CmdError::NoAsync);
            }
        }
        self.prepare_guest_call(oid, pid, Caller::HOST, None, async_call);
        let r = self.registry.call_command(oid, pid, Caller::HOST, None);
        self.process_completions();
        self.pump();
        r
    }

    /// Perform every pending (debounced) persistence write now — call before shutdown.
    /// Returns how many were written.
    pub fn flush_persistence(&mut self) -> usize {
        self.registry.flush_persist_all()
    }

    // --------------------------------------------------------------- debugger

    /// Step-over: if the task's PC has a breakpoint, let that instruction run once.
    pub(crate) fn arm_step_over(&mut self, slot: usize) {
        #[cfg(feature = "development")]
        {
            let pc = self.vm_task(slot).map_or(0, hsx_vm::Task::pc);
            if let Some(r) = self.rec_mut(slot) {
                r.debug.skip_bp_at = r.debug.bps.contains(pc).then_some(pc);
            }
        }
        #[cfg(not(feature = "development"))]
        let _ = slot;
    }

    /// Add a breakpoint (address masked to 16 bits). Returns the sorted list.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::Unsupported`] in `minimal`.
    pub fn bp_add(&mut self, pid: u32, addr: u32) -> Result<Vec<u32>, ExecError> {
        self.touch_debug();
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "development")]
        {
            let r = self.rec_mut(slot).ok_or(ExecError::UnknownPid(pid))?;
            r.debug.bps.add(addr);
            r.debug.refresh();
            Ok(r.debug.bps.list())
        }
        #[cfg(not(feature = "development"))]
        {
            let _ = (slot, addr);
            Err(ExecError::Unsupported("breakpoints"))
        }
    }

    /// Remove a breakpoint. Returns the sorted list.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::Unsupported`] in `minimal`.
    pub fn bp_remove(&mut self, pid: u32, addr: u32) -> Result<Vec<u32>, ExecError> {
        self.touch_debug();
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "development")]
        {
            let r = self.rec_mut(slot).ok_or(ExecError::UnknownPid(pid))?;
            r.debug.bps.remove(addr);
            r.debug.refresh();
            Ok(r.debug.bps.list())
        }
        #[cfg(not(feature = "development"))]
        {
            let _ = (slot, addr);
            Err(ExecError::Unsupported("breakpoints"))
        }
    }

    /// Remove every breakpoint of a task.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::Unsupported`] in `minimal`.
    pub fn bp_clear(&mut self, pid: u32) -> Result<(), ExecError> {
        self.touch_debug();
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "development")]
        {
            let r = self.rec_mut(slot).ok_or(ExecError::UnknownPid(pid))?;
            r.debug.bps.clear();
            r.debug.refresh();
            Ok(())
        }
        #[cfg(not(feature = "development"))]
        {
            let _ = slot;
            Err(ExecError::Unsupported("breakpoints"))
        }
    }

    /// Breakpoints of a task, sorted.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::Unsupported`] in `minimal`.
    pub fn bp_list(&self, pid: u32) -> Result<Vec<u32>, ExecError> {
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "development")]
        {
            Ok(self
                .rec(slot)
                .map(|r| r.debug.bps.list())
                .unwrap_or_default())
        }
        #[cfg(not(feature = "development"))]
        {
            let _ = slot;
            Err(ExecError::Unsupported("breakpoints"))
        }
    }

    /// Watch `length` bytes at `address` (16-bit); checked after every instruction of the
    /// task, a change emits `watch_update` with old and new bytes.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::InvalidWatchLength`],
    /// [`ExecError::Unsupported`] outside `full`.
    pub fn watch_add(
        &mut self,
        pid: u32,
        address: u32,
        length: u32,
    ) -> Result<WatchInfo, ExecError> {
        self.touch_debug();
        let slot = self.slot_of(pid)?;
        if length == 0 || length > WATCH_MAX_LEN {
            return Err(ExecError::InvalidWatchLength(length));
        }
        #[cfg(feature = "full")]
        {
            let address = address & 0xFFFF;
            let value = self.read_mem(pid, address, length as usize)?;
            let id = self.next_watch_id;
            self.next_watch_id = self.next_watch_id.saturating_add(1);
            let r = self.rec_mut(slot).ok_or(ExecError::UnknownPid(pid))?;
            r.debug.watches.push(crate::debug::WatchState {
                id,
                address,
                length,
                value: value.clone(),
                stop: false,
            });
            r.debug.refresh();
            Ok(WatchInfo {
                id,
                pid,
                address,
                length,
                value,
            })
        }
        #[cfg(not(feature = "full"))]
        {
            let _ = (slot, address);
            Err(ExecError::Unsupported("watches"))
        }
    }

    /// Remove a watch. Returns it.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::UnknownWatch`], [`ExecError::Unsupported`].
    pub fn watch_remove(&mut self, pid: u32, id: u32) -> Result<WatchInfo, ExecError> {
        self.touch_debug();
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "full")]
        {
            let r = self.rec_mut(slot).ok_or(ExecError::UnknownPid(pid))?;
            let i = r
                .debug
                .watches
                .iter()
                .position(|w| w.id == id)
                .ok_or(ExecError::UnknownWatch { pid, id })?;
            let w = r.debug.watches.remove(i);
            r.debug.refresh();
            Ok(WatchInfo {
                id: w.id,
                pid,
                address: w.address,
                length: w.length,
                value: w.value,
            })
        }
        #[cfg(not(feature = "full"))]
        {
            let _ = (slot, id);
            Err(ExecError::Unsupported("watches"))
        }
    }

    /// Sets whether a change of watch `id` stops its task (phase `post`, reason
    /// [`BreakReason::Watch`](crate::event::BreakReason::Watch)) besides emitting
    /// `watch_update`: what a debugger's data breakpoint needs.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::UnknownWatch`], or
    /// [`ExecError::Unsupported`] without the `full` feature.
    pub fn watch_set_stop(&mut self, pid: u32, id: u32, stop: bool) -> Result<(), ExecError> {
        self.touch_debug();
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "full")]
        {
            let r = self.rec_mut(slot).ok_or(ExecError::UnknownPid(pid))?;
            let w = r
                .debug
                .watches
                .iter_mut()
                .find(|w| w.id == id)
                .ok_or(ExecError::UnknownWatch { pid, id })?;
            w.stop = stop;
            Ok(())
        }
        #[cfg(not(feature = "full"))]
        {
            let _ = (slot, id, stop);
            Err(ExecError::Unsupported("watches"))
        }
    }

    /// Watches of a task (values as last read).
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::Unsupported`].
    pub fn watch_list(&self, pid: u32) -> Result<Vec<WatchInfo>, ExecError> {
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "full")]
        {
            Ok(self
                .rec(slot)
                .map(|r| {
                    r.debug
                        .watches
                        .iter()
                        .map(|w| WatchInfo {
                            id: w.id,
                            pid,
                            address: w.address,
                            length: w.length,
                            value: w.value.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default())
        }
        #[cfg(not(feature = "full"))]
        {
            let _ = slot;
            Err(ExecError::Unsupported("watches"))
        }
    }

    /// Turn tracing of a task on/off (`None` toggles). Traced tasks fill their trace ring and
    /// (with [`Executive::set_trace_step_events`]) emit `trace_step`. Returns the new setting.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::Unsupported`] in `minimal`.
    pub fn set_trace(&mut self, pid: u32, on: Option<bool>) -> Result<bool, ExecError> {
        self.touch_debug();
        let slot = self.slot_of(pid)?;
        if !crate::debug::TRACE_SUPPORTED {
            let _ = (slot, on);
            return Err(ExecError::Unsupported("trace"));
        }
        let r = self.rec_mut(slot).ok_or(ExecError::UnknownPid(pid))?;
        let new = on.unwrap_or(!r.debug.trace);
        r.debug.trace = new;
        r.debug.refresh();
        if let Some(t) = self.vm_task_mut(slot) {
            t.set_trace(new);
        }
        Ok(new)
    }

    /// Per-task trace ring size (≤ [`TRACE_CAPACITY_MAX`]); 0 turns retention off and
    /// clears the rings. Returns the size in effect.
    pub fn set_trace_capacity(&mut self, capacity: usize) -> usize {
        let cap = crate::debug::clamp_trace_capacity(capacity);
        self.trace_capacity = cap;
        #[cfg(feature = "development")]
        for r in self.tasks.iter_mut().flatten() {
            while r.debug.ring.len() > cap {
                r.debug.ring.pop_front();
            }
        }
        cap
    }

    /// Per-task trace ring size in effect.
    #[must_use]
    pub const fn trace_capacity(&self) -> usize {
        self.trace_capacity
    }

    /// The last `limit` trace records of a task (oldest first; `None` = all).
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::Unsupported`] in `minimal`.
    pub fn trace_records(
        &self,
        pid: u32,
        limit: Option<usize>,
    ) -> Result<Vec<TraceRecord>, ExecError> {
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "development")]
        {
            let ring = self.rec(slot).map(|r| &r.debug.ring);
            let Some(ring) = ring else {
                return Ok(Vec::new());
            };
            let n = limit.unwrap_or(ring.len()).min(ring.len());
            Ok(ring.iter().skip(ring.len() - n).copied().collect())
        }
        #[cfg(not(feature = "development"))]
        {
            let _ = (slot, limit);
            Err(ExecError::Unsupported("trace"))
        }
    }

    /// Import trace records into a task's ring (`trace import`); the record counter is
    /// raised above the largest imported `seq`. Returns the ring length.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`], [`ExecError::Unsupported`] in `minimal`.
    pub fn trace_import(
        &mut self,
        pid: u32,
        records: &[TraceRecord],
        replace: bool,
    ) -> Result<usize, ExecError> {
        self.touch_debug();
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "development")]
        {
            let cap = self.trace_capacity;
            let max_seq = records.iter().map(|r| r.seq).max().unwrap_or(0);
            self.trace_seq = self.trace_seq.max(max_seq);
            let r = self.rec_mut(slot).ok_or(ExecError::UnknownPid(pid))?;
            if replace {
                r.debug.ring.clear();
            }
            for rec in records {
                if cap == 0 {
                    break;
                }
                while r.debug.ring.len() >= cap {
                    r.debug.ring.pop_front();
                }
                r.debug.ring.push_back(TraceRecord { pid, ..*rec });
            }
            Ok(r.debug.ring.len())
        }
        #[cfg(not(feature = "development"))]
        {
            let _ = (slot, records, replace);
            Err(ExecError::Unsupported("trace"))
        }
    }

    /// Forget a task's trace records.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn clear_trace(&mut self, pid: u32) -> Result<(), ExecError> {
        self.touch_debug();
        let slot = self.slot_of(pid)?;
        #[cfg(feature = "development")]
        if let Some(r) = self.rec_mut(slot) {
            r.debug.ring.clear();
        }
        #[cfg(not(feature = "development"))]
        let _ = slot;
        Ok(())
    }
}
