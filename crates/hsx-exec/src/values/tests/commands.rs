//! `services.md` §8 case 21: command calls, PIN tokens, asynchronous completion, help,
//! host and guest handlers.

use super::*;

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
