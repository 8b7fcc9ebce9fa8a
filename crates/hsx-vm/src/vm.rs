//! The multi-task VM: a [`TaskStore`] of contexts plus the selected slot.

use core::fmt;

use crate::code::Code;
use crate::mem::Memory;
use crate::reg::Reg;
use crate::result::{Fault, StepResult};
use crate::task::Task;

/// Caller-provided storage of task contexts, addressed by slot index. The VM never
/// allocates; it only borrows a task by slot. Implemented for:
///
/// * `[Option<Task<C, M>>; N]` ([`ArrayStore`]) — fixed capacity, no allocation;
/// * `Task<C, M>` — a single task in slot 0 (standalone MiniVM);
/// * `Vec<Option<Box<Task<C, M>>>>` — with feature `alloc` (executive);
/// * `&mut S` for any store `S`.
pub trait TaskStore {
    /// Code type of the tasks.
    type Code: Code;
    /// Memory type of the tasks.
    type Mem: Memory;
    /// The task in `slot`, if any.
    fn task(&self, slot: usize) -> Option<&Task<Self::Code, Self::Mem>>;
    /// The task in `slot`, mutably, if any.
    fn task_mut(&mut self, slot: usize) -> Option<&mut Task<Self::Code, Self::Mem>>;
}

/// The task type stored in `S`.
pub type TaskOf<S> = Task<<S as TaskStore>::Code, <S as TaskStore>::Mem>;

/// A fixed-capacity, allocation-free store of `N` task slots.
pub type ArrayStore<C, M, const N: usize> = [Option<Task<C, M>>; N];

/// An [`ArrayStore`] with every slot empty.
pub fn empty_array_store<C, M, const N: usize>() -> ArrayStore<C, M, N> {
    core::array::from_fn(|_| None)
}

impl<C: Code, M: Memory, const N: usize> TaskStore for [Option<Task<C, M>>; N] {
    type Code = C;
    type Mem = M;
    #[inline]
    fn task(&self, slot: usize) -> Option<&Task<C, M>> {
        self.get(slot)?.as_ref()
    }
    #[inline]
    fn task_mut(&mut self, slot: usize) -> Option<&mut Task<C, M>> {
        self.get_mut(slot)?.as_mut()
    }
}

impl<C: Code, M: Memory> TaskStore for Task<C, M> {
    type Code = C;
    type Mem = M;
    #[inline]
    fn task(&self, slot: usize) -> Option<&Task<C, M>> {
        (slot == 0).then_some(self)
    }
    #[inline]
    fn task_mut(&mut self, slot: usize) -> Option<&mut Task<C, M>> {
        (slot == 0).then_some(self)
    }
}

impl<S: TaskStore + ?Sized> TaskStore for &mut S {
    type Code = S::Code;
    type Mem = S::Mem;
    #[inline]
    fn task(&self, slot: usize) -> Option<&TaskOf<S>> {
        (**self).task(slot)
    }
    #[inline]
    fn task_mut(&mut self, slot: usize) -> Option<&mut TaskOf<S>> {
        (**self).task_mut(slot)
    }
}

#[cfg(feature = "alloc")]
impl<C: Code, M: Memory> TaskStore for alloc::vec::Vec<Option<alloc::boxed::Box<Task<C, M>>>> {
    type Code = C;
    type Mem = M;
    #[inline]
    fn task(&self, slot: usize) -> Option<&Task<C, M>> {
        self.get(slot)?.as_deref()
    }
    #[inline]
    fn task_mut(&mut self, slot: usize) -> Option<&mut Task<C, M>> {
        self.get_mut(slot)?.as_deref_mut()
    }
}

/// [`Vm::set_context`] was given an empty slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoTask(pub usize);

impl fmt::Display for NoTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no task in slot {}", self.0)
    }
}

impl core::error::Error for NoTask {}

/// The MiniVM: every task's context (in `S`) and the currently selected slot.
///
/// Switching context is O(1) and copies nothing: [`Vm::set_context`] only records the
/// slot. `step`/`run` and the register accessors act on the selected task; the
/// `task`/`task_mut`/`read_mem`/`write_mem` methods reach any slot without switching.
#[derive(Debug, Clone)]
pub struct Vm<S> {
    store: S,
    current: usize,
}

impl<S: TaskStore> Vm<S> {
    /// A VM over `store`, with slot 0 selected.
    pub const fn new(store: S) -> Vm<S> {
        Vm { store, current: 0 }
    }

    /// Select the task in `slot`. O(1), nothing copied. Fails (selection unchanged) if the
    /// slot is empty.
    #[inline]
    pub fn set_context(&mut self, slot: usize) -> Result<(), NoTask> {
        if self.store.task(slot).is_some() {
            self.current = slot;
            Ok(())
        } else {
            Err(NoTask(slot))
        }
    }

    /// The selected slot.
    #[inline]
    pub fn context(&self) -> usize {
        self.current
    }

    /// The selected task (`None` if its slot has been emptied since selection).
    #[inline]
    pub fn current(&self) -> Option<&TaskOf<S>> {
        self.store.task(self.current)
    }

    /// The selected task, mutably.
    #[inline]
    pub fn current_mut(&mut self) -> Option<&mut TaskOf<S>> {
        self.store.task_mut(self.current)
    }

    /// The task in any slot, without switching.
    #[inline]
    pub fn task(&self, slot: usize) -> Option<&TaskOf<S>> {
        self.store.task(slot)
    }

    /// The task in any slot, mutably, without switching.
    #[inline]
    pub fn task_mut(&mut self, slot: usize) -> Option<&mut TaskOf<S>> {
        self.store.task_mut(slot)
    }

    /// Execute one instruction of the selected task (see [`Task::step`]). An empty slot
    /// yields `Fault { code: Fault::NoTask, pc: 0 }`.
    #[inline]
    pub fn step(&mut self) -> StepResult {
        self.run(1).1
    }

    /// Execute up to `n` instructions of the selected task (see [`Task::run`]).
    #[inline]
    pub fn run(&mut self, n: u64) -> (u64, StepResult) {
        match self.store.task_mut(self.current) {
            Some(t) => t.run(n),
            None => (
                0,
                StepResult::Fault {
                    code: Fault::NoTask,
                    pc: 0,
                },
            ),
        }
    }

    /// Read a register of the selected task (0 if there is none).
    #[inline]
    pub fn reg_get(&self, r: Reg) -> u32 {
        self.current().map_or(0, |t| t.reg_get(r))
    }

    /// Write a register of the selected task (ignored if there is none).
    #[inline]
    pub fn reg_set(&mut self, r: Reg, v: u32) {
        if let Some(t) = self.current_mut() {
            t.reg_set(r, v);
        }
    }

    /// Retired-instruction count of the selected task (0 if none).
    #[inline]
    pub fn steps(&self) -> u64 {
        self.current().map_or(0, |t| t.steps())
    }

    /// Call depth of the selected task (0 if none).
    #[inline]
    pub fn call_depth(&self) -> u32 {
        self.current().map_or(0, |t| t.call_depth())
    }

    /// Host read of any slot's memory (see [`Task::read_mem`]); 0 for an empty slot.
    pub fn read_mem(&self, slot: usize, addr: u32, buf: &mut [u8]) -> usize {
        self.store.task(slot).map_or(0, |t| t.read_mem(addr, buf))
    }

    /// Host write of any slot's memory (see [`Task::write_mem`]); 0 for an empty slot.
    pub fn write_mem(&mut self, slot: usize, addr: u32, data: &[u8]) -> usize {
        self.store
            .task_mut(slot)
            .map_or(0, |t| t.write_mem(addr, data))
    }

    /// The store.
    #[inline]
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (to add or remove tasks).
    #[inline]
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Give the store back.
    pub fn into_store(self) -> S {
        self.store
    }
}
