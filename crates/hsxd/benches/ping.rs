//! `ping` round trip on a persistent loopback connection (budget: median ≤ 20 µs).
//!
//! The server runs on its own multi-thread tokio runtime, as in `hsxd`; the client is a
//! plain blocking socket so the measurement holds only the server's work and the kernel's.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use hsxd::{Daemon, EventBus, Server, SystemTimeSource, TimeSource};

fn ping(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let addr = runtime.block_on(async {
        let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
        let bus = EventBus::new(time.clone());
        let d = Arc::new(Daemon::in_memory(bus, time));
        let server = Server::bind("127.0.0.1:0", d).await.expect("bind");
        let addr = server.local_addr().expect("addr");
        tokio::spawn(server.run());
        addr
    });
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    let mut line = String::with_capacity(64);
    let request = b"{\"cmd\":\"ping\"}\n";
    let mut round_trip = || {
        writer.write_all(request).expect("write");
        line.clear();
        reader.read_line(&mut line).expect("read");
        assert!(line.contains("pong"));
    };
    for _ in 0..1000 {
        round_trip();
    }
    c.bench_function("ping_round_trip_persistent", |b| b.iter(&mut round_trip));

    // The one-connection-per-request pattern of `ExecutiveSession`.
    c.bench_function("ping_one_shot_connection", |b| {
        b.iter(|| {
            let s = TcpStream::connect(addr).expect("connect");
            s.set_nodelay(true).expect("nodelay");
            let mut w = s.try_clone().expect("clone");
            let mut r = BufReader::new(s);
            w.write_all(request).expect("write");
            let mut l = String::new();
            r.read_line(&mut l).expect("read");
            assert!(l.contains("pong"));
        })
    });
}

criterion_group!(benches, ping);
criterion_main!(benches);
