//! The `data` of each protocol event (protocol.md §4.5), built from the executive's event
//! kinds. [`EventData::of`] is the one place a core event becomes a wire shape; the
//! pipeline that drains, filters and publishes them is [`crate::event_map`].

use hsx_exec::TaskState;
use hsx_exec::event::{
    BreakReason, DebugBreak, EventKind, MemAccessRecord, ProvEvent, ProvKind, Warning,
};
use serde::Serialize;

use super::mailbox::MailboxData;
use super::task::Fault;
use super::values::ValueData;
use crate::hex::to_hex;

/// Register names by change bit (R0..R15, PC, SP, PSW), as trace records spell them.
const REG_NAMES: [&str; 19] = [
    "R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11", "R12", "R13", "R14",
    "R15", "PC", "SP", "PSW",
];
/// Change bit of the PC, which trace records leave out of `changed_regs` (it always moves).
const PC_BIT: usize = 16;

/// `changed_regs` of a trace record or `trace_step` event: upper-case names of the registers
/// whose change bit is set, PC excluded.
pub fn changed_reg_names(changed: u32) -> Vec<&'static str> {
    REG_NAMES
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != PC_BIT && changed & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// The bit of a register name (any case, surrounding blanks ignored) in a change mask.
pub fn reg_bit(name: &str) -> Option<u32> {
    let upper = name.trim().to_ascii_uppercase();
    REG_NAMES
        .iter()
        .position(|n| *n == upper)
        .map(|i| 1u32 << i)
}

/// A memory access of a traced instruction.
#[derive(Debug, Clone, Serialize)]
pub struct MemAccess {
    /// `read` or `write`.
    pub op: &'static str,
    /// Data address.
    pub address: u32,
    /// Bytes.
    pub width: u8,
    /// Value read or written.
    pub value: u32,
}

impl From<&MemAccessRecord> for MemAccess {
    fn from(a: &MemAccessRecord) -> Self {
        Self {
            op: a.op.as_str(),
            address: a.address,
            width: a.width,
            value: a.value,
        }
    }
}

/// `task_state` details: only the keys that apply.
#[derive(Debug, Clone, Default, Serialize)]
#[allow(missing_docs)]
pub struct StateDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pc: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub descriptor: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sleep_ms: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
}

impl StateDetails {
    fn of(d: &hsx_exec::event::StateDetails) -> Option<Self> {
        let s = Self {
            pc: d.pc,
            phase: d.phase.map(|p| p.as_str()),
            descriptor: d.descriptor,
            handle: d.handle,
            timeout: d.timeout,
            deadline: d.deadline_ms,
            status: d.status,
            length: d.length,
            flags: d.flags,
            channel: d.channel,
            src_pid: d.src_pid,
            sleep_ms: d.sleep_ms,
            exit_status: d.exit_status,
            fault: d.fault.map(Fault::from),
        };
        let empty = *d == hsx_exec::event::StateDetails::default();
        (!empty).then_some(s)
    }
}

/// `task_state`.
#[derive(Debug, Clone, Serialize)]
pub struct TaskStateData {
    /// State before, if the task existed.
    pub prev_state: Option<&'static str>,
    /// State after.
    pub new_state: &'static str,
    /// Why.
    pub reason: &'static str,
    /// What goes with the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<StateDetails>,
}

/// `scheduler`.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct SchedulerData {
    pub state: &'static str,
    pub prev_pid: u32,
    pub next_pid: Option<u32>,
    pub reason: &'static str,
    pub quantum_remaining: Option<u32>,
    pub prev_state: Option<&'static str>,
    pub next_state: Option<&'static str>,
    pub post_state: Option<&'static str>,
    pub executed: u64,
}

/// `trace_step`.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct TraceStepData {
    pub pc: u32,
    pub next_pc: u32,
    pub opcode: u32,
    pub flags: u8,
    pub regs: [u32; 16],
    pub steps: u64,
    /// Registers the instruction changed (off with `trace config changed_regs false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_regs: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_access: Option<MemAccess>,
}

/// `debug_break` (also the `debug_event` of a `step` reply).
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct DebugBreakData {
    pub pc: u32,
    pub next_pc: u32,
    pub phase: &'static str,
    pub reason: &'static str,
    /// The BRK instruction's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
}

impl From<&DebugBreak> for DebugBreakData {
    fn from(b: &DebugBreak) -> Self {
        Self {
            pc: b.pc,
            next_pc: b.next_pc,
            phase: b.phase.as_str(),
            reason: b.reason.as_str(),
            code: match b.reason {
                BreakReason::Brk { code } => Some(u32::from(code)),
                _ => None,
            },
        }
    }
}

/// `watch_update` of an executive (address) watch, before the daemon names it.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct WatchUpdateData {
    pub watch_id: u32,
    pub address: u32,
    pub expr: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub length: u32,
    pub old: String,
    pub new: String,
}

/// `stdout`/`stderr`.
#[derive(Debug, Clone, Serialize)]
pub struct OutputData {
    /// The bytes as text (lossy UTF-8).
    pub text: String,
}

/// `can_tx`.
#[derive(Debug, Clone, Serialize)]
pub struct CanTxData {
    /// Frame id.
    pub id: u16,
    /// Payload, hex.
    pub data: String,
}

/// `warning`.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct WarningData {
    pub reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drops: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<&'static str>,
    /// The SVC module a `capability_denied` call used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<u8>,
    /// The budget a `budget_exceeded` warning names (`watchdog`, `descriptors`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<&'static str>,
    /// That budget's limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl WarningData {
    fn new(w: &Warning) -> Self {
        Self {
            reason: w.as_str(),
            drops: None,
            dropped_seq: None,
            feature: None,
            module: None,
            budget: None,
            limit: None,
        }
    }
}

/// The `data` of any protocol event.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[allow(missing_docs)]
pub enum EventData {
    TaskState(TaskStateData),
    Scheduler(SchedulerData),
    TraceStep(TraceStepData),
    DebugBreak(DebugBreakData),
    WatchUpdate(WatchUpdateData),
    Output(OutputData),
    Fault(Fault),
    CanTx(CanTxData),
    Mailbox(MailboxData),
    Value(ValueData),
    Warning(WarningData),
    Provisioning(ProvisioningData),
}

/// `provisioning.*` data: the session's `phase` and what the event reports.
#[derive(Debug, Clone, Serialize)]
pub struct ProvisioningData {
    /// Phase after the event.
    pub phase: &'static str,
    /// Announced image length (started, progress).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_bytes: Option<u32>,
    /// Bytes accepted (progress).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_written: Option<u32>,
    /// Label (started), app name (complete, persisted, rollback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// App name (complete, persisted, rollback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// `true` once verified (complete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    /// Errno name (error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// Failed step (error): begin, write, end, verify, activate.
    #[serde(rename = "where", skip_serializing_if = "Option::is_none")]
    pub at: Option<&'static str>,
    /// Why (error, aborted, rollback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Image-store slot (persisted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
}

impl ProvisioningData {
    fn of(p: &ProvEvent) -> Self {
        let mut d = Self {
            phase: p.phase,
            total_bytes: None,
            bytes_written: None,
            label: None,
            app: None,
            ready: None,
            code: None,
            at: None,
            detail: None,
            slot: None,
        };
        match &p.kind {
            ProvKind::Started { total_bytes, label } => {
                d.total_bytes = Some(*total_bytes);
                d.label.clone_from(label);
            }
            ProvKind::Progress {
                bytes_written,
                total_bytes,
            } => {
                d.bytes_written = Some(*bytes_written);
                d.total_bytes = Some(*total_bytes);
            }
            ProvKind::Complete { app_name } => {
                d.app.clone_from(app_name);
                d.ready = Some(true);
            }
            ProvKind::Error { code, at, detail } => {
                d.code = Some(code);
                d.at = Some(at);
                d.detail = Some(detail.clone());
            }
            ProvKind::Aborted { reason } => d.detail = Some(reason.clone()),
            ProvKind::Persisted { app, slot } => {
                d.app = Some(app.clone());
                d.slot = Some(slot.clone());
            }
            ProvKind::Rollback { app, reason } => {
                d.app = Some(app.clone());
                d.detail = Some(reason.clone());
            }
        }
        d
    }
}

fn state_name(s: Option<TaskState>) -> Option<&'static str> {
    s.map(TaskState::wire_str)
}

impl EventData {
    /// The data of an executive event, as the protocol names its fields.
    pub fn of(kind: &EventKind) -> Self {
        match kind {
            EventKind::TaskState {
                prev_state,
                new_state,
                reason,
                details,
            } => Self::TaskState(TaskStateData {
                prev_state: state_name(*prev_state),
                new_state: new_state.wire_str(),
                reason: reason.as_str(),
                details: StateDetails::of(details.as_ref()),
            }),
            EventKind::Scheduler(s) => Self::Scheduler(SchedulerData {
                state: "switch",
                prev_pid: s.prev_pid,
                next_pid: s.next_pid,
                reason: s.reason.as_str(),
                quantum_remaining: s.quantum_remaining,
                prev_state: state_name(s.prev_state),
                next_state: state_name(s.next_state),
                post_state: state_name(s.post_state),
                executed: s.executed,
            }),
            EventKind::TraceStep(r) => {
                // Same names and same rule as the `hsx.trace/1` record of this instruction.
                let names = changed_reg_names(r.changed);
                Self::TraceStep(TraceStepData {
                    pc: r.pc,
                    next_pc: r.next_pc,
                    opcode: r.opcode,
                    flags: r.flags,
                    regs: r.regs,
                    steps: r.steps,
                    changed_regs: (!names.is_empty()).then_some(names),
                    mem_access: r.mem_access.as_ref().map(MemAccess::from),
                })
            }
            EventKind::DebugBreak(b) => Self::DebugBreak(b.into()),
            EventKind::WatchUpdate(w) => Self::WatchUpdate(WatchUpdateData {
                watch_id: w.watch_id,
                address: w.address,
                expr: format!("0x{:04x}", w.address),
                kind: "address",
                length: w.length,
                old: to_hex(&w.old),
                new: to_hex(&w.new),
            }),
            EventKind::Stdout(b) | EventKind::Stderr(b) => Self::Output(OutputData {
                text: String::from_utf8_lossy(b).into_owned(),
            }),
            EventKind::Fault(f) => Self::Fault((*f).into()),
            EventKind::CanTx { id, data } => Self::CanTx(CanTxData {
                id: *id,
                data: to_hex(data),
            }),
            EventKind::Mailbox(m) => Self::Mailbox(MailboxData::of(m)),
            EventKind::Value(v) => Self::Value(ValueData::of(v)),
            EventKind::Warning(w) => Self::Warning(match w {
                Warning::EventDropped { dropped, first_seq } => WarningData {
                    drops: Some(*dropped),
                    dropped_seq: Some(*first_seq),
                    ..WarningData::new(w)
                },
                Warning::Unsupported(what) => WarningData {
                    feature: Some(what),
                    ..WarningData::new(w)
                },
                Warning::CapabilityDenied { module, cap } => WarningData {
                    feature: Some(cap),
                    module: Some(*module),
                    ..WarningData::new(w)
                },
                Warning::BudgetExceeded { budget, limit } => WarningData {
                    budget: Some(budget.as_str()),
                    limit: Some(*limit),
                    ..WarningData::new(w)
                },
            }),
            EventKind::Provisioning(p) => Self::Provisioning(ProvisioningData::of(p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_register_names() {
        assert_eq!(
            changed_reg_names((1 << 0) | (1 << 15) | (1 << 16) | (1 << 17) | (1 << 18)),
            ["R0", "R15", "SP", "PSW"]
        );
        assert_eq!(reg_bit("r3"), Some(1 << 3));
        assert_eq!(reg_bit("psw"), Some(1 << 18));
        assert_eq!(reg_bit("X"), None);
    }
}
