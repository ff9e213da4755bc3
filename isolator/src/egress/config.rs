//! The `[egress]` configuration section, as an admin writes it.
//!
//! ```toml
//! [egress]
//! # Intranet apps users may open; a port pins the rule to that port only.
//! allow = ["wiki.corp.example", "*.apps.corp.example", "10.20.0.0/16", "127.0.0.1:41234"]
//! deny = ["*.tracker.example", "203.0.113.0/24"]
//! ports = [80, 443]
//! resolve = { "wiki.corp.example" = ["10.20.1.5"] }
//! ```
//!
//! [`EgressConfig`] is plain data; [`super::EgressPolicy`] is its validated,
//! compiled form (deserializing an `EgressPolicy` goes through `EgressConfig`
//! and fails at load on a bad rule, naming the list, index and rule).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Egress rules for the isolated browser. Everything not special is allowed
/// on the permitted ports; loopback, private, link-local (cloud metadata),
/// CGNAT, multicast, broadcast and reserved ranges are blocked in every
/// spelling, and so are the isolator's own listen addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EgressConfig {
    /// Targets allowed even when they resolve into a blocked range. Each entry
    /// is a host (`wiki.corp`), a domain suffix (`*.corp`: subdomains, not
    /// `corp` itself), an IP (`10.1.2.3`, `[fd00::1]`) or a CIDR
    /// (`10.0.0.0/8`, `[fd00::/8]`), optionally followed by `:port`. Without a
    /// port the rule covers the permitted `ports`; with one it covers only
    /// that port (and permits it). A `deny` rule beats an allow rule, except
    /// an exact `host:port` or `ip:port` allow, which permits exactly that
    /// target: that is how a test suite opens its local test site.
    pub allow: Vec<String>,
    /// Targets always blocked, same syntax as `allow`. Deny rules on IP ranges
    /// also match IPv6 forms that embed a matching IPv4 address.
    pub deny: Vec<String>,
    /// Destination ports the browser may use (default 80 and 443). Other ports
    /// need an allow rule with that port: unusual ports are where internal
    /// services live, and a public site on port 8080 is rare enough to list.
    pub ports: Vec<u16>,
    /// Static name resolution, like `curl --resolve`: these names resolve to
    /// these addresses without asking DNS. The answers are still checked
    /// against the rules like any DNS answer.
    pub resolve: BTreeMap<String, Vec<IpAddr>>,
    /// Socket addresses that are never reachable, whatever the allow rules
    /// say. The server adds its own listen addresses at start-up; an
    /// unspecified IP (`0.0.0.0:8080`, `[::]:8080`) protects that port on
    /// every address.
    pub protected: Vec<SocketAddr>,
    /// Resource bounds of each session's proxy.
    pub limits: ProxyLimits,
    /// TLS interception (`[egress.tls]`).
    pub tls: super::tls::TlsConfig,
}

impl Default for EgressConfig {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            deny: Vec::new(),
            ports: vec![80, 443],
            resolve: BTreeMap::new(),
            protected: Vec::new(),
            limits: ProxyLimits::default(),
            tls: super::tls::TlsConfig::default(),
        }
    }
}

/// Bounds on one session's egress proxy. A session's browser that exceeds
/// them sees failed requests, never a stuck or unbounded proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyLimits {
    /// Concurrent browser connections to the proxy; further ones wait in the
    /// listen backlog until a connection ends (Chromium opens at most 256).
    pub max_connections: usize,
    /// Largest request or response head, in bytes.
    pub max_header_bytes: usize,
    /// Most header lines in one head.
    pub max_headers: usize,
    /// Time allowed to receive a complete request head, in milliseconds.
    pub header_timeout_ms: u64,
    /// Time allowed for name resolution, in milliseconds.
    pub resolve_timeout_ms: u64,
    /// Time allowed to connect to the destination, in milliseconds.
    pub connect_timeout_ms: u64,
    /// A connection or tunnel with no traffic either way for this long is
    /// closed, in milliseconds.
    pub idle_timeout_ms: u64,
}

impl Default for ProxyLimits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            max_header_bytes: 64 * 1024,
            max_headers: 128,
            header_timeout_ms: 30_000,
            resolve_timeout_ms: 5_000,
            connect_timeout_ms: 10_000,
            idle_timeout_ms: 300_000,
        }
    }
}

impl ProxyLimits {
    /// [`Self::header_timeout_ms`] as a duration.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    /// [`Self::resolve_timeout_ms`] as a duration.
    pub fn resolve_timeout(&self) -> Duration {
        Duration::from_millis(self.resolve_timeout_ms)
    }

    /// [`Self::connect_timeout_ms`] as a duration.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// [`Self::idle_timeout_ms`] as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }
}
