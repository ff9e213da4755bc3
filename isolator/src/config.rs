//! Server configuration: a TOML document with a default for every field.
//!
//! Every field is documented here; `isolator/examples/isolator.toml` is the
//! commented example that `make run` uses. Unknown fields are errors (a typo
//! must not silently fall back to a default), and [`Config::validate`] checks
//! values that parse but make no sense, naming the field.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use crate::auth::config::{AuthConfig, AuthMode, StaticUser};
pub use crate::browser::config::ChromiumConfig;
pub use crate::config_error::ConfigError;
pub use crate::http::admin::config::AdminConfig;
pub use crate::session::config::{SessionSettings, SessionsConfig, StreamConfig};

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
    pub policies: crate::enforce::config::PoliciesConfig,
    /// Time budgets of the enforcement gates and the extraction workers.
    pub enforce: crate::enforce::config::EnforceConfig,
    /// Session recording for audit replay.
    pub audit: crate::audit::AuditConfig,
    /// API request rate limits per client address.
    pub rate_limit: crate::http::rate_limit::RateLimitConfig,
    /// Proxies that say who the client is (`X-Forwarded-For`).
    pub forwarded: crate::http::client_addr::ForwardedConfig,
    /// The admin API (`/api/v1`).
    pub admin: AdminConfig,
    /// Several nodes as one service, sharing state in PostgreSQL. Absent:
    /// one node with its embedded defaults.
    pub cluster: Option<crate::cluster::ClusterConfig>,
    /// Prometheus metrics and the liveness/readiness probes, on a listener
    /// of their own (off when absent).
    pub metrics: crate::metrics::MetricsConfig,
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
            forwarded: Default::default(),
            admin: AdminConfig::default(),
            cluster: None,
            metrics: Default::default(),
        }
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
        if let Some(c) = &mut self.cluster {
            c.resolve_paths(base);
        }
        if let Some(p) = &mut self.enforce.fingerprints {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// Checks values that parse but are out of range or inconsistent: each
    /// section checks its own, then what ties them together.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        self.policies.validate(origin)?;
        self.enforce.validate(origin)?;
        self.audit.validate(origin)?;
        self.rate_limit.validate(origin)?;
        self.forwarded.validate(origin)?;
        self.admin.validate(origin)?;
        self.sessions.validate(origin)?;
        self.stream.validate(origin)?;
        self.chromium.validate(origin)?;
        self.auth.validate(origin, self.cluster.is_some())?;
        if let Some(c) = &self.cluster {
            c.validate(origin)?;
        }
        self.metrics.validate(origin, self.listen)?;
        if !self.web_root.join("index.html").is_file() {
            return Err(ConfigError::invalid(
                origin,
                "web_root",
                format!("{} holds no index.html", self.web_root.display()),
            ));
        }
        for (i, h) in self.public_hosts.iter().enumerate() {
            if let Err(e) = crate::http::host_check::Authority::parse(h) {
                return Err(ConfigError::invalid(
                    origin,
                    "public_hosts",
                    format!("entry {} {e} (write `name` or `name:port`)", i + 1),
                ));
            }
        }
        if let Err(e) = crate::egress::EgressPolicy::new(self.egress.clone()) {
            return Err(ConfigError::invalid(origin, "egress", e.to_string()));
        }
        Ok(())
    }

    /// What sessions need of this configuration.
    pub fn session_settings(&self) -> SessionSettings {
        SessionSettings {
            sessions: self.sessions.clone(),
            stream: self.stream.clone(),
            command_timeout: std::time::Duration::from_secs(self.chromium.command_timeout_secs),
            browser_user: self.chromium.browser_user(),
            data_dir: self.data_dir.clone(),
            users_known: self.auth.mode != AuthMode::None,
        }
    }
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
    fn metrics_section_is_checked() {
        let c = parse("[metrics]\nlisten = \"127.0.0.1:9464\"\n");
        assert_eq!(c.metrics.listen, Some("127.0.0.1:9464".parse().unwrap()));
        c.validate("t").unwrap();
        assert!(parse("").metrics.listen.is_none(), "off when absent");
        let same = parse("listen = \"127.0.0.1:9000\"\n[metrics]\nlisten = \"127.0.0.1:9000\"\n");
        let err = same.validate("t").unwrap_err().to_string();
        assert!(err.contains("metrics.listen"), "{err}");
        let err = Config::parse("[metrics]\nlisten = \"nowhere\"\n", "t.toml").unwrap_err();
        assert!(err.to_string().contains("listen"), "{err}");
        let err = Config::parse("[metrics]\nport = 1\n", "t.toml").unwrap_err();
        assert!(err.to_string().contains("port"), "{err}");
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
