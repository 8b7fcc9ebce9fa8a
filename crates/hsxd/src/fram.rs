//! The value persistence store backed by a host file (`--fram FILE`, `services.md` §5.3).
//!
//! # File format (version 1), all integers little-endian
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `HSXF` |
//! | 4 | 2 | format version, `1` |
//! | 6 | 2 | record count `n` |
//! | 8 | 4·n | records: key `u16`, f16 bits `u16`; keys usable and strictly ascending |
//! | 8+4n | 4 | CRC-32 (IEEE, as `crc32fast`) of every preceding byte |
//!
//! A file whose first non-blank byte is `{` is read as the Python reference's JSON store
//! (`{"<decimal key>": <u16>}`, no checksum); the first write converts it to version 1.
//!
//! # Crash safety
//! Every write rewrites the whole image: a temporary file `<name>.tmp` in the same
//! directory is written and fsynced, renamed over the file, and the directory is fsynced
//! (on Unix), so after a crash the file holds either the old or the new image. A
//! leftover temporary file is never read; it is removed on open. One
//! process at a time may own a file.
//!
//! # Damage
//! A missing file is an empty store. A file that fails the checks (length, magic,
//! version, checksum, key order) is never half-loaded: [`FramFile::open`] reports it as
//! [`FramError::Corrupt`]; [`FramFile::open_or_reset`] logs a warning, moves it aside to
//! `<name>.corrupt` for inspection and starts empty (the reference also starts empty).
//!
//! # Cost
//! The executive's `WriteBehind` debounces writes per key, so each `store` is one write
//! ([`WriteMode::Immediate`], the default). A `store` of an unchanged value does no I/O.
//! [`WriteMode::Deferred`] only marks the image dirty; [`FramFile::flush`] (or drop)
//! writes it.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use hsx_exec::persist::{Persist, PersistError, is_usable_key};

/// First four bytes of a version-1 image.
pub const MAGIC: [u8; 4] = *b"HSXF";
/// The format version written.
pub const FORMAT_VERSION: u16 = 1;

const HEADER_LEN: usize = 8;
const RECORD_LEN: usize = 4;
const CRC_LEN: usize = 4;
/// Largest valid version-1 image: every usable key present.
const MAX_IMAGE: usize = HEADER_LEN + RECORD_LEN * 0xFFFE + CRC_LEN;
/// Reading stops here so a huge or endless file cannot exhaust memory.
const MAX_READ: u64 = 4 * 1024 * 1024;

/// What is wrong with a store file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Corruption {
    /// Shorter than a header and checksum, or the length disagrees with the record count.
    #[error("length {0} does not fit the record count")]
    Length(usize),
    /// Not a store file.
    #[error("bad magic")]
    Magic,
    /// The checksum does not match the contents.
    #[error("checksum mismatch")]
    Checksum,
    /// Written by a newer (or unknown) format.
    #[error("unsupported format version {0}")]
    Version(u16),
    /// Keys out of order, repeated, or unusable (0x0000 / 0xFFFF).
    #[error("bad record keys")]
    Keys,
    /// A legacy JSON store that does not parse as `{"<key>": <integer>}`.
    #[error("unreadable legacy JSON store")]
    Json,
    /// Larger than any store file can be.
    #[error("file too large")]
    TooLarge,
}

/// Opening or writing the store failed.
#[derive(Debug, thiserror::Error)]
pub enum FramError {
    /// An I/O error on the file, its temporary file or its directory.
    #[error("{}: {source}", path.display())]
    Io {
        /// File involved.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The file exists but is damaged ([`FramFile::open`] only).
    #[error("{}: corrupt store file: {reason}", path.display())]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What check failed.
        reason: Corruption,
    },
}

/// How the image got into memory at open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadOutcome {
    /// No file yet: empty store.
    Missing,
    /// A version-1 image was loaded.
    Loaded,
    /// A reference JSON store was imported.
    Legacy,
    /// The file was damaged, moved aside, and the store started empty.
    Reset(Corruption),
}

/// When `store` reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Every changing `store` rewrites the file before returning.
    #[default]
    Immediate,
    /// `store` only updates memory; [`FramFile::flush`] or drop writes.
    Deferred,
}

/// A [`Persist`] store kept in memory and mirrored to a file.
#[derive(Debug)]
pub struct FramFile {
    path: PathBuf,
    tmp: PathBuf,
    records: BTreeMap<u16, u16>,
    mode: WriteMode,
    dirty: bool,
    file_writes: u64,
    outcome: LoadOutcome,
}

impl FramFile {
    /// Open the store at `path` (missing = empty); a damaged file is an error.
    ///
    /// # Errors
    /// [`FramError::Io`] if the file exists but cannot be read, [`FramError::Corrupt`] if
    /// it fails a check.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, FramError> {
        let path = path.into();
        let (records, outcome) = match read_image(&path)? {
            None => (BTreeMap::new(), LoadOutcome::Missing),
            Some(bytes) => match decode(&bytes) {
                Ok((records, legacy)) => {
                    let outcome = if legacy {
                        LoadOutcome::Legacy
                    } else {
                        LoadOutcome::Loaded
                    };
                    (records, outcome)
                }
                Err(reason) => return Err(FramError::Corrupt { path, reason }),
            },
        };
        // A temporary file left by a write that was interrupted (a crash, `kill -9`) is
        // never the image: the rename did not happen. Removed now so none accumulate.
        let tmp = sibling(&path, ".tmp");
        if std::fs::symlink_metadata(&tmp).is_ok_and(|m| m.is_file()) {
            let _ = std::fs::remove_file(&tmp);
        }
        Ok(Self::from_parts(path, records, outcome))
    }

    /// Open the store at `path`; a damaged file is logged, renamed to `<name>.corrupt`
    /// and replaced by an empty store.
    ///
    /// # Errors
    /// [`FramError::Io`] if the file cannot be read or moved aside.
    pub fn open_or_reset(path: impl Into<PathBuf>) -> Result<Self, FramError> {
        match Self::open(path) {
            Err(FramError::Corrupt { path, reason }) => {
                let aside = sibling(&path, ".corrupt");
                fs::rename(&path, &aside).map_err(|source| FramError::Io {
                    path: path.clone(),
                    source,
                })?;
                tracing::warn!(
                    file = %path.display(),
                    moved_to = %aside.display(),
                    %reason,
                    "persistence store damaged; starting empty"
                );
                Ok(Self::from_parts(
                    path,
                    BTreeMap::new(),
                    LoadOutcome::Reset(reason),
                ))
            }
            other => other,
        }
    }

    fn from_parts(path: PathBuf, records: BTreeMap<u16, u16>, outcome: LoadOutcome) -> Self {
        Self {
            tmp: sibling(&path, ".tmp"),
            path,
            records,
            mode: WriteMode::Immediate,
            dirty: false,
            file_writes: 0,
            outcome,
        }
    }

    /// Choose when stores reach the disk.
    #[must_use]
    pub fn with_write_mode(mut self, mode: WriteMode) -> Self {
        self.mode = mode;
        self
    }

    /// The store file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the file was found at open.
    #[must_use]
    pub fn load_outcome(&self) -> LoadOutcome {
        self.outcome
    }

    /// The record for `key`.
    #[must_use]
    pub fn get(&self, key: u16) -> Option<u16> {
        self.records.get(&key).copied()
    }

    /// All records, ordered by key.
    pub fn records(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        self.records.iter().map(|(k, v)| (*k, *v))
    }

    /// Number of records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the store holds no record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Whether memory holds changes the file lacks (deferred mode, or a failed write).
    #[must_use]
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Number of times the file has been rewritten by this instance.
    #[must_use]
    pub fn file_writes(&self) -> u64 {
        self.file_writes
    }

    /// Write the image if memory has changes the file lacks.
    ///
    /// # Errors
    /// [`FramError::Io`]; the changes stay pending for the next attempt.
    pub fn flush(&mut self) -> Result<(), FramError> {
        if self.dirty {
            self.write_file()?;
        }
        Ok(())
    }

    fn write_file(&mut self) -> Result<(), FramError> {
        let image = encode(&self.records);
        let io_at = |path: &Path| {
            let path = path.to_path_buf();
            move |source| FramError::Io { path, source }
        };
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.tmp)
            .map_err(io_at(&self.tmp))?;
        f.write_all(&image).map_err(io_at(&self.tmp))?;
        f.sync_all().map_err(io_at(&self.tmp))?;
        drop(f);
        fs::rename(&self.tmp, &self.path).map_err(io_at(&self.path))?;
        sync_parent(&self.path).map_err(io_at(&self.path))?;
        self.dirty = false;
        self.file_writes = self.file_writes.saturating_add(1);
        Ok(())
    }
}

impl Persist for FramFile {
    fn load(&mut self, key: u16) -> Option<u16> {
        if is_usable_key(key) {
            self.get(key)
        } else {
            None
        }
    }

    fn store(&mut self, key: u16, bits: u16) -> Result<(), PersistError> {
        if !is_usable_key(key) {
            return Err(PersistError { key });
        }
        if self.records.insert(key, bits) == Some(bits) && !self.dirty {
            return Ok(());
        }
        self.dirty = true;
        if self.mode == WriteMode::Deferred {
            return Ok(());
        }
        self.write_file().map_err(|e| {
            // The value stays in memory and dirty, so the next store or flush retries.
            tracing::warn!(key, error = %e, "persistence store write failed");
            PersistError { key }
        })
    }
}

impl Drop for FramFile {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e, "persistence store: final write failed");
        }
    }
}

/// `<file name><suffix>` beside `path`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(ToOwned::to_owned).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

fn read_image(path: &Path) -> Result<Option<Vec<u8>>, FramError> {
    let io_err = |source| FramError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(e)),
    };
    let mut bytes = Vec::new();
    f.take(MAX_READ + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    Ok(Some(bytes))
}

#[cfg(unix)]
fn sync_parent(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_parent(_path: &Path) -> io::Result<()> {
    // Directories cannot be opened for syncing here; the rename itself is atomic.
    Ok(())
}

/// The version-1 image of `records` (unusable keys are left out).
#[must_use]
pub fn encode(records: &BTreeMap<u16, u16>) -> Vec<u8> {
    let usable: Vec<(u16, u16)> = records
        .iter()
        .filter(|(k, _)| is_usable_key(**k))
        .map(|(k, v)| (*k, *v))
        .collect();
    // At most 0xFFFE usable keys exist, so the count always fits.
    let count = u16::try_from(usable.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(HEADER_LEN + RECORD_LEN * usable.len() + CRC_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    for (k, v) in usable {
        out.extend_from_slice(&k.to_le_bytes());
        out.extend_from_slice(&v.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Parse a store file: `(records, was_legacy_json)`.
///
/// # Errors
/// The [`Corruption`] found.
pub fn decode(bytes: &[u8]) -> Result<(BTreeMap<u16, u16>, bool), Corruption> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return decode_legacy(bytes).map(|r| (r, true));
    }
    if bytes.len() > MAX_IMAGE {
        return Err(Corruption::TooLarge);
    }
    if bytes.get(..4) != Some(&MAGIC[..]) {
        return Err(Corruption::Magic);
    }
    let body_len = bytes
        .len()
        .checked_sub(CRC_LEN)
        .filter(|n| *n >= HEADER_LEN)
        .ok_or(Corruption::Length(bytes.len()))?;
    let (body, crc) = bytes.split_at(body_len);
    let crc = u32::from_le_bytes(
        crc.try_into()
            .map_err(|_| Corruption::Length(bytes.len()))?,
    );
    if crc32fast::hash(body) != crc {
        return Err(Corruption::Checksum);
    }
    let le16 = |at: usize| match body.get(at..at + 2) {
        Some(&[a, b]) => u16::from_le_bytes([a, b]),
        _ => 0,
    };
    let version = le16(4);
    if version != FORMAT_VERSION {
        return Err(Corruption::Version(version));
    }
    let count = usize::from(le16(6));
    if body.len() != HEADER_LEN + RECORD_LEN * count {
        return Err(Corruption::Length(bytes.len()));
    }
    let mut records = BTreeMap::new();
    let mut last: Option<u16> = None;
    for rec in body
        .get(HEADER_LEN..)
        .unwrap_or_default()
        .chunks_exact(RECORD_LEN)
    {
        let [k0, k1, v0, v1] = rec else {
            return Err(Corruption::Length(bytes.len()));
        };
        let key = u16::from_le_bytes([*k0, *k1]);
        if !is_usable_key(key) || last.is_some_and(|l| key <= l) {
            return Err(Corruption::Keys);
        }
        last = Some(key);
        records.insert(key, u16::from_le_bytes([*v0, *v1]));
    }
    Ok((records, false))
}

/// The reference's `{"<key>": <int>}` store: values are masked to 16 bits as it does;
/// unusable keys are dropped.
fn decode_legacy(bytes: &[u8]) -> Result<BTreeMap<u16, u16>, Corruption> {
    let map: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|_| Corruption::Json)?;
    let mut records = BTreeMap::new();
    for (k, v) in map {
        let key: u16 = k.trim().parse().map_err(|_| Corruption::Json)?;
        let raw = v
            .as_i64()
            .or_else(|| v.as_u64().map(|u| (u & 0xFFFF) as i64))
            .ok_or(Corruption::Json)?;
        if is_usable_key(key) {
            records.insert(key, (raw & 0xFFFF) as u16);
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn path_in(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("fram.bin")
    }

    #[test]
    fn round_trip_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = path_in(&dir);
        {
            let mut f = FramFile::open(&p).unwrap();
            assert_eq!(f.load_outcome(), LoadOutcome::Missing);
            assert_eq!(f.load(17), None);
            f.store(17, 0x4CA0).unwrap();
            f.store(0xFFFE, 0x3C00).unwrap();
            f.store(17, 0x4D00).unwrap();
            assert_eq!(f.file_writes(), 3);
            // An unchanged value costs no write.
            f.store(17, 0x4D00).unwrap();
            assert_eq!(f.file_writes(), 3);
            assert_eq!(f.store(0, 1), Err(PersistError { key: 0 }));
            assert_eq!(f.store(0xFFFF, 1), Err(PersistError { key: 0xFFFF }));
        }
        let mut f = FramFile::open(&p).unwrap();
        assert_eq!(f.load_outcome(), LoadOutcome::Loaded);
        assert_eq!(f.load(17), Some(0x4D00));
        assert_eq!(f.load(0xFFFE), Some(0x3C00));
        assert_eq!(f.load(0xFFFF), None);
        assert_eq!(f.len(), 2);
        assert_eq!(
            std::fs::read(&p).unwrap().len(),
            HEADER_LEN + 2 * RECORD_LEN + CRC_LEN
        );
    }

    #[test]
    fn torn_temp_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let p = path_in(&dir);
        FramFile::open(&p).unwrap().store(5, 0x1234).unwrap();
        // A crash between writing the temp file and renaming it leaves a partial image.
        let full = encode(&BTreeMap::from([(5, 0x9999), (6, 0x8888)]));
        std::fs::write(sibling(&p, ".tmp"), &full[..full.len() - 3]).unwrap();
        let mut f = FramFile::open(&p).unwrap();
        assert!(!sibling(&p, ".tmp").exists(), "removed at open");
        assert_eq!(f.load(5), Some(0x1234));
        assert_eq!(f.load(6), None);
        f.store(6, 0x0001).unwrap();
        drop(f);
        let f = FramFile::open(&p).unwrap();
        assert_eq!(
            f.records().collect::<Vec<_>>(),
            vec![(5, 0x1234), (6, 0x0001)]
        );
        assert!(!sibling(&p, ".tmp").exists());
    }

    #[test]
    fn corrupt_file_is_detected_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let p = path_in(&dir);
        FramFile::open(&p).unwrap().store(9, 0x4000).unwrap();
        let good = std::fs::read(&p).unwrap();
        let mut bad = good.clone();
        bad[HEADER_LEN + 2] ^= 0x01;
        std::fs::write(&p, &bad).unwrap();
        match FramFile::open(&p) {
            Err(FramError::Corrupt { reason, .. }) => assert_eq!(reason, Corruption::Checksum),
            other => panic!("expected corruption, got {other:?}"),
        }
        // The lenient open keeps the damaged bytes aside and starts empty.
        let f = FramFile::open_or_reset(&p).unwrap();
        assert_eq!(f.load_outcome(), LoadOutcome::Reset(Corruption::Checksum));
        assert!(f.is_empty());
        assert_eq!(std::fs::read(sibling(&p, ".corrupt")).unwrap(), bad);
        assert!(!p.exists());
    }

    #[test]
    fn every_truncation_and_bit_flip_is_rejected() {
        let image = encode(&BTreeMap::from([
            (1, 0x0102),
            (0x00FF, 0xABCD),
            (0xFFFE, 7),
        ]));
        assert!(decode(&image).is_ok());
        for len in 0..image.len() {
            assert!(decode(&image[..len]).is_err(), "truncated to {len}");
        }
        for i in 0..image.len() {
            for bit in 0..8 {
                let mut b = image.clone();
                b[i] ^= 1 << bit;
                assert!(decode(&b).is_err(), "flip byte {i} bit {bit}");
            }
        }
        let mut longer = image.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
    }

    #[test]
    fn structural_checks_behind_a_valid_checksum() {
        let reseal = |mut body: Vec<u8>| {
            let crc = crc32fast::hash(&body);
            body.extend_from_slice(&crc.to_le_bytes());
            body
        };
        let mut v2 = MAGIC.to_vec();
        v2.extend_from_slice(&[2, 0, 0, 0]);
        assert_eq!(decode(&reseal(v2)), Err(Corruption::Version(2)));
        let mut unordered = MAGIC.to_vec();
        unordered.extend_from_slice(&[1, 0, 2, 0, 5, 0, 1, 1, 4, 0, 1, 1]);
        assert_eq!(decode(&reseal(unordered)), Err(Corruption::Keys));
        let mut zero_key = MAGIC.to_vec();
        zero_key.extend_from_slice(&[1, 0, 1, 0, 0, 0, 1, 1]);
        assert_eq!(decode(&reseal(zero_key)), Err(Corruption::Keys));
        let mut short = MAGIC.to_vec();
        short.extend_from_slice(&[1, 0, 2, 0, 5, 0, 1, 1]);
        assert_eq!(decode(&reseal(short)), Err(Corruption::Length(16)));
        assert_eq!(decode(b"nonsense"), Err(Corruption::Magic));
        assert_eq!(decode(b""), Err(Corruption::Magic));
    }

    #[test]
    fn legacy_json_store_is_imported_then_converted() {
        let dir = tempfile::tempdir().unwrap();
        let p = path_in(&dir);
        // Keys 0 and 65535 are dropped; 70000 is masked to 16 bits (4464) as the reference does.
        std::fs::write(&p, br#" {"17": 19616, "0": 5, "65535": 6, "40": 70000}"#).unwrap();
        let mut f = FramFile::open(&p).unwrap();
        assert_eq!(f.load_outcome(), LoadOutcome::Legacy);
        assert_eq!(
            f.records().collect::<Vec<_>>(),
            vec![(17, 19616), (40, 4464)]
        );
        f.store(41, 1).unwrap();
        drop(f);
        assert_eq!(std::fs::read(&p).unwrap().get(..4), Some(&MAGIC[..]));
        assert_eq!(FramFile::open(&p).unwrap().len(), 3);

        std::fs::write(&p, br#"{"17": "x"}"#).unwrap();
        assert!(matches!(
            FramFile::open(&p),
            Err(FramError::Corrupt {
                reason: Corruption::Json,
                ..
            })
        ));
    }

    #[test]
    fn deferred_mode_writes_on_flush_and_drop() {
        let dir = tempfile::tempdir().unwrap();
        let p = path_in(&dir);
        let mut f = FramFile::open(&p)
            .unwrap()
            .with_write_mode(WriteMode::Deferred);
        for i in 1..=100u16 {
            f.store(i, i.wrapping_mul(3)).unwrap();
        }
        assert!(!p.exists());
        assert!(f.is_dirty());
        f.flush().unwrap();
        assert_eq!(f.file_writes(), 1);
        f.store(100, 1).unwrap();
        drop(f);
        let f = FramFile::open(&p).unwrap();
        assert_eq!(f.len(), 100);
        assert_eq!(f.get(99), Some(297));
        assert_eq!(f.get(100), Some(1));
    }

    #[test]
    fn concurrent_keys_all_survive() {
        let dir = tempfile::tempdir().unwrap();
        let p = path_in(&dir);
        let store = Arc::new(Mutex::new(FramFile::open(&p).unwrap()));
        let threads: Vec<_> = (0..4u16)
            .map(|t| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    for round in 0..10u16 {
                        for k in 0..5u16 {
                            let key = 1 + t * 100 + k;
                            store.lock().unwrap().store(key, round * 16 + k).unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(store);
        let f = FramFile::open(&p).unwrap();
        assert_eq!(f.len(), 20);
        for t in 0..4u16 {
            for k in 0..5u16 {
                assert_eq!(f.get(1 + t * 100 + k), Some(9 * 16 + k));
            }
        }
    }

    #[test]
    fn failed_write_keeps_value_pending_and_retries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub").join("fram.bin");
        let mut f = FramFile::open(&p).unwrap();
        // The directory does not exist yet, so the temp file cannot be created.
        assert_eq!(f.store(3, 0x3C00), Err(PersistError { key: 3 }));
        assert!(f.is_dirty());
        assert_eq!(f.load(3), Some(0x3C00));
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        f.store(4, 0x4000).unwrap();
        drop(f);
        let f = FramFile::open(&p).unwrap();
        assert_eq!(
            f.records().collect::<Vec<_>>(),
            vec![(3, 0x3C00), (4, 0x4000)]
        );
    }
}
