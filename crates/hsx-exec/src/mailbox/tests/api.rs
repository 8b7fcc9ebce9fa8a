//! The rest of the manager's API: rebind and peek, error statuses, snapshots and stats,
//! stdio templates, idempotent registration, the event buffer and [`MailboxPort`].

use super::*;

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
