//! Descriptor chains in guest memory (VAL_REGISTER / CMD_REGISTER) and the guest-memory
//! read interface the parser uses.

use crate::vecmap::VecSet;
use alloc::string::String;
use alloc::vec::Vec;

/// Chain terminator / "no descriptors" pointer.
pub const DESC_NONE: u16 = 0xFFFF;

/// Descriptor type tags (`HSX_VAL_DESC_*`, `HSX_CMD_DESC_NAME`).
pub mod tag {
    /// GROUP: group id + group name.
    pub const GROUP: u8 = 0x01;
    /// NAME: value name.
    pub const NAME: u8 = 0x02;
    /// UNIT: unit code, epsilon, rate limit.
    pub const UNIT: u8 = 0x03;
    /// RANGE: informational min/max.
    pub const RANGE: u8 = 0x04;
    /// PERSIST: persistence key and debounce.
    pub const PERSIST: u8 = 0x05;
    /// CMD_NAME: command name + help.
    pub const CMD_NAME: u8 = 0x10;
}

/// Read access to a task's data memory, implemented by the SVC bridge.
pub trait GuestMem {
    /// Fill `out` from guest address `addr`; `false` if any byte is out of range.
    fn read(&self, addr: u32, out: &mut [u8]) -> bool;

    /// One byte.
    fn read_u8(&self, addr: u32) -> Option<u8> {
        let mut b = [0u8; 1];
        self.read(addr, &mut b).then_some(b[0])
    }

    /// Little-endian u16.
    fn read_u16(&self, addr: u32) -> Option<u16> {
        let mut b = [0u8; 2];
        self.read(addr, &mut b).then(|| u16::from_le_bytes(b))
    }

    /// Little-endian u32.
    fn read_u32(&self, addr: u32) -> Option<u32> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b).then(|| u32::from_le_bytes(b))
    }

    /// NUL-terminated string decoded as UTF-8 with invalid bytes dropped; `None` if the
    /// terminator is missing within the 64 KiB address space.
    fn read_cstr(&self, addr: u32) -> Option<String> {
        let mut bytes = Vec::new();
        let mut a = addr;
        while a <= 0xFFFF {
            let b = self.read_u8(a)?;
            if b == 0 {
                return Some(decode_lossy(&bytes));
            }
            bytes.push(b);
            a += 1;
        }
        None
    }
}

impl GuestMem for [u8] {
    fn read(&self, addr: u32, out: &mut [u8]) -> bool {
        let Ok(start) = usize::try_from(addr) else {
            return false;
        };
        match start
            .checked_add(out.len())
            .and_then(|end| self.get(start..end))
        {
            Some(src) => {
                out.copy_from_slice(src);
                true
            }
            None => false,
        }
    }
}

impl<F> GuestMem for F
where
    F: Fn(u32, &mut [u8]) -> bool,
{
    fn read(&self, addr: u32, out: &mut [u8]) -> bool {
        self(addr, out)
    }
}

/// UTF-8 decode dropping invalid bytes (the reference's `decode("utf-8", "ignore")`).
#[must_use]
pub fn decode_lossy(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        s.push_str(chunk.valid());
    }
    s
}

/// Pack up to 4 ASCII characters little-endian, NUL-padded (non-ASCII characters dropped).
#[must_use]
pub fn encode_unit(unit: &str) -> u32 {
    let mut b = [0u8; 4];
    for (slot, c) in b.iter_mut().zip(unit.bytes().filter(u8::is_ascii)) {
        *slot = c;
    }
    u32::from_le_bytes(b)
}

/// Unpack a unit code (trailing NULs removed, non-ASCII dropped).
#[must_use]
pub fn decode_unit(code: u32) -> String {
    code.to_le_bytes()
        .iter()
        .take_while(|b| **b != 0)
        .filter(|b| b.is_ascii())
        .map(|b| char::from(*b))
        .collect()
}

/// A value descriptor (from a guest chain or built from metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueDesc {
    /// Group name (the group id byte of a guest descriptor is informational).
    Group {
        /// Group id byte as written in the descriptor.
        group_id: u8,
        /// Group name.
        name: String,
    },
    /// Value name.
    Name(String),
    /// Unit, change epsilon and rate limit.
    Unit {
        /// Up to 4 ASCII characters packed little-endian.
        unit_code: u32,
        /// Epsilon as f16 bits (0 = none).
        epsilon: u16,
        /// Minimum ms between accepted changes (0 = none).
        rate_ms: u16,
    },
    /// Informational range (f16 bits); not used to clamp.
    Range {
        /// Minimum.
        min: u16,
        /// Maximum.
        max: u16,
    },
    /// Persistence key and write debounce.
    Persist {
        /// Key (0 = none).
        key: u16,
        /// Debounce in ms.
        debounce_ms: u16,
    },
}

impl ValueDesc {
    /// Pool size the reference allocates for this descriptor (for `desc_head` offsets).
    #[must_use]
    pub const fn pool_size(&self) -> u32 {
        match self {
            Self::Group { .. } | Self::Name(_) => 6,
            Self::Unit { .. } => 12,
            Self::Range { .. } | Self::Persist { .. } => 8,
        }
    }
}

/// A command descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandDesc {
    /// Group name (metadata only; guest chains accept CMD_NAME only).
    Group {
        /// Group name.
        name: String,
    },
    /// Name and help text.
    Name {
        /// Command name.
        name: String,
        /// Help text.
        help: String,
    },
}

impl CommandDesc {
    /// Pool size the reference allocates for this descriptor.
    #[must_use]
    pub const fn pool_size(&self) -> u32 {
        match self {
            Self::Group { .. } => 6,
            Self::Name { .. } => 8,
        }
    }
}

/// A descriptor chain in guest memory is malformed (unknown tag, loop, out of range,
/// unterminated string); surfaces as EINVAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed descriptor chain at {at:#06x}")]
pub struct ChainError {
    /// Address of the offending descriptor.
    pub at: u16,
}

/// Most descriptors one chain may have.
pub const MAX_CHAIN_LEN: usize = 32;

fn walk<M, T>(
    mem: &M,
    head: u16,
    mut one: impl FnMut(&M, u8, u32) -> Option<T>,
) -> Result<Vec<T>, ChainError>
where
    M: GuestMem + ?Sized,
{
    let mut out = Vec::new();
    if head == 0 || head == DESC_NONE {
        return Ok(out);
    }
    let mut seen = VecSet::new();
    let mut cur = head;
    loop {
        let err = ChainError { at: cur };
        // A real chain has one descriptor per kind (five kinds); a guest could otherwise
        // make thousands of descriptors share one 60 KiB string and one SVC allocate
        // hundreds of MB before the string pool refuses it.
        if !seen.insert(cur) || seen.len() > MAX_CHAIN_LEN {
            return Err(err);
        }
        let a = u32::from(cur);
        let ty = mem.read_u8(a).ok_or(err)?;
        let next = mem.read_u16(a + 2).ok_or(err)?;
        out.push(one(mem, ty, a).ok_or(err)?);
        if next == DESC_NONE {
            return Ok(out);
        }
        // A `next` of 0 is followed to address 0, as in the reference.
        cur = next;
    }
}

/// Parse a value descriptor chain starting at `head` (0 or 0xFFFF = none).
///
/// # Errors
/// [`ChainError`] for an unknown tag, a loop, an out-of-range read or an unterminated
/// string.
pub fn parse_value_chain<M: GuestMem + ?Sized>(
    mem: &M,
    head: u16,
) -> Result<Vec<ValueDesc>, ChainError> {
    walk(mem, head, |m, ty, a| match ty {
        tag::GROUP => {
            let group_id = m.read_u8(a + 1)?;
            let name = m.read_cstr(u32::from(m.read_u16(a + 4)?))?;
            Some(ValueDesc::Group { group_id, name })
        }
        tag::NAME => Some(ValueDesc::Name(m.read_cstr(u32::from(m.read_u16(a + 4)?))?)),
        tag::UNIT => Some(ValueDesc::Unit {
            unit_code: m.read_u32(a + 4)?,
            epsilon: m.read_u16(a + 8)?,
            rate_ms: m.read_u16(a + 10)?,
        }),
        tag::RANGE => Some(ValueDesc::Range {
            min: m.read_u16(a + 4)?,
            max: m.read_u16(a + 6)?,
        }),
        tag::PERSIST => Some(ValueDesc::Persist {
            key: m.read_u16(a + 4)?,
            debounce_ms: m.read_u16(a + 6)?,
        }),
        _ => None,
    })
}

/// Parse a command descriptor chain (only CMD_NAME descriptors are accepted).
///
/// # Errors
/// [`ChainError`] as for [`parse_value_chain`].
pub fn parse_command_chain<M: GuestMem + ?Sized>(
    mem: &M,
    head: u16,
) -> Result<Vec<CommandDesc>, ChainError> {
    walk(mem, head, |m, ty, a| {
        if ty != tag::CMD_NAME {
            return None;
        }
        let name = m.read_cstr(u32::from(m.read_u16(a + 4)?))?;
        let help = m.read_cstr(u32::from(m.read_u16(a + 6)?))?;
        Some(CommandDesc::Name { name, help })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn mem() -> Vec<u8> {
        vec![0u8; 0x10000]
    }

    fn put(m: &mut [u8], at: usize, bytes: &[u8]) {
        m[at..at + bytes.len()].copy_from_slice(bytes);
    }

    #[test]
    fn name_descriptor_from_guest_memory() {
        let mut m = vec![0u8; 128];
        put(&mut m, 0x10, &[tag::NAME, 0, 0xFF, 0xFF, 0x40, 0]);
        put(&mut m, 0x40, b"Temp\0");
        assert_eq!(
            parse_value_chain(m.as_slice(), 0x10).unwrap(),
            vec![ValueDesc::Name("Temp".into())]
        );
    }

    #[test]
    fn full_value_chain_in_order() {
        let mut m = mem();
        put(&mut m, 0x100, &[tag::GROUP, 7, 0x10, 0x01, 0x00, 0x02]);
        put(&mut m, 0x110, &[tag::UNIT, 0, 0x20, 0x01]);
        put(&mut m, 0x114, &encode_unit("rpm").to_le_bytes());
        put(&mut m, 0x118, &[0x00, 0x38, 120, 0]);
        put(
            &mut m,
            0x120,
            &[tag::RANGE, 0, 0x30, 0x01, 0x00, 0x00, 0x00, 0x3C],
        );
        put(&mut m, 0x130, &[tag::PERSIST, 0, 0xFF, 0xFF, 99, 0, 75, 0]);
        put(&mut m, 0x200, b"motor\0");
        let got = parse_value_chain(m.as_slice(), 0x100).unwrap();
        assert_eq!(
            got,
            vec![
                ValueDesc::Group {
                    group_id: 7,
                    name: "motor".into()
                },
                ValueDesc::Unit {
                    unit_code: encode_unit("rpm"),
                    epsilon: 0x3800,
                    rate_ms: 120
                },
                ValueDesc::Range {
                    min: 0,
                    max: 0x3C00
                },
                ValueDesc::Persist {
                    key: 99,
                    debounce_ms: 75
                },
            ]
        );
    }

    #[test]
    fn none_pointers_give_empty_chain() {
        let m = mem();
        assert!(parse_value_chain(m.as_slice(), 0).unwrap().is_empty());
        assert!(
            parse_command_chain(m.as_slice(), 0xFFFF)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn unknown_tag_loop_range_and_unterminated_are_errors() {
        let mut m = mem();
        put(&mut m, 0x10, &[0x09, 0, 0xFF, 0xFF]);
        assert!(parse_value_chain(m.as_slice(), 0x10).is_err());
        // Loop: 0x20 -> 0x30 -> 0x20.
        put(&mut m, 0x20, &[tag::RANGE, 0, 0x30, 0, 0, 0, 0, 0]);
        put(&mut m, 0x30, &[tag::RANGE, 0, 0x20, 0, 0, 0, 0, 0]);
        assert_eq!(
            parse_value_chain(m.as_slice(), 0x20),
            Err(ChainError { at: 0x20 })
        );
        // Runs off the end of memory.
        assert!(parse_value_chain(m.as_slice(), 0xFFFE).is_err());
        let short = vec![tag::RANGE, 0, 0xFF, 0xFF, 0];
        assert!(parse_value_chain(short.as_slice(), 0).is_ok_and(|v| v.is_empty()));
        // Name without terminator up to the end of the address space.
        let mut m = vec![b'x'; 0x10000];
        put(&mut m, 0x10, &[tag::NAME, 0, 0xFF, 0xFF, 0x00, 0x80]);
        assert!(parse_value_chain(m.as_slice(), 0x10).is_err());
    }

    #[test]
    fn overlong_chain_is_rejected_before_it_builds_much() {
        // NAME descriptors 8 bytes apart, each pointing at one shared long string.
        let mut m = mem();
        let count = MAX_CHAIN_LEN + 1;
        for i in 0..count {
            let at = 0x100 + i * 8;
            let next = if i + 1 == count { 0xFFFF } else { at + 8 };
            put(&mut m, at, &[tag::NAME, 0]);
            put(&mut m, at + 2, &(next as u16).to_le_bytes());
            put(&mut m, at + 4, &0x8000u16.to_le_bytes());
        }
        put(&mut m, 0x8000, &[b'n'; 0x7000]);
        assert!(parse_value_chain(m.as_slice(), 0x100).is_err());
        // One fewer descriptor is a (long but) legal chain.
        put(
            &mut m,
            0x100 + (count - 2) * 8 + 2,
            &0xFFFFu16.to_le_bytes(),
        );
        assert_eq!(
            parse_value_chain(m.as_slice(), 0x100).map(|v| v.len()),
            Ok(MAX_CHAIN_LEN)
        );
    }

    #[test]
    fn command_chain_accepts_only_cmd_name() {
        let mut m = mem();
        put(
            &mut m,
            0x480,
            &[tag::CMD_NAME, 0, 0xFF, 0xFF, 0x00, 0x05, 0x20, 0x05],
        );
        put(&mut m, 0x500, b"Reset\0");
        put(&mut m, 0x520, b"Reset motor\0");
        assert_eq!(
            parse_command_chain(m.as_slice(), 0x480).unwrap(),
            vec![CommandDesc::Name {
                name: "Reset".into(),
                help: "Reset motor".into()
            }]
        );
        put(&mut m, 0x600, &[tag::NAME, 0, 0xFF, 0xFF, 0x00, 0x05]);
        assert!(parse_command_chain(m.as_slice(), 0x600).is_err());
    }

    #[test]
    fn closure_memory_and_lossy_strings() {
        let data = b"ok\xFFay\0";
        let reader = |addr: u32, out: &mut [u8]| -> bool {
            let s = addr as usize;
            match data.get(s..s + out.len()) {
                Some(src) => {
                    out.copy_from_slice(src);
                    true
                }
                None => false,
            }
        };
        assert_eq!(reader.read_cstr(0).as_deref(), Some("okay"));
        assert_eq!(reader.read_u16(0), Some(u16::from_le_bytes([b'o', b'k'])));
    }

    proptest::proptest! {
        #[test]
        fn random_memory_never_panics(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            head in proptest::prelude::any::<u16>(),
        ) {
            let _ = parse_value_chain(bytes.as_slice(), head);
            let _ = parse_command_chain(bytes.as_slice(), head);
        }

        #[test]
        fn chains_of_valid_descriptors_parse(
            kinds in proptest::collection::vec(0u8..3, 1..20),
        ) {
            // Lay out RANGE/PERSIST/UNIT descriptors back to back, linked in order.
            let mut m = vec![0u8; 0x1000];
            let mut at = 0x100usize;
            let n = kinds.len();
            for (i, k) in kinds.iter().enumerate() {
                let next = if i + 1 == n { 0xFFFF } else { (at + 12) as u16 };
                let t = [tag::RANGE, tag::PERSIST, tag::UNIT][*k as usize];
                m[at] = t;
                m[at + 2..at + 4].copy_from_slice(&next.to_le_bytes());
                at += 12;
            }
            let got = parse_value_chain(m.as_slice(), 0x100).unwrap();
            proptest::prop_assert_eq!(got.len(), n);
        }
    }

    #[test]
    fn unit_codes_round_trip() {
        assert_eq!(encode_unit("degC"), u32::from_le_bytes(*b"degC"));
        assert_eq!(decode_unit(encode_unit("rpm")), "rpm");
        assert_eq!(decode_unit(encode_unit("kilometres")), "kilo");
        assert_eq!(encode_unit(""), 0);
    }
}
