//! Helpers shared by the integration tests: hand-built raw images.
#![allow(dead_code)]

use hsx_image::{HEADER_V2_LEN, compute_crc};

/// `LDI R0, 42 ; RET`.
pub const TINY_CODE: [u8; 8] = [0x01, 0x00, 0x00, 0x2A, 0x25, 0x00, 0x00, 0x00];

/// Bytes from a hex string; whitespace is ignored.
pub fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd hex length");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

pub fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

pub fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// Recomputes and stores the header CRC so that checks after the CRC are reached.
pub fn fix_crc(b: &mut [u8]) {
    let crc = compute_crc(b).expect("header present");
    put32(b, 0x1C, crc);
}

/// A v2 image with the tiny code, `rodata`, and the given metadata sections laid out as the
/// linker does (table right after rodata, payloads after the table). CRC fixed.
pub fn v2_with_sections(rodata: &[u8], sections: &[(u32, Vec<u8>, u32)]) -> Vec<u8> {
    let mut b = vec![0u8; HEADER_V2_LEN];
    put32(&mut b, 0, 0x4853_5845);
    put16(&mut b, 4, 2);
    put16(&mut b, 6, 2);
    put32(&mut b, 12, TINY_CODE.len() as u32);
    put32(&mut b, 16, rodata.len() as u32);
    b[0x20..0x24].copy_from_slice(b"test");
    b.extend_from_slice(&TINY_CODE);
    b.extend_from_slice(rodata);
    if !sections.is_empty() {
        let table = b.len();
        put32(&mut b, 0x40, table as u32);
        put32(&mut b, 0x44, sections.len() as u32);
        let mut at = table + sections.len() * 16;
        for (kind, payload, count) in sections {
            for w in [*kind, at as u32, payload.len() as u32, *count] {
                b.extend_from_slice(&w.to_be_bytes());
            }
            at += payload.len();
        }
        for (_, payload, _) in sections {
            b.extend_from_slice(payload);
        }
    }
    fix_crc(&mut b);
    b
}

/// The tiny v2 image without metadata.
pub fn tiny_v2() -> Vec<u8> {
    v2_with_sections(&[], &[])
}

/// A mailbox section payload.
pub fn mailbox_payload(json: &str) -> (u32, Vec<u8>, u32) {
    (3, json.as_bytes().to_vec(), 1)
}
