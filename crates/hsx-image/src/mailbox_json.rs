//! JSON mailbox metadata (feature `json`): the linker's `{"mailboxes":[...],"version":1}`
//! payload, decoded and written with the reference's Python semantics.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::consts::{MBX_MODE_RDWR, mailbox_mode_by_name};
use crate::error::LoadError;
use crate::mailbox::{MailboxBinding, MailboxEntry, py_strip};
use crate::pyjson::to_python_json;

pub(crate) fn parse_json(bytes: &[u8]) -> Result<Vec<MailboxEntry>, LoadError> {
    let text = core::str::from_utf8(bytes).map_err(|_| LoadError::MailboxJsonNotUtf8)?;
    let text = py_strip(text);
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let payload: Value = serde_json::from_str(text).map_err(|_| LoadError::MailboxJsonInvalid)?;
    let entries = match payload {
        Value::Object(mut obj) => {
            let version_ok = match obj.get("version") {
                None | Some(Value::Null) => true,
                Some(v) => py_equals_one(v),
            };
            if !version_ok {
                return Err(LoadError::MailboxJsonVersion);
            }
            // The reference takes the first *truthy* of `mailboxes`, `entries`, `[]`.
            let pick = |obj: &mut Map<String, Value>, key: &str| {
                obj.get(key)
                    .filter(|v| py_truthy(v))
                    .is_some()
                    .then(|| obj.remove(key))
            };
            match pick(&mut obj, "mailboxes").or_else(|| pick(&mut obj, "entries")) {
                Some(Some(v)) => v,
                _ => Value::Array(Vec::new()),
            }
        }
        other => other,
    };
    let Value::Array(items) = entries else {
        return Err(LoadError::MailboxEntriesNotList);
    };
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let Value::Object(obj) = item else {
            return Err(LoadError::MailboxEntryNotObject { index });
        };
        out.push(entry_from_object(index, obj)?);
    }
    Ok(out)
}

fn entry_from_object(index: usize, obj: Map<String, Value>) -> Result<MailboxEntry, LoadError> {
    let target_val = obj
        .get("target")
        .filter(|v| py_truthy(v))
        .or_else(|| obj.get("name"));
    let target = match target_val {
        Some(Value::String(s)) if !py_strip(s).is_empty() => py_strip(s).to_string(),
        _ => return Err(LoadError::MailboxEntryMissingTarget { index }),
    };
    // Key presence (not truthiness) selects the alias here, as in the reference.
    let capacity = normalise_capacity(first_present(&obj, &["capacity", "queue_depth"]))?;
    let mode_mask = normalise_mode(first_present(&obj, &["mode_mask", "mode", "flags"]))?;
    let owner_pid = match obj.get("owner_pid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => {
            let pid = py_int(v).ok_or(LoadError::MailboxOwnerNotInteger { index })?;
            Some(u32::try_from(pid).map_err(|_| LoadError::MailboxOwnerOutOfRange { index })?)
        }
    };
    let bindings = normalise_bindings(obj.get("bindings"))?;
    Ok(MailboxEntry {
        target,
        capacity,
        mode_mask,
        owner_pid,
        bindings,
        raw: Some(obj),
    })
}

fn first_present<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| obj.get(*k))
}

fn normalise_capacity(value: Option<&Value>) -> Result<u32, LoadError> {
    let Some(v) = value else { return Ok(0) };
    if py_is_none_empty_zero(v) {
        return Ok(0);
    }
    let n = py_int(v).ok_or(LoadError::MailboxCapacityNotInteger)?;
    if n < 0 {
        return Err(LoadError::MailboxCapacityNegative);
    }
    u32::try_from(n).map_err(|_| LoadError::MailboxCapacityOutOfRange)
}

fn normalise_mode(value: Option<&Value>) -> Result<u16, LoadError> {
    let Some(v) = value else {
        return Ok(MBX_MODE_RDWR);
    };
    if py_is_none_empty_zero(v) {
        return Ok(MBX_MODE_RDWR);
    }
    if let Value::String(s) = v {
        let mut mask: u32 = 0;
        for token in s.split(['|', ',']) {
            let name = py_strip(token).to_uppercase();
            if name.is_empty() {
                continue;
            }
            match mailbox_mode_by_name(&name) {
                Some(bits) => mask |= u32::from(bits),
                None => {
                    return Err(LoadError::UnknownMailboxMode {
                        token: token.to_string(),
                    });
                }
            }
        }
        return Ok(if mask == 0 {
            MBX_MODE_RDWR
        } else {
            (mask & 0xFFFF) as u16
        });
    }
    let n = py_int(v).ok_or(LoadError::MailboxModeNotInteger)?;
    if n < 0 {
        return Err(LoadError::MailboxModeNegative);
    }
    Ok((n & 0xFFFF) as u16)
}

fn normalise_bindings(value: Option<&Value>) -> Result<Vec<MailboxBinding>, LoadError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(LoadError::MailboxBindingsNotList),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(obj) = item else {
            return Err(LoadError::MailboxBindingNotObject);
        };
        let pid_val = obj.get("pid").ok_or(LoadError::MailboxBindingMissingPid)?;
        let pid = py_int(pid_val).ok_or(LoadError::MailboxBindingPidNotInteger)?;
        let pid = u32::try_from(pid).map_err(|_| LoadError::MailboxBindingPidOutOfRange)?;
        let flags = match obj.get("flags") {
            None => 0,
            Some(v) => py_int(v).ok_or(LoadError::MailboxBindingFlagsNotInteger)?,
        };
        out.push(MailboxBinding {
            pid,
            flags: (flags & 0xFFFF) as u32,
        });
    }
    Ok(out)
}

/// Python truthiness of a JSON value.
fn py_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's `value in (None, "", 0)` (note `False == 0` and `0.0 == 0`).
fn py_is_none_empty_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !*b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f == 0.0),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn py_equals_one(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() == Some(1.0),
        _ => false,
    }
}

/// Python's `int(value)` for JSON values: integers, booleans, floats (truncated) and
/// decimal strings (surrounding whitespace, sign and digit-separating underscores allowed).
pub(crate) fn py_int(v: &Value) -> Option<i128> {
    match v {
        Value::Bool(b) => Some(i128::from(*b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Some(i128::from(u))
            } else {
                let f = n.as_f64()?;
                // `as` truncates toward zero, like Python's int(float).
                f.is_finite().then_some(f as i128)
            }
        }
        Value::String(s) => parse_py_int_str(s),
        _ => None,
    }
}

fn parse_py_int_str(s: &str) -> Option<i128> {
    let s = py_strip(s);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut n: i128 = 0;
    for c in digits.chars().filter(|c| *c != '_') {
        let d = c.to_digit(10)?;
        n = n.checked_mul(10)?.checked_add(i128::from(d))?;
    }
    Some(if neg { -n } else { n })
}

/// The JSON object written for one mailbox: its source object if it has one, otherwise one
/// built from the typed fields.
fn entry_object(entry: &MailboxEntry) -> Value {
    if let Some(raw) = &entry.raw {
        return Value::Object(raw.clone());
    }
    let mut obj = Map::new();
    obj.insert("target".into(), Value::from(entry.target.clone()));
    if entry.capacity != 0 {
        obj.insert("capacity".into(), Value::from(entry.capacity));
    }
    obj.insert("mode_mask".into(), Value::from(entry.mode_mask));
    if let Some(pid) = entry.owner_pid {
        obj.insert("owner_pid".into(), Value::from(pid));
    }
    if !entry.bindings.is_empty() {
        let list = entry
            .bindings
            .iter()
            .map(|b| {
                let mut m = Map::new();
                m.insert("pid".into(), Value::from(b.pid));
                m.insert("flags".into(), Value::from(b.flags));
                Value::Object(m)
            })
            .collect();
        obj.insert("bindings".into(), Value::Array(list));
    }
    Value::Object(obj)
}

/// The linker's mailbox payload: compact, key-sorted `{"mailboxes":[...],"version":1}`.
pub(crate) fn encode_mailbox_section(entries: &[MailboxEntry]) -> Vec<u8> {
    let mut root = Map::new();
    root.insert(
        "mailboxes".into(),
        Value::Array(entries.iter().map(entry_object).collect()),
    );
    root.insert("version".into(), Value::from(1u8));
    to_python_json(&Value::Object(root), None).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_strings() {
        assert_eq!(parse_py_int_str(" 64 "), Some(64));
        assert_eq!(parse_py_int_str("-1_000"), Some(-1000));
        assert_eq!(parse_py_int_str("+7"), Some(7));
        assert_eq!(parse_py_int_str("0x40"), None);
        assert_eq!(parse_py_int_str("1__0"), None);
        assert_eq!(parse_py_int_str("_1"), None);
        assert_eq!(parse_py_int_str(""), None);
        assert_eq!(parse_py_int_str("-"), None);
    }

    #[test]
    fn python_int_values() {
        assert_eq!(py_int(&Value::from(true)), Some(1));
        assert_eq!(py_int(&Value::from(64.9)), Some(64));
        assert_eq!(py_int(&Value::from(-2.5)), Some(-2));
        assert_eq!(py_int(&Value::Null), None);
        assert_eq!(py_int(&Value::Array(Vec::new())), None);
    }
}
