//! What the daemon keeps beside the executive for the debugger commands (protocol.md
//! §2.4): symbol tables per PID, the disassembly cache, code bytes per PID, the watches and
//! the trace settings the executive does not know about. It sits behind its own mutex in
//! [`Daemon`](crate::state::Daemon), only ever taken *after* the executive's (or alone),
//! so the two can never deadlock.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use hsx_exec::Executive;
use hsx_image::sym::{SymFile, SymTable};
use serde_json::{Map, Value, json};

use crate::debugger::disasm::DisasmCache;
use crate::debugger::symbols::{PreparedSymbols, SymbolStore};
use crate::error::OpResult;
use crate::watches::Watches;

/// The daemon's debugger state beside the executive.
#[derive(Debug, Default)]
pub(crate) struct DebugState {
    /// Symbol tables per PID.
    pub(crate) symbols: SymbolStore,
    /// Disassembly listings already made.
    pub(crate) disasm: DisasmCache,
    /// Code bytes per PID (code never changes after load, and PIDs are never reused).
    code: HashMap<u32, Arc<[u8]>>,
    /// Watch records.
    pub(crate) watches: Watches,
    /// `trace config changed_regs` (on by default, as in the reference).
    pub(crate) changed_regs_off: bool,
    /// Keys of imported trace records that a typed record cannot hold, by PID and seq.
    pub(crate) trace_extras: HashMap<u32, HashMap<u64, Map<String, Value>>>,
}

impl DebugState {
    /// Forgets everything about a task that has gone (`kill`).
    pub(crate) fn forget_pid(&mut self, pid: u32) {
        self.symbols.remove(pid);
        self.disasm.forget_pid(pid);
        self.code.remove(&pid);
        self.watches.forget_pid(pid);
        self.trace_extras.remove(&pid);
    }

    /// Whether `trace_step` events and records carry `changed_regs`.
    pub(crate) fn changed_regs(&self) -> bool {
        !self.changed_regs_off
    }

    /// Installs a symbol table read with [`SymbolStore::prepare`] and answers the status.
    pub(crate) fn install_symbols(
        &mut self,
        pid: u32,
        prepared: PreparedSymbols,
        image_crc: Option<u32>,
    ) -> Value {
        self.symbols.install(pid, prepared, image_crc)
    }

    /// The code bytes of task `pid`, read once.
    pub(crate) fn code(&mut self, exec: &Executive, pid: u32) -> OpResult<Arc<[u8]>> {
        if let Some(c) = self.code.get(&pid) {
            return Ok(Arc::clone(c));
        }
        let len = exec.code_len(pid)?;
        let bytes: Arc<[u8]> = exec
            .read_code(pid, 0, usize::try_from(len).unwrap_or(usize::MAX))?
            .into();
        self.code.insert(pid, Arc::clone(&bytes));
        Ok(bytes)
    }

    /// Whether any frame-local watch exists (they are checked after every step call).
    pub(crate) fn has_local_watches(&self) -> bool {
        self.watches.has_locals()
    }

    /// Re-reads the frame-local watches (see [`Watches::check_locals`]).
    pub(crate) fn check_local_watches(&mut self, exec: &Executive) -> Vec<(u32, Value)> {
        self.watches.check_locals(exec, &self.symbols)
    }

    /// `data` of a `watch_update` for an executive watch (see [`Watches::update_data`]).
    pub(crate) fn watch_update_data(&self, u: &hsx_exec::event::WatchUpdate) -> Option<Value> {
        self.watches.update_data(u)
    }
}

/// Reads the `.sym` a `load` should install for a new task: the `symbols` override
/// (relative to the program's directory), the assembler's own table for a `.mvasm`, or
/// `APP.sym` next to `APP.hxe`. Does file I/O, so call it without locks held.
pub(crate) fn prepare_load_symbols(
    program: &Path,
    override_path: Option<&str>,
    assembled: Option<SymFile>,
) -> PreparedSymbols {
    match (override_path, assembled) {
        (Some(p), _) => SymbolStore::prepare(&SymbolStore::resolve_path(Some(program), p)),
        (None, Some(file)) => {
            PreparedSymbols::Ready(program.to_path_buf(), Box::new(SymTable::new(file)))
        }
        (None, None) => SymbolStore::prepare(&SymbolStore::sym_path_for(program)),
    }
}

/// The load reply's `warnings` for a symbol status (§2.1.1); empty when symbols loaded.
pub(crate) fn symbol_warnings(status: &Value) -> Vec<String> {
    if status["loaded"] == json!(true) {
        return Vec::new();
    }
    if let Some(e) = status.get("error").and_then(Value::as_str) {
        vec![format!("symbols_failed:{e}")]
    } else if let Some(p) = status.get("path").and_then(Value::as_str) {
        vec![format!("symbols_missing:{p}")]
    } else {
        vec!["symbols_unavailable".to_string()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_warnings_by_status() {
        assert_eq!(
            symbol_warnings(&json!({"loaded": false, "path": "/a.sym"})),
            ["symbols_missing:/a.sym"]
        );
        assert_eq!(
            symbol_warnings(&json!({"loaded": false, "path": "/a.sym", "error": "bad"})),
            ["symbols_failed:bad"]
        );
        assert_eq!(
            symbol_warnings(&json!({"loaded": false})),
            ["symbols_unavailable"]
        );
        assert!(symbol_warnings(&json!({"loaded": true})).is_empty());
    }
}
