//! Board file: QEMU's `mps2-an386` (ARM MPS2 FPGA with a Cortex-M4, AN386 image).
//!
//! * UART0: CMSDK APB UART at 0x4000_4000 (DATA +0x0, STATE +0x4 bit 0 = TX full,
//!   CTRL +0x8 bit 0 = TX enable, BAUDDIV +0x10).
//! * Timer: SysTick at 1 kHz from the 25 MHz system clock; `wait_until` sleeps in WFI.
//! * FRAM: a 2 KiB window of SSRAM2 at 0x2010_0000 (outside the linked RAM). QEMU has no
//!   FRAM, so the window is loaded from and saved to the host file `fram.bin` (in QEMU's
//!   working directory) through semihosting; a missing file is a blank (0xFF) device.
//! * CAN: none on this board; frames are accepted and dropped (the executive still reports
//!   them).
//! * Exit: semihosting `SYS_EXIT`, which ends QEMU (`-semihosting`).

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use cortex_m_semihosting::{debug, nr, syscall};

use crate::hal::{Board, Can, Fram, Timer, Uart};

const UART0: usize = 0x4000_4000;
const SYSCLK_HZ: u32 = 25_000_000;
const FRAM_BASE: usize = 0x2010_0000;
const FRAM_SIZE: usize = 2048;
/// Host file behind the FRAM window (NUL-terminated for semihosting).
const FRAM_FILE: &[u8] = b"fram.bin\0";

static MILLIS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    MILLIS.fetch_add(1, Ordering::Relaxed);
}

/// The board.
pub struct Mps2An386;

/// CMSDK UART0.
pub struct CmsdkUart;

impl Uart for CmsdkUart {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // SAFETY: UART0's registers exist at this address on the board; volatile MMIO.
            unsafe {
                while core::ptr::read_volatile((UART0 + 4) as *const u32) & 1 != 0 {}
                core::ptr::write_volatile(UART0 as *mut u32, u32::from(b));
            }
        }
    }
    fn read(&mut self) -> Option<u8> {
        rx::read()
    }
    fn rx_ready(&self) -> bool {
        rx::ready()
    }
}

/// UART0 receive path. The CMSDK UART holds one received byte, so without the `provision`
/// feature the firmware only polls it; with it, the RX interrupt moves bytes into a ring as
/// they arrive (a push sends kilobytes at line rate while tasks run). When the ring is full
/// the interrupt masks itself and leaves the byte in the UART: the sender is held back (QEMU's
/// serial backend waits; a real line would need flow control) instead of bytes being lost.
mod rx {
    use super::UART0;

    fn state() -> u32 {
        // SAFETY: UART0 STATE register; volatile MMIO.
        unsafe { core::ptr::read_volatile((UART0 + 4) as *const u32) }
    }

    /// The byte in the UART, if one is waiting (STATE bit 1).
    fn take_register() -> Option<u8> {
        // SAFETY: UART0 DATA register; reading it frees the receiver for the next byte.
        (state() & 2 != 0).then(|| unsafe { core::ptr::read_volatile(UART0 as *const u32) } as u8)
    }

    #[cfg(not(feature = "provision"))]
    pub fn read() -> Option<u8> {
        take_register()
    }

    #[cfg(not(feature = "provision"))]
    pub fn ready() -> bool {
        state() & 2 != 0
    }

    #[cfg(feature = "provision")]
    pub use ring::{read, ready};

    #[cfg(feature = "provision")]
    mod ring {
        use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

        use cortex_m::interrupt::InterruptNumber;
        use cortex_m_rt::exception;

        use super::{UART0, take_register};

        const SIZE: usize = 512;
        /// UART0's receive interrupt on the MPS2 boards.
        const UART0_RX_IRQ: i16 = 0;
        const CTRL_RX_INT: u32 = 1 << 3;

        static BUF: [AtomicU8; SIZE] = [const { AtomicU8::new(0) }; SIZE];
        /// Bytes ever written (by the interrupt) and read (by the main loop).
        static HEAD: AtomicUsize = AtomicUsize::new(0);
        static TAIL: AtomicUsize = AtomicUsize::new(0);

        #[derive(Clone, Copy)]
        struct Irq(u16);
        // SAFETY: 0 is a valid external interrupt number on the board.
        unsafe impl InterruptNumber for Irq {
            fn number(self) -> u16 {
                self.0
            }
        }

        fn set_rx_interrupt(on: bool) {
            // SAFETY: UART0 CTRL register; called with interrupts masked or from the handler.
            unsafe {
                let ctrl = (UART0 + 8) as *mut u32;
                let v = core::ptr::read_volatile(ctrl);
                let v = if on {
                    v | CTRL_RX_INT
                } else {
                    v & !CTRL_RX_INT
                };
                core::ptr::write_volatile(ctrl, v);
            }
        }

        /// Turns the receive interrupt on (board init).
        pub fn enable() {
            set_rx_interrupt(true);
            // SAFETY: the handler below only touches the ring and UART0.
            unsafe { cortex_m::peripheral::NVIC::unmask(Irq(UART0_RX_IRQ as u16)) };
        }

        #[exception]
        unsafe fn DefaultHandler(irqn: i16) {
            if irqn != UART0_RX_IRQ {
                return;
            }
            // SAFETY: UART0 INTCLEAR; bit 1 acknowledges the receive interrupt.
            unsafe { core::ptr::write_volatile((UART0 + 0xC) as *mut u32, 2) };
            loop {
                let head = HEAD.load(Ordering::Relaxed);
                if head.wrapping_sub(TAIL.load(Ordering::Acquire)) >= SIZE {
                    set_rx_interrupt(false);
                    return;
                }
                let Some(b) = take_register() else { return };
                BUF[head % SIZE].store(b, Ordering::Relaxed);
                HEAD.store(head.wrapping_add(1), Ordering::Release);
            }
        }

        pub fn read() -> Option<u8> {
            cortex_m::interrupt::free(|_| {
                let tail = TAIL.load(Ordering::Relaxed);
                if HEAD.load(Ordering::Acquire) == tail {
                    // Empty: the interrupt may have masked itself on a full ring and left a
                    // byte in the UART; take it and listen again.
                    set_rx_interrupt(true);
                    return take_register();
                }
                let b = BUF[tail % SIZE].load(Ordering::Relaxed);
                TAIL.store(tail.wrapping_add(1), Ordering::Release);
                Some(b)
            })
        }

        pub fn ready() -> bool {
            HEAD.load(Ordering::Acquire) != TAIL.load(Ordering::Relaxed) || super::state() & 2 != 0
        }
    }

    #[cfg(feature = "provision")]
    pub use ring::enable;
}

/// The image "flash": a window of SSRAM2 at 0x2010_1000 (boot record and two 16 KiB slots), loaded from and saved to the
/// host file `slot.bin` through semihosting like the FRAM window (QEMU's flash is not
/// writable by the guest).
#[cfg(feature = "provision")]
pub struct WindowFlash;

#[cfg(feature = "provision")]
const SLOT_BASE: usize = 0x2010_1000;
#[cfg(feature = "provision")]
const SLOT_SIZE: usize = hsx_exec::flash_slots::RECORD_AREA + 2 * 16 * 1024;
#[cfg(feature = "provision")]
const SLOT_FILE: &[u8] = b"slot.bin\0";

#[cfg(feature = "provision")]
impl WindowFlash {
    /// Load the window from the host file (blank if there is none).
    pub fn load() -> WindowFlash {
        // SAFETY: the window is board RAM outside the linked RAM; semihosting reads into it.
        unsafe {
            core::ptr::write_bytes(SLOT_BASE as *mut u8, 0xFF, SLOT_SIZE);
            let fd = syscall!(
                OPEN,
                SLOT_FILE.as_ptr(),
                nr::open::R_BINARY,
                SLOT_FILE.len() - 1
            );
            if fd != usize::MAX {
                let _ = syscall!(READ, fd, SLOT_BASE as *mut u8, SLOT_SIZE);
                let _ = syscall!(CLOSE, fd);
            }
        }
        WindowFlash
    }
}

#[cfg(feature = "provision")]
impl crate::hal::ImageFlash for WindowFlash {
    fn region(&self) -> &'static [u8] {
        // SAFETY: the window is reserved for this use and lives as long as the program.
        unsafe { core::slice::from_raw_parts(SLOT_BASE as *const u8, SLOT_SIZE) }
    }
    fn region_mut(&mut self) -> &'static mut [u8] {
        // SAFETY: as `region`; the caller guarantees no task runs from it (hal.rs).
        unsafe { core::slice::from_raw_parts_mut(SLOT_BASE as *mut u8, SLOT_SIZE) }
    }
    fn sync(&mut self) {
        // SAFETY: semihosting writes the window out to the host file.
        unsafe {
            let fd = syscall!(
                OPEN,
                SLOT_FILE.as_ptr(),
                nr::open::W_TRUNC_BINARY,
                SLOT_FILE.len() - 1
            );
            if fd != usize::MAX {
                let _ = syscall!(WRITE, fd, SLOT_BASE as *const u8, SLOT_SIZE);
                let _ = syscall!(CLOSE, fd);
            }
        }
    }
}

/// SysTick milliseconds.
#[derive(Clone, Copy)]
pub struct SysTickTimer;

impl Timer for SysTickTimer {
    fn now_ms(&self) -> u64 {
        u64::from(MILLIS.load(Ordering::Relaxed))
    }
    fn wait_until(&self, deadline_ms: u64) {
        while self.now_ms() < deadline_ms {
            cortex_m::asm::wfi();
        }
    }
    #[cfg(feature = "provision")]
    fn wait_until_or(&self, deadline_ms: u64, wake: &mut dyn FnMut() -> bool) {
        // Any interrupt (the tick, a received byte) ends WFI; a byte that lands between the
        // check and WFI waits at most one tick.
        while self.now_ms() < deadline_ms && !wake() {
            cortex_m::asm::wfi();
        }
    }
}

/// The semihosting-backed FRAM window.
pub struct WindowFram;

impl WindowFram {
    fn window() -> *mut u8 {
        FRAM_BASE as *mut u8
    }

    /// Load the window from the host file (blank if there is none).
    fn load() {
        let blank = [0xFFu8; FRAM_SIZE];
        // SAFETY: the window is board RAM nobody else uses; semihosting reads into it.
        unsafe {
            core::ptr::copy_nonoverlapping(blank.as_ptr(), Self::window(), FRAM_SIZE);
            let fd = syscall!(
                OPEN,
                FRAM_FILE.as_ptr(),
                nr::open::R_BINARY,
                FRAM_FILE.len() - 1
            );
            if fd != usize::MAX {
                // Returns the bytes *not* read; a short file leaves the rest blank.
                let _ = syscall!(READ, fd, Self::window(), FRAM_SIZE);
                let _ = syscall!(CLOSE, fd);
            }
        }
    }
}

impl Fram for WindowFram {
    fn size(&self) -> usize {
        FRAM_SIZE
    }
    fn read(&self, offset: usize, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            let a = offset + i;
            // SAFETY: `a` is checked against the window size.
            *b = if a < FRAM_SIZE {
                unsafe { core::ptr::read_volatile(Self::window().add(a)) }
            } else {
                0xFF
            };
        }
    }
    fn write(&mut self, offset: usize, data: &[u8]) {
        for (i, b) in data.iter().enumerate() {
            let a = offset + i;
            if a < FRAM_SIZE {
                // SAFETY: `a` is checked against the window size.
                unsafe { core::ptr::write_volatile(Self::window().add(a), *b) }
            }
        }
    }
    fn sync(&mut self) {
        // SAFETY: semihosting writes the window out to the host file.
        unsafe {
            let fd = syscall!(
                OPEN,
                FRAM_FILE.as_ptr(),
                nr::open::W_TRUNC_BINARY,
                FRAM_FILE.len() - 1
            );
            if fd != usize::MAX {
                let _ = syscall!(WRITE, fd, Self::window(), FRAM_SIZE);
                let _ = syscall!(CLOSE, fd);
            }
        }
    }
}

/// No CAN controller: frames are dropped.
pub struct NoCan;

impl Can for NoCan {
    fn tx(&mut self, _id: u16, _data: &[u8]) -> i32 {
        0
    }
}

impl Board for Mps2An386 {
    type Uart = CmsdkUart;
    type Timer = SysTickTimer;
    type Fram = WindowFram;
    type Can = NoCan;
    const NAME: &'static str = "mps2-an386 (Cortex-M4)";

    fn init() -> (CmsdkUart, SysTickTimer, WindowFram, NoCan) {
        // SAFETY: UART0 registers; enable the transmitter at the fastest divider.
        unsafe {
            core::ptr::write_volatile((UART0 + 0x10) as *mut u32, 16);
            // Transmitter, and the receiver for provisioning (CTRL bits 0 and 1).
            core::ptr::write_volatile((UART0 + 8) as *mut u32, 3);
        }
        #[cfg(feature = "provision")]
        rx::enable();
        if let Some(mut p) = cortex_m::Peripherals::take() {
            p.SYST.set_clock_source(SystClkSource::Core);
            p.SYST.set_reload(SYSCLK_HZ / 1000 - 1);
            p.SYST.clear_current();
            p.SYST.enable_interrupt();
            p.SYST.enable_counter();
        }
        WindowFram::load();
        (CmsdkUart, SysTickTimer, WindowFram, NoCan)
    }

    fn panic_uart() -> CmsdkUart {
        CmsdkUart
    }

    fn exit(ok: bool) -> ! {
        debug::exit(if ok {
            debug::EXIT_SUCCESS
        } else {
            debug::EXIT_FAILURE
        });
        loop {
            cortex_m::asm::wfi();
        }
    }
}
