//! The master side: pushes an image and asks for status, resending lost requests.

use std::time::{Duration, Instant};

use super::MessageLink;
use super::wire::{MAX_CHUNK, Reply, Request, Status, VERSION, op};
use crate::IsoTpError;

/// Timing and sizing of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushOptions {
    /// How long to wait for each reply before resending.
    pub reply_timeout: Duration,
    /// Sends of one request before giving up.
    pub attempts: u32,
    /// Largest chunk to send (the device may ask for less).
    pub chunk_size: usize,
}

impl Default for PushOptions {
    fn default() -> Self {
        Self {
            reply_timeout: Duration::from_millis(500),
            attempts: 5,
            chunk_size: MAX_CHUNK,
        }
    }
}

/// How a push went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushReport {
    /// The task id the device reserved.
    pub pid: u32,
    /// Chunks sent (without resends).
    pub chunks: u32,
    /// Requests sent again because no valid reply came.
    pub resends: u32,
    /// CAN frames this end sent and received.
    pub frames: (u64, u64),
    /// Time from BEGIN to the END reply.
    pub elapsed: Duration,
}

/// The device's answer to STATUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// No session, none completed.
    Idle,
    /// A load in progress.
    Loading {
        /// Task id.
        pid: u32,
        /// Bytes written.
        written: u32,
        /// Image length.
        total: u32,
    },
    /// The last session completed.
    Completed {
        /// Task id.
        pid: u32,
    },
}

/// Why a push or status request failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// No valid reply after all attempts.
    #[error("no reply to {what} after {attempts} attempts (last: {last})")]
    NoReply {
        /// The request.
        what: &'static str,
        /// Sends made.
        attempts: u32,
        /// The last transport error.
        last: IsoTpError,
    },
    /// The device answered with an error status.
    #[error("device refused {what}: {status:?}")]
    Refused {
        /// The request.
        what: &'static str,
        /// Its status.
        status: Status,
    },
    /// A reply whose body is too short for its opcode.
    #[error("malformed reply to {0}")]
    MalformedReply(&'static str),
    /// Images are limited to 4 GiB by the 32-bit length field.
    #[error("image of {0} bytes is too large")]
    TooLarge(usize),
}

/// The master end of a provisioning link: over an ISO-TP channel, or a serial line
/// ([`super::SerialLine`]).
pub struct ProvisionLink<L: MessageLink> {
    channel: L,
    options: PushOptions,
    resends: u32,
}

fn name(code: u8) -> &'static str {
    match code {
        op::BEGIN => "BEGIN",
        op::CHUNK => "CHUNK",
        op::END => "END",
        op::ABORT => "ABORT",
        _ => "STATUS",
    }
}

impl<L: MessageLink> ProvisionLink<L> {
    /// A link on `channel`.
    pub fn new(channel: L, options: PushOptions) -> Self {
        Self {
            channel,
            options,
            resends: 0,
        }
    }

    /// The channel (for frame counts).
    pub fn channel(&self) -> &L {
        &self.channel
    }

    /// The channel, mutably (e.g. to read a serial line's console output afterwards).
    pub fn channel_mut(&mut self) -> &mut L {
        &mut self.channel
    }

    /// Sends `req` until a reply with the same opcode and `echo` arrives; replies to earlier
    /// requests (late duplicates) are skipped. A reply with an error status is returned as is
    /// (except `Sequence`, whose echo is the expected number).
    fn request(&mut self, req: &Request<'_>, echo: u32) -> Result<Reply, ProvisionError> {
        let bytes = req.encode();
        let code = bytes[0];
        let mut last = IsoTpError::Timeout("no reply");
        for attempt in 0..self.options.attempts.max(1) {
            if attempt > 0 {
                self.resends += 1;
            }
            if let Err(e) = self
                .channel
                .send_message(&bytes, self.options.reply_timeout)
            {
                last = e;
                continue;
            }
            let deadline = Instant::now() + self.options.reply_timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                match self.channel.recv_message(left) {
                    Ok(m) => match Reply::decode(&m) {
                        Some(r) if r.op == code && (r.echo == echo || r.status != Status::Ok) => {
                            return Ok(r);
                        }
                        _ => continue,
                    },
                    Err(e @ IsoTpError::Bus(_)) => {
                        return Err(ProvisionError::NoReply {
                            what: name(code),
                            attempts: attempt + 1,
                            last: e,
                        });
                    }
                    Err(e) => {
                        last = e;
                        if matches!(last, IsoTpError::Timeout(_)) {
                            break;
                        }
                    }
                }
            }
        }
        Err(ProvisionError::NoReply {
            what: name(code),
            attempts: self.options.attempts.max(1),
            last,
        })
    }

    fn ok(&mut self, req: &Request<'_>, echo: u32) -> Result<Reply, ProvisionError> {
        let r = self.request(req, echo)?;
        if r.status == Status::Ok {
            Ok(r)
        } else {
            Err(ProvisionError::Refused {
                what: name(r.op),
                status: r.status,
            })
        }
    }

    /// Pushes `image` (labelled `label`), calling `progress(written, total)` after each
    /// acknowledged chunk. On failure after BEGIN it sends ABORT (best effort).
    pub fn push(
        &mut self,
        label: Option<&str>,
        image: &[u8],
        mut progress: impl FnMut(u64, u64),
    ) -> Result<PushReport, ProvisionError> {
        let total =
            u32::try_from(image.len()).map_err(|_| ProvisionError::TooLarge(image.len()))?;
        let start = Instant::now();
        self.resends = 0;
        let token = fastrand::u32(..);
        let begin = Request::Begin {
            version: VERSION,
            token,
            total_len: total,
            label,
        };
        let r = self.ok(&begin, token)?;
        let pid = r
            .body_u32(0)
            .ok_or(ProvisionError::MalformedReply("BEGIN"))?;
        let max = r
            .body
            .get(4..6)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
            .ok_or(ProvisionError::MalformedReply("BEGIN"))?;
        let chunk = self.options.chunk_size.min(max).clamp(1, MAX_CHUNK);
        let result = self
            .send_body(image, chunk, &mut progress)
            .and_then(|chunks| {
                let crc32 = hsx_image::Crc32::checksum(image);
                self.ok(&Request::End { crc32 }, 0)?;
                Ok(chunks)
            });
        match result {
            Ok(chunks) => Ok(PushReport {
                pid,
                chunks,
                resends: self.resends,
                frames: self.channel.message_counts(),
                elapsed: start.elapsed(),
            }),
            Err(e) => {
                let _ = self.request(&Request::Abort, 0);
                Err(e)
            }
        }
    }

    fn send_body(
        &mut self,
        image: &[u8],
        chunk: usize,
        progress: &mut impl FnMut(u64, u64),
    ) -> Result<u32, ProvisionError> {
        let mut written = 0u64;
        let mut seq = 0u32;
        for bytes in image.chunks(chunk) {
            self.ok(&Request::Chunk { seq, bytes }, seq)?;
            seq += 1;
            written += bytes.len() as u64;
            progress(written, image.len() as u64);
        }
        Ok(seq)
    }

    /// Asks the device for its session state.
    pub fn status(&mut self) -> Result<SessionStatus, ProvisionError> {
        let r = self.ok(&Request::Status, 0)?;
        let state = *r
            .body
            .first()
            .ok_or(ProvisionError::MalformedReply("STATUS"))?;
        let field = |i: usize| {
            r.body_u32(1 + 4 * i)
                .ok_or(ProvisionError::MalformedReply("STATUS"))
        };
        Ok(match state {
            1 => SessionStatus::Loading {
                pid: field(0)?,
                written: field(1)?,
                total: field(2)?,
            },
            2 => SessionStatus::Completed { pid: field(0)? },
            _ => SessionStatus::Idle,
        })
    }

    /// Abandons the device's session, if any.
    pub fn abort(&mut self) -> Result<(), ProvisionError> {
        self.ok(&Request::Abort, 0).map(|_| ())
    }
}
