//! Mailboxes, stdio and logs: `mailbox_snapshot`, `listen`, `send`, `stdio_fanout`, `dmesg`
//! (protocol.md §2.6).

use serde_json::{Value, json};

use hsx_exec::mailbox::{StdioStream, mode};
use hsx_exec::{ExecError, Executive};

use super::fields::req_pid;
use crate::args::{self, Obj, display_value, field};
use crate::context::{Ctx, Outcome};
use crate::error::{OpError, ProtoError};
use crate::event_map::publish;
use crate::event_map::task_can_write;
use crate::hex::{from_hex, to_hex};
use crate::reply::Reply;
use crate::wire::mailbox::{Descriptor, HOST_PID, Message, Sent, Snapshot, Stats};
use crate::wire::to_value;

/// `listen` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenArgs {
    /// Task; `None` = every owner of a `stdio.out`.
    pub pid: Option<u32>,
    /// Messages per target (at least 1).
    pub limit: u32,
    /// Bytes per message.
    pub max_len: u32,
}

/// `send` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendArgs {
    /// Task.
    pub pid: u32,
    /// Payload (`data` as UTF-8, or `data_hex` decoded).
    pub data: Vec<u8>,
    /// Full target string; `None` = `svc:stdio.in@<pid>`.
    pub channel: Option<String>,
}

/// Which stdio configuration `stdio_fanout` addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanoutScope {
    /// The default template (`"default"`, `"global"`, `"template"`).
    Default,
    /// Every task (`"all"`, `"*"`, null, absent).
    All,
    /// One task.
    Pid(u32),
}

/// A fan-out mode and its mailbox mode mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanoutMode {
    /// `off`/`none`/`default`: RDWR (3).
    Off,
    /// `drop`/`fanout`/`fanout_drop`: RDWR|FANOUT|FANOUT_DROP (0x1B).
    Drop,
    /// `block`/`fanout_block`: RDWR|FANOUT|FANOUT_BLOCK (0x2B).
    Block,
}

impl FanoutMode {
    /// Mailbox `mode_mask`.
    pub fn mode_mask(self) -> u32 {
        match self {
            FanoutMode::Off => 0x03,
            FanoutMode::Drop => 0x03 | 0x08 | 0x10,
            FanoutMode::Block => 0x03 | 0x08 | 0x20,
        }
    }
}

/// `stdio_fanout` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanoutArgs {
    /// Scope.
    pub scope: FanoutScope,
    /// Streams (`"in"`, `"out"`, `"err"`); `None` when the request named none.
    pub streams: Option<Vec<&'static str>>,
    /// New mode and the spelling the client used; `None` = query only.
    pub mode: Option<(FanoutMode, String)>,
}

pub(crate) fn parse_listen(obj: &Obj) -> Result<ListenArgs, ProtoError> {
    let limit = args::opt_i64(obj, "limit")?.unwrap_or(5).max(1);
    let max_len = args::opt_i64(obj, "max_len")?.unwrap_or(512).max(0);
    Ok(ListenArgs {
        pid: args::opt_u32(obj, "pid")?,
        limit: u32::try_from(limit).unwrap_or(u32::MAX),
        max_len: u32::try_from(max_len).unwrap_or(u32::MAX),
    })
}

pub(crate) fn parse_send(obj: &Obj) -> Result<SendArgs, ProtoError> {
    let pid = req_pid("send", obj)?;
    let data = match (field(obj, "data_hex"), field(obj, "data")) {
        (Some(Value::String(hex)), _) => from_hex(hex)?,
        (_, Some(Value::String(text))) => text.as_bytes().to_vec(),
        _ => return Err(ProtoError::msg("send requires 'data' or 'data_hex'")),
    };
    let channel = field(obj, "channel")
        .map(display_value)
        .filter(|c| !c.is_empty());
    Ok(SendArgs { pid, data, channel })
}

fn parse_streams(s: &str) -> Result<Vec<&'static str>, ProtoError> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "both" => vec!["out", "err"],
        "all" | "any" => vec!["in", "out", "err"],
        "out" | "stdout" => vec!["out"],
        "err" | "stderr" => vec!["err"],
        "in" | "stdin" => vec!["in"],
        _ => return Err(ProtoError::msg(format!("unknown stdio stream '{s}'"))),
    })
}

pub(crate) fn parse_fanout(obj: &Obj) -> Result<FanoutArgs, ProtoError> {
    let scope = match field(obj, "pid") {
        None => FanoutScope::All,
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "default" | "global" | "template" => FanoutScope::Default,
            "" | "all" | "*" => FanoutScope::All,
            other => FanoutScope::Pid(
                args::parse_int_str(other)
                    .and_then(|p| u32::try_from(p).ok())
                    .ok_or_else(|| {
                        ProtoError::msg(format!("invalid stdio pid '{s}': not an integer"))
                    })?,
            ),
        },
        Some(v) => FanoutScope::Pid(
            args::parse_int(v)
                .and_then(|p| u32::try_from(p).ok())
                .ok_or_else(|| {
                    ProtoError::msg(format!(
                        "invalid stdio pid '{}': not an integer",
                        display_value(v)
                    ))
                })?,
        ),
    };
    let streams = match field(obj, "stream") {
        Some(Value::String(s)) => Some(parse_streams(s)?),
        _ => None,
    };
    let mode = match field(obj, "mode") {
        None => None,
        Some(v) => {
            let raw = display_value(v);
            let m = match raw.to_ascii_lowercase().as_str() {
                "off" | "none" | "default" => FanoutMode::Off,
                "drop" | "fanout" | "fanout_drop" => FanoutMode::Drop,
                "block" | "fanout_block" => FanoutMode::Block,
                _ => return Err(ProtoError::msg(format!("unknown fan-out mode '{raw}'"))),
            };
            Some((m, raw))
        }
    };
    Ok(FanoutArgs {
        scope,
        streams,
        mode,
    })
}

pub(crate) fn parse_dmesg(obj: &Obj) -> Result<(Option<usize>, Option<String>), ProtoError> {
    let limit =
        args::opt_i64(obj, "limit")?.map(|l| usize::try_from(l.max(0)).unwrap_or(usize::MAX));
    let filter_session = field(obj, "filter_session")
        .map(display_value)
        .filter(|s| !s.is_empty());
    Ok((limit, filter_session))
}

/// A wire record as the fields of a reply spread over its top level.
fn spread<T: serde::Serialize>(record: &T) -> Reply {
    match to_value(record) {
        Value::Object(m) => Reply::spread(m),
        _ => Reply::ok(),
    }
}

/// `mailbox_snapshot`: `{descriptors: [...], stats: {...}}`, spread over the reply.
pub(crate) fn mailbox_snapshot(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    let (descriptors, stats) = {
        let exec = ctx.daemon().exec();
        (exec.mailbox_snapshot(), exec.mailbox_stats())
    };
    let snap = Snapshot {
        descriptors: descriptors.iter().map(Descriptor::of).collect(),
        stats: Stats::from(&stats),
    };
    Ok(spread(&snap).into())
}

/// `listen`: the `messages` list, from the daemon's per-task output buffer, which keeps
/// what a task wrote (stdio mailboxes and UART) after the task has ended and its mailboxes
/// are gone. Each message is one write (`limit` per task, cut at `max_len` with the rest
/// left for the next call); stderr comes with target `svc:stdio.err@N`. The bytes come
/// from events, so `flags`/`channel` are 0 and `src_pid` is the task. A PID with nothing
/// to read (or no task at all) gets no messages, as in the reference.
pub(crate) fn listen(ctx: &Ctx<'_>, a: ListenArgs) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let mut exec = d.exec();
    drain_stdio(&mut exec, a.pid);
    publish(d, &mut exec);
    let limit = usize::try_from(a.limit).unwrap_or(usize::MAX);
    let max_len = usize::try_from(a.max_len).unwrap_or(usize::MAX);
    let chunks: (Vec<_>, _) = {
        let mut out = d.output();
        let pids = a.pid.map_or_else(|| out.pids(), |p| vec![p]);
        let chunks: Vec<_> = pids
            .into_iter()
            .flat_map(|p| out.take(p, limit, max_len))
            .collect();
        let dropped: serde_json::Map<String, Value> = pids_of(&chunks, a.pid)
            .into_iter()
            .filter_map(|p| {
                let n = out.dropped(p);
                (n > 0).then(|| (p.to_string(), Value::from(n)))
            })
            .collect();
        out.prune(|p| task_can_write(&exec, p));
        (chunks, dropped)
    };
    let (chunks, dropped) = chunks;
    // Up to `limit` x `max_len` bytes of text and hex: built with no lock held.
    drop(exec);
    let msgs: Vec<Message> = chunks
        .iter()
        .map(|c| Message {
            target: c.stream.target(c.pid),
            pid: c.pid,
            stream: c.stream.name(),
            text: String::from_utf8_lossy(&c.data).into_owned(),
            data_hex: to_hex(&c.data),
            flags: 0,
            channel: 0,
            length: c.data.len(),
            src_pid: c.pid,
        })
        .collect();
    let reply = Reply::with("messages", to_value(&msgs));
    // Only when something was lost: the reference's reply has no such field.
    if dropped.is_empty() {
        Ok(reply.into())
    } else {
        Ok(reply.and("dropped_bytes", Value::Object(dropped)).into())
    }
}

/// The PIDs a `listen` reply speaks for: the one asked about, or those it returned.
fn pids_of(chunks: &[crate::task_output::Chunk], asked: Option<u32>) -> Vec<u32> {
    match asked {
        Some(p) => vec![p],
        None => {
            let mut v: Vec<u32> = chunks.iter().map(|c| c.pid).collect();
            v.dedup();
            v
        }
    }
}

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

/// `send`: `{mbx_status, length, descriptor, target}`, spread over the reply. Without a
/// channel the bytes go to the task's stdin.
pub(crate) fn send(ctx: &Ctx<'_>, a: SendArgs) -> Result<Outcome, ProtoError> {
    ctx.check_pid(a.pid)?;
    let d = ctx.daemon();
    let mut exec = d.exec();
    let target = a
        .channel
        .clone()
        .unwrap_or_else(|| format!("svc:stdio.in@{}", a.pid));
    let r = match &a.channel {
        None => exec.send_stdin(a.pid, &a.data),
        Some(t) => exec
            .mailbox_send(HOST_PID, t, &a.data, 0, 0)
            .map_err(ExecError::from),
    };
    publish(d, &mut exec);
    let rep = r?;
    drop(exec);
    let sent = Sent {
        mbx_status: 0,
        length: rep.bytes,
        descriptor: rep.descriptor,
        target,
    };
    Ok(spread(&sent).into())
}

/// `stdio_fanout` (§2.6): query (no `mode`) or set the stdio mailbox modes of one task, of
/// every task (which also sets the template) or of the template for new tasks. The
/// `config` object.
pub(crate) fn fanout(ctx: &Ctx<'_>, a: FanoutArgs) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let mut exec = d.exec();
    let config = stdio_fanout(&mut exec, &a);
    publish(d, &mut exec);
    Ok(Reply::with("config", config?).into())
}

fn stdio_fanout(exec: &mut Executive, args: &FanoutArgs) -> Result<Value, OpError> {
    let Some((mode, spelled)) = &args.mode else {
        let streams = args
            .streams
            .clone()
            .unwrap_or_else(|| vec!["in", "out", "err"]);
        return stdio_summary(exec, args.scope, &streams)
            .map_err(|e| OpError::failed(format!("stdio query failed: {e}")));
    };
    let streams = args.streams.clone().unwrap_or_else(|| vec!["out"]);
    let mask = u16::try_from(mode.mode_mask()).unwrap_or(u16::MAX);
    let mut applied = Vec::new();
    match args.scope {
        FanoutScope::Pid(pid) => {
            if !exec.has_task(pid) {
                return Err(OpError::failed(format!(
                    "stdio configure failed: unknown pid {pid}"
                )));
            }
            for name in &streams {
                let target = format!("svc:stdio.{name}@{pid}");
                let r = exec.mailbox_op(|m| m.bind(HOST_PID, &target, 0, mask));
                let id = r.map_err(|e| OpError::failed(format!("stdio configure failed: {e}")))?;
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
    let scope = match args.scope {
        FanoutScope::Pid(p) => FanoutScope::Pid(p),
        FanoutScope::All | FanoutScope::Default => FanoutScope::All,
    };
    let mut config = stdio_summary(exec, scope, &streams)
        .map_err(|e| OpError::failed(format!("stdio query failed: {e}")))?;
    if let Value::Object(m) = &mut config {
        m.insert("mode".into(), json!(spelled));
        m.insert("mode_mask".into(), json!(mask));
        m.insert("applied".into(), Value::Array(applied));
    }
    Ok(config)
}

/// `dmesg`: the log ring, oldest first.
pub(crate) fn dmesg(
    ctx: &Ctx<'_>,
    limit: Option<usize>,
    filter_session: Option<String>,
) -> Result<Outcome, ProtoError> {
    let logs = ctx.dmesg().entries(limit, filter_session.as_deref());
    Ok(Reply::with("logs", json!(logs)).into())
}
