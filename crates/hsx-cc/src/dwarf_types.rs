//! DWARF types → the `.sym` type table (`types`), so a debugger can show C values: base
//! types with their encoding, pointers, structs and unions with member offsets, arrays
//! with their element count, enums with their enumerators, and typedefs. Qualifiers
//! (`const`, `volatile`) are looked through. The format is described in
//! docs/c-toolchain.md ("The type table").
//!
//! Types are numbered in the order they are first met; a struct gets its number before
//! its members are read, so self-referential types (a list node pointing to itself) end.

use std::collections::HashMap;

use gimli::{AttributeValue, UnitOffset};
use serde_json::{Map, Value, json};

use crate::dwarf_read::{Die, Unit, attr_str};

/// Deepest type nesting followed (pointer to array of struct of …).
const MAX_DEPTH: u32 = 32;
/// Most types in one table (a bound for hostile or huge DWARF).
const MAX_TYPES: usize = 65_536;
/// Most members or enumerators read from one type.
const MAX_CHILDREN: usize = 4096;

/// The table being built.
#[derive(Default)]
pub(crate) struct TypeTable {
    /// The entries, by id.
    pub types: Vec<Value>,
    /// (unit offset in .debug_info, DIE offset) → id.
    seen: HashMap<(usize, usize), u32>,
}

fn udata<'a>(die: &Die<'_, '_, 'a>, at: gimli::DwAt) -> Option<u64> {
    die.attr_value(at).ok()??.udata_value()
}

fn sdata<'a>(die: &Die<'_, '_, 'a>, at: gimli::DwAt) -> Option<i64> {
    match die.attr_value(at).ok()?? {
        AttributeValue::Sdata(v) => Some(v),
        AttributeValue::Udata(v) => i64::try_from(v).ok(),
        AttributeValue::Data1(v) => Some(i64::from(v as i8)),
        AttributeValue::Data2(v) => Some(i64::from(v as i16)),
        AttributeValue::Data4(v) => Some(i64::from(v as i32)),
        AttributeValue::Data8(v) => Some(v as i64),
        _ => None,
    }
}

fn name_of<'a>(unit: Unit<'_, 'a>, die: &Die<'_, '_, 'a>) -> Option<String> {
    die.attr_value(gimli::DW_AT_name)
        .ok()
        .flatten()
        .and_then(|v| attr_str(unit, v))
}

fn unit_key<'a>(unit: Unit<'_, 'a>) -> usize {
    match unit.unit.header.offset() {
        gimli::UnitSectionOffset::DebugInfoOffset(o) => o.0,
        gimli::UnitSectionOffset::DebugTypesOffset(o) => o.0,
    }
}

fn type_ref<'a>(die: &Die<'_, '_, 'a>) -> Option<UnitOffset> {
    match die.attr_value(gimli::DW_AT_type).ok()?? {
        AttributeValue::UnitRef(off) => Some(off),
        _ => None,
    }
}

impl TypeTable {
    /// The id of the type `die` refers to with `DW_AT_type` (a variable, member, …).
    pub(crate) fn type_of<'a>(&mut self, unit: Unit<'_, 'a>, die: &Die<'_, '_, 'a>) -> Option<u32> {
        self.id_at(unit, type_ref(die)?, 0)
    }

    fn id_at<'a>(&mut self, unit: Unit<'_, 'a>, off: UnitOffset, depth: u32) -> Option<u32> {
        if depth > MAX_DEPTH {
            return None;
        }
        let key = (unit_key(unit), off.0);
        if let Some(&id) = self.seen.get(&key) {
            return Some(id);
        }
        let die = unit.unit.entry(off).ok()?;
        let tag = die.tag();
        // Qualifiers add nothing a debugger shows; use what they qualify.
        if matches!(
            tag,
            gimli::DW_TAG_const_type
                | gimli::DW_TAG_volatile_type
                | gimli::DW_TAG_restrict_type
                | gimli::DW_TAG_atomic_type
        ) {
            let id = match type_ref(&die) {
                Some(t) => self.id_at(unit, t, depth + 1)?,
                None => self.push_void(),
            };
            self.seen.insert(key, id);
            return Some(id);
        }
        if self.types.len() >= MAX_TYPES {
            return None;
        }
        let id = u32::try_from(self.types.len()).ok()?;
        self.types.push(Value::Null);
        self.seen.insert(key, id);
        let entry = self
            .describe(unit, &die, depth)
            .unwrap_or_else(|| json!({"kind": "unknown"}));
        if let Some(slot) = self.types.get_mut(id as usize) {
            *slot = entry;
        }
        Some(id)
    }

    fn push_void(&mut self) -> u32 {
        let id = self.types.len() as u32;
        self.types
            .push(json!({"kind": "void", "name": "void", "size": 0}));
        id
    }

    fn target<'a>(&mut self, unit: Unit<'_, 'a>, die: &Die<'_, '_, 'a>, depth: u32) -> Value {
        type_ref(die)
            .and_then(|t| self.id_at(unit, t, depth + 1))
            .map_or(Value::Null, Value::from)
    }

    fn describe<'a>(
        &mut self,
        unit: Unit<'_, 'a>,
        die: &Die<'_, '_, 'a>,
        depth: u32,
    ) -> Option<Value> {
        let name = name_of(unit, die);
        let size = udata(die, gimli::DW_AT_byte_size);
        let mut m = Map::new();
        if let Some(n) = &name {
            m.insert("name".into(), json!(n));
        }
        if let Some(s) = size {
            m.insert("size".into(), json!(s));
        }
        let kind = match die.tag() {
            gimli::DW_TAG_base_type => {
                let ate = match die.attr_value(gimli::DW_AT_encoding).ok().flatten() {
                    Some(AttributeValue::Encoding(e)) => Some(e),
                    Some(v) => v.udata_value().map(|e| gimli::DwAte(e as u8)),
                    None => None,
                };
                let enc = match ate {
                    Some(gimli::DW_ATE_float) => "float",
                    Some(gimli::DW_ATE_boolean) => "bool",
                    Some(gimli::DW_ATE_signed_char) => "signed_char",
                    Some(gimli::DW_ATE_unsigned_char) => "unsigned_char",
                    Some(gimli::DW_ATE_signed) => "signed",
                    _ => "unsigned",
                };
                m.insert("encoding".into(), json!(enc));
                "base"
            }
            gimli::DW_TAG_pointer_type | gimli::DW_TAG_reference_type => {
                m.insert("size".into(), json!(4));
                let t = self.target(unit, die, depth);
                m.insert("target".into(), t);
                "pointer"
            }
            gimli::DW_TAG_typedef => {
                let t = self.target(unit, die, depth);
                m.insert("target".into(), t);
                "typedef"
            }
            gimli::DW_TAG_structure_type | gimli::DW_TAG_union_type | gimli::DW_TAG_class_type => {
                let members =
                    self.children(unit, die, depth, gimli::DW_TAG_member, |tt, u, c, d| {
                        let mut mm = Map::new();
                        mm.insert("name".into(), json!(name_of(u, c).unwrap_or_default()));
                        mm.insert(
                            "offset".into(),
                            json!(udata(c, gimli::DW_AT_data_member_location).unwrap_or(0)),
                        );
                        mm.insert("type".into(), tt.target(u, c, d));
                        if let Some(b) = udata(c, gimli::DW_AT_bit_size) {
                            mm.insert("bit_size".into(), json!(b));
                            let bo = udata(c, gimli::DW_AT_data_bit_offset).unwrap_or(0);
                            mm.insert("bit_offset".into(), json!(bo));
                        }
                        Value::Object(mm)
                    });
                m.insert("members".into(), Value::Array(members));
                if die.tag() == gimli::DW_TAG_union_type {
                    "union"
                } else {
                    "struct"
                }
            }
            gimli::DW_TAG_array_type => {
                let t = self.target(unit, die, depth);
                m.insert("element".into(), t);
                let dims = self.children(
                    unit,
                    die,
                    depth,
                    gimli::DW_TAG_subrange_type,
                    |_, _, c, _| {
                        udata(c, gimli::DW_AT_count)
                            .or_else(|| udata(c, gimli::DW_AT_upper_bound).map(|u| u + 1))
                            .map_or(Value::Null, Value::from)
                    },
                );
                // `int a[2][3]` is an array of 2 arrays of 3: the first count is the outer.
                m.insert("count".into(), dims.first().cloned().unwrap_or(Value::Null));
                if dims.len() > 1 {
                    m.insert("dims".into(), Value::Array(dims));
                }
                "array"
            }
            gimli::DW_TAG_enumeration_type => {
                let values =
                    self.children(unit, die, depth, gimli::DW_TAG_enumerator, |_, u, c, _| {
                        json!({"name": name_of(u, c).unwrap_or_default(),
                           "value": sdata(c, gimli::DW_AT_const_value).unwrap_or(0)})
                    });
                m.insert("values".into(), Value::Array(values));
                "enum"
            }
            gimli::DW_TAG_subroutine_type => "function",
            _ => "unknown",
        };
        m.insert("kind".into(), json!(kind));
        Some(Value::Object(m))
    }

    /// Maps the direct children of `die` with tag `tag` (at most [`MAX_CHILDREN`]).
    fn children<'a, F>(
        &mut self,
        unit: Unit<'_, 'a>,
        die: &Die<'_, '_, 'a>,
        depth: u32,
        tag: gimli::DwTag,
        mut f: F,
    ) -> Vec<Value>
    where
        F: FnMut(&mut Self, Unit<'_, 'a>, &Die<'_, '_, 'a>, u32) -> Value,
    {
        let mut out = Vec::new();
        let Ok(mut tree) = unit.unit.entries_tree(Some(die.offset())) else {
            return out;
        };
        let Ok(root) = tree.root() else { return out };
        let mut kids = root.children();
        while let Ok(Some(child)) = kids.next() {
            if out.len() >= MAX_CHILDREN {
                break;
            }
            let c = child.entry();
            if c.tag() == tag {
                out.push(f(self, unit, c, depth + 1));
            }
        }
        out
    }
}
