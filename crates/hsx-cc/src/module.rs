//! The parts of a linked wasm module the translator needs, read with `wasmparser` after the
//! whole module has been validated (so every later step may rely on well-typed code).

use std::collections::HashMap;

use wasmparser::{
    CompositeInnerType, DataKind, ElementItems, ElementKind, ExternalKind, FunctionBody,
    KnownCustom, Name, Operator, Parser, Payload, TypeRef, ValType, Validator, WasmFeatures,
};

use crate::error::CcError;

/// A value type the translator supports, by its size in MiniVM words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    /// `i32`: one word.
    I32,
    /// `i64`: two words, low word first.
    I64,
    /// `f32`: one word holding the IEEE bits.
    F32,
    /// `f64`: two words holding the IEEE bits, low word first.
    F64,
}

impl Ty {
    /// Words this type occupies in registers and frame slots.
    pub fn words(self) -> u32 {
        match self {
            Ty::I32 | Ty::F32 => 1,
            Ty::I64 | Ty::F64 => 2,
        }
    }

    pub(crate) fn from_wasm(v: ValType, what: &str) -> Result<Ty, CcError> {
        match v {
            ValType::I32 => Ok(Ty::I32),
            ValType::I64 => Ok(Ty::I64),
            ValType::F32 => Ok(Ty::F32),
            ValType::F64 => Ok(Ty::F64),
            other => Err(CcError::Unsupported(format!(
                "{what}: value type {other} (SIMD and reference types are not supported)"
            ))),
        }
    }
}

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sig {
    /// Parameter types.
    pub params: Vec<Ty>,
    /// Result types (at most one word pair is supported at call boundaries).
    pub results: Vec<Ty>,
}

impl Sig {
    /// Total words of the parameters.
    pub fn param_words(&self) -> u32 {
        self.params.iter().map(|t| t.words()).sum()
    }

    /// Total words of the results.
    pub fn result_words(&self) -> u32 {
        self.results.iter().map(|t| t.words()).sum()
    }
}

/// An imported function.
#[derive(Debug, Clone)]
pub struct FuncImport {
    /// Module name (`wasi_snapshot_preview1`, `hsx_svc`, `hsx`, ...).
    pub module: String,
    /// Field name.
    pub name: String,
    /// Type index.
    pub ty: u32,
}

/// A global's type and initial value (as raw bits).
#[derive(Debug, Clone, Copy)]
pub struct Global {
    /// Value type.
    pub ty: Ty,
    /// Whether `global.set` may change it.
    pub mutable: bool,
    /// Initial value bits.
    pub init: u64,
}

/// The module, borrowed from the wasm bytes.
pub struct Module<'a> {
    /// Function types by type index.
    pub types: Vec<Option<Sig>>,
    /// Imported functions; they take the first function indices.
    pub imports: Vec<FuncImport>,
    /// Type index of each defined function (index = function index − imports).
    pub func_types: Vec<u32>,
    /// Bodies of the defined functions.
    pub bodies: Vec<FunctionBody<'a>>,
    /// Globals (the module defines them all; wasm-ld does not import globals for commands).
    pub globals: Vec<Global>,
    /// Table 0 contents: function index per slot (`None` = null).
    pub table: Vec<Option<u32>>,
    /// Active data segments (address, bytes).
    pub data: Vec<(u32, &'a [u8])>,
    /// Exported functions by name.
    pub func_exports: HashMap<String, u32>,
    /// Exported globals by name (`__heap_base`, `__data_end`).
    pub global_exports: HashMap<String, u32>,
    /// Function names from the name section.
    pub names: HashMap<u32, String>,
    /// The start function, if any.
    pub start: Option<u32>,
    /// Custom sections by name (DWARF).
    pub custom: HashMap<String, &'a [u8]>,
    /// Byte offset of the Code section's payload in the module file (DWARF code addresses
    /// are relative to it).
    pub code_start: usize,
}

/// Features clang-16's wasm32 backend can emit by default, plus bulk memory and the
/// non-trapping float-to-int conversions a user may enable.
fn features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::FLOATS
}

fn const_value(expr: &wasmparser::ConstExpr<'_>) -> Result<u64, CcError> {
    let mut ops = expr.get_operators_reader();
    let op = ops.read()?;
    Ok(match op {
        Operator::I32Const { value } => value as u32 as u64,
        Operator::I64Const { value } => value as u64,
        Operator::F32Const { value } => u64::from(value.bits()),
        Operator::F64Const { value } => value.bits(),
        other => {
            return Err(CcError::Unsupported(format!(
                "constant expression {other:?} (only plain constants are supported)"
            )));
        }
    })
}

impl<'a> Module<'a> {
    /// Validate and read a module.
    pub fn parse(bytes: &'a [u8]) -> Result<Module<'a>, CcError> {
        Validator::new_with_features(features())
            .validate_all(bytes)
            .map_err(|e| CcError::BadWasm(e.to_string()))?;
        let mut m = Module {
            types: Vec::new(),
            imports: Vec::new(),
            func_types: Vec::new(),
            bodies: Vec::new(),
            globals: Vec::new(),
            table: Vec::new(),
            data: Vec::new(),
            func_exports: HashMap::new(),
            global_exports: HashMap::new(),
            names: HashMap::new(),
            start: None,
            custom: HashMap::new(),
            code_start: 0,
        };
        for payload in Parser::new(0).parse_all(bytes) {
            match payload? {
                Payload::TypeSection(r) => {
                    for group in r {
                        for sub in group?.into_types() {
                            m.types.push(match &sub.composite_type.inner {
                                CompositeInnerType::Func(f) => {
                                    let conv = |v: &[ValType]| {
                                        v.iter()
                                            .map(|t| Ty::from_wasm(*t, "function type"))
                                            .collect::<Result<Vec<_>, _>>()
                                    };
                                    // Types nobody uses may mention unsupported value types;
                                    // only a function that uses one is an error.
                                    match (conv(f.params()), conv(f.results())) {
                                        (Ok(params), Ok(results)) => Some(Sig { params, results }),
                                        _ => None,
                                    }
                                }
                                _ => None,
                            });
                        }
                    }
                }
                Payload::ImportSection(r) => {
                    for imp in r.into_imports() {
                        let imp = imp?;
                        match imp.ty {
                            TypeRef::Func(ty) => m.imports.push(FuncImport {
                                module: imp.module.to_string(),
                                name: imp.name.to_string(),
                                ty,
                            }),
                            _ => {
                                return Err(CcError::Unsupported(format!(
                                    "import {}.{} is not a function (link without --import-memory)",
                                    imp.module, imp.name
                                )));
                            }
                        }
                    }
                }
                Payload::FunctionSection(r) => {
                    for t in r {
                        m.func_types.push(t?);
                    }
                }
                Payload::GlobalSection(r) => {
                    for g in r {
                        let g = g?;
                        m.globals.push(Global {
                            ty: Ty::from_wasm(g.ty.content_type, "global")?,
                            mutable: g.ty.mutable,
                            init: const_value(&g.init_expr)?,
                        });
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e?;
                        match e.kind {
                            ExternalKind::Func => {
                                m.func_exports.insert(e.name.to_string(), e.index);
                            }
                            ExternalKind::Global => {
                                m.global_exports.insert(e.name.to_string(), e.index);
                            }
                            _ => {}
                        }
                    }
                }
                Payload::StartSection { func, .. } => m.start = Some(func),
                Payload::ElementSection(r) => {
                    for el in r {
                        let el = el?;
                        let ElementKind::Active {
                            table_index,
                            offset_expr,
                        } = el.kind
                        else {
                            continue;
                        };
                        if table_index.unwrap_or(0) != 0 {
                            return Err(CcError::Unsupported("more than one table".into()));
                        }
                        let base = const_value(&offset_expr)? as usize;
                        let ElementItems::Functions(funcs) = el.items else {
                            return Err(CcError::Unsupported(
                                "element segments with expressions".into(),
                            ));
                        };
                        for (i, f) in funcs.into_iter().enumerate() {
                            let slot = base + i;
                            if slot > 1 << 16 {
                                return Err(CcError::Unsupported(
                                    "function table larger than 65536 entries".into(),
                                ));
                            }
                            if m.table.len() <= slot {
                                m.table.resize(slot + 1, None);
                            }
                            m.table[slot] = Some(f?);
                        }
                    }
                }
                Payload::DataSection(r) => {
                    for d in r {
                        let d = d?;
                        if let DataKind::Active { offset_expr, .. } = d.kind {
                            let at = const_value(&offset_expr)?;
                            let at = u32::try_from(at).map_err(|_| {
                                CcError::Unsupported("data segment above 4 GiB".into())
                            })?;
                            m.data.push((at, d.data));
                        } else {
                            return Err(CcError::Unsupported(
                                "passive data segments (memory.init)".into(),
                            ));
                        }
                    }
                }
                Payload::CodeSectionStart {
                    unchecked_range, ..
                } => m.code_start = unchecked_range.start as usize,
                Payload::CodeSectionEntry(body) => m.bodies.push(body),
                Payload::CustomSection(c) => {
                    if let KnownCustom::Name(names) = c.as_known() {
                        for n in names {
                            if let Ok(Name::Function(map)) = n {
                                for naming in map.into_iter().flatten() {
                                    m.names.insert(naming.index, naming.name.to_string());
                                }
                            }
                        }
                    } else {
                        m.custom.insert(c.name().to_string(), c.data());
                    }
                }
                _ => {}
            }
        }
        Ok(m)
    }

    /// Number of imported functions (the first defined function's index).
    pub fn num_imports(&self) -> u32 {
        self.imports.len() as u32
    }

    /// Signature of function `f` (imported or defined).
    pub fn func_sig(&self, f: u32) -> Result<&Sig, CcError> {
        let ty = if f < self.num_imports() {
            self.imports[f as usize].ty
        } else {
            *self
                .func_types
                .get((f - self.num_imports()) as usize)
                .ok_or_else(|| CcError::BadWasm(format!("function index {f} out of range")))?
        };
        self.sig(ty)
            .map_err(|_| CcError::Unsupported(format!("{}: unsupported signature", self.name(f))))
    }

    /// Signature of type `ty`.
    pub fn sig(&self, ty: u32) -> Result<&Sig, CcError> {
        self.types
            .get(ty as usize)
            .and_then(|s| s.as_ref())
            .ok_or_else(|| CcError::Unsupported(format!("type {ty}: unsupported value types")))
    }

    /// A printable name for function `f`.
    pub fn name(&self, f: u32) -> String {
        if let Some(n) = self.names.get(&f) {
            // clang renames a `main(void)` so that the C runtime can call it without argv.
            return if n == "__original_main" {
                "main".into()
            } else {
                n.clone()
            };
        }
        if let Some(imp) = self.imports.get(f as usize) {
            return format!("{}.{}", imp.module, imp.name);
        }
        format!("func{f}")
    }
}
