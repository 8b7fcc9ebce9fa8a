//! The pre-decoded interpreter loop (code with a `decoded()` form) is exactly the plain
//! decoder: on random programs, from random states including every PSW value (Z and N both
//! set too), unaligned and out-of-range pcs, stack edges and both ISA levels, a sequence of
//! `run(n)` calls of random sizes gives the same results, registers, pc, sp, psw, call
//! depth, step count and memory.

use hsx_vm::code::Words;
use hsx_vm::isa::{ALL_OPCODES, Opcode};
use hsx_vm::op::{Op, decode_ops};
use hsx_vm::{Code, FlatMem, ISA_EXT1, MEM_SIZE, Reg, Task, TaskConfig, WordCode};
use proptest::prelude::*;

/// Words plus their decoded form, the way a desktop code representation holds them.
struct Decoded {
    words: Vec<u32>,
    ops: Vec<Op>,
}

impl Code for Decoded {
    type View<'a> = Words<'a>;
    fn view(&self) -> Words<'_> {
        Words(&self.words)
    }
    fn decoded(&self) -> Option<&[Op]> {
        Some(&self.ops)
    }
}

type Mem = FlatMem<Box<[u8; MEM_SIZE]>>;

fn heap_mem() -> Mem {
    FlatMem(
        vec![0u8; MEM_SIZE]
            .into_boxed_slice()
            .try_into()
            .unwrap_or_else(|_| unreachable!()),
    )
}

const LEN: usize = 40;

/// Words biased toward legal opcodes, small registers, and jump/branch/call targets inside
/// the program (aligned mostly, sometimes not).
fn target() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => (0u32..LEN as u32).prop_map(|i| i * 4),
        1 => 0u32..(LEN as u32 * 4 + 8),
        1 => 0u32..0x1000,
    ]
}

fn word() -> impl Strategy<Value = u32> {
    let op = (0..ALL_OPCODES.len()).prop_map(|i| ALL_OPCODES[i]);
    prop_oneof![
        6 => (op, 0u32..16, 0u32..16, 0u32..16, prop_oneof![0u32..8, 0xFF8u32..0x1000, 0u32..0x1000], target())
            .prop_map(|(op, rd, a, b, imm, t)| {
                let base = (u32::from(op as u8) << 24) | (rd << 20) | (a << 16) | (b << 12);
                match op {
                    Opcode::Jmp | Opcode::Jz | Opcode::Jnz => base | t,
                    // Small PC-relative offsets, both directions.
                    Opcode::Call => {
                        let off = ((imm & 15) as i32 - 8) as u32 & 0xFFF;
                        let rs1 = if a < 12 { 0 } else { a };
                        (base & 0xFFF0_0000) | (rs1 << 16) | off
                    }
                    Opcode::Bcc => (base & 0xFFF0_0000) | (((imm & 15) as i32 - 8) as u32 & 0xF_FFFF),
                    Opcode::Calll => (base & 0xFF00_0000) | (((imm & 15) as i32 - 8) as u32 & 0xFF_FFFF),
                    _ => base | imm,
                }
            }),
        // CMP followed by JZ/JNZ, so the fused form is exercised.
        2 => (0u32..16, 0u32..16).prop_map(|(a, b)| {
            (u32::from(Opcode::Cmp as u8) << 24) | (a << 16) | (b << 12)
        }),
        2 => (prop::bool::ANY, target()).prop_map(|(z, t)| {
            let op = if z { Opcode::Jz } else { Opcode::Jnz };
            (u32::from(op as u8) << 24) | t
        }),
        1 => any::<u32>(),
    ]
}

#[derive(Debug, Clone)]
struct Setup {
    regs: [u32; 16],
    pc: u32,
    sp: u32,
    limit: u32,
    psw: u32,
    depth: u32,
    isa_ext: u32,
    runs: Vec<u64>,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        prop::array::uniform16(prop_oneof![
            0u32..0x20,
            (0u32..LEN as u32 * 4 + 8),
            0xFFF0u32..0x1_0010,
            any::<u32>()
        ]),
        prop_oneof![4 => (0u32..LEN as u32).prop_map(|i| i * 4), 1 => 0u32..(LEN as u32 * 4 + 16)],
        prop_oneof![Just(0xFFFCu32), Just(0x8000), Just(4), 0u32..0x1_0010],
        prop_oneof![Just(0u32), Just(0xEFFC), 0u32..0x1_0000],
        0u32..16,
        0u32..4,
        prop_oneof![Just(0u32), Just(ISA_EXT1)],
        prop::collection::vec(prop_oneof![Just(1u64), 1u64..5, 1u64..200], 1..8),
    )
        .prop_map(|(regs, pc, sp, limit, psw, depth, isa_ext, runs)| Setup {
            regs,
            pc,
            sp,
            limit,
            psw,
            depth,
            isa_ext,
            runs,
        })
}

fn build<C: Code>(code: C, s: &Setup) -> Task<C, Mem> {
    let mut t = Task::new(
        code,
        heap_mem(),
        &[0xA5; 32],
        TaskConfig {
            entry: s.pc,
            sp: s.sp,
            stack_limit: s.limit,
            isa_ext: s.isa_ext,
        },
    );
    for (i, v) in s.regs.iter().enumerate() {
        t.reg_set(Reg::gpr(i as u8), *v);
    }
    t.reg_set(Reg::Psw, s.psw);
    t.set_call_depth(s.depth);
    t
}

fn state<C: Code>(t: &Task<C, Mem>) -> ([u32; 16], u32, u32, u8, u32, u64) {
    (
        *t.regs(),
        t.pc(),
        t.sp(),
        t.psw(),
        t.call_depth(),
        t.steps(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn predecoded_equals_plain(words in prop::collection::vec(word(), 1..LEN), s in setup()) {
        let mut ops = vec![Op::default(); words.len()];
        decode_ops(&words, &mut ops);
        let mut plain = build(WordCode(words.clone()), &s);
        let mut fast = build(Decoded { words: words.clone(), ops }, &s);
        for &n in &s.runs {
            let a = plain.run(n);
            let b = fast.run(n);
            prop_assert_eq!(a, b, "run({})", n);
            prop_assert_eq!(state(&plain), state(&fast));
        }
        prop_assert!(plain.mem().bytes()[..] == fast.mem().bytes()[..], "memory differs");
    }
}

#[test]
fn every_psw_value_round_trips_through_the_fast_loop() {
    // MOV writes no flags: every PSW, Z+N included, must come out unchanged.
    let words = vec![
        (u32::from(Opcode::Mov as u8) << 24) | (1 << 20) | (2 << 16),
        (u32::from(Opcode::Brk as u8) << 24),
    ];
    for psw in 0..16u32 {
        let mut ops = vec![Op::default(); words.len()];
        decode_ops(&words, &mut ops);
        let s = Setup {
            regs: [0; 16],
            pc: 0,
            sp: 0x8000,
            limit: 0,
            psw,
            depth: 0,
            isa_ext: 0,
            runs: vec![],
        };
        let mut t = build(
            Decoded {
                words: words.clone(),
                ops,
            },
            &s,
        );
        let (n, _) = t.run(10);
        assert_eq!(n, 2);
        assert_eq!(u32::from(t.psw()), psw);
    }
}
