//! The `clock` object (protocol.md §5.3): the auto clock's state as `clock`, `step` and
//! `info` replies show it. The clock itself lives in [`crate::clock`].

use serde::Serialize;
use serde_json::Value;

/// The `clock` object (protocol.md §5.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockStatus {
    /// `running` or `stopped`.
    pub state: &'static str,
    /// Whether the auto loop runs.
    pub running: bool,
    /// `stopped`, `active`, `rate`, `paused`, `sleep`, `wait_mbx`, `idle`, `throttled`.
    pub mode: &'static str,
    /// True for throttle reasons `throttled` and `sleep`.
    pub throttled: bool,
    /// Current throttle reason.
    pub throttle_reason: Option<&'static str>,
    /// Last wait of the loop, seconds.
    pub last_wait_s: f64,
    /// Rate limit, 0 = none.
    pub rate_hz: f64,
    /// Instructions per auto tick / default step budget.
    pub step_size: u64,
    /// Auto step calls.
    pub auto_steps: u64,
    /// Instructions retired by the auto clock.
    pub auto_total_steps: u64,
    /// Manual step calls.
    pub manual_steps: u64,
    /// Instructions retired by manual steps.
    pub manual_total_steps: u64,
    /// What a task's stop (breakpoint, BRK, fault) does to the clock.
    pub on_break: BreakPolicy,
}

/// What a task's debug stop (breakpoint, BRK, watch trigger, fault) does to the auto clock:
/// non-stop (`task`, the default) or all-stop (`all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BreakPolicy {
    /// Only the task that stopped stops; the clock keeps running the others.
    #[default]
    Task,
    /// The clock stops, so every task stops with it (the HSX Python executive's behaviour).
    All,
}

impl BreakPolicy {
    /// Parses `task` or `all` (any case).
    pub fn parse(s: &str) -> Option<BreakPolicy> {
        match s.to_ascii_lowercase().as_str() {
            "task" => Some(BreakPolicy::Task),
            "all" => Some(BreakPolicy::All),
            _ => None,
        }
    }
}

impl Default for ClockStatus {
    fn default() -> Self {
        Self {
            state: "stopped",
            running: false,
            mode: "stopped",
            throttled: false,
            throttle_reason: None,
            last_wait_s: 0.0,
            rate_hz: 0.0,
            step_size: 1,
            auto_steps: 0,
            auto_total_steps: 0,
            manual_steps: 0,
            manual_total_steps: 0,
            on_break: BreakPolicy::Task,
        }
    }
}

impl ClockStatus {
    /// Stops the clock in `mode` (`stopped`, or `idle` when nothing is left to run).
    pub fn stop(&mut self, mode: &'static str) {
        self.state = "stopped";
        self.running = false;
        self.mode = mode;
        self.throttled = false;
        self.throttle_reason = None;
    }

    /// The mode of a running clock: `rate` when paced, else `active`.
    pub fn run_mode(&self) -> &'static str {
        if self.rate_hz > 0.0 { "rate" } else { "active" }
    }

    /// Instructions retired by the auto clock and manual steps together.
    pub fn total_steps(&self) -> u64 {
        self.auto_total_steps + self.manual_total_steps
    }

    /// As JSON.
    pub fn to_json(&self) -> Value {
        super::to_value(self)
    }
}
