//! `hsxd`: serves the HSX executive protocol.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use hsxd::{DaemonConfig, Detached, EventBus, SystemTimeSource, TimeSource};

/// HSX executive daemon: JSON-over-TCP control and debug protocol.
#[derive(Debug, Parser)]
#[command(name = "hsxd", version, about)]
struct Cli {
    /// Address to listen on (loopback by default; port 0 picks a free port).
    #[arg(long, default_value = hsxd::server::DEFAULT_LISTEN)]
    listen: String,
    /// Root directory of the sandboxed guest file system.
    #[arg(long, value_name = "DIR")]
    fs_root: Option<PathBuf>,
    /// File backing the FRAM used for value persistence.
    #[arg(long, value_name = "FILE")]
    fram: Option<PathBuf>,
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = DaemonConfig {
        listen: cli.listen,
        fs_root: cli.fs_root,
        fram: cli.fram,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
        let bus = EventBus::new(time.clone());
        // The executive core plugs in here (see exec_bridge); until then no tasks exist.
        let backend = Arc::new(Detached);
        let dispatcher = Arc::new(hsxd::Dispatcher::new(backend, bus, time));
        let server = hsxd::Server::bind(&config.listen, dispatcher)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = server.local_addr()?;
        tracing::info!(%addr, fs_root = ?config.fs_root, fram = ?config.fram, "hsxd listening");
        // Scripts that pass `--listen 127.0.0.1:0` learn the port from this line.
        println!("hsxd listening on {addr}");
        server.run_until(shutdown_signal()).await;
        anyhow::Ok(())
    })
}
