//! ISO 15765-2 (ISO-TP) messages over a [`CanBus`].
//!
//! The segmentation, flow control (CTS/WAIT/OVFLW, block size, STmin), sequence checking and
//! the N_Bs/N_Cr timers come from the `can-iso-tp` crate; this module adapts a [`CanBus`] to
//! its split Tx/Rx traits and drives it with bounded, blocking `send`/`recv` calls that wait on
//! the bus instead of spinning.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use can_iso_tp::{IsoTpConfig, IsoTpNode, Progress, RxStorage, StdClock, TimeoutKind};
use embedded_can::Id;
use embedded_can_interface::{RxFrameIo, TxFrameIo};

use crate::{BusError, CanBus, CanFrame};

/// The largest ISO-TP message on classic CAN (12-bit length in the first frame).
pub const MAX_MESSAGE: usize = crate::ISOTP_MAX_MESSAGE;

/// How long one wait on the bus lasts at most, so the ISO-TP timers are checked that often.
const WAIT_SLICE: Duration = Duration::from_millis(5);

/// The ISO-TP parameters of one channel (one pair of CAN identifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoTpParams {
    /// Identifier this end sends on.
    pub tx_id: Id,
    /// Identifier this end listens to (all others are ignored).
    pub rx_id: Id,
    /// Block size advertised to a sender: consecutive frames between flow controls (0 = all).
    pub block_size: u8,
    /// Minimum separation between consecutive frames advertised to a sender.
    pub st_min: Duration,
    /// WAIT flow controls accepted in a row before giving up.
    pub wft_max: u8,
    /// Pad every frame to 8 bytes with this value (some controllers require 8-byte frames).
    pub padding: Option<u8>,
    /// N_Bs: how long a sender waits for a flow control.
    pub n_bs: Duration,
    /// N_Cr: how long a receiver waits for the next consecutive frame.
    pub n_cr: Duration,
}

impl IsoTpParams {
    /// Parameters with the defaults documented in `docs/can.md`: block size 16, STmin 0,
    /// up to 8 WAITs, no padding, N_Bs = N_Cr = 1 s.
    pub fn new(tx_id: Id, rx_id: Id) -> Self {
        Self {
            tx_id,
            rx_id,
            block_size: 16,
            st_min: Duration::ZERO,
            wft_max: 8,
            padding: None,
            n_bs: Duration::from_secs(1),
            n_cr: Duration::from_secs(1),
        }
    }

    /// The same parameters seen from the other end (identifiers swapped).
    pub fn reversed(self) -> Self {
        Self {
            tx_id: self.rx_id,
            rx_id: self.tx_id,
            ..self
        }
    }

    fn config(&self) -> IsoTpConfig {
        IsoTpConfig {
            tx_id: to_iface_id(self.tx_id),
            rx_id: to_iface_id(self.rx_id),
            tx_addr: None,
            rx_addr: None,
            block_size: self.block_size,
            st_min: self.st_min,
            wft_max: self.wft_max,
            padding: self.padding,
            max_payload_len: MAX_MESSAGE,
            n_as: self.n_bs,
            n_ar: self.n_cr,
            n_bs: self.n_bs,
            n_br: self.n_cr,
            n_cs: self.n_cr,
            frame_len: 8,
        }
    }
}

fn to_iface_id(id: Id) -> embedded_can_interface::Id {
    match id {
        Id::Standard(s) => embedded_can_interface::Id::Standard(s),
        Id::Extended(e) => embedded_can_interface::Id::Extended(e),
    }
}

/// Why an ISO-TP transfer failed. A failed transfer leaves the channel ready for the next one.
#[derive(Debug, thiserror::Error)]
pub enum IsoTpError {
    /// An ISO-TP timer or the caller's deadline expired.
    #[error("ISO-TP timeout: {0}")]
    Timeout(&'static str),
    /// A consecutive frame arrived with the wrong sequence number; the message was dropped.
    #[error("ISO-TP sequence error: a consecutive frame was lost or repeated")]
    BadSequence,
    /// The receiver answered with flow control OVFLW (message too large for it).
    #[error("ISO-TP receiver overflow (flow control OVFLW)")]
    RemoteOverflow,
    /// A message longer than [`MAX_MESSAGE`] bytes.
    #[error("ISO-TP message of {0} bytes exceeds {MAX_MESSAGE}")]
    TooLong(usize),
    /// A frame on our identifier that is not valid ISO-TP.
    #[error("ISO-TP frame is malformed")]
    InvalidFrame,
    /// Parameters the ISO-TP layer refuses (e.g. identical identifiers).
    #[error("ISO-TP parameters are invalid")]
    Config,
    /// The bus failed.
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// The bus plus one frame of look-ahead: waiting for a frame (blocking, with a deadline) and the
/// ISO-TP node's non-blocking `try_recv` share it.
struct Link<B> {
    bus: B,
    pending: Option<CanFrame>,
    failed: Option<BusError>,
    sent: u64,
    received: u64,
}

type Shared<B> = Arc<Mutex<Link<B>>>;

fn lock<B>(s: &Shared<B>) -> MutexGuard<'_, Link<B>> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// The node's view of the bus; `Empty` stands for "nothing to read now".
#[derive(Debug)]
enum HalfError {
    Empty,
    Bus,
}

struct TxHalf<B>(Shared<B>);
struct RxHalf<B>(Shared<B>);

impl<B: CanBus> TxFrameIo for TxHalf<B> {
    type Frame = CanFrame;
    type Error = HalfError;

    fn send(&mut self, frame: &CanFrame) -> Result<(), HalfError> {
        let mut link = lock(&self.0);
        match link.bus.send(frame) {
            Ok(()) => {
                link.sent += 1;
                Ok(())
            }
            Err(e) => {
                link.failed = Some(e);
                Err(HalfError::Bus)
            }
        }
    }

    fn try_send(&mut self, frame: &CanFrame) -> Result<(), HalfError> {
        TxFrameIo::send(self, frame)
    }

    fn send_timeout(&mut self, frame: &CanFrame, _timeout: Duration) -> Result<(), HalfError> {
        TxFrameIo::send(self, frame)
    }
}

impl<B: CanBus> RxHalf<B> {
    fn take(&mut self, timeout: Duration) -> Result<CanFrame, HalfError> {
        let mut link = lock(&self.0);
        if let Some(f) = link.pending.take() {
            return Ok(f);
        }
        match link.bus.recv(timeout) {
            Ok(Some(f)) => {
                link.received += 1;
                Ok(f)
            }
            Ok(None) => Err(HalfError::Empty),
            Err(e) => {
                link.failed = Some(e);
                Err(HalfError::Bus)
            }
        }
    }
}

impl<B: CanBus> RxFrameIo for RxHalf<B> {
    type Frame = CanFrame;
    type Error = HalfError;

    fn recv(&mut self) -> Result<CanFrame, HalfError> {
        self.take(WAIT_SLICE)
    }

    fn try_recv(&mut self) -> Result<CanFrame, HalfError> {
        self.take(Duration::ZERO)
    }

    fn recv_timeout(&mut self, timeout: Duration) -> Result<CanFrame, HalfError> {
        self.take(timeout)
    }

    fn wait_not_empty(&mut self) -> Result<(), HalfError> {
        let f = self.take(WAIT_SLICE)?;
        lock(&self.0).pending = Some(f);
        Ok(())
    }
}

type Node<B> = IsoTpNode<'static, TxHalf<B>, RxHalf<B>, CanFrame, StdClock>;

/// One ISO-TP channel (a tx/rx identifier pair) on a bus, sending and receiving whole messages.
pub struct IsoTpChannel<B: CanBus> {
    link: Shared<B>,
    node: Node<B>,
    params: IsoTpParams,
}

impl<B: CanBus> IsoTpChannel<B> {
    /// A channel over `bus`.
    pub fn new(bus: B, params: IsoTpParams) -> Result<Self, IsoTpError> {
        let link = Arc::new(Mutex::new(Link {
            bus,
            pending: None,
            failed: None,
            sent: 0,
            received: 0,
        }));
        let node = Self::node(&link, &params)?;
        Ok(Self { link, node, params })
    }

    fn node(link: &Shared<B>, params: &IsoTpParams) -> Result<Node<B>, IsoTpError> {
        IsoTpNode::with_clock_and_storage(
            TxHalf(Arc::clone(link)),
            RxHalf(Arc::clone(link)),
            params.config(),
            StdClock,
            RxStorage::Owned(vec![0; MAX_MESSAGE]),
        )
        .map_err(|_| IsoTpError::Config)
    }

    /// The channel's parameters.
    pub fn params(&self) -> &IsoTpParams {
        &self.params
    }

    /// CAN frames sent and received so far (all identifiers seen by this channel's bus).
    pub fn frame_counts(&self) -> (u64, u64) {
        let link = lock(&self.link);
        (link.sent, link.received)
    }

    /// A bus failure recorded by the node's non-blocking calls, which can only report "empty".
    fn take_bus_error(&self) -> Result<(), IsoTpError> {
        match lock(&self.link).failed.take() {
            Some(e) => Err(IsoTpError::Bus(e)),
            None => Ok(()),
        }
    }

    /// Waits until a frame is available or `deadline` (at most one slice, so timers run).
    fn wait_frame(&self, deadline: Instant) -> Result<(), IsoTpError> {
        let mut link = lock(&self.link);
        if link.pending.is_some() {
            return Ok(());
        }
        let slice = deadline
            .saturating_duration_since(Instant::now())
            .min(WAIT_SLICE);
        if let Some(f) = link.bus.recv(slice)? {
            link.received += 1;
            link.pending = Some(f);
        }
        Ok(())
    }

    /// Sends one message, waiting for the receiver's flow control as needed; gives up after
    /// `timeout` in all.
    pub fn send(&mut self, payload: &[u8], timeout: Duration) -> Result<(), IsoTpError> {
        if payload.len() > MAX_MESSAGE {
            return Err(IsoTpError::TooLong(payload.len()));
        }
        let deadline = Instant::now() + timeout;
        let result = self.send_until(payload, deadline);
        if result.is_err() {
            // The node keeps a half-sent session after some errors; a fresh node is idle.
            self.node = Self::node(&self.link, &self.params)?;
        }
        result
    }

    fn send_until(&mut self, payload: &[u8], deadline: Instant) -> Result<(), IsoTpError> {
        loop {
            let progress = self.node.poll_send(payload, Instant::now());
            self.take_bus_error()?;
            match progress.map_err(map_error)? {
                Progress::Completed => return Ok(()),
                Progress::WaitingForFlowControl | Progress::WouldBlock => {
                    self.wait_frame(deadline)?
                }
                Progress::InFlight => {
                    if !self.params.st_min.is_zero() {
                        std::thread::sleep(self.params.st_min.min(Duration::from_millis(1)));
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(IsoTpError::Timeout("message send deadline"));
            }
        }
    }

    /// Receives the next complete message within `timeout`. A message broken by a lost or
    /// repeated frame is reported as an error; calling `recv` again waits for the next one.
    pub fn recv(&mut self, timeout: Duration) -> Result<Vec<u8>, IsoTpError> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut out = None;
            let progress = self
                .node
                .poll_recv(Instant::now(), &mut |d| out = Some(d.to_vec()));
            self.take_bus_error()?;
            match progress.map_err(map_error)? {
                Progress::Completed => return Ok(out.unwrap_or_default()),
                Progress::InFlight => {}
                Progress::WaitingForFlowControl | Progress::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(IsoTpError::Timeout("no message"));
                    }
                    self.wait_frame(deadline)?;
                }
            }
            if Instant::now() >= deadline {
                return Err(IsoTpError::Timeout("no message"));
            }
        }
    }
}

fn map_error<E>(e: can_iso_tp::IsoTpError<E>) -> IsoTpError {
    use can_iso_tp::IsoTpError as E;
    match e {
        E::Timeout(TimeoutKind::NBs) => IsoTpError::Timeout("N_Bs (no flow control)"),
        E::Timeout(TimeoutKind::NBr) => IsoTpError::Timeout("N_Cr (no consecutive frame)"),
        E::Timeout(TimeoutKind::NAs | TimeoutKind::NCs) => IsoTpError::Timeout("N_As (send)"),
        E::Timeout(TimeoutKind::NAr) => IsoTpError::Timeout("N_Ar (receive)"),
        E::BadSequence => IsoTpError::BadSequence,
        E::Overflow => IsoTpError::RemoteOverflow,
        E::RxOverflow => IsoTpError::TooLong(MAX_MESSAGE + 1),
        E::InvalidConfig => IsoTpError::Config,
        E::UnexpectedPdu | E::InvalidFrame | E::WouldBlock | E::NotIdle | E::LinkError(_) => {
            IsoTpError::InvalidFrame
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::standard_id;
    use crate::loopback::{Faults, LoopbackHub};

    fn params() -> IsoTpParams {
        IsoTpParams::new(standard_id(0x7E0).unwrap(), standard_id(0x7E8).unwrap())
    }

    #[test]
    fn single_and_multi_frame_messages_round_trip() {
        let (a, b) = LoopbackHub::pair(Faults::NONE);
        let mut tx = IsoTpChannel::new(a, params()).unwrap();
        let rx = IsoTpChannel::new(b, params().reversed()).unwrap();
        let t = std::thread::spawn(move || {
            let mut rx = rx;
            (0..3)
                .map(|_| rx.recv(Duration::from_secs(5)).unwrap())
                .collect::<Vec<_>>()
        });
        let msgs = [
            vec![1u8; 7],
            vec![2u8; 8],
            (0..4095u32).map(|i| i as u8).collect(),
        ];
        for m in &msgs {
            tx.send(m, Duration::from_secs(5)).unwrap();
        }
        assert_eq!(t.join().unwrap(), msgs.to_vec());
    }

    #[test]
    fn no_receiver_means_a_flow_control_timeout_not_a_hang() {
        let hub = LoopbackHub::new(Faults::NONE);
        let _silent = hub.node();
        let mut p = params();
        p.n_bs = Duration::from_millis(50);
        let mut tx = IsoTpChannel::new(hub.node(), p).unwrap();
        let err = tx.send(&[0; 100], Duration::from_secs(5)).unwrap_err();
        assert!(matches!(err, IsoTpError::Timeout(_)), "{err}");
        // The channel is usable again: a single frame needs no flow control.
        tx.send(&[1; 5], Duration::from_secs(1)).unwrap();
    }

    #[test]
    fn oversized_message_is_refused() {
        let (a, _b) = LoopbackHub::pair(Faults::NONE);
        let mut tx = IsoTpChannel::new(a, params()).unwrap();
        assert!(matches!(
            tx.send(&[0; MAX_MESSAGE + 1], Duration::from_secs(1)),
            Err(IsoTpError::TooLong(4096))
        ));
    }
}
