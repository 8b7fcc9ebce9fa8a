//! Streamed loading (`services.md` §3.7, the HSX provisioning design): an image arrives in
//! chunks over a slow link, is checked as it arrives ([`crate::stream::StreamCheck`]), is
//! verified at the end and then becomes a task under the PID reserved at the start.
//!
//! A session goes `loading` → (`verify`) → `ready`, or to `failed` on the first error, in
//! which case its bytes are freed at once and only a small record remains for `status` until
//! `load_abort` or expiry. A `ready` session holds the verified image until
//! [`Executive::load_start`] turns it into a task, which lets a host stage an update and
//! activate it later. Idle or overlong sessions are aborted by [`Executive::expire_loads`],
//! which every load call and every step call run.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use hsx_image::Image;

use super::{ExecError, Executive, LoadOptions, LoadReport, TaskCode};
use crate::event::{EventKind, ProvEvent, ProvKind};
use crate::stream::{ImageSink, SinkError, StagedImage, StreamCheck, StreamError, VecSink};

/// Bounds of streamed loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadLimits {
    /// Largest image `load_begin` accepts (`ENOSPC` beyond).
    pub max_image: u32,
    /// Largest chunk one `load_write` accepts (the staging window).
    pub max_chunk: u32,
    /// Load sessions open at once, in any phase (`EBUSY` beyond).
    pub max_sessions: usize,
    /// A `loading` session without a write for this long is aborted (ms).
    pub write_timeout_ms: u64,
    /// A session older than this is aborted, whatever its phase (ms).
    pub total_timeout_ms: u64,
}

impl LoadLimits {
    /// Desktop defaults: images up to the format's maximum, 64 KiB chunks, 8 sessions, 10 s
    /// between chunks, 5 minutes in all.
    #[must_use]
    pub const fn desktop() -> Self {
        Self {
            // Header + 64 KiB code + 64 KiB rodata + metadata.
            max_image: 256 * 1024,
            max_chunk: 64 * 1024,
            max_sessions: 8,
            write_timeout_ms: 10_000,
            total_timeout_ms: 300_000,
        }
    }

    /// Microcontroller defaults: one session, chunks of at most 1 KiB.
    #[must_use]
    pub const fn mcu() -> Self {
        Self {
            max_image: 64 * 1024,
            max_chunk: 1024,
            max_sessions: 1,
            write_timeout_ms: 10_000,
            total_timeout_ms: 120_000,
        }
    }
}

impl Default for LoadLimits {
    fn default() -> Self {
        Self::desktop()
    }
}

/// Phase of a load session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadPhase {
    /// Receiving bytes.
    Loading,
    /// Complete and verified, waiting for [`Executive::load_start`].
    Ready,
    /// Refused; holds nothing but the error.
    Failed,
}

impl LoadPhase {
    /// Protocol spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Loading => "loading",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }
}

/// What `status` reports about a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadStatus {
    /// Reserved PID.
    pub pid: u32,
    /// Label given at `load_begin`.
    pub label: Option<String>,
    /// Phase.
    pub phase: LoadPhase,
    /// Bytes accepted.
    pub bytes_written: u32,
    /// Announced length.
    pub total_bytes: u32,
    /// App name, once the header has arrived.
    pub app_name: Option<String>,
    /// The error of a failed session.
    pub error: Option<String>,
    /// Milliseconds since the session started.
    pub age_ms: u64,
}

/// A verified, staged image (what `load_end` answers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedSummary {
    /// Reserved PID.
    pub pid: u32,
    /// App name from the header.
    pub app_name: Option<String>,
    /// Image length.
    pub len: u32,
    /// Image CRC.
    pub crc32: u32,
}

pub(crate) struct LoadSession {
    pid: u32,
    label: Option<String>,
    phase: LoadPhase,
    check: StreamCheck,
    sink: Option<Box<dyn ImageSink>>,
    staged: Option<StagedImage>,
    app_name: Option<String>,
    error: Option<String>,
    started_ms: u64,
    last_ms: u64,
    /// Progress is reported when `bytes_written` reaches this.
    next_progress: u32,
}

/// About 32 progress events per load, whatever its size.
fn progress_step(total: u32) -> u32 {
    total.div_ceil(32).max(1)
}

impl<C: TaskCode> Executive<C> {
    fn prov_event(&mut self, pid: u32, phase: &'static str, kind: ProvKind) {
        self.emit(
            Some(pid),
            EventKind::Provisioning(ProvEvent { phase, kind }),
        );
    }

    /// Reports a host-side provisioning step (image store writes, rollbacks) through the
    /// event stream, so all `provisioning.*` events share one sequence.
    pub fn emit_provisioning(&mut self, pid: u32, phase: &'static str, kind: ProvKind) {
        self.prov_event(pid, phase, kind);
    }

    /// Starts a streamed load of a `total_len`-byte image into RAM; returns the reserved PID.
    ///
    /// # Errors
    /// `EBADMSG` when `total_len` cannot be an image, `ENOSPC` when it exceeds
    /// [`LoadLimits::max_image`], memory is short or the task table is full, `EBUSY` when
    /// [`LoadLimits::max_sessions`] sessions are open.
    pub fn load_begin(&mut self, label: Option<&str>, total_len: u32) -> Result<u32, StreamError> {
        if total_len > self.cfg.load.max_image {
            return Err(StreamError::NoSpace("image larger than the load limit"));
        }
        let sink = VecSink::new(total_len as usize).ok_or(StreamError::NoSpace("out of memory"))?;
        self.load_begin_into(label, total_len, Box::new(sink))
    }

    /// Starts a streamed load whose bytes go to `sink` (e.g. a flash slot, so the image is
    /// never held in RAM). As [`Executive::load_begin`] otherwise.
    ///
    /// # Errors
    /// As [`Executive::load_begin`]; `ENOSPC` also when the image is larger than the sink.
    pub fn load_begin_into(
        &mut self,
        label: Option<&str>,
        total_len: u32,
        sink: Box<dyn ImageSink>,
    ) -> Result<u32, StreamError> {
        self.refresh_clock();
        self.expire_loads();
        let check = StreamCheck::new(total_len)?;
        if total_len > self.cfg.load.max_image || total_len as usize > sink.capacity() {
            return Err(StreamError::NoSpace("image larger than the slot"));
        }
        if self.loads.len() >= self.cfg.load.max_sessions {
            return Err(StreamError::Busy {
                pid: 0,
                phase: "full (too many load sessions)",
            });
        }
        if self.pids.len() + self.loads.len() >= self.cfg.max_tasks {
            return Err(StreamError::NoSpace("task table full"));
        }
        let pid = self.next_pid;
        self.next_pid = self.next_pid.saturating_add(1);
        let now = self.now_ms;
        self.loads.insert(
            pid,
            LoadSession {
                pid,
                label: label.map(ToString::to_string),
                phase: LoadPhase::Loading,
                check,
                sink: Some(sink),
                staged: None,
                app_name: None,
                error: None,
                started_ms: now,
                last_ms: now,
                next_progress: progress_step(total_len),
            },
        );
        self.prov_event(
            pid,
            "loading",
            ProvKind::Started {
                total_bytes: total_len,
                label: label.map(ToString::to_string),
            },
        );
        Ok(pid)
    }

    fn session(&mut self, pid: u32, want: LoadPhase) -> Result<&mut LoadSession, StreamError> {
        let s = self
            .loads
            .get_mut(&pid)
            .ok_or(StreamError::NoSession(pid))?;
        if s.phase != want {
            return Err(StreamError::Busy {
                pid,
                phase: s.phase.as_str(),
            });
        }
        Ok(s)
    }

    /// Puts a session into `failed`, frees its bytes and reports the error.
    fn fail_load(&mut self, pid: u32, at: &'static str, e: &StreamError) {
        let detail = e.detail();
        if let Some(s) = self.loads.get_mut(&pid) {
            s.phase = LoadPhase::Failed;
            s.sink = None;
            s.staged = None;
            s.error = Some(detail.clone());
        }
        self.prov_event(
            pid,
            "failed",
            ProvKind::Error {
                code: e.code(),
                at,
                detail,
            },
        );
    }

    /// Appends the next chunk; returns the bytes accepted so far. A bad chunk fails the
    /// session (`failed`, bytes freed); later writes answer `EBUSY`.
    ///
    /// # Errors
    /// `ESRCH` for an unknown PID, `EBUSY` for a session not `loading`, `EBADMSG` for bytes
    /// the image cannot have, `ENOSPC` when the sink is full.
    pub fn load_write(&mut self, pid: u32, chunk: &[u8]) -> Result<u32, StreamError> {
        self.refresh_clock();
        self.expire_loads();
        let max = self.cfg.load.max_chunk;
        let now = self.now_ms;
        let s = self.session(pid, LoadPhase::Loading)?;
        let offset = s.check.written();
        let result = if chunk.len() > max as usize {
            Err(StreamError::ChunkTooLarge {
                len: chunk.len(),
                max,
            })
        } else {
            s.check.feed(chunk).and_then(|()| {
                let sink = s.sink.as_mut().ok_or(StreamError::NoSpace("no sink"))?;
                sink.write(offset, chunk).map_err(|e| match e {
                    SinkError::NoSpace => StreamError::NoSpace("image does not fit the slot"),
                    SinkError::Io => StreamError::NoSpace("slot write failed"),
                })
            })
        };
        if let Err(e) = result {
            self.fail_load(pid, "write", &e);
            return Err(e);
        }
        s.last_ms = now;
        if s.app_name.is_none() {
            s.app_name = s.check.header().and_then(|h| h.app_name.clone());
        }
        let (written, total) = (s.check.written(), s.check.total());
        let report = written >= s.next_progress || written == total;
        if report {
            s.next_progress = written.saturating_add(progress_step(total));
            self.prov_event(
                pid,
                "loading",
                ProvKind::Progress {
                    bytes_written: written,
                    total_bytes: total,
                },
            );
        }
        Ok(written)
    }

    /// Ends the transfer: checks length and CRC, then the whole image as the loader would.
    /// On success the session is `ready`, holding the image until [`Executive::load_start`].
    ///
    /// # Errors
    /// `ESRCH`, `EBUSY` as for writes; `EBADMSG` for a short or invalid image (the session
    /// is then `failed`).
    pub fn load_end(&mut self, pid: u32) -> Result<StagedSummary, StreamError> {
        self.refresh_clock();
        self.expire_loads();
        let now = self.now_ms;
        let s = self.session(pid, LoadPhase::Loading)?;
        let verified = s.check.finish().map(|h| h.crc32).and_then(|crc| {
            let len = s.check.total();
            let sink = s.sink.take().ok_or(StreamError::NoSpace("no sink"))?;
            let staged = sink
                .finish(len)
                .map_err(|_| StreamError::NoSpace("slot unreadable"))?;
            // Everything the loader checks beyond the header (metadata sections, strings).
            Image::validate(staged.bytes()).map_err(StreamError::BadImage)?;
            Ok((staged, len, crc))
        });
        match verified {
            Ok((staged, len, crc32)) => {
                s.staged = Some(staged);
                s.phase = LoadPhase::Ready;
                s.last_ms = now;
                let app_name = s.app_name.clone();
                self.prov_event(
                    pid,
                    "ready",
                    ProvKind::Complete {
                        app_name: app_name.clone(),
                    },
                );
                Ok(StagedSummary {
                    pid,
                    app_name,
                    len,
                    crc32,
                })
            }
            Err(e) => {
                self.fail_load(pid, "verify", &e);
                Err(e)
            }
        }
    }

    /// The bytes of a `ready` session (to persist them before starting the task).
    #[must_use]
    pub fn load_staged(&self, pid: u32) -> Option<&[u8]> {
        let s = self.loads.get(&pid)?;
        s.staged.as_ref().map(StagedImage::bytes)
    }

    /// Turns a `ready` session into a task with its reserved PID (the session ends either
    /// way; a failed start consumes the PID like a failed `load`).
    ///
    /// # Errors
    /// [`ExecError::UnknownPid`] when there is no `ready` session for `pid`; otherwise as
    /// [`Executive::load`].
    pub fn load_start(&mut self, pid: u32, opts: LoadOptions) -> Result<LoadReport, ExecError> {
        self.refresh_clock();
        match self.loads.get(&pid) {
            Some(s) if s.phase == LoadPhase::Ready => {}
            _ => return Err(ExecError::UnknownPid(pid)),
        }
        let Some(session) = self.loads.remove(&pid) else {
            return Err(ExecError::UnknownPid(pid));
        };
        let mut opts = opts;
        if opts.path.is_none() {
            opts.path = session.label.clone();
        }
        let result = match session.staged {
            Some(StagedImage::Static(bytes)) => self.load_static_with(bytes, opts, Some(pid)),
            Some(StagedImage::Owned(bytes)) => match Image::parse(&bytes) {
                Ok(image) => {
                    drop(bytes);
                    self.load_image_as(pid, &image, opts)
                }
                Err(e) => Err(ExecError::Image(e)),
            },
            None => Err(ExecError::UnknownPid(pid)),
        };
        if let Err(e) = &result {
            self.prov_event(
                pid,
                "idle",
                ProvKind::Error {
                    code: "EBADMSG",
                    at: "activate",
                    detail: e.to_string(),
                },
            );
        }
        result
    }

    /// Drops a session in any phase and everything it holds.
    ///
    /// # Errors
    /// `ESRCH` for an unknown PID.
    pub fn load_abort(&mut self, pid: u32) -> Result<(), StreamError> {
        self.refresh_clock();
        self.loads.remove(&pid).ok_or(StreamError::NoSession(pid))?;
        self.prov_event(
            pid,
            "idle",
            ProvKind::Aborted {
                reason: "abort".into(),
            },
        );
        Ok(())
    }

    /// Aborts sessions idle past [`LoadLimits::write_timeout_ms`] (while loading) or older
    /// than [`LoadLimits::total_timeout_ms`]; returns their PIDs.
    pub fn expire_loads(&mut self) -> Vec<u32> {
        if self.loads.is_empty() {
            return Vec::new();
        }
        let now = self.now_ms;
        let lim = self.cfg.load;
        let expired: Vec<(u32, &'static str)> = self
            .loads
            .values()
            .filter_map(|s| {
                if now.saturating_sub(s.started_ms) >= lim.total_timeout_ms {
                    Some((s.pid, "total timeout"))
                } else if s.phase == LoadPhase::Loading
                    && now.saturating_sub(s.last_ms) >= lim.write_timeout_ms
                {
                    Some((s.pid, "write timeout"))
                } else {
                    None
                }
            })
            .collect();
        for &(pid, why) in &expired {
            self.loads.remove(&pid);
            self.prov_event(pid, "idle", ProvKind::Aborted { reason: why.into() });
        }
        expired.into_iter().map(|(p, _)| p).collect()
    }

    /// Every open load session.
    #[must_use]
    pub fn load_sessions(&self) -> Vec<LoadStatus> {
        self.loads
            .values()
            .map(|s| LoadStatus {
                pid: s.pid,
                label: s.label.clone(),
                phase: s.phase,
                bytes_written: s.check.written(),
                total_bytes: s.check.total(),
                app_name: s.app_name.clone(),
                error: s.error.clone(),
                age_ms: self.now_ms.saturating_sub(s.started_ms),
            })
            .collect()
    }
}
