//! The `design.md` §4 item 7 fixes: where this manager deliberately differs from the
//! reference (reclamation, freeing, wakes, release, handle numbering).

use super::*;

// ---------------------------------------------------------------------- design fixes

#[test]
fn fix_tap_does_not_stall_fanout_block_reclamation() {
    let mut m = mgr();
    m.bind(0, "shared:fb", 32, FAN_BLOCK).unwrap();
    let p = m.open(1, "shared:fb").unwrap();
    let r = m.open(2, "shared:fb").unwrap();
    let t = m.open(3, "shared:fb").unwrap();
    m.tap(3, t, true).unwrap();
    for round in 0..10u8 {
        m.send(1, p, &[round; 10], 0, 0).unwrap();
        assert_eq!(payload(m.recv(2, r, 64).unwrap()), [round; 10]);
    }
    // The tap still saw copies (its own buffer is bounded by capacity).
    assert!(m.recv(3, t, 64).unwrap().is_some());
}

#[test]
fn fix_idle_default_stdio_handle_does_not_stall_fanout() {
    let mut m = mgr();
    m.set_default_stdio_mode(StdioStream::Out, FAN_BLOCK, false);
    let s = m.register_task(4).unwrap();
    let listener = m.open(0, "svc:stdio.out@4").unwrap();
    // The guest library prints with OPEN/SEND/CLOSE; its fd-1 handle stays idle.
    for i in 0..20u8 {
        let rep = m.send_to_target(4, "svc:stdio.out", &[i; 20], msg_flag::STDOUT, 0);
        assert!(rep.is_ok(), "send {i} stalled");
        assert_eq!(payload(m.recv(0, listener, 64).unwrap()), [i; 20]);
    }
    assert!(m.has_handle(4, s.stdout));
    let d = m.find(4, "svc:stdio.out").unwrap();
    assert_eq!(m.descriptor_info(d).unwrap().queue_depth, 0);
}

#[test]
fn fix_idle_opened_handle_does_not_stall_fanout_block_under_pressure() {
    let mut m = mgr();
    m.bind(0, "shared:ib", 32, FAN_BLOCK).unwrap();
    let p = m.open(1, "shared:ib").unwrap();
    let active = m.open(2, "shared:ib").unwrap();
    let idle = m.open(3, "shared:ib").unwrap();
    m.send(1, p, &[1; 10], 0, 0).unwrap();
    assert_eq!(payload(m.recv(2, active, 64).unwrap()), [1; 10]);
    // Without pressure the idle handle still holds the message (case 6 semantics).
    m.send(1, p, &[2; 8], 0, 0).unwrap();
    assert_eq!(payload(m.recv(2, active, 64).unwrap()), [2; 8]);
    // Under pressure the consumed messages are reclaimed despite the idle handle.
    assert!(m.send(1, p, &[3; 20], 0, 0).is_ok());
    // The idle handle learns it missed messages.
    let late = m.recv(3, idle, 64).unwrap().unwrap();
    assert_eq!(late.data, [3; 20]);
    assert_ne!(late.flags & msg_flag::OVERRUN, 0);
}

#[test]
fn fix_descriptor_freed_when_owner_exited_and_no_handle_remains() {
    let mut m = mgr();
    m.register_task(5).unwrap();
    let host = m.open(0, "svc:stdio.out@5").unwrap();
    let out = m.find(5, "svc:stdio.out").unwrap();
    let rep = m.release_pid(5);
    assert_eq!(rep.handles_closed, 3);
    // stdin, stderr and pid:5 had no other handle: freed now.
    assert_eq!(rep.descriptors_freed.len(), 3);
    assert!(!rep.descriptors_freed.contains(&out));
    let info = m.descriptor_info(out).unwrap();
    assert!(info.owner_exited);
    m.close(0, host).unwrap();
    assert!(m.descriptor_info(out).is_none());
    assert_eq!(m.descriptor_count(), 0);
    // Ids stay monotonic.
    assert!(m.bind(0, "app:new", 0, 0).unwrap() > out);
}

#[test]
fn fix_stdio_write_wakes_waiting_reader() {
    let mut m = mgr();
    m.register_task(6).unwrap();
    let host = m.open(0, "svc:stdio.out@6").unwrap();
    assert!(matches!(
        m.recv_or_wait(0, req(host, TIMEOUT_INFINITE)),
        Ok(RecvOutcome::Blocked { .. })
    ));
    assert_eq!(m.write_stdio(6, 1, b"ready\n"), Some(6));
    let done: Vec<Completion> = m.take_completions().into_iter().collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].payload(), b"ready\n");
    assert_eq!(done[0].regs()[2], u32::from(msg_flag::STDOUT));
}

#[test]
fn fix_release_pid_frees_handles_waits_and_taps() {
    let mut m = mgr();
    m.register_task(1).unwrap();
    m.register_task(2).unwrap();
    let t = m.open(2, "app:bus").unwrap();
    m.tap(2, t, true).unwrap();
    let w = m.open(2, "app:other").unwrap();
    m.recv_or_wait(2, req(w, 100)).unwrap();
    let rep = m.release_pid(2);
    assert!(rep.wait_cancelled);
    assert_eq!(rep.handles_closed, 5);
    assert_eq!(m.waiting(2), None);
    assert_eq!(m.next_deadline(), None);
    assert_eq!(m.stats().tap_count, 0);
    assert!(m.stats().handles_per_pid.iter().all(|(p, _)| *p != 2));
    assert!(m.snapshot().iter().all(|d| d.owner_pid != Some(2)));
    // Task 1 is untouched.
    assert_eq!(m.owned_by(1).len(), 4);
    assert!(m.release_pid(2).descriptors_freed.is_empty());
}

#[test]
fn fix_dead_waiter_does_not_swallow_next_message() {
    let mut m = mgr();
    let h1 = m.open(1, "shared:q").unwrap();
    let h2 = m.open(2, "shared:q").unwrap();
    m.recv_or_wait(1, req(h1, TIMEOUT_INFINITE)).unwrap();
    m.recv_or_wait(2, req(h2, TIMEOUT_INFINITE)).unwrap();
    m.release_pid(1);
    m.send_to_target(0, "shared:q", b"for-2", 0, 0).unwrap();
    let done: Vec<Completion> = m.take_completions().into_iter().collect();
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].pid, done[0].payload()), (2, &b"for-2"[..]));
}

#[test]
fn fix_closing_a_waited_handle_completes_the_wait() {
    let mut m = mgr();
    let h = m.open(3, "app:c").unwrap();
    m.recv_or_wait(3, req(h, TIMEOUT_INFINITE)).unwrap();
    m.close(3, h).unwrap();
    let done: Vec<Completion> = m.take_completions().into_iter().collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].status, crate::status::mbx::INVALID_HANDLE);
    assert_eq!(m.waiting(3), None);
}

#[test]
fn fix_handle_numbers_stay_within_16_bits() {
    let mut m = unlimited();
    let mut last = 0;
    for _ in 0..70_000u32 {
        let h = m.open(1, "app:churn").unwrap();
        assert!((1..=0xFFFF).contains(&h));
        m.close(1, h).unwrap();
        last = h;
    }
    assert_eq!(last, 70_000 - 0xFFFF);
    // Live handles are skipped after the wrap.
    let mut m = unlimited();
    let keep = m.open(1, "app:k").unwrap();
    for _ in 0..0xFFFE {
        let h = m.open(1, "app:k").unwrap();
        m.close(1, h).unwrap();
    }
    let h = m.open(1, "app:k").unwrap();
    assert_ne!(h, keep);
}

#[test]
fn unowned_descriptors_go_with_the_task_that_created_them() {
    // No budget and no reserve: the task can fill the pool (what this fix is about).
    let mut m = MailboxManager::new(MailboxConfig {
        descriptors_per_task: None,
        load_reserve: 0,
        ..MailboxConfig::desktop()
    });
    m.register_task(1).unwrap();
    m.register_task(2).unwrap();
    // What is left of the pool once task 1 has gone: task 2's own descriptors.
    let base = m.descriptor_count() - m.owned_by(1).len();
    // Task 1 fills the pool with shared mailboxes.
    let mut n = 0;
    while m.bind(1, &alloc::format!("shared:flood{n}"), 0, 0).is_ok() {
        n += 1;
    }
    assert!(m.bind(2, "shared:mine", 0, 0).is_err(), "pool exhausted");
    // One of them is held by task 2, and one by the host.
    let held = m.open(2, "shared:flood0").unwrap();
    let host = m.open(0, "shared:flood1").unwrap();
    m.release_pid(1);
    let flood0 = m.find(2, "shared:flood0").unwrap();
    assert!(m.descriptor_info(flood0).is_some(), "still held by task 2");
    assert!(
        m.find(0, "shared:flood1").is_some(),
        "still held by the host"
    );
    assert!(m.find(0, "shared:flood2").is_none(), "released");
    assert_eq!(m.descriptor_count(), base + 2);
    // Task 2 can bind again; its last handle frees the one it held.
    m.bind(2, "shared:mine", 0, 0).unwrap();
    m.close(2, held).unwrap();
    assert!(m.descriptor_info(flood0).is_none());
    // A descriptor the host created stays after any task ends.
    m.bind(0, "shared:hostbox", 0, 0).unwrap();
    m.open(2, "shared:hostbox").unwrap();
    m.release_pid(2);
    assert!(m.find(0, "shared:hostbox").is_some());
    m.close(0, host).unwrap();
}

// ---------------------------------------------------------------------- budgets

#[test]
fn a_task_creates_at_most_its_descriptor_budget() {
    let mut m = MailboxManager::new(MailboxConfig {
        descriptors_per_task: Some(5),
        ..MailboxConfig::desktop()
    });
    m.register_task(1).unwrap();
    m.register_task(2).unwrap();
    let _ = m.take_events();
    for n in 0..5 {
        m.bind(1, &alloc::format!("shared:s{n}"), 0, 0).unwrap();
    }
    // Any namespace counts; binding or opening what exists does not.
    assert_eq!(m.open(1, "app:more"), Err(MailboxError::DescriptorQuota));
    assert_eq!(
        MailboxError::DescriptorQuota.status(),
        crate::status::mbx::NO_DESCRIPTOR
    );
    assert!(m.bind(1, "shared:s0", 0, 0).is_ok());
    assert!(m.open(1, "shared:s1").is_ok());
    assert!(events_of(&mut m).iter().any(|e| matches!(
        e,
        MailboxEvent::Exhausted {
            reason: ExhaustedReason::DescriptorQuota,
            pid: Some(1),
            limit: 5,
            ..
        }
    )));
    // Another task still has its own budget, and the host none.
    assert!(m.bind(2, "shared:other", 0, 0).is_ok());
    for n in 0..10 {
        m.bind(0, &alloc::format!("shared:h{n}"), 0, 0).unwrap();
    }
    // Gone with the task, the budget is free again for a new one.
    m.release_pid(1);
    m.register_task(3).unwrap();
    for n in 0..5 {
        m.bind(3, &alloc::format!("shared:t{n}"), 0, 0).unwrap();
    }
}

#[test]
fn tasks_cannot_take_the_reserve_that_loads_need() {
    let cfg = MailboxConfig {
        max_descriptors: 40,
        descriptors_per_task: None,
        load_reserve: 8,
        ..MailboxConfig::desktop()
    };
    let mut m = MailboxManager::new(cfg);
    m.register_task(1).unwrap();
    let mut n = 0;
    while m.bind(1, &alloc::format!("shared:flood{n}"), 0, 0).is_ok() {
        n += 1;
    }
    assert_eq!(m.descriptor_count(), 40 - 8);
    let _ = m.take_events();
    assert_eq!(
        m.bind(1, "shared:one_more", 0, 0),
        Err(MailboxError::DescriptorQuota)
    );
    assert!(events_of(&mut m).iter().any(|e| matches!(
        e,
        MailboxEvent::Exhausted {
            reason: ExhaustedReason::DescriptorReserve,
            limit: 32,
            ..
        }
    )));
    // Two more tasks still load (four descriptors each) while task 1 holds its flood.
    m.register_task(2).unwrap();
    m.register_task(3).unwrap();
}
