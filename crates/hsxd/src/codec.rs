//! Framing: newline-delimited JSON over a byte stream.
//!
//! Requests are read with `tokio_util`'s `LinesCodec` limited to [`MAX_LINE_BYTES`]
//! (1 MiB: far above any real request, the largest being a `trace import` of a few
//! thousand records, yet small enough that a runaway client cannot make the server buffer
//! without bound). A line that is too long, not UTF-8 or not JSON gets an error reply and
//! the connection stays usable.

use futures::StreamExt;
use serde_json::Value;
use tokio::io::AsyncRead;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, FramedRead, LinesCodec, LinesCodecError};

use crate::args::Obj;
use crate::error::ProtoError;

/// Longest accepted request line in bytes, newline excluded.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// A `LinesCodec` with the daemon's line limit.
pub fn line_codec() -> LinesCodec {
    LinesCodec::new_with_max_length(MAX_LINE_BYTES)
}

/// What the reader produced.
#[derive(Debug)]
pub enum Inbound {
    /// One complete line (the `\n`, and a `\r` before it, removed).
    Line(String),
    /// A line that cannot be a request; reply with this error and keep reading.
    Rejected(ProtoError),
    /// The peer closed the connection, or reading failed.
    Closed,
}

/// `LinesCodec` with per-line problems turned into frames instead of errors.
///
/// `FramedRead` treats any decoder error as a stream error: it yields it, then `None`,
/// and does not look at bytes already buffered until more arrive, so a request
/// pipelined behind a bad line would stall. Here a too-long or non-UTF-8 line is an
/// ordinary item and only real I/O errors are errors.
#[derive(Debug)]
pub struct RequestCodec {
    inner: LinesCodec,
}

impl RequestCodec {
    /// A codec with the daemon's line limit.
    pub fn new() -> Self {
        Self {
            inner: line_codec(),
        }
    }

    fn map(r: Result<Option<String>, LinesCodecError>) -> Result<Option<Inbound>, std::io::Error> {
        match r {
            Ok(Some(line)) => Ok(Some(Inbound::Line(line))),
            Ok(None) => Ok(None),
            // The codec now discards up to the next newline and carries on.
            Err(LinesCodecError::MaxLineLengthExceeded) => Ok(Some(Inbound::Rejected(
                ProtoError::LineTooLong(MAX_LINE_BYTES),
            ))),
            // Not UTF-8; the codec has already consumed the line.
            Err(LinesCodecError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                Ok(Some(Inbound::Rejected(ProtoError::InvalidJson)))
            }
            Err(LinesCodecError::Io(e)) => Err(e),
        }
    }
}

impl Default for RequestCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder for RequestCodec {
    type Item = Inbound;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Inbound>, std::io::Error> {
        Self::map(self.inner.decode(buf))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Inbound>, std::io::Error> {
        Self::map(self.inner.decode_eof(buf))
    }
}

/// Reads request lines from a byte stream.
#[derive(Debug)]
pub struct RequestReader<R> {
    inner: FramedRead<R, RequestCodec>,
}

impl<R: AsyncRead + Unpin> RequestReader<R> {
    /// Wraps a reader.
    pub fn new(reader: R) -> Self {
        Self {
            inner: FramedRead::new(reader, RequestCodec::new()),
        }
    }

    /// The next line. Cancel-safe, so it can sit in a `select!`.
    pub async fn next(&mut self) -> Inbound {
        match self.inner.next().await {
            Some(Ok(item)) => item,
            Some(Err(_)) | None => Inbound::Closed,
        }
    }
}

/// Parses one request line into its JSON object.
pub fn parse_request(line: &str) -> Result<Obj, ProtoError> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ProtoError::InvalidRequest("not_an_object")),
        Err(_) => Err(ProtoError::InvalidJson),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn parse_request_kinds() {
        assert!(parse_request(r#"{"cmd":"ping"}"#).is_ok());
        assert_eq!(parse_request("not json"), Err(ProtoError::InvalidJson));
        assert_eq!(parse_request(""), Err(ProtoError::InvalidJson));
        assert_eq!(
            parse_request("[1,2]"),
            Err(ProtoError::InvalidRequest("not_an_object"))
        );
    }

    #[tokio::test]
    async fn long_line_then_more_lines() {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let mut reader = RequestReader::new(server);
        let writer = tokio::spawn(async move {
            let big = vec![b'x'; MAX_LINE_BYTES + 10];
            let _ = client.write_all(&big).await;
            let _ = client.write_all(b"\n{\"a\":1}\n\xff\xfe\nlast\r\n").await;
            drop(client);
        });
        assert!(matches!(
            reader.next().await,
            Inbound::Rejected(ProtoError::LineTooLong(_))
        ));
        assert!(matches!(reader.next().await, Inbound::Line(l) if l == "{\"a\":1}"));
        assert!(matches!(
            reader.next().await,
            Inbound::Rejected(ProtoError::InvalidJson)
        ));
        let n = reader.next().await;
        assert!(matches!(&n, Inbound::Line(l) if l == "last"), "{n:?}");
        assert!(matches!(reader.next().await, Inbound::Closed));
        let _ = writer.await;
    }

    #[tokio::test]
    async fn pipelined_line_after_a_bad_one_is_not_stalled() {
        let (mut client, server) = tokio::io::duplex(4096);
        let mut reader = RequestReader::new(server);
        // One write, connection left open: the second line must come out without more input.
        let _ = client.write_all(b"\xff\n{\"cmd\":\"ping\"}\n").await;
        assert!(matches!(
            reader.next().await,
            Inbound::Rejected(ProtoError::InvalidJson)
        ));
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), reader.next()).await;
        assert!(matches!(next, Ok(Inbound::Line(l)) if l == "{\"cmd\":\"ping\"}"));
        drop(client);
    }
}
