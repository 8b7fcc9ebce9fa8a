//! `hsx run --record` and `hsx replay` with the real binary: a replay reproduces the run
//! (output, exit status, final state) without reading the files again; `--to` stops
//! anywhere; damaged or foreign files are refused in one line.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn hsx() -> Command {
    let mut c = Command::cargo_bin("hsx").expect("hsx binary");
    c.env("NO_COLOR", "1");
    c
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Reads `data.txt` from its file system in 4-byte pieces and prints each piece.
const READER: &str = r#"
.name "reader"
.entry main
.text
main:
    LDI32 R1, path
    LDI   R2, 1
    SVC   4, 0          ; FS_OPEN(path, O_RDONLY)
    MOV   R6, R0
    LDI   R7, 0
again:
    MOV   R1, R6
    LDI32 R2, buf
    LDI   R3, 4
    SVC   4, 1          ; FS_READ(fd, buf, 4)
    MOV   R2, R0
    LDI   R8, 0
    CMP   R2, R8
    JZ    done
    ADD   R7, R7, R2
    LDI32 R1, buf
    SVC   1, 1          ; UART_WRITE(buf, n)
    JMP   again
done:
    MOV   R0, R7
    RET
.data
path:
    .asciz "data.txt"
buf:
    .ascii "...."
"#;

#[test]
fn a_recorded_run_replays_exactly_without_reading_its_files_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("data.txt"), "recorded contents\n").unwrap();
    let src = write(dir.path(), "reader.mvasm", READER);
    let rec = dir.path().join("run.hxr");
    let run = hsx()
        .args(["run", "--fs-root"])
        .arg(&root)
        .arg("--record")
        .arg(&rec)
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "recorded contents\n");
    assert_eq!(run.status.code(), Some(18));
    // The file changes (or goes away): the replay still sees what the run read.
    std::fs::remove_file(root.join("data.txt")).unwrap();
    let rep = hsx().arg("replay").arg(&rec).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&rep.stdout), "recorded contents\n");
    assert_eq!(rep.status.code(), Some(18));
    assert!(
        String::from_utf8_lossy(&rep.stderr).contains("replay matches the recording"),
        "{}",
        String::from_utf8_lossy(&rep.stderr)
    );
    // Part way: the output so far and every task's registers there.
    let part = hsx()
        .arg("replay")
        .arg(&rec)
        .args(["--to", "20"])
        .output()
        .unwrap();
    assert_eq!(part.status.code(), Some(0));
    let text = String::from_utf8_lossy(&part.stdout);
    assert!(text.contains("at instruction 20 of"), "{text}");
    assert!(text.contains("task 1 (reader)"), "{text}");
    let json = hsx()
        .arg("replay")
        .arg(&rec)
        .args(["--to", "20", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["position"], 20);
    assert_eq!(v["tasks"][0]["steps"], 20);
}

#[test]
fn producer_and_consumer_replay_with_the_same_interleaving() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("pc.hxr");
    let run = hsx()
        .arg("run")
        .arg("--record")
        .arg(&rec)
        .arg(root.join("producer.mvasm"))
        .arg(root.join("consumer.mvasm"))
        .output()
        .unwrap();
    assert!(run.status.success() || run.status.code().is_some());
    let rep = hsx().arg("replay").arg(&rec).output().unwrap();
    assert_eq!(rep.stdout, run.stdout);
    assert_eq!(rep.status.code(), run.status.code());
    assert!(String::from_utf8_lossy(&rep.stderr).contains("replay matches"));
}

#[test]
fn damaged_or_foreign_recordings_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "reader.mvasm", READER);
    let rec = dir.path().join("run.hxr");
    hsx()
        .arg("run")
        .arg("--record")
        .arg(&rec)
        .arg(&src)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&rec).unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("not an HSX recording", "hello\n".into()),
        (
            "incomplete",
            text.lines().next().unwrap().to_string() + "\n",
        ),
        ("line 2", text.replacen("\n[", "\n[\"x\",", 1)),
        ("empty", String::new()),
    ];
    for (want, body) in cases {
        let bad = dir.path().join("bad.hxr");
        std::fs::write(&bad, body).unwrap();
        let out = hsx().arg("replay").arg(&bad).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "{want}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let past = hsx()
        .arg("replay")
        .arg(&rec)
        .args(["--to", "999999999"])
        .output()
        .unwrap();
    assert_eq!(past.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&past.stderr).contains("past the end"));
    let missing = hsx()
        .arg("replay")
        .arg(dir.path().join("nope.hxr"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    // No temporary file is left next to the recording.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty());
}

/// Prints one line, then spins without an SVC.
const RUNAWAY: &str = r#"
.name "runaway"
.entry main
.text
main:
    LDI32 R1, msg
    LDI   R2, 6
    SVC   1, 1
spin:
    JMP   spin
.data
msg:
    .ascii "start\n"
"#;

#[test]
fn the_watchdog_stops_a_runaway_task_and_the_replay_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "runaway.mvasm", RUNAWAY);
    let rec = dir.path().join("wd.hxr");
    let run = hsx()
        .args(["run", "--json", "--watchdog", "1000", "--record"])
        .arg(&rec)
        .arg(&src)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let t = &v["tasks"][0];
    assert_eq!(t["state"], "faulted", "{v}");
    assert_eq!(t["fault"]["name"], "WATCHDOG", "{v}");
    assert_eq!(
        t["steps"], 1003,
        "LDI32, LDI and the SVC, then 1000 without one"
    );
    assert_eq!(t["stdout"], "start\n");
    let rep = hsx().args(["replay", "--json"]).arg(&rec).output().unwrap();
    let r: serde_json::Value = serde_json::from_slice(&rep.stdout).unwrap();
    assert_eq!(r["tasks"][0]["fault"], t["fault"], "{r}");
    assert_eq!(r["tasks"][0]["steps"], t["steps"], "{r}");
    // A bad spec is one line, before anything runs.
    let bad = hsx()
        .args(["run", "--watchdog", "soon"])
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("N:throttle"));
}
