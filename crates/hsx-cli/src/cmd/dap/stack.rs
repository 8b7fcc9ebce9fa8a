//! `threads` (one per task, named after its app) and `stackTrace` (hsxd's frame-pointer
//! walk, with sources resolved to absolute paths that exist).

use serde_json::{Value, json};

use super::refs::{FrameRec, frame_id};
use super::session::{DapResult, Session};

/// Deepest walk asked of hsxd (its limit).
const MAX_FRAMES: u32 = 64;

fn u32_at(v: &Value, key: &str) -> Option<u32> {
    v.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

impl Session {
    /// `threads`: the live tasks this session debugs.
    pub(super) fn threads_request(&mut self) -> DapResult<Value> {
        if self.hsx.is_some() {
            let _ = self.refresh_threads();
        }
        let threads: Vec<Value> = self
            .threads
            .iter()
            .filter(|(_, t)| t.alive)
            .map(|(pid, t)| json!({"id": pid, "name": format!("{} (pid {pid})", t.name)}))
            .collect();
        Ok(json!({"threads": threads}))
    }

    /// Walks `pid`'s stack with hsxd and caches the frames (for scopes and locals).
    pub(super) fn walk_stack(&mut self, pid: u32) -> DapResult<Vec<Value>> {
        let r = self.call("stack", json!({"pid": pid, "max": MAX_FRAMES}))?;
        let frames = r
            .pointer("/stack/frames")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let recs = frames
            .iter()
            .map(|f| FrameRec {
                pc: u32_at(f, "pc").unwrap_or(0),
                fp: u32_at(f, "fp"),
                sp: u32_at(f, "sp").unwrap_or(0),
            })
            .collect();
        self.refs.frames.insert(pid, recs);
        Ok(frames)
    }

    /// The source and line (in the client's numbering) of code address `addr`.
    pub(super) fn source_line(&self, pid: u32, addr: u32) -> Option<(Value, u32)> {
        let table = self.syms.table(pid)?;
        let l = table.line_for_pc(addr)?;
        let file = l.file?;
        Some((self.syms.source(pid, file), self.line_out(l.line)))
    }

    /// A 1-based line in the client's numbering.
    pub(super) fn line_out(&self, line: u32) -> u32 {
        if self.lines_start_at1 {
            line
        } else {
            line.saturating_sub(1)
        }
    }

    /// `stackTrace {threadId, startFrame?, levels?}`.
    pub(super) fn stack_trace(&mut self, args: &Value) -> DapResult<Value> {
        let pid = self.thread_arg(args)?;
        let frames = self.walk_stack(pid)?;
        let start = args.get("startFrame").and_then(Value::as_u64).unwrap_or(0) as usize;
        let levels = args
            .get("levels")
            .and_then(Value::as_u64)
            .filter(|l| *l > 0)
            .unwrap_or(u64::from(MAX_FRAMES)) as usize;
        let table = self.syms.table(pid);
        let mut out = Vec::new();
        for (i, f) in frames.iter().enumerate().skip(start).take(levels) {
            let pc = u32_at(f, "pc").unwrap_or(0);
            let name = match (
                f.get("func_name").and_then(Value::as_str),
                u32_at(f, "func_offset"),
            ) {
                (Some(n), _) => n.to_string(),
                (None, _) => format!("0x{pc:04x}"),
            };
            let mut frame = json!({
                "id": frame_id(pid, i as u32),
                "name": name,
                "line": 0,
                "column": 0,
                "instructionPointerReference": format!("0x{pc:04x}"),
            });
            let line = f
                .get("line_num")
                .and_then(Value::as_u64)
                .and_then(|l| u32::try_from(l).ok());
            let file = f.get("file").and_then(Value::as_str);
            if let (Some(line), Some(file)) = (line, file) {
                frame["source"] = self.syms.source(pid, file);
                frame["line"] = json!(self.line_out(line));
                let col = table
                    .as_deref()
                    .and_then(|t| t.line_for_pc(pc))
                    .and_then(|l| l.column)
                    .unwrap_or(1);
                frame["column"] = json!(if self.columns_start_at1 {
                    col.max(1)
                } else {
                    col.saturating_sub(1)
                });
            } else {
                frame["presentationHint"] = json!("subtle");
            }
            out.push(frame);
        }
        Ok(json!({"stackFrames": out, "totalFrames": frames.len()}))
    }
}
