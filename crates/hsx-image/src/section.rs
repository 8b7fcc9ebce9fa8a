//! Reading primitives every metadata section decoder shares: big-endian fields, the
//! section-string reader and the decode budget. Kept apart from `metadata` so the mailbox
//! decoder can use them without importing the module that imports it.

use alloc::string::{String, ToString};

use crate::error::LoadError;

pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(&[a, x, y, z]) => u32::from_be_bytes([a, x, y, z]),
        _ => 0,
    }
}

/// Most bytes that decoding one image's metadata may produce: every section listed in the
/// table plus every string copied out of a section. Table entries may all name the same
/// section and records may all point at the same long string, so without a bound the output
/// grows quadratically with the file (a 20 KB image decoded to 59 MB of strings). Linker
/// output stays far below it: code is at most 64 KiB and each section's strings are
/// addressed by 16-bit offsets.
pub const MAX_METADATA_DECODED: usize = 16 << 20;

/// What is left of [`MAX_METADATA_DECODED`] while one image is decoded.
pub(crate) struct Budget(usize);

impl Budget {
    pub(crate) fn new() -> Self {
        Budget(MAX_METADATA_DECODED)
    }

    pub(crate) fn take(&mut self, bytes: usize) -> Result<(), LoadError> {
        self.0 = self
            .0
            .checked_sub(bytes)
            .ok_or(LoadError::MetadataTooLarge {
                limit: MAX_METADATA_DECODED,
            })?;
        Ok(())
    }
}

/// A NUL-terminated UTF-8 string at `offset` within `section`; offset 0 means "none".
pub(crate) fn read_section_string(
    section: &[u8],
    offset: u32,
    budget: &mut Budget,
) -> Result<Option<String>, LoadError> {
    if offset == 0 {
        return Ok(None);
    }
    let start = offset as usize;
    let tail = section.get(start..).filter(|t| !t.is_empty()).ok_or(
        LoadError::StringOffsetOutOfRange {
            offset,
            size: section.len(),
        },
    )?;
    let len = tail
        .iter()
        .position(|&b| b == 0)
        .ok_or(LoadError::StringNotTerminated)?;
    budget.take(len)?;
    let text = core::str::from_utf8(&tail[..len]).map_err(|_| LoadError::StringNotUtf8)?;
    Ok(Some(text.to_string()))
}
