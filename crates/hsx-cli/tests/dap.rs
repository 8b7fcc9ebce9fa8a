//! `hsx dap` as a process: the DAP framing over real stdio and TCP, with hostile input.
//! (The debugging scenarios themselves run under a real DAP client in tests/dap/.)

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn frame(v: &Value) -> Vec<u8> {
    let body = v.to_string();
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// Reads one DAP message (headers then body).
fn read_msg<R: BufRead>(r: &mut R) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0u8; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn read_until<R: BufRead>(r: &mut R, pred: impl Fn(&Value) -> bool) -> Option<Value> {
    for _ in 0..32 {
        let m = read_msg(r)?;
        if pred(&m) {
            return Some(m);
        }
    }
    None
}

fn dap(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hsx"))
        .arg("dap")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start hsx dap: {e}"))
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

#[test]
fn stdio_initialize_then_unknown_request_then_an_oversized_header_ends_cleanly() {
    let mut child = dap(&[]);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let init = json!({"seq": 1, "type": "request", "command": "initialize",
                      "arguments": {"adapterID": "hsx", "linesStartAt1": true}});
    stdin.write_all(&frame(&init)).expect("write");
    let r = read_until(&mut out, |m| m["type"] == "response").expect("initialize response");
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(r["request_seq"], 1);
    assert_eq!(r["body"]["supportsStepBack"], true);
    assert_eq!(r["body"]["supportsDataBreakpoints"], true);
    // Before launch there are no threads, and requests that need a task fail politely.
    let threads = json!({"seq": 2, "type": "request", "command": "threads"});
    stdin.write_all(&frame(&threads)).expect("write");
    let r = read_until(&mut out, |m| m["type"] == "response").expect("threads response");
    assert_eq!(r["body"]["threads"], json!([]), "{r}");
    let st =
        json!({"seq": 3, "type": "request", "command": "stackTrace", "arguments": {"threadId": 1}});
    stdin.write_all(&frame(&st)).expect("write");
    let r = read_until(&mut out, |m| m["type"] == "response").expect("stackTrace response");
    assert_eq!(r["success"], false, "{r}");
    assert_eq!(r["message"], "not launched or attached yet");
    stdin
        .write_all(&frame(
            &json!({"seq": 4, "type": "request", "command": "frobnicate"}),
        ))
        .expect("write");
    let r = read_until(&mut out, |m| m["type"] == "response").expect("unknown response");
    assert_eq!(r["message"], "unsupported request 'frobnicate'");
    // A body far past the bound is refused before anything is buffered: the adapter says
    // why and ends, without a panic.
    stdin
        .write_all(b"Content-Length: 99999999999\r\n\r\n")
        .expect("write");
    let said = read_until(&mut out, |m| m["event"] == "output").expect("output event");
    assert!(
        said["body"]["output"]
            .as_str()
            .is_some_and(|t| t.contains("exceeds the limit")),
        "{said}"
    );
    let status = wait_exit(&mut child, Duration::from_secs(10)).expect("hsx dap exits");
    assert!(status.success(), "{status}");
}

#[test]
fn stdio_garbage_is_an_error_not_a_panic() {
    let mut child = dap(&[]);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    stdin
        .write_all(b"Content-Length: 5\r\n\r\n[1,2]")
        .expect("write");
    let said = read_until(&mut out, |m| m["event"] == "output").expect("output event");
    assert!(
        said["body"]["output"]
            .as_str()
            .is_some_and(|t| t.contains("not a JSON object"))
    );
    let status = wait_exit(&mut child, Duration::from_secs(10)).expect("hsx dap exits");
    assert!(status.success(), "{status}");
}

#[test]
fn listen_serves_one_client_after_another() {
    let mut child = dap(&["--listen", "127.0.0.1:0"]);
    let mut banner = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    out.read_line(&mut banner).expect("banner");
    let addr = banner
        .trim()
        .strip_prefix("hsx dap listening on ")
        .expect("address line")
        .to_string();
    for round in 0..2 {
        let s = TcpStream::connect(&addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        let init = json!({"seq": 1, "type": "request", "command": "initialize", "arguments": {}});
        w.write_all(&frame(&init)).expect("write");
        let resp = read_until(&mut r, |m| m["type"] == "response").expect("response");
        assert_eq!(resp["success"], true, "round {round}: {resp}");
        let bye = json!({"seq": 2, "type": "request", "command": "disconnect"});
        w.write_all(&frame(&bye)).expect("write");
        let resp = read_until(&mut r, |m| m["type"] == "response").expect("disconnect");
        assert_eq!(resp["command"], "disconnect");
    }
    let _ = child.kill();
    let _ = child.wait();
}
