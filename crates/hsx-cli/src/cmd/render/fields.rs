//! Lenient readers of reply fields and the little formats every rendering shares
//! (`-` for a missing field, hex addresses, PSW letters). The table and colour helpers
//! themselves live in `crate::output`; this file is what the renderings of each command
//! family have in common on top of them.

use serde_json::Value;

use crate::output::Table;

/// `v[key]` as u64 (also accepts integral floats and numeric strings).
pub fn num(v: &Value, key: &str) -> Option<u64> {
    as_u64(v.get(key)?)
}

/// A JSON value as u64 when it is a non-negative integer in any usual form.
pub fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19)
                .map(|f| f as u64)
        }),
        Value::String(s) => crate::cmd::remote::parse_num(s).ok(),
        _ => None,
    }
}

/// `v[key]` as text: strings bare, numbers and bools as JSON, null/missing as `None`.
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

pub(super) fn dash(o: Option<String>) -> String {
    o.unwrap_or_else(|| "-".into())
}

/// `0x%04X` for 16-bit addresses, wider when needed.
pub fn hex_addr(a: u64) -> String {
    if a <= 0xFFFF {
        format!("0x{a:04X}")
    } else {
        format!("0x{a:08X}")
    }
}

pub(super) fn hex_opt(v: &Value, key: &str) -> String {
    num(v, key).map(hex_addr).unwrap_or_else(|| "-".into())
}

/// `0x%02X` of a byte-sized field (flags, mode masks), `-` when absent.
pub(super) fn hex2_opt(v: &Value, key: &str) -> String {
    num(v, key)
        .map(|b| format!("0x{b:02X}"))
        .unwrap_or_else(|| "-".into())
}

/// The table without colour, or `empty` when it has no rows.
pub(super) fn plain_or(t: &Table, empty: &str) -> String {
    if t.is_empty() {
        empty.to_string()
    } else {
        t.render(false)
    }
}

pub(super) fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// PSW flags as letters, e.g. `Z-N-` (vm.md §1.2: Z, C, N, V in bits 0..3).
pub fn psw_flags(psw: u64) -> String {
    ["Z", "C", "N", "V"]
        .iter()
        .enumerate()
        .map(|(i, f)| if psw & (1 << i) != 0 { *f } else { "-" })
        .collect()
}

/// Decodes a hex string (whitespace allowed between byte pairs) with the daemon's own
/// decoder, so the CLI accepts exactly what hsxd does. `None` when it is not hex.
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    hsxd::hex::from_hex(s).ok()
}

/// `path` relative to the working directory when it lies under it (source notes and
/// program paths stay short; a daemon on another machine gives paths that stay whole).
pub fn relative_path(path: &str) -> String {
    let p = std::path::Path::new(path);
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(|r| r.display().to_string()))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| path.to_string())
}
