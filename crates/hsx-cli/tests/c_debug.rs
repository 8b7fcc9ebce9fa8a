//! Source-level debugging of a `hsx cc -g` image, end to end: the real `hsx` binary builds
//! a C program, loads it into a real hsxd (tests/common), sets a breakpoint on a C line,
//! runs to it, reads the stack (C function names and lines), steps by source line and
//! watches C locals and a global.
//!
//! Needs clang 16 for wasm32 (the Debian packages below), as the `cc_diff` test does.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const PACKAGES: &str = "clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32";

/// Line numbers below refer to this text.
const PROG: &str = "\
#include <stdio.h>

int counter = 5;

static int square(int x) {
    int y = x * x;
    return y + counter;
}

int sum(int n) {
    int total = 0;
    for (int i = 0; i < n; i++) {
        total += square(i);
    }
    return total;
}

int main(void) {
    int r = sum(4);
    printf(\"r=%d\\n\", r);
    return r == 34 ? 0 : 1;
}
";

fn toolchain_present() {
    let clang = std::env::var("HSX_CLANG").unwrap_or_else(|_| "clang-16".into());
    let ok = Command::new(&clang)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{clang} does not run; this test needs: apt-get install {PACKAGES}"
    );
}

fn text(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn hsx_ok(addr: &str, args: &[&str]) -> String {
    text(&common::hsx(addr).args(args).assert().success())
}

/// Resumes task `pid` (paused at a breakpoint, or not yet run) and runs the auto clock
/// until it is paused again.
fn run_to_break(addr: &str, pid: &str) {
    // A task that never ran is `ready`, not paused: `resume` may refuse it.
    let _ = common::hsx(addr).args(["resume", pid]).assert();
    hsx_ok(addr, &["clock", "start"]);
    let t0 = Instant::now();
    loop {
        let ps = hsx_ok(addr, &["ps"]);
        let row = ps
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == pid) && l.contains("prog"));
        if row.is_some_and(|r| r.contains(" paused ")) {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "pid {pid} never stopped at the breakpoint:\n{ps}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value column of watch `expr` in `watch ls`.
fn watch_value(addr: &str, pid: &str, expr: &str) -> String {
    let ls = hsx_ok(addr, &["watch", "ls", pid]);
    ls.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(expr))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no watch {expr} in:\n{ls}"))
        .to_string()
}

fn build(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("prog.c");
    std::fs::write(&src, PROG).unwrap_or_else(|e| panic!("{e}"));
    let hxe = dir.join("prog.hxe");
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_hsx"))
        .arg("cc")
        .arg("-g")
        .arg("-O0")
        .arg(&src)
        .arg("-o")
        .arg(&hxe)
        .timeout(Duration::from_secs(300))
        .assert()
        .success();
    let sym = std::fs::read_to_string(dir.join("prog.sym")).unwrap_or_else(|e| panic!("{e}"));
    let sym: Value = serde_json::from_str(&sym).unwrap_or_else(|e| panic!("{e}"));
    let funcs = sym["symbols"]["functions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let sq = funcs
        .iter()
        .find(|f| f["name"] == "square")
        .unwrap_or_else(|| panic!("no square in the .sym"));
    assert_eq!(sq["line"], 5, "{sq}");
    assert!(
        sq["file"].as_str().is_some_and(|f| f.ends_with("/prog.c")),
        "{sq}"
    );
    hxe
}

#[test]
fn breakpoint_stack_step_and_watch_in_c() {
    toolchain_present();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let hxe = build(dir.path());
    let d = common::start();
    let a = d.addr.as_str();
    let out = common::hsx(a)
        .arg("load")
        .arg(&hxe)
        .arg("--json")
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap_or(Value::Null);
    let pid = v["image"]["pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("no image.pid in {v}"))
        .to_string();
    let p = pid.as_str();

    // `FILE:LINE` resolves through the line table; the breakpoint is on `int y = x * x;`.
    let at = hsx_ok(a, &["sym", p, "prog.c:6"]);
    assert!(at.starts_with("prog.c:6: 0x"), "{at}");
    hsx_ok(a, &["bp", "add", p, "prog.c:6"]);
    run_to_break(a, p);

    // The stack shows C names and lines: square (line 6) ← sum (13) ← main (19).
    let stack = hsx_ok(a, &["stack", p]);
    let frame = |name: &str, line: u32| {
        stack.lines().any(|l| {
            l.split_whitespace()
                .any(|w| w == name || w.starts_with(&format!("{name}+")))
                && l.trim_end().ends_with(&format!("prog.c:{line}"))
        })
    };
    assert!(frame("square", 6), "{stack}");
    assert!(frame("sum", 13), "{stack}");
    assert!(frame("main", 19), "{stack}");

    // Watches on a parameter, a local and a global, read at the first call: square(0).
    hsx_ok(a, &["watch", "add", p, "local:x"]);
    hsx_ok(a, &["watch", "add", p, "square::y"]);
    hsx_ok(a, &["watch", "add", p, "counter"]);
    assert_eq!(watch_value(a, p, "local:x"), "00000000");
    assert_eq!(watch_value(a, p, "counter"), "05000000");

    // A source step moves to the next line, `return y + counter;`.
    let step = common::hsx(a)
        .args(["step", p, "--source", "--json"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&step.get_output().stdout).unwrap_or(Value::Null);
    let src = &v["result"]["source"];
    assert_eq!(src["from"]["line"], 6, "{v}");
    assert_eq!(src["to"]["line"], 7, "{v}");
    assert!(hsx_ok(a, &["stack", p]).contains("prog.c:7"));

    // Two more calls: square(2) stops with x = 2, and after its first line y = 4.
    run_to_break(a, p);
    run_to_break(a, p);
    assert_eq!(watch_value(a, p, "local:x"), "02000000");
    hsx_ok(a, &["step", p, "--source"]);
    assert_eq!(watch_value(a, p, "square::y"), "04000000");

    // The program still finishes with the native result once the breakpoint is gone.
    hsx_ok(a, &["bp", "clear", p]);
    hsx_ok(a, &["resume", p]);
    hsx_ok(a, &["clock", "start"]);
    let t0 = Instant::now();
    loop {
        let ps = hsx_ok(a, &["ps"]);
        let row: Vec<&str> = ps
            .lines()
            .find(|l| l.contains("prog.hxe"))
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        // PID STATE APP PC STEPS PRIO Q EXIT PROGRAM
        if let Some(k) = row.iter().position(|w| *w == "returned") {
            assert_eq!(row.get(k + 6), Some(&"0"), "exit status:\n{ps}");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "{ps}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
