//! MVASM assembler, linker and disassembler for HSX.
//!
//! * [`assemble_files`] / [`assemble_source`] / [`assemble_sources`]: one or several `.mvasm`
//!   files → a linked `.hxe` image (v2 by default, v1 on request) and optionally a `.sym`
//!   symbol file. Each file is assembled as its own object and the objects are linked in the
//!   order given, exactly as the reference `asm.py` + `hld.py` lay them out, so the bytes are
//!   identical for every program the reference assembles correctly.
//! * [`disassemble`]: an image (+ optional `.sym`) → a listing that is itself valid MVASM and
//!   re-assembles to the same bytes.
//!
//! Where the reference would silently produce wrong code, this assembler reports an error
//! (`file:line:col: error: …`), see `design.md` §4 item 11. Extensions over the reference
//! syntax: `.name "app"`, `.single_instance`, `.req_caps N`, `.word` in `.text` (raw words),
//! labels followed by an instruction on the same line, `[Rb]`/`[Rb-n]` memory operands,
//! multi-line metadata JSON.
//!
//! ```
//! use hsx_asm::{assemble_source, AsmOptions};
//! let out = assemble_source("tiny.mvasm", ".entry main\nmain:\n LDI R0, 42\n RET\n",
//!                           &AsmOptions::default()).unwrap();
//! assert_eq!(out.image.entry, 0);
//! assert_eq!(out.image.app_name.as_deref(), Some("tiny"));
//! assert_eq!(out.image.crc32, 0x57BE_C836);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod asm;
mod diag;
mod disasm;
mod lex;
mod link;
mod meta;
mod object;
mod output;
mod redact;
mod source;

use std::path::{Path, PathBuf};

pub use diag::{AsmError, Diagnostic, Diagnostics, DisasmError};
pub use disasm::{DisasmOptions, disassemble, disassemble_with};
pub use hsx_image::Image;
pub use hsx_image::sym::SymFile;

use asm::Assembler;
use source::Sources;

/// Which `.hxe` header version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HxeVersion {
    /// 32-byte header, no app name, no metadata (what `asm.write_hxe` writes).
    V1,
    /// 96-byte header with app name, flags and metadata (what `hld.py` writes).
    #[default]
    V2,
}

/// Assembler options (the `hsx asm` flags).
#[derive(Debug, Clone, Default)]
pub struct AsmOptions {
    /// Header version to write.
    pub version: HxeVersion,
    /// App name (`--name`); overrides a `.name` directive. Default: the output file's stem,
    /// or the first input's stem when no output path is given.
    pub app_name: Option<String>,
    /// Where the image will be written; used for the default app name and the `.sym`
    /// `hxe_path`. Nothing is written by this crate.
    pub output_path: Option<PathBuf>,
    /// Clear the allow-multiple-instances flag (`--single-instance`; also `.single_instance`).
    pub single_instance: bool,
    /// Required-capabilities mask for the header (also `.req_caps N`).
    pub req_caps: Option<u16>,
    /// Build the `.sym` symbol file.
    pub emit_sym: bool,
    /// Confine `.include` to this directory tree: a target must resolve (symlinks
    /// followed) inside it, be a regular file and hold at most [`MAX_INCLUDE_BYTES`].
    /// For assembling on someone else's behalf (hsxd's `load`), where `.include
    /// "/etc/passwd"` must read nothing.
    pub include_root: Option<PathBuf>,
    /// Diagnostics that quote no source text: no source excerpt, and every word of a
    /// message that also occurs in a source file is replaced by `…`. For reporting to a
    /// client that may not be allowed to read the file.
    pub redact: bool,
}

/// Largest file `.include` reads when [`AsmOptions::include_root`] is set.
pub const MAX_INCLUDE_BYTES: u64 = 4 * 1024 * 1024;

/// One in-memory source file.
#[derive(Debug, Clone)]
pub struct SourceInput {
    /// File name used in diagnostics; `.include` paths are resolved relative to its directory.
    pub name: String,
    /// The MVASM text.
    pub text: String,
}

/// The result of assembling and linking.
#[derive(Debug, Clone)]
pub struct AsmOutput {
    /// The image as the loader reads it back (CRC filled in, metadata parsed).
    pub image: Image,
    /// The `.hxe` file contents.
    pub hxe_bytes: Vec<u8>,
    /// The `.sym` file model, when [`AsmOptions::emit_sym`] was set
    /// (serialise with [`SymFile::to_json_string`]).
    pub sym: Option<SymFile>,
    /// Non-fatal findings, formatted `file:line:col: warning: …`.
    pub warnings: Vec<String>,
}

/// Assemble and link source files read from disk, in the given order.
pub fn assemble_files(paths: &[PathBuf], opts: &AsmOptions) -> Result<AsmOutput, AsmError> {
    let mut inputs = Vec::with_capacity(paths.len());
    for p in paths {
        let text = std::fs::read_to_string(p).map_err(|source| AsmError::Io {
            path: p.display().to_string(),
            source,
        })?;
        inputs.push(SourceInput {
            name: p.display().to_string(),
            text,
        });
    }
    assemble_owned(inputs, opts)
}

/// Assemble one in-memory source (e.g. for `hsx run file.mvasm`).
pub fn assemble_source(name: &str, text: &str, opts: &AsmOptions) -> Result<AsmOutput, AsmError> {
    assemble_owned(
        vec![SourceInput {
            name: name.to_string(),
            text: text.to_string(),
        }],
        opts,
    )
}

/// Assemble several in-memory sources and link them in order.
pub fn assemble_sources(inputs: &[SourceInput], opts: &AsmOptions) -> Result<AsmOutput, AsmError> {
    assemble_owned(inputs.to_vec(), opts)
}

/// [`assemble_sources`] taking ownership, so each source text is copied into [`Sources`]
/// once rather than once per public entry point.
fn assemble_owned(inputs: Vec<SourceInput>, opts: &AsmOptions) -> Result<AsmOutput, AsmError> {
    let mut sources = Sources::default();
    let out = assemble_into(inputs, opts, &mut sources);
    match out {
        Err(AsmError::Source(d)) if opts.redact => {
            Err(AsmError::Source(redact::redact(d, &sources)))
        }
        other => other,
    }
}

fn assemble_into(
    mut inputs: Vec<SourceInput>,
    opts: &AsmOptions,
    sources: &mut Sources,
) -> Result<AsmOutput, AsmError> {
    if inputs.is_empty() {
        return Err(AsmError::Input("no input files".into()));
    }
    let mut objects = Vec::with_capacity(inputs.len());
    let mut diags = Vec::new();
    {
        let mut asm = Assembler::new(sources);
        asm.include_root = opts.include_root.clone();
        for input in &mut inputs {
            // Only the names are needed after this (for the default app name).
            let text = std::mem::take(&mut input.text);
            let file = asm.sources.add(input.name.clone(), text);
            let path = Path::new(&input.name);
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let canonical = std::fs::canonicalize(path).ok();
            objects.push(asm.assemble(file, dir, canonical));
        }
        diags.append(&mut asm.diags);
    }
    if !diags.is_empty() {
        return Err(AsmError::Source(Diagnostics(diags)));
    }
    let located = |errs: Vec<(source::Loc, String)>, sources: &Sources| {
        AsmError::Source(Diagnostics(
            errs.into_iter().map(|(l, m)| sources.diag(l, m)).collect(),
        ))
    };
    let linked = link::link(&mut objects, sources).map_err(|e| located(e, sources))?;

    // Header choices: options override directives; conflicting directives are errors.
    let mut app_name = opts.app_name.clone();
    let mut errs = Vec::new();
    let mut seen_name: Option<(String, source::Loc)> = None;
    let mut seen_caps: Option<(u16, source::Loc)> = None;
    for o in &objects {
        if let Some((n, loc)) = &o.app_name {
            match &seen_name {
                Some((prev, ploc)) if prev != n => errs.push((
                    *loc,
                    format!(
                        "conflicting .name \"{n}\" (already \"{prev}\" at {})",
                        sources.pos(*ploc)
                    ),
                )),
                Some(_) => {}
                None => seen_name = Some((n.clone(), *loc)),
            }
        }
        if let Some((c, loc)) = &o.req_caps {
            match &seen_caps {
                Some((prev, ploc)) if prev != c => errs.push((
                    *loc,
                    format!(
                        "conflicting .req_caps {c:#X} (already {prev:#X} at {})",
                        sources.pos(*ploc)
                    ),
                )),
                Some(_) => {}
                None => seen_caps = Some((*c, *loc)),
            }
        }
    }
    if !errs.is_empty() {
        return Err(located(errs, sources));
    }
    if app_name.is_none() {
        app_name = seen_name.map(|(n, _)| n);
    }
    if app_name.is_none() {
        let stem_of = |p: &Path| p.file_stem().map(|s| s.to_string_lossy().into_owned());
        app_name = match &opts.output_path {
            Some(p) => stem_of(p),
            None => inputs.first().and_then(|i| stem_of(Path::new(&i.name))),
        };
    }
    let app_name = app_name.filter(|n| !n.trim().is_empty());
    let params = output::ImageParams {
        v1: opts.version == HxeVersion::V1,
        app_name,
        allow_multiple: !(opts.single_instance || objects.iter().any(|o| o.single_instance)),
        req_caps: opts.req_caps.or(seen_caps.map(|(c, _)| c)).unwrap_or(0),
    };
    let (image, hxe_bytes) = output::build_image(&linked, &params).map_err(AsmError::Image)?;
    let sym = opts.emit_sym.then(|| {
        let hxe_path = opts
            .output_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        output::build_sym(&linked, &objects, sources, &hxe_path, image.crc32)
    });
    Ok(AsmOutput {
        image,
        hxe_bytes,
        sym,
        warnings: linked.warnings,
    })
}
