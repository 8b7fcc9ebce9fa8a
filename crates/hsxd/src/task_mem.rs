//! Task data memory as the debugger's walkers read it (stack frames, locals, watches):
//! a read never fails, it comes back short.

use hsx_exec::Executive;

/// A reader of task data memory for the walkers: fills `buf` and returns the bytes read.
pub(crate) fn reader(exec: &Executive, pid: u32) -> impl Fn(u32, &mut [u8]) -> usize + '_ {
    move |addr, buf| {
        let Ok(v) = exec.read_mem(pid, addr, buf.len()) else {
            return 0;
        };
        let n = v.len().min(buf.len());
        match (buf.get_mut(..n), v.get(..n)) {
            (Some(dst), Some(src)) => {
                dst.copy_from_slice(src);
                n
            }
            _ => 0,
        }
    }
}
