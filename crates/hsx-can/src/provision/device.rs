//! The device side over ISO-TP: receives requests and answers them with a [`DeviceSession`].

use std::time::{Duration, Instant};

use super::MessageLink;
use super::{DeviceEvent, DeviceSession, ProvisionTarget};
use crate::IsoTpError;

/// A device endpoint: receives requests on an ISO-TP channel and answers them.
pub struct ProvisionDevice<L: MessageLink> {
    channel: L,
    session: DeviceSession,
    reply_timeout: Duration,
    origin: Instant,
}

impl<L: MessageLink> ProvisionDevice<L> {
    /// A device on `channel` with `session`'s limits.
    pub fn new(channel: L, session: DeviceSession) -> Self {
        Self {
            channel,
            session,
            reply_timeout: Duration::from_secs(2),
            origin: Instant::now(),
        }
    }

    /// The channel (for frame counts).
    pub fn channel(&self) -> &L {
        &self.channel
    }

    /// The protocol state (e.g. whether a load is open).
    pub fn session(&self) -> &DeviceSession {
        &self.session
    }

    /// How long sending one reply may take before it is given up (default 2 s; the master
    /// resends its request anyway).
    pub fn set_reply_timeout(&mut self, timeout: Duration) {
        self.reply_timeout = timeout;
    }

    /// Waits up to `timeout` for one request and answers it. A broken or missing message is
    /// not an error (the master resends); only a failed bus is.
    pub fn serve_once(
        &mut self,
        target: &mut impl ProvisionTarget,
        timeout: Duration,
    ) -> Result<Option<DeviceEvent>, IsoTpError> {
        let request = match self.channel.recv_message(timeout) {
            Ok(r) => r,
            Err(IsoTpError::Bus(e)) => return Err(IsoTpError::Bus(e)),
            Err(_) => return Ok(self.session.expire(target, self.origin.elapsed())),
        };
        let (reply, ev) = self.session.handle(target, &request, self.origin.elapsed());
        match self.channel.send_message(&reply, self.reply_timeout) {
            Err(IsoTpError::Bus(e)) => Err(IsoTpError::Bus(e)),
            // A lost reply is recovered by the master's resend.
            _ => Ok(ev),
        }
    }
}
