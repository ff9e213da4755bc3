//! One allow or deny rule: a host, a domain suffix or an IP network, with an
//! optional port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::host::{parse_host, TargetHost};
use super::ranges::embedded_ipv4;

/// What a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Matcher {
    /// Exactly this domain.
    Exact(String),
    /// Strict subdomains of this domain (`*.corp` matches `a.corp`, `a.b.corp`).
    Suffix(String),
    /// Addresses in this network.
    Net(IpAddr, u8),
}

/// A compiled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The rule as written, for reasons and audit.
    pub text: String,
    pub matcher: Matcher,
    pub port: Option<u16>,
}

impl Rule {
    /// Parses one rule; the error is the reason only (the caller names the list
    /// and index).
    pub fn parse(text: &str) -> Result<Rule, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty rule".into());
        }
        if t == "*" {
            return Err(
                "`*` alone is not a rule; use `0.0.0.0/0` and `[::/0]` for all addresses".into(),
            );
        }
        let (host, port) = split_port(t)?;
        let matcher = if let Some(suffix) = host.strip_prefix("*.") {
            match parse_host(suffix).map_err(|e| e.to_string())? {
                TargetHost::Domain(d) => Matcher::Suffix(d),
                TargetHost::Ip(_) => {
                    return Err("`*.` applies to domain names, not addresses".into())
                }
            }
        } else if host.contains('*') {
            return Err("`*` is only allowed as a leading `*.` label".into());
        } else if let Some((addr, prefix)) = host.split_once('/') {
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("`{addr}` is not an IP address in CIDR notation"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix: u8 = prefix
                .parse()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("prefix length must be 0 to {max}"))?;
            Matcher::Net(truncate(addr, prefix), prefix)
        } else if let Ok(ip) = host.parse::<IpAddr>() {
            Matcher::Net(ip, if ip.is_ipv4() { 32 } else { 128 })
        } else {
            match parse_host(host).map_err(|e| e.to_string())? {
                TargetHost::Domain(d) => Matcher::Exact(d),
                TargetHost::Ip(ip) => Matcher::Net(ip, if ip.is_ipv4() { 32 } else { 128 }),
            }
        };
        Ok(Rule {
            text: t.to_owned(),
            matcher,
            port,
        })
    }

    /// An exact target: one host name or one address, with a port.
    pub fn is_exact_target(&self) -> bool {
        self.port.is_some()
            && match self.matcher {
                Matcher::Exact(_) => true,
                Matcher::Suffix(_) => false,
                Matcher::Net(ip, prefix) => prefix == if ip.is_ipv4() { 32 } else { 128 },
            }
    }

    fn port_matches(&self, port: u16) -> bool {
        self.port.is_none_or(|p| p == port)
    }

    /// Does the rule match the name the browser asked for?
    pub fn matches_host(&self, host: &TargetHost, port: u16) -> bool {
        self.port_matches(port)
            && match (&self.matcher, host) {
                (Matcher::Exact(d), TargetHost::Domain(h)) => d == h,
                (Matcher::Suffix(s), TargetHost::Domain(h)) => {
                    h.len() > s.len() + 1
                        && h.ends_with(s.as_str())
                        && h.as_bytes()[h.len() - s.len() - 1] == b'.'
                }
                (Matcher::Net(..), TargetHost::Ip(ip)) => self.matches_ip(*ip, false),
                _ => false,
            }
    }

    /// Does the rule match an address the name resolved to? With `unwrap`,
    /// an IPv6 address embedding an IPv4 one (mapped, NAT64, 6to4) also
    /// matches through the embedded address; without it, only the plain
    /// IPv4-mapped form does.
    pub fn matches_addr(&self, addr: IpAddr, port: u16, unwrap: bool) -> bool {
        self.port_matches(port) && self.matches_ip(addr, unwrap)
    }

    fn matches_ip(&self, addr: IpAddr, unwrap: bool) -> bool {
        let Matcher::Net(net, prefix) = self.matcher else {
            return false;
        };
        if in_net(addr, net, prefix) {
            return true;
        }
        let IpAddr::V6(v6) = addr else { return false };
        let inner = if unwrap {
            embedded_ipv4(v6)
        } else {
            v6.to_ipv4_mapped()
        };
        inner.is_some_and(|v4| in_net(IpAddr::V4(v4), net, prefix))
    }
}

fn split_port(t: &str) -> Result<(&str, Option<u16>), String> {
    let parse_port = |p: &str| -> Result<u16, String> {
        p.parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("`{p}` is not a port from 1 to 65535"))
    };
    if let Some(rest) = t.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or("missing `]` after an IPv6 address")?;
        return match after {
            "" => Ok((inner, None)),
            _ => match after.strip_prefix(':') {
                Some(p) => Ok((inner, Some(parse_port(p)?))),
                None => Err(format!("unexpected `{after}` after `]`")),
            },
        };
    }
    match t.matches(':').count() {
        0 => Ok((t, None)),
        1 => {
            let (h, p) = t.split_once(':').expect("one colon");
            Ok((h, Some(parse_port(p)?)))
        }
        // A bare IPv6 address or network; ports need brackets.
        _ => Ok((t, None)),
    }
}

fn truncate(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

fn in_net(addr: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
            truncate(addr, prefix) == net
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> TargetHost {
        parse_host(s).unwrap()
    }

    #[test]
    fn parses_and_matches() {
        let r = Rule::parse("*.Corp.Example.").unwrap();
        assert_eq!(r.matcher, Matcher::Suffix("corp.example".into()));
        assert!(r.matches_host(&host("a.corp.example"), 443));
        assert!(r.matches_host(&host("a.b.corp.example"), 80));
        assert!(!r.matches_host(&host("corp.example"), 80));
        assert!(!r.matches_host(&host("evilcorp.example"), 80));

        let r = Rule::parse("127.0.0.1:41234").unwrap();
        assert!(r.is_exact_target());
        assert!(r.matches_addr("127.0.0.1".parse().unwrap(), 41234, false));
        assert!(!r.matches_addr("127.0.0.1".parse().unwrap(), 41235, false));
        assert!(r.matches_addr("::ffff:127.0.0.1".parse().unwrap(), 41234, false));
        assert!(!r.matches_addr("64:ff9b::7f00:1".parse().unwrap(), 41234, false));
        assert!(r.matches_addr("64:ff9b::7f00:1".parse().unwrap(), 41234, true));

        let r = Rule::parse("0x7f.1:80").unwrap();
        assert_eq!(r.matcher, Matcher::Net("127.0.0.1".parse().unwrap(), 32));

        let r = Rule::parse("10.1.2.3/8").unwrap();
        assert_eq!(r.matcher, Matcher::Net("10.0.0.0".parse().unwrap(), 8));
        assert!(!r.is_exact_target());
        assert!(r.matches_addr("10.200.0.1".parse().unwrap(), 1, false));

        let r = Rule::parse("[fd00::/8]:8080").unwrap();
        assert_eq!(r.port, Some(8080));
        assert!(r.matches_addr("fd12::1".parse().unwrap(), 8080, false));
        let r = Rule::parse("fd00::/8").unwrap();
        assert_eq!(r.port, None);
        let r = Rule::parse("[::1]:8080").unwrap();
        assert!(r.is_exact_target());
        let r = Rule::parse("wiki.corp:8443").unwrap();
        assert!(r.is_exact_target());
        assert!(r.matches_host(&host("WIKI.corp."), 8443));
    }

    #[test]
    fn refuses_bad_rules() {
        for bad in [
            "",
            "*",
            "*.10.0.0.1",
            "a*.corp",
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0.0/x",
            "nothost/8",
            "host:0",
            "host:99999",
            "host:http",
            "[::1",
            "[::1]x",
            "exa mple.com",
            "[::1]:",
        ] {
            assert!(Rule::parse(bad).is_err(), "{bad}");
        }
    }
}
