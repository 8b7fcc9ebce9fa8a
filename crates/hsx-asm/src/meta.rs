//! `.value`, `.cmd` and `.mailbox` directive payloads: JSON → normalised records, with the
//! key aliases and value coercions of `vm.md` §8.2 and the linker's encoding rules (§4.3).

use hsx_image::{
    AUTH_ADMIN, AUTH_FACTORY, AUTH_PUBLIC, AUTH_USER, CMD_FLAG_ASYNC, CMD_FLAG_PIN,
    VALUE_FLAG_BOOL, VALUE_FLAG_PERSIST, VALUE_FLAG_PIN, VALUE_FLAG_RO, VALUE_FLAG_STICKY,
};
use serde_json::{Map, Value};

/// A `.value` declaration after normalisation (f16 fields already encoded).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValueSpec {
    pub group: u8,
    pub id: u8,
    pub flags: u8,
    pub auth: u8,
    pub init: u16,
    pub epsilon: u16,
    pub min: u16,
    pub max: u16,
    pub persist_key: u16,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub group_name: Option<String>,
}

/// Where a command's handler address comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HandlerSpec {
    /// No handler given: address 0.
    None,
    /// A literal code address.
    Offset(u32),
    /// A `.text` symbol, resolved by the linker.
    Symbol(String),
}

/// A `.cmd` declaration after normalisation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CmdSpec {
    pub group: u8,
    pub id: u8,
    pub flags: u8,
    pub auth: u8,
    pub handler: HandlerSpec,
    pub name: Option<String>,
    pub help: Option<String>,
    pub group_name: Option<String>,
    pub reserved: u16,
}

/// A `.mailbox` declaration: the JSON object with `target` normalised (trimmed, filled
/// from `name` when absent); every other key is kept as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MailboxSpec {
    pub target: String,
    pub raw: Map<String, Value>,
}

const VALUE_FLAGS: &[(&str, u64)] = &[
    ("RO", VALUE_FLAG_RO as u64),
    ("READONLY", VALUE_FLAG_RO as u64),
    ("READ_ONLY", VALUE_FLAG_RO as u64),
    ("PERSIST", VALUE_FLAG_PERSIST as u64),
    ("STICKY", VALUE_FLAG_STICKY as u64),
    ("PIN", VALUE_FLAG_PIN as u64),
    ("BOOL", VALUE_FLAG_BOOL as u64),
];
const CMD_FLAGS: &[(&str, u64)] = &[
    ("PIN", CMD_FLAG_PIN as u64),
    ("ASYNC", CMD_FLAG_ASYNC as u64),
];
const AUTH_LEVELS: &[(&str, u64)] = &[
    ("PUBLIC", AUTH_PUBLIC as u64),
    ("USER", AUTH_USER as u64),
    ("ADMIN", AUTH_ADMIN as u64),
    ("FACTORY", AUTH_FACTORY as u64),
];

/// Remove the first present key of `keys` (alias order matters: the first wins).
fn take(map: &mut Map<String, Value>, keys: &[&str]) -> Option<Value> {
    keys.iter()
        .find_map(|k| map.remove(*k))
        .filter(|v| !v.is_null())
}

fn json_text(v: &Value) -> String {
    v.to_string()
}

fn uint(field: &str, v: &Value, max: u64) -> Result<u64, String> {
    let n = match v {
        Value::Bool(b) => Some(u64::from(*b)),
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                .map(|f| f as u64)
        }),
        Value::String(s) => parse_int_str(s.trim()),
        _ => None,
    };
    match n {
        Some(n) if n <= max => Ok(n),
        Some(_) => Err(format!(
            "`{field}` is {} but must be within 0..{max}",
            json_text(v)
        )),
        None => Err(format!(
            "`{field}` must be an integer, got {}",
            json_text(v)
        )),
    }
}

fn parse_int_str(s: &str) -> Option<u64> {
    let l = s.to_ascii_lowercase();
    if let Some(h) = l.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()
    } else if let Some(b) = l.strip_prefix("0b") {
        u64::from_str_radix(b, 2).ok()
    } else if let Some(o) = l.strip_prefix("0o") {
        u64::from_str_radix(o, 8).ok()
    } else {
        l.parse().ok()
    }
}

fn float(field: &str, v: &Value) -> Result<f64, String> {
    match v {
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("`{field}` is not a finite number")),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("`{field}` must be a number, got {}", json_text(v))),
        _ => Err(format!("`{field}` must be a number, got {}", json_text(v))),
    }
}

/// IEEE binary16 bits of `v`, round-to-nearest-even (what the reference's `struct 'e'`
/// produces; overflow becomes ±inf). The VM's conversion is used because `half`'s own
/// `from_f64` rounds twice near ties.
pub(crate) fn f16_bits(v: f64) -> u16 {
    // The VM canonicalises every NaN; the reference keeps a NaN's sign (`"-nan"` → 0xFE00).
    if v.is_nan() {
        return if v.is_sign_negative() { 0xFE00 } else { 0x7E00 };
    }
    hsx_vm::fp16::f16_from_f64(v)
}

fn flag_spec(field: &str, v: &Value, names: &[(&str, u64)]) -> Result<u8, String> {
    let n = match v {
        Value::String(s) => {
            let mut mask = 0u64;
            for tok in s.split('|').map(str::trim).filter(|t| !t.is_empty()) {
                let up = tok.to_ascii_uppercase();
                match names.iter().find(|(n, _)| *n == up) {
                    Some((_, bit)) => mask |= bit,
                    None => match parse_int_str(tok) {
                        Some(n) => mask |= n,
                        None => {
                            let known: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                            return Err(format!(
                                "`{field}` uses unknown flag `{tok}` (expected an integer or {} joined by `|`)",
                                known.join(", ")
                            ));
                        }
                    },
                }
            }
            mask
        }
        other => uint(field, other, 0xFF)?,
    };
    u8::try_from(n).map_err(|_| format!("`{field}` is {n} but must be within 0..255"))
}

fn auth_spec(field: &str, v: &Value) -> Result<u8, String> {
    if let Value::String(s) = v {
        let up = s.trim().to_ascii_uppercase();
        if up.is_empty() {
            return Ok(0);
        }
        if let Some((_, n)) = AUTH_LEVELS.iter().find(|(n, _)| *n == up) {
            return Ok(*n as u8);
        }
        if parse_int_str(&up).is_none() {
            return Err(format!(
                "`{field}` uses unknown level `{s}` (expected an integer or PUBLIC, USER, ADMIN, FACTORY)"
            ));
        }
    }
    Ok(uint(field, v, 0xFF)? as u8)
}

fn text(field: &str, v: Option<Value>) -> Result<Option<String>, String> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v @ Value::Number(_)) => Ok(Some(v.to_string())),
        Some(other) => Err(format!(
            "`{field}` must be a string, got {}",
            json_text(&other)
        )),
    }
}

fn f16_field(
    map: &mut Map<String, Value>,
    raw_key: &str,
    keys: &[&str],
    name: &str,
) -> Result<u16, String> {
    let raw = map.remove(raw_key).filter(|v| !v.is_null());
    let val = take(map, keys);
    if let Some(r) = raw {
        return Ok(uint(raw_key, &r, 0xFFFF)? as u16);
    }
    match val {
        Some(v) => Ok(f16_bits(float(name, &v)?)),
        None => Ok(0),
    }
}

/// Split a payload into its entries: an object, or a non-empty array of objects.
pub(crate) fn entries(directive: &str, payload: Value) -> Result<Vec<Map<String, Value>>, String> {
    let items = match payload {
        Value::Array(a) if a.is_empty() => {
            return Err(format!(
                "{directive} JSON array must contain at least one entry"
            ));
        }
        Value::Array(a) => a,
        other => vec![other],
    };
    items
        .into_iter()
        .map(|v| match v {
            Value::Object(m) => Ok(m),
            other => Err(format!(
                "{directive} expects a JSON object (or an array of objects), got {}",
                json_text(&other)
            )),
        })
        .collect()
}

/// Normalise one `.value` entry.
pub(crate) fn value_spec(mut m: Map<String, Value>) -> Result<ValueSpec, String> {
    let group = take(&mut m, &["group", "group_id", "groupId"])
        .ok_or("`.value` entry requires `group` (or `group_id`)")?;
    let group = uint("group", &group, 0xFF)? as u8;
    let id = take(&mut m, &["id", "value", "value_id", "valueId"])
        .ok_or("`.value` entry requires `id` (or `value`/`value_id`)")?;
    let id = uint("id", &id, 0xFF)? as u8;
    let group_name = text("group_name", take(&mut m, &["group_name", "groupName"]))?;
    let name = text("name", take(&mut m, &["name"]))?;
    let unit = text("unit", take(&mut m, &["unit", "unit_name", "unitName"]))?;
    let flags = match take(&mut m, &["flags"]) {
        Some(v) => flag_spec("flags", &v, VALUE_FLAGS)?,
        None => 0,
    };
    let auth = match take(&mut m, &["auth", "auth_level", "authLevel"]) {
        Some(v) => auth_spec("auth", &v)?,
        None => 0,
    };
    let persist_key = match take(&mut m, &["persist_key", "persist"]) {
        Some(v) => uint("persist_key", &v, 0xFFFF)? as u16,
        None => 0,
    };
    let init = f16_field(&mut m, "init_raw", &["init", "init_value"], "init")?;
    let epsilon = f16_field(&mut m, "epsilon_raw", &["epsilon"], "epsilon")?;
    let min = f16_field(&mut m, "min_raw", &["min"], "min")?;
    let max = f16_field(&mut m, "max_raw", &["max"], "max")?;
    if let Some(v) = take(&mut m, &["rate_ms", "rateMs"]) {
        uint("rate_ms", &v, 0xFFFF_FFFF)?;
    }
    if let Some(v) = take(&mut m, &["reserved"]) {
        uint("reserved", &v, 0xFFFF)?;
    }
    Ok(ValueSpec {
        group,
        id,
        flags,
        auth,
        init,
        epsilon,
        min,
        max,
        persist_key,
        name,
        unit,
        group_name,
    })
}

/// Normalise one `.cmd` entry.
pub(crate) fn cmd_spec(mut m: Map<String, Value>) -> Result<CmdSpec, String> {
    let group = take(&mut m, &["group", "group_id", "groupId"])
        .ok_or("`.cmd` entry requires `group` (or `group_id`)")?;
    let group = uint("group", &group, 0xFF)? as u8;
    let id = take(&mut m, &["id", "cmd", "cmd_id", "command_id", "commandId"])
        .ok_or("`.cmd` entry requires `id` (or `cmd`/`cmd_id`)")?;
    let id = uint("id", &id, 0xFF)? as u8;
    let group_name = text("group_name", take(&mut m, &["group_name", "groupName"]))?;
    let name = text("name", take(&mut m, &["name"]))?;
    let help = text("help", take(&mut m, &["help"]))?;
    let flags = match take(&mut m, &["flags"]) {
        Some(v) => flag_spec("flags", &v, CMD_FLAGS)?,
        None => 0,
    };
    let auth = match take(&mut m, &["auth", "auth_level", "authLevel"]) {
        Some(v) => auth_spec("auth", &v)?,
        None => 0,
    };
    let mut handler = HandlerSpec::None;
    if let Some(v) = take(&mut m, &["handler_offset"]) {
        handler = HandlerSpec::Offset(uint("handler_offset", &v, 0xFFFF_FFFF)? as u32);
    }
    if let Some(v) = take(&mut m, &["handler"]) {
        handler = match v {
            Value::String(s) => {
                let s = s.trim();
                if s.is_empty() {
                    return Err("`handler` cannot be empty".into());
                }
                if let Some(n) = parse_int_str(s).filter(|_| s.as_bytes()[0].is_ascii_digit()) {
                    HandlerSpec::Offset(
                        u32::try_from(n)
                            .map_err(|_| format!("`handler` {s} does not fit in 32 bits"))?,
                    )
                } else if crate::lex::is_symbol_name(s) {
                    HandlerSpec::Symbol(s.to_string())
                } else {
                    return Err(format!(
                        "`handler` must be a .text label or an address, got \"{s}\""
                    ));
                }
            }
            other => HandlerSpec::Offset(uint("handler", &other, 0xFFFF_FFFF)? as u32),
        };
    }
    let reserved = match take(&mut m, &["reserved"]) {
        Some(v) => uint("reserved", &v, 0xFFFF)? as u16,
        None => 0,
    };
    Ok(CmdSpec {
        group,
        id,
        flags,
        auth,
        handler,
        name,
        help,
        group_name,
        reserved,
    })
}

/// Normalise one `.mailbox` entry.
pub(crate) fn mailbox_spec(mut m: Map<String, Value>) -> Result<MailboxSpec, String> {
    let pick = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    };
    let target = pick(m.get("target"))
        .or_else(|| pick(m.get("name")))
        .ok_or("`.mailbox` entry requires a non-empty string `target` (or `name`)")?;
    m.insert("target".into(), Value::String(target.clone()));
    Ok(MailboxSpec { target, raw: m })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn value_aliases_and_f16() {
        let v = value_spec(obj(json!({"group_id":"0x1","value":2,"flags":"ro|Persist",
            "auth":"admin","init":1.0,"max":2,"min_raw":5,"min":9.0,"unitName":"C"})))
        .unwrap();
        assert_eq!((v.group, v.id, v.flags, v.auth), (1, 2, 3, 2));
        assert_eq!((v.init, v.max, v.min, v.epsilon), (0x3C00, 0x4000, 5, 0));
        assert_eq!(v.unit.as_deref(), Some("C"));
        assert_eq!(f16_bits(70000.0), 0x7C00);
        assert_eq!(f16_bits(-1e9), 0xFC00);
        // Just above a tie, with the deciding bit in the low word of the binary64.
        assert_eq!(f16_bits(1.0 + 2f64.powi(-11) + 2f64.powi(-21)), 0x3C01);
        assert_eq!(f16_bits("-nan".parse().unwrap()), 0xFE00);
        assert_eq!(f16_bits("nan".parse().unwrap()), 0x7E00);
    }

    #[test]
    fn value_errors() {
        assert!(
            value_spec(obj(json!({"id":1})))
                .unwrap_err()
                .contains("group")
        );
        assert!(
            value_spec(obj(json!({"group":1,"id":256})))
                .unwrap_err()
                .contains("0..255")
        );
        assert!(
            value_spec(obj(json!({"group":1,"id":1,"flags":"RO|FOO"})))
                .unwrap_err()
                .contains("FOO")
        );
    }

    #[test]
    fn cmd_handler_forms() {
        let c = cmd_spec(obj(json!({"group":1,"cmd":3,"handler":"h"}))).unwrap();
        assert_eq!(c.handler, HandlerSpec::Symbol("h".into()));
        let c = cmd_spec(obj(json!({"group":1,"id":3,"handler":8}))).unwrap();
        assert_eq!(c.handler, HandlerSpec::Offset(8));
        let c = cmd_spec(obj(
            json!({"group":1,"id":3,"handler_offset":12,"flags":"PIN|ASYNC"}),
        ))
        .unwrap();
        assert_eq!((c.handler, c.flags), (HandlerSpec::Offset(12), 3));
    }

    #[test]
    fn mailbox_target_from_name() {
        let m = mailbox_spec(obj(json!({"name":" app:x ","capacity":4}))).unwrap();
        assert_eq!(m.target, "app:x");
        assert_eq!(m.raw.get("target"), Some(&json!("app:x")));
        assert!(mailbox_spec(obj(json!({"capacity":4}))).is_err());
    }
}
