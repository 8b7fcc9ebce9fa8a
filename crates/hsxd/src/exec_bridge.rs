//! The seam between the protocol layer and the executive.
//!
//! The protocol layer parses and validates every request (both spellings, number forms,
//! the reference's error strings), runs the session/PID-lock checks, and builds the reply
//! envelope. For anything about tasks it calls one method of [`Backend`] with typed
//! arguments. A method returns either the JSON payload that goes under the command's reply
//! key (documented per method, with the protocol.md section that fixes its shape) or a
//! [`BackendError`] whose text becomes the reply's `error`.
//!
//! Every method has a default that answers [`BackendError::Unsupported`], so an
//! implementation can grow command by command. [`Detached`] is the implementation used
//! until the executive core is connected: it answers only what is true without one
//! (`info`, `ps`, clock status) and never invents task data.
//!
//! # Contract
//!
//! * Methods are called concurrently from many connections (`&self`, `Send + Sync`); an
//!   implementation serialises access to the executive itself (typically one `Mutex`).
//! * Methods must return promptly. `step`, `load`, `reload`, `sym load` and `trace import`
//!   run under `tokio::task::block_in_place` on a multi-thread runtime, so they may take a
//!   few milliseconds, but they should still bound their work.
//! * PID locks are already checked when a method runs; the backend never sees sessions.
//! * Events: the backend publishes through the [`EventBus`](crate::events::EventBus)
//!   handed to it at construction (`bus.publish(Event::new("task_state", Some(pid),
//!   data))`). `publish` returns the numbered envelope, so `step` can embed executive
//!   events (`debug_break`, `watch_update`) in `result.events` via
//!   [`EventRecord::to_value`](crate::events::EventRecord::to_value).
//! * Payloads must not carry a top-level `type` or `seq` where they are spread over the
//!   reply (`mailbox_snapshot`, `send`); the reply builder drops such keys anyway.
//! * Background work (the auto clock) is the backend's own: spawn it on the tokio runtime
//!   at construction and stop it in [`Backend::shutdown`].

use serde::Serialize;
use serde_json::{Value, json};

pub use crate::cmd::ipc::FanoutMode;
pub use crate::cmd::regs::RegValue;
pub use crate::cmd::{
    BpOp, ClockOp, DisasmArgs, DisasmMode, FanoutArgs, FanoutScope, ListenArgs, LoadArgs, PeekArgs,
    PokeArgs, RegGetArgs, RegId, RegSetArgs, RegistryFilter, SchedOp, SendArgs, StepArgs, SymOp,
    SymbolKind, SymbolsArgs, TraceOp, WatchOp,
};
pub use crate::error::BackendError;

use crate::args::Obj;

/// Result of a backend call; the payload defaults to a JSON value.
pub type BackendResult<T = Value> = Result<T, BackendError>;

fn unsupported<T>(cmd: &'static str) -> BackendResult<T> {
    Err(BackendError::Unsupported(cmd))
}

/// Everything the protocol layer needs from the executive, one method per command,
/// grouped as the command files are.
#[allow(unused_variables)]
pub trait Backend: Send + Sync + 'static {
    // ---- lifecycle (cmd/lifecycle.rs, protocol.md §2.1) ----

    /// `info`: the §5.6 object (with `auto` and `clock`). With `pid`: `selected_pid` and
    /// `selected_registers`, or `selected_error: "unknown pid N"`.
    fn info(&self, pid: Option<u32>) -> BackendResult {
        unsupported("info")
    }
    /// `attach`: the `info` object without `auto`/`clock`.
    fn attach(&self) -> BackendResult {
        unsupported("attach")
    }
    /// `detach`: stops the auto clock; the `info` object without `auto`/`clock`.
    fn detach(&self) -> BackendResult {
        unsupported("detach")
    }
    /// `load`/`exec`: the `image` object (§2.1.1). Emits `task_state` reason `loaded`.
    fn load(&self, args: &LoadArgs) -> BackendResult {
        unsupported("load")
    }
    /// `reload`: `{old_pid, new_pid, program, image, task}`.
    fn reload(&self, pid: u32, verbose: bool) -> BackendResult {
        unsupported("reload")
    }
    /// `kill`: `{pid, state: "terminated"}`. Stops the auto clock.
    fn kill(&self, pid: u32) -> BackendResult {
        unsupported("kill")
    }
    /// `ps`: `{tasks: [task...], current_pid}` (§5.5), sorted by pid.
    fn ps(&self) -> BackendResult {
        unsupported("ps")
    }
    /// `list`: `{pid, channels: [...]}` (§2.6).
    fn list_channels(&self, pid: u32) -> BackendResult {
        unsupported("list")
    }
    /// `restart` target `vm`: reset the VM. The reply shows `"requested"` or `"error:<text>"`.
    fn restart_vm(&self) -> BackendResult<()> {
        unsupported("restart vm")
    }
    /// `restart` target `exec`: the server has dropped every session, subscription and
    /// connection; drop per-session state here if any. Tasks survive.
    fn restart_exec(&self) {}
    /// Called once when the server stops (`shutdown`, SIGINT, SIGTERM): stop the clock and
    /// flush persistence (FRAM).
    fn shutdown(&self) {}
    /// Hands over the server's `dmesg` ring (the [`Dispatcher`](crate::Dispatcher) calls
    /// this once), so the backend can log loads, kills, state changes and faults there.
    fn attach_log(&self, log: crate::dmesg::Dmesg) {}

    // ---- run control (cmd/run.rs, §2.2, §5.3) ----

    /// `pause`: the task record after refresh (§5.5).
    fn pause(&self, pid: u32) -> BackendResult {
        unsupported("pause")
    }
    /// `resume`/`continue`: the task record.
    fn resume(&self, pid: u32) -> BackendResult {
        unsupported("resume")
    }
    /// `step`, `clock step`: the `result` object (§2.2.1). The layer adds `clock` from
    /// [`Backend::clock_status`].
    fn step(&self, args: &StepArgs) -> BackendResult {
        unsupported("step")
    }
    /// `clock`/`clock status`: the 12-key clock object (§5.3); see [`ClockStatus`].
    fn clock_status(&self) -> BackendResult {
        unsupported("clock")
    }
    /// `clock start`, `start_auto`: the clock object.
    fn clock_start(&self) -> BackendResult {
        unsupported("clock start")
    }
    /// `clock stop`, `stop_auto`: the clock object.
    fn clock_stop(&self) -> BackendResult {
        unsupported("clock stop")
    }
    /// `clock rate` (Hz, finite, ≥ 0): the clock object.
    fn clock_rate(&self, hz: f64) -> BackendResult {
        unsupported("clock rate")
    }
    /// `sched` with a pid: the raw task summary.
    fn sched_set(&self, pid: u32, priority: Option<u32>, quantum: Option<u32>) -> BackendResult {
        unsupported("sched")
    }
    /// `sched` without a pid: `{counters: {"<pid>": {step, rotate}}, trace: [...]}` (§5.4).
    fn sched_stats(&self, limit: Option<usize>) -> BackendResult {
        unsupported("sched")
    }

    // ---- registers and memory (cmd/regs.rs, §2.3) ----

    /// `dumpregs`: the `registers` object (with `regs[16]` and `R0`..`R15` keys).
    fn dumpregs(&self, pid: u32) -> BackendResult {
        unsupported("dumpregs")
    }
    /// `peek`: bytes read (may be short at the 64 KiB edge); the layer hex-encodes them.
    fn peek(&self, pid: u32, addr: u32, length: u32) -> BackendResult<Vec<u8>> {
        unsupported("peek")
    }
    /// `poke`.
    fn poke(&self, pid: u32, addr: u32, data: &[u8]) -> BackendResult<()> {
        unsupported("poke")
    }
    /// `reg.get`: the task addressed (current when `pid` is `None`) and the value.
    fn reg_get(&self, pid: Option<u32>, reg: RegId) -> BackendResult<RegValue> {
        unsupported("reg.get")
    }
    /// `reg.set`.
    fn reg_set(&self, pid: Option<u32>, reg: RegId, value: u32) -> BackendResult<RegValue> {
        unsupported("reg.set")
    }
    /// The task `reg.get`/`reg.set` address when the request names none (the current
    /// task), so its PID lock can be checked; `None` when there is none.
    fn current_pid(&self) -> Option<u32> {
        None
    }

    // ---- debugger (cmd/debug.rs, cmd/symbols.rs, cmd/trace.rs, §2.4) ----

    /// `bp`/`bp.*`: the task's breakpoints after the operation, sorted.
    fn breakpoints(&self, pid: u32, op: BpOp) -> BackendResult<Vec<u32>> {
        unsupported("bp")
    }
    /// `stack`: the `stack` object (§2.4.2).
    fn stack(&self, pid: u32, max_frames: u32) -> BackendResult {
        unsupported("stack")
    }
    /// `disasm`: the `disasm` object (§2.4.3).
    fn disasm(&self, args: &DisasmArgs) -> BackendResult {
        unsupported("disasm")
    }
    /// `memory regions`: the `memory` object (§2.4.5).
    fn memory_regions(&self, pid: u32) -> BackendResult {
        unsupported("memory")
    }
    /// `watch`: list → `{pid, count, watches}`; add → the new record; remove → the removed
    /// record (§2.4.6).
    fn watch(&self, pid: u32, op: &WatchOp) -> BackendResult {
        unsupported("watch")
    }
    /// `symbols`: `{pid, count, offset, limit, type, symbols}` (§2.4.4).
    fn symbols(&self, args: &SymbolsArgs) -> BackendResult {
        unsupported("symbols")
    }
    /// `sym`: info/load → the symbols status object; lookup_name/lookup_addr → the symbol
    /// or null; lookup_line → the line or null. The layer adds `pid` and `name`/`address`.
    fn sym(&self, pid: u32, op: &SymOp) -> BackendResult {
        unsupported("sym")
    }
    /// `trace`: the `trace` object for each form (§2.4.7).
    fn trace(&self, op: &TraceOp) -> BackendResult {
        unsupported("trace")
    }

    // ---- mailboxes and stdio (cmd/ipc.rs, §2.6) ----

    /// `mailbox_snapshot`: `{descriptors: [...], stats: {...}}`, spread over the reply.
    fn mailbox_snapshot(&self) -> BackendResult<Obj> {
        unsupported("mailbox_snapshot")
    }
    /// `listen`: the `messages` list.
    fn listen(&self, args: &ListenArgs) -> BackendResult {
        unsupported("listen")
    }
    /// `send`: `{mbx_status, length, descriptor, target}`, spread over the reply.
    fn send(&self, args: &SendArgs) -> BackendResult<Obj> {
        unsupported("send")
    }
    /// `stdio_fanout`: the `config` object.
    fn stdio_fanout(&self, args: &FanoutArgs) -> BackendResult {
        unsupported("stdio_fanout")
    }

    // ---- values and commands (cmd/values.rs, §2.6) ----

    /// `val.list`: the `values` list.
    fn val_list(&self, filter: &RegistryFilter) -> BackendResult {
        unsupported("val.list")
    }
    /// `val.get`: `{status, value?, f16?, pid?}`.
    fn val_get(&self, oid: u16, pid: Option<u32>) -> BackendResult {
        unsupported("val.get")
    }
    /// `val.set`: `{status, value?, f16?, pid?}`.
    fn val_set(&self, oid: u16, value: f64, pid: Option<u32>) -> BackendResult {
        unsupported("val.set")
    }
    /// `val.stats`: the `stats` object.
    fn val_stats(&self) -> BackendResult {
        unsupported("val.stats")
    }
    /// `cmd.list`: the `commands` list.
    fn cmd_list(&self, filter: &RegistryFilter) -> BackendResult {
        unsupported("cmd.list")
    }
    /// `cmd.call`: `{status, result, pid?}`.
    fn cmd_call(&self, oid: u16, pid: Option<u32>, async_call: bool) -> BackendResult {
        unsupported("cmd.call")
    }
    /// `cmd.stats`: the `stats` object.
    fn cmd_stats(&self) -> BackendResult {
        unsupported("cmd.stats")
    }
}

/// The `clock` object (protocol.md §5.3), for backends to fill in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockStatus {
    /// `running` or `stopped`.
    pub state: &'static str,
    /// Whether the auto loop runs.
    pub running: bool,
    /// `stopped`, `active`, `rate`, `paused`, `sleep`, `wait_mbx`, `idle`, `throttled`.
    pub mode: &'static str,
    /// True for throttle reasons `throttled` and `sleep`.
    pub throttled: bool,
    /// Current throttle reason.
    pub throttle_reason: Option<&'static str>,
    /// Last wait of the loop, seconds.
    pub last_wait_s: f64,
    /// Rate limit, 0 = none.
    pub rate_hz: f64,
    /// Instructions per auto tick / default step budget.
    pub step_size: u64,
    /// Auto step calls.
    pub auto_steps: u64,
    /// Instructions retired by the auto clock.
    pub auto_total_steps: u64,
    /// Manual step calls.
    pub manual_steps: u64,
    /// Instructions retired by manual steps.
    pub manual_total_steps: u64,
}

impl Default for ClockStatus {
    fn default() -> Self {
        Self {
            state: "stopped",
            running: false,
            mode: "stopped",
            throttled: false,
            throttle_reason: None,
            last_wait_s: 0.0,
            rate_hz: 0.0,
            step_size: 1,
            auto_steps: 0,
            auto_total_steps: 0,
            manual_steps: 0,
            manual_total_steps: 0,
        }
    }
}

impl ClockStatus {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The backend used until an executive is connected: no tasks, a stopped clock, and
/// `unsupported:<cmd>` for everything that needs an executive.
#[derive(Debug, Clone, Default)]
pub struct Detached;

impl Backend for Detached {
    fn info(&self, pid: Option<u32>) -> BackendResult {
        let clock = ClockStatus::default().to_json();
        let mut info = json!({
            "loaded": false,
            "program": null,
            "running": false,
            "pc": null,
            "attached": false,
            "paused": false,
            "sleep_pending": false,
            "current_pid": null,
            "active_context": null,
            "tasks": [],
            "scheduler": {"trace": [], "counters": {}, "mailbox_counters": {}},
            "auto": false,
            "clock": clock,
        });
        if let (Some(pid), Value::Object(m)) = (pid, &mut info) {
            m.insert(
                "selected_error".into(),
                json!(BackendError::UnknownPid(pid).to_string()),
            );
        }
        Ok(info)
    }

    fn ps(&self) -> BackendResult {
        Ok(json!({"tasks": [], "current_pid": null}))
    }

    fn clock_status(&self) -> BackendResult {
        Ok(ClockStatus::default().to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_answers_only_true_things() {
        let d = Detached;
        assert_eq!(d.ps(), Ok(json!({"tasks": [], "current_pid": null})));
        let info = d.info(Some(3)).unwrap_or_default();
        assert_eq!(info["selected_error"], json!("unknown pid 3"));
        assert_eq!(info["clock"]["state"], json!("stopped"));
        assert_eq!(info["clock"].as_object().map(|m| m.len()), Some(12));
        assert_eq!(info["auto"], json!(false));
        assert!(
            d.info(None)
                .unwrap_or_default()
                .get("selected_error")
                .is_none()
        );
        assert_eq!(
            d.pause(1).map_err(|e| e.to_string()),
            Err("unsupported:pause: no executive attached to this server".into())
        );
        assert!(d.stack(1, 16).is_err());
        assert!(d.peek(1, 0, 4).is_err());
    }
}
