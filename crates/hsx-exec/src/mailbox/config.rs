//! Resource profiles: pool sizes, handle quotas, default capacity and the tap rate limit.

/// Default descriptor capacity in bytes (`HSX_MBX_DEFAULT_RING_CAPACITY`).
pub const DEFAULT_CAPACITY: u32 = 64;
/// Window of the per-tap rate limit, in milliseconds.
pub const TAP_RATE_WINDOW_MS: u64 = 1000;
/// Default bound of the internal event queue.
pub const DEFAULT_EVENT_CAPACITY: usize = 256;

/// Resource profile (`services.md` §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxConfig {
    /// Maximum number of live descriptors.
    pub max_descriptors: u32,
    /// Maximum handles one PID may hold; `None` = unlimited.
    pub handle_limit_per_pid: Option<u32>,
    /// Descriptors one task may create with BIND/OPEN (any namespace); `None` = unlimited.
    pub descriptors_per_task: Option<u32>,
    /// Descriptors kept free for loads (each task's `pid:N` and stdio mailboxes): a task's
    /// BIND/OPEN may not create a descriptor when no more than this many are left.
    pub load_reserve: u32,
    /// Capacity used when a bind/open gives none.
    pub default_capacity: u32,
    /// Tap copies per 1 s window per tap handle; 0 = unlimited.
    pub tap_rate_limit: u32,
    /// Create a task's `svc:stdio.*` descriptors and handles on first use (its first write
    /// to the stream, or an open of it) instead of at load. Off in both profiles: clients of
    /// the desktop expect every task's three stdio mailboxes to be listed from the start; a
    /// microcontroller turns it on because most tasks only ever write stdout (two of three
    /// descriptors and handles saved per task).
    pub lazy_stdio: bool,
}

impl MailboxConfig {
    /// Host default: 256 descriptors (a task may create 64; 52, a fifth, stay for loads),
    /// 64 handles per PID, 64 B, no tap limit.
    #[must_use]
    pub const fn desktop() -> Self {
        Self {
            max_descriptors: 256,
            handle_limit_per_pid: Some(64),
            descriptors_per_task: Some(64),
            load_reserve: 52,
            default_capacity: DEFAULT_CAPACITY,
            tap_rate_limit: 0,
            lazy_stdio: false,
        }
    }

    /// Small MCU: 16 descriptors (4 per task, 3 kept for loads), 8 handles per PID, 64 B,
    /// 20 tap copies/s.
    #[must_use]
    pub const fn embedded() -> Self {
        Self {
            max_descriptors: 16,
            handle_limit_per_pid: Some(8),
            descriptors_per_task: Some(4),
            load_reserve: 3,
            default_capacity: DEFAULT_CAPACITY,
            tap_rate_limit: 20,
            lazy_stdio: false,
        }
    }

    /// Profile by name (`desktop`, `embedded`); unknown names give `None`.
    #[must_use]
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "desktop" => Some(Self::desktop()),
            "embedded" => Some(Self::embedded()),
            _ => None,
        }
    }
}

impl Default for MailboxConfig {
    fn default() -> Self {
        Self::desktop()
    }
}
