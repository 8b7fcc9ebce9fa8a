//! Run-time capabilities: an image that declares `req_caps` may use only those SVC modules.

mod common;
use common::*;

use hsx_exec::event::Warning;
use hsx_exec::status::HSX_ERR_EPERM;
use hsx_exec::{EventKind, LoadOptions, TaskState};

const MAILBOX: u32 = 1 << 0;
const VALUES: u32 = 1 << 1;
const UART: u32 = 1 << 4;

/// Calls UART_WRITE (1/1) twice and VAL_LOOKUP (7/1) once; keeps the R0 results in R5..R7.
fn program(req_caps: u32) -> hsx_image::Image {
    let mut a = Asm::new();
    a.ldi(1, 0)
        .ldi(2, 0)
        .svc(1, 1)
        .mov(5, 0)
        .svc(1, 1)
        .mov(6, 0)
        .ldi(1, 1)
        .ldi(2, 1)
        .svc(7, 1)
        .mov(7, 0)
        .ldi(0, 0)
        .ret();
    let mut img = image(&a.build(), &[]);
    img.req_caps = req_caps;
    img
}

fn run(req_caps: u32) -> (hsx_exec::TaskInfo, Vec<hsx_exec::Event>) {
    let (mut ex, _c) = exec();
    let pid = ex
        .load_image(&program(req_caps), LoadOptions::default())
        .unwrap()
        .pid;
    ex.drain_events();
    ex.step(100);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.state, TaskState::Returned);
    (t, ex.drain_events())
}

fn denials(events: &[hsx_exec::Event]) -> Vec<&'static str> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Warning(Warning::CapabilityDenied { cap, .. }) => Some(cap),
            _ => None,
        })
        .collect()
}

#[test]
fn undeclared_modules_answer_eperm_once_reported() {
    let (t, events) = run(MAILBOX);
    assert_eq!(t.regs[5], HSX_ERR_EPERM);
    assert_eq!(t.regs[6], HSX_ERR_EPERM);
    assert_eq!(t.regs[7], 2, "the value service answers its own EPERM");
    assert_eq!(
        denials(&events),
        ["uart", "values"],
        "one report per capability"
    );
}

#[test]
fn declared_modules_and_images_without_req_caps_work() {
    for caps in [0, UART | VALUES] {
        let (t, events) = run(caps);
        assert_ne!(t.regs[5], HSX_ERR_EPERM, "req_caps {caps:#x}");
        assert_ne!(t.regs[7], 2, "req_caps {caps:#x}");
        assert!(denials(&events).is_empty());
    }
}
