//! The events the registry records; the executive turns them into protocol events. They
//! live here, not in `crate::event`, so that the registry depends on nothing above it.

/// Events for the protocol layer (`value_registered`, `value_changed`, `cmd_registered`,
/// `cmd_invoked`, `cmd_completed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValEvent {
    /// A value was registered.
    ValueRegistered {
        /// Owner.
        pid: u32,
        /// Caller (the owner for SVC and metadata).
        caller_pid: u32,
        /// OID.
        oid: u16,
        /// Flags.
        flags: u8,
        /// Auth level.
        auth_level: u8,
        /// Descriptor chain head offset (0xFFFF = none).
        desc_head: u32,
    },
    /// A value changed.
    ValueChanged {
        /// Owner.
        pid: u32,
        /// Caller PID (the owner when the host acts as owner).
        caller_pid: u32,
        /// OID.
        oid: u16,
        /// Old f16 bits.
        old_f16: u16,
        /// New f16 bits.
        new_f16: u16,
        /// Flags.
        flags: u8,
        /// Auth level.
        auth_level: u8,
    },
    /// A command was registered.
    CmdRegistered {
        /// Owner.
        pid: u32,
        /// OID.
        oid: u16,
        /// Flags.
        flags: u8,
        /// Auth level.
        auth_level: u8,
        /// Descriptor chain head offset.
        desc_head: u32,
    },
    /// A command is about to run.
    CmdInvoked {
        /// Caller PID (the owner when the host calls).
        caller_pid: u32,
        /// Owner.
        owner_pid: u32,
        /// OID.
        oid: u16,
        /// Asynchronous call.
        is_async: bool,
    },
    /// A command finished.
    CmdCompleted {
        /// Caller PID.
        caller_pid: u32,
        /// Owner.
        owner_pid: u32,
        /// OID.
        oid: u16,
        /// Status.
        status: u16,
        /// Numeric result.
        result: Option<u32>,
    },
}
