//! The capability each command needs (docs/security.md has the table), and the task it
//! acts on, for the app-name part of a grant.

use super::{ClockOp, Command, RecordOp, SchedOp, SymOp, TraceOp, WatchOp};
use crate::cmd::debug::BpOp;
use crate::cmd::ipc::FanoutScope;
use crate::policy::Cap;

impl Command {
    /// The capability a request needs to run at all.
    pub fn required(&self) -> Cap {
        use Command as C;
        match self {
            C::Ping
            | C::Info { .. }
            | C::Attach
            | C::Ps
            | C::ListChannels { .. }
            | C::DumpRegs { .. }
            | C::Peek(_)
            | C::RegGet(_)
            | C::Stack { .. }
            | C::Disasm(_)
            | C::Symbols(_)
            | C::MemoryRegions { .. }
            | C::MailboxSnapshot
            | C::Listen(_)
            | C::Dmesg { .. }
            | C::ValList(_)
            | C::ValGet(_)
            | C::ValStats
            | C::CmdList(_)
            | C::CmdStats
            | C::SessionOpen(_)
            | C::SessionKeepalive
            | C::SessionClose
            | C::SessionCurrent
            | C::SessionList
            | C::SessionTerminate { .. }
            | C::EventsSubscribe(_)
            | C::EventsAck { .. }
            | C::EventsUnsubscribe
            | C::Sched(SchedOp::Stats { .. })
            | C::Clock(ClockOp::Status)
            | C::Bp { op: BpOp::List, .. }
            | C::Watch {
                op: WatchOp::List, ..
            }
            | C::Trace(TraceOp::Records { .. } | TraceOp::Export { .. })
            | C::Record(RecordOp::Status) => Cap::Observe,
            C::Sym { op, .. } => match op {
                SymOp::Load { .. } => Cap::Debug,
                _ => Cap::Observe,
            },
            C::Pause { .. }
            | C::Resume { .. }
            | C::Send(_)
            | C::ValSet(_)
            | C::CmdCall(_)
            | C::Sched(SchedOp::Set { .. }) => Cap::Control,
            // One task is that task's run state; every task at once is the clock's business.
            C::Step(a) | C::Clock(ClockOp::Step(a)) => {
                if a.pid.is_some() {
                    Cap::Control
                } else {
                    Cap::Admin
                }
            }
            C::Poke(_)
            | C::RegSet(_)
            | C::Bp { .. }
            | C::Watch { .. }
            | C::Trace(TraceOp::Toggle { .. } | TraceOp::Import { .. }) => Cap::Debug,
            C::Provision(op) if op.is_read_only() => Cap::Observe,
            C::Load(_) | C::Reload(_) | C::Kill { .. } | C::Provision(_) => Cap::Load,
            C::Restart { .. }
            | C::Shutdown
            | C::Detach
            | C::StdioFanout(_)
            | C::Clock(_)
            | C::Trace(TraceOp::ChangedRegs(_) | TraceOp::BufferSize(_))
            // Reverse execution moves every task, and a recording holds memory.
            | C::Record(_)
            | C::StepBack { .. }
            | C::ReverseContinue { .. }
            | C::Travel { .. } => Cap::Admin,
        }
    }

    /// The task a mutating request acts on, when it names one.
    pub fn target_pid(&self) -> Option<u32> {
        use Command as C;
        match self {
            C::Reload(a) => Some(a.pid),
            C::Provision(op) => op.target_pid(),
            C::Kill { pid }
            | C::Pause { pid }
            | C::Resume { pid }
            | C::Bp { pid, .. }
            | C::Watch { pid, .. }
            | C::Sym { pid, .. }
            | C::StepBack { pid, .. }
            | C::ReverseContinue { pid } => Some(*pid),
            C::Step(a) | C::Clock(ClockOp::Step(a)) => a.pid,
            C::Poke(a) => Some(a.pid),
            C::RegSet(a) => a.pid,
            C::Send(a) => Some(a.pid),
            C::ValSet(a) => a.pid,
            C::CmdCall(a) => a.pid,
            C::Sched(SchedOp::Set { pid, .. }) => Some(*pid),
            C::StdioFanout(a) => match a.scope {
                FanoutScope::Pid(p) => Some(p),
                _ => None,
            },
            C::Trace(TraceOp::Toggle { pid, .. } | TraceOp::Import { pid, .. }) => Some(*pid),
            _ => None,
        }
    }
}
