//! DAP base protocol framing: `Content-Length: N\r\n\r\n<N bytes of JSON>`.
//!
//! The decoder is incremental (bytes in, whole messages out) so it can be fed from a
//! blocking stdin reader, a TCP socket or a property test alike. Input is untrusted: a
//! header block and a body are both bounded, and anything malformed is an error the caller
//! can report, never a panic or an unbounded allocation.

use std::io::{self, Read, Write};

use serde_json::Value;
use thiserror::Error;

/// Largest body accepted. DAP requests are small (the biggest are `setBreakpoints` with
/// many lines and `writeMemory` with base64 data); 16 MiB leaves room for both.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// Largest header block (all header lines together).
pub const MAX_HEADER: usize = 8 * 1024;

/// A framing failure.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    /// The header block is not `Name: value` lines ending in an empty line.
    #[error("malformed DAP header: {0}")]
    BadHeader(String),
    /// No `Content-Length` header.
    #[error("DAP header without Content-Length")]
    NoLength,
    /// The header block grew past [`MAX_HEADER`].
    #[error("DAP header longer than {MAX_HEADER} bytes")]
    HeaderTooLong,
    /// `Content-Length` is larger than [`MAX_BODY`].
    #[error("DAP message of {0} bytes exceeds the limit of {MAX_BODY}")]
    TooLarge(usize),
    /// The body is not a JSON object.
    #[error("DAP body is not a JSON object: {0}")]
    BadJson(String),
}

/// Incremental decoder of DAP messages.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Body length once the header block has been parsed.
    want: Option<usize>,
}

fn find_header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

fn parse_header(block: &[u8]) -> Result<usize, FrameError> {
    let text = std::str::from_utf8(block)
        .map_err(|_| FrameError::BadHeader("header is not UTF-8".into()))?;
    let mut length = None;
    for line in text.split("\r\n") {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| FrameError::BadHeader(line.chars().take(80).collect()))?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            let v = value.trim();
            // Digits only: no sign, no hex; and compare as text first so a huge number
            // is "too large", not a parse error.
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FrameError::BadHeader(format!("Content-Length: {v}")));
            }
            let n = v.parse::<usize>().unwrap_or(usize::MAX);
            if n > MAX_BODY {
                return Err(FrameError::TooLarge(n));
            }
            length = Some(n);
        }
        // Other headers (Content-Type) are allowed by the spec and ignored.
    }
    length.ok_or(FrameError::NoLength)
}

impl Decoder {
    /// A decoder with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes buffered but not yet returned as a message.
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next whole message body, `Ok(None)` when more bytes are needed. After an
    /// error the stream cannot be resynchronised (there is no frame marker to find), so
    /// the caller should close it.
    pub fn next_body(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        if self.want.is_none() {
            let Some(end) = find_header_end(&self.buf) else {
                if self.buf.len() > MAX_HEADER {
                    return Err(FrameError::HeaderTooLong);
                }
                return Ok(None);
            };
            if end > MAX_HEADER {
                return Err(FrameError::HeaderTooLong);
            }
            let n = parse_header(&self.buf[..end])?;
            self.buf.drain(..end + 4);
            self.want = Some(n);
        }
        let Some(n) = self.want else {
            return Ok(None);
        };
        if self.buf.len() < n {
            return Ok(None);
        }
        self.want = None;
        let rest = self.buf.split_off(n);
        Ok(Some(std::mem::replace(&mut self.buf, rest)))
    }

    /// The next message as a JSON object, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Value>, FrameError> {
        let Some(body) = self.next_body()? else {
            return Ok(None);
        };
        match serde_json::from_slice::<Value>(&body) {
            Ok(v @ Value::Object(_)) => Ok(Some(v)),
            Ok(other) => Err(FrameError::BadJson(
                other.to_string().chars().take(80).collect(),
            )),
            Err(e) => Err(FrameError::BadJson(e.to_string())),
        }
    }
}

/// Reads whole messages from a byte stream.
#[derive(Debug)]
pub struct MessageReader<R> {
    inner: R,
    dec: Decoder,
}

/// What [`MessageReader::next`] found.
#[derive(Debug)]
pub enum Incoming {
    /// A message.
    Message(Value),
    /// The stream ended cleanly.
    Eof,
}

impl<R: Read> MessageReader<R> {
    /// Wraps a stream.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            dec: Decoder::new(),
        }
    }

    /// Blocks until a whole message arrives or the stream ends.
    ///
    /// # Errors
    /// I/O errors, and framing errors as `InvalidData` (with the [`FrameError`] text).
    pub fn next(&mut self) -> io::Result<Incoming> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.dec.next_message() {
                Ok(Some(m)) => return Ok(Incoming::Message(m)),
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            let n = match self.inner.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Ok(Incoming::Eof);
            }
            self.dec.push(&chunk[..n]);
        }
    }
}

/// Encodes one message with its header.
pub fn encode(msg: &Value) -> Vec<u8> {
    let body = msg.to_string();
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// Writes one message and flushes.
///
/// # Errors
/// I/O errors of the writer.
pub fn write_message<W: Write + ?Sized>(w: &mut W, msg: &Value) -> io::Result<()> {
    w.write_all(&encode(msg))?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn decode_all(bytes: &[u8]) -> (Vec<Value>, Option<FrameError>) {
        let mut d = Decoder::new();
        d.push(bytes);
        let mut out = Vec::new();
        loop {
            match d.next_message() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn one_message_round_trips() {
        let m = json!({"seq": 1, "type": "request", "command": "initialize"});
        assert_eq!(decode_all(&encode(&m)), (vec![m], None));
    }

    #[test]
    fn partial_header_and_body_wait_for_more() {
        let m = json!({"seq": 2, "type": "request", "command": "threads"});
        let bytes = encode(&m);
        let mut d = Decoder::new();
        for (i, b) in bytes.iter().enumerate() {
            assert_eq!(d.next_message(), Ok(None), "complete too early at byte {i}");
            d.push(std::slice::from_ref(b));
        }
        assert_eq!(d.next_message(), Ok(Some(m)));
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn two_messages_in_one_chunk_and_extra_headers() {
        let a = json!({"seq": 1});
        let b = json!({"seq": 2});
        let mut bytes = encode(&a);
        let body = b.to_string();
        bytes.extend(
            format!(
                "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length:{}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        );
        assert_eq!(decode_all(&bytes), (vec![a, b], None));
    }

    #[test]
    fn oversized_length_is_rejected_before_buffering() {
        let (_, e) = decode_all(b"Content-Length: 999999999999999999999999\r\n\r\n");
        assert!(matches!(e, Some(FrameError::TooLarge(_))));
        let big = format!("Content-Length: {}\r\n\r\n", MAX_BODY + 1);
        assert_eq!(
            decode_all(big.as_bytes()).1,
            Some(FrameError::TooLarge(MAX_BODY + 1))
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            decode_all(b"hello\r\n\r\n").1,
            Some(FrameError::BadHeader(_))
        ));
        assert_eq!(
            decode_all(b"X-Foo: 1\r\n\r\n").1,
            Some(FrameError::NoLength)
        );
        assert!(matches!(
            decode_all(b"Content-Length: -4\r\n\r\n{}").1,
            Some(FrameError::BadHeader(_))
        ));
        assert!(matches!(
            decode_all(b"Content-Length: 3\r\n\r\n[1]").1,
            Some(FrameError::BadJson(_))
        ));
        assert!(matches!(
            decode_all(b"Content-Length: 3\r\n\r\n{x}").1,
            Some(FrameError::BadJson(_))
        ));
        let endless = vec![b'a'; MAX_HEADER + 10];
        assert_eq!(decode_all(&endless).1, Some(FrameError::HeaderTooLong));
    }

    #[test]
    fn reader_reports_eof_and_invalid_data() {
        let mut r = MessageReader::new(&b""[..]);
        assert!(matches!(r.next(), Ok(Incoming::Eof)));
        let mut r = MessageReader::new(&b"Content-Length: x\r\n\r\n"[..]);
        assert_eq!(
            r.next().err().map(|e| e.kind()),
            Some(io::ErrorKind::InvalidData)
        );
    }

    proptest! {
        /// Any split of a stream of valid messages decodes to the same messages.
        #[test]
        fn any_chunking_decodes_the_same(
            seqs in proptest::collection::vec(0u32..1000, 1..6),
            texts in proptest::collection::vec(".{0,40}", 1..6),
            cuts in proptest::collection::vec(0usize..400, 0..12),
        ) {
            let msgs: Vec<Value> = seqs.iter().zip(texts.iter().cycle())
                .map(|(s, t)| json!({"seq": s, "type": "request", "command": t}))
                .collect();
            let stream: Vec<u8> = msgs.iter().flat_map(encode).collect();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
            cuts.sort_unstable();
            let mut d = Decoder::new();
            let mut got = Vec::new();
            let mut from = 0;
            for c in cuts.into_iter().chain(std::iter::once(stream.len())) {
                d.push(&stream[from..c]);
                from = c;
                while let Some(m) = d.next_message().map_err(|e| TestCaseError::fail(e.to_string()))? {
                    got.push(m);
                }
            }
            prop_assert_eq!(got, msgs);
        }

        /// Arbitrary bytes never panic and never buffer past the bounds.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut d = Decoder::new();
            d.push(&bytes);
            for _ in 0..8 {
                match d.next_message() {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            prop_assert!(d.buffered() <= bytes.len());
        }
    }
}
