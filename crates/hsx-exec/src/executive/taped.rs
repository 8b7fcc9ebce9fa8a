//! The host backends as the SVC layer sees them. Without a recording they are the live
//! backends. While a run is recorded, every answer the host gives a guest (file system
//! results and data, CAN transmit status) is also written to the recording's tape; while a
//! recording is replayed, the answers come from the tape and the host is never touched, so
//! a replay neither reads changed files nor repeats output or writes.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::backend::{FileSystem, FsError, Hal};

/// One answer of the host to a guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapeEntry {
    /// A number (`open`'s descriptor, `write`'s count, CAN status as `u32`).
    Num(Result<u32, FsError>),
    /// Bytes (`read`'s data, `listdir`'s list).
    Bytes(Result<Vec<u8>, FsError>),
    /// Done or not (`close`, `delete`, `rename`, `mkdir`).
    Unit(Result<(), FsError>),
}

/// The answers recorded since the oldest snapshot; `base` is the global index of the first.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    pub entries: VecDeque<TapeEntry>,
    pub base: u64,
    /// Bytes held (data entries), for the recording's memory bound.
    pub bytes: usize,
}

impl Tape {
    /// Global index of the next entry to be written.
    pub fn end(&self) -> u64 {
        self.base + self.entries.len() as u64
    }

    pub(crate) fn push(&mut self, e: TapeEntry) {
        if let TapeEntry::Bytes(Ok(b)) = &e {
            self.bytes += b.len();
        }
        self.entries.push_back(e);
    }

    /// Forget entries before global index `keep`.
    pub fn drop_before(&mut self, keep: u64) {
        while self.base < keep {
            let Some(e) = self.entries.pop_front() else {
                break;
            };
            if let TapeEntry::Bytes(Ok(b)) = &e {
                self.bytes -= b.len();
            }
            self.base += 1;
        }
        self.base = self.base.max(keep.min(self.end()));
    }

    /// Forget entries from global index `from` on (the future after a divergence).
    pub fn truncate(&mut self, from: u64) {
        while self.end() > from.max(self.base) {
            if let Some(TapeEntry::Bytes(Ok(b))) = self.entries.pop_back() {
                self.bytes -= b.len();
            }
        }
    }
}

/// How the backends answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TapeMode {
    /// Live, answers written to the tape.
    Record,
    /// From the tape, at this global index (advanced per answer).
    Replay(u64),
}

/// The file system as the SVC layer uses it.
pub(crate) struct TapedFs<'a> {
    pub fs: &'a mut dyn FileSystem,
    pub tape: Option<(&'a mut Tape, &'a mut TapeMode)>,
}

/// What a replayed answer is when the tape has none (a replay that left the recorded run;
/// the caller detects the divergence through its state checks).
const MISSING: FsError = FsError::Io;

/// One answer: live, live and taped, or from the tape.
fn taped(
    tape: &mut Option<(&mut Tape, &mut TapeMode)>,
    live: impl FnOnce() -> TapeEntry,
) -> TapeEntry {
    let Some((tape, mode)) = tape else {
        return live();
    };
    match **mode {
        TapeMode::Record => {
            let e = live();
            tape.push(e.clone());
            e
        }
        TapeMode::Replay(at) => {
            **mode = TapeMode::Replay(at + 1);
            at.checked_sub(tape.base)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| tape.entries.get(i).cloned())
                .unwrap_or(TapeEntry::Unit(Err(MISSING)))
        }
    }
}

impl TapedFs<'_> {
    fn answer(&mut self, live: impl FnOnce(&mut dyn FileSystem) -> TapeEntry) -> TapeEntry {
        let fs = &mut *self.fs;
        taped(&mut self.tape, || live(fs))
    }

    fn replaying(&self) -> bool {
        matches!(&self.tape, Some((_, m)) if matches!(**m, TapeMode::Replay(_)))
    }

    fn num(e: TapeEntry) -> Result<u32, FsError> {
        match e {
            TapeEntry::Num(r) => r,
            _ => Err(MISSING),
        }
    }
    fn unit(e: TapeEntry) -> Result<(), FsError> {
        match e {
            TapeEntry::Unit(r) => r,
            _ => Err(MISSING),
        }
    }
}

impl FileSystem for TapedFs<'_> {
    fn open(&mut self, pid: u32, path: &str, flags: u32) -> Result<u32, FsError> {
        Self::num(self.answer(|fs| TapeEntry::Num(fs.open(pid, path, flags))))
    }
    fn read(&mut self, pid: u32, fd: u32, buf: &mut [u8]) -> Result<usize, FsError> {
        let e = self.answer(|fs| {
            let mut tmp = alloc::vec![0u8; buf.len()];
            TapeEntry::Bytes(fs.read(pid, fd, &mut tmp).map(|n| {
                tmp.truncate(n.min(tmp.len()));
                tmp
            }))
        });
        match e {
            TapeEntry::Bytes(Ok(data)) => {
                let n = data.len().min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..n), data.get(..n)) {
                    dst.copy_from_slice(src);
                }
                Ok(n)
            }
            TapeEntry::Bytes(Err(e)) => Err(e),
            _ => Err(MISSING),
        }
    }
    fn write(&mut self, pid: u32, fd: u32, data: &[u8]) -> Result<usize, FsError> {
        let e = self.answer(|fs| {
            TapeEntry::Num(
                fs.write(pid, fd, data)
                    .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            )
        });
        Self::num(e).map(|n| n as usize)
    }
    fn close(&mut self, pid: u32, fd: u32) -> Result<(), FsError> {
        Self::unit(self.answer(|fs| TapeEntry::Unit(fs.close(pid, fd))))
    }
    fn listdir(&mut self, pid: u32, path: &str) -> Result<Vec<u8>, FsError> {
        match self.answer(|fs| TapeEntry::Bytes(fs.listdir(pid, path))) {
            TapeEntry::Bytes(r) => r,
            _ => Err(MISSING),
        }
    }
    fn delete(&mut self, pid: u32, path: &str) -> Result<(), FsError> {
        Self::unit(self.answer(|fs| TapeEntry::Unit(fs.delete(pid, path))))
    }
    fn rename(&mut self, pid: u32, old: &str, new: &str) -> Result<(), FsError> {
        Self::unit(self.answer(|fs| TapeEntry::Unit(fs.rename(pid, old, new))))
    }
    fn mkdir(&mut self, pid: u32, path: &str) -> Result<(), FsError> {
        Self::unit(self.answer(|fs| TapeEntry::Unit(fs.mkdir(pid, path))))
    }
    fn release_pid(&mut self, pid: u32) {
        // A replayed task end must not close the live run's files.
        if !self.replaying() {
            self.fs.release_pid(pid);
        }
    }
}

/// The HAL as the SVC layer uses it: silent while replaying, CAN status taped.
pub(crate) struct TapedHal<'a> {
    pub hal: &'a mut dyn Hal,
    pub tape: Option<(&'a mut Tape, &'a mut TapeMode)>,
}

impl TapedHal<'_> {
    fn replaying(&self) -> bool {
        matches!(&self.tape, Some((_, m)) if matches!(**m, TapeMode::Replay(_)))
    }
}

impl Hal for TapedHal<'_> {
    fn uart_write(&mut self, pid: u32, data: &[u8]) {
        if !self.replaying() {
            self.hal.uart_write(pid, data);
        }
    }
    fn stdio_write(&mut self, pid: u32, err: bool, data: &[u8]) {
        if !self.replaying() {
            self.hal.stdio_write(pid, err, data);
        }
    }
    fn can_tx(&mut self, pid: u32, id: u16, data: &[u8]) -> i32 {
        let hal = &mut *self.hal;
        let e = taped(&mut self.tape, || {
            TapeEntry::Num(Ok(hal.can_tx(pid, id, data) as u32))
        });
        match e {
            TapeEntry::Num(Ok(s)) => s as i32,
            _ => crate::status::hal::OK,
        }
    }
}
