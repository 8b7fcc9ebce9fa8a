//! Assemble a generated 10 000-line MVASM file (instructions, labels, branches, data).
//!
//! Run: `cargo bench -p hsx-asm --bench asm_10k`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hsx_asm::{AsmOptions, assemble_source, disassemble};
use std::hint::black_box;

/// A program of exactly `lines` source lines: loops of ALU work with forward/backward
/// branches and calls, then a data section with strings and words.
fn generate(lines: usize) -> String {
    let mut s = String::with_capacity(lines * 24);
    let mut n = 0;
    let push = |s: &mut String, l: &str| {
        s.push_str(l);
        s.push('\n');
    };
    push(&mut s, ".entry main");
    push(&mut s, "main:");
    n += 2;
    let data_lines = 1000;
    let mut block = 0;
    // JMP/JZ targets must stay below 0x1000, so branch only inside small blocks and CALL
    // (PC-relative) between blocks.
    while n + 12 < lines - data_lines {
        push(&mut s, &format!("blk{block}:"));
        push(&mut s, "    LDI R1, 100            ; counter");
        push(&mut s, "    LDI32 R2, table");
        push(&mut s, &format!("loop{block}:"));
        push(&mut s, "    ADD R3, R3, R1");
        push(&mut s, "    LD R4, [R2+4]");
        push(&mut s, "    ST [R2+-8], R4");
        push(&mut s, "    LDI R5, 1");
        push(&mut s, "    SUB R1, R1, R5");
        push(&mut s, "    CMP R1, R0");
        push(&mut s, &format!("    CALL fn{block}"));
        push(&mut s, &format!("fn{block}:"));
        n += 12;
        block += 1;
    }
    while n < lines - data_lines {
        push(&mut s, "    MOV R6, R7");
        n += 1;
    }
    push(&mut s, "    RET");
    push(&mut s, ".data");
    push(&mut s, "table:");
    n += 3;
    let mut k = 0;
    while n < lines {
        if k % 2 == 0 {
            push(&mut s, &format!("    .asciz \"string number {k}\\n\""));
        } else {
            push(&mut s, &format!("    .word 0x{k:08X}, table, {k}"));
        }
        k += 1;
        n += 1;
    }
    s
}

fn bench(c: &mut Criterion) {
    let src = generate(10_000);
    assert_eq!(src.lines().count(), 10_000);
    let opts = AsmOptions::default();
    let out = assemble_source("bench.mvasm", &src, &opts).expect("benchmark source assembles");
    let mut g = c.benchmark_group("asm");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("assemble_10k_lines", |b| {
        b.iter(|| assemble_source("bench.mvasm", black_box(&src), &opts).map(|o| o.hxe_bytes.len()))
    });
    let sym_opts = AsmOptions {
        emit_sym: true,
        ..AsmOptions::default()
    };
    g.bench_function("assemble_10k_lines_with_sym", |b| {
        b.iter(|| {
            assemble_source("bench.mvasm", black_box(&src), &sym_opts).map(|o| o.sym.is_some())
        })
    });
    g.bench_function("disassemble_10k_lines", |b| {
        b.iter(|| disassemble(black_box(&out.hxe_bytes), None).map(|t| t.len()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
