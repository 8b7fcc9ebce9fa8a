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
//!
//! Without the default feature `std` (e.g. on a microcontroller) the crate is `no_std` + alloc
//! and keeps what a device needs without an operating system: [`CanFrame`], the [`CanBus`]
//! trait, the provisioning [`provision::wire`] format and [`provision::DeviceSession`], and
//! [`values`]. Backends, ISO-TP channels and the master need `std`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

/// The largest ISO-TP message on classic CAN (12-bit length in the first frame).
pub const ISOTP_MAX_MESSAGE: usize = 4095;

pub mod bus;
pub mod frame;
#[cfg(feature = "std")]
pub mod isotp;
#[cfg(feature = "std")]
pub mod loopback;
pub mod provision;
#[cfg(feature = "std")]
pub mod slcan;
#[cfg(all(feature = "socketcan", target_os = "linux"))]
pub mod socketcan;
#[cfg(feature = "std")]
pub mod spec;
pub mod values;

pub use bus::{BusError, CanBus};
pub use frame::CanFrame;
#[cfg(feature = "std")]
pub use isotp::{IsoTpChannel, IsoTpError, IsoTpParams};
#[cfg(feature = "std")]
pub use spec::{BusSpec, open_bus};
