//! The translator on hand-written wasm (text format): each module's `_start` computes a
//! value and exits with it through WASI `proc_exit`; the image runs in a real executive.

use hsx_cc::{CcError, Options, translate};
use hsx_exec::{Backends, ExecConfig, Executive, LoadOptions, MemFs, TaskState, VirtualClock};
use proptest::prelude::*;

/// Wrap `body` (instructions leaving an i32 on the stack) in a command module.
fn module(funcs: &str, body: &str) -> Vec<u8> {
    let text = format!(
        r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory 1)
          (global $sp (mut i32) (i32.const 0x8000))
          (global (export "__heap_base") i32 (i32.const 0x9000))
          {funcs}
          (func (export "_start") {body} call $exit))"#
    );
    wat::parse_str(text).expect("test module is valid wat")
}

/// Translate and run; the task's exit status (or the fault name).
fn run(wasm: &[u8]) -> Result<u32, String> {
    let out = translate(wasm, &Options::default()).map_err(|e| e.to_string())?;
    let clock = VirtualClock::starting_at(1000);
    let mut ex = Executive::new(
        ExecConfig::default(),
        Backends::new(clock.clone()).with_fs(MemFs::new()),
    );
    let pid = ex
        .load(&out.image, LoadOptions::default())
        .map_err(|e| e.to_string())?
        .pid;
    for _ in 0..1000 {
        ex.step(100_000);
        let t = ex.task(pid).map_err(|e| e.to_string())?;
        match t.state {
            TaskState::Terminated | TaskState::Returned => {
                return t.exit_status.ok_or_else(|| "no exit status".to_string());
            }
            TaskState::Faulted => return Err(t.fault.map_or("fault", |f| f.name).to_string()),
            _ => {}
        }
    }
    Err("did not finish".into())
}

fn expect(body: &str, want: u32) {
    assert_eq!(run(&module("", body)), Ok(want), "{body}");
}

#[test]
fn i32_arithmetic_and_compares() {
    expect("i32.const 7 i32.const 5 i32.sub", 2);
    expect("i32.const -7 i32.const 2 i32.div_s i32.const 10 i32.add", 7);
    expect("i32.const -7 i32.const 2 i32.rem_s i32.const 10 i32.add", 9);
    expect(
        "i32.const -1 i32.const 16 i32.div_u i32.const 24 i32.shr_u",
        15,
    );
    expect(
        "i32.const 3 i32.const 9 i32.lt_s i32.const 9 i32.const 3 i32.lt_u i32.add",
        1,
    );
    expect("i32.const 0x80000000 i32.const 1 i32.rotl", 1);
    expect("i32.const 0x00F00000 i32.clz", 8);
    expect("i32.const 0x00F00000 i32.ctz", 20);
    expect("i32.const 0xF0F0 i32.popcnt", 8);
    expect("i32.const 0x80 i32.extend8_s i32.const 0x100 i32.add", 0x80);
}

#[test]
fn i64_on_register_pairs() {
    expect(
        "i64.const 0xFFFFFFFF i64.const 1 i64.add i64.const 32 i64.shr_u i32.wrap_i64",
        1,
    );
    expect(
        "i64.const 123456789 i64.const 1000 i64.mul i64.const 32 i64.shr_u i32.wrap_i64",
        28,
    );
    expect(
        "i64.const 123456789 i64.const 1000 i64.mul i32.wrap_i64",
        0xBE99_1A08,
    );
    expect("i64.const -1 i64.const 1 i64.lt_s", 1);
    expect("i64.const -1 i64.const 1 i64.lt_u", 0);
    expect("i64.const 0x100000000 i64.const 0xFFFFFFFF i64.gt_u", 1);
    expect(
        "i64.const 0x8000000000000000 i64.const 0x7FFFFFFF00000001 i64.lt_s",
        1,
    );
    expect(
        "i64.const 1 i64.const 63 i64.shl i64.const 63 i64.shr_s i32.wrap_i64",
        u32::MAX,
    );
    expect("i64.const 0x0000000100000000 i64.clz i32.wrap_i64", 31);
}

#[test]
fn control_flow() {
    // br_table with a default.
    let body = |i: i32| {
        format!(
            "(block (block (block (block (br_table 0 1 2 3 (i32.const {i}))) \
             (return (call $exit (i32.const 10)))) (return (call $exit (i32.const 11)))) \
             (return (call $exit (i32.const 12)))) i32.const 13"
        )
    };
    for (i, want) in [(0, 10), (1, 11), (2, 12), (3, 13), (99, 13)] {
        expect(&body(i), want);
    }
    // A loop summing 1..=100 with block results and locals.
    expect(
        "(local $i i32) (local $s i32) \
         (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) \
                  (local.set $s (i32.add (local.get $s) (local.get $i))) \
                  (br_if $l (i32.lt_u (local.get $i) (i32.const 100)))) \
         (if (result i32) (i32.eq (local.get $s) (i32.const 5050)) \
             (then (i32.const 1)) (else (i32.const 0)))",
        1,
    );
}

#[test]
fn calls_with_many_arguments_and_indirect_calls() {
    let funcs = r#"
      (type $t2 (func (param i32 i32) (result i32)))
      (func $sum9 (param i32 i64 i32 i64 i32 i64 i32) (result i64)
        (i64.add (i64.add (i64.add (i64.extend_i32_u (local.get 0)) (local.get 1))
                          (i64.add (i64.extend_i32_u (local.get 2)) (local.get 3)))
                 (i64.add (i64.add (i64.extend_i32_u (local.get 4)) (local.get 5))
                          (i64.extend_i32_u (local.get 6)))))
      (func $sub (type $t2) (i32.sub (local.get 0) (local.get 1)))
      (func $one (result i32) (i32.const 1))
      (table 3 funcref)
      (elem (i32.const 0) $sub $one $sub)"#;
    let wasm = module(
        funcs,
        "(call $sum9 (i32.const 1) (i64.const 2) (i32.const 3) (i64.const 4) (i32.const 5) \
                     (i64.const 6) (i32.const 7)) i32.wrap_i64 \
         (call_indirect (type $t2) (i32.const 50) (i32.const 8) (i32.const 2)) i32.add",
    );
    assert_eq!(run(&wasm), Ok(28 + 42));
    // Wrong type, and out of range: the task faults instead of calling anything.
    let wasm = module(
        funcs,
        "(call_indirect (type $t2) (i32.const 1) (i32.const 2) (i32.const 1))",
    );
    assert_eq!(run(&wasm), Err("ILLEGAL_OPCODE".into()));
    let wasm = module(
        funcs,
        "(call_indirect (type $t2) (i32.const 1) (i32.const 2) (i32.const 7))",
    );
    assert_eq!(run(&wasm), Err("ILLEGAL_OPCODE".into()));
}

#[test]
fn memory_and_globals() {
    expect(
        "(i32.store (i32.const 0x5000) (i32.const 0x12345678)) \
         (i32.load8_u offset=3 (i32.const 0x5000))",
        0x12,
    );
    expect(
        "(i64.store offset=4000 (i32.const 0x5000) (i64.const 0x1122334455667788)) \
         (i32.load offset=4004 (i32.const 0x5000))",
        0x1122_3344,
    );
    expect(
        "(i32.store8 (i32.const 0x5000) (i32.const 0xFF)) (i32.load8_s (i32.const 0x5000)) i32.const 256 i32.add",
        255,
    );
    expect("(global.set $sp (i32.const 77)) global.get $sp", 77);
    expect("(memory.grow (i32.const 1)) memory.size i32.add", 0);
}

#[test]
fn an_unknown_import_is_an_error_naming_it_and_its_callers() {
    let text = r#"(module
        (import "wasi_snapshot_preview1" "path_open" (func $open (param i32) (result i32)))
        (memory 1)
        (func $fopen (export "fopen") (result i32) (call $open (i32.const 0)))
        (func (export "_start") (drop (call $fopen))))"#;
    let e = run(&wat::parse_str(text).unwrap()).unwrap_err();
    assert!(e.contains("path_open") && e.contains("fopen"), "{e}");
}

#[test]
fn modules_that_cannot_be_translated_are_typed_errors() {
    assert!(matches!(
        translate(b"\0asm\x01\0\0\0", &Options::default()),
        Err(CcError::Unsupported(_))
    ));
    assert!(matches!(
        translate(b"not wasm", &Options::default()),
        Err(CcError::BadWasm(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Corrupted modules are rejected or translated, never a panic.
    #[test]
    fn mutated_modules_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut wasm = module(
            "(func $f (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))",
            "(i64.store (i32.const 0x5000) (i64.const 9)) (call $f (i32.const 4)) \
             (block (br_if 0 (i32.const 1))) (f64.const 1.5) drop",
        );
        for (at, v) in flips {
            let n = wasm.len();
            wasm[at % n] ^= v;
        }
        let _ = translate(&wasm, &Options::default());
    }
}

/// A code word starting 0x7F reads as BRK to the executive's conservative scan and keeps the
/// task off the run-ahead fast path, so constants like INT_MAX are loaded another way.
#[test]
fn no_code_word_scans_as_brk() {
    let wasm = module(
        "",
        "i32.const 0x7FFFFFFF i64.const 0x7FF0000000000001 i32.wrap_i64 i32.add \
         i64.const 0x7FFFFFFF00000000 i64.const 1 i64.add i64.const 32 i64.shr_u i32.wrap_i64 \
         i32.add i32.const 0x7F000000 i32.add",
    );
    let out = translate(&wasm, &Options::default()).unwrap();
    let image = hsx_image::Image::parse(&out.image).unwrap();
    assert!(image.code.chunks(4).all(|w| w[0] != 0x7F));
    let want = 0x7FFF_FFFFu32
        .wrapping_add(1)
        .wrapping_add(0x7FFF_FFFF)
        .wrapping_add(0x7F00_0000);
    assert_eq!(run(&wasm), Ok(want));
}

#[test]
fn bulk_memory_copy_and_fill() {
    // fill 8 bytes with 0x5A, copy them forward by 3 (overlapping), read one back.
    expect(
        "(memory.fill (i32.const 0x5000) (i32.const 0x5A) (i32.const 8)) \
         (i32.store8 (i32.const 0x5000) (i32.const 1)) \
         (memory.copy (i32.const 0x5003) (i32.const 0x5000) (i32.const 8)) \
         (i32.add (i32.load8_u (i32.const 0x5003)) (i32.load8_u (i32.const 0x500A)))",
        1 + 0x5A,
    );
    // Backwards overlap.
    expect(
        "(i32.store (i32.const 0x5004) (i32.const 0x04030201)) \
         (memory.copy (i32.const 0x5002) (i32.const 0x5004) (i32.const 4)) \
         (i32.load (i32.const 0x5002))",
        0x0403_0201,
    );
}
