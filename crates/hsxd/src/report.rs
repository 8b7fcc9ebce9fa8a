//! How the `hsx` and `hsxd` binaries show a failure to a person: one line, each cause once,
//! no backtrace, plus a `hint:` where there is an obvious next step.

use std::error::Error;
use std::io::ErrorKind;

/// The error and its causes on one line, `outer: inner: …`, skipping a cause whose text the
/// line already holds (error types often repeat their source in their own message).
pub fn one_line(top: &(dyn Error + 'static)) -> String {
    let mut line = String::new();
    let mut cause: Option<&(dyn Error + 'static)> = Some(top);
    // Bounded: a cyclic or absurdly deep chain must not hang the report.
    for _ in 0..32 {
        let Some(e) = cause else { break };
        let text = without_os_error(&e.to_string());
        let text = text.trim();
        if !text.is_empty() && !line.contains(text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(text);
        }
        cause = e.source();
    }
    // Multi-line messages (assembler diagnostics) stay readable but on one line.
    line.replace('\n', "; ")
}

/// `text` with control characters escaped (`\n`, `\u{1b}`, …): for names a client chose
/// (file paths) on their way into a log line, where a newline would start a forged line.
pub fn log_safe(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `No such file or directory (os error 2)` without the `(os error 2)` (it says nothing
/// more to a person).
fn without_os_error(text: &str) -> String {
    let mut out = text.to_string();
    while let Some(i) = out.find(" (os error ") {
        let Some(len) = out[i..].find(')') else { break };
        out.replace_range(i..=i + len, "");
    }
    out
}

/// A next step for a failure whose cause is well known, if any.
pub fn hint(top: &(dyn Error + 'static)) -> Option<&'static str> {
    let mut cause: Option<&(dyn Error + 'static)> = Some(top);
    for _ in 0..32 {
        let e = cause?;
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                ErrorKind::AddrInUse => Some(
                    "another program (perhaps another hsxd) listens there; stop it or choose \
                     another address with --listen HOST:PORT",
                ),
                ErrorKind::AddrNotAvailable => {
                    Some("that address is not on this machine; try --listen 127.0.0.1:9998")
                }
                ErrorKind::PermissionDenied => {
                    Some("ports below 1024 need privileges; choose a port above 1024")
                }
                _ => None,
            };
        }
        cause = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_a_log_line() {
        let forged = "x.sym\n2026-01-01T00:00:00Z  INFO hsxd: shutdown requested\r\u{1b}[2J";
        let safe = log_safe(forged);
        assert!(!safe.chars().any(char::is_control), "{safe}");
        assert!(safe.contains("x.sym\\n2026"), "{safe}");
        assert_eq!(log_safe("plain/path.sym"), "plain/path.sym");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read x.mvasm: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("binding 127.0.0.1:9998")]
    struct Binding(#[source] std::io::Error);

    #[test]
    fn each_cause_once() {
        let e = Repeats(std::io::Error::new(ErrorKind::NotFound, "No such file"));
        assert_eq!(one_line(&e), "cannot read x.mvasm: No such file");
        let e = Binding(std::io::Error::new(ErrorKind::AddrInUse, "Address in use"));
        assert_eq!(one_line(&e), "binding 127.0.0.1:9998: Address in use");
        assert!(hint(&e).is_some_and(|h| h.contains("--listen")));
        assert_eq!(hint(&Repeats(std::io::Error::other("x"))), None);
        let os = std::io::Error::from_raw_os_error(2);
        assert_eq!(
            one_line(&Repeats(os)),
            "cannot read x.mvasm: No such file or directory"
        );
    }
}
