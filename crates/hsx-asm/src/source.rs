//! Source text storage and locations, so diagnostics can quote the offending line.

use std::rc::Rc;

use crate::diag::Diagnostic;

/// One source file's text, split into lines.
#[derive(Debug)]
pub(crate) struct SrcFile {
    /// Name used in diagnostics and in `.sym` records.
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SrcFile {
    pub fn new(name: String, text: String) -> Self {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        // A trailing newline does not start another line.
        if line_starts.len() > 1 && line_starts.last() == Some(&text.len()) {
            line_starts.pop();
        }
        SrcFile {
            name,
            text,
            line_starts,
        }
    }

    pub fn line_count(&self) -> usize {
        if self.text.is_empty() {
            0
        } else {
            self.line_starts.len()
        }
    }

    /// Line `idx` (0-based) without its line terminator.
    pub fn line(&self, idx: usize) -> &str {
        let Some(&start) = self.line_starts.get(idx) else {
            return "";
        };
        let end = self
            .line_starts
            .get(idx + 1)
            .copied()
            .unwrap_or(self.text.len());
        let s = self.text.get(start..end).unwrap_or("");
        let s = s.strip_suffix('\n').unwrap_or(s);
        s.strip_suffix('\r').unwrap_or(s)
    }
}

/// A position in a source file: file index, 1-based line, byte span within the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    pub file: u32,
    pub line: u32,
    pub start: u32,
    pub end: u32,
}

/// All files read during one assembler run.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    pub files: Vec<Rc<SrcFile>>,
}

impl Sources {
    pub fn add(&mut self, name: String, text: String) -> u32 {
        let text = match text.strip_prefix('\u{FEFF}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        self.files.push(Rc::new(SrcFile::new(name, text)));
        (self.files.len() - 1) as u32
    }

    pub fn name(&self, file: u32) -> &str {
        self.files
            .get(file as usize)
            .map(|f| f.name.as_str())
            .unwrap_or("<unknown>")
    }

    /// 1-based character column of a location.
    pub fn col(&self, loc: Loc) -> usize {
        let line = self.line_text(loc);
        line.get(..loc.start as usize)
            .map(|s| s.chars().count())
            .unwrap_or(loc.start as usize)
            + 1
    }

    fn line_text(&self, loc: Loc) -> &str {
        self.files
            .get(loc.file as usize)
            .map(|f| f.line(loc.line.saturating_sub(1) as usize))
            .unwrap_or("")
    }

    /// `file:line:col` of a location.
    pub fn pos(&self, loc: Loc) -> String {
        format!("{}:{}:{}", self.name(loc.file), loc.line, self.col(loc))
    }

    pub fn diag(&self, loc: Loc, message: impl Into<String>) -> Diagnostic {
        let line = self.line_text(loc);
        let len = line
            .get(loc.start as usize..loc.end as usize)
            .map(|s| s.chars().count())
            .unwrap_or(1)
            .max(1);
        Diagnostic {
            file: self.name(loc.file).to_string(),
            line: loc.line as usize,
            col: self.col(loc),
            len,
            message: message.into(),
            source_line: Some(line.to_string()),
        }
    }
}
