//! JSON text exactly as Python's `json.dumps(..., sort_keys=True)` writes it.
//!
//! The HSX linker writes the mailbox payload with `separators=(",", ":")` and the `.sym`
//! file with `indent=2`; both use the default `ensure_ascii=True`. Byte-identical images and
//! symbol files therefore need Python's escaping (`\uXXXX`, lower-case hex, surrogate pairs),
//! its float spelling (`1.0`, `1e+16`) and code-point key order, none of which `serde_json`'s
//! own writer produces.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use serde_json::{Map, Number, Value};

/// Serialises `value` the way Python's `json.dumps` does with `sort_keys=True` and
/// `ensure_ascii=True`.
///
/// `indent = None` gives the compact form with separators `(",", ":")`; `Some(n)` gives the
/// pretty form with `n` spaces per level and separators `(",", ": ")`.
pub fn to_python_json(value: &Value, indent: Option<usize>) -> String {
    let mut out = String::new();
    write_value(&mut out, value, indent, 0);
    out
}

fn write_value(out: &mut String, value: &Value, indent: Option<usize>, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_value(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Object(map) => write_object(out, map, indent, depth),
    }
}

fn write_object(out: &mut String, map: &Map<String, Value>, indent: Option<usize>, depth: usize) {
    if map.is_empty() {
        out.push_str("{}");
        return;
    }
    // Sort explicitly: `Map` keeps insertion order if any crate in the build enables
    // serde_json's `preserve_order`. Rust's byte order on UTF-8 equals Python's code-point order.
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (i, (key, item)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        newline(out, indent, depth + 1);
        write_string(out, key);
        out.push(':');
        if indent.is_some() {
            out.push(' ');
        }
        write_value(out, item, indent, depth + 1);
    }
    newline(out, indent, depth);
    out.push('}');
}

fn newline(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(width) = indent {
        out.push('\n');
        for _ in 0..width.saturating_mul(depth) {
            out.push(' ');
        }
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(f) = n.as_f64() {
        write_float(out, f);
    }
}

/// Python `float.__repr__` (and `json.dumps` allows NaN/Infinity by default).
fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    // `{:e}` yields the shortest round-trip digits, the same digits Python's repr uses.
    let sci = alloc::format!("{:e}", f.abs());
    let (mantissa, exp) = match sci.split_once('e') {
        Some(parts) => parts,
        None => (sci.as_str(), "0"),
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Python places the decimal point after `decpt` digits: value = 0.DIGITS × 10^decpt.
    let decpt = exp + 1;
    if f.is_sign_negative() {
        out.push('-');
    }
    if decpt > -4 && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            for _ in 0..(-decpt) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let point = decpt as usize;
            if digits.len() <= point {
                out.push_str(&digits);
                for _ in digits.len()..point {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        let _ = write!(
            out,
            "e{}{:02}",
            if e < 0 { '-' } else { '+' },
            e.unsigned_abs()
        );
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn float(f: f64) -> String {
        let mut s = String::new();
        write_float(&mut s, f);
        s
    }

    #[test]
    fn floats_follow_python_repr() {
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(-0.0), "-0.0");
        assert_eq!(float(0.0), "0.0");
        assert_eq!(float(1.5), "1.5");
        assert_eq!(float(0.1), "0.1");
        assert_eq!(float(0.0001), "0.0001");
        assert_eq!(float(0.00001), "1e-05");
        assert_eq!(float(1e15), "1000000000000000.0");
        assert_eq!(float(1e16), "1e+16");
        assert_eq!(float(1.5e16), "1.5e+16");
        assert_eq!(float(123.456), "123.456");
        assert_eq!(float(-2.5e-7), "-2.5e-07");
        assert_eq!(float(1e300), "1e+300");
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn strings_are_ascii_escaped() {
        let v = json!("a\"b\\c\n\u{7f}é😀\u{1}");
        assert_eq!(
            to_python_json(&v, None),
            r#""a\"b\\c\n\u007f\u00e9\ud83d\ude00\u0001""#
        );
    }

    #[test]
    fn compact_and_indented_layouts() {
        let v = json!({"version": 1, "mailboxes": [{"target": "app:x", "capacity": 64}], "e": {}, "l": []});
        assert_eq!(
            to_python_json(&v, None),
            r#"{"e":{},"l":[],"mailboxes":[{"capacity":64,"target":"app:x"}],"version":1}"#
        );
        assert_eq!(
            to_python_json(&v, Some(2)),
            "{\n  \"e\": {},\n  \"l\": [],\n  \"mailboxes\": [\n    {\n      \"capacity\": 64,\n      \"target\": \"app:x\"\n    }\n  ],\n  \"version\": 1\n}"
        );
    }
}
