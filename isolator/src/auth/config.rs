//! `[auth]`: who may use the service, and how they are identified.

use serde::Deserialize;

use crate::config_error::ConfigError;

/// Authentication mode and its settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `none` (local demo: everyone is "anonymous"), `static` (the users below,
    /// with a login page) or `header` (a trusted SSO proxy sets a header).
    pub mode: AuthMode,
    /// Static users (mode `static`).
    pub users: Vec<StaticUser>,
    /// Header carrying the user name (mode `header`).
    pub user_header: String,
    /// Header carrying comma-separated groups (mode `header`); empty for none.
    pub groups_header: String,
    /// Peers allowed to set the identity headers (mode `header`): exact IP addresses.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Unix users (names or uids) whose loopback connections may act as the
    /// trusted proxy (mode `header`), e.g. `["www-data"]` for an nginx on
    /// this machine. On loopback every local user connects from the same
    /// address, so a loopback entry in `trusted_proxies` is trusted only for
    /// sockets owned by these users or by the server's own user. A proxy on
    /// another machine is trusted by its address alone.
    pub trusted_proxy_users: Vec<String>,
    /// Hours a login stays valid.
    pub login_ttl_hours: u64,
    /// Mark cookies `Secure` (set when served behind TLS).
    pub secure_cookies: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: AuthMode::None,
            users: Vec::new(),
            user_header: "X-Forwarded-User".into(),
            groups_header: "X-Forwarded-Groups".into(),
            trusted_proxies: vec!["127.0.0.1".parse().expect("ip"), "::1".parse().expect("ip")],
            trusted_proxy_users: Vec::new(),
            login_ttl_hours: 12,
            secure_cookies: false,
        }
    }
}

/// How users are identified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// No login; every user is "anonymous". For local demos only.
    #[default]
    None,
    /// Users listed in the config, with argon2 password hashes.
    Static,
    /// A trusted reverse proxy authenticates and sets a header.
    Header,
}

impl AuthMode {
    /// The mode's name as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::Static => "static",
            AuthMode::Header => "header",
        }
    }
}

/// A user of `auth.mode = "static"`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticUser {
    /// Login name.
    pub name: String,
    /// Argon2 PHC string (`isolator hash-password` makes one).
    pub password_hash: String,
    /// Groups, for policy rules.
    #[serde(default)]
    pub groups: Vec<String>,
    /// May use the admin pages and API.
    #[serde(default)]
    pub admin: bool,
}

impl std::fmt::Debug for StaticUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print password hashes.
        f.debug_struct("StaticUser")
            .field("name", &self.name)
            .field("groups", &self.groups)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// Checks that the chosen mode has what it needs. `shared_users`: the
    /// server belongs to a cluster, whose database may hold every password
    /// user (admins add them through the API).
    pub fn validate(&self, origin: &str, shared_users: bool) -> Result<(), ConfigError> {
        let bad = |field: &'static str, message: String| {
            Err(ConfigError::invalid(origin, field, message))
        };
        match self.mode {
            AuthMode::Static => {
                if self.users.is_empty() && !shared_users {
                    return bad(
                        "auth.users",
                        "mode \"static\" needs at least one user (or a [cluster] database, \
                         where admins add users through the API)"
                            .into(),
                    );
                }
                let mut seen = std::collections::HashSet::new();
                for u in &self.users {
                    if u.name.is_empty() || u.name.len() > 128 {
                        return bad("auth.users.name", "must be 1 to 128 characters".into());
                    }
                    if u.name.chars().any(char::is_control) {
                        return bad(
                            "auth.users.name",
                            format!("user {:?} has a control character in its name", u.name),
                        );
                    }
                    if !seen.insert(u.name.as_str()) {
                        return bad(
                            "auth.users.name",
                            format!("user {:?} is listed twice", u.name),
                        );
                    }
                    if argon2::PasswordHash::new(&u.password_hash).is_err() {
                        return bad(
                            "auth.users.password_hash",
                            format!(
                                "user {:?}: not an argon2 PHC string (make one with `isolator hash-password`)",
                                u.name
                            ),
                        );
                    }
                }
            }
            AuthMode::Header => {
                if self.user_header.trim().is_empty() {
                    return bad("auth.user_header", "must name a header".into());
                }
                if axum::http::HeaderName::try_from(self.user_header.as_str()).is_err() {
                    return bad("auth.user_header", "is not a valid header name".into());
                }
                if !self.groups_header.is_empty()
                    && axum::http::HeaderName::try_from(self.groups_header.as_str()).is_err()
                {
                    return bad("auth.groups_header", "is not a valid header name".into());
                }
                if let Some(u) = self
                    .trusted_proxy_users
                    .iter()
                    .find(|u| crate::os::local_peer::uid_of(u).is_none())
                {
                    return bad(
                        "auth.trusted_proxy_users",
                        format!("{u:?} is not a user of this machine"),
                    );
                }
                if self.trusted_proxies.is_empty() {
                    return bad(
                        "auth.trusted_proxies",
                        "mode \"header\" needs at least one trusted proxy address".into(),
                    );
                }
            }
            AuthMode::None => {}
        }
        if self.login_ttl_hours == 0 {
            return bad("auth.login_ttl_hours", "must be positive".into());
        }
        Ok(())
    }
}
