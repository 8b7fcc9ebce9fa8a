//! Segmented task memory in the executive: a task sees only its data segment (rodata +
//! heap at 0x4000) and its stack below 0xFFFC; anything else faults that task alone.

mod common;

use common::*;
use hsx_exec::{
    Backends, ExecConfig, Executive, FlashCode, LoadOptions, MemLayout, TaskState, VirtualClock,
};
use hsx_image::Hints;
use hsx_vm::HSX_ERR_MEM_FAULT;

fn seg_cfg() -> ExecConfig {
    ExecConfig {
        mem_layout: MemLayout::Segmented,
        ..ExecConfig::default()
    }
}

/// Store R2 at [R1] then return 7.
fn store_at(addr: u32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi32(1, addr).ldi(2, 0x55).st(1, 0, 2).ldi(0, 7).ret();
    a.build()
}

#[test]
fn out_of_segment_store_faults_only_that_task() {
    let (mut ex, _c) = exec_with(seg_cfg());
    let bad = load(&mut ex, &store_at(0x8000), b"abcd");
    let good = load(&mut ex, &count_to(50), b"");
    let inside = load(&mut ex, &store_at(0x4000), b"abcd");
    ex.run_until(10_000);
    let b = ex.task(bad).unwrap();
    assert_eq!(b.state, TaskState::Faulted);
    assert_eq!(b.regs[0], HSX_ERR_MEM_FAULT);
    assert_eq!(ex.task(good).unwrap().exit_status, Some(50));
    assert_eq!(ex.task(inside).unwrap().exit_status, Some(7));
    // 4 bytes of rodata (already whole words) + the default 4 KiB stack.
    assert_eq!(ex.task(inside).unwrap().mem_bytes, 4 + 0x1000);
    // The same program on the flat default just works.
    let (mut flat, _c) = exec();
    let pid = load(&mut flat, &store_at(0x8000), b"abcd");
    flat.run_until(1000);
    assert_eq!(flat.task(pid).unwrap().exit_status, Some(7));
    assert_eq!(flat.task(pid).unwrap().mem_bytes, 0x1_0000);
}

#[test]
fn host_peek_and_poke_of_unmapped_bytes() {
    let (mut ex, _c) = exec_with(seg_cfg());
    let pid = load(&mut ex, &spin(), b"xy");
    assert_eq!(ex.write_mem(pid, 0x3FFE, &[1, 2, 3, 4, 5, 6]).unwrap(), 6);
    // 0x4000..0x4004 is mapped (2 rodata bytes rounded up to a word), the rest is not.
    assert_eq!(
        ex.read_mem(pid, 0x3FFE, 8).unwrap(),
        vec![0, 0, 3, 4, 5, 6, 0, 0]
    );
    assert_eq!(ex.read_mem(pid, 0x8000, 4).unwrap(), vec![0; 4]);
    ex.step(100);
    assert_eq!(ex.state(pid).unwrap(), TaskState::Running);
}

#[test]
fn hints_and_load_options_size_the_segments() {
    let (mut ex, _c) = exec_with(seg_cfg());
    let mut img = image(&store_at(0x4010), b"ab");
    img.hints = Some(Hints {
        stack_size: 0x100,
        heap_size: 0x20,
    });
    let pid = ex.load_image(&img, LoadOptions::default()).unwrap().pid;
    let t = ex.task(pid).unwrap();
    assert_eq!((t.stack_size, t.stack_limit), (0x100, 0xFFFC - 0x100));
    assert_eq!(t.mem_bytes, 0x24 + 0x100);
    ex.run_until(1000);
    assert_eq!(ex.task(pid).unwrap().exit_status, Some(7), "heap is mapped");
    // A load option overrides the hint; the stack guard follows in both layouts.
    let opts = LoadOptions {
        stack_size: Some(0x40),
        heap_size: Some(0),
        ..LoadOptions::default()
    };
    let pid = ex.load_image(&img, opts.clone()).unwrap().pid;
    ex.run_until(1000);
    assert_eq!(ex.task(pid).unwrap().state, TaskState::Faulted);
    let (mut flat, _c) = exec();
    let pid = flat.load_image(&img, opts).unwrap().pid;
    assert_eq!(flat.task(pid).unwrap().stack_limit, 0xFFFC - 0x40);
}

#[test]
fn stack_overflow_in_a_small_segment_is_a_stack_fault() {
    let (mut ex, _c) = exec_with(seg_cfg());
    let mut a = Asm::new();
    let top = a.here();
    a.push(1).jmp(top);
    let mut img = image(&a.build(), b"");
    img.hints = Some(Hints {
        stack_size: 0x20,
        heap_size: 0,
    });
    let pid = ex.load_image(&img, LoadOptions::default()).unwrap().pid;
    ex.run_until(1000);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.state, TaskState::Faulted);
    assert_eq!(t.sp, 0xFFFC - 0x20);
}

static IMAGE: std::sync::OnceLock<&'static [u8]> = std::sync::OnceLock::new();

#[test]
fn flash_code_runs_in_place_like_desktop_code() {
    let bytes: &'static [u8] =
        IMAGE.get_or_init(|| Box::leak(image(&count_to(99), b"").to_v2_bytes().into_boxed_slice()));
    let clock = VirtualClock::starting_at(0);
    let mut ex: Executive<FlashCode> =
        Executive::with_code(seg_cfg(), Backends::new(clock.clone()));
    let pid = ex.load_static(bytes, LoadOptions::default()).unwrap().pid;
    assert_eq!(ex.read_code(pid, 0, 4).unwrap(), bytes[96..100].to_vec());
    let code_len = u32::from_be_bytes(bytes[12..16].try_into().unwrap());
    assert!(code_len > 0);
    assert_eq!(
        ex.task(pid).unwrap().image.code_len,
        code_len,
        "reported though not copied"
    );
    ex.run_until(10_000);
    assert_eq!(ex.task(pid).unwrap().exit_status, Some(99));
    let (mut d, _c) = exec();
    let pid = d.load_static(bytes, LoadOptions::default()).unwrap().pid;
    d.run_until(10_000);
    assert_eq!(d.task(pid).unwrap().exit_status, Some(99));
}
