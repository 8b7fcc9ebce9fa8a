//! Reverse execution over the protocol: `record`, `step_back`, `reverse_continue`,
//! `travel`; the clock is stopped first (all-stop), errors are one line, and stepping a
//! task in the past moves through the recorded future.

mod common;

use std::path::Path;

use common::{Client, TestServer, ok};
use serde_json::{Value, json};

/// Counts R1 up to 1000, storing it at 0x5000 each time, then returns it.
const COUNTER: &str = r#"
.name "counter"
.entry main
.text
main:
    LDI   R1, 0
    LDI   R2, 1000
    LDI32 R3, 0x5000
again:
    ADDI  R1, R1, 1
    ST    [R3+0], R1
    CMP   R1, R2
    JNZ   again
    MOV   R0, R1
    RET
"#;

fn write(dir: &Path, name: &str, src: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, src).expect("write source");
    p.display().to_string()
}

async fn reg(c: &mut Client, pid: u64, r: &str) -> u64 {
    let v = c.rpc(json!({"cmd": "dumpregs", "pid": pid})).await;
    ok(&v)["registers"][r].as_u64().unwrap_or(u64::MAX)
}

fn error(v: &Value) -> String {
    assert_eq!(v["status"], "error", "{v}");
    v["error"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_back_and_reverse_continue_over_the_protocol() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let e = error(&c.rpc(json!({"cmd": "step_back", "pid": 1})).await);
    assert!(e.contains("unknown pid 1"), "{e}");
    let path = write(dir.path(), "counter.mvasm", COUNTER);
    let r = c
        .rpc(json!({"cmd": "load", "path": path, "paused": true}))
        .await;
    let pid = ok(&r)["image"]["pid"].as_u64().expect("pid");
    let e = error(&c.rpc(json!({"cmd": "step_back", "pid": pid})).await);
    assert!(e.starts_with("not_recording:"), "{e}");
    let r = c
        .rpc(json!({"cmd": "record.start", "interval": 1000}))
        .await;
    assert_eq!(ok(&r)["record"]["active"], true, "{r}");
    ok(&c.rpc(json!({"cmd": "resume", "pid": pid})).await);
    ok(&c.rpc(json!({"cmd": "step", "steps": 2000})).await);
    let r1 = reg(&mut c, pid, "R1").await;
    assert!(r1 > 400, "ran: R1 = {r1}");
    // Back 4 instructions = one loop iteration: R1 is one less.
    let r = c
        .rpc(json!({"cmd": "step_back", "pid": pid, "steps": 4}))
        .await;
    assert_eq!(ok(&r)["travel"]["position"], 1996, "{r}");
    assert_eq!(reg(&mut c, pid, "R1").await, r1 - 1);
    let st = c.rpc(json!({"cmd": "record"})).await;
    assert_eq!(ok(&st)["record"]["in_past"], true, "{st}");
    // A breakpoint on the ST: reverse continue stops there, one iteration back each time.
    ok(&c
        .rpc(json!({"cmd": "bp", "op": "set", "pid": pid, "addr": 0x14}))
        .await);
    let r = c.rpc(json!({"cmd": "reverse_continue", "pid": pid})).await;
    assert_eq!(ok(&r)["travel"]["stop"]["reason"], "breakpoint", "{r}");
    assert_eq!(ok(&r)["task"]["pc"], 0x14, "{r}");
    let a = reg(&mut c, pid, "R1").await;
    ok(&c.rpc(json!({"cmd": "reverse_continue", "pid": pid})).await);
    assert_eq!(reg(&mut c, pid, "R1").await, a - 1);
    // Stepping the task moves forward through the recorded future.
    let r = c.rpc(json!({"cmd": "step", "pid": pid, "steps": 4})).await;
    assert_eq!(ok(&r)["result"]["executed"], 4, "{r}");
    assert_eq!(reg(&mut c, pid, "R1").await, a);
    // Anywhere by instruction count; not past the end.
    let r = c.rpc(json!({"cmd": "travel", "to": 10})).await;
    assert_eq!(ok(&r)["travel"]["position"], 10, "{r}");
    let e = error(&c.rpc(json!({"cmd": "travel", "to": 99_999})).await);
    assert!(e.starts_with("history_end:"), "{e}");
    let e = error(&c.rpc(json!({"cmd": "travel"})).await);
    assert_eq!(e, "travel requires 'to'");
    let e = error(&c.rpc(json!({"cmd": "record", "op": "rewind"})).await);
    assert!(e.contains("unknown record op"), "{e}");
    // Going live from the past: the rest runs normally, to the end.
    ok(&c
        .rpc(json!({"cmd": "bp", "op": "clear", "pid": pid, "addr": 0x14}))
        .await);
    ok(&c.rpc(json!({"cmd": "step", "steps": 10_000})).await);
    assert_eq!(reg(&mut c, pid, "R0").await, 1000);
    let st = c.rpc(json!({"cmd": "record.status"})).await;
    assert_eq!(ok(&st)["record"]["in_past"], false, "{st}");
    ok(&c.rpc(json!({"cmd": "record.stop"})).await);
    let st = c.rpc(json!({"cmd": "record"})).await;
    assert_eq!(ok(&st)["record"]["active"], false, "{st}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn travelling_stops_the_auto_clock_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    ok(&c.rpc(json!({"cmd": "record", "op": "start"})).await);
    let path = write(dir.path(), "counter.mvasm", COUNTER);
    let r = c.rpc(json!({"cmd": "load", "path": path})).await;
    let pid = ok(&r)["image"]["pid"].as_u64().expect("pid");
    ok(&c
        .rpc(json!({"cmd": "bp", "op": "set", "pid": pid, "addr": 0x14}))
        .await);
    ok(&c.rpc(json!({"cmd": "clock", "op": "start"})).await);
    // Wait for the breakpoint stop, then step back with the clock running.
    for _ in 0..1000 {
        let ps = c.rpc(json!({"cmd": "ps"})).await;
        if ps.to_string().contains("\"paused\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let r = c.rpc(json!({"cmd": "step_back", "pid": pid})).await;
    let w = ok(&r)["warnings"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(w.starts_with("clock_stopped:"), "{r}");
    let clock = c.rpc(json!({"cmd": "clock"})).await;
    assert_eq!(ok(&clock)["clock"]["running"], false, "{clock}");
    s.stop().await;
}
