//! Values and commands (protocol.md §2.6): single results with their status codes,
//! and the `val.list`/`cmd.list` tables.

use serde_json::Value;

use super::fields::{dash, hex2_opt, list, num, plain_or, text};
use crate::output::{Align, Table};

/// Value status codes (protocol.md §2.6): name and meaning.
pub fn value_status(s: u64) -> (&'static str, &'static str) {
    match s {
        0 => ("OK", "ok"),
        1 => ("ENOENT", "no such value"),
        2 => ("EPERM", "not permitted"),
        3 => ("ENOSPC", "no space left"),
        4 => ("EINVAL", "invalid value"),
        5 => ("EEXIST", "already exists"),
        6 => ("EBUSY", "busy"),
        _ => ("?", "unknown status"),
    }
}

/// Command status codes (protocol.md §2.6): name and meaning.
pub fn command_status(s: u64) -> (&'static str, &'static str) {
    match s {
        0 => ("OK", "ok"),
        1 => ("ENOENT", "no such command"),
        2 => ("EPERM", "not permitted"),
        3 => ("ENOSPC", "no space left"),
        4 => ("EINVAL", "invalid argument"),
        5 => ("EEXIST", "already exists"),
        6 => ("ENOASYNC", "cannot be called asynchronously"),
        7 => ("EFAIL", "the handler failed"),
        _ => ("?", "unknown status"),
    }
}

/// The inner status of `val.*`/`cmd.*` replies: 0 is success.
pub fn inner_status(reply: &Value, key: &str) -> Option<u64> {
    reply.get(key).and_then(|v| num(v, "status"))
}

/// `val.get`/`val.set`: `value{status, value?}`.
pub fn value(reply: &Value, oid: u16) -> String {
    let v = reply.get("value").unwrap_or(&Value::Null);
    match num(v, "status") {
        Some(0) | None => format!("0x{oid:04X} = {}\n", dash(text(v, "value"))),
        Some(s) => format!("0x{oid:04X}: {} ({s})\n", value_status(s).0),
    }
}

/// `cmd.call`: `command{status, result}`.
pub fn command(reply: &Value, oid: u16) -> String {
    let c = reply.get("command").unwrap_or(&Value::Null);
    match num(c, "status") {
        Some(0) | None => format!("0x{oid:04X} -> {}\n", dash(text(c, "result"))),
        Some(s) => format!("0x{oid:04X}: {} ({s})\n", command_status(s).0),
    }
}

fn oid_text(v: &Value) -> String {
    num(v, "oid")
        .map(|o| format!("0x{o:04X}"))
        .unwrap_or_else(|| "-".into())
}

/// `group.name` for a value/command entry, the bare name without a group, else `-`.
fn qualified_name(v: &Value) -> String {
    match (text(v, "group_name"), text(v, "name")) {
        (Some(g), Some(n)) => format!("{g}.{n}"),
        (None, Some(n)) => n,
        _ => "-".into(),
    }
}

/// `val.list`: `values[]`.
pub fn value_list(reply: &Value) -> String {
    let mut t = Table::new(&[
        ("OID", Align::Left),
        ("OWNER", Align::Right),
        ("NAME", Align::Left),
        ("VALUE", Align::Right),
        ("UNIT", Align::Left),
        ("FLAGS", Align::Right),
    ]);
    for v in list(reply, "values") {
        t.row(vec![
            oid_text(v).into(),
            dash(text(v, "owner_pid")).into(),
            qualified_name(v).into(),
            dash(text(v, "last_value")).into(),
            text(v, "unit").unwrap_or_default().into(),
            hex2_opt(v, "flags").into(),
        ]);
    }
    plain_or(&t, "no values\n")
}

/// `cmd.list`: `commands[]`.
pub fn command_list(reply: &Value) -> String {
    let mut t = Table::new(&[
        ("OID", Align::Left),
        ("OWNER", Align::Right),
        ("NAME", Align::Left),
        ("FLAGS", Align::Right),
        ("HELP", Align::Left),
    ]);
    for c in list(reply, "commands") {
        t.row(vec![
            oid_text(c).into(),
            dash(text(c, "owner_pid")).into(),
            qualified_name(c).into(),
            hex2_opt(c, "flags").into(),
            text(c, "help").unwrap_or_default().into(),
        ]);
    }
    plain_or(&t, "no commands\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn value_and_command_lists_qualify_names_and_format_flags() {
        let values = json!({"values":[
            {"oid":0x0101,"owner_pid":1,"group_name":"motor","name":"speed","last_value":1.5,"unit":"rpm","flags":5},
            {"oid":0x0102,"owner_pid":1,"name":"temp","last_value":20}
        ]});
        let out = value_list(&values);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].contains("motor.speed"), "{}", lines[1]);
        assert!(lines[1].trim_end().ends_with("0x05"), "{}", lines[1]);
        assert!(lines[2].contains(" temp "), "{}", lines[2]);
        assert!(lines[2].trim_end().ends_with('-'), "{}", lines[2]);
        assert_eq!(value_list(&json!({"values":[]})), "no values\n");

        let commands = json!({"commands":[
            {"oid":0x0201,"owner_pid":2,"group_name":"motor","name":"stop","flags":1,"help":"halt"},
            {"oid":0x0202,"owner_pid":2}
        ]});
        let out = command_list(&commands);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[1].contains("motor.stop") && lines[1].contains("0x01"));
        assert!(lines[1].trim_end().ends_with("halt"), "{}", lines[1]);
        assert!(lines[2].starts_with("0x0202"), "{}", lines[2]);
        assert_eq!(
            lines[2].split_whitespace().collect::<Vec<_>>(),
            ["0x0202", "2", "-", "-"]
        );
        assert_eq!(command_list(&json!({})), "no commands\n");
    }
}
