//! Trace buffers: `trace` toggle, `config`, `records`/`history`, `export`, `import`
//! (protocol.md §2.4.7).

use serde_json::Value;

use super::{Command, req_pid};
use crate::args::{self, Obj, field, op_of, parse_on_off, truthy};
use crate::dispatch::{Ctx, Outcome};
use crate::error::ProtoError;
use crate::reply::Reply;

/// Largest per-task trace ring.
pub const TRACE_BUFFER_MAX: u32 = 4096;

/// Trace operations.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceOp {
    /// No `op`: switch per-instruction tracing of a task (`None` = toggle).
    Toggle {
        /// Task.
        pid: u32,
        /// New state.
        enable: Option<bool>,
    },
    /// `config changed_regs`.
    ChangedRegs(bool),
    /// `config buffer_size` (already clamped to ≤ 4096; 0 disables and clears).
    BufferSize(u32),
    /// `records`/`history`.
    Records {
        /// Task.
        pid: u32,
        /// Newest entries; ≤ 0 returns none.
        limit: Option<i64>,
    },
    /// `export`.
    Export {
        /// Task.
        pid: u32,
        /// Newest entries.
        limit: Option<i64>,
    },
    /// `import` (needs a session).
    Import {
        /// Task.
        pid: u32,
        /// `hsx.trace/1` records.
        records: Vec<Value>,
        /// Replace the buffer (default) or append.
        replace: bool,
    },
}

const CONFIG_USAGE: &str = "trace.config requires 'changed-regs <on|off>' or 'buffer <size>'";

pub(crate) fn parse_trace(op: Option<String>, obj: &Obj) -> Result<Command, ProtoError> {
    let op = op.unwrap_or_else(|| op_of(obj));
    let op = match op.as_str() {
        "" => {
            let pid = req_pid("trace", obj)?;
            let enable = match field(obj, "mode") {
                None => None,
                Some(v) => Some(
                    parse_on_off(v)
                        .ok_or_else(|| ProtoError::msg("trace mode must be 'on' or 'off'"))?,
                ),
            };
            TraceOp::Toggle { pid, enable }
        }
        "config" => {
            if obj.contains_key("changed_regs") {
                let v = field(obj, "changed_regs").ok_or_else(|| ProtoError::msg(CONFIG_USAGE))?;
                let on = parse_on_off(v).ok_or_else(|| {
                    ProtoError::msg("trace.config changed_regs must be 'on' or 'off'")
                })?;
                TraceOp::ChangedRegs(on)
            } else if obj.contains_key("buffer_size") {
                let v = obj.get("buffer_size").unwrap_or(&Value::Null);
                let n = args::parse_int(v)
                    .ok_or_else(|| ProtoError::msg("trace buffer size must be integer"))?;
                if n < 0 {
                    return Err(ProtoError::msg("trace buffer size must be non-negative"));
                }
                TraceOp::BufferSize(n.min(i128::from(TRACE_BUFFER_MAX)) as u32)
            } else {
                return Err(ProtoError::msg(CONFIG_USAGE));
            }
        }
        "records" | "history" | "export" | "import" => {
            let pid = req_pid(&format!("trace {op}"), obj)?;
            let limit = args::opt_i64(obj, "limit")?;
            match op.as_str() {
                "export" => TraceOp::Export { pid, limit },
                "import" => {
                    let Some(Value::Array(records)) = field(obj, "records") else {
                        return Err(ProtoError::msg("trace import requires 'records' list"));
                    };
                    TraceOp::Import {
                        pid,
                        records: records.clone(),
                        replace: obj.get("replace").is_none() || truthy(obj.get("replace")),
                    }
                }
                _ => TraceOp::Records { pid, limit },
            }
        }
        other => return Err(ProtoError::msg(format!("unknown trace op '{other}'"))),
    };
    Ok(Command::Trace(op))
}

pub(crate) fn trace(ctx: &Ctx<'_>, op: TraceOp) -> Result<Outcome, ProtoError> {
    match &op {
        TraceOp::Toggle { pid, .. } => ctx.check_pid(*pid)?,
        TraceOp::Import { pid, .. } => {
            if ctx.session.is_none() {
                return Err(ProtoError::SessionRequired);
            }
            ctx.check_pid(*pid)?;
        }
        _ => {}
    }
    let v = ctx.heavy(|| ctx.backend().trace(&op))?;
    Ok(Reply::with("trace", v).into())
}
