//! The whole program: which functions are reachable, where globals and tables live, the
//! entry stub, runtime routines and thunks, and the memory layout.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::emit::{Cc, Code, Label};
use crate::error::CcError;
use crate::func::Fx;
use crate::imports::{ThunkEnv, emit_thunk};
use crate::module::{Module, Sig};
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
    flabels: Vec<Option<Label>>,
    queue: Vec<u32>,
    rts: BTreeMap<Rt, (Label, bool)>,
    itables: BTreeMap<u32, (Label, bool)>,
    trap: Option<Label>,
    gaddrs: HashMap<u32, u32>,
    next_global: u32,
    /// Translated functions in code order.
    pub spans: Vec<FuncSpan>,
    /// (code address, wasm byte offset) at each operator that produced code.
    pub pcmap: Vec<(u32, usize)>,
    callers: HashMap<u32, BTreeSet<u32>>,
    current: u32,
    /// The layout (known before translation: thunks need the heap end).
    pub layout: Layout,
    exports_by_name: HashMap<&'m str, u32>,
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
            current: 0,
            layout,
            exports_by_name,
        })
    }

    /// The label of function `f`, queueing it for translation.
    pub fn func_label(&mut self, f: u32) -> Result<Label, CcError> {
        let slot = self
            .flabels
            .get_mut(f as usize)
            .ok_or_else(|| CcError::BadWasm(format!("function index {f} out of range")))?;
        if f < self.m.num_imports() {
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

    fn callers_of(&self, f: u32) -> String {
        let names: Vec<String> = self
            .callers
            .get(&f)
            .map(|s| s.iter().take(4).map(|c| self.m.name(*c)).collect())
            .unwrap_or_default();
        if names.is_empty() {
            "nowhere".into()
        } else {
            names.join(", ")
        }
    }

    /// Translate everything reachable from the entry point.
    pub fn build(&mut self) -> Result<(), CcError> {
        let start = *self.m.func_exports.get("_start").ok_or_else(|| {
            CcError::Unsupported("the module has no `_start` (is there a main function?)".into())
        })?;
        // Entry stub: run the wasm start function and `_start`, then exit with status 0
        // (`_start` calls `proc_exit` itself for a non-zero status).
        if let Some(s) = self.m.start {
            let l = self.func_label(s)?;
            self.code.call(l);
        }
        let l = self.func_label(start)?;
        self.code.call(l);
        self.code.li(0, 0);
        self.code.svc(1, 0);
        self.code.trap();
        loop {
            if let Some(f) = self.queue.pop() {
                self.emit_function(f)?;
                continue;
            }
            if let Some((&rt, _)) = self.rts.iter().find(|(_, (_, done))| !done) {
                let l = self.rts[&rt].0;
                self.rts.insert(rt, (l, true));
                self.code.bind(l);
                let rts = self.rts.clone();
                runtime::emit(&mut self.code, rt, |r| rts[&r].0);
                continue;
            }
            if let Some((&ty, _)) = self.itables.iter().find(|(_, (_, done))| !done) {
                let l = self.itables[&ty].0;
                self.itables.insert(ty, (l, true));
                self.emit_table(ty, l)?;
                continue;
            }
            break;
        }
        if let Some(t) = self.trap {
            self.code.bind(t);
            self.code.trap();
        }
        if self.code.here() > 0x1_0000 {
            return Err(CcError::TooLarge(format!(
                "{} bytes of MiniVM code (the limit is 65536); try -Os, or move work out of \
                 large library functions",
                self.code.here()
            )));
        }
        Ok(())
    }

    fn emit_function(&mut self, f: u32) -> Result<(), CcError> {
        let l = self.flabels[f as usize].ok_or_else(|| CcError::Internal("no label".into()))?;
        let start = self.code.here();
        self.code.bind(l);
        self.current = f;
        let locals = if f < self.m.num_imports() {
            let imp = self.m.imports[f as usize].clone();
            let sig = self.m.func_sig(f)?.clone();
            let callers = self.callers_of(f);
            let heap_end = self.layout.heap_end;
            let mut labels = HashMap::new();
            for &r in crate::imports::needs(&imp) {
                labels.insert(r, self.rt(r));
            }
            let lookup = |r: Rt| labels.get(&r).copied().unwrap_or(Label(u32::MAX));
            let mut env = ThunkEnv {
                heap_end,
                rt: &lookup,
                callers,
            };
            emit_thunk(&mut self.code, &imp, &sig, &mut env)?;
            Vec::new()
        } else {
            Fx::translate(self, f)?
        };
        self.spans.push(FuncSpan {
            fidx: f,
            locals,
            name: self.m.name(f),
            start,
            end: self.code.here(),
        });
        Ok(())
    }

    fn emit_table(&mut self, ty: u32, l: Label) -> Result<(), CcError> {
        let want: Sig = self.m.sig(ty)?.clone();
        let trap = self.trap_label();
        self.code.bind(l);
        for slot in 0..self.m.table.len() {
            let target = match self.m.table[slot] {
                Some(f) if self.m.func_sig(f).ok() == Some(&want) => self.func_label(f)?,
                _ => trap,
            };
            self.code.b(Cc::Al, target);
        }
        Ok(())
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
