//! The [`Backend`] that drives a real [`hsx_exec::Executive`].
//!
//! One `std::sync::Mutex` serialises the executive; it is never held across an `.await`.
//! Every call that can make executive events drains them afterwards and publishes them on
//! the [`EventBus`] under the protocol's type names (protocol.md §4.5). The auto clock is a
//! tokio task started by [`ExecBackend::start`] and stopped by [`Backend::shutdown`].

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hsx_exec::event::{BreakReason, DebugBreak, EventKind, Warning};
use hsx_exec::executive::DEFAULT_EVENT_CAPACITY;
use hsx_exec::mailbox::{ExhaustedReason, MailboxEvent, StdioStream, TargetKey};
use hsx_exec::values::{ListFilter, PoolStats, ValEvent, f16_to_f64};
use hsx_exec::{
    Backends, Clock, ExecConfig, ExecError, Executive, LoadOptions, Reg, StateReason, StopReason,
    TaskInfo, TaskState,
};
use hsx_image::sym::SymFile;
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

use crate::args::Obj;
use crate::cmd::regs::to_hex as hex;
use crate::debugger::{LoadedSymbols, PreparedSymbols, SymbolStore};
use crate::dmesg::Dmesg;
use crate::events::{Event, EventBus};
use crate::exec_bridge::{
    Backend, BackendError, BackendResult, BpOp, ClockStatus, ListenArgs, LoadArgs, RegId, RegValue,
    RegistryFilter, SendArgs, StepArgs,
};
use crate::exec_bridge::{DisasmArgs, SymOp, SymbolsArgs, TraceOp, WatchOp};
use crate::exec_bridge::{FanoutArgs, FanoutScope};
use crate::exec_debug::{
    DebugState, changed_reg_names, mem_access_json, prepare_load_symbols, symbol_warnings,
};
use crate::task_output::{Stream, TaskOutput};

/// Most instructions one lock hold of the auto clock may run at rate 0, so RPCs are never
/// starved of the executive for long.
const AUTO_BATCH_MAX: u64 = 10_000;
/// Most events a manual `step` may queue before the executive drops the oldest (about
/// 150 MB at worst, reached only by a step of half a million traced instructions).
const MANUAL_STEP_EVENT_CAPACITY: usize = 1 << 20;
/// The batch while someone subscribes to events: traced tasks produce about one event per
/// instruction, and the executive's event queue (4096) must not overflow between drains.
const AUTO_BATCH_SUBSCRIBED: u64 = 2_048;
/// Longest wait of the auto loop when nothing can run (protocol.md §5.3: 1 ms to 50 ms).
const IDLE_WAIT: Duration = Duration::from_millis(50);
/// Shortest wait when nothing can run.
const MIN_WAIT: Duration = Duration::from_millis(1);
/// Scheduler switches kept for `sched` (protocol.md §5.4).
const SCHED_TRACE_CAP: usize = 256;
/// Scheduler switches shown in `info.scheduler.trace`.
const INFO_SCHED_TRACE: usize = 32;

/// The executive's clock in the daemon: milliseconds since an `Instant`, from the
/// monotonic system clock.
#[derive(Debug, Clone, Copy)]
pub struct InstantClock(pub Instant);

impl Clock for InstantClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

fn exec_err(e: ExecError) -> BackendError {
    match e {
        ExecError::UnknownPid(pid) => BackendError::UnknownPid(pid),
        other => BackendError::failed(other.to_string()),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock must not take the daemon down with it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn state_str(s: Option<TaskState>) -> Value {
    s.map_or(Value::Null, |s| json!(s.wire_str()))
}

/// The executive configuration of the daemon: the defaults, except that stdout/stderr
/// messages are consumed as soon as they have become events. `listen` serves them from
/// the daemon's own buffer ([`TaskOutput`]), so a task's 64-byte stdout mailbox never
/// fills up (and its writes never fail) while nobody is polling.
fn daemon_config() -> ExecConfig {
    ExecConfig {
        stdio_drain: true,
        ..ExecConfig::default()
    }
}

/// Shared between the backend handle and the auto-clock task.
struct Shared {
    exec: Mutex<Executive>,
    clock: Mutex<ClockStatus>,
    bus: EventBus,
    wake: Notify,
    stopping: AtomicBool,
    /// Task output for `listen`, fed from `stdout`/`stderr` events (see [`TaskOutput`]).
    output: Mutex<TaskOutput>,
    /// The server's log ring (replaced by [`Backend::attach_log`]).
    log: Mutex<Dmesg>,
    /// Symbols, disassembly cache, watches and trace settings (§2.4). Taken only after
    /// `exec`, or alone, never the other way round.
    dbg: Mutex<DebugState>,
    /// The last [`SCHED_TRACE_CAP`] scheduler switches as `sched` trace entries.
    sched_trace: Mutex<VecDeque<Value>>,
    /// Each task's stdout/stderr handles, as opened at load: they identify the executive's
    /// own stdio drains after the task's handles are gone (it ended in the same batch).
    stdio_handles: Mutex<HashMap<u32, (u32, u32)>>,
}

/// A [`Backend`] over an in-process executive with a real-time clock.
pub struct ExecBackend {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ExecBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecBackend").finish_non_exhaustive()
    }
}

impl ExecBackend {
    /// A backend with the default executive configuration, publishing to `bus`. The auto
    /// clock is not running until [`ExecBackend::start`] spawns it.
    #[must_use]
    pub fn new(bus: EventBus) -> Self {
        Self::with_executive(
            Executive::new(daemon_config(), Backends::new(InstantClock(Instant::now()))),
            bus,
        )
    }

    /// A backend with the default executive configuration over the given host backends
    /// (file system, persistence, HAL, clock).
    #[must_use]
    pub fn with_backends(backends: Backends, bus: EventBus) -> Self {
        Self::with_executive(Executive::new(daemon_config(), backends), bus)
    }

    /// A backend over a given executive.
    #[must_use]
    pub fn with_executive(mut exec: Executive, bus: EventBus) -> Self {
        // Traced tasks report every instruction (`trace_step`, §4.5); others never do.
        exec.set_trace_step_events(true);
        Self {
            shared: Arc::new(Shared {
                exec: Mutex::new(exec),
                clock: Mutex::new(ClockStatus::default()),
                bus,
                wake: Notify::new(),
                stopping: AtomicBool::new(false),
                output: Mutex::new(TaskOutput::new()),
                log: Mutex::new(Dmesg::new()),
                dbg: Mutex::new(DebugState::default()),
                sched_trace: Mutex::new(VecDeque::new()),
                stdio_handles: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// [`ExecBackend::new`] plus the auto-clock task spawned on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    #[must_use]
    pub fn start(bus: EventBus) -> Arc<Self> {
        let me = Arc::new(Self::new(bus));
        me.spawn_clock();
        me
    }

    /// [`ExecBackend::with_backends`] plus the auto-clock task (see [`ExecBackend::start`]).
    ///
    /// # Panics
    /// Outside a tokio runtime.
    #[must_use]
    pub fn start_with(backends: Backends, bus: EventBus) -> Arc<Self> {
        let me = Arc::new(Self::with_backends(backends, bus));
        me.spawn_clock();
        me
    }

    /// Spawn the auto-clock task on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn spawn_clock(&self) {
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move { auto_loop(shared).await });
    }

    fn exec(&self) -> MutexGuard<'_, Executive> {
        lock(&self.shared.exec)
    }

    fn publish_pending(&self, exec: &mut Executive) -> Vec<Value> {
        publish_events(&self.shared, exec)
    }

    fn stop_clock(&self) {
        let mut c = lock(&self.shared.clock);
        set_stopped(&mut c, "stopped");
    }

    fn clock_json(&self) -> Value {
        lock(&self.shared.clock).to_json()
    }

    /// The last `limit` scheduler switches (all with `None`), oldest first.
    fn sched_trace(&self, limit: Option<usize>) -> Vec<Value> {
        let ring = lock(&self.shared.sched_trace);
        let skip = limit.map_or(0, |l| ring.len().saturating_sub(l));
        ring.iter().skip(skip).cloned().collect()
    }

    fn info_object(&self, exec: &Executive, with_clock: bool) -> Value {
        self.info_json(InfoSnap::take(exec), with_clock)
    }

    /// `info` built from a snapshot, outside the executive lock.
    fn info_json(&self, snap: InfoSnap, with_clock: bool) -> Value {
        let InfoSnap {
            tasks,
            current,
            runnable,
            mailbox,
        } = snap;
        let cur = current.and_then(|p| tasks.iter().find(|t| t.pid == p));
        let mut counters = Map::new();
        let mut mailbox_counters = Map::new();
        for (t, mc) in tasks.iter().zip(&mailbox) {
            counters.insert(
                t.pid.to_string(),
                json!({"step": t.counters.step, "rotate": t.counters.rotate}),
            );
            mailbox_counters.insert(
                t.pid.to_string(),
                json!({"MAILBOX_STEP": mc.step, "MAILBOX_WAKE": mc.wake,
                       "MAILBOX_TIMEOUT": mc.timeout}),
            );
        }
        let trace = self.sched_trace(Some(INFO_SCHED_TRACE));
        let mut info = json!({
            "loaded": !tasks.is_empty(),
            "program": cur.and_then(|t| t.filepath.clone()),
            "running": runnable,
            "pc": cur.map(|t| t.pc),
            "attached": true,
            "paused": cur.is_some_and(|t| t.state == TaskState::Paused),
            "sleep_pending": cur.is_some_and(|t| t.sleep.is_some()),
            "current_pid": current,
        });
        // Inserted, not interpolated into `json!` (which deep-copies every `Value`).
        if let Value::Object(m) = &mut info {
            m.insert(
                "active_context".into(),
                cur.map_or(Value::Null, context_json),
            );
            m.insert(
                "tasks".into(),
                Value::Array(tasks.iter().map(vm_task_json).collect()),
            );
            let mut sched = Map::new();
            sched.insert("trace".into(), Value::Array(trace));
            sched.insert("counters".into(), Value::Object(counters));
            sched.insert("mailbox_counters".into(), Value::Object(mailbox_counters));
            m.insert("scheduler".into(), Value::Object(sched));
        }
        if with_clock && let Value::Object(m) = &mut info {
            let clock = self.clock_json();
            m.insert("auto".into(), clock["running"].clone());
            m.insert("clock".into(), clock);
        }
        info
    }
}

/// What `info` needs from the executive, copied out under its lock.
struct InfoSnap {
    tasks: Vec<TaskInfo>,
    current: Option<u32>,
    runnable: bool,
    mailbox: Vec<hsx_exec::mailbox::PidCounters>,
}

impl InfoSnap {
    fn take(exec: &Executive) -> Self {
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

/// The §5.5 task record (VM summary plus the executive's additions).
fn task_json(t: &TaskInfo) -> Value {
    let mut v = vm_task_json(t);
    if let Value::Object(m) = &mut v {
        if t.state == TaskState::WaitMbx
            && let Some(w) = t.wait
        {
            m.insert("wait_mailbox".into(), json!(w.descriptor));
            m.insert("wait_handle".into(), json!(w.handle));
            m.insert("wait_timeout".into(), json!(w.timeout));
            m.insert("wait_deadline".into(), json!(w.deadline_ms));
        }
        if !t.breakpoints.is_empty() {
            m.insert("breakpoints".into(), json!(t.breakpoints));
        }
        // design.md §4 item 1: a faulted task shows what stopped it.
        if let Some(f) = t.fault {
            m.insert(
                "fault".into(),
                json!({"code": f.code, "name": f.name, "pc": f.pc}),
            );
        }
    }
    v
}

/// The VM's task summary (the first 20 fields of §5.5).
fn vm_task_json(t: &TaskInfo) -> Value {
    let md = t.image.metadata;
    json!({
        "pid": t.pid,
        "program": t.filepath,
        "state": t.state.wire_str(),
        "app_name": t.app_name,
        "app_name_base": t.app_name_base,
        "pc": t.pc,
        "priority": t.priority,
        "quantum": t.quantum,
        "accounted_steps": t.steps,
        "accounted_cycles": t.steps,
        "sleep_pending": t.sleep.is_some(),
        "sleep_pending_ms": t.sleep.map(|s| s.ms),
        "sleep_deadline": t.sleep.map(|s| s.deadline_ms),
        "exit_status": t.exit_status,
        "trace": t.trace,
        "metadata": {"sections": md.sections, "values": md.values,
                     "commands": md.commands, "mailboxes": md.mailboxes},
        "reg_base": t.reg_base,
        "stack_base": t.stack_base,
        "stack_limit": t.stack_limit,
        "stack_size": t.stack_size,
    })
}

/// The saved context of a task (`info.active_context`, `dumpregs.context`).
fn context_json(t: &TaskInfo) -> Value {
    let w = t.wait;
    json!({
        "pid": t.pid,
        "state": t.state.wire_str(),
        "pc": t.pc,
        "sp": t.sp,
        "psw": t.psw,
        "regs": t.regs,
        "reg_base": t.reg_base,
        "stack_base": t.stack_base,
        "stack_limit": t.stack_limit,
        "stack_size": t.stack_size,
        "priority": t.priority,
        "time_slice_steps": t.quantum,
        "accounted_steps": t.steps,
        "time_slice_cycles": t.quantum,
        "accounted_cycles": t.steps,
        "wait_kind": if w.is_some() { json!("mailbox") } else if t.sleep.is_some() { json!("sleep") } else { Value::Null },
        "wait_mailbox": w.map(|w| w.descriptor),
        "wait_deadline": w.and_then(|w| w.deadline_ms),
        "wait_handle": w.map(|w| w.handle),
        "exit_status": t.exit_status,
        "trace": t.trace,
    })
}

/// The `registers` object of `dumpregs`.
fn registers_json(t: &TaskInfo) -> Value {
    let mut v = json!({
        "pc": t.pc,
        "regs": t.regs,
        "sp": t.sp,
        "flags": t.psw,
        // hsxdbg's register cache reads `psw` (and `R0`..`R15`, added below).
        "psw": t.psw,
        "running": t.state == TaskState::Running || t.state == TaskState::Ready,
        "steps": t.steps,
        "cycles": t.steps,
        "context": context_json(t),
        "reg_base": t.reg_base,
        "stack_base": t.stack_base,
        "stack_limit": t.stack_limit,
        "stack_size": t.stack_size,
        // The reference adds `stack_base` to an SP that is already absolute; the SP is
        // the effective stack address here.
        "sp_effective": t.sp,
    });
    if let Value::Object(m) = &mut v {
        for (i, r) in t.regs.iter().enumerate() {
            m.insert(format!("R{i}"), json!(r));
        }
    }
    v
}

fn debug_break_data(b: &DebugBreak) -> Value {
    let mut d = json!({
        "pc": b.pc,
        "next_pc": b.next_pc,
        "phase": b.phase.as_str(),
        "reason": b.reason.as_str(),
    });
    if let (BreakReason::Brk { code }, Value::Object(m)) = (b.reason, &mut d) {
        m.insert("code".into(), json!(code));
    }
    d
}

fn mailbox_data(m: &MailboxEvent) -> Value {
    match m {
        MailboxEvent::Send {
            pid,
            descriptor,
            handle,
            length,
            flags,
            channel,
        } => json!({"descriptor": descriptor, "handle": handle, "length": length,
                    "flags": flags, "channel": channel, "src_pid": pid}),
        MailboxEvent::Recv {
            descriptor,
            handle,
            length,
            flags,
            channel,
            src_pid,
            ..
        } => json!({"descriptor": descriptor, "handle": handle, "length": length,
                    "flags": flags, "channel": channel, "src_pid": src_pid}),
        MailboxEvent::Wait {
            descriptor,
            handle,
            timeout,
            deadline_ms,
            ..
        } => json!({"descriptor": descriptor, "handle": handle, "timeout": timeout,
                    "deadline": deadline_ms}),
        MailboxEvent::Wake {
            descriptor,
            handle,
            status,
            length,
            flags,
            channel,
            src_pid,
            ..
        } => json!({"descriptor": descriptor, "handle": handle, "status": status,
                    "length": length, "flags": flags, "channel": channel, "src_pid": src_pid}),
        MailboxEvent::Timeout {
            descriptor, handle, ..
        } => json!({"descriptor": descriptor, "handle": handle,
                    "status": hsx_exec::status::mbx::TIMEOUT, "length": 0}),
        MailboxEvent::Overrun {
            pid,
            descriptor,
            dropped_seq,
            dropped_length,
            dropped_flags,
            channel,
            reason,
            queue_depth,
        } => json!({"pid": pid, "descriptor": descriptor, "dropped_seq": dropped_seq,
                    "dropped_length": dropped_length, "dropped_flags": dropped_flags,
                    "channel": channel, "reason": reason.as_str(), "queue_depth": queue_depth}),
        MailboxEvent::Backpressure {
            descriptor,
            policy,
            capacity,
            bytes_used,
            requested,
            tap,
            limit,
        } => {
            let mut d = json!({"descriptor": descriptor, "policy": policy.as_str(),
                               "capacity": capacity, "bytes_used": bytes_used,
                               "requested": requested});
            if let (Some((tap_pid, tap_handle)), Value::Object(m)) = (tap, &mut d) {
                m.insert("tap_pid".into(), json!(tap_pid));
                m.insert("tap_handle".into(), json!(tap_handle));
                m.insert("limit".into(), json!(limit));
            }
            d
        }
        MailboxEvent::Exhausted {
            reason,
            pid,
            limit,
            target,
        } => {
            let mut d = json!({"reason": reason.as_str(), "pid": pid});
            if let Value::Object(m) = &mut d {
                match reason {
                    ExhaustedReason::DescriptorPoolFull => {
                        m.insert("max_descriptors".into(), json!(limit));
                        m.insert("target".into(), json!(target));
                        // The reference names the refused descriptor by its parts.
                        let key = target
                            .as_deref()
                            .and_then(|t| TargetKey::parse(pid.unwrap_or(HOST_PID), t).ok());
                        if let Some(k) = key {
                            m.insert("namespace".into(), json!(k.namespace.code()));
                            m.insert("name".into(), json!(k.name));
                            m.insert("owner".into(), json!(k.owner));
                        }
                    }
                    ExhaustedReason::HandleLimit => {
                        m.insert("handle_limit".into(), json!(limit));
                        // Raised when the task already holds `limit` handles.
                        m.insert("handles".into(), json!(limit));
                    }
                }
            }
            d
        }
        MailboxEvent::Error { pid, fn_id, status } => {
            json!({"pid": pid, "fn": fn_id, "fn_name": mailbox_fn_name(*fn_id),
                    "status": status, "error": mailbox_status_name(*status)})
        }
    }
}

/// The SVC function name of a mailbox function number (module 5).
fn mailbox_fn_name(fn_id: u8) -> &'static str {
    use hsx_exec::mailbox::func;
    match fn_id {
        func::OPEN => "open",
        func::BIND => "bind",
        func::SEND => "send",
        func::RECV => "recv",
        func::PEEK => "peek",
        func::TAP => "tap",
        func::CLOSE => "close",
        _ => "unknown",
    }
}

/// The `HSX_MBX_STATUS_*` name of a mailbox status code, lower case.
fn mailbox_status_name(status: u16) -> &'static str {
    use hsx_exec::status::mbx;
    match status {
        mbx::OK => "ok",
        mbx::WOULDBLOCK => "would_block",
        mbx::INVALID_HANDLE => "invalid_handle",
        mbx::NO_DATA => "no_data",
        mbx::MSG_TOO_LARGE => "msg_too_large",
        mbx::NO_DESCRIPTOR => "no_descriptor",
        mbx::TIMEOUT => "timeout",
        mbx::INTERNAL_ERROR => "internal_error",
        _ => "unknown_status",
    }
}

/// `value_*`/`cmd_*` event data (protocol.md §4.5): the OID also split into group and
/// member id, values as f16 bits and as numbers.
fn value_event_data(v: &ValEvent) -> Value {
    let split = |oid: u16| (oid >> 8, oid & 0xFF);
    match v {
        ValEvent::ValueRegistered {
            pid,
            caller_pid,
            oid,
            flags,
            auth_level,
            desc_head,
        } => {
            let (g, id) = split(*oid);
            json!({"pid": pid, "owner_pid": pid, "caller_pid": caller_pid, "oid": oid,
                   "group_id": g, "value_id": id, "flags": flags, "auth_level": auth_level,
                   "desc_head": desc_head})
        }
        ValEvent::ValueChanged {
            pid,
            caller_pid,
            oid,
            old_f16,
            new_f16,
            flags,
            auth_level,
        } => {
            let (g, id) = split(*oid);
            json!({"pid": pid, "owner_pid": pid, "caller_pid": caller_pid, "oid": oid,
                   "group_id": g, "value_id": id, "old_f16": old_f16, "new_f16": new_f16,
                   "old_value": f16_to_f64(*old_f16), "new_value": f16_to_f64(*new_f16),
                   "flags": flags, "auth_level": auth_level})
        }
        ValEvent::CmdRegistered {
            pid,
            oid,
            flags,
            auth_level,
            desc_head,
        } => {
            let (g, id) = split(*oid);
            json!({"pid": pid, "owner_pid": pid, "caller_pid": pid, "oid": oid,
                   "group_id": g, "cmd_id": id, "flags": flags, "auth_level": auth_level,
                   "desc_head": desc_head})
        }
        ValEvent::CmdInvoked {
            caller_pid,
            owner_pid,
            oid,
            is_async,
        } => {
            let (g, id) = split(*oid);
            json!({"caller_pid": caller_pid, "owner_pid": owner_pid, "oid": oid,
                   "group_id": g, "cmd_id": id, "async": is_async})
        }
        ValEvent::CmdCompleted {
            caller_pid,
            owner_pid,
            oid,
            status,
            result,
        } => {
            let (g, id) = split(*oid);
            json!({"caller_pid": caller_pid, "owner_pid": owner_pid, "oid": oid,
                   "group_id": g, "cmd_id": id, "status": status, "result": result})
        }
    }
}

/// Protocol type name and `data` of an executive event.
fn event_data(kind: &EventKind) -> Value {
    match kind {
        EventKind::TaskState {
            prev_state,
            new_state,
            reason,
            details,
        } => {
            let mut det = Map::new();
            let d = details.as_ref();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    det.insert(k.into(), v);
                }
            };
            put("pc", d.pc.map(|x| json!(x)));
            put("phase", d.phase.map(|x| json!(x.as_str())));
            put("descriptor", d.descriptor.map(|x| json!(x)));
            put("handle", d.handle.map(|x| json!(x)));
            put("timeout", d.timeout.map(|x| json!(x)));
            put("deadline", d.deadline_ms.map(|x| json!(x)));
            put("status", d.status.map(|x| json!(x)));
            put("length", d.length.map(|x| json!(x)));
            put("flags", d.flags.map(|x| json!(x)));
            put("channel", d.channel.map(|x| json!(x)));
            put("src_pid", d.src_pid.map(|x| json!(x)));
            put("sleep_ms", d.sleep_ms.map(|x| json!(x)));
            put("exit_status", d.exit_status.map(|x| json!(x)));
            put(
                "fault",
                d.fault
                    .map(|f| json!({"code": f.code, "name": f.name, "pc": f.pc})),
            );
            let mut data = json!({
                "prev_state": state_str(*prev_state),
                "new_state": new_state.wire_str(),
                "reason": reason.as_str(),
            });
            if !det.is_empty()
                && let Value::Object(m) = &mut data
            {
                m.insert("details".into(), Value::Object(det));
            }
            data
        }
        EventKind::Scheduler(s) => json!({
            "state": "switch",
            "prev_pid": s.prev_pid,
            "next_pid": s.next_pid,
            "reason": s.reason.as_str(),
            "quantum_remaining": s.quantum_remaining,
            "prev_state": state_str(s.prev_state),
            "next_state": state_str(s.next_state),
            "post_state": state_str(s.post_state),
            "executed": s.executed,
        }),
        EventKind::TraceStep(r) => {
            let mut d = json!({
                "pc": r.pc,
                "next_pc": r.next_pc,
                "opcode": r.opcode,
                "flags": r.flags,
                "regs": r.regs,
                "steps": r.steps,
            });
            // Same names and same rule as the `hsx.trace/1` record of this instruction.
            let names = changed_reg_names(r.changed);
            if let Value::Object(m) = &mut d {
                if !names.is_empty() {
                    m.insert("changed_regs".into(), json!(names));
                }
                if let Some(a) = &r.mem_access {
                    m.insert("mem_access".into(), mem_access_json(a));
                }
            }
            d
        }
        EventKind::DebugBreak(b) => debug_break_data(b),
        EventKind::WatchUpdate(w) => json!({
            "watch_id": w.watch_id,
            "address": w.address,
            "expr": format!("0x{:04x}", w.address),
            "type": "address",
            "length": w.length,
            "old": hex(&w.old),
            "new": hex(&w.new),
        }),
        EventKind::Stdout(b) | EventKind::Stderr(b) => {
            json!({"text": String::from_utf8_lossy(b)})
        }
        EventKind::Fault(f) => json!({"code": f.code, "name": f.name, "pc": f.pc}),
        EventKind::CanTx { id, data } => json!({"id": id, "data": hex(data)}),
        EventKind::Mailbox(m) => mailbox_data(m),
        EventKind::Value(v) => value_event_data(v),
        EventKind::Warning(w) => match w {
            Warning::EventDropped { dropped, first_seq } => json!({
                "reason": w.as_str(), "drops": dropped, "dropped_seq": first_seq,
            }),
            Warning::Unsupported(what) => json!({"reason": w.as_str(), "feature": what}),
        },
    }
}

/// Drain the executive's queue onto the bus. Returns the published `debug_break` and
/// `watch_update` envelopes, which a `step` reply embeds. Output events also go to the
/// `listen` buffer, and lifecycle events to `dmesg`.
fn publish_events(shared: &Shared, exec: &mut Executive) -> Vec<Value> {
    let bus = &shared.bus;
    let evs = exec.drain_events();
    let local_updates = {
        let mut d = lock(&shared.dbg);
        if d.has_local_watches() {
            d.check_local_watches(exec)
        } else {
            Vec::new()
        }
    };
    if evs.is_empty() && local_updates.is_empty() {
        return Vec::new();
    }
    // The per-instruction and per-switch kinds are by far the most numerous; nobody can see
    // them without a subscriber, so they are not built then.
    let watched = bus.has_subscribers();
    let mut embedded = Vec::new();
    let mut task_ended = false;
    for ev in evs {
        let name = ev.kind.name();
        match &ev.kind {
            EventKind::Scheduler(sw) => record_switch(shared, ev.ts_ms, sw),
            EventKind::Mailbox(MailboxEvent::Recv {
                pid,
                descriptor,
                handle,
                length: 0,
                ..
            }) if is_stdio_drain(shared, exec, *pid, *descriptor, *handle) => continue,
            EventKind::TaskState {
                new_state, reason, ..
            } => note_stdio_handles(shared, exec, ev.pid, *new_state, *reason),
            _ => {}
        }
        if !watched && matches!(ev.kind, EventKind::TraceStep(_) | EventKind::Scheduler(_)) {
            continue;
        }
        let pid = match &ev.kind {
            EventKind::Scheduler(s) => s.next_pid,
            EventKind::Warning(_) => None,
            _ => ev.pid,
        };
        match (&ev.kind, pid) {
            (EventKind::Stdout(b), Some(p)) => lock(&shared.output).record(p, Stream::Out, b),
            (EventKind::Stderr(b), Some(p)) => lock(&shared.output).record(p, Stream::Err, b),
            (EventKind::TaskState { new_state, .. }, _) => task_ended |= !is_running(*new_state),
            _ => {}
        }
        let rec = bus.publish(Event::new(name, pid, debug_event_data(shared, &ev.kind)));
        if let Some((level, message, fields)) = log_entry(&ev.kind, pid, exec) {
            let c = lock(&shared.clock);
            let steps = c.auto_total_steps + c.manual_total_steps;
            drop(c);
            let mut fields = fields;
            if let Value::Object(m) = &mut fields {
                m.insert("clock_steps".into(), json!(steps));
            }
            lock(&shared.log).log(rec.ts, level, message, fields);
        }
        if matches!(
            ev.kind,
            EventKind::DebugBreak(_) | EventKind::WatchUpdate(_)
        ) {
            embedded.push(rec.to_value());
        }
    }
    for (pid, data) in local_updates {
        embedded.push(
            bus.publish(Event::new("watch_update", Some(pid), data))
                .to_value(),
        );
    }
    if task_ended {
        lock(&shared.output).prune(|p| task_can_write(exec, p));
    }
    embedded
}

/// Keeps a `sched` trace entry for a scheduler switch (`ts` in monotonic seconds, as the
/// reference's trace).
fn record_switch(shared: &Shared, ts_ms: u64, sw: &hsx_exec::event::SchedulerSwitch) {
    let entry = json!({
        "event": "rotate",
        "ts": ts_ms as f64 / 1000.0,
        "pid": sw.next_pid,
        "prev_pid": sw.prev_pid,
        "reason": sw.reason.as_str(),
        "executed": sw.executed,
    });
    let mut ring = lock(&shared.sched_trace);
    if ring.len() >= SCHED_TRACE_CAP {
        ring.pop_front();
    }
    ring.push_back(entry);
}

/// Remembers a new task's stdout/stderr handles, and forgets them once it is gone.
fn note_stdio_handles(
    shared: &Shared,
    exec: &Executive,
    pid: Option<u32>,
    new_state: TaskState,
    reason: StateReason,
) {
    let Some(pid) = pid else { return };
    let mut cache = lock(&shared.stdio_handles);
    if reason == StateReason::Loaded {
        if let Some(h) = exec.mailboxes().stdio_handles(pid) {
            cache.insert(pid, (h.stdout, h.stderr));
        }
    } else if matches!(new_state, TaskState::Terminated | TaskState::Killed) {
        cache.remove(&pid);
    }
}

/// Whether a zero-length `mailbox_recv` is the daemon emptying a stdout/stderr mailbox,
/// not a guest reading: the executive drains with the owner's own stdio handle right after
/// a write (its bytes already went out as a `stdout`/`stderr` event), and `listen` drains
/// as the host (PID 0). Both read with a zero-byte buffer, hence the length.
fn is_stdio_drain(
    shared: &Shared,
    exec: &Executive,
    pid: u32,
    descriptor: u32,
    handle: u32,
) -> bool {
    if pid == HOST_PID {
        return exec
            .mailboxes()
            .descriptor_info(descriptor)
            .is_some_and(|d| {
                d.namespace == hsx_exec::mailbox::Namespace::Svc
                    && matches!(d.name.as_str(), "stdio.out" | "stdio.err")
            });
    }
    let live = exec
        .mailboxes()
        .stdio_handles(pid)
        .map(|h| (h.stdout, h.stderr));
    let known = live.or_else(|| lock(&shared.stdio_handles).get(&pid).copied());
    known.is_some_and(|(out, err)| handle == out || handle == err)
}

/// Whether a task in state `s` can still run (and write output).
fn is_running(s: TaskState) -> bool {
    !matches!(
        s,
        TaskState::Returned | TaskState::Terminated | TaskState::Killed | TaskState::Faulted
    )
}

fn task_can_write(exec: &Executive, pid: u32) -> bool {
    exec.state(pid).is_ok_and(is_running)
}

/// The `dmesg` entry (level, message, fields) an executive event deserves, if any: task
/// lifecycle and state changes, faults, breakpoint hits, mailbox errors and lost events,
/// as the reference logs them. Per-instruction, scheduler and mailbox traffic is left out.
fn log_entry(
    kind: &EventKind,
    pid: Option<u32>,
    exec: &Executive,
) -> Option<(&'static str, &'static str, Value)> {
    let data = || event_data(kind);
    let with_pid = |mut v: Value| {
        if let Value::Object(m) = &mut v {
            m.insert("pid".into(), json!(pid));
        }
        v
    };
    match kind {
        EventKind::TaskState { reason, .. } => {
            // Waits, wakes, sleeps, rotations and debugger steps come by the thousand and
            // would push everything else out of the ring; breaks and faults have their own
            // entries (`breakpoint hit`, `vm error`).
            let (level, message) = match reason {
                StateReason::Loaded => ("info", "task loaded"),
                StateReason::Killed => ("info", "task killed"),
                StateReason::Returned => ("info", "task returned"),
                StateReason::UserPause | StateReason::Resume => ("info", "task state"),
                _ => return None,
            };
            let mut fields = with_pid(data());
            if let (StateReason::Loaded, Some(t), Value::Object(m)) =
                (reason, pid.and_then(|p| exec.task(p).ok()), &mut fields)
            {
                m.insert("program".into(), json!(t.filepath));
                m.insert("app_name".into(), json!(t.app_name));
            }
            Some((level, message, fields))
        }
        EventKind::Fault(f) => Some((
            "error",
            "vm error",
            json!({"pid": pid, "error": f.name, "code": f.code, "pc": f.pc}),
        )),
        EventKind::DebugBreak(_) => Some(("info", "breakpoint hit", with_pid(data()))),
        EventKind::Mailbox(m @ (MailboxEvent::Error { .. } | MailboxEvent::Exhausted { .. })) => {
            Some((
                "error",
                "mailbox error",
                json!({"pid": pid, "event": kind.name(), "detail": mailbox_data(m)}),
            ))
        }
        EventKind::Warning(_) => Some(("warn", "executive events dropped", data())),
        _ => None,
    }
}

fn set_stopped(c: &mut ClockStatus, mode: &'static str) {
    c.state = "stopped";
    c.running = false;
    c.mode = mode;
    c.throttled = false;
    c.throttle_reason = None;
}

fn run_mode(c: &ClockStatus) -> &'static str {
    if c.rate_hz > 0.0 { "rate" } else { "active" }
}

/// The auto clock: runs batches while the clock is started, sleeps otherwise.
/// Paces the auto clock at a fixed rate: ticks are owed by elapsed time since an anchor, so
/// timer granularity (a sleep of "1 ms" often takes longer) does not slow the clock down —
/// a late turn runs the ticks it missed.
struct Pace {
    anchor: Instant,
    rate: f64,
    ticks_done: u64,
}

impl Pace {
    /// Most ticks one turn may catch up; beyond that (e.g. after the tasks were blocked for
    /// a while) the schedule restarts instead of bursting.
    const MAX_CATCH_UP: u64 = 1000;

    /// Ticks owed now (restarting the schedule if the rate changed or it fell far behind).
    fn owed(pace: &mut Option<Pace>, rate: f64, now: Instant) -> u64 {
        let p = match pace {
            Some(p) if p.rate == rate => p,
            _ => pace.insert(Pace {
                anchor: now,
                rate,
                ticks_done: 0,
            }),
        };
        // `as u64` saturates for a huge `clock rate`; the `+ 1` must not overflow then.
        let due = ((now.duration_since(p.anchor).as_secs_f64() * rate) as u64).saturating_add(1);
        let owed = due.saturating_sub(p.ticks_done);
        if owed > Self::MAX_CATCH_UP {
            *p = Pace {
                anchor: now,
                rate,
                ticks_done: 0,
            };
            return 1;
        }
        owed
    }

    /// Time until the next tick is due.
    /// Capped at one second so that a very low rate still notices a rate change or stop.
    fn until_next(&self, now: Instant) -> Duration {
        let next = Duration::try_from_secs_f64(self.ticks_done as f64 / self.rate)
            .ok()
            .and_then(|d| self.anchor.checked_add(d));
        next.map_or(Duration::from_secs(1), |n| n.saturating_duration_since(now))
            .min(Duration::from_secs(1))
    }
}

async fn auto_loop(shared: Arc<Shared>) {
    let mut pace: Option<Pace> = None;
    loop {
        if shared.stopping.load(Ordering::Acquire) {
            return;
        }
        let (running, rate, step_size) = {
            let c = lock(&shared.clock);
            (c.running, c.rate_hz, c.step_size.max(1))
        };
        if !running {
            pace = None;
            // Woken by clock start or shutdown; the timeout guards against a missed wake.
            let _ = tokio::time::timeout(Duration::from_millis(200), shared.wake.notified()).await;
            continue;
        }
        let ticks = if rate > 0.0 {
            let owed = Pace::owed(&mut pace, rate, Instant::now());
            if owed == 0 {
                let wait = pace
                    .as_ref()
                    .map_or(MIN_WAIT, |p| p.until_next(Instant::now()));
                let _ = tokio::time::timeout(wait, shared.wake.notified()).await;
                continue;
            }
            owed
        } else {
            pace = None;
            1
        };
        let budget = if rate > 0.0 {
            step_size.saturating_mul(ticks)
        } else {
            let cap = if shared.bus.has_subscribers() {
                AUTO_BATCH_SUBSCRIBED
            } else {
                AUTO_BATCH_MAX
            };
            step_size.max(cap)
        };
        let (summary, now_ms, any_tasks) = {
            let mut exec = lock(&shared.exec);
            let s = exec.step(budget);
            publish_events(&shared, &mut exec);
            (s, exec.now_ms(), !exec.pids().is_empty())
        };
        let mut wait = Duration::ZERO;
        {
            let mut c = lock(&shared.clock);
            if !c.running {
                continue;
            }
            if summary.executed > 0 {
                c.auto_steps += 1;
                c.auto_total_steps += summary.executed;
            }
            let (mode, reason): (&'static str, Option<&'static str>) = match summary.stop {
                StopReason::DebugBreak(_) => {
                    set_stopped(&mut c, "stopped");
                    continue;
                }
                StopReason::AllDone if !any_tasks => {
                    set_stopped(&mut c, "idle");
                    continue;
                }
                StopReason::Budget => (run_mode(&c), None),
                StopReason::Blocked { next_deadline_ms } => {
                    wait = next_deadline_ms.map_or(IDLE_WAIT, |d| {
                        Duration::from_millis(d.saturating_sub(now_ms)).clamp(MIN_WAIT, IDLE_WAIT)
                    });
                    if next_deadline_ms.is_some() {
                        ("sleep", Some("sleep"))
                    } else {
                        ("wait_mbx", Some("wait_mbx"))
                    }
                }
                StopReason::Paused => {
                    wait = IDLE_WAIT;
                    ("paused", Some("paused"))
                }
                StopReason::AllDone | StopReason::NotRunnable => {
                    wait = IDLE_WAIT;
                    ("idle", Some("idle"))
                }
            };
            if let Some(p) = pace.as_mut() {
                p.ticks_done += ticks;
                wait = wait.max(p.until_next(Instant::now()));
            }
            c.mode = mode;
            c.throttle_reason = reason;
            c.throttled = matches!(reason, Some("sleep" | "throttled"));
            c.last_wait_s = wait.as_secs_f64();
        }
        if wait.is_zero() {
            tokio::task::yield_now().await;
        } else {
            let _ = tokio::time::timeout(wait, shared.wake.notified()).await;
        }
    }
}

fn to_reg(r: RegId) -> Option<Reg> {
    match r {
        RegId::Gpr(n) => Reg::from_index(n),
        RegId::Pc => Some(Reg::Pc),
        RegId::Sp => Some(Reg::Sp),
        RegId::Psw => Some(Reg::Psw),
    }
}

/// Largest `.hxe` file `load` reads: far above any valid image (code, rodata and bss are
/// 64 KiB each), and it keeps a client's `load /dev/zero` from exhausting memory.
const MAX_IMAGE_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The image bytes of a program, and for a `.mvasm` the assembler's symbol table.
fn read_program(path: &str) -> Result<(Vec<u8>, Option<SymFile>), BackendError> {
    let p = Path::new(path);
    let io_text = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("[Errno 2] No such file or directory: '{path}'")
        }
        _ => format!("{e}: '{path}'"),
    };
    if p.extension().is_some_and(|e| e == "mvasm") {
        let opts = hsx_asm::AsmOptions {
            emit_sym: true,
            ..hsx_asm::AsmOptions::default()
        };
        let out = hsx_asm::assemble_files(&[p.to_path_buf()], &opts)
            .map_err(|e| BackendError::failed(e.to_string()))?;
        Ok((out.hxe_bytes, out.sym))
    } else {
        let mut bytes = Vec::new();
        std::fs::File::open(p)
            .and_then(|f| f.take(MAX_IMAGE_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| BackendError::failed(io_text(e)))?;
        if bytes.len() as u64 > MAX_IMAGE_FILE_BYTES {
            return Err(BackendError::failed(format!(
                "image file too large (limit {MAX_IMAGE_FILE_BYTES} bytes): '{path}'"
            )));
        }
        Ok((bytes, None))
    }
}

/// The host's id for `listen`'s temporary mailbox handles (the reference opens them as
/// PID 0).
const HOST_PID: u32 = 0;

/// Empties the existing stdout/stderr mailboxes of `pid` (of every task when `None`) and
/// discards the messages: their bytes reached the output buffer as events when they were
/// sent. Reading them keeps the mailboxes from filling up, as `listen` always did.
fn drain_stdio(exec: &mut Executive, pid: Option<u32>) {
    let targets: Vec<String> = exec
        .mailbox_snapshot()
        .into_iter()
        .filter(|d| {
            matches!(d.name.as_str(), "stdio.out" | "stdio.err")
                && d.target.starts_with("svc:")
                && d.owner_pid.is_some_and(|o| pid.is_none_or(|p| p == o))
        })
        .map(|d| d.target)
        .collect();
    if targets.is_empty() {
        return;
    }
    exec.mailbox_op(|m| {
        for t in &targets {
            let Ok(h) = m.open(HOST_PID, t) else {
                continue;
            };
            while let Ok(Some(_)) = m.recv(HOST_PID, h, 0) {}
            let _ = m.close(HOST_PID, h);
        }
    });
}

fn stdio_stream(name: &str) -> Option<StdioStream> {
    match name {
        "in" => Some(StdioStream::In),
        "out" => Some(StdioStream::Out),
        "err" => Some(StdioStream::Err),
        _ => None,
    }
}

/// The reference's name of a stdio mode mask.
fn fanout_mode_name(mask: u16) -> &'static str {
    use hsx_exec::mailbox::mode;
    if mask & mode::TAP != 0 {
        "tap"
    } else if mask & mode::FANOUT == 0 {
        "off"
    } else if mask & mode::FANOUT_BLOCK != 0 {
        "fanout_block"
    } else {
        "fanout"
    }
}

/// `stdio_fanout`'s `config` object: `{scope, streams: [{stream, mode_mask, mode}],
/// default?, tasks?, pid?}`.
fn stdio_summary(
    exec: &Executive,
    scope: FanoutScope,
    streams: &[&'static str],
) -> Result<Value, String> {
    let modes = |pid: Option<u32>| -> Vec<Value> {
        streams
            .iter()
            .filter_map(|name| {
                let s = stdio_stream(name)?;
                let mask = pid.map_or_else(
                    || exec.mailboxes().default_stdio_mode(s),
                    |p| exec.mailboxes().stdio_mode(p, s),
                );
                Some(json!({"stream": name, "mode_mask": mask, "mode": fanout_mode_name(mask)}))
            })
            .collect()
    };
    Ok(match scope {
        FanoutScope::Default => json!({"scope": "default", "streams": modes(None)}),
        FanoutScope::Pid(pid) => {
            if !exec.has_task(pid) {
                return Err(format!("unknown pid {pid}"));
            }
            json!({"scope": "pid", "pid": pid, "streams": modes(Some(pid)),
                   "default": modes(None)})
        }
        FanoutScope::All => {
            let mut pids = exec.pids();
            pids.sort_unstable();
            let tasks: Vec<Value> = pids
                .into_iter()
                .map(|p| json!({"pid": p, "streams": modes(Some(p))}))
                .collect();
            json!({"scope": "all", "streams": [], "default": modes(None), "tasks": tasks})
        }
    })
}

fn list_filter(f: &RegistryFilter) -> ListFilter<'_> {
    ListFilter {
        owner: f.pid,
        group: f.group.and_then(|g| u8::try_from(g).ok()),
        oid: f.oid,
        name: f.name.as_deref(),
    }
}

fn pool_json(p: &PoolStats) -> Value {
    json!({
        "count": p.count,
        "capacity": p.capacity,
        "usage_pct": p.usage_pct(),
        "high_water": p.high_water,
        "high_water_pct": p.high_water_pct(),
        "warning": p.warning,
    })
}

fn strings_json(p: &PoolStats) -> Value {
    json!({
        "used_bytes": p.count,
        "total_bytes": p.capacity,
        "usage_pct": p.usage_pct(),
        "high_water_bytes": p.high_water,
        "high_water_pct": p.high_water_pct(),
        "warning": p.warning,
    })
}

/// The optional `name` and `group_name` keys of a `val.list`/`cmd.list` entry.
fn put_names(m: &mut Map<String, Value>, name: Option<&String>, group_name: Option<&String>) {
    if let Some(n) = name {
        m.insert("name".into(), json!(n));
    }
    if let Some(n) = group_name {
        m.insert("group_name".into(), json!(n));
    }
}

fn with_pid(mut v: Value, pid: Option<u32>) -> Value {
    if let (Some(pid), Value::Object(m)) = (pid, &mut v) {
        m.insert("pid".into(), json!(pid));
    }
    v
}

impl Backend for ExecBackend {
    fn info(&self, pid: Option<u32>) -> BackendResult {
        let (snap, selected) = {
            let exec = self.exec();
            (InfoSnap::take(&exec), pid.map(|p| exec.task(p)))
        };
        let mut info = self.info_json(snap, true);
        if let (Some(pid), Some(selected), Value::Object(m)) = (pid, selected, &mut info) {
            match selected {
                Ok(t) => {
                    m.insert("selected_pid".into(), json!(pid));
                    m.insert("selected_registers".into(), registers_json(&t));
                }
                Err(e) => {
                    m.insert("selected_error".into(), json!(exec_err(e).to_string()));
                }
            }
        }
        Ok(info)
    }

    fn attach(&self) -> BackendResult {
        Ok(self.info_object(&self.exec(), false))
    }

    fn detach(&self) -> BackendResult {
        self.stop_clock();
        Ok(self.info_object(&self.exec(), false))
    }

    fn load(&self, args: &LoadArgs) -> BackendResult {
        let (bytes, assembled_sym) = read_program(&args.path)?;
        let abs = std::fs::canonicalize(&args.path)
            .map_or_else(|_| args.path.clone(), |p| p.display().to_string());
        let mut exec = self.exec();
        let rep = exec.load(&bytes, LoadOptions::path(abs.clone()));
        self.publish_pending(&mut exec);
        let rep = rep.map_err(exec_err)?;
        // The `.sym` is read without the executive locked.
        drop(exec);
        let symbols = self.load_symbols(
            rep.pid,
            &abs,
            args.symbols.as_deref(),
            assembled_sym,
            rep.image.crc32,
        );
        let warnings = symbol_warnings(&symbols);
        let im = rep.image;
        let md = im.metadata;
        let creation: Vec<Value> = rep
            .mailbox_creation
            .iter()
            .map(|c| {
                json!({"target": c.target, "descriptor": c.descriptor, "capacity": c.capacity,
                       "mode_mask": c.mode_mask, "owner_pid": c.owner_pid})
            })
            .collect();
        let mut image = json!({
            "pid": rep.pid,
            "entry": im.entry,
            "code_len": im.code_len,
            "ro_len": im.ro_len,
            "bss": im.bss,
            "version": im.version,
            "flags": im.flags,
            "req_caps": im.req_caps,
            "app_name": rep.app_name,
            "app_name_base": rep.app_name_base,
            "allow_multiple_instances": im.allow_multiple_instances,
            "metadata": {"sections": [], "values": rep.value_oids,
                         "commands": rep.command_oids, "mailboxes": creation.clone()},
            "meta_count": md.values + md.commands + md.mailboxes,
            "manifest_present": im.manifest_present,
            "mailbox_creation": creation,
            "symbols": symbols,
        });
        if !warnings.is_empty()
            && let Value::Object(m) = &mut image
        {
            m.insert("warnings".into(), json!(warnings));
        }
        Ok(image)
    }

    fn reload(&self, pid: u32, verbose: bool) -> BackendResult {
        let program = {
            let exec = self.exec();
            exec.task(pid).map_err(exec_err)?.filepath.ok_or_else(|| {
                BackendError::failed(format!(
                    "task {pid} does not have an associated program path"
                ))
            })?
        };
        let was_running = lock(&self.shared.clock).running;
        let old_symbols = self.symbols_for_reload(pid, &program);
        self.kill(pid)?;
        let mut image = self.load(&LoadArgs {
            path: program.clone(),
            verbose,
            symbols: old_symbols.as_ref().and_then(|o| o.override_path.clone()),
        })?;
        self.keep_symbols_on_reload(&mut image, old_symbols);
        let new_pid = image["pid"].as_u64().and_then(|p| u32::try_from(p).ok());
        let task = new_pid
            .and_then(|p| self.exec().task(p).ok())
            .map_or(Value::Null, |t| task_json(&t));
        if was_running {
            self.clock_start()?;
        }
        Ok(json!({
            "old_pid": pid,
            "new_pid": new_pid,
            "program": program,
            "image": image,
            "task": task,
        }))
    }

    fn list_channels(&self, pid: u32) -> BackendResult {
        let exec = self.exec();
        if !exec.has_task(pid) {
            return Err(BackendError::UnknownPid(pid));
        }
        let channels: Vec<Value> = exec
            .mailbox_snapshot()
            .iter()
            .filter(|d| d.owner_pid == Some(pid))
            .map(|d| {
                json!({
                    "descriptor_id": d.descriptor_id,
                    "target": d.target,
                    "name": d.name,
                    "namespace": d.namespace.code(),
                    "mode_mask": d.mode_mask,
                    "capacity": d.capacity,
                    "bytes_used": d.bytes_used,
                    "queue_depth": d.queue_depth,
                    "subscriber_count": d.readers,
                })
            })
            .collect();
        Ok(json!({"pid": pid, "channels": channels}))
    }

    fn kill(&self, pid: u32) -> BackendResult {
        self.stop_clock();
        let mut exec = self.exec();
        let r = exec.kill(pid);
        self.publish_pending(&mut exec);
        r.map_err(exec_err)?;
        lock(&self.shared.dbg).forget_pid(pid);
        Ok(json!({"pid": pid, "state": "terminated"}))
    }

    fn ps(&self) -> BackendResult {
        // Snapshot under the executive lock; build the JSON after releasing it.
        let (mut tasks, current) = {
            let exec = self.exec();
            (exec.tasks(), exec.current_pid())
        };
        tasks.sort_by_key(|t| t.pid);
        let mut records: Vec<Value> = tasks.iter().map(task_json).collect();
        {
            let dbg = lock(&self.shared.dbg);
            for (t, v) in tasks.iter().zip(records.iter_mut()) {
                // §5.5: `symbols:{path,count}` only while a table is loaded.
                if let (Value::Object(m), Some(l)) = (v, dbg.symbols.get(t.pid)) {
                    m.insert(
                        "symbols".into(),
                        json!({"path": l.path.display().to_string(),
                               "count": l.table.symbols().len()}),
                    );
                }
            }
        }
        // Not `json!({"tasks": records})`: a `Value` interpolated into `json!` is deep-copied
        // through `serde_json::to_value`.
        let mut m = Map::new();
        m.insert("tasks".into(), Value::Array(records));
        m.insert("current_pid".into(), json!(current));
        Ok(Value::Object(m))
    }

    fn attach_log(&self, log: Dmesg) {
        *lock(&self.shared.log) = log;
    }

    /// The executive is in-process, so restarting "the VM" resets it in place: the clock
    /// stops, every task is killed (each gets its `task_state` → `terminated`), and the
    /// daemon's per-task state (symbols, watches, output, scheduler trace) goes with them.
    /// Clock settings, sessions, PID locks and the event sequence stay; PIDs keep counting.
    fn restart_vm(&self) -> BackendResult<()> {
        self.stop_clock();
        let mut exec = self.exec();
        let mut pids = exec.pids();
        pids.sort_unstable();
        for &pid in &pids {
            // A task that has just ended is still in the table; kill removes it either way.
            let _ = exec.kill(pid);
        }
        self.publish_pending(&mut exec);
        {
            let mut dbg = lock(&self.shared.dbg);
            for &pid in &pids {
                dbg.forget_pid(pid);
            }
        }
        *lock(&self.shared.output) = TaskOutput::new();
        lock(&self.shared.sched_trace).clear();
        lock(&self.shared.stdio_handles).clear();
        drop(exec);
        let ts = self.shared.bus.with_hub(|_, now| now);
        lock(&self.shared.log).log(ts, "info", "vm restarted", json!({"killed": pids}));
        self.shared.wake.notify_waiters();
        Ok(())
    }

    fn shutdown(&self) {
        self.stop_clock();
        self.shared.stopping.store(true, Ordering::Release);
        self.shared.wake.notify_waiters();
        let mut exec = self.exec();
        exec.flush_persistence();
        self.publish_pending(&mut exec);
    }

    fn pause(&self, pid: u32) -> BackendResult {
        let mut exec = self.exec();
        let r = exec.pause(pid);
        self.publish_pending(&mut exec);
        Ok(task_json(&r.map_err(exec_err)?))
    }

    fn resume(&self, pid: u32) -> BackendResult {
        let mut exec = self.exec();
        let r = exec.resume(pid);
        self.publish_pending(&mut exec);
        let t = r.map_err(exec_err)?;
        drop(exec);
        self.shared.wake.notify_waiters();
        Ok(task_json(&t))
    }

    fn step(&self, args: &StepArgs) -> BackendResult {
        let step_size = lock(&self.shared.clock).step_size.max(1);
        let mut exec = self.exec();
        let source_pid = args
            .source_only
            .then(|| {
                args.pid
                    .or_else(|| exec.current_pid())
                    .or_else(|| exec.next_pid())
            })
            .flatten();
        let (summary, events, extra) = if let Some(pid) = source_pid {
            self.source_step(&mut exec, pid, args.steps.unwrap_or(1))?
        } else {
            let n = args.steps.unwrap_or(step_size);
            // A manual step runs in one lock hold and its events are drained only after it,
            // so let the queue hold them (up to a bound) instead of dropping the oldest:
            // a long step of a chatty task would otherwise lose most of its output.
            let room = usize::try_from(n.saturating_mul(2))
                .unwrap_or(usize::MAX)
                .clamp(DEFAULT_EVENT_CAPACITY, MANUAL_STEP_EVENT_CAPACITY);
            exec.set_event_capacity(room);
            let summary = match args.pid {
                Some(pid) => exec.step_pid(pid, n),
                None => Ok(exec.step(n)),
            };
            let events = self.publish_pending(&mut exec);
            exec.set_event_capacity(DEFAULT_EVENT_CAPACITY);
            (summary.map_err(exec_err)?, events, Map::new())
        };
        let last = summary.last_pid.and_then(|p| exec.task(p).ok());
        let next_pid = exec.next_pid();
        drop(exec);
        {
            let mut c = lock(&self.shared.clock);
            c.manual_steps += 1;
            c.manual_total_steps += summary.executed;
        }
        let hit = summary.debug_break.is_some();
        if hit {
            self.stop_clock();
        }
        let running = !hit
            && last
                .as_ref()
                .is_some_and(|t| matches!(t.state, TaskState::Running | TaskState::Ready));
        let paused = hit || last.as_ref().is_some_and(|t| t.state == TaskState::Paused);
        let mut result = json!({
            "executed": summary.executed,
            "running": running,
            "pc": last.as_ref().map(|t| t.pc),
            "steps": last.as_ref().map(|t| t.steps),
            "cycles": last.as_ref().map(|t| t.steps),
            "sleep_pending": last.as_ref().is_some_and(|t| t.sleep.is_some()),
            "events": events,
            "paused": paused,
            "current_pid": summary.last_pid,
            "next_pid": next_pid,
            "debug_event": summary.debug_break.as_ref().map(debug_break_data),
        });
        if let Value::Object(m) = &mut result {
            m.extend(extra);
        }
        Ok(result)
    }

    fn clock_status(&self) -> BackendResult {
        Ok(self.clock_json())
    }

    fn clock_start(&self) -> BackendResult {
        // The snapshot is taken before the loop wakes: a breakpoint a few instructions in
        // may stop the clock again before this reply is written.
        let snapshot = {
            let mut c = lock(&self.shared.clock);
            if !c.running {
                c.state = "running";
                c.running = true;
                c.mode = run_mode(&c);
                c.throttled = false;
                c.throttle_reason = None;
            }
            c.to_json()
        };
        self.shared.wake.notify_waiters();
        Ok(snapshot)
    }

    fn clock_stop(&self) -> BackendResult {
        self.stop_clock();
        self.shared.wake.notify_waiters();
        Ok(self.clock_json())
    }

    fn clock_rate(&self, hz: f64) -> BackendResult {
        {
            let mut c = lock(&self.shared.clock);
            c.rate_hz = if hz.is_finite() && hz > 0.0 { hz } else { 0.0 };
            if c.running {
                c.mode = run_mode(&c);
            }
        }
        self.shared.wake.notify_waiters();
        Ok(self.clock_json())
    }

    fn sched_set(&self, pid: u32, priority: Option<u32>, quantum: Option<u32>) -> BackendResult {
        let mut exec = self.exec();
        let r = exec.sched(pid, quantum, priority);
        self.publish_pending(&mut exec);
        Ok(vm_task_json(&r.map_err(exec_err)?))
    }

    fn sched_stats(&self, limit: Option<usize>) -> BackendResult {
        let exec = self.exec();
        let mut counters = Map::new();
        for t in exec.tasks() {
            counters.insert(
                t.pid.to_string(),
                json!({"step": t.counters.step, "rotate": t.counters.rotate}),
            );
        }
        drop(exec);
        Ok(json!({"counters": counters, "trace": self.sched_trace(limit)}))
    }

    fn dumpregs(&self, pid: u32) -> BackendResult {
        let t = self.exec().task(pid).map_err(exec_err)?;
        Ok(registers_json(&t))
    }

    fn peek(&self, pid: u32, addr: u32, length: u32) -> BackendResult<Vec<u8>> {
        let len = usize::try_from(length).unwrap_or(usize::MAX);
        self.exec().read_mem(pid, addr, len).map_err(exec_err)
    }

    fn poke(&self, pid: u32, addr: u32, data: &[u8]) -> BackendResult<()> {
        let mut exec = self.exec();
        let r = exec.write_mem(pid, addr, data);
        self.publish_pending(&mut exec);
        r.map(|_| ()).map_err(exec_err)
    }

    fn reg_get(&self, pid: Option<u32>, reg: RegId) -> BackendResult<RegValue> {
        let exec = self.exec();
        let pid = pid
            .or_else(|| exec.current_pid())
            .ok_or_else(|| BackendError::failed("no current task"))?;
        let r = to_reg(reg).ok_or_else(|| BackendError::failed("invalid register"))?;
        let value = exec.reg_get(pid, r).map_err(exec_err)?;
        Ok(RegValue { pid, value })
    }

    fn reg_set(&self, pid: Option<u32>, reg: RegId, value: u32) -> BackendResult<RegValue> {
        let mut exec = self.exec();
        let pid = pid
            .or_else(|| exec.current_pid())
            .ok_or_else(|| BackendError::failed("no current task"))?;
        let r = to_reg(reg).ok_or_else(|| BackendError::failed("invalid register"))?;
        exec.reg_set(pid, r, value).map_err(exec_err)?;
        let value = exec.reg_get(pid, r).map_err(exec_err)?;
        Ok(RegValue { pid, value })
    }

    fn current_pid(&self) -> Option<u32> {
        self.exec().current_pid()
    }

    fn breakpoints(&self, pid: u32, op: BpOp) -> BackendResult<Vec<u32>> {
        let mut exec = self.exec();
        let r = match op {
            BpOp::List => exec.bp_list(pid),
            BpOp::Set(a) => exec.bp_add(pid, a),
            BpOp::Clear(a) => exec.bp_remove(pid, a),
            BpOp::ClearAll => exec.bp_clear(pid).and_then(|()| exec.bp_list(pid)),
        };
        self.publish_pending(&mut exec);
        r.map_err(exec_err)
    }

    fn stack(&self, pid: u32, max_frames: u32) -> BackendResult {
        let exec = self.exec();
        lock(&self.shared.dbg).stack(&exec, pid, max_frames)
    }

    fn disasm(&self, args: &DisasmArgs) -> BackendResult {
        let exec = self.exec();
        lock(&self.shared.dbg).disasm(&exec, args)
    }

    fn memory_regions(&self, pid: u32) -> BackendResult {
        let exec = self.exec();
        lock(&self.shared.dbg).memory(&exec, pid)
    }

    fn watch(&self, pid: u32, op: &WatchOp) -> BackendResult {
        let mut exec = self.exec();
        let r = lock(&self.shared.dbg).watch(&mut exec, pid, op);
        self.publish_pending(&mut exec);
        r
    }

    fn symbols(&self, args: &SymbolsArgs) -> BackendResult {
        let exec = self.exec();
        lock(&self.shared.dbg).symbols_list(&exec, args)
    }

    fn sym(&self, pid: u32, op: &SymOp) -> BackendResult {
        let SymOp::Load { path } = op else {
            // As `symbols`, `stack` and the rest: a PID that names no task is an error.
            let exec = self.exec();
            if !exec.has_task(pid) {
                return Err(BackendError::UnknownPid(pid));
            }
            return Ok(lock(&self.shared.dbg).sym(pid, op));
        };
        let program = self.exec().task(pid).map_err(exec_err)?.filepath;
        let resolved = SymbolStore::resolve_path(program.as_deref().map(Path::new), path);
        let prepared = SymbolStore::prepare(&resolved);
        // The task may have gone while the file was read.
        let exec = self.exec();
        let crc = exec.task(pid).map_err(exec_err)?.image.crc32;
        Ok(lock(&self.shared.dbg).install_symbols(pid, prepared, Some(crc)))
    }

    fn trace(&self, op: &TraceOp) -> BackendResult {
        let mut exec = self.exec();
        let r = lock(&self.shared.dbg).trace(&mut exec, op);
        self.publish_pending(&mut exec);
        r
    }

    /// Serves the daemon's per-task output buffer ([`TaskOutput`]), which keeps what a
    /// task wrote (stdio mailboxes and UART) after the task has ended and its mailboxes are
    /// gone. Each message is one write (`limit` per task, cut at `max_len` with the rest
    /// left for the next call); stderr comes with target `svc:stdio.err@N`. The bytes come
    /// from events, so `flags`/`channel` are 0 and `src_pid` is the task. A PID with
    /// nothing to read (or no task at all) gets no messages, as in the reference.
    fn listen(&self, args: &ListenArgs) -> BackendResult {
        let mut exec = self.exec();
        drain_stdio(&mut exec, args.pid);
        self.publish_pending(&mut exec);
        let limit = usize::try_from(args.limit).unwrap_or(usize::MAX);
        let max_len = usize::try_from(args.max_len).unwrap_or(usize::MAX);
        let chunks: Vec<_> = {
            let mut out = lock(&self.shared.output);
            let pids = args.pid.map_or_else(|| out.pids(), |p| vec![p]);
            let chunks = pids
                .into_iter()
                .flat_map(|p| out.take(p, limit, max_len))
                .collect();
            out.prune(|p| task_can_write(&exec, p));
            chunks
        };
        // Up to `limit` x `max_len` bytes of text and hex: built with no lock held.
        drop(exec);
        let msgs = chunks
            .iter()
            .map(|c| {
                json!({
                    "target": c.stream.target(c.pid),
                    "pid": c.pid,
                    "stream": c.stream.name(),
                    "text": String::from_utf8_lossy(&c.data),
                    "data_hex": hex(&c.data),
                    "flags": 0,
                    "channel": 0,
                    "length": c.data.len(),
                    "src_pid": c.pid,
                })
            })
            .collect();
        Ok(Value::Array(msgs))
    }

    fn send(&self, args: &SendArgs) -> BackendResult<Obj> {
        let mut exec = self.exec();
        let target = args
            .channel
            .clone()
            .unwrap_or_else(|| format!("svc:stdio.in@{}", args.pid));
        let r = match &args.channel {
            None => exec.send_stdin(args.pid, &args.data),
            Some(t) => exec
                .mailbox_send(0, t, &args.data, 0, 0)
                .map_err(ExecError::from),
        };
        self.publish_pending(&mut exec);
        let rep = r.map_err(exec_err)?;
        let mut m = Obj::new();
        m.insert("mbx_status".into(), json!(0));
        m.insert("length".into(), json!(rep.bytes));
        m.insert("descriptor".into(), json!(rep.descriptor));
        m.insert("target".into(), json!(target));
        Ok(m)
    }

    /// protocol.md §2.6: query (no `mode`) or set the stdio mailbox modes of one task, of
    /// every task (which also sets the template) or of the template for new tasks.
    fn stdio_fanout(&self, args: &FanoutArgs) -> BackendResult {
        let mut exec = self.exec();
        let Some((mode, spelled)) = &args.mode else {
            let streams = args
                .streams
                .clone()
                .unwrap_or_else(|| vec!["in", "out", "err"]);
            return stdio_summary(&exec, args.scope, &streams)
                .map_err(|e| BackendError::failed(format!("stdio query failed: {e}")));
        };
        let streams = args.streams.clone().unwrap_or_else(|| vec!["out"]);
        let mask = u16::try_from(mode.mode_mask()).unwrap_or(u16::MAX);
        let mut applied = Vec::new();
        match args.scope {
            FanoutScope::Pid(pid) => {
                if !exec.has_task(pid) {
                    return Err(BackendError::failed(format!(
                        "stdio configure failed: unknown pid {pid}"
                    )));
                }
                for name in &streams {
                    let target = format!("svc:stdio.{name}@{pid}");
                    let r = exec.mailbox_op(|m| m.bind(HOST_PID, &target, 0, mask));
                    let id = r.map_err(|e| {
                        BackendError::failed(format!("stdio configure failed: {e}"))
                    })?;
                    applied.push(json!({"stream": name, "target": target, "status": "ok",
                                        "mbx_status": 0, "descriptor": id}));
                }
            }
            // As in the reference, setting the template also rebinds every existing task.
            FanoutScope::All | FanoutScope::Default => {
                for name in &streams {
                    let Some(stream) = stdio_stream(name) else {
                        continue;
                    };
                    let ids = exec.mailbox_op(|m| m.set_default_stdio_mode(stream, mask, true));
                    applied.push(json!({"stream": name, "status": "ok", "mbx_status": 0,
                                        "mode": mask, "updated_descriptors": ids}));
                }
            }
        }
        self.publish_pending(&mut exec);
        let scope = match args.scope {
            FanoutScope::Pid(p) => FanoutScope::Pid(p),
            FanoutScope::All | FanoutScope::Default => FanoutScope::All,
        };
        let mut config = stdio_summary(&exec, scope, &streams)
            .map_err(|e| BackendError::failed(format!("stdio query failed: {e}")))?;
        if let Value::Object(m) = &mut config {
            m.insert("mode".into(), json!(spelled));
            m.insert("mode_mask".into(), json!(mask));
            m.insert("applied".into(), Value::Array(applied));
        }
        Ok(config)
    }

    fn mailbox_snapshot(&self) -> BackendResult<Obj> {
        let exec = self.exec();
        let descriptors: Vec<Value> = exec
            .mailbox_snapshot()
            .iter()
            .map(|d| {
                json!({
                    "descriptor_id": d.descriptor_id,
                    "namespace": d.namespace.code(),
                    "name": d.name,
                    "owner_pid": d.owner_pid,
                    "target": d.target,
                    "capacity": d.capacity,
                    "bytes_used": d.bytes_used,
                    "queue_depth": d.queue_depth,
                    "head_seq": d.head_seq,
                    "next_seq": d.next_seq,
                    "mode_mask": d.mode_mask,
                    "waiters": d.waiters,
                    "taps": d.taps.iter().map(|t| json!({"pid": t.pid, "handle": t.handle, "depth": t.depth})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let st = exec.mailbox_stats();
        let per_pid: Map<String, Value> = st
            .handles_per_pid
            .iter()
            .map(|(p, n)| (p.to_string(), json!(n)))
            .collect();
        let mut m = Obj::new();
        m.insert("descriptors".into(), Value::Array(descriptors));
        m.insert(
            "stats".into(),
            json!({
                "max_descriptors": st.max_descriptors,
                "active_descriptors": st.active_descriptors,
                "free_descriptors": st.free_descriptors,
                "total_capacity": st.total_capacity,
                "bytes_used": st.bytes_used,
                "bytes_available": st.bytes_available,
                "queue_depth": st.queue_depth,
                "handles_total": st.handles_total,
                "handles_per_pid": per_pid,
                "handle_limit_per_pid": st.handle_limit_per_pid,
                "tap_rate_limit": st.tap_rate_limit,
                "descriptor_pool_exhausted": st.descriptor_pool_exhausted,
                "tap_count": st.tap_count,
            }),
        );
        Ok(m)
    }

    fn val_list(&self, filter: &RegistryFilter) -> BackendResult {
        let exec = self.exec();
        let list = exec.val_list(&list_filter(filter));
        Ok(Value::Array(
            list.iter()
                .map(|v| {
                    let mut o = json!({
                        "oid": v.oid,
                        "group_id": v.group_id,
                        "value_id": v.value_id,
                        "flags": v.flags,
                        "auth_level": v.auth_level,
                        "owner_pid": v.owner_pid,
                        "last_f16": v.last_f16,
                        "last_value": v.last_value(),
                        "desc_head": v.desc_head,
                        "persist_key": v.persist_key,
                        "persist_debounce_ms": v.persist_debounce_ms,
                    });
                    if let Value::Object(m) = &mut o {
                        put_names(m, v.name.as_ref(), v.group_name.as_ref());
                        if let Some(u) = v.unit() {
                            m.insert("unit".into(), json!(u));
                        }
                        if let Some(u) = v.unit_code {
                            m.insert("unit_code".into(), json!(u));
                        }
                        if let Some(e) = v.epsilon_f16 {
                            m.insert("epsilon_f16".into(), json!(e));
                            m.insert("epsilon".into(), json!(f16_to_f64(e)));
                        }
                        if let Some(r) = v.rate_ms {
                            m.insert("rate_ms".into(), json!(r));
                        }
                        if let Some((lo, hi)) = v.range {
                            m.insert("min_f16".into(), json!(lo));
                            m.insert("max_f16".into(), json!(hi));
                            m.insert("min".into(), json!(f16_to_f64(lo)));
                            m.insert("max".into(), json!(f16_to_f64(hi)));
                        }
                    }
                    o
                })
                .collect(),
        ))
    }

    fn val_get(&self, oid: u16, pid: Option<u32>) -> BackendResult {
        let exec = self.exec();
        let v = match exec.val_get(oid, pid) {
            Ok(bits) => json!({"status": 0, "value": f16_to_f64(bits), "f16": bits}),
            Err(e) => json!({"status": e.code()}),
        };
        Ok(with_pid(v, pid))
    }

    fn val_set(&self, oid: u16, value: f64, pid: Option<u32>) -> BackendResult {
        let mut exec = self.exec();
        let r = exec.val_set(oid, pid, value);
        self.publish_pending(&mut exec);
        let v = match r {
            Ok(res) => json!({"status": 0, "value": f16_to_f64(res.bits), "f16": res.bits}),
            Err(e) => json!({"status": e.code()}),
        };
        Ok(with_pid(v, pid))
    }

    fn val_stats(&self) -> BackendResult {
        let st = self.exec().registry_stats();
        Ok(json!({"values": pool_json(&st.values), "strings": strings_json(&st.strings)}))
    }

    fn cmd_list(&self, filter: &RegistryFilter) -> BackendResult {
        let exec = self.exec();
        let list = exec.cmd_list(&list_filter(filter));
        Ok(Value::Array(
            list.iter()
                .map(|c| {
                    let mut o = json!({
                        "oid": c.oid,
                        "group_id": c.group_id,
                        "cmd_id": c.cmd_id,
                        "flags": c.flags,
                        "auth_level": c.auth_level,
                        "owner_pid": c.owner_pid,
                        "handler_ref": c.handler_addr,
                        "desc_head": c.desc_head,
                    });
                    if let Value::Object(m) = &mut o {
                        put_names(m, c.name.as_ref(), c.group_name.as_ref());
                        if let Some(h) = &c.help {
                            m.insert("help".into(), json!(h));
                        }
                    }
                    o
                })
                .collect(),
        ))
    }

    fn cmd_call(&self, oid: u16, pid: Option<u32>, async_call: bool) -> BackendResult {
        let mut exec = self.exec();
        let r = exec.cmd_call(oid, pid, async_call);
        self.publish_pending(&mut exec);
        let v = match r {
            Ok(result) => json!({"status": 0, "result": result}),
            Err(e) => json!({"status": e.code(), "result": null}),
        };
        Ok(with_pid(v, pid))
    }

    fn cmd_stats(&self) -> BackendResult {
        let st = self.exec().registry_stats();
        Ok(json!({"commands": pool_json(&st.commands), "strings": strings_json(&st.strings)}))
    }
}

/// `event_data`, with executive watch updates in the daemon's watch terms (id, expression,
/// symbol) and `changed_regs` as `trace config` set it.
fn debug_event_data(shared: &Shared, kind: &EventKind) -> Value {
    let mut data = event_data(kind);
    match kind {
        EventKind::WatchUpdate(w) => {
            if let Some(d) = lock(&shared.dbg).watch_update_data(w) {
                data = d;
            }
        }
        EventKind::TraceStep(_) => {
            if !lock(&shared.dbg).changed_regs()
                && let Value::Object(m) = &mut data
            {
                m.remove("changed_regs");
            }
        }
        _ => {}
    }
    data
}

/// A task's symbols as `reload` carries them over.
struct ReloadSymbols {
    /// A `.sym` path other than the program's default, to load again.
    override_path: Option<String>,
    /// The table, kept when loading again fails.
    loaded: Arc<LoadedSymbols>,
}

/// Most instructions one source-level `step` may run (all lines together), so a line
/// that loops forever cannot hold the executive.
const SOURCE_STEP_MAX: u64 = 10_000;

/// A source position as `step` reports it.
fn source_pos_json(pos: Option<&(Option<String>, u32)>) -> Value {
    pos.map_or(
        Value::Null,
        |(file, line)| json!({"file": file, "line": line}),
    )
}

impl ExecBackend {
    /// `step` with `source_only`: runs task `pid` one instruction at a time until its PC
    /// maps to another source line than where it started (`line_for_pc`), `lines` times.
    /// It also stops at a debug break, on arriving at a breakpoint address, when the task
    /// can no longer run, or after [`SOURCE_STEP_MAX`] instructions. Without a line table
    /// it steps `lines` instructions and says so in `warnings`. The extra `source` key
    /// tells where it started and ended and why it stopped.
    fn source_step(
        &self,
        exec: &mut Executive,
        pid: u32,
        lines: u64,
    ) -> BackendResult<(hsx_exec::StepSummary, Vec<Value>, Map<String, Value>)> {
        let syms = lock(&self.shared.dbg).symbols.get(pid).cloned();
        let line_at = |pc: u32| {
            syms.as_ref()?
                .table
                .line_for_pc(pc)
                .map(|l| (l.file.map(str::to_string), l.line))
        };
        let mut extra = Map::new();
        // `line_for_pc` takes the last entry at or below the PC: none at the top means
        // the table has no lines at all.
        if line_at(u32::MAX).is_none() {
            let r = exec.step_pid(pid, lines.clamp(1, SOURCE_STEP_MAX));
            let events = self.publish_pending(exec);
            let s = r.map_err(exec_err)?;
            extra.insert(
                "warnings".into(),
                json!([format!(
                    "source_step_unavailable:no line table for pid {pid}; stepped by instruction"
                )]),
            );
            return Ok((s, events, extra));
        }
        let breakpoints = exec.bp_list(pid).map_err(exec_err)?;
        let pc_of = |exec: &Executive| exec.reg_get(pid, Reg::Pc).map_err(exec_err);
        let from = line_at(pc_of(exec)?);
        let mut events = Vec::new();
        let mut executed = 0u64;
        let mut last: Option<hsx_exec::StepSummary> = None;
        let mut done = 0u64;
        let mut stop = "line";
        let mut first = true;
        'lines: while done < lines {
            let start = line_at(pc_of(exec)?);
            loop {
                if executed >= SOURCE_STEP_MAX {
                    stop = "limit";
                    break 'lines;
                }
                // The first instruction steps over a breakpoint under the PC; arriving at
                // one later ends the step there, as a debugger expects.
                if !first && breakpoints.contains(&pc_of(exec)?) {
                    stop = "breakpoint";
                    break 'lines;
                }
                first = false;
                let r = exec.step_pid(pid, 1);
                events.extend(self.publish_pending(exec));
                let s = r.map_err(exec_err)?;
                executed += s.executed;
                last = Some(s);
                if s.debug_break.is_some() {
                    stop = "debug_break";
                    break 'lines;
                }
                let steppable = exec.state(pid).is_ok_and(|st| {
                    matches!(
                        st,
                        TaskState::Running | TaskState::Ready | TaskState::Paused
                    )
                });
                if s.executed == 0 || !steppable {
                    stop = "not_running";
                    break 'lines;
                }
                if line_at(pc_of(exec)?) != start {
                    break;
                }
            }
            done += 1;
        }
        let to = exec.reg_get(pid, Reg::Pc).ok().and_then(&line_at);
        extra.insert(
            "source".into(),
            json!({"from": source_pos_json(from.as_ref()), "to": source_pos_json(to.as_ref()),
                   "lines": done, "stop": stop}),
        );
        let summary = hsx_exec::StepSummary {
            executed,
            last_pid: Some(pid),
            next_pid: exec.next_pid(),
            stop: last.map_or(StopReason::Budget, |s| s.stop),
            debug_break: last.and_then(|s| s.debug_break),
        };
        Ok((summary, events, extra))
    }

    /// Installs the symbols of a freshly loaded task (see [`prepare_load_symbols`]) and
    /// answers the §2.1.1 `symbols` status.
    fn load_symbols(
        &self,
        pid: u32,
        program: &str,
        override_path: Option<&str>,
        assembled: Option<SymFile>,
        image_crc: u32,
    ) -> Value {
        let prepared = prepare_load_symbols(Path::new(program), override_path, assembled);
        let exec = self.exec();
        if !exec.has_task(pid) {
            return json!({"pid": pid, "loaded": false});
        }
        lock(&self.shared.dbg).install_symbols(pid, prepared, Some(image_crc))
    }

    fn symbols_for_reload(&self, pid: u32, program: &str) -> Option<ReloadSymbols> {
        let loaded = lock(&self.shared.dbg).symbols.get(pid).cloned()?;
        let program = Path::new(program);
        let default = loaded.path == SymbolStore::sym_path_for(program) || loaded.path == program;
        Some(ReloadSymbols {
            override_path: (!default).then(|| loaded.path.display().to_string()),
            loaded,
        })
    }

    /// After `reload`: when the new task found no symbols but the old one had some, the
    /// old table is installed for the new task.
    fn keep_symbols_on_reload(&self, image: &mut Value, old: Option<ReloadSymbols>) {
        let Some(old) = old else { return };
        if image["symbols"]["loaded"] == json!(true) {
            return;
        }
        let Some(pid) = image["pid"].as_u64().and_then(|p| u32::try_from(p).ok()) else {
            return;
        };
        let exec = self.exec();
        let Ok(t) = exec.task(pid) else { return };
        let prepared =
            PreparedSymbols::Ready(old.loaded.path.clone(), Box::new(old.loaded.table.clone()));
        let status = lock(&self.shared.dbg).install_symbols(pid, prepared, Some(t.image.crc32));
        if let Value::Object(m) = image {
            m.insert("symbols".into(), status);
            m.remove("warnings");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hsx_exec::StateReason;
    use hsx_exec::event::StateDetails;

    #[test]
    fn pace_owes_ticks_by_elapsed_time_and_catches_up_late_turns() {
        let t0 = Instant::now();
        let mut pace = None;
        // The first tick is due at once.
        assert_eq!(Pace::owed(&mut pace, 1000.0, t0), 1);
        if let Some(p) = pace.as_mut() {
            p.ticks_done += 1;
        }
        // 10 ms later at 1 kHz, ten more ticks are due (a "1 ms" sleep that took 10 ms).
        assert_eq!(
            Pace::owed(&mut pace, 1000.0, t0 + Duration::from_millis(10)),
            10
        );
        if let Some(p) = pace.as_mut() {
            p.ticks_done += 10;
        }
        assert_eq!(
            Pace::owed(&mut pace, 1000.0, t0 + Duration::from_millis(10)),
            0
        );
        let wait = pace
            .as_ref()
            .map(|p| p.until_next(t0 + Duration::from_millis(10)))
            .unwrap_or_default();
        assert!(wait <= Duration::from_millis(1), "{wait:?}");
        // Far behind: restart instead of bursting.
        assert_eq!(
            Pace::owed(&mut pace, 1000.0, t0 + Duration::from_secs(60)),
            1
        );
        // A new rate restarts the schedule.
        assert_eq!(Pace::owed(&mut pace, 5.0, t0 + Duration::from_secs(61)), 1);
        // A tiny rate never panics and waits at most a second.
        let mut slow = None;
        assert_eq!(Pace::owed(&mut slow, 1e-300, t0), 1);
        if let Some(p) = slow.as_mut() {
            p.ticks_done += 1;
        }
        let w = slow.as_ref().map(|p| p.until_next(t0)).unwrap_or_default();
        assert_eq!(w, Duration::from_secs(1));
        // A huge rate (any finite `clock rate` is accepted) never overflows either.
        let mut fast = None;
        assert_eq!(Pace::owed(&mut fast, f64::MAX, t0), 1);
        assert_eq!(
            Pace::owed(&mut fast, f64::MAX, t0 + Duration::from_secs(1)),
            1
        );
    }

    #[test]
    fn task_state_event_uses_wire_names() {
        let kind = EventKind::TaskState {
            prev_state: None,
            new_state: TaskState::Killed,
            reason: StateReason::Killed,
            details: Box::new(StateDetails {
                pc: Some(8),
                ..StateDetails::default()
            }),
        };
        assert_eq!(kind.name(), "task_state");
        assert_eq!(
            event_data(&kind),
            json!({"prev_state": null, "new_state": "terminated", "reason": "killed",
                   "details": {"pc": 8}})
        );
        assert_eq!(
            event_data(&EventKind::Stdout(b"hi\n".to_vec())),
            json!({"text": "hi\n"})
        );
        assert_eq!(hex(&[0xde, 0xad, 0x01]), "dead01");
    }

    #[test]
    fn rare_mailbox_events_map_to_fields() {
        use hsx_exec::mailbox::{BackpressurePolicy, OverrunReason};
        let overrun = MailboxEvent::Overrun {
            pid: 2,
            descriptor: 7,
            dropped_seq: 11,
            dropped_length: 5,
            dropped_flags: 1,
            channel: 3,
            reason: OverrunReason::FanoutDrop,
            queue_depth: 4,
        };
        assert_eq!(
            mailbox_data(&overrun),
            json!({"pid": 2, "descriptor": 7, "dropped_seq": 11, "dropped_length": 5,
                   "dropped_flags": 1, "channel": 3, "reason": "fanout_drop", "queue_depth": 4})
        );
        let tap = MailboxEvent::Backpressure {
            descriptor: 7,
            policy: BackpressurePolicy::TapRateLimit,
            capacity: 64,
            bytes_used: 10,
            requested: 0,
            tap: Some((3, 9)),
            limit: 5,
        };
        assert_eq!(
            mailbox_data(&tap),
            json!({"descriptor": 7, "policy": "tap_rate_limit", "capacity": 64,
                   "bytes_used": 10, "requested": 0, "tap_pid": 3, "tap_handle": 9, "limit": 5})
        );
        let pool = MailboxEvent::Exhausted {
            reason: ExhaustedReason::DescriptorPoolFull,
            pid: None,
            limit: 256,
            target: Some("app:demo@4".into()),
        };
        assert_eq!(
            mailbox_data(&pool),
            json!({"reason": "descriptor_pool_full", "pid": null, "max_descriptors": 256,
                   "target": "app:demo@4", "namespace": 2, "name": "demo", "owner": 4})
        );
        let done = EventKind::Value(ValEvent::CmdCompleted {
            caller_pid: 0,
            owner_pid: 2,
            oid: 0x0203,
            status: 0,
            result: Some(9),
        });
        assert_eq!(
            event_data(&done),
            json!({"caller_pid": 0, "owner_pid": 2, "oid": 0x0203, "group_id": 2,
                   "cmd_id": 3, "status": 0, "result": 9})
        );
    }

    #[test]
    fn clock_start_stop_and_rate_without_a_runtime_loop() {
        let time: Arc<dyn crate::TimeSource> = Arc::new(crate::SystemTimeSource::new());
        let b = ExecBackend::new(EventBus::new(time));
        assert_eq!(b.clock_rate(5.0).unwrap_or_default()["rate_hz"], json!(5.0));
        let c = b.clock_start().unwrap_or_default();
        assert_eq!(
            (c["state"].clone(), c["mode"].clone()),
            (json!("running"), json!("rate"))
        );
        assert_eq!(
            b.clock_stop().unwrap_or_default()["state"],
            json!("stopped")
        );
        assert_eq!(b.ps(), Ok(json!({"tasks": [], "current_pid": null})));
        assert_eq!(b.dumpregs(3), Err(BackendError::UnknownPid(3)));
    }
}
