//! Instruction semantics and flags (`vm.md` §1.4-§1.7, §9 items 1-3, 5-9; `design.md` §4.5).

mod common;

use common::{T, exec_task, ins, task};
use hsx_vm::isa::Opcode::{self, *};
use hsx_vm::{
    FLAG_C, FLAG_N, FLAG_V, FLAG_Z, Fault, HSX_ERR_DIV_ZERO, HSX_ERR_MEM_FAULT,
    HSX_ERR_STACK_OVERFLOW, HSX_ERR_STACK_UNDERFLOW, Reg, StepResult,
};

const Z: u8 = FLAG_Z;
const C: u8 = FLAG_C;
const N: u8 = FLAG_N;
const V: u8 = FLAG_V;

/// Run `op R3, R1, R2` with R1 = a, R2 = b and the given PSW; return (R3, PSW).
fn alu(op: Opcode, a: u32, b: u32, psw: u8) -> (u32, u8) {
    let mut t = task(&[ins(op, 3, 1, 2, 0)]);
    t.reg_set(Reg::R1, a);
    t.reg_set(Reg::R2, b);
    t.reg_set(Reg::R3, 0xDEAD_BEEF);
    t.reg_set(Reg::Psw, u32::from(psw));
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.pc(), 4);
    assert_eq!(t.steps(), 1);
    (t.reg_get(Reg::R3), t.psw())
}

/// Assert a fault with the reference's register effects: R0 = code, pc and steps unchanged.
fn assert_hsx_fault(t: &T, r: StepResult, f: Fault, pc: u32, steps: u64) {
    assert_eq!(r, StepResult::Fault { code: f, pc });
    assert_eq!(t.pc(), pc);
    assert_eq!(t.steps(), steps);
    assert_eq!(Some(t.reg_get(Reg::R0)), f.hsx_err());
}

// ---- §9 item 1: PSW ----

#[test]
fn add_flags() {
    assert_eq!(alu(Add, 0xFFFF_FFFF, 1, 0), (0, Z | C));
    assert_eq!(alu(Add, 0x4000_0000, 0x4000_0000, C), (0x8000_0000, N | V));
    assert_eq!(alu(Add, 0x8000_0000, 0x8000_0000, 0), (0, Z | C | V));
    assert_eq!(alu(Add, 2, 3, Z | C | N | V), (5, 0));
    assert_eq!(alu(Add, 0xFFFF_FFFF, 0xFFFF_FFFF, 0), (0xFFFF_FFFE, N | C));
}

#[test]
fn sub_flags() {
    assert_eq!(alu(Sub, 3, 5, 0), (0xFFFF_FFFE, N)); // borrow: C = 0
    assert_eq!(alu(Sub, 5, 3, 0), (2, C)); // no borrow: C = 1
    assert_eq!(alu(Sub, 7, 7, 0), (0, Z | C));
    assert_eq!(alu(Sub, 0x8000_0000, 1, 0), (0x7FFF_FFFF, C | V));
    assert_eq!(alu(Sub, 0x7FFF_FFFF, 0xFFFF_FFFF, 0), (0x8000_0000, N | V));
}

#[test]
fn cmp_sets_flags_and_writes_no_register() {
    for (a, b, want) in [(7, 7, Z | C), (3, 5, N), (5, 3, C), (0x8000_0000, 1, C | V)] {
        // rd field deliberately non-zero: CMP must not write it.
        let mut t = task(&[ins(Cmp, 3, 1, 2, 0)]);
        t.reg_set(Reg::R1, a);
        t.reg_set(Reg::R2, b);
        t.reg_set(Reg::R3, 0x1234);
        assert_eq!(t.step(), StepResult::Ok);
        assert_eq!(t.psw(), want, "{a:#x} {b:#x}");
        assert_eq!(t.reg_get(Reg::R3), 0x1234);
        assert_eq!(&t.regs()[..3], &[0, a, b]);
    }
}

#[test]
fn mul_flags_from_unsigned_product() {
    assert_eq!(alu(Mul, 6, 7, C | V), (42, 0));
    assert_eq!(alu(Mul, 0xFFFF_FFFF, 0xFFFF_FFFF, 0), (1, C | V)); // (−1)×(−1)
    assert_eq!(alu(Mul, 0x1_0000, 0x1_0000, 0), (0, Z | C | V));
    assert_eq!(alu(Mul, 0x8000, 0x1_0000, 0), (0x8000_0000, N));
}

#[test]
fn logic_ops_clear_c_and_v() {
    assert_eq!(alu(And, 0xF0F0, 0x0FF0, C | V), (0x00F0, 0));
    assert_eq!(alu(And, 0xF0, 0x0F, C | V), (0, Z));
    assert_eq!(alu(Or, 0x8000_0000, 1, C | V), (0x8000_0001, N));
    assert_eq!(alu(Xor, 0x55, 0x55, C | V), (0, Z));
    assert_eq!(alu(Not, 0, 0, C | V), (0xFFFF_FFFF, N));
    assert_eq!(alu(Not, 0xFFFF_FFFF, 0, C | V), (0, Z));
}

#[test]
fn adc_uses_carry_in() {
    assert_eq!(alu(Adc, 1, 1, 0), (2, 0));
    assert_eq!(alu(Adc, 1, 1, C), (3, 0));
    assert_eq!(alu(Adc, 0xFFFF_FFFF, 0, C), (0, Z | C));
    assert_eq!(alu(Adc, 0xFFFF_FFFF, 0xFFFF_FFFF, C), (0xFFFF_FFFF, N | C));
    assert_eq!(alu(Adc, 0x7FFF_FFFF, 1, 0), (0x8000_0000, N | V));
    assert_eq!(alu(Adc, 0x7FFF_FFFF, 0, C), (0x8000_0000, N | V));
    assert_eq!(alu(Adc, 0x8000_0000, 0xFFFF_FFFF, 0), (0x7FFF_FFFF, C | V));
}

/// `design.md` §4.5: V is the true signed overflow. The reference folds B + cin to
/// 0x80000000 first and reports V = 0 here.
#[test]
fn adc_true_overflow_b_7fffffff_with_carry() {
    assert_eq!(alu(Adc, 0, 0x7FFF_FFFF, C), (0x8000_0000, N | V));
    // 0xFFFFFFFF + 0x7FFFFFFF + 1 = 0x7FFFFFFF (−1 + MAX + 1 = MAX): no overflow.
    assert_eq!(alu(Adc, 0xFFFF_FFFF, 0x7FFF_FFFF, C), (0x7FFF_FFFF, C));
}

#[test]
fn sbc_uses_borrow_in() {
    assert_eq!(alu(Sbc, 5, 3, C), (2, C)); // C = 1: no borrow-in
    assert_eq!(alu(Sbc, 5, 3, 0), (1, C)); // C = 0: borrow-in
    assert_eq!(alu(Sbc, 0, 0, 0), (0xFFFF_FFFF, N)); // borrow out: C = 0
    assert_eq!(alu(Sbc, 3, 3, C), (0, Z | C));
    assert_eq!(alu(Sbc, 0x8000_0000, 0, 0), (0x7FFF_FFFF, C | V));
    assert_eq!(alu(Sbc, 0x8000_0000, 1, C), (0x7FFF_FFFF, C | V));
    assert_eq!(alu(Sbc, 0, 0xFFFF_FFFF, 0), (0, Z)); // 0 − 0xFFFFFFFF − 1 < 0
}

/// `design.md` §4.5: true signed overflow for SBC. 0 − 0x7FFFFFFF − 1 = i32::MIN exactly,
/// so V = 0 (the reference reports V = 1).
#[test]
fn sbc_true_overflow_b_7fffffff_with_borrow() {
    assert_eq!(alu(Sbc, 0, 0x7FFF_FFFF, 0), (0x8000_0000, N));
    assert_eq!(alu(Sbc, 1, 0x7FFF_FFFF, 0), (0x8000_0001, N));
    assert_eq!(alu(Sbc, 0xFFFF_FFFF, 0x7FFF_FFFF, 0), (0x7FFF_FFFF, C | V));
}

// ---- §9 item 2: shifts ----

#[test]
fn shift_counts_masked_to_five_bits() {
    assert_eq!(alu(Lsl, 0x8000_0001, 1, 0), (2, C));
    assert_eq!(alu(Lsl, 0x8000_0001, 33, 0), (2, C)); // 33 → 1
    assert_eq!(alu(Lsl, 0x1234, 32, 0), (0x1234, 0)); // 32 → no shift
    assert_eq!(alu(Lsl, 2, 31, 0), (0, Z | C)); // C = bit 1 (last shifted out)
    assert_eq!(alu(Lsl, 1, 31, 0), (0x8000_0000, N));
    assert_eq!(alu(Lsr, 3, 1, 0), (1, C));
    assert_eq!(alu(Lsr, 1, 1, 0), (0, Z | C));
    assert_eq!(alu(Lsr, 0x8000_0000, 31, C), (1, 0));
    assert_eq!(alu(Lsr, 0x8000_0000, 0x20, 0), (0x8000_0000, N));
}

#[test]
fn asr_keeps_sign() {
    assert_eq!(alu(Asr, 0x8000_0000, 4, 0), (0xF800_0000, N));
    assert_eq!(alu(Asr, 0xFFFF_FFF8, 3, 0), (0xFFFF_FFFF, N)); // bit 2 = 0 → C = 0
    assert_eq!(alu(Asr, 0xFFFF_FFFC, 3, 0), (0xFFFF_FFFF, N | C));
    assert_eq!(alu(Asr, 0x4000_0000, 31, 0), (0, Z | C)); // C = bit 30
    assert_eq!(alu(Asr, 0x2000_0000, 31, 0), (0, Z));
    assert_eq!(alu(Asr, 0x7FFF_FFFF, 1, 0), (0x3FFF_FFFF, C));
}

#[test]
fn shift_by_zero_keeps_c_clears_v_recomputes_z_n() {
    for op in [Lsl, Lsr, Asr] {
        assert_eq!(alu(op, 0x8000_0000, 0, C | V | Z), (0x8000_0000, C | N));
        assert_eq!(alu(op, 0, 32, V | N), (0, Z));
        assert_eq!(alu(op, 5, 64, C), (5, C));
    }
}

// ---- §9 item 3: DIV ----

#[test]
fn div_truncates_toward_zero() {
    let m = |x: i32| x as u32;
    assert_eq!(alu(Div, m(-7), 2, C | V), (m(-3), N));
    assert_eq!(alu(Div, m(-7), m(-3), 0), (2, 0));
    assert_eq!(alu(Div, 7, m(-2), 0), (m(-3), N));
    assert_eq!(alu(Div, 3, 5, C | V), (0, Z));
    assert_eq!(alu(Div, 0x8000_0000, m(-1), 0), (0x8000_0000, N));
}

#[test]
fn div_by_zero_faults_with_r0_code() {
    let mut t = task(&[ins(Ldi, 1, 0, 0, 7), ins(Div, 3, 1, 2, 0)]);
    let (n, r) = t.run(10);
    assert_eq!(n, 1);
    assert_hsx_fault(&t, r, Fault::DivZero, 4, 1);
    assert_eq!(t.reg_get(Reg::R0), HSX_ERR_DIV_ZERO);
    assert_eq!(t.reg_get(Reg::R3), 0);
}

// ---- loads, immediates, moves ----

#[test]
fn ldi_sign_extends_and_ldi32_loads_second_word() {
    let mut t = task(&[
        ins(Ldi, 1, 0, 0, 5),
        ins(Ldi, 2, 0, 0, -1),
        ins(Ldi, 3, 0, 0, -2048),
        ins(Ldi32, 9, 0, 0, 0),
        0xDEAD_BEEF,
        ins(Mov, 4, 9, 0, 0),
    ]);
    t.reg_set(Reg::Psw, 0xF);
    assert_eq!(t.run(5), (5, StepResult::Ok));
    assert_eq!(&t.regs()[1..5], &[5, 0xFFFF_FFFF, 0xFFFF_F800, 0xDEAD_BEEF]);
    assert_eq!(t.reg_get(Reg::R9), 0xDEAD_BEEF);
    assert_eq!(t.pc(), 0x18);
    assert_eq!(t.psw(), 0xF, "LDI/LDI32/MOV leave flags alone");
}

#[test]
fn ldi32_overrunning_code_faults_without_effect() {
    let mut t = task(&[ins(Ldi, 1, 0, 0, 1), ins(Ldi32, 2, 0, 0, 0)]);
    let (n, r) = t.run(10);
    assert_eq!(n, 1);
    assert_eq!(
        r,
        StepResult::Fault {
            code: Fault::Ldi32Overrun,
            pc: 4
        }
    );
    assert_eq!((t.pc(), t.steps(), t.reg_get(Reg::R0)), (4, 1, 0));
}

// ---- §9 items 8, 9: memory bounds and alignment ----

#[test]
fn loads_and_stores_little_endian_zero_extended() {
    let mut t = task(&[
        ins(Ldi32, 1, 0, 0, 0),
        0x8000_F0FF,
        ins(Ldi32, 2, 0, 0, 0),
        0x2000,
        ins(St, 0, 2, 1, 0),
        ins(Ld, 3, 2, 0, 0),
        ins(Ldb, 4, 2, 0, 0),
        ins(Ldh, 5, 2, 0, 2),
        ins(Stb, 0, 2, 1, 8),
        ins(Sth, 0, 2, 1, 12),
        ins(Ld, 6, 2, 0, 8),
        ins(Ld, 7, 2, 0, 12),
    ]);
    assert_eq!(t.run(10), (10, StepResult::Ok));
    assert_eq!(t.reg_get(Reg::R3), 0x8000_F0FF);
    assert_eq!(t.reg_get(Reg::R4), 0xFF); // LDB zero-extends
    assert_eq!(t.reg_get(Reg::R5), 0x8000); // LDH zero-extends
    assert_eq!(t.reg_get(Reg::R6), 0xFF);
    assert_eq!(t.reg_get(Reg::R7), 0xF0FF);
    let mut buf = [0u8; 4];
    t.read_mem(0x2000, &mut buf);
    assert_eq!(buf, [0xFF, 0xF0, 0x00, 0x80]);
}

#[test]
fn unaligned_little_endian_access() {
    let mut t = task(&[
        ins(Ldi32, 1, 0, 0, 0),
        0x2000,
        ins(Ld, 2, 1, 0, 1),
        ins(Ldh, 3, 1, 0, 2),
        ins(St, 0, 1, 2, 0x11),
        ins(Ld, 4, 1, 0, 0x11),
    ]);
    t.write_mem(0x2000, &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);
    assert_eq!(t.run(5), (5, StepResult::Ok));
    assert_eq!(t.reg_get(Reg::R2), 0x5544_3322);
    assert_eq!(t.reg_get(Reg::R3), 0x4433);
    assert_eq!(t.reg_get(Reg::R4), 0x5544_3322);
}

#[test]
fn access_past_ffff_faults_mem_fault() {
    // (op, base, offset) that must fault: last byte beyond 0xFFFF.
    let cases = [
        (ins(Ld, 2, 1, 0, 0), 0xFFFE),
        (ins(Ld, 2, 1, 0, 0), 0xFFFD),
        (ins(Ldh, 2, 1, 0, 0), 0xFFFF),
        (ins(St, 0, 1, 2, 0), 0xFFFF),
        (ins(Sth, 0, 1, 2, 0), 0xFFFF),
        (ins(St, 0, 1, 2, 2), 0xFFFC),
    ];
    for (w, base) in cases {
        let mut t = task(&[w]);
        t.reg_set(Reg::R1, base);
        t.reg_set(Reg::R2, 0x55);
        let r = t.step();
        assert_hsx_fault(&t, r, Fault::MemFault, 0, 0);
        assert_eq!(t.reg_get(Reg::R0), HSX_ERR_MEM_FAULT);
    }
    // Last byte exactly at 0xFFFF is fine.
    for (w, base) in [
        (ins(Ld, 2, 1, 0, 0), 0xFFFC),
        (ins(Ldh, 2, 1, 0, 0), 0xFFFE),
        (ins(Ldb, 2, 1, 0, 0), 0xFFFF),
        (ins(Stb, 0, 1, 2, 0), 0xFFFF),
    ] {
        let mut t = task(&[w]);
        t.reg_set(Reg::R1, base);
        assert_eq!(t.step(), StepResult::Ok);
    }
}

#[test]
fn effective_address_wraps_at_64k() {
    let mut t = task(&[
        ins(Ld, 2, 1, 0, 0),
        ins(Ld, 3, 0, 0, -4),
        ins(St, 0, 4, 5, 4),
    ]);
    t.write_mem(0x4000, &0xCAFE_F00Du32.to_le_bytes());
    t.write_mem(0xFFFC, &0x0BAD_BEEFu32.to_le_bytes());
    t.reg_set(Reg::R1, 0x1_4000); // 0x14000 reads 0x4000
    t.reg_set(Reg::R4, 0xFFFF_FFFC); // −4 + 4 = 0
    t.reg_set(Reg::R5, 0x0102_0304);
    assert_eq!(t.run(3), (3, StepResult::Ok));
    assert_eq!(t.reg_get(Reg::R2), 0xCAFE_F00D);
    assert_eq!(t.reg_get(Reg::R3), 0x0BAD_BEEF); // 0 + (−4) → 0xFFFC
    let mut b = [0; 4];
    t.read_mem(0, &mut b);
    assert_eq!(u32::from_le_bytes(b), 0x0102_0304);
}

// ---- §9 item 4 (VM part): jumps are absolute unsigned ----

#[test]
fn jumps_use_unsigned_absolute_immediate() {
    let mut words = vec![0u32; 0xA20 / 4];
    words[0] = ins(Jmp, 0, 0, 0, 0xA10);
    words[0xA10 / 4] = ins(Ldi, 1, 0, 0, 1);
    let mut t = task(&words);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.pc(), 0xA10);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.reg_get(Reg::R1), 1);
}

#[test]
fn jz_jnz_follow_z() {
    for (psw, op, taken) in [
        (Z, Jz, true),
        (0, Jz, false),
        (Z, Jnz, false),
        (0, Jnz, true),
        (Z | C | N | V, Jz, true),
        (C | N | V, Jnz, true),
    ] {
        let mut t = task(&[ins(op, 0, 0, 0, 0x40)]);
        t.reg_set(Reg::Psw, u32::from(psw));
        assert_eq!(t.step(), StepResult::Ok);
        assert_eq!(t.pc(), if taken { 0x40 } else { 4 });
        assert_eq!(t.psw(), psw);
        assert_eq!(t.steps(), 1);
    }
}

// ---- §9 items 5, 6: CALL / RET ----

#[test]
fn call_is_pc_relative_words_and_ret_unwinds() {
    // 0x00: CALL +3 (→ 0x0C)        0x04: LDI R1, 1   0x08: BRK
    // 0x0C: CALL +2 (→ 0x14)        0x10: RET
    // 0x14: LDI R2, 2               0x18: RET
    let mut t = task(&[
        ins(Call, 0, 0, 0, 3),
        ins(Ldi, 1, 0, 0, 1),
        ins(Brk, 0, 0, 0, 0),
        ins(Call, 0, 0, 0, 2),
        ins(Ret, 0, 0, 0, 0),
        ins(Ldi, 2, 0, 0, 2),
        ins(Ret, 0, 0, 0, 0),
    ]);
    t.reg_set(Reg::Psw, 0xF);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!((t.pc(), t.sp(), t.call_depth()), (0x0C, 0x7FFC, 1));
    assert_eq!(t.reg_get(Reg::R15), 0x7FFC);
    let mut b = [0; 4];
    t.read_mem(0x7FFC, &mut b);
    assert_eq!(u32::from_le_bytes(b), 4, "return address pushed LE");
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!((t.pc(), t.sp(), t.call_depth()), (0x14, 0x7FF8, 2));
    let (n, r) = t.run(100);
    assert_eq!(r, StepResult::Break { code: 0 });
    assert_eq!(n, 5); // LDI, RET, RET, LDI, BRK
    assert_eq!((t.reg_get(Reg::R1), t.reg_get(Reg::R2)), (1, 2));
    assert_eq!(
        (t.sp(), t.reg_get(Reg::R15), t.call_depth()),
        (0x8000, 0x8000, 0)
    );
    assert_eq!(t.psw(), 0xF);
}

#[test]
fn backward_call_and_register_base() {
    // 0x00: JMP 0x0C   0x04: LDI R1, 7   0x08: RET   0x0C: CALL −2 (→ 0x04)   0x10: BRK
    let mut t = task(&[
        ins(Jmp, 0, 0, 0, 0x0C),
        ins(Ldi, 1, 0, 0, 7),
        ins(Ret, 0, 0, 0, 0),
        ins(Call, 0, 0, 0, -2),
        ins(Brk, 0, 0, 0, 1),
    ]);
    assert_eq!(t.run(100), (5, StepResult::Break { code: 1 }));
    assert_eq!(t.reg_get(Reg::R1), 7);
    assert_eq!(t.pc(), 0x14);
    // CALL with rs1 ≠ 0: target = R[rs1] + imm·4.
    let mut t = task(&[ins(Call, 0, 5, 0, 1), 0, 0, 0, ins(Brk, 0, 0, 0, 0)]);
    t.reg_set(Reg::R5, 0x0C);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.pc(), 0x10);
    // Target wraps mod 2^16.
    let mut t = task(&[ins(Call, 0, 5, 0, 0)]);
    t.reg_set(Reg::R5, 0x1_0008);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.pc(), 8);
}

#[test]
fn ret_uses_the_return_address_in_memory() {
    // Callee overwrites its return slot with 0x10.
    // 0x00: CALL +2 (→0x08)  0x04: BRK 1  0x08: ST [R15+0], R9  0x0C: RET  0x10: BRK 2
    let mut t = task(&[
        ins(Call, 0, 0, 0, 2),
        ins(Brk, 0, 0, 0, 1),
        ins(St, 0, 15, 9, 0),
        ins(Ret, 0, 0, 0, 0),
        ins(Brk, 0, 0, 0, 2),
    ]);
    t.reg_set(Reg::R9, 0x10);
    assert_eq!(t.run(100).1, StepResult::Break { code: 2 });
    assert_eq!(t.call_depth(), 0);
}

#[test]
fn ret_at_depth_zero_exits_with_r0() {
    let mut t = task(&[ins(Ldi, 0, 0, 0, 42), ins(Ret, 0, 0, 0, 0)]);
    let (n, r) = t.run(10);
    assert_eq!((n, r), (1, StepResult::Exit { status: 42 }));
    assert_eq!((t.pc(), t.steps(), t.reg_get(Reg::R0)), (4, 1, 42));
    // Calling again exits again; nothing moves.
    assert_eq!(t.run(10), (0, StepResult::Exit { status: 42 }));
    assert_eq!((t.pc(), t.steps(), t.sp()), (4, 1, 0x8000));
}

#[test]
fn unbounded_recursion_overflows_standalone_stack() {
    let mut t = task(&[ins(Call, 0, 0, 0, 0)]); // CALL self
    let (n, r) = t.run(100_000);
    assert_eq!(n, 8192); // 0x8000 / 4 pushes reach sp 0
    assert_hsx_fault(&t, r, Fault::StackOverflow, 0, 8192);
    assert_eq!(t.sp(), 0);
    assert_eq!(t.reg_get(Reg::R0), HSX_ERR_STACK_OVERFLOW);
}

// ---- §9 item 7: stack guard ----

#[test]
fn push_below_stack_limit_overflows() {
    let mut t = exec_task(&[ins(Push, 0, 3, 0, 0), ins(Jmp, 0, 0, 0, 0)]);
    t.reg_set(Reg::R3, 0x1234_5678);
    assert_eq!((t.sp(), t.stack_limit()), (0xFFFC, 0xEFFC));
    let (n, r) = t.run(10_000);
    assert_eq!(n, 2 * 1024); // 1024 pushes fit (0xFFF8 … 0xEFFC)
    assert_hsx_fault(&t, r, Fault::StackOverflow, 0, 2048);
    assert_eq!((t.sp(), t.reg_get(Reg::R15)), (0xEFFC, 0xEFFC));
    let mut b = [0; 4];
    t.read_mem(0xEFFC, &mut b);
    assert_eq!(u32::from_le_bytes(b), 0x1234_5678);
}

#[test]
fn push_pop_mirror_sp_into_r15() {
    let mut t = exec_task(&[
        ins(Push, 0, 15, 0, 0), // pushes the *old* R15 (0)
        ins(Push, 0, 3, 0, 0),
        ins(Pop, 4, 0, 0, 0),
        ins(Pop, 15, 0, 0, 0), // POP R15 leaves the popped value in R15
    ]);
    t.reg_set(Reg::R3, 77);
    t.reg_set(Reg::Psw, 0xF);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!((t.sp(), t.reg_get(Reg::R15)), (0xFFF8, 0xFFF8));
    assert_eq!(t.run(3), (3, StepResult::Ok));
    assert_eq!(t.reg_get(Reg::R4), 77);
    assert_eq!(t.sp(), 0xFFFC);
    assert_eq!(t.reg_get(Reg::R15), 0);
    assert_eq!(t.psw(), 0xF);
}

#[test]
fn writing_r15_does_not_move_sp_and_sp_does_not_touch_r15() {
    let mut t = exec_task(&[ins(Mov, 15, 1, 0, 0), ins(Push, 0, 1, 0, 0)]);
    t.reg_set(Reg::R1, 0x100);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!((t.reg_get(Reg::R15), t.sp()), (0x100, 0xFFFC));
    t.reg_set(Reg::Sp, 0xF800);
    assert_eq!(t.reg_get(Reg::R15), 0x100);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!((t.reg_get(Reg::R15), t.sp()), (0xF7FC, 0xF7FC));
}

#[test]
fn pop_and_ret_underflow_and_overrun() {
    // POP with sp ≥ 0x10000 → STACK_UNDERFLOW.
    let mut t = exec_task(&[ins(Pop, 1, 0, 0, 0)]);
    t.reg_set(Reg::Sp, 0x1_0000);
    let r = t.step();
    assert_hsx_fault(&t, r, Fault::StackUnderflow, 0, 0);
    assert_eq!(t.reg_get(Reg::R0), HSX_ERR_STACK_UNDERFLOW);
    assert_eq!(t.sp(), 0x1_0000);
    // POP with sp in 0xFFFD..0xFFFF → MEM_FAULT.
    let mut t = exec_task(&[ins(Pop, 1, 0, 0, 0)]);
    t.reg_set(Reg::Sp, 0xFFFE);
    let r = t.step();
    assert_hsx_fault(&t, r, Fault::MemFault, 0, 0);
    // POP reads above the task's stack top without complaint.
    let mut t = exec_task(&[ins(Pop, 1, 0, 0, 0)]);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.sp(), 0x1_0000);
    // RET (depth > 0) with sp ≥ 0x10000 → STACK_UNDERFLOW; at 0xFFFE → MEM_FAULT.
    for (sp, f) in [(0x1_0000, Fault::StackUnderflow), (0xFFFE, Fault::MemFault)] {
        let mut t = exec_task(&[ins(Ret, 0, 0, 0, 0)]);
        t.set_call_depth(1);
        t.reg_set(Reg::Sp, sp);
        let r = t.step();
        assert_hsx_fault(&t, r, f, 0, 0);
        assert_eq!(t.call_depth(), 1);
    }
}

#[test]
fn call_and_push_overflow_edges() {
    for sp in [0u32, 3, 0x1_0001, 0xFFFF_FFFF] {
        for w in [ins(Call, 0, 0, 0, 1), ins(Push, 0, 1, 0, 0)] {
            let mut t = task(&[w]);
            t.reg_set(Reg::Sp, sp);
            let r = t.step();
            assert_hsx_fault(&t, r, Fault::StackOverflow, 0, 0);
            assert_eq!(t.sp(), sp);
            assert_eq!(t.call_depth(), 0);
        }
    }
    // sp = 0x10000 is a legal starting point (new = 0xFFFC).
    let mut t = task(&[ins(Push, 0, 1, 0, 0)]);
    t.reg_set(Reg::Sp, 0x1_0000);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.sp(), 0xFFFC);
    // Exactly at the limit is legal; one more word is not.
    let mut t = exec_task(&[ins(Push, 0, 1, 0, 0)]);
    t.set_stack_limit(0xFFF8);
    assert_eq!(t.step(), StepResult::Ok);
    t.reg_set(Reg::Pc, 0);
    let r = t.step();
    assert_hsx_fault(&t, r, Fault::StackOverflow, 0, 1);
}

// ---- §1.7: other stops ----

#[test]
fn svc_is_handed_over_after_retiring() {
    let mut t = task(&[
        ins(Ldi, 1, 0, 0, 1),
        ins(Svc, 0, 0, 0, 0x502),
        ins(Ldi, 2, 0, 0, 2),
    ]);
    let (n, r) = t.run(100);
    assert_eq!((n, r), (2, StepResult::Svc { module: 5, func: 2 }));
    assert_eq!(t.pc(), 8);
    assert_eq!(t.steps(), 2); // CORE_GET_STEPS would answer steps() − 1 = 1
    t.reg_set(Reg::R0, 0);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.reg_get(Reg::R2), 2);
}

#[test]
fn brk_retires_and_reports_code() {
    let mut t = task(&[ins(Brk, 0, 0, 0, 0xFF)]);
    assert_eq!(t.run(5), (1, StepResult::Break { code: 0xFF }));
    assert_eq!((t.pc(), t.steps()), (4, 1));
}

#[test]
fn illegal_opcode_advances_pc_and_counts_the_step() {
    for w in [0u32, 0x0500_0000, 0xFF12_3456, 0x5600_0000] {
        let mut t = task(&[ins(Ldi, 1, 0, 0, 1), w]);
        t.reg_set(Reg::R0, 9);
        let (n, r) = t.run(10);
        assert_eq!(
            r,
            StepResult::Fault {
                code: Fault::IllegalOpcode,
                pc: 4
            }
        );
        assert_eq!((n, t.pc(), t.steps(), t.reg_get(Reg::R0)), (2, 8, 2, 9));
    }
}

#[test]
fn pc_out_of_range_faults_without_effect() {
    let mut t = task(&[ins(Ldi, 1, 0, 0, 1)]);
    let (n, r) = t.run(10);
    assert_eq!(n, 1);
    assert_eq!(
        r,
        StepResult::Fault {
            code: Fault::PcOutOfRange,
            pc: 4
        }
    );
    assert_eq!((t.pc(), t.steps()), (4, 1));
    // Unaligned pc fetches across words; the last partial position is out of range.
    let mut t = task(&[0x0001_1000, 0x0500_0000]); // bytes 00 01 10 00 05 00 00 00
    t.reg_set(Reg::Pc, 1); // word 0x01100005 = LDI R1, 5
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!((t.reg_get(Reg::R1), t.pc()), (5, 5));
    assert_eq!(
        t.step(),
        StepResult::Fault {
            code: Fault::PcOutOfRange,
            pc: 5
        }
    );
    t.reg_set(Reg::Pc, u32::MAX);
    assert_eq!(
        t.step(),
        StepResult::Fault {
            code: Fault::PcOutOfRange,
            pc: u32::MAX
        }
    );
}

#[test]
fn run_zero_and_run_bounded() {
    let mut t = task(&[ins(Jmp, 0, 0, 0, 0)]);
    assert_eq!(t.run(0), (0, StepResult::Ok));
    assert_eq!(t.run(1000), (1000, StepResult::Ok));
    assert_eq!(t.steps(), 1000);
}

#[test]
fn fault_names_and_codes() {
    let all = [
        (Fault::DivZero, "DIV_ZERO", Some(0xFFFF_FF05)),
        (Fault::MemFault, "MEM_FAULT", Some(0xFFFF_FF04)),
        (Fault::StackOverflow, "STACK_OVERFLOW", Some(0xFFFF_FF03)),
        (Fault::StackUnderflow, "STACK_UNDERFLOW", Some(0xFFFF_FF02)),
        (Fault::IllegalOpcode, "ILLEGAL_OPCODE", None),
        (Fault::PcOutOfRange, "PC_OUT_OF_RANGE", None),
        (Fault::Ldi32Overrun, "LDI32_OVERRUN", None),
        (Fault::NoTask, "NO_TASK", None),
    ];
    for (f, name, code) in all {
        assert_eq!(f.name(), name);
        assert_eq!(f.to_string(), name);
        assert_eq!(f.hsx_err(), code);
    }
}

#[test]
fn non_flag_ops_leave_psw_alone() {
    let words = [
        ins(Ldi, 1, 0, 0, 0),
        ins(Ldi32, 2, 0, 0, 0),
        0,
        ins(Mov, 3, 0, 0, 0),
        ins(St, 0, 4, 0, 0),
        ins(Ld, 5, 4, 0, 0),
        ins(Stb, 0, 4, 0, 0),
        ins(Ldb, 5, 4, 0, 0),
        ins(Sth, 0, 4, 0, 0),
        ins(Ldh, 5, 4, 0, 0),
        ins(Push, 0, 0, 0, 0),
        ins(Pop, 6, 0, 0, 0),
        ins(Fadd, 7, 0, 0, 0),
        ins(Fsub, 7, 0, 0, 0),
        ins(Fmul, 7, 0, 0, 0),
        ins(Fdiv, 7, 0, 0, 0),
        ins(I2f, 7, 0, 0, 0),
        ins(F2i, 7, 0, 0, 0),
        ins(Call, 0, 0, 0, 1),
        ins(Jmp, 0, 0, 0, 0x50),
        ins(Svc, 0, 0, 0, 0x100),
    ];
    for psw in [0u8, Z, C, N, V, Z | C | N | V, C | V] {
        let mut t = task(&words);
        t.reg_set(Reg::R4, 0x3000);
        t.reg_set(Reg::Psw, u32::from(psw));
        let (n, r) = t.run(100);
        assert_eq!(r, StepResult::Svc { module: 1, func: 0 });
        assert_eq!(n, 20);
        assert_eq!(t.psw(), psw);
    }
}
