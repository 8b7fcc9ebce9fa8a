//! End-to-end tests of the offline subcommands: `hsx asm`, `hsx disasm`, `hsx run`.
//! They run the real `hsx` binary on the shipped examples and on programs written to a
//! temporary directory.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn hsx() -> Command {
    let mut c = Command::cargo_bin("hsx").expect("hsx binary");
    c.env("NO_COLOR", "1");
    c
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write temp file");
    p
}

#[test]
fn run_hello_prints_and_exits_zero() {
    hsx()
        .arg("run")
        .arg(examples().join("hello.mvasm"))
        .assert()
        .success()
        .stdout("Hello from HSX!\n");
}

#[test]
fn run_exit_status_is_first_tasks_status_mod_256() {
    hsx()
        .arg("run")
        .arg(examples().join("loop.mvasm"))
        .assert()
        .code(5050 % 256)
        .stdout(predicate::str::contains("sum(1..100) = 5050"));
}

#[test]
fn run_producer_consumer_prefixes_lines_per_task() {
    let out = hsx()
        .arg("run")
        .arg(examples().join("producer.mvasm"))
        .arg(examples().join("consumer.mvasm"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        (1..=5)
            .map(|i| format!("[2:consumer] message {i}"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn run_values_example_sees_metadata_values() {
    hsx()
        .arg("run")
        .arg(examples().join("values.mvasm"))
        .assert()
        .success()
        .stdout("temperature = 21\ntemperature = 42\n");
}

#[test]
fn run_json_report_has_the_documented_shape() {
    let out = hsx()
        .args(["run", "--json"])
        .arg(examples().join("loop.mvasm"))
        .assert()
        .code(5050 % 256)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).expect("one JSON object");
    let t = &v["tasks"][0];
    for key in [
        "pid",
        "app_name",
        "state",
        "exit_status",
        "fault",
        "steps",
        "pc",
        "sp",
        "psw",
        "regs",
        "stdout",
        "stderr",
    ] {
        assert!(t.get(key).is_some(), "missing {key} in {t}");
    }
    assert_eq!(t["pid"], 1);
    assert_eq!(t["state"], "returned");
    assert_eq!(t["exit_status"], 5050);
    assert_eq!(t["regs"].as_array().map(Vec::len), Some(16));
    assert_eq!(t["regs"][0], 5050);
    assert!(t["stdout"].as_str().is_some_and(|s| s.contains("5050")));
    assert!(v["instructions"].as_u64().is_some_and(|n| n > 100));
    assert!(v["wall_s"].as_f64().is_some());
}

#[test]
fn run_max_steps_stops_with_124() {
    hsx()
        .args(["run", "--max-steps", "3"])
        .arg(examples().join("loop.mvasm"))
        .assert()
        .code(124)
        .stderr(predicate::str::contains(
            "step limit reached after 3 instructions",
        ));
}

#[test]
fn run_trace_prints_one_record_per_instruction() {
    let out = hsx()
        .args(["run", "--trace"])
        .arg(examples().join("hello.mvasm"))
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8(out).expect("utf8");
    let records: Vec<&str> = text.lines().filter(|l| l.starts_with("[trace]")).collect();
    assert!(records.len() >= 5, "{text}");
    assert!(records[0].contains("pc=0x0000"), "{}", records[0]);
    assert!(records.iter().any(|r| r.contains("SVC 0x1, 0x01")));
}

/// Writes one byte 10000 times: far more `stdout` events in one run batch than the
/// executive's default event bound.
const CHATTY: &str = "\
.name \"chatty\"
.entry main
.text
main:
    LDI   R5, 0
    LDI   R6, 1
    LDI32 R7, 10000
again:
    LDI   R1, 1
    LDI32 R2, ch
    LDI   R3, 1
    SVC   4, 2
    ADD   R5, R5, R6
    CMP   R5, R7
    JNZ   again
    LDI   R0, 0
    RET
.data
ch:
    .ascii \"x\"
";

#[test]
fn run_loses_no_output_of_a_chatty_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = write(dir.path(), "chatty.mvasm", CHATTY);
    hsx()
        .arg("run")
        .arg(&src)
        .assert()
        .success()
        .stdout("x".repeat(10_000));
    let out = hsx()
        .args(["run", "--json"])
        .arg(&src)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).expect("json report");
    assert_eq!(
        report["tasks"][0]["stdout"],
        Value::from("x".repeat(10_000))
    );
}

#[test]
fn run_trace_loses_no_records_of_a_long_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = write(dir.path(), "chatty.mvasm", CHATTY);
    let out = hsx()
        .args(["run", "--json"])
        .arg(&src)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).expect("json report");
    let executed = report["instructions"].as_u64().expect("instructions");
    let out = hsx()
        .args(["run", "--trace"])
        .arg(&src)
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8(out).expect("utf8");
    let records = text.lines().filter(|l| l.starts_with("[trace]")).count();
    assert_eq!(records as u64, executed);
}

#[test]
fn run_fault_is_reported_and_exits_70() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = write(
        dir.path(),
        "div0.mvasm",
        ".entry main\nmain:\n LDI R1, 7\n LDI R2, 0\n DIV R3, R1, R2\n RET\n",
    );
    hsx()
        .arg("run")
        .arg(&src)
        .assert()
        .code(70)
        .stderr(predicate::str::contains(
            "faulted: DIV_ZERO (0xFFFFFF05) at pc 0x0008",
        ));
}

#[test]
fn run_fault_in_one_task_does_not_stop_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(
        dir.path(),
        "bad.mvasm",
        ".entry main\nmain:\n LDI R2, 0\n DIV R3, R2, R2\n RET\n",
    );
    let out = hsx()
        .args(["run", "--json"])
        .arg(&bad)
        .arg(examples().join("hello.mvasm"))
        .assert()
        .code(70)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["tasks"][0]["state"], "faulted");
    assert_eq!(v["tasks"][0]["fault"]["name"], "DIV_ZERO");
    assert_eq!(v["tasks"][1]["state"], "returned");
    assert_eq!(v["tasks"][1]["stdout"], "Hello from HSX!\n");
}

#[test]
fn run_virtual_time_skips_sleeps() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Sleep for an hour, then return 9: only finishes quickly with virtual time.
    let src = write(
        dir.path(),
        "sleepy.mvasm",
        ".entry main\nmain:\n LDI32 R0, 3600000\n SVC 6, 0\n LDI R0, 9\n RET\n",
    );
    hsx()
        .args(["run", "--virtual-time"])
        .arg(&src)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(9);
}

#[test]
fn run_blocked_forever_exits_75() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Receive forever (timeout 0xFFFF) on our own stdin: nobody ever sends.
    let src = write(
        dir.path(),
        "wait.mvasm",
        ".entry main\nmain:\n LDI R1, 1\n LDI32 R2, 0x100\n LDI R3, 16\n LDI32 R4, 0xFFFF\n LDI R5, 0\n SVC 5, 3\n RET\n",
    );
    hsx()
        .arg("run")
        .arg(&src)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(75)
        .stderr(predicate::str::contains("no task can make progress"));
}

#[test]
fn run_reports_assembly_errors_with_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = write(dir.path(), "bad.mvasm", ".entry main\nmain:\n FROB R1\n");
    hsx()
        .arg("run")
        .arg(&src)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.mvasm:3:2: error:"));
}

#[test]
fn run_missing_file_is_one_clear_error() {
    hsx()
        .args(["run", "/nonexistent/app.hxe"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read /nonexistent/app.hxe"));
}

#[test]
fn run_rejects_a_corrupt_image_with_the_loader_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("junk.hxe");
    std::fs::write(&p, b"not an image").expect("write");
    hsx()
        .arg("run")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(".hxe file too small"));
}

#[test]
fn asm_then_disasm_then_run_the_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hxe = dir.path().join("hello.hxe");
    let sym = dir.path().join("hello.sym");
    hsx()
        .arg("asm")
        .arg(examples().join("hello.mvasm"))
        .arg("-o")
        .arg(&hxe)
        .arg("--sym")
        .arg(&sym)
        .assert()
        .success();
    let sym_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&sym).expect("sym")).expect("sym json");
    assert_eq!(sym_json["version"], 1);

    let listing = hsx()
        .arg("disasm")
        .arg(&hxe)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let listing = String::from_utf8(listing).expect("utf8");
    assert!(listing.contains("hello"), "{listing}");
    assert!(listing.contains("SVC"), "{listing}");

    // The listing re-assembles to the same bytes.
    let relisted = write(dir.path(), "relisted.mvasm", &listing);
    let hxe2 = dir.path().join("hello2.hxe");
    hsx()
        .arg("asm")
        .arg(&relisted)
        .arg("-o")
        .arg(&hxe2)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&hxe).expect("hxe"),
        std::fs::read(&hxe2).expect("hxe2")
    );

    hsx()
        .arg("run")
        .arg(&hxe)
        .assert()
        .success()
        .stdout("Hello from HSX!\n");
}

#[test]
fn asm_error_shows_file_line_col_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = write(dir.path(), "e.mvasm", "main:\n LDI R1, 5000\n");
    hsx()
        .arg("asm")
        .arg(&src)
        .arg("-o")
        .arg(dir.path().join("e.hxe"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("e.mvasm:2:"));
    assert!(!dir.path().join("e.hxe").exists(), "no output on error");
}

#[test]
fn asm_v1_and_single_instance_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = write(
        dir.path(),
        "t.mvasm",
        ".entry main\nmain:\n LDI R0, 42\n RET\n",
    );
    let v1 = dir.path().join("t1.hxe");
    hsx()
        .arg("asm")
        .arg(&src)
        .arg("-o")
        .arg(&v1)
        .arg("--v1")
        .assert()
        .success();
    // The 40-byte v1 image of vm.md §4.6.
    let bytes = std::fs::read(&v1).expect("v1");
    assert_eq!(bytes.len(), 40);
    assert_eq!(&bytes[0x1C..0x20], &[0x82, 0x99, 0x43, 0x0D]);

    let v2 = dir.path().join("tiny.hxe");
    hsx()
        .arg("asm")
        .arg(&src)
        .arg("-o")
        .arg(&v2)
        .args(["--single-instance", "--name", "solo"])
        .assert()
        .success();
    let bytes = std::fs::read(&v2).expect("v2");
    assert_eq!(&bytes[0x20..0x24], b"solo");
    assert_eq!(bytes[7] & 0x02, 0, "allow-multiple flag cleared");
}

#[test]
fn disasm_of_garbage_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("junk.hxe");
    std::fs::write(&p, [0u8; 8]).expect("write");
    hsx()
        .arg("disasm")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot disassemble"));
}

#[test]
fn run_fs_root_gives_tasks_a_sandboxed_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    // open("out.txt") → fd, write "hi", close; then try "../escape.txt" and return its
    // result (-22 = rejected) as the exit status's low byte.
    let src = write(
        dir.path(),
        "fs.mvasm",
        r#".entry main
main:
    LDI32 R1, path
    LDI R2, 0
    SVC 4, 0
    MOV R1, R0
    LDI32 R2, text
    LDI R3, 2
    SVC 4, 2
    SVC 4, 3
    LDI32 R1, bad
    LDI R2, 0
    SVC 4, 0
    RET
.data
path:
    .asciz "out.txt"
text:
    .ascii "hi"
bad:
    .asciz "../escape.txt"
"#,
    );
    hsx()
        .arg("run")
        .arg("--fs-root")
        .arg(&root)
        .arg(&src)
        .assert()
        .code((-22i32 as u32 & 0xFF) as i32);
    assert_eq!(
        std::fs::read(root.join("out.txt")).expect("file written in the root"),
        b"hi"
    );
    assert!(!dir.path().join("escape.txt").exists());
}
