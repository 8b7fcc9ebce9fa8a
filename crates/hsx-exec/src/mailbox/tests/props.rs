//! Property test: random operation sequences keep the manager's invariants (byte budget,
//! waiter bookkeeping, descriptor pool bound).

use super::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Open(u8, u8),
    Close(u8, u8),
    Send(u8, u8, u8),
    Recv(u8, u8, u8),
    Wait(u8, u8, u8),
    Tap(u8, u8, bool),
    Bind(u8, u8, u8),
    Expire(u8),
    Release(u8),
    Time(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4, 0u8..4).prop_map(|(p, t)| Op::Open(p, t)),
        (0u8..4, 0u8..6).prop_map(|(p, h)| Op::Close(p, h)),
        (0u8..4, 0u8..6, 0u8..80).prop_map(|(p, h, n)| Op::Send(p, h, n)),
        (0u8..4, 0u8..6, 0u8..20).prop_map(|(p, h, n)| Op::Recv(p, h, n)),
        (0u8..4, 0u8..6, 0u8..3).prop_map(|(p, h, t)| Op::Wait(p, h, t)),
        (0u8..4, 0u8..6, any::<bool>()).prop_map(|(p, h, e)| Op::Tap(p, h, e)),
        (0u8..4, 0u8..4, 0u8..4).prop_map(|(p, t, m)| Op::Bind(p, t, m)),
        (0u8..4).prop_map(Op::Expire),
        (0u8..4).prop_map(Op::Release),
        (0u16..2000).prop_map(Op::Time),
    ]
}

const TARGETS: [&str; 4] = ["app:a", "shared:b", "svc:stdio.out@1", "pid:2"];
const MODES: [u16; 4] = [0, mode::RDWR, FAN_DROP, FAN_BLOCK];

proptest! {
    #[test]
    fn invariants_hold_under_random_operations(ops in proptest::collection::vec(op(), 1..120)) {
        let mut m = MailboxManager::new(MailboxConfig { tap_rate_limit: 3, ..MailboxConfig::embedded() });
        let mut now = 0u64;
        for o in ops {
            match o {
                Op::Open(p, t) => { let _ = m.open(u32::from(p), TARGETS[t as usize]); }
                Op::Close(p, h) => { let _ = m.close(u32::from(p), u32::from(h)); }
                Op::Send(p, h, n) => { let _ = m.send(u32::from(p), u32::from(h), &vec![7u8; n as usize], 0, 0); }
                Op::Recv(p, h, n) => { let _ = m.recv(u32::from(p), u32::from(h), u32::from(n)); }
                Op::Wait(p, h, t) => {
                    let timeout = [TIMEOUT_POLL, 5, TIMEOUT_INFINITE][t as usize];
                    if m.waiting(u32::from(p)).is_none() {
                        let _ = m.recv_or_wait(u32::from(p), req(u32::from(h), timeout));
                    }
                }
                Op::Tap(p, h, e) => { let _ = m.tap(u32::from(p), u32::from(h), e); }
                Op::Bind(p, t, md) => { let _ = m.bind(u32::from(p), TARGETS[t as usize], 0, MODES[md as usize]); }
                Op::Expire(p) => { let _ = m.expire(u32::from(p)); }
                Op::Release(p) => { m.release_pid(u32::from(p)); }
                Op::Time(dt) => { now += u64::from(dt); m.set_now(now); let _ = m.expire_due(now); }
            }
            let _ = m.take_completions();
            for d in m.snapshot() {
                prop_assert!(d.bytes_used <= d.capacity);
                for w in &d.waiters {
                    prop_assert!(m.waiting(*w).is_some_and(|(id, _, _)| id == d.descriptor_id));
                }
            }
            prop_assert!(m.descriptor_count() <= 16);
        }
    }
}
