//! Golden encodings (`vm.md` §1.8), the worked images of `vm.md` §4.6 byte for byte, and
//! images produced by the reference `asm.py` + `hld.py` for the programs in
//! `tests/programs` (stored under `tests/programs/ref`).

mod common;
use common::*;

use hsx_asm::{AsmOptions, HxeVersion, assemble_source};

#[test]
fn encodings_of_vm_md_1_8() {
    let cases: &[(&str, &[u32])] = &[
        ("LDI R1, 5", &[0x0110_0005]),
        ("LDI R1, -1", &[0x0110_0FFF]),
        ("LDI32 R9, 0xDEADBEEF", &[0x6090_0000, 0xDEAD_BEEF]),
        ("LD R1, [R2+-4]", &[0x0212_0FFC]),
        ("ST [R2+8], R3", &[0x0302_3008]),
        ("ADD R2, R1, R1", &[0x1021_1000]),
        ("CMP R1, R2", &[0x2001_2000]),
        ("PUSH R3", &[0x4003_0000]),
        ("POP R4", &[0x4140_0000]),
        ("CALL -1", &[0x2400_0FFF]),
        ("SVC 0x502", &[0x3000_0502]),
        ("SVC MOD=5 FN=2", &[0x3000_0502]),
        ("BRK", &[0x7F00_0000]),
        ("BRK 5", &[0x7F00_0005]),
        ("RET", &[0x2500_0000]),
    ];
    for (src, expect) in cases {
        assert_eq!(&words(src), expect, "{src}");
    }
}

#[test]
fn operand_spellings_accepted() {
    // Lower case, no commas, spaces in memory operands, [Rb] and [Rb-n].
    assert_eq!(words("add r2 r1 r1"), vec![0x1021_1000]);
    assert_eq!(words("LD R1, [R2 + -4]"), vec![0x0212_0FFC]);
    assert_eq!(words("LD R1, [R2-4]"), vec![0x0212_0FFC]);
    assert_eq!(words("LD R1, [R2 - 4]"), vec![0x0212_0FFC]);
    assert_eq!(words("LDB R1, [R2]"), vec![0x0612_0000]);
    assert_eq!(words("LDI R1, 'A'"), vec![0x0110_0041]);
    assert_eq!(words("LDI R1, '\\n'"), vec![0x0110_000A]);
    assert_eq!(words("LDI R1, 0b101"), vec![0x0110_0005]);
    assert_eq!(words("LDI R1, -0x10"), vec![0x0110_0FF0]);
    assert_eq!(words("JMP 0xA10"), vec![0x2100_0A10]);
    assert_eq!(words("JMP -1"), vec![0x2100_0FFF]);
    assert_eq!(words("SVC FN=2, MOD=5"), vec![0x3000_0502]);
    assert_eq!(words("main: RET"), vec![0x2500_0000]);
}

#[test]
fn svc_two_numbers_encode_module_and_function() {
    // The reference assembles `SVC 0x05, 0x02` to 0x30000000 (vm.md §8.4 item 1).
    assert_eq!(words("SVC 0x05, 0x02"), vec![0x3000_0502]);
    assert_eq!(words("SVC 1, 0"), vec![0x3000_0100]);
    assert_eq!(words("SVC 4 2"), vec![0x3000_0402]);
}

const TINY: &str = ".entry main\nmain:\n    LDI R0, 42\n    RET\n";

#[test]
fn v1_tiny_image_of_vm_md_4_6() {
    let opts = AsmOptions {
        version: HxeVersion::V1,
        ..opts("tiny")
    };
    let out = assemble_source("tiny.mvasm", TINY, &opts).unwrap();
    let expect = hex("48535845 0001 0000 00000000 00000008
                      00000000 00000000 00000000 8299430D
                      0100002A 25000000");
    assert_eq!(out.hxe_bytes, expect);
    assert_eq!(out.image.crc32, 0x8299_430D);
    assert_eq!(out.image.app_name, None);
}

#[test]
fn v2_tiny_image_of_vm_md_4_6() {
    let out = assemble_source("prog.mvasm", TINY, &opts("tiny")).unwrap();
    let mut expect = hex("48535845 0002 0002 00000000 00000008
                          00000000 00000000 00000000 57BEC836");
    let mut name = b"tiny".to_vec();
    name.resize(32, 0);
    expect.extend(name);
    expect.extend([0u8; 32]);
    expect.extend(hex("0100002A 25000000"));
    assert_eq!(out.hxe_bytes.len(), 104);
    assert_eq!(out.hxe_bytes, expect);
    assert!(out.image.allow_multiple_instances());
}

#[test]
fn v2_metadata_image_of_vm_md_4_6() {
    let src = r#".entry main
main:
    LDI R0, 42
    RET
h:
    RET
.value {"group":1,"id":2,"name":"t","unit":"C","init":1.0,"max":2.0}
.cmd {"group":1,"id":3,"name":"go","handler":"h"}
.mailbox {"target":"app:x","capacity":64}
.data
    .asciz "hi"
"#;
    let out = assemble_source("m.mvasm", src, &opts("meta")).unwrap();
    let expect = hex(
        "4853584500020002000000000000000c000000030000000000000000a8f8b32c6d6574610000000000000000
         00000000000000000000000000000000000000000000006f0000000300000000000000000000000000000000
         00000000000000000100002a2500000025000000686900000000010000009f00000018000000010000000200
         0000b7000000130000000100000003000000ca0000003c00000001010200003c000014001600000000400000
         0000007400430001030000000000080010000000000000676f007b226d61696c626f786573223a5b7b226361
         706163697479223a36342c22746172676574223a226170703a78227d5d2c2276657273696f6e223a317d",
    );
    assert_eq!(out.hxe_bytes.len(), 262);
    assert_eq!(out.hxe_bytes, expect);
    assert_eq!(out.image.crc32, 0xA8F8_B32C);
    assert_eq!(out.image.metadata.commands[0].handler, 8);
    assert_eq!(out.image.metadata.mailboxes[0].capacity, 64);
}

/// Programs whose reference output (`asm.py` + `hld.py`, output named `<stem>.hxe`) is
/// stored in `tests/programs/ref`.
#[test]
fn identical_to_reference_toolchain_output() {
    let cases: &[(&[&str], &str)] = &[
        (&["data_relocs.mvasm"], "data_relocs"),
        (&["alu.mvasm"], "alu"),
        (&["meta_full.mvasm"], "meta_full"),
        (&["multi_main.mvasm", "multi_lib.mvasm"], "multi"),
        (
            &["multi_main.mvasm", "start_sym.mvasm", "multi_lib.mvasm"],
            "multi_start",
        ),
    ];
    for (files, stem) in cases {
        let out = asm_programs(files, stem).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let reference = std::fs::read(programs().join("ref").join(format!("{stem}.hxe"))).unwrap();
        assert_eq!(
            out.hxe_bytes, reference,
            "{stem} differs from the reference output"
        );
    }
}

#[test]
fn strings_escapes_and_semicolons() {
    let out = asm(".data\n.asciz \"a;b\\n\\x41\\0\\\\\\\"\\t\\r'\" ; comment\n.ascii 'q', \"rs\"\n.byte \"x;\", 'y', 10\n.text\nRET\n")
        .unwrap();
    assert_eq!(out.image.rodata, b"a;b\nA\0\\\"\t\r'\0qrsx;y\n".to_vec());
}

#[test]
fn data_directives_encode_little_endian() {
    let out = asm(".data\n.half 0x1234, -1\n.hword 7\n.word 0xDEADBEEF, -2\n.byte -128, 255\n.zero 2\n.align 4\n.byte 1\n.align 2\n.text\nRET\n")
        .unwrap();
    assert_eq!(
        out.image.rodata,
        vec![
            0x34, 0x12, 0xFF, 0xFF, 7, 0, 0xEF, 0xBE, 0xAD, 0xDE, 0xFE, 0xFF, 0xFF, 0xFF, 0x80,
            0xFF, 0, 0, 0, 0, 1, 0
        ]
    );
}

#[test]
fn org_pads_with_zero_words_and_word_in_text_emits_raw_words() {
    assert_eq!(
        words("RET\n.org 12\n.word 0x12345678, 7\nRET"),
        vec![0x2500_0000, 0, 0, 0x1234_5678, 7, 0x2500_0000]
    );
}

#[test]
fn entry_forms() {
    let out = asm("RET\n.entry\nRET\n").unwrap();
    assert_eq!(out.image.entry, 4);
    let out = asm(".entry 8\nRET\nRET\nRET\n").unwrap();
    assert_eq!(out.image.entry, 8);
    let out = asm(".entry go\nRET\ngo:\nRET\n").unwrap();
    assert_eq!(out.image.entry, 4);
}

#[test]
fn name_single_instance_and_caps_directives() {
    let out = asm(".name \"blinky\"\n.single_instance\n.req_caps 0x12\nRET\n").unwrap();
    assert_eq!(out.image.app_name.as_deref(), Some("blinky"));
    assert!(!out.image.allow_multiple_instances());
    assert_eq!(out.image.flags, 0);
    assert_eq!(out.image.req_caps, 0x12);
    // Options override the directive.
    let o = AsmOptions {
        app_name: Some("other".into()),
        ..opts("t")
    };
    let out = assemble_source("t.mvasm", ".name \"blinky\"\nRET\n", &o).unwrap();
    assert_eq!(out.image.app_name.as_deref(), Some("other"));
    let o = AsmOptions {
        single_instance: true,
        req_caps: Some(3),
        ..opts("t")
    };
    let out = assemble_source("t.mvasm", "RET\n", &o).unwrap();
    assert!(!out.image.allow_multiple_instances());
    assert_eq!(out.image.req_caps, 3);
    // Without an output path the first input's stem names the app.
    let out = assemble_source("dir/first.mvasm", "RET\n", &AsmOptions::default()).unwrap();
    assert_eq!(out.image.app_name.as_deref(), Some("first"));
}

#[test]
fn multi_line_metadata_json() {
    let src = ".value {\n  \"group\": 1, ; the group\n  \"id\": 2,\n  \"name\": \"a;b\"\n}\nRET\n";
    let out = asm(src).unwrap();
    assert_eq!(out.image.metadata.values[0].name.as_deref(), Some("a;b"));
    assert_eq!(out.image.code.len(), 4);
}

#[test]
fn include_is_textual_and_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/inc.mvasm"),
        "helper:\n    RET\n.data\n.asciz \"inc\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("main.mvasm"),
        ".entry main\nmain:\n    CALL helper\n    RET\n.include \"sub/inc.mvasm\"\n.byte 1\n",
    )
    .unwrap();
    let out = hsx_asm::assemble_files(&[dir.path().join("main.mvasm")], &opts("m")).unwrap();
    assert_eq!(
        out.image.code_words().collect::<Vec<_>>(),
        vec![0x2400_0002, 0x2500_0000, 0x2500_0000]
    );
    // The section switch inside the include carries on after it (textual include).
    assert_eq!(out.image.rodata, b"inc\0\x01".to_vec());
}
