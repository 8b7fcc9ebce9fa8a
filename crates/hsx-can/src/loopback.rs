//! An in-process CAN bus for tests and benchmarks, with seeded fault injection.
//!
//! Every frame one node sends reaches every other node of the same [`LoopbackHub`] (like a real
//! bus, the sender does not hear itself). [`Faults`] drops, duplicates, reorders or delays
//! frames; all decisions come from one generator seeded by [`Faults::seed`], so a failing seed
//! replays the same decisions for the same sequence of sends. A node whose peers have all been
//! dropped gets [`BusError::Closed`] once its inbox is empty.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::{BusError, CanBus, CanFrame};

/// Frames a node's inbox holds before the oldest are discarded (a real controller overruns too);
/// keeps a node that never reads from growing without bound.
pub const INBOX_CAPACITY: usize = 4096;

/// Fault probabilities (each 0.0..=1.0, applied per frame and receiver) and their seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Faults {
    /// Probability that a frame never arrives.
    pub drop: f64,
    /// Probability that a frame arrives twice.
    pub duplicate: f64,
    /// Probability that a frame overtakes the one queued before it.
    pub reorder: f64,
    /// Probability that a frame is held back for up to `max_delay`.
    pub delay: f64,
    /// The longest hold of a delayed frame.
    pub max_delay: Duration,
    /// Seed of the decision generator.
    pub seed: u64,
}

impl Faults {
    /// No faults: every frame arrives once, in order, at once.
    pub const NONE: Faults = Faults {
        drop: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
        delay: 0.0,
        max_delay: Duration::ZERO,
        seed: 0,
    };
}

impl Default for Faults {
    fn default() -> Self {
        Self::NONE
    }
}

/// What the bus did, counted over all nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames handed to `send`.
    pub sent: u64,
    /// Frames taken out by `recv`.
    pub received: u64,
    /// Frame copies dropped by fault injection or inbox overrun.
    pub dropped: u64,
    /// Extra copies made by fault injection.
    pub duplicated: u64,
    /// Frames moved ahead of their predecessor.
    pub reordered: u64,
    /// Frames held back.
    pub delayed: u64,
}

struct Pending {
    due: Instant,
    frame: CanFrame,
}

struct State {
    inboxes: Vec<Option<VecDeque<Pending>>>,
    faults: Faults,
    rng: fastrand::Rng,
    stats: Stats,
}

struct Shared {
    state: Mutex<State>,
    arrived: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent queues, so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A loopback bus: creates connected [`LoopbackBus`] nodes.
#[derive(Clone)]
pub struct LoopbackHub {
    shared: Arc<Shared>,
}

impl LoopbackHub {
    /// A bus with the given faults.
    pub fn new(faults: Faults) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    inboxes: Vec::new(),
                    faults,
                    rng: fastrand::Rng::with_seed(faults.seed),
                    stats: Stats::default(),
                }),
                arrived: Condvar::new(),
            }),
        }
    }

    /// Two connected nodes on a fresh bus.
    pub fn pair(faults: Faults) -> (LoopbackBus, LoopbackBus) {
        let hub = Self::new(faults);
        (hub.node(), hub.node())
    }

    /// A new node on this bus.
    pub fn node(&self) -> LoopbackBus {
        let mut st = self.shared.lock();
        st.inboxes.push(Some(VecDeque::new()));
        LoopbackBus {
            shared: Arc::clone(&self.shared),
            index: st.inboxes.len() - 1,
        }
    }

    /// Replace the faults (and reseed the generator) from now on.
    pub fn set_faults(&self, faults: Faults) {
        let mut st = self.shared.lock();
        st.faults = faults;
        st.rng = fastrand::Rng::with_seed(faults.seed);
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats
    }
}

/// One node of a [`LoopbackHub`].
pub struct LoopbackBus {
    shared: Arc<Shared>,
    index: usize,
}

impl LoopbackBus {
    /// The hub this node belongs to (for stats and fault changes).
    pub fn hub(&self) -> LoopbackHub {
        LoopbackHub {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for LoopbackBus {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        if let Some(slot) = st.inboxes.get_mut(self.index) {
            *slot = None;
        }
        drop(st);
        self.shared.arrived.notify_all();
    }
}

impl CanBus for LoopbackBus {
    fn send(&mut self, frame: &CanFrame) -> Result<(), BusError> {
        let now = Instant::now();
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        st.stats.sent += 1;
        let f = st.faults;
        for (i, slot) in st.inboxes.iter_mut().enumerate() {
            let Some(inbox) = slot.as_mut().filter(|_| i != self.index) else {
                continue;
            };
            if st.rng.f64() < f.drop {
                st.stats.dropped += 1;
                continue;
            }
            let copies = if st.rng.f64() < f.duplicate {
                st.stats.duplicated += 1;
                2
            } else {
                1
            };
            let mut due = now;
            if st.rng.f64() < f.delay && !f.max_delay.is_zero() {
                st.stats.delayed += 1;
                let nanos = u64::try_from(f.max_delay.as_nanos()).unwrap_or(u64::MAX);
                due += Duration::from_nanos(st.rng.u64(0..=nanos));
            }
            for _ in 0..copies {
                if inbox.len() >= INBOX_CAPACITY {
                    inbox.pop_front();
                    st.stats.dropped += 1;
                }
                let p = Pending { due, frame: *frame };
                if !inbox.is_empty() && st.rng.f64() < f.reorder {
                    st.stats.reordered += 1;
                    inbox.insert(inbox.len() - 1, p);
                } else {
                    inbox.push_back(p);
                }
            }
        }
        drop(guard);
        self.shared.arrived.notify_all();
        Ok(())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<CanFrame>, BusError> {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            let now = Instant::now();
            let peers = st
                .inboxes
                .iter()
                .enumerate()
                .any(|(i, s)| i != self.index && s.is_some());
            let ever_had_peers = st.inboxes.len() > 1;
            let Some(inbox) = st.inboxes.get_mut(self.index).and_then(Option::as_mut) else {
                return Err(BusError::Closed);
            };
            // A delayed frame lets the ones behind it pass: that is what a delay looks like.
            if let Some(pos) = inbox.iter().position(|p| p.due <= now) {
                let frame = inbox.remove(pos).map(|p| p.frame);
                st.stats.received += 1;
                return Ok(frame);
            }
            let next_due = inbox.iter().map(|p| p.due).min();
            // Closed once every other node has left; a node still waiting for its first peer
            // just waits.
            if next_due.is_none() && !peers && ever_had_peers {
                return Err(BusError::Closed);
            }
            if now >= deadline {
                return Ok(None);
            }
            let wake = next_due.map_or(deadline, |d| d.min(deadline));
            st = self
                .shared
                .arrived
                .wait_timeout(st, wake.saturating_duration_since(now))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::standard_id;

    fn frame(n: u8) -> CanFrame {
        CanFrame::data(standard_id(0x10).unwrap(), &[n]).unwrap()
    }

    fn drain(bus: &mut LoopbackBus) -> Vec<u8> {
        let mut out = Vec::new();
        while let Ok(Some(f)) = bus.recv(Duration::from_millis(5)) {
            out.push(f.payload()[0]);
        }
        out
    }

    #[test]
    fn frames_arrive_in_order_at_the_other_node_only() {
        let (mut a, mut b) = LoopbackHub::pair(Faults::NONE);
        for n in 0..5 {
            a.send(&frame(n)).unwrap();
        }
        assert_eq!(drain(&mut b), vec![0, 1, 2, 3, 4]);
        assert_eq!(a.recv(Duration::ZERO).unwrap(), None);
    }

    #[test]
    fn faults_are_deterministic_by_seed() {
        let faults = Faults {
            drop: 0.2,
            duplicate: 0.2,
            reorder: 0.2,
            seed: 7,
            ..Faults::NONE
        };
        let run = || {
            let (mut a, mut b) = LoopbackHub::pair(faults);
            for n in 0..50 {
                a.send(&frame(n)).unwrap();
            }
            let got = drain(&mut b);
            (got, a.hub().stats())
        };
        let (first, stats) = run();
        assert_eq!(first, run().0);
        assert!(stats.dropped > 0 && stats.duplicated > 0 && stats.reordered > 0);
        assert_ne!(first, (0..50).collect::<Vec<u8>>());
    }

    #[test]
    fn delayed_frames_are_overtaken_and_still_arrive() {
        let (mut a, mut b) = LoopbackHub::pair(Faults {
            delay: 1.0,
            max_delay: Duration::from_millis(20),
            seed: 3,
            ..Faults::NONE
        });
        for n in 0..10 {
            a.send(&frame(n)).unwrap();
        }
        let mut got = drain(&mut b);
        got.sort_unstable();
        assert_eq!(got, (0..10).collect::<Vec<u8>>());
        assert_eq!(a.hub().stats().delayed, 10);
    }

    #[test]
    fn a_node_waits_for_its_first_peer() {
        let hub = LoopbackHub::new(Faults::NONE);
        let mut a = hub.node();
        assert_eq!(a.recv(Duration::from_millis(5)).unwrap(), None);
        let mut b = hub.node();
        b.send(&frame(1)).unwrap();
        assert_eq!(a.recv(Duration::ZERO).unwrap(), Some(frame(1)));
    }

    #[test]
    fn a_node_whose_peers_left_reports_closed_instead_of_waiting() {
        let (a, mut b) = LoopbackHub::pair(Faults::NONE);
        drop(a);
        assert!(matches!(
            b.recv(Duration::from_secs(60)),
            Err(BusError::Closed)
        ));
    }
}
