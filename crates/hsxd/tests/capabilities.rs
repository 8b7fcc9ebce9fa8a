//! Capabilities and the policy: observers are read-only (every mutating command is
//! refused with `permission_denied:<capability>`), grants per token, session ids bound to
//! their principal, `session.list`/`session.terminate` for non-admins, PID locks on
//! existing tasks only, and the caps on sessions, subscriptions and connections.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{Client, TIMEOUT, err, ok};
use hsxd::auth::Token;
use hsxd::policy::{Cap, Caps, Grant, Limits, Policy};
use hsxd::{Daemon, EventBus, Server, ServerControl, SystemTimeSource, TimeSource};
use serde_json::{Value, json};

const OBSERVER: &str = "observer-token-0123456789";
const CI: &str = "ci-token-0123456789abcdef";
const ADMIN: &str = "admin-token-0123456789abc";

const SPIN: &str = ".name \"spin\"\n.entry main\n.text\nmain:\n    JMP main\n";
const OTHER: &str = ".name \"other\"\n.entry main\n.text\nmain:\n    JMP main\n";

fn grant(name: &str, caps: &[Cap], apps: Option<&[&str]>) -> Grant {
    Grant {
        name: name.into(),
        caps: Caps::of(caps),
        apps: apps.map(|a| a.iter().map(|s| s.to_string()).collect()),
        req_caps: None,
    }
}

fn token(t: &str) -> Token {
    Token::new(t).expect("token")
}

fn token_policy() -> Policy {
    Policy::default()
        .with_token(token(OBSERVER), grant("viewer", &[Cap::Observe], None))
        .with_token(
            token(CI),
            Grant {
                req_caps: Some(0b1_0001),
                ..grant("ci", &[Cap::Observe, Cap::Load], Some(&["spin*"]))
            },
        )
        .with_token(token(ADMIN), Grant::full("admin"))
}

struct Srv {
    addr: std::net::SocketAddr,
    control: ServerControl,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
    spin: std::path::PathBuf,
    other: std::path::PathBuf,
}

impl Srv {
    async fn start(policy: Policy) -> Srv {
        let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
        let bus = EventBus::new(time.clone());
        let daemon = Arc::new(Daemon::in_memory(bus, time));
        let server = Server::bind("127.0.0.1:0", daemon)
            .await
            .expect("bind")
            .with_policy(policy);
        let addr = server.local_addr().expect("addr");
        let control = server.control();
        let task = tokio::spawn(server.run());
        let dir = tempfile::tempdir().expect("tempdir");
        let spin = dir.path().join("spin.mvasm");
        let other = dir.path().join("other.mvasm");
        std::fs::write(&spin, SPIN).expect("write");
        std::fs::write(&other, OTHER).expect("write");
        Srv {
            addr,
            control,
            task,
            _dir: dir,
            spin,
            other,
        }
    }

    /// A connection authenticated with `tok` (none for an anonymous one).
    async fn client(&self, tok: Option<&str>) -> Client {
        let mut c = Client::connect(self.addr).await;
        if let Some(t) = tok {
            let r = c.rpc(json!({"cmd": "auth", "token": t})).await;
            assert_eq!(ok(&r)["auth"], "ok");
        }
        c
    }

    async fn stop(self) {
        self.control.shutdown();
        let _ = tokio::time::timeout(TIMEOUT, self.task).await;
    }
}

async fn load(c: &mut Client, path: &Path) -> u64 {
    let r = c.rpc(json!({"cmd": "load", "path": path})).await;
    ok(&r)["image"]["pid"].as_u64().expect("pid")
}

async fn open(c: &mut Client, body: Value) -> Value {
    let mut req = body;
    req["cmd"] = "session.open".into();
    let r = c.rpc(req).await;
    ok(&r)["session"].clone()
}

/// Every mutating command of docs/protocol.md, with valid arguments, and the capability
/// it needs.
fn mutating(pid: u64, path: &Path) -> Vec<(Value, &'static str)> {
    vec![
        (json!({"cmd": "load", "path": path}), "load"),
        (json!({"cmd": "exec", "path": path}), "load"),
        (json!({"cmd": "reload", "pid": pid}), "load"),
        (json!({"cmd": "kill", "pid": pid}), "load"),
        (json!({"cmd": "restart", "targets": ["vm"]}), "admin"),
        (json!({"cmd": "restart", "targets": ["exec"]}), "admin"),
        (json!({"cmd": "shutdown"}), "admin"),
        (json!({"cmd": "detach"}), "admin"),
        (json!({"cmd": "record", "op": "start"}), "admin"),
        (json!({"cmd": "record.stop"}), "admin"),
        (json!({"cmd": "step_back", "pid": pid}), "admin"),
        (json!({"cmd": "reverse_continue", "pid": pid}), "admin"),
        (json!({"cmd": "travel", "to": 0}), "admin"),
        (json!({"cmd": "pause", "pid": pid}), "control"),
        (json!({"cmd": "resume", "pid": pid}), "control"),
        (json!({"cmd": "continue", "pid": pid}), "control"),
        (json!({"cmd": "step", "pid": pid, "steps": 1}), "control"),
        (json!({"cmd": "vm.step", "pid": pid}), "control"),
        (json!({"cmd": "step", "steps": 1}), "admin"),
        (json!({"cmd": "clock", "op": "start"}), "admin"),
        (json!({"cmd": "start_auto"}), "admin"),
        (json!({"cmd": "clock", "op": "stop"}), "admin"),
        (json!({"cmd": "stop_auto"}), "admin"),
        (json!({"cmd": "clock", "op": "rate", "rate": 5}), "admin"),
        (
            json!({"cmd": "clock", "op": "policy", "on_break": "all"}),
            "admin",
        ),
        (json!({"cmd": "clock", "op": "step", "steps": 3}), "admin"),
        (
            json!({"cmd": "clock", "op": "step", "steps": 3, "pid": pid}),
            "control",
        ),
        (
            json!({"cmd": "sched", "pid": pid, "priority": 1}),
            "control",
        ),
        (
            json!({"cmd": "poke", "pid": pid, "addr": 0x4000, "data": "00"}),
            "debug",
        ),
        (
            json!({"cmd": "mem.write", "pid": pid, "addr": 0x4000, "data": "00"}),
            "debug",
        ),
        (
            json!({"cmd": "reg.set", "pid": pid, "reg": "R1", "value": 1}),
            "debug",
        ),
        (
            json!({"cmd": "vm_reg_set", "pid": pid, "reg": 1, "value": 1}),
            "debug",
        ),
        (
            json!({"cmd": "bp", "op": "set", "pid": pid, "addr": 0}),
            "debug",
        ),
        (json!({"cmd": "bp.add", "pid": pid, "address": 0}), "debug"),
        (
            json!({"cmd": "bp.remove", "pid": pid, "address": 0}),
            "debug",
        ),
        (json!({"cmd": "bp", "op": "clear_all", "pid": pid}), "debug"),
        (
            json!({"cmd": "watch.add", "pid": pid, "expr": "0x4000"}),
            "debug",
        ),
        (json!({"cmd": "watch.remove", "pid": pid, "id": 1}), "debug"),
        (json!({"cmd": "trace", "pid": pid, "mode": "on"}), "debug"),
        (
            json!({"cmd": "trace", "op": "import", "pid": pid, "records": []}),
            "debug",
        ),
        (
            json!({"cmd": "trace", "op": "config", "changed_regs": "on"}),
            "admin",
        ),
        (
            json!({"cmd": "trace", "op": "config", "buffer_size": 16}),
            "admin",
        ),
        (
            json!({"cmd": "sym", "op": "load", "pid": pid, "path": path}),
            "debug",
        ),
        (json!({"cmd": "send", "pid": pid, "data": "hi"}), "control"),
        (
            json!({"cmd": "stdio_fanout", "stream": "out", "mode": "drop"}),
            "admin",
        ),
        (json!({"cmd": "val.set", "oid": 257, "value": 1}), "control"),
        (json!({"cmd": "cmd.call", "oid": 257}), "control"),
    ]
}

/// Read-only requests an observer keeps.
fn read_only(pid: u64) -> Vec<Value> {
    vec![
        json!({"cmd": "ping"}),
        json!({"cmd": "info", "pid": pid}),
        json!({"cmd": "attach"}),
        json!({"cmd": "ps"}),
        json!({"cmd": "dumpregs", "pid": pid}),
        json!({"cmd": "peek", "pid": pid, "addr": 0, "length": 4}),
        json!({"cmd": "reg.get", "pid": pid, "reg": "R0"}),
        json!({"cmd": "clock"}),
        json!({"cmd": "sched"}),
        json!({"cmd": "bp", "pid": pid}),
        json!({"cmd": "disasm", "pid": pid, "addr": 0, "count": 2}),
        json!({"cmd": "mailbox_snapshot"}),
        json!({"cmd": "dmesg"}),
        json!({"cmd": "val.list"}),
        json!({"cmd": "cmd.list"}),
        json!({"cmd": "session.list"}),
    ]
}

async fn assert_observer(c: &mut Client, pid: u64, path: &Path, session: Option<&str>) {
    assert_refused(c, pid, path, session).await;
    for mut req in read_only(pid) {
        if let Some(s) = session {
            req["session"] = s.into();
        }
        let r = c.rpc(req.clone()).await;
        assert_eq!(r["status"], "ok", "{req} -> {r}");
    }
}

/// Every mutating command is refused with the capability it lacks.
async fn assert_refused(c: &mut Client, pid: u64, path: &Path, session: Option<&str>) {
    for (mut req, cap) in mutating(pid, path) {
        if let Some(s) = session {
            req["session"] = s.into();
        }
        let r = c.rpc(req.clone()).await;
        assert_eq!(err(&r), format!("permission_denied:{cap}"), "{req}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observers_are_read_only() {
    let s = Srv::start(token_policy()).await;
    let mut admin = s.client(Some(ADMIN)).await;
    let pid = load(&mut admin, &s.spin).await;
    // A token that grants only observe: sessionless and with a session.
    let mut viewer = s.client(Some(OBSERVER)).await;
    assert_observer(&mut viewer, pid, &s.spin, None).await;
    let sess = open(&mut viewer, json!({"client": "viewer"})).await;
    assert_eq!(sess["caps"], json!(["observe"]));
    let id = sess["id"].as_str().expect("id").to_string();
    assert_observer(&mut viewer, pid, &s.spin, Some(&id)).await;
    // An admin session that asked only for observe is an observer too.
    let sess = open(&mut admin, json!({"caps": ["observe"]})).await;
    let id = sess["id"].as_str().expect("id").to_string();
    assert_observer(&mut admin, pid, &s.spin, Some(&id)).await;
    // The task is untouched, and the daemon still serves.
    let ps = admin.rpc(json!({"cmd": "ps"})).await;
    assert_eq!(ok(&ps)["tasks"]["tasks"][0]["pid"], json!(pid));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessionless_loopback_clients_follow_the_anonymous_grant() {
    // Default: everything, as before.
    let s = Srv::start(Policy::default()).await;
    let mut c = s.client(None).await;
    let pid = load(&mut c, &s.spin).await;
    ok(&c.rpc(json!({"cmd": "pause", "pid": pid})).await);
    s.stop().await;
    // A policy that makes anonymous clients observers.
    let s = Srv::start(Policy::default().with_anonymous(grant("anonymous", &[Cap::Observe], None)))
        .await;
    let mut c = s.client(None).await;
    let r = c.rpc(json!({"cmd": "load", "path": s.spin})).await;
    assert_eq!(err(&r), "permission_denied:load");
    assert_refused(&mut c, 1, &s.spin, None).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_follow_the_token_and_its_apps() {
    let s = Srv::start(token_policy()).await;
    let mut ci = s.client(Some(CI)).await;
    let sess = open(
        &mut ci,
        json!({"caps": ["observe", "load", "admin", "root"]}),
    )
    .await;
    assert_eq!(sess["caps"], json!(["observe", "load"]));
    assert_eq!(
        sess["warnings"],
        json!(["cap_denied:admin", "unsupported_cap:root"])
    );
    let pid = load(&mut ci, &s.spin).await;
    let r = ci.rpc(json!({"cmd": "load", "path": s.other})).await;
    assert_eq!(err(&r), "permission_denied:app:other");
    // The image asks for FRAM and CAN, which this token's grant does not include.
    let fram = s.spin.with_file_name("spin_fram.mvasm");
    std::fs::write(&fram, format!(".req_caps 0xC\n{SPIN}")).expect("write");
    let r = ci.rpc(json!({"cmd": "load", "path": fram})).await;
    assert_eq!(err(&r), "permission_denied:req_caps:fram,can");
    let ok_caps = s.spin.with_file_name("spin_uart.mvasm");
    std::fs::write(&ok_caps, format!(".req_caps 0x11\n{SPIN}")).expect("write");
    ok(&ci.rpc(json!({"cmd": "load", "path": ok_caps})).await);
    let r = ci.rpc(json!({"cmd": "pause", "pid": pid})).await;
    assert_eq!(err(&r), "permission_denied:control");
    // Another app's task is out of reach even for a capability the token has.
    let mut admin = s.client(Some(ADMIN)).await;
    let other = load(&mut admin, &s.other).await;
    let r = ci.rpc(json!({"cmd": "kill", "pid": other})).await;
    assert_eq!(err(&r), "permission_denied:app:other");
    ok(&ci.rpc(json!({"cmd": "kill", "pid": pid})).await);
    // `session.open` with the token authenticates too, with the same grant.
    let mut c = Client::connect(s.addr).await;
    let r = c
        .rpc(json!({"cmd": "session.open", "token": OBSERVER}))
        .await;
    assert_eq!(ok(&r)["session"]["caps"], json!(["observe"]));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_id_is_not_a_credential() {
    let s = Srv::start(token_policy()).await;
    let mut admin = s.client(Some(ADMIN)).await;
    let pid = load(&mut admin, &s.spin).await;
    let owner = open(&mut admin, json!({"pid_lock": pid})).await;
    let owner_id = owner["id"].as_str().expect("id").to_string();
    let mut viewer = s.client(Some(OBSERVER)).await;
    // Another principal presenting the owner's id gets nothing from it.
    let r = viewer
        .rpc(json!({"cmd": "poke", "pid": pid, "addr": 0x4000, "data": "00", "session": owner_id}))
        .await;
    assert_eq!(err(&r), "session_required");
    let r = viewer
        .rpc(json!({"cmd": "session.close", "session": owner_id}))
        .await;
    assert_eq!(err(&r), "session_required");
    // session.list hides other sessions' ids from non-admins.
    let mine = open(&mut viewer, json!({})).await;
    let mine_id = mine["id"].as_str().expect("id").to_string();
    let l = viewer
        .rpc(json!({"cmd": "session.list", "session": mine_id}))
        .await;
    let ids: Vec<Value> = ok(&l)["sessions"]
        .as_array()
        .map(|a| a.iter().map(|x| x["id"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![Value::Null, json!(mine_id)]);
    let l = admin.rpc(json!({"cmd": "session.list"})).await;
    assert_eq!(ok(&l)["sessions"][0]["id"], json!(owner_id));
    // Only the session itself or admin may terminate it.
    let r = viewer
        .rpc(json!({"cmd": "session.terminate", "session": mine_id, "target": owner_id}))
        .await;
    assert_eq!(err(&r), "permission_denied:admin");
    let r = viewer
        .rpc(json!({"cmd": "session.terminate", "session": mine_id, "target": "no-such"}))
        .await;
    assert_eq!(err(&r), "permission_denied:admin");
    // A non-admin cannot reserve PIDs that no task has.
    let mut ci = s.client(Some(CI)).await;
    let r = ci
        .rpc(json!({"cmd": "session.open", "pid_lock": [pid + 1, pid + 2]}))
        .await;
    assert_eq!(err(&r), format!("unknown pid {}", pid + 1));
    let r = admin
        .rpc(json!({"cmd": "session.terminate", "session": owner_id, "target": mine_id}))
        .await;
    assert_eq!(ok(&r)["closed"]["id"], json!(mine_id));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_bound_to_a_connection_stay_there() {
    let mut p = Policy::parse(r#"{"bind_sessions":"connection"}"#, Path::new(".")).expect("policy");
    p.limits = Limits::default();
    let s = Srv::start(p).await;
    let mut a = s.client(None).await;
    let sess = open(&mut a, json!({})).await;
    let id = sess["id"].as_str().expect("id").to_string();
    ok(&a
        .rpc(json!({"cmd": "session.keepalive", "session": id}))
        .await);
    let mut b = s.client(None).await;
    let r = b.rpc(json!({"cmd": "ps", "session": id})).await;
    assert_eq!(err(&r), "session_required");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_subscriptions_and_connections_are_capped() {
    let policy = Policy::parse(
        r#"{"limits":{"sessions_per_connection":2,"sessions_total":3,"connections":3,"subscribers":1}}"#,
        Path::new("."),
    )
    .expect("policy");
    let s = Srv::start(policy).await;
    let mut a = s.client(None).await;
    let first = open(&mut a, json!({})).await;
    open(&mut a, json!({})).await;
    let r = a.rpc(json!({"cmd": "session.open"})).await;
    assert_eq!(err(&r), "session_limit:connection");
    let mut b = s.client(None).await;
    let second = open(&mut b, json!({})).await;
    let r = b.rpc(json!({"cmd": "session.open"})).await;
    assert_eq!(err(&r), "session_limit:total");
    // One subscription in all: the second client's is refused, a replacement is not.
    let id_a = first["id"].as_str().expect("id").to_string();
    let id_b = second["id"].as_str().expect("id").to_string();
    ok(&a
        .rpc(json!({"cmd": "events.subscribe", "session": id_a}))
        .await);
    let r = b
        .rpc(json!({"cmd": "events.subscribe", "session": id_b}))
        .await;
    assert_eq!(err(&r), "subscriber_limit");
    // Closing a session frees its place.
    ok(&b
        .rpc(json!({"cmd": "session.close", "session": id_b}))
        .await);
    open(&mut b, json!({})).await;
    // Three connections are open (a, b, c); the fourth gets one line and is closed.
    let mut c = s.client(None).await;
    ok(&c.rpc(json!({"cmd": "ping"})).await);
    let mut d = Client::connect(s.addr).await;
    let line = d.recv().await;
    assert_eq!(line["error"], "connection_limit");
    d.expect_eof().await;
    drop(c);
    s.stop().await;
}
