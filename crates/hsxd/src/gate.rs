//! The first lines of a connection when the policy has tokens: nothing but `auth` (or
//! `session.open` with a `token`) is served until one of the tokens is presented, and the
//! connection then acts with that token's grant.

use std::sync::Arc;

use serde_json::Value;

use crate::args::Obj;
use crate::codec::parse_request;
use crate::error::ProtoError;
use crate::policy::{Grant, Policy};
use crate::reply::Reply;

/// What a connection's gate did with a line before authentication.
#[derive(Debug)]
pub enum Gate {
    /// Answer this and keep waiting for the token.
    Reply(Reply),
    /// The connection is now authenticated as this principal; answer this (`auth`).
    Authenticated(Reply, Arc<Grant>),
    /// The connection is now authenticated as this principal; handle this request
    /// (`session.open` with its `token` removed).
    Forward(Obj, Arc<Grant>),
}

/// Checks one line of a connection that has not presented a token yet: one of
/// `policy`'s tokens admits it with that token's grant.
pub fn gate(policy: &Policy, line: &str) -> Gate {
    let mut obj = match parse_request(line) {
        Ok(o) => o,
        Err(_) => return Gate::Reply(auth_required()),
    };
    let cmd = obj
        .get("cmd")
        .and_then(Value::as_str)
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let offered = obj.remove("token");
    let grant = offered
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|t| policy.authenticate(t));
    match (cmd.as_str(), grant) {
        ("auth", Some(g)) => Gate::Authenticated(Reply::with("auth", serde_json::json!("ok")), g),
        ("session.open", Some(g)) => Gate::Forward(obj, g),
        ("auth" | "session.open", None) if offered.is_some() => {
            tracing::warn!("a connection offered a wrong token");
            Gate::Reply(Reply::error(&ProtoError::msg("auth_failed")))
        }
        _ => Gate::Reply(auth_required()),
    }
}

fn auth_required() -> Reply {
    Reply::error(&ProtoError::msg("auth_required"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Token;

    const SECRET: &str = "0123456789abcdef-secret";

    fn token() -> Token {
        Token::new(SECRET).unwrap_or_else(|| unreachable!())
    }

    fn text(r: &Reply) -> String {
        let mut buf = Vec::new();
        r.write_line(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }

    #[test]
    fn the_gate_admits_auth_and_session_open_with_the_token_only() {
        let t = Policy::single(Some(token()));
        let ok = format!(r#"{{"cmd":"auth","token":"{SECRET}"}}"#);
        assert!(matches!(gate(&t, &ok), Gate::Authenticated(..)));
        let open = format!(r#"{{"cmd":"session.open","token":"{SECRET}","client":"x"}}"#);
        match gate(&t, &open) {
            Gate::Forward(obj, g) => {
                assert!(obj.get("token").is_none());
                assert_eq!(g.name, "token");
            }
            other => panic!("{other:?}"),
        }
        for line in [
            r#"{"cmd":"ps"}"#.to_string(),
            r#"{"cmd":"auth"}"#.to_string(),
            "not json".to_string(),
            r#"{"cmd":"ps","token":"0123456789abcdef-secret"}"#.to_string(),
        ] {
            match gate(&t, &line) {
                Gate::Reply(r) => assert!(text(&r).contains("auth_required"), "{line}"),
                other => panic!("{line}: {other:?}"),
            }
        }
        match gate(&t, r#"{"cmd":"auth","token":"wrong-wrong-wrong-wrong"}"#) {
            Gate::Reply(r) => {
                let s = text(&r);
                assert!(
                    s.contains("auth_failed") && !s.contains("wrong-wrong"),
                    "{s}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
