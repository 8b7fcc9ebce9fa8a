//! Transport and envelope behaviour over real TCP.

mod common;

use std::time::Duration;

use common::{Client, TestServer, err, ok};
use hsxd::codec::MAX_LINE_BYTES;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_round_trip_exact() {
    let s = TestServer::start().await;
    let mut c = s.client().await;
    c.send_raw(b"{\"cmd\":\"ping\"}\n").await;
    assert_eq!(
        c.recv().await,
        json!({"version":1,"status":"ok","reply":"pong"})
    );
    // Case-insensitive name, version as numeric string.
    ok(&c.rpc(json!({"cmd": "PING", "version": "1"})).await);
    assert_eq!(
        err(&c.rpc(json!({"cmd": "ping", "version": 2})).await),
        "unsupported_version:2"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_lines_keep_the_connection_usable() {
    let s = TestServer::start().await;
    let mut c = s.client().await;
    c.send_raw(b"not json\n").await;
    assert_eq!(err(&c.reply().await), "invalid_json");
    c.send_raw(b"\n").await;
    assert_eq!(err(&c.reply().await), "invalid_json");
    c.send_raw(b"[1,2]\n").await;
    assert_eq!(err(&c.reply().await), "invalid_request:not_an_object");
    c.send_raw(b"{\"cmd\":\"ping\",\"version\":\"x\"}\n").await;
    assert_eq!(err(&c.reply().await), "invalid_request:version");
    c.send_raw(b"\xff\xfe{\n").await;
    assert_eq!(err(&c.reply().await), "invalid_json");
    c.send_raw(b"{\"cmd\":\"ping\"}\r\n").await;
    assert_eq!(ok(&c.reply().await)["reply"], "pong");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_command() {
    let s = TestServer::start().await;
    assert_eq!(
        err(&s.one_shot(json!({"cmd": "frobnicate"})).await),
        "unknown_cmd:frobnicate"
    );
    assert_eq!(err(&s.one_shot(json!({"nocmd": 1})).await), "unknown_cmd:");
    // Names the reference never had stay unknown; dotted design names are accepted.
    assert_eq!(
        err(&s.one_shot(json!({"cmd": "dbg"})).await),
        "unknown_cmd:dbg"
    );
    let r = s.one_shot(json!({"cmd": "stack.info", "pid": 1})).await;
    assert_eq!(err(&r), "unknown pid 1", "{r}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_line_then_ping_on_the_same_connection() {
    let s = TestServer::start().await;
    let mut c = s.client().await;
    let mut big = Vec::with_capacity(MAX_LINE_BYTES + 100);
    big.extend_from_slice(b"{\"cmd\":\"ping\",\"pad\":\"");
    big.resize(MAX_LINE_BYTES + 50, b'a');
    big.extend_from_slice(b"\"}\n");
    // Pipelined: the ping follows in the same write and must not wait for more input.
    big.extend_from_slice(b"{\"cmd\":\"ping\"}\n");
    c.send_raw(&big).await;
    assert_eq!(
        err(&c.reply().await),
        format!("line_too_long:max={MAX_LINE_BYTES}")
    );
    assert_eq!(ok(&c.reply().await)["reply"], "pong");
    // A line just under the limit is accepted.
    let mut fits = b"{\"cmd\":\"ping\",\"pad\":\"".to_vec();
    fits.resize(MAX_LINE_BYTES - 2, b'b');
    fits.extend_from_slice(b"\"}\n");
    c.send_raw(&fits).await;
    assert_eq!(ok(&c.reply().await)["reply"], "pong");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_types_get_typed_errors() {
    let s = TestServer::start().await;
    let mut c = s.client().await;
    assert_eq!(
        err(&c.rpc(json!({"cmd": "pause", "pid": "abc"})).await),
        "pid must be an integer, got \"abc\""
    );
    assert_eq!(
        err(&c.rpc(json!({"cmd": "pause", "pid": 1.5})).await),
        "pid must be an integer, got 1.5"
    );
    assert_eq!(
        err(&c.rpc(json!({"cmd": "pause", "pid": -1})).await),
        "pid out of range: -1"
    );
    assert_eq!(
        err(&c.rpc(json!({"cmd": "pause"})).await),
        "pause requires 'pid'"
    );
    assert_eq!(
        err(&c.rpc(json!({"cmd": "peek", "pid": 1, "addr": [1]})).await),
        "addr must be an integer, got [1]"
    );
    assert_eq!(
        err(&c
            .rpc(json!({"cmd": "poke", "pid": 1, "addr": 0, "data": 5}))
            .await),
        "poke requires 'data' hex string"
    );
    assert_eq!(
        err(&c
            .rpc(json!({"cmd": "clock", "op": "rate", "rate": "fast"}))
            .await),
        "clock rate expects numeric value, got 'fast'"
    );
    assert_eq!(
        err(&c
            .rpc(json!({"cmd": "session.open", "heartbeat_s": "soon"}))
            .await),
        "heartbeat_s must be an integer when provided"
    );
    assert_eq!(
        err(&c
            .rpc(json!({"cmd": "session.open", "pid_lock": ["x"]}))
            .await),
        "pid_lock must be an integer or sequence of integers"
    );
    assert_eq!(
        err(&c
            .rpc(json!({"cmd": "session.open", "capabilities": {"features": "events"}}))
            .await),
        "capabilities.features must be a list when provided"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_forms_decimal_and_hex_strings() {
    let s = TestServer::start().await;
    let mut c = s.client().await;
    for pid in [
        json!(2),
        json!("2"),
        json!("0x2"),
        json!(" 0X02 "),
        json!(2.0),
        json!("0b10"),
    ] {
        let r = c.rpc(json!({"cmd": "info", "pid": pid})).await;
        assert_eq!(
            ok(&r)["info"]["selected_error"],
            "unknown pid 2",
            "pid {pid}"
        );
    }
    // Lock PID 0x28 = 40 through a hex pid_lock; every spelling of 40 is then locked.
    let r = c
        .rpc(json!({"cmd": "session.open", "pid_lock": "0x28"}))
        .await;
    assert_eq!(ok(&r)["session"]["pid_lock"], 40);
    for pid in [json!(40), json!("40"), json!("0x28"), json!(40.0)] {
        let r = c
            .rpc(json!({"cmd": "bp.add", "pid": pid, "address": "0x10"}))
            .await;
        assert_eq!(err(&r), "pid_locked:40");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_are_answered_in_order() {
    let s = TestServer::start().await;
    let mut c = s.client().await;
    c.send_raw(b"{\"cmd\":\"ping\"}\n{\"cmd\":\"ps\"}\nnope\n{\"cmd\":\"clock\"}\n")
        .await;
    assert_eq!(ok(&c.reply().await)["reply"], "pong");
    assert_eq!(
        ok(&c.reply().await)["tasks"],
        json!({"tasks": [], "current_pid": null})
    );
    assert_eq!(err(&c.reply().await), "invalid_json");
    assert_eq!(ok(&c.reply().await)["clock"]["state"], "stopped");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_per_connection() {
    let s = TestServer::start().await;
    for i in 0..300 {
        let req = if i % 3 == 0 {
            json!({"cmd": "ps"})
        } else {
            json!({"cmd": "ping"})
        };
        let r = s.one_shot(req).await;
        ok(&r);
    }
    // The server still serves persistent connections afterwards.
    let mut c = s.client().await;
    ok(&c.rpc(json!({"cmd": "ping"})).await);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients() {
    let s = TestServer::start().await;
    let addr = s.addr;
    let mut tasks = Vec::new();
    for i in 0..32u32 {
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await;
            let mut oks = 0;
            for j in 0..50u32 {
                let req = match (i + j) % 3 {
                    0 => json!({"cmd": "ping"}),
                    1 => json!({"cmd": "ps"}),
                    _ => json!({"cmd": "info", "pid": i}),
                };
                let r = c.rpc(req).await;
                if r["status"] == "ok" {
                    oks += 1;
                }
            }
            oks
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("client task");
    }
    assert_eq!(total, 32 * 50);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_replies_then_refuses_connections() {
    let s = TestServer::start().await;
    let mut c = s.client().await;
    let mut idle = s.client().await;
    assert_eq!(
        c.rpc(json!({"cmd": "shutdown"})).await,
        json!({"version": 1, "status": "ok"})
    );
    idle.expect_eof().await;
    let _ = tokio::time::timeout(common::TIMEOUT, s.task).await;
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(s.addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "server still accepting after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_exec_drops_sessions_and_connections_but_keeps_serving() {
    let s = TestServer::start().await;
    let sid = common::open_session(&s, json!({"pid_lock": 5})).await;
    let mut c = s.client().await;
    let r = c.rpc(json!({"cmd": "restart", "targets": ["exec"]})).await;
    assert_eq!(ok(&r)["restart"], json!({"exec": "scheduled"}));
    c.expect_eof().await;
    // Give the reset a moment to land, then the port answers again with no sessions.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let r = s.one_shot(json!({"cmd": "session.list"})).await;
    assert_eq!(ok(&r)["sessions"], json!([]));
    let r = s.one_shot(json!({"cmd": "ping", "session": sid})).await;
    assert_eq!(err(&r), "session_required");
    let r = s.one_shot(json!({"cmd": "pause", "pid": 5})).await;
    assert_eq!(err(&r), "unknown pid 5");
    s.stop().await;
}
