//! Mailbox SVC behaviour at executive level (`services.md` §8 cases 3, 8-11, 13-15), stdio
//! routing, and release of resources on kill.

mod common;
use common::*;

use hsx_exec::mailbox::{ExhaustedReason, MailboxConfig, MailboxEvent, Namespace, StdioStream};
use hsx_exec::status::mbx;
use hsx_exec::{EventKind, ExecConfig, Reg, StateReason, StopReason, TaskState};

/// rodata layout shared by the programs below.
const T_DEMO: u32 = 0x4000; // "app:demo"
const T_CH: u32 = 0x4010; // "app:ch"
const T_OUT: u32 = 0x4020; // "svc:stdio.out"
const T_IN: u32 = 0x4030; // "svc:stdio.in"
const T_B: u32 = 0x4040; // "app:b"
const DATA_A: u32 = 0x4080; // "AAAAAAAA"
const DATA_B: u32 = 0x4090; // "BBBBBBBB"
const HELLO: u32 = 0x40A0; // "hello"
const NUL3: u32 = 0x40B0; // "a\0b"

fn rodata() -> Vec<u8> {
    let mut r = vec![0u8; 0xC0];
    let mut put = |at: u32, s: &[u8]| {
        let a = (at - 0x4000) as usize;
        r[a..a + s.len()].copy_from_slice(s);
    };
    put(T_DEMO, b"app:demo\0");
    put(T_CH, b"app:ch\0");
    put(T_OUT, b"svc:stdio.out\0");
    put(T_IN, b"svc:stdio.in\0");
    put(T_B, b"app:b\0");
    put(DATA_A, b"AAAAAAAA");
    put(DATA_B, b"BBBBBBBB");
    put(HELLO, b"hello");
    put(NUL3, b"a\0b");
    r
}

/// OPEN `target` → handle in R6.
fn open(a: &mut Asm, target: u32) {
    a.ldi32(1, target).ldi(2, 0).svc(5, 0).mov(6, 1);
}

/// SEND `len` bytes at `ptr` on R6.
fn send(a: &mut Asm, ptr: u32, len: i32) {
    a.mov(1, 6)
        .ldi32(2, ptr)
        .ldi(3, len)
        .ldi(4, 0)
        .ldi(5, 0)
        .svc(5, 2);
}

/// RECV on R6 into 0x5000 (max 64) with `timeout` and the info record at 0x5100.
fn recv(a: &mut Asm, timeout: u32) {
    a.mov(1, 6)
        .ldi32(2, 0x5000)
        .ldi(3, 64)
        .ldi32(4, timeout)
        .ldi32(5, 0x5100)
        .svc(5, 3);
}

#[test]
fn case3_capacity_cost_backpressure_and_poll_by_another_pid() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi32(1, T_DEMO).ldi(2, 16).ldi(3, 0).svc(5, 1).mov(12, 1); // BIND cap 16
    open(&mut a, T_DEMO);
    send(&mut a, DATA_A, 8);
    a.mov(8, 0);
    send(&mut a, DATA_B, 8);
    a.mov(9, 0);
    send(&mut a, DATA_A, 12);
    a.mov(10, 0).ret();
    let pa = load(&mut ex, &a.build(), &rodata());
    let mut b = Asm::new();
    open(&mut b, T_DEMO);
    recv(&mut b, 0);
    b.ret();
    let pb = load(&mut ex, &b.build(), &rodata());
    ex.step_pid(pa, 1000).unwrap();
    let t = ex.task(pa).unwrap();
    assert_eq!(t.regs[8], u32::from(mbx::OK));
    assert_eq!(t.regs[9], u32::from(mbx::WOULDBLOCK));
    assert_eq!(t.regs[10], u32::from(mbx::MSG_TOO_LARGE));
    ex.step_pid(pb, 1000).unwrap();
    let t = ex.task(pb).unwrap();
    assert_eq!(&t.regs[..5], &[0, 8, 0, 0, pa]);
    assert_eq!(ex.read_mem(pb, 0x5000, 8).unwrap(), b"AAAAAAAA");
    let ev = ex.drain_events();
    assert!(ev.iter().any(|e| matches!(
        &e.kind,
        EventKind::Mailbox(MailboxEvent::Backpressure { .. })
    )));
    // MSG_TOO_LARGE is reported as a mailbox_error; WOULDBLOCK only as backpressure.
    let errors: Vec<u16> = ev
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Mailbox(MailboxEvent::Error { status, .. }) => Some(status),
            _ => None,
        })
        .collect();
    assert_eq!(errors, vec![mbx::MSG_TOO_LARGE]);
}

#[test]
fn case8_blocking_recv_is_completed_by_a_later_send() {
    let (mut ex, _c) = exec();
    let mut c = Asm::new();
    open(&mut c, T_CH);
    recv(&mut c, 0xFFFF);
    let after_recv = c.here();
    c.ret();
    let pc_ = load(&mut ex, &c.build(), &rodata());
    let mut p = Asm::new();
    open(&mut p, T_CH);
    send(&mut p, HELLO, 5);
    p.ret();
    let pp = load(&mut ex, &p.build(), &rodata());
    ex.write_mem(pc_, 0x5000, &[0xAA; 16]).unwrap();
    ex.step_pid(pc_, 100).unwrap();
    let t = ex.task(pc_).unwrap();
    assert_eq!(t.state, TaskState::WaitMbx);
    assert_eq!(t.pc, after_recv);
    let w = t.wait.unwrap();
    assert_eq!((w.timeout, w.deadline_ms), (0xFFFF, None));
    assert_eq!(
        ex.step(10).stop,
        StopReason::Budget,
        "the producer still runs"
    );
    ex.step_pid(pp, 100).unwrap();
    let t = ex.task(pc_).unwrap();
    assert_eq!(t.state, TaskState::Ready);
    assert_eq!(t.pc, after_recv, "completion does not move the PC");
    assert_eq!(&t.regs[..5], &[0, 5, 0, 0, pp]);
    assert_eq!(ex.read_mem(pc_, 0x5000, 6).unwrap(), b"hello\xAA");
    let info = ex.read_mem(pc_, 0x5100, 20).unwrap();
    let words: Vec<u32> = (0..5).map(|i| le32(&info, i * 4)).collect();
    assert_eq!(words, vec![0, 5, 0, 0, pp]);
    let c = ex.mailbox_counters(pc_);
    assert_eq!((c.step, c.wake, c.timeout), (1, 1, 0));
    let ev = ex.drain_events();
    let n = names(&ev);
    let wait = n.iter().position(|x| *x == "mailbox_wait").unwrap();
    let wake = n.iter().position(|x| *x == "mailbox_wake").unwrap();
    assert!(wait < wake);
    assert!(ev.iter().any(|e| e.pid == Some(pc_)
        && matches!(&e.kind, EventKind::TaskState { new_state: TaskState::WaitMbx, reason: StateReason::MailboxWait, details, .. } if details.handle.is_some())));
    assert!(ev.iter().any(|e| e.pid == Some(pc_)
        && matches!(&e.kind, EventKind::TaskState { new_state: TaskState::Ready, reason: StateReason::MailboxWake, details, .. } if details.length == Some(5))));
    ex.step(10);
    assert_eq!(ex.task(pc_).unwrap().exit_status, Some(0));
}

#[test]
fn case9_poll_on_empty_returns_no_data_without_waiting() {
    let (mut ex, _c) = exec();
    let mut c = Asm::new();
    open(&mut c, T_CH);
    recv(&mut c, 0);
    c.ret();
    let pid = load(&mut ex, &c.build(), &rodata());
    ex.write_mem(pid, 0x5000, &[0xAA; 4]).unwrap();
    ex.step(100);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.state, TaskState::Returned);
    assert_eq!(t.regs[0], u32::from(mbx::NO_DATA));
    assert_eq!(t.regs[1], 0);
    assert_eq!(ex.read_mem(pid, 0x5000, 4).unwrap(), [0xAA; 4]);
    assert_eq!(le32(&ex.read_mem(pid, 0x5100, 4).unwrap(), 0), 3);
    let n = names(&ex.drain_events());
    assert!(!n.contains(&"mailbox_wait"));
}

#[test]
fn case10_finite_timeout_expires_on_the_virtual_clock() {
    let (mut ex, clock) = exec();
    let mut c = Asm::new();
    open(&mut c, T_CH);
    recv(&mut c, 50);
    c.ret();
    let pid = load(&mut ex, &c.build(), &rodata());
    ex.write_mem(pid, 0x5000, &[0xAA; 8]).unwrap();
    ex.write_mem(pid, 0x5100, &[0xEE; 20]).unwrap();
    let s = ex.step(100);
    assert_eq!(
        s.stop,
        StopReason::Blocked {
            next_deadline_ms: Some(1050)
        }
    );
    assert_eq!(ex.task(pid).unwrap().wait.unwrap().deadline_ms, Some(1050));
    clock.advance(49);
    assert_eq!(ex.step(100).executed, 0);
    assert_eq!(ex.state(pid).unwrap(), TaskState::WaitMbx);
    clock.advance(1);
    ex.step(0);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.state, TaskState::Ready);
    assert_eq!(&t.regs[..5], &[7, 0, 0, 0, 0]);
    assert_eq!(
        ex.read_mem(pid, 0x5000, 8).unwrap(),
        [0xAA; 8],
        "buffer untouched"
    );
    let info = ex.read_mem(pid, 0x5100, 20).unwrap();
    assert_eq!(
        (0..5).map(|i| le32(&info, i * 4)).collect::<Vec<_>>(),
        vec![7, 0, 0, 0, 0]
    );
    let c = ex.mailbox_counters(pid);
    assert_eq!((c.step, c.wake, c.timeout), (1, 0, 1));
    assert_eq!(t.counters.timeout, 1);
    let ev = ex.drain_events();
    assert!(names(&ev).contains(&"mailbox_timeout"));
    assert!(ev.iter().any(|e| matches!(
        &e.kind,
        EventKind::TaskState {
            new_state: TaskState::Ready,
            reason: StateReason::Timeout,
            ..
        }
    )));
}

#[test]
fn case11_single_reader_wakes_waiters_in_fifo_order() {
    let (mut ex, _c) = exec();
    let mut c = Asm::new();
    open(&mut c, T_CH);
    recv(&mut c, 0xFFFF);
    c.mov(0, 1).ret();
    let waiters: Vec<u32> = (0..3)
        .map(|_| load(&mut ex, &c.build(), &rodata()))
        .collect();
    ex.step(1000);
    for p in &waiters {
        assert_eq!(ex.state(*p).unwrap(), TaskState::WaitMbx);
    }
    for msg in [b"1", b"2", b"3"] {
        ex.mailbox_send(0, "app:ch", msg, 0, 0).unwrap();
    }
    for (p, want) in waiters.iter().zip([b'1', b'2', b'3']) {
        let t = ex.task(*p).unwrap();
        assert_eq!(t.state, TaskState::Ready);
        assert_eq!((t.regs[0], t.regs[1], t.regs[4]), (0, 1, 0));
        assert_eq!(ex.read_mem(*p, 0x5000, 1).unwrap(), [want]);
    }
    // Woken tasks re-enter at the tail, in wake order.
    let order: Vec<u32> = (0..3).map(|_| ex.step(1).last_pid.unwrap()).collect();
    assert_eq!(order, waiters);
}

#[test]
fn case13_handle_quota_and_release_by_close() {
    let (mut ex, _c) = exec_with(ExecConfig {
        mailbox: MailboxConfig {
            handle_limit_per_pid: Some(4),
            ..MailboxConfig::desktop()
        },
        ..ExecConfig::default()
    });
    let mut a = Asm::new();
    open(&mut a, T_DEMO);
    a.mov(8, 0).mov(7, 6);
    a.ldi32(1, T_B).ldi(2, 0).svc(5, 0).mov(9, 0);
    a.mov(1, 7).svc(5, 6).mov(10, 0);
    a.ldi32(1, T_B)
        .ldi(2, 0)
        .svc(5, 0)
        .mov(11, 0)
        .mov(12, 1)
        .ret();
    let pid = load(&mut ex, &a.build(), &rodata());
    ex.step(1000);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.regs[7], 4, "stdio took handles 1..3");
    assert_eq!(t.regs[8], 0);
    assert_eq!(t.regs[9], u32::from(mbx::NO_DESCRIPTOR));
    assert_eq!(t.regs[10], 0);
    assert_eq!(
        (t.regs[11], t.regs[12]),
        (0, 5),
        "a closed number is never reused"
    );
    let ev = ex.drain_events();
    assert!(ev.iter().any(|e| matches!(
        &e.kind,
        EventKind::Mailbox(MailboxEvent::Exhausted {
            reason: ExhaustedReason::HandleLimit,
            ..
        })
    )));
    assert_eq!(MailboxConfig::embedded().max_descriptors, 16);
    assert_eq!(MailboxConfig::embedded().handle_limit_per_pid, Some(8));
}

#[test]
fn case14_closed_handle_is_invalid() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    open(&mut a, T_DEMO);
    a.mov(1, 6).svc(5, 6);
    send(&mut a, DATA_A, 8);
    a.mov(8, 0);
    recv(&mut a, 0);
    a.mov(9, 0).ret();
    let pid = load(&mut ex, &a.build(), &rodata());
    ex.step(1000);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.regs[8], u32::from(mbx::INVALID_HANDLE));
    assert_eq!(t.regs[9], u32::from(mbx::INVALID_HANDLE));
}

#[test]
fn case15_zero_length_stdout_enqueues_nothing_and_nul_bytes_survive() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    open(&mut a, T_OUT);
    send(&mut a, HELLO, 0);
    a.mov(8, 0).mov(9, 1);
    a.ldi32(7, 0xFFFF); // park here until the host has listened
    a.svc(6, 0);
    let pid = load(&mut ex, &a.build(), &rodata());
    ex.step(1000);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.regs[8], t.regs[9]), (0, 0));
    assert!(ex.listen_stdout(Some(pid), 5, 512).unwrap().is_empty());
    assert!(stdout_of(&ex.drain_events(), pid).is_empty());
    // Embedded NUL.
    let mut b = Asm::new();
    open(&mut b, T_OUT);
    send(&mut b, NUL3, 3);
    b.ret();
    let pb = load(&mut ex, &b.build(), &rodata());
    ex.step_pid(pb, 100).unwrap();
    assert_eq!(stdout_of(&ex.drain_events(), pb), b"a\0b");
}

#[test]
fn stdout_events_listen_and_stdin_send() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    open(&mut a, T_OUT);
    send(&mut a, HELLO, 5);
    a.mov(7, 6);
    open(&mut a, T_IN);
    recv(&mut a, 0xFFFF);
    a.mov(0, 1).ret();
    let pid = load(&mut ex, &a.build(), &rodata());
    ex.step(1000);
    assert_eq!(ex.state(pid).unwrap(), TaskState::WaitMbx);
    assert_eq!(stdout_of(&ex.drain_events(), pid), b"hello");
    let msgs = ex.listen_stdout(Some(pid), 5, 512).unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].data, b"hello");
    assert_eq!(msgs[0].target, format!("svc:stdio.out@{pid}"));
    assert_eq!(msgs[0].src_pid, pid);
    let rep = ex.send_stdin(pid, b"hi!").unwrap();
    assert_eq!(rep.bytes, 3);
    ex.step(100);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.state, t.exit_status), (TaskState::Returned, Some(3)));
    assert_eq!(ex.read_mem(pid, 0x5000, 3).unwrap(), b"hi!");
    assert!(ex.send_stdin(77, b"x").is_err());
}

#[test]
fn stdio_drain_keeps_stdout_from_filling() {
    let prog = || {
        let mut a = Asm::new();
        open(&mut a, T_OUT);
        for _ in 0..10 {
            send(&mut a, DATA_A, 8);
        }
        a.ret();
        a.build()
    };
    // Without draining the 64-byte stdout mailbox refuses the 5th 16-byte message.
    let (mut ex, _c) = exec();
    let pid = load(&mut ex, &prog(), &rodata());
    ex.step(10_000);
    assert_eq!(ex.task(pid).unwrap().regs[0], u32::from(mbx::WOULDBLOCK));
    assert_eq!(stdout_of(&ex.drain_events(), pid).len(), 32);
    // With draining every message becomes an event and nothing is refused.
    let (mut ex, _c) = exec_with(ExecConfig {
        stdio_drain: true,
        ..ExecConfig::default()
    });
    let pid = load(&mut ex, &prog(), &rodata());
    ex.step(10_000);
    assert_eq!(ex.task(pid).unwrap().regs[0], 0);
    assert_eq!(stdout_of(&ex.drain_events(), pid).len(), 80);
}

#[test]
fn fd_write_routes_to_stdio_mailboxes() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi(1, 1).ldi32(2, HELLO).ldi(3, 5).svc(4, 2).mov(8, 0);
    a.ldi(1, 2).ldi32(2, DATA_B).ldi(3, 2).svc(4, 2).mov(9, 0);
    a.ldi(1, 1)
        .ldi32(2, HELLO)
        .ldi(3, 0)
        .svc(4, 2)
        .mov(10, 0)
        .ret();
    let pid = load(&mut ex, &a.build(), &rodata());
    ex.step(100);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.regs[8], t.regs[9], t.regs[10]), (5, 2, 0));
    let ev = ex.drain_events();
    assert_eq!(stdout_of(&ev, pid), b"hello");
    assert!(
        ev.iter()
            .any(|e| matches!(&e.kind, EventKind::Stderr(d) if d == b"BB"))
    );
    let sends: Vec<u16> = ev
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Mailbox(MailboxEvent::Send { flags, .. }) => Some(flags),
            _ => None,
        })
        .collect();
    assert_eq!(sends, vec![1, 2]);
}

#[test]
fn kill_releases_handles_waits_descriptors_and_values() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi(1, 3).ldi(2, 4).ldi(3, 0).ldi32(4, 0xFFFF).svc(7, 0); // VAL_REGISTER 3:4
    open(&mut a, T_DEMO);
    open(&mut a, T_CH);
    recv(&mut a, 0xFFFF);
    a.ret();
    let victim = load(&mut ex, &a.build(), &rodata());
    ex.step(1000);
    assert_eq!(ex.state(victim).unwrap(), TaskState::WaitMbx);
    let ch = ex.mailboxes().find(0, "app:ch").unwrap();
    assert_eq!(
        ex.mailboxes().descriptor_info(ch).unwrap().waiters,
        vec![victim]
    );
    assert_eq!(ex.val_list(&Default::default()).len(), 1);
    let out = ex
        .mailboxes()
        .find(victim, StdioStream::Out.target())
        .unwrap();
    ex.kill(victim).unwrap();
    assert!(
        ex.mailboxes()
            .descriptor_info(ch)
            .unwrap()
            .waiters
            .is_empty()
    );
    assert!(
        ex.mailboxes().descriptor_info(out).is_none(),
        "owned stdio freed"
    );
    assert!(ex.mailboxes().find(0, &format!("pid:{victim}")).is_none());
    let stats = ex.mailbox_stats();
    assert!(stats.handles_per_pid.iter().all(|(p, _)| *p != victim));
    assert!(ex.val_list(&Default::default()).is_empty());
    // A later message is not swallowed by the dead task.
    let mut b = Asm::new();
    open(&mut b, T_CH);
    recv(&mut b, 0xFFFF);
    b.ret();
    let reader = load(&mut ex, &b.build(), &rodata());
    ex.step(1000);
    ex.mailbox_send(0, "app:ch", b"z", 0, 0).unwrap();
    assert_eq!(ex.task(reader).unwrap().regs[1], 1);
}

#[test]
fn exit_releases_mailbox_resources_but_keeps_the_task() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    open(&mut a, T_DEMO);
    a.ret();
    let pid = load(&mut ex, &a.build(), &rodata());
    ex.step(100);
    assert_eq!(ex.state(pid).unwrap(), TaskState::Returned);
    assert!(ex.mailboxes().find(pid, "svc:stdio.in").is_none());
    let demo = ex.mailboxes().find(0, "app:demo").unwrap();
    assert_eq!(ex.mailboxes().descriptor_info(demo).unwrap().handles, 0);
    assert_eq!(ex.reg_get(pid, Reg::R6).unwrap(), 4);
}

#[test]
fn default_mailboxes_are_created_per_task() {
    let (mut ex, _c) = exec();
    let pid = load(&mut ex, &spin(), &[]);
    let owned: Vec<_> = ex
        .mailbox_snapshot()
        .into_iter()
        .filter(|d| d.owner_pid == Some(pid))
        .map(|d| (d.namespace, d.name, d.capacity, d.mode_mask))
        .collect();
    assert_eq!(
        owned,
        vec![
            (Namespace::Svc, "stdio.in".to_string(), 64, 3),
            (Namespace::Svc, "stdio.out".to_string(), 64, 3),
            (Namespace::Svc, "stdio.err".to_string(), 64, 3),
            (Namespace::Pid, format!("pid:{pid}"), 64, 3),
        ]
    );
}

#[test]
fn bad_guest_pointers_give_statuses_not_panics() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    // Target string running off the end of memory (no NUL).
    a.ldi32(1, 0xFFFF).ldi(2, 0).svc(5, 0).mov(8, 0);
    open(&mut a, T_DEMO);
    // Payload/buffer/info pointers at the very end of memory.
    a.mov(1, 6)
        .ldi32(2, 0xFFF0)
        .ldi32(3, 0xFFFF)
        .ldi(4, 0)
        .ldi(5, 0)
        .svc(5, 2)
        .mov(9, 0)
        .mov(10, 1);
    a.mov(1, 6)
        .ldi32(2, 0xFFF8)
        .ldi32(3, 0xFFFF)
        .ldi(4, 0)
        .ldi32(5, 0xFFFC)
        .svc(5, 3)
        .mov(11, 0);
    a.ret();
    let mem = ExecConfig {
        mailbox: MailboxConfig {
            default_capacity: 64,
            ..MailboxConfig::desktop()
        },
        ..ExecConfig::default()
    };
    let (mut ex2, _c2) = exec_with(mem);
    for e in [&mut ex, &mut ex2] {
        let pid = load(e, &a.build(), &rodata());
        e.write_mem(pid, 0xFFFF, b"x").unwrap();
        e.step(1000);
        let t = e.task(pid).unwrap();
        assert_eq!(t.state, TaskState::Returned);
        assert_eq!(t.regs[8], 0, "'x' is a valid (caller-owned svc) target");
        assert_eq!(t.regs[9], u32::from(mbx::OK), "payload clipped to 16 bytes");
        assert_eq!(t.regs[10], 16);
        assert_eq!(t.regs[11], 0);
    }
}

#[test]
fn lazy_stdio_creates_streams_on_first_use_and_still_routes_them() {
    let cfg = || ExecConfig {
        mailbox: MailboxConfig {
            lazy_stdio: true,
            ..MailboxConfig::desktop()
        },
        stdio_drain: true,
        ..ExecConfig::default()
    };
    // FS_WRITE on fd 1: the text is an event (the mailbox unit tests pin which descriptors
    // appear).
    let (mut ex, _c) = exec_with(cfg());
    let mut a = Asm::new();
    a.ldi(1, 1)
        .ldi32(2, HELLO)
        .ldi(3, 5)
        .svc(4, 2)
        .mov(8, 0)
        .ret();
    let pid = load(&mut ex, &a.build(), &rodata());
    let names = |ex: &hsx_exec::Executive| -> Vec<String> {
        ex.mailboxes()
            .snapshot()
            .into_iter()
            .map(|d| d.name)
            .collect()
    };
    assert_eq!(names(&ex), vec![format!("pid:{pid}")]);
    ex.step(100);
    assert_eq!(ex.task(pid).unwrap().regs[8], 5);
    assert_eq!(stdout_of(&ex.drain_events(), pid), b"hello");
    // A task that opens its own stdout and sends before any FS_WRITE is routed too.
    let (mut ex, _c) = exec_with(cfg());
    let mut a = Asm::new();
    open(&mut a, T_OUT);
    send(&mut a, HELLO, 5);
    a.ret();
    let pid = load(&mut ex, &a.build(), &rodata());
    ex.step(100);
    assert_eq!(stdout_of(&ex.drain_events(), pid), b"hello");
}
