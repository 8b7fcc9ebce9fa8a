//! The `.hxe` image: loader (`vm.md` §4.5) and writers (`asm.write_hxe` v1, `hld.py` v2).

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use crate::consts::*;
use crate::error::LoadError;
use crate::header::Header;
use crate::hints::{Hints, SECTION_HINTS, take_hints};
use crate::mailbox::py_strip;
use crate::metadata::{Metadata, parse_metadata};

/// A validated `.hxe` image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Header version (1 or 2).
    pub version: u16,
    /// Header flags (`FLAG_*`).
    pub flags: u16,
    /// Entry point, a byte offset into `code`.
    pub entry: u32,
    /// Code bytes (big-endian instruction words).
    pub code: Vec<u8>,
    /// Rodata / initialised data, loaded at [`RODATA_BASE`].
    pub rodata: Vec<u8>,
    /// Declared BSS size (validated, otherwise unused).
    pub bss_size: u32,
    /// Required capability mask (stored, never checked).
    pub req_caps: u32,
    /// CRC as stored in the header (the writers compute a fresh one).
    pub crc32: u32,
    /// App name from a v2 header: ASCII up to the first NUL, whitespace-stripped; empty → `None`.
    pub app_name: Option<String>,
    /// v2 metadata (empty for v1).
    pub metadata: Metadata,
    /// MiniVM ISA extensions the code needs (v2 header 0x48, [`ISA_EXT1`]; always 0 for
    /// v1, which cannot carry it). The executive enables exactly these for the task.
    pub isa_ext: u32,
    /// Memory hints (metadata section type 4, v2 only); written after the other sections.
    pub hints: Option<Hints>,
}

/// The CRC-32 of an image as `vm.md` §4.4 defines it: header bytes `0x00..0x1C` followed by
/// everything after the header (whose length follows from the version field). `None` if
/// `bytes` is shorter than that header.
pub fn compute_crc(bytes: &[u8]) -> Option<u32> {
    let version = u16::from_be_bytes([*bytes.get(4)?, *bytes.get(5)?]);
    let header_len = if version == VERSION_V2 {
        HEADER_V2_LEN
    } else {
        HEADER_V1_LEN
    };
    Some(crc_over(bytes.get(..CRC_OFFSET)?, bytes.get(header_len..)?))
}

fn crc_over(head: &[u8], body: &[u8]) -> u32 {
    let mut hasher = crate::crc::Crc32::new();
    hasher.update(head);
    hasher.update(body);
    hasher.finalize()
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The linker's app-name field: trimmed, at most 31 characters, non-ASCII characters
/// dropped, NUL-padded to 32 bytes.
fn encode_app_name(name: Option<&str>) -> [u8; APP_NAME_FIELD_LEN] {
    let mut field = [0u8; APP_NAME_FIELD_LEN];
    let clean = py_strip(name.unwrap_or(""));
    // Truncate before dropping non-ASCII, as the linker does.
    let ascii = clean.chars().take(APP_NAME_MAX_LEN).filter(char::is_ascii);
    for (slot, c) in field.iter_mut().zip(ascii) {
        *slot = c as u8;
    }
    field
}

impl Image {
    /// A v2 image with the given code, rodata and entry, multiple instances allowed, no
    /// name and no metadata.
    pub fn new(code: Vec<u8>, rodata: Vec<u8>, entry: u32) -> Self {
        Image {
            version: VERSION_V2,
            flags: FLAG_ALLOW_MULTIPLE,
            entry,
            code,
            rodata,
            bss_size: 0,
            req_caps: 0,
            crc32: 0,
            app_name: None,
            metadata: Metadata::default(),
            isa_ext: 0,
            hints: None,
        }
    }

    /// Reads and validates an image, running the checks of `vm.md` §4.5 in order.
    pub fn parse(bytes: &[u8]) -> Result<Image, LoadError> {
        Self::parse_parts(bytes, true, true).map(|(image, _)| image)
    }

    /// [`Image::parse`] without copying the code: `code` is left empty and the code's byte
    /// range in `bytes` is returned instead, for a caller that executes it in place.
    pub fn parse_in_place(bytes: &[u8]) -> Result<(Image, Range<usize>), LoadError> {
        Self::parse_parts(bytes, false, true)
    }

    /// Runs every check of [`Image::parse`] without copying code or rodata (verifying an
    /// image written to a flash slot takes only the metadata's memory).
    pub fn validate(bytes: &[u8]) -> Result<(), LoadError> {
        Self::parse_parts(bytes, false, false).map(|_| ())
    }

    fn parse_parts(
        bytes: &[u8],
        copy_code: bool,
        copy_rodata: bool,
    ) -> Result<(Image, Range<usize>), LoadError> {
        let h = Header::parse(bytes)?;
        let header_len = h.len();
        let stored_crc = h.crc32;

        let head = bytes.get(..CRC_OFFSET).unwrap_or_default();
        let body = bytes.get(header_len..).unwrap_or_default();
        let calc = crc_over(head, body);
        if calc != stored_crc {
            return Err(LoadError::CrcMismatch {
                file: stored_crc,
                calc,
            });
        }

        // The table bounds are checked again, with the section bodies, by the decoder.
        if let Err(e) = h.check_layout(bytes.len())
            && e != LoadError::MetadataTableOutOfBounds
        {
            return Err(e);
        }
        let code_end = header_len + h.code_len as usize;
        let ro_end = h.body_end();
        let code_range = header_len..code_end.min(bytes.len());
        let copy = |keep: bool, r: Range<usize>| {
            if keep {
                bytes.get(r).unwrap_or_default().to_vec()
            } else {
                Vec::new()
            }
        };
        let code = copy(copy_code, code_range.clone());
        let rodata = copy(copy_rodata, code_end..ro_end);
        let mut metadata = if h.version == VERSION_V2 {
            parse_metadata(bytes, h.meta_offset, h.meta_count, header_len)?
        } else {
            Metadata::default()
        };
        let hints = take_hints(&mut metadata.other);

        let image = Image {
            version: h.version,
            flags: h.flags,
            entry: h.entry,
            code,
            rodata,
            bss_size: h.bss_size,
            req_caps: h.req_caps,
            crc32: stored_crc,
            app_name: h.app_name,
            metadata,
            isa_ext: h.isa_ext,
            hints,
        };
        Ok((image, code_range))
    }

    /// Header length of this image's version (96 for v2, else 32).
    pub fn header_len(&self) -> usize {
        if self.version == VERSION_V2 {
            HEADER_V2_LEN
        } else {
            HEADER_V1_LEN
        }
    }

    /// Whether several instances may run at once: flag bit 1 in v2, always true for v1.
    pub fn allow_multiple_instances(&self) -> bool {
        self.version != VERSION_V2 || self.flags & FLAG_ALLOW_MULTIPLE != 0
    }

    /// Sets or clears [`FLAG_ALLOW_MULTIPLE`] (meaningful for v2 images).
    pub fn set_allow_multiple_instances(&mut self, allow: bool) {
        if allow {
            self.flags |= FLAG_ALLOW_MULTIPLE;
        } else {
            self.flags &= !FLAG_ALLOW_MULTIPLE;
        }
    }

    /// Header flag bit 0.
    pub fn manifest_present(&self) -> bool {
        self.flags & FLAG_MANIFEST_PRESENT != 0
    }

    /// The code as big-endian 32-bit words (a trailing partial word is ignored).
    pub fn code_words(&self) -> impl Iterator<Item = u32> + '_ {
        self.code
            .chunks_exact(4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    }

    /// Replaces the code with `words`, big-endian.
    pub fn set_code_words(&mut self, words: &[u32]) {
        self.code = words.iter().flat_map(|w| w.to_be_bytes()).collect();
    }

    /// The fixed header fields 0x00..0x1F (CRC left zero).
    fn common_header(&self, version: u16) -> [u8; HEADER_V1_LEN] {
        let mut h = [0u8; HEADER_V1_LEN];
        h[0..4].copy_from_slice(&MAGIC.to_be_bytes());
        h[4..6].copy_from_slice(&version.to_be_bytes());
        h[6..8].copy_from_slice(&self.flags.to_be_bytes());
        h[8..12].copy_from_slice(&self.entry.to_be_bytes());
        h[12..16].copy_from_slice(&len_u32(self.code.len()).to_be_bytes());
        h[16..20].copy_from_slice(&len_u32(self.rodata.len()).to_be_bytes());
        h[20..24].copy_from_slice(&self.bss_size.to_be_bytes());
        h[24..28].copy_from_slice(&self.req_caps.to_be_bytes());
        h
    }

    fn finish_crc(out: &mut [u8], header_len: usize) {
        let crc = crc_over(
            out.get(..CRC_OFFSET).unwrap_or_default(),
            out.get(header_len..).unwrap_or_default(),
        );
        if let Some(field) = out.get_mut(CRC_OFFSET..CRC_OFFSET + 4) {
            field.copy_from_slice(&crc.to_be_bytes());
        }
    }

    /// A v1 image as `asm.write_hxe` writes it: 32-byte header, code, rodata. App name,
    /// metadata and `isa_ext` are dropped (v1 has no field for them: writers must refuse
    /// v1 output for code that needs an extension); flags, BSS size and capabilities are
    /// written as stored.
    pub fn to_v1_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_V1_LEN + self.code.len() + self.rodata.len());
        out.extend_from_slice(&self.common_header(VERSION_V1));
        out.extend_from_slice(&self.code);
        out.extend_from_slice(&self.rodata);
        Self::finish_crc(&mut out, HEADER_V1_LEN);
        out
    }

    /// A v2 image in the linker's layout: header | code | rodata | section table | value,
    /// command and mailbox payloads (then any kept raw sections, then the hints), no padding,
    /// CRC computed. `isa_ext` goes to 0x48; with `isa_ext == 0` the bytes are the reference
    /// linker's.
    ///
    /// Value and command records are written sorted by `(group, id)` with interned string
    /// tables; mailboxes are written in list order as compact key-sorted JSON. Flags, BSS size
    /// and capabilities are written as stored (the linker itself writes `bss_size = 0` and
    /// masks `req_caps` to 16 bits). Run [`Metadata::validate`] first: a string table too
    /// large for 16-bit offsets is written with offset 0 for the strings that do not fit.
    pub fn to_v2_bytes(&self) -> Vec<u8> {
        let mut sections = self.metadata.encode_sections();
        if let Some(h) = self.hints {
            sections.push((SECTION_HINTS, h.encode().to_vec(), 1));
        }
        let mut out = Vec::with_capacity(HEADER_V2_LEN + self.code.len() + self.rodata.len());
        out.extend_from_slice(&self.common_header(VERSION_V2));
        out.extend_from_slice(&encode_app_name(self.app_name.as_deref()));
        let table_offset = HEADER_V2_LEN + self.code.len() + self.rodata.len();
        let meta_offset = if sections.is_empty() { 0 } else { table_offset };
        out.extend_from_slice(&len_u32(meta_offset).to_be_bytes());
        out.extend_from_slice(&len_u32(sections.len()).to_be_bytes());
        out.extend_from_slice(&self.isa_ext.to_be_bytes());
        out.extend_from_slice(&[0u8; RESERVED_LEN]);
        out.extend_from_slice(&self.code);
        out.extend_from_slice(&self.rodata);
        let mut payload_at = table_offset + sections.len() * META_ENTRY_LEN;
        for (kind, payload, count) in &sections {
            for word in [*kind, len_u32(payload_at), len_u32(payload.len()), *count] {
                out.extend_from_slice(&word.to_be_bytes());
            }
            payload_at += payload.len();
        }
        for (_, payload, _) in &sections {
            out.extend_from_slice(payload);
        }
        Self::finish_crc(&mut out, HEADER_V2_LEN);
        out
    }
}
