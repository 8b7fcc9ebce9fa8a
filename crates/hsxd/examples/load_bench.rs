//! Load test (a bench, not a timed test): CLIENTS connections each send REQUESTS mixed
//! requests (`ping`, `ps`, `info`, `dumpregs`, `peek`, `clock`) as fast as replies come,
//! while TASKS spinning tasks run on the auto clock. Prints errors, throughput, latency
//! percentiles and the tasks' instruction rate under load against idle.
//!
//! `cargo run --release -p hsxd --example load_bench -- [CLIENTS] [REQUESTS] [TASKS]`
//! (defaults 64, 5000, 8).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hsxd::{Daemon, EventBus, Server, SystemTimeSource, TimeSource};
use serde_json::Value;

const SPIN: &str = ".name \"spin\"\n.entry main\n.text\nmain:\n    LDI R1, 0\n    LDI R2, 1\nloop:\n    ADD R1, R1, R2\n    JMP loop\n";

struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
    line: String,
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Conn {
            w: s.try_clone().expect("clone"),
            r: BufReader::new(s),
            line: String::new(),
        }
    }

    fn rpc(&mut self, req: &str) -> Value {
        self.w.write_all(req.as_bytes()).expect("write");
        self.w.write_all(b"\n").expect("write");
        self.line.clear();
        self.r.read_line(&mut self.line).expect("read");
        serde_json::from_str(&self.line).unwrap_or(Value::Null)
    }
}

fn auto_steps(c: &mut Conn) -> u64 {
    c.rpc(r#"{"cmd":"clock"}"#)["clock"]["auto_total_steps"]
        .as_u64()
        .unwrap_or(0)
}

/// Instructions the auto clock ran per second over `d`.
fn rate(c: &mut Conn, d: Duration) -> f64 {
    let (s0, t0) = (auto_steps(c), Instant::now());
    std::thread::sleep(d);
    let (s1, t1) = (auto_steps(c), Instant::now());
    (s1 - s0) as f64 / (t1 - t0).as_secs_f64()
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a number"));
    let clients = args.next().unwrap_or(64);
    let requests = args.next().unwrap_or(5000);
    let tasks = args.next().unwrap_or(8);

    // The daemon as `hsxd` runs it: a multi-thread runtime with a thread per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let addr = runtime.block_on(async {
        let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
        let bus = EventBus::new(time.clone());
        let d = Arc::new(Daemon::in_memory(bus, time));
        hsxd::clock::spawn(&d);
        let server = Server::bind("127.0.0.1:0", d).await.expect("bind");
        let addr = server.local_addr().expect("addr");
        tokio::spawn(server.run());
        addr
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("spin.mvasm");
    std::fs::write(&src, SPIN).expect("write");
    let mut ctl = Conn::open(addr);
    for _ in 0..tasks {
        let r = ctl.rpc(&format!(r#"{{"cmd":"load","path":{:?}}}"#, src));
        assert_eq!(r["status"], "ok", "load: {r}");
    }
    ctl.rpc(r#"{"cmd":"clock","op":"start"}"#);
    std::thread::sleep(Duration::from_millis(500));
    let idle = rate(&mut ctl, Duration::from_secs(2));

    let mix = [
        r#"{"cmd":"ping"}"#.to_string(),
        r#"{"cmd":"ps"}"#.to_string(),
        r#"{"cmd":"info"}"#.to_string(),
        r#"{"cmd":"dumpregs","pid":1}"#.to_string(),
        r#"{"cmd":"peek","pid":2,"addr":16384,"length":64}"#.to_string(),
        r#"{"cmd":"clock"}"#.to_string(),
    ];
    let mix = Arc::new(mix);
    let start = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let mix = Arc::clone(&mix);
            std::thread::spawn(move || {
                let mut c = Conn::open(addr);
                let mut lat = Vec::with_capacity(requests);
                let mut errors = 0usize;
                for n in 0..requests {
                    let req = &mix[(i + n) % mix.len()];
                    let t = Instant::now();
                    let r = c.rpc(req);
                    lat.push(t.elapsed());
                    if r["status"] != "ok" {
                        errors += 1;
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    // The tasks' rate while the clients are busy (well inside their run).
    std::thread::sleep(Duration::from_millis(200));
    let loaded = rate(&mut ctl, Duration::from_secs(1));
    let mut all = Vec::with_capacity(clients * requests);
    let mut errors = 0;
    for w in workers {
        let (lat, e) = w.join().expect("client thread");
        all.extend(lat);
        errors += e;
    }
    let wall = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "{clients} clients x {requests} requests, {tasks} tasks running: {} requests in {wall:.2} s, {errors} errors",
        all.len()
    );
    println!(
        "throughput {:.0} req/s; latency p50 {:?}, p99 {:?}, max {:?}",
        all.len() as f64 / wall,
        pct(0.50),
        pct(0.99),
        all[all.len() - 1]
    );
    println!(
        "task instructions: idle {:.1} M/s, under load {:.1} M/s ({:.0} % of idle)",
        idle / 1e6,
        loaded / 1e6,
        100.0 * loaded / idle
    );
}
