//! Mailbox behaviour: `services.md` §8 cases 1-16 and the `design.md` §4 item 7 fixes.

use alloc::vec;
use alloc::vec::Vec;

use super::*;

const FAN_DROP: u16 = mode::RDWR | mode::FANOUT | mode::FANOUT_DROP;
const FAN_BLOCK: u16 = mode::RDWR | mode::FANOUT | mode::FANOUT_BLOCK;

fn mgr() -> MailboxManager {
    MailboxManager::default()
}

fn unlimited() -> MailboxManager {
    MailboxManager::new(MailboxConfig {
        handle_limit_per_pid: None,
        ..MailboxConfig::desktop()
    })
}

fn req(handle: u32, timeout: u16) -> RecvRequest {
    RecvRequest {
        handle,
        max_len: 64,
        timeout,
        buf_ptr: 0x0200,
        info_ptr: 0x0300,
    }
}

fn payload(r: Option<Received>) -> Vec<u8> {
    r.map(|m| m.data).unwrap_or_default()
}

fn events_of(m: &mut MailboxManager) -> Vec<MailboxEvent> {
    m.take_events().into_iter().collect()
}

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

// ---------------------------------------------------------------------- bind / peek

#[test]
fn rebind_resizes_and_mode_change_resets_cursors() {
    let mut m = mgr();
    let d = m.bind(1, "app:r", 64, 0).unwrap();
    let h = m.open(1, "app:r").unwrap();
    for _ in 0..3 {
        m.send(1, h, b"12345678", 0, 0).unwrap();
    }
    assert_eq!(m.descriptor_info(d).unwrap().bytes_used, 48);
    assert_eq!(m.bind(1, "app:r", 32, 0).unwrap(), d);
    let info = m.descriptor_info(d).unwrap();
    assert_eq!(
        (info.capacity, info.bytes_used, info.queue_depth),
        (32, 32, 2)
    );
    // Mode 0 leaves mode untouched; non-zero replaces it.
    m.bind(1, "app:r", 0, 0).unwrap();
    assert_eq!(m.descriptor_info(d).unwrap().mode_mask, 0);
    m.bind(1, "app:r", 0, FAN_DROP).unwrap();
    let p = m.peek(1, h).unwrap();
    assert_eq!(p.mode_mask, FAN_DROP);
    assert_eq!(p.next_len, 0, "fan-out cursor jumped to now");
    // The reset cursor has passed the queued messages, so they are reclaimed (reference
    // behaviour: a mode change discards what was queued).
    assert_eq!(p.depth, 0);
}

#[test]
fn peek_reports_depth_bytes_and_next_len() {
    let mut m = mgr();
    let h = m.open(1, "app:p").unwrap();
    m.send(1, h, b"abc", 0, 0).unwrap();
    m.send(1, h, b"de", 0, 0).unwrap();
    let p = m.peek(1, h).unwrap();
    assert_eq!(p.regs(), [0, 2, 11 + 10, 3]);
    assert_eq!(p.capacity, 64);
}

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

// ---------------------------------------------------------------------- misc

#[test]
fn bad_targets_report_internal_error() {
    let mut m = mgr();
    for t in ["", "pid:abc", "app:x@zz"] {
        let e = m.open(1, t).unwrap_err();
        assert_eq!(e.status(), crate::status::mbx::INTERNAL_ERROR);
    }
    m.report_error(1, func::OPEN, 0xFF);
    assert!(events_of(&mut m).contains(&MailboxEvent::Error {
        pid: 1,
        fn_id: 0,
        status: 0xFF
    }));
}

#[test]
fn snapshot_and_stats_shapes() {
    let mut m = mgr();
    m.register_task(1).unwrap();
    let d = m.bind(0, "shared:fan", 0, FAN_DROP).unwrap();
    let a = m.open(2, "shared:fan").unwrap();
    let t = m.open(3, "shared:fan").unwrap();
    m.tap(3, t, true).unwrap();
    m.send(2, a, b"hello", 0, 0).unwrap();
    m.recv_or_wait(1, req(m.stdio_handles(1).unwrap().stdin, TIMEOUT_INFINITE))
        .unwrap();
    let info = m.descriptor_info(d).unwrap();
    assert_eq!(info.target, "shared:fan");
    assert_eq!(info.sent, 1);
    assert_eq!(info.handles, 2);
    assert_eq!(info.readers, 0, "sender and tap are not readers");
    assert_eq!(
        info.taps,
        vec![TapInfo {
            pid: 3,
            handle: t,
            depth: 1
        }]
    );
    let s = m.stats();
    assert_eq!(s.active_descriptors, 5);
    assert_eq!(s.free_descriptors, 251);
    assert_eq!(s.handles_total, 5);
    assert_eq!(s.handles_per_pid, vec![(1, 3), (2, 1), (3, 1)]);
    assert_eq!((s.tap_count, s.tap_queue_depth, s.waiter_count), (1, 1, 1));
    assert_eq!(s.fanout_descriptors, 1);
    assert_eq!(s.bytes_used, 13);
    let ids: Vec<u32> = m.snapshot().iter().map(|d| d.descriptor_id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
}

#[test]
fn stdio_template_and_existing_descriptors() {
    let mut m = mgr();
    m.register_task(5).unwrap();
    assert_eq!(m.stdio_mode(5, StdioStream::Out), mode::RDWR);
    let updated = m.set_default_stdio_mode(StdioStream::Out, mode::RDWR | mode::FANOUT, true);
    assert_eq!(updated.len(), 1);
    assert_ne!(m.stdio_mode(5, StdioStream::Out) & mode::FANOUT, 0);
    let h = m.open(99, "svc:stdio.out@5").unwrap();
    assert_ne!(m.peek(99, h).unwrap().mode_mask & mode::FANOUT, 0);
    m.register_task(6).unwrap();
    assert_eq!(m.stdio_mode(6, StdioStream::Out), mode::RDWR | mode::FANOUT);
    assert_eq!(m.stdio_mode(6, StdioStream::Err), mode::RDWR);
    assert_eq!(StdioStream::from_name("STDERR"), Some(StdioStream::Err));
    assert_eq!(StdioStream::from_name("both"), None);
}

#[test]
fn register_task_is_idempotent() {
    let mut m = mgr();
    let a = m.register_task(1).unwrap();
    let b = m.register_task(1).unwrap();
    assert_eq!(a, b);
    assert_eq!(m.descriptor_count(), 4);
}

#[test]
fn event_queue_is_bounded() {
    let mut m = mgr();
    m.set_event_capacity(2);
    let h = m.open(1, "app:e").unwrap();
    for _ in 0..3 {
        m.send(1, h, b"x", 0, 0).unwrap();
    }
    assert_eq!(m.take_events().len(), 2);
    assert_eq!(m.events_dropped(), 1);
    m.set_events_enabled(false);
    m.send(1, h, b"x", 0, 0).unwrap();
    assert!(m.take_events().is_empty());
}

#[test]
fn mailbox_port_posts_and_closes() {
    let mut m = mgr();
    let h = MailboxPort::open(&mut m, 1, "app:port").unwrap();
    MailboxPort::post(&mut m, 1, h, b"abc").unwrap();
    assert_eq!(payload(m.recv(1, h, 8).unwrap()), b"abc");
    MailboxPort::close(&mut m, 1, h);
    MailboxPort::close(&mut m, 1, h);
    assert!(!m.has_handle(1, h));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Open(u8, u8),
        Close(u8, u8),
        Send(u8, u8, u8),
        Recv(u8, u8, u8),
        Wait(u8, u8, u8),
        Tap(u8, u8, bool),
        Bind(u8, u8, u8),
        Expire(u8),
        Release(u8),
        Time(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..4, 0u8..4).prop_map(|(p, t)| Op::Open(p, t)),
            (0u8..4, 0u8..6).prop_map(|(p, h)| Op::Close(p, h)),
            (0u8..4, 0u8..6, 0u8..80).prop_map(|(p, h, n)| Op::Send(p, h, n)),
            (0u8..4, 0u8..6, 0u8..20).prop_map(|(p, h, n)| Op::Recv(p, h, n)),
            (0u8..4, 0u8..6, 0u8..3).prop_map(|(p, h, t)| Op::Wait(p, h, t)),
            (0u8..4, 0u8..6, any::<bool>()).prop_map(|(p, h, e)| Op::Tap(p, h, e)),
            (0u8..4, 0u8..4, 0u8..4).prop_map(|(p, t, m)| Op::Bind(p, t, m)),
            (0u8..4).prop_map(Op::Expire),
            (0u8..4).prop_map(Op::Release),
            (0u16..2000).prop_map(Op::Time),
        ]
    }

    const TARGETS: [&str; 4] = ["app:a", "shared:b", "svc:stdio.out@1", "pid:2"];
    const MODES: [u16; 4] = [0, mode::RDWR, FAN_DROP, FAN_BLOCK];

    proptest! {
        #[test]
        fn invariants_hold_under_random_operations(ops in proptest::collection::vec(op(), 1..120)) {
            let mut m = MailboxManager::new(MailboxConfig { tap_rate_limit: 3, ..MailboxConfig::embedded() });
            let mut now = 0u64;
            for o in ops {
                match o {
                    Op::Open(p, t) => { let _ = m.open(u32::from(p), TARGETS[t as usize]); }
                    Op::Close(p, h) => { let _ = m.close(u32::from(p), u32::from(h)); }
                    Op::Send(p, h, n) => { let _ = m.send(u32::from(p), u32::from(h), &vec![7u8; n as usize], 0, 0); }
                    Op::Recv(p, h, n) => { let _ = m.recv(u32::from(p), u32::from(h), u32::from(n)); }
                    Op::Wait(p, h, t) => {
                        let timeout = [TIMEOUT_POLL, 5, TIMEOUT_INFINITE][t as usize];
                        if m.waiting(u32::from(p)).is_none() {
                            let _ = m.recv_or_wait(u32::from(p), req(u32::from(h), timeout));
                        }
                    }
                    Op::Tap(p, h, e) => { let _ = m.tap(u32::from(p), u32::from(h), e); }
                    Op::Bind(p, t, md) => { let _ = m.bind(u32::from(p), TARGETS[t as usize], 0, MODES[md as usize]); }
                    Op::Expire(p) => { let _ = m.expire(u32::from(p)); }
                    Op::Release(p) => { m.release_pid(u32::from(p)); }
                    Op::Time(dt) => { now += u64::from(dt); m.set_now(now); let _ = m.expire_due(now); }
                }
                let _ = m.take_completions();
                for d in m.snapshot() {
                    prop_assert!(d.bytes_used <= d.capacity);
                    for w in &d.waiters {
                        prop_assert!(m.waiting(*w).is_some_and(|(id, _, _)| id == d.descriptor_id));
                    }
                }
                prop_assert!(m.descriptor_count() <= 16);
            }
        }
    }
}
