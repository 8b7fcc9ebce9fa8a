//! Shared helpers: hand-encoded MiniVM programs and executives on a virtual clock.
#![allow(dead_code)]

use hsx_exec::{
    Backends, Event, EventKind, ExecConfig, Executive, LoadOptions, MemFs, VirtualClock,
};
use hsx_image::Image;
use hsx_vm::isa::{Instr, Opcode};

pub use Opcode::*;

/// One instruction word.
pub fn w(op: Opcode, rd: u8, rs1: u8, rs2: u8, imm: i32) -> u32 {
    Instr::new(op, rd, rs1, rs2, imm).encode()
}

/// Program builder; addresses are byte offsets (4 per word).
#[derive(Default, Clone)]
pub struct Asm {
    pub words: Vec<u32>,
}

impl Asm {
    pub fn new() -> Self {
        Self::default()
    }
    /// Address of the next instruction.
    pub fn here(&self) -> u32 {
        (self.words.len() * 4) as u32
    }
    pub fn op(&mut self, op: Opcode, rd: u8, rs1: u8, rs2: u8, imm: i32) -> &mut Self {
        self.words.push(w(op, rd, rs1, rs2, imm));
        self
    }
    pub fn ldi(&mut self, rd: u8, imm: i32) -> &mut Self {
        self.op(Ldi, rd, 0, 0, imm)
    }
    pub fn ldi32(&mut self, rd: u8, v: u32) -> &mut Self {
        self.words.push(w(Ldi32, rd, 0, 0, 0));
        self.words.push(v);
        self
    }
    pub fn mov(&mut self, rd: u8, rs: u8) -> &mut Self {
        self.op(Mov, rd, rs, 0, 0)
    }
    pub fn add(&mut self, rd: u8, a: u8, b: u8) -> &mut Self {
        self.op(Add, rd, a, b, 0)
    }
    pub fn sub(&mut self, rd: u8, a: u8, b: u8) -> &mut Self {
        self.op(Sub, rd, a, b, 0)
    }
    pub fn div(&mut self, rd: u8, a: u8, b: u8) -> &mut Self {
        self.op(Div, rd, a, b, 0)
    }
    pub fn cmp(&mut self, a: u8, b: u8) -> &mut Self {
        self.op(Cmp, 0, a, b, 0)
    }
    pub fn st(&mut self, base: u8, off: i32, rs: u8) -> &mut Self {
        self.op(St, 0, base, rs, off)
    }
    pub fn ld(&mut self, rd: u8, base: u8, off: i32) -> &mut Self {
        self.op(Ld, rd, base, 0, off)
    }
    pub fn jmp(&mut self, addr: u32) -> &mut Self {
        self.op(Jmp, 0, 0, 0, addr as i32)
    }
    pub fn jnz(&mut self, addr: u32) -> &mut Self {
        self.op(Jnz, 0, 0, 0, addr as i32)
    }
    pub fn jz(&mut self, addr: u32) -> &mut Self {
        self.op(Jz, 0, 0, 0, addr as i32)
    }
    pub fn svc(&mut self, module: u8, func: u8) -> &mut Self {
        self.op(Svc, 0, 0, 0, (i32::from(module) << 8) | i32::from(func))
    }
    pub fn brk(&mut self, code: u8) -> &mut Self {
        self.op(Brk, 0, 0, 0, i32::from(code))
    }
    pub fn ret(&mut self) -> &mut Self {
        self.op(Ret, 0, 0, 0, 0)
    }
    pub fn push(&mut self, rs: u8) -> &mut Self {
        self.op(Push, 0, rs, 0, 0)
    }
    pub fn build(&self) -> Vec<u32> {
        self.words.clone()
    }
}

/// `R1 += 1` forever (3 instructions: LDI, loop: ADD, JMP).
pub fn spin() -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi(1, 0).ldi(2, 1);
    let top = a.here();
    a.add(1, 1, 2).jmp(top);
    a.build()
}

/// Count R1 to `n` then return it (`RET` with R0 = n).
pub fn count_to(n: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi(1, 0).ldi(2, 1).ldi(3, n);
    let top = a.here();
    a.add(1, 1, 2).cmp(1, 3).jnz(top).mov(0, 1).ret();
    a.build()
}

/// A v2 image (multiple instances allowed, no name).
pub fn image(code: &[u32], rodata: &[u8]) -> Image {
    let mut img = Image::new(Vec::new(), rodata.to_vec(), 0);
    img.set_code_words(code);
    img
}

/// An executive with the default configuration, an in-memory FS and a virtual clock at 1000.
pub fn exec() -> (Executive, VirtualClock) {
    exec_with(ExecConfig::default())
}

pub fn exec_with(cfg: ExecConfig) -> (Executive, VirtualClock) {
    let clock = VirtualClock::starting_at(1000);
    let ex = Executive::new(cfg, Backends::new(clock.clone()).with_fs(MemFs::new()));
    (ex, clock)
}

/// Load code + rodata; returns the PID.
pub fn load(ex: &mut Executive, code: &[u32], rodata: &[u8]) -> u32 {
    ex.load_image(&image(code, rodata), LoadOptions::default())
        .expect("load")
        .pid
}

/// Event type names.
pub fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.name()).collect()
}

/// Concatenated stdout bytes of a PID.
pub fn stdout_of(events: &[Event], pid: u32) -> Vec<u8> {
    events
        .iter()
        .filter(|e| e.pid == Some(pid))
        .filter_map(|e| match &e.kind {
            EventKind::Stdout(d) => Some(d.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Little-endian u32 at `at` of `b`.
pub fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
