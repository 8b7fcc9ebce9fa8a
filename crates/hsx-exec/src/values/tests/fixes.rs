//! The `design.md` §4 item 8 fixes: where this registry deliberately differs from the
//! reference (per-instance OIDs, restore order, notifications, release, shutdown).

use super::*;

// ---------------------------------------------------------------------- design fixes

#[test]
fn fix_two_instances_may_declare_the_same_oid() {
    let mut r = reg();
    let mut port = FakePort::default();
    let meta = MetaValue {
        group: 1,
        id: 1,
        init: f64_to_f16(1.0),
        name: Some("speed"),
        ..MetaValue::default()
    };
    assert_eq!(r.register_value_from_meta(10, &meta), Ok(0x0101));
    assert_eq!(r.register_value_from_meta(11, &meta), Ok(0x0101));
    // Each instance addresses its own value by default.
    r.set_value_f64(0x0101, None, Caller::task(11), 2.0, 0, &mut port)
        .unwrap();
    assert_eq!(
        r.get_value(0x0101, None, Caller::task(10)),
        Ok(f64_to_f16(1.0))
    );
    assert_eq!(
        r.get_value(0x0101, None, Caller::task(11)),
        Ok(f64_to_f16(2.0))
    );
    // Explicit owner addressing, and the earliest instance for outsiders.
    assert_eq!(
        r.get_value(0x0101, Some(11), Caller::HOST),
        Ok(f64_to_f16(2.0))
    );
    assert_eq!(r.value_owner(0x0101, None, Caller::task(99)), Some(10));
    assert_eq!(
        r.get_value(0x0101, Some(12), Caller::HOST),
        Err(ValError::NotFound)
    );
    assert_eq!(r.describe_values(&ListFilter::default()).len(), 2);
    let cmd = MetaCommand {
        group: 2,
        id: 1,
        ..MetaCommand::default()
    };
    assert_eq!(r.register_command_from_meta(10, &cmd), Ok(0x0201));
    assert_eq!(r.register_command_from_meta(11, &cmd), Ok(0x0201));
    assert_eq!(
        r.call_command(0x0201, None, Caller::task(11), None),
        Ok(None)
    );
}

#[test]
fn fix_restored_value_wins_over_declared_init() {
    let mut r = reg();
    r.set_persist(Box::new(MemPersist::with_records(&[(
        17,
        f64_to_f16(18.5),
    )])));
    let oid = r
        .register_value_from_meta(
            1,
            &MetaValue {
                group: 1,
                id: 2,
                init: f64_to_f16(12.5),
                persist_key: 17,
                ..MetaValue::default()
            },
        )
        .unwrap();
    assert_eq!(
        r.get_value(oid, None, Caller::task(1)),
        Ok(f64_to_f16(18.5))
    );
    // Without a stored record the declared init applies.
    let oid2 = r
        .register_value_from_meta(
            1,
            &MetaValue {
                group: 1,
                id: 3,
                init: f64_to_f16(12.5),
                persist_key: 18,
                ..MetaValue::default()
            },
        )
        .unwrap();
    assert_eq!(
        r.get_value(oid2, None, Caller::task(1)),
        Ok(f64_to_f16(12.5))
    );
}

#[test]
fn fix_one_notification_per_change() {
    let mut mbx = MailboxManager::default();
    let mut r = reg();
    r.register_value(1, 1, 1, 0, 0, &[]).unwrap();
    let h = r
        .subscribe(1, 0x0101, None, "app:notify", &mut mbx)
        .unwrap();
    r.set_value_bits(0x0101, None, Caller::task(1), 0x3C00, 0, &mut mbx)
        .unwrap();
    assert_eq!(mbx.recv(1, h, 64).unwrap().map(|m| m.data.len()), Some(6));
    assert_eq!(mbx.recv(1, h, 64).unwrap(), None);
    // Without an epsilon every accepted set is a change: still exactly one frame.
    r.set_value_bits(0x0101, None, Caller::task(1), 0x3C00, 1, &mut mbx)
        .unwrap();
    assert_eq!(mbx.peek(1, h).unwrap().depth, 1);
    assert_eq!(
        mbx.recv(1, h, 64).unwrap().map(|m| m.data),
        Some(notification_frame(0x0101, 0x3C00, 0x3C00).to_vec())
    );
}

#[test]
fn fix_notification_wakes_blocked_subscriber() {
    let mut mbx = MailboxManager::default();
    let mut r = reg();
    r.register_value(1, 1, 1, 0, 0, &[]).unwrap();
    let h = r.subscribe(2, 0x0101, None, "app:watch", &mut mbx).unwrap();
    let out = mbx
        .recv_or_wait(
            2,
            crate::mailbox::RecvRequest {
                handle: h,
                max_len: 16,
                timeout: crate::mailbox::TIMEOUT_INFINITE,
                buf_ptr: 0,
                info_ptr: 0,
            },
        )
        .unwrap();
    assert!(matches!(out, crate::mailbox::RecvOutcome::Blocked { .. }));
    r.set_value_bits(0x0101, None, Caller::task(1), 0x4000, 0, &mut mbx)
        .unwrap();
    let done: Vec<_> = mbx.take_completions().into_iter().collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].payload(), &notification_frame(0x0101, 0, 0x4000));
}

#[test]
fn fix_release_pid_removes_entries_and_subscriptions() {
    let mut r = reg();
    r.register_value(100, 1, 1, 0, 0, &[]).unwrap();
    r.register_value(100, 1, 2, 0, 0, &[]).unwrap();
    r.register_command(100, 1, 1, 0, 0, &[]).unwrap();
    let other = r.register_value(200, 2, 1, 0, 0, &[]).unwrap();
    r.subscribe_handle(other, None, 100, 4).unwrap();
    let c = r.release_pid(100);
    assert_eq!(
        c,
        ReleaseCounts {
            values: 2,
            commands: 1,
            subscriptions: 1
        }
    );
    assert_eq!(r.list_values(GROUP_ALL, None), vec![other]);
    assert!(r.list_commands(GROUP_ALL, None).is_empty());
    assert!(r.subscribers(other, None).is_empty());
    // Reloading the same app after kill works.
    assert!(r.register_value(101, 1, 1, 0, 0, &[]).is_ok());
}

#[test]
fn fix_val_sub_on_missing_value_does_not_open_a_handle() {
    let mut r = reg();
    let mut port = FakePort::default();
    assert_eq!(
        r.subscribe(1, 0x0404, None, "app:x", &mut port),
        Err(ValError::NotFound)
    );
    assert!(port.opened.is_empty());
}

#[test]
fn fix_pending_writes_flushed_on_shutdown() {
    let mut r = reg();
    let mut port = FakePort::default();
    r.set_persist(Box::new(MemPersist::new()));
    let oid = r
        .register_value(
            1,
            1,
            1,
            flag::PERSIST,
            0,
            &[ValueDesc::Persist {
                key: 5,
                debounce_ms: 500,
            }],
        )
        .unwrap();
    r.set_value_f64(oid, None, Caller::task(1), 3.0, 0, &mut port)
        .unwrap();
    let mut store = r.take_persist().unwrap();
    assert_eq!(store.load(5), Some(f64_to_f16(3.0)));
}
