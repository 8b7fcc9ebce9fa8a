//! The fast path (tasks run ahead between SVCs, bulk-committed rounds) must be exact: one big
//! `step(n)` has to end in the same state, with the same events, as `n` calls of `step(1)`
//! (which never takes the fast path).

mod common;
use common::*;

use hsx_exec::{Event, EventKind, Executive, StopReason, TaskInfo};
use proptest::prelude::*;

const TARGET: u32 = 0x4000; // "app:q\0"
const PAYLOAD: u32 = 0x4010;

fn rodata() -> Vec<u8> {
    let mut r = vec![0u8; 0x20];
    r[..6].copy_from_slice(b"app:q\0");
    r[0x10..0x14].copy_from_slice(b"ping");
    r
}

/// Open app:q, then `n` times: spin `k`, send 4 bytes; return the count.
fn producer(k: i32, n: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi32(1, TARGET)
        .svc(5, 0)
        .mov(6, 1)
        .ldi(7, 0)
        .ldi(8, n)
        .ldi(9, 1);
    let top = a.here();
    a.ldi(10, k);
    let inner = a.here();
    a.sub(10, 10, 9).jnz(inner);
    a.mov(1, 6)
        .ldi32(2, PAYLOAD)
        .ldi(3, 4)
        .ldi(4, 0)
        .ldi(5, 0)
        .svc(5, 2);
    a.add(7, 7, 9).cmp(7, 8).jnz(top).mov(0, 7).ret();
    a.build()
}

/// Open app:q, receive `m` messages blocking forever, sum the lengths, return the sum.
fn consumer(m: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi32(1, TARGET)
        .svc(5, 0)
        .mov(6, 1)
        .ldi(7, 0)
        .ldi(8, m)
        .ldi(9, 1)
        .ldi(11, 0);
    let top = a.here();
    a.mov(1, 6)
        .ldi32(2, 0x5000)
        .ldi(3, 16)
        .ldi32(4, 0xFFFF)
        .ldi(5, 0)
        .svc(5, 3);
    a.add(11, 11, 1)
        .add(7, 7, 9)
        .cmp(7, 8)
        .jnz(top)
        .mov(0, 11)
        .ret();
    a.build()
}

/// Print one byte every `k` iterations, `n` times, via UART.
fn printer(k: i32, n: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi(7, 0).ldi(8, n).ldi(9, 1);
    let top = a.here();
    a.ldi(10, k);
    let inner = a.here();
    a.sub(10, 10, 9).jnz(inner);
    a.ldi32(1, PAYLOAD).ldi(2, 1).svc(1, 1);
    a.add(7, 7, 9).cmp(7, 8).jnz(top).ldi(0, 0).ret();
    a.build()
}

/// `n` times: spin `k`, then CORE_GET_STEPS (SVC 0,0) and an unknown module-0 function
/// (ENOSYS); exits with the sum of both answers, so every step count shows in the status.
fn stepper(k: i32, n: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi(7, 0).ldi(8, n).ldi(9, 1).ldi(11, 0);
    let top = a.here();
    a.ldi(10, k);
    let inner = a.here();
    a.sub(10, 10, 9).jnz(inner);
    a.svc(0, 0).add(11, 11, 0).svc(0, 3).add(11, 11, 0);
    a.add(7, 7, 9).cmp(7, 8).jnz(top).mov(0, 11).ret();
    a.build()
}

/// Divide by zero after `k` loop iterations.
fn faulter(k: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi(9, 1).ldi(10, k);
    let inner = a.here();
    a.sub(10, 10, 9).jnz(inner);
    a.ldi(2, 0).div(3, 9, 2).ret();
    a.build()
}

struct Workload {
    programs: Vec<(Vec<u32>, u32)>, // code, quantum
}

fn setup(w: &Workload) -> Executive {
    setup_with(w, true)
}

fn setup_with(w: &Workload, run_ahead: bool) -> Executive {
    // step(1) makes one `scheduler` event per call: keep them all in every variant.
    let (mut ex, _clock) = exec_with(hsx_exec::ExecConfig {
        event_capacity: 1 << 20,
        run_ahead,
        ..hsx_exec::ExecConfig::default()
    });
    for (code, q) in &w.programs {
        let pid = load(&mut ex, code, &rodata());
        ex.sched(pid, Some(*q), None).unwrap();
    }
    ex
}

/// Everything observable except `scheduler` events (one per call, so they depend on the
/// call granularity by definition).
fn observe(ex: &mut Executive) -> (Vec<TaskInfo>, Vec<(Option<u32>, EventKind)>) {
    let ev: Vec<Event> = ex.drain_events();
    let ev = ev
        .into_iter()
        .filter(|e| !matches!(e.kind, EventKind::Scheduler(_)))
        .map(|e| (e.pid, e.kind))
        .collect();
    (ex.tasks(), ev)
}

fn compare(w: &Workload, budget: u64) {
    let mut slow = setup(w);
    let mut slow_total = 0;
    for _ in 0..budget {
        let s = slow.step(1);
        slow_total += s.executed;
        if s.executed == 0 {
            break;
        }
    }
    let mut fast = setup(w);
    let s = fast.step(budget);
    assert_eq!(s.executed, slow_total, "executed");
    let mut strict = setup_with(w, false);
    assert_eq!(strict.step(budget).executed, slow_total);
    let (tt, et) = observe(&mut strict);
    let mut chunked = setup(w);
    let mut chunked_total = 0;
    while chunked_total < budget {
        let s = chunked.step(97.min(budget - chunked_total));
        chunked_total += s.executed;
        if s.executed == 0 {
            break;
        }
    }
    assert_eq!(chunked_total, slow_total);
    let (ts, es) = observe(&mut slow);
    let (tf, ef) = observe(&mut fast);
    let (tc, ec) = observe(&mut chunked);
    assert_eq!(tt, ts, "task state (run_ahead off vs step(1))");
    assert_eq!(et, es, "events (run_ahead off vs step(1))");
    assert_eq!(tf, ts, "task state (fast vs step(1))");
    assert_eq!(tc, ts, "task state (chunked vs step(1))");
    assert_eq!(ef, es, "events (fast vs step(1))");
    assert_eq!(ec, es, "events (chunked vs step(1))");
    assert_eq!(fast.mailbox_snapshot(), slow.mailbox_snapshot());
}

#[test]
fn compute_only_tasks_match() {
    let w = Workload {
        programs: vec![(spin(), 1), (spin(), 2), (count_to(500), 1), (spin(), 3)],
    };
    compare(&w, 5000);
}

#[test]
fn mailbox_traffic_with_blocking_receiver_matches() {
    let w = Workload {
        programs: vec![
            (producer(7, 30), 1),
            (consumer(25), 1),
            (spin(), 1),
            (printer(11, 9), 2),
            (faulter(40), 1),
            (stepper(5, 40), 1),
        ],
    };
    compare(&w, 6000);
}

#[test]
fn fast_path_is_taken_and_leaves_no_bank() {
    let (mut ex, _c) = exec();
    for _ in 0..8 {
        load(&mut ex, &spin(), &[]);
    }
    let s = ex.step(1_000_000);
    assert_eq!(s.executed, 1_000_000);
    assert_eq!(s.stop, StopReason::Budget);
    for t in ex.tasks() {
        assert_eq!(t.steps, 125_000);
        assert_eq!(t.counters.step, 125_000);
        assert_eq!(t.counters.rotate, 125_000 + u64::from(t.pid == 1));
    }
    assert_eq!(ex.current_pid(), Some(1));
}

#[test]
fn task_local_svcs_keep_the_window_going() {
    let w = Workload {
        programs: vec![(stepper(3, 500), 1), (stepper(1, 300), 2), (spin(), 1)],
    };
    compare(&w, 20_000);
}

#[test]
fn brk_ends_the_call_even_with_fast_path_tasks() {
    let (mut ex, _c) = exec();
    load(&mut ex, &spin(), &[]);
    let mut p = Asm::new();
    p.ldi(1, 0).ldi(2, 1).ldi(3, 200);
    let top = p.here();
    p.add(1, 1, 2).cmp(1, 3).jnz(top).brk(9).ret();
    let b = load(&mut ex, &p.build(), &[]);
    let s = ex.step(100_000);
    let br = s.debug_break.expect("break");
    assert_eq!(br.pid, b);
    assert_eq!(s.stop, StopReason::DebugBreak(br));
    assert_eq!(s.executed, 2 * 604, "stopped right at the BRK");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_workloads_match(
        k1 in 1i32..20, n1 in 1i32..25, m in 0i32..25, k2 in 1i32..15, n2 in 1i32..10,
        kf in 1i32..200, q1 in 1u32..4, q2 in 1u32..4, q3 in 1u32..4, budget in 100u64..3000,
        extra in 0usize..3,
    ) {
        let mut programs = vec![
            (producer(k1, n1), q1),
            (consumer(m), q2),
            (printer(k2, n2), q3),
            (faulter(kf), 1),
            (stepper(k2, n1), q2),
        ];
        for _ in 0..extra {
            programs.push((spin(), q1));
        }
        compare(&Workload { programs }, budget);
    }
}
