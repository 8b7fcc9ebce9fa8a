//! Request dispatch table: one typed [`Command`] per request, whichever spelling the
//! client used.
//!
//! Names are matched lower-cased. Besides the reference's names and `cmd`+`op` forms this
//! accepts the design's dotted names (design.md §4 item 10): `<group>.<op>` for every
//! `op`-multiplexed command (`bp.set`, `bp.add`, `bp.remove`, `bp.list`, `stack.info`,
//! `symbols.list`, `sym.lookup_addr`, `memory.regions`, `watch.add`, `trace.records`,
//! `clock.start`, ...), plus `disasm.read`, `reg.get`/`reg.set` (= `vm_reg_get`/`vm_reg_set`),
//! `mem.read`/`mem.write` (= `peek`/`poke`), `vm.step`, `vm.clock` and `continue`
//! (= `resume`). A dotted name's op wins over an `op` field.
//!
//! Each command group lives in its own file with its argument types, parsing (with the
//! reference's error strings) and execution.

pub mod debug;
pub mod events;
mod fields;
pub mod ipc;
pub mod lifecycle;
pub mod provision;
pub mod regs;
mod required;
pub mod reverse;
pub mod run;
pub mod session;
pub mod symbols;
pub mod trace;
pub mod values;

use crate::args::Obj;
use crate::context::{Ctx, Outcome};
use crate::error::ProtoError;
use crate::session::OpenParams;

pub use debug::{BpOp, DisasmArgs, DisasmMode, WatchOp};
pub use events::SubscribeArgs;
pub use ipc::{FanoutArgs, FanoutScope, ListenArgs, SendArgs};
pub use lifecycle::{LoadArgs, ReloadArgs};
pub use regs::{PeekArgs, PokeArgs, RegGetArgs, RegId, RegSetArgs};
pub use reverse::RecordOp;
pub use run::{ClockOp, SchedOp, StepArgs};
pub use symbols::{SymOp, SymbolKind, SymbolsArgs};
pub use trace::TraceOp;
pub use values::{CallArgs, RegistryFilter, ValArgs};

/// Commands multiplexed by `op`, which therefore also accept `<name>.<op>`.
pub const OP_COMMANDS: &[&str] = &[
    "bp", "clock", "stack", "symbols", "sym", "memory", "watch", "trace", "record",
];

/// Every request, normalised.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `ping`.
    Ping,
    /// `info`.
    Info {
        /// Selected task.
        pid: Option<u32>,
    },
    /// `attach`.
    Attach,
    /// `detach`.
    Detach,
    /// `load` / `exec`.
    Load(LoadArgs),
    /// `reload`.
    Reload(ReloadArgs),
    /// `kill`.
    Kill {
        /// Task.
        pid: u32,
    },
    /// `ps`.
    Ps,
    /// `provision.*`.
    Provision(provision::ProvOp),
    /// `list` (mailbox channels of a task).
    ListChannels {
        /// Task.
        pid: u32,
    },
    /// `restart`.
    Restart {
        /// Lower-cased targets (`vm`, `exec`).
        targets: Vec<String>,
    },
    /// `shutdown`.
    Shutdown,
    /// `pause`.
    Pause {
        /// Task.
        pid: u32,
    },
    /// `resume` / `continue`.
    Resume {
        /// Task.
        pid: u32,
    },
    /// `step` / `vm.step` (and `clock step`, which is [`ClockOp::Step`]).
    Step(StepArgs),
    /// `clock`, `start_auto`, `stop_auto`.
    Clock(ClockOp),
    /// `sched`.
    Sched(SchedOp),
    /// `dumpregs`.
    DumpRegs {
        /// Task.
        pid: u32,
    },
    /// `peek` / `mem.read`.
    Peek(PeekArgs),
    /// `poke` / `mem.write`.
    Poke(PokeArgs),
    /// `reg.get` / `vm_reg_get`.
    RegGet(RegGetArgs),
    /// `reg.set` / `vm_reg_set`.
    RegSet(RegSetArgs),
    /// `bp`, `bp.*`.
    Bp {
        /// Task.
        pid: u32,
        /// Operation.
        op: BpOp,
    },
    /// `stack`, `stack.info`.
    Stack {
        /// Task.
        pid: u32,
        /// Frame limit, 1..=64.
        max_frames: u32,
    },
    /// `disasm`, `disasm.read`.
    Disasm(DisasmArgs),
    /// `symbols`, `symbols.list`.
    Symbols(SymbolsArgs),
    /// `sym`, `sym.*`.
    Sym {
        /// Task.
        pid: u32,
        /// Operation.
        op: SymOp,
    },
    /// `memory`, `memory.regions`.
    MemoryRegions {
        /// Task.
        pid: u32,
    },
    /// `watch`, `watch.*`.
    Watch {
        /// Task.
        pid: u32,
        /// Operation.
        op: WatchOp,
    },
    /// `trace`, `trace.*`.
    Trace(TraceOp),
    /// `mailbox_snapshot`.
    MailboxSnapshot,
    /// `listen`.
    Listen(ListenArgs),
    /// `send`.
    Send(SendArgs),
    /// `stdio_fanout`.
    StdioFanout(FanoutArgs),
    /// `dmesg`.
    Dmesg {
        /// Newest entries to return.
        limit: Option<usize>,
        /// Only entries of this session.
        filter_session: Option<String>,
    },
    /// `val.list`.
    ValList(RegistryFilter),
    /// `val.get`.
    ValGet(ValArgs),
    /// `val.set`.
    ValSet(ValArgs),
    /// `val.stats`.
    ValStats,
    /// `cmd.list`.
    CmdList(RegistryFilter),
    /// `cmd.call`.
    CmdCall(CallArgs),
    /// `cmd.stats`.
    CmdStats,
    /// `session.open`.
    SessionOpen(OpenParams),
    /// `session.keepalive`.
    SessionKeepalive,
    /// `session.close`.
    SessionClose,
    /// `session.current`.
    SessionCurrent,
    /// `session.list`.
    SessionList,
    /// `session.terminate`.
    SessionTerminate {
        /// Session to close.
        target: String,
    },
    /// `events.subscribe`.
    EventsSubscribe(SubscribeArgs),
    /// `events.ack`.
    EventsAck {
        /// Acknowledged seq.
        seq: u64,
    },
    /// `events.unsubscribe`.
    EventsUnsubscribe,
    /// `record`, `record.*`.
    Record(RecordOp),
    /// `step_back`.
    StepBack {
        /// Task.
        pid: u32,
        /// Instructions of the task to go back.
        steps: u64,
    },
    /// `reverse_continue`.
    ReverseContinue {
        /// Task.
        pid: u32,
    },
    /// `travel`.
    Travel {
        /// Global instruction count.
        to: u64,
    },
}

/// Session commands run before the session check (they do their own).
pub fn is_session_command(name: &str) -> bool {
    matches!(
        name,
        "session.open"
            | "session.keepalive"
            | "session.close"
            | "session.current"
            | "session.list"
            | "session.terminate"
    )
}

/// Resolves aliases: the canonical name and the op implied by a dotted spelling.
pub fn resolve(name: &str) -> (&str, Option<String>) {
    let exact = match name {
        "exec" => Some(("load", None)),
        "start_auto" => Some(("clock", Some("start"))),
        "stop_auto" => Some(("clock", Some("stop"))),
        "continue" => Some(("resume", None)),
        "vm.step" => Some(("step", None)),
        "vm.clock" => Some(("clock", None)),
        "disasm.read" => Some(("disasm", None)),
        "vm_reg_get" => Some(("reg.get", None)),
        "vm_reg_set" => Some(("reg.set", None)),
        "mem.read" => Some(("peek", None)),
        "mem.write" => Some(("poke", None)),
        _ => None,
    };
    if let Some((base, op)) = exact {
        return (base, op.map(str::to_string));
    }
    if let Some((base, op)) = name.split_once('.')
        && let Some(canon) = OP_COMMANDS.iter().find(|c| **c == base)
    {
        return (canon, Some(op.to_string()));
    }
    (name, None)
}

impl Command {
    /// Parses a request. `name` is the lower-cased `cmd` as sent (used in messages such as
    /// `exec requires 'path'`).
    pub fn parse(name: &str, obj: &Obj) -> Result<Command, ProtoError> {
        let (base, op) = resolve(name);
        match base {
            "ping" => Ok(Command::Ping),
            "info" => Ok(Command::Info {
                pid: lifecycle::parse_info(obj)?,
            }),
            "attach" => Ok(Command::Attach),
            "detach" => Ok(Command::Detach),
            "load" => lifecycle::parse_load(name, obj).map(Command::Load),
            "reload" => lifecycle::parse_reload(obj).map(Command::Reload),
            "kill" => Ok(Command::Kill {
                pid: lifecycle::parse_kill(obj)?,
            }),
            "ps" => Ok(Command::Ps),
            "list" => Ok(Command::ListChannels {
                pid: lifecycle::parse_list(obj)?,
            }),
            "restart" => Ok(Command::Restart {
                targets: lifecycle::parse_restart(obj)?,
            }),
            "shutdown" => Ok(Command::Shutdown),
            "pause" => Ok(Command::Pause {
                pid: run::parse_pause(obj)?,
            }),
            "resume" => Ok(Command::Resume {
                pid: run::parse_resume(name, obj)?,
            }),
            "step" => run::parse_step(obj).map(Command::Step),
            "clock" => run::parse_clock(op, obj).map(Command::Clock),
            "sched" => run::parse_sched(obj).map(Command::Sched),
            "dumpregs" => Ok(Command::DumpRegs {
                pid: regs::parse_dumpregs(obj)?,
            }),
            "peek" => regs::parse_peek(name, obj).map(Command::Peek),
            "poke" => regs::parse_poke(name, obj).map(Command::Poke),
            "reg.get" => regs::parse_reg_get(name, obj).map(Command::RegGet),
            "reg.set" => regs::parse_reg_set(name, obj).map(Command::RegSet),
            "bp" => debug::parse_bp(op, obj).map(|(pid, op)| Command::Bp { pid, op }),
            "stack" => debug::parse_stack(op, obj)
                .map(|(pid, max_frames)| Command::Stack { pid, max_frames }),
            "disasm" => debug::parse_disasm(obj).map(Command::Disasm),
            "memory" => Ok(Command::MemoryRegions {
                pid: debug::parse_memory(op, obj)?,
            }),
            "watch" => debug::parse_watch(op, obj).map(|(pid, op)| Command::Watch { pid, op }),
            "symbols" => symbols::parse_symbols(op, obj).map(Command::Symbols),
            "sym" => symbols::parse_sym(op, obj).map(|(pid, op)| Command::Sym { pid, op }),
            "trace" => trace::parse_trace(op, obj).map(Command::Trace),
            "mailbox_snapshot" => Ok(Command::MailboxSnapshot),
            "listen" => ipc::parse_listen(obj).map(Command::Listen),
            "send" => ipc::parse_send(obj).map(Command::Send),
            "stdio_fanout" => ipc::parse_fanout(obj).map(Command::StdioFanout),
            "dmesg" => ipc::parse_dmesg(obj).map(|(limit, filter_session)| Command::Dmesg {
                limit,
                filter_session,
            }),
            "val.list" => values::parse_list("val.list", obj).map(Command::ValList),
            "val.get" => values::parse_val_get(obj).map(Command::ValGet),
            "val.set" => values::parse_val_set(obj).map(Command::ValSet),
            "val.stats" => Ok(Command::ValStats),
            "cmd.list" => values::parse_list("cmd.list", obj).map(Command::CmdList),
            "cmd.call" => values::parse_cmd_call(obj).map(Command::CmdCall),
            "cmd.stats" => Ok(Command::CmdStats),
            "session.open" => session::parse_open(obj).map(Command::SessionOpen),
            "session.keepalive" => Ok(Command::SessionKeepalive),
            "session.close" => Ok(Command::SessionClose),
            "session.current" => Ok(Command::SessionCurrent),
            "session.list" => Ok(Command::SessionList),
            "session.terminate" => Ok(Command::SessionTerminate {
                target: session::parse_terminate(obj)?,
            }),
            "events.subscribe" => events::parse_subscribe(obj).map(Command::EventsSubscribe),
            "events.ack" => Ok(Command::EventsAck {
                seq: events::parse_ack(obj)?,
            }),
            "events.unsubscribe" => Ok(Command::EventsUnsubscribe),
            "record" => reverse::parse_record(op, obj).map(Command::Record),
            "step_back" => {
                reverse::parse_step_back(obj).map(|(pid, steps)| Command::StepBack { pid, steps })
            }
            "reverse_continue" => {
                reverse::parse_reverse_continue(obj).map(|pid| Command::ReverseContinue { pid })
            }
            "travel" => reverse::parse_travel(obj).map(|to| Command::Travel { to }),
            n if n.starts_with("provision.") => provision::parse(n, obj).map(Command::Provision),
            _ => Err(ProtoError::UnknownCmd(name.to_string())),
        }
    }

    /// Whether the command may run long enough that it should not occupy an async worker
    /// (it is then run under `block_in_place` on a multi-thread runtime).
    pub fn is_heavy(&self) -> bool {
        matches!(
            self,
            Command::Step(_)
                | Command::Clock(ClockOp::Step(_))
                | Command::Load(_)
                | Command::Reload(_)
                | Command::Sym {
                    op: SymOp::Load { .. },
                    ..
                }
                | Command::Trace(TraceOp::Import { .. })
                | Command::StepBack { .. }
                | Command::ReverseContinue { .. }
                | Command::Travel { .. }
        ) || matches!(self, Command::Provision(op) if op.is_heavy())
    }

    /// Runs the command.
    pub fn execute(self, ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
        match self {
            Command::Ping => Ok(Outcome::reply(crate::reply::Reply::Pong)),
            Command::Info { pid } => lifecycle::info(ctx, pid),
            Command::Attach => lifecycle::attach(ctx),
            Command::Detach => lifecycle::detach(ctx),
            Command::Load(a) => lifecycle::load(ctx, a),
            Command::Reload(a) => lifecycle::reload(ctx, a),
            Command::Kill { pid } => lifecycle::kill(ctx, pid),
            Command::Ps => lifecycle::ps(ctx),
            Command::Provision(op) => provision::execute(ctx, op),
            Command::ListChannels { pid } => lifecycle::list_channels(ctx, pid),
            Command::Restart { targets } => lifecycle::restart(ctx, targets),
            Command::Shutdown => lifecycle::shutdown(ctx),
            Command::Pause { pid } => run::pause(ctx, pid),
            Command::Resume { pid } => run::resume(ctx, pid),
            Command::Step(a) => run::step(ctx, a),
            Command::Clock(op) => run::clock(ctx, op),
            Command::Sched(op) => run::sched(ctx, op),
            Command::DumpRegs { pid } => regs::dumpregs(ctx, pid),
            Command::Peek(a) => regs::peek(ctx, a),
            Command::Poke(a) => regs::poke(ctx, a),
            Command::RegGet(a) => regs::reg_get(ctx, a),
            Command::RegSet(a) => regs::reg_set(ctx, a),
            Command::Bp { pid, op } => debug::bp(ctx, pid, op),
            Command::Stack { pid, max_frames } => debug::stack(ctx, pid, max_frames),
            Command::Disasm(a) => debug::disasm(ctx, a),
            Command::MemoryRegions { pid } => debug::memory(ctx, pid),
            Command::Watch { pid, op } => debug::watch(ctx, pid, op),
            Command::Symbols(a) => symbols::symbols(ctx, a),
            Command::Sym { pid, op } => symbols::sym(ctx, pid, op),
            Command::Trace(op) => trace::trace(ctx, op),
            Command::MailboxSnapshot => ipc::mailbox_snapshot(ctx),
            Command::Listen(a) => ipc::listen(ctx, a),
            Command::Send(a) => ipc::send(ctx, a),
            Command::StdioFanout(a) => ipc::fanout(ctx, a),
            Command::Dmesg {
                limit,
                filter_session,
            } => ipc::dmesg(ctx, limit, filter_session),
            Command::ValList(f) => values::val_list(ctx, f),
            Command::ValGet(a) => values::val_get(ctx, a),
            Command::ValSet(a) => values::val_set(ctx, a),
            Command::ValStats => values::val_stats(ctx),
            Command::CmdList(f) => values::cmd_list(ctx, f),
            Command::CmdCall(a) => values::cmd_call(ctx, a),
            Command::CmdStats => values::cmd_stats(ctx),
            Command::SessionOpen(p) => session::open(ctx, p),
            Command::SessionKeepalive => session::keepalive(ctx),
            Command::SessionClose => session::close(ctx),
            Command::SessionCurrent => session::current(ctx),
            Command::SessionList => session::list(ctx),
            Command::SessionTerminate { target } => session::terminate(ctx, target),
            Command::EventsSubscribe(a) => events::subscribe(ctx, a),
            Command::EventsAck { seq } => events::ack(ctx, seq),
            Command::EventsUnsubscribe => events::unsubscribe(ctx),
            Command::Record(op) => reverse::record(ctx, op),
            Command::StepBack { pid, steps } => reverse::step_back(ctx, pid, steps),
            Command::ReverseContinue { pid } => reverse::reverse_continue(ctx, pid),
            Command::Travel { to } => reverse::travel(ctx, to),
        }
    }
}

#[cfg(test)]
mod tests;
