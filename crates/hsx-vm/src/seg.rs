//! Segmented task memory: only the parts of the 64 KiB space a task uses are backed by RAM.
//!
//! A [`SegMem`] maps (at most) two segments of guest addresses onto one caller-provided
//! arena (a `Box<[u8]>` in an executive, a `&'static mut [u8]` slab on a microcontroller):
//!
//! * the **data** segment `[data_base, data_base + data_len)` → `arena[..data_len]`
//!   (rodata/data copied to 0x4000, then zeroed bss/heap);
//! * the **stack** segment `[stack_base, stack_base + stack_len)` →
//!   `arena[data_len..data_len + stack_len]` (ending at 0xFFFC for an executive task).
//!
//! Guest addresses stay as they are. A guest access any byte of which lies outside both
//! segments fails with [`MemError`] (the VM turns it into `MEM_FAULT`); host accesses
//! ([`Memory::read_bytes`]/[`Memory::write_bytes`]) never fail: unmapped bytes read as 0 and
//! writes to them are dropped. The flat layout ([`SegLayout::flat`]: one 64 KiB data
//! segment at 0) behaves exactly like [`crate::FlatMem`].

use crate::mem::{MEM_SIZE, MemError, Memory};
use crate::task::{RODATA_BASE, STACK_TOP};

/// Where a [`SegMem`]'s two segments lie in guest address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegLayout {
    /// First guest address of the data segment.
    pub data_base: u32,
    /// Length of the data segment in bytes.
    pub data_len: u32,
    /// First guest address of the stack segment.
    pub stack_base: u32,
    /// Length of the stack segment in bytes.
    pub stack_len: u32,
}

impl SegLayout {
    /// The whole 64 KiB space as one segment (same behaviour as [`crate::FlatMem`]).
    pub const fn flat() -> SegLayout {
        SegLayout {
            data_base: 0,
            data_len: MEM_SIZE as u32,
            stack_base: 0,
            stack_len: 0,
        }
    }

    /// An executive task: `data_len` bytes at 0x4000 and a stack of `stack_len` bytes
    /// ending at 0xFFFC (the word at 0xFFFC itself is not mapped). The data segment is cut
    /// where the stack begins, so the two never overlap.
    pub const fn task(data_len: u32, stack_len: u32) -> SegLayout {
        let stack_len = if stack_len > STACK_TOP - RODATA_BASE {
            STACK_TOP - RODATA_BASE
        } else {
            stack_len
        };
        let stack_base = STACK_TOP - stack_len;
        let room = stack_base - RODATA_BASE;
        SegLayout {
            data_base: RODATA_BASE,
            data_len: if data_len > room { room } else { data_len },
            stack_base,
            stack_len,
        }
    }

    /// Arena bytes this layout needs.
    pub const fn arena_len(&self) -> usize {
        self.data_len as usize + self.stack_len as usize
    }

    /// Whether both segments lie inside the 64 KiB space and do not overlap.
    pub const fn is_valid(&self) -> bool {
        let d_end = self.data_base as u64 + self.data_len as u64;
        let s_end = self.stack_base as u64 + self.stack_len as u64;
        let disjoint = self.data_len == 0
            || self.stack_len == 0
            || d_end <= self.stack_base as u64
            || s_end <= self.data_base as u64;
        d_end <= MEM_SIZE as u64 && s_end <= MEM_SIZE as u64 && disjoint
    }
}

/// A task memory backed only where its [`SegLayout`] maps it. `B` is the arena owner.
#[derive(Debug, Clone)]
pub struct SegMem<B> {
    arena: B,
    layout: SegLayout,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> SegMem<B> {
    /// A memory over `arena` (which it does not clear; [`Memory::clear`] does). `None` if the
    /// layout is invalid ([`SegLayout::is_valid`]) or the arena is shorter than
    /// [`SegLayout::arena_len`]. A longer arena is fine; the rest is unused.
    pub fn new(arena: B, layout: SegLayout) -> Option<SegMem<B>> {
        (layout.is_valid() && arena.as_ref().len() >= layout.arena_len())
            .then_some(SegMem { arena, layout })
    }

    /// The layout.
    pub fn layout(&self) -> SegLayout {
        self.layout
    }

    /// Give the arena back.
    pub fn into_arena(self) -> B {
        self.arena
    }

    /// Arena offset of guest bytes `addr..addr + n` if they all lie in one segment.
    #[inline(always)]
    fn offset(&self, addr: u32, n: u32) -> Option<usize> {
        let l = &self.layout;
        let d = addr.wrapping_sub(l.data_base);
        if d < l.data_len && l.data_len - d >= n {
            return Some(d as usize);
        }
        let s = addr.wrapping_sub(l.stack_base);
        if s < l.stack_len && l.stack_len - s >= n {
            return Some(l.data_len as usize + s as usize);
        }
        None
    }

    /// Little-endian load of `N` bytes; an access that straddles two adjacent segments is
    /// assembled byte by byte (every byte must be mapped).
    #[inline(always)]
    fn load<const N: usize>(&self, addr: u32) -> Result<[u8; N], MemError> {
        if let Some(o) = self.offset(addr, N as u32)
            && let Some(c) = self.arena.as_ref().get(o..).and_then(|s| s.first_chunk())
        {
            return Ok(*c);
        }
        self.load_split(addr)
    }

    #[cold]
    fn load_split<const N: usize>(&self, addr: u32) -> Result<[u8; N], MemError> {
        let mut out = [0u8; N];
        for (i, b) in out.iter_mut().enumerate() {
            let o = self
                .offset(addr.wrapping_add(i as u32), 1)
                .ok_or(MemError)?;
            *b = *self.arena.as_ref().get(o).ok_or(MemError)?;
        }
        Ok(out)
    }

    #[inline(always)]
    fn store<const N: usize>(&mut self, addr: u32, v: [u8; N]) -> Result<(), MemError> {
        if let Some(o) = self.offset(addr, N as u32)
            && let Some(c) = self
                .arena
                .as_mut()
                .get_mut(o..)
                .and_then(|s| s.first_chunk_mut())
        {
            *c = v;
            return Ok(());
        }
        self.store_split(addr, v)
    }

    #[cold]
    fn store_split<const N: usize>(&mut self, addr: u32, v: [u8; N]) -> Result<(), MemError> {
        // Check every byte first: a faulting store must not change memory.
        let mut offs = [0usize; N];
        for (i, o) in offs.iter_mut().enumerate() {
            *o = self
                .offset(addr.wrapping_add(i as u32), 1)
                .ok_or(MemError)?;
        }
        let arena = self.arena.as_mut();
        for (o, b) in offs.iter().zip(v) {
            *arena.get_mut(*o).ok_or(MemError)? = b;
        }
        Ok(())
    }

    /// The guest range `addr..addr + len` cut into `(guest addr, arena offset, len)` pieces
    /// of mapped bytes, in address order (at most two).
    fn pieces(&self, addr: u32, len: u32) -> [Option<(u32, usize, u32)>; 2] {
        let l = &self.layout;
        let end = addr.saturating_add(len);
        let cut = |base: u32, seg_len: u32, arena_at: usize| {
            let lo = addr.max(base);
            let hi = end.min(base.saturating_add(seg_len));
            (lo < hi).then(|| (lo, arena_at + (lo - base) as usize, hi - lo))
        };
        let mut p = [
            cut(l.data_base, l.data_len, 0),
            cut(l.stack_base, l.stack_len, l.data_len as usize),
        ];
        if let [Some(a), Some(b)] = p
            && b.0 < a.0
        {
            p = [Some(b), Some(a)];
        }
        p
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Memory for SegMem<B> {
    #[inline(always)]
    fn load8(&self, addr: u32) -> Result<u8, MemError> {
        self.load::<1>(addr).map(|b| b[0])
    }
    #[inline(always)]
    fn load16(&self, addr: u32) -> Result<u16, MemError> {
        self.load(addr).map(u16::from_le_bytes)
    }
    #[inline(always)]
    fn load32(&self, addr: u32) -> Result<u32, MemError> {
        self.load(addr).map(u32::from_le_bytes)
    }
    #[inline(always)]
    fn store8(&mut self, addr: u32, value: u8) -> Result<(), MemError> {
        self.store(addr, [value])
    }
    #[inline(always)]
    fn store16(&mut self, addr: u32, value: u16) -> Result<(), MemError> {
        self.store(addr, value.to_le_bytes())
    }
    #[inline(always)]
    fn store32(&mut self, addr: u32, value: u32) -> Result<(), MemError> {
        self.store(addr, value.to_le_bytes())
    }
    fn clear(&mut self) {
        let n = self.layout.arena_len();
        if let Some(a) = self.arena.as_mut().get_mut(..n) {
            a.fill(0);
        }
    }
    fn read_bytes(&self, addr: u32, buf: &mut [u8]) {
        buf.fill(0);
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        for (g, o, n) in self.pieces(addr, len).into_iter().flatten() {
            let at = (g - addr) as usize;
            let (n, arena) = (n as usize, self.arena.as_ref());
            if let (Some(dst), Some(src)) = (buf.get_mut(at..at + n), arena.get(o..o + n)) {
                dst.copy_from_slice(src);
            }
        }
    }
    fn write_bytes(&mut self, addr: u32, data: &[u8]) {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        for (g, o, n) in self.pieces(addr, len).into_iter().flatten() {
            let at = (g - addr) as usize;
            let n = n as usize;
            if let (Some(dst), Some(src)) =
                (self.arena.as_mut().get_mut(o..o + n), data.get(at..at + n))
            {
                dst.copy_from_slice(src);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task_mem(data: u32, stack: u32) -> SegMem<[u8; 0x400]> {
        SegMem::new([0u8; 0x400], SegLayout::task(data, stack)).unwrap()
    }

    #[test]
    fn layout_task_and_validity() {
        let l = SegLayout::task(0x100, 0x200);
        assert_eq!((l.data_base, l.data_len), (0x4000, 0x100));
        assert_eq!((l.stack_base, l.stack_len), (0xFDFC, 0x200));
        assert_eq!(l.arena_len(), 0x300);
        assert!(l.is_valid() && SegLayout::flat().is_valid());
        // Too large: data is cut where the stack starts.
        let big = SegLayout::task(0xFFFF, 0x1000);
        assert_eq!(big.data_base + big.data_len, big.stack_base);
        assert!(big.is_valid());
        let bad = SegLayout {
            data_base: 0xFF00,
            data_len: 0x200,
            stack_base: 0,
            stack_len: 0,
        };
        assert!(!bad.is_valid());
        assert!(SegMem::new([0u8; 4], l).is_none(), "arena too short");
    }

    #[test]
    fn every_access_on_the_data_boundaries() {
        let mut m = task_mem(0x10, 0x20);
        for (w, last_ok) in [(1u32, 0x400F), (2, 0x400E), (4, 0x400C)] {
            for a in 0x3FF0..0x4020u32 {
                let ok = (0x4000..=last_ok).contains(&a);
                let r = match w {
                    1 => m.store8(a, 1).and(m.load8(a).map(u32::from)),
                    2 => m.store16(a, 1).and(m.load16(a).map(u32::from)),
                    _ => m.store32(a, 1).and(m.load32(a)),
                };
                assert_eq!(r.is_ok(), ok, "width {w} at {a:#x}");
            }
        }
    }

    #[test]
    fn every_access_on_the_stack_boundaries() {
        let mut m = task_mem(0x10, 0x20);
        // Stack segment is 0xFFDC..0xFFFC.
        for a in 0xFFC0..=0xFFFFu32 {
            assert_eq!(m.load8(a).is_ok(), (0xFFDC..0xFFFC).contains(&a), "{a:#x}");
            assert_eq!(
                m.store32(a, 7).is_ok(),
                (0xFFDC..=0xFFF8).contains(&a),
                "{a:#x}"
            );
            assert_eq!(
                m.load16(a).is_ok(),
                (0xFFDC..=0xFFFA).contains(&a),
                "{a:#x}"
            );
        }
        assert_eq!(m.load32(0xFFF8), Ok(7));
    }

    #[test]
    fn wrap_at_64k_faults_like_flat() {
        let mut flat = SegMem::new(alloc_flat(), SegLayout::flat()).unwrap();
        assert_eq!(flat.load32(0xFFFC), Ok(0));
        assert_eq!(flat.load32(0xFFFD), Err(MemError));
        assert_eq!(flat.load16(0xFFFF), Err(MemError));
        assert_eq!(flat.store32(0xFFFE, 1), Err(MemError));
        assert_eq!(flat.load8(0x10000), Err(MemError));
        assert_eq!(flat.load32(u32::MAX), Err(MemError));
        // A stack that ends at the very top: nothing wraps around to address 0.
        let l = SegLayout {
            data_base: 0,
            data_len: 4,
            stack_base: 0xFFFC,
            stack_len: 4,
        };
        let mut m = SegMem::new([0u8; 8], l).unwrap();
        assert_eq!(m.store32(0xFFFC, 0xAABB_CCDD), Ok(()));
        assert_eq!(m.load32(0xFFFE), Err(MemError));
        assert_eq!(m.store16(0xFFFF, 1), Err(MemError));
        assert_eq!(m.load8(0), Ok(0));
    }

    fn alloc_flat() -> [u8; MEM_SIZE] {
        [0u8; MEM_SIZE]
    }

    #[test]
    fn adjacent_segments_join_and_faulting_stores_change_nothing() {
        let l = SegLayout {
            data_base: 0x100,
            data_len: 2,
            stack_base: 0x102,
            stack_len: 2,
        };
        let mut m = SegMem::new([0u8; 4], l).unwrap();
        assert_eq!(m.store32(0x100, 0x0403_0201), Ok(()));
        assert_eq!(m.load32(0x100), Ok(0x0403_0201));
        assert_eq!(m.store32(0x101, 0xFFFF_FFFF), Err(MemError));
        assert_eq!(m.load32(0x100), Ok(0x0403_0201));
    }

    #[test]
    fn host_access_of_unmapped_bytes() {
        let mut m = task_mem(4, 8);
        m.write_bytes(0x3FFE, &[1, 2, 3, 4, 5, 6, 7, 8]);
        let mut buf = [0xEEu8; 8];
        m.read_bytes(0x3FFE, &mut buf);
        assert_eq!(buf, [0, 0, 3, 4, 5, 6, 0, 0]);
        m.write_bytes(0x8000, &[9; 16]);
        let mut big = [0xEEu8; 0x10];
        m.read_bytes(0x8000, &mut big);
        assert_eq!(big, [0; 16]);
        // One host read covering both segments.
        m.write_bytes(0xFFF4, &[0xAB; 8]);
        let mut all = [0u8; 0xC000];
        m.read_bytes(0x4000, &mut all);
        assert_eq!(&all[..4], &[3, 4, 5, 6]);
        assert_eq!(&all[0xBFF4..0xBFFC], &[0xAB; 8]);
        assert!(all[4..0xBFF4].iter().all(|&b| b == 0));
        m.clear();
        assert_eq!(m.load32(0x4000), Ok(0));
    }
}
