//! Property test: the VM gives identical results on flat and segmented memory for programs
//! that stay inside their segments, and a program that leaves them gets a `MEM_FAULT` at
//! exactly the access that is unmapped.

use hsx_vm::isa::ALL_OPCODES;
use hsx_vm::{
    Fault, FlatMem, HSX_ERR_MEM_FAULT, MEM_SIZE, Reg, SegLayout, SegMem, StepResult, Task,
    TaskConfig, WordCode,
};
use proptest::prelude::*;

type Flat = Task<WordCode<Vec<u32>>, FlatMem<Box<[u8; MEM_SIZE]>>>;
type Seg = Task<WordCode<Vec<u32>>, SegMem<Vec<u8>>>;

/// Memory and stack opcodes weighted up, with register-relative addressing that mostly
/// lands near the segment edges.
fn word() -> impl Strategy<Value = u32> {
    let mem_ops = prop::sample::select(vec![0x02u32, 0x03, 0x06, 0x07, 0x08, 0x09, 0x40, 0x41]);
    prop_oneof![
        3 => (mem_ops, 0u32..16, 0u32..16, 0u32..16, prop_oneof![0u32..16, 0xFF0u32..0x1000])
            .prop_map(|(op, rd, rs1, rs2, imm)| (op << 24) | (rd << 20) | (rs1 << 16) | (rs2 << 12) | imm),
        2 => (0..ALL_OPCODES.len(), 0u32..0x100_0000)
            .prop_map(|(i, rest)| (u32::from(ALL_OPCODES[i] as u8) << 24) | rest),
    ]
}

fn regs(data_len: u32, stack_len: u32) -> impl Strategy<Value = [u32; 16]> {
    let stack_base = 0xFFFC - stack_len;
    prop::array::uniform16(prop_oneof![
        0x4000u32..0x4000 + data_len + 8,
        (stack_base - 8)..0x1_0000,
        0u32..0x20,
        0x3FF0u32..0x4000,
        any::<u32>(),
    ])
}

fn case() -> impl Strategy<Value = (Vec<u32>, u32, u32, [u32; 16])> {
    (16u32..0x200, 16u32..0x200).prop_flat_map(|(d, s)| {
        let (d, s) = (d & !3, s & !3);
        (
            prop::collection::vec(word(), 1..40),
            Just(d),
            Just(s),
            regs(d, s),
        )
    })
}

fn flat(words: &[u32], rodata: &[u8], stack: u32, r: &[u32; 16]) -> Flat {
    let mem: Box<[u8; MEM_SIZE]> = vec![0u8; MEM_SIZE].into_boxed_slice().try_into().unwrap();
    let mut t = Task::new(
        WordCode(words.to_vec()),
        FlatMem(mem),
        rodata,
        TaskConfig::executive(0, stack),
    );
    for (i, v) in r.iter().enumerate() {
        t.reg_set(Reg::gpr(i as u8), *v);
    }
    t
}

fn seg(words: &[u32], rodata: &[u8], l: SegLayout, stack: u32, r: &[u32; 16]) -> Seg {
    let mem = SegMem::new(vec![0u8; l.arena_len()], l).unwrap();
    let mut t = Task::new(
        WordCode(words.to_vec()),
        mem,
        rodata,
        TaskConfig::executive(0, stack),
    );
    for (i, v) in r.iter().enumerate() {
        t.reg_set(Reg::gpr(i as u8), *v);
    }
    t
}

fn mapped(l: &SegLayout, addr: u32, width: u32) -> bool {
    (0..width).all(|i| {
        let a = addr.wrapping_add(i);
        (l.data_base..l.data_base + l.data_len).contains(&a)
            || (l.stack_base..l.stack_base + l.stack_len).contains(&a)
    })
}

/// The data access the instruction at the task's pc is about to make, if any.
fn access(t: &Flat) -> Option<(u32, u32)> {
    let w = t.fetch(t.pc())?;
    let base = t.reg_get(Reg::gpr(((w >> 16) & 15) as u8));
    let ea = base.wrapping_add((((w << 20) as i32) >> 20) as u32) & 0xFFFF;
    match w >> 24 {
        0x02 | 0x03 => Some((ea, 4)),
        0x06 | 0x08 => Some((ea, 1)),
        0x07 | 0x09 => Some((ea, 2)),
        0x24 | 0x40 => Some((t.sp().wrapping_sub(4), 4)),
        0x25 if t.call_depth() > 0 => Some((t.sp(), 4)),
        0x41 => Some((t.sp(), 4)),
        _ => None,
    }
}

fn memory<C: hsx_vm::Code, M: hsx_vm::Memory>(t: &Task<C, M>) -> Vec<u8> {
    let mut m = vec![0; MEM_SIZE];
    t.read_mem(0, &mut m);
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn flat_and_segmented_agree_inside_the_segments((words, d, s, r) in case()) {
        let rodata = [0x5Au8; 16];
        let l = SegLayout::task(d, s);
        let mut a = flat(&words, &rodata, s, &r);
        let mut b = seg(&words, &rodata, l, s, &r);
        for _ in 0..200 {
            let next = access(&a);
            let ra = a.step();
            let rb = b.step();
            if ra != rb {
                // The only allowed difference: segmented faults on an unmapped access.
                let (addr, width) = next.expect("a diverging instruction accesses memory");
                prop_assert!(!mapped(&l, addr, width), "{addr:#x}/{width} is mapped");
                let mem_fault = matches!(rb, StepResult::Fault { code: Fault::MemFault, .. });
                prop_assert!(mem_fault, "segmented result {:?}", rb);
                prop_assert_eq!(b.reg_get(Reg::R0), HSX_ERR_MEM_FAULT);
                return Ok(());
            }
            prop_assert_eq!(a.regs(), b.regs());
            prop_assert_eq!((a.pc(), a.sp(), a.psw(), a.steps()), (b.pc(), b.sp(), b.psw(), b.steps()));
            if let Some((addr, width)) = next
                && ra == StepResult::Ok
            {
                prop_assert!(mapped(&l, addr, width), "unmapped {addr:#x} did not fault");
            }
            if matches!(ra, StepResult::Exit { .. } | StepResult::Fault { .. }) {
                break;
            }
        }
        prop_assert!(memory(&a) == memory(&b));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The flat layout of `SegMem` is indistinguishable from `FlatMem` for any program.
    #[test]
    fn flat_layout_segmem_equals_flatmem((words, _d, s, r) in case()) {
        let rodata = [0xA5u8; 24];
        let mut a = flat(&words, &rodata, s, &r);
        let mut b = seg(&words, &rodata, SegLayout::flat(), s, &r);
        for _ in 0..40 {
            let ra = a.run(7);
            prop_assert_eq!(ra, b.run(7));
            prop_assert_eq!(a.regs(), b.regs());
            if matches!(ra.1, StepResult::Exit { .. } | StepResult::Fault { .. }) {
                break;
            }
        }
        prop_assert!(memory(&a) == memory(&b));
    }
}
