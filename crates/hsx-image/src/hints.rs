//! Metadata section type 4, "hints": the memory a task needs (`stack_size`, `heap_size`).
//!
//! Payload: one 16-byte big-endian record `stack_size u32, heap_size u32, reserved u32 × 2`
//! (entry count 1). The Python loader skips unknown section types, so images carrying it stay
//! loadable there. A section of type 4 that does not have exactly this shape is kept as an
//! unknown raw section instead (as the reference would ignore it).

use alloc::vec::Vec;

use crate::metadata::RawSection;
use crate::section::be32;

/// Section type: memory hints.
pub const SECTION_HINTS: u32 = 4;
/// Size of the hints record.
pub const HINTS_RECORD_LEN: usize = 16;

/// Memory hints of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hints {
    /// Bytes of VM stack the task needs; 0 = the executive's default.
    pub stack_size: u32,
    /// Bytes of zeroed memory the task needs directly after its rodata (bss + heap);
    /// 0 = nothing beyond `ro_len`.
    pub heap_size: u32,
}

impl Hints {
    /// Decode a section payload; `None` unless it is one 16-byte record.
    pub fn decode(bytes: &[u8], entry_count: u32) -> Option<Hints> {
        (bytes.len() == HINTS_RECORD_LEN && entry_count == 1).then(|| Hints {
            stack_size: be32(bytes, 0),
            heap_size: be32(bytes, 4),
        })
    }

    /// The section payload.
    pub fn encode(&self) -> [u8; HINTS_RECORD_LEN] {
        let mut out = [0u8; HINTS_RECORD_LEN];
        out[..4].copy_from_slice(&self.stack_size.to_be_bytes());
        out[4..8].copy_from_slice(&self.heap_size.to_be_bytes());
        out
    }
}

/// Remove the first well-formed hints section from `other` and decode it.
pub(crate) fn take_hints(other: &mut Vec<RawSection>) -> Option<Hints> {
    let i = other.iter().position(|r| {
        r.kind == SECTION_HINTS && Hints::decode(&r.bytes, r.entry_count).is_some()
    })?;
    let raw = other.remove(i);
    Hints::decode(&raw.bytes, raw.entry_count)
}
