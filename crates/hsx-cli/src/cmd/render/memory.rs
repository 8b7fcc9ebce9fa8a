//! The machine state of one task: registers, memory as a hex dump and the memory
//! regions.

use std::fmt::Write as _;

use serde_json::Value;

use super::fields::{as_u64, dash, hex_addr, hex_opt, list, num, plain_or, psw_flags, text};
use crate::output::{Align, Table, paint};

/// Registers block (dumpregs `registers`, info `selected_registers`, a task context).
/// `changed` marks registers to highlight (by index 0..15).
pub fn registers(r: &Value, color: bool, changed: &[usize]) -> String {
    let mut out = String::new();
    let psw = num(r, "flags").or_else(|| num(r, "psw"));
    let pid = r
        .get("context")
        .map(|c| num(c, "pid"))
        .unwrap_or_else(|| num(r, "pid"));
    let _ = writeln!(
        out,
        "{}pc {}  sp {}  psw {} [{}]  steps {}",
        pid.map(|p| format!("pid {p}  ")).unwrap_or_default(),
        hex_opt(r, "pc"),
        hex_opt(r, "sp"),
        psw.map(|p| format!("0x{p:02X}"))
            .unwrap_or_else(|| "-".into()),
        psw.map(psw_flags).unwrap_or_else(|| "----".into()),
        dash(text(r, "steps")),
    );
    let regs = list(r, "regs");
    for row in 0..4 {
        let mut line = String::new();
        for col in 0..4 {
            let i = row * 4 + col;
            let val = regs.get(i).and_then(as_u64);
            let name = format!("R{i:<2}");
            let cell = match val {
                Some(v) => format!("0x{v:08X}"),
                None => "-".repeat(10),
            };
            let cell = if changed.contains(&i) {
                paint(&cell, "1;33", color)
            } else {
                cell
            };
            if col > 0 {
                line.push_str("  ");
            }
            let _ = write!(line, "{name} {cell}");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Hex dump, 16 bytes a line, with ASCII.
pub fn hexdump(start: u64, bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let addr = start + (i as u64) * 16;
        let mut hex = String::new();
        for (j, b) in chunk.iter().enumerate() {
            if j == 8 {
                hex.push(' ');
            }
            let _ = write!(hex, "{b:02x} ");
        }
        let ascii: String = chunk
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() || *b == b' ' {
                    *b as char
                } else {
                    '.'
                }
            })
            .collect();
        let _ = writeln!(out, "{}  {:<49} |{}|", hex_addr(addr), hex, ascii);
    }
    if out.is_empty() {
        out.push_str("(no bytes)\n");
    }
    out
}

/// `memory regions` (protocol.md §2.4.5).
pub fn regions(reply: &Value) -> String {
    let m = reply.get("memory").unwrap_or(&Value::Null);
    let mut t = Table::new(&[
        ("NAME", Align::Left),
        ("START", Align::Right),
        ("END", Align::Right),
        ("LENGTH", Align::Right),
        ("PERM", Align::Left),
        ("SOURCE", Align::Left),
    ]);
    for r in list(m, "regions") {
        t.row(vec![
            dash(text(r, "name")).into(),
            hex_opt(r, "start").into(),
            hex_opt(r, "end").into(),
            dash(text(r, "length")).into(),
            dash(text(r, "permissions")).into(),
            dash(text(r, "source")).into(),
        ]);
    }
    plain_or(&t, "no regions\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::render::fields::decode_hex;
    use serde_json::json;

    #[test]
    fn registers_in_four_columns_with_flags() {
        let r = json!({"pc":32,"sp":65520,"flags":5,"steps":8,"regs":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,0xFFFF_FFFFu32]});
        let out = registers(&r, false, &[]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "pc 0x0020  sp 0xFFF0  psw 0x05 [Z-N-]  steps 8");
        assert_eq!(
            lines[1],
            "R0  0x00000000  R1  0x00000001  R2  0x00000002  R3  0x00000003"
        );
        assert!(lines[4].ends_with("R15 0xFFFFFFFF"));
        let hl = registers(&r, true, &[1]);
        assert!(hl.contains("\x1b[1;33m0x00000001\x1b[0m"));
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(decode_hex("01 02ff"), Some(vec![1, 2, 255]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
        let dump = hexdump(0x4000, b"Hello, world!\x00\x01\x02xyz");
        assert!(dump.starts_with(
            "0x4000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 01 02  |Hello, world!...|"
        ));
        assert!(dump.contains("0x4010  78 79 7a"));
    }
}
