//! Listing fields, start modes, the cache, EXT1 decoding and random-code robustness.

use super::*;
use hsx_image::sym::{Function, LineEntry, SymFile};

fn ins(op: Opcode, rd: u8, rs1: u8, rs2: u8, imm: i32) -> u32 {
    Instr::new(op, rd, rs1, rs2, imm).encode()
}

/// 0x00 main: LDI R1,5 ; LDI32 R2,0xDEADBEEF (8 bytes) ; CALL helper ; JMP 0x000 ;
/// 0x14: illegal word ; 0x18 helper: ADD R0,R1,R2 ; RET
fn code() -> Vec<u8> {
    let words = [
        ins(Opcode::Ldi, 1, 0, 0, 5),
        ins(Opcode::Ldi32, 2, 0, 0, 0),
        0xDEAD_BEEF,
        ins(Opcode::Call, 0, 0, 0, 3), // at 0x0C -> 0x18
        ins(Opcode::Jmp, 0, 0, 0, 0),
        0xEE00_0000,
        ins(Opcode::Add, 0, 1, 2, 0),
        ins(Opcode::Ret, 0, 0, 0, 0),
    ];
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

fn syms() -> SymTable {
    let mut f = SymFile::default();
    f.symbols.functions = vec![
        Function {
            name: "main".into(),
            address: 0,
            size: 0x18,
            file: Some("m.c".into()),
            line: Some(1),
            ..Function::default()
        },
        Function {
            name: "helper".into(),
            address: 0x18,
            size: 8,
            ..Function::default()
        },
    ];
    f.lines = vec![
        LineEntry {
            address: 0,
            file: Some("m.c".into()),
            line: Some(2),
            column: None,
        },
        LineEntry {
            address: 0x0C,
            file: Some("m.c".into()),
            line: Some(3),
            column: None,
        },
    ];
    SymTable::new(f)
}

#[test]
fn listing_fields() {
    let code = code();
    let t = syms();
    let input = DisasmInput {
        code: &code,
        symbols: Some(&t),
        breakpoints: &[0x0C],
        pc: 0x04,
        isa_ext: 0,
    };
    let l = disassemble(&input, Start::At(0), 64);
    assert_eq!(l.lines.len(), 7);
    assert!(l.truncated);
    assert_eq!(l.bytes_read, 32);
    let pcs: Vec<u32> = l.lines.iter().map(|x| x.info.pc).collect();
    assert_eq!(pcs, [0, 4, 0x0C, 0x10, 0x14, 0x18, 0x1C]);
    let j = l.to_json(2, DisasmMode::OnDemand);
    assert_eq!(j["count"], 7);
    assert_eq!(j["requested"], 64);
    assert_eq!(j["cached"], false);
    assert_eq!(j["mode"], "on-demand");
    assert_eq!(j["data"].as_str().map(str::len), Some(64));
    let i = &j["instructions"];
    assert_eq!(i[0]["label"], "main");
    assert_eq!(i[0]["text"], "LDI R1, 5");
    assert_eq!(i[0]["operands"], "R1, 5");
    assert_eq!(i[0]["imm"], 5);
    assert_eq!(
        i[0]["line"],
        json!({"address": 0, "file": "m.c", "line": 2})
    );
    assert_eq!(i[0]["file"], "m.c");
    assert_eq!(i[1]["size"], 8);
    assert_eq!(i[1]["extended_word"], 0xDEAD_BEEFu32);
    assert_eq!(i[1]["text"], "LDI32 R2, 0xDEADBEEF");
    assert_eq!(i[1]["is_pc"], true);
    assert_eq!(i[1]["bytes"], "60200000deadbeef");
    assert_eq!(i[1]["symbol"]["offset"], 4);
    assert!(i[1].get("label").is_none());
    assert_eq!(i[2]["mnemonic"], "CALL");
    assert_eq!(i[2]["target"], 0x18);
    assert_eq!(i[2]["target_symbol"]["name"], "helper");
    assert_eq!(i[2]["breakpoint"], true);
    assert_eq!(i[2]["line_num"], 3);
    assert_eq!(i[3]["target"], 0);
    assert_eq!(i[3]["target_symbol"]["name"], "main");
    assert_eq!(i[4]["mnemonic"], "0xEE");
    assert_eq!(i[4]["text"], ".word 0xEE000000");
    assert_eq!(i[4]["operands"], "");
    assert_eq!(i[5]["label"], "helper");
    assert_eq!(i[5]["text"], "ADD R0, R1, R2");
    assert_eq!(i[6]["text"], "RET");
}

#[test]
fn start_modes() {
    let code = code();
    let input = DisasmInput {
        code: &code,
        symbols: None,
        breakpoints: &[],
        pc: 0x10,
        isa_ext: 0,
    };
    let at_pc = disassemble(&input, Start::from_addr(None), 2);
    assert_eq!(at_pc.address, 0x10);
    assert!(at_pc.lines[0].is_pc);
    assert!(!at_pc.truncated);
    // Two words back from 0x10 is the LDI32 operand word; the start must avoid it.
    let around = disassemble(&input, Start::AroundPc { before: 3 }, 5);
    assert_eq!(around.address, 0x04);
    let pcs: Vec<u32> = around.lines.iter().map(|x| x.info.pc).collect();
    assert_eq!(pcs, [0x04, 0x0C, 0x10, 0x14, 0x18]);
    let around = disassemble(&input, Start::around(4), 4);
    assert_eq!(around.lines.iter().filter(|l| l.is_pc).count(), 1);
    let near_zero = disassemble(
        &DisasmInput { pc: 0, ..input },
        Start::AroundPc { before: 8 },
        3,
    );
    assert_eq!(near_zero.address, 0);
    let past_end = disassemble(&input, Start::At(0x1000), 3);
    assert!(past_end.lines.is_empty() && past_end.truncated);
    assert_eq!(past_end.to_json(1, DisasmMode::Cached)["cached"], false);
    // An LDI32 cut off by the end of the code is not listed.
    let cut = &code[..8];
    let l = disassemble(&DisasmInput { code: cut, ..input }, Start::At(0), 4);
    assert_eq!(l.lines.len(), 1);
    assert!(l.truncated);
}

#[test]
fn cache_serves_repeats_and_tracks_keys() {
    let code = code();
    let t = syms();
    let input = DisasmInput {
        code: &code,
        symbols: Some(&t),
        breakpoints: &[],
        pc: 0,
        isa_ext: 0,
    };
    let key = CacheKey {
        pid: 1,
        image_crc: 0xABCD,
        code_len: code.len() as u32,
        sym_generation: 1,
        isa_ext: 0,
    };
    let mut c = DisasmCache::new();
    let first = c.listing(key, &input, Start::At(0), 4);
    assert!(!first.all_cached);
    assert_eq!(c.stats(), (0, 4));
    let bp = [0x0C];
    let second = c.listing(
        key,
        &DisasmInput {
            breakpoints: &bp,
            pc: 4,
            ..input
        },
        Start::At(0),
        4,
    );
    assert!(second.all_cached);
    assert_eq!(c.stats(), (4, 4));
    assert_eq!(second.to_json(1, DisasmMode::Cached)["cached"], true);
    assert_eq!(second.to_json(1, DisasmMode::OnDemand)["cached"], false);
    // Per-request flags are not cached.
    assert!(second.lines[1].is_pc && second.lines[2].breakpoint);
    assert!(!first.lines[2].breakpoint);
    // Same content as an uncached listing.
    let plain = disassemble(
        &DisasmInput {
            breakpoints: &bp,
            pc: 4,
            ..input
        },
        Start::At(0),
        4,
    );
    assert_eq!(
        plain.to_json(1, DisasmMode::OnDemand),
        second.to_json(1, DisasmMode::OnDemand)
    );
    // A new symbol generation misses.
    let k2 = CacheKey {
        sym_generation: 2,
        ..key
    };
    assert!(!c.listing(k2, &input, Start::At(0), 1).all_cached);
    assert_eq!(c.len(), 5);
    c.forget_pid(1);
    assert!(c.is_empty());
}

/// EXT1 words: decoded (with targets and conditional mnemonics) only for an EXT1 task.
#[test]
fn ext1_listing_follows_the_task_extension_bits() {
    use hsx_vm::isa::{Cond, encode_bcc, encode_calll, encode_callr, encode_setcc};
    let words = [
        encode_bcc(Cond::Ltu, 2).unwrap(), // 0x00 -> 0x08
        encode_calll(4).unwrap(),          // 0x04 -> 0x14
        encode_setcc(Cond::Ge, 3),         // 0x08
        encode_callr(5),                   // 0x0C
        ins(Opcode::Ret, 0, 0, 0, 0),      // 0x10
        ins(Opcode::Ret, 0, 0, 0, 0),      // 0x14
    ];
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
    let t = syms();
    let input = DisasmInput {
        code: &code,
        symbols: Some(&t),
        breakpoints: &[],
        pc: 0,
        isa_ext: hsx_vm::ISA_EXT1,
    };
    let j = disassemble(&input, Start::At(0), 6).to_json(1, DisasmMode::OnDemand);
    let i = &j["instructions"];
    assert_eq!(i[0]["mnemonic"], "BLTU");
    assert_eq!(i[0]["operands"], "2");
    assert_eq!(i[0]["text"], "BLTU 2 ; -> 0x0008");
    assert_eq!(i[0]["target"], 8);
    assert_eq!(i[1]["mnemonic"], "CALLL");
    assert_eq!(i[1]["target"], 0x14);
    assert_eq!(i[1]["target_symbol"]["name"], "main");
    assert_eq!(i[2]["mnemonic"], "SETGE");
    assert_eq!(i[2]["operands"], "R3");
    assert_eq!(i[3]["text"], "CALLR R5");
    assert!(i[3].get("target").is_none(), "a register target is dynamic");
    // The same bytes for a task without EXT1: illegal words, as the VM sees them.
    let base = disassemble(
        &DisasmInput {
            isa_ext: 0,
            ..input
        },
        Start::At(0),
        6,
    );
    let j = base.to_json(1, DisasmMode::OnDemand);
    assert_eq!(j["instructions"][0]["mnemonic"], "0x26");
    assert_eq!(j["instructions"][0]["text"], ".word 0x26700002");
    assert!(j["instructions"][1].get("target").is_none());
    // The cache keeps the two apart.
    let key = CacheKey {
        pid: 1,
        image_crc: 0,
        code_len: code.len() as u32,
        sym_generation: 1,
        isa_ext: hsx_vm::ISA_EXT1,
    };
    let mut c = DisasmCache::new();
    let a = c.listing(key, &input, Start::At(0), 1);
    let b = c.listing(
        CacheKey { isa_ext: 0, ..key },
        &DisasmInput {
            isa_ext: 0,
            ..input
        },
        Start::At(0),
        1,
    );
    assert_ne!(a.lines[0].info.mnemonic, b.lines[0].info.mnemonic);
}

use proptest::prelude::*;

/// Code of random words (a quarter of them `LDI32`, so operand words and cut-off
/// `LDI32`s occur) plus a ragged tail.
fn code_strategy() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((any::<bool>(), any::<bool>(), any::<[u8; 4]>()), 0..75),
        prop::collection::vec(any::<u8>(), 0..4),
    )
        .prop_map(|(words, tail)| {
            let mut code = Vec::new();
            for (ldi32, bias, mut w) in words {
                if ldi32 && bias {
                    w[0] = Opcode::Ldi32 as u8;
                }
                code.extend_from_slice(&w);
            }
            code.extend_from_slice(&tail);
            code
        })
}

/// Addresses near the code, anywhere, and at the top of the 32-bit range.
fn addr_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![
        0u32..0x140,
        any::<u32>(),
        (0u32..8).prop_map(|v| u32::MAX - v)
    ]
}

fn start_strategy() -> impl Strategy<Value = Start> {
    prop_oneof![
        addr_strategy().prop_map(Start::At),
        Just(Start::Pc),
        (0u32..2000).prop_map(|before| Start::AroundPc { before }),
    ]
}

proptest! {
    /// Random code bytes, addresses, counts and breakpoints never panic, listings
    /// stay within their bounds, and a cached listing equals an uncached one.
    #[test]
    fn random_code_never_panics(
        code in code_strategy(),
        mut bps in prop::collection::vec(0u32..0x140, 0..4),
        pc in addr_strategy(),
        start in start_strategy(),
        count in 0u32..2000,
        with_syms in any::<bool>(),
        isa_ext in 0u32..2,
    ) {
        bps.sort_unstable();
        let t = syms();
        let input = DisasmInput {
            code: &code,
            symbols: with_syms.then_some(&t),
            breakpoints: &bps,
            pc,
            isa_ext,
        };
        let l = disassemble(&input, start, count);
        prop_assert!(l.lines.len() <= count.clamp(1, MAX_COUNT) as usize);
        prop_assert_eq!(
            l.data.len() as u32,
            if l.data.is_empty() { 0 } else { l.bytes_read }
        );
        prop_assert!(l.lines.iter().filter(|x| x.is_pc).all(|x| x.info.pc == pc));
        let key = CacheKey {
            pid: 1,
            image_crc: 0,
            code_len: code.len() as u32,
            sym_generation: u64::from(with_syms),
            isa_ext,
        };
        let mut cache = DisasmCache::new();
        let first = cache.listing(key, &input, start, count);
        let second = cache.listing(key, &input, start, count);
        prop_assert!(second.all_cached || second.lines.is_empty());
        let plain = l.to_json(1, DisasmMode::OnDemand);
        prop_assert_eq!(&first.to_json(1, DisasmMode::OnDemand), &plain);
        prop_assert_eq!(&second.to_json(1, DisasmMode::OnDemand), &plain);
    }
}
