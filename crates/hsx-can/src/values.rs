//! Value and command frames: single CAN frames that read, set, publish or call an executive
//! value or command by its object id (OID), without ISO-TP.
//!
//! Identifier (11 bits): `base | topic << 3 | op`. `base` is a multiple of 0x80 (bits 7–10),
//! `topic` selects one of 16 devices or groups (bits 3–6), `op` is the operation (bits 0–2).
//! Payload, little-endian: `oid:u16 value:f16 [tail:u16]`, where the tail is the sequence
//! number of a CALL and its RET, or the errno of a refused operation (RET or a reply with a
//! non-zero errno).

use embedded_can::Id;

use crate::CanFrame;
use crate::frame::standard_id;

/// What a value frame asks or tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ValueOp {
    /// Read a value (the reply is a PUB of it).
    Get = 0,
    /// Write a value.
    Set = 1,
    /// A value's current content (reply to GET, or unsolicited on change).
    Pub = 2,
    /// Invoke a command; the tail is the caller's sequence number.
    Call = 3,
    /// A command's completion; the tail is the CALL's sequence number or an errno.
    Ret = 4,
}

impl ValueOp {
    fn from_bits(b: u16) -> Option<Self> {
        Some(match b {
            0 => Self::Get,
            1 => Self::Set,
            2 => Self::Pub,
            3 => Self::Call,
            4 => Self::Ret,
            _ => return None,
        })
    }
}

/// One decoded value frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueFrame {
    /// Device or group (0..=15).
    pub topic: u8,
    /// Operation.
    pub op: ValueOp,
    /// Object id of the value or command.
    pub oid: u16,
    /// The value as IEEE half-precision bits (0 where the operation carries none).
    pub value_f16: u16,
    /// Sequence number or errno, when present.
    pub tail: Option<u16>,
}

/// The identifier block a bus uses for value frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueBinding {
    base: u16,
}

impl ValueBinding {
    /// A binding at `base`; `None` unless `base` is a multiple of 0x80 below 0x800.
    pub fn new(base: u16) -> Option<Self> {
        (base & 0x7F == 0 && base < 0x800).then_some(Self { base })
    }

    /// The frame for `v`; `None` if its topic is above 15.
    pub fn encode(&self, v: &ValueFrame) -> Option<CanFrame> {
        if v.topic > 15 {
            return None;
        }
        let id = self.base | u16::from(v.topic) << 3 | v.op as u16;
        let mut data = [0u8; 6];
        data[..2].copy_from_slice(&v.oid.to_le_bytes());
        data[2..4].copy_from_slice(&v.value_f16.to_le_bytes());
        let len = match v.tail {
            Some(t) => {
                data[4..6].copy_from_slice(&t.to_le_bytes());
                6
            }
            None => 4,
        };
        CanFrame::data(standard_id(id)?, &data[..len])
    }

    /// The value frame in `frame`; `None` for frames outside this binding or malformed ones.
    pub fn decode(&self, frame: &CanFrame) -> Option<ValueFrame> {
        let Id::Standard(id) = frame.id() else {
            return None;
        };
        let raw = id.as_raw();
        if raw & !0x7F != self.base || frame.is_remote() {
            return None;
        }
        let op = ValueOp::from_bits(raw & 0x7)?;
        let d = frame.payload();
        let word = |i: usize| u16::from_le_bytes([d[i], d[i + 1]]);
        let tail = match d.len() {
            4 => None,
            6 => Some(word(4)),
            _ => return None,
        };
        Some(ValueFrame {
            topic: ((raw >> 3) & 0xF) as u8,
            op,
            oid: word(0),
            value_f16: word(2),
            tail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn identifier_and_payload_layout() {
        let b = ValueBinding::new(0x400).unwrap();
        let f = b
            .encode(&ValueFrame {
                topic: 5,
                op: ValueOp::Set,
                oid: 0x0102,
                value_f16: 0x3C00, // 1.0
                tail: None,
            })
            .unwrap();
        assert_eq!(f.raw_id(), 0x400 | 5 << 3 | 1);
        assert_eq!(f.payload(), &[0x02, 0x01, 0x00, 0x3C]);
        assert!(ValueBinding::new(0x410).is_none() && ValueBinding::new(0x800).is_none());
    }

    #[test]
    fn foreign_and_malformed_frames_are_not_value_frames() {
        let b = ValueBinding::new(0x400).unwrap();
        let other = CanFrame::data(standard_id(0x300).unwrap(), &[0; 4]).unwrap();
        let bad_op = CanFrame::data(standard_id(0x407).unwrap(), &[0; 4]).unwrap();
        let short = CanFrame::data(standard_id(0x401).unwrap(), &[0; 3]).unwrap();
        for f in [other, bad_op, short] {
            assert_eq!(b.decode(&f), None);
        }
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(
            base in 0u16..16, topic in 0u8..16, op in 0u16..5, oid in any::<u16>(),
            value in any::<u16>(), tail in any::<Option<u16>>(),
        ) {
            let b = ValueBinding::new(base << 7).unwrap();
            let v = ValueFrame { topic, op: ValueOp::from_bits(op).unwrap(), oid, value_f16: value, tail };
            prop_assert_eq!(b.decode(&b.encode(&v).unwrap()), Some(v));
        }
    }
}
