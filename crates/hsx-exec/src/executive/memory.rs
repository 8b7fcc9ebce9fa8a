//! Registers and memory of a task as the debugger and the shell see them: reads and
//! writes by register name and by address, and code bytes for disassembly.

use alloc::vec::Vec;

use hsx_vm::{MEM_SIZE, Reg};

use super::{ExecError, Executive, RegisterSnapshot, TaskCode, VmTask};

impl<C: TaskCode> Executive<C> {
    /// Read a register (R0..R15, PC, SP, PSW).
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn reg_get(&self, pid: u32, reg: Reg) -> Result<u32, ExecError> {
        let slot = self.slot_of(pid)?;
        self.vm_task(slot)
            .map(|t| t.reg_get(reg))
            .ok_or(ExecError::UnknownPid(pid))
    }

    /// Write a register. Writing the PC of a task paused at a breakpoint moves it off it.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn reg_set(&mut self, pid: u32, reg: Reg, value: u32) -> Result<(), ExecError> {
        self.touch();
        let slot = self.slot_of(pid)?;
        let t = self.vm_task_mut(slot).ok_or(ExecError::UnknownPid(pid))?;
        t.reg_set(reg, value);
        Ok(())
    }

    /// All registers of a task.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn registers(&self, pid: u32) -> Result<RegisterSnapshot, ExecError> {
        let slot = self.slot_of(pid)?;
        let t = self.vm_task(slot).ok_or(ExecError::UnknownPid(pid))?;
        Ok(RegisterSnapshot {
            regs: *t.regs(),
            pc: t.pc(),
            sp: t.sp(),
            psw: t.psw(),
            steps: t.steps(),
            call_depth: t.call_depth(),
        })
    }

    /// Read task memory: the address is masked to 16 bits and the length clipped at
    /// 0x10000 (never faults).
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn read_mem(&self, pid: u32, addr: u32, len: usize) -> Result<Vec<u8>, ExecError> {
        let slot = self.slot_of(pid)?;
        let t = self.vm_task(slot).ok_or(ExecError::UnknownPid(pid))?;
        Ok(read_clipped(t, addr, len))
    }

    /// Write task memory (address masked to 16 bits, data clipped at 0x10000). Returns the
    /// bytes written.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn write_mem(&mut self, pid: u32, addr: u32, data: &[u8]) -> Result<usize, ExecError> {
        self.touch();
        let slot = self.slot_of(pid)?;
        let t = self.vm_task_mut(slot).ok_or(ExecError::UnknownPid(pid))?;
        Ok(t.write_mem(addr, data))
    }

    /// Read code bytes (big-endian instruction words, as in the image) for disassembly.
    /// Clipped at the end of the code.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn read_code(&self, pid: u32, addr: u32, len: usize) -> Result<Vec<u8>, ExecError> {
        let slot = self.slot_of(pid)?;
        let t = self.vm_task(slot).ok_or(ExecError::UnknownPid(pid))?;
        let code_len = t.code_len() as usize;
        let start = (addr as usize).min(code_len);
        let end = start.saturating_add(len).min(code_len);
        let mut out = Vec::with_capacity(end - start);
        for a in start..end {
            let w = u32::try_from(a & !3)
                .ok()
                .and_then(|pc| t.fetch(pc))
                .unwrap_or(0);
            out.push(w.to_be_bytes().get(a % 4).copied().unwrap_or(0));
        }
        Ok(out)
    }

    /// Code length of a task's image in bytes.
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`].
    pub fn code_len(&self, pid: u32) -> Result<u32, ExecError> {
        let slot = self.slot_of(pid)?;
        self.vm_task(slot)
            .map(VmTask::<C>::code_len)
            .ok_or(ExecError::UnknownPid(pid))
    }
}

/// `len` bytes of task memory at `addr` (masked to 16 bits), clipped at the end of memory
/// before allocating, so a huge host or guest length costs nothing.
pub(crate) fn read_clipped<C: TaskCode>(t: &VmTask<C>, addr: u32, len: usize) -> Vec<u8> {
    let n = len.min(MEM_SIZE - (addr & 0xFFFF) as usize);
    let mut buf = alloc::vec![0u8; n];
    let got = t.read_mem(addr, &mut buf);
    buf.truncate(got);
    buf
}
