//! Who may connect: the loopback rule, the token handshake and Unix-domain sockets, with
//! the real `hsxd` binary.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "s3cret-token-for-tests-0123456789";

struct Hsxd {
    child: Child,
    addr: String,
}

impl Drop for Hsxd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Hsxd {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hsxd"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn hsxd");
    let mut line = String::new();
    let out = child.stdout.take().expect("stdout");
    BufReader::new(out).read_line(&mut line).expect("banner");
    let addr = line
        .trim()
        .strip_prefix("hsxd listening on ")
        .unwrap_or_else(|| panic!("banner {line:?}"))
        .to_string();
    Hsxd { child, addr }
}

/// A line-at-a-time connection (TCP or `unix:PATH`).
struct Conn {
    rd: BufReader<Box<dyn std::io::Read>>,
    wr: Box<dyn Write>,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        if let Some(path) = addr.strip_prefix("unix:") {
            let s = std::os::unix::net::UnixStream::connect(path).expect("connect unix");
            s.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            let w = s.try_clone().expect("clone");
            return Conn {
                rd: BufReader::new(Box::new(s)),
                wr: Box::new(w),
            };
        }
        let s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let w = s.try_clone().expect("clone");
        Conn {
            rd: BufReader::new(Box::new(s)),
            wr: Box::new(w),
        }
    }

    fn rpc(&mut self, req: &str) -> String {
        self.wr.write_all(req.as_bytes()).expect("write");
        self.wr.write_all(b"\n").expect("write");
        let mut line = String::new();
        self.rd.read_line(&mut line).expect("read");
        line
    }
}

fn token_file(dir: &std::path::Path) -> String {
    let p = dir.join("token");
    std::fs::write(&p, format!("{TOKEN}\n")).expect("write token");
    p.display().to_string()
}

#[test]
fn a_network_address_needs_a_token_or_an_explicit_override() {
    let out = Command::new(env!("CARGO_BIN_EXE_hsxd"))
        .args(["--listen", "0.0.0.0:0"])
        .env_remove("HSXD_TOKEN_FILE")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0 without a token"),
        "{err}"
    );
    // Explicitly insecure: it starts.
    let mut d = start(&["--listen", "0.0.0.0:0", "--insecure-listen"]);
    let port = d.addr.rsplit(':').next().unwrap_or("0").to_string();
    assert!(
        Conn::open(&format!("127.0.0.1:{port}"))
            .rpc(r#"{"cmd":"ping"}"#)
            .contains("pong")
    );
    let _ = d.child.kill();
    // A token too short is refused at start.
    let dir = tempfile::tempdir().expect("tempdir");
    let short = dir.path().join("short");
    std::fs::write(&short, "abc\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_hsxd"))
        .args(["--listen", "127.0.0.1:0", "--token-file"])
        .arg(&short)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("too short"));
}

#[test]
fn with_a_token_nothing_is_served_before_it_is_presented() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tf = token_file(dir.path());
    let d = start(&["--listen", "0.0.0.0:0", "--token-file", &tf]);
    let port = d.addr.rsplit(':').next().unwrap_or("0").to_string();
    let addr = format!("127.0.0.1:{port}");
    let mut c = Conn::open(&addr);
    // Missing.
    for req in [
        r#"{"cmd":"ps"}"#,
        r#"{"cmd":"ping"}"#,
        r#"{"cmd":"shutdown"}"#,
        "garbage",
    ] {
        let r = c.rpc(req);
        assert!(r.contains("\"error\":\"auth_required\""), "{req}: {r}");
    }
    // Wrong: refused, never echoed, still locked.
    let r = c.rpc(r#"{"cmd":"auth","token":"wrong-token-wrong-token"}"#);
    assert!(
        r.contains("auth_failed") && !r.contains("wrong-token"),
        "{r}"
    );
    assert!(c.rpc(r#"{"cmd":"ps"}"#).contains("auth_required"));
    // Right.
    let r = c.rpc(&format!(r#"{{"cmd":"auth","token":"{TOKEN}"}}"#));
    assert!(r.contains("\"status\":\"ok\"") && !r.contains(TOKEN), "{r}");
    assert!(c.rpc(r#"{"cmd":"ps"}"#).contains("\"status\":\"ok\""));
    // Or on session.open, which then opens the session; the token is not echoed.
    let mut c2 = Conn::open(&addr);
    let r = c2.rpc(&format!(
        r#"{{"cmd":"session.open","token":"{TOKEN}","client":"t"}}"#
    ));
    assert!(r.contains("\"status\":\"ok\"") && !r.contains(TOKEN), "{r}");
    assert!(c2.rpc(r#"{"cmd":"ps"}"#).contains("\"status\":\"ok\""));
}

#[cfg(unix)]
#[test]
fn a_unix_socket_is_owner_only_and_replaces_only_stale_sockets() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("hsxd.sock");
    let listen = format!("unix:{}", sock.display());
    let d = start(&["--listen", &listen]);
    assert_eq!(d.addr, listen);
    let mode = std::fs::metadata(&sock)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    assert!(
        Conn::open(&listen)
            .rpc(r#"{"cmd":"ping"}"#)
            .contains("pong")
    );
    drop(d);
    // Killed: the stale socket file is replaced by the next daemon.
    assert!(sock.exists());
    let mut d = start(&["--listen", &listen]);
    let r = Conn::open(&listen).rpc(r#"{"cmd":"shutdown"}"#);
    assert!(r.contains("\"status\":\"ok\""), "{r}");
    let t0 = Instant::now();
    while d.child.try_wait().expect("wait").is_none() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!sock.exists(), "a clean shutdown removes the socket file");
    // Anything else at the path is never deleted.
    let file = dir.path().join("precious");
    std::fs::write(&file, "keep me").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_hsxd"))
        .arg("--listen")
        .arg(format!("unix:{}", file.display()))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a socket"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep me");
}
