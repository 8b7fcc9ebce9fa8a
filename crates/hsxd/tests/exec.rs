//! The daemon over a real executive (`Daemon` with its auto clock), end to end over TCP.

mod common;

use common::{Client, TestServer, err, is_event, ok, open_session};
use serde_json::{Value, json};

fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

async fn load(c: &mut Client, name: &str) -> u64 {
    let r = c.rpc(json!({"cmd": "load", "path": example(name)})).await;
    ok(&r)["image"]["pid"].as_u64().expect("pid")
}

/// Reads lines until an event of `kind` arrives (events seen earlier while waiting for
/// replies count too).
async fn wait_event(c: &mut Client, kind: &str) -> Value {
    if let Some(e) = c.events.iter().find(|e| e["type"] == kind) {
        return e.clone();
    }
    loop {
        let v = c.recv().await;
        if is_event(&v) {
            if v["type"] == kind {
                return v;
            }
            c.events.push(v);
        }
    }
}

async fn subscribe(s: &TestServer, c: &mut Client) {
    let sid = open_session(s, json!({"capabilities": {"features": ["events"]}})).await;
    let r = c
        .rpc(json!({"cmd": "events.subscribe", "session": sid}))
        .await;
    ok(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_ps_step_to_exit_with_stdout() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    subscribe(&s, &mut c).await;
    let r = c
        .rpc(json!({"cmd": "load", "path": example("hello.mvasm")}))
        .await;
    let image = &ok(&r)["image"];
    let pid = image["pid"].as_u64().expect("pid");
    assert_eq!(pid, 1);
    assert_eq!(image["app_name_base"], "hello");
    assert!(image["code_len"].as_u64().unwrap_or(0) > 0);

    let ps = c.rpc(json!({"cmd": "ps"})).await;
    let tasks = ok(&ps)["tasks"]["tasks"].as_array().expect("tasks").clone();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["pid"], 1);
    assert_eq!(
        tasks[0]["app_name"]
            .as_str()
            .map(|n| n.starts_with("hello")),
        Some(true)
    );
    assert!(
        tasks[0]["program"]
            .as_str()
            .unwrap_or("")
            .ends_with("hello.mvasm")
    );

    let mut total = 0;
    for _ in 0..50 {
        let r = c.rpc(json!({"cmd": "step", "steps": 1})).await;
        let res = &ok(&r)["result"];
        total += res["executed"].as_u64().unwrap_or(0);
        let ps = c.rpc(json!({"cmd": "ps"})).await;
        if ps["tasks"]["tasks"][0]["state"] == "returned" {
            break;
        }
    }
    let ps = c.rpc(json!({"cmd": "ps"})).await;
    assert_eq!(ps["tasks"]["tasks"][0]["state"], "returned", "{ps}");
    assert_eq!(ps["tasks"]["tasks"][0]["exit_status"], 0);
    assert!(total >= 5);

    let loaded = wait_event(&mut c, "task_state").await;
    assert_eq!(loaded["pid"], 1);
    let out = wait_event(&mut c, "stdout").await;
    assert_eq!(out["pid"], 1);
    assert_eq!(out["data"]["text"], "Hello from HSX!\n");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peek_poke_regs_and_unknown_pid() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, "loop.mvasm").await;
    let r = c
        .rpc(json!({"cmd": "poke", "pid": pid, "addr": 0x8000, "data": "deadbeef"}))
        .await;
    ok(&r);
    let r = c
        .rpc(json!({"cmd": "peek", "pid": pid, "addr": 0x8000, "length": 4}))
        .await;
    assert_eq!(ok(&r)["data"], "deadbeef");

    let r = c.rpc(json!({"cmd": "dumpregs", "pid": pid})).await;
    let regs = &ok(&r)["registers"];
    assert_eq!(regs["pc"], 0);
    assert_eq!(regs["regs"].as_array().map(Vec::len), Some(16));

    assert_eq!(
        err(&c.rpc(json!({"cmd": "peek", "pid": 9, "addr": 0})).await),
        "unknown pid 9"
    );
    assert_eq!(
        err(&c.rpc(json!({"cmd": "pause", "pid": 9})).await),
        "unknown pid 9"
    );
    assert_eq!(
        err(&c.rpc(json!({"cmd": "kill", "pid": 9})).await),
        "unknown pid 9"
    );
    let info = c.rpc(json!({"cmd": "info", "pid": 9})).await;
    assert_eq!(ok(&info)["info"]["selected_error"], "unknown pid 9");
    assert_eq!(info["info"]["clock"].as_object().map(|m| m.len()), Some(13));
    let missing = c
        .rpc(json!({"cmd": "load", "path": "/nonexistent/x.hxe"}))
        .await;
    assert!(err(&missing).contains("no such file"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_kill() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, "loop.mvasm").await;
    let r = c.rpc(json!({"cmd": "pause", "pid": pid})).await;
    assert_eq!(ok(&r)["task"]["state"], "paused");
    let r = c.rpc(json!({"cmd": "step", "steps": 5})).await;
    assert_eq!(ok(&r)["result"]["executed"], 0);
    let r = c.rpc(json!({"cmd": "resume", "pid": pid})).await;
    assert_ne!(ok(&r)["task"]["state"], "paused");
    let r = c.rpc(json!({"cmd": "step", "steps": 5})).await;
    assert_eq!(ok(&r)["result"]["executed"], 5);
    assert_eq!(r["clock"]["manual_total_steps"], 5);
    let r = c.rpc(json!({"cmd": "kill", "pid": pid})).await;
    assert_eq!(ok(&r)["task"], json!({"pid": pid, "state": "terminated"}));
    let ps = c.rpc(json!({"cmd": "ps"})).await;
    assert_eq!(ps["tasks"]["tasks"], json!([]));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breakpoint_pauses_its_task() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    subscribe(&s, &mut c).await;
    let pid = load(&mut c, "loop.mvasm").await;
    // `sum_loop` follows four 4-byte LDIs.
    let r = c
        .rpc(json!({"cmd": "bp", "op": "set", "pid": pid, "addr": 16}))
        .await;
    ok(&r);
    let r = c.rpc(json!({"cmd": "clock", "op": "start"})).await;
    assert_eq!(ok(&r)["clock"]["state"], "running");
    let ev = wait_event(&mut c, "debug_break").await;
    assert_eq!(ev["pid"], pid);
    assert_eq!(ev["data"]["pc"], 16);
    // The task pauses on the hit (the clock keeps running any others: tests/nonstop.rs).
    let mut stopped = false;
    for _ in 0..100 {
        let ps = c.rpc(json!({"cmd": "ps"})).await;
        if ok(&ps)["tasks"]["tasks"][0]["state"] == "paused" {
            stopped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(stopped);
    let r = c.rpc(json!({"cmd": "dumpregs", "pid": pid})).await;
    assert_eq!(ok(&r)["registers"]["pc"], 16);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_clock_runs_to_completion() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    subscribe(&s, &mut c).await;
    load(&mut c, "loop.mvasm").await;
    ok(&c.rpc(json!({"cmd": "clock", "op": "start"})).await);
    let mut done = false;
    for _ in 0..500 {
        let ps = c.rpc(json!({"cmd": "ps"})).await;
        if ps["tasks"]["tasks"][0]["state"] == "returned" {
            assert_eq!(ps["tasks"]["tasks"][0]["exit_status"], 5050);
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(done);
    let r = c.rpc(json!({"cmd": "clock"})).await;
    assert!(ok(&r)["clock"]["auto_total_steps"].as_u64().unwrap_or(0) > 100);
    let mut text = String::new();
    while !text.contains("5050") {
        let ev = wait_event(&mut c, "stdout").await;
        c.events.retain(|e| e["seq"] != ev["seq"]);
        text.push_str(ev["data"]["text"].as_str().unwrap_or(""));
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_reads_stdout_while_the_task_lives() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, "loop.mvasm").await;
    // Output sent with FS_WRITE goes to the task's stdout mailbox, which `listen` drains;
    // the mailbox goes away when the task ends, so read it as the task runs.
    let mut text = String::new();
    for _ in 0..2000 {
        let r = c.rpc(json!({"cmd": "step", "steps": 2})).await;
        ok(&r);
        let r = c
            .rpc(json!({"cmd": "listen", "pid": pid, "limit": 10}))
            .await;
        if r["status"] != "ok" {
            break;
        }
        for m in r["messages"].as_array().expect("messages") {
            text.push_str(m["text"].as_str().unwrap_or(""));
        }
        if text.ends_with('\n') {
            break;
        }
    }
    assert_eq!(text, "sum(1..100) = 5050\n");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_list_mailboxes_and_values() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, "loop.mvasm").await;
    let r = c.rpc(json!({"cmd": "list", "pid": pid})).await;
    let chans = ok(&r)["channels"]["channels"]
        .as_array()
        .expect("channels")
        .clone();
    assert!(
        chans.iter().any(|ch| ch["target"]
            .as_str()
            .is_some_and(|t| t.contains("stdio.out"))),
        "{r}"
    );
    let r = c.rpc(json!({"cmd": "mailbox_snapshot"})).await;
    assert!(
        ok(&r)["descriptors"]
            .as_array()
            .is_some_and(|d| d.len() >= 4)
    );
    let r = c.rpc(json!({"cmd": "reload", "pid": pid})).await;
    let rel = &ok(&r)["reload"];
    assert_eq!(rel["old_pid"], pid);
    assert_eq!(rel["new_pid"], pid + 1);
    assert!(
        matches!(rel["task"]["state"].as_str(), Some("ready" | "running")),
        "{r}"
    );
    let r = c.rpc(json!({"cmd": "val.get", "oid": 0x0101})).await;
    assert_eq!(ok(&r)["value"]["status"], 1);
    s.stop().await;
}

/// What the HSX debugger client builds its views from: a `trace_step` after a debugger
/// step even with tracing off, and `scheduler` events (and the `sched` trace) while the
/// auto clock runs a single busy task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_and_clock_events_for_the_hsx_clients() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    subscribe(&s, &mut c).await;
    let pid = load(&mut c, "loop.mvasm").await;
    ok(&c.rpc(json!({"cmd": "pause", "pid": pid})).await);
    let r = c.rpc(json!({"cmd": "step", "pid": pid, "steps": 2})).await;
    assert_eq!(ok(&r)["result"]["executed"], 2, "{r}");
    let ev = wait_event(&mut c, "trace_step").await;
    assert_eq!(ev["pid"], pid);
    assert_eq!(
        (ev["data"]["pc"].clone(), ev["data"]["next_pc"].clone()),
        (json!(4), json!(8))
    );
    let r = c
        .rpc(json!({"cmd": "trace", "op": "records", "pid": pid}))
        .await;
    assert!(!r.to_string().contains("\"pc\":4"), "tracing is off: {r}");

    // The auto clock: scheduler events arrive while the one task runs.
    ok(&c.rpc(json!({"cmd": "resume", "pid": pid})).await);
    ok(&c
        .rpc(json!({"cmd": "clock", "op": "rate", "rate": 200}))
        .await);
    ok(&c.rpc(json!({"cmd": "clock", "op": "start"})).await);
    c.events.clear();
    for _ in 0..3 {
        let ev = wait_event(&mut c, "scheduler").await;
        assert_eq!(ev["data"]["reason"], "budget", "{ev}");
        c.events.retain(|e| e["seq"] != ev["seq"]);
    }
    ok(&c.rpc(json!({"cmd": "clock", "op": "stop"})).await);
    let r = c.rpc(json!({"cmd": "sched"})).await;
    let trace = ok(&r)["scheduler"]["trace"].as_array().map_or(0, Vec::len);
    assert!(trace >= 3, "{r}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_step_is_clamped_with_a_warning() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    load(&mut c, "loop.mvasm").await;
    let r = c
        .rpc(json!({"cmd": "step", "steps": "0xFFFFFFFFFFFFFFFF"}))
        .await;
    let res = &ok(&r)["result"];
    assert_eq!(res["executed"], 578, "{r}");
    let w = res["warnings"][0].as_str().unwrap_or("");
    assert!(w.starts_with("step_clamped:"), "{r}");
    s.stop().await;
}
