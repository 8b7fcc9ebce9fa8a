//! The `.sym` file built for assembly-only programs (`vm.md` §5.2 shape).

mod common;
use common::*;

use hsx_asm::{AsmOptions, SourceInput, assemble_sources};

const SRC: &str = "\
.entry main
.export lib
main:
    LDI R1, 1
    CALL helper
    CALL lib
    RET
helper:
    LDI32 R2, msg
loop:
    JMP loop
lib:
    RET
.data
msg:
    .asciz \"hi\"
table:
    .word 1, 2
";

fn sym_for(src: &str) -> hsx_asm::SymFile {
    let o = AsmOptions {
        emit_sym: true,
        ..opts("app")
    };
    let out = assemble_sources(
        &[SourceInput {
            name: "src/app.mvasm".into(),
            text: src.into(),
        }],
        &o,
    )
    .unwrap();
    let sym = out.sym.unwrap();
    assert_eq!(sym.hxe_crc, out.image.crc32);
    sym
}

#[test]
fn functions_are_entry_exports_and_call_targets() {
    let sym = sym_for(SRC);
    assert_eq!(sym.version, 1);
    assert_eq!(sym.hxe_path, "app.hxe");
    let f: Vec<(&str, u32, u32, Option<u32>)> = sym
        .symbols
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.address, f.size, f.line))
        .collect();
    // `loop` is only a jump target, so it stays inside `helper`.
    assert_eq!(
        f,
        vec![
            ("main", 0, 16, Some(3)),
            ("helper", 16, 12, Some(8)),
            ("lib", 28, 4, Some(12))
        ]
    );
    assert_eq!(
        sym.symbols.functions[0].file.as_deref(),
        Some("src/app.mvasm")
    );
}

#[test]
fn variables_labels_and_regions() {
    let sym = sym_for(SRC);
    let v: Vec<(&str, u32, u32, Option<&str>)> = sym
        .symbols
        .variables
        .iter()
        .map(|v| (v.name.as_str(), v.address, v.size, v.scope.as_deref()))
        .collect();
    assert_eq!(
        v,
        vec![
            ("msg", 0x4000, 3, Some("static")),
            ("table", 0x4003, 8, Some("static"))
        ]
    );
    assert_eq!(sym.symbols.labels["0x00000018"], vec!["loop".to_string()]);
    assert_eq!(sym.symbols.labels["0x00004003"], vec!["table".to_string()]);
    let r: Vec<(&str, &str, u32, u32)> = sym
        .memory_regions
        .iter()
        .map(|r| (r.name.as_str(), r.kind.as_str(), r.start, r.end))
        .collect();
    assert_eq!(
        r,
        vec![("code", "text", 0, 31), ("rodata", "data", 0x4000, 0x400A)]
    );
}

#[test]
fn one_instruction_record_per_instruction() {
    let sym = sym_for(SRC);
    let recs: Vec<(u32, Option<u32>, u32, Option<&str>)> = sym
        .instructions
        .iter()
        .map(|i| (i.pc, i.mvasm_line, i.ordinal, i.function.as_deref()))
        .collect();
    assert_eq!(
        recs,
        vec![
            (0, Some(4), 0, Some("main")),
            (4, Some(5), 1, Some("main")),
            (8, Some(6), 2, Some("main")),
            (12, Some(7), 3, Some("main")),
            (16, Some(9), 4, Some("helper")),
            (24, Some(11), 6, Some("helper")),
            (28, Some(13), 7, Some("lib")),
        ]
    );
    let first = &sym.instructions[0];
    assert_eq!(first.word, 0x0110_0001);
    assert_eq!(first.file.as_deref(), Some("src/app.mvasm"));
    assert_eq!((first.line, first.column), (Some(4), Some(5)));
}

#[test]
fn json_form_is_key_sorted_and_rereadable() {
    let sym = sym_for(SRC);
    let json = sym.to_json_string();
    assert!(json.starts_with("{\n  \"hxe_crc\": "), "{json}");
    let back = hsx_asm::SymFile::from_json_str(&json).unwrap();
    assert_eq!(back, sym);
}

#[test]
fn multi_file_records_use_linked_addresses_and_own_files() {
    let o = AsmOptions {
        emit_sym: true,
        ..opts("m")
    };
    let out = hsx_asm::assemble_files(
        &[
            programs().join("multi_main.mvasm"),
            programs().join("multi_lib.mvasm"),
        ],
        &o,
    )
    .unwrap();
    let sym = out.sym.unwrap();
    let lib_add = sym
        .symbols
        .functions
        .iter()
        .find(|f| f.name == "lib_add")
        .unwrap();
    let main_len = 10 * 4; // multi_main.mvasm: 10 words
    assert_eq!(lib_add.address, main_len + 4);
    let rec = sym
        .instructions
        .iter()
        .find(|i| i.pc == lib_add.address)
        .unwrap();
    assert!(rec.file.as_deref().unwrap().ends_with("multi_lib.mvasm"));
    assert_eq!(rec.ordinal, 1);
    assert_eq!(rec.function.as_deref(), Some("lib_add"));
    let table = sym
        .symbols
        .variables
        .iter()
        .find(|v| v.name == "lib_table")
        .unwrap();
    assert_eq!(
        (table.address, table.scope.as_deref()),
        (0x4000 + 3 + 3, Some("global"))
    );
}
