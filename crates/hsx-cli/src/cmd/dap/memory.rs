//! `readMemory` / `writeMemory` (base64, on the data space of the focused task) and
//! `disassemble` (hsxd's decoder, with symbols and source lines). Every request is bounded.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::bp_table::parse_address;
use super::session::{DapError, DapResult, Session};
use super::variables::hex_encode;

/// Most bytes one `readMemory`/`writeMemory` moves (hsxd's `peek` limit; the whole space).
const MAX_MEMORY: u64 = 0x1_0000;
/// Most instructions one `disassemble` returns.
const MAX_INSTRUCTIONS: i64 = 4096;
/// hsxd's `disasm` count limit per call.
const DISASM_CHUNK: i64 = 64;

impl Session {
    /// The task a memory request means: the one that stopped last, else the first.
    fn memory_pid(&self) -> DapResult<u32> {
        self.focus
            .or_else(|| self.threads.iter().find(|(_, t)| t.alive).map(|(p, _)| *p))
            .ok_or_else(|| DapError("no task".into()))
    }

    /// `readMemory {memoryReference, offset?, count}`.
    pub(super) fn read_memory(&mut self, args: &Value) -> DapResult<Value> {
        let pid = self.memory_pid()?;
        let reference = args
            .get("memoryReference")
            .and_then(Value::as_str)
            .ok_or("readMemory requires memoryReference")?;
        let offset = args.get("offset").and_then(Value::as_i64).unwrap_or(0);
        let count = args
            .get("count")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(MAX_MEMORY);
        let Some(addr) = parse_address(reference, offset) else {
            return Ok(json!({"address": reference, "unreadableBytes": count}));
        };
        let room = MAX_MEMORY - u64::from(addr);
        let n = count.min(room);
        let data = if n == 0 {
            Vec::new()
        } else {
            let r = self.call("peek", json!({"pid": pid, "addr": addr, "length": n}))?;
            super::variables::hex_decode(r.get("data").and_then(Value::as_str).unwrap_or(""))
        };
        Ok(json!({
            "address": format!("0x{addr:04x}"),
            "data": STANDARD.encode(&data),
            "unreadableBytes": count - data.len() as u64,
        }))
    }

    /// `writeMemory {memoryReference, offset?, data}`.
    pub(super) fn write_memory(&mut self, args: &Value) -> DapResult<Value> {
        let pid = self.memory_pid()?;
        let reference = args
            .get("memoryReference")
            .and_then(Value::as_str)
            .ok_or("writeMemory requires memoryReference")?;
        let offset = args.get("offset").and_then(Value::as_i64).unwrap_or(0);
        let text = args.get("data").and_then(Value::as_str).unwrap_or("");
        if text.len() as u64 > MAX_MEMORY * 4 / 3 + 4 {
            return Err("writeMemory data larger than the 64 KiB data space".into());
        }
        let bytes = STANDARD
            .decode(text)
            .map_err(|e| DapError(format!("bad base64: {e}")))?;
        let addr = parse_address(reference, offset).ok_or("bad memoryReference")?;
        let room = (MAX_MEMORY - u64::from(addr)) as usize;
        let bytes = &bytes[..bytes.len().min(room)];
        if !bytes.is_empty() {
            self.call(
                "poke",
                json!({"pid": pid, "addr": addr, "data": hex_encode(bytes)}),
            )?;
        }
        Ok(json!({"offset": 0, "bytesWritten": bytes.len()}))
    }

    /// `disassemble {memoryReference, offset?, instructionOffset?, instructionCount,
    /// resolveSymbols?}`. Instructions are 4 or 8 bytes, so a negative
    /// `instructionOffset` is taken as that many 4-byte words back.
    pub(super) fn disassemble(&mut self, args: &Value) -> DapResult<Value> {
        let pid = self.memory_pid()?;
        let reference = args
            .get("memoryReference")
            .and_then(Value::as_str)
            .ok_or("disassemble requires memoryReference")?;
        let offset = args.get("offset").and_then(Value::as_i64).unwrap_or(0);
        let ioff = args
            .get("instructionOffset")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .clamp(-MAX_INSTRUCTIONS, MAX_INSTRUCTIONS);
        let want = args
            .get("instructionCount")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .clamp(0, MAX_INSTRUCTIONS);
        let base = parse_address(reference, offset).map_or(0, i64::from);
        let mut addr = base + ioff * 4;
        let mut out: Vec<Value> = Vec::new();
        // Before address 0: placeholders, so the client gets the count it asked for.
        while addr < 0 && (out.len() as i64) < want {
            out.push(json!({"address": format!("-0x{:x}", -addr), "instruction": "", "presentationHint": "invalid"}));
            addr += 4;
        }
        let mut last_file: Option<String> = None;
        while (out.len() as i64) < want {
            let n = (want - out.len() as i64).min(DISASM_CHUNK);
            let r = self.call("disasm", json!({"pid": pid, "addr": addr, "count": n}))?;
            let insns = r
                .pointer("/disasm/instructions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if insns.is_empty() {
                break;
            }
            for i in insns {
                let pc = i.get("pc").and_then(Value::as_u64).unwrap_or(0) as u32;
                let size = i.get("size").and_then(Value::as_u64).unwrap_or(4) as i64;
                let mut d = json!({
                    "address": format!("0x{pc:04x}"),
                    "instruction": i.get("text").and_then(Value::as_str).unwrap_or("?"),
                    "instructionBytes": i.get("bytes").cloned().unwrap_or(Value::Null),
                });
                if let Some(l) = i.get("label").and_then(Value::as_str) {
                    d["symbol"] = json!(l);
                }
                if let Some((src, line)) = self.source_line(pid, pc) {
                    let path = src.get("path").and_then(Value::as_str).map(str::to_string);
                    // The location is sent when it changes, as the spec suggests.
                    if path != last_file
                        || out.last().and_then(|p| p.get("line")) != Some(&json!(line))
                    {
                        d["location"] = src;
                        d["line"] = json!(line);
                        last_file = path;
                    }
                }
                out.push(d);
                addr = i64::from(pc) + size.max(4);
            }
        }
        while (out.len() as i64) < want {
            out.push(json!({"address": format!("0x{addr:04x}"), "instruction": "", "presentationHint": "invalid"}));
            addr += 4;
        }
        Ok(json!({"instructions": out}))
    }
}
