//! Executive throughput: 8 tasks round-robin, quantum 1 instruction, nothing draining events.
//!
//! `cargo bench -p hsx-exec --bench round_robin` (variant `full`) and
//! `cargo bench -p hsx-exec --bench round_robin --no-default-features --features minimal`.
//! Criterion prints instructions/s as throughput (elements = retired instructions).
//! `rr8_q1_traced` additionally traces every task (trace ring on; not in `minimal`);
//! `rr8_q1_strict` turns the run-ahead fast path off (`ExecConfig::run_ahead`), so every
//! instruction is a scheduler decision; `rr8_q1_svc` makes every task call an SVC
//! (CORE_GET_STEPS) every 4th instruction; `one_task` / `one_task_svc` are the same with a
//! single task (the reference for "8 tasks at quantum 1 cost no more than one", and the
//! per-SVC cost: (one_task_svc − one_task) time / (PER_ITER / 4)).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hsx_exec::{Backends, ExecConfig, Executive, FixedClock, LoadOptions, StopReason};
use hsx_image::Image;
use hsx_vm::isa::{Instr, Opcode};
use std::hint::black_box;

const TASKS: usize = 8;
const PER_ITER: u64 = 8_000_000;

/// `R1 += 1` forever: LDI, LDI, loop: ADD, JMP (with `svc`: ADD, ADD, SVC 0/0, JMP).
fn spin_image(svc: bool) -> Image {
    use Opcode::*;
    let mut words = vec![
        Instr::new(Ldi, 1, 0, 0, 0).encode(),
        Instr::new(Ldi, 2, 0, 0, 1).encode(),
        Instr::new(Add, 1, 1, 2, 0).encode(),
    ];
    if svc {
        words.push(Instr::new(Add, 1, 1, 2, 0).encode());
        words.push(Instr::new(Svc, 0, 0, 0, 0).encode());
    }
    words.push(Instr::new(Jmp, 0, 0, 0, 8).encode());
    let mut img = Image::new(Vec::new(), Vec::new(), 0);
    img.set_code_words(&words);
    img
}

fn executive(tasks: usize, trace: bool, strict: bool, svc: bool) -> Option<Executive> {
    let cfg = ExecConfig {
        run_ahead: !strict,
        ..ExecConfig::default()
    };
    let mut ex = Executive::new(cfg, Backends::new(FixedClock(0)));
    let img = spin_image(svc);
    for _ in 0..tasks {
        let pid = ex.load_image(&img, LoadOptions::default()).ok()?.pid;
        if trace {
            ex.set_trace(pid, Some(true)).ok()?;
        }
    }
    Some(ex)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("executive");
    g.throughput(Throughput::Elements(PER_ITER));
    g.sample_size(20);
    let cases = [
        ("rr8_q1", TASKS, false, false, false),
        ("rr8_q1_traced", TASKS, true, false, false),
        ("rr8_q1_strict", TASKS, false, true, false),
        ("rr8_q1_svc", TASKS, false, false, true),
        ("one_task", 1, false, false, false),
        ("one_task_svc", 1, false, false, true),
    ];
    for (name, tasks, trace, strict, svc) in cases {
        let Some(mut ex) = executive(tasks, trace, strict, svc) else {
            continue;
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let s = ex.step(black_box(PER_ITER));
                assert_eq!(s.stop, StopReason::Budget);
                black_box(s.executed)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
