//! What the DWARF readers (`dwarf.rs` for lines and variables, `dwarf_types.rs` for
//! types) share: the reader types over the wasm custom sections, and string attributes.

use gimli::{AttributeValue, EndianSlice, LittleEndian, UnitRef};

/// A reader over one custom section.
pub(crate) type R<'a> = EndianSlice<'a, LittleEndian>;
/// A unit with the sections it reads from.
pub(crate) type Unit<'u, 'a> = UnitRef<'u, R<'a>>;
/// One debugging information entry.
pub(crate) type Die<'abbrev, 'unit, 'a> = gimli::DebuggingInformationEntry<'abbrev, 'unit, R<'a>>;

/// A string attribute's text (inline or in `.debug_str`).
pub(crate) fn attr_str<'a>(unit: Unit<'_, 'a>, v: AttributeValue<R<'a>>) -> Option<String> {
    unit.attr_string(v)
        .ok()
        .map(|s| s.to_string_lossy().into_owned())
}
