//! The example programs in `examples/` assemble and carry what their READMEs promise.

mod common;
use common::*;

use hsx_asm::assemble_files;

fn build(name: &str) -> hsx_asm::AsmOutput {
    assemble_files(&[examples().join(format!("{name}.mvasm"))], &opts(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn hello_writes_its_greeting_via_uart_and_exits() {
    let out = build("hello");
    assert_eq!(out.image.app_name.as_deref(), Some("hello"));
    assert_eq!(out.image.rodata, b"Hello from HSX!\n".to_vec());
    let w: Vec<u32> = out.image.code_words().collect();
    assert!(w.contains(&0x3000_0101), "UART_WRITE");
    assert_eq!(w.last(), Some(&0x3000_0100), "TASK_EXIT");
}

#[test]
fn loop_includes_the_print_library() {
    let out = build("loop");
    let w: Vec<u32> = out.image.code_words().collect();
    assert!(w.contains(&0x3000_0402), "FS_WRITE");
    assert!(out.image.rodata.starts_with(b"sum(1..100) = "));
}

#[test]
fn producer_declares_its_mailbox_and_consumer_receives() {
    let p = build("producer");
    assert_eq!(p.image.metadata.mailboxes.len(), 1);
    assert_eq!(p.image.metadata.mailboxes[0].target, "app:demo");
    assert_eq!(p.image.metadata.mailboxes[0].capacity, 256);
    let c = build("consumer");
    let w: Vec<u32> = c.image.code_words().collect();
    assert!(w.contains(&0x3000_0503), "MAILBOX_RECV");
    assert!(w.contains(&0x3000_0402), "FS_WRITE");
}

#[test]
fn values_declares_a_value_and_a_command() {
    let out = build("values");
    let m = &out.image.metadata;
    assert_eq!(m.values.len(), 1);
    let v = &m.values[0];
    assert_eq!(
        (v.group, v.id, v.name.as_deref()),
        (1, 1, Some("temperature"))
    );
    assert_eq!(v.init_f32(), 21.5);
    assert_eq!(v.flags, 0x02);
    assert_eq!(m.commands.len(), 1);
    let handler = m.commands[0].handler;
    // The handler is the `reset_temperature` routine: it starts with LDI R1, 1.
    let w: Vec<u32> = out.image.code_words().collect();
    assert_eq!(w[(handler / 4) as usize], 0x0110_0001);
}
