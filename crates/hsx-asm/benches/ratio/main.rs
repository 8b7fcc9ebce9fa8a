//! Interpreter vs native: the same workloads as MVASM programs on the VM and as native Rust,
//! in paired runs (native, then guest, per round), reporting the medians of guest
//! instructions/s and of the per-round slowdown (guest time / native time).
//!
//! `cargo bench -p hsx-asm --bench ratio` (all workloads, 5 rounds);
//! `cargo bench -p hsx-asm --bench ratio -- fib counter` (only those);
//! `HSX_RATIO_ROUNDS=9` for more rounds; `HSX_RATIO_CODE=words` runs the plain decoder loop
//! (`WordCode`) instead of the pre-decoded one (`DecodedCode`, the executive's default). Under `cargo test` (no `--bench` flag) every
//! workload runs once at a small size as a smoke test.

mod workloads;

use std::time::{Duration, Instant};
use workloads::{Workload, guest_task, guest_task_words, run_guest};

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

/// One guest run (task set-up not timed): ((retired, R0), time).
fn guest(w: &Workload, plain: bool) -> ((u64, u32), Duration) {
    if plain {
        let mut task = guest_task_words(w.name, &w.source);
        let t = Instant::now();
        let r = run_guest(&mut task);
        (r, t.elapsed())
    } else {
        let mut task = guest_task(w.name, &w.source);
        let t = Instant::now();
        let r = run_guest(&mut task);
        (r, t.elapsed())
    }
}

fn measure(w: &Workload, rounds: usize, plain: bool) -> Row {
    let (mut g, mut nt, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    let mut instrs = 0;
    // One unmeasured pair warms caches and the branch predictors.
    let warm = (w.native)();
    let ((_, r0), _) = guest(w, plain);
    assert_eq!(r0, warm, "{}: guest checksum differs from native", w.name);
    for _ in 0..rounds {
        let t = Instant::now();
        let nat = std::hint::black_box((w.native)());
        let tn = t.elapsed();
        let ((n, r0), tg) = guest(w, plain);
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
    // HSX_RATIO_CODE=words: the plain decoder loop instead of the pre-decoded one.
    let plain = std::env::var("HSX_RATIO_CODE").is_ok_and(|v| v == "words");
    println!(
        "{:<14} {:>12} {:>10} {:>12} {:>10} {:>9}",
        "workload", "guest instr", "guest ms", "M instr/s", "native ms", "slowdown"
    );
    for w in workloads::all(scale) {
        if !filters.is_empty() && !filters.iter().any(|f| w.name.contains(f.as_str())) {
            continue;
        }
        let r = measure(&w, rounds, plain);
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
        let code = if plain { "plain words" } else { "pre-decoded" };
        println!(
            "({code} code; medians of {rounds} paired rounds; slowdown = guest time / native time)"
        );
    }
}
