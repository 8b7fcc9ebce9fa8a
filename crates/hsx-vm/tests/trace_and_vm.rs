//! Trace state (`vm.md` §7.1, §9 item 11), task creation, host memory access and the
//! multi-task `Vm` API.

mod common;

use common::{heap_mem, ins, task};
use hsx_vm::isa::Opcode::*;
use hsx_vm::{
    AccessKind, ArrayStore, Fault, FlatMem, MEM_SIZE, MemAccess, Memory, NoTask, Reg, StepResult,
    Task, TaskConfig, TaskStore, Vm, WordCode, empty_array_store,
};

fn bit(r: Reg) -> u32 {
    1 << r.index()
}

#[test]
fn no_trace_state_unless_enabled() {
    let mut t = task(&[ins(Ldi, 1, 0, 0, 1), ins(Ldi, 2, 0, 0, 2)]);
    assert!(!t.trace_enabled());
    t.step();
    assert_eq!(t.last_trace(), None);
    t.set_trace(true);
    t.step();
    assert_eq!(t.last_trace().map(|s| s.pc), Some(4));
}

#[test]
fn trace_records_pc_word_changed_registers() {
    let w = ins(Add, 3, 1, 2, 0);
    let mut t = task(&[w]);
    t.set_trace(true);
    t.reg_set(Reg::R1, 1);
    t.reg_set(Reg::R2, 2);
    assert_eq!(t.step(), StepResult::Ok);
    let s = *t.last_trace().expect("traced");
    assert_eq!((s.pc, s.word, s.word2, s.mem), (0, w, None, None));
    assert_eq!(s.changed, bit(Reg::R3) | bit(Reg::Pc)); // PSW stays 0 (3 is positive)
    assert!(s.reg_changed(Reg::R3) && !s.reg_changed(Reg::R1));
    // Post-execution values are the task's registers.
    assert_eq!(t.reg_get(Reg::R3), 3);
}

#[test]
fn trace_records_memory_accesses() {
    let mut t = task(&[
        ins(St, 0, 1, 2, 4),
        ins(Ldb, 3, 1, 0, 5),
        ins(Sth, 0, 1, 2, -1),
        ins(Ldh, 4, 1, 0, -1),
        ins(Stb, 0, 1, 2, 0),
        ins(Ld, 5, 1, 0, 4),
        ins(Ldb, 6, 7, 0, 1), // EA wraps: the recorded address is the 16-bit one
        ins(Push, 0, 2, 0, 0),
    ]);
    t.reg_set(Reg::R7, 0x1_2004);
    t.set_trace(true);
    t.reg_set(Reg::R1, 0x2000);
    t.reg_set(Reg::R2, 0xA1B2_C3D4);
    let acc = |kind, addr, width, value| {
        Some(MemAccess {
            kind,
            addr,
            width,
            value,
        })
    };
    let want = [
        acc(AccessKind::Write, 0x2004, 4, 0xA1B2_C3D4),
        acc(AccessKind::Read, 0x2005, 1, 0xC3),
        acc(AccessKind::Write, 0x1FFF, 2, 0xC3D4),
        acc(AccessKind::Read, 0x1FFF, 2, 0xC3D4),
        acc(AccessKind::Write, 0x2000, 1, 0xD4),
        acc(AccessKind::Read, 0x2004, 4, 0xA1B2_C3D4),
        acc(AccessKind::Read, 0x2005, 1, 0xC3),
        None, // stack operations are not recorded
    ];
    for (i, m) in want.into_iter().enumerate() {
        assert_eq!(t.step(), StepResult::Ok);
        let s = t.last_trace().expect("traced");
        assert_eq!(s.pc, 4 * i as u32);
        assert_eq!(s.mem, m, "instruction {i}");
    }
    let s = t.last_trace().expect("traced");
    assert_eq!(
        s.changed,
        bit(Reg::R15) | bit(Reg::Sp) | bit(Reg::Pc),
        "PUSH changes R15, SP, PC"
    );
}

#[test]
fn trace_records_ldi32_second_word_and_faults() {
    let mut t = task(&[ins(Ldi32, 7, 0, 0, 0), 0x1234_5678, ins(Div, 1, 1, 2, 0)]);
    t.set_trace(true);
    assert_eq!(t.step(), StepResult::Ok);
    let s = *t.last_trace().expect("traced");
    assert_eq!((s.pc, s.word2), (0, Some(0x1234_5678)));
    assert_eq!(s.changed, bit(Reg::R7) | bit(Reg::Pc));
    t.reg_set(Reg::R1, 5);
    assert_eq!(
        t.step(),
        StepResult::Fault {
            code: Fault::DivZero,
            pc: 8
        }
    );
    let s = *t.last_trace().expect("traced");
    assert_eq!(
        (s.pc, s.word, s.changed),
        (8, ins(Div, 1, 1, 2, 0), bit(Reg::R0))
    );
}

#[test]
fn traced_and_untraced_runs_agree() {
    let prog = [
        ins(Ldi32, 1, 0, 0, 0),
        1000,
        ins(Ldi, 2, 0, 0, 1),
        ins(Sub, 1, 1, 2, 0), // 0x0C
        ins(Push, 0, 1, 0, 0),
        ins(Pop, 3, 0, 0, 0),
        ins(Stb, 0, 1, 3, 0x100),
        ins(Jnz, 0, 0, 0, 0x0C),
        ins(Brk, 0, 0, 0, 9),
    ];
    let mut a = task(&prog);
    let mut b = task(&prog);
    b.set_trace(true);
    let ra = a.run(1_000_000);
    let rb = b.run(1_000_000);
    assert_eq!(ra, rb);
    assert_eq!(ra.1, StepResult::Break { code: 9 });
    assert_eq!(a.regs(), b.regs());
    assert_eq!(
        (a.pc(), a.sp(), a.psw(), a.steps()),
        (b.pc(), b.sp(), b.psw(), b.steps())
    );
    let (mut ma, mut mb) = (vec![0; MEM_SIZE], vec![0; MEM_SIZE]);
    a.read_mem(0, &mut ma);
    b.read_mem(0, &mut mb);
    assert!(ma == mb);
    assert_eq!(b.last_trace().map(|s| s.pc), Some(0x20));
}

#[test]
fn task_creation_places_rodata_and_clears_memory() {
    let mut mem = heap_mem();
    mem.bytes_mut().fill(0xAA);
    let ro: Vec<u8> = (0..0xD000u32).map(|i| (i % 251) as u8).collect();
    let t = Task::new(
        WordCode(vec![ins(Ret, 0, 0, 0, 0)]),
        mem,
        &ro,
        TaskConfig::executive(0, 0x1000),
    );
    assert_eq!(
        (t.pc(), t.sp(), t.stack_limit(), t.psw()),
        (0, 0xFFFC, 0xEFFC, 0)
    );
    assert_eq!((t.steps(), t.call_depth(), t.regs()), (0, 0, &[0; 16]));
    let mut buf = vec![0u8; MEM_SIZE];
    assert_eq!(t.read_mem(0, &mut buf), MEM_SIZE);
    assert!(buf[..0x4000].iter().all(|b| *b == 0));
    // Truncated at 0xFFFF: only 0xC000 bytes fit.
    assert_eq!(&buf[0x4000..], &ro[..0xC000]);
    let s = TaskConfig::standalone(8);
    assert_eq!((s.entry, s.sp, s.stack_limit), (8, 0x8000, 0));
}

#[test]
fn host_memory_access_masks_and_clips() {
    let mut t = task(&[0]);
    assert_eq!(t.write_mem(0x1_FFFE, &[1, 2, 3, 4]), 2);
    let mut buf = [9u8; 4];
    assert_eq!(t.read_mem(0xFFFE, &mut buf), 2);
    assert_eq!(buf, [1, 2, 9, 9]);
    assert_eq!(t.read_mem(0xFFFF_FFFF, &mut buf), 1);
    assert_eq!(buf[0], 2);
    let mut big = vec![0u8; 0x2_0000];
    assert_eq!(t.read_mem(0, &mut big), MEM_SIZE);
    assert_eq!(t.write_mem(0x10, &[]), 0);
}

type Small = Task<WordCode<Vec<u32>>, FlatMem<Box<[u8; MEM_SIZE]>>>;

fn counting_task(ro: &[u8]) -> Small {
    // 0x00: LDI32 R5, 0x4000; 0x08: LD R1, [R5+0]; 0x0C: ADD R2, R2, R1; 0x10: JMP 0x0C
    Task::new(
        WordCode(vec![
            ins(Ldi32, 5, 0, 0, 0),
            0x4000,
            ins(Ld, 1, 5, 0, 0),
            ins(Add, 2, 2, 1, 0),
            ins(Jmp, 0, 0, 0, 0x0C),
        ]),
        heap_mem(),
        ro,
        TaskConfig::executive(0, 0x1000),
    )
}

#[test]
fn vm_switches_contexts_without_copying_state() {
    let mut store: ArrayStore<_, _, 4> = empty_array_store();
    store[0] = Some(counting_task(&[1, 0, 0, 0]));
    store[2] = Some(counting_task(&[10, 0, 0, 0]));
    let mut vm = Vm::new(store);
    assert_eq!(vm.set_context(1), Err(NoTask(1)));
    assert_eq!(vm.set_context(9), Err(NoTask(9)));
    assert_eq!(vm.context(), 0);
    // Interleave single steps, quantum 1.
    for _ in 0..30 {
        for slot in [0, 2] {
            vm.set_context(slot).expect("occupied");
            assert_eq!(vm.step(), StepResult::Ok);
        }
    }
    assert_eq!(vm.task(0).map(|t| t.steps()), Some(30));
    vm.set_context(0).expect("occupied");
    assert_eq!(vm.reg_get(Reg::R2), 14); // 2 setup steps, then 14 × (ADD, JMP)
    vm.set_context(2).expect("occupied");
    assert_eq!(vm.steps(), 30);
    // Each slot saw its own rodata at 0x4000.
    let per = |vm: &Vm<ArrayStore<_, _, 4>>, s: usize| vm.task(s).map(|t| t.reg_get(Reg::R2));
    assert_eq!(per(&vm, 0).map(|v| v * 10), per(&vm, 2));
    // Memory of a slot can be read and written without switching.
    assert_eq!(vm.write_mem(0, 0x4000, &[5]), 1);
    let mut b = [0u8; 1];
    assert_eq!(vm.read_mem(2, 0x4000, &mut b), 1);
    assert_eq!(b, [10]);
    assert_eq!(vm.read_mem(1, 0, &mut b), 0);
    assert_eq!(vm.context(), 2);
    vm.reg_set(Reg::R9, 99);
    assert_eq!(vm.task(2).map(|t| t.reg_get(Reg::R9)), Some(99));
    assert_eq!(vm.task(0).map(|t| t.reg_get(Reg::R9)), Some(0));
    assert_eq!(vm.call_depth(), 0);
    // Emptying the selected slot: step reports NO_TASK, accessors are inert.
    vm.store_mut()[2] = None;
    assert_eq!(
        vm.run(5),
        (
            0,
            StepResult::Fault {
                code: Fault::NoTask,
                pc: 0
            }
        )
    );
    assert_eq!(vm.reg_get(Reg::R9), 0);
    assert!(vm.current().is_none());
}

#[test]
fn vm_run_is_bounded_and_counts() {
    let mut vm = Vm::new(counting_task(&[2]));
    assert_eq!(vm.run(1000), (1000, StepResult::Ok));
    assert_eq!(vm.steps(), 1000);
    // 2 setup instructions (LDI32, LD), then 499 × (ADD, JMP).
    let t = vm.current().expect("task");
    assert_eq!(t.reg_get(Reg::R2), 2 * 499);
    assert!(vm.task(1).is_none());
    let mut t = vm.into_store();
    assert_eq!(TaskStore::task_mut(&mut t, 0).map(|t| t.pc()), Some(0x0C));
}

#[cfg(feature = "alloc")]
#[test]
fn vec_of_boxed_tasks_is_a_store() {
    let mut v: Vec<Option<Box<Small>>> = vec![None, Some(Box::new(counting_task(&[3])))];
    {
        let mut vm = Vm::new(&mut v);
        vm.set_context(1).expect("occupied");
        assert_eq!(vm.run(4), (4, StepResult::Ok));
        assert_eq!(vm.reg_get(Reg::R2), 3);
    }
    v.push(Some(Box::new(counting_task(&[4]))));
    let mut vm = Vm::new(v);
    assert!(vm.set_context(2).is_ok());
    let code = hsx_vm::WordCode::from_be_bytes(&[0x01, 0x10, 0x00, 0x05, 0x7F]);
    assert_eq!(code.words(), &[0x0110_0005, 0x7F00_0000]);
}

#[test]
fn reg_enum_round_trips() {
    for (i, r) in Reg::ALL.iter().enumerate() {
        assert_eq!(r.index() as usize, i);
        assert_eq!(Reg::from_index(i as u8), Some(*r));
        assert_eq!(Reg::from_name(&r.name().to_lowercase()), Some(*r));
        assert_eq!(r.to_string(), r.name());
    }
    assert_eq!(Reg::from_index(19), None);
    assert_eq!(Reg::gpr(17), Reg::R1);
    assert_eq!(Reg::from_name("flags"), Some(Reg::Psw));
    assert_eq!(Reg::from_name("R16"), None);
    let mut t = task(&[0]);
    t.reg_set(Reg::Psw, 0xFF);
    assert_eq!(t.reg_get(Reg::Psw), 0x0F);
    t.reg_set(Reg::Pc, 0x1234);
    t.reg_set(Reg::Sp, 0x4321);
    assert_eq!((t.pc(), t.sp()), (0x1234, 0x4321));
}

#[test]
fn memory_trait_default_host_accessors() {
    /// A memory backed only for 0x4000..0x4100 (like a segment-mapped MCU build).
    struct Seg([u8; 0x100]);
    impl Memory for Seg {
        fn load8(&self, a: u32) -> Result<u8, hsx_vm::MemError> {
            let i = a.checked_sub(0x4000).ok_or(hsx_vm::MemError)?;
            self.0.get(i as usize).copied().ok_or(hsx_vm::MemError)
        }
        fn load16(&self, a: u32) -> Result<u16, hsx_vm::MemError> {
            Ok(u16::from_le_bytes([self.load8(a)?, self.load8(a + 1)?]))
        }
        fn load32(&self, a: u32) -> Result<u32, hsx_vm::MemError> {
            Ok(u32::from(self.load16(a)?) | u32::from(self.load16(a + 2)?) << 16)
        }
        fn store8(&mut self, a: u32, v: u8) -> Result<(), hsx_vm::MemError> {
            let i = a.checked_sub(0x4000).ok_or(hsx_vm::MemError)?;
            *self.0.get_mut(i as usize).ok_or(hsx_vm::MemError)? = v;
            Ok(())
        }
        fn store16(&mut self, a: u32, v: u16) -> Result<(), hsx_vm::MemError> {
            let [x, y] = v.to_le_bytes();
            self.store8(a, x)?;
            self.store8(a + 1, y)
        }
        fn store32(&mut self, a: u32, v: u32) -> Result<(), hsx_vm::MemError> {
            self.store16(a, v as u16)?;
            self.store16(a + 2, (v >> 16) as u16)
        }
        fn clear(&mut self) {
            self.0.fill(0);
        }
    }
    let mut t = Task::new(
        WordCode([ins(Ld, 1, 2, 0, 0), ins(Ld, 1, 3, 0, 0)]),
        Seg([7; 0x100]),
        &[1, 2, 3, 4],
        TaskConfig::standalone(0),
    );
    t.reg_set(Reg::R2, 0x4000);
    assert_eq!(t.step(), StepResult::Ok);
    assert_eq!(t.reg_get(Reg::R1), 0x0403_0201);
    // Unmapped guest access faults MEM_FAULT; host access reads zeros and never fails.
    t.reg_set(Reg::R3, 0x3FFE);
    assert_eq!(
        t.step(),
        StepResult::Fault {
            code: Fault::MemFault,
            pc: 4
        }
    );
    let mut b = [0xEE; 4];
    assert_eq!(t.read_mem(0x3FFE, &mut b), 4);
    assert_eq!(b, [0, 0, 1, 2]);
    assert_eq!(t.write_mem(0x40FF, &[9, 9]), 2);
    assert_eq!(t.mem().load8(0x40FF), Ok(9));
}
