//! `hsx dap`: a Debug Adapter Protocol server for HSX tasks.
//!
//! The adapter speaks DAP to an IDE on one side (stdio, or one TCP client at a time with
//! `--listen`) and hsxd's JSON protocol on the other (its own [`crate::client::Client`]
//! connection for requests and an [`crate::client::EventStream`] for events). `launch`
//! starts an embedded hsxd in this process; `attach` connects to a running one.
//!
//! One concept per file: [`framing`] (the wire), [`session`] (state and dispatch),
//! [`launch`] and [`embedded`] (launch/attach and the embedded daemon), [`breakpoints`]
//! and [`bp_table`], [`stack`] (threads, frames), [`variables`], [`refs`] and [`ctypes`]
//! (scopes and values with C types), [`expr`] and [`expr_lex`] (`evaluate`), [`stepping`]
//! and [`step_state`] (run control, including the place where reverse execution will plug
//! in), [`memory`] (read/write memory, disassembly), [`symbols`] (the `.sym` copy and
//! source paths) and [`events`] (hsxd events → DAP events).

mod bp_table;
mod breakpoints;
mod ctypes;
mod embedded;
mod events;
mod expr;
mod expr_lex;
pub mod framing;
mod launch;
mod memory;
mod refs;
mod reverse;
mod session;
mod stack;
mod step_state;
mod stepping;
mod symbols;
mod variables;

use std::io::{self, BufReader, BufWriter};
use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

/// Options of `hsx dap`.
#[derive(Debug, Args)]
#[command(
    long_about = "Serve the Debug Adapter Protocol (DAP) for HSX tasks.\n\n\
By default DAP messages are read from stdin and written to stdout, which is how VS Code \
and most DAP clients start an adapter. With --listen ADDR the adapter accepts DAP over \
TCP instead, one client at a time: the next client is accepted when the current one \
disconnects. `launch` runs the program in an executive embedded in this process; \
`attach` connects to a running hsxd (`address`, default 127.0.0.1:9998)."
)]
pub struct DapArgs {
    /// Serve DAP over TCP on ADDR (HOST:PORT; port 0 picks one) instead of stdio; one
    /// client at a time.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

/// Runs the adapter until stdin closes (or forever with `--listen`).
///
/// # Errors
/// The listen address cannot be bound.
pub fn run(args: DapArgs) -> Result<ExitCode> {
    match args.listen {
        None => {
            let stdin = io::stdin();
            let stdout = io::stdout();
            session::serve(
                Box::new(BufReader::new(stdin)),
                Box::new(BufWriter::new(stdout)),
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(addr) => {
            let listener =
                TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
            let local = listener.local_addr()?;
            // Scripts that pass port 0 read the port from this line (as with hsxd).
            println!("hsx dap listening on {local}");
            for conn in listener.incoming() {
                let Ok(stream) = conn else { continue };
                let _ = stream.set_nodelay(true);
                let Ok(read_half) = stream.try_clone() else {
                    continue;
                };
                session::serve(Box::new(read_half), Box::new(stream));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
