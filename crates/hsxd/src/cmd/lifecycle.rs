//! Lifecycle: `ping`, `info`, `attach`, `detach`, `load`/`exec`, `reload`, `kill`, `ps`,
//! `list`, `restart`, `shutdown` (protocol.md §2.1).

use serde_json::{Value, json};

use super::{Command, req_pid, requires};
use crate::args::{self, Obj, display_value, field, truthy};
use crate::dispatch::{Ctx, Outcome, PostAction};
use crate::error::ProtoError;
use crate::reply::Reply;

/// `load`/`exec` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadArgs {
    /// Host path of the `.hxe`.
    pub path: String,
    /// Verbose load.
    pub verbose: bool,
    /// `.sym` override (relative paths resolve against the image's directory).
    pub symbols: Option<String>,
}

pub(crate) fn parse_info(obj: &Obj) -> Result<Command, ProtoError> {
    Ok(Command::Info {
        pid: args::opt_u32(obj, "pid")?,
    })
}

pub(crate) fn parse_load(name: &str, obj: &Obj) -> Result<Command, ProtoError> {
    let path = match field(obj, "path") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) | None => return Err(requires(name, "path")),
        Some(other) => display_value(other),
    };
    let symbols = match field(obj, "symbols") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    Ok(Command::Load(LoadArgs {
        path,
        verbose: truthy(obj.get("verbose")),
        symbols,
    }))
}

pub(crate) fn parse_reload(obj: &Obj) -> Result<Command, ProtoError> {
    Ok(Command::Reload {
        pid: req_pid("reload", obj)?,
        verbose: truthy(obj.get("verbose")),
    })
}

pub(crate) fn parse_kill(obj: &Obj) -> Result<Command, ProtoError> {
    Ok(Command::Kill {
        pid: req_pid("kill", obj)?,
    })
}

pub(crate) fn parse_list(obj: &Obj) -> Result<Command, ProtoError> {
    Ok(Command::ListChannels {
        pid: req_pid("list", obj)?,
    })
}

pub(crate) fn parse_restart(obj: &Obj) -> Result<Command, ProtoError> {
    let targets: Vec<String> = match field(obj, "targets") {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(a)) => a.iter().map(display_value).collect(),
        _ => vec!["vm".into(), "exec".into()],
    };
    let mut targets: Vec<String> = targets
        .into_iter()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    if targets.is_empty() {
        targets.push("exec".into());
    }
    Ok(Command::Restart { targets })
}

pub(crate) fn info(ctx: &Ctx<'_>, pid: Option<u32>) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("info", ctx.backend().info(pid)?).into())
}

pub(crate) fn attach(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("info", ctx.backend().attach()?).into())
}

pub(crate) fn detach(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("info", ctx.backend().detach()?).into())
}

pub(crate) fn load(ctx: &Ctx<'_>, a: LoadArgs) -> Result<Outcome, ProtoError> {
    let image = ctx.heavy(|| ctx.backend().load(&a))?;
    Ok(Reply::with("image", image).into())
}

pub(crate) fn reload(ctx: &Ctx<'_>, pid: u32, verbose: bool) -> Result<Outcome, ProtoError> {
    ctx.check_pid(pid)?;
    let r = ctx.heavy(|| ctx.backend().reload(pid, verbose))?;
    Ok(Reply::with("reload", r).into())
}

pub(crate) fn kill(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    ctx.check_pid(pid)?;
    Ok(Reply::with("task", ctx.backend().kill(pid)?).into())
}

pub(crate) fn ps(ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("tasks", ctx.backend().ps()?).into())
}

pub(crate) fn list_channels(ctx: &Ctx<'_>, pid: u32) -> Result<Outcome, ProtoError> {
    Ok(Reply::with("channels", ctx.backend().list_channels(pid)?).into())
}

pub(crate) fn restart(ctx: &Ctx<'_>, targets: Vec<String>) -> Result<Outcome, ProtoError> {
    let mut result = serde_json::Map::new();
    if targets.iter().any(|t| t == "vm") {
        let status = match ctx.backend().restart_vm() {
            Ok(()) => "requested".to_string(),
            Err(e) => format!("error:{e}"),
        };
        result.insert("vm".into(), json!(status));
    }
    let exec = targets.iter().any(|t| t == "exec");
    if exec {
        result.insert("exec".into(), json!("scheduled"));
    }
    let out = Outcome::reply(Reply::with("restart", Value::Object(result)));
    Ok(if exec {
        out.then(PostAction::RestartExec)
    } else {
        out
    })
}

pub(crate) fn shutdown(_ctx: &Ctx<'_>) -> Result<Outcome, ProtoError> {
    Ok(Outcome::reply(Reply::ok()).then(PostAction::Shutdown))
}
