//! Interpreter vs native: the same workloads as MVASM programs on the VM and as native Rust,
//! in paired runs (native, then guest, per round), reporting the medians of guest
//! instructions/s and of the per-round slowdown (guest time / native time).
//!
//! `cargo bench -p hsx-asm --bench ratio` (all workloads, 5 rounds);
//! `cargo bench -p hsx-asm --bench ratio -- fib counter` (only those);
//! `HSX_RATIO_ROUNDS=9` for more rounds. Under `cargo test` (no `--bench` flag) every
//! workload runs once at a small size as a smoke test.

mod workloads;

use std::time::{Duration, Instant};
use workloads::{Workload, guest_task, run_guest};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

struct Row {
    name: &'static str,
    instrs: u64,
    guest: f64,
    native: f64,
    ratio: f64,
}

fn measure(w: &Workload, rounds: usize) -> Row {
    let (mut g, mut nt, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    let mut instrs = 0;
    // One unmeasured pair warms caches and the branch predictors.
    let warm = (w.native)();
    let mut task = guest_task(w.name, &w.source);
    let (_, r0) = run_guest(&mut task);
    assert_eq!(r0, warm, "{}: guest checksum differs from native", w.name);
    for _ in 0..rounds {
        let t = Instant::now();
        let nat = std::hint::black_box((w.native)());
        let tn = t.elapsed();
        let mut task = guest_task(w.name, &w.source);
        let t = Instant::now();
        let (n, r0) = run_guest(&mut task);
        let tg = t.elapsed();
        assert_eq!(r0, nat, "{}: guest checksum differs from native", w.name);
        instrs = n;
        let (tg, tn) = (secs(tg), secs(tn));
        g.push(tg);
        nt.push(tn);
        ratio.push(tg / tn);
    }
    Row {
        name: w.name,
        instrs,
        guest: median(&mut g),
        native: median(&mut nt),
        ratio: median(&mut ratio),
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64().max(1e-9)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let rounds = std::env::var("HSX_RATIO_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5usize)
        .max(1);
    let (scale, rounds) = if bench { (1, rounds) } else { (100, 1) };
    println!(
        "{:<14} {:>12} {:>10} {:>12} {:>10} {:>9}",
        "workload", "guest instr", "guest ms", "M instr/s", "native ms", "slowdown"
    );
    for w in workloads::all(scale) {
        if !filters.is_empty() && !filters.iter().any(|f| w.name.contains(f.as_str())) {
            continue;
        }
        let r = measure(&w, rounds);
        println!(
            "{:<14} {:>12} {:>10.2} {:>12.1} {:>10.3} {:>8.1}x",
            r.name,
            r.instrs,
            r.guest * 1e3,
            r.instrs as f64 / r.guest / 1e6,
            r.native * 1e3,
            r.ratio
        );
    }
    if bench {
        println!("(medians of {rounds} paired rounds; slowdown = guest time / native time)");
    }
}
