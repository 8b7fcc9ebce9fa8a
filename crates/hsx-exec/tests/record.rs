//! Record/replay: travelling to any recorded point reproduces exactly the state the live
//! run had there (checked against a single-stepped run without recording), step back and
//! reverse continue land where they should, host interventions and host answers are
//! honoured, and the history stays within its bounds.
#![cfg(feature = "record")]

mod common;
use common::*;

use hsx_exec::executive::record::{RecordConfig, RecordError, TravelStop};
use hsx_exec::{ExecError, Executive, Reg};
use proptest::prelude::*;

const TARGET: u32 = 0x4000; // "app:q\0"
const PAYLOAD: u32 = 0x4010;

fn rodata() -> Vec<u8> {
    let mut r = vec![0u8; 0x40];
    r[..6].copy_from_slice(b"app:q\0");
    r[0x10..0x14].copy_from_slice(b"ping");
    r[0x20..0x26].copy_from_slice(b"f.txt\0");
    r
}

/// Open app:q, then `n` times: spin `k`, send 4 bytes.
fn producer(k: i32, n: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi32(1, TARGET)
        .svc(5, 0)
        .mov(6, 1)
        .ldi(7, 0)
        .ldi(8, n)
        .ldi(9, 1);
    let top = a.here();
    a.ldi(10, k);
    let inner = a.here();
    a.sub(10, 10, 9).jnz(inner);
    a.mov(1, 6)
        .ldi32(2, PAYLOAD)
        .ldi(3, 4)
        .ldi(4, 0)
        .ldi(5, 0)
        .svc(5, 2);
    a.add(7, 7, 9).cmp(7, 8).jnz(top).mov(0, 7).ret();
    a.build()
}

/// Receive `m` messages (blocking), summing their lengths in R11.
fn consumer(m: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi32(1, TARGET)
        .svc(5, 0)
        .mov(6, 1)
        .ldi(7, 0)
        .ldi(8, m)
        .ldi(9, 1)
        .ldi(11, 0);
    let top = a.here();
    a.mov(1, 6)
        .ldi32(2, 0x5000)
        .ldi(3, 16)
        .ldi32(4, 0xFFFF)
        .ldi(5, 0)
        .svc(5, 3);
    a.add(11, 11, 1)
        .add(7, 7, 9)
        .cmp(7, 8)
        .jnz(top)
        .mov(0, 11)
        .ret();
    a.build()
}

/// `n` times: count R1 up and store it at 0x6000.
fn storer(n: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi(1, 0).ldi(2, 1).ldi(3, n).ldi32(4, 0x6000);
    let top = a.here();
    a.add(1, 1, 2)
        .st(4, 0, 1)
        .cmp(1, 3)
        .jnz(top)
        .mov(0, 1)
        .ret();
    a.build()
}

/// Sleep `ms` (SVC 6/0 with R1 = ms) `n` times, counting in R7.
fn sleeper(ms: i32, n: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi(7, 0).ldi(8, n).ldi(9, 1);
    let top = a.here();
    a.ldi(1, ms)
        .svc(6, 0)
        .add(7, 7, 9)
        .cmp(7, 8)
        .jnz(top)
        .mov(0, 7)
        .ret();
    a.build()
}

/// Open f.txt and read it 2 bytes at a time into 0x5000.., `n` reads.
fn reader(n: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi32(1, 0x4020)
        .ldi(2, 0)
        .svc(4, 0)
        .mov(6, 0)
        .ldi(7, 0)
        .ldi(8, n)
        .ldi(9, 1);
    a.ldi32(10, 0x5000);
    let top = a.here();
    a.mov(1, 6).mov(2, 10).ldi(3, 2).svc(4, 1);
    a.add(10, 10, 0)
        .add(7, 7, 9)
        .cmp(7, 8)
        .jnz(top)
        .mov(0, 10)
        .ret();
    a.build()
}

fn loaded(programs: &[Vec<u32>]) -> (Executive, Vec<u32>, hsx_exec::VirtualClock) {
    let (mut ex, clock) = exec();
    let pids = programs
        .iter()
        .map(|c| load(&mut ex, c, &rodata()))
        .collect();
    (ex, pids, clock)
}

fn poke(ex: &mut Executive, pids: &[u32], p: Option<(usize, u32)>) {
    if let Some((i, v)) = p
        && let Some(&pid) = pids.get(i % pids.len())
    {
        let _ = ex.reg_set(pid, Reg::R5, v);
    }
}

fn small() -> RecordConfig {
    RecordConfig {
        interval: 500,
        ..RecordConfig::default()
    }
}

/// A run without recording, for comparison: the same step calls (`calls`), each run
/// whole while it ends at or before `t`, the one that passes `t` cut short at `t` — what
/// travelling to `t` in a recording of those calls must reproduce.
struct Reference {
    programs: Vec<Vec<u32>>,
    calls: Vec<u64>,
    /// A host poke after each call: R5 of the task with this index set to the value.
    pokes: Vec<Option<(usize, u32)>>,
    /// Instructions each call executed.
    executed: Vec<u64>,
}

impl Reference {
    fn new(programs: &[Vec<u32>], calls: &[u64]) -> Self {
        Self::with_pokes(programs, calls, &vec![None; calls.len()])
    }

    fn with_pokes(programs: &[Vec<u32>], calls: &[u64], pokes: &[Option<(usize, u32)>]) -> Self {
        let (mut ex, pids, _) = loaded(programs);
        let mut executed = Vec::new();
        for (&c, p) in calls.iter().zip(pokes) {
            executed.push(ex.step(c).executed);
            poke(&mut ex, &pids, *p);
        }
        Self {
            programs: programs.to_vec(),
            calls: calls.to_vec(),
            pokes: pokes.to_vec(),
            executed,
        }
    }

    fn end(&self) -> u64 {
        self.executed.iter().sum()
    }

    /// Whether `t` is a call boundary with a poke or an empty call there, where several
    /// states share one instruction count (`hash_at` gives the first of them).
    fn ambiguous(&self, t: u64) -> bool {
        let mut cum = 0;
        for (&e, p) in self.executed.iter().zip(&self.pokes) {
            cum += e;
            if cum == t && (p.is_some() || e == 0) {
                return true;
            }
        }
        false
    }

    fn hash_at(&self, t: u64) -> u64 {
        let (mut ex, pids, _) = loaded(&self.programs);
        let mut cum = 0;
        for ((&c, &e), &p) in self.calls.iter().zip(&self.executed).zip(&self.pokes) {
            if cum >= t {
                break;
            }
            if cum + e <= t {
                ex.step(c);
                cum += e;
                if cum < t {
                    poke(&mut ex, &pids, p);
                }
            } else {
                ex.step(t - cum);
                cum = t;
            }
        }
        assert_eq!(ex.total_executed(), t);
        ex.state_hash()
    }
}

#[test]
fn travel_reproduces_every_point_of_the_run() {
    let programs = vec![producer(5, 20), consumer(20), storer(200)];
    let calls = [7u64, 300, 1, 1000, 64, 2000];
    let refs = Reference::new(&programs, &calls);
    let (mut ex, _, _) = loaded(&programs);
    ex.record_start(small());
    for c in calls {
        ex.step(c);
    }
    let end = ex.total_executed();
    assert!(end > 1000, "the workload ran ({end})");
    assert_eq!(end, refs.end());
    let end_hash = ex.state_hash();
    assert_eq!(refs.hash_at(end), end_hash, "recording changes nothing");
    for t in [
        0u64,
        1,
        499,
        500,
        501,
        end / 2,
        17,
        end - 1,
        3,
        307,
        308,
        end,
    ] {
        let rep = ex.travel_to(t).unwrap();
        assert_eq!(rep.position, t);
        assert_eq!(ex.state_hash(), refs.hash_at(t), "state at {t}");
    }
    assert_eq!(ex.state_hash(), end_hash);
    assert!(!ex.in_past());
}

#[test]
fn step_back_lands_just_after_the_previous_instruction_of_the_task() {
    let programs = vec![storer(300), producer(3, 30), consumer(30)];
    let refs = Reference::new(&programs, &[2500]);
    let (mut ex, pids, _) = loaded(&programs);
    ex.record_start(small());
    ex.step(2500);
    let pid = pids[0];
    let mut count = ex.task(pid).unwrap().counters.step;
    for n in [1u64, 1, 5, 100, 1] {
        let rep = ex.step_back(pid, n).unwrap();
        count -= n;
        assert_eq!(ex.task(pid).unwrap().counters.step, count);
        assert_eq!(ex.state_hash(), refs.hash_at(rep.position));
        assert!(ex.in_past());
    }
    // Forward again through the recorded future, one instruction of the task at a time.
    let r1 = ex.reg_get(pid, Reg::R1).unwrap();
    let s = ex.step_pid(pid, 3).unwrap();
    assert_eq!(s.executed, 3);
    assert_eq!(ex.task(pid).unwrap().counters.step, count + 3);
    assert_eq!(ex.state_hash(), refs.hash_at(ex.total_executed()));
    assert!(ex.reg_get(pid, Reg::R1).unwrap() >= r1);
    // Going back past the start of the history is refused.
    let e = ex.step_back(pid, 1_000_000).unwrap_err();
    assert!(
        matches!(e, ExecError::Record(RecordError::HistoryStart(_))),
        "{e}"
    );
}

#[test]
fn reverse_continue_stops_at_earlier_breakpoint_hits_and_watch_changes() {
    let code = storer(50);
    let (mut ex, pids, _) = loaded(std::slice::from_ref(&code));
    let pid = pids[0];
    ex.record_start(small());
    ex.step(130);
    // The ST at 0x1C (after LDI×3, LDI32 = 5 words, ADD): each loop iteration stores R1.
    let st_addr = 6 * 4;
    ex.bp_add(pid, st_addr).unwrap();
    let r1_now = ex.reg_get(pid, Reg::R1).unwrap();
    let rep = ex.reverse_continue(pid).unwrap();
    assert_eq!(rep.stop, Some(TravelStop::Breakpoint(st_addr)));
    assert_eq!(ex.registers(pid).unwrap().pc, st_addr);
    let r1 = ex.reg_get(pid, Reg::R1).unwrap();
    assert!(r1 <= r1_now && r1 >= 1);
    // The breakpoint set now is still set after travelling.
    assert_eq!(ex.bp_list(pid).unwrap(), vec![st_addr]);
    let rep2 = ex.reverse_continue(pid).unwrap();
    assert_eq!(rep2.stop, Some(TravelStop::Breakpoint(st_addr)));
    assert_eq!(
        ex.reg_get(pid, Reg::R1).unwrap(),
        r1 - 1,
        "one iteration earlier"
    );
    ex.bp_clear(pid).unwrap();

    // A watch on the stored word: reverse continue stops just after the store.
    ex.watch_add(pid, 0x6000, 4).unwrap();
    let rep3 = ex.reverse_continue(pid).unwrap();
    assert!(matches!(rep3.stop, Some(TravelStop::Watch(_))));
    let mem = ex.read_mem(pid, 0x6000, 4).unwrap();
    assert_eq!(
        u32::from_le_bytes(mem.try_into().unwrap()),
        ex.reg_get(pid, Reg::R1).unwrap()
    );
    assert_eq!(ex.registers(pid).unwrap().pc, st_addr + 4);
    // The first instruction is the earliest stop; before it there is none.
    ex.watch_remove(pid, ex.watch_list(pid).unwrap()[0].id)
        .unwrap();
    ex.bp_add(pid, 0).unwrap();
    let rep4 = ex.reverse_continue(pid).unwrap();
    assert_eq!(
        (rep4.stop, rep4.position),
        (Some(TravelStop::Breakpoint(0)), 0)
    );
    let e = ex.reverse_continue(pid).unwrap_err();
    assert!(
        matches!(e, ExecError::Record(RecordError::NoEarlierStop)),
        "{e}"
    );
}

#[test]
fn host_interventions_are_part_of_the_history() {
    let code = storer(1000);
    let (mut ex, pids, _) = loaded(std::slice::from_ref(&code));
    let pid = pids[0];
    ex.record_start(small());
    ex.step(100);
    let t_poke = ex.total_executed();
    ex.step_back(pid, 1).unwrap();
    let before_poke = ex.state_hash();
    ex.travel_to(t_poke).unwrap();
    ex.reg_set(pid, Reg::R1, 500).unwrap();
    let after_poke = ex.state_hash();
    ex.step(100);
    let end = ex.state_hash();
    // A point in time is reached after the interventions made at it.
    ex.travel_to(t_poke).unwrap();
    assert_eq!(ex.state_hash(), after_poke);
    ex.travel_to(t_poke - 1).unwrap();
    assert_eq!(ex.state_hash(), before_poke, "before the poke");
    ex.travel_to(t_poke + 100).unwrap();
    assert_eq!(ex.state_hash(), end);
    // A poke in the past discards the recorded future and the run goes on from there.
    ex.travel_to(t_poke - 50).unwrap();
    ex.reg_set(pid, Reg::R1, 7).unwrap();
    assert!(!ex.in_past());
    assert_eq!(ex.record_status().unwrap().newest, t_poke - 50);
    ex.step(10);
    assert!(ex.reg_get(pid, Reg::R1).unwrap() > 7);
}

#[test]
fn replay_uses_the_recorded_host_answers_and_leaves_the_files_alone() {
    let (mut ex, clock) = exec();
    let _ = clock;
    let mut fs = hsx_exec::MemFs::new();
    fs.insert("f.txt", b"abcdefghijklmnop");
    let mut ex2 = Executive::new(
        hsx_exec::ExecConfig::default(),
        hsx_exec::Backends::new(hsx_exec::VirtualClock::starting_at(1000)).with_fs(fs),
    );
    std::mem::swap(&mut ex, &mut ex2);
    let pid = load(&mut ex, &reader(8), &rodata());
    ex.record_start(small());
    ex.step(40);
    let mid = ex.total_executed();
    ex.step_back(pid, 10).unwrap();
    ex.travel_to(mid).unwrap();
    ex.step(10_000);
    // All 16 bytes arrived in order: the replay did not read the file a second time.
    assert_eq!(ex.read_mem(pid, 0x5000, 16).unwrap(), b"abcdefghijklmnop");
    assert_eq!(ex.task(pid).unwrap().exit_status, Some(0x5010));
}

#[test]
fn clock_readings_are_replayed() {
    let programs = vec![sleeper(5, 6), storer(400)];
    let (mut ex, _, clock) = loaded(&programs);
    ex.record_start(small());
    let mut marks = Vec::new();
    for _ in 0..40 {
        ex.step(37);
        clock.advance(1);
        marks.push((ex.total_executed(), ex.state_hash()));
    }
    for &(t, h) in marks.iter().rev().step_by(3) {
        ex.travel_to(t).unwrap();
        assert_eq!(ex.state_hash(), h, "at {t}");
    }
}

#[test]
fn the_history_stays_within_its_bounds() {
    let (mut ex, pids, _) = loaded(&[spin()]);
    ex.record_start(RecordConfig {
        interval: 1000,
        max_snapshots: 4,
        ..RecordConfig::default()
    });
    ex.step(50_000);
    let st = ex.record_status().unwrap();
    assert!(st.snapshots <= 4, "{st:?}");
    assert!(st.oldest >= 45_000, "{st:?}");
    assert!(matches!(
        ex.travel_to(100).unwrap_err(),
        ExecError::Record(RecordError::HistoryStart(_))
    ));
    assert!(ex.travel_to(st.oldest).is_ok());
    assert!(
        ex.step_back(pids[0], 1).is_err(),
        "nothing before the oldest snapshot"
    );
    assert!(ex.travel_to(st.newest).is_ok());
    assert!(ex.step_back(pids[0], 1).is_ok());
    ex.record_stop();
    assert!(ex.record_status().is_none());
    assert!(matches!(
        ex.step_back(pids[0], 1).unwrap_err(),
        ExecError::Record(RecordError::NotRecording)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// Random multi-task programs with mailboxes and random call sizes: every point the
    /// travel reaches equals the single-stepped run.
    #[test]
    fn travel_to_any_point_matches_the_single_stepped_run(
        k in 1i32..10, n in 1i32..20, m in 0i32..20, s in 10i32..300,
        chunks in proptest::collection::vec(1u64..400, 1..12),
        pokes in proptest::collection::vec(proptest::option::weighted(0.3, (0usize..3, 0u32..1000)), 12),
        targets in proptest::collection::vec(0u64..4000, 1..8),
        interval in 50u64..800,
    ) {
        let programs = vec![producer(k, n), consumer(m), storer(s)];
        let pokes = &pokes[..chunks.len()];
        let refs = Reference::with_pokes(&programs, &chunks, pokes);
        let (mut ex, pids, _) = loaded(&programs);
        ex.record_start(RecordConfig { interval, ..RecordConfig::default() });
        for (&c, &p) in chunks.iter().zip(pokes) {
            ex.step(c);
            poke(&mut ex, &pids, p);
        }
        let end = ex.total_executed();
        let end_hash = ex.state_hash();
        for t in targets {
            let t = t % (end + 1);
            ex.travel_to(t).unwrap();
            if !refs.ambiguous(t) {
                prop_assert_eq!(ex.state_hash(), refs.hash_at(t), "at {}", t);
            }
        }
        // Back at the end: the state after the last poke.
        ex.travel_to(end).unwrap();
        prop_assert_eq!(ex.state_hash(), end_hash);
    }
}

/// Print one byte every `k` iterations, `n` times, via UART.
fn printer(k: i32, n: i32) -> Vec<u32> {
    let mut a = Asm::new();
    a.ldi(7, 0).ldi(8, n).ldi(9, 1);
    let top = a.here();
    a.ldi(10, k);
    let inner = a.here();
    a.sub(10, 10, 9).jnz(inner);
    a.ldi32(1, PAYLOAD).ldi(2, 1).svc(1, 1);
    a.add(7, 7, 9).cmp(7, 8).jnz(top).ldi(0, 0).ret();
    a.build()
}

fn with_file(content: &[u8]) -> (Executive, hsx_exec::VirtualClock) {
    let clock = hsx_exec::VirtualClock::starting_at(1000);
    let mut fs = hsx_exec::MemFs::new();
    fs.insert("f.txt", content);
    let ex = Executive::new(
        hsx_exec::ExecConfig::default(),
        hsx_exec::Backends::new(clock.clone()).with_fs(fs),
    );
    (ex, clock)
}

fn output(ex: &mut Executive) -> Vec<(Option<u32>, Vec<u8>)> {
    ex.drain_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            hsx_exec::EventKind::Stdout(d) => Some((e.pid, d)),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// A recorded run exported as a log replays in a fresh executive to the same state and
    /// the same output, although time moved differently and the file it read changed.
    #[test]
    fn a_recording_replays_in_a_fresh_executive(
        k in 1i32..8, n in 1i32..12, ms in 1i32..20, s in 10i32..200, pk in 1i32..30,
        calls in proptest::collection::vec((1u64..3000, 0u64..15), 1..20),
        to in proptest::option::of(0u64..5000),
    ) {
        let programs = vec![producer(k, n), consumer(n), sleeper(ms, 4), storer(s), reader(6), printer(pk, 5)];
        let (mut ex, clock) = with_file(b"0123456789abcdef");
        for p in &programs {
            load(&mut ex, p, &rodata());
        }
        ex.record_start(RecordConfig::default());
        let mut out = Vec::new();
        let mut marks = vec![(0, ex.state_hash())];
        for (c, adv) in calls {
            ex.step(c);
            clock.advance(adv);
            out.extend(output(&mut ex));
            marks.push((ex.total_executed(), ex.state_hash()));
        }
        let log = ex.record_log().expect("complete");
        let end = ex.total_executed();
        prop_assert_eq!(log.end, end);

        let (mut fresh, _) = with_file(b"changed!");
        for p in &programs {
            load(&mut fresh, p, &rodata());
        }
        let _ = output(&mut fresh);
        let target = to.map(|t| t % (end + 1));
        fresh.replay_log(log, target).unwrap();
        match target {
            None => {
                prop_assert_eq!(fresh.state_hash(), ex.state_hash());
                prop_assert_eq!(output(&mut fresh), out);
            }
            Some(t) => {
                prop_assert_eq!(fresh.total_executed(), t);
                if let Some(&(_, h)) = marks.iter().find(|m| m.0 == t) {
                    prop_assert_eq!(fresh.state_hash(), h);
                }
            }
        }
    }
}
