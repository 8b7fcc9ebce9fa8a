//! The console: task output on the board UART, one `[pid:name] ` prefix per line exactly as
//! `hsx run` prints several tasks, and `core::fmt` for the firmware's own lines (integers
//! only: no float formatting is linked).

use alloc::string::String;
use alloc::vec::Vec;

use crate::hal::Uart;

/// UART console with per-task line state.
pub struct Console<U> {
    uart: U,
    /// `(pid, name, at line start)`.
    tasks: Vec<(u32, String, bool)>,
}

impl<U: Uart> Console<U> {
    /// A console on `uart`.
    pub fn new(uart: U) -> Self {
        Console {
            uart,
            tasks: Vec::new(),
        }
    }

    /// Remember a task's name for its prefix.
    pub fn name_task(&mut self, pid: u32, name: &str) {
        self.tasks.push((pid, String::from(name), true));
    }

    /// Write bytes as they are (provisioning replies).
    #[cfg(feature = "provision")]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.uart.write(bytes);
    }

    /// A received byte, if one is waiting.
    #[cfg(feature = "provision")]
    pub fn read(&mut self) -> Option<u8> {
        self.uart.read()
    }

    /// Whether a received byte is waiting.
    #[cfg(feature = "provision")]
    pub fn rx_ready(&self) -> bool {
        self.uart.rx_ready()
    }

    /// Print a chunk of a task's output.
    pub fn task_output(&mut self, pid: u32, data: &[u8], err: bool) {
        let Some(i) = self.tasks.iter().position(|t| t.0 == pid) else {
            self.uart.write(data);
            return;
        };
        for line in data.split_inclusive(|&b| b == b'\n') {
            if self.tasks[i].2 {
                let mut pfx = String::new();
                let _ = core::fmt::write(
                    &mut pfx,
                    format_args!(
                        "[{}:{}{}] ",
                        pid,
                        self.tasks[i].1,
                        if err { "!" } else { "" }
                    ),
                );
                self.uart.write(pfx.as_bytes());
            }
            self.uart.write(line);
            self.tasks[i].2 = line.ends_with(b"\n");
        }
    }
}

impl<U: Uart> core::fmt::Write for Console<U> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.uart.write(s.as_bytes());
        Ok(())
    }
}
