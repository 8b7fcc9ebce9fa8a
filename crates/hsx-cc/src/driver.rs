//! The C toolchain around the translator: finds clang, wasm-ld, wasi-libc and compiler-rt,
//! builds the HSX runtime once into a cache, compiles and links C to wasm, then translates.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::CcError;
use crate::helpers::HELPERS;
use crate::translate::{Options, Output, translate};

/// The runtime sources, embedded so an installed `hsx` needs no source tree.
const RUNTIME: &[(&str, &str)] = &[
    ("include/hsx.h", include_str!("../runtime/include/hsx.h")),
    (
        "include/hsx_command.h",
        include_str!("../runtime/include/hsx_command.h"),
    ),
    (
        "include/hsx_mailbox.h",
        include_str!("../runtime/include/hsx_mailbox.h"),
    ),
    (
        "include/hsx_stdio.h",
        include_str!("../runtime/include/hsx_stdio.h"),
    ),
    (
        "include/hsx_value.h",
        include_str!("../runtime/include/hsx_value.h"),
    ),
    ("libc/rt.h", include_str!("../runtime/libc/rt.h")),
    ("libc/exit.c", include_str!("../runtime/libc/exit.c")),
    (
        "libc/hsx_compat.c",
        include_str!("../runtime/libc/hsx_compat.c"),
    ),
    ("libc/malloc.c", include_str!("../runtime/libc/malloc.c")),
    ("libc/math.c", include_str!("../runtime/libc/math.c")),
    ("libc/printf.c", include_str!("../runtime/libc/printf.c")),
    ("libc/stdio.c", include_str!("../runtime/libc/stdio.c")),
    ("libc/ssp.c", include_str!("../runtime/libc/ssp.c")),
];

/// The HSX libc's functions the translator calls for wasm float operators.
const HSX_HELPERS: &[&str] = &[
    "__hsx_sqrt",
    "__hsx_sqrtf",
    "__hsx_floor",
    "__hsx_floorf",
    "__hsx_ceil",
    "__hsx_ceilf",
    "__hsx_trunc",
    "__hsx_truncf",
    "__hsx_nearest",
    "__hsx_nearestf",
    "__hsx_fmin",
    "__hsx_fmax",
    "__hsx_fminf",
    "__hsx_fmaxf",
];

const PACKAGES: &str = "clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32";

/// What `hsx cc` was asked to do.
#[derive(Debug, Clone)]
pub struct Build {
    /// C sources, and `.o`/`.a` files made by `hsx cc -c`.
    pub inputs: Vec<PathBuf>,
    /// Output: the image, or the object with `compile_only`.
    pub output: PathBuf,
    /// Optimisation flag (`-O2` …).
    pub opt: String,
    /// Emit DWARF (`-g`).
    pub debug: bool,
    /// Include directories.
    pub include: Vec<PathBuf>,
    /// Macro definitions (`NAME` or `NAME=V`).
    pub defines: Vec<String>,
    /// Stop after compiling one source to an object.
    pub compile_only: bool,
    /// Bytes of C stack (arrays, address-taken locals).
    pub c_stack: u32,
    /// Translator options.
    pub translate: Options,
    /// Print commands and statistics.
    pub verbose: bool,
}

/// The tools found on this machine.
#[derive(Debug, Clone)]
pub struct Toolchain {
    clang: PathBuf,
    sysroot: Option<PathBuf>,
    cache: PathBuf,
}

fn run(cmd: &mut Command, verbose: bool, what: &str) -> Result<(), CcError> {
    if verbose {
        eprintln!("+ {cmd:?}");
    }
    let status = cmd
        .status()
        .map_err(|e| CcError::Toolchain(format!("cannot run {:?}: {e}", cmd.get_program())))?;
    if status.success() {
        Ok(())
    } else {
        Err(CcError::Toolchain(format!(
            "{what} failed (see the messages above)"
        )))
    }
}

fn output_of(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `prog` resolved through PATH (or as given when it has a directory part).
fn which(prog: &Path) -> Option<PathBuf> {
    if prog.components().count() > 1 {
        return Some(prog.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

fn missing(what: &str) -> CcError {
    CcError::Toolchain(format!(
        "hsx cc needs {what}: install the Debian packages {PACKAGES} (or set HSX_CLANG / HSX_WASI_SYSROOT)"
    ))
}

impl Toolchain {
    /// Find clang (`HSX_CLANG`, `clang-16`, `clang`) and check the wasm pieces it needs.
    pub fn find() -> Result<Toolchain, CcError> {
        let candidates: Vec<PathBuf> = match std::env::var_os("HSX_CLANG") {
            Some(c) => vec![PathBuf::from(c)],
            None => vec!["clang-16".into(), "clang".into()],
        };
        let clang = candidates
            .into_iter()
            .find(|c| output_of(Command::new(c).arg("--version")).is_some())
            .ok_or_else(|| missing("clang 16 with the wasm32 target"))?;
        let sysroot = std::env::var_os("HSX_WASI_SYSROOT").map(PathBuf::from);
        let header = match &sysroot {
            Some(s) => s.join("include/wasm32-wasi/stdio.h"),
            None => PathBuf::from("/usr/include/wasm32-wasi/stdio.h"),
        };
        let has_libc = header.exists()
            || sysroot
                .as_ref()
                .is_some_and(|s| s.join("include/stdio.h").exists());
        if !has_libc {
            return Err(missing(&format!(
                "wasi-libc ({} not found)",
                header.display()
            )));
        }
        let ld = output_of(
            Command::new(&clang).args(["--target=wasm32-wasi", "-print-prog-name=wasm-ld"]),
        )
        .unwrap_or_default();
        // clang looks for wasm-ld next to its real binary first, then on PATH.
        let beside = which(&clang)
            .and_then(|c| std::fs::canonicalize(c).ok())
            .and_then(|c| c.parent().map(|d| d.join(&ld)));
        let ld_ok = Path::new(&ld).is_absolute() && Path::new(&ld).exists()
            || beside.is_some_and(|p| p.exists())
            || output_of(Command::new(&ld).arg("--version")).is_some();
        if !ld_ok {
            return Err(missing("wasm-ld (lld)"));
        }
        let rt = output_of(
            Command::new(&clang).args(["--target=wasm32-wasi", "-print-libgcc-file-name"]),
        )
        .unwrap_or_default();
        if !Path::new(&rt).exists() {
            return Err(missing(&format!("compiler-rt for wasm32 ({rt} not found)")));
        }
        let version = output_of(Command::new(&clang).arg("--version")).unwrap_or_default();
        let mut h = crc32fast::Hasher::new();
        h.update(version.as_bytes());
        h.update(clang.to_string_lossy().as_bytes());
        for (name, text) in RUNTIME {
            h.update(name.as_bytes());
            h.update(text.as_bytes());
        }
        let base = std::env::var_os("HSX_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("hsx")))
            .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/hsx")))
            .unwrap_or_else(|| std::env::temp_dir().join("hsx-cache"));
        Ok(Toolchain {
            clang,
            sysroot,
            cache: base.join(format!("runtime-{:08x}", h.finalize())),
        })
    }

    /// Whether this clang lacks `_Float16` on wasm32 (clang 16 does: "_Float16 is not
    /// supported on this target"). Then `hsx cc` compiles C with `-D_Float16=__fp16` and
    /// `-fnative-half-arguments-and-returns`: `__fp16` is the same IEEE binary16 storage type,
    /// its arithmetic is done in `float` and rounded on assignment, which is what clang does
    /// for `_Float16` on targets without half arithmetic. The probe result is cached next to
    /// the runtime (the cache directory is keyed by the clang version).
    fn emulate_float16(&self) -> bool {
        let emulated = self.cache.join("float16-emulated");
        let native = self.cache.join("float16-native");
        if emulated.exists() {
            return true;
        }
        if native.exists() {
            return false;
        }
        let defines = self
            .clang()
            .args(["-dM", "-E", "-x", "c", "-"])
            .stdin(std::process::Stdio::null())
            .output();
        let Ok(out) = defines else { return false };
        let emulate =
            out.status.success() && !String::from_utf8_lossy(&out.stdout).contains("__FLT16_MAX__");
        if std::fs::create_dir_all(&self.cache).is_ok() {
            let _ = std::fs::write(if emulate { emulated } else { native }, "");
        }
        emulate
    }

    fn clang(&self) -> Command {
        let mut c = Command::new(&self.clang);
        c.arg("--target=wasm32-wasi");
        if let Some(s) = &self.sysroot {
            c.arg(format!("--sysroot={}", s.display()));
        }
        c
    }

    /// The runtime headers and archive, built on first use.
    fn runtime(&self, verbose: bool) -> Result<(PathBuf, PathBuf), CcError> {
        let include = self.cache.join("include");
        let archive = self.cache.join("libhsxrt.a");
        if archive.exists() {
            return Ok((include, archive));
        }
        let io = |path: &Path| {
            let p = path.display().to_string();
            move |error| CcError::Io { path: p, error }
        };
        let parent = self.cache.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        // Build in a private directory and rename it into place: concurrent builds race
        // harmlessly.
        let tmp = parent.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        ));
        for (name, text) in RUNTIME {
            let p = tmp.join(name);
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d).map_err(io(d))?;
            }
            std::fs::write(&p, text).map_err(io(&p))?;
        }
        let mut objects = Vec::new();
        for (name, _) in RUNTIME.iter().filter(|(n, _)| n.ends_with(".c")) {
            let src = tmp.join(name);
            let obj = src.with_extension("o");
            run(
                self.clang()
                    .args(["-Os", "-fno-builtin", "-c"])
                    .arg("-I")
                    .arg(tmp.join("include"))
                    .arg(&src)
                    .arg("-o")
                    .arg(&obj),
                verbose,
                "compiling the HSX runtime",
            )?;
            objects.push(obj);
        }
        let ar = self.clang.with_file_name(
            self.clang
                .file_name()
                .and_then(|n| n.to_str())
                .map_or("llvm-ar".to_string(), |n| n.replacen("clang", "llvm-ar", 1)),
        );
        let ar = if output_of(Command::new(&ar).arg("--version")).is_some() {
            ar
        } else {
            PathBuf::from("llvm-ar")
        };
        run(
            Command::new(&ar)
                .arg("rcs")
                .arg(tmp.join("libhsxrt.a"))
                .args(&objects),
            verbose,
            "archiving the HSX runtime",
        )?;
        if std::fs::rename(&tmp, &self.cache).is_err() {
            // Someone else finished first.
            let _ = std::fs::remove_dir_all(&tmp);
        }
        if !archive.exists() {
            return Err(CcError::Toolchain(format!(
                "the HSX runtime did not appear in {}",
                self.cache.display()
            )));
        }
        Ok((include, archive))
    }

    /// Directory of the HSX headers (for users' editors and build systems).
    pub fn include_dir(&self, verbose: bool) -> Result<PathBuf, CcError> {
        Ok(self.runtime(verbose)?.0)
    }
}

fn is_c(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "c")
}

/// Compile (and unless `-c`, link and translate) per `b`. Returns the translation output
/// when an image was made.
pub fn build(b: &Build) -> Result<Option<Output>, CcError> {
    if b.inputs.is_empty() {
        return Err(CcError::Toolchain("no input files".into()));
    }
    for i in &b.inputs {
        if !i.exists() {
            return Err(CcError::Io {
                path: i.display().to_string(),
                error: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
    }
    let tc = Toolchain::find()?;
    let (include, archive) = tc.runtime(b.verbose)?;
    let work = tempfile::tempdir().map_err(|error| CcError::Io {
        path: "temporary directory".into(),
        error,
    })?;
    let float16 = tc.emulate_float16();
    let compile = |src: &Path, obj: &Path| {
        let mut c = tc.clang();
        c.arg(&b.opt).arg("-c").arg("-I").arg(&include);
        // clock() and times(): wasi-libc's emulation over clock_time_get.
        c.arg("-D_WASI_EMULATED_PROCESS_CLOCKS");
        if float16 {
            c.args([
                "-D_Float16=__fp16",
                "-Xclang",
                "-fnative-half-arguments-and-returns",
            ]);
        }
        for d in &b.include {
            c.arg("-I").arg(d);
        }
        for d in &b.defines {
            c.arg(format!("-D{d}"));
        }
        if b.debug {
            c.arg("-g");
        }
        c.arg(src).arg("-o").arg(obj);
        run(&mut c, b.verbose, &format!("compiling {}", src.display()))
    };
    if b.compile_only {
        if b.inputs.len() != 1 || !is_c(&b.inputs[0]) {
            return Err(CcError::Toolchain("-c takes exactly one .c file".into()));
        }
        compile(&b.inputs[0], &b.output)?;
        return Ok(None);
    }
    let mut objects = Vec::new();
    for (k, i) in b.inputs.iter().enumerate() {
        if is_c(i) {
            let stem = i.file_stem().and_then(|s| s.to_str()).unwrap_or("input");
            let obj = work.path().join(format!("{k}-{stem}.o"));
            compile(i, &obj)?;
            objects.push(obj);
        } else {
            objects.push(i.clone());
        }
    }
    let wasm = work.path().join("out.wasm");
    let mut link = tc.clang();
    link.arg(&b.opt).args(&objects).arg(&archive);
    link.arg("-lwasi-emulated-process-clocks");
    link.arg(format!("-Wl,--global-base={}", crate::prog::DATA_BASE));
    link.arg(format!("-Wl,-z,stack-size={}", b.c_stack));
    link.arg("-Wl,--export=__heap_base");
    // A call whose signature does not match the definition (e.g. `int main(int)`, or a
    // function declared differently in two files) is only a warning for wasm-ld, which then
    // links a stub that traps at run time; make it the compile error it is.
    link.arg("-Wl,--fatal-warnings");
    for h in HELPERS.iter().chain(HSX_HELPERS) {
        link.arg(format!("-Wl,-u,{h}"));
        link.arg(format!("-Wl,--export-if-defined={h}"));
    }
    if b.debug {
        link.arg("-g");
    }
    link.arg("-o").arg(&wasm);
    run(&mut link, b.verbose, "linking")?;
    let bytes = std::fs::read(&wasm).map_err(|error| CcError::Io {
        path: wasm.display().to_string(),
        error,
    })?;
    let out = translate(&bytes, &b.translate)?;
    if b.verbose {
        eprintln!(
            "hsx cc: {} bytes of wasm → {} bytes of code, {} bytes of data; heap 0x{:X}..0x{:X}, MiniVM stack {} bytes",
            bytes.len(),
            out.code_len,
            out.ro_len,
            out.layout.heap_base,
            out.layout.heap_end,
            out.layout.vm_stack
        );
    }
    Ok(Some(out))
}
