//! The `hsxd` binary: argument parsing, listening on port 0, clean exits.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hsxd"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn hsxd");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read banner");
    let addr = line
        .trim()
        .strip_prefix("hsxd listening on ")
        .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
        .to_string();
    (child, addr)
}

fn rpc(addr: &str, req: &str) -> String {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut w = s.try_clone().expect("clone");
    w.write_all(req.as_bytes()).expect("write");
    w.write_all(b"\n").expect("write");
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).expect("read");
    line
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("hsxd did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serves_and_exits_on_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fram = dir.path().join("fram.bin");
    let root = dir.path().to_string_lossy().to_string();
    let fram = fram.to_string_lossy().to_string();
    let (mut child, addr) = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--fs-root",
        &root,
        "--fram",
        &fram,
    ]);
    assert_eq!(
        rpc(&addr, r#"{"cmd":"ping"}"#).trim(),
        r#"{"version":1,"status":"ok","reply":"pong"}"#
    );
    assert_eq!(
        rpc(&addr, r#"{"cmd":"shutdown"}"#).trim(),
        r#"{"version":1,"status":"ok"}"#
    );
    assert!(wait_exit(&mut child).success());
}

#[cfg(unix)]
#[test]
fn exits_cleanly_on_sigterm() {
    let (mut child, addr) = spawn(&["--listen", "127.0.0.1:0"]);
    assert!(rpc(&addr, r#"{"cmd":"ping"}"#).contains("pong"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert!(wait_exit(&mut child).success());
}

#[test]
fn rejects_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_hsxd"))
        .arg("--bogus")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_hsxd"))
        .args(["--listen", "not-an-address"])
        .output()
        .expect("run");
    assert!(!out.status.success());
}

/// A busy port is one error line and a hint, whatever `RUST_BACKTRACE` says; the log on
/// stderr of a redirected daemon has no colour escapes.
#[test]
fn a_busy_port_is_one_line_and_a_hint() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_hsxd"))
        .args(["--listen", &addr])
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run hsxd");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(
        lines[0],
        format!("hsxd: error: binding {addr}: Address already in use")
    );
    assert!(lines[1].starts_with("hsxd: hint: "), "{err}");
    assert!(!err.contains('\u{1b}'), "{err}");
}

#[test]
fn one_start_up_line_and_plain_logs_when_redirected() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hsxd"))
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hsxd");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("banner");
    let addr = line
        .trim()
        .strip_prefix("hsxd listening on ")
        .expect("banner")
        .to_string();
    let _ = rpc(&addr, r#"{"cmd":"shutdown"}"#);
    wait_exit(&mut child);
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut err).expect("stderr");
    }
    assert!(!err.contains('\u{1b}'), "{err}");
    assert!(
        !err.contains("hsxd listening on"),
        "the banner is printed once: {err}"
    );
}

/// A step of 2^64-1 instructions is clamped and runs in slices: other clients are served
/// while it runs, and SIGTERM still ends the daemon.
#[cfg(unix)]
#[test]
fn a_huge_step_neither_blocks_others_nor_survives_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("spin.mvasm");
    std::fs::write(
        &src,
        ".name \"spin\"\n.entry main\n.text\nmain:\n    ADDI R1, R1, 1\n    JMP main\n",
    )
    .expect("write");
    let (mut child, addr) = spawn(&["--listen", "127.0.0.1:0"]);
    let load = format!(r#"{{"cmd":"load","path":"{}"}}"#, src.display());
    assert!(rpc(&addr, &load).contains("\"pid\":1"), "load failed");
    // The step's connection stays open without waiting for its reply.
    let mut stepping = TcpStream::connect(&addr).expect("connect");
    stepping
        .write_all(b"{\"cmd\":\"step\",\"steps\":\"0xFFFFFFFFFFFFFFFF\"}\n")
        .expect("send step");
    // Served in between the step's slices (the step of 10^9 instructions takes seconds).
    for _ in 0..5 {
        let ps = rpc(&addr, r#"{"cmd":"ps"}"#);
        assert!(ps.contains("\"status\":\"ok\""), "{ps}");
    }
    stepping.set_nonblocking(true).expect("nonblocking");
    let mut probe = [0u8; 1];
    let pending = matches!(
        std::io::Read::read(&mut stepping, &mut probe),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
    );
    assert!(
        pending,
        "the step finished before the other requests: nothing was shown"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert!(wait_exit(&mut child).success());
}

#[test]
fn a_policy_file_grants_per_token_and_a_bad_one_stops_hsxd_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    std::fs::write(dir.path().join("viewer.token"), "viewer-token-0123456789\n").expect("w");
    std::fs::write(
        &policy,
        r#"{"tokens":[{"name":"viewer","token_file":"viewer.token","capabilities":["observe"]}]}"#,
    )
    .expect("write");
    let p = policy.to_string_lossy().to_string();
    let (mut child, addr) = spawn(&["--listen", "127.0.0.1:0", "--policy", &p]);
    // With tokens in the policy, loopback clients authenticate too.
    assert!(rpc(&addr, r#"{"cmd":"ps"}"#).contains("auth_required"));
    let s = TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    let mut line = String::new();
    for (req, want) in [
        (
            r#"{"cmd":"auth","token":"viewer-token-0123456789"}"#,
            "\"ok\"",
        ),
        (r#"{"cmd":"ps"}"#, "\"tasks\""),
        (r#"{"cmd":"shutdown"}"#, "permission_denied:admin"),
    ] {
        w.write_all(req.as_bytes()).expect("write");
        w.write_all(b"\n").expect("write");
        line.clear();
        r.read_line(&mut line).expect("read");
        assert!(line.contains(want), "{req} -> {line}");
    }
    let _ = child.kill();
    let _ = child.wait();
    // A bad policy: one line on stderr that quotes no token, and a failure exit.
    std::fs::write(
        &policy,
        r#"{"tokens":[{"token":"secret-token-0123456789","capabilities":["root"]}]}"#,
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_hsxd"))
        .args(["--listen", "127.0.0.1:0", "--policy", &p])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown capability 'root'"), "{err}");
    assert!(!err.contains("secret-token"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn man_page_and_completions() {
    let bin = env!("CARGO_BIN_EXE_hsxd");
    let man = Command::new(bin).arg("man").output().expect("hsxd man");
    assert!(man.status.success());
    let page = String::from_utf8_lossy(&man.stdout);
    for s in [
        ".SH OPTIONS",
        ".SH ENVIRONMENT",
        ".SH SIGNALS",
        ".SH EXIT STATUS",
        ".SH EXAMPLES",
    ] {
        assert!(page.contains(s), "{s}");
    }
    assert!(page.contains("token\\-file"), "options are listed");
    let bash = Command::new(bin)
        .args(["completions", "bash"])
        .output()
        .expect("completions");
    assert!(bash.status.success());
    assert!(String::from_utf8_lossy(&bash.stdout).contains("--listen"));
    // A tool and serving options do not mix.
    let mixed = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "man"])
        .output()
        .expect("mixed");
    assert_eq!(mixed.status.code(), Some(2));
}

/// Boot from a manifest: good entries start in order (one from the image store), a bad one
/// is reported and skipped; a missing manifest stops hsxd in one line.
#[test]
fn a_boot_manifest_starts_good_entries_and_skips_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let asm = |name: &str| {
        hsx_asm::assemble_source(
            "t.mvasm",
            &format!(
                ".name \"{name}\"\n.entry main\n.text\nmain:\n    LDI R0, 3\nspin:\n    JMP spin\n"
            ),
            &hsx_asm::AsmOptions::default(),
        )
        .unwrap()
        .hxe_bytes
    };
    std::fs::write(dir.path().join("first.hxe"), asm("first")).unwrap();
    let mut broken = asm("broken");
    let n = broken.len();
    broken[n - 1] ^= 0xFF;
    std::fs::write(dir.path().join("broken.hxe"), broken).unwrap();
    // An image already in the store.
    let store = dir.path().join("store");
    {
        use hsx_exec::store::ImageStore;
        let (mut s, _) = hsxd::store::DirStore::open(&store).unwrap();
        s.stage("stored", &asm("stored")).unwrap();
        s.commit("stored").unwrap();
    }
    let manifest = dir.path().join("boot.toml");
    std::fs::write(
        &manifest,
        "[[app]]\nimage = \"first.hxe\"\npriority = 12\n\n[[app]]\nimage = \"broken.hxe\"\n\n\
         [[app]]\nimage = \"missing.hxe\"\n\n[[app]]\nstore = \"stored\"\npersist = [9]\n",
    )
    .unwrap();
    let (mut child, addr) = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--store",
        store.to_str().unwrap(),
        "--manifest",
        manifest.to_str().unwrap(),
    ]);
    let ps = rpc(&addr, r#"{"cmd":"ps"}"#);
    let v: serde_json::Value = serde_json::from_str(&ps).unwrap();
    let tasks = v["tasks"]["tasks"].as_array().unwrap();
    let names: Vec<&str> = tasks
        .iter()
        .filter_map(|t| t["app_name"].as_str())
        .collect();
    assert_eq!(names, ["first", "stored"], "{ps}");
    assert_eq!(tasks[0]["priority"], 12);
    let log = rpc(&addr, r#"{"cmd":"dmesg"}"#);
    assert!(log.contains("manifest entry skipped"), "{log}");
    assert!(log.contains("CRC mismatch"), "{log}");
    assert!(log.contains("cannot read"), "{log}");
    assert!(log.contains("FRAM key 9 not found"), "{log}");
    rpc(&addr, r#"{"cmd":"shutdown"}"#);
    assert!(wait_exit(&mut child).success());

    let out = Command::new(env!("CARGO_BIN_EXE_hsxd"))
        .args(["--listen", "127.0.0.1:0", "--manifest"])
        .arg(dir.path().join("nope.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("hsxd: error: cannot read manifest"),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("hsxd: error")).count(),
        1
    );
}
