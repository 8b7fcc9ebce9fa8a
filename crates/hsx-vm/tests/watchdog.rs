//! The per-task watchdog: a limit of instructions between SVCs, kept per `run` call.

mod common;

use common::{ins, task};
use hsx_vm::isa::Opcode::*;
use hsx_vm::{Fault, StepResult};
use proptest::prelude::*;

/// `ADD R1, R1, R2` forever (a busy loop with no SVC).
fn busy() -> Vec<u32> {
    vec![ins(Add, 1, 1, 2, 0), ins(Jmp, 0, 0, 0, 0)]
}

/// Nine ADDs then an SVC, forever.
fn polite() -> Vec<u32> {
    let mut w = vec![ins(Add, 1, 1, 2, 0); 9];
    w.push(ins(Svc, 0, 0, 0, 0x100));
    w.push(ins(Jmp, 0, 0, 0, 0));
    w
}

#[test]
fn a_busy_task_trips_after_exactly_its_limit() {
    let mut t = task(&busy());
    t.set_watchdog(100);
    let (n, r) = t.run(1_000);
    assert_eq!(n, 100);
    assert_eq!(
        r,
        StepResult::Fault {
            code: Fault::Watchdog,
            pc: t.pc()
        }
    );
    assert_eq!(t.steps(), 100);
    // It stays tripped: the next instruction is never executed.
    assert_eq!(t.run(5).0, 0);
    assert_eq!(t.steps(), 100);
    // Fed, it gets its limit again.
    t.feed_watchdog();
    assert_eq!(t.run(1_000).0, 100);
    assert_eq!(Fault::Watchdog.name(), "WATCHDOG");
    assert_eq!(Fault::Watchdog.hsx_err(), None);
}

#[test]
fn svcs_feed_it_and_off_means_off() {
    // Between two SVCs the loop runs JMP, nine ADDs and the SVC itself: 11 instructions.
    let mut t = task(&polite());
    t.set_watchdog(11);
    let mut total = 0;
    for _ in 0..50 {
        let (n, r) = t.run(1_000);
        total += n;
        assert_eq!(r, StepResult::Svc { module: 1, func: 0 });
    }
    assert!(total >= 500);
    let mut t = task(&polite());
    t.set_watchdog(10);
    assert_eq!(t.run(1_000).1, StepResult::Svc { module: 1, func: 0 });
    assert!(matches!(
        t.run(1_000),
        (
            10,
            StepResult::Fault {
                code: Fault::Watchdog,
                ..
            }
        )
    ));
    let mut t = task(&busy());
    t.set_watchdog(0);
    assert_eq!(t.run(10_000), (10_000, StepResult::Ok));
}

proptest! {
    /// However the instructions are handed out, it trips at the same instruction.
    #[test]
    fn the_trip_point_does_not_depend_on_slicing(
        limit in 1u64..500,
        slices in proptest::collection::vec(1u64..64, 1..200),
    ) {
        let mut t = task(&busy());
        t.set_watchdog(limit);
        let mut tripped = None;
        for s in slices {
            let (_, r) = t.run(s);
            if let StepResult::Fault { code, pc } = r {
                prop_assert_eq!(code, Fault::Watchdog);
                tripped = Some((t.steps(), pc));
                break;
            }
        }
        if let Some((steps, _)) = tripped {
            prop_assert_eq!(steps, limit);
        } else {
            prop_assert!(t.steps() <= limit);
        }
    }
}
