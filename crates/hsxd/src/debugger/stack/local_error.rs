//! Why a local variable could not be resolved or read; shared by location parsing and
//! local lookup, so it sits in a file of its own both import.

/// Why a local variable could not be resolved or read. The texts are the reference's
/// `watch` error messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    /// No `.sym` for the task.
    #[error("symbols not loaded; use symbols.load before watching locals")]
    NoSymbols,
    /// `local:` with nothing after it.
    #[error("local expression must name a variable")]
    EmptyExpression,
    /// `func::` with no variable.
    #[error("local expression missing variable name")]
    MissingVariable,
    /// The PC is in no known function and none was named.
    #[error("unable to determine current function for local lookup")]
    NoFunction,
    /// The function has no `locals` entries.
    #[error("function '{0}' has no local metadata")]
    NoLocals(String),
    /// No location range of the variable covers the PC.
    #[error("local '{name}' is not live in function '{function}' at current PC")]
    NotLive {
        /// Variable.
        name: String,
        /// Function.
        function: String,
    },
    /// The location descriptor is malformed or of an unknown kind.
    #[error("{0}")]
    BadLocation(String),
    /// A stack location without a frame pointer.
    #[error("frame pointer not available")]
    NoFramePointer,
    /// A register location outside frame 0 (or without registers).
    #[error("register R{0} unavailable")]
    RegisterUnavailable(u8),
}
