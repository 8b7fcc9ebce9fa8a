//! The heap: a fixed arena (`embedded-alloc`'s linked-list allocator) whose high-water mark
//! is tracked, so the firmware can report what the executive really needed.

use core::alloc::{GlobalAlloc, Layout};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering};

use embedded_alloc::LlffHeap;

/// Arena size in bytes.
pub const SIZE: usize = 48 * 1024;

struct Peak {
    heap: LlffHeap,
    peak: AtomicUsize,
}

unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { self.heap.alloc(layout) };
        self.peak.fetch_max(self.heap.used(), Ordering::Relaxed);
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { self.heap.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static HEAP: Peak = Peak {
    heap: LlffHeap::empty(),
    peak: AtomicUsize::new(0),
};

/// Hand the arena to the allocator (once, first thing at boot).
pub fn init() {
    static mut ARENA: [MaybeUninit<u8>; SIZE] = [MaybeUninit::uninit(); SIZE];
    // SAFETY: called once before any allocation; the arena is used by nothing else.
    unsafe { HEAP.heap.init(&raw mut ARENA as usize, SIZE) }
}

/// Most bytes ever allocated at once.
pub fn peak() -> usize {
    HEAP.peak.load(Ordering::Relaxed)
}

/// Bytes allocated now.
pub fn used() -> usize {
    HEAP.heap.used()
}

/// Restart the high-water mark from what is allocated now (to measure one phase, such as
/// a streamed load).
#[cfg(feature = "provision")]
pub fn reset_peak() {
    HEAP.peak.store(used(), Ordering::Relaxed);
}
