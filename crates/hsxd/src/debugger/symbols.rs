//! Per-PID symbol tables for `symbols` and `sym` (protocol.md §2.4.4).
//!
//! A table is loaded from `APP.sym` next to `APP.hxe` when a task is loaded, or from an
//! explicit path (`sym load`, the `symbols` override of `load`). A `.sym` whose `hxe_crc`
//! differs from the image's header CRC still loads (the reference does not check at all),
//! but the status object carries a `warning` and a log line is written, because addresses
//! from a stale file are likely wrong.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hsx_image::sym::{SymTable, SymbolKind as SymType};
use serde_json::{Map, Value, json};

use super::{LinePos, SymbolEntry, SymbolHit};

/// `symbols` type filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SymbolKind {
    /// Everything.
    #[default]
    All,
    /// `type == "function"`.
    Functions,
    /// Every other type.
    Variables,
}

impl SymbolKind {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::All => "all",
            SymbolKind::Functions => "functions",
            SymbolKind::Variables => "variables",
        }
    }
}

/// `symbols` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolsArgs {
    /// Task.
    pub pid: u32,
    /// Type filter.
    pub kind: SymbolKind,
    /// Entries to skip.
    pub offset: u32,
    /// Page size 1..=256; `None` = all.
    pub limit: Option<u32>,
}

/// `sym` operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymOp {
    /// `info`: load status.
    Info,
    /// `load`/`set`: load a `.sym` file.
    Load {
        /// Host path.
        path: String,
    },
    /// `lookup_name`/`lookup`/`name`.
    LookupName {
        /// Symbol name.
        name: String,
    },
    /// `lookup_addr`/`addr`: nearest symbol at or below.
    LookupAddr {
        /// Address.
        address: u32,
    },
    /// `lookup_line`/`line`.
    LookupLine {
        /// Address.
        address: u32,
    },
    /// `lookup_source`/`source`: code addresses of `file:line` (breakpoints by line).
    LookupSource {
        /// Source file (matched as a path suffix).
        file: String,
        /// Source line.
        line: u32,
    },
}

/// How many lines after a requested one `lookup_source` looks for code (a blank line or a
/// declaration has none; a debugger moves the breakpoint to the next line that has).
pub const SOURCE_LINE_SEARCH: u32 = 32;

/// Largest `.sym` file read (a linker-written file for a full 64 KiB image is far smaller).
pub const MAX_SYM_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A loaded table and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedSymbols {
    /// The file it was read from.
    pub path: PathBuf,
    /// The indexed table.
    pub table: SymTable,
    /// Unique per load (never 0), for caches that depend on symbols.
    pub generation: u64,
    /// Set when the file's `hxe_crc` differs from the image CRC.
    pub warning: Option<String>,
}

/// `symbols` type filter. "Variables" is everything that is not a function, as in the
/// reference; "labels" selects bare labels only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListKind {
    /// Everything.
    #[default]
    All,
    /// Functions.
    Functions,
    /// Everything but functions.
    Variables,
    /// Bare labels (names known only from the `labels` map).
    Labels,
}

impl ListKind {
    /// The wire spelling (the reply's `type`).
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::All => "all",
            ListKind::Functions => "functions",
            ListKind::Variables => "variables",
            ListKind::Labels => "labels",
        }
    }

    fn matches(self, kind: SymType) -> bool {
        match self {
            ListKind::All => true,
            ListKind::Functions => kind == SymType::Function,
            ListKind::Variables => kind != SymType::Function,
            ListKind::Labels => kind == SymType::Label,
        }
    }
}

impl From<SymbolKind> for ListKind {
    fn from(k: SymbolKind) -> Self {
        match k {
            SymbolKind::All => ListKind::All,
            SymbolKind::Functions => ListKind::Functions,
            SymbolKind::Variables => ListKind::Variables,
        }
    }
}

/// A `symbols` listing request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListQuery<'a> {
    /// Type filter.
    pub kind: ListKind,
    /// Only names starting with this.
    pub prefix: Option<&'a str>,
    /// Matches to skip.
    pub offset: u32,
    /// Page size; `None` = all.
    pub limit: Option<u32>,
}

/// A `.sym` file read but not yet installed ([`SymbolStore::prepare`]).
#[derive(Debug, Clone)]
pub enum PreparedSymbols {
    /// The file does not exist.
    Missing(PathBuf),
    /// It could not be read or parsed: the path and the error text.
    Failed(PathBuf, String),
    /// Parsed: where it came from and the table.
    Ready(PathBuf, Box<SymTable>),
}

/// Symbol tables by PID.
#[derive(Debug, Default)]
pub struct SymbolStore {
    tables: HashMap<u32, Arc<LoadedSymbols>>,
    last_generation: u64,
}

fn crc_warning(sym_crc: u32, image_crc: Option<u32>) -> Option<String> {
    let image = image_crc?;
    (sym_crc != image)
        .then(|| format!("hxe_crc mismatch: .sym has 0x{sym_crc:08X}, image has 0x{image:08X}"))
}

fn read_sym(path: &Path) -> Result<SymTable, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_SYM_FILE_BYTES {
        return Err(format!(
            "symbol file too large ({} bytes, limit {MAX_SYM_FILE_BYTES})",
            meta.len()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    SymTable::from_json_str(&text).map_err(|e| e.to_string())
}

impl SymbolStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// `APP.sym` for `APP.hxe` (the extension is replaced, or added when there is none).
    pub fn sym_path_for(hxe_path: &Path) -> PathBuf {
        hxe_path.with_extension("sym")
    }

    /// Resolves a client-given `.sym` path: a relative path is taken against the program's
    /// directory (the reference's rule for the `symbols` override and `sym load`), or used as
    /// is when the program is unknown.
    pub fn resolve_path(program: Option<&Path>, path: &str) -> PathBuf {
        let p = Path::new(path);
        match program.and_then(Path::parent) {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        }
    }

    /// Loads `APP.sym` next to `hxe_path` for `pid` and answers the status object
    /// (see [`SymbolStore::load_file`]).
    pub fn load_for_image(&mut self, pid: u32, hxe_path: &Path, image_crc: Option<u32>) -> Value {
        self.load_file(pid, &Self::sym_path_for(hxe_path), image_crc)
    }

    /// Loads a `.sym` file for `pid`, replacing any table it had. Answers
    /// `{pid, loaded:true, path, count, warning?}` on success; on failure the old table is
    /// dropped (as in the reference) and the answer is `{pid, loaded:false, path}` for a
    /// missing file or `{pid, loaded:false, path, error}` for an unreadable one.
    pub fn load_file(&mut self, pid: u32, path: &Path, image_crc: Option<u32>) -> Value {
        self.install(pid, Self::prepare(path), image_crc)
    }

    /// Reads and parses a `.sym` file without touching the store, so a caller can do the
    /// file I/O outside its locks and [`SymbolStore::install`] the result afterwards.
    pub fn prepare(path: &Path) -> PreparedSymbols {
        if !path.is_file() {
            return PreparedSymbols::Missing(path.to_path_buf());
        }
        match read_sym(path) {
            Ok(table) => PreparedSymbols::Ready(path.to_path_buf(), Box::new(table)),
            Err(error) => PreparedSymbols::Failed(path.to_path_buf(), error),
        }
    }

    /// Installs a [`SymbolStore::prepare`] result for `pid` and answers the status object
    /// of [`SymbolStore::load_file`].
    pub fn install(
        &mut self,
        pid: u32,
        prepared: PreparedSymbols,
        image_crc: Option<u32>,
    ) -> Value {
        match prepared {
            PreparedSymbols::Ready(path, table) => self.insert(pid, path, *table, image_crc),
            PreparedSymbols::Missing(path) => {
                self.tables.remove(&pid);
                let shown = path.display().to_string();
                tracing::debug!(pid, path = %crate::report::log_safe(&shown), "symbol file missing");
                json!({"pid": pid, "loaded": false, "path": shown})
            }
            PreparedSymbols::Failed(path, error) => {
                self.tables.remove(&pid);
                let shown = path.display().to_string();
                tracing::warn!(
                    pid,
                    path = %crate::report::log_safe(&shown),
                    error = %crate::report::log_safe(&error),
                    "symbol load failed"
                );
                json!({"pid": pid, "loaded": false, "path": shown, "error": error})
            }
        }
    }

    /// Installs an already parsed table for `pid` and answers the status object.
    pub fn insert(
        &mut self,
        pid: u32,
        path: PathBuf,
        table: SymTable,
        image_crc: Option<u32>,
    ) -> Value {
        let warning = crc_warning(table.file().hxe_crc, image_crc);
        if let Some(w) = &warning {
            let shown = crate::report::log_safe(&path.display().to_string());
            tracing::warn!(pid, path = %shown, "{w}");
        }
        self.last_generation = self.last_generation.wrapping_add(1).max(1);
        let loaded = Arc::new(LoadedSymbols {
            path,
            table,
            generation: self.last_generation,
            warning,
        });
        self.tables.insert(pid, Arc::clone(&loaded));
        Self::status(pid, Some(&loaded))
    }

    /// Drops the table of `pid` (task gone). Returns whether there was one.
    pub fn remove(&mut self, pid: u32) -> bool {
        self.tables.remove(&pid).is_some()
    }

    /// Drops every table.
    pub fn clear(&mut self) {
        self.tables.clear();
    }

    /// The loaded table of `pid` (an `Arc`, so a caller can clone it and drop its lock).
    pub fn get(&self, pid: u32) -> Option<&Arc<LoadedSymbols>> {
        self.tables.get(&pid)
    }

    /// The table of `pid`.
    pub fn table(&self, pid: u32) -> Option<&SymTable> {
        self.tables.get(&pid).map(|l| &l.table)
    }

    /// The load generation of `pid`'s table; 0 when none is loaded.
    pub fn generation(&self, pid: u32) -> u64 {
        self.tables.get(&pid).map_or(0, |l| l.generation)
    }

    fn status(pid: u32, loaded: Option<&LoadedSymbols>) -> Value {
        let Some(l) = loaded else {
            return json!({"pid": pid, "loaded": false});
        };
        let mut m = Map::new();
        m.insert("pid".into(), json!(pid));
        m.insert("loaded".into(), json!(true));
        m.insert("path".into(), json!(l.path.display().to_string()));
        m.insert("count".into(), json!(l.table.symbols().len()));
        if let Some(w) = &l.warning {
            m.insert("warning".into(), json!(w));
        }
        Value::Object(m)
    }

    /// `sym info`: `{pid, loaded, path?, count?, warning?}`.
    pub fn info(&self, pid: u32) -> Value {
        Self::status(pid, self.tables.get(&pid).map(|a| &**a))
    }

    /// `symbols`: `{pid, count, offset, limit, type, symbols:[{name, address, size, type,
    /// file, line}]}`, sorted by address; `count` is the number of matches before paging and
    /// `offset` is clamped to it. With no table: `count:0, offset:0, symbols:[]`.
    pub fn list(&self, pid: u32, q: &ListQuery<'_>) -> Value {
        let limit = q.limit.map(|l| l.max(1));
        let Some(loaded) = self.tables.get(&pid) else {
            return json!({"pid": pid, "count": 0, "offset": 0, "limit": limit,
                          "type": q.kind.as_str(), "symbols": []});
        };
        let table = &loaded.table;
        let matching: Vec<_> = table
            .symbols()
            .iter()
            .filter(|s| q.kind.matches(s.kind))
            .filter(|s| q.prefix.is_none_or(|p| s.name.starts_with(p)))
            .collect();
        let total = matching.len();
        let start = usize::try_from(q.offset).unwrap_or(usize::MAX).min(total);
        let take = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        let page: Vec<Value> = matching
            .iter()
            .skip(start)
            .take(take)
            .map(|s| SymbolEntry::from_symbol(table, s).to_json(None))
            .collect();
        json!({"pid": pid, "count": total, "offset": start, "limit": limit,
               "type": q.kind.as_str(), "symbols": page})
    }

    /// `sym lookup_name`: the symbol entry, or null.
    pub fn lookup_name(&self, pid: u32, name: &str) -> Value {
        self.table(pid)
            .and_then(|t| t.symbol(name).map(|s| SymbolEntry::from_symbol(t, s)))
            .map_or(Value::Null, |e| e.to_json(None))
    }

    /// `sym lookup_addr`: the nearest symbol at or below `address` with its `offset`, or
    /// null.
    pub fn lookup_addr(&self, pid: u32, address: u32) -> Value {
        self.table(pid)
            .and_then(|t| SymbolHit::nearest(t, address))
            .map_or(Value::Null, |h| h.to_json())
    }

    /// `sym lookup_line`: `{address, file, line}` for `address`, or null.
    pub fn lookup_line(&self, pid: u32, address: u32) -> Value {
        self.table(pid)
            .and_then(|t| t.line_for_pc(address))
            .map_or(Value::Null, |l| LinePos::from_source(&l).to_json())
    }

    /// Code addresses of `file:line`, ascending (`file` matches as a path suffix); empty
    /// without a table.
    pub fn addresses_for_line(&self, pid: u32, file: &str, line: u32) -> Vec<u32> {
        self.table(pid)
            .map(|t| t.addresses_for_line(file, line))
            .unwrap_or_default()
    }

    /// `{pid, file, line, requested_line, addresses:[…]}` for a source position
    /// (breakpoints by line): the addresses of `line`, or of the first of the next
    /// [`SOURCE_LINE_SEARCH`] lines that has code (`line` says which).
    pub fn lookup_source(&self, pid: u32, file: &str, line: u32) -> Value {
        let (found, addresses) = (line..line.saturating_add(SOURCE_LINE_SEARCH))
            .map(|l| (l, self.addresses_for_line(pid, file, l)))
            .find(|(_, a)| !a.is_empty())
            .unwrap_or((line, Vec::new()));
        json!({"pid": pid, "file": file, "line": found, "requested_line": line,
               "addresses": addresses})
    }

    /// `Backend::symbols` in one call.
    pub fn handle_symbols(&self, args: &SymbolsArgs) -> Value {
        let q = ListQuery {
            kind: args.kind.into(),
            prefix: None,
            offset: args.offset,
            limit: args.limit,
        };
        self.list(args.pid, &q)
    }

    /// `Backend::sym` in one call: info/load → the status object, lookup_name/lookup_addr →
    /// the symbol or null, lookup_line → the line or null. `program` (the task's image path)
    /// anchors a relative `load` path; `image_crc` is checked against the file's `hxe_crc`.
    pub fn handle_sym(
        &mut self,
        pid: u32,
        op: &SymOp,
        program: Option<&Path>,
        image_crc: Option<u32>,
    ) -> Value {
        match op {
            SymOp::Info => self.info(pid),
            SymOp::Load { path } => {
                let resolved = Self::resolve_path(program, path);
                self.load_file(pid, &resolved, image_crc)
            }
            SymOp::LookupName { name } => self.lookup_name(pid, name),
            SymOp::LookupAddr { address } => self.lookup_addr(pid, *address),
            SymOp::LookupLine { address } => self.lookup_line(pid, *address),
            SymOp::LookupSource { file, line } => self.lookup_source(pid, file, *line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hsx_image::sym::{Function, SymFile, Variable};

    pub(crate) fn sample_file() -> SymFile {
        let mut f = SymFile {
            hxe_crc: 0x1234_5678,
            ..SymFile::default()
        };
        f.symbols.functions = vec![
            Function {
                name: "main".into(),
                address: 0,
                size: 16,
                file: Some("main.c".into()),
                line: Some(3),
                ..Function::default()
            },
            Function {
                name: "helper".into(),
                address: 16,
                size: 8,
                file: Some("main.c".into()),
                line: Some(10),
                ..Function::default()
            },
        ];
        f.symbols.variables = vec![Variable {
            name: "counter".into(),
            address: 0x4000,
            size: 4,
            scope: Some("global".into()),
            ty: None,
            type_id: None,
        }];
        f.symbols
            .labels
            .insert(SymFile::label_key(24), vec!["loop_top".into()]);
        f.lines = vec![
            hsx_image::sym::LineEntry {
                address: 0,
                file: Some("main.c".into()),
                line: Some(4),
                column: None,
            },
            hsx_image::sym::LineEntry {
                address: 8,
                file: Some("main.c".into()),
                line: Some(5),
                column: None,
            },
            hsx_image::sym::LineEntry {
                address: 16,
                file: Some("main.c".into()),
                line: Some(11),
                column: None,
            },
        ];
        f
    }

    fn store() -> SymbolStore {
        let mut s = SymbolStore::new();
        let status = s.insert(
            1,
            "/x/app.sym".into(),
            SymTable::new(sample_file()),
            Some(0x1234_5678),
        );
        assert_eq!(status["loaded"], true);
        assert_eq!(status["count"], 4);
        assert!(status.get("warning").is_none());
        s
    }

    #[test]
    fn info_and_generation() {
        let mut s = store();
        assert_eq!(s.info(1)["path"], "/x/app.sym");
        assert_eq!(s.info(2), json!({"pid": 2, "loaded": false}));
        let g1 = s.generation(1);
        assert!(g1 > 0);
        s.insert(1, "/y.sym".into(), SymTable::new(sample_file()), None);
        assert!(s.generation(1) > g1);
        assert!(s.remove(1));
        assert_eq!(s.generation(1), 0);
        assert!(!s.remove(1));
    }

    #[test]
    fn crc_mismatch_warns_but_loads() {
        let mut s = SymbolStore::new();
        let st = s.insert(3, "a.sym".into(), SymTable::new(sample_file()), Some(1));
        assert_eq!(st["loaded"], true);
        let w = st["warning"].as_str().unwrap_or_default();
        assert!(w.contains("0x12345678") && w.contains("0x00000001"), "{w}");
        assert_eq!(s.info(3)["warning"], st["warning"]);
    }

    #[test]
    fn listing_filters_and_pages() {
        let s = store();
        let all = s.list(1, &ListQuery::default());
        assert_eq!(all["count"], 4);
        let names: Vec<&str> = all["symbols"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["name"].as_str())
            .collect();
        assert_eq!(names, ["main", "helper", "loop_top", "counter"]);
        assert_eq!(
            all["symbols"][0],
            json!({"name":"main","address":0,"size":16,"type":"function","file":"main.c","line":3})
        );

        let funcs = s.list(
            1,
            &ListQuery {
                kind: ListKind::Functions,
                ..ListQuery::default()
            },
        );
        assert_eq!(funcs["count"], 2);
        assert_eq!(funcs["type"], "functions");
        let vars = s.list(
            1,
            &ListQuery {
                kind: ListKind::Variables,
                ..ListQuery::default()
            },
        );
        assert_eq!(vars["count"], 2);
        let labels = s.list(
            1,
            &ListQuery {
                kind: ListKind::Labels,
                ..ListQuery::default()
            },
        );
        assert_eq!(labels["symbols"][0]["type"], "label");

        let page = s.list(
            1,
            &ListQuery {
                offset: 1,
                limit: Some(2),
                ..ListQuery::default()
            },
        );
        assert_eq!(page["count"], 4);
        assert_eq!(page["offset"], 1);
        assert_eq!(page["limit"], 2);
        assert_eq!(page["symbols"].as_array().map(Vec::len), Some(2));
        assert_eq!(page["symbols"][0]["name"], "helper");

        let beyond = s.list(
            1,
            &ListQuery {
                offset: 99,
                ..ListQuery::default()
            },
        );
        assert_eq!(beyond["offset"], 4);
        assert_eq!(beyond["symbols"], json!([]));

        let pre = s.list(
            1,
            &ListQuery {
                prefix: Some("he"),
                ..ListQuery::default()
            },
        );
        assert_eq!(pre["count"], 1);

        let none = s.list(9, &ListQuery::default());
        assert_eq!(
            none,
            json!({"pid":9,"count":0,"offset":0,"limit":null,"type":"all","symbols":[]})
        );
    }

    #[test]
    fn lookups() {
        let s = store();
        assert_eq!(s.lookup_name(1, "counter")["address"], 0x4000);
        assert_eq!(s.lookup_name(1, "counter")["type"], "variable");
        assert_eq!(s.lookup_name(1, "nope"), Value::Null);
        let hit = s.lookup_addr(1, 20);
        assert_eq!(hit["name"], "helper");
        assert_eq!(hit["offset"], 4);
        assert_eq!(s.lookup_addr(1, 26)["name"], "loop_top");
        assert_eq!(s.lookup_addr(2, 0), Value::Null);
        assert_eq!(
            s.lookup_line(1, 12),
            json!({"address": 8, "file": "main.c", "line": 5})
        );
        assert_eq!(s.addresses_for_line(1, "main.c", 11), vec![16]);
        assert_eq!(s.lookup_source(1, "src/main.c", 5)["addresses"], json!([8]));
        // Line 6 has no code: the next line that has (11) answers.
        let next = s.lookup_source(1, "main.c", 6);
        assert_eq!(
            (&next["line"], &next["requested_line"], &next["addresses"]),
            (&json!(11), &json!(6), &json!([16]))
        );
        assert_eq!(s.lookup_source(1, "main.c", 40)["addresses"], json!([]));
        assert!(s.addresses_for_line(7, "main.c", 5).is_empty());
    }

    #[test]
    fn handle_sym_ops() {
        let mut s = store();
        let v = s.handle_sym(1, &SymOp::LookupAddr { address: 4 }, None, None);
        assert_eq!(v["name"], "main");
        assert_eq!(v["offset"], 4);
        let v = s.handle_symbols(&SymbolsArgs {
            pid: 1,
            kind: SymbolKind::Functions,
            offset: 0,
            limit: None,
        });
        assert_eq!(v["count"], 2);
    }

    #[test]
    fn files_next_to_image_and_errors() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let hxe = dir.path().join("app.hxe");
        let mut s = SymbolStore::new();

        let missing = s.load_for_image(5, &hxe, None);
        assert_eq!(missing["loaded"], false);
        assert!(missing.get("error").is_none());
        assert!(
            missing["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("app.sym"))
        );

        let sym = dir.path().join("app.sym");
        std::fs::write(&sym, sample_file().to_json_string())
            .unwrap_or_else(|e| panic!("write: {e}"));
        let ok = s.load_for_image(5, &hxe, Some(0x1234_5678));
        assert_eq!(ok["loaded"], true);
        assert_eq!(ok["count"], 4);

        std::fs::write(dir.path().join("bad.sym"), "{not json")
            .unwrap_or_else(|e| panic!("write: {e}"));
        let bad = s.handle_sym(
            5,
            &SymOp::Load {
                path: "bad.sym".into(),
            },
            Some(&hxe),
            None,
        );
        assert_eq!(bad["loaded"], false);
        assert!(bad["error"].is_string());
        // A failed load drops the previous table, as the reference does.
        assert_eq!(s.info(5)["loaded"], false);
    }

    #[test]
    fn path_resolution() {
        let prog = Path::new("/apps/demo/app.hxe");
        assert_eq!(
            SymbolStore::resolve_path(Some(prog), "dbg/app.sym"),
            PathBuf::from("/apps/demo/dbg/app.sym")
        );
        assert_eq!(
            SymbolStore::resolve_path(Some(prog), "/abs.sym"),
            PathBuf::from("/abs.sym")
        );
        assert_eq!(
            SymbolStore::resolve_path(None, "x.sym"),
            PathBuf::from("x.sym")
        );
        assert_eq!(
            SymbolStore::sym_path_for(Path::new("/a/b.hxe")),
            PathBuf::from("/a/b.sym")
        );
    }
}
