//! Users and API tokens that admins manage at run time, as this node holds
//! them.
//!
//! In a cluster (`[cluster]` set) admins add, change and remove password
//! users and admin API tokens through `/api/v1/users` and `/api/v1/tokens`;
//! they live in the cluster's database (`cluster::directory`) and every
//! node keeps a copy of them here, replaced whole when they change (a
//! notification) and at the policy poll. The checks on a user's request
//! (a login, a bearer token) read this copy only, so a database outage
//! never stops anyone signing in with what was known before it.
//!
//! Users and tokens of the config file (`[[auth.users]]`, `[admin]
//! api_tokens`) are not here: they are read-only and checked first. The
//! two never share a name: the API refuses a name the config file uses.

use std::collections::HashMap;

/// A password user kept in the database.
#[derive(Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    /// Login name.
    pub name: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// Groups, for policy rules.
    pub groups: Vec<String>,
    /// May use the admin pages and API.
    pub admin: bool,
    /// May not sign in (kept for the record; its logins were ended).
    pub disabled: bool,
}

impl std::fmt::Debug for DirectoryUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print password hashes.
        f.debug_struct("DirectoryUser")
            .field("name", &self.name)
            .field("groups", &self.groups)
            .field("admin", &self.admin)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// An admin API token kept in the database: its name and the SHA-256 of
/// the token (the token itself is shown once, when it is made, and never
/// stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryToken {
    /// The name admins gave it; its API client is `api-token:<name>`.
    pub name: String,
    /// SHA-256 of the token.
    pub hash: [u8; 32],
    /// When it stops working, in seconds since the Unix epoch (none: never).
    pub expires_at: Option<i64>,
}

/// Every user and token of the database, as last read.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    users: HashMap<String, DirectoryUser>,
    tokens: HashMap<[u8; 32], DirectoryToken>,
}

impl Directory {
    /// A directory of these users and tokens.
    pub fn new(users: Vec<DirectoryUser>, tokens: Vec<DirectoryToken>) -> Directory {
        Directory {
            users: users.into_iter().map(|u| (u.name.clone(), u)).collect(),
            tokens: tokens.into_iter().map(|t| (t.hash, t)).collect(),
        }
    }

    /// The user named `name`, enabled or not.
    pub fn user(&self, name: &str) -> Option<&DirectoryUser> {
        self.users.get(name)
    }

    /// The unexpired token whose SHA-256 is `hash`, at `now` (Unix seconds).
    pub fn token(&self, hash: &[u8; 32], now: i64) -> Option<&DirectoryToken> {
        self.tokens
            .get(hash)
            .filter(|t| t.expires_at.is_none_or(|at| at > now))
    }

    /// Whether an enabled admin user is here.
    pub fn has_admin(&self) -> bool {
        self.users.values().any(|u| u.admin && !u.disabled)
    }

    /// Users of `self` that `newer` removed or changed in any way (their
    /// logins must end: they sign in again with what is now true).
    pub fn changed_users(&self, newer: &Directory) -> Vec<String> {
        let mut names: Vec<String> = self
            .users
            .values()
            .filter(|u| newer.users.get(&u.name) != Some(*u))
            .map(|u| u.name.clone())
            .collect();
        names.sort();
        names
    }

    /// Users of `self` that may no longer sign in under `newer` (removed
    /// or disabled): their live sessions end.
    pub fn shut_out(&self, newer: &Directory) -> Vec<String> {
        let mut names: Vec<String> = self
            .users
            .values()
            .filter(|u| !u.disabled && newer.users.get(&u.name).is_none_or(|n| n.disabled))
            .map(|u| u.name.clone())
            .collect();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, admin: bool, disabled: bool) -> DirectoryUser {
        DirectoryUser {
            name: name.into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
            groups: vec!["finance".into()],
            admin,
            disabled,
        }
    }

    #[test]
    fn changes_that_end_logins_and_sessions() {
        let old = Directory::new(
            vec![
                user("bob", false, false),
                user("carol", true, false),
                user("dave", false, false),
                user("erin", false, true),
            ],
            Vec::new(),
        );
        let mut carol = user("carol", false, false);
        carol.groups.push("admins-to-be".into());
        let new = Directory::new(
            vec![
                user("bob", false, false),
                carol,
                user("dave", false, true),
                user("frank", false, false),
            ],
            Vec::new(),
        );
        assert_eq!(old.changed_users(&new), ["carol", "dave", "erin"]);
        // Erin was disabled already; carol may still sign in.
        assert_eq!(old.shut_out(&new), ["dave"]);
        assert!(old.has_admin());
        assert!(!new.has_admin());
    }

    #[test]
    fn expired_tokens_are_not_found() {
        let d = Directory::new(
            Vec::new(),
            vec![
                DirectoryToken {
                    name: "ci".into(),
                    hash: [1; 32],
                    expires_at: Some(1_000),
                },
                DirectoryToken {
                    name: "forever".into(),
                    hash: [2; 32],
                    expires_at: None,
                },
            ],
        );
        assert_eq!(d.token(&[1; 32], 999).map(|t| t.name.as_str()), Some("ci"));
        assert!(d.token(&[1; 32], 1_000).is_none());
        assert!(d.token(&[2; 32], i64::MAX).is_some());
        assert!(d.token(&[3; 32], 0).is_none());
    }

    #[test]
    fn debug_never_shows_a_password_hash() {
        let shown = format!("{:?}", user("bob", false, false));
        assert!(!shown.contains("argon2"), "{shown}");
    }
}
