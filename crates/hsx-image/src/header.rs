//! The fixed `.hxe` header on its own, so a streaming loader can validate an image from its
//! first 32 or 96 bytes, long before the rest has arrived.

use alloc::string::{String, ToString};

use crate::consts::*;
use crate::error::LoadError;
use crate::mailbox::py_strip;
use crate::section::{be16, be32};

/// The validated fields of an image header (`vm.md` §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Header version (1 or 2).
    pub version: u16,
    /// Header flags (`FLAG_*`).
    pub flags: u16,
    /// Entry point, a byte offset into the code.
    pub entry: u32,
    /// Code length in bytes.
    pub code_len: u32,
    /// Rodata length in bytes.
    pub ro_len: u32,
    /// Declared BSS size.
    pub bss_size: u32,
    /// Required capability mask.
    pub req_caps: u32,
    /// CRC as stored in the header.
    pub crc32: u32,
    /// App name of a v2 header (see [`crate::Image::app_name`]).
    pub app_name: Option<String>,
    /// Offset of the metadata section table (v2; 0 = none).
    pub meta_offset: u32,
    /// Entries in the metadata section table (v2).
    pub meta_count: u32,
    /// ISA extensions the code needs (v2).
    pub isa_ext: u32,
}

impl Header {
    /// How many header bytes an image starting with `prefix` has: 96 for v2, else 32.
    /// `None` until the version field (bytes 4-5) is there.
    #[must_use]
    pub fn len_for(prefix: &[u8]) -> Option<usize> {
        let v = prefix.get(4..6)?;
        Some(if u16::from_be_bytes([v[0], v[1]]) == VERSION_V2 {
            HEADER_V2_LEN
        } else {
            HEADER_V1_LEN
        })
    }

    /// Validates the header at the start of `bytes` (which may be only the header), with the
    /// loader's checks in its order, up to but not including the CRC.
    ///
    /// # Errors
    /// The [`LoadError`] the full loader would report first for these header bytes.
    pub fn parse(bytes: &[u8]) -> Result<Header, LoadError> {
        if bytes.len() < HEADER_V1_LEN {
            return Err(LoadError::TooSmall { len: bytes.len() });
        }
        let magic = be32(bytes, 0);
        let version = be16(bytes, 4);
        // Magic first (the reference checks it after the version-specific header): a file
        // that is not an image at all should say so, not report its bytes 4-5 as a version.
        if magic != MAGIC {
            return Err(LoadError::BadMagic(magic));
        }
        let mut h = Header {
            version,
            flags: be16(bytes, 6),
            entry: be32(bytes, 8),
            code_len: be32(bytes, 12),
            ro_len: be32(bytes, 16),
            bss_size: be32(bytes, 20),
            req_caps: be32(bytes, 24),
            crc32: be32(bytes, CRC_OFFSET),
            app_name: None,
            meta_offset: 0,
            meta_count: 0,
            isa_ext: 0,
        };
        if version == VERSION_V2 {
            if bytes.len() < HEADER_V2_LEN {
                return Err(LoadError::V2HeaderTruncated { len: bytes.len() });
            }
            let reserved = bytes
                .get(RESERVED_OFFSET..RESERVED_OFFSET + RESERVED_LEN)
                .unwrap_or_default();
            if reserved.iter().any(|&b| b != 0) {
                return Err(LoadError::ReservedNotZero);
            }
            // Where the reference rejects any non-zero reserved byte, the first four carry
            // the extensions the code needs; unknown ones are refused with their own error.
            h.isa_ext = be32(bytes, ISA_EXT_OFFSET);
            let unknown = h.isa_ext & !ISA_EXT_KNOWN;
            if unknown != 0 {
                return Err(LoadError::UnsupportedIsaExt { bits: unknown });
            }
            let field = bytes
                .get(APP_NAME_OFFSET..APP_NAME_OFFSET + APP_NAME_FIELD_LEN)
                .unwrap_or_default();
            let raw = field.split(|&b| b == 0).next().unwrap_or_default();
            if !raw.is_ascii() {
                return Err(LoadError::AppNameNotAscii);
            }
            let name = core::str::from_utf8(raw).map_err(|_| LoadError::AppNameNotAscii)?;
            let name = py_strip(name);
            h.app_name = (!name.is_empty()).then(|| name.to_string());
            h.meta_offset = be32(bytes, META_OFFSET_OFFSET);
            h.meta_count = be32(bytes, META_COUNT_OFFSET);
        } else if version != VERSION_V1 {
            return Err(LoadError::UnsupportedVersion(version));
        }

        if h.code_len > MAX_CODE_LEN {
            return Err(LoadError::CodeTooLarge { len: h.code_len });
        }
        if h.ro_len > MAX_RODATA_LEN {
            return Err(LoadError::RodataTooLarge { len: h.ro_len });
        }
        if h.bss_size > MAX_BSS_SIZE {
            return Err(LoadError::BssTooLarge { size: h.bss_size });
        }
        if !h.code_len.is_multiple_of(4) {
            return Err(LoadError::CodeUnaligned { len: h.code_len });
        }
        if !h.entry.is_multiple_of(4) {
            return Err(LoadError::EntryUnaligned { entry: h.entry });
        }
        Ok(h)
    }

    /// Header length of this version (96 for v2, else 32).
    #[must_use]
    pub fn len(&self) -> usize {
        if self.version == VERSION_V2 {
            HEADER_V2_LEN
        } else {
            HEADER_V1_LEN
        }
    }

    /// Always false: a header is never empty (for clippy's `len` convention).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Where code and rodata end: the shortest file this header allows.
    #[must_use]
    pub fn body_end(&self) -> usize {
        // Both lengths are ≤ 0x10000 after `parse`, so this cannot overflow.
        self.len() + self.code_len as usize + self.ro_len as usize
    }

    /// The checks that follow the CRC in the loader but need only the header and the file
    /// length: truncation, entry inside the code, metadata not overlapping the rodata, and
    /// the section table inside the file.
    ///
    /// # Errors
    /// [`LoadError::Truncated`], [`LoadError::EntryOutsideCode`],
    /// [`LoadError::MetadataOverlap`], [`LoadError::MetadataTableOutOfBounds`].
    pub fn check_layout(&self, file_len: usize) -> Result<(), LoadError> {
        let ro_end = self.body_end();
        if ro_end > file_len {
            return Err(LoadError::Truncated);
        }
        if self.entry >= self.code_len {
            return Err(LoadError::EntryOutsideCode {
                entry: self.entry,
                code_len: self.code_len,
            });
        }
        if self.version != VERSION_V2 {
            return Ok(());
        }
        if self.meta_offset != 0 && (self.meta_offset as usize) < ro_end {
            return Err(LoadError::MetadataOverlap {
                meta_offset: self.meta_offset,
            });
        }
        if let Some((start, end)) = self.meta_table()
            && (start < self.len() as u64 || end > file_len as u64)
        {
            return Err(LoadError::MetadataTableOutOfBounds);
        }
        Ok(())
    }

    /// The byte range `[start, end)` of the metadata section table, if there is one.
    #[must_use]
    pub fn meta_table(&self) -> Option<(u64, u64)> {
        if self.version != VERSION_V2 || self.meta_offset == 0 || self.meta_count == 0 {
            return None;
        }
        let start = u64::from(self.meta_offset);
        Some((
            start,
            start + u64::from(self.meta_count) * META_ENTRY_LEN as u64,
        ))
    }

    /// Checks one 16-byte section-table entry (`[kind, offset, size, count]`, big-endian)
    /// against the header length and the file length, as the loader does.
    ///
    /// # Errors
    /// [`LoadError::MetadataSectionOutOfBounds`].
    pub fn check_section_entry(
        &self,
        index: u32,
        entry: &[u8; META_ENTRY_LEN],
        file_len: usize,
    ) -> Result<(), LoadError> {
        let offset = be32(entry, 4);
        let size = be32(entry, 8);
        let end = u64::from(offset) + u64::from(size);
        if (offset as usize) < self.len() || end > file_len as u64 {
            return Err(LoadError::MetadataSectionOutOfBounds { index });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Image;
    use alloc::vec;

    fn sample() -> alloc::vec::Vec<u8> {
        let mut img = Image::new(vec![0x01, 0, 0, 0x2A, 0x25, 0, 0, 0], vec![1, 2, 3], 0);
        img.app_name = Some("demo".into());
        img.to_v2_bytes()
    }

    #[test]
    fn a_header_alone_validates_and_agrees_with_the_image() {
        let bytes = sample();
        let h = Header::parse(&bytes[..HEADER_V2_LEN]).unwrap();
        let im = Image::parse(&bytes).unwrap();
        assert_eq!(h.app_name, im.app_name);
        assert_eq!(h.crc32, im.crc32);
        assert_eq!(h.body_end(), HEADER_V2_LEN + 8 + 3);
        assert_eq!(Header::len_for(&bytes[..6]), Some(HEADER_V2_LEN));
        h.check_layout(bytes.len()).unwrap();
        assert_eq!(h.check_layout(h.body_end() - 1), Err(LoadError::Truncated));
    }

    #[test]
    fn header_errors_come_before_the_body() {
        let mut bytes = sample();
        bytes[0] = b'X';
        assert!(matches!(
            Header::parse(&bytes[..HEADER_V2_LEN]),
            Err(LoadError::BadMagic(_))
        ));
        let mut bytes = sample();
        bytes[12..16].copy_from_slice(&3u32.to_be_bytes());
        assert_eq!(
            Header::parse(&bytes[..HEADER_V2_LEN]),
            Err(LoadError::CodeUnaligned { len: 3 })
        );
    }
}
