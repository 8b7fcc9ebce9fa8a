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
    /// Idempotent: existing stdio handles are kept.
    ///
    /// # Errors
    /// [`MailboxError::NoDescriptor`] / [`MailboxError::HandleLimit`] when the profile has no
    /// room; the caller should then [`Self::release_pid`].
    pub fn register_task(&mut self, pid: u32) -> Result<StdioHandles, MailboxError> {
        self.exited.remove(&pid);
        for s in StdioStream::ALL {
            let m = self.stdio_modes[s.index()];
            self.bind(pid, s.target(), 0, m)?;
        }
        self.bind_key(
            TargetKey {
                namespace: Namespace::Pid,
                name: alloc::format!("pid:{pid}"),
                owner: Some(pid),
            },
            0,
            mode::RDWR,
        )?;
        if let Some(s) = self.pids.get(&pid).and_then(|t| t.stdio) {
            return Ok(s);
        }
        let stdin = self.open_inner(pid, STDIO_IN, true)?;
        let stdout = self.open_inner(pid, STDIO_OUT, true)?;
        let stderr = self.open_inner(pid, STDIO_ERR, true)?;
        let handles = StdioHandles {
            stdin,
            stdout,
            stderr,
        };
        if let Some(t) = self.pids.get_mut(&pid) {
            t.stdio = Some(handles);
        }
        Ok(handles)
    }

    /// The task's stdio handles, if registered and still open.
    #[must_use]
    pub fn stdio_handles(&self, pid: u32) -> Option<StdioHandles> {
        self.pids.get(&pid).and_then(|t| t.stdio)
    }

    /// FS_WRITE routing for fds 0/1/2: `None` when the fd is not a stdio fd of this task or
    /// `data` is empty (the caller falls through to the file system); otherwise the length
    /// written, or 0 if the mailbox refused the message.
    pub fn write_stdio(&mut self, pid: u32, fd: u32, data: &[u8]) -> Option<u32> {
        let stream = StdioStream::from_fd(fd)?;
        let handles = self.stdio_handles(pid)?;
        if data.is_empty() {
            return None;
        }
        let handle = handles.get(stream);
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
