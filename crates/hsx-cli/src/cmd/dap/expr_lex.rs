//! The lexical and arithmetic half of `evaluate` (see `expr.rs`): tokens, C base type
//! names for casts, and the operators on numbers.

use super::session::{DapError, DapResult};

/// A number result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    /// As an integer (floats truncate).
    pub(super) fn as_i64(self) -> i64 {
        match self {
            Num::Int(i) => i,
            Num::Float(f) => f as i64,
        }
    }

    /// As a float.
    pub(super) fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Num(Num),
    Ident(String),
    Op(&'static str),
}

pub(super) const OPS: [&str; 25] = [
    "->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+", "-", "*", "/", "%", "&", "|", "^",
    "~", "!", "(", ")", "[", "]", ".", "=",
];

fn lex(s: &str) -> DapResult<Vec<Tok>> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            let t = &s[st..i];
            let n = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                i64::from_str_radix(h, 16).map(Num::Int).ok()
            } else if let Some(bn) = t.strip_prefix("0b") {
                i64::from_str_radix(bn, 2).map(Num::Int).ok()
            } else if t.contains('.') || t.contains('e') {
                t.trim_end_matches('f').parse::<f64>().map(Num::Float).ok()
            } else {
                t.trim_end_matches(['u', 'U', 'l', 'L'])
                    .parse::<i64>()
                    .map(Num::Int)
                    .ok()
            };
            out.push(Tok::Num(
                n.ok_or_else(|| DapError(format!("bad number '{t}'")))?,
            ));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(s[st..i].to_string()));
        } else {
            let op = OPS
                .iter()
                .find(|o| s[i..].starts_with(**o))
                .ok_or_else(|| DapError(format!("unexpected '{}'", char::from(c))))?;
            out.push(Tok::Op(op));
            i += op.len();
        }
    }
    Ok(out)
}

/// C base type names a cast may use, with size and signedness.
pub(super) fn base_type(words: &[String]) -> Option<(&'static str, u32, bool)> {
    let w = words.join(" ");
    Some(match w.as_str() {
        "char" | "signed char" | "int8_t" => ("char", 1, true),
        "unsigned char" | "uint8_t" => ("unsigned char", 1, false),
        "short" | "int16_t" | "short int" => ("short", 2, true),
        "unsigned short" | "uint16_t" => ("unsigned short", 2, false),
        "int" | "long" | "int32_t" | "signed" | "long int" => ("int", 4, true),
        "unsigned" | "unsigned int" | "unsigned long" | "uint32_t" | "size_t" => {
            ("unsigned int", 4, false)
        }
        "long long" | "int64_t" => ("long long", 8, true),
        "unsigned long long" | "uint64_t" => ("unsigned long long", 8, false),
        "float" => ("float", 4, true),
        "double" => ("double", 8, true),
        _ => return None,
    })
}

pub(super) fn op_static(op: &str) -> &'static str {
    OPS.iter().find(|o| **o == op).copied().unwrap_or(match op {
        "<" => "<",
        ">" => ">",
        _ => "",
    })
}

pub(super) fn apply(op: &str, a: Num, b: Num) -> DapResult<Num> {
    if let (Num::Int(x), Num::Int(y)) = (a, b) {
        return Ok(Num::Int(match op {
            "+" => x.wrapping_add(y),
            "-" => x.wrapping_sub(y),
            "*" => x.wrapping_mul(y),
            "/" => x.checked_div(y).ok_or("division by zero")?,
            "%" => x.checked_rem(y).ok_or("division by zero")?,
            "<<" => x.wrapping_shl(y as u32),
            ">>" => x.wrapping_shr(y as u32),
            "&" => x & y,
            "|" => x | y,
            "^" => x ^ y,
            "==" => i64::from(x == y),
            "!=" => i64::from(x != y),
            "<" => i64::from(x < y),
            ">" => i64::from(x > y),
            "<=" => i64::from(x <= y),
            ">=" => i64::from(x >= y),
            "&&" => i64::from(x != 0 && y != 0),
            "||" => i64::from(x != 0 || y != 0),
            _ => return Err(DapError(format!("unknown operator '{op}'"))),
        }));
    }
    let (x, y) = (a.as_f64(), b.as_f64());
    Ok(match op {
        "+" => Num::Float(x + y),
        "-" => Num::Float(x - y),
        "*" => Num::Float(x * y),
        "/" => Num::Float(x / y),
        "==" => Num::Int(i64::from(x == y)),
        "!=" => Num::Int(i64::from(x != y)),
        "<" => Num::Int(i64::from(x < y)),
        ">" => Num::Int(i64::from(x > y)),
        "<=" => Num::Int(i64::from(x <= y)),
        ">=" => Num::Int(i64::from(x >= y)),
        _ => return Err(DapError(format!("'{op}' needs integers"))),
    })
}

/// Splits `<`/`>` out of the lexer's table (they would shadow `<<`/`<=`).
pub(super) fn lex_all(s: &str) -> DapResult<Vec<Tok>> {
    let mut out = Vec::new();
    // The lexer knows two-character operators; single `<`/`>` are handled here.
    for part in s.split_inclusive(['<', '>']) {
        let (body, last) = match part.chars().last() {
            Some(c @ ('<' | '>')) => (&part[..part.len() - 1], Some(c)),
            _ => (part, None),
        };
        out.extend(lex(body)?);
        if let Some(c) = last {
            out.push(Tok::Op(if c == '<' { "<" } else { ">" }));
        }
    }
    // Rejoin `<` `<` into `<<` and `<` `=`… the simple way: merge adjacent pairs.
    let mut merged: Vec<Tok> = Vec::new();
    for t in out {
        let pair = match (merged.last(), &t) {
            (Some(Tok::Op("<")), Tok::Op("<")) => Some("<<"),
            (Some(Tok::Op(">")), Tok::Op(">")) => Some(">>"),
            (Some(Tok::Op("<")), Tok::Op("=")) => Some("<="),
            (Some(Tok::Op(">")), Tok::Op("=")) => Some(">="),
            (Some(Tok::Op("-")), Tok::Op(">")) => Some("->"),
            _ => None,
        };
        match pair {
            Some(p) => {
                merged.pop();
                merged.push(Tok::Op(p));
            }
            None => merged.push(t),
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexing_numbers_operators_and_names() {
        let t = lex_all("a->b[0x10] << 2 <= -3.5").unwrap_or_default();
        assert_eq!(
            t,
            vec![
                Tok::Ident("a".into()),
                Tok::Op("->"),
                Tok::Ident("b".into()),
                Tok::Op("["),
                Tok::Num(Num::Int(16)),
                Tok::Op("]"),
                Tok::Op("<<"),
                Tok::Num(Num::Int(2)),
                Tok::Op("<="),
                Tok::Op("-"),
                Tok::Num(Num::Float(3.5)),
            ]
        );
        assert!(lex_all("a $ b").is_err());
        assert!(lex_all("0xZZ").is_err());
    }

    #[test]
    fn integer_and_float_arithmetic() {
        assert_eq!(apply("+", Num::Int(2), Num::Int(3)).ok(), Some(Num::Int(5)));
        assert!(apply("/", Num::Int(1), Num::Int(0)).is_err());
        assert_eq!(
            apply("*", Num::Int(2), Num::Float(1.5)).ok(),
            Some(Num::Float(3.0))
        );
        assert_eq!(apply("<", Num::Int(2), Num::Int(3)).ok(), Some(Num::Int(1)));
        assert!(apply("&", Num::Float(1.0), Num::Int(1)).is_err());
        assert_eq!(
            apply("<<", Num::Int(1), Num::Int(70)).ok(),
            Some(Num::Int(1i64.wrapping_shl(70)))
        );
    }

    #[test]
    fn casts_name_base_types() {
        let w = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            base_type(&w("unsigned char")),
            Some(("unsigned char", 1, false))
        );
        assert_eq!(base_type(&w("int")), Some(("int", 4, true)));
        assert_eq!(base_type(&w("struct x")), None);
    }
}
