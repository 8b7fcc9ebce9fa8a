//! `hsx cc`: C → `.hxe` (+ `.sym`) through clang's wasm32 backend and the hsx-cc translator.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use hsx_cc::driver::{Build, Toolchain};
use hsx_cc::translate::Options;

/// Arguments of `hsx cc`.
#[derive(Debug, Args)]
#[command(after_help = "\
Needs clang 16 with wasm32 support: apt-get install clang-16 lld-16 wasi-libc \
libclang-rt-16-dev-wasm32. HSX_CLANG picks another clang, HSX_WASI_SYSROOT another wasi-libc, \
HSX_CACHE_DIR where the HSX runtime is built (default ~/.cache/hsx). See docs/c-toolchain.md.")]
pub struct CcArgs {
    /// C sources (and .o/.a files made with `hsx cc -c`).
    #[arg(value_name = "FILE.c")]
    inputs: Vec<PathBuf>,
    /// Output image (default: the first input with the extension .hxe, or .o with -c).
    #[arg(short, long, value_name = "APP.hxe")]
    output: Option<PathBuf>,
    /// Also write a symbol file for debuggers (default with -g: next to the image).
    #[arg(long, value_name = "APP.sym")]
    sym: Option<PathBuf>,
    /// Optimisation level: -O0, -O1, -O2 (default), -O3, -Os or -Oz.
    #[arg(short = 'O', value_name = "LEVEL", default_value = "2",
          value_parser = ["0", "1", "2", "3", "s", "z"])]
    opt: String,
    /// Emit debug information (C source lines in the .sym).
    #[arg(short = 'g')]
    debug: bool,
    /// Add a header search directory.
    #[arg(short = 'I', value_name = "DIR")]
    include: Vec<PathBuf>,
    /// Define a macro (NAME or NAME=VALUE).
    #[arg(short = 'D', value_name = "NAME[=V]")]
    define: Vec<String>,
    /// App name stored in the header (default: the output file's stem).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Bytes of MiniVM stack (calls and their frames); stored as the image's stack hint.
    #[arg(long, value_name = "BYTES", default_value_t = 16384)]
    stack: u32,
    /// Bytes of C stack (arrays and variables whose address is taken).
    #[arg(long, value_name = "BYTES", default_value_t = 8192)]
    c_stack: u32,
    /// Most bytes malloc may use (default: all memory left between data and stack).
    #[arg(long, value_name = "BYTES")]
    heap: Option<u32>,
    /// Forbid a second instance of this app in one executive.
    #[arg(long)]
    single_instance: bool,
    /// Compile one source to an object file only.
    #[arg(short = 'c')]
    compile_only: bool,
    /// Show the commands run and the image's size and layout.
    #[arg(short, long)]
    verbose: bool,
    /// Print the directory of hsx.h and the HSX compatibility headers, and exit.
    #[arg(long, conflicts_with = "inputs")]
    print_include_dir: bool,
}

/// Run `hsx cc`.
pub fn run(args: CcArgs) -> Result<ExitCode> {
    if args.print_include_dir {
        let tc = Toolchain::find()?;
        println!("{}", tc.include_dir(args.verbose)?.display());
        return Ok(ExitCode::SUCCESS);
    }
    let Some(first) = args.inputs.first() else {
        anyhow::bail!("no input files (usage: hsx cc main.c -o app.hxe)");
    };
    let ext = if args.compile_only { "o" } else { "hxe" };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| first.with_extension(ext));
    let name = args.name.clone().or_else(|| {
        output
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
    });
    let build = Build {
        inputs: args.inputs.clone(),
        output: output.clone(),
        opt: format!("-O{}", args.opt),
        debug: args.debug,
        include: args.include.clone(),
        defines: args.define.clone(),
        compile_only: args.compile_only,
        c_stack: args.c_stack,
        translate: Options {
            name,
            vm_stack: args.stack,
            heap: args.heap,
            single_instance: args.single_instance,
        },
        verbose: args.verbose,
    };
    let Some(out) = hsx_cc::driver::build(&build)? else {
        return Ok(ExitCode::SUCCESS);
    };
    for w in &out.warnings {
        eprintln!("hsx cc: warning: {w}");
    }
    std::fs::write(&output, &out.image)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let sym_path = args
        .sym
        .clone()
        .or_else(|| args.debug.then(|| output.with_extension("sym")));
    if let Some(path) = sym_path {
        let mut sym = out.sym.clone();
        sym.hxe_path = output.display().to_string();
        std::fs::write(&path, sym.to_json_string())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
