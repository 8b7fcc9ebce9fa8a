//! `hsx asm`: MVASM → `.hxe` (+ `.sym`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use hsx_asm::{AsmError, AsmOptions, HxeVersion};

/// Arguments of `hsx asm`.
#[derive(Debug, Args)]
pub struct AsmArgs {
    /// MVASM source files, linked in the order given.
    #[arg(required = true, value_name = "FILE.mvasm")]
    inputs: Vec<PathBuf>,
    /// Output image (default: the first input with the extension .hxe).
    #[arg(short, long, value_name = "APP.hxe")]
    output: Option<PathBuf>,
    /// Also write a symbol file for debuggers.
    #[arg(long, value_name = "APP.sym")]
    sym: Option<PathBuf>,
    /// App name stored in the header (default: the output file's stem).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Forbid a second instance of this app in one executive.
    #[arg(long)]
    single_instance: bool,
    /// Write a version 1 image (32-byte header, no app name, no metadata).
    #[arg(long)]
    v1: bool,
}

/// Run `hsx asm`.
pub fn run(args: AsmArgs) -> Result<ExitCode> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.inputs[0].with_extension("hxe"));
    let opts = AsmOptions {
        version: if args.v1 {
            HxeVersion::V1
        } else {
            HxeVersion::V2
        },
        app_name: args.name.clone(),
        output_path: Some(output.clone()),
        single_instance: args.single_instance,
        req_caps: None,
        emit_sym: args.sym.is_some(),
        ..AsmOptions::default()
    };
    let out = match hsx_asm::assemble_files(&args.inputs, &opts) {
        Ok(out) => out,
        // Source diagnostics already carry file:line:col and an excerpt: print them as they are.
        Err(e @ AsmError::Source(_)) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    for w in &out.warnings {
        eprintln!("{w}");
    }
    std::fs::write(&output, &out.hxe_bytes)
        .with_context(|| format!("cannot write {}", output.display()))?;
    if let (Some(path), Some(sym)) = (&args.sym, &out.sym) {
        std::fs::write(path, sym.to_json_string())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
