//! The translator's entry point: wasm bytes in, image and symbols out.

use std::collections::HashMap;

use hsx_image::Image;
use hsx_image::sym::{Function, MemoryRegion, SymFile};

use crate::dwarf::{DebugInput, add_debug_info};
use crate::error::CcError;
use crate::module::Module;
use crate::prog::{GLOBALS_BASE, Layout, LayoutOptions, Prog};

/// Translation options.
#[derive(Debug, Clone)]
pub struct Options {
    /// App name for the image header.
    pub name: Option<String>,
    /// Bytes of MiniVM stack.
    pub vm_stack: u32,
    /// Heap limit in bytes (`None`: all free memory).
    pub heap: Option<u32>,
    /// Clear the allow-multiple-instances flag.
    pub single_instance: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: None,
            vm_stack: 16 * 1024,
            heap: None,
            single_instance: false,
        }
    }
}

/// What the translator produced.
#[derive(Debug, Clone)]
pub struct Output {
    /// The `.hxe` image bytes.
    pub image: Vec<u8>,
    /// Symbols (functions; lines when the module had DWARF).
    pub sym: SymFile,
    /// Code bytes.
    pub code_len: usize,
    /// Rodata bytes.
    pub ro_len: usize,
    /// The memory layout.
    pub layout: Layout,
    /// (code address, wasm module byte offset) at each operator that produced code.
    pub pcmap: Vec<(u32, usize)>,
    /// Every translated function, thunk and routine in code order, with its locals' homes.
    pub spans: Vec<crate::prog::FuncSpan>,
    /// Problems that did not stop the translation (unreadable DWARF).
    pub warnings: Vec<String>,
}

/// Translate a linked wasm module.
pub fn translate(wasm: &[u8], opts: &Options) -> Result<Output, CcError> {
    let m = Module::parse(wasm)?;
    let mut p = Prog::new(
        &m,
        LayoutOptions {
            vm_stack: opts.vm_stack,
            heap: opts.heap,
        },
    )?;
    // Names are ASCII in the header; keep argv[0] to the same characters.
    p.argv0 = opts
        .name
        .as_deref()
        .unwrap_or("app")
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(31)
        .collect();
    p.build()?;
    let layout = p.layout;
    let spans = std::mem::take(&mut p.spans);
    let pcmap = std::mem::take(&mut p.pcmap);
    let globals: Vec<(u32, u64, u32)> = (0..m.globals.len() as u32)
        .filter(|g| m.globals[*g as usize].mutable)
        .filter_map(|g| {
            let gl = m.globals[g as usize];
            p.global_addr(g).ok().map(|a| (a, gl.init, gl.ty.words()))
        })
        .collect();
    let global_addrs: HashMap<u32, u32> = (0..m.globals.len() as u32)
        .filter(|g| m.globals[*g as usize].mutable)
        .filter_map(|g| p.global_addr(g).ok().map(|a| (g, a)))
        .collect();
    let code = std::mem::take(&mut p.code).finish()?;
    let mut rodata = vec![0u8; (layout.data_end - GLOBALS_BASE) as usize];
    for (addr, init, words) in globals {
        let at = (addr - GLOBALS_BASE) as usize;
        let bytes = init.to_le_bytes();
        rodata[at..at + 4 * words as usize].copy_from_slice(&bytes[..4 * words as usize]);
    }
    for &(at, bytes) in &m.data {
        let off = (at - GLOBALS_BASE) as usize;
        rodata[off..off + bytes.len()].copy_from_slice(bytes);
    }
    let code_len = code.len();
    let ro_len = rodata.len();
    let mut img = Image::new(code, rodata, 0);
    img.app_name = opts.name.clone();
    if opts.single_instance {
        img.flags &= !hsx_image::FLAG_ALLOW_MULTIPLE;
    }
    img.isa_ext = hsx_image::ISA_EXT1;
    // The executive sizes the task from these: the MiniVM stack, and the zeroed bytes after
    // rodata (bss, C stack, heap) up to the heap end.
    img.hints = Some(hsx_image::Hints {
        stack_size: layout.vm_stack,
        heap_size: layout.heap_end - layout.data_end,
    });
    let bytes = img.to_v2_bytes();
    let mut sym = SymFile {
        hxe_crc: hsx_image::compute_crc(&bytes).unwrap_or(0),
        ..SymFile::default()
    };
    sym.memory_regions.push(MemoryRegion {
        name: "code".into(),
        kind: "text".into(),
        start: 0,
        end: (code_len as u32).saturating_sub(1),
    });
    if ro_len > 0 {
        sym.memory_regions.push(MemoryRegion {
            name: "rodata".into(),
            kind: "data".into(),
            start: GLOBALS_BASE,
            end: GLOBALS_BASE + ro_len as u32 - 1,
        });
    }
    for s in &spans {
        sym.symbols.functions.push(Function {
            name: s.name.clone(),
            linkage_name: None,
            address: s.start,
            size: s.end - s.start,
            file: None,
            line: None,
        });
    }
    let mut warnings = Vec::new();
    let input = DebugInput {
        m: &m,
        pcmap: &pcmap,
        spans: &spans,
        global_addrs: &global_addrs,
    };
    if let Err(e) = add_debug_info(&mut sym, &input) {
        warnings.push(format!("debug information left out: malformed DWARF ({e})"));
        sym.lines.clear();
        sym.symbols.locals.clear();
        sym.symbols.variables.clear();
    }
    sym.sort_canonical();
    Ok(Output {
        warnings,
        image: bytes,
        sym,
        code_len,
        ro_len,
        layout,
        pcmap,
        spans,
    })
}
