//! Mailbox section (type 3) codec: picks the JSON form (feature `json`, `mailbox_json`) or
//! the legacy record form (`mailbox`).

use alloc::vec::Vec;

#[cfg(not(feature = "json"))]
use crate::consts::MAILBOX_LEGACY_RECORD_LEN;
use crate::error::LoadError;
use crate::mailbox::{MailboxEntry, is_py_byte_space, parse_legacy};
use crate::section::Budget;

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
