//! Per-task budgets: what one task may take, and what happens when it asks for more.
//!
//! A refused request fails that call with its status (the service's `ENOSPC`/`EBUSY`), or,
//! for the watchdog, faults or throttles that task only. Either way the executive reports it
//! once per task and budget as a `budget_exceeded` warning (hsxd adds a `dmesg` line), so a
//! misbehaving app is visible without flooding the event stream.

use super::{Executive, TaskCode};
pub use crate::budget::Budget;
use crate::event::{EventKind, FaultInfo, Warning};

/// One task's use of one budget ([`Executive::budget_usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetUse {
    /// Which budget.
    pub budget: Budget,
    /// How much is in use (watchdog: instructions since the last SVC).
    pub used: u64,
    /// Its limit (`None`: unlimited, or not kept by the backend).
    pub limit: Option<u64>,
    /// Calls it refused (watchdog: times it tripped), saturating.
    pub hits: u16,
}

impl Default for BudgetUse {
    fn default() -> Self {
        Self {
            budget: Budget::Watchdog,
            used: 0,
            limit: None,
            hits: 0,
        }
    }
}

/// What the watchdog does to a task that runs its limit of instructions without an SVC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WatchdogAction {
    /// Fault the task (`WATCHDOG`); the others run on.
    #[default]
    Fault,
    /// Put the task to sleep for `pause_ms`, then give it its limit again.
    Throttle {
        /// Pause in milliseconds.
        pause_ms: u32,
    },
}

/// The instruction watchdog: a task that executes `instructions` in a row without an SVC
/// (every wait, sleep or service call is one) is faulted or throttled. `0` = off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Watchdog {
    /// Limit of instructions between SVCs (0: off).
    pub instructions: u64,
    /// What happens when it is reached.
    pub action: WatchdogAction,
}

/// Pause of a throttled task when `throttle` gives none (ms).
pub const DEFAULT_THROTTLE_MS: u32 = 10;

impl core::str::FromStr for Watchdog {
    type Err = &'static str;

    /// `N` or `N:fault` (fault after N instructions without an SVC), `N:throttle[=MS]`
    /// (sleep MS, default 10, then go on); `0` = off.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const USAGE: &str = "expected N, N:fault or N:throttle[=MS] (N instructions between SVCs)";
        let (n, action) = s.split_once(':').unwrap_or((s, "fault"));
        let instructions = n.trim().parse().map_err(|_| USAGE)?;
        let action = match action.trim().split_once('=') {
            None if action.trim() == "fault" => WatchdogAction::Fault,
            None if action.trim() == "throttle" => WatchdogAction::Throttle {
                pause_ms: DEFAULT_THROTTLE_MS,
            },
            Some(("throttle", ms)) => WatchdogAction::Throttle {
                pause_ms: ms.trim().parse().map_err(|_| USAGE)?,
            },
            _ => return Err(USAGE),
        };
        Ok(Watchdog {
            instructions,
            action,
        })
    }
}

impl core::fmt::Display for Watchdog {
    /// The form [`Watchdog::from_str`](core::str::FromStr) reads back.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.action {
            WatchdogAction::Fault => write!(f, "{}:fault", self.instructions),
            WatchdogAction::Throttle { pause_ms } => {
                write!(f, "{}:throttle={pause_ms}", self.instructions)
            }
        }
    }
}

/// Code of a watchdog fault (executive-only, never written to a register).
pub const WATCHDOG_FAULT: u32 = 0xFFFF_FF13;

impl<C: TaskCode> Executive<C> {
    /// Reports that the task in `slot` hit `budget` (once per task and budget).
    pub(crate) fn budget_exceeded(&mut self, slot: usize, budget: Budget, limit: u64) {
        let Some(rec) = self.tasks.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        rec.budget_hits[budget as usize] = rec.budget_hits[budget as usize].saturating_add(1);
        if rec.budgets_reported & budget.bit() != 0 {
            return;
        }
        rec.budgets_reported |= budget.bit();
        let pid = rec.pid;
        self.emit(
            Some(pid),
            EventKind::Warning(Warning::BudgetExceeded { budget, limit }),
        );
    }

    /// As [`Executive::budget_exceeded`], for a task known by pid (services that see pids).
    #[cfg(feature = "fs")]
    pub(crate) fn budget_exceeded_pid(&mut self, pid: u32, budget: Budget, limit: u64) {
        if let Ok(slot) = self.slot_of(pid) {
            self.budget_exceeded(slot, budget, limit);
        }
    }

    /// The VM reported the watchdog for `slot` at `pc`.
    pub(super) fn watchdog_tripped(&mut self, slot: usize, pc: u32) {
        let (limit, _) = self.vm.task(slot).map_or((0, 0), |t| t.watchdog());
        self.budget_exceeded(slot, Budget::Watchdog, limit);
        match self.cfg.watchdog.action {
            WatchdogAction::Fault => self.fault_task(
                slot,
                FaultInfo {
                    code: WATCHDOG_FAULT,
                    name: hsx_vm::Fault::Watchdog.name(),
                    pc,
                },
            ),
            WatchdogAction::Throttle { pause_ms } => {
                if let Some(t) = self.vm.task_mut(slot) {
                    t.feed_watchdog();
                }
                self.start_sleep(slot, pause_ms);
            }
        }
    }

    /// Sets the watchdog for tasks loaded from now on (and the action for all of them).
    pub fn set_watchdog(&mut self, watchdog: Watchdog) {
        self.cfg.watchdog = watchdog;
    }

    /// The watchdog of the task `pid`: its limit (0 = off) and the instructions left before
    /// it trips.
    ///
    /// # Errors
    /// [`super::ExecError::UnknownPid`].
    pub fn task_watchdog(&self, pid: u32) -> Result<(u64, u64), super::ExecError> {
        let slot = self.slot_of(pid)?;
        Ok(self.vm.task(slot).map_or((0, 0), |t| t.watchdog()))
    }

    /// What the task `pid` uses of each budget, its limit (`None`: unlimited, or not kept
    /// by the backend) and how often it was refused, in [`Budget::ALL`] order.
    ///
    /// # Errors
    /// [`super::ExecError::UnknownPid`].
    pub fn budget_usage(&self, pid: u32) -> Result<[BudgetUse; 7], super::ExecError> {
        let slot = self.slot_of(pid)?;
        let hits = self.rec(slot).map_or([0; 7], |r| r.budget_hits);
        let (wd_limit, wd_left) = self.vm.task(slot).map_or((0, 0), |t| t.watchdog());
        let mb = self.mailboxes.config();
        let (values, commands) = self.registry.owned_by(pid);
        let lim = self.registry.limits();
        let fs = self.fs.usage(pid);
        let uses: [(u64, Option<u64>); 7] = [
            (wd_limit - wd_left, (wd_limit > 0).then_some(wd_limit)),
            (
                u64::from(self.mailboxes.descriptors_made_by(pid)),
                mb.descriptors_per_task.map(u64::from),
            ),
            (
                u64::from(self.mailboxes.handle_count(pid)),
                mb.handle_limit_per_pid.map(u64::from),
            ),
            (values as u64, Some(lim.values_per_task as u64)),
            (commands as u64, Some(lim.commands_per_task as u64)),
            fs.map_or((0, None), |u| (u.open.0, Some(u.open.1))),
            fs.map_or((0, None), |u| (u.bytes.0, Some(u.bytes.1))),
        ];
        let mut out = [BudgetUse::default(); 7];
        for (i, (o, (used, limit))) in out.iter_mut().zip(uses).enumerate() {
            *o = BudgetUse {
                budget: Budget::ALL[i],
                used,
                limit,
                hits: hits[i],
            };
        }
        Ok(out)
    }

    /// How often the task `pid` has hit each budget ([`Budget::ALL`] order).
    ///
    /// # Errors
    /// [`super::ExecError::UnknownPid`].
    pub fn budget_hits(&self, pid: u32) -> Result<[u16; 7], super::ExecError> {
        let slot = self.slot_of(pid)?;
        Ok(self.rec(slot).map_or([0; 7], |r| r.budget_hits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_specs_parse() {
        let w: Watchdog = "5000".parse().unwrap();
        assert_eq!((w.instructions, w.action), (5000, WatchdogAction::Fault));
        let w: Watchdog = "7:throttle".parse().unwrap();
        assert_eq!(w.action, WatchdogAction::Throttle { pause_ms: 10 });
        let w: Watchdog = "7:throttle=250".parse().unwrap();
        assert_eq!(w.action, WatchdogAction::Throttle { pause_ms: 250 });
        for w in ["9:fault", "7:throttle=250"] {
            assert_eq!(alloc::format!("{}", w.parse::<Watchdog>().unwrap()), w);
        }
        for bad in ["", "x", "5:slow", "5:throttle=", "-1", "5:fault=3"] {
            assert!(bad.parse::<Watchdog>().is_err(), "{bad}");
        }
        assert_eq!(Budget::ALL.map(Budget::as_str)[6], "file_bytes");
    }
}
