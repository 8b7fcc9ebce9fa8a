//! Lazy stdio (`MailboxConfig::lazy_stdio`, the microcontroller setting): a task's stdio
//! descriptors appear on first use, with the template mode, and behave as eager ones after.

use super::*;
use alloc::string::String;

fn lazy() -> MailboxManager {
    MailboxManager::new(MailboxConfig {
        lazy_stdio: true,
        ..MailboxConfig::embedded()
    })
}

fn names(m: &MailboxManager) -> Vec<String> {
    m.snapshot().into_iter().map(|d| d.name).collect()
}

#[test]
fn register_creates_only_the_pid_mailbox() {
    let mut m = lazy();
    let h = m.register_task(3).unwrap();
    assert_eq!((h.stdin, h.stdout, h.stderr), (0, 0, 0));
    assert_eq!(names(&m), vec![String::from("pid:3")]);
    // Registering again keeps the (unopened) handles.
    assert_eq!(m.register_task(3).unwrap(), h);
}

#[test]
fn first_write_opens_just_that_stream_with_the_template_mode() {
    let mut m = lazy();
    let fan = mode::RDWR | mode::FANOUT | mode::FANOUT_DROP;
    m.set_default_stdio_mode(StdioStream::Out, fan, false);
    m.register_task(1).unwrap();
    assert_eq!(m.write_stdio(1, 1, b"hi"), Some(2));
    assert_eq!(
        names(&m),
        vec![String::from("pid:1"), String::from("stdio.out")]
    );
    let h = m.stdio_handles(1).unwrap();
    assert_ne!(h.stdout, 0);
    assert_eq!((h.stdin, h.stderr), (0, 0));
    assert_eq!(m.stdio_mode(1, StdioStream::Out), fan);
    let d = m.descriptor_of(1, h.stdout).unwrap();
    assert_eq!(m.stdio_owner(d), Some((1, StdioStream::Out)));
    // The second write reuses the handle.
    assert_eq!(m.write_stdio(1, 1, b"again"), Some(5));
    assert_eq!(m.stdio_handles(1).unwrap(), h);
    assert_eq!(m.descriptor_count(), 2);
}

#[test]
fn empty_writes_and_unknown_tasks_fall_through() {
    let mut m = lazy();
    assert_eq!(m.write_stdio(9, 1, b"x"), None);
    m.register_task(9).unwrap();
    assert_eq!(m.write_stdio(9, 1, b""), None);
    assert_eq!(m.write_stdio(9, 3, b"x"), None);
    assert_eq!(m.descriptor_count(), 1);
}

#[test]
fn a_full_pool_refuses_the_write_without_panicking() {
    let mut m = MailboxManager::new(MailboxConfig {
        max_descriptors: 1,
        lazy_stdio: true,
        ..MailboxConfig::embedded()
    });
    m.register_task(1).unwrap();
    assert_eq!(m.write_stdio(1, 2, b"oops"), Some(0));
    assert_eq!(m.stdio_handles(1).unwrap().stderr, 0);
}

#[test]
fn an_open_of_the_own_stream_gets_the_template_mode() {
    let mut m = lazy();
    m.set_default_stdio_mode(StdioStream::In, mode::RDWR | mode::FANOUT, false);
    m.register_task(2).unwrap();
    let h = m.open(2, STDIO_IN).unwrap();
    let d = m.descriptor_of(2, h).unwrap();
    assert_eq!(m.stdio_mode(2, StdioStream::In), mode::RDWR | mode::FANOUT);
    assert_eq!(m.stdio_owner(d), Some((2, StdioStream::In)));
    // Eager managers never treat a key as lazily created.
    let mut e = mgr();
    e.register_task(2).unwrap();
    assert_eq!(names(&e).len(), 4);
}
