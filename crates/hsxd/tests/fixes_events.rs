//! Behaviour fixes found while documenting the daemon (docs/protocol.md) that concern
//! events, each over TCP against a real executive: `trace_step` register names, value and
//! mailbox payloads, categories (`can_tx`), no internal stdio drain events, scheduler
//! reasons and trace, and subscribe filter validation. The numbers are the fixes' own;
//! the others are in `fixes_commands.rs`.

mod common;
mod fixes_support;

use common::{Client, TestServer, err, is_event, ok, open_session};
use fixes_support::{SPIN, load, write};
use serde_json::{Value, json};

fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Opens a session and subscribes this connection with `filters`.
async fn subscribe(s: &TestServer, c: &mut Client, filters: Value) {
    let sid = open_session(s, json!({"capabilities": {"features": ["events"]}})).await;
    let r = c
        .rpc(json!({"cmd": "events.subscribe", "session": sid, "filters": filters}))
        .await;
    ok(&r);
}

/// Reads lines until an event matches `pred`; returns every event seen up to and
/// including it (events kept aside while waiting for replies come first, and are used up).
async fn events_until(c: &mut Client, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen: Vec<Value> = std::mem::take(&mut c.events);
    if let Some(i) = seen.iter().position(&pred) {
        // Keep what came after the match for later waits.
        c.events = seen.split_off(i + 1);
        return seen;
    }
    loop {
        let v = c.recv().await;
        if is_event(&v) {
            let hit = pred(&v);
            seen.push(v);
            if hit {
                return seen;
            }
        }
    }
}

async fn event_where(c: &mut Client, pred: impl Fn(&Value) -> bool) -> Value {
    events_until(c, pred).await.pop().expect("event")
}

// ---------------------------------------------------------------- 1. trace_step names

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_step_changed_regs_are_register_names_as_in_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prog = write(
        dir.path(),
        "flags.mvasm",
        ".name \"flags\"\n.entry main\n.text\nmain:\n    LDI R1, 5\n    CMP R1, R1\n    JMP main\n",
    );
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    subscribe(&s, &mut c, json!({"categories": ["trace_step"]})).await;
    let pid = load(&mut c, &prog, None).await;
    ok(&c
        .rpc(json!({"cmd": "trace", "pid": pid, "mode": "on"}))
        .await);
    ok(&c.rpc(json!({"cmd": "step", "pid": pid, "steps": 2})).await);
    let evs = events_until(&mut c, |e| {
        e["type"] == "trace_step" && e["data"]["pc"] == 4 && e["pid"] == pid
    })
    .await;
    let ldi = evs
        .iter()
        .find(|e| e["type"] == "trace_step" && e["data"]["pc"] == 0)
        .expect("LDI trace_step");
    let cmp = evs.last().expect("CMP trace_step");
    assert_eq!(ldi["data"]["changed_regs"], json!(["R1"]), "{ldi}");
    let cmp_changed = cmp["data"]["changed_regs"].as_array().expect("list");
    assert!(cmp_changed.contains(&json!("PSW")), "{cmp}");
    assert!(cmp_changed.iter().all(Value::is_string), "{cmp}");

    // The records of the same instructions say the same.
    let r = c
        .rpc(json!({"cmd": "trace", "op": "records", "pid": pid}))
        .await;
    let recs = ok(&r)["trace"]["records"]
        .as_array()
        .expect("records")
        .clone();
    for ev in [ldi, cmp] {
        let rec = recs
            .iter()
            .find(|r| r["pc"] == ev["data"]["pc"] && r["steps"] == ev["data"]["steps"])
            .expect("record for the event");
        assert_eq!(
            rec["changed_regs"], ev["data"]["changed_regs"],
            "{rec} vs {ev}"
        );
        assert_eq!(rec["flags"], ev["data"]["flags"]);
    }
    s.stop().await;
}

// ---------------------------------------------------- 2. value and mailbox event fields

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn value_and_command_events_carry_typed_fields() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    subscribe(&s, &mut c, json!({"categories": ["values", "commands"]})).await;
    let pid = load(&mut c, &example("values.mvasm"), None).await;
    let reg = event_where(&mut c, |e| e["type"] == "value_registered").await;
    let d = &reg["data"];
    assert!(d.get("detail").is_none(), "{reg}");
    assert_eq!(
        (
            d["oid"].clone(),
            d["group_id"].clone(),
            d["value_id"].clone(),
            d["caller_pid"].clone(),
            d["pid"].clone()
        ),
        (json!(257), json!(1), json!(1), json!(pid), json!(pid)),
        "{reg}"
    );
    assert!(d["flags"].is_u64() && d["auth_level"].is_u64() && d["desc_head"].is_u64());
    let creg = event_where(&mut c, |e| e["type"] == "cmd_registered").await;
    assert_eq!(creg["data"]["cmd_id"], 1, "{creg}");
    assert_eq!(creg["data"]["oid"], 257, "{creg}");

    let r = c
        .rpc(json!({"cmd": "val.set", "oid": 257, "value": 30.0}))
        .await;
    assert_eq!(ok(&r)["value"]["status"], 0, "{r}");
    let ch = event_where(&mut c, |e| e["type"] == "value_changed").await;
    let d = &ch["data"];
    assert_eq!(d["old_value"], json!(21.5), "{ch}");
    assert_eq!(d["new_value"], json!(30.0), "{ch}");
    assert_eq!(d["old_f16"], json!(0x4D60), "{ch}");
    assert_eq!(d["new_f16"], json!(0x4F80), "{ch}");
    assert_eq!(
        (d["group_id"].clone(), d["value_id"].clone()),
        (json!(1), json!(1))
    );
    s.stop().await;
}

const MAILBOX_PROG: &str = r#"
.name "mbx"
.entry main
.text
main:
    LDI   R1, 99                ; a handle that does not exist
    LDI32 R2, msg
    LDI   R3, 1
    LDI   R4, 0
    LDI   R5, 0
    SVC   5, 2                  ; SEND -> INVALID_HANDLE, mailbox_error
    LDI32 R1, qname
    LDI   R2, 24                ; room for one 8-byte message (16 with its header)
    LDI   R3, 3
    SVC   5, 1                  ; BIND
    LDI32 R1, qname
    LDI   R2, 0
    SVC   5, 0                  ; OPEN -> R1 handle
    MOV   R8, R1
    MOV   R1, R8
    LDI32 R2, msg
    LDI   R3, 8
    LDI   R4, 0
    LDI   R5, 0
    SVC   5, 2                  ; fits
    MOV   R1, R8
    LDI32 R2, msg
    LDI   R3, 8
    LDI   R4, 0
    LDI   R5, 0
    SVC   5, 2                  ; full -> WOULDBLOCK, mailbox_backpressure
    LDI   R10, 70
more:
    LDI32 R1, qname
    LDI   R2, 0
    SVC   5, 0                  ; OPEN until the per-task handle limit
    LDI   R9, 1
    SUB   R10, R10, R9
    LDI   R9, 0
    CMP   R10, R9
    JNZ   more
hang:
    JMP   hang                  ; stays alive: counters go with the task
.data
qname:
    .asciz "app:q"
msg:
    .ascii "abcdefgh"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rare_mailbox_events_carry_typed_fields_and_info_has_mailbox_counters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prog = write(dir.path(), "mbx.mvasm", MAILBOX_PROG);
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    subscribe(
        &s,
        &mut c,
        json!({"categories": ["mailbox_error", "mailbox_backpressure", "mailbox_exhausted"]}),
    )
    .await;
    let pid = load(&mut c, &prog, None).await;
    let r = c
        .rpc(json!({"cmd": "step", "pid": pid, "steps": 2000}))
        .await;
    ok(&r);
    let evs = events_until(&mut c, |e| e["type"] == "mailbox_exhausted").await;
    for e in &evs {
        assert!(e["data"].get("detail").is_none(), "{e}");
    }
    let error = evs
        .iter()
        .find(|e| e["type"] == "mailbox_error")
        .expect("mailbox_error");
    assert_eq!(
        error["data"],
        json!({"pid": pid, "fn": 2, "fn_name": "send", "status": 2, "error": "invalid_handle"})
    );
    let bp = evs
        .iter()
        .find(|e| e["type"] == "mailbox_backpressure")
        .expect("mailbox_backpressure");
    let d = &bp["data"];
    assert_eq!(d["policy"], "single", "{bp}");
    assert_eq!(d["capacity"], 24, "{bp}");
    assert_eq!(d["bytes_used"], 16, "{bp}");
    assert_eq!(d["requested"], 16, "{bp}");
    assert!(d["descriptor"].is_u64(), "{bp}");
    let ex = evs.last().expect("mailbox_exhausted");
    assert_eq!(ex["data"]["reason"], "handle_limit", "{ex}");
    assert_eq!(ex["data"]["pid"], pid, "{ex}");
    assert!(ex["data"]["handle_limit"].as_u64().unwrap_or(0) > 0, "{ex}");

    // §5.6: `info.scheduler.mailbox_counters` per task (three SENDs were counted).
    let r = c.rpc(json!({"cmd": "info"})).await;
    let mc = &ok(&r)["info"]["scheduler"]["mailbox_counters"][pid.to_string()];
    assert!(mc["MAILBOX_STEP"].as_u64().unwrap_or(0) >= 3, "{r}");
    assert_eq!(mc["MAILBOX_WAKE"], 0, "{r}");
    assert_eq!(mc["MAILBOX_TIMEOUT"], 0, "{r}");
    s.stop().await;
}

// ------------------------------------------------------------------ 4. can_tx category

#[test]
fn every_executive_event_type_is_a_known_category() {
    use hsx_exec::event::{
        BreakPhase, BreakReason, DebugBreak, FaultInfo, SchedulerSwitch, StateDetails,
        SwitchReason, TraceRecord, Warning, WatchUpdate,
    };
    use hsx_exec::mailbox::{BackpressurePolicy, ExhaustedReason, MailboxEvent, OverrunReason};
    use hsx_exec::values::ValEvent;
    use hsx_exec::{EventKind, StateReason, TaskState};
    use hsxd::events::KNOWN_CATEGORIES;

    let mbx = [
        MailboxEvent::Send {
            pid: 1,
            descriptor: 1,
            handle: 1,
            length: 0,
            flags: 0,
            channel: 0,
        },
        MailboxEvent::Recv {
            pid: 1,
            descriptor: 1,
            handle: 1,
            length: 0,
            flags: 0,
            channel: 0,
            src_pid: 0,
        },
        MailboxEvent::Wait {
            pid: 1,
            descriptor: 1,
            handle: 1,
            timeout: 0,
            deadline_ms: None,
        },
        MailboxEvent::Wake {
            pid: 1,
            descriptor: 1,
            handle: 1,
            status: 0,
            length: 0,
            flags: 0,
            channel: 0,
            src_pid: 0,
        },
        MailboxEvent::Timeout {
            pid: 1,
            descriptor: 1,
            handle: 1,
        },
        MailboxEvent::Overrun {
            pid: 1,
            descriptor: 1,
            dropped_seq: 0,
            dropped_length: 0,
            dropped_flags: 0,
            channel: 0,
            reason: OverrunReason::FanoutDrop,
            queue_depth: 0,
        },
        MailboxEvent::Backpressure {
            descriptor: 1,
            policy: BackpressurePolicy::Single,
            capacity: 0,
            bytes_used: 0,
            requested: 0,
            tap: None,
            limit: 0,
        },
        MailboxEvent::Exhausted {
            reason: ExhaustedReason::HandleLimit,
            pid: Some(1),
            limit: 0,
            target: None,
        },
        MailboxEvent::Error {
            pid: 1,
            fn_id: 0,
            status: 0,
        },
    ];
    let vals = [
        ValEvent::ValueRegistered {
            pid: 1,
            caller_pid: 1,
            oid: 1,
            flags: 0,
            auth_level: 0,
            desc_head: 0,
        },
        ValEvent::ValueChanged {
            pid: 1,
            caller_pid: 1,
            oid: 1,
            old_f16: 0,
            new_f16: 0,
            flags: 0,
            auth_level: 0,
        },
        ValEvent::CmdRegistered {
            pid: 1,
            oid: 1,
            flags: 0,
            auth_level: 0,
            desc_head: 0,
        },
        ValEvent::CmdInvoked {
            caller_pid: 1,
            owner_pid: 1,
            oid: 1,
            is_async: false,
        },
        ValEvent::CmdCompleted {
            caller_pid: 1,
            owner_pid: 1,
            oid: 1,
            status: 0,
            result: None,
        },
    ];
    let fault = FaultInfo {
        code: 0,
        name: "DIV_ZERO",
        pc: 0,
    };
    let mut kinds = vec![
        EventKind::TaskState {
            prev_state: None,
            new_state: TaskState::Running,
            reason: StateReason::Loaded,
            details: Box::new(StateDetails::default()),
        },
        EventKind::Scheduler(SchedulerSwitch {
            prev_pid: 1,
            next_pid: None,
            reason: SwitchReason::Returned,
            quantum_remaining: None,
            prev_state: None,
            next_state: None,
            post_state: None,
            executed: 0,
        }),
        EventKind::TraceStep(Box::new(TraceRecord {
            seq: 1,
            pid: 1,
            pc: 0,
            next_pc: 4,
            opcode: 0,
            extended_word: None,
            flags: 0,
            steps: 1,
            regs: [0; 16],
            changed: 0,
            mem_access: None,
            ts_ms: 0,
        })),
        EventKind::DebugBreak(DebugBreak {
            pid: 1,
            pc: 0,
            next_pc: 0,
            phase: BreakPhase::Pre,
            reason: BreakReason::Breakpoint,
        }),
        EventKind::WatchUpdate(WatchUpdate {
            watch_id: 1,
            address: 0,
            length: 0,
            old: Vec::new(),
            new: Vec::new(),
        }),
        EventKind::Stdout(Vec::new()),
        EventKind::Stderr(Vec::new()),
        EventKind::Fault(fault),
        EventKind::CanTx {
            id: 1,
            data: Vec::new(),
        },
        EventKind::Warning(Warning::Unsupported("x")),
    ];
    kinds.extend(mbx.into_iter().map(EventKind::Mailbox));
    kinds.extend(vals.into_iter().map(EventKind::Value));
    assert_eq!(kinds.len(), 24);
    for k in &kinds {
        assert!(
            KNOWN_CATEGORIES.contains(&k.name()),
            "`{}` is published but is no known category",
            k.name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn can_tx_can_be_subscribed_to() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prog = write(
        dir.path(),
        "can.mvasm",
        ".name \"can\"\n.entry main\n.text\nmain:\n    LDI R1, 0x123\n    LDI32 R2, payload\n    LDI R3, 2\n    SVC 2, 0\n    LDI R0, 0\n    SVC 1, 0\n.data\npayload:\n    .ascii \"hi\"\n",
    );
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    subscribe(&s, &mut c, json!({"categories": ["can_tx"]})).await;
    let pid = load(&mut c, &prog, None).await;
    ok(&c.rpc(json!({"cmd": "step", "pid": pid, "steps": 10})).await);
    let ev = event_where(&mut c, |e| e["type"] == "can_tx").await;
    assert_eq!(ev["pid"], pid);
    assert_eq!(ev["data"], json!({"id": 0x123, "data": "6869"}));
    s.stop().await;
}

// ----------------------------------------------------------- 6. no internal drain events

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_writes_are_not_followed_by_internal_recv_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prog = write(
        dir.path(),
        "out.mvasm",
        ".name \"out\"\n.entry main\n.text\nmain:\n    LDI R1, 1\n    LDI32 R2, msg\n    LDI R3, 3\n    SVC 4, 2\n    LDI R1, 2\n    LDI32 R2, msg\n    LDI R3, 3\n    SVC 4, 2\n    LDI R0, 0\n    SVC 1, 0\n.data\nmsg:\n    .ascii \"hi\\n\"\n",
    );
    let spin = write(dir.path(), "spin.mvasm", SPIN);
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    subscribe(
        &s,
        &mut c,
        json!({"categories": ["stdout", "stderr", "mailbox_send", "mailbox_recv", "task_state"]}),
    )
    .await;
    let pid = load(&mut c, &prog, None).await;
    ok(&c.rpc(json!({"cmd": "step", "pid": pid, "steps": 50})).await);
    let r = c.rpc(json!({"cmd": "listen", "pid": pid})).await;
    let msgs = ok(&r)["messages"].as_array().expect("messages").clone();
    assert_eq!(msgs.len(), 2, "{r}");
    // A later load is the marker: everything the writes and `listen` caused came before.
    let marker = load(&mut c, &spin, None).await;
    let evs = events_until(&mut c, |e| e["type"] == "task_state" && e["pid"] == marker).await;
    let kinds: Vec<&str> = evs.iter().filter_map(|e| e["type"].as_str()).collect();
    assert!(kinds.contains(&"stdout"), "{kinds:?}");
    assert!(kinds.contains(&"stderr"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "mailbox_send").count(),
        2,
        "{kinds:?}"
    );
    assert!(!kinds.contains(&"mailbox_recv"), "{evs:?}");
    s.stop().await;
}

// ------------------------------------------------- 7 and 11. scheduler reason and trace

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_switch_after_a_return_says_returned_and_sched_keeps_a_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let quick = write(
        dir.path(),
        "quick.mvasm",
        ".name \"quick\"\n.entry main\n.text\nmain:\n    LDI R0, 7\n    RET\n",
    );
    let spin = write(dir.path(), "spin.mvasm", SPIN);
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    subscribe(&s, &mut c, json!({"categories": ["scheduler"]})).await;
    let a = load(&mut c, &quick, None).await;
    let b = load(&mut c, &spin, None).await;
    ok(&c
        .rpc(json!({"cmd": "sched", "pid": a, "quantum": 10}))
        .await);
    ok(&c.rpc(json!({"cmd": "step", "steps": 1})).await);
    ok(&c.rpc(json!({"cmd": "step", "steps": 5})).await);
    let ev = event_where(&mut c, |e| {
        e["type"] == "scheduler" && e["data"]["prev_pid"] == a
    })
    .await;
    assert_eq!(ev["data"]["reason"], "returned", "{ev}");
    assert_eq!(ev["data"]["post_state"], "returned", "{ev}");
    assert_eq!(ev["pid"], b);

    let r = c.rpc(json!({"cmd": "sched"})).await;
    let trace = ok(&r)["scheduler"]["trace"]
        .as_array()
        .expect("trace")
        .clone();
    let entry = trace
        .iter()
        .find(|t| t["prev_pid"] == a)
        .expect("switch in trace");
    assert_eq!(entry["event"], "rotate");
    assert_eq!(entry["pid"], b);
    assert_eq!(entry["reason"], "returned");
    assert!(entry["ts"].is_f64(), "{entry}");
    // More switches, then `limit` cuts to the newest.
    ok(&c.rpc(json!({"cmd": "load", "path": spin})).await);
    ok(&c.rpc(json!({"cmd": "step", "steps": 1})).await);
    let all = c.rpc(json!({"cmd": "sched"})).await;
    let all = all["scheduler"]["trace"].as_array().expect("trace").clone();
    assert!(all.len() >= 2, "{all:?}");
    let r = c.rpc(json!({"cmd": "sched", "limit": "1"})).await;
    assert_eq!(ok(&r)["scheduler"]["trace"], json!([all.last()]), "{r}");
    let r = c.rpc(json!({"cmd": "sched", "limit": 0})).await;
    assert_eq!(ok(&r)["scheduler"]["trace"], json!([]));
    let r = c.rpc(json!({"cmd": "info"})).await;
    assert_eq!(ok(&r)["info"]["scheduler"]["trace"], json!(all), "{r}");
    s.stop().await;
}

// ------------------------------------------------------ 10. subscribe filter validation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_rejects_filters_that_are_not_an_object() {
    let s = TestServer::start_exec().await;
    let sid = open_session(&s, json!({})).await;
    for bad in [json!([1]), json!("task_state"), json!(3), json!(true)] {
        let r = s
            .one_shot(json!({"cmd": "events.subscribe", "session": sid, "filters": bad}))
            .await;
        assert_eq!(
            err(&r),
            "invalid_filters:filters must be an object or null",
            "{bad}"
        );
    }
    let mut c = s.client().await;
    let r = c
        .rpc(json!({"cmd": "events.subscribe", "session": sid, "filters": null}))
        .await;
    assert!(ok(&r)["events"]["token"].is_string(), "{r}");
    s.stop().await;
}
