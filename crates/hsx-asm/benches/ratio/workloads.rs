//! The ratio workloads: each one as an MVASM program and as native Rust computing the same
//! checksum. Shared by the `ratio` bench and `tests/ratio_workloads.rs` (which checks that
//! guest and native results agree; it never looks at a clock).
//!
//! Every guest program ends with `BRK` and leaves its checksum in R0. Programs use only the
//! base ISA (loops close with `SUB`/`CMP` + `JNZ`), the shape `hsx asm` users write.

use hsx_asm::{AsmOptions, assemble_source};
use hsx_vm::code::words_from_be_bytes;
use hsx_vm::{Code, DecodedCode, FlatMem, MEM_SIZE, StepResult, Task, TaskConfig, WordCode};
use std::fmt::Write as _;
use std::hint::black_box;

/// A benchmark workload at a given size.
pub struct Workload {
    /// Short name shown in the report.
    pub name: &'static str,
    /// The MVASM source.
    pub source: String,
    /// The native implementation (returns the checksum the guest leaves in R0).
    pub native: Box<dyn Fn() -> u32>,
}

/// A guest task ready to run, with the executive's desktop code representation.
pub type GuestTask<C = DecodedCode> = Task<C, FlatMem<Box<[u8; MEM_SIZE]>>>;

/// Assemble `source` into a fresh standalone task (sp 0x8000, data at 0x4000), with
/// pre-decoded code (what the executive runs on the desktop).
pub fn guest_task(name: &str, source: &str) -> GuestTask {
    guest_task_with(name, source, DecodedCode::from_words)
}

/// [`guest_task`] with plain instruction words (the decoder loop without the pre-decoded
/// form).
pub fn guest_task_words(name: &str, source: &str) -> GuestTask<WordCode<Vec<u32>>> {
    guest_task_with(name, source, WordCode)
}

fn guest_task_with<C: Code>(name: &str, source: &str, code: fn(Vec<u32>) -> C) -> GuestTask<C> {
    let out = assemble_source(&format!("{name}.mvasm"), source, &AsmOptions::default())
        .unwrap_or_else(|e| panic!("workload {name} does not assemble: {e}"));
    let img = out.image;
    let mut words = vec![0u32; img.code.len().div_ceil(4)];
    words_from_be_bytes(&img.code, &mut words);
    let mem: Box<[u8; MEM_SIZE]> = vec![0u8; MEM_SIZE]
        .into_boxed_slice()
        .try_into()
        .unwrap_or_else(|_| unreachable!("exact length"));
    Task::new(
        code(words),
        FlatMem(mem),
        &img.rodata,
        TaskConfig::standalone(img.entry).with_isa_ext(img.isa_ext),
    )
}

/// Run a task to its `BRK`; returns (retired instructions, R0).
pub fn run_guest<C: Code>(task: &mut GuestTask<C>) -> (u64, u32) {
    let (n, r) = task.run(u64::MAX);
    assert_eq!(r, StepResult::Break { code: 0 }, "guest did not end at BRK");
    (n, task.regs()[0])
}

/// All workloads; `scale` 1 is the benchmark size, larger values make them smaller (tests).
pub fn all(scale: u32) -> Vec<Workload> {
    vec![
        coremark(8000 / scale),
        xorshift(8_000_000 / scale),
        memloop(12_000 / scale),
        fib(if scale == 1 { 30 } else { 18 }),
        counter(25_000_000 / scale),
    ]
}

// ---- CoreMark-like: CRC32 + 8x8 matmul + list walk ----

const CM_BUF: u32 = 0x4000; // 64 bytes
const CM_A: u32 = 0x4040; // 8x8 words
const CM_B: u32 = 0x4140;
const CM_C: u32 = 0x4240;
const CM_LIST: u32 = 0x4340; // 64 nodes of {next, val}
const CM_NODES: usize = 64;
const POLY: u32 = 0xEDB8_8320;

struct CmData {
    buf: Vec<u8>,
    a: Vec<u32>,
    b: Vec<u32>,
    /// Visit order: node `order[i]` links to `order[i + 1]`; `order[0] = 0` is the head.
    order: Vec<usize>,
    val: Vec<u32>,
}

fn cm_data() -> CmData {
    CmData {
        buf: (0..64u32).map(|j| ((j * 13 + 7) & 0xFF) as u8).collect(),
        a: (0..64u32).map(|i| (i * 7 + 1) % 23).collect(),
        b: (0..64u32).map(|i| (i * 5 + 3) % 19).collect(),
        order: (0..CM_NODES).map(|i| (i * 37) % CM_NODES).collect(),
        val: (0..CM_NODES as u32).map(|n| n * n + 3).collect(),
    }
}

fn words_line(out: &mut String, words: impl IntoIterator<Item = u32>) {
    let v: Vec<String> = words.into_iter().map(|w| format!("0x{w:08X}")).collect();
    for chunk in v.chunks(8) {
        let _ = writeln!(out, "    .word {}", chunk.join(", "));
    }
}

fn coremark(iter: u32) -> Workload {
    let d = cm_data();
    let mut next = [0u32; CM_NODES];
    for w in d.order.windows(2) {
        next[w[0]] = CM_LIST + 8 * w[1] as u32;
    }
    let mut s = format!(
        "; CoreMark-like kernel: CRC32 (bitwise) of 64 bytes, 8x8 matrix multiply + FNV hash
; of the product, walk of a 64-node linked list that bumps every value; {iter} rounds.
.entry main
main:
    LDI32 R1, 0xFFFFFFFF     ; crc
    LDI32 R2, {iter}         ; rounds left
    LDI R14, 4
    LDI R15, 32
round:
    LDI32 R3, 0x{CM_BUF:X}
    LDI R4, 64
    LDI32 R12, 0x{POLY:X}
    LDI R11, 1
    LDI R10, 0
crc_byte:
    LDB R5, [R3]
    XOR R1, R1, R5
    LDI R6, 8
crc_bit:
    AND R7, R1, R11
    SUB R7, R10, R7
    AND R7, R7, R12
    LSR R1, R1, R11
    XOR R1, R1, R7
    SUB R6, R6, R11
    JNZ crc_bit
    ADD R3, R3, R11
    SUB R4, R4, R11
    JNZ crc_byte
    LDI32 R3, 0x{CM_A:X}
    LD R5, [R3]
    XOR R5, R5, R1
    ST [R3], R5              ; A[0][0] ^= crc
    LDI32 R8, 0x{CM_C:X}
    LDI R4, 32
mm_i:
    LDI32 R9, 0x{CM_B:X}
    LDI R5, 32
mm_j:
    MOV R10, R3
    MOV R11, R9
    LDI R6, 32
    LDI R7, 0
mm_k:
    LD R12, [R10]
    LD R13, [R11]
    MUL R12, R12, R13
    ADD R7, R7, R12
    ADD R10, R10, R14
    ADD R11, R11, R15
    SUB R6, R6, R14
    JNZ mm_k
    ST [R8], R7
    ADD R8, R8, R14
    ADD R9, R9, R14
    SUB R5, R5, R14
    JNZ mm_j
    ADD R3, R3, R15
    SUB R4, R4, R14
    JNZ mm_i
    LDI32 R8, 0x{CM_C:X}
    LDI32 R7, 0x811C9DC5
    LDI32 R12, 16777619
    LDI32 R4, 256
hash:
    LD R5, [R8]
    XOR R7, R7, R5
    MUL R7, R7, R12
    ADD R8, R8, R14
    SUB R4, R4, R14
    JNZ hash
    ADD R0, R0, R1
    XOR R0, R0, R7
    LDI32 R3, 0x{CM_LIST:X}
    LDI R7, 0
    LDI R6, 0
    LDI R13, 1
walk:
    LD R5, [R3+4]
    ADD R7, R7, R5
    ADD R5, R5, R13
    ST [R3+4], R5
    LD R3, [R3]
    CMP R3, R6
    JNZ walk
    ADD R0, R0, R7
    SUB R2, R2, R13
    JNZ round
    BRK
.data
"
    );
    let _ = writeln!(s, "    .byte {}", join(d.buf.iter().map(|b| b.to_string())));
    words_line(&mut s, d.a.iter().copied());
    words_line(&mut s, d.b.iter().copied());
    words_line(&mut s, [0u32; 64]);
    words_line(
        &mut s,
        (0..CM_NODES).flat_map(|n| [next[n], d.val[n]].into_iter()),
    );
    Workload {
        name: "coremark",
        source: s,
        native: Box::new(move || {
            let mut d = black_box(cm_data());
            coremark_native(black_box(iter), &mut d)
        }),
    }
}

fn join(it: impl Iterator<Item = String>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

#[inline(never)]
fn coremark_native(iter: u32, d: &mut CmData) -> u32 {
    let mut link = [usize::MAX; CM_NODES];
    for w in d.order.windows(2) {
        link[w[0]] = w[1];
    }
    let mut c = [0u32; 64];
    let (mut acc, mut crc) = (0u32, 0xFFFF_FFFFu32);
    for _ in 0..iter {
        for &b in &d.buf {
            crc ^= u32::from(b);
            for _ in 0..8 {
                let m = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (POLY & m);
            }
        }
        d.a[0] ^= crc;
        for i in 0..8 {
            for j in 0..8 {
                let mut s = 0u32;
                for k in 0..8 {
                    s = s.wrapping_add(d.a[i * 8 + k].wrapping_mul(d.b[k * 8 + j]));
                }
                c[i * 8 + j] = s;
            }
        }
        let mut h = 0x811C_9DC5u32;
        for &x in &c {
            h = (h ^ x).wrapping_mul(16_777_619);
        }
        acc = acc.wrapping_add(crc) ^ h;
        let (mut p, mut lsum) = (0usize, 0u32);
        while p != usize::MAX {
            let v = d.val[p];
            lsum = lsum.wrapping_add(v);
            d.val[p] = v.wrapping_add(1);
            p = link[p];
        }
        acc = acc.wrapping_add(lsum);
    }
    acc
}

// ---- xorshift32 with a multiply-accumulate ----

fn xorshift(iter: u32) -> Workload {
    let source = format!(
        "; xorshift32 + MUL mix: x ^= x<<13; x ^= x>>17; x ^= x<<5; acc = acc*K + x; {iter} rounds.
.entry main
main:
    LDI32 R1, 0x12345678
    LDI32 R2, {iter}
    LDI R3, 13
    LDI R4, 17
    LDI R5, 5
    LDI32 R6, 0x9E3779B1
    LDI R8, 1
loop:
    LSL R7, R1, R3
    XOR R1, R1, R7
    LSR R7, R1, R4
    XOR R1, R1, R7
    LSL R7, R1, R5
    XOR R1, R1, R7
    MUL R0, R0, R6
    ADD R0, R0, R1
    SUB R2, R2, R8
    JNZ loop
    XOR R0, R0, R1
    BRK
"
    );
    Workload {
        name: "xorshift_mul",
        source,
        native: Box::new(move || xorshift_native(black_box(iter), black_box(0x1234_5678))),
    }
}

#[inline(never)]
fn xorshift_native(iter: u32, seed: u32) -> u32 {
    let (mut x, mut acc) = (seed, 0u32);
    for _ in 0..iter {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        acc = acc.wrapping_mul(0x9E37_79B1).wrapping_add(x);
    }
    acc ^ x
}

// ---- scalar memory loop: running prefix sum over 1024 words, in place ----

const ML_WORDS: u32 = 1024;

fn ml_init() -> Vec<u32> {
    (0..ML_WORDS).map(|i| i * 3 + 1).collect()
}

fn memloop(passes: u32) -> Workload {
    let mut source = format!(
        "; Scalar memory loop: s += a[i]; a[i] = s over 1024 words, {passes} passes.
.entry main
main:
    LDI32 R3, {passes}
    LDI R5, 4
    LDI R8, 1
pass:
    LDI32 R1, 0x4000
    LDI32 R2, {ML_WORDS}
elem:
    LD R4, [R1]
    ADD R0, R0, R4
    ST [R1], R0
    ADD R1, R1, R5
    SUB R2, R2, R8
    JNZ elem
    SUB R3, R3, R8
    JNZ pass
    BRK
.data
"
    );
    words_line(&mut source, ml_init());
    Workload {
        name: "memloop",
        source,
        native: Box::new(move || {
            let mut a = black_box(ml_init());
            memloop_native(black_box(passes), &mut a)
        }),
    }
}

#[inline(never)]
fn memloop_native(passes: u32, a: &mut [u32]) -> u32 {
    let mut s = 0u32;
    for _ in 0..passes {
        for x in a.iter_mut() {
            s = s.wrapping_add(*x);
            *x = s;
        }
    }
    s
}

// ---- recursive fib ----

fn fib(n: u32) -> Workload {
    let source = format!(
        "; Recursive fib({n}): CALL/RET, PUSH/POP.
.entry main
main:
    LDI R1, {n}
    LDI R2, -2
    LDI R4, 1
    LDI R5, 2
    CALL fib
    BRK
fib:
    AND R3, R1, R2          ; n < 2 (n & ~1 == 0)?
    JZ base
    PUSH R1
    SUB R1, R1, R4
    CALL fib
    POP R1
    PUSH R0
    SUB R1, R1, R5
    CALL fib
    POP R3
    ADD R0, R0, R3
    RET
base:
    MOV R0, R1
    RET
"
    );
    Workload {
        name: "fib",
        source,
        native: Box::new(move || fib_native(black_box(n))),
    }
}

#[inline(never)]
fn fib_native(n: u32) -> u32 {
    if n < 2 {
        n
    } else {
        fib_native(n - 1).wrapping_add(fib_native(n - 2))
    }
}

// ---- ADD/CMP/JNZ counter ----

fn counter(n: u32) -> Workload {
    let source = format!(
        "; Bare counter: ADD/CMP/JNZ up to {n}.
.entry main
main:
    LDI R1, 0
    LDI R2, 1
    LDI32 R3, {n}
loop:
    ADD R1, R1, R2
    CMP R1, R3
    JNZ loop
    MOV R0, R1
    BRK
"
    );
    Workload {
        name: "counter",
        source,
        native: Box::new(move || counter_native(black_box(n), black_box(1))),
    }
}

#[inline(never)]
fn counter_native(n: u32, step: u32) -> u32 {
    // `step` is opaque, so the compiler cannot compute the trip count and keeps the
    // add/compare/branch loop the guest runs.
    let mut c = 0u32;
    loop {
        c = c.wrapping_add(step);
        if c == n {
            return c;
        }
    }
}
