//! Errors that end up as the `error` text of a reply.
//!
//! The `Display` text of each variant **is** the wire string. Clients match on some of
//! them (protocol.md §2.9): `session_required` (prefix), `unknown_cmd:<cmd>`, any text
//! containing `unsupported`, `pid_locked:<pid>`, `unsupported_version:<n>`, `unknown pid <n>`.

use thiserror::Error;

use hsx_exec::ExecError;

use crate::args::ArgError;

/// A command's operation on the executive failed; its text goes to the client unchanged.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OpError {
    /// The PID does not name a task.
    #[error("unknown pid {0}")]
    UnknownPid(u32),
    /// Any other failure, with the exact text to send.
    #[error("{0}")]
    Failed(String),
}

impl OpError {
    /// Shorthand for [`OpError::Failed`].
    pub fn failed(msg: impl Into<String>) -> Self {
        Self::Failed(msg.into())
    }
}

impl From<ExecError> for OpError {
    fn from(e: ExecError) -> Self {
        match e {
            ExecError::UnknownPid(pid) => Self::UnknownPid(pid),
            other => Self::failed(other.to_string()),
        }
    }
}

/// What an operation on the executive returns.
pub type OpResult<T> = Result<T, OpError>;

/// A request-level failure; becomes `{"version":1,"status":"error","error":"<Display>"}`.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ProtoError {
    /// The line is not JSON (or not UTF-8).
    #[error("invalid_json")]
    InvalidJson,
    /// The line is JSON but not a usable request (not an object, bad `version`).
    #[error("invalid_request:{0}")]
    InvalidRequest(&'static str),
    /// The line is longer than [`crate::codec::MAX_LINE_BYTES`].
    #[error("line_too_long:max={0}")]
    LineTooLong(usize),
    /// `version` is an integer other than 1.
    #[error("unsupported_version:{0}")]
    UnsupportedVersion(i128),
    /// No such command.
    #[error("unknown_cmd:{0}")]
    UnknownCmd(String),
    /// The request names a session that does not exist, or needs one and has none.
    #[error("session_required")]
    SessionRequired,
    /// `session.terminate` named a session that does not exist.
    #[error("session_not_found")]
    SessionNotFound,
    /// The PID is locked by another session.
    #[error("pid_locked:{0}")]
    PidLocked(u32),
    /// `since_seq` asks for events that have left the history ring.
    #[error("seq_evicted")]
    SeqEvicted,
    /// An event filter names a category that no event has.
    #[error("unsupported_category:{0}")]
    UnsupportedCategory(String),
    /// A field failed generic validation.
    #[error(transparent)]
    Arg(#[from] ArgError),
    /// A reference-compatible message such as `bp requires 'pid'`.
    #[error("{0}")]
    Message(String),
    /// An operation on the executive failed.
    #[error(transparent)]
    Op(#[from] OpError),
}

impl From<ExecError> for ProtoError {
    fn from(e: ExecError) -> Self {
        Self::Op(e.into())
    }
}

impl ProtoError {
    /// Shorthand for [`ProtoError::Message`].
    pub fn msg(text: impl Into<String>) -> Self {
        Self::Message(text.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings() {
        assert_eq!(ProtoError::InvalidJson.to_string(), "invalid_json");
        assert_eq!(
            ProtoError::UnknownCmd("frobnicate".into()).to_string(),
            "unknown_cmd:frobnicate"
        );
        assert_eq!(ProtoError::PidLocked(3).to_string(), "pid_locked:3");
        assert_eq!(
            ProtoError::UnsupportedVersion(2).to_string(),
            "unsupported_version:2"
        );
        assert_eq!(ProtoError::SessionRequired.to_string(), "session_required");
        assert_eq!(
            ProtoError::from(OpError::UnknownPid(9)).to_string(),
            "unknown pid 9"
        );
    }
}
