//! Who is using the service.
//!
//! Three modes (config `auth.mode`): `none` (everyone is "anonymous", for a
//! local demo), `static` (users with argon2 password hashes, a login page and
//! an HttpOnly, SameSite=Strict login cookie) and `header` (a trusted SSO proxy
//! authenticates and sets a header; only peers listed in
//! `auth.trusted_proxies` may set it). Failed logins are slowed down per
//! (user name, client address) with waits that double
//! ([`crate::auth::throttle`]): never a lockout that someone else could
//! trigger.
//!
//! Login tokens are random 256-bit values; the server keeps only their
//! SHA-256, so a memory dump of the token table cannot be replayed.
//!
//! In a cluster, admins also manage password users and admin API tokens at
//! run time ([`directory`]): a login and a bearer token are checked against
//! the config file first, then against this node's copy of the database's
//! users and tokens.

pub mod config;
pub mod directory;
pub mod throttle;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::http::HeaderMap;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use config::{AuthConfig, AuthMode};
use directory::Directory;
use throttle::{name_for_log, LoginThrottle};

/// Name of the login cookie.
pub const LOGIN_COOKIE: &str = "isolator_login";

/// An authenticated user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// User name.
    pub name: String,
    /// Groups, for policy rules.
    pub groups: Vec<String>,
    /// May use the admin pages and API.
    pub admin: bool,
}

impl User {
    /// The user of `auth.mode = "none"`.
    pub fn anonymous() -> User {
        User {
            name: "anonymous".into(),
            groups: Vec::new(),
            // A local demo without login has no one else to administer it.
            admin: true,
        }
    }
}

/// Why a login was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// Wrong user or password (deliberately not saying which).
    #[error("wrong user name or password")]
    Wrong,
    /// Too many recent failures for this user from this client address.
    #[error("too many failed attempts; try again in {0} seconds")]
    Throttled(u64),
    /// Logins are not used in this auth mode.
    #[error("this server does not use password logins")]
    NotStatic,
}

struct Login {
    user: User,
    expires: Instant,
}

/// Authentication state.
pub struct Auth {
    config: AuthConfig,
    logins: Mutex<HashMap<[u8; 32], Login>>,
    throttle: LoginThrottle,
    /// A hash checked when the user does not exist, so timing does not tell.
    dummy_hash: String,
    /// The port the server listens on (to find a loopback peer's socket).
    listen_port: u16,
    /// Unix users whose loopback connections may act as the trusted proxy
    /// (mode `header`): `auth.trusted_proxy_users` and the server's own.
    proxy_uids: Vec<u32>,
    /// The users and tokens admins manage (a cluster's database), as last read.
    directory: ArcSwap<Directory>,
}

impl Auth {
    /// Auth for a validated config, for a server listening on `listen_port`.
    pub fn new(config: AuthConfig, listen_port: u16) -> Auth {
        // Users may all live in a cluster's database: then a hash of nothing
        // anyone knows takes the time a real check takes.
        let dummy_hash = match config.users.first() {
            Some(u) => u.password_hash.clone(),
            None if config.mode == AuthMode::Static => hash_password(&random_token()),
            None => String::new(),
        };
        // Validation checked that every name resolves.
        let mut proxy_uids: Vec<u32> = config
            .trusted_proxy_users
            .iter()
            .filter_map(|u| crate::os::local_peer::uid_of(u))
            .collect();
        proxy_uids.push(crate::os::private_fs::euid());
        Auth {
            config,
            logins: Mutex::new(HashMap::new()),
            throttle: LoginThrottle::default(),
            dummy_hash,
            listen_port,
            proxy_uids,
            directory: ArcSwap::from_pointee(Directory::default()),
        }
    }

    /// Replaces the users and tokens admins manage with `newer`; the logins
    /// of every user it removed or changed end on this node (they sign in
    /// again, under what is now true). Returns the users who may no longer
    /// sign in (removed or disabled), whose sessions should end.
    pub fn set_directory(&self, newer: Directory) -> Vec<String> {
        let old = self.directory.swap(std::sync::Arc::new(newer));
        let now = self.directory.load();
        let changed = old.changed_users(&now);
        if !changed.is_empty() {
            self.logins
                .lock()
                .expect("logins lock")
                .retain(|_, l| !changed.contains(&l.user.name));
            tracing::info!(users = ?changed, "users changed by an admin: their logins ended");
        }
        old.shut_out(&now)
    }

    /// Whether an admin can sign in with a password: a config user or an
    /// enabled database user with `admin`.
    pub fn has_password_admin(&self) -> bool {
        self.config.users.iter().any(|u| u.admin) || self.directory.load().has_admin()
    }

    /// Whether `name` may be signed in: a config user, or an enabled user
    /// of the directory.
    fn may_sign_in(&self, name: &str) -> bool {
        self.is_config_user(name)
            || self
                .directory
                .load()
                .user(name)
                .is_some_and(|u| !u.disabled)
    }

    /// Whether `name` is a user of the config file (read-only for the API).
    pub fn is_config_user(&self, name: &str) -> bool {
        self.config.users.iter().any(|u| u.name == name)
    }

    /// The config file's users, for listing (no hashes).
    pub fn config_users(&self) -> impl Iterator<Item = User> + '_ {
        self.config.users.iter().map(|u| User {
            name: u.name.clone(),
            groups: u.groups.clone(),
            admin: u.admin,
        })
    }

    /// The API client holding `token`: one of the config's `hashes`
    /// ([`api_token_user`]), or an unexpired token of the directory, named
    /// `api-token:<its name>`. The second value is the directory token's
    /// name (for its last-use time).
    pub fn api_client(&self, hashes: &[String], token: &str) -> Option<(User, Option<String>)> {
        if let Some(user) = api_token_user(hashes, token) {
            return Some((user, None));
        }
        if token.is_empty() {
            return None;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let directory = self.directory.load();
        let found = directory.token(&token_key(token), now)?;
        Some((
            User {
                name: format!("api-token:{}", found.name),
                groups: Vec::new(),
                admin: true,
            },
            Some(found.name.clone()),
        ))
    }

    /// Whether `peer` may set the identity headers: a listed proxy address,
    /// and, on loopback (where every local user connects from the same
    /// address), a socket owned by one of the trusted proxy users.
    fn trusted_proxy(&self, peer: SocketAddr) -> bool {
        if !self.config.trusted_proxies.contains(&peer.ip()) {
            return false;
        }
        let loopback = match peer.ip() {
            IpAddr::V4(ip) => ip.is_loopback(),
            IpAddr::V6(ip) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        };
        if !loopback {
            return true;
        }
        let trusted = crate::os::local_peer::peer_uid_to_port(self.listen_port, peer)
            .is_some_and(|uid| self.proxy_uids.contains(&uid));
        if !trusted {
            tracing::warn!(%peer, "identity headers from a local user who is not a trusted proxy user; ignored");
        }
        trusted
    }

    /// The configured mode.
    pub fn mode(&self) -> AuthMode {
        self.config.mode
    }

    /// Whether cookies get the `Secure` attribute.
    pub fn secure_cookies(&self) -> bool {
        self.config.secure_cookies
    }

    /// The user behind a request, if any.
    pub fn identify(&self, headers: &HeaderMap, peer: SocketAddr) -> Option<User> {
        match self.config.mode {
            AuthMode::None => Some(User::anonymous()),
            AuthMode::Static => {
                let token = cookie(headers, LOGIN_COOKIE)?;
                let key = token_key(token);
                let mut logins = self.logins.lock().expect("logins lock");
                match logins.get(&key) {
                    Some(login) if login.expires > Instant::now() => {
                        // A login made (or adopted) from a copy of the
                        // directory older than this one holds no more.
                        self.may_sign_in(&login.user.name)
                            .then(|| login.user.clone())
                    }
                    Some(_) => {
                        logins.remove(&key);
                        None
                    }
                    None => None,
                }
            }
            AuthMode::Header => {
                if !self.trusted_proxy(peer) {
                    return None;
                }
                let name = headers
                    .get(self.config.user_header.as_str())?
                    .to_str()
                    .ok()?
                    .trim();
                if name.is_empty() || name.len() > 256 {
                    return None;
                }
                let groups = if self.config.groups_header.is_empty() {
                    Vec::new()
                } else {
                    headers
                        .get(self.config.groups_header.as_str())
                        .and_then(|v| v.to_str().ok())
                        .map(|v| {
                            v.split(',')
                                .map(str::trim)
                                .filter(|g| !g.is_empty())
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let admin = groups.iter().any(|g| g == "admins");
                Some(User {
                    name: name.to_owned(),
                    groups,
                    admin,
                })
            }
        }
    }

    /// Checks a password and, on success, returns a new login token for the cookie.
    ///
    /// The argon2 check is CPU-heavy: call it from a blocking task.
    pub fn login(&self, name: &str, password: &str, peer: IpAddr) -> Result<String, LoginError> {
        let user = self.check_password(name, password, peer)?;
        let token = self.issue_login(user);
        tracing::info!(user = %name_for_log(name, true), %peer, "login");
        Ok(token)
    }

    /// Checks `name`'s password as a login does (throttled per user and
    /// address, the same time whether the user exists or not); the user
    /// on success. CPU-heavy like [`Auth::login`].
    pub fn check_password(
        &self,
        name: &str,
        password: &str,
        peer: IpAddr,
    ) -> Result<User, LoginError> {
        if self.config.mode != AuthMode::Static {
            return Err(LoginError::NotStatic);
        }
        if let Err(wait) = self.throttle.begin(name, peer, Instant::now()) {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            tracing::warn!(user = %self.name_for_log(name), %peer, wait_secs = secs, "login attempt refused: wait");
            return Err(LoginError::Throttled(secs.max(1)));
        }
        let directory = self.directory.load();
        // (hash, groups, admin, enabled). A disabled user's password is
        // checked like anyone's (the time tells nothing) and refused like a
        // wrong one.
        let user = match self.config.users.iter().find(|u| u.name == name) {
            Some(u) => Some((u.password_hash.as_str(), &u.groups, u.admin, true)),
            None => directory
                .user(name)
                .map(|u| (u.password_hash.as_str(), &u.groups, u.admin, !u.disabled)),
        };
        let hash = user.map_or(self.dummy_hash.as_str(), |u| u.0);
        let ok = verify_password(password, hash) && user.is_some_and(|u| u.3);
        if !ok {
            tracing::warn!(user = %self.name_for_log(name), %peer, "failed login");
            return Err(LoginError::Wrong);
        }
        let (_, groups, admin, _) = user.expect("checked above");
        self.throttle.succeeded(name, peer, Instant::now());
        Ok(User {
            name: name.to_owned(),
            groups: groups.clone(),
            admin,
        })
    }

    /// A new login of `user` (whose password was just checked); its token.
    pub fn issue_login(&self, user: User) -> String {
        let token = random_token();
        let ttl = Duration::from_secs(self.config.login_ttl_hours * 3600);
        let mut logins = self.logins.lock().expect("logins lock");
        let now = Instant::now();
        logins.retain(|_, l| l.expires > now);
        logins.insert(
            token_key(&token),
            Login {
                user,
                expires: now + ttl,
            },
        );
        token
    }

    /// Whether `name` may change their own password here: a user of the
    /// directory (config users' passwords are in the config file).
    pub fn manages_own_password(&self, name: &str) -> bool {
        self.config.mode == AuthMode::Static
            && !self.is_config_user(name)
            && self.directory.load().user(name).is_some()
    }

    /// Forgets a login token; returns its key (a cluster forgets it too).
    pub fn logout(&self, headers: &HeaderMap) -> Option<[u8; 32]> {
        let key = login_key(headers)?;
        self.logins.lock().expect("logins lock").remove(&key);
        Some(key)
    }

    /// Whether this node holds the login of `key`, unexpired.
    pub fn knows_login(&self, key: &[u8; 32]) -> bool {
        self.logins
            .lock()
            .expect("logins lock")
            .get(key)
            .is_some_and(|l| l.expires > Instant::now())
    }

    /// The user of a login token made here and the time it has left.
    pub fn login_of(&self, token: &str) -> Option<(User, Duration)> {
        let logins = self.logins.lock().expect("logins lock");
        let login = logins.get(&token_key(token))?;
        let left = login.expires.checked_duration_since(Instant::now())?;
        Some((login.user.clone(), left))
    }

    /// Forgets the login of `key` (ended on another node).
    pub fn forget_login(&self, key: &[u8; 32]) {
        self.logins.lock().expect("logins lock").remove(key);
    }

    /// Adopts a login made on another node of the cluster.
    pub fn adopt_login(&self, key: [u8; 32], user: User, left: Duration) {
        let mut logins = self.logins.lock().expect("logins lock");
        let now = Instant::now();
        logins.retain(|_, l| l.expires > now);
        logins.insert(
            key,
            Login {
                user,
                expires: now + left,
            },
        );
    }

    /// Seconds a login lasts (for the cookie's Max-Age).
    pub fn login_ttl_secs(&self) -> u64 {
        self.config.login_ttl_hours * 3600
    }

    /// A typed user name as the log may show it: configured names escaped,
    /// anything else only as a fingerprint.
    fn name_for_log(&self, name: &str) -> String {
        let known = self.is_config_user(name) || self.directory.load().user(name).is_some();
        name_for_log(name, known)
    }
}

/// Verifies a password against an argon2 PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Hashes a password into an argon2id PHC string (for `isolator hash-password`).
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt_bytes = [0u8; 16];
    rand::fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).expect("16 bytes is a valid salt");
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail on a valid salt")
        .to_string()
}

/// A random 256-bit token, base64url without padding.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token.
pub fn token_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Constant-time equality of two byte strings of equal length.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `[admin] api_tokens` entry for a bearer token: `sha256:<hex>`.
pub fn hash_api_token(token: &str) -> String {
    format!("sha256:{}", hex::encode(token_key(token)))
}

/// The bearer token of an `Authorization: Bearer <token>` header: `None`
/// without such a header, `Some("")` for a malformed one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?;
    let value = value.to_str().unwrap_or("");
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Some("");
    }
    Some(token.trim())
}

/// The admin API client holding `token`, if its hash is one of `hashes`
/// (`sha256:<hex>`, checked in constant time). Its name is `api-token:`
/// and the first 8 hex digits of the hash, enough to tell tokens apart in
/// the policy history without revealing them.
pub fn api_token_user(hashes: &[String], token: &str) -> Option<User> {
    if token.is_empty() {
        return None;
    }
    let presented = hash_api_token(token);
    let mut found = false;
    for h in hashes {
        found |= ct_eq(h.to_ascii_lowercase().as_bytes(), presented.as_bytes());
    }
    found.then(|| User {
        name: format!(
            "api-token:{}",
            &presented["sha256:".len().."sha256:".len() + 8]
        ),
        groups: Vec::new(),
        admin: true,
    })
}

/// The key of the request's login cookie, if it has one.
pub fn login_key(headers: &HeaderMap) -> Option<[u8; 32]> {
    cookie(headers, LOGIN_COOKIE).map(token_key)
}

/// A cookie's value from the request headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::config::StaticUser;
    use super::*;

    fn static_auth() -> Auth {
        Auth::new(
            AuthConfig {
                mode: AuthMode::Static,
                users: vec![StaticUser {
                    name: "alice".into(),
                    password_hash: hash_password("correct horse"),
                    groups: vec!["finance".into()],
                    admin: false,
                }],
                ..AuthConfig::default()
            },
            8080,
        )
    }

    fn with_cookie(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            format!("other=1; {LOGIN_COOKIE}={token}").parse().unwrap(),
        );
        h
    }

    const PEER: &str = "10.0.0.9:5000";

    #[test]
    fn static_login_round_trip() {
        let auth = static_auth();
        let peer: SocketAddr = PEER.parse().unwrap();
        assert_eq!(auth.identify(&HeaderMap::new(), peer), None);
        let token = auth.login("alice", "correct horse", peer.ip()).unwrap();
        let user = auth.identify(&with_cookie(&token), peer).unwrap();
        assert_eq!(user.name, "alice");
        assert_eq!(user.groups, ["finance"]);
        assert_eq!(auth.identify(&with_cookie("forged"), peer), None);
        auth.logout(&with_cookie(&token));
        assert_eq!(auth.identify(&with_cookie(&token), peer), None);
    }

    #[test]
    fn wrong_password_and_unknown_user_look_the_same() {
        let auth = static_auth();
        let ip = "10.0.0.1".parse().unwrap();
        assert_eq!(auth.login("alice", "nope", ip), Err(LoginError::Wrong));
        assert_eq!(auth.login("mallory", "x", ip), Err(LoginError::Wrong));
    }

    #[test]
    fn repeated_failures_wait_at_that_address_only() {
        let auth = static_auth();
        let ip = "10.0.0.2".parse().unwrap();
        for _ in 0..=crate::auth::throttle::FREE_PER_USER {
            assert_eq!(auth.login("alice", "bad", ip), Err(LoginError::Wrong));
        }
        assert_eq!(
            auth.login("alice", "correct horse", ip),
            Err(LoginError::Throttled(1))
        );
        let other = "10.0.0.3".parse().unwrap();
        assert!(auth.login("alice", "correct horse", other).is_ok());
    }

    #[test]
    fn header_mode_trusts_only_listed_proxies() {
        // A real loopback connection, made by this process's user.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_conn, peer) = listener.accept().unwrap();
        let auth = Auth::new(
            AuthConfig {
                mode: AuthMode::Header,
                ..AuthConfig::default()
            },
            port,
        );
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-user", "bob".parse().unwrap());
        h.insert("x-forwarded-groups", "eng, admins".parse().unwrap());
        let user = auth.identify(&h, peer).unwrap();
        assert_eq!(user.name, "bob");
        assert_eq!(user.groups, ["eng", "admins"]);
        assert!(user.admin);
        // Not a listed address.
        assert_eq!(auth.identify(&h, "192.0.2.7:1".parse().unwrap()), None);
        // A loopback address with no socket of a trusted user behind it.
        assert_eq!(auth.identify(&h, "127.0.0.1:1".parse().unwrap()), None);
    }

    /// Another local user (nobody) connecting over loopback, where the
    /// trusted proxy address is, cannot name itself admin.
    #[test]
    fn a_local_user_cannot_pose_as_the_header_proxy() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut attacker = std::process::Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .args(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/$1; sleep 5", "x"])
            .arg(port.to_string())
            .spawn()
            .unwrap();
        let (_conn, peer) = listener.accept().unwrap();
        let config = AuthConfig {
            mode: AuthMode::Header,
            ..AuthConfig::default()
        };
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-user", "root".parse().unwrap());
        h.insert("x-forwarded-groups", "admins".parse().unwrap());
        assert_eq!(Auth::new(config.clone(), port).identify(&h, peer), None);
        // Named as a trusted proxy user (as www-data would be for nginx), it may.
        let trusted = Auth::new(
            AuthConfig {
                trusted_proxy_users: vec!["nobody".into()],
                ..config
            },
            port,
        );
        assert!(trusted.identify(&h, peer).is_some_and(|u| u.admin));
        let _ = attacker.kill();
        let _ = attacker.wait();
    }

    fn directory_user(name: &str, password: &str, disabled: bool) -> directory::DirectoryUser {
        directory::DirectoryUser {
            name: name.into(),
            password_hash: hash_password(password),
            groups: vec!["sales".into()],
            admin: false,
            disabled,
        }
    }

    #[test]
    fn database_users_sign_in_until_an_admin_changes_them() {
        let auth = static_auth();
        let peer: SocketAddr = PEER.parse().unwrap();
        let ip = peer.ip();
        assert_eq!(
            auth.login("bob", "bob's passphrase", ip),
            Err(LoginError::Wrong)
        );
        let bob = directory_user("bob", "bob's passphrase", false);
        auth.set_directory(Directory::new(vec![bob.clone()], Vec::new()));
        let token = auth.login("bob", "bob's passphrase", ip).unwrap();
        let user = auth.identify(&with_cookie(&token), peer).unwrap();
        assert_eq!(
            (user.name.as_str(), user.groups.as_slice()),
            ("bob", &["sales".to_string()][..])
        );
        // The config user still signs in; a stranger is refused like a wrong password.
        assert!(auth.login("alice", "correct horse", ip).is_ok());
        assert_eq!(
            auth.login("carol", "bob's passphrase", ip),
            Err(LoginError::Wrong)
        );
        // New groups: bob's login ends (he signs in again to get them).
        let mut moved = bob.clone();
        moved.groups = vec!["finance".into()];
        assert!(auth
            .set_directory(Directory::new(vec![moved.clone()], Vec::new()))
            .is_empty());
        assert_eq!(auth.identify(&with_cookie(&token), peer), None);
        // Disabled: the right password is refused, and he is named as shut out.
        let token = auth.login("bob", "bob's passphrase", ip).unwrap();
        let mut disabled = moved;
        disabled.disabled = true;
        let shut = auth.set_directory(Directory::new(vec![disabled], Vec::new()));
        assert_eq!(shut, ["bob"]);
        assert_eq!(auth.identify(&with_cookie(&token), peer), None);
        assert_eq!(
            auth.login("bob", "bob's passphrase", ip),
            Err(LoginError::Wrong)
        );
        // A login another node made from an older copy, adopted here, does
        // not let him in either.
        let stale = random_token();
        auth.adopt_login(token_key(&stale), user, Duration::from_secs(600));
        assert_eq!(auth.identify(&with_cookie(&stale), peer), None);
    }

    #[test]
    fn database_tokens_work_until_removed_or_expired() {
        let auth = static_auth();
        let config = vec![hash_api_token("from-the-config-file")];
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        auth.set_directory(Directory::new(
            Vec::new(),
            vec![
                directory::DirectoryToken {
                    name: "ci".into(),
                    hash: token_key("ci-secret"),
                    expires_at: Some(now + 3600),
                },
                directory::DirectoryToken {
                    name: "old".into(),
                    hash: token_key("old-secret"),
                    expires_at: Some(now - 1),
                },
            ],
        ));
        let (user, stored) = auth.api_client(&config, "ci-secret").unwrap();
        assert_eq!((user.name.as_str(), user.admin), ("api-token:ci", true));
        assert_eq!(stored.as_deref(), Some("ci"));
        let (user, stored) = auth.api_client(&config, "from-the-config-file").unwrap();
        assert!(user.name.starts_with("api-token:") && stored.is_none());
        assert!(auth.api_client(&config, "old-secret").is_none());
        assert!(auth.api_client(&config, "").is_none());
        auth.set_directory(Directory::default());
        assert!(auth.api_client(&config, "ci-secret").is_none());
    }

    #[test]
    fn ct_eq_compares() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
