//! Everything the monitor shows, and how replies, events and keys change it. No I/O
//! here: the I/O loop ([`super`]) feeds replies in and carries [`Action`]s out, and
//! rendering ([`super::render`]) only reads this state.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use crate::cmd::render::{self as fmt, DisLine, as_u64, num, text};

/// Output/log lines kept.
pub const LOG_CAP: usize = 500;

/// One task row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskRow {
    /// Task id.
    pub pid: u32,
    /// Wire state (`running`, `paused`, ...).
    pub state: String,
    /// App name.
    pub app: String,
    /// Program counter.
    pub pc: Option<u32>,
    /// Instructions executed.
    pub steps: Option<u64>,
    /// Breakpoints, sorted.
    pub breakpoints: Vec<u32>,
    /// Exit status or fault, `-` when running.
    pub exit: String,
}

/// Registers of the selected task.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegView {
    /// Task id.
    pub pid: u32,
    /// R0..R15.
    pub regs: [u32; 16],
    /// Program counter.
    pub pc: u32,
    /// Stack pointer.
    pub sp: u32,
    /// Processor status word.
    pub psw: u32,
    /// Registers that changed in the last update that changed anything.
    pub changed: [bool; 16],
}

/// One mailbox descriptor row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MboxRow {
    /// Descriptor id.
    pub id: u64,
    /// `ns:name`.
    pub name: String,
    /// Owner task.
    pub owner: String,
    /// Bytes queued / capacity.
    pub used: u64,
    /// Capacity in bytes.
    pub capacity: u64,
    /// Messages queued.
    pub depth: u64,
}

/// Connection to hsxd as the monitor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    /// Not connected yet.
    Connecting,
    /// Connected; `events` tells whether the event subscription is live.
    Connected {
        /// Event stream up.
        events: bool,
    },
    /// Lost; retrying.
    Disconnected {
        /// Why.
        error: String,
    },
}

/// What a key asks the I/O loop to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Leave.
    Quit,
    /// Pause a task.
    Pause(u32),
    /// Resume a task.
    Resume(u32),
    /// Execute one instruction of a task.
    Step(u32),
    /// Add or remove a breakpoint.
    ToggleBreakpoint {
        /// Task.
        pid: u32,
        /// Address.
        addr: u32,
        /// True to add, false to remove.
        add: bool,
    },
    /// Kill a task.
    Kill(u32),
    /// Start the auto clock.
    ClockStart,
    /// Stop the auto clock.
    ClockStop,
}

/// Keys the monitor understands (independent of the terminal library).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character.
    Char(char),
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Escape.
    Esc,
    /// Ctrl-C.
    CtrlC,
}

/// The monitor's state.
#[derive(Debug, Clone)]
pub struct AppState {
    /// hsxd address (title).
    pub addr: String,
    /// Connection status.
    pub conn: Conn,
    /// Tasks, by pid.
    pub tasks: Vec<TaskRow>,
    /// Current task of the scheduler.
    pub current_pid: Option<u32>,
    /// Selected task.
    pub selected: Option<u32>,
    /// Registers of the selected task.
    pub regs: Option<RegView>,
    /// Disassembly around the selected task's PC.
    pub disasm: Vec<DisLine>,
    /// Disassembly cursor (for breakpoints); `None` follows the PC.
    pub cursor: Option<u32>,
    /// Output and log lines, oldest first.
    pub log: VecDeque<String>,
    /// Mailboxes.
    pub mailboxes: Vec<MboxRow>,
    /// Whether the auto clock runs.
    pub clock_running: bool,
    /// One-line clock summary.
    pub clock: String,
    /// Result of the last action, or the last error.
    pub status: String,
    /// Kill asked once for this pid; a second `K` confirms.
    pub confirm_kill: Option<u32>,
    /// The `?` key overlay is shown.
    pub show_help: bool,
    /// Whether `stdout`/`stderr` events arrive (then `listen` polling stops).
    pub stdout_events: bool,
    partial: HashMap<(u32, bool), String>,
    last_regs: HashMap<u32, [u32; 16]>,
}

impl AppState {
    /// An empty state for `addr`.
    pub fn new(addr: &str) -> AppState {
        AppState {
            addr: addr.to_string(),
            conn: Conn::Connecting,
            tasks: Vec::new(),
            current_pid: None,
            selected: None,
            regs: None,
            disasm: Vec::new(),
            cursor: None,
            log: VecDeque::new(),
            mailboxes: Vec::new(),
            clock_running: false,
            clock: String::new(),
            status: String::new(),
            show_help: false,
            confirm_kill: None,
            stdout_events: false,
            partial: HashMap::new(),
            last_regs: HashMap::new(),
        }
    }

    /// The selected task's row.
    pub fn selected_task(&self) -> Option<&TaskRow> {
        let pid = self.selected?;
        self.tasks.iter().find(|t| t.pid == pid)
    }

    /// A `ps` reply.
    pub fn apply_ps(&mut self, reply: &Value) {
        let block = reply.get("tasks").unwrap_or(&Value::Null);
        self.current_pid = num(block, "current_pid").and_then(|p| u32::try_from(p).ok());
        let list = block
            .get("tasks")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        self.tasks = list
            .iter()
            .filter_map(|t| {
                let pid = u32::try_from(num(t, "pid")?).ok()?;
                let exit = match t.get("fault").filter(|f| !f.is_null()) {
                    Some(f) => text(f, "name").unwrap_or_else(|| "fault".into()),
                    None => text(t, "exit_status").unwrap_or_else(|| "-".into()),
                };
                let mut breakpoints: Vec<u32> = t
                    .get("breakpoints")
                    .and_then(Value::as_array)
                    .map(|b| {
                        b.iter()
                            .filter_map(as_u64)
                            .filter_map(|a| u32::try_from(a).ok())
                            .collect()
                    })
                    .unwrap_or_default();
                breakpoints.sort_unstable();
                Some(TaskRow {
                    pid,
                    state: text(t, "state").unwrap_or_else(|| "?".into()),
                    app: text(t, "app_name").unwrap_or_default(),
                    pc: num(t, "pc").and_then(|p| u32::try_from(p).ok()),
                    steps: num(t, "accounted_steps").or_else(|| num(t, "steps")),
                    breakpoints,
                    exit,
                })
            })
            .collect();
        let still_there = self
            .selected
            .is_some_and(|p| self.tasks.iter().any(|t| t.pid == p));
        if !still_there {
            self.selected = self.tasks.first().map(|t| t.pid);
            self.regs = None;
            self.disasm.clear();
            self.cursor = None;
        }
        self.last_regs
            .retain(|pid, _| list.iter().any(|t| num(t, "pid") == Some(u64::from(*pid))));
    }

    /// A `dumpregs` reply for `pid`. Highlights follow the last change, so a poll that
    /// finds nothing new keeps showing what the last step changed.
    pub fn apply_regs(&mut self, pid: u32, reply: &Value) {
        let r = reply.get("registers").unwrap_or(reply);
        let mut regs = [0u32; 16];
        if let Some(list) = r.get("regs").and_then(Value::as_array) {
            for (slot, v) in regs.iter_mut().zip(list) {
                *slot = as_u64(v).and_then(|x| u32::try_from(x).ok()).unwrap_or(0);
            }
        }
        let word = |k: &str| num(r, k).and_then(|x| u32::try_from(x).ok()).unwrap_or(0);
        let pc = word("pc");
        let prev_view = self.regs.as_ref().filter(|v| v.pid == pid);
        if prev_view.is_some_and(|v| v.pc != pc) {
            self.cursor = None;
        }
        let changed = match self.last_regs.get(&pid) {
            Some(prev) if *prev != regs => {
                let mut c = [false; 16];
                for (i, flag) in c.iter_mut().enumerate() {
                    *flag = prev.get(i) != regs.get(i);
                }
                c
            }
            Some(_) => prev_view.map(|v| v.changed).unwrap_or([false; 16]),
            None => [false; 16],
        };
        self.last_regs.insert(pid, regs);
        self.regs = Some(RegView {
            pid,
            regs,
            pc,
            sp: word("sp"),
            psw: num(r, "flags")
                .or_else(|| num(r, "psw"))
                .and_then(|x| u32::try_from(x).ok())
                .unwrap_or(0),
            changed,
        });
    }

    /// A `disasm` reply.
    pub fn apply_disasm(&mut self, reply: &Value) {
        self.disasm = fmt::dis_lines(reply);
    }

    /// A `mailbox_snapshot` reply.
    pub fn apply_mailboxes(&mut self, reply: &Value) {
        let list = reply
            .get("descriptors")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        self.mailboxes = list
            .iter()
            .map(|d| {
                MboxRow {
                    id: num(d, "descriptor_id").unwrap_or(0),
                    // `target` is the full address (`pid:1`, `svc:stdio.out@2`); older
                    // replies only have the namespace number and the bare name.
                    name: text(d, "target").unwrap_or_else(|| {
                        let ns = fmt::namespace(num(d, "namespace"));
                        format!("{ns}:{}", text(d, "name").unwrap_or_default())
                    }),
                    owner: text(d, "owner_pid").unwrap_or_else(|| "-".into()),
                    used: num(d, "bytes_used").unwrap_or(0),
                    capacity: num(d, "capacity").unwrap_or(0),
                    depth: num(d, "queue_depth").unwrap_or(0),
                }
            })
            .collect();
    }

    /// A clock object.
    pub fn apply_clock(&mut self, clock: &Value) {
        self.clock_running = clock
            .get("running")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let rate = clock.get("rate_hz").and_then(Value::as_f64).unwrap_or(0.0);
        // The same words as the status line ("clock started"/"clock stopped"): running or
        // stopped first, the mode only as a detail.
        let mode = text(clock, "mode").unwrap_or_default();
        let state = match (self.clock_running, mode.as_str()) {
            (false, _) => "stopped".to_string(),
            (true, "active" | "") => "running".to_string(),
            (true, "paused" | "idle") => "running (nothing to run)".to_string(),
            (true, m) => format!("running ({m})"),
        };
        self.clock = format!(
            "clock {state}{}",
            if rate > 0.0 {
                format!(" @ {rate} Hz")
            } else {
                String::new()
            }
        );
    }

    /// Appends a log line.
    pub fn log_line(&mut self, line: impl Into<String>) {
        self.log.push_back(line.into());
        while self.log.len() > LOG_CAP {
            self.log.pop_front();
        }
    }

    /// Program output: split into lines, keeping an unfinished line until it ends.
    pub fn push_output(&mut self, pid: u32, err: bool, text_: &str) {
        let key = (pid, err);
        let mut buf = self.partial.remove(&key).unwrap_or_default();
        buf.push_str(text_);
        let tag = if err {
            format!("[{pid}!] ")
        } else {
            format!("[{pid}] ")
        };
        while let Some(i) = buf.find('\n') {
            let line: String = buf.drain(..=i).collect();
            self.log_line(format!("{tag}{}", line.trim_end_matches(['\n', '\r'])));
        }
        if buf.len() > 4096 {
            // A runaway line without newline: show it rather than grow forever.
            self.log_line(format!("{tag}{buf}"));
            buf.clear();
        }
        if !buf.is_empty() {
            self.partial.insert(key, buf);
        }
    }

    /// A `listen` reply (output polling when no stdout events arrive).
    pub fn apply_listen(&mut self, reply: &Value) {
        let msgs = reply
            .get("messages")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for m in msgs {
            let pid = num(m, "src_pid")
                .or_else(|| {
                    // The target says whose stdout it is: svc:stdio.out@PID.
                    text(m, "target")
                        .and_then(|t| t.rsplit('@').next().and_then(|p| p.parse().ok()))
                })
                .and_then(|p| u32::try_from(p).ok())
                .unwrap_or(0);
            self.push_output(pid, false, &String::from_utf8_lossy(&fmt::message_bytes(m)));
        }
    }

    /// An event from the stream. Returns true when the task view should be refreshed.
    pub fn apply_event(&mut self, ev: &Value) -> bool {
        let kind = ev.get("type").and_then(Value::as_str).unwrap_or("");
        let pid = num(ev, "pid").and_then(|p| u32::try_from(p).ok());
        let data = ev.get("data").unwrap_or(&Value::Null);
        match kind {
            "stdout" | "stderr" => {
                self.stdout_events = true;
                let t = String::from_utf8_lossy(&fmt::message_bytes(data)).into_owned();
                self.push_output(pid.unwrap_or(0), kind == "stderr", &t);
                false
            }
            "task_state" => {
                let reason = text(data, "reason")
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                self.log_line(format!(
                    "pid {}: {} -> {}{reason}",
                    pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                    text(data, "prev_state").unwrap_or_else(|| "-".into()),
                    text(data, "new_state").unwrap_or_else(|| "-".into()),
                ));
                true
            }
            "debug_break" => {
                self.log_line(format!(
                    "pid {}: breakpoint at {}",
                    pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                    num(data, "pc")
                        .map(fmt::hex_addr)
                        .unwrap_or_else(|| "?".into())
                ));
                true
            }
            "fault" => {
                self.log_line(format!(
                    "pid {}: fault {}",
                    pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                    text(data, "name").unwrap_or_else(|| data.to_string())
                ));
                true
            }
            "warning" => {
                self.log_line(format!(
                    "warning: {}",
                    text(data, "reason").unwrap_or_default()
                ));
                false
            }
            "watch_update" => {
                self.log_line(format!(
                    "watch {} {}: {} -> {}",
                    text(data, "watch_id").unwrap_or_default(),
                    text(data, "expr").unwrap_or_default(),
                    text(data, "old").unwrap_or_default(),
                    text(data, "new").unwrap_or_default()
                ));
                true
            }
            _ => true,
        }
    }

    fn move_selection(&mut self, delta: isize) {
        if self.tasks.is_empty() {
            return;
        }
        let idx = self
            .selected
            .and_then(|p| self.tasks.iter().position(|t| t.pid == p))
            .unwrap_or(0) as isize;
        let last = self.tasks.len() as isize - 1;
        let next = (idx + delta).clamp(0, last) as usize;
        if let Some(t) = self.tasks.get(next)
            && Some(t.pid) != self.selected
        {
            self.selected = Some(t.pid);
            self.regs = None;
            self.disasm.clear();
            self.cursor = None;
        }
    }

    /// Address the disassembly cursor is on (the PC unless moved).
    pub fn cursor_addr(&self) -> Option<u32> {
        self.cursor
            .or_else(|| self.regs.as_ref().map(|r| r.pc))
            .or_else(|| self.selected_task()?.pc)
    }

    fn move_cursor(&mut self, delta: isize) {
        let Some(cur) = self.cursor_addr() else {
            return;
        };
        let addrs: Vec<u32> = self
            .disasm
            .iter()
            .filter_map(|l| u32::try_from(l.pc).ok())
            .collect();
        let Some(i) = addrs.iter().position(|a| *a == cur) else {
            self.cursor = addrs.first().copied();
            return;
        };
        let j = (i as isize + delta).clamp(0, addrs.len() as isize - 1) as usize;
        self.cursor = addrs.get(j).copied();
    }

    /// A key press: moves the selection or cursor itself, returns what needs I/O.
    pub fn on_key(&mut self, key: Key) -> Option<Action> {
        let pending_kill = self.confirm_kill.take();
        let pid = self.selected;
        if self.show_help {
            // Any key closes the overlay; only Ctrl-C still quits from it.
            self.show_help = false;
            return (key == Key::CtrlC).then_some(Action::Quit);
        }
        match key {
            Key::Char('?') | Key::Char('h') => self.show_help = true,
            Key::Char('q') | Key::Esc | Key::CtrlC => return Some(Action::Quit),
            Key::Up | Key::Char('k') => self.move_selection(-1),
            Key::Down | Key::Char('j') => self.move_selection(1),
            Key::Char('[') => self.move_cursor(-1),
            Key::Char(']') => self.move_cursor(1),
            Key::Char('p') => return pid.map(Action::Pause),
            Key::Char('r') => return pid.map(Action::Resume),
            Key::Char('s') | Key::Char('n') => return pid.map(Action::Step),
            Key::Char('c') => {
                return Some(if self.clock_running {
                    Action::ClockStop
                } else {
                    Action::ClockStart
                });
            }
            Key::Char('b') => {
                let pid = pid?;
                let addr = self.cursor_addr()?;
                let add = !self
                    .selected_task()
                    .is_some_and(|t| t.breakpoints.contains(&addr));
                return Some(Action::ToggleBreakpoint { pid, addr, add });
            }
            Key::Char('K') | Key::Char('x') => {
                let pid = pid?;
                if pending_kill == Some(pid) {
                    return Some(Action::Kill(pid));
                }
                self.confirm_kill = Some(pid);
                self.status = format!("press K again to kill pid {pid}");
            }
            Key::Char(_) => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ps2() -> Value {
        json!({"tasks":{"current_pid":1,"tasks":[
            {"pid":1,"state":"running","app_name":"main","pc":8,"accounted_steps":2},
            {"pid":2,"state":"paused","app_name":"blink","pc":40,"accounted_steps":9,"breakpoints":[40]}
        ]}})
    }

    #[test]
    fn ps_selects_first_and_keeps_selection() {
        let mut s = AppState::new("x");
        s.apply_ps(&ps2());
        assert_eq!(s.selected, Some(1));
        s.on_key(Key::Down);
        assert_eq!(s.selected, Some(2));
        s.apply_ps(&ps2());
        assert_eq!(s.selected, Some(2));
        assert_eq!(
            s.selected_task().map(|t| t.breakpoints.clone()),
            Some(vec![40])
        );
        s.apply_ps(&json!({"tasks":{"tasks":[],"current_pid":null}}));
        assert_eq!(s.selected, None);
    }

    #[test]
    fn register_highlight_survives_an_unchanged_poll() {
        let mut s = AppState::new("x");
        let r = |r1: u32| json!({"registers":{"pc":8,"sp":65520,"flags":0,"regs":[0,r1,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}});
        s.apply_regs(1, &r(0));
        assert_eq!(s.regs.as_ref().map(|v| v.changed), Some([false; 16]));
        s.apply_regs(1, &r(5));
        let changed = s.regs.as_ref().map(|v| v.changed).unwrap_or_default();
        assert!(changed[1] && !changed[0]);
        s.apply_regs(1, &r(5));
        assert!(s.regs.as_ref().is_some_and(|v| v.changed[1]));
    }

    #[test]
    fn keys_make_actions() {
        let mut s = AppState::new("x");
        s.apply_ps(&ps2());
        s.on_key(Key::Down);
        assert_eq!(s.on_key(Key::Char('p')), Some(Action::Pause(2)));
        // Cursor follows the PC (40), which has a breakpoint: `b` removes it.
        assert_eq!(
            s.on_key(Key::Char('b')),
            Some(Action::ToggleBreakpoint {
                pid: 2,
                addr: 40,
                add: false
            })
        );
        assert_eq!(s.on_key(Key::Char('K')), None);
        assert_eq!(s.on_key(Key::Char('K')), Some(Action::Kill(2)));
        assert_eq!(s.on_key(Key::Char('K')), None, "confirmation is used up");
        assert_eq!(s.on_key(Key::Char('c')), Some(Action::ClockStart));
        assert_eq!(s.on_key(Key::Char('q')), Some(Action::Quit));
    }

    #[test]
    fn output_is_split_into_lines_and_events_logged() {
        let mut s = AppState::new("x");
        s.push_output(1, false, "hel");
        assert!(s.log.is_empty());
        s.push_output(1, false, "lo\nwor");
        assert_eq!(s.log.back().map(String::as_str), Some("[1] hello"));
        let refresh = s.apply_event(&json!({"seq":3,"type":"task_state","pid":1,"data":{"prev_state":"running","new_state":"paused","reason":"debug_break"}}));
        assert!(refresh);
        assert_eq!(
            s.log.back().map(String::as_str),
            Some("pid 1: running -> paused (debug_break)")
        );
        assert!(!s.apply_event(&json!({"seq":4,"type":"stdout","pid":1,"data":{"text":"ld\n"}})));
        assert!(s.stdout_events);
        assert_eq!(s.log.back().map(String::as_str), Some("[1] world"));
        for i in 0..(LOG_CAP + 10) {
            s.log_line(format!("{i}"));
        }
        assert_eq!(s.log.len(), LOG_CAP);
    }
}
