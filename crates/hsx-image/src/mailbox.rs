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

#[cfg(feature = "json")]
pub(crate) use crate::mailbox_json::{encode_mailbox_section, parse_json};

/// Without the `json` feature a JSON mailbox section cannot be decoded (the linker's form;
/// images for such builds declare mailboxes in the legacy record form or bind at run time).
#[cfg(not(feature = "json"))]
fn parse_json(_bytes: &[u8]) -> Result<Vec<MailboxEntry>, LoadError> {
    Err(LoadError::MailboxJsonUnsupported)
}

/// Without the `json` feature mailboxes are written in the legacy 16-byte record form:
/// `name_offset u32, capacity u16, mode u16, reserved u64`, then the NUL-terminated names.
#[cfg(not(feature = "json"))]
pub(crate) fn encode_mailbox_section(entries: &[MailboxEntry]) -> Vec<u8> {
    let mut recs = Vec::new();
    let mut names = Vec::new();
    let base = entries.len() * MAILBOX_LEGACY_RECORD_LEN;
    for e in entries {
        let off = u32::try_from(base + names.len()).unwrap_or(u32::MAX);
        recs.extend_from_slice(&off.to_be_bytes());
        recs.extend_from_slice(&u16::try_from(e.capacity).unwrap_or(u16::MAX).to_be_bytes());
        recs.extend_from_slice(&e.mode_mask.to_be_bytes());
        recs.extend_from_slice(&[0; 8]);
        names.extend_from_slice(e.target.as_bytes());
        names.push(0);
    }
    recs.extend_from_slice(&names);
    recs
}

/// Python's `bytes.strip()` whitespace set.
fn is_py_byte_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Python's `str.isspace()`: Unicode White_Space plus the ASCII separators 0x1C..0x1F.
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Decodes a mailbox section. Trailing NULs are ignored; JSON is recognised by its first
/// non-blank byte, anything else is the legacy 16-byte record form.
pub(crate) fn parse_mailbox_section(
    section: &[u8],
    entry_count: u32,
    budget: &mut Budget,
) -> Result<Vec<MailboxEntry>, LoadError> {
    let end = section
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |last| last + 1);
    let trimmed = section.get(..end).unwrap_or_default();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let probe = trimmed.iter().copied().find(|&b| !is_py_byte_space(b));
    if matches!(probe, Some(b'{') | Some(b'[')) {
        parse_json(trimmed)
    } else {
        parse_legacy(section, entry_count, budget)
    }
}

fn parse_legacy(
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
