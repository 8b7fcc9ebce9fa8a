//! `load` never hands a client the contents of a host file: a source that does not
//! assemble is reported by position only, `.include` stays inside the source's directory
//! tree, and loader errors quote no header bytes. Also: output beyond a task's ring is
//! counted, not silently lost.

mod common;

use std::path::Path;

use common::{TestServer, err, ok};
use serde_json::json;

const SECRET: &str = "hunter2-SECRET";

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

async fn load_error(s: &TestServer, path: &Path) -> String {
    err(&s.one_shot(json!({"cmd": "load", "path": path})).await)
}

fn assert_no_leak(e: &str, words: &[&str]) {
    for w in words {
        assert!(!e.contains(w), "`{w}` leaked in: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_file_loaded_as_source_is_reported_by_position_only() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("config.mvasm");
    write(
        &secret,
        &format!("# settings\ndb_password = {SECRET}\napi_key: sk-live-XYZ987\n"),
    );
    let e = load_error(&s, &secret).await;
    assert!(e.contains("config.mvasm:2:"), "{e}");
    assert_no_leak(
        &e,
        &[
            "hunter2",
            "SECRET",
            "db_password",
            "sk",
            "XYZ987",
            "settings",
        ],
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn include_outside_the_source_tree_reads_nothing() {
    let s = TestServer::start().await;
    let top = tempfile::tempdir().expect("tempdir");
    // Stands for `--fs-root`: a guest may write any source here.
    let root = top.path().join("root");
    std::fs::create_dir_all(root.join("lib")).expect("mkdir");
    let outside = top.path().join("secret.txt");
    write(&outside, &format!("password {SECRET}\n"));
    let cases = [
        ("abs.mvasm", ".include \"/etc/passwd\"\n".to_string()),
        ("up.mvasm", ".include \"../secret.txt\"\n".to_string()),
        (
            "abs2.mvasm",
            format!(".include \"{}\"\n", outside.display()),
        ),
        ("nested.mvasm", ".include \"lib/up.mvasm\"\n".to_string()),
    ];
    write(
        &root.join("lib/up.mvasm"),
        ".include \"../../secret.txt\"\n",
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, root.join("link.txt")).expect("symlink");
    #[cfg(unix)]
    write(&root.join("link.mvasm"), ".include \"link.txt\"\n");
    for (name, text) in &cases {
        write(&root.join(name), text);
    }
    let mut names: Vec<&str> = cases.iter().map(|c| c.0).collect();
    if cfg!(unix) {
        names.push("link.mvasm");
    }
    for name in names {
        let e = load_error(&s, &root.join(name)).await;
        assert!(
            e.contains("outside the source's directory tree"),
            "{name}: {e}"
        );
        assert_no_leak(&e, &["root:", "hunter2", "SECRET", "password"]);
    }
    // A FIFO inside the tree is refused without blocking.
    #[cfg(unix)]
    {
        let fifo = root.join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|st| st.success()) {
            write(&root.join("fifo.mvasm"), ".include \"pipe\"\n");
            let e = load_error(&s, &root.join("fifo.mvasm")).await;
            assert!(e.contains("not a regular file"), "{e}");
        }
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn includes_inside_the_tree_still_work() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("inc")).expect("mkdir");
    write(
        &dir.path().join("inc/body.mvasm"),
        "main:\n    LDI R0, 1\n    RET\n",
    );
    write(
        &dir.path().join("app.mvasm"),
        ".entry main\n.text\n.include \"inc/body.mvasm\"\n",
    );
    let r = s
        .one_shot(json!({"cmd": "load", "path": dir.path().join("app.mvasm")}))
        .await;
    assert!(ok(&r)["image"]["pid"].as_u64().is_some(), "{r}");
    // An error in an included file names the file and line, not its text.
    write(&dir.path().join("inc/bad.mvasm"), "    FROB R0, {SECRET}\n");
    write(
        &dir.path().join("bad.mvasm"),
        ".include \"inc/bad.mvasm\"\n",
    );
    let e = load_error(&s, &dir.path().join("bad.mvasm")).await;
    assert!(e.contains("bad.mvasm:1:"), "{e}");
    assert_no_leak(&e, &["FROB", "SECRET"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loader_errors_quote_no_header_bytes() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // The magic, then text where the version and the CRC would be.
    let mut bytes = b"HSXE:xsecret-data-here: more private text ".to_vec();
    bytes.resize(128, b'#');
    let path = dir.path().join("fake.hxe");
    std::fs::write(&path, &bytes).expect("write");
    let e = load_error(&s, &path).await;
    assert!(e.contains("Unsupported HSXE version"), "{e}");
    assert_no_leak(&e, &["0x3A78", "3A78", "secret"]);
    // Large files are refused at the cap, whatever their contents.
    let big = dir.path().join("big.mvasm");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len(hsx_asm::MAX_INCLUDE_BYTES + 1).expect("set_len");
    let e = load_error(&s, &big).await;
    assert!(e.contains("too large"), "{e}");
    s.stop().await;
}

/// 2000 lines of 16 bytes: more than a task's output ring holds.
const CHATTY: &str = "\
.name \"chatty\"
.entry main
.text
main:
    LDI   R4, 0
    LDI32 R5, 2000
    LDI   R6, 1
again:
    LDI32 R1, line
    LDI32 R3, line_end
    SUB   R2, R3, R1
    SVC   1, 1
    ADD   R4, R4, R6
    CMP   R4, R5
    JZ    done
    JMP   again
done:
    LDI   R0, 0
    SVC   1, 0
.data
line:
    .ascii \"0123456789abcde\\n\"
line_end:
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_that_overflows_a_task_ring_is_counted_by_listen() {
    let s = TestServer::start_exec().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("chatty.mvasm");
    write(&path, CHATTY);
    let r = s.one_shot(json!({"cmd": "load", "path": path})).await;
    let pid = ok(&r)["image"]["pid"].as_u64().expect("pid");
    ok(&s.one_shot(json!({"cmd": "clock", "op": "start"})).await);
    // Wait (bounded) for the task to finish.
    let mut done = false;
    for _ in 0..500 {
        let ps = s.one_shot(json!({"cmd": "ps"})).await;
        let state = &ok(&ps)["tasks"]["tasks"][0]["state"];
        if state == "returned" || state == "terminated" {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(done, "chatty did not finish");
    let r = s
        .one_shot(json!({"cmd": "listen", "pid": pid, "limit": 100000, "max_len": 0}))
        .await;
    let kept: u64 = ok(&r)["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|x| x["length"].as_u64()).sum())
        .unwrap_or(0);
    let dropped = r["dropped_bytes"][pid.to_string()].as_u64().unwrap_or(0);
    assert_eq!(kept + dropped, 2000 * 16, "{kept} kept, {dropped} dropped");
    assert!(dropped > 0 && kept <= hsxd::task_output::KEEP_BYTES_PER_TASK as u64);
    s.stop().await;
}
