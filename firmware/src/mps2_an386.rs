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
            core::ptr::write_volatile((UART0 + 8) as *mut u32, 1);
        }
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
