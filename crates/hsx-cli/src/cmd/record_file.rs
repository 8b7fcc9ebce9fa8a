//! `.hxr` recording files (`hsx run --record`, `hsx replay`): JSON lines — a header with
//! the run's options, its images and the final state hash, then one line per logged step
//! call, then one line per host answer (file-system results and data, CAN status).

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hsx_exec::FsError;
use hsx_exec::backend::FsBudget;
use hsx_exec::executive::record::{Op, OpKind, RecordLog, TapeEntry};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The `format` of a recording's header.
pub const FORMAT: &str = "hsx-recording";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
/// Largest recording file read (a run's log is ~64 bytes per 4096–65536 instructions).
const MAX_FILE: u64 = 1 << 30;

/// One image of the recorded run, loaded in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedImage {
    /// Where it came from (for messages and task names).
    pub path: String,
    /// The `.hxe` bytes, base64.
    pub hxe: String,
}

/// The options of the run that matter for replaying it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecordedOptions {
    /// `--dev-libm`.
    pub dev_libm: bool,
    /// `--mem` (`flat`, `segmented`).
    pub mem: String,
    /// `--stack-size`.
    pub stack_size: Option<u32>,
    /// `--heap-size`.
    pub heap_size: Option<u32>,
    /// `--watchdog` as given (`N[:fault|:throttle[=MS]]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchdog: Option<String>,
}

/// The first line of a recording.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The hsx version that wrote it.
    pub hsx: String,
    /// Run options.
    pub options: RecordedOptions,
    /// Images, in load order.
    pub images: Vec<RecordedImage>,
    /// The clock reading when recording started (ms).
    pub start_clock: u64,
    /// Instruction count when recording started.
    #[serde(default)]
    pub start: u64,
    /// Instructions recorded.
    pub instructions: u64,
    /// State hash at the end of the recording (`0x…`).
    pub state_hash: String,
    /// Step-call lines that follow.
    pub ops: usize,
    /// Host-answer lines that follow the ops.
    pub tape: usize,
    /// The run went on unrecorded after `instructions` (the size bound was reached).
    #[serde(default)]
    pub truncated: bool,
}

fn fs_error_name(e: FsError) -> String {
    match e {
        FsError::BadFd => "bad_fd".into(),
        FsError::NotFound => "not_found".into(),
        FsError::Exists => "exists".into(),
        FsError::InvalidPath => "invalid_path".into(),
        FsError::NoSpace => "no_space".into(),
        FsError::Io => "io".into(),
        FsError::OverBudget(FsBudget::OpenFiles, n) => format!("budget_files:{n}"),
        FsError::OverBudget(FsBudget::FileBytes, n) => format!("budget_file_bytes:{n}"),
    }
}

fn fs_error(name: &str) -> Result<FsError> {
    let budget = |kind, n: &str| -> Result<FsError> {
        let n = n
            .parse()
            .map_err(|_| anyhow!("bad file-system budget {name:?}"))?;
        Ok(FsError::OverBudget(kind, n))
    };
    Ok(match name {
        "bad_fd" => FsError::BadFd,
        "not_found" => FsError::NotFound,
        "exists" => FsError::Exists,
        "invalid_path" => FsError::InvalidPath,
        "no_space" => FsError::NoSpace,
        "io" => FsError::Io,
        other => match other.split_once(':') {
            Some(("budget_files", n)) => budget(FsBudget::OpenFiles, n)?,
            Some(("budget_file_bytes", n)) => budget(FsBudget::FileBytes, n)?,
            _ => bail!("unknown file-system error {other:?}"),
        },
    })
}

fn op_json(op: &Op) -> Value {
    match op.kind {
        OpKind::Step { budget } => {
            json!([
                op.time,
                op.clock,
                "s",
                budget,
                op.executed,
                op.tape,
                op.halt
            ])
        }
        OpKind::StepPid { pid, n } => {
            json!([
                op.time,
                op.clock,
                "p",
                pid,
                n,
                op.executed,
                op.tape,
                op.halt
            ])
        }
    }
}

fn op_from(v: &Value) -> Result<Op> {
    let a = v
        .as_array()
        .ok_or_else(|| anyhow!("a step call is an array"))?;
    let n = |i: usize| -> Result<u64> {
        a.get(i)
            .and_then(Value::as_u64)
            .ok_or_else(|| anyhow!("field {i} is not a number"))
    };
    let halt = |i: usize| a.get(i).and_then(Value::as_u64);
    let (kind, rest) = match a.get(2).and_then(Value::as_str) {
        Some("s") => (OpKind::Step { budget: n(3)? }, 4),
        Some("p") => (
            OpKind::StepPid {
                pid: u32::try_from(n(3)?).context("pid")?,
                n: n(4)?,
            },
            5,
        ),
        _ => bail!("unknown step call kind"),
    };
    Ok(Op {
        time: n(0)?,
        clock: n(1)?,
        kind,
        executed: n(rest)?,
        tape: n(rest + 1)?,
        halt: halt(rest + 2),
    })
}

fn tape_json(e: &TapeEntry) -> Value {
    match e {
        TapeEntry::Num(Ok(v)) => json!({"num": v}),
        TapeEntry::Num(Err(e)) => json!({"num_err": fs_error_name(*e)}),
        TapeEntry::Bytes(Ok(b)) => json!({"bytes": B64.encode(b)}),
        TapeEntry::Bytes(Err(e)) => json!({"bytes_err": fs_error_name(*e)}),
        TapeEntry::Unit(Ok(())) => json!({"unit": true}),
        TapeEntry::Unit(Err(e)) => json!({"unit_err": fs_error_name(*e)}),
    }
}

fn tape_from(v: &Value) -> Result<TapeEntry> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    if let Some(n) = v.get("num") {
        let n = n.as_u64().and_then(|n| u32::try_from(n).ok());
        return Ok(TapeEntry::Num(Ok(n.ok_or_else(|| anyhow!("bad num"))?)));
    }
    if let Some(e) = s("num_err") {
        return Ok(TapeEntry::Num(Err(fs_error(e)?)));
    }
    if let Some(b) = s("bytes") {
        return Ok(TapeEntry::Bytes(Ok(B64.decode(b).context("bad base64")?)));
    }
    if let Some(e) = s("bytes_err") {
        return Ok(TapeEntry::Bytes(Err(fs_error(e)?)));
    }
    if v.get("unit").is_some() {
        return Ok(TapeEntry::Unit(Ok(())));
    }
    if let Some(e) = s("unit_err") {
        return Ok(TapeEntry::Unit(Err(fs_error(e)?)));
    }
    bail!("unknown host answer")
}

/// Write a recording to `path` (through a temporary file renamed into place, so an
/// interrupted write never leaves half a recording under the name).
pub fn write(path: &Path, header: &Header, log: &RecordLog) -> Result<()> {
    let tmp = temp_name(path);
    let result = (|| -> Result<()> {
        let f = std::fs::File::create(&tmp)?;
        let mut w = BufWriter::new(f);
        serde_json::to_writer(&mut w, header)?;
        w.write_all(b"\n")?;
        for op in &log.ops {
            serde_json::to_writer(&mut w, &op_json(op))?;
            w.write_all(b"\n")?;
        }
        for e in &log.tape {
            serde_json::to_writer(&mut w, &tape_json(e))?;
            w.write_all(b"\n")?;
        }
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write the recording {}", path.display()))
}

fn temp_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Read a recording: its header and its log.
pub fn read(path: &Path) -> Result<(Header, RecordLog)> {
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot open the recording {}", path.display()))?;
    if !f.metadata()?.is_file() {
        bail!("{} is not a regular file", path.display());
    }
    let r = BufReader::new(f.take(MAX_FILE));
    let mut lines = r.lines();
    let first = lines
        .next()
        .ok_or_else(|| anyhow!("{} is empty", path.display()))??;
    let header: Header = serde_json::from_str(&first)
        .map_err(|_| anyhow!("{} is not an HSX recording (bad header)", path.display()))?;
    if header.format != FORMAT {
        bail!("{} is not an HSX recording", path.display());
    }
    if header.version != VERSION {
        bail!(
            "{} is a version {} recording; this hsx reads version {VERSION}",
            path.display(),
            header.version
        );
    }
    let mut ops = Vec::with_capacity(header.ops.min(1 << 20));
    let mut tape = Vec::with_capacity(header.tape.min(1 << 20));
    for (i, line) in lines.enumerate() {
        let line = line?;
        let at = || format!("{}: line {}", path.display(), i + 2);
        let v: Value = serde_json::from_str(&line).with_context(at)?;
        if ops.len() < header.ops {
            ops.push(op_from(&v).with_context(at)?);
        } else {
            tape.push(tape_from(&v).with_context(at)?);
        }
    }
    if ops.len() != header.ops || tape.len() != header.tape {
        bail!(
            "{} is incomplete: {} of {} step calls, {} of {} host answers",
            path.display(),
            ops.len(),
            header.ops,
            tape.len(),
            header.tape
        );
    }
    Ok((
        header.clone(),
        RecordLog {
            start: header.start,
            end: header.instructions,
            ops,
            tape,
        },
    ))
}

/// Most bytes a recording of `hsx run` may hold in memory before recording stops.
pub const RECORD_LIMIT: usize = 256 << 20;

/// `hsx run --record`: records the run and writes the file at the end.
pub struct Recorder {
    path: PathBuf,
    header: Header,
    /// The log and the state hash, once taken (at the size bound or at the end).
    taken: Option<(RecordLog, u64)>,
}

impl Recorder {
    /// Start recording `exec` (with its images loaded, nothing run yet).
    pub fn start(
        path: PathBuf,
        exec: &mut hsx_exec::Executive,
        images: Vec<(String, Vec<u8>)>,
        options: RecordedOptions,
    ) -> Self {
        exec.record_start(hsx_exec::executive::record::RecordConfig {
            // The file needs the log only; no snapshots are kept along the way.
            interval: u64::MAX,
            max_snapshots: 1,
            max_bytes: usize::MAX,
            max_replay: u64::MAX,
        });
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            hsx: env!("CARGO_PKG_VERSION").into(),
            options,
            images: images
                .into_iter()
                .map(|(path, bytes)| RecordedImage {
                    path,
                    hxe: B64.encode(bytes),
                })
                .collect(),
            start_clock: exec.now_ms(),
            start: exec.total_executed(),
            instructions: 0,
            state_hash: String::new(),
            ops: 0,
            tape: 0,
            truncated: false,
        };
        Self {
            path,
            header,
            taken: None,
        }
    }

    /// After a batch: stop recording when the log has grown past [`RECORD_LIMIT`].
    pub fn after_batch(&mut self, exec: &mut hsx_exec::Executive) {
        if self.taken.is_none() && exec.record_status().is_some_and(|s| s.bytes > RECORD_LIMIT) {
            self.take(exec);
            self.header.truncated = true;
            eprintln!(
                "hsx: recording stopped after {} instructions (it reached {} MiB); the run goes on unrecorded",
                self.header.instructions,
                RECORD_LIMIT >> 20
            );
        }
    }

    fn take(&mut self, exec: &mut hsx_exec::Executive) {
        let hash = exec.state_hash();
        if let Some(log) = exec.record_log() {
            self.header.instructions = log.end;
            self.taken = Some((log, hash));
        }
        exec.record_stop();
    }

    /// Write the file.
    pub fn finish(mut self, exec: &mut hsx_exec::Executive) -> Result<()> {
        if self.taken.is_none() {
            self.take(exec);
        }
        let Some((log, hash)) = self.taken else {
            bail!("the recording is incomplete (the run was changed from outside)");
        };
        self.header.state_hash = format!("0x{hash:016x}");
        self.header.ops = log.ops.len();
        self.header.tape = log.tape.len();
        write(&self.path, &self.header, &log)
    }
}

impl Header {
    /// The images, decoded.
    pub fn image_bytes(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.images
            .iter()
            .map(|i| {
                B64.decode(&i.hxe)
                    .map(|b| (i.path.clone(), b))
                    .map_err(|_| anyhow!("image {} in the recording is not valid base64", i.path))
            })
            .collect()
    }
}
