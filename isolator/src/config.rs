//! Server configuration: a TOML document with a default for every field.
//!
//! Every field is documented here; `isolator/examples/isolator.toml` is the
//! commented example that `make run` uses. Unknown fields are errors (a typo
//! must not silently fall back to a default), and [`Config::validate`] checks
//! values that parse but make no sense, naming the field.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A configuration problem, naming the field and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown field or a value of the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// toml's message, which names the line, column and field.
        message: String,
    },
    /// A value parsed but is out of range or inconsistent.
    #[error("{path}: `{field}`: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// Dotted field name, e.g. `sessions.max`.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The whole server configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP/WebSocket server listens on.
    pub listen: SocketAddr,
    /// Names (and `name:port`) under which clients reach this server, besides
    /// the listen address (`ip:port`, and `localhost:port` on loopback): the
    /// public name behind a reverse proxy, a DNS name of this machine. Every
    /// request whose `Host` names anything else is refused with 421, which
    /// is what stops DNS rebinding (a foreign web page pointing its own name
    /// at this address). An entry without a port matches that name on any port.
    pub public_hosts: Vec<String>,
    /// Directory holding the web client's static files.
    pub web_root: PathBuf,
    /// Directory for per-session state (downloads, uploads being scanned).
    /// Made 0700 at start; an existing one must be a directory owned by the
    /// server's user (its mode is then tightened to 0700), else the server
    /// refuses to start: the default, `<tmp>/isolator`, is a name another
    /// local user could create first.
    pub data_dir: PathBuf,
    /// The isolated browser.
    pub chromium: ChromiumConfig,
    /// Session limits and timeouts.
    pub sessions: SessionsConfig,
    /// Frame streaming.
    pub stream: StreamConfig,
    /// Who may use the service.
    pub auth: AuthConfig,
    /// What the isolated browser may reach (SSRF protection): by default no
    /// loopback, link-local, private, CGNAT or multicast address, and only
    /// ports 80 and 443. See `isolator/EGRESS.md`.
    pub egress: crate::egress::EgressConfig,
    /// The policy document: per-app and per-user rules and DLP profiles.
    pub policies: crate::enforce_config::PoliciesConfig,
    /// Time budgets of the enforcement gates and the extraction workers.
    pub enforce: crate::enforce_config::EnforceConfig,
    /// Session recording for audit replay.
    pub audit: crate::audit::AuditConfig,
    /// API request rate limits per client address.
    pub rate_limit: crate::rate_limit::RateLimitConfig,
    /// The admin API (`/api/v1`).
    pub admin: AdminConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("valid literal address"),
            public_hosts: Vec::new(),
            web_root: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web-client")),
            data_dir: std::env::temp_dir().join("isolator"),
            chromium: ChromiumConfig::default(),
            sessions: SessionsConfig::default(),
            stream: StreamConfig::default(),
            auth: AuthConfig::default(),
            egress: crate::egress::EgressConfig::default(),
            policies: Default::default(),
            enforce: Default::default(),
            audit: Default::default(),
            rate_limit: Default::default(),
            admin: AdminConfig::default(),
        }
    }
}

/// The `[admin]` table: API clients of `/api/v1`.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// SHA-256 hashes of the bearer tokens that may use the admin API, as
    /// `sha256:<64 hex digits>` (`isolator hash-token` makes a token and its
    /// hash). Only hashes are stored: the config file does not hold secrets.
    pub api_tokens: Vec<String>,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("api_tokens", &self.api_tokens.len())
            .finish()
    }
}

/// The isolated Chromium process.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChromiumConfig {
    /// The Chromium binary. Debian's wrapper `/usr/bin/chromium` adds flags of
    /// its own, so the real binary is launched directly.
    pub executable: PathBuf,
    /// Run without Chromium's sandbox: an explicit opt-out for containers that
    /// cannot create namespaces, logged loudly when on. Never needed otherwise:
    /// as root, Chromium runs as `run_as` with its sandbox on.
    pub no_sandbox: bool,
    /// The unprivileged user Chromium runs as when the server runs as root
    /// (the install script creates it). Empty: run as the server's own user.
    pub run_as: String,
    /// Extra command-line switches, without leading dashes (`"lang=en-US"`).
    pub extra_args: Vec<String>,
    /// Seconds to wait for Chromium to start.
    pub launch_timeout_secs: u64,
    /// Seconds a single CDP command may take before it is abandoned.
    pub command_timeout_secs: u64,
    /// Put Chromium's whole process tree in its own cgroup (under the
    /// server's own), created at launch and removed when it exits. Needs a
    /// writable cgroup hierarchy (root, or a delegated group); without one the
    /// server says so in its log and runs Chromium without limits.
    pub cgroup: bool,
    /// Memory cap in MB for Chromium's whole process tree (its cgroup); 0: no
    /// cap. At the cap the kernel stops the largest renderer, which is the
    /// page that grew, and that session is told; the browser and other
    /// sessions go on.
    pub memory_limit_mb: u64,
    /// CPU quota for Chromium's whole process tree, in cores (`1.5`); 0: no quota.
    pub cpu_limit_cores: f64,
}

impl Default for ChromiumConfig {
    fn default() -> Self {
        Self {
            executable: PathBuf::from("/usr/lib/chromium/chromium"),
            no_sandbox: false,
            run_as: "isolator-chromium".into(),
            extra_args: Vec::new(),
            launch_timeout_secs: 20,
            command_timeout_secs: 10,
            cgroup: true,
            memory_limit_mb: 0,
            cpu_limit_cores: 0.0,
        }
    }
}

/// Session limits and timeouts.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// Server-wide cap on live sessions; further users get a clear "full" message.
    pub max: usize,
    /// Most live sessions one user may have at once (the server-wide `max`
    /// still applies); one more is refused with a message naming the limit.
    /// Not applied with `auth.mode = "none"`, where everyone is the one user
    /// "anonymous".
    pub max_per_user: usize,
    /// Seconds without user input after which a session ends.
    pub idle_timeout_secs: u64,
    /// Seconds a session survives a dropped WebSocket, waiting for the client
    /// to re-attach with the same page state.
    pub reconnect_grace_secs: u64,
    /// Most tabs (the main page plus popups) a session may have open.
    pub max_tabs: usize,
    /// Most page loads (main-frame navigations, redirects and reloads
    /// included) per session per minute; beyond it loading is stopped with a
    /// notice (a refresh or redirect loop cannot spin the browser).
    pub max_navigations_per_minute: u32,
    /// A page whose renderer does not answer for this many seconds (a script
    /// in an endless loop) is reported after a third of it and then stopped:
    /// its renderer is killed and the tab shows a blank page. Sessions have
    /// their own renderers, so others are not affected.
    pub busy_page_kill_secs: u64,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            max: 20,
            max_per_user: 5,
            idle_timeout_secs: 15 * 60,
            reconnect_grace_secs: 60,
            max_tabs: 8,
            max_navigations_per_minute: 120,
            busy_page_kill_secs: 30,
        }
    }
}

/// Frame streaming from the isolated page to the client.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamConfig {
    /// JPEG quality, 1..=100.
    pub jpeg_quality: u8,
    /// Most frames per second sent to a client (60 fps costs Chromium ~1.5 cores
    /// per actively changing session on a small machine).
    pub max_fps: u32,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            jpeg_quality: 70,
            max_fps: 30,
        }
    }
}

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

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::parse(&text, &path.display().to_string())?;
        // Relative paths in the file are relative to the file.
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        config.validate(&path.display().to_string())?;
        Ok(config)
    }

    /// Parses config text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })
    }

    fn resolve_paths(&mut self, base: &Path) {
        for p in [&mut self.web_root, &mut self.data_dir] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        self.policies.resolve_paths(base);
        self.audit.resolve_paths(base);
    }

    /// Checks values that parse but are out of range or inconsistent.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let bad = |field: &'static str, message: String| {
            Err(ConfigError::Invalid {
                path: origin.to_owned(),
                field,
                message,
            })
        };
        self.policies.validate(origin)?;
        self.enforce.validate(origin)?;
        self.audit.validate(origin)?;
        self.rate_limit.validate(origin)?;
        for (i, t) in self.admin.api_tokens.iter().enumerate() {
            let hex = t.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return bad(
                    "admin.api_tokens",
                    format!(
                        "entry {} is not `sha256:<64 hex digits>` (make one with `isolator hash-token`)",
                        i + 1
                    ),
                );
            }
        }
        if !self.web_root.join("index.html").is_file() {
            return bad(
                "web_root",
                format!("{} holds no index.html", self.web_root.display()),
            );
        }
        if self.sessions.max == 0 || self.sessions.max > 10_000 {
            return bad("sessions.max", "must be between 1 and 10000".into());
        }
        if self.sessions.max_per_user == 0 || self.sessions.max_per_user > 10_000 {
            return bad(
                "sessions.max_per_user",
                "must be between 1 and 10000".into(),
            );
        }
        for (i, h) in self.public_hosts.iter().enumerate() {
            if let Err(e) = crate::host_check::Authority::parse(h) {
                return bad(
                    "public_hosts",
                    format!("entry {} {e} (write `name` or `name:port`)", i + 1),
                );
            }
        }
        if self.sessions.idle_timeout_secs < 10 {
            return bad(
                "sessions.idle_timeout_secs",
                "must be at least 10 seconds".into(),
            );
        }
        if self.sessions.max_tabs == 0 || self.sessions.max_tabs > 100 {
            return bad("sessions.max_tabs", "must be between 1 and 100".into());
        }
        if self.sessions.max_navigations_per_minute == 0 {
            return bad(
                "sessions.max_navigations_per_minute",
                "must be at least 1".into(),
            );
        }
        if !(6..=3600).contains(&self.sessions.busy_page_kill_secs) {
            return bad(
                "sessions.busy_page_kill_secs",
                "must be between 6 and 3600 seconds".into(),
            );
        }
        if !(1..=100).contains(&self.stream.jpeg_quality) {
            return bad("stream.jpeg_quality", "must be between 1 and 100".into());
        }
        if !(1..=60).contains(&self.stream.max_fps) {
            return bad("stream.max_fps", "must be between 1 and 60".into());
        }
        if self.chromium.launch_timeout_secs == 0 {
            return bad("chromium.launch_timeout_secs", "must be positive".into());
        }
        if self.chromium.command_timeout_secs == 0 {
            return bad("chromium.command_timeout_secs", "must be positive".into());
        }
        if self.chromium.memory_limit_mb != 0
            && !(256..=4 << 20).contains(&self.chromium.memory_limit_mb)
        {
            return bad(
                "chromium.memory_limit_mb",
                "must be 0 (no cap) or between 256 and 4194304 (Chromium alone needs about 200 MB)"
                    .into(),
            );
        }
        let cores = self.chromium.cpu_limit_cores;
        if !(cores == 0.0 || (0.1..=1024.0).contains(&cores)) {
            return bad(
                "chromium.cpu_limit_cores",
                "must be 0 (no quota) or between 0.1 and 1024".into(),
            );
        }
        if is_root() && !self.chromium.no_sandbox {
            if self.chromium.run_as.is_empty() {
                return bad(
                    "chromium.run_as",
                    "the server runs as root, and Chromium's sandbox cannot run as root: name an unprivileged \
                     user (the install script creates `isolator-chromium`) or set chromium.no_sandbox = true"
                        .into(),
                );
            }
            if crate::browser::lookup_user(&self.chromium.run_as).is_none() {
                return bad(
                    "chromium.run_as",
                    format!(
                        "user {:?} does not exist (run isolator/scripts/install-deps.sh, or name another user)",
                        self.chromium.run_as
                    ),
                );
            }
        }
        for (i, arg) in self.chromium.extra_args.iter().enumerate() {
            if arg.starts_with('-') {
                return bad(
                    "chromium.extra_args",
                    format!(
                        "entry {i} ({arg:?}) must not start with '-': write the switch name only"
                    ),
                );
            }
            let name = arg.split('=').next().unwrap_or_default();
            if crate::browser::args::RESERVED.contains(&name) {
                return bad(
                    "chromium.extra_args",
                    format!(
                        "entry {i} ({arg:?}) is set by the isolator itself: DevTools stays on a \
                         private pipe and the profile in a private directory"
                    ),
                );
            }
        }
        match self.auth.mode {
            AuthMode::Static => {
                if self.auth.users.is_empty() {
                    return bad(
                        "auth.users",
                        "mode \"static\" needs at least one user".into(),
                    );
                }
                let mut seen = std::collections::HashSet::new();
                for u in &self.auth.users {
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
                if self.auth.user_header.trim().is_empty() {
                    return bad("auth.user_header", "must name a header".into());
                }
                if axum::http::HeaderName::try_from(self.auth.user_header.as_str()).is_err() {
                    return bad("auth.user_header", "is not a valid header name".into());
                }
                if !self.auth.groups_header.is_empty()
                    && axum::http::HeaderName::try_from(self.auth.groups_header.as_str()).is_err()
                {
                    return bad("auth.groups_header", "is not a valid header name".into());
                }
                if let Some(u) = self
                    .auth
                    .trusted_proxy_users
                    .iter()
                    .find(|u| crate::local_peer::uid_of(u).is_none())
                {
                    return bad(
                        "auth.trusted_proxy_users",
                        format!("{u:?} is not a user of this machine"),
                    );
                }
                if self.auth.trusted_proxies.is_empty() {
                    return bad(
                        "auth.trusted_proxies",
                        "mode \"header\" needs at least one trusted proxy address".into(),
                    );
                }
            }
            AuthMode::None => {}
        }
        if let Err(e) = crate::egress::EgressPolicy::new(self.egress.clone()) {
            return bad("egress", e.to_string());
        }
        if self.auth.login_ttl_hours == 0 {
            return bad("auth.login_ttl_hours", "must be positive".into());
        }
        Ok(())
    }
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY-free: geteuid has no preconditions; libc exposes it as safe via rustix-like wrappers
    // only, so read it from /proc instead of calling libc (unsafe code is denied workspace-wide).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config whose web root exists (the unit tests do not depend on web-client/).
    fn parse(text: &str) -> Config {
        let mut c = Config::parse(text, "t.toml").unwrap();
        c.web_root = web_root();
        c
    }

    fn web_root() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("isolator-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "x").unwrap();
        dir
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config {
            web_root: web_root(),
            ..Config::default()
        };
        c.validate("defaults").unwrap();
    }

    #[test]
    fn unknown_field_is_named() {
        let err = Config::parse("[sessions]\nmaxx = 3\n", "t.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("maxx"), "{msg}");
        assert!(msg.contains("t.toml"), "{msg}");
    }

    #[test]
    fn wrong_type_is_named() {
        let err = Config::parse("[stream]\nmax_fps = \"fast\"\n", "t.toml").unwrap_err();
        assert!(err.to_string().contains("max_fps"), "{err}");
    }

    #[test]
    fn out_of_range_is_named() {
        let c = parse("[stream]\njpeg_quality = 0\n");
        let err = c.validate("t.toml").unwrap_err();
        assert!(err.to_string().contains("stream.jpeg_quality"), "{err}");
    }

    #[test]
    fn chromium_limits_are_checked() {
        for (text, field) in [
            (
                "[chromium]\nmemory_limit_mb = 100\n",
                "chromium.memory_limit_mb",
            ),
            (
                "[chromium]\ncpu_limit_cores = 0.01\n",
                "chromium.cpu_limit_cores",
            ),
            (
                "[chromium]\ncpu_limit_cores = -1.0\n",
                "chromium.cpu_limit_cores",
            ),
        ] {
            let err = parse(text).validate("t").unwrap_err().to_string();
            assert!(err.contains(field), "{text}: {err}");
        }
        let c = parse("[chromium]\nmemory_limit_mb = 2048\ncpu_limit_cores = 1.5\ncgroup = true\n");
        assert_eq!(c.chromium.memory_limit_mb, 2048);
        assert_eq!(c.chromium.cpu_limit_cores, 1.5);
        c.validate("t").unwrap();
    }

    #[test]
    fn public_hosts_and_per_user_cap_are_checked() {
        let c =
            parse("public_hosts = [\"rbi.example.com\", \"rbi.example.com:8443\", \"[::1]:80\"]\n");
        c.validate("t").unwrap();
        assert_eq!(c.sessions.max_per_user, 5);
        for (text, field) in [
            (
                "public_hosts = [\"https://rbi.example.com/\"]\n",
                "public_hosts",
            ),
            ("public_hosts = [\"\"]\n", "public_hosts"),
            ("public_hosts = [\"a b\"]\n", "public_hosts"),
            ("[sessions]\nmax_per_user = 0\n", "sessions.max_per_user"),
        ] {
            let err = parse(text).validate("t").unwrap_err().to_string();
            assert!(err.contains(field), "{text}: {err}");
        }
    }

    #[test]
    fn static_mode_needs_users_and_real_hashes() {
        let c = parse("[auth]\nmode = \"static\"\n");
        assert!(c
            .validate("t")
            .unwrap_err()
            .to_string()
            .contains("auth.users"));
        let c = parse(
            "[auth]\nmode = \"static\"\n[[auth.users]]\nname = \"a\"\npassword_hash = \"plain\"\n",
        );
        let err = c.validate("t").unwrap_err().to_string();
        assert!(err.contains("password_hash"), "{err}");
        assert!(
            !err.contains("plain"),
            "the value must not be echoed: {err}"
        );
    }
}
