//! What executing an instruction produced: [`StepResult`], the [`Fault`]s and the
//! `HSX_ERR_*` words a fault leaves in R0.

use core::fmt;

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
    /// The task's watchdog ([`crate::Task::set_watchdog`]) ran out: it executed its limit of
    /// instructions without an SVC. Raised before the next instruction, which is not
    /// executed; no register is written.
    Watchdog,
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
    /// `STACK_UNDERFLOW`, `ILLEGAL_OPCODE`, `PC_OUT_OF_RANGE`, `LDI32_OVERRUN`, `NO_TASK`,
    /// `WATCHDOG`).
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
            Fault::Watchdog => "WATCHDOG",
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
