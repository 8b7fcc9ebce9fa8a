//! Lifecycle: `ping`, `info`, `attach`, `detach`, `load`/`exec`, `reload`, `kill`, `ps`,
//! `list`, `restart`, `shutdown` (protocol.md §2.1).

use serde_json::{Value, json};

use std::path::Path;

use hsx_exec::LoadOptions;
use hsx_image::sym::SymFile;

use super::fields::{req_pid, requires};
use crate::args::{self, Obj, display_value, field, truthy};
use crate::clock;
use crate::context::{Ctx, Outcome, PostAction};
use crate::debug_state::{prepare_load_symbols, symbol_warnings};
use crate::debugger::{LoadedSymbols, PreparedSymbols, SymbolStore};
use crate::error::{OpError, ProtoError};
use crate::event_map;
use crate::event_map::publish;
use crate::policy::Grant;
use crate::program::read_program;
use crate::reply::Reply;
use crate::state::Daemon;
use crate::task_output::TaskOutput;
use crate::wire::info::{Info, MailboxCounters, SchedCounters, Scheduler, TaskList};
use crate::wire::mailbox::{Channel, Channels};
use crate::wire::task::{
    Context, LoadedImage, LoadedMetadata, MailboxCreated, Registers, SymbolsLoaded, TaskRecord,
    VmTask,
};
use crate::wire::to_value;

/// `load`/`exec` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadArgs {
    /// Host path of the `.hxe`.
    pub path: String,
    /// Verbose load.
    pub verbose: bool,
    /// `.sym` override (relative paths resolve against the image's directory).
    pub symbols: Option<String>,
    /// Load the task paused, so breakpoints can be set before its first instruction.
    pub paused: bool,
    /// Watchdog limit of this task (instructions between SVCs, 0 = off); default the
    /// daemon's `--watchdog`.
    pub watchdog: Option<u64>,
}

/// `reload` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadArgs {
    /// Task to reload.
    pub pid: u32,
    /// Verbose load.
    pub verbose: bool,
    /// Load the new task paused.
    pub paused: bool,
}

pub(crate) fn parse_info(obj: &Obj) -> Result<Option<u32>, ProtoError> {
    Ok(args::opt_u32(obj, "pid")?)
}

pub(crate) fn parse_load(name: &str, obj: &Obj) -> Result<LoadArgs, ProtoError> {
    let path = match field(obj, "path") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) | None => return Err(requires(name, "path")),
        Some(other) => display_value(other),
    };
    let symbols = match field(obj, "symbols") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    Ok(LoadArgs {
        path,
        verbose: truthy(obj.get("verbose")),
        symbols,
        paused: truthy(obj.get("paused")),
        watchdog: args::opt_u64(obj, "watchdog")?,
    })
}

pub(crate) fn parse_reload(obj: &Obj) -> Result<ReloadArgs, ProtoError> {
    Ok(ReloadArgs {
        pid: req_pid("reload", obj)?,
        verbose: truthy(obj.get("verbose")),
        paused: truthy(obj.get("paused")),
    })
}

pub(crate) fn parse_kill(obj: &Obj) -> Result<u32, ProtoError> {
    req_pid("kill", obj)
}

pub(crate) fn parse_list(obj: &Obj) -> Result<u32, ProtoError> {
    req_pid("list", obj)
}

pub(crate) fn parse_restart(obj: &Obj) -> Result<Vec<String>, ProtoError> {
    let targets: Vec<String> = match field(obj, "targets") {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(a)) => a.iter().map(display_value).collect(),
        _ => vec!["vm".into(), "exec".into()],
    };
    let mut targets: Vec<String> = targets
        .into_iter()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    if targets.is_empty() {
        targets.push("exec".into());
    }
    Ok(targets)
}

/// `info`: the §5.6 object with the clock; with `pid`, that task's registers (or why there
/// are none).
pub(crate) fn info(ctx: &Ctx<'_>, pid: Option<u32>) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let (snap, selected) = {
        let exec = d.exec();
        (InfoSnap::take(&exec), pid.map(|p| exec.task(p)))
    };
    let clock = clock::status(d);
    let mut info = info_object(d, &snap);
    info.auto = Some(clock.running);
    info.clock = Some(clock);
    let selected = selected.map(|r| r.map(|t| Registers::of(&t)));
    match selected {
        Some(Ok(regs)) => {
            info.selected_pid = pid;
            info.selected_registers = Some(regs);
        }
        Some(Err(e)) => info.selected_error = Some(OpError::from(e).to_string()),
        None => {}
    }
    Ok(Reply::with("info", to_value(&info)).into())
}

/// `attach`: the `info` object without `auto`/`clock`.
pub(crate) fn attach(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let snap = InfoSnap::take(&d.exec());
    Ok(Reply::with("info", to_value(&info_object(d, &snap))).into())
}

/// `detach`: stops the auto clock; the `info` object without `auto`/`clock`.
pub(crate) fn detach(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    clock::halt(ctx.daemon(), "stopped");
    attach(ctx)
}

/// What `info` needs from the executive, copied out under its lock so the JSON is built
/// without it.
struct InfoSnap {
    tasks: Vec<hsx_exec::TaskInfo>,
    current: Option<u32>,
    runnable: bool,
    mailbox: Vec<hsx_exec::mailbox::PidCounters>,
}

impl InfoSnap {
    fn take(exec: &hsx_exec::Executive) -> Self {
        let tasks = exec.tasks();
        let mailbox = tasks.iter().map(|t| exec.mailbox_counters(t.pid)).collect();
        Self {
            current: exec.current_pid(),
            runnable: exec.has_runnable(),
            tasks,
            mailbox,
        }
    }
}

/// Scheduler switches shown in `info.scheduler.trace`.
const INFO_SCHED_TRACE: usize = 32;

/// The `info` object of a snapshot, without the clock or a selected task.
fn info_object<'a>(d: &Daemon, snap: &'a InfoSnap) -> Info<'a> {
    let cur = snap
        .current
        .and_then(|p| snap.tasks.iter().find(|t| t.pid == p));
    let counters = SchedCounters::by_pid(&snap.tasks);
    let mailbox_counters = snap
        .tasks
        .iter()
        .zip(&snap.mailbox)
        .map(|(t, mc)| {
            let c = MailboxCounters {
                step: mc.step,
                wake: mc.wake,
                timeout: mc.timeout,
            };
            (t.pid.to_string(), c)
        })
        .collect();
    let trace = event_map::sched_trace_tail(d, Some(INFO_SCHED_TRACE));
    Info {
        loaded: !snap.tasks.is_empty(),
        program: cur.and_then(|t| t.filepath.as_deref()),
        running: snap.runnable,
        pc: cur.map(|t| t.pc),
        attached: true,
        paused: cur.is_some_and(|t| t.state == hsx_exec::TaskState::Paused),
        sleep_pending: cur.is_some_and(|t| t.sleep.is_some()),
        current_pid: snap.current,
        active_context: cur.map(Context::of),
        tasks: snap.tasks.iter().map(VmTask::of).collect(),
        scheduler: Scheduler {
            trace,
            counters,
            mailbox_counters,
        },
        auto: None,
        clock: None,
        selected_pid: None,
        selected_registers: None,
        selected_error: None,
    }
}

/// `load`/`exec`: the `image` object (§2.1.1). Emits `task_state` reason `loaded`.
pub(crate) fn load(ctx: &Ctx<'_>, a: LoadArgs) -> Result<Outcome, ProtoError> {
    let grant = ctx.peer.map(|p| &*p.grant);
    let image = ctx.heavy(|| load_image(ctx.daemon(), &a, grant))?;
    Ok(Reply::with("image", to_value(&image)).into())
}

fn load_image(d: &Daemon, args: &LoadArgs, grant: Option<&Grant>) -> Result<LoadedImage, OpError> {
    let (bytes, assembled_sym) = read_program(&args.path)?;
    // A grant limited to some apps loads only those (by the name in the image header),
    // and one limited in image capabilities only images that request no others.
    if let Some(g) = grant.filter(|g| g.apps.is_some() || g.req_caps.is_some())
        && let Ok(im) = hsx_image::Image::parse(&bytes)
        && let Some(why) = g.refusal(&im.app_name.unwrap_or_default(), im.req_caps)
    {
        return Err(OpError::failed(why));
    }
    let abs = std::fs::canonicalize(&args.path)
        .map_or_else(|_| args.path.clone(), |p| p.display().to_string());
    let mut exec = d.exec();
    let opts = LoadOptions {
        watchdog: args.watchdog,
        ..LoadOptions::path(abs.clone())
    };
    let rep = exec.load(&bytes, opts);
    // Paused in the same lock hold as the load, so the auto clock cannot run a single
    // instruction of it first.
    let paused = match &rep {
        Ok(r) if args.paused => exec.pause(r.pid).map(|_| true),
        _ => Ok(false),
    };
    publish(d, &mut exec);
    let rep = rep.map_err(|e| match e {
        // The loader's own texts quote header fields; the file may not be the client's.
        hsx_exec::ExecError::Image(le) => OpError::failed(le.without_file_bytes()),
        other => OpError::from(other),
    })?;
    let paused = paused?;
    // The `.sym` is read without the executive locked.
    drop(exec);
    let symbols = load_symbols(
        d,
        rep.pid,
        &abs,
        args.symbols.as_deref(),
        assembled_sym,
        rep.image.crc32,
    );
    let warnings = symbol_warnings(&symbols);
    let im = rep.image;
    let md = im.metadata;
    let creation: Vec<MailboxCreated> = rep
        .mailbox_creation
        .iter()
        .map(|c| MailboxCreated {
            target: c.target.clone(),
            descriptor: c.descriptor,
            capacity: c.capacity,
            mode_mask: c.mode_mask,
            owner_pid: c.owner_pid,
        })
        .collect();
    Ok(LoadedImage {
        pid: rep.pid,
        entry: im.entry,
        code_len: im.code_len,
        ro_len: im.ro_len,
        bss: im.bss,
        version: im.version,
        flags: im.flags,
        req_caps: im.req_caps,
        app_name: rep.app_name,
        app_name_base: rep.app_name_base,
        allow_multiple_instances: im.allow_multiple_instances,
        metadata: LoadedMetadata {
            sections: [],
            values: rep.value_oids,
            commands: rep.command_oids,
            mailboxes: creation.clone(),
        },
        meta_count: md.values + md.commands + md.mailboxes,
        manifest_present: im.manifest_present,
        mailbox_creation: creation,
        symbols,
        warnings,
        paused,
    })
}

/// Installs the symbols of a freshly loaded task (see [`prepare_load_symbols`]) and
/// answers the §2.1.1 `symbols` status.
fn load_symbols(
    d: &Daemon,
    pid: u32,
    program: &str,
    override_path: Option<&str>,
    assembled: Option<SymFile>,
    image_crc: u32,
) -> serde_json::Value {
    let prepared = prepare_load_symbols(Path::new(program), override_path, assembled);
    let exec = d.exec();
    if !exec.has_task(pid) {
        return json!({"pid": pid, "loaded": false});
    }
    d.dbg().install_symbols(pid, prepared, Some(image_crc))
}

/// `reload`: kill the task and load its program again, keeping its symbols:
/// `{old_pid, new_pid, program, image, task}`.
pub(crate) fn reload(ctx: &Ctx<'_>, a: ReloadArgs) -> Result<Outcome, ProtoError> {
    ctx.check_pid(a.pid)?;
    let grant = ctx.peer.map(|p| &*p.grant);
    let r = ctx.heavy(|| reload_task(ctx.daemon(), a, grant))?;
    Ok(Reply::with("reload", r).into())
}

fn reload_task(d: &Daemon, a: ReloadArgs, grant: Option<&Grant>) -> Result<Value, OpError> {
    let pid = a.pid;
    let program = d.exec().task(pid)?.filepath.ok_or_else(|| {
        OpError::failed(format!(
            "task {pid} does not have an associated program path"
        ))
    })?;
    let was_running = d.clock().running;
    let old_symbols = symbols_for_reload(d, pid, &program);
    let watchdog = d.exec().task_watchdog(pid).ok().map(|w| w.0);
    kill_task(d, pid)?;
    let mut image = load_image(
        d,
        &LoadArgs {
            path: program.clone(),
            verbose: a.verbose,
            symbols: old_symbols.as_ref().and_then(|o| o.override_path.clone()),
            paused: a.paused,
            watchdog,
        },
        grant,
    )?;
    keep_symbols_on_reload(d, &mut image, old_symbols);
    let new_pid = image.pid;
    let task = d
        .exec()
        .task(new_pid)
        .ok()
        .map_or(Value::Null, |t| to_value(&TaskRecord::of(&t)));
    if was_running {
        clock::start(d);
    }
    Ok(json!({
        "old_pid": pid,
        "new_pid": new_pid,
        "program": program,
        "image": to_value(&image),
        "task": task,
    }))
}

/// A task's symbols as `reload` carries them over.
struct ReloadSymbols {
    /// A `.sym` path other than the program's default, to load again.
    override_path: Option<String>,
    /// The table, kept when loading again fails.
    loaded: std::sync::Arc<LoadedSymbols>,
}

fn symbols_for_reload(d: &Daemon, pid: u32, program: &str) -> Option<ReloadSymbols> {
    let loaded = d.dbg().symbols.get(pid).cloned()?;
    let program = Path::new(program);
    let default = loaded.path == SymbolStore::sym_path_for(program) || loaded.path == program;
    Some(ReloadSymbols {
        override_path: (!default).then(|| loaded.path.display().to_string()),
        loaded,
    })
}

/// After `reload`: when the new task found no symbols but the old one had some, the old
/// table is installed for the new task.
fn keep_symbols_on_reload(d: &Daemon, image: &mut LoadedImage, old: Option<ReloadSymbols>) {
    let Some(old) = old else { return };
    if image.symbols["loaded"] == json!(true) {
        return;
    }
    let exec = d.exec();
    let Ok(t) = exec.task(image.pid) else { return };
    let prepared =
        PreparedSymbols::Ready(old.loaded.path.clone(), Box::new(old.loaded.table.clone()));
    image.symbols = d
        .dbg()
        .install_symbols(image.pid, prepared, Some(t.image.crc32));
    image.warnings.clear();
}

/// `kill`: `{pid, state: "terminated"}`. The other tasks keep running.
pub(crate) fn kill(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    ctx.check_pid(pid)?;
    kill_task(ctx.daemon(), pid)?;
    Ok(Reply::with("task", json!({"pid": pid, "state": "terminated"})).into())
}

fn kill_task(d: &Daemon, pid: u32) -> Result<(), OpError> {
    let mut exec = d.exec();
    let r = exec.kill(pid);
    publish(d, &mut exec);
    r?;
    d.dbg().forget_pid(pid);
    Ok(())
}

/// `ps`: `{tasks: [task...], current_pid}` (§5.5), sorted by pid.
pub(crate) fn ps(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    // Snapshot under the executive lock; build the JSON after releasing it.
    let (mut tasks, current, mut budgets) = {
        let exec = d.exec();
        let tasks = exec.tasks();
        let budgets: std::collections::BTreeMap<u32, _> = tasks
            .iter()
            .filter_map(|t| Some((t.pid, exec.budget_usage(t.pid).ok()?)))
            .collect();
        (tasks, exec.current_pid(), budgets)
    };
    tasks.sort_by_key(|t| t.pid);
    let mut records: Vec<TaskRecord<'_>> = tasks.iter().map(TaskRecord::of).collect();
    for r in &mut records {
        r.budgets = budgets
            .remove(&r.vm.pid)
            .map(|u| crate::wire::task::BudgetUseWire::map(&u));
    }
    {
        let dbg = d.dbg();
        for r in &mut records {
            // §5.5: `symbols:{path,count}` only while a table is loaded.
            r.symbols = dbg.symbols.get(r.vm.pid).map(|l| SymbolsLoaded {
                path: l.path.display().to_string(),
                count: l.table.symbols().len(),
            });
        }
    }
    let list = TaskList {
        tasks: records,
        current_pid: current,
    };
    Ok(Reply::with("tasks", to_value(&list)).into())
}

/// `list`: `{pid, channels: [...]}` (§2.6), the mailboxes a task owns.
pub(crate) fn list_channels(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    let exec = ctx.daemon().exec();
    if !exec.has_task(pid) {
        return Err(OpError::UnknownPid(pid).into());
    }
    let snapshot = exec.mailbox_snapshot();
    drop(exec);
    let channels = Channels {
        pid,
        channels: snapshot
            .iter()
            .filter(|d| d.owner_pid == Some(pid))
            .map(Channel::of)
            .collect(),
    };
    Ok(Reply::with("channels", to_value(&channels)).into())
}

/// `restart`: `vm` resets the executive in place; `exec` drops every session,
/// subscription and connection just after the reply.
pub(crate) fn restart(ctx: &Ctx<'_>, targets: Vec<String>) -> Result<Outcome, ProtoError> {
    let mut result = serde_json::Map::new();
    if targets.iter().any(|t| t == "vm") {
        restart_vm(ctx.daemon());
        result.insert("vm".into(), json!("requested"));
    }
    let exec = targets.iter().any(|t| t == "exec");
    if exec {
        result.insert("exec".into(), json!("scheduled"));
    }
    let out = Outcome::reply(Reply::with("restart", Value::Object(result)));
    Ok(if exec {
        out.then(PostAction::RestartExec)
    } else {
        out
    })
}

/// The executive is in-process, so restarting "the VM" resets it in place: the clock
/// stops, every task is killed (each gets its `task_state` → `terminated`), and the
/// daemon's per-task state (symbols, watches, output, scheduler trace) goes with them.
/// Clock settings, sessions, PID locks and the event sequence stay; PIDs keep counting.
fn restart_vm(d: &Daemon) {
    clock::halt(d, "stopped");
    let mut exec = d.exec();
    let mut pids = exec.pids();
    pids.sort_unstable();
    for &pid in &pids {
        // A task that has just ended is still in the table; kill removes it either way.
        let _ = exec.kill(pid);
    }
    publish(d, &mut exec);
    {
        let mut dbg = d.dbg();
        for &pid in &pids {
            dbg.forget_pid(pid);
        }
    }
    *d.output() = TaskOutput::new();
    d.sched_trace().clear();
    d.stdio_handles().clear();
    drop(exec);
    let ts = d.bus().with_hub(|_, now| now);
    d.dmesg()
        .log(ts, "info", "vm restarted", json!({"killed": pids}));
    d.wake_clock();
}

/// What the server does once when it stops (`shutdown`, SIGINT, SIGTERM): stops the
/// clock and its loop and flushes persistence (FRAM).
pub fn shutdown_daemon(d: &Daemon) {
    clock::close(d);
    let mut exec = d.exec();
    exec.flush_persistence();
    publish(d, &mut exec);
}

/// `shutdown`: the server stops after the reply.
pub(crate) fn shutdown(_ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    Ok(Outcome::reply(Reply::ok()).then(PostAction::Shutdown))
}
