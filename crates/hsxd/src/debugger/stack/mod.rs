//! Call-stack reconstruction through the R7 frame chain (protocol.md §2.4.2) and frame-local
//! variables for `watch` (§2.4.6).
//!
//! Compiled code builds frames with `PUSH R7; MOV R7, R15`, so inside a function
//! `[R7+0]` holds the caller's R7 and `[R7+4]` the return address (vm.md §2.2). The walk
//! follows that chain from the current R7. Guest memory is untrusted: every pointer is
//! range-checked, the chain must strictly ascend (callers' frames sit higher), the frame
//! count is bounded, and a bad link ends the walk with `truncated:true` and an entry in
//! `errors`, never a panic or a loop.
//!
//! Differences from the reference walker (each makes the output more correct):
//! * the frame `[fp, fp+8)` may reach the end of memory instead of `stack_high`, so the
//!   outermost frame (`main`, whose return slot is the word just above the stack top) ends
//!   cleanly instead of with `fp_frame_overflow`;
//! * a chain that goes down (`prev_fp < fp`) stops with `fp_not_ascending`;
//! * with the code bytes at hand, frame 0 is read correctly while the PC sits on a
//!   prologue (`PUSH R7` / `MOV R7, R15`) or on `RET`, where R7 is not this frame's yet;
//! * caller frames look up function and line at `return_pc - 4` (the CALL), and frames
//!   carry `file` and `depth`.
//!
//! Files: `frame` holds what goes in and comes out (registers, bounds, options, frames,
//! the trace and their JSON), `walk` the chain-following logic, and `local_error`,
//! `location` and `locals` read variables in a frame the walk (or the caller) names. The
//! walk itself never looks at locals. Everything is re-exported here, so
//! `crate::debugger::stack::X` paths do not depend on the layout.

mod frame;
mod local_error;
mod locals;
mod location;
mod walk;

pub use frame::{
    DEFAULT_FRAMES, FRAME_BYTES, Frame, MAX_FRAMES, MEM_END, StackBounds, StackRegs, StackTrace,
    WalkOptions,
};
pub use local_error::LocalError;
pub use locals::{
    FrameCtx, LocalValue, LocalVar, LocalWatch, MAX_LOCAL_READ, find_local, frame_locals,
    function_at, parse_local_expr, read_local, resolve_local_watch,
};
pub use location::{Storage, parse_location};
pub use walk::walk;

#[cfg(test)]
mod tests;
