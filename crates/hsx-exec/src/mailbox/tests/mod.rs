//! Mailbox behaviour: `services.md` §8 cases 1-16 and the `design.md` §4 item 7 fixes.
//!
//! Shared helpers live here; the tests are grouped by what they pin down.

use alloc::vec;
use alloc::vec::Vec;

use super::*;

mod api;
mod fixes;
mod lazy;
mod props;
mod spec;

const FAN_DROP: u16 = mode::RDWR | mode::FANOUT | mode::FANOUT_DROP;
const FAN_BLOCK: u16 = mode::RDWR | mode::FANOUT | mode::FANOUT_BLOCK;

fn mgr() -> MailboxManager {
    MailboxManager::default()
}

fn unlimited() -> MailboxManager {
    MailboxManager::new(MailboxConfig {
        handle_limit_per_pid: None,
        ..MailboxConfig::desktop()
    })
}

fn req(handle: u32, timeout: u16) -> RecvRequest {
    RecvRequest {
        handle,
        max_len: 64,
        timeout,
        buf_ptr: 0x0200,
        info_ptr: 0x0300,
    }
}

fn payload(r: Option<Received>) -> Vec<u8> {
    r.map(|m| m.data).unwrap_or_default()
}

fn events_of(m: &mut MailboxManager) -> Vec<MailboxEvent> {
    m.take_events().into_iter().collect()
}
