//! Disassembly listing: a header summary, then the program as MVASM that re-assembles to the
//! same bytes (addresses and words go in trailing comments).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;

use hsx_image::sym::SymFile;
use hsx_image::{
    CRC_OFFSET, FLAG_ALLOW_MULTIPLE, Image, LoadError, MailboxEntry, RODATA_BASE, VERSION_V2,
};
use hsx_vm::isa::{Form, Instr, Opcode, rel_target};
use serde_json::{Map, Value};

use crate::diag::DisasmError;
use crate::lex::{is_register_name, is_symbol_name};

/// Listing options.
#[derive(Debug, Clone)]
pub struct DisasmOptions {
    /// Show `; addr: word` comments after each line (default on).
    pub show_words: bool,
    /// Invent `L_xxxx` labels for branch targets that have no symbol (default on).
    pub auto_labels: bool,
}

impl Default for DisasmOptions {
    fn default() -> Self {
        DisasmOptions {
            show_words: true,
            auto_labels: true,
        }
    }
}

/// Disassemble an image with default options. See [`disassemble_with`].
pub fn disassemble(bytes: &[u8], sym: Option<&SymFile>) -> Result<String, DisasmError> {
    disassemble_with(bytes, sym, &DisasmOptions::default())
}

/// Disassemble a v1 or v2 image. `sym` supplies label names (code and data). The result
/// starts with a commented header summary (the stored CRC is checked, and a bad CRC is
/// reported rather than refused) and is valid MVASM: assembling it (v2, or v1 for a v1
/// image) reproduces the code, rodata, entry, app name, flags and metadata.
pub fn disassemble_with(
    bytes: &[u8],
    sym: Option<&SymFile>,
    opts: &DisasmOptions,
) -> Result<String, DisasmError> {
    let computed = hsx_image::compute_crc(bytes);
    let (img, crc_ok) = match Image::parse(bytes) {
        Ok(img) => (img, true),
        Err(LoadError::CrcMismatch { calc, .. }) => {
            let mut fixed = bytes.to_vec();
            if let Some(f) = fixed.get_mut(CRC_OFFSET..CRC_OFFSET + 4) {
                f.copy_from_slice(&calc.to_be_bytes());
            }
            let mut img = Image::parse(&fixed).map_err(|e| DisasmError::Image(e.to_string()))?;
            img.crc32 = u32::from_be_bytes(
                bytes
                    .get(CRC_OFFSET..CRC_OFFSET + 4)
                    .and_then(|s| s.try_into().ok())
                    .unwrap_or([0; 4]),
            );
            (img, false)
        }
        Err(e) => return Err(DisasmError::Image(e.to_string())),
    };
    let mut d = Disasm::new(&img, sym, opts);
    d.header(bytes.len(), computed.unwrap_or(0), crc_ok);
    d.code();
    d.data();
    Ok(d.out)
}

struct Disasm<'a> {
    img: &'a Image,
    opts: &'a DisasmOptions,
    out: String,
    words: Vec<u32>,
    /// Instruction start addresses.
    starts: BTreeSet<u32>,
    code_labels: BTreeMap<u32, Vec<String>>,
    data_labels: BTreeMap<u32, Vec<String>>,
}

fn usable_name(s: &str) -> bool {
    is_symbol_name(s) && !is_register_name(s) && !s.starts_with('.')
}

/// The encoding the assembler produces for this instruction's visible operands; a word
/// that differs has stray bits in unused fields and must be listed as `.word`.
fn canonical(i: &Instr) -> u32 {
    let imm = i.imm();
    let c = match i.op.form() {
        Form::RdImm => Instr::new(i.op, i.rd, 0, 0, imm),
        Form::Load => Instr::new(i.op, i.rd, i.rs1, 0, imm),
        Form::Store => Instr::new(i.op, 0, i.rs1, i.rs2, imm),
        Form::RdRs => Instr::new(i.op, i.rd, i.rs1, 0, 0),
        Form::RdRaRb => Instr::new(i.op, i.rd, i.rs1, i.rs2, 0),
        Form::RaRb => Instr::new(i.op, 0, i.rs1, i.rs2, 0),
        Form::Jump | Form::Call | Form::Svc => Instr::new(i.op, 0, 0, 0, imm),
        Form::None => Instr::new(i.op, 0, 0, 0, 0),
        Form::Push => Instr::new(i.op, 0, i.rs1, 0, 0),
        Form::Pop => Instr::new(i.op, i.rd, 0, 0, 0),
        Form::RdImm32 => Instr::new(i.op, i.rd, 0, 0, 0),
        Form::Brk => Instr::new(i.op, 0, 0, 0, i32::from(i.imm_raw & 0xFF)),
        Form::RdRaImm => Instr::new(i.op, i.rd, i.rs1, 0, imm),
        // Condition and offset fill every bit (a condition-15 word does not decode).
        Form::Branch | Form::CallLong => *i,
        Form::JumpReg => Instr::new(i.op, 0, i.rs1, 0, 0),
        Form::SetCond => Instr::new(i.op, i.rd, 0, 0, i32::from(i.imm_raw & 0xF)),
        Form::StackAdj => Instr::new(i.op, 0, 0, 0, imm),
    };
    c.encode()
}

/// MVASM string literal body for `bytes`.
fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7E => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02X}");
            }
        }
    }
    s
}

fn is_text_byte(b: u8) -> bool {
    (0x20..=0x7E).contains(&b) || b == b'\n' || b == b'\t' || b == b'\r'
}

fn pad_to(s: &mut String, col: usize) {
    let len = s.chars().count();
    if len < col {
        s.push_str(&" ".repeat(col - len));
    } else {
        s.push(' ');
    }
}

impl<'a> Disasm<'a> {
    fn new(img: &'a Image, sym: Option<&SymFile>, opts: &'a DisasmOptions) -> Self {
        let words: Vec<u32> = img.code_words().collect();
        let mut starts = BTreeSet::new();
        let mut i = 0usize;
        while i < words.len() {
            starts.insert(i as u32 * 4);
            let two = matches!(Instr::decode(words[i]), Ok(ins) if ins.op == Opcode::Ldi32)
                && i + 1 < words.len();
            i += if two { 2 } else { 1 };
        }
        let code_len = words.len() as u32 * 4;
        let ro_end = RODATA_BASE + img.rodata.len() as u32;
        let mut used: HashSet<String> = HashSet::new();
        let mut code_labels: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        let mut data_labels: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        if let Some(sym) = sym {
            let mut named: Vec<(u32, String)> = Vec::new();
            for f in &sym.symbols.functions {
                named.push((f.address, f.name.clone()));
            }
            for v in &sym.symbols.variables {
                named.push((v.address, v.name.clone()));
            }
            for (key, names) in &sym.symbols.labels {
                let addr = key
                    .strip_prefix("0x")
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| key.parse().ok());
                if let Some(a) = addr {
                    named.extend(names.iter().map(|n| (a, n.clone())));
                }
            }
            named.sort();
            for (addr, name) in named {
                if !usable_name(&name) || used.contains(&name) {
                    continue;
                }
                let slot = if addr < code_len && starts.contains(&addr) || addr == code_len {
                    code_labels.entry(addr).or_default()
                } else if (RODATA_BASE..=ro_end).contains(&addr) {
                    data_labels.entry(addr).or_default()
                } else {
                    continue;
                };
                used.insert(name.clone());
                slot.push(name);
            }
        }
        let mut d = Disasm {
            img,
            opts,
            out: String::new(),
            words,
            starts,
            code_labels,
            data_labels,
        };
        if opts.auto_labels {
            let mut targets: BTreeSet<u32> = BTreeSet::new();
            targets.insert(img.entry);
            targets.extend(img.metadata.commands.iter().map(|c| c.handler));
            for &pc in &d.starts {
                if let Some(t) = d.branch_target(pc) {
                    targets.insert(t);
                }
            }
            for t in targets {
                if d.starts.contains(&t) && !d.code_labels.contains_key(&t) {
                    let name = format!("L_{t:04X}");
                    if used.insert(name.clone()) {
                        d.code_labels.entry(t).or_default().push(name);
                    }
                }
            }
        }
        d
    }

    fn word(&self, pc: u32) -> Option<u32> {
        self.words.get((pc / 4) as usize).copied()
    }

    /// A branch target that re-assembles to the same word when written as a label.
    fn branch_target(&self, pc: u32) -> Option<u32> {
        let ins = self.decode(self.word(pc)?).ok()?;
        if canonical(&ins) != ins.encode() {
            return None;
        }
        match ins.op.form() {
            Form::Jump => Some(u32::from(ins.imm_raw)),
            Form::Call => {
                let t = i64::from(pc) + i64::from(ins.imm()) * 4;
                u32::try_from(t).ok()
            }
            Form::Branch | Form::CallLong => Some(rel_target(pc, ins.word_offset())),
            _ => None,
        }
    }

    /// Decode as the VM executes this image: extension opcodes the header does not declare
    /// are illegal words.
    fn decode(&self, word: u32) -> Result<Instr, hsx_vm::isa::IllegalOpcode> {
        Instr::decode_ext(word, self.img.isa_ext)
    }

    fn label_at(&self, addr: u32) -> Option<&str> {
        self.code_labels
            .get(&addr)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    fn line(&mut self, code: &str, comment: &str) {
        let mut s = format!("    {code}");
        if !comment.is_empty() {
            pad_to(&mut s, 36);
            s.push_str("; ");
            s.push_str(comment);
        }
        self.out.push_str(s.trim_end());
        self.out.push('\n');
    }

    fn header(&mut self, file_len: usize, computed_crc: u32, crc_ok: bool) {
        let img = self.img;
        let o = &mut self.out;
        let _ = writeln!(o, "; HSX image: version {}, {file_len} bytes", img.version);
        if img.version == VERSION_V2 {
            let _ = writeln!(
                o,
                "; app name:  {}",
                img.app_name
                    .as_deref()
                    .map(|n| format!("\"{n}\""))
                    .unwrap_or_else(|| "(none)".into())
            );
        }
        let mut flag_names = Vec::new();
        if img.manifest_present() {
            flag_names.push("manifest present");
        }
        if img.version == VERSION_V2 {
            flag_names.push(if img.allow_multiple_instances() {
                "allow multiple instances"
            } else {
                "single instance"
            });
        }
        let _ = writeln!(
            o,
            "; flags:     0x{:04X} ({})",
            img.flags,
            if flag_names.is_empty() {
                "none".to_string()
            } else {
                flag_names.join(", ")
            }
        );
        let _ = writeln!(o, "; entry:     0x{:04X}", img.entry);
        let _ = writeln!(
            o,
            "; code:      {} bytes ({} words); rodata: {} bytes; bss: {}; req_caps: 0x{:04X}",
            img.code.len(),
            img.code.len() / 4,
            img.rodata.len(),
            img.bss_size,
            img.req_caps
        );
        if img.isa_ext != 0 {
            let names = if img.isa_ext == hsx_image::ISA_EXT1 {
                " (EXT1)"
            } else {
                ""
            };
            let _ = writeln!(o, "; isa_ext:   0x{:X}{names}", img.isa_ext);
        }
        if crc_ok {
            let _ = writeln!(o, "; crc32:     0x{:08X} (ok)", img.crc32);
        } else {
            let _ = writeln!(
                o,
                "; crc32:     0x{:08X} (BAD: computed 0x{computed_crc:08X})",
                img.crc32
            );
        }
        let m = &img.metadata;
        let _ = writeln!(
            o,
            "; metadata:  {} values, {} commands, {} mailboxes{}",
            m.values.len(),
            m.commands.len(),
            m.mailboxes.len(),
            if m.other.is_empty() {
                String::new()
            } else {
                format!(", {} other sections (not reproducible)", m.other.len())
            }
        );
        if img.bss_size != 0 || img.manifest_present() {
            let _ = writeln!(
                o,
                "; note: bss size and the manifest flag are not reproduced by the assembler"
            );
        }
        o.push('\n');
        if img.version == VERSION_V2 {
            let name = img.app_name.as_deref().unwrap_or("");
            let _ = writeln!(o, ".name \"{}\"", escape(name.as_bytes()));
            if img.flags & FLAG_ALLOW_MULTIPLE == 0 {
                o.push_str(".single_instance\n");
            }
        }
        if img.req_caps != 0 {
            let _ = writeln!(o, ".req_caps 0x{:04X}", img.req_caps & 0xFFFF);
        }
        if img.isa_ext != 0 {
            let _ = writeln!(o, ".isa_ext 0x{:X}", img.isa_ext);
        }
        for v in &m.values {
            let mut j = Map::new();
            j.insert("group".into(), v.group.into());
            j.insert("id".into(), v.id.into());
            if v.flags != 0 {
                j.insert("flags".into(), v.flags.into());
            }
            if v.auth != 0 {
                j.insert("auth".into(), v.auth.into());
            }
            for (k, bits) in [
                ("init_raw", v.init),
                ("epsilon_raw", v.epsilon),
                ("min_raw", v.min),
                ("max_raw", v.max),
            ] {
                if bits != 0 {
                    j.insert(k.into(), bits.into());
                }
            }
            if v.persist_key != 0 {
                j.insert("persist_key".into(), v.persist_key.into());
            }
            for (k, s) in [
                ("name", &v.name),
                ("unit", &v.unit),
                ("group_name", &v.group_name),
            ] {
                if let Some(s) = s {
                    j.insert(k.into(), Value::String(s.clone()));
                }
            }
            let comment = format!(
                "init={} min={} max={} epsilon={}",
                v.init_f32(),
                v.min_f32(),
                v.max_f32(),
                v.epsilon_f32()
            );
            let _ = writeln!(o, ".value {}  ; {comment}", Value::Object(j));
        }
        for c in &m.commands {
            let mut j = Map::new();
            j.insert("group".into(), c.group.into());
            j.insert("id".into(), c.id.into());
            if c.flags != 0 {
                j.insert("flags".into(), c.flags.into());
            }
            if c.auth != 0 {
                j.insert("auth".into(), c.auth.into());
            }
            let handler = match self.code_labels.get(&c.handler).and_then(|v| v.first()) {
                Some(l) if (c.handler as usize) < self.words.len() * 4 => Value::String(l.clone()),
                _ => Value::from(c.handler),
            };
            j.insert("handler".into(), handler);
            for (k, s) in [
                ("name", &c.name),
                ("help", &c.help),
                ("group_name", &c.group_name),
            ] {
                if let Some(s) = s {
                    j.insert(k.into(), Value::String(s.clone()));
                }
            }
            if c.reserved != 0 {
                j.insert("reserved".into(), c.reserved.into());
            }
            let _ = writeln!(o, ".cmd {}", Value::Object(j));
        }
        for mb in &m.mailboxes {
            let _ = writeln!(o, ".mailbox {}", Value::Object(mailbox_json(mb)));
        }
    }

    fn code(&mut self) {
        self.out.push_str("\n.text\n");
        let entry = self.img.entry;
        match self.label_at(entry).map(str::to_string) {
            Some(l) => {
                let _ = writeln!(self.out, ".entry {l}");
            }
            None => {
                let _ = writeln!(self.out, ".entry 0x{entry:04X}");
            }
        }
        let starts: Vec<u32> = self.starts.iter().copied().collect();
        for pc in starts {
            self.labels(pc, true);
            let Some(word) = self.word(pc) else { continue };
            let show = self.opts.show_words;
            let addr = |extra: &str| {
                if show {
                    format!("{pc:04X}: {word:08X}{extra}")
                } else {
                    String::new()
                }
            };
            match self.decode(word) {
                Err(e) => {
                    let c = format!("{} ({e})", addr(""));
                    self.line(&format!(".word 0x{word:08X}"), c.trim());
                }
                Ok(ins) if ins.op == Opcode::Ldi32 => match self.word(pc + 4) {
                    Some(imm) if canonical(&ins) == word => {
                        let text = match self.data_label(imm) {
                            Some(l) => format!("LDI32 R{}, {l}", ins.rd),
                            None => ins.display(pc, Some(imm)).to_string(),
                        };
                        self.line(&text, &addr(&format!(" {imm:08X}")));
                    }
                    Some(imm) => {
                        let c = format!(
                            "{} ({})",
                            addr(&format!(" {imm:08X}")),
                            ins.display(pc, Some(imm))
                        );
                        self.line(&format!(".word 0x{word:08X}, 0x{imm:08X}"), c.trim());
                    }
                    None => {
                        let c = format!("{} (LDI32 without its value word)", addr(""));
                        self.line(&format!(".word 0x{word:08X}"), c.trim());
                    }
                },
                Ok(ins) => {
                    let shown = ins.display(pc, None).to_string();
                    let (code, note) = match shown.split_once(" ; ") {
                        Some((c, n)) => (c.to_string(), n.to_string()),
                        None => (shown, String::new()),
                    };
                    if canonical(&ins) != word {
                        let c = format!("{} ({code}, unused fields set)", addr(""));
                        self.line(&format!(".word 0x{word:08X}"), c.trim());
                        continue;
                    }
                    let (code, note) = match self.branch_target(pc).and_then(|t| self.label_at(t)) {
                        Some(l) => (format!("{} {l}", ins.mnemonic()), String::new()),
                        None => (code, note),
                    };
                    let mut c = addr("");
                    if !note.is_empty() {
                        if !c.is_empty() {
                            c.push_str("  ");
                        }
                        c.push_str(&note);
                    }
                    self.line(&code, &c);
                }
            }
        }
        let end = self.words.len() as u32 * 4;
        self.labels(end, true);
    }

    fn data_label(&self, value: u32) -> Option<String> {
        self.data_labels
            .get(&value)
            .and_then(|v| v.first())
            .cloned()
    }

    fn labels(&mut self, addr: u32, code: bool) {
        let names = if code {
            self.code_labels.get(&addr).cloned()
        } else {
            self.data_labels.get(&addr).cloned()
        };
        for n in names.unwrap_or_default() {
            let _ = writeln!(self.out, "{n}:");
        }
    }

    fn data(&mut self) {
        let ro = &self.img.rodata;
        if ro.is_empty() && self.data_labels.is_empty() {
            return;
        }
        self.out.push_str("\n.data\n");
        let len = ro.len() as u32;
        // Segment boundaries: label offsets.
        let mut cuts: Vec<u32> = self
            .data_labels
            .keys()
            .map(|a| a - RODATA_BASE)
            .filter(|&o| o <= len)
            .collect();
        cuts.push(0);
        cuts.push(len);
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            self.labels(RODATA_BASE + a, false);
            self.data_run(a as usize, b as usize);
        }
        self.labels(RODATA_BASE + len, false);
    }

    /// Rodata bytes `[a, b)` as `.asciz`/`.ascii` for text runs and `.byte` otherwise.
    fn data_run(&mut self, a: usize, b: usize) {
        // `img` outlives `self`'s borrow, so no copy of the rodata per segment is needed.
        let img = self.img;
        let ro = &img.rodata;
        let mut i = a;
        let mut pending: Vec<(usize, u8)> = Vec::new();
        while i < b {
            let mut z = i;
            while z < b && ro[z] == 0 {
                z += 1;
            }
            if z - i >= 8 {
                self.flush_bytes(&mut pending);
                let c = if self.opts.show_words {
                    format!("{:04X}", RODATA_BASE as usize + i)
                } else {
                    String::new()
                };
                self.line(&format!(".zero {}", z - i), &c);
                i = z;
                continue;
            }
            let mut j = i;
            while j < b && is_text_byte(ro[j]) {
                j += 1;
            }
            let nul_follows = j < b && ro[j] == 0;
            if j - i >= 4 || (j - i >= 2 && nul_follows) {
                self.flush_bytes(&mut pending);
                let nul = j < b && ro[j] == 0;
                let dir = if nul { ".asciz" } else { ".ascii" };
                let c = if self.opts.show_words {
                    format!("{:04X}", RODATA_BASE as usize + i)
                } else {
                    String::new()
                };
                self.line(&format!("{dir} \"{}\"", escape(&ro[i..j])), &c);
                i = if nul { j + 1 } else { j };
            } else {
                pending.push((i, ro[i]));
                if pending.len() == 16 {
                    self.flush_bytes(&mut pending);
                }
                i += 1;
            }
        }
        self.flush_bytes(&mut pending);
    }

    fn flush_bytes(&mut self, pending: &mut Vec<(usize, u8)>) {
        let Some(&(first, _)) = pending.first() else {
            return;
        };
        let list: Vec<String> = pending.iter().map(|(_, b)| format!("0x{b:02X}")).collect();
        let c = if self.opts.show_words {
            format!("{:04X}", RODATA_BASE as usize + first)
        } else {
            String::new()
        };
        self.line(&format!(".byte {}", list.join(", ")), &c);
        pending.clear();
    }
}

/// The JSON object to declare a mailbox with: its source object when the image has one,
/// else the typed fields.
fn mailbox_json(m: &MailboxEntry) -> Map<String, Value> {
    if let Some(raw) = &m.raw {
        return raw.clone();
    }
    let mut j = Map::new();
    j.insert("target".into(), Value::String(m.target.clone()));
    if m.capacity != 0 {
        j.insert("capacity".into(), m.capacity.into());
    }
    j.insert("mode_mask".into(), m.mode_mask.into());
    if let Some(p) = m.owner_pid {
        j.insert("owner_pid".into(), p.into());
    }
    if !m.bindings.is_empty() {
        let b: Vec<Value> = m
            .bindings
            .iter()
            .map(|b| serde_json::json!({"pid": b.pid, "flags": b.flags}))
            .collect();
        j.insert("bindings".into(), Value::Array(b));
    }
    j
}
