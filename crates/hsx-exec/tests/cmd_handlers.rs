//! Guest command handlers: a `.cmd` entry's handler runs in its owner task's context when
//! the command is called (from the host, or CMD_CALL by the owner), returns its R0, and
//! leaves the task's registers as they were; faults, waits and runaway handlers fail the
//! call with EFAIL without harming the task.

mod common;
use common::*;

use hsx_exec::values::CmdError;
use hsx_exec::{Executive, LoadOptions, Reg, TaskState};
use hsx_image::CommandEntry;

/// Code: main spins on `R5 += 1` at 0x00..; handlers follow at the offsets returned.
struct Prog {
    code: Vec<u32>,
    ok: u32,
    faults: u32,
    sleeps: u32,
    loops: u32,
    calls_itself: u32,
}

fn program() -> Prog {
    let mut a = Asm::new();
    // main: R5 counts forever; R6 = 0x1234 stays as a marker.
    a.ldi32(6, 0x1234).ldi(5, 0).ldi(2, 1);
    let top = a.here();
    a.add(5, 5, 2).jmp(top);
    // ok: store 7 at 0x6000, return 99 (clobbers R1..R3 and R6).
    let ok = a.here();
    a.ldi32(1, 0x6000)
        .ldi(2, 7)
        .st(1, 0, 2)
        .ldi(6, 0)
        .ldi(0, 99)
        .ret();
    // faults: divide by zero.
    let faults = a.here();
    a.ldi(1, 1).ldi(2, 0).div(3, 1, 2).ret();
    // sleeps: SLEEP 5 ms.
    let sleeps = a.here();
    a.ldi(0, 5).svc(6, 0).ret();
    // loops forever.
    let loops = a.here();
    a.jmp(loops);
    // calls a command (itself).
    let calls_itself = a.here();
    a.ldi32(1, 0x0301).ldi(2, 0).svc(8, 2).ret();
    Prog {
        code: a.build(),
        ok,
        faults,
        sleeps,
        loops,
        calls_itself,
    }
}

fn load_with_commands(ex: &mut Executive, p: &Prog) -> u32 {
    let mut img = image(&p.code, &[0u8; 16]);
    for (id, handler, flags) in [
        (1u8, p.ok, 0x02u8),
        (2, p.faults, 0),
        (3, p.sleeps, 0),
        (4, p.loops, 0),
        (5, p.calls_itself, 0),
        (6, 0, 0),
    ] {
        img.metadata.commands.push(CommandEntry {
            group: 3,
            id,
            flags,
            handler,
            name: Some(format!("c{id}")),
            ..CommandEntry::default()
        });
    }
    ex.load_image(&img, LoadOptions::default()).unwrap().pid
}

#[test]
fn a_host_call_runs_the_handler_in_the_owner_task_and_restores_it() {
    let (mut ex, _c) = exec();
    let p = program();
    let pid = load_with_commands(&mut ex, &p);
    ex.step(50);
    let before = ex.registers(pid).unwrap();
    assert_eq!(ex.cmd_call(0x0301, Some(pid), false), Ok(Some(99)));
    assert_eq!(
        ex.read_mem(pid, 0x6000, 4).unwrap(),
        [7, 0, 0, 0],
        "the handler ran"
    );
    let after = ex.registers(pid).unwrap();
    assert_eq!(after.regs, before.regs, "registers put back");
    assert_eq!(after.pc, before.pc);
    // The task goes on where it was.
    let r5 = ex.reg_get(pid, Reg::R5).unwrap();
    ex.step(20);
    assert!(ex.reg_get(pid, Reg::R5).unwrap() > r5);
    assert_eq!(ex.reg_get(pid, Reg::R6).unwrap(), 0x1234);
    // Async from the host: the handler runs as well (the completion is the host's).
    ex.write_mem(pid, 0x6000, &[0; 4]).unwrap();
    assert_eq!(ex.cmd_call(0x0301, Some(pid), true), Ok(Some(99)));
    assert_eq!(ex.read_mem(pid, 0x6000, 4).unwrap(), [7, 0, 0, 0]);
    let ev = ex.drain_events();
    let n = names(&ev);
    assert!(
        n.contains(&"cmd_invoked") && n.contains(&"cmd_completed"),
        "{n:?}"
    );
    // A command without a handler completes with no result, as before.
    assert_eq!(ex.cmd_call(0x0306, Some(pid), false), Ok(None));
}

#[test]
fn failing_handlers_fail_the_call_and_leave_the_task_alone() {
    let (mut ex, _c) = exec();
    let p = program();
    let pid = load_with_commands(&mut ex, &p);
    ex.step(30);
    let before = ex.registers(pid).unwrap();
    for oid in [0x0302u16, 0x0303, 0x0304, 0x0305] {
        assert_eq!(
            ex.cmd_call(oid, Some(pid), false),
            Err(CmdError::Failed),
            "{oid:#x}"
        );
        let t = ex.task(pid).unwrap();
        assert_eq!(t.state, before_state(&ex, pid), "{oid:#x}");
        assert!(t.fault.is_none(), "{oid:#x}: the task did not fault");
        assert_eq!(ex.registers(pid).unwrap().regs, before.regs, "{oid:#x}");
    }
    ex.step(10);
    assert_ne!(ex.task(pid).unwrap().state, TaskState::Faulted);
    // A killed task's commands are gone.
    ex.kill(pid).unwrap();
    assert_eq!(
        ex.cmd_call(0x0301, Some(pid), false),
        Err(CmdError::NotFound)
    );
}

fn before_state(ex: &Executive, pid: u32) -> TaskState {
    let s = ex.task(pid).unwrap().state;
    assert!(matches!(s, TaskState::Ready | TaskState::Running), "{s:?}");
    s
}

#[test]
fn the_owner_calls_its_own_command_with_cmd_call() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    // main: CMD_CALL 0x0401 -> R0 status, R1 result; keep them in R8/R9; R6 survives.
    a.ldi32(6, 0x55)
        .ldi32(1, 0x0401)
        .ldi(2, 0)
        .svc(8, 2)
        .mov(8, 0)
        .mov(9, 1)
        .ldi(0, 0)
        .ret();
    let handler = a.here();
    a.ldi(6, 0).ldi(0, 1234).ret();
    let mut img = image(&a.build(), &[0u8; 16]);
    img.metadata.commands.push(CommandEntry {
        group: 4,
        id: 1,
        handler,
        ..CommandEntry::default()
    });
    let pid = ex.load_image(&img, LoadOptions::default()).unwrap().pid;
    ex.step(1000);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.state, TaskState::Returned);
    assert_eq!((t.regs[8], t.regs[9]), (0, 1234));
    assert_eq!(
        t.regs[6], 0x55,
        "the caller's registers survive its handler"
    );
}
