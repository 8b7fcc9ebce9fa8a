//! Sessions, PID locks, expiry and disconnect semantics over TCP.

mod common;

use std::sync::Arc;

use common::{TestServer, err, ok, open_session};
use hsxd::time::ManualTime;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_keepalive_current_list_close() {
    let s = TestServer::start().await;
    let r = s
        .one_shot(json!({
            "cmd": "session.open", "client": "conf",
            "capabilities": {"features": ["events", "stack", "bogus"], "max_events": 4096},
            "pid_lock": 7, "heartbeat_s": 400
        }))
        .await;
    let sess = &ok(&r)["session"];
    assert_eq!(sess["features"], json!(["events", "stack"]));
    assert_eq!(sess["max_events"], 2048);
    assert_eq!(sess["heartbeat_s"], 300);
    assert_eq!(sess["pid_lock"], 7);
    assert_eq!(sess["client"], "conf");
    assert_eq!(
        sess["warnings"],
        json!([
            "unsupported_feature:bogus",
            "max_events_clamped:2048",
            "heartbeat_clamped:300"
        ])
    );
    assert!(sess["created_at"].as_f64().unwrap_or(0.0) > 1.5e9);
    let id = sess["id"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 36);

    assert_eq!(
        s.one_shot(json!({"cmd": "session.keepalive", "session": id}))
            .await,
        json!({"version": 1, "status": "ok"})
    );
    let cur = s
        .one_shot(json!({"cmd": "session.current", "session": id}))
        .await;
    assert_eq!(ok(&cur)["session"]["pid_locks"], json!([7]));
    let obs = open_session(&s, json!({"client": "obs"})).await;
    let list = s.one_shot(json!({"cmd": "session.list"})).await;
    let ids: Vec<&str> = ok(&list)["sessions"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(ids, [id.as_str(), obs.as_str()]);
    assert!(list["sessions"][0]["age_s"].as_f64().is_some());

    assert_eq!(
        s.one_shot(json!({"cmd": "session.close", "session": id}))
            .await,
        json!({"version": 1, "status": "ok"})
    );
    assert_eq!(
        err(&s
            .one_shot(json!({"cmd": "session.close", "session": id}))
            .await),
        "session_required"
    );
    assert_eq!(
        err(&s.one_shot(json!({"cmd": "session.keepalive"})).await),
        "session_required"
    );
    assert_eq!(
        err(&s.one_shot(json!({"cmd": "ps", "session": id})).await),
        "session_required"
    );
    // The lock went with the session.
    let r = s.one_shot(json!({"cmd": "pause", "pid": 7})).await;
    assert_eq!(err(&r), "unknown pid 7");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_conflicts_owner_and_observer() {
    let s = TestServer::start().await;
    let owner = open_session(&s, json!({"client": "owner", "pid_lock": [3]})).await;
    // All-or-nothing: 4 is not taken when 3 conflicts.
    let r = s
        .one_shot(json!({"cmd": "session.open", "client": "x", "pid_lock": [4, 3]}))
        .await;
    assert_eq!(err(&r), "pid_locked:3");
    let other = open_session(&s, json!({"pid_lock": 4})).await;
    let obs = open_session(&s, json!({"client": "obs"})).await;
    for session in [Some(obs.as_str()), Some(other.as_str()), None] {
        for req in [
            json!({"cmd": "pause", "pid": 3}),
            json!({"cmd": "resume", "pid": "3"}),
            json!({"cmd": "kill", "pid": 3}),
            json!({"cmd": "step", "pid": 3}),
            json!({"cmd": "bp", "op": "set", "pid": 3, "addr": "0x28"}),
            json!({"cmd": "bp.remove", "pid": 3, "address": 40}),
            json!({"cmd": "watch", "op": "add", "pid": 3, "expr": "0x10"}),
            json!({"cmd": "poke", "pid": 3, "addr": 0, "data": "00"}),
            json!({"cmd": "send", "pid": 3, "data": "hi"}),
            json!({"cmd": "val.set", "pid": 3, "oid": "0x0101", "value": 1}),
            json!({"cmd": "reg.set", "pid": 3, "reg": "R1", "value": 1}),
        ] {
            let mut req = req;
            if let Some(sid) = session {
                req["session"] = sid.into();
            }
            let r = s.one_shot(req.clone()).await;
            assert_eq!(err(&r), "pid_locked:3", "{req}");
        }
    }
    // The owner gets past the lock (and then meets an executive that has no task 3).
    let r = s
        .one_shot(json!({"cmd": "pause", "pid": 3, "session": owner}))
        .await;
    assert_eq!(err(&r), "unknown pid 3", "{r}");
    // Reads and global commands are not lock-checked.
    for req in [
        json!({"cmd": "bp", "pid": 3}),
        json!({"cmd": "dumpregs", "pid": 3}),
    ] {
        let r = s.one_shot(req.clone()).await;
        assert_eq!(err(&r), "unknown pid 3", "{req} -> {r}");
    }
    let r = s.one_shot(json!({"cmd": "step"})).await;
    assert_eq!(r["status"], "ok", "{r}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_releases_locks_and_keepalive_prevents_it() {
    let time = Arc::new(ManualTime::new(1_700_000_000.0));
    let s = TestServer::start_with(time.clone(), 64).await;
    let idle = open_session(&s, json!({"pid_lock": 1, "heartbeat_s": 10})).await;
    let live = open_session(&s, json!({"pid_lock": 2, "heartbeat_s": 10})).await;
    for _ in 0..3 {
        time.advance(6.0);
        ok(&s
            .one_shot(json!({"cmd": "session.keepalive", "session": live}))
            .await);
    }
    time.advance(6.0);
    // 24 s without a request from `idle` (heartbeat 10): gone, lock released.
    let r = s.one_shot(json!({"cmd": "pause", "pid": 1})).await;
    assert_eq!(err(&r), "unknown pid 1", "{r}");
    assert_eq!(
        err(&s.one_shot(json!({"cmd": "ping", "session": idle})).await),
        "session_required"
    );
    assert_eq!(
        err(&s.one_shot(json!({"cmd": "pause", "pid": 2})).await),
        "pid_locked:2"
    );
    let logs = s
        .one_shot(json!({"cmd": "dmesg", "filter_session": idle}))
        .await;
    let reasons: Vec<&str> = ok(&logs)["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["timeout"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_does_not_close_a_session() {
    let s = TestServer::start().await;
    let mut c = s.client().await;
    let r = c.rpc(json!({"cmd": "session.open", "pid_lock": 9})).await;
    let id = ok(&r)["session"]["id"].as_str().expect("id").to_string();
    drop(c);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    ok(&s
        .one_shot(json!({"cmd": "session.keepalive", "session": id}))
        .await);
    assert_eq!(
        err(&s.one_shot(json!({"cmd": "kill", "pid": 9})).await),
        "pid_locked:9"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_closes_the_target_and_its_stream() {
    let s = TestServer::start().await;
    let target = open_session(
        &s,
        json!({"pid_lock": 6, "capabilities": {"features": ["events"]}}),
    )
    .await;
    let admin = open_session(&s, json!({})).await;
    let mut stream = s.client().await;
    let ack = stream
        .rpc(json!({"cmd": "events.subscribe", "session": target}))
        .await;
    ok(&ack);
    assert_eq!(
        err(&s
            .one_shot(json!({"cmd": "session.terminate", "session": admin}))
            .await),
        "session.terminate requires 'target'"
    );
    let r = s
        .one_shot(json!({"cmd": "session.terminate", "session": admin, "target": target}))
        .await;
    assert_eq!(
        ok(&r)["closed"],
        json!({"id": target, "reason": "admin_close"})
    );
    stream.expect_eof().await;
    let list = s.one_shot(json!({"cmd": "session.list"})).await;
    assert_eq!(ok(&list)["sessions"].as_array().map(Vec::len), Some(1));
    let r = s.one_shot(json!({"cmd": "pause", "pid": 6})).await;
    assert_eq!(err(&r), "unknown pid 6");
    assert_eq!(
        err(&s
            .one_shot(json!({"cmd": "session.terminate", "session": admin, "target": target}))
            .await),
        "session_not_found"
    );
    s.stop().await;
}
