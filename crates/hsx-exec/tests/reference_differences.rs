//! Behaviours that differ from the Python executive on purpose (docs/compatibility.md,
//! "Scheduling and memory"): each test pins one.

mod common;
use common::*;

use hsx_exec::{ExecConfig, TaskState};

/// Every task owns its stack: popping past the top of the task's memory faults that task
/// with STACK_UNDERFLOW (the reference, whose tasks share one space with stack tops 0x1000
/// apart, pops whatever lies above and goes on).
#[test]
fn a_pop_above_the_initial_stack_pointer_faults_the_task() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.op(Pop, 1, 0, 0, 0).op(Pop, 1, 0, 0, 0).ldi(0, 0).ret();
    let pid = load(&mut ex, &a.build(), &[]);
    ex.step(100);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.state, TaskState::Faulted, "{t:?}");
    assert!(
        t.fault
            .is_some_and(|f| f.name == "STACK_UNDERFLOW" && f.pc == 4),
        "{:?}",
        t.fault
    );
}

/// The RET at call depth 0 ends the task instead of executing: `step` does not count it
/// (the reference counts it, so its `step N` runs one instruction fewer of the others).
#[test]
fn the_final_ret_is_not_counted() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi(0, 5).ret();
    let pid = load(&mut ex, &a.build(), &[]);
    let s = ex.step(10);
    assert_eq!(s.executed, 1);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.state, t.exit_status), (TaskState::Returned, Some(5)));
}

/// Between step calls the task about to run is the `running` one (as in the reference).
#[test]
fn between_calls_the_next_task_is_the_running_one() {
    let (mut ex, _c) = exec();
    let a = load(&mut ex, &spin(), &[]);
    let b = load(&mut ex, &spin(), &[]);
    ex.step(1);
    let running: Vec<u32> = ex
        .tasks()
        .into_iter()
        .filter(|t| t.state == TaskState::Running)
        .map(|t| t.pid)
        .collect();
    assert_eq!(running, vec![b]);
    ex.step(1);
    assert_eq!(ex.task(a).unwrap().state, TaskState::Running);
}

/// Trace rings keep 4096 records per task by default (the reference keeps 256).
#[test]
fn the_default_trace_ring_holds_4096_records() {
    assert_eq!(ExecConfig::default().trace_capacity, 4096);
}
