//! The byte stream under a [`super::Client`]: TCP (`HOST:PORT`) or a Unix-domain socket
//! (`unix:PATH`), and the token a connection presents first when hsxd asks for one.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// One connected stream.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixStream),
}

impl Stream {
    /// Connects to a Unix socket at `path`.
    #[cfg(unix)]
    pub(crate) fn unix(path: &Path) -> io::Result<Stream> {
        std::os::unix::net::UnixStream::connect(path).map(Stream::Unix)
    }

    /// Unix sockets exist only on Unix.
    #[cfg(not(unix))]
    pub(crate) fn unix(_: &Path) -> io::Result<Stream> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "Unix-domain sockets need a Unix system",
        ))
    }

    pub(crate) fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(t),
            #[cfg(unix)]
            Stream::Unix(s) => s.set_read_timeout(t),
        }
    }

    pub(crate) fn try_clone(&self) -> io::Result<Stream> {
        match self {
            Stream::Tcp(s) => s.try_clone().map(Stream::Tcp),
            #[cfg(unix)]
            Stream::Unix(s) => s.try_clone().map(Stream::Unix),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            #[cfg(unix)]
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// `--token-file` as given on the command line (before `HSX_TOKEN_FILE`).
static TOKEN_FILE: OnceLock<PathBuf> = OnceLock::new();

/// Makes every later connection of this process present the token in `path`.
pub fn set_token_file(path: &Path) {
    let _ = TOKEN_FILE.set(path.to_path_buf());
}

/// The token to present: the first line of `--token-file`, else of `$HSX_TOKEN_FILE`,
/// else none.
///
/// # Errors
/// The file is named but cannot be read.
pub(crate) fn token() -> io::Result<Option<String>> {
    let path = match TOKEN_FILE.get() {
        Some(p) => p.clone(),
        None => match std::env::var_os("HSX_TOKEN_FILE") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => return Ok(None),
        },
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("token file {}: {e}", path.display())))?;
    Ok(text.lines().next().map(|l| l.trim().to_string()))
}
