//! Reverse execution: `record` (`start`/`stop`/`status`), `step_back`, `reverse_continue`
//! and `travel` (docs/record-replay.md).
//!
//! Travelling moves the whole executive (every task) to an earlier point of its recording,
//! so it is all-stop: the auto clock is stopped first (the reply says so in `warnings`).
//! Stepping a task (`step` with `pid`) while in the past moves forward through the
//! recorded future; anything that changes the run (`resume` + clock, `poke`, `load`, …)
//! discards that future and continues live from the point reached.

use hsx_exec::executive::record::{RecordConfig, RecordStatus, TravelReport, TravelStop};
use serde_json::{Value, json};

use super::fields::req_pid;
use crate::args::{self, Obj};
use crate::clock;
use crate::context::{Ctx, Outcome};
use crate::error::ProtoError;
use crate::event_map::publish;
use crate::reply::Reply;
use crate::state::Daemon;
use crate::wire::task::TaskRecord;
use crate::wire::to_value;

/// Most snapshots a client may ask for.
const MAX_SNAPSHOTS: usize = 4096;
/// Most memory (MiB) a client may let the history hold.
const MAX_MIB: usize = 4096;

/// `record` operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOp {
    /// Start (or restart) recording.
    Start(RecordConfig),
    /// Stop and drop the history.
    Stop,
    /// The history's extent.
    Status,
}

/// `record [op] [interval] [max_snapshots] [max_mb]`.
pub fn parse_record(op: Option<String>, obj: &Obj) -> Result<RecordOp, ProtoError> {
    let op = op.or_else(|| {
        args::opt_str(obj, "op")
            .ok()
            .flatten()
            .map(str::to_lowercase)
    });
    match op.as_deref().unwrap_or("status") {
        "start" | "on" => {
            let mut cfg = RecordConfig::default();
            if let Some(i) = args::opt_u64(obj, "interval")? {
                cfg.interval = i.clamp(1_000, 1 << 32);
            }
            if let Some(n) = args::opt_u64(obj, "max_snapshots")? {
                cfg.max_snapshots = usize::try_from(n)
                    .unwrap_or(MAX_SNAPSHOTS)
                    .clamp(2, MAX_SNAPSHOTS);
            }
            if let Some(mb) = args::opt_u64(obj, "max_mb")? {
                cfg.max_bytes = usize::try_from(mb).unwrap_or(MAX_MIB).clamp(1, MAX_MIB) << 20;
            }
            Ok(RecordOp::Start(cfg))
        }
        "stop" | "off" => Ok(RecordOp::Stop),
        "status" => Ok(RecordOp::Status),
        other => Err(ProtoError::Message(format!(
            "unknown record op '{other}' (start, stop, status)"
        ))),
    }
}

/// `step_back {pid, steps?}`.
pub fn parse_step_back(obj: &Obj) -> Result<(u32, u64), ProtoError> {
    let pid = req_pid("step_back", obj)?;
    let steps = args::opt_u64(obj, "steps")?.unwrap_or(1).max(1);
    Ok((pid, steps))
}

/// `reverse_continue {pid}`.
pub fn parse_reverse_continue(obj: &Obj) -> Result<u32, ProtoError> {
    req_pid("reverse_continue", obj)
}

/// `travel {to}`: a global instruction count.
pub fn parse_travel(obj: &Obj) -> Result<u64, ProtoError> {
    args::opt_u64(obj, "to")?.ok_or_else(|| ProtoError::Message("travel requires 'to'".into()))
}

fn status_json(s: Option<RecordStatus>) -> Value {
    match s {
        None => json!({"active": false}),
        Some(s) => json!({
            "active": true,
            "oldest": s.oldest,
            "newest": s.newest,
            "position": s.position,
            "in_past": s.position < s.newest,
            "snapshots": s.snapshots,
            "bytes": s.bytes,
            "ops": s.ops,
            "interval": s.config.interval,
            "max_snapshots": s.config.max_snapshots,
            "max_bytes": s.config.max_bytes,
        }),
    }
}

/// `record`.
pub(crate) fn record(ctx: &Ctx<'_>, op: RecordOp) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let mut exec = d.exec();
    match op {
        RecordOp::Start(cfg) => exec.record_start(cfg),
        RecordOp::Stop => exec.record_stop(),
        RecordOp::Status => {}
    }
    let s = exec.record_status();
    drop(exec);
    Ok(Reply::with("record", status_json(s)).into())
}

fn travel_json(r: &TravelReport) -> Value {
    let stop = r.stop.map(|s| match s {
        TravelStop::Breakpoint(a) => json!({"reason": "breakpoint", "pc": a}),
        TravelStop::Watch(id) => json!({"reason": "watch", "watch_id": id}),
    });
    json!({
        "position": r.position,
        "replayed": r.replayed,
        "at_end": r.at_end,
        "stop": stop,
    })
}

/// Stop the auto clock before travelling; the warning for the reply if it ran.
fn stop_clock(d: &Daemon) -> Option<String> {
    let running = d.clock().running;
    running.then(|| {
        clock::stop(d);
        "clock_stopped:reverse execution moves every task, so the auto clock was stopped".into()
    })
}

fn travelled(
    ctx: &Ctx<'_>,
    pid: Option<u32>,
    go: impl FnOnce(&mut hsx_exec::Executive) -> Result<TravelReport, hsx_exec::ExecError>,
) -> Result<Outcome, ProtoError> {
    if let Some(p) = pid {
        ctx.check_pid(p)?;
    }
    let d = ctx.daemon();
    let warning = stop_clock(d);
    let (r, task) = ctx.heavy(|| {
        let mut exec = d.exec();
        let r = go(&mut exec);
        publish(d, &mut exec);
        let task = pid.and_then(|p| exec.task(p).ok());
        (r, task)
    });
    let r = r?;
    let mut reply = Reply::with("travel", travel_json(&r));
    if let Some(t) = task {
        reply = reply.and("task", to_value(&TaskRecord::of(&t)));
    }
    if let Some(w) = warning {
        reply = reply.and("warnings", json!([w]));
    }
    Ok(reply.into())
}

/// `step_back`.
pub(crate) fn step_back(ctx: &Ctx<'_>, pid: u32, steps: u64) -> Result<Outcome, ProtoError> {
    travelled(ctx, Some(pid), |e| e.step_back(pid, steps))
}

/// `reverse_continue`.
pub(crate) fn reverse_continue(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    travelled(ctx, Some(pid), |e| e.reverse_continue(pid))
}

/// `travel`.
pub(crate) fn travel(ctx: &Ctx<'_>, to: u64) -> Result<Outcome, ProtoError> {
    travelled(ctx, None, |e| e.travel_to(to))
}
