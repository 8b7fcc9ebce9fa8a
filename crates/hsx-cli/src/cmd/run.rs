//! `hsx run`: the embedded executive. Loads images (or assembles `.mvasm` sources on the fly)
//! as tasks, runs them to completion with real or virtual time, streams their stdout/stderr,
//! and exits with the first task's exit status.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use hsx_asm::{AsmError, AsmOptions};
use hsx_exec::Watchdog;
use hsx_exec::event::{BreakReason, TraceRecord};
use hsx_exec::executive::{ExecConfig, LoadOptions, MemLayout, StopReason, TaskInfo};
use hsx_exec::{Backends, Clock, Event, EventKind, Executive, MemFs, TaskState};
use hsx_vm::isa::Instr;
use hsxd::host_fs::HostFs;
use serde_json::{Value, json};

/// Exit status of `hsx` when the first task faulted.
pub const EXIT_FAULT: u8 = 70;
/// Exit status of `hsx` when `--max-steps` ran out before every task ended.
pub const EXIT_STEP_LIMIT: u8 = 124;
/// Exit status of `hsx` when tasks are left paused (BRK) or blocked forever.
pub const EXIT_STUCK: u8 = 75;

/// Arguments of `hsx run`.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit status: the first task's exit status (low 8 bits); 70 if it faulted; 75 if tasks were \
left paused (BRK) or waiting forever; 124 if --max-steps ran out; 2 if an image could not be \
loaded.")]
pub struct RunArgs {
    /// Images (.hxe) or MVASM sources (.mvasm, assembled on the fly), one task each, loaded in
    /// order (PID 1, 2, ...).
    #[arg(required = true, value_name = "APP.hxe|APP.mvasm")]
    inputs: Vec<PathBuf>,
    /// Stop after this many instructions in total.
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Print one trace record per executed instruction on stderr.
    #[arg(long)]
    trace: bool,
    /// Print one JSON report at the end instead of streaming output. The report keeps the
    /// last 64 KiB of each task's stdout and stderr (`stdout_truncated`/`stderr_truncated`
    /// count what it left out); older output is streamed to stderr as it leaves the tail.
    #[arg(long)]
    json: bool,
    /// Skip sleeps and timeouts instead of waiting for them in real time.
    #[arg(long)]
    virtual_time: bool,
    /// Enable the development libm SVCs (module 0x0E: sin, cos, exp on f16).
    #[arg(long)]
    dev_libm: bool,
    /// Give the tasks' file-system calls (SVC module 4) this directory, sandboxed: no path
    /// can leave it. Without it the tasks get an empty in-memory file system.
    #[arg(long, value_name = "DIR")]
    fs_root: Option<PathBuf>,
    /// Task data memory: `flat` (a full 64 KiB per task) or `segmented` (only rodata + heap
    /// at 0x4000 and the stack below 0xFFFC, as on a microcontroller; any other access is a
    /// MEM_FAULT of that task).
    #[arg(long, value_name = "LAYOUT", default_value = "flat", value_parser = parse_mem)]
    mem: MemLayout,
    /// Stack size in bytes for every task (default: the image hint, else 4096).
    #[arg(long, value_name = "BYTES")]
    stack_size: Option<u32>,
    /// Zeroed bytes after each task's rodata (segmented layout; default: the image hint,
    /// else the header's bss size).
    #[arg(long, value_name = "BYTES")]
    heap_size: Option<u32>,
    /// Record the run into this file (`.hxr`), to replay it exactly with `hsx replay`.
    #[arg(long, value_name = "FILE.hxr")]
    record: Option<PathBuf>,
    /// Instruction watchdog: a task that runs N instructions without an SVC is faulted
    /// (`N` or `N:fault`, fault WATCHDOG) or paused for MS milliseconds (`N:throttle[=MS]`,
    /// default 10). Off by default.
    #[arg(long, value_name = "N[:fault|:throttle[=MS]]")]
    watchdog: Option<Watchdog>,
}

fn parse_mem(s: &str) -> Result<MemLayout, String> {
    MemLayout::parse(s).ok_or_else(|| format!("unknown memory layout {s:?} (flat, segmented)"))
}

/// Wall-clock milliseconds since the run started, or a virtual time the runner moves.
#[derive(Clone)]
struct RunClock {
    start: Instant,
    virtual_ms: Option<Arc<AtomicU64>>,
}

impl Clock for RunClock {
    fn now_ms(&self) -> u64 {
        match &self.virtual_ms {
            Some(v) => v.load(Ordering::Relaxed),
            None => u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// Output bytes per task and stream that the `--json` report keeps.
pub(crate) const JSON_TAIL_BYTES: usize = 64 * 1024;

/// The newest output of one stream, at most [`JSON_TAIL_BYTES`]; what is pushed out is
/// counted and handed back for streaming, so memory stays bounded whatever a task writes.
#[derive(Default)]
pub(crate) struct Tail {
    buf: std::collections::VecDeque<u8>,
    truncated: u64,
}

impl Tail {
    /// Appends `data`; returns the oldest bytes that no longer fit.
    pub(crate) fn push(&mut self, data: &[u8]) -> Vec<u8> {
        self.buf.extend(data);
        let excess = self.buf.len().saturating_sub(JSON_TAIL_BYTES);
        self.truncated += excess as u64;
        self.buf.drain(..excess).collect()
    }

    fn text(&self) -> String {
        let (a, b) = self.buf.as_slices();
        let mut v = Vec::with_capacity(a.len() + b.len());
        v.extend_from_slice(a);
        v.extend_from_slice(b);
        String::from_utf8_lossy(&v).into_owned()
    }
}

/// Per-task output collected for the report.
#[derive(Default)]
pub(super) struct Captured {
    stdout: Tail,
    stderr: Tail,
}

/// Run `hsx run`.
pub fn run(args: RunArgs) -> Result<ExitCode> {
    let clock = RunClock {
        start: Instant::now(),
        virtual_ms: args.virtual_time.then(|| Arc::new(AtomicU64::new(0))),
    };
    let config = ExecConfig {
        // The runner is the only consumer of stdout, so the executive hands it over as events
        // and frees the mailbox space at once (an unread stdout mailbox would otherwise fill).
        stdio_drain: true,
        dev_libm: args.dev_libm,
        trace_default: args.trace,
        // `--json` prints no trace lines, so it gets no per-instruction events to discard.
        trace_step_events: args.trace && !args.json,
        // The queue drops its oldest events when full, and one batch can queue far more
        // than the default bound (a `trace_step` per instruction, a `stdout` per write).
        // The runner drains after every batch, so the queue never holds more than one
        // batch's events; with a bound, output and trace lines were silently lost.
        event_capacity: usize::MAX,
        mem_layout: args.mem,
        watchdog: args.watchdog.unwrap_or_default(),
        ..ExecConfig::default()
    };
    let backends = match &args.fs_root {
        Some(root) => {
            Backends::new(clock.clone()).with_fs(HostFs::create(root).with_context(|| {
                format!("cannot use {} as the file-system root", root.display())
            })?)
        }
        None => Backends::new(clock.clone()).with_fs(MemFs::new()),
    };
    let mut exec = Executive::new(config, backends);

    let mut pids = Vec::new();
    let mut images = Vec::new();
    for path in &args.inputs {
        let bytes = image_bytes(path)?;
        if args.record.is_some() {
            images.push((path.display().to_string(), bytes.clone()));
        }
        let report = exec
            .load(
                &bytes,
                LoadOptions {
                    stack_size: args.stack_size,
                    heap_size: args.heap_size,
                    ..LoadOptions::path(path.display().to_string())
                },
            )
            .with_context(|| format!("cannot load {}", path.display()))?;
        pids.push(report.pid);
    }

    let mut recorder = args.record.clone().map(|file| {
        let options = super::record_file::RecordedOptions {
            dev_libm: args.dev_libm,
            mem: args.mem.as_str().into(),
            stack_size: args.stack_size,
            heap_size: args.heap_size,
            watchdog: args.watchdog.map(|w| w.to_string()),
        };
        super::record_file::Recorder::start(file, &mut exec, images, options)
    });
    let several = pids.len() > 1;
    let mut captured: std::collections::BTreeMap<u32, Captured> =
        pids.iter().map(|p| (*p, Captured::default())).collect();
    let mut out = Output {
        json: args.json,
        several,
        names: exec
            .tasks()
            .into_iter()
            .map(|t| (t.pid, t.app_name))
            .collect(),
        mid_line: Default::default(),
    };

    let started = Instant::now();
    let mut total: u64 = 0;
    let mut outcome = Outcome::Done;
    // A batch keeps the event queue short and output timely without costing throughput.
    const BATCH: u64 = 1 << 16;
    loop {
        let budget = match args.max_steps {
            Some(max) if total >= max => {
                outcome = Outcome::StepLimit;
                break;
            }
            Some(max) => BATCH.min(max - total),
            None => BATCH,
        };
        let summary = exec.run_until(budget);
        total += summary.executed;
        if let Some(r) = &mut recorder {
            r.after_batch(&mut exec);
        }
        for ev in exec.drain_events() {
            out.event(&ev, &mut captured)?;
        }
        match summary.stop {
            StopReason::Budget => {}
            StopReason::DebugBreak(_) => {}
            StopReason::AllDone => break,
            StopReason::Paused => {
                outcome = Outcome::Stuck;
                break;
            }
            StopReason::NotRunnable => {}
            StopReason::Blocked { next_deadline_ms } => match next_deadline_ms {
                None => {
                    outcome = Outcome::Stuck;
                    break;
                }
                Some(deadline) => match &clock.virtual_ms {
                    Some(v) => {
                        v.fetch_max(deadline, Ordering::Relaxed);
                    }
                    None => {
                        let now = clock.now_ms();
                        if deadline > now {
                            std::thread::sleep(Duration::from_millis(deadline - now));
                        }
                    }
                },
            },
        }
    }
    let wall_s = started.elapsed().as_secs_f64();
    for ev in exec.drain_events() {
        out.event(&ev, &mut captured)?;
    }
    if let Some(r) = recorder {
        r.finish(&mut exec)?;
    }
    let tasks = exec.tasks();

    if args.json {
        let report = json!({
            "tasks": tasks.iter().map(|t| task_json(t, captured.get(&t.pid))).collect::<Vec<_>>(),
            "instructions": total,
            "wall_s": wall_s,
        });
        println!("{report}");
    } else {
        std::io::stdout().flush().ok();
        match outcome {
            Outcome::Done => {}
            Outcome::StepLimit => eprintln!(
                "hsx: step limit reached after {total} instructions; still live: {}",
                live_list(&tasks)
            ),
            Outcome::Stuck => eprintln!(
                "hsx: no task can make progress (paused or waiting forever): {}",
                live_list(&tasks)
            ),
        }
        for t in &tasks {
            if let Some(f) = &t.fault {
                eprintln!(
                    "hsx: task {} ({}) faulted: {} (0x{:08X}) at pc 0x{:04X}",
                    t.pid, t.app_name, f.name, f.code, f.pc
                );
            }
        }
    }

    let first = tasks.iter().find(|t| Some(&t.pid) == pids.first());
    let code = match (outcome, first) {
        (Outcome::StepLimit, _) => EXIT_STEP_LIMIT,
        (_, Some(t)) if t.fault.is_some() => EXIT_FAULT,
        (_, Some(t)) if t.state == TaskState::Returned => (t.exit_status.unwrap_or(0) & 0xFF) as u8,
        (Outcome::Stuck, _) => EXIT_STUCK,
        _ => 0,
    };
    Ok(ExitCode::from(code))
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Done,
    StepLimit,
    Stuck,
}

/// Read an image, assembling `.mvasm` sources in memory.
fn image_bytes(path: &Path) -> Result<Vec<u8>> {
    let is_source = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mvasm") || e.eq_ignore_ascii_case("s"));
    if !is_source {
        return std::fs::read(path).with_context(|| format!("cannot read {}", path.display()));
    }
    let opts = AsmOptions {
        output_path: Some(path.with_extension("hxe")),
        ..AsmOptions::default()
    };
    match hsx_asm::assemble_files(&[path.to_path_buf()], &opts) {
        Ok(out) => {
            for w in &out.warnings {
                eprintln!("{w}");
            }
            Ok(out.hxe_bytes)
        }
        Err(AsmError::Source(d)) => bail!("{d}"),
        Err(e) => Err(e.into()),
    }
}

fn live_list(tasks: &[TaskInfo]) -> String {
    let live: Vec<String> = tasks
        .iter()
        .filter(|t| t.exit_status.is_none() && t.fault.is_none())
        .map(|t| format!("{} ({}, {})", t.pid, t.app_name, t.state.wire_str()))
        .collect();
    if live.is_empty() {
        "none".into()
    } else {
        live.join(", ")
    }
}

pub(super) fn task_json(t: &TaskInfo, cap: Option<&Captured>) -> Value {
    let text = |b: Option<&Tail>| b.map(Tail::text);
    let cut = |b: Option<&Tail>| b.map_or(0, |t| t.truncated);
    json!({
        "pid": t.pid,
        "app_name": t.app_name,
        "state": t.state.wire_str(),
        "exit_status": t.exit_status,
        "fault": t.fault.map(|f| json!({"code": f.code, "name": f.name, "pc": f.pc})),
        "steps": t.steps,
        "pc": t.pc,
        "sp": t.sp,
        "psw": t.psw,
        "regs": t.regs.to_vec(),
        "stdout": text(cap.map(|c| &c.stdout)).unwrap_or_default(),
        "stderr": text(cap.map(|c| &c.stderr)).unwrap_or_default(),
        "stdout_truncated": cut(cap.map(|c| &c.stdout)),
        "stderr_truncated": cut(cap.map(|c| &c.stderr)),
    })
}

/// Streams task output to the terminal (or captures it for `--json`).
pub(super) struct Output {
    pub(super) json: bool,
    pub(super) several: bool,
    pub(super) names: std::collections::BTreeMap<u32, String>,
    /// Tasks whose last output ended mid-line (no prefix before their next chunk).
    pub(super) mid_line: std::collections::BTreeSet<u32>,
}

impl Output {
    pub(super) fn event(
        &mut self,
        ev: &Event,
        captured: &mut std::collections::BTreeMap<u32, Captured>,
    ) -> Result<()> {
        let pid = ev.pid.unwrap_or(0);
        match &ev.kind {
            // Output is kept only for the `--json` report, and only its tail; streamed
            // output is not also buffered, so a chatty task does not grow memory.
            // With `--json`, stdout is the report's: what leaves the tail goes to stderr.
            EventKind::Stdout(data) if self.json => {
                let old = captured.entry(pid).or_default().stdout.push(data);
                if !old.is_empty() {
                    self.write(pid, &old, true)?;
                }
            }
            EventKind::Stderr(data) if self.json => {
                let old = captured.entry(pid).or_default().stderr.push(data);
                if !old.is_empty() {
                    self.write(pid, &old, true)?;
                }
            }
            EventKind::Stdout(data) => self.write(pid, data, false)?,
            EventKind::Stderr(data) => self.write(pid, data, true)?,
            EventKind::TraceStep(rec) if !self.json => {
                eprintln!("{}", trace_line(rec));
            }
            EventKind::DebugBreak(b) if !self.json => {
                let what = match b.reason {
                    BreakReason::Brk { code } => format!("BRK {code}"),
                    BreakReason::Breakpoint => "breakpoint".to_string(),
                    BreakReason::Watch { id } => format!("watch {id}"),
                };
                eprintln!(
                    "hsx: task {pid} stopped at {what} (pc 0x{:04X}); `hsx run` has no debugger, \
                     so it stays paused (use hsxd to debug)",
                    b.pc
                );
            }
            _ => {}
        }
        Ok(())
    }

    fn write(&mut self, pid: u32, data: &[u8], err: bool) -> Result<()> {
        let mut buf = Vec::with_capacity(data.len() + 16);
        if self.several {
            // Prefix every line so interleaved output from several tasks stays readable.
            let name = self.names.get(&pid).map(String::as_str).unwrap_or("?");
            for line in data.split_inclusive(|b| *b == b'\n') {
                if !self.mid_line.remove(&pid) {
                    buf.extend_from_slice(format!("[{pid}:{name}] ").as_bytes());
                }
                buf.extend_from_slice(line);
                if !line.ends_with(b"\n") {
                    self.mid_line.insert(pid);
                }
            }
        } else {
            buf.extend_from_slice(data);
        }
        if err {
            let mut e = std::io::stderr().lock();
            e.write_all(&buf)?;
            e.flush()?;
        } else {
            let mut o = std::io::stdout().lock();
            o.write_all(&buf)?;
            o.flush()?;
        }
        Ok(())
    }
}

fn trace_line(rec: &TraceRecord) -> String {
    let text = match Instr::decode(rec.opcode) {
        Ok(i) => i.display(rec.pc, rec.extended_word).to_string(),
        Err(e) => e.to_string(),
    };
    let changed: Vec<String> = rec
        .changed_regs()
        .map(|r| format!("R{r}=0x{:08X}", rec.regs[usize::from(r)]))
        .collect();
    format!(
        "[trace] pid={} pc=0x{:04X} {:08X} {:<28} psw={:X} {}",
        rec.pid,
        rec.pc,
        rec.opcode,
        text,
        rec.flags,
        changed.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_tail_is_bounded_and_counts_what_it_left_out() {
        let mut t = Tail::default();
        assert!(t.push(b"head ").is_empty());
        let block = vec![b'x'; JSON_TAIL_BYTES];
        let out = t.push(&block);
        assert_eq!(out, b"head ", "the oldest bytes come back for streaming");
        let out = t.push(b"end");
        assert_eq!(out, b"xxx");
        assert_eq!(t.truncated, 8);
        let text = t.text();
        assert_eq!(text.len(), JSON_TAIL_BYTES);
        assert!(text.ends_with("xend"));
    }
}
