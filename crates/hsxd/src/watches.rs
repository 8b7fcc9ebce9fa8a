//! Watches (protocol.md §2.4.6): the daemon's watch records and their ids.
//!
//! Watch ids are the daemon's (one counter from 1, as the protocol asks). A memory watch
//! (address or symbol) is an executive watch underneath, checked after every instruction;
//! its `watch_update` is rewritten here with the daemon's id, expression and symbol. A
//! frame-local watch (`local:x`, `f::x`, `x@f`) cannot be: its storage moves with the
//! frame, so it is resolved again from the `.sym` locals after every step call and when
//! listed.

use std::collections::{BTreeMap, HashMap};

use hsx_exec::Executive;
use hsx_exec::event::WatchUpdate;
use hsx_image::sym::SymTable;
use serde_json::{Map, Value, json};

use crate::args::{parse_int_str, u32_of};
use crate::debugger::stack::{self, FrameCtx, LocalError, LocalWatch};
use crate::debugger::symbols::SymbolStore;
use crate::error::{OpError, OpResult};
use crate::hex::to_hex;
use crate::task_mem::reader;

/// Where a watch reads from.
#[derive(Debug, Clone)]
enum Target {
    /// An executive watch (address fixed at `add`).
    Memory {
        /// The executive's id of it.
        exec_id: u32,
    },
    /// A frame-local, resolved again at every check.
    Local {
        /// Bytes at the last check.
        last: Vec<u8>,
        /// Data address at the last check (memory-backed locals).
        address: Option<u32>,
        /// `fp-0x8`, `R5`, … at the last check.
        location: String,
    },
}

#[derive(Debug, Clone)]
struct WatchRec {
    pid: u32,
    expr: String,
    kind: &'static str,
    length: u32,
    symbol: Option<String>,
    description: Option<String>,
    target: Target,
}

impl WatchRec {
    /// The §2.4.6 record.
    fn to_json(&self, id: u64, value: &[u8], address: Option<u32>) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(id));
        m.insert("pid".into(), json!(self.pid));
        m.insert("expr".into(), json!(self.expr));
        m.insert("type".into(), json!(self.kind));
        m.insert("length".into(), json!(self.length));
        m.insert("value".into(), json!(to_hex(value)));
        if let Some(a) = address {
            m.insert("address".into(), json!(a & 0xFFFF));
        }
        if let Some(s) = &self.symbol {
            m.insert("symbol".into(), json!(s));
        }
        if let Some(d) = &self.description {
            m.insert("description".into(), json!(d));
        }
        let mode = match &self.target {
            Target::Memory { .. } => "memory",
            Target::Local { location, .. } => {
                m.insert("location".into(), json!(location));
                "local"
            }
        };
        m.insert("mode".into(), json!(mode));
        Value::Object(m)
    }
}

/// How `watch add` reads its expression (`type`/`kind`, or a `local:` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WatchKind {
    Address,
    Symbol,
    Local,
    /// A number if it parses as one, else a symbol name.
    Auto,
}

fn watch_kind(expr: &str, kind: Option<&str>) -> WatchKind {
    if expr
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("local:"))
    {
        return WatchKind::Local;
    }
    match kind.map(str::trim) {
        Some("address" | "addr") => WatchKind::Address,
        Some("symbol" | "name") => WatchKind::Symbol,
        Some("local" | "locals") => WatchKind::Local,
        _ => WatchKind::Auto,
    }
}

/// Resolves a local watch expression against the task's current frame 0.
fn eval_local(
    exec: &Executive,
    table: Option<&SymTable>,
    pid: u32,
    expr: &str,
    length: Option<u32>,
) -> Result<LocalWatch, OpError> {
    let regs = exec.registers(pid)?;
    let fp = regs.regs.get(7).copied();
    let frame = FrameCtx {
        pc: regs.pc,
        fp,
        regs: Some(&regs.regs),
    };
    stack::resolve_local_watch(table, expr, &frame, length, reader(exec, pid)).map_err(|e| {
        match e {
            // Failures of reading the storage, as opposed to finding the variable, are
            // reported as read failures, as the reference does.
            LocalError::BadLocation(_)
            | LocalError::NoFramePointer
            | LocalError::RegisterUnavailable(_) => {
                OpError::failed(format!("watch read failed: {e}"))
            }
            other => OpError::failed(other.to_string()),
        }
    })
}

/// The daemon's watches, by id.
#[derive(Debug, Default)]
pub(crate) struct Watches {
    recs: BTreeMap<u64, WatchRec>,
    last_id: u64,
}

impl Watches {
    /// Forgets the watches of a task that has gone.
    pub(crate) fn forget_pid(&mut self, pid: u32) {
        self.recs.retain(|_, w| w.pid != pid);
    }

    fn next_id(&mut self) -> u64 {
        self.last_id = self.last_id.saturating_add(1);
        self.last_id
    }

    /// `watch remove`: the removed record.
    pub(crate) fn remove(&mut self, exec: &mut Executive, pid: u32, id: &u64) -> OpResult<Value> {
        {
            let owned = self.recs.get(id).is_some_and(|w| w.pid == pid);
            let rec = self
                .recs
                .get(id)
                .filter(|_| owned)
                .cloned()
                .ok_or_else(|| OpError::failed(format!("unknown watch {id} for pid {pid}")))?;
            let out = match &rec.target {
                Target::Memory { exec_id } => {
                    let w = exec.watch_remove(pid, *exec_id)?;
                    rec.to_json(*id, &w.value, Some(w.address))
                }
                Target::Local { last, address, .. } => rec.to_json(*id, last, *address),
            };
            self.recs.remove(id);
            Ok(out)
        }
    }

    /// `watch list`: `{pid, count, watches}`.
    pub(crate) fn list(&mut self, exec: &Executive, symbols: &SymbolStore, pid: u32) -> Value {
        let mem: HashMap<u32, hsx_exec::debug::WatchInfo> = exec
            .watch_list(pid)
            .unwrap_or_default()
            .into_iter()
            .map(|w| (w.id, w))
            .collect();
        let table = symbols.table(pid);
        let mut out = Vec::new();
        for (id, w) in self.recs.iter_mut().filter(|(_, w)| w.pid == pid) {
            match &mut w.target {
                Target::Memory { exec_id } => {
                    if let Some(info) = mem.get(exec_id) {
                        out.push(w.to_json(*id, &info.value, Some(info.address)));
                    }
                }
                Target::Local {
                    last,
                    address,
                    location,
                } => {
                    // Shown as it is now; `last` stays for change detection, so the next
                    // step still reports a change made since.
                    let (value, addr) = match eval_local(exec, table, pid, &w.expr, Some(w.length))
                    {
                        Ok(now) => {
                            location.clone_from(&now.value.location);
                            (now.value.bytes, now.value.address)
                        }
                        Err(_) => (last.clone(), *address),
                    };
                    out.push(w.to_json(*id, &value, addr));
                }
            }
        }
        json!({"pid": pid, "count": out.len(), "watches": out})
    }

    /// `watch add`: the new record. `stop` makes a memory watch pause its task on a
    /// change (a data breakpoint).
    // The request's fields one by one, as the parser hands them over.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add(
        &mut self,
        exec: &mut Executive,
        symbols: &SymbolStore,
        pid: u32,
        expr: &str,
        kind: Option<&str>,
        length: Option<u32>,
        stop: bool,
    ) -> OpResult<Value> {
        if !exec.has_task(pid) {
            return Err(OpError::UnknownPid(pid));
        }
        let expr = expr.trim();
        if expr.is_empty() {
            return Err(OpError::failed("watch expression must be non-empty"));
        }
        let length = length.map(|l| l.max(1));
        let mut kind = watch_kind(expr, kind);
        // `f::x` and `x@f` name a local unless a symbol has that very name.
        if kind == WatchKind::Auto
            && (expr.contains("::") || expr.contains('@'))
            && symbols.table(pid).and_then(|t| t.symbol(expr)).is_none()
        {
            kind = WatchKind::Local;
        }
        if kind == WatchKind::Local {
            if stop {
                // Local watches are checked per step call, not per instruction, so they
                // cannot stop at the write; a debugger watches the local's address.
                return Err(OpError::failed(
                    "stop is supported for memory watches only; watch the local's address",
                ));
            }
            let w = eval_local(exec, symbols.table(pid), pid, expr, length)?;
            let id = self.next_id();
            let rec = WatchRec {
                pid,
                expr: expr.to_string(),
                kind: "local",
                length: w.length,
                symbol: None,
                description: Some(w.description),
                target: Target::Local {
                    last: w.value.bytes,
                    address: w.value.address,
                    location: w.value.location,
                },
            };
            let out = match &rec.target {
                Target::Local { last, address, .. } => rec.to_json(id, last, *address),
                Target::Memory { .. } => Value::Null,
            };
            self.recs.insert(id, rec);
            return Ok(out);
        }
        let invalid = || OpError::failed(format!("invalid address '{expr}'"));
        let by_symbol = |store: &SymbolStore| {
            store
                .table(pid)
                .and_then(|t| t.symbol(expr))
                .map(|s| (s.address, s.name.clone()))
                .ok_or_else(|| OpError::failed(format!("symbol '{expr}' not found for pid {pid}")))
        };
        let (address, symbol, kind_name) = match kind {
            WatchKind::Address => {
                let a = parse_int_str(expr).ok_or_else(invalid)?;
                (u32_of(a), None, "address")
            }
            WatchKind::Symbol => {
                let (a, s) = by_symbol(symbols)?;
                (a, Some(s), "symbol")
            }
            _ => match parse_int_str(expr) {
                Some(a) => (u32_of(a), None, "address"),
                None => {
                    let (a, s) = by_symbol(symbols)?;
                    (a, Some(s), "symbol")
                }
            },
        };
        let length = length.unwrap_or(4);
        let info = exec.watch_add(pid, address & 0xFFFF, length)?;
        if stop {
            exec.watch_set_stop(pid, info.id, true)?;
        }
        let id = self.next_id();
        let rec = WatchRec {
            pid,
            expr: expr.to_string(),
            kind: kind_name,
            length,
            description: symbol.clone(),
            symbol,
            target: Target::Memory { exec_id: info.id },
        };
        let mut out = rec.to_json(id, &info.value, Some(info.address));
        if stop {
            out["stop"] = json!(true);
        }
        self.recs.insert(id, rec);
        Ok(out)
    }

    /// `data` of a `watch_update` for an executive watch, in the daemon's terms; `None`
    /// for a watch the daemon did not make.
    pub(crate) fn update_data(&self, u: &WatchUpdate) -> Option<Value> {
        let (id, w) = self.recs.iter().find(
            |(_, w)| matches!(w.target, Target::Memory { exec_id } if exec_id == u.watch_id),
        )?;
        let mut m = Map::new();
        m.insert("watch_id".into(), json!(id));
        m.insert("address".into(), json!(u.address));
        m.insert("expr".into(), json!(w.expr));
        m.insert("type".into(), json!(w.kind));
        m.insert("length".into(), json!(u.length));
        m.insert("old".into(), json!(to_hex(&u.old)));
        m.insert("new".into(), json!(to_hex(&u.new)));
        if let Some(s) = &w.symbol {
            m.insert("symbol".into(), json!(s));
        }
        Some(Value::Object(m))
    }

    /// Re-reads every frame-local watch; answers `(pid, watch_update data)` for those that
    /// changed. A local that is not live at the current PC is skipped, as in the reference.
    pub(crate) fn check_locals(
        &mut self,
        exec: &Executive,
        symbols: &SymbolStore,
    ) -> Vec<(u32, Value)> {
        let mut out = Vec::new();
        for (id, w) in self.recs.iter_mut() {
            let Target::Local {
                last,
                address,
                location,
            } = &mut w.target
            else {
                continue;
            };
            let Ok(now) = eval_local(exec, symbols.table(w.pid), w.pid, &w.expr, Some(w.length))
            else {
                continue;
            };
            *address = now.value.address;
            location.clone_from(&now.value.location);
            if now.value.bytes == *last {
                continue;
            }
            let old = std::mem::replace(last, now.value.bytes);
            out.push((
                w.pid,
                json!({
                    "watch_id": id,
                    "address": address,
                    "expr": w.expr,
                    "type": w.kind,
                    "length": w.length,
                    "old": to_hex(&old),
                    "new": to_hex(last),
                    "location": location,
                }),
            ));
        }
        out
    }

    /// Whether any frame-local watch exists (they are checked after every step call).
    pub(crate) fn has_locals(&self) -> bool {
        self.recs
            .values()
            .any(|w| matches!(w.target, Target::Local { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_kinds() {
        assert_eq!(watch_kind("LOCAL:x", Some("address")), WatchKind::Local);
        assert_eq!(watch_kind("x", Some("locals")), WatchKind::Local);
        assert_eq!(watch_kind("0x10", Some("addr")), WatchKind::Address);
        assert_eq!(watch_kind("g", Some("name")), WatchKind::Symbol);
        assert_eq!(watch_kind("g", None), WatchKind::Auto);
    }
}
