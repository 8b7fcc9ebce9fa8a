//! Run control: `pause`, `resume`, `step`, `clock`, `start_auto`/`stop_auto`, `sched`
//! (protocol.md §2.2).

use super::{Command, req_pid};
use crate::args::{self, Obj, field, parse_f64, py_repr, truthy};
use crate::dispatch::{Ctx, Outcome};
use crate::error::ProtoError;
use crate::reply::Reply;

/// `step` / `clock step` arguments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepArgs {
    /// Instruction budget; `None` means the clock's step size.
    pub steps: Option<u64>,
    /// Run only this task; `None` runs the scheduler.
    pub pid: Option<u32>,
    /// Repeat single steps until the PC is on a non-compiler source line.
    pub source_only: bool,
}

/// `clock` operations.
#[derive(Debug, Clone, PartialEq)]
pub enum ClockOp {
    /// `clock`, `clock status`.
    Status,
    /// `clock start`/`run`, `start_auto`.
    Start,
    /// `clock stop`/`halt`, `stop_auto`.
    Stop,
    /// `clock rate` in Hz (finite, ≥ 0; 0 = unthrottled).
    Rate(f64),
    /// `clock step`.
    Step(StepArgs),
}

/// `sched` forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchedOp {
    /// Set a task's priority (clamped ≥ 0) and/or quantum (clamped ≥ 1).
    Set {
        /// Task.
        pid: u32,
        /// New priority.
        priority: Option<u32>,
        /// New quantum.
        quantum: Option<u32>,
    },
    /// Scheduler counters and the last `limit` trace entries (`Some(0)` for none).
    Stats {
        /// Trace entries to return; `None` = all.
        limit: Option<usize>,
    },
}

pub(crate) fn parse_pause(obj: &Obj) -> Result<Command, ProtoError> {
    Ok(Command::Pause {
        pid: req_pid("pause", obj)?,
    })
}

pub(crate) fn parse_resume(name: &str, obj: &Obj) -> Result<Command, ProtoError> {
    let what = if name == "continue" {
        "continue"
    } else {
        "resume"
    };
    Ok(Command::Resume {
        pid: req_pid(what, obj)?,
    })
}

pub(crate) fn parse_step(obj: &Obj) -> Result<Command, ProtoError> {
    Ok(Command::Step(StepArgs {
        steps: args::opt_u64(obj, "steps")?,
        pid: args::opt_u32(obj, "pid")?,
        source_only: truthy(obj.get("source_only")) || truthy(obj.get("source")),
    }))
}

pub(crate) fn parse_clock(op: Option<String>, obj: &Obj) -> Result<Command, ProtoError> {
    let op = op.unwrap_or_else(|| {
        field(obj, "op")
            .map(|v| args::display_value(v).to_ascii_lowercase())
            .unwrap_or_default()
    });
    let op = match op.as_str() {
        "" | "status" => ClockOp::Status,
        "start" | "run" => ClockOp::Start,
        "stop" | "halt" => ClockOp::Stop,
        "rate" => {
            let v = field(obj, "rate")
                .ok_or_else(|| ProtoError::msg("clock rate requires 'rate' value"))?;
            let hz = parse_f64(v).filter(|f| f.is_finite()).ok_or_else(|| {
                ProtoError::msg(format!(
                    "clock rate expects numeric value, got {}",
                    py_repr(v)
                ))
            })?;
            if hz < 0.0 {
                return Err(ProtoError::msg("clock rate must be non-negative"));
            }
            ClockOp::Rate(hz)
        }
        "step" => {
            let steps = match field(obj, "steps") {
                None => None,
                Some(v) => {
                    let n = args::parse_int(v).ok_or_else(|| {
                        ProtoError::msg(format!(
                            "clock step expects integer steps, got {}",
                            py_repr(v)
                        ))
                    })?;
                    if n <= 0 {
                        return Err(ProtoError::msg("clock step steps must be positive"));
                    }
                    Some(u64::try_from(n).map_err(|_| {
                        ProtoError::msg(format!(
                            "clock step expects integer steps, got {}",
                            py_repr(v)
                        ))
                    })?)
                }
            };
            ClockOp::Step(StepArgs {
                steps,
                pid: args::opt_u32(obj, "pid")?,
                source_only: false,
            })
        }
        other => return Err(ProtoError::msg(format!("unknown clock op '{other}'"))),
    };
    Ok(Command::Clock(op))
}

pub(crate) fn parse_sched(obj: &Obj) -> Result<Command, ProtoError> {
    if let Some(pid) = args::opt_u32(obj, "pid")? {
        let clamp = |key: &'static str, lo: i64| -> Result<Option<u32>, ProtoError> {
            Ok(args::opt_i64(obj, key)?.map(|v| u32::try_from(v.max(lo)).unwrap_or(u32::MAX)))
        };
        return Ok(Command::Sched(SchedOp::Set {
            pid,
            priority: clamp("priority", 0)?,
            quantum: clamp("quantum", 1)?,
        }));
    }
    let limit =
        args::opt_i64(obj, "limit")?.map(|l| usize::try_from(l.max(0)).unwrap_or(usize::MAX));
    Ok(Command::Sched(SchedOp::Stats { limit }))
}

pub(crate) fn pause(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    ctx.check_pid(pid)?;
    Ok(Reply::with("task", ctx.backend().pause(pid)?).into())
}

pub(crate) fn resume(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    ctx.check_pid(pid)?;
    Ok(Reply::with("task", ctx.backend().resume(pid)?).into())
}

pub(crate) fn step(ctx: &Ctx<'_>, a: StepArgs) -> Result<Outcome, ProtoError> {
    if let Some(pid) = a.pid {
        ctx.check_pid(pid)?;
    }
    let result = ctx.heavy(|| ctx.backend().step(&a))?;
    let clock = ctx.backend().clock_status()?;
    Ok(Reply::with("result", result).and("clock", clock).into())
}

pub(crate) fn clock(ctx: &Ctx<'_>, op: ClockOp) -> Result<Outcome, ProtoError> {
    let b = ctx.backend();
    let clock = match op {
        ClockOp::Status => b.clock_status()?,
        ClockOp::Start => b.clock_start()?,
        ClockOp::Stop => b.clock_stop()?,
        ClockOp::Rate(hz) => b.clock_rate(hz)?,
        ClockOp::Step(a) => return step(ctx, a),
    };
    Ok(Reply::with("clock", clock).into())
}

pub(crate) fn sched(ctx: &Ctx<'_>, op: SchedOp) -> Result<Outcome, ProtoError> {
    match op {
        SchedOp::Set {
            pid,
            priority,
            quantum,
        } => {
            ctx.check_pid(pid)?;
            Ok(Reply::with("task", ctx.backend().sched_set(pid, priority, quantum)?).into())
        }
        SchedOp::Stats { limit } => {
            Ok(Reply::with("scheduler", ctx.backend().sched_stats(limit)?).into())
        }
    }
}
