//! `hsx tui`: a live monitor of hsxd's tasks (task list, registers, disassembly around
//! the PC, output, mailboxes) with keys for run control.
//!
//! Split: [`state`] holds what is shown and turns replies, events and keys into state
//! changes and [`state::Action`]s; [`render`] draws it; this module does the I/O: a poll
//! connection for requests, and a thread that keeps an event subscription on its own
//! connection and forwards events over a channel. Events trigger immediate refreshes;
//! without them (older server, subscription refused) polling alone keeps the view live.
//! A lost server shows "disconnected, retrying" and both sides reconnect by themselves.

pub mod render;
pub mod state;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use clap::Args;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use serde_json::{Value, json};

use crate::client::{Client, ClientError, DEFAULT_ADDR, EventFilter, EventStream, request};
use state::{Action, AppState, Conn, Key};

/// Arguments of `hsx tui`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct TuiArgs {
    /// hsxd address, HOST:PORT or unix:PATH (a token is read from $HSX_TOKEN_FILE).
    #[arg(long, env = "HSX_ADDR", default_value = DEFAULT_ADDR, value_name = "ADDR")]
    pub connect: String,
    /// Refresh period in milliseconds when no events arrive.
    #[arg(long, default_value_t = 250)]
    pub interval_ms: u64,
    /// Do not subscribe to events; poll only.
    #[arg(long)]
    pub no_events: bool,
}

/// Event types the monitor reacts to (high-rate `trace_step` is left out on purpose).
const CATEGORIES: &[&str] = &[
    "task_state",
    "debug_break",
    "stdout",
    "stderr",
    "fault",
    "warning",
    "watch_update",
];
const RETRY: Duration = Duration::from_secs(1);

enum Msg {
    EventsUp,
    EventsDown,
    EventsUnavailable(String),
    Event(Value),
}

/// Keeps an event subscription alive until `stop`, forwarding to `tx`.
fn event_thread(addr: String, tx: Sender<Msg>, stop: Arc<AtomicBool>) {
    let filter = EventFilter {
        categories: CATEGORIES.iter().map(|c| c.to_string()).collect(),
        ..EventFilter::default()
    };
    while !stop.load(Ordering::Relaxed) {
        match EventStream::open(&addr, "hsx-tui", &filter) {
            Ok(mut stream) => {
                if tx.send(Msg::EventsUp).is_err() {
                    return;
                }
                loop {
                    if stop.load(Ordering::Relaxed) {
                        stream.close();
                        return;
                    }
                    match stream.next_event(Duration::from_millis(200)) {
                        Ok(Some(ev)) => {
                            if tx.send(Msg::Event(ev)).is_err() {
                                return;
                            }
                        }
                        Ok(None) => {}
                        Err(_) => {
                            if tx.send(Msg::EventsDown).is_err() {
                                return;
                            }
                            break;
                        }
                    }
                }
            }
            Err(ClientError::Server(e)) => {
                // The server refuses (no sessions/events): polling it is.
                let _ = tx.send(Msg::EventsUnavailable(e));
                return;
            }
            Err(_) => {}
        }
        let until = Instant::now() + RETRY;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The request side: one connection, re-made after failures.
struct Poller {
    addr: String,
    client: Option<Client>,
    retry_at: Instant,
    tick: u64,
}

impl Poller {
    fn new(addr: &str) -> Poller {
        Poller {
            addr: addr.to_string(),
            client: None,
            retry_at: Instant::now(),
            tick: 0,
        }
    }

    fn call(&mut self, req: &Value) -> Result<Value, ClientError> {
        if self.client.is_none() {
            self.client = Some(Client::connect(&self.addr)?);
        }
        let Some(client) = self.client.as_mut() else {
            return Err(ClientError::Closed);
        };
        let r = client.call(req);
        if let Err(e) = &r
            && e.is_connection()
        {
            self.client = None;
        }
        r
    }

    /// Refreshes everything; a connection failure marks the state disconnected.
    fn refresh(&mut self, s: &mut AppState, events_live: bool) {
        if self.client.is_none() && Instant::now() < self.retry_at {
            return;
        }
        match self.refresh_inner(s) {
            Ok(()) => {
                s.conn = Conn::Connected {
                    events: events_live,
                };
            }
            Err(e) if e.is_connection() => {
                self.client = None;
                self.retry_at = Instant::now() + RETRY;
                s.conn = Conn::Disconnected {
                    error: e.to_string(),
                };
            }
            Err(e) => s.status = format!("error: {e}"),
        }
    }

    fn refresh_inner(&mut self, s: &mut AppState) -> Result<(), ClientError> {
        self.tick += 1;
        let ps = self.call(&request("ps", json!({})))?;
        s.apply_ps(&ps);
        if let Ok(c) = self.call(&request("clock", json!({}))) {
            s.apply_clock(c.get("clock").unwrap_or(&Value::Null));
        }
        if let Some(pid) = s.selected {
            match self.call(&request("dumpregs", json!({"pid": pid}))) {
                Ok(r) => s.apply_regs(pid, &r),
                Err(e) if e.is_connection() => return Err(e),
                Err(_) => s.regs = None,
            }
            if let Some(pc) = s
                .regs
                .as_ref()
                .map(|r| r.pc)
                .or_else(|| s.selected_task().and_then(|t| t.pc))
            {
                // A window that starts a few instructions before the PC.
                let start = pc.saturating_sub(6 * 4) & !3;
                match self.call(&request(
                    "disasm",
                    json!({"pid": pid, "addr": format!("0x{start:X}"), "count": 24}),
                )) {
                    Ok(d) => s.apply_disasm(&d),
                    Err(e) if e.is_connection() => return Err(e),
                    Err(_) => s.disasm.clear(),
                }
            }
        }
        if self.tick % 4 == 1 {
            match self.call(&request("mailbox_snapshot", json!({}))) {
                Ok(m) => s.apply_mailboxes(&m),
                Err(e) if e.is_connection() => return Err(e),
                Err(_) => {}
            }
        }
        if !s.stdout_events {
            match self.call(&request("listen", json!({"limit": 16, "max_len": 512}))) {
                Ok(l) => s.apply_listen(&l),
                Err(e) if e.is_connection() => return Err(e),
                Err(_) => {}
            }
        }
        Ok(())
    }

    fn perform(&mut self, s: &mut AppState, action: &Action) {
        let (req, done) = match action {
            Action::Quit => return,
            Action::Pause(pid) => (
                request("pause", json!({"pid": pid})),
                format!("paused pid {pid}"),
            ),
            Action::Resume(pid) => (
                request("resume", json!({"pid": pid})),
                format!("resumed pid {pid}"),
            ),
            Action::Step(pid) => (
                request("step", json!({"pid": pid, "steps": 1})),
                format!("stepped pid {pid}"),
            ),
            Action::Kill(pid) => (
                request("kill", json!({"pid": pid})),
                format!("killed pid {pid}"),
            ),
            Action::ClockStart => (
                request("clock", json!({"op": "start"})),
                "clock started".into(),
            ),
            Action::ClockStop => (
                request("clock", json!({"op": "stop"})),
                "clock stopped".into(),
            ),
            Action::ToggleBreakpoint { pid, addr, add } => (
                request(
                    "bp",
                    json!({"op": if *add { "set" } else { "clear" }, "pid": pid, "addr": format!("0x{addr:X}")}),
                ),
                format!(
                    "breakpoint {} at {} in pid {pid}",
                    if *add { "set" } else { "removed" },
                    crate::cmd::render::hex_addr(u64::from(*addr))
                ),
            ),
        };
        s.status = match self.call(&req) {
            Ok(reply) => {
                // The header shows the clock as this reply has it, not as the last poll did.
                if let Some(c) = reply.get("clock") {
                    s.apply_clock(c);
                }
                done
            }
            Err(e) => format!("error: {e}"),
        };
    }
}

fn map_key(code: KeyCode, mods: KeyModifiers) -> Option<Key> {
    match code {
        KeyCode::Char('c') if mods.contains(KeyModifiers::CONTROL) => Some(Key::CtrlC),
        KeyCode::Char(c) => Some(Key::Char(c)),
        KeyCode::Up => Some(Key::Up),
        KeyCode::Down => Some(Key::Down),
        KeyCode::Esc => Some(Key::Esc),
        _ => None,
    }
}

fn drain(rx: &Receiver<Msg>, s: &mut AppState, events_live: &mut bool) -> bool {
    let mut refresh = false;
    while let Ok(msg) = rx.try_recv() {
        match msg {
            Msg::EventsUp => {
                *events_live = true;
                refresh = true;
            }
            Msg::EventsDown => *events_live = false,
            Msg::EventsUnavailable(e) => {
                *events_live = false;
                s.log_line(format!("events unavailable ({e}); polling"));
            }
            Msg::Event(ev) => refresh |= s.apply_event(&ev),
        }
    }
    refresh
}

/// Runs the monitor until `q`.
pub fn run(args: &TuiArgs) -> anyhow::Result<ExitCode> {
    let mut state = AppState::new(&args.connect);
    let mut poller = Poller::new(&args.connect);
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let events = (!args.no_events).then(|| {
        let (addr, stop) = (args.connect.clone(), stop.clone());
        std::thread::spawn(move || event_thread(addr, tx, stop))
    });
    let poll_every = Duration::from_millis(args.interval_ms.max(20));
    let mut terminal = ratatui::try_init()?;
    let mut events_live = false;
    let mut next_poll = Instant::now();
    let result = (|| -> anyhow::Result<()> {
        loop {
            if drain(&rx, &mut state, &mut events_live) {
                // Events say something changed: look now, but not more than ~20×/s.
                next_poll = next_poll.min(Instant::now() + Duration::from_millis(50));
            }
            if Instant::now() >= next_poll {
                poller.refresh(&mut state, events_live);
                // With a live event stream polling is only a safety net.
                let period = if events_live {
                    poll_every.max(Duration::from_secs(1))
                } else {
                    poll_every
                };
                next_poll = Instant::now() + period;
            }
            terminal.draw(|f| render::draw(f, &state))?;
            if event::poll(Duration::from_millis(50))?
                && let Event::Key(k) = event::read()?
                && k.kind != KeyEventKind::Release
                && let Some(key) = map_key(k.code, k.modifiers)
                && let Some(action) = state.on_key(key)
            {
                if action == Action::Quit {
                    return Ok(());
                }
                poller.perform(&mut state, &action);
                next_poll = Instant::now();
            }
        }
    })();
    ratatui::restore();
    stop.store(true, Ordering::Relaxed);
    if let Some(h) = events {
        let _ = h.join();
    }
    result.map(|()| ExitCode::SUCCESS)
}
