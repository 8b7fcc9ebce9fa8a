//! The board's peripherals behind the executive's backend traits (`Clock`, `Hal`,
//! `Persist`): the only place where `hal` meets `hsx_exec`.

use alloc::rc::Rc;
use core::cell::RefCell;

use hsx_exec::persist::{Persist, PersistError};
use hsx_exec::{Clock, Hal};

use crate::console::Console;
use crate::fram::FramStore;
use crate::hal::{Can, Fram, Timer, Uart};

/// The board timer as the executive's clock.
pub struct BoardClock<T>(pub T);

impl<T: Timer> Clock for BoardClock<T> {
    fn now_ms(&self) -> u64 {
        self.0.now_ms()
    }
}

/// UART output (SVC module 1) and stdio on the console, CAN (SVC module 2) on the board's
/// controller. The executive runs with events off, so this is the only output path.
pub struct BoardHal<U, C> {
    /// The console, shared with `main`.
    pub console: Rc<RefCell<Console<U>>>,
    /// The CAN controller.
    pub can: C,
}

// SAFETY: single core, no threads; the console is only used from thread mode.
unsafe impl<U, C: Send> Send for BoardHal<U, C> {}

impl<U: Uart, C: Can> Hal for BoardHal<U, C> {
    fn uart_write(&mut self, pid: u32, data: &[u8]) {
        self.console.borrow_mut().task_output(pid, data, false);
    }
    fn stdio_write(&mut self, pid: u32, err: bool, data: &[u8]) {
        self.console.borrow_mut().task_output(pid, data, err);
    }
    fn can_tx(&mut self, _pid: u32, id: u16, data: &[u8]) -> i32 {
        self.can.tx(id, data)
    }
}

/// The FRAM store, shared between the executive (persist backend) and `main` (final sync).
pub struct SharedFram<F>(Rc<RefCell<FramStore<F>>>);

impl<F> Clone for SharedFram<F> {
    fn clone(&self) -> Self {
        SharedFram(self.0.clone())
    }
}

impl<F: Fram> SharedFram<F> {
    /// Share `store`.
    pub fn new(store: FramStore<F>) -> Self {
        SharedFram(Rc::new(RefCell::new(store)))
    }
    /// Make the FRAM contents durable.
    pub fn sync(&self) {
        self.0.borrow_mut().fram_mut().sync();
    }
}

// SAFETY: single core, no threads; the executive and `main` never run concurrently
// (interrupt handlers do not touch the store).
unsafe impl<F> Send for SharedFram<F> {}

impl<F: Fram> Persist for SharedFram<F> {
    fn load(&mut self, key: u16) -> Option<u16> {
        self.0.borrow_mut().load(key)
    }
    fn store(&mut self, key: u16, bits: u16) -> Result<(), PersistError> {
        self.0.borrow_mut().store(key, bits)
    }
}
