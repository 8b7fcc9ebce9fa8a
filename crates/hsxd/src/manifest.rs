//! The boot manifest (`hsxd --manifest boot.toml`): apps to start at boot, in order.
//!
//! ```toml
//! [[app]]
//! image = "apps/sensor.hxe"   # relative to the manifest; or store = "sensor"
//! version = "1.2.0"           # reported with the app (optional)
//! instances = 1               # copies to start (more than 1 needs a multi-instance image)
//! priority = 10               # optional
//! quantum = 1                 # optional
//! watchdog = 100000           # optional: instructions between SVCs (0 = off)
//! persist = [7]               # value keys expected in FRAM (a missing one is a warning)
//! caps = ["values", "fram"]   # image capabilities granted; an image asking more is refused
//! paused = false              # start paused (for a debugger)
//! ```
//!
//! Every entry is verified before anything of it starts. A bad entry (missing file, damaged
//! image, capabilities not granted, ...) is reported and skipped; the others still start.

use std::path::{Path, PathBuf};

use hsx_exec::{Executive, LoadOptions};
use serde::Deserialize;

use crate::policy::{REQ_CAP_NAMES, req_cap_names};

/// Largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 256 * 1024;
/// Most entries (and instances per entry) honoured.
const MAX_ENTRIES: usize = 256;

/// One `[[app]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Image file, relative to the manifest's directory.
    pub image: Option<PathBuf>,
    /// Or the active image of this app in the image store.
    pub store: Option<String>,
    /// Version label.
    pub version: Option<String>,
    /// Copies to start.
    #[serde(default = "one")]
    pub instances: u32,
    /// Scheduling priority.
    pub priority: Option<u32>,
    /// Quantum in instructions.
    pub quantum: Option<u32>,
    /// Watchdog limit: instructions between SVCs (0 = off; default: `hsxd --watchdog`).
    pub watchdog: Option<u64>,
    /// FRAM keys the app's values expect.
    #[serde(default)]
    pub persist: Vec<u16>,
    /// Image capabilities granted (`mailbox`, `values`, `fram`, `can`, `uart`); absent means
    /// whatever the image asks for.
    pub caps: Option<Vec<String>>,
    /// Start paused.
    #[serde(default)]
    pub paused: bool,
}

fn one() -> u32 {
    1
}

/// A parsed manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Apps in boot order.
    #[serde(default)]
    pub app: Vec<Entry>,
    /// Directory relative image paths are resolved against.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// Why a manifest cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Reading failed.
    #[error("cannot read manifest {path}: {reason}")]
    Read {
        /// File.
        path: String,
        /// Why.
        reason: String,
    },
    /// Not a valid manifest.
    #[error("manifest {path}: {reason}")]
    Parse {
        /// File.
        path: String,
        /// Why (first line of the TOML error).
        reason: String,
    },
}

impl Manifest {
    /// Reads `path` (a regular file of at most 256 KiB).
    ///
    /// # Errors
    /// [`ManifestError`].
    pub fn from_file(path: &Path) -> Result<Manifest, ManifestError> {
        let shown = path.display().to_string();
        let read_err = |reason: String| ManifestError::Read {
            path: shown.clone(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|e| read_err(e.kind().to_string()))?;
        if !meta.is_file() {
            return Err(read_err("not a regular file".into()));
        }
        if meta.len() > MAX_MANIFEST_BYTES {
            return Err(read_err(format!("larger than {MAX_MANIFEST_BYTES} bytes")));
        }
        let text = std::fs::read_to_string(path).map_err(|e| read_err(e.kind().to_string()))?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Self::parse(&text, dir).map_err(|reason| ManifestError::Parse {
            path: shown,
            reason,
        })
    }

    /// Parses manifest text; relative image paths resolve against `dir`.
    ///
    /// # Errors
    /// The TOML or shape error, one line.
    pub fn parse(text: &str, dir: PathBuf) -> Result<Manifest, String> {
        let mut m: Manifest = toml::from_str(text).map_err(|e| {
            // One line: the message and where, without the source excerpt TOML prints.
            let msg = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_string();
            match e.span() {
                Some(sp) => {
                    let line = text.get(..sp.start).map_or(0, |t| t.matches('\n').count()) + 1;
                    format!("line {line}: {msg}")
                }
                None => msg,
            }
        })?;
        if m.app.len() > MAX_ENTRIES {
            return Err(format!("more than {MAX_ENTRIES} [[app]] entries"));
        }
        m.dir = dir;
        Ok(m)
    }
}

/// What booting one entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Started: (app name, pid) per instance, plus warnings.
    Started {
        /// Tasks.
        tasks: Vec<(String, u32)>,
        /// Things to know (missing FRAM keys, failed extra instances).
        warnings: Vec<String>,
    },
    /// Skipped, with the reason.
    Skipped(String),
}

/// Boot report, one outcome per entry in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootReport {
    /// (entry index from 1, label, outcome).
    pub entries: Vec<(usize, String, Outcome)>,
}

fn caps_mask(names: &[String]) -> Result<u32, String> {
    names.iter().try_fold(0u32, |m, n| {
        let n = n.trim().to_ascii_lowercase();
        REQ_CAP_NAMES
            .iter()
            .position(|c| *c == n)
            .map(|i| m | (1 << i))
            .ok_or_else(|| {
                format!(
                    "unknown capability {n:?} (known: {})",
                    REQ_CAP_NAMES.join(", ")
                )
            })
    })
}

/// Reads and verifies one entry's image without starting anything.
fn entry_image(
    m: &Manifest,
    e: &Entry,
    store: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<(Vec<u8>, hsx_image::Image), String> {
    let bytes = match (&e.image, &e.store) {
        (Some(_), Some(_)) => return Err("give either image or store, not both".into()),
        (None, None) => return Err("no image or store".into()),
        (Some(p), None) => {
            let path = m.dir.join(p);
            let (bytes, _) = crate::program::read_program(&path.display().to_string())
                .map_err(|e| e.to_string())?;
            bytes
        }
        (None, Some(name)) => {
            store(name).ok_or_else(|| format!("no active image for {name:?} in the image store"))?
        }
    };
    let image = hsx_image::Image::parse(&bytes).map_err(|e| e.without_file_bytes())?;
    if let Some(granted) = &e.caps {
        let refused = image.req_caps & !caps_mask(granted)?;
        if refused != 0 {
            return Err(format!(
                "image requires capabilities not granted: {}",
                req_cap_names(refused).join(",")
            ));
        }
    }
    if e.instances == 0 || e.instances as usize > MAX_ENTRIES {
        return Err(format!("instances must be 1..={MAX_ENTRIES}"));
    }
    if e.instances > 1 && !image.allow_multiple_instances() {
        return Err("instances > 1 but the image allows a single instance".into());
    }
    Ok((bytes, image))
}

fn label(e: &Entry) -> String {
    let base = e
        .image
        .as_ref()
        .map(|p| p.display().to_string())
        .or_else(|| e.store.clone())
        .unwrap_or_else(|| "?".into());
    match &e.version {
        Some(v) => format!("{base} ({v})"),
        None => base,
    }
}

/// Starts the manifest's apps in order on `exec`. `store` gives an app's active image from
/// the image store; `has_key` tells whether FRAM holds a value key.
pub fn boot(
    m: &Manifest,
    exec: &mut Executive,
    store: &dyn Fn(&str) -> Option<Vec<u8>>,
    has_key: &mut dyn FnMut(&mut Executive, u16) -> bool,
) -> BootReport {
    let mut report = BootReport::default();
    for (i, e) in m.app.iter().enumerate() {
        let outcome = match entry_image(m, e, store) {
            Err(why) => Outcome::Skipped(why),
            Ok((bytes, _image)) => start(exec, e, &bytes, has_key),
        };
        report.entries.push((i + 1, label(e), outcome));
    }
    report
}

fn start(
    exec: &mut Executive,
    e: &Entry,
    bytes: &[u8],
    has_key: &mut dyn FnMut(&mut Executive, u16) -> bool,
) -> Outcome {
    let mut warnings: Vec<String> = e
        .persist
        .iter()
        .filter(|k| !has_key(exec, **k))
        .map(|k| format!("FRAM key {k} not found; the value starts from its default"))
        .collect();
    let mut tasks = Vec::new();
    for n in 0..e.instances {
        let opts = LoadOptions {
            path: e.image.as_ref().map(|p| p.display().to_string()),
            name: e.store.clone(),
            watchdog: e.watchdog,
            ..LoadOptions::default()
        };
        let rep = match exec.load(bytes, opts) {
            Ok(r) => r,
            Err(err) if n == 0 => return Outcome::Skipped(err.to_string()),
            Err(err) => {
                warnings.push(format!("instance {} not started: {err}", n + 1));
                break;
            }
        };
        if e.priority.is_some() || e.quantum.is_some() {
            let _ = exec.sched(rep.pid, e.quantum, e.priority);
        }
        if e.paused {
            let _ = exec.pause(rep.pid);
        }
        tasks.push((rep.app_name, rep.pid));
    }
    Outcome::Started { tasks, warnings }
}

/// Boots `m` on the daemon's executive (images from its image store, FRAM keys from its
/// persistence backend), logs each entry to `dmesg` and the log, and publishes the events.
pub fn boot_daemon(d: &crate::state::Daemon, m: &Manifest) -> BootReport {
    let mut exec = d.exec();
    let prov = d.prov();
    let store = |name: &str| prov.store_active(name);
    let mut has_key = |exec: &mut Executive, key: u16| {
        exec.registry_op(|reg, _, _| reg.persist_mut().is_some_and(|p| p.load(key).is_some()))
    };
    let report = boot(m, &mut exec, &store, &mut has_key);
    drop(prov);
    crate::event_map::publish(d, &mut exec);
    drop(exec);
    for (i, label, outcome) in &report.entries {
        match outcome {
            Outcome::Started { tasks, warnings } => {
                let pids: Vec<u32> = tasks.iter().map(|t| t.1).collect();
                tracing::info!(entry = i, app = %label, ?pids, "manifest: started");
                d.dmesg().log(
                    d.now(),
                    "info",
                    "manifest entry started",
                    serde_json::json!({"entry": i, "app": label, "pids": pids}),
                );
                for w in warnings {
                    tracing::warn!(entry = i, app = %label, "manifest: {w}");
                    d.dmesg().log(
                        d.now(),
                        "warn",
                        "manifest entry warning",
                        serde_json::json!({"entry": i, "app": label, "detail": w}),
                    );
                }
            }
            Outcome::Skipped(why) => {
                tracing::warn!(entry = i, app = %label, "manifest: skipped: {why}");
                d.dmesg().log(
                    d.now(),
                    "error",
                    "manifest entry skipped",
                    serde_json::json!({"entry": i, "app": label, "detail": why}),
                );
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_and_unknown_fields_are_refused() {
        let m = Manifest::parse(
            "[[app]]\nimage = \"a.hxe\"\npriority = 3\npersist = [7]\ncaps = [\"values\"]\n[[app]]\nstore = \"b\"\ninstances = 2\n",
            PathBuf::from("/x"),
        )
        .unwrap();
        assert_eq!(m.app.len(), 2);
        assert_eq!(m.app[0].priority, Some(3));
        assert_eq!(m.app[1].instances, 2);
        let e = Manifest::parse("[[app]]\nimgae = \"a.hxe\"\n", PathBuf::new()).unwrap_err();
        assert!(e.contains("imgae"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn capability_names() {
        assert_eq!(caps_mask(&["values".into(), "UART".into()]), Ok(0b10010));
        assert!(caps_mask(&["wifi".into()]).unwrap_err().contains("wifi"));
    }
}
