//! HSX-specific C programs (mailboxes, sleep, values, commands, mailbox stdio) built with
//! `hsx cc` and run with `hsx run`. They have no native equivalent, so each case carries its
//! expected output. See `tests/c_hsx/README.md` for the layout of a case.
//!
//! * `HSX_CC_FILTER=substring` runs only the cases whose directory name contains it.
//! * `HSX_CC_BLESS=1` writes the `expected.*` files from what the programs did (then review
//!   the diff before committing it).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Wall-clock limit for one `hsx cc` or `hsx run`; a case that needs it is broken.
const TIMEOUT: Duration = Duration::from_secs(120);
/// Instruction budget for `hsx run` (the cases need well under a million).
const MAX_STEPS: &str = "50000000";

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c_hsx")
}

struct Finished {
    /// Exit status, `None` when killed (by the timeout or a signal).
    status: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    timed_out: bool,
}

/// Runs `cmd` with piped output, killing it after `TIMEOUT`.
fn run(cmd: &mut Command) -> Result<Finished, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("NO_COLOR", "1")
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let deadline = Instant::now() + TIMEOUT;
    let (status, timed_out) = loop {
        match child.try_wait() {
            Ok(Some(st)) => break (st.code(), false),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break (None, true);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for {cmd:?}: {e}")),
        }
    };
    Ok(Finished {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        timed_out,
    })
}

/// The case directories, sorted, filtered by `HSX_CC_FILTER`.
fn cases() -> Vec<PathBuf> {
    let filter = std::env::var("HSX_CC_FILTER").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", cases_dir().display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("tasks").is_file())
        .filter(|p| name(p).contains(&filter))
        .collect();
    dirs.sort();
    dirs
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
}

/// The words of a file's lines, without blank lines and `#` comments.
fn lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

fn shown(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    s.lines().map(|l| format!("  | {l}\n")).collect::<String>()
}

/// Builds every task of a case, runs them in one `hsx run`, compares with the expectation.
fn check(dir: &Path) -> Result<(), String> {
    let hsx = env!("CARGO_BIN_EXE_hsx");
    let work = tempfile::tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let mut images = Vec::new();
    for words in lines(&read(&dir.join("tasks"))?) {
        // A task line: its C sources (relative to the case) and hsx cc options (-D, -I, -O).
        let first = words
            .iter()
            .find(|w| !w.starts_with('-'))
            .ok_or("a line of `tasks` names no source")?;
        let stem = Path::new(first)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let image = work.path().join(format!("{stem}.hxe"));
        let mut cc = Command::new(hsx);
        cc.arg("cc").current_dir(dir);
        cc.args(&words).arg("-o").arg(&image);
        let built = run(&mut cc)?;
        if built.status != Some(0) {
            return Err(format!(
                "`hsx cc {}` failed:\n{}",
                words.join(" "),
                shown(&built.stderr)
            ));
        }
        images.push(image);
    }
    let extra = match dir.join("args").is_file() {
        true => lines(&read(&dir.join("args"))?).concat(),
        false => Vec::new(),
    };
    let mut cmd = Command::new(hsx);
    cmd.args(["run", "--virtual-time", "--max-steps", MAX_STEPS])
        .args(&extra)
        .args(&images);
    let got = run(&mut cmd)?;
    if got.timed_out {
        return Err(format!("`hsx run` did not finish within {TIMEOUT:?}"));
    }
    let status = got
        .status
        .map_or_else(|| "killed".to_string(), |s| s.to_string());

    if std::env::var_os("HSX_CC_BLESS").is_some() {
        let write = |f: &str, data: &[u8]| {
            std::fs::write(dir.join(f), data).map_err(|e| format!("cannot write {f}: {e}"))
        };
        write("expected.stdout", &got.stdout)?;
        write("expected.status", format!("{status}\n").as_bytes())?;
        if got.stderr.is_empty() {
            let _ = std::fs::remove_file(dir.join("expected.stderr"));
        } else {
            write("expected.stderr", &got.stderr)?;
        }
        return Ok(());
    }

    let mut problems = String::new();
    let want_status = read(&dir.join("expected.status"))?.trim().to_string();
    if status != want_status {
        problems.push_str(&format!("exit status {status}, expected {want_status}\n"));
    }
    let want_out = read(&dir.join("expected.stdout"))?;
    if got.stdout != want_out.as_bytes() {
        problems.push_str(&format!(
            "stdout differs; expected:\n{}got:\n{}",
            shown(want_out.as_bytes()),
            shown(&got.stdout)
        ));
    }
    // Without an expected.stderr, stderr must be empty.
    let want_err = match dir.join("expected.stderr").is_file() {
        true => read(&dir.join("expected.stderr"))?,
        false => String::new(),
    };
    if got.stderr != want_err.as_bytes() {
        problems.push_str(&format!(
            "stderr differs; expected:\n{}got:\n{}",
            shown(want_err.as_bytes()),
            shown(&got.stderr)
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[test]
fn hsx_c_programs_give_their_expected_output() {
    let dirs = cases();
    assert!(
        !dirs.is_empty(),
        "no cases in {} match HSX_CC_FILTER",
        cases_dir().display()
    );
    let mut failures = Vec::new();
    for d in &dirs {
        let r = check(d);
        eprintln!(
            "cc_hsx {}: {}",
            name(d),
            if r.is_ok() { "ok" } else { "FAILED" }
        );
        if let Err(e) = r {
            failures.push(format!("=== {}\n{e}", name(d)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} HSX C cases failed:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}
