//! The three per-task stdio streams and the handles a task holds on them. The manager's
//! stdio operations live in `tasks.rs` with the rest of the per-task lifecycle.

use super::abi::msg_flag;

/// Per-task stdin target.
pub const STDIO_IN: &str = "svc:stdio.in";
/// Per-task stdout target.
pub const STDIO_OUT: &str = "svc:stdio.out";
/// Per-task stderr target.
pub const STDIO_ERR: &str = "svc:stdio.err";

/// One of the three per-task stdio streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StdioStream {
    /// `svc:stdio.in`, fd 0.
    In,
    /// `svc:stdio.out`, fd 1.
    Out,
    /// `svc:stdio.err`, fd 2.
    Err,
}

impl StdioStream {
    /// All streams in fd order.
    pub const ALL: [Self; 3] = [Self::In, Self::Out, Self::Err];

    /// Target string of the caller's own stream.
    #[must_use]
    pub const fn target(self) -> &'static str {
        match self {
            Self::In => STDIO_IN,
            Self::Out => STDIO_OUT,
            Self::Err => STDIO_ERR,
        }
    }

    /// Descriptor name inside the svc namespace.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::In => "stdio.in",
            Self::Out => "stdio.out",
            Self::Err => "stdio.err",
        }
    }

    /// Stream for `in`/`stdin`, `out`/`stdout`, `err`/`stderr` (case-insensitive).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.trim();
        if n.eq_ignore_ascii_case("in") || n.eq_ignore_ascii_case("stdin") {
            Some(Self::In)
        } else if n.eq_ignore_ascii_case("out") || n.eq_ignore_ascii_case("stdout") {
            Some(Self::Out)
        } else if n.eq_ignore_ascii_case("err") || n.eq_ignore_ascii_case("stderr") {
            Some(Self::Err)
        } else {
            None
        }
    }

    /// Stream for a stdio fd (0, 1, 2).
    #[must_use]
    pub const fn from_fd(fd: u32) -> Option<Self> {
        match fd {
            0 => Some(Self::In),
            1 => Some(Self::Out),
            2 => Some(Self::Err),
            _ => None,
        }
    }

    /// Message flags a write to this stream carries.
    #[must_use]
    pub const fn write_flags(self) -> u16 {
        match self {
            Self::In => 0,
            Self::Out => msg_flag::STDOUT,
            Self::Err => msg_flag::STDERR,
        }
    }

    pub(super) const fn index(self) -> usize {
        match self {
            Self::In => 0,
            Self::Out => 1,
            Self::Err => 2,
        }
    }
}

/// The three handles opened for a task at load (its fd table 0/1/2). With
/// [`MailboxConfig::lazy_stdio`](super::MailboxConfig::lazy_stdio) a stream not used yet
/// has handle 0 (never a valid handle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdioHandles {
    /// Handle on `svc:stdio.in@pid` (fd 0).
    pub stdin: u32,
    /// Handle on `svc:stdio.out@pid` (fd 1).
    pub stdout: u32,
    /// Handle on `svc:stdio.err@pid` (fd 2).
    pub stderr: u32,
}

impl StdioHandles {
    /// Handle for a stream.
    #[must_use]
    pub const fn get(&self, stream: StdioStream) -> u32 {
        match stream {
            StdioStream::In => self.stdin,
            StdioStream::Out => self.stdout,
            StdioStream::Err => self.stderr,
        }
    }

    pub(super) const fn set(&mut self, stream: StdioStream, handle: u32) {
        match stream {
            StdioStream::In => self.stdin = handle,
            StdioStream::Out => self.stdout = handle,
            StdioStream::Err => self.stderr = handle,
        }
    }
}
