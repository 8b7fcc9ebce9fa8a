//! What a command sees while it runs ([`Ctx`]) and what it answers ([`Outcome`]).
//!
//! Kept apart from [`crate::dispatch`] so that command files depend on this and on the
//! daemon state only, and the dispatcher depends on the commands: one direction.

use std::sync::Arc;

use crate::dmesg::Dmesg;
use crate::error::ProtoError;
use crate::events::SubHandle;
use crate::policy::{Cap, Caps, Grant, Policy};
use crate::reply::Reply;
use crate::state::Daemon;

/// Something the connection must do after writing the reply.
#[derive(Debug)]
pub enum PostAction {
    /// Start streaming this subscription's events on the connection.
    Subscribed(SubHandle),
    /// Stop the server.
    Shutdown,
    /// Reset sessions, subscriptions and connections shortly (`restart exec`).
    RestartExec,
}

/// A reply and an optional follow-up.
#[derive(Debug)]
pub struct Outcome {
    /// The reply line.
    pub reply: Reply,
    /// What to do after sending it.
    pub action: Option<PostAction>,
}

impl Outcome {
    /// Just a reply.
    pub fn reply(reply: Reply) -> Self {
        Self {
            reply,
            action: None,
        }
    }

    /// Adds a follow-up.
    pub fn then(mut self, action: PostAction) -> Self {
        self.action = Some(action);
        self
    }
}

impl From<Reply> for Outcome {
    fn from(reply: Reply) -> Self {
        Outcome::reply(reply)
    }
}

/// Who sent a request: its connection, the principal it authenticated as, and the policy
/// that applies.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The connection.
    pub conn: u64,
    /// The principal's grant.
    pub grant: Arc<Grant>,
    /// The daemon's policy.
    pub policy: Arc<Policy>,
}

impl Peer {
    /// A client of `policy` that presented no token.
    pub fn anonymous(conn: u64, policy: Arc<Policy>) -> Peer {
        Peer {
            conn,
            grant: policy.anonymous(),
            policy,
        }
    }
}

/// What a command sees while it runs.
pub struct Ctx<'a> {
    d: &'a Daemon,
    /// The request's session id (trimmed, non-empty), already validated for
    /// non-`session.*` commands.
    pub session: Option<&'a str>,
    /// The connection the request came in on.
    pub conn: u64,
    /// The request's capabilities: its session's, or its principal's without one.
    pub caps: Caps,
    /// Who sent it.
    pub peer: Option<&'a Peer>,
}

impl<'a> Ctx<'a> {
    /// The context of one request.
    pub fn new(d: &'a Daemon, session: Option<&'a str>, conn: u64) -> Self {
        Self {
            d,
            session,
            conn,
            caps: Caps::ALL,
            peer: None,
        }
    }

    /// The context of a request from `peer` with capabilities `caps`.
    pub fn for_peer(d: &'a Daemon, session: Option<&'a str>, peer: &'a Peer, caps: Caps) -> Self {
        Self {
            d,
            session,
            conn: peer.conn,
            caps,
            peer: Some(peer),
        }
    }

    /// `permission_denied:<cap>` unless the request holds `cap`.
    pub fn require(&self, cap: Cap) -> Result<(), ProtoError> {
        if self.caps.has(cap) {
            Ok(())
        } else {
            Err(ProtoError::msg(format!("permission_denied:{}", cap.name())))
        }
    }

    /// The daemon's state.
    pub fn daemon(&self) -> &'a Daemon {
        self.d
    }

    /// The log ring.
    pub fn dmesg(&self) -> &'a Dmesg {
        self.d.dmesg()
    }

    /// Current time.
    pub fn now(&self) -> f64 {
        self.d.now()
    }

    /// The PID-lock check for this request's session.
    pub fn check_pid(&self, pid: u32) -> Result<(), ProtoError> {
        self.d.with_sessions(|t| t.check_pid(pid, self.session))
    }

    /// Runs a possibly long call without stalling other connections: on a multi-thread
    /// runtime the worker hands its other tasks off first.
    pub fn heavy<R>(&self, f: impl FnOnce() -> R) -> R {
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(f)
            }
            _ => f(),
        }
    }
}
