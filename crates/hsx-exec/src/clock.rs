//! Time source of the executive (`design.md` §2 "Time").
//!
//! Time enters the core only through [`Clock`], in milliseconds on a monotonic scale whose
//! origin is arbitrary. Sleep deadlines, mailbox receive timeouts, tap rate windows, value
//! rate limits and persistence debounce all use it, so tests drive everything with a
//! [`VirtualClock`] and never sleep.

use alloc::sync::Arc;

/// A monotonic millisecond clock.
///
/// `Send` so that an executive holding it can move to another thread (the daemon runs it
/// behind a lock).
pub trait Clock: Send {
    /// Milliseconds since an arbitrary origin; must never go backwards.
    fn now_ms(&self) -> u64;
}

/// A clock that only moves when told to. Clones share the same time, so a test keeps one
/// clone and hands the other to the executive.
#[derive(Debug, Clone, Default)]
pub struct VirtualClock {
    now: Arc<TimeCell>,
}

impl VirtualClock {
    /// A clock at time 0.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock starting at `ms`.
    #[must_use]
    pub fn starting_at(ms: u64) -> Self {
        let c = Self::default();
        c.set(ms);
        c
    }

    /// Move the clock forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get().saturating_add(ms));
    }

    /// Set the time; ignored if it would move the clock backwards.
    pub fn set(&self, ms: u64) {
        if ms > self.now.get() {
            self.now.set(ms);
        }
    }

    /// Current time.
    #[must_use]
    pub fn get(&self) -> u64 {
        self.now.get()
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
}

/// A clock frozen at one instant (for images that never sleep or wait).
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.0
    }
}

// 64-bit atomics are missing on some MCU targets (e.g. thumbv7em); there the virtual clock
// keeps milliseconds in a 32-bit atomic, which is plenty for tests on such a target.
#[cfg(target_has_atomic = "64")]
#[derive(Debug, Default)]
struct TimeCell(core::sync::atomic::AtomicU64);

#[cfg(target_has_atomic = "64")]
impl TimeCell {
    fn get(&self) -> u64 {
        self.0.load(core::sync::atomic::Ordering::Relaxed)
    }
    fn set(&self, v: u64) {
        self.0.store(v, core::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(not(target_has_atomic = "64"))]
#[derive(Debug, Default)]
struct TimeCell(core::sync::atomic::AtomicU32);

#[cfg(not(target_has_atomic = "64"))]
impl TimeCell {
    fn get(&self) -> u64 {
        u64::from(self.0.load(core::sync::atomic::Ordering::Relaxed))
    }
    fn set(&self, v: u64) {
        let v = u32::try_from(v).unwrap_or(u32::MAX);
        self.0.store(v, core::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_time_and_never_go_back() {
        let a = VirtualClock::starting_at(5);
        let b = a.clone();
        a.advance(10);
        assert_eq!(b.now_ms(), 15);
        b.set(3);
        assert_eq!(a.get(), 15);
        b.set(40);
        assert_eq!(a.now_ms(), 40);
    }
}
