//! Per-task data memory (`vm.md` §3, `design.md` §3).
//!
//! Every task sees a private 64 KiB little-endian data space. The VM talks to it only through
//! the [`Memory`] trait so that a later MCU build can back a task with just its data and stack
//! segments instead of a full 64 KiB array. [`FlatMem`] is the straightforward full-size
//! implementation.

use core::borrow::{Borrow, BorrowMut};

/// Size of a task's data address space in bytes.
pub const MEM_SIZE: usize = 0x10000;

/// An access that the memory cannot serve: it runs past 0xFFFF, or (in a segmented
/// implementation) touches an unmapped address. The VM turns it into `MEM_FAULT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemError;

/// A task's data memory.
///
/// Addresses passed to the guest accessors are effective addresses already reduced to
/// 16 bits by the VM (`0..=0xFFFF`); an access must fail with [`MemError`] when its last byte
/// would lie beyond 0xFFFF. Multi-byte values are little-endian and need no alignment.
pub trait Memory {
    /// Read one byte.
    fn load8(&self, addr: u32) -> Result<u8, MemError>;
    /// Read a little-endian 16-bit value.
    fn load16(&self, addr: u32) -> Result<u16, MemError>;
    /// Read a little-endian 32-bit value.
    fn load32(&self, addr: u32) -> Result<u32, MemError>;
    /// Write one byte.
    fn store8(&mut self, addr: u32, value: u8) -> Result<(), MemError>;
    /// Write a little-endian 16-bit value.
    fn store16(&mut self, addr: u32, value: u16) -> Result<(), MemError>;
    /// Write a little-endian 32-bit value.
    fn store32(&mut self, addr: u32, value: u32) -> Result<(), MemError>;
    /// Zero all of the memory (task creation).
    fn clear(&mut self);

    /// Host read of `buf.len()` bytes at `addr`; the caller guarantees
    /// `addr + buf.len() <= 0x10000`. Never fails: unmapped bytes read as 0.
    fn read_bytes(&self, addr: u32, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.load8(addr.wrapping_add(i as u32)).unwrap_or(0);
        }
    }

    /// Host write of `data` at `addr`; the caller guarantees `addr + data.len() <= 0x10000`.
    /// Never fails: writes to unmapped bytes are dropped.
    fn write_bytes(&mut self, addr: u32, data: &[u8]) {
        for (i, b) in data.iter().enumerate() {
            let _ = self.store8(addr.wrapping_add(i as u32), *b);
        }
    }
}

/// A full, flat 64 KiB memory over any owner of a `[u8; 0x10000]`:
///
/// * `FlatMem<[u8; MEM_SIZE]>` — inline (e.g. in a fixed array of tasks);
/// * `FlatMem<Box<[u8; MEM_SIZE]>>` — heap (executive); build the box without a 64 KiB
///   stack temporary via `vec![0u8; MEM_SIZE].into_boxed_slice().try_into()`;
/// * `FlatMem<&'static mut [u8; MEM_SIZE]>` — a static buffer.
#[derive(Debug, Clone)]
pub struct FlatMem<B>(pub B);

impl FlatMem<[u8; MEM_SIZE]> {
    /// A zeroed inline memory.
    pub const fn new_inline() -> Self {
        FlatMem([0; MEM_SIZE])
    }
}

impl<B> FlatMem<B>
where
    B: Borrow<[u8; MEM_SIZE]> + BorrowMut<[u8; MEM_SIZE]>,
{
    /// The whole address space as bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8; MEM_SIZE] {
        self.0.borrow()
    }

    /// The whole address space as mutable bytes.
    #[inline]
    pub fn bytes_mut(&mut self) -> &mut [u8; MEM_SIZE] {
        self.0.borrow_mut()
    }

    #[inline(always)]
    fn chunk<const N: usize>(&self, addr: u32) -> Result<&[u8; N], MemError> {
        self.bytes()
            .get(addr as usize..)
            .and_then(|s| s.first_chunk::<N>())
            .ok_or(MemError)
    }

    #[inline(always)]
    fn chunk_mut<const N: usize>(&mut self, addr: u32) -> Result<&mut [u8; N], MemError> {
        self.bytes_mut()
            .get_mut(addr as usize..)
            .and_then(|s| s.first_chunk_mut::<N>())
            .ok_or(MemError)
    }
}

impl<B> Memory for FlatMem<B>
where
    B: Borrow<[u8; MEM_SIZE]> + BorrowMut<[u8; MEM_SIZE]>,
{
    #[inline(always)]
    fn load8(&self, addr: u32) -> Result<u8, MemError> {
        self.bytes().get(addr as usize).copied().ok_or(MemError)
    }
    #[inline(always)]
    fn load16(&self, addr: u32) -> Result<u16, MemError> {
        self.chunk::<2>(addr).map(|c| u16::from_le_bytes(*c))
    }
    #[inline(always)]
    fn load32(&self, addr: u32) -> Result<u32, MemError> {
        self.chunk::<4>(addr).map(|c| u32::from_le_bytes(*c))
    }
    #[inline(always)]
    fn store8(&mut self, addr: u32, value: u8) -> Result<(), MemError> {
        let b = self.bytes_mut().get_mut(addr as usize).ok_or(MemError)?;
        *b = value;
        Ok(())
    }
    #[inline(always)]
    fn store16(&mut self, addr: u32, value: u16) -> Result<(), MemError> {
        *self.chunk_mut::<2>(addr)? = value.to_le_bytes();
        Ok(())
    }
    #[inline(always)]
    fn store32(&mut self, addr: u32, value: u32) -> Result<(), MemError> {
        *self.chunk_mut::<4>(addr)? = value.to_le_bytes();
        Ok(())
    }
    fn clear(&mut self) {
        self.bytes_mut().fill(0);
    }
    fn read_bytes(&self, addr: u32, buf: &mut [u8]) {
        let a = addr as usize;
        if let Some(src) = self.bytes().get(a..a.saturating_add(buf.len())) {
            buf.copy_from_slice(src);
        }
    }
    fn write_bytes(&mut self, addr: u32, data: &[u8]) {
        let a = addr as usize;
        if let Some(dst) = self.bytes_mut().get_mut(a..a.saturating_add(data.len())) {
            dst.copy_from_slice(data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_mem_little_endian_unaligned_and_bounds() {
        let mut m = FlatMem::new_inline();
        m.store32(0x2001, 0x5544_3322).unwrap();
        assert_eq!(m.load8(0x2001), Ok(0x22));
        assert_eq!(m.load16(0x2002), Ok(0x4433));
        assert_eq!(m.load32(0x2001), Ok(0x5544_3322));
        assert_eq!(m.load32(0xFFFC), Ok(0));
        assert_eq!(m.load32(0xFFFD), Err(MemError));
        assert_eq!(m.load16(0xFFFF), Err(MemError));
        assert_eq!(m.load8(0xFFFF), Ok(0));
        assert_eq!(m.store32(0xFFFE, 1), Err(MemError));
        assert_eq!(m.load8(0x10000), Err(MemError));
        m.clear();
        assert_eq!(m.load32(0x2001), Ok(0));
    }
}
