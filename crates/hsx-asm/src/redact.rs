//! Diagnostics that quote nothing of the sources: for a daemon assembling a file on a
//! client's behalf, where the client may be someone who must not read it.
//!
//! Messages are built from templates with pieces of the source spliced in (a mnemonic, a
//! label, a JSON parser's complaint). Rather than teach every call site a second wording,
//! any word of a message that also occurs anywhere in the sources is masked: what remains
//! is the template, the position and numbers the assembler computed itself.

use std::collections::HashSet;

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::Sources;

/// The mask put in place of a word taken from the sources.
const MASK: &str = "…";

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Maximal runs of word characters in `text`.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
}

/// `message` with every word that is in `known` replaced by [`MASK`]; consecutive masked
/// words (with only punctuation between them) collapse into one mask.
pub(crate) fn mask_message(message: &str, known: &HashSet<&str>) -> String {
    let mut out = String::with_capacity(message.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        if known.contains(word.as_str()) {
            if !out.ends_with(MASK) {
                out.push_str(MASK);
            }
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in message.chars() {
        if is_word_char(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            // Punctuation glued between two masks (`a-b`, `a.b`) would tell the shape of
            // the hidden text; drop it.
            if out.ends_with(MASK)
                && !c.is_whitespace()
                && !matches!(c, '`' | '\'' | '"' | ')' | ']' | '(' | ',' | ';' | ':')
            {
                continue;
            }
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The diagnostics without source excerpts and with source words masked.
pub(crate) fn redact(d: Diagnostics, sources: &Sources) -> Diagnostics {
    let known: HashSet<&str> = sources.files.iter().flat_map(|f| words(&f.text)).collect();
    Diagnostics(
        d.0.into_iter()
            .map(|diag| Diagnostic {
                message: mask_message(&diag.message, &known),
                source_line: None,
                ..diag
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_words_are_masked_and_template_words_kept() {
        let known: HashSet<&str> = words("db_password = hunter2-SECRET").collect();
        assert_eq!(
            mask_message("unknown instruction `db_password`", &known),
            "unknown instruction `…`"
        );
        assert_eq!(
            mask_message("expected a register, found hunter2-SECRET", &known),
            "expected a register, found …"
        );
        assert_eq!(mask_message("no words here", &known), "no words here");
    }
}
