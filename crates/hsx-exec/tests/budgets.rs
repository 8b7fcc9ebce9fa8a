//! Per-task budgets at run time: the instruction watchdog (fault or throttle), value and
//! mailbox-descriptor budgets. Each refusal hits only the task that asked, is reported once
//! as a `budget_exceeded` warning, and is counted.

mod common;
use common::*;

use hsx_exec::event::Warning;
use hsx_exec::{
    Budget, EventKind, ExecConfig, LoadOptions, TaskState, WATCHDOG_FAULT, Watchdog, WatchdogAction,
};

fn budget_events(events: &[hsx_exec::Event]) -> Vec<(Option<u32>, Budget, u64)> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Warning(Warning::BudgetExceeded { budget, limit }) => {
                Some((e.pid, budget, limit))
            }
            _ => None,
        })
        .collect()
}

fn with_watchdog(instructions: u64, action: WatchdogAction, run_ahead: bool) -> ExecConfig {
    ExecConfig {
        watchdog: Watchdog {
            instructions,
            action,
        },
        run_ahead,
        ..ExecConfig::default()
    }
}

/// A task that makes an SVC (CORE_GET_STEPS) every few instructions and counts to `n`.
fn polite(n: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi(10, 0).ldi(11, 1).ldi32(12, n as u32);
    let top = a.here();
    a.add(10, 10, 11)
        .svc(0, 0)
        .cmp(10, 12)
        .jnz(top)
        .mov(0, 10)
        .ret();
    a.build()
}

#[test]
fn the_watchdog_faults_a_busy_task_at_the_same_instruction_on_every_path() {
    let mut seen = Vec::new();
    for run_ahead in [true, false] {
        let (mut ex, _c) = exec_with(with_watchdog(10_000, WatchdogAction::Fault, run_ahead));
        let busy = load(&mut ex, &spin(), &[]);
        let good = load(&mut ex, &polite(50_000), &[]);
        ex.drain_events();
        for _ in 0..100 {
            ex.step(100_000);
        }
        let t = ex.task(busy).unwrap();
        assert_eq!(t.state, TaskState::Faulted);
        let f = t.fault.unwrap();
        assert_eq!((f.name, f.code), ("WATCHDOG", WATCHDOG_FAULT));
        // No SVC since it started: exactly the limit ran.
        assert_eq!(t.steps, 10_000);
        let g = ex.task(good).unwrap();
        assert_eq!(
            (g.state, g.exit_status),
            (TaskState::Returned, Some(50_000))
        );
        let events = ex.drain_events();
        assert_eq!(
            budget_events(&events),
            [(Some(busy), Budget::Watchdog, 10_000)]
        );
        assert_eq!(ex.budget_hits(busy).unwrap()[0], 1);
        seen.push((t.steps, f.pc));
    }
    assert_eq!(seen[0], seen[1], "run-ahead and strict round-robin agree");
}

#[test]
fn a_throttled_task_sleeps_and_goes_on() {
    let (mut ex, clock) = exec_with(with_watchdog(
        1_000,
        WatchdogAction::Throttle { pause_ms: 5 },
        true,
    ));
    let busy = load(&mut ex, &spin(), &[]);
    ex.drain_events();
    ex.step(5_000);
    assert_eq!(ex.task(busy).unwrap().state, TaskState::Sleeping);
    let before = ex.task(busy).unwrap().steps;
    for _ in 0..5 {
        clock.advance(5);
        ex.step(5_000);
    }
    let t = ex.task(busy).unwrap();
    assert!(t.steps > before, "it runs again after each pause");
    assert!(t.fault.is_none());
    assert!(ex.budget_hits(busy).unwrap()[0] >= 5);
    assert_eq!(budget_events(&ex.drain_events()).len(), 1, "reported once");
}

#[test]
fn a_per_load_watchdog_overrides_the_default_and_zero_is_off() {
    let (mut ex, _c) = exec_with(with_watchdog(100, WatchdogAction::Fault, true));
    let opts = LoadOptions {
        watchdog: Some(0),
        ..LoadOptions::default()
    };
    let free = ex.load_image(&image(&spin(), &[]), opts).unwrap().pid;
    ex.step(100_000);
    assert_eq!(ex.task(free).unwrap().state, TaskState::Running);
    assert_eq!(ex.task_watchdog(free).unwrap(), (0, 0));
}

/// Registers values 0..n (group 1) and keeps the last status in R6.
fn register_values(n: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi(9, 0).ldi(8, 1).ldi(7, n);
    let top = a.here();
    a.ldi(1, 1)
        .mov(2, 9)
        .ldi(3, 0)
        .ldi(4, 0)
        .svc(7, 0)
        .mov(6, 0)
        .add(9, 9, 8)
        .cmp(9, 7)
        .jnz(top)
        .ldi(0, 0)
        .ret();
    a.build()
}

#[test]
fn a_task_registers_at_most_its_value_budget_and_others_still_can() {
    let (mut ex, _c) = exec();
    let greedy = load(&mut ex, &register_values(130), &[]);
    ex.drain_events();
    ex.step(100_000);
    let t = ex.task(greedy).unwrap();
    assert_eq!(t.state, TaskState::Returned);
    assert_eq!(t.regs[6], 3, "ENOSPC once the budget is used");
    assert_eq!(ex.budget_hits(greedy).unwrap()[3], 2);
    assert_eq!(
        budget_events(&ex.drain_events()),
        [(Some(greedy), Budget::Values, 128)]
    );
    let other = load(&mut ex, &register_values(3), &[]);
    ex.step(100_000);
    assert_eq!(ex.task(other).unwrap().regs[6], 0);
}

/// Binds `n` mailboxes named in rodata (`shared:mNN`, 11 bytes each), last status in R6.
fn open_mailboxes(n: i32) -> (Vec<u32>, Vec<u8>) {
    let mut ro = Vec::new();
    for i in 0..n {
        ro.extend_from_slice(format!("shared:m{i:02}\0").as_bytes());
    }
    let mut a = Asm::new();
    a.ldi32(9, 0x4000).ldi(8, 11).ldi(7, 0).ldi(5, 1).ldi(4, n);
    let top = a.here();
    a.mov(1, 9)
        .ldi(2, 0)
        .ldi(3, 0)
        .svc(5, 1)
        .mov(6, 0)
        .add(9, 9, 8)
        .add(7, 7, 5)
        .cmp(7, 4)
        .jnz(top)
        .ldi(0, 0)
        .ret();
    (a.build(), ro)
}

#[test]
fn a_task_creates_at_most_its_descriptor_budget_and_loads_still_work() {
    let (mut ex, _c) = exec();
    let (code, ro) = open_mailboxes(70);
    let greedy = load(&mut ex, &code, &ro);
    ex.drain_events();
    ex.step(100_000);
    let t = ex.task(greedy).unwrap();
    assert_eq!(t.state, TaskState::Returned);
    assert_eq!(t.regs[6], 5, "NO_DESCRIPTOR past the budget");
    assert_eq!(ex.budget_hits(greedy).unwrap()[1], 6);
    assert_eq!(
        budget_events(&ex.drain_events()),
        [(Some(greedy), Budget::Descriptors, 64)]
    );
    for _ in 0..4 {
        load(&mut ex, &spin(), &[]);
    }
}
