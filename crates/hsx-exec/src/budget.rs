//! The names of the per-task budgets (shared by the executive and its events; what they
//! limit and how is in `executive::budget`).

/// A per-task budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// Instructions between two SVCs ([`crate::Watchdog`]).
    Watchdog,
    /// Mailbox descriptors the task created ([`crate::mailbox::MailboxConfig::descriptors_per_task`]).
    Descriptors,
    /// Mailbox handles the task holds ([`crate::mailbox::MailboxConfig::handle_limit_per_pid`]).
    Handles,
    /// Values the task registered ([`crate::values::RegistryLimits::values_per_task`]).
    Values,
    /// Commands the task registered ([`crate::values::RegistryLimits::commands_per_task`]).
    Commands,
    /// Files the task holds open (the file system's per-task limit).
    Files,
    /// Bytes of one file, or of all the task's writes (the file system's limits).
    FileBytes,
}

impl Budget {
    /// Every budget, in [`Budget::as_str`] order of the docs.
    pub const ALL: [Budget; 7] = [
        Budget::Watchdog,
        Budget::Descriptors,
        Budget::Handles,
        Budget::Values,
        Budget::Commands,
        Budget::Files,
        Budget::FileBytes,
    ];

    /// Wire name (`watchdog`, `descriptors`, `handles`, `values`, `commands`, `files`,
    /// `file_bytes`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Budget::Watchdog => "watchdog",
            Budget::Descriptors => "descriptors",
            Budget::Handles => "handles",
            Budget::Values => "values",
            Budget::Commands => "commands",
            Budget::Files => "files",
            Budget::FileBytes => "file_bytes",
        }
    }

    pub(crate) const fn bit(self) -> u8 {
        1 << self as u8
    }
}
