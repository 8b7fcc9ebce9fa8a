//! SLCAN: the ASCII (Lawicel) protocol of USB-CAN dongles, over any serial link.
//!
//! Every command and frame is one line ending in `\r`. The adapter answers a command with `\r`
//! (success) or a bell `\x07` (error). Frames are `tIIILDD..` (11-bit), `TIIIIIIIILDD..` (29-bit),
//! `rIIIL` / `RIIIIIIIIL` (remote), identifiers and data in hexadecimal, `L` the length 0..8.
//!
//! [`Slcan`] plays either end: [`Slcan::host`] drives a dongle (closes, sets the bit rate, opens
//! the channel and checks each answer), [`Slcan::adapter`] answers like a dongle does, which is
//! what a device behind a serial line (or a test on a pseudo-terminal) needs.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use crate::frame::{extended_id, standard_id};
use crate::{BusError, CanBus, CanFrame};

/// The longest valid line (`T` + 8 id digits + length + 16 data digits); longer lines are
/// discarded whole, so a noisy link cannot grow the buffer.
pub const MAX_LINE: usize = 26;
/// Received frames kept before the oldest are dropped (the reader is not keeping up).
pub const RX_QUEUE: usize = 1024;
/// Unread adapter answers kept (see `push_answer`).
const MAX_ANSWERS: usize = 8;
/// How long `host` waits for the dongle to answer each set-up command.
const REPLY_TIMEOUT: Duration = Duration::from_secs(1);

/// A serial link with a settable read timeout: reads that time out return `TimedOut` or
/// `WouldBlock` (as `serialport` does).
pub trait SerialLink: Read + Write + Send {
    /// Bound the next reads to `timeout`.
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()>;
}

impl SerialLink for serialport::TTYPort {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        serialport::SerialPort::set_timeout(self, timeout).map_err(io::Error::from)
    }
}

impl SerialLink for Box<dyn serialport::SerialPort> {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.set_timeout(timeout).map_err(io::Error::from)
    }
}

impl SerialLink for std::net::TcpStream {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        // A zero timeout means "block forever" to the socket; wait a moment instead.
        std::net::TcpStream::set_read_timeout(self, Some(timeout.max(Duration::from_millis(1))))
    }
}

/// The classic SLCAN bit rates (`S0`..`S8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bitrate {
    /// 10 kbit/s (`S0`).
    K10,
    /// 20 kbit/s (`S1`).
    K20,
    /// 50 kbit/s (`S2`).
    K50,
    /// 100 kbit/s (`S3`).
    K100,
    /// 125 kbit/s (`S4`).
    K125,
    /// 250 kbit/s (`S5`).
    K250,
    /// 500 kbit/s (`S6`).
    K500,
    /// 800 kbit/s (`S7`).
    K800,
    /// 1 Mbit/s (`S8`).
    M1,
}

impl Bitrate {
    const ALL: [(Bitrate, u32); 9] = [
        (Bitrate::K10, 10_000),
        (Bitrate::K20, 20_000),
        (Bitrate::K50, 50_000),
        (Bitrate::K100, 100_000),
        (Bitrate::K125, 125_000),
        (Bitrate::K250, 250_000),
        (Bitrate::K500, 500_000),
        (Bitrate::K800, 800_000),
        (Bitrate::M1, 1_000_000),
    ];

    /// The rate for a number of bits per second, if SLCAN has a code for it.
    pub fn from_bps(bps: u32) -> Option<Self> {
        Self::ALL.iter().find(|(_, b)| *b == bps).map(|(r, _)| *r)
    }

    /// Bits per second.
    pub fn bps(self) -> u32 {
        Self::ALL
            .iter()
            .find(|(r, _)| *r == self)
            .map_or(500_000, |(_, b)| *b)
    }

    /// The digit of the `S<n>` command.
    pub fn code(self) -> u8 {
        Self::ALL.iter().position(|(r, _)| *r == self).unwrap_or(6) as u8
    }
}

/// Which end of the serial line this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The computer driving a dongle: sends commands, reads answers and frames.
    Host,
    /// The dongle's side: answers commands, forwards frames once the channel is open.
    Adapter,
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Frame(CanFrame),
    Ok,
    Bell,
    Command(u8, Vec<u8>),
}

/// Encodes a frame as an SLCAN line (with its `\r`).
pub fn encode(frame: &CanFrame) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(MAX_LINE + 1);
    let (lead, width) = match (frame.is_extended(), frame.is_remote()) {
        (false, false) => ('t', 3),
        (true, false) => ('T', 8),
        (false, true) => ('r', 3),
        (true, true) => ('R', 8),
    };
    let _ = write!(s, "{lead}{:0width$X}{}", frame.raw_id(), frame.dlc());
    for b in frame.payload() {
        let _ = write!(s, "{b:02X}");
    }
    s.push('\r');
    s
}

fn hex(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, d| {
        let v = (*d as char).to_digit(16)?;
        Some(acc << 4 | v)
    })
}

/// Decodes a frame line (without its `\r`); `None` if it is not a valid frame.
pub fn decode(line: &[u8]) -> Option<CanFrame> {
    let (&lead, rest) = line.split_first()?;
    let (width, extended, remote) = match lead {
        b't' => (3, false, false),
        b'T' => (8, true, false),
        b'r' => (3, false, true),
        b'R' => (8, true, true),
        _ => return None,
    };
    let raw = hex(rest.get(..width)?)?;
    let id = if extended {
        extended_id(raw)?
    } else {
        standard_id(u16::try_from(raw).ok()?)?
    };
    let dlc = u8::try_from(hex(rest.get(width..width + 1)?)?).ok()?;
    if dlc > 8 {
        return None;
    }
    let body = &rest[width + 1..];
    if remote {
        return body.is_empty().then(|| CanFrame::remote(id, dlc)).flatten();
    }
    if body.len() != usize::from(dlc) * 2 {
        return None;
    }
    let mut data = [0u8; 8];
    for (i, pair) in body.chunks_exact(2).enumerate() {
        data[i] = u8::try_from(hex(pair)?).ok()?;
    }
    CanFrame::data(id, &data[..usize::from(dlc)])
}

fn parse(line: &[u8]) -> Line {
    match line.first() {
        None => Line::Ok,
        Some(b't' | b'T' | b'r' | b'R') => match decode(line) {
            Some(f) => Line::Frame(f),
            None => Line::Command(b'?', Vec::new()),
        },
        Some(&c) => Line::Command(c, line[1..].to_vec()),
    }
}

/// An SLCAN endpoint over a serial link; a [`CanBus`].
pub struct Slcan<L: SerialLink> {
    link: L,
    role: Role,
    line: Vec<u8>,
    overlong: bool,
    frames: VecDeque<CanFrame>,
    answers: VecDeque<Line>,
    channel_open: bool,
    errors: u64,
}

impl Slcan<Box<dyn serialport::SerialPort>> {
    /// Opens a dongle on serial device `path` (a tty, or a pseudo-terminal for tests) and opens
    /// its CAN channel at `bitrate`.
    pub fn open_path(path: &str, bitrate: Bitrate) -> Result<Self, BusError> {
        let port = serialport::new(path, 115_200)
            .timeout(Duration::from_millis(10))
            .open()
            .map_err(io::Error::from)?;
        Self::host(port, bitrate)
    }
}

impl<L: SerialLink> Slcan<L> {
    fn new(link: L, role: Role) -> Self {
        Self {
            link,
            role,
            line: Vec::with_capacity(MAX_LINE),
            overlong: false,
            frames: VecDeque::new(),
            answers: VecDeque::new(),
            channel_open: false,
            errors: 0,
        }
    }

    /// The host end: closes the channel (whatever state the dongle was left in), sets the bit
    /// rate and opens it; fails if the dongle rings the bell or does not answer.
    pub fn host(link: L, bitrate: Bitrate) -> Result<Self, BusError> {
        let mut s = Self::new(link, Role::Host);
        // A dongle whose channel is already closed rings the bell at `C`: that is fine.
        s.command("C")?;
        let _ = s.answer();
        s.command(&format!("S{}", bitrate.code()))?;
        s.expect_ok("S")?;
        s.command("O")?;
        s.expect_ok("O")?;
        s.channel_open = true;
        Ok(s)
    }

    /// The adapter end: waits for the host's commands and answers them.
    pub fn adapter(link: L) -> Self {
        Self::new(link, Role::Adapter)
    }

    /// Whether the CAN channel is open (host: after set-up; adapter: after the host's `O`).
    pub fn is_open(&self) -> bool {
        self.channel_open
    }

    /// Lines that were malformed, too long, or refused with a bell.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    fn command(&mut self, cmd: &str) -> Result<(), BusError> {
        self.write(format!("{cmd}\r").as_bytes())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), BusError> {
        self.link.write_all(bytes).map_err(io_error)?;
        self.link.flush().map_err(io_error)
    }

    fn answer(&mut self) -> Result<Line, BusError> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            if let Some(a) = self.answers.pop_front() {
                return Ok(a);
            }
            if Instant::now() >= deadline {
                return Err(BusError::Adapter("no answer from the SLCAN adapter".into()));
            }
            self.pump(deadline.saturating_duration_since(Instant::now()))?;
        }
    }

    fn expect_ok(&mut self, what: &str) -> Result<(), BusError> {
        match self.answer()? {
            Line::Ok => Ok(()),
            _ => Err(BusError::Adapter(format!(
                "SLCAN adapter refused command {what}"
            ))),
        }
    }

    /// Reads once (waiting at most `timeout`) and handles the complete lines.
    fn pump(&mut self, timeout: Duration) -> Result<(), BusError> {
        self.link.set_read_timeout(timeout).map_err(io_error)?;
        let mut buf = [0u8; 256];
        let n = match self.link.read(&mut buf) {
            Ok(0) => return Err(BusError::Closed),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                return Ok(());
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(io_error(e)),
        };
        for &b in &buf[..n] {
            match b {
                b'\r' | 0x07 => {
                    let line = std::mem::take(&mut self.line);
                    if std::mem::take(&mut self.overlong) {
                        self.errors += 1;
                        self.bell_if_adapter()?;
                    } else if b == 0x07 {
                        self.errors += 1;
                        self.push_answer(Line::Bell);
                    } else {
                        self.handle(parse(&line))?;
                    }
                }
                b'\n' => {}
                _ if self.line.len() >= MAX_LINE => self.overlong = true,
                _ => self.line.push(b),
            }
        }
        Ok(())
    }

    /// Answers are only read during set-up; later ones (a dongle's bell for a frame it could
    /// not send) are kept only up to a few so a long session cannot grow the queue.
    fn push_answer(&mut self, line: Line) {
        if self.answers.len() >= MAX_ANSWERS {
            self.answers.pop_front();
        }
        self.answers.push_back(line);
    }

    fn bell_if_adapter(&mut self) -> Result<(), BusError> {
        if self.role == Role::Adapter {
            self.write(b"\x07")?;
        }
        Ok(())
    }

    fn handle(&mut self, line: Line) -> Result<(), BusError> {
        match (self.role, line) {
            (_, Line::Frame(f)) => {
                if self.role == Role::Adapter {
                    if !self.channel_open {
                        self.errors += 1;
                        return self.write(b"\x07");
                    }
                    self.write(if f.is_extended() { b"Z\r" } else { b"z\r" })?;
                }
                if self.frames.len() >= RX_QUEUE {
                    self.frames.pop_front();
                    self.errors += 1;
                }
                self.frames.push_back(f);
                Ok(())
            }
            // Transmit acknowledgements of a dongle carry nothing the host needs.
            (Role::Host, Line::Command(b'z' | b'Z', _)) => Ok(()),
            (Role::Host, Line::Ok) => {
                self.push_answer(Line::Ok);
                Ok(())
            }
            (Role::Host, other) => {
                self.push_answer(other);
                Ok(())
            }
            // An empty line is a flush; a dongle answers nothing.
            (Role::Adapter, Line::Ok) => Ok(()),
            (Role::Adapter, Line::Bell) => Ok(()),
            (Role::Adapter, Line::Command(c, args)) => self.answer_command(c, &args),
        }
    }

    fn answer_command(&mut self, c: u8, args: &[u8]) -> Result<(), BusError> {
        let ok = match (c, args) {
            (b'O' | b'L', []) => {
                self.channel_open = true;
                true
            }
            // Closing a closed channel is harmless; hosts send `C` first to get a known state.
            (b'C', []) => {
                self.channel_open = false;
                true
            }
            (b'S', [d]) => !self.channel_open && (b'0'..=b'8').contains(d),
            (b's', a) => !self.channel_open && a.len() == 4 && hex(a).is_some(),
            (b'V', []) => return self.write(b"V1013\r"),
            (b'v', []) => return self.write(b"v1013\r"),
            (b'N', []) => return self.write(b"NHSX0\r"),
            (b'F', []) => return self.write(b"F00\r"),
            (b'Z' | b'X' | b'W' | b'M' | b'm' | b'Q', _) => true,
            _ => false,
        };
        if ok {
            self.write(b"\r")
        } else {
            self.errors += 1;
            self.write(b"\x07")
        }
    }
}

fn io_error(e: io::Error) -> BusError {
    // A pseudo-terminal whose other end closed reports EIO.
    if e.raw_os_error() == Some(5) || e.kind() == ErrorKind::BrokenPipe {
        BusError::Closed
    } else {
        BusError::Io(e)
    }
}

impl<L: SerialLink> CanBus for Slcan<L> {
    fn send(&mut self, frame: &CanFrame) -> Result<(), BusError> {
        if !self.channel_open {
            return Err(BusError::Adapter("SLCAN channel is not open".into()));
        }
        self.write(encode(frame).as_bytes())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<CanFrame>, BusError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(f) = self.frames.pop_front() {
                return Ok(Some(f));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            self.pump(left)?;
            if left.is_zero() && self.frames.is_empty() {
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_the_four_frame_kinds() {
        let s = standard_id(0x123).unwrap();
        let e = extended_id(0x1ABC_DEF0).unwrap();
        assert_eq!(
            encode(&CanFrame::data(s, &[0xDE, 0xAD]).unwrap()),
            "t1232DEAD\r"
        );
        assert_eq!(encode(&CanFrame::data(e, &[]).unwrap()), "T1ABCDEF00\r");
        assert_eq!(encode(&CanFrame::remote(s, 8).unwrap()), "r1238\r");
        assert_eq!(encode(&CanFrame::remote(e, 1).unwrap()), "R1ABCDEF01\r");
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            &b"t12"[..],
            b"t1239",
            b"t12320",
            b"t8001FF",
            b"T2000000000",
            b"t+2300",
            b"r1231FF",
            b"t12320G",
            b"x1230",
        ] {
            assert_eq!(decode(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    fn frame_strategy() -> impl Strategy<Value = CanFrame> {
        (
            any::<bool>(),
            any::<bool>(),
            0u32..0x2000_0000,
            prop::collection::vec(any::<u8>(), 0..=8),
        )
            .prop_map(|(ext, remote, raw, data)| {
                let id = if ext {
                    extended_id(raw).unwrap()
                } else {
                    standard_id((raw & 0x7FF) as u16).unwrap()
                };
                if remote {
                    CanFrame::remote(id, data.len() as u8).unwrap()
                } else {
                    CanFrame::data(id, &data).unwrap()
                }
            })
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(f in frame_strategy()) {
            let line = encode(&f);
            prop_assert_eq!(decode(line.trim_end_matches('\r').as_bytes()), Some(f));
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode(&bytes);
            let _ = parse(&bytes);
        }
    }
}
