//! The `ratio` bench's guest programs compute exactly what their native Rust twins compute
//! (small sizes; no clocks involved).

#[path = "../benches/ratio/workloads.rs"]
mod workloads;

#[test]
fn every_guest_checksum_equals_the_native_one() {
    for w in workloads::all(100) {
        let native = (w.native)();
        let mut task = workloads::guest_task(w.name, &w.source);
        let (n, r0) = workloads::run_guest(&mut task);
        assert!(n > 1000, "{}: only {n} instructions", w.name);
        assert_eq!(r0, native, "{} (pre-decoded)", w.name);
        let mut task = workloads::guest_task_words(w.name, &w.source);
        assert_eq!(
            workloads::run_guest(&mut task),
            (n, r0),
            "{} (plain)",
            w.name
        );
    }
}
