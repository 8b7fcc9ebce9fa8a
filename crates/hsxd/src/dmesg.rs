//! The `dmesg` log ring: recent server log entries for clients.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value, json};

/// Entries kept.
pub const DMESG_CAPACITY: usize = 512;

/// A cloneable handle on the log ring.
#[derive(Debug, Clone, Default)]
pub struct Dmesg {
    inner: Arc<Mutex<Ring>>,
}

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Value>,
    next_seq: u64,
}

impl Dmesg {
    /// An empty ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `{seq, ts, level, message, ...extra}`; also traced at debug level.
    pub fn log(&self, ts: f64, level: &str, message: &str, extra: Value) {
        tracing::debug!(level, message, %extra, "dmesg");
        let mut ring = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        ring.next_seq += 1;
        let mut entry = Map::new();
        entry.insert("seq".into(), json!(ring.next_seq));
        entry.insert("ts".into(), json!(ts));
        entry.insert("level".into(), json!(level));
        entry.insert("message".into(), json!(message));
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                entry.entry(k).or_insert(v);
            }
        }
        if ring.entries.len() >= DMESG_CAPACITY {
            ring.entries.pop_front();
        }
        ring.entries.push_back(Value::Object(entry));
    }

    /// The newest `limit` entries (all when `None`), oldest first, optionally only those
    /// whose `session_id` is `session`.
    pub fn entries(&self, limit: Option<usize>, session: Option<&str>) -> Vec<Value> {
        let ring = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let matching: Vec<&Value> = ring
            .entries
            .iter()
            .filter(|e| session.is_none_or(|s| e["session_id"].as_str() == Some(s)))
            .collect();
        let skip = limit.map_or(0, |l| matching.len().saturating_sub(l));
        matching.into_iter().skip(skip).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_limits_and_filters() {
        let d = Dmesg::new();
        for i in 0..600 {
            let sid = if i % 2 == 0 { "a" } else { "b" };
            d.log(
                i as f64,
                "info",
                "x",
                json!({"session_id": sid, "level": "ignored"}),
            );
        }
        let all = d.entries(None, None);
        assert_eq!(all.len(), DMESG_CAPACITY);
        assert_eq!(all[0]["seq"], json!(89));
        assert_eq!(all[0]["level"], json!("info"));
        let last = d.entries(Some(2), Some("a"));
        assert_eq!(last.len(), 2);
        assert_eq!(last[1]["seq"], json!(599));
        assert!(d.entries(Some(0), None).is_empty());
    }
}
