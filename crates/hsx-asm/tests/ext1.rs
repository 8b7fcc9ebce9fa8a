//! EXT1 in the assembler, linker and disassembler: syntax and encodings, PC-relative
//! fix-ups with range checks, the `isa_ext` header bit, and asm → disasm → asm round trips.

mod common;
use common::*;

use hsx_asm::{AsmOptions, HxeVersion, assemble_source, disassemble, disassemble_with};
use hsx_vm::isa::{
    Cond, encode_addi, encode_adjsp, encode_bcc, encode_calll, encode_callr, encode_divu,
    encode_jr, encode_setcc,
};

const PROGRAM: &str = "\
.entry main
main:
    LDI R1, 3
loop:
    ADDI R1, R1, -1
    CMP R1, R0
    BNE loop
    BEQ done
    B done
done:
    CALLL func
    LDI32 R4, func
    CALLR R4
    SETLTU R2
    SETAL R3
    DIVU R5, R6, R7
    ADJSP -3
    ADJSP 3
    BAL tail
tail:
    RET
func:
    JR R4
";

#[test]
fn every_ext1_form_encodes_as_the_vm_expects() {
    let w = words(PROGRAM);
    let want = vec![
        0x0110_0003,                       // 00 LDI R1, 3
        encode_addi(1, 1, -1).unwrap(),    // 04 loop:
        0x2001_0000,                       // 08 CMP R1, R0
        encode_bcc(Cond::Ne, -2).unwrap(), // 0C → 04
        encode_bcc(Cond::Eq, 2).unwrap(),  // 10 → 18
        encode_bcc(Cond::Al, 1).unwrap(),  // 14 → 18
        encode_calll(11).unwrap(),         // 18 done: → 44
        0x6040_0000,                       // 1C LDI32 R4, func
        0x44,                              // 20
        encode_callr(4),                   // 24
        encode_setcc(Cond::Ltu, 2),        // 28
        encode_setcc(Cond::Al, 3),         // 2C
        encode_divu(5, 6, 7),              // 30
        encode_adjsp(-3).unwrap(),         // 34
        encode_adjsp(3).unwrap(),          // 38
        encode_bcc(Cond::Al, 1).unwrap(),  // 3C → 40
        0x2500_0000,                       // 40 tail: RET
        encode_jr(4),                      // 44 func:
    ];
    assert_eq!(w, want);
    let out = asm(PROGRAM).unwrap();
    assert_eq!(out.image.isa_ext, hsx_vm::ISA_EXT1);
    assert_eq!(&out.hxe_bytes[0x48..0x4C], &[0, 0, 0, 1]);
}

#[test]
fn base_programs_keep_isa_ext_zero() {
    let out = asm(".entry main\nmain:\n    LDI R0, 1\n    CALL f\n    RET\nf:\n    RET\n").unwrap();
    assert_eq!(out.image.isa_ext, 0);
    assert!(out.hxe_bytes[0x48..0x60].iter().all(|&b| b == 0));
}

#[test]
fn numeric_offsets_and_their_ranges() {
    assert_eq!(
        words("B -1\nBVC 524287\nBMI -524288\nCALLL 8388607\nCALLL -8388608\n"),
        vec![
            encode_bcc(Cond::Al, -1).unwrap(),
            encode_bcc(Cond::Vc, (1 << 19) - 1).unwrap(),
            encode_bcc(Cond::Mi, -(1 << 19)).unwrap(),
            encode_calll((1 << 23) - 1).unwrap(),
            encode_calll(-(1 << 23)).unwrap(),
        ]
    );
    for (src, what) in [
        (
            "B 524288\n",
            "B word offset 524288 is out of range (expected -524288..524287)",
        ),
        ("BGE -524289\n", "BGE word offset -524289 is out of range"),
        (
            "CALLL 8388608\n",
            "CALLL word offset 8388608 is out of range",
        ),
        (
            "ADDI R1, R2, 2048\n",
            "ADDI immediate 2048 is out of range (expected -2048..2047)",
        ),
        ("ADJSP -2049\n", "ADJSP word count -2049 is out of range"),
    ] {
        let (_, _, m) = first_error(asm(src));
        assert!(m.contains(what), "{src}: {m}");
    }
}

#[test]
fn syntax_errors_are_located() {
    let (l, c, m) = first_error(asm("RET\n    SET R1\n"));
    assert_eq!((l, c), (2, 5));
    assert!(m.contains("unknown mnemonic `SET`"), "{m}");
    let (_, _, m) = first_error(asm("x:\n    ADDI R1, R2, x\n"));
    assert!(
        m.contains("ADDI expects a number as its immediate, found symbol `x`"),
        "{m}"
    );
    let (_, _, m) = first_error(asm("JR 5\n"));
    assert!(m.contains("JR expects a register"), "{m}");
    let (_, _, m) = first_error(asm("BEQ nowhere\n"));
    assert!(m.contains("undefined symbol `nowhere`"), "{m}");
    let (_, _, m) = first_error(asm(".isa_ext 2\nRET\n"));
    assert!(
        m.contains(".isa_ext 0x2 names unknown extension bits"),
        "{m}"
    );
}

#[test]
fn v1_output_refuses_extension_code() {
    let o = AsmOptions {
        version: HxeVersion::V1,
        ..AsmOptions::default()
    };
    let e = assemble_source("t.mvasm", "ADJSP 1\nRET\n", &o).unwrap_err();
    assert!(e.to_string().contains("need a v2 image"), "{e}");
    let e = assemble_source("t.mvasm", ".isa_ext 1\nRET\n", &o).unwrap_err();
    assert!(e.to_string().contains("need a v2 image"), "{e}");
}

#[test]
fn the_directive_alone_sets_the_bit_and_objects_are_ored() {
    assert_eq!(asm(".isa_ext 0x1\nRET\n").unwrap().image.isa_ext, 1);
    assert_eq!(asm(".isa_ext 0\nRET\n").unwrap().image.isa_ext, 0);
    let out = asm_many(
        &[
            (
                "main.mvasm",
                ".import f\n.entry main\nmain:\n    CALL f\n    RET\n",
            ),
            ("lib.mvasm", ".export f\nf:\n    SETEQ R0\n    RET\n"),
        ],
        "m",
    )
    .unwrap();
    assert_eq!(out.image.isa_ext, 1);
    // Cross-object CALLL fix-up.
    let out = asm_many(
        &[
            (
                "main.mvasm",
                ".import f\n.entry main\nmain:\n    CALLL f\n    RET\n",
            ),
            ("lib.mvasm", ".export f\nf:\n    RET\n"),
        ],
        "m",
    )
    .unwrap();
    let w: Vec<u32> = out.image.code_words().collect();
    assert_eq!(w[0], encode_calll(2).unwrap());
}

/// asm → disasm → asm gives the same bytes; disasm of that gives the same text.
fn round_trip(bytes: &[u8], sym: Option<&hsx_asm::SymFile>) -> String {
    let text = disassemble(bytes, sym).unwrap();
    let again = assemble_source("listing.mvasm", &text, &AsmOptions::default())
        .unwrap_or_else(|e| panic!("listing does not assemble:\n{e}\n---\n{text}"));
    assert_eq!(again.hxe_bytes, bytes, "---\n{text}");
    assert_eq!(disassemble(&again.hxe_bytes, sym).unwrap(), text);
    text
}

#[test]
fn listings_show_ext1_and_round_trip() {
    let o = AsmOptions {
        emit_sym: true,
        ..opts("t")
    };
    let out = assemble_source("t.mvasm", PROGRAM, &o).unwrap();
    let text = round_trip(&out.hxe_bytes, None);
    for want in [
        "; isa_ext:   0x1 (EXT1)",
        ".isa_ext 0x1",
        "ADDI R1, R1, -1",
        "BNE L_0004",
        "BEQ L_0018",
        "B L_0018",
        "CALLL L_0044",
        "CALLR R4",
        "SETLTU R2",
        "SETAL R3",
        "DIVU R5, R6, R7",
        "ADJSP -3",
        "B L_0040",
        "JR R4",
    ] {
        assert!(text.contains(want), "missing `{want}`:\n{text}");
    }
    let with_sym = round_trip(&out.hxe_bytes, out.sym.as_ref());
    for want in ["BNE loop", "BEQ done", "CALLL func", "B tail"] {
        assert!(with_sym.contains(want), "missing `{want}`:\n{with_sym}");
    }
    // Numeric forms (no labels): word offset plus the target as a comment.
    let plain = disassemble_with(
        &out.hxe_bytes,
        None,
        &hsx_asm::DisasmOptions {
            show_words: true,
            auto_labels: false,
        },
    )
    .unwrap();
    assert!(plain.contains("BNE -2"), "{plain}");
    assert!(plain.contains("-> 0x0004"), "{plain}");
    assert!(plain.contains("CALLL 11"), "{plain}");
    let again = assemble_source("l.mvasm", &plain, &AsmOptions::default()).unwrap();
    assert_eq!(again.hxe_bytes, out.hxe_bytes);
}

#[test]
fn without_the_header_bit_ext1_words_are_listed_as_data() {
    let out = asm(".word 0x26000001, 0x2A100001\nRET\n").unwrap();
    assert_eq!(out.image.isa_ext, 0);
    let text = round_trip(&out.hxe_bytes, None);
    assert!(text.contains(".word 0x26000001"), "{text}");
    assert!(text.contains("illegal opcode 0x26"), "{text}");
    assert!(!text.contains(".isa_ext"), "{text}");
    // With the bit, the same words are instructions; condition 15 and stray bits stay data.
    let out =
        asm(".isa_ext 1\n.word 0x26000001, 0x2A100001, 0x26F00000, 0x2A1000F1\nRET\n").unwrap();
    let text = round_trip(&out.hxe_bytes, None);
    assert!(text.contains("B L_0004"), "{text}");
    assert!(text.contains("SETEQ R1"), "{text}");
    assert!(text.contains(".word 0x26F00000"), "{text}");
    assert!(text.contains(".word 0x2A1000F1"), "{text}");
    assert!(text.contains("unused fields set"), "{text}");
}
