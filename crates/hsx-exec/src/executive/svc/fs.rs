//! SVC module 4: the file system (feature `fs`) and FS_WRITE to the stdio fds.

#[cfg(feature = "fs")]
use alloc::string::String;
#[cfg(feature = "fs")]
use hsx_vm::MEM_SIZE;

use super::super::{Executive, TaskCode};
// The recording build reaches the file system through a wrapper type, not `dyn FileSystem`.
#[cfg(all(feature = "fs", feature = "record"))]
use crate::backend::FileSystem as _;
#[cfg(feature = "fs")]
use crate::backend::sanitize_path;
use crate::mailbox::StdioStream;
use crate::status::fs as fst;

impl<C: TaskCode> Executive<C> {
    /// Without the `fs` feature (a board with no file system) module 4 is just FS_WRITE to
    /// the stdio fds; every other call fails with ERROR, a write to another fd writes 0 bytes
    /// (what [`crate::NullFs`] answers, without the path handling).
    #[cfg(not(feature = "fs"))]
    pub(super) fn svc_fs(&mut self, slot: usize, func: u8) {
        let result = if func == 0x02 {
            let pid = self.pid_of(slot);
            let fd = self.r16(slot, 1);
            let len = self.r16(slot, 3);
            let data = self.guest_bytes(slot, self.r(slot, 2), len);
            self.fs_write(pid, fd, &data)
        } else {
            fst::ERROR
        };
        self.set_r(slot, 0, fst::word(result));
    }

    #[cfg(feature = "fs")]
    pub(super) fn svc_fs(&mut self, slot: usize, func: u8) {
        let pid = self.pid_of(slot);
        let result: i32 = match func {
            0x00 => {
                let raw = self.guest_str(slot, self.r(slot, 1));
                let flags = self.r16(slot, 2);
                match sanitize_path(&raw) {
                    None => fst::EINVAL,
                    Some(p) => {
                        let r = self.host_fs().open(pid, &p, flags);
                        self.fs_refused(pid, r.err());
                        r.map_or(fst::ERROR, |fd| i32::try_from(fd).unwrap_or(fst::ERROR))
                    }
                }
            }
            0x01 => {
                let fd = self.r16(slot, 1);
                let ptr = self.r16(slot, 2);
                let len = self.r16(slot, 3) as usize;
                if fd < fst::FIRST_FD {
                    // The reference does not read stdin through FS_READ.
                    0
                } else {
                    let mut buf = alloc::vec![0u8; len.min(MEM_SIZE - ptr as usize)];
                    match self.host_fs().read(pid, fd, &mut buf) {
                        Ok(n) => {
                            let n = n.min(buf.len());
                            let w = self.write_guest(slot, ptr, buf.get(..n).unwrap_or_default());
                            i32::try_from(w).unwrap_or(0)
                        }
                        Err(_) => 0,
                    }
                }
            }
            0x02 => {
                let fd = self.r16(slot, 1);
                let len = self.r16(slot, 3);
                let data = self.guest_bytes(slot, self.r(slot, 2), len);
                self.fs_write(pid, fd, &data)
            }
            0x03 => {
                let fd = self.r16(slot, 1);
                if fd < fst::FIRST_FD {
                    fst::ERROR
                } else {
                    self.host_fs()
                        .close(pid, fd)
                        .map_or(fst::ERROR, |()| fst::OK)
                }
            }
            0x0A => {
                let raw = self.guest_str(slot, self.r(slot, 1));
                let out = self.r16(slot, 2);
                let max = self.r16(slot, 3) as usize;
                let trimmed = raw.trim();
                let path = if matches!(trimmed, "" | "/" | ".") {
                    Some(String::new())
                } else {
                    sanitize_path(trimmed)
                };
                match path {
                    None => fst::EINVAL,
                    Some(p) => match self.host_fs().listdir(pid, &p) {
                        Ok(list) => {
                            let n = list.len().min(max);
                            let w = self.write_guest(slot, out, list.get(..n).unwrap_or_default());
                            i32::try_from(w).unwrap_or(0)
                        }
                        Err(_) => fst::ERROR,
                    },
                }
            }
            0x0B | 0x0D => {
                let raw = self.guest_str(slot, self.r(slot, 1));
                match sanitize_path(&raw) {
                    None => fst::EINVAL,
                    Some(p) => {
                        let r = if func == 0x0B {
                            self.host_fs().delete(pid, &p)
                        } else {
                            self.host_fs().mkdir(pid, &p)
                        };
                        r.map_or(fst::ERROR, |()| fst::OK)
                    }
                }
            }
            0x0C => {
                let old = self.guest_str(slot, self.r(slot, 1));
                let new = self.guest_str(slot, self.r(slot, 2));
                match (sanitize_path(&old), sanitize_path(&new)) {
                    (Some(o), Some(n)) => self
                        .host_fs()
                        .rename(pid, &o, &n)
                        .map_or(fst::ERROR, |()| fst::OK),
                    _ => fst::EINVAL,
                }
            }
            _ => fst::ERROR,
        };
        self.set_r(slot, 0, fst::word(result));
    }

    /// FS_WRITE: fds 0/1/2 with data go to the task's stdio mailboxes (flags STDOUT/STDERR),
    /// anything else to the file system.
    pub(super) fn fs_write(&mut self, pid: u32, fd: u32, data: &[u8]) -> i32 {
        if fd < fst::FIRST_FD {
            if let Some(n) = self.mailboxes.write_stdio(pid, fd, data) {
                if n > 0
                    && let Some(h) = self.mailboxes.stdio_handles(pid)
                {
                    let stream = StdioStream::from_fd(fd).unwrap_or(StdioStream::In);
                    if let Ok(desc) = self.mailboxes.descriptor_of(pid, h.get(stream)) {
                        // A lazily opened stream is known from its first write on.
                        self.stdio_desc.insert(desc, (pid, stream));
                        self.after_send(desc, data);
                    }
                }
                self.process_completions();
                return i32::try_from(n).unwrap_or(0);
            }
            // Empty data or no stdio handle: the reference falls through to the file stub,
            // which knows no such descriptor.
            return 0;
        }
        #[cfg(feature = "fs")]
        {
            let r = self.host_fs().write(pid, fd, data);
            self.fs_refused(pid, r.err());
            r.map_or(0, |n| i32::try_from(n).unwrap_or(0))
        }
        #[cfg(not(feature = "fs"))]
        0
    }

    /// A call the file system refused for one of the task's budgets is reported as such.
    #[cfg(feature = "fs")]
    fn fs_refused(&mut self, pid: u32, e: Option<crate::backend::FsError>) {
        use super::super::Budget;
        use crate::backend::{FsBudget, FsError};
        if let Some(FsError::OverBudget(b, limit)) = e {
            let budget = match b {
                FsBudget::OpenFiles => Budget::Files,
                FsBudget::FileBytes => Budget::FileBytes,
            };
            self.budget_exceeded_pid(pid, budget, limit);
        }
    }
}
