//! `services.md` §8 cases 17-20: set/get and listing, epsilon and rate limit, access
//! control and capacity, subscriptions.

use super::*;

// ---------------------------------------------------------------------- §8 case 17

#[test]
fn case17_set_then_get_via_svc_bits() {
    let mut r = reg();
    let mut port = FakePort::default();
    r.register_value(1, 0x01, 0x01, 0, auth::PUBLIC, &[])
        .unwrap();
    let res = r
        .set_value_bits(0x0101, None, Caller::task(1), 0x3C00, 0, &mut port)
        .unwrap();
    assert_eq!(
        res,
        SetResult {
            bits: 0x3C00,
            changed: true
        }
    );
    assert_eq!(r.get_value(0x0101, None, Caller::task(1)), Ok(0x3C00));
}

#[test]
fn case17_list_group_writes_owned_oids_in_registration_order() {
    let mut r = reg();
    r.register_value(1, 0x01, 0x02, 0, 0, &[]).unwrap();
    r.register_value(1, 0x01, 0x01, 0, 0, &[]).unwrap();
    r.register_value(2, 0x01, 0x03, 0, 0, &[]).unwrap();
    r.register_value(1, 0x02, 0x01, 0, 0, &[]).unwrap();
    assert_eq!(r.list_values(0x01, Some(1)), vec![0x0102, 0x0101]);
    assert_eq!(r.list_values(GROUP_ALL, None).len(), 4);
    assert_eq!(r.list_values(0x01, None), vec![0x0102, 0x0101, 0x0103]);
}

#[test]
fn case17_register_via_guest_name_descriptor() {
    let mut mem = vec![0u8; 0x10000];
    mem[0x0200..0x0205].copy_from_slice(b"Temp\0");
    mem[0x0100..0x0106].copy_from_slice(&[tag::NAME, 0, 0xFF, 0xFF, 0x00, 0x02]);
    let mut r = reg();
    let oid = r
        .register_value_from_guest(1, 0x01, 0x02, 0, mem.as_slice(), 0x0100)
        .unwrap();
    assert_eq!(oid, 0x0102);
    assert_eq!(r.lookup_value(0x01, 0x02, None), Ok(0x0102));
    let info = &r.describe_values(&ListFilter::default())[0];
    assert_eq!(info.name.as_deref(), Some("Temp"));
    assert_eq!(info.owner_pid, 1);
    // Bad chain → EINVAL.
    mem[0x0300] = 0x42;
    mem[0x0302..0x0304].copy_from_slice(&[0xFF, 0xFF]);
    let e = r
        .register_value_from_guest(1, 0x01, 0x03, 0, mem.as_slice(), 0x0300)
        .unwrap_err();
    assert_eq!(e.code(), crate::status::val::EINVAL);
}

// ---------------------------------------------------------------------- §8 case 18

#[test]
fn case18_epsilon_suppresses_small_changes() {
    let mut r = reg();
    let mut port = FakePort::default();
    let oid = r.register_value(7, 1, 2, 0, 0, &unit(0.5, 0)).unwrap();
    let _ = r.take_events();
    r.set_value_f64(oid, None, Caller::task(7), 10.0, 0, &mut port)
        .unwrap();
    assert_eq!(changed_count(&mut r), 1);
    let res = r
        .set_value_f64(oid, None, Caller::task(7), 10.2, 1, &mut port)
        .unwrap();
    assert!(!res.changed);
    assert_eq!(changed_count(&mut r), 0);
    assert_eq!(
        f16_to_f64(r.get_value(oid, None, Caller::task(7)).unwrap()),
        10.0
    );
}

#[test]
fn case18_rate_limit_returns_ebusy_and_preserves_state() {
    let mut r = reg();
    let mut port = FakePort::default();
    let oid = r.register_value(9, 2, 3, 0, 0, &unit(0.0, 120)).unwrap();
    let _ = r.take_events();
    r.set_value_f64(oid, None, Caller::task(9), 5.0, 1000, &mut port)
        .unwrap();
    assert_eq!(changed_count(&mut r), 1);
    let e = r
        .set_value_f64(oid, None, Caller::task(9), 6.0, 1050, &mut port)
        .unwrap_err();
    assert_eq!(e, ValError::Busy);
    assert_eq!(e.code(), 6);
    assert_eq!(
        f16_to_f64(r.get_value(oid, None, Caller::task(9)).unwrap()),
        5.0
    );
    assert_eq!(changed_count(&mut r), 0);
    // The timestamp did not move: +120 ms after the first set is accepted.
    r.set_value_f64(oid, None, Caller::task(9), 6.0, 1120, &mut port)
        .unwrap();
    assert_eq!(
        f16_to_f64(r.get_value(oid, None, Caller::task(9)).unwrap()),
        6.0
    );
    assert_eq!(changed_count(&mut r), 1);
}

#[test]
fn first_set_after_registration_is_never_rate_limited() {
    let mut r = reg();
    let mut port = FakePort::default();
    let oid = r.register_value(9, 2, 4, 0, 0, &unit(0.0, 60_000)).unwrap();
    assert!(
        r.set_value_f64(oid, None, Caller::task(9), 1.0, 0, &mut port)
            .is_ok()
    );
}

// ---------------------------------------------------------------------- §8 case 19

#[test]
fn case19_access_control_readonly_capacity_and_duplicates() {
    let mut r = Registry::new(RegistryLimits {
        max_values: 2,
        ..RegistryLimits::desktop()
    });
    let mut port = FakePort::default();
    let oid = r.register_value(100, 1, 1, 0, auth::USER, &[]).unwrap();
    assert!(r.get_value(oid, None, Caller::task(100)).is_ok());
    assert_eq!(
        r.get_value(oid, None, Caller::task(200)),
        Err(ValError::PermissionDenied)
    );
    assert!(
        r.get_value(
            oid,
            None,
            Caller::Task {
                pid: 200,
                auth: auth::USER
            }
        )
        .is_ok()
    );
    assert_eq!(
        r.set_value_f64(oid, None, Caller::task(200), 1.0, 0, &mut port),
        Err(ValError::PermissionDenied)
    );
    // A PUBLIC value is readable and writable by any task (reference semantics).
    let pub_oid = r
        .register_value(100, 1, 2, flag::RO, auth::PUBLIC, &[])
        .unwrap();
    assert!(r.get_value(pub_oid, None, Caller::task(5)).is_ok());
    assert_eq!(
        r.set_value_f64(pub_oid, None, Caller::task(100), 42.0, 0, &mut port),
        Err(ValError::PermissionDenied)
    );
    assert_eq!(
        r.register_value(100, 1, 3, 0, 0, &[]),
        Err(ValError::NoSpace)
    );
    assert_eq!(
        r.register_value(100, 1, 1, 0, 0, &[]),
        Err(ValError::Exists)
    );
    assert_eq!(ValError::NoSpace.code(), 3);
    assert_eq!(ValError::Exists.code(), 5);
    assert_eq!(
        r.get_value(0x0909, None, Caller::HOST),
        Err(ValError::NotFound)
    );
}

#[test]
fn string_pool_exhaustion_is_enospc() {
    let mut r = Registry::new(RegistryLimits {
        string_capacity: 10,
        ..RegistryLimits::desktop()
    });
    assert!(
        r.register_value(1, 0, 0, 0, 0, &[ValueDesc::Name("abc".into())])
            .is_ok()
    );
    assert_eq!(
        r.register_value(1, 0, 1, 0, 0, &[ValueDesc::Name("x".repeat(100))]),
        Err(ValError::NoSpace)
    );
    // Deduplicated text costs nothing.
    assert!(
        r.register_value(1, 0, 2, 0, 0, &[ValueDesc::Name("abc".into())])
            .is_ok()
    );
    assert_eq!(r.stats().strings.count, 4);
}

// ---------------------------------------------------------------------- §8 case 20

#[test]
fn case20_subscriber_receives_oid_old_new_frame() {
    let mut mbx = MailboxManager::default();
    let mut r = reg();
    mbx.bind(1, "app:notify", 0, 0).unwrap();
    r.register_value(1, 0x01, 0x01, 0, 0, &[]).unwrap();
    let h = r
        .subscribe(1, 0x0101, None, "app:notify", &mut mbx)
        .unwrap();
    assert!(h > 0);
    r.set_value_bits(0x0101, None, Caller::task(1), 0x3C00, 0, &mut mbx)
        .unwrap();
    let msg = mbx.recv(1, h, 64).unwrap().unwrap();
    assert_eq!(msg.data, vec![0x01, 0x01, 0x00, 0x00, 0x00, 0x3C]);
    assert_eq!(msg.src_pid, 1);
    assert_eq!((msg.flags, msg.channel), (0, 0));
}

#[test]
fn case20_subscribe_dedup_and_failed_dispatch_drops_subscriber() {
    let mut r = reg();
    let mut port = FakePort {
        fail_handle: Some(2),
        ..FakePort::default()
    };
    let oid = r.register_value(21, 3, 4, 0, 0, &[]).unwrap();
    r.subscribe_handle(oid, None, 42, 1).unwrap();
    r.subscribe_handle(oid, None, 42, 1).unwrap();
    r.subscribe_handle(oid, None, 42, 2).unwrap();
    assert_eq!(r.subscribers(oid, None), vec![(42, 1), (42, 2)]);
    r.set_value_f64(oid, None, Caller::task(21), 5.0, 0, &mut port)
        .unwrap();
    assert_eq!(port.posts.len(), 1);
    assert_eq!(
        port.posts[0].2,
        notification_frame(oid, 0, f64_to_f16(5.0)).to_vec()
    );
    assert_eq!(port.closed, vec![(42, 2)]);
    assert_eq!(r.subscribers(oid, None), vec![(42, 1)]);
    assert_eq!(
        r.subscribe_handle(0x7777, None, 1, 1),
        Err(ValError::NotFound)
    );
}

#[test]
fn subscribe_rejects_empty_and_unopenable_targets() {
    let mut r = reg();
    let mut port = FakePort::default();
    let oid = r.register_value(1, 1, 1, 0, 0, &[]).unwrap();
    assert_eq!(
        r.subscribe(1, oid, None, "", &mut port),
        Err(ValError::Invalid)
    );
    assert_eq!(
        r.subscribe(1, oid, None, "bad", &mut port),
        Err(ValError::Invalid)
    );
}
