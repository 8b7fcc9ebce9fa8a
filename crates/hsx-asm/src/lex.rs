//! Line lexer for MVASM.
//!
//! Works on one source line at a time. Unlike the reference assembler it understands string
//! and character literals, so `;` inside quotes does not start a comment and escapes decode
//! to exactly one byte each.

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokKind {
    /// `[A-Za-z_.][A-Za-z0-9_.$]*`
    Ident,
    /// An integer literal (decimal, `0x`, `0b`, optionally signed) or a one-byte character
    /// literal such as `'A'` or `'\n'`.
    Int(i64),
    /// A string literal (`"…"`, or `'…'` of a length other than one byte), decoded.
    Str(Vec<u8>),
    /// Punctuation: one of `, [ ] ( ) + - : = { }`.
    Punct(char),
}

/// A token with its byte span in the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokKind,
    pub start: usize,
    pub end: usize,
}

/// A lexing problem at a byte span of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub start: usize,
    pub end: usize,
    pub message: String,
}

fn err(start: usize, end: usize, message: impl Into<String>) -> LexError {
    LexError {
        start,
        end: end.max(start + 1),
        message: message.into(),
    }
}

/// Byte offset where the comment starts (or the line length): the first `;` outside a
/// string or character literal.
pub(crate) fn code_end(line: &str) -> usize {
    let b = line.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if c == b';' {
                    return i;
                }
                if c == b'"' || c == b'\'' {
                    quote = Some(c);
                }
            }
        }
        i += 1;
    }
    b.len()
}

pub(crate) fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'.'
}

pub(crate) fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'$'
}

/// Whether `s` is a valid symbol name.
pub(crate) fn is_symbol_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty() && is_ident_start(b[0]) && b[1..].iter().all(|&c| is_ident_char(c))
}

/// Whether `s` has the shape of a register name (`R`/`r` and digits), in range or not: such
/// a word is never usable as a symbol.
pub(crate) fn is_register_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && (b[0] == b'R' || b[0] == b'r') && b[1..].iter().all(u8::is_ascii_digit)
}

/// A cursor over one line's code part (comment already cut off).
pub(crate) struct Lexer<'a> {
    pub line: &'a str,
    pub pos: usize,
    end: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(line: &'a str) -> Self {
        let end = code_end(line);
        Lexer { line, pos: 0, end }
    }

    /// Byte offset of the end of the code part of the line.
    pub fn end(&self) -> usize {
        self.end
    }

    fn skip_ws(&mut self) {
        let b = self.line.as_bytes();
        while self.pos < self.end && b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    /// The unlexed remainder of the line's code part, starting at the next non-blank.
    pub fn rest(&mut self) -> (usize, &'a str) {
        self.skip_ws();
        (self.pos, &self.line[self.pos..self.end])
    }

    /// Skip the rest of the code part.
    pub fn consume_rest(&mut self) {
        self.pos = self.end;
    }

    /// Look at the next token without consuming it.
    pub fn peek(&mut self) -> Result<Option<Token>, LexError> {
        let save = self.pos;
        let t = self.next_token();
        self.pos = save;
        t
    }

    /// The next token, or `None` at the end of the code part.
    pub fn next_token(&mut self) -> Result<Option<Token>, LexError> {
        self.skip_ws();
        let b = self.line.as_bytes();
        if self.pos >= self.end {
            return Ok(None);
        }
        let start = self.pos;
        let c = b[start];
        let signed_number = (c == b'-' || c == b'+')
            && start + 1 < self.end
            && b[start + 1].is_ascii_digit()
            // `[R2+4]` and `R2-4` keep the operator as punctuation only when it follows
            // a register or symbol; a sign directly after `[`, `,` or a blank is a literal.
            && !self.prev_is_operand(start);
        if c.is_ascii_digit() || signed_number {
            return self.number(start).map(Some);
        }
        if is_ident_start(c) {
            let mut i = start + 1;
            while i < self.end && is_ident_char(b[i]) {
                i += 1;
            }
            self.pos = i;
            return Ok(Some(Token {
                kind: TokKind::Ident,
                start,
                end: i,
            }));
        }
        if c == b'"' || c == b'\'' {
            return self.quoted(start, c).map(Some);
        }
        if b",[]()+-:={}".contains(&c) {
            self.pos = start + 1;
            return Ok(Some(Token {
                kind: TokKind::Punct(c as char),
                start,
                end: start + 1,
            }));
        }
        let ch = self.line[start..].chars().next().unwrap_or('?');
        Err(err(
            start,
            start + ch.len_utf8(),
            format!("unexpected character `{ch}`"),
        ))
    }

    fn prev_is_operand(&self, start: usize) -> bool {
        start > 0 && is_ident_char(self.line.as_bytes()[start - 1])
    }

    fn number(&mut self, start: usize) -> Result<Token, LexError> {
        let b = self.line.as_bytes();
        let mut i = start;
        let neg = b[i] == b'-';
        if b[i] == b'-' || b[i] == b'+' {
            i += 1;
        }
        let digits_start = i;
        while i < self.end && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        self.pos = i;
        let text = &self.line[digits_start..i];
        // `from_str_radix` takes either letter case, so only the prefix needs folding.
        let (radix, body) = match text.as_bytes() {
            [b'0', b'x' | b'X', ..] => (16, &text[2..]),
            [b'0', b'b' | b'B', ..] => (2, &text[2..]),
            _ => (10, text),
        };
        let whole = &self.line[start..i];
        let mag = if body.is_empty() {
            None
        } else {
            u64::from_str_radix(body, radix).ok()
        };
        let Some(mag) = mag else {
            if !body.is_empty() && body.chars().all(|c| c.is_digit(radix)) {
                return Err(err(start, i, format!("number `{whole}` is too large")));
            }
            return Err(err(
                start,
                i,
                format!("invalid number `{whole}` (expected decimal, 0x hex, 0b binary or 'c')"),
            ));
        };
        let value = if neg {
            if mag > 1u64 << 63 {
                None
            } else {
                Some((mag as i128).wrapping_neg() as i64)
            }
        } else {
            i64::try_from(mag).ok()
        };
        match value {
            Some(v) => Ok(Token {
                kind: TokKind::Int(v),
                start,
                end: i,
            }),
            None => Err(err(start, i, format!("number `{whole}` is too large"))),
        }
    }

    fn quoted(&mut self, start: usize, q: u8) -> Result<Token, LexError> {
        let (bytes, end) = decode_quoted(self.line, start, self.end, q)?;
        self.pos = end;
        let kind = if q == b'\'' && bytes.len() == 1 {
            TokKind::Int(i64::from(bytes[0]))
        } else {
            TokKind::Str(bytes)
        };
        Ok(Token { kind, start, end })
    }
}

/// Decode a quoted literal starting at `start` (the opening quote). Returns the decoded
/// bytes and the offset just past the closing quote.
pub(crate) fn decode_quoted(
    line: &str,
    start: usize,
    end: usize,
    q: u8,
) -> Result<(Vec<u8>, usize), LexError> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = start + 1;
    while i < end {
        let c = b[i];
        if c == q {
            return Ok((out, i + 1));
        }
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let esc_start = i;
        i += 1;
        let Some(&e) = b.get(i).filter(|_| i < end) else {
            break;
        };
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'0' => out.push(0),
            b'\\' => out.push(b'\\'),
            b'"' => out.push(b'"'),
            b'\'' => out.push(b'\''),
            b'x' => {
                let hex = line.get(i..(i + 2).min(end)).unwrap_or("");
                match (hex.len() == 2)
                    .then(|| u8::from_str_radix(hex, 16).ok())
                    .flatten()
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => {
                        return Err(err(
                            esc_start,
                            (i + 2).min(end),
                            "invalid escape: `\\x` must be followed by exactly two hex digits",
                        ));
                    }
                }
            }
            _ => {
                let ch = line[i - 1..].chars().next().unwrap_or('?');
                return Err(err(
                    esc_start,
                    i - 1 + ch.len_utf8(),
                    format!(
                        "unknown escape `\\{ch}` (expected one of \\n \\r \\t \\\\ \\0 \\xNN \\\" \\')"
                    ),
                ));
            }
        }
    }
    Err(err(
        start,
        end,
        format!(
            "unterminated {} literal (missing closing {})",
            if q == b'"' { "string" } else { "character" },
            q as char
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokKind> {
        let mut l = Lexer::new(s);
        let mut v = Vec::new();
        while let Some(t) = l.next_token().unwrap() {
            v.push(t.kind);
        }
        v
    }

    #[test]
    fn comment_cut_respects_quotes() {
        assert_eq!(code_end("LDI R1, 2 ; x"), 10);
        assert_eq!(code_end(".asciz \"a;b\" ; c"), 13);
        assert_eq!(code_end("LDI R1, ';'"), 11);
        assert_eq!(code_end(".asciz \"a\\\";b\""), 14);
    }

    #[test]
    fn numbers_and_signs() {
        use TokKind::*;
        assert_eq!(
            kinds("x 0x10 -5 0b101 +3"),
            vec![Ident, Int(16), Int(-5), Int(5), Int(3)]
        );
        assert_eq!(
            kinds("[R2+-4]"),
            vec![Punct('['), Ident, Punct('+'), Int(-4), Punct(']')]
        );
        assert_eq!(
            kinds("[R2-4]"),
            vec![Punct('['), Ident, Punct('-'), Int(4), Punct(']')]
        );
        assert_eq!(kinds("-0x10"), vec![Int(-16)]);
        assert_eq!(kinds("0X1f 0B11 0xAb"), vec![Int(31), Int(3), Int(0xAB)]);
        assert!(Lexer::new("12ab").next_token().is_err());
    }

    #[test]
    fn escapes_decode_to_one_byte() {
        assert_eq!(
            kinds(r#""a\nb\x41\0\\\"\'""#),
            vec![TokKind::Str(b"a\nbA\0\\\"'".to_vec())]
        );
        assert_eq!(kinds(r"'\n'"), vec![TokKind::Int(10)]);
        assert_eq!(kinds("'ab'"), vec![TokKind::Str(b"ab".to_vec())]);
        let e = Lexer::new(r#""\q""#).next_token().unwrap_err();
        assert!(e.message.contains("unknown escape `\\q`"), "{}", e.message);
        assert!(Lexer::new(r#""\x4""#).next_token().is_err());
        assert!(Lexer::new(r#""abc"#).next_token().is_err());
    }
}
