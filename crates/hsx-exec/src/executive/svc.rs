//! The SVC bridge (`services.md` §0, `vm.md` §6): modules 0 (core), 1 (exit, UART), 2 (CAN),
//! 4 (file system), 5 (mailbox), 6 (sleep), 7 (values), 8 (commands), 0xE (dev libm).
//!
//! Guest pointers, handles, lengths and timeouts are the low 16 bits of their register;
//! guest memory is read and written clipped at 0xFFFF, so a bad pointer or length yields a
//! status (or a short transfer), never a panic. Guest strings are NUL-terminated, read up to
//! [`MAX_GUEST_STR`] bytes, decoded as UTF-8 with invalid bytes dropped.

use alloc::string::String;
use alloc::vec::Vec;

use hsx_vm::{MEM_SIZE, Reg};

use super::memory::read_clipped;
use super::{Budget, Executive, TaskCode, VmTask, WaitInfo};
#[allow(unused_imports)]
use crate::backend::Hal as _;
use crate::event::EventKind;
use crate::mailbox::{MailboxError, RecvOutcome, RecvRequest, StdioStream, func as mfn, recv_info};
use crate::status::{HSX_ERR_ENOSYS, cmd as cst, mbx as mst, val as vst};
use crate::values::{Caller, GuestMem, cmd_fn, decode_lossy, help_output, val_fn, val_get_word};

mod fs;

/// Longest guest string read (targets are cut to 32 bytes later anyway).
pub const MAX_GUEST_STR: usize = 4096;

/// Guest-memory view for the value registry's descriptor-chain parser.
struct GuestView<'a, C: TaskCode>(&'a VmTask<C>);

impl<C: TaskCode> GuestMem for GuestView<'_, C> {
    fn read(&self, addr: u32, out: &mut [u8]) -> bool {
        let end = (addr as usize).saturating_add(out.len());
        end <= MEM_SIZE && self.0.read_mem(addr, out) == out.len()
    }
}

impl<C: TaskCode> Executive<C> {
    /// Service `SVC module, func` for the task in `slot` (its PC is already past the SVC).
    pub(crate) fn svc(&mut self, slot: usize, module: u8, func: u8) {
        if self.capability_denied(slot, module, func) {
            return;
        }
        match module {
            0x0 => {
                if func == 0 {
                    // The VM already counted the SVC; report the count before it.
                    let steps = self
                        .vm
                        .task(slot)
                        .map_or(0, |t| t.steps().saturating_sub(1));
                    self.set_r(slot, 0, steps as u32);
                } else {
                    self.set_r(slot, 0, HSX_ERR_ENOSYS);
                }
            }
            0x1 => match func {
                0 => {
                    let status = self.r(slot, 0);
                    self.end_task(slot, status);
                }
                1 => self.svc_uart(slot),
                _ => self.set_r(slot, 0, HSX_ERR_ENOSYS),
            },
            0x2 => {
                if func == 0 {
                    self.svc_can(slot);
                } else {
                    self.set_r(slot, 0, HSX_ERR_ENOSYS);
                }
            }
            0x4 => self.svc_fs(slot, func),
            mfn::MODULE => self.svc_mailbox(slot, func),
            0x6 => {
                if func == 0 {
                    let ms = self.r(slot, 0);
                    self.set_r(slot, 0, 0);
                    if ms > 0 {
                        self.start_sleep(slot, ms);
                    }
                } else {
                    self.set_r(slot, 0, HSX_ERR_ENOSYS);
                }
            }
            val_fn::MODULE => self.svc_value(slot, func),
            cmd_fn::MODULE => self.svc_command(slot, func),
            // A development aid (soft-float f64): compiled out of microcontroller builds.
            0xE if cfg!(feature = "development") && self.cfg.dev_libm => self.svc_libm(slot, func),
            _ => self.set_r(slot, 0, HSX_ERR_ENOSYS),
        }
    }

    /// An image that declares capabilities (`req_caps` ≠ 0) may use only those modules:
    /// a call to another is answered `EPERM` (the module's own code where it has one) and
    /// reported once per task and capability. `req_caps` = 0 declares nothing and keeps
    /// every module, as images from before the check expect.
    fn capability_denied(&mut self, slot: usize, module: u8, func: u8) -> bool {
        let bit = match (module, func) {
            (0x1, 1) => 4,
            (0x2, _) => 3,
            (mfn::MODULE, _) => 0,
            (val_fn::MODULE | cmd_fn::MODULE, _) => 1,
            _ => return false,
        };
        let Some(rec) = self.tasks.get_mut(slot).and_then(Option::as_mut) else {
            return false;
        };
        let caps = rec.image.req_caps;
        if caps == 0 || caps & (1 << bit) != 0 {
            return false;
        }
        let first = rec.caps_reported & (1 << bit) == 0;
        rec.caps_reported |= 1 << bit;
        let pid = rec.pid;
        let status = if module == val_fn::MODULE || module == cmd_fn::MODULE {
            u32::from(vst::EPERM)
        } else {
            crate::status::HSX_ERR_EPERM
        };
        self.set_r(slot, 0, status);
        if first {
            let cap = ["mailbox", "values", "fram", "can", "uart"][bit];
            self.emit(
                Some(pid),
                EventKind::Warning(crate::event::Warning::CapabilityDenied { module, cap }),
            );
        }
        true
    }

    // ------------------------------------------------------------------ helpers

    #[inline]
    fn r(&self, slot: usize, i: u8) -> u32 {
        self.vm.task(slot).map_or(0, |t| t.reg_get(Reg::gpr(i)))
    }

    #[inline]
    fn r16(&self, slot: usize, i: u8) -> u32 {
        self.r(slot, i) & 0xFFFF
    }

    #[inline]
    fn r8(&self, slot: usize, i: u8) -> u8 {
        (self.r(slot, i) & 0xFF) as u8
    }

    /// VAL/CMD REGISTER arguments: R1 group, R2 id, R3 flags, R4 descriptor chain pointer.
    fn register_args(&self, slot: usize) -> (u8, u8, u8, u16) {
        let desc = self.r16(slot, 4) as u16;
        (self.r8(slot, 1), self.r8(slot, 2), self.r8(slot, 3), desc)
    }

    #[inline]
    fn set_r(&mut self, slot: usize, i: u8, v: u32) {
        if let Some(t) = self.vm.task_mut(slot) {
            t.reg_set(Reg::gpr(i), v);
        }
    }

    /// `len` bytes at `ptr` (16-bit), clipped at the end of memory.
    fn guest_bytes(&self, slot: usize, ptr: u32, len: u32) -> Vec<u8> {
        self.vm
            .task(slot)
            .map_or_else(Vec::new, |t| read_clipped(t, ptr, len as usize))
    }

    /// NUL-terminated string at `ptr`.
    fn guest_str(&self, slot: usize, ptr: u32) -> String {
        decode_lossy(&self.guest_cstr_bytes(slot, ptr))
    }

    /// The bytes before the NUL at `ptr` (at most [`MAX_GUEST_STR`], clipped at the end of
    /// memory), read in small chunks so a short string never costs a 4 KiB buffer.
    fn guest_cstr_bytes(&self, slot: usize, ptr: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let Some(t) = self.vm.task(slot) else {
            return out;
        };
        let limit = MAX_GUEST_STR.min(MEM_SIZE - (ptr & 0xFFFF) as usize);
        let mut chunk = [0u8; 32];
        let mut addr = ptr;
        while out.len() < limit {
            let want = (limit - out.len()).min(chunk.len());
            let got = t.read_mem(addr, &mut chunk[..want]).min(want);
            let part = &chunk[..got];
            if let Some(end) = part.iter().position(|b| *b == 0) {
                out.extend_from_slice(&part[..end]);
                break;
            }
            out.extend_from_slice(part);
            if got < want {
                break;
            }
            addr = addr.wrapping_add(got as u32);
        }
        out
    }

    /// Write `data` at `ptr` (16-bit), clipped at the end of memory.
    fn write_guest(&mut self, slot: usize, ptr: u32, data: &[u8]) -> usize {
        self.vm.task_mut(slot).map_or(0, |t| t.write_mem(ptr, data))
    }

    // ----------------------------------------------------------- modules 1, 2

    fn svc_uart(&mut self, slot: usize) {
        let pid = self.pid_of(slot);
        let len = self.r16(slot, 2);
        let data = self.guest_bytes(slot, self.r(slot, 1), len);
        self.host_hal().uart_write(pid, &data);
        if !data.is_empty() {
            self.emit(Some(pid), EventKind::Stdout(data));
        }
        self.set_r(slot, 0, len);
    }

    fn svc_can(&mut self, slot: usize) {
        let pid = self.pid_of(slot);
        let id = (self.r(slot, 1) & 0x7FF) as u16;
        let len = self.r(slot, 3) & 0xFF;
        let data = self.guest_bytes(slot, self.r(slot, 2), len);
        let status = self.host_hal().can_tx(pid, id, &data);
        self.emit(Some(pid), EventKind::CanTx { id, data });
        self.set_r(slot, 0, status as u32);
    }

    /// After a successful send: a message on some task's stdout/stderr becomes a
    /// `stdout`/`stderr` event (and is consumed with [`super::ExecConfig::stdio_drain`]).
    pub(crate) fn after_send(&mut self, descriptor: u32, data: &[u8]) {
        let known = self.stdio_desc.get(&descriptor).copied().or_else(|| {
            // Lazy stdio: a stream the task opened itself and sent to before any write.
            let lazy = self.mailboxes.config().lazy_stdio;
            let found = self.mailboxes.stdio_owner(descriptor).filter(|_| lazy)?;
            self.stdio_desc.insert(descriptor, found);
            Some(found)
        });
        let Some((owner, stream)) = known else {
            return;
        };
        if data.is_empty() {
            return;
        }
        if stream != StdioStream::In {
            self.host_hal()
                .stdio_write(owner, stream == StdioStream::Err, data);
        }
        let kind = match stream {
            StdioStream::Out => EventKind::Stdout,
            StdioStream::Err => EventKind::Stderr,
            StdioStream::In => return,
        };
        // Events off (e.g. a microcontroller printing through the HAL): no copy at all.
        if self.events.enabled() {
            self.emit(Some(owner), kind(data.to_vec()));
        }
        if self.cfg.stdio_drain {
            let handle = self.mailboxes.stdio_handles(owner).map(|h| h.get(stream));
            if let Some(h) = handle {
                while let Ok(Some(_)) = self.mailboxes.recv(owner, h, 0) {}
            }
        }
    }

    // ------------------------------------------------------------- module 5

    fn svc_mailbox(&mut self, slot: usize, func: u8) {
        let pid = self.pid_of(slot);
        match func {
            mfn::OPEN => {
                let target = self.guest_str(slot, self.r(slot, 1));
                match self.mailboxes.open(pid, &target) {
                    Ok(h) => self.ok2(slot, h),
                    Err(e) => self.mbx_err(slot, pid, func, e),
                }
            }
            mfn::BIND => {
                let target = self.guest_str(slot, self.r(slot, 1));
                let cap = self.r16(slot, 2);
                let mode = self.r16(slot, 3) as u16;
                match self.mailboxes.bind(pid, &target, cap, mode) {
                    Ok(d) => self.ok2(slot, d),
                    Err(e) => self.mbx_err(slot, pid, func, e),
                }
            }
            mfn::SEND => {
                let handle = self.r16(slot, 1);
                let len = self.r16(slot, 3);
                let flags = self.r16(slot, 4) as u16;
                let channel = self.r16(slot, 5) as u16;
                let data = self.guest_bytes(slot, self.r(slot, 2), len);
                self.mailboxes.count_step(pid);
                match self.mailboxes.send(pid, handle, &data, flags, channel) {
                    Ok(rep) => {
                        self.ok2(slot, rep.bytes);
                        self.after_send(rep.descriptor, &data);
                    }
                    // A full mailbox is backpressure, not an error (no `mailbox_error`).
                    Err(MailboxError::WouldBlock) => {
                        self.set_r(slot, 0, u32::from(mst::WOULDBLOCK))
                    }
                    Err(e) => self.mbx_err(slot, pid, func, e),
                }
            }
            mfn::RECV => self.svc_recv(slot, pid),
            mfn::PEEK => {
                let handle = self.r16(slot, 1);
                match self.mailboxes.peek(pid, handle) {
                    Ok(p) => {
                        for (i, v) in p.regs().iter().enumerate() {
                            self.set_r(slot, i as u8, *v);
                        }
                    }
                    Err(e) => self.mbx_err(slot, pid, func, e),
                }
            }
            mfn::TAP => {
                let handle = self.r16(slot, 1);
                let enable = self.r(slot, 2) & 1 != 0;
                match self.mailboxes.tap(pid, handle, enable) {
                    Ok(()) => self.set_r(slot, 0, u32::from(mst::OK)),
                    Err(e) => self.mbx_err(slot, pid, func, e),
                }
            }
            mfn::CLOSE => {
                let handle = self.r16(slot, 1);
                match self.mailboxes.close(pid, handle) {
                    Ok(()) => {
                        self.registry.unsubscribe_handle(pid, handle);
                        self.set_r(slot, 0, u32::from(mst::OK));
                    }
                    Err(e) => self.mbx_err(slot, pid, func, e),
                }
            }
            _ => self.set_r(slot, 0, u32::from(mst::INTERNAL_ERROR)),
        }
        self.process_completions();
    }

    fn svc_recv(&mut self, slot: usize, pid: u32) {
        let req = RecvRequest {
            handle: self.r16(slot, 1),
            buf_ptr: self.r16(slot, 2),
            max_len: self.r16(slot, 3),
            timeout: self.r16(slot, 4) as u16,
            info_ptr: self.r16(slot, 5),
        };
        self.mailboxes.count_step(pid);
        match self.mailboxes.recv_or_wait(pid, req) {
            Ok(RecvOutcome::Message(m)) => {
                if let Some(t) = self.vm.task_mut(slot) {
                    let info = m.info_record();
                    deliver_recv(t, req.buf_ptr, &m.data, m.regs(), req.info_ptr, &info);
                }
            }
            Ok(RecvOutcome::NoData) => {
                // Only R0/R1 change here (a completion would zero R2..R4 as well).
                self.set_r(slot, 0, u32::from(mst::NO_DATA));
                self.set_r(slot, 1, 0);
                if let Some(t) = self.vm.task_mut(slot) {
                    let info = recv_info(mst::NO_DATA, 0, 0, 0, 0);
                    write_info(t, req.info_ptr, &info);
                }
            }
            Ok(RecvOutcome::Blocked { deadline_ms }) => {
                let descriptor = self.mailboxes.descriptor_of(pid, req.handle).unwrap_or(0);
                self.start_wait(
                    slot,
                    WaitInfo {
                        descriptor,
                        handle: req.handle,
                        timeout: req.timeout,
                        deadline_ms,
                    },
                );
            }
            Err(e) => self.mbx_err(slot, pid, mfn::RECV, e),
        }
    }

    fn ok2(&mut self, slot: usize, r1: u32) {
        self.set_r(slot, 0, u32::from(mst::OK));
        self.set_r(slot, 1, r1);
    }

    fn mbx_err(&mut self, slot: usize, pid: u32, func: u8, e: MailboxError) {
        let status = e.status();
        self.set_r(slot, 0, u32::from(status));
        self.mailboxes.report_error(pid, func, status);
        let cfg = *self.mailboxes.config();
        match e {
            MailboxError::HandleLimit => {
                let limit = cfg.handle_limit_per_pid.unwrap_or(0);
                self.budget_exceeded(slot, Budget::Handles, u64::from(limit));
            }
            MailboxError::DescriptorQuota => {
                let limit = cfg.descriptors_per_task.unwrap_or(cfg.max_descriptors);
                self.budget_exceeded(slot, Budget::Descriptors, u64::from(limit));
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------- modules 7, 8

    fn svc_value(&mut self, slot: usize, func: u8) {
        let pid = self.pid_of(slot);
        let caller = Caller::task(pid);
        let g = self.r8(slot, 1);
        let status: Result<Option<u32>, u16> = match func {
            val_fn::REGISTER => {
                let (g, id, flags, desc) = self.register_args(slot);
                let r = match self.vm.task(slot) {
                    Some(t) => self.registry.register_value_from_guest(
                        pid,
                        g,
                        id,
                        flags,
                        &GuestView(t),
                        desc,
                    ),
                    None => Err(crate::values::ValError::Invalid),
                };
                if r == Err(crate::values::ValError::Quota) {
                    let limit = self.registry.limits().values_per_task as u64;
                    self.budget_exceeded(slot, Budget::Values, limit);
                }
                r.map(|oid| Some(u32::from(oid))).map_err(|e| e.code())
            }
            val_fn::LOOKUP => {
                let id = self.r8(slot, 2);
                self.registry
                    .lookup_value(g, id, None)
                    .map(|oid| Some(u32::from(oid)))
                    .map_err(|e| e.code())
            }
            val_fn::GET => {
                let oid = self.r16(slot, 1) as u16;
                // R0 alone carries the outcome; a read queues no events, so nothing to pump.
                let word = val_get_word(self.registry.get_value(oid, None, caller));
                self.set_r(slot, 0, word);
                return;
            }
            val_fn::SET => {
                let oid = self.r16(slot, 1) as u16;
                let bits = self.r16(slot, 2) as u16;
                let r = self.registry.set_value_bits(
                    oid,
                    None,
                    caller,
                    bits,
                    self.now_ms,
                    &mut self.mailboxes,
                );
                self.process_completions();
                r.map(|_| None).map_err(|e| e.code())
            }
            val_fn::LIST => {
                let out = self.r16(slot, 2);
                let max = self.r16(slot, 3) as usize;
                let oids = self.registry.list_values(g, Some(pid));
                let room = (MEM_SIZE - out as usize) / 2;
                let n = oids.len().min(max).min(room);
                let bytes: Vec<u8> = oids.iter().take(n).flat_map(|o| o.to_le_bytes()).collect();
                self.write_guest(slot, out, &bytes);
                Ok(Some(n as u32))
            }
            val_fn::SUB => {
                let oid = self.r16(slot, 1) as u16;
                let target = self.guest_str(slot, self.r(slot, 2));
                self.registry
                    .subscribe(pid, oid, None, &target, &mut self.mailboxes)
                    .map(Some)
                    .map_err(|e| e.code())
            }
            val_fn::PERSIST => {
                let oid = self.r16(slot, 1) as u16;
                let mode = self.r8(slot, 2);
                self.registry
                    .persist_value(oid, None, caller, mode)
                    .map(|()| None)
                    .map_err(|e| e.code())
            }
            _ => Err(vst::EINVAL),
        };
        self.finish_status(slot, status);
    }

    fn svc_command(&mut self, slot: usize, func: u8) {
        let pid = self.pid_of(slot);
        let caller = Caller::task(pid);
        let status: Result<Option<u32>, u16> = match func {
            cmd_fn::REGISTER => {
                let (g, id, flags, desc) = self.register_args(slot);
                let r = match self.vm.task(slot) {
                    Some(t) => self.registry.register_command_from_guest(
                        pid,
                        g,
                        id,
                        flags,
                        &GuestView(t),
                        desc,
                    ),
                    None => Err(crate::values::CmdError::Invalid),
                };
                if r == Err(crate::values::CmdError::Quota) {
                    let limit = self.registry.limits().commands_per_task as u64;
                    self.budget_exceeded(slot, Budget::Commands, limit);
                }
                r.map(|oid| Some(u32::from(oid))).map_err(|e| e.code())
            }
            cmd_fn::LOOKUP => {
                let g = self.r8(slot, 1);
                let id = self.r8(slot, 2);
                self.registry
                    .lookup_command(g, id, None)
                    .map(|oid| Some(u32::from(oid)))
                    .map_err(|e| e.code())
            }
            cmd_fn::CALL => {
                let oid = self.r16(slot, 1) as u16;
                let token = self.token(slot, 2);
                self.prepare_guest_call(oid, None, caller, token.as_deref(), false);
                let r = self
                    .registry
                    .call_command(oid, None, caller, token.as_deref());
                r.map_err(|e| e.code())
            }
            cmd_fn::CALL_ASYNC => {
                let oid = self.r16(slot, 1) as u16;
                let token = self.token(slot, 2);
                let target = self.guest_str(slot, self.r(slot, 3));
                self.prepare_guest_call(oid, None, caller, token.as_deref(), true);
                let r = self.registry.call_command_async(
                    oid,
                    None,
                    caller,
                    token.as_deref(),
                    &target,
                    &mut self.mailboxes,
                );
                self.process_completions();
                r.map(Some).map_err(|e| e.code())
            }
            cmd_fn::HELP => {
                let oid = self.r16(slot, 1) as u16;
                let out = self.r16(slot, 2);
                let max = self.r16(slot, 3);
                match self.registry.command_help(oid, None, caller) {
                    Ok(text) => {
                        // Clip the buffer at the end of memory so that the NUL still fits.
                        let room = MEM_SIZE - out as usize;
                        let (bytes, n) = help_output(text, max.min(room as u32));
                        self.write_guest(slot, out, &bytes);
                        Ok(Some(n))
                    }
                    Err(e) => Err(e.code()),
                }
            }
            _ => Err(cst::EINVAL),
        };
        self.finish_status(slot, status);
    }

    /// PIN token: the C string at the pointer register, `None` for a null pointer.
    fn token(&self, slot: usize, reg: u8) -> Option<Vec<u8>> {
        let ptr = self.r16(slot, reg);
        (ptr != 0).then(|| self.guest_str(slot, ptr).into_bytes())
    }

    /// R0 = 0 (and R1 = the value, if any) or R0 = the status.
    fn finish_status(&mut self, slot: usize, status: Result<Option<u32>, u16>) {
        match status {
            Ok(r1) => {
                self.set_r(slot, 0, 0);
                if let Some(v) = r1 {
                    self.set_r(slot, 1, v);
                }
            }
            Err(code) => self.set_r(slot, 0, u32::from(code)),
        }
        self.pump();
    }

    // ------------------------------------------------------------- module 0xE

    fn svc_libm(&mut self, slot: usize, func: u8) {
        let x = hsx_vm::fp16::f16_to_f64((self.r(slot, 1) & 0xFFFF) as u16);
        let y = match func {
            0 => devlibm::sin(x),
            1 => devlibm::cos(x),
            2 => devlibm::exp(x),
            _ => {
                self.set_r(slot, 0, 0);
                return;
            }
        };
        let bits = u32::from(hsx_vm::fp16::f16_from_f64(y));
        let r0 = self.r(slot, 0);
        self.set_r(slot, 0, (r0 & 0xFFFF_0000) | bits);
    }
}

/// A finished RECV (at once or as a deferred completion) into the task: the payload at
/// `buf_ptr`, R0..R4, and the info record at `info_ptr`.
pub(crate) fn deliver_recv<C: TaskCode>(
    t: &mut VmTask<C>,
    buf_ptr: u32,
    payload: &[u8],
    regs: [u32; 5],
    info_ptr: u32,
    info: &[u8],
) {
    if !payload.is_empty() {
        t.write_mem(buf_ptr, payload);
    }
    for (i, v) in (0u8..).zip(regs) {
        t.reg_set(Reg::gpr(i), v);
    }
    write_info(t, info_ptr, info);
}

/// The receive-info record at `ptr` (0 = none). The reference skips a record that would
/// run past the end of memory rather than writing part of it.
fn write_info<C: TaskCode>(t: &mut VmTask<C>, ptr: u32, rec: &[u8]) {
    if ptr != 0 && (ptr & 0xFFFF) as usize + rec.len() <= MEM_SIZE {
        t.write_mem(ptr, rec);
    }
}

/// sin/cos/exp in `f64` without `std` (accurate far beyond f16 needs).
mod devlibm {
    const PIO2_HI: f64 = 1.570_796_326_734_125_6;
    const PIO2_LO: f64 = 6.077_100_506_506_192e-11;
    const LN2: f64 = core::f64::consts::LN_2;

    fn round_to_i64(x: f64) -> i64 {
        (if x >= 0.0 { x + 0.5 } else { x - 0.5 }) as i64
    }

    /// Taylor sine on |r| ≤ π/4.
    fn sin_k(r: f64) -> f64 {
        let r2 = r * r;
        let mut term = r;
        let mut sum = r;
        let mut k = 1.0;
        for _ in 0..9 {
            term *= -r2 / ((k + 1.0) * (k + 2.0));
            sum += term;
            k += 2.0;
        }
        sum
    }

    /// Taylor cosine on |r| ≤ π/4.
    fn cos_k(r: f64) -> f64 {
        let r2 = r * r;
        let mut term = 1.0;
        let mut sum = 1.0;
        let mut k = 0.0;
        for _ in 0..9 {
            term *= -r2 / ((k + 1.0) * (k + 2.0));
            sum += term;
            k += 2.0;
        }
        sum
    }

    fn reduce(x: f64) -> (i64, f64) {
        let n = round_to_i64(x / (PIO2_HI + PIO2_LO));
        let nf = n as f64;
        (n, (x - nf * PIO2_HI) - nf * PIO2_LO)
    }

    pub(super) fn sin(x: f64) -> f64 {
        if !x.is_finite() {
            return f64::NAN;
        }
        let (n, r) = reduce(x);
        match n & 3 {
            0 => sin_k(r),
            1 => cos_k(r),
            2 => -sin_k(r),
            _ => -cos_k(r),
        }
    }

    pub(super) fn cos(x: f64) -> f64 {
        if !x.is_finite() {
            return f64::NAN;
        }
        let (n, r) = reduce(x);
        match n & 3 {
            0 => cos_k(r),
            1 => -sin_k(r),
            2 => -cos_k(r),
            _ => sin_k(r),
        }
    }

    pub(super) fn exp(x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        // Beyond these the f16 result is already ±inf / 0.
        if x > 16.0 {
            return f64::INFINITY;
        }
        if x < -24.0 {
            return 0.0;
        }
        let k = round_to_i64(x / LN2);
        let r = x - k as f64 * LN2;
        let mut term = 1.0;
        let mut sum = 1.0;
        for i in 1..=14 {
            term *= r / f64::from(i);
            sum += term;
        }
        // 2^k for k in [-35, 24]: an exact power of two.
        let scale = f64::from_bits(((k + 1023) as u64) << 52);
        sum * scale
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn close_to_known_values() {
            let close = |a: f64, b: f64| (a - b).abs() < 1e-12 * b.abs().max(1.0);
            assert!(close(sin(0.0), 0.0));
            assert!(close(sin(1.0), 0.841_470_984_807_896_5));
            assert!(close(cos(1.0), 0.540_302_305_868_139_8));
            assert!(close(sin(-2.5), -0.598_472_144_103_956_5));
            assert!(close(cos(100.0), 0.862_318_872_287_683_9));
            assert!(close(exp(1.0), core::f64::consts::E));
            assert!(close(exp(-3.0), 0.049_787_068_367_863_944));
            assert!(exp(20.0).is_infinite());
            assert!(sin(f64::INFINITY).is_nan());
        }
    }
}
