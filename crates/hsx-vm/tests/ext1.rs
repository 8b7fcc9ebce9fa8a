//! EXT1 semantics (`isa::ext1`): every condition on every flag combination, branches both
//! ways, JR/CALLR/CALLL with their return path, SETcc, ADDI, DIVU, ADJSP bounds, and the
//! opcodes staying illegal for a task without EXT1.

mod common;

use common::{T, heap_mem, ins};
use hsx_vm::isa::Opcode::{self, *};
use hsx_vm::isa::{
    ALL_OPCODES, Cond, encode_addi, encode_adjsp, encode_bcc, encode_calll, encode_callr,
    encode_divu, encode_jr, encode_setcc,
};
use hsx_vm::{
    FLAG_C, FLAG_N, FLAG_V, FLAG_Z, Fault, HSX_ERR_DIV_ZERO, HSX_ERR_STACK_OVERFLOW,
    HSX_ERR_STACK_UNDERFLOW, ISA_EXT1, Reg, StepResult, Task, TaskConfig, WordCode,
};

/// A standalone task with EXT1 enabled.
fn ext_task(words: &[u32]) -> T {
    Task::new(
        WordCode(words.to_vec()),
        heap_mem(),
        &[],
        TaskConfig::standalone(0).with_isa_ext(ISA_EXT1),
    )
}

/// An executive task (sp 0xFFFC, stack limit 0xEFFC) with EXT1 enabled.
fn ext_exec_task(words: &[u32]) -> T {
    Task::new(
        WordCode(words.to_vec()),
        heap_mem(),
        &[],
        TaskConfig::executive(0, 0x1000).with_isa_ext(ISA_EXT1),
    )
}

/// The condition table of the brief, written out independently of the VM's.
fn expected(cond: u8, psw: u8) -> bool {
    let (z, c, n, v) = (
        psw & FLAG_Z != 0,
        psw & FLAG_C != 0,
        psw & FLAG_N != 0,
        psw & FLAG_V != 0,
    );
    match cond {
        0 => true,
        1 => z,
        2 => !z,
        3 => n != v,
        4 => n == v,
        5 => !z && n == v,
        6 => z || n != v,
        7 => !c,
        8 => c,
        9 => c && !z,
        10 => !c || z,
        11 => n,
        12 => !n,
        13 => v,
        14 => !v,
        _ => unreachable!(),
    }
}

#[test]
fn every_condition_on_every_flag_combination() {
    for cond in Cond::ALL {
        for psw in 0u8..16 {
            let want = expected(cond as u8, psw);
            assert_eq!(cond.holds(psw), want, "{cond:?} psw {psw:#x}");
            // B<cc> +3 words from 0x10.
            let mut code = vec![0u32; 8];
            code[4] = encode_bcc(cond, 3).unwrap();
            let mut t = ext_task(&code);
            t.reg_set(Reg::Pc, 0x10);
            t.reg_set(Reg::Psw, u32::from(psw));
            assert_eq!(t.step(), StepResult::Ok);
            assert_eq!(t.pc(), if want { 0x1C } else { 0x14 }, "{cond:?} {psw:#x}");
            assert_eq!(t.psw(), psw, "branches leave the flags alone");
            assert_eq!(t.steps(), 1);
            // SET<cc> R5.
            let mut t = ext_task(&[encode_setcc(cond, 5)]);
            t.reg_set(Reg::R5, 0xDEAD_BEEF);
            t.reg_set(Reg::Psw, u32::from(psw));
            assert_eq!(t.step(), StepResult::Ok);
            assert_eq!(t.reg_get(Reg::R5), u32::from(want), "SET{cond:?} {psw:#x}");
            assert_eq!((t.pc(), t.psw()), (4, psw));
        }
    }
}

#[test]
fn conditions_after_cmp_match_integer_comparisons() {
    let vals = [
        0u32,
        1,
        2,
        0x7FFF_FFFF,
        0x8000_0000,
        0x8000_0001,
        0xFFFF_FFFE,
        0xFFFF_FFFF,
    ];
    for &a in &vals {
        for &b in &vals {
            let (sa, sb) = (a as i32, b as i32);
            let table = [
                (Cond::Eq, a == b),
                (Cond::Ne, a != b),
                (Cond::Lt, sa < sb),
                (Cond::Ge, sa >= sb),
                (Cond::Gt, sa > sb),
                (Cond::Le, sa <= sb),
                (Cond::Ltu, a < b),
                (Cond::Geu, a >= b),
                (Cond::Gtu, a > b),
                (Cond::Leu, a <= b),
            ];
            for (cond, want) in table {
                let mut t = ext_task(&[ins(Cmp, 0, 1, 2, 0), encode_setcc(cond, 3)]);
                t.reg_set(Reg::R1, a);
                t.reg_set(Reg::R2, b);
                assert_eq!(t.run(2), (2, StepResult::Ok));
                assert_eq!(
                    t.reg_get(Reg::R3),
                    u32::from(want),
                    "{a:#x} {cond:?} {b:#x}"
                );
            }
        }
    }
}

#[test]
fn branch_forward_backward_and_wrapping() {
    // 0: LDI R1,3 ; 4: ADDI R1,R1,-1 ; 8: CMP R1,R0 ; C: BNE -2 (→ 4) ; 10: B +2 (→ 18) ;
    // 14: BRK 1 ; 18: BRK 2
    let code = [
        ins(Ldi, 1, 0, 0, 3),
        encode_addi(1, 1, -1).unwrap(),
        ins(Cmp, 0, 1, 0, 0),
        encode_bcc(Cond::Ne, -2).unwrap(),
        encode_bcc(Cond::Al, 2).unwrap(),
        ins(Brk, 0, 0, 0, 1),
        ins(Brk, 0, 0, 0, 2),
    ];
    let mut t = ext_task(&code);
    assert_eq!(t.run(100), (1 + 3 * 3 + 2, StepResult::Break { code: 2 }));
    assert_eq!(t.reg_get(Reg::R1), 0);
    // A taken branch below address 0 wraps to a huge pc, which faults at the next fetch.
    let mut t = ext_task(&[encode_bcc(Cond::Al, -1).unwrap()]);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.pc(), 0xFFFF_FFFC);
    assert_eq!(
        t.step(),
        StepResult::Fault {
            code: Fault::PcOutOfRange,
            pc: 0xFFFF_FFFC
        }
    );
    // Extreme offsets reach beyond 64 KiB (no 16-bit mask).
    let mut t = ext_task(&[encode_bcc(Cond::Al, (1 << 19) - 1).unwrap()]);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.pc(), ((1u32 << 19) - 1) * 4);
}

#[test]
fn condition_15_is_illegal_and_retired() {
    for w in [0x26F0_0001u32, 0x2A30_000F] {
        let mut t = ext_task(&[w]);
        t.reg_set(Reg::R3, 9);
        assert_eq!(
            t.step(),
            StepResult::Fault {
                code: Fault::IllegalOpcode,
                pc: 0
            }
        );
        assert_eq!((t.pc(), t.steps(), t.reg_get(Reg::R3)), (4, 1, 9));
    }
}

#[test]
fn jr_jumps_to_the_register_unmasked() {
    let mut t = ext_task(&[encode_jr(4), 0, 0, ins(Brk, 0, 0, 0, 7)]);
    t.reg_set(Reg::R4, 0xC);
    assert_eq!(t.run(10), (2, StepResult::Break { code: 7 }));
    let mut t = ext_task(&[encode_jr(4)]);
    t.reg_set(Reg::R4, 0x1_0000_0000u64 as u32 | 0x12_3456);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.pc(), 0x12_3456);
    assert!(matches!(
        t.step(),
        StepResult::Fault {
            code: Fault::PcOutOfRange,
            ..
        }
    ));
}

#[test]
fn callr_and_calll_push_the_return_address_and_ret_comes_back() {
    // 0: CALLR R4 (→ 0x10) ; 4: CALLL +3 (→ 0x10) ; 8: BRK 1 ; C: (pad) ;
    // 10: ADDI R1,R1,1 ; 14: RET
    let code = [
        encode_callr(4),
        encode_calll(3).unwrap(),
        ins(Brk, 0, 0, 0, 1),
        0,
        encode_addi(1, 1, 1).unwrap(),
        ins(Ret, 0, 0, 0, 0),
    ];
    let mut t = ext_exec_task(&code);
    t.reg_set(Reg::R4, 0x10);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!((t.pc(), t.sp(), t.call_depth()), (0x10, 0xFFF8, 1));
    assert_eq!(t.reg_get(Reg::R15), 0xFFF8);
    let mut ret = [0u8; 4];
    t.read_mem(0xFFF8, &mut ret);
    assert_eq!(u32::from_le_bytes(ret), 4);
    assert_eq!(t.run(2), (2, StepResult::Ok));
    assert_eq!((t.pc(), t.sp(), t.call_depth()), (4, 0xFFFC, 0));
    assert_eq!(t.step(), StepResult::Ok); // CALLL
    assert_eq!((t.pc(), t.sp(), t.call_depth()), (0x10, 0xFFF8, 1));
    assert_eq!(t.run(10), (3, StepResult::Break { code: 1 }));
    assert_eq!(t.reg_get(Reg::R1), 2);
    assert_eq!((t.sp(), t.call_depth()), (0xFFFC, 0));
}

#[test]
fn callr_reads_its_target_before_r15_changes() {
    let mut t = ext_exec_task(&[encode_callr(15), 0, ins(Brk, 0, 0, 0, 3)]);
    t.reg_set(Reg::R15, 8);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!((t.pc(), t.reg_get(Reg::R15)), (8, 0xFFF8));
}

#[test]
fn calll_reaches_backwards_and_far_without_masking() {
    let code = [ins(Brk, 0, 0, 0, 9), encode_calll(-1).unwrap()];
    let mut t = ext_exec_task(&code);
    t.reg_set(Reg::Pc, 4);
    assert_eq!(t.run(5), (2, StepResult::Break { code: 9 }));
    assert_eq!(t.call_depth(), 1);
    let mut t = ext_exec_task(&[encode_calll(0x4000).unwrap()]);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.pc(), 0x1_0000, "CALL would have masked this to 0");
}

#[test]
fn call_forms_fault_on_stack_overflow_like_call() {
    for w in [encode_callr(1), encode_calll(1).unwrap()] {
        let mut t = ext_exec_task(&[w]);
        t.reg_set(Reg::Sp, 0xEFFC); // at the limit: one more push would go below
        let r = t.step();
        assert_eq!(
            r,
            StepResult::Fault {
                code: Fault::StackOverflow,
                pc: 0
            }
        );
        assert_eq!(t.reg_get(Reg::R0), HSX_ERR_STACK_OVERFLOW);
        assert_eq!(
            (t.pc(), t.sp(), t.steps(), t.call_depth()),
            (0, 0xEFFC, 0, 0)
        );
    }
}

#[test]
fn addi_adds_a_signed_immediate_and_keeps_flags() {
    for (a, imm, want) in [
        (10u32, -5, 5u32),
        (0, -1, 0xFFFF_FFFF),
        (0xFFFF_FFFF, 1, 0),
        (1, 2047, 2048),
        (0, -2048, 0xFFFF_F800),
    ] {
        let mut t = ext_task(&[encode_addi(3, 2, imm).unwrap()]);
        t.reg_set(Reg::R2, a);
        t.reg_set(Reg::Psw, u32::from(FLAG_C | FLAG_V));
        assert_eq!(t.step(), StepResult::Ok);
        assert_eq!(t.reg_get(Reg::R3), want);
        assert_eq!(t.psw(), FLAG_C | FLAG_V);
    }
}

#[test]
fn divu_is_unsigned_and_faults_on_zero() {
    for (a, b, want, psw) in [
        (0xFFFF_FFFFu32, 2u32, 0x7FFF_FFFFu32, 0u8),
        (0x8000_0000, 1, 0x8000_0000, FLAG_N),
        (7, 8, 0, FLAG_Z),
        (100, 7, 14, 0),
    ] {
        let mut t = ext_task(&[encode_divu(3, 1, 2)]);
        t.reg_set(Reg::R1, a);
        t.reg_set(Reg::R2, b);
        t.reg_set(Reg::Psw, u32::from(FLAG_C | FLAG_V));
        assert_eq!(t.step(), StepResult::Ok);
        assert_eq!((t.reg_get(Reg::R3), t.psw()), (want, psw), "{a:#x}/{b:#x}");
    }
    let mut t = ext_task(&[encode_divu(3, 1, 2)]);
    t.reg_set(Reg::R1, 5);
    assert_eq!(
        t.step(),
        StepResult::Fault {
            code: Fault::DivZero,
            pc: 0
        }
    );
    assert_eq!(
        (t.reg_get(Reg::R0), t.pc(), t.steps()),
        (HSX_ERR_DIV_ZERO, 0, 0)
    );
}

#[test]
fn adjsp_moves_sp_in_words_and_mirrors_r15() {
    let mut t = ext_exec_task(&[encode_adjsp(-3).unwrap(), encode_adjsp(2).unwrap()]);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!((t.sp(), t.reg_get(Reg::R15)), (0xFFF0, 0xFFF0));
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!((t.sp(), t.reg_get(Reg::R15), t.pc()), (0xFFF8, 0xFFF8, 8));
    // Exactly to the limit and exactly to 0x10000 are fine.
    let mut t = ext_exec_task(&[encode_adjsp(-1024).unwrap()]);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.sp(), 0xEFFC);
    let mut t = ext_exec_task(&[encode_adjsp(1).unwrap()]);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.sp(), 0x1_0000);
    // ADJSP 0 only refreshes R15.
    let mut t = ext_exec_task(&[encode_adjsp(0).unwrap()]);
    t.reg_set(Reg::Sp, 0x2_0000);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.reg_get(Reg::R15), 0x2_0000);
}

#[test]
fn adjsp_faults_like_push_and_pop() {
    // (sp, limit, words, fault)
    let cases = [
        (0xFFFCu32, 0xEFFCu32, -1025, Fault::StackOverflow), // below the limit
        (8, 0, -3, Fault::StackOverflow),                    // below 0
        (0x1_0008, 0, -1, Fault::StackOverflow),             // a PUSH there faults too
        (0xFFFC, 0, 2, Fault::StackUnderflow),               // past 0x10000
        (0x1_0000, 0, 1, Fault::StackUnderflow),
    ];
    for (sp, limit, words, f) in cases {
        let mut t = ext_task(&[encode_adjsp(words).unwrap()]);
        t.reg_set(Reg::Sp, sp);
        t.reg_set(Reg::R15, 0x55);
        t.set_stack_limit(limit);
        assert_eq!(
            t.step(),
            StepResult::Fault { code: f, pc: 0 },
            "{sp:#x} {words}"
        );
        let code = match f {
            Fault::StackOverflow => HSX_ERR_STACK_OVERFLOW,
            _ => HSX_ERR_STACK_UNDERFLOW,
        };
        assert_eq!(t.reg_get(Reg::R0), code);
        assert_eq!(
            (t.sp(), t.pc(), t.steps(), t.reg_get(Reg::R15)),
            (sp, 0, 0, 0x55)
        );
    }
}

#[test]
fn ext1_opcodes_are_illegal_without_ext1() {
    let ext: Vec<Opcode> = ALL_OPCODES
        .iter()
        .copied()
        .filter(|o| o.isa_ext() == ISA_EXT1)
        .collect();
    assert_eq!(ext.len(), 8);
    for op in ext {
        let w = ins(op, 1, 2, 3, 1);
        let mut t = common::exec_task(&[w]);
        t.reg_set(Reg::R2, 0x40);
        t.reg_set(Reg::R3, 1);
        let before = (*t.regs(), t.sp(), t.psw(), t.call_depth());
        assert_eq!(
            t.step(),
            StepResult::Fault {
                code: Fault::IllegalOpcode,
                pc: 0
            },
            "{op:?}"
        );
        assert_eq!((t.pc(), t.steps()), (4, 1));
        assert_eq!((*t.regs(), t.sp(), t.psw(), t.call_depth()), before);
        // The same word executes once EXT1 is on.
        let mut t = ext_exec_task(&[w, 0, 0, 0]);
        t.reg_set(Reg::R2, 0x40);
        t.reg_set(Reg::R3, 1);
        assert_ne!(
            t.step(),
            StepResult::Fault {
                code: Fault::IllegalOpcode,
                pc: 0
            },
            "{op:?}"
        );
    }
}

#[test]
fn task_reports_and_changes_its_extension_bits() {
    let mut t = ext_task(&[encode_adjsp(-1).unwrap()]);
    assert_eq!(t.isa_ext(), ISA_EXT1);
    t.set_isa_ext(0);
    assert_eq!(t.isa_ext(), 0);
    assert!(matches!(
        t.step(),
        StepResult::Fault {
            code: Fault::IllegalOpcode,
            ..
        }
    ));
}

mod props {
    use hsx_vm::isa::{
        BCC_MAX_WORDS, BCC_MIN_WORDS, CALLL_MAX_WORDS, CALLL_MIN_WORDS, Cond, Instr, Opcode,
        bcc_cond, bcc_offset, calll_offset, encode_addi, encode_adjsp, encode_bcc, encode_calll,
        encode_setcc,
    };
    use proptest::prelude::*;

    fn cond() -> impl Strategy<Value = Cond> {
        (0u8..15).prop_map(|c| Cond::from_bits(c).unwrap())
    }

    proptest! {
        #[test]
        fn bcc_round_trips(c in cond(), off in BCC_MIN_WORDS..=BCC_MAX_WORDS, pc in any::<u32>()) {
            let w = encode_bcc(c, off).unwrap();
            prop_assert_eq!((bcc_cond(w), bcc_offset(w)), (c as u8, off));
            let i = Instr::decode(w).unwrap();
            prop_assert_eq!(i.op, Opcode::Bcc);
            prop_assert_eq!(i.cond(), Some(c));
            prop_assert_eq!(i.word_offset(), off);
            prop_assert_eq!(i.encode(), w);
            prop_assert_eq!(i.branch_target(pc), Some(pc.wrapping_add((off as u32).wrapping_mul(4))));
            let text = i.display(pc, None).to_string();
            let want = format!("{} {off} ;", c.branch_mnemonic());
            prop_assert!(text.starts_with(&want), "{}", text);
        }

        #[test]
        fn calll_round_trips(off in CALLL_MIN_WORDS..=CALLL_MAX_WORDS, pc in any::<u32>()) {
            let w = encode_calll(off).unwrap();
            prop_assert_eq!(calll_offset(w), off);
            let i = Instr::decode(w).unwrap();
            prop_assert_eq!((i.op, i.word_offset(), i.encode()), (Opcode::Calll, off, w));
            prop_assert_eq!(i.branch_target(pc), Some(pc.wrapping_add((off as u32).wrapping_mul(4))));
        }

        #[test]
        fn out_of_range_offsets_are_refused(off in any::<i32>()) {
            prop_assert_eq!(encode_bcc(Cond::Al, off).is_some(),
                            (BCC_MIN_WORDS..=BCC_MAX_WORDS).contains(&off));
            prop_assert_eq!(encode_calll(off).is_some(),
                            (CALLL_MIN_WORDS..=CALLL_MAX_WORDS).contains(&off));
            prop_assert_eq!(encode_adjsp(off).is_some(), (-2048..=2047).contains(&off));
            prop_assert_eq!(encode_addi(1, 2, off).is_some(), (-2048..=2047).contains(&off));
        }

        #[test]
        fn immediates_and_conditions_round_trip(c in cond(), rd in 0u8..16, ra in 0u8..16, imm in -2048i32..=2047) {
            let i = Instr::decode(encode_addi(rd, ra, imm).unwrap()).unwrap();
            prop_assert_eq!((i.op, i.rd, i.rs1, i.imm()), (Opcode::Addi, rd, ra, imm));
            let i = Instr::decode(encode_adjsp(imm).unwrap()).unwrap();
            prop_assert_eq!((i.op, i.imm()), (Opcode::Adjsp, imm));
            let i = Instr::decode(encode_setcc(c, rd)).unwrap();
            prop_assert_eq!((i.op, i.rd, i.cond()), (Opcode::Setcc, rd, Some(c)));
            prop_assert_eq!(i.mnemonic(), c.set_mnemonic());
        }
    }
}
