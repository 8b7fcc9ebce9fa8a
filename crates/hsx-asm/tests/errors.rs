//! One test per rejected construct: the message and its `line:col`.
//! Several of these are programs the reference assembler accepts and mis-encodes
//! (`design.md` §4 item 11, `vm.md` §8.4).

mod common;
use common::*;

use hsx_asm::{AsmOptions, HxeVersion, assemble_source};

/// Assert the first diagnostic's position and that its message contains `needle`.
fn check(src: &str, line: usize, col: usize, needle: &str) {
    let (l, c, m) = first_error(asm(src));
    assert_eq!((l, c), (line, col), "position of `{m}` for:\n{src}");
    assert!(m.contains(needle), "message `{m}` lacks `{needle}`");
}

#[test]
fn display_shows_location_source_line_and_caret() {
    let err = asm("RET\n    FOO R1\n").unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        "t.mvasm:2:5: error: unknown mnemonic `FOO`\n2 |     FOO R1\n  |     ^~~"
    );
    let d = err.first().unwrap();
    assert_eq!(d.headline(), "t.mvasm:2:5: error: unknown mnemonic `FOO`");
}

#[test]
fn unknown_escape_in_string() {
    check(".data\n.asciz \"ab\\qc\"\n", 2, 11, "unknown escape `\\q`");
}

#[test]
fn short_hex_escape() {
    check(".data\n.ascii \"\\x4\"\n", 2, 9, "exactly two hex digits");
}

#[test]
fn unterminated_string() {
    check(".data\n.asciz \"abc\n", 2, 8, "unterminated string literal");
}

#[test]
fn far_call_is_rejected() {
    // The reference encodes this forward CALL as 0x800 words and jumps backwards.
    let src = "main:\n    CALL far\n.org 0x2008\nfar:\n    RET\n";
    check(src, 2, 10, "CALL reaches -2048..+2047 words");
    let (_, _, m) = first_error(asm(src));
    assert!(m.contains("2050 words"), "{m}");
    // 2047 words ahead still works.
    let ok = asm("main:\n    CALL near\n.org 0x1FFC\nnear:\n    RET\n").unwrap();
    assert_eq!(ok.image.code_words().next(), Some(0x2400_07FF));
}

#[test]
fn ldi_of_label_at_or_above_0x800_is_rejected() {
    let src = ".org 0x900\nhere:\n    LDI R1, here\n";
    check(src, 3, 13, "does not fit LDI's signed 12-bit immediate");
    let (_, _, m) = first_error(asm(src));
    assert!(m.contains("0xFFFFF900") && m.contains("LDI32"), "{m}");
    // Below 0x800 it is fine.
    assert_eq!(
        words(".org 0x7FC\nhere:\n    LDI R1, here\n")[511],
        0x0110_07FC
    );
}

#[test]
fn ldi_of_data_label_is_rejected() {
    check(
        ".data\nmsg:\n.byte 1\n.text\n    LDI R2, msg\n",
        5,
        13,
        "use LDI32",
    );
}

#[test]
fn jump_beyond_4k_is_rejected() {
    check(
        "    JMP far\n.org 0x1000\nfar:\n    RET\n",
        1,
        9,
        "JMP/JZ/JNZ reach 0x000..0xFFF",
    );
}

#[test]
fn numeric_immediates_out_of_range() {
    check("LDI R1, 2048", 1, 9, "LDI's signed 12 bits");
    check("LD R1, [R2+2048]", 1, 12, "LD offset 2048 is out of range");
    check("CALL 2048", 1, 6, "CALL word offset 2048 is out of range");
    check("JMP 4096", 1, 5, "JMP target address 4096 is out of range");
    check("BRK 256", 1, 5, "BRK code 256 is out of range");
    check("LDI32 R1, 0x100000000", 1, 11, "LDI32 value");
}

#[test]
fn svc_operand_ranges() {
    check(
        "SVC 16, 0",
        1,
        5,
        "SVC module 16 is out of range (expected 0..15)",
    );
    check("SVC 1, 256", 1, 8, "SVC function 256 is out of range");
    check("SVC 0x1000", 1, 5, "SVC immediate 4096 is out of range");
    check("SVC MOD=1 FN=300", 1, 14, "SVC function 300");
    check("SVC", 1, 4, "SVC is missing its operand");
    check("SVC R1", 1, 5, "SVC expects");
    check("SVC 1, 2, 3", 1, 11, "at most two numbers");
}

#[test]
fn unknown_mnemonic_and_label_hint() {
    check("    FOO R1", 1, 5, "unknown mnemonic `FOO`");
    check("main", 1, 1, "a label needs a trailing `:`");
}

#[test]
fn bad_register() {
    check(
        "MOV R16, R1",
        1,
        5,
        "register `R16` does not exist (expected R0..R15)",
    );
    check(
        "ADD R1, R2",
        1,
        11,
        "ADD is missing its second source register",
    );
    check("PUSH 5", 1, 6, "PUSH expects a register R0..R15");
}

#[test]
fn bad_memory_operand() {
    check("LD R1, R2", 1, 8, "expects a memory operand like [R2+4]");
    check("LD R1, [R2+4", 1, 13, "missing `]`");
    check("ST [R2 4], R1", 1, 8, "expected `+`, `-` or `]`");
    check("LD R1, [R2-lab]\nlab:", 1, 12, "cannot subtract a symbol");
}

#[test]
fn trailing_garbage() {
    check("RET R1", 1, 5, "unexpected `R1` after the operands of RET");
    check("MOV R1, R2, R3", 1, 13, "unexpected `R3`");
}

#[test]
fn duplicate_label_names_first_definition() {
    check(
        "a:\nRET\na:\n",
        3,
        1,
        "duplicate label `a` (first defined at t.mvasm:1:1)",
    );
}

#[test]
fn undefined_symbol() {
    check("    JMP nowhere\n", 1, 9, "undefined symbol `nowhere`");
    check(
        "    LDI32 R1, lo16(nowhere)\n",
        1,
        15,
        "undefined symbol `nowhere`",
    );
}

#[test]
fn export_of_missing_label() {
    check(
        ".export ghost\nRET\n",
        1,
        9,
        "cannot export `ghost`: no such label",
    );
}

#[test]
fn entry_errors() {
    check(
        ".entry ghost\nRET\n",
        1,
        8,
        "entry symbol `ghost` is not defined",
    );
    check(
        ".data\n.entry\n",
        2,
        1,
        ".entry is only valid in the .text section",
    );
    check(
        ".entry 8\nRET\n",
        1,
        1,
        "entry point 0x0008 is not a word-aligned address inside the code",
    );
    check(".data\n.byte 1\n", 1, 1, "the program has no instructions");
}

#[test]
fn off16_of_text_label() {
    check(
        "f:\n    LDI R1, off16(f)\n",
        2,
        13,
        "off16() expects a .data symbol",
    );
}

#[test]
fn data_directive_errors() {
    check(
        ".data\n.byte 256",
        2,
        7,
        ".byte value 256 is out of range (expected -128..255)",
    );
    check(
        ".data\n.half 0x10000",
        2,
        7,
        ".half value 65536 is out of range",
    );
    check(
        ".data\n.word \"ab\"",
        2,
        7,
        ".word does not take string literals",
    );
    check(".data\n.align 0", 2, 8, ".align boundary 0 is out of range");
    check(".data\n.zero -1", 2, 7, ".zero size -1 is out of range");
    check(".data\n.asciz 5", 2, 8, ".asciz expects a string literal");
    check(".data\nx:\n.byte x\n", 3, 7, "does not fit .byte");
    check(".byte 1", 1, 1, ".byte is only valid in the .data section");
    check(
        ".data\nLDI R1, 1",
        2,
        1,
        "instruction `LDI` in the .data section",
    );
    check(
        ".align 4",
        1,
        1,
        ".align is only valid in the .data section",
    );
}

#[test]
fn org_errors() {
    check(
        "RET\nRET\n.org 4",
        3,
        6,
        ".org offset 0x4 is behind the current offset 0x8",
    );
    check(".org 6", 1, 6, "not a multiple of 4");
    check(
        ".data\n.org 4",
        2,
        1,
        ".org is only supported in the .text section",
    );
}

#[test]
fn unknown_directive() {
    check(".section .text", 1, 1, "unknown directive `.section`");
    // No prefix matching (the reference treats `.datafoo` as `.data`).
    check(".datafoo", 1, 1, "unknown directive `.datafoo`");
}

#[test]
fn number_errors() {
    check("LDI R1, 12ab", 1, 9, "invalid number `12ab`");
    check("LDI R1, 99999999999999999999", 1, 9, "too large");
    check("LDI R1, @", 1, 9, "unexpected character `@`");
}

#[test]
fn metadata_errors() {
    check(
        ".value {\"group\":1, \"id\":}",
        1,
        25,
        "invalid JSON in .value",
    );
    check(".value {\"id\":1}", 1, 8, "requires `group`");
    check(
        ".value {\"group\":1,\"id\":300}",
        1,
        8,
        "`id` is 300 but must be within 0..255",
    );
    check(
        ".value {\"group\":1,\"id\":1,\"flags\":\"RO|FAST\"}",
        1,
        8,
        "unknown flag `FAST`",
    );
    check(".value []", 1, 8, "must contain at least one entry");
    check(".value 5", 1, 8, "expects a JSON object");
    check(".value", 1, 1, ".value expects a JSON object");
    check(".cmd {\"group\":1}", 1, 6, "requires `id`");
    check(
        ".mailbox {\"capacity\":4}",
        1,
        10,
        "requires a non-empty string `target`",
    );
    check(
        ".mailbox {\"target\":\"app:x\",\"mode\":\"SIDEWAYS\"}",
        1,
        10,
        "invalid .mailbox entry",
    );
    check(
        ".value {\"group\":1,\"id\":1}\n.value {\"group\":1,\"id\":1}\nRET",
        2,
        8,
        "duplicate value (1,1) (first declared at t.mvasm:1:8)",
    );
    check(
        ".cmd {\"group\":1,\"id\":1,\"handler\":\"nope\"}\nRET",
        1,
        6,
        "command handler `nope` is not defined",
    );
    check(
        ".mailbox {\"target\":\"app:a\"}\n.mailbox {\"target\":\"app:a\"}\nRET",
        2,
        10,
        "duplicate mailbox target `app:a`",
    );
    // A multi-line payload that never closes.
    check("RET\n.value {\"group\":1,\n", 2, 8, "is never closed");
}

#[test]
fn metadata_needs_v2() {
    let o = AsmOptions {
        version: HxeVersion::V1,
        ..opts("t")
    };
    let err = assemble_source("t.mvasm", ".value {\"group\":1,\"id\":1}\nRET\n", &o).unwrap_err();
    assert!(err.to_string().contains("needs a v2 image"), "{err}");
}

#[test]
fn name_directive_errors() {
    check(".name 5", 1, 1, ".name expects a string literal");
    check(
        ".name \"caf\\xE9\"",
        1,
        7,
        "app name must be at most 31 printable ASCII characters",
    );
    check(
        ".name \"this-name-is-far-too-long-for-the-field\"",
        1,
        7,
        "at most 31",
    );
    // An empty name means no name at all.
    assert_eq!(asm(".name \"\"\nRET\n").unwrap().image.app_name, None);
    let err = asm_many(
        &[
            ("a.mvasm", ".name \"x\"\nRET\n"),
            ("b.mvasm", ".name \"y\"\n"),
        ],
        "t",
    )
    .unwrap_err();
    let d = err.first().unwrap();
    assert_eq!((d.file.as_str(), d.line, d.col), ("b.mvasm", 1, 1));
    assert!(
        d.message.contains("conflicting .name \"y\""),
        "{}",
        d.message
    );
}

#[test]
fn include_errors() {
    check(
        ".include \"does/not/exist.mvasm\"",
        1,
        10,
        "cannot read included file",
    );
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.mvasm");
    std::fs::write(&a, "RET\n.include \"b.mvasm\"\n").unwrap();
    std::fs::write(dir.path().join("b.mvasm"), "RET\n.include \"a.mvasm\"\n").unwrap();
    let err = hsx_asm::assemble_files(&[a], &opts("a")).unwrap_err();
    let d = err.first().unwrap();
    assert!(d.file.ends_with("b.mvasm"), "{}", d.file);
    assert_eq!((d.line, d.col), (2, 10));
    assert!(
        d.message.contains("recursive .include of `a.mvasm`"),
        "{}",
        d.message
    );
}

#[test]
fn several_errors_are_reported_in_order() {
    let err = asm("FOO\nRET\nBAR\n").unwrap_err();
    let lines: Vec<usize> = err.diagnostics().iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![1, 3]);
}

#[test]
fn missing_input_file() {
    let err = hsx_asm::assemble_files(&["/nonexistent/x.mvasm".into()], &opts("x")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read /nonexistent/x.mvasm: "),
        "{err}"
    );
}

/// Input that once panicked: a most-negative offset negated again, and `.include` followed
/// by a multi-byte blank (the name was cut inside that character).
#[test]
fn hostile_operands_are_errors_not_panics() {
    check(
        "LD R1, [R2 - -9223372036854775808]\n",
        1,
        14,
        "out of range",
    );
    let err = asm(".include \u{3000}x\n").unwrap_err();
    assert_eq!(err.first().map(|d| d.line), Some(1));
    let err = asm(".include x\u{3000}y\n").unwrap_err();
    assert_eq!(err.first().map(|d| d.line), Some(1));
}

/// Register spellings: lower case is accepted, a leading zero is not (`R01` would read as a
/// register in some tools and as a symbol in others).
#[test]
fn register_spellings() {
    let out = asm("mov r15, r0\nRET\n").unwrap();
    assert_eq!(out.image.code_words().next(), Some(0x04F0_0000));
    check("MOV R01, R1", 1, 5, "register `R01` does not exist");
    check("LDI R1, r3", 1, 9, "found register `r3`");
}
