//! The compiled egress policy and its decisions.
//!
//! Order of evaluation for a target `host:port` that resolved to `addrs`
//! (every address is checked; one blocked address blocks the request, since
//! a name answering both public and private addresses is an attack signal):
//!
//! 1. a `protected` socket address (the isolator itself) is blocked, always;
//! 2. an exact `host:port` / `ip:port` allow rule permits the target;
//! 3. a deny rule matching the name or an address blocks it;
//! 4. an allow rule matching the name or an address permits it (on the
//!    rule's port, or on the permitted `ports` when it has none);
//! 5. an address in a built-in special range blocks it;
//! 6. a port outside `ports` blocks it;
//! 7. otherwise it is allowed.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::config::{EgressConfig, ProxyLimits};
use super::error::{Error, Result};
use super::host::{parse_host, TargetHost};
use super::ranges::{classify, Range};
use super::rule::Rule;

/// Allowed, blocked by policy, or failed (the policy allowed it but the
/// destination did not resolve or answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The request went (or may go) ahead.
    Allowed,
    /// The policy refused it.
    Blocked,
    /// Not a policy decision: the name did not resolve, the destination did
    /// not answer, or the browser sent something that is not HTTP.
    Failed,
}

/// Why a verdict was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// An exact `host:port` or `ip:port` allow rule.
    ExactAllow {
        /// The rule as written.
        rule: String,
    },
    /// An allow rule.
    AllowRule {
        /// The rule as written.
        rule: String,
    },
    /// A public address on a permitted port.
    Public,
    /// A deny rule.
    DenyRule {
        /// The rule as written.
        rule: String,
    },
    /// An address in a built-in special range.
    Range {
        /// The address the name resolved to (or the literal).
        addr: IpAddr,
        /// Its range.
        range: Range,
    },
    /// One of the isolator's own addresses.
    Protected {
        /// The protected socket address that matched.
        addr: SocketAddr,
    },
    /// A port that is not permitted.
    Port {
        /// The port.
        port: u16,
    },
    /// The name did not resolve.
    Unresolved {
        /// The resolver's message.
        error: String,
    },
    /// No resolved address accepted a connection.
    Unreachable {
        /// The last connect error.
        error: String,
    },
    /// The browser's request was not a valid proxy request.
    BadRequest {
        /// What was wrong with it.
        error: String,
    },
    /// The destination's TLS certificate did not verify (or its TLS failed).
    Certificate {
        /// What was wrong with it.
        error: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::ExactAllow { rule } => write!(f, "explicitly allowed by `{rule}`"),
            Reason::AllowRule { rule } => write!(f, "allowed by `{rule}`"),
            Reason::Public => f.write_str("a public address"),
            Reason::DenyRule { rule } => write!(f, "denied by the rule `{rule}`"),
            Reason::Range { addr, range } => write!(f, "resolves to {range} ({addr})"),
            Reason::Protected { addr } => write!(f, "is the isolator itself ({addr})"),
            Reason::Port { port } => write!(f, "uses port {port}, which is not permitted"),
            Reason::Unresolved { error } => write!(f, "does not resolve: {error}"),
            Reason::Unreachable { error } => write!(f, "is unreachable: {error}"),
            Reason::BadRequest { error } => write!(f, "bad proxy request: {error}"),
            Reason::Certificate { error } => write!(f, "cannot be trusted: {error}"),
        }
    }
}

/// A verdict with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Allowed, blocked or failed.
    pub verdict: Verdict,
    /// Why.
    pub reason: Reason,
}

impl Decision {
    fn allowed(reason: Reason) -> Self {
        Decision {
            verdict: Verdict::Allowed,
            reason,
        }
    }

    fn blocked(reason: Reason) -> Self {
        Decision {
            verdict: Verdict::Blocked,
            reason,
        }
    }

    /// Is the verdict [`Verdict::Allowed`]?
    pub fn is_allowed(&self) -> bool {
        self.verdict == Verdict::Allowed
    }
}

/// The validated, compiled form of [`EgressConfig`]; immutable and shared by
/// all proxies (`Arc<EgressPolicy>`). Deserializes from the config form.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "EgressConfig")]
pub struct EgressPolicy {
    config: EgressConfig,
    allow: Vec<Rule>,
    deny: Vec<Rule>,
    resolve: HashMap<String, Vec<IpAddr>>,
}

impl Default for EgressPolicy {
    fn default() -> Self {
        Self::new(EgressConfig::default()).expect("the default egress config is valid")
    }
}

impl TryFrom<EgressConfig> for EgressPolicy {
    type Error = Error;

    fn try_from(config: EgressConfig) -> Result<Self> {
        Self::new(config)
    }
}

impl EgressPolicy {
    /// Validates and compiles a configuration. Errors name the offending
    /// field, list index and rule.
    pub fn new(config: EgressConfig) -> Result<Self> {
        let compile = |list: &'static str, rules: &[String]| -> Result<Vec<Rule>> {
            rules
                .iter()
                .enumerate()
                .map(|(index, rule)| {
                    Rule::parse(rule).map_err(|reason| Error::Rule {
                        list,
                        index,
                        rule: rule.clone(),
                        reason,
                    })
                })
                .collect()
        };
        let allow = compile("allow", &config.allow)?;
        let deny = compile("deny", &config.deny)?;
        if let Some(i) = config.ports.iter().position(|p| *p == 0) {
            return Err(Error::Config {
                field: format!("ports[{i}]"),
                reason: "port 0 is not a destination".into(),
            });
        }
        let mut resolve = HashMap::new();
        for (name, addrs) in &config.resolve {
            let field = || format!("resolve.\"{name}\"");
            let host = parse_host(name).map_err(|e| Error::Config {
                field: field(),
                reason: e.to_string(),
            })?;
            let TargetHost::Domain(host) = host else {
                return Err(Error::Config {
                    field: field(),
                    reason: "an IP address cannot be resolved to another one".into(),
                });
            };
            if addrs.is_empty() {
                return Err(Error::Config {
                    field: field(),
                    reason: "at least one address is needed".into(),
                });
            }
            resolve.insert(host, addrs.clone());
        }
        check_limits(&config.limits)?;
        Ok(Self {
            config,
            allow,
            deny,
            resolve,
        })
    }

    /// Adds socket addresses that must never be reached (the server's own
    /// listeners), on top of the configured `protected` list.
    pub fn with_protected(mut self, addrs: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.config.protected.extend(addrs);
        self
    }

    /// The configuration this policy was compiled from.
    pub fn config(&self) -> &EgressConfig {
        &self.config
    }

    /// The proxy bounds.
    pub fn limits(&self) -> &ProxyLimits {
        &self.config.limits
    }

    /// The static answer for `host`, if the configuration has one.
    pub fn static_resolve(&self, host: &str) -> Option<&[IpAddr]> {
        self.resolve.get(host).map(Vec::as_slice)
    }

    /// The decision that can be made from the name alone, before resolving:
    /// `Some` when a deny rule matches the name (and no exact allow
    /// overrides it). Saves a DNS query that would leak the name.
    pub fn precheck(&self, host: &TargetHost, port: u16) -> Option<Decision> {
        if self
            .allow
            .iter()
            .any(|r| r.is_exact_target() && r.matches_host(host, port))
        {
            return None;
        }
        self.deny
            .iter()
            .find(|r| r.matches_host(host, port))
            .map(|r| {
                Decision::blocked(Reason::DenyRule {
                    rule: r.text.clone(),
                })
            })
    }

    /// Decides whether the browser may connect to `host:port`, which
    /// resolved to `addrs` (for an IP literal, `addrs` is that address).
    /// Every address is checked; the first blocked one decides.
    pub fn decide(&self, host: &TargetHost, port: u16, addrs: &[IpAddr]) -> Decision {
        if addrs.is_empty() {
            return Decision {
                verdict: Verdict::Failed,
                reason: Reason::Unresolved {
                    error: "no addresses".into(),
                },
            };
        }
        let mut allowed = Decision::allowed(Reason::Public);
        for &addr in addrs {
            let d = self.decide_addr(host, port, addr);
            if !d.is_allowed() {
                return d;
            }
            if matches!(allowed.reason, Reason::Public) {
                allowed = d;
            }
        }
        allowed
    }

    fn decide_addr(&self, host: &TargetHost, port: u16, addr: IpAddr) -> Decision {
        if let Some(p) = self
            .config
            .protected
            .iter()
            .find(|p| p.port() == port && (p.ip().is_unspecified() || same_ip(p.ip(), addr)))
        {
            return Decision::blocked(Reason::Protected { addr: *p });
        }
        if let Some(r) = self.allow.iter().find(|r| {
            r.is_exact_target() && (r.matches_host(host, port) || r.matches_addr(addr, port, false))
        }) {
            return Decision::allowed(Reason::ExactAllow {
                rule: r.text.clone(),
            });
        }
        if let Some(r) = self
            .deny
            .iter()
            .find(|r| r.matches_host(host, port) || r.matches_addr(addr, port, true))
        {
            return Decision::blocked(Reason::DenyRule {
                rule: r.text.clone(),
            });
        }
        let port_ok = self.config.ports.contains(&port);
        if let Some(r) = self.allow.iter().find(|r| {
            (r.port.is_some() || port_ok)
                && (r.matches_host(host, port) || r.matches_addr(addr, port, false))
        }) {
            return Decision::allowed(Reason::AllowRule {
                rule: r.text.clone(),
            });
        }
        if let Some(range) = classify(addr) {
            return Decision::blocked(Reason::Range { addr, range });
        }
        if !port_ok {
            return Decision::blocked(Reason::Port { port });
        }
        Decision::allowed(Reason::Public)
    }
}

fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    let canon = |ip: IpAddr| ip.to_canonical();
    canon(a) == canon(b)
}

fn check_limits(l: &ProxyLimits) -> Result<()> {
    let fields: [(&str, u64); 7] = [
        ("max_connections", l.max_connections as u64),
        ("max_header_bytes", l.max_header_bytes as u64),
        ("max_headers", l.max_headers as u64),
        ("header_timeout_ms", l.header_timeout_ms),
        ("resolve_timeout_ms", l.resolve_timeout_ms),
        ("connect_timeout_ms", l.connect_timeout_ms),
        ("idle_timeout_ms", l.idle_timeout_ms),
    ];
    for (name, value) in fields {
        if value == 0 {
            return Err(Error::Config {
                field: format!("limits.{name}"),
                reason: "must be greater than 0".into(),
            });
        }
    }
    if l.max_header_bytes < 1024 {
        return Err(Error::Config {
            field: "limits.max_header_bytes".into(),
            reason: "must be at least 1024".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(toml_text: &str) -> EgressPolicy {
        toml::from_str(toml_text).unwrap_or_else(|e| panic!("{toml_text}: {e}"))
    }

    fn decide(p: &EgressPolicy, host: &str, port: u16, addrs: &[&str]) -> Decision {
        let host = parse_host(host).unwrap();
        let addrs: Vec<IpAddr> = addrs.iter().map(|a| a.parse().unwrap()).collect();
        p.decide(&host, port, &addrs)
    }

    #[test]
    fn defaults_block_special_ranges_and_odd_ports() {
        let p = EgressPolicy::default();
        assert!(decide(&p, "example.com", 443, &["93.184.216.34"]).is_allowed());
        let d = decide(&p, "evil.example", 80, &["93.184.216.34", "127.0.0.1"]);
        assert_eq!(
            d.reason,
            Reason::Range {
                addr: "127.0.0.1".parse().unwrap(),
                range: Range::Loopback
            }
        );
        assert_eq!(d.verdict, Verdict::Blocked);
        let d = decide(&p, "example.com", 8080, &["93.184.216.34"]);
        assert_eq!(d.reason, Reason::Port { port: 8080 });
        let d = decide(&p, "169.254.169.254", 80, &["169.254.169.254"]);
        assert!(d.to_string_contains("cloud metadata"));
        assert_eq!(decide(&p, "x", 80, &[]).verdict, Verdict::Failed);
    }

    trait ReasonText {
        fn to_string_contains(&self, s: &str) -> bool;
    }
    impl ReasonText for Decision {
        fn to_string_contains(&self, s: &str) -> bool {
            self.reason.to_string().contains(s)
        }
    }

    #[test]
    fn exact_allow_beats_deny_and_ranges_but_only_on_its_port() {
        let p = policy(
            r#"
            allow = ["127.0.0.1:41234", "wiki.corp", "*.apps.corp", "10.20.0.0/16"]
            deny = ["127.0.0.0/8", "10.20.5.0/24", "bad.apps.corp"]
            "#,
        );
        let d = decide(&p, "127.0.0.1", 41234, &["127.0.0.1"]);
        assert_eq!(
            d.reason,
            Reason::ExactAllow {
                rule: "127.0.0.1:41234".into()
            }
        );
        // Another port of the same address: the deny rule applies.
        let d = decide(&p, "127.0.0.1", 41235, &["127.0.0.1"]);
        assert_eq!(
            d.reason,
            Reason::DenyRule {
                rule: "127.0.0.0/8".into()
            }
        );
        // Via the mapped form and via a name resolving there.
        assert!(decide(&p, "[::ffff:127.0.0.1]", 41234, &["::ffff:127.0.0.1"]).is_allowed());
        assert!(decide(&p, "site.test", 41234, &["127.0.0.1"]).is_allowed());
        // Host allow rules permit private answers on permitted ports only.
        assert!(decide(&p, "wiki.corp", 443, &["10.9.9.9"]).is_allowed());
        assert!(!decide(&p, "wiki.corp", 22, &["10.9.9.9"]).is_allowed());
        assert!(decide(&p, "a.apps.corp", 80, &["192.168.3.3"]).is_allowed());
        assert!(!decide(&p, "bad.apps.corp", 80, &["192.168.3.3"]).is_allowed());
        assert!(!decide(&p, "apps.corp", 80, &["192.168.3.3"]).is_allowed());
        assert!(decide(&p, "10.20.1.1", 80, &["10.20.1.1"]).is_allowed());
        assert!(!decide(&p, "10.20.5.1", 80, &["10.20.5.1"]).is_allowed());
        // Deny CIDRs catch embedded IPv4 forms.
        let d = decide(&p, "x.test", 80, &["64:ff9b::a14:501"]);
        assert_eq!(
            d.reason,
            Reason::DenyRule {
                rule: "10.20.5.0/24".into()
            }
        );
        // Precheck stops denied names before any DNS query.
        assert!(p
            .precheck(&parse_host("bad.apps.corp").unwrap(), 80)
            .is_some());
        assert!(p
            .precheck(&parse_host("a.apps.corp").unwrap(), 80)
            .is_none());
    }

    #[test]
    fn protected_addresses_cannot_be_allowed() {
        let p = policy(r#"allow = ["127.0.0.1:8080", "0.0.0.0/0"]"#).with_protected([
            "0.0.0.0:8080".parse().unwrap(),
            "[::1]:9000".parse().unwrap(),
        ]);
        let d = decide(&p, "127.0.0.1", 8080, &["127.0.0.1"]);
        assert_eq!(d.verdict, Verdict::Blocked);
        assert!(matches!(d.reason, Reason::Protected { .. }));
        assert!(!decide(&p, "x", 9000, &["::1"]).is_allowed());
        assert!(!decide(&p, "x", 8080, &["8.8.8.8"]).is_allowed());
    }

    #[test]
    fn bad_config_names_the_culprit() {
        let cases = [
            (
                r#"allow = ["ok.com", "10.0.0.0/40"]"#,
                "egress.allow[1] = `10.0.0.0/40`",
            ),
            (r#"deny = ["a*b"]"#, "egress.deny[0]"),
            (r#"ports = [443, 0]"#, "egress.ports[1]"),
            (
                r#"resolve = { "1.2.3.4" = ["127.0.0.1"] }"#,
                "egress.resolve.\"1.2.3.4\"",
            ),
            (
                r#"resolve = { "x.test" = [] }"#,
                "egress.resolve.\"x.test\"",
            ),
            (
                "[limits]\nconnect_timeout_ms = 0",
                "egress.limits.connect_timeout_ms",
            ),
        ];
        for (text, want) in cases {
            let err = toml::from_str::<EgressPolicy>(text)
                .expect_err(text)
                .to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
        let err = toml::from_str::<EgressPolicy>("alow = []")
            .unwrap_err()
            .to_string();
        assert!(err.contains("alow"), "{err}");
    }

    #[test]
    fn static_resolve_is_normalized() {
        let p = policy(r#"resolve = { "Internal.TEST." = ["127.0.0.1"] }"#);
        assert_eq!(
            p.static_resolve("internal.test"),
            Some(&["127.0.0.1".parse().unwrap()][..])
        );
    }
}
