//! Board HAL, drawn the way Tock draws its HILs: one small trait per peripheral, and a
//! [`Board`] that hands out the board's instances. The rest of the firmware (executive glue,
//! FRAM record store, console) is written against these traits only, so another board is one
//! new file implementing them (see `mps2_an386.rs` and `docs/mcu.md`).

/// A byte-oriented serial port (blocking transmit is enough for a console; receiving is
/// for provisioning).
#[cfg_attr(
    not(feature = "provision"),
    allow(dead_code, reason = "receive is used by provisioning only")
)]
pub trait Uart {
    /// Transmit `bytes`, waiting for room as needed.
    fn write(&mut self, bytes: &[u8]);
    /// A received byte, if one is waiting (never blocks).
    fn read(&mut self) -> Option<u8> {
        None
    }
    /// Whether [`Uart::read`] has a byte (lets an idle loop stop sleeping early).
    fn rx_ready(&self) -> bool {
        false
    }
}

/// A monotonic millisecond timebase that can also wait.
pub trait Timer: Send {
    /// Milliseconds since boot; never goes backwards.
    fn now_ms(&self) -> u64;
    /// Sleep (low power) until `deadline_ms` or an interrupt, whichever comes first.
    fn wait_until(&self, deadline_ms: u64);
    /// Sleep until `deadline_ms` or until `wake()` holds (checked after every interrupt).
    #[cfg(feature = "provision")]
    fn wait_until_or(&self, deadline_ms: u64, wake: &mut dyn FnMut() -> bool) {
        while self.now_ms() < deadline_ms && !wake() {
            self.wait_until(self.now_ms() + 1);
        }
    }
}

/// Byte-addressable non-volatile memory (FRAM: no erase, no wear-out worth levelling).
pub trait Fram: Send {
    /// Size in bytes.
    fn size(&self) -> usize;
    /// Read `buf.len()` bytes at `offset` (bytes beyond the end read as 0xFF).
    fn read(&self, offset: usize, buf: &mut [u8]);
    /// Write `data` at `offset` (bytes beyond the end are dropped).
    fn write(&mut self, offset: usize, data: &[u8]);
    /// Make written data durable (a no-op on real FRAM; the QEMU board saves its image).
    fn sync(&mut self) {}
}

/// Non-volatile memory for one provisioned image (flash on a real board): read in place,
/// written while no task runs from it.
#[cfg(feature = "provision")]
pub trait ImageFlash {
    /// The whole region (header and image), readable for the life of the program.
    fn region(&self) -> &'static [u8];
    /// The region for writing. The caller guarantees no task executes from it meanwhile.
    fn region_mut(&mut self) -> &'static mut [u8];
    /// Make written data durable.
    fn sync(&mut self);
}

/// A CAN controller (transmit only, as SVC module 2).
pub trait Can: Send {
    /// Queue a standard frame; returns a HAL status (0 OK, −3 BUSY, ...).
    fn tx(&mut self, id: u16, data: &[u8]) -> i32;
}

/// One board: its peripherals and how the program ends.
pub trait Board {
    /// Console UART.
    type Uart: Uart;
    /// Timebase.
    type Timer: Timer + Clone + 'static;
    /// Persistent store.
    type Fram: Fram + 'static;
    /// CAN controller.
    type Can: Can + 'static;
    /// Board name for the banner.
    const NAME: &'static str;
    /// Bring the board up (clocks, UART, timer interrupt) and hand out the peripherals.
    fn init() -> (Self::Uart, Self::Timer, Self::Fram, Self::Can);
    /// The console UART again, for the panic handler (the first instance may be borrowed).
    fn panic_uart() -> Self::Uart;
    /// Stop: report `ok` to whoever runs us (QEMU exits) and never return.
    fn exit(ok: bool) -> !;
}
