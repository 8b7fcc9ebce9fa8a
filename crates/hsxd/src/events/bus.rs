//! [`EventBus`]: the thread-safe, cloneable handle on the hub that the executive bridge
//! publishes through, with a lock-free subscriber count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::hub::{EventHub, HISTORY_CAPACITY};
use super::record::{Event, EventRecord};
use crate::time::TimeSource;

struct BusInner {
    hub: Mutex<EventHub>,
    time: Arc<dyn TimeSource>,
    subscribers: AtomicUsize,
}

/// Thread-safe, cloneable handle on the [`EventHub`]; what the executive bridge publishes
/// through.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<BusInner>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("subscribers", &self.subscriber_count())
            .finish()
    }
}

impl EventBus {
    /// A bus with the standard history size.
    pub fn new(time: Arc<dyn TimeSource>) -> Self {
        Self::with_history(time, HISTORY_CAPACITY)
    }

    /// A bus keeping `history_cap` events for replay.
    pub fn with_history(time: Arc<dyn TimeSource>, history_cap: usize) -> Self {
        Self {
            inner: Arc::new(BusInner {
                hub: Mutex::new(EventHub::new(history_cap)),
                time,
                subscribers: AtomicUsize::new(0),
            }),
        }
    }

    /// Publishes one event and returns its envelope.
    pub fn publish(&self, ev: Event) -> Arc<EventRecord> {
        self.with_hub(|hub, now| hub.publish(ev, now))
    }

    /// Publishes several events under one lock, in order.
    pub fn publish_all(&self, evs: impl IntoIterator<Item = Event>) -> Vec<Arc<EventRecord>> {
        self.with_hub(|hub, now| evs.into_iter().map(|e| hub.publish(e, now)).collect())
    }

    /// Whether anyone is subscribed (lock-free; lets the bridge skip building events that
    /// only matter to live subscribers).
    pub fn has_subscribers(&self) -> bool {
        self.subscriber_count() > 0
    }

    /// Number of live subscriptions (lock-free).
    pub fn subscriber_count(&self) -> usize {
        self.inner.subscribers.load(Ordering::Relaxed)
    }

    /// The last seq issued.
    pub fn cursor(&self) -> u64 {
        self.with_hub(|hub, _| hub.cursor())
    }

    /// Runs `f` on the hub under its lock, with the current time.
    pub fn with_hub<R>(&self, f: impl FnOnce(&mut EventHub, f64) -> R) -> R {
        let now = self.inner.time.now();
        let mut hub = self
            .inner
            .hub
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let r = f(&mut hub, now);
        self.inner
            .subscribers
            .store(hub.subscriber_count(), Ordering::Relaxed);
        r
    }
}
