//! Linux SocketCAN backend (feature `socketcan`), e.g. `can0` or a `vcan` interface.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use embedded_can::Frame as _;
use socketcan::{CanSocket, Socket};

use crate::{BusError, CanBus, CanFrame};

/// A raw CAN socket bound to one interface.
pub struct SocketCanBus {
    socket: CanSocket,
}

impl SocketCanBus {
    /// Opens interface `ifname` (which must exist and be up).
    pub fn open(ifname: &str) -> Result<Self, BusError> {
        Ok(Self {
            socket: CanSocket::open(ifname)?,
        })
    }
}

fn to_socket_frame(f: &CanFrame) -> Option<socketcan::CanFrame> {
    if f.is_remote() {
        socketcan::CanFrame::new_remote(f.id(), f.dlc())
    } else {
        socketcan::CanFrame::new(f.id(), f.payload())
    }
}

impl CanBus for SocketCanBus {
    fn send(&mut self, frame: &CanFrame) -> Result<(), BusError> {
        let f = to_socket_frame(frame)
            .ok_or_else(|| BusError::Adapter("frame not representable".into()))?;
        self.socket.write_frame(&f)?;
        Ok(())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<CanFrame>, BusError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let f = match self.socket.read_frame_timeout(left) {
                Ok(f) => f,
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            };
            let converted = match f {
                socketcan::CanFrame::Data(_) => CanFrame::data(f.id(), f.data()),
                socketcan::CanFrame::Remote(_) => CanFrame::remote(f.id(), f.dlc() as u8),
                // Error frames report bus state, not traffic; the caller only wants frames.
                socketcan::CanFrame::Error(_) => None,
            };
            if let Some(c) = converted {
                return Ok(Some(c));
            }
            if left.is_zero() {
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_interface_is_an_error_not_a_panic() {
        match SocketCanBus::open("hsxnocan0") {
            Err(BusError::Io(_)) => {}
            Err(e) => panic!("unexpected error kind: {e}"),
            Ok(_) => panic!("interface hsxnocan0 should not exist"),
        }
    }

    #[test]
    fn frames_convert_to_socketcan_and_back() {
        let id = crate::frame::extended_id(0x1234_5678).unwrap();
        let data = CanFrame::data(id, &[1, 2, 3]).unwrap();
        let s = to_socket_frame(&data).unwrap();
        assert_eq!((s.id(), s.data()), (id, &[1u8, 2, 3][..]));
        let remote = CanFrame::remote(id, 4).unwrap();
        let s = to_socket_frame(&remote).unwrap();
        assert!(s.is_remote_frame() && s.dlc() == 4);
    }
}
