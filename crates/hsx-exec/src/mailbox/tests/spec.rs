//! `services.md` §8 cases 1-16: handles, descriptors, fan-out, taps, blocking receives,
//! timeouts, quotas, zero-length sends and the host's stdio view.

use super::*;

// ---------------------------------------------------------------------- §8 case 1

#[test]
fn case01_handles_are_per_pid_and_start_at_one() {
    let mut m = mgr();
    assert_eq!(m.open(1, "svc:stdio.out"), Ok(1));
    assert_eq!(m.open(1, "svc:stdio.err"), Ok(2));
    assert_eq!(m.open(2, "pid:2"), Ok(1));
}

// ---------------------------------------------------------------------- §8 case 2

#[test]
fn case02_register_task_creates_stdio_and_control_mailboxes() {
    let mut m = mgr();
    let h = m.register_task(7).unwrap();
    assert_eq!(
        h,
        StdioHandles {
            stdin: 1,
            stdout: 2,
            stderr: 3
        }
    );
    let snap = m.snapshot();
    assert_eq!(snap.len(), 4);
    let names: Vec<(&str, Option<u32>)> = snap
        .iter()
        .map(|d| (d.name.as_str(), d.owner_pid))
        .collect();
    assert!(names.contains(&("stdio.in", Some(7))));
    assert!(names.contains(&("stdio.out", Some(7))));
    assert!(names.contains(&("stdio.err", Some(7))));
    assert!(names.contains(&("pid:7", Some(7))));
    assert!(snap.iter().all(|d| d.mode_mask == mode::RDWR));
}

#[test]
fn case02_descriptor_pool_exhaustion_reports_no_descriptor() {
    let mut m = MailboxManager::new(MailboxConfig {
        max_descriptors: 4,
        ..MailboxConfig::desktop()
    });
    m.register_task(1).unwrap();
    assert_eq!(m.descriptor_count(), 4);
    let _ = m.take_events();
    let err = m.bind(1, "app:overflow", 0, 0).unwrap_err();
    assert_eq!(err, MailboxError::NoDescriptor);
    assert_eq!(err.status(), crate::status::mbx::NO_DESCRIPTOR);
    assert!(m.stats().descriptor_pool_exhausted);
    assert!(events_of(&mut m).iter().any(|e| matches!(
        e,
        MailboxEvent::Exhausted {
            reason: ExhaustedReason::DescriptorPoolFull,
            ..
        }
    )));
}

// ---------------------------------------------------------------------- §8 case 3

#[test]
fn case03_cost_includes_eight_byte_header() {
    let mut m = mgr();
    m.bind(1, "svc:small", 16, 0).unwrap();
    let h = m.open(1, "svc:small").unwrap();
    assert_eq!(
        m.send(1, h, b"123456789012", 0, 0),
        Err(MailboxError::MsgTooLarge)
    );
    assert_eq!(MailboxError::MsgTooLarge.status(), 4);
}

#[test]
fn case03_app_bind_open_reuse_and_backpressure() {
    let mut m = mgr();
    let d1 = m.bind(1, "app:demo", 16, 0).unwrap();
    let d2 = m.bind(2, "app:demo", 0, 0).unwrap();
    assert_eq!(d1, d2);
    let tx = m.open(1, "app:demo").unwrap();
    let rx = m.open(2, "app:demo").unwrap();
    assert_eq!(m.send(1, tx, b"AAAAAAAA", 0, 0).unwrap().bytes, 8);
    let _ = m.take_events();
    assert_eq!(
        m.send(1, tx, b"BBBBBBBB", 0, 0),
        Err(MailboxError::WouldBlock)
    );
    assert!(events_of(&mut m).iter().any(|e| matches!(
        e,
        MailboxEvent::Backpressure {
            policy: BackpressurePolicy::Single,
            requested: 16,
            ..
        }
    )));
    assert_eq!(payload(m.recv(2, rx, 64).unwrap()), b"AAAAAAAA");
}

// ---------------------------------------------------------------------- §8 case 4

#[test]
fn case04_app_is_global_and_stdio_is_per_pid() {
    let mut m = mgr();
    let c = m.open(1, "app:demo").unwrap();
    let p = m.open(2, "app:demo").unwrap();
    let dc = m.descriptor_of(1, c).unwrap();
    assert_eq!(dc, m.descriptor_of(2, p).unwrap());
    let info = m.descriptor_info(dc).unwrap();
    assert_eq!(info.namespace, Namespace::App);
    assert_eq!(info.owner_pid, None);
    m.send(2, p, b"ping", 0, 0).unwrap();
    assert_eq!(payload(m.recv(1, c, 64).unwrap()), b"ping");

    let own = m.bind(0, "svc:stdio.out", 0, 0).unwrap();
    let other = m.bind(0, "svc:stdio.out@10", 0, 0).unwrap();
    assert_ne!(own, other);
    assert_eq!(m.descriptor_info(other).unwrap().owner_pid, Some(10));
}

// ---------------------------------------------------------------------- §8 case 5

#[test]
fn case05_fanout_drop_sets_overrun_and_emits_event() {
    let mut m = mgr();
    let d = m.bind(0, "shared:fan_drop", 16, FAN_DROP).unwrap();
    let p = m.open(1, "shared:fan_drop").unwrap();
    let c = m.open(2, "shared:fan_drop").unwrap();
    m.send(1, p, b"first", 0, 0).unwrap();
    let _ = m.take_events();
    m.send(1, p, b"second", 0, 0).unwrap();
    let ev = events_of(&mut m);
    let over = ev
        .iter()
        .find_map(|e| match e {
            MailboxEvent::Overrun {
                descriptor,
                reason,
                dropped_length,
                pid,
                ..
            } => Some((*descriptor, *reason, *dropped_length, *pid)),
            _ => None,
        })
        .unwrap();
    assert_eq!(over, (d, OverrunReason::FanoutDrop, 5, 1));
    assert_eq!(OverrunReason::FanoutDrop.as_str(), "fanout_drop");
    let msg = m.recv(2, c, 64).unwrap().unwrap();
    assert_eq!(msg.data, b"second");
    assert_ne!(msg.flags & msg_flag::OVERRUN, 0);
}

#[test]
fn fanout_delivers_to_every_reader_and_reclaims() {
    let mut m = mgr();
    let d = m.bind(0, "shared:fan", 32, FAN_DROP).unwrap();
    let p = m.open(1, "shared:fan").unwrap();
    let a = m.open(2, "shared:fan").unwrap();
    let b = m.open(3, "shared:fan").unwrap();
    m.send(1, p, b"alpha", 0, 0).unwrap();
    let ma = m.recv(2, a, 64).unwrap().unwrap();
    let mb = m.recv(3, b, 64).unwrap().unwrap();
    assert_eq!(
        (ma.data.as_slice(), mb.data.as_slice()),
        (&b"alpha"[..], &b"alpha"[..])
    );
    assert_eq!(ma.flags & msg_flag::OVERRUN, 0);
    let info = m.descriptor_info(d).unwrap();
    assert_eq!((info.queue_depth, info.bytes_used), (0, 0));
}

#[test]
fn fanout_handle_only_sees_messages_sent_after_it_joined() {
    let mut m = mgr();
    m.bind(0, "shared:late", 64, FAN_DROP).unwrap();
    let p = m.open(1, "shared:late").unwrap();
    let early = m.open(2, "shared:late").unwrap();
    m.send(1, p, b"old", 0, 0).unwrap();
    let late = m.open(3, "shared:late").unwrap();
    assert_eq!(m.recv(3, late, 64).unwrap(), None);
    m.send(1, p, b"new", 0, 0).unwrap();
    assert_eq!(payload(m.recv(3, late, 64).unwrap()), b"new");
    assert_eq!(payload(m.recv(2, early, 64).unwrap()), b"old");
}

// ---------------------------------------------------------------------- §8 case 6

#[test]
fn case06_fanout_block_refuses_when_full_and_accepts_after_consume() {
    let mut m = mgr();
    m.bind(0, "shared:fan_block", 16, FAN_BLOCK).unwrap();
    let p = m.open(1, "shared:fan_block").unwrap();
    let c = m.open(2, "shared:fan_block").unwrap();
    m.send(1, p, b"first", 0, 0).unwrap();
    let _ = m.take_events();
    assert_eq!(m.send(1, p, b"second", 0, 0), Err(MailboxError::WouldBlock));
    assert!(events_of(&mut m).iter().any(|e| matches!(
        e,
        MailboxEvent::Backpressure {
            policy: BackpressurePolicy::FanoutBlock,
            ..
        }
    )));
    let msg = m.recv(2, c, 64).unwrap().unwrap();
    assert_eq!(msg.data, b"first");
    assert_eq!(msg.flags & msg_flag::OVERRUN, 0);
    assert!(m.send(1, p, b"third", 0, 0).is_ok());
}

#[test]
fn case06_fanout_reclaims_only_after_every_reader_consumed() {
    let mut m = mgr();
    let d = m.bind(0, "shared:fan_reclaim", 64, FAN_BLOCK).unwrap();
    let p = m.open(1, "shared:fan_reclaim").unwrap();
    let a = m.open(2, "shared:fan_reclaim").unwrap();
    let b = m.open(3, "shared:fan_reclaim").unwrap();
    m.send(1, p, b"data", 0, 0).unwrap();
    assert_eq!(m.descriptor_info(d).unwrap().queue_depth, 1);
    assert_eq!(payload(m.recv(2, a, 64).unwrap()), b"data");
    assert_eq!(m.descriptor_info(d).unwrap().queue_depth, 1);
    assert_eq!(payload(m.recv(3, b, 64).unwrap()), b"data");
    assert_eq!(m.descriptor_info(d).unwrap().queue_depth, 0);
}

// ---------------------------------------------------------------------- §8 case 7

#[test]
fn case07_tap_gets_copy_without_consuming() {
    let mut m = mgr();
    m.bind(0, "shared:tap_demo", 64, mode::RDWR).unwrap();
    let owner = m.open(1, "shared:tap_demo").unwrap();
    let tap = m.open(2, "shared:tap_demo").unwrap();
    m.tap(2, tap, true).unwrap();
    m.send(1, owner, b"hello", 0, 0).unwrap();
    assert_eq!(payload(m.recv(1, owner, 64).unwrap()), b"hello");
    let t = m.recv(2, tap, 64).unwrap().unwrap();
    assert_eq!(t.data, b"hello");
    assert_eq!(t.flags & msg_flag::OVERRUN, 0);
}

#[test]
fn case07_tap_rate_limit_drops_copies_and_flags_overrun() {
    let mut m = MailboxManager::new(MailboxConfig {
        tap_rate_limit: 2,
        ..MailboxConfig::desktop()
    });
    m.bind(1, "svc:stdio.out", 0, 0).unwrap();
    let owner = m.open(1, "svc:stdio.out").unwrap();
    let tap = m.open(0, "svc:stdio.out@1").unwrap();
    m.tap(0, tap, true).unwrap();
    m.set_now(0);
    for _ in 0..3 {
        m.send(1, owner, b"x", 0, 0).unwrap();
    }
    assert!(events_of(&mut m).iter().any(|e| matches!(
        e,
        MailboxEvent::Backpressure {
            policy: BackpressurePolicy::TapRateLimit,
            tap: Some((0, _)),
            limit: 2,
            ..
        }
    )));
    let got: Vec<Received> = (0..3).filter_map(|_| m.recv(0, tap, 64).unwrap()).collect();
    assert_eq!(got.len(), 2);
    assert_ne!(got[0].flags & msg_flag::OVERRUN, 0);
    assert_eq!(got[1].flags & msg_flag::OVERRUN, 0);
    m.set_now(1500);
    m.send(1, owner, b"x", 0, 0).unwrap();
    assert!(m.recv(0, tap, 64).unwrap().is_some());
}

#[test]
fn disabling_a_tap_discards_its_buffer_and_restores_normal_reads() {
    let mut m = mgr();
    m.bind(0, "shared:t", 64, mode::RDWR).unwrap();
    let p = m.open(1, "shared:t").unwrap();
    let t = m.open(2, "shared:t").unwrap();
    m.tap(2, t, true).unwrap();
    m.send(1, p, b"one", 0, 0).unwrap();
    m.tap(2, t, false).unwrap();
    // Not a tap any more: reads the main queue (single reader consumes).
    assert_eq!(payload(m.recv(2, t, 64).unwrap()), b"one");
    assert!(m.snapshot()[0].taps.is_empty());
}

// ---------------------------------------------------------------------- §8 case 8

#[test]
fn case08_blocking_recv_is_woken_by_send() {
    let mut m = mgr();
    let rx = m.open(2, "app:wake").unwrap();
    let tx = m.open(1, "app:wake").unwrap();
    let out = m.recv_or_wait(2, req(rx, TIMEOUT_INFINITE)).unwrap();
    assert_eq!(out, RecvOutcome::Blocked { deadline_ms: None });
    assert!(!m.has_completions());
    m.send(1, tx, b"hello", 0, 0).unwrap();
    let done: Vec<Completion> = m.take_completions().into_iter().collect();
    assert_eq!(done.len(), 1);
    let c = &done[0];
    assert_eq!(
        (c.pid, c.handle, c.buf_ptr, c.info_ptr),
        (2, rx, 0x0200, 0x0300)
    );
    assert_eq!(c.regs(), [0, 5, 0, 0, 1]);
    assert_eq!(c.payload(), b"hello");
    let info = c.info_record();
    assert_eq!(info, recv_info(0, 5, 0, 0, 1));
    assert_eq!(&info[4..8], &5u32.to_le_bytes());
    assert_eq!(&info[16..20], &1u32.to_le_bytes());
    assert_eq!(m.counters(2).wake, 1);
    assert_eq!(m.waiting(2), None);
    assert!(events_of(&mut m).iter().any(|e| matches!(
        e,
        MailboxEvent::Wake {
            pid: 2,
            status: 0,
            length: 5,
            src_pid: 1,
            ..
        }
    )));
}

#[test]
fn recv_truncates_to_max_len_and_discards_rest() {
    let mut m = mgr();
    let h = m.open(1, "app:t").unwrap();
    m.send(1, h, b"abcdefgh", 0x4, 9).unwrap();
    m.send(1, h, b"next", 0, 0).unwrap();
    let r = m.recv(1, h, 3).unwrap().unwrap();
    assert_eq!(r.data, b"abc");
    assert_eq!(r.original_len, 8);
    assert_eq!(r.regs(), [0, 3, 0x4, 9, 1]);
    assert_eq!(payload(m.recv(1, h, 64).unwrap()), b"next");
}

// ---------------------------------------------------------------------- §8 case 9

#[test]
fn case09_poll_on_empty_returns_no_data_without_waiting() {
    let mut m = mgr();
    let h = m.open(1, "app:poll").unwrap();
    let _ = m.take_events();
    assert_eq!(
        m.recv_or_wait(1, req(h, TIMEOUT_POLL)),
        Ok(RecvOutcome::NoData)
    );
    assert_eq!(m.waiting(1), None);
    assert!(m.snapshot()[0].waiters.is_empty());
    assert!(
        !events_of(&mut m)
            .iter()
            .any(|e| matches!(e, MailboxEvent::Wait { .. }))
    );
    assert_eq!(recv_info(crate::status::mbx::NO_DATA, 0, 0, 0, 0)[0], 3);
}

// ---------------------------------------------------------------------- §8 case 10

#[test]
fn case10_finite_timeout_expires_with_timeout_status() {
    let mut m = mgr();
    m.set_now(1000);
    let h = m.open(1, "app:slow").unwrap();
    m.count_step(1);
    let out = m.recv_or_wait(1, req(h, 50)).unwrap();
    assert_eq!(
        out,
        RecvOutcome::Blocked {
            deadline_ms: Some(1050)
        }
    );
    assert_eq!(m.next_deadline(), Some(1050));
    assert!(m.expire_due(1049).is_empty());
    let done = m.expire_due(1050);
    assert_eq!(done.len(), 1);
    let c = &done[0];
    assert!(c.timed_out());
    assert_eq!(c.regs(), [7, 0, 0, 0, 0]);
    assert_eq!(c.info_record(), recv_info(7, 0, 0, 0, 0));
    assert!(c.payload().is_empty());
    assert_eq!(
        m.counters(1),
        PidCounters {
            step: 1,
            wake: 0,
            timeout: 1
        }
    );
    assert!(
        events_of(&mut m)
            .iter()
            .any(|e| matches!(e, MailboxEvent::Timeout { pid: 1, .. }))
    );
    // A late send does not complete anything.
    let tx = m.open(2, "app:slow").unwrap();
    m.send(2, tx, b"late", 0, 0).unwrap();
    assert!(!m.has_completions());
}

#[test]
fn zero_ms_timeout_is_at_least_one_ms_and_expire_is_idempotent() {
    let mut m = mgr();
    m.set_now(10);
    let h = m.open(1, "app:x").unwrap();
    assert_eq!(
        m.recv_or_wait(1, req(h, 1)).unwrap(),
        RecvOutcome::Blocked {
            deadline_ms: Some(11)
        }
    );
    assert!(m.expire(1).is_some());
    assert!(m.expire(1).is_none());
}

// ---------------------------------------------------------------------- §8 case 11

#[test]
fn case11_single_reader_wakes_fifo_one_per_message() {
    let mut m = mgr();
    let mut hs = Vec::new();
    for pid in [1, 2, 3] {
        let h = m.open(pid, "shared:test").unwrap();
        m.recv_or_wait(pid, req(h, TIMEOUT_INFINITE)).unwrap();
        hs.push(h);
    }
    let tx = m.open(0, "shared:test").unwrap();
    for (i, expect) in [1u32, 2, 3].into_iter().enumerate() {
        m.send(0, tx, &[b'a' + i as u8], 0, 0).unwrap();
        let done: Vec<Completion> = m.take_completions().into_iter().collect();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].pid, expect);
        assert_eq!(done[0].payload(), &[b'a' + i as u8]);
    }
}

// ---------------------------------------------------------------------- §8 case 12

#[test]
fn case12_fanout_send_wakes_every_waiting_reader_in_fifo_order() {
    let mut m = mgr();
    m.bind(0, "shared:fanout", 0, FAN_DROP).unwrap();
    for pid in [5, 3, 7, 2] {
        let h = m.open(pid, "shared:fanout").unwrap();
        m.recv_or_wait(pid, req(h, TIMEOUT_INFINITE)).unwrap();
    }
    let tx = m.open(0, "shared:fanout").unwrap();
    m.send(0, tx, b"broadcast", 0, 0).unwrap();
    let done: Vec<u32> = m.take_completions().into_iter().map(|c| c.pid).collect();
    assert_eq!(done, vec![5, 3, 7, 2]);
}

#[test]
fn case12_tap_is_not_a_regular_waiter_but_gets_its_copy() {
    let mut m = mgr();
    m.bind(0, "shared:test", 0, FAN_DROP).unwrap();
    let h1 = m.open(1, "shared:test").unwrap();
    let h2 = m.open(2, "shared:test").unwrap();
    let ht = m.open(99, "shared:test").unwrap();
    m.tap(99, ht, true).unwrap();
    m.recv_or_wait(1, req(h1, TIMEOUT_INFINITE)).unwrap();
    m.recv_or_wait(2, req(h2, TIMEOUT_INFINITE)).unwrap();
    assert_eq!(m.snapshot()[0].waiters, vec![1, 2]);
    let tx = m.open(0, "shared:test").unwrap();
    m.send(0, tx, b"test", 0, 0).unwrap();
    let done: Vec<u32> = m.take_completions().into_iter().map(|c| c.pid).collect();
    assert_eq!(done, vec![1, 2]);
    assert_eq!(payload(m.recv(99, ht, 64).unwrap()), b"test");
}

#[test]
fn single_reader_with_a_waiting_tap_still_wakes_the_reader() {
    let mut m = mgr();
    let ht = m.open(9, "app:q").unwrap();
    m.tap(9, ht, true).unwrap();
    let hr = m.open(1, "app:q").unwrap();
    m.recv_or_wait(9, req(ht, TIMEOUT_INFINITE)).unwrap();
    m.recv_or_wait(1, req(hr, TIMEOUT_INFINITE)).unwrap();
    let tx = m.open(0, "app:q").unwrap();
    m.send(0, tx, b"m", 0, 0).unwrap();
    let mut done: Vec<u32> = m.take_completions().into_iter().map(|c| c.pid).collect();
    done.sort_unstable();
    assert_eq!(done, vec![1, 9]);
}

// ---------------------------------------------------------------------- §8 case 13

#[test]
fn case13_handle_quota_and_recovery_after_close() {
    let mut m = MailboxManager::new(MailboxConfig {
        handle_limit_per_pid: Some(4),
        ..MailboxConfig::desktop()
    });
    m.register_task(1).unwrap();
    let extra = m.open(1, "app:extra").unwrap();
    let _ = m.take_events();
    let err = m.open(1, "app:overflow").unwrap_err();
    assert_eq!(err, MailboxError::HandleLimit);
    assert_eq!(err.status(), crate::status::mbx::NO_DESCRIPTOR);
    assert!(events_of(&mut m).iter().any(|e| matches!(
        e,
        MailboxEvent::Exhausted {
            reason: ExhaustedReason::HandleLimit,
            pid: Some(1),
            limit: 4,
            ..
        }
    )));
    m.close(1, extra).unwrap();
    assert!(m.open(1, "app:reopen").unwrap() > 0);
    assert_eq!(m.open(2, "svc:stdio.out"), Ok(1));
}

#[test]
fn case13_named_profiles() {
    let e = MailboxConfig::by_name("embedded").unwrap();
    assert_eq!((e.max_descriptors, e.handle_limit_per_pid), (16, Some(8)));
    assert_eq!(e.tap_rate_limit, 20);
    let d = MailboxConfig::by_name("desktop").unwrap();
    assert_eq!(
        (
            d.max_descriptors,
            d.handle_limit_per_pid,
            d.default_capacity
        ),
        (256, Some(64), 64)
    );
    assert!(MailboxConfig::by_name("huge").is_none());
    // Four descriptors per task: the embedded profile fits four tasks.
    let mut m = MailboxManager::new(e);
    for pid in 1..=4 {
        m.register_task(pid).unwrap();
    }
    assert_eq!(m.register_task(5), Err(MailboxError::NoDescriptor));
}

// ---------------------------------------------------------------------- §8 case 14

#[test]
fn case14_closed_handle_is_invalid_and_numbers_are_not_reused() {
    let mut m = mgr();
    let h = m.open(1, "svc:stdio.out").unwrap();
    m.close(1, h).unwrap();
    assert_eq!(m.send(1, h, b"msg", 0, 0), Err(MailboxError::InvalidHandle));
    assert_eq!(m.recv(1, h, 8), Err(MailboxError::InvalidHandle));
    assert_eq!(m.close(1, h), Err(MailboxError::InvalidHandle));
    assert_eq!(m.peek(1, h), Err(MailboxError::InvalidHandle));
    assert_eq!(m.tap(1, h, true), Err(MailboxError::InvalidHandle));
    assert_eq!(MailboxError::InvalidHandle.status(), 2);
    let n = m.open(1, "svc:stdio.out").unwrap();
    assert_ne!(n, h);
}

// ---------------------------------------------------------------------- §8 case 15

#[test]
fn case15_zero_length_send_enqueues_nothing() {
    let mut m = mgr();
    m.register_task(1).unwrap();
    let h = m.open(1, "svc:stdio.out").unwrap();
    let r = m.send(1, h, b"", msg_flag::STDOUT, 0).unwrap();
    assert_eq!(r.bytes, 0);
    assert_eq!(m.descriptor_info(r.descriptor).unwrap().queue_depth, 0);
    let host = m.open(0, "svc:stdio.out@1").unwrap();
    assert_eq!(
        m.recv_or_wait(0, req(host, TIMEOUT_POLL)),
        Ok(RecvOutcome::NoData)
    );
}

#[test]
fn case15_zero_length_send_wakes_nobody() {
    let mut m = mgr();
    let rx = m.open(2, "app:z").unwrap();
    let tx = m.open(1, "app:z").unwrap();
    m.recv_or_wait(2, req(rx, TIMEOUT_INFINITE)).unwrap();
    m.send(1, tx, b"", 0, 0).unwrap();
    assert!(!m.has_completions());
    assert!(m.waiting(2).is_some());
}

#[test]
fn case15_embedded_nul_bytes_survive() {
    let mut m = mgr();
    m.register_task(2).unwrap();
    let h = m.open(2, "svc:stdio.out").unwrap();
    m.send(2, h, b"abc\0def", msg_flag::STDOUT, 0).unwrap();
    let host = m.open(0, "svc:stdio.out@2").unwrap();
    let r = m.recv(0, host, 64).unwrap().unwrap();
    assert_eq!(r.data, b"abc\0def");
    assert_eq!(r.flags, msg_flag::STDOUT);
}

// ---------------------------------------------------------------------- §8 case 16

#[test]
fn case16_host_listen_and_send_use_owner_suffixed_stdio() {
    let mut m = mgr();
    m.register_task(5).unwrap();
    let s7 = m.register_task(7).unwrap();
    // Task 5 prints through its fd table.
    assert_eq!(m.write_stdio(5, 1, b"hi"), Some(2));
    // listen: open as PID 0, poll, close.
    let h = m.open(0, "svc:stdio.out@5").unwrap();
    let r = m.recv(0, h, 512).unwrap().unwrap();
    assert_eq!(
        (r.data.as_slice(), r.src_pid, r.flags),
        (&b"hi"[..], 5, msg_flag::STDOUT)
    );
    m.close(0, h).unwrap();
    // send: PID 0 writes into task 7's stdin.
    let rep = m.send_to_target(0, "svc:stdio.in@7", b"cmd", 0, 0).unwrap();
    assert_eq!(rep.bytes, 3);
    let got = m.recv(7, s7.stdin, 64).unwrap().unwrap();
    assert_eq!((got.data.as_slice(), got.src_pid), (&b"cmd"[..], 0));
    // The temporary handle is gone.
    assert!(!m.has_handle(0, 2));
}

#[test]
fn write_stdio_routing_rules() {
    let mut m = mgr();
    m.register_task(3).unwrap();
    assert_eq!(m.write_stdio(3, 5, b"x"), None, "not a stdio fd");
    assert_eq!(m.write_stdio(3, 1, b""), None, "empty falls through");
    assert_eq!(m.write_stdio(4, 1, b"x"), None, "unregistered task");
    assert_eq!(m.write_stdio(3, 2, b"err"), Some(3));
    let full = [0u8; 56];
    assert_eq!(m.write_stdio(3, 1, &full), Some(56));
    assert_eq!(m.write_stdio(3, 1, b"more"), Some(0), "mailbox refused");
    let h = m.open(0, "svc:stdio.err@3").unwrap();
    assert_eq!(m.recv(0, h, 8).unwrap().unwrap().flags, msg_flag::STDERR);
}
