//! Breakpoints of every kind: source lines (bound through hsxd's `sym lookup_source`, so
//! C and MVASM lines alike, reporting the line they really bound to), functions
//! (`sym lookup_name`), instruction addresses, and data breakpoints (hsxd watches that
//! stop the task). The set each task should have is recomputed and applied as a diff.

use serde_json::{Value, json};

use super::bp_table::{Bound, DataBp, NamedBp, SourceBp, parse_address, u32_of};
use super::session::{DapError, DapResult, Session};

/// Most breakpoints one request may set (a bound on the work a client can ask for).
const MAX_PER_REQUEST: usize = 1024;
/// Most addresses one source line may bind to in one task.
const MAX_ADDRS_PER_LINE: usize = 16;

impl Session {
    fn live_pids(&self) -> Vec<u32> {
        self.threads
            .iter()
            .filter(|(_, t)| t.alive)
            .map(|(p, _)| *p)
            .collect()
    }

    /// Binds `path:line` in every task: the addresses and the line they are on.
    fn bind_line(&mut self, path: &str, line: u32) -> (Bound, Option<u32>) {
        let mut bound = Vec::new();
        let mut actual = None;
        for pid in self.live_pids() {
            let Ok(r) = self.call(
                "sym",
                json!({"op": "lookup_source", "pid": pid, "file": path, "line": line}),
            ) else {
                continue;
            };
            let addrs: Vec<u32> = r
                .pointer("/source/addresses")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(u32_of)
                        .take(MAX_ADDRS_PER_LINE)
                        .collect()
                })
                .unwrap_or_default();
            if addrs.is_empty() {
                continue;
            }
            actual = actual.or_else(|| r.pointer("/source/line").and_then(u32_of));
            bound.extend(addrs.into_iter().map(|a| (pid, a)));
        }
        (bound, actual)
    }

    fn bind_function(&mut self, name: &str) -> Bound {
        let mut bound = Vec::new();
        for pid in self.live_pids() {
            let Ok(r) = self.call(
                "sym",
                json!({"op": "lookup_name", "pid": pid, "name": name}),
            ) else {
                continue;
            };
            let is_code = r.pointer("/symbol/type").and_then(Value::as_str) != Some("variable");
            if let Some(a) = r
                .pointer("/symbol/address")
                .and_then(u32_of)
                .filter(|_| is_code)
            {
                bound.push((pid, a));
            }
        }
        bound
    }

    fn sync_breakpoints(&mut self) -> DapResult<()> {
        // Before launch/attach there is nothing to install into; they bind later.
        if let Some(client) = self.hsx.as_mut() {
            self.bps.sync(client);
        }
        Ok(())
    }

    /// Binds every breakpoint again (a task appeared, or symbols changed).
    pub(super) fn rebind_all(&mut self) {
        let paths: Vec<String> = self.bps.source.keys().cloned().collect();
        for path in paths {
            let mut list = self.bps.source.remove(&path).unwrap_or_default();
            for b in &mut list {
                let (bound, actual) = self.bind_line(&path, b.line);
                b.bound = bound;
                b.actual = actual;
            }
            self.bps.source.insert(path, list);
        }
        let mut fns = std::mem::take(&mut self.bps.functions);
        for b in &mut fns {
            b.bound = self.bind_function(&b.name);
        }
        self.bps.functions = fns;
        let mut ins = std::mem::take(&mut self.bps.instructions);
        let pids = self.live_pids();
        for b in &mut ins {
            if let Some(a) = parse_address(&b.name, 0) {
                b.bound = pids.iter().map(|p| (*p, a)).collect();
            }
        }
        self.bps.instructions = ins;
        let _ = self.sync_breakpoints();
    }

    /// `setBreakpoints {source:{path}, breakpoints:[{line}]}`.
    pub(super) fn set_breakpoints(&mut self, args: &Value) -> DapResult<Value> {
        let path = args
            .pointer("/source/path")
            .and_then(Value::as_str)
            .ok_or("setBreakpoints requires source.path")?
            .to_string();
        let lines: Vec<u32> = match args.get("breakpoints").and_then(Value::as_array) {
            Some(bps) => bps
                .iter()
                .filter_map(|b| b.get("line").and_then(u32_of))
                .collect(),
            None => args
                .get("lines")
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(u32_of).collect())
                .unwrap_or_default(),
        };
        if lines.len() > MAX_PER_REQUEST {
            return Err(DapError(format!(
                "at most {MAX_PER_REQUEST} breakpoints per file"
            )));
        }
        let offset = u32::from(!self.lines_start_at1);
        let mut list = Vec::new();
        let mut out = Vec::new();
        for line in lines {
            let id = self.bps.id();
            let (bound, actual) = self.bind_line(&path, line + offset);
            let verified = !bound.is_empty();
            let mut b = json!({"id": id, "verified": verified, "line": actual.map_or(line, |a| a - offset),
                               "source": {"path": path}});
            if !verified {
                b["message"] = json!(if self.hsx.is_some() {
                    "no code at or after this line in any task"
                } else {
                    "not bound yet"
                });
            }
            out.push(b);
            list.push(SourceBp {
                id,
                line: line + offset,
                actual,
                bound,
            });
        }
        self.bps.source.insert(path, list);
        self.sync_breakpoints()?;
        Ok(json!({"breakpoints": out}))
    }

    /// `setFunctionBreakpoints {breakpoints:[{name}]}`.
    pub(super) fn set_function_breakpoints(&mut self, args: &Value) -> DapResult<Value> {
        let names: Vec<String> = args
            .get("breakpoints")
            .and_then(Value::as_array)
            .map(|b| {
                b.iter()
                    .filter_map(|x| x.get("name").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if names.len() > MAX_PER_REQUEST {
            return Err(DapError(format!(
                "at most {MAX_PER_REQUEST} function breakpoints"
            )));
        }
        let mut list = Vec::new();
        let mut out = Vec::new();
        for name in names {
            let id = self.bps.id();
            let bound = self.bind_function(name.trim());
            let verified = !bound.is_empty();
            let mut b = json!({"id": id, "verified": verified});
            if let Some(&(pid, addr)) = bound.first() {
                b["instructionReference"] = json!(format!("0x{addr:04x}"));
                if let Some((src, line)) = self.source_line(pid, addr) {
                    b["source"] = src;
                    b["line"] = json!(line);
                }
            } else {
                b["message"] = json!(format!("no function '{name}'"));
            }
            out.push(b);
            list.push(NamedBp { id, name, bound });
        }
        self.bps.functions = list;
        self.sync_breakpoints()?;
        Ok(json!({"breakpoints": out}))
    }

    /// `setInstructionBreakpoints {breakpoints:[{instructionReference, offset?}]}`.
    pub(super) fn set_instruction_breakpoints(&mut self, args: &Value) -> DapResult<Value> {
        let reqs = args
            .get("breakpoints")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if reqs.len() > MAX_PER_REQUEST {
            return Err(DapError(format!(
                "at most {MAX_PER_REQUEST} instruction breakpoints"
            )));
        }
        let pids = self.live_pids();
        let mut list = Vec::new();
        let mut out = Vec::new();
        for r in reqs {
            let id = self.bps.id();
            let text = r
                .get("instructionReference")
                .and_then(Value::as_str)
                .unwrap_or("");
            let offset = r.get("offset").and_then(Value::as_i64).unwrap_or(0);
            match parse_address(text, offset) {
                Some(a) => {
                    out.push(json!({"id": id, "verified": !pids.is_empty(),
                                    "instructionReference": format!("0x{a:04x}")}));
                    list.push(NamedBp {
                        id,
                        name: format!("0x{a:x}"),
                        bound: pids.iter().map(|p| (*p, a)).collect(),
                    });
                }
                None => out.push(json!({"id": id, "verified": false,
                                        "message": format!("bad instruction reference '{text}'")})),
            }
        }
        self.bps.instructions = list;
        self.sync_breakpoints()?;
        Ok(json!({"breakpoints": out}))
    }

    /// `dataBreakpointInfo {variablesReference?, name, frameId?}`: a data id for anything
    /// that lives in memory (`pid:address:length`).
    pub(super) fn data_breakpoint_info(&mut self, args: &Value) -> DapResult<Value> {
        let name = args.get("name").and_then(Value::as_str).unwrap_or("");
        let found = match args
            .get("variablesReference")
            .and_then(Value::as_i64)
            .filter(|r| *r > 0)
        {
            Some(r) => self.child_location(r, name),
            None => self.expression_location(name, args.get("frameId").and_then(Value::as_i64)),
        };
        Ok(match found {
            Some((pid, addr, len)) => json!({
                "dataId": format!("{pid}:{addr}:{len}"),
                "description": format!("{name} ({len} bytes at 0x{addr:04x}, task {pid})"),
                "accessTypes": ["write"],
                "canPersist": false,
            }),
            None => json!({"dataId": null,
                           "description": format!("'{name}' is not in memory (registers and constants cannot be watched)")}),
        })
    }

    /// `setDataBreakpoints {breakpoints:[{dataId, accessType?}]}`: each is an hsxd watch
    /// with `stop: true`, so a change pauses the task (stopped reason "data breakpoint").
    pub(super) fn set_data_breakpoints(&mut self, args: &Value) -> DapResult<Value> {
        for d in std::mem::take(&mut self.bps.data) {
            let _ = self.call(
                "watch",
                json!({"op": "remove", "pid": d.pid, "id": d.watch}),
            );
        }
        let reqs = args
            .get("breakpoints")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::new();
        for r in reqs.iter().take(MAX_PER_REQUEST) {
            let id = self.bps.id();
            let data_id = r.get("dataId").and_then(Value::as_str).unwrap_or("");
            let access = r
                .get("accessType")
                .and_then(Value::as_str)
                .unwrap_or("write");
            let parts: Vec<Option<u32>> = data_id.split(':').map(|p| p.parse().ok()).collect();
            let (Some(Some(pid)), Some(Some(addr)), Some(Some(len))) = (
                parts.first().copied(),
                parts.get(1).copied(),
                parts.get(2).copied(),
            ) else {
                out.push(json!({"id": id, "verified": false, "message": format!("bad dataId '{data_id}'")}));
                continue;
            };
            if access != "write" {
                out.push(json!({"id": id, "verified": false, "message": "only write access can be watched"}));
                continue;
            }
            let reply = self.call(
                "watch",
                json!({"op": "add", "pid": pid, "expr": format!("0x{addr:x}"),
                "type": "address", "length": len.clamp(1, 256), "stop": true}),
            );
            match reply.map(|r| r.pointer("/watch/id").and_then(Value::as_u64)) {
                Ok(Some(watch)) => {
                    self.bps.data.push(DataBp { id, pid, watch });
                    out.push(json!({"id": id, "verified": true}));
                }
                Ok(None) => out
                    .push(json!({"id": id, "verified": false, "message": "watch reply has no id"})),
                Err(DapError(e)) => out.push(json!({"id": id, "verified": false, "message": e})),
            }
        }
        Ok(json!({"breakpoints": out}))
    }
}
