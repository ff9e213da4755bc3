//! `[metrics]`: where Prometheus scrapes this node and the orchestrator
//! probes it.

use std::net::SocketAddr;

use serde::Deserialize;

use crate::config_error::ConfigError;

/// The `[metrics]` table. Without it (or without `listen`) no metrics
/// listener is opened; the counters still run, at the cost of a few atomic
/// increments.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the metrics listener, separate from the user-facing one
    /// (`"127.0.0.1:9464"`, or the pod's address in a cluster): it serves
    /// `/metrics` (Prometheus text format 0.0.4), `/livez` and `/readyz`,
    /// without authentication, so it must not be reachable by users. Port 0
    /// picks a free port (the log line `metrics listening` says which).
    pub listen: Option<SocketAddr>,
}

impl MetricsConfig {
    /// Checks that the metrics listener does not take the server's own
    /// address (`server_listen`, the top-level `listen`).
    pub fn validate(&self, origin: &str, server_listen: SocketAddr) -> Result<(), ConfigError> {
        if let Some(listen) = self.listen {
            if listen.port() != 0 && listen == server_listen {
                return Err(ConfigError::invalid(
                    origin,
                    "metrics.listen",
                    format!("{listen} is the server's own `listen` address; give metrics a port of their own"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_address_is_refused_and_named() {
        let server: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let same = MetricsConfig {
            listen: Some(server),
        };
        let err = same.validate("t.toml", server).unwrap_err().to_string();
        assert!(err.contains("metrics.listen"), "{err}");
        let other = MetricsConfig {
            listen: Some("127.0.0.1:9464".parse().unwrap()),
        };
        other.validate("t.toml", server).unwrap();
        MetricsConfig::default().validate("t.toml", server).unwrap();
    }
}
