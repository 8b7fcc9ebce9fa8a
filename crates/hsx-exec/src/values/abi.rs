//! What a guest sees of the value and command services: flag bits, auth levels, SVC
//! function numbers, OIDs and f16 conversion, the error enums with their status codes, and
//! the byte layouts written back (VAL_GET word, notification and completion frames, help).

use alloc::vec::Vec;

use super::chain::ChainError;
use crate::status::{cmd as cst, val as vst};

/// Value flags (`HSX_VAL_FLAG_*`).
pub mod flag {
    /// Read-only.
    pub const RO: u8 = 0x01;
    /// Persisted across restarts.
    pub const PERSIST: u8 = 0x02;
    /// Reserved.
    pub const STICKY: u8 = 0x04;
    /// PIN (not enforced for values).
    pub const PIN: u8 = 0x08;
    /// Boolean by convention (not enforced).
    pub const BOOL: u8 = 0x10;
}

/// Command flags (`HSX_CMD_FLAG_*`).
pub mod cmd_flag {
    /// Requires a PIN token.
    pub const PIN: u8 = 0x01;
    /// May be called asynchronously.
    pub const ASYNC: u8 = 0x02;
}

/// Auth levels.
pub mod auth {
    /// No auth.
    pub const PUBLIC: u8 = 0;
    /// User.
    pub const USER: u8 = 1;
    /// Admin.
    pub const ADMIN: u8 = 2;
    /// Factory.
    pub const FACTORY: u8 = 3;
}

/// VAL_PERSIST modes.
pub mod persist_mode {
    /// Clear PERSIST.
    pub const VOLATILE: u8 = 0;
    /// Set PERSIST.
    pub const LOAD: u8 = 1;
    /// Set PERSIST (same effect as LOAD).
    pub const SAVE: u8 = 2;
}

/// Function numbers of SVC module 0x07.
pub mod val_fn {
    /// Module number.
    pub const MODULE: u8 = 0x07;
    /// VAL_REGISTER.
    pub const REGISTER: u8 = 0x00;
    /// VAL_LOOKUP.
    pub const LOOKUP: u8 = 0x01;
    /// VAL_GET.
    pub const GET: u8 = 0x02;
    /// VAL_SET.
    pub const SET: u8 = 0x03;
    /// VAL_LIST.
    pub const LIST: u8 = 0x04;
    /// VAL_SUB.
    pub const SUB: u8 = 0x05;
    /// VAL_PERSIST.
    pub const PERSIST: u8 = 0x06;
}

/// Function numbers of SVC module 0x08.
pub mod cmd_fn {
    /// Module number.
    pub const MODULE: u8 = 0x08;
    /// CMD_REGISTER.
    pub const REGISTER: u8 = 0x00;
    /// CMD_LOOKUP.
    pub const LOOKUP: u8 = 0x01;
    /// CMD_CALL.
    pub const CALL: u8 = 0x02;
    /// CMD_CALL_ASYNC.
    pub const CALL_ASYNC: u8 = 0x03;
    /// CMD_HELP.
    pub const HELP: u8 = 0x04;
}

/// VAL_LIST group filter meaning "all groups".
pub const GROUP_ALL: u8 = 0xFF;

/// `OID = group << 8 | id`.
#[must_use]
pub const fn oid(group: u8, id: u8) -> u16 {
    ((group as u16) << 8) | id as u16
}

/// f16 bits → f64 (the VM's exact decoding).
pub use hsx_vm::fp16::f16_to_f64;

/// The epsilon test of VAL_SET with f16 operands: `eps > 0 && |new − old| < eps` exactly as
/// in binary64 (NaN compares false, ±inf differences are never below), computed in integer
/// arithmetic ([`hsx_vm::fp16::f16_fixed`]) so microcontrollers need no soft-float.
#[must_use]
pub fn within_epsilon(new: u16, old: u16, eps: u16) -> bool {
    use hsx_vm::fp16::f16_fixed;
    // eps > 0: positive, non-zero, not NaN.
    if eps & 0x8000 != 0 || eps == 0 || (eps & 0x7C00 == 0x7C00 && eps & 0x3FF != 0) {
        return false;
    }
    let (Some(a), Some(b)) = (f16_fixed(new), f16_fixed(old)) else {
        return false;
    };
    // eps = +inf: every finite difference is below it.
    f16_fixed(eps).is_none_or(|e| (a - b).abs() < e)
}

/// f64 → f16 bits, rounded like the VM's FPU ([`hsx_vm::fp16::f16_from_f64`]: nearest even,
/// overflow to ±inf, NaN canonical), so a value set from the host equals one computed by
/// guest code.
#[must_use]
#[inline]
pub fn f64_to_f16(x: f64) -> u16 {
    hsx_vm::fp16::f16_from_f64(x)
}

/// Value service failure; [`ValError::code`] is the guest status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValError {
    /// ENOENT.
    #[error("value not found")]
    NotFound,
    /// EPERM.
    #[error("permission denied")]
    PermissionDenied,
    /// ENOSPC.
    #[error("value registry full")]
    NoSpace,
    /// ENOSPC: the owner's registration budget ([`super::RegistryLimits::values_per_task`]).
    #[error("value budget of the task exceeded")]
    Quota,
    /// EINVAL.
    #[error("invalid parameter")]
    Invalid,
    /// EEXIST.
    #[error("value already registered")]
    Exists,
    /// EBUSY (rate limited).
    #[error("rate limited")]
    Busy,
}

impl ValError {
    /// `HSX_VAL_STATUS_*`.
    #[must_use]
    pub const fn code(self) -> u16 {
        match self {
            Self::NotFound => vst::ENOENT,
            Self::PermissionDenied => vst::EPERM,
            Self::NoSpace | Self::Quota => vst::ENOSPC,
            Self::Invalid => vst::EINVAL,
            Self::Exists => vst::EEXIST,
            Self::Busy => vst::EBUSY,
        }
    }
}

impl From<ChainError> for ValError {
    fn from(_: ChainError) -> Self {
        Self::Invalid
    }
}

/// Command service failure; [`CmdError::code`] is the guest status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CmdError {
    /// ENOENT.
    #[error("command not found")]
    NotFound,
    /// EPERM.
    #[error("permission denied")]
    PermissionDenied,
    /// ENOSPC.
    #[error("command registry full")]
    NoSpace,
    /// ENOSPC: the owner's registration budget ([`super::RegistryLimits::commands_per_task`]).
    #[error("command budget of the task exceeded")]
    Quota,
    /// EINVAL.
    #[error("invalid parameter")]
    Invalid,
    /// EEXIST.
    #[error("command already registered")]
    Exists,
    /// ENOASYNC.
    #[error("command is not asynchronous")]
    NoAsync,
    /// EFAIL.
    #[error("command handler failed")]
    Failed,
}

impl CmdError {
    /// `HSX_CMD_STATUS_*`.
    #[must_use]
    pub const fn code(self) -> u16 {
        match self {
            Self::NotFound => cst::ENOENT,
            Self::PermissionDenied => cst::EPERM,
            Self::NoSpace | Self::Quota => cst::ENOSPC,
            Self::Invalid => cst::EINVAL,
            Self::Exists => cst::EEXIST,
            Self::NoAsync => cst::ENOASYNC,
            Self::Failed => cst::EFAIL,
        }
    }
}

impl From<ChainError> for CmdError {
    fn from(_: ChainError) -> Self {
        Self::Invalid
    }
}

/// `R0` for VAL_GET: the f16 bits on success (status 0 in the upper half), else the status.
/// A stored value whose bits equal a status code (1..=6) is indistinguishable from that
/// error; callers should LOOKUP first.
#[must_use]
pub fn val_get_word(result: Result<u16, ValError>) -> u32 {
    match result {
        Ok(bits) => u32::from(bits),
        Err(e) => u32::from(e.code()),
    }
}

/// Build the 6-byte change notification `<oid><old><new>` (LE).
#[must_use]
pub fn notification_frame(oid: u16, old: u16, new: u16) -> [u8; 6] {
    let mut f = [0u8; 6];
    f[..2].copy_from_slice(&oid.to_le_bytes());
    f[2..4].copy_from_slice(&old.to_le_bytes());
    f[4..].copy_from_slice(&new.to_le_bytes());
    f
}

/// Build an async completion frame `<u16 oid><u16 status>[<u32 result>]` (LE).
#[must_use]
pub fn completion_frame(oid: u16, status: u16, result: Option<u32>) -> Vec<u8> {
    let mut f = Vec::with_capacity(8);
    f.extend_from_slice(&oid.to_le_bytes());
    f.extend_from_slice(&status.to_le_bytes());
    if let Some(r) = result {
        f.extend_from_slice(&r.to_le_bytes());
    }
    f
}

/// CMD_HELP output for a buffer of `max_len` bytes: at most `max_len - 1` text bytes plus a
/// NUL, and the count for R1. `max_len == 0` writes nothing.
#[must_use]
pub fn help_output(text: &str, max_len: u32) -> (Vec<u8>, u32) {
    if max_len == 0 {
        return (Vec::new(), 0);
    }
    let n = text.len().min(max_len as usize - 1);
    let mut out = Vec::with_capacity(n + 1);
    out.extend_from_slice(text.as_bytes().get(..n).unwrap_or_default());
    out.push(0);
    (out, u32::try_from(n).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod epsilon_tests {
    use super::{f16_to_f64, within_epsilon};

    fn reference(new: u16, old: u16, eps: u16) -> bool {
        let eps = f16_to_f64(eps);
        eps > 0.0 && (f16_to_f64(new) - f16_to_f64(old)).abs() < eps
    }

    #[test]
    fn integer_epsilon_test_matches_binary64() {
        let specials = [
            0u16, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x7BFF, 0xFBFF, 0x7C00,
            0xFC00, 0x7E00, 0x7C01, 0xFE00, 0x6400, 0x1400,
        ];
        for &a in &specials {
            for &b in &specials {
                for &e in &specials {
                    assert_eq!(
                        within_epsilon(a, b, e),
                        reference(a, b, e),
                        "{a:#x} {b:#x} {e:#x}"
                    );
                }
            }
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (a, b, e) = (x as u16, (x >> 16) as u16, (x >> 32) as u16);
            // Also near-equal operands, where the test is decided.
            let b2 = a.wrapping_add((x >> 48) as u16 & 0xF);
            assert_eq!(
                within_epsilon(a, b, e),
                reference(a, b, e),
                "{a:#x} {b:#x} {e:#x}"
            );
            assert_eq!(
                within_epsilon(a, b2, e),
                reference(a, b2, e),
                "{a:#x} {b2:#x} {e:#x}"
            );
        }
    }
}
