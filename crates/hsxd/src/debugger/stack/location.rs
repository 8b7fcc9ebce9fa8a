//! `.sym` location descriptors: where a local lives ([`Storage`]), parsed from an object
//! `{kind, …}` or a short text such as `fp-8` or `R5`.

use serde_json::Value;

use super::local_error::LocalError;
use crate::args::parse_int_str;

/// Where a local lives, parsed from a `.sym` location descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// `[fp + offset]`.
    Stack {
        /// Byte offset from R7.
        offset: i64,
    },
    /// A register of frame 0.
    Register {
        /// Register number.
        index: u8,
    },
    /// A data address, given directly or through a symbol.
    Global {
        /// Symbol name.
        symbol: Option<String>,
        /// Base address.
        address: Option<u32>,
        /// Byte offset.
        offset: i64,
    },
    /// A constant value.
    Const {
        /// The value.
        value: u32,
    },
    /// Memory at (the 32-bit value in `base`) + `offset`: a C stack variable whose frame
    /// base (the C stack pointer) lives in a register, a frame slot or a global.
    Indirect {
        /// Where the base address is.
        base: Box<Storage>,
        /// Byte offset from it.
        offset: i64,
    },
}

pub(super) fn loose_int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => parse_int_str(s).and_then(|n| i64::try_from(n).ok()),
        _ => None,
    }
}

fn register_index(name: &str) -> Option<u8> {
    let n = name.trim();
    let digits = n.strip_prefix('R').or_else(|| n.strip_prefix('r'))?;
    let i: u8 = digits.parse().ok()?;
    (i < 16).then_some(i)
}

/// Parses a textual location: `fp`, `fp-8`, `fp+0x10`, `[R7-8]`, `R5`, or a data address.
fn parse_location_text(text: &str) -> Result<Storage, LocalError> {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '[' && *c != ']')
        .collect::<String>()
        .to_ascii_lowercase();
    let base_rest = t.strip_prefix("fp").or_else(|| t.strip_prefix("r7"));
    if let Some(rest) = base_rest.filter(|r| r.is_empty() || r.starts_with(['+', '-'])) {
        let offset = if rest.is_empty() {
            0
        } else {
            parse_int_str(rest)
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| LocalError::BadLocation(format!("invalid location '{text}'")))?
        };
        return Ok(Storage::Stack { offset });
    }
    if let Some(index) = register_index(&t) {
        return Ok(Storage::Register { index });
    }
    if let Some(addr) = parse_int_str(&t).and_then(|n| u32::try_from(n).ok()) {
        return Ok(Storage::Global {
            symbol: None,
            address: Some(addr),
            offset: 0,
        });
    }
    Err(LocalError::BadLocation(format!(
        "unsupported local storage kind '{text}'"
    )))
}

/// Parses a `.sym` location descriptor: an object `{kind: stack|register|global|const, …}`
/// (kind defaults to `stack`), `{kind: indirect, base: <descriptor>, offset}`, or a string
/// such as `"fp-8"` or `"R5"`.
pub fn parse_location(v: &Value) -> Result<Storage, LocalError> {
    let obj = match v {
        Value::String(s) => return parse_location_text(s),
        Value::Object(o) => o,
        Value::Null => return Ok(Storage::Stack { offset: 0 }),
        _ => {
            return Err(LocalError::BadLocation(
                "invalid location descriptor".into(),
            ));
        }
    };
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .unwrap_or("stack")
        .to_ascii_lowercase();
    match kind.as_str() {
        "stack" | "frame" => Ok(Storage::Stack {
            offset: loose_int(obj.get("offset")).unwrap_or(0),
        }),
        "register" | "reg" => {
            let by_index = loose_int(obj.get("index"))
                .and_then(|i| u8::try_from(i).ok())
                .filter(|i| *i < 16);
            let by_name = ["name", "register"]
                .iter()
                .find_map(|k| obj.get(*k).and_then(Value::as_str))
                .and_then(register_index);
            by_index
                .or(by_name)
                .map(|index| Storage::Register { index })
                .ok_or_else(|| LocalError::BadLocation("register location missing index".into()))
        }
        "global" => {
            let symbol = obj
                .get("symbol")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            let address = loose_int(obj.get("address")).map(|a| (a as u64 & 0xFFFF_FFFF) as u32);
            if symbol.is_none() && address.is_none() {
                return Err(LocalError::BadLocation(
                    "global location missing base address".into(),
                ));
            }
            Ok(Storage::Global {
                symbol,
                address,
                offset: loose_int(obj.get("offset")).unwrap_or(0),
            })
        }
        "indirect" | "deref" => {
            let base = match obj.get("base") {
                Some(b @ (Value::Object(_) | Value::String(_))) => parse_location(b)?,
                _ => {
                    return Err(LocalError::BadLocation(
                        "indirect location missing base".into(),
                    ));
                }
            };
            if matches!(base, Storage::Indirect { .. } | Storage::Const { .. }) {
                return Err(LocalError::BadLocation(
                    "indirect location base must be a register, stack slot or global".into(),
                ));
            }
            Ok(Storage::Indirect {
                base: Box::new(base),
                offset: loose_int(obj.get("offset")).unwrap_or(0),
            })
        }
        "const" | "constant" => loose_int(obj.get("value"))
            .map(|v| Storage::Const {
                value: (v as u64 & 0xFFFF_FFFF) as u32,
            })
            .ok_or_else(|| LocalError::BadLocation("const location missing value".into())),
        other => Err(LocalError::BadLocation(format!(
            "unsupported local storage kind '{other}'"
        ))),
    }
}
