//! Debug support (`full` variant): breakpoints with the pre-step gate and step-over, BRK,
//! watches (`full` only), trace ring, trace_step events, bounded event queue.
#![cfg(feature = "development")]

mod common;
use common::*;

use hsx_exec::event::{BreakPhase, BreakReason, MemOp, Warning};
use hsx_exec::{EventKind, ExecConfig, Reg, StateReason, StopReason, TaskState};

const TOP: u32 = 12; // ADD in count_to()

#[test]
fn breakpoint_stops_before_and_resume_steps_over() {
    let (mut ex, _c) = exec();
    let pid = load(&mut ex, &count_to(5), &[]);
    let other = load(&mut ex, &spin(), &[]);
    assert_eq!(ex.bp_add(pid, TOP).unwrap(), vec![TOP]);
    let s = ex.step(1000);
    let b = s.debug_break.unwrap();
    assert_eq!(s.stop, StopReason::DebugBreak(b));
    assert_eq!(
        (b.pid, b.pc, b.phase, b.reason),
        (pid, TOP, BreakPhase::Pre, BreakReason::Breakpoint)
    );
    let t = ex.task(pid).unwrap();
    assert_eq!((t.state, t.pc, t.regs[1]), (TaskState::Paused, TOP, 0));
    let ev = ex.drain_events();
    let i = ev
        .iter()
        .position(|e| matches!(&e.kind, EventKind::TaskState { new_state: TaskState::Paused, reason: StateReason::DebugBreak, details, .. } if details.phase == Some(BreakPhase::Pre)))
        .unwrap();
    assert!(matches!(ev[i + 1].kind, EventKind::DebugBreak(d) if d.pc == TOP));
    // The paused task does not run; others do.
    let before = ex.task(other).unwrap().steps;
    assert_eq!(ex.step(10).executed, 10);
    assert_eq!(ex.task(other).unwrap().steps, before + 10);
    assert_eq!(ex.task(pid).unwrap().pc, TOP);
    // Resume executes the instruction under the breakpoint, the gate fires next time round.
    ex.resume(pid).unwrap();
    let s = ex.step(1000);
    assert_eq!(s.debug_break.map(|b| (b.pid, b.pc)), Some((pid, TOP)));
    assert_eq!(ex.task(pid).unwrap().regs[1], 1);
    // Stepping a paused task from the breakpoint executes it too and stays paused.
    let s = ex.step_pid(pid, 1).unwrap();
    assert_eq!(s.executed, 1);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.state, t.pc, t.regs[1]), (TaskState::Paused, TOP + 4, 2));
    // A multi-instruction step stops at the breakpoint again.
    let s = ex.step_pid(pid, 100).unwrap();
    assert_eq!(s.stop, StopReason::DebugBreak(s.debug_break.unwrap()));
    assert_eq!((ex.task(pid).unwrap().pc, s.executed), (TOP, 2));
    ex.bp_remove(pid, TOP).unwrap();
    assert!(ex.bp_list(pid).unwrap().is_empty());
    ex.resume(pid).unwrap();
    ex.step(1000);
    assert_eq!(ex.task(pid).unwrap().exit_status, Some(5));
}

#[test]
fn breakpoint_added_at_current_pc_fires_on_the_next_scheduler_step() {
    let (mut ex, _c) = exec();
    let pid = load(&mut ex, &spin(), &[]);
    ex.step(2);
    let pc = ex.task(pid).unwrap().pc;
    ex.bp_add(pid, pc).unwrap();
    let s = ex.step(5);
    assert_eq!((s.executed, s.debug_break.map(|b| b.pc)), (0, Some(pc)));
    assert!(ex.task(pid).unwrap().breakpoints.contains(&pc));
    ex.bp_clear(pid).unwrap();
    assert!(ex.bp_list(pid).unwrap().is_empty());
}

#[test]
fn brk_pauses_with_its_code_and_resume_continues_after_it() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi(1, 1).brk(7).ldi(1, 2).ret();
    let pid = load(&mut ex, &a.build(), &[]);
    let s = ex.step(100);
    let b = s.debug_break.unwrap();
    assert_eq!(
        (b.pc, b.next_pc, b.phase, b.reason),
        (4, 8, BreakPhase::Post, BreakReason::Brk { code: 7 })
    );
    assert_eq!(ex.task(pid).unwrap().state, TaskState::Paused);
    ex.resume(pid).unwrap();
    ex.step(100);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.state, t.regs[1]), (TaskState::Returned, 2));
}

#[cfg(feature = "full")]
#[test]
fn watches_report_old_and_new_bytes() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi32(9, 0x5000).ldi(1, 0).ldi(2, 1).ldi(3, 3);
    let top = a.here();
    a.add(1, 1, 2).st(9, 0, 1).cmp(1, 3).jnz(top).ret();
    let pid = load(&mut ex, &a.build(), &[]);
    let w = ex.watch_add(pid, 0x5000, 4).unwrap();
    assert_eq!(w.value, vec![0; 4]);
    ex.step(1000);
    let updates: Vec<(Vec<u8>, Vec<u8>)> = ex
        .drain_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::WatchUpdate(u) => {
                assert_eq!((u.watch_id, u.address, u.length), (w.id, 0x5000, 4));
                Some((u.old, u.new))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        updates,
        vec![
            (vec![0, 0, 0, 0], vec![1, 0, 0, 0]),
            (vec![1, 0, 0, 0], vec![2, 0, 0, 0]),
            (vec![2, 0, 0, 0], vec![3, 0, 0, 0]),
        ]
    );
    assert_eq!(ex.watch_list(pid).unwrap()[0].value, vec![3, 0, 0, 0]);
    assert_eq!(ex.watch_remove(pid, w.id).unwrap().id, w.id);
    assert!(ex.watch_remove(pid, w.id).is_err());
    assert!(ex.watch_add(pid, 0, 0).is_err());
}

#[cfg(feature = "full")]
#[test]
fn a_stopping_watch_pauses_its_task_after_the_write_and_others_run_on() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi32(9, 0x5000).ldi(1, 0).ldi(2, 1).ldi(3, 3);
    let top = a.here();
    a.add(1, 1, 2).st(9, 0, 1).cmp(1, 3).jnz(top).ret();
    let pid = load(&mut ex, &a.build(), &[]);
    let other = load(&mut ex, &spin(), &[]);
    let w = ex.watch_add(pid, 0x5000, 4).unwrap();
    ex.watch_set_stop(pid, w.id, true).unwrap();
    let s = ex.step(1000);
    let b = s.debug_break.unwrap();
    assert_eq!(
        (b.pid, b.phase, b.reason),
        (pid, BreakPhase::Post, BreakReason::Watch { id: w.id })
    );
    // Stopped right after the store: the PC is on the CMP that follows it.
    let t = ex.task(pid).unwrap();
    assert_eq!(
        (t.state, t.regs[1], t.pc),
        (TaskState::Paused, 1, b.next_pc)
    );
    assert_eq!(b.pc + 4, b.next_pc);
    let ev = ex.drain_events();
    let upd = ev
        .iter()
        .position(|e| matches!(&e.kind, EventKind::WatchUpdate(u) if u.new == vec![1, 0, 0, 0]))
        .unwrap();
    let brk = ev
        .iter()
        .position(|e| matches!(e.kind, EventKind::DebugBreak(d) if d.reason == BreakReason::Watch { id: w.id }))
        .unwrap();
    assert!(upd < brk, "the update comes before the stop");
    // The other task keeps running while this one is stopped.
    let before = ex.task(other).unwrap().steps;
    ex.step(50);
    assert!(ex.task(other).unwrap().steps > before);
    assert_eq!(ex.task(pid).unwrap().regs[1], 1);
    // Resume: the next write stops again; clearing the flag lets it run to the end.
    ex.resume(pid).unwrap();
    assert!(ex.step(1000).debug_break.is_some());
    assert_eq!(ex.task(pid).unwrap().regs[1], 2);
    ex.watch_set_stop(pid, w.id, false).unwrap();
    ex.resume(pid).unwrap();
    ex.kill(other).unwrap();
    ex.step(1000);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.state, t.regs[1]), (TaskState::Returned, 3));
    assert!(ex.watch_set_stop(pid, w.id + 99, true).is_err());
}

#[test]
fn trace_ring_records_each_instruction() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi32(9, 0x5000).ldi(1, 7).st(9, 2, 1).ld(4, 9, 2).ret();
    let pid = load(&mut ex, &a.build(), &[]);
    assert!(ex.set_trace(pid, Some(true)).unwrap());
    ex.step(100);
    let recs = ex.trace_records(pid, None).unwrap();
    let pcs: Vec<u32> = recs.iter().map(|r| r.pc).collect();
    assert_eq!(pcs, vec![0, 8, 12, 16]);
    assert_eq!(recs[0].extended_word, Some(0x5000));
    assert_eq!(recs[1].changed_regs().collect::<Vec<_>>(), vec![1]);
    assert_eq!(recs[1].regs[1], 7);
    assert_eq!(recs[1].next_pc, 12);
    let st = recs[2].mem_access.unwrap();
    assert_eq!(
        (st.op, st.address, st.width, st.value),
        (MemOp::Write, 0x5002, 4, 7)
    );
    assert_eq!(recs[3].mem_access.unwrap().op, MemOp::Read);
    assert!(recs.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(ex.trace_records(pid, Some(2)).unwrap().len(), 2);
    assert!(
        !names(&ex.drain_events()).contains(&"trace_step"),
        "off by default"
    );
    // Runtime capacity below the cap.
    assert_eq!(
        ex.set_trace_capacity(1_000_000),
        hsx_exec::debug::TRACE_CAPACITY_MAX
    );
    assert_eq!(ex.set_trace_capacity(2), 2);
    assert_eq!(ex.trace_records(pid, None).unwrap().len(), 2);
}

#[test]
fn trace_step_events_when_enabled() {
    let (mut ex, _c) = exec_with(ExecConfig {
        trace_default: true,
        trace_step_events: true,
        ..ExecConfig::default()
    });
    let pid = load(&mut ex, &count_to(2), &[]);
    assert!(ex.task(pid).unwrap().trace);
    ex.step(100);
    let steps: Vec<u32> = ex
        .drain_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::TraceStep(r) => Some(r.pc),
            _ => None,
        })
        .collect();
    assert_eq!(steps, vec![0, 4, 8, 12, 16, 20, 12, 16, 20, 24]);
    assert!(!ex.set_trace(pid, None).unwrap(), "toggle off");
}

#[test]
fn a_debugger_step_of_an_untraced_task_reports_its_last_instruction() {
    let (mut ex, _c) = exec_with(ExecConfig {
        trace_step_events: true,
        ..ExecConfig::default()
    });
    let pid = load(&mut ex, &count_to(5), &[]);
    assert!(!ex.task(pid).unwrap().trace);
    let traced = |ex: &mut hsx_exec::Executive| -> Vec<(u32, u32, u32)> {
        ex.drain_events()
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::TraceStep(r) => Some((r.pc, r.next_pc, r.regs[1])),
                _ => None,
            })
            .collect()
    };
    ex.pause(pid).unwrap();
    ex.drain_events();
    // One instruction: LDI R1, 0 at 0.
    ex.step_pid(pid, 1).unwrap();
    assert_eq!(traced(&mut ex), vec![(0, 4, 0)]);
    // Four more: only the last one is reported, and nothing lands in the trace ring.
    ex.step_pid(pid, 4).unwrap();
    let t = traced(&mut ex);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0].1, ex.reg_get(pid, Reg::Pc).unwrap());
    assert!(ex.trace_records(pid, None).unwrap().is_empty());
    // The scheduler's own passes stay untraced.
    ex.resume(pid).unwrap();
    ex.step(3);
    assert!(traced(&mut ex).is_empty());
}

#[test]
fn event_queue_is_bounded_and_reports_drops() {
    let (mut ex, _c) = exec_with(ExecConfig {
        event_capacity: 8,
        ..ExecConfig::default()
    });
    let mut a = Asm::new();
    a.ldi(7, 0).ldi(8, 50).ldi(9, 1);
    let top = a.here();
    a.ldi(1, 0)
        .ldi(2, 1)
        .svc(1, 1)
        .add(7, 7, 9)
        .cmp(7, 8)
        .jnz(top)
        .ret();
    let pid = load(&mut ex, &a.build(), &[]);
    ex.step(10_000);
    assert_eq!(ex.pending_events(), 8);
    let ev = ex.drain_events();
    assert_eq!(ev.len(), 9);
    assert!(
        matches!(ev[0].kind, EventKind::Warning(Warning::EventDropped { dropped, .. }) if dropped > 40)
    );
    assert!(
        ev.windows(2)
            .all(|w| w[0].seq < w[1].seq || w[0].pid.is_none())
    );
    assert_eq!(ex.task(pid).unwrap().state, TaskState::Returned);
    // Disabled: nothing is generated.
    ex.set_events_enabled(false);
    let p2 = load(&mut ex, &a.build(), &[]);
    ex.step(10_000);
    assert_eq!(ex.pending_events(), 0);
    assert_eq!(ex.reg_get(p2, Reg::R7).unwrap(), 50);
}

#[test]
fn imported_trace_with_the_largest_seq_does_not_overflow() {
    let (mut ex, _c) = exec();
    let pid = load(&mut ex, &count_to(5), &[]);
    assert!(ex.set_trace(pid, Some(true)).unwrap());
    ex.step(1);
    let mut rec = ex.trace_records(pid, None).unwrap()[0];
    rec.seq = u64::MAX;
    assert_eq!(ex.trace_import(pid, &[rec], true).unwrap(), 1);
    ex.step(100);
    assert_eq!(ex.task(pid).unwrap().state, TaskState::Returned);
    let recs = ex.trace_records(pid, None).unwrap();
    assert!(recs.len() > 1);
    assert!(recs.iter().all(|r| r.seq == u64::MAX));
}
