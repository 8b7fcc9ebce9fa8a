//! Per-task lifecycle: the default mailboxes and stdio handles created at load, stdio
//! routing and template modes, releasing everything a task holds, and per-PID counters.

use crate::vecmap::VecSet;
use alloc::string::String;
use alloc::vec::Vec;

use super::abi::{MailboxError, mode};
use super::manager::MailboxManager;
use super::records::{PidCounters, ReleaseReport};
use super::stdio::{STDIO_ERR, STDIO_IN, STDIO_OUT, StdioHandles, StdioStream};
use super::target::{Namespace, TargetKey};

impl MailboxManager {
    /// Create a task's default mailboxes (`svc:stdio.in/out/err` with the stdio template
    /// modes, `pid:<pid>` RDWR) and open its three stdio handles (normally 1, 2, 3).
    /// Idempotent: existing stdio handles are kept. With
    /// [`MailboxConfig::lazy_stdio`](super::MailboxConfig::lazy_stdio) only `pid:<pid>` is
    /// created here and the handles are 0 until the stream is first used.
    ///
    /// # Errors
    /// [`MailboxError::NoDescriptor`] / [`MailboxError::HandleLimit`] when the profile has no
    /// room; the caller should then [`Self::release_pid`].
    pub fn register_task(&mut self, pid: u32) -> Result<StdioHandles, MailboxError> {
        self.exited.remove(&pid);
        let lazy = self.config.lazy_stdio;
        if !lazy {
            for s in StdioStream::ALL {
                let m = self.stdio_modes[s.index()];
                self.bind_as(pid, s.target(), 0, m, false)?;
            }
        }
        self.bind_key(
            TargetKey {
                namespace: Namespace::Pid,
                name: crate::names::join_num("pid:", "", Some(pid)),
                owner: Some(pid),
            },
            0,
            mode::RDWR,
        )?;
        if let Some(s) = self.pids.get(&pid).and_then(|t| t.stdio) {
            return Ok(s);
        }
        let handles = if lazy {
            StdioHandles {
                stdin: 0,
                stdout: 0,
                stderr: 0,
            }
        } else {
            StdioHandles {
                stdin: self.open_inner(pid, STDIO_IN, true)?,
                stdout: self.open_inner(pid, STDIO_OUT, true)?,
                stderr: self.open_inner(pid, STDIO_ERR, true)?,
            }
        };
        self.pids.entry(pid).or_default().stdio = Some(handles);
        Ok(handles)
    }

    /// The task's stdio handles, if registered and still open (0 for a stream a lazy-stdio
    /// manager has not opened yet).
    #[must_use]
    pub fn stdio_handles(&self, pid: u32) -> Option<StdioHandles> {
        self.pids.get(&pid).and_then(|t| t.stdio)
    }

    /// The task's handle on `stream`, opened now if lazy stdio left it unopened. `None` when
    /// the task is not registered; `Some(0)` when the stream could not be opened (pool full).
    fn stdio_handle_or_open(&mut self, pid: u32, stream: StdioStream) -> Option<u32> {
        let h = self.stdio_handles(pid)?.get(stream);
        if h != 0 {
            return Some(h);
        }
        let Ok(h) = self.open_inner(pid, stream.target(), true) else {
            return Some(0);
        };
        if let Some(s) = self.pids.get_mut(&pid).and_then(|t| t.stdio.as_mut()) {
            s.set(stream, h);
        }
        Some(h)
    }

    /// The stream a lazily created descriptor key stands for (its template mode applies);
    /// always `None` without lazy stdio, so eager managers create descriptors as before.
    pub(super) fn lazy_stdio_stream(&self, key: &TargetKey) -> Option<StdioStream> {
        if !self.config.lazy_stdio || key.namespace != Namespace::Svc || key.owner.is_none() {
            return None;
        }
        StdioStream::ALL.into_iter().find(|s| s.name() == key.name)
    }

    /// Owner and stream of a stdio descriptor (by its key).
    #[must_use]
    pub fn stdio_owner(&self, descriptor: u32) -> Option<(u32, StdioStream)> {
        let key = &self.descriptors.get(&descriptor)?.key;
        if key.namespace != Namespace::Svc {
            return None;
        }
        let stream = StdioStream::ALL
            .into_iter()
            .find(|s| s.name() == key.name)?;
        Some((key.owner?, stream))
    }

    /// FS_WRITE routing for fds 0/1/2: `None` when the fd is not a stdio fd of this task or
    /// `data` is empty (the caller falls through to the file system); otherwise the length
    /// written, or 0 if the mailbox refused the message (or a lazy stream could not be
    /// opened).
    pub fn write_stdio(&mut self, pid: u32, fd: u32, data: &[u8]) -> Option<u32> {
        let stream = StdioStream::from_fd(fd)?;
        self.stdio_handles(pid)?;
        if data.is_empty() {
            return None;
        }
        let handle = self.stdio_handle_or_open(pid, stream)?;
        if handle == 0 {
            return Some(0);
        }
        Some(
            self.send(pid, handle, data, stream.write_flags(), 0)
                .map_or(0, |r| r.bytes),
        )
    }

    /// Stdio template mode used for newly registered tasks.
    #[must_use]
    pub const fn default_stdio_mode(&self, stream: StdioStream) -> u16 {
        self.stdio_modes[stream.index()]
    }

    /// Set the template mode; with `update_existing` also rebind every existing descriptor of
    /// that stream (which resets fan-out cursors). Returns the descriptors updated.
    pub fn set_default_stdio_mode(
        &mut self,
        stream: StdioStream,
        mode_mask: u16,
        update_existing: bool,
    ) -> Vec<u32> {
        self.stdio_modes[stream.index()] = mode_mask;
        if !update_existing {
            return Vec::new();
        }
        let ids: Vec<u32> = self
            .descriptors
            .values()
            .filter(|d| d.key.namespace == Namespace::Svc && d.key.name == stream.name())
            .map(|d| d.id)
            .collect();
        for &id in &ids {
            self.apply_mode(id, mode_mask);
        }
        ids
    }

    /// Current mode of `pid`'s stream (template value if its descriptor does not exist).
    #[must_use]
    pub fn stdio_mode(&self, pid: u32, stream: StdioStream) -> u16 {
        let key = TargetKey {
            namespace: Namespace::Svc,
            name: String::from(stream.name()),
            owner: Some(pid),
        };
        self.lookup
            .get(&key)
            .and_then(|id| self.descriptors.get(id))
            .map_or(self.stdio_modes[stream.index()], |d| d.mode)
    }

    /// Release everything `pid` holds (exit and kill): its wait, handles and taps; its
    /// owned descriptors, and the `shared:` ones it created, are freed now if no handle
    /// remains, else with their last handle.
    pub fn release_pid(&mut self, pid: u32) -> ReleaseReport {
        let mut report = ReleaseReport {
            wait_cancelled: self.cancel_wait(pid),
            ..ReleaseReport::default()
        };
        let handles: Vec<u32> = self
            .pids
            .get(&pid)
            .map(|t| t.handles.keys().copied().collect())
            .unwrap_or_default();
        let mut touched = VecSet::new();
        for h in handles {
            if let Ok(id) = self.remove_handle(pid, h) {
                report.handles_closed += 1;
                touched.insert(id);
            }
        }
        for d in self.descriptors.values_mut() {
            d.waiters.retain(|p| *p != pid);
            if d.key.owner == Some(pid) || d.creator == Some(pid) {
                d.owner_exited = true;
                touched.insert(d.id);
            }
        }
        for id in touched {
            self.reclaim(id);
            if self.maybe_free(id) {
                report.descriptors_freed.push(id);
            }
        }
        self.pids.remove(&pid);
        self.exited.insert(pid);
        report
    }

    /// Count one SEND/RECV SVC for `pid` (`MAILBOX_STEP`).
    pub fn count_step(&mut self, pid: u32) {
        let c = &mut self.pids.entry(pid).or_default().counters;
        c.step = c.step.saturating_add(1);
    }

    /// Per-PID counters.
    #[must_use]
    pub fn counters(&self, pid: u32) -> PidCounters {
        self.pids.get(&pid).map(|t| t.counters).unwrap_or_default()
    }
}
