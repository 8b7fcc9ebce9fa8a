//! C types for display: the `.sym` type table written by `hsx cc -g` (docs/c-toolchain.md,
//! "The type table"), with a fallback for `.sym` files that only carry a type name and a
//! size (older files, MVASM data): then the name decides signedness and floats.

use serde_json::Value;

/// Deepest typedef chain followed.
const MAX_TYPEDEFS: usize = 16;

/// What a value is, for formatting and expansion.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Shape {
    /// An integer (`signed`), a char, a bool.
    Int {
        size: u32,
        signed: bool,
        char_like: bool,
        boolean: bool,
    },
    /// `float` / `double`.
    Float { size: u32 },
    /// A pointer to type id `target`.
    Pointer { target: Option<u32> },
    /// An enum with its enumerators.
    Enum {
        size: u32,
        values: Vec<(String, i64)>,
    },
    /// A struct or union: `(name, offset, type id, bit_size, bit_offset)` per member.
    Record { size: u32, members: Vec<Member> },
    /// `count` elements of type id `element`.
    Array {
        element: Option<u32>,
        count: u32,
        size: u32,
    },
    /// Only bytes.
    Bytes { size: u32 },
}

/// A struct or union member.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Member {
    pub name: String,
    pub offset: u32,
    pub ty: Option<u32>,
    pub bits: Option<(u32, u32)>,
}

fn num(v: &Value, key: &str) -> Option<u32> {
    v.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// The type table of one `.sym`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Types<'a> {
    table: &'a [Value],
}

impl<'a> Types<'a> {
    /// Wraps a `.sym` `types` array.
    pub(super) fn new(table: &'a [Value]) -> Self {
        Types { table }
    }

    /// Entry `id` with typedefs looked through.
    fn resolved(&self, id: u32) -> Option<&'a Value> {
        let mut cur = self.table.get(id as usize)?;
        for _ in 0..MAX_TYPEDEFS {
            if cur.get("kind").and_then(Value::as_str) != Some("typedef") {
                return Some(cur);
            }
            cur = self.table.get(num(cur, "target")? as usize)?;
        }
        None
    }

    /// A C spelling of type `id` (`int`, `struct pt`, `char*`, `int[3]`).
    pub(super) fn name(&self, id: u32) -> String {
        self.name_depth(id, 0)
    }

    fn name_depth(&self, id: u32, depth: usize) -> String {
        let Some(t) = self.table.get(id as usize).filter(|_| depth < MAX_TYPEDEFS) else {
            return "?".into();
        };
        let name = t.get("name").and_then(Value::as_str);
        let inner =
            |key: &str| num(t, key).map_or("void".to_string(), |i| self.name_depth(i, depth + 1));
        match t.get("kind").and_then(Value::as_str).unwrap_or("") {
            "struct" => format!("struct {}", name.unwrap_or("<anonymous>")),
            "union" => format!("union {}", name.unwrap_or("<anonymous>")),
            "enum" => format!("enum {}", name.unwrap_or("<anonymous>")),
            "pointer" => format!("{}*", inner("target")),
            "array" => format!(
                "{}[{}]",
                inner("element"),
                num(t, "count").map_or(String::new(), |c| c.to_string())
            ),
            "function" => "function".into(),
            _ => name.unwrap_or("?").to_string(),
        }
    }

    /// Size in bytes of type `id`.
    pub(super) fn size(&self, id: u32) -> u32 {
        match self.shape(id) {
            Shape::Int { size, .. } | Shape::Float { size } | Shape::Enum { size, .. } => size,
            Shape::Record { size, .. } | Shape::Array { size, .. } | Shape::Bytes { size } => size,
            Shape::Pointer { .. } => 4,
        }
    }

    /// How to show type `id`.
    pub(super) fn shape(&self, id: u32) -> Shape {
        let Some(t) = self.resolved(id) else {
            return Shape::Bytes { size: 0 };
        };
        let size = num(t, "size").unwrap_or(0);
        match t.get("kind").and_then(Value::as_str).unwrap_or("") {
            "base" => match t.get("encoding").and_then(Value::as_str).unwrap_or("") {
                "float" => Shape::Float { size },
                "bool" => Shape::Int {
                    size,
                    signed: false,
                    char_like: false,
                    boolean: true,
                },
                "signed_char" => Shape::Int {
                    size,
                    signed: true,
                    char_like: true,
                    boolean: false,
                },
                "unsigned_char" => Shape::Int {
                    size,
                    signed: false,
                    char_like: true,
                    boolean: false,
                },
                "signed" => Shape::Int {
                    size,
                    signed: true,
                    char_like: false,
                    boolean: false,
                },
                _ => Shape::Int {
                    size,
                    signed: false,
                    char_like: false,
                    boolean: false,
                },
            },
            "pointer" => Shape::Pointer {
                target: num(t, "target"),
            },
            "enum" => Shape::Enum {
                size,
                values: t
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|vs| {
                        vs.iter()
                            .map(|v| {
                                (
                                    v.get("name")
                                        .and_then(Value::as_str)
                                        .unwrap_or("")
                                        .to_string(),
                                    v.get("value").and_then(Value::as_i64).unwrap_or(0),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            "struct" | "union" => Shape::Record {
                size,
                members: t
                    .get("members")
                    .and_then(Value::as_array)
                    .map(|ms| {
                        ms.iter()
                            .map(|m| Member {
                                name: m
                                    .get("name")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_string(),
                                offset: num(m, "offset").unwrap_or(0),
                                ty: num(m, "type"),
                                bits: num(m, "bit_size")
                                    .map(|b| (b, num(m, "bit_offset").unwrap_or(0))),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            "array" => {
                let element = num(t, "element");
                let count = num(t, "count").unwrap_or(0);
                let elem_size = element.map_or(0, |e| self.size(e));
                let size = if size == 0 {
                    elem_size.saturating_mul(count)
                } else {
                    size
                };
                Shape::Array {
                    element,
                    count,
                    size,
                }
            }
            _ => Shape::Bytes { size },
        }
    }
}

/// A shape from a bare type name and size (no type table).
pub(super) fn shape_from_name(name: Option<&str>, size: u32) -> Shape {
    let n = name.unwrap_or("").trim();
    if n.ends_with('*') {
        return Shape::Pointer { target: None };
    }
    let base = n
        .trim_start_matches("const ")
        .trim_start_matches("volatile ");
    match base {
        "float" | "double" if size == 4 || size == 8 => Shape::Float { size },
        "_Bool" | "bool" => Shape::Int {
            size,
            signed: false,
            char_like: false,
            boolean: true,
        },
        "char" | "signed char" => Shape::Int {
            size,
            signed: true,
            char_like: true,
            boolean: false,
        },
        "unsigned char" => Shape::Int {
            size,
            signed: false,
            char_like: true,
            boolean: false,
        },
        _ if matches!(size, 1 | 2 | 4 | 8)
            && !base.contains('[')
            && !base.starts_with("struct")
            && !base.starts_with("union") =>
        {
            Shape::Int {
                size,
                signed: !base.starts_with("unsigned") && !base.starts_with("uint"),
                char_like: false,
                boolean: false,
            }
        }
        _ => Shape::Bytes { size },
    }
}

/// Little-endian integer of up to 8 bytes.
pub(super) fn le_u64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .take(8)
        .enumerate()
        .fold(0u64, |acc, (i, b)| acc | (u64::from(*b) << (8 * i)))
}

/// Sign-extends the low `bits` of `v`.
pub(super) fn sign_extend(v: u64, bits: u32) -> i64 {
    if bits == 0 || bits >= 64 {
        return v as i64;
    }
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

fn int_text(v: u64, size_bits: u32, signed: bool, hex: bool) -> String {
    if hex {
        let digits = (size_bits.div_ceil(4)).max(1) as usize;
        let mask = if size_bits >= 64 {
            u64::MAX
        } else {
            (1u64 << size_bits) - 1
        };
        return format!("0x{:0digits$x}", v & mask);
    }
    if signed {
        sign_extend(v, size_bits).to_string()
    } else {
        v.to_string()
    }
}

/// The display text of a scalar (`None` for a record or an array, which expand instead).
pub(super) fn scalar_text(shape: &Shape, bytes: &[u8], hex: bool) -> Option<String> {
    Some(match shape {
        Shape::Int {
            size,
            signed,
            char_like,
            boolean,
        } => {
            let v = le_u64(bytes);
            let bits = size.saturating_mul(8).min(64);
            if *boolean {
                return Some(if v != 0 {
                    "true".into()
                } else {
                    "false".into()
                });
            }
            let t = int_text(v, bits, *signed, hex);
            if *char_like && (0x20..0x7f).contains(&v) {
                format!("{t} '{}'", char::from(v as u8))
            } else {
                t
            }
        }
        Shape::Float { size } => {
            if *size == 8 && bytes.len() >= 8 {
                f64::from_bits(le_u64(bytes)).to_string()
            } else {
                f32::from_bits(le_u64(bytes) as u32).to_string()
            }
        }
        Shape::Pointer { .. } => format!("0x{:04x}", le_u64(bytes) as u32),
        Shape::Enum { size, values } => {
            let v = sign_extend(le_u64(bytes), size.saturating_mul(8).min(64));
            match values.iter().find(|(_, x)| *x == v) {
                Some((n, _)) => n.clone(),
                None => int_text(v as u64, size * 8, true, hex),
            }
        }
        Shape::Bytes { size } if matches!(size, 1 | 2 | 4) && bytes.len() >= *size as usize => {
            int_text(le_u64(bytes), size * 8, false, true)
        }
        Shape::Bytes { .. } => {
            let hexs: Vec<String> = bytes.iter().take(32).map(|b| format!("{b:02x}")).collect();
            let more = if bytes.len() > 32 { " …" } else { "" };
            format!("[{}{more}]", hexs.join(" "))
        }
        Shape::Record { .. } | Shape::Array { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table() -> Vec<Value> {
        vec![
            json!({"kind": "base", "name": "int", "size": 4, "encoding": "signed"}),
            json!({"kind": "struct", "name": "pt", "size": 8, "members": [
                {"name": "x", "offset": 0, "type": 0}, {"name": "y", "offset": 4, "type": 0}]}),
            json!({"kind": "array", "element": 0, "count": 3, "size": 12}),
            json!({"kind": "pointer", "size": 4, "target": 1}),
            json!({"kind": "typedef", "name": "point_t", "target": 1}),
            json!({"kind": "enum", "name": "color", "size": 4, "values": [{"name": "RED", "value": 0}, {"name": "BLUE", "value": -1}]}),
            json!({"kind": "typedef", "name": "loop", "target": 6}),
        ]
    }

    #[test]
    fn names_sizes_and_shapes() {
        let t = table();
        let ty = Types::new(&t);
        assert_eq!(ty.name(1), "struct pt");
        assert_eq!(ty.name(2), "int[3]");
        assert_eq!(ty.name(3), "struct pt*");
        assert_eq!(ty.name(4), "point_t");
        assert_eq!(ty.size(4), 8);
        assert_eq!(ty.size(2), 12);
        assert!(matches!(ty.shape(4), Shape::Record { ref members, .. } if members.len() == 2));
        // A typedef loop and a missing id end instead of spinning.
        assert_eq!(ty.shape(6), Shape::Bytes { size: 0 });
        assert_eq!(ty.shape(99), Shape::Bytes { size: 0 });
        assert_eq!(ty.name(99), "?");
    }

    #[test]
    fn scalars_format_in_decimal_and_hex() {
        let t = table();
        let ty = Types::new(&t);
        let int = ty.shape(0);
        assert_eq!(
            scalar_text(&int, &(-5i32).to_le_bytes(), false).as_deref(),
            Some("-5")
        );
        assert_eq!(
            scalar_text(&int, &(-5i32).to_le_bytes(), true).as_deref(),
            Some("0xfffffffb")
        );
        assert_eq!(
            scalar_text(&ty.shape(5), &(-1i32).to_le_bytes(), false).as_deref(),
            Some("BLUE")
        );
        assert_eq!(
            scalar_text(&ty.shape(3), &[0x10, 0x40, 0, 0], false).as_deref(),
            Some("0x4010")
        );
        assert_eq!(scalar_text(&ty.shape(1), &[0; 8], false), None);
        let f = shape_from_name(Some("float"), 4);
        assert_eq!(
            scalar_text(&f, &1.5f32.to_le_bytes(), false).as_deref(),
            Some("1.5")
        );
        let c = shape_from_name(Some("char"), 1);
        assert_eq!(scalar_text(&c, b"A", false).as_deref(), Some("65 'A'"));
        assert_eq!(
            shape_from_name(Some("unsigned int"), 4),
            Shape::Int {
                size: 4,
                signed: false,
                char_like: false,
                boolean: false
            }
        );
        assert_eq!(
            scalar_text(&Shape::Bytes { size: 3 }, &[1, 2, 3], false).as_deref(),
            Some("[01 02 03]")
        );
    }
}
