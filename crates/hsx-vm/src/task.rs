//! One task's VM context: registers, pc, sp, psw, stack guard, call depth, retired-step
//! counter, trace state, its code and its private data memory. The interpreter that
//! executes it is `exec`'s; the types both use live in `reg`, `result` and `trace`, so the
//! dependency points one way (task → exec → those).

use crate::code::{Code, CodeView};
use crate::exec::{self, Cpu};
use crate::exec_fast;
use crate::mem::{MEM_SIZE, Memory};
use crate::reg::Reg;
use crate::result::StepResult;
use crate::trace::TraceState;

/// Address rodata/initialised data is copied to in every task.
pub const RODATA_BASE: u32 = 0x4000;
/// Initial `sp` of an executive task (top of its stack).
pub const STACK_TOP: u32 = 0xFFFC;
/// Default executive stack size in bytes.
pub const DEFAULT_STACK_SIZE: u32 = 0x1000;
/// Initial `sp` of a standalone MiniVM.
pub const STANDALONE_SP: u32 = 0x8000;

/// Initial placement of a task (`vm.md` §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskConfig {
    /// Initial pc (byte offset into the code).
    pub entry: u32,
    /// Initial sp.
    pub sp: u32,
    /// Lowest legal sp; a CALL/PUSH that would go below it faults STACK_OVERFLOW.
    pub stack_limit: u32,
    /// ISA extension bits the task may execute (the image's `isa_ext`; [`crate::ISA_EXT1`]).
    /// Without a bit, that extension's opcodes are illegal exactly as in the base ISA.
    pub isa_ext: u32,
}

impl TaskConfig {
    /// Standalone MiniVM placement: sp = 0x8000, no stack guard.
    pub const fn standalone(entry: u32) -> TaskConfig {
        TaskConfig {
            entry,
            sp: STANDALONE_SP,
            stack_limit: 0,
            isa_ext: 0,
        }
    }

    /// Executive placement: sp = 0xFFFC, stack_limit = 0xFFFC − `stack_size`.
    pub const fn executive(entry: u32, stack_size: u32) -> TaskConfig {
        TaskConfig {
            entry,
            sp: STACK_TOP,
            stack_limit: STACK_TOP.saturating_sub(stack_size),
            isa_ext: 0,
        }
    }

    /// The same placement with ISA extension bits `isa_ext` enabled.
    pub const fn with_isa_ext(self, isa_ext: u32) -> TaskConfig {
        TaskConfig { isa_ext, ..self }
    }
}

/// One task's complete VM state. `C` is its code ([`crate::code`]), `M` its data memory
/// ([`crate::mem`]).
#[derive(Debug, Clone)]
pub struct Task<C, M> {
    cpu: Cpu,
    steps: u64,
    /// Watchdog limit (instructions between SVCs; 0 = off) and what is left of it; 32 bits
    /// keep the task small on a microcontroller (limits are clamped to `u32::MAX`).
    wd_limit: u32,
    wd_left: u32,
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
                isa_ext: cfg.isa_ext,
                depth: 0,
                psw: 0,
            },
            steps: 0,
            wd_limit: 0,
            wd_left: 0,
            trace: false,
            last: None,
            code,
            mem,
        }
    }

    /// Arms the watchdog: after `limit` instructions without an SVC the next instruction is
    /// not executed and [`Task::run`] reports [`Fault::Watchdog`](crate::Fault::Watchdog)
    /// (at its pc) until the watchdog is re-armed or fed. `0` turns it off. It costs nothing
    /// per instruction: the count is kept per `run` call.
    pub fn set_watchdog(&mut self, limit: u64) {
        self.wd_limit = u32::try_from(limit).unwrap_or(u32::MAX);
        self.wd_left = self.wd_limit;
    }

    /// Restarts the watchdog's count (a throttled task gets its full limit again).
    pub fn feed_watchdog(&mut self) {
        self.wd_left = self.wd_limit;
    }

    /// The watchdog's limit (0 = off) and the instructions left before it trips.
    pub fn watchdog(&self) -> (u64, u64) {
        (u64::from(self.wd_limit), u64::from(self.wd_left))
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
        if self.wd_limit == 0 {
            return self.run_inner(n);
        }
        if n == 0 {
            return (0, StepResult::Ok);
        }
        if self.wd_left == 0 {
            return (0, self.watchdog_fault());
        }
        let (done, r) = self.run_inner(n.min(u64::from(self.wd_left)));
        if matches!(r, StepResult::Svc { .. }) {
            self.wd_left = self.wd_limit;
        } else {
            // `done` never exceeds what was asked, which was at most `wd_left`.
            self.wd_left = self
                .wd_left
                .saturating_sub(u32::try_from(done).unwrap_or(u32::MAX));
            // Out of instructions before the caller's `n`: the next one is where it trips,
            // reported now as an unretired fault would be.
            if self.wd_left == 0 && done < n && r.is_ok() {
                return (done, self.watchdog_fault());
            }
        }
        (done, r)
    }

    fn watchdog_fault(&self) -> StepResult {
        StepResult::Fault {
            code: crate::result::Fault::Watchdog,
            pc: self.cpu.pc,
        }
    }

    // Inlined: strict round-robin calls `run(1)` per slice, so a call here would be paid on
    // the hot path (out of line it saved no flash either: measured with scripts/mcu.sh).
    #[inline]
    fn run_inner(&mut self, n: u64) -> (u64, StepResult) {
        let (done, r) = if cfg!(feature = "trace") && self.trace {
            self.run_traced(n)
        } else if let Some(ops) = self.code.decoded() {
            exec_fast::run(
                &mut self.cpu,
                ops,
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

    /// The traced loop, out of line so the untraced paths in [`Task::run`] keep a small frame.
    #[inline(never)]
    fn run_traced(&mut self, n: u64) -> (u64, StepResult) {
        exec::run::<_, M, true>(
            &mut self.cpu,
            self.code.view(),
            &mut self.mem,
            &mut self.last,
            n,
        )
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

    /// ISA extension bits this task executes (see [`TaskConfig::isa_ext`]).
    #[inline]
    pub fn isa_ext(&self) -> u32 {
        self.cpu.isa_ext
    }

    /// Change the ISA extension bits (e.g. when restoring a saved context).
    #[inline]
    pub fn set_isa_ext(&mut self, isa_ext: u32) {
        self.cpu.isa_ext = isa_ext;
    }

    /// Enable or disable trace-state recording for this task. While off, `run` takes the
    /// fast path and [`Task::last_trace`] keeps its previous value. Without the `trace`
    /// feature it stays off.
    #[inline]
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on && cfg!(feature = "trace");
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
