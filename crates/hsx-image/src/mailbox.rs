//! Mailbox metadata (section type 3): the declaration types and their JSON and legacy
//! struct forms.

use alloc::string::String;
use alloc::vec::Vec;

use crate::consts::{MAILBOX_LEGACY_RECORD_LEN, MBX_DEFAULT_CAPACITY, MBX_MODE_RDWR};
use crate::error::LoadError;
use crate::section::{Budget, read_section_string};

/// One mailbox declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxEntry {
    /// Target string (`app:x`, `svc:name@3`, …), whitespace-trimmed.
    pub target: String,
    /// Queue capacity in bytes; 0 = default (64).
    pub capacity: u32,
    /// `MBX_MODE_*` bits; a declared 0 / empty mode is normalised to RDWR.
    pub mode_mask: u16,
    /// Owner PID to bind as, if declared.
    pub owner_pid: Option<u32>,
    /// Declared bindings (stored, not acted on, as in the reference).
    pub bindings: Vec<MailboxBinding>,
    /// The JSON object the entry was read from (or is to be written as), if any. When
    /// present the writer emits it (key-sorted) instead of the typed fields. (Feature
    /// `json`.)
    #[cfg(feature = "json")]
    pub raw: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Default for MailboxEntry {
    fn default() -> Self {
        MailboxEntry {
            target: String::new(),
            capacity: 0,
            mode_mask: MBX_MODE_RDWR,
            owner_pid: None,
            bindings: Vec::new(),
            #[cfg(feature = "json")]
            raw: None,
        }
    }
}

impl MailboxEntry {
    /// A read/write mailbox with default capacity.
    pub fn new(target: impl Into<String>) -> Self {
        MailboxEntry {
            target: target.into(),
            ..MailboxEntry::default()
        }
    }

    /// The capacity to create the mailbox with (0 → 64).
    pub fn effective_capacity(&self) -> u32 {
        if self.capacity == 0 {
            MBX_DEFAULT_CAPACITY
        } else {
            self.capacity
        }
    }

    /// The opaque `reserved` member of the source JSON object, if any.
    #[cfg(feature = "json")]
    pub fn reserved(&self) -> Option<&serde_json::Value> {
        self.raw.as_ref().and_then(|raw| raw.get("reserved"))
    }
}

/// One declared mailbox binding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailboxBinding {
    /// PID the binding refers to.
    pub pid: u32,
    /// Binding flags (masked to 16 bits).
    pub flags: u32,
}

/// Python's `bytes.strip()` whitespace set.
pub(crate) fn is_py_byte_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Python's `str.isspace()`: Unicode White_Space plus the ASCII separators 0x1C..0x1F.
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

pub(crate) fn parse_legacy(
    section: &[u8],
    entry_count: u32,
    budget: &mut Budget,
) -> Result<Vec<MailboxEntry>, LoadError> {
    let required = u64::from(entry_count) * MAILBOX_LEGACY_RECORD_LEN as u64;
    if required > section.len() as u64 {
        return Err(LoadError::MailboxTableTruncated);
    }
    let mut out = Vec::new();
    for rec in section
        .chunks_exact(MAILBOX_LEGACY_RECORD_LEN)
        .take(entry_count as usize)
    {
        let name_offset = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
        let queue_depth = u16::from_be_bytes([rec[4], rec[5]]);
        let flags = u16::from_be_bytes([rec[6], rec[7]]);
        // Bytes 8..16 are a reserved u64 that nothing reads.
        let name = read_section_string(section, name_offset, budget)?;
        let target = match name {
            Some(n) if !n.is_empty() => n,
            _ => return Err(LoadError::MailboxMissingName),
        };
        out.push(MailboxEntry {
            target,
            capacity: u32::from(queue_depth),
            mode_mask: if flags == 0 { MBX_MODE_RDWR } else { flags },
            owner_pid: None,
            bindings: Vec::new(),
            #[cfg(feature = "json")]
            raw: None,
        });
    }
    Ok(out)
}
