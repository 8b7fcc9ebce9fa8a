//! The daemon's provisioning service around the executive's streamed loader: which app a
//! session replaces, the image store, activation with rollback, and the grace period in
//! which a fault of a freshly activated update brings the previous image back.
//!
//! Lock order: the executive first, then [`Provisioning`].

use std::collections::HashMap;

use hsx_exec::store::{ImageStore, StoreEntry};
use hsx_exec::{Executive, LoadOptions, ProvKind};

/// Default grace period after an update is activated (ms).
pub const DEFAULT_GRACE_MS: u64 = 5_000;

/// How a session ends.
#[derive(Debug, Clone, Default)]
pub struct SessionPlan {
    /// Running app this image replaces.
    pub replace: Option<String>,
}

/// A freshly activated update: a fault before `deadline_ms` rolls it back.
#[derive(Debug, Clone)]
pub struct Grace {
    /// App name.
    pub app: String,
    /// End of the grace period (executive clock, ms).
    pub deadline_ms: u64,
    /// The image it replaced.
    pub previous: Vec<u8>,
}

/// Provisioning state of the daemon.
pub struct Provisioning {
    store: Option<Box<dyn ImageStore>>,
    plans: HashMap<u32, SessionPlan>,
    grace: HashMap<u32, Grace>,
    /// Image bytes of tasks started through provisioning, by PID (for a later replace or
    /// rollback without a store).
    images: HashMap<u32, Vec<u8>>,
    /// Grace period given to activations that do not name one.
    pub grace_ms: u64,
}

impl std::fmt::Debug for Provisioning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioning")
            .field("store", &self.store.is_some())
            .field("plans", &self.plans.len())
            .field("grace", &self.grace.len())
            .finish_non_exhaustive()
    }
}

impl Default for Provisioning {
    fn default() -> Self {
        Self {
            store: None,
            plans: HashMap::new(),
            grace: HashMap::new(),
            images: HashMap::new(),
            grace_ms: DEFAULT_GRACE_MS,
        }
    }
}

/// What an activation did.
#[derive(Debug, Clone)]
pub struct Activated {
    /// The new task.
    pub pid: u32,
    /// Its app name.
    pub app_name: String,
    /// The task it replaced.
    pub replaced_pid: Option<u32>,
    /// Store slot the image went to.
    pub slot: Option<&'static str>,
    /// Grace period end, when one is armed.
    pub grace_until_ms: Option<u64>,
}

/// Why an activation failed; the previous app is running again when `rolled_back`.
#[derive(Debug, Clone)]
pub struct ActivateError {
    /// The error text.
    pub message: String,
    /// PID of the restored previous app.
    pub rolled_back: Option<u32>,
}

/// Load options of an image restored from memory or the store: named after its app, with
/// `store:<app>` as its source.
fn store_opts(app: &str) -> LoadOptions {
    LoadOptions {
        path: Some(format!("store:{app}")),
        name: Some(app.to_string()),
        ..LoadOptions::default()
    }
}

fn live(exec: &Executive, name: &str) -> Option<u32> {
    exec.tasks()
        .into_iter()
        .find(|t| t.app_name == name)
        .map(|t| t.pid)
}

impl Provisioning {
    /// Uses `store` for images that must survive a restart.
    pub fn set_store(&mut self, store: Box<dyn ImageStore>) {
        self.store = Some(store);
    }

    /// Whether an image store is configured.
    pub fn has_store(&self) -> bool {
        self.store.is_some()
    }

    /// The store's apps.
    pub fn store_entries(&self) -> Vec<StoreEntry> {
        self.store.as_ref().map(|s| s.entries()).unwrap_or_default()
    }

    /// The active image of `app` in the store.
    pub fn store_active(&self, app: &str) -> Option<Vec<u8>> {
        self.store.as_ref()?.active(app).ok().flatten()
    }

    /// Remembers how session `pid` ends.
    pub fn plan(&mut self, pid: u32, plan: SessionPlan) {
        self.plans.insert(pid, plan);
    }

    /// The plan of session `pid`.
    pub fn plan_of(&self, pid: u32) -> SessionPlan {
        self.plans.get(&pid).cloned().unwrap_or_default()
    }

    /// Forgets plans of sessions the executive no longer has.
    pub fn prune(&mut self, exec: &Executive) {
        let open: Vec<u32> = exec.load_sessions().iter().map(|s| s.pid).collect();
        self.plans.retain(|p, _| open.contains(p));
        self.images.retain(|p, _| exec.has_task(*p));
        let now = exec.now_ms();
        self.grace
            .retain(|p, g| g.deadline_ms > now && exec.has_task(*p));
    }

    /// Updates under grace, by PID.
    pub fn grace(&self) -> &HashMap<u32, Grace> {
        &self.grace
    }

    /// Writes a `ready` session's image to the store as the active image of `app`.
    ///
    /// # Errors
    /// No store, no staged image, or the store's error.
    pub fn persist(
        &mut self,
        exec: &mut Executive,
        pid: u32,
        app: &str,
    ) -> Result<&'static str, String> {
        let bytes = exec
            .load_staged(pid)
            .map(<[u8]>::to_vec)
            .or_else(|| self.images.get(&pid).cloned())
            .ok_or_else(|| format!("no image for pid {pid} (only provisioned images persist)"))?;
        let store = self
            .store
            .as_mut()
            .ok_or("no image store (start hsxd with --store DIR)")?;
        store
            .stage(app, &bytes)
            .and_then(|_| store.commit(app))
            .map_err(|e| e.to_string())
            .map(|slot| {
                exec.emit_provisioning(
                    pid,
                    "ready",
                    ProvKind::Persisted {
                        app: app.to_string(),
                        slot: slot.as_str().into(),
                    },
                );
                slot.as_str()
            })
    }

    /// Starts a `ready` session as a task. With `replace`, the running app of that name is
    /// stopped first and comes back if the new image does not start; with a store, the new
    /// image is staged before and committed after a successful start. `grace_ms` > 0 arms
    /// the automatic rollback on a fault (replacements only).
    ///
    /// # Errors
    /// [`ActivateError`]: nothing started; the previous app runs again if there was one.
    pub fn activate(
        &mut self,
        exec: &mut Executive,
        pid: u32,
        grace_ms: u64,
    ) -> Result<Activated, ActivateError> {
        let fail = |message: String| ActivateError {
            message,
            rolled_back: None,
        };
        let bytes = exec
            .load_staged(pid)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| fail(format!("EBUSY:no verified image for pid {pid}")))?;
        let header_name = hsx_image::Header::parse(&bytes)
            .ok()
            .and_then(|h| h.app_name);
        let plan = self.plans.remove(&pid).unwrap_or_default();
        let store_name = plan.replace.clone().or(header_name.clone());
        // The image the update replaces: the running task's, else the store's.
        let old = plan.replace.as_deref().and_then(|n| live(exec, n));
        let previous = match (&plan.replace, old) {
            (Some(name), Some(p)) => self
                .images
                .get(&p)
                .cloned()
                .or_else(|| self.store_active(name)),
            _ => None,
        };
        if let Some(name) = &plan.replace
            && old.is_none()
        {
            return Err(fail(format!("ESRCH:no running app named {name}")));
        }
        if let (Some(store), Some(name)) = (self.store.as_mut(), &store_name) {
            store
                .stage(name, &bytes)
                .map_err(|e| fail(format!("EIO:{e}")))?;
        }
        if let Some(p) = old {
            let _ = exec.kill(p);
        }
        let opts = match &plan.replace {
            Some(name) => LoadOptions::named(name.clone()),
            None => LoadOptions::default(),
        };
        let report = match exec.load_start(pid, opts) {
            Ok(r) => r,
            Err(e) => {
                let rolled_back = self.restore(exec, pid, plan.replace.as_deref(), previous);
                return Err(ActivateError {
                    message: e.to_string(),
                    rolled_back,
                });
            }
        };
        let mut slot = None;
        if let (Some(store), Some(name)) = (self.store.as_mut(), &store_name)
            && let Ok(s) = store.commit(name)
        {
            slot = Some(s.as_str());
            exec.emit_provisioning(
                pid,
                "ready",
                ProvKind::Persisted {
                    app: name.clone(),
                    slot: s.as_str().into(),
                },
            );
        }
        self.images.insert(pid, bytes);
        let mut grace_until_ms = None;
        if let (Some(name), Some(previous)) = (plan.replace, previous)
            && grace_ms > 0
        {
            let deadline_ms = exec.now_ms().saturating_add(grace_ms);
            grace_until_ms = Some(deadline_ms);
            self.grace.insert(
                pid,
                Grace {
                    app: name,
                    deadline_ms,
                    previous,
                },
            );
        }
        Ok(Activated {
            pid,
            app_name: report.app_name,
            replaced_pid: old,
            slot,
            grace_until_ms,
        })
    }

    /// Starts `previous` again as `app` after a failed update; returns its PID.
    fn restore(
        &mut self,
        exec: &mut Executive,
        pid: u32,
        app: Option<&str>,
        previous: Option<Vec<u8>>,
    ) -> Option<u32> {
        let (app, previous) = (app?, previous?);
        let rep = exec.load(&previous, store_opts(app)).ok()?;
        exec.emit_provisioning(
            pid,
            "failed",
            ProvKind::Rollback {
                app: app.to_string(),
                reason: "the new image did not start".into(),
            },
        );
        self.images.insert(rep.pid, previous);
        Some(rep.pid)
    }

    /// A task faulted: if it is an update still in its grace period, stop it, start the
    /// previous image again and make that the store's active image. Returns the new PID.
    pub fn on_fault(&mut self, exec: &mut Executive, pid: u32) -> Option<u32> {
        let g = self.grace.remove(&pid)?;
        if exec.now_ms() > g.deadline_ms {
            return None;
        }
        let _ = exec.kill(pid);
        self.images.remove(&pid);
        if let Some(store) = self.store.as_mut() {
            let _ = store.rollback(&g.app);
        }
        let rep = exec.load(&g.previous, store_opts(&g.app)).ok();
        exec.emit_provisioning(
            pid,
            "idle",
            ProvKind::Rollback {
                app: g.app.clone(),
                reason: format!(
                    "the update faulted within its {} ms grace period",
                    self.grace_ms
                ),
            },
        );
        let rep = rep?;
        self.images.insert(rep.pid, g.previous);
        Some(rep.pid)
    }

    /// `provision.rollback`: the store's previous image of `app` becomes active and runs
    /// in place of the current task. Returns (old pid, new pid).
    ///
    /// # Errors
    /// No store, no previous image, or the image does not start.
    pub fn rollback(
        &mut self,
        exec: &mut Executive,
        app: &str,
    ) -> Result<(Option<u32>, u32), String> {
        let store = self
            .store
            .as_mut()
            .ok_or("no image store (start hsxd with --store DIR)")?;
        store.rollback(app).map_err(|e| e.to_string())?;
        let bytes = store
            .active(app)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no image for {app} after rollback"))?;
        let old = live(exec, app);
        if let Some(p) = old {
            let _ = exec.kill(p);
            self.grace.remove(&p);
            self.images.remove(&p);
        }
        let rep = exec
            .load(&bytes, store_opts(app))
            .map_err(|e| e.to_string())?;
        exec.emit_provisioning(
            rep.pid,
            "ready",
            ProvKind::Rollback {
                app: app.to_string(),
                reason: "requested".into(),
            },
        );
        self.images.insert(rep.pid, bytes);
        Ok((old, rep.pid))
    }
}
