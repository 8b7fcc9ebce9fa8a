//! One module per subcommand.

pub mod asm;
pub mod cc;
pub mod disasm;
pub mod record_file;
pub mod replay;
pub mod run;

// Client side of `hsx` (talks to hsxd).
pub mod client_cmds;
pub mod completions;
pub mod dap;
pub mod provision;
pub mod remote;
pub mod remote_args;
pub mod render;
