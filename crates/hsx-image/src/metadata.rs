//! v2 metadata: the section table and the value / command / mailbox payloads (`vm.md` §4.3).

use alloc::collections::BTreeMap;
use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use half::f16;

use crate::consts::{
    COMMAND_RECORD_LEN, META_ENTRY_LEN, SECTION_COMMAND, SECTION_MAILBOX, SECTION_VALUE,
    VALUE_RECORD_LEN,
};
use crate::error::{LoadError, MetadataError};
use crate::mailbox::{MailboxEntry, py_strip};
use crate::mailbox_codec::{encode_mailbox_section, parse_mailbox_section};
use crate::section::{Budget, be16, be32, read_section_string};

/// All metadata of an image. Several sections of one type are concatenated in table order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Value declarations (section type 1).
    pub values: Vec<ValueEntry>,
    /// Command declarations (section type 2).
    pub commands: Vec<CommandEntry>,
    /// Mailbox declarations (section type 3).
    pub mailboxes: Vec<MailboxEntry>,
    /// Sections of any other type, kept verbatim.
    pub other: Vec<RawSection>,
}

/// One value record (20 bytes + strings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueEntry {
    /// Group id.
    pub group: u8,
    /// Value id within the group.
    pub id: u8,
    /// `VALUE_FLAG_*` bits.
    pub flags: u8,
    /// Auth level (`AUTH_*`).
    pub auth: u8,
    /// Initial value, f16 bits.
    pub init: u16,
    /// Name, if any.
    pub name: Option<String>,
    /// Unit, if any.
    pub unit: Option<String>,
    /// Change threshold, f16 bits.
    pub epsilon: u16,
    /// Minimum, f16 bits.
    pub min: u16,
    /// Maximum, f16 bits.
    pub max: u16,
    /// Persistence key (0 = not persisted).
    pub persist_key: u16,
    /// Group name, if any.
    pub group_name: Option<String>,
}

impl ValueEntry {
    /// The initial value as `f32`.
    pub fn init_f32(&self) -> f32 {
        f16::from_bits(self.init).to_f32()
    }
    /// The epsilon as `f32`.
    pub fn epsilon_f32(&self) -> f32 {
        f16::from_bits(self.epsilon).to_f32()
    }
    /// The minimum as `f32`.
    pub fn min_f32(&self) -> f32 {
        f16::from_bits(self.min).to_f32()
    }
    /// The maximum as `f32`.
    pub fn max_f32(&self) -> f32 {
        f16::from_bits(self.max).to_f32()
    }
}

/// One command record (16 bytes + strings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandEntry {
    /// Group id.
    pub group: u8,
    /// Command id within the group.
    pub id: u8,
    /// `CMD_FLAG_*` bits.
    pub flags: u8,
    /// Auth level (`AUTH_*`).
    pub auth: u8,
    /// Absolute code byte address of the handler.
    pub handler: u32,
    /// Name, if any.
    pub name: Option<String>,
    /// Help text, if any.
    pub help: Option<String>,
    /// Group name, if any.
    pub group_name: Option<String>,
    /// High 16 bits of the record's last word (the low 16 bits hold the group-name offset).
    pub reserved: u16,
}

/// A metadata section of a type this crate does not interpret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawSection {
    /// Section type from the table.
    pub kind: u32,
    /// Entry count from the table.
    pub entry_count: u32,
    /// Payload bytes.
    pub bytes: Vec<u8>,
}

fn parse_values(
    section: &[u8],
    count: u32,
    budget: &mut Budget,
) -> Result<Vec<ValueEntry>, LoadError> {
    if u64::from(count) * VALUE_RECORD_LEN as u64 > section.len() as u64 {
        return Err(LoadError::ValueTableTruncated);
    }
    let mut out = Vec::with_capacity(count as usize);
    for r in section.chunks_exact(VALUE_RECORD_LEN).take(count as usize) {
        let mut s = |at| read_section_string(section, u32::from(be16(r, at)), budget);
        out.push(ValueEntry {
            group: r[0],
            id: r[1],
            flags: r[2],
            auth: r[3],
            init: be16(r, 4),
            name: s(6)?,
            unit: s(8)?,
            epsilon: be16(r, 10),
            min: be16(r, 12),
            max: be16(r, 14),
            persist_key: be16(r, 16),
            group_name: s(18)?,
        });
    }
    Ok(out)
}

fn parse_commands(
    section: &[u8],
    count: u32,
    budget: &mut Budget,
) -> Result<Vec<CommandEntry>, LoadError> {
    if u64::from(count) * COMMAND_RECORD_LEN as u64 > section.len() as u64 {
        return Err(LoadError::CommandTableTruncated);
    }
    let mut out = Vec::with_capacity(count as usize);
    for r in section
        .chunks_exact(COMMAND_RECORD_LEN)
        .take(count as usize)
    {
        let mut s = |off: u32| read_section_string(section, off, budget);
        let last = be32(r, 12);
        out.push(CommandEntry {
            group: r[0],
            id: r[1],
            flags: r[2],
            auth: r[3],
            handler: be32(r, 4),
            name: s(u32::from(be16(r, 8)))?,
            help: s(u32::from(be16(r, 10)))?,
            group_name: s(last & 0xFFFF)?,
            reserved: (last >> 16) as u16,
        });
    }
    Ok(out)
}

/// Reads the section table at `meta_offset` and every section it lists, validating bounds
/// in table order (`services.md` §3.2).
pub(crate) fn parse_metadata(
    data: &[u8],
    meta_offset: u32,
    meta_count: u32,
    header_len: usize,
) -> Result<Metadata, LoadError> {
    let mut meta = Metadata::default();
    if meta_count == 0 || meta_offset == 0 {
        return Ok(meta);
    }
    let table_end = u64::from(meta_offset) + u64::from(meta_count) * META_ENTRY_LEN as u64;
    if (meta_offset as usize) < header_len || table_end > data.len() as u64 {
        return Err(LoadError::MetadataTableOutOfBounds);
    }
    let mut budget = Budget::new();
    for index in 0..meta_count {
        let at = meta_offset as usize + index as usize * META_ENTRY_LEN;
        let kind = be32(data, at);
        let offset = be32(data, at + 4);
        let size = be32(data, at + 8);
        let entry_count = be32(data, at + 12);
        let end = u64::from(offset) + u64::from(size);
        if (offset as usize) < header_len || end > data.len() as u64 {
            return Err(LoadError::MetadataSectionOutOfBounds { index });
        }
        let section = data
            .get(offset as usize..end as usize)
            .ok_or(LoadError::MetadataSectionOutOfBounds { index })?;
        budget.take(section.len())?;
        match kind {
            SECTION_VALUE => meta
                .values
                .extend(parse_values(section, entry_count, &mut budget)?),
            SECTION_COMMAND => {
                meta.commands
                    .extend(parse_commands(section, entry_count, &mut budget)?)
            }
            SECTION_MAILBOX => {
                meta.mailboxes
                    .extend(parse_mailbox_section(section, entry_count, &mut budget)?)
            }
            _ => meta.other.push(RawSection {
                kind,
                entry_count,
                bytes: section.to_vec(),
            }),
        }
    }
    Ok(meta)
}

/// A per-section string table as the linker builds it: each distinct string stored once,
/// offsets relative to the section start, the table placed right after the records.
struct StringTable {
    base: usize,
    bytes: Vec<u8>,
    seen: BTreeMap<String, usize>,
    overflow: bool,
}

impl StringTable {
    fn new(base: usize) -> Self {
        StringTable {
            base,
            bytes: Vec::new(),
            seen: BTreeMap::new(),
            overflow: false,
        }
    }

    /// Offset of `text` (0 for none). An offset that does not fit the 16-bit field is
    /// written as 0 and recorded, so [`Metadata::validate`] can refuse such metadata.
    fn intern(&mut self, text: Option<&str>) -> u16 {
        let Some(text) = text else { return 0 };
        let offset = match self.seen.get(text) {
            Some(&off) => off,
            None => {
                let off = self.base + self.bytes.len();
                self.bytes.extend_from_slice(text.as_bytes());
                self.bytes.push(0);
                self.seen.insert(text.to_string(), off);
                off
            }
        };
        u16::try_from(offset).unwrap_or_else(|_| {
            self.overflow = true;
            0
        })
    }
}

/// References to `items` ordered by `(group, id)`; stable, like the linker's sort.
fn sorted_by_key<T>(items: &[T], key: impl Fn(&T) -> (u8, u8)) -> Vec<&T> {
    let mut refs: Vec<&T> = items.iter().collect();
    refs.sort_by_key(|item| key(item));
    refs
}

/// Value section payload and whether some string offset overflowed.
fn encode_values(values: &[ValueEntry]) -> (Vec<u8>, bool) {
    let sorted = sorted_by_key(values, |v| (v.group, v.id));
    let mut strings = StringTable::new(sorted.len() * VALUE_RECORD_LEN);
    let mut out = Vec::with_capacity(sorted.len() * VALUE_RECORD_LEN);
    for v in sorted {
        let name = strings.intern(v.name.as_deref());
        let unit = strings.intern(v.unit.as_deref());
        let group_name = strings.intern(v.group_name.as_deref());
        out.extend_from_slice(&[v.group, v.id, v.flags, v.auth]);
        for half in [
            v.init,
            name,
            unit,
            v.epsilon,
            v.min,
            v.max,
            v.persist_key,
            group_name,
        ] {
            out.extend_from_slice(&half.to_be_bytes());
        }
    }
    out.extend_from_slice(&strings.bytes);
    (out, strings.overflow)
}

/// Command section payload and whether some string offset overflowed.
fn encode_commands(commands: &[CommandEntry]) -> (Vec<u8>, bool) {
    let sorted = sorted_by_key(commands, |c| (c.group, c.id));
    let mut strings = StringTable::new(sorted.len() * COMMAND_RECORD_LEN);
    let mut out = Vec::with_capacity(sorted.len() * COMMAND_RECORD_LEN);
    for c in sorted {
        let name = strings.intern(c.name.as_deref());
        let help = strings.intern(c.help.as_deref());
        let group_name = strings.intern(c.group_name.as_deref());
        out.extend_from_slice(&[c.group, c.id, c.flags, c.auth]);
        out.extend_from_slice(&c.handler.to_be_bytes());
        out.extend_from_slice(&name.to_be_bytes());
        out.extend_from_slice(&help.to_be_bytes());
        out.extend_from_slice(&c.reserved.to_be_bytes());
        out.extend_from_slice(&group_name.to_be_bytes());
    }
    out.extend_from_slice(&strings.bytes);
    (out, strings.overflow)
}

/// One section as written: `(type, payload, entry_count)`.
pub(crate) type EncodedSection = (u32, Vec<u8>, u32);

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Metadata {
    /// True when there is nothing to write (no table).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
            && self.commands.is_empty()
            && self.mailboxes.is_empty()
            && self.other.is_empty()
    }

    /// The sections the linker writes, in its order: values, commands, mailboxes (each only
    /// if non-empty), followed by any kept raw sections.
    pub(crate) fn encode_sections(&self) -> Vec<EncodedSection> {
        let mut out = Vec::new();
        if !self.values.is_empty() {
            let (bytes, _) = encode_values(&self.values);
            out.push((SECTION_VALUE, bytes, count_u32(self.values.len())));
        }
        if !self.commands.is_empty() {
            let (bytes, _) = encode_commands(&self.commands);
            out.push((SECTION_COMMAND, bytes, count_u32(self.commands.len())));
        }
        if !self.mailboxes.is_empty() {
            let bytes = encode_mailbox_section(&self.mailboxes);
            out.push((SECTION_MAILBOX, bytes, count_u32(self.mailboxes.len())));
        }
        for raw in &self.other {
            out.push((raw.kind, raw.bytes.clone(), raw.entry_count));
        }
        out
    }

    /// Orders entries the way the linker writes them: values and commands by `(group, id)`,
    /// mailboxes by target. The writer sorts records itself; mailboxes it writes as given.
    pub fn sort_canonical(&mut self) {
        self.values.sort_by_key(|v| (v.group, v.id));
        self.commands.sort_by_key(|c| (c.group, c.id));
        self.mailboxes.sort_by(|a, b| a.target.cmp(&b.target));
    }

    /// The linker's checks before writing: unique `(group, id)` per values and per commands,
    /// non-empty and unique (trimmed) mailbox targets, and string tables addressable by the
    /// 16-bit offset fields. The first problem found is reported.
    pub fn validate(&self) -> Result<(), MetadataError> {
        let mut seen = BTreeSet::new();
        for v in &self.values {
            if !seen.insert((v.group, v.id)) {
                return Err(MetadataError::DuplicateValue {
                    group: v.group,
                    id: v.id,
                });
            }
        }
        seen.clear();
        for c in &self.commands {
            if !seen.insert((c.group, c.id)) {
                return Err(MetadataError::DuplicateCommand {
                    group: c.group,
                    id: c.id,
                });
            }
        }
        let mut targets = BTreeSet::new();
        for (index, m) in self.mailboxes.iter().enumerate() {
            let target = py_strip(&m.target);
            if target.is_empty() {
                return Err(MetadataError::MailboxMissingTarget { index });
            }
            if !targets.insert(target) {
                return Err(MetadataError::DuplicateMailbox {
                    target: target.to_string(),
                });
            }
        }
        if encode_values(&self.values).1 {
            return Err(MetadataError::StringTableTooLarge { section: "value" });
        }
        if encode_commands(&self.commands).1 {
            return Err(MetadataError::StringTableTooLarge { section: "command" });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn strings_are_interned_once_after_records() {
        let values = vec![
            ValueEntry {
                group: 2,
                id: 1,
                name: Some("x".into()),
                unit: Some("C".into()),
                ..ValueEntry::default()
            },
            ValueEntry {
                group: 1,
                id: 9,
                name: Some("C".into()),
                group_name: Some("".into()),
                ..ValueEntry::default()
            },
        ];
        let (bytes, overflow) = encode_values(&values);
        assert!(!overflow);
        // Sorted: (1,9) first; its name "C" lands at 40, "" at 42; then "x" at 43; unit "C" reused.
        assert_eq!(&bytes[0..2], &[1, 9]);
        assert_eq!(be16(&bytes, 6), 40);
        assert_eq!(be16(&bytes, 18), 42);
        assert_eq!(&bytes[20..22], &[2, 1]);
        assert_eq!(be16(&bytes, 26), 43);
        assert_eq!(be16(&bytes, 28), 40);
        assert_eq!(&bytes[40..], b"C\0\0x\0");
        let parsed = parse_values(&bytes, 2, &mut Budget::new()).unwrap();
        assert_eq!(parsed[0].group_name.as_deref(), Some(""));
        assert_eq!(parsed[1].unit.as_deref(), Some("C"));
    }

    #[test]
    fn oversized_string_table_is_reported() {
        let values: Vec<ValueEntry> = (0..=255u8)
            .map(|id| ValueEntry {
                id,
                name: Some(alloc::format!("{id:0>300}")),
                ..ValueEntry::default()
            })
            .collect();
        let meta = Metadata {
            values,
            ..Metadata::default()
        };
        assert_eq!(
            meta.validate(),
            Err(MetadataError::StringTableTooLarge { section: "value" })
        );
    }
}
