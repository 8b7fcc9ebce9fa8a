//! HSX firmware: the executive core on a Cortex-M4, running `.hxe` apps straight from flash.
//!
//! Boot: bring the board up, check the FRAM records (CRC), load every embedded app into a
//! segmented task (code executed in place from flash; only rodata + heap and a 1.5 KiB
//! stack in RAM), then run the scheduler: UART and stdio output go to the board UART as
//! `[pid:name] text` lines (the format of `hsx run`), sleeps and timeouts wait in WFI on
//! SysTick. When no task is left the firmware flushes persisted values to FRAM, prints a
//! per-task summary and a footprint line, and exits QEMU.
#![no_std]
#![no_main]
// The `bare` baseline stops before the executive is built.
#![cfg_attr(feature = "bare", allow(unreachable_code, unused_variables))]

extern crate alloc;

mod console;
mod fram;
mod glue;
mod hal;
mod heap;
mod mps2_an386;
#[cfg(feature = "provision")]
mod provision;
mod stack;

use alloc::rc::Rc;
use core::cell::RefCell;
use core::fmt::Write;

use cortex_m_rt::entry;
use hsx_exec::mailbox::MailboxConfig;
use hsx_exec::values::RegistryLimits;
use hsx_exec::{
    Backends, ExecConfig, Executive, FlashCode, LoadOptions, MemLayout, NullFs, StopReason,
};

use console::Console;
use fram::FramStore;
use glue::{BoardClock, BoardHal, SharedFram};
use hal::{Board, Timer};

/// The board this build is for (one line to change for another board).
type B = mps2_an386::Mps2An386;

/// Apps in flash, built from `apps/*.mvasm` by `scripts/mcu.sh` (`hsx asm`).
#[cfg(not(feature = "four"))]
static APPS: &[(&str, &[u8])] = &[
    ("hello", include_bytes!("../apps/build/hello.hxe")),
    ("producer", include_bytes!("../apps/build/producer.hxe")),
    ("consumer", include_bytes!("../apps/build/consumer.hxe")),
    ("sleeper", include_bytes!("../apps/build/sleeper.hxe")),
    ("faulter", include_bytes!("../apps/build/faulter.hxe")),
    ("counter", include_bytes!("../apps/build/counter.hxe")),
];
/// The four-task RAM check (feature `four`).
#[cfg(feature = "four")]
static APPS: &[(&str, &[u8])] = &[
    ("hello", include_bytes!("../apps/build/hello.hxe")),
    ("producer", include_bytes!("../apps/build/producer.hxe")),
    ("consumer", include_bytes!("../apps/build/consumer.hxe")),
    ("sleeper", include_bytes!("../apps/build/sleeper.hxe")),
];

/// Stack of every task (`services.md` §7.1 default).
const STACK_SIZE: u32 = 1536;
/// Instructions per scheduler call.
const BUDGET: u64 = 4096;
/// Task places: the embedded apps, plus with provisioning the two image slots (an update
/// loads while the old version still runs).
const MAX_TASKS: usize = APPS.len() + 2 * cfg!(feature = "provision") as usize;
/// With provisioning, how long the firmware keeps listening on its UART after boot or the
/// last request once no task is left (ms).
#[cfg(feature = "provision")]
const LISTEN_MS: u64 = 5000;
/// How long a pushed update runs on trial: a fault within it rolls back to the old image.
#[cfg(feature = "provision")]
const GRACE_MS: u64 = 2000;
/// Largest chunk a push may send: its hex line (the staging buffer) stays under 1 KiB.
#[cfg(feature = "provision")]
const PROVISION_CHUNK: u16 = 480;

#[entry]
fn main() -> ! {
    stack::paint();
    heap::init();
    let (uart, timer, fram, can) = B::init();
    let console = Rc::new(RefCell::new(Console::new(uart)));
    let mut con = ConsoleRef(console.clone());
    let _ = writeln!(con, "hsx-firmware on {}", B::NAME);

    let (store, scan) = FramStore::open(fram);
    let _ = writeln!(
        con,
        "fram: {} records ok, {} stale, {} B used",
        scan.valid, scan.stale, scan.used
    );
    let shared = SharedFram::new(store);
    #[cfg(feature = "bare")]
    {
        // Baseline build: everything but the executive (see Cargo.toml).
        shared.sync();
        let _ = writeln!(con, "heap: peak {} B", heap::peak());
        B::exit(true)
    }

    let cfg = ExecConfig {
        mailbox: MailboxConfig {
            // Per task pid:N and, created on first write, stdout (every demo app prints);
            // plus the 2 app mailboxes.
            max_descriptors: 2 * MAX_TASKS as u32 + 2,
            lazy_stdio: true,
            // The pool is sized for exactly these apps: nothing to keep back for loads.
            load_reserve: 0,
            ..MailboxConfig::embedded()
        },
        registry: RegistryLimits::embedded(),
        stack_size: STACK_SIZE,
        mem_layout: MemLayout::Segmented,
        stdio_drain: true,
        max_tasks: MAX_TASKS,
        load: hsx_exec::LoadLimits::mcu(),
        // Output goes through the HAL (BoardHal); nobody consumes events here.
        events_enabled: false,
        event_capacity: 0,
        ..ExecConfig::default()
    };
    let backends = Backends {
        clock: alloc::boxed::Box::new(BoardClock(timer)),
        fs: alloc::boxed::Box::new(NullFs),
        hal: alloc::boxed::Box::new(BoardHal {
            console: console.clone(),
            can,
        }),
        persist: alloc::boxed::Box::new(shared.clone()),
    };
    let before = heap::used();
    let mut exec: Executive<FlashCode> = Executive::with_code(cfg, backends);
    let _ = writeln!(
        con,
        "executive: {} B of state (in main's frame), {} B of heap",
        core::mem::size_of::<Executive<FlashCode>>(),
        heap::used() - before
    );

    let (pids, failed) = load_all(&mut exec, &console);

    #[cfg(feature = "provision")]
    let mut prov = {
        let Some(mut prov) =
            provision::Provisioner::new(mps2_an386::WindowFlash::load(), PROVISION_CHUNK, GRACE_MS)
        else {
            let _ = writeln!(con, "provision: the image flash cannot hold two slots");
            B::exit(false)
        };
        prov.boot(&mut exec, &console);
        let _ = writeln!(con, "provision: listening on the UART");
        prov
    };

    loop {
        #[cfg(feature = "provision")]
        prov.poll(&mut exec, &console, timer.now_ms());
        let s = exec.step(BUDGET);
        match s.stop {
            StopReason::Budget => {}
            #[cfg(feature = "provision")]
            StopReason::Blocked {
                next_deadline_ms: Some(t),
            } => {
                // Wake for received bytes, and at least every 100 ms for session timeouts.
                let until = t.min(timer.now_ms() + 100);
                timer.wait_until_or(until, &mut || console.borrow().rx_ready());
            }
            #[cfg(not(feature = "provision"))]
            StopReason::Blocked {
                next_deadline_ms: Some(t),
            } => timer.wait_until(t),
            #[cfg(feature = "provision")]
            _ if prov.is_active(timer.now_ms(), LISTEN_MS) => {
                // Session timeouts and the listen window are counted in milliseconds.
                timer.wait_until_or(timer.now_ms() + 1, &mut || console.borrow().rx_ready());
            }
            _ => break,
        }
    }
    exec.flush_persistence();
    shared.sync();

    let run_stack = stack::peak();
    let ok = failed == 0 && report(&exec, &pids, &mut con);
    #[cfg(feature = "provision")]
    let ok = {
        let slot_pids: alloc::vec::Vec<u32> = prov.slot_pids().collect();
        report(&exec, &slot_pids, &mut con) && ok
    };
    let _ = writeln!(
        con,
        "heap: peak {} B of {} B, now {} B",
        heap::peak(),
        heap::SIZE,
        heap::used()
    );
    let _ = writeln!(
        con,
        "stack: peak {} B ({} B until the tasks ended)",
        stack::peak(),
        run_stack
    );
    B::exit(ok)
}

type Con = Rc<RefCell<Console<<B as Board>::Uart>>>;

/// Load every app (out of line: the load path's locals are not on the stack while the
/// tasks run). The pids in `APPS` order (0 = failed) and the number of failures.
#[inline(never)]
fn load_all(exec: &mut Executive<FlashCode>, console: &Con) -> ([u32; APPS.len()], u32) {
    let mut con = ConsoleRef(console.clone());
    let mut failed = 0u32;
    let mut pids = [0u32; APPS.len()];
    for ((name, bytes), pid) in APPS.iter().zip(pids.iter_mut()) {
        match exec.load_static(bytes, LoadOptions::named(*name)) {
            Ok(r) => {
                *pid = r.pid;
                console.borrow_mut().name_task(r.pid, &r.app_name);
                let _ = writeln!(
                    con,
                    "load {}: pid {}, heap {} B",
                    r.app_name,
                    r.pid,
                    heap::used()
                );
            }
            Err(e) => {
                failed += 1;
                // The error by kind only: `ExecError`'s `Display` (and the messages behind it) costs
                // ~1.5 KiB of flash; `hsx run` of the same image prints the message.
                let _ = writeln!(con, "load {name}: failed ({})", error_kind(&e));
            }
        }
    }
    (pids, failed)
}

/// The per-task summary, one task's record at a time (`Executive::tasks` would hold all of
/// them at once). False if some task neither exited nor faulted.
#[inline(never)]
fn report(
    exec: &Executive<FlashCode>,
    pids: &[u32],
    con: &mut ConsoleRef<<B as Board>::Uart>,
) -> bool {
    let mut ok = true;
    for t in pids.iter().filter_map(|&p| exec.task(p).ok()) {
        let _ = write!(con, "task {} {}: {}", t.pid, t.app_name, t.state.wire_str());
        match (t.exit_status, t.fault) {
            (_, Some(f)) => {
                let _ = write!(con, " fault={} pc=0x{:04X}", f.name, f.pc);
            }
            (Some(x), None) => {
                let _ = write!(con, " exit={x}");
            }
            (None, None) => ok = false,
        }
        // u32: printing a u64 would link 64-bit division just for this line.
        let steps = u32::try_from(t.steps).unwrap_or(u32::MAX);
        let _ = writeln!(con, " steps={steps} ram={} B", t.mem_bytes + 64);
    }
    ok
}

/// `core::fmt` onto the shared console.
struct ConsoleRef<U>(Rc<RefCell<Console<U>>>);

impl<U: hal::Uart> Write for ConsoleRef<U> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.borrow_mut().write_str(s)
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut con = Console::new(B::panic_uart());
    let _ = writeln!(con, "panic: {info}");
    B::exit(false)
}

/// A short name for a load error (no `Display`/`Debug` formatting in the firmware).
fn error_kind(e: &hsx_exec::ExecError) -> &'static str {
    use hsx_exec::ExecError as E;
    match e {
        E::Image(_) => "image",
        E::TooManyTasks => "too many tasks",
        E::OutOfMemory => "out of memory",
        E::AppExists(_) => "app exists",
        _ => "metadata",
    }
}
