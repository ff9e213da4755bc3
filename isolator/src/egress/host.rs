//! Parsing hosts and authorities the way Chromium does.
//!
//! Chromium canonicalizes hosts with the WHATWG URL rules before it sends
//! them to a proxy, but the proxy must not rely on that: it parses every
//! request target again with the same rules (the `url` crate implements the
//! WHATWG host parser). That turns every spelling of an address into one
//! canonical form: `2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`, `%31%32%37.0.0.1`
//! and `127.0.0.1.` are all `127.0.0.1`; `[::ffff:7f00:1]` is an IPv6 address
//! whose embedded IPv4 the classifier unwraps. Domains are lowercased,
//! IDNA-mapped to ASCII and lose one trailing dot, so `LOCALHOST.` and
//! `localhost` are the same name for allow and deny rules.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;
use url::Url;

use super::error::{Error, Result};

/// A request's destination host in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum TargetHost {
    /// An IP literal, in any of its spellings.
    Ip(IpAddr),
    /// A DNS name: lowercase ASCII, without a trailing dot.
    Domain(String),
}

impl fmt::Display for TargetHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetHost::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]"),
            TargetHost::Ip(IpAddr::V4(v4)) => write!(f, "{v4}"),
            TargetHost::Domain(d) => f.write_str(d),
        }
    }
}

impl TargetHost {
    /// Converts a host parsed by the `url` crate.
    pub fn from_url_host(host: url::Host<&str>) -> Result<Self> {
        Ok(match host {
            url::Host::Ipv4(v4) => TargetHost::Ip(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => TargetHost::Ip(IpAddr::V6(v6)),
            url::Host::Domain(d) => {
                let d = d.strip_suffix('.').unwrap_or(d);
                if d.is_empty() {
                    return Err(Error::Host {
                        input: d.to_owned(),
                        reason: "empty host name".into(),
                    });
                }
                TargetHost::Domain(d.to_ascii_lowercase())
            }
        })
    }
}

/// Parses a bare host (`example.com`, `0x7f.1`, `[::1]`) with the WHATWG
/// rules for special schemes.
pub fn parse_host(input: &str) -> Result<TargetHost> {
    let host = url::Host::parse(input).map_err(|e| Error::Host {
        input: input.to_owned(),
        reason: e.to_string(),
    })?;
    let host = match &host {
        url::Host::Domain(d) => url::Host::Domain(d.as_str()),
        url::Host::Ipv4(v4) => url::Host::Ipv4(*v4),
        url::Host::Ipv6(v6) => url::Host::Ipv6(*v6),
    };
    TargetHost::from_url_host(host)
}

/// Parses the host and port of an http(s)/ws(s) URL, with the scheme's
/// default port when none is given. Userinfo is ignored, exactly as a
/// browser does: in `http://allowed.com@127.0.0.1/` the host is `127.0.0.1`.
pub fn url_target(url: &Url) -> Result<(TargetHost, u16)> {
    let host = url.host().ok_or_else(|| Error::Host {
        input: url.as_str().to_owned(),
        reason: "the URL has no host".into(),
    })?;
    let port = url.port_or_known_default().ok_or_else(|| Error::Host {
        input: url.as_str().to_owned(),
        reason: format!("no default port for scheme `{}`", url.scheme()),
    })?;
    Ok((TargetHost::from_url_host(host)?, port))
}

/// Parses a CONNECT authority (`host:port`, `[v6]:port`). The port is
/// required, as RFC 9110 says for CONNECT.
pub fn parse_authority(authority: &str) -> Result<(TargetHost, u16)> {
    let bad = |reason: &str| Error::Host {
        input: authority.to_owned(),
        reason: reason.to_owned(),
    };
    if authority.is_empty() {
        return Err(bad("empty authority"));
    }
    if authority.contains(['/', '?', '#', '@', '\\']) || authority.chars().any(char::is_whitespace)
    {
        return Err(bad("an authority is `host:port` and nothing else"));
    }
    let colon = authority.rfind(':').ok_or_else(|| bad("missing port"))?;
    let (host, port) = (&authority[..colon], &authority[colon + 1..]);
    if host.contains(':') && !host.starts_with('[') {
        return Err(bad("IPv6 addresses must be in brackets"));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| bad("the port is not a number from 1 to 65535"))?;
    if port == 0 {
        return Err(bad("port 0 is not a destination"));
    }
    let host = parse_host(host).map_err(|e| bad(&e.to_string()))?;
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> TargetHost {
        TargetHost::Ip(s.parse().expect(s))
    }

    fn dom(s: &str) -> TargetHost {
        TargetHost::Domain(s.into())
    }

    /// Every spelling goes through a full URL, the path Chromium and the
    /// proxy both take.
    #[test]
    fn spellings() {
        let cases: &[(&str, TargetHost, u16)] = &[
            ("http://127.0.0.1/", ip("127.0.0.1"), 80),
            ("http://2130706433/", ip("127.0.0.1"), 80),
            ("http://0x7f000001/", ip("127.0.0.1"), 80),
            ("http://0x7f.1/", ip("127.0.0.1"), 80),
            ("http://0x7f.0x0.0x0.0x1/", ip("127.0.0.1"), 80),
            ("http://0177.0.0.1/", ip("127.0.0.1"), 80),
            ("http://0177.1/", ip("127.0.0.1"), 80),
            ("http://017700000001/", ip("127.0.0.1"), 80),
            ("http://127.1/", ip("127.0.0.1"), 80),
            ("http://127.0.1/", ip("127.0.0.1"), 80),
            ("http://127.0.0.1./", ip("127.0.0.1"), 80),
            ("http://%31%32%37.0.0.1/", ip("127.0.0.1"), 80),
            ("http://%30x7f.1/", ip("127.0.0.1"), 80),
            ("http://0/", ip("0.0.0.0"), 80),
            ("http://0.0.0.0:8080/", ip("0.0.0.0"), 8080),
            ("https://127.0.0.1/", ip("127.0.0.1"), 443),
            ("ws://127.0.0.1/", ip("127.0.0.1"), 80),
            ("wss://127.0.0.1/", ip("127.0.0.1"), 443),
            ("http://[::1]/", ip("::1"), 80),
            ("http://[::1]:8080/", ip("::1"), 8080),
            ("http://[0:0:0:0:0:0:0:1]/", ip("::1"), 80),
            ("http://[::ffff:127.0.0.1]/", ip("::ffff:127.0.0.1"), 80),
            ("http://[::ffff:7f00:1]/", ip("::ffff:127.0.0.1"), 80),
            ("http://[::FFFF:7F00:0001]/", ip("::ffff:127.0.0.1"), 80),
            ("http://[64:ff9b::7f00:1]/", ip("64:ff9b::7f00:1"), 80),
            ("http://allowed.com@127.0.0.1/", ip("127.0.0.1"), 80),
            ("http://allowed.com:pw@127.0.0.1:81/", ip("127.0.0.1"), 81),
            ("http://127.0.0.1#@allowed.com/", ip("127.0.0.1"), 80),
            ("http://127.0.0.1\\@allowed.com/", ip("127.0.0.1"), 80),
            ("http://LOCALHOST/", dom("localhost"), 80),
            ("http://localhost./", dom("localhost"), 80),
            ("http://LocalHost.:81/", dom("localhost"), 81),
            ("http://%6c%6f%63%61%6c%68%6f%73%74/", dom("localhost"), 80),
            ("http://Example.COM/", dom("example.com"), 80),
            ("http://münchen.de/", dom("xn--mnchen-3ya.de"), 80),
            ("http://169.254.169.254/latest/", ip("169.254.169.254"), 80),
            ("http://0xa9fea9fe/", ip("169.254.169.254"), 80),
            ("http://2852039166/", ip("169.254.169.254"), 80),
            ("http://0251.0376.0251.0376/", ip("169.254.169.254"), 80),
            ("http://10.1/", ip("10.0.0.1"), 80),
            ("http://0xc0.0xa8.1.1/", ip("192.168.1.1"), 80),
            ("http://3232235777/", ip("192.168.1.1"), 80),
            ("http://[fd00::1]/", ip("fd00::1"), 80),
            ("http://[fe80::1]/", ip("fe80::1"), 80),
            ("http://[::]/", ip("::"), 80),
        ];
        for (input, host, port) in cases {
            let input = if input.contains("://") {
                (*input).to_owned()
            } else {
                format!("http://{input}")
            };
            let url = Url::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
            let got = url_target(&url).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(&got, &(host.clone(), *port), "{input}");
        }
    }

    #[test]
    fn fullwidth_dots_and_digits() {
        // IDNA maps full-width digits and ideographic full stops to ASCII.
        let url = Url::parse("http://１２７。０。０。１/").unwrap();
        assert_eq!(url_target(&url).unwrap(), (ip("127.0.0.1"), 80));
    }

    #[test]
    fn authorities() {
        assert_eq!(
            parse_authority("127.0.0.1:443").unwrap(),
            (ip("127.0.0.1"), 443)
        );
        assert_eq!(
            parse_authority("0x7f.1:443").unwrap(),
            (ip("127.0.0.1"), 443)
        );
        assert_eq!(parse_authority("[::1]:443").unwrap(), (ip("::1"), 443));
        assert_eq!(
            parse_authority("[::ffff:7f00:1]:8443").unwrap(),
            (ip("::ffff:127.0.0.1"), 8443)
        );
        assert_eq!(
            parse_authority("Example.COM.:443").unwrap(),
            (dom("example.com"), 443)
        );
        for bad in [
            "",
            "example.com",
            "example.com:",
            "example.com:0",
            "example.com:65536",
            "::1:443",
            "a@127.0.0.1:443",
            "example.com:443/x",
            "exa mple.com:443",
            "[::1:443",
            "exa%00mple.com:443",
        ] {
            let err = parse_authority(bad).expect_err(bad);
            assert!(err.to_string().contains(bad), "{bad}: {err}");
        }
    }
}
