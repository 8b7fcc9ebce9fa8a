//! The host HAL (`services.md` §6): CAN frames and UART bytes are logged through
//! `tracing`, and the last CAN frames are kept in a ring for inspection (a future `can`
//! RPC reads them through a [`CanLog`] handle, since the HAL itself lives inside the
//! executive).
//!
//! Every transmit answers `OK`, as the reference host does; payloads longer than a CAN
//! frame are logged and kept as given, so nothing a guest sends is hidden.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use hsx_exec::Hal;
use hsx_exec::status::hal as hal_status;
use serde::Serialize;

// CAN payloads are logged as lower-case hex without separators.
use crate::hex::to_hex as hex;
use crate::time::{SystemTimeSource, TimeSource};

/// CAN frames kept unless [`LogHal::new`] is given another capacity.
pub const DEFAULT_CAN_CAPACITY: usize = 256;

/// One transmitted CAN frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CanFrame {
    /// Position in the transmit order, from 1; gaps show frames that left the ring.
    pub seq: u64,
    /// Wall-clock seconds since the Unix epoch.
    pub ts: f64,
    /// Sending task.
    pub pid: u32,
    /// 11-bit identifier.
    pub id: u16,
    /// Payload bytes.
    pub data: Vec<u8>,
}

/// A cloneable view of the CAN ring, shared with the [`LogHal`] that fills it.
#[derive(Debug, Clone)]
pub struct CanLog {
    inner: Arc<Mutex<Ring>>,
}

#[derive(Debug)]
struct Ring {
    frames: VecDeque<CanFrame>,
    capacity: usize,
    next_seq: u64,
}

impl CanLog {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Ring {
                frames: VecDeque::with_capacity(capacity.min(DEFAULT_CAN_CAPACITY)),
                capacity,
                next_seq: 0,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        // A panic elsewhere while holding the lock leaves the ring consistent: every
        // mutation below is a single push/pop.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, ts: f64, pid: u32, id: u16, data: &[u8]) -> u64 {
        let mut ring = self.lock();
        ring.next_seq = ring.next_seq.saturating_add(1);
        let seq = ring.next_seq;
        if ring.capacity == 0 {
            return seq;
        }
        while ring.frames.len() >= ring.capacity {
            ring.frames.pop_front();
        }
        ring.frames.push_back(CanFrame {
            seq,
            ts,
            pid,
            id,
            data: data.to_vec(),
        });
        seq
    }

    /// The newest `limit` frames (all kept when `None`), oldest first.
    #[must_use]
    pub fn frames(&self, limit: Option<usize>) -> Vec<CanFrame> {
        let ring = self.lock();
        let skip = limit.map_or(0, |l| ring.frames.len().saturating_sub(l));
        ring.frames.iter().skip(skip).cloned().collect()
    }

    /// Frames with a sequence number above `seq`, oldest first (for polling clients).
    #[must_use]
    pub fn since(&self, seq: u64) -> Vec<CanFrame> {
        let ring = self.lock();
        ring.frames
            .iter()
            .filter(|f| f.seq > seq)
            .cloned()
            .collect()
    }

    /// Frames transmitted so far, including those no longer kept.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.lock().next_seq
    }

    /// Drop every kept frame (sequence numbers keep counting).
    pub fn clear(&self) {
        self.lock().frames.clear();
    }
}

/// A [`Hal`] that logs and remembers instead of driving hardware.
#[derive(Clone)]
pub struct LogHal {
    can: CanLog,
    time: Arc<dyn TimeSource>,
}

impl core::fmt::Debug for LogHal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LogHal")
            .field("can", &self.can)
            .finish_non_exhaustive()
    }
}

impl LogHal {
    /// A HAL keeping the last `can_capacity` CAN frames (0 keeps none but still logs),
    /// stamped with the system clock.
    #[must_use]
    pub fn new(can_capacity: usize) -> Self {
        Self::with_time(can_capacity, Arc::new(SystemTimeSource::new()))
    }

    /// Like [`LogHal::new`] with an explicit clock (the daemon's, or a test's).
    #[must_use]
    pub fn with_time(can_capacity: usize, time: Arc<dyn TimeSource>) -> Self {
        Self {
            can: CanLog::with_capacity(can_capacity),
            time,
        }
    }

    /// A handle on the CAN ring that stays valid after the HAL is boxed into the
    /// executive.
    #[must_use]
    pub fn can_log(&self) -> CanLog {
        self.can.clone()
    }
}

impl Default for LogHal {
    fn default() -> Self {
        Self::new(DEFAULT_CAN_CAPACITY)
    }
}

impl Hal for LogHal {
    fn uart_write(&mut self, pid: u32, data: &[u8]) {
        // The executive already emits the bytes as a `stdout` event; this is for the log.
        tracing::debug!(
            target: "hsx::uart",
            pid,
            len = data.len(),
            text = %String::from_utf8_lossy(data).escape_debug(),
            "uart write"
        );
    }

    fn can_tx(&mut self, pid: u32, id: u16, data: &[u8]) -> i32 {
        let ts = self.time.now();
        let seq = self.can.push(ts, pid, id, data);
        tracing::info!(
            target: "hsx::can",
            pid,
            id = format_args!("0x{id:03X}"),
            dlc = data.len(),
            data = %hex(data),
            seq,
            "can tx"
        );
        hal_status::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ManualTime;

    #[test]
    fn keeps_the_last_frames_in_order() {
        let time = Arc::new(ManualTime::new(100.0));
        let mut hal = LogHal::with_time(3, time);
        let log = hal.can_log();
        for i in 0u8..5 {
            assert_eq!(hal.can_tx(7, 0x100 + u16::from(i), &[i, 0xAB]), 0);
        }
        hal.uart_write(7, b"not a frame\n");
        let frames = log.frames(None);
        assert_eq!(frames.len(), 3);
        assert_eq!(
            frames.iter().map(|f| f.seq).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        assert_eq!(frames[0].id, 0x102);
        assert_eq!(frames[2].data, vec![4, 0xAB]);
        assert_eq!(frames[2].pid, 7);
        assert!((frames[2].ts - 100.0).abs() < f64::EPSILON);
        assert_eq!(log.total(), 5);
        assert_eq!(log.frames(Some(1))[0].seq, 5);
        assert_eq!(log.since(4).len(), 1);
        log.clear();
        assert!(log.frames(None).is_empty());
        assert_eq!(log.total(), 5);
    }

    #[test]
    fn zero_capacity_still_counts_and_serialises() {
        let mut hal = LogHal::new(0);
        assert_eq!(hal.can_tx(1, 0x7FF, &[]), hal_status::OK);
        assert_eq!(hal.can_log().total(), 1);
        assert!(hal.can_log().frames(None).is_empty());

        let frame = CanFrame {
            seq: 1,
            ts: 2.5,
            pid: 3,
            id: 0x123,
            data: vec![1, 2],
        };
        let v = serde_json::to_value(&frame).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"seq": 1, "ts": 2.5, "pid": 3, "id": 0x123, "data": [1, 2]})
        );
        assert_eq!(hex(&[0x0f, 0xa0]), "0fa0");
    }
}
