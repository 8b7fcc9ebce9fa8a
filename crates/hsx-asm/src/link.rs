//! Pass 2: link objects exactly as the reference linker lays them out (`vm.md` §5.1), with
//! range checks where the reference would silently mis-encode (`design.md` §4 item 11).

use std::collections::HashMap;

use hsx_vm::isa::{
    BCC_MAX_WORDS, BCC_MIN_WORDS, CALLL_MAX_WORDS, CALLL_MIN_WORDS, sext12, word_offset,
};

use crate::meta::{CmdSpec, HandlerSpec, MailboxSpec, ValueSpec};
use crate::object::{Object, RODATA_BASE, RelocType, SECTION_LIMIT, Section, SymKind};
use crate::source::{Loc, Sources};

/// A symbol with its final address.
#[derive(Debug, Clone)]
pub(crate) struct LinkedSym {
    pub name: String,
    pub section: Section,
    /// Absolute address: code byte address, or `0x4000 + …` for data.
    pub address: u32,
    /// Offset within its own object's section (what `off16()` yields).
    pub offset: u32,
    pub object: usize,
    pub exported: bool,
    pub loc: Loc,
}

/// The result of linking: what goes into the image, plus what the `.sym` writer needs.
#[derive(Debug)]
pub(crate) struct Linked {
    pub code: Vec<u32>,
    pub rodata: Vec<u8>,
    pub entry: u32,
    pub values: Vec<ValueSpec>,
    /// Commands with their resolved handler addresses.
    pub commands: Vec<(CmdSpec, u32)>,
    pub mailboxes: Vec<MailboxSpec>,
    /// Every label of every object, in object then definition order.
    pub symbols: Vec<LinkedSym>,
    /// `(code_base, ro_base)` per object.
    pub bases: Vec<(u32, u32)>,
    /// Names of symbols used as CALL targets (resolved addresses).
    pub call_targets: Vec<u32>,
    pub warnings: Vec<String>,
    /// ISA extension bits of all objects, ORed.
    pub isa_ext: u32,
}

type Errs = Vec<(Loc, String)>;

/// Link objects in order. Errors are located in the sources.
pub(crate) fn link(objects: &mut [Object], sources: &Sources) -> Result<Linked, Errs> {
    let mut errs: Errs = Vec::new();
    let mut warnings = Vec::new();
    let mut bases = Vec::with_capacity(objects.len());
    let (mut code_off, mut ro_off) = (0u32, 0u32);
    for o in objects.iter() {
        bases.push((code_off, ro_off));
        code_off = code_off.saturating_add(o.code.len() as u32 * 4);
        ro_off = ro_off.saturating_add(o.rodata.len() as u32);
    }
    if code_off > SECTION_LIMIT || ro_off > SECTION_LIMIT {
        let loc = objects.last().map(|o| Loc {
            file: o.file,
            line: 1,
            start: 0,
            end: 1,
        });
        let what = if code_off > SECTION_LIMIT {
            format!("linked code is {code_off} bytes")
        } else {
            format!("linked rodata is {ro_off} bytes")
        };
        if let Some(loc) = loc {
            return Err(vec![(loc, format!("{what}; the VM accepts at most 65536"))]);
        }
    }

    let addr_of = |obj: usize, section: Section, offset: u32| -> u32 {
        let (cb, rb) = bases[obj];
        match section {
            Section::Text => cb + offset,
            Section::Data => RODATA_BASE + rb + offset,
        }
    };

    // Global symbol table from every object's exports.
    let mut global: HashMap<String, LinkedSym> = HashMap::new();
    for (oi, o) in objects.iter().enumerate() {
        for (name, eloc) in &o.exports {
            let Some(l) = o.label(name) else { continue };
            let sym = LinkedSym {
                name: name.clone(),
                section: l.section,
                address: addr_of(oi, l.section, l.offset),
                offset: l.offset,
                object: oi,
                exported: true,
                loc: l.loc,
            };
            if let Some(prev) = global.get(name) {
                errs.push((
                    *eloc,
                    format!(
                        "duplicate export `{name}`: already exported by {} (label at {})",
                        sources.name(objects[prev.object].file),
                        sources.pos(prev.loc)
                    ),
                ));
                continue;
            }
            global.insert(name.clone(), sym);
        }
    }
    for o in objects.iter() {
        for (name, loc) in &o.imports {
            if !global.contains_key(name) {
                errs.push((
                    *loc,
                    format!("unresolved import `{name}`: no linked file exports it"),
                ));
            }
        }
    }

    // Metadata aggregation with cross-object duplicate checks.
    let mut values: Vec<(ValueSpec, Loc)> = Vec::new();
    let mut commands: Vec<(CmdSpec, Loc, usize)> = Vec::new();
    let mut mailboxes: Vec<(MailboxSpec, Loc)> = Vec::new();
    for (oi, o) in objects.iter().enumerate() {
        for (v, loc) in &o.values {
            if let Some((_, p)) = values
                .iter()
                .find(|(x, _)| (x.group, x.id) == (v.group, v.id))
            {
                errs.push((
                    *loc,
                    format!(
                        "duplicate value ({},{}) (first declared at {})",
                        v.group,
                        v.id,
                        sources.pos(*p)
                    ),
                ));
            } else {
                values.push((v.clone(), *loc));
            }
        }
        for (c, loc) in &o.commands {
            if let Some((_, p, _)) = commands
                .iter()
                .find(|(x, _, _)| (x.group, x.id) == (c.group, c.id))
            {
                errs.push((
                    *loc,
                    format!(
                        "duplicate command ({},{}) (first declared at {})",
                        c.group,
                        c.id,
                        sources.pos(*p)
                    ),
                ));
            } else {
                commands.push((c.clone(), *loc, oi));
            }
        }
        for (m, loc) in &o.mailboxes {
            if let Some((_, p)) = mailboxes.iter().find(|(x, _)| x.target == m.target) {
                errs.push((
                    *loc,
                    format!(
                        "duplicate mailbox target `{}` (first declared at {})",
                        m.target,
                        sources.pos(*p)
                    ),
                ));
            } else {
                mailboxes.push((m.clone(), *loc));
            }
        }
    }
    values.sort_by_key(|(v, _)| (v.group, v.id));
    commands.sort_by_key(|(c, _, _)| (c.group, c.id));
    mailboxes.sort_by(|a, b| a.0.target.cmp(&b.0.target));

    // Relocations: the global table first, then the object's own labels (hld.py order).
    let mut call_targets = Vec::new();
    let files: Vec<u32> = objects.iter().map(|o| o.file).collect();
    for (oi, o) in objects.iter_mut().enumerate() {
        let (code_base, _) = bases[oi];
        for r in &o.relocs {
            let (addr, offset, section) = if let Some(g) = global.get(&r.sym.name) {
                if g.object != oi
                    && let Some(l) = o.label(&r.sym.name)
                {
                    warnings.push(format!(
                        "{}: warning: `{}` resolves to the export from {}, not to the local label at {}",
                        sources.pos(r.sym.loc),
                        r.sym.name,
                        sources.name(files.get(g.object).copied().unwrap_or(o.file)),
                        sources.pos(l.loc)
                    ));
                }
                (g.address, g.offset, g.section)
            } else if let Some(l) = o.label(&r.sym.name) {
                (addr_of(oi, l.section, l.offset), l.offset, l.section)
            } else {
                // An unresolved `.import` was reported once at the directive.
                if !o.imports.iter().any(|(n, _)| *n == r.sym.name) {
                    errs.push((r.sym.loc, format!("undefined symbol `{}`", r.sym.name)));
                }
                continue;
            };
            let shown = r.sym.kind.wrap(&r.sym.name);
            let value: u32 = match r.sym.kind {
                SymKind::Symbol => addr,
                SymKind::Lo16 => addr & 0xFFFF,
                SymKind::Hi16 => addr >> 16,
                SymKind::Off16 => {
                    if section != Section::Data {
                        errs.push((
                            r.sym.loc,
                            format!(
                                "off16() expects a .data symbol, but `{}` is a .text label",
                                r.sym.name
                            ),
                        ));
                        continue;
                    }
                    offset & 0xFFFF
                }
            };
            let at = r.at as usize;
            match r.ty {
                RelocType::Ldi | RelocType::Mem => {
                    if value > 2047 {
                        let what = if r.ty == RelocType::Ldi {
                            "LDI"
                        } else {
                            "the load/store offset"
                        };
                        let hint = if r.ty == RelocType::Ldi {
                            "; use LDI32"
                        } else {
                            ""
                        };
                        errs.push((
                            r.sym.loc,
                            format!(
                                "`{shown}` = {value:#06X} does not fit {what}'s signed 12-bit immediate (-2048..2047); it would read back as {:#010X}{hint}",
                                if value <= 0xFFF { sext12(value as u16) as u32 } else { value }
                            ),
                        ));
                        continue;
                    }
                    patch12(&mut o.code, at, value);
                }
                RelocType::Jump => {
                    if value > 0xFFF {
                        errs.push((
                            r.sym.loc,
                            format!("jump target `{shown}` = {value:#06X} is out of reach (JMP/JZ/JNZ reach 0x000..0xFFF)"),
                        ));
                        continue;
                    }
                    patch12(&mut o.code, at, value);
                }
                RelocType::Call => {
                    let pc = code_base + r.at * 4;
                    let delta = i64::from(value) - i64::from(pc);
                    if delta % 4 != 0 {
                        errs.push((r.sym.loc, format!("CALL target `{shown}` = {value:#06X} is not word-aligned relative to the CALL at {pc:#06X}")));
                        continue;
                    }
                    let words = delta / 4;
                    if !(-2048..=2047).contains(&words) {
                        errs.push((
                            r.sym.loc,
                            format!(
                                "CALL target `{shown}` at {value:#06X} is {words} words from the CALL at {pc:#06X}; CALL reaches -2048..+2047 words"
                            ),
                        ));
                        continue;
                    }
                    call_targets.push(value);
                    patch12(&mut o.code, at, words as u32);
                }
                RelocType::Branch | RelocType::CallLong => {
                    let pc = code_base + r.at * 4;
                    let (mn, lo, hi, mask) = if r.ty == RelocType::Branch {
                        ("branch", BCC_MIN_WORDS, BCC_MAX_WORDS, 0xF_FFFFu32)
                    } else {
                        ("CALLL", CALLL_MIN_WORDS, CALLL_MAX_WORDS, 0xFF_FFFF)
                    };
                    let Some(words) = word_offset(pc, value) else {
                        errs.push((r.sym.loc, format!("{mn} target `{shown}` = {value:#06X} is not word-aligned relative to the instruction at {pc:#06X}")));
                        continue;
                    };
                    if !(i64::from(lo)..=i64::from(hi)).contains(&words) {
                        errs.push((
                            r.sym.loc,
                            format!(
                                "{mn} target `{shown}` at {value:#06X} is {words} words from the instruction at {pc:#06X}; it reaches {lo}..+{hi} words"
                            ),
                        ));
                        continue;
                    }
                    if r.ty == RelocType::CallLong {
                        call_targets.push(value);
                    }
                    if let Some(w) = o.code.get_mut(at) {
                        *w = (*w & !mask) | (words as u32 & mask);
                    }
                }
                RelocType::Imm32 => {
                    if let Some(w) = o.code.get_mut(at) {
                        *w = value;
                    }
                }
                RelocType::DataWord | RelocType::DataHalf | RelocType::DataByte => {
                    let width = match r.ty {
                        RelocType::DataWord => 4,
                        RelocType::DataHalf => 2,
                        _ => 1,
                    };
                    if width < 4 && u64::from(value) >> (width * 8) != 0 {
                        errs.push((
                            r.sym.loc,
                            format!(
                                "`{shown}` = {value:#06X} does not fit {} (use .word, or lo16()/off16())",
                                if width == 1 { ".byte" } else { ".half" }
                            ),
                        ));
                        continue;
                    }
                    let bytes = value.to_le_bytes();
                    if let Some(dst) = o.rodata.get_mut(at..at + width) {
                        dst.copy_from_slice(&bytes[..width]);
                    }
                }
            }
        }
    }

    // Command handlers: global symbols first, then the declaring object's own labels.
    let mut resolved_cmds = Vec::with_capacity(commands.len());
    for (c, loc, oi) in commands {
        let handler = match &c.handler {
            HandlerSpec::None => 0,
            HandlerSpec::Offset(n) => *n,
            HandlerSpec::Symbol(name) => {
                let found = global
                    .get(name)
                    .map(|g| (g.section, g.address))
                    .or_else(|| {
                        objects[oi]
                            .label(name)
                            .map(|l| (l.section, addr_of(oi, l.section, l.offset)))
                    });
                match found {
                    Some((Section::Text, a)) => a,
                    Some((Section::Data, _)) => {
                        errs.push((
                            loc,
                            format!("command handler `{name}` must be a .text label, not .data"),
                        ));
                        0
                    }
                    None => {
                        errs.push((
                            loc,
                            format!("command handler `{name}` is not defined in any linked file"),
                        ));
                        0
                    }
                }
            }
        };
        resolved_cmds.push((c, handler));
    }

    // Entry: `_start` if exported anywhere, else the first object's exported entry symbol,
    // else object 0's `.entry` offset.
    let entry = if let Some(s) = global.get("_start") {
        s.address
    } else if let Some(s) = objects
        .iter()
        .find_map(|o| o.entry_symbol.as_ref().and_then(|(n, _)| global.get(n)))
    {
        s.address
    } else {
        objects.first().map(|o| o.entry).unwrap_or(0)
    };

    let mut code = Vec::with_capacity((code_off / 4) as usize);
    let mut rodata = Vec::with_capacity(ro_off as usize);
    for o in objects.iter() {
        code.extend_from_slice(&o.code);
        rodata.extend_from_slice(&o.rodata);
    }
    if errs.is_empty() {
        let code_len = code.len() as u32 * 4;
        let where_ = objects.first().map(|o| {
            o.entry_loc.unwrap_or(Loc {
                file: o.file,
                line: 1,
                start: 0,
                end: 1,
            })
        });
        if let Some(loc) = where_ {
            if code_len == 0 {
                errs.push((
                    loc,
                    "the program has no instructions (an image needs at least one)".into(),
                ));
            } else if entry % 4 != 0 || entry >= code_len {
                errs.push((
                    loc,
                    format!("entry point {entry:#06X} is not a word-aligned address inside the code (0..{code_len:#06X})"),
                ));
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }

    let mut symbols = Vec::new();
    for (oi, o) in objects.iter().enumerate() {
        for l in &o.labels {
            symbols.push(LinkedSym {
                name: l.name.clone(),
                section: l.section,
                address: addr_of(oi, l.section, l.offset),
                offset: l.offset,
                object: oi,
                exported: global.get(&l.name).is_some_and(|g| g.object == oi),
                loc: l.loc,
            });
        }
    }

    Ok(Linked {
        code,
        rodata,
        entry,
        values: values.into_iter().map(|(v, _)| v).collect(),
        commands: resolved_cmds,
        mailboxes: mailboxes.into_iter().map(|(m, _)| m).collect(),
        symbols,
        bases,
        call_targets,
        warnings,
        isa_ext: objects.iter().fold(0, |bits, o| bits | o.isa_ext),
    })
}

fn patch12(code: &mut [u32], at: usize, value: u32) {
    if let Some(w) = code.get_mut(at) {
        *w = (*w & !0xFFF) | (value & 0xFFF);
    }
}
