//! Differential test of `hsx cc`: every C program directly in `tests/c/` is compiled twice,
//! natively with clang (the reference) and with `hsx cc` for the MiniVM, both are run, and
//! their stdout and exit status must be identical. See `tests/c/README.md` for the rules the
//! programs follow.
//!
//! * `HSX_CLANG=/path/to/clang` picks the native compiler (default `clang-16`, then `clang`).
//! * `HSX_CC_FILTER=substring` runs only the programs whose file name contains it.
//!
//! There is no cache of expected output: the native build is the oracle, every time.

mod cc_support;
use cc_support::{Status, listing, name, run};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Programs run concurrently (the machine is shared; two is plenty).
const THREADS: usize = 2;
/// Wall-clock limit for one native compile or run.
const NATIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Wall-clock limit for `hsx cc` or `hsx run` of one program (debug builds are slow).
const HSX_TIMEOUT: Duration = Duration::from_secs(180);
/// Instruction budget for `hsx run`; the corpus programs stay far below it, so hitting it
/// (exit status 124) means the translation loops.
const MAX_STEPS: &str = "300000000";
/// Exit status of `hsx run` when the first task faulted (`cmd::run::EXIT_FAULT`).
const HSX_EXIT_FAULT: i32 = 70;
/// SIGABRT: a native program that calls `abort()` dies with it.
const SIGABRT: i32 = 6;
/// Debian packages that provide everything `hsx cc` and this test need.
const PACKAGES: &str = "clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32";

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c")
}

/// The native reference compiler: `HSX_CLANG`, else `clang-16`, else `clang`.
fn find_clang() -> Result<String, String> {
    let works = |c: &str| {
        Command::new(c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if let Ok(c) = std::env::var("HSX_CLANG")
        && !c.is_empty()
    {
        return if works(&c) {
            Ok(c)
        } else {
            Err(format!(
                "HSX_CLANG={c} does not run; install the Debian packages {PACKAGES}"
            ))
        };
    }
    ["clang-16", "clang"]
        .into_iter()
        .find(|c| works(c))
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "no clang found (tried HSX_CLANG, clang-16, clang); the cc_diff test needs \
                 the Debian packages: apt-get install {PACKAGES}"
            )
        })
}

fn corpus() -> Vec<PathBuf> {
    listing(&corpus_dir(), |p| {
        p.is_file() && p.extension().is_some_and(|x| x == "c")
    })
}

fn text(bytes: &[u8], limit: usize) -> String {
    let s = String::from_utf8_lossy(bytes);
    let s = s.trim_end();
    if s.len() > limit {
        let mut cut = limit;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &s[..cut])
    } else {
        s.to_string()
    }
}

/// A unified-diff-like excerpt around the first line where `a` and `b` differ.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    // split_inclusive keeps a missing final newline visible as a difference.
    let la: Vec<&str> = a.split_inclusive('\n').collect();
    let lb: Vec<&str> = b.split_inclusive('\n').collect();
    let first = (0..la.len().max(lb.len()))
        .find(|&i| la.get(i) != lb.get(i))
        .unwrap_or(0);
    let start = first.saturating_sub(2);
    let show = |l: &str| format!("{:?}", l.strip_suffix('\n').unwrap_or(l));
    let mut out = format!(
        "--- native\n+++ hsx\n@@ first difference at line {} @@\n",
        first + 1
    );
    for l in &la[start..first.min(la.len())] {
        out.push_str(&format!("  {}\n", show(l)));
    }
    for l in la.iter().skip(first).take(5) {
        out.push_str(&format!(
            "- {}{}\n",
            show(l),
            if l.ends_with('\n') {
                ""
            } else {
                "  (no newline)"
            }
        ));
    }
    if la.len() <= first {
        out.push_str("- <end of output>\n");
    }
    for l in lb.iter().skip(first).take(5) {
        out.push_str(&format!(
            "+ {}{}\n",
            show(l),
            if l.ends_with('\n') {
                ""
            } else {
                "  (no newline)"
            }
        ));
    }
    if lb.len() <= first {
        out.push_str("+ <end of output>\n");
    }
    out
}

/// Whether the hsx exit status is what the native one means on the MiniVM.
fn statuses_agree(native: Status, hsx: Status) -> bool {
    match (native, hsx) {
        (Status::Code(n), Status::Code(h)) => n & 0xFF == h,
        // abort(): natively SIGABRT; on the MiniVM the task traps (a fault, exit status 70)
        // or the runtime exits with the shell's 128 + SIGABRT.
        (Status::Signal(SIGABRT), Status::Code(h)) => h == HSX_EXIT_FAULT || h == 128 + SIGABRT,
        _ => false,
    }
}

/// Builds and runs one program both ways; `Err` describes the mismatch.
fn check(clang: &str, src: &Path) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let native_bin = dir.path().join("native");
    let built = run(
        Command::new(clang)
            .args(["-std=c11", "-O2", "-w"])
            .arg(src)
            .args(["-lm", "-o"])
            .arg(&native_bin),
        NATIVE_TIMEOUT,
    )?;
    if built.status != Status::Code(0) {
        return Err(format!(
            "native build failed ({}): {}",
            built.status,
            text(&built.stderr, 2000)
        ));
    }
    let native = run(&mut Command::new(&native_bin), NATIVE_TIMEOUT)?;
    if let Status::Signal(s) = native.status
        && s != SIGABRT
    {
        return Err(format!(
            "the native program crashed ({}): fix the test program",
            native.status
        ));
    }
    if native.status == Status::TimedOut {
        return Err("the native program timed out: fix the test program".into());
    }

    let hxe = dir.path().join("x.hxe");
    let hsx = env!("CARGO_BIN_EXE_hsx");
    let cc = run(
        Command::new(hsx)
            .arg("cc")
            .arg(src)
            .arg("-o")
            .arg(&hxe)
            .env("NO_COLOR", "1"),
        HSX_TIMEOUT,
    )?;
    if cc.status != Status::Code(0) {
        return Err(format!(
            "`hsx cc` failed ({}): {}",
            cc.status,
            text(&cc.stderr, 2000)
        ));
    }
    let vm = run(
        Command::new(hsx)
            .args(["run", "--virtual-time", "--max-steps", MAX_STEPS])
            .arg(&hxe)
            .env("NO_COLOR", "1"),
        HSX_TIMEOUT,
    )?;

    let same_out = native.stdout == vm.stdout;
    let same_status = statuses_agree(native.status, vm.status);
    if same_out && same_status {
        return Ok(());
    }
    let mut msg = format!("native: {}, hsx: {}\n", native.status, vm.status);
    if !same_out {
        msg.push_str(&first_difference(&native.stdout, &vm.stdout));
    }
    if !vm.stderr.is_empty() {
        msg.push_str(&format!("hsx stderr: {}\n", text(&vm.stderr, 1000)));
    }
    Err(msg)
}

#[test]
fn c_programs_behave_like_native() {
    let clang = match find_clang() {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let files = corpus();
    assert!(
        !files.is_empty(),
        "no C programs in {} match HSX_CC_FILTER",
        corpus_dir().display()
    );
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<(), String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..THREADS.min(files.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(src) = files.get(i) else { break };
                    let r = check(&clang, src);
                    eprintln!(
                        "cc_diff {}: {}",
                        name(src),
                        if r.is_ok() { "ok" } else { "FAILED" }
                    );
                    if let Ok(mut v) = results.lock() {
                        v.push((i, r));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(i, r)| {
            r.as_ref()
                .err()
                .map(|e| format!("=== {}\n{e}", name(&files[*i])))
        })
        .collect();
    if !failures.is_empty() {
        panic!(
            "{} of {} C programs differ between native ({clang}) and hsx cc:\n\n{}\n\nfailed: {}",
            failures.len(),
            files.len(),
            failures.join("\n"),
            results
                .iter()
                .filter(|(_, r)| r.is_err())
                .map(|(i, _)| name(&files[*i]))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
}

#[cfg(test)]
mod helpers {
    use super::*;

    #[test]
    fn first_difference_points_at_the_differing_line() {
        let d = first_difference(b"a\nb\nc\n", b"a\nb\nX\n");
        assert!(d.contains("line 3"), "{d}");
        assert!(d.contains("- \"c\""), "{d}");
        assert!(d.contains("+ \"X\""), "{d}");
    }

    #[test]
    fn first_difference_sees_a_missing_trailing_newline() {
        let d = first_difference(b"a\nb\n", b"a\nb");
        assert!(d.contains("line 2"), "{d}");
        assert!(d.contains("(no newline)"), "{d}");
    }

    #[test]
    fn abort_matches_a_fault() {
        assert!(statuses_agree(
            Status::Signal(SIGABRT),
            Status::Code(HSX_EXIT_FAULT)
        ));
        assert!(statuses_agree(Status::Code(300 & 0xFF), Status::Code(44)));
        assert!(!statuses_agree(Status::Code(0), Status::Code(70)));
        assert!(!statuses_agree(Status::Code(0), Status::TimedOut));
    }
}
