//! One task's VM context: registers, pc, sp, psw, stack guard, call depth, retired-step
//! counter, trace state, its code and its private data memory — and the interpreter that
//! executes it (`vm.md` §1.4-§1.7, with `design.md` §4.5 arithmetic).

use core::fmt;

use crate::code::{Code, CodeView};
use crate::exec::{self, Cpu};
use crate::mem::{MEM_SIZE, Memory};

/// PSW zero flag (bit 0).
pub const FLAG_Z: u8 = 0x01;
/// PSW carry / "no borrow" flag (bit 1).
pub const FLAG_C: u8 = 0x02;
/// PSW negative flag (bit 2).
pub const FLAG_N: u8 = 0x04;
/// PSW signed-overflow flag (bit 3).
pub const FLAG_V: u8 = 0x08;

/// `HSX_ERR_ENOSYS`: unknown SVC module/function (set by the executive, not the VM).
pub const HSX_ERR_ENOSYS: u32 = 0xFFFF_FF01;
/// `HSX_ERR_STACK_UNDERFLOW`: RET/POP with `sp ≥ 0x10000`.
pub const HSX_ERR_STACK_UNDERFLOW: u32 = 0xFFFF_FF02;
/// `HSX_ERR_STACK_OVERFLOW`: CALL/PUSH below the stack limit or address 0.
pub const HSX_ERR_STACK_OVERFLOW: u32 = 0xFFFF_FF03;
/// `HSX_ERR_MEM_FAULT`: a data access whose last byte passes 0xFFFF.
pub const HSX_ERR_MEM_FAULT: u32 = 0xFFFF_FF04;
/// `HSX_ERR_DIV_ZERO`: DIV by zero.
pub const HSX_ERR_DIV_ZERO: u32 = 0xFFFF_FF05;

/// Address rodata/initialised data is copied to in every task.
pub const RODATA_BASE: u32 = 0x4000;
/// Initial `sp` of an executive task (top of its stack).
pub const STACK_TOP: u32 = 0xFFFC;
/// Default executive stack size in bytes.
pub const DEFAULT_STACK_SIZE: u32 = 0x1000;
/// Initial `sp` of a standalone MiniVM.
pub const STANDALONE_SP: u32 = 0x8000;

/// A register visible through [`Task::reg_get`] / [`Task::reg_set`]. `index()` is 0..15 for
/// R0..R15 (the protocol's register ids), 16 = PC, 17 = SP, 18 = PSW; the same numbering is
/// used for the bits of [`TraceState::changed`].
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Reg {
    R0,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    R7,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R14,
    R15,
    Pc,
    Sp,
    Psw,
}

impl Reg {
    /// Every register, in index order.
    pub const ALL: [Reg; 19] = [
        Reg::R0,
        Reg::R1,
        Reg::R2,
        Reg::R3,
        Reg::R4,
        Reg::R5,
        Reg::R6,
        Reg::R7,
        Reg::R8,
        Reg::R9,
        Reg::R10,
        Reg::R11,
        Reg::R12,
        Reg::R13,
        Reg::R14,
        Reg::R15,
        Reg::Pc,
        Reg::Sp,
        Reg::Psw,
    ];

    /// General-purpose register `R(n & 15)`.
    pub const fn gpr(n: u8) -> Reg {
        Reg::ALL[(n & 15) as usize]
    }

    /// Register by index (0..=18), `None` otherwise.
    pub const fn from_index(i: u8) -> Option<Reg> {
        if (i as usize) < Reg::ALL.len() {
            Some(Reg::ALL[i as usize])
        } else {
            None
        }
    }

    /// Index 0..=18 (see the type docs).
    pub const fn index(self) -> u8 {
        self as u8
    }

    /// Name as shown to users: `R0`..`R15`, `PC`, `SP`, `PSW`.
    pub const fn name(self) -> &'static str {
        const NAMES: [&str; 19] = [
            "R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11", "R12", "R13",
            "R14", "R15", "PC", "SP", "PSW",
        ];
        NAMES[self as usize]
    }

    /// Parse a register name case-insensitively (`r3`, `PC`, `sp`, `psw`, also `flags`).
    pub fn from_name(s: &str) -> Option<Reg> {
        if s.eq_ignore_ascii_case("flags") {
            return Some(Reg::Psw);
        }
        Reg::ALL
            .iter()
            .copied()
            .find(|r| r.name().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a task could not continue (`vm.md` §1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// DIV with a zero divisor; R0 = `HSX_ERR_DIV_ZERO`.
    DivZero,
    /// Data access past 0xFFFF (or unmapped); R0 = `HSX_ERR_MEM_FAULT`.
    MemFault,
    /// CALL/PUSH below the stack limit or address 0; R0 = `HSX_ERR_STACK_OVERFLOW`.
    StackOverflow,
    /// RET/POP with `sp ≥ 0x10000`; R0 = `HSX_ERR_STACK_UNDERFLOW`.
    StackUnderflow,
    /// Unassigned opcode byte; pc has advanced by 4 and the step was counted.
    IllegalOpcode,
    /// Fetch with `pc + 4 > code_len`.
    PcOutOfRange,
    /// LDI32 whose second word lies beyond the code.
    Ldi32Overrun,
    /// [`crate::Vm`] only: the selected slot holds no task.
    NoTask,
}

impl Fault {
    /// The `HSX_ERR_*` word written to R0, for faults that write one.
    pub const fn hsx_err(self) -> Option<u32> {
        match self {
            Fault::DivZero => Some(HSX_ERR_DIV_ZERO),
            Fault::MemFault => Some(HSX_ERR_MEM_FAULT),
            Fault::StackOverflow => Some(HSX_ERR_STACK_OVERFLOW),
            Fault::StackUnderflow => Some(HSX_ERR_STACK_UNDERFLOW),
            _ => None,
        }
    }

    /// Stable upper-case name (`DIV_ZERO`, `MEM_FAULT`, `STACK_OVERFLOW`,
    /// `STACK_UNDERFLOW`, `ILLEGAL_OPCODE`, `PC_OUT_OF_RANGE`, `LDI32_OVERRUN`, `NO_TASK`).
    pub const fn name(self) -> &'static str {
        match self {
            Fault::DivZero => "DIV_ZERO",
            Fault::MemFault => "MEM_FAULT",
            Fault::StackOverflow => "STACK_OVERFLOW",
            Fault::StackUnderflow => "STACK_UNDERFLOW",
            Fault::IllegalOpcode => "ILLEGAL_OPCODE",
            Fault::PcOutOfRange => "PC_OUT_OF_RANGE",
            Fault::Ldi32Overrun => "LDI32_OVERRUN",
            Fault::NoTask => "NO_TASK",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Outcome of executing (at most) one instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepResult {
    /// An instruction retired; the task can continue.
    Ok,
    /// `BRK code`: retired (pc += 4, steps += 1); the caller should pause the task.
    Break {
        /// Low 8 bits of the immediate.
        code: u8,
    },
    /// `SVC module, func`: retired — pc is **already** advanced by 4 and steps **already**
    /// incremented. The caller services it and sets result registers with `reg_set`.
    /// (CORE_GET_STEPS must report the count *before* the SVC: `steps() - 1`.)
    Svc {
        /// Module (bits 11..8 of the immediate).
        module: u8,
        /// Function (bits 7..0 of the immediate).
        func: u8,
    },
    /// `RET` at call depth 0: the task ends with `status` = R0. Not retired: pc stays at the
    /// RET and steps is unchanged.
    Exit {
        /// Exit status (R0).
        status: u32,
    },
    /// The task cannot continue. `pc` is the address of the faulting instruction. Register
    /// effects follow the reference: for `HSX_ERR_*` faults R0 holds [`Fault::hsx_err`], pc
    /// and steps are unchanged; an illegal opcode is retired (task pc = `pc + 4`,
    /// steps += 1); PC_OUT_OF_RANGE and LDI32_OVERRUN change nothing.
    Fault {
        /// Which fault.
        code: Fault,
        /// Address of the faulting instruction.
        pc: u32,
    },
}

impl StepResult {
    /// `true` for [`StepResult::Ok`].
    #[inline]
    pub const fn is_ok(&self) -> bool {
        matches!(self, StepResult::Ok)
    }
}

/// Direction of a traced data access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessKind {
    /// LD, LDB, LDH.
    Read,
    /// ST, STB, STH.
    Write,
}

/// A data access made by an LD*/ST* instruction (stack operations are not recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemAccess {
    /// Read or write.
    pub kind: AccessKind,
    /// Effective address (already wrapped to 16 bits).
    pub addr: u32,
    /// 1, 2 or 4 bytes.
    pub width: u8,
    /// Value read (zero-extended) or written (masked to the width).
    pub value: u32,
}

/// What the last executed instruction did; maintained only while tracing is enabled for
/// the task ([`Task::set_trace`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceState {
    /// Address of the instruction.
    pub pc: u32,
    /// Its instruction word.
    pub word: u32,
    /// The second word of an `LDI32`.
    pub word2: Option<u32>,
    /// Bit `Reg::index()` set for every register (incl. PC, SP, PSW) whose value differs
    /// after the instruction.
    pub changed: u32,
    /// The LD*/ST* data access, if any.
    pub mem: Option<MemAccess>,
}

impl TraceState {
    /// Whether `r` changed.
    #[inline]
    pub const fn reg_changed(&self, r: Reg) -> bool {
        self.changed & (1 << r as u32) != 0
    }
}

/// Initial placement of a task (`vm.md` §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskConfig {
    /// Initial pc (byte offset into the code).
    pub entry: u32,
    /// Initial sp.
    pub sp: u32,
    /// Lowest legal sp; a CALL/PUSH that would go below it faults STACK_OVERFLOW.
    pub stack_limit: u32,
}

impl TaskConfig {
    /// Standalone MiniVM placement: sp = 0x8000, no stack guard.
    pub const fn standalone(entry: u32) -> TaskConfig {
        TaskConfig {
            entry,
            sp: STANDALONE_SP,
            stack_limit: 0,
        }
    }

    /// Executive placement: sp = 0xFFFC, stack_limit = 0xFFFC − `stack_size`.
    pub const fn executive(entry: u32, stack_size: u32) -> TaskConfig {
        TaskConfig {
            entry,
            sp: STACK_TOP,
            stack_limit: STACK_TOP.saturating_sub(stack_size),
        }
    }
}

/// One task's complete VM state. `C` is its code ([`crate::code`]), `M` its data memory
/// ([`crate::mem`]).
#[derive(Debug, Clone)]
pub struct Task<C, M> {
    cpu: Cpu,
    steps: u64,
    trace: bool,
    last: Option<TraceState>,
    code: C,
    mem: M,
}

impl<C: Code, M: Memory> Task<C, M> {
    /// Create a task: clears `mem`, copies `rodata` to 0x4000 (silently truncated at
    /// 0xFFFF), sets pc = `cfg.entry`, sp and the stack guard from `cfg`; registers, psw,
    /// call depth and steps start at 0, tracing off.
    pub fn new(code: C, mut mem: M, rodata: &[u8], cfg: TaskConfig) -> Task<C, M> {
        mem.clear();
        let room = MEM_SIZE - RODATA_BASE as usize;
        let ro = rodata.get(..room).unwrap_or(rodata);
        mem.write_bytes(RODATA_BASE, ro);
        Task {
            cpu: Cpu {
                regs: [0; 16],
                pc: cfg.entry,
                sp: cfg.sp,
                stack_limit: cfg.stack_limit,
                depth: 0,
                psw: 0,
            },
            steps: 0,
            trace: false,
            last: None,
            code,
            mem,
        }
    }

    /// Execute at most one instruction. Same as `run(1).1`.
    #[inline]
    pub fn step(&mut self) -> StepResult {
        self.run(1).1
    }

    /// Execute up to `n` instructions, stopping at the first result that is not
    /// [`StepResult::Ok`]. Returns the number of instructions retired (always equal to the
    /// increase of [`Task::steps`]) and the last result (`Ok` if `n` were retired;
    /// `(0, Ok)` for `n == 0`).
    #[inline]
    pub fn run(&mut self, n: u64) -> (u64, StepResult) {
        let (done, r) = if self.trace {
            exec::run::<_, M, true>(
                &mut self.cpu,
                self.code.view(),
                &mut self.mem,
                &mut self.last,
                n,
            )
        } else {
            exec::run::<_, M, false>(
                &mut self.cpu,
                self.code.view(),
                &mut self.mem,
                &mut self.last,
                n,
            )
        };
        self.steps = self.steps.wrapping_add(done);
        (done, r)
    }

    /// Read the code word at byte offset `pc` (`None` past the end).
    #[inline]
    pub fn fetch(&self, pc: u32) -> Option<u32> {
        self.code.view().fetch(pc)
    }

    /// Code length in bytes.
    #[inline]
    pub fn code_len(&self) -> u32 {
        self.code.view().len_bytes()
    }

    /// Host read of task memory: `addr` is masked to 16 bits and the length clipped at
    /// 0x10000. Never faults. Returns the number of bytes read into the start of `buf`.
    pub fn read_mem(&self, addr: u32, buf: &mut [u8]) -> usize {
        let a = addr & 0xFFFF;
        let n = buf.len().min(MEM_SIZE - a as usize);
        if let Some(dst) = buf.get_mut(..n) {
            self.mem.read_bytes(a, dst);
        }
        n
    }

    /// Host write of task memory: `addr` is masked to 16 bits and the length clipped at
    /// 0x10000. Never faults. Returns the number of bytes written.
    pub fn write_mem(&mut self, addr: u32, data: &[u8]) -> usize {
        let a = addr & 0xFFFF;
        let n = data.len().min(MEM_SIZE - a as usize);
        if let Some(src) = data.get(..n) {
            self.mem.write_bytes(a, src);
        }
        n
    }
}

impl<C, M> Task<C, M> {
    /// Read a register. R15 is the stored register (an SP mirror only after stack ops).
    #[inline]
    pub fn reg_get(&self, r: Reg) -> u32 {
        match r {
            Reg::Pc => self.cpu.pc,
            Reg::Sp => self.cpu.sp,
            Reg::Psw => u32::from(self.cpu.psw),
            gpr => self.cpu.regs[gpr as usize & 15],
        }
    }

    /// Write a register. Writing R15 does not move SP; writing SP does not change R15;
    /// PSW keeps only its low 4 bits (Z, C, N, V — the other bits do not exist).
    #[inline]
    pub fn reg_set(&mut self, r: Reg, v: u32) {
        match r {
            Reg::Pc => self.cpu.pc = v,
            Reg::Sp => self.cpu.sp = v,
            Reg::Psw => self.cpu.psw = (v & 0x0F) as u8,
            gpr => self.cpu.regs[gpr as usize & 15] = v,
        }
    }

    /// R0..R15.
    #[inline]
    pub fn regs(&self) -> &[u32; 16] {
        &self.cpu.regs
    }

    /// Program counter (byte offset into the code).
    #[inline]
    pub fn pc(&self) -> u32 {
        self.cpu.pc
    }

    /// Stack pointer (absolute data address).
    #[inline]
    pub fn sp(&self) -> u32 {
        self.cpu.sp
    }

    /// Processor status word (Z = bit 0, C = 1, N = 2, V = 3).
    #[inline]
    pub fn psw(&self) -> u8 {
        self.cpu.psw
    }

    /// Retired-instruction count.
    #[inline]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Overwrite the retired-instruction count.
    #[inline]
    pub fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }

    /// Shadow call depth (CALLs minus RETs); `RET` at depth 0 exits the task.
    #[inline]
    pub fn call_depth(&self) -> u32 {
        self.cpu.depth
    }

    /// Overwrite the shadow call depth.
    #[inline]
    pub fn set_call_depth(&mut self, depth: u32) {
        self.cpu.depth = depth;
    }

    /// Lowest legal sp.
    #[inline]
    pub fn stack_limit(&self) -> u32 {
        self.cpu.stack_limit
    }

    /// Change the stack guard.
    #[inline]
    pub fn set_stack_limit(&mut self, limit: u32) {
        self.cpu.stack_limit = limit;
    }

    /// Enable or disable trace-state recording for this task. While off, `run` takes the
    /// fast path and [`Task::last_trace`] keeps its previous value.
    #[inline]
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on;
    }

    /// Whether tracing is on.
    #[inline]
    pub fn trace_enabled(&self) -> bool {
        self.trace
    }

    /// Trace state of the last instruction executed while tracing (`None` if none yet).
    /// Also describes a faulting or exiting instruction (its `changed` shows e.g. R0).
    #[inline]
    pub fn last_trace(&self) -> Option<&TraceState> {
        self.last.as_ref()
    }

    /// Forget the trace state.
    #[inline]
    pub fn clear_trace(&mut self) {
        self.last = None;
    }

    /// The code.
    #[inline]
    pub fn code(&self) -> &C {
        &self.code
    }

    /// The data memory.
    #[inline]
    pub fn mem(&self) -> &M {
        &self.mem
    }

    /// The data memory, mutably (no checks; prefer [`Task::write_mem`]).
    #[inline]
    pub fn mem_mut(&mut self) -> &mut M {
        &mut self.mem
    }

    /// Take the task apart, e.g. to reuse its memory.
    pub fn into_parts(self) -> (C, M) {
        (self.code, self.mem)
    }
}
