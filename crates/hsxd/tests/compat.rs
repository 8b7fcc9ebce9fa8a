//! Wire compatibility with the reference Python clients (`shell_client.py`,
//! `blinkenlights.py`, `hsxdbg`), over a real executive: each test asserts the reply fields
//! those clients read, for shapes that were found wrong or missing when the clients were
//! run against `hsxd` (see `scripts/compat/run_python_clients.sh`).

mod common;

use common::{Client, TestServer, ok};
use serde_json::{Value, json};

fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

async fn load_path(c: &mut Client, path: &str) -> u64 {
    let r = c.rpc(json!({"cmd": "load", "path": path})).await;
    ok(&r)["image"]["pid"].as_u64().expect("pid")
}

async fn load(c: &mut Client, name: &str) -> u64 {
    load_path(c, &example(name)).await
}

/// Steps the whole machine until every task has ended (or `limit` step calls).
async fn run_to_end(c: &mut Client, limit: usize) {
    for _ in 0..limit {
        let ps = c.rpc(json!({"cmd": "ps"})).await;
        let tasks = ok(&ps)["tasks"]["tasks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if tasks
            .iter()
            .all(|t| matches!(t["state"].as_str(), Some("returned" | "terminated")))
        {
            return;
        }
        ok(&c.rpc(json!({"cmd": "step", "steps": 500})).await);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    panic!("tasks did not finish");
}

/// All text `listen` returns for `pid` (every task when `None`), polling until empty.
async fn listen_all(c: &mut Client, pid: Option<u64>) -> (String, Vec<Value>) {
    let mut text = String::new();
    let mut msgs = Vec::new();
    loop {
        let mut req = json!({"cmd": "listen", "limit": 3});
        if let Some(p) = pid {
            req["pid"] = json!(p);
        }
        let r = c.rpc(req).await;
        let batch = ok(&r)["messages"].as_array().cloned().expect("messages");
        if batch.is_empty() {
            return (text, msgs);
        }
        for m in batch {
            text.push_str(m["text"].as_str().expect("text"));
            msgs.push(m);
        }
    }
}

fn messages_of<'a>(logs: &'a [Value], message: &str) -> Vec<&'a Value> {
    logs.iter().filter(|e| e["message"] == message).collect()
}

/// `shell_client` `listen` prints `text` (or decodes `data_hex`); the output of a task must
/// still be there after the task has ended and its stdout mailbox is gone. UART output
/// (hello) and FS_WRITE output (loop) both count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_serves_output_after_the_task_ended() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let hello = load(&mut c, "hello.mvasm").await;
    let lp = load(&mut c, "loop.mvasm").await;
    run_to_end(&mut c, 200).await;
    // The mailboxes are gone...
    let r = c.rpc(json!({"cmd": "list", "pid": lp})).await;
    assert_eq!(ok(&r)["channels"]["channels"], json!([]));
    // ...the output is not.
    let (text, msgs) = listen_all(&mut c, Some(hello)).await;
    assert_eq!(text, "Hello from HSX!\n");
    let m = &msgs[0];
    assert_eq!(m["target"], format!("svc:stdio.out@{hello}"));
    assert_eq!(m["pid"], hello);
    assert_eq!(m["src_pid"], hello);
    assert_eq!(m["length"], 16);
    assert_eq!(m["data_hex"], hex("Hello from HSX!\n"));
    for key in ["flags", "channel"] {
        assert!(m[key].is_u64(), "{key} in {m}");
    }
    let (text, _) = listen_all(&mut c, Some(lp)).await;
    assert_eq!(text, "sum(1..100) = 5050\n");
    // Read once: nothing is served twice.
    let r = c.rpc(json!({"cmd": "listen"})).await;
    assert_eq!(ok(&r)["messages"], json!([]));
    // A killed task's unread output survives the kill too.
    let lp2 = load(&mut c, "loop.mvasm").await;
    run_to_end(&mut c, 200).await;
    ok(&c.rpc(json!({"cmd": "kill", "pid": lp2})).await);
    let (text, _) = listen_all(&mut c, Some(lp2)).await;
    assert_eq!(text, "sum(1..100) = 5050\n");
    // A PID with nothing to read, or no task at all, just has no messages (the reference
    // polls `svc:stdio.out@N` whatever N is).
    let r = c.rpc(json!({"cmd": "listen", "pid": 99})).await;
    assert_eq!(ok(&r)["messages"], json!([]));
    s.stop().await;
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// A consumer that prints more than its 64-byte stdout mailbox holds, with nobody polling:
/// everything arrives, in order, and `listen` without a pid covers every task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_loses_nothing_when_nobody_polls() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    load(&mut c, "producer.mvasm").await;
    let consumer = load(&mut c, "consumer.mvasm").await;
    run_to_end(&mut c, 2000).await;
    let ps = c.rpc(json!({"cmd": "ps"})).await;
    for t in ok(&ps)["tasks"]["tasks"].as_array().expect("tasks") {
        assert_eq!(t["exit_status"], 0, "{t}");
    }
    let (text, msgs) = listen_all(&mut c, None).await;
    let want: String = (1..=5).map(|i| format!("message {i}\n")).collect();
    assert_eq!(text, want);
    assert!(msgs.iter().all(|m| m["pid"] == consumer));
    s.stop().await;
}

/// `max_len` cuts a write into pieces without losing the rest; `limit` bounds one call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_max_len_and_limit() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, "hello.mvasm").await;
    run_to_end(&mut c, 200).await;
    let r = c
        .rpc(json!({"cmd": "listen", "pid": pid, "limit": 2, "max_len": 5}))
        .await;
    let texts: Vec<&str> = ok(&r)["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(texts, ["Hello", " from"]);
    let (rest, _) = listen_all(&mut c, Some(pid)).await;
    assert_eq!(rest, " HSX!\n");
    s.stop().await;
}

/// stderr output is served too, under the `svc:stdio.err@N` target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_serves_stderr_with_its_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("errout.mvasm");
    std::fs::write(
        &path,
        ".name \"errout\"\n.entry main\n.text\nmain:\n    LDI   R1, 2\n    LDI32 R2, msg\n    \
         LDI   R3, 5\n    SVC   4, 2\n    LDI   R0, 0\n    RET\n.data\nmsg:\n    .ascii \"oops\\n\"\n",
    )
    .expect("write");
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load_path(&mut c, path.to_str().expect("utf-8 path")).await;
    run_to_end(&mut c, 200).await;
    let (text, msgs) = listen_all(&mut c, Some(pid)).await;
    assert_eq!(text, "oops\n");
    assert_eq!(msgs[0]["target"], format!("svc:stdio.err@{pid}"));
    assert_eq!(msgs[0]["stream"], "stderr");
    s.stop().await;
}

/// `shell_client` `dmesg` prints `seq`, `ts`, `level`, `message`, `clock_steps`, `pid` and
/// the other fields; the ring records loads, exits, pauses/resumes and kills.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dmesg_records_the_task_lifecycle() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let hello = load(&mut c, "hello.mvasm").await;
    let lp = load(&mut c, "loop.mvasm").await;
    ok(&c.rpc(json!({"cmd": "pause", "pid": lp})).await);
    run_to_end_except(&mut c, lp).await;
    ok(&c.rpc(json!({"cmd": "resume", "pid": lp})).await);
    ok(&c.rpc(json!({"cmd": "kill", "pid": lp})).await);
    let r = c.rpc(json!({"cmd": "dmesg"})).await;
    let logs = ok(&r)["logs"].as_array().cloned().expect("logs");
    for e in &logs {
        for key in ["seq", "ts", "level", "message"] {
            assert!(!e[key].is_null(), "{key} missing in {e}");
        }
    }
    let loaded = messages_of(&logs, "task loaded");
    assert_eq!(loaded.len(), 2, "{logs:?}");
    assert_eq!(loaded[0]["pid"], hello);
    assert_eq!(loaded[0]["level"], "info");
    assert!(
        loaded[0]["program"]
            .as_str()
            .is_some_and(|p| p.ends_with("hello.mvasm"))
    );
    assert_eq!(loaded[0]["app_name"], "hello");
    assert!(loaded[0]["clock_steps"].is_u64());
    let returned = messages_of(&logs, "task returned");
    assert_eq!(returned.len(), 1);
    assert_eq!(returned[0]["pid"], hello);
    assert_eq!(returned[0]["details"]["exit_status"], 0);
    let states: Vec<&str> = messages_of(&logs, "task state")
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert_eq!(states, ["user_pause", "resume"]);
    let killed = messages_of(&logs, "task killed");
    assert_eq!(killed.len(), 1);
    assert_eq!(killed[0]["pid"], lp);
    assert_eq!(killed[0]["new_state"], "terminated");
    // `limit` keeps the newest.
    let r = c.rpc(json!({"cmd": "dmesg", "limit": 1})).await;
    assert_eq!(ok(&r)["logs"][0]["message"], "task killed");
    s.stop().await;
}

/// Steps until every task but `skip` has ended.
async fn run_to_end_except(c: &mut Client, skip: u64) {
    for _ in 0..200 {
        let ps = c.rpc(json!({"cmd": "ps"})).await;
        let tasks = ok(&ps)["tasks"]["tasks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if tasks
            .iter()
            .filter(|t| t["pid"] != skip)
            .all(|t| t["state"] == "returned")
        {
            return;
        }
        ok(&c.rpc(json!({"cmd": "step", "steps": 100})).await);
    }
    panic!("tasks did not finish");
}

/// Faults are logged as `vm error` with the fault's name and PC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dmesg_records_faults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("divzero.mvasm");
    std::fs::write(
        &path,
        ".entry main\n.text\nmain:\n    LDI R1, 1\n    LDI R2, 0\n    DIV R0, R1, R2\n    RET\n",
    )
    .expect("write");
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load_path(&mut c, path.to_str().expect("utf-8 path")).await;
    for _ in 0..20 {
        ok(&c.rpc(json!({"cmd": "step", "steps": 1})).await);
    }
    let r = c.rpc(json!({"cmd": "dmesg"})).await;
    let logs = ok(&r)["logs"].as_array().cloned().expect("logs");
    let faults = messages_of(&logs, "vm error");
    assert_eq!(faults.len(), 1, "{logs:?}");
    assert_eq!(faults[0]["pid"], pid);
    assert_eq!(faults[0]["level"], "error");
    assert_eq!(faults[0]["error"], "DIV_ZERO");
    assert_eq!(faults[0]["pc"], 8);
    s.stop().await;
}

/// hsxdbg's register cache reads `R0`..`R15` and `pc`/`sp`/`psw`; the shell and
/// blinkenlights read `regs`, `flags`, `running`, `steps` and `context`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dumpregs_fields_the_clients_read() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, "loop.mvasm").await;
    ok(&c.rpc(json!({"cmd": "step", "pid": pid, "steps": 3})).await);
    let r = c
        .rpc(json!({"cmd": "dumpregs", "pid": pid.to_string()}))
        .await;
    let regs = &ok(&r)["registers"];
    let list = regs["regs"].as_array().expect("regs");
    assert_eq!(list.len(), 16);
    for (i, v) in list.iter().enumerate() {
        assert_eq!(&regs[format!("R{i}")], v, "R{i}");
    }
    assert_eq!(regs["psw"], regs["flags"]);
    // protocol.md §7 step 20 (the shell prints the stack fields when present).
    for key in [
        "pc",
        "regs",
        "sp",
        "flags",
        "running",
        "steps",
        "context",
        "reg_base",
        "stack_base",
        "stack_limit",
        "stack_size",
        "sp_effective",
    ] {
        assert!(!regs[key].is_null(), "{key} missing: {regs}");
    }
    assert_eq!(regs["sp_effective"], regs["sp"]);
    for key in [
        "pid",
        "state",
        "priority",
        "accounted_steps",
        "reg_base",
        "stack_base",
    ] {
        assert!(!regs["context"][key].is_null(), "context.{key} missing");
    }
    s.stop().await;
}

/// The fields `ps`, `info`, `clock`, `step`, `mailbox_snapshot` and `send` readers use
/// (shell pretty-printers, blinkenlights' poll loop, `exec_smoke.py`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_loop_shapes() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, "consumer.mvasm").await;
    let ps = c.rpc(json!({"cmd": "ps"})).await;
    let block = &ok(&ps)["tasks"];
    assert!(block.get("current_pid").is_some());
    let t = &block["tasks"][0];
    for key in [
        "pid",
        "state",
        "priority",
        "quantum",
        "accounted_steps",
        "sleep_pending",
        "trace",
        "program",
    ] {
        assert!(!t[key].is_null(), "ps task.{key} missing: {t}");
    }
    assert!(t.get("exit_status").is_some());
    let info = c.rpc(json!({"cmd": "info", "pid": pid})).await;
    let info = &ok(&info)["info"];
    for key in [
        "loaded",
        "program",
        "running",
        "paused",
        "attached",
        "pc",
        "sleep_pending",
        "current_pid",
        "tasks",
        "clock",
        "auto",
    ] {
        assert!(info.get(key).is_some(), "info.{key} missing: {info}");
    }
    assert_eq!(info["selected_pid"], pid);
    let step = c
        .rpc(json!({"cmd": "clock", "op": "step", "steps": 4}))
        .await;
    let res = &ok(&step)["result"];
    for key in [
        "executed",
        "running",
        "paused",
        "steps",
        "current_pid",
        "sleep_pending",
    ] {
        assert!(res.get(key).is_some(), "result.{key} missing: {res}");
    }
    assert_eq!(res["executed"], 4);
    assert_eq!(step["clock"]["manual_total_steps"], 4);
    // With a current task, `info` names its program and context.
    let info = c.rpc(json!({"cmd": "info"})).await;
    assert!(
        info["info"]["program"]
            .as_str()
            .is_some_and(|p| p.ends_with("consumer.mvasm")),
        "{info}"
    );
    assert_eq!(info["info"]["active_context"]["pid"], pid);
    let mb = c.rpc(json!({"cmd": "mailbox_snapshot"})).await;
    let names: Vec<&str> = ok(&mb)["descriptors"]
        .as_array()
        .expect("descriptors")
        .iter()
        .filter(|d| d["owner_pid"] == pid)
        .filter_map(|d| d["name"].as_str())
        .collect();
    for n in ["stdio.in", "stdio.out", "stdio.err"] {
        assert!(names.contains(&n), "{n} not in {names:?}");
    }
    for key in [
        "max_descriptors",
        "active_descriptors",
        "bytes_used",
        "handles_total",
    ] {
        assert!(mb["stats"][key].is_u64(), "stats.{key}");
    }
    let sent = c
        .rpc(json!({"cmd": "send", "pid": pid.to_string(), "data": "hi"}))
        .await;
    assert_eq!(ok(&sent)["mbx_status"], 0);
    assert_eq!(sent["length"], 2);
    assert_eq!(sent["target"], format!("svc:stdio.in@{pid}"));
    s.stop().await;
}

/// `shell_client` `stdio`: the `config` object per scope, with `{stream, mode_mask, mode}`
/// entries, and `mode`/`mode_mask`/`applied` after a change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_fanout_query_and_set() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, "consumer.mvasm").await;
    let r = c.rpc(json!({"cmd": "stdio_fanout"})).await;
    let cfg = &ok(&r)["config"];
    assert_eq!(cfg["scope"], "all");
    assert_eq!(cfg["default"].as_array().map(Vec::len), Some(3));
    assert_eq!(cfg["tasks"][0]["pid"], pid);
    assert_eq!(
        cfg["tasks"][0]["streams"][1],
        json!({"stream": "out", "mode_mask": 3, "mode": "off"})
    );
    let r = c
        .rpc(json!({"cmd": "stdio_fanout", "pid": "default"}))
        .await;
    assert_eq!(ok(&r)["config"]["scope"], "default");
    assert_eq!(r["config"]["streams"].as_array().map(Vec::len), Some(3));
    // One task's stdout to fan-out (drop).
    let r = c
        .rpc(json!({"cmd": "stdio_fanout", "pid": pid, "stream": "out", "mode": "drop"}))
        .await;
    let cfg = &ok(&r)["config"];
    assert_eq!(cfg["scope"], "pid");
    assert_eq!(cfg["pid"], pid);
    assert_eq!(cfg["mode"], "drop");
    assert_eq!(cfg["mode_mask"], 0x1B);
    assert_eq!(
        cfg["streams"],
        json!([{"stream": "out", "mode_mask": 0x1B, "mode": "fanout"}])
    );
    assert_eq!(cfg["applied"][0]["target"], format!("svc:stdio.out@{pid}"));
    let r = c.rpc(json!({"cmd": "list", "pid": pid})).await;
    let out = ok(&r)["channels"]["channels"]
        .as_array()
        .and_then(|chans| {
            chans
                .iter()
                .find(|ch| ch["target"] == format!("svc:stdio.out@{pid}"))
                .cloned()
        })
        .expect("stdout channel");
    assert_eq!(out["mode_mask"], 0x1B);
    // Template and every task: both streams blocking.
    let r = c
        .rpc(json!({"cmd": "stdio_fanout", "pid": "all", "stream": "both", "mode": "block"}))
        .await;
    let cfg = &ok(&r)["config"];
    assert_eq!(cfg["scope"], "all");
    assert_eq!(cfg["default"][0]["mode"], "fanout_block");
    assert_eq!(cfg["tasks"][0]["streams"][1]["mode_mask"], 0x2B);
    assert_eq!(cfg["applied"].as_array().map(Vec::len), Some(2));
    let r = c
        .rpc(json!({"cmd": "stdio_fanout", "pid": 99, "stream": "out"}))
        .await;
    assert_eq!(common::err(&r), "stdio query failed: unknown pid 99");
    s.stop().await;
}

/// One long manual `step` of a task that writes 10,000 one-byte chunks: every byte reaches
/// `listen` (the executive's event queue would otherwise drop the oldest output).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_step_loses_no_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("chatty.mvasm");
    std::fs::write(
        &path,
        ".name \"chatty\"\n.entry main\n.text\nmain:\n    LDI32 R6, 10000\n    LDI   R7, 1\n\
         again:\n    LDI32 R1, msg\n    LDI   R2, 1\n    SVC   1, 1\n    SUB   R6, R6, R7\n    \
         JNZ   again\n    LDI   R0, 0\n    RET\n.data\nmsg:\n    .ascii \"x\"\n",
    )
    .expect("write");
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load_path(&mut c, path.to_str().expect("utf-8 path")).await;
    let r = c
        .rpc(json!({"cmd": "step", "pid": pid, "steps": 100_000}))
        .await;
    ok(&r);
    let ps = c.rpc(json!({"cmd": "ps"})).await;
    assert_eq!(ok(&ps)["tasks"]["tasks"][0]["state"], "returned");
    let (text, _) = listen_all(&mut c, Some(pid)).await;
    assert_eq!(text.len(), 10_000);
    assert!(text.bytes().all(|b| b == b'x'));
    s.stop().await;
}
