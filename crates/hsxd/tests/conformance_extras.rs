//! The "optional extras" listed after the conformance sequence of protocol.md §7, each on a
//! fresh server running the conformance demo program.

mod common;
mod conformance_support;

use common::{Client, TestServer, ok};
use conformance_support::{BP_PC, as_pid, build, next_event};
use serde_json::{Value, json};

/// Loads the demo on a fresh server; returns the temp dir (kept alive), server and PID.
async fn setup() -> (tempfile::TempDir, TestServer, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = build(dir.path());
    let s = TestServer::start_exec().await;
    let r = s.one_shot(json!({"cmd": "load", "path": h})).await;
    let n = as_pid(&ok(&r)["image"]["pid"]);
    (dir, s, n)
}

/// The next event on `c` that satisfies `pred`, looking first at the events `c` set aside
/// while waiting for replies; within [`DEADLINE`].
async fn event_where(c: &mut Client, pred: impl Fn(&Value) -> bool) -> Value {
    if let Some(i) = c.events.iter().position(&pred) {
        return c.events.remove(i);
    }
    loop {
        let ev = next_event(c).await;
        if pred(&ev) {
            return ev;
        }
    }
}

/// Extra 1: `bp.add` with `address` (what hsxdbg sends for every VS Code breakpoint)
/// answers like `bp set`; `bp.list` and `bp.remove` go with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_bp_add_with_address_answers_like_bp_set() {
    let (_dir, s, n) = setup().await;
    let set = s
        .one_shot(json!({"cmd": "bp", "op": "set", "pid": n, "addr": "0x28"}))
        .await;
    assert_eq!(
        set,
        json!({"version": 1, "status": "ok", "pid": n, "breakpoints": [BP_PC]})
    );
    ok(&s
        .one_shot(json!({"cmd": "bp", "op": "clear_all", "pid": n}))
        .await);
    let add = s
        .one_shot(json!({"cmd": "bp.add", "pid": n, "address": "0x28"}))
        .await;
    assert_eq!(add, set);
    let list = s.one_shot(json!({"cmd": "bp.list", "pid": n})).await;
    assert_eq!(list, set);
    let removed = s
        .one_shot(json!({"cmd": "bp.remove", "pid": n, "address": BP_PC}))
        .await;
    assert_eq!(ok(&removed)["breakpoints"], json!([]));
    // The breakpoint set through `bp.add` is a real one: stepping stops on it.
    ok(&s
        .one_shot(json!({"cmd": "bp.add", "pid": n, "address": BP_PC}))
        .await);
    let r = s
        .one_shot(json!({"cmd": "step", "pid": n, "steps": 50}))
        .await;
    assert_eq!(ok(&r)["result"]["pc"], BP_PC, "{r}");
    assert_eq!(r["result"]["paused"], true, "{r}");
    s.stop().await;
}

/// Extra 2: after `events.subscribe` on the persistent connection P, requests on P are
/// still answered (`ping` → `pong`) while events keep arriving on P.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_subscribe_then_ping_on_the_same_socket() {
    let (_dir, s, n) = setup().await;
    ok(&s
        .one_shot(json!({"cmd": "trace", "pid": n, "mode": "on"}))
        .await);
    let r = s
        .one_shot(json!({"cmd": "session.open", "client": "hsxdbg",
            "capabilities": {"features": ["events"]}}))
        .await;
    let sid = ok(&r)["session"]["id"].as_str().expect("id").to_string();
    let mut p = s.client().await;
    let ack = p
        .rpc(json!({"cmd": "events.subscribe", "session": sid, "filters": {"pid": [n]}}))
        .await;
    assert!(ok(&ack)["events"]["token"].is_string(), "{ack}");

    ok(&s
        .one_shot(json!({"cmd": "step", "pid": n, "steps": 3}))
        .await);
    assert_eq!(
        p.rpc(json!({"cmd": "ping"})).await,
        json!({"version": 1, "status": "ok", "reply": "pong"})
    );
    let first = event_where(&mut p, |e| e["type"] == "trace_step").await;
    assert_eq!(first["pid"], n);

    // Still streaming after the RPC, and P still answers: a step sent on P itself.
    let r = p.rpc(json!({"cmd": "step", "pid": n, "steps": 2})).await;
    assert_eq!(ok(&r)["result"]["executed"], 2, "{r}");
    let first_seq = first["seq"].as_u64().expect("seq");
    let later = event_where(&mut p, |e| {
        e["type"] == "trace_step" && e["seq"].as_u64().is_some_and(|q| q > first_seq)
    })
    .await;
    assert_eq!(later["pid"], n);
    assert_eq!(
        p.rpc(json!({"cmd": "ping"})).await["reply"],
        "pong",
        "P answers again"
    );
    s.stop().await;
}

/// Extra 3: a subscriber filtered to `debug_break` that never acks (the shell's habit)
/// survives 2000 unrelated steps and gets the break. The reference counts `pending` in
/// global seq numbers and tears such a subscriber down (§4.6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_narrow_subscriber_survives_2000_unrelated_steps() {
    let (_dir, s, n) = setup().await;
    // Tracing makes every instruction an event the narrow subscriber does not want.
    ok(&s
        .one_shot(json!({"cmd": "trace", "pid": n, "mode": "on"}))
        .await);
    let r = s
        .one_shot(json!({"cmd": "session.open", "client": "hsx-shell",
            "capabilities": {"features": ["events"]}}))
        .await;
    let sess = &ok(&r)["session"];
    assert_eq!(sess["max_events"], 256, "the default queue: {sess}");
    let sid = sess["id"].as_str().expect("id").to_string();
    let mut w = s.client().await;
    ok(&w
        .rpc(json!({"cmd": "events.subscribe", "session": sid,
            "filters": {"categories": ["debug_break"]}}))
        .await);

    let mut p = s.client().await;
    let mut executed = 0;
    for _ in 0..2000 {
        let r = p.rpc(json!({"cmd": "step", "pid": n, "steps": 1})).await;
        executed += ok(&r)["result"]["executed"].as_u64().expect("executed");
    }
    assert_eq!(executed, 2000);

    ok(&p
        .rpc(json!({"cmd": "bp", "op": "set", "pid": n, "addr": BP_PC}))
        .await);
    let r = p.rpc(json!({"cmd": "step", "pid": n, "steps": 50})).await;
    assert_eq!(ok(&r)["result"]["paused"], true, "{r}");
    // The first line on the stream is the break: no warning, no teardown.
    let ev = next_event(&mut w).await;
    assert_eq!(
        (&ev["type"], &ev["pid"], &ev["data"]["pc"]),
        (&json!("debug_break"), &json!(n), &json!(BP_PC)),
        "{ev}"
    );
    let a = s
        .one_shot(json!({"cmd": "events.ack", "session": sid, "seq": 0}))
        .await;
    assert_eq!(ok(&a)["events"]["drops"], 0, "{a}");
    s.stop().await;
}
