//! Request field helpers.
//!
//! Clients send numbers as JSON numbers, decimal strings (the shell sends `pid` and `addr`
//! as strings) and `0x` strings. Every numeric field accepts all of them: an integer, a
//! float with no fractional part, a decimal string with optional sign, or a `0x`/`0o`/`0b`
//! string. Booleans are not numbers here.
//!
//! A field whose value is `null` counts as absent, as in the reference.

use serde_json::{Map, Value};
use thiserror::Error;

/// A request object.
pub type Obj = Map<String, Value>;

/// Why a request field could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ArgError {
    /// The field is absent or null.
    #[error("{field} is required")]
    Missing {
        /// Field name.
        field: &'static str,
    },
    /// The value is not an integer in any accepted form.
    #[error("{field} must be an integer, got {value}")]
    NotInteger {
        /// Field name.
        field: &'static str,
        /// The offending value as JSON text.
        value: String,
    },
    /// The value is an integer outside the field's range.
    #[error("{field} out of range: {value}")]
    OutOfRange {
        /// Field name.
        field: &'static str,
        /// The offending value as JSON text.
        value: String,
    },
    /// The value is not a number in any accepted form.
    #[error("{field} must be a number, got {value}")]
    NotNumber {
        /// Field name.
        field: &'static str,
        /// The offending value as JSON text.
        value: String,
    },
    /// The value has the wrong JSON type.
    #[error("{field} must be {expected}")]
    WrongType {
        /// Field name.
        field: &'static str,
        /// What was expected, e.g. "a string".
        expected: &'static str,
    },
}

/// Parses an integer from a JSON value in any accepted form. `None` when it is not one.
pub fn parse_int(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Some(i128::from(u))
            } else {
                let f = n.as_f64()?;
                // Only integral floats: 1.0 is a fine pid, 1.5 is not.
                (f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30).then_some(f as i128)
            }
        }
        Value::String(s) => parse_int_str(s),
        _ => None,
    }
}

/// Parses `"42"`, `"-7"`, `"+3"`, `"0x1F"`, `"0o17"`, `"0b101"` (surrounding blanks allowed).
pub fn parse_int_str(s: &str) -> Option<i128> {
    let t = s.trim();
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, t.get(1..)?),
        b'+' => (false, t.get(1..)?),
        _ => (false, t),
    };
    let lower = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, body.get(2..)?),
        Some("0o") => (8, body.get(2..)?),
        Some("0b") => (2, body.get(2..)?),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = i128::from_str_radix(digits, radix).ok()?;
    Some(if neg { -mag } else { mag })
}

/// Parses a float from a number or a numeric string.
pub fn parse_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<f64>()
                .ok()
                .or_else(|| parse_int_str(t).map(|i| i as f64))
        }
        _ => None,
    }
}

/// The value of `key`, treating `null` as absent.
pub fn field<'a>(obj: &'a Obj, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// The first of `keys` that is present and not null.
pub fn first_field<'a>(obj: &'a Obj, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| field(obj, k))
}

/// Converts one value to an integer type, with typed errors naming `field`.
pub fn int_as<T: TryFrom<i128>>(field: &'static str, v: &Value) -> Result<T, ArgError> {
    let i = parse_int(v).ok_or_else(|| ArgError::NotInteger {
        field,
        value: v.to_string(),
    })?;
    T::try_from(i).map_err(|_| ArgError::OutOfRange {
        field,
        value: v.to_string(),
    })
}

/// A required integer field.
pub fn get_int<T: TryFrom<i128>>(obj: &Obj, key: &'static str) -> Result<T, ArgError> {
    let v = field(obj, key).ok_or(ArgError::Missing { field: key })?;
    int_as(key, v)
}

/// An optional integer field (`None` when absent or null).
pub fn opt_int<T: TryFrom<i128>>(obj: &Obj, key: &'static str) -> Result<Option<T>, ArgError> {
    field(obj, key).map(|v| int_as(key, v)).transpose()
}

/// A required `u32` field (pids, addresses).
pub fn get_u32(obj: &Obj, key: &'static str) -> Result<u32, ArgError> {
    get_int(obj, key)
}

/// An optional `u32` field.
pub fn opt_u32(obj: &Obj, key: &'static str) -> Result<Option<u32>, ArgError> {
    opt_int(obj, key)
}

/// A required `i64` field.
pub fn get_i64(obj: &Obj, key: &'static str) -> Result<i64, ArgError> {
    get_int(obj, key)
}

/// An optional `i64` field.
pub fn opt_i64(obj: &Obj, key: &'static str) -> Result<Option<i64>, ArgError> {
    opt_int(obj, key)
}

/// An optional `u64` field.
pub fn opt_u64(obj: &Obj, key: &'static str) -> Result<Option<u64>, ArgError> {
    opt_int(obj, key)
}

/// An optional float field (number or numeric string).
pub fn opt_f64(obj: &Obj, key: &'static str) -> Result<Option<f64>, ArgError> {
    field(obj, key)
        .map(|v| {
            parse_f64(v).ok_or_else(|| ArgError::NotNumber {
                field: key,
                value: v.to_string(),
            })
        })
        .transpose()
}

/// An optional string field; any other JSON type is an error.
pub fn opt_str<'a>(obj: &'a Obj, key: &'static str) -> Result<Option<&'a str>, ArgError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ArgError::WrongType {
            field: key,
            expected: "a string",
        }),
    }
}

/// A required string field.
pub fn get_str<'a>(obj: &'a Obj, key: &'static str) -> Result<&'a str, ArgError> {
    opt_str(obj, key)?.ok_or(ArgError::Missing { field: key })
}

/// Truthiness as the reference evaluates flags such as `verbose` and `source_only`:
/// false, 0, "", [], {} and null are false; everything else is true.
pub fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// An on/off switch: a bool, 1/0, or one of `on`/`true`/`1` and `off`/`false`/`0`.
pub fn parse_on_off(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => Some(true),
            "off" | "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The reference's `str(value)` for a few messages: strings bare, anything else as JSON.
pub fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The reference's `repr(value)` in a few messages: strings in single quotes, anything
/// else as JSON.
pub fn py_repr(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

/// The lower-cased `op` of a request (`op`, else the older `action`), `""` when absent.
pub fn op_of(obj: &Obj) -> String {
    first_field(obj, &["op", "action"])
        .map(|v| display_value(v).trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// An integer wrapped into 32 bits, as the reference masks values into a field's width.
pub(crate) fn u32_of(v: i128) -> u32 {
    (v & 0xFFFF_FFFF) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Obj {
        match v {
            Value::Object(m) => m,
            _ => Obj::new(),
        }
    }

    #[test]
    fn accepts_every_number_form() {
        let o = obj(
            json!({"a": 16, "b": "16", "c": "0x10", "d": 16.0, "e": " 0X10 ", "f": "0b10000", "g": "0o20", "h": "+16"}),
        );
        for key in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            assert_eq!(get_u32(&o, key), Ok(16), "field {key}");
        }
    }

    #[test]
    fn rejects_bad_numbers_with_typed_errors() {
        let o = obj(
            json!({"x": "abc", "y": 1.5, "z": true, "n": -1, "big": 4294967296u64, "nul": null}),
        );
        assert!(matches!(
            get_u32(&o, "x"),
            Err(ArgError::NotInteger { field: "x", .. })
        ));
        assert!(matches!(get_u32(&o, "y"), Err(ArgError::NotInteger { .. })));
        assert!(matches!(get_u32(&o, "z"), Err(ArgError::NotInteger { .. })));
        assert!(matches!(get_u32(&o, "n"), Err(ArgError::OutOfRange { .. })));
        assert!(matches!(
            get_u32(&o, "big"),
            Err(ArgError::OutOfRange { .. })
        ));
        assert_eq!(get_u32(&o, "nul"), Err(ArgError::Missing { field: "nul" }));
        assert_eq!(opt_u32(&o, "nul"), Ok(None));
        assert_eq!(opt_u32(&o, "absent"), Ok(None));
        assert_eq!(get_i64(&o, "n"), Ok(-1));
        assert_eq!(
            get_u32(&o, "x").map_err(|e| e.to_string()),
            Err("x must be an integer, got \"abc\"".to_string())
        );
    }

    #[test]
    fn int_str_edge_cases() {
        assert_eq!(parse_int_str("-0x10"), Some(-16));
        assert_eq!(parse_int_str("0x"), None);
        assert_eq!(parse_int_str(""), None);
        assert_eq!(parse_int_str("-"), None);
        assert_eq!(parse_int_str("1e3"), None);
        assert_eq!(parse_int_str("0xFFFFFFFF"), Some(0xFFFF_FFFF));
        assert_eq!(parse_int_str("é"), None);
        assert_eq!(
            parse_int_str("99999999999999999999999999999999999999999"),
            None
        );
    }

    #[test]
    fn floats_and_flags() {
        let o = obj(json!({"r": "2.5", "s": 3, "t": "x"}));
        assert_eq!(opt_f64(&o, "r"), Ok(Some(2.5)));
        assert_eq!(opt_f64(&o, "s"), Ok(Some(3.0)));
        assert!(opt_f64(&o, "t").is_err());
        assert!(truthy(Some(&json!("yes"))));
        assert!(!truthy(Some(&json!(0))));
        assert!(!truthy(None));
        assert_eq!(parse_on_off(&json!("ON")), Some(true));
        assert_eq!(parse_on_off(&json!(0)), Some(false));
        assert_eq!(parse_on_off(&json!("maybe")), None);
    }

    #[test]
    fn strings_and_ops() {
        let o = obj(json!({"s": "x", "n": 1, "action": "ADD"}));
        assert_eq!(get_str(&o, "s"), Ok("x"));
        assert!(matches!(get_str(&o, "n"), Err(ArgError::WrongType { .. })));
        assert_eq!(op_of(&o), "add");
        assert_eq!(op_of(&Obj::new()), "");
    }
}
