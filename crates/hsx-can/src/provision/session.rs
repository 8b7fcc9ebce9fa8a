//! The device's protocol state machine, without a transport (`no_std` + alloc): request
//! bytes in, reply bytes out, calls into a [`ProvisionTarget`].
//!
//! Time is passed in by the caller as a monotonic [`Duration`] since any fixed start, so the
//! same code runs on a host (from `std::time::Instant`) and on a microcontroller (from its
//! tick counter).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use super::wire::{MAX_CHUNK, Reply, Request, Status, VERSION, op};
use super::{ProvisionTarget, TargetError};

/// What a handled request changed, for progress events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    /// A session started.
    Started {
        /// Reserved task id.
        pid: u32,
        /// Image length.
        total: u32,
    },
    /// A chunk was written.
    Progress {
        /// Task id.
        pid: u32,
        /// Bytes written so far.
        written: u32,
        /// Image length.
        total: u32,
    },
    /// The image was verified and handed over.
    Completed {
        /// Task id.
        pid: u32,
    },
    /// The session ended without an image (abort, error, or inactivity).
    Aborted {
        /// Task id.
        pid: u32,
        /// Why.
        reason: String,
    },
}

struct Loading {
    token: u32,
    pid: u32,
    total: u32,
    written: u32,
    next_seq: u32,
    crc: hsx_image::Crc32,
    last_activity: Duration,
}

/// The device's protocol state, independent of the transport: feed it request bytes, send
/// back the reply bytes it returns.
pub struct DeviceSession {
    loading: Option<Loading>,
    /// (token, pid, crc) of the last completed session, to answer a repeated END or BEGIN.
    done: Option<(u32, u32, u32)>,
    max_chunk: u16,
    idle_timeout: Duration,
}

impl Default for DeviceSession {
    fn default() -> Self {
        Self::new(MAX_CHUNK as u16, Duration::from_secs(10))
    }
}

impl DeviceSession {
    /// A session that accepts chunks of up to `max_chunk` bytes (a device with a small staging
    /// buffer announces less) and aborts a load idle for `idle_timeout`.
    pub fn new(max_chunk: u16, idle_timeout: Duration) -> Self {
        Self {
            loading: None,
            done: None,
            max_chunk: max_chunk.clamp(1, MAX_CHUNK as u16),
            idle_timeout,
        }
    }

    /// Whether a load is in progress.
    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    /// Aborts a load that has been idle too long (`now` as for [`DeviceSession::handle`]).
    pub fn expire(
        &mut self,
        target: &mut impl ProvisionTarget,
        now: Duration,
    ) -> Option<DeviceEvent> {
        let l = self.loading.as_ref()?;
        if now.saturating_sub(l.last_activity) < self.idle_timeout {
            return None;
        }
        let pid = l.pid;
        self.loading = None;
        target.abort(pid);
        Some(DeviceEvent::Aborted {
            pid,
            reason: "inactivity timeout".into(),
        })
    }

    fn fail(
        &mut self,
        target: &mut impl ProvisionTarget,
        code: u8,
        echo: u32,
        e: &TargetError,
    ) -> (Reply, Option<DeviceEvent>) {
        let ev = self.loading.take().map(|l| {
            target.abort(l.pid);
            DeviceEvent::Aborted {
                pid: l.pid,
                reason: e.to_string(),
            }
        });
        (Reply::new(code, e.status(), echo), ev)
    }

    /// Handles one request message received at monotonic time `now`; returns the reply to
    /// send and what changed.
    pub fn handle(
        &mut self,
        target: &mut impl ProvisionTarget,
        request: &[u8],
        now: Duration,
    ) -> (Vec<u8>, Option<DeviceEvent>) {
        let (reply, ev) = match Request::decode(request) {
            Some(r) => self.apply(target, r, now),
            None => {
                let code = request.first().map_or(0, |c| c & !op::REPLY);
                (Reply::new(code, Status::BadMessage, 0), None)
            }
        };
        (reply.encode(), ev)
    }

    fn apply(
        &mut self,
        target: &mut impl ProvisionTarget,
        req: Request<'_>,
        now: Duration,
    ) -> (Reply, Option<DeviceEvent>) {
        match req {
            Request::Begin {
                version,
                token,
                total_len,
                label,
            } => {
                if version != VERSION {
                    return (Reply::new(op::BEGIN, Status::Version, token), None);
                }
                match &self.loading {
                    // The master did not hear our answer and asks again.
                    Some(l) if l.token == token && l.next_seq == 0 => {
                        return (self.begin_reply(token, l.pid), None);
                    }
                    Some(_) => return (Reply::new(op::BEGIN, Status::Busy, token), None),
                    None => {}
                }
                if let Some((t, pid, _)) = self.done
                    && t == token
                {
                    // Already completed; answering BEGIN again must not start a second load.
                    return (self.begin_reply(token, pid), None);
                }
                match target.begin(label, total_len) {
                    Ok(pid) => {
                        self.loading = Some(Loading {
                            token,
                            pid,
                            total: total_len,
                            written: 0,
                            next_seq: 0,
                            crc: hsx_image::Crc32::new(),
                            last_activity: now,
                        });
                        let ev = DeviceEvent::Started {
                            pid,
                            total: total_len,
                        };
                        (self.begin_reply(token, pid), Some(ev))
                    }
                    Err(e) => (Reply::new(op::BEGIN, e.status(), token), None),
                }
            }
            Request::Chunk { seq, bytes } => {
                let Some(l) = self.loading.as_mut() else {
                    return (Reply::new(op::CHUNK, Status::NoSession, seq), None);
                };
                l.last_activity = now;
                if seq.wrapping_add(1) == l.next_seq {
                    return (Reply::new(op::CHUNK, Status::Ok, seq), None);
                }
                if seq != l.next_seq {
                    return (Reply::new(op::CHUNK, Status::Sequence, l.next_seq), None);
                }
                let fits = u32::try_from(bytes.len())
                    .ok()
                    .and_then(|n| l.written.checked_add(n))
                    .filter(|&w| w <= l.total && bytes.len() <= usize::from(self.max_chunk));
                let Some(written) = fits else {
                    let e = TargetError::BadImage("chunk beyond the announced length".into());
                    return self.fail(target, op::CHUNK, seq, &e);
                };
                if let Err(e) = target.write(l.pid, bytes) {
                    return self.fail(target, op::CHUNK, seq, &e);
                }
                l.crc.update(bytes);
                l.written = written;
                l.next_seq += 1;
                let ev = DeviceEvent::Progress {
                    pid: l.pid,
                    written,
                    total: l.total,
                };
                (Reply::new(op::CHUNK, Status::Ok, seq), Some(ev))
            }
            Request::End { crc32 } => {
                let Some(l) = self.loading.as_ref() else {
                    return match self.done {
                        Some((_, pid, crc)) if crc == crc32 => (pid_reply(op::END, pid), None),
                        _ => (Reply::new(op::END, Status::NoSession, 0), None),
                    };
                };
                if l.written != l.total {
                    let e = TargetError::BadImage(format!(
                        "END after {} of {} bytes",
                        l.written, l.total
                    ));
                    return self.fail(target, op::END, 0, &e);
                }
                if l.crc.finalize() != crc32 {
                    let e = TargetError::BadImage("transfer CRC mismatch".into());
                    return self.fail(target, op::END, 0, &e);
                }
                let (pid, token) = (l.pid, l.token);
                if let Err(e) = target.end(pid) {
                    return self.fail(target, op::END, 0, &e);
                }
                self.loading = None;
                self.done = Some((token, pid, crc32));
                (
                    pid_reply(op::END, pid),
                    Some(DeviceEvent::Completed { pid }),
                )
            }
            Request::Abort => {
                let ev = self.loading.take().map(|l| {
                    target.abort(l.pid);
                    DeviceEvent::Aborted {
                        pid: l.pid,
                        reason: "aborted by the master".into(),
                    }
                });
                (Reply::new(op::ABORT, Status::Ok, 0), ev)
            }
            Request::Status => {
                let mut r = Reply::new(op::STATUS, Status::Ok, 0);
                let (state, pid, written, total) = match (&self.loading, self.done) {
                    (Some(l), _) => (1u8, l.pid, l.written, l.total),
                    (None, Some((_, pid, _))) => (2, pid, 0, 0),
                    (None, None) => (0, 0, 0, 0),
                };
                r.body.push(state);
                for v in [pid, written, total] {
                    r.body.extend_from_slice(&v.to_le_bytes());
                }
                (r, None)
            }
        }
    }

    fn begin_reply(&self, token: u32, pid: u32) -> Reply {
        let mut r = Reply::new(op::BEGIN, Status::Ok, token);
        r.body.extend_from_slice(&pid.to_le_bytes());
        r.body.extend_from_slice(&self.max_chunk.to_le_bytes());
        r
    }
}

fn pid_reply(code: u8, pid: u32) -> Reply {
    let mut r = Reply::new(code, Status::Ok, 0);
    r.body.extend_from_slice(&pid.to_le_bytes());
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::wire::Request;
    use alloc::vec;
    use proptest::prelude::*;

    /// Checks the call order the trait promises and counts bytes.
    #[derive(Default)]
    struct Strict {
        open: Option<(u32, u32, u32)>,
        next: u32,
        violations: u32,
    }

    impl ProvisionTarget for Strict {
        fn begin(&mut self, _: Option<&str>, total: u32) -> Result<u32, TargetError> {
            if self.open.is_some() {
                self.violations += 1;
            }
            self.next += 1;
            self.open = Some((self.next, 0, total));
            Ok(self.next)
        }
        fn write(&mut self, pid: u32, chunk: &[u8]) -> Result<(), TargetError> {
            match &mut self.open {
                Some((p, w, t)) if *p == pid && *w + chunk.len() as u32 <= *t => {
                    *w += chunk.len() as u32;
                    Ok(())
                }
                _ => {
                    self.violations += 1;
                    Err(TargetError::NoSession)
                }
            }
        }
        fn end(&mut self, pid: u32) -> Result<(), TargetError> {
            match self.open.take() {
                Some((p, w, t)) if p == pid && w == t => Ok(()),
                _ => {
                    self.violations += 1;
                    Err(TargetError::NoSession)
                }
            }
        }
        fn abort(&mut self, _: u32) {
            self.open = None;
        }
    }

    fn request() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            (0u32..3, 0u32..64).prop_map(|(token, total_len)| Request::Begin {
                version: 1,
                token,
                total_len,
                label: None,
            }
            .encode()),
            (0u32..6, 1usize..40).prop_map(|(seq, n)| Request::Chunk {
                seq,
                bytes: &vec![0xAB; n]
            }
            .encode()),
            any::<u32>().prop_map(|crc32| Request::End { crc32 }.encode()),
            Just(Request::Abort.encode()),
            Just(Request::Status.encode()),
            prop::collection::vec(any::<u8>(), 0..12),
        ]
    }

    proptest! {
        /// Any sequence of requests, valid or not, gets one well-formed reply each and never
        /// makes the device break the target's call order or overrun the announced length.
        #[test]
        fn any_request_sequence_keeps_the_target_contract(reqs in prop::collection::vec(request(), 0..40)) {
            let mut s = DeviceSession::default();
            let mut t = Strict::default();
            let now = Duration::from_secs(1);
            for r in &reqs {
                let (reply, _) = s.handle(&mut t, r, now);
                prop_assert!(crate::provision::wire::Reply::decode(&reply).is_some());
            }
            prop_assert_eq!(t.violations, 0);
        }
    }

    #[test]
    fn a_repeated_chunk_is_acknowledged_but_written_once() {
        let mut s = DeviceSession::default();
        let mut t = Strict::default();
        let now = Duration::from_secs(1);
        let begin = Request::Begin {
            version: 1,
            token: 9,
            total_len: 4,
            label: None,
        }
        .encode();
        let chunk = Request::Chunk {
            seq: 0,
            bytes: &[1, 2],
        }
        .encode();
        s.handle(&mut t, &begin, now);
        // A repeated BEGIN before any chunk is answered with the same pid.
        assert_eq!(
            s.handle(&mut t, &begin, now).0,
            s.handle(&mut t, &begin, now).0
        );
        s.handle(&mut t, &chunk, now);
        let (again, ev) = s.handle(&mut t, &chunk, now);
        assert_eq!(again[1], Status::Ok as u8);
        assert!(ev.is_none());
        assert_eq!(t.open, Some((1, 2, 4)));
    }
}
