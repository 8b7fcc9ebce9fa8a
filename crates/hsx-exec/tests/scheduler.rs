//! Scheduler behaviour: fairness, quantum, priority, exits, faults, sleep, pause/resume,
//! kill, transitions and `scheduler` events.

mod common;
use common::*;

use hsx_exec::event::{FaultInfo, SwitchReason};
use hsx_exec::status::HSX_ERR_DIV_ZERO;
use hsx_exec::{EventKind, ExecConfig, ExecError, Reg, StateReason, StopReason, TaskState};

#[test]
fn executive_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<hsx_exec::Executive>();
}

#[test]
fn round_robin_is_fair_over_n_tasks() {
    let (mut ex, _c) = exec();
    let pids: Vec<u32> = (0..5).map(|_| load(&mut ex, &spin(), &[])).collect();
    assert_eq!(pids, vec![1, 2, 3, 4, 5]);
    let s = ex.step(5 * 1000);
    assert_eq!(s.executed, 5000);
    assert_eq!(s.stop, StopReason::Budget);
    for p in &pids {
        assert_eq!(ex.task(*p).unwrap().steps, 1000, "pid {p}");
    }
    // Single-instruction quantum: strictly alternating, first loaded first.
    let mut order = Vec::new();
    for _ in 0..10 {
        order.push(ex.step(1).last_pid.unwrap());
    }
    assert_eq!(order, vec![1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
}

#[test]
fn per_task_quantum_is_honoured() {
    let (mut ex, _c) = exec();
    let a = load(&mut ex, &spin(), &[]);
    let b = load(&mut ex, &spin(), &[]);
    ex.sched(a, Some(3), None).unwrap();
    let order: Vec<u32> = (0..8).map(|_| ex.step(1).last_pid.unwrap()).collect();
    assert_eq!(order, vec![a, a, a, b, a, a, a, b]);
    // One big step keeps the same proportion.
    let before_a = ex.task(a).unwrap().steps;
    let before_b = ex.task(b).unwrap().steps;
    ex.step(400);
    assert_eq!(ex.task(a).unwrap().steps - before_a, 300);
    assert_eq!(ex.task(b).unwrap().steps - before_b, 100);
    // Quantum 0 is clamped to 1.
    assert_eq!(ex.sched(b, Some(0), Some(3)).unwrap().quantum, 1);
}

#[test]
fn priority_overlay_runs_highest_first_and_round_robins_equals() {
    let (mut ex, _c) = exec_with(ExecConfig {
        priority_scheduling: true,
        ..ExecConfig::default()
    });
    let low = load(&mut ex, &spin(), &[]);
    let hi1 = load(&mut ex, &count_to(5), &[]);
    let hi2 = load(&mut ex, &count_to(5), &[]);
    ex.sched(hi1, None, Some(20)).unwrap();
    ex.sched(hi2, None, Some(20)).unwrap();
    let order: Vec<u32> = (0..4).map(|_| ex.step(1).last_pid.unwrap()).collect();
    assert_eq!(order, vec![hi1, hi2, hi1, hi2]);
    ex.step(100);
    assert_eq!(ex.state(hi1).unwrap(), TaskState::Returned);
    assert_eq!(ex.state(hi2).unwrap(), TaskState::Returned);
    assert_eq!(ex.task(hi1).unwrap().exit_status, Some(5));
    // The low-priority task only ran once both were done.
    let low_steps = ex.task(low).unwrap().steps;
    let hi_steps = ex.task(hi1).unwrap().steps + ex.task(hi2).unwrap().steps;
    assert_eq!(low_steps + hi_steps, 104);
}

#[test]
fn ret_at_depth_zero_and_task_exit_both_return_with_status() {
    let (mut ex, _c) = exec();
    let a = load(&mut ex, &count_to(3), &[]);
    let mut p = Asm::new();
    p.ldi(0, 7).svc(1, 0).ldi(0, 99).ret();
    let b = load(&mut ex, &p.build(), &[]);
    let s = ex.step(1000);
    assert_eq!(s.stop, StopReason::AllDone);
    assert!(ex.all_done());
    let ta = ex.task(a).unwrap();
    assert_eq!((ta.state, ta.exit_status), (TaskState::Returned, Some(3)));
    let tb = ex.task(b).unwrap();
    assert_eq!((tb.state, tb.exit_status), (TaskState::Returned, Some(7)));
    assert_eq!(tb.pc, 8, "TASK_EXIT retires the SVC");
    assert_eq!(tb.steps, 2);
    let ev = ex.drain_events();
    let returned: Vec<_> = ev
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TaskState {
                new_state: TaskState::Returned,
                reason: StateReason::Returned,
                details,
                ..
            } => Some((e.pid, details.exit_status)),
            _ => None,
        })
        .collect();
    assert_eq!(returned, vec![(Some(b), Some(7)), (Some(a), Some(3))]);
}

#[test]
fn fault_stops_only_that_task_which_stays_inspectable() {
    let (mut ex, _c) = exec();
    let mut p = Asm::new();
    p.ldi(1, 1).ldi(2, 0).div(3, 1, 2).ret();
    let bad = load(&mut ex, &p.build(), &[]);
    let good = load(&mut ex, &count_to(50), &[]);
    let s = ex.step(10_000);
    assert_eq!(s.stop, StopReason::AllDone);
    let t = ex.task(bad).unwrap();
    assert_eq!(t.state, TaskState::Faulted);
    assert_eq!(
        t.fault,
        Some(FaultInfo {
            code: HSX_ERR_DIV_ZERO,
            name: "DIV_ZERO",
            pc: 8
        })
    );
    assert_eq!(t.regs[0], HSX_ERR_DIV_ZERO);
    assert_eq!(t.pc, 8);
    assert_eq!(t.steps, 2, "the faulting DIV is never retried");
    assert_eq!(ex.task(good).unwrap().exit_status, Some(50));
    ex.step(100);
    assert_eq!(ex.task(bad).unwrap().steps, 2);
    // Still inspectable until killed.
    assert_eq!(ex.reg_get(bad, Reg::R1).unwrap(), 1);
    assert_eq!(ex.read_mem(bad, 0xFFF0, 4).unwrap().len(), 4);
    let ev = ex.drain_events();
    assert!(ev.iter().any(
        |e| e.pid == Some(bad) && matches!(e.kind, EventKind::Fault(f) if f.name == "DIV_ZERO")
    ));
    assert!(ev.iter().any(|e| e.pid == Some(bad)
        && matches!(
            &e.kind,
            EventKind::TaskState {
                new_state: TaskState::Faulted,
                reason: StateReason::Fault,
                ..
            }
        )));
    // A faulted task can't be resumed, only killed.
    assert!(matches!(
        ex.resume(bad),
        Err(ExecError::InvalidTransition(_))
    ));
    assert!(matches!(
        ex.pause(bad),
        Err(ExecError::InvalidTransition(_))
    ));
    assert_eq!(ex.kill(bad).unwrap().state, TaskState::Killed);
    assert!(!ex.has_task(bad));
}

#[test]
fn illegal_opcode_and_pc_out_of_range_fault() {
    let (mut ex, _c) = exec();
    let a = load(&mut ex, &[0x0500_0000], &[]);
    let b = load(&mut ex, &[w(Jmp, 0, 0, 0, 0x100)], &[]);
    ex.step(10);
    let ta = ex.task(a).unwrap();
    assert_eq!(
        ta.fault.map(|f| (f.name, f.pc)),
        Some(("ILLEGAL_OPCODE", 0))
    );
    assert_eq!(ta.fault.unwrap().code, FaultInfo::ILLEGAL_OPCODE);
    let tb = ex.task(b).unwrap();
    assert_eq!(
        tb.fault.map(|f| (f.name, f.pc)),
        Some(("PC_OUT_OF_RANGE", 0x100))
    );
}

#[test]
fn sleep_wakes_on_the_virtual_clock_and_blocked_reports_the_deadline() {
    let (mut ex, clock) = exec();
    let mut p = Asm::new();
    p.ldi(0, 100).svc(6, 0).ldi(0, 5).ret();
    let pid = load(&mut ex, &p.build(), &[]);
    let s = ex.step(100);
    assert_eq!(s.executed, 2);
    assert_eq!(
        s.stop,
        StopReason::Blocked {
            next_deadline_ms: Some(1100)
        }
    );
    let t = ex.task(pid).unwrap();
    assert_eq!(t.state, TaskState::Sleeping);
    assert_eq!(t.regs[0], 0, "EXEC_SLEEP_MS clears R0");
    assert_eq!(t.sleep.map(|s| s.deadline_ms), Some(1100));
    assert_eq!(ex.next_deadline(), Some(1100));
    clock.advance(99);
    assert_eq!(ex.step(100).executed, 0);
    clock.advance(1);
    let s = ex.step(100);
    assert_eq!(s.executed, 1);
    assert_eq!(s.stop, StopReason::AllDone);
    assert_eq!(ex.task(pid).unwrap().exit_status, Some(5));
    let reasons: Vec<StateReason> = ex
        .drain_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::TaskState { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            StateReason::Loaded,
            StateReason::Sleep,
            StateReason::SleepWake,
            StateReason::Returned
        ]
    );
    let c = ex.task(pid).unwrap().counters;
    assert_eq!((c.block, c.wake), (1, 1));
}

#[test]
fn sleep_zero_is_a_no_op_and_others_run_while_one_sleeps() {
    let (mut ex, clock) = exec();
    let mut p = Asm::new();
    p.ldi(0, 0).svc(6, 0).ldi(0, 50).svc(6, 0).ldi(0, 1).ret();
    let sleeper = load(&mut ex, &p.build(), &[]);
    let worker = load(&mut ex, &count_to(20), &[]);
    ex.step(1000);
    assert_eq!(ex.state(sleeper).unwrap(), TaskState::Sleeping);
    assert_eq!(ex.task(worker).unwrap().exit_status, Some(20));
    clock.advance(50);
    ex.step(10);
    assert_eq!(ex.task(sleeper).unwrap().exit_status, Some(1));
}

#[test]
fn pause_and_resume() {
    let (mut ex, _c) = exec();
    let a = load(&mut ex, &spin(), &[]);
    let b = load(&mut ex, &spin(), &[]);
    ex.step(10);
    assert_eq!(ex.pause(a).unwrap().state, TaskState::Paused);
    let before = ex.task(a).unwrap().steps;
    let s = ex.step(20);
    assert_eq!(s.executed, 20);
    assert_eq!(ex.task(a).unwrap().steps, before);
    // Pausing twice is allowed (forced event with prev == new).
    ex.pause(a).unwrap();
    let ev = ex.drain_events();
    assert!(ev.iter().any(|e| matches!(
        &e.kind,
        EventKind::TaskState {
            prev_state: Some(TaskState::Paused),
            new_state: TaskState::Paused,
            ..
        }
    )));
    // Resume makes it current at once.
    let info = ex.resume(a).unwrap();
    assert_eq!(info.state, TaskState::Running);
    assert!(info.current);
    assert_eq!(ex.step(1).last_pid, Some(a));
    // Resuming a live task that is not paused is a no-op.
    let before = ex.task(b).unwrap().last_transition;
    assert!(ex.resume(b).unwrap().state.is_runnable());
    assert_eq!(ex.task(b).unwrap().last_transition, before);
    // Only paused tasks left: the step call says so.
    ex.pause(a).unwrap();
    ex.pause(b).unwrap();
    assert_eq!(ex.step(5).stop, StopReason::Paused);
}

#[test]
fn paused_sleeper_keeps_its_sleep_and_resumes_ready_after_it() {
    let (mut ex, clock) = exec();
    let mut p = Asm::new();
    p.ldi(0, 30).svc(6, 0).ldi(0, 3).ret();
    let pid = load(&mut ex, &p.build(), &[]);
    ex.step(2);
    ex.pause(pid).unwrap();
    // Resume before the deadline: back to sleeping (PAUSED -> READY -> SLEEPING).
    assert_eq!(ex.resume(pid).unwrap().state, TaskState::Sleeping);
    ex.pause(pid).unwrap();
    clock.advance(30);
    ex.step(5);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.state, TaskState::Paused);
    assert!(t.sleep.is_none(), "the sleep ended while paused");
    assert_eq!(ex.resume(pid).unwrap().state, TaskState::Running);
    ex.step(5);
    assert_eq!(ex.task(pid).unwrap().exit_status, Some(3));
}

#[test]
fn invalid_transitions_are_errors_not_panics() {
    let (mut ex, _c) = exec();
    let pid = load(&mut ex, &count_to(1), &[]);
    ex.step(100);
    let err = ex.resume(pid).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("invalid_state_transition:returned->running:pid={pid}")
    );
    assert!(ex.pause(pid).is_err());
    assert_eq!(ex.kill(999).unwrap_err().to_string(), "unknown pid 999");
    assert!(TaskState::can_transition(
        Some(TaskState::WaitMbx),
        TaskState::Ready
    ));
    assert!(!TaskState::can_transition(
        Some(TaskState::Terminated),
        TaskState::Running
    ));
}

#[test]
fn transitions_are_recorded_with_counters() {
    let (mut ex, _c) = exec();
    let a = load(&mut ex, &spin(), &[]);
    let b = load(&mut ex, &spin(), &[]);
    let t = ex.task(a).unwrap().last_transition.unwrap();
    assert_eq!(
        (t.from, t.to, t.reason),
        (None, TaskState::Ready, StateReason::Loaded)
    );
    ex.step(4);
    // a, b, a, b ran; the slice is handed on as soon as it is used up, so a is current.
    let ta = ex.task(a).unwrap();
    assert_eq!(ta.counters.step, 2);
    assert_eq!(ta.counters.rotate, 3);
    assert_eq!(ta.state, TaskState::Running);
    assert!(ta.current);
    let tb = ex.task(b).unwrap();
    assert_eq!(tb.counters.step, 2);
    let tr = tb.last_transition.unwrap();
    assert_eq!(
        (tr.from, tr.to),
        (Some(TaskState::Running), TaskState::Ready)
    );
    assert_eq!(tr.reason, StateReason::QuantumExpired);
    assert_eq!(ex.current_pid(), Some(a));
}

#[test]
fn a_single_busy_task_gets_one_scheduler_event_per_step_call() {
    let (mut ex, _c) = exec();
    let a = load(&mut ex, &spin(), &[]);
    ex.step(5);
    ex.drain_events();
    for _ in 0..3 {
        ex.step(100);
    }
    let s: Vec<_> = ex
        .drain_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Scheduler(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(s.len(), 3, "{s:?}");
    assert!(
        s.iter()
            .all(|s| (s.prev_pid, s.next_pid, s.reason, s.executed)
                == (a, Some(a), SwitchReason::Budget, 100))
    );
    // A pass that runs nothing and changes nothing says nothing.
    ex.pause(a).unwrap();
    ex.step(10);
    ex.drain_events();
    ex.step(10);
    assert!(
        !ex.drain_events()
            .iter()
            .any(|e| matches!(e.kind, EventKind::Scheduler(_)))
    );
}

#[test]
fn scheduler_event_once_per_step_call_with_reason() {
    let (mut ex, _c) = exec();
    let a = load(&mut ex, &spin(), &[]);
    let mut p = Asm::new();
    p.ldi(0, 10).svc(6, 0).ldi(0, 0).ret();
    let b = load(&mut ex, &p.build(), &[]);
    ex.sched(a, Some(4), None).unwrap();
    ex.sched(b, Some(2), None).unwrap();
    ex.step(1); // a runs, stays current (slice left)
    ex.drain_events();
    ex.step(3); // a's slice runs out; b is next
    let sw = |ev: &[hsx_exec::Event]| -> Vec<_> {
        ev.iter()
            .filter_map(|e| match e.kind {
                EventKind::Scheduler(s) => Some(s),
                _ => None,
            })
            .collect()
    };
    let s = sw(&ex.drain_events());
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].prev_pid, s[0].next_pid), (a, Some(b)));
    assert_eq!(s[0].reason, SwitchReason::QuantumExpired);
    assert_eq!(s[0].quantum_remaining, Some(0));
    assert_eq!(s[0].post_state, Some(TaskState::Ready));
    assert_eq!(s[0].executed, 3);
    ex.step(2); // b: LDI, SVC sleep -> a next
    let s = sw(&ex.drain_events());
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].prev_pid, s[0].next_pid), (b, Some(a)));
    assert_eq!(s[0].reason, SwitchReason::Sleep);
    assert_eq!(s[0].post_state, Some(TaskState::Sleeping));
    // Kill the current task: reason killed.
    ex.step(1);
    ex.drain_events();
    ex.kill(a).unwrap();
    ex.step(1);
    let s = sw(&ex.drain_events());
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].reason, SwitchReason::Killed);
    assert_eq!(s[0].post_state, None);
}

#[test]
fn kill_removes_the_task_and_frees_its_slot() {
    let (mut ex, _c) = exec();
    let a = load(&mut ex, &spin(), &[]);
    let b = load(&mut ex, &spin(), &[]);
    assert_eq!(ex.task(a).unwrap().reg_base, 0x1000);
    assert_eq!(ex.task(b).unwrap().reg_base, 0x1040);
    ex.step(7);
    let info = ex.kill(a).unwrap();
    assert_eq!(info.state.wire_str(), "terminated");
    assert_eq!(ex.pids(), vec![b]);
    let c = load(&mut ex, &spin(), &[]);
    assert_eq!(c, 3, "PIDs never repeat");
    assert_eq!(ex.task(c).unwrap().reg_base, 0x1000, "slot reused");
    let s = ex.step(10);
    assert_eq!(s.executed, 10);
    assert_eq!(ex.task(b).unwrap().steps + ex.task(c).unwrap().steps, 13);
}

#[test]
fn layout_numbers_match_the_reference() {
    let (mut ex, _c) = exec();
    let pid = load(&mut ex, &spin(), &[]);
    let t = ex.task(pid).unwrap();
    assert_eq!(
        (t.sp, t.stack_base, t.stack_limit, t.stack_size),
        (0xFFFC, 61436, 61436, 4096)
    );
    assert_eq!(t.quantum, 1);
    assert_eq!(t.priority, 10);
    // Stack guard: 1024 pushes fit, the 1025th overflows.
    let mut p = Asm::new();
    let top = p.here();
    p.push(0).jmp(top);
    let q = load(&mut ex, &p.build(), &[]);
    ex.kill(pid).unwrap();
    ex.step(10_000);
    let t = ex.task(q).unwrap();
    assert_eq!(t.fault.map(|f| f.name), Some("STACK_OVERFLOW"));
    assert_eq!(t.sp, 0xEFFC);
}

#[test]
fn step_pid_runs_only_that_task() {
    let (mut ex, _c) = exec();
    let a = load(&mut ex, &spin(), &[]);
    let b = load(&mut ex, &spin(), &[]);
    let s = ex.step_pid(b, 5).unwrap();
    assert_eq!((s.executed, s.last_pid), (5, Some(b)));
    assert_eq!(ex.task(a).unwrap().steps, 0);
    assert_eq!(ex.task(b).unwrap().steps, 5);
    // A waiting/ended task is not runnable.
    let c = load(&mut ex, &count_to(1), &[]);
    ex.step_pid(c, 100).unwrap();
    assert_eq!(ex.state(c).unwrap(), TaskState::Returned);
    let s = ex.step_pid(c, 1).unwrap();
    assert_eq!((s.executed, s.stop), (0, StopReason::NotRunnable));
    // The global scheduler carries on fairly.
    ex.step(4);
    assert_eq!(ex.task(a).unwrap().steps, 2);
}

#[test]
fn paused_task_can_be_single_stepped_and_stays_paused() {
    let (mut ex, _c) = exec();
    let pid = load(&mut ex, &count_to(100), &[]);
    ex.pause(pid).unwrap();
    let s = ex.step_pid(pid, 3).unwrap();
    assert_eq!(s.executed, 3);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.state, t.pc, t.steps), (TaskState::Paused, 12, 3));
    assert_eq!(ex.step(10).executed, 0);
}

#[cfg(not(feature = "development"))]
#[test]
fn minimal_build_has_no_debugger() {
    let (mut ex, _c) = exec();
    let pid = load(&mut ex, &spin(), &[]);
    assert_eq!(
        ex.bp_add(pid, 0),
        Err(ExecError::Unsupported("breakpoints"))
    );
    assert_eq!(
        ex.watch_add(pid, 0, 4),
        Err(ExecError::Unsupported("watches"))
    );
    assert_eq!(
        ex.set_trace(pid, Some(true)),
        Err(ExecError::Unsupported("trace"))
    );
    assert_eq!(ex.set_trace_capacity(100), 0);
}

#[test]
fn scheduler_event_after_a_return_says_returned() {
    let (mut ex, _c) = exec();
    let a = load(&mut ex, &count_to(2), &[]);
    let b = load(&mut ex, &spin(), &[]);
    ex.sched(a, Some(100), None).unwrap();
    ex.step(1); // a runs and stays current
    ex.drain_events();
    ex.step(20); // a returns within its slice; b is next
    assert_eq!(ex.state(a).unwrap(), TaskState::Returned);
    let s: Vec<_> = ex
        .drain_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Scheduler(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!((s[0].prev_pid, s[0].next_pid), (a, Some(b)));
    assert_eq!(s[0].reason, SwitchReason::Returned);
    assert_eq!(s[0].reason.as_str(), "returned");
    assert_eq!(s[0].post_state, Some(TaskState::Returned));
}

#[test]
fn longest_sleep_near_the_end_of_the_clock_saturates() {
    use hsx_exec::{Backends, Executive, VirtualClock};
    let clock = VirtualClock::starting_at(u64::MAX - 10);
    let mut ex = Executive::new(ExecConfig::default(), Backends::new(clock.clone()));
    let mut p = Asm::new();
    p.ldi32(0, u32::MAX).svc(6, 0).ldi(0, 5).ret();
    let pid = load(&mut ex, &p.build(), &[]);
    let s = ex.step(100);
    assert_eq!(
        s.stop,
        StopReason::Blocked {
            next_deadline_ms: Some(u64::MAX)
        }
    );
    clock.advance(u64::MAX);
    ex.step(100);
    assert_eq!(ex.task(pid).unwrap().exit_status, Some(5));
}
