//! `[cluster]`: the shared database that makes several nodes one service.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config_error::ConfigError;

/// The `[cluster]` table. Without it the server is a single node with its
/// embedded defaults (policy file, local disk, SQLite).
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// This node's name in the session registry: letters, digits, `.`, `_`
    /// and `-`, at most 63 characters. Default: the host name (a pod's name
    /// on Kubernetes). Two live nodes must not share one.
    pub node_id: String,
    /// The PostgreSQL connection URL
    /// (`postgres://user:password@host:5432/isolator?sslmode=require`).
    /// Prefer `database_url_file`: the URL usually holds a password.
    pub database_url: Option<String>,
    /// A file holding the connection URL (a mounted Kubernetes Secret);
    /// surrounding whitespace is ignored.
    pub database_url_file: Option<PathBuf>,
    /// PEM files of the authorities that signed the database server's
    /// certificate, besides the system's roots (`sslmode=require` or
    /// `prefer` in the URL turns TLS on).
    pub database_ca_files: Vec<PathBuf>,
    /// How the other nodes and the router reach this node's HTTP listener,
    /// e.g. `http://10.0.3.7:8080`. Default: `http://` and the listen address.
    pub advertise_url: Option<String>,
    /// How often the node writes its heartbeat (load, draining) to the
    /// registry, in milliseconds.
    pub heartbeat_ms: u64,
    /// A node whose heartbeat is older than this is taken for dead: it gets
    /// no new sessions, and its sessions are dropped from the registry.
    pub node_timeout_secs: u64,
    /// How long one connection attempt to the database may take.
    pub connect_timeout_secs: u64,
    /// How often, at most, a policy change is looked for without a
    /// notification (a backstop to `LISTEN`), in milliseconds.
    pub policy_poll_ms: u64,
    /// How long the sessions of a draining node may go on (their users are
    /// told at once) before they are ended; the node takes no new session
    /// meanwhile. A stop (SIGTERM, as Kubernetes sends) drains first: give
    /// the pod a `terminationGracePeriodSeconds` longer than this.
    pub drain_grace_secs: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            node_id: default_node_id(),
            database_url: None,
            database_url_file: None,
            database_ca_files: Vec::new(),
            advertise_url: None,
            heartbeat_ms: 1000,
            node_timeout_secs: 10,
            connect_timeout_secs: 5,
            policy_poll_ms: 5000,
            drain_grace_secs: 300,
        }
    }
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("ClusterConfig")
            .field("node_id", &self.node_id)
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("database_url_file", &self.database_url_file)
            .field("advertise_url", &self.advertise_url)
            .field("heartbeat_ms", &self.heartbeat_ms)
            .field("node_timeout_secs", &self.node_timeout_secs)
            .finish_non_exhaustive()
    }
}

/// The machine's host name, or `isolator` when it cannot be read.
fn default_node_id() -> String {
    let name = rustix::system::uname();
    let name = name.nodename().to_string_lossy().into_owned();
    if valid_node_id(&name) {
        name
    } else {
        "isolator".to_owned()
    }
}

fn valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl ClusterConfig {
    /// Makes relative paths relative to the config file's directory.
    pub fn resolve_paths(&mut self, base: &Path) {
        let paths = self
            .database_url_file
            .iter_mut()
            .chain(self.database_ca_files.iter_mut());
        for p in paths {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// Checks the values, naming the field.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let bad = |field, message: String| Err(ConfigError::invalid(origin, field, message));
        if !valid_node_id(&self.node_id) {
            return bad(
                "cluster.node_id",
                "use 1 to 63 letters, digits, `.`, `_` or `-`".to_owned(),
            );
        }
        match (&self.database_url, &self.database_url_file) {
            (None, None) => {
                return bad(
                    "cluster.database_url",
                    "a cluster needs its database: set `database_url_file` (or `database_url`)"
                        .to_owned(),
                )
            }
            (Some(_), Some(_)) => {
                return bad(
                    "cluster.database_url",
                    "set either `database_url` or `database_url_file`, not both".to_owned(),
                )
            }
            (Some(url), None) => {
                if let Err(e) = url.parse::<tokio_postgres::Config>() {
                    // The message of tokio-postgres never repeats the URL.
                    return bad("cluster.database_url", format!("not a PostgreSQL URL: {e}"));
                }
            }
            (None, Some(_)) => {}
        }
        if let Some(url) = &self.advertise_url {
            match url::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                _ => {
                    return bad(
                        "cluster.advertise_url",
                        format!("`{url}` is not an http(s) URL with a host"),
                    )
                }
            }
        }
        if !(100..=60_000).contains(&self.heartbeat_ms) {
            return bad("cluster.heartbeat_ms", "use 100 to 60000".to_owned());
        }
        if self.node_timeout_secs * 1000 < 3 * self.heartbeat_ms {
            return bad(
                "cluster.node_timeout_secs",
                "must be at least three heartbeats".to_owned(),
            );
        }
        if !(1..=120).contains(&self.connect_timeout_secs) {
            return bad("cluster.connect_timeout_secs", "use 1 to 120".to_owned());
        }
        if self.drain_grace_secs > 86_400 {
            return bad(
                "cluster.drain_grace_secs",
                "use at most 86400 (a day)".to_owned(),
            );
        }
        if !(100..=600_000).contains(&self.policy_poll_ms) {
            return bad("cluster.policy_poll_ms", "use 100 to 600000".to_owned());
        }
        Ok(())
    }

    /// The connection URL, read from the file when one is named. Errors
    /// name the file, never its content.
    pub fn database_url(&self) -> Result<String, String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        let Some(path) = &self.database_url_file else {
            return Err("no database URL is configured".to_owned());
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read cluster.database_url_file {}: {e}",
                path.display()
            )
        })?;
        let url = text.trim().to_owned();
        url.parse::<tokio_postgres::Config>().map_err(|e| {
            format!(
                "cluster.database_url_file {} does not hold a PostgreSQL URL: {e}",
                path.display()
            )
        })?;
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ClusterConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_cluster_needs_exactly_one_database_url() {
        let err = parse("").validate("t").unwrap_err().to_string();
        assert!(err.contains("cluster.database_url"), "{err}");
        let both = parse("database_url = \"postgres://a@b/c\"\ndatabase_url_file = \"/x\"\n");
        assert!(both.validate("t").is_err());
        parse("database_url = \"postgres://isolator@127.0.0.1:5432/isolator\"\n")
            .validate("t")
            .unwrap();
    }

    #[test]
    fn bad_values_are_named_and_secrets_are_not_echoed() {
        for (text, field) in [
            (
                "database_url = \"postgres://a:hunter2@b/c?sslmode=sometimes\"",
                "cluster.database_url",
            ),
            (
                "database_url = \"postgres://a@b/c\"\nnode_id = \"a b\"",
                "cluster.node_id",
            ),
            (
                "database_url = \"postgres://a@b/c\"\nadvertise_url = \"10.0.0.1:8080\"",
                "cluster.advertise_url",
            ),
            (
                "database_url = \"postgres://a@b/c\"\nheartbeat_ms = 5",
                "cluster.heartbeat_ms",
            ),
            (
                "database_url = \"postgres://a@b/c\"\nheartbeat_ms = 5000\nnode_timeout_secs = 10",
                "cluster.node_timeout_secs",
            ),
        ] {
            let err = parse(text).validate("t").unwrap_err().to_string();
            assert!(err.contains(field), "{text}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        let debug = format!("{:?}", parse("database_url = \"postgres://a:hunter2@b/c\""));
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn the_url_file_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("url");
        std::fs::write(&file, "postgres://isolator:s3cret@db:5432/isolator\n").unwrap();
        let mut c = parse("database_url_file = \"url\"");
        c.resolve_paths(dir.path());
        c.validate("t").unwrap();
        assert_eq!(
            c.database_url().unwrap(),
            "postgres://isolator:s3cret@db:5432/isolator"
        );
        std::fs::write(&file, "not a url at all ?? s3cret").unwrap();
        let err = c.database_url().unwrap_err();
        assert!(err.contains("database_url_file"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
}
