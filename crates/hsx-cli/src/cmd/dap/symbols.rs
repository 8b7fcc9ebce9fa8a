//! The adapter's own copy of each task's symbol table (the `.sym` hsxd loaded, or the
//! table of an `.mvasm` assembled here as hsxd does), used for local variables, C types
//! and line lookups; and resolving the source paths it names to files that exist.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hsx_image::sym::{SymFile, SymTable};
use serde_json::{Value, json};

/// Largest `.sym` read (a big C program's is a few MiB).
const MAX_SYM_BYTES: u64 = 64 * 1024 * 1024;

/// One task's symbols and where to look for its sources.
#[derive(Debug, Clone, Default)]
pub(super) struct TaskSyms {
    /// The table, when one could be read.
    pub table: Option<Arc<SymTable>>,
    /// Directory of the `.sym` (or `.mvasm`).
    pub sym_dir: Option<PathBuf>,
    /// Directory of the program image.
    pub program_dir: Option<PathBuf>,
}

/// Symbols of every task the session knows.
#[derive(Debug, Default)]
pub(super) struct Symbols {
    tasks: HashMap<u32, TaskSyms>,
    cwd: Option<PathBuf>,
}

fn read_sym(path: &Path) -> Option<SymFile> {
    if path.extension().is_some_and(|e| e == "mvasm") {
        let p = path.to_string_lossy();
        return hsxd::program::read_program(&p).ok().and_then(|(_, s)| s);
    }
    let sym_path = if path.extension().is_some_and(|e| e == "hxe") {
        path.with_extension("sym")
    } else {
        path.to_path_buf()
    };
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(&sym_path)
        .ok()?
        .take(MAX_SYM_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    SymFile::from_json_str(&text).ok()
}

impl Symbols {
    /// Whether `pid` has an entry (possibly without a table).
    pub(super) fn has(&self, pid: u32) -> bool {
        self.tasks.contains_key(&pid)
    }

    /// The launch configuration's `cwd`, a last place to look for sources.
    pub(super) fn set_cwd(&mut self, cwd: PathBuf) {
        self.cwd = Some(cwd);
    }

    /// Records the directory of `pid`'s program.
    pub(super) fn set_program_dir(&mut self, pid: u32, dir: Option<PathBuf>) {
        self.tasks.entry(pid).or_default().program_dir = dir;
    }

    /// Loads the table for `pid` from `path` (a `.sym`, an `.hxe` with its `.sym`
    /// beside it, or an `.mvasm`). A missing or bad file leaves the task without one.
    pub(super) fn load_for_task(&mut self, pid: u32, path: Option<&Path>) {
        let entry = self.tasks.entry(pid).or_default();
        let Some(path) = path else { return };
        if let Some(file) = read_sym(path) {
            entry.table = Some(Arc::new(SymTable::new(file)));
            entry.sym_dir = path.parent().map(Path::to_path_buf);
            if entry.program_dir.is_none() {
                entry.program_dir.clone_from(&entry.sym_dir);
            }
        }
    }

    /// The table of `pid`.
    pub(super) fn table(&self, pid: u32) -> Option<Arc<SymTable>> {
        self.tasks.get(&pid).and_then(|t| t.table.clone())
    }

    /// A path from the `.sym` (or hsxd) made absolute: itself when it exists, else
    /// joined to the `.sym` directory, the program directory, the `cwd`, or the current
    /// directory, whichever exists first. `None` when the file is nowhere.
    pub(super) fn resolve_path(&self, pid: u32, file: &str) -> Option<PathBuf> {
        let p = Path::new(file);
        if p.is_absolute() {
            return p.exists().then(|| p.to_path_buf());
        }
        let t = self.tasks.get(&pid);
        let mut bases: Vec<PathBuf> = Vec::new();
        if let Some(t) = t {
            bases.extend(t.sym_dir.iter().cloned());
            bases.extend(t.program_dir.iter().cloned());
        }
        bases.extend(self.cwd.iter().cloned());
        bases.extend(std::env::current_dir().ok());
        // A relative path in a `.sym` is often relative to a project root above the
        // `.sym` directory (`hsx asm examples/x.mvasm` records `examples/x.mvasm`), so
        // the ancestors of each base are tried too, nearest first.
        for base in &bases {
            for dir in base.ancestors().take(8) {
                let cand = dir.join(p);
                if cand.exists() {
                    return Some(std::fs::canonicalize(&cand).unwrap_or(cand));
                }
            }
        }
        None
    }

    /// A DAP `Source` for `file`: with an absolute `path` when the file was found, else a
    /// name only (greyed out in IDEs, since there is nothing to open).
    pub(super) fn source(&self, pid: u32, file: &str) -> Value {
        let name = Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_string());
        match self.resolve_path(pid, file) {
            Some(p) => json!({"name": name, "path": p.to_string_lossy()}),
            None => json!({"name": name, "presentationHint": "deemphasize",
                           "origin": format!("not found: {file}")}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_sym_directory_and_its_parents() {
        let Ok(dir) = tempfile::tempdir() else { return };
        let src = dir.path().join("examples");
        let _ = std::fs::create_dir_all(src.join("build"));
        let _ = std::fs::write(src.join("loop.mvasm"), "; x\n");
        let mut s = Symbols::default();
        s.tasks.insert(
            1,
            TaskSyms {
                table: None,
                sym_dir: Some(src.join("build")),
                program_dir: None,
            },
        );
        let found = s.resolve_path(1, "examples/loop.mvasm");
        assert_eq!(
            found.and_then(|p| std::fs::canonicalize(p).ok()),
            std::fs::canonicalize(src.join("loop.mvasm")).ok()
        );
        assert_eq!(s.resolve_path(1, "nowhere/x.c"), None);
        let v = s.source(1, "nowhere/x.c");
        assert_eq!(v["name"], "x.c");
        assert!(v.get("path").is_none());
    }
}
