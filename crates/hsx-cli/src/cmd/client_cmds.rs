//! Execution of the client commands against hsxd, shared by one-shot subcommands and the
//! interactive shell. Each command sends the requests of protocol.md §2 and prints either
//! a human rendering ([`super::render`]) or, with `--json`, every raw reply line.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use thiserror::Error;

use super::remote::{
    AddrSpec, BpOp, BreakPolicyArg, ClockOp, MemOp, OnOff, RemoteCommand, SymKind, TraceOp, WatchOp,
};
use super::render;
use crate::client::{Client, ClientError, EventFilter, EventStream, request};
use crate::interrupt;

mod reverse;
mod values;

/// Why a client command failed.
#[derive(Debug, Error)]
pub enum CmdError {
    /// Talking to hsxd failed, or hsxd answered with an error.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The command's own arguments were unusable (e.g. an unknown symbol).
    #[error("{0}")]
    Usage(String),
    /// The request worked but reported a failure (mailbox status, value status).
    #[error("{0}")]
    Failed(String),
    /// Writing the output failed (closed pipe).
    #[error("cannot write output: {0}")]
    Output(#[from] io::Error),
}

impl CmdError {
    /// Prints `hsx: error: ...` (and a hint when the daemon is unreachable) to stderr.
    pub fn report(&self) {
        eprintln!("hsx: error: {self}");
        if let CmdError::Client(c) = self
            && let Some(h) = c.hint()
        {
            eprintln!("hsx: hint: {h}");
        }
    }
}

type CmdResult<T = ()> = Result<T, CmdError>;

/// Connection and output settings for running client commands. The shell keeps one
/// across lines, so the connection is reused (and re-made after a server restart).
pub struct Ctx {
    addr: String,
    client: Option<Client>,
    color: bool,
    json: bool,
    out: Box<dyn Write>,
}

impl Ctx {
    /// A context for `addr`, writing to stdout.
    pub fn new(addr: &str, color: bool) -> Ctx {
        Ctx {
            addr: addr.to_string(),
            client: None,
            color,
            json: false,
            out: Box::new(io::stdout()),
        }
    }

    /// The hsxd address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Points the context at another address (drops the connection).
    pub fn set_addr(&mut self, addr: &str) {
        if addr != self.addr {
            self.addr = addr.to_string();
            self.client = None;
        }
    }

    fn client(&mut self) -> Result<&mut Client, ClientError> {
        match &mut self.client {
            Some(c) => Ok(c),
            slot => Ok(slot.insert(Client::connect(&self.addr)?)),
        }
    }

    /// Sends one request and returns the raw reply. A connection that turns out to be
    /// dead (server restarted since the last request) is re-made and the request sent
    /// once more; a server that closed it had not run the request.
    pub fn call_raw(&mut self, req: &Value) -> Result<Value, ClientError> {
        let had_connection = self.client.is_some();
        match self.client()?.call_raw(req) {
            Ok(v) => Ok(v),
            Err(e) if e.is_connection() && had_connection => {
                self.client = None;
                self.client()?.call_raw(req)
            }
            Err(e) => {
                if e.is_connection() {
                    self.client = None;
                }
                Err(e)
            }
        }
    }

    /// Like [`Ctx::call_raw`], but an error reply is an error.
    pub fn call_quiet(&mut self, req: &Value) -> Result<Value, ClientError> {
        let reply = self.call_raw(req)?;
        match crate::client::reply_error(&reply) {
            Some(e) => Err(ClientError::Server(e)),
            None => Ok(reply),
        }
    }

    /// The main request of a command: in `--json` mode its raw reply is printed.
    fn call(&mut self, req: &Value) -> CmdResult<Value> {
        let reply = self.call_raw(req)?;
        if self.json {
            self.emit_json(&reply)?;
        }
        match crate::client::reply_error(&reply) {
            Some(e) => Err(ClientError::Server(e).into()),
            None => Ok(reply),
        }
    }

    fn emit_json(&mut self, v: &Value) -> CmdResult {
        writeln!(self.out, "{v}")?;
        self.out.flush()?;
        Ok(())
    }

    /// Human text, suppressed in `--json` mode.
    fn print(&mut self, text: &str) -> CmdResult {
        if !self.json {
            self.out.write_all(text.as_bytes())?;
            self.out.flush()?;
        }
        Ok(())
    }

    fn resolve(&mut self, pid: u32, spec: &AddrSpec) -> CmdResult<u32> {
        match spec {
            AddrSpec::Num(n) => Ok(*n),
            AddrSpec::Sym(name) => {
                let reply = self.call_quiet(&request(
                    "sym",
                    json!({"op": "lookup_name", "pid": pid, "name": name}),
                ))?;
                reply
                    .get("symbol")
                    .and_then(|s| s.get("address"))
                    .and_then(render::as_u64)
                    .and_then(|a| u32::try_from(a).ok())
                    .ok_or_else(|| CmdError::Usage(format!("no symbol '{name}' in pid {pid}")))
            }
            AddrSpec::Line(file, line) => {
                let reply = self.call_quiet(&request(
                    "sym",
                    json!({"op": "lookup_source", "pid": pid, "file": file, "line": line}),
                ))?;
                reply
                    .get("source")
                    .and_then(|s| s.get("addresses"))
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(render::as_u64)
                    .and_then(|a| u32::try_from(a).ok())
                    .ok_or_else(|| {
                        CmdError::Usage(format!("no code at {file}:{line} in pid {pid}"))
                    })
            }
        }
    }

    /// Runs one client command on this context's connection (its `--connect` was used
    /// to build the context; the shell keeps its own address, see `connect`).
    pub fn execute(&mut self, cmd: &RemoteCommand) -> CmdResult {
        self.json = cmd.common().json;
        let result = self.dispatch(cmd);
        self.json = false;
        result
    }

    fn dispatch(&mut self, cmd: &RemoteCommand) -> CmdResult {
        use RemoteCommand as R;
        match cmd {
            R::Ping(_) => {
                let t0 = Instant::now();
                let reply = self.call(&request("ping", json!({})))?;
                let dt = t0.elapsed();
                let msg = format!(
                    "{} from {} in {:.3} ms\n",
                    reply.get("reply").and_then(Value::as_str).unwrap_or("ok"),
                    self.addr,
                    dt.as_secs_f64() * 1e3
                );
                self.print(&msg)
            }
            R::Shutdown(_) => {
                self.call(&request("shutdown", json!({})))?;
                let msg = format!("hsxd at {} is shutting down\n", self.addr);
                self.print(&msg)
            }
            R::Ps(a) => {
                let reply = self.call(&request("ps", json!({})))?;
                let text = if a.budgets {
                    render::budgets(&reply, self.color)
                } else {
                    render::ps(&reply, self.color)
                };
                self.print(&text)
            }
            R::Info(a) => {
                let reply = self.call(&request("info", json!({"pid": a.pid})))?;
                let text = render::info(&reply, self.color);
                self.print(&text)
            }
            R::Load(a) => {
                let path = absolute(&a.path)?;
                let symbols = a.symbols.as_ref().map(|p| absolute(p)).transpose()?;
                let reply = self.call(&request(
                    "load",
                    json!({"path": path, "symbols": symbols, "verbose": a.verbose.then_some(true),
                           "paused": a.paused.then_some(true)}),
                ))?;
                self.print(&render::image(&reply))
            }
            R::Kill(a) => self.task_op("kill", a.pid),
            R::Pause(a) => self.task_op("pause", a.pid),
            R::Back(a) => self.back(a),
            R::Record(a) => self.record(a),
            R::Resume(a) => self.task_op("resume", a.pid),
            R::Step(a) => {
                let reply = self.call(&request(
                    "step",
                    json!({"pid": a.pid, "steps": a.steps, "source_only": a.source.then_some(true)}),
                ))?;
                self.check_step_ran(&reply, a.pid)?;
                self.print(&render::step(&reply))
            }
            R::Clock(a) => self.clock(a.op.as_ref()),
            R::Sched(a) => match a.pid {
                Some(pid) => {
                    let reply = self.call(&request(
                        "sched",
                        json!({"pid": pid, "priority": a.priority, "quantum": a.quantum}),
                    ))?;
                    let t = reply.get("task").unwrap_or(&Value::Null);
                    let msg = format!(
                        "pid {pid}: priority {}, quantum {}\n",
                        render::text(t, "priority").unwrap_or_else(|| "-".into()),
                        render::text(t, "quantum")
                            .or_else(|| render::text(t, "time_slice_steps"))
                            .unwrap_or_else(|| "-".into())
                    );
                    self.print(&msg)
                }
                None => {
                    let reply = self.call(&request("sched", json!({"limit": a.limit})))?;
                    self.print(&render::sched_stats(&reply))
                }
            },
            R::Regs(a) => {
                let reply = self.call(&request("dumpregs", json!({"pid": a.pid})))?;
                let regs = reply.get("registers").unwrap_or(&Value::Null);
                // The register block names the pid itself when the reply carries it.
                let mut text = render::registers(regs, self.color, &[]);
                if !text.starts_with("pid ") {
                    text = format!("pid {}\n{text}", a.pid);
                }
                self.print(&text)
            }
            R::Peek(a) => {
                let addr = self.resolve(a.pid, &a.addr)?;
                let reply = self.call(&request(
                    "peek",
                    json!({"pid": a.pid, "addr": addr, "length": a.length}),
                ))?;
                let bytes = reply
                    .get("data")
                    .and_then(Value::as_str)
                    .and_then(render::decode_hex)
                    .ok_or_else(|| ClientError::BadReply("peek reply has no hex data".into()))?;
                self.print(&render::hexdump(u64::from(addr), &bytes))
            }
            R::Poke(a) => {
                let addr = self.resolve(a.pid, &a.addr)?;
                let joined: String = a.hex.concat();
                let bytes = render::decode_hex(&joined).ok_or_else(|| {
                    CmdError::Usage(format!("'{joined}' is not a hex byte string"))
                })?;
                let hex = hsxd::hex::to_hex(&bytes);
                self.call(&request(
                    "poke",
                    json!({"pid": a.pid, "addr": addr, "data": hex}),
                ))?;
                let msg = format!(
                    "wrote {} byte(s) at {} in pid {}\n",
                    bytes.len(),
                    render::hex_addr(u64::from(addr)),
                    a.pid
                );
                self.print(&msg)
            }
            R::Bp(a) => {
                let (pid, op, addr) = match &a.op {
                    BpOp::Add { pid, addr } => (*pid, "set", Some(self.resolve(*pid, addr)?)),
                    BpOp::Rm { pid, addr } => (*pid, "clear", Some(self.resolve(*pid, addr)?)),
                    BpOp::Ls { pid } => (*pid, "list", None),
                    BpOp::Clear { pid } => (*pid, "clear_all", None),
                };
                let reply = self.call(&request(
                    "bp",
                    json!({"op": op, "pid": pid, "addr": addr.map(|a| format!("0x{a:X}"))}),
                ))?;
                self.print(&render::breakpoints(&reply))
            }
            R::Stack(a) => {
                let reply = self.call(&request("stack", json!({"pid": a.pid, "max": a.max})))?;
                self.print(&render::stack(&reply))
            }
            R::Dis(a) => {
                let addr = match &a.addr {
                    Some(spec) => Some(self.resolve(a.pid, spec)?),
                    None => None,
                };
                let reply = self.call(&request(
                    "disasm",
                    json!({"pid": a.pid, "addr": addr.map(|a| format!("0x{a:X}")), "count": a.count}),
                ))?;
                if self.json {
                    return Ok(());
                }
                // The PC arrow and breakpoint marks come from the task record.
                let (pc, bps) = self.task_pc_and_bps(a.pid);
                self.print(&render::disasm(&reply, pc, &bps))
            }
            R::Sym(a) => {
                let reply = if let Some(path) = &a.load {
                    let path = absolute(path)?;
                    self.call(&request(
                        "sym",
                        json!({"op": "load", "pid": a.pid, "path": path}),
                    ))?
                } else {
                    match &a.query {
                        Some(AddrSpec::Num(n)) => self.call(&request(
                            "sym",
                            json!({"op": "lookup_addr", "pid": a.pid, "address": format!("0x{n:X}")}),
                        ))?,
                        Some(AddrSpec::Sym(name)) => self.call(&request(
                            "sym",
                            json!({"op": "lookup_name", "pid": a.pid, "name": name}),
                        ))?,
                        Some(AddrSpec::Line(file, line)) => {
                            let reply = self.call(&request(
                                "sym",
                                json!({"op": "lookup_source", "pid": a.pid, "file": file, "line": line}),
                            ))?;
                            let src = reply.get("source").cloned().unwrap_or(Value::Null);
                            let addrs: Vec<String> = src
                                .get("addresses")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                                .filter_map(render::as_u64)
                                .map(|a| format!("0x{a:04X}"))
                                .collect();
                            if addrs.is_empty() {
                                return Err(CmdError::Failed(format!(
                                    "no code at {file}:{line} in pid {}",
                                    a.pid
                                )));
                            }
                            let at = src.get("line").and_then(render::as_u64).unwrap_or(0);
                            return self.print(&format!("{file}:{at}: {}\n", addrs.join(" ")));
                        }
                        None => {
                            let kind = match a.kind {
                                SymKind::All => "all",
                                SymKind::Functions => "functions",
                                SymKind::Variables => "variables",
                            };
                            let reply =
                                self.call(&request("symbols", json!({"pid": a.pid, "type": kind})))?;
                            return self.print(&render::symbols(&reply));
                        }
                    }
                };
                if a.query.is_some() && reply.get("symbol").is_some_and(Value::is_null) {
                    return Err(CmdError::Failed(format!(
                        "no symbol matches in pid {}",
                        a.pid
                    )));
                }
                self.print(&render::sym_lookup(&reply))
            }
            R::Mem(a) => match &a.op {
                MemOp::Regions { pid } => {
                    let reply =
                        self.call(&request("memory", json!({"op": "regions", "pid": pid})))?;
                    self.print(&render::regions(&reply))
                }
            },
            R::Watch(a) => {
                let req = match &a.op {
                    WatchOp::Add { pid, expr, length } => request(
                        "watch",
                        json!({"op": "add", "pid": pid, "expr": expr, "length": length}),
                    ),
                    WatchOp::Rm { pid, id } => {
                        request("watch", json!({"op": "remove", "pid": pid, "id": id}))
                    }
                    WatchOp::Ls { pid } => request("watch", json!({"op": "list", "pid": pid})),
                };
                let reply = self.call(&req)?;
                self.print(&render::watch(&reply))
            }
            R::Trace(a) => self.trace(&a.op),
            R::Mbox(a) => {
                let reply = match a.pid {
                    Some(pid) => {
                        let r = self.call(&request("list", json!({"pid": pid})))?;
                        return self.print(&render::channels(&r));
                    }
                    None => self.call(&request("mailbox_snapshot", json!({})))?,
                };
                self.print(&render::mailboxes(&reply))
            }
            R::Send(a) => {
                let mut req = json!({"pid": a.pid, "channel": a.channel});
                if a.hex {
                    let joined: String = a.data.concat();
                    let mut bytes = render::decode_hex(&joined).ok_or_else(|| {
                        CmdError::Usage(format!("'{joined}' is not a hex byte string"))
                    })?;
                    if a.newline {
                        bytes.push(b'\n');
                    }
                    let hex = hsxd::hex::to_hex(&bytes);
                    req["data_hex"] = json!(hex);
                } else {
                    let mut text = a.data.join(" ");
                    if a.newline {
                        text.push('\n');
                    }
                    req["data"] = json!(text);
                }
                let reply = self.call(&request("send", req))?;
                self.print(&render::send(&reply))?;
                match render::num(&reply, "mbx_status") {
                    Some(0) | None => Ok(()),
                    Some(s) => Err(CmdError::Failed(format!("send failed: mailbox status {s}"))),
                }
            }
            R::Listen(a) => {
                self.listen(a.pid, a.once, Duration::from_millis(a.interval_ms.max(10)))
            }
            R::Dmesg(a) => {
                let reply = self.call(&request("dmesg", json!({"limit": a.limit})))?;
                self.print(&render::dmesg(&reply))
            }
            R::Val(a) => self.val(&a.op),
            R::Cmd(a) => self.cmd(&a.op),
            R::Events(a) => self.events(a),
            R::Raw(a) => {
                let req: Value = serde_json::from_str(&a.request)
                    .map_err(|e| CmdError::Usage(format!("request is not JSON: {e}")))?;
                if !req.is_object() {
                    return Err(CmdError::Usage("request must be a JSON object".into()));
                }
                let reply = self.call(&req)?;
                let pretty = serde_json::to_string_pretty(&reply).unwrap_or_default();
                self.print(&(pretty + "\n"))
            }
        }
    }

    fn task_op(&mut self, cmd: &str, pid: u32) -> CmdResult {
        let reply = self.call(&request(cmd, json!({"pid": pid})))?;
        let text = render::task_line(&reply, self.color);
        self.print(&text)
    }

    /// A step that executed nothing is a failure with the reason (exit status 1), so
    /// scripts notice; a break or a blocking call after some instructions is not.
    fn check_step_ran(&mut self, reply: &Value, pid: Option<u32>) -> CmdResult {
        let executed = reply.pointer("/result/executed").and_then(Value::as_u64);
        if executed != Some(0) {
            return Ok(());
        }
        let Some(pid) = pid else {
            return Err(CmdError::Failed(
                "nothing executed: no task can run (see `hsx ps`)".into(),
            ));
        };
        let state = self
            .call_quiet(&request("ps", json!({})))
            .ok()
            .and_then(|ps| {
                let tasks = ps.pointer("/tasks/tasks")?.as_array()?.clone();
                tasks
                    .iter()
                    .find(|t| render::num(t, "pid") == Some(u64::from(pid)))
                    .and_then(|t| render::text(t, "state"))
            })
            .unwrap_or_else(|| "not runnable".into());
        Err(CmdError::Failed(format!(
            "nothing executed: pid {pid} is {state} and cannot run"
        )))
    }

    /// PC and breakpoints of a task from `ps`; empty when unknown.
    fn task_pc_and_bps(&mut self, pid: u32) -> (Option<u64>, Vec<u64>) {
        let Ok(reply) = self.call_quiet(&request("ps", json!({}))) else {
            return (None, Vec::new());
        };
        let tasks = reply
            .pointer("/tasks/tasks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(task) = tasks
            .iter()
            .find(|t| render::num(t, "pid") == Some(u64::from(pid)))
        else {
            return (None, Vec::new());
        };
        let bps = task
            .get("breakpoints")
            .and_then(Value::as_array)
            .map(|b| b.iter().filter_map(render::as_u64).collect())
            .unwrap_or_default();
        (render::num(task, "pc"), bps)
    }

    fn clock(&mut self, op: Option<&ClockOp>) -> CmdResult {
        let req = match op {
            None | Some(ClockOp::Status) => request("clock", json!({})),
            Some(ClockOp::Start) => request("clock", json!({"op": "start"})),
            Some(ClockOp::Stop) => request("clock", json!({"op": "stop"})),
            Some(ClockOp::Rate { hz }) => request("clock", json!({"op": "rate", "rate": hz})),
            Some(ClockOp::Policy { on_break }) => {
                let p = match on_break {
                    BreakPolicyArg::Task => "task",
                    BreakPolicyArg::All => "all",
                };
                request("clock", json!({"op": "policy", "on_break": p}))
            }
            Some(ClockOp::Step { steps, pid }) => {
                request("clock", json!({"op": "step", "steps": steps, "pid": pid}))
            }
        };
        let reply = self.call(&req)?;
        let mut text = String::new();
        if reply.get("result").is_some() {
            text.push_str(&render::step(&reply));
        }
        if let Some(c) = reply.get("clock") {
            text.push_str(&render::clock(c));
        }
        self.print(&text)
    }

    fn trace(&mut self, op: &TraceOp) -> CmdResult {
        let reqs = match op {
            TraceOp::On { pid } => vec![request("trace", json!({"pid": pid, "mode": "on"}))],
            TraceOp::Off { pid } => vec![request("trace", json!({"pid": pid, "mode": "off"}))],
            TraceOp::Records { pid, limit } => vec![request(
                "trace",
                json!({"op": "records", "pid": pid, "limit": limit}),
            )],
            TraceOp::Config {
                changed_regs,
                buffer,
            } => {
                let mut v = Vec::new();
                if let Some(c) = changed_regs {
                    let s = if *c == OnOff::On { "on" } else { "off" };
                    v.push(request("trace", json!({"op": "config", "changed_regs": s})));
                }
                if let Some(b) = buffer {
                    v.push(request("trace", json!({"op": "config", "buffer_size": b})));
                }
                if v.is_empty() {
                    return Err(CmdError::Usage(
                        "trace config needs --changed-regs on|off or --buffer N".into(),
                    ));
                }
                v
            }
        };
        for req in reqs {
            let reply = self.call(&req)?;
            self.print(&render::trace(&reply))?;
        }
        Ok(())
    }

    /// Whether a task has ended (or is gone), from `ps`.
    fn task_ended(&mut self, pid: u32) -> CmdResult<bool> {
        let reply = self.call_quiet(&request("ps", json!({})))?;
        let tasks = reply.pointer("/tasks/tasks").and_then(Value::as_array);
        let state = tasks
            .and_then(|ts| {
                ts.iter()
                    .find(|t| render::num(t, "pid") == Some(u64::from(pid)))
            })
            .and_then(|t| render::text(t, "state"));
        Ok(match state.as_deref() {
            None => true,
            Some(s) => matches!(
                s,
                "returned" | "terminated" | "faulted" | "killed" | "exited"
            ),
        })
    }

    fn listen(&mut self, pid: Option<u32>, once: bool, interval: Duration) -> CmdResult {
        interrupt::clear();
        let req = request("listen", json!({"pid": pid, "limit": 16, "max_len": 512}));
        loop {
            let reply = self.call_quiet(&req)?;
            let bytes = render::listen_text(&reply);
            let got = reply
                .get("messages")
                .and_then(Value::as_array)
                .is_some_and(|m| !m.is_empty());
            if self.json {
                if got || once {
                    self.emit_json(&reply)?;
                }
            } else if !bytes.is_empty() {
                self.out.write_all(&bytes)?;
                self.out.flush()?;
            }
            if once {
                return Ok(());
            }
            if !got {
                if let Some(pid) = pid
                    && self.task_ended(pid)?
                {
                    return Ok(());
                }
                if sleep_interruptible(interval) {
                    return Ok(());
                }
            }
        }
    }

    fn events(&mut self, a: &super::remote::EventsArgs) -> CmdResult {
        interrupt::clear();
        let filter = EventFilter {
            pids: a.pids.clone(),
            categories: a.categories.clone(),
            since_seq: (a.limit > 0).then_some(0),
        };
        let mut stream = EventStream::open(&self.addr, "hsx-events", &filter)?;
        let cursor = stream.cursor().unwrap_or(0);
        // History comes first; it has ended at the cursor, or when the line goes quiet.
        let mut recent: VecDeque<Value> = VecDeque::new();
        let mut live_first = None;
        if a.limit > 0 && cursor > 0 {
            loop {
                match stream.next_event(Duration::from_millis(300))? {
                    None => break,
                    Some(ev) => {
                        let seq = ev.get("seq").and_then(Value::as_u64).unwrap_or(u64::MAX);
                        if seq > cursor {
                            live_first = Some(ev);
                            break;
                        }
                        recent.push_back(ev);
                        if recent.len() > a.limit {
                            recent.pop_front();
                        }
                        if seq >= cursor {
                            break;
                        }
                    }
                }
            }
        }
        if recent.is_empty() && live_first.is_none() && !a.follow {
            self.print("no events\n")?;
        }
        for ev in recent.iter().chain(live_first.iter()) {
            self.show_event(ev)?;
        }
        if a.follow {
            loop {
                if interrupt::take() {
                    break;
                }
                if let Some(ev) = stream.next_event(Duration::from_millis(200))? {
                    self.show_event(&ev)?;
                }
            }
        }
        stream.close();
        Ok(())
    }

    fn show_event(&mut self, ev: &Value) -> CmdResult {
        if self.json {
            self.emit_json(ev)
        } else {
            let line = render::event(ev, self.color);
            self.print(&line)
        }
    }
}

/// Sleeps up to `d`; true when Ctrl-C came meanwhile.
fn sleep_interruptible(d: Duration) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if interrupt::take() {
            return true;
        }
        std::thread::sleep(
            Duration::from_millis(20).min(end.saturating_duration_since(Instant::now())),
        );
    }
    interrupt::take()
}

fn absolute(p: &std::path::Path) -> CmdResult<String> {
    let abs = std::path::absolute(p)
        .map_err(|e| CmdError::Usage(format!("bad path {}: {e}", p.display())))?;
    Ok(abs.to_string_lossy().into_owned())
}

/// Runs one client subcommand and turns the outcome into the exit code: 0, or 1 after
/// printing `hsx: error: ...`.
pub fn run(cmd: &RemoteCommand) -> ExitCode {
    if let Some(f) = &cmd.common().token_file {
        crate::client::set_token_file(f);
    }
    let mut ctx = Ctx::new(&cmd.common().connect, crate::output::color_enabled());
    match ctx.execute(cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CmdError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            e.report();
            ExitCode::from(1)
        }
    }
}
