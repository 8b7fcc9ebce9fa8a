//! Shared helpers for the integration tests: a server on 127.0.0.1:0 over a daemon with
//! an empty executive, and a line-oriented JSON client.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hsxd::events::HISTORY_CAPACITY;
use hsxd::{Daemon, EventBus, Server, ServerControl, SystemTimeSource, TimeSource};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::task::JoinHandle;

pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub addr: SocketAddr,
    pub control: ServerControl,
    pub bus: EventBus,
    pub daemon: Arc<Daemon>,
    pub task: JoinHandle<()>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(Arc::new(SystemTimeSource::new()), HISTORY_CAPACITY).await
    }

    /// A server on `time` with an event history of `history`; the auto clock is not
    /// started (the protocol-layer tests drive everything by hand).
    pub async fn start_with(time: Arc<dyn TimeSource>, history: usize) -> TestServer {
        let bus = EventBus::with_history(time.clone(), history);
        let daemon = Arc::new(Daemon::in_memory(bus.clone(), time));
        Self::start_daemon(daemon, bus).await
    }

    /// A server over a real executive with its auto clock running.
    pub async fn start_exec() -> TestServer {
        let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
        let bus = EventBus::with_history(time.clone(), HISTORY_CAPACITY);
        let daemon = Arc::new(Daemon::in_memory(bus.clone(), time));
        hsxd::clock::spawn(&daemon);
        Self::start_daemon(daemon, bus).await
    }

    pub async fn start_daemon(daemon: Arc<Daemon>, bus: EventBus) -> TestServer {
        let server = Server::bind("127.0.0.1:0", daemon.clone())
            .await
            .expect("bind");
        let addr = server.local_addr().expect("addr");
        let control = server.control();
        let task = tokio::spawn(server.run());
        TestServer {
            addr,
            control,
            bus,
            daemon,
            task,
        }
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    /// One request on a fresh connection, as `ExecutiveSession` does.
    pub async fn one_shot(&self, req: Value) -> Value {
        let mut c = self.client().await;
        c.rpc(req).await
    }

    pub async fn stop(self) {
        self.control.shutdown();
        let _ = tokio::time::timeout(TIMEOUT, self.task).await;
    }
}

pub struct Client {
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
    /// Events read while waiting for a reply.
    pub events: Vec<Value>,
}

pub fn is_event(v: &Value) -> bool {
    v.get("type").is_some() && v.get("status").is_none()
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).await.expect("connect");
        s.set_nodelay(true).expect("nodelay");
        let (rd, wr) = s.into_split();
        Client {
            rd: BufReader::new(rd),
            wr,
            events: Vec::new(),
        }
    }

    /// Half-closes the sending side, as a stream-only client may.
    pub async fn shutdown_write(&mut self) {
        self.wr.shutdown().await.expect("shutdown");
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.wr.write_all(bytes).await.expect("write");
    }

    pub async fn send(&mut self, v: Value) {
        let mut line = serde_json::to_vec(&v).expect("json");
        line.push(b'\n');
        self.send_raw(&line).await;
    }

    /// The next line as JSON; `None` at EOF.
    pub async fn recv_opt(&mut self) -> Option<Value> {
        let mut line = String::new();
        let n = tokio::time::timeout(TIMEOUT, self.rd.read_line(&mut line))
            .await
            .expect("timed out waiting for a line")
            .expect("read");
        if n == 0 {
            return None;
        }
        assert!(
            line.ends_with('\n'),
            "line not newline-terminated: {line:?}"
        );
        Some(serde_json::from_str(&line).expect("reply is JSON"))
    }

    pub async fn recv(&mut self) -> Value {
        self.recv_opt().await.expect("unexpected EOF")
    }

    /// The next reply, keeping event lines aside in `events`.
    pub async fn reply(&mut self) -> Value {
        loop {
            let v = self.recv().await;
            if is_event(&v) {
                self.events.push(v);
                continue;
            }
            assert!(v.get("type").is_none(), "reply carries `type`: {v}");
            assert!(v.get("seq").is_none(), "reply carries `seq`: {v}");
            assert_eq!(v["version"], 1, "reply without version 1: {v}");
            return v;
        }
    }

    pub async fn rpc(&mut self, req: Value) -> Value {
        self.send(req).await;
        self.reply().await
    }

    /// Reads until EOF (or a line arrives, which fails the test) within `TIMEOUT`.
    pub async fn expect_eof(&mut self) {
        loop {
            match self.recv_opt().await {
                None => return,
                Some(v) if is_event(&v) => continue,
                Some(v) => panic!("expected EOF, got {v}"),
            }
        }
    }
}

pub fn ok(v: &Value) -> &Value {
    assert_eq!(v["status"], "ok", "expected ok: {v}");
    v
}

pub fn err(v: &Value) -> String {
    assert_eq!(v["status"], "error", "expected error: {v}");
    v["error"].as_str().expect("error text").to_string()
}

pub async fn open_session(s: &TestServer, body: Value) -> String {
    let mut req = body;
    req["cmd"] = "session.open".into();
    let r = s.one_shot(req).await;
    ok(&r)["session"]["id"].as_str().expect("id").to_string()
}
