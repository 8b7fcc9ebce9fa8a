//! Hex text of byte strings, as `peek`/`poke`, `listen`, `send` and watch records carry
//! them. Decoding accepts what Python's `bytes.fromhex` accepts, with its error text,
//! because the reference clients send that form.

use crate::error::ProtoError;

/// Decodes hex as Python's `bytes.fromhex`: pairs of hex digits, whitespace allowed
/// between pairs.
pub fn from_hex(s: &str) -> Result<Vec<u8>, ProtoError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 2);
    let mut i = 0;
    let bad = |pos: usize| {
        ProtoError::msg(format!(
            "non-hexadecimal number found in fromhex() arg at position {pos}"
        ))
    };
    while i < bytes.len() {
        let Some(&c) = bytes.get(i) else { break };
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let hi = (c as char).to_digit(16).ok_or_else(|| bad(i))?;
        let lo = bytes
            .get(i + 1)
            .and_then(|c| (*c as char).to_digit(16))
            .ok_or_else(|| bad(i + 1))?;
        out.push((hi * 16 + lo) as u8);
        i += 2;
    }
    Ok(out)
}

/// Lower-case hex of `data`.
pub fn to_hex(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        assert_eq!(from_hex("00 ff\t1A"), Ok(vec![0, 0xff, 0x1a]));
        assert_eq!(to_hex(&[0, 0xff, 0x1a]), "00ff1a");
        assert_eq!(
            from_hex("0g").map_err(|e| e.to_string()),
            Err("non-hexadecimal number found in fromhex() arg at position 1".into())
        );
        assert!(from_hex("abc").is_err());
        assert!(from_hex("é").is_err());
        assert_eq!(from_hex(""), Ok(vec![]));
    }
}
