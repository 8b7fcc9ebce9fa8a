//! Behaviour fixes found while documenting the daemon (docs/protocol.md) that concern
//! commands, each over TCP against a real executive: `ps` faults, `restart vm`, `reg.set`
//! locks, `sym` errors, and source-level `step`. The numbers are the fixes' own; the
//! others are in `fixes_events.rs`.

mod common;
mod fixes_support;

use common::{Client, TestServer, err, ok, open_session};
use fixes_support::{SPIN, load, write};
use serde_json::{Value, json};

// ------------------------------------------------------------------- 3. ps fault

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ps_shows_the_fault_of_a_faulted_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prog = write(
        dir.path(),
        "div0.mvasm",
        ".name \"div0\"\n.entry main\n.text\nmain:\n    LDI R1, 5\n    LDI R2, 0\n    DIV R3, R1, R2\n    LDI R0, 0\n    RET\n",
    );
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, &prog, None).await;
    let spin = write(dir.path(), "spin.mvasm", SPIN);
    let other = load(&mut c, &spin, None).await;
    ok(&c.rpc(json!({"cmd": "step", "pid": pid, "steps": 10})).await);
    let r = c.rpc(json!({"cmd": "ps"})).await;
    let tasks = ok(&r)["tasks"]["tasks"].as_array().expect("tasks").clone();
    let t = tasks.iter().find(|t| t["pid"] == pid).expect("task");
    assert_eq!(t["state"], "faulted", "{t}");
    assert_eq!(
        t["fault"],
        json!({"code": 0xFFFF_FF05u32, "name": "DIV_ZERO", "pc": 8}),
        "{t}"
    );
    assert!(t.get("exit_status").is_some(), "{t}");
    let healthy = tasks.iter().find(|t| t["pid"] == other).expect("task");
    assert!(healthy.get("fault").is_none(), "{healthy}");
    s.stop().await;
}

// ------------------------------------------------------------------- 5. restart vm

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_vm_resets_the_embedded_executive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spin = write(dir.path(), "spin.mvasm", SPIN);
    let s = TestServer::start_exec().await;
    let sid = open_session(&s, json!({"client": "keeper"})).await;
    let mut c = s.client().await;
    let first = load(&mut c, &spin, None).await;
    load(&mut c, &spin, None).await;
    ok(&c.rpc(json!({"cmd": "clock", "op": "start"})).await);

    let r = c.rpc(json!({"cmd": "restart", "targets": "vm"})).await;
    assert_eq!(ok(&r)["restart"], json!({"vm": "requested"}), "{r}");
    let ps = c.rpc(json!({"cmd": "ps"})).await;
    assert_eq!(ok(&ps)["tasks"], json!({"tasks": [], "current_pid": null}));
    let clock = c.rpc(json!({"cmd": "clock"})).await;
    assert_eq!(ok(&clock)["clock"]["state"], "stopped");
    // Sessions stay; PIDs keep counting.
    ok(&c
        .rpc(json!({"cmd": "session.current", "session": sid}))
        .await);
    let again = load(&mut c, &spin, None).await;
    assert!(again > first + 1, "{again}");
    let logs = c.rpc(json!({"cmd": "dmesg"})).await;
    let msgs: Vec<&str> = ok(&logs)["logs"]
        .as_array()
        .map(|l| l.iter().filter_map(|e| e["message"].as_str()).collect())
        .unwrap_or_default();
    assert!(msgs.contains(&"vm restarted"), "{msgs:?}");

    // The default targets (vm and exec).
    let r = s.one_shot(json!({"cmd": "restart"})).await;
    assert_eq!(
        ok(&r)["restart"],
        json!({"vm": "requested", "exec": "scheduled"}),
        "{r}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_claims_that_no_executive_is_attached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spin = write(dir.path(), "spin.mvasm", SPIN);
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, &spin, None).await;
    let reqs = [
        json!({"cmd": "info", "pid": pid}),
        json!({"cmd": "attach"}),
        json!({"cmd": "ps"}),
        json!({"cmd": "list", "pid": pid}),
        json!({"cmd": "pause", "pid": pid}),
        json!({"cmd": "resume", "pid": pid}),
        json!({"cmd": "step", "steps": 2}),
        json!({"cmd": "step", "pid": pid, "source": true}),
        json!({"cmd": "clock", "op": "rate", "rate": 0}),
        json!({"cmd": "clock", "op": "stop"}),
        json!({"cmd": "sched", "pid": pid, "quantum": 2}),
        json!({"cmd": "sched", "limit": 3}),
        json!({"cmd": "dumpregs", "pid": pid}),
        json!({"cmd": "peek", "pid": pid, "addr": 0}),
        json!({"cmd": "poke", "pid": pid, "addr": 0x8000, "data": "00"}),
        json!({"cmd": "reg.get", "reg": "R1"}),
        json!({"cmd": "reg.set", "pid": pid, "reg": "R1", "value": 1}),
        json!({"cmd": "bp", "pid": pid}),
        json!({"cmd": "stack", "pid": pid}),
        json!({"cmd": "disasm", "pid": pid}),
        json!({"cmd": "memory", "pid": pid}),
        json!({"cmd": "watch", "pid": pid}),
        json!({"cmd": "symbols", "pid": pid}),
        json!({"cmd": "sym", "pid": pid}),
        json!({"cmd": "trace", "op": "records", "pid": pid}),
        json!({"cmd": "mailbox_snapshot"}),
        json!({"cmd": "listen", "pid": pid}),
        json!({"cmd": "send", "pid": pid, "data": "x"}),
        json!({"cmd": "stdio_fanout", "pid": pid}),
        json!({"cmd": "val.list"}),
        json!({"cmd": "val.get", "oid": 1}),
        json!({"cmd": "val.stats"}),
        json!({"cmd": "cmd.list"}),
        json!({"cmd": "cmd.call", "oid": 1}),
        json!({"cmd": "cmd.stats"}),
        json!({"cmd": "reload", "pid": pid}),
        json!({"cmd": "restart", "targets": ["vm"]}),
        json!({"cmd": "detach"}),
    ];
    for req in reqs {
        let r = c.rpc(req.clone()).await;
        let text = r.to_string();
        assert!(!text.contains("no executive attached"), "{req} -> {r}");
        assert_eq!(r["status"], "ok", "{req} -> {r}");
    }
    s.stop().await;
}

// -------------------------------------------------------------- 8. reg.set lock check

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reg_set_without_pid_checks_the_current_tasks_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spin = write(dir.path(), "spin.mvasm", SPIN);
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, &spin, None).await;
    ok(&c.rpc(json!({"cmd": "step", "steps": 1})).await);
    let r = c.rpc(json!({"cmd": "reg.get", "reg": "R9"})).await;
    assert_eq!(ok(&r)["pid"], pid, "the task is current: {r}");
    let owner = open_session(&s, json!({"pid_lock": pid})).await;

    let r = c
        .rpc(json!({"cmd": "reg.set", "reg": "R9", "value": 77}))
        .await;
    assert_eq!(err(&r), format!("pid_locked:{pid}"));
    let r = c.rpc(json!({"cmd": "reg.get", "reg": "R9"})).await;
    assert_eq!(ok(&r)["value"], 0, "unchanged: {r}");

    let r = c
        .rpc(json!({"cmd": "reg.set", "reg": "R9", "value": 77, "session": owner}))
        .await;
    assert_eq!(
        (ok(&r)["pid"].clone(), r["value"].clone()),
        (json!(pid), json!(77))
    );
    s.stop().await;
}

// ------------------------------------------------------------ 9. sym on an unknown pid

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sym_on_an_unknown_pid_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spin = write(dir.path(), "spin.mvasm", SPIN);
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, &spin, None).await;
    for req in [
        json!({"cmd": "sym", "pid": 42}),
        json!({"cmd": "sym", "op": "info", "pid": 42}),
        json!({"cmd": "sym", "op": "lookup_name", "pid": 42, "name": "main"}),
        json!({"cmd": "sym", "op": "lookup_addr", "pid": 42, "address": 0}),
        json!({"cmd": "sym", "op": "lookup_line", "pid": 42, "address": 0}),
        json!({"cmd": "sym", "op": "load", "pid": 42, "path": "x.sym"}),
        json!({"cmd": "symbols", "pid": 42}),
    ] {
        assert_eq!(err(&c.rpc(req.clone()).await), "unknown pid 42", "{req}");
    }
    let r = c.rpc(json!({"cmd": "sym", "pid": pid})).await;
    assert_eq!(ok(&r)["symbols"]["loaded"], true, "{r}");
    s.stop().await;
}

// ------------------------------------------------------------- 12. source-level step

/// Lines of SPIN: `t.c:10` at 0 and 4, `:11` at 8, `:12` from 12 (up to the JMP at 20).
const SPIN_SYM: &str = r#"{"version": 1, "symbols": {"functions": [{"name": "main", "address": 0, "size": 24}]},
  "lines": [{"address": 0, "file": "t.c", "line": 10},
            {"address": 8, "file": "t.c", "line": 11},
            {"address": 12, "file": "t.c", "line": 12}]}"#;

async fn source_step(c: &mut Client, req: Value) -> Value {
    let r = c.rpc(req).await;
    ok(&r)["result"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_step_runs_to_the_next_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spin = write(dir.path(), "spin.mvasm", SPIN);
    let sym = write(dir.path(), "spin.sym", SPIN_SYM);
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, &spin, Some(&sym)).await;
    let step = json!({"cmd": "step", "pid": pid, "source_only": true});

    let r = source_step(&mut c, step.clone()).await;
    assert_eq!(
        (r["executed"].clone(), r["pc"].clone()),
        (json!(2), json!(8)),
        "{r}"
    );
    assert_eq!(
        r["source"],
        json!({"from": {"file": "t.c", "line": 10}, "to": {"file": "t.c", "line": 11},
               "lines": 1, "stop": "line"})
    );
    let r = source_step(&mut c, step.clone()).await;
    assert_eq!(
        (r["executed"].clone(), r["pc"].clone()),
        (json!(1), json!(12)),
        "{r}"
    );
    // Line 12 runs to the JMP and back to line 10.
    let r = source_step(&mut c, step.clone()).await;
    assert_eq!(
        (r["executed"].clone(), r["pc"].clone()),
        (json!(3), json!(0)),
        "{r}"
    );
    assert_eq!(r["current_pid"], pid);

    // `source` (the other spelling) and `steps` = lines.
    let r = source_step(
        &mut c,
        json!({"cmd": "step", "pid": pid, "source": true, "steps": 2}),
    )
    .await;
    assert_eq!(
        (r["executed"].clone(), r["pc"].clone()),
        (json!(3), json!(12)),
        "{r}"
    );
    assert_eq!(r["source"]["lines"], 2);

    // Arriving at a breakpoint ends the step there; from it, the next one steps over it.
    let r = source_step(&mut c, step.clone()).await;
    assert_eq!(r["pc"], 0, "{r}");
    ok(&c
        .rpc(json!({"cmd": "bp", "op": "set", "pid": pid, "addr": 4}))
        .await);
    let r = source_step(&mut c, step.clone()).await;
    assert_eq!(
        (r["executed"].clone(), r["pc"].clone()),
        (json!(1), json!(4)),
        "{r}"
    );
    assert_eq!(r["source"]["stop"], "breakpoint");
    let r = source_step(&mut c, step.clone()).await;
    assert_eq!(
        (r["executed"].clone(), r["pc"].clone()),
        (json!(1), json!(8)),
        "{r}"
    );
    assert_eq!(r["source"]["to"]["line"], 11);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_step_without_symbols_steps_one_instruction_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spin = write(dir.path(), "spin.mvasm", SPIN);
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = load(&mut c, &spin, Some("missing.sym")).await;
    let r = source_step(
        &mut c,
        json!({"cmd": "step", "pid": pid, "source_only": true}),
    )
    .await;
    assert_eq!(
        (r["executed"].clone(), r["pc"].clone()),
        (json!(1), json!(4)),
        "{r}"
    );
    let w = r["warnings"][0].as_str().unwrap_or_default();
    assert!(w.starts_with("source_step_unavailable:"), "{r}");
    assert!(r.get("source").is_none(), "{r}");
    s.stop().await;
}

/// A value and a command with a guest handler that returns 7.
const VALCMD: &str = r#"
.name "valcmd"
.value {"group":1,"id":1,"name":"t","init":1.0}
.cmd {"group":1,"id":1,"name":"seven","handler":"seven"}
.entry main
.text
main:
    JMP   main
seven:
    LDI   R0, 7
    RET
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_name_the_resolved_owner() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let path = write(dir.path(), "valcmd.mvasm", VALCMD);
    let r = c.rpc(json!({"cmd": "load", "path": path})).await;
    let pid = ok(&r)["image"]["pid"].clone();
    let r = c.rpc(json!({"cmd": "val.get", "oid": 0x0101})).await;
    assert_eq!(ok(&r)["value"]["pid"], pid, "{r}");
    let r = c
        .rpc(json!({"cmd": "val.set", "oid": 0x0101, "value": 2.0}))
        .await;
    assert_eq!(ok(&r)["value"]["pid"], pid, "{r}");
    // The guest handler runs and its R0 is the result.
    let r = c.rpc(json!({"cmd": "cmd.call", "oid": 0x0101})).await;
    assert_eq!(ok(&r)["command"]["pid"], pid, "{r}");
    assert_eq!(ok(&r)["command"]["result"], 7, "{r}");
    s.stop().await;
}
