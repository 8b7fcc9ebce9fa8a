//! One test per loader check of `vm.md` §4.5, asserting the variant and the exact message,
//! plus the check order the reference uses.

mod common;

use common::*;
use hsx_image::{Image, LoadError};

fn err(bytes: &[u8]) -> LoadError {
    Image::parse(bytes).expect_err("image must be rejected")
}

fn check(bytes: &[u8], expected: LoadError, message: &str) {
    let e = err(bytes);
    assert_eq!(e, expected);
    assert_eq!(e.to_string(), message);
}

/// The tiny v1 image of `vm.md` §4.6.
fn tiny_v1() -> Vec<u8> {
    Image::parse(&tiny_v2())
        .map(|mut img| {
            img.version = 1;
            img.flags = 0;
            img.to_v1_bytes()
        })
        .unwrap()
}

#[test]
fn too_small() {
    check(
        &tiny_v1()[..31],
        LoadError::TooSmall { len: 31 },
        ".hxe file too small",
    );
    check(&[], LoadError::TooSmall { len: 0 }, ".hxe file too small");
}

#[test]
fn v2_header_truncated() {
    let b = tiny_v2();
    check(
        &b[..95],
        LoadError::V2HeaderTruncated { len: 95 },
        "HXE header truncated (v2 requires 96 bytes)",
    );
}

#[test]
fn reserved_not_zero() {
    let mut b = tiny_v2();
    b[0x5F] = 1;
    check(
        &b,
        LoadError::ReservedNotZero,
        "Reserved HXE header bytes must be zero",
    );
}

#[test]
fn app_name_not_ascii() {
    let mut b = tiny_v2();
    b[0x21] = 0xC3;
    check(&b, LoadError::AppNameNotAscii, "HXE app_name must be ASCII");
}

#[test]
fn app_name_bytes_after_nul_are_ignored() {
    let mut b = tiny_v2();
    b[0x24] = 0;
    b[0x25] = 0xFF;
    assert_eq!(Image::parse(&b).unwrap().app_name.as_deref(), Some("test"));
}

#[test]
fn unsupported_version() {
    let mut b = tiny_v1();
    put16(&mut b, 4, 3);
    check(
        &b,
        LoadError::UnsupportedVersion(3),
        "Unsupported HSXE version 0x0003",
    );
    put16(&mut b, 4, 0xBEEF);
    check(
        &b,
        LoadError::UnsupportedVersion(0xBEEF),
        "Unsupported HSXE version 0xBEEF",
    );
}

#[test]
fn bad_magic() {
    let mut b = tiny_v1();
    put32(&mut b, 0, 0x1234_ABCD);
    check(
        &b,
        LoadError::BadMagic(0x1234_ABCD),
        "not an HSX image (no HSXE magic)",
    );
    // Not an image at all: the magic is reported, not bytes 4-5 as a version.
    let text = b"# HSX in Rust\n\nHSX lets small C programs run on MiniVM and more text here.";
    check(
        text,
        LoadError::BadMagic(0x2320_4853),
        "not an HSX image (no HSXE magic)",
    );
}

#[test]
fn code_too_large() {
    let mut b = tiny_v1();
    put32(&mut b, 12, 0x1_0004);
    check(
        &b,
        LoadError::CodeTooLarge { len: 0x1_0004 },
        "Code section exceeds VM capacity",
    );
}

#[test]
fn rodata_too_large() {
    let mut b = tiny_v1();
    put32(&mut b, 16, 0x1_0001);
    check(
        &b,
        LoadError::RodataTooLarge { len: 0x1_0001 },
        "RODATA section exceeds VM capacity",
    );
}

#[test]
fn bss_too_large() {
    let mut b = tiny_v1();
    put32(&mut b, 20, 0x1_0001);
    check(
        &b,
        LoadError::BssTooLarge { size: 0x1_0001 },
        "BSS size exceeds VM capacity",
    );
}

#[test]
fn code_unaligned() {
    let mut b = tiny_v1();
    put32(&mut b, 12, 6);
    check(
        &b,
        LoadError::CodeUnaligned { len: 6 },
        "Code section must be 4-byte aligned",
    );
}

#[test]
fn entry_unaligned() {
    let mut b = tiny_v1();
    put32(&mut b, 8, 2);
    check(
        &b,
        LoadError::EntryUnaligned { entry: 2 },
        "Entry address must be 4-byte aligned",
    );
}

#[test]
fn crc_mismatch() {
    let mut b = tiny_v1();
    put32(&mut b, 0x1C, 0xDEAD_BEEF);
    check(
        &b,
        LoadError::CrcMismatch {
            file: 0xDEAD_BEEF,
            calc: 0x8299_430D,
        },
        "CRC mismatch: file=0xDEADBEEF calc=0x8299430D",
    );
}

#[test]
fn crc_message_pads_to_eight_hex_digits() {
    let e = LoadError::CrcMismatch {
        file: 0x1A,
        calc: 0,
    };
    assert_eq!(
        e.to_string(),
        "CRC mismatch: file=0x0000001A calc=0x00000000"
    );
}

#[test]
fn trailing_byte_is_a_crc_mismatch() {
    let mut b = tiny_v1();
    b.push(0);
    assert!(matches!(
        err(&b),
        LoadError::CrcMismatch {
            file: 0x8299_430D,
            ..
        }
    ));
}

#[test]
fn truncated() {
    let mut b = tiny_v1();
    b.truncate(36);
    fix_crc(&mut b);
    check(
        &b,
        LoadError::Truncated,
        ".hxe truncated: sections exceed file length",
    );
}

#[test]
fn truncation_without_crc_fix_reports_crc_first() {
    let mut b = tiny_v1();
    b.truncate(36);
    assert!(matches!(err(&b), LoadError::CrcMismatch { .. }));
}

#[test]
fn entry_outside_code() {
    let mut b = tiny_v1();
    put32(&mut b, 8, 8);
    fix_crc(&mut b);
    check(
        &b,
        LoadError::EntryOutsideCode {
            entry: 8,
            code_len: 8,
        },
        "Entry point outside code section",
    );
}

#[test]
fn empty_code_is_always_rejected() {
    let mut b = tiny_v1();
    put32(&mut b, 12, 0);
    put32(&mut b, 16, 8); // the 8 bytes become rodata
    fix_crc(&mut b);
    assert!(matches!(
        err(&b),
        LoadError::EntryOutsideCode {
            entry: 0,
            code_len: 0
        }
    ));
}

#[test]
fn metadata_overlap() {
    let mut b = v2_with_sections(b"hi\0", &[]);
    put32(&mut b, 0x40, 0x60 + 8 + 2); // inside rodata
    check(
        &b,
        LoadError::MetadataOverlap { meta_offset: 0x6A },
        "Metadata table overlaps code or rodata sections",
    );
}

#[test]
fn metadata_overlap_checked_even_with_zero_count() {
    let mut b = tiny_v2();
    put32(&mut b, 0x40, 0x60);
    assert!(matches!(err(&b), LoadError::MetadataOverlap { .. }));
}

#[test]
fn metadata_table_out_of_bounds() {
    let mut b = tiny_v2();
    let end = b.len() as u32;
    put32(&mut b, 0x40, end);
    put32(&mut b, 0x44, 1);
    check(
        &b,
        LoadError::MetadataTableOutOfBounds,
        "metadata table outside HXE payload bounds",
    );
}

#[test]
fn metadata_section_out_of_bounds() {
    let mut b = v2_with_sections(&[], &[(9, vec![1, 2, 3], 0), (9, vec![4], 0)]);
    let table = 0x68;
    put32(&mut b, table + 16 + 8, 2); // second section: size 2 runs past EOF
    fix_crc(&mut b);
    check(
        &b,
        LoadError::MetadataSectionOutOfBounds { index: 1 },
        "metadata section 1 exceeds HXE length",
    );
    put32(&mut b, table + 4, 0x10); // first section: starts inside the header
    fix_crc(&mut b);
    assert_eq!(err(&b), LoadError::MetadataSectionOutOfBounds { index: 0 });
}

// --- check order -------------------------------------------------------------------------

/// Magic comes first (the reference checks it last): a file that is not an image says so
/// whatever its other bytes hold.
#[test]
fn magic_is_checked_first() {
    let mut b = tiny_v2();
    put32(&mut b, 0, 0);
    b[0x4C] = 1;
    assert_eq!(err(&b), LoadError::BadMagic(0));
    let mut b = tiny_v1();
    put32(&mut b, 0, 0);
    put16(&mut b, 4, 7);
    assert_eq!(err(&b), LoadError::BadMagic(0));
}

#[test]
fn v2_reserved_bytes_come_before_the_extension_bits() {
    let mut b = tiny_v2();
    b[0x4C] = 1;
    b[0x48] = 1;
    assert_eq!(err(&b), LoadError::ReservedNotZero);
    b[0x4C] = 0;
    assert_eq!(err(&b), LoadError::UnsupportedIsaExt { bits: 0x0100_0000 });
}

#[test]
fn size_checks_come_before_alignment_and_crc() {
    let mut b = tiny_v1();
    put32(&mut b, 12, 0x1_0002); // too large and unaligned
    put32(&mut b, 8, 1);
    assert!(matches!(err(&b), LoadError::CodeTooLarge { .. }));
    put32(&mut b, 12, 6);
    assert!(matches!(err(&b), LoadError::CodeUnaligned { .. }));
}

#[test]
fn v2_crc_ignores_name_and_metadata_pointer_fields() {
    let mut b = tiny_v2();
    b[0x20..0x24].copy_from_slice(b"abcd");
    let img = Image::parse(&b).unwrap();
    assert_eq!(img.app_name.as_deref(), Some("abcd"));
}

/// One value record whose three strings all start at offset 0x0101 of a NUL-free section:
/// `records` of them, each decoding a string of almost the whole section.
fn long_string_values(records: usize) -> (u32, Vec<u8>, u32) {
    let mut payload = vec![1u8; records * 20];
    payload.push(0);
    (1, payload, records as u32)
}

#[test]
fn overlapping_strings_cannot_expand_without_bound() {
    // 20 KB of records: 1 000 × 3 strings of ~20 KB = 59 MB decoded.
    let bytes = v2_with_sections(&[], &[long_string_values(1_000)]);
    check(
        &bytes,
        LoadError::MetadataTooLarge {
            limit: hsx_image::MAX_METADATA_DECODED,
        },
        "metadata expands beyond 16777216 bytes",
    );
    // The same shape at 2 KB decodes (100 × 3 × ~2 KB = 0.6 MB).
    let img = Image::parse(&v2_with_sections(&[], &[long_string_values(100)])).unwrap();
    assert_eq!(img.metadata.values.len(), 100);
    assert_eq!(
        img.metadata.values[99].name.as_ref().map(String::len),
        Some(2000 - 257)
    );
}

#[test]
fn repeated_table_entries_cannot_expand_without_bound() {
    // 4 096 table entries that all name one 64 KiB raw section: 256 MiB if copied each time.
    let mut bytes = v2_with_sections(&[], &[(9, vec![0xAB; 1 << 16], 0)]);
    let table = 96 + TINY_CODE.len();
    let entry = bytes[table..table + 16].to_vec();
    let section = bytes.split_off(table + 16);
    let entries = 4096usize;
    let moved = (table + entries * 16) as u32;
    for _ in 0..entries {
        bytes.extend_from_slice(&entry);
    }
    for i in 0..entries {
        put32(&mut bytes, table + i * 16 + 4, moved);
    }
    bytes.extend_from_slice(&section);
    put32(&mut bytes, 0x44, entries as u32);
    fix_crc(&mut bytes);
    assert_eq!(
        err(&bytes),
        LoadError::MetadataTooLarge {
            limit: hsx_image::MAX_METADATA_DECODED
        }
    );
    // 16 entries (1 MiB of copies) are still accepted, each kept as its own section.
    put32(&mut bytes, 0x44, 16);
    fix_crc(&mut bytes);
    assert_eq!(Image::parse(&bytes).unwrap().metadata.other.len(), 16);
}
