//! CAN transport for HSX provisioning.
//!
//! Layers, bottom up:
//! - [`CanFrame`] and the [`CanBus`] trait: classic CAN frames (11- or 29-bit identifiers, up to
//!   8 data bytes, remote frames) sent and received with timeouts;
//! - backends: [`loopback`] (in-process, with seeded fault injection for tests),
//!   [`slcan`] (the ASCII Lawicel protocol of USB-CAN dongles over any serial link) and, with the
//!   `socketcan` feature on Linux, [`socketcan`];
//! - [`values`]: single-frame value and command access (GET/SET/PUB/CALL/RET by OID);
//! - [`spec`]: bus names for command lines (`slcan:/dev/ttyACM0@500k`, `socketcan:can0`);
//! - [`isotp`]: ISO 15765-2 messages of up to 4095 bytes over a bus, with flow control;
//! - [`provision`]: the provisioning framing (BEGIN/CHUNK/END/ABORT/STATUS) over ISO-TP
//!   messages, with a master ([`provision::ProvisionLink`]) and a device side
//!   ([`provision::ProvisionDevice`]) that drives a [`provision::ProvisionTarget`].
//!
//! The byte layouts are documented in `docs/can.md`.

pub mod bus;
pub mod frame;
pub mod isotp;
pub mod loopback;
pub mod provision;
pub mod slcan;
#[cfg(all(feature = "socketcan", target_os = "linux"))]
pub mod socketcan;
pub mod spec;
pub mod values;

pub use bus::{BusError, CanBus};
pub use frame::CanFrame;
pub use isotp::{IsoTpChannel, IsoTpError, IsoTpParams};
pub use spec::{BusSpec, open_bus};
