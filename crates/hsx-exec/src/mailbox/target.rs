//! Mailbox target strings: namespaces, owner suffixes and naming rules
//! (`services.md` §1.2).

use alloc::string::String;

use crate::names::{join_num, push_u32};

use super::abi::MailboxError;

/// Longest target considered; longer targets are truncated (prefix included).
pub const MAX_NAME_BYTES: usize = 32;
/// Prefix of the per-task control namespace.
pub const PREFIX_PID: &str = "pid:";
/// Prefix of the executive plumbing namespace.
pub const PREFIX_SVC: &str = "svc:";
/// Prefix of the application namespace.
pub const PREFIX_APP: &str = "app:";
/// Prefix of the broadcast/telemetry namespace.
pub const PREFIX_SHARED: &str = "shared:";

/// Mailbox namespace (`HSX_MBX_NAMESPACE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Namespace {
    /// `pid:<n>` per-task control channel (0).
    Pid,
    /// `svc:` executive plumbing, owner defaults to the caller (1).
    Svc,
    /// `app:` application channels, global unless `@owner` is given (2).
    App,
    /// `shared:` broadcast, never owned (3).
    Shared,
}

impl Namespace {
    /// Numeric namespace code used in snapshots.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Pid => 0,
            Self::Svc => 1,
            Self::App => 2,
            Self::Shared => 3,
        }
    }

    /// Namespace for a numeric code.
    #[must_use]
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Pid),
            1 => Some(Self::Svc),
            2 => Some(Self::App),
            3 => Some(Self::Shared),
            _ => None,
        }
    }
}

/// The lookup key of a descriptor: `(namespace, name, owner)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetKey {
    /// Namespace.
    pub namespace: Namespace,
    /// Name inside the namespace; for `pid:` it is literally `pid:<n>`.
    pub name: String,
    /// Owner PID, part of the key (`app:x` and `app:x@5` differ).
    pub owner: Option<u32>,
}

impl TargetKey {
    /// Parse `target` as seen by task `caller`.
    ///
    /// # Errors
    /// [`MailboxError::BadTarget`] for an empty target or a non-numeric owner.
    pub fn parse(caller: u32, target: &str) -> Result<Self, MailboxError> {
        if target.is_empty() {
            return Err(MailboxError::BadTarget);
        }
        // The reference truncates by characters; for the ASCII names in use this is
        // the documented 32-byte limit.
        let cut = target
            .char_indices()
            .nth(MAX_NAME_BYTES)
            .map_or(target.len(), |(i, _)| i);
        let t = target.get(..cut).unwrap_or(target);
        if let Some(rest) = t.strip_prefix(PREFIX_PID) {
            let owner = if rest.is_empty() {
                caller
            } else {
                parse_pid(rest)?
            };
            return Ok(Self {
                namespace: Namespace::Pid,
                name: join_num("pid:", "", Some(owner)),
                owner: Some(owner),
            });
        }
        if let Some(rest) = t.strip_prefix(PREFIX_SVC) {
            let (name, owner) = split_owner(rest, Some(caller))?;
            return Ok(Self {
                namespace: Namespace::Svc,
                name,
                owner,
            });
        }
        if let Some(rest) = t.strip_prefix(PREFIX_APP) {
            let (name, owner) = split_owner(rest, None)?;
            return Ok(Self {
                namespace: Namespace::App,
                name,
                owner,
            });
        }
        if let Some(rest) = t.strip_prefix(PREFIX_SHARED) {
            let name = rest.split_once('@').map_or(rest, |(base, _)| base);
            return Ok(Self {
                namespace: Namespace::Shared,
                name: String::from(name),
                owner: None,
            });
        }
        // Anything else (e.g. `hal:uart:rx`) is a caller-owned svc name.
        let (name, owner) = split_owner(t, Some(caller))?;
        Ok(Self {
            namespace: Namespace::Svc,
            name,
            owner,
        })
    }

    /// Canonical target text: `pid:N`, `svc:name@owner`, `app:name[@owner]`, `shared:name`.
    #[must_use]
    pub fn to_target(&self) -> String {
        match (self.namespace, self.owner) {
            (Namespace::Pid, _) => self.name.clone(),
            (Namespace::Svc, o) => at_owner(join_num("svc:", &self.name, None), o),
            (Namespace::App, o) => at_owner(join_num("app:", &self.name, None), o),
            (Namespace::Shared, _) => join_num("shared:", &self.name, None),
        }
    }
}

fn split_owner(
    text: &str,
    default_owner: Option<u32>,
) -> Result<(String, Option<u32>), MailboxError> {
    match text.split_once('@') {
        Some((base, "")) => Ok((String::from(base), default_owner)),
        Some((base, owner)) => Ok((String::from(base), Some(parse_pid(owner)?))),
        None => Ok((String::from(text), default_owner)),
    }
}

fn parse_pid(text: &str) -> Result<u32, MailboxError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MailboxError::BadTarget);
    }
    text.parse::<u32>().map_err(|_| MailboxError::BadTarget)
}

/// `text` followed by `@owner` when there is an owner.
fn at_owner(mut text: String, owner: Option<u32>) -> String {
    if let Some(o) = owner {
        text.push('@');
        push_u32(&mut text, o);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ns: Namespace, name: &str, owner: Option<u32>) -> TargetKey {
        TargetKey {
            namespace: ns,
            name: String::from(name),
            owner,
        }
    }

    #[test]
    fn prefixes_and_owner_defaults() {
        assert_eq!(
            TargetKey::parse(3, "pid:7").unwrap(),
            key(Namespace::Pid, "pid:7", Some(7))
        );
        assert_eq!(
            TargetKey::parse(3, "pid:").unwrap(),
            key(Namespace::Pid, "pid:3", Some(3))
        );
        assert_eq!(
            TargetKey::parse(3, "svc:stdio.out").unwrap(),
            key(Namespace::Svc, "stdio.out", Some(3))
        );
        assert_eq!(
            TargetKey::parse(0, "svc:stdio.out@10").unwrap(),
            key(Namespace::Svc, "stdio.out", Some(10))
        );
        assert_eq!(
            TargetKey::parse(3, "app:demo").unwrap(),
            key(Namespace::App, "demo", None)
        );
        assert_eq!(
            TargetKey::parse(3, "app:demo@5").unwrap(),
            key(Namespace::App, "demo", Some(5))
        );
        assert_eq!(
            TargetKey::parse(3, "shared:bus@zz").unwrap(),
            key(Namespace::Shared, "bus", None)
        );
        assert_eq!(
            TargetKey::parse(4, "hal:uart:rx").unwrap(),
            key(Namespace::Svc, "hal:uart:rx", Some(4))
        );
        assert_eq!(
            TargetKey::parse(4, "svc:x@").unwrap(),
            key(Namespace::Svc, "x", Some(4))
        );
    }

    #[test]
    fn bad_targets_are_internal_errors_not_panics() {
        for t in ["", "pid:abc", "app:x@zz", "svc:y@-1", "pid:99999999999"] {
            assert_eq!(TargetKey::parse(1, t), Err(MailboxError::BadTarget), "{t}");
        }
    }

    #[test]
    fn long_targets_are_truncated_to_32() {
        let long = "app:0123456789012345678901234567890123456789";
        let k = TargetKey::parse(1, long).unwrap();
        assert_eq!(k.name.len(), 32 - PREFIX_APP.len());
    }

    proptest::proptest! {
        #[test]
        fn any_target_text_parses_or_errors(t in "\\PC{0,48}", caller in 0u32..100) {
            let _ = TargetKey::parse(caller, &t);
        }

        #[test]
        fn short_targets_round_trip_through_canonical_text(
            t in "(pid:|svc:|app:|shared:)?[a-z.]{0,12}(@[0-9]{1,3})?",
            caller in 0u32..100,
        ) {
            if let Ok(k) = TargetKey::parse(caller, &t) {
                proptest::prop_assert_eq!(TargetKey::parse(caller, &k.to_target()), Ok(k));
            }
        }
    }

    #[test]
    fn canonical_target_text() {
        assert_eq!(
            TargetKey::parse(5, "svc:stdio.out").unwrap().to_target(),
            "svc:stdio.out@5"
        );
        assert_eq!(TargetKey::parse(5, "pid:").unwrap().to_target(), "pid:5");
        assert_eq!(TargetKey::parse(5, "app:a").unwrap().to_target(), "app:a");
        assert_eq!(
            TargetKey::parse(5, "shared:t@9").unwrap().to_target(),
            "shared:t"
        );
        assert_eq!(
            Namespace::from_code(Namespace::App.code()),
            Some(Namespace::App)
        );
    }
}
