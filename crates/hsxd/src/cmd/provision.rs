//! `provision.*`: streamed upload over the connection (`begin`, `write`, `end`, `abort`),
//! staged activation with rollback (`activate`, `rollback`), the image store (`persist`),
//! `status`, and `load.from_file` (a host file through the same path).
//!
//! Errors start with the errno of `services.md` §3.7 (`EBADMSG:`, `ENOSPC:`, `ESRCH:`,
//! `EBUSY:`), then the reason; image bytes are never quoted.

use serde_json::{Value, json};

use crate::args::{Obj, field, opt_str, opt_u32, opt_u64, truthy};
use crate::cmd::fields::{req_pid, requires};
use crate::context::{Ctx, Outcome};
use crate::error::ProtoError;
use crate::event_map::publish;
use crate::hex::from_hex;
use crate::policy::Grant;
use crate::provision::SessionPlan;
use crate::reply::Reply;

/// Chunk size `hsx provision push` uses over TCP (the executive accepts up to 64 KiB).
pub const TCP_CHUNK: usize = 16 * 1024;

/// A `provision.*` request.
#[derive(Debug, Clone, PartialEq)]
pub enum ProvOp {
    /// `provision.begin {total_bytes, label?, replace?}`.
    Begin {
        /// Image length.
        total: u32,
        /// Label (kept as the task's source).
        label: Option<String>,
        /// Running app to replace.
        replace: Option<String>,
    },
    /// `provision.write {pid, data, offset?, crc32?}` (`data` in hex).
    Write {
        /// Session.
        pid: u32,
        /// Bytes.
        data: Vec<u8>,
        /// Where they belong (a resend of the last chunk is acknowledged, not applied).
        offset: Option<u32>,
        /// CRC-32 of `data`, checked before anything is applied.
        crc32: Option<u32>,
    },
    /// `provision.end {pid, activate?, grace_ms?}`.
    End {
        /// Session.
        pid: u32,
        /// Start it now (default) or leave it staged.
        activate: bool,
        /// Grace period of a replacement.
        grace_ms: Option<u64>,
    },
    /// `provision.activate {pid, grace_ms?}`.
    Activate {
        /// Session.
        pid: u32,
        /// Grace period of a replacement.
        grace_ms: Option<u64>,
    },
    /// `provision.abort {pid}`.
    Abort {
        /// Session.
        pid: u32,
    },
    /// `provision.status {pid?}`.
    Status {
        /// One session.
        pid: Option<u32>,
    },
    /// `provision.persist {pid, app?}`.
    Persist {
        /// Session or provisioned task.
        pid: u32,
        /// Store name (default: the image's app name).
        app: Option<String>,
    },
    /// `provision.rollback {app}`.
    Rollback {
        /// App.
        app: String,
    },
    /// `provision.load.from_file {path, replace?, activate?, grace_ms?}`.
    FromFile {
        /// Host path.
        path: String,
        /// Running app to replace.
        replace: Option<String>,
        /// Start it now (default).
        activate: bool,
        /// Grace period of a replacement.
        grace_ms: Option<u64>,
    },
}

fn activate_flag(obj: &Obj) -> bool {
    field(obj, "activate").is_none_or(|v| truthy(Some(v)))
}

/// Parses `provision.<op>`.
///
/// # Errors
/// Unknown op or bad fields.
pub fn parse(name: &str, obj: &Obj) -> Result<ProvOp, ProtoError> {
    let op = name.strip_prefix("provision.").unwrap_or(name);
    let owned = |k: &'static str| -> Result<Option<String>, ProtoError> {
        Ok(opt_str(obj, k)?.map(str::to_string))
    };
    Ok(match op {
        "begin" => ProvOp::Begin {
            total: opt_u32(obj, "total_bytes")?
                .or(opt_u32(obj, "size")?)
                .ok_or_else(|| requires(name, "total_bytes"))?,
            label: owned("label")?,
            replace: owned("replace")?,
        },
        "write" => {
            let data = match field(obj, "data") {
                Some(Value::String(s)) => from_hex(s)?,
                Some(_) => {
                    return Err(ProtoError::msg(
                        "provision.write 'data' must be a hex string",
                    ));
                }
                None => return Err(requires(name, "data")),
            };
            ProvOp::Write {
                pid: req_pid(name, obj)?,
                data,
                offset: opt_u32(obj, "offset")?,
                crc32: opt_u32(obj, "crc32")?,
            }
        }
        "end" => ProvOp::End {
            pid: req_pid(name, obj)?,
            activate: activate_flag(obj),
            grace_ms: opt_u64(obj, "grace_ms")?,
        },
        "activate" => ProvOp::Activate {
            pid: req_pid(name, obj)?,
            grace_ms: opt_u64(obj, "grace_ms")?,
        },
        "abort" => ProvOp::Abort {
            pid: req_pid(name, obj)?,
        },
        "status" => ProvOp::Status {
            pid: opt_u32(obj, "pid")?,
        },
        "persist" => ProvOp::Persist {
            pid: req_pid(name, obj)?,
            app: owned("app")?,
        },
        "rollback" => ProvOp::Rollback {
            app: owned("app")?.ok_or_else(|| requires(name, "app"))?,
        },
        "load.from_file" | "load" => ProvOp::FromFile {
            path: owned("path")?.ok_or_else(|| requires(name, "path"))?,
            replace: owned("replace")?,
            activate: activate_flag(obj),
            grace_ms: opt_u64(obj, "grace_ms")?,
        },
        _ => return Err(ProtoError::UnknownCmd(name.to_string())),
    })
}

impl ProvOp {
    /// Whether the request only reads.
    pub fn is_read_only(&self) -> bool {
        matches!(self, ProvOp::Status { .. })
    }

    /// Whether the request may load a task (runs off the reactor).
    pub fn is_heavy(&self) -> bool {
        matches!(
            self,
            ProvOp::End { .. } | ProvOp::Activate { .. } | ProvOp::FromFile { .. }
        )
    }

    /// The session or task the request acts on.
    pub fn target_pid(&self) -> Option<u32> {
        match self {
            ProvOp::Write { pid, .. }
            | ProvOp::End { pid, .. }
            | ProvOp::Activate { pid, .. }
            | ProvOp::Abort { pid }
            | ProvOp::Persist { pid, .. } => Some(*pid),
            _ => None,
        }
    }
}

fn reply(v: Value) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("provision", v).into())
}

/// A grant limited to some apps or image capabilities provisions only those.
fn grant_check(grant: Option<&Grant>, bytes: &[u8]) -> Result<(), ProtoError> {
    let Some(g) = grant.filter(|g| g.apps.is_some() || g.req_caps.is_some()) else {
        return Ok(());
    };
    let Ok(h) = hsx_image::Header::parse(bytes) else {
        return Ok(());
    };
    match g.refusal(&h.app_name.unwrap_or_default(), h.req_caps) {
        Some(why) => Err(ProtoError::msg(why)),
        None => Ok(()),
    }
}

/// Runs a `provision.*` request.
///
/// # Errors
/// The errno-prefixed failure.
pub fn execute(ctx: &Ctx<'_>, op: ProvOp) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let grant = ctx.peer.map(|p| &*p.grant);
    match op {
        ProvOp::Begin {
            total,
            label,
            replace,
        } => {
            if let (Some(g), Some(name)) = (grant, &replace)
                && !g.allows_app(name)
            {
                return Err(ProtoError::msg(format!("permission_denied:app:{name}")));
            }
            let mut exec = d.exec();
            let r = exec.load_begin(label.as_deref(), total);
            let max_chunk = exec.config().load.max_chunk;
            if let Ok(pid) = r {
                d.prov().plan(pid, SessionPlan { replace });
            }
            publish(d, &mut exec);
            let pid = r.map_err(|e| ProtoError::msg(e.detail()))?;
            reply(
                json!({"pid": pid, "phase": "loading", "total_bytes": total, "max_chunk": max_chunk}),
            )
        }
        ProvOp::Write {
            pid,
            data,
            offset,
            crc32,
        } => {
            if let Some(want) = crc32 {
                let got = crc32fast::hash(&data);
                if got != want {
                    return Err(ProtoError::msg(format!(
                        "EBADMSG:chunk CRC mismatch (0x{got:08X}, expected 0x{want:08X}); resend it"
                    )));
                }
            }
            let mut exec = d.exec();
            let status = exec.load_sessions().into_iter().find(|s| s.pid == pid);
            if let (Some(off), Some(s)) = (offset, &status) {
                let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
                if off.checked_add(len) == Some(s.bytes_written) && len > 0 {
                    // A resend of the chunk whose reply was lost.
                    return reply(
                        json!({"pid": pid, "phase": s.phase.as_str(), "bytes_written": s.bytes_written, "total_bytes": s.total_bytes, "duplicate": true}),
                    );
                }
                if off != s.bytes_written {
                    return Err(ProtoError::msg(format!(
                        "EINVAL:offset {off}, but {} bytes are written",
                        s.bytes_written
                    )));
                }
            }
            let r = exec.load_write(pid, &data);
            publish(d, &mut exec);
            let written = r.map_err(|e| ProtoError::msg(e.detail()))?;
            let total = status.map_or(0, |s| s.total_bytes);
            reply(
                json!({"pid": pid, "phase": "loading", "bytes_written": written, "total_bytes": total}),
            )
        }
        ProvOp::End {
            pid,
            activate,
            grace_ms,
        } => ctx.heavy(|| end(ctx, pid, activate, grace_ms)),
        ProvOp::Activate { pid, grace_ms } => ctx.heavy(|| activate_now(ctx, pid, grace_ms)),
        ProvOp::Abort { pid } => {
            let mut exec = d.exec();
            let r = exec.load_abort(pid);
            d.prov().prune(&exec);
            publish(d, &mut exec);
            r.map_err(|e| ProtoError::msg(e.detail()))?;
            reply(json!({"pid": pid, "phase": "idle"}))
        }
        ProvOp::Status { pid } => status(ctx, pid),
        ProvOp::Persist { pid, app } => {
            let mut exec = d.exec();
            let name = app
                .or_else(|| exec.task(pid).ok().map(|t| t.app_name_base.clone()))
                .or_else(|| {
                    exec.load_staged(pid)
                        .and_then(|b| hsx_image::Header::parse(b).ok())
                        .and_then(|h| h.app_name)
                })
                .ok_or_else(|| ProtoError::msg(format!("ESRCH:no app name for pid {pid}")))?;
            let r = d.prov().persist(&mut exec, pid, &name);
            publish(d, &mut exec);
            let slot = r.map_err(ProtoError::msg)?;
            reply(json!({"pid": pid, "app": name, "slot": slot}))
        }
        ProvOp::Rollback { app } => {
            if let Some(g) = grant
                && !g.allows_app(&app)
            {
                return Err(ProtoError::msg(format!("permission_denied:app:{app}")));
            }
            let mut exec = d.exec();
            let r = d.prov().rollback(&mut exec, &app);
            publish(d, &mut exec);
            let (old, new) = r.map_err(ProtoError::msg)?;
            reply(json!({"app": app, "old_pid": old, "pid": new}))
        }
        ProvOp::FromFile {
            path,
            replace,
            activate,
            grace_ms,
        } => ctx.heavy(|| from_file(ctx, &path, replace, activate, grace_ms)),
    }
}

fn end(
    ctx: &Ctx<'_>,
    pid: u32,
    activate: bool,
    grace_ms: Option<u64>,
) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let mut exec = d.exec();
    let r = exec.load_end(pid);
    publish(d, &mut exec);
    let staged = r.map_err(|e| ProtoError::msg(e.detail()))?;
    let grant = ctx.peer.map(|p| &*p.grant);
    if let Some(bytes) = exec.load_staged(pid)
        && let Err(e) = grant_check(grant, bytes)
    {
        let _ = exec.load_abort(pid);
        publish(d, &mut exec);
        return Err(e);
    }
    let base = json!({
        "pid": pid, "phase": "ready", "app_name": staged.app_name,
        "len": staged.len, "crc32": staged.crc32,
    });
    if !activate {
        return reply(base);
    }
    drop(exec);
    activate_now(ctx, pid, grace_ms)
}

fn activate_now(ctx: &Ctx<'_>, pid: u32, grace_ms: Option<u64>) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let mut exec = d.exec();
    let mut prov = d.prov();
    let grace = grace_ms.unwrap_or(prov.grace_ms);
    let r = prov.activate(&mut exec, pid, grace);
    prov.prune(&exec);
    drop(prov);
    publish(d, &mut exec);
    match r {
        Ok(a) => reply(json!({
            "pid": a.pid, "phase": "running", "app_name": a.app_name,
            "replaced_pid": a.replaced_pid, "slot": a.slot, "grace_until_ms": a.grace_until_ms,
        })),
        Err(e) => Err(ProtoError::msg(match e.rolled_back {
            Some(p) => format!("{} (previous image restored as pid {p})", e.message),
            None => e.message,
        })),
    }
}

fn status(ctx: &Ctx<'_>, pid: Option<u32>) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let mut exec = d.exec();
    exec.refresh_clock();
    exec.expire_loads();
    let mut prov = d.prov();
    prov.prune(&exec);
    let now = exec.now_ms();
    let sessions: Vec<Value> = exec
        .load_sessions()
        .into_iter()
        .filter(|s| pid.is_none_or(|p| p == s.pid))
        .map(|s| {
            let pct = if s.total_bytes == 0 {
                0
            } else {
                u64::from(s.bytes_written) * 100 / u64::from(s.total_bytes)
            };
            json!({
                "pid": s.pid, "label": s.label, "state": s.phase.as_str().to_ascii_uppercase(),
                "phase": s.phase.as_str(), "bytes_written": s.bytes_written,
                "total_bytes": s.total_bytes, "progress": pct, "app_name": s.app_name,
                "last_error": s.error, "age_ms": s.age_ms,
                "replace": prov.plan_of(s.pid).replace,
            })
        })
        .collect();
    if let Some(p) = pid
        && sessions.is_empty()
    {
        return Err(ProtoError::msg(format!(
            "ESRCH:no load session for pid {p}"
        )));
    }
    let grace: Vec<Value> = prov
        .grace()
        .iter()
        .map(|(p, g)| json!({"pid": p, "app": g.app, "remaining_ms": g.deadline_ms.saturating_sub(now)}))
        .collect();
    let store: Option<Vec<Value>> = prov.has_store().then(|| {
        prov.store_entries()
            .into_iter()
            .map(|e| {
                json!({
                    "app": e.app, "active": e.active.map(|s| s.as_str()),
                    "previous": e.previous.map(|s| s.as_str()),
                    "staged": e.staged.map(|s| s.as_str()),
                    "writes": {"a": e.writes[0], "b": e.writes[1]},
                    "active_crc32": e.active_crc,
                })
            })
            .collect()
    });
    publish(d, &mut exec);
    reply(json!({
        "state": if sessions.is_empty() { "IDLE" } else { "LOADING" },
        "sessions": sessions, "grace": grace, "store": store,
        "max_chunk": exec.config().load.max_chunk,
    }))
}

fn from_file(
    ctx: &Ctx<'_>,
    path: &str,
    replace: Option<String>,
    activate: bool,
    grace_ms: Option<u64>,
) -> Result<Outcome, ProtoError> {
    let d = ctx.daemon();
    let (bytes, _) = crate::program::read_program(path)?;
    grant_check(ctx.peer.map(|p| &*p.grant), &bytes)?;
    let total = u32::try_from(bytes.len())
        .map_err(|_| ProtoError::msg("ENOSPC:image larger than the load limit"))?;
    {
        let mut exec = d.exec();
        let pid = exec.load_begin(Some(path), total);
        let pid = match pid {
            Ok(pid) => pid,
            Err(e) => {
                publish(d, &mut exec);
                return Err(ProtoError::msg(e.detail()));
            }
        };
        d.prov().plan(pid, SessionPlan { replace });
        let chunk = exec.config().load.max_chunk.max(1) as usize;
        let written = bytes
            .chunks(chunk)
            .try_for_each(|c| exec.load_write(pid, c).map(|_| ()));
        publish(d, &mut exec);
        written.map_err(|e| ProtoError::msg(e.detail()))?;
        drop(exec);
        end(ctx, pid, activate, grace_ms)
    }
}
