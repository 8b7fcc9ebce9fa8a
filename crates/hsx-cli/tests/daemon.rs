//! Client commands against a real hsxd (see tests/common). These need no tasks, so they
//! pass with the protocol layer alone and must keep passing once the executive is wired.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use predicates::prelude::*;
use serde_json::Value;

fn json_out(out: &[u8]) -> Value {
    let text = String::from_utf8_lossy(out);
    let line = text.lines().next().unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn ping_reports_pong() {
    let d = common::start();
    common::hsx(&d.addr)
        .arg("ping")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("pong from "));
}

#[test]
fn ps_human_and_json() {
    let d = common::start();
    common::hsx(&d.addr)
        .arg("ps")
        .assert()
        .success()
        .stdout("no tasks\n");
    let out = common::hsx(&d.addr)
        .args(["ps", "--json"])
        .assert()
        .success();
    let v = json_out(&out.get_output().stdout);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["version"], 1);
    assert_eq!(v["tasks"]["tasks"], serde_json::json!([]));
    assert!(v["tasks"].get("current_pid").is_some());
}

#[test]
fn connect_flag_overrides_env() {
    let d = common::start();
    common::hsx(&common::closed_addr())
        .args(["ping", "--connect", &d.addr])
        .assert()
        .success();
}

#[test]
fn info_and_clock() {
    let d = common::start();
    common::hsx(&d.addr)
        .arg("info")
        .assert()
        .success()
        .stdout(predicate::str::contains("clock: stopped (mode stopped)"));
    common::hsx(&d.addr)
        .args(["info", "999"])
        .assert()
        .success()
        .stdout(predicate::str::contains("selected      : unknown pid 999"));
    let out = common::hsx(&d.addr)
        .args(["clock", "--json"])
        .assert()
        .success();
    let v = json_out(&out.get_output().stdout);
    assert_eq!(v["clock"].as_object().map(|m| m.len()), Some(13), "{v}");
    common::hsx(&d.addr)
        .args(["clock", "policy", "all"])
        .assert()
        .success()
        .stdout(predicate::str::contains("on break: stop all tasks"));
    common::hsx(&d.addr)
        .args(["clock", "policy", "task"])
        .assert()
        .success()
        .stdout(predicate::str::contains("on break: stop that task"));
    common::hsx(&d.addr)
        .args(["clock", "status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("step size"));
}

#[test]
fn server_errors_are_one_line_and_exit_1() {
    let d = common::start();
    // No task 4242 exists, with or without an executive: the server says why.
    for args in [
        vec!["pause", "4242"],
        vec!["regs", "4242"],
        vec!["bp", "ls", "4242"],
        vec!["kill", "4242"],
    ] {
        common::hsx(&d.addr)
            .args(&args)
            .assert()
            .code(1)
            .stdout("")
            .stderr(
                predicate::str::is_match(r"^hsx: error: \S.*\n$").unwrap_or_else(|e| panic!("{e}")),
            );
    }
    common::hsx(&d.addr)
        .args(["raw", r#"{"cmd":"frobnicate"}"#])
        .assert()
        .code(1)
        .stderr("hsx: error: unknown_cmd:frobnicate\n");
}

#[test]
fn json_mode_prints_the_error_reply_too() {
    let d = common::start();
    let out = common::hsx(&d.addr)
        .args(["raw", r#"{"cmd":"frobnicate"}"#, "--json"])
        .assert()
        .code(1);
    let v = json_out(&out.get_output().stdout);
    assert_eq!(v["status"], "error");
    assert_eq!(v["error"], "unknown_cmd:frobnicate");
}

#[test]
fn connection_refused_has_a_hint() {
    common::hsx(&common::closed_addr())
        .arg("ps")
        .assert()
        .code(1)
        .stderr(
            predicate::str::starts_with("hsx: error: cannot connect to hsxd at 127.0.0.1:").and(
                predicate::str::contains(
                    "is hsxd running? start it with `hsxd` or set --connect/HSX_ADDR",
                ),
            ),
        );
}

#[test]
fn raw_request_round_trip() {
    let d = common::start();
    common::hsx(&d.addr)
        .args(["raw", r#"{"cmd":"PING","version":"1"}"#])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"reply\": \"pong\""));
    common::hsx(&d.addr)
        .args(["raw", "not json"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "hsx: error: request is not JSON",
        ));
}

#[test]
fn events_history_and_filters() {
    let d = common::start();
    // The subscribe acknowledgement arrives; no task exists, so there is nothing to show.
    common::hsx(&d.addr)
        .arg("events")
        .assert()
        .success()
        .stdout("no events\n");
    common::hsx(&d.addr)
        .args([
            "events",
            "--category",
            "task_state,debug_break,stdio",
            "--pid",
            "1",
        ])
        .assert()
        .success();
    common::hsx(&d.addr)
        .args(["events", "--category", "bogus"])
        .assert()
        .code(1)
        .stderr("hsx: error: unsupported_category:bogus\n");
    // The events command opened and closed a session: the executive log says so.
    common::hsx(&d.addr).arg("dmesg").assert().success().stdout(
        predicate::str::contains("session opened").and(predicate::str::contains("session closed")),
    );
}

#[test]
fn events_follow_stops_when_the_server_goes() {
    let d = common::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hsx"))
        .args(["events", "--follow", "--connect", &d.addr])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().ok().flatten().is_none(), "still following");
    drop(d);
    let mut waited = 0;
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break Some(s);
        }
        if waited > 100 {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
        waited += 1;
    };
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "follow ends with an error when hsxd goes away"
    );
}

#[test]
fn shell_runs_commands_help_and_history() {
    let d = common::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let hist = dir.path().join("history");
    let script = "ps\nhelp\nhelp bp add\ninfo 77\nbogus\nraw '{\"cmd\":\"ping\"}'\nexit\nps\n";
    let out = common::hsx(&d.addr)
        .args(["shell", "--history"])
        .arg(&hist)
        .write_stdin(script)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(
        stdout.matches("no tasks").count(),
        1,
        "exit stops the shell: {stdout}"
    );
    assert!(
        stdout.contains("commands (help CMD for details"),
        "{stdout}"
    );
    assert!(stdout.contains("bp add [OPTIONS] <PID> <ADDR>"), "{stdout}");
    assert!(stdout.contains("unknown pid 77"), "{stdout}");
    assert!(stdout.contains("\"reply\": \"pong\""), "{stdout}");
    assert!(stderr.contains("no command 'bogus'"), "{stderr}");
    let saved = std::fs::read_to_string(&hist).unwrap_or_default();
    assert!(saved.contains("help bp add"), "{saved}");
}

#[test]
fn shell_reconnects_after_a_server_restart() {
    let d = common::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hsx"))
        .args(["shell", "--history", "/dev/null", "--connect", &d.addr])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("stdin"));
    let mut say = |line: &str| {
        let _ = stdin.write_all(line.as_bytes());
        let _ = stdin.flush();
    };
    say("ps\n");
    // `restart exec` drops every connection shortly after replying.
    say("raw '{\"cmd\":\"restart\",\"targets\":[\"exec\"]}'\n");
    std::thread::sleep(Duration::from_millis(600));
    say("ps\n");
    say("exit\n");
    drop(stdin);
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert_eq!(
        stdout.matches("no tasks").count(),
        2,
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains("\"exec\": \"scheduled\""), "{stdout}");
    assert!(!stderr.contains("hsx: error"), "{stderr}");
}

/// Daemon-side failures as a person reads them: one line, no Python text, no raw codes,
/// and a step that ran nothing is a failure.
#[test]
fn daemon_errors_are_sentences() {
    let d = common::start();
    let one_line = |args: &[&str]| -> String {
        let out = common::hsx(&d.addr).args(args).output().expect("run hsx");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        err
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let nope = dir.path().join("nope.hxe");
    let err = one_line(&["load", &nope.display().to_string()]);
    assert!(
        err.contains("cannot read") && err.contains("no such file"),
        "{err}"
    );
    assert!(!err.contains("Errno"), "{err}");
    let err = one_line(&["val", "get", "0x9999"]);
    assert_eq!(
        err.trim(),
        "hsx: error: value 0x9999: no such value (ENOENT)"
    );

    let hello = format!("{}/../../examples/hello.mvasm", env!("CARGO_MANIFEST_DIR"));
    common::hsx(&d.addr)
        .args(["load", &hello])
        .assert()
        .success();
    common::hsx(&d.addr)
        .args(["step", "1", "-n", "100"])
        .assert()
        .success();
    let err = one_line(&["step", "1", "-n", "4"]);
    assert_eq!(
        err.trim(),
        "hsx: error: nothing executed: pid 1 is returned and cannot run"
    );
    let err = one_line(&["resume", "1"]);
    assert_eq!(
        err.trim(),
        "hsx: error: pid 1 has returned; it cannot be resumed (load it again to rerun it)"
    );
}

/// `hsx` presents the token from `--token-file` or `HSX_TOKEN_FILE`; without it hsxd
/// answers `auth_required`.
#[test]
fn the_client_presents_the_token() {
    const TOKEN: &str = "client-test-token-0123456789";
    let d = common::start_with_token(TOKEN);
    let dir = tempfile::tempdir().expect("tempdir");
    let tf = dir.path().join("token");
    std::fs::write(&tf, format!("{TOKEN}\n")).expect("write");
    let out = common::hsx(&d.addr)
        .arg("ps")
        .env_remove("HSX_TOKEN_FILE")
        .output()
        .expect("hsx");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("auth_required"));
    common::hsx(&d.addr)
        .arg("ps")
        .arg("--token-file")
        .arg(&tf)
        .assert()
        .success();
    common::hsx(&d.addr)
        .arg("ping")
        .env("HSX_TOKEN_FILE", &tf)
        .assert()
        .success()
        .stdout(predicate::str::contains("pong"));
}
