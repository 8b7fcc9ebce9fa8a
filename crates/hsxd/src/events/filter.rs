//! Event types that exist, the group names that stand for several, and [`EventFilter`]:
//! which events a subscription wants.

use super::record::EventRecord;
use crate::error::ProtoError;

/// Event types that exist besides [`PROVISIONING_EVENTS`] (protocol.md §4.5, plus `fault`, `stdout`, `stderr` from
/// design.md §4 and `can_tx` for CAN frames sent through the HAL). A filter naming anything
/// else is `unsupported_category`.
pub const KNOWN_CATEGORIES: &[&str] = &[
    "task_state",
    "scheduler",
    "trace_step",
    "debug_break",
    "watch_update",
    "warning",
    "fault",
    "stdout",
    "stderr",
    "can_tx",
    "debug_stop",
    "vm_error",
    "sleep_request",
    "sleep_complete",
    "mailbox_send",
    "mailbox_recv",
    "mailbox_wait",
    "mailbox_wake",
    "mailbox_timeout",
    "mailbox_error",
    "mailbox_exhausted",
    "mailbox_backpressure",
    "mailbox_overrun",
    "value_registered",
    "value_changed",
    "cmd_registered",
    "cmd_invoked",
    "cmd_completed",
];

/// The `provisioning.*` event types (also known categories, and the group `provisioning`).
pub const PROVISIONING_EVENTS: &[&str] = &[
    "provisioning.started",
    "provisioning.progress",
    "provisioning.complete",
    "provisioning.error",
    "provisioning.aborted",
    "provisioning.persisted",
    "provisioning.rollback",
];

/// Filter names that stand for several event types.
pub const CATEGORY_GROUPS: &[(&str, &[&str])] = &[
    (
        "mailbox",
        &[
            "mailbox_send",
            "mailbox_recv",
            "mailbox_wait",
            "mailbox_wake",
            "mailbox_timeout",
            "mailbox_error",
            "mailbox_exhausted",
            "mailbox_backpressure",
            "mailbox_overrun",
        ],
    ),
    ("stdio", &["stdout", "stderr"]),
    ("provisioning", PROVISIONING_EVENTS),
    ("values", &["value_registered", "value_changed"]),
    (
        "commands",
        &["cmd_registered", "cmd_invoked", "cmd_completed"],
    ),
];

/// Which events a subscription wants. Warnings addressed to it always pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pids: Option<Vec<u32>>,
    categories: Option<Vec<String>>,
}

impl EventFilter {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// Builds a filter. `pids`: events whose `pid` is in the set (so `pid:null` events are
    /// filtered out, as in the reference). `categories`: exact types or group names from
    /// [`CATEGORY_GROUPS`]; an unknown name is `unsupported_category:<name>`.
    pub fn new(
        pids: Option<Vec<u32>>,
        categories: Option<Vec<String>>,
    ) -> Result<Self, ProtoError> {
        let pids = pids.map(|mut p| {
            p.sort_unstable();
            p.dedup();
            p
        });
        let categories = match categories {
            None => None,
            Some(names) => {
                let mut out: Vec<String> = Vec::new();
                for name in names {
                    if let Some((_, members)) = CATEGORY_GROUPS.iter().find(|(g, _)| *g == name) {
                        out.extend(members.iter().map(|m| (*m).to_string()));
                    } else if KNOWN_CATEGORIES.contains(&name.as_str())
                        || PROVISIONING_EVENTS.contains(&name.as_str())
                    {
                        out.push(name);
                    } else {
                        return Err(ProtoError::UnsupportedCategory(name));
                    }
                }
                out.sort();
                out.dedup();
                Some(out)
            }
        };
        Ok(Self { pids, categories })
    }

    /// Whether `rec` passes.
    pub fn matches(&self, rec: &EventRecord) -> bool {
        if let Some(pids) = &self.pids {
            match rec.pid {
                Some(pid) if pids.binary_search(&pid).is_ok() => {}
                _ => return false,
            }
        }
        if let Some(cats) = &self.categories
            && !cats.iter().any(|c| c.as_str() == rec.kind)
        {
            return false;
        }
        true
    }
}
