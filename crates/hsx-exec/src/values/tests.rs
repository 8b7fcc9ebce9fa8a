//! Value/command behaviour: `services.md` §8 cases 17-22 and the `design.md` §4 item 8
//! fixes.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::mailbox::{MailboxError, MailboxManager};
use crate::persist::MemPersist;

/// A port that records posts and can be told to fail for one handle.
#[derive(Default)]
struct FakePort {
    posts: Vec<(u32, u32, Vec<u8>)>,
    closed: Vec<(u32, u32)>,
    opened: Vec<(u32, String)>,
    fail_handle: Option<u32>,
    next: u32,
}

impl MailboxPort for FakePort {
    fn open(&mut self, pid: u32, target: &str) -> Result<u32, MailboxError> {
        if target == "bad" {
            return Err(MailboxError::BadTarget);
        }
        self.next += 1;
        self.opened.push((pid, String::from(target)));
        Ok(self.next)
    }
    fn post(&mut self, pid: u32, handle: u32, data: &[u8]) -> Result<(), MailboxError> {
        if self.fail_handle == Some(handle) {
            return Err(MailboxError::WouldBlock);
        }
        self.posts.push((pid, handle, data.to_vec()));
        Ok(())
    }
    fn close(&mut self, pid: u32, handle: u32) {
        self.closed.push((pid, handle));
    }
}

fn reg() -> Registry {
    Registry::default()
}

fn unit(eps: f64, rate_ms: u16) -> Vec<ValueDesc> {
    vec![ValueDesc::Unit {
        unit_code: encode_unit("rpm"),
        epsilon: f64_to_f16(eps),
        rate_ms,
    }]
}

fn changed_count(r: &mut Registry) -> usize {
    r.take_events()
        .iter()
        .filter(|e| matches!(e, ValEvent::ValueChanged { .. }))
        .count()
}

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

// ---------------------------------------------------------------------- §8 case 21

fn counting_handler(
    result: u32,
) -> (
    CommandHandler,
    alloc::sync::Arc<core::sync::atomic::AtomicU32>,
) {
    let count = alloc::sync::Arc::new(core::sync::atomic::AtomicU32::new(0));
    let c = count.clone();
    let h = CommandHandler::Host(Box::new(move |_caller| {
        c.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        Ok(Some(result))
    }));
    (h, count)
}

#[test]
fn case21_command_call_requires_owner() {
    let mut r = reg();
    let oid = r.register_command(50, 1, 2, 0, auth::PUBLIC, &[]).unwrap();
    assert_eq!(
        r.call_command(oid, None, Caller::task(99), None),
        Err(CmdError::PermissionDenied)
    );
    assert_eq!(r.call_command(oid, None, Caller::task(50), None), Ok(None));
    assert_eq!(CmdError::PermissionDenied.code(), 2);
}

#[test]
fn case21_pin_command_needs_a_valid_token() {
    let mut r = reg();
    let (h, count) = counting_handler(5);
    let oid = r
        .register_command(1, 2, 2, cmd_flag::PIN, auth::PUBLIC, &[])
        .unwrap();
    r.set_command_handler(oid, 1, h).unwrap();
    // No validator installed: always EPERM.
    assert_eq!(
        r.call_command(oid, None, Caller::task(1), Some(b"4321")),
        Err(CmdError::PermissionDenied)
    );
    r.set_token_validator(Some(Box::new(|_oid, _owner, _caller, tok| {
        tok == Some(b"4321".as_slice())
    })));
    assert_eq!(
        r.call_command(oid, None, Caller::task(1), None),
        Err(CmdError::PermissionDenied)
    );
    assert_eq!(
        r.call_command(oid, None, Caller::task(1), Some(b"bad")),
        Err(CmdError::PermissionDenied)
    );
    assert_eq!(count.load(core::sync::atomic::Ordering::Relaxed), 0);
    assert_eq!(
        r.call_command(oid, None, Caller::task(1), Some(b"4321")),
        Ok(Some(5))
    );
    assert_eq!(count.load(core::sync::atomic::Ordering::Relaxed), 1);
}

#[test]
fn case21_async_completion_frame_arrives_on_reply_handle() {
    let mut mbx = MailboxManager::default();
    let mut r = reg();
    mbx.bind(1, "app:cmd", 0, 0).unwrap();
    let (h, _) = counting_handler(7);
    let oid = r
        .register_command(1, 1, 1, cmd_flag::ASYNC, auth::PUBLIC, &[])
        .unwrap();
    r.set_command_handler(oid, 1, h).unwrap();
    let handle = r
        .call_command_async(oid, None, Caller::task(1), None, "app:cmd", &mut mbx)
        .unwrap();
    let msg = mbx.recv(1, handle, 64).unwrap().unwrap();
    assert_eq!(msg.data, completion_frame(0x0101, 0, Some(7)));
    assert_eq!(&msg.data[..4], &[0x01, 0x01, 0x00, 0x00]);
    let ev: Vec<ValEvent> = r.take_events().into_iter().collect();
    assert!(matches!(
        ev[ev.len() - 2],
        ValEvent::CmdInvoked { is_async: true, .. }
    ));
    assert!(matches!(
        ev[ev.len() - 1],
        ValEvent::CmdCompleted {
            status: 0,
            result: Some(7),
            ..
        }
    ));
}

#[test]
fn case21_async_errors_close_the_reply_handle() {
    let mut r = reg();
    let mut port = FakePort::default();
    let sync_oid = r.register_command(1, 1, 1, 0, auth::PUBLIC, &[]).unwrap();
    assert_eq!(
        r.call_command_async(sync_oid, None, Caller::task(1), None, "app:r", &mut port),
        Err(CmdError::NoAsync)
    );
    assert_eq!(
        r.call_command_async(0x0999, None, Caller::task(1), None, "app:r", &mut port),
        Err(CmdError::NotFound)
    );
    let pin = r
        .register_command(1, 1, 2, cmd_flag::ASYNC | cmd_flag::PIN, 0, &[])
        .unwrap();
    assert_eq!(
        r.call_command_async(pin, None, Caller::task(1), None, "app:r", &mut port),
        Err(CmdError::PermissionDenied)
    );
    assert_eq!(port.closed, vec![(1, 1), (1, 2), (1, 3)]);
    assert_eq!(
        r.call_command_async(sync_oid, None, Caller::task(1), None, "", &mut port),
        Err(CmdError::Invalid)
    );
    assert_eq!(CmdError::NoAsync.code(), 6);
}

#[test]
fn case21_command_register_and_help_via_guest_memory() {
    let mut mem = vec![0u8; 0x10000];
    mem[0x0500..0x0506].copy_from_slice(b"Reset\0");
    mem[0x0520..0x052C].copy_from_slice(b"Reset motor\0");
    mem[0x0480..0x0488].copy_from_slice(&[tag::CMD_NAME, 0, 0xFF, 0xFF, 0x00, 0x05, 0x20, 0x05]);
    let mut r = reg();
    let oid = r
        .register_command_from_guest(1, 1, 1, 0, mem.as_slice(), 0x0480)
        .unwrap();
    let help = r.command_help(oid, None, Caller::task(1)).unwrap();
    let (bytes, n) = help_output(help, 16);
    assert_eq!(n, 11);
    assert_eq!(bytes, b"Reset motor\0");
    assert_eq!(help_output(help, 4), (b"Res\0".to_vec(), 3));
    assert_eq!(help_output(help, 0), (Vec::new(), 0));
    let bare = r.register_command(1, 1, 2, 0, 0, &[]).unwrap();
    assert_eq!(
        r.command_help(bare, None, Caller::task(1)),
        Err(CmdError::NotFound)
    );
    assert_eq!(
        r.command_help(0x0F0F, None, Caller::task(1)),
        Err(CmdError::NotFound)
    );
}

#[test]
fn failing_host_handler_is_efail() {
    let mut r = reg();
    let oid = r.register_command(1, 4, 1, 0, 0, &[]).unwrap();
    r.set_command_handler(
        oid,
        1,
        CommandHandler::Host(Box::new(|_| Err(HandlerFailed))),
    )
    .unwrap();
    assert_eq!(
        r.set_command_handler(0x0999, 1, CommandHandler::None),
        Err(CmdError::NotFound)
    );
    assert_eq!(
        r.call_command(oid, None, Caller::task(1), None),
        Err(CmdError::Failed)
    );
    assert_eq!(CmdError::Failed.code(), 7);
}

#[test]
fn guest_backed_command_completes_ok_without_result() {
    let mut r = reg();
    let oid = r
        .register_command_from_meta(
            3,
            &MetaCommand {
                group: 1,
                id: 7,
                flags: 0,
                auth: 0,
                handler: 0x0008,
                name: Some("reset"),
                help: Some("Soft reset"),
                group_name: Some("control"),
            },
        )
        .unwrap();
    assert_eq!(r.call_command(oid, None, Caller::task(3), None), Ok(None));
    let info = &r.describe_commands(&ListFilter::default())[0];
    assert_eq!(info.handler_addr, Some(8));
    assert_eq!(info.group_name.as_deref(), Some("control"));
    assert_eq!(info.help.as_deref(), Some("Soft reset"));
}

#[test]
fn host_caller_bypasses_pid_checks_but_not_auth() {
    let mut r = reg();
    let mut port = FakePort::default();
    let v = r.register_value(4, 1, 1, 0, auth::ADMIN, &[]).unwrap();
    assert!(
        r.set_value_f64(v, None, Caller::HOST, 2.0, 0, &mut port)
            .is_ok()
    );
    let c = r.register_command(4, 1, 1, 0, auth::USER, &[]).unwrap();
    assert_eq!(
        r.call_command(c, None, Caller::HOST, None),
        Err(CmdError::PermissionDenied)
    );
    assert_eq!(
        r.call_command(c, None, Caller::Host { auth: auth::USER }, None),
        Ok(None)
    );
}

// ---------------------------------------------------------------------- §8 case 22

#[test]
fn case22_persisted_value_loaded_and_change_scheduled_with_debounce() {
    let mut r = reg();
    let mut port = FakePort::default();
    r.set_persist(Box::new(MemPersist::with_records(&[(99, f64_to_f16(3.5))])));
    let oid = r
        .register_value(
            11,
            5,
            6,
            flag::PERSIST,
            0,
            &[ValueDesc::Persist {
                key: 99,
                debounce_ms: 75,
            }],
        )
        .unwrap();
    assert_eq!(
        f16_to_f64(r.get_value(oid, None, Caller::task(11)).unwrap()),
        3.5
    );
    r.set_value_f64(oid, None, Caller::task(11), 7.25, 1000, &mut port)
        .unwrap();
    assert_eq!(
        r.pending_writes().pending(99),
        Some((f64_to_f16(7.25), 1075))
    );
    assert_eq!(r.next_persist_due(), Some(1075));
    assert_eq!(r.persist_mut().unwrap().load(99), Some(f64_to_f16(3.5)));
    assert_eq!(r.flush_persist_due(1075), 1);
    assert_eq!(r.persist_mut().unwrap().load(99), Some(f64_to_f16(7.25)));
}

#[test]
fn case22_metadata_value_with_key_writes_through() {
    let mut r = reg();
    let mut port = FakePort::default();
    r.set_persist(Box::new(MemPersist::new()));
    let oid = r
        .register_value_from_meta(
            1,
            &MetaValue {
                group: 1,
                id: 2,
                flags: 0,
                init: f64_to_f16(12.5),
                name: Some("temperature"),
                unit: Some("degC"),
                epsilon: f64_to_f16(0.1),
                min: f64_to_f16(-40.0),
                max: f64_to_f16(125.0),
                persist_key: 17,
                group_name: Some("sensors"),
                ..MetaValue::default()
            },
        )
        .unwrap();
    let info = &r.describe_values(&ListFilter::default())[0];
    assert_ne!(info.flags & flag::PERSIST, 0, "key forces PERSIST");
    assert_eq!(info.last_value(), 12.5);
    assert_eq!(info.unit().as_deref(), Some("degC"));
    assert_eq!(info.group_name.as_deref(), Some("sensors"));
    assert_eq!(info.range, Some((f64_to_f16(-40.0), f64_to_f16(125.0))));
    assert_eq!(info.persist_key, 17);
    r.set_value_f64(oid, None, Caller::task(1), 18.5, 0, &mut port)
        .unwrap();
    assert_eq!(r.persist_mut().unwrap().load(17), Some(f64_to_f16(18.5)));
    assert_eq!(r.pending_writes().pending_count(), 0);
}

#[test]
fn val_persist_modes() {
    let mut r = reg();
    let oid = r.register_value(1, 1, 1, 0, 0, &[]).unwrap();
    assert_eq!(
        r.persist_value(oid, None, Caller::task(2), 1),
        Err(ValError::PermissionDenied)
    );
    assert_eq!(
        r.persist_value(oid, None, Caller::task(1), 3),
        Err(ValError::Invalid)
    );
    assert_eq!(
        r.persist_value(0x0505, None, Caller::task(1), 1),
        Err(ValError::NotFound)
    );
    r.persist_value(oid, None, Caller::task(1), persist_mode::SAVE)
        .unwrap();
    let info = &r.describe_values(&ListFilter::default())[0];
    assert_ne!(info.flags & flag::PERSIST, 0);
    assert_eq!(info.persist_key, 0);
    assert_ne!(info.desc_head, u32::from(DESC_NONE));
    r.persist_value(oid, None, Caller::task(1), persist_mode::VOLATILE)
        .unwrap();
    assert_eq!(
        r.describe_values(&ListFilter::default())[0].flags & flag::PERSIST,
        0
    );
}

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

// ---------------------------------------------------------------------- misc

#[test]
fn events_registration_and_change() {
    let mut r = reg();
    let mut port = FakePort::default();
    r.register_value(100, 1, 1, 0, 0, &[]).unwrap();
    r.set_value_f64(0x0101, None, Caller::HOST, 42.0, 0, &mut port)
        .unwrap();
    let ev: Vec<ValEvent> = r.take_events().into_iter().collect();
    assert_eq!(
        ev[0],
        ValEvent::ValueRegistered {
            pid: 100,
            caller_pid: 100,
            oid: 0x0101,
            flags: 0,
            auth_level: 0,
            desc_head: u32::from(DESC_NONE)
        }
    );
    assert_eq!(
        ev[1],
        ValEvent::ValueChanged {
            pid: 100,
            caller_pid: 100,
            oid: 0x0101,
            old_f16: 0,
            new_f16: f64_to_f16(42.0),
            flags: 0,
            auth_level: 0
        }
    );
}

#[test]
fn describe_and_desc_head_offsets_follow_reference_allocation() {
    let mut r = reg();
    let specs = vec![
        ValueDesc::Group {
            group_id: 1,
            name: "telemetry".into(),
        },
        ValueDesc::Name("rpm".into()),
        ValueDesc::Unit {
            unit_code: encode_unit("rpm"),
            epsilon: f64_to_f16(0.1),
            rate_ms: 50,
        },
        ValueDesc::Range {
            min: 0,
            max: f64_to_f16(5000.0),
        },
    ];
    r.register_value(10, 1, 1, 0, 0, &specs).unwrap();
    let v = &r.describe_values(&ListFilter {
        name: Some("rpm"),
        ..ListFilter::default()
    })[0];
    // Back-to-front: RANGE@0 (8), UNIT@8 (12), NAME@20 (6), GROUP@26 → head 26.
    assert_eq!(v.desc_head, 26);
    assert_eq!((v.rate_ms, v.unit().as_deref()), (Some(50), Some("rpm")));
    assert!(
        r.describe_values(&ListFilter {
            name: Some("nope"),
            ..ListFilter::default()
        })
        .is_empty()
    );
    assert_eq!(
        r.describe_values(&ListFilter {
            group: Some(1),
            owner: Some(10),
            ..ListFilter::default()
        })
        .len(),
        1
    );
}

#[test]
fn stats_and_warning_hysteresis() {
    let mut r = Registry::new(RegistryLimits {
        max_values: 5,
        max_commands: 2,
        string_capacity: 128,
    });
    for id in 0..4 {
        r.register_value(7, 1, id, 0, 0, &[]).unwrap();
    }
    let s = r.stats();
    assert_eq!((s.values.count, s.values.high_water), (4, 4));
    assert!(s.values.warning);
    assert_eq!(s.values.usage_pct(), 80.0);
    r.release_pid(7);
    let s = r.stats();
    assert!(!s.values.warning);
    assert_eq!(s.values.high_water_pct(), 80.0);
}

#[test]
fn lookups() {
    let mut r = reg();
    assert_eq!(r.lookup_value(1, 1, None), Err(ValError::NotFound));
    r.register_value(100, 1, 1, 0, 0, &[]).unwrap();
    assert_eq!(r.lookup_value(1, 1, None), Ok(0x0101));
    assert_eq!(r.lookup_value(1, 1, Some(5)), Err(ValError::NotFound));
    assert_eq!(r.lookup_command(1, 1, None), Err(CmdError::NotFound));
    r.register_command(100, 1, 1, 0, 0, &[]).unwrap();
    assert_eq!(r.lookup_command(1, 1, None), Ok(0x0101));
    assert_eq!(
        r.register_command(100, 1, 1, 0, 0, &[]),
        Err(CmdError::Exists)
    );
    assert_eq!(oid(0x12, 0x34), 0x1234);
}

#[test]
fn command_capacity() {
    let mut r = Registry::new(RegistryLimits {
        max_commands: 2,
        ..RegistryLimits::desktop()
    });
    r.register_command(1, 1, 1, 0, 0, &[]).unwrap();
    r.register_command(1, 1, 2, 0, 0, &[]).unwrap();
    assert_eq!(
        r.register_command(1, 1, 3, 0, 0, &[]),
        Err(CmdError::NoSpace)
    );
}

#[test]
fn f16_conversion_rounds_and_saturates() {
    assert_eq!(f64_to_f16(1.0), 0x3C00);
    assert_eq!(f64_to_f16(1e9), 0x7C00);
    assert_eq!(f64_to_f16(-1e9), 0xFC00);
    assert_eq!(f16_to_f64(0x4CA0), 18.5);
}

#[test]
fn val_get_word_encoding() {
    assert_eq!(val_get_word(Ok(0x3C00)), 0x3C00);
    assert_eq!(val_get_word(Err(ValError::NotFound)), 1);
    assert_eq!(val_get_word(Err(ValError::PermissionDenied)), 2);
}

#[test]
fn registry_and_manager_are_send() {
    fn send<T: Send>() {}
    send::<Registry>();
    send::<MailboxManager>();
}
