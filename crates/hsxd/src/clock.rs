//! The auto clock (protocol.md §5.3): a tokio task that runs the executive in batches
//! while the clock is started, paced by `clock rate`, and sleeps while nothing can run.
//! The clock commands (`clock start|stop|rate`) and the run-control commands that stop it
//! change its [`ClockStatus`] through the functions here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hsx_exec::StopReason;

use crate::event_map::publish_noting_faults;
use crate::state::Daemon;
use crate::wire::clock::{BreakPolicy, ClockStatus};

/// Fewest instructions one lock hold of the auto clock runs at rate 0.
const AUTO_BATCH_MIN: u64 = 10_000;
/// Most instructions one lock hold of the auto clock may run at rate 0.
const AUTO_BATCH_MAX: u64 = 4_000_000;
/// How long one batch at rate 0 should hold the executive: long enough that the per-batch
/// cost (locks, event publishing, a scheduler turn) stays a few per cent of the run, short
/// enough that RPCs waiting for the executive are not held up noticeably. The batch size
/// adapts to it (doubling or halving per batch).
const AUTO_BATCH_HOLD: Duration = Duration::from_micros(100);
/// The batch while someone subscribes to events: traced tasks produce about one event per
/// instruction, and the executive's event queue (4096) must not overflow between drains.
const AUTO_BATCH_SUBSCRIBED: u64 = 2_048;
/// Longest wait of the auto loop when nothing can run (protocol.md §5.3: 1 ms to 50 ms).
const IDLE_WAIT: Duration = Duration::from_millis(50);
/// Shortest wait when nothing can run.
const MIN_WAIT: Duration = Duration::from_millis(1);

/// Starts the auto-clock task on the current tokio runtime; it ends at
/// [`Daemon::shutdown`].
///
/// # Panics
/// Outside a tokio runtime.
pub fn spawn(d: &Arc<Daemon>) {
    let d = Arc::clone(d);
    tokio::spawn(async move { auto_loop(d).await });
}

/// The clock object now.
pub fn status(d: &Daemon) -> ClockStatus {
    d.clock().clone()
}

/// Stops the clock without waking the loop (it notices on its next turn): what `detach`
/// and `restart vm` do.
pub fn halt(d: &Daemon, mode: &'static str) {
    d.clock().stop(mode);
}

/// A task stopped for the debugger (breakpoint, BRK, fault): under the all-stop policy the
/// clock stops with it; non-stop (the default) leaves the other tasks running.
/// Returns whether the clock stopped.
pub fn task_stopped(d: &Daemon) -> bool {
    let mut c = d.clock();
    let all = c.on_break == BreakPolicy::All;
    if all && c.running {
        c.stop("stopped");
    }
    all
}

/// `clock policy`: sets what a task's stop does to the clock.
pub fn set_policy(d: &Daemon, on_break: BreakPolicy) -> ClockStatus {
    d.clock().on_break = on_break;
    status(d)
}

/// `clock start`: the clock object as it is before the loop wakes (a breakpoint a few
/// instructions in may stop the clock again before the reply is written).
pub fn start(d: &Daemon) -> ClockStatus {
    let snapshot = {
        let mut c = d.clock();
        if !c.running {
            c.state = "running";
            c.running = true;
            c.mode = c.run_mode();
            c.throttled = false;
            c.throttle_reason = None;
        }
        c.clone()
    };
    d.wake_clock();
    snapshot
}

/// `clock stop`.
pub fn stop(d: &Daemon) -> ClockStatus {
    halt(d, "stopped");
    d.wake_clock();
    status(d)
}

/// `clock rate` (Hz; anything not finite and positive means unthrottled).
pub fn set_rate(d: &Daemon, hz: f64) -> ClockStatus {
    {
        let mut c = d.clock();
        c.rate_hz = if hz.is_finite() && hz > 0.0 { hz } else { 0.0 };
        if c.running {
            c.mode = c.run_mode();
        }
    }
    d.wake_clock();
    status(d)
}

/// Stops the clock for good: the loop ends (the daemon is shutting down).
pub fn close(d: &Daemon) {
    halt(d, "stopped");
    d.set_stopping();
    d.wake_clock();
}

/// Counts a manual `step` call.
pub fn count_manual(d: &Daemon, executed: u64) {
    let mut c = d.clock();
    c.manual_steps += 1;
    c.manual_total_steps += executed;
}

/// Paces the auto clock at a fixed rate: ticks are owed by elapsed time since an anchor, so
/// timer granularity (a sleep of "1 ms" often takes longer) does not slow the clock down —
/// a late turn runs the ticks it missed.
struct Pace {
    anchor: Instant,
    rate: f64,
    ticks_done: u64,
}

impl Pace {
    /// Most ticks one turn may catch up; beyond that (e.g. after the tasks were blocked for
    /// a while) the schedule restarts instead of bursting.
    const MAX_CATCH_UP: u64 = 1000;

    /// Ticks owed now (restarting the schedule if the rate changed or it fell far behind).
    fn owed(pace: &mut Option<Pace>, rate: f64, now: Instant) -> u64 {
        let p = match pace {
            Some(p) if p.rate == rate => p,
            _ => pace.insert(Pace {
                anchor: now,
                rate,
                ticks_done: 0,
            }),
        };
        // `as u64` saturates for a huge `clock rate`; the `+ 1` must not overflow then.
        let due = ((now.duration_since(p.anchor).as_secs_f64() * rate) as u64).saturating_add(1);
        let owed = due.saturating_sub(p.ticks_done);
        if owed > Self::MAX_CATCH_UP {
            *p = Pace {
                anchor: now,
                rate,
                ticks_done: 0,
            };
            return 1;
        }
        owed
    }

    /// Time until the next tick is due.
    /// Capped at one second so that a very low rate still notices a rate change or stop.
    fn until_next(&self, now: Instant) -> Duration {
        let next = Duration::try_from_secs_f64(self.ticks_done as f64 / self.rate)
            .ok()
            .and_then(|d| self.anchor.checked_add(d));
        next.map_or(Duration::from_secs(1), |n| n.saturating_duration_since(now))
            .min(Duration::from_secs(1))
    }
}

/// The next rate-0 batch size after a full batch of `batch` instructions took `took`.
fn next_batch(batch: u64, took: Duration) -> u64 {
    if took < AUTO_BATCH_HOLD / 2 {
        (batch * 2).min(AUTO_BATCH_MAX)
    } else if took > AUTO_BATCH_HOLD * 2 {
        (batch / 2).max(AUTO_BATCH_MIN)
    } else {
        batch
    }
}

/// The auto clock: runs batches while the clock is started, sleeps otherwise.
async fn auto_loop(d: Arc<Daemon>) {
    let mut pace: Option<Pace> = None;
    let mut batch = AUTO_BATCH_MIN;
    loop {
        if d.is_stopping() {
            return;
        }
        let (running, rate, step_size) = {
            let c = d.clock();
            (c.running, c.rate_hz, c.step_size.max(1))
        };
        if !running {
            pace = None;
            // Woken by clock start or shutdown; the timeout guards against a missed wake.
            d.clock_wakeup(Duration::from_millis(200)).await;
            continue;
        }
        let ticks = if rate > 0.0 {
            let owed = Pace::owed(&mut pace, rate, Instant::now());
            if owed == 0 {
                let wait = pace
                    .as_ref()
                    .map_or(MIN_WAIT, |p| p.until_next(Instant::now()));
                d.clock_wakeup(wait).await;
                continue;
            }
            owed
        } else {
            pace = None;
            1
        };
        let budget = if rate > 0.0 {
            step_size.saturating_mul(ticks)
        } else {
            let cap = if d.bus().has_subscribers() {
                AUTO_BATCH_SUBSCRIBED
            } else {
                batch
            };
            step_size.max(cap)
        };
        let (summary, now_ms, any_tasks, faulted) = {
            let mut exec = d.exec();
            let t0 = Instant::now();
            let s = exec.step(budget);
            if rate <= 0.0 && s.executed >= budget {
                batch = next_batch(batch, t0.elapsed());
            }
            let (_, faulted) = publish_noting_faults(&d, &mut exec);
            (s, exec.now_ms(), !exec.pids().is_empty(), faulted)
        };
        let mut wait = Duration::ZERO;
        {
            let mut c = d.clock();
            if !c.running {
                continue;
            }
            if summary.executed > 0 {
                c.auto_steps += 1;
                c.auto_total_steps += summary.executed;
            }
            let all_stop = c.on_break == BreakPolicy::All;
            if all_stop && (faulted || matches!(summary.stop, StopReason::DebugBreak(_))) {
                c.stop("stopped");
                continue;
            }
            let (mode, reason): (&'static str, Option<&'static str>) = match summary.stop {
                StopReason::AllDone if !any_tasks => {
                    c.stop("idle");
                    continue;
                }
                // Non-stop: the task is paused at its break; the next batch runs the others.
                StopReason::Budget | StopReason::DebugBreak(_) => (c.run_mode(), None),
                StopReason::Blocked { next_deadline_ms } => {
                    wait = next_deadline_ms.map_or(IDLE_WAIT, |d| {
                        Duration::from_millis(d.saturating_sub(now_ms)).clamp(MIN_WAIT, IDLE_WAIT)
                    });
                    if next_deadline_ms.is_some() {
                        ("sleep", Some("sleep"))
                    } else {
                        ("wait_mbx", Some("wait_mbx"))
                    }
                }
                StopReason::Paused => {
                    wait = IDLE_WAIT;
                    ("paused", Some("paused"))
                }
                StopReason::AllDone | StopReason::NotRunnable => {
                    wait = IDLE_WAIT;
                    ("idle", Some("idle"))
                }
            };
            if let Some(p) = pace.as_mut() {
                p.ticks_done += ticks;
                wait = wait.max(p.until_next(Instant::now()));
            }
            c.mode = mode;
            c.throttle_reason = reason;
            c.throttled = matches!(reason, Some("sleep" | "throttled"));
            c.last_wait_s = wait.as_secs_f64();
        }
        if wait.is_zero() {
            tokio::task::yield_now().await;
        } else {
            d.clock_wakeup(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventBus;
    use serde_json::json;

    #[test]
    fn batch_grows_while_short_and_shrinks_when_long() {
        let us = Duration::from_micros;
        assert_eq!(next_batch(AUTO_BATCH_MIN, us(10)), 2 * AUTO_BATCH_MIN);
        assert_eq!(next_batch(AUTO_BATCH_MAX, us(10)), AUTO_BATCH_MAX);
        assert_eq!(next_batch(80_000, us(100)), 80_000);
        assert_eq!(next_batch(80_000, us(1000)), 40_000);
        assert_eq!(next_batch(AUTO_BATCH_MIN, us(1000)), AUTO_BATCH_MIN);
    }

    #[test]
    fn pace_owes_ticks_by_elapsed_time_and_catches_up_late_turns() {
        let t0 = Instant::now();
        let mut pace = None;
        // The first tick is due at once.
        assert_eq!(Pace::owed(&mut pace, 1000.0, t0), 1);
        if let Some(p) = pace.as_mut() {
            p.ticks_done += 1;
        }
        // 10 ms later at 1 kHz, ten more ticks are due (a "1 ms" sleep that took 10 ms).
        assert_eq!(
            Pace::owed(&mut pace, 1000.0, t0 + Duration::from_millis(10)),
            10
        );
        if let Some(p) = pace.as_mut() {
            p.ticks_done += 10;
        }
        assert_eq!(
            Pace::owed(&mut pace, 1000.0, t0 + Duration::from_millis(10)),
            0
        );
        let wait = pace
            .as_ref()
            .map(|p| p.until_next(t0 + Duration::from_millis(10)))
            .unwrap_or_default();
        assert!(wait <= Duration::from_millis(1), "{wait:?}");
        // Far behind: restart instead of bursting.
        assert_eq!(
            Pace::owed(&mut pace, 1000.0, t0 + Duration::from_secs(60)),
            1
        );
        // A new rate restarts the schedule.
        assert_eq!(Pace::owed(&mut pace, 5.0, t0 + Duration::from_secs(61)), 1);
        // A tiny rate never panics and waits at most a second.
        let mut slow = None;
        assert_eq!(Pace::owed(&mut slow, 1e-300, t0), 1);
        if let Some(p) = slow.as_mut() {
            p.ticks_done += 1;
        }
        let w = slow.as_ref().map(|p| p.until_next(t0)).unwrap_or_default();
        assert_eq!(w, Duration::from_secs(1));
        // A huge rate (any finite `clock rate` is accepted) never overflows either.
        let mut fast = None;
        assert_eq!(Pace::owed(&mut fast, f64::MAX, t0), 1);
        assert_eq!(
            Pace::owed(&mut fast, f64::MAX, t0 + Duration::from_secs(1)),
            1
        );
    }

    #[test]
    fn clock_start_stop_and_rate_without_a_runtime_loop() {
        let time: Arc<dyn crate::TimeSource> = Arc::new(crate::SystemTimeSource::new());
        let d = Daemon::in_memory(EventBus::new(time.clone()), time);
        assert_eq!(set_rate(&d, 5.0).to_json()["rate_hz"], json!(5.0));
        let c = start(&d).to_json();
        assert_eq!(
            (c["state"].clone(), c["mode"].clone()),
            (json!("running"), json!("rate"))
        );
        assert_eq!(stop(&d).to_json()["state"], json!("stopped"));
    }
}
