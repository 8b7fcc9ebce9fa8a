//! Byte layout of provisioning requests and replies (one per ISO-TP message).
//!
//! All integers are little-endian. Requests start with an opcode, replies with the opcode
//! plus 0x80, a status byte and a 32-bit echo (the chunk's sequence number, the BEGIN token,
//! or 0), so a late duplicate reply can be told from the current one. `docs/can.md` has the
//! table.

use alloc::vec;
use alloc::vec::Vec;

/// Protocol version carried in BEGIN.
pub const VERSION: u8 = 1;
/// Longest label in BEGIN.
pub const MAX_LABEL: usize = 64;
/// CHUNK header: opcode + sequence number.
pub const CHUNK_HEADER: usize = 5;
/// Most image bytes in one CHUNK (an ISO-TP message holds 4095 bytes).
pub const MAX_CHUNK: usize = crate::ISOTP_MAX_MESSAGE - CHUNK_HEADER;

/// Opcodes.
pub mod op {
    /// Start a session.
    pub const BEGIN: u8 = 0x01;
    /// Image bytes.
    pub const CHUNK: u8 = 0x02;
    /// Finish and verify.
    pub const END: u8 = 0x03;
    /// Abandon the session.
    pub const ABORT: u8 = 0x04;
    /// Ask for the session state.
    pub const STATUS: u8 = 0x05;
    /// Added to the request opcode in its reply.
    pub const REPLY: u8 = 0x80;
}

/// Reply status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// Done.
    Ok = 0,
    /// Malformed request, bad image, length or CRC mismatch (`EBADMSG`).
    BadMessage = 1,
    /// The image does not fit (`ENOSPC`).
    NoSpace = 2,
    /// No session (`ESRCH`).
    NoSession = 3,
    /// Another session is in progress (`EBUSY`).
    Busy = 4,
    /// A chunk out of order; the echo field holds the sequence number expected.
    Sequence = 5,
    /// The target failed for another reason.
    Target = 6,
    /// Unsupported protocol version.
    Version = 7,
}

impl Status {
    /// The status for a byte; unknown codes read as `Target`.
    pub fn from_u8(b: u8) -> Self {
        match b {
            0 => Self::Ok,
            1 => Self::BadMessage,
            2 => Self::NoSpace,
            3 => Self::NoSession,
            4 => Self::Busy,
            5 => Self::Sequence,
            7 => Self::Version,
            _ => Self::Target,
        }
    }
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<'a> {
    /// `01 ver token:u32 total:u32 label_len:u8 label`
    Begin {
        /// Protocol version.
        version: u8,
        /// Master's session token (echoed; a repeated BEGIN with it is answered again).
        token: u32,
        /// Image length in bytes.
        total_len: u32,
        /// Optional task label (UTF-8).
        label: Option<&'a str>,
    },
    /// `02 seq:u32 bytes`
    Chunk {
        /// Sequence number, 0 for the first chunk.
        seq: u32,
        /// Image bytes.
        bytes: &'a [u8],
    },
    /// `03 crc32:u32` (IEEE CRC-32 of the whole image)
    End {
        /// CRC of the image.
        crc32: u32,
    },
    /// `04`
    Abort,
    /// `05`
    Status,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Request<'a> {
    /// Decodes a request; `None` if malformed.
    pub fn decode(b: &'a [u8]) -> Option<Self> {
        let (&code, _) = b.split_first()?;
        match code {
            op::BEGIN => {
                let version = *b.get(1)?;
                let token = u32_at(b, 2)?;
                let total_len = u32_at(b, 6)?;
                let n = usize::from(*b.get(10)?);
                if n > MAX_LABEL || b.len() != 11 + n {
                    return None;
                }
                let label = match n {
                    0 => None,
                    _ => Some(core::str::from_utf8(&b[11..]).ok()?),
                };
                Some(Self::Begin {
                    version,
                    token,
                    total_len,
                    label,
                })
            }
            op::CHUNK => {
                let seq = u32_at(b, 1)?;
                let bytes = &b[CHUNK_HEADER..];
                (!bytes.is_empty()).then_some(Self::Chunk { seq, bytes })
            }
            op::END if b.len() == 5 => Some(Self::End {
                crc32: u32_at(b, 1)?,
            }),
            op::ABORT if b.len() == 1 => Some(Self::Abort),
            op::STATUS if b.len() == 1 => Some(Self::Status),
            _ => None,
        }
    }

    /// Encodes the request.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Begin {
                version,
                token,
                total_len,
                label,
            } => {
                let label = label.map(str::as_bytes).unwrap_or_default();
                let label = &label[..label.len().min(MAX_LABEL)];
                let mut v = vec![op::BEGIN, *version];
                v.extend_from_slice(&token.to_le_bytes());
                v.extend_from_slice(&total_len.to_le_bytes());
                v.push(label.len() as u8);
                v.extend_from_slice(label);
                v
            }
            Self::Chunk { seq, bytes } => {
                let mut v = Vec::with_capacity(CHUNK_HEADER + bytes.len());
                v.push(op::CHUNK);
                v.extend_from_slice(&seq.to_le_bytes());
                v.extend_from_slice(bytes);
                v
            }
            Self::End { crc32 } => {
                let mut v = vec![op::END];
                v.extend_from_slice(&crc32.to_le_bytes());
                v
            }
            Self::Abort => vec![op::ABORT],
            Self::Status => vec![op::STATUS],
        }
    }
}

/// A decoded reply: `op|0x80 status echo:u32 body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The request's opcode.
    pub op: u8,
    /// The outcome.
    pub status: Status,
    /// Chunk sequence number, BEGIN token, or 0.
    pub echo: u32,
    /// Opcode-specific fields: BEGIN `pid:u32 max_chunk:u16`; END `pid:u32`;
    /// STATUS `state:u8 pid:u32 written:u32 total:u32`.
    pub body: Vec<u8>,
}

impl Reply {
    /// A reply without body.
    pub fn new(op: u8, status: Status, echo: u32) -> Self {
        Self {
            op,
            status,
            echo,
            body: Vec::new(),
        }
    }

    /// Decodes a reply; `None` if malformed.
    pub fn decode(b: &[u8]) -> Option<Self> {
        let code = *b.first()?;
        if code & op::REPLY == 0 {
            return None;
        }
        Some(Self {
            op: code & !op::REPLY,
            status: Status::from_u8(*b.get(1)?),
            echo: u32_at(b, 2)?,
            body: b[6..].to_vec(),
        })
    }

    /// Encodes the reply.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = vec![self.op | op::REPLY, self.status as u8];
        v.extend_from_slice(&self.echo.to_le_bytes());
        v.extend_from_slice(&self.body);
        v
    }

    /// The body's little-endian u32 at byte `at`.
    pub fn body_u32(&self, at: usize) -> Option<u32> {
        u32_at(&self.body, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn begin_layout_is_as_documented() {
        let r = Request::Begin {
            version: 1,
            token: 0x0403_0201,
            total_len: 0x100,
            label: Some("ab"),
        };
        assert_eq!(r.encode(), [1, 1, 1, 2, 3, 4, 0, 1, 0, 0, 2, b'a', b'b']);
        assert_eq!(Request::decode(&r.encode()), Some(r));
    }

    #[test]
    fn malformed_requests_are_refused() {
        for bad in [
            &[][..],
            &[op::CHUNK, 0, 0, 0, 0],
            &[op::END, 1, 2, 3],
            &[op::ABORT, 0],
            &[op::BEGIN, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, b'a'],
            &[op::BEGIN, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF],
            &[0x42],
        ] {
            assert_eq!(Request::decode(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn chunk_round_trips(seq in any::<u32>(), bytes in prop::collection::vec(any::<u8>(), 1..100)) {
            let r = Request::Chunk { seq, bytes: &bytes };
            let bytes_out = r.encode();
            prop_assert_eq!(Request::decode(&bytes_out), Some(r));
        }

        #[test]
        fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            let _ = Request::decode(&bytes);
            let _ = Reply::decode(&bytes);
        }
    }
}
