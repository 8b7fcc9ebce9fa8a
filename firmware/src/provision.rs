//! Provisioning over the UART (feature `provision`): `hsx provision push --serial` sends the
//! provisioning messages of docs/provisioning.md as `@hex` lines between the console output.
//!
//! The image flash holds a boot record and two slots (`hsx_exec::flash_slots`). A push
//! streams into the slot that is not active, so the known-good image is never touched; once
//! verified it becomes active *on trial* and starts (its code runs in place from the slot).
//! If it faults within the grace period, or fails to start, the firmware rolls back: the
//! record names the old slot again and the old image starts. It is confirmed when the grace
//! period passes or it ends without a fault. A reset during the trial boots the old image
//! (the update never got confirmed). At boot the active slot's app starts after the built-in
//! apps: the firmware's boot manifest.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt::Write;
use core::time::Duration;

use hsx_can::provision::serial::{LineBuffer, encode_line};
use hsx_can::provision::wire::{CHUNK_HEADER, MAX_LABEL};
use hsx_can::provision::{DeviceSession, ProvisionTarget, TargetError};
use hsx_exec::flash_slots::{BootRecord, FlashSlots};
use hsx_exec::store::Slot;
use hsx_exec::stream::{StaticSlot, StreamError};
use hsx_exec::{Executive, FlashCode, LoadOptions};

use crate::console::Console;
use crate::hal::{ImageFlash, Uart};

/// `writeln!` onto the shared console, borrowing it only for the line.
macro_rules! say {
    ($con:expr, $($arg:tt)*) => {
        say($con, format_args!($($arg)*))
    };
}

/// An update running on trial.
#[derive(Clone, Copy)]
struct Trial {
    pid: u32,
    slot: Slot,
    until_ms: u64,
}

/// The UART side: lines in, replies out, sessions on the executive.
pub struct Provisioner<F> {
    flash: F,
    layout: FlashSlots,
    lines: LineBuffer,
    session: DeviceSession,
    grace_ms: u64,
    state: State,
}

/// What the protocol callbacks change (apart from the session itself).
struct State {
    /// The task started from each slot (its code runs from there).
    slot_pid: [Option<u32>; 2],
    trial: Option<Trial>,
    /// Set by a completed push: the task to announce and put on trial.
    started: Option<(u32, Slot)>,
    /// The slot a push is writing.
    writing: Option<Slot>,
    /// Heap in use when the current push began.
    load_base: usize,
    /// Heap the last completed push needed at its peak (session, checks, line buffer).
    last_load_peak: usize,
    /// Last provisioning activity (ms), for the listen window of the main loop.
    last_activity_ms: u64,
}

struct Target<'a, F> {
    exec: &'a mut Executive<FlashCode>,
    flash: &'a mut F,
    layout: FlashSlots,
    state: &'a mut State,
}

fn target_error(e: &StreamError) -> TargetError {
    match e {
        StreamError::NoSpace(_) => TargetError::NoSpace,
        StreamError::NoSession(_) => TargetError::NoSession,
        StreamError::Busy { .. } => TargetError::Busy,
        _ => TargetError::BadImage(String::from(e.code())),
    }
}

fn running(exec: &Executive<FlashCode>, pid: Option<u32>) -> bool {
    pid.and_then(|p| exec.task(p).ok())
        .is_some_and(|t| !t.state.is_ended())
}

impl<F: ImageFlash> ProvisionTarget for Target<'_, F> {
    fn begin(&mut self, label: Option<&str>, total_len: u32) -> Result<u32, TargetError> {
        // One update at a time: while one is on trial, the other slot is its way back.
        if self.state.trial.is_some() {
            return Err(TargetError::Busy);
        }
        let active = FlashSlots::record(self.flash.region()).active;
        let slot = active.map_or(Slot::A, Slot::other);
        if running(self.exec, self.state.slot_pid[slot.index()]) {
            return Err(TargetError::Busy);
        }
        // The ended task of the slot about to be overwritten goes (its code is there).
        if let Some(p) = self.state.slot_pid[slot.index()].take() {
            let _ = self.exec.kill(p);
        }
        crate::heap::reset_peak();
        self.state.load_base = crate::heap::used();
        let region = self.flash.region_mut();
        self.layout.clear(region, slot);
        let body = region
            .get_mut(self.layout.body(slot))
            .ok_or(TargetError::NoSpace)?;
        let pid = self
            .exec
            .load_begin_into(label, total_len, Box::new(StaticSlot::new(body)))
            .map_err(|e| target_error(&e))?;
        self.state.writing = Some(slot);
        Ok(pid)
    }

    fn write(&mut self, pid: u32, chunk: &[u8]) -> Result<(), TargetError> {
        self.exec
            .load_write(pid, chunk)
            .map(|_| ())
            .map_err(|e| target_error(&e))
    }

    fn end(&mut self, pid: u32) -> Result<(), TargetError> {
        let slot = self.state.writing.take().ok_or(TargetError::NoSession)?;
        let staged = self.exec.load_end(pid).map_err(|e| target_error(&e))?;
        self.state.last_load_peak = crate::heap::peak().saturating_sub(self.state.load_base);
        let region = self.flash.region_mut();
        self.layout.seal(region, slot, staged.len as usize);
        let rec = FlashSlots::record(region);
        let mut writes = rec.writes;
        writes[slot.index()] = writes[slot.index()].saturating_add(1);
        FlashSlots::write_record(
            region,
            BootRecord {
                active: Some(slot),
                trial: true,
                writes,
                ..rec
            },
        );
        self.flash.sync();
        // The old version stops (its values are flushed first: the new one restores them).
        let old = slot.other();
        if let Some(p) = self.state.slot_pid[old.index()] {
            self.exec.flush_persistence();
            let _ = self.exec.kill(p);
            self.state.slot_pid[old.index()] = None;
        }
        match self.exec.load_start(pid, LoadOptions::default()) {
            Ok(r) => {
                self.state.slot_pid[slot.index()] = Some(r.pid);
                self.state.started = Some((r.pid, slot));
                Ok(())
            }
            Err(_) => {
                // Verified but refused by the executive: the old image comes back.
                let region = self.flash.region_mut();
                let rec = FlashSlots::record(region);
                FlashSlots::write_record(
                    region,
                    BootRecord {
                        active: Some(old),
                        trial: false,
                        ..rec
                    },
                );
                self.flash.sync();
                self.state.started = None;
                Err(TargetError::Failed(String::from(
                    "start refused; rolled back",
                )))
            }
        }
    }

    fn abort(&mut self, pid: u32) {
        self.state.writing = None;
        let _ = self.exec.load_abort(pid);
    }
}

impl<F: ImageFlash> Provisioner<F> {
    /// A provisioner writing to `flash`, accepting chunks of up to `max_chunk` bytes and
    /// rolling back an update that faults within `grace_ms`.
    /// `None` if the flash region cannot hold two slots.
    pub fn new(flash: F, max_chunk: u16, grace_ms: u64) -> Option<Self> {
        let layout = FlashSlots::new(flash.region().len())?;
        Some(Self {
            flash,
            layout,
            // The longest request: a full chunk, or BEGIN with its label.
            lines: LineBuffer::new((usize::from(max_chunk) + CHUNK_HEADER).max(16 + MAX_LABEL)),
            session: DeviceSession::new(max_chunk, Duration::from_secs(10)),
            grace_ms,
            state: State {
                slot_pid: [None; 2],
                trial: None,
                started: None,
                writing: None,
                load_base: 0,
                last_load_peak: 0,
                last_activity_ms: 0,
            },
        })
    }

    /// Starts the active slot's app (the boot manifest's provisioned entry); an update that
    /// was still on trial at the reset is abandoned for the known-good slot. The pid started.
    pub fn boot<U: Uart>(
        &mut self,
        exec: &mut Executive<FlashCode>,
        con: &RefCell<Console<U>>,
    ) -> Option<u32> {
        let plan = self.layout.boot_plan(self.flash.region());
        if let Some(rec) = plan.write {
            FlashSlots::write_record(self.flash.region_mut(), rec);
            self.flash.sync();
        }
        if let Some((from, to)) = plan.reverted {
            say!(
                con,
                "slot: the update in slot {} was not confirmed before the reset: back to slot {}",
                from.as_str(),
                to.as_str()
            );
        }
        let slot = plan.start?;
        self.start_slot(exec, con, slot)
    }

    fn start_slot<U: Uart>(
        &mut self,
        exec: &mut Executive<FlashCode>,
        con: &RefCell<Console<U>>,
        slot: Slot,
    ) -> Option<u32> {
        let image = self.layout.image(self.flash.region(), slot)?;
        match exec.load_static(image, LoadOptions::default()) {
            Ok(r) => {
                con.borrow_mut().name_task(r.pid, &r.app_name);
                say!(
                    con,
                    "slot: {} started from slot {}, pid {}",
                    r.app_name,
                    slot.as_str(),
                    r.pid
                );
                self.state.slot_pid[slot.index()] = Some(r.pid);
                Some(r.pid)
            }
            Err(e) => {
                say!(
                    con,
                    "slot: image in slot {} refused ({})",
                    slot.as_str(),
                    crate::error_kind(&e)
                );
                None
            }
        }
    }

    /// Whether the main loop must keep running for provisioning: a push in progress, an
    /// update on trial, or a request within the last `listen_ms`.
    pub fn is_active(&self, now_ms: u64, listen_ms: u64) -> bool {
        self.session.is_loading()
            || self.state.trial.is_some()
            || now_ms.saturating_sub(self.state.last_activity_ms) < listen_ms
    }

    /// The tasks started from the slots (for the summary).
    pub fn slot_pids(&self) -> impl Iterator<Item = u32> + '_ {
        self.state.slot_pid.iter().flatten().copied()
    }

    /// Reads what the UART has, answers complete requests, and watches an update on trial.
    /// Returns the pid of a task it started, if any.
    pub fn poll<U: Uart>(
        &mut self,
        exec: &mut Executive<FlashCode>,
        con: &RefCell<Console<U>>,
        now_ms: u64,
    ) -> Option<u32> {
        {
            let mut target = Target {
                exec: &mut *exec,
                flash: &mut self.flash,
                layout: self.layout,
                state: &mut self.state,
            };
            let now = Duration::from_millis(now_ms);
            // No console borrow is held across the executive calls: they may print task output.
            loop {
                let Some(b) = con.borrow_mut().read() else {
                    break;
                };
                if let Some(msg) = self.lines.push(b) {
                    target.state.last_activity_ms = now_ms;
                    let (reply, _) = self.session.handle(&mut target, msg, now);
                    let mut line = Vec::new();
                    encode_line(&reply, &mut line);
                    con.borrow_mut().raw(&line);
                }
            }
            let _ = self.session.expire(&mut target, now);
        }
        if let Some((pid, slot)) = self.state.started.take() {
            if let Ok(t) = exec.task(pid) {
                con.borrow_mut().name_task(pid, &t.app_name);
                say!(
                    con,
                    "provision: {} received into slot {}, pid {}, on trial for {} ms; streamed-load heap peak {} B (line buffer {} B)",
                    t.app_name,
                    slot.as_str(),
                    pid,
                    self.grace_ms,
                    self.state.last_load_peak,
                    self.lines.capacity()
                );
            }
            self.state.trial = Some(Trial {
                pid,
                slot,
                until_ms: now_ms.saturating_add(self.grace_ms),
            });
            return Some(pid);
        }
        self.watch_trial(exec, con, now_ms)
    }

    /// Confirms or rolls back the update on trial. The pid of a restarted old image.
    fn watch_trial<U: Uart>(
        &mut self,
        exec: &mut Executive<FlashCode>,
        con: &RefCell<Console<U>>,
        now_ms: u64,
    ) -> Option<u32> {
        let trial = self.state.trial?;
        let (faulted, ended, name) = match exec.task(trial.pid) {
            Ok(t) => (
                t.fault.map(|f| f.name),
                t.state.is_ended(),
                t.app_name.clone(),
            ),
            // Gone (killed by hand): nothing to judge it by; keep it.
            Err(_) => (None, true, String::new()),
        };
        let region = self.flash.region_mut();
        let rec = FlashSlots::record(region);
        if let Some(fault) = faulted {
            let back = trial.slot.other();
            say!(
                con,
                "provision: {name} faulted ({fault}) on trial: rolling back to slot {}",
                back.as_str()
            );
            self.state.trial = None;
            let _ = exec.kill(trial.pid);
            self.state.slot_pid[trial.slot.index()] = None;
            if self.layout.image(region, back).is_none() {
                // Nothing to go back to: the update stays, stopped.
                say(
                    con,
                    format_args!("provision: slot {} holds no image", back.as_str()),
                );
                return None;
            }
            FlashSlots::write_record(
                region,
                BootRecord {
                    active: Some(back),
                    trial: false,
                    ..rec
                },
            );
            self.flash.sync();
            return self.start_slot(exec, con, back);
        }
        if ended || now_ms >= trial.until_ms {
            FlashSlots::write_record(
                region,
                BootRecord {
                    trial: false,
                    ..rec
                },
            );
            self.flash.sync();
            self.state.trial = None;
            say!(
                con,
                "provision: {name} confirmed in slot {} (writes a={} b={})",
                trial.slot.as_str(),
                rec.writes[0],
                rec.writes[1]
            );
        }
        None
    }
}

/// One line of the firmware's own on the console.
fn say<U: Uart>(con: &RefCell<Console<U>>, args: core::fmt::Arguments<'_>) {
    let mut c = con.borrow_mut();
    let _ = c.write_fmt(args);
    let _ = c.write_str("\n");
}
