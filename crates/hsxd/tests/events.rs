//! Event streaming over TCP: subscribe/ack/unsubscribe, filters, replay, RPC on the
//! stream socket, back-pressure under a flood.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestServer, err, is_event, ok, open_session};
use hsxd::Event;
use hsxd::time::SystemTimeSource;
use serde_json::{Value, json};

fn trace_step(pid: u32, n: u64) -> Event {
    Event::new("trace_step", Some(pid), json!({"pc": n * 4, "steps": n}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_ack_shape_replay_and_filters() {
    let s = TestServer::start().await;
    s.bus.publish(Event::new(
        "task_state",
        Some(1),
        json!({"prev_state": null, "new_state": "running", "reason": "loaded"}),
    ));
    s.bus.publish(Event::new(
        "task_state",
        Some(2),
        json!({"new_state": "running", "reason": "loaded"}),
    ));
    let sid = open_session(
        &s,
        json!({"capabilities": {"features": ["events"], "max_events": 64}}),
    )
    .await;
    let mut v = s.client().await;
    let ack = v
        .rpc(json!({"cmd": "events.subscribe", "session": sid, "filters": {"pid": [1], "since_seq": 0}}))
        .await;
    let e = &ok(&ack)["events"];
    assert!(
        e["token"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("{sid}:"))
    );
    assert_eq!(e["max"], 64);
    assert_eq!(e["cursor"], 2);
    assert_eq!(e["retention_ms"], 5000);
    assert_eq!(e["since_seq"], 0);
    assert_eq!(e["drops"], 0);
    // Replay: only PID 1's event.
    let first = v.recv().await;
    assert!(is_event(&first));
    assert_eq!(first["type"], "task_state");
    assert_eq!(first["pid"], 1);
    assert_eq!(first["seq"], 1);
    assert_eq!(first["data"]["reason"], "loaded");
    assert!(first["ts"].as_f64().is_some());
    // Live: PID 2 and pid:null are filtered out; PID 1 arrives with a higher seq.
    s.bus.publish(trace_step(2, 1));
    s.bus
        .publish(Event::new("scheduler", None, json!({"state": "switch"})));
    s.bus.publish(trace_step(1, 2));
    let live = v.recv().await;
    assert_eq!(
        (
            live["type"].clone(),
            live["pid"].clone(),
            live["seq"].clone()
        ),
        (json!("trace_step"), json!(1), json!(5))
    );
    // Ack from another connection (ExecutiveSession style).
    let a = s
        .one_shot(json!({"cmd": "events.ack", "session": sid, "seq": 5}))
        .await;
    assert_eq!(
        ok(&a)["events"],
        json!({"pending": 0, "high_water": 2, "drops": 0, "last_ack": 5})
    );
    // Category filters: exact names and groups; unknown names are refused.
    let r = s
        .one_shot(json!({"cmd": "events.subscribe", "session": sid, "filters": {"categories": ["debug_break", "mailbox"]}}))
        .await;
    ok(&r);
    // That subscribe replaced V's subscription: V is closed.
    v.expect_eof().await;
    let r = s
        .one_shot(json!({"cmd": "events.subscribe", "session": sid, "filters": {"categories": ["bogus"]}}))
        .await;
    assert_eq!(err(&r), "unsupported_category:bogus");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_errors() {
    let time = Arc::new(SystemTimeSource::new());
    let s = TestServer::start_with(time, 8).await;
    assert_eq!(
        err(&s.one_shot(json!({"cmd": "events.subscribe"})).await),
        "session_required"
    );
    assert_eq!(
        err(&s
            .one_shot(json!({"cmd": "events.subscribe", "session": "nope"}))
            .await),
        "session_required"
    );
    let sid = open_session(&s, json!({})).await;
    assert_eq!(
        err(&s
            .one_shot(json!({"cmd": "events.ack", "session": sid, "seq": 1}))
            .await),
        "session_required"
    );
    let bad = [
        (
            json!({"pid": ["x"]}),
            "filters.pid must contain integer PIDs",
        ),
        (
            json!({"since_seq": "x"}),
            "filters.since_seq must be an integer when provided",
        ),
        (
            json!({"since_seq": -1}),
            "filters.since_seq must be non-negative",
        ),
    ];
    for (filters, want) in bad {
        let r = s
            .one_shot(json!({"cmd": "events.subscribe", "session": sid, "filters": filters}))
            .await;
        assert_eq!(err(&r), want);
    }
    // History of 8: after 20 events, replay from 0 is no longer possible.
    for n in 0..20 {
        s.bus.publish(trace_step(1, n));
    }
    let r = s
        .one_shot(json!({"cmd": "events.subscribe", "session": sid, "filters": {"since_seq": 0}}))
        .await;
    assert_eq!(err(&r), "seq_evicted");
    let r = s
        .one_shot(
            json!({"cmd": "events.subscribe", "session": sid, "filters": {"since_seq": "0xC"}}),
        )
        .await;
    assert_eq!(ok(&r)["events"]["pending"], 8);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_and_events_share_one_socket() {
    let s = TestServer::start().await;
    let sid = open_session(&s, json!({"capabilities": {"features": ["events"]}})).await;
    let mut p = s.client().await;
    ok(&p.rpc(json!({"cmd": "events.subscribe", "session": sid, "filters": {"categories": ["debug_break"]}})).await);
    s.bus.publish(Event::new(
        "debug_break",
        Some(1),
        json!({"pc": 40, "phase": "post", "reason": "breakpoint"}),
    ));
    let r = p.rpc(json!({"cmd": "ping"})).await;
    assert_eq!(ok(&r)["reply"], "pong");
    // Either before or after the reply, the event arrived on the same socket.
    if p.events.is_empty() {
        let ev = p.recv().await;
        p.events.push(ev);
    }
    assert_eq!(p.events[0]["data"]["pc"], 40);
    let seq = p.events[0]["seq"].as_u64().expect("seq");
    let a = p
        .rpc(json!({"cmd": "events.ack", "session": sid, "seq": seq}))
        .await;
    assert_eq!(ok(&a)["events"]["last_ack"], seq);
    // Unsubscribing on the same socket keeps it open for RPC.
    let u = p
        .rpc(json!({"cmd": "events.unsubscribe", "session": sid}))
        .await;
    assert_eq!(ok(&u)["unsubscribed"], true);
    s.bus
        .publish(Event::new("debug_break", Some(1), json!({"pc": 44})));
    ok(&p.rpc(json!({"cmd": "ps"})).await);
    let u = p
        .rpc(json!({"cmd": "events.unsubscribe", "session": sid}))
        .await;
    assert_eq!(ok(&u)["unsubscribed"], false);
    assert!(
        p.events.len() <= 1,
        "no events after unsubscribe: {:?}",
        p.events
    );
    // Closing the session from the same socket also keeps it open.
    ok(&p
        .rpc(json!({"cmd": "events.subscribe", "session": sid}))
        .await);
    ok(&p.rpc(json!({"cmd": "session.close", "session": sid})).await);
    ok(&p.rpc(json!({"cmd": "ping"})).await);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_subscriber_under_flood_gets_backpressure_and_rpc_still_works() {
    const FLOOD: u64 = 20_000;
    let s = TestServer::start().await;
    let sid = open_session(
        &s,
        json!({"capabilities": {"features": ["events"], "max_events": 16}}),
    )
    .await;
    let mut p = s.client().await;
    let ack = p
        .rpc(json!({"cmd": "events.subscribe", "session": sid}))
        .await;
    assert_eq!(ok(&ack)["events"]["max"], 16);
    let bus = s.bus.clone();
    let flood = tokio::task::spawn_blocking(move || {
        for n in 0..FLOOD {
            bus.publish(trace_step(1, n));
        }
    });
    // Mid-flood, RPCs on the subscribed socket and on a fresh one are answered.
    let mut pongs = 0;
    for _ in 0..20 {
        if p.rpc(json!({"cmd": "ping"})).await["reply"] == "pong" {
            pongs += 1;
        }
        if s.one_shot(json!({"cmd": "ping"})).await["reply"] == "pong" {
            pongs += 1;
        }
    }
    assert_eq!(pongs, 40);
    flood.await.expect("flood");
    // Drain what is still queued, then a final ping proves the socket is healthy.
    let r = p.rpc(json!({"cmd": "ping"})).await;
    assert_eq!(ok(&r)["reply"], "pong");
    while let Ok(v) = tokio::time::timeout(Duration::from_millis(300), p.recv()).await {
        p.events.push(v);
    }
    let warnings: Vec<&Value> = p.events.iter().filter(|e| e["type"] == "warning").collect();
    assert!(
        !warnings.is_empty(),
        "no backpressure warning in {} events",
        p.events.len()
    );
    for w in &warnings {
        assert_eq!(w["data"]["reason"], "backpressure");
        assert_eq!(w["pid"], Value::Null);
        assert!(
            w["data"]["subscription"]
                .as_str()
                .unwrap_or_default()
                .starts_with(&sid)
        );
    }
    // How many were written before being dropped depends on timing; some always are.
    let normal = p.events.len() - warnings.len();
    assert!(normal > 0, "no events delivered");
    // Seqs on the wire only go up.
    let seqs: Vec<u64> = p.events.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    // Pending never exceeds the ring: at most max_events unacked.
    let a = s
        .one_shot(json!({"cmd": "events.ack", "session": sid, "seq": 0}))
        .await;
    let m = &ok(&a)["events"];
    assert_eq!(m["pending"], 16);
    assert_eq!(m["high_water"], 16);
    assert!(m["drops"].as_u64().unwrap_or(0) >= FLOOD - 16);
    // Acking everything empties it.
    let last = *seqs.last().expect("some seq");
    let a = s
        .one_shot(json!({"cmd": "events.ack", "session": sid, "seq": last}))
        .await;
    assert_eq!(ok(&a)["events"]["pending"], 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narrow_subscriber_is_not_penalised_by_unrelated_events() {
    let s = TestServer::start().await;
    let sid = open_session(&s, json!({"capabilities": {"max_events": 4}})).await;
    let mut v = s.client().await;
    ok(&v.rpc(json!({"cmd": "events.subscribe", "session": sid, "filters": {"categories": ["debug_break"]}})).await);
    for n in 0..2000 {
        s.bus.publish(trace_step(1, n));
    }
    s.bus
        .publish(Event::new("debug_break", Some(1), json!({"pc": 8})));
    let ev = v.recv().await;
    assert_eq!(ev["type"], "debug_break");
    let a = s
        .one_shot(json!({"cmd": "events.ack", "session": sid, "seq": 0}))
        .await;
    assert_eq!(
        ok(&a)["events"],
        json!({"pending": 1, "high_water": 1, "drops": 0, "last_ack": 0})
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_closed_stream_keeps_receiving_until_its_session_ends() {
    let s = TestServer::start().await;
    let sid = open_session(&s, json!({})).await;
    let mut v = s.client().await;
    ok(&v
        .rpc(json!({"cmd": "events.subscribe", "session": sid}))
        .await);
    v.shutdown_write().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.bus
        .publish(Event::new("stdout", Some(1), json!({"text": "hello"})));
    let ev = v.recv().await;
    assert_eq!(ev["data"]["text"], "hello");
    ok(&s
        .one_shot(json!({"cmd": "session.close", "session": sid}))
        .await);
    v.expect_eof().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_does_not_block_publishing_or_shutdown() {
    let s = TestServer::start().await;
    let sid = open_session(&s, json!({"capabilities": {"max_events": 2048}})).await;
    let mut v = s.client().await;
    ok(&v
        .rpc(json!({"cmd": "events.subscribe", "session": sid}))
        .await);
    // Big events fill the socket buffers; the client never reads again.
    let pad = "x".repeat(4096);
    let bus = s.bus.clone();
    let publisher = tokio::task::spawn_blocking(move || {
        for n in 0..5000u32 {
            bus.publish(Event::new("stdout", Some(1), json!({"text": pad, "n": n})));
        }
    });
    tokio::time::timeout(common::TIMEOUT, publisher)
        .await
        .expect("publishing blocked")
        .expect("publisher");
    ok(&s.one_shot(json!({"cmd": "ping"})).await);
    let control = s.control.clone();
    control.shutdown();
    tokio::time::timeout(common::TIMEOUT, s.task)
        .await
        .expect("shutdown blocked by a stalled client")
        .expect("server task");
    drop(v);
}
