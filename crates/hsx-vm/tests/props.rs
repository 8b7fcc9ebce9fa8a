//! Property tests: arbitrary code never panics the VM, faults are results, the traced and
//! untraced interpreters agree, and word/byte code storage agree.

mod common;

use common::{T, heap_mem};
use hsx_vm::isa::{ALL_OPCODES, Instr};
use hsx_vm::{ByteCode, Fault, FlatMem, MEM_SIZE, Reg, StepResult, Task, TaskConfig, WordCode};
use proptest::prelude::*;

/// Instruction words biased toward legal opcodes and small register/immediate values so
/// that loops, calls and stack traffic actually happen.
fn word() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => (0..ALL_OPCODES.len(), 0u32..0x100_0000).prop_map(|(i, rest)| {
            (u32::from(ALL_OPCODES[i] as u8) << 24) | rest
        }),
        1 => any::<u32>(),
    ]
}

fn program() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(word(), 1..48)
}

#[derive(Debug, Clone)]
struct Setup {
    regs: [u32; 16],
    sp: u32,
    limit: u32,
    entry: u32,
    /// 0 (base ISA: EXT1 opcodes illegal) or EXT1.
    isa_ext: u32,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        prop::array::uniform16(prop_oneof![any::<u32>(), 0u32..0x20, 0xFFF0u32..0x1_0010]),
        prop_oneof![Just(0xFFFCu32), Just(0x8000), 0u32..0x1_0010, any::<u32>()],
        prop_oneof![Just(0u32), Just(0xEFFC), 0u32..0x1_0000],
        prop_oneof![Just(0u32), 0u32..200],
        prop_oneof![Just(0u32), Just(hsx_vm::ISA_EXT1)],
    )
        .prop_map(|(regs, sp, limit, entry, isa_ext)| Setup {
            regs,
            sp,
            limit,
            entry,
            isa_ext,
        })
}

fn build(words: &[u32], s: &Setup, trace: bool) -> T {
    let mut t = Task::new(
        WordCode(words.to_vec()),
        heap_mem(),
        &[0x5A; 64],
        TaskConfig {
            entry: s.entry,
            sp: s.sp,
            stack_limit: s.limit,
            isa_ext: s.isa_ext,
        },
    );
    for (i, v) in s.regs.iter().enumerate() {
        t.reg_set(Reg::gpr(i as u8), *v);
    }
    t.set_trace(trace);
    t
}

/// Drive a task like an executive would: keep going after SVC/BRK, stop at exit or fault.
/// Checks the per-result invariants on the way; returns the sequence of results.
fn drive(t: &mut T, budget: u32) -> Vec<StepResult> {
    let mut out = Vec::new();
    for _ in 0..budget {
        let steps0 = t.steps();
        let (n, r) = t.run(37);
        assert_eq!(
            t.steps() - steps0,
            n,
            "executed count equals steps increase"
        );
        assert!(n <= 37);
        out.push(r);
        match r {
            StepResult::Ok => assert_eq!(n, 37),
            StepResult::Svc { .. } | StepResult::Break { .. } => {}
            StepResult::Exit { status } => {
                assert_eq!(status, t.reg_get(Reg::R0));
                assert_eq!(t.call_depth(), 0);
                break;
            }
            StepResult::Fault { code, pc } => {
                match code {
                    Fault::IllegalOpcode => {
                        assert!(n >= 1);
                        assert_eq!(t.pc(), pc.wrapping_add(4));
                        let w = t.fetch(pc).expect("the faulting word was fetched");
                        assert!(Instr::decode_ext(w, t.isa_ext()).is_err());
                    }
                    Fault::PcOutOfRange => {
                        assert_eq!(t.pc(), pc);
                        assert!(u64::from(pc) + 4 > u64::from(t.code_len()));
                    }
                    Fault::Ldi32Overrun => {
                        assert_eq!(t.pc(), pc);
                        assert!(u64::from(pc) + 8 > u64::from(t.code_len()));
                    }
                    Fault::NoTask => panic!("a task never reports NO_TASK"),
                    f => {
                        assert_eq!(t.pc(), pc);
                        assert_eq!(Some(t.reg_get(Reg::R0)), f.hsx_err());
                    }
                }
                break;
            }
        }
    }
    out
}

fn memory(t: &T) -> Vec<u8> {
    let mut m = vec![0; MEM_SIZE];
    t.read_mem(0, &mut m);
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_code_never_panics_and_trace_does_not_change_behaviour(
        words in program(),
        s in setup(),
    ) {
        let mut plain = build(&words, &s, false);
        let mut traced = build(&words, &s, true);
        let ra = drive(&mut plain, 60);
        let rb = drive(&mut traced, 60);
        prop_assert_eq!(ra, rb);
        prop_assert_eq!(plain.regs(), traced.regs());
        prop_assert_eq!(
            (plain.pc(), plain.sp(), plain.psw(), plain.steps(), plain.call_depth()),
            (traced.pc(), traced.sp(), traced.psw(), traced.steps(), traced.call_depth())
        );
        prop_assert!(memory(&plain) == memory(&traced));
        prop_assert!(plain.psw() & 0xF0 == 0);
    }

    #[test]
    fn arbitrary_words_single_step_never_panic(
        words in prop::collection::vec(any::<u32>(), 1..16),
        s in setup(),
    ) {
        let mut t = build(&words, &s, false);
        for _ in 0..200 {
            let steps = t.steps();
            let r = t.step();
            prop_assert!(t.steps() - steps <= 1);
            if matches!(r, StepResult::Exit { .. } | StepResult::Fault { .. }) {
                break;
            }
        }
    }

    #[test]
    fn byte_and_word_code_execute_identically(words in program(), s in setup()) {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
        let mut a = build(&words, &s, false);
        let mut b = Task::new(
            ByteCode(bytes),
            FlatMem(Box::new([0u8; MEM_SIZE])),
            &[0x5A; 64],
            TaskConfig { entry: s.entry, sp: s.sp, stack_limit: s.limit, isa_ext: s.isa_ext },
        );
        for (i, v) in s.regs.iter().enumerate() {
            b.reg_set(Reg::gpr(i as u8), *v);
        }
        for _ in 0..30 {
            let ra = a.run(50);
            let rb = b.run(50);
            prop_assert_eq!(ra, rb);
            prop_assert_eq!(a.regs(), b.regs());
            if matches!(ra.1, StepResult::Exit { .. } | StepResult::Fault { .. }) {
                break;
            }
        }
    }

    #[test]
    fn legal_words_round_trip_and_display(w in word(), pc in any::<u32>(), imm in any::<u32>()) {
        if let Ok(i) = Instr::decode(w) {
            prop_assert_eq!(i.encode(), w);
            let text = i.display(pc, Some(imm)).to_string();
            prop_assert!(text.starts_with(i.mnemonic()));
        }
    }

    #[test]
    fn host_memory_access_never_panics(addr in any::<u32>(), len in 0usize..0x1_2000) {
        let mut t = build(&[0], &Setup { regs: [0; 16], sp: 0, limit: 0, entry: 0, isa_ext: 0 }, false);
        let data = vec![0xA5u8; len];
        let n = t.write_mem(addr, &data);
        prop_assert_eq!(n, len.min(MEM_SIZE - (addr & 0xFFFF) as usize));
        let mut buf = vec![0u8; len];
        prop_assert_eq!(t.read_mem(addr, &mut buf), n);
        prop_assert!(buf[..n].iter().all(|b| *b == 0xA5));
    }
}
