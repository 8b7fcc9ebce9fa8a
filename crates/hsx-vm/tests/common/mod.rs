//! Helpers shared by the integration tests.
#![allow(dead_code)]

use hsx_vm::isa::{Instr, Opcode};
use hsx_vm::{FlatMem, MEM_SIZE, Task, TaskConfig, WordCode};

/// The task type used by the tests (the executive's configuration).
pub type T = Task<WordCode<Vec<u32>>, FlatMem<Box<[u8; MEM_SIZE]>>>;

/// Encode one instruction.
pub fn ins(op: Opcode, rd: u8, rs1: u8, rs2: u8, imm: i32) -> u32 {
    Instr::new(op, rd, rs1, rs2, imm).encode()
}

/// A zeroed heap memory without a 64 KiB stack temporary.
pub fn heap_mem() -> FlatMem<Box<[u8; MEM_SIZE]>> {
    let b: Box<[u8; MEM_SIZE]> = vec![0u8; MEM_SIZE]
        .into_boxed_slice()
        .try_into()
        .expect("exact length");
    FlatMem(b)
}

/// A standalone task (sp 0x8000, no guard) running `words` from 0.
pub fn task(words: &[u32]) -> T {
    Task::new(
        WordCode(words.to_vec()),
        heap_mem(),
        &[],
        TaskConfig::standalone(0),
    )
}

/// An executive task (sp 0xFFFC, 4 KiB stack) running `words` from 0.
pub fn exec_task(words: &[u32]) -> T {
    Task::new(
        WordCode(words.to_vec()),
        heap_mem(),
        &[],
        TaskConfig::executive(0, hsx_vm::DEFAULT_STACK_SIZE),
    )
}
