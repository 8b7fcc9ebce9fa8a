//! Walks over hand-built and real VM stacks, local lookups, and randomised walks that
//! must never panic or loop.

use hsx_image::sym::{Function, Local, LocalLocation, SymFile, SymTable};
use hsx_vm::isa::{Instr, Opcode};
use hsx_vm::{FlatMem, MEM_SIZE, StepResult, Task, TaskConfig, WordCode};
use serde_json::{Value, json};

use super::*;

const BOUNDS: StackBounds = StackBounds {
    stack_base: 0xEFFC,
    stack_limit: 0xEFFC,
    stack_size: 0x1000,
};

struct Mem(Vec<u8>);

impl Mem {
    fn new() -> Self {
        Mem(vec![0; MEM_SIZE])
    }
    fn put(&mut self, addr: u32, v: u32) {
        let a = addr as usize;
        self.0[a..a + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn reader(&self) -> impl Fn(u32, &mut [u8]) -> usize + '_ {
        |addr, buf| {
            let a = (addr & 0xFFFF) as usize;
            let n = buf.len().min(MEM_SIZE - a);
            buf[..n].copy_from_slice(&self.0[a..a + n]);
            n
        }
    }
}

fn func(name: &str, address: u32, size: u32) -> Function {
    Function {
        name: name.into(),
        address,
        size,
        file: Some("prog.c".into()),
        line: Some(address / 4 + 1),
        ..Function::default()
    }
}

/// Functions of [`program`]: main 0x00..0x1C, a 0x1C..0x30, b 0x30..0x50.
fn program_syms() -> SymTable {
    let mut f = SymFile::default();
    f.symbols.functions = vec![
        func("main", 0, 0x1C),
        func("a", 0x1C, 0x14),
        func("b", 0x30, 0x20),
    ];
    f.symbols.locals = vec![
        Local {
            name: Some("x".into()),
            function: "b".into(),
            line: Some(7),
            locations: vec![LocalLocation {
                start: 0x40,
                end: 0x48,
                location: json!({"kind": "stack", "offset": -4}),
            }],
            ..Local::default()
        },
        Local {
            name: Some("y".into()),
            function: "b".into(),
            locations: vec![LocalLocation {
                start: 0x38,
                end: 0x50,
                location: json!("R1"),
            }],
            ..Local::default()
        },
        Local {
            name: Some("k".into()),
            function: "b".into(),
            locations: vec![LocalLocation {
                start: 0x30,
                end: 0,
                location: json!({"kind": "const", "value": 9}),
            }],
            ..Local::default()
        },
    ];
    f.lines = (0..20)
        .map(|i| hsx_image::sym::LineEntry {
            address: i * 4,
            file: Some("prog.c".into()),
            line: Some(100 + i),
            column: None,
        })
        .collect();
    SymTable::new(f)
}

fn ins(op: Opcode, rd: u8, rs1: u8, imm: i32) -> u32 {
    Instr::new(op, rd, rs1, 0, imm).encode()
}

/// main calls a, a calls b, b stops on BRK with a local pushed (compiled-code frames).
fn program() -> Vec<u32> {
    use Opcode::*;
    vec![
        ins(Push, 0, 7, 0),  // 0x00 main
        ins(Mov, 7, 15, 0),  // 0x04
        ins(Push, 0, 12, 0), // 0x08
        ins(Call, 0, 0, 4),  // 0x0C -> 0x1C
        ins(Pop, 12, 0, 0),  // 0x10
        ins(Pop, 7, 0, 0),   // 0x14
        ins(Ret, 0, 0, 0),   // 0x18
        ins(Push, 0, 7, 0),  // 0x1C a
        ins(Mov, 7, 15, 0),  // 0x20
        ins(Call, 0, 0, 3),  // 0x24 -> 0x30
        ins(Pop, 7, 0, 0),   // 0x28
        ins(Ret, 0, 0, 0),   // 0x2C
        ins(Push, 0, 7, 0),  // 0x30 b
        ins(Mov, 7, 15, 0),  // 0x34
        ins(Ldi, 1, 0, 5),   // 0x38
        ins(Push, 0, 1, 0),  // 0x3C
        ins(Brk, 0, 0, 0),   // 0x40
        ins(Pop, 12, 0, 0),  // 0x44
        ins(Pop, 7, 0, 0),   // 0x48
        ins(Ret, 0, 0, 0),   // 0x4C
    ]
}

fn code_bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

type VmTask = Task<WordCode<Vec<u32>>, FlatMem<Box<[u8; MEM_SIZE]>>>;

fn vm_task() -> VmTask {
    let mem = FlatMem(Box::new([0u8; MEM_SIZE]));
    Task::new(
        WordCode(program()),
        mem,
        &[],
        TaskConfig::executive(0, 0x1000),
    )
}

fn walk_task(t: &VmTask, opts: &WalkOptions<'_>) -> StackTrace {
    let regs = StackRegs {
        pc: t.pc(),
        sp: t.sp(),
        fp: t.regs()[7],
    };
    walk(regs, BOUNDS, opts, |a, b| t.read_mem(a, b))
}

fn names(t: &StackTrace) -> Vec<String> {
    t.frames
        .iter()
        .map(|f| {
            f.function
                .as_ref()
                .map_or("?".into(), |h| h.entry.name.clone())
        })
        .collect()
}

#[test]
fn three_nested_frames_in_fake_memory() {
    let mut m = Mem::new();
    // main's record at 0xFFF8 (caller R7 0, return slot above the stack top 0).
    let (fp_main, fp_a, fp_b) = (0xFFF8, 0xFFE8, 0xFFD0);
    m.put(fp_a, fp_main);
    m.put(fp_a + 4, 0x10);
    m.put(fp_b, fp_a);
    m.put(fp_b + 4, 0x28);
    let syms = program_syms();
    let opts = WalkOptions {
        symbols: Some(&syms),
        ..WalkOptions::default()
    };
    let regs = StackRegs {
        pc: 0x44,
        sp: 0xFFCC,
        fp: fp_b,
    };
    let t = walk(regs, BOUNDS, &opts, m.reader());
    assert!(!t.truncated, "{:?}", t.errors);
    assert!(t.errors.is_empty());
    assert_eq!(names(&t), ["b", "a", "main"]);
    let f: Vec<_> = t
        .frames
        .iter()
        .map(|f| (f.index, f.pc, f.sp, f.fp, f.return_pc))
        .collect();
    assert_eq!(
        f,
        [
            (0, 0x44, 0xFFCC, Some(fp_b), Some(0x28)),
            (1, 0x28, fp_b + 8, Some(fp_a), Some(0x10)),
            (2, 0x10, fp_a + 8, Some(fp_main), Some(0)),
        ]
    );
    let j = t.to_json(3);
    assert_eq!(j["pid"], 3);
    assert_eq!(j["stack_low"], 0xEFFC);
    assert_eq!(j["stack_high"], 0xFFFC);
    assert_eq!(j["initial_fp"], fp_b);
    let f1 = &j["frames"][1];
    assert_eq!(f1["func_name"], "a");
    assert_eq!(f1["func_addr"], 0x1C);
    assert_eq!(f1["func_offset"], 0x0C);
    assert_eq!(f1["symbol"]["offset"], 0x0C);
    assert_eq!(f1["symbol"]["type"], "function");
    // The caller's line is the CALL's (0x24), not the instruction after it.
    assert_eq!(
        f1["line"],
        json!({"address": 0x24, "file": "prog.c", "line": 109})
    );
    assert_eq!(f1["line_num"], 109);
    assert_eq!(f1["file"], "prog.c");
    assert_eq!(j["frames"][0]["line_num"], 117);
}

#[test]
fn real_vm_frames_at_every_step() {
    frames_at_every_step(program(), vm_task());
}

/// The same program with EXT1 calls: `CALLL` for main → a, `CALLR R9` for a → b. They push
/// the return address exactly like CALL, so the walk sees the same frames.
#[test]
fn ext1_calls_walk_like_call() {
    let mut words = program();
    words[3] = hsx_vm::isa::encode_calll(4).unwrap(); // 0x0C -> 0x1C
    words[9] = hsx_vm::isa::encode_callr(9); // 0x24 -> R9
    let mut t = Task::new(
        WordCode(words.clone()),
        FlatMem(Box::new([0u8; MEM_SIZE])),
        &[],
        TaskConfig::executive(0, 0x1000).with_isa_ext(hsx_vm::ISA_EXT1),
    );
    t.reg_set(hsx_vm::Reg::R9, 0x30);
    frames_at_every_step(words, t);
}

/// Steps `t` (running `words`) to its exit, walking the stack before every instruction and
/// comparing with the chain tracked from executed calls and returns.
fn frames_at_every_step(words: Vec<u32>, mut t: VmTask) {
    let syms = program_syms();
    let code = code_bytes(&words);
    let opts = WalkOptions {
        symbols: Some(&syms),
        code: Some(&code),
        ..WalkOptions::default()
    };
    // Expected chain, innermost first, tracked from executed CALL/RET.
    let fn_of = |pc: u32| function_at(&syms, pc).unwrap_or_default();
    let mut callers: Vec<String> = Vec::new();
    let mut checked = 0;
    for _ in 0..40 {
        let trace = walk_task(&t, &opts);
        let mut want = vec![fn_of(t.pc())];
        want.extend(callers.iter().rev().cloned());
        assert_eq!(names(&trace), want, "pc 0x{:X}", t.pc());
        assert!(!trace.truncated, "pc 0x{:X}: {:?}", t.pc(), trace.errors);
        checked += 1;
        let pc_before = t.pc();
        let op = t
            .fetch(pc_before)
            .and_then(|w| Instr::decode_ext(w, t.isa_ext()).ok())
            .map(|i| i.op);
        match t.step() {
            StepResult::Ok | StepResult::Break { .. } => {}
            StepResult::Exit { .. } => break,
            other => panic!("unexpected {other:?}"),
        }
        match op {
            Some(op) if op.is_call() => callers.push(fn_of(pc_before)),
            Some(Opcode::Ret) => {
                callers.pop();
            }
            _ => {}
        }
    }
    // Every instruction of main → a → b and back, up to the final RET.
    assert_eq!(checked, 20);
}

#[test]
fn without_code_frame_zero_trusts_r7() {
    let syms = program_syms();
    let mut t = vm_task();
    while t.pc() != 0x30 {
        t.step();
    }
    // At b's entry R7 still belongs to a: without code the walk shows b, then main.
    let opts = WalkOptions {
        symbols: Some(&syms),
        ..WalkOptions::default()
    };
    assert_eq!(names(&walk_task(&t, &opts)), ["b", "main"]);
}

#[test]
fn broken_chains_stop_with_errors() {
    let syms = program_syms();
    let opts = WalkOptions {
        symbols: Some(&syms),
        ..WalkOptions::default()
    };
    let regs = |fp| StackRegs {
        pc: 0x44,
        sp: 0xFF00,
        fp,
    };
    let run = |m: &Mem, fp: u32| walk(regs(fp), BOUNDS, &opts, m.reader());

    let mut m = Mem::new();
    m.put(0xFF10, 0xFF10);
    m.put(0xFF14, 0x28);
    let t = run(&m, 0xFF10);
    assert!(t.truncated);
    assert_eq!(t.errors, ["fp_cycle:0x0000FF10"]);

    let mut m = Mem::new();
    m.put(0xFF10, 0xFF20);
    m.put(0xFF14, 0x28);
    m.put(0xFF20, 0xFF10);
    m.put(0xFF24, 0x10);
    let t = run(&m, 0xFF10);
    assert_eq!(t.errors, ["fp_cycle:0x0000FF10"]);
    assert_eq!(t.frames.len(), 2);

    let mut m = Mem::new();
    m.put(0xFF10, 0xFF00);
    m.put(0xFF14, 0x28);
    assert_eq!(run(&m, 0xFF10).errors, ["fp_not_ascending:0x0000FF00"]);

    let m = Mem::new();
    assert_eq!(run(&m, 0xFF12).errors, ["fp_unaligned:0x0000FF12"]);
    assert_eq!(run(&m, 0x2000).errors, ["fp_out_of_range:0x00002000"]);

    let mut m = Mem::new();
    m.put(0xFF10, 0x1234);
    m.put(0xFF14, 0x28);
    let t = run(&m, 0xFF10);
    assert_eq!(t.errors, ["fp_out_of_range:0x00001234"]);
    assert_eq!(t.frames[0].return_pc, Some(0x28));

    let t = walk(regs(0xFF10), BOUNDS, &opts, |_, _| 0);
    assert_eq!(t.errors, ["stack_read_failed:0x0000FF10"]);
    assert_eq!(t.frames[0].return_pc, None);

    // A zero R7 is a clean single frame.
    let t = run(&Mem::new(), 0);
    assert!(!t.truncated && t.errors.is_empty() && t.frames.len() == 1);

    let t = walk(
        StackRegs {
            pc: 0,
            sp: 0x100,
            fp: 0,
        },
        BOUNDS,
        &opts,
        Mem::new().reader(),
    );
    assert_eq!(t.errors, ["sp_out_of_range:0x00000100"]);
    assert!(!t.truncated);
}

#[test]
fn frame_limit() {
    let mut m = Mem::new();
    let mut fp = 0xF000;
    for _ in 0..100 {
        m.put(fp, fp + 16);
        m.put(fp + 4, 0x28);
        fp += 16;
    }
    let opts = WalkOptions {
        max_frames: 5,
        ..WalkOptions::default()
    };
    let t = walk(
        StackRegs {
            pc: 0,
            sp: 0xF000,
            fp: 0xF000,
        },
        BOUNDS,
        &opts,
        m.reader(),
    );
    assert_eq!(t.frames.len(), 5);
    assert!(t.truncated);
    assert_eq!(t.errors, ["frame_limit_reached"]);
    let opts = WalkOptions {
        max_frames: 1000,
        ..WalkOptions::default()
    };
    let t = walk(
        StackRegs {
            pc: 0,
            sp: 0xF000,
            fp: 0xF000,
        },
        BOUNDS,
        &opts,
        m.reader(),
    );
    assert_eq!(t.frames.len(), MAX_FRAMES as usize);
}

#[test]
fn zero_size_bounds_span_64k() {
    let b = StackBounds {
        stack_base: 0,
        stack_limit: 0,
        stack_size: 0,
    };
    assert_eq!(b.high(), 0x10000);
    assert!(b.contains(0xFFF0));
}

#[test]
fn local_expressions() {
    assert_eq!(parse_local_expr("local: x"), Ok((None, "x")));
    assert_eq!(parse_local_expr("b::x"), Ok((Some("b"), "x")));
    assert_eq!(parse_local_expr("x@b"), Ok((Some("b"), "x")));
    assert_eq!(parse_local_expr("LOCAL:"), Err(LocalError::EmptyExpression));
    assert_eq!(parse_local_expr("b::"), Err(LocalError::MissingVariable));
}

#[test]
fn location_descriptors() {
    let p = |v: Value| parse_location(&v);
    assert_eq!(
        p(json!({"kind":"stack","offset":-8})),
        Ok(Storage::Stack { offset: -8 })
    );
    assert_eq!(
        p(json!({"offset":"0x10"})),
        Ok(Storage::Stack { offset: 16 })
    );
    assert_eq!(p(json!("fp-8")), Ok(Storage::Stack { offset: -8 }));
    assert_eq!(p(json!("[R7 + 0x10]")), Ok(Storage::Stack { offset: 16 }));
    assert_eq!(p(json!("fp")), Ok(Storage::Stack { offset: 0 }));
    assert_eq!(p(json!("r5")), Ok(Storage::Register { index: 5 }));
    assert_eq!(
        p(json!({"kind":"register","name":"R12"})),
        Ok(Storage::Register { index: 12 })
    );
    assert_eq!(
        p(json!({"kind":"global","symbol":"g","offset":4})),
        Ok(Storage::Global {
            symbol: Some("g".into()),
            address: None,
            offset: 4
        })
    );
    assert_eq!(
        p(json!({"kind":"const","value":"0x2A"})),
        Ok(Storage::Const { value: 42 })
    );
    assert!(p(json!({"kind":"register"})).is_err());
    assert!(p(json!({"kind":"global"})).is_err());
    assert_eq!(
        p(json!({"kind":"piece"})).map_err(|e| e.to_string()),
        Err("unsupported local storage kind 'piece'".to_string())
    );
    assert!(p(json!("fp-zz")).is_err());
    assert!(p(json!(3)).is_err());
    assert_eq!(
        p(json!({"kind":"indirect","base":{"kind":"register","index":8},"offset":12})),
        Ok(Storage::Indirect {
            base: Box::new(Storage::Register { index: 8 }),
            offset: 12
        })
    );
    assert!(p(json!({"kind":"indirect","offset":4})).is_err());
    assert!(p(json!({"kind":"indirect","base":{"kind":"const","value":1}})).is_err());
}

#[test]
fn indirect_locals_read_through_their_base() {
    // A C stack variable: the frame base (the C stack pointer) is in R8, in a frame slot
    // or in a global, and the variable is at base + 8.
    let table = SymTable::new(SymFile::default());
    let mut mem = vec![0u8; 0x1_0000];
    mem[0x6008..0x600C].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    mem[0xFF00 - 4..0xFF00].copy_from_slice(&0x6000u32.to_le_bytes());
    mem[0x4000..0x4004].copy_from_slice(&0x6000u32.to_le_bytes());
    let read = |a: u32, buf: &mut [u8]| {
        let a = a as usize;
        let n = buf.len().min(mem.len() - a);
        buf[..n].copy_from_slice(&mem[a..a + n]);
        n
    };
    let mut regs = [0u32; 16];
    regs[8] = 0x6000;
    let frame = FrameCtx {
        pc: 0,
        fp: Some(0xFF00),
        regs: Some(&regs),
    };
    let bases = [
        (Storage::Register { index: 8 }, "[R8]+0x8"),
        (Storage::Stack { offset: -4 }, "[fp-0x4]+0x8"),
        (
            Storage::Global {
                symbol: None,
                address: Some(0x4000),
                offset: 0,
            },
            "[0x4000]+0x8",
        ),
    ];
    for (base, text) in bases {
        let var = LocalVar {
            function: "f".into(),
            name: "v".into(),
            storage: Storage::Indirect {
                base: Box::new(base),
                offset: 8,
            },
            size: Some(4),
            file: None,
            line: None,
        };
        let v = read_local(&table, &var, &frame, 4, read);
        assert_eq!(
            v.map(|v| (v.bytes, v.address, v.location)),
            Ok((vec![0x78, 0x56, 0x34, 0x12], Some(0x6008), text.to_string()))
        );
    }
}

#[test]
fn locals_from_a_stopped_vm() {
    let syms = program_syms();
    let mut t = vm_task();
    assert!(matches!(t.run(100).1, StepResult::Break { .. }));
    let regs = *t.regs();
    let frame = FrameCtx {
        pc: t.pc(),
        fp: Some(regs[7]),
        regs: Some(&regs),
    };
    let read = |a: u32, b: &mut [u8]| t.read_mem(a, b);
    let w = resolve_local_watch(Some(&syms), "local:x", &frame, None, read)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.value.bytes, 5u32.to_le_bytes());
    assert_eq!(w.value.location, "fp-0x4");
    assert_eq!(w.value.address, Some(regs[7] - 4));
    assert_eq!(w.description, "b::x");
    let y = resolve_local_watch(Some(&syms), "y@b", &frame, Some(2), read)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (y.value.bytes.as_slice(), y.value.location.as_str()),
        (&[5u8, 0][..], "R1")
    );
    let k =
        resolve_local_watch(Some(&syms), "k", &frame, None, read).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(k.value.bytes, 9u32.to_le_bytes());

    assert_eq!(
        resolve_local_watch(None, "x", &frame, None, read),
        Err(LocalError::NoSymbols)
    );
    assert_eq!(
        resolve_local_watch(Some(&syms), "x@a", &frame, None, read).map_err(|e| e.to_string()),
        Err("function 'a' has no local metadata".to_string())
    );
    let early = FrameCtx { pc: 0x38, ..frame };
    assert_eq!(
        resolve_local_watch(Some(&syms), "x", &early, None, read).map_err(|e| e.to_string()),
        Err("local 'x' is not live in function 'b' at current PC".to_string())
    );
    let caller = FrameCtx {
        regs: None,
        ..frame
    };
    assert_eq!(
        resolve_local_watch(Some(&syms), "y", &caller, None, read),
        Err(LocalError::RegisterUnavailable(1))
    );

    let all = frame_locals(&syms, &frame, read);
    let got: Vec<(&str, &str)> = all
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap_or(""),
                v["value"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("x", "05000000"), ("y", "05000000"), ("k", "09000000")]
    );
}

/// SplitMix64: a dependency-free generator for the randomised checks.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn u32(&mut self) -> u32 {
        self.next() as u32
    }
}

use proptest::prelude::*;

/// Stack-like memory from a seed: mostly plausible frame pointers and return
/// addresses, so chains are followed for a while before they break.
fn seeded_memory(seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut mem = vec![0u8; MEM_SIZE];
    for chunk in mem.chunks_exact_mut(4) {
        let v = match rng.next() % 4 {
            0 => rng.u32(),
            1 => 0xF000 + ((rng.u32() % 0x1000) & !3),
            2 => rng.u32() % 0x60,
            _ => 0,
        };
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    mem
}

fn reg_strategy(wild: bool) -> BoxedStrategy<u32> {
    if wild {
        any::<u32>().boxed()
    } else {
        (0u32..0x1000).prop_map(|o| 0xF000 + (o & !3)).boxed()
    }
}

proptest! {
    /// Random memory, registers, bounds and code never panic, and the walk always
    /// ends within the frame limit with at least one frame.
    #[test]
    fn random_memory_never_panics_or_loops(
        seed in any::<u64>(),
        (sp, fp) in any::<bool>().prop_flat_map(|wild| (reg_strategy(wild), reg_strategy(wild))),
        pc in 0u32..0x120,
        max_frames in 0u32..100,
        code in prop::collection::vec(any::<u8>(), 0..256),
        bounds in prop::option::of(any::<(u32, u32, u32)>()),
        short in any::<bool>(),
    ) {
        let mem = seeded_memory(seed);
        let syms = program_syms();
        let bounds = bounds.map_or(BOUNDS, |(stack_base, stack_limit, stack_size)| {
            StackBounds {
                stack_base,
                stack_limit,
                stack_size,
            }
        });
        let regs = StackRegs { pc, sp, fp };
        let opts = WalkOptions {
            max_frames,
            symbols: Some(&syms),
            code: Some(&code),
        };
        let read = |a: u32, b: &mut [u8], cap: usize| {
            let a = (a & 0xFFFF) as usize;
            let n = b.len().min(MEM_SIZE - a).min(cap);
            b[..n].copy_from_slice(&mem[a..a + n]);
            n
        };
        let cap = if short { 3 } else { usize::MAX };
        let t = walk(regs, bounds, &opts, |a, b| read(a, b, cap));
        prop_assert!(!t.frames.is_empty());
        prop_assert!(t.frames.len() <= opts.max_frames.clamp(1, MAX_FRAMES) as usize);
        prop_assert_eq!(t.truncated, !t.errors.iter().all(|e| e.starts_with("sp_out")));
        let _ = t.to_json(1);
        let frame = FrameCtx {
            pc,
            fp: Some(fp),
            regs: None,
        };
        let _ = frame_locals(&syms, &frame, |a, b| read(a, b, usize::MAX));
    }
}
