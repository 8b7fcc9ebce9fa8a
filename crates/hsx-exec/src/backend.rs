//! Backend traits through which the executive reaches the outside world: the file system
//! of SVC module 0x04 ([`FileSystem`]), hardware such as CAN and UART ([`Hal`]), plus the
//! bundle handed to [`crate::Executive::new`] ([`Backends`]). Time is [`crate::clock::Clock`],
//! value persistence is [`crate::persist::Persist`].
//!
//! The executive validates every guest path with [`sanitize_path`] before a backend sees
//! it (`services.md` §5.5, `design.md` §4 item 9); a backend must still confine the
//! (relative, `..`-free) path to its own root — e.g. a host directory.

use crate::vecmap::VecMap;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::clock::{Clock, FixedClock};
use crate::persist::{MemPersist, Persist};

/// Why a file-system call failed. The SVC bridge turns every error into `-1` in `R0`
/// (an unsafe path is caught earlier and answers `-22`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    /// Unknown descriptor.
    #[error("bad file descriptor")]
    BadFd,
    /// No such file.
    #[error("no such file")]
    NotFound,
    /// Target exists (rename).
    #[error("file exists")]
    Exists,
    /// Path rejected by the backend.
    #[error("invalid path")]
    InvalidPath,
    /// Descriptor table or storage full.
    #[error("no space")]
    NoSpace,
    /// A per-task budget of the file system: the task holds its limit of open files, or the
    /// write would take a file, or all the task's writes, past their byte limit.
    #[error("file-system budget of the task exceeded")]
    OverBudget(FsBudget, u64),
    /// Any other backend failure.
    #[error("i/o error")]
    Io,
}

/// Which per-task file-system budget refused a call ([`FsError::OverBudget`], with the limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsBudget {
    /// Files open at once.
    OpenFiles,
    /// Bytes of one file, or bytes the task added to files in all.
    FileBytes,
}

/// One task's use of the file-system budgets ([`FileSystem::usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FsUsage {
    /// Files it holds open, and how many it may.
    pub open: (u64, u64),
    /// Bytes it added to files, and how many it may.
    pub bytes: (u64, u64),
}

/// File system behind SVC module 0x04. Paths are already sanitised (relative, `/`
/// separated, no `..`, no empty segment, no `:`). Descriptors are per task; 0, 1 and 2 are
/// the task's stdio and never reach the backend, so backends hand out descriptors from 3.
pub trait FileSystem: Send {
    /// Open (creating a missing file, as the reference does unless a backend decides
    /// otherwise); `flags` are the guest's `HSX_FS_O_*` bits. Returns a descriptor ≥ 3.
    ///
    /// # Errors
    /// Any [`FsError`].
    fn open(&mut self, pid: u32, path: &str, flags: u32) -> Result<u32, FsError>;
    /// Read at the descriptor's position; returns bytes read (0 at end of file).
    ///
    /// # Errors
    /// Any [`FsError`].
    fn read(&mut self, pid: u32, fd: u32, buf: &mut [u8]) -> Result<usize, FsError>;
    /// Write at the descriptor's position (the file grows, gaps read as zero).
    ///
    /// # Errors
    /// Any [`FsError`].
    fn write(&mut self, pid: u32, fd: u32, data: &[u8]) -> Result<usize, FsError>;
    /// Close a descriptor.
    ///
    /// # Errors
    /// [`FsError::BadFd`] for an unknown descriptor.
    fn close(&mut self, pid: u32, fd: u32) -> Result<(), FsError>;
    /// Names under `path` (empty = the root), sorted, newline-separated.
    ///
    /// # Errors
    /// Any [`FsError`].
    fn listdir(&mut self, pid: u32, path: &str) -> Result<Vec<u8>, FsError>;
    /// Delete a file.
    ///
    /// # Errors
    /// Any [`FsError`].
    fn delete(&mut self, pid: u32, path: &str) -> Result<(), FsError>;
    /// Rename; fails if `new` exists.
    ///
    /// # Errors
    /// Any [`FsError`].
    fn rename(&mut self, pid: u32, old: &str, new: &str) -> Result<(), FsError>;
    /// Create a directory.
    ///
    /// # Errors
    /// Any [`FsError`].
    fn mkdir(&mut self, pid: u32, path: &str) -> Result<(), FsError>;
    /// What task `pid` uses of its file-system budgets, if the backend keeps them.
    fn usage(&self, pid: u32) -> Option<FsUsage> {
        let _ = pid;
        None
    }
    /// Close every descriptor of `pid` (task exit or kill).
    fn release_pid(&mut self, pid: u32) {
        let _ = pid;
    }
}

/// Check a guest path against the sandbox rules and normalise it: backslashes become `/`,
/// surrounding whitespace is trimmed; an empty path, any `:` (drive letters, URLs), an
/// absolute path (including `//host/share` UNC forms) and any `..` or empty segment are
/// rejected. `.` segments are dropped. Returns `None` for a rejected path.
#[must_use]
pub fn sanitize_path(raw: &str) -> Option<String> {
    let swapped: String = raw
        .chars()
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let p = swapped.trim();
    if p.is_empty() || p.contains(':') || p.starts_with('/') {
        return None;
    }
    let mut out = String::with_capacity(p.len());
    for seg in p.split('/') {
        if seg.is_empty() || seg == ".." || seg.chars().any(char::is_control) {
            return None;
        }
        if seg == "." {
            continue;
        }
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(seg);
    }
    if out.is_empty() { None } else { Some(out) }
}

/// A file system that refuses everything (MCU builds without storage).
#[derive(Debug, Clone, Copy, Default)]
pub struct NullFs;

impl FileSystem for NullFs {
    fn open(&mut self, _pid: u32, _path: &str, _flags: u32) -> Result<u32, FsError> {
        Err(FsError::Io)
    }
    fn read(&mut self, _pid: u32, _fd: u32, _buf: &mut [u8]) -> Result<usize, FsError> {
        Err(FsError::BadFd)
    }
    fn write(&mut self, _pid: u32, _fd: u32, _data: &[u8]) -> Result<usize, FsError> {
        Err(FsError::BadFd)
    }
    fn close(&mut self, _pid: u32, _fd: u32) -> Result<(), FsError> {
        Err(FsError::BadFd)
    }
    fn listdir(&mut self, _pid: u32, _path: &str) -> Result<Vec<u8>, FsError> {
        Ok(Vec::new())
    }
    fn delete(&mut self, _pid: u32, _path: &str) -> Result<(), FsError> {
        Err(FsError::NotFound)
    }
    fn rename(&mut self, _pid: u32, _old: &str, _new: &str) -> Result<(), FsError> {
        Err(FsError::NotFound)
    }
    fn mkdir(&mut self, _pid: u32, _path: &str) -> Result<(), FsError> {
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct OpenFile {
    pid: u32,
    path: String,
    pos: usize,
}

/// In-memory file system, shared by all tasks, with per-task descriptors — the reference's
/// host stub made usable (tests, hosts without a sandbox directory).
#[derive(Debug, Clone, Default)]
pub struct MemFs {
    files: VecMap<String, Vec<u8>>,
    fds: VecMap<u32, OpenFile>,
    next_fd: u32,
    max_file_size: Option<usize>,
}

impl MemFs {
    /// An empty file system.
    #[must_use]
    pub fn new() -> Self {
        Self {
            next_fd: 3,
            ..Self::default()
        }
    }

    /// Refuse writes that would grow a file beyond `bytes`.
    #[must_use]
    pub fn with_max_file_size(mut self, bytes: usize) -> Self {
        self.max_file_size = Some(bytes);
        self
    }

    /// Add or replace a file.
    pub fn insert(&mut self, path: &str, data: &[u8]) {
        self.files.insert(String::from(path), data.to_vec());
    }

    /// A file's contents.
    #[must_use]
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Every path, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Number of open descriptors.
    #[must_use]
    pub fn open_count(&self) -> usize {
        self.fds.len()
    }

    fn file_of(&mut self, pid: u32, fd: u32) -> Result<&mut OpenFile, FsError> {
        self.fds
            .get_mut(&fd)
            .filter(|f| f.pid == pid)
            .ok_or(FsError::BadFd)
    }
}

impl FileSystem for MemFs {
    fn open(&mut self, pid: u32, path: &str, _flags: u32) -> Result<u32, FsError> {
        self.files.entry(String::from(path)).or_default();
        let start = self.next_fd.max(3);
        let mut fd = start;
        while self.fds.contains_key(&fd) {
            fd = fd.checked_add(1).ok_or(FsError::NoSpace)?;
        }
        self.next_fd = fd.saturating_add(1);
        self.fds.insert(
            fd,
            OpenFile {
                pid,
                path: String::from(path),
                pos: 0,
            },
        );
        Ok(fd)
    }

    fn read(&mut self, pid: u32, fd: u32, buf: &mut [u8]) -> Result<usize, FsError> {
        let f = self.file_of(pid, fd)?;
        let (path, pos) = (f.path.clone(), f.pos);
        let data = self.files.get(&path).ok_or(FsError::NotFound)?;
        let avail = data.get(pos..).unwrap_or_default();
        let n = avail.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        if let Some(f) = self.fds.get_mut(&fd) {
            f.pos = pos + n;
        }
        Ok(n)
    }

    fn write(&mut self, pid: u32, fd: u32, data: &[u8]) -> Result<usize, FsError> {
        let limit = self.max_file_size;
        let f = self.file_of(pid, fd)?;
        let (path, pos) = (f.path.clone(), f.pos);
        let end = pos.checked_add(data.len()).ok_or(FsError::NoSpace)?;
        if limit.is_some_and(|l| end > l) {
            return Err(FsError::NoSpace);
        }
        let file = self.files.entry(path).or_default();
        if file.len() < end {
            file.resize(end, 0);
        }
        if let Some(dst) = file.get_mut(pos..end) {
            dst.copy_from_slice(data);
        }
        if let Some(f) = self.fds.get_mut(&fd) {
            f.pos = end;
        }
        Ok(data.len())
    }

    fn close(&mut self, pid: u32, fd: u32) -> Result<(), FsError> {
        self.file_of(pid, fd)?;
        self.fds.remove(&fd);
        Ok(())
    }

    fn listdir(&mut self, _pid: u32, path: &str) -> Result<Vec<u8>, FsError> {
        let mut out = Vec::new();
        for name in self.files.keys() {
            let shown = if path.is_empty() {
                Some(name.as_str())
            } else {
                name.strip_prefix(path).and_then(|r| r.strip_prefix('/'))
            };
            if let Some(n) = shown {
                if !out.is_empty() {
                    out.push(b'\n');
                }
                out.extend_from_slice(n.as_bytes());
            }
        }
        Ok(out)
    }

    fn delete(&mut self, _pid: u32, path: &str) -> Result<(), FsError> {
        self.files.remove(path).map(|_| ()).ok_or(FsError::NotFound)
    }

    fn rename(&mut self, _pid: u32, old: &str, new: &str) -> Result<(), FsError> {
        if self.files.contains_key(new) {
            return Err(FsError::Exists);
        }
        let data = self.files.remove(old).ok_or(FsError::NotFound)?;
        self.files.insert(String::from(new), data);
        Ok(())
    }

    fn mkdir(&mut self, _pid: u32, _path: &str) -> Result<(), FsError> {
        Ok(())
    }

    fn release_pid(&mut self, pid: u32) {
        self.fds.retain(|_, f| f.pid != pid);
    }
}

/// Hardware reached by the legacy SVC modules (`services.md` §6): UART write (module 1)
/// and CAN transmit (module 2). Results are HAL status codes (`crate::status::hal`).
pub trait Hal: Send {
    /// Bytes written by a task with UART_WRITE (the executive also emits them as a
    /// `stdout` event).
    fn uart_write(&mut self, pid: u32, data: &[u8]) {
        let _ = (pid, data);
    }
    /// Bytes a task sent to its stdout (`err` false) or stderr mailbox. The executive also
    /// emits them as `stdout`/`stderr` events; a board without an event consumer prints
    /// them here (e.g. on its UART) and can switch events off.
    fn stdio_write(&mut self, pid: u32, err: bool, data: &[u8]) {
        let _ = (pid, err, data);
    }
    /// Transmit a CAN frame (`id` already masked to 11 bits). Returns a HAL status.
    fn can_tx(&mut self, pid: u32, id: u16, data: &[u8]) -> i32 {
        let _ = (pid, id, data);
        crate::status::hal::OK
    }
}

/// A HAL that accepts everything and does nothing (the executive still emits `can_tx`
/// and `stdout` events, which is the host build's log).
#[derive(Debug, Clone, Copy, Default)]
pub struct NullHal;

impl Hal for NullHal {}

/// Everything outside the core the executive needs.
pub struct Backends {
    /// Time source.
    pub clock: Box<dyn Clock>,
    /// File system for SVC module 0x04.
    pub fs: Box<dyn FileSystem>,
    /// UART/CAN.
    pub hal: Box<dyn Hal>,
    /// Value persistence store.
    pub persist: Box<dyn Persist + Send>,
}

impl Backends {
    /// `clock` plus in-memory defaults: [`MemFs`], [`NullHal`], [`MemPersist`].
    #[must_use]
    pub fn new(clock: impl Clock + 'static) -> Self {
        Self {
            clock: Box::new(clock),
            fs: Box::new(MemFs::new()),
            hal: Box::new(NullHal),
            persist: Box::new(MemPersist::new()),
        }
    }

    /// Replace the file system.
    #[must_use]
    pub fn with_fs(mut self, fs: impl FileSystem + 'static) -> Self {
        self.fs = Box::new(fs);
        self
    }

    /// Replace the HAL.
    #[must_use]
    pub fn with_hal(mut self, hal: impl Hal + 'static) -> Self {
        self.hal = Box::new(hal);
        self
    }

    /// Replace the persistence store.
    #[must_use]
    pub fn with_persist(mut self, persist: impl Persist + Send + 'static) -> Self {
        self.persist = Box::new(persist);
        self
    }
}

impl Default for Backends {
    /// A clock frozen at 0 and the in-memory defaults.
    fn default() -> Self {
        Self::new(FixedClock(0))
    }
}

impl core::fmt::Debug for Backends {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Backends").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_rules_of_services_5_5() {
        assert_eq!(sanitize_path("../../etc/passwd"), None);
        assert_eq!(sanitize_path("C:/windows/system32"), None);
        assert_eq!(sanitize_path(r"\\network\\share"), None);
        assert_eq!(sanitize_path("/abs"), None);
        assert_eq!(sanitize_path(""), None);
        assert_eq!(sanitize_path("   "), None);
        assert_eq!(sanitize_path("a//b"), None);
        assert_eq!(sanitize_path("a/../b"), None);
        assert_eq!(
            sanitize_path("data/log.txt").as_deref(),
            Some("data/log.txt")
        );
        assert_eq!(
            sanitize_path(r" data\log.txt ").as_deref(),
            Some("data/log.txt")
        );
        assert_eq!(sanitize_path("./x").as_deref(), Some("x"));
        assert_eq!(sanitize_path("."), None);
    }

    #[test]
    fn mem_fs_round_trip_and_per_pid_descriptors() {
        let mut fs = MemFs::new();
        let fd = fs.open(1, "a.txt", 0).unwrap();
        assert_eq!(fd, 3);
        assert_eq!(fs.write(1, fd, b"hello").unwrap(), 5);
        assert_eq!(fs.read(2, fd, &mut [0; 4]), Err(FsError::BadFd));
        fs.close(1, fd).unwrap();
        let fd = fs.open(1, "a.txt", 0).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(fs.read(1, fd, &mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(fs.rename(1, "a.txt", "b.txt"), Ok(()));
        assert_eq!(fs.listdir(1, "").unwrap(), b"b.txt");
        fs.release_pid(1);
        assert_eq!(fs.open_count(), 0);
    }
}
