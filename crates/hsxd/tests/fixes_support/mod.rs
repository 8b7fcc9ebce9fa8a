//! Writing a program to disk and loading it, and the endless `SPIN` program: what both
//! fixes files (`fixes_events.rs`, `fixes_commands.rs`) start their tests with.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::common::{Client, ok};

/// Writes `name` with `text` into `dir` and returns its path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p: PathBuf = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}

/// Loads a program (optionally with a `.sym` override) and returns its PID.
pub async fn load(c: &mut Client, path: &str, symbols: Option<&str>) -> u64 {
    let mut req = json!({"cmd": "load", "path": path});
    if let Some(s) = symbols {
        req["symbols"] = json!(s);
    }
    let r = c.rpc(req).await;
    ok(&r)["image"]["pid"].as_u64().expect("pid")
}

/// `R1 = 1 .. R5 = 5`, then jump back (24 bytes of code, never ends).
pub const SPIN: &str = r#"
.name "spin"
.entry main
.text
main:
    LDI   R1, 1
    LDI   R2, 2
    LDI   R3, 3
    LDI   R4, 4
    LDI   R5, 5
    JMP   main
"#;
