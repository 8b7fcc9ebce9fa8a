//! Typed loader and metadata errors.
//!
//! Every `Display` text equals the message the reference loader (`load_hxe_bytes`) raises for
//! the same condition, so clients that match on error strings keep working. Variants carry
//! the offending numbers where that helps a caller, without changing the text.

use alloc::string::String;

/// Why an `.hxe` image was rejected by [`crate::Image::parse`].
///
/// The header checks run in the order of `vm.md` §4.5; the first failing check wins.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Fewer than 32 bytes.
    #[error(".hxe file too small")]
    TooSmall {
        /// File length in bytes.
        len: usize,
    },
    /// A version-2 header shorter than 96 bytes.
    #[error("HXE header truncated (v2 requires 96 bytes)")]
    V2HeaderTruncated {
        /// File length in bytes.
        len: usize,
    },
    /// One of the 20 reserved bytes at 0x4C is non-zero.
    #[error("Reserved HXE header bytes must be zero")]
    ReservedNotZero,
    /// The v2 `isa_ext` field (0x48) declares ISA extension bits that are not implemented.
    /// (The reference has no such field and reports [`LoadError::ReservedNotZero`].)
    #[error(
        "image needs MiniVM ISA extension bits 0x{bits:X}, which this executive does not implement"
    )]
    UnsupportedIsaExt {
        /// The declared bits that are not implemented.
        bits: u32,
    },
    /// The app name (up to its first NUL) contains a byte ≥ 0x80.
    #[error("HXE app_name must be ASCII")]
    AppNameNotAscii,
    /// Version field is neither 1 nor 2.
    #[error("Unsupported HSXE version 0x{0:04X}")]
    UnsupportedVersion(u16),
    /// Magic is not `HSXE` (checked first; the message does not echo the file's bytes).
    #[error("not an HSX image (no HSXE magic)")]
    BadMagic(u32),
    /// `code_len > 0x10000`.
    #[error("Code section exceeds VM capacity")]
    CodeTooLarge {
        /// Declared code length.
        len: u32,
    },
    /// `ro_len > 0x10000`.
    #[error("RODATA section exceeds VM capacity")]
    RodataTooLarge {
        /// Declared rodata length.
        len: u32,
    },
    /// `bss_size > 0x10000`.
    #[error("BSS size exceeds VM capacity")]
    BssTooLarge {
        /// Declared BSS size.
        size: u32,
    },
    /// `code_len` is not a multiple of 4.
    #[error("Code section must be 4-byte aligned")]
    CodeUnaligned {
        /// Declared code length.
        len: u32,
    },
    /// `entry` is not a multiple of 4.
    #[error("Entry address must be 4-byte aligned")]
    EntryUnaligned {
        /// Declared entry address.
        entry: u32,
    },
    /// Stored CRC differs from the CRC computed over the covered bytes (`vm.md` §4.4).
    #[error("CRC mismatch: file=0x{file:08X} calc=0x{calc:08X}")]
    CrcMismatch {
        /// CRC stored in the header at 0x1C.
        file: u32,
        /// CRC computed over the file.
        calc: u32,
    },
    /// `header + code_len + ro_len` exceeds the file length.
    #[error(".hxe truncated: sections exceed file length")]
    Truncated,
    /// `entry >= code_len` (so an empty code section is always rejected).
    #[error("Entry point outside code section")]
    EntryOutsideCode {
        /// Declared entry address.
        entry: u32,
        /// Declared code length.
        code_len: u32,
    },
    /// v2 `meta_offset` is non-zero and points before the end of rodata.
    #[error("Metadata table overlaps code or rodata sections")]
    MetadataOverlap {
        /// Declared table offset.
        meta_offset: u32,
    },
    /// The metadata section table does not lie within the file after the header.
    #[error("metadata table outside HXE payload bounds")]
    MetadataTableOutOfBounds,
    /// A section table entry points before the header end or past the end of the file.
    #[error("metadata section {index} exceeds HXE length")]
    MetadataSectionOutOfBounds {
        /// Index of the table entry.
        index: u32,
    },
    /// Decoding the metadata would produce more than [`crate::MAX_METADATA_DECODED`] bytes
    /// (overlapping sections or strings; the reference has no such bound and no message).
    #[error("metadata expands beyond {limit} bytes")]
    MetadataTooLarge {
        /// The bound in bytes.
        limit: usize,
    },
    /// A value section is shorter than `entry_count × 20` bytes.
    #[error("value metadata table truncated")]
    ValueTableTruncated,
    /// A command section is shorter than `entry_count × 16` bytes.
    #[error("command metadata table truncated")]
    CommandTableTruncated,
    /// A legacy mailbox section is shorter than `entry_count × 16` bytes.
    #[error("mailbox metadata table truncated")]
    MailboxTableTruncated,
    /// A string offset points at or past the end of its section.
    #[error("metadata string offset {offset} out of range (size={size})")]
    StringOffsetOutOfRange {
        /// The offending offset (relative to the section start).
        offset: u32,
        /// Section size in bytes.
        size: usize,
    },
    /// A string runs to the end of its section without a NUL.
    #[error("metadata string is not null-terminated")]
    StringNotTerminated,
    /// A string is not valid UTF-8.
    #[error("metadata string is not valid UTF-8")]
    StringNotUtf8,
    /// A legacy mailbox record has no (or an empty) name.
    #[error("mailbox metadata missing name")]
    MailboxMissingName,
    /// A JSON mailbox payload is not valid UTF-8.
    #[error("mailbox metadata JSON must be UTF-8")]
    MailboxJsonNotUtf8,
    /// A JSON mailbox payload does not parse.
    #[error("mailbox metadata JSON invalid")]
    MailboxJsonInvalid,
    /// A JSON mailbox payload in a build without the `json` feature.
    #[error("mailbox metadata JSON not supported by this build")]
    MailboxJsonUnsupported,
    /// A JSON mailbox object has a `version` other than 1.
    #[error("mailbox metadata JSON version not supported")]
    MailboxJsonVersion,
    /// `mailboxes`/`entries` is present but not a list.
    #[error("mailbox metadata entries must be a list")]
    MailboxEntriesNotList,
    /// A mailbox entry is not a JSON object.
    #[error("mailbox metadata entry {index} must be an object")]
    MailboxEntryNotObject {
        /// Index in the mailbox list.
        index: usize,
    },
    /// A mailbox entry has no non-empty `target`/`name` string.
    #[error("mailbox metadata entry {index} missing target")]
    MailboxEntryMissingTarget {
        /// Index in the mailbox list.
        index: usize,
    },
    /// `capacity`/`queue_depth` is not an integer.
    #[error("mailbox metadata capacity must be an integer")]
    MailboxCapacityNotInteger,
    /// `capacity`/`queue_depth` is negative.
    #[error("mailbox metadata capacity must be non-negative")]
    MailboxCapacityNegative,
    /// `capacity` does not fit in 32 bits (the reference accepts any size).
    #[error("mailbox metadata capacity out of range")]
    MailboxCapacityOutOfRange,
    /// A mode name that is not one of the known names or aliases.
    #[error("unknown mailbox mode '{token}'")]
    UnknownMailboxMode {
        /// The token as written (before trimming and case folding).
        token: String,
    },
    /// `mode_mask`/`mode`/`flags` is neither an integer nor a string of names.
    #[error("mailbox metadata mode_mask must be an integer")]
    MailboxModeNotInteger,
    /// `mode_mask` is negative.
    #[error("mailbox metadata mode_mask must be non-negative")]
    MailboxModeNegative,
    /// `owner_pid` is not an integer.
    #[error("mailbox metadata entry {index} owner_pid must be an integer")]
    MailboxOwnerNotInteger {
        /// Index in the mailbox list.
        index: usize,
    },
    /// `owner_pid` is negative or does not fit in 32 bits (the reference accepts it).
    #[error("mailbox metadata entry {index} owner_pid out of range")]
    MailboxOwnerOutOfRange {
        /// Index in the mailbox list.
        index: usize,
    },
    /// `bindings` is present but not a list.
    #[error("mailbox metadata bindings must be a list")]
    MailboxBindingsNotList,
    /// A binding is not a JSON object.
    #[error("mailbox metadata binding entries must be objects")]
    MailboxBindingNotObject,
    /// A binding has no `pid` key.
    #[error("mailbox metadata binding missing pid")]
    MailboxBindingMissingPid,
    /// A binding `pid` is not an integer.
    #[error("mailbox metadata binding pid must be an integer")]
    MailboxBindingPidNotInteger,
    /// A binding `pid` is negative or does not fit in 32 bits (the reference accepts it).
    #[error("mailbox metadata binding pid out of range")]
    MailboxBindingPidOutOfRange,
    /// A binding `flags` is not an integer.
    #[error("mailbox metadata binding flags must be an integer")]
    MailboxBindingFlagsNotInteger,
}

/// Why [`crate::Metadata::validate`] refused metadata that the linker is about to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// Two value records share `(group, id)`.
    #[error("duplicate value metadata entry for ({group},{id})")]
    DuplicateValue {
        /// Group id.
        group: u8,
        /// Value id.
        id: u8,
    },
    /// Two command records share `(group, id)`.
    #[error("duplicate command metadata entry for ({group},{id})")]
    DuplicateCommand {
        /// Group id.
        group: u8,
        /// Command id.
        id: u8,
    },
    /// A mailbox has an empty (or whitespace-only) target.
    #[error("mailbox metadata entry {index} missing target")]
    MailboxMissingTarget {
        /// Index in the mailbox list.
        index: usize,
    },
    /// Two mailboxes share a target (after trimming).
    #[error("Duplicate mailbox target '{target}'")]
    DuplicateMailbox {
        /// The repeated target.
        target: String,
    },
    /// A section's string table would need offsets beyond the 16-bit offset fields.
    #[error("{section} metadata string table too large for 16-bit offsets")]
    StringTableTooLarge {
        /// `"value"` or `"command"`.
        section: &'static str,
    },
}

impl LoadError {
    /// The message without anything read from the file: the header version, stored and
    /// computed CRC, ISA extension bits, string offsets and mailbox mode tokens are left
    /// out, so a daemon that loads a file for a client cannot be used to read the bytes of
    /// a file the client may not open. Other variants keep their [`core::fmt::Display`].
    pub fn without_file_bytes(&self) -> String {
        use alloc::string::ToString;
        match self {
            LoadError::UnsupportedVersion(_) => "Unsupported HSXE version".into(),
            LoadError::CrcMismatch { .. } => "CRC mismatch".into(),
            LoadError::UnsupportedIsaExt { .. } => {
                "image needs MiniVM ISA extension bits this executive does not implement".into()
            }
            LoadError::StringOffsetOutOfRange { .. } => {
                "metadata string offset out of range".into()
            }
            LoadError::UnknownMailboxMode { .. } => "unknown mailbox mode".into(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn file_bytes_are_left_out() {
        let e = LoadError::UnsupportedVersion(0x3A78);
        assert!(e.to_string().contains("3A78"));
        assert!(!e.without_file_bytes().contains("3A78"));
        let e = LoadError::CrcMismatch {
            file: 0x6874_6170,
            calc: 0x1234_5678,
        };
        assert_eq!(e.without_file_bytes(), "CRC mismatch");
        let e = LoadError::UnknownMailboxMode {
            token: "hunter2".into(),
        };
        assert!(!e.without_file_bytes().contains("hunter2"));
        assert_eq!(
            LoadError::Truncated.without_file_bytes(),
            LoadError::Truncated.to_string()
        );
    }
}
