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
    /// Print the page of this subcommand (e.g. `ps`, `bp add`) instead of hsx(1).
    #[arg(value_name = "SUBCOMMAND", num_args = 0..)]
    pub topic: Vec<String>,
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
pub fn man(args: &ManArgs, mut cmd: clap::Command) -> anyhow::Result<ExitCode> {
    match &args.dir {
        None => {
            cmd.build();
            let mut node = cmd;
            let mut name = node.get_name().to_string();
            for word in &args.topic {
                let Some(next) = node
                    .get_subcommands()
                    .find(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
                    .cloned()
                else {
                    anyhow::bail!(
                        "no subcommand '{}' (see `hsx --help`)",
                        args.topic.join(" ")
                    );
                };
                name = format!("{name}-{}", next.get_name());
                node = next
                    .display_name(name.clone())
                    .bin_name(name.replace('-', " "));
            }
            let mut buf = Vec::new();
            clap_mangen::Man::new(node).render(&mut buf)?;
            if args.topic.is_empty() {
                buf.extend_from_slice(EXTRA_SECTIONS.as_bytes());
            }
            return write_stdout(&buf);
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(cmd, dir)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// ENVIRONMENT, EXIT STATUS, EXAMPLES and SEE ALSO of hsx(1), in roff.
const EXTRA_SECTIONS: &str = r#".SH ENVIRONMENT
.TP
\fBHSX_ADDR\fR
hsxd address for the client commands (HOST:PORT or unix:PATH); \fB\-\-connect\fR wins.
.TP
\fBHSX_TOKEN_FILE\fR
file whose first line is the token hsxd asks for; \fB\-\-token\-file\fR wins.
.TP
\fBNO_COLOR\fR
no colour in human output.
.TP
\fBHSX_CLANG\fR, \fBHSX_WASI_SYSROOT\fR, \fBHSX_CACHE_DIR\fR
the clang binary, the wasi\-libc sysroot and the runtime cache of \fBhsx cc\fR.
.TP
\fBXDG_DATA_HOME\fR
where \fBhsx shell\fR keeps its history (hsx/history).
.SH EXIT STATUS
.TP
0
success.
.TP
1
a client command failed (hsxd answered with an error or cannot be reached, nothing was executed), or \fBhsx replay\fR did not reproduce its recording.
.TP
2
usage error, unreadable input.
.PP
\fBhsx run\fR and \fBhsx replay\fR exit with the first task's exit status (low 8 bits), 70 if it faulted, 75 if tasks were left paused or waiting forever, 124 if \fB\-\-max\-steps\fR ran out.
.SH EXAMPLES
.nf
hsx run examples/hello.mvasm
hsx cc hello.c \-o hello.hxe && hsx run hello.hxe
hsx run \-\-record run.hxr app.hxe && hsx replay run.hxr \-\-to 1000
hsxd &
hsx load \-\-paused app.hxe; hsx bp add 1 main; hsx resume 1; hsx clock start
hsx ps; hsx regs 1; hsx step 1 \-n 4; hsx back 1
hsx \-\-connect 10.0.0.5:9998 \-\-token\-file ~/.hsx\-token ps
.fi
.SH SEE ALSO
\fBhsxd\fR(1); \fBhsx man SUBCOMMAND\fR prints the page of one subcommand (\fBhsx man bp add\fR), \fBhsx man \-\-dir DIR\fR writes all of them.
"#;
