//! A real hsxd for the client tests.
//!
//! By default the daemon runs in-process, built from the hsxd library exactly as the
//! `hsxd` binary builds it (protocol layer + the backend the binary uses today). Set
//! `HSXD_BIN=/path/to/hsxd` to run an `hsxd` executable instead (`--listen 127.0.0.1:0`,
//! address read from its "hsxd listening on ADDR" line); that is how the tests marked
//! "needs the executive" are run once hsxd is connected to it:
//!
//! ```sh
//! cargo build -p hsxd && HSXD_BIN=target/debug/hsxd cargo test -p hsx-cli -- --include-ignored
//! ```

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::Duration;

use hsxd::{EventBus, SystemTimeSource, TimeSource};

enum Kind {
    InProcess {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
    Child(Child),
}

/// A running daemon; stopped on drop.
pub struct Daemon {
    /// HOST:PORT it listens on.
    pub addr: String,
    kind: Kind,
}

fn in_process(token: Option<hsxd::auth::Token>) -> Daemon {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel::<Result<String, String>>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = addr_tx.send(Err(e.to_string()));
                return;
            }
        };
        rt.block_on(async move {
            let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
            let bus = EventBus::new(time.clone());
            let daemon = hsxd::Daemon::in_memory(bus, time);
            let server = match hsxd::bind("127.0.0.1:0", daemon).await {
                Ok(s) => match token {
                    Some(t) => s.with_token(t),
                    None => s,
                },
                Err(e) => {
                    let _ = addr_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let addr = server
                .local_addr()
                .map(|a| a.to_string())
                .map_err(|e| e.to_string());
            let _ = addr_tx.send(addr);
            server
                .run_until(async move {
                    let _ = stop_rx.await;
                })
                .await;
        });
    });
    let addr = match addr_rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(a)) => a,
        other => panic!("hsxd did not start: {other:?}"),
    };
    Daemon {
        addr,
        kind: Kind::InProcess {
            stop: Some(stop_tx),
            thread: Some(thread),
        },
    }
}

fn child(bin: &str) -> Daemon {
    let mut child = std::process::Command::new(bin)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let stdout = child
        .stdout
        .take()
        .unwrap_or_else(|| panic!("no stdout from {bin}"));
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    let addr = loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => panic!("{bin} exited before printing its address"),
            Ok(_) => {
                if let Some(a) = line.trim().strip_prefix("hsxd listening on ") {
                    break a.to_string();
                }
            }
        }
    };
    // Keep draining stdout so the daemon never blocks on a full pipe.
    std::thread::spawn(move || for _ in reader.lines() {});
    Daemon {
        addr,
        kind: Kind::Child(child),
    }
}

/// Starts a daemon (see the module docs for which).
pub fn start() -> Daemon {
    match std::env::var("HSXD_BIN") {
        Ok(bin) if !bin.is_empty() => child(&bin),
        _ => in_process(None),
    }
}

/// Starts an in-process daemon that asks every connection for `token`.
pub fn start_with_token(token: &str) -> Daemon {
    let token = hsxd::auth::Token::new(token).unwrap_or_else(|| panic!("token too short"));
    in_process(Some(token))
}

impl Drop for Daemon {
    fn drop(&mut self) {
        match &mut self.kind {
            Kind::InProcess { stop, thread } => {
                if let Some(s) = stop.take() {
                    let _ = s.send(());
                }
                if let Some(t) = thread.take() {
                    let _ = t.join();
                }
            }
            Kind::Child(c) => {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// The `hsx` binary under test, pointed at `addr`.
pub fn hsx(addr: &str) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hsx"));
    c.env("HSX_ADDR", addr)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(30));
    c
}

/// A port nothing listens on (bound, then released).
pub fn closed_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1);
    format!("127.0.0.1:{port}")
}
