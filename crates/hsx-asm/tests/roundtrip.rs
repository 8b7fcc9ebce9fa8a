//! asm → disasm → asm yields identical bytes: every example, every test program, with and
//! without a `.sym`, for v1 and v2, and for arbitrary images (property test).

mod common;
use common::*;

use hsx_asm::{
    AsmOptions, DisasmOptions, HxeVersion, Image, SymFile, assemble_source, disassemble,
    disassemble_with,
};
use proptest::prelude::*;

/// Disassemble `bytes`, re-assemble the listing with `version`, and compare.
fn roundtrip(what: &str, bytes: &[u8], sym: Option<&SymFile>, version: HxeVersion) -> String {
    let text = disassemble(bytes, sym).unwrap_or_else(|e| panic!("{what}: disasm failed: {e}"));
    let o = AsmOptions {
        version,
        ..AsmOptions::default()
    };
    let again = assemble_source("listing.mvasm", &text, &o)
        .unwrap_or_else(|e| panic!("{what}: listing does not assemble:\n{e}\n---\n{text}"));
    assert_eq!(
        again.hxe_bytes, bytes,
        "{what}: round trip differs\n---\n{text}"
    );
    text
}

fn example_sets() -> Vec<(Vec<std::path::PathBuf>, &'static str)> {
    let ex = examples();
    let pr = programs();
    vec![
        (vec![ex.join("hello.mvasm")], "hello"),
        (vec![ex.join("loop.mvasm")], "loop"),
        (vec![ex.join("producer.mvasm")], "producer"),
        (vec![ex.join("consumer.mvasm")], "consumer"),
        (vec![ex.join("values.mvasm")], "values"),
        (vec![pr.join("data_relocs.mvasm")], "data_relocs"),
        (vec![pr.join("alu.mvasm")], "alu"),
        (vec![pr.join("meta_full.mvasm")], "meta_full"),
        (
            vec![pr.join("multi_main.mvasm"), pr.join("multi_lib.mvasm")],
            "multi",
        ),
        (
            vec![
                pr.join("multi_main.mvasm"),
                pr.join("start_sym.mvasm"),
                pr.join("multi_lib.mvasm"),
            ],
            "multi_start",
        ),
    ]
}

#[test]
fn every_example_and_test_program_round_trips() {
    for (files, stem) in example_sets() {
        let o = AsmOptions {
            emit_sym: true,
            ..opts(stem)
        };
        let out = hsx_asm::assemble_files(&files, &o).unwrap_or_else(|e| panic!("{stem}: {e}"));
        roundtrip(stem, &out.hxe_bytes, None, HxeVersion::V2);
        let with_sym = roundtrip(stem, &out.hxe_bytes, out.sym.as_ref(), HxeVersion::V2);
        // With symbols, branch targets use the source's label names.
        if stem == "loop" {
            assert!(with_sym.contains("JZ sum_done"), "{with_sym}");
            assert!(with_sym.contains("CALL print_dec"), "{with_sym}");
            assert!(with_sym.contains("LDI32 R1, label"), "{with_sym}");
            assert!(with_sym.contains(".entry main"), "{with_sym}");
        }
        // The .sym survives its JSON form.
        let sym = out.sym.unwrap();
        let reread = SymFile::from_json_str(&sym.to_json_string()).unwrap();
        roundtrip(stem, &out.hxe_bytes, Some(&reread), HxeVersion::V2);
        // v1 (no metadata possible).
        let has_meta = !out.image.metadata.is_empty();
        if !has_meta {
            let o = AsmOptions {
                version: HxeVersion::V1,
                ..opts(stem)
            };
            let v1 = hsx_asm::assemble_files(&files, &o).unwrap();
            roundtrip(stem, &v1.hxe_bytes, None, HxeVersion::V1);
        }
    }
}

#[test]
fn single_instance_caps_and_reference_images_round_trip() {
    let out = asm(".name \"solo\"\n.single_instance\n.req_caps 5\nRET\n").unwrap();
    let text = roundtrip("solo", &out.hxe_bytes, None, HxeVersion::V2);
    assert!(text.contains(".single_instance") && text.contains(".name \"solo\""));
    for stem in ["data_relocs", "alu", "meta_full", "multi", "multi_start"] {
        let bytes = std::fs::read(programs().join("ref").join(format!("{stem}.hxe"))).unwrap();
        roundtrip(stem, &bytes, None, HxeVersion::V2);
    }
}

#[test]
fn listing_shows_header_summary_and_illegal_words() {
    let out = asm(
        ".entry main\nmain:\n    JMP main\n.word 0, 0x05000001, 0x25000001\n    LDI32 R1, 0x1234\n",
    )
    .unwrap();
    let text = roundtrip("illegal", &out.hxe_bytes, None, HxeVersion::V2);
    assert!(text.contains("; HSX image: version 2"), "{text}");
    assert!(text.contains("; app name:  \"t\""), "{text}");
    assert!(text.contains("(allow multiple instances)"), "{text}");
    assert!(text.contains("(ok)"), "{text}");
    assert!(text.contains("JMP L_0000"), "{text}");
    assert!(text.contains(".word 0x00000000"), "{text}");
    assert!(text.contains("illegal opcode 0x05"), "{text}");
    assert!(text.contains("unused fields set"), "{text}");
    assert!(text.contains("LDI32 R1, 0x00001234"), "{text}");
    assert!(text.contains("0010: 60100000 00001234"), "{text}");
}

#[test]
fn bad_crc_is_reported_not_refused() {
    let mut bytes = asm("RET\n").unwrap().hxe_bytes;
    bytes[0x1F] ^= 0xFF;
    let text = disassemble(&bytes, None).unwrap();
    assert!(text.contains("(BAD: computed 0x"), "{text}");
    // Not an image at all.
    assert!(disassemble(b"nope", None).is_err());
}

#[test]
fn metadata_is_listed_and_reproduced() {
    let out = asm_programs(&["meta_full.mvasm"], "meta_full").unwrap();
    let text = disassemble(&out.hxe_bytes, None).unwrap();
    assert!(
        text.contains("; metadata:  3 values, 3 commands, 3 mailboxes"),
        "{text}"
    );
    assert!(
        text.contains(".cmd {\"auth\":1,\"flags\":3,\"group\":1,\"handler\":\"L_0008\""),
        "{text}"
    );
    assert!(
        text.contains(
            ".mailbox {\"capacity\":128,\"mode\":\"RDWR|FANOUT\",\"target\":\"app:telemetry\"}"
        ),
        "{text}"
    );
}

#[test]
fn listing_without_word_comments_still_round_trips() {
    let out = asm_programs(&["data_relocs.mvasm"], "d").unwrap();
    let o = DisasmOptions {
        show_words: false,
        auto_labels: false,
    };
    let text = disassemble_with(&out.hxe_bytes, None, &o).unwrap();
    assert!(!text.contains("0000: "), "{text}");
    let again = assemble_source("l.mvasm", &text, &AsmOptions::default()).unwrap();
    assert_eq!(again.hxe_bytes, out.hxe_bytes);
}

/// Arbitrary words, and words with an EXT1 opcode byte (0x18, 0x19, 0x26..0x2B).
fn any_word() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => any::<u32>(),
        1 => (prop::sample::select(vec![0x18u32, 0x19, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B]),
              0u32..0x100_0000)
            .prop_map(|(op, rest)| (op << 24) | rest),
    ]
}

fn any_image() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(any_word(), 1..40),
        prop::collection::vec(any::<u8>(), 0..80),
        any::<bool>(),
        0u16..4,
        prop_oneof![Just(0u32), Just(hsx_image::ISA_EXT1)],
    )
        .prop_map(|(words, rodata, multi, caps, isa_ext)| {
            let mut img = Image::new(Vec::new(), rodata, 0);
            img.set_code_words(&words);
            img.app_name = Some("p".into());
            img.set_allow_multiple_instances(multi);
            img.req_caps = u32::from(caps);
            img.isa_ext = isa_ext;
            img.to_v2_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any image made of arbitrary words and rodata disassembles to text that re-assembles
    /// to the identical file.
    #[test]
    fn arbitrary_images_round_trip(bytes in any_image()) {
        roundtrip("arbitrary", &bytes, None, HxeVersion::V2);
    }

    /// Arbitrary text never panics the assembler.
    #[test]
    fn arbitrary_source_never_panics(src in "[ -~\\n\\t]{0,200}") {
        let _ = asm(&src);
    }

    /// Arbitrary Unicode text never panics the assembler (the lexer slices by byte offset,
    /// so multi-byte characters next to every kind of token matter).
    #[test]
    fn arbitrary_unicode_source_never_panics(
        parts in prop::collection::vec(prop::sample::select(vec![
            "\u{3000}", "\u{a0}", "é", "→", "\"", "'", "\\", ".include", ".asciz", ".name",
            ".value", "{", "}", "LD", "R1", "[", "]", "-", "x", ";", ",", ":", "\n",
        ]), 0..30),
        noise in "\\PC{0,40}",
    ) {
        let src = parts.concat() + &noise;
        let _ = asm(&src);
    }

    /// Arbitrary bytes never panic the disassembler.
    #[test]
    fn arbitrary_bytes_never_panic_disasm(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = disassemble(&bytes, None);
    }

    /// Mutated assembler-like lines never panic (denser in real syntax than random text).
    #[test]
    fn mutated_lines_never_panic(
        parts in prop::collection::vec(prop::sample::select(vec![
            "LDI", "LD", "ST", "SVC", "CALL", "JMP", "R1", "R15", "R16", "[", "]", "+", "-", ",",
            "0x", "'", "\"", "\\", ":", "lo16(", "off16(", ")", ".data", ".text", ".byte", ".word",
            ".value", "{", "}", ".entry", ".org", "4096", "-1", "x", ";", "=", "MOD", "\n",
        ]), 0..30)
    ) {
        let src = parts.join(" ");
        let _ = asm(&src);
    }
}
