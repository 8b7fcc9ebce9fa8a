//! Load generator for the design.md §7 budgets of `hsxd`.
//!
//! ```text
//! cargo run --release -p hsxd --example loadgen            # every phase, about 45 s
//! cargo run --release -p hsxd --example loadgen -- --phase rpc --secs 5
//! cargo run --release -p hsxd --example loadgen -- --connect 127.0.0.1:9998 --phase rpc
//! ```
//!
//! * `rpc`: 8 small spinning tasks, then 32 clients on persistent connections sending
//!   `ps`/`info`/`peek` in turn, request-reply (no pipelining), first with the clock stopped,
//!   then with it running. Budget: ≥ 50 k requests/s, no errors.
//! * `events`: one subscriber (`session.open` + `events.subscribe` on one socket) while 8
//!   tasks run on the auto clock; counts the events delivered per second, the `warning`
//!   events by reason, and what the bus published in the same time.
//!
//! The server runs in-process on 127.0.0.1:0 over a real daemon (`Daemon` with its auto clock), on its own
//! 2-worker runtime (as `hsxd` on a 2-core machine); the clients run on a separate runtime.
//! With `--connect` the RPC phase targets an already running daemon instead (for example the
//! release `hsxd` binary). Load averages from /proc/loadavg are printed with every figure:
//! the clients share the machine with the server, so a busy machine lowers the figures.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use hsxd::{Daemon, EventBus, Server, ServerControl, SystemTimeSource, TimeSource};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::runtime::Runtime;

/// Load generator for hsxd (design.md §7).
#[derive(Debug, Parser)]
struct Cli {
    /// Which phases to run.
    #[arg(long, value_enum, default_value = "all")]
    phase: Phase,
    /// Concurrent RPC clients, one persistent connection each.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Measured seconds per RPC run (after the warm-up).
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// Warm-up seconds per run, not counted.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Measured seconds per event scenario.
    #[arg(long, default_value_t = 4.0)]
    event_secs: f64,
    /// Worker threads of the in-process server runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Worker threads of the client runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Request kinds the RPC clients rotate through (ps, info, peek, ping).
    #[arg(long, value_delimiter = ',', default_value = "ps,info,peek")]
    mix: Vec<String>,
    /// Target a running daemon instead of an in-process server (RPC phase only).
    #[arg(long, value_name = "ADDR")]
    connect: Option<SocketAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Phase {
    All,
    Rpc,
    Events,
}

/// Spins forever: a task that always wants the CPU.
const SPIN: &str = "\
.name \"spin\"
.entry main
.text
main:
    LDI   R1, 0
    LDI   R2, 1
spin:
    ADD   R1, R1, R2
    JMP   spin
.data
pad:
    .ascii \"0123456789abcdef\"
";

/// Writes a short line through UART_WRITE (SVC 1,1) in a loop: one `stdout` event per
/// five instructions.
const UART: &str = "\
.name \"uart\"
.entry main
.text
main:
    LDI32 R4, msg
    LDI32 R3, msg_end
    SUB   R5, R3, R4
again:
    MOV   R1, R4
    MOV   R2, R5
    SVC   1, 1
    JMP   again
.data
msg:
    .ascii \"tick\\n\"
msg_end:
";

/// [`UART`] with a busy loop of about `3 * delay` instructions between writes, for a
/// sustainable event rate.
fn uart_delay(delay: u32) -> String {
    format!(
        "\
.name \"uartd\"
.entry main
.text
main:
    LDI32 R4, msg
    LDI32 R3, msg_end
    SUB   R5, R3, R4
    LDI   R8, 1
    LDI   R9, {delay}
again:
    MOV   R1, R4
    MOV   R2, R5
    SVC   1, 1
    LDI   R6, 0
delay:
    ADD   R6, R6, R8
    CMP   R6, R9
    JNZ   delay
    JMP   again
.data
msg:
    .ascii \"tick\\n\"
msg_end:
"
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn write_program(dir: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let p = dir.join(name);
    std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
    Ok(p)
}

/// An in-process daemon on 127.0.0.1:0 with the real executive backend.
struct InProc {
    addr: SocketAddr,
    bus: EventBus,
    control: ServerControl,
    task: tokio::task::JoinHandle<()>,
}

fn start_server(rt: &Runtime) -> anyhow::Result<InProc> {
    rt.block_on(async {
        let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
        let bus = EventBus::new(time.clone());
        let d = Arc::new(Daemon::in_memory(bus.clone(), time));
        hsxd::clock::spawn(&d);
        let server = Server::bind("127.0.0.1:0", d).await?;
        let addr = server.local_addr()?;
        let control = server.control();
        let task = tokio::spawn(server.run());
        anyhow::Ok(InProc {
            addr,
            bus,
            control,
            task,
        })
    })
}

fn stop_server(rt: &Runtime, s: InProc) {
    s.control.shutdown();
    rt.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(5), s.task).await;
    });
}

/// A line client on one persistent connection.
struct Conn {
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
    line: String,
}

impl Conn {
    async fn connect(addr: SocketAddr) -> anyhow::Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let (rd, wr) = s.into_split();
        Ok(Conn {
            rd: BufReader::with_capacity(64 * 1024, rd),
            wr,
            line: String::with_capacity(4096),
        })
    }

    async fn send(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.wr.write_all(bytes).await?;
        Ok(())
    }

    /// The next line into `self.line`; error at EOF.
    async fn next_line(&mut self) -> anyhow::Result<()> {
        self.line.clear();
        if self.rd.read_line(&mut self.line).await? == 0 {
            bail!("connection closed");
        }
        Ok(())
    }

    /// One request, the next reply (event lines in between are skipped).
    async fn rpc(&mut self, req: Value) -> anyhow::Result<Value> {
        let mut bytes = serde_json::to_vec(&req)?;
        bytes.push(b'\n');
        self.send(&bytes).await?;
        loop {
            self.next_line().await?;
            if self.line.starts_with("{\"version\"") {
                return Ok(serde_json::from_str(&self.line)?);
            }
        }
    }

    async fn rpc_ok(&mut self, req: Value) -> anyhow::Result<Value> {
        let r = self.rpc(req.clone()).await?;
        if r["status"] != "ok" {
            bail!("{req} failed: {r}");
        }
        Ok(r)
    }
}

async fn load_tasks(c: &mut Conn, program: &Path, n: usize) -> anyhow::Result<Vec<u64>> {
    let mut pids = Vec::with_capacity(n);
    for _ in 0..n {
        let r = c
            .rpc_ok(json!({"cmd": "load", "path": program.display().to_string()}))
            .await?;
        pids.push(r["image"]["pid"].as_u64().context("pid")?);
    }
    Ok(pids)
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i.min(sorted.len() - 1)]) / 1000.0
}

#[derive(Default)]
struct ClientStats {
    /// Latency in ns, per request kind (index into the mix).
    lat: Vec<Vec<u32>>,
    bytes: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

fn request(kind: &str, pid: u64) -> anyhow::Result<Vec<u8>> {
    Ok(match kind {
        "ps" => b"{\"cmd\":\"ps\"}\n".to_vec(),
        "info" => b"{\"cmd\":\"info\"}\n".to_vec(),
        "ping" => b"{\"cmd\":\"ping\"}\n".to_vec(),
        // 16 bytes of the task's rodata (0x4000).
        "peek" => format!("{{\"cmd\":\"peek\",\"pid\":{pid},\"addr\":16384,\"length\":16}}\n")
            .into_bytes(),
        other => bail!("unknown request kind {other:?} (ps, info, peek, ping)"),
    })
}

async fn rpc_client(
    mix: Arc<Vec<String>>,
    addr: SocketAddr,
    pids: Arc<Vec<u64>>,
    id: usize,
    measure_from: Instant,
    until: Instant,
) -> ClientStats {
    let kinds = mix.len().max(1);
    let mut st = ClientStats {
        lat: vec![Vec::new(); kinds],
        bytes: vec![0; kinds],
        ..ClientStats::default()
    };
    let mut conn = match Conn::connect(addr).await {
        Ok(c) => c,
        Err(e) => {
            st.errors += 1;
            st.first_error = Some(format!("connect: {e}"));
            return st;
        }
    };
    let pid = pids.get(id % pids.len().max(1)).copied().unwrap_or(1);
    let reqs: Vec<Vec<u8>> = mix
        .iter()
        .map(|m| request(m, pid).unwrap_or_default())
        .collect();
    let mut k = id % kinds;
    loop {
        let t0 = Instant::now();
        if t0 >= until {
            break;
        }
        let res = async {
            conn.send(&reqs[k]).await?;
            conn.next_line().await
        }
        .await;
        let t1 = Instant::now();
        match res {
            Err(e) => {
                st.errors += 1;
                st.first_error.get_or_insert_with(|| format!("io: {e}"));
                break;
            }
            Ok(()) if !conn.line.starts_with("{\"version\":1,\"status\":\"ok\"") => {
                if t0 >= measure_from {
                    st.errors += 1;
                }
                st.first_error
                    .get_or_insert_with(|| conn.line.chars().take(200).collect());
            }
            Ok(()) => {
                if t0 >= measure_from {
                    let ns = u32::try_from((t1 - t0).as_nanos()).unwrap_or(u32::MAX);
                    st.lat[k].push(ns);
                    st.bytes[k] += conn.line.len() as u64;
                }
            }
        }
        k = (k + 1) % kinds;
    }
    st
}

/// One RPC run: `clients` clients for warm-up + `secs`.
fn rpc_run(cli: &Cli, crt: &Runtime, addr: SocketAddr, pids: &[u64], label: &str) {
    let pids = Arc::new(pids.to_vec());
    let mix = Arc::new(cli.mix.clone());
    let kinds = mix.len();
    let load_before = loadavg();
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(cli.warmup);
    let until = measure_from + Duration::from_secs_f64(cli.secs);
    let stats: Vec<ClientStats> = crt.block_on(async {
        let hs: Vec<_> = (0..cli.clients)
            .map(|i| {
                tokio::spawn(rpc_client(
                    mix.clone(),
                    addr,
                    pids.clone(),
                    i,
                    measure_from,
                    until,
                ))
            })
            .collect();
        let mut out = Vec::new();
        for h in hs {
            out.push(h.await.unwrap_or_default());
        }
        out
    });
    let mut all: Vec<u32> = Vec::new();
    let mut per: Vec<Vec<u32>> = vec![Vec::new(); kinds];
    let mut bytes = vec![0u64; kinds];
    let mut errors = 0;
    let mut first_error = None;
    for s in stats {
        for (k, lat) in s.lat.iter().enumerate().take(kinds) {
            all.extend_from_slice(lat);
            per[k].extend_from_slice(lat);
            bytes[k] += s.bytes.get(k).copied().unwrap_or(0);
        }
        errors += s.errors;
        if first_error.is_none() {
            first_error = s.first_error;
        }
    }
    all.sort_unstable();
    let n = all.len() as f64;
    println!(
        "rpc [{label}] clients={} secs={:.1}: {:.0} req/s, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs, errors {} (budget ≥ 50000 req/s, 0 errors) | load {} -> {}",
        cli.clients,
        cli.secs,
        n / cli.secs,
        pct(&all, 0.5),
        pct(&all, 0.99),
        pct(&all, 1.0),
        errors,
        load_before,
        loadavg()
    );
    for k in 0..kinds {
        per[k].sort_unstable();
        let c = per[k].len().max(1) as f64;
        println!(
            "    {:<5} n={:<8} p50 {:>7.1} µs  p99 {:>7.1} µs  reply {:>5.0} B",
            mix[k],
            per[k].len(),
            pct(&per[k], 0.5),
            pct(&per[k], 0.99),
            bytes[k] as f64 / c
        );
    }
    if let Some(e) = first_error {
        println!("    first error: {e}");
    }
}

fn rpc_phase(cli: &Cli, srt: &Runtime, crt: &Runtime, dir: &Path) -> anyhow::Result<()> {
    let spin = write_program(dir, "spin.mvasm", SPIN)?;
    let server = match cli.connect {
        Some(_) => None,
        None => Some(start_server(srt)?),
    };
    let addr = cli
        .connect
        .or(server.as_ref().map(|s| s.addr))
        .context("no address")?;
    let (pids, mut ctl) = crt.block_on(async {
        let mut c = Conn::connect(addr).await?;
        let pids = load_tasks(&mut c, &spin, 8).await?;
        c.rpc_ok(json!({"cmd": "clock", "op": "stop"})).await?;
        anyhow::Ok((pids, c))
    })?;
    println!("loaded 8 x spin.mvasm: pids {pids:?}");
    rpc_run(cli, crt, addr, &pids, "clock stopped");

    let before = crt.block_on(async {
        let r = ctl.rpc_ok(json!({"cmd": "clock", "op": "start"})).await?;
        anyhow::Ok(r["clock"]["auto_total_steps"].as_u64().unwrap_or(0))
    })?;
    let t = Instant::now();
    rpc_run(cli, crt, addr, &pids, "clock running");
    let (after, clock) = crt.block_on(async {
        let r = ctl.rpc_ok(json!({"cmd": "clock", "op": "stop"})).await?;
        let c = r["clock"].clone();
        anyhow::Ok((c["auto_total_steps"].as_u64().unwrap_or(0), c))
    })?;
    println!(
        "    guest instructions retired meanwhile: {:.1} M/s (auto clock, 8 tasks) clock={}",
        (after.saturating_sub(before)) as f64 / t.elapsed().as_secs_f64() / 1e6,
        clock
    );
    crt.block_on(async {
        for pid in &pids {
            let _ = ctl.rpc(json!({"cmd": "kill", "pid": pid})).await;
        }
    });
    if let Some(s) = server {
        stop_server(srt, s);
    }
    Ok(())
}

/// One event scenario, on a fresh in-process server.
struct EventScenario {
    label: &'static str,
    program: String,
    /// `filters.categories`, or every type.
    categories: Option<&'static [&'static str]>,
    /// `max_events` of the session.
    max_events: u64,
    /// Acknowledge every this many events on the stream socket (0: never).
    ack_every: u64,
    /// Turn per-instruction `trace_step` events on for every task.
    trace: bool,
}

#[derive(Default)]
struct EventTally {
    events: u64,
    bytes: u64,
    by_type: BTreeMap<String, u64>,
    warnings: BTreeMap<String, u64>,
    first_warning: Option<String>,
    last_seq: u64,
}

fn field_str<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let i = line.find(key)? + key.len();
    let rest = line.get(i..)?;
    let end = rest.find('"')?;
    rest.get(..end)
}

fn field_u64(line: &str, key: &str) -> Option<u64> {
    let i = line.find(key)? + key.len();
    let rest = line.get(i..)?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest.get(..end)?.parse().ok()
}

fn event_scenario(
    cli: &Cli,
    srt: &Runtime,
    crt: &Runtime,
    dir: &Path,
    sc: &EventScenario,
) -> anyhow::Result<()> {
    let name = format!("{}.mvasm", sc.label.split('/').next().unwrap_or("p"));
    let program = write_program(dir, &name, &sc.program)?;
    let server = start_server(srt)?;
    let addr = server.addr;
    let bus = server.bus.clone();
    let load_before = loadavg();
    let res: anyhow::Result<(EventTally, f64, u64, String)> = crt.block_on(async {
        let mut ctl = Conn::connect(addr).await?;
        let pids = load_tasks(&mut ctl, &program, 8).await?;
        let mut trace_note = String::new();
        if sc.trace {
            for pid in &pids {
                let r = ctl
                    .rpc(json!({"cmd": "trace", "pid": pid, "mode": "on"}))
                    .await?;
                if r["status"] != "ok" {
                    trace_note = format!(" (trace on refused: {})", r["error"]);
                    break;
                }
            }
        }
        let mut sub = Conn::connect(addr).await?;
        let r = sub
            .rpc_ok(json!({"cmd": "session.open", "client": "loadgen",
                 "capabilities": {"features": ["events"], "max_events": sc.max_events}}))
            .await?;
        let sid = r["session"]["id"]
            .as_str()
            .context("session id")?
            .to_string();
        let mut sub_req = json!({"cmd": "events.subscribe", "session": sid});
        if let Some(cats) = sc.categories {
            sub_req["filters"] = json!({"categories": cats});
        }
        sub.rpc_ok(sub_req).await?;
        ctl.rpc_ok(json!({"cmd": "clock", "op": "start"})).await?;
        let warm_until = Instant::now() + Duration::from_millis(500);
        let mut tally = EventTally::default();
        let mut start = None;
        let mut since_ack = 0u64;
        let measure = Duration::from_secs_f64(cli.event_secs);
        loop {
            let now = Instant::now();
            if start.is_none() && now >= warm_until {
                start = Some((now, bus.cursor()));
                tally = EventTally {
                    last_seq: tally.last_seq,
                    ..EventTally::default()
                };
            }
            if let Some((t0, _)) = start
                && now - t0 >= measure
            {
                break;
            }
            match tokio::time::timeout(Duration::from_secs(2), sub.next_line()).await {
                Err(_) => break,
                Ok(r) => r?,
            }
            let line = sub.line.as_str();
            if !line.starts_with("{\"seq\"") {
                continue; // an ack reply
            }
            tally.events += 1;
            tally.bytes += line.len() as u64;
            let kind = field_str(line, "\"type\":\"").unwrap_or("?");
            if let Some(seq) = field_u64(line, "\"seq\":") {
                tally.last_seq = seq;
            }
            *tally.by_type.entry(kind.to_string()).or_default() += 1;
            if kind == "warning" {
                let reason = field_str(line, "\"reason\":\"").unwrap_or("?").to_string();
                *tally.warnings.entry(reason).or_default() += 1;
                tally
                    .first_warning
                    .get_or_insert_with(|| line.chars().take(300).collect());
            }
            since_ack += 1;
            if sc.ack_every > 0 && since_ack >= sc.ack_every {
                since_ack = 0;
                let ack = format!(
                    "{{\"cmd\":\"events.ack\",\"session\":\"{sid}\",\"seq\":{}}}\n",
                    tally.last_seq
                );
                sub.send(ack.as_bytes()).await?;
            }
        }
        let (t0, cur0) = start.unwrap_or((Instant::now(), bus.cursor()));
        let secs = t0.elapsed().as_secs_f64();
        let published = bus.cursor().saturating_sub(cur0);
        let r = ctl.rpc_ok(json!({"cmd": "clock", "op": "stop"})).await?;
        let clock = format!(
            "auto_total_steps={} {}",
            r["clock"]["auto_total_steps"], trace_note
        );
        Ok((tally, secs, published, clock))
    });
    stop_server(srt, server);
    let (tally, secs, published, clock) = res?;
    println!(
        "events [{}] max_events={} ack_every={}: {:.0} events/s delivered ({:.1} MB/s), bus published {:.0}/s, warnings {:?} | load {} -> {}",
        sc.label,
        sc.max_events,
        sc.ack_every,
        tally.events as f64 / secs,
        tally.bytes as f64 / secs / 1e6,
        published as f64 / secs,
        tally.warnings,
        load_before,
        loadavg()
    );
    println!("    by type: {:?}; {clock}", tally.by_type);
    if let Some(w) = tally.first_warning {
        println!("    first warning: {w}");
    }
    Ok(())
}

fn events_phase(cli: &Cli, srt: &Runtime, crt: &Runtime, dir: &Path) -> anyhow::Result<()> {
    let scenarios = [
        EventScenario {
            label: "uart/all types/ack",
            program: UART.to_string(),
            categories: None,
            max_events: 2048,
            ack_every: 256,
            trace: false,
        },
        EventScenario {
            label: "uart/stdout+warning/ack",
            program: UART.to_string(),
            categories: Some(&["stdout", "warning"]),
            max_events: 2048,
            ack_every: 256,
            trace: false,
        },
        EventScenario {
            label: "uart/all types/no ack",
            program: UART.to_string(),
            categories: None,
            max_events: 256,
            ack_every: 0,
            trace: false,
        },
        EventScenario {
            label: "uart-delay1000/all types/ack",
            program: uart_delay(1000),
            categories: None,
            max_events: 2048,
            ack_every: 256,
            trace: false,
        },
        EventScenario {
            label: "uart-delay100/all types/ack",
            program: uart_delay(100),
            categories: None,
            max_events: 2048,
            ack_every: 256,
            trace: false,
        },
        EventScenario {
            label: "spin/trace on/ack",
            program: SPIN.to_string(),
            categories: None,
            max_events: 2048,
            ack_every: 256,
            trace: true,
        },
    ];
    for sc in &scenarios {
        event_scenario(cli, srt, crt, dir, sc)?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    for m in &cli.mix {
        request(m, 1)?;
    }
    let srt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.server_threads.max(1))
        .thread_name("server")
        .enable_all()
        .build()?;
    let crt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.client_threads.max(1))
        .thread_name("client")
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    println!(
        "loadgen: {} cores, load {} (server {} threads, clients {} threads)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg(),
        cli.server_threads,
        cli.client_threads
    );
    if matches!(cli.phase, Phase::All | Phase::Rpc) {
        rpc_phase(&cli, &srt, &crt, dir.path())?;
    }
    if matches!(cli.phase, Phase::All | Phase::Events) {
        if cli.connect.is_some() {
            println!("events phase needs the in-process server; skipped with --connect");
        } else {
            events_phase(&cli, &srt, &crt, dir.path())?;
        }
    }
    Ok(())
}
