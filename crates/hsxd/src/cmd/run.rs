//! Run control: `pause`, `resume`, `step`, `clock`, `start_auto`/`stop_auto`, `sched`
//! (protocol.md §2.2).

use hsx_exec::executive::DEFAULT_EVENT_CAPACITY;
use hsx_exec::{Executive, Reg, StepSummary, StopReason, TaskState};
use serde_json::{Map, Value, json};

use super::fields::req_pid;
use crate::args::{self, Obj, field, parse_f64, py_repr, truthy};
use crate::clock;
use crate::context::{Ctx, Outcome};
use crate::error::{OpError, ProtoError};
use crate::event_map;
use crate::event_map::publish;
use crate::reply::Reply;
use crate::state::Daemon;
use crate::wire::clock::BreakPolicy;
use crate::wire::event::DebugBreakData;
use crate::wire::info::{SchedCounters, SchedStats};
use crate::wire::task::{TaskRecord, VmTask};
use crate::wire::to_value;

/// Most events a manual `step` may queue before the executive drops the oldest (about
/// 150 MB at worst, reached only by a step of half a million traced instructions).
const MANUAL_STEP_EVENT_CAPACITY: usize = 1 << 20;
/// Most instructions one source-level `step` may run (all lines together), so a line
/// that loops forever cannot hold the executive.
const SOURCE_STEP_MAX: u64 = 10_000;
/// Most instructions one `step` call runs (a few seconds of work); a larger request is
/// clamped to it, with a `step_clamped` warning, instead of occupying its connection for
/// hours.
pub const STEP_MAX: u64 = 1_000_000_000;
/// Instructions run per hold of the executive lock during a long `step` (well under a
/// millisecond), so other clients, the auto clock and shutdown get in between.
const STEP_SLICE: u64 = 65_536;

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
    /// `clock policy`: what a task's debug stop does to the clock.
    Policy(BreakPolicy),
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

pub(crate) fn parse_pause(obj: &Obj) -> Result<u32, ProtoError> {
    req_pid("pause", obj)
}

pub(crate) fn parse_resume(name: &str, obj: &Obj) -> Result<u32, ProtoError> {
    let what = if name == "continue" {
        "continue"
    } else {
        "resume"
    };
    req_pid(what, obj)
}

pub(crate) fn parse_step(obj: &Obj) -> Result<StepArgs, ProtoError> {
    Ok(StepArgs {
        steps: args::opt_u64(obj, "steps")?,
        pid: args::opt_u32(obj, "pid")?,
        source_only: truthy(obj.get("source_only")) || truthy(obj.get("source")),
    })
}

pub(crate) fn parse_clock(op: Option<String>, obj: &Obj) -> Result<ClockOp, ProtoError> {
    let op = op.unwrap_or_else(|| {
        field(obj, "op")
            .map(|v| args::display_value(v).to_ascii_lowercase())
            .unwrap_or_default()
    });
    let policy = field(obj, "on_break");
    let op = match op.as_str() {
        "" | "policy" if policy.is_some() => ClockOp::Policy(parse_policy(policy)?),
        "policy" => {
            return Err(ProtoError::msg(
                "clock policy requires 'on_break' (task|all)",
            ));
        }
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
    Ok(op)
}

fn parse_policy(v: Option<&Value>) -> Result<BreakPolicy, ProtoError> {
    v.and_then(Value::as_str)
        .and_then(BreakPolicy::parse)
        .ok_or_else(|| {
            ProtoError::msg(format!(
                "clock on_break expects 'task' or 'all', got {}",
                v.map_or_else(|| "nothing".to_string(), py_repr)
            ))
        })
}

pub(crate) fn parse_sched(obj: &Obj) -> Result<SchedOp, ProtoError> {
    if let Some(pid) = args::opt_u32(obj, "pid")? {
        let clamp = |key: &'static str, lo: i64| -> Result<Option<u32>, ProtoError> {
            Ok(args::opt_i64(obj, key)?.map(|v| u32::try_from(v.max(lo)).unwrap_or(u32::MAX)))
        };
        return Ok(SchedOp::Set {
            pid,
            priority: clamp("priority", 0)?,
            quantum: clamp("quantum", 1)?,
        });
    }
    let limit =
        args::opt_i64(obj, "limit")?.map(|l| usize::try_from(l.max(0)).unwrap_or(usize::MAX));
    Ok(SchedOp::Stats { limit })
}

/// `pause`: the task record after the change (§5.5). Affects only this task.
pub(crate) fn pause(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    ctx.check_pid(pid)?;
    let d = ctx.daemon();
    let mut exec = d.exec();
    let r = exec.pause(pid);
    publish(d, &mut exec);
    let t = r?;
    drop(exec);
    Ok(Reply::with("task", to_value(&TaskRecord::of(&t))).into())
}

/// `resume`/`continue`: the task record.
pub(crate) fn resume(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    ctx.check_pid(pid)?;
    let d = ctx.daemon();
    let mut exec = d.exec();
    let r = exec.resume(pid);
    publish(d, &mut exec);
    let t = r?;
    drop(exec);
    d.wake_clock();
    let reply = Reply::with("task", to_value(&TaskRecord::of(&t)));
    // A resumed task runs only when something steps it: say so rather than leave the
    // client wondering why `running` never moves.
    let runnable = matches!(t.state, TaskState::Ready | TaskState::Running);
    if runnable && !d.clock().running {
        let msg =
            "clock_stopped:the auto clock is stopped; the task runs on 'clock start' or 'step'";
        return Ok(reply.and("warnings", json!([msg])).into());
    }
    Ok(reply.into())
}

/// `step`, `clock step`: the `result` object (§2.2.1) and the clock.
pub(crate) fn step(ctx: &Ctx<'_>, a: StepArgs) -> Result<Outcome, ProtoError> {
    if let Some(pid) = a.pid {
        ctx.check_pid(pid)?;
    }
    let mut a = a;
    let clamped = a.steps.is_some_and(|n| n > STEP_MAX);
    if clamped {
        a.steps = Some(STEP_MAX);
    }
    let d = ctx.daemon();
    let mut result = ctx.heavy(|| run_step(d, &a))?;
    if clamped && let Value::Object(m) = &mut result {
        let w = format!("step_clamped:at most {STEP_MAX} instructions per step call");
        match m.get_mut("warnings") {
            Some(Value::Array(ws)) => ws.push(json!(w)),
            _ => {
                m.insert("warnings".into(), json!([w]));
            }
        }
    }
    let clock = clock::status(d).to_json();
    Ok(Reply::with("result", result).and("clock", clock).into())
}

fn run_step(d: &Daemon, args: &StepArgs) -> Result<Value, OpError> {
    let step_size = d.clock().step_size.max(1);
    let mut exec = d.exec();
    let source_pid = args
        .source_only
        .then(|| {
            args.pid
                .or_else(|| exec.current_pid())
                .or_else(|| exec.next_pid())
        })
        .flatten();
    let (summary, events, extra) = if let Some(pid) = source_pid {
        source_step(d, &mut exec, pid, args.steps.unwrap_or(1))?
    } else {
        drop(exec);
        let (s, events) = sliced_step(d, args.pid, args.steps.unwrap_or(step_size))?;
        exec = d.exec();
        (s, events, Map::new())
    };
    let last = summary.last_pid.and_then(|p| exec.task(p).ok());
    let next_pid = exec.next_pid();
    drop(exec);
    clock::count_manual(d, summary.executed);
    let hit = summary.debug_break.is_some();
    if hit {
        clock::task_stopped(d);
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
        "debug_event": summary.debug_break.as_ref().map(|b| to_value(&DebugBreakData::from(b))),
    });
    if let Value::Object(m) = &mut result {
        m.extend(extra);
    }
    Ok(result)
}

/// Runs `n` instructions (of task `pid`, or the scheduler's) in slices of [`STEP_SLICE`],
/// releasing the executive between them. It ends early at a debug break, when nothing
/// more can run, or when the daemon shuts down. Returns the summary over all slices and
/// the events a `step` reply embeds (at most [`MANUAL_STEP_EVENT_CAPACITY`]).
fn sliced_step(d: &Daemon, pid: Option<u32>, n: u64) -> Result<(StepSummary, Vec<Value>), OpError> {
    let mut executed = 0u64;
    let mut events = Vec::new();
    let last = loop {
        let want = (n - executed).min(STEP_SLICE);
        let mut exec = d.exec();
        // Events are drained only after the slice: let the queue hold the slice's events
        // (up to a bound) instead of dropping the oldest, so a chatty task's output is kept.
        let room = usize::try_from(want.saturating_mul(2))
            .unwrap_or(usize::MAX)
            .clamp(DEFAULT_EVENT_CAPACITY, MANUAL_STEP_EVENT_CAPACITY);
        exec.set_event_capacity(room);
        let r = match pid {
            Some(pid) => exec.step_pid(pid, want),
            None => Ok(exec.step(want)),
        };
        let slice_events = publish(d, &mut exec);
        exec.set_event_capacity(DEFAULT_EVENT_CAPACITY);
        drop(exec);
        let room = MANUAL_STEP_EVENT_CAPACITY.saturating_sub(events.len());
        events.extend(slice_events.into_iter().take(room));
        let s = r?;
        executed += s.executed;
        let more = s.debug_break.is_none()
            && s.stop == StopReason::Budget
            && s.executed == want
            && executed < n
            && !d.is_stopping();
        if !more {
            break s;
        }
    };
    Ok((StepSummary { executed, ..last }, events))
}

/// What a step ran: the summary, the events a `step` reply embeds, and extra reply keys.
type Stepped = (StepSummary, Vec<Value>, Map<String, Value>);

/// A source position as `step` reports it.
fn source_pos_json(pos: Option<&(Option<String>, u32)>) -> Value {
    pos.map_or(
        Value::Null,
        |(file, line)| json!({"file": file, "line": line}),
    )
}

/// `step` with `source_only`: runs task `pid` one instruction at a time until its PC
/// maps to another source line than where it started (`line_for_pc`; code that maps to no
/// line is stepped through), `lines` times.
/// It also stops at a debug break, on arriving at a breakpoint address, when the task
/// can no longer run, or after [`SOURCE_STEP_MAX`] instructions. Without a line table
/// it steps `lines` instructions and says so in `warnings`. The extra `source` key
/// tells where it started and ended and why it stopped.
fn source_step(d: &Daemon, exec: &mut Executive, pid: u32, lines: u64) -> Result<Stepped, OpError> {
    let syms = d.dbg().symbols.get(pid).cloned();
    let line_at = |pc: u32| {
        syms.as_ref()?
            .table
            .line_for_pc(pc)
            .map(|l| (l.file.map(str::to_string), l.line))
    };
    let mut extra = Map::new();
    if !syms.as_ref().is_some_and(|s| s.table.has_lines()) {
        let r = exec.step_pid(pid, lines.clamp(1, SOURCE_STEP_MAX));
        let events = publish(d, exec);
        let s = r.map_err(OpError::from)?;
        extra.insert(
            "warnings".into(),
            json!([format!(
                "source_step_unavailable:no line table for pid {pid}; stepped by instruction"
            )]),
        );
        return Ok((s, events, extra));
    }
    let breakpoints = exec.bp_list(pid).map_err(OpError::from)?;
    let pc_of = |exec: &Executive| exec.reg_get(pid, Reg::Pc).map_err(OpError::from);
    let from = line_at(pc_of(exec)?);
    let mut events = Vec::new();
    let mut executed = 0u64;
    let mut last: Option<StepSummary> = None;
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
            events.extend(publish(d, exec));
            let s = r.map_err(OpError::from)?;
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
            // Code from no source line (a libc routine without debug information, a
            // translator thunk) is stepped through, as a debugger's `step` does.
            let now = line_at(pc_of(exec)?);
            if now != start && (now.is_some() || start.is_none()) {
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
    let summary = StepSummary {
        executed,
        last_pid: Some(pid),
        next_pid: exec.next_pid(),
        stop: last.map_or(StopReason::Budget, |s| s.stop),
        debug_break: last.and_then(|s| s.debug_break),
    };
    Ok((summary, events, extra))
}

/// `clock`, `clock start|stop|rate|step`, `start_auto`/`stop_auto`: the clock object.
pub(crate) fn clock(ctx: &Ctx<'_>, op: ClockOp) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let clock = match op {
        ClockOp::Status => clock::status(d),
        ClockOp::Start => clock::start(d),
        ClockOp::Stop => clock::stop(d),
        ClockOp::Rate(hz) => clock::set_rate(d, hz),
        ClockOp::Step(a) => return step(ctx, a),
        ClockOp::Policy(p) => clock::set_policy(d, p),
    };
    Ok(Reply::with("clock", clock.to_json()).into())
}

/// `sched`: set a task's priority/quantum (the raw task summary), or the counters and the
/// trace (§5.4).
pub(crate) fn sched(ctx: &Ctx<'_>, op: SchedOp) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    match op {
        SchedOp::Set {
            pid,
            priority,
            quantum,
        } => {
            ctx.check_pid(pid)?;
            let mut exec = d.exec();
            let r = exec.sched(pid, quantum, priority);
            publish(d, &mut exec);
            let t = r?;
            drop(exec);
            Ok(Reply::with("task", to_value(&VmTask::of(&t))).into())
        }
        SchedOp::Stats { limit } => {
            let counters = SchedCounters::by_pid(&d.exec().tasks());
            let stats = SchedStats {
                counters,
                trace: event_map::sched_trace_tail(d, limit),
            };
            Ok(Reply::with("scheduler", to_value(&stats)).into())
        }
    }
}
