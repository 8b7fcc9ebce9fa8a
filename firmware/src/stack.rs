//! Main-stack high-water mark: the free RAM between the end of the statics and the stack
//! pointer is painted at boot and scanned at the end (the executive and every task's VM
//! state run on this one stack; task stacks live in their arenas on the heap).

const PAINT: u32 = 0x5AA5_C33C;

unsafe extern "C" {
    /// End of `.bss`/`.uninit` (cortex-m-rt).
    static mut __sheap: u32;
    /// Initial stack pointer, the top of RAM (cortex-m-rt).
    static _stack_start: u32;
}

fn bottom() -> usize {
    (&raw const __sheap) as usize
}

fn top() -> usize {
    (&raw const _stack_start) as usize
}

/// Paint the unused stack below the current frame (first thing in `main`).
#[inline(never)]
pub fn paint() {
    let sp = cortex_m::register::msp::read() as usize;
    let mut p = bottom();
    // Leave the live frames (and a margin for this leaf function's own) alone.
    while p + 4 <= sp - 64 {
        // SAFETY: [__sheap, sp - 64) is RAM nothing uses yet (below the live stack).
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

/// Deepest main-stack use so far, in bytes.
pub fn peak() -> usize {
    let mut p = bottom();
    // SAFETY: reading RAM between the statics and the stack top.
    while p < top() && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    top() - p
}
