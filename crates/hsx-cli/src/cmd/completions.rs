//! `hsx completions SHELL` and `hsx man`: generated from the clap command tree, so they
//! always match the real options.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Args;
use clap_complete::Shell;

/// Arguments of `hsx completions`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct CompletionsArgs {
    /// Shell to generate the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `hsx man`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct ManArgs {
    /// Write one page per subcommand (hsx-ps.1, ...) into this directory instead of
    /// printing hsx.1 to stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

/// Writes the completion script for `args.shell` to stdout.
pub fn completions(args: &CompletionsArgs, mut cmd: clap::Command) -> anyhow::Result<ExitCode> {
    let name = cmd.get_name().to_string();
    // clap_complete panics on write errors; render to memory, then write (a closed pipe,
    // as with `| head`, is not an error).
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut buf);
    write_stdout(&buf)
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Writes the man page (roff) to stdout, or every page into a directory.
pub fn man(args: &ManArgs, cmd: clap::Command) -> anyhow::Result<ExitCode> {
    match &args.dir {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            return write_stdout(&buf);
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(cmd, dir)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
