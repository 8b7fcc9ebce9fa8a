//! Status and error codes returned to guests by the executive's services.
//!
//! Values come from the HSX C headers (`include/hsx_mailbox.h`, `hsx_value.h`,
//! `hsx_command.h`, `hsx_hal_types.h`) and the VM trap words; `services.md` §7.2 lists them.
//! Mailbox, value and command services return 16-bit status codes in `R0`; the VM traps
//! return full 32-bit `HSX_ERR_*` words; the file-system module returns raw signed integers.

/// VM/SVC: unknown module or function (`R0` word).
pub const HSX_ERR_ENOSYS: u32 = 0xFFFF_FF01;
/// VM: POP/RET beyond memory.
pub const HSX_ERR_STACK_UNDERFLOW: u32 = 0xFFFF_FF02;
/// VM: PUSH/CALL below `stack_limit`.
pub const HSX_ERR_STACK_OVERFLOW: u32 = 0xFFFF_FF03;
/// VM: out-of-range memory access.
pub const HSX_ERR_MEM_FAULT: u32 = 0xFFFF_FF04;
/// VM: division by zero.
pub const HSX_ERR_DIV_ZERO: u32 = 0xFFFF_FF05;

/// SVC: the task's image did not request the capability this module needs (its header's
/// `req_caps` is non-zero and lacks the bit). Modules with their own status codes answer
/// their own `EPERM` instead (values, commands).
pub const HSX_ERR_EPERM: u32 = 0xFFFF_FF06;

/// Internal errno for the per-PID handle quota; the SVC boundary reports it as
/// [`mbx::NO_DESCRIPTOR`].
pub const ERRNO_ENOSPC: u32 = 28;

/// Mailbox service (module 0x05) status codes.
pub mod mbx {
    /// Success.
    pub const OK: u16 = 0x0000;
    /// No room for the message (send).
    pub const WOULDBLOCK: u16 = 0x0001;
    /// Unknown or closed handle.
    pub const INVALID_HANDLE: u16 = 0x0002;
    /// Poll receive on an empty queue.
    pub const NO_DATA: u16 = 0x0003;
    /// `len + 8 > capacity`.
    pub const MSG_TOO_LARGE: u16 = 0x0004;
    /// Descriptor pool full, or per-PID handle quota hit.
    pub const NO_DESCRIPTOR: u16 = 0x0005;
    /// Blocking receive expired.
    pub const TIMEOUT: u16 = 0x0007;
    /// Bad target, unknown function, other failure.
    pub const INTERNAL_ERROR: u16 = 0x00FF;
}

/// Value service (module 0x07) status codes.
pub mod val {
    /// Success.
    pub const OK: u16 = 0;
    /// Value not found.
    pub const ENOENT: u16 = 1;
    /// Permission denied (access check, read-only, owner-only operation).
    pub const EPERM: u16 = 2;
    /// Registry or string table exhausted.
    pub const ENOSPC: u16 = 3;
    /// Invalid parameter (bad descriptor chain, bad mode, unknown function).
    pub const EINVAL: u16 = 4;
    /// Value already registered (same owner, same OID).
    pub const EEXIST: u16 = 5;
    /// Rate limited.
    pub const EBUSY: u16 = 6;
}

/// Command service (module 0x08) status codes.
pub mod cmd {
    /// Success.
    pub const OK: u16 = 0;
    /// Command not found (or no help text).
    pub const ENOENT: u16 = 1;
    /// Permission denied (not owner, auth too low, PIN rejected).
    pub const EPERM: u16 = 2;
    /// Registry or string table exhausted.
    pub const ENOSPC: u16 = 3;
    /// Invalid parameter (bad descriptor chain, empty reply target, unknown function).
    pub const EINVAL: u16 = 4;
    /// Command already registered (same owner, same OID).
    pub const EEXIST: u16 = 5;
    /// Asynchronous call of a command without the ASYNC flag.
    pub const ENOASYNC: u16 = 6;
    /// The handler failed.
    pub const EFAIL: u16 = 7;
}

/// HAL status codes (`include/hsx_hal_types.h`); `UNSUPPORTED` maps to ENOSYS at the SVC
/// boundary.
pub mod hal {
    /// Success.
    pub const OK: i32 = 0;
    /// Generic failure.
    pub const ERROR: i32 = -1;
    /// Timed out.
    pub const TIMEOUT: i32 = -2;
    /// Device busy.
    pub const BUSY: i32 = -3;
    /// Invalid parameter.
    pub const INVALID_PARAM: i32 = -4;
    /// Out of memory.
    pub const NO_MEMORY: i32 = -5;
    /// Operation not supported.
    pub const UNSUPPORTED: i32 = -6;
    /// Non-blocking request flag.
    pub const FLAG_NONBLOCK: u32 = 0x01;
    /// Infinite HAL timeout.
    pub const TIMEOUT_INF: u32 = 0xFFFF_FFFF;
}

/// File-system service (module 0x04) results; negative values travel as 32-bit two's
/// complement in `R0`.
pub mod fs {
    /// Success for calls that return a status (CLOSE, DELETE, RENAME, MKDIR).
    pub const OK: i32 = 0;
    /// Failure (unknown fd, missing file, unknown function).
    pub const ERROR: i32 = -1;
    /// Unsafe path rejected by the sandbox.
    pub const EINVAL: i32 = -22;
    /// First descriptor handed out by FS_OPEN (0..2 are stdio).
    pub const FIRST_FD: u32 = 3;
    /// Open flag: read only.
    pub const O_RDONLY: u32 = 0x01;
    /// Open flag: write only.
    pub const O_WRONLY: u32 = 0x02;
    /// Open flag: read/write.
    pub const O_RDWR: u32 = 0x03;
    /// Open flag: create if missing.
    pub const O_CREAT: u32 = 0x04;
    /// Open flag: truncate.
    pub const O_TRUNC: u32 = 0x08;
    /// Open flag: append.
    pub const O_APPEND: u32 = 0x10;

    /// `R0` word for a signed FS result.
    #[must_use]
    pub const fn word(result: i32) -> u32 {
        result as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fs_negative_results_are_twos_complement_words() {
        assert_eq!(fs::word(fs::EINVAL), 0xFFFF_FFEA);
        assert_eq!(fs::word(fs::ERROR), 0xFFFF_FFFF);
    }

    #[test]
    fn mailbox_codes_match_header() {
        assert_eq!(mbx::TIMEOUT, 7);
        assert_eq!(mbx::INTERNAL_ERROR, 0xFF);
        assert_eq!(u32::from(mbx::NO_DESCRIPTOR), 5);
    }
}
