//! ALU loop throughput: count to 10 M with ADD/CMP/JNZ via `Task::run`, plus the same loop
//! in 8 tasks switched round-robin with a quantum of one instruction (`Vm::set_context` +
//! `Vm::step`), the VM's share of the executive's scheduling loop.
//!
//! `cargo bench -p hsx-vm --bench alu_loop` — the instruction rate is criterion's
//! throughput (elements = retired instructions). `count_to_10M` runs the plain decoder
//! (`WordCode`, the microcontroller path), `count_to_10M_decoded` the pre-decoded loop.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hsx_vm::code::Words;
use hsx_vm::isa::{Instr, Opcode};
use hsx_vm::op::{Op, decode_ops};
use hsx_vm::{
    ArrayStore, Code, FlatMem, MEM_SIZE, Reg, StepResult, Task, TaskConfig, Vm, WordCode,
};
use std::hint::black_box;

const COUNT: u32 = 10_000_000;

type T<C = WordCode<Vec<u32>>> = Task<C, FlatMem<Box<[u8; MEM_SIZE]>>>;

/// Words plus their pre-decoded form (what `DecodedCode`, feature `alloc`, holds), so the
/// loop can be measured on the executive's desktop path too.
struct Decoded {
    words: Vec<u32>,
    ops: Vec<Op>,
}

impl Decoded {
    fn new(words: Vec<u32>) -> Self {
        let mut ops = vec![Op::default(); words.len()];
        decode_ops(&words, &mut ops);
        Decoded { words, ops }
    }
}

impl Code for Decoded {
    type View<'a> = Words<'a>;
    fn view(&self) -> Words<'_> {
        Words(&self.words)
    }
    fn decoded(&self) -> Option<&[Op]> {
        Some(&self.ops)
    }
}

/// R1 = counter, R2 = 1, R3 = limit; loop body at 0x10: ADD, CMP, JNZ (3 instructions).
fn program(count: u32) -> Vec<u32> {
    use Opcode::*;
    vec![
        Instr::new(Ldi, 1, 0, 0, 0).encode(),
        Instr::new(Ldi, 2, 0, 0, 1).encode(),
        Instr::new(Ldi32, 3, 0, 0, 0).encode(),
        count,
        Instr::new(Add, 1, 1, 2, 0).encode(), // 0x10
        Instr::new(Cmp, 0, 1, 3, 0).encode(),
        Instr::new(Jnz, 0, 0, 0, 0x10).encode(),
        Instr::new(Brk, 0, 0, 0, 0).encode(),
    ]
}

fn new_task(count: u32) -> T {
    new_task_with(WordCode(program(count)))
}

fn new_task_with<C: Code>(code: C) -> T<C> {
    let mem: Box<[u8; MEM_SIZE]> = vec![0u8; MEM_SIZE]
        .into_boxed_slice()
        .try_into()
        .expect("exact length");
    Task::new(code, FlatMem(mem), &[], TaskConfig::standalone(0))
}

fn alu_loop(c: &mut Criterion) {
    let total = 3 + 3 * u64::from(COUNT) + 1;
    let mut g = c.benchmark_group("alu_loop");
    g.throughput(Throughput::Elements(total));
    g.sample_size(20);
    g.bench_function("count_to_10M", |b| {
        let mut task = new_task(COUNT);
        b.iter(|| {
            task.reg_set(Reg::Pc, 0);
            let (n, r) = task.run(black_box(u64::MAX));
            assert_eq!(r, StepResult::Break { code: 0 });
            assert_eq!(n, total);
            black_box(task.regs()[1])
        })
    });
    g.bench_function("count_to_10M_decoded", |b| {
        let mut task = new_task_with(Decoded::new(program(COUNT)));
        b.iter(|| {
            task.reg_set(Reg::Pc, 0);
            let (n, r) = task.run(black_box(u64::MAX));
            assert_eq!(r, StepResult::Break { code: 0 });
            assert_eq!(n, total);
            black_box(task.regs()[1])
        })
    });
    g.finish();
}

fn round_robin(c: &mut Criterion) {
    const TASKS: usize = 8;
    const ROUNDS: u64 = 200_000;
    let mut g = c.benchmark_group("round_robin");
    g.throughput(Throughput::Elements(ROUNDS * TASKS as u64));
    g.sample_size(20);
    g.bench_function("8_tasks_quantum_1", |b| {
        let store: ArrayStore<_, _, TASKS> = std::array::from_fn(|_| Some(new_task(u32::MAX)));
        let mut vm = Vm::new(store);
        b.iter(|| {
            for _ in 0..ROUNDS {
                for slot in 0..TASKS {
                    let _ = vm.set_context(slot);
                    let r = vm.step();
                    debug_assert_eq!(r, StepResult::Ok);
                }
            }
            black_box(vm.steps())
        })
    });
    g.finish();
}

criterion_group!(benches, alu_loop, round_robin);
criterion_main!(benches);
