//! `launch` (an hsxd embedded in this process, with the program loaded paused), `attach`
//! (a running hsxd) and `configurationDone` (the moment tasks may start).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::embedded::Embedded;
use super::session::{DapError, DapResult, Mode, Session, ThreadInfo};
use crate::client::Client;

/// How long `hsx cc` may take for a `.c` program.
const COMPILE_TIMEOUT: Duration = Duration::from_secs(120);

fn str_arg<'a>(args: &'a Value, key: &str) -> Option<&'a str> {
    args.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// `program` made absolute against `cwd` (the launch configuration's, else ours).
fn resolve_program(program: &str, cwd: Option<&str>) -> PathBuf {
    let p = PathBuf::from(program);
    if p.is_absolute() {
        return p;
    }
    match cwd {
        Some(c) => Path::new(c).join(p),
        None => std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p),
    }
}

/// Builds a `.c` program with this very `hsx` (`cc -g -O0`) into a directory of its own,
/// so the `.sym` lands next to the image. Returns the image path.
fn compile_c(src: &Path) -> DapResult<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| DapError(format!("cannot find hsx: {e}")))?;
    let stem = src
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "app".into());
    let dir = std::env::temp_dir().join(format!("hsx-dap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| DapError(format!("{}: {e}", dir.display())))?;
    let out = dir.join(format!("{stem}.hxe"));
    let mut child = Command::new(exe)
        .arg("cc")
        .arg("-g")
        .arg("-O0")
        .arg(src)
        .arg("-o")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| DapError(format!("cannot run hsx cc: {e}")))?;
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let mut err = String::new();
                if let Some(mut s) = child.stderr.take() {
                    use std::io::Read;
                    let _ = s.by_ref().take(16 * 1024).read_to_string(&mut err);
                }
                if status.success() {
                    return Ok(out);
                }
                return Err(DapError(format!("hsx cc failed: {}", err.trim())));
            }
            Ok(None) if start.elapsed() > COMPILE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("hsx cc timed out".into());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(DapError(format!("hsx cc: {e}"))),
        }
    }
}

impl Session {
    /// `launch {program, args?, stopOnEntry?, cwd?}`.
    pub(super) fn launch(&mut self, args: &Value) -> DapResult<Value> {
        if self.mode != Mode::Idle {
            return Err("already launched or attached".into());
        }
        let program = str_arg(args, "program").ok_or("launch requires 'program'")?;
        let cwd = str_arg(args, "cwd");
        let mut path = resolve_program(program, cwd);
        if !path.exists() {
            return Err(DapError(format!("program not found: {}", path.display())));
        }
        if path.extension().is_some_and(|e| e == "c") {
            path = compile_c(&path)?;
        }
        let embedded = Embedded::start()?;
        let addr = embedded.addr.clone();
        self.embedded = Some(embedded);
        self.hsx = Some(Client::connect(&addr)?);
        self.addr = Some(addr.clone());
        self.mode = Mode::Launch;
        self.stop_on_entry = args
            .get("stopOnEntry")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        self.start_events(&addr)?;
        let pid = self.load_paused(&path)?;
        self.launched.push(pid);
        // Our own daemon: record from the load on, so stepBack/reverseContinue work.
        self.call("record", json!({"op": "start"}))?;
        if let Some(argv) = args.get("args").and_then(Value::as_array) {
            self.pass_args(pid, argv);
        }
        self.syms
            .set_program_dir(pid, path.parent().map(Path::to_path_buf));
        if let Some(c) = cwd {
            self.syms.set_cwd(PathBuf::from(c));
        }
        self.refresh_threads()?;
        self.later("initialized", json!({}));
        Ok(json!({}))
    }

    /// Loads `path` so that it cannot run before `configurationDone`.
    fn load_paused(&mut self, path: &Path) -> DapResult<u32> {
        let p = path.to_string_lossy().into_owned();
        let reply = self.call("load", json!({"path": p, "paused": true}))?;
        let pid = reply
            .pointer("/image/pid")
            .and_then(Value::as_u64)
            .and_then(|p| u32::try_from(p).ok())
            .ok_or("load reply has no pid")?;
        self.syms.load_for_task(pid, Some(path));
        Ok(pid)
    }

    /// Program arguments: hsxd has no argv field on `load`, so they are sent as the
    /// task's stdin, one line each (what `hsx run` programs read).
    fn pass_args(&mut self, pid: u32, argv: &[Value]) {
        let text: String = argv
            .iter()
            .filter_map(Value::as_str)
            .take(64)
            .map(|a| format!("{a}\n"))
            .collect();
        if !text.is_empty() {
            let _ = self.call("send", json!({"pid": pid, "data": text}));
        }
    }

    /// `attach {address?, pid?}`.
    pub(super) fn attach(&mut self, args: &Value) -> DapResult<Value> {
        if self.mode != Mode::Idle {
            return Err("already launched or attached".into());
        }
        let addr = str_arg(args, "address")
            .map(str::to_string)
            .or_else(|| std::env::var("HSX_ADDR").ok())
            .unwrap_or_else(|| crate::client::DEFAULT_ADDR.to_string());
        self.hsx = Some(Client::connect(&addr)?);
        self.call("ping", json!({}))?;
        self.addr = Some(addr.clone());
        self.mode = Mode::Attach;
        self.pid_filter = args
            .get("pid")
            .and_then(Value::as_u64)
            .and_then(|p| u32::try_from(p).ok());
        if let Some(c) = str_arg(args, "cwd") {
            self.syms.set_cwd(PathBuf::from(c));
        }
        self.start_events(&addr)?;
        if args.get("record").and_then(Value::as_bool).unwrap_or(false) {
            self.call("record", json!({"op": "start"}))?;
        }
        self.refresh_threads()?;
        if let Some(p) = self.pid_filter
            && !self.threads.contains_key(&p)
        {
            return Err(DapError(format!("no task with pid {p} in hsxd at {addr}")));
        }
        self.later("initialized", json!({}));
        Ok(json!({}))
    }

    /// Re-reads the task list: new tasks get symbols and a `thread started` event.
    pub(super) fn refresh_threads(&mut self) -> DapResult<()> {
        let ps = self.call("ps", json!({}))?;
        let tasks = ps
            .pointer("/tasks/tasks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for t in tasks.iter().take(4096) {
            let Some(pid) = t
                .get("pid")
                .and_then(Value::as_u64)
                .and_then(|p| u32::try_from(p).ok())
            else {
                continue;
            };
            if !self.ours(pid) {
                continue;
            }
            let state = t.get("state").and_then(Value::as_str).unwrap_or("");
            let alive = !matches!(state, "returned" | "terminated" | "faulted" | "killed");
            if self.threads.contains_key(&pid) {
                continue;
            }
            let name = t
                .get("app_name")
                .and_then(Value::as_str)
                .unwrap_or("task")
                .to_string();
            if !self.syms.has(pid) {
                let sym = t
                    .pointer("/symbols/path")
                    .and_then(Value::as_str)
                    .map(PathBuf::from);
                let program = t.get("program").and_then(Value::as_str).map(PathBuf::from);
                if let Some(dir) = program.as_deref().and_then(Path::parent) {
                    self.syms.set_program_dir(pid, Some(dir.to_path_buf()));
                }
                self.syms
                    .load_for_task(pid, sym.as_deref().or(program.as_deref()));
            }
            self.threads.insert(pid, ThreadInfo { name, alive });
            if alive {
                self.later("thread", json!({"reason": "started", "threadId": pid}));
            }
        }
        Ok(())
    }

    /// `configurationDone`: breakpoints are in; let the tasks run (all but the program
    /// itself with `stopOnEntry`, which reports a stop instead).
    pub(super) fn configuration_done(&mut self) -> DapResult<Value> {
        self.configured = true;
        let pids: Vec<u32> = self.threads.keys().copied().collect();
        for pid in pids {
            if self.stop_on_entry && self.launched.first() == Some(&pid) {
                self.focus = Some(pid);
                self.later(
                    "stopped",
                    json!({"reason": "entry", "threadId": pid, "allThreadsStopped": false}),
                );
                continue;
            }
            // A task that is not paused (attach to a running system) refuses; fine.
            let _ = self.call("resume", json!({"pid": pid}));
        }
        self.clock_owner = true;
        self.ensure_clock();
        Ok(json!({}))
    }
}
