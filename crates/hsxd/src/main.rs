//! `hsxd`: serves the HSX executive protocol.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use std::time::Instant;

use hsx_exec::{Backends, MemLayout};
use hsxd::fram::{FramFile, LoadOutcome};
use hsxd::hal_log::LogHal;
use hsxd::host_fs::HostFs;
use hsxd::{Daemon, DaemonConfig, EventBus, InstantClock, SystemTimeSource, TimeSource};

/// HSX executive daemon: JSON-over-TCP control and debug protocol.
#[derive(Debug, Parser)]
#[command(name = "hsxd", version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    /// Print a shell completion script or the man page instead of serving.
    #[command(subcommand)]
    tool: Option<Tool>,
    /// Address to listen on: HOST:PORT (loopback by default; port 0 picks a free port) or
    /// unix:PATH (a Unix-domain socket only its owner may use). A non-loopback address
    /// needs --token-file.
    #[arg(long, default_value = hsxd::server::DEFAULT_LISTEN)]
    listen: String,
    /// File whose first line is the token clients must present (`auth`) before any other
    /// request; at least 16 characters. Required to listen beyond loopback.
    #[arg(long, value_name = "FILE", env = "HSXD_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// Listen on a non-loopback address without a token: anyone who can reach it may load,
    /// poke, kill and shut down. Logged as a warning.
    #[arg(long)]
    insecure_listen: bool,
    /// Access policy (JSON): per token its capabilities (observe, control, debug, load,
    /// admin) and app names, what clients without a token may do, and limits on sessions,
    /// connections and subscriptions. See docs/security.md.
    #[arg(long, value_name = "FILE", env = "HSXD_POLICY")]
    policy: Option<PathBuf>,
    /// Root directory of the sandboxed guest file system.
    #[arg(long, value_name = "DIR")]
    fs_root: Option<PathBuf>,
    /// Largest file a guest may write under --fs-root, in bytes (a write past it fails
    /// with ENOSPC).
    #[arg(long, value_name = "BYTES", default_value_t = hsxd::host_fs::DEFAULT_MAX_FILE_BYTES)]
    fs_max_file_bytes: u64,
    /// Files one task may hold open at once under --fs-root (64 in all tasks together).
    #[arg(long, value_name = "N", default_value_t = hsxd::host_fs::DEFAULT_MAX_OPEN_PER_TASK)]
    fs_max_open_per_task: usize,
    /// Bytes one task may add to files under --fs-root in all (its budget; a write past it
    /// fails like one past --fs-max-file-bytes).
    #[arg(long, value_name = "BYTES", default_value_t = hsxd::host_fs::DEFAULT_MAX_TASK_BYTES)]
    fs_max_task_bytes: u64,
    /// Instruction watchdog of every task (a load's `watchdog` or a manifest entry's sets its
    /// own limit): a task that runs N instructions without an SVC is faulted (`N`,
    /// `N:fault`: fault WATCHDOG) or paused MS milliseconds (`N:throttle[=MS]`, default 10).
    /// Off by default.
    #[arg(long, value_name = "N[:fault|:throttle[=MS]]")]
    watchdog: Option<hsx_exec::Watchdog>,
    /// File backing the FRAM used for value persistence.
    #[arg(long, value_name = "FILE")]
    fram: Option<PathBuf>,
    /// Task data memory: `flat` (a full 64 KiB per task) or `segmented` (only rodata + heap
    /// at 0x4000 and the stack below 0xFFFC, as on a microcontroller; any other access is a
    /// MEM_FAULT of that task).
    #[arg(long, value_name = "LAYOUT", default_value = "flat", value_parser = parse_mem)]
    mem: MemLayout,
    /// Log lines on stderr: `plain` text (coloured only on a terminal) or `json`, one
    /// object per line. `RUST_LOG` sets the level (default `info`).
    #[arg(long, value_name = "FORMAT", default_value = "plain", value_parser = ["plain", "json"])]
    log_format: String,
    /// Keep provisioned images in DIR (two slots per app, atomic switch, rollback).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Start the apps listed in FILE (TOML, see docs/provisioning.md) at boot.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// An update that faults within MS milliseconds of activation is rolled back.
    #[arg(long, value_name = "MS", default_value_t = hsxd::provision::DEFAULT_GRACE_MS)]
    grace_ms: u64,
    /// Accept images over CAN (ISO-TP) on SPEC: slcan:PATH[@BITRATE] or socketcan:IFNAME.
    #[arg(long, value_name = "SPEC")]
    can: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum Tool {
    /// Print a shell completion script (bash, zsh, fish, ...).
    Completions {
        /// Shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
}

/// ENVIRONMENT, SIGNALS, EXIT STATUS, EXAMPLES and SEE ALSO of hsxd(1), in roff.
const MAN_EXTRA: &str = r#".SH ENVIRONMENT
.TP
\fBHSXD_TOKEN_FILE\fR
as \fB\-\-token\-file\fR.
.TP
\fBHSXD_POLICY\fR
as \fB\-\-policy\fR.
.TP
\fBRUST_LOG\fR
log level and filters (default \fBinfo\fR).
.SH SIGNALS
SIGTERM and SIGINT stop hsxd as the \fBshutdown\fR request does: a running step ends after its current slice, persisted values are flushed, a Unix socket is removed.
.SH EXIT STATUS
0 after a shutdown; 1 when hsxd cannot start (address in use, a bad policy or token file, a non-loopback address without a token), with one \fBhsxd: error:\fR line.
.SH EXAMPLES
.nf
hsxd                                   # 127.0.0.1:9998
hsxd \-\-listen 127.0.0.1:0               # a free port; the start-up line names it
hsxd \-\-listen unix:/run/hsx.sock
hsxd \-\-listen 0.0.0.0:9998 \-\-token\-file /etc/hsx/token
hsxd \-\-fs\-root ./files \-\-fram ./values.fram \-\-mem segmented
hsxd \-\-store ./images \-\-manifest boot.toml \-\-can slcan:/dev/ttyACM0
.fi
.SH SEE ALSO
\fBhsx\fR(1); docs/protocol.md and docs/security.md in the HSX repository.
"#;

fn tool(t: &Tool) -> ExitCode {
    use clap::CommandFactory;
    use std::io::Write;
    let mut buf = Vec::new();
    match t {
        Tool::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "hsxd", &mut buf);
        }
        Tool::Man => {
            if clap_mangen::Man::new(Cli::command())
                .render(&mut buf)
                .is_err()
            {
                return ExitCode::FAILURE;
            }
            buf.extend_from_slice(MAN_EXTRA.as_bytes());
        }
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(&buf).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("hsxd: error: {e}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

fn parse_mem(s: &str) -> Result<MemLayout, String> {
    MemLayout::parse(s).ok_or_else(|| format!("unknown memory layout {s:?} (flat, segmented)"))
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

/// The executive's host side: a real clock, the guest file system (sandboxed in `--fs-root`,
/// in memory without it), FRAM persistence (`--fram`, in memory without it) and a HAL that
/// logs CAN frames.
fn host_backends(config: &DaemonConfig, fs_limits: (u64, usize, u64)) -> anyhow::Result<Backends> {
    let mut backends = Backends::new(InstantClock(Instant::now())).with_hal(LogHal::default());
    if let Some(root) = &config.fs_root {
        let fs = HostFs::create(root)
            .with_context(|| format!("cannot use {} as the file-system root", root.display()))?
            .with_max_file_size(fs_limits.0)
            .with_max_open_per_task(fs_limits.1)
            .with_max_task_bytes(fs_limits.2);
        backends = backends.with_fs(fs);
    }
    if let Some(path) = &config.fram {
        let fram = FramFile::open_or_reset(path)
            .with_context(|| format!("cannot open FRAM file {}", path.display()))?;
        if let LoadOutcome::Reset(why) = fram.load_outcome() {
            tracing::warn!(file = %path.display(), ?why, "FRAM file was damaged; moved aside, starting empty");
        }
        backends = backends.with_persist(fram);
    }
    Ok(backends)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(t) = &cli.tool {
        return tool(t);
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    if cli.log_format == "json" {
        logs.json().init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
    match serve(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hsxd: error: {}", hsxd::report::one_line(e.as_ref()));
            if let Some(h) = hsxd::report::hint(e.as_ref()) {
                eprintln!("hsxd: hint: {h}");
            }
            ExitCode::FAILURE
        }
    }
}

fn serve(cli: Cli) -> anyhow::Result<()> {
    let token = cli
        .token_file
        .as_deref()
        .map(hsxd::auth::Token::from_file)
        .transpose()?;
    let policy = match &cli.policy {
        Some(path) => hsxd::policy::Policy::from_file(path, token)?,
        None => hsxd::policy::Policy::single(token),
    };
    if !policy.needs_token() && !hsxd::auth::is_local(&cli.listen) {
        if !cli.insecure_listen {
            anyhow::bail!(
                "refusing to listen on {} without a token: give --token-file FILE (or \
                 HSXD_TOKEN_FILE, or tokens in --policy), or --insecure-listen to let anyone who reaches it control \
                 hsxd",
                cli.listen
            );
        }
        tracing::warn!(listen = %cli.listen, "listening beyond loopback without a token (--insecure-listen): anyone who can reach this port controls hsxd");
    }
    let config = DaemonConfig {
        listen: cli.listen,
        fs_root: cli.fs_root,
        fram: cli.fram,
        mem: cli.mem,
    };
    let backends = host_backends(
        &config,
        (
            cli.fs_max_file_bytes,
            cli.fs_max_open_per_task,
            cli.fs_max_task_bytes,
        ),
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
        let bus = EventBus::new(time.clone());
        let daemon = Arc::new(Daemon::with_mem_layout(backends, config.mem, bus, time));
        if let Some(w) = cli.watchdog {
            daemon.exec().set_watchdog(w);
        }
        // Boot order: image store, manifest, then the CAN master may push.
        if let Some(dir) = &cli.store {
            let (store, repairs) = hsxd::store::DirStore::open(dir)
                .with_context(|| format!("cannot use {} as the image store", dir.display()))?;
            for r in repairs {
                tracing::warn!(store = %dir.display(), "image store repaired: {r}");
            }
            daemon.prov().set_store(Box::new(store));
        }
        daemon.prov().grace_ms = cli.grace_ms;
        if let Some(path) = &cli.manifest {
            let manifest = hsxd::manifest::Manifest::from_file(path)?;
            let report = hsxd::manifest::boot_daemon(&daemon, &manifest);
            let started = report
                .entries
                .iter()
                .filter(|e| matches!(e.2, hsxd::manifest::Outcome::Started { .. }))
                .count();
            tracing::info!(
                manifest = %path.display(),
                "boot manifest: {started} of {} entries started",
                report.entries.len()
            );
        }
        hsxd::clock::spawn(&daemon);
        let server = hsxd::Server::bind(&config.listen, daemon.clone())
            .await
            .with_context(|| format!("binding {}", config.listen))?
            .with_policy(policy);
        if let Some(spec) = &cli.can {
            hsxd::can::spawn(daemon.clone(), spec)
                .with_context(|| format!("cannot open CAN bus {spec}"))?;
        }
        let addr = server.listen_addr();
        // The one start-up line; scripts that pass `--listen 127.0.0.1:0` learn the port
        // from it. The log gets the details.
        println!("hsxd listening on {addr}");
        tracing::debug!(%addr, fs_root = ?config.fs_root, fram = ?config.fram, "listening");
        server.run_until(shutdown_signal()).await;
        anyhow::Ok(())
    })
}
