//! HSX-specific C programs (mailboxes, sleep, values, commands, mailbox stdio) built with
//! `hsx cc` and run with `hsx run`. They have no native equivalent, so each case carries its
//! expected output. See `tests/c_hsx/README.md` for the layout of a case.
//!
//! * `HSX_CC_FILTER=substring` runs only the cases whose directory name contains it.
//! * `HSX_CC_BLESS=1` writes the `expected.*` files from what the programs did (then review
//!   the diff before committing it).

mod cc_support;
use cc_support::{Status, listing, name};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Wall-clock limit for one `hsx cc` or `hsx run`; a case that needs it is broken.
const TIMEOUT: Duration = Duration::from_secs(120);
/// Instruction budget for `hsx run` (the cases need well under a million).
const MAX_STEPS: &str = "50000000";

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c_hsx")
}

/// The case directories, sorted, filtered by `HSX_CC_FILTER`.
fn cases() -> Vec<PathBuf> {
    listing(&cases_dir(), |p| p.join("tasks").is_file())
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
        let built = cc_support::run(&mut cc, TIMEOUT)?;
        if built.status != Status::Code(0) {
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
    let got = cc_support::run(&mut cmd, TIMEOUT)?;
    if got.status == Status::TimedOut {
        return Err(format!("`hsx run` did not finish within {TIMEOUT:?}"));
    }
    let status = match got.status {
        Status::Code(c) => c.to_string(),
        other => other.to_string(),
    };

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
