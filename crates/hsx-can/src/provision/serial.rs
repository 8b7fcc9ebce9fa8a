//! Provisioning messages over a serial line (a board's UART, or QEMU's serial port on TCP):
//! the same BEGIN/CHUNK/END/ABORT/STATUS messages as over CAN, one per text line.
//!
//! ```text
//! @<message as hex><CRC-32 of the message, 4 bytes little-endian, as hex>\n
//! ```
//!
//! A line that does not start with `@`, has odd or non-hex digits, is longer than
//! [`MAX_LINE`] or fails its CRC is ignored, so the board's console output can share the
//! line and garbage resynchronises at the next newline. Lost or damaged lines are recovered
//! by the master's resend, exactly as lost CAN frames are. The codec is `no_std` (the
//! firmware uses it); [`SerialLine`] is the host end.

use alloc::vec::Vec;

use hsx_image::Crc32;

/// Longest line accepted (a 4 KiB message plus its CRC, as hex, plus the marker).
pub const MAX_LINE: usize = 2 * (4096 + 4) + 2;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `msg` as one line to `out`.
pub fn encode_line(msg: &[u8], out: &mut Vec<u8>) {
    out.reserve(2 * msg.len() + 10);
    out.push(b'@');
    for &b in msg.iter().chain(Crc32::checksum(msg).to_le_bytes().iter()) {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
    out.push(b'\n');
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes the hex digits of `buf` (a line without its `@`) into its first half, checks the
/// CRC and returns the message, borrowed from `buf`.
fn decode_in_place(buf: &mut [u8]) -> Option<&[u8]> {
    if !buf.len().is_multiple_of(2) || buf.len() < 8 {
        return None;
    }
    let n = buf.len() / 2;
    for i in 0..n {
        // Reads (2i, 2i+1) are never behind the write at i.
        buf[i] = nibble(buf[2 * i])? << 4 | nibble(buf[2 * i + 1])?;
    }
    let (msg, sum) = buf[..n].split_at(n - 4);
    let want = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
    (Crc32::checksum(msg) == want).then_some(msg)
}

/// The message of one line (without its `\n`; a trailing `\r` is allowed), or `None` when the
/// line is not a valid frame.
#[must_use]
pub fn decode_line(line: &[u8]) -> Option<Vec<u8>> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut hex = line.strip_prefix(b"@")?.to_vec();
    if hex.len() > MAX_LINE {
        return None;
    }
    decode_in_place(&mut hex).map(<[u8]>::to_vec)
}

/// Splits a byte stream into frame lines and decodes them in a buffer allocated once, sized
/// for the longest message expected; a longer line is dropped whole, and bytes of lines that
/// do not start with `@` (console output) are never stored.
#[derive(Debug)]
pub struct LineBuffer {
    buf: Vec<u8>,
    limit: usize,
    /// Inside a line that is not (or no longer) a candidate frame.
    skip: bool,
    at_start: bool,
}

impl LineBuffer {
    /// A buffer for messages of up to `max_message` bytes (capped at the 4 KiB of
    /// [`MAX_LINE`]).
    #[must_use]
    pub fn new(max_message: usize) -> Self {
        let limit = (2 * (max_message + 4) + 1).min(MAX_LINE);
        Self {
            buf: Vec::with_capacity(limit),
            limit,
            skip: false,
            at_start: true,
        }
    }

    /// Bytes reserved for a line.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Feeds one byte; returns the message when it completes a valid frame line.
    pub fn push(&mut self, b: u8) -> Option<&[u8]> {
        if b == b'\n' {
            let take = !self.skip && !self.at_start;
            self.skip = false;
            self.at_start = true;
            if !take {
                return None;
            }
            let mut n = self.buf.len();
            if self.buf.last() == Some(&b'\r') {
                n -= 1;
            }
            self.buf.truncate(n);
            let len = decode_in_place(&mut self.buf).map(<[u8]>::len);
            let m = len.map(|l| &self.buf[..l]);
            // Cleared on the next byte (the message borrows the buffer until then).
            return m;
        }
        if self.at_start {
            self.at_start = false;
            self.buf.clear();
            self.skip = b != b'@';
            return None;
        }
        if !self.skip {
            if self.buf.len() >= self.limit {
                self.skip = true;
            } else {
                self.buf.push(b);
            }
        }
        None
    }
}

#[cfg(feature = "std")]
mod host {
    use std::io;
    use std::time::{Duration, Instant};

    use super::{LineBuffer, MAX_LINE, encode_line};
    use crate::slcan::SerialLink;
    use crate::{BusError, IsoTpError};

    /// The host end of a provisioning serial line.
    pub struct SerialLine<L: SerialLink> {
        link: L,
        lines: LineBuffer,
        counts: (u64, u64),
        /// Non-frame lines the other end sent (a board's console output), for the caller.
        console: Vec<u8>,
    }

    impl<L: SerialLink> SerialLine<L> {
        /// Frames messages over `link`.
        pub fn new(link: L) -> Self {
            Self {
                link,
                lines: LineBuffer::new(MAX_LINE),
                counts: (0, 0),
                console: Vec::new(),
            }
        }

        /// Takes what the other end printed that was not a frame (at most 64 KiB is kept).
        pub fn take_console(&mut self) -> Vec<u8> {
            std::mem::take(&mut self.console)
        }

        /// Keeps reading the other end's console output until it has been quiet for `quiet`
        /// (at most `limit` in all), then takes it as [`SerialLine::take_console`] does.
        pub fn drain_console(&mut self, quiet: Duration, limit: Duration) -> Vec<u8> {
            let end = Instant::now() + limit;
            let mut byte = [0u8; 1];
            while Instant::now() < end {
                if self.link.set_read_timeout(quiet).is_err() {
                    break;
                }
                match self.link.read(&mut byte) {
                    Ok(1) if self.console.len() < 64 * 1024 => self.console.push(byte[0]),
                    Ok(1) => {}
                    _ => break,
                }
            }
            self.take_console()
        }
    }

    impl<L: SerialLink> super::super::MessageLink for SerialLine<L> {
        fn send_message(&mut self, payload: &[u8], _timeout: Duration) -> Result<(), IsoTpError> {
            let mut line = Vec::new();
            encode_line(payload, &mut line);
            self.link
                .write_all(&line)
                .and_then(|()| self.link.flush())
                .map_err(|e| IsoTpError::Bus(BusError::Io(e)))?;
            self.counts.0 += 1;
            Ok(())
        }

        fn recv_message(&mut self, timeout: Duration) -> Result<Vec<u8>, IsoTpError> {
            let deadline = Instant::now() + timeout;
            let mut byte = [0u8; 1];
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(IsoTpError::Timeout("no reply line"));
                }
                self.link
                    .set_read_timeout(left)
                    .map_err(|e| IsoTpError::Bus(BusError::Io(e)))?;
                match self.link.read(&mut byte) {
                    Ok(0) => return Err(IsoTpError::Bus(BusError::Closed)),
                    Ok(_) => {
                        if self.console.len() < 64 * 1024 {
                            self.console.push(byte[0]);
                        }
                        if let Some(m) = self.lines.push(byte[0]).map(<[u8]>::to_vec) {
                            // The frame line was not console output.
                            let keep = self.console.len().saturating_sub(2 * m.len() + 10);
                            self.console.truncate(keep);
                            self.counts.1 += 1;
                            return Ok(m);
                        }
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::TimedOut
                                | io::ErrorKind::WouldBlock
                                | io::ErrorKind::Interrupted
                        ) => {}
                    Err(e) => return Err(IsoTpError::Bus(BusError::Io(e))),
                }
            }
        }

        fn message_counts(&self) -> (u64, u64) {
            self.counts
        }
    }

    /// A serial line to a board: `tcp:HOST:PORT` (e.g. QEMU's `-serial tcp:...,server`) or a
    /// serial device path (115200 8N1).
    ///
    /// # Errors
    /// The connection or the device cannot be opened.
    pub fn open_serial(spec: &str) -> io::Result<SerialLine<Box<dyn SerialLink>>> {
        let link: Box<dyn SerialLink> = match spec.strip_prefix("tcp:") {
            Some(addr) => {
                let s = std::net::TcpStream::connect(addr)?;
                s.set_nodelay(true)?;
                Box::new(s)
            }
            None => Box::new(
                serialport::new(spec, 115_200)
                    .timeout(Duration::from_millis(100))
                    .open()
                    .map_err(io::Error::from)?,
            ),
        };
        Ok(SerialLine::new(link))
    }

    impl SerialLink for Box<dyn SerialLink> {
        fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
            (**self).set_read_timeout(timeout)
        }
    }
}

#[cfg(feature = "std")]
pub use host::{SerialLine, open_serial};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_round_trip_and_console_text_is_ignored() {
        let mut out = Vec::new();
        encode_line(b"\x01hello", &mut out);
        let mut lb = LineBuffer::new(64);
        let mut got = Vec::new();
        for &b in b"[1:hello] Hello from HSX!\ngarbage @zz\n@zz\r\n"
            .iter()
            .chain(&out)
        {
            if let Some(m) = lb.push(b) {
                got.push(m.to_vec());
            }
        }
        assert_eq!(got, [b"\x01hello".to_vec()]);
        let mut bad = out.clone();
        bad[3] ^= 1;
        assert_eq!(
            decode_line(&bad[..bad.len() - 1]),
            None,
            "CRC catches a flipped digit"
        );
    }

    #[test]
    fn an_overlong_line_is_dropped_whole() {
        let mut lb = LineBuffer::new(16);
        let mut long = Vec::new();
        encode_line(&[7u8; 17], &mut long);
        for &b in &long {
            assert_eq!(lb.push(b), None, "a message over the limit is dropped");
        }
        let mut out = Vec::new();
        encode_line(&[7u8; 16], &mut out);
        let mut got = Vec::new();
        for &b in out.iter().chain(b"\r\n") {
            if let Some(m) = lb.push(b) {
                got.push(m.to_vec());
            }
        }
        assert_eq!(got, [vec![7u8; 16]], "the next line at the limit decodes");
        assert!(
            lb.buf.capacity() <= 2 * (16 + 4) + 1,
            "no growth past the limit"
        );
    }

    proptest! {
        #[test]
        fn decoding_never_panics(line in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_line(&line);
            let mut lb = LineBuffer::new(32);
            for &b in &line {
                let _ = lb.push(b);
            }
        }

        #[test]
        fn any_message_survives_the_line_codec(msg in prop::collection::vec(any::<u8>(), 0..100)) {
            let mut out = b"noise\n".to_vec();
            encode_line(&msg, &mut out);
            let mut lb = LineBuffer::new(100);
            let got: Vec<Vec<u8>> = out.iter().filter_map(|&b| lb.push(b).map(<[u8]>::to_vec)).collect();
            prop_assert_eq!(got, vec![msg]);
        }
    }
}
