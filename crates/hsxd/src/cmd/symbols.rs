//! Symbol tables: `symbols` (listing) and `sym` (info, load, lookups) (protocol.md §2.4.4).

use serde_json::{Value, json};

use std::path::Path;

use super::fields::req_pid;
use crate::args::{self, Obj, display_value, field, op_of, parse_int};
use crate::context::{Ctx, Outcome};
use crate::debugger::symbols::SymbolStore;
pub use crate::debugger::symbols::{SymOp, SymbolKind, SymbolsArgs};
use crate::error::{OpError, OpResult, ProtoError};
use crate::reply::Reply;
use crate::state::Daemon;

/// Largest `symbols` page.
pub const SYMBOLS_MAX_LIMIT: u32 = 256;

pub(crate) fn parse_symbols(op: Option<String>, obj: &Obj) -> Result<SymbolsArgs, ProtoError> {
    let op = op.unwrap_or_else(|| op_of(obj));
    let pid = req_pid("symbols", obj)?;
    if !matches!(op.as_str(), "" | "list" | "ls") {
        return Err(ProtoError::msg(format!("unknown symbols op '{op}'")));
    }
    let kind = match args::first_field(obj, &["type", "kind"])
        .map(|v| display_value(v).to_ascii_lowercase())
    {
        None => SymbolKind::All,
        Some(k) => match k.as_str() {
            "" | "all" => SymbolKind::All,
            "functions" | "function" => SymbolKind::Functions,
            "variables" | "variable" => SymbolKind::Variables,
            _ => {
                return Err(ProtoError::msg(
                    "symbols.list type must be 'functions', 'variables', or 'all'",
                ));
            }
        },
    };
    let offset =
        args::opt_i64(obj, "offset")?.map_or(0, |o| u32::try_from(o.max(0)).unwrap_or(u32::MAX));
    let limit = match args::first_field(obj, &["limit", "count"]) {
        None => None,
        Some(v) => match args::int_as::<i64>("limit", v)? {
            // `limit: 0` means "default" (all) in the reference.
            0 => None,
            n => Some(n.clamp(1, i64::from(SYMBOLS_MAX_LIMIT)) as u32),
        },
    };
    Ok(SymbolsArgs {
        pid,
        kind,
        offset,
        limit,
    })
}

fn sym_address(what: &str, obj: &Obj) -> Result<u32, ProtoError> {
    let v = field(obj, "address")
        .ok_or_else(|| ProtoError::msg(format!("sym {what} requires 'address'")))?;
    parse_int(v)
        .and_then(|a| u32::try_from(a).ok())
        .ok_or_else(|| ProtoError::msg(format!("invalid address {}", args::py_repr(v))))
}

pub(crate) fn parse_sym(op: Option<String>, obj: &Obj) -> Result<(u32, SymOp), ProtoError> {
    let op = op.unwrap_or_else(|| op_of(obj));
    let pid = req_pid("sym", obj)?;
    let op = match op.as_str() {
        "" | "info" => SymOp::Info,
        "load" | "set" => match field(obj, "path") {
            Some(Value::String(p)) if !p.is_empty() => SymOp::Load { path: p.clone() },
            _ => return Err(ProtoError::msg("sym load requires 'path'")),
        },
        "lookup" | "lookup_name" | "name" => match field(obj, "name") {
            Some(Value::String(n)) => SymOp::LookupName { name: n.clone() },
            _ => return Err(ProtoError::msg("sym lookup requires 'name'")),
        },
        "lookup_addr" | "addr" => SymOp::LookupAddr {
            address: sym_address("addr", obj)?,
        },
        "lookup_line" | "line" => SymOp::LookupLine {
            address: sym_address("line", obj)?,
        },
        "lookup_source" | "source" => {
            let file = match field(obj, "file") {
                Some(Value::String(f)) if !f.is_empty() => f.clone(),
                _ => return Err(ProtoError::msg("sym lookup_source requires 'file'")),
            };
            let line = field(obj, "line")
                .and_then(parse_int)
                .and_then(|l| u32::try_from(l).ok())
                .ok_or_else(|| ProtoError::msg("sym lookup_source requires 'line'"))?;
            SymOp::LookupSource { file, line }
        }
        other => return Err(ProtoError::msg(format!("unknown sym op '{other}'"))),
    };
    Ok((pid, op))
}

/// `symbols`: `{pid, count, offset, limit, type, symbols}` (§2.4.4).
pub(crate) fn symbols(ctx: &Ctx<'_>, a: SymbolsArgs) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let exec = d.exec();
    if !exec.has_task(a.pid) {
        return Err(OpError::UnknownPid(a.pid).into());
    }
    let listing = d.dbg().symbols.handle_symbols(&a);
    Ok(Reply::with("symbols", listing).into())
}

/// `sym`: info/load → the symbols status object; lookups → the symbol or line, or null.
pub(crate) fn sym(ctx: &Ctx<'_>, pid: u32, op: SymOp) -> Result<Outcome, ProtoError> {
    if matches!(op, SymOp::Load { .. }) {
        ctx.check_pid(pid)?;
    }
    let v = ctx.heavy(|| sym_op(ctx.daemon(), pid, &op))?;
    let reply = match &op {
        SymOp::Info | SymOp::Load { .. } => Reply::with("symbols", v),
        SymOp::LookupName { name } => Reply::with("symbol", v)
            .and("pid", json!(pid))
            .and("name", json!(name)),
        SymOp::LookupAddr { address } => Reply::with("symbol", v)
            .and("pid", json!(pid))
            .and("address", json!(address)),
        SymOp::LookupLine { address } => Reply::with("line", v)
            .and("pid", json!(pid))
            .and("address", json!(address)),
        SymOp::LookupSource { .. } => Reply::with("source", v).and("pid", json!(pid)),
    };
    Ok(reply.into())
}

/// `sym` against the symbol store. `load` reads the file without any lock held.
fn sym_op(d: &Daemon, pid: u32, op: &SymOp) -> OpResult<Value> {
    let SymOp::Load { path } = op else {
        // As `symbols`, `stack` and the rest: a PID that names no task is an error.
        let exec = d.exec();
        if !exec.has_task(pid) {
            return Err(OpError::UnknownPid(pid));
        }
        return Ok(d.dbg().symbols.handle_sym(pid, op, None, None));
    };
    let program = d.exec().task(pid)?.filepath;
    let resolved = SymbolStore::resolve_path(program.as_deref().map(Path::new), path);
    let prepared = SymbolStore::prepare(&resolved);
    // The task may have gone while the file was read.
    let exec = d.exec();
    let crc = exec.task(pid)?.image.crc32;
    Ok(d.dbg().install_symbols(pid, prepared, Some(crc)))
}
