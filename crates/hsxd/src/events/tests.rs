//! The hub and bus: envelopes, filters, replay, delivery, back-pressure and close reasons.

use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use crate::error::ProtoError;

fn ev(kind: &'static str, pid: Option<u32>) -> Event {
    Event::new(kind, pid, json!({}))
}

fn params(session: &str, conn: u64, cap: usize, since: Option<u64>) -> SubscribeParams {
    SubscribeParams {
        session: session.into(),
        conn,
        filter: EventFilter::all(),
        since_seq: since,
        max_events: cap,
    }
}

fn drain(hub: &mut EventHub, h: &SubShared) -> Vec<Arc<EventRecord>> {
    let mut out = Vec::new();
    assert_eq!(hub.take(h, &mut out), Take::Open);
    out
}

#[test]
fn envelope_shape() {
    let mut hub = EventHub::new(8);
    let r = hub.publish(
        Event::new("task_state", Some(3), json!({"new_state": "running"})),
        12.5,
    );
    assert_eq!(
        r.to_value(),
        json!({"seq":1,"ts":12.5,"type":"task_state","pid":3,"data":{"new_state":"running"}})
    );
    let parsed: Value = serde_json::from_str(r.line()).unwrap_or(Value::Null);
    assert_eq!(parsed, r.to_value());
    let g = hub.publish(ev("scheduler", None).at(1.0), 99.0);
    assert_eq!(g.seq, 2);
    assert_eq!(g.ts, 1.0);
    assert_eq!(g.to_value()["pid"], Value::Null);
}

#[test]
fn filters() {
    let f = EventFilter::new(
        Some(vec![2, 1, 2]),
        Some(vec!["debug_break".into(), "stdio".into()]),
    )
    .unwrap_or_default();
    let mut hub = EventHub::new(8);
    assert!(f.matches(&hub.publish(ev("debug_break", Some(1)), 0.0)));
    assert!(f.matches(&hub.publish(ev("stdout", Some(2)), 0.0)));
    assert!(!f.matches(&hub.publish(ev("stdout", Some(3)), 0.0)));
    assert!(!f.matches(&hub.publish(ev("debug_break", None), 0.0)));
    assert!(!f.matches(&hub.publish(ev("trace_step", Some(1)), 0.0)));
    assert_eq!(
        EventFilter::new(None, Some(vec!["bogus".into()])),
        Err(ProtoError::UnsupportedCategory("bogus".into()))
    );
}

#[test]
fn replay_and_eviction() {
    let mut hub = EventHub::new(4);
    for _ in 0..6 {
        hub.publish(ev("task_state", Some(1)), 0.0);
    }
    // History holds 3..=6; 1 and 2 are gone.
    assert_eq!(
        hub.subscribe(params("s", 1, 16, Some(1)), "s:t".into(), 0.0)
            .err(),
        Some(ProtoError::SeqEvicted)
    );
    let ack = hub.subscribe(params("s", 1, 16, Some(2)), "s:t".into(), 0.0);
    let ack = ack.unwrap_or_else(|_| unreachable!());
    assert_eq!(ack.cursor, 6);
    assert_eq!(ack.pending, 4);
    let seqs: Vec<u64> = drain(&mut hub, &ack.handle).iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [3, 4, 5, 6]);
    assert_eq!(ack.to_json()["since_seq"], json!(2));
    assert_eq!(ack.to_json()["retention_ms"], json!(5000));
}

#[test]
fn live_delivery_ack_and_pending_per_subscriber() {
    let mut hub = EventHub::new(64);
    let narrow = EventFilter::new(None, Some(vec!["debug_break".into()])).unwrap_or_default();
    let mut p = params("a", 1, 8, None);
    p.filter = narrow;
    let a = hub
        .subscribe(p, "a:1".into(), 0.0)
        .unwrap_or_else(|_| unreachable!());
    // 1000 unrelated events do not count against a narrow subscriber.
    for _ in 0..1000 {
        hub.publish(ev("trace_step", Some(1)), 0.0);
    }
    let b = hub.publish(ev("debug_break", Some(1)), 0.0);
    assert_eq!(hub.metrics("a").map(|m| m.pending), Some(1));
    assert_eq!(drain(&mut hub, &a.handle).len(), 1);
    let m = hub.ack("a", b.seq).unwrap_or_else(|| unreachable!());
    assert_eq!((m.pending, m.drops, m.last_ack), (0, 0, b.seq));
    // A lower ack is ignored.
    let m = hub.ack("a", 1).unwrap_or_else(|| unreachable!());
    assert_eq!(m.last_ack, b.seq);
    assert!(hub.ack("nobody", 1).is_none());
}

#[test]
fn overflow_drops_oldest_and_warns_rate_limited() {
    let mut hub = EventHub::new(16);
    let a = hub
        .subscribe(params("a", 1, 4, None), "a:1".into(), 0.0)
        .unwrap_or_else(|_| unreachable!());
    for _ in 0..4 {
        hub.publish(ev("trace_step", Some(1)), 0.0);
    }
    assert_eq!(drain(&mut hub, &a.handle).len(), 4);
    // Ring full of written, unacked events; 12 more arrive without any ack.
    for _ in 0..12 {
        hub.publish(ev("trace_step", Some(1)), 0.0);
    }
    let out = drain(&mut hub, &a.handle);
    let warnings: Vec<&Arc<EventRecord>> = out.iter().filter(|r| r.kind == "warning").collect();
    let normal = out.len() - warnings.len();
    // Only the last 4 fit in the ring; the 8 before were dropped unwritten.
    assert_eq!(normal, 4);
    // One warning at the start of the episode (drop 1), then one per 4 further
    // drops (drops 5 and 9).
    assert_eq!(warnings.len(), 3);
    assert!(
        warnings
            .iter()
            .all(|w| w.data["reason"] == "backpressure" && w.pid.is_none())
    );
    assert_eq!(warnings[0].data["subscription"], json!("a:1"));
    // Lines come out in seq order.
    assert!(out.windows(2).all(|w| w[0].seq < w[1].seq));
    let m = hub.metrics("a").unwrap_or_else(|| unreachable!());
    assert_eq!(m.pending, 4);
    assert_eq!(m.drops, 12);
    // Warnings are not in history.
    assert_eq!(hub.history_len(), 16);
    // Acking everything ends the episode; the next overflow warns at once again.
    hub.ack("a", hub.cursor());
    for _ in 0..5 {
        hub.publish(ev("trace_step", Some(1)), 0.0);
    }
    let out = drain(&mut hub, &a.handle);
    assert_eq!(out.iter().filter(|r| r.kind == "warning").count(), 1);
}

#[test]
fn warning_queue_is_bounded() {
    let mut hub = EventHub::new(0);
    let a = hub
        .subscribe(params("a", 1, 1, None), "a:1".into(), 0.0)
        .unwrap_or_else(|_| unreachable!());
    for _ in 0..10_000 {
        hub.publish(ev("trace_step", Some(1)), 0.0);
    }
    let out = drain(&mut hub, &a.handle);
    assert!(out.len() <= WARNING_QUEUE_CAP + 1);
    assert_eq!(hub.history_len(), 0);
}

#[test]
fn ack_discards_unwritten() {
    let mut hub = EventHub::new(16);
    let a = hub
        .subscribe(params("a", 1, 8, None), "a:1".into(), 0.0)
        .unwrap_or_else(|_| unreachable!());
    for _ in 0..5 {
        hub.publish(ev("trace_step", Some(1)), 0.0);
    }
    hub.ack("a", 3);
    let seqs: Vec<u64> = drain(&mut hub, &a.handle).iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [4, 5]);
}

#[test]
fn replace_unsubscribe_and_close_reasons() {
    let mut hub = EventHub::new(16);
    let first = hub
        .subscribe(params("a", 1, 8, None), "a:1".into(), 0.0)
        .unwrap_or_else(|_| unreachable!());
    let second = hub
        .subscribe(params("a", 2, 8, None), "a:2".into(), 0.0)
        .unwrap_or_else(|_| unreachable!());
    assert_eq!(
        hub.take(&first.handle, &mut Vec::new()),
        Take::Closed(Closed {
            reason: CloseReason::Replaced,
            by_conn: Some(2)
        })
    );
    assert_eq!(hub.subscriber_count(), 1);
    assert!(hub.unsubscribe_session("a", CloseReason::SessionClosed, None));
    assert!(!hub.unsubscribe_session("a", CloseReason::Unsubscribed, None));
    assert_eq!(
        second.handle.closed().map(|c| c.reason),
        Some(CloseReason::SessionClosed)
    );
    let third = hub
        .subscribe(params("b", 3, 8, None), "b:1".into(), 0.0)
        .unwrap_or_else(|_| unreachable!());
    hub.connection_closed(3);
    assert!(third.handle.closed().is_some());
    assert_eq!(hub.subscriber_count(), 0);
}

#[test]
fn bus_counts_subscribers() {
    let bus = EventBus::new(Arc::new(crate::time::ManualTime::new(5.0)));
    assert!(!bus.has_subscribers());
    let ack = bus.with_hub(|hub, now| hub.subscribe(params("a", 1, 4, None), "a:x".into(), now));
    assert!(ack.is_ok());
    assert!(bus.has_subscribers());
    let recs = bus.publish_all([ev("stdout", Some(1)), ev("stderr", Some(1))]);
    assert_eq!(recs.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(recs[0].ts, 5.0);
    assert_eq!(bus.cursor(), 2);
}
