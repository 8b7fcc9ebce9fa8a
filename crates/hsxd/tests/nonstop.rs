//! Non-stop debugging: a breakpoint, fault, pause or kill of one task leaves the auto clock
//! running the others; `clock policy` with `on_break: all` restores all-stop; `load` with
//! `paused` holds a task before its first instruction; `resume` says when the clock is
//! stopped.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Client, TestServer, ok};
use serde_json::{Value, json};

/// Prints `tick` and sleeps 1 ms, forever.
const TICKER: &str = r#"
.name "ticker"
.entry main
.text
main:
    LDI32 R1, msg
    LDI   R2, 5
    SVC   1, 1
    LDI   R0, 1
    SVC   6, 0
    JMP   main
.data
msg:
    .ascii "tick\n"
"#;

/// Counts up in R1 forever; `spin` (at 0x4) is where a breakpoint goes.
const SPINNER: &str = r#"
.name "spinner"
.entry main
.text
main:
    LDI   R1, 0
spin:
    ADDI  R1, R1, 1
    JMP   spin
"#;

/// Jumps to an unaligned address, which faults at once.
const FAULTER: &str = r#"
.name "faulter"
.entry main
.text
main:
    LDI   R1, 0
    LDI   R2, 3
    JR    R2
"#;

fn write(dir: &Path, name: &str, src: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, src).expect("write source");
    p.display().to_string()
}

async fn load(c: &mut Client, path: &str, paused: bool) -> u64 {
    let r = c
        .rpc(json!({"cmd": "load", "path": path, "paused": paused}))
        .await;
    assert_eq!(ok(&r)["image"]["paused"], paused, "{r}");
    ok(&r)["image"]["pid"].as_u64().expect("pid")
}

async fn task(c: &mut Client, pid: u64) -> Value {
    let ps = c.rpc(json!({"cmd": "ps"})).await;
    ok(&ps)["tasks"]["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["pid"] == pid).cloned())
        .unwrap_or(Value::Null)
}

/// Polls `ps` until task `pid` is in `state` (bounded).
async fn wait_state(c: &mut Client, pid: u64, state: &str) -> Value {
    for _ in 0..1000 {
        let t = task(c, pid).await;
        if t["state"] == state {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("task {pid} never reached {state}: {}", task(c, pid).await);
}

/// Steps task `pid` has retired so far.
async fn steps(c: &mut Client, pid: u64) -> u64 {
    task(c, pid).await["accounted_steps"].as_u64().unwrap_or(0)
}

/// Waits until task `pid` has retired more than `than` steps (bounded): it is running.
async fn keeps_running(c: &mut Client, pid: u64, than: u64) {
    for _ in 0..1000 {
        if steps(c, pid).await > than {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("task {pid} stopped running at {than} steps");
}

async fn clock(c: &mut Client) -> Value {
    ok(&c.rpc(json!({"cmd": "clock"})).await)["clock"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breakpoint_pauses_only_its_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let ticker = load(&mut c, &write(dir.path(), "ticker.mvasm", TICKER), false).await;
    let spinner = load(&mut c, &write(dir.path(), "spinner.mvasm", SPINNER), true).await;
    assert_eq!(task(&mut c, spinner).await["state"], "paused");
    let r = c
        .rpc(json!({"cmd": "bp", "op": "set", "pid": spinner, "addr": 4}))
        .await;
    ok(&r);
    let r = c.rpc(json!({"cmd": "clock", "op": "start"})).await;
    assert_eq!(ok(&r)["clock"]["on_break"], "task", "{r}");
    // Paused at load: the clock runs the ticker only.
    keeps_running(&mut c, ticker, 20).await;
    assert_eq!(steps(&mut c, spinner).await, 0);
    let r = c.rpc(json!({"cmd": "resume", "pid": spinner})).await;
    assert!(ok(&r).get("warnings").is_none(), "{r}");
    let t = wait_state(&mut c, spinner, "paused").await;
    assert_eq!(t["pc"], 4, "{t}");
    // The ticker goes on printing while the spinner sits at its breakpoint.
    let before = steps(&mut c, ticker).await;
    keeps_running(&mut c, ticker, before + 20).await;
    assert_eq!(clock(&mut c).await["running"], true);
    let out = ok(&c.rpc(json!({"cmd": "listen", "pid": ticker})).await).clone();
    assert!(out.to_string().contains("tick"), "{out}");
    // Kill the spinner: the ticker still runs.
    ok(&c.rpc(json!({"cmd": "kill", "pid": spinner})).await);
    let before = steps(&mut c, ticker).await;
    keeps_running(&mut c, ticker, before + 20).await;
    assert_eq!(clock(&mut c).await["running"], true);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_or_pause_leaves_the_others_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let ticker = load(&mut c, &write(dir.path(), "ticker.mvasm", TICKER), false).await;
    let spinner = load(&mut c, &write(dir.path(), "spinner.mvasm", SPINNER), false).await;
    ok(&c.rpc(json!({"cmd": "clock", "op": "start"})).await);
    let faulter = load(&mut c, &write(dir.path(), "faulter.mvasm", FAULTER), false).await;
    wait_state(&mut c, faulter, "faulted").await;
    ok(&c.rpc(json!({"cmd": "pause", "pid": spinner})).await);
    let before = steps(&mut c, ticker).await;
    keeps_running(&mut c, ticker, before + 20).await;
    assert_eq!(clock(&mut c).await["running"], true);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_break_all_stops_every_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let r = c
        .rpc(json!({"cmd": "clock", "op": "policy", "on_break": "all"}))
        .await;
    assert_eq!(ok(&r)["clock"]["on_break"], "all", "{r}");
    let ticker = load(&mut c, &write(dir.path(), "ticker.mvasm", TICKER), false).await;
    let spinner = load(&mut c, &write(dir.path(), "spinner.mvasm", SPINNER), false).await;
    ok(&c
        .rpc(json!({"cmd": "bp", "op": "set", "pid": spinner, "addr": 4}))
        .await);
    ok(&c.rpc(json!({"cmd": "clock", "op": "start"})).await);
    wait_state(&mut c, spinner, "paused").await;
    for _ in 0..1000 {
        if clock(&mut c).await["running"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(clock(&mut c).await["mode"], "stopped");
    // Stopped means stopped: the ticker does not move any more.
    let frozen = steps(&mut c, ticker).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(steps(&mut c, ticker).await, frozen);
    // A fault stops everything too.
    ok(&c
        .rpc(json!({"cmd": "bp", "op": "clear_all", "pid": spinner}))
        .await);
    ok(&c.rpc(json!({"cmd": "resume", "pid": spinner})).await);
    ok(&c.rpc(json!({"cmd": "clock", "op": "start"})).await);
    let faulter = load(&mut c, &write(dir.path(), "faulter.mvasm", FAULTER), false).await;
    wait_state(&mut c, faulter, "faulted").await;
    for _ in 0..1000 {
        if clock(&mut c).await["running"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(clock(&mut c).await["running"], false);
    // Back to non-stop.
    let r = c.rpc(json!({"cmd": "clock", "on_break": "task"})).await;
    assert_eq!(ok(&r)["clock"]["on_break"], "task", "{r}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_with_the_clock_stopped_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let spinner = load(&mut c, &write(dir.path(), "spinner.mvasm", SPINNER), true).await;
    let r = c.rpc(json!({"cmd": "resume", "pid": spinner})).await;
    assert!(
        matches!(ok(&r)["task"]["state"].as_str(), Some("ready" | "running")),
        "{r}"
    );
    let w = ok(&r)["warnings"][0].as_str().unwrap_or("").to_string();
    assert!(w.starts_with("clock_stopped:"), "{r}");
    // Bad policies are refused with the accepted values named.
    let r = c
        .rpc(json!({"cmd": "clock", "op": "policy", "on_break": "some"}))
        .await;
    assert!(
        r["error"]
            .as_str()
            .unwrap_or("")
            .contains("'task' or 'all'"),
        "{r}"
    );
    let r = c.rpc(json!({"cmd": "clock", "op": "policy"})).await;
    assert!(
        r["error"].as_str().unwrap_or("").contains("on_break"),
        "{r}"
    );
    s.stop().await;
}
