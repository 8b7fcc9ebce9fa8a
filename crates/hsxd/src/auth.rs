//! Who may talk to the daemon at all: a shared token for connections that are not on
//! loopback. With a token configured, a connection must present it (`auth`, or a `token`
//! field on `session.open`) before any other request; without one, hsxd serves loopback
//! (or a Unix socket) only, unless the operator explicitly chose `--insecure-listen`.
//!
//! The token is compared in constant time, never logged, and never echoed.

use std::net::{IpAddr, ToSocketAddrs};
use std::path::Path;

use subtle::ConstantTimeEq;

/// Shortest token accepted: anything shorter is guessable.
pub const MIN_TOKEN_LEN: usize = 16;
/// Largest token file read (a token is a line, not a document).
const MAX_TOKEN_FILE: u64 = 4096;

/// Why a token could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read.
    #[error("cannot read token file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds less than [`MIN_TOKEN_LEN`] characters (after trimming).
    #[error("token in {path} is too short (at least {MIN_TOKEN_LEN} characters)")]
    TooShort {
        /// The file.
        path: String,
    },
    /// The file is larger than a token can be.
    #[error("token file {path} is too large to hold a token")]
    TooLarge {
        /// The file.
        path: String,
    },
}

/// A shared secret. Its `Debug` output is redacted.
#[derive(Clone)]
pub struct Token(Vec<u8>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    /// The token in `path`: its first line, trimmed.
    ///
    /// # Errors
    /// The file cannot be read, is too large, or the token is too short.
    pub fn from_file(path: &Path) -> Result<Token, TokenError> {
        let shown = path.display().to_string();
        let read = |source| TokenError::Read {
            path: shown.clone(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(read)?;
        if meta.len() > MAX_TOKEN_FILE {
            return Err(TokenError::TooLarge { path: shown });
        }
        let text = std::fs::read_to_string(path).map_err(read)?;
        Token::new(text.lines().next().unwrap_or("")).ok_or(TokenError::TooShort { path: shown })
    }

    /// A token from its text (trimmed); `None` when shorter than [`MIN_TOKEN_LEN`].
    pub fn new(text: &str) -> Option<Token> {
        let t = text.trim();
        (t.len() >= MIN_TOKEN_LEN).then(|| Token(t.as_bytes().to_vec()))
    }

    /// Whether `candidate` is the token, in time independent of where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        bool::from(self.0.as_slice().ct_eq(candidate.trim().as_bytes()))
    }
}

/// True when every address `listen` resolves to is a loopback address (a Unix socket
/// path counts as local too).
pub fn is_local(listen: &str) -> bool {
    if listen.starts_with("unix:") {
        return true;
    }
    match listen.to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| is_loopback(a.ip()))
        }
        Err(_) => false,
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef-secret";

    fn token() -> Token {
        Token::new(SECRET).unwrap_or_else(|| Token(b"x".to_vec()))
    }

    #[test]
    fn tokens_are_checked_whole_and_never_shown() {
        let t = token();
        assert!(t.matches(SECRET));
        assert!(t.matches(&format!(" {SECRET}\n")));
        assert!(!t.matches("0123456789abcdef-secreT"));
        assert!(!t.matches(""));
        assert!(!format!("{t:?}").contains("secret"));
        assert!(Token::new("short").is_none());
    }

    #[test]
    fn loopback_and_unix_sockets_are_local() {
        assert!(is_local("127.0.0.1:9998"));
        assert!(is_local("[::1]:9998"));
        assert!(is_local("localhost:0"));
        assert!(is_local("unix:/tmp/hsxd.sock"));
        assert!(!is_local("0.0.0.0:9998"));
        assert!(!is_local("[::]:9998"));
        assert!(!is_local("not-an-address"));
    }
}
