//! Images declaring ISA extensions: EXT1 tasks execute EXT1 opcodes, tasks without it fault
//! on them exactly as before, images needing unimplemented bits are refused.

mod common;
use common::*;

use hsx_exec::{ExecError, LoadOptions, TaskState};
use hsx_image::LoadError;
use hsx_vm::isa::{Cond, encode_addi, encode_bcc, encode_setcc};

/// R0 = 5 via ADDI; R1 = (R0 != 0) via CMP + SETNE; R0 += R1 with a branch: exits 6.
fn ext1_program() -> Vec<u32> {
    vec![
        encode_addi(0, 0, 5).unwrap(),
        w(Cmp, 0, 0, 2, 0),
        encode_setcc(Cond::Ne, 1),
        encode_bcc(Cond::Al, 2).unwrap(),
        w(Brk, 0, 0, 0, 0), // skipped
        w(Add, 0, 0, 1, 0),
        w(Ret, 0, 0, 0, 0),
    ]
}

#[test]
fn an_ext1_image_runs_its_ext1_instructions() {
    let (mut ex, _c) = exec();
    let mut img = image(&ext1_program(), &[]);
    img.isa_ext = hsx_vm::ISA_EXT1;
    let pid = ex.load_image(&img, LoadOptions::default()).unwrap().pid;
    assert_eq!(ex.task(pid).unwrap().image.isa_ext, hsx_vm::ISA_EXT1);
    ex.step(100);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.state, t.exit_status), (TaskState::Returned, Some(6)));
    // The same image from bytes.
    let pid = ex
        .load(&img.to_v2_bytes(), LoadOptions::default())
        .unwrap()
        .pid;
    ex.step(100);
    assert_eq!(ex.task(pid).unwrap().exit_status, Some(6));
}

#[test]
fn without_the_header_bit_ext1_opcodes_stay_illegal() {
    let (mut ex, _c) = exec();
    let pid = load(&mut ex, &ext1_program(), &[]);
    assert_eq!(ex.task(pid).unwrap().image.isa_ext, 0);
    ex.step(100);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.state, TaskState::Faulted);
    assert_eq!(t.fault.map(|f| (f.name, f.pc)), Some(("ILLEGAL_OPCODE", 0)));
}

#[test]
fn unimplemented_extension_bits_are_refused() {
    let (mut ex, _c) = exec();
    let mut img = image(&ext1_program(), &[]);
    img.isa_ext = 0x3;
    let e = ex.load_image(&img, LoadOptions::default()).unwrap_err();
    assert!(
        matches!(
            e,
            ExecError::Image(LoadError::UnsupportedIsaExt { bits: 0x2 })
        ),
        "{e:?}"
    );
    // From bytes, the parser refuses it first, with the same error.
    let e = ex
        .load(&img.to_v2_bytes(), LoadOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        ExecError::Image(LoadError::UnsupportedIsaExt { bits: 0x2 }).to_string()
    );
    assert!(e.to_string().contains(
        "image needs MiniVM ISA extension bits 0x2, which this executive does not implement"
    ));
    // Nothing was loaded, and the next PID is still 1.
    assert_eq!(load(&mut ex, &[w(Ret, 0, 0, 0, 0)], &[]), 1);
}
