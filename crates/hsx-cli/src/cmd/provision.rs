//! `hsx provision`: the master side of provisioning. Pushes an image to `hsxd` over its TCP
//! connection (`provision.*` requests) or to any CAN device over ISO-TP, and asks for the
//! status, activates, aborts and rolls back.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use super::remote_args::Common;
use crate::client::{Client, request};

/// `hsx provision ...`.
#[derive(Debug, Args)]
pub struct ProvisionArgs {
    #[command(subcommand)]
    op: ProvisionOp,
}

#[derive(Debug, Subcommand)]
enum ProvisionOp {
    /// Upload an image: verified on arrival, then staged (or started with --activate).
    Push(PushArgs),
    /// Load sessions, updates in their grace period and the image store.
    Status(StatusArgs),
    /// Start a staged image (replacing the app it was pushed for).
    Activate(PidArgs),
    /// Drop a load session and everything it holds.
    Abort(PidArgs),
    /// Run the previous image of APP again (needs `hsxd --store`).
    Rollback(RollbackArgs),
}

#[derive(Debug, Args)]
struct PushArgs {
    /// The .hxe image.
    image: PathBuf,
    /// Push over CAN instead of TCP: slcan:PATH[@BITRATE] or socketcan:IFNAME. The device
    /// starts the image as soon as it is complete.
    #[arg(long, value_name = "SPEC", conflicts_with = "serial")]
    can: Option<String>,
    /// Push to a board over its serial line: a device path or tcp:HOST:PORT (QEMU's
    /// `-serial tcp:...,server`). The board writes it into its spare slot and starts it on
    /// trial: a fault within the grace period brings the previous image back.
    #[arg(long, value_name = "PATH|tcp:HOST:PORT")]
    serial: Option<String>,
    /// Replace the running app NAME (stopped only once the new image is verified; it comes
    /// back if the new one fails to start or faults within the grace period).
    #[arg(long, value_name = "NAME")]
    replace: Option<String>,
    /// Start the image once it is verified (otherwise it stays staged; see `activate`).
    #[arg(long)]
    activate: bool,
    /// Grace period after activation in which a fault rolls the update back (ms).
    #[arg(long, value_name = "MS")]
    grace_ms: Option<u64>,
    /// Label the daemon keeps with the task (default: the file name).
    #[arg(long)]
    label: Option<String>,
    /// Bytes per chunk (TCP default 16384; CAN default and maximum 4000).
    #[arg(long, value_name = "BYTES")]
    chunk: Option<usize>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct StatusArgs {
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct PidArgs {
    /// The load session's PID.
    pid: u32,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct RollbackArgs {
    /// App name.
    app: String,
    #[command(flatten)]
    common: Common,
}

/// Runs `hsx provision`.
///
/// # Errors
/// Connection, transfer or daemon errors, one line each.
pub fn run(args: ProvisionArgs) -> anyhow::Result<ExitCode> {
    match args.op {
        ProvisionOp::Push(a) => push(&a),
        ProvisionOp::Status(a) => {
            let r = call(&a.common, "provision.status", json!({}))?;
            print_status(&a.common, &r["provision"]);
            Ok(ExitCode::SUCCESS)
        }
        ProvisionOp::Activate(a) => {
            let r = call(&a.common, "provision.activate", json!({"pid": a.pid}))?;
            report_started(&a.common, &r["provision"]);
            Ok(ExitCode::SUCCESS)
        }
        ProvisionOp::Abort(a) => {
            let r = call(&a.common, "provision.abort", json!({"pid": a.pid}))?;
            if a.common.json {
                println!("{r}");
            } else {
                println!("aborted load session {}", a.pid);
            }
            Ok(ExitCode::SUCCESS)
        }
        ProvisionOp::Rollback(a) => {
            let r = call(&a.common, "provision.rollback", json!({"app": a.app}))?;
            let p = &r["provision"];
            if a.common.json {
                println!("{r}");
            } else {
                println!(
                    "{}: previous image running as pid {} (was pid {})",
                    a.app,
                    p["pid"],
                    p["old_pid"].as_u64().map_or("-".into(), |v| v.to_string())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn connect(c: &Common) -> anyhow::Result<Client> {
    if let Some(f) = &c.token_file {
        crate::client::set_token_file(f);
    }
    Client::connect(&c.connect).with_context(|| format!("cannot reach hsxd at {}", c.connect))
}

fn call(c: &Common, cmd: &str, fields: Value) -> anyhow::Result<Value> {
    let mut client = connect(c)?;
    Ok(client.call(&request(cmd, fields))?)
}

fn bar(total: u64) -> ProgressBar {
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

fn read_image(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!("cannot read {}: not a regular file", path.display());
    }
    if meta.len() > 1 << 20 {
        bail!("{} is larger than 1 MiB; not an HSX image", path.display());
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // Refuse locally what the device would refuse, before a slow link is busy with it.
    hsx_image::Image::parse(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a valid image: {}",
            path.display(),
            e.without_file_bytes()
        )
    })?;
    Ok(bytes)
}

fn push(a: &PushArgs) -> anyhow::Result<ExitCode> {
    let bytes = read_image(&a.image)?;
    let label = a.label.clone().unwrap_or_else(|| {
        a.image
            .file_name()
            .map_or_else(|| "image".into(), |n| n.to_string_lossy().into_owned())
    });
    match (&a.can, &a.serial) {
        (Some(spec), _) => push_can(a, spec, &label, &bytes),
        (None, Some(spec)) => push_serial(a, spec, &label, &bytes),
        (None, None) => push_tcp(a, &label, &bytes),
    }
}

fn push_tcp(a: &PushArgs, label: &str, bytes: &[u8]) -> anyhow::Result<ExitCode> {
    let mut client = connect(&a.common)?;
    let start = Instant::now();
    let r = client.call(&request(
        "provision.begin",
        json!({"total_bytes": bytes.len(), "label": label, "replace": a.replace}),
    ))?;
    let pid = r["provision"]["pid"]
        .as_u64()
        .context("malformed provision.begin reply")?;
    let max = r["provision"]["max_chunk"].as_u64().unwrap_or(16 * 1024) as usize;
    let chunk = a.chunk.unwrap_or(16 * 1024).clamp(1, max.max(1));
    let pb = bar(bytes.len() as u64);
    let mut off = 0usize;
    for part in bytes.chunks(chunk) {
        let req = request(
            "provision.write",
            json!({"pid": pid, "offset": off, "data": hsxd::hex::to_hex(part), "crc32": crc32(part)}),
        );
        if let Err(e) = client.call(&req) {
            pb.abandon();
            let _ = client.call(&request("provision.abort", json!({"pid": pid})));
            return Err(e.into());
        }
        off += part.len();
        pb.set_position(off as u64);
    }
    pb.finish_and_clear();
    let r = client.call(&request(
        "provision.end",
        json!({"pid": pid, "activate": a.activate, "grace_ms": a.grace_ms}),
    ))?;
    let p = &r["provision"];
    let secs = start.elapsed().as_secs_f64().max(1e-6);
    if a.common.json {
        println!("{r}");
    } else if p["phase"] == "running" {
        report_started(&a.common, p);
    } else {
        println!(
            "pushed {} bytes in {:.2} s ({:.0} B/s): {} verified and staged as pid {pid}; start it with: hsx provision activate {pid}",
            bytes.len(),
            secs,
            bytes.len() as f64 / secs,
            p["app_name"].as_str().unwrap_or("image"),
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn crc32(b: &[u8]) -> u32 {
    let mut h = hsx_image::Crc32::new();
    h.update(b);
    h.finalize()
}

fn report_started(c: &Common, p: &Value) {
    if c.json {
        println!("{}", json!({"provision": p}));
        return;
    }
    let mut line = format!(
        "{} running as pid {}",
        p["app_name"].as_str().unwrap_or("app"),
        p["pid"]
    );
    if let Some(old) = p["replaced_pid"].as_u64() {
        line.push_str(&format!(", replacing pid {old}"));
    }
    if let Some(slot) = p["slot"].as_str() {
        line.push_str(&format!(", stored in slot {slot}"));
    }
    if p["grace_until_ms"].is_u64() {
        line.push_str(", rolled back if it faults within the grace period");
    }
    println!("{line}");
}

fn push_can(a: &PushArgs, spec: &str, label: &str, bytes: &[u8]) -> anyhow::Result<ExitCode> {
    use hsx_can::provision::device_params;
    let bus = hsx_can::open_bus(spec).with_context(|| format!("cannot open CAN bus {spec}"))?;
    let channel = hsx_can::IsoTpChannel::new(bus, device_params().reversed())?;
    push_link(a, channel, spec, "frames", label, bytes).map(|_| ExitCode::SUCCESS)
}

fn push_serial(a: &PushArgs, spec: &str, label: &str, bytes: &[u8]) -> anyhow::Result<ExitCode> {
    let line = hsx_can::provision::open_serial(spec)
        .with_context(|| format!("cannot open serial line {spec}"))?;
    let mut link = push_link(a, line, spec, "lines", label, bytes)?;
    // What the board printed: its boot lines, and the pushed app's first output.
    let text = link.channel_mut().drain_console(
        std::time::Duration::from_millis(500),
        std::time::Duration::from_secs(3),
    );
    for l in String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        eprintln!("board: {l}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A push over CAN or a serial line, where the device starts the image itself.
fn push_link<L: hsx_can::provision::MessageLink>(
    a: &PushArgs,
    channel: L,
    spec: &str,
    unit: &str,
    label: &str,
    bytes: &[u8],
) -> anyhow::Result<hsx_can::provision::ProvisionLink<L>> {
    use hsx_can::provision::{ProvisionLink, PushOptions};
    if a.replace.is_some() || a.grace_ms.is_some() {
        bail!(
            "--replace and --grace-ms need the TCP connection to hsxd (the device protocol has no such fields)"
        );
    }
    let mut opts = PushOptions::default();
    if let Some(c) = a.chunk {
        opts.chunk_size = c.max(1);
    }
    let mut link = ProvisionLink::new(channel, opts);
    let pb = bar(bytes.len() as u64);
    let r = link.push(Some(label), bytes, |w, _| pb.set_position(w));
    let rep = match r {
        Ok(rep) => {
            pb.finish_and_clear();
            rep
        }
        Err(e) => {
            pb.abandon();
            return Err(e.into());
        }
    };
    let secs = rep.elapsed.as_secs_f64().max(1e-6);
    if a.common.json {
        println!(
            "{}",
            json!({"pid": rep.pid, "bytes": bytes.len(), "chunks": rep.chunks, "resends": rep.resends,
                   "sent": rep.frames.0, "received": rep.frames.1, "unit": unit, "seconds": secs})
        );
    } else {
        println!(
            "pushed {} bytes over {spec} in {:.2} s ({:.0} B/s, {} {unit}, {} resends): started as pid {}",
            bytes.len(),
            secs,
            bytes.len() as f64 / secs,
            rep.frames.0 + rep.frames.1,
            rep.resends,
            rep.pid
        );
    }
    Ok(link)
}

fn print_status(c: &Common, p: &Value) {
    if c.json {
        println!("{}", json!({"provision": p}));
        return;
    }
    let sessions = p["sessions"].as_array().cloned().unwrap_or_default();
    if sessions.is_empty() {
        println!("no load sessions");
    }
    for s in &sessions {
        println!(
            "pid {:<4} {:<8} {:>7}/{:<7} {:>3}%  {}{}",
            s["pid"],
            s["phase"].as_str().unwrap_or("?"),
            s["bytes_written"],
            s["total_bytes"],
            s["progress"],
            s["app_name"].as_str().unwrap_or("-"),
            s["last_error"]
                .as_str()
                .map(|e| format!("  ({e})"))
                .unwrap_or_default()
        );
    }
    for g in p["grace"].as_array().into_iter().flatten() {
        println!(
            "pid {:<4} {} in its grace period ({} ms left)",
            g["pid"],
            g["app"].as_str().unwrap_or("?"),
            g["remaining_ms"]
        );
    }
    match p["store"].as_array() {
        None => println!("image store: none (hsxd --store DIR keeps images across restarts)"),
        Some(apps) if apps.is_empty() => println!("image store: empty"),
        Some(apps) => {
            for e in apps {
                println!(
                    "store {:<20} active {}  previous {}  writes a={} b={}",
                    e["app"].as_str().unwrap_or("?"),
                    e["active"].as_str().unwrap_or("-"),
                    e["previous"].as_str().unwrap_or("-"),
                    e["writes"]["a"],
                    e["writes"]["b"]
                );
            }
        }
    }
}
