//! MiniVM: the HSX 32-bit register virtual machine (`no_std`, no allocation).
//!
//! # Model
//!
//! * **ISA** ([`isa`]): 32-bit big-endian instruction words (`LDI32` takes two), opcode table,
//!   decode/encode and the MVASM text form.
//! * **Task** ([`Task`]): one guest context — R0..R15, pc, sp, psw (Z/C/N/V), stack limit,
//!   shadow call depth, retired-step counter, optional trace state — owning its **code**
//!   (a separate read-only space, [`code::Code`]) and its private 64 KiB little-endian
//!   **data memory** ([`mem::Memory`]). Create one with [`Task::new`] from code, a memory,
//!   rodata (copied to 0x4000) and a [`TaskConfig`] ([`TaskConfig::executive`]: sp 0xFFFC and
//!   a stack guard; [`TaskConfig::standalone`]: sp 0x8000, no guard).
//! * **VM** ([`Vm`]): all task contexts in a caller-provided [`TaskStore`] plus the selected
//!   slot. [`Vm::set_context`] is O(1) and copies nothing. The crate never allocates: use
//!   an [`ArrayStore`] (`[Option<Task>; N]`), a single [`Task`], or — with feature `alloc` —
//!   `Vec<Option<Box<Task>>>`.
//!
//! Typical types: `Task<DecodedCode, SegMem<Box<[u8]>>>` in an executive (flat or
//! segmented layout, [`seg`]), `Task<ByteCode<&'static [u8]>, SegMem<&'static mut [u8]>>` on a
//! microcontroller (code executed in place from flash, only the data and stack segments in
//! RAM). [`FlatMem`] is the plain 64 KiB array.
//!
//! # Executing
//!
//! [`Task::run`]`(n)` (or [`Vm::run`]) executes up to `n` instructions and stops at the first
//! result other than [`StepResult::Ok`]; it returns how many instructions retired (always the
//! increase of `steps`). [`Task::step`] is `run(1)`. The VM keeps no "running" state: after a
//! non-`Ok` result it will happily execute again if asked, so the caller (executive) owns
//! task states.
//!
//! | result | pc | steps | registers |
//! |---|---|---|---|
//! | `Ok` | next | +1 | per instruction |
//! | `Break{code}` (BRK) | +4 | +1 | — |
//! | `Svc{module, func}` | +4 | +1 | the caller sets results via `reg_set`; CORE_GET_STEPS reports `steps() - 1` |
//! | `Exit{status}` (RET at call depth 0) | unchanged | unchanged | — (`status` = R0) |
//! | `Fault{DIV_ZERO / MEM_FAULT / STACK_OVERFLOW / STACK_UNDERFLOW}` | unchanged | unchanged | R0 = `HSX_ERR_*` |
//! | `Fault{ILLEGAL_OPCODE}` | +4 | +1 | — |
//! | `Fault{PC_OUT_OF_RANGE / LDI32_OVERRUN}` | unchanged | unchanged | — |
//!
//! `Fault::pc` is always the address of the faulting instruction.
//!
//! Semantics follow `vm.md` §1 except (`design.md` §4.5): F2I saturates (+inf → `i32::MAX`,
//! −inf → `i32::MIN`, NaN → 0); f16 results are IEEE round-to-nearest-even with canonical
//! NaN 0x7E00 (no clamp band, [`fp16`]); ADC/SBC set V to the true signed overflow.
//!
//! # Pre-decoded code
//!
//! Code whose [`Code::decoded`] returns a decoded form (`DecodedCode`, feature `alloc`,
//! built with [`op::decode_ops`]) runs untraced on a second loop over those ops: no field
//! extraction or alignment check per instruction, Z/N kept as one result word, fused
//! `CMP`/`SUB` + `JZ`/`JNZ`. Anything rare (illegal opcodes, unaligned targets, faults, a
//! PSW with Z and N both set) is executed by the plain decoder, one instruction at a time,
//! so results are identical; `ByteCode`/`WordCode` (microcontroller) never use the second
//! loop.
//!
//! # ISA extensions
//!
//! A task created with [`TaskConfig::isa_ext`] containing [`ISA_EXT1`] also executes the
//! EXT1 opcodes ([`isa::ext1`]: DIVU, ADDI, B<cc>, JR, CALLR, CALLL, SET<cc>, ADJSP);
//! otherwise they are illegal opcodes exactly as in the reference. [`ISA_EXT_SUPPORTED`]
//! lists the bits this VM implements.
//!
//! # Tracing
//!
//! With [`Task::set_trace`]`(true)` every executed instruction records a [`TraceState`]
//! (pc, word(s), changed-register mask, LD*/ST* access). `run` picks a separately compiled
//! loop per flag, so the untraced path pays nothing.
//!
//! # Example
//!
//! ```
//! use hsx_vm::isa::{Instr, Opcode};
//! use hsx_vm::{empty_array_store, ArrayStore, FlatMem, Reg, StepResult, Task, TaskConfig, Vm,
//!              WordCode, MEM_SIZE};
//!
//! // LDI R0, 7 ; SVC 0x1, 0x00 ; RET
//! let code = WordCode([
//!     Instr::new(Opcode::Ldi, 0, 0, 0, 7).encode(),
//!     Instr::new(Opcode::Svc, 0, 0, 0, 0x100).encode(),
//!     Instr::new(Opcode::Ret, 0, 0, 0, 0).encode(),
//! ]);
//! let task = Task::new(code, FlatMem([0u8; MEM_SIZE]), b"hi", TaskConfig::executive(0, 0x1000));
//! let mut store: ArrayStore<_, _, 2> = empty_array_store();
//! store[1] = Some(task);
//! let mut vm = Vm::new(store);
//! vm.set_context(1).unwrap();
//! assert_eq!(vm.run(100), (2, StepResult::Svc { module: 1, func: 0 }));
//! vm.reg_set(Reg::R0, 7); // the executive answers the SVC
//! assert_eq!(vm.run(100), (0, StepResult::Exit { status: 7 }));
//! let mut buf = [0u8; 2];
//! vm.read_mem(1, 0x4000, &mut buf);
//! assert_eq!(&buf, b"hi");
//! ```
//!
//! # Host access
//!
//! [`Task::read_mem`]/[`Task::write_mem`] (and [`Vm::read_mem`]/[`Vm::write_mem`] by slot)
//! never fault: the address is masked to 16 bits and the length clipped at 0x10000.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod code;
mod exec;
mod exec_fast;
pub mod fp16;
pub mod isa;
pub mod mem;
pub mod op;
mod reg;
mod result;
pub mod seg;
mod task;
mod trace;
mod vm;

#[cfg(feature = "alloc")]
pub use code::DecodedCode;
pub use code::{ByteCode, Code, CodeView, WordCode};
pub use isa::{ISA_EXT_SUPPORTED, ISA_EXT1};
pub use mem::{FlatMem, MEM_SIZE, MemError, Memory};
pub use reg::{FLAG_C, FLAG_N, FLAG_V, FLAG_Z, Reg};
pub use result::{
    Fault, HSX_ERR_DIV_ZERO, HSX_ERR_ENOSYS, HSX_ERR_MEM_FAULT, HSX_ERR_STACK_OVERFLOW,
    HSX_ERR_STACK_UNDERFLOW, StepResult,
};
pub use seg::{SegLayout, SegMem};
pub use task::{DEFAULT_STACK_SIZE, RODATA_BASE, STACK_TOP, STANDALONE_SP, Task, TaskConfig};
pub use trace::{AccessKind, MemAccess, TraceState};
pub use vm::{ArrayStore, NoTask, TaskOf, TaskStore, Vm, empty_array_store};
