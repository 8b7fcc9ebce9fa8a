//! Bad input over the protocol: broken images, missing files, wrong PIDs, malformed JSON
//! and out-of-range numbers. Each gets an error reply (or a clamped value) and the daemon
//! keeps serving on the same connection.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Client, TestServer, err, ok};
use serde_json::{Value, json};

const SPIN: &str = "\
.name \"spin\"
.entry main
.text
main:
    JMP main
";

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// The bytes of a valid image (examples/hello.mvasm).
fn good_image() -> Vec<u8> {
    let out = hsx_asm::assemble_files(&[example("hello.mvasm")], &hsx_asm::AsmOptions::default())
        .expect("assemble");
    out.hxe_bytes
}

async fn still_serving(c: &mut Client) {
    assert_eq!(ok(&c.rpc(json!({"cmd": "ping"})).await)["reply"], "pong");
    ok(&c.rpc(json!({"cmd": "ps"})).await);
}

async fn load_err(c: &mut Client, path: &Path) -> String {
    let r = c.rpc(json!({"cmd": "load", "path": path})).await;
    err(&r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_images_fail_cleanly_and_the_daemon_keeps_serving() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let good = good_image();
    assert!(
        good.len() > 40,
        "image too small to corrupt: {}",
        good.len()
    );

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("garbage", b"this is not an image at all".repeat(8)),
        ("header_only", good.get(..16).unwrap_or_default().to_vec()),
        (
            "truncated",
            good.get(..good.len() - 3).unwrap_or_default().to_vec(),
        ),
    ];
    let mut bad_magic = good.clone();
    if let Some(b) = bad_magic.first_mut() {
        *b ^= 0xFF;
    }
    cases.push(("bad_magic", bad_magic));
    // A flipped byte at the end (code/rodata) breaks the CRC.
    let mut bad_crc = good.clone();
    if let Some(b) = bad_crc.last_mut() {
        *b ^= 0x5A;
    }
    cases.push(("bad_crc", bad_crc));
    // Length fields far beyond the file, with a CRC that matches, so the length checks
    // themselves are what refuses them.
    let fields: [(&str, &[(usize, u32)]); 3] = [
        ("huge_code_len", &[(12, u32::MAX)]),
        ("huge_meta_count", &[(0x40, 96), (0x44, u32::MAX)]),
        ("meta_offset_past_end", &[(0x40, u32::MAX - 8), (0x44, 1)]),
    ];
    for (name, writes) in fields {
        let mut img = good.clone();
        for &(offset, value) in writes {
            if let Some(f) = img.get_mut(offset..offset + 4) {
                f.copy_from_slice(&value.to_be_bytes());
            }
        }
        if let Some(crc) = hsx_image::compute_crc(&img)
            && let Some(f) = img.get_mut(hsx_image::CRC_OFFSET..hsx_image::CRC_OFFSET + 4)
        {
            f.copy_from_slice(&crc.to_be_bytes());
        }
        cases.push((name, img));
    }

    for (name, bytes) in &cases {
        let path = dir.path().join(format!("{name}.hxe"));
        std::fs::write(&path, bytes).expect("write");
        let e = load_err(&mut c, &path).await;
        assert!(!e.is_empty(), "{name}: empty error text");
        still_serving(&mut c).await;
    }
    // Nothing half-loaded was left behind.
    let ps = c.rpc(json!({"cmd": "ps"})).await;
    assert_eq!(ok(&ps)["tasks"]["tasks"], json!([]), "{ps}");

    // The good image still loads afterwards.
    let path = dir.path().join("good.hxe");
    std::fs::write(&path, &good).expect("write");
    let r = c.rpc(json!({"cmd": "load", "path": path})).await;
    assert!(ok(&r)["image"]["pid"].as_u64().is_some(), "{r}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_paths_for_load_and_sym_load() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let dir = tempfile::tempdir().expect("tempdir");

    let e = load_err(&mut c, &dir.path().join("absent.hxe")).await;
    assert!(e.contains("no such file"), "{e}");
    let e = load_err(&mut c, &dir.path().join("absent.mvasm")).await;
    assert!(!e.is_empty());
    // An endless file is refused at the size limit rather than read until memory runs out.
    if Path::new("/dev/zero").exists() {
        let e = load_err(&mut c, Path::new("/dev/zero")).await;
        assert!(e.starts_with("image file too large"), "{e}");
    }
    // A directory is not an image.
    let e = load_err(&mut c, dir.path()).await;
    assert!(!e.is_empty());
    assert_eq!(
        err(&c.rpc(json!({"cmd": "load"})).await),
        err(&c.rpc(json!({"cmd": "load", "path": null})).await)
    );
    still_serving(&mut c).await;

    let r = c
        .rpc(json!({"cmd": "load", "path": example("hello.mvasm")}))
        .await;
    let pid = ok(&r)["image"]["pid"].as_u64().expect("pid");

    // `load` with a missing `.sym` still loads the image, with a warning.
    let r = c
        .rpc(json!({"cmd": "load", "path": example("hello.mvasm"),
                    "symbols": dir.path().join("absent.sym")}))
        .await;
    let w = ok(&r)["image"]["warnings"][0]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(w.starts_with("symbols_missing:"), "{r}");

    // `sym load` of a missing file reports it and keeps the task's symbols usable.
    let r = c
        .rpc(json!({"cmd": "sym", "op": "load", "pid": pid,
                    "path": dir.path().join("absent.sym")}))
        .await;
    assert_eq!(ok(&r)["symbols"]["loaded"], false, "{r}");
    assert_eq!(
        err(&c.rpc(json!({"cmd": "sym", "op": "load", "pid": pid})).await),
        "sym load requires 'path'"
    );
    // A `.sym` that is a directory or not JSON.
    let r = c
        .rpc(json!({"cmd": "sym", "op": "load", "pid": pid, "path": dir.path()}))
        .await;
    assert_eq!(ok(&r)["symbols"]["loaded"], false, "{r}");
    let r = c
        .rpc(json!({"cmd": "sym", "op": "load", "pid": pid, "path": example("hello.mvasm")}))
        .await;
    assert_eq!(ok(&r)["symbols"]["loaded"], false, "{r}");
    let e = r["symbols"]["error"].as_str().unwrap_or("");
    assert!(e.starts_with("invalid .sym JSON"), "{r}");
    // `sym load` for a task that does not exist.
    assert_eq!(
        err(&c
            .rpc(json!({"cmd": "sym", "op": "load", "pid": 4242, "path": "x.sym"}))
            .await),
        "unknown pid 4242"
    );
    still_serving(&mut c).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pids_are_errors_for_every_task_command() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let pid = 777;
    let reqs = [
        json!({"cmd": "pause", "pid": pid}),
        json!({"cmd": "resume", "pid": pid}),
        json!({"cmd": "kill", "pid": pid}),
        json!({"cmd": "reload", "pid": pid}),
        json!({"cmd": "dumpregs", "pid": pid}),
        json!({"cmd": "peek", "pid": pid, "addr": 0}),
        json!({"cmd": "poke", "pid": pid, "addr": 0, "data": "00"}),
        json!({"cmd": "stack", "pid": pid}),
        json!({"cmd": "disasm", "pid": pid}),
        json!({"cmd": "symbols", "pid": pid}),
        json!({"cmd": "bp", "op": "set", "pid": pid, "addr": 0}),
        json!({"cmd": "step", "pid": pid}),
    ];
    for req in reqs {
        let r = c.rpc(req.clone()).await;
        assert_eq!(r["status"], "error", "{req} -> {r}");
    }
    // PIDs that are not PIDs at all.
    for bad in [
        json!(-1),
        json!("abc"),
        json!(1.5),
        json!(4_294_967_296u64),
        json!([1]),
    ] {
        let r = c.rpc(json!({"cmd": "kill", "pid": bad})).await;
        assert_eq!(r["status"], "error", "pid {bad} -> {r}");
    }
    still_serving(&mut c).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_variants_keep_the_connection() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let lines: [&[u8]; 9] = [
        b"{\n",
        b"{\"cmd\": }\n",
        b"{\"cmd\":\"ping\"} trailing\n",
        b"42\n",
        b"\"ping\"\n",
        b"null\n",
        b"{\"cmd\": 5}\n",
        b"{\"cmd\": null}\n",
        b"{}\n",
    ];
    for line in lines {
        c.send_raw(line).await;
        let r = c.reply().await;
        assert_eq!(
            r["status"],
            "error",
            "{:?} -> {r}",
            String::from_utf8_lossy(line)
        );
    }
    // Deep nesting is refused by the parser rather than overflowing the stack.
    let mut deep = "[".repeat(100_000);
    deep.push('\n');
    c.send_raw(deep.as_bytes()).await;
    assert_eq!(c.reply().await["status"], "error");
    still_serving(&mut c).await;
    s.stop().await;
}

/// Reads `info.clock`.
async fn clock(c: &mut Client) -> Value {
    let r = c.rpc(json!({"cmd": "info"})).await;
    ok(&r)["info"]["clock"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_numbers_are_clamped_or_refused() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("spin.mvasm");
    std::fs::write(&src, SPIN).expect("write");
    let r = c.rpc(json!({"cmd": "load", "path": src})).await;
    let pid = ok(&r)["image"]["pid"].as_u64().expect("pid");

    // Lengths and counts beyond any memory are clamped, not allocated.
    let r = c
        .rpc(json!({"cmd": "peek", "pid": pid, "addr": 0, "length": i64::MAX}))
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    let r = c
        .rpc(json!({"cmd": "peek", "pid": pid, "addr": 0, "length": u64::MAX}))
        .await;
    assert_eq!(err(&r), "length out of range: 18446744073709551615");
    let r = c
        .rpc(json!({"cmd": "peek", "pid": pid, "addr": 0, "length": -5}))
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    let r = c
        .rpc(json!({"cmd": "disasm", "pid": pid, "addr": 0, "count": "0xFFFFFFFFFFFFFFFFFFFF"}))
        .await;
    assert_eq!(r["status"], "ok", "{r}");
    let r = c
        .rpc(json!({"cmd": "stack", "pid": pid, "max": 1e300}))
        .await;
    assert!(r["status"] == "ok" || r["status"] == "error", "{r}");
    let r = c
        .rpc(json!({"cmd": "symbols", "pid": pid, "limit": i64::MAX, "offset": i64::MAX}))
        .await;
    assert!(r["status"] == "ok" || r["status"] == "error", "{r}");
    let r = c
        .rpc(
            json!({"cmd": "watch", "op": "add", "pid": pid, "expr": "0x10",
                    "length": u32::MAX}),
        )
        .await;
    assert!(r["status"] == "ok" || r["status"] == "error", "{r}");
    let r = c
        .rpc(json!({"cmd": "listen", "pid": pid, "limit": i64::MAX, "max_len": i64::MAX}))
        .await;
    assert!(r["status"] == "ok" || r["status"] == "error", "{r}");
    let r = c.rpc(json!({"cmd": "dmesg", "limit": i64::MIN})).await;
    assert_eq!(r["status"], "ok", "{r}");

    // Session numbers are clamped with warnings.
    let r = c
        .rpc(json!({"cmd": "session.open", "heartbeat_s": i64::MAX,
                    "capabilities": {"max_events": i64::MAX}}))
        .await;
    let session = &ok(&r)["session"];
    assert_eq!(session["heartbeat_s"], 300, "{r}");
    assert!(
        session["max_events"].as_u64().is_some_and(|m| m <= 2048),
        "{r}"
    );
    let r = c
        .rpc(json!({"cmd": "session.open", "heartbeat_s": 1e300}))
        .await;
    assert_eq!(r["status"], "error", "{r}");

    // Non-finite or negative rates are refused; a huge finite rate runs the clock
    // without overflowing the pacing arithmetic.
    for bad in [json!("inf"), json!("NaN"), json!(-1), json!("-0x10")] {
        let r = c
            .rpc(json!({"cmd": "clock", "op": "rate", "rate": bad}))
            .await;
        assert_eq!(r["status"], "error", "rate {bad} -> {r}");
    }
    ok(&c
        .rpc(json!({"cmd": "clock", "op": "rate", "rate": f64::MAX}))
        .await);
    ok(&c.rpc(json!({"cmd": "clock", "op": "start"})).await);
    let mut turns = 0;
    for _ in 0..200 {
        turns = clock(&mut c).await["auto_steps"].as_u64().unwrap_or(0);
        if turns >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(turns >= 3, "the auto clock stopped turning: {turns}");
    ok(&c.rpc(json!({"cmd": "clock", "op": "stop"})).await);

    // A step count beyond u64 is refused.
    let r = c
        .rpc(json!({"cmd": "step", "pid": pid, "steps": "0x1FFFFFFFFFFFFFFFF"}))
        .await;
    assert_eq!(r["status"], "error", "{r}");
    still_serving(&mut c).await;
    s.stop().await;
}
