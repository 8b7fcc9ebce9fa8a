//! Value/command behaviour: `services.md` §8 cases 17-22 and the `design.md` §4 item 8
//! fixes.
//!
//! Shared helpers (a recording [`MailboxPort`], descriptor builders) live here; the tests
//! are grouped by service.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::mailbox::{MailboxError, MailboxManager, MailboxPort};
use crate::persist::MemPersist;

mod commands;
mod fixes;
mod misc;
mod persistence;
mod values;

/// A port that records posts and can be told to fail for one handle.
#[derive(Default)]
struct FakePort {
    posts: Vec<(u32, u32, Vec<u8>)>,
    closed: Vec<(u32, u32)>,
    opened: Vec<(u32, String)>,
    fail_handle: Option<u32>,
    next: u32,
}

impl MailboxPort for FakePort {
    fn open(&mut self, pid: u32, target: &str) -> Result<u32, MailboxError> {
        if target == "bad" {
            return Err(MailboxError::BadTarget);
        }
        self.next += 1;
        self.opened.push((pid, String::from(target)));
        Ok(self.next)
    }
    fn post(&mut self, pid: u32, handle: u32, data: &[u8]) -> Result<(), MailboxError> {
        if self.fail_handle == Some(handle) {
            return Err(MailboxError::WouldBlock);
        }
        self.posts.push((pid, handle, data.to_vec()));
        Ok(())
    }
    fn close(&mut self, pid: u32, handle: u32) {
        self.closed.push((pid, handle));
    }
}

fn reg() -> Registry {
    Registry::default()
}

fn unit(eps: f64, rate_ms: u16) -> Vec<ValueDesc> {
    vec![ValueDesc::Unit {
        unit_code: encode_unit("rpm"),
        epsilon: f64_to_f16(eps),
        rate_ms,
    }]
}

fn changed_count(r: &mut Registry) -> usize {
    r.take_events()
        .iter()
        .filter(|e| matches!(e, ValEvent::ValueChanged { .. }))
        .count()
}
