//! Sessions and PID locks (protocol.md §3). Pure logic; the caller passes the time.
//!
//! * `session.open` negotiates features (unknown ones are left out with an
//!   `unsupported_feature:<name>` warning), clamps `max_events` to 2..2048 and
//!   `heartbeat_s` to 5..300 with `*_clamped:<v>` warnings, and takes its PID locks
//!   all-or-nothing.
//! * An **owner** holds PID locks; an **observer** holds none. A locked PID may only be
//!   changed by requests carrying the owner's session id.
//! * A session lives until `session.close`, `session.terminate` or expiry
//!   (`now - last_seen > heartbeat_s`); every path releases its locks. A TCP disconnect
//!   does not end a session.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::error::ProtoError;
use crate::policy::{Binding, Cap, Caps, Limits};

/// Features a session can be granted.
pub const SUPPORTED_FEATURES: &[&str] =
    &["events", "stack", "disasm", "symbols", "memory", "watch"];

/// Negotiation limits.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// `heartbeat_s` when not requested.
    pub heartbeat_default: u32,
    /// Smallest `heartbeat_s`.
    pub heartbeat_min: u32,
    /// Largest `heartbeat_s`.
    pub heartbeat_max: u32,
    /// `max_events` when not requested.
    pub events_default: u32,
    /// Smallest `max_events`.
    pub events_min: u32,
    /// Largest `max_events`.
    pub events_max: u32,
    /// Lazy expiry runs at most this often (seconds).
    pub prune_interval_s: f64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            heartbeat_default: 30,
            heartbeat_min: 5,
            heartbeat_max: 300,
            events_default: 256,
            events_min: 2,
            events_max: 2048,
            prune_interval_s: 5.0,
        }
    }
}

/// A parsed `session.open` request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenParams {
    /// Free-text client name.
    pub client: String,
    /// Requested features.
    pub features: Vec<String>,
    /// Requested `capabilities.max_events`.
    pub max_events: Option<i64>,
    /// Requested `heartbeat_s`.
    pub heartbeat_s: Option<i64>,
    /// PIDs to lock (any order, duplicates allowed).
    pub pid_lock: Vec<u32>,
    /// Requested capabilities (`caps`); `None` asks for all the principal has.
    pub caps: Option<Vec<String>>,
}

/// Who opens a session: the connection's principal, its connection, and what the
/// principal may be granted.
#[derive(Debug, Clone, PartialEq)]
pub struct Opener {
    /// The principal's name.
    pub principal: String,
    /// The connection.
    pub conn: u64,
    /// The principal's capabilities (the most a session can get).
    pub grant: Caps,
    /// Session caps.
    pub limits: Limits,
}

/// One session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// UUID text.
    pub id: String,
    /// Client name.
    pub client: String,
    /// Granted features.
    pub features: Vec<String>,
    /// Event ring size for its subscription.
    pub max_events: u32,
    /// Locked PIDs, sorted, unique.
    pub pid_locks: Vec<u32>,
    /// Expiry interval.
    pub heartbeat_s: u32,
    /// Negotiation warnings.
    pub warnings: Vec<String>,
    /// Epoch seconds.
    pub created_at: f64,
    /// Epoch seconds of the last request naming it.
    pub last_seen: f64,
    /// Granted capabilities.
    pub caps: Caps,
    /// The principal that opened it; only it may use the id.
    pub principal: String,
    /// The connection that opened it.
    pub conn: u64,
    order: u64,
}

impl Session {
    fn pid_lock_json(&self) -> Value {
        match self.pid_locks.as_slice() {
            [] => Value::Null,
            [one] => json!(one),
            many => json!(many),
        }
    }

    /// The `session` object of the `session.open` reply.
    pub fn payload(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "client": self.client,
            "heartbeat_s": self.heartbeat_s,
            "features": self.features,
            "max_events": self.max_events,
            "pid_lock": self.pid_lock_json(),
            "caps": self.caps.names(),
            "created_at": self.created_at,
            "last_seen": self.last_seen,
        });
        if !self.warnings.is_empty()
            && let Value::Object(m) = &mut v
        {
            m.insert("warnings".into(), json!(self.warnings));
        }
        v
    }

    /// The `session.current` object: the payload plus `pid_locks` and `warnings` always.
    pub fn details(&self) -> Value {
        let mut v = self.payload();
        if let Value::Object(m) = &mut v {
            m.insert("pid_locks".into(), json!(self.pid_locks));
            m.insert("warnings".into(), json!(self.warnings));
        }
        v
    }

    /// Whether it holds any PID lock.
    pub fn is_owner(&self) -> bool {
        !self.pid_locks.is_empty()
    }
}

/// Every session and PID lock.
#[derive(Debug)]
pub struct SessionTable {
    cfg: SessionConfig,
    sessions: HashMap<String, Session>,
    locks: BTreeMap<u32, String>,
    last_prune: f64,
    next_order: u64,
}

impl SessionTable {
    /// An empty table.
    pub fn new(cfg: SessionConfig) -> Self {
        Self {
            cfg,
            sessions: HashMap::new(),
            locks: BTreeMap::new(),
            last_prune: f64::NEG_INFINITY,
            next_order: 0,
        }
    }

    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Opens a session with id `id`.
    pub fn open(&mut self, p: OpenParams, id: String, now: f64) -> Result<&Session, ProtoError> {
        self.open_as(p, id, now, &Opener::anonymous())
    }

    /// Opens a session with id `id` for `who`: at most `who.limits` sessions in all and
    /// per connection, capabilities cut down to `who.grant` (with a `cap_denied:<name>`
    /// warning for each one refused).
    pub fn open_as(
        &mut self,
        p: OpenParams,
        id: String,
        now: f64,
        who: &Opener,
    ) -> Result<&Session, ProtoError> {
        if self.sessions.len() >= who.limits.sessions_total {
            return Err(ProtoError::msg("session_limit:total"));
        }
        let mine = self
            .sessions
            .values()
            .filter(|s| s.conn == who.conn)
            .count();
        if mine >= who.limits.sessions_per_connection {
            return Err(ProtoError::msg("session_limit:connection"));
        }
        let cfg = &self.cfg;
        let mut warnings = Vec::new();
        let caps = match &p.caps {
            None => who.grant,
            Some(names) => {
                let mut asked = Vec::new();
                for n in names {
                    match Cap::parse(n) {
                        Some(c) if who.grant.has(c) => asked.push(c),
                        Some(c) => warnings.push(format!("cap_denied:{}", c.name())),
                        None => warnings.push(format!("unsupported_cap:{n}")),
                    }
                }
                Caps::of(&asked)
            }
        };
        let mut features = Vec::new();
        for f in p.features {
            if SUPPORTED_FEATURES.contains(&f.as_str()) {
                if !features.contains(&f) {
                    features.push(f);
                }
            } else {
                warnings.push(format!("unsupported_feature:{f}"));
            }
        }
        let max_events = match p.max_events {
            None => cfg.events_default,
            Some(v) if v <= 0 => {
                return Err(ProtoError::msg("capabilities.max_events must be positive"));
            }
            Some(v) => clamp_warn(
                v,
                cfg.events_min,
                cfg.events_max,
                "max_events_clamped",
                &mut warnings,
            ),
        };
        let heartbeat_s = match p.heartbeat_s {
            None => cfg.heartbeat_default,
            Some(v) => clamp_warn(
                v,
                cfg.heartbeat_min,
                cfg.heartbeat_max,
                "heartbeat_clamped",
                &mut warnings,
            ),
        };
        let mut pid_locks = p.pid_lock;
        pid_locks.sort_unstable();
        pid_locks.dedup();
        if let Some(pid) = pid_locks.iter().find(|pid| self.locks.contains_key(pid)) {
            return Err(ProtoError::PidLocked(*pid));
        }
        for pid in &pid_locks {
            self.locks.insert(*pid, id.clone());
        }
        let order = self.next_order;
        self.next_order += 1;
        let session = Session {
            id: id.clone(),
            client: p.client,
            features,
            max_events,
            pid_locks,
            heartbeat_s,
            warnings,
            created_at: now,
            last_seen: now,
            caps,
            principal: who.principal.clone(),
            conn: who.conn,
            order,
        };
        Ok(self.sessions.entry(id).or_insert(session))
    }

    /// The session `id`.
    pub fn get(&self, id: &str) -> Option<&Session> {
        self.sessions.get(id)
    }

    /// Refreshes `last_seen`; `session_required` when `id` is not a live session.
    pub fn touch(&mut self, id: &str, now: f64) -> Result<&Session, ProtoError> {
        let s = self
            .sessions
            .get_mut(id)
            .ok_or(ProtoError::SessionRequired)?;
        s.last_seen = now;
        Ok(s)
    }

    /// The capabilities of session `id` used by `principal` on connection `conn`;
    /// `session_required` when it does not exist or belongs to someone else (the same
    /// answer, so ids cannot be probed).
    pub fn authorize(
        &self,
        id: &str,
        principal: &str,
        conn: u64,
        binding: Binding,
    ) -> Result<Caps, ProtoError> {
        match self.sessions.get(id) {
            Some(s)
                if s.principal == principal
                    && (binding == Binding::Principal || s.conn == conn) =>
            {
                Ok(s.caps)
            }
            _ => Err(ProtoError::SessionRequired),
        }
    }

    /// Removes a session and releases its locks.
    pub fn close(&mut self, id: &str) -> Option<Session> {
        let s = self.sessions.remove(id)?;
        for pid in &s.pid_locks {
            if self.locks.get(pid).is_some_and(|owner| owner == id) {
                self.locks.remove(pid);
            }
        }
        Some(s)
    }

    /// Removes every session.
    pub fn clear(&mut self) -> Vec<Session> {
        self.locks.clear();
        self.sessions.drain().map(|(_, s)| s).collect()
    }

    /// `session.list` entries, oldest first, each with `age_s`.
    pub fn list(&self, now: f64) -> Vec<Value> {
        self.list_for(now, None)
    }

    /// [`SessionTable::list`] as seen by a client that is not `admin`: other sessions'
    /// ids are `null` (`viewer` is the client's own session, if any).
    pub fn list_for(&self, now: f64, viewer: Option<Option<&str>>) -> Vec<Value> {
        let mut all: Vec<&Session> = self.sessions.values().collect();
        all.sort_by(|a, b| {
            a.created_at
                .total_cmp(&b.created_at)
                .then(a.order.cmp(&b.order))
        });
        all.into_iter()
            .map(|s| {
                let mut v = s.details();
                if let Value::Object(m) = &mut v {
                    m.insert("age_s".into(), json!((now - s.created_at).max(0.0)));
                    if let Some(own) = viewer
                        && own != Some(s.id.as_str())
                    {
                        m.insert("id".into(), Value::Null);
                    }
                }
                v
            })
            .collect()
    }

    /// Lazy expiry: at most once per `prune_interval_s`, closes sessions not seen for
    /// longer than their heartbeat and returns them.
    pub fn prune(&mut self, now: f64) -> Vec<Session> {
        if now - self.last_prune < self.cfg.prune_interval_s {
            return Vec::new();
        }
        self.last_prune = now;
        self.expire(now)
    }

    /// Closes every expired session now and returns them.
    pub fn expire(&mut self, now: f64) -> Vec<Session> {
        let expired: Vec<String> = self
            .sessions
            .values()
            .filter(|s| now - s.last_seen > f64::from(s.heartbeat_s))
            .map(|s| s.id.clone())
            .collect();
        expired.iter().filter_map(|id| self.close(id)).collect()
    }

    /// The session holding `pid`'s lock.
    pub fn lock_owner(&self, pid: u32) -> Option<&str> {
        self.locks.get(&pid).map(String::as_str)
    }

    /// The lock check: anyone may act on an unlocked PID; a locked one only with the
    /// owner's session id.
    pub fn check_pid(&self, pid: u32, session: Option<&str>) -> Result<(), ProtoError> {
        match self.locks.get(&pid) {
            None => Ok(()),
            Some(owner) if Some(owner.as_str()) == session => Ok(()),
            Some(_) => Err(ProtoError::PidLocked(pid)),
        }
    }
}

impl Opener {
    /// A client of the default policy: everything, default limits, connection 0.
    pub fn anonymous() -> Opener {
        Opener {
            principal: "anonymous".into(),
            conn: 0,
            grant: Caps::ALL,
            limits: Limits::default(),
        }
    }
}

fn clamp_warn(v: i64, lo: u32, hi: u32, tag: &str, warnings: &mut Vec<String>) -> u32 {
    if v < i64::from(lo) {
        warnings.push(format!("{tag}:{lo}"));
        lo
    } else if v > i64::from(hi) {
        warnings.push(format!("{tag}:{hi}"));
        hi
    } else {
        // In range lo..=hi, so it fits.
        u32::try_from(v).unwrap_or(hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> SessionTable {
        SessionTable::new(SessionConfig::default())
    }

    fn open(
        t: &mut SessionTable,
        id: &str,
        locks: &[u32],
        now: f64,
    ) -> Result<Session, ProtoError> {
        t.open(
            OpenParams {
                client: "test".into(),
                pid_lock: locks.to_vec(),
                ..OpenParams::default()
            },
            id.into(),
            now,
        )
        .cloned()
    }

    #[test]
    fn negotiation_and_clamping() {
        let mut t = table();
        let s = t
            .open(
                OpenParams {
                    client: "conf".into(),
                    features: vec!["events".into(), "stack".into(), "bogus".into()],
                    max_events: Some(4096),
                    heartbeat_s: Some(400),
                    pid_lock: vec![3],
                    caps: None,
                },
                "A".into(),
                10.0,
            )
            .cloned();
        let s = s.unwrap_or_else(|_| unreachable!());
        assert_eq!(s.features, ["events", "stack"]);
        assert_eq!(s.max_events, 2048);
        assert_eq!(s.heartbeat_s, 300);
        assert_eq!(
            s.warnings,
            [
                "unsupported_feature:bogus",
                "max_events_clamped:2048",
                "heartbeat_clamped:300"
            ]
        );
        let p = s.payload();
        assert_eq!(p["pid_lock"], json!(3));
        assert_eq!(p["created_at"], json!(10.0));
        let low = t.open(
            OpenParams {
                max_events: Some(1),
                heartbeat_s: Some(0),
                ..OpenParams::default()
            },
            "B".into(),
            10.0,
        );
        let low = low.cloned().unwrap_or_else(|_| unreachable!());
        assert_eq!((low.max_events, low.heartbeat_s), (2, 5));
        assert_eq!(low.payload()["pid_lock"], Value::Null);
        assert!(low.payload().get("features").is_some());
        let d = t.open(OpenParams::default(), "C".into(), 10.0).cloned();
        let d = d.unwrap_or_else(|_| unreachable!());
        assert_eq!((d.max_events, d.heartbeat_s), (256, 30));
        assert!(d.payload().get("warnings").is_none());
        assert_eq!(d.details()["warnings"], json!([]));
        assert_eq!(
            t.open(
                OpenParams {
                    max_events: Some(0),
                    ..OpenParams::default()
                },
                "D".into(),
                1.0
            )
            .err(),
            Some(ProtoError::msg("capabilities.max_events must be positive"))
        );
    }

    #[test]
    fn locks_are_all_or_nothing() {
        let mut t = table();
        assert!(open(&mut t, "A", &[5, 1, 5], 0.0).is_ok());
        assert_eq!(t.get("A").map(|s| s.pid_locks.clone()), Some(vec![1, 5]));
        assert_eq!(
            t.get("A").map(|s| s.payload()["pid_lock"].clone()),
            Some(json!([1, 5]))
        );
        assert_eq!(
            open(&mut t, "B", &[7, 5], 0.0).err(),
            Some(ProtoError::PidLocked(5))
        );
        assert_eq!(t.lock_owner(7), None);
        assert!(t.get("B").is_none());
        assert_eq!(t.check_pid(5, None), Err(ProtoError::PidLocked(5)));
        assert_eq!(t.check_pid(5, Some("X")), Err(ProtoError::PidLocked(5)));
        assert_eq!(t.check_pid(5, Some("A")), Ok(()));
        assert_eq!(t.check_pid(7, None), Ok(()));
        assert!(t.close("A").is_some());
        assert_eq!(t.check_pid(5, None), Ok(()));
        assert!(t.close("A").is_none());
    }

    #[test]
    fn expiry_releases_locks_and_is_rate_limited() {
        let mut t = table();
        assert!(open(&mut t, "A", &[1], 100.0).is_ok());
        assert!(open(&mut t, "B", &[2], 100.0).is_ok());
        // First prune runs (nothing expired) and arms the 5 s interval.
        assert!(t.prune(101.0).is_empty());
        assert!(t.touch("B", 125.0).is_ok());
        // A's 30 s heartbeat lapses at 130; a prune inside the interval does nothing.
        assert!(t.prune(105.0).is_empty());
        let gone = t.prune(131.0);
        assert_eq!(
            gone.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["A"]
        );
        assert_eq!(t.check_pid(1, None), Ok(()));
        assert_eq!(t.check_pid(2, None), Err(ProtoError::PidLocked(2)));
        assert!(t.prune(133.0).is_empty());
        assert_eq!(t.expire(156.0).len(), 1);
        assert!(t.is_empty());
        assert_eq!(t.touch("B", 157.0).err(), Some(ProtoError::SessionRequired));
    }

    #[test]
    fn list_is_oldest_first_with_age() {
        let mut t = table();
        assert!(open(&mut t, "late", &[], 20.0).is_ok());
        assert!(open(&mut t, "early", &[], 10.0).is_ok());
        assert!(open(&mut t, "early2", &[], 10.0).is_ok());
        let l = t.list(30.0);
        let ids: Vec<&str> = l.iter().filter_map(|v| v["id"].as_str()).collect();
        assert_eq!(ids, ["early", "early2", "late"]);
        assert_eq!(l[0]["age_s"], json!(20.0));
        assert_eq!(l[0]["pid_locks"], json!([]));
        assert_eq!(t.clear().len(), 3);
        assert!(t.list(0.0).is_empty());
    }
}
