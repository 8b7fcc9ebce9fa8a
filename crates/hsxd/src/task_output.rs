//! What tasks wrote to stdout/stderr, kept by the daemon until `listen` collects it.
//!
//! The executive releases a task's stdio mailboxes as soon as the task ends (returns,
//! faults or is killed), and a UART write never reaches a mailbox at all, so polling the
//! mailboxes alone loses output. The daemon therefore records every `stdout`/`stderr`
//! event of the executive here, per task, and `listen` serves from this record, live tasks
//! and ended ones alike.
//!
//! Bounds: each task keeps at most [`KEEP_BYTES_PER_TASK`] unread bytes (the oldest go
//! first), and the output of at most [`KEEP_ENDED_TASKS`] tasks that no longer run is
//! kept (that of the lowest, i.e. oldest, PIDs goes first). Each task's buffer is a ring:
//! what falls out of it unread is counted ([`TaskOutput::dropped`]), and `listen`
//! reports the count, so a client knows output is missing and how much.

use std::collections::{BTreeMap, VecDeque};

/// Unread output bytes kept per task.
pub const KEEP_BYTES_PER_TASK: usize = 16 * 1024;
/// Ended tasks whose unread output is kept.
pub const KEEP_ENDED_TASKS: usize = 64;

/// The stdio stream a chunk was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// `svc:stdio.out` (and UART output).
    Out,
    /// `svc:stdio.err`.
    Err,
}

impl Stream {
    /// The mailbox target of `pid`'s stream, as `listen` reports it.
    pub fn target(self, pid: u32) -> String {
        match self {
            Stream::Out => format!("svc:stdio.out@{pid}"),
            Stream::Err => format!("svc:stdio.err@{pid}"),
        }
    }

    /// The event name (`stdout`/`stderr`).
    pub fn name(self) -> &'static str {
        match self {
            Stream::Out => "stdout",
            Stream::Err => "stderr",
        }
    }
}

/// One piece of output handed to `listen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The task that wrote it.
    pub pid: u32,
    /// Where it was written.
    pub stream: Stream,
    /// The bytes.
    pub data: Vec<u8>,
}

#[derive(Debug, Default)]
struct Buffer {
    chunks: VecDeque<(Stream, Vec<u8>)>,
    bytes: usize,
}

/// Unread output of every task, bounded (see the module docs).
#[derive(Debug, Default)]
pub struct TaskOutput {
    tasks: BTreeMap<u32, Buffer>,
    /// Bytes dropped unread, per task (kept while the task runs or has output here).
    dropped: BTreeMap<u32, u64>,
}

impl TaskOutput {
    /// Nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one write of `pid` (a write is one `listen` message unless `max_len` cuts
    /// it). Beyond the per-task bound the oldest output is dropped.
    pub fn record(&mut self, pid: u32, stream: Stream, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        // A single write larger than the bound keeps only its tail.
        let skip = data.len().saturating_sub(KEEP_BYTES_PER_TASK);
        let mut lost = skip as u64;
        let data = data.get(skip..).unwrap_or(data);
        let buf = self.tasks.entry(pid).or_default();
        buf.bytes += data.len();
        buf.chunks.push_back((stream, data.to_vec()));
        while buf.bytes > KEEP_BYTES_PER_TASK {
            match buf.chunks.pop_front() {
                Some((_, old)) => {
                    buf.bytes -= old.len();
                    lost += old.len() as u64;
                }
                None => buf.bytes = 0,
            }
        }
        if lost > 0 {
            *self.dropped.entry(pid).or_default() += lost;
        }
    }

    /// Bytes of `pid`'s output that were dropped unread since it started.
    pub fn dropped(&self, pid: u32) -> u64 {
        self.dropped.get(&pid).copied().unwrap_or(0)
    }

    /// Whether `pid` has unread output.
    pub fn has(&self, pid: u32) -> bool {
        self.tasks.contains_key(&pid)
    }

    /// PIDs with unread output, ascending.
    pub fn pids(&self) -> Vec<u32> {
        self.tasks.keys().copied().collect()
    }

    /// Removes and returns up to `limit` messages of `pid`, oldest first. A write longer
    /// than `max_len` (0 = no limit) comes back in `max_len` pieces, so nothing is lost.
    pub fn take(&mut self, pid: u32, limit: usize, max_len: usize) -> Vec<Chunk> {
        let mut out = Vec::new();
        let Some(buf) = self.tasks.get_mut(&pid) else {
            return out;
        };
        while out.len() < limit {
            let Some((stream, data)) = buf.chunks.front_mut() else {
                break;
            };
            let stream = *stream;
            let data = if max_len > 0 && data.len() > max_len {
                let rest = data.split_off(max_len);
                std::mem::replace(data, rest)
            } else {
                let whole = std::mem::take(data);
                buf.chunks.pop_front();
                whole
            };
            buf.bytes = buf.bytes.saturating_sub(data.len());
            out.push(Chunk { pid, stream, data });
        }
        if buf.chunks.is_empty() {
            self.tasks.remove(&pid);
        }
        out
    }

    /// Drops the output of ended tasks beyond the newest [`KEEP_ENDED_TASKS`]; `running`
    /// tells whether a PID still names a task that can write.
    pub fn prune(&mut self, running: impl Fn(u32) -> bool) {
        let ended: Vec<u32> = self
            .tasks
            .keys()
            .copied()
            .filter(|p| !running(*p))
            .collect();
        let excess = ended.len().saturating_sub(KEEP_ENDED_TASKS);
        for pid in ended.into_iter().take(excess) {
            self.tasks.remove(&pid);
        }
        let tasks = &self.tasks;
        self.dropped
            .retain(|p, _| running(*p) || tasks.contains_key(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(chunks: &[Chunk]) -> Vec<String> {
        chunks
            .iter()
            .map(|c| String::from_utf8_lossy(&c.data).into_owned())
            .collect()
    }

    #[test]
    fn take_in_order_with_limit_and_max_len() {
        let mut o = TaskOutput::new();
        o.record(1, Stream::Out, b"hello ");
        o.record(1, Stream::Err, b"oops");
        o.record(2, Stream::Out, b"other");
        o.record(1, Stream::Out, b"");
        assert_eq!(o.pids(), vec![1, 2]);
        let got = o.take(1, 2, 4);
        assert_eq!(texts(&got), ["hell", "o "]);
        assert_eq!(got[0].stream, Stream::Out);
        let got = o.take(1, 5, 0);
        assert_eq!(texts(&got), ["oops"]);
        assert_eq!(got[0].stream, Stream::Err);
        assert!(!o.has(1), "an emptied task is forgotten");
        assert!(o.take(1, 5, 0).is_empty());
        assert_eq!(texts(&o.take(2, 1, 512)), ["other"]);
        assert_eq!(Stream::Err.target(7), "svc:stdio.err@7");
    }

    #[test]
    fn per_task_bound_drops_the_oldest() {
        let mut o = TaskOutput::new();
        let block = vec![b'a'; KEEP_BYTES_PER_TASK / 2];
        o.record(1, Stream::Out, b"first");
        o.record(1, Stream::Out, &block);
        o.record(1, Stream::Out, &block);
        let got = o.take(1, usize::MAX, 0);
        assert_eq!(got.len(), 2, "the oldest write went");
        assert_eq!(o.dropped(1), 5, "and is counted");
        assert!(got.iter().all(|c| c.data == block));
        // One huge write keeps its tail.
        let mut huge = vec![b'x'; KEEP_BYTES_PER_TASK];
        huge.extend_from_slice(b"tail");
        o.record(3, Stream::Out, &huge);
        let got = o.take(3, 1, 0);
        assert_eq!(got[0].data.len(), KEEP_BYTES_PER_TASK);
        assert!(got[0].data.ends_with(b"tail"));
        assert_eq!(o.dropped(3), 4);
        assert_eq!(o.dropped(9), 0);
    }

    #[test]
    fn prune_keeps_running_tasks_and_the_newest_ended() {
        let mut o = TaskOutput::new();
        let total = u32::try_from(KEEP_ENDED_TASKS).unwrap_or(u32::MAX) + 3;
        for pid in 1..=total {
            o.record(pid, Stream::Out, b"x");
        }
        // PID 1 still runs; the rest have ended.
        o.prune(|p| p == 1);
        assert!(o.has(1));
        assert!(!o.has(2) && !o.has(3));
        assert!(o.has(4) && o.has(total));
        assert_eq!(o.pids().len(), KEEP_ENDED_TASKS + 1);
    }
}
