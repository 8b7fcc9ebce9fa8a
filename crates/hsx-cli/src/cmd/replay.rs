//! `hsx replay`: re-run a recording made with `hsx run --record` exactly — the same
//! instructions, the same clock readings, the same file-system answers (the files are not
//! read again) — and check that it ends in the recorded state, or stop at any instruction
//! and show every task there.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use hsx_exec::executive::{ExecConfig, LoadOptions, MemLayout};
use hsx_exec::{Backends, Executive, NullFs, TaskState, VirtualClock};
use serde_json::json;

use super::record_file;
use super::run::{Captured, Output, task_json};

/// Exit status of `hsx replay` when the replay does not reproduce the recording.
pub const EXIT_DIVERGED: u8 = 1;

/// Arguments of `hsx replay`.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit status: as `hsx run` for the first task when the replay reaches the end of the \
recording and matches it; 0 with --to; 1 if the replay does not reproduce the recording; 2 if \
the file cannot be read.")]
pub struct ReplayArgs {
    /// A recording made with `hsx run --record FILE.hxr`.
    #[arg(value_name = "FILE.hxr")]
    file: PathBuf,
    /// Stop after this many instructions (all tasks together) and show every task there.
    #[arg(long, value_name = "STEP")]
    to: Option<u64>,
    /// Print one JSON report at the end instead of streaming output.
    #[arg(long)]
    json: bool,
}

/// Run `hsx replay`.
pub fn run(args: ReplayArgs) -> Result<ExitCode> {
    let (header, log) = record_file::read(&args.file)?;
    if let Some(to) = args.to
        && to > header.instructions
    {
        bail!(
            "--to {to} is past the end of the recording ({} instructions)",
            header.instructions
        );
    }
    let mem = MemLayout::parse(&header.options.mem)
        .with_context(|| format!("unknown memory layout {:?}", header.options.mem))?;
    let watchdog = match &header.options.watchdog {
        Some(spec) => spec
            .parse()
            .map_err(|e| anyhow::anyhow!("the recording's watchdog {spec:?}: {e}"))?,
        None => hsx_exec::Watchdog::default(),
    };
    let config = ExecConfig {
        watchdog,
        stdio_drain: true,
        dev_libm: header.options.dev_libm,
        event_capacity: usize::MAX,
        mem_layout: mem,
        ..ExecConfig::default()
    };
    // The file system is never asked: every answer comes from the recording.
    let clock = VirtualClock::starting_at(header.start_clock);
    let mut exec = Executive::new(config, Backends::new(clock).with_fs(NullFs));
    let mut pids = Vec::new();
    for (path, bytes) in header.image_bytes()? {
        let r = exec
            .load(
                &bytes,
                LoadOptions {
                    stack_size: header.options.stack_size,
                    heap_size: header.options.heap_size,
                    ..LoadOptions::path(path.clone())
                },
            )
            .with_context(|| format!("cannot load {path} from the recording"))?;
        pids.push(r.pid);
    }
    let mut out = Output {
        json: args.json,
        several: pids.len() > 1,
        names: exec
            .tasks()
            .into_iter()
            .map(|t| (t.pid, t.app_name))
            .collect(),
        mid_line: Default::default(),
    };
    let mut captured: std::collections::BTreeMap<u32, Captured> =
        pids.iter().map(|p| (*p, Captured::default())).collect();
    let _ = exec.drain_events();
    let report = exec.replay_log(log, args.to);
    for ev in exec.drain_events() {
        out.event(&ev, &mut captured)?;
    }
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hsx: replay failed: {e}");
            return Ok(ExitCode::from(EXIT_DIVERGED));
        }
    };
    let hash = format!("0x{:016x}", exec.state_hash());
    let at_end = args.to.is_none();
    let matches = !at_end || hash == header.state_hash;
    let tasks = exec.tasks();
    if args.json {
        let j = json!({
            "position": report.position,
            "instructions": header.instructions,
            "state_hash": hash,
            "matches": at_end.then_some(matches),
            "tasks": tasks.iter().map(|t| task_json(t, captured.get(&t.pid))).collect::<Vec<_>>(),
        });
        println!("{j}");
    } else if at_end {
        if matches {
            eprintln!(
                "hsx: replay matches the recording ({} instructions, state {hash})",
                report.position
            );
        } else {
            eprintln!(
                "hsx: replay does NOT match the recording: state {hash}, recorded {}",
                header.state_hash
            );
        }
    } else {
        println!(
            "at instruction {} of {}:",
            report.position, header.instructions
        );
        for t in &tasks {
            let regs: Vec<String> = t
                .regs
                .iter()
                .enumerate()
                .map(|(i, r)| format!("R{i}=0x{r:08X}"))
                .collect();
            println!(
                "  task {} ({}) {} pc 0x{:04X} steps {}\n    {}",
                t.pid,
                t.app_name,
                t.state.wire_str(),
                t.pc,
                t.steps,
                regs.join(" ")
            );
        }
    }
    if !matches {
        return Ok(ExitCode::from(EXIT_DIVERGED));
    }
    if !at_end {
        return Ok(ExitCode::SUCCESS);
    }
    let first = tasks.iter().find(|t| Some(&t.pid) == pids.first());
    let code = match first {
        Some(t) if t.fault.is_some() => super::run::EXIT_FAULT,
        Some(t) if t.state == TaskState::Returned => (t.exit_status.unwrap_or(0) & 0xFF) as u8,
        _ => 0,
    };
    Ok(ExitCode::from(code))
}
