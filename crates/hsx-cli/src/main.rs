//! The `hsx` command: assemble and disassemble MVASM, run images in an embedded executive,
//! and (with a running `hsxd`) inspect and debug tasks.

mod client;
mod cmd;
mod interrupt;
mod output;
mod shell;
mod tui;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// HSX tools: assemble, disassemble and run MiniVM programs.
#[derive(Debug, Parser)]
#[command(name = "hsx", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Assemble and link MVASM sources into a .hxe image (and optionally a .sym file).
    Asm(cmd::asm::AsmArgs),
    /// Compile C sources into a .hxe image (clang's wasm32 backend + translator).
    Cc(cmd::cc::CcArgs),
    /// Disassemble a .hxe image into a header summary and an MVASM listing.
    Disasm(cmd::disasm::DisasmArgs),
    /// Run .hxe images (or .mvasm sources) as tasks in an embedded executive.
    Run(cmd::run::RunArgs),
    /// Replay a recording made with `hsx run --record` (exactly, or up to --to STEP).
    Replay(cmd::replay::ReplayArgs),
    #[command(flatten)]
    Remote(cmd::remote::RemoteCommand),
    /// Interactive shell against hsxd (history, completion, `help`).
    Shell(shell::ShellArgs),
    /// Live terminal monitor of hsxd's tasks.
    Tui(tui::TuiArgs),
    /// Debug Adapter Protocol server for IDEs (stdio, or TCP with --listen).
    Dap(cmd::dap::DapArgs),
    /// Push images to hsxd or a CAN device, stage, activate, roll back.
    Provision(cmd::provision::ProvisionArgs),
    /// Print a shell completion script (bash, zsh, fish, ...).
    Completions(cmd::completions::CompletionsArgs),
    /// Print the man page (roff) to stdout.
    Man(cmd::completions::ManArgs),
}

/// The client options (`--connect`, `--token-file`, `--json`) belong to the subcommands;
/// given before the subcommand (`hsx --connect ADDR ps`) they are moved after it.
fn hoist_client_options(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut moved = Vec::new();
    let mut i = 1;
    while let Some(a) = args.get(i).and_then(|a| a.to_str()) {
        let takes_value = matches!(a, "--connect" | "--token-file");
        if takes_value && i + 1 < args.len() {
            moved.extend_from_slice(&args[i..i + 2]);
            i += 2;
        } else if a == "--json" || a.starts_with("--connect=") || a.starts_with("--token-file=") {
            moved.push(args[i].clone());
            i += 1;
        } else {
            break;
        }
    }
    if moved.is_empty() || i >= args.len() {
        return args;
    }
    let mut out = Vec::with_capacity(args.len());
    out.extend_from_slice(&args[..1]);
    out.push(args[i].clone());
    out.extend(moved);
    out.extend_from_slice(&args[i + 1..]);
    out
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(hoist_client_options(std::env::args_os().collect()));
    let result = match cli.command {
        Command::Asm(a) => cmd::asm::run(a),
        Command::Cc(a) => cmd::cc::run(a),
        Command::Disasm(a) => cmd::disasm::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Replay(a) => cmd::replay::run(a),
        Command::Remote(r) => Ok(cmd::client_cmds::run(&r)),
        Command::Shell(a) => Ok(shell::run(&a)),
        Command::Tui(a) => tui::run(&a),
        Command::Dap(a) => cmd::dap::run(a),
        Command::Provision(a) => cmd::provision::run(a),
        Command::Completions(a) => cmd::completions::completions(&a, Cli::command()),
        Command::Man(a) => cmd::completions::man(&a, Cli::command()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hsx: error: {}", hsxd::report::one_line(e.as_ref()));
            if let Some(h) = hsxd::report::hint(e.as_ref()) {
                eprintln!("hsx: hint: {h}");
            }
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::hoist_client_options;

    fn hoist(args: &[&str]) -> Vec<String> {
        hoist_client_options(args.iter().map(Into::into).collect())
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn client_options_before_the_subcommand_move_after_it() {
        assert_eq!(
            hoist(&["hsx", "--connect", "h:1", "--json", "ps", "-x"]),
            ["hsx", "ps", "--connect", "h:1", "--json", "-x"]
        );
        assert_eq!(
            hoist(&["hsx", "--token-file=t", "ps"]),
            ["hsx", "ps", "--token-file=t"]
        );
        assert_eq!(hoist(&["hsx", "ps", "--json"]), ["hsx", "ps", "--json"]);
        assert_eq!(hoist(&["hsx", "--connect"]), ["hsx", "--connect"]);
        assert_eq!(hoist(&["hsx", "--json"]), ["hsx", "--json"]);
    }
}
