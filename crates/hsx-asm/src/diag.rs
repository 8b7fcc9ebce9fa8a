//! Error types: every problem found in source text is a [`Diagnostic`] that names the file,
//! line and column and shows the offending text.

use std::fmt;

/// One located error in MVASM source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The source file as given by the caller (or the include path as written).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters) of the offending text.
    pub col: usize,
    /// Width of the offending text in characters (at least 1).
    pub len: usize,
    /// What is wrong and what was expected.
    pub message: String,
    /// The full source line, for the caret display (absent when unknown).
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// `file:line:col: error: message`, without the source excerpt.
    pub fn headline(&self) -> String {
        format!(
            "{}:{}:{}: error: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if let Some(src) = &self.source_line {
            let src = src.trim_end();
            let gutter = self.line.to_string().len();
            write!(f, "\n{:>gutter$} | {src}", self.line)?;
            let pad: String = src
                .chars()
                .take(self.col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n{:>gutter$} | {pad}^{}",
                "",
                "~".repeat(self.len.saturating_sub(1))
            )?;
        }
        Ok(())
    }
}

/// A non-empty list of diagnostics, in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The first (earliest) diagnostic.
    pub fn first(&self) -> Option<&Diagnostic> {
        self.0.first()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong while assembling, linking or disassembling.
#[derive(Debug, thiserror::Error)]
pub enum AsmError {
    /// Errors located in source text (`file:line:col: error: …`).
    #[error("{0}")]
    Source(Diagnostics),
    /// A top-level input file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A problem with the inputs as a whole (no input files, program too large, …).
    #[error("{0}")]
    Input(String),
    /// The linked program could not be turned into an image.
    #[error("cannot write image: {0}")]
    Image(String),
}

impl AsmError {
    /// The located diagnostics, if this error came from source text.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            AsmError::Source(d) => &d.0,
            _ => &[],
        }
    }

    /// The first located diagnostic, if any.
    pub fn first(&self) -> Option<&Diagnostic> {
        self.diagnostics().first()
    }
}

/// Problems found while disassembling an image.
#[derive(Debug, thiserror::Error)]
pub enum DisasmError {
    /// The bytes are not a loadable `.hxe` image.
    #[error("not a valid .hxe image: {0}")]
    Image(String),
    /// The `.sym` JSON could not be understood.
    #[error("invalid .sym file: {0}")]
    Sym(String),
}
