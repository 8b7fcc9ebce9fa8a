//! The three images of `vm.md` §4.6, reconstructed byte for byte from the dumps there, parsed,
//! rebuilt from typed values, and re-written identically.

mod common;

use common::*;
use hsx_image::*;

/// Concatenates `(offset, hex)` pieces, asserting each starts where the previous ended.
fn assemble(pieces: &[(usize, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (offset, text) in pieces {
        assert_eq!(out.len(), *offset, "piece at {offset:#x} is not contiguous");
        out.extend(hex(text));
    }
    out
}

fn tiny_v1_bytes() -> Vec<u8> {
    assemble(&[
        (0x00, "48 53 58 45 00 01 00 00 00 00 00 00 00 00 00 08"),
        (0x10, "00 00 00 00 00 00 00 00 00 00 00 00 82 99 43 0D"),
        (0x20, "01 00 00 2A 25 00 00 00"),
    ])
}

fn tiny_v2_bytes() -> Vec<u8> {
    let mut name = hex("74 69 6E 79");
    name.resize(32, 0);
    let name_hex: String = name.iter().map(|b| format!("{b:02X}")).collect();
    let zeros32 = "00".repeat(32);
    assemble(&[
        (0x00, "48 53 58 45 00 02 00 02 00 00 00 00 00 00 00 08"),
        (0x10, "00 00 00 00 00 00 00 00 00 00 00 00 57 BE C8 36"),
        (0x20, &name_hex),
        (0x40, &zeros32),
        (0x60, "01 00 00 2A 25 00 00 00"),
    ])
}

fn meta_bytes() -> Vec<u8> {
    let mut name = b"meta".to_vec();
    name.resize(32, 0);
    let name_hex: String = name.iter().map(|b| format!("{b:02X}")).collect();
    let meta_ptr = format!("0000006F00000003{}", "00".repeat(24));
    let json = r#"{"mailboxes":[{"capacity":64,"target":"app:x"}],"version":1}"#;
    let json_hex: String = json.bytes().map(|b| format!("{b:02X}")).collect();
    assemble(&[
        (0x00, "48 53 58 45 00 02 00 02 00 00 00 00 00 00 00 0C"),
        (0x10, "00 00 00 03 00 00 00 00 00 00 00 00 A8 F8 B3 2C"),
        (0x20, &name_hex),
        (0x40, &meta_ptr),
        (0x60, "01 00 00 2A 25 00 00 00 25 00 00 00"),
        (0x6C, "68 69 00"),
        (0x6F, "00000001 0000009F 00000018 00000001"),
        (0x7F, "00000002 000000B7 00000013 00000001"),
        (0x8F, "00000003 000000CA 0000003C 00000001"),
        (0x9F, "01 02 00 00 3C00 0014 0016 0000 0000 4000 0000 0000"),
        (0xB3, "74 00 43 00"),
        (0xB7, "01 03 00 00 00000008 0010 0000 00000000 67 6F 00"),
        (0xCA, &json_hex),
    ])
}

#[test]
fn tiny_v1_parses_and_rewrites() {
    let bytes = tiny_v1_bytes();
    assert_eq!(bytes.len(), 40);
    let img = Image::parse(&bytes).unwrap();
    assert_eq!(img.version, 1);
    assert_eq!(img.crc32, 0x8299_430D);
    assert_eq!(
        img.code_words().collect::<Vec<_>>(),
        [0x0100_002A, 0x2500_0000]
    );
    assert!(img.rodata.is_empty());
    assert!(
        img.allow_multiple_instances(),
        "v1 images always allow multiple instances"
    );
    assert_eq!(img.app_name, None);
    assert_eq!(img.metadata, Metadata::default());
    assert_eq!(img.to_v1_bytes(), bytes);
}

#[test]
fn tiny_v1_from_typed_fields() {
    let mut img = Image::new(Vec::new(), Vec::new(), 0);
    img.version = 1;
    img.flags = 0;
    img.set_code_words(&[0x0100_002A, 0x2500_0000]);
    assert_eq!(img.to_v1_bytes(), tiny_v1_bytes());
}

#[test]
fn tiny_v2_parses_and_rewrites() {
    let bytes = tiny_v2_bytes();
    assert_eq!(bytes.len(), 104);
    let img = Image::parse(&bytes).unwrap();
    assert_eq!(img.version, 2);
    assert_eq!(img.flags, FLAG_ALLOW_MULTIPLE);
    assert_eq!(img.crc32, 0x57BE_C836);
    assert_eq!(img.app_name.as_deref(), Some("tiny"));
    assert!(img.allow_multiple_instances());
    assert_eq!(img.code, TINY_CODE);
    assert_eq!(img.to_v2_bytes(), bytes);
    // CRC input is bytes 0x00..0x1C plus 0x60..0x68.
    let mut input = bytes[..0x1C].to_vec();
    input.extend_from_slice(&bytes[0x60..]);
    assert_eq!(crc32fast::hash(&input), 0x57BE_C836);
    assert_eq!(compute_crc(&bytes), Some(0x57BE_C836));
}

#[test]
fn tiny_v2_from_typed_fields() {
    let mut img = Image::new(TINY_CODE.to_vec(), Vec::new(), 0);
    img.app_name = Some("tiny".into());
    assert_eq!(img.to_v2_bytes(), tiny_v2_bytes());
}

#[test]
fn single_instance_flag() {
    let mut img = Image::parse(&tiny_v2_bytes()).unwrap();
    img.set_allow_multiple_instances(false);
    let back = Image::parse(&img.to_v2_bytes()).unwrap();
    assert_eq!(back.flags, 0);
    assert!(!back.allow_multiple_instances());
}

fn expected_meta_metadata() -> Metadata {
    let raw: serde_json::Value = serde_json::json!({"target": "app:x", "capacity": 64});
    let serde_json::Value::Object(raw) = raw else {
        unreachable!()
    };
    Metadata {
        values: vec![ValueEntry {
            group: 1,
            id: 2,
            init: 0x3C00,
            name: Some("t".into()),
            unit: Some("C".into()),
            max: 0x4000,
            ..ValueEntry::default()
        }],
        commands: vec![CommandEntry {
            group: 1,
            id: 3,
            handler: 8,
            name: Some("go".into()),
            ..CommandEntry::default()
        }],
        mailboxes: vec![MailboxEntry {
            target: "app:x".into(),
            capacity: 64,
            mode_mask: MBX_MODE_RDWR,
            owner_pid: None,
            bindings: vec![],
            raw: Some(raw),
        }],
        other: vec![],
    }
}

#[test]
fn meta_image_parses_every_field() {
    let bytes = meta_bytes();
    assert_eq!(bytes.len(), 262);
    let img = Image::parse(&bytes).unwrap();
    assert_eq!(img.crc32, 0xA8F8_B32C);
    assert_eq!(compute_crc(&bytes), Some(0xA8F8_B32C));
    assert_eq!(img.app_name.as_deref(), Some("meta"));
    assert_eq!(img.entry, 0);
    assert_eq!(
        img.code_words().collect::<Vec<_>>(),
        [0x0100_002A, 0x2500_0000, 0x2500_0000]
    );
    assert_eq!(img.rodata, b"hi\0");
    assert_eq!(img.metadata, expected_meta_metadata());
    let v = &img.metadata.values[0];
    assert_eq!((v.init_f32(), v.max_f32(), v.min_f32()), (1.0, 2.0, 0.0));
    assert_eq!(img.metadata.mailboxes[0].effective_capacity(), 64);
}

#[test]
fn meta_image_rewrites_byte_for_byte() {
    let bytes = meta_bytes();
    let img = Image::parse(&bytes).unwrap();
    let out = img.to_v2_bytes();
    for (i, (a, b)) in out.iter().zip(&bytes).enumerate() {
        assert_eq!(a, b, "byte {i:#x} differs");
    }
    assert_eq!(out.len(), bytes.len());
}

#[test]
fn meta_image_from_typed_fields() {
    let mut img = Image::new(Vec::new(), b"hi\0".to_vec(), 0);
    img.set_code_words(&[0x0100_002A, 0x2500_0000, 0x2500_0000]);
    img.app_name = Some("meta".into());
    img.metadata = expected_meta_metadata();
    assert_eq!(img.metadata.validate(), Ok(()));
    assert_eq!(img.to_v2_bytes(), meta_bytes());
}

#[test]
fn typed_mailbox_without_raw_is_written_from_fields() {
    let mut img = Image::parse(&meta_bytes()).unwrap();
    img.metadata.mailboxes[0].raw = None;
    let out = img.to_v2_bytes();
    let text = String::from_utf8_lossy(&out[0xCA..]);
    assert_eq!(
        text,
        r#"{"mailboxes":[{"capacity":64,"mode_mask":3,"target":"app:x"}],"version":1}"#
    );
    let back = Image::parse(&out).unwrap();
    assert_eq!(back.metadata.mailboxes[0].capacity, 64);
    assert_eq!(back.metadata.mailboxes[0].mode_mask, MBX_MODE_RDWR);
}

#[test]
fn app_name_is_trimmed_truncated_and_ascii_filtered() {
    let mut img = Image::new(TINY_CODE.to_vec(), Vec::new(), 0);
    img.app_name = Some(format!("  é{}  ", "x".repeat(40)));
    let out = img.to_v2_bytes();
    // 31 characters are kept, then the non-ASCII one is dropped: 30 x's remain.
    assert_eq!(&out[0x20..0x20 + 30], "x".repeat(30).as_bytes());
    assert!(out[0x20 + 30..0x40].iter().all(|&b| b == 0));
    img.app_name = Some("   ".into());
    assert_eq!(Image::parse(&img.to_v2_bytes()).unwrap().app_name, None);
}

#[test]
fn app_name_whitespace_is_stripped_on_load() {
    let mut b = tiny_v2_bytes();
    b[0x20..0x27].copy_from_slice(b" \tab \x1c\0");
    assert_eq!(Image::parse(&b).unwrap().app_name.as_deref(), Some("ab"));
}
