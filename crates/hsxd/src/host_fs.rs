//! A real host directory behind the guest file-system SVC (module 0x04), `--fs-root DIR`.
//!
//! Every path-taking call is confined to the root (`design.md` §4 item 9; `services.md`
//! §5.5 recommends it): the guest path is re-checked with [`sanitize_path`] (relative, no
//! `..`, no empty segment, no `:`, so no drive letter or UNC form), the parent directory
//! is canonicalised and must lie under the canonical root, and a final component that is
//! a symbolic link is followed only when its target also lies under the root. A dangling
//! link is refused, because creating through it would create a file wherever it points.
//!
//! Open semantics: `flags == 0` keeps the reference behaviour (read/write, a missing file
//! is created empty). Any non-zero `flags` are honoured as `HSX_FS_O_*` bits: the access
//! mode (`RDONLY` 1, `WRONLY` 2, `RDWR` 3; 0 with other bits means read/write), `CREAT`
//! 4 (without it a missing file is [`FsError::NotFound`]), `TRUNC` 8 (only with write
//! access) and `APPEND` 0x10 (every write goes to the end). Reading a write-only
//! descriptor or writing a read-only one is [`FsError::BadFd`].
//!
//! Descriptors are numbered from 3 (lowest free first), owned by the opening task, and
//! bounded in all ([`DEFAULT_MAX_OPEN`]) and per task ([`DEFAULT_MAX_OPEN_PER_TASK`], so
//! one task holding all it may still leaves room for others); a descriptor of another
//! task is [`FsError::BadFd`]. Files grow to at most [`DEFAULT_MAX_FILE_BYTES`] unless
//! [`HostFs::with_max_file_size`] says otherwise.
//!
//! The checks and the later OS call are not atomic: a host process that swaps a
//! directory for a symlink between them could redirect one call. Guests cannot create
//! links through this API, so only the host's own users could do that.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use hsx_exec::backend::{FsBudget, sanitize_path};
use hsx_exec::status::fs as flag;
use hsx_exec::{FileSystem, FsError};

/// Descriptors open at once (all tasks together) unless [`HostFs::with_max_open`] says
/// otherwise.
pub const DEFAULT_MAX_OPEN: usize = 64;
/// Descriptors one task may hold at once unless [`HostFs::with_max_open_per_task`] says
/// otherwise.
pub const DEFAULT_MAX_OPEN_PER_TASK: usize = 16;
/// Largest file a guest write may produce by default (a guest once wrote 196 MB in 0.3 s).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Bytes one task may add to files in all (growth of files it writes, over its life) by
/// default, so many files of the per-file limit cannot fill the disk either.
pub const DEFAULT_MAX_TASK_BYTES: u64 = 64 * 1024 * 1024;

/// Largest LISTDIR answer built; the guest address space is 64 KiB, so more is never
/// deliverable.
const LISTDIR_LIMIT: usize = 64 * 1024;

/// Descriptors must fit the 16-bit registers the SVC bridge reads them from.
const FD_CEILING: usize = u16::MAX as usize - flag::FIRST_FD as usize;

/// The guest file system rooted at a host directory.
#[derive(Debug)]
pub struct HostFs {
    root: PathBuf,
    fds: BTreeMap<u32, Handle>,
    max_open: usize,
    max_open_per_task: usize,
    max_file_size: Option<u64>,
    max_task_bytes: u64,
    /// Bytes each live task has added to files.
    grown: BTreeMap<u32, u64>,
}

#[derive(Debug)]
struct Handle {
    pid: u32,
    file: File,
    read: bool,
    write: bool,
    append: bool,
}

/// A guest path resolved inside the root.
#[derive(Debug)]
struct Resolved {
    /// Canonical parent joined with the final name, links not followed: what delete and
    /// rename act on (so deleting a link removes the link, not its target).
    entry: PathBuf,
    /// Where `entry` leads once a final symlink is followed (equal to `entry` otherwise).
    target: PathBuf,
    exists: bool,
    is_link: bool,
}

impl HostFs {
    /// A file system rooted at `root`, which must be an existing directory.
    ///
    /// # Errors
    /// The root cannot be canonicalised or is not a directory.
    pub fn new(root: impl AsRef<Path>) -> io::Result<Self> {
        let root = fs::canonicalize(root.as_ref())?;
        if !fs::metadata(&root)?.is_dir() {
            return Err(io::Error::new(
                ErrorKind::NotADirectory,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(Self {
            root,
            fds: BTreeMap::new(),
            max_open: DEFAULT_MAX_OPEN,
            max_open_per_task: DEFAULT_MAX_OPEN_PER_TASK,
            max_file_size: Some(DEFAULT_MAX_FILE_BYTES),
            max_task_bytes: DEFAULT_MAX_TASK_BYTES,
            grown: BTreeMap::new(),
        })
    }

    /// Like [`HostFs::new`], creating the root directory (and its parents) first.
    ///
    /// # Errors
    /// The directory cannot be created or canonicalised.
    pub fn create(root: impl AsRef<Path>) -> io::Result<Self> {
        fs::create_dir_all(root.as_ref())?;
        Self::new(root)
    }

    /// Allow at most `n` descriptors open at once (clamped to 1..=65532 so every
    /// descriptor fits a 16-bit register).
    #[must_use]
    pub fn with_max_open(mut self, n: usize) -> Self {
        self.max_open = n.clamp(1, FD_CEILING);
        self
    }

    /// Allow one task at most `n` descriptors at once (at least 1).
    #[must_use]
    pub fn with_max_open_per_task(mut self, n: usize) -> Self {
        self.max_open_per_task = n.max(1);
        self
    }

    /// Refuse writes that would take the bytes one task adds to files, in all, beyond
    /// `bytes` ([`FsError::OverBudget`]).
    #[must_use]
    pub fn with_max_task_bytes(mut self, bytes: u64) -> Self {
        self.max_task_bytes = bytes;
        self
    }

    /// Refuse writes that would grow a file beyond `bytes` ([`FsError::OverBudget`]).
    #[must_use]
    pub fn with_max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = Some(bytes);
        self
    }

    /// The canonical root directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Number of open descriptors (all tasks).
    #[must_use]
    pub fn open_count(&self) -> usize {
        self.fds.len()
    }

    fn confined(&self, p: &Path) -> bool {
        p.starts_with(&self.root)
    }

    /// Sandbox a non-empty guest path (see the module documentation).
    fn resolve(&self, raw: &str) -> Result<Resolved, FsError> {
        let clean = sanitize_path(raw).ok_or(FsError::InvalidPath)?;
        let mut segs: Vec<&str> = clean.split('/').collect();
        let name = segs.pop().ok_or(FsError::InvalidPath)?;
        if segs
            .iter()
            .chain(core::iter::once(&name))
            .any(|s| is_reserved_name(s))
        {
            return Err(FsError::InvalidPath);
        }
        let parent = segs.iter().fold(self.root.clone(), |p, s| p.join(s));
        let parent = fs::canonicalize(&parent).map_err(|e| map_io(&e))?;
        if !self.confined(&parent) {
            tracing::debug!(path = raw, "fs: parent escapes the sandbox");
            return Err(FsError::InvalidPath);
        }
        let entry = parent.join(name);
        match fs::symlink_metadata(&entry) {
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Resolved {
                target: entry.clone(),
                entry,
                exists: false,
                is_link: false,
            }),
            Err(e) => Err(map_io(&e)),
            Ok(m) if m.file_type().is_symlink() => {
                // A dangling or looping link cannot be vetted: refuse it.
                let target = fs::canonicalize(&entry).map_err(|_| FsError::InvalidPath)?;
                if !self.confined(&target) {
                    tracing::debug!(path = raw, "fs: symlink escapes the sandbox");
                    return Err(FsError::InvalidPath);
                }
                Ok(Resolved {
                    entry,
                    target,
                    exists: true,
                    is_link: true,
                })
            }
            Ok(_) => Ok(Resolved {
                target: entry.clone(),
                entry,
                exists: true,
                is_link: false,
            }),
        }
    }

    fn handle(&mut self, pid: u32, fd: u32) -> Result<&mut Handle, FsError> {
        self.fds
            .get_mut(&fd)
            .filter(|h| h.pid == pid)
            .ok_or(FsError::BadFd)
    }

    fn free_fd(&self, pid: u32) -> Result<u32, FsError> {
        if self.fds.len() >= self.max_open {
            return Err(FsError::NoSpace);
        }
        if self.fds.values().filter(|h| h.pid == pid).count() >= self.max_open_per_task {
            return Err(FsError::OverBudget(
                FsBudget::OpenFiles,
                self.max_open_per_task as u64,
            ));
        }
        // The table is bounded, so the first gap is found within max_open + 1 probes.
        let mut fd = flag::FIRST_FD;
        for used in self.fds.keys() {
            if *used != fd {
                break;
            }
            fd = fd.checked_add(1).ok_or(FsError::NoSpace)?;
        }
        Ok(fd)
    }
}

/// Windows device names (`CON`, `NUL`, `COM1`, `LPT1.txt`, …) name devices, not files,
/// on Windows; they are refused everywhere so a sandbox behaves the same on every host.
fn is_reserved_name(seg: &str) -> bool {
    let stem = seg.split('.').next().unwrap_or(seg).trim_end();
    let upper = stem.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let b = upper.as_bytes();
            b.len() == 4
                && (upper.starts_with("COM") || upper.starts_with("LPT"))
                && b.get(3).is_some_and(|c| (b'1'..=b'9').contains(c))
        }
    }
}

fn map_io(e: &io::Error) -> FsError {
    match e.kind() {
        ErrorKind::NotFound => FsError::NotFound,
        ErrorKind::AlreadyExists => FsError::Exists,
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge => {
            FsError::NoSpace
        }
        ErrorKind::NotADirectory
        | ErrorKind::IsADirectory
        | ErrorKind::InvalidFilename
        | ErrorKind::InvalidInput => FsError::InvalidPath,
        _ => FsError::Io,
    }
}

impl FileSystem for HostFs {
    fn open(&mut self, pid: u32, path: &str, flags: u32) -> Result<u32, FsError> {
        let fd = self.free_fd(pid)?;
        let r = self.resolve(path)?;
        let (read, write, create, trunc, append) = if flags == 0 {
            (true, true, true, false, false)
        } else {
            let (read, write) = match flags & flag::O_RDWR {
                flag::O_RDONLY => (true, false),
                flag::O_WRONLY => (false, true),
                _ => (true, true),
            };
            let append = flags & flag::O_APPEND != 0;
            (
                read,
                write || append,
                flags & flag::O_CREAT != 0,
                flags & flag::O_TRUNC != 0 && (write || append),
                append,
            )
        };
        if r.exists {
            if fs::metadata(&r.target).map_err(|e| map_io(&e))?.is_dir() {
                return Err(FsError::InvalidPath);
            }
        } else if create {
            // create_new never follows a link planted at the name after resolve() looked.
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&r.target)
            {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(map_io(&e)),
            }
        } else {
            return Err(FsError::NotFound);
        }
        let file = OpenOptions::new()
            .read(read)
            .write(write)
            .truncate(trunc)
            .open(&r.target)
            .map_err(|e| map_io(&e))?;
        self.fds.insert(
            fd,
            Handle {
                pid,
                file,
                read,
                write,
                append,
            },
        );
        Ok(fd)
    }

    fn read(&mut self, pid: u32, fd: u32, buf: &mut [u8]) -> Result<usize, FsError> {
        let h = self.handle(pid, fd)?;
        if !h.read {
            return Err(FsError::BadFd);
        }
        let mut done = 0;
        while let Some(rest) = buf.get_mut(done..) {
            if rest.is_empty() {
                break;
            }
            match h.file.read(rest) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(map_io(&e)),
            }
        }
        Ok(done)
    }

    fn write(&mut self, pid: u32, fd: u32, data: &[u8]) -> Result<usize, FsError> {
        let limit = self.max_file_size;
        let task_limit = self.max_task_bytes;
        let grown = self.grown.get(&pid).copied().unwrap_or(0);
        let h = self.handle(pid, fd)?;
        if !h.write {
            return Err(FsError::BadFd);
        }
        let pos = if h.append {
            h.file.seek(SeekFrom::End(0))
        } else {
            h.file.stream_position()
        }
        .map_err(|e| map_io(&e))?;
        let len = u64::try_from(data.len()).map_err(|_| FsError::NoSpace)?;
        let end = pos.checked_add(len).ok_or(FsError::NoSpace)?;
        if let Some(l) = limit
            && end > l
        {
            return Err(FsError::OverBudget(FsBudget::FileBytes, l));
        }
        let old_len = h.file.metadata().map_err(|e| map_io(&e))?.len();
        let growth = end.saturating_sub(old_len);
        if grown.saturating_add(growth) > task_limit {
            return Err(FsError::OverBudget(FsBudget::FileBytes, task_limit));
        }
        // Writing past the end leaves a hole that reads back as zeros (trait contract).
        h.file.write_all(data).map_err(|e| map_io(&e))?;
        if growth > 0 {
            *self.grown.entry(pid).or_insert(0) += growth;
        }
        Ok(data.len())
    }

    fn close(&mut self, pid: u32, fd: u32) -> Result<(), FsError> {
        self.handle(pid, fd)?;
        self.fds.remove(&fd);
        Ok(())
    }

    fn listdir(&mut self, _pid: u32, path: &str) -> Result<Vec<u8>, FsError> {
        let dir = if path.is_empty() {
            self.root.clone()
        } else {
            let r = self.resolve(path)?;
            if !r.exists {
                return Err(FsError::NotFound);
            }
            r.target
        };
        let mut names: Vec<String> = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| map_io(&e))? {
            let entry = entry.map_err(|e| map_io(&e))?;
            // Names that are not UTF-8 or contain a newline cannot be listed unambiguously.
            if let Ok(name) = entry.file_name().into_string()
                && !name.contains('\n')
            {
                names.push(name);
            }
        }
        names.sort_unstable();
        let mut out = Vec::new();
        for name in names {
            if !out.is_empty() {
                out.push(b'\n');
            }
            out.extend_from_slice(name.as_bytes());
            if out.len() >= LISTDIR_LIMIT {
                out.truncate(LISTDIR_LIMIT);
                break;
            }
        }
        Ok(out)
    }

    fn delete(&mut self, _pid: u32, path: &str) -> Result<(), FsError> {
        let r = self.resolve(path)?;
        if !r.exists {
            return Err(FsError::NotFound);
        }
        let res = if !r.is_link && fs::symlink_metadata(&r.entry).is_ok_and(|m| m.is_dir()) {
            // Only an empty directory goes; a non-empty one is an error, never recursive.
            fs::remove_dir(&r.entry)
        } else {
            fs::remove_file(&r.entry)
        };
        res.map_err(|e| map_io(&e))
    }

    fn rename(&mut self, _pid: u32, old: &str, new: &str) -> Result<(), FsError> {
        let from = self.resolve(old)?;
        if !from.exists {
            return Err(FsError::NotFound);
        }
        let to = self.resolve(new)?;
        if to.exists {
            return Err(FsError::Exists);
        }
        fs::rename(&from.entry, &to.entry).map_err(|e| map_io(&e))
    }

    fn mkdir(&mut self, _pid: u32, path: &str) -> Result<(), FsError> {
        let r = self.resolve(path)?;
        if r.exists {
            // An existing directory is fine (the reference's MKDIR always answers 0).
            return if fs::metadata(&r.target).is_ok_and(|m| m.is_dir()) {
                Ok(())
            } else {
                Err(FsError::Exists)
            };
        }
        fs::create_dir(&r.entry).map_err(|e| map_io(&e))
    }

    fn usage(&self, pid: u32) -> Option<hsx_exec::backend::FsUsage> {
        let open = self.fds.values().filter(|h| h.pid == pid).count() as u64;
        Some(hsx_exec::backend::FsUsage {
            open: (open, self.max_open_per_task as u64),
            bytes: (
                self.grown.get(&pid).copied().unwrap_or(0),
                self.max_task_bytes,
            ),
        })
    }

    fn release_pid(&mut self, pid: u32) {
        self.fds.retain(|_, h| h.pid != pid);
        self.grown.remove(&pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RW_CREAT: u32 = flag::O_RDWR | flag::O_CREAT;

    fn setup() -> (tempfile::TempDir, HostFs) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let fs = HostFs::create(&root).unwrap();
        (dir, fs)
    }

    fn read_all(fs: &mut HostFs, pid: u32, fd: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            let n = fs.read(pid, fd, &mut buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn traversal_and_foreign_forms_are_rejected() {
        let (dir, mut fs) = setup();
        std::fs::write(dir.path().join("secret"), b"outside").unwrap();
        for bad in [
            "../../etc/passwd",
            "../secret",
            "a/../../secret",
            "C:/x",
            "c:x",
            "//server/share",
            r"\\server\share",
            "/etc/passwd",
            "",
            "a//b",
            "nul",
            "dir/COM1.txt",
        ] {
            assert_eq!(
                fs.open(1, bad, 0),
                Err(FsError::InvalidPath),
                "open {bad:?}"
            );
            assert_eq!(
                fs.delete(1, bad),
                Err(FsError::InvalidPath),
                "delete {bad:?}"
            );
            assert_eq!(fs.mkdir(1, bad), Err(FsError::InvalidPath), "mkdir {bad:?}");
            assert_eq!(fs.rename(1, bad, "ok"), Err(FsError::InvalidPath));
        }
        assert_eq!(fs.listdir(1, "../"), Err(FsError::InvalidPath));
        assert_eq!(fs.open_count(), 0);
        assert_eq!(
            std::fs::read(dir.path().join("secret")).unwrap(),
            b"outside"
        );
        // Nothing was created outside the root.
        let outside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(outside.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_leading_outside_are_refused() {
        use std::os::unix::fs::symlink;
        let (dir, mut fs) = setup();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("f"), b"x").unwrap();
        symlink(&outside, fs.root().join("escape_dir")).unwrap();
        symlink(outside.join("f"), fs.root().join("escape_file")).unwrap();
        symlink(outside.join("new"), fs.root().join("dangling")).unwrap();

        assert_eq!(fs.open(1, "escape_dir/f", 0), Err(FsError::InvalidPath));
        assert_eq!(
            fs.open(1, "escape_dir/new", RW_CREAT),
            Err(FsError::InvalidPath)
        );
        assert_eq!(fs.open(1, "escape_file", 0), Err(FsError::InvalidPath));
        assert_eq!(fs.open(1, "dangling", RW_CREAT), Err(FsError::InvalidPath));
        assert_eq!(fs.listdir(1, "escape_dir"), Err(FsError::InvalidPath));
        assert_eq!(fs.delete(1, "escape_dir/f"), Err(FsError::InvalidPath));
        assert_eq!(fs.mkdir(1, "escape_dir/sub"), Err(FsError::InvalidPath));
        assert_eq!(
            fs.rename(1, "escape_file", "mine"),
            Err(FsError::InvalidPath)
        );
        assert!(!outside.join("new").exists());
        assert!(!outside.join("sub").exists());
        assert!(outside.join("f").exists());

        // A link that stays inside the root is followed; deleting it removes the link only.
        std::fs::write(fs.root().join("real"), b"inside").unwrap();
        symlink(fs.root().join("real"), fs.root().join("alias")).unwrap();
        let fd = fs.open(1, "alias", flag::O_RDONLY).unwrap();
        assert_eq!(read_all(&mut fs, 1, fd), b"inside");
        fs.delete(1, "alias").unwrap();
        assert!(fs.root().join("real").exists());
    }

    #[test]
    fn create_write_read_list_rename_delete() {
        let (_dir, mut fs) = setup();
        fs.mkdir(1, "data").unwrap();
        fs.mkdir(1, "data").unwrap();
        let fd = fs.open(1, "data/log.txt", 0).unwrap();
        assert_eq!(fd, flag::FIRST_FD);
        assert_eq!(fs.write(1, fd, b"hello ").unwrap(), 6);
        assert_eq!(fs.write(1, fd, b"world").unwrap(), 5);
        fs.close(1, fd).unwrap();
        assert_eq!(fs.close(1, fd), Err(FsError::BadFd));

        let fd = fs.open(1, r" data\log.txt ", flag::O_RDONLY).unwrap();
        assert_eq!(read_all(&mut fs, 1, fd), b"hello world");
        fs.close(1, fd).unwrap();

        let fd = fs.open(1, "b.bin", 0).unwrap();
        fs.close(1, fd).unwrap();
        assert_eq!(fs.listdir(1, "").unwrap(), b"b.bin\ndata");
        assert_eq!(fs.listdir(1, "data").unwrap(), b"log.txt");
        assert_eq!(fs.listdir(1, "nope"), Err(FsError::NotFound));

        assert_eq!(fs.rename(1, "data/log.txt", "b.bin"), Err(FsError::Exists));
        assert_eq!(fs.rename(1, "missing", "x"), Err(FsError::NotFound));
        fs.rename(1, "data/log.txt", "moved.txt").unwrap();
        assert_eq!(
            std::fs::read(fs.root().join("moved.txt")).unwrap(),
            b"hello world"
        );
        assert_eq!(fs.listdir(1, "data").unwrap(), b"");

        fs.delete(1, "moved.txt").unwrap();
        assert_eq!(fs.delete(1, "moved.txt"), Err(FsError::NotFound));
        fs.delete(1, "data").unwrap();
        assert_eq!(fs.listdir(1, "").unwrap(), b"b.bin");
        assert_eq!(fs.open(1, "data", flag::O_RDWR), Err(FsError::NotFound));
        assert_eq!(fs.open(1, "no/such/dir.txt", 0), Err(FsError::NotFound));
    }

    #[test]
    fn flags_are_honoured() {
        let (_dir, mut fs) = setup();
        assert_eq!(fs.open(1, "f", flag::O_RDWR), Err(FsError::NotFound));
        let fd = fs.open(1, "f", flag::O_WRONLY | flag::O_CREAT).unwrap();
        fs.write(1, fd, b"abcdef").unwrap();
        assert_eq!(fs.read(1, fd, &mut [0; 4]), Err(FsError::BadFd));
        fs.close(1, fd).unwrap();

        let fd = fs.open(1, "f", flag::O_RDONLY).unwrap();
        assert_eq!(fs.write(1, fd, b"x"), Err(FsError::BadFd));
        fs.close(1, fd).unwrap();

        let fd = fs.open(1, "f", flag::O_WRONLY | flag::O_APPEND).unwrap();
        fs.write(1, fd, b"gh").unwrap();
        fs.close(1, fd).unwrap();
        assert_eq!(std::fs::read(fs.root().join("f")).unwrap(), b"abcdefgh");

        let fd = fs.open(1, "f", flag::O_RDWR | flag::O_TRUNC).unwrap();
        assert_eq!(read_all(&mut fs, 1, fd), b"");
        fs.close(1, fd).unwrap();

        fs.mkdir(1, "d").unwrap();
        assert_eq!(fs.open(1, "d", 0), Err(FsError::InvalidPath));
        assert_eq!(fs.mkdir(1, "f"), Err(FsError::Exists));
    }

    #[test]
    fn descriptors_are_per_task_bounded_and_released() {
        let (_dir, fs) = setup();
        let mut fs = fs.with_max_open(2).with_max_file_size(4);
        let a = fs.open(1, "a", 0).unwrap();
        let b = fs.open(2, "b", 0).unwrap();
        assert_eq!((a, b), (3, 4));
        assert_eq!(fs.open(1, "c", 0), Err(FsError::NoSpace));
        assert_eq!(fs.write(2, a, b"x"), Err(FsError::BadFd));
        assert_eq!(fs.close(2, a), Err(FsError::BadFd));
        assert_eq!(
            fs.write(1, a, b"12345"),
            Err(FsError::OverBudget(FsBudget::FileBytes, 4))
        );
        assert_eq!(fs.write(1, a, b"1234").unwrap(), 4);
        fs.close(1, a).unwrap();
        assert_eq!(fs.open(1, "c", 0).unwrap(), 3);
        fs.release_pid(1);
        assert_eq!(fs.open_count(), 1);
        fs.release_pid(2);
        assert_eq!(fs.open_count(), 0);
    }

    #[test]
    fn one_task_cannot_take_every_descriptor() {
        let (_dir, fs) = setup();
        let mut fs = fs.with_max_open(4).with_max_open_per_task(2);
        fs.open(1, "a", 0).unwrap();
        fs.open(1, "b", 0).unwrap();
        assert_eq!(
            fs.open(1, "c", 0),
            Err(FsError::OverBudget(FsBudget::OpenFiles, 2))
        );
        // Another task still opens its files.
        fs.open(2, "a", 0).unwrap();
        fs.open(2, "c", 0).unwrap();
        assert_eq!(
            fs.open(3, "d", 0),
            Err(FsError::NoSpace),
            "the table is full"
        );
        fs.release_pid(1);
        fs.open(3, "d", 0).unwrap();
        // The default file-size cap refuses a write past it.
        let (_dir2, mut big) = setup();
        let fd = big.open(1, "big", 0).unwrap();
        let chunk = vec![0u8; 1024 * 1024];
        let mut refused = false;
        for _ in 0..=DEFAULT_MAX_FILE_BYTES / chunk.len() as u64 {
            if big.write(1, fd, &chunk)
                == Err(FsError::OverBudget(
                    FsBudget::FileBytes,
                    DEFAULT_MAX_FILE_BYTES,
                ))
            {
                refused = true;
                break;
            }
        }
        assert!(refused, "a file stops growing at the cap");
    }

    #[test]
    fn a_task_adds_at_most_its_byte_budget_to_files_in_all() {
        let (_dir, fs) = setup();
        let mut fs = fs.with_max_task_bytes(10);
        let a = fs.open(1, "a", 0).unwrap();
        let b = fs.open(1, "b", 0).unwrap();
        assert_eq!(fs.write(1, a, b"123456").unwrap(), 6);
        assert_eq!(
            fs.write(1, b, b"12345"),
            Err(FsError::OverBudget(FsBudget::FileBytes, 10))
        );
        assert_eq!(fs.write(1, b, b"1234").unwrap(), 4);
        // Overwriting what is there adds nothing.
        fs.close(1, a).unwrap();
        let a = fs.open(1, "a", 0).unwrap();
        assert_eq!(fs.write(1, a, b"abcdef").unwrap(), 6);
        // Another task has its own budget; a released task's budget starts again.
        let c = fs.open(2, "c", 0).unwrap();
        assert_eq!(fs.write(2, c, b"0123456789").unwrap(), 10);
        fs.release_pid(1);
        let d = fs.open(1, "d", 0).unwrap();
        assert_eq!(fs.write(1, d, b"0123456789").unwrap(), 10);
    }

    #[test]
    fn gaps_read_as_zero() {
        let (_dir, mut fs) = setup();
        let fd = fs.open(1, "g", 0).unwrap();
        fs.write(1, fd, b"ab").unwrap();
        let h = fs.handle(1, fd).unwrap();
        h.file.seek(SeekFrom::Start(5)).unwrap();
        fs.write(1, fd, b"z").unwrap();
        fs.close(1, fd).unwrap();
        assert_eq!(std::fs::read(fs.root().join("g")).unwrap(), b"ab\0\0\0z");
    }

    #[test]
    fn root_must_be_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        assert!(HostFs::new(&file).is_err());
        assert!(HostFs::new(dir.path().join("missing")).is_err());
    }
}
