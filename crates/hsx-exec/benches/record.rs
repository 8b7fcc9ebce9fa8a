//! Record/replay costs: the 8-task round-robin workload of `round_robin.rs` with and
//! without recording (default `RecordConfig`), and the latency of stepping back in a
//! recorded run of 10^8 instructions.
//!
//! `cargo bench -p hsx-exec --bench record`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hsx_exec::executive::record::RecordConfig;
use hsx_exec::{Backends, ExecConfig, Executive, FixedClock, LoadOptions, StopReason};
use hsx_image::Image;
use hsx_vm::isa::{Instr, Opcode};

const TASKS: usize = 8;
const PER_ITER: u64 = 8_000_000;
const LONG_RUN: u64 = 100_000_000;

/// `R1 += 1` forever, with a store of R1 every turn (so memory changes between snapshots).
fn spin_image() -> Image {
    use Opcode::*;
    let words = vec![
        Instr::new(Ldi, 1, 0, 0, 0).encode(),
        Instr::new(Ldi, 2, 0, 0, 1).encode(),
        Instr::new(Add, 1, 1, 2, 0).encode(),
        Instr::new(Jmp, 0, 0, 0, 8).encode(),
    ];
    let mut img = Image::new(Vec::new(), Vec::new(), 0);
    img.set_code_words(&words);
    img
}

fn executive() -> Option<(Executive, u32)> {
    let mut ex = Executive::new(ExecConfig::default(), Backends::new(FixedClock(0)));
    let img = spin_image();
    let mut first = 0;
    for i in 0..TASKS {
        let pid = ex.load_image(&img, LoadOptions::default()).ok()?.pid;
        if i == 0 {
            first = pid;
        }
    }
    Some((ex, first))
}

fn overhead(c: &mut Criterion) {
    let mut g = c.benchmark_group("record");
    g.throughput(Throughput::Elements(PER_ITER));
    g.sample_size(20);
    for (name, record) in [("rr8_q1", false), ("rr8_q1_recording", true)] {
        let Some((mut ex, _)) = executive() else {
            continue;
        };
        if record {
            ex.record_start(RecordConfig::default());
        }
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

fn step_back(c: &mut Criterion) {
    let Some((mut ex, pid)) = executive() else {
        return;
    };
    ex.record_start(RecordConfig::default());
    ex.step(LONG_RUN);
    let mut g = c.benchmark_group("record");
    g.sample_size(20);
    // Each iteration goes one more instruction of the task back, from the end of the run.
    g.bench_function("step_back_1_in_1e8", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let r = ex.step_back(pid, 1);
                total += t.elapsed();
                if r.is_err() {
                    let end = ex.record_status().map_or(LONG_RUN, |s| s.newest);
                    let _ = ex.travel_to(end);
                }
            }
            total
        })
    });
    g.bench_function("step_back_100k_in_1e8", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let end = ex.record_status().map_or(LONG_RUN, |s| s.newest);
                let _ = ex.travel_to(end);
                let t = Instant::now();
                let _ = black_box(ex.step_back(pid, 100_000));
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, overhead, step_back);
criterion_main!(benches);
