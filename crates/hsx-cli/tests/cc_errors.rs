//! `hsx cc` on the mistakes people make: each is one clear error, a non-zero exit, and no
//! image left behind. (Needs the C toolchain, like `cc_diff`.)

use assert_cmd::Command;

fn hsx_cc(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("hsx")
        .expect("hsx binary")
        .arg("cc")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("hsx runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_source_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = hsx_cc(dir.path(), &["nope.c", "-o", "x.hxe"]);
    assert_ne!(code, 0);
    assert_eq!(err.trim(), "hsx: error: nope.c: no such file");
    assert!(!dir.path().join("x.hxe").exists());
}

#[test]
fn no_input_says_how_to_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = hsx_cc(dir.path(), &[]);
    assert_ne!(code, 0);
    assert!(
        err.contains("no input files") && err.contains("hsx cc main.c"),
        "{err}"
    );
}

#[test]
fn a_c_error_is_shown_as_clang_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.c"), "int main(void) { return x; }\n").unwrap();
    let (code, err) = hsx_cc(dir.path(), &["bad.c", "-o", "bad.hxe"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("bad.c:1:25: error: use of undeclared identifier 'x'"),
        "{err}"
    );
    assert_eq!(
        err.lines().last(),
        Some("hsx: error: compiling bad.c failed (see the messages above)")
    );
    assert!(!dir.path().join("bad.hxe").exists());
}

#[test]
fn an_unavailable_library_call_names_itself_and_its_caller() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("f.c"),
        "#include <stdio.h>\nint main(void) { return fopen(\"x\", \"r\") != 0; }\n",
    )
    .unwrap();
    let (code, err) = hsx_cc(dir.path(), &["f.c", "-o", "f.hxe"]);
    assert_ne!(code, 0);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("hsx: error: `") && last.contains("is not provided by hsx cc"),
        "{err}"
    );
    assert!(last.contains("fopen ← main"), "{err}");
    assert!(!dir.path().join("f.hxe").exists());
}

#[test]
fn a_signature_mismatch_is_a_link_error_not_a_trap() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.c"), "int main(int c) { return c; }\n").unwrap();
    let (code, err) = hsx_cc(dir.path(), &["m.c", "-o", "m.hxe"]);
    assert_ne!(code, 0);
    assert!(err.contains("signature mismatch"), "{err}");
    assert!(!dir.path().join("m.hxe").exists());
}
