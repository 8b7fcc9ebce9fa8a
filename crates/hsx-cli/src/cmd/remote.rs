//! Command-line shapes of the client commands that talk to hsxd. The same types parse
//! one-shot subcommands (`hsx ps`) and shell lines (`hsx shell`, then `ps`).
//!
//! Naming: the offline `hsx disasm APP.hxe` keeps its name; the remote disassembler of a
//! live task is `hsx dis PID [ADDR]`.

use clap::{Args, Subcommand, ValueEnum};

pub use super::remote_args::{AddrSpec, Common, parse_addr, parse_num, parse_u16, parse_u32};

/// The client commands.
#[derive(Debug, Clone, Subcommand, PartialEq)]
pub enum RemoteCommand {
    /// Check that hsxd answers, and how fast.
    Ping(NoArgs),
    /// List tasks: state, app, PC, steps (--budgets: their budgets).
    Ps(PsArgs),
    /// Executive summary (clock, current task); with PID, its registers too.
    Info(InfoArgs),
    /// Load an image (.hxe, or .mvasm that hsxd assembles) as a new task.
    Load(LoadArgs),
    /// Kill a task (the other tasks keep running).
    Kill(PidArgs),
    /// Pause a task.
    Pause(PidArgs),
    /// Resume a paused task.
    Resume(PidArgs),
    /// Execute instructions now (of one task, or round-robin over all).
    Step(StepArgs),
    /// Auto clock: status, start, stop, rate, step.
    Clock(ClockArgs),
    /// Scheduler: statistics, or set a task's priority/quantum.
    Sched(SchedArgs),
    /// Registers of a task.
    Regs(PidArgs),
    /// Read task memory (hex dump).
    Peek(PeekArgs),
    /// Write bytes into task memory.
    Poke(PokeArgs),
    /// Breakpoints: add, rm, ls, clear.
    Bp(BpArgs),
    /// Call stack of a task.
    Stack(StackArgs),
    /// Disassemble a live task's code (for a file: `hsx disasm APP.hxe`).
    Dis(DisArgs),
    /// Symbols of a task: list them, or look up a name or an address.
    Sym(SymArgs),
    /// Memory map of a task.
    Mem(MemArgs),
    /// Memory watches: add, rm, ls.
    Watch(WatchArgs),
    /// Instruction trace: switch on/off, show records, configure.
    Trace(TraceArgs),
    /// Mailboxes: all descriptors, or one task's channels.
    Mbox(MboxArgs),
    /// Send text (or bytes) to a task's stdin or another mailbox.
    Send(SendArgs),
    /// Print a task's stdout as it comes (all tasks' without PID).
    Listen(ListenArgs),
    /// The executive's log.
    Dmesg(DmesgArgs),
    /// Values: get, set, ls.
    Val(ValArgs),
    /// Commands: call, ls.
    Cmd(CmdArgs),
    /// Recent events, or follow them live.
    Events(EventsArgs),
    /// Send one raw JSON request and print the reply.
    Raw(RawArgs),
    /// Step a task back in time (or run back to its previous breakpoint).
    Back(BackArgs),
    /// Recording for reverse execution: start, stop, status.
    Record(RecordArgs),
    /// Stop hsxd (it flushes persisted values first).
    Shutdown(NoArgs),
}

impl RemoteCommand {
    /// The options shared by every client command.
    pub fn common(&self) -> &Common {
        use RemoteCommand as R;
        match self {
            R::Ping(a) | R::Shutdown(a) => &a.common,
            R::Ps(a) => &a.common,
            R::Info(a) => &a.common,
            R::Load(a) => &a.common,
            R::Kill(a) | R::Pause(a) | R::Resume(a) | R::Regs(a) => &a.common,
            R::Step(a) => &a.common,
            R::Clock(a) => &a.common,
            R::Sched(a) => &a.common,
            R::Peek(a) => &a.common,
            R::Poke(a) => &a.common,
            R::Bp(a) => &a.common,
            R::Stack(a) => &a.common,
            R::Dis(a) => &a.common,
            R::Sym(a) => &a.common,
            R::Mem(a) => &a.common,
            R::Watch(a) => &a.common,
            R::Trace(a) => &a.common,
            R::Mbox(a) => &a.common,
            R::Send(a) => &a.common,
            R::Listen(a) => &a.common,
            R::Dmesg(a) => &a.common,
            R::Val(a) => &a.common,
            R::Cmd(a) => &a.common,
            R::Events(a) => &a.common,
            R::Raw(a) => &a.common,
            R::Back(a) => &a.common,
            R::Record(a) => &a.common,
        }
    }
}

/// No arguments besides the common ones.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct NoArgs {
    #[command(flatten)]
    pub common: Common,
}

/// `ps`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct PsArgs {
    /// Show each task's budgets instead: used/limit (and refusals) of the watchdog,
    /// mailbox descriptors and handles, values, commands, open files and file bytes.
    #[arg(long)]
    pub budgets: bool,
    #[command(flatten)]
    pub common: Common,
}

/// One task.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct PidArgs {
    /// Task id.
    #[arg(value_parser = parse_u32)]
    pub pid: u32,
    #[command(flatten)]
    pub common: Common,
}

/// `info [PID]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct InfoArgs {
    /// Also show this task's registers.
    #[arg(value_parser = parse_u32)]
    pub pid: Option<u32>,
    #[command(flatten)]
    pub common: Common,
}

/// `load PATH`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct LoadArgs {
    /// Image (.hxe) or MVASM source (.mvasm) to load; made absolute before it is sent, as
    /// hsxd resolves it in its own working directory.
    #[arg(value_name = "APP.hxe|APP.mvasm")]
    pub path: std::path::PathBuf,
    /// Symbol file to use instead of APP.sym.
    #[arg(long, value_name = "APP.sym")]
    pub symbols: Option<std::path::PathBuf>,
    /// Ask for a verbose load.
    #[arg(long)]
    pub verbose: bool,
    /// Hold the task before its first instruction (set breakpoints, then `hsx resume PID`).
    #[arg(long)]
    pub paused: bool,
    #[command(flatten)]
    pub common: Common,
}

/// `step [PID] [-n N] [--source]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct StepArgs {
    /// Only this task (default: the scheduler picks, round-robin).
    #[arg(value_parser = parse_u32)]
    pub pid: Option<u32>,
    /// Instructions to execute (default: the server's step size).
    #[arg(short = 'n', long = "count", visible_alias = "steps", value_parser = parse_num)]
    pub steps: Option<u64>,
    /// Step to the next source line (needs symbols).
    #[arg(long)]
    pub source: bool,
    #[command(flatten)]
    pub common: Common,
}

/// `clock [status|start|stop|rate HZ|step [N]]`.
#[derive(Debug, Clone, Args, PartialEq)]
pub struct ClockArgs {
    #[command(subcommand)]
    pub op: Option<ClockOp>,
    #[command(flatten)]
    pub common: Common,
}

/// `clock policy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BreakPolicyArg {
    /// Only the stopped task stops (non-stop).
    Task,
    /// Every task stops (all-stop).
    All,
}

/// Clock operations.
#[derive(Debug, Clone, Subcommand, PartialEq)]
pub enum ClockOp {
    /// Show the clock (the default).
    Status,
    /// Start the auto clock.
    Start,
    /// Stop the auto clock.
    Stop,
    /// Limit the auto clock to HZ steps per second (0 = as fast as possible).
    Rate {
        /// Steps per second.
        hz: f64,
    },
    /// What a task's breakpoint or fault does to the clock: `task` (only that task stops,
    /// the default) or `all` (the clock stops, so every task does).
    Policy {
        /// `task` or `all`.
        on_break: BreakPolicyArg,
    },
    /// Execute N instructions now.
    Step {
        /// Instructions (default: the step size).
        #[arg(value_parser = parse_num)]
        steps: Option<u64>,
        /// Only this task.
        #[arg(short = 'p', long, value_parser = parse_u32)]
        pid: Option<u32>,
    },
}

/// `sched [PID --priority P --quantum Q] [--limit N]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct SchedArgs {
    /// Task to change (without: show scheduler statistics).
    #[arg(value_parser = parse_u32)]
    pub pid: Option<u32>,
    /// New priority.
    #[arg(long, requires = "pid", value_parser = parse_u32)]
    pub priority: Option<u32>,
    /// New quantum (instructions per turn).
    #[arg(long, requires = "pid", value_parser = parse_u32)]
    pub quantum: Option<u32>,
    /// Trace entries to show with the statistics.
    #[arg(long, default_value_t = 10)]
    pub limit: u32,
    #[command(flatten)]
    pub common: Common,
}

/// `peek PID ADDR [LEN]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct PeekArgs {
    /// Task id.
    #[arg(value_parser = parse_u32)]
    pub pid: u32,
    /// Start address, or a symbol name.
    #[arg(value_parser = parse_addr)]
    pub addr: AddrSpec,
    /// Bytes to read.
    #[arg(default_value = "64", value_parser = parse_u32)]
    pub length: u32,
    #[command(flatten)]
    pub common: Common,
}

/// `poke PID ADDR HEX`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct PokeArgs {
    /// Task id.
    #[arg(value_parser = parse_u32)]
    pub pid: u32,
    /// Start address, or a symbol name.
    #[arg(value_parser = parse_addr)]
    pub addr: AddrSpec,
    /// Bytes as hex, e.g. 0102ff or "01 02 ff".
    #[arg(num_args = 1.., required = true)]
    pub hex: Vec<String>,
    #[command(flatten)]
    pub common: Common,
}

/// `bp add|rm|ls|clear`.
#[derive(Debug, Clone, Args, PartialEq)]
pub struct BpArgs {
    #[command(subcommand)]
    pub op: BpOp,
    #[command(flatten)]
    pub common: Common,
}

/// Breakpoint operations.
#[derive(Debug, Clone, Subcommand, PartialEq)]
pub enum BpOp {
    /// Add a breakpoint at an address, a symbol or a C line (FILE:LINE).
    #[command(visible_alias = "set")]
    Add {
        /// Task id.
        #[arg(value_parser = parse_u32)]
        pid: u32,
        /// Address, symbol name, or C source position FILE:LINE.
        #[arg(value_parser = parse_addr)]
        addr: AddrSpec,
    },
    /// Remove a breakpoint.
    #[command(visible_alias = "clear-at", alias = "remove", alias = "del")]
    Rm {
        /// Task id.
        #[arg(value_parser = parse_u32)]
        pid: u32,
        /// Address, symbol name, or C source position FILE:LINE.
        #[arg(value_parser = parse_addr)]
        addr: AddrSpec,
    },
    /// List a task's breakpoints.
    #[command(visible_alias = "list")]
    Ls {
        /// Task id.
        #[arg(value_parser = parse_u32)]
        pid: u32,
    },
    /// Remove all of a task's breakpoints.
    Clear {
        /// Task id.
        #[arg(value_parser = parse_u32)]
        pid: u32,
    },
}

/// `stack PID [--max N]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct StackArgs {
    /// Task id.
    #[arg(value_parser = parse_u32)]
    pub pid: u32,
    /// Most frames to walk (1..64).
    #[arg(long, default_value_t = 16)]
    pub max: u32,
    #[command(flatten)]
    pub common: Common,
}

/// `dis PID [ADDR] [-n COUNT]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct DisArgs {
    /// Task id.
    #[arg(value_parser = parse_u32)]
    pub pid: u32,
    /// Start address, symbol or FILE:LINE (default: the task's PC).
    #[arg(value_parser = parse_addr)]
    pub addr: Option<AddrSpec>,
    /// Instructions to show (1..64).
    #[arg(short = 'n', long, default_value_t = 16)]
    pub count: u32,
    #[command(flatten)]
    pub common: Common,
}

/// Which symbols to list.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum SymKind {
    /// Everything.
    #[default]
    All,
    /// Functions only.
    Functions,
    /// Everything but functions.
    Variables,
}

/// `sym PID [NAME|ADDR]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct SymArgs {
    /// Task id.
    #[arg(value_parser = parse_u32)]
    pub pid: u32,
    /// A name to look up, an address to name, or FILE:LINE (without: list the symbols).
    #[arg(value_parser = parse_addr)]
    pub query: Option<AddrSpec>,
    /// Kind of symbols to list.
    #[arg(long = "type", value_enum, default_value_t = SymKind::All)]
    pub kind: SymKind,
    /// Load this .sym file for the task instead.
    #[arg(long, value_name = "APP.sym", conflicts_with = "query")]
    pub load: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

/// `mem regions PID`.
#[derive(Debug, Clone, Args, PartialEq)]
pub struct MemArgs {
    #[command(subcommand)]
    pub op: MemOp,
    #[command(flatten)]
    pub common: Common,
}

/// Memory-map operations.
#[derive(Debug, Clone, Subcommand, PartialEq)]
pub enum MemOp {
    /// Code, data, registers and stack regions of a task.
    Regions {
        /// Task id.
        #[arg(value_parser = parse_u32)]
        pid: u32,
    },
}

/// `watch add|rm|ls`.
#[derive(Debug, Clone, Args, PartialEq)]
pub struct WatchArgs {
    #[command(subcommand)]
    pub op: WatchOp,
    #[command(flatten)]
    pub common: Common,
}

/// Watch operations.
#[derive(Debug, Clone, Subcommand, PartialEq)]
pub enum WatchOp {
    /// Watch an address, a symbol, or a local (`local:NAME`, `FUNC::VAR`).
    Add {
        /// Task id.
        #[arg(value_parser = parse_u32)]
        pid: u32,
        /// What to watch.
        expr: String,
        /// Bytes to watch.
        #[arg(long, value_parser = parse_u32)]
        length: Option<u32>,
    },
    /// Remove a watch.
    #[command(alias = "remove", alias = "del")]
    Rm {
        /// Task id.
        #[arg(value_parser = parse_u32)]
        pid: u32,
        /// Watch id.
        #[arg(value_parser = parse_u32)]
        id: u32,
    },
    /// List a task's watches.
    #[command(visible_alias = "list")]
    Ls {
        /// Task id.
        #[arg(value_parser = parse_u32)]
        pid: u32,
    },
}

/// `trace on|off|toggle|records|config`.
#[derive(Debug, Clone, Args, PartialEq)]
pub struct TraceArgs {
    #[command(subcommand)]
    pub op: TraceOp,
    #[command(flatten)]
    pub common: Common,
}

/// On/off.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OnOff {
    /// On.
    On,
    /// Off.
    Off,
}

/// Trace operations.
#[derive(Debug, Clone, Subcommand, PartialEq)]
pub enum TraceOp {
    /// Trace every instruction of a task.
    On {
        /// Task id.
        #[arg(value_parser = parse_u32)]
        pid: u32,
    },
    /// Stop tracing a task.
    Off {
        /// Task id.
        #[arg(value_parser = parse_u32)]
        pid: u32,
    },
    /// Show the last records of a task's trace buffer.
    #[command(visible_alias = "show")]
    Records {
        /// Task id.
        #[arg(value_parser = parse_u32)]
        pid: u32,
        /// Records to show.
        #[arg(
            short = 'n',
            long = "count",
            visible_alias = "limit",
            default_value_t = 20
        )]
        limit: u32,
    },
    /// Global trace settings.
    Config {
        /// Report changed registers in trace records.
        #[arg(long, value_enum)]
        changed_regs: Option<OnOff>,
        /// Records kept per task (0 turns the buffer off).
        #[arg(long, value_parser = parse_u32)]
        buffer: Option<u32>,
    },
}

/// `mbox [PID]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct MboxArgs {
    /// Only this task's channels.
    #[arg(value_parser = parse_u32)]
    pub pid: Option<u32>,
    #[command(flatten)]
    pub common: Common,
}

/// `send PID TEXT`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct SendArgs {
    /// Task id.
    #[arg(value_parser = parse_u32)]
    pub pid: u32,
    /// Text to send (joined with spaces).
    #[arg(num_args = 1.., required = true)]
    pub data: Vec<String>,
    /// DATA is hex bytes.
    #[arg(long)]
    pub hex: bool,
    /// Append a newline.
    #[arg(short = 'l', long)]
    pub newline: bool,
    /// Target mailbox (default: the task's stdin, svc:stdio.in@PID).
    #[arg(long, value_name = "TARGET")]
    pub channel: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// `listen [PID] [--once]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct ListenArgs {
    /// Task id (without: every task's stdout).
    #[arg(value_parser = parse_u32)]
    pub pid: Option<u32>,
    /// Read what is there once and return (default: follow until the task ends or Ctrl-C).
    #[arg(long)]
    pub once: bool,
    /// Poll period in milliseconds while following.
    #[arg(long, default_value_t = 100)]
    pub interval_ms: u64,
    #[command(flatten)]
    pub common: Common,
}

/// `dmesg [-n N]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct DmesgArgs {
    /// Newest entries to show.
    #[arg(short = 'n', long = "count", visible_alias = "limit")]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub common: Common,
}

/// `val get|set|ls`.
#[derive(Debug, Clone, Args, PartialEq)]
pub struct ValArgs {
    #[command(subcommand)]
    pub op: ValOp,
    #[command(flatten)]
    pub common: Common,
}

/// Value operations.
#[derive(Debug, Clone, Subcommand, PartialEq)]
pub enum ValOp {
    /// Read a value.
    Get {
        /// Object id, e.g. 0x0101.
        #[arg(value_parser = parse_u16)]
        oid: u16,
        /// Owning task instance.
        #[arg(short = 'p', long, value_parser = parse_u32)]
        pid: Option<u32>,
    },
    /// Write a value.
    Set {
        /// Object id.
        #[arg(value_parser = parse_u16)]
        oid: u16,
        /// New value.
        #[arg(allow_negative_numbers = true)]
        value: f64,
        /// Owning task instance.
        #[arg(short = 'p', long, value_parser = parse_u32)]
        pid: Option<u32>,
    },
    /// List registered values.
    #[command(visible_alias = "list")]
    Ls {
        /// Only this task's.
        #[arg(short = 'p', long, value_parser = parse_u32)]
        pid: Option<u32>,
        /// Only this group.
        #[arg(long, value_parser = parse_u32)]
        group: Option<u32>,
    },
}

/// `cmd call|ls`.
#[derive(Debug, Clone, Args, PartialEq)]
pub struct CmdArgs {
    #[command(subcommand)]
    pub op: CmdOp,
    #[command(flatten)]
    pub common: Common,
}

/// Command operations.
#[derive(Debug, Clone, Subcommand, PartialEq)]
pub enum CmdOp {
    /// Invoke a command.
    Call {
        /// Object id.
        #[arg(value_parser = parse_u16)]
        oid: u16,
        /// Owning task instance.
        #[arg(short = 'p', long, value_parser = parse_u32)]
        pid: Option<u32>,
        /// Do not wait for the result.
        #[arg(long = "async")]
        async_call: bool,
    },
    /// List registered commands.
    #[command(visible_alias = "list")]
    Ls {
        /// Only this task's.
        #[arg(short = 'p', long, value_parser = parse_u32)]
        pid: Option<u32>,
        /// Only this group.
        #[arg(long, value_parser = parse_u32)]
        group: Option<u32>,
    },
}

/// `events [--follow] [--category C]... [--pid P]...`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct EventsArgs {
    /// Keep printing new events until Ctrl-C.
    #[arg(short, long)]
    pub follow: bool,
    /// Only these event types or groups (task_state, debug_break, stdio, mailbox, ...).
    #[arg(
        short,
        long = "category",
        value_name = "CATEGORY",
        value_delimiter = ','
    )]
    pub categories: Vec<String>,
    /// Only events of these tasks.
    #[arg(short, long = "pid", value_name = "PID", value_delimiter = ',', value_parser = parse_u32)]
    pub pids: Vec<u32>,
    /// Recent events to show first.
    #[arg(
        short = 'n',
        long = "count",
        visible_alias = "limit",
        default_value_t = 20
    )]
    pub limit: usize,
    #[command(flatten)]
    pub common: Common,
}

/// `raw JSON`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct RawArgs {
    /// The request object, e.g. '{"cmd":"ps"}'.
    pub request: String,
    #[command(flatten)]
    pub common: Common,
}

/// `back PID [-n N] [--continue]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct BackArgs {
    /// Task id.
    #[arg(value_parser = parse_u32)]
    pub pid: u32,
    /// Instructions of the task to go back.
    #[arg(
        short = 'n',
        long = "count",
        visible_alias = "steps",
        default_value_t = 1
    )]
    pub steps: u64,
    /// Run backwards to the task's previous breakpoint or watch hit instead.
    #[arg(short = 'c', long = "continue")]
    pub reverse_continue: bool,
    #[command(flatten)]
    pub common: Common,
}

/// What `record` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordAction {
    /// Start (or restart) recording.
    Start,
    /// Stop and free the history.
    Stop,
    /// Show the history's extent.
    Status,
}

/// `record [start|stop|status] [--interval N]`.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct RecordArgs {
    /// What to do.
    #[arg(value_enum, default_value = "status")]
    pub action: RecordAction,
    /// Instructions between snapshots (a step back re-runs at most about this many).
    #[arg(long, value_name = "N")]
    pub interval: Option<u64>,
    #[command(flatten)]
    pub common: Common,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_every_base() {
        assert_eq!(parse_num("42"), Ok(42));
        assert_eq!(parse_num("0x2A"), Ok(42));
        assert_eq!(parse_num("0b101010"), Ok(42));
        assert_eq!(parse_num("0o52"), Ok(42));
        assert_eq!(parse_num("1_000"), Ok(1000));
        assert!(parse_num("0xZZ").is_err());
        assert!(parse_num("").is_err());
        assert!(parse_u32("0x1_0000_0000").is_err());
        assert!(parse_u16("65536").is_err());
    }

    #[test]
    fn addresses_or_symbols() {
        assert_eq!(parse_addr("0x28"), Ok(AddrSpec::Num(40)));
        assert_eq!(parse_addr("40"), Ok(AddrSpec::Num(40)));
        assert_eq!(parse_addr("main"), Ok(AddrSpec::Sym("main".into())));
        assert_eq!(
            parse_addr("src/prog.c:13"),
            Ok(AddrSpec::Line("src/prog.c".into(), 13))
        );
        assert_eq!(parse_addr("a::b"), Ok(AddrSpec::Sym("a::b".into())));
        assert_eq!(
            parse_addr("_start.loop"),
            Ok(AddrSpec::Sym("_start.loop".into()))
        );
        assert!(parse_addr("0xq").is_err());
        assert!(parse_addr("a b").is_err());
        assert!(parse_addr("").is_err());
    }
}
