//! Event streaming (protocol.md §4): envelopes, the history ring, subscriptions with
//! per-subscriber back-pressure.
//!
//! # Model
//!
//! * Every event gets a `seq` from one process-wide counter (starting at 1, strictly
//!   rising, never reused). Per-subscription `warning` events take numbers too, so a
//!   filtered stream has gaps.
//! * The last [`HISTORY_CAPACITY`] events (warnings excluded) are kept for `since_seq`
//!   replay. Asking for a range that has partly left the ring is `seq_evicted`.
//! * Each subscription owns a bounded ring of the events delivered to it and not yet
//!   acknowledged ("pending", counted per subscriber, not in global seq numbers). Part of
//!   the ring may still wait to be written to the socket. The ring holds at most
//!   `max_events` entries: when a new event arrives at a full ring the oldest entries are
//!   dropped (whether already written or not) and the subscriber gets a `warning` with
//!   reason `backpressure`. Publishing therefore never blocks and never grows memory,
//!   however slow or silent a client is.
//! * To keep warnings from doubling a flood, one is sent when an overflow episode starts
//!   and then once per `max_events` further drops; an ack that brings the ring below its
//!   capacity ends the episode.
//! * `events.ack{seq}` removes every entry with `seq <= ack`, written or not.
//!
//! [`EventHub`] is the pure, lock-free logic (time passed in); [`EventBus`] wraps it in a
//! mutex and is the handle the executive bridge publishes through.
//!
//! Files: `record` (what is published and its envelope), `filter` (event types and which
//! of them a subscription wants), `subscription` (what a connection holds and the
//! subscribe/ack results), `subscriber` (one subscriber's ring and back-pressure), `hub`
//! and `bus`. Everything is re-exported here, so `crate::events::X` paths do not depend on
//! the layout.

mod bus;
mod filter;
mod hub;
mod record;
mod subscriber;
mod subscription;

pub use bus::EventBus;
pub use filter::{CATEGORY_GROUPS, EventFilter, KNOWN_CATEGORIES};
pub use hub::{EventHub, HISTORY_CAPACITY};
pub use record::{Event, EventRecord};
pub use subscriber::WARNING_QUEUE_CAP;
pub use subscription::{
    AckMetrics, CloseReason, Closed, RETENTION_MS, SubHandle, SubShared, SubscribeAck,
    SubscribeParams, Take,
};

#[cfg(test)]
mod tests;
