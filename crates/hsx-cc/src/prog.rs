//! The whole program: which functions are reachable, where globals and tables live, the
//! entry stub, runtime routines and thunks, and the memory layout.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::emit::{Code, Label};
use crate::error::CcError;
use crate::module::Module;
use crate::runtime::{self, Rt};

/// Data address of the mutable wasm globals (the C stack pointer first).
pub const GLOBALS_BASE: u32 = 0x4000;
/// Bytes reserved for them; the linker places data right after.
pub const GLOBALS_SIZE: u32 = 0x40;
/// Where `wasm-ld --global-base` puts the first data segment.
pub const DATA_BASE: u32 = GLOBALS_BASE + GLOBALS_SIZE;
/// Highest stack address of a MiniVM task (the executive's initial SP).
pub const STACK_TOP: u32 = 0xFFFC;

/// Memory-layout choices.
#[derive(Debug, Clone, Copy)]
pub struct LayoutOptions {
    /// Bytes of MiniVM stack (return addresses and frames) the task gets.
    pub vm_stack: u32,
    /// Maximum heap bytes (`None`: everything between the data and the MiniVM stack).
    pub heap: Option<u32>,
}

/// A translated function's extent.
#[derive(Debug, Clone)]
pub struct FuncSpan {
    /// wasm function index.
    pub fidx: u32,
    /// Function name.
    pub name: String,
    /// Where each wasm local (parameters first) lives; empty for imports and routines.
    pub locals: Vec<crate::frame::Local>,
    /// First code byte.
    pub start: u32,
    /// One past the last code byte.
    pub end: u32,
}

/// The memory layout the program ended up with.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// End of initialised data (rodata is `[GLOBALS_BASE, data_end)`).
    pub data_end: u32,
    /// Start of the malloc arena (after bss and the C stack).
    pub heap_base: u32,
    /// End of the malloc arena.
    pub heap_end: u32,
    /// MiniVM stack bytes.
    pub vm_stack: u32,
}

/// Program-wide translation state.
pub struct Prog<'m, 'a> {
    /// The module.
    pub m: &'m Module<'a>,
    /// All code.
    pub code: Code,
    pub(crate) flabels: Vec<Option<Label>>,
    pub(crate) queue: Vec<u32>,
    pub(crate) rts: BTreeMap<Rt, (Label, bool)>,
    pub(crate) itables: BTreeMap<u32, (Label, bool)>,
    pub(crate) trap: Option<Label>,
    pub(crate) gaddrs: HashMap<u32, u32>,
    pub(crate) next_global: u32,
    /// Translated functions in code order.
    pub spans: Vec<FuncSpan>,
    /// (code address, wasm byte offset) at each operator that produced code.
    pub pcmap: Vec<(u32, usize)>,
    pub(crate) callers: HashMap<u32, BTreeSet<u32>>,
    pub(crate) current: u32,
    /// The layout (known before translation: thunks need the heap end).
    pub layout: Layout,
    /// `argv[0]` of the program.
    pub argv0: String,
    pub(crate) exports_by_name: HashMap<&'m str, u32>,
}

impl<'m, 'a> Prog<'m, 'a> {
    /// Set up a program over `m` with memory laid out per `opts`.
    pub fn new(m: &'m Module<'a>, opts: LayoutOptions) -> Result<Self, CcError> {
        let layout = compute_layout(m, opts)?;
        let mut exports_by_name = HashMap::new();
        for (n, f) in &m.func_exports {
            exports_by_name.insert(n.as_str(), *f);
        }
        for (f, n) in &m.names {
            exports_by_name.entry(n.as_str()).or_insert(*f);
        }
        let total = m.num_imports() as usize + m.bodies.len();
        Ok(Prog {
            m,
            code: Code::default(),
            flabels: vec![None; total],
            queue: Vec::new(),
            rts: BTreeMap::new(),
            itables: BTreeMap::new(),
            trap: None,
            gaddrs: HashMap::new(),
            next_global: GLOBALS_BASE,
            spans: Vec::new(),
            pcmap: Vec::new(),
            callers: HashMap::new(),
            current: u32::MAX,
            layout,
            exports_by_name,
            argv0: "app".into(),
        })
    }

    /// The label of function `f`, queueing it for translation.
    pub fn func_label(&mut self, f: u32) -> Result<Label, CcError> {
        let slot = self
            .flabels
            .get_mut(f as usize)
            .ok_or_else(|| CcError::BadWasm(format!("function index {f} out of range")))?;
        if f != self.current && self.current != u32::MAX {
            self.callers.entry(f).or_default().insert(self.current);
        }
        if let Some(l) = *slot {
            return Ok(l);
        }
        let l = self.code.label();
        self.flabels[f as usize] = Some(l);
        self.queue.push(f);
        Ok(l)
    }

    /// Function index of a runtime function by name (compiler-rt, HSX libc).
    pub fn helper(&self, name: &str, from: u32) -> Result<u32, CcError> {
        self.exports_by_name.get(name).copied().ok_or_else(|| {
            CcError::Unsupported(format!(
                "{} needs the runtime function {name}, which is not in the linked module \
                 (was it linked with `hsx cc`?)",
                self.m.name(from)
            ))
        })
    }

    /// The entry of a runtime routine.
    pub fn rt(&mut self, rt: Rt) -> Label {
        if let Some((l, _)) = self.rts.get(&rt) {
            return *l;
        }
        let l = self.code.label();
        self.rts.insert(rt, (l, false));
        for &d in runtime::deps(rt) {
            self.rt(d);
        }
        l
    }

    /// The shared trap (an illegal instruction: the task faults there).
    pub fn trap_label(&mut self) -> Label {
        if let Some(l) = self.trap {
            return l;
        }
        let l = self.code.label();
        self.trap = Some(l);
        l
    }

    /// The `call_indirect` jump table for type index `ty`.
    pub fn indirect_table(&mut self, ty: u32) -> Result<Label, CcError> {
        if let Some((l, _)) = self.itables.get(&ty) {
            return Ok(*l);
        }
        let l = self.code.label();
        self.itables.insert(ty, (l, false));
        Ok(l)
    }

    /// Data address of mutable global `g`.
    pub fn global_addr(&mut self, g: u32) -> Result<u32, CcError> {
        if let Some(a) = self.gaddrs.get(&g) {
            return Ok(*a);
        }
        let words = self
            .m
            .globals
            .get(g as usize)
            .map(|gl| gl.ty.words())
            .ok_or_else(|| CcError::BadWasm(format!("global {g} out of range")))?;
        let a = self.next_global;
        if a + 4 * words > GLOBALS_BASE + GLOBALS_SIZE {
            return Err(CcError::TooLarge(format!(
                "more than {} bytes of mutable wasm globals",
                GLOBALS_SIZE
            )));
        }
        self.next_global += 4 * words;
        self.gaddrs.insert(g, a);
        Ok(a)
    }

    /// Record that the code from here on comes from wasm byte offset `off`.
    pub fn mark_source(&mut self, off: usize) {
        let pc = self.code.here();
        match self.pcmap.last_mut() {
            Some(last) if last.0 == pc => last.1 = off,
            _ => self.pcmap.push((pc, off)),
        }
    }

    /// The call chain that reached `f`, innermost first (`a ← b ← main`), for errors.
    pub(crate) fn callers_of(&self, f: u32) -> String {
        let mut chain = Vec::new();
        let mut at = f;
        while chain.len() < 8 {
            let Some(&c) = self.callers.get(&at).and_then(|s| s.iter().next()) else {
                break;
            };
            if chain.contains(&c) || c == at {
                break;
            }
            chain.push(c);
            at = c;
        }
        if chain.is_empty() {
            return "nowhere".into();
        }
        chain
            .iter()
            .map(|c| self.m.name(*c))
            .collect::<Vec<_>>()
            .join(" ← ")
    }
}

fn compute_layout(m: &Module<'_>, opts: LayoutOptions) -> Result<Layout, CcError> {
    let mut data_end = DATA_BASE;
    for &(at, bytes) in &m.data {
        if at < DATA_BASE {
            return Err(CcError::Unsupported(format!(
                "data segment at 0x{at:X}, below 0x{DATA_BASE:X} (link with --global-base={DATA_BASE})"
            )));
        }
        data_end = data_end.max(at.saturating_add(bytes.len() as u32));
    }
    let heap_base = m
        .global_exports
        .get("__heap_base")
        .and_then(|g| m.globals.get(*g as usize))
        .map_or(data_end, |g| g.init as u32);
    let stack_floor = STACK_TOP.saturating_sub(opts.vm_stack) & !15;
    let mut heap_end = stack_floor;
    if let Some(h) = opts.heap {
        heap_end = heap_end.min(heap_base.saturating_add(h));
    }
    if heap_base > stack_floor || data_end > stack_floor {
        return Err(CcError::TooLarge(format!(
            "data, bss and C stack end at 0x{:X}, but a {}-byte MiniVM stack starts at 0x{stack_floor:X} \
             (use a smaller --stack or --c-stack)",
            heap_base.max(data_end),
            opts.vm_stack
        )));
    }
    Ok(Layout {
        data_end,
        heap_base,
        heap_end,
        vm_stack: opts.vm_stack,
    })
}
