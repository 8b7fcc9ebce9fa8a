//! Time sources.
//!
//! Everything in the protocol layer that depends on time (session expiry, `created_at`,
//! `last_seen`, event `ts`) reads it through [`TimeSource`], so tests drive a
//! [`ManualTime`] instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A clock reporting seconds since the Unix epoch as a float (the wire format of `ts`,
/// `created_at` and `last_seen`).
pub trait TimeSource: Send + Sync + 'static {
    /// Seconds since the Unix epoch.
    fn now(&self) -> f64;
}

/// Wall-clock time that never jumps: the epoch offset is read once at construction and
/// then advanced by a monotonic clock, so a system clock change cannot expire every
/// session at once.
#[derive(Debug)]
pub struct SystemTimeSource {
    base_epoch: f64,
    base: Instant,
}

impl SystemTimeSource {
    /// Anchors the source at the current system time.
    pub fn new() -> Self {
        let base_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Self {
            base_epoch,
            base: Instant::now(),
        }
    }
}

impl Default for SystemTimeSource {
    fn default() -> Self {
        Self::new()
    }
}

impl TimeSource for SystemTimeSource {
    fn now(&self) -> f64 {
        self.base_epoch + self.base.elapsed().as_secs_f64()
    }
}

/// A settable clock for tests. Stored in microseconds so it can be shared lock-free.
#[derive(Debug, Default)]
pub struct ManualTime {
    micros: AtomicU64,
}

impl ManualTime {
    /// Starts at `secs` seconds since the epoch.
    pub fn new(secs: f64) -> Self {
        Self {
            micros: AtomicU64::new(to_micros(secs)),
        }
    }

    /// Sets the absolute time.
    pub fn set(&self, secs: f64) {
        self.micros.store(to_micros(secs), Ordering::SeqCst);
    }

    /// Moves the clock forward by `secs` seconds.
    pub fn advance(&self, secs: f64) {
        self.micros.fetch_add(to_micros(secs), Ordering::SeqCst);
    }
}

impl TimeSource for ManualTime {
    fn now(&self) -> f64 {
        self.micros.load(Ordering::SeqCst) as f64 / 1e6
    }
}

fn to_micros(secs: f64) -> u64 {
    if secs.is_finite() && secs > 0.0 {
        (secs * 1e6) as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_time_advances() {
        let t = ManualTime::new(100.0);
        assert_eq!(t.now(), 100.0);
        t.advance(2.5);
        assert_eq!(t.now(), 102.5);
        t.set(7.0);
        assert_eq!(t.now(), 7.0);
    }

    #[test]
    fn system_time_is_after_2020_and_monotonic() {
        let t = SystemTimeSource::new();
        let a = t.now();
        let b = t.now();
        assert!(a > 1_577_836_800.0);
        assert!(b >= a);
    }
}
