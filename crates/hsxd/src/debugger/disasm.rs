//! Disassembly listings for `disasm` (protocol.md §2.4.3).
//!
//! The input is the task's *code* bytes (big-endian words; the reference read data memory
//! and so listed zeros), the task's symbols, its breakpoints and its PC. Each line carries
//! the reference's fields plus `text` (MVASM that `hsx asm` re-assembles), `is_pc`,
//! `breakpoint`, absolute `target`s for `CALL` (the reference showed the raw word offset),
//! and `file`/`line_num` next to the `line` object.
//!
//! Code is immutable once loaded (Harvard layout), so the decoded, symbol-annotated form of
//! an instruction depends only on the image, the symbol table and the address. The
//! [`DisasmCache`] keeps it per (image, symbols generation, address); the per-request bits
//! (`index`, `is_pc`, `breakpoint`) are added on the way out.

use std::collections::HashMap;
use std::sync::Arc;

use hsx_image::sym::SymTable;
use hsx_vm::isa::{Instr, Opcode, sext12};
use serde_json::{Map, Value, json};

use super::{LinePos, SymbolHit};
use crate::hex::to_hex;

/// `disasm` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DisasmMode {
    /// Decode every time (`on-demand`, the default).
    #[default]
    OnDemand,
    /// Serve from the per-(address, count) cache (`cached`).
    Cached,
}

impl DisasmMode {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DisasmMode::OnDemand => "on-demand",
            DisasmMode::Cached => "cached",
        }
    }
}

/// Largest instruction count of one listing.
pub const MAX_COUNT: u32 = 1024;
/// Entries the cache holds before it starts over.
pub const CACHE_CAPACITY: usize = 1 << 16;

/// What a listing is made from.
#[derive(Debug, Clone, Copy)]
pub struct DisasmInput<'a> {
    /// Code bytes from address 0.
    pub code: &'a [u8],
    /// Symbols for labels, targets and lines.
    pub symbols: Option<&'a SymTable>,
    /// The task's breakpoints, sorted ascending (16-bit addresses).
    pub breakpoints: &'a [u32],
    /// The task's PC.
    pub pc: u32,
    /// ISA extension bits the task executes (its image's `isa_ext`): opcodes of other
    /// extensions are listed as illegal words, as the VM treats them.
    pub isa_ext: u32,
}

/// Where a listing starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At this address (`from_addr`).
    At(u32),
    /// At the PC (the reference's default when `addr` is absent).
    Pc,
    /// Up to `before` instructions before the PC, so the PC sits inside the listing
    /// (`around_pc`).
    AroundPc {
        /// Instructions wanted before the PC.
        before: u32,
    },
}

impl Start {
    /// The reference's request form: `addr` if given, else the PC.
    pub fn from_addr(addr: Option<u32>) -> Self {
        addr.map_or(Start::Pc, Start::At)
    }

    /// Around the PC with it in the middle of `count` lines.
    pub fn around(count: u32) -> Self {
        Start::AroundPc { before: count / 2 }
    }
}

/// One decoded instruction with its symbolic annotations (independent of the PC and of
/// breakpoints, so it can be cached).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsnInfo {
    /// Address.
    pub pc: u32,
    /// 4, or 8 for `LDI32`.
    pub size: u32,
    /// The instruction word.
    pub word: u32,
    /// Second word of `LDI32`.
    pub extended_word: Option<u32>,
    /// The decoded instruction; `None` for an illegal opcode.
    pub instr: Option<Instr>,
    /// Mnemonic, or `0x%02X` for an illegal opcode.
    pub mnemonic: String,
    /// Operand text (the MVASM text after the mnemonic).
    pub operands: String,
    /// Full MVASM text (`.word 0x…` for an illegal opcode).
    pub text: String,
    /// Branch or call target.
    pub target: Option<u32>,
    /// Symbol at or below the target.
    pub target_symbol: Option<SymbolHit>,
    /// Symbol at or below this address.
    pub symbol: Option<SymbolHit>,
    /// The symbol's name when this address is its start.
    pub label: Option<String>,
    /// Source line.
    pub line: Option<LinePos>,
}

fn be_word(code: &[u8], at: u32) -> Option<u32> {
    let i = usize::try_from(at).ok()?;
    let b: [u8; 4] = code.get(i..i.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// Decodes and annotates the instruction at `pc` as a task with extension bits `isa_ext`
/// executes it; `None` when the code ends first (fewer than 4 bytes, or an `LDI32`
/// without its second word).
pub fn decode_at(
    code: &[u8],
    pc: u32,
    symbols: Option<&SymTable>,
    isa_ext: u32,
) -> Option<InsnInfo> {
    let word = be_word(code, pc)?;
    let instr = Instr::decode_ext(word, isa_ext).ok();
    let (size, extended_word) = match instr {
        Some(i) if i.op == Opcode::Ldi32 => (8, Some(be_word(code, pc.checked_add(4)?)?)),
        _ => (4, None),
    };
    let (mnemonic, operands, text) = match instr {
        Some(i) => {
            let mn = i.mnemonic();
            let text = i.display(pc, extended_word).to_string();
            // The text form may end in a `; -> target` comment (CALL, B<cc>, CALLL);
            // operands stop before it.
            let operands = text.strip_prefix(mn).unwrap_or("");
            let operands = operands.split(" ;").next().unwrap_or("").trim().to_string();
            (mn.to_string(), operands, text)
        }
        None => (
            format!("0x{:02X}", word >> 24),
            String::new(),
            format!(".word 0x{word:08X}"),
        ),
    };
    let target = instr.and_then(|i| i.branch_target(pc));
    let (symbol, target_symbol, line) = match symbols {
        Some(t) => (
            SymbolHit::nearest(t, pc),
            target.and_then(|a| SymbolHit::nearest(t, a)),
            LinePos::for_pc(t, pc),
        ),
        None => (None, None, None),
    };
    let label = symbol
        .as_ref()
        .filter(|s| s.offset == 0)
        .map(|s| s.entry.name.clone());
    Some(InsnInfo {
        pc,
        size,
        word,
        extended_word,
        instr,
        mnemonic,
        operands,
        text,
        target,
        target_symbol,
        symbol,
        label,
        line,
    })
}

impl InsnInfo {
    /// The reference's instruction object plus `text`, `is_pc`, `breakpoint`, `file` and
    /// `line_num`: `{index, pc, size, word, mnemonic, rd, rs1, rs2, imm, imm_raw, operands,
    /// text, bytes, is_pc, breakpoint, extended_word?, target?, target_symbol?, symbol?,
    /// label?, line?:{address,file,line}, line_num?, file?}`.
    pub fn to_json(&self, index: u32, is_pc: bool, breakpoint: bool) -> Value {
        let w = self.word;
        let mut bytes = w.to_be_bytes().to_vec();
        if let Some(x) = self.extended_word {
            bytes.extend_from_slice(&x.to_be_bytes());
        }
        let imm_raw = (w & 0xFFF) as u16;
        let mut m = Map::new();
        m.insert("index".into(), json!(index));
        m.insert("pc".into(), json!(self.pc));
        m.insert("size".into(), json!(self.size));
        m.insert("word".into(), json!(w));
        m.insert("mnemonic".into(), json!(self.mnemonic));
        m.insert("rd".into(), json!((w >> 20) & 0xF));
        m.insert("rs1".into(), json!((w >> 16) & 0xF));
        m.insert("rs2".into(), json!((w >> 12) & 0xF));
        m.insert("imm".into(), json!(sext12(imm_raw)));
        m.insert("imm_raw".into(), json!(imm_raw));
        m.insert("operands".into(), json!(self.operands));
        m.insert("text".into(), json!(self.text));
        m.insert("bytes".into(), json!(to_hex(&bytes)));
        m.insert("is_pc".into(), json!(is_pc));
        m.insert("breakpoint".into(), json!(breakpoint));
        if let Some(x) = self.extended_word {
            m.insert("extended_word".into(), json!(x));
        }
        if let Some(t) = self.target {
            m.insert("target".into(), json!(t));
        }
        if let Some(s) = &self.target_symbol {
            m.insert("target_symbol".into(), s.to_json());
        }
        if let Some(s) = &self.symbol {
            m.insert("symbol".into(), s.to_json());
        }
        if let Some(l) = &self.label {
            m.insert("label".into(), json!(l));
        }
        if let Some(l) = &self.line {
            m.insert("line".into(), l.to_json());
            m.insert("line_num".into(), json!(l.line));
            if let Some(f) = &l.file {
                m.insert("file".into(), json!(f));
            }
        }
        Value::Object(m)
    }
}

/// One line of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingLine {
    /// Position in the listing.
    pub index: u32,
    /// The instruction.
    pub info: Arc<InsnInfo>,
    /// It is at the task's PC.
    pub is_pc: bool,
    /// A breakpoint is set on it.
    pub breakpoint: bool,
}

/// A disassembly listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// First address.
    pub address: u32,
    /// Instructions asked for.
    pub requested: u32,
    /// The task's PC.
    pub pc: u32,
    /// The lines.
    pub lines: Vec<ListingLine>,
    /// The code ended before `requested` instructions.
    pub truncated: bool,
    /// Bytes the lines cover.
    pub bytes_read: u32,
    /// Those bytes.
    pub data: Vec<u8>,
    /// Every line came from the cache.
    pub all_cached: bool,
}

impl Listing {
    /// The `disasm` reply object: `{pid, address, count, requested, mode, cached, truncated,
    /// bytes_read, data, pc, instructions}`. `cached` is true only in `cached` mode when
    /// every line was served from the cache.
    pub fn to_json(&self, pid: u32, mode: DisasmMode) -> Value {
        let instructions: Vec<Value> = self
            .lines
            .iter()
            .map(|l| l.info.to_json(l.index, l.is_pc, l.breakpoint))
            .collect();
        json!({
            "pid": pid,
            "address": self.address,
            "count": self.lines.len(),
            "requested": self.requested,
            "mode": mode.as_str(),
            "cached": mode == DisasmMode::Cached && self.all_cached && !self.lines.is_empty(),
            "truncated": self.truncated,
            "bytes_read": self.bytes_read,
            "data": to_hex(&self.data),
            "pc": self.pc,
            "instructions": instructions,
        })
    }
}

fn insn_size(code: &[u8], at: u32) -> u32 {
    match be_word(code, at) {
        Some(w) if (w >> 24) as u8 == Opcode::Ldi32 as u8 => 8,
        _ => 4,
    }
}

/// The furthest start, at most `before` words back, from which decoding lands exactly on the
/// PC (an `LDI32` operand word must not be listed as an instruction).
fn around_start(code: &[u8], pc: u32, before: u32) -> u32 {
    let before = before.min(MAX_COUNT);
    for k in (1..=before).rev() {
        let Some(start) = pc.checked_sub(4 * k) else {
            continue;
        };
        let mut at = start;
        while at < pc {
            at = at.saturating_add(insn_size(code, at));
        }
        if at == pc {
            return start;
        }
    }
    pc
}

fn build<G>(input: &DisasmInput<'_>, start: Start, count: u32, mut get: G) -> Listing
where
    G: FnMut(u32) -> Option<(Arc<InsnInfo>, bool)>,
{
    let requested = count.clamp(1, MAX_COUNT);
    let address = match start {
        Start::At(a) => a,
        Start::Pc => input.pc,
        Start::AroundPc { before } => around_start(input.code, input.pc, before),
    };
    let mut lines = Vec::new();
    let mut at = address;
    let mut truncated = false;
    let mut all_cached = true;
    for index in 0..requested {
        let Some((info, hit)) = get(at) else {
            truncated = true;
            break;
        };
        all_cached &= hit;
        let next = at.checked_add(info.size);
        lines.push(ListingLine {
            index,
            is_pc: at == input.pc,
            breakpoint: input.breakpoints.binary_search(&(at & 0xFFFF)).is_ok(),
            info,
        });
        match next {
            Some(n) => at = n,
            None => {
                truncated = index + 1 < requested;
                break;
            }
        }
    }
    let bytes_read = at.wrapping_sub(address);
    let data = usize::try_from(address)
        .ok()
        .and_then(|s| input.code.get(s..s.checked_add(bytes_read as usize)?))
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    Listing {
        address,
        requested,
        pc: input.pc,
        lines,
        truncated,
        bytes_read,
        data,
        all_cached,
    }
}

/// A listing of `count` instructions (clamped to 1..=[`MAX_COUNT`]) without a cache.
pub fn disassemble(input: &DisasmInput<'_>, start: Start, count: u32) -> Listing {
    build(input, start, count, |pc| {
        decode_at(input.code, pc, input.symbols, input.isa_ext).map(|i| (Arc::new(i), false))
    })
}

/// What a cached instruction depends on. Code never changes after load, so the image CRC
/// and length identify the bytes; the symbol generation changes with every `.sym` load
/// ([`super::SymbolStore::generation`]; 0 without symbols).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// Task.
    pub pid: u32,
    /// Image header CRC.
    pub image_crc: u32,
    /// Code length.
    pub code_len: u32,
    /// Symbol table generation.
    pub sym_generation: u64,
    /// The task's ISA extension bits (outside the CRC, so part of the key).
    pub isa_ext: u32,
}

/// Decoded instructions by (image, address).
#[derive(Debug, Default)]
pub struct DisasmCache {
    map: HashMap<(CacheKey, u32), Arc<InsnInfo>>,
    hits: u64,
    misses: u64,
}

impl DisasmCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// A listing, served from the cache where possible. The caller must pass the same code
    /// and symbols for the same `key`.
    pub fn listing(
        &mut self,
        key: CacheKey,
        input: &DisasmInput<'_>,
        start: Start,
        count: u32,
    ) -> Listing {
        build(input, start, count, |pc| {
            if let Some(hit) = self.map.get(&(key, pc)) {
                self.hits += 1;
                return Some((Arc::clone(hit), true));
            }
            let info = Arc::new(decode_at(input.code, pc, input.symbols, input.isa_ext)?);
            self.misses += 1;
            if self.map.len() >= CACHE_CAPACITY {
                self.map.clear();
            }
            self.map.insert((key, pc), Arc::clone(&info));
            Some((info, false))
        })
    }

    /// Drops the entries of a task (killed or reloaded).
    pub fn forget_pid(&mut self, pid: u32) {
        self.map.retain(|(k, _), _| k.pid != pid);
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Cached instructions.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Nothing cached.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// `(hits, misses)` since creation.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }
}

#[cfg(test)]
mod tests;
