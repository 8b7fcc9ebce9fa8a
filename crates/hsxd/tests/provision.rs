//! `provision.*` over real TCP: streamed upload, early rejects, resends, staged replace
//! keeping persisted values, automatic rollback of a faulting update, the image store.

mod common;
use common::*;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hsx_exec::Backends;
use hsx_exec::persist::MemPersist;
use hsxd::store::DirStore;
use hsxd::{Daemon, EventBus, InstantClock, SystemTimeSource, TimeSource};
use serde_json::{Value, json};

fn asm(src: &str) -> Vec<u8> {
    hsx_asm::assemble_source("t.mvasm", src, &hsx_asm::AsmOptions::default())
        .expect("assemble")
        .hxe_bytes
}

/// App `app` with a persisted value (1,2) whose code spins with `tag` in R1, or faults.
fn app(tag: u32, fault: bool) -> Vec<u8> {
    let body = if fault {
        "    LDI R1, 0\n    DIV R0, R0, R1\n    RET\n".to_string()
    } else {
        format!("    LDI R1, {tag}\nspin:\n    JMP spin\n")
    };
    asm(&format!(
        ".name \"app\"\n.value {{\"group\":1,\"id\":2,\"name\":\"speed\",\"init\":1,\"persist_key\":7}}\n.entry main\n.text\nmain:\n{body}"
    ))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn server(store: Option<&std::path::Path>) -> TestServer {
    let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
    let bus = EventBus::new(time.clone());
    let backends = Backends::new(InstantClock(Instant::now())).with_persist(MemPersist::new());
    let daemon = Arc::new(Daemon::new(backends, bus.clone(), time));
    if let Some(dir) = store {
        daemon
            .prov()
            .set_store(Box::new(DirStore::open(dir).unwrap().0));
    }
    hsxd::clock::spawn(&daemon);
    TestServer::start_daemon(daemon, bus).await
}

/// Streams `bytes` in `chunk`-byte pieces; returns the `provision.end` reply.
async fn push(c: &mut Client, bytes: &[u8], chunk: usize, extra: Value) -> Value {
    let mut begin = json!({"cmd": "provision.begin", "total_bytes": bytes.len(), "label": "t"});
    if let (Value::Object(b), Value::Object(e)) = (&mut begin, &extra) {
        b.extend(e.clone());
    }
    let r = c.rpc(begin).await;
    let pid = ok(&r)["provision"]["pid"].as_u64().unwrap();
    let mut off = 0;
    for part in bytes.chunks(chunk) {
        let r = c
            .rpc(json!({"cmd": "provision.write", "pid": pid, "data": hex(part), "offset": off, "crc32": crc32fast::hash(part)}))
            .await;
        off += part.len();
        assert_eq!(ok(&r)["provision"]["bytes_written"], off, "{r}");
    }
    let mut end = json!({"cmd": "provision.end", "pid": pid});
    if let (Value::Object(b), Value::Object(e)) = (&mut end, &extra) {
        for k in ["activate", "grace_ms"] {
            if let Some(v) = e.get(k) {
                b.insert(k.into(), v.clone());
            }
        }
    }
    c.rpc(end).await
}

async fn value_of(c: &mut Client, pid: u64) -> f64 {
    let r = c
        .rpc(json!({"cmd": "val.get", "oid": 258, "pid": pid}))
        .await;
    ok(&r)["value"]["value"].as_f64().unwrap_or(f64::NAN)
}

async fn wait_for<F: Fn(&Value) -> bool>(c: &mut Client, req: Value, f: F) -> Value {
    let start = Instant::now();
    loop {
        let r = c.rpc(req.clone()).await;
        if f(&r) {
            return r;
        }
        if start.elapsed() > TIMEOUT {
            let clock = c.rpc(json!({"cmd": "clock"})).await;
            panic!("gave up waiting: {r}\nclock: {clock}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_upload_runs_and_reports_progress() {
    let s = server(None).await;
    let mut ev = s.client().await;
    let sid = open_session(&s, json!({"capabilities": {"features": ["events"]}})).await;
    let r = ev
        .rpc(json!({"cmd": "events.subscribe", "session": sid, "filters": {"categories": ["provisioning"]}}))
        .await;
    ok(&r);
    let mut c = s.client().await;
    let bytes = app(1, false);
    let r = push(&mut c, &bytes, 17, json!({})).await;
    let p = &ok(&r)["provision"];
    assert_eq!(p["phase"], "running", "{r}");
    assert_eq!(p["app_name"], "app");
    let pid = p["pid"].as_u64().unwrap();
    let ps = c.rpc(json!({"cmd": "ps"})).await;
    assert!(ps.to_string().contains("\"app\""), "{ps}");
    let mut seen = Vec::new();
    while !seen.contains(&"provisioning.complete".to_string()) {
        let e = tokio::time::timeout(TIMEOUT, ev.recv()).await.unwrap();
        assert_eq!(e["pid"], pid, "{e}");
        seen.push(e["type"].as_str().unwrap_or("").to_string());
    }
    assert_eq!(seen[0], "provisioning.started");
    assert!(seen.iter().any(|t| t == "provisioning.progress"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_rejects_resends_and_abort() {
    let s = server(None).await;
    let mut c = s.client().await;
    let mut bad = app(1, false);
    bad[0] = b'X';
    let r = c
        .rpc(json!({"cmd": "provision.begin", "total_bytes": bad.len()}))
        .await;
    let pid = ok(&r)["provision"]["pid"].as_u64().unwrap();
    let r = c
        .rpc(json!({"cmd": "provision.write", "pid": pid, "data": hex(&bad[..96])}))
        .await;
    assert!(err(&r).starts_with("EBADMSG:"), "{r}");
    assert!(
        !err(&r).contains("0x58"),
        "no image bytes in the error: {r}"
    );
    let st = c.rpc(json!({"cmd": "provision.status", "pid": pid})).await;
    assert_eq!(
        ok(&st)["provision"]["sessions"][0]["state"],
        "FAILED",
        "{st}"
    );
    let r = c
        .rpc(json!({"cmd": "provision.write", "pid": pid, "data": "00"}))
        .await;
    assert!(err(&r).starts_with("EBUSY:"), "{r}");
    ok(&c.rpc(json!({"cmd": "provision.abort", "pid": pid})).await);
    let r = c.rpc(json!({"cmd": "provision.abort", "pid": pid})).await;
    assert!(err(&r).starts_with("ESRCH:"), "{r}");

    // A chunk whose CRC does not match is refused, the session goes on; a resend of the
    // last chunk (its reply was lost) is acknowledged once.
    let good = app(1, false);
    let r = c
        .rpc(json!({"cmd": "provision.begin", "total_bytes": good.len()}))
        .await;
    let pid = ok(&r)["provision"]["pid"].as_u64().unwrap();
    let r = c
        .rpc(json!({"cmd": "provision.write", "pid": pid, "data": hex(&good[..40]), "crc32": 1}))
        .await;
    assert!(err(&r).contains("chunk CRC mismatch"), "{r}");
    for _ in 0..2 {
        let r = c
            .rpc(json!({"cmd": "provision.write", "pid": pid, "data": hex(&good[..40]), "offset": 0}))
            .await;
        assert_eq!(ok(&r)["provision"]["bytes_written"], 40, "{r}");
    }
    let r = c
        .rpc(
            json!({"cmd": "provision.write", "pid": pid, "data": hex(&good[50..60]), "offset": 50}),
        )
        .await;
    assert!(err(&r).starts_with("EINVAL:offset"), "{r}");
    let r = c
        .rpc(json!({"cmd": "provision.write", "pid": pid, "data": hex(&good[40..]), "offset": 40}))
        .await;
    ok(&r);
    let r = c.rpc(json!({"cmd": "provision.end", "pid": pid})).await;
    assert_eq!(ok(&r)["provision"]["phase"], "running", "{r}");

    // Nothing is left behind.
    let st = c.rpc(json!({"cmd": "provision.status"})).await;
    assert_eq!(ok(&st)["provision"]["sessions"], json!([]), "{st}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staged_replace_keeps_values_and_a_faulting_update_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(Some(dir.path())).await;
    let mut c = s.client().await;
    let r = push(&mut c, &app(1, false), 64, json!({})).await;
    let v1 = ok(&r)["provision"]["pid"].as_u64().unwrap();
    ok(&c
        .rpc(json!({"cmd": "val.set", "oid": 258, "pid": v1, "value": 5}))
        .await);
    assert_eq!(value_of(&mut c, v1).await, 5.0);

    // Staged: nothing changes until activate.
    let r = push(
        &mut c,
        &app(2, false),
        64,
        json!({"replace": "app", "activate": false}),
    )
    .await;
    let v2 = ok(&r)["provision"]["pid"].as_u64().unwrap();
    assert_eq!(ok(&r)["provision"]["phase"], "ready", "{r}");
    assert_eq!(value_of(&mut c, v1).await, 5.0);
    let r = c
        .rpc(json!({"cmd": "provision.activate", "pid": v2, "grace_ms": 0}))
        .await;
    let p = &ok(&r)["provision"];
    assert_eq!(
        (p["pid"].as_u64(), p["replaced_pid"].as_u64()),
        (Some(v2), Some(v1)),
        "{r}"
    );
    assert_eq!(
        value_of(&mut c, v2).await,
        5.0,
        "the persisted value survives the update"
    );
    let st = c.rpc(json!({"cmd": "provision.status"})).await;
    let store = &ok(&st)["provision"]["store"][0];
    assert_eq!(
        (store["app"].as_str(), store["active"].as_str()),
        (Some("app"), Some("b")),
        "{st}"
    );

    // A faulting update within its grace period: the previous image comes back by itself.
    let r = push(
        &mut c,
        &app(3, true),
        64,
        json!({"replace": "app", "grace_ms": 60000}),
    )
    .await;
    let v3 = ok(&r)["provision"]["pid"].as_u64().unwrap();
    assert!(ok(&r)["provision"]["grace_until_ms"].is_u64(), "{r}");
    ok(&c.rpc(json!({"cmd": "clock", "op": "start"})).await);
    let ps = wait_for(&mut c, json!({"cmd": "ps"}), |ps| {
        ps["tasks"]["tasks"].as_array().is_some_and(|t| {
            t.iter()
                .any(|t| t["app_name"] == "app" && t["pid"].as_u64() > Some(v3))
        })
    })
    .await;
    let restored = ps["tasks"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["app_name"] == "app")
        .unwrap()["pid"]
        .as_u64()
        .unwrap();
    assert_eq!(value_of(&mut c, restored).await, 5.0);
    let st = c.rpc(json!({"cmd": "provision.status"})).await;
    assert_eq!(
        ok(&st)["provision"]["store"][0]["active"],
        "b",
        "store back on v2: {st}"
    );
    let log = c.rpc(json!({"cmd": "dmesg"})).await;
    assert!(log.to_string().contains("provisioning.rollback"), "{log}");

    // Manual rollback to the image before (v1, slot a).
    let r = c
        .rpc(json!({"cmd": "provision.rollback", "app": "app"}))
        .await;
    assert_eq!(ok(&r)["provision"]["old_pid"], restored, "{r}");
    let st = c.rpc(json!({"cmd": "provision.status"})).await;
    assert_eq!(ok(&st)["provision"]["store"][0]["active"], "a", "{st}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_from_file_and_persist_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.hxe");
    std::fs::write(&path, app(1, false)).unwrap();
    let s = server(None).await;
    let mut c = s.client().await;
    let r = c
        .rpc(json!({"cmd": "provision.load.from_file", "path": path.display().to_string()}))
        .await;
    let pid = ok(&r)["provision"]["pid"].as_u64().unwrap();
    let r = c.rpc(json!({"cmd": "provision.persist", "pid": pid})).await;
    assert!(err(&r).contains("--store"), "{r}");
    let r = c
        .rpc(json!({"cmd": "provision.begin", "total_bytes": 10_000_000}))
        .await;
    assert!(err(&r).starts_with("ENOSPC:"), "{r}");
    let r = c.rpc(json!({"cmd": "provision.begin"})).await;
    assert!(err(&r).contains("requires 'total_bytes'"), "{r}");
    s.stop().await;
}
