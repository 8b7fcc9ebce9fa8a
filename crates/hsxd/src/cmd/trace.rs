//! Trace buffers: `trace` toggle, `config`, `records`/`history`, `export`, `import`
//! (protocol.md §2.4.7).

use std::collections::HashSet;

use hsx_exec::Executive;
use hsx_exec::event::{MemAccessRecord, MemOp, TraceRecord};
use serde_json::{Map, Value, json};

use super::fields::req_pid;
use crate::args::{self, Obj, field, op_of, parse_int, parse_on_off, truthy, u32_of};
use crate::context::{Ctx, Outcome};
use crate::debug_state::DebugState;
use crate::error::{OpError, OpResult, ProtoError};
use crate::event_map::publish;
use crate::reply::Reply;
use crate::wire::event::{MemAccess, changed_reg_names, reg_bit};
use crate::wire::to_value;

/// The `format` of trace records.
pub const TRACE_FORMAT: &str = "hsx.trace/1";

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

pub(crate) fn parse_trace(op: Option<String>, obj: &Obj) -> Result<TraceOp, ProtoError> {
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
    Ok(op)
}

/// `trace` in every form: the `trace` object (§2.4.7).
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
    let d = ctx.daemon();
    let v = ctx.heavy(|| {
        let mut exec = d.exec();
        let r = trace_op(&mut d.dbg(), &mut exec, &op);
        publish(d, &mut exec);
        r
    })?;
    Ok(Reply::with("trace", v).into())
}

fn trace_op(dbg: &mut DebugState, exec: &mut Executive, op: &TraceOp) -> OpResult<Value> {
    match op {
        TraceOp::Toggle { pid, enable } => {
            let on = exec.set_trace(*pid, *enable)?;
            Ok(json!({"pid": pid, "enabled": on, "buffer_size": exec.trace_capacity()}))
        }
        TraceOp::ChangedRegs(on) => {
            dbg.changed_regs_off = !on;
            Ok(json!({"changed_regs": on}))
        }
        TraceOp::BufferSize(n) => {
            let cap = exec.set_trace_capacity(usize::try_from(*n).unwrap_or(usize::MAX));
            if cap == 0 {
                dbg.trace_extras.clear();
            }
            Ok(json!({"buffer_size": cap}))
        }
        TraceOp::Records { pid, limit } => Ok(trace_records(dbg, exec, *pid, *limit, true)),
        TraceOp::Export { pid, limit } => Ok(trace_records(dbg, exec, *pid, *limit, false)),
        TraceOp::Import {
            pid,
            records,
            replace,
        } => trace_import(dbg, exec, *pid, records, *replace),
    }
}

fn trace_records(
    dbg: &DebugState,
    exec: &Executive,
    pid: u32,
    limit: Option<i64>,
    with_enabled: bool,
) -> Value {
    // A task that has gone has no records (and `enabled: null`), not an error.
    let enabled = exec.task(pid).ok().map(|t| t.trace);
    let all = exec.trace_records(pid, None).unwrap_or_default();
    let count = all.len();
    let take = match limit {
        Some(n) if n <= 0 => 0,
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX).min(count),
        None => count,
    };
    let extras = dbg.trace_extras.get(&pid);
    let changed = dbg.changed_regs();
    let records: Vec<Value> = all
        .iter()
        .skip(count - take)
        .map(|r| trace_record_json(r, changed, extras.and_then(|e| e.get(&r.seq))))
        .collect();
    let mut m = Map::new();
    m.insert("pid".into(), json!(pid));
    m.insert("capacity".into(), json!(exec.trace_capacity()));
    m.insert("count".into(), json!(count));
    m.insert("returned".into(), json!(records.len()));
    if with_enabled {
        m.insert("enabled".into(), json!(enabled));
    }
    m.insert("format".into(), json!(TRACE_FORMAT));
    m.insert("records".into(), Value::Array(records));
    Value::Object(m)
}

fn trace_import(
    dbg: &mut DebugState,
    exec: &mut Executive,
    pid: u32,
    records: &[Value],
    replace: bool,
) -> OpResult<Value> {
    let cap = exec.trace_capacity();
    if cap == 0 {
        return Err(OpError::failed("trace buffer disabled"));
    }
    if !exec.has_task(pid) {
        return Err(OpError::UnknownPid(pid));
    }
    let mut parsed = Vec::with_capacity(records.len().min(cap));
    // Only the newest `cap` records can be kept, so older ones are not even parsed.
    for v in records.iter().skip(records.len().saturating_sub(cap)) {
        parsed.push(parse_trace_record(v, pid).map_err(OpError::failed)?);
    }
    let typed: Vec<TraceRecord> = parsed.iter().map(|(r, _)| *r).collect();
    exec.trace_import(pid, &typed, replace)?;
    let extras = dbg.trace_extras.entry(pid).or_default();
    if replace {
        extras.clear();
    }
    for (r, extra) in parsed {
        if extra.is_empty() {
            extras.remove(&r.seq);
        } else {
            extras.insert(r.seq, extra);
        }
    }
    // Keep extras only for records still in the ring.
    let live: HashSet<u64> = exec
        .trace_records(pid, None)
        .unwrap_or_default()
        .iter()
        .map(|r| r.seq)
        .collect();
    extras.retain(|seq, _| live.contains(seq));
    Ok(trace_records(dbg, exec, pid, None, true))
}

/// An `hsx.trace/1` record. `ts` is the executive clock in seconds.
fn trace_record_json(
    r: &TraceRecord,
    changed_regs: bool,
    extra: Option<&Map<String, Value>>,
) -> Value {
    let mut m = Map::new();
    m.insert("seq".into(), json!(r.seq));
    m.insert("pid".into(), json!(r.pid));
    m.insert("pc".into(), json!(r.pc));
    m.insert("opcode".into(), json!(r.opcode));
    m.insert("next_pc".into(), json!(r.next_pc));
    m.insert("steps".into(), json!(r.steps));
    m.insert("flags".into(), json!(r.flags));
    // Milliseconds to seconds: exact for any realistic uptime.
    m.insert("ts".into(), json!(r.ts_ms as f64 / 1000.0));
    m.insert("regs".into(), json!(r.regs));
    let names = changed_reg_names(r.changed);
    if changed_regs && !names.is_empty() {
        m.insert("changed_regs".into(), json!(names));
    }
    if let Some(a) = &r.mem_access {
        m.insert("mem_access".into(), to_value(&MemAccess::from(a)));
    }
    if let Some(x) = r.extended_word {
        m.insert("extended_word".into(), json!(x));
    }
    for (k, v) in extra.into_iter().flatten() {
        m.insert(k.clone(), v.clone());
    }
    Value::Object(m)
}

fn int_field(rec: &Map<String, Value>, field: &str) -> Result<Option<i128>, String> {
    match rec.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(_)) => Err(format!("{field} must be an integer, got boolean")),
        Some(v) => parse_int(v)
            .map(Some)
            .ok_or_else(|| format!("{field} must be integer-compatible (got {v})")),
    }
}

fn required(rec: &Map<String, Value>, field: &str) -> Result<i128, String> {
    int_field(rec, field)?.ok_or_else(|| format!("trace record missing required field '{field}'"))
}

fn u64_of(v: i128) -> u64 {
    u64::try_from(v.max(0)).unwrap_or(u64::MAX)
}

/// Keys a typed record holds; anything else is kept beside it as is.
const RECORD_KEYS: &[&str] = &[
    "seq",
    "pid",
    "pc",
    "opcode",
    "next_pc",
    "steps",
    "flags",
    "ts",
    "regs",
    "changed_regs",
    "mem_access",
    "extended_word",
];

fn parse_mem_access(v: &Value) -> Result<(MemAccessRecord, bool), String> {
    let Value::Object(a) = v else {
        return Err("mem_access must be an object".into());
    };
    let op = match a
        .get("op")
        .map(|o| crate::args::display_value(o).to_ascii_lowercase())
    {
        None => return Err("mem_access.op missing".into()),
        Some(o) if o == "read" => MemOp::Read,
        Some(o) if o == "write" => MemOp::Write,
        Some(_) => return Err("mem_access.op must be one of ['read', 'write']".into()),
    };
    let address = int_field(a, "address")?
        .ok_or_else(|| "mem_access.address must be integer-compatible (got None)".to_string())?;
    let width = int_field(a, "width")?.map_or(0, |w| u8::try_from(w.clamp(0, 255)).unwrap_or(0));
    let value = int_field(a, "value")?.map_or(0, u32_of);
    // A mask has no typed slot; the caller keeps the original object for such a record.
    let untyped = a
        .keys()
        .any(|k| !matches!(k.as_str(), "op" | "address" | "width" | "value"));
    Ok((
        MemAccessRecord {
            op,
            address: u32_of(address),
            width,
            value,
        },
        untyped,
    ))
}

/// One imported record: the typed part and the keys it cannot hold.
fn parse_trace_record(v: &Value, pid: u32) -> Result<(TraceRecord, Map<String, Value>), String> {
    let Value::Object(rec) = v else {
        return Err("trace records must be objects".into());
    };
    let seq = u64_of(required(rec, "seq")?);
    let _record_pid = int_field(rec, "pid")?;
    let pc = u32_of(required(rec, "pc")?);
    let opcode = u32_of(required(rec, "opcode")?);
    let next_pc = int_field(rec, "next_pc")?.map_or(pc.wrapping_add(4), u32_of);
    let steps = int_field(rec, "steps")?.map_or(0, u64_of);
    let flags = int_field(rec, "flags")?.map_or(0, |f| (f & 0xFF) as u8);
    let extended_word = int_field(rec, "extended_word")?.map(u32_of);
    let ts_ms = match rec.get("ts") {
        None | Some(Value::Null) => 0,
        Some(t) => {
            let secs = t
                .as_f64()
                .or_else(|| t.as_str().and_then(|s| s.trim().parse::<f64>().ok()))
                .ok_or_else(|| format!("ts must be numeric-compatible (got {t})"))?;
            if secs.is_finite() && secs > 0.0 {
                (secs * 1000.0).min(u64::MAX as f64) as u64
            } else {
                0
            }
        }
    };
    let mut regs = [0u32; 16];
    match rec.get("regs") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (i, (slot, r)) in regs.iter_mut().zip(list).enumerate() {
                *slot = match r {
                    Value::Bool(_) => None,
                    other => parse_int(other),
                }
                .map(u32_of)
                .ok_or_else(|| format!("regs[{i}] must be integer-compatible (got {r})"))?;
            }
        }
        Some(_) => return Err("regs must be a sequence".into()),
    }
    let mut changed = 0u32;
    match rec.get("changed_regs") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for n in list {
                let bit = match n {
                    Value::String(s) => reg_bit(s),
                    Value::Number(_) => parse_int(n)
                        .and_then(|i| u32::try_from(i).ok())
                        .filter(|i| *i < 16)
                        .map(|i| 1 << i),
                    _ => None,
                };
                changed |= bit.unwrap_or(0);
            }
        }
        Some(_) => return Err("changed_regs must be a sequence".into()),
    }
    let mut extra: Map<String, Value> = rec
        .iter()
        .filter(|(k, _)| !RECORD_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mem_access = match rec.get("mem_access") {
        None | Some(Value::Null) => None,
        Some(a) => {
            let (typed, untyped) = parse_mem_access(a)?;
            if untyped {
                extra.insert("mem_access".into(), a.clone());
            }
            Some(typed)
        }
    };
    Ok((
        TraceRecord {
            seq,
            pid,
            pc,
            next_pc,
            opcode,
            extended_word,
            flags,
            steps,
            regs,
            changed,
            mem_access,
            ts_ms,
        },
        extra,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_records_round_trip_with_extra_keys() {
        let v = json!({"seq": "0x10", "pc": 8, "opcode": 1234, "next_pc": 12, "steps": 3,
                       "flags": 1, "ts": 1.5, "regs": [1, "0x2"], "changed_regs": ["r1", "PSW"],
                       "mem_access": {"op": "WRITE", "address": "0x4000", "width": 4, "value": 7},
                       "source": "capture"});
        let (r, extra) = parse_trace_record(&v, 3).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.seq, r.pid, r.pc, r.ts_ms), (16, 3, 8, 1500));
        assert_eq!(r.regs[1], 2);
        assert_eq!(extra.get("source"), Some(&json!("capture")));
        let out = trace_record_json(&r, true, Some(&extra));
        assert_eq!(out["changed_regs"], json!(["R1", "PSW"]));
        assert_eq!(out["mem_access"]["op"], "write");
        assert_eq!(out["mem_access"]["address"], 0x4000);
        assert_eq!(out["source"], "capture");
        assert_eq!(out["ts"], 1.5);
        assert!(
            trace_record_json(&r, false, None)
                .get("changed_regs")
                .is_none()
        );

        let missing = parse_trace_record(&json!({"seq": 1, "opcode": 0}), 1);
        assert_eq!(
            missing.map(|_| ()),
            Err("trace record missing required field 'pc'".to_string())
        );
        assert!(parse_trace_record(&json!({"seq": true, "pc": 0, "opcode": 0}), 1).is_err());
        assert!(parse_trace_record(&json!([1]), 1).is_err());
        assert!(
            parse_trace_record(
                &json!({"seq": 1, "pc": 0, "opcode": 0, "mem_access": {"op": "poke"}}),
                1
            )
            .is_err()
        );
        let (_, extra) = parse_trace_record(
            &json!({"seq": 1, "pc": 0, "opcode": 0,
                    "mem_access": {"op": "read", "address": 2, "mask": 255}}),
            1,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(extra["mem_access"]["mask"], 255);
    }
}
