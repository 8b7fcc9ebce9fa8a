//! Who may do what: capabilities, the grants of each token, and the limits on what one
//! client may hold (sessions, subscriptions, connections).
//!
//! A connection acts as a *principal*: the grant of the token it presented, or the
//! anonymous grant when the daemon has no tokens. A request's capabilities are its
//! session's (what was requested at `session.open`, cut down to the principal's grant),
//! or the principal's own without a session. The default policy grants anonymous clients
//! everything, which is what clients of the reference executive expect on loopback.
//!
//! The policy file is JSON (see docs/security.md):
//!
//! ```json
//! {"anonymous": {"capabilities": ["observe"]},
//!  "tokens": [{"name": "ci", "token_file": "ci.token",
//!              "capabilities": ["observe", "load"], "apps": ["blinky*"],
//!              "req_caps": ["mailbox", "uart"]}],
//!  "bind_sessions": "connection",
//!  "limits": {"sessions_per_connection": 8, "sessions_total": 256,
//!             "connections": 128, "subscribers": 64}}
//! ```

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::auth::{Token, TokenError};

/// One capability (protocol.md "Capabilities").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cap {
    /// Read-only requests: state, memory, registers, symbols, events, logs.
    Observe,
    /// The run state of tasks: pause, resume, step one task, send, values and commands.
    Control,
    /// Breakpoints, watches, poke, register writes, tracing, symbol files.
    Debug,
    /// Loading, reloading and killing tasks.
    Load,
    /// The clock, `restart`, `shutdown`, `stdio_fanout`, `trace.config`, other sessions.
    Admin,
}

impl Cap {
    /// Every capability, weakest first.
    pub const ALL: [Cap; 5] = [
        Cap::Observe,
        Cap::Control,
        Cap::Debug,
        Cap::Load,
        Cap::Admin,
    ];

    /// Its wire name.
    pub fn name(self) -> &'static str {
        match self {
            Cap::Observe => "observe",
            Cap::Control => "control",
            Cap::Debug => "debug",
            Cap::Load => "load",
            Cap::Admin => "admin",
        }
    }

    /// The capability named `s` (case-insensitive).
    pub fn parse(s: &str) -> Option<Cap> {
        Cap::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Caps(u8);

impl Caps {
    /// Every capability.
    pub const ALL: Caps = Caps(0b1_1111);
    /// None.
    pub const NONE: Caps = Caps(0);

    /// The set of `caps`.
    pub fn of(caps: &[Cap]) -> Caps {
        Caps(caps.iter().fold(0, |m, c| m | c.bit()))
    }

    /// Whether `c` is in the set.
    pub fn has(self, c: Cap) -> bool {
        self.0 & c.bit() != 0
    }

    /// The capabilities in both.
    #[must_use]
    pub fn intersect(self, other: Caps) -> Caps {
        Caps(self.0 & other.0)
    }

    /// Wire names, weakest first.
    pub fn names(self) -> Vec<&'static str> {
        Cap::ALL
            .into_iter()
            .filter(|c| self.has(*c))
            .map(Cap::name)
            .collect()
    }
}

/// What a principal may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The principal's name (`anonymous`, or the token's name); sessions are bound to it.
    pub name: String,
    /// Its capabilities.
    pub caps: Caps,
    /// App names it may load and act on (`*` at the end matches any suffix); `None` means
    /// every app.
    pub apps: Option<Vec<String>>,
    /// Image capability bits (the header's `req_caps`: [`REQ_CAP_NAMES`]) an image it
    /// loads may request; `None` means any.
    pub req_caps: Option<u32>,
}

/// The header's `req_caps` bits by name, bit 0 first.
pub const REQ_CAP_NAMES: [&str; 5] = ["mailbox", "values", "fram", "can", "uart"];

/// The names of the bits set in `mask` (unknown bits as hex).
pub fn req_cap_names(mask: u32) -> Vec<String> {
    let mut out: Vec<String> = REQ_CAP_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| (*n).to_string())
        .collect();
    let unknown = mask & !((1 << REQ_CAP_NAMES.len()) - 1);
    if unknown != 0 {
        out.push(format!("{unknown:#x}"));
    }
    out
}

impl Grant {
    /// The grant of a client the default policy serves: everything.
    pub fn full(name: &str) -> Grant {
        Grant {
            name: name.to_string(),
            caps: Caps::ALL,
            apps: None,
            req_caps: None,
        }
    }

    /// The `req_caps` bits of an image that this grant does not allow (0: it may load it).
    pub fn refused_req_caps(&self, image_req_caps: u32) -> u32 {
        self.req_caps.map_or(0, |allowed| image_req_caps & !allowed)
    }

    /// Why this grant may not load an image named `app` that requests `req_caps`
    /// (`permission_denied:...`), or `None` when it may.
    pub fn refusal(&self, app: &str, req_caps: u32) -> Option<String> {
        if !self.allows_app(app) {
            return Some(format!("permission_denied:app:{app}"));
        }
        let refused = self.refused_req_caps(req_caps);
        (refused != 0).then(|| {
            format!(
                "permission_denied:req_caps:{}",
                req_cap_names(refused).join(",")
            )
        })
    }

    /// Whether it may act on the app `name` (an unnamed image counts as the app `""`).
    pub fn allows_app(&self, name: &str) -> bool {
        let Some(patterns) = &self.apps else {
            return true;
        };
        patterns.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => p == name,
        })
    }
}

/// How far a session id reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Binding {
    /// Any connection of the principal that opened it (clients that open a connection per
    /// request, as the reference's `ExecutiveSession`, keep working).
    #[default]
    Principal,
    /// Only the connection that opened it.
    Connection,
}

/// Caps on what clients may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sessions one connection may open (and keep open).
    pub sessions_per_connection: usize,
    /// Sessions in total.
    pub sessions_total: usize,
    /// Open connections.
    pub connections: usize,
    /// Event subscriptions in total.
    pub subscribers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            sessions_per_connection: 64,
            sessions_total: 1024,
            connections: 256,
            subscribers: 128,
        }
    }
}

/// The daemon's access policy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    tokens: Vec<(Token, Arc<Grant>)>,
    anonymous: Option<Arc<Grant>>,
    /// How far a session id reaches.
    pub binding: Binding,
    /// Caps on sessions, subscriptions and connections.
    pub limits: Limits,
}

/// Why a policy file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file cannot be read.
    #[error("cannot read policy file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a policy.
    #[error("policy file {path}: {why}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong (never a token).
        why: String,
    },
    /// A token file named by the policy cannot be used.
    #[error(transparent)]
    Token(#[from] TokenError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantFile {
    name: Option<String>,
    token: Option<String>,
    token_file: Option<String>,
    #[serde(default)]
    capabilities: Vec<String>,
    apps: Option<Vec<String>>,
    req_caps: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    sessions_per_connection: Option<usize>,
    sessions_total: Option<usize>,
    connections: Option<usize>,
    subscribers: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    anonymous: Option<GrantFile>,
    #[serde(default)]
    tokens: Vec<GrantFile>,
    bind_sessions: Option<String>,
    limits: Option<LimitsFile>,
}

/// Largest policy file read.
const MAX_POLICY_FILE: u64 = 1024 * 1024;

impl Policy {
    /// The policy of a daemon with one shared token (`--token-file`), or none: whoever
    /// presents it, or every client without one, may do everything.
    pub fn single(token: Option<Token>) -> Policy {
        match token {
            Some(t) => Policy {
                tokens: vec![(t, Arc::new(Grant::full("token")))],
                ..Policy::default()
            },
            None => Policy::default(),
        }
    }

    /// Adds a token with its grant.
    #[must_use]
    pub fn with_token(mut self, token: Token, grant: Grant) -> Policy {
        self.tokens.push((token, Arc::new(grant)));
        self
    }

    /// Sets the anonymous grant (used only when there are no tokens).
    #[must_use]
    pub fn with_anonymous(mut self, grant: Grant) -> Policy {
        self.anonymous = Some(Arc::new(grant));
        self
    }

    /// Whether connections must present a token.
    pub fn needs_token(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// The grant of a connection that presented no token.
    pub fn anonymous(&self) -> Arc<Grant> {
        self.anonymous
            .clone()
            .unwrap_or_else(|| Arc::new(Grant::full("anonymous")))
    }

    /// The grant of the token `candidate`. Every token is compared, each in constant time,
    /// so the answer's timing says nothing about which token was close.
    pub fn authenticate(&self, candidate: &str) -> Option<Arc<Grant>> {
        let mut found = None;
        for (t, g) in &self.tokens {
            if t.matches(candidate) && found.is_none() {
                found = Some(g.clone());
            }
        }
        found
    }

    /// The policy in `path`; a `--token-file` token, when given, is added with every
    /// capability.
    ///
    /// # Errors
    /// The file cannot be read or is not a valid policy; a token in it is too short.
    pub fn from_file(path: &Path, extra: Option<Token>) -> Result<Policy, PolicyError> {
        let shown = path.display().to_string();
        let invalid = |why: String| PolicyError::Invalid {
            path: shown.clone(),
            why,
        };
        let read = |source| PolicyError::Read {
            path: shown.clone(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(read)?;
        if !meta.is_file() || meta.len() > MAX_POLICY_FILE {
            return Err(invalid("not a regular file of at most 1 MiB".into()));
        }
        let text = std::fs::read_to_string(path).map_err(read)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut p = Policy::parse(&text, dir).map_err(invalid)?;
        if let Some(t) = extra {
            p = p.with_token(t, Grant::full("token"));
        }
        Ok(p)
    }

    /// A policy from its JSON text; `token_file` paths resolve against `dir`.
    ///
    /// # Errors
    /// What is wrong, in one line that quotes no token.
    pub fn parse(text: &str, dir: &Path) -> Result<Policy, String> {
        // serde's messages can quote the offending value, which may be a token.
        let v: Value = serde_json::from_str(text)
            .map_err(|e| format!("not valid JSON (line {}, column {})", e.line(), e.column()))?;
        let f: PolicyFile = serde_json::from_value(v)
            .map_err(|_| "unexpected field or wrong type (see docs/security.md)".to_string())?;
        let mut policy = Policy::default();
        if let Some(a) = f.anonymous {
            if a.token.is_some() || a.token_file.is_some() {
                return Err("the anonymous grant cannot have a token".into());
            }
            policy.anonymous = Some(Arc::new(grant_of(&a, "anonymous")?));
        }
        for (i, g) in f.tokens.iter().enumerate() {
            let default_name = format!("token{}", i + 1);
            let grant = grant_of(g, &default_name)?;
            let token = match (&g.token, &g.token_file) {
                (Some(t), None) => Token::new(t).ok_or_else(|| {
                    format!(
                        "token of '{}' is too short (at least {} characters)",
                        grant.name,
                        crate::auth::MIN_TOKEN_LEN
                    )
                })?,
                (None, Some(file)) => {
                    Token::from_file(&dir.join(file)).map_err(|e| e.to_string())?
                }
                _ => {
                    return Err(format!(
                        "'{}' needs exactly one of token, token_file",
                        grant.name
                    ));
                }
            };
            policy.tokens.push((token, Arc::new(grant)));
        }
        policy.binding = match f.bind_sessions.as_deref() {
            None | Some("principal") => Binding::Principal,
            Some("connection") => Binding::Connection,
            Some(other) => {
                return Err(format!(
                    "bind_sessions must be 'principal' or 'connection', not '{other}'"
                ));
            }
        };
        if let Some(l) = f.limits {
            let d = Limits::default();
            policy.limits = Limits {
                sessions_per_connection: l
                    .sessions_per_connection
                    .unwrap_or(d.sessions_per_connection),
                sessions_total: l.sessions_total.unwrap_or(d.sessions_total),
                connections: l.connections.unwrap_or(d.connections),
                subscribers: l.subscribers.unwrap_or(d.subscribers),
            };
        }
        Ok(policy)
    }
}

fn grant_of(g: &GrantFile, default_name: &str) -> Result<Grant, String> {
    let name = g.name.clone().unwrap_or_else(|| default_name.to_string());
    let mut caps = Vec::new();
    for c in &g.capabilities {
        caps.push(Cap::parse(c).ok_or_else(|| {
            format!("unknown capability '{c}' for '{name}' (observe, control, debug, load, admin)")
        })?);
    }
    let req_caps = match &g.req_caps {
        None => None,
        Some(names) => {
            let mut mask = 0u32;
            for n in names {
                let bit = REQ_CAP_NAMES
                    .iter()
                    .position(|k| k.eq_ignore_ascii_case(n.trim()))
                    .ok_or_else(|| {
                        format!(
                            "unknown req_caps bit '{n}' for '{name}' ({})",
                            REQ_CAP_NAMES.join(", ")
                        )
                    })?;
                mask |= 1 << bit;
            }
            Some(mask)
        }
    };
    Ok(Grant {
        name,
        caps: Caps::of(&caps),
        apps: g.apps.clone(),
        req_caps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_file_grants_per_token() {
        let p = Policy::parse(
            r#"{"anonymous":{"capabilities":["observe"]},
                "tokens":[{"name":"ci","token":"ci-token-0123456789","capabilities":["observe","load"],"apps":["blinky*"]},
                          {"token":"admin-token-0123456789","capabilities":["admin","observe"]}],
                "bind_sessions":"connection","limits":{"sessions_total":3}}"#,
            Path::new("."),
        );
        let p = p.unwrap_or_else(|e| panic!("{e}"));
        assert!(p.needs_token());
        assert_eq!(p.binding, Binding::Connection);
        assert_eq!(p.limits.sessions_total, 3);
        assert_eq!(p.limits.connections, Limits::default().connections);
        let ci = p.authenticate("ci-token-0123456789");
        let ci = ci.unwrap_or_else(|| panic!("ci token"));
        assert_eq!(ci.name, "ci");
        assert_eq!(ci.caps.names(), ["observe", "load"]);
        assert!(ci.allows_app("blinky_2") && !ci.allows_app("other"));
        let admin = p.authenticate("admin-token-0123456789");
        assert_eq!(admin.map(|g| g.name.clone()), Some("token2".into()));
        assert!(p.authenticate("nope-nope-nope-nope").is_none());
        assert_eq!(p.anonymous().caps, Caps::of(&[Cap::Observe]));
    }

    #[test]
    fn req_caps_are_named_bits() {
        let p = Policy::parse(
            r#"{"tokens":[{"token":"ci-token-0123456789","capabilities":["load"],"req_caps":["mailbox","UART"]}]}"#,
            Path::new("."),
        );
        let p = p.unwrap_or_else(|e| panic!("{e}"));
        let g = p.authenticate("ci-token-0123456789");
        let g = g.unwrap_or_else(|| panic!("token"));
        assert_eq!(g.req_caps, Some(0b1_0001));
        assert_eq!(g.refused_req_caps(0b1_0001), 0);
        assert_eq!(g.refused_req_caps(0b0_0110), 0b110);
        assert_eq!(req_cap_names(0b100_0110), ["values", "fram", "0x40"]);
        assert_eq!(Grant::full("x").refused_req_caps(u32::MAX), 0);
        let e = Policy::parse(r#"{"anonymous":{"req_caps":["gpio"]}}"#, Path::new("."));
        assert!(
            e.err()
                .unwrap_or_default()
                .contains("unknown req_caps bit 'gpio'")
        );
    }

    #[test]
    fn bad_policies_say_why_without_the_token() {
        let cases = [
            ("not json", "not valid JSON"),
            (r#"{"tokens":[{"token":"short"}]}"#, "too short"),
            (
                r#"{"tokens":[{"token":"x-secret-0123456789","capabilities":["root"]}]}"#,
                "unknown capability 'root'",
            ),
            (r#"{"tokens":[{"capabilities":[]}]}"#, "exactly one of"),
            (r#"{"frob":1}"#, "unexpected field"),
            (r#"{"bind_sessions":"x"}"#, "bind_sessions"),
        ];
        for (text, want) in cases {
            let e = Policy::parse(text, Path::new("."))
                .err()
                .unwrap_or_default();
            assert!(e.contains(want), "{text}: {e}");
            assert!(!e.contains("secret"), "{e}");
        }
    }

    #[test]
    fn the_default_policy_grants_everything_without_a_token() {
        let p = Policy::single(None);
        assert!(!p.needs_token());
        assert_eq!(p.anonymous().caps, Caps::ALL);
        assert_eq!(Cap::parse(" Admin "), Some(Cap::Admin));
    }
}
