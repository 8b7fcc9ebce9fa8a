//! The program the conformance tests (`conformance.rs`, `conformance_extras.rs`) run, and
//! the waits they share.
//!
//! The spec builds `examples/demos/longrun` with the C toolchain (`main` at 0, 152 bytes of
//! code, one stack local `counter` at `fp-8`). There is no C toolchain here, so [`PROGRAM`]
//! is hand-written MVASM with the same shape: the compiler's prologue, `counter` in the
//! second stack slot, an endless increment loop, 152 bytes of code, and a `.sym` in the
//! layout `hld.py --emit-sym` writes, with `main` and `counter` as the C build describes them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hsx_image::sym::{Function, Local, LocalLocation};
use serde_json::{Value, json};

use crate::common::{Client, is_event};

/// Upper bound for anything that should happen "at once" or "within about a second";
/// waits poll up to this deadline instead of sleeping a fixed time.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// The longrun demo, as its C source compiles:
///
/// ```c
/// int main(void) {
///     volatile uint32_t counter = 0;
///     while (1) { counter++; if (counter == 0) { counter = 1; } }
/// }
/// ```
///
/// Eight instructions of set-up put the PC on `loop` (32) after 8 steps, where `counter` is
/// live; the loop's store at 0x28 is the breakpoint of step 28, reached two instructions
/// after step 18 ends.
pub const PROGRAM: &str = r#"
.name "main"
.entry main
.text
main:
    PUSH  R7                ; 0x00  prologue
    MOV   R7, R15           ; 0x04
    PUSH  R12               ; 0x08  [R7+-4]
    PUSH  R12               ; 0x0C  [R7+-8]  counter
    LDI   R4, 0             ; 0x10
    ST    [R7+-8], R4       ; 0x14  counter = 0
    LDI   R5, 1             ; 0x18
    LDI   R6, 0             ; 0x1C
loop:
    LD    R4, [R7+-8]       ; 0x20  counter live from here
    ADD   R4, R4, R5        ; 0x24
    ST    [R7+-8], R4       ; 0x28  counter++ (breakpoint of step 28)
    CMP   R4, R6            ; 0x2C
    JNZ   loop              ; 0x30
    ST    [R7+-8], R5       ; 0x34  counter = 1 on wrap-around
    JMP   loop              ; 0x38
    POP   R12               ; 0x3C  epilogue the compiler emits after the endless loop
    POP   R12               ; 0x40
    POP   R7                ; 0x44
    RET                     ; 0x48
.org 0x94
    RET                     ; 0x94  last word: 152 bytes of code
"#;

/// Where the loop starts (the PC after step 18's 8 steps).
pub const LOOP_PC: u64 = 32;
/// The breakpoint address of step 28.
pub const BP_PC: u64 = 0x28;
/// Code size of `main`.
pub const CODE_LEN: u64 = 152;

/// Assembles [`PROGRAM`] into `dir/main.hxe` and writes `dir/main.sym` next to it.
///
/// The `.sym` keeps what the linker emits (CRC, instruction records, memory regions) and
/// describes `main` and `counter` as the C build's debug info does.
pub fn build(dir: &Path) -> PathBuf {
    let src = dir.join("main.mvasm");
    std::fs::write(&src, PROGRAM).expect("write source");
    let hxe = dir.join("main.hxe");
    let opts = hsx_asm::AsmOptions {
        emit_sym: true,
        output_path: Some(hxe.clone()),
        ..hsx_asm::AsmOptions::default()
    };
    let out = hsx_asm::assemble_files(&[src], &opts).expect("assemble");
    assert_eq!(out.image.code.len() as u64, CODE_LEN, "program size");
    let mut sym = out.sym.expect("sym");
    sym.symbols.functions = vec![Function {
        name: "main".into(),
        address: 0,
        size: CODE_LEN as u32,
        file: Some("longrun/main.c".into()),
        line: Some(3),
        ..Function::default()
    }];
    // The C build exports only `main`; the loop's label is compiler-internal.
    sym.symbols.labels = [("0x00000000".to_string(), vec!["main".to_string()])].into();
    sym.symbols.locals = vec![Local {
        name: Some("counter".into()),
        function: "main".into(),
        file: Some("longrun/main.c".into()),
        line: Some(4),
        locations: vec![LocalLocation {
            start: LOOP_PC as u32,
            end: CODE_LEN as u32,
            location: json!({"kind": "stack", "offset": -8}),
        }],
        ..Local::default()
    }];
    std::fs::write(&hxe, &out.hxe_bytes).expect("write hxe");
    std::fs::write(dir.join("main.sym"), sym.to_json_string()).expect("write sym");
    std::fs::canonicalize(&hxe).expect("absolute path")
}

/// The next event line on a stream, within [`DEADLINE`].
pub async fn next_event(v: &mut Client) -> Value {
    let line = tokio::time::timeout(DEADLINE, v.recv())
        .await
        .expect("no event within the deadline");
    assert!(is_event(&line), "expected an event, got {line}");
    line
}

pub fn as_pid(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a pid: {v}"))
}
