//! `hsx disasm`: header summary and MVASM listing of an image.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use hsx_asm::SymFile;

/// Arguments of `hsx disasm`.
#[derive(Debug, Args)]
pub struct DisasmArgs {
    /// The image to list.
    #[arg(value_name = "APP.hxe")]
    image: PathBuf,
    /// Symbol file for labels (default: APP.sym next to the image, when it exists).
    #[arg(long, value_name = "APP.sym")]
    sym: Option<PathBuf>,
}

/// Run `hsx disasm`.
pub fn run(args: DisasmArgs) -> Result<ExitCode> {
    let bytes = std::fs::read(&args.image)
        .with_context(|| format!("cannot read {}", args.image.display()))?;
    let sym_path = match args.sym {
        Some(p) => Some(p),
        None => Some(args.image.with_extension("sym")).filter(|p| p.exists()),
    };
    let sym = match sym_path {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            Some(
                SymFile::from_json_str(&text)
                    .with_context(|| format!("{} is not a valid symbol file", p.display()))?,
            )
        }
        None => None,
    };
    let listing = hsx_asm::disassemble(&bytes, sym.as_ref())
        .with_context(|| format!("cannot disassemble {}", args.image.display()))?;
    print!("{listing}");
    Ok(ExitCode::SUCCESS)
}
