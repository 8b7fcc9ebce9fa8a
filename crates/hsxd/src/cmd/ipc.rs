//! Mailboxes, stdio and logs: `mailbox_snapshot`, `listen`, `send`, `stdio_fanout`, `dmesg`
//! (protocol.md §2.6).

use serde_json::{Value, json};

use super::{Command, req_pid};
use crate::args::{self, Obj, display_value, field};
use crate::cmd::regs::from_hex;
use crate::dispatch::{Ctx, Outcome};
use crate::error::ProtoError;
use crate::reply::Reply;

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

pub(crate) fn parse_listen(obj: &Obj) -> Result<Command, ProtoError> {
    let limit = args::opt_i64(obj, "limit")?.unwrap_or(5).max(1);
    let max_len = args::opt_i64(obj, "max_len")?.unwrap_or(512).max(0);
    Ok(Command::Listen(ListenArgs {
        pid: args::opt_u32(obj, "pid")?,
        limit: u32::try_from(limit).unwrap_or(u32::MAX),
        max_len: u32::try_from(max_len).unwrap_or(u32::MAX),
    }))
}

pub(crate) fn parse_send(obj: &Obj) -> Result<Command, ProtoError> {
    let pid = req_pid("send", obj)?;
    let data = match (field(obj, "data_hex"), field(obj, "data")) {
        (Some(Value::String(hex)), _) => from_hex(hex)?,
        (_, Some(Value::String(text))) => text.as_bytes().to_vec(),
        _ => return Err(ProtoError::msg("send requires 'data' or 'data_hex'")),
    };
    let channel = field(obj, "channel")
        .map(display_value)
        .filter(|c| !c.is_empty());
    Ok(Command::Send(SendArgs { pid, data, channel }))
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

pub(crate) fn parse_fanout(obj: &Obj) -> Result<Command, ProtoError> {
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
    Ok(Command::StdioFanout(FanoutArgs {
        scope,
        streams,
        mode,
    }))
}

pub(crate) fn parse_dmesg(obj: &Obj) -> Result<Command, ProtoError> {
    let limit =
        args::opt_i64(obj, "limit")?.map(|l| usize::try_from(l.max(0)).unwrap_or(usize::MAX));
    let filter_session = field(obj, "filter_session")
        .map(display_value)
        .filter(|s| !s.is_empty());
    Ok(Command::Dmesg {
        limit,
        filter_session,
    })
}

pub(crate) fn mailbox_snapshot(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    Ok(Reply::spread(ctx.backend().mailbox_snapshot()?).into())
}

pub(crate) fn listen(ctx: &Ctx<'_>, a: ListenArgs) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("messages", ctx.backend().listen(&a)?).into())
}

pub(crate) fn send(ctx: &Ctx<'_>, a: SendArgs) -> Result<Outcome, ProtoError> {
    ctx.check_pid(a.pid)?;
    Ok(Reply::spread(ctx.backend().send(&a)?).into())
}

pub(crate) fn fanout(ctx: &Ctx<'_>, a: FanoutArgs) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("config", ctx.backend().stdio_fanout(&a)?).into())
}

pub(crate) fn dmesg(
    ctx: &Ctx<'_>,
    limit: Option<usize>,
    filter_session: Option<String>,
) -> Result<Outcome, ProtoError> {
    let logs = ctx.dmesg().entries(limit, filter_session.as_deref());
    Ok(Reply::with("logs", json!(logs)).into())
}
