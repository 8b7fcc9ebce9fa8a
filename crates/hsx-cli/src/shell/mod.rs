//! `hsx shell`: an interactive shell against hsxd. Lines are parsed by the same clap types
//! as the one-shot subcommands and run by the same code ([`crate::cmd::client_cmds`]),
//! over one connection that is re-made after a server restart.

mod complete;
mod split;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use crate::client::DEFAULT_ADDR;
use crate::cmd::client_cmds::{CmdError, Ctx};
use crate::cmd::remote::RemoteCommand;
use complete::{Completion, LiveSource, Source};

/// Arguments of `hsx shell`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct ShellArgs {
    /// hsxd address, HOST:PORT or unix:PATH (a token is read from $HSX_TOKEN_FILE).
    #[arg(long, env = "HSX_ADDR", default_value = DEFAULT_ADDR, value_name = "ADDR")]
    pub connect: String,
    /// History file (default: $XDG_DATA_HOME/hsx/history, else ~/.local/share/hsx/history,
    /// else ~/.hsx_history).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

/// One shell line.
#[derive(Debug, Parser)]
#[command(
    name = "hsx",
    no_binary_name = true,
    disable_help_subcommand = true,
    disable_version_flag = true,
    disable_help_flag = true
)]
pub struct ShellLine {
    #[command(subcommand)]
    cmd: ShellCommand,
}

#[derive(Debug, Subcommand)]
enum ShellCommand {
    #[command(flatten)]
    Remote(RemoteCommand),
    /// List the commands, or show the help of one (`help bp add`).
    Help {
        /// Command (and subcommand) to explain.
        topic: Vec<String>,
    },
    /// Show or change the hsxd address.
    Connect {
        /// New address, HOST:PORT.
        addr: Option<String>,
    },
    /// Clear the screen (also Ctrl-L).
    Clear,
    /// Leave the shell (also Ctrl-D).
    #[command(visible_alias = "quit")]
    Exit,
}

/// Where history is kept.
pub fn history_path() -> Option<PathBuf> {
    let nonempty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = nonempty("XDG_DATA_HOME") {
        return Some(d.join("hsx").join("history"));
    }
    let home = nonempty("HOME").or_else(|| nonempty("USERPROFILE"))?;
    let data = home.join(".local").join("share");
    if data.is_dir() {
        Some(data.join("hsx").join("history"))
    } else {
        Some(home.join(".hsx_history"))
    }
}

/// The `help` text: every command with its one-line description.
pub fn help_overview() -> String {
    let cmd = ShellLine::command();
    let width = cmd
        .get_subcommands()
        .map(|s| s.get_name().len())
        .max()
        .unwrap_or(8);
    let mut out = String::from("commands (help CMD for details; Tab completes):\n");
    for s in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let about = s.get_about().map(|a| a.to_string()).unwrap_or_default();
        out.push_str(&format!("  {:<width$}  {}\n", s.get_name(), about));
    }
    out
}

/// The help of one command path, e.g. `["bp", "add"]`.
pub fn help_topic(topic: &[String]) -> Option<String> {
    let mut node = ShellLine::command();
    // Building propagates the global options (--json) into the subcommands' help.
    node.build();
    for word in topic {
        let next = node
            .get_subcommands()
            .find(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
            .cloned()?;
        node = next;
    }
    // The shell has its own `connect`; the command-line ways to reach hsxd do not apply.
    for id in ["connect", "token_file"] {
        if node.get_arguments().any(|a| a.get_id() == id) {
            node = node.mut_arg(id, |a| a.hide(true));
        }
    }
    // In the shell a command is typed without `hsx`.
    Some(
        node.render_long_help()
            .to_string()
            .replacen("Usage: hsx ", "Usage: ", 1),
    )
}

struct ShellHelper {
    source: LiveSource,
    files: FilenameCompleter,
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let partial = before.get(start..).unwrap_or("");
        let Ok(words) = split::split(before.get(..start).unwrap_or("")) else {
            return Ok((pos, Vec::new()));
        };
        let root = ShellLine::command();
        match complete::complete_words(&root, &words, partial, &self.source as &dyn Source) {
            Completion::Files => self.files.complete(line, pos, ctx),
            Completion::Words(ws) => Ok((
                start,
                ws.into_iter()
                    .map(|w| Pair {
                        display: w.clone(),
                        replacement: w + " ",
                    })
                    .collect(),
            )),
        }
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}
impl Highlighter for ShellHelper {}
impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

/// Writes to stdout; a closed pipe is not worth a panic.
fn out(text: &str) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|()| o.flush());
}

/// What one line asks for.
enum LineOutcome {
    Continue,
    Exit,
}

fn run_line(ctx: &mut Ctx, line: &str) -> LineOutcome {
    let words = match split::split(line) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("hsx: error: {e}");
            return LineOutcome::Continue;
        }
    };
    if words.is_empty() {
        return LineOutcome::Continue;
    }
    let parsed = match ShellLine::try_parse_from(&words) {
        Ok(p) => p,
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidSubcommand => {
            let word = split::split(line)
                .ok()
                .and_then(|w| w.into_iter().next())
                .unwrap_or_default();
            eprintln!("hsx: error: no command '{word}' (`help` lists them)");
            return LineOutcome::Continue;
        }
        Err(e) => {
            // clap's message already says what is wrong and how to get help.
            let _ = e.print();
            return LineOutcome::Continue;
        }
    };
    match parsed.cmd {
        ShellCommand::Exit => return LineOutcome::Exit,
        // ANSI: erase the screen and home the cursor (what Ctrl-L does in rustyline).
        ShellCommand::Clear => out("\x1b[2J\x1b[H"),
        ShellCommand::Help { topic } if topic.is_empty() => out(&help_overview()),
        ShellCommand::Help { topic } => match help_topic(&topic) {
            Some(h) => out(&h),
            None => eprintln!("hsx: error: no command '{}' (try `help`)", topic.join(" ")),
        },
        ShellCommand::Connect { addr: None } => out(&format!("{}\n", ctx.addr())),
        ShellCommand::Connect { addr: Some(a) } => {
            ctx.set_addr(&a);
            out(&format!("now using {a}\n"));
        }
        ShellCommand::Remote(cmd) => {
            if let Err(e) = ctx.execute(&cmd) {
                match e {
                    CmdError::Output(_) => {}
                    e => e.report(),
                }
            }
        }
    }
    LineOutcome::Continue
}

/// Runs the shell until `exit`, Ctrl-D or end of input.
pub fn run(args: &ShellArgs) -> ExitCode {
    crate::interrupt::install();
    let mut ctx = Ctx::new(&args.connect, crate::output::color_enabled());
    let config = Config::builder()
        .history_ignore_dups(true)
        .and_then(|b| b.history_ignore_space(true).max_history_size(2000))
        .map(|b| b.completion_type(CompletionType::List).build())
        .unwrap_or_default();
    let mut editor: Editor<ShellHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("hsx: error: cannot start the line editor: {e}");
            return ExitCode::from(1);
        }
    };
    editor.set_helper(Some(ShellHelper {
        source: LiveSource::new(&args.connect),
        files: FilenameCompleter::new(),
    }));
    let history = args.history.clone().or_else(history_path);
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    if interactive {
        match ctx.call_raw(&crate::client::request("ping", serde_json::json!({}))) {
            Ok(_) => println!(
                "connected to hsxd at {}; `help` lists the commands",
                args.connect
            ),
            Err(e) => {
                eprintln!("hsx: warning: {e}");
                if let Some(h) = e.hint() {
                    eprintln!("hsx: hint: {h}");
                }
            }
        }
    }
    loop {
        match editor.readline("hsx> ") {
            Ok(line) => {
                let trimmed = line.trim();
                if !trimmed.is_empty() {
                    let _ = editor.add_history_entry(trimmed);
                }
                if let LineOutcome::Exit = run_line(&mut ctx, trimmed) {
                    break;
                }
                // After `connect ADDR`, complete from the new daemon too.
                if let Some(h) = editor.helper_mut()
                    && h.source.addr() != ctx.addr()
                {
                    h.source = LiveSource::new(ctx.addr());
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("hsx: error: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = editor.save_history(h) {
            tracing::debug!("cannot save history to {}: {e}", h.display());
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_help() {
        let overview = help_overview();
        for name in [
            "ps", "info", "load", "bp", "dis", "events", "listen", "help", "exit",
        ] {
            assert!(
                overview.contains(&format!("  {name} ")),
                "{name} missing from help"
            );
        }
        let bp_add = help_topic(&["bp".into(), "add".into()]).unwrap_or_default();
        assert!(
            !bp_add.contains("--connect") && !bp_add.contains("--token-file"),
            "{bp_add}"
        );
        assert!(bp_add.contains("Address, symbol name"), "{bp_add}");
        assert!(help_topic(&["nope".into()]).is_none());
        // Every command renders its own help without panicking.
        for sub in ShellLine::command().get_subcommands() {
            assert!(help_topic(&[sub.get_name().to_string()]).is_some());
        }
    }

    #[test]
    fn the_overview_fits_an_80_column_terminal() {
        for line in help_overview().lines() {
            assert!(line.chars().count() <= 80, "too wide: {line}");
        }
    }

    #[test]
    fn lines_parse_like_subcommands() {
        let p = ShellLine::try_parse_from(["bp", "add", "1", "main"]);
        assert!(matches!(
            p.map(|l| l.cmd),
            Ok(ShellCommand::Remote(RemoteCommand::Bp(_)))
        ));
        assert!(ShellLine::try_parse_from(["quit"]).is_ok());
        assert!(ShellLine::try_parse_from(["clear"]).is_ok());
        assert!(help_overview().contains("clear"));
        assert!(ShellLine::try_parse_from(["bogus"]).is_err());
        assert!(ShellLine::try_parse_from(["peek", "x y"]).is_err());
    }

    #[test]
    fn history_prefers_xdg() {
        // Only checks the shape; the environment of the test process is not changed.
        if let Some(p) = history_path() {
            let s = p.to_string_lossy().to_string();
            assert!(
                s.ends_with("hsx/history") || s.ends_with(".hsx_history"),
                "{s}"
            );
        }
    }
}
