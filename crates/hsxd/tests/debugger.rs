//! The debugger commands (protocol.md §2.4) over a real executive, end to end over TCP:
//! symbols at load, `sym`/`symbols`, a breakpoint set by symbol and reached by the auto
//! clock, `stack`, `disasm`, `memory`, symbol and frame-local `watch`es with
//! `watch_update`, and `trace`.

mod common;

use std::path::{Path, PathBuf};

use common::{Client, TestServer, err, is_event, ok, open_session};
use hsx_image::sym::{Local, LocalLocation};
use serde_json::{Value, json};

/// `main` calls `outer` in a loop, `outer` calls `inner`, `inner` adds R1 to `counter`
/// (with the running sum in R3).
const PROGRAM: &str = r#"
.name "dbg"
.entry main
.text
main:
    PUSH  R7
    MOV   R7, R15
    LDI   R1, 3
again:
    CALL  outer
    JMP   again
outer:
    PUSH  R7
    MOV   R7, R15
    CALL  inner
    POP   R7
    RET
inner:
    PUSH  R7
    MOV   R7, R15
    LDI32 R2, counter
    LD    R3, [R2]
    ADD   R3, R3, R1
    ST    [R2], R3
    POP   R7
    RET
.data
counter:
    .word 0
"#;

/// Assembles [`PROGRAM`] with `hsx asm`'s library into `dir` and writes `dbg.hxe` and
/// `dbg.sym`; the `.sym` gets a frame-local `sum` of `inner` living in R3 (the assembler
/// knows no locals; a compiler's `.sym` would carry them).
fn build(dir: &Path) -> PathBuf {
    let src = dir.join("dbg.mvasm");
    std::fs::write(&src, PROGRAM).expect("write source");
    let hxe = dir.join("dbg.hxe");
    let opts = hsx_asm::AsmOptions {
        emit_sym: true,
        output_path: Some(hxe.clone()),
        ..hsx_asm::AsmOptions::default()
    };
    let out = hsx_asm::assemble_files(&[src], &opts).expect("assemble");
    let mut sym = out.sym.expect("sym");
    let inner = sym
        .symbols
        .functions
        .iter()
        .find(|f| f.name == "inner")
        .expect("inner")
        .clone();
    sym.symbols.locals.push(Local {
        name: Some("sum".into()),
        function: "inner".into(),
        locations: vec![LocalLocation {
            start: inner.address,
            end: inner.address + inner.size,
            location: json!("R3"),
        }],
        ..Local::default()
    });
    std::fs::write(&hxe, &out.hxe_bytes).expect("write hxe");
    std::fs::write(dir.join("dbg.sym"), sym.to_json_string()).expect("write sym");
    hxe
}

/// Reads lines until an event of `kind` arrives (events seen while waiting for replies
/// count too).
async fn wait_event(c: &mut Client, kind: &str) -> Value {
    if let Some(i) = c.events.iter().position(|e| e["type"] == kind) {
        return c.events.remove(i);
    }
    loop {
        let v = c.recv().await;
        if is_event(&v) {
            if v["type"] == kind {
                return v;
            }
            c.events.push(v);
        }
    }
}

async fn subscribe(s: &TestServer, c: &mut Client) -> String {
    let sid = open_session(s, json!({"capabilities": {"features": ["events"]}})).await;
    let r = c
        .rpc(json!({"cmd": "events.subscribe", "session": sid}))
        .await;
    ok(&r);
    sid
}

async fn address_of(c: &mut Client, pid: u64, name: &str) -> u64 {
    let r = c
        .rpc(json!({"cmd": "sym", "op": "lookup_name", "pid": pid, "name": name}))
        .await;
    ok(&r)["symbol"]["address"].as_u64().expect("address")
}

fn names(v: &Value, key: &str, field: &str) -> Vec<String> {
    v[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e[field].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breakpoint_by_symbol_then_stack_disasm_watch_and_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hxe = build(dir.path());
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let sid = subscribe(&s, &mut c).await;

    // Load: the .sym next to the image is found and reported, without warnings.
    let r = c.rpc(json!({"cmd": "load", "path": hxe})).await;
    let image = ok(&r)["image"].clone();
    let pid = image["pid"].as_u64().expect("pid");
    assert_eq!(image["symbols"]["loaded"], true, "{image}");
    assert!(
        image["symbols"]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("dbg.sym"))
    );
    assert!(image["symbols"]["count"].as_u64().unwrap_or(0) >= 4);
    assert!(image.get("warnings").is_none(), "{image}");

    // `symbols` and `sym`.
    let r = c
        .rpc(json!({"cmd": "symbols", "pid": pid, "type": "functions"}))
        .await;
    let funcs = names(&ok(&r)["symbols"], "symbols", "name");
    assert_eq!(funcs, ["main", "outer", "inner"]);
    assert!(
        r["symbols"]["symbols"]
            .as_array()
            .expect("list")
            .iter()
            .all(|f| f["type"] == "function" && f["file"].as_str().is_some())
    );
    let r = c.rpc(json!({"cmd": "symbols.list", "pid": pid})).await;
    assert!(names(&ok(&r)["symbols"], "symbols", "name").contains(&"counter".to_string()));
    let inner = address_of(&mut c, pid, "inner").await;
    let outer = address_of(&mut c, pid, "outer").await;
    let counter = address_of(&mut c, pid, "counter").await;
    assert_eq!(counter, 0x4000);
    let r = c
        .rpc(json!({"cmd": "sym", "op": "lookup_addr", "pid": pid, "address": inner + 4}))
        .await;
    assert_eq!(ok(&r)["symbol"]["name"], "inner");
    assert_eq!(r["symbol"]["offset"], 4);
    assert_eq!(r["address"], inner + 4);
    let r = c
        .rpc(json!({"cmd": "sym", "op": "lookup_line", "pid": pid, "address": inner}))
        .await;
    assert!(
        ok(&r)["line"]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("dbg.mvasm")),
        "{r}"
    );
    assert!(r["line"]["line"].as_u64().unwrap_or(0) > 0);
    let r = c
        .rpc(json!({"cmd": "sym", "op": "lookup_name", "pid": pid, "name": "nope"}))
        .await;
    assert_eq!(ok(&r)["symbol"], Value::Null);
    let r = c.rpc(json!({"cmd": "sym", "pid": pid})).await;
    assert_eq!(ok(&r)["symbols"]["loaded"], true);

    // A breakpoint set by symbol, reached by the auto clock.
    let r = c
        .rpc(json!({"cmd": "bp", "op": "set", "pid": pid, "addr": inner}))
        .await;
    assert_eq!(ok(&r)["breakpoints"], json!([inner]));
    ok(&c.rpc(json!({"cmd": "clock", "op": "start"})).await);
    let ev = wait_event(&mut c, "debug_break").await;
    assert_eq!(
        (ev["pid"].as_u64(), ev["data"]["pc"].as_u64()),
        (Some(pid), Some(inner))
    );
    // Non-stop: the task is paused at the breakpoint; the clock keeps running.
    let mut stopped = false;
    for _ in 0..200 {
        if c.rpc(json!({"cmd": "ps"})).await["tasks"]["tasks"][0]["state"] == "paused" {
            stopped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(stopped);

    // The frame chain: inner (at its entry), called from outer, called from main.
    let r = c.rpc(json!({"cmd": "stack", "pid": pid})).await;
    let st = &ok(&r)["stack"];
    assert_eq!(st["truncated"], false, "{st}");
    let frames = names(st, "frames", "func_name");
    assert!(frames.len() >= 2, "{st}");
    assert_eq!(frames[..3], ["inner", "outer", "main"], "{st}");
    assert_eq!(st["frames"][0]["pc"], inner);
    assert!(
        st["frames"][1]["pc"]
            .as_u64()
            .is_some_and(|pc| pc > outer && pc < inner),
        "{st}"
    );
    assert!(
        st["frames"][1]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("dbg.mvasm"))
    );
    assert!(st["frames"][1]["line_num"].as_u64().is_some());

    // Disassembly around the PC marks it and the breakpoint, with labels.
    let r = c
        .rpc(json!({"cmd": "disasm", "pid": pid, "mode": "around_pc", "count": 6}))
        .await;
    let d = &ok(&r)["disasm"];
    let insns = d["instructions"].as_array().expect("instructions");
    assert_eq!(insns.len(), 6, "{d}");
    assert!(d["address"].as_u64().is_some_and(|a| a < inner));
    let at_pc: Vec<&Value> = insns.iter().filter(|i| i["is_pc"] == true).collect();
    assert_eq!(at_pc.len(), 1, "{d}");
    assert_eq!(at_pc[0]["pc"], inner);
    assert_eq!(at_pc[0]["breakpoint"], true);
    assert_eq!(at_pc[0]["label"], "inner");
    assert_eq!(at_pc[0]["text"], "PUSH R7");
    let r = c
        .rpc(json!({"cmd": "disasm", "pid": pid, "addr": 0, "count": 4, "mode": "cached"}))
        .await;
    assert_eq!(ok(&r)["disasm"]["instructions"][0]["label"], "main");
    let again = c
        .rpc(json!({"cmd": "disasm", "pid": pid, "addr": 0, "count": 4, "mode": "cached"}))
        .await;
    assert_eq!(ok(&again)["disasm"]["cached"], true);

    // The memory map, with code and rodata from the .sym.
    let r = c.rpc(json!({"cmd": "memory", "pid": pid})).await;
    let m = &ok(&r)["memory"];
    let regions = names(m, "regions", "name");
    for want in ["code", "rodata", "registers", "stack"] {
        assert!(regions.contains(&want.to_string()), "{m}");
    }
    assert_eq!(m["regions"][0]["source"], "sym");
    assert_eq!(m["layout"]["app_name_base"], "dbg");

    // Watches: a data symbol and a frame-local.
    let r = c
        .rpc(json!({"cmd": "watch", "op": "add", "pid": pid, "expr": "counter"}))
        .await;
    let w = ok(&r)["watch"].clone();
    assert_eq!(
        (
            &w["type"],
            &w["symbol"],
            &w["address"],
            &w["value"],
            &w["mode"]
        ),
        (
            &json!("symbol"),
            &json!("counter"),
            &json!(counter),
            &json!("00000000"),
            &json!("memory")
        )
    );
    let r = c
        .rpc(json!({"cmd": "watch.add", "pid": pid, "expr": "local:sum"}))
        .await;
    let l = ok(&r)["watch"].clone();
    assert_eq!(l["type"], "local");
    assert_eq!(l["location"], "R3");
    assert_eq!(l["description"], "inner::sum");
    assert_ne!(l["id"], w["id"]);
    assert_eq!(
        err(&c
            .rpc(json!({"cmd": "watch", "op": "add", "pid": pid, "expr": "nosuch"}))
            .await),
        format!("symbol 'nosuch' not found for pid {pid}")
    );
    assert_eq!(
        err(&c
            .rpc(json!({"cmd": "watch", "op": "add", "pid": pid, "expr": "local:zz"}))
            .await),
        "local 'zz' is not live in function 'inner' at current PC"
    );

    // Step through inner's body: `counter` and `sum` change.
    ok(&c
        .rpc(json!({"cmd": "bp", "op": "clear_all", "pid": pid}))
        .await);
    // Stop the clock (non-stop would run the resumed task on) and single-step.
    ok(&c.rpc(json!({"cmd": "clock", "op": "stop"})).await);
    ok(&c.rpc(json!({"cmd": "resume", "pid": pid})).await);
    let r = c.rpc(json!({"cmd": "step", "pid": pid, "steps": 6})).await;
    let res = &ok(&r)["result"];
    assert_eq!(res["executed"], 6, "{r}");
    let updates: Vec<&Value> = res["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "watch_update")
        .collect();
    let mem_update = updates
        .iter()
        .find(|e| e["data"]["watch_id"] == w["id"])
        .unwrap_or_else(|| panic!("no counter update in {r}"));
    assert_eq!(mem_update["data"]["new"], "03000000");
    assert_eq!(mem_update["data"]["old"], "00000000");
    assert_eq!(mem_update["data"]["expr"], "counter");
    assert_eq!(mem_update["data"]["symbol"], "counter");
    let local_update = updates
        .iter()
        .find(|e| e["data"]["watch_id"] == l["id"])
        .unwrap_or_else(|| panic!("no local update in {r}"));
    assert_eq!(local_update["data"]["new"], "03000000");
    assert_eq!(local_update["data"]["location"], "R3");
    let streamed = wait_event(&mut c, "watch_update").await;
    assert_eq!(streamed["pid"], pid);
    let r = c.rpc(json!({"cmd": "watch", "pid": pid})).await;
    let list = &ok(&r)["watch"];
    assert_eq!(list["count"], 2);
    assert_eq!(list["watches"][0]["value"], "03000000");
    assert_eq!(list["watches"][1]["value"], "03000000");
    let r = c
        .rpc(json!({"cmd": "watch", "op": "remove", "pid": pid, "id": w["id"]}))
        .await;
    assert_eq!(ok(&r)["watch"]["id"], w["id"]);
    assert_eq!(
        err(&c
            .rpc(json!({"cmd": "watch", "op": "remove", "pid": pid, "id": w["id"]}))
            .await),
        format!("unknown watch {} for pid {pid}", w["id"])
    );

    // Trace: records appear once tracing is on, and trace_step events stream.
    let r = c
        .rpc(json!({"cmd": "trace", "pid": pid, "mode": "on"}))
        .await;
    assert_eq!(ok(&r)["trace"]["enabled"], true);
    assert!(r["trace"]["buffer_size"].as_u64().unwrap_or(0) > 0);
    ok(&c.rpc(json!({"cmd": "step", "pid": pid, "steps": 3})).await);
    let ts = wait_event(&mut c, "trace_step").await;
    assert_eq!(ts["pid"], pid);
    let r = c
        .rpc(json!({"cmd": "trace", "op": "records", "pid": pid}))
        .await;
    let t = &ok(&r)["trace"];
    assert_eq!(t["format"], "hsx.trace/1");
    assert_eq!(t["enabled"], true);
    assert_eq!(t["count"], 3, "{t}");
    let recs = t["records"].as_array().expect("records");
    assert!(recs.iter().all(|r| r["pid"] == pid && r["regs"].is_array()));
    let r = c
        .rpc(json!({"cmd": "trace", "op": "export", "pid": pid, "limit": 1}))
        .await;
    assert_eq!(ok(&r)["trace"]["returned"], 1);
    assert!(r["trace"].get("enabled").is_none());
    let r = c
        .rpc(
            json!({"cmd": "trace", "op": "import", "pid": pid, "session": sid,
                    "records": [{"seq": 999, "pc": 4, "opcode": "0x01000000", "note": "kept"}]}),
        )
        .await;
    let t = &ok(&r)["trace"];
    assert_eq!(t["count"], 1, "{t}");
    assert_eq!(t["records"][0]["note"], "kept");
    assert_eq!(t["records"][0]["opcode"], 0x0100_0000);
    let r = c
        .rpc(json!({"cmd": "trace", "op": "config", "buffer_size": 0}))
        .await;
    assert_eq!(ok(&r)["trace"]["buffer_size"], 0);
    assert_eq!(
        err(&c
            .rpc(
                json!({"cmd": "trace", "op": "import", "pid": pid, "session": sid,
                        "records": []})
            )
            .await),
        "trace buffer disabled"
    );

    // Kill forgets the symbols; the PID is then unknown to `sym` as to the rest.
    ok(&c.rpc(json!({"cmd": "kill", "pid": pid})).await);
    assert_eq!(
        err(&c.rpc(json!({"cmd": "sym", "op": "info", "pid": pid})).await),
        format!("unknown pid {pid}")
    );
    assert_eq!(
        err(&c.rpc(json!({"cmd": "stack", "pid": pid})).await),
        format!("unknown pid {pid}")
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symbols_follow_load_override_reload_and_sym_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hxe = build(dir.path());
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;

    // An explicit override that does not exist: a warning, no table.
    let r = c
        .rpc(json!({"cmd": "load", "path": hxe, "symbols": "missing.sym"}))
        .await;
    let image = &ok(&r)["image"];
    let pid = image["pid"].as_u64().expect("pid");
    assert_eq!(image["symbols"]["loaded"], false);
    let real_dir = std::fs::canonicalize(dir.path()).expect("canonical dir");
    let missing = real_dir.join("missing.sym").display().to_string();
    assert_eq!(
        image["warnings"],
        json!([format!("symbols_missing:{missing}")])
    );
    let r = c.rpc(json!({"cmd": "symbols", "pid": pid})).await;
    assert_eq!(ok(&r)["symbols"]["count"], 0);

    // `sym load` with a path relative to the program.
    std::fs::copy(dir.path().join("dbg.sym"), dir.path().join("other.sym")).expect("copy");
    let r = c
        .rpc(json!({"cmd": "sym", "op": "load", "pid": pid, "path": "other.sym"}))
        .await;
    assert_eq!(ok(&r)["symbols"]["loaded"], true, "{r}");
    assert!(
        r["symbols"]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("other.sym"))
    );

    // Reload keeps them (read again from the same file).
    let r = c.rpc(json!({"cmd": "reload", "pid": pid})).await;
    let rel = &ok(&r)["reload"];
    let new_pid = rel["new_pid"].as_u64().expect("new pid");
    assert_eq!(rel["image"]["symbols"]["loaded"], true, "{rel}");
    let r = c.rpc(json!({"cmd": "sym", "pid": new_pid})).await;
    assert!(
        ok(&r)["symbols"]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("other.sym"))
    );
    // Even when the file has gone since.
    std::fs::remove_file(dir.path().join("other.sym")).expect("rm");
    let r = c.rpc(json!({"cmd": "reload", "pid": new_pid})).await;
    let rel = &ok(&r)["reload"];
    assert_eq!(rel["image"]["symbols"]["loaded"], true, "{rel}");
    assert!(rel["image"].get("warnings").is_none());
    let third = rel["new_pid"].as_u64().expect("pid");
    let r = c
        .rpc(json!({"cmd": "sym", "op": "lookup_name", "pid": third, "name": "inner"}))
        .await;
    assert_eq!(ok(&r)["symbol"]["type"], "function");

    // A corrupt .sym fails with the reason.
    std::fs::write(dir.path().join("bad.sym"), "{oops").expect("write");
    let r = c
        .rpc(json!({"cmd": "load", "path": hxe, "symbols": "bad.sym"}))
        .await;
    let w = ok(&r)["image"]["warnings"][0]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(w.starts_with("symbols_failed:"), "{r}");

    // An .mvasm is assembled with its symbols.
    let r = c
        .rpc(json!({"cmd": "load", "path": dir.path().join("dbg.mvasm")}))
        .await;
    let image = &ok(&r)["image"];
    assert_eq!(image["symbols"]["loaded"], true, "{image}");
    let mpid = image["pid"].as_u64().expect("pid");
    let r = c.rpc(json!({"cmd": "stack", "pid": mpid})).await;
    assert_eq!(ok(&r)["stack"]["frames"][0]["func_name"], "main");
    assert_eq!(
        err(&c.rpc(json!({"cmd": "symbols", "pid": 99})).await),
        "unknown pid 99"
    );
    s.stop().await;
}

/// `watch add` with `stop: true` (a debugger's data breakpoint): the write pauses the task
/// with `debug_break` reason `watch` after the `watch_update`; a plain watch never stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_watch_pauses_the_task_on_a_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hxe = build(dir.path());
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let _sid = subscribe(&s, &mut c).await;
    let r = c.rpc(json!({"cmd": "load", "path": hxe})).await;
    let pid = ok(&r)["image"]["pid"].as_u64().expect("pid");
    let r = c
        .rpc(json!({"cmd": "watch", "op": "add", "pid": pid, "expr": "counter", "stop": true}))
        .await;
    let w = ok(&r)["watch"].clone();
    assert_eq!(w["stop"], true, "{w}");
    assert_eq!(
        err(&c
            .rpc(
                json!({"cmd": "watch", "op": "add", "pid": pid, "expr": "local:sum", "stop": true})
            )
            .await),
        "stop is supported for memory watches only; watch the local's address"
    );
    let r = c
        .rpc(json!({"cmd": "step", "pid": pid, "steps": 1000}))
        .await;
    let res = &ok(&r)["result"];
    assert_eq!(res["debug_event"]["reason"], "watch", "{r}");
    assert_eq!(res["debug_event"]["phase"], "post", "{r}");
    let kinds: Vec<&str> = res["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(kinds, ["watch_update", "debug_break"], "{r}");
    let ev = wait_event(&mut c, "debug_break").await;
    assert_eq!(
        (ev["pid"].as_u64(), &ev["data"]["reason"]),
        (Some(pid), &json!("watch"))
    );
    let r = c.rpc(json!({"cmd": "ps"})).await;
    let task = ok(&r)["tasks"]["tasks"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["pid"] == pid).cloned())
        .expect("task");
    assert_eq!(task["state"], "paused");
    let r = c
        .rpc(json!({"cmd": "peek", "pid": pid, "addr": w["address"], "length": 4}))
        .await;
    assert_eq!(ok(&r)["data"], "03000000");
}
