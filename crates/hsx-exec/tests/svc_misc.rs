//! SVC modules 0, 1, 2, 0xE and the answers to unknown calls (`vm.md` §6.1).

mod common;
use common::*;

use hsx_exec::status::HSX_ERR_ENOSYS;
use hsx_exec::{EventKind, ExecConfig, TaskState};

/// Run `SVC module, func` with R0 = 0x1234_0000, return R0 afterwards.
fn svc_r0(ex: &mut hsx_exec::Executive, module: u8, func: u8) -> u32 {
    let mut a = Asm::new();
    a.ldi32(0, 0x1234_0000)
        .ldi(1, 0)
        .svc(module, func)
        .mov(5, 0)
        .ldi(0, 0)
        .ret();
    let pid = load(ex, &a.build(), &[]);
    ex.step(100);
    let t = ex.task(pid).unwrap();
    assert_eq!(
        t.state,
        TaskState::Returned,
        "execution continues after SVC {module:X}/{func:X}"
    );
    t.regs[5]
}

#[test]
fn unknown_calls_answer_per_module() {
    let (mut ex, _c) = exec();
    for (m, f) in [
        (0xF, 0x7F),
        (0, 1),
        (1, 2),
        (2, 1),
        (3, 0),
        (6, 1),
        (9, 0),
        (0xE, 0),
    ] {
        assert_eq!(
            svc_r0(&mut ex, m, f),
            HSX_ERR_ENOSYS,
            "module {m:X} fn {f:X}"
        );
    }
    assert_eq!(svc_r0(&mut ex, 4, 0x20), 0xFFFF_FFFF);
    assert_eq!(svc_r0(&mut ex, 5, 0x40), 0xFF);
    assert_eq!(svc_r0(&mut ex, 7, 9), 4);
    assert_eq!(svc_r0(&mut ex, 8, 9), 4);
}

#[test]
fn get_steps_reports_the_count_before_the_svc() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi(1, 0).ldi(1, 0).ldi(1, 0).svc(0, 0).ret();
    let pid = load(&mut ex, &a.build(), &[]);
    ex.step(100);
    assert_eq!(ex.task(pid).unwrap().exit_status, Some(3));
}

#[test]
fn uart_write_is_stdout_and_clipped_at_memory_end() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi32(1, 0x4000).ldi(2, 6).svc(1, 1).mov(8, 0);
    a.ldi32(1, 0xFFFE).ldi(2, 10).svc(1, 1).mov(9, 0).ret();
    let pid = load(&mut ex, &a.build(), b"hello\n");
    ex.write_mem(pid, 0xFFFE, b"!?").unwrap();
    ex.step(100);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.regs[8], t.regs[9]), (6, 10), "R0 = requested length");
    assert_eq!(stdout_of(&ex.drain_events(), pid), b"hello\n!?");
}

#[test]
fn can_tx_masks_the_id_and_is_reported() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi32(1, 0xFFFF)
        .ldi32(2, 0x4000)
        .ldi32(3, 0x103)
        .svc(2, 0)
        .ret();
    let pid = load(&mut ex, &a.build(), &[1, 2, 3, 4]);
    ex.step(100);
    assert_eq!(ex.task(pid).unwrap().exit_status, Some(0));
    let can: Vec<(u16, Vec<u8>)> = ex
        .drain_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::CanTx { id, data } => Some((id, data)),
            _ => None,
        })
        .collect();
    assert_eq!(can, vec![(0x7FF, vec![1, 2, 3])]);
}

#[test]
fn dev_libm_when_enabled() {
    let (mut ex, _c) = exec_with(ExecConfig {
        dev_libm: true,
        ..ExecConfig::default()
    });
    let run = |ex: &mut hsx_exec::Executive, func: u8, x: u16| -> u32 {
        let mut a = Asm::new();
        a.ldi32(0, 0xABCD_0000)
            .ldi32(1, u32::from(x))
            .svc(0xE, func)
            .mov(5, 0)
            .ret();
        let pid = load(ex, &a.build(), &[]);
        ex.step(100);
        ex.task(pid).unwrap().regs[5]
    };
    assert_eq!(
        run(&mut ex, 0, 0x0000),
        0xABCD_0000,
        "sin(0) = 0, upper half kept"
    );
    assert_eq!(run(&mut ex, 1, 0x0000), 0xABCD_3C00, "cos(0) = 1");
    assert_eq!(run(&mut ex, 2, 0x3C00), 0xABCD_4170, "exp(1) = 2.719");
    assert_eq!(run(&mut ex, 9, 0x3C00), 0, "other functions answer 0");
}
