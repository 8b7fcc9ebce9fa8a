//! Read-only code space (Harvard; `vm.md` §3).
//!
//! Code is addressed by `pc` (a byte offset) and is invisible to loads and stores. The VM
//! fetches through the [`Code`] trait (a task's code) and its by-value [`CodeView`] (what the
//! interpreter loop holds in registers); two implementations are provided:
//!
//! * [`WordCode`] — instruction words as native `u32` values (converted once from the
//!   image's big-endian bytes at load, see [`words_from_be_bytes`]). This is the fast path:
//!   an aligned fetch is one indexed load. Use `WordCode<Vec<u32>>` (feature `alloc`),
//!   `WordCode<&'static [u32]>` or `WordCode<[u32; N]>`.
//! * [`ByteCode`] — the image's big-endian bytes used in place (e.g. straight from flash on
//!   an MCU), at the cost of assembling each word on fetch.
//!
//! The VM has no alignment requirement on `pc`: an unaligned fetch reads the 4 bytes at
//! `pc..pc+4` like the reference.

use crate::op::Op;
#[cfg(feature = "alloc")]
use crate::op::decode_ops;

/// A task's code space. The interpreter works through a [`CodeView`] obtained once per
/// `run`, a small `Copy` value (typically a slice) that the optimiser can keep in registers.
pub trait Code {
    /// The view type.
    type View<'a>: CodeView
    where
        Self: 'a;
    /// A view of the code.
    fn view(&self) -> Self::View<'_>;
    /// The pre-decoded form of the code, one [`Op`] per word, if this representation keeps
    /// one (`DecodedCode`); untraced runs then use the pre-decoded interpreter loop.
    #[inline(always)]
    fn decoded(&self) -> Option<&[Op]> {
        None
    }
}

/// Read access to code, by value.
pub trait CodeView: Copy {
    /// Code length in bytes (`code_len`).
    fn len_bytes(self) -> u32;
    /// The big-endian instruction word at byte offset `pc`, or `None` when
    /// `pc + 4 > len_bytes()`.
    fn fetch(self, pc: u32) -> Option<u32>;
}

/// Code held as instruction words (native values). The code length is `4 × words`;
/// loading code whose byte length is not a multiple of 4 pads the last word with zero
/// bytes (`.hxe` images always have whole words; the loader rejects anything else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordCode<T>(pub T);

impl<T: AsRef<[u32]>> WordCode<T> {
    /// The instruction words.
    #[inline]
    pub fn words(&self) -> &[u32] {
        self.0.as_ref()
    }
}

#[cfg(feature = "alloc")]
impl WordCode<alloc::vec::Vec<u32>> {
    /// Convert big-endian code bytes (as stored in an `.hxe` image) into words.
    pub fn from_be_bytes(bytes: &[u8]) -> Self {
        let mut v = alloc::vec![0u32; word_count(bytes.len())];
        words_from_be_bytes(bytes, &mut v);
        WordCode(v)
    }
}

impl<T: AsRef<[u32]>> Code for WordCode<T> {
    type View<'a>
        = Words<'a>
    where
        T: 'a;
    #[inline(always)]
    fn view(&self) -> Words<'_> {
        Words(self.0.as_ref())
    }
}

/// View of [`WordCode`].
#[derive(Debug, Clone, Copy)]
pub struct Words<'a>(pub &'a [u32]);

impl CodeView for Words<'_> {
    #[inline]
    fn len_bytes(self) -> u32 {
        u32::try_from(self.0.len()).map_or(!3, |n| n.saturating_mul(4))
    }

    #[inline(always)]
    fn fetch(self, pc: u32) -> Option<u32> {
        let w = self.0;
        let i = (pc >> 2) as usize;
        let k = pc & 3;
        if k == 0 {
            w.get(i).copied()
        } else {
            // Unaligned pc: splice the tail of word i and the head of word i+1.
            let hi = *w.get(i)?;
            let lo = *w.get(i + 1)?;
            Some((hi << (8 * k)) | (lo >> (32 - 8 * k)))
        }
    }
}

/// Code held as instruction words plus their pre-decoded form ([`Op`], built once here),
/// the desktop representation: the interpreter loop then does no field extraction and no
/// per-fetch alignment check. Costs 8 bytes per word on top of the words themselves, so
/// microcontroller builds use [`ByteCode`] or [`WordCode`] instead.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedCode {
    words: alloc::vec::Vec<u32>,
    ops: alloc::vec::Vec<Op>,
}

#[cfg(feature = "alloc")]
impl DecodedCode {
    /// Decode instruction words.
    pub fn from_words(words: alloc::vec::Vec<u32>) -> Self {
        let mut ops = alloc::vec![Op::default(); words.len()];
        decode_ops(&words, &mut ops);
        DecodedCode { words, ops }
    }

    /// Convert big-endian code bytes (as stored in an `.hxe` image) and decode them.
    pub fn from_be_bytes(bytes: &[u8]) -> Self {
        Self::from_words(WordCode::from_be_bytes(bytes).0)
    }

    /// The instruction words.
    #[inline]
    pub fn words(&self) -> &[u32] {
        &self.words
    }
}

#[cfg(feature = "alloc")]
impl Code for DecodedCode {
    type View<'a> = Words<'a>;
    #[inline(always)]
    fn view(&self) -> Words<'_> {
        Words(&self.words)
    }
    #[inline(always)]
    fn decoded(&self) -> Option<&[Op]> {
        Some(&self.ops)
    }
}

/// Code held as the image's big-endian bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteCode<T>(pub T);

impl<T: AsRef<[u8]>> Code for ByteCode<T> {
    type View<'a>
        = BeBytes<'a>
    where
        T: 'a;
    #[inline(always)]
    fn view(&self) -> BeBytes<'_> {
        BeBytes(self.0.as_ref())
    }
}

/// View of [`ByteCode`].
#[derive(Debug, Clone, Copy)]
pub struct BeBytes<'a>(pub &'a [u8]);

impl CodeView for BeBytes<'_> {
    #[inline]
    fn len_bytes(self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX)
    }

    #[inline]
    fn fetch(self, pc: u32) -> Option<u32> {
        let b = self.0.get(pc as usize..)?.first_chunk::<4>()?;
        Some(u32::from_be_bytes(*b))
    }
}

/// Number of words needed for `byte_len` code bytes (rounded up).
pub const fn word_count(byte_len: usize) -> usize {
    byte_len.div_ceil(4)
}

/// Convert big-endian code bytes into words, writing at most `out.len()` words; a trailing
/// partial word is padded with zero bytes. Returns the number of words written.
pub fn words_from_be_bytes(bytes: &[u8], out: &mut [u32]) -> usize {
    let mut n = 0;
    for (chunk, slot) in bytes.chunks(4).zip(out.iter_mut()) {
        let mut b = [0u8; 4];
        for (d, s) in b.iter_mut().zip(chunk) {
            *d = *s;
        }
        *slot = u32::from_be_bytes(b);
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_and_byte_code_agree_on_every_offset() {
        let bytes: [u8; 12] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        let mut words = [0u32; 3];
        assert_eq!(words_from_be_bytes(&bytes, &mut words), 3);
        assert_eq!(words[0], 0x0102_0304);
        let wc = WordCode(words);
        let bc = ByteCode(bytes);
        let (wc, bc) = (wc.view(), bc.view());
        assert_eq!(wc.len_bytes(), 12);
        assert_eq!(bc.len_bytes(), 12);
        for pc in 0..16 {
            assert_eq!(wc.fetch(pc), bc.fetch(pc), "pc {pc}");
        }
        assert_eq!(wc.fetch(1), Some(0x0203_0405));
        assert_eq!(wc.fetch(8), Some(0x090A_0B0C));
        assert_eq!(wc.fetch(9), None);
        assert_eq!(wc.fetch(u32::MAX), None);
    }

    #[test]
    fn partial_word_is_zero_padded() {
        let mut words = [0u32; 2];
        assert_eq!(word_count(5), 2);
        assert_eq!(words_from_be_bytes(&[1, 2, 3, 4, 5], &mut words), 2);
        assert_eq!(words, [0x0102_0304, 0x0500_0000]);
    }
}
