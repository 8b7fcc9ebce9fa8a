//! Mailboxes: the descriptor snapshot, one task's channels, `send` results and the
//! payloads of `listen` messages.

use std::fmt::Write as _;

use serde_json::Value;

use super::fields::{dash, decode_hex, hex2_opt, list, num, plain_or, text};
use crate::output::{Align, Table};

/// Mailbox namespace names (protocol.md §2.6).
pub fn namespace(n: Option<u64>) -> String {
    match n {
        Some(0) => "pid".into(),
        Some(1) => "svc".into(),
        Some(2) => "app".into(),
        Some(3) => "shared".into(),
        Some(x) => x.to_string(),
        None => "-".into(),
    }
}

/// `namespace:name`, unless the name already carries its namespace (`pid:3`).
fn qualified_name(d: &Value) -> String {
    let ns = namespace(num(d, "namespace"));
    let name = dash(text(d, "name"));
    if name.starts_with(&format!("{ns}:")) {
        name
    } else {
        format!("{ns}:{name}")
    }
}

/// `mailbox_snapshot`: top-level `descriptors` and `stats`.
pub fn mailboxes(reply: &Value) -> String {
    let mut t = Table::new(&[
        ("ID", Align::Right),
        ("NAME", Align::Left),
        ("OWNER", Align::Right),
        ("CAP", Align::Right),
        ("USED", Align::Right),
        ("DEPTH", Align::Right),
        ("MODE", Align::Right),
        ("WAITERS", Align::Right),
        ("TAPS", Align::Right),
    ]);
    for d in list(reply, "descriptors") {
        t.row(vec![
            dash(text(d, "descriptor_id")).into(),
            qualified_name(d).into(),
            dash(text(d, "owner_pid")).into(),
            dash(text(d, "capacity")).into(),
            dash(text(d, "bytes_used")).into(),
            dash(text(d, "queue_depth")).into(),
            hex2_opt(d, "mode_mask").into(),
            list(d, "waiters").len().to_string().into(),
            list(d, "taps").len().to_string().into(),
        ]);
    }
    let mut out = plain_or(&t, "no mailboxes\n");
    if let Some(stats) = reply
        .get("stats")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    {
        let parts: Vec<String> = stats
            .iter()
            .filter(|(_, v)| !v.is_object() && !v.is_array())
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                )
            })
            .collect();
        let _ = writeln!(out, "stats: {}", parts.join(" "));
    }
    out
}

/// `list`: one task's channels.
pub fn channels(reply: &Value) -> String {
    let c = reply.get("channels").unwrap_or(&Value::Null);
    let mut t = Table::new(&[
        ("ID", Align::Right),
        ("TARGET", Align::Left),
        ("MODE", Align::Right),
        ("CAP", Align::Right),
        ("DEPTH", Align::Right),
        ("USED", Align::Right),
        ("SUBS", Align::Right),
    ]);
    for ch in list(c, "channels") {
        t.row(vec![
            dash(text(ch, "descriptor_id")).into(),
            dash(text(ch, "target")).into(),
            hex2_opt(ch, "mode_mask").into(),
            dash(text(ch, "capacity")).into(),
            dash(text(ch, "queue_depth")).into(),
            dash(text(ch, "bytes_used")).into(),
            dash(text(ch, "subscriber_count")).into(),
        ]);
    }
    if t.is_empty() {
        format!("pid {}: no channels\n", dash(text(c, "pid")))
    } else {
        t.render(false)
    }
}

/// `send`: `mbx_status`, `length`, `target` at the top level.
pub fn send(reply: &Value) -> String {
    let status = num(reply, "mbx_status");
    let what = match status {
        Some(0) => "ok".to_string(),
        Some(1) => "would block (mailbox full)".to_string(),
        Some(2) => "invalid handle".to_string(),
        Some(4) => "message too large".to_string(),
        Some(5) => "no such mailbox".to_string(),
        Some(s) => format!("status {s}"),
        None => "-".to_string(),
    };
    format!(
        "sent {} byte(s) to {}: {}\n",
        dash(text(reply, "length")),
        dash(text(reply, "target")),
        what
    )
}

/// The text of `listen` messages, concatenated in order.
pub fn listen_text(reply: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    for m in list(reply, "messages") {
        out.extend(message_bytes(m));
    }
    out
}

/// The payload of one message or output event: its `text`, else its decoded `data_hex`,
/// else nothing.
pub fn message_bytes(m: &Value) -> Vec<u8> {
    if let Some(t) = m.get("text").and_then(Value::as_str) {
        t.as_bytes().to_vec()
    } else {
        m.get("data_hex")
            .and_then(Value::as_str)
            .and_then(decode_hex)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mailbox_names_carry_their_namespace_once() {
        let pid = json!({"namespace": 0, "name": "pid:3"});
        let svc = json!({"namespace": 1, "name": "stdio.out"});
        assert_eq!(qualified_name(&pid), "pid:3");
        assert_eq!(qualified_name(&svc), "svc:stdio.out");
    }

    #[test]
    fn message_bytes_prefers_text_then_hex_and_ignores_bad_hex() {
        assert_eq!(message_bytes(&json!({"text": "hi"})), b"hi");
        assert_eq!(message_bytes(&json!({"data_hex": "6869"})), b"hi");
        assert_eq!(message_bytes(&json!({"data_hex": "6g"})), b"");
        assert_eq!(message_bytes(&json!(null)), b"");
        let reply = json!({"messages": [{"text": "a"}, {"data_hex": "62"}, 7]});
        assert_eq!(listen_text(&reply), b"ab");
    }
}
