#![no_std]
#![warn(missing_docs)]
//! HSX executive core: tasks, scheduler, SVC bridge, mailboxes, values/commands
//! (`no_std` + alloc).

extern crate alloc;

pub mod mailbox;
pub mod persist;
pub mod status;
pub mod values;
