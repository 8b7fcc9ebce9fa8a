//! Client commands that need tasks, against a real hsxd whose executive is connected.
//!
//! The in-process daemon of tests/common runs hsxd's `Daemon` with its auto clock; with
//! `HSXD_BIN=$PWD/target/debug/hsxd` the same tests run against the built binary instead.
//!
//! The expectations follow protocol.md (reply shapes) and design.md (code reads from code
//! memory, `faulted`, `stdout` events); no reply here is faked.

mod common;

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use serde_json::Value;

/// Two LDIs, then an endless `ADD R1, R1, R2` / `JMP loop`: main at 0x0, loop at 0x8.
const SPIN: &str = r#"
.name "spin"
.entry main
.text
main:
    LDI   R1, 0
    LDI   R2, 1
loop:
    ADD   R1, R1, R2
    JMP   loop
.data
buf:
    .ascii "ABCDEFGH"
"#;

/// Writes "out!\n" to fd 1 (FS_WRITE, SVC 4, 2) and exits 0.
const SAY: &str = r#"
.name "say"
.entry main
.text
main:
    LDI   R1, 1
    LDI32 R2, msg
    LDI32 R4, msg_end
    SUB   R3, R4, R2
    SVC   4, 2
    LDI   R0, 0
    SVC   1, 0
.data
msg:
    .ascii "out!\n"
msg_end:
"#;

fn assemble(dir: &Path, name: &str, src: &str) -> PathBuf {
    let source = dir.join(format!("{name}.mvasm"));
    std::fs::write(&source, src).unwrap_or_else(|e| panic!("{e}"));
    let hxe = dir.join(format!("{name}.hxe"));
    let sym = dir.join(format!("{name}.sym"));
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_hsx"))
        .arg("asm")
        .arg(&source)
        .arg("-o")
        .arg(&hxe)
        .arg("--sym")
        .arg(&sym)
        .assert()
        .success();
    hxe
}

/// Loads an image and returns its pid (from `image.pid` of the JSON reply).
fn load(addr: &str, hxe: &Path) -> u64 {
    let out = common::hsx(addr)
        .arg("load")
        .arg(hxe)
        .arg("--json")
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap_or(Value::Null);
    v["image"]["pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("no image.pid in {v}"))
}

fn stdout_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

#[test]
fn load_ps_step_regs_kill() {
    let d = common::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pid = load(&d.addr, &assemble(dir.path(), "spin", SPIN));
    let p = pid.to_string();
    let ps = common::hsx(&d.addr).arg("ps").assert().success();
    assert!(stdout_of(&ps).contains("spin"), "{}", stdout_of(&ps));
    common::hsx(&d.addr)
        .args(["step", &p, "-n", "3"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("executed 3 instruction(s)"));
    common::hsx(&d.addr)
        .args(["regs", &p])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("pc 0x000C").and(predicate::str::contains("R1  0x00000001")),
        );
    common::hsx(&d.addr)
        .args(["kill", &p])
        .assert()
        .success()
        .stdout(format!("pid {pid}: terminated\n"));
}

#[test]
fn breakpoints_symbols_and_disassembly() {
    let d = common::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pid = load(&d.addr, &assemble(dir.path(), "spin", SPIN));
    let p = pid.to_string();
    common::hsx(&d.addr)
        .args(["bp", "add", &p, "loop"])
        .assert()
        .success()
        .stdout(format!("pid {pid}: breakpoints 0x0008\n"));
    common::hsx(&d.addr)
        .args(["step", &p, "-n", "10"])
        .assert()
        .success()
        .stdout(predicate::str::contains("breakpoint hit"));
    common::hsx(&d.addr)
        .arg("ps")
        .assert()
        .success()
        .stdout(predicate::str::contains("paused"));
    let dis = common::hsx(&d.addr)
        .args(["dis", &p, "main", "-n", "4"])
        .assert()
        .success();
    let text = stdout_of(&dis);
    assert!(text.contains("main:") && text.contains("loop:"), "{text}");
    assert!(
        text.contains("=>* 0x0008"),
        "PC arrow and breakpoint on loop: {text}"
    );
    assert!(text.contains("ADD"), "{text}");
    common::hsx(&d.addr)
        .args(["sym", &p, "loop"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("loop at 0x0008"));
    common::hsx(&d.addr)
        .args(["sym", &p, "0xC"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("loop+0x4 at 0x0008"));
    common::hsx(&d.addr)
        .args(["bp", "rm", &p, "loop"])
        .assert()
        .success()
        .stdout(format!("pid {pid}: no breakpoints\n"));
}

#[test]
fn memory_peek_poke_and_regions() {
    let d = common::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = load(&d.addr, &assemble(dir.path(), "spin", SPIN)).to_string();
    common::hsx(&d.addr)
        .args(["peek", &p, "buf", "8"])
        .assert()
        .success()
        .stdout(predicate::str::contains("|ABCDEFGH|"));
    common::hsx(&d.addr)
        .args(["poke", &p, "0x4000", "7a 79"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("wrote 2 byte(s) at 0x4000"));
    common::hsx(&d.addr)
        .args(["peek", &p, "0x4000", "4"])
        .assert()
        .success()
        .stdout(predicate::str::contains("7a 79 43 44"));
    common::hsx(&d.addr)
        .args(["mem", "regions", &p])
        .assert()
        .success()
        .stdout(predicate::str::contains("code").and(predicate::str::contains("stack")));
}

#[test]
fn pause_resume_stack_trace_mailboxes_send() {
    let d = common::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pid = load(&d.addr, &assemble(dir.path(), "spin", SPIN));
    let p = pid.to_string();
    common::hsx(&d.addr)
        .args(["pause", &p])
        .assert()
        .success()
        .stdout(predicate::str::contains("paused"));
    common::hsx(&d.addr)
        .args(["resume", &p])
        .assert()
        .success()
        .stdout(predicate::str::contains("running"));
    common::hsx(&d.addr)
        .args(["step", &p, "-n", "2"])
        .assert()
        .success();
    common::hsx(&d.addr).args(["stack", &p]).assert().success();
    common::hsx(&d.addr)
        .args(["trace", "records", &p, "-n", "5"])
        .assert()
        .success()
        .stdout(predicate::str::contains("record(s)"));
    common::hsx(&d.addr)
        .arg("mbox")
        .assert()
        .success()
        .stdout(predicate::str::contains("svc:stdio.out"));
    common::hsx(&d.addr)
        .args(["send", &p, "hello"])
        .assert()
        .success()
        .stdout(format!("sent 5 byte(s) to svc:stdio.in@{pid}: ok\n"));
    common::hsx(&d.addr)
        .args(["watch", "add", &p, "buf"])
        .assert()
        .success()
        .stdout(predicate::str::contains("buf"));
    common::hsx(&d.addr)
        .args(["watch", "ls", &p])
        .assert()
        .success()
        .stdout(predicate::str::contains("buf"));
}

#[test]
fn events_show_the_load() {
    let d = common::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pid = load(&d.addr, &assemble(dir.path(), "spin", SPIN));
    common::hsx(&d.addr)
        .args(["events", "--category", "task_state"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains(format!("task_state     pid {pid}"))
                .and(predicate::str::contains("(loaded)")),
        );
}

#[test]
fn listen_follows_output_until_the_task_ends() {
    let d = common::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = load(&d.addr, &assemble(dir.path(), "say", SAY)).to_string();
    common::hsx(&d.addr)
        .args(["clock", "start"])
        .assert()
        .success();
    common::hsx(&d.addr)
        .args(["listen", &p])
        .assert()
        .success()
        .stdout("out!\n");
    let ps = common::hsx(&d.addr).arg("ps").assert().success();
    assert!(stdout_of(&ps).contains("returned"), "{}", stdout_of(&ps));
}

#[test]
fn unknown_value_is_enoent_and_exit_1() {
    let d = common::start();
    common::hsx(&d.addr)
        .args(["val", "get", "0x0101"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("hsx: error: value 0x0101: no such value (ENOENT)\n");
}
