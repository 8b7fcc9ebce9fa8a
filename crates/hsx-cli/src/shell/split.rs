//! Splitting a shell line into words: blanks separate, '…' and "…" quote, a backslash
//! escapes the next character (inside "…" too). Enough for JSON arguments and paths.

/// Why a line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// A quote was opened and not closed.
    UnclosedQuote,
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitError::UnclosedQuote => f.write_str("unclosed quote"),
        }
    }
}

/// Splits `line` into words. A `#` at the start of a word begins a comment.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(SplitError::UnclosedQuote),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch) => cur.push(ch),
                            None => return Err(SplitError::UnclosedQuote),
                        },
                        Some(ch) => cur.push(ch),
                        None => return Err(SplitError::UnclosedQuote),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    cur.push(ch);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_quotes_escapes_comments() {
        assert_eq!(split("  ps  ").ok(), Some(vec!["ps".to_string()]));
        assert_eq!(
            split(r#"raw '{"cmd":"ps"}'"#).ok(),
            Some(vec!["raw".to_string(), r#"{"cmd":"ps"}"#.to_string()])
        );
        assert_eq!(
            split(r#"send 1 "hello \"you\"" a\ b"#).ok(),
            Some(vec![
                "send".into(),
                "1".into(),
                "hello \"you\"".into(),
                "a b".into()
            ])
        );
        assert_eq!(split("ps # list").ok(), Some(vec!["ps".to_string()]));
        assert_eq!(split("''").ok(), Some(vec![String::new()]));
        assert_eq!(split("say 'oops"), Err(SplitError::UnclosedQuote));
    }
}
