//! Core executive events → protocol events (protocol.md §4.5).
//!
//! After every call that can make executive events, the executive's queue is drained here
//! and each event is published on the [`EventBus`](crate::events::EventBus) under its
//! protocol name, with its data as [`EventData`] shapes it. On the way, output events feed
//! the `listen` buffer, scheduler switches the `sched` trace, lifecycle events the `dmesg`
//! ring, and executive watch updates are renamed in the daemon's watch terms. The daemon's
//! own stdio drains (which a client never asked for) are dropped.

use hsx_exec::event::{EventKind, ProvKind, SchedulerSwitch, Warning};
use hsx_exec::mailbox::{MailboxEvent, Namespace};
use hsx_exec::{Executive, StateReason, TaskState};
use serde_json::{Value, json};

use crate::events::Event;
use crate::state::Daemon;
use crate::task_output::Stream;
use crate::wire::event::EventData;
use crate::wire::info::SchedEntry;
use crate::wire::mailbox::{HOST_PID, MailboxData};
use crate::wire::to_value;

/// Scheduler switches kept for `sched` (protocol.md §5.4).
const SCHED_TRACE_CAP: usize = 256;

/// Drains the executive's queue onto the bus. Returns the published `debug_break` and
/// `watch_update` envelopes, which a `step` reply embeds.
pub(crate) fn publish(d: &Daemon, exec: &mut Executive) -> Vec<Value> {
    publish_noting_faults(d, exec).0
}

/// [`publish`], also telling whether a task faulted (the all-stop clock policy stops on
/// that).
pub(crate) fn publish_noting_faults(d: &Daemon, exec: &mut Executive) -> (Vec<Value>, bool) {
    let bus = d.bus();
    let evs = exec.drain_events();
    let local_updates = {
        let mut dbg = d.dbg();
        if dbg.has_local_watches() {
            dbg.check_local_watches(exec)
        } else {
            Vec::new()
        }
    };
    if evs.is_empty() && local_updates.is_empty() {
        return (Vec::new(), false);
    }
    // The per-instruction and per-switch kinds are by far the most numerous; nobody can see
    // them without a subscriber, so they are not built then.
    let watched = bus.has_subscribers();
    let mut embedded = Vec::new();
    let mut task_ended = false;
    let mut faulted = false;
    for ev in evs {
        let name = ev.kind.name();
        match &ev.kind {
            EventKind::Scheduler(sw) => record_switch(d, ev.ts_ms, sw),
            EventKind::Mailbox(MailboxEvent::Recv {
                pid,
                descriptor,
                handle,
                length: 0,
                ..
            }) if is_stdio_drain(d, exec, *pid, *descriptor, *handle) => continue,
            EventKind::TaskState {
                new_state, reason, ..
            } => note_stdio_handles(d, exec, ev.pid, *new_state, *reason),
            _ => {}
        }
        if !watched && matches!(ev.kind, EventKind::TraceStep(_) | EventKind::Scheduler(_)) {
            continue;
        }
        let pid = match &ev.kind {
            EventKind::Scheduler(s) => s.next_pid,
            EventKind::Warning(
                Warning::CapabilityDenied { .. } | Warning::BudgetExceeded { .. },
            ) => ev.pid,
            EventKind::Warning(_) => None,
            _ => ev.pid,
        };
        match (&ev.kind, pid) {
            (EventKind::Stdout(b), Some(p)) => d.output().record(p, Stream::Out, b),
            (EventKind::Stderr(b), Some(p)) => d.output().record(p, Stream::Err, b),
            (EventKind::TaskState { new_state, .. }, _) => {
                task_ended |= !is_live(*new_state);
                faulted |= *new_state == TaskState::Faulted;
            }
            _ => {}
        }
        let rec = bus.publish(Event::new(name, pid, event_data(d, &ev.kind)));
        if let Some((level, message, mut fields)) = log_entry(&ev.kind, pid, exec) {
            if let Value::Object(m) = &mut fields {
                m.insert("clock_steps".into(), json!(d.clock().total_steps()));
            }
            d.dmesg().log(rec.ts, level, message, fields);
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
        d.output().prune(|p| task_can_write(exec, p));
    }
    if faulted {
        rollback_faulted_updates(d, exec);
    }
    (embedded, faulted)
}

/// Updates that faulted within their grace period go back to their previous image; the
/// rollback's own events are published by the next pass.
fn rollback_faulted_updates(d: &Daemon, exec: &mut Executive) {
    let mut prov = d.prov();
    if prov.grace().is_empty() {
        return;
    }
    let faulted: Vec<u32> = prov
        .grace()
        .keys()
        .copied()
        .filter(|p| exec.task(*p).is_ok_and(|t| t.state == TaskState::Faulted))
        .collect();
    for pid in faulted {
        prov.on_fault(exec, pid);
    }
}

/// The event's data, with executive watch updates in the daemon's watch terms (id,
/// expression, symbol) and `changed_regs` as `trace config` set it.
fn event_data(d: &Daemon, kind: &EventKind) -> Value {
    let mut data = EventData::of(kind);
    match (kind, &mut data) {
        (EventKind::WatchUpdate(w), _) => {
            if let Some(v) = d.dbg().watch_update_data(w) {
                return v;
            }
        }
        (EventKind::TraceStep(_), EventData::TraceStep(t)) if !d.dbg().changed_regs() => {
            t.changed_regs = None;
        }
        _ => {}
    }
    to_value(&data)
}

/// Keeps a `sched` trace entry for a scheduler switch (`ts` in monotonic seconds, as the
/// reference's trace).
fn record_switch(d: &Daemon, ts_ms: u64, sw: &SchedulerSwitch) {
    let entry = SchedEntry {
        event: "rotate",
        ts: ts_ms as f64 / 1000.0,
        pid: sw.next_pid,
        prev_pid: sw.prev_pid,
        reason: sw.reason.as_str(),
        executed: sw.executed,
    };
    let mut ring = d.sched_trace();
    if ring.len() >= SCHED_TRACE_CAP {
        ring.pop_front();
    }
    ring.push_back(entry);
}

/// The last `limit` scheduler switches (all with `None`), oldest first.
pub(crate) fn sched_trace_tail(d: &Daemon, limit: Option<usize>) -> Vec<SchedEntry> {
    let ring = d.sched_trace();
    let skip = limit.map_or(0, |l| ring.len().saturating_sub(l));
    ring.iter().skip(skip).cloned().collect()
}

/// Remembers a new task's stdout/stderr handles, and forgets them once it is gone.
fn note_stdio_handles(
    d: &Daemon,
    exec: &Executive,
    pid: Option<u32>,
    new_state: TaskState,
    reason: StateReason,
) {
    let Some(pid) = pid else { return };
    let mut cache = d.stdio_handles();
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
fn is_stdio_drain(d: &Daemon, exec: &Executive, pid: u32, descriptor: u32, handle: u32) -> bool {
    if pid == HOST_PID {
        return exec
            .mailboxes()
            .descriptor_info(descriptor)
            .is_some_and(|info| {
                info.namespace == Namespace::Svc
                    && matches!(info.name.as_str(), "stdio.out" | "stdio.err")
            });
    }
    let live = exec
        .mailboxes()
        .stdio_handles(pid)
        .map(|h| (h.stdout, h.stderr));
    let known = live.or_else(|| d.stdio_handles().get(&pid).copied());
    known.is_some_and(|(out, err)| handle == out || handle == err)
}

/// Whether a task in state `s` can still run (and write output).
pub(crate) fn is_live(s: TaskState) -> bool {
    !matches!(
        s,
        TaskState::Returned | TaskState::Terminated | TaskState::Killed | TaskState::Faulted
    )
}

/// Whether task `pid` exists and can still write output.
pub(crate) fn task_can_write(exec: &Executive, pid: u32) -> bool {
    exec.state(pid).is_ok_and(is_live)
}

/// The `dmesg` entry (level, message, fields) an executive event deserves, if any: task
/// lifecycle and state changes, faults, breakpoint hits, mailbox errors and lost events,
/// as the reference logs them. Per-instruction, scheduler and mailbox traffic is left out.
fn log_entry(
    kind: &EventKind,
    pid: Option<u32>,
    exec: &Executive,
) -> Option<(&'static str, &'static str, Value)> {
    let data = || to_value(&EventData::of(kind));
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
                json!({"pid": pid, "event": kind.name(), "detail": to_value(&MailboxData::of(m))}),
            ))
        }
        EventKind::Warning(Warning::CapabilityDenied { .. }) => {
            Some(("warn", "capability denied", with_pid(data())))
        }
        EventKind::Warning(Warning::BudgetExceeded { .. }) => {
            Some(("warn", "budget exceeded", with_pid(data())))
        }
        EventKind::Warning(_) => Some(("warn", "executive events dropped", data())),
        EventKind::Provisioning(p) => match p.kind {
            ProvKind::Progress { .. } => None,
            ProvKind::Error { .. } => Some(("error", "provisioning error", with_pid(data()))),
            ProvKind::Rollback { .. } | ProvKind::Aborted { .. } => {
                Some(("warn", kind.name(), with_pid(data())))
            }
            _ => Some(("info", kind.name(), with_pid(data()))),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hsx_exec::event::StateDetails;
    use hsx_exec::mailbox::ExhaustedReason;
    use hsx_exec::values::ValEvent;

    fn data(kind: &EventKind) -> Value {
        to_value(&EventData::of(kind))
    }

    fn mailbox_data(m: &MailboxEvent) -> Value {
        to_value(&MailboxData::of(m))
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
            data(&kind),
            json!({"prev_state": null, "new_state": "terminated", "reason": "killed",
                   "details": {"pc": 8}})
        );
        assert_eq!(
            data(&EventKind::Stdout(b"hi\n".to_vec())),
            json!({"text": "hi\n"})
        );
        assert_eq!(crate::hex::to_hex(&[0xde, 0xad, 0x01]), "dead01");
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
            data(&done),
            json!({"caller_pid": 0, "owner_pid": 2, "oid": 0x0203, "group_id": 2,
                   "cmd_id": 3, "status": 0, "result": 9})
        );
    }
}
