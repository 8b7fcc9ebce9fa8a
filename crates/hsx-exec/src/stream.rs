//! Checking an image while it streams in, and where its bytes go.
//!
//! [`StreamCheck`] sees every byte once, in order, and keeps only the header (≤ 96 bytes),
//! the running CRC and one 16-byte section-table entry: a bad magic, version, size or
//! section table is refused as soon as its bytes arrive, a wrong CRC at the last byte. The
//! bytes themselves go to an [`ImageSink`]: a bounded `Vec` on the desktop, a fixed slot
//! (RAM or flash) on a microcontroller, so a streamed load never needs a second copy.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use hsx_image::{CRC_OFFSET, Crc32, HEADER_V1_LEN, HEADER_V2_LEN, Header, LoadError};

/// `META_ENTRY_LEN` as the checker uses it (one section-table entry).
const ENTRY_LEN: usize = hsx_image::META_ENTRY_LEN;

/// Why a streamed load was refused. [`StreamError::code`] is the `services.md` §3.7 errno.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The bytes are not a valid image (header, section table, CRC, length).
    #[error("EBADMSG:{0}")]
    BadImage(LoadError),
    /// More bytes than announced at `load_begin`.
    #[error("EBADMSG:more than the announced {total} bytes")]
    Overrun {
        /// Announced length.
        total: u32,
    },
    /// `load_end` before all announced bytes arrived.
    #[error("EBADMSG:only {written} of {total} bytes arrived")]
    Short {
        /// Bytes received.
        written: u32,
        /// Announced length.
        total: u32,
    },
    /// A chunk's own checksum did not match its bytes.
    #[error("EBADMSG:chunk CRC mismatch at offset {offset}")]
    ChunkCrc {
        /// Offset of the chunk in the image.
        offset: u32,
    },
    /// A chunk larger than the staging window.
    #[error("EBADMSG:chunk of {len} bytes exceeds the {max}-byte limit")]
    ChunkTooLarge {
        /// Chunk length.
        len: usize,
        /// Limit.
        max: u32,
    },
    /// No room: image larger than the limit or the slot, no memory, or the task table full.
    #[error("ENOSPC:{0}")]
    NoSpace(&'static str),
    /// No load session with this PID.
    #[error("ESRCH:no load session for pid {0}")]
    NoSession(u32),
    /// The session is not in a state that accepts this request.
    #[error("EBUSY:load session {pid} is {phase}")]
    Busy {
        /// Session PID.
        pid: u32,
        /// Its phase.
        phase: &'static str,
    },
}

impl StreamError {
    /// The errno name (`EBADMSG`, `ENOSPC`, `ESRCH`, `EBUSY`).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::BadImage(_)
            | Self::Overrun { .. }
            | Self::Short { .. }
            | Self::ChunkCrc { .. }
            | Self::ChunkTooLarge { .. } => "EBADMSG",
            Self::NoSpace(_) => "ENOSPC",
            Self::NoSession(_) => "ESRCH",
            Self::Busy { .. } => "EBUSY",
        }
    }

    /// The message without file contents (the loader's own texts quote header fields).
    #[must_use]
    pub fn detail(&self) -> String {
        match self {
            Self::BadImage(e) => alloc::format!("EBADMSG:{}", e.without_file_bytes()),
            other => alloc::format!("{other}"),
        }
    }
}

/// Incremental validation of one image of a known length.
#[derive(Debug, Clone)]
pub struct StreamCheck {
    total: u32,
    written: u32,
    head: [u8; HEADER_V2_LEN],
    header: Option<Header>,
    crc: Crc32,
    entry: [u8; ENTRY_LEN],
    entry_fill: usize,
    entry_index: u32,
}

impl StreamCheck {
    /// A check for an image of `total` bytes.
    ///
    /// # Errors
    /// [`StreamError::BadImage`] (`TooSmall`) when `total` cannot hold a header.
    pub fn new(total: u32) -> Result<Self, StreamError> {
        if (total as usize) < HEADER_V1_LEN {
            return Err(StreamError::BadImage(LoadError::TooSmall {
                len: total as usize,
            }));
        }
        Ok(Self {
            total,
            written: 0,
            head: [0; HEADER_V2_LEN],
            header: None,
            crc: Crc32::new(),
            entry: [0; ENTRY_LEN],
            entry_fill: 0,
            entry_index: 0,
        })
    }

    /// Bytes accepted so far.
    #[must_use]
    pub const fn written(&self) -> u32 {
        self.written
    }

    /// The announced length.
    #[must_use]
    pub const fn total(&self) -> u32 {
        self.total
    }

    /// The header, once its bytes have arrived and passed.
    #[must_use]
    pub const fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// Checks the next bytes of the image. On error nothing of `chunk` counts as written.
    ///
    /// # Errors
    /// [`StreamError::Overrun`], or [`StreamError::BadImage`] for a header or section-table
    /// entry completed by this chunk that the loader would refuse.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), StreamError> {
        let start = self.written as usize;
        let end = start + chunk.len();
        if end > self.total as usize {
            return Err(StreamError::Overrun { total: self.total });
        }
        // Nothing is committed until every check of this chunk has passed.
        let header = self.feed_header(start, chunk)?;
        let table = self.feed_table(header.as_ref().or(self.header.as_ref()), start, chunk)?;
        self.feed_crc(start, chunk);
        if header.is_some() {
            self.header = header;
        }
        (self.entry, self.entry_fill, self.entry_index) = table;
        self.written = end as u32;
        Ok(())
    }

    /// Copies header bytes and, when this chunk completes the header, validates it.
    fn feed_header(&mut self, start: usize, chunk: &[u8]) -> Result<Option<Header>, StreamError> {
        if start < HEADER_V2_LEN {
            let n = (HEADER_V2_LEN - start).min(chunk.len());
            self.head[start..start + n].copy_from_slice(&chunk[..n]);
        }
        let end = start + chunk.len();
        if self.header.is_some() {
            return Ok(None);
        }
        match Header::len_for(&self.head[..end.min(HEADER_V2_LEN)]) {
            Some(hl) if end >= hl => {
                let h = Header::parse(&self.head[..hl]).map_err(StreamError::BadImage)?;
                h.check_layout(self.total as usize)
                    .map_err(StreamError::BadImage)?;
                Ok(Some(h))
            }
            _ => Ok(None),
        }
    }

    fn feed_crc(&mut self, start: usize, chunk: &[u8]) {
        // The CRC covers bytes 0..0x1C and everything after the header. The header length is
        // known from byte 6 on, long before byte 0x1C.
        let end = start + chunk.len();
        let hl = Header::len_for(&self.head[..end.min(HEADER_V2_LEN)]).unwrap_or(usize::MAX);
        for (lo, hi) in [(0, CRC_OFFSET), (hl, usize::MAX)] {
            let (a, b) = (start.max(lo), end.min(hi));
            if a < b {
                self.crc.update(&chunk[a - start..b - start]);
            }
        }
    }

    /// Checks the section-table entries this chunk completes; returns the new entry state.
    fn feed_table(
        &self,
        header: Option<&Header>,
        start: usize,
        chunk: &[u8],
    ) -> Result<([u8; ENTRY_LEN], usize, u32), StreamError> {
        let (mut entry, mut fill, mut index) = (self.entry, self.entry_fill, self.entry_index);
        let Some(h) = header else {
            return Ok((entry, fill, index));
        };
        let Some((t0, t1)) = h.meta_table() else {
            return Ok((entry, fill, index));
        };
        let end = start + chunk.len();
        let (a, b) = (start.max(t0 as usize), end.min(t1 as usize));
        let part = chunk
            .get(a.saturating_sub(start)..b.saturating_sub(start))
            .unwrap_or_default();
        for &byte in part {
            entry[fill] = byte;
            fill += 1;
            if fill == ENTRY_LEN {
                fill = 0;
                h.check_section_entry(index, &entry, self.total as usize)
                    .map_err(StreamError::BadImage)?;
                index += 1;
            }
        }
        Ok((entry, fill, index))
    }

    /// After the last byte: all bytes there and the CRC matches.
    ///
    /// # Errors
    /// [`StreamError::Short`], [`StreamError::BadImage`] (`CrcMismatch`).
    pub fn finish(&self) -> Result<&Header, StreamError> {
        let h = match &self.header {
            Some(h) if self.written == self.total => h,
            _ => {
                return Err(StreamError::Short {
                    written: self.written,
                    total: self.total,
                });
            }
        };
        let calc = self.crc.finalize();
        if calc != h.crc32 {
            return Err(StreamError::BadImage(LoadError::CrcMismatch {
                file: h.crc32,
                calc,
            }));
        }
        Ok(h)
    }
}

/// A verified image's bytes, wherever they ended up.
#[derive(Debug)]
pub enum StagedImage {
    /// In RAM, owned.
    Owned(Vec<u8>),
    /// In a slot that lives as long as the program (flash, or a static RAM slot): the task
    /// can execute its code in place.
    Static(&'static [u8]),
}

impl StagedImage {
    /// The image bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::Owned(v) => v,
            Self::Static(s) => s,
        }
    }
}

/// Why a sink refused bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The image does not fit.
    #[error("image does not fit the slot")]
    NoSpace,
    /// The medium failed (e.g. a flash write error).
    #[error("write failed")]
    Io,
}

/// Where a streamed image's bytes go. Writes come in order, each byte once.
pub trait ImageSink: Send {
    /// Most bytes this sink can hold.
    fn capacity(&self) -> usize;
    /// Stores `bytes` at `offset` (always the end of what was written before).
    ///
    /// # Errors
    /// [`SinkError`].
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SinkError>;
    /// Hands over the first `len` bytes once the image is complete and its CRC matched.
    ///
    /// # Errors
    /// [`SinkError`].
    fn finish(self: Box<Self>, len: u32) -> Result<StagedImage, SinkError>;
}

/// A RAM buffer of at most `capacity` bytes, reserved up front (so running out of memory is
/// `ENOSPC` at `load_begin`, never a failed allocation later).
#[derive(Debug)]
pub struct VecSink {
    buf: Vec<u8>,
    capacity: usize,
}

impl VecSink {
    /// Reserves `capacity` bytes; `None` when the allocator cannot.
    #[must_use]
    pub fn new(capacity: usize) -> Option<Self> {
        let mut buf = Vec::new();
        buf.try_reserve_exact(capacity).ok()?;
        Some(Self { buf, capacity })
    }
}

impl ImageSink for VecSink {
    fn capacity(&self) -> usize {
        self.capacity
    }
    fn write(&mut self, _offset: u32, bytes: &[u8]) -> Result<(), SinkError> {
        if self.buf.len() + bytes.len() > self.capacity {
            return Err(SinkError::NoSpace);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }
    fn finish(self: Box<Self>, len: u32) -> Result<StagedImage, SinkError> {
        let mut buf = self.buf;
        buf.truncate(len as usize);
        Ok(StagedImage::Owned(buf))
    }
}

/// A fixed `'static` slot (a microcontroller's RAM or flash region for one image): the image
/// goes straight into it and its code runs from there.
#[derive(Debug)]
pub struct StaticSlot {
    slot: &'static mut [u8],
}

impl StaticSlot {
    /// A sink writing into `slot`.
    pub fn new(slot: &'static mut [u8]) -> Self {
        Self { slot }
    }
}

impl ImageSink for StaticSlot {
    fn capacity(&self) -> usize {
        self.slot.len()
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SinkError> {
        let at = offset as usize;
        let dst = self
            .slot
            .get_mut(at..at + bytes.len())
            .ok_or(SinkError::NoSpace)?;
        dst.copy_from_slice(bytes);
        Ok(())
    }
    fn finish(self: Box<Self>, len: u32) -> Result<StagedImage, SinkError> {
        let slot: &'static [u8] = self.slot;
        slot.get(..len as usize)
            .map(StagedImage::Static)
            .ok_or(SinkError::NoSpace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use hsx_image::Image;
    use proptest::prelude::*;

    fn image() -> Vec<u8> {
        let mut img = Image::new(vec![0x01, 0, 0, 0x2A, 0x25, 0, 0, 0], vec![7; 40], 0);
        img.app_name = Some("streamed".into());
        img.to_v2_bytes()
    }

    fn feed_all(bytes: &[u8], split: usize) -> Result<(), StreamError> {
        let mut c = StreamCheck::new(bytes.len() as u32)?;
        for chunk in bytes.chunks(split.max(1)) {
            c.feed(chunk)?;
        }
        c.finish().map(|_| ())
    }

    #[test]
    fn a_good_image_passes_in_any_chunking() {
        let bytes = image();
        for split in [1, 2, 5, 27, 28, 29, 95, 96, 97, 1000] {
            feed_all(&bytes, split).unwrap();
        }
    }

    #[test]
    fn bad_magic_is_refused_within_the_first_header() {
        let mut bytes = image();
        bytes[1] = b'?';
        let mut c = StreamCheck::new(bytes.len() as u32).unwrap();
        c.feed(&bytes[..50]).unwrap();
        assert!(matches!(
            c.feed(&bytes[50..96]),
            Err(StreamError::BadImage(LoadError::BadMagic(_)))
        ));
        // Nothing of the refused chunk counted.
        assert_eq!(c.written(), 50);
    }

    #[test]
    fn a_corrupt_body_byte_fails_the_crc_at_the_end() {
        let mut bytes = image();
        let last = bytes.len() - 3;
        bytes[last] ^= 0xFF;
        assert!(matches!(
            feed_all(&bytes, 10),
            Err(StreamError::BadImage(LoadError::CrcMismatch { .. }))
        ));
    }

    #[test]
    fn overrun_and_short_images() {
        let bytes = image();
        let mut c = StreamCheck::new(bytes.len() as u32 - 1).unwrap();
        assert_eq!(
            c.feed(&bytes),
            Err(StreamError::Overrun {
                total: bytes.len() as u32 - 1
            })
        );
        let mut c = StreamCheck::new(bytes.len() as u32).unwrap();
        c.feed(&bytes[..100]).unwrap();
        assert!(matches!(c.finish(), Err(StreamError::Short { .. })));
        assert!(StreamCheck::new(10).is_err());
    }

    #[test]
    fn an_announced_length_shorter_than_the_body_is_refused_at_the_header() {
        let bytes = image();
        let mut c = StreamCheck::new(100).unwrap();
        assert_eq!(
            c.feed(&bytes[..96]),
            Err(StreamError::BadImage(LoadError::Truncated))
        );
    }

    #[test]
    fn a_static_slot_holds_the_image_in_place() {
        let slot: &'static mut [u8] = Box::leak(vec![0u8; 256].into_boxed_slice());
        let bytes = image();
        let mut s: Box<dyn ImageSink> = Box::new(StaticSlot::new(slot));
        s.write(0, &bytes).unwrap();
        let staged = s.finish(bytes.len() as u32).unwrap();
        assert!(matches!(staged, StagedImage::Static(_)));
        assert_eq!(staged.bytes(), &bytes[..]);
    }

    proptest! {
        /// The streaming verdict equals the whole-file loader's on the checks it makes,
        /// for any corruption and any chunking: a streamed image passes exactly when the
        /// loader's header, layout and CRC checks pass.
        #[test]
        fn streaming_agrees_with_the_loader(
            flips in prop::collection::vec((0usize..200, any::<u8>()), 0..3),
            split in 1usize..120,
        ) {
            let mut bytes = image();
            for (at, x) in flips {
                let n = bytes.len();
                bytes[at % n] ^= x;
            }
            let streamed = feed_all(&bytes, split);
            let whole = Image::parse(&bytes);
            prop_assert_eq!(streamed.is_ok(), whole.is_ok(), "{:?} vs {:?}", streamed, whole);
        }
    }
}
