//! The classic CAN frame used by every backend.

use embedded_can::{ExtendedId, Id, StandardId};

/// A classic CAN frame: an 11- or 29-bit identifier, 0..=8 data bytes, or a remote frame
/// (which carries a length code but no data).
///
/// It implements [`embedded_can::Frame`], so drivers and protocol crates written against the
/// embedded HAL traits accept it unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanFrame {
    id: Id,
    remote: bool,
    dlc: u8,
    data: [u8; 8],
}

impl CanFrame {
    /// A data frame; `None` if `data` is longer than 8 bytes.
    pub fn data(id: impl Into<Id>, data: &[u8]) -> Option<Self> {
        if data.len() > 8 {
            return None;
        }
        let mut buf = [0u8; 8];
        buf[..data.len()].copy_from_slice(data);
        Some(Self {
            id: id.into(),
            remote: false,
            dlc: data.len() as u8,
            data: buf,
        })
    }

    /// A remote frame requesting `dlc` bytes; `None` if `dlc > 8`.
    pub fn remote(id: impl Into<Id>, dlc: u8) -> Option<Self> {
        (dlc <= 8).then(|| Self {
            id: id.into(),
            remote: true,
            dlc,
            data: [0; 8],
        })
    }

    /// The identifier.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The identifier as a raw number (11 or 29 significant bits).
    pub fn raw_id(&self) -> u32 {
        raw_id(self.id)
    }

    /// Whether the identifier is a 29-bit extended one.
    pub fn is_extended(&self) -> bool {
        matches!(self.id, Id::Extended(_))
    }

    /// Whether this is a remote (RTR) frame.
    pub fn is_remote(&self) -> bool {
        self.remote
    }

    /// The data length code (0..=8).
    pub fn dlc(&self) -> usize {
        usize::from(self.dlc)
    }

    /// The data bytes (empty for a remote frame).
    pub fn payload(&self) -> &[u8] {
        if self.remote {
            &[]
        } else {
            &self.data[..usize::from(self.dlc)]
        }
    }
}

/// The raw number of an identifier.
pub fn raw_id(id: Id) -> u32 {
    match id {
        Id::Standard(s) => u32::from(s.as_raw()),
        Id::Extended(e) => e.as_raw(),
    }
}

/// A standard identifier from a raw number; `None` above 0x7FF.
pub fn standard_id(raw: u16) -> Option<Id> {
    StandardId::new(raw).map(Id::Standard)
}

/// An extended identifier from a raw number; `None` above 0x1FFF_FFFF.
pub fn extended_id(raw: u32) -> Option<Id> {
    ExtendedId::new(raw).map(Id::Extended)
}

impl embedded_can::Frame for CanFrame {
    fn new(id: impl Into<Id>, data: &[u8]) -> Option<Self> {
        Self::data(id, data)
    }

    fn new_remote(id: impl Into<Id>, dlc: usize) -> Option<Self> {
        Self::remote(id, u8::try_from(dlc).ok()?)
    }

    fn is_extended(&self) -> bool {
        CanFrame::is_extended(self)
    }

    fn is_remote_frame(&self) -> bool {
        self.remote
    }

    fn id(&self) -> Id {
        self.id
    }

    fn dlc(&self) -> usize {
        CanFrame::dlc(self)
    }

    fn data(&self) -> &[u8] {
        self.payload()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_frame_keeps_its_bytes_and_refuses_nine() {
        let id = standard_id(0x123).unwrap();
        let f = CanFrame::data(id, &[1, 2, 3]).unwrap();
        assert_eq!(f.payload(), &[1, 2, 3]);
        assert_eq!(f.raw_id(), 0x123);
        assert!(!f.is_extended());
        assert!(CanFrame::data(id, &[0; 9]).is_none());
    }

    #[test]
    fn remote_frame_has_a_length_but_no_data() {
        let f = CanFrame::remote(extended_id(0x1234_5678).unwrap(), 4).unwrap();
        assert!(f.is_remote() && f.is_extended());
        assert_eq!((f.dlc(), f.payload().len()), (4, 0));
        assert!(extended_id(0x2000_0000).is_none());
        assert!(standard_id(0x800).is_none());
    }
}
