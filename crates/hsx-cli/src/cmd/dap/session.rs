//! The adapter's state and its message loop: one thread owns a [`Session`] and handles, in
//! arrival order, DAP requests (from a reader thread) and hsxd events (from an event
//! thread), so no state is shared between threads except the output writer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::bp_table::Breakpoints;
use super::embedded::Embedded;
use super::framing::{Incoming, MessageReader, write_message};
use super::refs::Refs;
use super::step_state::PendingStep;
use super::symbols::Symbols;
use crate::client::{Client, ClientError, request};

/// A request that failed; the text goes to the client as the error `message`.
#[derive(Debug)]
pub(super) struct DapError(pub String);

impl From<ClientError> for DapError {
    fn from(e: ClientError) -> Self {
        DapError(e.to_string())
    }
}

impl From<String> for DapError {
    fn from(e: String) -> Self {
        DapError(e)
    }
}

impl From<&str> for DapError {
    fn from(e: &str) -> Self {
        DapError(e.to_string())
    }
}

/// Result of a request handler: the response `body`.
pub(super) type DapResult<T> = Result<T, DapError>;

/// What the loop receives.
pub(super) enum Input {
    /// A DAP message from the client.
    Dap(Value),
    /// The client's stream ended (with the framing error, if that was why).
    DapEnd(Option<String>),
    /// An hsxd event.
    Hsx(Value),
    /// The hsxd event stream closed.
    HsxEnd(String),
}

/// The writing side: numbered messages, one writer shared with nobody else but guarded so
/// a message is always written whole.
pub(super) struct Out {
    w: Mutex<Box<dyn Write + Send>>,
    seq: AtomicI64,
}

impl Out {
    fn send(&self, mut msg: Value) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(m) = msg.as_object_mut() {
            m.insert("seq".into(), json!(seq));
        }
        if let Ok(mut w) = self.w.lock() {
            // A client that went away is noticed by the reader; nothing to do here.
            let _ = write_message(&mut **w, &msg);
        }
    }

    /// Sends an event now.
    pub(super) fn event(&self, name: &str, body: Value) {
        self.send(json!({"type": "event", "event": name, "body": body}));
    }

    fn response(&self, req: &Value, result: Result<Value, DapError>) {
        let command = req.get("command").cloned().unwrap_or(Value::Null);
        let request_seq = req.get("seq").cloned().unwrap_or(json!(0));
        match result {
            Ok(body) => self.send(json!({"type": "response", "request_seq": request_seq,
                "success": true, "command": command, "body": body})),
            Err(DapError(message)) => self.send(json!({"type": "response",
                "request_seq": request_seq, "success": false, "command": command,
                "message": message, "body": {"error": {"id": 1, "format": message}}})),
        }
    }
}

/// How the adapter got its hsxd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Nothing yet.
    Idle,
    /// `launch`: an embedded hsxd that goes away with the session.
    Launch,
    /// `attach`: someone else's hsxd.
    Attach,
}

/// A task as the adapter knows it.
#[derive(Debug, Clone)]
pub(super) struct ThreadInfo {
    /// DAP thread name (the app name).
    pub name: String,
    /// Still alive.
    pub alive: bool,
}

/// Everything one DAP session knows.
pub(super) struct Session {
    pub out: Arc<Out>,
    tx: Sender<Input>,
    pub hsx: Option<Client>,
    pub addr: Option<String>,
    pub embedded: Option<Embedded>,
    pub mode: Mode,
    /// Tasks this session debugs (launch: the ones it loaded; attach: every task, or the
    /// one `pid`).
    pub pid_filter: Option<u32>,
    pub launched: Vec<u32>,
    pub stop_on_entry: bool,
    pub configured: bool,
    pub threads: BTreeMap<u32, ThreadInfo>,
    pub syms: Symbols,
    pub bps: Breakpoints,
    pub refs: Refs,
    pub steps: HashMap<u32, PendingStep>,
    /// Faults by pid, for `exceptionInfo`.
    pub faults: HashMap<u32, Value>,
    /// `debug_break` events already reported from a `step` reply (by seq).
    pub seen_breaks: HashSet<u64>,
    /// Watch id of the last `watch_update` per task (a data breakpoint's stop follows it).
    pub last_watch: HashMap<u32, u64>,
    pub exit_codes: HashMap<u32, i64>,
    /// The thread that stopped last: the default for requests without a thread.
    pub focus: Option<u32>,
    /// Tasks that stopped while this session debugged them (resumed on detach).
    pub stopped: HashSet<u32>,
    pub terminated: bool,
    /// Whether the adapter started the auto clock (and so restarts it after a stop).
    pub clock_owner: bool,
    /// Events to send after the current response.
    pub after: Vec<(String, Value)>,
    /// Client capabilities from `initialize`.
    pub lines_start_at1: bool,
    pub columns_start_at1: bool,
    events_stop: Option<Arc<AtomicBool>>,
    pub disconnected: bool,
}

/// Serves one DAP client on `reader`/`writer` until it disconnects.
pub(super) fn serve(reader: Box<dyn Read + Send>, writer: Box<dyn Write + Send>) {
    let (tx, rx) = channel::<Input>();
    let out = Arc::new(Out {
        w: Mutex::new(writer),
        seq: AtomicI64::new(0),
    });
    let rtx = tx.clone();
    std::thread::spawn(move || {
        let mut r = MessageReader::new(reader);
        loop {
            match r.next() {
                Ok(Incoming::Message(m)) => {
                    if rtx.send(Input::Dap(m)).is_err() {
                        return;
                    }
                }
                Ok(Incoming::Eof) => {
                    let _ = rtx.send(Input::DapEnd(None));
                    return;
                }
                Err(e) => {
                    let _ = rtx.send(Input::DapEnd(Some(e.to_string())));
                    return;
                }
            }
        }
    });
    let mut s = Session::new(out, tx);
    s.run(&rx);
}

impl Session {
    fn new(out: Arc<Out>, tx: Sender<Input>) -> Self {
        Session {
            out,
            tx,
            hsx: None,
            addr: None,
            embedded: None,
            mode: Mode::Idle,
            pid_filter: None,
            launched: Vec::new(),
            stop_on_entry: false,
            configured: false,
            threads: BTreeMap::new(),
            syms: Symbols::default(),
            bps: Breakpoints::default(),
            refs: Refs::default(),
            steps: HashMap::new(),
            faults: HashMap::new(),
            seen_breaks: HashSet::new(),
            last_watch: HashMap::new(),
            exit_codes: HashMap::new(),
            focus: None,
            stopped: HashSet::new(),
            terminated: false,
            clock_owner: false,
            after: Vec::new(),
            lines_start_at1: true,
            columns_start_at1: true,
            events_stop: None,
            disconnected: false,
        }
    }

    fn run(&mut self, rx: &Receiver<Input>) {
        while let Ok(input) = rx.recv() {
            match input {
                Input::Dap(msg) => self.on_message(&msg),
                Input::DapEnd(err) => {
                    if let Some(e) = err {
                        // The stream cannot be resynchronised; say why before closing.
                        self.out.event(
                            "output",
                            json!({"category": "console", "output": format!("hsx dap: {e}\n")}),
                        );
                    }
                    self.shutdown(self.mode == Mode::Launch);
                    return;
                }
                Input::Hsx(ev) => {
                    self.on_hsx_event(&ev);
                    self.flush_after();
                }
                Input::HsxEnd(why) => {
                    if !self.terminated && !self.disconnected {
                        self.out.event(
                            "output",
                            json!({"category": "console", "output": format!("hsxd event stream ended: {why}\n")}),
                        );
                        self.terminate_session();
                    }
                }
            }
            if self.disconnected {
                return;
            }
        }
    }

    fn on_message(&mut self, msg: &Value) {
        if msg.get("type").and_then(Value::as_str) != Some("request") {
            return;
        }
        let command = msg.get("command").and_then(Value::as_str).unwrap_or("");
        let empty = json!({});
        let args = msg
            .get("arguments")
            .filter(|a| a.is_object())
            .unwrap_or(&empty);
        let result = self.dispatch(command, args);
        self.out.response(msg, result);
        self.flush_after();
    }

    /// Sends the events queued by the handler that just answered.
    pub(super) fn flush_after(&mut self) {
        for (name, body) in std::mem::take(&mut self.after) {
            self.out.event(&name, body);
        }
    }

    /// Queues an event to follow the current response.
    pub(super) fn later(&mut self, name: &str, body: Value) {
        self.after.push((name.to_string(), body));
    }

    fn dispatch(&mut self, command: &str, args: &Value) -> DapResult<Value> {
        match command {
            "initialize" => Ok(self.initialize(args)),
            "launch" => self.launch(args),
            "attach" => self.attach(args),
            "configurationDone" => self.configuration_done(),
            "disconnect" => {
                let kill = args
                    .get("terminateDebuggee")
                    .and_then(Value::as_bool)
                    .unwrap_or(self.mode == Mode::Launch);
                self.shutdown(kill);
                Ok(json!({}))
            }
            "terminate" => {
                self.kill_launched();
                self.terminate_session();
                Ok(json!({}))
            }
            "setBreakpoints" => self.set_breakpoints(args),
            "setFunctionBreakpoints" => self.set_function_breakpoints(args),
            "setInstructionBreakpoints" => self.set_instruction_breakpoints(args),
            "setExceptionBreakpoints" => Ok(json!({"breakpoints": []})),
            "dataBreakpointInfo" => self.data_breakpoint_info(args),
            "setDataBreakpoints" => self.set_data_breakpoints(args),
            "threads" => self.threads_request(),
            "stackTrace" => self.stack_trace(args),
            "scopes" => self.scopes(args),
            "variables" => self.variables(args),
            "setVariable" => self.set_variable(args),
            "evaluate" => self.evaluate(args),
            "continue" => self.continue_(args),
            "pause" => self.pause(args),
            "next" => self.next(args),
            "stepIn" => self.step_in(args),
            "stepOut" => self.step_out(args),
            "stepBack" => self.step_back(args),
            "reverseContinue" => self.reverse_continue(args),
            "readMemory" => self.read_memory(args),
            "writeMemory" => self.write_memory(args),
            "disassemble" => self.disassemble(args),
            "exceptionInfo" => self.exception_info(args),
            "source" => Err("source is not available from the adapter; open the file".into()),
            other => Err(DapError(format!("unsupported request '{other}'"))),
        }
    }

    /// `initialize`: only what is really implemented is advertised.
    fn initialize(&mut self, args: &Value) -> Value {
        self.lines_start_at1 = args
            .get("linesStartAt1")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        self.columns_start_at1 = args
            .get("columnsStartAt1")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        // `initialized` follows `launch`/`attach`: breakpoints need a task to bind to.
        json!({
            "supportsConfigurationDoneRequest": true,
            "supportsFunctionBreakpoints": true,
            "supportsConditionalBreakpoints": false,
            "supportsHitConditionalBreakpoints": false,
            "supportsEvaluateForHovers": true,
            "supportsStepBack": super::step_state::SUPPORTS_STEP_BACK,
            "supportsSetVariable": true,
            "supportsRestartFrame": false,
            "supportsGotoTargetsRequest": false,
            "supportsStepInTargetsRequest": false,
            "supportsCompletionsRequest": false,
            "supportsModulesRequest": false,
            "supportsRestartRequest": false,
            "supportsExceptionOptions": false,
            "supportsValueFormattingOptions": true,
            "supportsExceptionInfoRequest": true,
            "supportTerminateDebuggee": true,
            "supportsDelayedStackTraceLoading": false,
            "supportsLoadedSourcesRequest": false,
            "supportsLogPoints": false,
            "supportsTerminateThreadsRequest": false,
            "supportsSetExpression": false,
            "supportsTerminateRequest": true,
            "supportsDataBreakpoints": true,
            "supportsReadMemoryRequest": true,
            "supportsWriteMemoryRequest": true,
            "supportsDisassembleRequest": true,
            "supportsCancelRequest": false,
            "supportsBreakpointLocationsRequest": false,
            "supportsSteppingGranularity": true,
            "supportsInstructionBreakpoints": true,
            "supportsExceptionFilterOptions": false,
            "supportsSingleThreadExecutionRequests": true,
            "exceptionBreakpointFilters": [],
        })
    }

    /// The hsxd connection, or the error every request gets before launch/attach.
    pub(super) fn client(&mut self) -> DapResult<&mut Client> {
        self.hsx
            .as_mut()
            .ok_or_else(|| DapError("not launched or attached yet".into()))
    }

    /// One hsxd request; an error reply is an error.
    pub(super) fn call(&mut self, cmd: &str, fields: Value) -> DapResult<Value> {
        let c = self.client()?;
        Ok(c.call(&request(cmd, fields))?)
    }

    /// Starts the event thread on `addr`.
    pub(super) fn start_events(&mut self, addr: &str) -> DapResult<()> {
        let filter = crate::client::EventFilter {
            pids: Vec::new(),
            categories: [
                "task_state",
                "debug_break",
                "watch_update",
                "fault",
                "stdout",
                "stderr",
            ]
            .iter()
            .map(|s| (*s).to_string())
            .collect(),
            since_seq: None,
        };
        let mut stream = crate::client::EventStream::open(addr, "hsx-dap", &filter)?;
        let stop = Arc::new(AtomicBool::new(false));
        self.events_stop = Some(stop.clone());
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match stream.next_event(Duration::from_millis(200)) {
                    Ok(Some(ev)) => {
                        if tx.send(Input::Hsx(ev)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        let _ = tx.send(Input::HsxEnd(e.to_string()));
                        return;
                    }
                }
            }
            stream.close();
        });
        Ok(())
    }

    /// The thread a request means: its `threadId`, else the last one that stopped.
    pub(super) fn thread_arg(&self, args: &Value) -> DapResult<u32> {
        match args.get("threadId").and_then(Value::as_u64) {
            Some(t) => u32::try_from(t).map_err(|_| DapError(format!("bad threadId {t}"))),
            None => self
                .focus
                .ok_or_else(|| DapError("no thread is stopped".into())),
        }
    }

    /// Whether `pid` is one of the tasks this session debugs.
    pub(super) fn ours(&self, pid: u32) -> bool {
        match self.mode {
            Mode::Launch => self.launched.contains(&pid),
            Mode::Attach => self.pid_filter.is_none_or(|p| p == pid),
            Mode::Idle => false,
        }
    }

    /// Ends the debug session: `terminated` once.
    pub(super) fn terminate_session(&mut self) {
        if !self.terminated {
            self.terminated = true;
            self.later("terminated", json!({}));
        }
    }

    fn kill_launched(&mut self) {
        if self.mode == Mode::Launch {
            for pid in self.launched.clone() {
                let _ = self.call("kill", json!({"pid": pid}));
            }
        }
    }

    /// Disconnect: stop the event thread, undo what the session set in an attached hsxd,
    /// and drop the embedded one.
    fn shutdown(&mut self, kill: bool) {
        if let Some(stop) = self.events_stop.take() {
            stop.store(true, Ordering::Relaxed);
        }
        if self.mode == Mode::Attach && self.hsx.is_some() {
            self.bps.remove_all_installed(self.hsx.as_mut());
            if kill {
                if let Some(p) = self.pid_filter {
                    let _ = self.call("kill", json!({"pid": p}));
                }
            } else {
                // Leave the tasks running as we found them.
                let mut stopped: Vec<u32> = self.stopped.drain().collect();
                stopped.sort_unstable();
                for pid in stopped {
                    let _ = self.call("resume", json!({"pid": pid}));
                }
            }
        }
        self.hsx = None;
        if let Some(e) = self.embedded.take() {
            e.stop();
        }
        self.disconnected = true;
    }

    /// Makes sure the auto clock runs (on continue, resume and run-to-return), when this
    /// session started it.
    pub(super) fn ensure_clock(&mut self) {
        if self.clock_owner {
            let _ = self.call("clock", json!({"op": "start"}));
        }
    }
}
