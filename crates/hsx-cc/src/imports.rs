//! Imported functions become small MiniVM routines ("thunks") with the translator's calling
//! convention: WASI calls map onto HSX services, `hsx_svc` imports are raw SVCs, `hsx`
//! imports are facts only the translator knows (the heap end). Anything else is an error
//! that names the import and the functions that call it.

use crate::emit::{Cc, Code, Label, op};
use crate::error::CcError;
use crate::module::{FuncImport, Sig, Ty};
use crate::runtime::Rt;

/// WASI errno values used by the thunks.
mod errno {
    pub const BADF: u32 = 8;
    pub const SPIPE: u32 = 70;
}

/// A parsed `hsx_svc` import name: `<mod hex>_<fn hex>[_r0][_o]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SvcName {
    /// SVC module (0..15).
    pub module: u8,
    /// SVC function (0..255).
    pub func: u8,
    /// The first parameter goes to R0.
    pub r0: bool,
    /// The last parameter points at 4 words that receive R1..R4.
    pub out: bool,
}

impl SvcName {
    /// Parse an import name; `None` if it is malformed.
    pub fn parse(name: &str) -> Option<SvcName> {
        let mut parts = name.split('_');
        let module = u8::from_str_radix(parts.next()?, 16)
            .ok()
            .filter(|m| *m < 16)?;
        let func = u8::from_str_radix(parts.next()?, 16).ok()?;
        let mut r0 = false;
        let mut out = false;
        for p in parts {
            match p {
                "r0" if !r0 && !out => r0 = true,
                "o" if !out => out = true,
                _ => return None,
            }
        }
        Some(SvcName {
            module,
            func,
            r0,
            out,
        })
    }
}

/// Runtime routines the thunk of `imp` may call.
pub fn needs(imp: &FuncImport) -> &'static [Rt] {
    match (imp.module.as_str(), imp.name.as_str()) {
        ("hsx_svc", n) if n.starts_with("4_02") => &[Rt::Write],
        (_, "fd_write") => &[Rt::Write],
        (_, "clock_time_get") => &[Rt::Mul64],
        _ => &[],
    }
}

/// What the thunk of an import needs from the program.
pub struct ThunkEnv<'a> {
    /// End of the malloc arena.
    pub heap_end: u32,
    /// Entries of the routines [`needs`] named.
    pub rt: &'a dyn Fn(Rt) -> Label,
    /// Names of the functions that call this import (for the error message).
    pub callers: String,
    /// The program's `argv[0]` (its app name); there are no other arguments.
    pub argv0: String,
}

fn all_i32(sig: &Sig) -> bool {
    sig.params.iter().all(|t| *t == Ty::I32) && sig.results.iter().all(|t| *t == Ty::I32)
}

/// Emit the thunk of `imp` (signature `sig`) at the current address.
pub fn emit_thunk(
    c: &mut Code,
    imp: &FuncImport,
    sig: &Sig,
    env: &mut ThunkEnv<'_>,
) -> Result<(), CcError> {
    use op::*;
    let callers = env.callers.clone();
    let unknown = || {
        CcError::UnknownImport(format!(
            "`{}` (import {}.{}) is not provided by hsx cc; called from {}",
            imp.name, imp.module, imp.name, callers
        ))
    };
    let bad_sig = || {
        CcError::Unsupported(format!(
            "import {}.{} has an unexpected signature {:?} -> {:?}",
            imp.module, imp.name, sig.params, sig.results
        ))
    };
    match imp.module.as_str() {
        "hsx_svc" => {
            let s = SvcName::parse(&imp.name).ok_or_else(unknown)?;
            let n = sig.params.len();
            if !all_i32(sig) || sig.results.len() > 1 || n > 6 || (s.out && n == 0) {
                return Err(bad_sig());
            }
            let inputs = if s.out { n - 1 } else { n };
            if inputs > 5 + usize::from(s.r0) {
                return Err(bad_sig());
            }
            if (s.module, s.func) == (4, 2) && !s.r0 && !s.out {
                // FS_WRITE: chunked so stdio messages fit their mailbox.
                c.b(Cc::Al, (env.rt)(Rt::Write));
                return Ok(());
            }
            if s.out {
                c.mov(13, n as u8);
            }
            if s.r0 {
                for k in 0..inputs {
                    c.mov(k as u8, k as u8 + 1);
                }
            }
            c.svc(s.module, s.func);
            if s.out {
                for k in 0u8..4 {
                    c.mem(ST, k + 1, 13, 4 * i32::from(k));
                }
            }
            c.ret();
        }
        "hsx" => match imp.name.as_str() {
            "heap_end" => {
                c.li(0, env.heap_end);
                c.ret();
            }
            "trap" => c.trap(),
            _ => return Err(unknown()),
        },
        "wasi_snapshot_preview1" | "wasi_unstable" => {
            wasi(c, imp, sig, env).map_err(|e| match e {
                CcError::UnknownImport(_) => unknown(),
                other => other,
            })?
        }
        _ => return Err(unknown()),
    }
    Ok(())
}

fn wasi(c: &mut Code, imp: &FuncImport, sig: &Sig, env: &mut ThunkEnv<'_>) -> Result<(), CcError> {
    use op::*;
    let params = sig.param_words();
    let need = |n: u32| {
        if params == n {
            Ok(())
        } else {
            Err(CcError::Unsupported(format!(
                "WASI import {} with {params} parameter words (expected {n})",
                imp.name
            )))
        }
    };
    match imp.name.as_str() {
        "fd_write" => {
            need(4)?;
            // R1 fd, R2 iovec array, R3 count, R4 where to store the total.
            let lp = c.label();
            let done = c.label();
            c.li(5, 0);
            c.bind(lp);
            c.test(3);
            c.b(Cc::Eq, done);
            for r in 1..=5 {
                c.push_r(r);
            }
            c.mov(6, 2);
            c.mem(LD, 2, 6, 0);
            c.mem(LD, 3, 6, 4);
            c.call((env.rt)(Rt::Write));
            for r in (1..=5).rev() {
                c.pop_r(r);
            }
            c.rrr(ADD, 5, 5, 0);
            c.addi(2, 2, 8);
            c.addi(3, 3, -1);
            c.b(Cc::Al, lp);
            c.bind(done);
            c.mem(ST, 5, 4, 0);
            c.li(0, 0);
            c.ret();
        }
        "fd_read" => {
            need(4)?;
            // Only the first iovec is filled: a short read is always allowed.
            let none = c.label();
            c.mov(8, 4);
            c.li(0, 0);
            c.test(3);
            c.b(Cc::Eq, none);
            c.mov(6, 2);
            c.mem(LD, 2, 6, 0);
            c.mem(LD, 3, 6, 4);
            c.svc(4, 1);
            c.bind(none);
            c.mem(ST, 0, 8, 0);
            c.li(0, 0);
            c.ret();
        }
        "proc_exit" => {
            need(1)?;
            c.mov(0, 1);
            c.svc(1, 0);
            c.trap();
        }
        "clock_time_get" => {
            need(4)?;
            // Nanoseconds = retired instructions × 1000 (one instruction per microsecond
            // of virtual time); monotonic and deterministic. The multiply uses R0-R6 and
            // R8-R13, so the result pointer waits on the stack.
            c.push_r(4);
            c.svc(0, 0);
            c.mov(1, 0);
            c.li(2, 0);
            c.li(3, 1000);
            c.li(4, 0);
            c.call((env.rt)(Rt::Mul64));
            c.pop_r(8);
            c.mem(ST, 0, 8, 0);
            c.mem(ST, 1, 8, 4);
            c.li(0, 0);
            c.ret();
        }
        "sched_yield" => {
            c.li(0, 0);
            c.ret();
        }
        "environ_sizes_get" => {
            need(2)?;
            c.li(0, 0);
            c.mem(ST, 0, 1, 0);
            c.mem(ST, 0, 2, 0);
            c.ret();
        }
        "environ_get" => {
            c.li(0, 0);
            c.ret();
        }
        // One argument, the app name, as a native program gets its own name in argv[0].
        "args_sizes_get" => {
            need(2)?;
            c.li(0, 1);
            c.mem(ST, 0, 1, 0);
            c.li(0, env.argv0.len() as u32 + 1);
            c.mem(ST, 0, 2, 0);
            c.li(0, 0);
            c.ret();
        }
        "args_get" => {
            need(2)?;
            // R1 = argv array, R2 = string buffer.
            c.mem(ST, 2, 1, 0);
            for (k, b) in env.argv0.bytes().chain(std::iter::once(0)).enumerate() {
                c.li(0, u32::from(b));
                c.mem(STB, 0, 2, k as i32);
            }
            c.li(0, 0);
            c.ret();
        }
        "fd_close" => {
            need(1)?;
            let ok = c.label();
            c.svc(4, 3);
            c.test(0);
            c.b(Cc::Eq, ok);
            c.li(0, errno::BADF);
            c.ret();
            c.bind(ok);
            c.li(0, 0);
            c.ret();
        }
        "fd_seek" => {
            c.li(0, errno::SPIPE);
            c.ret();
        }
        "fd_fdstat_get" => {
            need(2)?;
            // fds 0..2 are character devices without seek rights; others are unknown.
            let bad = c.label();
            c.li(3, 3);
            c.cmp(1, 3);
            c.b(Cc::Geu, bad);
            c.li(0, 0);
            for k in 0..6 {
                c.mem(ST, 0, 2, 4 * k);
            }
            c.li(3, 2);
            c.mem(STB, 3, 2, 0);
            c.ret();
            c.bind(bad);
            c.li(0, errno::BADF);
            c.ret();
        }
        _ => return Err(CcError::UnknownImport(String::new())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::SvcName;

    #[test]
    fn svc_names() {
        assert_eq!(
            SvcName::parse("5_03_o"),
            Some(SvcName {
                module: 5,
                func: 3,
                r0: false,
                out: true
            })
        );
        assert_eq!(SvcName::parse("1_00_r0").map(|s| s.r0), Some(true));
        assert_eq!(SvcName::parse("10_00"), None);
        assert_eq!(SvcName::parse("4_02_x"), None);
        assert_eq!(SvcName::parse("4"), None);
        assert_eq!(SvcName::parse("4_02_o_r0"), None);
    }
}
