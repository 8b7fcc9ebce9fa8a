//! Naming a bus on a command line: `slcan:/dev/ttyACM0`, `slcan:/dev/ttyACM0@250k`,
//! `socketcan:can0`.

use std::fmt;

use crate::slcan::{Bitrate, Slcan};
use crate::{BusError, CanBus};

/// Bit rate used when a `slcan:` spec names none.
pub const DEFAULT_BITRATE: Bitrate = Bitrate::K500;

/// A parsed bus name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusSpec {
    /// An SLCAN dongle on a serial device, opened at a bit rate.
    Slcan {
        /// Serial device path.
        path: String,
        /// CAN bit rate.
        bitrate: Bitrate,
    },
    /// A Linux SocketCAN interface.
    SocketCan {
        /// Interface name, e.g. `can0`.
        ifname: String,
    },
}

/// Why a bus name is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Neither `slcan:` nor `socketcan:`.
    #[error("unknown CAN bus `{0}` (expected slcan:PATH[@BITRATE] or socketcan:IFNAME)")]
    Kind(String),
    /// Nothing after the colon.
    #[error("CAN bus `{0}` names no device")]
    Empty(String),
    /// A bit rate SLCAN has no code for.
    #[error("bit rate `{0}` is not one of 10k 20k 50k 100k 125k 250k 500k 800k 1M")]
    Bitrate(String),
    /// SocketCAN asked for where it is not built in.
    #[error("this build has no SocketCAN support (Linux with feature `socketcan`)")]
    NoSocketCan,
}

fn parse_bitrate(s: &str) -> Option<Bitrate> {
    let lower = s.to_ascii_lowercase();
    let (digits, scale) = if let Some(d) = lower.strip_suffix('k') {
        (d, 1_000)
    } else if let Some(d) = lower.strip_suffix('m') {
        (d, 1_000_000)
    } else {
        (lower.as_str(), 1)
    };
    let n: u32 = digits.parse().ok()?;
    Bitrate::from_bps(n.checked_mul(scale)?)
}

impl BusSpec {
    /// Parses `slcan:PATH[@BITRATE]` (bit rate in bit/s, or with a `k`/`M` suffix) or
    /// `socketcan:IFNAME`.
    pub fn parse(s: &str) -> Result<Self, SpecError> {
        if let Some(rest) = s.strip_prefix("slcan:") {
            let (path, bitrate) = match rest.rsplit_once('@') {
                Some((p, b)) => (
                    p,
                    parse_bitrate(b).ok_or_else(|| SpecError::Bitrate(b.to_owned()))?,
                ),
                None => (rest, DEFAULT_BITRATE),
            };
            if path.is_empty() {
                return Err(SpecError::Empty(s.to_owned()));
            }
            Ok(Self::Slcan {
                path: path.to_owned(),
                bitrate,
            })
        } else if let Some(ifname) = s.strip_prefix("socketcan:") {
            if ifname.is_empty() {
                return Err(SpecError::Empty(s.to_owned()));
            }
            Ok(Self::SocketCan {
                ifname: ifname.to_owned(),
            })
        } else {
            Err(SpecError::Kind(s.to_owned()))
        }
    }

    /// Opens the bus (for SLCAN: sets the bit rate and opens the channel).
    pub fn open(&self) -> Result<Box<dyn CanBus>, OpenError> {
        match self {
            Self::Slcan { path, bitrate } => Ok(Box::new(Slcan::open_path(path, *bitrate)?)),
            #[cfg(all(feature = "socketcan", target_os = "linux"))]
            Self::SocketCan { ifname } => {
                Ok(Box::new(crate::socketcan::SocketCanBus::open(ifname)?))
            }
            #[cfg(not(all(feature = "socketcan", target_os = "linux")))]
            Self::SocketCan { .. } => Err(SpecError::NoSocketCan.into()),
        }
    }
}

impl fmt::Display for BusSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Slcan { path, bitrate } => write!(f, "slcan:{path}@{}", bitrate.bps()),
            Self::SocketCan { ifname } => write!(f, "socketcan:{ifname}"),
        }
    }
}

/// Why a named bus could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The name was not understood.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The device refused or is missing.
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Parses and opens a bus name in one step.
pub fn open_bus(spec: &str) -> Result<Box<dyn CanBus>, OpenError> {
    BusSpec::parse(spec)?.open()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(
            BusSpec::parse("slcan:/dev/ttyACM0").unwrap(),
            BusSpec::Slcan {
                path: "/dev/ttyACM0".into(),
                bitrate: Bitrate::K500
            }
        );
        for (s, rate) in [
            ("250k", Bitrate::K250),
            ("1M", Bitrate::M1),
            ("125000", Bitrate::K125),
        ] {
            let spec = BusSpec::parse(&format!("slcan:/dev/ttyUSB1@{s}")).unwrap();
            assert_eq!(
                spec,
                BusSpec::Slcan {
                    path: "/dev/ttyUSB1".into(),
                    bitrate: rate
                }
            );
            assert_eq!(BusSpec::parse(&spec.to_string()).unwrap(), spec);
        }
        assert_eq!(
            BusSpec::parse("socketcan:vcan0").unwrap(),
            BusSpec::SocketCan {
                ifname: "vcan0".into()
            }
        );
    }

    #[test]
    fn refuses_what_it_cannot_open() {
        assert!(matches!(BusSpec::parse("can0"), Err(SpecError::Kind(_))));
        assert!(matches!(BusSpec::parse("slcan:"), Err(SpecError::Empty(_))));
        assert!(matches!(
            BusSpec::parse("socketcan:"),
            Err(SpecError::Empty(_))
        ));
        assert!(matches!(
            BusSpec::parse("slcan:/dev/x@300k"),
            Err(SpecError::Bitrate(_))
        ));
        assert!(matches!(
            BusSpec::parse("slcan:/dev/x@99999999999k"),
            Err(SpecError::Bitrate(_))
        ));
        assert!(matches!(
            open_bus("slcan:/nonexistent/tty"),
            Err(OpenError::Bus(_))
        ));
    }
}
