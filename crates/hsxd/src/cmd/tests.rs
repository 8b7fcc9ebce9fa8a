//! Dispatch-table tests: spellings, unknown names, the reference's error strings.
use super::*;
use serde_json::{Value, json};

fn obj(v: Value) -> Obj {
    match v {
        Value::Object(m) => m,
        _ => Obj::new(),
    }
}

#[test]
fn both_spellings_normalise_to_the_same_command() {
    let pairs = [
        (
            ("bp", json!({"op": "set", "pid": 1, "addr": "0x28"})),
            ("bp.add", json!({"pid": "1", "address": 40})),
        ),
        (
            ("bp", json!({"op": "clear", "pid": 1, "addr": 40})),
            ("bp.remove", json!({"pid": 1, "address": "40"})),
        ),
        (("bp", json!({"pid": 1})), ("bp.list", json!({"pid": 1}))),
        (
            ("stack", json!({"pid": 2})),
            ("stack.info", json!({"pid": 2})),
        ),
        (
            ("disasm", json!({"pid": 2, "addr": 0})),
            ("disasm.read", json!({"pid": 2, "address": "0x0"})),
        ),
        (
            ("symbols", json!({"pid": 2, "op": "list"})),
            ("symbols.list", json!({"pid": 2})),
        ),
        (
            ("memory", json!({"pid": 2, "op": "regions"})),
            ("memory.regions", json!({"pid": 2})),
        ),
        (
            ("watch", json!({"pid": 2, "op": "add", "expr": "x"})),
            ("watch.add", json!({"pid": 2, "expr": "x"})),
        ),
        (
            ("watch", json!({"pid": 2, "op": "remove", "id": 4})),
            ("watch.remove", json!({"pid": 2, "id": 4})),
        ),
        (
            ("watch", json!({"pid": 2})),
            ("watch.list", json!({"pid": 2})),
        ),
        (
            ("vm_reg_get", json!({"pid": 2, "reg": 7})),
            ("reg.get", json!({"pid": 2, "reg": "R7"})),
        ),
        (
            ("vm_reg_set", json!({"reg": 7, "value": 5})),
            ("reg.set", json!({"reg": "r7", "value": "5"})),
        ),
        (
            ("step", json!({"pid": 1, "steps": 3})),
            ("vm.step", json!({"pid": 1, "steps": "3"})),
        ),
        (("clock", json!({"op": "start"})), ("start_auto", json!({}))),
        (
            ("clock", json!({"op": "rate", "rate": 5})),
            ("clock.rate", json!({"rate": "5"})),
        ),
        (("clock", json!({})), ("vm.clock", json!({}))),
        (
            ("peek", json!({"pid": 1, "addr": 16})),
            ("mem.read", json!({"pid": 1, "addr": "0x10", "length": 16})),
        ),
        (
            ("resume", json!({"pid": 1})),
            ("continue", json!({"pid": 1})),
        ),
        (
            ("load", json!({"path": "/a.hxe"})),
            ("exec", json!({"path": "/a.hxe"})),
        ),
    ];
    for ((a, ja), (b, jb)) in pairs {
        let ca = Command::parse(a, &obj(ja));
        let cb = Command::parse(b, &obj(jb));
        assert!(ca.is_ok(), "{a}: {ca:?}");
        assert_eq!(ca, cb, "{a} vs {b}");
    }
}

#[test]
fn unknown_names() {
    assert_eq!(
        Command::parse("frobnicate", &Obj::new()),
        Err(ProtoError::UnknownCmd("frobnicate".into()))
    );
    assert_eq!(
        Command::parse("", &Obj::new()),
        Err(ProtoError::UnknownCmd(String::new()))
    );
    assert_eq!(
        Command::parse("bp.frob", &obj(json!({"pid": 1}))),
        Err(ProtoError::msg("unknown bp op 'frob'"))
    );
}

#[test]
fn reference_error_strings() {
    let cases = [
        ("bp", json!({}), "bp requires 'pid'"),
        (
            "bp",
            json!({"pid": 1, "op": "set"}),
            "bp set requires 'addr'",
        ),
        (
            "bp",
            json!({"pid": 1, "op": "set", "addr": "zz"}),
            "invalid breakpoint addr 'zz'",
        ),
        ("pause", json!({}), "pause requires 'pid'"),
        ("kill", json!({}), "kill requires 'pid'"),
        ("exec", json!({}), "exec requires 'path'"),
        (
            "stack",
            json!({"pid": 1, "max": "x"}),
            "stack max must be integer",
        ),
        (
            "stack",
            json!({"pid": 1, "op": "up"}),
            "unknown stack op 'up'",
        ),
        ("clock", json!({"op": "warp"}), "unknown clock op 'warp'"),
        (
            "clock",
            json!({"op": "rate"}),
            "clock rate requires 'rate' value",
        ),
        (
            "clock",
            json!({"op": "rate", "rate": -1}),
            "clock rate must be non-negative",
        ),
        (
            "clock",
            json!({"op": "step", "steps": 0}),
            "clock step steps must be positive",
        ),
        (
            "watch",
            json!({"pid": 1, "op": "add"}),
            "watch add requires 'expr'",
        ),
        (
            "watch",
            json!({"pid": 1, "op": "add", "expr": "  "}),
            "watch expression must be non-empty",
        ),
        (
            "watch",
            json!({"pid": 1, "op": "remove"}),
            "watch remove requires 'id'",
        ),
        (
            "sym",
            json!({"pid": 1, "op": "lookup"}),
            "sym lookup requires 'name'",
        ),
        (
            "sym",
            json!({"pid": 1, "op": "addr"}),
            "sym addr requires 'address'",
        ),
        (
            "symbols",
            json!({"pid": 1, "type": "x"}),
            "symbols.list type must be 'functions', 'variables', or 'all'",
        ),
        (
            "disasm",
            json!({"pid": 1, "mode": "x"}),
            "mode must be 'on-demand' or 'cached'",
        ),
        (
            "send",
            json!({"pid": 1}),
            "send requires 'data' or 'data_hex'",
        ),
        ("val.get", json!({}), "val.get requires 'oid'"),
        ("val.set", json!({"oid": 1}), "val.set requires 'value'"),
        (
            "val.set",
            json!({"oid": 1, "value": "abc"}),
            "val_set requires numeric 'value'",
        ),
        (
            "val.list",
            json!({"oid": "x"}),
            "val.list oid must be numeric",
        ),
        ("cmd.call", json!({}), "cmd.call requires 'oid'"),
        ("trace", json!({}), "trace requires 'pid'"),
        (
            "trace",
            json!({"pid": 1, "mode": "x"}),
            "trace mode must be 'on' or 'off'",
        ),
        (
            "trace",
            json!({"op": "config"}),
            "trace.config requires 'changed-regs <on|off>' or 'buffer <size>'",
        ),
        (
            "trace",
            json!({"op": "records"}),
            "trace records requires 'pid'",
        ),
        (
            "poke",
            json!({"pid": 1, "addr": 0}),
            "poke requires 'data' hex string",
        ),
        (
            "session.terminate",
            json!({}),
            "session.terminate requires 'target'",
        ),
        ("events.ack", json!({}), "events.ack requires 'seq'"),
        (
            "events.ack",
            json!({"seq": "x"}),
            "events.ack seq must be an integer",
        ),
        (
            "events.ack",
            json!({"seq": -1}),
            "ack seq must be non-negative",
        ),
        (
            "stdio_fanout",
            json!({"stream": "x"}),
            "unknown stdio stream 'x'",
        ),
        (
            "stdio_fanout",
            json!({"mode": "x"}),
            "unknown fan-out mode 'x'",
        ),
    ];
    for (name, body, want) in cases {
        let got = Command::parse(name, &obj(body)).map_err(|e| e.to_string());
        assert_eq!(got, Err(want.to_string()), "{name}");
    }
}

#[test]
fn every_reference_name_is_known() {
    let names = [
        "ping",
        "info",
        "attach",
        "detach",
        "load",
        "exec",
        "reload",
        "kill",
        "ps",
        "list",
        "restart",
        "shutdown",
        "pause",
        "resume",
        "step",
        "clock",
        "start_auto",
        "stop_auto",
        "sched",
        "dumpregs",
        "peek",
        "poke",
        "bp",
        "stack",
        "disasm",
        "symbols",
        "sym",
        "memory",
        "watch",
        "trace",
        "mailbox_snapshot",
        "listen",
        "send",
        "stdio_fanout",
        "dmesg",
        "val.list",
        "val.get",
        "val.set",
        "val.stats",
        "cmd.list",
        "cmd.call",
        "cmd.stats",
        "session.open",
        "session.keepalive",
        "session.close",
        "session.current",
        "session.list",
        "session.terminate",
        "events.subscribe",
        "events.ack",
        "events.unsubscribe",
        "vm_reg_get",
        "vm_reg_set",
        "reg.get",
        "reg.set",
        "mem.read",
        "mem.write",
        "continue",
        "vm.step",
        "vm.clock",
        "disasm.read",
        "stack.info",
        "symbols.list",
        "memory.regions",
        "watch.add",
        "watch.remove",
        "watch.list",
        "bp.set",
        "bp.clear",
        "bp.list",
        "bp.add",
        "bp.remove",
        "trace.records",
    ];
    for name in names {
        let r = Command::parse(name, &Obj::new());
        assert!(
            !matches!(r, Err(ProtoError::UnknownCmd(_))),
            "{name} is unknown"
        );
    }
}

#[test]
fn heavy_commands() {
    let step = Command::parse("step", &Obj::new());
    assert!(step.is_ok_and(|c| c.is_heavy()));
    let ping = Command::parse("ping", &Obj::new());
    assert!(ping.is_ok_and(|c| !c.is_heavy()));
}

#[test]
fn bp_addresses_are_masked_to_16_bits() {
    let c = Command::parse(
        "bp",
        &obj(json!({"op": "add", "pid": 1, "addr": "0x12345"})),
    );
    assert_eq!(
        c,
        Ok(Command::Bp {
            pid: 1,
            op: BpOp::Set(0x2345)
        })
    );
}
