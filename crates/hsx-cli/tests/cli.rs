//! Command-line parsing, completions and man page: no daemon involved.

use predicates::prelude::*;

fn hsx() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hsx"));
    c.env("NO_COLOR", "1").env_remove("HSX_ADDR");
    c
}

#[test]
fn every_client_command_is_listed() {
    let out = hsx().arg("--help").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for name in [
        "asm",
        "disasm",
        "run",
        "ps",
        "info",
        "load",
        "kill",
        "pause",
        "resume",
        "step",
        "clock",
        "sched",
        "regs",
        "peek",
        "poke",
        "bp",
        "stack",
        "dis",
        "sym",
        "mem",
        "watch",
        "trace",
        "mbox",
        "send",
        "listen",
        "dmesg",
        "val",
        "cmd",
        "events",
        "shutdown",
        "shell",
        "tui",
        "completions",
        "man",
    ] {
        assert!(
            text.contains(&format!("\n  {name} ")),
            "{name} missing:\n{text}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    hsx().args(["peek", "1", "a b"]).assert().code(2);
    hsx()
        .args(["pause", "one"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a number"));
    hsx().args(["sched", "--priority", "3"]).assert().code(2);
    hsx().args(["bp", "frob", "1"]).assert().code(2);
    hsx()
        .args(["val", "get", "0x10000"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("16 bits"));
}

#[test]
fn remote_disassembler_is_dis_and_offline_stays_disasm() {
    hsx().args(["dis", "--help"]).assert().success().stdout(
        predicate::str::contains("hsx disasm APP.hxe")
            .and(predicate::str::contains("<PID> [ADDR]")),
    );
    hsx()
        .args(["disasm", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("<APP.hxe>"));
}

#[test]
fn defaults_and_env_for_the_address() {
    hsx().args(["ps", "--help"]).assert().success().stdout(
        predicate::str::contains("[default: 127.0.0.1:9998]")
            .and(predicate::str::contains("HSX_ADDR")),
    );
}

#[test]
fn completions_for_three_shells() {
    for (shell, marker) in [
        ("bash", "_hsx()"),
        ("zsh", "#compdef hsx"),
        ("fish", "complete -c hsx"),
    ] {
        hsx()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains(marker).and(predicate::str::contains("listen")));
    }
    hsx().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_page_is_roff() {
    hsx()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH hsx 1").and(predicate::str::contains("shell")));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    hsx()
        .args(["man", "--dir"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(dir.path().join("hsx-bp-add.1").exists());
}

/// The error paths a newcomer meets first: one line each, the cause once, no Python text.
mod first_errors {
    use assert_cmd::Command;
    use predicates::prelude::*;

    fn hsx() -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hsx"));
        c.env("NO_COLOR", "1").env("RUST_BACKTRACE", "1");
        c
    }

    fn one_error_line(out: &std::process::Output) -> String {
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(err.matches("error:").count(), 1, "{err}");
        err
    }

    #[test]
    fn a_text_file_is_not_an_image() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("README.md");
        std::fs::write(
            &p,
            "# HSX in Rust\n\nSome text that is long enough to be parsed.\n",
        )
        .expect("write");
        let out = hsx().arg("run").arg(&p).output().expect("run");
        assert_eq!(out.status.code(), Some(2));
        let err = one_error_line(&out);
        assert!(err.contains("not an HSX image (no HSXE magic)"), "{err}");
    }

    #[test]
    fn a_missing_source_says_so_once() {
        let out = hsx()
            .args(["run", "examples/nope.mvasm"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        let err = one_error_line(&out);
        assert_eq!(
            err.trim(),
            "hsx: error: cannot read examples/nope.mvasm: No such file or directory"
        );
    }

    #[test]
    fn a_missing_image_asked_of_hsx_asm_is_one_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = hsx()
            .args(["asm", "nope.mvasm", "-o"])
            .arg(dir.path().join("x.hxe"))
            .output()
            .expect("asm");
        assert_ne!(out.status.code(), Some(0));
        let err = one_error_line(&out);
        assert!(!err.contains("os error"), "{err}");
    }

    #[test]
    fn unknown_options_still_get_clap_usage() {
        hsx()
            .args(["run", "--nope"])
            .assert()
            .failure()
            .stderr(predicate::str::contains("unexpected argument"));
    }
}

#[test]
fn client_options_work_before_the_subcommand() {
    let closed = "127.0.0.1:1";
    for args in [
        vec!["--connect", closed, "ps"],
        vec!["ps", "--connect", closed],
        vec!["--json", "--connect", closed, "ps"],
    ] {
        hsx()
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "cannot connect to hsxd at {closed}"
            )));
    }
}

#[test]
fn short_n_is_always_how_many() {
    // `-n` is `--count` everywhere; the older long names stay as aliases.
    for (sub, alias) in [
        (vec!["step", "1"], "--steps"),
        (vec!["dmesg"], "--limit"),
        (vec!["events"], "--limit"),
        (vec!["dis", "1"], "--count"),
        (vec!["trace", "records", "1"], "--limit"),
        (vec!["back", "1"], "--steps"),
    ] {
        let mut help = sub.clone();
        help.push("--help");
        let out = hsx().args(&help).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(text.contains("-n, --count"), "{sub:?}: {text}");
        let mut with_alias = sub.clone();
        with_alias.extend([alias, "3", "--connect", "127.0.0.1:1"]);
        hsx()
            .args(&with_alias)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("cannot connect"));
    }
}

#[test]
fn man_pages_have_environment_exit_status_examples_and_subcommand_pages() {
    let out = hsx().arg("man").assert().success();
    let page = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for section in [
        ".SH ENVIRONMENT",
        ".SH EXIT STATUS",
        ".SH EXAMPLES",
        ".SH SEE ALSO",
        "HSX_ADDR",
    ] {
        assert!(page.contains(section), "{section}");
    }
    let out = hsx().args(["man", "bp", "add"]).assert().success();
    let page = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(page.contains("hsx\\-bp\\-add"), "{page}");
    hsx()
        .args(["man", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no subcommand 'nope'"));
}
