//! The daemon's shared state, what every command runs against: the executive behind its
//! lock, the clock status, the event bus, sessions and PID locks, the `dmesg` ring, task
//! output kept for `listen`, and the debugger's symbol tables and watches.
//!
//! Locking: each part has its own `std::sync::Mutex`, never held across an `.await`. When
//! two are needed, the executive's is taken first; `dbg`, `clock`, `output`,
//! `sched_trace` and `stdio_handles` may be taken while holding it, never the other way
//! round. A panic while holding a lock does not take the daemon down: a poisoned lock is
//! used as it is.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use hsx_exec::{Backends, Clock, ExecConfig, Executive, MemLayout};
use serde_json::json;
use tokio::sync::Notify;

use crate::debug_state::DebugState;
use crate::dmesg::Dmesg;
use crate::events::{CloseReason, EventBus};
use crate::session::{Session, SessionConfig, SessionTable};
use crate::task_output::TaskOutput;
use crate::time::TimeSource;
use crate::wire::clock::ClockStatus;
use crate::wire::info::SchedEntry;

/// The executive's clock in the daemon: milliseconds since an `Instant`, from the
/// monotonic system clock.
#[derive(Debug, Clone, Copy)]
pub struct InstantClock(pub Instant);

impl Clock for InstantClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The executive configuration of the daemon: the defaults, except that stdout/stderr
/// messages are consumed as soon as they have become events. `listen` serves them from
/// the daemon's own buffer ([`TaskOutput`]), so a task's 64-byte stdout mailbox never
/// fills up (and its writes never fail) while nobody is polling.
fn daemon_config(mem_layout: MemLayout) -> ExecConfig {
    ExecConfig {
        stdio_drain: true,
        mem_layout,
        ..ExecConfig::default()
    }
}

/// Everything the daemon's commands share (see the module docs for the lock order).
pub struct Daemon {
    exec: Mutex<Executive>,
    clock: Mutex<ClockStatus>,
    bus: EventBus,
    /// Wakes the auto clock (clock start/stop/rate, resume, shutdown).
    wake: Notify,
    stopping: AtomicBool,
    /// Task output for `listen`, fed from `stdout`/`stderr` events.
    output: Mutex<TaskOutput>,
    dmesg: Dmesg,
    /// Symbols, disassembly cache, watches and trace settings (protocol.md §2.4).
    dbg: Mutex<DebugState>,
    /// The last scheduler switches as `sched` trace entries.
    sched_trace: Mutex<VecDeque<SchedEntry>>,
    /// Each task's stdout/stderr handles, as opened at load: they identify the executive's
    /// own stdio drains after the task's handles are gone (it ended in the same batch).
    stdio_handles: Mutex<HashMap<u32, (u32, u32)>>,
    sessions: Mutex<SessionTable>,
    /// Provisioning: session plans, the image store, update grace periods.
    prov: Mutex<crate::provision::Provisioning>,
    time: Arc<dyn TimeSource>,
    next_conn: AtomicU64,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("bus", &self.bus)
            .finish_non_exhaustive()
    }
}

impl Daemon {
    /// A daemon over a new executive with the daemon's configuration and the given host
    /// backends (clock, file system, persistence, HAL), with default session limits. The
    /// auto clock runs once [`crate::clock::spawn`] has started it.
    #[must_use]
    pub fn new(backends: Backends, bus: EventBus, time: Arc<dyn TimeSource>) -> Self {
        Self::with_mem_layout(backends, MemLayout::Flat, bus, time)
    }

    /// [`Daemon::new`] with the given task memory layout (`hsxd --mem`).
    #[must_use]
    pub fn with_mem_layout(
        backends: Backends,
        mem: MemLayout,
        bus: EventBus,
        time: Arc<dyn TimeSource>,
    ) -> Self {
        Self::with_executive(Executive::new(daemon_config(mem), backends), bus, time)
    }

    /// [`Daemon::new`] with an in-memory file system and persistence and a real clock.
    #[must_use]
    pub fn in_memory(bus: EventBus, time: Arc<dyn TimeSource>) -> Self {
        Self::new(Backends::new(InstantClock(Instant::now())), bus, time)
    }

    /// A daemon over a given executive, with default session limits.
    #[must_use]
    pub fn with_executive(mut exec: Executive, bus: EventBus, time: Arc<dyn TimeSource>) -> Self {
        // Traced tasks report every instruction (`trace_step`, §4.5); others never do.
        exec.set_trace_step_events(true);
        Self {
            exec: Mutex::new(exec),
            clock: Mutex::new(ClockStatus::default()),
            bus,
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
            output: Mutex::new(TaskOutput::new()),
            dmesg: Dmesg::new(),
            dbg: Mutex::new(DebugState::default()),
            sched_trace: Mutex::new(VecDeque::new()),
            stdio_handles: Mutex::new(HashMap::new()),
            sessions: Mutex::new(SessionTable::new(SessionConfig::default())),
            prov: Mutex::new(crate::provision::Provisioning::default()),
            time,
            next_conn: AtomicU64::new(1),
        }
    }

    /// Replaces the session limits (before the daemon serves anyone).
    #[must_use]
    pub fn with_session_config(self, config: SessionConfig) -> Self {
        *lock(&self.sessions) = SessionTable::new(config);
        self
    }

    /// The executive, locked.
    pub fn exec(&self) -> MutexGuard<'_, Executive> {
        lock(&self.exec)
    }

    /// The provisioning state, locked (after the executive, or alone).
    pub fn prov(&self) -> MutexGuard<'_, crate::provision::Provisioning> {
        lock(&self.prov)
    }

    /// The clock status, locked.
    pub(crate) fn clock(&self) -> MutexGuard<'_, ClockStatus> {
        lock(&self.clock)
    }

    /// The debugger state, locked (after the executive, or alone).
    pub(crate) fn dbg(&self) -> MutexGuard<'_, DebugState> {
        lock(&self.dbg)
    }

    /// The task output buffer, locked.
    pub(crate) fn output(&self) -> MutexGuard<'_, TaskOutput> {
        lock(&self.output)
    }

    /// The `sched` trace ring, locked.
    pub(crate) fn sched_trace(&self) -> MutexGuard<'_, VecDeque<SchedEntry>> {
        lock(&self.sched_trace)
    }

    /// The stdio handles remembered per task, locked.
    pub(crate) fn stdio_handles(&self) -> MutexGuard<'_, HashMap<u32, (u32, u32)>> {
        lock(&self.stdio_handles)
    }

    /// Wakes the auto clock.
    pub(crate) fn wake_clock(&self) {
        self.wake.notify_waiters();
    }

    /// Waits until [`Daemon::wake_clock`] (or the timeout).
    pub(crate) async fn clock_wakeup(&self, timeout: std::time::Duration) {
        let _ = tokio::time::timeout(timeout, self.wake.notified()).await;
    }

    /// The daemon is shutting down: the auto clock ends.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Marks the daemon as shutting down (see [`crate::clock::close`]): the auto clock and
    /// the CAN provisioning device end.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// The event bus.
    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// The log ring.
    pub fn dmesg(&self) -> &Dmesg {
        &self.dmesg
    }

    /// The protocol's time (seconds).
    pub fn now(&self) -> f64 {
        self.time.now()
    }

    /// A fresh connection id.
    pub fn new_connection_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs `f` on the session table under its lock.
    pub fn with_sessions<R>(&self, f: impl FnOnce(&mut SessionTable) -> R) -> R {
        f(&mut lock(&self.sessions))
    }

    /// Closes a session: releases its locks, ends its subscription, logs it. `false` when
    /// there was no such session.
    pub fn close_session(
        &self,
        id: &str,
        why: &str,
        reason: CloseReason,
        by_conn: Option<u64>,
    ) -> bool {
        let Some(s) = self.with_sessions(|t| t.close(id)) else {
            return false;
        };
        self.bus
            .with_hub(|hub, _| hub.unsubscribe_session(id, reason, by_conn));
        self.log_session_closed(&s, why);
        true
    }

    fn log_session_closed(&self, s: &Session, why: &str) {
        self.dmesg.log(
            self.now(),
            "info",
            "session closed",
            json!({"session_id": s.id, "reason": why, "pid_locks": s.pid_locks}),
        );
    }

    /// Ends the subscriptions of expired sessions and logs them.
    pub(crate) fn after_expiry(&self, expired: Vec<Session>) {
        for s in expired {
            self.bus.with_hub(|hub, _| {
                hub.unsubscribe_session(&s.id, CloseReason::SessionClosed, None)
            });
            self.log_session_closed(&s, "timeout");
        }
    }

    /// Expires idle sessions now (the server calls this periodically, so an idle server
    /// still releases locks on time).
    pub fn sweep_sessions(&self) {
        let now = self.now();
        let expired = self.with_sessions(|t| t.expire(now));
        self.after_expiry(expired);
    }

    /// Drops every session and subscription (`restart exec`). Tasks survive.
    pub fn reset(&self) {
        let gone = self.with_sessions(SessionTable::clear);
        self.bus.with_hub(|hub, _| hub.reset());
        self.dmesg.log(
            self.now(),
            "info",
            "protocol state reset",
            json!({"sessions": gone.len()}),
        );
    }

    /// A connection has gone: its subscription ends (its session does not).
    pub fn connection_closed(&self, conn: u64) {
        self.bus.with_hub(|hub, _| hub.connection_closed(conn));
    }
}
