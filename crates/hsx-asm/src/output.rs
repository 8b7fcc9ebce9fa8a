//! The linked program → `hsx_image` types: the `.hxe` image and the `.sym` symbol file.
//! All knowledge of the image crate's model lives here.

use std::collections::{BTreeMap, BTreeSet};

use hsx_image::sym::{Function, Instruction, MemoryRegion, SymFile, Variable};
use hsx_image::{
    CommandEntry, FLAG_ALLOW_MULTIPLE, Image, MailboxEntry, Metadata, RODATA_BASE, ValueEntry,
};

use crate::link::Linked;
use crate::meta::MailboxSpec;
use crate::object::{Object, Section};
use crate::source::Sources;

/// Header-level choices for the image.
pub(crate) struct ImageParams {
    pub v1: bool,
    pub app_name: Option<String>,
    pub allow_multiple: bool,
    pub req_caps: u16,
}

fn mailbox_entry(m: &MailboxSpec) -> MailboxEntry {
    MailboxEntry {
        raw: Some(m.raw.clone()),
        ..MailboxEntry::new(m.target.clone())
    }
}

/// Check that the loader will accept a `.mailbox` entry (mode names, capacity, bindings)
/// by writing and re-reading a one-entry image.
pub(crate) fn check_mailbox(m: &MailboxSpec) -> Result<(), String> {
    let mut img = Image::new(0x2500_0000u32.to_be_bytes().to_vec(), Vec::new(), 0);
    img.metadata.mailboxes.push(mailbox_entry(m));
    Image::parse(&img.to_v2_bytes())
        .map(|_| ())
        .map_err(|e| format!("invalid .mailbox entry: {e}"))
}

/// Build, write and re-read the image. Returns the parsed image and its bytes.
pub(crate) fn build_image(linked: &Linked, p: &ImageParams) -> Result<(Image, Vec<u8>), String> {
    let code: Vec<u8> = linked.code.iter().flat_map(|w| w.to_be_bytes()).collect();
    let mut img = Image::new(code, linked.rodata.clone(), linked.entry);
    img.req_caps = u32::from(p.req_caps);
    let has_meta =
        !(linked.values.is_empty() && linked.commands.is_empty() && linked.mailboxes.is_empty());
    img.isa_ext = linked.isa_ext;
    if p.v1 {
        if has_meta {
            return Err(
                "metadata (.value/.cmd/.mailbox) needs a v2 image; v1 cannot carry it".into(),
            );
        }
        if linked.isa_ext != 0 {
            return Err(format!(
                "the program uses MiniVM ISA extension bits {:#X} (EXT1 instructions or .isa_ext), which need a v2 image; v1 cannot declare them",
                linked.isa_ext
            ));
        }
        img.version = hsx_image::VERSION_V1;
        img.flags = 0;
    } else {
        img.flags = if p.allow_multiple {
            FLAG_ALLOW_MULTIPLE
        } else {
            0
        };
        img.app_name = p.app_name.clone();
        img.metadata = Metadata {
            values: linked
                .values
                .iter()
                .map(|v| ValueEntry {
                    group: v.group,
                    id: v.id,
                    flags: v.flags,
                    auth: v.auth,
                    init: v.init,
                    name: v.name.clone(),
                    unit: v.unit.clone(),
                    epsilon: v.epsilon,
                    min: v.min,
                    max: v.max,
                    persist_key: v.persist_key,
                    group_name: v.group_name.clone(),
                })
                .collect(),
            commands: linked
                .commands
                .iter()
                .map(|(c, handler)| CommandEntry {
                    group: c.group,
                    id: c.id,
                    flags: c.flags,
                    auth: c.auth,
                    handler: *handler,
                    name: c.name.clone(),
                    help: c.help.clone(),
                    group_name: c.group_name.clone(),
                    reserved: c.reserved,
                })
                .collect(),
            mailboxes: linked.mailboxes.iter().map(mailbox_entry).collect(),
            other: Vec::new(),
        };
        img.metadata.validate().map_err(|e| e.to_string())?;
    }
    let bytes = if p.v1 {
        img.to_v1_bytes()
    } else {
        img.to_v2_bytes()
    };
    let parsed = Image::parse(&bytes).map_err(|e| e.to_string())?;
    Ok((parsed, bytes))
}

/// The `.sym` file for an assembly-only program.
///
/// Functions: text labels that are exported, the entry point, or a `CALL` target; each
/// extends to the next function or the end of its object's code. Variables: every data
/// label (`scope` "global" when exported, else "static"), sized to the next data label.
/// Labels: every label. Instructions: one record per emitted instruction, with the MVASM
/// file, line and column as the source position.
pub(crate) fn build_sym(
    linked: &Linked,
    objects: &[Object],
    sources: &Sources,
    hxe_path: &str,
    crc: u32,
) -> SymFile {
    let calls: BTreeSet<u32> = linked.call_targets.iter().copied().collect();
    let obj_code_end = |oi: usize| {
        linked.bases.get(oi).map(|b| b.0).unwrap_or(0)
            + objects
                .get(oi)
                .map(|o| o.code.len() as u32 * 4)
                .unwrap_or(0)
    };
    let obj_ro_end = |oi: usize| {
        RODATA_BASE
            + linked.bases.get(oi).map(|b| b.1).unwrap_or(0)
            + objects.get(oi).map(|o| o.rodata.len() as u32).unwrap_or(0)
    };

    // One function per address; exported names win, then definition order.
    let mut fn_at: BTreeMap<u32, (usize, bool)> = BTreeMap::new();
    for (i, s) in linked.symbols.iter().enumerate() {
        if s.section != Section::Text {
            continue;
        }
        if !(s.exported || s.address == linked.entry || calls.contains(&s.address)) {
            continue;
        }
        match fn_at.get(&s.address) {
            Some((_, true)) => {}
            Some((_, false)) if !s.exported => {}
            _ => {
                fn_at.insert(s.address, (i, s.exported));
            }
        }
    }
    let fn_list: Vec<(u32, usize)> = fn_at.iter().map(|(a, (i, _))| (*a, *i)).collect();
    let mut functions = Vec::new();
    let mut ranges: Vec<(u32, u32, String)> = Vec::new();
    for (k, (addr, si)) in fn_list.iter().enumerate() {
        let s = &linked.symbols[*si];
        let mut end = obj_code_end(s.object);
        if let Some((next, _)) = fn_list.get(k + 1) {
            end = end.min(*next);
        }
        let size = end.saturating_sub(*addr);
        ranges.push((*addr, addr + size, s.name.clone()));
        functions.push(Function {
            name: s.name.clone(),
            linkage_name: None,
            address: *addr,
            size,
            file: Some(sources.name(s.loc.file).to_string()),
            line: Some(s.loc.line),
        });
    }

    // Data label addresses per object, sorted, to size each variable up to the next one.
    let mut data_addrs: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    for s in linked.symbols.iter().filter(|s| s.section == Section::Data) {
        data_addrs.entry(s.object).or_default().push(s.address);
    }
    for v in data_addrs.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    let mut variables = Vec::new();
    for s in linked.symbols.iter().filter(|s| s.section == Section::Data) {
        let next = data_addrs
            .get(&s.object)
            .and_then(|v| v.get(v.partition_point(|&a| a <= s.address)).copied())
            .unwrap_or_else(|| obj_ro_end(s.object));
        variables.push(Variable {
            name: s.name.clone(),
            address: s.address,
            size: next.saturating_sub(s.address),
            scope: Some(if s.exported { "global" } else { "static" }.to_string()),
            ty: None,
            type_id: None,
        });
    }

    let mut labels: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &linked.symbols {
        let names = labels.entry(SymFile::label_key(s.address)).or_default();
        if !names.contains(&s.name) {
            names.push(s.name.clone());
        }
    }

    let mut instructions = Vec::new();
    for (oi, o) in objects.iter().enumerate() {
        let base = linked.bases.get(oi).map(|b| b.0).unwrap_or(0);
        for ins in &o.instrs {
            let pc = base + ins.ordinal * 4;
            // `ranges` is sorted by start and non-overlapping.
            let k = ranges.partition_point(|(a, _, _)| *a <= pc);
            let function = k
                .checked_sub(1)
                .and_then(|k| ranges.get(k))
                .filter(|(_, e, _)| pc < *e)
                .map(|(_, _, n)| n.clone());
            instructions.push(Instruction {
                pc,
                word: linked.code.get((pc / 4) as usize).copied().unwrap_or(0),
                mvasm_line: Some(ins.loc.line),
                ordinal: ins.ordinal,
                function,
                file: Some(sources.name(ins.loc.file).to_string()),
                directory: None,
                file_id: None,
                line: Some(ins.loc.line),
                column: Some(sources.col(ins.loc) as u32),
                source_kind: Some("source".into()),
            });
        }
    }

    let mut memory_regions = Vec::new();
    if !linked.code.is_empty() {
        memory_regions.push(MemoryRegion {
            name: "code".into(),
            kind: "text".into(),
            start: 0,
            end: linked.code.len() as u32 * 4 - 1,
        });
    }
    if !linked.rodata.is_empty() {
        memory_regions.push(MemoryRegion {
            name: "rodata".into(),
            kind: "data".into(),
            start: RODATA_BASE,
            end: RODATA_BASE + linked.rodata.len() as u32 - 1,
        });
    }

    let mut sym = SymFile {
        hxe_path: hxe_path.to_string(),
        hxe_crc: crc,
        instructions,
        memory_regions,
        ..SymFile::default()
    };
    sym.symbols.functions = functions;
    sym.symbols.variables = variables;
    sym.symbols.labels = labels;
    sym.sort_canonical();
    sym
}
