//! The v2 `isa_ext` header field (0x48): parse, write, byte-identity for 0, refusal of
//! unknown bits.

mod common;

use common::*;
use hsx_image::{
    HEADER_V2_LEN, ISA_EXT_KNOWN, ISA_EXT_OFFSET, ISA_EXT1, Image, LoadError, RESERVED_LEN,
    RESERVED_OFFSET,
};

#[test]
fn layout_constants() {
    assert_eq!(ISA_EXT_OFFSET, 0x48);
    assert_eq!(RESERVED_OFFSET, ISA_EXT_OFFSET + 4);
    assert_eq!(RESERVED_OFFSET + RESERVED_LEN, HEADER_V2_LEN);
    assert_eq!(ISA_EXT_KNOWN, ISA_EXT1);
}

#[test]
fn zero_is_byte_identical_to_the_reference_layout() {
    let raw = tiny_v2();
    let img = Image::parse(&raw).unwrap();
    assert_eq!(img.isa_ext, 0);
    assert_eq!(img.to_v2_bytes(), raw);
    assert_eq!(Image::new(TINY_CODE.to_vec(), Vec::new(), 0).isa_ext, 0);
}

#[test]
fn ext1_round_trips_through_the_header() {
    let mut img = Image::parse(&tiny_v2()).unwrap();
    img.isa_ext = ISA_EXT1;
    let bytes = img.to_v2_bytes();
    assert_eq!(&bytes[0x48..0x4C], &[0, 0, 0, 1]);
    assert!(bytes[0x4C..0x60].iter().all(|&b| b == 0));
    let back = Image::parse(&bytes).unwrap();
    assert_eq!(back.isa_ext, ISA_EXT1);
    assert_eq!(back.crc32, hsx_image::compute_crc(&bytes).unwrap());
    img.crc32 = back.crc32;
    assert_eq!(back, img);
    // Like the app name, the field lies outside the CRC (vm.md §4.4 covers 0x00..0x1C and
    // the body only).
    assert_eq!(back.crc32, Image::parse(&tiny_v2()).unwrap().crc32);
}

#[test]
fn unknown_bits_are_refused_with_their_own_error() {
    for (v, bits) in [
        (0x2u32, 0x2u32),
        (0x3, 0x2),
        (0x8000_0001, 0x8000_0000),
        (0xFFFF_FFFF, 0xFFFF_FFFE),
    ] {
        let mut b = tiny_v2();
        put32(&mut b, 0x48, v);
        fix_crc(&mut b);
        let e = Image::parse(&b).unwrap_err();
        assert_eq!(e, LoadError::UnsupportedIsaExt { bits });
        assert_eq!(
            e.to_string(),
            format!(
                "image needs MiniVM ISA extension bits 0x{bits:X}, which this executive does not implement"
            )
        );
    }
}

#[test]
fn the_other_reserved_bytes_must_stay_zero() {
    for at in RESERVED_OFFSET..HEADER_V2_LEN {
        let mut b = tiny_v2();
        put32(&mut b, 0x48, ISA_EXT1);
        b[at] = 0x80;
        fix_crc(&mut b);
        assert_eq!(
            Image::parse(&b).unwrap_err(),
            LoadError::ReservedNotZero,
            "{at:#x}"
        );
    }
}

#[test]
fn v1_images_have_no_extension_field() {
    let mut img = Image::parse(&tiny_v2()).unwrap();
    img.isa_ext = ISA_EXT1;
    img.version = 1;
    let back = Image::parse(&img.to_v1_bytes()).unwrap();
    assert_eq!(back.isa_ext, 0);
}
