//! Multi-file linking (`vm.md` §5.1): layout order, symbol resolution, `off16`, entry choice
//! and the link errors.

mod common;
use common::*;

const MAIN: &str = "\
.import lib_fn
.import lib_data
.entry main
main:
    CALL lib_fn
    LDI32 R1, lib_data
    LDI R2, off16(lib_data)
    LDI32 R3, own
    RET
.data
own:
    .byte 0xAA, 0xBB
";

const LIB: &str = "\
.text
    RET
lib_fn:
    JMP lib_fn
.data
    .byte 1, 2, 3
lib_data:
    .word lib_fn, own2
own2:
    .byte 9
.export lib_fn
.export lib_data
";

#[test]
fn objects_are_concatenated_in_order_without_alignment() {
    let out = asm_many(&[("main.mvasm", MAIN), ("lib.mvasm", LIB)], "app").unwrap();
    let w: Vec<u32> = out.image.code_words().collect();
    // main: 7 words (LDI32 is two) at 0x00; lib at code_base 0x1C, lib_fn = 0x20.
    assert_eq!(w.len(), 9);
    // CALL lib_fn from pc 0 → +8 words.
    assert_eq!(w[0], 0x2400_0008);
    // lib_data = 0x4000 + ro_base 2 + offset 3; off16 gives the offset inside lib's rodata.
    assert_eq!(w[2], 0x4005);
    assert_eq!(w[3], 0x0120_0003);
    assert_eq!(w[5], 0x4000);
    // JMP lib_fn inside lib uses the absolute linked address.
    assert_eq!(w[8], 0x2100_0020);
    // rodata: main's 2 bytes, then lib's with relocated words (lib_fn, own2 = 0x400D).
    assert_eq!(
        out.image.rodata,
        vec![0xAA, 0xBB, 1, 2, 3, 0x20, 0, 0, 0, 0x0D, 0x40, 0, 0, 9]
    );
    assert_eq!(out.image.entry, 0);
}

#[test]
fn export_after_the_label_still_exports() {
    // The reference silently exports nothing here (vm.md §8.4 item 4); lib's exports sit
    // at the end of the file.
    let out = asm_many(&[("main.mvasm", MAIN), ("lib.mvasm", LIB)], "app");
    assert!(out.is_ok(), "{:?}", out.err().map(|e| e.to_string()));
}

#[test]
fn entry_prefers_exported_start_anywhere() {
    let first = ".entry main\nmain:\n    RET\n";
    let second = ".export _start\n    RET\n_start:\n    RET\n";
    let out = asm_many(&[("a.mvasm", first), ("b.mvasm", second)], "app").unwrap();
    assert_eq!(out.image.entry, 8);
}

#[test]
fn entry_uses_first_object_with_an_entry_symbol() {
    let a = "    RET\n    RET\n";
    let b = ".entry go\n    RET\ngo:\n    RET\n";
    let c = ".entry c_go\nc_go:\n    RET\n";
    let out = asm_many(&[("a.mvasm", a), ("b.mvasm", b), ("c.mvasm", c)], "app").unwrap();
    assert_eq!(out.image.entry, 12);
}

#[test]
fn entry_falls_back_to_object_zero_offset() {
    let a = "    RET\n.entry\n    RET\n";
    let b = ".entry 0\n    RET\n";
    let out = asm_many(&[("a.mvasm", a), ("b.mvasm", b)], "app").unwrap();
    assert_eq!(out.image.entry, 4);
}

#[test]
fn unresolved_import_is_located_at_the_import() {
    let err = asm_many(&[("main.mvasm", MAIN)], "app").unwrap_err();
    let d = &err.diagnostics()[0];
    assert_eq!((d.file.as_str(), d.line, d.col), ("main.mvasm", 1, 9));
    assert_eq!(
        d.message,
        "unresolved import `lib_fn`: no linked file exports it"
    );
    assert_eq!(err.diagnostics().len(), 2);
}

#[test]
fn duplicate_export_names_both_places() {
    let a = ".export f\nf:\n    RET\n";
    let b = "    RET\nf:\n    RET\n.export f\n";
    let err = asm_many(&[("a.mvasm", a), ("b.mvasm", b)], "app").unwrap_err();
    let d = err.first().unwrap();
    assert_eq!((d.file.as_str(), d.line, d.col), ("b.mvasm", 4, 9));
    assert_eq!(
        d.message,
        "duplicate export `f`: already exported by a.mvasm (label at a.mvasm:2:1)"
    );
}

#[test]
fn entry_symbols_are_exported_so_two_entry_mains_collide() {
    // As in hld.py: `.entry main` exports `main`.
    let a = ".entry main\nmain:\n    RET\n";
    let err = asm_many(&[("a.mvasm", a), ("b.mvasm", a)], "app").unwrap_err();
    assert!(
        err.first()
            .unwrap()
            .message
            .contains("duplicate export `main`")
    );
}

#[test]
fn global_symbols_win_over_local_labels_with_a_warning() {
    // hld.py resolves against the exported table first.
    let a = "loop:\n    JMP loop\n";
    let b = ".export loop\n    RET\nloop:\n    RET\n";
    let out = asm_many(&[("a.mvasm", a), ("b.mvasm", b)], "app").unwrap();
    assert_eq!(out.image.code_words().next(), Some(0x2100_0008));
    assert_eq!(out.warnings.len(), 1);
    assert!(
        out.warnings[0]
            .starts_with("a.mvasm:2:9: warning: `loop` resolves to the export from b.mvasm"),
        "{}",
        out.warnings[0]
    );
}

#[test]
fn extern_defined_locally_is_exported_and_undefined_extern_is_an_import() {
    let a = ".extern shared\n.extern helper\n    CALL helper\nshared:\n    RET\n";
    let b = ".extern shared\n.export helper\nhelper:\n    JMP shared\n";
    let out = asm_many(&[("a.mvasm", a), ("b.mvasm", b)], "app").unwrap();
    let w: Vec<u32> = out.image.code_words().collect();
    assert_eq!(w, vec![0x2400_0002, 0x2500_0000, 0x2100_0004]);
    // An extern nobody defines fails at link time.
    let err = asm_many(&[("a.mvasm", ".extern nobody\n    JMP nobody\n")], "app").unwrap_err();
    assert_eq!(err.first().unwrap().message, "undefined symbol `nobody`");
}

#[test]
fn metadata_is_merged_sorted_and_checked_across_objects() {
    let a = ".value {\"group\":2,\"id\":1}\n.mailbox {\"target\":\"app:z\"}\n.cmd {\"group\":1,\"id\":1,\"handler\":\"h\"}\n    RET\nh:\n    RET\n";
    let b = ".value {\"group\":1,\"id\":5}\n.mailbox {\"target\":\"app:a\"}\n    RET\n";
    let out = asm_many(&[("a.mvasm", a), ("b.mvasm", b)], "app").unwrap();
    let m = &out.image.metadata;
    assert_eq!(
        m.values.iter().map(|v| (v.group, v.id)).collect::<Vec<_>>(),
        vec![(1, 5), (2, 1)]
    );
    assert_eq!(
        m.mailboxes
            .iter()
            .map(|x| x.target.as_str())
            .collect::<Vec<_>>(),
        vec!["app:a", "app:z"]
    );
    assert_eq!(m.commands[0].handler, 4);
    let c = ".value {\"group\":2,\"id\":1}\n    RET\n";
    let err = asm_many(&[("a.mvasm", a), ("c.mvasm", c)], "app").unwrap_err();
    let d = err.first().unwrap();
    assert_eq!((d.file.as_str(), d.line), ("c.mvasm", 1));
    assert!(
        d.message
            .starts_with("duplicate value (2,1) (first declared at a.mvasm:1:8)")
    );
}

#[test]
fn command_handler_resolves_exported_symbol_in_another_object() {
    let a = ".cmd {\"group\":1,\"id\":1,\"handler\":\"remote\"}\n.import remote\n    RET\n";
    let b = ".export remote\n    RET\nremote:\n    RET\n";
    let out = asm_many(&[("a.mvasm", a), ("b.mvasm", b)], "app").unwrap();
    assert_eq!(out.image.metadata.commands[0].handler, 8);
}

#[test]
fn program_files_link_from_disk() {
    let out = asm_programs(&["multi_main.mvasm", "multi_lib.mvasm"], "multi").unwrap();
    assert_eq!(out.image.app_name.as_deref(), Some("multi"));
    assert!(out.warnings.is_empty());
}
