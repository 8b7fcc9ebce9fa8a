//! Provisioning over the UART (feature `provision`): `hsx provision push --serial` sends the
//! provisioning messages of docs/provisioning.md as `@hex` lines between the console output.
//! The image streams straight into the image slot (`ImageFlash`), is verified, starts as a
//! task executing in place, and the slot's header makes it start again at the next boot: the
//! firmware's boot manifest, one entry long.
//!
//! Slot layout: `[magic "HSXS", len u32, crc u32, 20 bytes reserved]` then the image.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::time::Duration;

use hsx_can::provision::serial::{LineBuffer, encode_line};
use hsx_can::provision::wire::{CHUNK_HEADER, MAX_LABEL};
use hsx_can::provision::{DeviceSession, ProvisionTarget, TargetError};
use hsx_exec::stream::{StaticSlot, StreamError};
use hsx_exec::{Executive, FlashCode, LoadOptions};

use crate::hal::{ImageFlash, Uart};

const MAGIC: &[u8; 4] = b"HSXS";
const HEADER: usize = 32;

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}

/// The image recorded in the slot, if its header and CRC check.
pub fn stored_image(flash: &impl ImageFlash) -> Option<&'static [u8]> {
    let r = flash.region();
    if r.get(..4)? != MAGIC {
        return None;
    }
    let len = le32(r, 4) as usize;
    let image = r.get(HEADER..HEADER.checked_add(len)?)?;
    (hsx_image::Crc32::checksum(image) == le32(r, 8)).then_some(image)
}

/// The UART side: lines in, replies out, sessions on the executive.
pub struct Provisioner<F> {
    flash: F,
    lines: LineBuffer,
    session: DeviceSession,
    /// Task started from the slot (its code runs from there: no new push meanwhile).
    pub slot_pid: Option<u32>,
    /// Last provisioning activity (ms), for the idle timeout of the main loop.
    pub last_activity_ms: u64,
    /// Heap in use when the current push began, and the most it used above that.
    load_base: usize,
    /// Heap the last completed push needed at its peak (session, checks, line buffer).
    pub last_load_peak: usize,
}

struct Target<'a, F> {
    exec: &'a mut Executive<FlashCode>,
    flash: &'a mut F,
    slot_pid: &'a mut Option<u32>,
    load_base: &'a mut usize,
    last_load_peak: &'a mut usize,
}

fn target_error(e: &StreamError) -> TargetError {
    match e {
        StreamError::NoSpace(_) => TargetError::NoSpace,
        StreamError::NoSession(_) => TargetError::NoSession,
        StreamError::Busy { .. } => TargetError::Busy,
        _ => TargetError::BadImage(alloc::string::String::from(e.code())),
    }
}

impl<F: ImageFlash> ProvisionTarget for Target<'_, F> {
    fn begin(&mut self, label: Option<&str>, total_len: u32) -> Result<u32, TargetError> {
        // The slot holds the code of the task started from it: refuse while it runs, and
        // remove it once it has ended (its code is about to be overwritten).
        if let Some(p) = *self.slot_pid
            && let Ok(t) = self.exec.task(p)
        {
            if !t.state.is_ended() {
                return Err(TargetError::Busy);
            }
            let _ = self.exec.kill(p);
        }
        crate::heap::reset_peak();
        *self.load_base = crate::heap::used();
        let region = self.flash.region_mut();
        // Invalidate the old header first: a reset mid-push boots no half image.
        region[..4].fill(0xFF);
        let (_, body) = region.split_at_mut(HEADER);
        self.exec
            .load_begin_into(label, total_len, Box::new(StaticSlot::new(body)))
            .map_err(|e| target_error(&e))
    }

    fn write(&mut self, pid: u32, chunk: &[u8]) -> Result<(), TargetError> {
        self.exec
            .load_write(pid, chunk)
            .map(|_| ())
            .map_err(|e| target_error(&e))
    }

    fn end(&mut self, pid: u32) -> Result<(), TargetError> {
        let staged = self.exec.load_end(pid).map_err(|e| target_error(&e))?;
        *self.last_load_peak = crate::heap::peak().saturating_sub(*self.load_base);
        let region = self.flash.region_mut();
        let image_crc = region
            .get(HEADER..HEADER + staged.len as usize)
            .map_or(0, hsx_image::Crc32::checksum);
        region[4..8].copy_from_slice(&staged.len.to_le_bytes());
        region[8..12].copy_from_slice(&image_crc.to_le_bytes());
        region[..4].copy_from_slice(MAGIC);
        self.flash.sync();
        match self.exec.load_start(pid, LoadOptions::default()) {
            Ok(r) => {
                *self.slot_pid = Some(r.pid);
                Ok(())
            }
            Err(_) => Err(TargetError::Failed(alloc::string::String::from("start"))),
        }
    }

    fn abort(&mut self, pid: u32) {
        let _ = self.exec.load_abort(pid);
    }
}

impl<F: ImageFlash> Provisioner<F> {
    /// A provisioner writing to `flash`, accepting chunks of up to `max_chunk` bytes.
    pub fn new(flash: F, max_chunk: u16) -> Self {
        Self {
            flash,
            // The longest request: a full chunk, or BEGIN with its label.
            lines: LineBuffer::new((usize::from(max_chunk) + CHUNK_HEADER).max(16 + MAX_LABEL)),
            session: DeviceSession::new(max_chunk, Duration::from_secs(10)),
            slot_pid: None,
            last_activity_ms: 0,
            load_base: 0,
            last_load_peak: 0,
        }
    }

    /// The slot, for the boot load.
    pub fn flash(&self) -> &F {
        &self.flash
    }

    /// Bytes of the line buffer, allocated once with the provisioner.
    pub fn line_buffer(&self) -> usize {
        self.lines.capacity()
    }

    /// Whether a push is in progress.
    pub fn is_loading(&self) -> bool {
        self.session.is_loading()
    }

    /// Reads what the UART has, answers complete requests. Returns the name-to-announce of a
    /// task just started (pid), if any.
    pub fn poll<U: Uart>(
        &mut self,
        exec: &mut Executive<FlashCode>,
        console: &mut crate::console::Console<U>,
        now_ms: u64,
    ) -> Option<u32> {
        let started_before = self.slot_pid;
        let mut target = Target {
            exec,
            flash: &mut self.flash,
            slot_pid: &mut self.slot_pid,
            load_base: &mut self.load_base,
            last_load_peak: &mut self.last_load_peak,
        };
        let now = Duration::from_millis(now_ms);
        while let Some(b) = console.read() {
            if let Some(msg) = self.lines.push(b) {
                self.last_activity_ms = now_ms;
                let (reply, _) = self.session.handle(&mut target, msg, now);
                let mut line = Vec::new();
                encode_line(&reply, &mut line);
                console.raw(&line);
            }
        }
        let _ = self.session.expire(&mut target, now);
        (self.slot_pid != started_before)
            .then_some(self.slot_pid)
            .flatten()
    }
}
