//! Metadata section type 4 (memory hints): parsed into `Image::hints`, written by the v2
//! writer after the other sections, malformed ones kept raw.

use hsx_image::{Hints, Image, RawSection, SECTION_HINTS};

fn tiny() -> Image {
    let mut img = Image::new(Vec::new(), vec![1, 2, 3], 0);
    img.set_code_words(&[0x0100_002A, 0x2500_0000]);
    img
}

#[test]
fn hints_round_trip() {
    let mut img = tiny();
    img.hints = Some(Hints {
        stack_size: 0x600,
        heap_size: 0x123,
    });
    let bytes = img.to_v2_bytes();
    let back = Image::parse(&bytes).unwrap();
    assert_eq!(back.hints, img.hints);
    assert!(back.metadata.other.is_empty());
    // Exactly one 16-byte section of type 4 with entry count 1.
    let table = 96 + 8 + 3;
    assert_eq!(&bytes[table..table + 4], &SECTION_HINTS.to_be_bytes());
    assert_eq!(&bytes[table + 8..table + 16], &[0, 0, 0, 16, 0, 0, 0, 1]);
    assert_eq!(&bytes[table + 16..table + 24], &[0, 0, 6, 0, 0, 0, 1, 0x23]);
    assert_eq!(&bytes[table + 24..table + 32], &[0; 8]);
}

#[test]
fn no_hints_keeps_images_byte_identical() {
    let img = tiny();
    assert_eq!(Image::parse(&img.to_v2_bytes()).unwrap().hints, None);
}

#[test]
fn malformed_hints_stay_raw() {
    let mut img = tiny();
    img.metadata.other.push(RawSection {
        kind: SECTION_HINTS,
        entry_count: 1,
        bytes: vec![0; 8],
    });
    let back = Image::parse(&img.to_v2_bytes()).unwrap();
    assert_eq!(back.hints, None);
    assert_eq!(back.metadata.other.len(), 1);
}
